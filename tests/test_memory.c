/*
 * Device memory under the limits of real devices (SwiftShader allows 4096 live allocations and
 * 1 GiB per allocation and buffer): 100,000 live small tensors; a reached allocation limit is
 * an error that says so and leaves every other tensor intact; tensors larger than one
 * allocation; batches that hold only the memory of what is still queued. Each test makes its
 * own context with lowered limits (VKI_VULKAN_MAX_ALLOCATIONS, VKI_VULKAN_MAX_ALLOCATION), so
 * that the limits are reached in seconds on any device; on the CPU backend the same calls run
 * and must simply work.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t seed;

static bool under_vulkan(void)
{
    return vki_context_backend(test_context()) == VKI_BACKEND_VULKAN;
}

static void expect_bytes(vki_tensor *t, const unsigned char *want, size_t bytes, const char *what)
{
    unsigned char *got = malloc(bytes);
    OK(vki_tensor_download(t, got, bytes));
    for (size_t b = 0; b < bytes; b++)
        if (got[b] != want[b])
            fail_msg("%s: byte %zu of %zu is 0x%02x, expected 0x%02x", what, b, bytes, got[b], want[b]);
    free(got);
}

/* 100,000 live tensors of 1 to 300 elements of every element size, with at most 64 memory
 * allocations on Vulkan: a sample is uploaded, copied between and read back while all are
 * alive, then all are destroyed in random order. */
static void many_live_tensors(void **state)
{
    (void)state;
    enum { COUNT = 100000, EVERY = 97 };
    static const vki_dtype dtypes[] = {VKI_UINT8, VKI_FLOAT16, VKI_FLOAT32, VKI_INT64, VKI_COMPLEX128};
    vki_context *ctx = test_context_with("VKI_VULKAN_MAX_ALLOCATIONS", "64");
    test_rng r = {seed};
    vki_tensor **t = calloc(COUNT, sizeof *t);
    int64_t *len = calloc(COUNT, sizeof *len);
    unsigned char host[300 * 16];
    for (int i = 0; i < COUNT; i++) {
        len[i] = 1 + rng_below(&r, 300);
        vki_status st = vki_tensor_create(ctx, dtypes[i % 5], 1, &len[i], &t[i]);
        if (st != VKI_OK)
            fail_msg("tensor %d of %d: %s: %s", i, COUNT, vki_status_string(st), vki_last_error());
    }
    for (int i = 0; i < COUNT; i += EVERY) {
        memset(host, (unsigned char)(i * 7 + 1), sizeof host);
        OK(vki_tensor_upload(t[i], host, (size_t)len[i] * vki_dtype_size(dtypes[i % 5])));
    }
    /* One index_copy_ among them: element 0 of float tensor a from float tensor b (dtypes go
     * by i % 5; b is one of the uploaded ones, a is not). */
    const int a = 7, b = EVERY;
    float fa[300];
    for (int64_t k = 0; k < len[a]; k++)
        fa[k] = (float)k;
    OK(vki_tensor_upload(t[a], fa, (size_t)len[a] * 4));
    const int64_t one = 1, zero_index = 0;
    vki_tensor *index, *src;
    OK(vki_tensor_create(ctx, VKI_INT64, 1, &one, &index));
    OK(vki_tensor_upload(index, &zero_index, sizeof zero_index));
    OK(vki_tensor_view(t[b], 1, &one, NULL, 0, &src));
    OK(vki_index_copy_(t[a], 0, index, src));
    memset(&fa[0], (unsigned char)(b * 7 + 1), 4);
    expect_bytes(t[a], (const unsigned char *)fa, (size_t)len[a] * 4, "the copied-into tensor");
    vki_tensor_destroy(src);
    vki_tensor_destroy(index);
    for (int i = 0; i < COUNT; i += EVERY) {
        memset(host, (unsigned char)(i * 7 + 1), sizeof host);
        char what[64];
        snprintf(what, sizeof what, "tensor %d", i);
        expect_bytes(t[i], host, (size_t)len[i] * vki_dtype_size(dtypes[i % 5]), what);
    }
    for (int i = COUNT - 1; i > 0; i--) { /* destroyed in random order */
        int j = (int)rng_below(&r, i + 1);
        vki_tensor *x = t[i];
        t[i] = t[j];
        t[j] = x;
    }
    for (int i = 0; i < COUNT; i++)
        vki_tensor_destroy(t[i]);
    free(t);
    free(len);
    vki_context_destroy(ctx);
}

/* With room for 8 allocations, tensors of 8 MiB (each an allocation of its own) run out: the
 * failure says which limit, and every tensor made before it keeps its contents, can be
 * destroyed, and makes room for a new one. */
