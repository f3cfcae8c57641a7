/*
 * DLPack (include/vkindex_dlpack.h) on every backend: the dtype mapping both ways and its
 * refusals word for word; imports of host tensors used in place, whose producer's deleter
 * runs once, when the last view goes (and never after a refused import); exports that keep
 * the storage alive until their deleter, and their round trip. On Vulkan builds, kDLVulkan
 * buffers of an application's device (examples/vkapp.c) under vkindex's convention, and an
 * application's device without VK_EXT_external_memory_host refusing host memory.
 */
#include "common.h"
#include "vkindex_dlpack.h"
#ifdef VKI_TEST_INTEROP
#include "vkapp.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_ALIGN ((size_t)65536)

static void expect_message(vki_status got, vki_status want, const char *message)
{
    if (got != want || strcmp(vki_last_error(), message) != 0)
        fail_msg("got %s \"%s\"\nwant %s \"%s\"", vki_status_string(got), vki_last_error(),
                 vki_status_string(want), message);
}

/* A producer: a DLManagedTensor over memory of its own, counting its deleter's calls. */
typedef struct producer {
    DLManagedTensor managed;
    int64_t shape[4], strides[4];
    int deleted;
} producer;

static void producer_deleter(DLManagedTensor *m)
{
    ((producer *)m->manager_ctx)->deleted++;
}

static void producer_init(producer *p, void *data, DLDataType type, int ndim,
                          const int64_t *shape, const int64_t *strides)
{
    memset(p, 0, sizeof *p);
    for (int k = 0; k < ndim; k++) {
        p->shape[k] = shape[k];
        p->strides[k] = strides ? strides[k] : 0;
    }
    p->managed = (DLManagedTensor){
        .dl_tensor = {.data = data, .device = {kDLCPU, 0}, .ndim = ndim, .dtype = type,
                      .shape = p->shape, .strides = strides ? p->strides : NULL},
        .manager_ctx = p,
        .deleter = producer_deleter,
    };
}

static void dtypes_both_ways(void **state)
{
    (void)state;
    static const struct { uint8_t code, bits; vki_dtype dtype; } map[] = {
        {kDLInt, 8, VKI_INT8},          {kDLInt, 16, VKI_INT16},       {kDLInt, 32, VKI_INT32},
        {kDLInt, 64, VKI_INT64},        {kDLUInt, 8, VKI_UINT8},       {kDLUInt, 16, VKI_UINT16},
        {kDLUInt, 32, VKI_UINT32},      {kDLUInt, 64, VKI_UINT64},     {kDLFloat, 16, VKI_FLOAT16},
        {kDLFloat, 32, VKI_FLOAT32},    {kDLFloat, 64, VKI_FLOAT64},   {kDLBfloat, 16, VKI_BFLOAT16},
        {kDLComplex, 32, VKI_COMPLEX32}, {kDLComplex, 64, VKI_COMPLEX64},
        {kDLComplex, 128, VKI_COMPLEX128}, {6, 8, VKI_BOOL},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        vki_dtype d = VKI_DTYPE_COUNT;
        OK(vki_dtype_from_dlpack((DLDataType){map[i].code, map[i].bits, 1}, &d));
        assert_int_equal(d, map[i].dtype);
        DLDataType back;
        OK(vki_dtype_to_dlpack(d, &back));
        /* Bool goes out as PyTorch sends it: DLPack 0.6 has no bool. */
        assert_int_equal(back.code, d == VKI_BOOL ? kDLUInt : map[i].code);
        assert_int_equal(back.bits, map[i].bits);
        assert_int_equal(back.lanes, 1);
    }
    static const DLDataType refused[] = {{kDLFloat, 8, 1}, {kDLInt, 128, 1}, {kDLFloat, 32, 4},
                                         {kDLOpaqueHandle, 64, 1}, {kDLBfloat, 32, 1},
                                         {kDLComplex, 16, 1}, {6, 1, 1}, {kDLUInt, 1, 1}};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char want[512];
        snprintf(want, sizeof want,
                 "vki_dtype_from_dlpack: DLPack dtype (code %u, bits %u, lanes %u) has no vkindex "
                 "dtype (vkindex takes one lane of int 8/16/32/64, uint 8/16/32/64, float "
                 "16/32/64, bfloat 16, complex 32/64/128 and bool 8)",
                 refused[i].code, refused[i].bits, refused[i].lanes);
        vki_dtype d = VKI_FLOAT32;
        expect_message(vki_dtype_from_dlpack(refused[i], &d), VKI_ERROR_UNSUPPORTED, want);
        assert_int_equal(d, VKI_FLOAT32);
    }
    DLDataType t;
    expect_message(vki_dtype_to_dlpack(VKI_FLOAT8_E4M3FN, &t), VKI_ERROR_UNSUPPORTED,
                   "vki_dtype_to_dlpack: DLPack has no dtype for Float8_e4m3fn");
    expect_message(vki_dtype_to_dlpack(VKI_FLOAT8_E5M2, &t), VKI_ERROR_UNSUPPORTED,
                   "vki_dtype_to_dlpack: DLPack has no dtype for Float8_e5m2");
    expect_message(vki_dtype_to_dlpack((vki_dtype)40, &t), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_dtype_to_dlpack: dtype 40 is not a vki_dtype value");
}

