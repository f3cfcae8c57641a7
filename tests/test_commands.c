/*
 * The commands a call records on Vulkan (counted through src/introspect.h, as vkindex-bench
 * reports them): a call with few indices is one dispatch, with no fill, no check pass and no
 * copy back; calls of a batch that touch different memory get no barrier between them, and a
 * call that depends on an earlier one gets one (its destination, its source or its index
 * written before it, or memory that may be shared: host memory wrapped twice); a call with a
 * check pass clears its scratch with one fill. The results are checked too. The barrier
 * counts are what guard the ordering of tensor data: synchronization validation (on in the
 * Vulkan suites) sees hazards on vkindex's own scratch, not between kernels' tensor
 * accesses. Skips on the CPU backend.
 * Linked with the static library (the introspection seam), not the tests' common code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "introspect.h"
#include "vkindex.h"

#define OK(call) assert_int_equal((call), VKI_OK)

static vki_context *ctx;

enum { LAYERS = 8, SLOTS = 64, WIDTH = 32 };

/* A cache [LAYERS, SLOTS, WIDTH] of int32, its layer views, and new rows [LAYERS, 1, WIDTH]. */
typedef struct cache {
    vki_tensor *all, *rows, *layer[LAYERS], *row[LAYERS];
} cache;

static void cache_make(cache *c)
{
    const int64_t shape[3] = {LAYERS, SLOTS, WIDTH}, row_shape[3] = {LAYERS, 1, WIDTH};
    int32_t host[LAYERS * SLOTS * WIDTH];
    for (int i = 0; i < LAYERS * SLOTS * WIDTH; i++)
        host[i] = -1;
    OK(vki_tensor_create(ctx, VKI_INT32, 3, shape, &c->all));
    OK(vki_tensor_upload(c->all, host, sizeof host));
    for (int i = 0; i < LAYERS * WIDTH; i++)
        host[i] = i;
    OK(vki_tensor_create(ctx, VKI_INT32, 3, row_shape, &c->rows));
    OK(vki_tensor_upload(c->rows, host, (size_t)LAYERS * WIDTH * 4));
    for (int l = 0; l < LAYERS; l++) {
        OK(vki_tensor_view(c->all, 2, shape + 1, NULL, (int64_t)l * SLOTS * WIDTH, &c->layer[l]));
        OK(vki_tensor_view(c->rows, 2, row_shape + 1, NULL, (int64_t)l * WIDTH, &c->row[l]));
    }
}

static void cache_destroy(cache *c)
{
    for (int l = 0; l < LAYERS; l++) {
        vki_tensor_destroy(c->layer[l]);
        vki_tensor_destroy(c->row[l]);
    }
    vki_tensor_destroy(c->all);
    vki_tensor_destroy(c->rows);
}

/* Every layer's slot `slot` holds its new row, and every other slot -1. */
static void expect_cache(const cache *c, int64_t slot)
{
    static int32_t got[LAYERS * SLOTS * WIDTH];
    OK(vki_tensor_download(c->all, got, sizeof got));
    for (int l = 0; l < LAYERS; l++)
        for (int s = 0; s < SLOTS; s++)
            for (int k = 0; k < WIDTH; k++)
                assert_int_equal(got[(l * SLOTS + s) * WIDTH + k], s == slot ? l * WIDTH + k : -1);
}

static vki_tensor *index_of(const int64_t *values, int64_t n)
{
    vki_tensor *t;
    OK(vki_tensor_create(ctx, VKI_INT64, 1, &n, &t));
    OK(vki_tensor_upload(t, values, (size_t)n * 8));
    return t;
}

static vki_internal_counts since(const vki_internal_counts *before)
{
    vki_internal_counts now;
    vki_internal_counts_get(ctx, &now);
    return (vki_internal_counts){now.submissions - before->submissions,
                                 now.dispatches - before->dispatches,
                                 now.barriers - before->barriers, now.fills - before->fills,
                                 now.copies - before->copies};
}

/* One submission brackets its commands with two barriers: from everything before, to the host. */
#define SUBMISSION_BARRIERS 2

static void decode_call_is_one_dispatch(void **state)
{
    (void)state;
    cache c;
    cache_make(&c);
    const int64_t slot = 5;
    vki_tensor *index = index_of(&slot, 1);
    vki_internal_counts before;
    vki_internal_counts_get(ctx, &before);
    OK(vki_index_copy_(c.layer[3], 0, index, c.row[3]));
    vki_internal_counts n = since(&before);
    assert_int_equal(n.submissions, 1);
    assert_int_equal(n.dispatches, 1);
    assert_int_equal(n.barriers, SUBMISSION_BARRIERS);
    assert_int_equal(n.fills, 0);
    assert_int_equal(n.copies, 0);
    vki_tensor_destroy(index);
    cache_destroy(&c);
}