static void allocation_limit_is_an_error(void **state)
{
    (void)state;
    if (!under_vulkan())
        skip();
    vki_context *ctx = test_context_with("VKI_VULKAN_MAX_ALLOCATIONS", "8");
    enum { MAX = 16 };
    const int64_t n = (int64_t)8 << 20;
    vki_tensor *t[MAX] = {0};
    unsigned char *host = malloc((size_t)n);
    int made = 0;
    vki_status st = VKI_OK;
    while (made < MAX) {
        st = vki_tensor_create(ctx, VKI_UINT8, 1, &n, &t[made]);
        if (st != VKI_OK)
            break;
        memset(host, made + 1, (size_t)n);
        st = vki_tensor_upload(t[made], host, (size_t)n);
        if (st != VKI_OK) /* the staging buffer can be the allocation that fails */
            break;
        made++;
    }
    assert_int_equal(st, VKI_ERROR_OUT_OF_DEVICE_MEMORY);
    assert_true(made >= 1 && made < MAX);
    if (!strstr(vki_last_error(), "limit of 8 live memory allocations (maxMemoryAllocationCount) is reached"))
        fail_msg("the message does not name the limit: %s", vki_last_error());
    if (t[made]) { /* created, but its upload failed */
        vki_tensor_destroy(t[made]);
        t[made] = NULL;
    }
    for (int i = 0; i < made; i++) {
        memset(host, i + 1, (size_t)n);
        expect_bytes(t[i], host, (size_t)n, "a tensor made before the failure");
    }
    for (int i = 0; i < made; i++)
        vki_tensor_destroy(t[i]);
    vki_tensor *again = NULL;
    OK(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &again));
    memset(host, 0x5A, (size_t)n);
    OK(vki_tensor_upload(again, host, (size_t)n));
    expect_bytes(again, host, (size_t)n, "a tensor made after the others were destroyed");
    vki_tensor_destroy(again);
    free(host);
    vki_context_destroy(ctx);
}

/* With allocations of at most 2 MiB, tensors of several MiB are stored in chunks of 1 MiB:
 * whole-row scatters, column gathers of bytes and strided transfers that cross chunk
 * boundaries, and sizes just under and over one allocation. */
static void larger_than_one_allocation(void **state)
{
    (void)state;
    vki_context *ctx = test_context_with("VKI_VULKAN_MAX_ALLOCATION", "2097152");
    test_rng r = {seed ^ 0x51};
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: float32 [rows, 100] dim 0; pass 1: uint8 [1000, cols] dim 1 */
        const vki_dtype dtype = pass == 0 ? VKI_FLOAT32 : VKI_UINT8;
        const int64_t shape[2] = {pass == 0 ? 13107 : 1000, pass == 0 ? 100 : 5243};
        const int dim = pass;
        const int64_t n = 700, dim_size = shape[dim];
        const int64_t src_shape[2] = {dim == 0 ? n : shape[0], dim == 0 ? shape[1] : n};
        const size_t es = vki_dtype_size(dtype);
        const size_t bytes = (size_t)(shape[0] * shape[1]) * es;
        const size_t src_bytes = (size_t)(src_shape[0] * src_shape[1]) * es;
        unsigned char *self_host = malloc(bytes), *want = malloc(bytes), *src_host = malloc(src_bytes);
        int64_t idx[700];
        rng_fill(&r, self_host, bytes);
        rng_fill(&r, src_host, src_bytes);
        for (int64_t i = 0; i < n; i++)
            idx[i] = rng_below(&r, dim_size); /* with repeats: the last occurrence wins */
        memcpy(want, self_host, bytes);
        for (int64_t i = 0; i < n; i++)
            for (int64_t row = 0; row < (dim == 0 ? 1 : shape[0]); row++)
                for (int64_t k = 0; k < (dim == 0 ? shape[1] : 1); k++) {
                    size_t to = dim == 0 ? (size_t)(idx[i] * shape[1] + k) : (size_t)(row * shape[1] + idx[i]);
                    size_t from = dim == 0 ? (size_t)(i * shape[1] + k) : (size_t)(row * n + i);
                    memcpy(want + to * es, src_host + from * es, es);
                }
        vki_tensor *self = make_tensor(ctx, dtype, 2, shape, self_host);
        vki_tensor *src = make_tensor(ctx, dtype, 2, src_shape, src_host);
        vki_tensor *index = make_tensor(ctx, VKI_INT64, 1, &n, idx);
        OK(vki_index_copy_(self, dim, index, src));
        expect_bytes(self, want, bytes, dtype == VKI_FLOAT32 ? "rows into a chunked tensor"
                                                             : "columns into a chunked tensor");
        /* A strided view over the whole storage: every third element, across chunks. */
        const int64_t third = (int64_t)(bytes / es) / 3, three = 3;
        vki_tensor *view;
        OK(vki_tensor_view(self, 1, &third, &three, 1, &view));
        unsigned char *strided = malloc((size_t)third * es), *after = malloc(bytes);
        rng_fill(&r, strided, (size_t)third * es);
        OK(vki_tensor_upload(view, strided, (size_t)third * es));
        for (int64_t k = 0; k < third; k++)
            memcpy(want + (size_t)(1 + 3 * k) * es, strided + (size_t)k * es, es);
        expect_bytes(self, want, bytes, "a strided upload across chunks");
        memset(after, 0, bytes);
        OK(vki_tensor_download(view, after, (size_t)third * es));
        assert_memory_equal(after, strided, (size_t)third * es);
        vki_tensor_destroy(view);
        vki_tensor_destroy(self);
        vki_tensor_destroy(src);
        vki_tensor_destroy(index);
        free(self_host);
        free(want);
        free(src_host);
        free(strided);
        free(after);
    }
    /* Just under, at and just over one allocation. */
    const int64_t sizes[] = {(2 << 20) - 15, 2 << 20, (2 << 20) + 1, (5 << 20) + 7};
    for (int i = 0; i < 4; i++) {
        unsigned char *host = malloc((size_t)sizes[i]);
        rng_fill(&r, host, (size_t)sizes[i]);
        vki_tensor *t = make_tensor(ctx, VKI_UINT8, 1, &sizes[i], host);
        expect_bytes(t, host, (size_t)sizes[i], "a tensor near the size of one allocation");
        vki_tensor_destroy(t);
        free(host);
    }
    vki_context_destroy(ctx);
}

