/*
 * The CPU backend: storage in host memory, and index_copy as a loop nest over
 * (outer dims, index positions, inner slice) with whole contiguous runs moved by memcpy,
 * innermost-dim scatters by a typed element loop, and large calls split across the pool.
 *
 * Duplicates: one thread walking the index in order lets the last occurrence win by itself,
 * so every split keeps all occurrences of a destination slot on one thread, in index order:
 * parts own whole outer slices, or a range within every slice, or destination slots (by blocks
 * of slot numbers, so that clustered indices still spread over the parts). Parts owning slots
 * walk the index backwards and copy a slot only the first time they meet it (a bitmap of
 * written slots), so repeated indices cost no writes. When a bitmap shows that no slot is named
 * twice, parts take ranges of index positions instead: each then reads its sources in order,
 * which is twice as fast for rows scattered over a large tensor.
 */
#include "../backend.h"
#include "../error.h"
#include "../fault.h"
#include "../layout.h"
#include "pool.h"
#include "stream.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
/* Calls moving fewer bytes than this run on the calling thread: waking workers costs more. */
#define PARALLEL_MIN_BYTES (256 * 1024)
/* Bytes per part below which more parts do not pay. */
#define PART_MIN_BYTES (128 * 1024)
/* Destination slices are prefetched this many index positions ahead: they land at random
 * places, where the hardware prefetcher cannot guess them. */
#define PREFETCH_AHEAD 8
/* Slices from this size on are prefetched. */
#define PREFETCH_MIN_SLICE 256
/* Calls writing at least this many bytes, in contiguous slices of at least STREAM_MIN_SLICE
 * bytes, write them with non-temporal stores (src/cpu/stream.h): a destination larger than
 * the caches is not going to be read from them, and streaming stores skip reading each line
 * before writing it. Measured on the development machine (vkindex-bench, 2 threads). */
#define STREAM_MIN_BYTES (8 << 20)
#define STREAM_MIN_SLICE 256

typedef struct cpu_ctx {
    vki_pool *pool;
} cpu_ctx;

static char *storage_ptr(const vki_view *v)
{
    return (char *)v->storage->impl + v->offset * v->elem_size;
}

static int parts_for(const cpu_ctx *c, int64_t bytes)
{
    if (bytes < PARALLEL_MIN_BYTES)
        return 1;
    int64_t parts = bytes / PART_MIN_BYTES;
    int threads = vki_pool_threads(c->pool);
    return parts < threads ? (int)parts : threads;
}

static void split(int64_t count, int part, int parts, int64_t *begin, int64_t *end)
{
    *begin = count * part / parts;
    *end = count * (part + 1) / parts;
}

/* ---- strided copy (upload, download, clones, out-of-place base) ---- */

typedef struct copy_job {
    vki_loop loop;
    char *dst;
    const char *src;
    int64_t elem_size;
} copy_job;

static void copy_part(void *arg, int part, int parts)
{
    const copy_job *j = arg;
    int64_t b, e;
    if (j->loop.ndim != 1) {
        split(vki_loop_rows(&j->loop), part, parts, &b, &e);
        vki_loop_copy_rows(&j->loop, j->dst, j->src, j->elem_size, b, e);
    } else { /* one row: split its elements */
        split(j->loop.shape[0], part, parts, &b, &e);
        vki_copy_run(j->dst + b * j->loop.strides[0][0], j->loop.strides[0][0],
                     j->src + b * j->loop.strides[1][0], j->loop.strides[1][0], e - b,
                     j->elem_size);
    }
}

/* dst = src elementwise (views of one shape; either may stand for packed host memory). */
static void strided_copy(cpu_ctx *c, const vki_view *dst, char *dst_ptr, const vki_view *src,
                         const char *src_ptr)
{
    const int64_t numel = vki_numel(dst->ndim, dst->shape);
    if (numel == 0)
        return;
    const vki_view *views[2] = {dst, src};
    copy_job j = {.loop = vki_loop_of_views(2, views, 0, dst->ndim), .dst = dst_ptr,
                  .src = src_ptr, .elem_size = dst->elem_size};
    vki_pool_run(c->pool, copy_part, &j, parts_for(c, numel * dst->elem_size));
}

static vki_status cpu_upload(void *impl, const vki_view *dst, const void *host)
{
    const vki_view packed = vki_view_packed(dst);
    strided_copy(impl, dst, storage_ptr(dst), &packed, host);
    return VKI_OK;
}

