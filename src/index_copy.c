/*
 * The front door of index_copy_ / index_copy: PyTorch's checks (rules 1-12 of the README's
 * Semantics table) in PyTorch's order with its statuses and words, normalisation (dim wrapped,
 * scalars as 1-d), clones of inputs that share memory with the written tensor, and then one
 * call into the backend. Rule 12 (index values) is checked by the backend, which can see the
 * values, and worded here.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK VKI_CHECK

static const char overlap_msg[] =
    "unsupported operation: some elements of the input tensor and the written-to tensor refer "
    "to a single memory location. Please clone() the tensor before performing the operation.";

static void byte_span(const vki_tensor *t, uint64_t *lo, uint64_t *hi)
{
    vki_view_span(t->ndim, t->shape, t->strides, t->offset, (int64_t)vki_dtype_size(t->dtype),
                  lo, hi);
}

/* Whether the elements of a and b may share bytes (conservative: their spans intersect). */
static bool spans_intersect(const vki_tensor *a, const vki_tensor *b)
{
    if (a->storage != b->storage)
        return false;
    uint64_t alo, ahi, blo, bhi;
    byte_span(a, &alo, &ahi);
    byte_span(b, &blo, &bhi);
    return alo < ahi && blo < bhi && alo < bhi && blo < ahi; /* an empty span meets nothing */
}

/* PyTorch's assert_no_overlap: both dense and their memory ranges intersect. */
static bool dense_overlap(const vki_tensor *a, const vki_tensor *b)
{
    return vki_tensor_is_dense(a) && vki_tensor_is_dense(b) && spans_intersect(a, b);
}

static bool same_view(const vki_tensor *a, const vki_tensor *b)
{
    if (a->storage != b->storage || a->offset != b->offset || a->ndim != b->ndim)
        return false;
    for (int k = 0; k < a->ndim; k++)
        if (a->shape[k] != b->shape[k] || (a->shape[k] > 1 && a->strides[k] != b->strides[k]))
            return false;
    return true;
}

/* "4 5": PyTorch prints a slice shape as its sizes separated by spaces. */
static void format_sizes(char *buf, size_t cap, int ndim, const int64_t *shape, int skip)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < ndim && used < cap; k++) {
        if (k == skip)
            continue;
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", used ? " " : "",
                                 (long long)shape[k]);
    }
}

/* "[4, 5]" for shapes in our own messages. */
static void format_shape(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < ndim && used < cap; k++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", k ? ", " : "",
                                 (long long)shape[k]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

static vki_view view_1d(const vki_tensor *t)
{
    vki_view v = vki_tensor_as_view(t);
    if (v.ndim == 0) {
        v.ndim = 1;
        v.shape[0] = 1;
        v.strides[0] = 1;
    }
    return v;
}

/* A temporary contiguous copy of a view, for inputs that share memory with dst: a storage of
 * its own (one reference, released by the caller; a queued call keeps its own). */
static vki_status clone_view(vki_context *ctx, vki_view *v, vki_storage **out)
{
    const int64_t numel = vki_numel(v->ndim, v->shape);
    vki_status st = vki_storage_create(ctx, (uint64_t)(numel * v->elem_size), "index_copy_", out);
    if (st != VKI_OK)
        return st;
    vki_view tmp = vki_view_packed(v);
    tmp.storage = *out;
    st = ctx->ops->copy(ctx->impl, &tmp, v);
    if (st == VKI_OK)
        *v = tmp;
    return st;
}

static const char *context_label(const vki_tensor *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "context %llu (%s)", (unsigned long long)t->storage->ctx->serial,
             t->storage->ctx->device_name);
    return buf;
}

/* out must look like self (PyTorch would resize it; we cannot resize a user's view). */
static vki_status check_out(const vki_tensor *out, const vki_tensor *self)
{
    CHECK(out->dtype == self->dtype, VKI_ERROR_INVALID_ARGUMENT,
          "Expected out tensor to have dtype %s, but got %s instead",
          vki_dtype_name(self->dtype), vki_dtype_name(out->dtype));
    bool same_shape = out->ndim == self->ndim;
    for (int k = 0; same_shape && k < out->ndim; k++)
        same_shape = out->shape[k] == self->shape[k];
    if (!same_shape) {
        char want[400], got[400];
        format_shape(want, sizeof want, self->ndim, self->shape);
        format_shape(got, sizeof got, out->ndim, out->shape);
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                        "Expected out tensor to have shape %s (the shape of self), but got "
                        "%s instead", want, got);
    }
    return VKI_OK;
}

