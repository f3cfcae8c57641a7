/*
 * Kernel launches: the iteration boxes the kernels of shaders/ walk (built from normalised
 * views: dims collapsed, contiguous runs widened to 16-byte words, packed gathers), the choice
 * of shader variant (windows, 64-bit offsets and counts), the parameter block and descriptors.
 * A launch is prepared first (everything that can fail: the pipeline, a parameter slot, the
 * descriptor set) and recorded after, so that a call whose preparation fails has recorded
 * nothing and the calls recorded before it stand.
 */
#include "vk_internal.h"

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

static void bind_windows(const vk_buffer *b, uint32_t windows, uint64_t window,
                         VkDescriptorBufferInfo *out)
{
    if (windows == 1) { /* the whole buffer, which is then one chunk */
        out[0] = (VkDescriptorBufferInfo){b->first.buffer, b->first.base,
                                          b->borrowed ? b->size : VK_WHOLE_SIZE};
        return;
    }
    for (uint32_t w = 0; w < windows; w++)
        out[w] = vk_window(b, (uint64_t)w * window, window);
}

/* How a launch binds its tensors and counts its work. */
typedef struct binding_plan {
    uint64_t rows, len;  /* rows of the box, and units (elements or packs) per row */
    uint64_t biggest;    /* bytes of the largest buffer bound */
    bool windowed, off64;
    uint64_t window;     /* bytes per binding window (a power of two) */
} binding_plan;

/* Which variant: one window per tensor if every buffer is one chunk that fits in a binding;
 * else windows, with 64-bit offsets past 4 GiB. Fails when the device cannot. */
static vki_status plan_binding(const vk_ctx *c, const vk_launch *l, binding_plan *b)
{
    vki_status st = VKI_OK;
    b->biggest = l->dst->size;
    if (l->src->size > b->biggest)
        b->biggest = l->src->size;
    if (l->index->size > b->biggest)
        b->biggest = l->index->size;
    const bool chunked = l->dst->chunk_count > 1 || l->src->chunk_count > 1 || l->index->chunk_count > 1;
    /* The 32-bit variants count rows, elements and indices in 32 bits: a launch that walks more
     * (broadcast views can describe any number) takes the 64-bit variant. */
    b->rows = 1;
    b->len = (uint64_t)l->shape[l->nd - 1] / (l->pack ? l->pack : 1);
    for (int k = 0; k + 1 < l->nd; k++)
        b->rows *= (uint64_t)l->shape[k];
    const bool long_walk = b->rows > (UINT64_C(1) << 30) || b->len > (UINT64_C(1) << 30);
    b->windowed = c->caps.force_windows || chunked || long_walk || b->biggest > c->window_bytes;
    /* Windows are powers of two, so the kernels find them with a shift, and they divide the
     * chunks of chunked buffers. */
    b->window = c->chunk_bytes;
    if (b->windowed && !c->caps.windows)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "a tensor of %llu bytes is larger than this device's maxStorageBufferRange "
                     "(%u) and the device cannot bind it in windows (it has fewer than %d "
                     "storage buffers per stage)",
                     (unsigned long long)b->biggest, c->props.limits.maxStorageBufferRange,
                     VK_WINDOWED_STORAGE_BUFFERS));
    if (b->windowed && c->caps.force_windows) { /* tests: as many windows as the biggest allows */
        uint64_t small = c->props.limits.minStorageBufferOffsetAlignment > 64
                             ? c->props.limits.minStorageBufferOffsetAlignment : 64;
        while (small * VKI_MAX_WINDOWS < b->biggest)
            small *= 2;
        if (small < b->window)
            b->window = small;
    }
    if (b->windowed && (b->biggest + b->window - 1) / b->window > VKI_MAX_WINDOWS)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "a tensor storage of %llu bytes needs more than %d windows of %llu bytes "
                     "(maxStorageBufferRange) on this device",
                     (unsigned long long)b->biggest, VKI_MAX_WINDOWS,
                     (unsigned long long)b->window));
    b->off64 = b->windowed && (c->caps.force_off64 || long_walk || b->biggest > UINT32_MAX);
    if (b->off64 && !c->caps.int64 && long_walk)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "a launch over %llu rows of %llu elements needs 64-bit counts and this "
                     "device has no shaderInt64",
                     (unsigned long long)b->rows, (unsigned long long)b->len));
    if (b->off64 && !c->caps.int64)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "a tensor storage of %llu bytes needs 64-bit offsets and this device has "
                     "no shaderInt64", (unsigned long long)b->biggest));
error:
    return st;
}

