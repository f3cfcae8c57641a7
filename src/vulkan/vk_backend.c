/*
 * The Vulkan backend's table: storage, upload and download through host-visible staging, the
 * plain copy, and index_copy with its batches.
 *
 * An index_copy is planned (fused check or check pass, winner map, scatter or gather), its
 * launches prepared, and only then recorded into the current submission; calls of a batch
 * share submissions until one is full. A submission starts with a full memory barrier (it
 * sees everything before it) and ends with one to the host. Between its calls there is a
 * barrier only where a call touches what an earlier one wrote, or writes what it read, or
 * has a check pass (which reuses the scratch buffer). Each call has a report slot in
 * host-visible memory where its kernels leave the first bad index and its value, so the host
 * words the error without reading an index that a later call may have overwritten. A call
 * with few indices is one dispatch: no fill, no check pass, no copy back.
 */
#include "vk_internal.h"

#include <stdlib.h>
#include <string.h>

/* Few indices: every copy invocation checks them all (and finds later duplicates) itself,
 * with no check pass. Up to VK_FUSED_LARGE_MAX when the winner map cannot be bound. */
#define VK_FUSED_LARGE_MAX 4096

static const uint32_t compute_rw = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;

static vki_status flush(vk_ctx *c);

/* The submission's arena, its scratch binding on the context's scratch buffer as it is now
 * (reserve and shrink make it anew; a call's plan keeps what it uses in one binding). After a
 * sync has given back a large scratch buffer there is none until a check pass needs one: the
 * launches that use no scratch (fused calls, copies) then have the reports bound there. */
static vk_arena *run_arena(vk_ctx *c)
{
    const vk_buffer *s = c->scratch.first.buffer ? &c->scratch : &c->reports;
    c->run.scratch = (VkDescriptorBufferInfo){s->first.buffer, 0,
                                              s->size < c->window_bytes ? s->size : c->window_bytes};
    return &c->run;
}

/* ---- storage and transfers ---- */

static vki_status vk_storage_create(void *impl, uint64_t bytes, void **out)
{
    vk_ctx *c = impl;
    vki_status st = VKI_OK;
    vk_buffer *b = NULL;
    TRY(vk_check_lost(c));
    b = vki_calloc(1, sizeof *b);
    if (!b)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    /* Whole 16-byte words (vk_buffer_create rounds up), so vector moves never reach past the
     * buffer; in chunks if one buffer cannot hold it. */
    TRY(vk_buffer_create(c, bytes, VK_MEMORY_DEVICE, false, b));
    *out = b;
error:
    if (st != VKI_OK)
        free(b);
    return st;
}

static void vk_storage_destroy(void *impl, void *storage)
{
    vk_ctx *c = impl;
    if (c->lost && !c->imported) /* a failed wait: the device may still be using it */
        c->vk.vkDeviceWaitIdle(c->device); /* (an application's device is not ours to wait) */
    vk_buffer_destroy(c, storage);
    free(storage);
}

/* Moves a view's elements between the device and packed host memory through the staging
 * buffer: a buffer copy when the view is contiguous, else the copy kernel. Uploads from `in`
 * when it is not NULL, else downloads into `out`. */
static vki_status vk_transfer(vk_ctx *c, const vki_view *v, const void *in, void *out)
{
    vki_status st = VKI_OK;
    const bool to_device = in != NULL;
    TRY(flush(c)); /* queued calls of a batch come first */
    const uint64_t bytes = (uint64_t)(vki_numel(v->ndim, v->shape) * v->elem_size);
    /* Staging holds whole 16-byte words (vk_buffer_create rounds up), as the copy kernel reads
     * it in words. */
    TRY(vk_buffer_reserve(c, &c->staging, bytes, VK_MEMORY_READBACK, false));
    vk_launch l;
    vk_prepared prepared = {0};
    const bool contiguous = vki_view_is_contiguous(v);
    const vki_view packed = vki_view_packed(v);
    if (!contiguous && to_device)
        vk_box_copy(&l, v, vk_buffer_of(v), &packed, &c->staging);
    else if (!contiguous)
        vk_box_copy(&l, &packed, &c->staging, v, vk_buffer_of(v));
    TRY(vk_begin(c));
    if (!contiguous)
        TRY(vk_launch_prepare(c, run_arena(c), &l, &prepared));
    if (to_device)
        vk_buffer_write(&c->staging, 0, in, bytes);
    const VkDeviceSize at = (VkDeviceSize)(v->offset * v->elem_size);
    if (contiguous && to_device)
        vk_cmd_copy(c, &c->staging, 0, vk_buffer_of(v), at, bytes);
    else if (contiguous)
        vk_cmd_copy(c, vk_buffer_of(v), at, &c->staging, 0, bytes);
    else
        vk_launch_dispatch(c, c->cmd, &prepared);
    TRY(vk_submit_wait(c));
    if (!to_device)
        vk_buffer_read(&c->staging, 0, out, bytes);
    vk_buffer_shrink(c, &c->staging, VK_KEEP_BYTES);
error:
    return vk_abandon(c, st); /* nothing was queued before it: flush ran first */
}

