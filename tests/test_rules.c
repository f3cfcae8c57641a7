/*
 * One test per rule of the README's Semantics table: the status and the exact PyTorch message,
 * and that nothing was written (self, and out for the out-of-place form, keep every byte).
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    vki_context *ctx;
    vki_tensor *tensors[64];
    int count;
} fixture;

static fixture fx;

static vki_tensor *keep(vki_tensor *t)
{
    fx.tensors[fx.count++] = t;
    return t;
}

/* A float tensor filled with 1000 + i so every element is distinct and non-zero. */
static vki_tensor *floats(int ndim, const int64_t *shape)
{
    vki_tensor *t = keep(make_tensor(fx.ctx, VKI_FLOAT32, ndim, shape, NULL));
    int64_t n = vki_tensor_numel(t);
    float *host = malloc((size_t)(n ? n : 1) * sizeof *host);
    for (int64_t i = 0; i < n; i++)
        host[i] = 1000.0f + (float)i;
    OK(vki_tensor_upload(t, host, (size_t)n * sizeof *host));
    free(host);
    return t;
}

static vki_tensor *typed(vki_dtype dtype, int ndim, const int64_t *shape)
{
    vki_tensor *t = keep(make_tensor(fx.ctx, dtype, ndim, shape, NULL));
    size_t bytes = (size_t)vki_tensor_numel(t) * vki_dtype_size(dtype);
    unsigned char *host = calloc(1, bytes + 1);
    OK(vki_tensor_upload(t, host, bytes));
    free(host);
    return t;
}

static vki_tensor *longs(int ndim, int64_t count, const int64_t *values)
{
    vki_tensor *t = keep(make_tensor(fx.ctx, VKI_INT64, ndim, &count, values));
    return t;
}

static int setup(void **state)
{
    (void)state;
    fx.ctx = test_context();
    fx.count = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < fx.count; i++)
        vki_tensor_destroy(fx.tensors[i]);
    fx.count = 0;
    return 0;
}

/* Runs the call, checks status and message, and that t's elements are as before. */
#define EXPECT_FAIL(call, status, message, untouched)                                          \
    do {                                                                                       \
        int64_t n_ = vki_tensor_numel(untouched);                                              \
        size_t b_ = (size_t)n_ * vki_dtype_size(vki_tensor_dtype(untouched));                  \
        unsigned char *before_ = malloc(b_ + 1), *after_ = malloc(b_ + 1);                     \
        OK(vki_tensor_download(untouched, before_, b_));                                       \
        vki_status st_ = (call);                                                               \
        assert_int_equal(st_, status);                                                         \
        assert_string_equal(vki_last_error(), message);                                        \
        OK(vki_tensor_download(untouched, after_, b_));                                        \
        assert_memory_equal(before_, after_, b_);                                              \
        free(before_);                                                                         \
        free(after_);                                                                          \
    } while (0)

static const int64_t s3x4[] = {3, 4}, s3x1[] = {3, 1}, s5[] = {5}, s4x5[] = {4, 5},
                     s4x6[] = {4, 6}, s2[] = {2}, s3[] = {3}, s5x2[] = {5, 2};

static void rule01_dim_out_of_range(void **state)
{
    (void)state;
    vki_tensor *self = floats(2, s3x4), *src = floats(2, s3x1);
    vki_tensor *idx = longs(1, 1, (int64_t[]){0});
    EXPECT_FAIL(vki_index_copy_(self, 2, idx, src), VKI_ERROR_INDEX,
                "Dimension out of range (expected to be in range of [-2, 1], but got 2)", self);
    EXPECT_FAIL(vki_index_copy_(self, -3, idx, src), VKI_ERROR_INDEX,
                "Dimension out of range (expected to be in range of [-2, 1], but got -3)", self);
    vki_tensor *scalar = floats(0, NULL), *src0 = floats(0, NULL);
    EXPECT_FAIL(vki_index_copy_(scalar, 1, idx, src0), VKI_ERROR_INDEX,
                "Dimension out of range (expected to be in range of [-1, 0], but got 1)", scalar);
}