static void independent_calls_share_no_barrier(void **state)
{
    (void)state;
    cache c;
    cache_make(&c);
    const int64_t slot = 17;
    vki_tensor *index = index_of(&slot, 1);
    vki_internal_counts before;
    vki_internal_counts_get(ctx, &before);
    OK(vki_batch_begin(ctx));
    for (int l = 0; l < LAYERS; l++)
        OK(vki_index_copy_(c.layer[l], 0, index, c.row[l]));
    OK(vki_batch_end(ctx));
    vki_internal_counts n = since(&before);
    assert_int_equal(n.submissions, 1);
    assert_int_equal(n.dispatches, LAYERS);
    assert_int_equal(n.barriers, SUBMISSION_BARRIERS);
    assert_int_equal(n.fills, 0);
    expect_cache(&c, slot);
    vki_tensor_destroy(index);
    cache_destroy(&c);
}

/* A call that rewrites what the call before it wrote, and one that reads it: a barrier each. */
static void dependent_calls_are_ordered(void **state)
{
    (void)state;
    cache c;
    cache_make(&c);
    const int64_t first = 2, second = 9;
    vki_tensor *one = index_of(&first, 1), *other = index_of(&second, 1);
    vki_internal_counts before;
    vki_internal_counts_get(ctx, &before);
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(c.layer[0], 0, one, c.row[0]));   /* writes layer 0, slot 2 */
    OK(vki_index_copy_(c.layer[0], 0, other, c.row[0])); /* writes layer 0 again: a barrier */
    OK(vki_index_copy_(c.layer[1], 0, other, c.row[1])); /* another layer: none */
    OK(vki_batch_end(ctx));
    vki_internal_counts n = since(&before);
    assert_int_equal(n.dispatches, 3);
    assert_int_equal(n.barriers, SUBMISSION_BARRIERS + 1);
    static int32_t got[LAYERS * SLOTS * WIDTH];
    OK(vki_tensor_download(c.all, got, sizeof got));
    for (int s = 2 * SLOTS; s < LAYERS * SLOTS; s++) /* layers 2 and on are untouched */
        assert_int_equal(got[s * WIDTH], -1);
    for (int s = 0; s < 2 * SLOTS; s++) {
        const bool written = s == first || s == second || s == SLOTS + second;
        assert_int_equal(got[s * WIDTH + 1], written ? (s / SLOTS) * WIDTH + 1 : -1);
    }
    /* The second call's source is what the first wrote (layer 0, slot 2 as a row). */
    vki_tensor *slot_view;
    const int64_t row_shape[2] = {1, WIDTH};
    OK(vki_tensor_view(c.all, 2, row_shape, NULL, first * WIDTH, &slot_view));
    vki_internal_counts_get(ctx, &before);
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(c.layer[0], 0, one, c.row[2]));       /* layer 0, slot 2 = row 2 */
    OK(vki_index_copy_(c.layer[5], 0, other, slot_view));    /* reads it: a barrier */
    OK(vki_batch_end(ctx));
    n = since(&before);
    assert_int_equal(n.barriers, SUBMISSION_BARRIERS + 1);
    int32_t layer5[SLOTS * WIDTH];
    vki_tensor *l5 = c.layer[5];
    OK(vki_tensor_download(l5, layer5, sizeof layer5));
    assert_int_equal(layer5[second * WIDTH + 3], 2 * WIDTH + 3);
    vki_tensor_destroy(slot_view);
    vki_tensor_destroy(one);
    vki_tensor_destroy(other);
    cache_destroy(&c);
}

/* An index that an earlier call of the batch wrote: a barrier, and the later call uses the
 * written values. */
static void index_written_by_an_earlier_call(void **state)
{
    (void)state;
    cache c;
    cache_make(&c);
    const int64_t four = 4, one = 1, pos = 2, value = 7;
    const int64_t zeros[4] = {0, 0, 0, 0};
    vki_tensor *index = index_of(zeros, four), *at = index_of(&pos, one), *val = index_of(&value, one);
    const int64_t src_shape[2] = {4, WIDTH};
    int32_t host[4 * WIDTH];
    for (int i = 0; i < 4 * WIDTH; i++)
        host[i] = 1000 + i;
    vki_tensor *src;
    OK(vki_tensor_create(ctx, VKI_INT32, 2, src_shape, &src));
    OK(vki_tensor_upload(src, host, sizeof host));
    vki_internal_counts before;
    vki_internal_counts_get(ctx, &before);
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(index, 0, at, val));         /* index becomes {0, 0, 7, 0} */
    OK(vki_index_copy_(c.layer[2], 0, index, src)); /* reads it: a barrier */
    OK(vki_batch_end(ctx));
    vki_internal_counts n = since(&before);
    assert_int_equal(n.barriers, SUBMISSION_BARRIERS + 1);
    int32_t got[SLOTS * WIDTH];
    OK(vki_tensor_download(c.layer[2], got, sizeof got));
    assert_int_equal(got[7 * WIDTH], 1000 + 2 * WIDTH); /* position 2 went to slot 7 */
    assert_int_equal(got[0], 1000 + 3 * WIDTH);         /* slot 0: its last occurrence */
    vki_tensor_destroy(src);
    vki_tensor_destroy(index);
    vki_tensor_destroy(at);
    vki_tensor_destroy(val);
    cache_destroy(&c);
}

