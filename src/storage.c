/*
 * Storages and the references that keep contexts alive: a storage is made only here (for
 * vki_tensor_create and for the front door's clones, around an application's buffer or host
 * memory), holds one reference on its context, and is freed with its last reference (tensor
 * handles, queued batch calls); a context is freed with its last reference (the user's handle
 * and its live storages).
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

/* The backend's part of a storage goes back the way it came. */
static void backend_release(vki_context *ctx, bool lent, void *impl)
{
    if (lent && ctx->ops->unwrap_host)
        ctx->ops->unwrap_host(ctx->impl, impl);
    else
        ctx->ops->storage_destroy(ctx->impl, impl);
}

static vki_status adopt(vki_context *ctx, uint64_t bytes, void *impl, bool lent, const char *fn,
                        vki_storage **out)
{
    vki_storage *s = vki_calloc(1, sizeof *s);
    if (!s) {
        backend_release(ctx, lent, impl);
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", fn);
    }
    s->lent = lent;
    s->impl = impl;
    s->refs = 1;
    s->ctx = ctx;
    s->bytes = bytes;
    ctx->refs++;
    *out = s;
    return VKI_OK;
}

vki_status vki_storage_adopt(vki_context *ctx, uint64_t bytes, void *impl, const char *fn,
                             vki_storage **out)
{
    return adopt(ctx, bytes, impl, false, fn, out);
}

vki_status vki_storage_lend(vki_context *ctx, void *data, uint64_t bytes, const char *fn,
                            vki_storage **out)
{
    void *impl;
    vki_status st;
    if (ctx->ops->wrap_host)
        st = ctx->ops->wrap_host(ctx->impl, data, bytes, &impl);
    else
        st = vki_fail(VKI_ERROR_UNSUPPORTED, "the %s backend cannot use host memory in place",
                      ctx->ops->name);
    return st == VKI_OK ? adopt(ctx, bytes, impl, true, fn, out) : vki_fail_in(fn, st);
}

void vki_storage_release(vki_storage *s)
{
    if (--s->refs > 0)
        return;
    vki_context *ctx = s->ctx;
    backend_release(ctx, s->lent, s->impl);
    void (*on_release)(void *) = s->on_release;
    void *user = s->release_user;
    free(s);
    if (on_release)
        on_release(user);
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