static vki_status vk_upload(void *impl, const vki_view *dst, const void *host)
{
    return vk_transfer(impl, dst, host, NULL);
}

static vki_status vk_download(void *impl, const vki_view *src, void *host)
{
    return vk_transfer(impl, src, NULL, host);
}

static vki_status vk_copy(void *impl, const vki_view *dst, const vki_view *src)
{
    vk_ctx *c = impl;
    vki_status st = VKI_OK;
    TRY(flush(c)); /* queued calls of a batch come first */
    if (vki_numel(dst->ndim, dst->shape) == 0)
        goto error; /* nothing to do: st is VKI_OK */
    vk_launch l;
    vk_prepared prepared;
    vk_box_copy(&l, dst, vk_buffer_of(dst), src, vk_buffer_of(src));
    TRY(vk_begin(c));
    TRY(vk_launch_prepare(c, run_arena(c), &l, &prepared));
    vk_launch_dispatch(c, c->cmd, &prepared);
    TRY(vk_submit_wait(c));
error:
    return vk_abandon(c, st);
}

/* ---- index_copy ---- */

vki_status vk_plan_call(const vk_ctx *c, const vki_copy_op *op, vk_call_plan *p)
{
    vki_status st = VKI_OK;
    const int64_t n = op->index.shape[0], dim_size = op->dst.shape[op->dim];
    if (n >= INT32_MAX || dim_size >= INT32_MAX)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "index_copy_: the Vulkan backend takes fewer than 2^31 indices and "
                     "destination slots (got %lld and %lld)", (long long)n, (long long)dim_size));
    *p = (vk_call_plan){.fused = op->check_index && n <= VK_FUSED_MAX_INDICES};
    p->winners = op->check_index && n > 1 && !p->fused;
    const VkDeviceSize map_end = (4 * VKI_SCRATCH_WINNERS) + (VkDeviceSize)dim_size * 4;
    if (p->winners && map_end > c->window_bytes) {
        /* The winner map would not fit in one binding: compare the indices with each other. */
        if (n > VK_FUSED_LARGE_MAX)
            TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                         "index_copy_: %lld destination slots need a winner map of %llu bytes, "
                         "more than one binding of this device holds (maxStorageBufferRange "
                         "%u), and %lld indices are too many to compare with each other (at "
                         "most %d)", (long long)dim_size, (unsigned long long)map_end,
                         c->props.limits.maxStorageBufferRange, (long long)n, VK_FUSED_LARGE_MAX));
        p->winners = false;
        p->fused = true;
    }
    /* A gather writes each destination row once, from its winner: for narrow slices
     * (neighbouring invocations then write neighbouring elements), and whenever there are more
     * source rows than destination rows (repeats: the scatter would walk them all). */
    int64_t slice = 1;
    for (int k = op->dim + 1; k < op->dst.ndim; k++)
        slice *= op->dst.shape[k];
    p->gather = p->winners && dim_size > 0 && dim_size <= 4 * n && (slice * op->dst.elem_size <= 16 || dim_size < n);
    /* A check pass uses the slots (and the winner map); the other calls no scratch at all. */
    p->scratch_bytes = !op->check_index || p->fused ? 0 : p->winners ? map_end : (4 * VKI_SCRATCH_WINNERS);
error:
    return st;
}

/* Index parameters of a launch, from the op. */
static void launch_index(vk_launch *l, const vki_copy_op *op, uint32_t slot)
{
    l->index = vk_buffer_of(&op->index);
    l->n = op->index.shape[0];
    l->dim_size = op->dst.shape[op->dim];
    l->index_base = op->index.offset * op->index.elem_size;
    l->index_stride = op->index.strides[0] * op->index.elem_size;
    l->slot = slot;
    if (op->index.elem_size == 4)
        l->flags |= VKI_FLAG_INDEX32;
}

enum { LAUNCH_CHECK, LAUNCH_BASE, LAUNCH_COPY, LAUNCHES = VK_CALL_LAUNCHES };

