/*
 * Buffers and their device memory. Devices allow few memory allocations (4096 on SwiftShader,
 * the spec's minimum) and limit the size of one allocation and of one buffer (1 GiB there),
 * while applications keep thousands of small tensors and some larger than that. So:
 * - every buffer has a VkBuffer of its own, and the memory behind small device-local buffers
 *   comes from slabs: one allocation cut into equal slots, freed when its last slot is (one
 *   empty slab is kept, so that creating and destroying one tensor does not allocate each
 *   time). Slots are aligned to the buffer's requirement and minStorageBufferOffsetAlignment;
 * - a buffer that one allocation or one VkBuffer cannot hold is stored as several chunks of
 *   c->chunk_bytes (a power of two that is also the kernels' binding window, so that a window
 *   never straddles two chunks);
 * - every allocation is counted against maxMemoryAllocationCount, and a limit that is reached
 *   is an error that says which, before Vulkan is asked.
 */
#include "vk_internal.h"

#include <stdlib.h>
#include <string.h>

/* Buffers up to this size are sub-allocated from slabs. */
#define SLAB_MAX_SLOT ((VkDeviceSize)4 << 20)
#define SLAB_MIN_BYTES ((VkDeviceSize)4 << 20)
#define SLAB_SLOTS_AT_LEAST 16u

struct vk_slab {
    VkDeviceMemory memory;
    uint32_t type;
    VkDeviceSize slot_bytes;
    uint32_t slots, used;
    uint32_t fresh;        /* slots [fresh, slots) were never handed out */
    uint32_t *free_slots;  /* handed out and given back, a stack */
    uint32_t free_count;
    vk_slab *next;
};

static VkDeviceSize round_up(VkDeviceSize v, VkDeviceSize to)
{
    return (v + to - 1) / to * to;
}

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