/* Rules 2 and 3: overlap of the written tensor with itself and with the inputs. */
static vki_status check_overlap(const vki_tensor *out, const vki_tensor *self,
                                const vki_tensor *index, const vki_tensor *source)
{
    CHECK(!vki_tensor_has_internal_overlap(out), VKI_ERROR_INVALID_ARGUMENT, "%s",
          vki_overlap_internal_msg);
    /* PyTorch finds the very same tensor overlapping before it looks at density. */
    CHECK(out != index && out != source && !dense_overlap(out, index) && !dense_overlap(out, source),
          VKI_ERROR_INVALID_ARGUMENT, "%s", overlap_msg);
    CHECK(out == self || same_view(out, self) || !dense_overlap(out, self),
          VKI_ERROR_INVALID_ARGUMENT, "%s", overlap_msg);
    return VKI_OK;
}

/* Rules 4-6: ranks. */
static vki_status check_ranks(const vki_tensor *self, const vki_tensor *index,
                              const vki_tensor *source)
{
    CHECK(index->ndim < 2, VKI_ERROR_INDEX,
          "index_copy_(): Index should have dimension 1 or 0 (got %d)", index->ndim);
    const int64_t n = vki_numel(index->ndim, index->shape);
    CHECK(!(source->ndim == 0 && n != 1), VKI_ERROR_INDEX,
          "index_copy_(): When source is scalar, index should have one element (got %lld)",
          (long long)n);
    CHECK(source->ndim == self->ndim || source->ndim == 0 || self->ndim == 0, VKI_ERROR_INDEX,
          "index_copy_(): When source and destination are not scalars, their dimensionality "
          "must match. Source dimensionality (%d), destination dimensionality (%d)",
          source->ndim, self->ndim);
    return VKI_OK;
}

/* Rules 7-9: dtypes and contexts. */
static vki_status check_types(const vki_tensor *out, const vki_tensor *self,
                              const vki_tensor *index, const vki_tensor *source)
{
    CHECK(index->dtype == VKI_INT64 || index->dtype == VKI_INT32, VKI_ERROR_INVALID_ARGUMENT,
          "index_copy_(): Expected a long tensor for index, but got %s",
          vki_dtype_name(index->dtype));
    CHECK(self->dtype == source->dtype, VKI_ERROR_INVALID_ARGUMENT,
          "index_copy_(): self and source expected to have the same dtype, but got (self) %s "
          "and (source) %s",
          vki_dtype_name(self->dtype), vki_dtype_name(source->dtype));
    const vki_context *ctx = self->storage->ctx;
    char l1[300], l2[300], l3[300];
    CHECK(index->storage->ctx == ctx && source->storage->ctx == ctx, VKI_ERROR_INVALID_ARGUMENT,
          "index_copy_(): self, index and source expected to be in the same context, but got "
          "(self) %s, (index) %s, and (source) %s",
          context_label(self, l1, sizeof l1), context_label(index, l2, sizeof l2),
          context_label(source, l3, sizeof l3));
    CHECK(out->storage->ctx == ctx, VKI_ERROR_INVALID_ARGUMENT,
          "index_copy(): out and self expected to be in the same context, but got (out) %s and "
          "(self) %s",
          context_label(out, l1, sizeof l1), context_label(self, l2, sizeof l2));
    return VKI_OK;
}

/* Rules 10 and 11: equal shapes outside dim (a scalar's slice shape is empty), and one index
 * per source slice. */
static vki_status check_slices(const vki_tensor *self, const vki_tensor *index,
                               const vki_tensor *source, int d)
{
    bool same_slices = (self->ndim ? self->ndim - 1 : 0) == (source->ndim ? source->ndim - 1 : 0);
    if (same_slices && self->ndim > 0 && source->ndim > 0)
        for (int k = 0; k < self->ndim; k++)
            if (k != d && self->shape[k] != source->shape[k])
                same_slices = false;
    if (!same_slices) {
        char dst_sizes[400], src_sizes[400];
        format_sizes(dst_sizes, sizeof dst_sizes, self->ndim, self->shape, d);
        format_sizes(src_sizes, sizeof src_sizes, source->ndim, source->shape, d);
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                        "index_copy_(): Source/destination tensor must have same slice shapes. "
                        "Destination slice shape: %s at dimension %d and source slice shape: %s "
                        "at dimension 0.",
                        dst_sizes, d, src_sizes);
    }
    const int64_t n = vki_numel(index->ndim, index->shape);
    CHECK(source->ndim == 0 || n == source->shape[d], VKI_ERROR_INDEX,
          "index_copy_(): Number of indices (%lld) should be equal to source.size(dim) (%lld)",
          (long long)n, (long long)(source->ndim ? source->shape[d] : 1));
    return VKI_OK;
}