static vki_status cpu_download(void *impl, const vki_view *src, void *host)
{
    const vki_view packed = vki_view_packed(src);
    strided_copy(impl, &packed, host, src, storage_ptr(src));
    return VKI_OK;
}

static vki_status cpu_copy(void *impl, const vki_view *dst, const vki_view *src)
{
    strided_copy(impl, dst, storage_ptr(dst), src, storage_ptr(src));
    return VKI_OK;
}

/* ---- index_copy ---- */

typedef struct scatter_plan {
    char *dst;
    const char *src;
    int64_t elem_size;
    vki_loop outer;             /* dims before dim: view 0 dst, view 1 src (bytes)          */
    int64_t outer_count;
    int64_t n;                  /* index positions                                          */
    int64_t dim_size;           /* destination slots                                        */
    const int64_t *idx;
    const uint32_t *idx32;      /* the index as 32-bit values, for element scatters        */
    bool prefetch;              /* prefetch destination slices ahead                       */
    bool contiguous;            /* slices are one contiguous run in both tensors           */
    bool stream;                /* contiguous slices written with non-temporal stores      */
    int64_t dst_dim_stride, src_dim_stride; /* bytes */
    vki_loop inner;             /* dims after dim                                           */
    int64_t inner_units;        /* rows of inner, or elements when inner has <= 1 dim       */
    enum { BY_OUTER, BY_CHUNK, BY_OWNER, BY_INDEX } split; /* what each part owns (the top) */
    uint8_t *written;           /* BY_OWNER: one bit per destination slot, or NULL          */
} scatter_plan;

/* The part that writes destination slot v in BY_OWNER splits: blocks of 16 slots, so that the
 * two bytes of the written-slot bitmap covering a block belong to one part. */
static int slot_owner(int64_t v, int parts)
{
    return (int)(((uint64_t)v >> 4) % (uint64_t)parts);
}

static void outer_offsets(const scatter_plan *p, int64_t o, int64_t *doff, int64_t *soff)
{
    *doff = *soff = 0;
    for (int k = p->outer.ndim - 1; k >= 0; k--) {
        int64_t c = o % p->outer.shape[k];
        o /= p->outer.shape[k];
        *doff += c * p->outer.strides[0][k];
        *soff += c * p->outer.strides[1][k];
    }
}

/* Copies units [b, e) of one slice. */
static void copy_slice(const scatter_plan *p, char *dst, const char *src, int64_t b, int64_t e)
{
    const vki_loop *in = &p->inner;
    if (in->ndim == 0)
        memcpy(dst, src, (size_t)p->elem_size);
    else if (p->stream)
        vki_copy_stream(dst + b * p->elem_size, src + b * p->elem_size, (size_t)((e - b) * p->elem_size));
    else if (p->contiguous)
        memcpy(dst + b * p->elem_size, src + b * p->elem_size, (size_t)((e - b) * p->elem_size));
    else if (in->ndim == 1)
        vki_copy_run(dst + b * in->strides[0][0], in->strides[0][0],
                     src + b * in->strides[1][0], in->strides[1][0], e - b, p->elem_size);
    else
        vki_loop_copy_rows(in, dst, src, p->elem_size, b, e);
}

/* One element per slice: the innermost-dim scatter, typed so each copy is one move. With both
 * dims contiguous and a 32-bit index, the loop is a plain typed scatter the compiler unrolls. */
#define SCATTER_ELEMENTS(T)                                                                    \
    do {                                                                                       \
        if (p->idx32 && p->dst_dim_stride == sizeof(T) && p->src_dim_stride == sizeof(T)) {     \
            T *d = (T *)(void *)dst;                                                           \
            const T *s = (const T *)(const void *)src;                                         \
            const uint32_t *ix = p->idx32;                                                     \
            /* While scattering into this row, pull the next row's lines into the cache: */    \
            /* its writes then find them there instead of waiting for each one. */             \
            const int64_t lines = (p->dim_size * (int64_t)sizeof(T) + 63) / 64;                \
            const int64_t every = next && lines ? (p->n + lines - 1) / lines : p->n + 1;       \
            int64_t line = 0, countdown = every;                                               \
            for (int64_t i = 0; i < p->n; i++) {                                               \
                memcpy(&d[ix[i]], &s[i], sizeof(T));                                           \
                if (--countdown == 0) {                                                        \
                    countdown = every;                                                         \
                    if (line < lines)                                                          \
                        __builtin_prefetch(next + 64 * line++, 1);                             \
                }                                                                              \
            }                                                                                  \
        } else {                                                                               \
            for (int64_t i = 0; i < p->n; i++)                                                 \
                memcpy(dst + p->idx[i] * p->dst_dim_stride, src + i * p->src_dim_stride,       \
                       sizeof(T));                                                             \
        }                                                                                      \
    } while (0)