static int memory_type_for(const vk_ctx *c, uint32_t bits, vk_memory_kind kind)
{
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = -1;
    switch (kind) {
    case VK_MEMORY_DEVICE:
        type = find_memory_type(c, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
        break;
    case VK_MEMORY_UPLOAD:
        type = find_memory_type(c, bits, host, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        if (type < 0)
            type = find_memory_type(c, bits, host, 0);
        break;
    case VK_MEMORY_READBACK:
        type = find_memory_type(c, bits, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (type < 0)
            type = find_memory_type(c, bits, host, 0);
        break;
    }
    return type >= 0 ? type : find_memory_type(c, bits, kind == VK_MEMORY_DEVICE ? 0 : host, 0);
}

/* One vkAllocateMemory, counted; the limits are checked first so that Vulkan is never asked
 * for what it must refuse. */
static vki_status allocate(vk_ctx *c, VkDeviceSize bytes, uint32_t type, const void *next,
                           VkDeviceMemory *out)
{
    vki_status st = VKI_OK;
    const VkDeviceSize heap = c->memory_props.memoryHeaps[c->memory_props.memoryTypes[type].heapIndex].size;
    if (bytes > c->max_allocation || bytes > heap)
        return vki_fail(VKI_ERROR_OUT_OF_DEVICE_MEMORY,
                        "an allocation of %llu bytes is more than this device allocates at once "
                        "(maxMemoryAllocationSize %llu, memory heap of %llu bytes)",
                        (unsigned long long)bytes, (unsigned long long)c->max_allocation,
                        (unsigned long long)heap);
    if (c->allocation_count >= c->allocation_limit)
        return vki_fail(VKI_ERROR_OUT_OF_DEVICE_MEMORY,
                        "this device's limit of %u live memory allocations "
                        "(maxMemoryAllocationCount) is reached",
                        c->allocation_limit);
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = next,
        .allocationSize = bytes,
        .memoryTypeIndex = type,
    };
    VK(c->vk.vkAllocateMemory(c->device, &info, NULL, out));
    c->allocation_count++;
    c->allocated_bytes += bytes;
error:
    return st;
}

static void release(vk_ctx *c, VkDeviceMemory memory, VkDeviceSize bytes)
{
    c->vk.vkFreeMemory(c->device, memory, NULL);
    c->allocation_count--;
    c->allocated_bytes -= bytes;
}

static void slab_free(vk_ctx *c, vk_slab *s)
{
    release(c, s->memory, s->slot_bytes * s->slots);
    free(s->free_slots);
    free(s);
}

/* A new slab for slots of slot_bytes in memory of the given type, put first in the list. */
static vki_status slab_new(vk_ctx *c, uint32_t type, VkDeviceSize slot_bytes)
{
    vki_status st = VKI_OK;
    VkDeviceSize bytes = slot_bytes * SLAB_SLOTS_AT_LEAST;
    if (bytes < SLAB_MIN_BYTES)
        bytes = round_up(SLAB_MIN_BYTES, slot_bytes);
    while (bytes > c->max_allocation && bytes > slot_bytes)
        bytes -= slot_bytes;
    const uint32_t slots = (uint32_t)(bytes / slot_bytes);
    vk_slab *s = vki_calloc(1, sizeof *s);
    uint32_t *stack = s ? vki_malloc(slots * sizeof *stack) : NULL;
    if (!stack)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    VkDeviceMemory memory;
    TRY(allocate(c, bytes, type, NULL, &memory));
    *s = (vk_slab){.memory = memory, .type = type, .slot_bytes = slot_bytes,
                   .slots = slots, .free_slots = stack, .next = c->slabs};
    c->slabs = s;
error:
    if (st != VKI_OK) {
        free(stack);
        free(s);
    }
    return st;
}

/* A slot of slot_bytes in memory of the given type: from a slab with room, else a new one. */
static vki_status slab_take(vk_ctx *c, uint32_t type, VkDeviceSize slot_bytes, vk_chunk *chunk)
{
    vki_status st = VKI_OK;
    vk_slab *s = c->slabs;
    while (s && !(s->type == type && s->slot_bytes == slot_bytes && s->used < s->slots))
        s = s->next;
    if (!s) {
        TRY(slab_new(c, type, slot_bytes));
        s = c->slabs;
    }
    uint32_t slot = s->free_count ? s->free_slots[--s->free_count] : s->fresh++;
    s->used++;
    chunk->memory = s->memory;
    chunk->offset = slot * slot_bytes;
    chunk->slab = s;
error:
    return st;
}

static void slab_give_back(vk_ctx *c, vk_chunk *chunk)
{
    vk_slab *s = chunk->slab;
    s->free_slots[s->free_count++] = (uint32_t)(chunk->offset / s->slot_bytes);
    if (--s->used > 0)
        return;
    /* Keep one empty slab for the next small buffer; free any other. */
    for (vk_slab **p = &c->slabs; *p; p = &(*p)->next) {
        vk_slab *other = *p;
        if (other != s && other->used == 0) {
            *p = other->next;
            slab_free(c, other);
            break;
        }
    }
}

/* The slot size for a request: steps of a quarter of the power of two below it (at most 25%
 * unused), whole multiples of the alignment. */
static VkDeviceSize slot_size(VkDeviceSize bytes, VkDeviceSize align)
{
    VkDeviceSize p = 256;
    while (p * 2 <= bytes)
        p *= 2;
    VkDeviceSize step = p / 4 > 256 ? p / 4 : 256;
    return round_up(round_up(bytes, step), align);
}

/* Every buffer is usable as a storage buffer and as a transfer source and destination. next:
 * the chain of an imported buffer's create info (else NULL). */
static VkResult create_vk_buffer_next(vk_ctx *c, VkDeviceSize bytes, const void *next,
                                      VkBuffer *out)
{
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .pNext = next,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    return c->vk.vkCreateBuffer(c->device, &info, NULL, out);
}

static VkResult create_vk_buffer(vk_ctx *c, VkDeviceSize bytes, VkBuffer *out)
{
    return create_vk_buffer_next(c, bytes, NULL, out);
}

static void chunk_destroy(vk_ctx *c, vk_chunk *k)
{
    if (k->buffer)
        c->vk.vkDestroyBuffer(c->device, k->buffer, NULL);
    if (k->slab)
        slab_give_back(c, k);
    else if (k->memory)
        release(c, k->memory, k->bytes_allocated);
    *k = (vk_chunk){0};
}

/* A VkBuffer of `bytes` with memory of `kind` behind it: a slab slot for small device-local
 * buffers, an allocation of its own otherwise (host-visible buffers are mapped whole). */
static vki_status chunk_create(vk_ctx *c, VkDeviceSize bytes, vk_memory_kind kind, vk_chunk *k)
{
    vki_status st = VKI_OK;
    *k = (vk_chunk){.size = bytes};
    VK(create_vk_buffer(c, bytes, &k->buffer));
    VkMemoryRequirements req;
    c->vk.vkGetBufferMemoryRequirements(c->device, k->buffer, &req);
    const int type = memory_type_for(c, req.memoryTypeBits, kind);
    if (type < 0)
        TRY(vki_fail(VKI_ERROR_VULKAN, "no suitable Vulkan memory type for a buffer"));
    VkDeviceSize align = req.alignment > c->props.limits.minStorageBufferOffsetAlignment
                             ? req.alignment : c->props.limits.minStorageBufferOffsetAlignment;
    if (kind == VK_MEMORY_DEVICE && req.size <= SLAB_MAX_SLOT) {
        TRY(slab_take(c, (uint32_t)type, slot_size(req.size, align ? align : 1), k));
    } else {
        /* Mapped memory is flushed and invalidated in whole nonCoherentAtoms. */
        VkDeviceSize size = kind == VK_MEMORY_DEVICE ? req.size
                                                     : round_up(req.size, c->props.limits.nonCoherentAtomSize);
        TRY(allocate(c, size, (uint32_t)type, NULL, &k->memory));
        k->bytes_allocated = size;
    }
    VK(c->vk.vkBindBufferMemory(c->device, k->buffer, k->memory, k->offset));
    if (kind != VK_MEMORY_DEVICE)
        VK(c->vk.vkMapMemory(c->device, k->memory, 0, VK_WHOLE_SIZE, 0, &k->mapped));
error:
    if (st != VKI_OK)
        chunk_destroy(c, k);
    return st;
}

vk_chunk *vk_chunk_at(const vk_buffer *b, uint32_t k)
{
    return k == 0 ? (vk_chunk *)&b->first : &b->more[k - 1];
}

/* Whether one VkBuffer of `bytes` fits this device's limits on a buffer and an allocation. */
static bool fits_one_buffer(const vk_ctx *c, VkDeviceSize bytes)
{
    return bytes <= c->max_buffer && bytes <= c->max_allocation;
}

/* b's chunks of chunk_bytes, for a buffer too large for one VkBuffer or one allocation. */
static vki_status create_chunks(vk_ctx *c, vk_buffer *b, vk_memory_kind kind)
{
    vki_status st = VKI_OK;
    const uint64_t count = (b->size + c->chunk_bytes - 1) / c->chunk_bytes;
    b->chunk_bytes = c->chunk_bytes;
    b->chunk_count = 0;
    b->more = count > 1 ? vki_calloc(count - 1, sizeof *b->more) : NULL;
    if (!b->more && count > 1)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    for (uint64_t k = 0; k < count; k++) {
        VkDeviceSize bytes = k + 1 < count ? c->chunk_bytes : b->size - k * c->chunk_bytes;
        TRY(chunk_create(c, bytes, kind, vk_chunk_at(b, (uint32_t)k)));
        b->chunk_count++;
    }
error:
    return st;
}

vki_status vk_buffer_create(vk_ctx *c, VkDeviceSize size, vk_memory_kind kind, bool single,
                            vk_buffer *out)
{
    vk_buffer b = {.size = size ? size : 16}; /* Vulkan has no empty buffers */
    b.size = round_up(b.size, 16);            /* kernels read whole 16-byte words */
    vki_status st = VKI_ERROR_OUT_OF_DEVICE_MEMORY;
    if (fits_one_buffer(c, b.size)) {
        st = chunk_create(c, b.size, kind, &b.first);
        b.chunk_count = st == VKI_OK;
        b.chunk_bytes = b.size;
    }
    /* Too large for one buffer, or for one allocation once the driver's padding is counted:
     * chunks of chunk_bytes. */
    if (st == VKI_ERROR_OUT_OF_DEVICE_MEMORY && !single && b.size > c->chunk_bytes)
        TRY(create_chunks(c, &b, kind));
    else if (st == VKI_ERROR_OUT_OF_DEVICE_MEMORY && !fits_one_buffer(c, b.size))
        TRY(vki_fail(VKI_ERROR_OUT_OF_DEVICE_MEMORY,
                     "%llu bytes is more than one buffer of this device holds "
                     "(maxBufferSize %llu, maxMemoryAllocationSize %llu)",
                     (unsigned long long)b.size, (unsigned long long)c->max_buffer,
                     (unsigned long long)c->max_allocation));
    TRY(st);
    *out = b;
error:
    if (st != VKI_OK)
        vk_buffer_destroy(c, &b);
    return st;
}

void vk_buffer_destroy(vk_ctx *c, vk_buffer *b)
{
    for (uint32_t k = 0; k < b->chunk_count && !b->borrowed; k++)
        chunk_destroy(c, vk_chunk_at(b, k));
    free(b->more);
    *b = (vk_buffer){0};
}

vki_status vk_buffer_import_host(vk_ctx *c, void *data, VkDeviceSize bytes, vk_buffer *out)
{
    vki_status st = VKI_OK;
    const VkExternalMemoryHandleTypeFlagBits handle = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
    vk_buffer b = {.size = bytes, .foreign = true, .chunk_count = 1, .chunk_bytes = bytes,
                   .first = {.size = bytes}};
    VkMemoryHostPointerPropertiesEXT pointer = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT};
    VK(c->get_host_pointer_properties(c->device, handle, data, &pointer));
    const VkExternalMemoryBufferCreateInfo external = {
        .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO, .handleTypes = handle};
    VK(create_vk_buffer_next(c, bytes, &external, &b.first.buffer));
    VkMemoryRequirements req;
    c->vk.vkGetBufferMemoryRequirements(c->device, b.first.buffer, &req);
    /* Host-coherent, so that the application sees the kernels' writes once a call returns
     * (every submission ends with a barrier to the host) without flushes of its own. */
    const int type = find_memory_type(c, req.memoryTypeBits & pointer.memoryTypeBits,
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    if (type < 0 || req.size > bytes)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "this device cannot bind a buffer of %llu bytes to imported host memory "
                     "(%s)", (unsigned long long)bytes,
                     type < 0 ? "no host-coherent memory type accepts it"
                              : "the buffer needs more memory than the host range holds"));
    const VkImportMemoryHostPointerInfoEXT import = {
        .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
        .handleType = handle,
        .pHostPointer = data,
    };
    TRY(allocate(c, bytes, (uint32_t)type, &import, &b.first.memory));
    b.first.bytes_allocated = bytes;
    VK(c->vk.vkBindBufferMemory(c->device, b.first.buffer, b.first.memory, 0));
    *out = b;
error:
    if (st != VKI_OK)
        vk_buffer_destroy(c, &b);
    return st;
}

