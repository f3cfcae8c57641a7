/*
 * The naive reference of index_copy_, for the tests and vkindex-bench's check: element by
 * element over host copies of whole storages, so stray writes and aliasing are modelled exactly.
 */
#ifndef VKI_TESTS_REFERENCE_H
#define VKI_TESTS_REFERENCE_H

#include <stdbool.h>
#include <stdint.h>
#include "vkindex.h"

typedef struct ref_view {
    unsigned char *storage; /* host copy of the whole storage */
    int ndim;
    int64_t shape[VKI_MAX_DIMS];
    int64_t strides[VKI_MAX_DIMS];
    int64_t offset;
} ref_view;

/* Expected result: out (in its storage copy) = self then the scatter of source by index.
 * self/source/index storages are the values before the call (read completely first); out's
 * storage is updated in place. For in-place pass self with the same values as out.
 * index values must be valid. elem_size of out/self/source; index_size 4 or 8. dim is wrapped
 * for self's rank (0-d as 1-d). */
void ref_index_copy(ref_view *out, const ref_view *self, int dim, const ref_view *index,
                    int index_size, const ref_view *source, int64_t elem_size);

/* PyTorch's is_non_overlapping_and_dense: some order of the dims of size >= 2 has contiguous
 * strides. Written again on purpose (the tests' own model, not the library's). */
bool ref_is_dense(int ndim, const int64_t *shape, const int64_t *strides);

#endif
