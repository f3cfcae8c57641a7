/*
 * Contexts: options and environment, the choice of backend (Vulkan, or the CPU when AUTO
 * finds no device), and vki_context_destroy. The context's memory is freed by its last
 * reference (src/storage.c).
 */
#include "internal.h"
#ifdef VKI_HAVE_VULKAN
#include "vkindex_vulkan.h"
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Resolved options: explicit fields first, then the environment, then the defaults. */
typedef struct resolved_options {
    vki_backend backend;
    const char *device;
    int validation;
    int threads;
} resolved_options;

static vki_status resolve_options(const vki_context_options *opts, resolved_options *r)
{
    vki_context_options zero = {0};
    if (!opts)
        opts = &zero;
    r->backend = opts->backend;
    if ((unsigned)r->backend > VKI_BACKEND_VULKAN)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                        "vki_context_create: backend %d is not a vki_backend value",
                        (int)opts->backend);
    if (r->backend == VKI_BACKEND_AUTO) {
        const char *env = getenv("VKI_BACKEND");
        if (env && *env) {
            if (!strcasecmp(env, "auto"))
                r->backend = VKI_BACKEND_AUTO;
            else if (!strcasecmp(env, "cpu"))
                r->backend = VKI_BACKEND_CPU;
            else if (!strcasecmp(env, "vulkan"))
                r->backend = VKI_BACKEND_VULKAN;
            else
                return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                                "VKI_BACKEND=%s is not one of auto, cpu, vulkan", env);
        }
    }
    r->device = opts->device;
    if (!r->device) {
        const char *env = getenv("VKI_DEVICE");
        if (env && *env)
            r->device = env;
    }
    r->validation = opts->validation;
    if (!r->validation) {
        const char *env = getenv("VKI_VALIDATION");
        r->validation = env && !strcmp(env, "1");
    }
    r->threads = opts->threads;
    if (r->threads < 0)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                        "vki_context_create: threads must be >= 0 (got %d)", r->threads);
    if (r->threads == 0) {
        const char *env = getenv("VKI_THREADS");
        if (env && *env) {
            char *end;
            long v = strtol(env, &end, 10);
            if (*end || v < 1 || v > 4096)
                return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                                "VKI_THREADS=%s is not a thread count from 1 to 4096", env);
            r->threads = (int)v;
        }
    }
    if (r->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        r->threads = cores > 0 ? (int)(cores > 256 ? 256 : cores) : 1;
    }
    return VKI_OK;
}

static atomic_uint_fast64_t next_serial = 1;

static vki_context *context_alloc(void)
{
    vki_context *ctx = vki_calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->refs = 1;
        ctx->batch.bad.call = -1;
        ctx->serial = atomic_fetch_add(&next_serial, 1);
    }
    return ctx;
}

static vki_status create_cpu(const resolved_options *r, vki_context *ctx)
{
    vki_status st = vki_cpu_backend_create(r->threads, &ctx->ops, &ctx->impl);
    if (st != VKI_OK)
        return st;
    ctx->kind = VKI_BACKEND_CPU;
    snprintf(ctx->device_name, sizeof ctx->device_name, "cpu");
    return VKI_OK;
}

vki_status vki_context_create(const vki_context_options *opts, vki_context **out)
{
    if (!out)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT, "vki_context_create: out is NULL");
    resolved_options r = {0};
    vki_status st = resolve_options(opts, &r);
    if (st != VKI_OK)
        return st;
    vki_context *ctx = context_alloc();
    if (!ctx)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");

    /* A named device asks for Vulkan unless the CPU backend was asked for explicitly. */
    bool want_vulkan = r.backend == VKI_BACKEND_VULKAN ||
                       (r.backend == VKI_BACKEND_AUTO && r.device != NULL);
    if (r.backend == VKI_BACKEND_CPU) {
        st = create_cpu(&r, ctx);
    } else {
#ifdef VKI_HAVE_VULKAN
        vki_vulkan_request req = {
            .device = r.device, .validation = r.validation, .required = want_vulkan};
        st = vki_vulkan_backend_create(&req, &ctx->ops, &ctx->impl, ctx->device_name,
                                       sizeof ctx->device_name);
        if (st == VKI_OK)
            ctx->kind = VKI_BACKEND_VULKAN;
        else if (st == VKI_ERROR_NO_DEVICE && !want_vulkan)
            st = create_cpu(&r, ctx);
#else
        if (want_vulkan)
            st = vki_fail(VKI_ERROR_NO_DEVICE,
                          "vki_context_create: the Vulkan backend was requested but this build "
                          "of vkindex has no Vulkan backend (configured with -Dvulkan=disabled)");
        else
            st = create_cpu(&r, ctx);
#endif
    }
    if (st != VKI_OK) {
        free(ctx);
        return st;
    }
    *out = ctx;
    return VKI_OK;
}

#ifdef VKI_HAVE_VULKAN
vki_status vki_context_create_vulkan(const vki_vulkan_device *dev, const vki_context_options *opts,
                                     vki_context **out)
{
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "vki_context_create_vulkan: out is NULL");
    VKI_CHECK(dev && dev->instance && dev->physical_device && dev->device && dev->queue,
              VKI_ERROR_INVALID_ARGUMENT,
              "vki_context_create_vulkan: dev and its instance, physical_device, device and "
              "queue must be given");
    VKI_CHECK(!dev->lock_queue == !dev->unlock_queue, VKI_ERROR_INVALID_ARGUMENT,
              "vki_context_create_vulkan: lock_queue and unlock_queue go together");
    VKI_CHECK(!opts || opts->backend == VKI_BACKEND_AUTO || opts->backend == VKI_BACKEND_VULKAN,
              VKI_ERROR_INVALID_ARGUMENT,
              "vki_context_create_vulkan: opts->backend must be AUTO or VULKAN (got %d)",
              (int)opts->backend);
    vki_context *ctx = context_alloc();
    VKI_CHECK(ctx, VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create_vulkan: out of host memory");
    vki_status st = vki_vulkan_backend_import(dev, &ctx->ops, &ctx->impl, ctx->device_name,
                                              sizeof ctx->device_name);
    if (st != VKI_OK) {
        free(ctx);
        return st;
    }
    ctx->kind = VKI_BACKEND_VULKAN;
    *out = ctx;
    return VKI_OK;
}
#endif

void vki_context_destroy(vki_context *ctx)
{
    if (!ctx)
        return;
    vki_batch_close(ctx);
    vki_context_release(ctx);
}

vki_backend vki_context_backend(const vki_context *ctx)
{
    return ctx ? ctx->kind : VKI_BACKEND_AUTO;
}

const char *vki_context_device_name(const vki_context *ctx)
{
    return ctx ? ctx->device_name : "";
}

unsigned vki_version(void)
{
    return VKI_VERSION;
}
