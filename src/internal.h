/*
 * Internal types shared by the front door, the tensor bookkeeping and the backends: the
 * context, storage and tensor objects, the thread-local error, and checked 64-bit arithmetic.
 */
#ifndef VKI_INTERNAL_H
#define VKI_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "vkindex.h"
#include "backend.h"
#include "fault.h"

/* The open batch of a context (see vki_batch_begin). */
typedef struct vki_batch {
    bool open;
    int64_t calls;                 /* calls queued so far: the next call's position          */
    /* Storages referenced by queued calls, in call order: each is released once the backend
     * has finished the call (batch_done), so a batch holds only what is still queued. */
    struct vki_kept { struct vki_storage *storage; int64_t call; } *kept;
    size_t kept_begin, kept_count, kept_cap;
    struct { int dim; int64_t dim_size; } *calls_info; /* per position, for error messages  */
    size_t info_cap;
    int64_t error_call;            /* first call that failed on the CPU backend, or -1       */
    char error[2048];
} vki_batch;

struct vki_context {
    atomic_bool busy;              /* a call is using the context (misuse detection)        */
    int64_t refs;                  /* the user's handle + one per live storage              */
    vki_batch batch;
    uint64_t serial;               /* names the context in messages ("context 3")           */
    vki_backend kind;              /* CPU or VULKAN                                          */
    const vki_backend_ops *ops;
    void *impl;                    /* the backend's own state                                */
    char device_name[256];
};

typedef struct vki_storage {
    int64_t refs;                  /* one per tensor handle viewing it                       */
    vki_context *ctx;
    uint64_t bytes;
    void *impl;                    /* the backend's allocation                              */
} vki_storage;

struct vki_tensor {
    vki_storage *storage;
    vki_dtype dtype;
    int ndim;
    int64_t shape[VKI_MAX_DIMS];
    int64_t strides[VKI_MAX_DIMS];
    int64_t offset;
};

/* Records the message of a failure for vki_last_error() and returns status. */
vki_status vki_fail(vki_status status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Checked arithmetic: false on overflow (the result is then unspecified). */
static inline bool vki_mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}
static inline bool vki_add_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

/* The descriptor of a tensor as backends see it (see backend.h). */
vki_view vki_tensor_as_view(const vki_tensor *t);

/* PyTorch's is_non_overlapping_and_dense, and its internal-overlap test (rule 2: elements, a
 * zero stride in a dim of size > 1, on a non-dense tensor), with rule 2's message. */
bool vki_tensor_is_dense(const vki_tensor *t);
bool vki_tensor_has_internal_overlap(const vki_tensor *t);
extern const char vki_overlap_internal_msg[];

/* Whether a view's elements may share memory (without a zero stride: rule 2 catches those);
 * conservative. Such a written tensor is updated by vki_index_copy_sequential: on the host, in
 * PyTorch's order of writes (src/sequential.c), with the backend's contract for index_copy. */
bool vki_may_overlap_itself(const vki_view *v);
vki_status vki_index_copy_sequential(vki_context *ctx, const vki_copy_op *op,
                                     int64_t *bad_position, int64_t *bad_value);

/* A context is used by one thread at a time: the calls that use it enter it first, and a
 * second thread entering at the same time gets VKI_ERROR_INVALID_ARGUMENT saying so (fn names
 * the call). leave returns st. */
vki_status vki_context_enter(vki_context *ctx, const char *fn);
vki_status vki_context_leave(vki_context *ctx, vki_status st);

void vki_context_release(vki_context *ctx);
/* Drops one reference to a storage, freeing it (and its context reference) with the last. */
void vki_storage_release(vki_storage *s);

#endif
