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

#include "../backend.h"
#include "../error.h"
#include "../fault.h"
#include "../layout.h"
#include "interface.h"      /* shaders/interface.h: what the C code and the shaders share */
#include "vk_shader_list.h" /* made by shaders/meson.build: the kernels and variants */

/* Storage buffers per stage that the windowed variants bind: params, scratch, report, and
 * the windows of dst, src and index. */
#define VK_WINDOWED_STORAGE_BUFFERS (VKI_BINDING_COUNT - 3 + 3 * VKI_MAX_WINDOWS)
/* Descriptor sets per submission, and parameter blocks (one per kernel launch). */
#define VK_SETS_PER_SUBMIT 256
#define VK_PARAMS_PER_SUBMIT 1024
/* Reusable buffers (staging, scratch) grown past this by one large call are freed after it. */
#define VK_KEEP_BYTES ((VkDeviceSize)64 << 20)

/* A recorded index_copy whose status word (and bad value) is read back after the submission. */
typedef struct vk_pending {
    int64_t call;       /* position in the batch (0 outside a batch) */
    uint32_t slot;      /* its scratch slot and its report slot */
} vk_pending;

typedef struct vk_slab vk_slab; /* see vk_memory.c */

/* One VkBuffer and the memory behind it: a slot of a slab, or an allocation of its own. */
typedef struct vk_chunk {
    VkBuffer buffer;
    VkDeviceSize size;            /* bytes of the VkBuffer */
    VkDeviceMemory memory;
    VkDeviceSize offset;          /* of the buffer in memory */
    vk_slab *slab;                /* NULL: memory is the chunk's own allocation */
    VkDeviceSize base;            /* where the chunk's bytes start in buffer (wrapped buffers) */
    VkDeviceSize bytes_allocated; /* of its own allocation */
    void *mapped;                 /* host-visible buffers only */
} vk_chunk;

/* A buffer of `size` bytes (a multiple of 16) in chunk_count chunks: every chunk but the last
 * holds chunk_bytes. Most buffers have one chunk (then chunk_bytes == size). */
typedef struct vk_buffer {
    VkDeviceSize size;
    bool borrowed;                /* an application's VkBuffer (vki_tensor_wrap_buffer): one
                                     chunk, no memory of ours, never destroyed or mapped here */
    bool foreign;                 /* its memory may be another buffer's too: an application's
                                     VkBuffer, or imported host memory (vki_tensor_wrap_host) */
    VkDeviceSize chunk_bytes;
    uint32_t chunk_count;
    vk_chunk first;
    vk_chunk *more; /* chunks 1 .. chunk_count - 1 */
} vk_buffer;

/* The kernels and shader variants compiled at build time (listed in shaders/meson.build). */
typedef enum vk_kernel {
#define VK_KERNEL_ENUM(name) VK_KERNEL_##name,
    VK_KERNELS(VK_KERNEL_ENUM)
#undef VK_KERNEL_ENUM
    VK_KERNEL_COUNT
} vk_kernel;

typedef enum vk_variant {
#define VK_VARIANT_ENUM(name, windowed, off64, native) VK_VARIANT_##name,
    VK_VARIANTS(VK_VARIANT_ENUM)
#undef VK_VARIANT_ENUM
    VK_VARIANT_COUNT
} vk_variant;

/* What a variant is compiled for. */
typedef struct vk_variant_props {
    bool windowed, off64, native_subword;
} vk_variant_props;
vk_variant_props vk_variant_of(vk_variant variant);
/* The variant compiled for exactly these properties. */
vk_variant vk_variant_find(bool windowed, bool off64, bool native_subword);

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
    bool host_import;    /* VK_EXT_external_memory_host, enabled (vki_tensor_wrap_host) */
} vk_caps;

/* The instance-level functions a context uses, loaded for its own instance (never volk's
 * process-wide pointers, which another context's instance would overwrite). */
#define VK_INSTANCE_FUNCTIONS(X)                                                               \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)        \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2)                          \
    X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceQueueFamilyProperties)         \
    X(vkCreateDevice) X(vkGetDeviceProcAddr) X(vkCreateDebugUtilsMessengerEXT)                 \
    X(vkDestroyDebugUtilsMessengerEXT) X(vkEnumerateDeviceExtensionProperties)

/* The device-level functions, loaded for the context's own device through the instance's
 * vkGetDeviceProcAddr (never volk's process-wide table). */