/* Two tensors over the same host memory are different storages to vkindex: a call reading one
 * after a call wrote the other must still wait for it. */
static void host_memory_wrapped_twice(void **state)
{
    (void)state;
    enum { BYTES = 1 << 16 };
    int32_t *mem = aligned_alloc(BYTES, BYTES);
    assert_non_null(mem);
    for (int i = 0; i < BYTES / 4; i++)
        mem[i] = -1;
    const int64_t shape[2] = {BYTES / 4 / WIDTH, WIDTH};
    vki_tensor *a, *b;
    vki_status st = vki_tensor_wrap_host(ctx, mem, BYTES, VKI_INT32, 2, shape, NULL, &a);
    if (st == VKI_ERROR_UNSUPPORTED) { /* a device without VK_EXT_external_memory_host */
        free(mem);
        skip();
    }
    OK(st);
    OK(vki_tensor_wrap_host(ctx, mem, BYTES, VKI_INT32, 2, shape, NULL, &b));
    cache c;
    cache_make(&c);
    const int64_t slot = 3, zero = 0;
    vki_tensor *to3 = index_of(&slot, 1), *to0 = index_of(&zero, 1);
    vki_tensor *b_row3;
    const int64_t row_shape[2] = {1, WIDTH};
    OK(vki_tensor_view(b, 2, row_shape, NULL, 3 * WIDTH, &b_row3));
    vki_internal_counts before;
    vki_internal_counts_get(ctx, &before);
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(a, 0, to3, c.row[1]));      /* writes row 3 of the memory through a */
    OK(vki_index_copy_(c.layer[0], 0, to0, b_row3)); /* reads it through b: a barrier */
    OK(vki_batch_end(ctx));
    vki_internal_counts n = since(&before);
    assert_int_equal(n.barriers, SUBMISSION_BARRIERS + 1);
    static int32_t layer0[SLOTS * WIDTH];
    OK(vki_tensor_download(c.layer[0], layer0, sizeof layer0));
    for (int k = 0; k < WIDTH; k++)
        assert_int_equal(layer0[k], WIDTH + k); /* row 1's values, through memory */
    vki_tensor_destroy(b_row3);
    vki_tensor_destroy(to3);
    vki_tensor_destroy(to0);
    cache_destroy(&c);
    vki_tensor_destroy(a);
    vki_tensor_destroy(b);
    free(mem);
}

/* Many indices: a check pass, which needs its scratch cleared first (one fill), and a
 * duplicate resolved to the last occurrence. */
static void check_pass_clears_its_scratch(void **state)
{
    (void)state;
    cache c;
    cache_make(&c);
    int64_t idx[SLOTS];
    for (int i = 0; i < SLOTS; i++)
        idx[i] = (i * 7) % SLOTS;
    idx[SLOTS - 1] = idx[0]; /* slot 0 twice: the last occurrence wins */
    vki_tensor *index = index_of(idx, SLOTS);
    const int64_t src_shape[2] = {SLOTS, WIDTH};
    vki_tensor *src;
    int32_t host[SLOTS * WIDTH];
    for (int i = 0; i < SLOTS * WIDTH; i++)
        host[i] = i;
    OK(vki_tensor_create(ctx, VKI_INT32, 2, src_shape, &src));
    OK(vki_tensor_upload(src, host, sizeof host));
    vki_internal_counts before;
    vki_internal_counts_get(ctx, &before);
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(c.layer[4], 0, index, src));
    OK(vki_index_copy_(c.layer[6], 0, index, src)); /* scratch reused: a barrier */
    OK(vki_batch_end(ctx));
    vki_internal_counts n = since(&before);
    assert_int_equal(n.fills, 2);
    assert_int_equal(n.dispatches, 4);
    /* per call a fill barrier and a check-to-copy barrier, and one between the calls */
    assert_int_equal(n.barriers, SUBMISSION_BARRIERS + 5);
    int32_t got[SLOTS * WIDTH];
    OK(vki_tensor_download(c.layer[6], got, sizeof got));
    assert_int_equal(got[0 * WIDTH + 2], (SLOTS - 1) * WIDTH + 2);
    assert_int_equal(got[idx[5] * WIDTH + 2], 5 * WIDTH + 2);
    vki_tensor_destroy(src);
    vki_tensor_destroy(index);
    cache_destroy(&c);
}

int main(void)
{
    vki_status st = vki_context_create(NULL, &ctx);
    if (st == VKI_ERROR_NO_DEVICE || (st == VKI_OK && vki_context_backend(ctx) != VKI_BACKEND_VULKAN)) {
        vki_context_destroy(ctx);
        return 77; /* nothing to count without command buffers */
    }
    if (st != VKI_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_call_is_one_dispatch),
        cmocka_unit_test(independent_calls_share_no_barrier),
        cmocka_unit_test(dependent_calls_are_ordered),
        cmocka_unit_test(index_written_by_an_earlier_call),
        cmocka_unit_test(host_memory_wrapped_twice),
        cmocka_unit_test(check_pass_clears_its_scratch),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    vki_context_destroy(ctx);
    return failed;
}
