/*
 * What stresses a backend beyond the differential cases: a self larger than lavapipe's
 * 128 MiB maxStorageBufferRange (bound in windows on the GPU), calls large enough for the CPU
 * backend's non-temporal stores, 1- and 2-byte elements
 * scattered along the last dim so that neighbours in one 32-bit word are written by different
 * invocations, repeated; and the choice of device (Vulkan suites only).
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t seed;

/* host expectation of a 2-d index_copy_ (row-major, contiguous), last occurrence winning */
static void expect_2d(unsigned char *self, const unsigned char *src, const int64_t *idx,
                      int64_t n, int64_t rows, int64_t cols, int dim, size_t es)
{
    for (int64_t i = 0; i < n; i++) {
        if (dim == 0)
            memcpy(self + (size_t)(idx[i] * cols) * es, src + (size_t)(i * cols) * es,
                   (size_t)cols * es);
        else
            for (int64_t r = 0; r < rows; r++)
                memcpy(self + (size_t)(r * cols + idx[i]) * es, src + (size_t)(r * n + i) * es, es);
    }
}

static void run_2d(vki_dtype dtype, int64_t rows, int64_t cols, int dim, int64_t n,
                   bool all_slots, test_rng *r)
{
    vki_context *ctx = test_context();
    const size_t es = vki_dtype_size(dtype);
    const int64_t self_shape[2] = {rows, cols};
    const int64_t src_shape[2] = {dim == 0 ? n : rows, dim == 0 ? cols : n};
    const int64_t dim_size = self_shape[dim];
    const size_t self_bytes = (size_t)(rows * cols) * es, src_bytes = (size_t)(src_shape[0] * src_shape[1]) * es;
    unsigned char *self_host = malloc(self_bytes), *expected = malloc(self_bytes),
                  *got = malloc(self_bytes), *src_host = malloc(src_bytes);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    rng_fill(r, self_host, self_bytes);
    rng_fill(r, src_host, src_bytes);
    for (int64_t i = 0; i < n; i++) /* every slot once (in random order), then repeats */
        idx[i] = all_slots && i < dim_size ? i : rng_below(r, dim_size);
    for (int64_t i = (all_slots ? dim_size : n) - 1; i > 0; i--) {
        int64_t j = rng_below(r, i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    memcpy(expected, self_host, self_bytes);
    expect_2d(expected, src_host, idx, n, rows, cols, dim, es);
    vki_tensor *self = make_tensor(ctx, dtype, 2, self_shape, self_host);
    vki_tensor *src = make_tensor(ctx, dtype, 2, src_shape, src_host);
    vki_tensor *index = make_tensor(ctx, VKI_INT64, 1, &n, idx);
    OK(vki_index_copy_(self, dim, index, src));
    OK(vki_tensor_download(self, got, self_bytes));
    for (size_t b = 0; b < self_bytes; b++)
        if (got[b] != expected[b])
            fail_msg("%s [%lld, %lld] dim %d n %lld: byte %zu differs (got 0x%02x, expected "
                     "0x%02x)", vki_dtype_name(dtype), (long long)rows, (long long)cols, dim,
                     (long long)n, b, got[b], expected[b]);
    vki_tensor_destroy(self);
    vki_tensor_destroy(src);
    vki_tensor_destroy(index);
    free(self_host);
    free(expected);
    free(got);
    free(src_host);
    free(idx);
}

/* self of 150 MiB: rows (scatter of whole rows) and columns (gather), with duplicates. */
static void larger_than_128mib(void **state)
{
    (void)state;
    test_rng r = {seed};
    run_2d(VKI_FLOAT32, 153600, 256, 0, 3000, false, &r);
    run_2d(VKI_UINT8, 38400, 4096, 1, 2500, false, &r);
}

/* Calls writing 8 MiB or more in slices of 256 bytes or more: the CPU backend writes them
 * with non-temporal stores. Slices of whole lines, and of 260 bytes (rows start anywhere in a
 * line); repeated indices, and none. */
static void streamed_rows(void **state)
{
    (void)state;
    test_rng r = {seed ^ 0x5EED5ull};
    run_2d(VKI_FLOAT32, 40000, 64, 0, 36000, false, &r);
    run_2d(VKI_FLOAT16, 40000, 130, 0, 33000, false, &r);
    /* no value twice: the CPU backend's parts then take ranges of positions, also when there
     * are a few outer slices */
    run_2d(VKI_FLOAT32, 36000, 64, 0, 36000, true, &r); /* every slot once */
    run_2d(VKI_FLOAT32, 2, 300000, 1, 300000, true, &r);
}

/* A destination dim of size 0 with slices: every index is out of range, with few indices
 * (checked in the copy kernel on Vulkan) and with many (a check pass), in place and out of
 * place, alone and in a batch; nothing is written. */
static void empty_dim_every_index_is_bad(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    const int64_t self_shape[2] = {0, 5};
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 2, self_shape, NULL);
    const int64_t counts[2] = {8, 40};
    for (int c = 0; c < 2; c++) {
        const int64_t n = counts[c], src_shape[2] = {n, 5};
        int64_t idx[40] = {0};
        float src_host[40 * 5] = {0};
        vki_tensor *index = make_tensor(ctx, VKI_INT64, 1, &n, idx);
        vki_tensor *src = make_tensor(ctx, VKI_FLOAT32, 2, src_shape, src_host);
        const char *want = "index_copy_(): index 0 is out of bounds for dimension 0 with size 0";
        assert_int_equal(vki_index_copy_(self, 0, index, src), VKI_ERROR_INDEX);
        assert_string_equal(vki_last_error(), want);
        vki_tensor *out = make_tensor(ctx, VKI_FLOAT32, 2, self_shape, NULL);
        assert_int_equal(vki_index_copy(out, self, 0, index, src), VKI_ERROR_INDEX);
        assert_string_equal(vki_last_error(), want);
        vki_tensor_destroy(out);
        OK(vki_batch_begin(ctx));
        OK(vki_index_copy_(self, 0, index, src));
        assert_int_equal(vki_batch_end(ctx), VKI_ERROR_INDEX);
        assert_string_equal(vki_last_error(), "vki_batch_end: call 0 of the batch: index_copy_(): "
                                              "index 0 is out of bounds for dimension 0 with size 0");
        vki_tensor_destroy(index);
        vki_tensor_destroy(src);
    }
    vki_tensor_destroy(self);
}

/* A call whose winner map is large enough for the scratch buffer to be given back after it,
 * then launches that use no scratch (a call with few indices, the copy kernel of a strided
 * download): they must not bind a buffer that is gone (the validation layer watches the
 * Vulkan suites). */
static void calls_after_a_large_winner_map(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    const int64_t big = 20000000, n = 40, one = 1, src_shape[1] = {n};
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 1, &big, NULL);
    int64_t idx[40];
    float src_host[40];
    for (int i = 0; i < n; i++) {
        idx[i] = (int64_t)i * 499999;
        src_host[i] = (float)i;
    }
    vki_tensor *index = make_tensor(ctx, VKI_INT64, 1, &n, idx);
    vki_tensor *src = make_tensor(ctx, VKI_FLOAT32, 1, src_shape, src_host);
    /* A device whose allocations cannot hold the 80 MB map refuses the call (the
     * vulkan-fallback suites cap them at 64 MiB); the calls after it must work all the same. */
    const vki_status big_call = vki_index_copy_(self, 0, index, src);
    if (big_call != VKI_ERROR_OUT_OF_DEVICE_MEMORY)
        OK(big_call);
    vki_tensor *index1 = make_tensor(ctx, VKI_INT64, 1, &one, idx + 3);
    vki_tensor *src1 = make_tensor(ctx, VKI_FLOAT32, 1, &one, (float[]){-7.0f});
    OK(vki_index_copy_(self, 0, index1, src1));
    float got;
    vki_tensor *at;
    OK(vki_tensor_view(self, 1, &one, NULL, idx[3], &at));
    OK(vki_tensor_download(at, &got, sizeof got));
    assert_true(got == -7.0f);
    vki_tensor *strided; /* downloaded through the copy kernel */
    const int64_t two = 2, stride = 3 * 499999;
    OK(vki_tensor_view(self, 1, &two, &stride, 0, &strided));
    float pair[2];
    OK(vki_tensor_download(strided, pair, sizeof pair));
    assert_true(pair[1] == -7.0f);
    assert_true(big_call != VKI_OK || pair[0] == 0.0f);
    vki_tensor_destroy(strided);
    vki_tensor_destroy(at);
    vki_tensor_destroy(index1);
    vki_tensor_destroy(src1);
    vki_tensor_destroy(index);
    vki_tensor_destroy(src);
    vki_tensor_destroy(self);
}

