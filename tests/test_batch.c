/*
 * Batches (vki_batch_begin / vki_batch_end): queued calls run in order and give what the same
 * calls give one by one; argument errors come back from the call; a bad index writes nothing
 * and vki_batch_end names the call's position; tensors may be destroyed while queued; long
 * batches (more calls than one submission holds) keep all of this.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t rows = 8, cols = 5;

/* A float tensor [rows, cols] with value base + i. */
static vki_tensor *grid(vki_context *ctx, float base)
{
    float v[40];
    for (int i = 0; i < rows * cols; i++)
        v[i] = base + (float)i;
    return make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){rows, cols}, v);
}

/* Call c of a sequence: 3 source rows (values depending on c) into rows picked by c. */
static vki_status step(vki_tensor *self, vki_context *ctx, int c, int64_t bad_at, vki_tensor **keep)
{
    float src[15];
    for (int i = 0; i < 15; i++)
        src[i] = (float)(1000 * c + i);
    int64_t idx[3] = {(c * 3) % rows, (c * 5 + 1) % rows, (c * 3) % rows}; /* a duplicate */
    if (c == bad_at)
        idx[1] = 99;
    vki_tensor *s = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){3, cols}, src);
    vki_tensor *ix = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){3}, idx);
    vki_status st = vki_index_copy_(self, 0, ix, s);
    if (keep) { /* the caller destroys them later */
        keep[0] = s;
        keep[1] = ix;
    } else { /* destroyed while the call may still be queued */
        vki_tensor_destroy(s);
        vki_tensor_destroy(ix);
    }
    return st;
}

static void run_sequence(int calls, int64_t bad_at)
{
    vki_context *ctx = test_context();
    vki_tensor *batched = grid(ctx, 0), *serial = grid(ctx, 0);
    for (int c = 0; c < calls; c++) {
        vki_status st = step(serial, ctx, c, bad_at, NULL);
        assert_int_equal(st, c == bad_at ? VKI_ERROR_INDEX : VKI_OK);
    }
    OK(vki_batch_begin(ctx));
    for (int c = 0; c < calls; c++)
        OK(step(batched, ctx, c, bad_at, NULL)); /* errors come at the end */
    vki_status st = vki_batch_end(ctx);
    if (bad_at < 0) {
        assert_int_equal(st, VKI_OK);
    } else {
        assert_int_equal(st, VKI_ERROR_INDEX);
        char want[200];
        snprintf(want, sizeof want,
                 "vki_batch_end: call %lld of the batch: index_copy_(): index 99 is out of "
                 "bounds for dimension 0 with size 8", (long long)bad_at);
        assert_string_equal(vki_last_error(), want);
    }
    float a[40], b[40];
    OK(vki_tensor_download(batched, a, sizeof a));
    OK(vki_tensor_download(serial, b, sizeof b));
    assert_memory_equal(a, b, sizeof a);
    vki_tensor_destroy(batched);
    vki_tensor_destroy(serial);
}

static void same_as_one_by_one(void **state)
{
    (void)state;
    run_sequence(40, -1);
}

static void bad_index_named_by_position(void **state)
{
    (void)state;
    run_sequence(12, 3);
}

/* More calls than one submission holds: the batch is submitted in parts, in order. */
static void long_batches(void **state)
{
    (void)state;
    run_sequence(1500, -1);
    run_sequence(2100, 1700);
}

static void argument_errors_come_back_at_once(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    vki_tensor *self = grid(ctx, 0), *keep[2];
    OK(vki_batch_begin(ctx));
    OK(step(self, ctx, 0, -1, keep));
    vki_tensor_destroy(keep[0]);
    vki_tensor_destroy(keep[1]);
    vki_tensor *wrong = make_tensor(ctx, VKI_FLOAT64, 2, (int64_t[]){1, cols}, NULL);
    vki_tensor *one = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){0});
    assert_int_equal(vki_index_copy_(self, 0, one, wrong), VKI_ERROR_INVALID_ARGUMENT);
    assert_string_equal(vki_last_error(), "index_copy_(): self and source expected to have the "
                                          "same dtype, but got (self) Float and (source) Double");
    /* The rejected call took no position: the next bad one is call 1. */
    OK(step(self, ctx, 1, 1, NULL));
    assert_int_equal(vki_batch_end(ctx), VKI_ERROR_INDEX);
    assert_non_null(strstr(vki_last_error(), "vki_batch_end: call 1 of the batch: "));
    vki_tensor_destroy(wrong);
    vki_tensor_destroy(one);
    vki_tensor_destroy(self);
}

