/*
 * The front door of the API for Vulkan applications (include/vkindex_vulkan.h): argument
 * checks, then the Vulkan backend's interop operations. Recorded index_copy calls go through
 * index_copy.c's checks (vki_index_copy_record); a bad index they meet is worded by batch.c's
 * vki_index_error, as for every other call.
 */
#include "internal.h"
#include "vkindex_vulkan.h"

vki_status vki_vulkan_features_query(PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                                     VkPhysicalDevice physical, vki_vulkan_features *out);

vki_status vki_vulkan_device_features(PFN_vkGetInstanceProcAddr get_instance_proc_addr,
                                      VkInstance instance, VkPhysicalDevice physical,
                                      vki_vulkan_features *features)
{
    VKI_CHECK(instance && physical && features, VKI_ERROR_INVALID_ARGUMENT,
              "vki_vulkan_device_features: instance, physical and features must be given");
    vki_status st = vki_vulkan_features_query(get_instance_proc_addr, instance, physical, features);
    return st == VKI_OK ? st : vki_fail_in("vki_vulkan_device_features", st);
}

/* The checks of a context that must be a Vulkan one. */
static vki_status vulkan_context(const char *fn, const vki_context *ctx)
{
    VKI_CHECK(ctx, VKI_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    VKI_CHECK(ctx->ops->wrap_buffer, VKI_ERROR_INVALID_ARGUMENT,
              "%s: context %llu uses the %s backend, not Vulkan", fn,
              (unsigned long long)ctx->serial, ctx->ops->name);
    return VKI_OK;
}

vki_status vki_tensor_wrap_buffer_at(vki_context *ctx, uint64_t buffer, uint64_t offset,
                                     uint64_t size, vki_dtype dtype, int ndim,
                                     const int64_t *shape, const int64_t *strides,
                                     int64_t elem_offset, void (*on_release)(void *), void *user,
                                     const char *fn, vki_tensor **out)
{
    vki_status st = vulkan_context(fn, ctx);
    if (st != VKI_OK)
        return st;
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    VKI_CHECK(buffer != 0, VKI_ERROR_INVALID_ARGUMENT, "%s: buffer is VK_NULL_HANDLE", fn);
    VKI_CHECK((unsigned)dtype < VKI_DTYPE_COUNT, VKI_ERROR_INVALID_ARGUMENT,
              "%s: dtype %d is not a vki_dtype value", fn, (int)dtype);
    void *impl;
    st = ctx->ops->wrap_buffer(ctx->impl, buffer, offset, size, &impl);
    if (st != VKI_OK)
        return vki_fail_in(fn, st);
    vki_storage *s;
    if ((st = vki_storage_adopt(ctx, size, impl, fn, &s)) != VKI_OK)
        return st;
    return vki_tensor_over_lent(s, dtype, ndim, shape, strides, elem_offset, on_release, user, fn,
                                out);
}

vki_status vki_tensor_wrap_buffer(vki_context *ctx, VkBuffer buffer, VkDeviceSize offset,
                                  VkDeviceSize size, vki_dtype dtype, int ndim,
                                  const int64_t *shape, const int64_t *strides, vki_tensor **out)
{
    static const char fn[] = "vki_tensor_wrap_buffer";
    vki_status st = vulkan_context(fn, ctx);
    if (st != VKI_OK || (st = vki_context_enter(ctx, fn)) != VKI_OK)
        return st;
    return vki_context_leave(ctx, vki_tensor_wrap_buffer_at(ctx, (uint64_t)(uintptr_t)buffer,
                                                            offset, size, dtype, ndim, shape,
                                                            strides, 0, NULL, NULL, fn, out));
}

vki_status vki_tensor_vulkan_buffer(const vki_tensor *t, VkBuffer *buffer, VkDeviceSize *offset,
                                    VkDeviceSize *size)
{
    static const char fn[] = "vki_tensor_vulkan_buffer";
    VKI_CHECK(t && buffer && offset && size, VKI_ERROR_INVALID_ARGUMENT,
              "%s: t, buffer, offset and size must be given", fn);
    const vki_context *ctx = t->storage->ctx;
    vki_status st = vulkan_context(fn, ctx);
    uint64_t handle = 0, at = 0, bytes = 0;
    if (st == VKI_OK)
        st = ctx->ops->buffer_range(ctx->impl, t->storage->impl, &handle, &at, &bytes);
    if (st != VKI_OK)
        return st == VKI_ERROR_INVALID_ARGUMENT ? st : vki_fail_in(fn, st);
    *buffer = (VkBuffer)(uintptr_t)handle;
    *offset = at;
    *size = bytes;
    return VKI_OK;
}

vki_status vki_cmd_index_copy_(VkCommandBuffer cmd, vki_tensor *self, int64_t dim,
                               const vki_tensor *index, const vki_tensor *source)
{
    return vki_index_copy_record("vki_cmd_index_copy_", cmd, self, self, dim, index, source);
}

vki_status vki_cmd_index_copy(VkCommandBuffer cmd, vki_tensor *out, const vki_tensor *self,
                              int64_t dim, const vki_tensor *index, const vki_tensor *source)
{
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "vki_cmd_index_copy: out is NULL");
    VKI_CHECK(self, VKI_ERROR_INVALID_ARGUMENT, "vki_cmd_index_copy: self is NULL");
    return vki_index_copy_record("vki_cmd_index_copy", cmd, out, self, dim, index, source);
}

