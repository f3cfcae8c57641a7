/*
 * Tensors: shape, stride and view bookkeeping shared by all backends, the reference-counted
 * storage, and the checks of tensor_create / tensor_view / upload / download.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define CHECK VKI_CHECK

vki_view vki_tensor_as_view(const vki_tensor *t)
{
    vki_view v = {.storage = t->storage, .offset = t->offset,
                  .elem_size = (int64_t)vki_dtype_size(t->dtype), .ndim = t->ndim};
    memcpy(v.shape, t->shape, sizeof v.shape);
    memcpy(v.strides, t->strides, sizeof v.strides);
    /* Strides that address nothing are 0 for the backends, so that no stride times an element
     * size can overflow: those of size-1 dims, and all of an empty view (whose offset, too,
     * may lie anywhere). The strides of a non-empty view were checked to stay in storage. */
    const bool empty = vki_numel(v.ndim, v.shape) == 0;
    for (int k = 0; k < v.ndim; k++)
        if (empty || v.shape[k] <= 1)
            v.strides[k] = 0;
    if (empty)
        v.offset = 0;
    return v;
}

const char vki_overlap_internal_msg[] =
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation.";

bool vki_tensor_is_dense(const vki_tensor *t)
{
    if (t->ndim == 0)
        return true;
    if (t->ndim == 1)
        return t->shape[0] < 2 || t->strides[0] == 1;
    int perm[VKI_MAX_DIMS], n = 0;
    for (int k = 0; k < t->ndim; k++)
        if (t->shape[k] >= 2)
            perm[n++] = k;
    for (int a = 1; a < n; a++) /* insertion sort by stride: at most VKI_MAX_DIMS dims */
        for (int b = a; b > 0 && t->strides[perm[b]] < t->strides[perm[b - 1]]; b--) {
            int tmp = perm[b];
            perm[b] = perm[b - 1];
            perm[b - 1] = tmp;
        }
    int64_t required = 1;
    for (int i = 0; i < n; i++) {
        if (t->strides[perm[i]] != required)
            return false;
        required *= t->shape[perm[i]];
    }
    return true;
}

bool vki_tensor_has_internal_overlap(const vki_tensor *t)
{
    if (vki_numel(t->ndim, t->shape) == 0 || vki_tensor_is_dense(t))
        return false;
    for (int k = 0; k < t->ndim; k++)
        if (t->strides[k] == 0 && t->shape[k] > 1)
            return true;
    return false;
}

static vki_status check_shape(const char *fn, int ndim, const int64_t *shape)
{
    CHECK(ndim >= 0 && ndim <= VKI_MAX_DIMS, VKI_ERROR_INVALID_ARGUMENT,
          "%s: ndim must be in [0, %d] (got %d)", fn, VKI_MAX_DIMS, ndim);
    CHECK(ndim == 0 || shape, VKI_ERROR_INVALID_ARGUMENT, "%s: shape is NULL", fn);
    for (int k = 0; k < ndim; k++)
        CHECK(shape[k] >= 0, VKI_ERROR_INVALID_ARGUMENT,
              "%s: size %lld of dimension %d is negative", fn, (long long)shape[k], k);
    return VKI_OK;
}

static vki_tensor *tensor_alloc(vki_storage *storage, vki_dtype dtype, int ndim,
                                const int64_t *shape, const int64_t *strides, int64_t offset)
{
    vki_tensor *t = vki_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->storage = storage;
    t->dtype = dtype;
    t->ndim = ndim;
    if (ndim > 0) {
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
        memcpy(t->strides, strides, (size_t)ndim * sizeof *strides);
    }
    t->offset = offset;
    storage->refs++;
    return t;
}