vki_status vk_prepare_call(vk_ctx *c, vk_arena *arena, const vki_copy_op *op,
                           const vk_call_plan *plan, uint32_t slot, uint32_t report,
                           vk_prepared *prepared)
{
    vki_status st = VKI_OK;
    for (int i = 0; i < LAUNCHES; i++)
        prepared[i] = (vk_prepared){0};
    if (op->check_index && !plan->fused) {
        vk_launch check = {.kernel = VK_KERNEL_CHECK, .flags = plan->winners ? VKI_FLAG_WINNERS : 0,
                           .elem_size = 4, .nd = 1, .shape = {1}, .dst = vk_buffer_of(&op->dst),
                           .src = vk_buffer_of(&op->src), .axis = -1};
        launch_index(&check, op, slot);
        TRY(vk_launch_prepare(c, arena, &check, &prepared[LAUNCH_CHECK]));
    }
    if (op->base.storage && vki_numel(op->dst.ndim, op->dst.shape) > 0) {
        vk_launch base;
        vk_box_copy(&base, &op->dst, vk_buffer_of(&op->dst), &op->base, vk_buffer_of(&op->base));
        if (op->check_index) {
            base.flags = plan->fused ? VKI_FLAG_FUSED : VKI_FLAG_GUARD;
            launch_index(&base, op, slot);
            base.report = report;
        }
        TRY(vk_launch_prepare(c, arena, &base, &prepared[LAUNCH_BASE]));
    }
    if (op->check_index) {
        vk_launch copy;
        vk_box_index_copy(&copy, op, plan->gather);
        copy.slot = slot;
        copy.report = report;
        copy.flags |= plan->fused ? VKI_FLAG_FUSED
                                  : VKI_FLAG_GUARD | (plan->winners && !plan->gather ? VKI_FLAG_WINNERS : 0);
        TRY(vk_launch_prepare(c, arena, &copy, &prepared[LAUNCH_COPY]));
    }
error:
    return st;
}

void vk_dispatch_call(vk_ctx *c, VkCommandBuffer cmd, const vk_prepared *prepared)
{
    bool any = false;
    for (int i = 0; i < LAUNCHES; i++) {
        if (!prepared[i].groups)
            continue;
        if (any)
            vk_barrier_on(c, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, compute_rw);
        vk_launch_dispatch(c, cmd, &prepared[i]);
        any = true;
    }
}

int vk_clear_scratch(vk_ctx *c, VkCommandBuffer cmd, VkBuffer scratch, const vk_call_plan *plan,
                     uint32_t slot)
{
    if (plan->scratch_bytes == 0) /* no check pass */
        return 0;
    /* The slot's status and duplicate words, and the winner map; the slots after this one
     * are not in use yet. */
    const VkDeviceSize from = 4 * VKI_SCRATCH_STATUS(slot);
    const VkDeviceSize to = plan->winners ? plan->scratch_bytes : 4 * (VKI_SCRATCH_DUPS(slot) + 1);
    c->vk.vkCmdFillBuffer(cmd, scratch, from, to - from, 0);
    c->counts[VK_COUNT_FILLS] += cmd == c->cmd;
    vk_barrier_on(c, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, compute_rw);
    return 1;
}

/* Room for one more pending status in c->pending. */
static vki_status reserve_pending(vk_ctx *c)
{
    vki_status st = VKI_OK;
    VK_GROW(c->pending, c->pending_cap, c->pending_count + 1, 64);
error:
    return st;
}

/* Records one call into the current submission (submitting first when it is full). A call
 * that fails here has recorded nothing, and the calls recorded before it stay queued. */
static vki_status record_call(vk_ctx *c, const vki_copy_op *op)
{
    vki_status st = VKI_OK;
    vk_call_plan plan;
    TRY(vk_plan_call(c, op, &plan));
    /* A call needs up to 3 launches, a status slot, and scratch for its winner map. */
    bool full = c->run.params_used + LAUNCHES > VK_PARAMS_PER_SUBMIT || c->run.sets_left < LAUNCHES ||
                c->pending_count == VKI_SCRATCH_SLOTS || plan.scratch_bytes > c->scratch.size;
    if (c->recording && full)
        TRY(flush(c));
    if (plan.scratch_bytes > c->scratch.size)
        TRY(vk_buffer_reserve(c, &c->scratch, plan.scratch_bytes, VK_MEMORY_DEVICE, true));
    if (op->check_index)
        TRY(reserve_pending(c));
    if (!c->recording)
        TRY(vk_begin(c));
    const uint32_t slot = c->pending_count;
    /* Its report slot starts empty whatever an earlier submission that failed after running
     * left there (the host's write is visible to the submission). */
    memset((char *)c->reports.first.mapped + (size_t)slot * 4 * VKI_REPORT_WORDS, 0,
           4 * VKI_REPORT_WORDS);
    vk_prepared prepared[LAUNCHES];
    TRY(vk_prepare_call(c, run_arena(c), op, &plan, slot, slot, prepared));
    /* The submission's first barrier orders its first call; a check pass reuses scratch. */
    if (vk_hazards_note(&c->hazards, op, op->check_index && !plan.fused) && c->calls_in_submission)
        vk_call_barrier(c, c->cmd);
    vk_clear_scratch(c, c->cmd, c->scratch.first.buffer, &plan, slot);
    vk_dispatch_call(c, c->cmd, prepared);
    c->calls_in_submission++;
    if (op->batch_call >= 0)
        c->queued_calls = op->batch_call + 1;
    if (op->check_index)
        c->pending[c->pending_count++] =
            (vk_pending){.call = op->batch_call < 0 ? 0 : op->batch_call, .slot = slot};
error:
    /* A recording that holds no call is ended; one with queued calls goes on. */
    return st != VKI_OK && !c->calls_in_submission ? vk_abandon(c, st) : st;
}