/* The checks of rules 1-11 in PyTorch's order; *d receives the wrapped dim. */
static vki_status check_call(const vki_tensor *out, const vki_tensor *self, int64_t dim,
                             const vki_tensor *index, const vki_tensor *source, int *d)
{
    /* Rule 1: dim, wrapped as PyTorch's maybe_wrap_dim (a scalar counts as 1-d). */
    const int64_t wrap = self->ndim > 0 ? self->ndim : 1;
    CHECK(dim >= -wrap && dim < wrap, VKI_ERROR_INDEX,
          "Dimension out of range (expected to be in range of [%lld, %lld], but got %lld)",
          (long long)-wrap, (long long)(wrap - 1), (long long)dim);
    *d = (int)(dim < 0 ? dim + wrap : dim);
    vki_status st = out != self ? check_out(out, self) : VKI_OK;
    if (st == VKI_OK)
        st = check_overlap(out, self, index, source);
    if (st == VKI_OK)
        st = check_ranks(self, index, source);
    if (st == VKI_OK)
        st = check_types(out, self, index, source);
    if (st == VKI_OK)
        st = check_slices(self, index, source, *d);
    return st;
}

/* Runs a checked, normalised call: inputs that share memory with out (not a rule-3 error, as
 * they are not dense) are cloned first, as they must be read completely before anything is
 * written; then the batch notes it and the backend (or the host path) runs it. */
static vki_status run_call(vki_context *ctx, vki_copy_op *op, const vki_tensor *out,
                           const vki_tensor *self, const vki_tensor *index,
                           const vki_tensor *source, bool out_is_self)
{
    vki_storage *clones[3] = {NULL, NULL, NULL};
    vki_status st = VKI_OK;
    if (spans_intersect(out, source))
        st = clone_view(ctx, &op->src, &clones[0]);
    if (st == VKI_OK && spans_intersect(out, index))
        st = clone_view(ctx, &op->index, &clones[1]);
    if (st == VKI_OK && !out_is_self && spans_intersect(out, self))
        st = clone_view(ctx, &op->base, &clones[2]);
    op->batch_call = ctx->batch.open ? ctx->batch.calls : -1;
    if (st == VKI_OK)
        st = vki_batch_admit(ctx, op);
    vki_bad_index bad = {.call = -1};
    if (st == VKI_OK)
        st = vki_may_overlap_itself(&op->dst) ? vki_index_copy_sequential(ctx, op, &bad)
                                              : ctx->ops->index_copy(ctx->impl, op, &bad);
    for (int c = 0; c < 3; c++)
        if (clones[c])
            vki_storage_release(clones[c]);
    return vki_batch_settle(ctx, op, st, &bad);
}

/* The checks of a call and its normalised op (*nothing: no copy and no check to do). */
static vki_status make_op(const vki_tensor *out, const vki_tensor *self, int64_t dim,
                          const vki_tensor *index, const vki_tensor *source, vki_copy_op *op,
                          bool *out_is_self, bool *nothing)
{
    int d = 0;
    vki_status st = check_call(out, self, dim, index, source, &d);
    if (st != VKI_OK)
        return st;
    *out_is_self = out == self || same_view(out, self);
    *op = (vki_copy_op){.dst = view_1d(out), .src = view_1d(source), .index = view_1d(index),
                        .dim = d, .batch_call = -1};
    if (!*out_is_self)
        op->base = view_1d(self);
    int64_t slice_numel = 1;
    for (int k = 0; k < op->dst.ndim; k++)
        if (k != d)
            slice_numel *= op->dst.shape[k];
    op->check_index = vki_numel(index->ndim, index->shape) > 0 && slice_numel > 0;
    *nothing = !op->check_index && *out_is_self;
    return VKI_OK;
}

/* Everything after the NULL checks, with the written tensor's context entered.
 * out: the written tensor; self: the tensor whose values out starts from (== out in place). */
static vki_status index_copy_checked(vki_tensor *out, const vki_tensor *self, int64_t dim,
                                     const vki_tensor *index, const vki_tensor *source)
{
    vki_copy_op op;
    bool out_is_self, nothing;
    vki_status st = make_op(out, self, dim, index, source, &op, &out_is_self, &nothing);
    if (st != VKI_OK)
        return st;
    vki_context *ctx = self->storage->ctx;
    if (nothing) { /* nothing to copy and nothing to check */
        vki_batch_skip_call(ctx);
        return VKI_OK;
    }
    return run_call(ctx, &op, out, self, index, source, out_is_self);
}