/* Workgroups, invocations per row and chunks per row of a launch. */
static uint64_t launch_shape(const vk_ctx *c, const vk_launch *l, const binding_plan *b,
                             uint32_t *lanes, uint32_t *chunks)
{
    const uint32_t wg = c->workgroup_size;
    *lanes = *chunks = 1;
    if (l->kernel == VK_KERNEL_CHECK)
        return ((uint64_t)l->n + wg - 1) / wg;
    if (b->rows == 0 || b->len == 0)
        return 0; /* an empty box: nothing to run */
    /* About 4 elements per lane, moved together: a row's index arithmetic is then paid once
     * per 4 moves. A packed gather has 16 bytes of work per element already. */
    const uint64_t per_lane = l->pack > 1 ? b->len : (b->len + 3) / 4;
    *lanes = next_pow2(per_lane) < wg ? next_pow2(per_lane) : wg;
    /* Split long rows so that there are enough rows for every compute unit. */
    uint64_t target = 65536;
    if (c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        /* lavapipe, SwiftShader: an invocation's set-up (its row's coordinates and index)
         * costs as much as many moves, and neighbouring lanes gain nothing from touching
         * neighbouring bytes. One invocation walks each row (or chunk), and a few thousand
         * items keep the CPU's threads busy: 2-10x faster than lanes sharing rows
         * (vkindex-bench, both devices). */
        *lanes = 1;
        target = 4096;
    }
    if (b->rows < target) {
        uint64_t want = (target + b->rows - 1) / b->rows;
        uint64_t most = (b->len + 4ull * *lanes - 1) / (4ull * *lanes);
        *chunks = (uint32_t)(want < most ? want : most);
        if (*chunks < 1)
            *chunks = 1;
    }
    const uint32_t rows_per_group = wg / *lanes;
    return (b->rows * *chunks + rows_per_group - 1) / rows_per_group;
}

/* The parameter block of a launch (shaders/interface.h). */
static void write_params(uint32_t *p, const vk_launch *l, const binding_plan *b, uint32_t chunks)
{
    memset(p, 0, VKI_P_WORDS * sizeof *p);
    p[VKI_P_ND] = (uint32_t)l->nd;
    p[VKI_P_AXIS] = l->axis < 0 ? 0xFFFFFFFFu : (uint32_t)l->axis;
    p[VKI_P_N] = (uint32_t)l->n;
    p[VKI_P_DIM_SIZE] = (uint32_t)l->dim_size;
    p[VKI_P_SLOT] = l->slot;
    p[VKI_P_REPORT] = l->report;
    uint32_t window_log2 = 0;
    while ((1ull << window_log2) < b->window)
        window_log2++;
    p[VKI_P_WINDOW] = window_log2;
    put64(p, VKI_P_ROWS, b->rows);
    put64(p, VKI_P_DST_BASE, (uint64_t)l->dst_base);
    put64(p, VKI_P_SRC_BASE, (uint64_t)l->src_base);
    put64(p, VKI_P_IDX_BASE, (uint64_t)l->index_base);
    put64(p, VKI_P_IDX_STRIDE, (uint64_t)l->index_stride);
    put64(p, VKI_P_CHUNKS, chunks);
    for (int k = 0; k < l->nd; k++) {
        /* a packed gather walks the innermost dim in packs */
        put64(p, VKI_P_SHAPE + 2 * k, (uint64_t)(k == l->nd - 1 ? (int64_t)b->len : l->shape[k]));
        put64(p, VKI_P_DST_STRIDE + 2 * k, (uint64_t)l->dst_strides[k]);
        put64(p, VKI_P_SRC_STRIDE + 2 * k, (uint64_t)l->src_strides[k]);
    }
}

/* A descriptor set of the launch's bindings. */
static vki_status write_set(vk_ctx *c, vk_arena *arena, const vk_launch *l,
                            const binding_plan *b, VkDescriptorSet *set)
{
    vki_status st = VKI_OK;
    VkDescriptorSetAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = arena->pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &c->set_layout[b->windowed],
    };
    VK(c->vk.vkAllocateDescriptorSets(c->device, &alloc, set));
    arena->sets_left--;
    const uint32_t windows = b->windowed ? VKI_MAX_WINDOWS : 1;
    VkDescriptorBufferInfo infos[VKI_BINDING_COUNT][VKI_MAX_WINDOWS];
    infos[VKI_BINDING_PARAMS][0] = (VkDescriptorBufferInfo){arena->params->first.buffer, 0,
                                                            VKI_PARAM_SLOT_BYTES};
    infos[VKI_BINDING_SCRATCH][0] = arena->scratch;
    infos[VKI_BINDING_REPORT][0] = arena->report;
    bind_windows(l->dst, windows, b->window, infos[VKI_BINDING_DST]);
    bind_windows(l->src, windows, b->window, infos[VKI_BINDING_SRC]);
    bind_windows(l->index, windows, b->window, infos[VKI_BINDING_INDEX]);
    VkWriteDescriptorSet writes[VKI_BINDING_COUNT];
    for (uint32_t i = 0; i < VKI_BINDING_COUNT; i++)
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = *set,
            .dstBinding = i,
            .descriptorCount = vk_binding_descriptors(i, windows),
            .descriptorType = vk_binding_type(i),
            .pBufferInfo = infos[i],
        };
    c->vk.vkUpdateDescriptorSets(c->device, VKI_BINDING_COUNT, writes, 0, NULL);
