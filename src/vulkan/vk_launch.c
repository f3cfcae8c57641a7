/*
 * Kernel launches: the iteration boxes the kernels of shaders/ walk (built from normalised
 * views: dims collapsed, contiguous runs widened to 16-byte words, packed gathers), the choice
 * of shader variant (windows, 64-bit offsets and counts), the parameter block and descriptors.
 * A launch is prepared first (everything that can fail: the pipeline, a parameter slot, the
 * descriptor set) and recorded after, so that a call whose preparation fails has recorded
 * nothing and the calls recorded before it stand.
 */
#include "vk_internal.h"
#include "../layout.h"

#include <string.h>

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

vki_status vk_launch_prepare(vk_ctx *c, const vk_launch *l, vk_prepared *out)
{
    vki_status st = VKI_OK;
    *out = (vk_prepared){0};
    /* Which variant: one window per tensor if every buffer is one chunk that fits in a
     * binding. */
    uint64_t biggest = l->dst->size;
    if (l->src->size > biggest)
        biggest = l->src->size;
    if (l->index->size > biggest)
        biggest = l->index->size;
    const bool chunked = l->dst->chunk_count > 1 || l->src->chunk_count > 1 || l->index->chunk_count > 1;
    /* The 32-bit variants count rows, elements and indices in 32 bits: a launch that walks more
     * (broadcast views can describe any number) takes the 64-bit variant. */
    uint64_t rows = 1, len = (uint64_t)l->shape[l->nd - 1] / (l->pack ? l->pack : 1);
    for (int k = 0; k + 1 < l->nd; k++)
        rows *= (uint64_t)l->shape[k];
    const bool long_walk = rows > (UINT64_C(1) << 30) || len > (UINT64_C(1) << 30);
    const bool windowed = c->caps.force_windows || chunked || long_walk || biggest > c->window_bytes;
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
    const bool off64 = windowed && (c->caps.force_off64 || long_walk || biggest > UINT32_MAX);
    if (off64 && !c->caps.int64 && long_walk)
        return vki_fail(VKI_ERROR_UNSUPPORTED,
                        "a launch over %llu rows of %llu elements needs 64-bit counts and this "
                        "device has no shaderInt64", (unsigned long long)rows, (unsigned long long)len);
    if (off64 && !c->caps.int64)
        return vki_fail(VKI_ERROR_UNSUPPORTED,
                        "a tensor storage of %llu bytes needs 64-bit offsets and this device "
                        "has no shaderInt64", (unsigned long long)biggest);
    const uint32_t variant = (off64 ? VK_VARIANT_W8_O64_NATIVE
                              : windowed ? VK_VARIANT_W8_NATIVE : VK_VARIANT_W1_NATIVE) +
                             (c->caps.native_subword ? 0 : 1);

    /* Launch shape. */
    const uint32_t wg = c->workgroup_size;
    uint64_t groups;
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
    /* Scratch is one buffer; a call's plan keeps what it uses within one binding. */
    VkDescriptorBufferInfo scratch = {c->scratch.first.buffer, 0,
                                      c->scratch.size < c->window_bytes ? c->scratch.size : c->window_bytes};
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
    *out = (vk_prepared){.pipeline = pipeline, .layout = c->pipeline_layout[windowed], .set = set,
                         .dynamic_offset = slot * VK_PARAM_SLOT, .groups = (uint32_t)groups};
done:
    return st;
}

void vk_launch_dispatch(vk_ctx *c, const vk_prepared *p)
{
    if (p->groups == 0)
        return;
    c->vk.vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    c->vk.vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &p->set,
                                  1, &p->dynamic_offset);
    c->vk.vkCmdDispatch(c->cmd, p->groups, 1, 1);
}

vk_buffer *vk_buffer_of(const vki_view *v)
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
void vk_box_copy(vk_launch *l, const vki_view *dst, const vk_buffer *dst_buf,
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

void vk_box_index_copy(vk_launch *l, const vki_copy_op *op, bool gather)
{
    const vki_view *dst = &op->dst, *src = &op->src;
    const int d = op->dim;
    const int64_t es = dst->elem_size;
    *l = (vk_launch){.kernel = VK_KERNEL_INDEX_COPY, .mode = gather ? VK_MODE_GATHER : VK_MODE_SCATTER,
                     .elem_size = es, .dst = vk_buffer_of(dst), .src = vk_buffer_of(src),
                     .index = vk_buffer_of(&op->index), .dst_base = dst->offset * es,
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

bool vk_view_contiguous(const vki_view *v)
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
vki_view vk_packed_like(const vki_view *v)
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

