/*
 * DLPack (include/vkindex_dlpack.h): the dtype mapping both ways, the import of a
 * DLManagedTensor as a tensor over its memory (host memory through vki_tensor_lend, kDLVulkan
 * buffers through vki_tensor_wrap_buffer_at, the producer's deleter as the storage's release
 * hook), and the export of a tensor as a DLManagedTensor that holds a view of its storage.
 * Built when <dlpack/dlpack.h> is found.
 */
#include "internal.h"
#include "vkindex_dlpack.h"

#include <stdlib.h>

/* DLPack 0.8's kDLBool, which 0.6's header lacks. */
#define DLPACK_BOOL_CODE 6

/* The mappings, with fn naming the API call in their messages. */
static vki_status dtype_from(const char *fn, DLDataType type, vki_dtype *out)
{
    static const vki_dtype ints[4] = {VKI_INT8, VKI_INT16, VKI_INT32, VKI_INT64};
    static const vki_dtype uints[4] = {VKI_UINT8, VKI_UINT16, VKI_UINT32, VKI_UINT64};
    static const vki_dtype floats[4] = {VKI_DTYPE_COUNT, VKI_FLOAT16, VKI_FLOAT32, VKI_FLOAT64};
    static const vki_dtype complexes[4] = {VKI_DTYPE_COUNT, VKI_COMPLEX32, VKI_COMPLEX64,
                                           VKI_COMPLEX128};
    /* bits 8, 16, 32, 64 (128 for complex) as 0..3 (-1: another width) */
    const int complex_step = type.bits == 32 ? 1 : type.bits == 64 ? 2 : type.bits == 128 ? 3 : -1;
    const int step = type.bits == 8 ? 0 : type.bits == 16 ? 1 : type.bits == 32 ? 2
                   : type.bits == 64 ? 3 : -1;
    vki_dtype dtype = VKI_DTYPE_COUNT;
    if (type.lanes == 1 && step >= 0) {
        switch (type.code) {
        case kDLInt: dtype = ints[step]; break;
        case kDLUInt: dtype = uints[step]; break;
        case kDLFloat: dtype = floats[step]; break;
        case kDLBfloat: dtype = type.bits == 16 ? VKI_BFLOAT16 : VKI_DTYPE_COUNT; break;
        case DLPACK_BOOL_CODE: dtype = type.bits == 8 ? VKI_BOOL : VKI_DTYPE_COUNT; break;
        default: break;
        }
    }
    if (type.lanes == 1 && type.code == kDLComplex && complex_step >= 0)
        dtype = complexes[complex_step];
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    VKI_CHECK(dtype != VKI_DTYPE_COUNT, VKI_ERROR_UNSUPPORTED,
              "%s: DLPack dtype (code %u, bits %u, lanes %u) has no vkindex "
              "dtype (vkindex takes one lane of int 8/16/32/64, uint 8/16/32/64, float 16/32/64, "
              "bfloat 16, complex 32/64/128 and bool 8)",
              fn, (unsigned)type.code, (unsigned)type.bits, (unsigned)type.lanes);
    *out = dtype;
    return VKI_OK;
}

static vki_status dtype_to(const char *fn, vki_dtype dtype, DLDataType *out)
{
    static const struct { uint8_t code, bits; } map[VKI_DTYPE_COUNT] = {
        [VKI_BOOL] = {kDLUInt, 8}, /* DLPack 0.6 has no bool: PyTorch exports it so too */
        [VKI_UINT8] = {kDLUInt, 8},       [VKI_INT8] = {kDLInt, 8},
        [VKI_INT16] = {kDLInt, 16},       [VKI_UINT16] = {kDLUInt, 16},
        [VKI_INT32] = {kDLInt, 32},       [VKI_UINT32] = {kDLUInt, 32},
        [VKI_INT64] = {kDLInt, 64},       [VKI_UINT64] = {kDLUInt, 64},
        [VKI_FLOAT16] = {kDLFloat, 16},   [VKI_BFLOAT16] = {kDLBfloat, 16},
        [VKI_FLOAT32] = {kDLFloat, 32},   [VKI_FLOAT64] = {kDLFloat, 64},
        [VKI_COMPLEX32] = {kDLComplex, 32}, [VKI_COMPLEX64] = {kDLComplex, 64},
        [VKI_COMPLEX128] = {kDLComplex, 128},
        /* the 8-bit floats: no code in DLPack 0.6 (bits 0 below) */
    };
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    VKI_CHECK((unsigned)dtype < VKI_DTYPE_COUNT, VKI_ERROR_INVALID_ARGUMENT,
              "%s: dtype %d is not a vki_dtype value", fn, (int)dtype);
    VKI_CHECK(map[dtype].bits != 0, VKI_ERROR_UNSUPPORTED, "%s: DLPack has no dtype for %s", fn,
              vki_dtype_name(dtype));
    *out = (DLDataType){.code = map[dtype].code, .bits = map[dtype].bits, .lanes = 1};
    return VKI_OK;
}

vki_status vki_dtype_from_dlpack(DLDataType type, vki_dtype *out)
{
    return dtype_from("vki_dtype_from_dlpack", type, out);
}

