/*
 * What adversarial users found: inputs at the edges of what the API accepts (odd byte counts
 * of strided sub-word transfers, zero-stride destinations, the very same tensor as source,
 * huge strides on empty and size-1 dims, iteration counts past 2^32), batches with a call that
 * fails while queueing and with index tensors overwritten after a call, and one context used
 * from two threads at once. Each test failed before the fix it covers, on some backend.
 */
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char rule2[] =
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation.";
static const char rule3[] =
    "unsupported operation: some elements of the input tensor and the written-to tensor refer "
    "to a single memory location. Please clone() the tensor before performing the operation.";

/* 2..7 uint8 and 3, 5, 7 int16 values into every other element, as the first transfer of a
 * fresh context (whose staging buffer is then exactly as large as the upload), and after a
 * 6-byte contiguous upload: the last values used to come back 0 on Vulkan. */
static void strided_subword_uploads(void **state)
{
    (void)state;
    for (int es = 1; es <= 2; es++)
        for (int64_t n = 2; n <= 7; n++) {
            if (es == 2 && n % 2 == 0)
                continue;
            for (int after_six = 0; after_six < 2; after_six++) {
                vki_context *ctx = NULL;
                OK(vki_context_create(NULL, &ctx));
                const vki_dtype dtype = es == 1 ? VKI_UINT8 : VKI_INT16;
                const int64_t storage = 2 * n, two = 2, six = 6;
                vki_tensor *base = make_tensor(ctx, dtype, 1, &storage, NULL);
                if (after_six) { /* the staging buffer is first grown to 6 bytes */
                    vki_tensor *t = make_tensor(ctx, VKI_UINT8, 1, &six, (unsigned char[6]){0});
                    vki_tensor_destroy(t);
                }
                vki_tensor *view = NULL;
                OK(vki_tensor_view(base, 1, &n, &two, 0, &view));
                unsigned char values[16], got[16] = {0};
                for (int64_t i = 0; i < n * es; i++)
                    values[i] = (unsigned char)(11 + i);
                OK(vki_tensor_upload(view, values, (size_t)(n * es)));
                OK(vki_tensor_download(view, got, (size_t)(n * es)));
                if (memcmp(got, values, (size_t)(n * es)))
                    fail_msg("%s: %lld values with stride 2%s: byte %d came back %d", vki_dtype_name(dtype),
                             (long long)n, after_six ? " after a 6-byte upload" : "",
                             (int)(n * es - 1), got[n * es - 1]);
                vki_tensor_destroy(view);
                vki_tensor_destroy(base);
                vki_context_destroy(ctx);
            }
        }
}

/* An upload into a view whose elements share memory is PyTorch's rule-2 error (copy_ refuses
 * it); with 32-bit atomics alternating values used to store one never uploaded. */
static void zero_stride_upload_refused(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    const int64_t one = 1, four = 4, zero = 0;
    vki_tensor *base = make_tensor(ctx, VKI_INT16, 1, &one, (int16_t[]){7});
    vki_tensor *view = NULL;
    OK(vki_tensor_view(base, 1, &four, &zero, 0, &view));
    const int16_t values[4] = {1, 2, 1, 2};
    assert_int_equal(vki_tensor_upload(view, values, sizeof values), VKI_ERROR_INVALID_ARGUMENT);
    assert_string_equal(vki_last_error(), rule2);
    int16_t got = 0;
    OK(vki_tensor_download(base, &got, sizeof got));
    assert_int_equal(got, 7);
    int16_t down[4];
    OK(vki_tensor_download(view, down, sizeof down)); /* reading it is fine */
    for (int i = 0; i < 4; i++)
        assert_int_equal(down[i], 7);
    vki_tensor_destroy(view);
    vki_tensor_destroy(base);
}

/* x.index_copy_(0, idx, x) is rule 3 for PyTorch whether or not x is dense: the very same
 * tensor overlaps fully. */