vki_status vk_buffer_reserve(vk_ctx *c, vk_buffer *b, VkDeviceSize size, vk_memory_kind kind,
                             bool single)
{
    if (b->chunk_count && b->size >= size)
        return VKI_OK;
    VkDeviceSize grown = b->size * 2 > size ? b->size * 2 : size;
    if (!fits_one_buffer(c, grown))
        grown = size;
    vk_buffer_destroy(c, b);
    return vk_buffer_create(c, grown, kind, single, b);
}

void vk_buffer_shrink(vk_ctx *c, vk_buffer *b, VkDeviceSize keep)
{
    if (b->size > keep)
        vk_buffer_destroy(c, b);
}

/* The part of [pos, pos + left) that lies in one chunk of b: its chunk, its offset there, and
 * its length (returned). */
static VkDeviceSize piece(const vk_buffer *b, VkDeviceSize pos, VkDeviceSize left, vk_chunk **chunk,
                          VkDeviceSize *at)
{
    *chunk = vk_chunk_at(b, (uint32_t)(pos / b->chunk_bytes));
    *at = pos % b->chunk_bytes;
    return b->chunk_bytes - *at < left ? b->chunk_bytes - *at : left;
}

void vk_buffer_write(const vk_buffer *b, VkDeviceSize offset, const void *host, VkDeviceSize bytes)
{
    for (VkDeviceSize done = 0, n; done < bytes; done += n) {
        vk_chunk *k;
        VkDeviceSize at;
        n = piece(b, offset + done, bytes - done, &k, &at);
        memcpy((char *)k->mapped + at, (const char *)host + done, n);
    }
}

