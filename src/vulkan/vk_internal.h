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

/* A recorded index_copy whose status word is read back after the submission. */
typedef struct vk_pending {
    int64_t call;       /* position in the batch (0 outside a batch) */
    uint32_t slot;      /* status word in the read-back buffer */
    vki_view index;     /* to fetch the offending value */
} vk_pending;

typedef struct vk_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    void *mapped; /* host-visible buffers only */
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

typedef struct vk_ctx {
    VkInstance instance;
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
    uint64_t max_allocation;

    VkCommandPool command_pool;
    VkCommandBuffer cmd;
    VkFence fence;
    bool recording;
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
    vk_buffer readback;       /* host-visible copy of the status word */
    vk_buffer staging;        /* host-visible, reused by uploads and downloads */
    VkQueryPool timestamps;
    double last_kernel_ns;

    /* Recorded index_copy calls not yet submitted (all of a batch, or the one current call). */
    bool batch_open;
    vk_pending *pending;
    uint32_t pending_count, pending_cap;
    int64_t bad_call, bad_position, bad_value; /* first bad index seen since batch_begin */
    double batch_ns;

    bool validation;
    bool validation_failed;
    char validation_message[1024];
} vk_ctx;

/* ---- vk_device.c ---- */
void vk_context_destroy(void *impl);
vki_status vk_fail(VkResult r, const char *what, const char *file, int line);
const char *vk_result_name(VkResult r);

/* ---- vk_memory.c ---- */
typedef enum vk_memory_kind { VK_MEMORY_DEVICE, VK_MEMORY_UPLOAD, VK_MEMORY_READBACK } vk_memory_kind;
vki_status vk_buffer_create(vk_ctx *c, VkDeviceSize size, vk_memory_kind kind, vk_buffer *out);
void vk_buffer_destroy(vk_ctx *c, vk_buffer *b);
/* Grows a reusable buffer to at least size (contents are not kept). */
vki_status vk_buffer_reserve(vk_ctx *c, vk_buffer *b, VkDeviceSize size, vk_memory_kind kind);

/* ---- vk_pipelines.c ---- */
vki_status vk_pipelines_init(vk_ctx *c);
void vk_pipelines_destroy(vk_ctx *c);
vki_status vk_pipeline_get(vk_ctx *c, const vk_pipeline_key *key, VkPipeline *out);

/* ---- vk_dispatch.c ---- */
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

vki_status vk_begin(vk_ctx *c);
vki_status vk_submit_wait(vk_ctx *c);
void vk_barrier(vk_ctx *c, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                VkPipelineStageFlags dst_stage, VkAccessFlags dst_access);
vki_status vk_launch_record(vk_ctx *c, const vk_launch *l);
/* Fails with the validation layer's message if it reported anything since the last call. */
vki_status vk_check_validation(vk_ctx *c);

#define VK_FLAG_GUARD 1u
#define VK_FLAG_WINNERS 2u
#define VK_FLAG_INDEX32 4u
#define VK_FLAG_FUSED 8u
/* Calls with at most this many indices check them inside the copy kernel (no check pass). */
#define VK_FUSED_MAX_INDICES 32
#define VK_MODE_COPY 0u
#define VK_MODE_SCATTER 1u
#define VK_MODE_GATHER 2u
/* Scratch layout (shaders/common.glsl): status words, duplicate flags, the winner map. */
#define VK_SCRATCH_DUPS_BYTES (4 * VK_STATUS_SLOTS)
#define VK_SCRATCH_WINNERS_BYTES (8 * VK_STATUS_SLOTS)

/* Records a VkResult failure and jumps to `done` (one error path per function). */
#define VK(call)                                                                               \
    do {                                                                                       \
        VkResult r_ = (call);                                                                  \
        if (r_ != VK_SUCCESS) {                                                                \
            st = vk_fail(r_, #call, __FILE__, __LINE__);                                       \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)

#endif