static void same_tensor_as_source(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    const int64_t storage = 24, shape[2] = {4, 3}, strides[2] = {6, 2};
    float host[24];
    for (int i = 0; i < 24; i++)
        host[i] = (float)i;
    vki_tensor *base = make_tensor(ctx, VKI_FLOAT32, 1, &storage, host);
    vki_tensor *x = NULL; /* non-dense: every other element of every other row */
    OK(vki_tensor_view(base, 2, shape, strides, 0, &x));
    vki_tensor *idx = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){4}, (int64_t[]){3, 2, 1, 0});
    assert_int_equal(vki_index_copy_(x, 0, idx, x), VKI_ERROR_INVALID_ARGUMENT);
    assert_string_equal(vki_last_error(), rule3);
    vki_tensor *out = make_tensor(ctx, VKI_FLOAT32, 2, shape, NULL);
    assert_int_equal(vki_index_copy(out, x, 0, idx, out), VKI_ERROR_INVALID_ARGUMENT);
    assert_string_equal(vki_last_error(), rule3);
    float got[24];
    OK(vki_tensor_download(base, got, sizeof got));
    assert_memory_equal(got, host, sizeof got);
    vki_tensor_destroy(out);
    vki_tensor_destroy(idx);
    vki_tensor_destroy(x);
    vki_tensor_destroy(base);
}

/* Sizes and strides the API accepts whose products overflow int64: an empty view with sizes
 * [INT64_MAX, 2, 0], an empty view at offset 2^62, empty out with INT64_MAX strides, a size-1
 * dim with stride INT64_MAX. (The sanitizer build turns any overflow into a failure.) */
static void huge_strides_on_empty_and_size_one_dims(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    const int64_t four = 4;
    vki_tensor *base = make_tensor(ctx, VKI_FLOAT32, 1, &four, (float[]){1, 2, 3, 4});
    vki_tensor *empty = NULL, *far = NULL, *out = NULL, *tall = NULL, *src = NULL, *idx = NULL;
    const int64_t big_shape[3] = {INT64_MAX, 2, 0}, ones[3] = {1, 1, 1};
    OK(vki_tensor_view(base, 3, big_shape, ones, 0, &empty));
    assert_int_equal(vki_tensor_numel(empty), 0);
    const int64_t empty_shape[2] = {2, 0}, huge[2] = {INT64_MAX, INT64_MAX};
    OK(vki_tensor_view(base, 2, empty_shape, huge, (int64_t)1 << 62, &far));
    OK(vki_tensor_view(base, 2, empty_shape, huge, 3, &out));
    idx = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){0});
    OK(vki_tensor_view(base, 2, (int64_t[]){1, 0}, huge, 0, &src));
    /* index_copy of nothing, in place and out of place, with every odd layout */
    OK(vki_index_copy_(far, 0, idx, src));
    OK(vki_index_copy(out, far, 0, idx, src));
    OK(vki_tensor_download(empty, NULL, 0));
    /* A size-1 dim with a huge stride: [1, 4] with strides [INT64_MAX, 1]. */
    OK(vki_tensor_view(base, 2, (int64_t[]){1, 4}, (int64_t[]){INT64_MAX, 1}, 0, &tall));
    vki_tensor *col = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){1, 1}, (float[]){9});
    vki_tensor *at = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){2});
    OK(vki_index_copy_(tall, 1, at, col));
    float got[4];
    OK(vki_tensor_download(tall, got, sizeof got));
    assert_memory_equal(got, ((float[]){1, 2, 9, 4}), sizeof got);
    vki_tensor_destroy(at);
    vki_tensor_destroy(col);
    vki_tensor_destroy(tall);
    vki_tensor_destroy(src);
    vki_tensor_destroy(idx);
    vki_tensor_destroy(out);
    vki_tensor_destroy(far);
    vki_tensor_destroy(empty);
    vki_tensor_destroy(base);
}

static bool under_vulkan(void)
{
    return vki_context_backend(test_context()) == VKI_BACKEND_VULKAN;
}

/* A batch: a valid call, a call that fails while it is queued (on Vulkan: a self stored in 10
 * chunks of 1 MiB needs more than the 8 windows a kernel binds), another valid call. The
 * failed call returns its error and writes nothing; the two others still run, in order. */
