/*
 * vkindex for Vulkan applications: run on the application's own VkDevice, over its own
 * VkBuffers, recording into its own command buffers. Include after (or instead of) vkindex.h;
 * this header includes <vulkan/vulkan.h>. The library itself links no Vulkan library: it
 * calls Vulkan through the vkGetInstanceProcAddr it is given (or the loader's).
 *
 * What vkindex needs of a device: Vulkan 1.2 and a queue family with compute. Nothing else:
 * without optional features it takes slower paths (32-bit atomics for 1- and 2-byte elements,
 * 32-bit offsets). vki_vulkan_device_features() fills the feature structs that give it its
 * fastest paths. One device extension is used where the application enabled it:
 * VK_EXT_external_memory_host, for vki_tensor_wrap_host (host memory used in place).
 *
 * The contract of recorded commands (vki_cmd_index_copy_ / vki_cmd_index_copy):
 *
 * Before the recorded commands, the application's writes to the tensors' buffers (and to the
 * index, which may be written on the GPU earlier in the same command buffer) must be made
 * visible to compute shaders and transfers, and its reads of them done, and so must
 * vkindex's own operations of earlier submissions (a replayed command buffer), for example:
 *     srcStageMask  = the stages that accessed them (VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT for
 *                     vkindex's own operations, VK_PIPELINE_STAGE_TRANSFER_BIT, ...)
 *     srcAccessMask = their write access (VK_ACCESS_SHADER_WRITE_BIT, VK_ACCESS_TRANSFER_WRITE_BIT)
 *     dstStageMask  = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT
 *     dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
 *                     VK_ACCESS_TRANSFER_WRITE_BIT
 * After them, before the application reads or writes what an operation read or wrote:
 *     srcStageMask  = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
 *     srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT
 *     dst*          = whatever the application does next (VK_PIPELINE_STAGE_HOST_BIT and
 *                     VK_ACCESS_HOST_READ_BIT before vki_cmd_check reads the results of
 *                     the check, if the command buffer ends there).
 * vkindex records the barriers between its own commands: an operation that reads what an
 * earlier operation of the same command buffer wrote, or writes what one read or wrote, starts
 * with one global memory barrier (compute shader and transfer, writes -> reads and writes);
 * independent ones (K and V of every layer) get none and may overlap on the GPU. A
 * decode-sized operation (at most 32 indices) is that barrier if needed and one dispatch. A
 * larger one always has the barrier, fills its scratch memory and runs a check pass: 3
 * barriers, 1 fill, 2 dispatches (unless its winner map would not fit one binding: then, up
 * to 4096 indices, it is checked like a small one); out of place, the copy of self into out adds one barrier and
 * one dispatch (vki_cmd_stats_get counts them). So operations recorded back to back need no
 * barrier from the application between them, even on the same tensors.
 *
 * What a recording holds: for each operation, a parameter block (512 bytes of host-visible
 * memory), one to three descriptor sets, a report slot (16 bytes of host-visible memory),
 * and for more than 32 indices a scratch buffer of 16 KiB + 4 bytes per destination slot.
 * They stay valid for as many submissions of the command buffer as the application makes,
 * and are returned by vki_cmd_release(ctx, cmd), which the application calls before it
 * resets, re-records or frees the command buffer, and after the device has finished with it.
 * Released memory is reused, so recording millions of operations keeps memory flat.
 *
 * Index values are read when the commands execute, not when they are recorded, and every
 * execution checks its own: an out-of-range value makes that execution of that operation
 * write nothing. vki_cmd_check(ctx, cmd), called once the submissions of cmd have completed
 * (and their writes were made visible to the host, see above), returns VKI_ERROR_INDEX with
 * PyTorch's message for the first operation recorded into cmd that saw one since the previous
 * check of cmd, and clears cmd's reports.
 *
 * vkindex orders only the operations of one command buffer recorded through one context.
 * Operations in different command buffers (in one submission too, and in secondary command
 * buffers) and those of other contexts are ordered by the application, as its own commands
 * are. A recording may not be pending twice at once (no SIMULTANEOUS_USE): its executions
 * share the operations' scratch memory.
 *
 * Lifetimes: a recording keeps the tensors it uses (their storages) alive until
 * vki_cmd_release. On an application's device, release every recording and destroy every
 * tensor and then the context before destroying the device: the context's last resources go
 * with its last tensor.
 */
#ifndef VKINDEX_VULKAN_H
#define VKINDEX_VULKAN_H

#include <vulkan/vulkan.h>

#include "vkindex.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An application's device. vkindex creates no instance or device for such a context and
 * destroys neither; it uses only the features listed in enabled_features. */
typedef struct vki_vulkan_device {
    VkInstance instance;
    uint32_t api_version;               /* the instance's apiVersion (at least 1.2)           */
    VkPhysicalDevice physical_device;
    VkDevice device;
    uint32_t queue_family;              /* a family with VK_QUEUE_COMPUTE_BIT                  */
    VkQueue queue;                      /* used by the synchronous calls only                 */
    PFN_vkGetInstanceProcAddr get_instance_proc_addr; /* NULL: the Vulkan loader's           */
    /* The device extensions the device was created with (none is needed). */
    const char *const *enabled_extensions;
    uint32_t enabled_extension_count;
    /* The feature chain the device was created with (a VkPhysicalDeviceFeatures2 whose pNext
     * may hold VkPhysicalDeviceVulkan11Features, VkPhysicalDeviceVulkan12Features,
     * VkPhysicalDevice8BitStorageFeatures, VkPhysicalDevice16BitStorageFeatures); NULL: none.
     * A device created with pEnabledFeatures passes them in a VkPhysicalDeviceFeatures2. */
    const VkPhysicalDeviceFeatures2 *enabled_features;
    /* Vulkan queues are externally synchronised: when the application submits to the same
     * queue from other threads, vkindex calls lock_queue / unlock_queue around its own
     * vkQueueSubmit (both NULL: no locking). */
    void (*lock_queue)(void *user);
    void (*unlock_queue)(void *user);
    void *queue_user;
} vki_vulkan_device;