static void rule02_internal_overlap(void **state)
{
    (void)state;
    vki_tensor *base = floats(1, (int64_t[]){10}), *expanded;
    OK(vki_tensor_view(base, 2, (int64_t[]){3, 10}, (int64_t[]){0, 1}, 0, &expanded));
    keep(expanded);
    vki_tensor *src = floats(2, (int64_t[]){1, 10}), *idx = longs(1, 1, (int64_t[]){1});
    EXPECT_FAIL(vki_index_copy_(expanded, 0, idx, src), VKI_ERROR_INVALID_ARGUMENT,
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation.",
                base);
}

static void rule03_overlap(void **state)
{
    (void)state;
    static const char msg[] =
        "unsupported operation: some elements of the input tensor and the written-to tensor "
        "refer to a single memory location. Please clone() the tensor before performing the "
        "operation.";
    vki_tensor *base = floats(1, (int64_t[]){10}), *head, *tail, *same;
    OK(vki_tensor_view(base, 1, (int64_t[]){5}, (int64_t[]){1}, 0, &head));
    OK(vki_tensor_view(base, 1, (int64_t[]){1}, (int64_t[]){1}, 4, &tail));
    OK(vki_tensor_view(base, 1, (int64_t[]){1}, (int64_t[]){1}, 5, &same));
    keep(head);
    keep(tail);
    keep(same);
    vki_tensor *idx = longs(1, 1, (int64_t[]){1});
    EXPECT_FAIL(vki_index_copy_(head, 0, idx, tail), VKI_ERROR_INVALID_ARGUMENT, msg, base);
    EXPECT_FAIL(vki_index_copy_(head, 0, idx, head), VKI_ERROR_INVALID_ARGUMENT, msg, base);
    /* Just past the end is no overlap (PyTorch agrees). */
    OK(vki_index_copy_(head, 0, idx, same));

    /* index overlapping self: a Long self and a view of it as index. */
    int64_t vals[4] = {0, 1, 2, 3};
    vki_tensor *lbase = longs(1, 4, vals), *lidx;
    OK(vki_tensor_view(lbase, 1, (int64_t[]){1}, (int64_t[]){1}, 2, &lidx));
    keep(lidx);
    vki_tensor *lsrc = typed(VKI_INT64, 1, (int64_t[]){1});
    EXPECT_FAIL(vki_index_copy_(lbase, 0, lidx, lsrc), VKI_ERROR_INVALID_ARGUMENT, msg, lbase);

    /* Out of place: out overlapping self is an error unless it is the very same view. */
    vki_tensor *shifted, *src1 = floats(1, (int64_t[]){1});
    OK(vki_tensor_view(base, 1, (int64_t[]){5}, (int64_t[]){1}, 2, &shifted));
    keep(shifted);
    EXPECT_FAIL(vki_index_copy(shifted, head, 0, idx, src1), VKI_ERROR_INVALID_ARGUMENT, msg,
                base);
    OK(vki_index_copy(head, head, 0, idx, src1));
}

static void rule04_index_rank(void **state)
{
    (void)state;
    vki_tensor *self = floats(1, s5), *src = floats(1, s2);
    vki_tensor *idx = keep(make_tensor(fx.ctx, VKI_INT64, 2, (int64_t[]){1, 2},
                                       (int64_t[]){1, 2}));
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INDEX,
                "index_copy_(): Index should have dimension 1 or 0 (got 2)", self);
}

static void rule05_scalar_source(void **state)
{
    (void)state;
    vki_tensor *self = floats(1, s5), *src = floats(0, NULL);
    vki_tensor *idx = longs(1, 2, (int64_t[]){1, 2});
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INDEX,
                "index_copy_(): When source is scalar, index should have one element (got 2)",
                self);
}

static void rule06_dimensionality(void **state)
{
    (void)state;
    vki_tensor *self = floats(2, s5x2), *src = floats(1, s2);
    vki_tensor *idx = longs(1, 2, (int64_t[]){1, 2});
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INDEX,
                "index_copy_(): When source and destination are not scalars, their "
                "dimensionality must match. Source dimensionality (1), destination "
                "dimensionality (2)",
                self);
}

