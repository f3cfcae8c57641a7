/*
 * A written tensor whose elements may share memory without a zero stride (shape [3, 2] with
 * strides [1, 1]: element (a, b) lives at a + b) is no rule-2 error for PyTorch, and the result
 * then depends on the order of the writes. PyTorch 1.13 writes in its TensorIterator's order
 * (dims sorted by the operands' strides, innermost first), one element after another; every
 * backend here would write in parallel. So such calls run on the host, in PyTorch's order,
 * through the backend's transfers: the written tensor's bytes are read, written in that order,
 * and put back. Such views are rare and small; correctness is what counts.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

bool vki_may_overlap_itself(const vki_view *v)
{
    /* Sufficient for no overlap: with the dims of size > 1 sorted by stride, each stride is
     * larger than the furthest element of the dims before it. */
    int dims[VKI_MAX_DIMS], n = 0;
    for (int k = 0; k < v->ndim; k++)
        if (v->shape[k] > 1)
            dims[n++] = k;
    if (vki_numel(v->ndim, v->shape) == 0)
        return false;
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && v->strides[dims[b]] < v->strides[dims[b - 1]]; b--) {
            int t = dims[b];
            dims[b] = dims[b - 1];
            dims[b - 1] = t;
        }
    int64_t reach = 0; /* the furthest element of the dims so far, in elements */
    for (int i = 0; i < n; i++) {
        const int64_t s = v->strides[dims[i]];
        if (s <= reach)
            return true;
        reach += (v->shape[dims[i]] - 1) * s;
    }
    return false;
}

/* PyTorch's TensorIterator order: perm[0] is the innermost dim. For two dims, the first operand
 * whose strides differ strictly decides (a zero stride defers to the next operand); equal strides
 * put the smaller size inside. Insertion sort, as ambiguous pairs stay where they are. */
static void iterator_order(int ndim, const int64_t *shape, int nops, int64_t strides[][VKI_MAX_DIMS],
                           int *perm)
{
    for (int i = 0; i < ndim; i++)
        perm[i] = ndim - 1 - i;
    for (int i = 1; i < ndim; i++) {
        int dim1 = i;
        for (int dim0 = i - 1; dim0 >= 0; dim0--) {
            int cmp = 0;
            for (int o = 0; o < nops && cmp == 0; o++) {
                const int64_t s0 = strides[o][perm[dim0]], s1 = strides[o][perm[dim1]];
                if (s0 == 0 || s1 == 0)
                    continue;
                if (s0 != s1) {
                    cmp = s0 < s1 ? -1 : 1;
                    break;
                }
                if (shape[perm[dim0]] > shape[perm[dim1]])
                    cmp = 1;
            }
            if (cmp > 0) {
                int t = perm[dim0];
                perm[dim0] = perm[dim1];
                perm[dim1] = t;
                dim1 = dim0;
            } else if (cmp < 0) {
                break;
            }
        }
    }
}

/* Visits every coordinate of shape in `perm` order (perm[0] fastest); false when done. */
static bool next_coordinate(int ndim, const int64_t *shape, const int *perm, int64_t *c)
{
    for (int i = 0; i < ndim; i++) {
        const int k = perm[i];
        if (++c[k] < shape[k])
            return true;
        c[k] = 0;
    }
    return false;
}

static int64_t packed_position(int ndim, const int64_t *shape, const int64_t *c)
{
    int64_t p = 0;
    for (int k = 0; k < ndim; k++)
        p = p * shape[k] + c[k];
    return p;
}

/* The packed elements of a view, read through the backend. */
static vki_status read_view(vki_context *ctx, const vki_view *v, void **out)
{
    const int64_t bytes = vki_numel(v->ndim, v->shape) * v->elem_size;
    *out = vki_malloc(bytes ? (size_t)bytes : 1);
    if (!*out)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "index_copy_: out of host memory");
    return bytes ? ctx->ops->download(ctx->impl, v, *out) : VKI_OK;
}

