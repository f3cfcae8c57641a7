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

const char *vki_internal_bound_name(const vki_context *ctx, int method)
{
    return method >= 0 && method < 2 ? ctx->ops->bound_names[method] : NULL;
}

vki_status vki_internal_bound_copy(vki_tensor *dst, const vki_tensor *src, int method)
{
    vki_context *ctx = dst->storage->ctx;
    vki_view d = vki_tensor_as_view(dst), s = vki_tensor_as_view(src);
    return ctx->ops->bound_copy(ctx->impl, &d, &s, method);
}

void vki_internal_counts_get(const vki_context *ctx, vki_internal_counts *out)
{
    int64_t c[5] = {0};
    if (ctx->ops->command_counts)
        ctx->ops->command_counts(ctx->impl, c);
    *out = (vki_internal_counts){c[0], c[1], c[2], c[3], c[4]};
}
