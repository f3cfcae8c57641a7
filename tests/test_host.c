/*
 * Tensors over the application's host memory (vki_tensor_wrap_host), on every backend: random
 * index_copy_ calls done in place on a wrapped array against the naive reference (the bytes
 * around the view untouched, the memory never freed by vkindex), writes by the application
 * between calls seen by the next call, and every refusal word for word. A Vulkan context
 * imports the memory (VK_EXT_external_memory_host): lavapipe has the extension; the refusal
 * of a device without it is forced with VKI_VULKAN_DISABLE=host_memory.
 */
#include "common.h"
#include "reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Host memory that every backend imports: 64 KiB aligned (a multiple of every Vulkan device's
 * minImportedHostPointerAlignment we know of), whole 64 KiB blocks. */
#define HOST_ALIGN ((size_t)65536)

static uint64_t seed;

static size_t round_up(size_t v) { return (v + HOST_ALIGN - 1) / HOST_ALIGN * HOST_ALIGN; }

static void *host_alloc(size_t bytes)
{
    void *p = aligned_alloc(HOST_ALIGN, round_up(bytes ? bytes : 1));
    assert_non_null(p);
    return p;
}

static void expect_message(vki_status got, vki_status want, const char *message)
{
    if (got != want || strcmp(vki_last_error(), message) != 0)
        fail_msg("got %s \"%s\"\nwant %s \"%s\"", vki_status_string(got), vki_last_error(),
                 vki_status_string(want), message);
}

/* A device without VK_EXT_external_memory_host refuses host memory, saying so (no_extension
 * checks the words): the tests that need it then skip. */
static void require_host_memory(vki_context *ctx)
{
    void *mem = host_alloc(HOST_ALIGN);
    const int64_t one = 1;
    vki_tensor *t = NULL;
    vki_status st = vki_tensor_wrap_host(ctx, mem, HOST_ALIGN, VKI_FLOAT32, 1, &one, NULL, &t);
    vki_tensor_destroy(t);
    free(mem);
    if (st == VKI_ERROR_UNSUPPORTED && strstr(vki_last_error(), "VK_EXT_external_memory_host"))
        skip();
    OK(st);
}

/* Random calls on wrapped self (a strided view of a wrapped array, inside a larger block whose
 * other bytes must stay as they were), source and index: the result in place, as the
 * reference says. */
