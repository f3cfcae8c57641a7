/*
 * The seam between the front door and the backends: normalised descriptors and the table of
 * backend functions. Everything here has been validated by the front door (src/index_copy.c,
 * src/tensor.c): backends never re-check shapes, dtypes or overlap, and only report what only
 * they can see (index values living in device memory, allocation and device failures).
 */
#ifndef VKI_BACKEND_H
#define VKI_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include "vkindex.h"

/* A tensor storage as the front door keeps it (src/storage.c). Backends read only impl, the
 * allocation their storage_create made. */
typedef struct vki_storage {
    int64_t refs;                  /* one per tensor handle viewing it, one per queued use   */
    struct vki_context *ctx;
    uint64_t bytes;
    void *impl;
    /* Over the application's host memory (vki_tensor_wrap_host): impl came from wrap_host and
     * goes back through unwrap_host (storage_destroy where that is NULL). */
    bool lent;
    /* Called once the storage is gone (a DLPack producer's deleter); NULL: nothing. */
    void (*on_release)(void *user);
    void *release_user;
} vki_storage;

/* A strided view: elements of elem_size bytes at storage + (offset + sum(i_k * strides[k]))
 * * elem_size. Strides are >= 0 and in elements. ndim may be 0 (one element). */
typedef struct vki_view {
    struct vki_storage *storage;
    int64_t offset;
    int64_t elem_size;
    int ndim;
    int64_t shape[VKI_MAX_DIMS];
    int64_t strides[VKI_MAX_DIMS];
} vki_view;

/* One index_copy: for every i in [0, index.shape[0]) the slice src.select(dim, i) goes to
 * dst.select(dim, index[i]), the last occurrence winning. dst and src have the same ndim (>= 1,
 * scalars already made 1-d), equal shapes outside dim, and src.shape[dim] == index count.
 * index is 1-d with elem_size 4 (int32) or 8 (int64).
 * base: when base.storage is not NULL (out of place), dst first receives a copy of base
 * (same shape as dst) - but only once the index is known to be valid.
 * check_index: whether index values must be bounds-checked (PyTorch checks them only when the
 * slices are not empty). With check_index, a value outside [0, dst.shape[dim]) makes the
 * backend write nothing and report the first such position and its value (vki_bad_index).
 * No source, index or base that shares dst's storage overlaps it: the front door has already
 * cloned those. */
typedef struct vki_copy_op {
    vki_view dst;
    vki_view src;
    vki_view index;
    vki_view base;
    int dim;
    int check_index;
    int64_t batch_call; /* position in the open batch, or -1 outside a batch */
} vki_copy_op;

/* The first bad index value of a call: its position in the batch (-1: none; 0 outside a
 * batch), its position in the index, and the value. Both backends report it, at once or when
 * their queue runs, and the front door words it once (src/batch.c). */
typedef struct vki_bad_index {
    int64_t call;
    int64_t position;
    int64_t value;
} vki_bad_index;