static void failed_call_keeps_queued_calls(void **state)
{
    (void)state;
    vki_context *ctx = test_context_with("VKI_VULKAN_MAX_ALLOCATION", "1048576");
    float grid[8] = {0}, one_row[2] = {1, 2}, other_row[2] = {3, 4};
    vki_tensor *small = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){4, 2}, grid);
    vki_tensor *row_a = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){1, 2}, one_row);
    vki_tensor *row_c = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){1, 2}, other_row);
    vki_tensor *at1 = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
    vki_tensor *at3 = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){3});
    const int64_t big_shape[2] = {2, (int64_t)5 << 20};
    vki_tensor *big = make_tensor(ctx, VKI_UINT8, 2, big_shape, NULL);
    vki_tensor *big_src = make_tensor(ctx, VKI_UINT8, 2, (int64_t[]){2, 1}, (unsigned char[]){7, 8});
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(small, 0, at1, row_a));
    vki_status st = vki_index_copy_(big, 1, at3, big_src);
    if (st != VKI_OK && st != VKI_ERROR_UNSUPPORTED)
        fail_msg("the call on a 10-chunk tensor: %s: %s", vki_status_string(st), vki_last_error());
    const vki_status big_status = st;
    OK(vki_index_copy_(small, 0, at3, row_c));
    OK(vki_batch_end(ctx));
    float got[8];
    OK(vki_tensor_download(small, got, sizeof got));
    assert_memory_equal(got, ((float[]){0, 0, 1, 2, 0, 0, 3, 4}), sizeof got);
    if (big_status == VKI_OK) { /* the CPU backend runs it */
        unsigned char two[2];
        vki_tensor *col = NULL;
        OK(vki_tensor_view(big, 1, (int64_t[]){2}, (int64_t[]){big_shape[1]}, 3, &col));
        OK(vki_tensor_download(col, two, 2));
        assert_int_equal(two[0], 7);
        assert_int_equal(two[1], 8);
        vki_tensor_destroy(col);
    }
    vki_tensor *list[] = {small, row_a, row_c, at1, at3, big, big_src};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        vki_tensor_destroy(list[i]);
    vki_context_destroy(ctx);
}

/* More than 2^32 scatter rows over small buffers: an index of 65537 copies of 5 (a stride-0
 * view) and a source broadcast from 8 floats, into self [65536, 8, 8] along dim 1. The 32-bit
 * kernels used to walk the low word of the row count and write almost nothing. (Vulkan only:
 * the CPU backend walks every source row, correctly, in minutes.) */
static void more_than_2_to_the_32_rows(void **state)
{
    (void)state;
    if (!under_vulkan())
        skip();
    vki_context *ctx = test_context();
    const int64_t shape[3] = {65536, 8, 8}, numel = 65536 * 64, n = 65537;
    float *host = malloc(sizeof(float) * (size_t)numel), *got = malloc(sizeof(float) * (size_t)numel);
    for (int64_t i = 0; i < numel; i++)
        host[i] = (float)i;
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 3, shape, host);
    vki_tensor *one = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){5});
    vki_tensor *eight = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){8},
                                    (float[]){-1, -2, -3, -4, -5, -6, -7, -8});
    vki_tensor *index = NULL, *source = NULL;
    OK(vki_tensor_view(one, 1, &n, (int64_t[]){0}, 0, &index));
    OK(vki_tensor_view(eight, 3, (int64_t[]){65536, n, 8}, (int64_t[]){0, 0, 1}, 0, &source));
    OK(vki_index_copy_(self, 1, index, source));
    OK(vki_tensor_download(self, got, sizeof(float) * (size_t)numel));
    for (int64_t o = 0; o < 65536; o++)
        for (int k = 0; k < 8; k++)
            host[o * 64 + 40 + k] = (float)(-1 - k);
    for (int64_t i = 0; i < numel; i++)
        if (got[i] != host[i])
            fail_msg("element %lld (row %lld) is %g, expected %g", (long long)i, (long long)(i / 64),
                     got[i], host[i]);
    vki_tensor *list[] = {source, index, eight, one, self};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        vki_tensor_destroy(list[i]);
    free(host);
    free(got);
}

/* One index into a uint8 tensor of 600,000,000 slots needs no winner map (it used to reserve
 * 2.4 GB of scratch and fail), and 64 indices into 40,000,000 slots need a winner map larger
 * than lavapipe's 128 MiB binding (it used to be bound past maxStorageBufferRange). */
