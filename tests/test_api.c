/*
 * The API around index_copy_: bad input gets a status and a message, never a crash; handles
 * and storage lifetimes; upload / download of views; names of statuses and dtypes; options
 * and environment of contexts.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect(vki_status got, vki_status want, const char *needle)
{
    assert_int_equal(got, want);
    if (needle && !strstr(vki_last_error(), needle))
        fail_msg("message \"%s\" does not contain \"%s\"", vki_last_error(), needle);
}

static void null_handles(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    vki_tensor *t = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){4}, NULL), *out = NULL;
    expect(vki_context_create(NULL, NULL), VKI_ERROR_INVALID_ARGUMENT, "out is NULL");
    expect(vki_tensor_create(NULL, VKI_FLOAT32, 1, (int64_t[]){4}, &out),
           VKI_ERROR_INVALID_ARGUMENT, "ctx is NULL");
    expect(vki_tensor_create(ctx, VKI_FLOAT32, 1, (int64_t[]){4}, NULL),
           VKI_ERROR_INVALID_ARGUMENT, "out is NULL");
    expect(vki_tensor_create(ctx, VKI_FLOAT32, 1, NULL, &out), VKI_ERROR_INVALID_ARGUMENT,
           "shape is NULL");
    expect(vki_tensor_view(NULL, 1, (int64_t[]){1}, NULL, 0, &out), VKI_ERROR_INVALID_ARGUMENT,
           "base is NULL");
    expect(vki_tensor_upload(NULL, "x", 1), VKI_ERROR_INVALID_ARGUMENT, "tensor is NULL");
    expect(vki_tensor_upload(t, NULL, 16), VKI_ERROR_INVALID_ARGUMENT, "host is NULL");
    expect(vki_tensor_download(t, NULL, 16), VKI_ERROR_INVALID_ARGUMENT, "host is NULL");
    expect(vki_index_copy_(NULL, 0, t, t), VKI_ERROR_INVALID_ARGUMENT, "self is NULL");
    expect(vki_index_copy_(t, 0, NULL, t), VKI_ERROR_INVALID_ARGUMENT, "index is NULL");
    expect(vki_index_copy_(t, 0, t, NULL), VKI_ERROR_INVALID_ARGUMENT, "source is NULL");
    expect(vki_index_copy(NULL, t, 0, t, t), VKI_ERROR_INVALID_ARGUMENT, "out is NULL");
    expect(vki_index_copy(t, NULL, 0, t, t), VKI_ERROR_INVALID_ARGUMENT, "self is NULL");
    assert_null(out);
    /* NULL is fine for destroy, and the getters say something sensible. */
    vki_tensor_destroy(NULL);
    vki_context_destroy(NULL);
    assert_int_equal(vki_context_backend(NULL), VKI_BACKEND_AUTO);
    assert_string_equal(vki_context_device_name(NULL), "");
    assert_int_equal(vki_tensor_numel(NULL), 0);
    vki_tensor_destroy(t);
}

static void bad_shapes(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    vki_tensor *out = NULL;
    int64_t shape[VKI_MAX_DIMS + 1];
    for (int k = 0; k <= VKI_MAX_DIMS; k++)
        shape[k] = 1;
    expect(vki_tensor_create(ctx, VKI_FLOAT32, -1, shape, &out), VKI_ERROR_INVALID_ARGUMENT,
           "ndim must be in [0, 16] (got -1)");
    expect(vki_tensor_create(ctx, VKI_FLOAT32, VKI_MAX_DIMS + 1, shape, &out),
           VKI_ERROR_INVALID_ARGUMENT, "ndim must be in [0, 16] (got 17)");
    expect(vki_tensor_create(ctx, VKI_FLOAT32, 2, (int64_t[]){3, -2}, &out),
           VKI_ERROR_INVALID_ARGUMENT, "size -2 of dimension 1 is negative");
    expect(vki_tensor_create(ctx, (vki_dtype)99, 1, shape, &out), VKI_ERROR_INVALID_ARGUMENT,
           "dtype 99 is not a vki_dtype value");
    /* Byte counts that overflow 64 bits. */
    expect(vki_tensor_create(ctx, VKI_FLOAT64, 2, (int64_t[]){INT64_MAX / 4, 4}, &out),
           VKI_ERROR_INVALID_ARGUMENT, "does not fit in 64 bits");
    expect(vki_tensor_create(ctx, VKI_COMPLEX128, 1, (int64_t[]){INT64_MAX / 8}, &out),
           VKI_ERROR_INVALID_ARGUMENT, "does not fit in 64 bits");
    expect(vki_tensor_create(ctx, VKI_UINT8, 3, (int64_t[]){1 << 30, 1 << 30, 1 << 30}, &out),
           VKI_ERROR_INVALID_ARGUMENT, "does not fit in 64 bits");
    assert_null(out);
    /* Up to VKI_MAX_DIMS dims is fine, and so is a 0-size dim. */
    OK(vki_tensor_create(ctx, VKI_FLOAT32, VKI_MAX_DIMS, shape, &out));
    vki_tensor_destroy(out);
    OK(vki_tensor_create(ctx, VKI_FLOAT32, 3, (int64_t[]){2, 0, 3}, &out));
    assert_int_equal(vki_tensor_numel(out), 0);
    assert_int_equal(vki_tensor_strides(out)[0], 3); /* a size-0 dim counts as 1 */
    assert_int_equal(vki_tensor_strides(out)[1], 3);
    OK(vki_tensor_upload(out, NULL, 0));
    vki_tensor_destroy(out);
}