vki_status vki_dtype_to_dlpack(vki_dtype dtype, DLDataType *out)
{
    return dtype_to("vki_dtype_to_dlpack", dtype, out);
}

static const char *device_name(int type)
{
    switch (type) {
    case kDLCPU: return "kDLCPU";
    case kDLCUDA: return "kDLCUDA";
    case kDLCUDAHost: return "kDLCUDAHost";
    case kDLOpenCL: return "kDLOpenCL";
    case kDLVulkan: return "kDLVulkan";
    case kDLMetal: return "kDLMetal";
    case kDLVPI: return "kDLVPI";
    case kDLROCM: return "kDLROCM";
    case kDLROCMHost: return "kDLROCMHost";
    case kDLExtDev: return "kDLExtDev";
    case kDLCUDAManaged: return "kDLCUDAManaged";
    default: return "unknown";
    }
}

/* The storage's release hook of an import: the producer's deleter. */
static void release_managed(void *user)
{
    DLManagedTensor *managed = user;
    if (managed->deleter)
        managed->deleter(managed);
}

/* The elements a DLPack tensor spans from its first one (0 when empty), checked. */
static vki_status dlpack_extent(const char *fn, const DLTensor *t, int64_t *strides,
                                uint64_t elem_size, uint64_t *bytes)
{
    VKI_CHECK(t->ndim >= 0 && t->ndim <= VKI_MAX_DIMS, VKI_ERROR_INVALID_ARGUMENT,
              "%s: ndim must be in [0, %d] (got %d)", fn, VKI_MAX_DIMS, t->ndim);
    VKI_CHECK(t->ndim == 0 || t->shape, VKI_ERROR_INVALID_ARGUMENT, "%s: shape is NULL", fn);
    for (int k = 0; k < t->ndim; k++)
        VKI_CHECK(t->shape[k] >= 0, VKI_ERROR_INVALID_ARGUMENT,
                  "%s: size %lld of dimension %d is negative", fn, (long long)t->shape[k], k);
    if (t->strides) {
        for (int k = 0; k < t->ndim; k++)
            strides[k] = t->strides[k];
    } else {
        VKI_CHECK(vki_contiguous_strides(t->ndim, t->shape, strides), VKI_ERROR_INVALID_ARGUMENT,
                  "%s: the tensor's size does not fit in 64 bits", fn);
    }
    uint64_t last = 0, step;
    bool empty = false, ok = true;
    for (int k = 0; k < t->ndim; k++) {
        VKI_CHECK(strides[k] >= 0 || t->shape[k] <= 1, VKI_ERROR_UNSUPPORTED,
                  "%s: stride %lld of dimension %d is negative, which vkindex tensors cannot "
                  "have", fn, (long long)strides[k], k);
        if (strides[k] < 0)
            strides[k] = 0; /* a dimension of size 0 or 1: the stride addresses nothing */
        if (t->shape[k] == 0)
            empty = true;
        else
            ok = ok && vki_mul_u64((uint64_t)t->shape[k] - 1, (uint64_t)strides[k], &step) &&
                 vki_add_u64(last, step, &last);
    }
    ok = ok && vki_add_u64(last, 1, &last) && vki_mul_u64(last, elem_size, bytes) &&
         *bytes <= INT64_MAX;
    VKI_CHECK(ok, VKI_ERROR_INVALID_ARGUMENT,
              "%s: the tensor's size in bytes does not fit in 63 bits", fn);
    if (empty)
        *bytes = 0;
    return VKI_OK;
}

static vki_status from_dlpack(vki_context *ctx, DLManagedTensor *managed, vki_tensor **out)
{
    static const char fn[] = "vki_tensor_from_dlpack";
    VKI_CHECK(managed, VKI_ERROR_INVALID_ARGUMENT, "%s: managed is NULL", fn);
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    const DLTensor *t = &managed->dl_tensor;
    vki_dtype dtype = VKI_UINT8; /* set by dtype_from when it succeeds */
    vki_status st = dtype_from(fn, t->dtype, &dtype);
    if (st != VKI_OK)
        return st;
    int64_t strides[VKI_MAX_DIMS];
    uint64_t bytes = 0;
    if ((st = dlpack_extent(fn, t, strides, vki_dtype_size(dtype), &bytes)) != VKI_OK)
        return st;
    const int type = (int)t->device.device_type;
    if (type == kDLCPU || type == kDLCUDAHost || type == kDLROCMHost) {
        VKI_CHECK(t->data || bytes == 0, VKI_ERROR_INVALID_ARGUMENT, "%s: data is NULL", fn);
        char *first = bytes ? (char *)t->data + t->byte_offset : NULL;
        return vki_tensor_lend(ctx, first, bytes, dtype, t->ndim, t->shape, strides, 0,
                               release_managed, managed, fn, out);
    }
#ifdef VKI_HAVE_VULKAN
    if (type == kDLVulkan) {
        /* vkindex's convention (see the header): data is the VkBuffer, byte_offset the first
         * element's offset in it; the range wrapped starts at a multiple of 256. */
        const uint64_t es = vki_dtype_size(dtype), at = t->byte_offset;
        const uint64_t begin = at - at % 256;
        VKI_CHECK(at % es == 0, VKI_ERROR_INVALID_ARGUMENT,
                  "%s: byte_offset %llu is not a multiple of the element size (%llu bytes)", fn,
                  (unsigned long long)at, (unsigned long long)es);
        uint64_t end;
        VKI_CHECK(vki_add_u64(at, bytes ? bytes : es, &end) && end <= UINT64_MAX - 15,
                  VKI_ERROR_INVALID_ARGUMENT, "%s: byte_offset %llu is too large", fn,
                  (unsigned long long)at);
        end = (end + 15) / 16 * 16;
        return vki_tensor_wrap_buffer_at(ctx, (uint64_t)(uintptr_t)t->data, begin, end - begin,
                                         dtype, t->ndim, t->shape, strides,
                                         (int64_t)((at - begin) / es), release_managed, managed,
                                         fn, out);
    }
#endif
    return vki_fail(VKI_ERROR_UNSUPPORTED,
                    "%s: a tensor on DLPack device type %d (%s) is not one vkindex can use (it "
                    "takes kDLCPU, kDLCUDAHost and kDLROCMHost memory%s)",
                    fn, type, device_name(type),
#ifdef VKI_HAVE_VULKAN
                    ", and kDLVulkan buffers on a context made with vki_context_create_vulkan"
#else
                    ""
#endif
    );
}

