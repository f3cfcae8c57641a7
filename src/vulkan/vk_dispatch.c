/*
 * The Vulkan backend's operations: recording and submitting command buffers, launching the
 * kernels of shaders/ over iteration boxes built from normalised views, and the backend table
 * (storage, upload/download through host-visible staging, copy, index_copy).
 *
 * Every call is one submission that the host waits for. It starts with a full memory barrier
 * so that it sees everything earlier submissions wrote, and ends with one to the host.
 */
#include "vk_internal.h"
#include "../layout.h"

#include <stdlib.h>
#include <string.h>

vki_status vk_check_validation(vk_ctx *c)
{
    if (!c->validation_failed)
        return VKI_OK;
    c->validation_failed = false;
    return vki_fail(VKI_ERROR_VULKAN, "Vulkan validation: %s", c->validation_message);
}

void vk_barrier(vk_ctx *c, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    VkMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    c->vk.vkCmdPipelineBarrier(c->cmd, src_stage, dst_stage, 0, 1, &b, 0, NULL, 0, NULL);
}

vki_status vk_begin(vk_ctx *c)
{
    vki_status st = VKI_OK;
    VK(c->vk.vkResetDescriptorPool(c->device, c->descriptor_pool, 0));
    c->descriptor_sets_left = VK_SETS_PER_SUBMIT;
    c->params_used = 0;
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK(c->vk.vkBeginCommandBuffer(c->cmd, &begin));
    c->recording = true;
    vk_barrier(c, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT,
               VK_ACCESS_MEMORY_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
               VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
               VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    if (c->caps.timestamps) {
        c->vk.vkCmdResetQueryPool(c->cmd, c->timestamps, 0, 2);
        c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->timestamps, 0);
    }
done:
    return st;
}