static void index_copy_in_place(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    require_host_memory(ctx);
    test_rng r = {seed};
    static const vki_dtype dtypes[] = {VKI_UINT8, VKI_FLOAT16, VKI_FLOAT32, VKI_INT64, VKI_COMPLEX128};
    for (int round = 0; round < 40; round++) {
        const vki_dtype dtype = dtypes[round % 5];
        const int64_t es = (int64_t)vki_dtype_size(dtype);
        const int ndim = 1 + (int)rng_below(&r, 3), dim = (int)rng_below(&r, ndim);
        int64_t shape[3], strides[3], src_shape[3];
        for (int k = 0; k < ndim; k++)
            shape[k] = src_shape[k] = 1 + rng_below(&r, 9);
        src_shape[dim] = rng_below(&r, shape[dim] + 1);
        /* self: every other element of its innermost dim, from element 3 of the block. */
        int64_t extent = 1;
        for (int k = ndim - 1; k >= 0; k--) {
            strides[k] = k == ndim - 1 ? 2 : strides[k + 1] * shape[k + 1];
            extent += (shape[k] - 1) * strides[k];
        }
        const size_t block = (size_t)(extent + 3) * (size_t)es;
        unsigned char *self_mem = host_alloc(block), *before = malloc(round_up(block)),
                      *self_before = malloc(round_up(block));
        rng_fill(&r, self_mem, round_up(block));
        memcpy(before, self_mem, round_up(block));
        memcpy(self_before, self_mem, round_up(block));
        int64_t n_src = 1;
        for (int k = 0; k < ndim; k++)
            n_src *= src_shape[k];
        unsigned char *src_mem = host_alloc((size_t)n_src * (size_t)es);
        rng_fill(&r, src_mem, (size_t)n_src * (size_t)es);
        int64_t *idx_mem = host_alloc((size_t)src_shape[dim] * 8);
        for (int64_t i = 0; i < src_shape[dim]; i++)
            idx_mem[i] = rng_below(&r, shape[dim]);

        vki_tensor *whole, *self, *source, *index;
        OK(vki_tensor_wrap_host(ctx, self_mem, round_up(block), dtype, 0, NULL, NULL, &whole));
        vki_tensor_destroy(whole); /* a wrap of the block, gone again: the memory stays */
        OK(vki_tensor_wrap_host(ctx, self_mem, round_up(block), dtype, ndim, shape, strides, &whole));
        OK(vki_tensor_view(whole, ndim, shape, strides, 3, &self));
        vki_tensor_destroy(whole); /* the view keeps the storage */
        OK(vki_tensor_wrap_host(ctx, src_mem, round_up((size_t)n_src * (size_t)es), dtype, ndim,
                                src_shape, NULL, &source));
        const int64_t n_idx = src_shape[dim];
        OK(vki_tensor_wrap_host(ctx, idx_mem, round_up((size_t)n_idx * 8), VKI_INT64, 1, &n_idx,
                                NULL, &index));
        OK(vki_index_copy_(self, dim, index, source));

        ref_view out = {.storage = before, .ndim = ndim, .offset = 3};
        memcpy(out.shape, shape, sizeof shape);
        memcpy(out.strides, strides, sizeof strides);
        ref_view src = {.storage = src_mem, .ndim = ndim};
        memcpy(src.shape, src_shape, sizeof src_shape);
        int64_t contiguous = 1;
        for (int k = ndim - 1; k >= 0; k--) {
            src.strides[k] = contiguous;
            contiguous *= src_shape[k];
        }
        ref_view idx = {.storage = (unsigned char *)idx_mem, .ndim = 1, .shape = {n_idx}, .strides = {1}};
        ref_view self_ref = out;
        self_ref.storage = self_before;
        ref_index_copy(&out, &self_ref, dim, &idx, 8, &src, es);
        for (size_t b = 0; b < round_up(block); b++)
            if (self_mem[b] != before[b])
                fail_msg("round %d (seed %llu): byte %zu of the wrapped block is 0x%02x, expected "
                         "0x%02x", round, (unsigned long long)seed, b, self_mem[b], before[b]);
        vki_tensor_destroy(index);
        vki_tensor_destroy(source);
        vki_tensor_destroy(self);
        free(idx_mem); /* vkindex never frees them: a double free would fail under ASan */
        free(src_mem);
        free(self_mem);
        free(before);
        free(self_before);
    }
}

/* What the application writes between calls is what the next call reads, and what a call
 * wrote is in the memory when it returns; a download of a wrapped tensor reads it too. */
static void application_sees_the_calls(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    require_host_memory(ctx);
    float *self_mem = host_alloc(4 * sizeof(float)), *src_mem = host_alloc(sizeof(float));
    int32_t *idx_mem = host_alloc(sizeof(int32_t));
    const int64_t four = 4, one = 1;
    vki_tensor *self, *source, *index;
    OK(vki_tensor_wrap_host(ctx, self_mem, HOST_ALIGN, VKI_FLOAT32, 1, &four, NULL, &self));
    OK(vki_tensor_wrap_host(ctx, src_mem, HOST_ALIGN, VKI_FLOAT32, 1, &one, NULL, &source));
    OK(vki_tensor_wrap_host(ctx, idx_mem, HOST_ALIGN, VKI_INT32, 1, &one, NULL, &index));
    for (int call = 0; call < 4; call++) {
        for (int k = 0; k < 4; k++)
            self_mem[k] = (float)(-k - 10 * call);
        src_mem[0] = (float)(100 + call);
        idx_mem[0] = call;
        OK(vki_index_copy_(self, 0, index, source));
        for (int k = 0; k < 4; k++)
            assert_true(self_mem[k] == (k == call ? (float)(100 + call) : (float)(-k - 10 * call)));
        float got[4];
        OK(vki_tensor_download(self, got, sizeof got));
        assert_memory_equal(got, self_mem, sizeof got);
    }
    /* An upload writes the application's memory too. */
    const float fresh[4] = {1, 2, 3, 4};
    OK(vki_tensor_upload(self, fresh, sizeof fresh));
    assert_memory_equal(self_mem, fresh, sizeof fresh);
    /* A bad index writes nothing, there as anywhere. */
    idx_mem[0] = 4;
    expect_message(vki_index_copy_(self, 0, index, source), VKI_ERROR_INDEX,
                   "index_copy_(): index 4 is out of bounds for dimension 0 with size 4");
    assert_memory_equal(self_mem, fresh, sizeof fresh);
    vki_tensor_destroy(index);
    vki_tensor_destroy(source);
    vki_tensor_destroy(self);
    free(idx_mem);
    free(src_mem);
    free(self_mem);
}