/* A host tensor (a [128, 128] float tensor: 64 KiB, which every backend imports) written in
 * place by index_copy_; the deleter runs when the last view goes. */
static void import_in_place(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    float *mem = aligned_alloc(HOST_ALIGN, HOST_ALIGN);
    assert_non_null(mem);
    vki_tensor *probe = NULL;
    const int64_t probe_shape = 1;
    vki_status st = vki_tensor_wrap_host(ctx, mem, HOST_ALIGN, VKI_FLOAT32, 1, &probe_shape,
                                         NULL, &probe);
    vki_tensor_destroy(probe);
    if (st == VKI_ERROR_UNSUPPORTED) { /* a device without VK_EXT_external_memory_host */
        free(mem);
        skip();
    }
    for (int i = 0; i < 128 * 128; i++)
        mem[i] = (float)i;
    producer p;
    const int64_t shape[2] = {128, 128};
    producer_init(&p, mem, (DLDataType){kDLFloat, 32, 1}, 2, shape, NULL);
    vki_tensor *self, *row, *source, *index;
    OK(vki_tensor_from_dlpack(ctx, &p.managed, &self));
    const int64_t one = 1, cols[2] = {1, 128};
    OK(vki_tensor_view(self, 2, cols, NULL, 5 * 128, &row)); /* row 5 */
    vki_tensor_destroy(self);
    const float src_host[128] = {[0] = -1, [127] = -2};
    const int64_t idx_host = 77;
    source = make_tensor(ctx, VKI_FLOAT32, 2, cols, src_host);
    index = make_tensor(ctx, VKI_INT64, 1, &one, &idx_host);
    vki_tensor *whole;
    const int64_t all[2] = {128, 128};
    OK(vki_tensor_view(row, 2, all, NULL, 0, &whole));
    OK(vki_index_copy_(whole, 0, index, source));
    assert_true(mem[77 * 128] == -1 && mem[77 * 128 + 127] == -2 && mem[76 * 128] == 76 * 128);
    assert_int_equal(p.deleted, 0);
    vki_tensor_destroy(whole);
    assert_int_equal(p.deleted, 0);
    vki_tensor_destroy(row);
    assert_int_equal(p.deleted, 1);
    vki_tensor_destroy(source);
    vki_tensor_destroy(index);
    free(mem);
}

/* Refused imports leave the producer's tensor alone (its deleter is not called), word for
 * word. */