static void scratch_sized_by_use(void **state)
{
    (void)state;
    /* The device's own allocation size (not the fallback suite's 32 MiB: 600 MB would need
     * more than 8 windows of it). */
    vki_context *ctx = test_context_with("VKI_VULKAN_MAX_ALLOCATION", "");
    const int64_t sizes[2] = {600000000, 40000000}, counts[2] = {1, 64};
    test_rng r = {77};
    for (int k = 0; k < 2; k++) {
        vki_tensor *self = make_tensor(ctx, VKI_UINT8, 1, &sizes[k], NULL);
        int64_t idx[64];
        unsigned char src[64], want[64];
        for (int64_t i = 0; i < counts[k]; i++) {
            idx[i] = i % 8 == 7 ? idx[i - 3] : rng_below(&r, sizes[k]); /* some repeats */
            src[i] = (unsigned char)(i + 1);
        }
        vki_tensor *index = make_tensor(ctx, VKI_INT64, 1, &counts[k], idx);
        vki_tensor *source = make_tensor(ctx, VKI_UINT8, 1, &counts[k], src);
        OK(vki_index_copy_(self, 0, index, source));
        for (int64_t i = 0; i < counts[k]; i++) { /* the last occurrence wins */
            want[i] = src[i];
            for (int64_t j = i + 1; j < counts[k]; j++)
                if (idx[j] == idx[i])
                    want[i] = src[j];
        }
        for (int64_t i = 0; i < counts[k]; i++) {
            vki_tensor *at = NULL;
            unsigned char got = 0;
            OK(vki_tensor_view(self, 1, (int64_t[]){1}, NULL, idx[i], &at));
            OK(vki_tensor_download(at, &got, 1));
            vki_tensor_destroy(at);
            if (got != want[i])
                fail_msg("%lld slots: slot %lld holds %d, expected %d", (long long)sizes[k],
                         (long long)idx[i], got, want[i]);
        }
        vki_tensor_destroy(source);
        vki_tensor_destroy(index);
        vki_tensor_destroy(self);
    }
    vki_context_destroy(ctx);
}

/* In a batch, call 0 has a bad index (99 of [0, 99, 1]) and call 1 writes [5, 2, 7] into that
 * very index tensor: the message names 99, the value the check saw. */
static void batch_message_names_the_value_seen(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){4, 2}, (float[8]){0});
    vki_tensor *src = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){3, 2}, (float[6]){0});
    vki_tensor *idx = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){3}, (int64_t[]){0, 99, 1});
    vki_tensor *all = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){3}, (int64_t[]){0, 1, 2});
    vki_tensor *values = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){3}, (int64_t[]){5, 2, 7});
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(self, 0, idx, src));
    OK(vki_index_copy_(idx, 0, all, values));
    assert_int_equal(vki_batch_end(ctx), VKI_ERROR_INDEX);
    assert_string_equal(vki_last_error(), "vki_batch_end: call 0 of the batch: index_copy_(): "
                                          "index 99 is out of bounds for dimension 0 with size 4");
    int64_t now[3];
    OK(vki_tensor_download(idx, now, sizeof now));
    assert_memory_equal(now, ((int64_t[]){5, 2, 7}), sizeof now);
    vki_tensor *list[] = {values, all, idx, src, self};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        vki_tensor_destroy(list[i]);
}

/* Contexts are independent: one with validation and one without, destroyed in either order,
 * and 4 threads making and using contexts of both kinds at once (the ThreadSanitizer build
 * checks that nothing is shared unsynchronised). */
static void *context_churn(void *arg)
{
    const int id = (int)(intptr_t)arg;
    for (int i = 0; i < 6; i++) {
        vki_context_options o = {.validation = (id + i) % 2};
        vki_context *ctx = NULL;
        vki_status st = vki_context_create(&o, &ctx);
        if (st != VKI_OK)
            return (void *)(intptr_t)st;
        vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){4}, (float[]){0, 0, 0, 0});
        vki_tensor *src = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){1}, (float[]){(float)id});
        vki_tensor *idx = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){id % 4});
        st = vki_index_copy_(self, 0, idx, src);
        float got[4] = {0};
        if (st == VKI_OK)
            st = vki_tensor_download(self, got, sizeof got);
        if (st == VKI_OK && got[id % 4] != (float)id)
            st = VKI_ERROR_VULKAN;
        vki_tensor_destroy(idx);
        vki_tensor_destroy(src);
        vki_tensor_destroy(self);
        vki_context_destroy(ctx);
        if (st != VKI_OK)
            return (void *)(intptr_t)st;
    }
    return NULL;
}

