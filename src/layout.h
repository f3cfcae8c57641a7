/*
 * Layout arithmetic shared by the front door and the backends: checked 64-bit arithmetic,
 * contiguous strides, collapsing the dimensions of views that are walked together, and
 * copying between two strided host views of one shape. No argument checks live here.
 */
#ifndef VKI_LAYOUT_H
#define VKI_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>
#include "vkindex.h"
#include "backend.h"

/* Checked arithmetic: false on overflow (the result is then unspecified). */
static inline bool vki_mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}
static inline bool vki_add_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

/* A 16-byte element, moved as a whole. */
typedef struct vki_u128 { uint64_t lo, hi; } vki_u128;

/* PyTorch's contiguous (row-major) strides in elements; a size-0 dimension counts as 1.
 * false if a stride or the element count overflows int64. */
bool vki_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);

/* v with contiguous strides from element 0 (the layout of packed host data and clones). */
vki_view vki_view_packed(const vki_view *v);

/* Several views of one shape walked together, strides in bytes. */
typedef struct vki_loop {
    int ndim;
    int nviews;
    int64_t shape[VKI_MAX_DIMS];
    int64_t strides[3][VKI_MAX_DIMS];
} vki_loop;

/* Drops size-1 dimensions and merges neighbours that every view lays out contiguously
 * (stride[k] == stride[k+1] * shape[k+1]). The element order is unchanged. */
void vki_loop_collapse(vki_loop *loop);

/* The collapsed loop over dims [from, to) of nviews views of one shape (strides in bytes). */
vki_loop vki_loop_of_views(int nviews, const vki_view *const *views, int from, int to);

/* Whether a view's elements are one contiguous run in row-major order. */
bool vki_view_is_contiguous(const vki_view *v);

/* Product of shape[0..ndim) (1 for ndim 0). */
int64_t vki_numel(int ndim, const int64_t *shape);

/* Copies rows [row_begin, row_end) of a two-view loop: a row is the innermost dimension
 * (or the single element when ndim is 0). dst is view 0, src view 1, base pointers given. */
void vki_loop_copy_rows(const vki_loop *loop, char *dst, const char *src, int64_t elem_size,
                        int64_t row_begin, int64_t row_end);

/* Number of rows of a loop (product of all dims but the innermost). */
int64_t vki_loop_rows(const vki_loop *loop);

/* Copies `count` elements of elem_size between strided runs (strides in bytes). */
void vki_copy_run(char *dst, int64_t dst_stride, const char *src, int64_t src_stride,
                  int64_t count, int64_t elem_size);

/* The byte range [*lo, *hi) of storage that a view's elements occupy (empty: lo == hi). */
void vki_view_span(int ndim, const int64_t *shape, const int64_t *strides, int64_t offset,
                   int64_t elem_size, uint64_t *lo, uint64_t *hi);

#endif
