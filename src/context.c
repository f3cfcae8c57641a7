/*
 * Contexts: options and environment, backend choice, the context's lifetime, and the
 * thread-local message of the last failure together with the status and dtype names.
 */
#include "internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static _Thread_local char last_error[2048];

vki_status vki_fail(vki_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *vki_last_error(void)
{
    return last_error;
}

const char *vki_status_string(vki_status s)
{
    switch (s) {
    case VKI_OK: return "VKI_OK";
    case VKI_ERROR_INVALID_ARGUMENT: return "VKI_ERROR_INVALID_ARGUMENT";
    case VKI_ERROR_INDEX: return "VKI_ERROR_INDEX";
    case VKI_ERROR_OUT_OF_HOST_MEMORY: return "VKI_ERROR_OUT_OF_HOST_MEMORY";
    case VKI_ERROR_OUT_OF_DEVICE_MEMORY: return "VKI_ERROR_OUT_OF_DEVICE_MEMORY";
    case VKI_ERROR_NO_DEVICE: return "VKI_ERROR_NO_DEVICE";
    case VKI_ERROR_UNSUPPORTED: return "VKI_ERROR_UNSUPPORTED";
    case VKI_ERROR_DEVICE_LOST: return "VKI_ERROR_DEVICE_LOST";
    case VKI_ERROR_VULKAN: return "VKI_ERROR_VULKAN";
    }
    return "VKI_ERROR_UNKNOWN";
}

static const struct { const char *name; size_t size; } dtype_info[VKI_DTYPE_COUNT] = {
    [VKI_BOOL] = {"Bool", 1},         [VKI_UINT8] = {"Byte", 1},
    [VKI_INT8] = {"Char", 1},         [VKI_INT16] = {"Short", 2},
    [VKI_UINT16] = {"UInt16", 2},     [VKI_INT32] = {"Int", 4},
    [VKI_UINT32] = {"UInt32", 4},     [VKI_INT64] = {"Long", 8},
    [VKI_UINT64] = {"UInt64", 8},     [VKI_FLOAT16] = {"Half", 2},
    [VKI_BFLOAT16] = {"BFloat16", 2}, [VKI_FLOAT32] = {"Float", 4},
    [VKI_FLOAT64] = {"Double", 8},    [VKI_COMPLEX32] = {"ComplexHalf", 4},
    [VKI_COMPLEX64] = {"ComplexFloat", 8}, [VKI_COMPLEX128] = {"ComplexDouble", 16},
    [VKI_FLOAT8_E4M3FN] = {"Float8_e4m3fn", 1}, [VKI_FLOAT8_E5M2] = {"Float8_e5m2", 1},
};

size_t vki_dtype_size(vki_dtype dtype)
{
    return (unsigned)dtype < VKI_DTYPE_COUNT ? dtype_info[dtype].size : 0;
}

const char *vki_dtype_name(vki_dtype dtype)
{
    return (unsigned)dtype < VKI_DTYPE_COUNT ? dtype_info[dtype].name : "Unknown";
}

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
    vki_context *ctx = vki_calloc(1, sizeof *ctx);
    if (!ctx)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");
    ctx->refs = 1;
    ctx->batch.error_call = -1;
    ctx->serial = atomic_fetch_add(&next_serial, 1);

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

void vki_context_release(vki_context *ctx)
{
    if (--ctx->refs > 0)
        return;
    ctx->ops->context_destroy(ctx->impl);
    free(ctx->batch.kept);
    free(ctx->batch.calls_info);
    free(ctx);
}

void vki_context_destroy(vki_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->batch.open) /* run what was queued, and drop the references it held */
        vki_batch_end(ctx);
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