void vk_buffer_read(const vk_buffer *b, VkDeviceSize offset, void *host, VkDeviceSize bytes)
{
    for (VkDeviceSize done = 0, n; done < bytes; done += n) {
        vk_chunk *k;
        VkDeviceSize at;
        n = piece(b, offset + done, bytes - done, &k, &at);
        memcpy((char *)host + done, (const char *)k->mapped + at, n);
    }
}

void vk_cmd_copy(vk_ctx *c, const vk_buffer *src, VkDeviceSize src_offset, const vk_buffer *dst,
                 VkDeviceSize dst_offset, VkDeviceSize bytes)
{
    for (VkDeviceSize done = 0, n; done < bytes; done += n) {
        vk_chunk *from, *to;
        VkDeviceSize from_at, to_at;
        n = piece(src, src_offset + done, bytes - done, &from, &from_at);
        n = piece(dst, dst_offset + done, n, &to, &to_at);
        VkBufferCopy region = {from->base + from_at, to->base + to_at, n};
        c->vk.vkCmdCopyBuffer(c->cmd, from->buffer, to->buffer, 1, &region);
        c->counts[VK_COUNT_COPIES]++;
    }
}

VkDescriptorBufferInfo vk_window(const vk_buffer *b, VkDeviceSize offset, VkDeviceSize window)
{
    if (offset >= b->size) /* windows past the end are never read: any valid range will do */
        offset = 0;
    const vk_chunk *k = vk_chunk_at(b, (uint32_t)(offset / b->chunk_bytes));
    const VkDeviceSize at = offset % b->chunk_bytes;
    return (VkDescriptorBufferInfo){k->buffer, k->base + at, k->size - at < window ? k->size - at : window};
}