static void scatter_elements(const scatter_plan *p, char *dst, const char *src, const char *next)
{
    switch (p->elem_size) {
    case 1: SCATTER_ELEMENTS(uint8_t); break;
    case 2: SCATTER_ELEMENTS(uint16_t); break;
    case 4: SCATTER_ELEMENTS(uint32_t); break;
    case 8: SCATTER_ELEMENTS(uint64_t); break;
    default: SCATTER_ELEMENTS(vki_u128); break;
    }
}

static void scatter_part(void *arg, int part, int parts)
{
    const scatter_plan *p = arg;
    int64_t doff, soff, ob = 0, oe = p->outer_count, ub = 0, ue = p->inner_units, ib = 0, ie = p->n;
    if (p->split == BY_OUTER)
        split(p->outer_count, part, parts, &ob, &oe);
    else if (p->split == BY_CHUNK)
        split(p->inner_units, part, parts, &ub, &ue);
    else if (p->split == BY_INDEX)
        split(p->n, part, parts, &ib, &ie);
    for (int64_t o = ob; o < oe; o++) {
        outer_offsets(p, o, &doff, &soff);
        char *dst = p->dst + doff;
        const char *src = p->src + soff;
        if (p->inner.ndim == 0 && p->split == BY_OUTER) {
            const char *next = NULL;
            if (o + 1 < oe) {
                int64_t nd, ns;
                outer_offsets(p, o + 1, &nd, &ns);
                next = p->dst + nd;
            }
            scatter_elements(p, dst, src, next);
            continue;
        }
        if (p->split == BY_OWNER && p->written) { /* last occurrence first, once per slot */
            for (int64_t i = p->n - 1; i >= 0; i--) {
                const int64_t v = p->idx[i];
                if (p->prefetch && i >= PREFETCH_AHEAD)
                    __builtin_prefetch(dst + p->idx[i - PREFETCH_AHEAD] * p->dst_dim_stride, 1);
                uint8_t *byte = &p->written[v >> 3], bit = (uint8_t)(1u << (v & 7));
                if (slot_owner(v, parts) != part || (*byte & bit))
                    continue;
                *byte |= bit;
                copy_slice(p, dst + v * p->dst_dim_stride, src + i * p->src_dim_stride, ub, ue);
            }
            continue;
        }
        for (int64_t i = ib; i < ie; i++) {
            if (p->prefetch && i + PREFETCH_AHEAD < ie)
                __builtin_prefetch(dst + p->idx[i + PREFETCH_AHEAD] * p->dst_dim_stride + ub, 1);
            if (p->split == BY_OWNER && slot_owner(p->idx[i], parts) != part)
                continue;
            copy_slice(p, dst + p->idx[i] * p->dst_dim_stride, src + i * p->src_dim_stride, ub, ue);
        }
    }
    if (p->stream) /* the pool's hand-over then publishes the streamed lines too */
        vki_stream_fence();
}

/* Whether a value of idx (all in range) comes twice; seen: a zeroed bitmap of the slots. */
static bool has_repeats(const int64_t *idx, int64_t n, uint8_t *seen)
{
    for (int64_t i = 0; i < n; i++) {
        uint8_t *byte = &seen[idx[i] >> 3], bit = (uint8_t)(1u << (idx[i] & 7));
        if (*byte & bit)
            return true;
        *byte |= bit;
    }
    return false;
}

/* The index as contiguous int64: the tensor's own memory when it already is, else a copy. */
static const int64_t *read_index(const vki_view *index, int64_t **owned)
{
    const char *p = storage_ptr(index);
    const int64_t n = index->shape[0], stride = index->strides[0];
    *owned = NULL;
    if (index->elem_size == 8 && (stride == 1 || n <= 1))
        return (const int64_t *)(const void *)p;
    int64_t *v = vki_malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (int64_t i = 0; i < n; i++) {
        if (index->elem_size == 8) {
            memcpy(&v[i], p + i * stride * 8, 8);
        } else {
            int32_t x;
            memcpy(&x, p + i * stride * 4, 4);
            v[i] = x;
        }
    }
    *owned = v;
    return v;
}

