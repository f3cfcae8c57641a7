/* The naive reference (see reference.h): one element at a time, in index order. */
#include "reference.h"

#include <string.h>

static int64_t numel(const ref_view *v)
{
    int64_t n = 1;
    for (int k = 0; k < v->ndim; k++)
        n *= v->shape[k];
    return n;
}

/* Element offset of the flat row-major position `flat` of v. */
static int64_t element_at(const ref_view *v, int64_t flat)
{
    int64_t off = v->offset;
    for (int k = v->ndim - 1; k >= 0; k--) {
        off += (flat % v->shape[k]) * v->strides[k];
        flat /= v->shape[k];
    }
    return off;
}

static bool same_view(const ref_view *a, const ref_view *b)
{
    if (a->storage != b->storage || a->ndim != b->ndim || a->offset != b->offset)
        return false;
    for (int k = 0; k < a->ndim; k++)
        if (a->shape[k] != b->shape[k] || a->strides[k] != b->strides[k])
            return false;
    return true;
}

void ref_index_copy(ref_view *out, const ref_view *self, int dim, const ref_view *index,
                    int index_size, const ref_view *source, int64_t elem_size)
{
    /* out = self, element by element (self is the snapshot before the call); nothing to do
     * when they are the same view of the same copy (in place, as vkindex-bench checks). */
    if (!same_view(out, self)) {
        const int64_t count = numel(out);
        for (int64_t f = 0; f < count; f++)
            memcpy(out->storage + element_at(out, f) * elem_size,
                   self->storage + element_at(self, f) * elem_size, (size_t)elem_size);
    }

    /* Scalars behave as 1-d of size 1. */
    ref_view o = *out, s = *source;
    if (o.ndim == 0) {
        o.ndim = 1;
        o.shape[0] = 1;
        o.strides[0] = 1;
    }
    if (s.ndim == 0) {
        s.ndim = 1;
        s.shape[0] = 1;
        s.strides[0] = 1;
    }
    const int64_t n = numel(index);
    for (int64_t i = 0; i < n; i++) {
        int64_t pos = element_at(index, i), value;
        if (index_size == 8) {
            memcpy(&value, index->storage + pos * 8, 8);
        } else {
            int32_t v32;
            memcpy(&v32, index->storage + pos * 4, 4);
            value = v32;
        }
        /* Walk every element of the slice: all dims of o except dim. */
        int64_t slice = 1;
        for (int k = 0; k < o.ndim; k++)
            if (k != dim)
                slice *= o.shape[k];
        for (int64_t f = 0; f < slice; f++) {
            int64_t rem = f, doff = o.offset + value * o.strides[dim];
            int64_t soff = s.offset + i * s.strides[dim];
            for (int k = o.ndim - 1; k >= 0; k--) {
                if (k == dim)
                    continue;
                int64_t c = rem % o.shape[k];
                rem /= o.shape[k];
                doff += c * o.strides[k];
                soff += c * s.strides[k];
            }
            memcpy(out->storage + doff * elem_size, source->storage + soff * elem_size,
                   (size_t)elem_size);
        }
    }
}

bool ref_is_dense(int ndim, const int64_t *shape, const int64_t *strides)
{
    if (ndim == 0)
        return true;
    if (ndim == 1)
        return shape[0] < 2 || strides[0] == 1;
    int64_t need = 1;
    bool used[VKI_MAX_DIMS] = {false};
    for (;;) {
        int best = -1;
        for (int k = 0; k < ndim; k++)
            if (!used[k] && shape[k] >= 2 && (best < 0 || strides[k] < strides[best]))
                best = k;
        if (best < 0)
            return true;
        if (strides[best] != need)
            return false;
        need *= shape[best];
        used[best] = true;
    }
}