vki_status vk_submit_wait(vk_ctx *c)
{
    vki_status st = VKI_OK;
    if (c->caps.timestamps)
        c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->timestamps, 1);
    vk_barrier(c, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
               VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    c->recording = false;
    VK(c->vk.vkEndCommandBuffer(c->cmd));
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &c->cmd,
    };
    VK(c->vk.vkQueueSubmit(c->queue, 1, &submit, c->fence));
    VK(c->vk.vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, UINT64_MAX));
    VK(c->vk.vkResetFences(c->device, 1, &c->fence));
    if (c->caps.timestamps) {
        uint64_t t[2];
        VK(c->vk.vkGetQueryPoolResults(c->device, c->timestamps, 0, 2, sizeof t, t, sizeof t[0],
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        c->last_kernel_ns = (double)(t[1] - t[0]) * c->props.limits.timestampPeriod;
    }
done:
    if (st != VKI_OK && c->recording) {
        c->vk.vkEndCommandBuffer(c->cmd);
        c->recording = false;
    }
    if (st == VKI_OK)
        st = vk_check_validation(c);
    return st;
}

/* Ends a recording that failed before submission, so the next call can begin anew. */
static vki_status vk_abandon(vk_ctx *c, vki_status st)
{
    if (c->recording) {
        c->vk.vkEndCommandBuffer(c->cmd);
        c->recording = false;
    }
    return st;
}

static void put64(uint32_t *p, uint32_t at, uint64_t v)
{
    p[at] = (uint32_t)v;
    p[at + 1] = (uint32_t)(v >> 32);
}

static uint32_t next_pow2(uint64_t v)
{
    uint32_t p = 1;
    while (p < v && p < (1u << 30))
        p <<= 1;
    return p;
}

/* The parameter block word positions (shaders/common.glsl). */
enum { P_ND = 0, P_AXIS = 1, P_N = 2, P_DIM_SIZE = 3, P_WINDOW = 4, P_ROWS = 6, P_DST_BASE = 8,
       P_SRC_BASE = 10, P_IDX_BASE = 12, P_IDX_STRIDE = 14, P_CHUNKS = 16, P_SHAPE = 18,
       P_DST_STRIDE = 50, P_SRC_STRIDE = 82, P_SLOT = 114, P_WORDS = 115 };

static void bind_windows(const vk_buffer *b, uint32_t windows, uint64_t window,
                         VkDescriptorBufferInfo *out)
{
    if (windows == 1) { /* the whole buffer, which is then one chunk */
        out[0] = (VkDescriptorBufferInfo){b->first.buffer, 0, VK_WHOLE_SIZE};
        return;
    }
    for (uint32_t w = 0; w < windows; w++)
        out[w] = vk_window(b, (uint64_t)w * window, window);
}

vki_status vk_launch_record(vk_ctx *c, const vk_launch *l)
{
    vki_status st = VKI_OK;
    /* Which variant: one window per tensor if every buffer is one chunk that fits in a
     * binding. */
    uint64_t biggest = l->dst->size;
    if (l->src->size > biggest)
        biggest = l->src->size;
    if (l->index->size > biggest)
        biggest = l->index->size;
    const bool chunked = l->dst->chunk_count > 1 || l->src->chunk_count > 1 || l->index->chunk_count > 1;
    const bool windowed = c->caps.force_windows || chunked || biggest > c->window_bytes;
    /* Windows are powers of two, so the kernels find them with a shift, and they divide the
     * chunks of chunked buffers. */
    uint64_t window = c->chunk_bytes;
    if (windowed) {
        if (!c->caps.windows)
            return vki_fail(VKI_ERROR_UNSUPPORTED,
                            "a tensor of %llu bytes is larger than this device's "
                            "maxStorageBufferRange (%u) and the device cannot bind it in "
                            "windows (it has fewer than %d storage buffers per stage)",
                            (unsigned long long)biggest, c->props.limits.maxStorageBufferRange,
                            3 * VK_MAX_WINDOWS + 2);
        uint64_t align = c->props.limits.minStorageBufferOffsetAlignment > 64
                             ? c->props.limits.minStorageBufferOffsetAlignment : 64;
        if (c->caps.force_windows) { /* tests: as many windows as the biggest buffer allows */
            uint64_t small = align;
            while (small * VK_MAX_WINDOWS < biggest)
                small *= 2;
            if (small < window)
                window = small;
        }
        if ((biggest + window - 1) / window > VK_MAX_WINDOWS)
            return vki_fail(VKI_ERROR_UNSUPPORTED,
                            "a tensor storage of %llu bytes needs more than %d windows of %llu "
                            "bytes (maxStorageBufferRange) on this device",
                            (unsigned long long)biggest, VK_MAX_WINDOWS,
                            (unsigned long long)window);
    }
    const bool off64 = windowed && (c->caps.force_off64 || biggest > UINT32_MAX);
    if (off64 && !c->caps.int64)
        return vki_fail(VKI_ERROR_UNSUPPORTED,
                        "a tensor storage of %llu bytes needs 64-bit offsets and this device "
                        "has no shaderInt64", (unsigned long long)biggest);
    const uint32_t variant = (off64 ? VK_VARIANT_W8_O64_NATIVE
                              : windowed ? VK_VARIANT_W8_NATIVE : VK_VARIANT_W1_NATIVE) +
                             (c->caps.native_subword ? 0 : 1);

    /* Launch shape. */
    const uint32_t wg = c->workgroup_size;
    uint64_t rows = 1, len = (uint64_t)l->shape[l->nd - 1] / (l->pack ? l->pack : 1), groups;
    for (int k = 0; k + 1 < l->nd; k++)
        rows *= (uint64_t)l->shape[k];
    uint32_t lanes = 1, chunks = 1;
    if (l->kernel == VK_KERNEL_CHECK) {
        groups = ((uint64_t)l->n + wg - 1) / wg;
    } else {
        /* About 4 elements per lane, moved together: a row's index arithmetic is then paid
         * once per 4 moves. A packed gather has 16 bytes of work per element already. */
        uint64_t per_lane = l->pack > 1 ? len : (len + 3) / 4;
        lanes = next_pow2(per_lane) < wg ? next_pow2(per_lane) : wg;
        /* Split long rows so that there are enough rows for every compute unit. */
        const uint64_t target = 65536;
        if (rows < target) {
            uint64_t want = (target + rows - 1) / rows, most = (len + 4ull * lanes - 1) / (4ull * lanes);
            chunks = (uint32_t)(want < most ? want : most);
            if (chunks < 1)
                chunks = 1;
        }
        uint32_t rows_per_group = wg / lanes;
        groups = (rows * chunks + rows_per_group - 1) / rows_per_group;
    }
    if (groups > c->props.limits.maxComputeWorkGroupCount[0])
        groups = c->props.limits.maxComputeWorkGroupCount[0]; /* the kernels loop over the rest */
    if (groups == 0)
        return VKI_OK;

    vk_pipeline_key key = {l->kernel, variant, (uint32_t)l->elem_size, lanes, l->mode, l->flags,
                           l->pack ? l->pack : 1};
    VkPipeline pipeline;
    st = vk_pipeline_get(c, &key, &pipeline);
    if (st != VKI_OK)
        return st;

    /* Parameters. */
    if ((c->params_used + 1) * VK_PARAM_SLOT > c->params.size || c->descriptor_sets_left == 0)
        return vki_fail(VKI_ERROR_UNSUPPORTED, "too many kernel launches in one submission");
    const uint32_t slot = c->params_used++;
    uint32_t *p = (uint32_t *)((char *)c->params.first.mapped + (size_t)slot * VK_PARAM_SLOT);
    memset(p, 0, P_WORDS * sizeof *p);
    p[P_ND] = (uint32_t)l->nd;
    p[P_AXIS] = l->axis < 0 ? 0xFFFFFFFFu : (uint32_t)l->axis;
    p[P_N] = (uint32_t)l->n;
    p[P_DIM_SIZE] = (uint32_t)l->dim_size;
    p[P_SLOT] = l->slot;
    uint32_t window_log2 = 0;
    while ((1ull << window_log2) < window)
        window_log2++;
    p[P_WINDOW] = window_log2;
    put64(p, P_ROWS, rows);
    put64(p, P_DST_BASE, (uint64_t)l->dst_base);
    put64(p, P_SRC_BASE, (uint64_t)l->src_base);
    put64(p, P_IDX_BASE, (uint64_t)l->index_base);
    put64(p, P_IDX_STRIDE, (uint64_t)l->index_stride);
    put64(p, P_CHUNKS, chunks);
    for (int k = 0; k < l->nd; k++) {
        /* a packed gather walks the innermost dim in packs */
        put64(p, P_SHAPE + 2 * k, (uint64_t)(k == l->nd - 1 ? (int64_t)len : l->shape[k]));
        put64(p, P_DST_STRIDE + 2 * k, (uint64_t)l->dst_strides[k]);
        put64(p, P_SRC_STRIDE + 2 * k, (uint64_t)l->src_strides[k]);
    }

    /* Descriptors. */
    const uint32_t windows = windowed ? VK_MAX_WINDOWS : 1;
    VkDescriptorSetAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = c->descriptor_pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &c->set_layout[windowed],
    };
    VkDescriptorSet set;
    VK(c->vk.vkAllocateDescriptorSets(c->device, &alloc, &set));
    c->descriptor_sets_left--;
    VkDescriptorBufferInfo params = {c->params.first.buffer, 0, VK_PARAM_SLOT};
    VkDescriptorBufferInfo scratch = {c->scratch.first.buffer, 0, VK_WHOLE_SIZE};
    VkDescriptorBufferInfo tensors[3][VK_MAX_WINDOWS];
    bind_windows(l->dst, windows, window, tensors[0]);
    bind_windows(l->src, windows, window, tensors[1]);
    bind_windows(l->index, windows, window, tensors[2]);
    VkWriteDescriptorSet writes[5];
    for (uint32_t i = 0; i < 5; i++)
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = i < 2 ? 1 : windows,
            .descriptorType = i == 0 ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC
                                     : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = i == 0 ? &params : i == 1 ? &scratch : tensors[i - 2],
        };
    c->vk.vkUpdateDescriptorSets(c->device, 5, writes, 0, NULL);
    const uint32_t dynamic_offset = slot * VK_PARAM_SLOT;
    c->vk.vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    c->vk.vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
                                  c->pipeline_layout[windowed], 0, 1, &set, 1, &dynamic_offset);
    c->vk.vkCmdDispatch(c->cmd, (uint32_t)groups, 1, 1);