static void rule07_index_dtype(void **state)
{
    (void)state;
    static const struct { vki_dtype dtype; const char *name; } bad[] = {
        {VKI_INT16, "Short"}, {VKI_UINT8, "Byte"}, {VKI_FLOAT32, "Float"},
        {VKI_FLOAT16, "Half"}, {VKI_BOOL, "Bool"}, {VKI_UINT64, "UInt64"},
        {VKI_FLOAT64, "Double"}, {VKI_COMPLEX64, "ComplexFloat"}, {VKI_INT8, "Char"},
        {VKI_UINT32, "UInt32"}, {VKI_BFLOAT16, "BFloat16"}, {VKI_FLOAT8_E5M2, "Float8_e5m2"},
    };
    vki_tensor *self = floats(1, s5), *src = floats(1, (int64_t[]){1});
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vki_tensor *idx = typed(bad[i].dtype, 1, (int64_t[]){1});
        char msg[200];
        snprintf(msg, sizeof msg, "index_copy_(): Expected a long tensor for index, but got %s",
                 bad[i].name);
        EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INVALID_ARGUMENT, msg, self);
        vki_tensor_destroy(idx);
        fx.count--;
    }
    /* int32 is the one accepted extension. */
    int32_t one = 1;
    vki_tensor *idx32 = keep(make_tensor(fx.ctx, VKI_INT32, 1, (int64_t[]){1}, &one));
    OK(vki_index_copy_(self, 0, idx32, src));
}

static void rule08_dtype_mismatch(void **state)
{
    (void)state;
    vki_tensor *self = floats(1, s5), *src = typed(VKI_FLOAT64, 1, (int64_t[]){1});
    vki_tensor *idx = longs(1, 1, (int64_t[]){1});
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INVALID_ARGUMENT,
                "index_copy_(): self and source expected to have the same dtype, but got "
                "(self) Float and (source) Double",
                self);
    vki_tensor *bself = typed(VKI_BFLOAT16, 1, s5), *csrc = typed(VKI_COMPLEX64, 1, (int64_t[]){1});
    EXPECT_FAIL(vki_index_copy_(bself, 0, idx, csrc), VKI_ERROR_INVALID_ARGUMENT,
                "index_copy_(): self and source expected to have the same dtype, but got "
                "(self) BFloat16 and (source) ComplexFloat",
                bself);
}

static void rule09_contexts(void **state)
{
    (void)state;
    vki_context *other;
    OK(vki_context_create(NULL, &other));
    vki_tensor *self = floats(1, s5), *idx = longs(1, 1, (int64_t[]){1});
    vki_tensor *src = make_tensor(other, VKI_FLOAT32, 1, (int64_t[]){1}, (float[]){7});
    int64_t before[5];
    OK(vki_tensor_download(self, before, sizeof(float) * 5));
    assert_int_equal(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INVALID_ARGUMENT);
    const char *msg = vki_last_error();
    const char prefix[] = "index_copy_(): self, index and source expected to be in the same "
                          "context, but got (self) context ";
    assert_memory_equal(msg, prefix, sizeof prefix - 1);
    assert_non_null(strstr(msg, ", (index) context "));
    assert_non_null(strstr(msg, ", and (source) context "));
    assert_non_null(strstr(msg, vki_context_device_name(fx.ctx)));
    int64_t after[5];
    OK(vki_tensor_download(self, after, sizeof(float) * 5));
    assert_memory_equal(before, after, sizeof(float) * 5);
    /* Out of place, out in another context. */
    vki_tensor *out = make_tensor(other, VKI_FLOAT32, 1, s5, NULL);
    vki_tensor *src1 = floats(1, (int64_t[]){1});
    assert_int_equal(vki_index_copy(out, self, 0, idx, src1), VKI_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(vki_last_error(),
                           "index_copy(): out and self expected to be in the same context"));
    vki_tensor_destroy(out);
    vki_tensor_destroy(src);
    vki_context_destroy(other);
}

