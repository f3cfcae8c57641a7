/*
 * Batches (vki_batch_begin / vki_batch_end), and the one route of a bad index value.
 *
 * Every backend reports a call's first bad index the same way, as a vki_bad_index: at once
 * (the CPU backend, and any call that ran on the host), or when the queue runs (the Vulkan
 * backend's sync). Outside a batch it becomes PyTorch's error for the call. In a batch the
 * first one by position is kept, the call returns VKI_OK having written nothing, and
 * vki_batch_end words it once, naming the call. While a backend queues calls, the storages
 * they use are kept alive here until the backend says it has finished them.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vki_status vki_index_error(const char *prefix, int dim, int64_t dim_size, int64_t value)
{
    return vki_fail(VKI_ERROR_INDEX,
                    "%sindex_copy_(): index %lld is out of bounds for dimension %d with size %lld",
                    prefix, (long long)value, dim, (long long)dim_size);
}


static bool keep(vki_batch *b, vki_storage *s, int64_t call)
{
    if (b->kept_count == b->kept_cap && b->kept_begin > 0) { /* reuse released entries */
        memmove(b->kept, b->kept + b->kept_begin, (b->kept_count - b->kept_begin) * sizeof *b->kept);
        b->kept_count -= b->kept_begin;
        b->kept_begin = 0;
    }
    struct vki_kept *grown = vki_grow(b->kept, &b->kept_cap, b->kept_count + 1, sizeof *grown, 64);
    if (!grown)
        return false;
    b->kept = grown;
    s->refs++;
    b->kept[b->kept_count++] = (struct vki_kept){s, call};
    return true;
}

/* Releases the storages of the calls before `done` (the backend has finished them). */
static void release_done(vki_batch *b, int64_t done)
{
    while (b->kept_begin < b->kept_count && b->kept[b->kept_begin].call < done)
        vki_storage_release(b->kept[b->kept_begin++].storage);
    if (b->kept_begin == b->kept_count)
        b->kept_begin = b->kept_count = 0;
}

static bool note_call(vki_batch *b, int dim, int64_t dim_size)
{
    struct vki_call_info *grown = vki_grow(b->info, &b->info_cap, (size_t)b->calls + 1,
                                           sizeof *grown, 256);
    if (!grown)
        return false;
    b->info = grown;
    b->info[b->calls] = (struct vki_call_info){dim, dim_size};
    return true;
}

/* Keeps the first bad index of the batch by position. */
static void note_bad(vki_batch *b, const vki_bad_index *bad)
{
    if (bad->call >= 0 && (b->bad.call < 0 || bad->call < b->bad.call))
        b->bad = *bad;
}

static void reset(vki_batch *b, bool open)
{
    release_done(b, INT64_MAX);
    b->open = open;
    b->calls = 0;
    b->bad = (vki_bad_index){.call = -1};
}

static vki_status batch_begin(vki_context *ctx)
{
    if (ctx->batch.open)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                        "vki_batch_begin: a batch is already open on this context");
    /* Nothing is queued outside a batch: this only asks whether the context can still run. */
    vki_status st = ctx->ops->sync ? ctx->ops->sync(ctx->impl, NULL) : VKI_OK;
    if (st == VKI_OK)
        reset(&ctx->batch, true);
    return st;
}

/* Runs body on ctx entered (see vki_context_enter); fn names the API call. */
static vki_status entered(vki_context *ctx, const char *fn, vki_status (*body)(vki_context *))
{
    if (!ctx)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    vki_status st = vki_context_enter(ctx, fn);
    return st == VKI_OK ? vki_context_leave(ctx, body(ctx)) : st;
}

vki_status vki_batch_begin(vki_context *ctx)
{
    return entered(ctx, "vki_batch_begin", batch_begin);
}

static vki_status batch_end(vki_context *ctx)
{
    vki_batch *b = &ctx->batch;
    if (!b->open)
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT, "vki_batch_end: no batch is open on this context");
    vki_bad_index bad = {.call = -1};
    vki_status st = ctx->ops->sync ? ctx->ops->sync(ctx->impl, &bad) : VKI_OK;
    note_bad(b, &bad);
    if (st == VKI_OK && b->bad.call >= 0) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "vki_batch_end: call %lld of the batch: ",
                 (long long)b->bad.call);
        const struct vki_call_info *call = &b->info[b->bad.call];
        st = vki_index_error(prefix, call->dim, call->dim_size, b->bad.value);
    }
    reset(b, false);
    return st;
}

vki_status vki_batch_end(vki_context *ctx)
{
    return entered(ctx, "vki_batch_end", batch_end);
}

void vki_batch_close(vki_context *ctx)
{
    if (ctx->batch.open) /* run what was queued, and drop the references it held */
        batch_end(ctx);
    free(ctx->batch.kept);
    free(ctx->batch.info);
    ctx->batch = (vki_batch){.bad = {.call = -1}};
}

void vki_batch_skip_call(vki_context *ctx)
{
    if (ctx->batch.open) /* it can have no bad index: nothing to note */
        ctx->batch.calls++;
}

vki_status vki_batch_admit(vki_context *ctx, const vki_copy_op *op)
{
    vki_batch *b = &ctx->batch;
    if (!b->open)
        return VKI_OK;
    if (!note_call(b, op->dim, op->dst.shape[op->dim]))
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "index_copy_: out of host memory");
    if (!ctx->ops->sync)
        return VKI_OK; /* the backend queues nothing */
    /* Queued work must outlive the caller's handles: keep every storage it touches. */
    vki_storage *used[4] = {op->dst.storage, op->src.storage, op->index.storage,
                            op->base.storage};
    for (int i = 0; i < 4; i++)
        if (used[i] && !keep(b, used[i], op->batch_call))
            return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "index_copy_: out of host memory");
    return VKI_OK;
}

vki_status vki_batch_settle(vki_context *ctx, const vki_copy_op *op, vki_status st,
                            const vki_bad_index *bad)
{
    vki_batch *b = &ctx->batch;
    if (!b->open)
        return st == VKI_ERROR_INDEX
                   ? vki_index_error("", op->dim, op->dst.shape[op->dim], bad->value)
                   : st;
    if (st == VKI_OK || st == VKI_ERROR_INDEX)
        b->calls++;
    if (ctx->ops->done)
        release_done(b, ctx->ops->done(ctx->impl));
    if (st != VKI_ERROR_INDEX)
        return st;
    note_bad(b, &(vki_bad_index){op->batch_call, bad->position, bad->value});
    return VKI_OK;
}