done:
    return st;
}

/* ---- iteration boxes ---- */

static const uint32_t compute_rw = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;

static void compute_to_compute(vk_ctx *c)
{
    vk_barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, compute_rw);
}


static vk_buffer *buffer_of(const vki_view *v)
{
    return v->storage->impl;
}

/* Moves contiguous runs as 16-, 8- or 4-byte words when every offset allows it. */
static void widen(vk_launch *l)
{
    const int last = l->nd - 1;
    if (last == l->axis || l->dst_strides[last] != l->elem_size ||
        l->src_strides[last] != l->elem_size)
        return;
    for (int64_t w = 16; w > l->elem_size; w /= 2) {
        int64_t bytes = l->shape[last] * l->elem_size;
        bool ok = bytes % w == 0 && l->dst_base % w == 0 && l->src_base % w == 0;
        for (int k = 0; k < last && ok; k++)
            ok = l->dst_strides[k] % w == 0 && l->src_strides[k] % w == 0;
        if (ok) {
            l->shape[last] = bytes / w;
            l->dst_strides[last] = l->src_strides[last] = w;
            l->elem_size = w;
            return;
        }
    }
}

static void append_loop(vk_launch *l, const vki_loop *loop)
{
    for (int k = 0; k < loop->ndim; k++) {
        l->shape[l->nd] = loop->shape[k];
        l->dst_strides[l->nd] = loop->strides[0][k];
        l->src_strides[l->nd] = loop->strides[1][k];
        l->nd++;
    }
}