typedef struct vki_backend_ops {
    const char *name;
    void (*context_destroy)(void *impl);
    /* Allocates bytes (> 0 or 0) of tensor storage into *impl. */
    vki_status (*storage_create)(void *ctx_impl, uint64_t bytes, void **impl);
    void (*storage_destroy)(void *ctx_impl, void *impl);
    /* A storage over bytes at data, the application's host memory, which stays the
     * application's: unwrap_host gives back what wrap_host made, never the memory (NULL:
     * storage_destroy does). wrap_host NULL: the backend cannot use host memory in place. */
    vki_status (*wrap_host)(void *ctx_impl, void *data, uint64_t bytes, void **impl);
    void (*unwrap_host)(void *ctx_impl, void *impl);
    /* Packed row-major host data into / out of the view's elements. */
    vki_status (*upload)(void *ctx_impl, const vki_view *dst, const void *host);
    vki_status (*download)(void *ctx_impl, const vki_view *src, void *host);
    /* dst = src elementwise (same shape, no overlap). */
    vki_status (*copy)(void *ctx_impl, const vki_view *dst, const vki_view *src);
    /* VKI_ERROR_INDEX with *bad filled for a bad index value found now; a backend that
     * defers work may instead queue a call of a batch (op->batch_call >= 0) and return
     * VKI_OK, reporting its bad index from sync. */
    vki_status (*index_copy)(void *ctx_impl, const vki_copy_op *op, vki_bad_index *bad);
    /* GPU time of the last submission (or whole batch) in ns; NULL without timestamps. */
    double (*last_kernel_ns)(void *ctx_impl);
    /* Backends that defer work (NULL: every call runs at once). sync runs everything queued
     * and sets *bad to the first queued call with a bad index (bad->call -1: none); it also
     * reports a context that can no longer run anything; bad NULL (a batch begins: nothing is
     * queued) asks only for that. done: how many positions of the
     * open batch (0 .. N-1) the device has finished, so that the front door can release the
     * storages they used. Both restart from position 0 after sync. */
    vki_status (*sync)(void *ctx_impl, vki_bad_index *bad);
    int64_t (*done)(void *ctx_impl);
    /* Vulkan interop (NULL on the CPU backend; include/vkindex_vulkan.h says what they do).
     * Vulkan handles travel as integers and pointers, so that this header needs no Vulkan.
     * wrap_buffer: a storage over bytes [offset, offset + bytes) of an application's VkBuffer
     * (checked: alignment); buffer_range: the VkBuffer and range behind a storage; record:
     * op into a command buffer; record_check: the first recorded operation that met a bad
     * index since the last check (bad->call -1: none), with its dim and dim size. */
    vki_status (*wrap_buffer)(void *ctx_impl, uint64_t buffer, uint64_t offset, uint64_t bytes,
                              void **storage_impl);
    vki_status (*buffer_range)(void *ctx_impl, void *storage_impl, uint64_t *buffer,
                               uint64_t *offset, uint64_t *bytes);
    vki_status (*record)(void *ctx_impl, void *command_buffer, const vki_copy_op *op);
    vki_status (*record_check)(void *ctx_impl, void *command_buffer, vki_bad_index *bad, int *dim,
                               int64_t *dim_size);
    void (*record_release)(void *ctx_impl, void *command_buffer);
    /* Operations, dispatches, barriers and fills recorded into a command buffer. */
    void (*record_stats)(void *ctx_impl, void *command_buffer, int64_t counts[4]);
    /* vkindex-bench's copy bound (src/introspect.h): dst = src over the whole of two
     * contiguous storages of one size, with method 0 or 1 (named in bound_names). */
    const char *bound_names[2];
    vki_status (*bound_copy)(void *ctx_impl, const vki_view *dst, const vki_view *src, int method);
    /* Submissions, dispatches, barriers, fills and buffer copies recorded into the context's
     * own command buffers so far (NULL: a backend without command buffers). */
    void (*command_counts)(void *ctx_impl, int64_t counts[5]);
} vki_backend_ops;

/* The CPU backend: creates its state for `threads` workers (>= 1). */
vki_status vki_cpu_backend_create(int threads, const vki_backend_ops **ops, void **impl);

/* The Vulkan backend (built with -Dvulkan). device: NULL, an index ("2") or a name substring.
 * required: VULKAN was asked for (or a device named), so software devices may be used and no
 * device is an error worth explaining; otherwise VKI_ERROR_NO_DEVICE makes the caller fall
 * back to the CPU. name receives the device name. */
typedef struct vki_vulkan_request {
    const char *device;
    int validation;
    int required;
} vki_vulkan_request;
vki_status vki_vulkan_backend_create(const vki_vulkan_request *req, const vki_backend_ops **ops,
                                     void **impl, char *name, size_t name_cap);
/* The Vulkan backend's wrap_host (VK_EXT_external_memory_host; its storages go through
 * storage_destroy). */
vki_status vki_vulkan_wrap_host(void *ctx_impl, void *data, uint64_t bytes, void **impl);
/* The Vulkan backend on an application's device (include/vkindex_vulkan.h). */
struct vki_vulkan_device;
vki_status vki_vulkan_backend_import(const struct vki_vulkan_device *dev,
                                     const vki_backend_ops **ops, void **impl, char *name,
                                     size_t name_cap);

#endif