/* A call with nothing to do (an empty index) is still a call of the batch: the bad call after
 * it is call 1. (Found by the fuzzer: no-op calls took no position.) */
static void no_op_calls_take_positions(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){2}, (float[]){1, 2});
    vki_tensor *none = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){0}, NULL);
    vki_tensor *empty = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){0}, NULL);
    vki_tensor *seven = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){7});
    vki_tensor *one = make_tensor(ctx, VKI_FLOAT32, 1, (int64_t[]){1}, (float[]){9});
    OK(vki_batch_begin(ctx));
    OK(vki_index_copy_(self, 0, none, empty));
    OK(vki_index_copy_(self, 0, seven, one));
    assert_int_equal(vki_batch_end(ctx), VKI_ERROR_INDEX);
    assert_string_equal(vki_last_error(), "vki_batch_end: call 1 of the batch: index_copy_(): "
                                          "index 7 is out of bounds for dimension 0 with size 2");
    vki_tensor *list[] = {self, none, empty, seven, one};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        vki_tensor_destroy(list[i]);
}

static void misuse(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    assert_int_equal(vki_batch_end(ctx), VKI_ERROR_INVALID_ARGUMENT);
    assert_string_equal(vki_last_error(), "vki_batch_end: no batch is open on this context");
    OK(vki_batch_begin(ctx));
    assert_int_equal(vki_batch_begin(ctx), VKI_ERROR_INVALID_ARGUMENT);
    assert_string_equal(vki_last_error(), "vki_batch_begin: a batch is already open on this context");
    OK(vki_batch_end(ctx));
    assert_int_equal(vki_batch_begin(NULL), VKI_ERROR_INVALID_ARGUMENT);
    assert_int_equal(vki_batch_end(NULL), VKI_ERROR_INVALID_ARGUMENT);
}

/* A download inside a batch sees the calls queued before it. */
static void download_sees_queued_calls(void **state)
{
    (void)state;
    vki_context *ctx = test_context();
    vki_tensor *self = grid(ctx, 0), *serial = grid(ctx, 0);
    OK(step(serial, ctx, 7, -1, NULL));
    OK(vki_batch_begin(ctx));
    OK(step(self, ctx, 7, -1, NULL));
    float a[40], b[40];
    OK(vki_tensor_download(self, a, sizeof a));
    OK(vki_tensor_download(serial, b, sizeof b));
    assert_memory_equal(a, b, sizeof a);
    OK(vki_batch_end(ctx));
    vki_tensor_destroy(self);
    vki_tensor_destroy(serial);
}

/* Destroying a context with an open batch runs it and frees everything (ASan checks). */
static void destroy_with_open_batch(void **state)
{
    (void)state;
    vki_context *ctx;
    OK(vki_context_create(NULL, &ctx));
    vki_tensor *self = grid(ctx, 0);
    OK(vki_batch_begin(ctx));
    OK(step(self, ctx, 2, -1, NULL));
    vki_tensor_destroy(self);
    vki_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(same_as_one_by_one, test_close_batch),
        cmocka_unit_test_teardown(bad_index_named_by_position, test_close_batch),
        cmocka_unit_test_teardown(long_batches, test_close_batch),
        cmocka_unit_test_teardown(argument_errors_come_back_at_once, test_close_batch),
        cmocka_unit_test_teardown(no_op_calls_take_positions, test_close_batch),
        cmocka_unit_test_teardown(misuse, test_close_batch),
        cmocka_unit_test_teardown(download_sees_queued_calls, test_close_batch),
        cmocka_unit_test_teardown(destroy_with_open_batch, test_close_batch),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