static vki_loop two_view_loop(const vki_view *dst, const vki_view *src, int from, int to)
{
    vki_loop loop = {.ndim = to - from, .nviews = 2};
    for (int k = from; k < to; k++) {
        loop.shape[k - from] = dst->shape[k];
        loop.strides[0][k - from] = dst->strides[k] * dst->elem_size;
        loop.strides[1][k - from] = src->strides[k] * src->elem_size;
    }
    vki_loop_collapse(&loop);
    return loop;
}

/* dst = src elementwise (same shape); dst/src buffers given separately so staging can stand in. */
static void box_copy(vk_launch *l, const vki_view *dst, const vk_buffer *dst_buf,
                     const vki_view *src, const vk_buffer *src_buf)
{
    *l = (vk_launch){.kernel = VK_KERNEL_INDEX_COPY, .mode = VK_MODE_COPY, .axis = -1,
                     .elem_size = dst->elem_size, .dst = dst_buf, .src = src_buf, .index = src_buf,
                     .dst_base = dst->offset * dst->elem_size, .src_base = src->offset * src->elem_size};
    vki_loop loop = two_view_loop(dst, src, 0, dst->ndim);
    append_loop(l, &loop);
    if (l->nd == 0) { /* one element */
        l->nd = 1;
        l->shape[0] = 1;
        l->dst_strides[0] = l->src_strides[0] = l->elem_size;
    }
    widen(l);
}

