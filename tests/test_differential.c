/*
 * Differential test: the library against the naive reference (reference.c) on seeded random
 * cases covering every dtype, ranks 0-5, zero-size dims, every dim (negative too),
 * contiguous / padded / transposed layouts with offsets for all three tensors, unique and
 * duplicate indices, int64 and int32 index, in-place and out-of-place, and inputs sharing the
 * written tensor's storage. Every tensor lives in a larger storage filled with random sentinel
 * bytes and every byte of every storage is compared afterwards.
 *
 *   test_differential [--seed N] [--cases N] [--large N] [--case SEED [--case-size 5|96]]
 */
#include "common.h"
#include "reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t seed;
static int64_t small_cases = 3000, large_cases = 40, one_case_size = 5;
static uint64_t one_case;

typedef struct layout {
    int ndim;
    int64_t shape[VKI_MAX_DIMS];
    int64_t strides[VKI_MAX_DIMS];
    int64_t offset;
    int64_t span; /* elements from 0 to one past the last element */
} layout;

/* A random layout of shape: dims in a random order (transposed) or row-major, each padded by
 * 0-2 elements or not, with a random offset. */
static layout random_layout(test_rng *r, int ndim, const int64_t *shape, int64_t base_offset)
{
    layout l = {.ndim = ndim};
    int order[VKI_MAX_DIMS];
    for (int k = 0; k < ndim; k++)
        order[k] = k;
    const int style = (int)rng_below(r, 4); /* 0 contiguous, 1 padded, 2 transposed, 3 both */
    if (style >= 2)
        for (int k = ndim - 1; k > 0; k--) {
            int j = (int)rng_below(r, k + 1), t = order[k];
            order[k] = order[j];
            order[j] = t;
        }
    int64_t stride = 1;
    for (int k = ndim - 1; k >= 0; k--) {
        int dim = order[k];
        l.shape[dim] = shape[dim];
        l.strides[dim] = stride;
        int64_t extent = shape[dim] + ((style & 1) ? rng_below(r, 3) : 0);
        stride *= extent > 0 ? extent : 1;
    }
    l.offset = base_offset + (style ? rng_below(r, 8) : 0);
    int64_t last = l.offset;
    bool empty = false;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] == 0)
            empty = true;
        else
            last += (shape[k] - 1) * l.strides[k];
    }
    l.span = empty ? l.offset : last + 1;
    return l;
}

static bool layout_dense(const layout *l)
{
    return ref_is_dense(l->ndim, l->shape, l->strides);
}

static int64_t layout_numel(const layout *l)
{
    int64_t n = 1;
    for (int k = 0; k < l->ndim; k++)
        n *= l->shape[k];
    return n;
}

static ref_view ref_of(unsigned char *storage, const layout *l)
{
    ref_view v = {.storage = storage, .ndim = l->ndim, .offset = l->offset};
    memcpy(v.shape, l->shape, sizeof v.shape);
    memcpy(v.strides, l->strides, sizeof v.strides);
    return v;
}

/* A storage tensor of `elems` elements filled with random bytes, mirrored on the host. */
typedef struct storage {
    vki_tensor *base;
    int64_t elems;
    size_t bytes;
    unsigned char *before, *expected, *after;
} storage;

static storage make_storage(test_rng *r, vki_context *ctx, vki_dtype dtype, int64_t elems)
{
    storage s = {.elems = elems > 0 ? elems : 1};
    s.bytes = (size_t)s.elems * vki_dtype_size(dtype);
    s.before = malloc(s.bytes);
    s.expected = malloc(s.bytes);
    s.after = malloc(s.bytes);
    rng_fill(r, s.before, s.bytes);
    memcpy(s.expected, s.before, s.bytes);
    s.base = make_tensor(ctx, dtype, 1, &s.elems, s.before);
    return s;
}

static void storage_free(storage *s)
{
    vki_tensor_destroy(s->base);
    free(s->before);
    free(s->expected);
    free(s->after);
}

static vki_tensor *view_of(storage *s, const layout *l)
{
    vki_tensor *t = NULL;
    OK(vki_tensor_view(s->base, l->ndim, l->shape, l->strides, l->offset, &t));
    return t;
}

static char case_text[1024];

static void describe_layout(const char *name, const layout *l)
{
    size_t used = strlen(case_text);
    used += (size_t)snprintf(case_text + used, sizeof case_text - used, " %s[", name);
    for (int k = 0; k < l->ndim; k++)
        used += (size_t)snprintf(case_text + used, sizeof case_text - used, "%s%lld:%lld",
                                 k ? " " : "", (long long)l->shape[k], (long long)l->strides[k]);
    snprintf(case_text + used, sizeof case_text - used, "]+%lld", (long long)l->offset);
}

static void check_storage(storage *s, const char *what, uint64_t case_seed)
{
    download_storage(s->base, s->elems, s->after);
    for (size_t b = 0; b < s->bytes; b++)
        if (s->after[b] != s->expected[b])
            fail_msg("case seed %llu: %s storage differs at byte %zu of %zu: got 0x%02x, "
                     "expected 0x%02x (was 0x%02x); case:%s",
                     (unsigned long long)case_seed, what, b, s->bytes, s->after[b],
                     s->expected[b], s->before[b], case_text);
}