static vki_status tensor_create(vki_context *ctx, vki_dtype dtype, int ndim,
                                const int64_t *shape, vki_tensor **out)
{
    static const char fn[] = "vki_tensor_create";
    CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    CHECK((unsigned)dtype < VKI_DTYPE_COUNT, VKI_ERROR_INVALID_ARGUMENT,
          "%s: dtype %d is not a vki_dtype value", fn, (int)dtype);
    vki_status st = check_shape(fn, ndim, shape);
    if (st != VKI_OK)
        return st;
    int64_t strides[VKI_MAX_DIMS];
    uint64_t numel = 1, bytes;
    bool ok = vki_contiguous_strides(ndim, shape, strides);
    for (int k = 0; ok && k < ndim; k++)
        ok = vki_mul_u64(numel, (uint64_t)shape[k], &numel);
    ok = ok && vki_mul_u64(numel, vki_dtype_size(dtype), &bytes) && bytes <= INT64_MAX;
    CHECK(ok, VKI_ERROR_INVALID_ARGUMENT,
          "%s: the tensor's size in bytes does not fit in 64 bits", fn);

    vki_storage *storage;
    if ((st = vki_storage_create(ctx, bytes, fn, &storage)) != VKI_OK)
        return st;
    vki_tensor *t = tensor_alloc(storage, dtype, ndim, shape, strides, 0);
    vki_storage_release(storage); /* the tensor holds the one reference that stays */
    CHECK(t, VKI_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", fn);
    *out = t;
    return VKI_OK;
}

vki_status vki_tensor_create(vki_context *ctx, vki_dtype dtype, int ndim, const int64_t *shape,
                             vki_tensor **out)
{
    CHECK(ctx, VKI_ERROR_INVALID_ARGUMENT, "vki_tensor_create: ctx is NULL");
    vki_status st = vki_context_enter(ctx, "vki_tensor_create");
    return st == VKI_OK ? vki_context_leave(ctx, tensor_create(ctx, dtype, ndim, shape, out)) : st;
}

vki_status vki_tensor_over_lent(vki_storage *s, vki_dtype dtype, int ndim, const int64_t *shape,
                                const int64_t *strides, int64_t offset,
                                void (*on_release)(void *), void *user, const char *fn,
                                vki_tensor **out)
{
    vki_status st = vki_tensor_over(s, dtype, ndim, shape, strides, offset, fn, out);
    if (st == VKI_OK) { /* only now: a failed wrap leaves the producer's memory to its owner */
        s->on_release = on_release;
        s->release_user = user;
    }
    vki_storage_release(s); /* the tensor holds the reference that stays */
    return st;
}

vki_status vki_tensor_over(vki_storage *storage, vki_dtype dtype, int ndim, const int64_t *shape,
                           const int64_t *strides, int64_t offset, const char *fn,
                           vki_tensor **out)
{
    CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    vki_status st = check_shape(fn, ndim, shape);
    if (st != VKI_OK)
        return st;
    int64_t own_strides[VKI_MAX_DIMS];
    if (!strides) {
        CHECK(vki_contiguous_strides(ndim, shape, own_strides), VKI_ERROR_INVALID_ARGUMENT,
              "%s: the view's size does not fit in 64 bits", fn);
        strides = own_strides;
    }
    CHECK(offset >= 0, VKI_ERROR_INVALID_ARGUMENT, "%s: offset %lld is negative", fn,
          (long long)offset);
    for (int k = 0; k < ndim; k++)
        CHECK(strides[k] >= 0, VKI_ERROR_INVALID_ARGUMENT,
              "%s: stride %lld of dimension %d is negative", fn, (long long)strides[k], k);

    /* The last element, offset + sum((size - 1) * stride), must lie inside the storage, and
     * the element count (a zero stride repeats elements) must have a 64-bit byte size. */
    uint64_t es = vki_dtype_size(dtype), last = (uint64_t)offset, end_bytes, numel = 1;
    bool empty = false, ok = true;
    for (int k = 0; k < ndim; k++)
        ok = ok && vki_mul_u64(numel, (uint64_t)shape[k], &numel);
    CHECK(ok && vki_mul_u64(numel, es, &numel) && numel <= INT64_MAX,
          VKI_ERROR_INVALID_ARGUMENT, "%s: the view's size in bytes does not fit in 64 bits", fn);
    for (int k = 0; k < ndim; k++) {
        uint64_t step;
        if (shape[k] == 0)
            empty = true;
        else
            ok = ok && vki_mul_u64((uint64_t)shape[k] - 1, (uint64_t)strides[k], &step) &&
                 vki_add_u64(last, step, &last);
    }
    if (!empty) {
        ok = ok && vki_add_u64(last, 1, &end_bytes) && vki_mul_u64(end_bytes, es, &end_bytes);
        CHECK(ok && end_bytes <= storage->bytes, VKI_ERROR_INVALID_ARGUMENT,
              "%s: the view reaches outside its storage (storage of %llu bytes, view of shape "
              "%d-d with offset %lld needs %s bytes)",
              fn, (unsigned long long)storage->bytes, ndim, (long long)offset,
              ok ? "more" : "more than 2^64");
    }
    vki_tensor *t = tensor_alloc(storage, dtype, ndim, shape, strides, offset);
    CHECK(t, VKI_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", fn);
    *out = t;
    return VKI_OK;
}

vki_status vki_tensor_view(vki_tensor *base, int ndim, const int64_t *shape,
                           const int64_t *strides, int64_t offset, vki_tensor **out)
{
    CHECK(base, VKI_ERROR_INVALID_ARGUMENT, "vki_tensor_view: base is NULL");
    vki_context *ctx = base->storage->ctx;
    vki_status st = vki_context_enter(ctx, "vki_tensor_view");
    return st == VKI_OK ? vki_context_leave(ctx, vki_tensor_over(base->storage, base->dtype, ndim,
                                                                 shape, strides, offset,
                                                                 "vki_tensor_view", out))
                        : st;
}

void vki_tensor_destroy(vki_tensor *t)
{
    if (!t)
        return;
    vki_storage *s = t->storage;
    free(t);
    vki_storage_release(s);
}

vki_dtype vki_tensor_dtype(const vki_tensor *t) { return t ? t->dtype : VKI_BOOL; }
int vki_tensor_ndim(const vki_tensor *t) { return t ? t->ndim : 0; }
const int64_t *vki_tensor_shape(const vki_tensor *t) { return t ? t->shape : NULL; }
const int64_t *vki_tensor_strides(const vki_tensor *t) { return t ? t->strides : NULL; }
int64_t vki_tensor_offset(const vki_tensor *t) { return t ? t->offset : 0; }
int64_t vki_tensor_numel(const vki_tensor *t) { return t ? vki_numel(t->ndim, t->shape) : 0; }

static vki_status check_transfer(const char *fn, const vki_tensor *t, const void *host,
                                 size_t bytes)
{
    CHECK(t, VKI_ERROR_INVALID_ARGUMENT, "%s: tensor is NULL", fn);
    uint64_t want = (uint64_t)vki_numel(t->ndim, t->shape) * vki_dtype_size(t->dtype);
    CHECK(bytes == want, VKI_ERROR_INVALID_ARGUMENT,
          "%s: bytes is %zu but the tensor holds %llu bytes (%lld elements of %zu bytes)", fn,
          bytes, (unsigned long long)want, (long long)vki_numel(t->ndim, t->shape),
          vki_dtype_size(t->dtype));
    CHECK(host || bytes == 0, VKI_ERROR_INVALID_ARGUMENT, "%s: host is NULL", fn);
    return VKI_OK;
}

vki_status vki_tensor_upload(vki_tensor *t, const void *host, size_t bytes)
{
    static const char fn[] = "vki_tensor_upload";
    vki_status st = check_transfer(fn, t, host, bytes);
    if (st != VKI_OK || bytes == 0)
        return st;
    /* As PyTorch's copy_: a destination whose elements share memory is refused (rule 2). */
    CHECK(!vki_tensor_has_internal_overlap(t), VKI_ERROR_INVALID_ARGUMENT, "%s",
          vki_overlap_internal_msg);
    vki_view v = vki_tensor_as_view(t);
    vki_context *ctx = t->storage->ctx;
    if ((st = vki_context_enter(ctx, fn)) != VKI_OK)
        return st;
    return vki_context_leave(ctx, ctx->ops->upload(ctx->impl, &v, host));
}

vki_status vki_tensor_download(const vki_tensor *t, void *host, size_t bytes)
{
    static const char fn[] = "vki_tensor_download";
    vki_status st = check_transfer(fn, t, host, bytes);
    if (st != VKI_OK || bytes == 0)
        return st;
    vki_view v = vki_tensor_as_view(t);
    vki_context *ctx = t->storage->ctx;
    if ((st = vki_context_enter(ctx, fn)) != VKI_OK)
        return st;
    return vki_context_leave(ctx, ctx->ops->download(ctx->impl, &v, host));
}
