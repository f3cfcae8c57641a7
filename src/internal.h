/*
 * The front door's objects: contexts, tensors and batches, and the functions that the front
 * door's files (context.c, tensor.c, storage.c, batch.c, index_copy.c, sequential.c) share.
 * Backends never include this header: they see backend.h, error.h, layout.h and fault.h.
 */
#ifndef VKI_INTERNAL_H
#define VKI_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "vkindex.h"
#include "backend.h"
#include "error.h"
#include "fault.h"
#include "layout.h"

/* The open batch of a context (src/batch.c). */
typedef struct vki_batch {
    bool open;
    int64_t calls;                 /* calls accepted so far: the next call's position       */
    /* Storages used by queued calls, in call order: each is released once the backend has
     * finished the call (ops->done), so a batch holds only what is still queued. */
    struct vki_kept { vki_storage *storage; int64_t call; } *kept;
    size_t kept_begin, kept_count, kept_cap;
    struct vki_call_info { int dim; int64_t dim_size; } *info; /* per position, for messages */
    size_t info_cap;
    vki_bad_index bad;             /* the first call with a bad index so far (call -1: none)  */
} vki_batch;

struct vki_context {
    atomic_bool busy;              /* a call is using the context (misuse detection)        */
    int64_t refs;                  /* the user's handle + one per live storage              */
    vki_batch batch;
    uint64_t serial;               /* names the context in messages ("context 3")           */
    vki_backend kind;              /* CPU or VULKAN                                          */
    const vki_backend_ops *ops;
    void *impl;                    /* the backend's own state                                */
    /* Storages kept alive for operations recorded into application command buffers, until
     * vki_cmd_release (vulkan_api.c). */
    struct vki_held { void *cmd; vki_storage *storage; } *held;
    size_t held_count, held_cap;
    char device_name[256];
};

struct vki_tensor {
    vki_storage *storage;
    vki_dtype dtype;
    int ndim;
    int64_t shape[VKI_MAX_DIMS];
    int64_t strides[VKI_MAX_DIMS];
    int64_t offset;
};

/* A context is used by one thread at a time: the calls that use it enter it first, and a
 * second thread entering at the same time gets VKI_ERROR_INVALID_ARGUMENT saying so (fn names
 * the call). leave returns st. */
static inline vki_status vki_context_enter(vki_context *ctx, const char *fn)
{
    if (atomic_exchange_explicit(&ctx->busy, true, memory_order_acquire))
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                        "%s: the context is being used by another thread at the same time (a "
                        "context and its tensors must be used from one thread at a time)", fn);
    return VKI_OK;
}

static inline vki_status vki_context_leave(vki_context *ctx, vki_status st)
{
    atomic_store_explicit(&ctx->busy, false, memory_order_release);
    return st;
}

/* ---- storage.c: the only place storages are made and freed ---- */
/* A storage of `bytes` with one reference (and one on ctx); fn names the API call in a
 * failure's message. */
vki_status vki_storage_create(vki_context *ctx, uint64_t bytes, const char *fn,
                              vki_storage **out);
/* The same around a backend allocation made already (an application's buffer); on failure
 * the allocation is given back to the backend. */
vki_status vki_storage_adopt(vki_context *ctx, uint64_t bytes, void *impl, const char *fn,
                             vki_storage **out);
/* A storage over the application's host memory [data, data + bytes), which is never freed
 * here (the backend's wrap_host; checks of data and bytes are the caller's, alignment the
 * backend's). */
vki_status vki_storage_lend(vki_context *ctx, void *data, uint64_t bytes, const char *fn,
                            vki_storage **out);
/* Drops one reference to a storage, freeing it (and its context reference) with the last. */
void vki_storage_release(vki_storage *s);
/* Drops one reference to a context, destroying the backend and freeing it with the last. */
void vki_context_release(vki_context *ctx);

/* ---- tensor.c ---- */
/* A tensor viewing storage s, with vki_tensor_view's checks (fn names the call). */
vki_status vki_tensor_over(vki_storage *s, vki_dtype dtype, int ndim, const int64_t *shape,
                           const int64_t *strides, int64_t offset, const char *fn,
                           vki_tensor **out);