static void views(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    float host[12];
    for (int i = 0; i < 12; i++)
        host[i] = (float)i;
    vki_tensor *base = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){12}, host), *v = NULL;
    expect(vki_tensor_view(base, 1, (int64_t[]){13}, NULL, 0, &v), VKI_ERROR_INVALID_ARGUMENT,
           "reaches outside its storage");
    expect(vki_tensor_view(base, 2, (int64_t[]){3, 4}, (int64_t[]){4, 1}, 1, &v),
           VKI_ERROR_INVALID_ARGUMENT, "reaches outside its storage");
    expect(vki_tensor_view(base, 1, (int64_t[]){2}, (int64_t[]){-1}, 5, &v),
           VKI_ERROR_INVALID_ARGUMENT, "stride -1 of dimension 0 is negative");
    expect(vki_tensor_view(base, 1, (int64_t[]){2}, (int64_t[]){1}, -1, &v),
           VKI_ERROR_INVALID_ARGUMENT, "offset -1 is negative");
    expect(vki_tensor_view(base, 1, (int64_t[]){2}, (int64_t[]){INT64_MAX}, 0, &v),
           VKI_ERROR_INVALID_ARGUMENT, "reaches outside its storage");
    expect(vki_tensor_view(base, 2, (int64_t[]){INT64_MAX, 4}, (int64_t[]){0, 0}, 0, &v),
           VKI_ERROR_INVALID_ARGUMENT, "does not fit in 64 bits");
    assert_null(v);
    /* An empty view may start anywhere; a zero-stride view repeats elements. */
    OK(vki_tensor_view(base, 1, (int64_t[]){0}, (int64_t[]){1}, 100, &v));
    vki_tensor_destroy(v);
    OK(vki_tensor_view(base, 2, (int64_t[]){2, 3}, (int64_t[]){0, 2}, 1, &v));
    float got[6];
    OK(vki_tensor_download(v, got, sizeof got));
    const float want[6] = {1, 3, 5, 1, 3, 5};
    assert_memory_equal(got, want, sizeof got);
    vki_tensor_destroy(v);

    /* A transposed view: upload writes only its elements, in logical order. */
    vki_tensor *tr;
    OK(vki_tensor_view(base, 2, (int64_t[]){2, 3}, (int64_t[]){1, 4}, 0, &tr));
    const float vals[6] = {-1, -2, -3, -4, -5, -6};
    OK(vki_tensor_upload(tr, vals, sizeof vals));
    float all[12];
    OK(vki_tensor_download(base, all, sizeof all));
    const float expect_all[12] = {-1, -4, 2, 3, -2, -5, 6, 7, -3, -6, 10, 11};
    assert_memory_equal(all, expect_all, sizeof all);
    assert_int_equal(vki_tensor_ndim(tr), 2);
    assert_int_equal(vki_tensor_shape(tr)[1], 3);
    assert_int_equal(vki_tensor_strides(tr)[1], 4);
    assert_int_equal(vki_tensor_offset(tr), 0);
    assert_int_equal(vki_tensor_dtype(tr), VKI_FLOAT32);

    /* Destroying the base first is safe: the view keeps the storage. */
    vki_tensor_destroy(base);
    OK(vki_tensor_download(tr, got, sizeof got));
    assert_memory_equal(got, vals, sizeof got);
    vki_tensor_destroy(tr);
}

static void byte_counts(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    vki_tensor *t = make_tensor(ctx, VKI_INT16, 2, (int64_t[]){2, 3}, NULL);
    char buf[64] = {0};
    expect(vki_tensor_upload(t, buf, 11), VKI_ERROR_INVALID_ARGUMENT,
           "bytes is 11 but the tensor holds 12 bytes (6 elements of 2 bytes)");
    expect(vki_tensor_download(t, buf, 13), VKI_ERROR_INVALID_ARGUMENT,
           "bytes is 13 but the tensor holds 12 bytes");
    OK(vki_tensor_upload(t, buf, 12));
    vki_tensor_destroy(t);
}