/* 1- and 2-byte elements along the last dim: neighbours in one word written by different
 * invocations, as a gather (every slot written) and as a scatter (few slots), 25 times. */
static void subword_neighbours(void **state)
{
    (void)state;
    test_rng r = {seed ^ 0xABCDEFull};
    const vki_dtype types[] = {VKI_UINT8, VKI_FLOAT16, VKI_BOOL, VKI_BFLOAT16};
    for (int rep = 0; rep < 25; rep++) {
        vki_dtype t = types[rep % 4];
        run_2d(t, 33, 517, 1, 517 + rng_below(&r, 300), true, &r); /* gather: all slots */
        run_2d(t, 29, 1031, 1, 1 + rng_below(&r, 200), false, &r); /* scatter: a few */
        run_2d(t, 301, 7, 0, 1 + rng_below(&r, 600), false, &r);   /* odd rows, dim 0 */
    }
}

static bool under_vulkan(void)
{
    return vki_context_backend(test_context()) == VKI_BACKEND_VULKAN;
}

static void device_choice(void **state)
{
    (void)state;
    if (!under_vulkan())
        skip();
    const char *name = vki_context_device_name(test_context());
    vki_context *ctx = NULL;
    vki_context_options o = {.backend = VKI_BACKEND_VULKAN, .device = "no-such-gpu"};
    assert_int_equal(vki_context_create(&o, &ctx), VKI_ERROR_NO_DEVICE);
    const char *msg = vki_last_error();
    if (!strstr(msg, "no Vulkan device matches \"no-such-gpu\"; devices seen: 0: "))
        fail_msg("unexpected message: %s", msg);
    assert_non_null(strstr(msg, name)); /* the list names the devices seen */
    assert_null(ctx);

    /* A case-insensitive part of the name picks the same device. */
    char upper[64] = {0};
    for (int i = 0; i < 8 && name[i]; i++)
        upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    o.device = upper;
    OK(vki_context_create(&o, &ctx));
    assert_string_equal(vki_context_device_name(ctx), name);
    vki_context_destroy(ctx);

    /* AUTO never picks a software device by itself. */
    o = (vki_context_options){.backend = VKI_BACKEND_AUTO};
    char *saved_device = test_env_save("VKI_DEVICE");
    char *saved_backend = test_env_save("VKI_BACKEND");
    unsetenv("VKI_DEVICE");
    unsetenv("VKI_BACKEND");
    OK(vki_context_create(&o, &ctx));
    const char *picked = vki_context_device_name(ctx);
    assert_null(strstr(picked, "llvmpipe"));
    assert_null(strstr(picked, "SwiftShader"));
    vki_context_destroy(ctx);
    test_env_restore("VKI_DEVICE", saved_device);
    test_env_restore("VKI_BACKEND", saved_backend);
}

int main(int argc, char **argv)
{
    seed = test_seed(argc, argv, "test_backends");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(larger_than_128mib),
        cmocka_unit_test(streamed_rows),
        cmocka_unit_test(empty_dim_every_index_is_bad),
        cmocka_unit_test(calls_after_a_large_winner_map),
        cmocka_unit_test(subword_neighbours),
        cmocka_unit_test(device_choice),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