/* The index values as int64; VKI_ERROR_INDEX with *bad for the first one outside dim_size. */
static vki_status read_index(vki_context *ctx, const vki_view *index, int64_t dim_size,
                             int64_t **out, vki_bad_index *bad)
{
    unsigned char *idx;
    vki_status st = read_view(ctx, index, (void **)&idx);
    const int64_t n = index->shape[0];
    int64_t *values = st == VKI_OK ? vki_malloc((size_t)n * sizeof *values) : NULL;
    if (st == VKI_OK && !values)
        st = vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "index_copy_: out of host memory");
    for (int64_t i = 0; st == VKI_OK && i < n; i++) {
        if (index->elem_size == 8) {
            memcpy(&values[i], idx + 8 * i, 8);
        } else {
            int32_t v;
            memcpy(&v, idx + 4 * i, 4);
            values[i] = v;
        }
        if (values[i] < 0 || values[i] >= dim_size) { /* nothing is written */
            *bad = (vki_bad_index){.call = 0, .position = i, .value = values[i]};
            st = VKI_ERROR_INDEX;
        }
    }
    free(idx);
    *out = values;
    return st;
}

/* out.copy_(self) of an out-of-place call, in copy_'s order; out holds dst's byte span. */
static void copy_base(const vki_view *dst, const vki_view *base, const unsigned char *from,
                      unsigned char *out)
{
    const int nd = dst->ndim;
    const int64_t es = dst->elem_size;
    int64_t strides[3][VKI_MAX_DIMS], c[VKI_MAX_DIMS] = {0};
    int perm[VKI_MAX_DIMS];
    for (int k = 0; k < nd; k++) {
        strides[0][k] = dst->strides[k] * es;
        strides[1][k] = base->strides[k] * es;
    }
    iterator_order(nd, dst->shape, 2, strides, perm);
    do {
        int64_t at = 0; /* the span starts at the view's offset */
        for (int k = 0; k < nd; k++)
            at += c[k] * dst->strides[k] * es;
        memcpy(out + at, from + packed_position(nd, dst->shape, c) * es, (size_t)es);
    } while (next_coordinate(nd, dst->shape, perm, c));
}

/* The index_copy writes in PyTorch's order: its operands are self with a zero stride along
 * dim, the index along dim only, and the source; the iteration runs over the source's shape. */
static void scatter(const vki_copy_op *op, const int64_t *values, const unsigned char *src,
                    unsigned char *out)
{
    const vki_view *dst = &op->dst, *s = &op->src;
    const int d = op->dim, nd = dst->ndim;
    const int64_t es = dst->elem_size;
    int64_t strides[3][VKI_MAX_DIMS], c[VKI_MAX_DIMS] = {0};
    int perm[VKI_MAX_DIMS];
    for (int k = 0; k < nd; k++) {
        strides[0][k] = k == d ? 0 : dst->strides[k] * es;
        strides[1][k] = k == d ? op->index.strides[0] * op->index.elem_size : 0;
        strides[2][k] = s->strides[k] * es;
    }
    iterator_order(nd, s->shape, 3, strides, perm);
    do {
        int64_t at = 0;
        for (int k = 0; k < nd; k++)
            at += (k == d ? values[c[k]] : c[k]) * dst->strides[k] * es;
        memcpy(out + at, src + packed_position(nd, s->shape, c) * es, (size_t)es);
    } while (next_coordinate(nd, s->shape, perm, c));
}

vki_status vki_index_copy_sequential(vki_context *ctx, const vki_copy_op *op, vki_bad_index *bad)
{
    const vki_view *dst = &op->dst;
    const int64_t es = dst->elem_size;
    /* The written tensor's bytes, as one byte view of its storage. */
    int64_t lo = dst->offset, hi = dst->offset;
    for (int k = 0; k < dst->ndim; k++)
        hi += (dst->shape[k] - 1) * dst->strides[k];
    vki_view span = {.storage = dst->storage, .offset = lo * es, .elem_size = 1, .ndim = 1,
                     .shape = {(hi + 1 - lo) * es}, .strides = {1}};
    unsigned char *out = NULL, *src = NULL, *base = NULL;
    int64_t *values = NULL;
    vki_status st = read_view(ctx, &span, (void **)&out);
    if (st == VKI_OK && op->check_index)
        st = read_index(ctx, &op->index, dst->shape[op->dim], &values, bad);
    if (st == VKI_OK && op->check_index)
        st = read_view(ctx, &op->src, (void **)&src);
    if (st == VKI_OK && op->base.storage)
        st = read_view(ctx, &op->base, (void **)&base);
    if (st == VKI_OK && base)
        copy_base(dst, &op->base, base, out);
    if (st == VKI_OK && op->check_index)
        scatter(op, values, src, out);
    if (st == VKI_OK)
        st = ctx->ops->upload(ctx->impl, &span, out);
    free(values);
    free(out);
    free(src);
    free(base);
    return st;
}