/* A context on an application's device. The synchronous API (tensors, upload, download,
 * vki_index_copy_, batches) works on it through dev->queue. opts may be NULL; its backend
 * must be AUTO or VULKAN, and nothing else of it is read (validation is the application's
 * instance's business: vkindex enables no layer on it). */
VKI_API vki_status vki_context_create_vulkan(const vki_vulkan_device *dev,
                                             const vki_context_options *opts,
                                             vki_context **out);

/* The features that give vkindex its fastest paths, as a chain to put in
 * VkDeviceCreateInfo.pNext: &features.features2 (after the call, do not copy the struct: it
 * points into itself). Only what the device supports is set: storageBuffer8BitAccess,
 * storageBuffer16BitAccess and shaderInt64. Required: Vulkan 1.2 and nothing else.
 * get_instance_proc_addr NULL: the loader's. */
typedef struct vki_vulkan_features {
    VkPhysicalDeviceFeatures2 features2;
    VkPhysicalDeviceVulkan11Features vulkan11;
    VkPhysicalDeviceVulkan12Features vulkan12;
} vki_vulkan_features;
VKI_API vki_status vki_vulkan_device_features(PFN_vkGetInstanceProcAddr get_instance_proc_addr,
                                              VkInstance instance, VkPhysicalDevice physical,
                                              vki_vulkan_features *features);

/* A tensor over bytes [offset, offset + size) of an application's buffer: no copy; vkindex
 * never maps it, and destroying the tensor (or its views) leaves the buffer alone. The buffer
 * must have been created with VK_BUFFER_USAGE_STORAGE_BUFFER_BIT (and TRANSFER_SRC / DST for
 * vki_tensor_download / upload), on the context's device, and outlive the tensor and every
 * recording that uses it. offset must be a multiple of 16 and of the device's
 * minStorageBufferOffsetAlignment; size a multiple of 16, at most 8 binding windows of the
 * device (see vkindex-info), that holds the view (shape, strides
 * in elements, NULL: contiguous; at element offset 0 of the range). Tensors wrapped over
 * overlapping ranges are different storages to vkindex, which cannot see that they share
 * memory: keep the written tensor of a call apart from its inputs. */
VKI_API vki_status vki_tensor_wrap_buffer(vki_context *ctx, VkBuffer buffer, VkDeviceSize offset,
                                          VkDeviceSize size, vki_dtype dtype, int ndim,
                                          const int64_t *shape, const int64_t *strides,
                                          vki_tensor **out);

/* The VkBuffer and byte range behind a tensor's storage (the tensor's elements start at
 * vki_tensor_offset(t) elements into it). VKI_ERROR_UNSUPPORTED for a storage that vkindex
 * keeps in several buffers (larger than one buffer of the device). */
VKI_API vki_status vki_tensor_vulkan_buffer(const vki_tensor *t, VkBuffer *buffer,
                                            VkDeviceSize *offset, VkDeviceSize *size);

/* Record self.index_copy_(dim, index, source) (or out = self.index_copy(...)) into cmd, a
 * command buffer of the context's device (a context made by vki_context_create_vulkan) in the
 * recording state, for a queue family with compute. Argument errors (PyTorch's rules 1-11) come back at once and record nothing; index
 * values are checked when the commands run (see vki_cmd_check). Inputs that share memory
 * with the written tensor, and written tensors whose elements overlap each other, are
 * VKI_ERROR_UNSUPPORTED here (the synchronous calls take them). */
VKI_API vki_status vki_cmd_index_copy_(VkCommandBuffer cmd, vki_tensor *self, int64_t dim,
                                       const vki_tensor *index, const vki_tensor *source);
VKI_API vki_status vki_cmd_index_copy(VkCommandBuffer cmd, vki_tensor *out,
                                      const vki_tensor *self, int64_t dim,
                                      const vki_tensor *index, const vki_tensor *source);

/* VKI_ERROR_INDEX with PyTorch's message for the first operation recorded into cmd (in
 * recording order) whose execution met an out-of-range index since the last check of cmd;
 * VKI_OK if none. Call it when no submission of cmd is pending. cmd VK_NULL_HANDLE: every
 * recording of the context (then none may be pending). */
VKI_API vki_status vki_cmd_check(vki_context *ctx, VkCommandBuffer cmd);

/* What the operations recorded into cmd (since its last release) amount to on the GPU: for an
 * application's own accounting, and for benchmarks. */
typedef struct vki_cmd_stats {
    int64_t operations;
    int64_t dispatches;
    int64_t barriers;   /* recorded by vkindex (the application's own are not counted)  */
    int64_t fills;      /* vkCmdFillBuffer of scratch memory                             */
} vki_cmd_stats;
VKI_API vki_status vki_cmd_stats_get(vki_context *ctx, VkCommandBuffer cmd, vki_cmd_stats *out);

/* Returns what the operations recorded into cmd hold (see above), and the references to the
 * tensors they use. Call it when the device no longer uses cmd, before resetting,
 * re-recording or freeing it; reports not yet checked are dropped with it. */
VKI_API void vki_cmd_release(vki_context *ctx, VkCommandBuffer cmd);

#ifdef __cplusplus
}
#endif

#endif