static void box_index_copy(vk_launch *l, const vki_copy_op *op, bool gather)
{
    const vki_view *dst = &op->dst, *src = &op->src;
    const int d = op->dim;
    const int64_t es = dst->elem_size;
    *l = (vk_launch){.kernel = VK_KERNEL_INDEX_COPY, .mode = gather ? VK_MODE_GATHER : VK_MODE_SCATTER,
                     .elem_size = es, .dst = buffer_of(dst), .src = buffer_of(src),
                     .index = buffer_of(&op->index), .dst_base = dst->offset * es,
                     .src_base = src->offset * es, .n = op->index.shape[0], .dim_size = dst->shape[d],
                     .index_base = op->index.offset * op->index.elem_size,
                     .index_stride = op->index.strides[0] * op->index.elem_size};
    if (op->index.elem_size == 4)
        l->flags |= VK_FLAG_INDEX32;
    vki_loop outer = two_view_loop(dst, src, 0, d), inner = two_view_loop(dst, src, d + 1, dst->ndim);
    append_loop(l, &outer);
    l->axis = l->nd;
    l->shape[l->nd] = gather ? dst->shape[d] : src->shape[d];
    l->dst_strides[l->nd] = dst->strides[d] * es;
    l->src_strides[l->nd] = src->strides[d] * es;
    l->nd++;
    append_loop(l, &inner);
    widen(l);
    /* A gather along a contiguous innermost dim writes whole 16-byte vectors. */
    const int last = l->nd - 1;
    if (gather && last == l->axis && es <= 8 && l->dst_strides[last] == es) {
        const int64_t pack = 16 / es;
        bool ok = l->shape[last] % pack == 0 && l->dst_base % 16 == 0;
        for (int k = 0; k < last && ok; k++)
            ok = l->dst_strides[k] % 16 == 0;
        if (ok)
            l->pack = (uint32_t)pack;
    }
}

static bool view_contiguous(const vki_view *v)
{
    vki_loop loop = {.ndim = v->ndim, .nviews = 1};
    for (int k = 0; k < v->ndim; k++) {
        loop.shape[k] = v->shape[k];
        loop.strides[0][k] = v->strides[k];
    }
    vki_loop_collapse(&loop);
    return loop.ndim == 0 || (loop.ndim == 1 && loop.strides[0][0] == 1);
}

/* A packed row-major view of v's shape at the start of a staging buffer. */
static vki_view packed_like(const vki_view *v)
{
    vki_view p = *v;
    p.offset = 0;
    int64_t s = 1;
    for (int k = v->ndim - 1; k >= 0; k--) {
        p.strides[k] = s;
        s *= v->shape[k];
    }
    return p;
}

/* ---- backend table ---- */

static vki_status flush(vk_ctx *c);

static vki_status vk_storage_create(void *impl, uint64_t bytes, void **out)
{
    vk_ctx *c = impl;
    vk_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    /* Whole 16-byte words (vk_buffer_create rounds up), so vector moves never reach past the
     * buffer; in chunks if one buffer cannot hold it. */
    vki_status st = vk_buffer_create(c, bytes, VK_MEMORY_DEVICE, false, b);
    if (st != VKI_OK) {
        free(b);
        return st;
    }
    *out = b;
    return VKI_OK;
}

static void vk_storage_destroy(void *impl, void *storage)
{
    vk_buffer_destroy(impl, storage);
    free(storage);
}

/* Moves a view's elements between the device and packed host memory through the staging
 * buffer: a buffer copy when the view is contiguous, else the copy kernel. Uploads from `in`
 * when it is not NULL, else downloads into `out`. */