/* A call recorded into a command buffer (vki_cmd_index_copy_): the same checks, then the
 * backend records it; what the host path or clones would need is refused. */
/* Keeps the storages of a recorded op alive for cmd (room was made before recording). */
static void hold(vki_context *ctx, void *cmd, const vki_copy_op *op)
{
    vki_storage *used[4] = {op->dst.storage, op->src.storage, op->index.storage, op->base.storage};
    for (int i = 0; i < 4; i++)
        if (used[i]) {
            used[i]->refs++;
            ctx->held[ctx->held_count++] = (struct vki_held){cmd, used[i]};
        }
}

static vki_status record_checked(const char *api, void *cmd, vki_tensor *out,
                                 const vki_tensor *self, int64_t dim, const vki_tensor *index,
                                 const vki_tensor *source)
{
    vki_context *ctx = out->storage->ctx;
    CHECK(ctx->ops->record, VKI_ERROR_INVALID_ARGUMENT,
          "%s: the tensors are on a %s context, not one made by vki_context_create_vulkan", api,
          ctx->ops->name);
    vki_copy_op op;
    bool out_is_self, nothing;
    vki_status st = make_op(out, self, dim, index, source, &op, &out_is_self, &nothing);
    if (st != VKI_OK || nothing)
        return st;
    CHECK(!spans_intersect(out, source) && !spans_intersect(out, index) &&
              (out_is_self || !spans_intersect(out, self)) && !vki_may_overlap_itself(&op.dst),
          VKI_ERROR_UNSUPPORTED,
          "%s: an input shares memory with the written tensor, or the written tensor's "
          "elements overlap each other; clone it first, or use vki_index_copy_", api);
    struct vki_held *room = vki_grow(ctx->held, &ctx->held_cap, ctx->held_count + 4,
                                     sizeof *room, 64);
    CHECK(room, VKI_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", api);
    ctx->held = room;
    if ((st = ctx->ops->record(ctx->impl, cmd, &op)) == VKI_OK)
        hold(ctx, cmd, &op);
    return st;
}

static vki_status check_args(const char *api, const vki_tensor *out, const vki_tensor *self,
                             const vki_tensor *index, const vki_tensor *source)
{
    CHECK(out, VKI_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", api, out == self ? "self" : "out");
    CHECK(self, VKI_ERROR_INVALID_ARGUMENT, "%s: self is NULL", api);
    CHECK(index, VKI_ERROR_INVALID_ARGUMENT, "%s: index is NULL", api);
    CHECK(source, VKI_ERROR_INVALID_ARGUMENT, "%s: source is NULL", api);
    return VKI_OK;
}

static vki_status index_copy_impl(const char *api, vki_tensor *out, const vki_tensor *self,
                                  int64_t dim, const vki_tensor *index,
                                  const vki_tensor *source)
{
    vki_status st = check_args(api, out, self, index, source);
    if (st != VKI_OK || (st = vki_context_enter(out->storage->ctx, api)) != VKI_OK)
        return st;
    return vki_context_leave(out->storage->ctx, index_copy_checked(out, self, dim, index, source));
}

vki_status vki_index_copy_record(const char *api, void *cmd, vki_tensor *out,
                                 const vki_tensor *self, int64_t dim, const vki_tensor *index,
                                 const vki_tensor *source)
{
    CHECK(cmd, VKI_ERROR_INVALID_ARGUMENT, "%s: cmd is NULL", api);
    vki_status st = check_args(api, out, self, index, source);
    if (st != VKI_OK || (st = vki_context_enter(out->storage->ctx, api)) != VKI_OK)
        return st;
    return vki_context_leave(out->storage->ctx,
                             record_checked(api, cmd, out, self, dim, index, source));
}

vki_status vki_index_copy_(vki_tensor *self, int64_t dim, const vki_tensor *index,
                           const vki_tensor *source)
{
    return index_copy_impl("vki_index_copy_", self, self, dim, index, source);
}

vki_status vki_index_copy(vki_tensor *out, const vki_tensor *self, int64_t dim,
                          const vki_tensor *index, const vki_tensor *source)
{
    if (!out)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT, "vki_index_copy: out is NULL");
    if (!self)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT, "vki_index_copy: self is NULL");
    return index_copy_impl("vki_index_copy", out, self, dim, index, source);
}
