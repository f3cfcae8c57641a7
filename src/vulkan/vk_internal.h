/*
 * The Vulkan backend's internal types: the context (instance, device, per-context volk device
 * table, queues, pools), buffers, the pipeline cache and the dispatch description that the
 * backend functions build for the kernels in shaders/.
 */
#ifndef VKI_VK_INTERNAL_H
#define VKI_VK_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <volk.h>

#include "../internal.h"
#include "../fault.h"

/* Windows per tensor binding in the large-tensor shader variants (see shaders/common.glsl). */
#define VK_MAX_WINDOWS 8
/* Bytes of one dispatch's parameter block (a multiple of any minStorageBufferOffsetAlignment). */
#define VK_PARAM_SLOT 512
#define VK_MAX_ND 16
/* Calls whose status one submission can read back (one 32-bit word each). */
#define VK_STATUS_SLOTS 1024
/* Descriptor sets per submission, and parameter blocks (one per kernel launch). */
#define VK_SETS_PER_SUBMIT 256
#define VK_PARAM_SLOTS 1024
/* Reusable buffers (staging, scratch) grown past this by one large call are freed after it. */
#define VK_KEEP_BYTES ((VkDeviceSize)64 << 20)

/* A recorded index_copy whose status word (and bad value) is read back after the submission. */
typedef struct vk_pending {
    int64_t call;       /* position in the batch (0 outside a batch) */
    uint32_t slot;      /* its status word in scratch and in the read-back buffer */
} vk_pending;

typedef struct vk_slab vk_slab; /* see vk_memory.c */

/* One VkBuffer and the memory behind it: a slot of a slab, or an allocation of its own. */
typedef struct vk_chunk {
    VkBuffer buffer;
    VkDeviceSize size;            /* bytes of the VkBuffer */
    VkDeviceMemory memory;
    VkDeviceSize offset;          /* of the buffer in memory */
    vk_slab *slab;                /* NULL: memory is the chunk's own allocation */
    VkDeviceSize bytes_allocated; /* of its own allocation */
    void *mapped;                 /* host-visible buffers only */
} vk_chunk;

/* A buffer of `size` bytes (a multiple of 16) in chunk_count chunks: every chunk but the last
 * holds chunk_bytes. Most buffers have one chunk (then chunk_bytes == size). */
typedef struct vk_buffer {
    VkDeviceSize size;
    VkDeviceSize chunk_bytes;
    uint32_t chunk_count;
    vk_chunk first;
    vk_chunk *more; /* chunks 1 .. chunk_count - 1 */
} vk_buffer;

typedef enum vk_kernel { VK_KERNEL_CHECK, VK_KERNEL_INDEX_COPY, VK_KERNEL_COUNT } vk_kernel;

/* Shader variants compiled at build time (shaders/meson.build). */
typedef enum vk_variant {
    VK_VARIANT_W1_NATIVE,
    VK_VARIANT_W1_ATOMIC,
    VK_VARIANT_W8_NATIVE,
    VK_VARIANT_W8_ATOMIC,
    VK_VARIANT_W8_O64_NATIVE,
    VK_VARIANT_W8_O64_ATOMIC,
    VK_VARIANT_COUNT
} vk_variant;

typedef struct vk_spirv {
    const uint32_t *code;
    size_t bytes;
} vk_spirv;

/* The embedded SPIR-V of a kernel in a variant. */
vk_spirv vk_shader_code(vk_kernel kernel, vk_variant variant);

typedef struct vk_pipeline_key {
    uint32_t kernel, variant, elem_size, lanes_per_row, mode, flags, pack;
} vk_pipeline_key;

typedef struct vk_pipeline_entry {
    vk_pipeline_key key;
    VkPipeline pipeline;
} vk_pipeline_entry;

/* What the device offers, after VKI_VULKAN_DISABLE has taken some away (for tests). */
typedef struct vk_caps {
    bool native_subword; /* storageBuffer8BitAccess and storageBuffer16BitAccess */
    bool int64;          /* shaderInt64 */
    bool windows;        /* enough storage buffers per stage for the windowed variants */
    bool timestamps;
    bool force_windows;  /* VKI_VULKAN_SPLIT=1: split every tensor into windows */
    bool force_off64;    /* VKI_VULKAN_SPLIT=64: windows and 64-bit offsets */
} vk_caps;

/* The instance-level functions a context uses, loaded for its own instance (never volk's
 * process-wide pointers, which another context's instance would overwrite). */
#define VK_INSTANCE_FUNCTIONS(X)                                                               \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)        \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2)                          \
    X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceQueueFamilyProperties)         \
    X(vkCreateDevice) X(vkGetDeviceProcAddr) X(vkCreateDebugUtilsMessengerEXT)                 \
    X(vkDestroyDebugUtilsMessengerEXT)

typedef struct vk_instance_table {
#define DECLARE_INSTANCE_FUNCTION(name) PFN_##name name;
    VK_INSTANCE_FUNCTIONS(DECLARE_INSTANCE_FUNCTION)
#undef DECLARE_INSTANCE_FUNCTION
} vk_instance_table;