typedef struct case_stats {
    int64_t run, errors_expected, aliased, out_of_place, duplicates;
} case_stats;

/* One random case. max_size bounds each dim; the large cases use bigger dims. */
static void run_case(uint64_t case_seed, int64_t max_size, int max_ndim, case_stats *stats)
{
    test_rng rr = {case_seed}, *r = &rr;
    vki_context *ctx = test_context();
    const vki_dtype dtype = (vki_dtype)rng_below(r, VKI_DTYPE_COUNT);
    const int64_t es = (int64_t)vki_dtype_size(dtype);
    const int ndim = (int)rng_below(r, max_ndim + 1);
    int64_t shape[VKI_MAX_DIMS];
    for (int k = 0; k < ndim; k++)
        shape[k] = rng_below(r, 14) == 0 ? 0 : 1 + rng_below(r, max_size);
    const int wrap = ndim ? ndim : 1;
    const int64_t dim_arg = rng_below(r, 2 * wrap) - wrap;
    const int d = (int)(dim_arg < 0 ? dim_arg + wrap : dim_arg);
    const int64_t dim_size = ndim ? shape[d] : 1;

    /* Index count and values. */
    int64_t n = dim_size == 0 ? 0 : rng_below(r, 2 * dim_size + 2);
    if (max_size > 8 && dim_size > 0)
        n = rng_below(r, dim_size + 1) + (rng_below(r, 3) == 0 ? rng_below(r, dim_size) : 0);
    const bool unique = n <= dim_size && rng_below(r, 2);
    int64_t *values = malloc((size_t)(n ? n : 1) * sizeof *values);
    if (unique) {
        int64_t *perm = malloc((size_t)dim_size * sizeof *perm);
        for (int64_t i = 0; i < dim_size; i++)
            perm[i] = i;
        for (int64_t i = 0; i < n; i++) {
            int64_t j = i + rng_below(r, dim_size - i), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            values[i] = perm[i];
        }
        free(perm);
    } else {
        int64_t range = dim_size > 0 ? 1 + rng_below(r, dim_size) : 1;
        for (int64_t i = 0; i < n; i++)
            values[i] = rng_below(r, range);
        stats->duplicates += n > range;
    }
    const bool index_scalar = n == 1 && rng_below(r, 3) == 0;
    const vki_dtype index_dtype = rng_below(r, 3) == 0 ? VKI_INT32 : VKI_INT64;

    /* Source shape: self's with dim replaced by n; 0-d where PyTorch allows it. */
    int src_ndim = ndim;
    int64_t src_shape[VKI_MAX_DIMS];
    memcpy(src_shape, shape, sizeof src_shape);
    if (ndim == 0) {
        src_ndim = (n == 1 && rng_below(r, 2)) ? 0 : 1;
        src_shape[0] = n;
    } else {
        src_shape[d] = n;
        if (ndim == 1 && n == 1 && rng_below(r, 3) == 0)
            src_ndim = 0;
    }

    /* Layouts and storages. Sometimes the source shares self's storage. */
    layout out_l = random_layout(r, ndim, shape, 0);
    const bool alias = rng_below(r, 6) == 0;
    layout src_l = random_layout(r, src_ndim, src_shape, alias ? rng_below(r, out_l.span + 1) : 0);
    const int64_t idx_shape = n;
    layout idx_l = random_layout(r, index_scalar ? 0 : 1, &idx_shape, 0);
    const bool in_place = rng_below(r, 3) != 0;
    const bool out_same_view = !in_place && rng_below(r, 8) == 0;
    layout self_l = in_place || out_same_view ? out_l : random_layout(r, ndim, shape, 0);

    storage out_s = make_storage(r, ctx, dtype, (alias && src_l.span > out_l.span ? src_l.span
                                                                                   : out_l.span) +
                                                    rng_below(r, 8));
    storage self_s = {0}, src_s = {0};
    const bool self_separate = !in_place && !out_same_view;
    if (self_separate)
        self_s = make_storage(r, ctx, dtype, self_l.span + rng_below(r, 8));
    if (!alias)
        src_s = make_storage(r, ctx, dtype, src_l.span + rng_below(r, 8));
    storage idx_s = make_storage(r, ctx, index_dtype, idx_l.span + rng_below(r, 8));
    /* Index values go to the index view's positions; the rest of its storage stays random. */
    for (int64_t i = 0; i < n; i++) {
        int64_t at = idx_l.offset + (idx_l.ndim ? i * idx_l.strides[0] : 0);
        if (index_dtype == VKI_INT64) {
            memcpy(idx_s.before + at * 8, &values[i], 8);
        } else {
            int32_t v = (int32_t)values[i];
            memcpy(idx_s.before + at * 4, &v, 4);
        }
    }
    memcpy(idx_s.expected, idx_s.before, idx_s.bytes);
    OK(vki_tensor_upload(idx_s.base, idx_s.before, idx_s.bytes));

    storage *src_home = alias ? &out_s : &src_s;
    storage *self_home = self_separate ? &self_s : &out_s;
    vki_tensor *out = view_of(&out_s, &out_l);
    vki_tensor *self = self_separate ? view_of(&self_s, &self_l) : out;
    vki_tensor *source = view_of(src_home, &src_l);
    vki_tensor *index = view_of(&idx_s, &idx_l);

    /* Aliasing is a rule-3 error exactly when both are dense and their bytes intersect. */
    bool expect_error = false;
    if (alias && layout_numel(&out_l) > 0 && layout_numel(&src_l) > 0 && layout_dense(&out_l) &&
        layout_dense(&src_l))
        expect_error = src_l.offset < out_l.span && out_l.offset < src_l.span;
    snprintf(case_text, sizeof case_text, " %s dim %lld n %lld %s%s%s index %s",
             vki_dtype_name(dtype), (long long)dim_arg, (long long)n,
             in_place ? "in-place" : "out-of-place", out_same_view ? " (same view)" : "",
             alias ? " aliased" : "", vki_dtype_name(index_dtype));
    describe_layout("out", &out_l);
    describe_layout("self", &self_l);
    describe_layout("src", &src_l);
    describe_layout("idx", &idx_l);
    stats->aliased += alias;
    stats->out_of_place += !in_place;
    stats->errors_expected += expect_error;

    if (!expect_error) {
        ref_view o = ref_of(out_s.expected, &out_l);
        ref_view s = ref_of(self_home->before, &self_l);
        ref_view src = ref_of(src_home->before, &src_l);
        ref_view ix = ref_of(idx_s.before, &idx_l);
        ref_index_copy(&o, &s, d, &ix, (int)vki_dtype_size(index_dtype), &src, es);
    }

    vki_status st = in_place ? vki_index_copy_(out, dim_arg, index, source)
                             : vki_index_copy(out, self, dim_arg, index, source);
    if (expect_error) {
        if (st != VKI_ERROR_INVALID_ARGUMENT)
            fail_msg("case seed %llu: overlapping dense views gave %s, not "
                     "VKI_ERROR_INVALID_ARGUMENT", (unsigned long long)case_seed,
                     vki_status_string(st));
    } else if (st != VKI_OK) {
        fail_msg("case seed %llu: %s: %s (dtype %s, ndim %d, dim %lld, n %lld)",
                 (unsigned long long)case_seed, vki_status_string(st), vki_last_error(),
                 vki_dtype_name(dtype), ndim, (long long)dim_arg, (long long)n);
    }
    check_storage(&out_s, "out/self", case_seed);
    if (self_separate)
        check_storage(&self_s, "self", case_seed);
    if (!alias)
        check_storage(&src_s, "source", case_seed);
    check_storage(&idx_s, "index", case_seed);
    stats->run++;

    if (self != out)
        vki_tensor_destroy(self);
    vki_tensor_destroy(out);
    vki_tensor_destroy(source);
    vki_tensor_destroy(index);
    storage_free(&out_s);
    if (self_separate)
        storage_free(&self_s);
    if (!alias)
        storage_free(&src_s);
    storage_free(&idx_s);
    free(values);
}