static void contexts_are_independent(void **state)
{
    (void)state;
    char *saved = test_env_save("VKI_VALIDATION"); /* options decide, not the suite's default */
    unsetenv("VKI_VALIDATION");
    for (int order = 0; order < 2; order++) {
        vki_context *with = NULL, *without = NULL;
        OK(vki_context_create(&(vki_context_options){.validation = 1}, &with));
        OK(vki_context_create(&(vki_context_options){.validation = 0}, &without));
        vki_context *first = order ? without : with, *second = order ? with : without;
        vki_context_destroy(first);
        vki_tensor *t = make_tensor(second, VKI_INT32, 1, (int64_t[]){2}, (int32_t[]){1, 2});
        int32_t got[2];
        OK(vki_tensor_download(t, got, sizeof got));
        assert_int_equal(got[1], 2);
        vki_tensor_destroy(t);
        vki_context_destroy(second);
    }
    pthread_t th[4];
    for (int t = 0; t < 4; t++)
        assert_int_equal(pthread_create(&th[t], NULL, context_churn, (void *)(intptr_t)t), 0);
    void *results[4];
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], &results[t]);
    test_env_restore("VKI_VALIDATION", saved);
    for (int t = 0; t < 4; t++)
        if (results[t])
            fail_msg("thread %d: %s", t, vki_status_string((vki_status)(intptr_t)results[t]));
}

/* A written tensor whose elements overlap without a zero stride ([3, 2] with strides [1, 1]:
 * element (a, b) lives at a + b) is no error for PyTorch, and the result follows the order of
 * its writes. Expected values: PyTorch 1.13 on the CPU, one thread, same calls. */
static void self_overlapping_in_pytorch_order(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    const float src_rows[6] = {100, 101, 102, 103, 104, 105};
    struct { int dim; int64_t n, idx[3]; bool transposed; float want[4]; } cases[] = {
        {0, 3, {2, 0, 1}, false, {102, 104, 105, 101}},
        {1, 2, {1, 0}, false, {101, 103, 105, 104}},
        {0, 3, {1, 1, 0}, false, {104, 105, 103, 3}},
        {0, 3, {2, 0, 1}, true, {101, 104, 105, 103}}, /* source (2, 3).t() */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vki_tensor *storage = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){4}, (float[]){0, 1, 2, 3});
        vki_tensor *x = NULL, *src = NULL;
        OK(vki_tensor_view(storage, 2, (int64_t[]){3, 2}, (int64_t[]){1, 1}, 0, &x));
        vki_tensor *rows = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){6}, src_rows);
        if (cases[k].transposed)
            OK(vki_tensor_view(rows, 2, (int64_t[]){3, 2}, (int64_t[]){1, 3}, 0, &src));
        else
            OK(vki_tensor_view(rows, 2, (int64_t[]){3, 2}, NULL, 0, &src));
        vki_tensor *idx = make_tensor(ctx, VKI_INT64, 1, &cases[k].n, cases[k].idx);
        OK(vki_index_copy_(x, cases[k].dim, idx, src));
        float got[4];
        OK(vki_tensor_download(storage, got, sizeof got));
        if (memcmp(got, cases[k].want, sizeof got))
            fail_msg("case %zu: [%g %g %g %g], PyTorch gives [%g %g %g %g]", k, got[0], got[1],
                     got[2], got[3], cases[k].want[0], cases[k].want[1], cases[k].want[2],
                     cases[k].want[3]);
        vki_tensor *list[] = {idx, src, rows, x, storage};
        for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
            vki_tensor_destroy(list[i]);
    }
    /* Out of place: out.copy_(self) in copy_'s order first, then the same writes. */
    vki_tensor *storage = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){4}, (float[]){10, 11, 12, 13});
    vki_tensor *out = NULL;
    OK(vki_tensor_view(storage, 2, (int64_t[]){3, 2}, (int64_t[]){1, 1}, 0, &out));
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){3, 2}, (float[]){20, 21, 22, 23, 24, 25});
    vki_tensor *src = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){3, 2}, src_rows);
    vki_tensor *idx = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){3}, (int64_t[]){1, 0, 1});
    OK(vki_index_copy(out, self, 0, idx, src));
    float got[4];
    OK(vki_tensor_download(storage, got, sizeof got));
    assert_memory_equal(got, ((float[]){102, 104, 105, 25}), sizeof got);
    /* A bad index writes nothing, here too. */
    vki_tensor *bad = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){3}, (int64_t[]){1, 3, 0});
    assert_int_equal(vki_index_copy_(out, 0, bad, src), VKI_ERROR_INDEX);
    assert_string_equal(vki_last_error(), "index_copy_(): index 3 is out of bounds for dimension 0 with size 3");
    OK(vki_tensor_download(storage, got, sizeof got));
    assert_memory_equal(got, ((float[]){102, 104, 105, 25}), sizeof got);
    vki_tensor *list[] = {bad, idx, src, self, out, storage};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        vki_tensor_destroy(list[i]);
}