error:
    return st;
}

vki_status vk_launch_prepare(vk_ctx *c, vk_arena *arena, const vk_launch *l, vk_prepared *out)
{
    vki_status st = VKI_OK;
    *out = (vk_prepared){0};
    binding_plan b;
    TRY(plan_binding(c, l, &b));
    uint32_t lanes, chunks;
    uint64_t groups = launch_shape(c, l, &b, &lanes, &chunks);
    if (groups > c->props.limits.maxComputeWorkGroupCount[0])
        groups = c->props.limits.maxComputeWorkGroupCount[0]; /* the kernels loop over the rest */
    if (groups == 0)
        goto error; /* nothing to run: st is VKI_OK */
    const vk_pipeline_key key = {l->kernel, vk_variant_find(b.windowed, b.off64, c->caps.native_subword),
                                 (uint32_t)l->elem_size, lanes, l->mode, l->flags,
                                 l->pack ? l->pack : 1};
    VkPipeline pipeline;
    TRY(vk_pipeline_get(c, &key, &pipeline));
    if ((arena->params_used + 1) * VKI_PARAM_SLOT_BYTES > arena->params->size || arena->sets_left == 0)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED, "too many kernel launches in one submission"));
    const uint32_t slot = arena->params_used++;
    write_params((uint32_t *)((char *)arena->params->first.mapped + (size_t)slot * VKI_PARAM_SLOT_BYTES),
                 l, &b, chunks);
    VkDescriptorSet set;
    TRY(write_set(c, arena, l, &b, &set));
    *out = (vk_prepared){.pipeline = pipeline, .layout = c->pipeline_layout[b.windowed],
                         .set = set, .dynamic_offset = slot * VKI_PARAM_SLOT_BYTES,
                         .groups = (uint32_t)groups};
error:
    return st;
}

void vk_launch_dispatch(vk_ctx *c, VkCommandBuffer cmd, const vk_prepared *p)
{
    if (p->groups == 0)
        return;
    c->vk.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    c->vk.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &p->set, 1,
                                  &p->dynamic_offset);
    c->vk.vkCmdDispatch(cmd, p->groups, 1, 1);
    c->counts[VK_COUNT_DISPATCHES] += cmd == c->cmd;
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

/* dst = src elementwise (same shape); dst/src buffers given separately so staging can stand in. */
void vk_box_copy(vk_launch *l, const vki_view *dst, const vk_buffer *dst_buf,
                     const vki_view *src, const vk_buffer *src_buf)
{
    *l = (vk_launch){.kernel = VK_KERNEL_INDEX_COPY, .mode = VKI_MODE_COPY, .axis = -1,
                     .elem_size = dst->elem_size, .dst = dst_buf, .src = src_buf, .index = src_buf,
                     .dst_base = dst->offset * dst->elem_size, .src_base = src->offset * src->elem_size};
    const vki_view *views[2] = {dst, src};
    vki_loop loop = vki_loop_of_views(2, views, 0, dst->ndim);
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
    *l = (vk_launch){.kernel = VK_KERNEL_INDEX_COPY, .mode = gather ? VKI_MODE_GATHER : VKI_MODE_SCATTER,
                     .elem_size = es, .dst = vk_buffer_of(dst), .src = vk_buffer_of(src),
                     .index = vk_buffer_of(&op->index), .dst_base = dst->offset * es,
                     .src_base = src->offset * es, .n = op->index.shape[0], .dim_size = dst->shape[d],
                     .index_base = op->index.offset * op->index.elem_size,
                     .index_stride = op->index.strides[0] * op->index.elem_size};
    if (op->index.elem_size == 4)
        l->flags |= VKI_FLAG_INDEX32;
    const vki_view *views[2] = {dst, src};
    vki_loop outer = vki_loop_of_views(2, views, 0, d);
    vki_loop inner = vki_loop_of_views(2, views, d + 1, dst->ndim);
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
