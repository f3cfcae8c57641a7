/*
 * Buffers and their memory: device-local storage for tensors and scratch, host-visible memory
 * for staging, parameters and read-back. One allocation per buffer: tensors are few and large.
 */
#include "vk_internal.h"

static int find_memory_type(const vk_ctx *c, uint32_t type_bits, VkMemoryPropertyFlags want,
                            VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < c->memory_props.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = c->memory_props.memoryTypes[i].propertyFlags;
        if ((type_bits & (1u << i)) && (f & want) == want && !(f & avoid))
            return (int)i;
    }
    return -1;
}

vki_status vk_buffer_create(vk_ctx *c, VkDeviceSize size, vk_memory_kind kind, vk_buffer *out)
{
    vki_status st = VKI_OK;
    vk_buffer b = {.size = size ? size : 16}; /* Vulkan has no empty buffers */
    if (size > c->max_allocation)
        return vki_fail(VKI_ERROR_OUT_OF_DEVICE_MEMORY,
                        "%llu bytes is more than this device allocates at once "
                        "(maxMemoryAllocationSize %llu)",
                        (unsigned long long)size, (unsigned long long)c->max_allocation);
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = b.size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK(c->vk.vkCreateBuffer(c->device, &info, NULL, &b.buffer));
    VkMemoryRequirements req;
    c->vk.vkGetBufferMemoryRequirements(c->device, b.buffer, &req);
    int type = -1;
    switch (kind) {
    case VK_MEMORY_DEVICE:
        type = find_memory_type(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
        if (type < 0)
            type = find_memory_type(c, req.memoryTypeBits, 0, 0);
        break;
    case VK_MEMORY_UPLOAD:
        type = find_memory_type(c, req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        if (type < 0)
            type = find_memory_type(c, req.memoryTypeBits,
                                    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
        break;
    case VK_MEMORY_READBACK:
        type = find_memory_type(c, req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                    VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (type < 0)
            type = find_memory_type(c, req.memoryTypeBits,
                                    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
        break;
    }
    if (type < 0) {
        st = vki_fail(VKI_ERROR_VULKAN, "no suitable Vulkan memory type for a buffer");
        goto done;
    }
    VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VK(c->vk.vkAllocateMemory(c->device, &alloc, NULL, &b.memory));
    VK(c->vk.vkBindBufferMemory(c->device, b.buffer, b.memory, 0));
    if (kind != VK_MEMORY_DEVICE)
        VK(c->vk.vkMapMemory(c->device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped));
    *out = b;
    return VKI_OK;
done:
    vk_buffer_destroy(c, &b);
    return st;
}

void vk_buffer_destroy(vk_ctx *c, vk_buffer *b)
{
    if (b->buffer)
        c->vk.vkDestroyBuffer(c->device, b->buffer, NULL);
    if (b->memory)
        c->vk.vkFreeMemory(c->device, b->memory, NULL);
    *b = (vk_buffer){0};
}

vki_status vk_buffer_reserve(vk_ctx *c, vk_buffer *b, VkDeviceSize size, vk_memory_kind kind)
{
    if (b->buffer && b->size >= size)
        return VKI_OK;
    VkDeviceSize grown = b->size * 2 > size ? b->size * 2 : size;
    if (grown > c->max_allocation)
        grown = size;
    vk_buffer_destroy(c, b);
    return vk_buffer_create(c, grown, kind, b);
}