#define VK_DEVICE_FUNCTIONS(X)                                                                 \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle) X(vkQueueSubmit)                \
    X(vkCreateFence) X(vkDestroyFence) X(vkResetFences) X(vkWaitForFences)                     \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)                      \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory)                   \
    X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers)                 \
    X(vkResetCommandBuffer) X(vkBeginCommandBuffer) X(vkEndCommandBuffer)                      \
    X(vkCreateQueryPool) X(vkDestroyQueryPool) X(vkGetQueryPoolResults)                        \
    X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout) X(vkCreateDescriptorPool)    \
    X(vkDestroyDescriptorPool) X(vkResetDescriptorPool) X(vkAllocateDescriptorSets)            \
    X(vkUpdateDescriptorSets) X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout)             \
    X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateComputePipelines)               \
    X(vkDestroyPipeline) X(vkCmdPipelineBarrier) X(vkCmdBindPipeline)                          \
    X(vkCmdBindDescriptorSets) X(vkCmdDispatch) X(vkCmdFillBuffer) X(vkCmdCopyBuffer)          \
    X(vkCmdPushConstants)                                                                      \
    X(vkCmdResetQueryPool) X(vkCmdWriteTimestamp)

typedef struct vk_device_table {
#define DECLARE_DEVICE_FUNCTION(name) PFN_##name name;
    VK_DEVICE_FUNCTIONS(DECLARE_DEVICE_FUNCTION)
#undef DECLARE_DEVICE_FUNCTION
} vk_device_table;

typedef struct vk_instance_table {
#define DECLARE_INSTANCE_FUNCTION(name) PFN_##name name;
    VK_INSTANCE_FUNCTIONS(DECLARE_INSTANCE_FUNCTION)
#undef DECLARE_INSTANCE_FUNCTION
} vk_instance_table;

/* Where a launch's own resources come from: the context's submission (reset by every
 * vk_begin), or a page of a recording (kept until vki_cmd_release, see vk_record.c). */
typedef struct vk_arena {
    vk_buffer *params;           /* host-visible, VKI_PARAM_SLOT_BYTES per launch          */
    uint32_t params_used;
    VkDescriptorPool pool;
    uint32_t sets_left;
    /* The scratch and report bindings of the next launches (set before preparing them). */
    VkDescriptorBufferInfo scratch, report;
} vk_arena;

typedef struct vk_recording vk_recording; /* see vk_record.c */

/* A byte range of a VkBuffer that index_copy calls read or wrote since the last barrier. */
typedef struct vk_access {
    VkBuffer buffer;
    VkDeviceSize lo, hi;
    bool write;
    bool foreign; /* the buffer's memory may be another foreign buffer's (vk_buffer.foreign) */
} vk_access;

/* Accesses tracked since the last barrier, at most (then a barrier is simply recorded). */
#define VK_TRACKED_ACCESSES 512
typedef struct vk_hazards {
    vk_access tracked[VK_TRACKED_ACCESSES];
    int count;
} vk_hazards;

/* What the context has recorded into its own command buffer, counted for vkindex-bench. */
enum { VK_COUNT_SUBMISSIONS, VK_COUNT_DISPATCHES, VK_COUNT_BARRIERS, VK_COUNT_FILLS,
       VK_COUNT_COPIES, VK_COUNT_KINDS };

typedef struct vk_ctx {
    VkInstance instance;
    vk_instance_table in;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    vk_device_table vk;
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
    /* VK_EXT_external_memory_host (caps.host_import): its one function and the alignment of
     * imported host memory (minImportedHostPointerAlignment). */
    PFN_vkGetMemoryHostPointerPropertiesEXT get_host_pointer_properties;
    uint64_t host_pointer_alignment;
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
    VkDescriptorSetLayout set_layout[2]; /* [0]: one window, [1]: VKI_MAX_WINDOWS */
    VkPipelineLayout pipeline_layout[2];
    VkShaderModule modules[VK_KERNEL_COUNT][VK_VARIANT_COUNT];
    vk_pipeline_entry *pipelines;
    size_t pipeline_count, pipeline_cap;

    vk_arena run;             /* the submission's parameter slots and descriptor sets */
    vk_buffer params;         /* host-visible parameter blocks, one slot per dispatch */
    vk_buffer scratch;        /* device-local status words and winner map (check passes) */
    vk_buffer reports;        /* host-visible report slots of the submission's calls */
    vk_buffer staging;        /* host-visible, reused by uploads and downloads */
    VkQueryPool timestamps;
    double last_kernel_ns;
    vk_hazards hazards;       /* what the submission's calls touched since its last barrier */
    int64_t counts[VK_COUNT_KINDS]; /* commands recorded into c->cmd (vkindex-bench) */

    /* Recorded index_copy calls not yet submitted (a batch's, or the one current call). */
    vk_pending *pending;
    uint32_t pending_count;
    size_t pending_cap;
    vki_bad_index bad;        /* the first bad index seen since the last sync */
    int64_t queued_calls, done_calls; /* batch calls recorded, and finished on the device */
    double batch_ns;          /* GPU time of the submissions since the last sync */
    bool untimed_since_sync;  /* a submission since the last sync has no GPU time */

    /* An application's device (vki_context_create_vulkan): not ours to create or destroy. */
    bool imported;
    void (*lock_queue)(void *user);
    void (*unlock_queue)(void *user);
    void *queue_user;
    /* Operations recorded into application command buffers (vk_record.c). */
    vk_recording *recordings;
    struct vk_page *free_pages;
    uint64_t next_sequence;

    bool validation;
    bool validation_failed;
    bool destroying;
    char validation_message[1024];
} vk_ctx;

