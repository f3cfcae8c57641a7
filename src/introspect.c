/* The hooks of introspect.h. */
#include "introspect.h"
#include "internal.h"

vki_status vki_internal_copy(vki_tensor *dst, const vki_tensor *src)
{
    vki_context *ctx = dst->storage->ctx;
    vki_view d = vki_tensor_as_view(dst), s = vki_tensor_as_view(src);
    return ctx->ops->copy(ctx->impl, &d, &s);
}

double vki_internal_last_kernel_ns(const vki_context *ctx)
{
    return ctx->ops->last_kernel_ns ? ctx->ops->last_kernel_ns(ctx->impl) : -1.0;
}