static vki_status vk_transfer(vk_ctx *c, const vki_view *v, const void *in, void *out)
{
    const bool to_device = in != NULL;
    vki_status st = flush(c); /* queued calls of a batch come first */
    if (st != VKI_OK)
        return st;
    const uint64_t bytes = (uint64_t)(vki_numel(v->ndim, v->shape) * v->elem_size);
    /* Staging holds whole 16-byte words (vk_buffer_create rounds up), as the copy kernel reads
     * it in words. */
    if ((st = vk_buffer_reserve(c, &c->staging, bytes, VK_MEMORY_READBACK, false)) != VKI_OK)
        return st;
    if (to_device)
        vk_buffer_write(&c->staging, 0, in, bytes);
    if ((st = vk_begin(c)) != VKI_OK)
        return vk_abandon(c, st);
    if (view_contiguous(v)) {
        const VkDeviceSize at = (VkDeviceSize)(v->offset * v->elem_size);
        if (to_device)
            vk_cmd_copy(c, &c->staging, 0, buffer_of(v), at, bytes);
        else
            vk_cmd_copy(c, buffer_of(v), at, &c->staging, 0, bytes);
    } else {
        vk_launch l;
        vki_view packed = packed_like(v);
        if (to_device)
            box_copy(&l, v, buffer_of(v), &packed, &c->staging);
        else
            box_copy(&l, &packed, &c->staging, v, buffer_of(v));
        if ((st = vk_launch_record(c, &l)) != VKI_OK)
            return vk_abandon(c, st);
    }
    if ((st = vk_submit_wait(c)) != VKI_OK)
        return st;
    if (!to_device)
        vk_buffer_read(&c->staging, 0, out, bytes);
    vk_buffer_shrink(c, &c->staging, VK_KEEP_BYTES);
    return VKI_OK;
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
    vki_status queued = flush(c); /* queued calls of a batch come first */
    if (queued != VKI_OK)
        return queued;
    if (vki_numel(dst->ndim, dst->shape) == 0)
        return VKI_OK;
    vki_status st = vk_begin(c);
    vk_launch l;
    box_copy(&l, dst, buffer_of(dst), src, buffer_of(src));
    if (st == VKI_OK)
        st = vk_launch_record(c, &l);
    return st == VKI_OK ? vk_submit_wait(c) : vk_abandon(c, st);
}


/* Index parameters of a launch, from the op. */
static void launch_index(vk_launch *l, const vki_copy_op *op, uint32_t slot)
{
    l->index = buffer_of(&op->index);
    l->n = op->index.shape[0];
    l->dim_size = op->dst.shape[op->dim];
    l->index_base = op->index.offset * op->index.elem_size;
    l->index_stride = op->index.strides[0] * op->index.elem_size;
    l->slot = slot;
    if (op->index.elem_size == 4)
        l->flags |= VK_FLAG_INDEX32;
}

/* Records the whole index_copy: check pass (or none, for few indices), base copy, copy pass.
 * The call's status word (scratch slot) is read back when the submission is flushed. */