/* The front door's refusals, word for word. */
static void refusals(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    char *mem = host_alloc(HOST_ALIGN), want[512];
    const int64_t four = 4;
    vki_tensor *t = NULL;
    expect_message(vki_tensor_wrap_host(NULL, mem, HOST_ALIGN, VKI_FLOAT32, 1, &four, NULL, &t),
                   VKI_ERROR_INVALID_ARGUMENT, "vki_tensor_wrap_host: ctx is NULL");
    expect_message(vki_tensor_wrap_host(ctx, mem, HOST_ALIGN, VKI_FLOAT32, 1, &four, NULL, NULL),
                   VKI_ERROR_INVALID_ARGUMENT, "vki_tensor_wrap_host: out is NULL");
    expect_message(vki_tensor_wrap_host(ctx, mem, HOST_ALIGN, (vki_dtype)99, 1, &four, NULL, &t),
                   VKI_ERROR_INVALID_ARGUMENT, "vki_tensor_wrap_host: dtype 99 is not a vki_dtype value");
    expect_message(vki_tensor_wrap_host(ctx, NULL, 16, VKI_FLOAT32, 1, &four, NULL, &t),
                   VKI_ERROR_INVALID_ARGUMENT, "vki_tensor_wrap_host: data is NULL");
    snprintf(want, sizeof want,
             "vki_tensor_wrap_host: data (%p) is not aligned to the 8 bytes of an element of Double",
             (void *)(mem + 4));
    expect_message(vki_tensor_wrap_host(ctx, mem + 4, 64, VKI_FLOAT64, 1, &four, NULL, &t),
                   VKI_ERROR_INVALID_ARGUMENT, want);
    assert_null(t);
    /* An empty tensor needs no memory. */
    const int64_t none = 0;
    OK(vki_tensor_wrap_host(ctx, NULL, 0, VKI_FLOAT32, 1, &none, NULL, &t));
    assert_int_equal(vki_tensor_numel(t), 0);
    vki_tensor_destroy(t);
    free(mem);
}

/* The view must lie inside the memory (checked once the memory is wrapped). */
static void view_must_fit(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    require_host_memory(ctx);
    char *mem = host_alloc(HOST_ALIGN);
    const int64_t big = HOST_ALIGN / 4 + 1;
    vki_tensor *t = NULL;
    expect_message(vki_tensor_wrap_host(ctx, mem, HOST_ALIGN, VKI_FLOAT32, 1, &big, NULL, &t),
                   VKI_ERROR_INVALID_ARGUMENT,
                   "vki_tensor_wrap_host: the view reaches outside its storage (storage of 65536 "
                   "bytes, view of shape 1-d with offset 0 needs more bytes)");
    assert_null(t);
    free(mem);
}

/* A Vulkan context imports only memory aligned as the device says; the message names the
 * alignment (read back from it, then the whole message compared). */
static void vulkan_alignment(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    if (vki_context_backend(ctx) != VKI_BACKEND_VULKAN)
        skip();
    char *mem = host_alloc(2 * HOST_ALIGN), want[512];
    const int64_t four = 4;
    vki_tensor *t = NULL;
    vki_status st = vki_tensor_wrap_host(ctx, mem + 64, 4096, VKI_FLOAT32, 1, &four, NULL, &t);
    if (st == VKI_ERROR_UNSUPPORTED)
        skip(); /* a device without the extension: see no_extension */
    unsigned long long align = 0;
    const char *at = strstr(vki_last_error(), "multiples of ");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "multiples of %llu", &align), 1);
    snprintf(want, sizeof want,
             "vki_tensor_wrap_host: host memory at %p of 4096 bytes cannot be imported: this "
             "device imports host memory whose address and size are positive multiples of %llu "
             "bytes (minImportedHostPointerAlignment)", (void *)(mem + 64), align);
    expect_message(st, VKI_ERROR_INVALID_ARGUMENT, want);
    snprintf(want, sizeof want,
             "vki_tensor_wrap_host: host memory at %p of %llu bytes cannot be imported: this "
             "device imports host memory whose address and size are positive multiples of %llu "
             "bytes (minImportedHostPointerAlignment)", (void *)mem, align + 16, align);
    expect_message(vki_tensor_wrap_host(ctx, mem, align + 16, VKI_FLOAT32, 1, &four, NULL, &t),
                   VKI_ERROR_INVALID_ARGUMENT, want);
    assert_null(t);
    free(mem);
}