/* ---- vk_instance.c ---- */
/* Loads Vulkan and creates the context's instance (with the validation layer and its
 * messenger when asked); NO_DEVICE with the reason when Vulkan is not usable. */
vki_status vk_instance_create(vk_ctx *c, bool validation);
/* c->in for c->instance through gipa (NULL: the loader's), and c->vk for c->device. */
vki_status vk_load_instance_functions(vk_ctx *c, PFN_vkGetInstanceProcAddr gipa);
vki_status vk_load_device_functions(vk_ctx *c);
vki_status vk_fail(VkResult r, const char *what, const char *file, int line);
/* vk_fail that also marks the context lost on VK_ERROR_DEVICE_LOST. */
vki_status vk_fail_on(vk_ctx *c, VkResult r, const char *what, const char *file, int line);
const char *vk_result_name(VkResult r);

/* ---- vk_choose.c ---- */
typedef struct vk_candidate {
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties props;
    int queue_family;        /* -1: none with compute */
    const char *unusable;    /* why it cannot be used, or NULL */
} vk_candidate;
/* The physical devices and why each is unusable, if it is. An empty list is not an error
 * here (the caller words it); a failure to allocate or enumerate is. */
vki_status vk_list_candidates(vk_ctx *c, vk_candidate **out, uint32_t *count);
/* The device index for a request (see vki_vulkan_request), or -1 with reason filled. */
int vk_pick_device(const vk_candidate *list, uint32_t count, const char *wanted, bool required,
                   char *reason, size_t cap);
const char *vk_device_type_name(int type);
bool vk_name_contains(const char *name, const char *needle);

/* ---- vk_device.c ---- */
void vk_context_destroy(void *impl);
extern const vki_backend_ops vk_backend_ops;

/* ---- vk_record.c: operations recorded into application command buffers ---- */
vki_status vk_record_index_copy(void *impl, void *command_buffer, const vki_copy_op *op);
vki_status vk_record_check(void *impl, void *command_buffer, vki_bad_index *bad, int *dim,
                           int64_t *dim_size);
void vk_record_release(void *impl, void *command_buffer);
void vk_record_stats(void *impl, void *command_buffer, int64_t counts[4]);
void vk_record_destroy_all(vk_ctx *c);

/* ---- vk_interop.c: application buffers ---- */
vki_status vk_wrap_buffer(void *impl, uint64_t buffer, uint64_t offset, uint64_t bytes,
                          void **storage);
vki_status vk_buffer_range(void *impl, void *storage, uint64_t *buffer, uint64_t *offset,
                           uint64_t *bytes);

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
/* A one-chunk buffer over `bytes` of the application's host memory at data
 * (VK_EXT_external_memory_host; data and bytes aligned as the device requires, checked by the
 * caller): a VkBuffer and an imported allocation of its own, destroyed as any other buffer's
 * (the host memory itself stays the application's). */
vki_status vk_buffer_import_host(vk_ctx *c, void *data, VkDeviceSize bytes, vk_buffer *out);
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

/* Binding b of the kernels' descriptor set (shaders/interface.h): its type, and how many
 * descriptors it holds when tensors are bound in `windows` windows. */
static inline VkDescriptorType vk_binding_type(uint32_t b)
{
    return b == VKI_BINDING_PARAMS ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC
                                   : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
}
static inline uint32_t vk_binding_descriptors(uint32_t b, uint32_t windows)
{
    return b >= VKI_BINDING_DST && b <= VKI_BINDING_INDEX ? windows : 1;
}

/* ---- vk_pipelines.c ---- */
vki_status vk_pipelines_init(vk_ctx *c);
/* A descriptor pool for `sets` descriptor sets of the kernels' layouts. */
vki_status vk_descriptor_pool_create(vk_ctx *c, uint32_t sets, VkDescriptorPool *out);
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
/* The same, into a command buffer of the application's. */
void vk_barrier_on(vk_ctx *c, VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                   VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                   VkAccessFlags dst_access);
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
    int64_t shape[VKI_MAX_ND];
    int64_t dst_strides[VKI_MAX_ND]; /* bytes */
    int64_t src_strides[VKI_MAX_ND]; /* bytes */
    int64_t dst_base, src_base;     /* bytes */
    int64_t index_base, index_stride; /* bytes */
    int64_t n, dim_size;
    uint32_t pack;                  /* packed gather: elements per invocation (1: off) */
    uint32_t slot;                  /* the call's status slot */
    uint32_t report;                /* its report slot */
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
vki_status vk_launch_prepare(vk_ctx *c, vk_arena *arena, const vk_launch *l, vk_prepared *out);
void vk_launch_dispatch(vk_ctx *c, VkCommandBuffer cmd, const vk_prepared *p);
vk_buffer *vk_buffer_of(const vki_view *v);
/* dst = src elementwise (same shape); the buffers are given so that staging can stand in. */
void vk_box_copy(vk_launch *l, const vki_view *dst, const vk_buffer *dst_buf,
                 const vki_view *src, const vk_buffer *src_buf);