/* Two threads on one context: the rule is one thread at a time, and a second thread that
 * breaks it gets VKI_ERROR_INVALID_ARGUMENT with a message saying so, never corruption. */
typedef struct misuse_job {
    vki_context *ctx;
    vki_tensor *self, *idx, *src;
    int misused, other;
    char message[512];
} misuse_job;

static void *misuse_thread(void *p)
{
    misuse_job *j = p;
    const double until = (double)time(NULL) + 20;
    for (int i = 0; i < 200000 && !j->misused && (double)time(NULL) < until; i++) {
        vki_status st = vki_index_copy_(j->self, 0, j->idx, j->src);
        if (st == VKI_ERROR_INVALID_ARGUMENT) {
            j->misused++;
            snprintf(j->message, sizeof j->message, "%s", vki_last_error());
        } else if (st != VKI_OK) {
            j->other++;
            snprintf(j->message, sizeof j->message, "%s: %s", vki_status_string(st), vki_last_error());
        }
    }
    return NULL;
}

static void one_context_two_threads(void **state)
{
    (void)state;
    vki_context *ctx = NULL;
    OK(vki_context_create(NULL, &ctx));
    misuse_job jobs[2];
    for (int t = 0; t < 2; t++) {
        jobs[t] = (misuse_job){.ctx = ctx};
        jobs[t].self = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){64, 16}, NULL);
        jobs[t].src = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){2, 16}, NULL);
        jobs[t].idx = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){2}, (int64_t[]){5, 9});
    }
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&th[t], NULL, misuse_thread, &jobs[t]), 0);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < 2; t++)
        if (jobs[t].other)
            fail_msg("thread %d: %s", t, jobs[t].message);
    if (!jobs[0].misused && !jobs[1].misused)
        fail_msg("the two threads never met inside the context");
    const char *m = jobs[jobs[0].misused ? 0 : 1].message;
    assert_string_equal(m, "vki_index_copy_: the context is being used by another thread at the "
                           "same time (a context and its tensors must be used from one thread at "
                           "a time)");
    /* Used properly afterwards, it works. */
    OK(vki_index_copy_(jobs[0].self, 0, jobs[0].idx, jobs[0].src));
    for (int t = 0; t < 2; t++) {
        vki_tensor_destroy(jobs[t].self);
        vki_tensor_destroy(jobs[t].src);
        vki_tensor_destroy(jobs[t].idx);
    }
    vki_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    (void)test_seed(argc, argv, "test_robustness");
    /* Tests that make contexts of their own follow the suite too: a device that must refuse
     * the forced 64-bit offsets has the whole program skip (see test_context). */
    (void)test_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strided_subword_uploads),
        cmocka_unit_test(zero_stride_upload_refused),
        cmocka_unit_test(same_tensor_as_source),
        cmocka_unit_test(huge_strides_on_empty_and_size_one_dims),
        cmocka_unit_test_teardown(failed_call_keeps_queued_calls, test_close_batch),
        cmocka_unit_test(more_than_2_to_the_32_rows),
        cmocka_unit_test(scratch_sized_by_use),
        cmocka_unit_test_teardown(batch_message_names_the_value_seen, test_close_batch),
        cmocka_unit_test(self_overlapping_in_pytorch_order),
        cmocka_unit_test(contexts_are_independent),
        cmocka_unit_test_teardown(one_context_two_threads, test_close_batch),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