/* The library reports the version of the headers it was built from, in the encoding the
 * header states, and both are the meson project's version (VKI_TEST_PROJECT_VERSION, from
 * tests/meson.build). vkindex.pc and the CMake package are checked by the consumers suite. */
static void version(void **state)
{
    (void)state;
    assert_int_equal(vki_version(), VKI_VERSION);
    assert_int_equal(VKI_VERSION, VKI_VERSION_MAJOR * 1000000 + VKI_VERSION_MINOR * 1000 +
                                      VKI_VERSION_PATCH);
    char text[32];
    snprintf(text, sizeof text, "%d.%d.%d", VKI_VERSION_MAJOR, VKI_VERSION_MINOR, VKI_VERSION_PATCH);
    assert_string_equal(text, VKI_VERSION_STRING);
    assert_string_equal(VKI_VERSION_STRING, VKI_TEST_PROJECT_VERSION);
}

static void names(void **state)
{
    (void)state;
    static const char *dtype_names[VKI_DTYPE_COUNT] = {
        "Bool", "Byte", "Char", "Short", "UInt16", "Int", "UInt32", "Long", "UInt64", "Half",
        "BFloat16", "Float", "Double", "ComplexHalf", "ComplexFloat", "ComplexDouble",
        "Float8_e4m3fn", "Float8_e5m2"};
    static const size_t sizes[VKI_DTYPE_COUNT] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8, 4, 8,
                                                  16, 1, 1};
    for (int d = 0; d < VKI_DTYPE_COUNT; d++) {
        assert_string_equal(vki_dtype_name((vki_dtype)d), dtype_names[d]);
        assert_int_equal(vki_dtype_size((vki_dtype)d), sizes[d]);
    }
    assert_string_equal(vki_dtype_name((vki_dtype)VKI_DTYPE_COUNT), "Unknown");
    assert_int_equal(vki_dtype_size((vki_dtype)-1), 0);
    assert_string_equal(vki_status_string(VKI_OK), "VKI_OK");
    assert_string_equal(vki_status_string(VKI_ERROR_INDEX), "VKI_ERROR_INDEX");
    assert_string_equal(vki_status_string(VKI_ERROR_NO_DEVICE), "VKI_ERROR_NO_DEVICE");
    assert_string_equal(vki_status_string(VKI_ERROR_VULKAN), "VKI_ERROR_VULKAN");
    assert_string_equal(vki_status_string((vki_status)42), "VKI_ERROR_UNKNOWN");
    /* The enum values are part of the ABI. */
    assert_int_equal(VKI_ERROR_INVALID_ARGUMENT, -1);
    assert_int_equal(VKI_ERROR_VULKAN, -8);
    assert_int_equal(VKI_FLOAT8_E5M2, 17);
    assert_int_equal(VKI_BACKEND_VULKAN, 2);
}

static void context_options(void **state)
{
    (void)state;
    vki_context *ctx = NULL;
    vki_context_options o = {.backend = VKI_BACKEND_CPU, .threads = 2};
    OK(vki_context_create(&o, &ctx));
    assert_int_equal(vki_context_backend(ctx), VKI_BACKEND_CPU);
    assert_string_equal(vki_context_device_name(ctx), "cpu");
    /* The context lives on while a tensor holds it. */
    vki_tensor *t = make_tensor(ctx, VKI_INT32, 1, (int64_t[]){3}, (int32_t[]){1, 2, 3});
    vki_context_destroy(ctx);
    int32_t back[3];
    OK(vki_tensor_download(t, back, sizeof back));
    assert_int_equal(back[2], 3);
    vki_tensor_destroy(t);

    o = (vki_context_options){.backend = (vki_backend)7};
    ctx = NULL;
    expect(vki_context_create(&o, &ctx), VKI_ERROR_INVALID_ARGUMENT, "not a vki_backend value");
    o = (vki_context_options){.backend = VKI_BACKEND_CPU, .threads = -1};
    expect(vki_context_create(&o, &ctx), VKI_ERROR_INVALID_ARGUMENT, "threads must be >= 0");
    assert_null(ctx);

    /* Environment: read only when the option is left at zero. */
    char *saved = test_env_save("VKI_BACKEND");
    setenv("VKI_BACKEND", "quantum", 1);
    expect(vki_context_create(NULL, &ctx), VKI_ERROR_INVALID_ARGUMENT,
           "VKI_BACKEND=quantum is not one of auto, cpu, vulkan");
    o = (vki_context_options){.backend = VKI_BACKEND_CPU};
    OK(vki_context_create(&o, &ctx)); /* the explicit option wins */
    vki_context_destroy(ctx);
    setenv("VKI_BACKEND", "CPU", 1);
    OK(vki_context_create(NULL, &ctx));
    assert_int_equal(vki_context_backend(ctx), VKI_BACKEND_CPU);
    vki_context_destroy(ctx);
    setenv("VKI_THREADS", "0", 1);
    expect(vki_context_create(NULL, &ctx), VKI_ERROR_INVALID_ARGUMENT,
           "VKI_THREADS=0 is not a thread count");
    unsetenv("VKI_THREADS");
    test_env_restore("VKI_BACKEND", saved);
}