static void import_refusals(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    float mem[8];
    const int64_t shape[1] = {8}, back[1] = {-1};
    producer p;
    vki_tensor *t = NULL;
    producer_init(&p, mem, (DLDataType){kDLFloat, 8, 1}, 1, shape, NULL);
    expect_message(vki_tensor_from_dlpack(ctx, &p.managed, &t), VKI_ERROR_UNSUPPORTED,
                   "vki_tensor_from_dlpack: DLPack dtype (code 2, bits 8, lanes 1) has no vkindex "
                   "dtype (vkindex takes one lane of int 8/16/32/64, uint 8/16/32/64, float "
                   "16/32/64, bfloat 16, complex 32/64/128 and bool 8)");
    producer_init(&p, mem + 7, (DLDataType){kDLFloat, 32, 1}, 1, shape, back);
    expect_message(vki_tensor_from_dlpack(ctx, &p.managed, &t), VKI_ERROR_UNSUPPORTED,
                   "vki_tensor_from_dlpack: stride -1 of dimension 0 is negative, which vkindex "
                   "tensors cannot have");
    producer_init(&p, mem, (DLDataType){kDLFloat, 32, 1}, 1, shape, NULL);
    p.managed.dl_tensor.device.device_type = kDLCUDA;
    expect_message(vki_tensor_from_dlpack(ctx, &p.managed, &t), VKI_ERROR_UNSUPPORTED,
#ifdef VKI_TEST_INTEROP
                   "vki_tensor_from_dlpack: a tensor on DLPack device type 2 (kDLCUDA) is not one "
                   "vkindex can use (it takes kDLCPU, kDLCUDAHost and kDLROCMHost memory, and "
                   "kDLVulkan buffers on a context made with vki_context_create_vulkan)"
#else
                   "vki_tensor_from_dlpack: a tensor on DLPack device type 2 (kDLCUDA) is not one "
                   "vkindex can use (it takes kDLCPU, kDLCUDAHost and kDLROCMHost memory)"
#endif
    );
    producer_init(&p, NULL, (DLDataType){kDLFloat, 32, 1}, 1, shape, NULL);
    expect_message(vki_tensor_from_dlpack(ctx, &p.managed, &t), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_from_dlpack: data is NULL");
    producer_init(&p, mem, (DLDataType){kDLFloat, 32, 1}, 1, shape, NULL);
    p.managed.dl_tensor.ndim = VKI_MAX_DIMS + 1;
    expect_message(vki_tensor_from_dlpack(ctx, &p.managed, &t), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_from_dlpack: ndim must be in [0, 16] (got 17)");
    expect_message(vki_tensor_from_dlpack(NULL, &p.managed, &t), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_from_dlpack: ctx is NULL");
    expect_message(vki_tensor_from_dlpack(ctx, NULL, &t), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_from_dlpack: managed is NULL");
    if (vki_context_backend(ctx) == VKI_BACKEND_VULKAN) {
        /* a host import on Vulkan: 32 bytes are not a whole page (the message is wrap_host's) */
        producer_init(&p, mem, (DLDataType){kDLFloat, 32, 1}, 1, shape, NULL);
        vki_status st = vki_tensor_from_dlpack(ctx, &p.managed, &t);
        const char *why = st == VKI_ERROR_UNSUPPORTED ? "VK_EXT_external_memory_host" /* none */
                                                      : "vki_tensor_from_dlpack: host memory at ";
        assert_true(st == VKI_ERROR_UNSUPPORTED || st == VKI_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(vki_last_error(), why));
    }
    assert_null(t);
    assert_int_equal(p.deleted, 0);
    /* an empty tensor needs no memory, and still gives its producer back */
    const int64_t none[1] = {0};
    producer_init(&p, NULL, (DLDataType){kDLInt, 64, 1}, 1, none, NULL);
    OK(vki_tensor_from_dlpack(ctx, &p.managed, &t));
    vki_tensor_destroy(t);
    assert_int_equal(p.deleted, 1);
}

/* Exports: what they describe, that they keep the storage, and the way back in. */
static void export_and_back(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    const int64_t shape[2] = {6, 4}, vshape[2] = {3, 4}, vstrides[2] = {8, 1};
    int32_t host[24];
    for (int i = 0; i < 24; i++)
        host[i] = i;
    vki_tensor *base = make_tensor(ctx, VKI_INT32, 2, shape, host), *view;
    OK(vki_tensor_view(base, 2, vshape, vstrides, 4, &view)); /* rows 1, 3, 5 */
    vki_tensor_destroy(base);
    DLManagedTensor *m = NULL;
    OK(vki_tensor_to_dlpack(view, &m));
    vki_tensor_destroy(view); /* the export keeps the storage */
    const DLTensor *t = &m->dl_tensor;
    assert_int_equal(t->ndim, 2);
    assert_true(t->shape[0] == 3 && t->shape[1] == 4 && t->strides[0] == 8 && t->strides[1] == 1);
    assert_true(t->dtype.code == kDLInt && t->dtype.bits == 32 && t->dtype.lanes == 1);
    if (vki_context_backend(ctx) == VKI_BACKEND_CPU) {
        assert_int_equal(t->device.device_type, kDLCPU);
        assert_int_equal(t->byte_offset, 0);
        const int32_t *first = t->data;
        assert_true(first[0] == 4 && first[8] == 12 && first[16 + 3] == 23);
        /* back in: the same memory, through a second context too */
        vki_tensor *again;
        OK(vki_tensor_from_dlpack(ctx, m, &again)); /* vkindex now owns m */
        int32_t got[12];
        OK(vki_tensor_download(again, got, sizeof got));
        for (int i = 0; i < 12; i++)
            assert_int_equal(got[i], 4 + (i / 4) * 8 + i % 4);
        vki_tensor_destroy(again); /* calls m's deleter, which drops the export's view */
    } else {
        assert_int_equal(t->device.device_type, kDLVulkan);
        assert_non_null(t->data);
        assert_int_equal(t->byte_offset % 4, 0);
        m->deleter(m);
    }
    vki_tensor *f8;
    const int64_t two = 2;
    OK(vki_tensor_create(ctx, VKI_FLOAT8_E5M2, 1, &two, &f8));
    m = NULL;
    expect_message(vki_tensor_to_dlpack(f8, &m), VKI_ERROR_UNSUPPORTED,
                   "vki_tensor_to_dlpack: DLPack has no dtype for Float8_e5m2");
    assert_null(m);
    expect_message(vki_tensor_to_dlpack(NULL, &m), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_to_dlpack: t is NULL");
    expect_message(vki_tensor_to_dlpack(f8, NULL), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_to_dlpack: out is NULL");
    vki_tensor_destroy(f8);
}

#ifdef VKI_TEST_INTEROP
/* kDLVulkan: an application's buffer as DLPack describes it under vkindex's convention, used
 * in place; the export of a tensor of that context describes its buffer the same way; and the
 * application's device, created without VK_EXT_external_memory_host, refuses host memory. */
static void vulkan_buffers(void **state)
{
    (void)state;
    if (vki_context_backend(test_context()) != VKI_BACKEND_VULKAN)
        skip();
    vkapp a;
    VkResult r = vkapp_create(&a, true);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        skip();
    assert_int_equal(r, VK_SUCCESS);
    vki_vulkan_device dev = vkapp_device(&a);
    vki_context *ctx;
    OK(vki_context_create_vulkan(&dev, NULL, &ctx));
    vkapp_buffer buf;
    assert_int_equal(vkapp_buffer_create(&a, 4096, true, &buf), VK_SUCCESS);
    float *mapped = buf.mapped;
    for (int i = 0; i < 1024; i++)
        mapped[i] = (float)i;
    /* a [4, 8] float tensor from byte 300 of the buffer (75 floats in): wrapped from 256 */
    producer p;
    const int64_t shape[2] = {4, 8};
    producer_init(&p, (void *)(uintptr_t)buf.buffer, (DLDataType){kDLFloat, 32, 1}, 2, shape, NULL);
    p.managed.dl_tensor.device.device_type = kDLVulkan;
    p.managed.dl_tensor.byte_offset = 300;
    vki_tensor *self, *source, *index;
    OK(vki_tensor_from_dlpack(ctx, &p.managed, &self));
    assert_int_equal(vki_tensor_offset(self), 11);
    const float src_host[8] = {-1, -2, -3, -4, -5, -6, -7, -8};
    const int64_t one = 1, row[2] = {1, 8}, idx_host = 2;
    source = make_tensor(ctx, VKI_FLOAT32, 2, row, src_host);
    index = make_tensor(ctx, VKI_INT64, 1, &one, &idx_host);
    OK(vki_index_copy_(self, 0, index, source));
    for (int i = 0; i < 1024; i++)
        assert_true(mapped[i] == (i >= 75 + 16 && i < 75 + 24 ? (float)-(i - 75 - 16 + 1) : (float)i));
    /* out again: the same buffer and offset */
    DLManagedTensor *m;
    OK(vki_tensor_to_dlpack(self, &m));
    assert_int_equal(m->dl_tensor.device.device_type, kDLVulkan);
    assert_ptr_equal(m->dl_tensor.data, (void *)(uintptr_t)buf.buffer);
    assert_int_equal(m->dl_tensor.byte_offset, 300);
    m->deleter(m);
    vki_tensor_destroy(self);
    assert_int_equal(p.deleted, 1);
    /* a byte_offset that is not a whole element */
    producer_init(&p, (void *)(uintptr_t)buf.buffer, (DLDataType){kDLFloat, 32, 1}, 2, shape, NULL);
    p.managed.dl_tensor.device.device_type = kDLVulkan;
    p.managed.dl_tensor.byte_offset = 302;
    expect_message(vki_tensor_from_dlpack(ctx, &p.managed, &self), VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_from_dlpack: byte_offset 302 is not a multiple of the element size "
                   "(4 bytes)");
    assert_int_equal(p.deleted, 0);
    /* the application did not enable VK_EXT_external_memory_host */
    void *host = aligned_alloc(HOST_ALIGN, HOST_ALIGN);
    char want[512];
    snprintf(want, sizeof want,
             "vki_tensor_wrap_host: Vulkan device %s was not created with "
             "VK_EXT_external_memory_host, which a Vulkan context needs to use host memory in "
             "place: make the tensor with vki_tensor_create and upload to it instead, or use a "
             "CPU context", vki_context_device_name(ctx));
    vki_tensor *t = NULL;
    expect_message(vki_tensor_wrap_host(ctx, host, HOST_ALIGN, VKI_FLOAT32, 1, &one, NULL, &t),
                   VKI_ERROR_UNSUPPORTED, want);
    free(host);
    vki_tensor_destroy(index);
    vki_tensor_destroy(source);
    vki_context_destroy(ctx);
    vkapp_buffer_destroy(&a, &buf);
    const int messages = a.messages;
    vkapp_destroy(&a);
    assert_int_equal(messages, 0);
}
#endif

int main(int argc, char **argv)
{
    (void)test_seed(argc, argv, "test_dlpack");
    (void)test_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dtypes_both_ways),
        cmocka_unit_test(import_in_place),
        cmocka_unit_test(import_refusals),
        cmocka_unit_test(export_and_back),
#ifdef VKI_TEST_INTEROP
        cmocka_unit_test(vulkan_buffers),
#endif
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