static vki_status record_index_copy(vk_ctx *c, const vki_copy_op *op, uint32_t slot,
                                    bool first_of_submission)
{
    vki_status st = VKI_OK;
    const int64_t n = op->index.shape[0], dim_size = op->dst.shape[op->dim];
    const bool fused = op->check_index && n <= VK_FUSED_MAX_INDICES;
    const bool winners = n > 1 && !fused;
    /* Zero what this call's kernels count on, in one fill: the status words and duplicate
     * flags of the whole submission (with its first checked call), and the winner map. */
    VkDeviceSize from = first_of_submission ? 0 : VK_SCRATCH_WINNERS_BYTES;
    VkDeviceSize to = winners ? VK_SCRATCH_WINNERS_BYTES + (VkDeviceSize)dim_size * 4
                              : (first_of_submission ? VK_SCRATCH_WINNERS_BYTES : 0);
    if (op->check_index && to > from) {
        c->vk.vkCmdFillBuffer(c->cmd, c->scratch.first.buffer, from, to - from, 0);
        vk_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, compute_rw);
    }
    if (op->check_index && !fused) {
        vk_launch check = {.kernel = VK_KERNEL_CHECK, .flags = winners ? VK_FLAG_WINNERS : 0,
                           .elem_size = 4, .nd = 1, .shape = {1}, .dst = buffer_of(&op->dst),
                           .src = buffer_of(&op->src), .axis = -1};
        launch_index(&check, op, slot);
        if ((st = vk_launch_record(c, &check)) != VKI_OK)
            return st;
        compute_to_compute(c);
    }
    if (op->base.storage && vki_numel(op->dst.ndim, op->dst.shape) > 0) {
        vk_launch base;
        box_copy(&base, &op->dst, buffer_of(&op->dst), &op->base, buffer_of(&op->base));
        if (op->check_index) {
            base.flags = fused ? VK_FLAG_FUSED : VK_FLAG_GUARD;
            launch_index(&base, op, slot);
        }
        if ((st = vk_launch_record(c, &base)) != VKI_OK)
            return st;
        compute_to_compute(c);
    }
    if (!op->check_index)
        return VKI_OK;
    /* Narrow slices are written as a gather over destination rows, through the winner map:
     * neighbouring invocations then write neighbouring elements. */
    int64_t slice = 1;
    for (int k = op->dim + 1; k < op->dst.ndim; k++)
        slice *= op->dst.shape[k];
    const bool gather = winners && slice * op->dst.elem_size <= 16 && dim_size <= 4 * n;
    vk_launch copy;
    box_index_copy(&copy, op, gather);
    copy.slot = slot;
    copy.flags |= fused ? VK_FLAG_FUSED : VK_FLAG_GUARD | (winners && !gather ? VK_FLAG_WINNERS : 0);
    return vk_launch_record(c, &copy);
}

/* Submits the recorded calls, waits, and notes the first bad index among them. */
static vki_status flush(vk_ctx *c)
{
    if (!c->recording)
        return VKI_OK;
    if (c->pending_count > 0) { /* the status words of the recorded calls, in one copy */
        vk_barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                   VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
        VkBufferCopy status = {0, 0, (VkDeviceSize)c->pending_count * 4};
        c->vk.vkCmdCopyBuffer(c->cmd, c->scratch.first.buffer, c->readback.first.buffer, 1, &status);
    }
    vki_status st = vk_submit_wait(c);
    uint32_t count = c->pending_count;
    c->pending_count = 0;
    if (st != VKI_OK)
        return st;
    c->done_calls = c->queued_calls;
    c->batch_ns += c->last_kernel_ns;
    for (uint32_t i = 0; i < count; i++) {
        const vk_pending *p = &c->pending[i];
        uint32_t status;
        memcpy(&status, (const char *)c->readback.first.mapped + (size_t)p->slot * 4, 4);
        if (status == 0 || (c->bad_call >= 0 && c->bad_call <= p->call))
            continue;
        const uint32_t first_bad = ~status; /* the kernels store the complement */
        /* That call wrote nothing; fetch the offending value for the message. */
        vki_view one = p->index;
        one.offset += (int64_t)first_bad * one.strides[0];
        one.shape[0] = 1;
        int64_t value = 0;
        if (one.elem_size == 8) {
            st = vk_download(c, &one, &value);
        } else {
            int32_t v32 = 0;
            st = vk_download(c, &one, &v32);
            value = v32;
        }
        if (st != VKI_OK)
            return st;
        c->bad_call = p->call;
        c->bad_position = first_bad;
        c->bad_value = value;
    }
    return VKI_OK;
}