typedef struct vk_ctx {
    VkInstance instance;
    vk_instance_table in;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    struct VolkDeviceTable vk;
    VkQueue queue;
    uint32_t queue_family;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memory_props;
    vk_caps caps;
    uint32_t workgroup_size;
    uint64_t window_bytes;    /* the largest binding range, aligned */
    uint64_t max_allocation;  /* maxMemoryAllocationSize */
    uint64_t max_buffer;      /* maxBufferSize (Vulkan 1.3), else no limit */
    uint64_t chunk_bytes;     /* chunks of large buffers, and the binding window: see vk_memory.c */
    vk_slab *slabs;
    uint32_t allocation_count, allocation_limit; /* live vkAllocateMemory; maxMemoryAllocationCount */
    uint64_t allocated_bytes;

    VkCommandPool command_pool;
    VkCommandBuffer cmd;
    VkFence fence;            /* VK_NULL_HANDLE after a failed reset: made again at vk_begin */
    bool recording;
    uint32_t calls_in_submission;
    bool lost;                /* a wait failed after a submission: see vk_command.c */
    char lost_reason[256];
    VkDescriptorPool descriptor_pool;
    uint32_t descriptor_sets_left;
    VkDescriptorSetLayout set_layout[2]; /* [0]: one window, [1]: VK_MAX_WINDOWS */
    VkPipelineLayout pipeline_layout[2];
    VkShaderModule modules[VK_KERNEL_COUNT][VK_VARIANT_COUNT];
    vk_pipeline_entry *pipelines;
    size_t pipeline_count, pipeline_cap;

    vk_buffer params;         /* host-visible parameter blocks, one slot per dispatch */
    uint32_t params_used;
    vk_buffer scratch;        /* device-local status word and winner map */
    vk_buffer readback;       /* host-visible copy of the status words and bad values */
    vk_buffer staging;        /* host-visible, reused by uploads and downloads */
    VkQueryPool timestamps;
    double last_kernel_ns;

    /* Recorded index_copy calls not yet submitted (all of a batch, or the one current call). */
    bool batch_open;
    vk_pending *pending;
    uint32_t pending_count, pending_cap;
    int64_t bad_call, bad_position, bad_value; /* first bad index seen since batch_begin */
    int64_t queued_calls, done_calls; /* batch calls recorded, and finished on the device */
    double batch_ns;

    bool validation;
    bool validation_failed;
    bool destroying;
    char validation_message[1024];
} vk_ctx;

/* ---- vk_device.c ---- */
void vk_context_destroy(void *impl);
vki_status vk_fail(VkResult r, const char *what, const char *file, int line);
/* vk_fail that also marks the context lost on VK_ERROR_DEVICE_LOST. */
vki_status vk_fail_on(vk_ctx *c, VkResult r, const char *what, const char *file, int line);
const char *vk_result_name(VkResult r);

/* ---- vk_memory.c ---- */
typedef enum vk_memory_kind { VK_MEMORY_DEVICE, VK_MEMORY_UPLOAD, VK_MEMORY_READBACK } vk_memory_kind;
/* Reads the memory limits (and the test overrides VKI_VULKAN_MAX_ALLOCATIONS and
 * VKI_VULKAN_MAX_ALLOCATION) and picks chunk_bytes; the device must exist. */
vki_status vk_memory_init(vk_ctx *c);
/* Frees the slabs; every buffer must have been destroyed. */
void vk_memory_destroy(vk_ctx *c);
/* A buffer of at least size bytes (rounded up to 16). `single`: it must be one chunk (the
 * kernels' parameter, scratch and status buffers); else a buffer too large for one VkBuffer or
 * one allocation is stored in chunks. */
vki_status vk_buffer_create(vk_ctx *c, VkDeviceSize size, vk_memory_kind kind, bool single,
                            vk_buffer *out);
void vk_buffer_destroy(vk_ctx *c, vk_buffer *b);
/* Grows a reusable buffer to at least size (contents are not kept). */
vki_status vk_buffer_reserve(vk_ctx *c, vk_buffer *b, VkDeviceSize size, vk_memory_kind kind,
                             bool single);
/* Frees a reusable buffer that has grown past `keep` bytes (it is made again when needed). */
void vk_buffer_shrink(vk_ctx *c, vk_buffer *b, VkDeviceSize keep);
vk_chunk *vk_chunk_at(const vk_buffer *b, uint32_t k);
/* Host copies into and out of a mapped buffer, across its chunks. */
void vk_buffer_write(const vk_buffer *b, VkDeviceSize offset, const void *host, VkDeviceSize bytes);
void vk_buffer_read(const vk_buffer *b, VkDeviceSize offset, void *host, VkDeviceSize bytes);
/* Records buffer-to-buffer copies of [offset, offset + bytes), split at chunk boundaries. */
void vk_cmd_copy(vk_ctx *c, const vk_buffer *src, VkDeviceSize src_offset, const vk_buffer *dst,
                 VkDeviceSize dst_offset, VkDeviceSize bytes);
