/*
 * Application buffers, host memory and devices: storages over an application's VkBuffer (never
 * mapped, never destroyed here) or over its host memory (VK_EXT_external_memory_host), the
 * buffer and range behind any storage, and the features an application enables for vkindex's
 * fastest paths.
 */
#include "vk_internal.h"
#include "vkindex_vulkan.h"

#include <stdlib.h>

vki_status vk_wrap_buffer(void *impl, uint64_t buffer, uint64_t offset, uint64_t bytes,
                          void **storage)
{
    vk_ctx *c = impl;
    vki_status st = VKI_OK;
    vk_buffer *b = NULL;
    const uint64_t align = c->props.limits.minStorageBufferOffsetAlignment > 16
                               ? c->props.limits.minStorageBufferOffsetAlignment : 16;
    TRY(vk_check_lost(c));
    if (!c->imported)
        TRY(vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                     "this context runs on a device of its own, not on the application's (make "
                     "it with vki_context_create_vulkan)"));
    if (offset % align != 0)
        TRY(vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                     "offset %llu is not a multiple of %llu (16 and this device's "
                     "minStorageBufferOffsetAlignment)",
                     (unsigned long long)offset, (unsigned long long)align));
    if (bytes == 0 || bytes % 16 != 0)
        TRY(vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                     "size %llu is not a positive multiple of 16 (the kernels move whole "
                     "16-byte words)", (unsigned long long)bytes));
    /* What the kernels can bind: one binding, or (with enough storage buffers per stage)
     * VKI_MAX_WINDOWS windows of chunk_bytes. */
    const uint64_t most = c->caps.windows ? c->chunk_bytes * VKI_MAX_WINDOWS : c->window_bytes;
    if (bytes > most)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "a buffer range of %llu bytes is more than this device's bindings hold "
                     "(%llu bytes)", (unsigned long long)bytes, (unsigned long long)most));
    b = vki_calloc(1, sizeof *b);
    if (!b)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    *b = (vk_buffer){.size = bytes, .borrowed = true, .foreign = true, .chunk_count = 1, .chunk_bytes = bytes,
                     .first = {.buffer = (VkBuffer)(uintptr_t)buffer, .size = bytes,
                               .base = offset}};
    *storage = b;
error:
    if (st != VKI_OK)
        free(b);
    return st;
}

vki_status vki_vulkan_wrap_host(void *impl, void *data, uint64_t bytes, void **storage)
{
    vk_ctx *c = impl;
    vki_status st = VKI_OK;
    vk_buffer *b = NULL;
    const uint64_t align = c->host_pointer_alignment;
    TRY(vk_check_lost(c));
    if (!c->caps.host_import)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "Vulkan device %s %s VK_EXT_external_memory_host, which a Vulkan context "
                     "needs to use host memory in place: make the tensor with vki_tensor_create "
                     "and upload to it instead, or use a CPU context",
                     c->props.deviceName,
                     c->imported ? "was not created with" : "does not have"));
    if ((uintptr_t)data % align != 0 || bytes % align != 0 || bytes == 0)
        TRY(vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                     "host memory at %p of %llu bytes cannot be imported: this device imports "
                     "host memory whose address and size are positive multiples of %llu bytes "
                     "(minImportedHostPointerAlignment)",
                     data, (unsigned long long)bytes, (unsigned long long)align));
    const uint64_t most = c->caps.windows ? c->chunk_bytes * VKI_MAX_WINDOWS : c->window_bytes;
    if (bytes > most || bytes > c->max_buffer || bytes > c->max_allocation)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "host memory of %llu bytes is more than one buffer of this device holds "
                     "(%llu bytes)", (unsigned long long)bytes,
                     (unsigned long long)(most < c->max_buffer ? most : c->max_buffer)));
    b = vki_calloc(1, sizeof *b);
    if (!b)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    TRY(vk_buffer_import_host(c, data, bytes, b));
    *storage = b;
error:
    if (st != VKI_OK)
        free(b);
    return st;
}

vki_status vk_buffer_range(void *impl, void *storage, uint64_t *buffer, uint64_t *offset,
                           uint64_t *bytes)
{
    (void)impl;
    const vk_buffer *b = storage;
    if (b->chunk_count > 1)
        return vki_fail(VKI_ERROR_UNSUPPORTED,
                        "this storage of %llu bytes is kept in %u buffers (more than one buffer "
                        "of the device holds)", (unsigned long long)b->size, b->chunk_count);
    *buffer = (uint64_t)(uintptr_t)b->first.buffer;
    *offset = b->first.base;
    *bytes = b->size;
    return VKI_OK;
}

vki_status vki_vulkan_features_query(PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                                     VkPhysicalDevice physical, vki_vulkan_features *out)
{
    vki_status st = VKI_OK;
    vk_ctx probe = {.instance = instance}, *c = &probe;
    TRY(vk_load_instance_functions(c, gipa));
    *out = (vki_vulkan_features){
        .features2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2},
        .vulkan11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES},
        .vulkan12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES},
    };
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                            .pNext = &f12};
    VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    c->in.vkGetPhysicalDeviceFeatures2(physical, &f);
    /* Only what the kernels use, and only where the device has it. */
    out->features2.features.shaderInt64 = f.features.shaderInt64;
    out->vulkan11.storageBuffer16BitAccess = f11.storageBuffer16BitAccess;
    out->vulkan12.storageBuffer8BitAccess = f12.storageBuffer8BitAccess;
    out->features2.pNext = &out->vulkan11;
    out->vulkan11.pNext = &out->vulkan12;
error:
    return st;
}