static void rule10_slice_shapes(void **state)
{
    (void)state;
    vki_tensor *self = floats(2, s4x5), *src = floats(2, s4x6);
    vki_tensor *idx = longs(1, 4, (int64_t[]){0, 1, 2, 3});
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INVALID_ARGUMENT,
                "index_copy_(): Source/destination tensor must have same slice shapes. "
                "Destination slice shape: 5 at dimension 0 and source slice shape: 6 at "
                "dimension 0.",
                self);
    vki_tensor *self3 = floats(3, (int64_t[]){5, 2, 3}), *src3 = floats(3, (int64_t[]){4, 1, 2});
    vki_tensor *idx1 = longs(1, 1, (int64_t[]){1});
    EXPECT_FAIL(vki_index_copy_(self3, 1, idx1, src3), VKI_ERROR_INVALID_ARGUMENT,
                "index_copy_(): Source/destination tensor must have same slice shapes. "
                "Destination slice shape: 5 3 at dimension 1 and source slice shape: 4 2 at "
                "dimension 0.",
                self3);
    /* A scalar's slice shape is empty. */
    vki_tensor *src0 = floats(0, NULL);
    EXPECT_FAIL(vki_index_copy_(self, 0, idx1, src0), VKI_ERROR_INVALID_ARGUMENT,
                "index_copy_(): Source/destination tensor must have same slice shapes. "
                "Destination slice shape: 5 at dimension 0 and source slice shape:  at "
                "dimension 0.",
                self);
}

static void rule11_index_count(void **state)
{
    (void)state;
    vki_tensor *self = floats(1, s5), *src = floats(1, s3);
    vki_tensor *idx = longs(1, 2, (int64_t[]){1, 2});
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INDEX,
                "index_copy_(): Number of indices (2) should be equal to source.size(dim) (3)",
                self);
}

static void rule12_index_value(void **state)
{
    (void)state;
    vki_tensor *self = floats(1, s5), *src = floats(1, s3);
    /* The first bad position is reported; valid positions before it are not written. */
    vki_tensor *idx = longs(1, 3, (int64_t[]){1, 9, -1});
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INDEX,
                "index_copy_(): index 9 is out of bounds for dimension 0 with size 5", self);
    vki_tensor *neg = longs(1, 3, (int64_t[]){1, -1, 9});
    EXPECT_FAIL(vki_index_copy_(self, 0, neg, src), VKI_ERROR_INDEX,
                "index_copy_(): index -1 is out of bounds for dimension 0 with size 5", self);
    /* A 64-bit value is checked in full, never truncated to 32 bits. */
    vki_tensor *big = longs(1, 3, (int64_t[]){0, (int64_t)1 << 32 | 2, 1});
    EXPECT_FAIL(vki_index_copy_(self, 0, big, src), VKI_ERROR_INDEX,
                "index_copy_(): index 4294967298 is out of bounds for dimension 0 with size 5",
                self);
    /* int32 index. */
    int32_t v32[3] = {4, 0, 5};
    vki_tensor *i32 = keep(make_tensor(fx.ctx, VKI_INT32, 1, s3, v32));
    EXPECT_FAIL(vki_index_copy_(self, 0, i32, src), VKI_ERROR_INDEX,
                "index_copy_(): index 5 is out of bounds for dimension 0 with size 5", self);
    /* Negative dim: the message names the wrapped dim. */
    vki_tensor *self2 = floats(2, s3x4), *src2 = floats(2, s3x1);
    vki_tensor *idx4 = longs(1, 1, (int64_t[]){4});
    EXPECT_FAIL(vki_index_copy_(self2, -1, idx4, src2), VKI_ERROR_INDEX,
                "index_copy_(): index 4 is out of bounds for dimension 1 with size 4", self2);
    /* Out of place: out is not written either. */
    vki_tensor *out = floats(1, s5);
    EXPECT_FAIL(vki_index_copy(out, self, 0, idx, src), VKI_ERROR_INDEX,
                "index_copy_(): index 9 is out of bounds for dimension 0 with size 5", out);
    /* A 0-d self has one slot. */
    vki_tensor *scalar = floats(0, NULL), *src0 = floats(0, NULL);
    vki_tensor *one = longs(0, 1, (int64_t[]){1});
    EXPECT_FAIL(vki_index_copy_(scalar, 0, one, src0), VKI_ERROR_INDEX,
                "index_copy_(): index 1 is out of bounds for dimension 0 with size 1", scalar);
    /* Empty slices: PyTorch checks no index values, and nothing is copied. */
    vki_tensor *empty = floats(2, (int64_t[]){0, 5}), *esrc = floats(2, (int64_t[]){0, 1});
    OK(vki_index_copy_(empty, 1, idx4, esrc));
    /* A size-0 dim with a non-empty slice: every index is out of range. */
    vki_tensor *zero = floats(1, (int64_t[]){0}), *src1 = floats(1, (int64_t[]){1});
    vki_tensor *zidx = longs(1, 1, (int64_t[]){0});
    EXPECT_FAIL(vki_index_copy_(zero, 0, zidx, src1), VKI_ERROR_INDEX,
                "index_copy_(): index 0 is out of bounds for dimension 0 with size 0", self);
}