/* Notes the first bad index among the reports of a finished submission's `count` calls, and
 * clears their report slots for the next submission. */
static void read_statuses(vk_ctx *c, uint32_t count)
{
    char *reports = c->reports.first.mapped;
    for (uint32_t i = 0; i < count; i++) {
        const vk_pending *p = &c->pending[i];
        uint32_t words[VKI_REPORT_WORDS];
        char *slot = reports + (size_t)p->slot * sizeof words;
        memcpy(words, slot, sizeof words);
        if (words[0] == 0)
            continue;
        memset(slot, 0, sizeof words);
        if (c->bad.call >= 0 && c->bad.call <= p->call)
            continue;
        c->bad = (vki_bad_index){.call = p->call, .position = ~words[0], /* stored complemented */
                                 .value = (int64_t)((uint64_t)words[2] << 32 | words[1])};
    }
}

/* Submits the recorded calls, waits, and notes the first bad index among them. */
static vki_status flush(vk_ctx *c)
{
    vki_status st = VKI_OK;
    if (!c->recording)
        return st; /* nothing recorded */
    const uint32_t count = c->pending_count;
    c->pending_count = 0;
    TRY(vk_submit_wait(c));
    c->done_calls = c->queued_calls;
    if (c->last_kernel_ns >= 0)
        c->batch_ns += c->last_kernel_ns;
    else
        c->untimed_since_sync = true;
    read_statuses(c, count);
error:
    return st;
}

/* Runs everything recorded, reports the first bad index among the calls since the last sync
 * and their GPU time (-1 if a submission could not be timed), and starts counting positions
 * and GPU time afresh. bad NULL: a batch begins, nothing is queued; only a lost context is
 * reported. */
static vki_status vk_sync(void *impl, vki_bad_index *bad)
{
    vk_ctx *c = impl;
    vki_status st = VKI_OK;
    TRY(vk_check_lost(c));
    TRY(flush(c));
error:
    if (bad) {
        *bad = c->bad;
        c->last_kernel_ns = c->untimed_since_sync ? -1.0 : c->batch_ns;
    }
    c->bad = (vki_bad_index){.call = -1};
    c->batch_ns = 0;
    c->untimed_since_sync = false;
    c->queued_calls = c->done_calls = 0;
    if (!c->recording && !c->lost) /* a lost device may still be using it */
        vk_buffer_shrink(c, &c->scratch, VK_KEEP_BYTES);
    return st;
}

/* A call of a batch is queued; any other runs now. */
static vki_status vk_index_copy(void *impl, const vki_copy_op *op, vki_bad_index *bad)
{
    vk_ctx *c = impl;
    vki_status st = VKI_OK;
    TRY(vk_check_lost(c));
    TRY(record_call(c, op));
    if (op->batch_call < 0) {
        TRY(vk_sync(c, bad));
        st = bad->call < 0 ? VKI_OK : VKI_ERROR_INDEX;
    }
error:
    return st;
}

static int64_t vk_done(void *impl)
{
    const vk_ctx *c = impl;
    return c->done_calls;
}

static double vk_last_kernel_ns(void *impl)
{
    vk_ctx *c = impl;
    return c->caps.timestamps ? c->last_kernel_ns : -1.0;
}

const vki_backend_ops vk_backend_ops = {
    .name = "vulkan",
    .context_destroy = vk_context_destroy,
    .storage_create = vk_storage_create,
    .storage_destroy = vk_storage_destroy,
    .wrap_host = vki_vulkan_wrap_host, /* its storages go back through storage_destroy */
    .upload = vk_upload,
    .download = vk_download,
    .copy = vk_copy,
    .index_copy = vk_index_copy,
    .last_kernel_ns = vk_last_kernel_ns,
    .sync = vk_sync,
    .done = vk_done,
    .wrap_buffer = vk_wrap_buffer,
    .buffer_range = vk_buffer_range,
    .record = vk_record_index_copy,
    .record_check = vk_record_check,
    .record_release = vk_record_release,
    .record_stats = vk_record_stats,
    .bound_names = {"copy shader (uvec4)", "vkCmdCopyBuffer"},
    .bound_copy = vk_bound_copy,
    .command_counts = vk_command_counts,
};