/* The copy pass of an index_copy: over source rows (scatter) or destination rows (gather). */
void vk_box_index_copy(vk_launch *l, const vki_copy_op *op, bool gather);

/* Calls with at most this many indices check them inside the copy kernel (no check pass). */
#define VK_FUSED_MAX_INDICES 32

/* A fallible Vulkan call (see src/fault.h: a fault-injection build may fail it instead). */
#define VK_TRY(call) (vki_fault_vulkan() ? (VkResult)vki_fault_vulkan_result() : (call))

/* Grows array (a member of a struct, with its capacity cap) to hold need elements, or fails the
 * function with VKI_ERROR_OUT_OF_HOST_MEMORY (TRY's error label). */
#define VK_GROW(array, cap, need, first)                                                       \
    do {                                                                                       \
        void *grown_ = vki_grow((array), &(cap), (need), sizeof *(array), (first));            \
        if (!grown_)                                                                           \
            TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));                 \
        (array) = grown_;                                                                      \
    } while (0)

/* The backend's one error style: a function that can fail declares `vki_status st = VKI_OK;`,
 * checks every VkResult with VK() and every vki_status with TRY(), and leaves through its one
 * `error:` label (success falls through to it too), where whatever it must undo is undone. */
#define VK(call)                                                                               \
    do {                                                                                       \
        VkResult r_ = VK_TRY(call);                                                            \
        if (r_ != VK_SUCCESS) {                                                                \
            st = vk_fail_on(c, r_, #call, __FILE__, __LINE__);                                 \
            goto error;                                                                        \
        }                                                                                      \
    } while (0)
#define TRY(expr)                                                                              \
    do {                                                                                       \
        st = (expr);                                                                           \
        if (st != VKI_OK)                                                                      \
            goto error;                                                                        \
    } while (0)

/* ---- vk_backend.c: one index_copy ---- */
/* How a call runs, decided before anything is recorded. */
typedef struct vk_call_plan {
    bool fused;                 /* no check pass: the copy kernel checks the indices itself */
    bool winners;               /* a check pass builds the winner map (the last writer of a slot) */
    bool gather;                /* the copy walks destination rows through the winner map */
    VkDeviceSize scratch_bytes; /* what the call's kernels use of scratch */
} vk_call_plan;
#define VK_CALL_LAUNCHES 3 /* check, base (out of place), copy */
vki_status vk_plan_call(const vk_ctx *c, const vki_copy_op *op, vk_call_plan *p);
/* Prepares the call's launches from arena: the check pass (unless fused), the base copy (out
 * of place), the copy pass; slot: its slot in the arena's scratch; report: its slot in the
 * arena's report binding. Records nothing. */
vki_status vk_prepare_call(vk_ctx *c, vk_arena *arena, const vki_copy_op *op,
                           const vk_call_plan *plan, uint32_t slot, uint32_t report,
                           vk_prepared *prepared);
/* Records the prepared launches into cmd, with compute barriers between them. */
void vk_dispatch_call(vk_ctx *c, VkCommandBuffer cmd, const vk_prepared *prepared);
/* Records the fill that clears what a call with a check pass uses of its scratch buffer
 * (its slot's words and the winner map), and the barrier to its kernels; 1 when it did,
 * 0 when the call has no check pass. */
int vk_clear_scratch(vk_ctx *c, VkCommandBuffer cmd, VkBuffer scratch, const vk_call_plan *plan,
                     uint32_t slot);

/* ---- vk_bound.c: vkindex-bench's copy bound and counts (src/introspect.h) ---- */
vki_status vk_bound_copy(void *impl, const vki_view *dst, const vki_view *src, int method);
void vk_command_counts(void *impl, int64_t counts[5]);

/* ---- vk_command.c: ordering index_copy calls ---- */
/* Whether op must wait for the calls noted in h since the last barrier (or `force`); notes
 * what op reads and writes (a list started afresh when the answer is yes: the caller then
 * records vk_call_barrier). */
bool vk_hazards_note(vk_hazards *h, const vki_copy_op *op, bool force);
/* The barrier between dependent calls: compute and transfer writes -> reads and writes. */
void vk_call_barrier(vk_ctx *c, VkCommandBuffer cmd);

#endif
