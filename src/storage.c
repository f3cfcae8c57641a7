/*
 * Storages and the references that keep contexts alive: a storage is made only here (for
 * vki_tensor_create and for the front door's clones), holds one reference on its context, and
 * is freed with its last reference (tensor handles, queued batch calls); a context is freed
 * with its last reference (the user's handle and its live storages).
 */
#include "internal.h"

#include <stdlib.h>

vki_status vki_storage_create(vki_context *ctx, uint64_t bytes, const char *fn,
                              vki_storage **out)
{
    void *impl;
    vki_status st = ctx->ops->storage_create(ctx->impl, bytes, &impl);
    return st == VKI_OK ? vki_storage_adopt(ctx, bytes, impl, fn, out) : vki_fail_in(fn, st);
}

vki_status vki_storage_adopt(vki_context *ctx, uint64_t bytes, void *impl, const char *fn,
                             vki_storage **out)
{
    vki_storage *s = vki_calloc(1, sizeof *s);
    if (!s) {
        ctx->ops->storage_destroy(ctx->impl, impl);
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", fn);
    }
    s->impl = impl;
    s->refs = 1;
    s->ctx = ctx;
    s->bytes = bytes;
    ctx->refs++;
    *out = s;
    return VKI_OK;
}

void vki_storage_release(vki_storage *s)
{
    if (--s->refs > 0)
        return;
    vki_context *ctx = s->ctx;
    ctx->ops->storage_destroy(ctx->impl, s->impl);
    free(s);
    vki_context_release(ctx);
}

void vki_context_release(vki_context *ctx)
{
    if (--ctx->refs > 0)
        return;
    ctx->ops->context_destroy(ctx->impl);
    free(ctx->held);
    free(ctx);
}