vki_status vki_tensor_from_dlpack(vki_context *ctx, DLManagedTensor *managed, vki_tensor **out)
{
    VKI_CHECK(ctx, VKI_ERROR_INVALID_ARGUMENT, "vki_tensor_from_dlpack: ctx is NULL");
    vki_status st = vki_context_enter(ctx, "vki_tensor_from_dlpack");
    return st == VKI_OK ? vki_context_leave(ctx, from_dlpack(ctx, managed, out)) : st;
}

/* An export: the DLManagedTensor, and the view and arrays it points into. */
typedef struct exported {
    DLManagedTensor managed;
    vki_tensor *view;
    int64_t shape[VKI_MAX_DIMS];
    int64_t strides[VKI_MAX_DIMS];
} exported;

static void exported_deleter(DLManagedTensor *managed)
{
    exported *e = managed->manager_ctx;
    vki_tensor_destroy(e->view);
    free(e);
}

static vki_status to_dlpack(const vki_tensor *t, DLManagedTensor **out)
{
    static const char fn[] = "vki_tensor_to_dlpack";
    DLDataType type;
    vki_status st = dtype_to(fn, t->dtype, &type);
    if (st != VKI_OK)
        return st;
    const vki_context *ctx = t->storage->ctx;
    const uint64_t es = vki_dtype_size(t->dtype);
    DLDevice device = {.device_type = kDLCPU, .device_id = 0};
    void *data = NULL;
    uint64_t byte_offset = 0;
    if (ctx->kind == VKI_BACKEND_CPU) {
        /* the first element itself (PyTorch 1.13 reads data and not byte_offset) */
        data = t->storage->impl ? (char *)t->storage->impl + (uint64_t)t->offset * es : NULL;
    } else {
        uint64_t buffer = 0, at = 0, bytes = 0;
        st = ctx->ops->buffer_range ? ctx->ops->buffer_range(ctx->impl, t->storage->impl,
                                                             &buffer, &at, &bytes)
                                    : vki_fail(VKI_ERROR_UNSUPPORTED, "no Vulkan buffers");
        if (st != VKI_OK)
            return vki_fail_in(fn, st);
        device.device_type = kDLVulkan;
        data = (void *)(uintptr_t)buffer;
        byte_offset = at + (uint64_t)t->offset * es;
    }
    exported *e = vki_calloc(1, sizeof *e);
    VKI_CHECK(e, VKI_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", fn);
    st = vki_tensor_over(t->storage, t->dtype, t->ndim, t->shape, t->strides, t->offset, fn,
                         &e->view);
    if (st != VKI_OK) {
        free(e);
        return st;
    }
    for (int k = 0; k < t->ndim; k++) {
        e->shape[k] = t->shape[k];
        e->strides[k] = t->strides[k];
    }
    e->managed = (DLManagedTensor){
        .dl_tensor = {.data = data, .device = device, .ndim = t->ndim, .dtype = type,
                      .shape = e->shape, .strides = e->strides, .byte_offset = byte_offset},
        .manager_ctx = e,
        .deleter = exported_deleter,
    };
    *out = &e->managed;
    return VKI_OK;
}

vki_status vki_tensor_to_dlpack(const vki_tensor *t, DLManagedTensor **out)
{
    static const char fn[] = "vki_tensor_to_dlpack";
    VKI_CHECK(t, VKI_ERROR_INVALID_ARGUMENT, "%s: t is NULL", fn);
    VKI_CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    vki_context *ctx = t->storage->ctx;
    vki_status st = vki_context_enter(ctx, fn);
    return st == VKI_OK ? vki_context_leave(ctx, to_dlpack(t, out)) : st;
}