/* Records one call into the current submission, submitting first when it is full. */
static vki_status record_call(vk_ctx *c, const vki_copy_op *op)
{
    const int64_t n = op->index.shape[0], dim_size = op->dst.shape[op->dim];
    if (n >= INT32_MAX || dim_size >= INT32_MAX)
        return vki_fail(VKI_ERROR_UNSUPPORTED,
                        "index_copy_: the Vulkan backend takes fewer than 2^31 indices and "
                        "destination slots (got %lld and %lld)", (long long)n, (long long)dim_size);
    const uint64_t scratch = VK_SCRATCH_WINNERS_BYTES + (uint64_t)dim_size * 4;
    /* A call needs up to 3 launches, a status slot, and scratch for its winner map. */
    bool full = c->params_used + 3 > VK_PARAM_SLOTS || c->descriptor_sets_left < 3 ||
                c->pending_count == VK_STATUS_SLOTS || scratch > c->scratch.size;
    vki_status st = VKI_OK;
    if (c->recording && full)
        st = flush(c);
    if (st == VKI_OK && scratch > c->scratch.size)
        st = vk_buffer_reserve(c, &c->scratch, scratch, VK_MEMORY_DEVICE, true);
    if (st != VKI_OK)
        return st;
    if (!c->recording) {
        if ((st = vk_begin(c)) != VKI_OK)
            return vk_abandon(c, st);
    } else { /* the previous call's writes and scratch reads come first */
        vk_barrier(c, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT | VK_ACCESS_MEMORY_READ_BIT,
                   VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    }
    if (op->check_index && c->pending_count == c->pending_cap) {
        uint32_t cap = c->pending_cap ? 2 * c->pending_cap : 64;
        vk_pending *grown = realloc(c->pending, cap * sizeof *grown);
        if (!grown)
            return vk_abandon(c, vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
        c->pending = grown;
        c->pending_cap = cap;
    }
    uint32_t slot = c->pending_count;
    st = record_index_copy(c, op, slot, slot == 0);
    if (st != VKI_OK) {
        c->pending_count = 0;
        return vk_abandon(c, st);
    }
    if (op->batch_call >= 0)
        c->queued_calls = op->batch_call + 1;
    if (op->check_index)
        c->pending[c->pending_count++] =
            (vk_pending){.call = op->batch_call < 0 ? 0 : op->batch_call, .slot = slot, .index = op->index};
    return VKI_OK;
}

static vki_status vk_index_copy(void *impl, const vki_copy_op *op, int64_t *bad_position,
                                int64_t *bad_value)
{
    vk_ctx *c = impl;
    vki_status st = record_call(c, op);
    if (st != VKI_OK || c->batch_open)
        return st;
    c->bad_call = -1;
    c->batch_ns = 0;
    if ((st = flush(c)) != VKI_OK)
        return st;
    vk_buffer_shrink(c, &c->scratch, VK_KEEP_BYTES);
    if (c->bad_call < 0)
        return VKI_OK;
    *bad_position = c->bad_position;
    *bad_value = c->bad_value;
    return VKI_ERROR_INDEX;
}

static vki_status vk_batch_begin(void *impl)
{
    vk_ctx *c = impl;
    c->batch_open = true;
    c->queued_calls = c->done_calls = 0;
    c->bad_call = -1;
    c->batch_ns = 0;
    return VKI_OK;
}

static vki_status vk_batch_end(void *impl, int64_t *bad_call, int64_t *bad_position,
                               int64_t *bad_value)
{
    vk_ctx *c = impl;
    vki_status st = flush(c);
    c->batch_open = false;
    c->last_kernel_ns = c->batch_ns;
    if (!c->recording)
        vk_buffer_shrink(c, &c->scratch, VK_KEEP_BYTES);
    if (st != VKI_OK || c->bad_call < 0)
        return st;
    *bad_call = c->bad_call;
    *bad_position = c->bad_position;
    *bad_value = c->bad_value;
    return VKI_ERROR_INDEX;
}

static int64_t vk_batch_done(void *impl)
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
    .upload = vk_upload,
    .download = vk_download,
    .copy = vk_copy,
    .index_copy = vk_index_copy,
    .last_kernel_ns = vk_last_kernel_ns,
    .batch_begin = vk_batch_begin,
    .batch_end = vk_batch_end,
    .batch_done = vk_batch_done,
};