static vki_status check_reports(vki_context *ctx, VkCommandBuffer cmd)
{
    vki_bad_index bad;
    int dim = 0;
    int64_t dim_size = 0;
    vki_status st = ctx->ops->record_check(ctx->impl, cmd, &bad, &dim, &dim_size);
    return st == VKI_ERROR_INDEX ? vki_index_error("", dim, dim_size, bad.value) : st;
}

vki_status vki_cmd_check(vki_context *ctx, VkCommandBuffer cmd)
{
    vki_status st = vulkan_context("vki_cmd_check", ctx);
    if (st != VKI_OK || (st = vki_context_enter(ctx, "vki_cmd_check")) != VKI_OK)
        return st;
    return vki_context_leave(ctx, check_reports(ctx, cmd));
}

void vki_cmd_release(vki_context *ctx, VkCommandBuffer cmd)
{
    if (!ctx || !cmd || !ctx->ops->record_release ||
        vki_context_enter(ctx, "vki_cmd_release") != VKI_OK)
        return;
    ctx->ops->record_release(ctx->impl, cmd);
    ctx->refs++; /* the held storages may be the context's last references */
    size_t kept = 0;
    for (size_t i = 0; i < ctx->held_count; i++)
        if (ctx->held[i].cmd == (void *)cmd)
            vki_storage_release(ctx->held[i].storage);
        else
            ctx->held[kept++] = ctx->held[i];
    ctx->held_count = kept;
    vki_context_leave(ctx, VKI_OK);
    vki_context_release(ctx);
}

vki_status vki_cmd_stats_get(vki_context *ctx, VkCommandBuffer cmd, vki_cmd_stats *out)
{
    vki_status st = vulkan_context("vki_cmd_stats_get", ctx);
    if (st != VKI_OK)
        return st;
    VKI_CHECK(cmd && out, VKI_ERROR_INVALID_ARGUMENT, "vki_cmd_stats_get: cmd and out must be given");
    if ((st = vki_context_enter(ctx, "vki_cmd_stats_get")) != VKI_OK)
        return st;
    int64_t counts[4];
    ctx->ops->record_stats(ctx->impl, cmd, counts);
    *out = (vki_cmd_stats){counts[0], counts[1], counts[2], counts[3]};
    return vki_context_leave(ctx, VKI_OK);
}