static void out_shape_and_dtype(void **state)
{
    (void)state;
    vki_tensor *self = floats(1, s5), *src = floats(1, (int64_t[]){1});
    vki_tensor *idx = longs(1, 1, (int64_t[]){1});
    vki_tensor *out6 = floats(1, (int64_t[]){6});
    EXPECT_FAIL(vki_index_copy(out6, self, 0, idx, src), VKI_ERROR_INVALID_ARGUMENT,
                "Expected out tensor to have shape [5] (the shape of self), but got [6] instead",
                out6);
    vki_tensor *outd = typed(VKI_FLOAT64, 1, s5);
    EXPECT_FAIL(vki_index_copy(outd, self, 0, idx, src), VKI_ERROR_INVALID_ARGUMENT,
                "Expected out tensor to have dtype Float, but got Double instead", outd);
}

/* Rules apply in PyTorch's order: a call breaking several reports the first. */
static void rules_in_order(void **state)
{
    (void)state;
    vki_tensor *self = floats(2, s5x2), *src = typed(VKI_FLOAT64, 1, s3);
    vki_tensor *idx2 = keep(make_tensor(fx.ctx, VKI_INT64, 2, (int64_t[]){1, 2},
                                        (int64_t[]){1, 2}));
    /* dim (1) before index rank (4) before dimensionality (6) before dtype (8) */
    EXPECT_FAIL(vki_index_copy_(self, 5, idx2, src), VKI_ERROR_INDEX,
                "Dimension out of range (expected to be in range of [-2, 1], but got 5)", self);
    EXPECT_FAIL(vki_index_copy_(self, 0, idx2, src), VKI_ERROR_INDEX,
                "index_copy_(): Index should have dimension 1 or 0 (got 2)", self);
    vki_tensor *idx = longs(1, 3, (int64_t[]){1, 2, 3});
    EXPECT_FAIL(vki_index_copy_(self, 0, idx, src), VKI_ERROR_INDEX,
                "index_copy_(): When source and destination are not scalars, their "
                "dimensionality must match. Source dimensionality (1), destination "
                "dimensionality (2)",
                self);
    /* index dtype (7) before source dtype (8); slice shape (10) before count (11). */
    vki_tensor *fidx = typed(VKI_FLOAT32, 1, s3), *src2 = typed(VKI_FLOAT64, 2, (int64_t[]){3, 2});
    EXPECT_FAIL(vki_index_copy_(self, 0, fidx, src2), VKI_ERROR_INVALID_ARGUMENT,
                "index_copy_(): Expected a long tensor for index, but got Float", self);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rule01_dim_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(rule02_internal_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(rule03_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(rule04_index_rank, setup, teardown),
        cmocka_unit_test_setup_teardown(rule05_scalar_source, setup, teardown),
        cmocka_unit_test_setup_teardown(rule06_dimensionality, setup, teardown),
        cmocka_unit_test_setup_teardown(rule07_index_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(rule08_dtype_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(rule09_contexts, setup, teardown),
        cmocka_unit_test_setup_teardown(rule10_slice_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(rule11_index_count, setup, teardown),
        cmocka_unit_test_setup_teardown(rule12_index_value, setup, teardown),
        cmocka_unit_test_setup_teardown(out_shape_and_dtype, setup, teardown),
        cmocka_unit_test_setup_teardown(rules_in_order, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