static vki_status cpu_index_copy(void *impl, const vki_copy_op *op, vki_bad_index *bad)
{
    cpu_ctx *c = impl;
    const vki_view *dst = &op->dst, *src = &op->src;
    const int d = op->dim;
    const int64_t n = op->index.shape[0], dim_size = dst->shape[d], es = dst->elem_size;
    int64_t *owned_idx = NULL;
    const int64_t *idx = NULL;

    if (op->check_index) {
        idx = read_index(&op->index, &owned_idx);
        if (!idx)
            return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "index_copy_: out of host memory");
        for (int64_t i = 0; i < n; i++)
            if (idx[i] < 0 || idx[i] >= dim_size) {
                *bad = (vki_bad_index){.call = 0, .position = i, .value = idx[i]};
                free(owned_idx);
                return VKI_ERROR_INDEX;
            }
    }
    if (op->base.storage)
        cpu_copy(c, dst, &op->base);
    if (!op->check_index)
        return VKI_OK;

    const vki_view *views[2] = {dst, src};
    scatter_plan p = {.dst = storage_ptr(dst), .src = storage_ptr(src), .elem_size = es,
                      .outer = vki_loop_of_views(2, views, 0, d), .n = n, .dim_size = dim_size,
                      .idx = idx, .dst_dim_stride = dst->strides[d] * es,
                      .src_dim_stride = src->strides[d] * es,
                      .inner = vki_loop_of_views(2, views, d + 1, dst->ndim)};
    p.outer_count = vki_numel(p.outer.ndim, p.outer.shape);
    p.inner_units = p.inner.ndim <= 1 ? vki_numel(p.inner.ndim, p.inner.shape)
                                      : vki_loop_rows(&p.inner);

    const int64_t slice_bytes = vki_numel(p.inner.ndim, p.inner.shape) * es;
    const int parts = parts_for(c, p.outer_count * n * slice_bytes);
    p.contiguous = p.inner.ndim == 1 && p.inner.strides[0][0] == es && p.inner.strides[1][0] == es;
    p.stream = p.contiguous && slice_bytes >= STREAM_MIN_SLICE &&
               p.outer_count * n * slice_bytes >= STREAM_MIN_BYTES;
    p.prefetch = !p.stream && slice_bytes >= PREFETCH_MIN_SLICE && n > PREFETCH_AHEAD;
    uint32_t *idx32 = NULL;
    if (p.inner.ndim == 0 && dim_size <= UINT32_MAX && n > 1) {
        /* element scatters: a 32-bit copy of the index halves its cache footprint */
        idx32 = vki_malloc((size_t)n * sizeof *idx32);
        if (idx32)
            for (int64_t i = 0; i < n; i++)
                idx32[i] = (uint32_t)idx[i];
        p.idx32 = idx32;
    }
    if (parts == 1 || p.outer_count >= 4 * (int64_t)parts)
        p.split = BY_OUTER;
    else if (p.inner.ndim > 0 && p.inner_units >= parts && p.outer_count * n < 4 * (int64_t)parts)
        p.split = BY_CHUNK;
    else
        p.split = BY_OWNER;
    vki_status st = VKI_OK;
    /* A bitmap of slots pays when it is small next to the index. Without repeated values any
     * split is race-free, and ranges of positions are the fastest; with them, owners use it
     * as the written-slot bitmap (one outer slice only: it is per slice). Without it the
     * owners' forward walk is still right, only slower. */
    uint8_t *written = NULL;
    const size_t bitmap_bytes = (size_t)(dim_size / 16 + 1) * 2;
    if (p.split == BY_OWNER && dim_size / 8 <= 64 * n + 4096) {
        written = vki_calloc(bitmap_bytes, 1);
        if (written && !has_repeats(idx, n, written)) {
            p.split = BY_INDEX;
        } else if (written && p.outer_count == 1) {
            memset(written, 0, bitmap_bytes);
            p.written = written;
        }
    }
    if (st == VKI_OK)
        vki_pool_run(c->pool, scatter_part, &p, parts);
    free(written);
    free(idx32);
    free(owned_idx);
    return st;
}

/* ---- the benchmark's copy bound (src/introspect.h) ---- */

