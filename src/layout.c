/*
 * Dimension collapsing and host-side strided copies (see layout.h). The element copy is
 * bitwise; elements are moved with fixed-size memcpy so the compiler emits plain loads and
 * stores of the element width without alignment or aliasing assumptions.
 */
#include "layout.h"

#include <stdbool.h>
#include <string.h>

int64_t vki_numel(int ndim, const int64_t *shape)
{
    /* An empty shape may have other sizes whose product overflows ([INT64_MAX, 2, 0]); a
     * non-empty one was checked to fit when the tensor or view was made. */
    for (int k = 0; k < ndim; k++)
        if (shape[k] == 0)
            return 0;
    int64_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= shape[k];
    return n;
}

void vki_loop_collapse(vki_loop *loop)
{
    int out = 0;
    for (int k = 0; k < loop->ndim; k++) {
        if (loop->shape[k] == 1)
            continue;
        loop->shape[out] = loop->shape[k];
        for (int v = 0; v < loop->nviews; v++)
            loop->strides[v][out] = loop->strides[v][k];
        out++;
    }
    loop->ndim = out;
    if (out == 0)
        return;
    int merged = 0;
    for (int k = 1; k < loop->ndim; k++) {
        bool mergeable = true;
        for (int v = 0; v < loop->nviews; v++)
            if (loop->strides[v][merged] != loop->strides[v][k] * loop->shape[k])
                mergeable = false;
        if (mergeable) {
            loop->shape[merged] *= loop->shape[k];
            for (int v = 0; v < loop->nviews; v++)
                loop->strides[v][merged] = loop->strides[v][k];
        } else {
            merged++;
            loop->shape[merged] = loop->shape[k];
            for (int v = 0; v < loop->nviews; v++)
                loop->strides[v][merged] = loop->strides[v][k];
        }
    }
    loop->ndim = merged + 1;
}

int64_t vki_loop_rows(const vki_loop *loop)
{
    return loop->ndim == 0 ? 1 : vki_numel(loop->ndim - 1, loop->shape);
}

#define COPY_STRIDED(T)                                                                        \
    for (int64_t i = 0; i < count; i++)                                                        \
        memcpy(dst + i * dst_stride, src + i * src_stride, sizeof(T))

void vki_copy_run(char *dst, int64_t dst_stride, const char *src, int64_t src_stride,
                  int64_t count, int64_t elem_size)
{
    if (dst_stride == elem_size && src_stride == elem_size) {
        memcpy(dst, src, (size_t)(count * elem_size));
        return;
    }
    switch (elem_size) {
    case 1: COPY_STRIDED(uint8_t); break;
    case 2: COPY_STRIDED(uint16_t); break;
    case 4: COPY_STRIDED(uint32_t); break;
    case 8: COPY_STRIDED(uint64_t); break;
    default: COPY_STRIDED(vki_u128); break;
    }
}

void vki_loop_copy_rows(const vki_loop *loop, char *dst, const char *src, int64_t elem_size,
                        int64_t row_begin, int64_t row_end)
{
    if (loop->ndim == 0) {
        if (row_begin < row_end)
            memcpy(dst, src, (size_t)elem_size);
        return;
    }
    const int last = loop->ndim - 1;
    /* Decode row_begin into a counter over the outer dims, then step it. */
    int64_t counter[VKI_MAX_DIMS] = {0};
    int64_t rem = row_begin, doff = 0, soff = 0;
    for (int k = last - 1; k >= 0; k--) {
        counter[k] = rem % loop->shape[k];
        rem /= loop->shape[k];
        doff += counter[k] * loop->strides[0][k];
        soff += counter[k] * loop->strides[1][k];
    }
    for (int64_t r = row_begin; r < row_end; r++) {
        vki_copy_run(dst + doff, loop->strides[0][last], src + soff, loop->strides[1][last],
                     loop->shape[last], elem_size);
        for (int k = last - 1; k >= 0; k--) {
            doff += loop->strides[0][k];
            soff += loop->strides[1][k];
            if (++counter[k] < loop->shape[k])
                break;
            doff -= counter[k] * loop->strides[0][k];
            soff -= counter[k] * loop->strides[1][k];
            counter[k] = 0;
        }
    }
}

void vki_view_span(int ndim, const int64_t *shape, const int64_t *strides, int64_t offset,
                   int64_t elem_size, uint64_t *lo, uint64_t *hi)
{
    /* An empty view may sit at any offset with any strides: it spans nothing. Otherwise the
     * whole span lies inside its storage (checked when the view was made). */
    for (int k = 0; k < ndim; k++)
        if (shape[k] == 0) {
            *lo = *hi = 0;
            return;
        }
    int64_t last = 0;
    for (int k = 0; k < ndim; k++)
        if (shape[k] > 1)
            last += (shape[k] - 1) * strides[k];
    *lo = (uint64_t)(offset * elem_size);
    *hi = (uint64_t)((offset + last + 1) * elem_size);
}

bool vki_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides)
{
    uint64_t s = 1;
    for (int k = ndim - 1; k >= 0; k--) {
        if (s > INT64_MAX)
            return false;
        strides[k] = (int64_t)s;
        if (!vki_mul_u64(s, shape[k] > 1 ? (uint64_t)shape[k] : 1, &s))
            return false;
    }
    return s <= INT64_MAX;
}

vki_view vki_view_packed(const vki_view *v)
{
    vki_view p = *v;
    p.offset = 0;
    vki_contiguous_strides(v->ndim, v->shape, p.strides); /* cannot overflow: v is valid */
    return p;
}

vki_loop vki_loop_of_views(int nviews, const vki_view *const *views, int from, int to)
{
    vki_loop loop = {.ndim = to - from, .nviews = nviews};
    for (int k = from; k < to; k++) {
        loop.shape[k - from] = views[0]->shape[k];
        for (int v = 0; v < nviews; v++)
            loop.strides[v][k - from] = views[v]->strides[k] * views[v]->elem_size;
    }
    vki_loop_collapse(&loop);
    return loop;
}

bool vki_view_is_contiguous(const vki_view *v)
{
    const vki_loop loop = vki_loop_of_views(1, &v, 0, v->ndim);
    return loop.ndim == 0 || (loop.ndim == 1 && loop.strides[0][0] == v->elem_size);
}