/* The same large scatter gives the same bytes with 1, 2, 3 and 7 CPU workers, duplicates
 * included, whichever way the work is split (outer slices, index positions, within slices). */
static void thread_counts_agree(void **state)
{
    (void)state;
    static const struct { int ndim; int64_t shape[3]; int dim; int64_t n; } cases[] = {
        {2, {4096, 64}, 0, 8192},   /* one outer slice: split over index positions */
        {2, {64, 4096}, 1, 8192},   /* many outer slices, element scatter          */
        {2, {4, 300000}, 0, 3},     /* few huge slices: split within slices        */
        {3, {3, 512, 40}, 1, 700},  /* few outer slices                            */
    };
    test_rng r = {12345};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t src_shape[3];
        memcpy(src_shape, cases[c].shape, sizeof src_shape);
        src_shape[cases[c].dim] = cases[c].n;
        int64_t self_n = 1, src_n = 1;
        for (int k = 0; k < cases[c].ndim; k++) {
            self_n *= cases[c].shape[k];
            src_n *= src_shape[k];
        }
        float *self_host = malloc((size_t)self_n * 4), *src_host = malloc((size_t)src_n * 4);
        int64_t *idx = malloc((size_t)cases[c].n * 8);
        rng_fill(&r, self_host, (size_t)self_n * 4);
        rng_fill(&r, src_host, (size_t)src_n * 4);
        for (int64_t i = 0; i < cases[c].n; i++) /* many repeats */
            idx[i] = rng_below(&r, cases[c].shape[cases[c].dim] / 2 + 1);
        float *first = malloc((size_t)self_n * 4), *got = malloc((size_t)self_n * 4);
        const int threads[] = {1, 2, 3, 7};
        for (int t = 0; t < 4; t++) {
            vki_context *ctx;
            vki_context_options o = {.backend = VKI_BACKEND_CPU, .threads = threads[t]};
            OK(vki_context_create(&o, &ctx));
            vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, cases[c].ndim, cases[c].shape,
                                           self_host);
            vki_tensor *src = make_tensor(ctx, VKI_FLOAT32, cases[c].ndim, src_shape, src_host);
            vki_tensor *index = make_tensor(ctx, VKI_INT64, 1, &cases[c].n, idx);
            OK(vki_index_copy_(self, cases[c].dim, index, src));
            OK(vki_tensor_download(self, t ? got : first, (size_t)self_n * 4));
            if (t)
                assert_memory_equal(first, got, (size_t)self_n * 4);
            vki_tensor_destroy(self);
            vki_tensor_destroy(src);
            vki_tensor_destroy(index);
            vki_context_destroy(ctx);
        }
        /* And the result is the last-occurrence one. */
        for (int64_t i = 0; i < cases[c].n; i++) {
            bool last = true;
            for (int64_t j = i + 1; j < cases[c].n && last; j++)
                last = idx[j] != idx[i];
            if (!last || cases[c].ndim != 2)
                continue;
            int64_t rows = cases[c].dim == 0 ? cases[c].shape[1] : cases[c].shape[0];
            for (int64_t e = 0; e < rows; e++) {
                float want = cases[c].dim == 0 ? src_host[i * rows + e]
                                               : src_host[e * cases[c].n + i];
                float have = cases[c].dim == 0 ? first[idx[i] * rows + e]
                                               : first[e * cases[c].shape[1] + idx[i]];
                assert_memory_equal(&want, &have, 4);
            }
        }
        free(self_host);
        free(src_host);
        free(idx);
        free(first);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_handles),
        cmocka_unit_test(bad_shapes),
        cmocka_unit_test(views),
        cmocka_unit_test(byte_counts),
        cmocka_unit_test(names),
        cmocka_unit_test(version),
        cmocka_unit_test(context_options),
        cmocka_unit_test(thread_counts_agree),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