vki_status vk_memory_init(vk_ctx *c)
{
    vki_status st = VKI_OK;
    c->allocation_limit = c->props.limits.maxMemoryAllocationCount;
    const char *limit = getenv("VKI_VULKAN_MAX_ALLOCATIONS"); /* tests: a lower limit */
    if (limit && strtoull(limit, NULL, 0) > 0 && strtoull(limit, NULL, 0) < c->allocation_limit)
        c->allocation_limit = (uint32_t)strtoull(limit, NULL, 0);
    const char *max = getenv("VKI_VULKAN_MAX_ALLOCATION"); /* tests: a smaller allocation */
    if (max && strtoull(max, NULL, 0) >= 65536 && strtoull(max, NULL, 0) < c->max_allocation)
        c->max_allocation = strtoull(max, NULL, 0);
    /* Chunks (and binding windows): the largest power of two that one binding and one buffer
     * hold, and that is below maxMemoryAllocationSize with the driver's padding included
     * (SwiftShader advertises 1 GiB and refuses to allocate exactly that). A single buffer that
     * the driver refuses is stored in chunks too. */
    VkDeviceSize p = 65536;
    while (p * 2 <= c->window_bytes && p * 2 <= c->max_buffer && p * 2 < c->max_allocation)
        p *= 2;
    for (;;) {
        VkBuffer probe;
        VK(create_vk_buffer(c, p, &probe));
        VkMemoryRequirements req;
        c->vk.vkGetBufferMemoryRequirements(c->device, probe, &req);
        c->vk.vkDestroyBuffer(c->device, probe, NULL);
        if (req.size < c->max_allocation || p <= 65536)
            break;
        p /= 2;
    }
    c->chunk_bytes = p;
error:
    return st;
}

void vk_memory_destroy(vk_ctx *c)
{
    while (c->slabs) {
        vk_slab *s = c->slabs;
        c->slabs = s->next;
        slab_free(c, s);
    }
}