static void report(const char *name, const case_stats *s)
{
    fprintf(stderr,
            "# %s: %lld cases (%lld out-of-place, %lld with duplicates, %lld sharing storage, "
            "%lld expected overlap errors)\n",
            name, (long long)s->run, (long long)s->out_of_place, (long long)s->duplicates,
            (long long)s->aliased, (long long)s->errors_expected);
}

static void small_random_cases(void **state)
{
    (void)state;
    case_stats stats = {0};
    test_rng r = {seed};
    if (one_case) {
        run_case(one_case, (int64_t)one_case_size, 5, &stats);
        return;
    }
    for (int64_t c = 0; c < small_cases; c++)
        run_case(rng_next(&r), 5, 5, &stats);
    report("small cases", &stats);
}

/* Larger tensors: slices big enough for the CPU backend's parallel split (over outer slices,
 * over index positions with duplicates, and within slices) and for many GPU workgroups. */
static void large_random_cases(void **state)
{
    (void)state;
    case_stats stats = {0};
    test_rng r = {seed ^ 0x5DEECE66Dull};
    for (int64_t c = 0; c < large_cases; c++)
        run_case(rng_next(&r), 96, 3, &stats);
    report("large cases", &stats);
}

int main(int argc, char **argv)
{
    seed = test_seed(argc, argv, "test_differential");
    small_cases = test_arg(argc, argv, "--cases", small_cases);
    large_cases = test_arg(argc, argv, "--large", large_cases);
    one_case = (uint64_t)test_arg(argc, argv, "--case", 0); /* replay one case by its seed */
    one_case_size = test_arg(argc, argv, "--case-size", one_case_size);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_random_cases),
        cmocka_unit_test(large_random_cases),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
