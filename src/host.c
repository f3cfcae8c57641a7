/*
 * Tensors over the application's host memory (vki_tensor_wrap_host): the checks, the lent
 * storage (src/storage.c) and the view over it. DLPack's import (src/dlpack.c) comes through
 * here too, with the producer's deleter as the storage's release hook.
 */
#include "internal.h"

vki_status vki_tensor_lend(vki_context *ctx, void *data, uint64_t bytes, vki_dtype dtype,
                           int ndim, const int64_t *shape, const int64_t *strides,
                           int64_t offset, void (*on_release)(void *), void *user,
                           const char *fn, vki_tensor **out)
{
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    VKI_CHECK((unsigned)dtype < VKI_DTYPE_COUNT, VKI_ERROR_INVALID_ARGUMENT,
              "%s: dtype %d is not a vki_dtype value", fn, (int)dtype);
    VKI_CHECK(data || bytes == 0, VKI_ERROR_INVALID_ARGUMENT, "%s: data is NULL", fn);
    VKI_CHECK(bytes <= INT64_MAX, VKI_ERROR_INVALID_ARGUMENT,
              "%s: bytes (%llu) does not fit in 63 bits", fn, (unsigned long long)bytes);
    const size_t es = vki_dtype_size(dtype);
    VKI_CHECK((uintptr_t)data % es == 0, VKI_ERROR_INVALID_ARGUMENT,
              "%s: data (%p) is not aligned to the %zu bytes of an element of %s", fn, data, es,
              vki_dtype_name(dtype));
    vki_storage *s;
    /* Nothing to lend: a storage of nothing of the backend's own (a Vulkan device imports no
     * empty memory). */
    vki_status st = bytes == 0 ? vki_storage_create(ctx, 0, fn, &s)
                               : vki_storage_lend(ctx, data, bytes, fn, &s);
    if (st != VKI_OK)
        return st;
    return vki_tensor_over_lent(s, dtype, ndim, shape, strides, offset, on_release, user, fn, out);
}

vki_status vki_tensor_wrap_host(vki_context *ctx, void *data, size_t bytes, vki_dtype dtype,
                                int ndim, const int64_t *shape, const int64_t *strides,
                                vki_tensor **out)
{
    static const char fn[] = "vki_tensor_wrap_host";
    VKI_CHECK(ctx, VKI_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    vki_status st = vki_context_enter(ctx, fn);
    if (st != VKI_OK)
        return st;
    return vki_context_leave(ctx, vki_tensor_lend(ctx, data, bytes, dtype, ndim, shape, strides,
                                                  0, NULL, NULL, fn, out));
}