typedef struct bound_job {
    char *dst;
    const char *src;
    int64_t bytes;
    int method;
} bound_job;

static void bound_part(void *arg, int part, int parts)
{
    const bound_job *j = arg;
    int64_t b, e; /* whole 64-byte lines per part */
    split(j->bytes / 64, part, parts, &b, &e);
    b *= 64;
    e = part + 1 == parts ? j->bytes : e * 64;
    if (j->method == 0) {
        memcpy(j->dst + b, j->src + b, (size_t)(e - b));
    } else {
        vki_copy_stream(j->dst + b, j->src + b, (size_t)(e - b));
        vki_stream_fence();
    }
}

static vki_status cpu_bound_copy(void *impl, const vki_view *dst, const vki_view *src, int method)
{
    cpu_ctx *c = impl;
    bound_job j = {.dst = storage_ptr(dst), .src = storage_ptr(src),
                   .bytes = vki_numel(dst->ndim, dst->shape) * dst->elem_size, .method = method};
    vki_pool_run(c->pool, bound_part, &j, parts_for(c, j.bytes));
    return VKI_OK;
}

/* ---- storage and context ---- */

/* Storages from this size on are asked for in huge pages (where the system gives them on
 * request: Linux's transparent huge pages in "madvise" mode): rows scattered at random into a
 * large tensor otherwise miss the TLB at nearly every row. Measured on the development machine,
 * 2 threads writing random 1 KiB rows into 1 GiB with non-temporal stores: 19-31 GB/s with 4 KiB
 * pages, 42-47 GB/s with 2 MiB pages. At most 1/8 of such a storage is rounding. */
#define HUGE_PAGE_BYTES (2u << 20)
#define HUGE_MIN_BYTES (16u << 20)

static vki_status cpu_storage_create(void *impl, uint64_t bytes, void **out)
{
    (void)impl;
    /* 64-byte aligned so whole cache lines and vector moves line up with element 0; large
     * storages on huge-page boundaries. */
    const uint64_t align = bytes >= HUGE_MIN_BYTES ? HUGE_PAGE_BYTES : 64;
    uint64_t rounded = (bytes + align - 1) & ~(align - 1);
    if (rounded < bytes || rounded > SIZE_MAX)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY,
                        "%llu bytes cannot be allocated on this host",
                        (unsigned long long)bytes);
    void *p = vki_fault_alloc() ? NULL : aligned_alloc((size_t)align, rounded ? (size_t)rounded : 64);
    if (!p)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY,
                        "out of host memory allocating %llu bytes",
                        (unsigned long long)bytes);
#ifdef MADV_HUGEPAGE
    if (align == HUGE_PAGE_BYTES)
        (void)madvise(p, (size_t)rounded, MADV_HUGEPAGE); /* a hint: refused, nothing changes */
#endif
    *out = p;
    return VKI_OK;
}

static void cpu_storage_destroy(void *impl, void *storage)
{
    (void)impl;
    free(storage);
}

/* The application's memory is the storage itself: nothing to make, nothing to give back. */
static vki_status cpu_wrap_host(void *impl, void *data, uint64_t bytes, void **out)
{
    (void)impl;
    (void)bytes;
    *out = data;
    return VKI_OK;
}

static void cpu_unwrap_host(void *impl, void *storage)
{
    (void)impl;
    (void)storage;
}

static void cpu_context_destroy(void *impl)
{
    cpu_ctx *c = impl;
    vki_pool_destroy(c->pool);
    free(c);
}

static const vki_backend_ops cpu_ops = {
    .name = "cpu",
    .context_destroy = cpu_context_destroy,
    .storage_create = cpu_storage_create,
    .storage_destroy = cpu_storage_destroy,
    .wrap_host = cpu_wrap_host,
    .unwrap_host = cpu_unwrap_host,
    .upload = cpu_upload,
    .download = cpu_download,
    .copy = cpu_copy,
    .index_copy = cpu_index_copy,
    .bound_names = {"memcpy", "non-temporal stores"},
    .bound_copy = cpu_bound_copy,
};

vki_status vki_cpu_backend_create(int threads, const vki_backend_ops **ops, void **impl)
{
    cpu_ctx *c = vki_calloc(1, sizeof *c);
    if (c)
        c->pool = vki_pool_create(threads);
    if (!c || !c->pool) {
        free(c);
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");
    }
    *ops = &cpu_ops;
    *impl = c;
    return VKI_OK;
}