/* vki_tensor_over for a storage just made around someone else's memory, which the tensor then
 * holds alone (the caller's reference is dropped either way); on success on_release(user) (may
 * be NULL) is called once the storage is gone, on failure never. */
vki_status vki_tensor_over_lent(vki_storage *s, vki_dtype dtype, int ndim, const int64_t *shape,
                                const int64_t *strides, int64_t offset,
                                void (*on_release)(void *), void *user, const char *fn,
                                vki_tensor **out);
/* The descriptor of a tensor as backends see it (see backend.h). */
vki_view vki_tensor_as_view(const vki_tensor *t);
/* PyTorch's is_non_overlapping_and_dense, and its internal-overlap test (rule 2: elements, a
 * zero stride in a dim of size > 1, on a non-dense tensor), with rule 2's message. */
bool vki_tensor_is_dense(const vki_tensor *t);
bool vki_tensor_has_internal_overlap(const vki_tensor *t);
extern const char vki_overlap_internal_msg[];

/* ---- host.c ---- */
/* A tensor over the application's host memory [data, data + bytes) with vki_tensor_wrap_host's
 * checks; on success on_release(user) (may be NULL) is called once the storage is gone, and on
 * failure never. */
vki_status vki_tensor_lend(vki_context *ctx, void *data, uint64_t bytes, vki_dtype dtype,
                           int ndim, const int64_t *shape, const int64_t *strides,
                           int64_t offset, void (*on_release)(void *), void *user,
                           const char *fn, vki_tensor **out);

/* ---- vulkan_api.c (Vulkan builds) ---- */
/* A tensor over bytes [offset, offset + size) of an application's VkBuffer, viewed from
 * elem_offset elements into it, with vki_tensor_wrap_buffer's checks (the context must be an
 * application's Vulkan one); on_release as for vki_tensor_lend. */
vki_status vki_tensor_wrap_buffer_at(vki_context *ctx, uint64_t buffer, uint64_t offset,
                                     uint64_t size, vki_dtype dtype, int ndim,
                                     const int64_t *shape, const int64_t *strides,
                                     int64_t elem_offset, void (*on_release)(void *), void *user,
                                     const char *fn, vki_tensor **out);

/* ---- sequential.c ---- */
/* Whether a view's elements may share memory (without a zero stride: rule 2 catches those);
 * conservative. Such a written tensor is updated by vki_index_copy_sequential: on the host, in
 * PyTorch's order of writes, with the backend's contract for index_copy. */
bool vki_may_overlap_itself(const vki_view *v);
vki_status vki_index_copy_sequential(vki_context *ctx, const vki_copy_op *op,
                                     vki_bad_index *bad);

/* ---- index_copy.c ---- */
/* A call recorded into a command buffer (the backend's record op): the front door's checks,
 * then the backend; the storages it uses are held for cmd (see vki_held). api names the
 * public call. */
vki_status vki_index_copy_record(const char *api, void *cmd, vki_tensor *out,
                                 const vki_tensor *self, int64_t dim, const vki_tensor *index,
                                 const vki_tensor *source);

/* ---- batch.c: batches, and the one route of a call's bad index ---- */
/* PyTorch's message for a bad index value, after prefix ("" or "vki_batch_end: call N ..."). */
vki_status vki_index_error(const char *prefix, int dim, int64_t dim_size, int64_t value);
/* Ends an open batch (running what it queued) and frees the batch's memory: context destroy. */
void vki_batch_close(vki_context *ctx);
/* A call that has nothing to do takes its position all the same. */
void vki_batch_skip_call(vki_context *ctx);
/* Before the backend runs op: in a batch, notes the call and keeps what a queued call uses. */
vki_status vki_batch_admit(vki_context *ctx, const vki_copy_op *op);
/* After the backend ran op with status st (bad filled on VKI_ERROR_INDEX): in a batch the call
 * takes its position and a bad index is kept for vki_batch_end (the call returns VKI_OK);
 * outside one a bad index becomes PyTorch's error. */
vki_status vki_batch_settle(vki_context *ctx, const vki_copy_op *op, vki_status st,
                            const vki_bad_index *bad);

#endif