/* The descriptor range of the binding window that starts at byte `offset` of b (a multiple
 * of a window size that divides chunk_bytes, so it lies in one chunk). */
VkDescriptorBufferInfo vk_window(const vk_buffer *b, VkDeviceSize offset, VkDeviceSize window);

/* ---- vk_pipelines.c ---- */
vki_status vk_pipelines_init(vk_ctx *c);
void vk_pipelines_destroy(vk_ctx *c);
vki_status vk_pipeline_get(vk_ctx *c, const vk_pipeline_key *key, VkPipeline *out);

/* ---- vk_command.c ---- */
vki_status vk_begin(vk_ctx *c);
/* Ends the recording, submits it and waits: nothing has run when it fails before the
 * submission; after it, a wait that fails loses the context (VKI_ERROR_DEVICE_LOST). */
vki_status vk_submit_wait(vk_ctx *c);
/* Ends a recording that will not be submitted, so the next call can begin anew; returns st. */
vki_status vk_abandon(vk_ctx *c, vki_status st);
void vk_barrier(vk_ctx *c, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                VkPipelineStageFlags dst_stage, VkAccessFlags dst_access);
/* Fails with the validation layer's message if it reported anything since the last call. */
vki_status vk_check_validation(vk_ctx *c);
/* VKI_ERROR_DEVICE_LOST with the reason once the context is lost, else VKI_OK. */
vki_status vk_check_lost(const vk_ctx *c);

/* ---- vk_launch.c ---- */
/* One kernel launch over an iteration box (see shaders/index_copy.comp). */
typedef struct vk_launch {
    vk_kernel kernel;
    uint32_t mode, flags;
    int64_t elem_size;
    int nd;
    int axis;                       /* -1: none */
    int64_t shape[VK_MAX_ND];
    int64_t dst_strides[VK_MAX_ND]; /* bytes */
    int64_t src_strides[VK_MAX_ND]; /* bytes */
    int64_t dst_base, src_base;     /* bytes */
    int64_t index_base, index_stride; /* bytes */
    int64_t n, dim_size;
    uint32_t pack;                  /* packed gather: elements per invocation (1: off) */
    uint32_t slot;                  /* the call's status slot */
    const vk_buffer *dst, *src, *index;
} vk_launch;

/* A launch ready to record: groups 0 means there is nothing to run. */
typedef struct vk_prepared {
    VkPipeline pipeline;
    VkPipelineLayout layout;
    VkDescriptorSet set;
    uint32_t dynamic_offset, groups;
} vk_prepared;

/* Everything of a launch that can fail (variant, pipeline, parameter slot, descriptor set);
 * records nothing. */
vki_status vk_launch_prepare(vk_ctx *c, const vk_launch *l, vk_prepared *out);
void vk_launch_dispatch(vk_ctx *c, const vk_prepared *p);
vk_buffer *vk_buffer_of(const vki_view *v);
/* dst = src elementwise (same shape); the buffers are given so that staging can stand in. */
void vk_box_copy(vk_launch *l, const vki_view *dst, const vk_buffer *dst_buf,
                 const vki_view *src, const vk_buffer *src_buf);
/* The copy pass of an index_copy: over source rows (scatter) or destination rows (gather). */
void vk_box_index_copy(vk_launch *l, const vki_copy_op *op, bool gather);
bool vk_view_contiguous(const vki_view *v);
/* A packed row-major view of v's shape at the start of a staging buffer. */
vki_view vk_packed_like(const vki_view *v);

#define VK_FLAG_GUARD 1u
#define VK_FLAG_WINNERS 2u
#define VK_FLAG_INDEX32 4u
#define VK_FLAG_FUSED 8u
/* Calls with at most this many indices check them inside the copy kernel (no check pass). */
#define VK_FUSED_MAX_INDICES 32
#define VK_MODE_COPY 0u
#define VK_MODE_SCATTER 1u
#define VK_MODE_GATHER 2u
/* Scratch layout (shaders/common.glsl): status words, duplicate flags, bad values (two words
 * each), the winner map. The read-back buffer holds the status words, then the bad values. */
#define VK_SCRATCH_DUPS_BYTES (4 * VK_STATUS_SLOTS)
#define VK_SCRATCH_VALUES_BYTES (8 * VK_STATUS_SLOTS)
#define VK_SCRATCH_WINNERS_BYTES (16 * VK_STATUS_SLOTS)
#define VK_READBACK_VALUES_BYTES (4 * VK_STATUS_SLOTS)
#define VK_READBACK_BYTES (12 * VK_STATUS_SLOTS)

/* A fallible Vulkan call (see src/fault.h: a fault-injection build may fail it instead). */
#define VK_TRY(call) (vki_fault_vulkan() ? (VkResult)vki_fault_vulkan_result() : (call))

/* Records a VkResult failure and jumps to `done` (one error path per function). */
#define VK(call)                                                                               \
    do {                                                                                       \
        VkResult r_ = VK_TRY(call);                                                            \
        if (r_ != VK_SUCCESS) {                                                                \
            st = vk_fail_on(c, r_, #call, __FILE__, __LINE__);                                 \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)

#endif