/* A device without VK_EXT_external_memory_host (forced) refuses, saying why; everything else
 * on it works as before. */
static void no_extension(void **state)
{
    (void)state;
    if (vki_context_backend(test_context()) != VKI_BACKEND_VULKAN)
        skip();
    vki_context *ctx = test_context_with("VKI_VULKAN_DISABLE", "host_memory");
    char *mem = host_alloc(HOST_ALIGN), want[512];
    const int64_t four = 4;
    vki_tensor *t = NULL;
    snprintf(want, sizeof want,
             "vki_tensor_wrap_host: Vulkan device %s does not have VK_EXT_external_memory_host, "
             "which a Vulkan context needs to use host memory in place: make the tensor with "
             "vki_tensor_create and upload to it instead, or use a CPU context",
             vki_context_device_name(ctx));
    expect_message(vki_tensor_wrap_host(ctx, mem, HOST_ALIGN, VKI_FLOAT32, 1, &four, NULL, &t),
                   VKI_ERROR_UNSUPPORTED, want);
    assert_null(t);
    OK(vki_tensor_create(ctx, VKI_FLOAT32, 1, &four, &t));
    vki_tensor_destroy(t);
    vki_context_destroy(ctx);
    free(mem);
}

/* The wrapped storage outlives the context handle and goes with its last view; a batch keeps
 * what its queued calls use. */
static void lifetimes(void **state)
{
    (void)state;
    vki_context *ctx = test_context_with("VKI_THREADS", "1");
    require_host_memory(ctx);
    float *self_mem = host_alloc(8 * sizeof(float)), *src_mem = host_alloc(2 * sizeof(float));
    int64_t *idx_mem = host_alloc(2 * sizeof(int64_t));
    const int64_t eight = 8, two = 2;
    for (int k = 0; k < 8; k++)
        self_mem[k] = 0;
    src_mem[0] = 5;
    src_mem[1] = 6;
    idx_mem[0] = 7;
    idx_mem[1] = 1;
    vki_tensor *self, *source, *index;
    OK(vki_tensor_wrap_host(ctx, self_mem, HOST_ALIGN, VKI_FLOAT32, 1, &eight, NULL, &self));
    OK(vki_tensor_wrap_host(ctx, src_mem, HOST_ALIGN, VKI_FLOAT32, 1, &two, NULL, &source));
    OK(vki_tensor_wrap_host(ctx, idx_mem, HOST_ALIGN, VKI_INT64, 1, &two, NULL, &index));
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(self, 0, index, source));
    vki_tensor_destroy(source); /* queued: the batch keeps the storage */
    vki_tensor_destroy(index);
    OK(vki_batch_end(ctx));
    assert_true(self_mem[7] == 5 && self_mem[1] == 6 && self_mem[0] == 0);
    vki_context_destroy(ctx); /* the tensor keeps the context alive */
    float got[8];
    OK(vki_tensor_download(self, got, sizeof got));
    assert_memory_equal(got, self_mem, sizeof got);
    vki_tensor_destroy(self);
    free(idx_mem);
    free(src_mem);
    free(self_mem);
}

int main(int argc, char **argv)
{
    seed = test_seed(argc, argv, "test_host");
    (void)test_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_copy_in_place),
        cmocka_unit_test(application_sees_the_calls),
        cmocka_unit_test(refusals),
        cmocka_unit_test(view_must_fit),
        cmocka_unit_test(vulkan_alignment),
        cmocka_unit_test(no_extension),
        cmocka_unit_test(lifetimes),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