/* A batch of 1500 calls, each with a 256 KiB source made and destroyed around it, in a context
 * with room for 32 allocations: the sources of finished calls must be given back (held until
 * vki_batch_end they would need about 94 slabs of 4 MiB). */
static void batch_memory_stays_bounded(void **state)
{
    (void)state;
    vki_context *ctx = test_context_with("VKI_VULKAN_MAX_ALLOCATIONS", "32");
    enum { CALLS = 1500, ROWS = 64, COLS = 1024 };
    const int64_t shape[2] = {ROWS, COLS}, src_shape[2] = {ROWS, COLS}, n = ROWS;
    float *src = malloc(sizeof(float) * ROWS * COLS);
    int64_t idx[ROWS];
    for (int64_t i = 0; i < ROWS; i++)
        idx[i] = ROWS - 1 - i;
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 2, shape, NULL);
    vki_tensor *index = make_tensor(ctx, VKI_INT64, 1, &n, idx);
    OK(vki_batch_begin(ctx));
    for (int c = 0; c < CALLS; c++) {
        for (int k = 0; k < ROWS * COLS; k++)
            src[k] = (float)(c * 10 + k % 7);
        vki_tensor *s = NULL;
        vki_status st = vki_tensor_create(ctx, VKI_FLOAT32, 2, src_shape, &s);
        if (st == VKI_OK)
            st = vki_tensor_upload(s, src, sizeof(float) * ROWS * COLS);
        if (st == VKI_OK)
            st = vki_index_copy_(self, 0, index, s);
        vki_tensor_destroy(s);
        if (st != VKI_OK) {
            vki_batch_end(ctx);
            fail_msg("call %d of the batch: %s: %s", c, vki_status_string(st), vki_last_error());
        }
    }
    OK(vki_batch_end(ctx));
    float *got = malloc(sizeof(float) * ROWS * COLS);
    OK(vki_tensor_download(self, got, sizeof(float) * ROWS * COLS));
    for (int64_t row = 0; row < ROWS; row++)
        for (int64_t k = 0; k < COLS; k++)
            if (got[row * COLS + k] != (float)((CALLS - 1) * 10 + ((ROWS - 1 - row) * COLS + k) % 7))
                fail_msg("element [%lld, %lld] is %g", (long long)row, (long long)k, got[row * COLS + k]);
    vki_tensor_destroy(self);
    vki_tensor_destroy(index);
    free(src);
    free(got);
    vki_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    seed = test_seed(argc, argv, "test_memory");
    /* Tests that make contexts of their own follow the suite too: a device that must refuse
     * the forced 64-bit offsets has the whole program skip (see test_context). */
    (void)test_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_live_tensors),
        cmocka_unit_test(allocation_limit_is_an_error),
        cmocka_unit_test(larger_than_one_allocation),
        cmocka_unit_test(batch_memory_stays_bounded),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
