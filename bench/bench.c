/*
 * vkindex-bench: the seven workloads (rows_f32 ... dups_f32, see README) on the chosen backend (or each in turn).
 * For each workload: a check of the result against the tests' naive reference (the harness
 * library of tests/harness/, whose generator also makes the inputs), warm-up, then repetitions
 * timed by wall clock and, on Vulkan, GPU timestamps; median and spread; GB/s counting
 * 2 x source bytes + index bytes; the commands one call records (submissions, dispatches,
 * barriers, fills, buffer copies); and the ratio to the copy bound: the fastest plain copy of
 * the same bytes measured in the same run on the same device, with nothing of vkindex's
 * kernels in it (vki_internal_bound_copy: on Vulkan the faster of a trivial 16-byte-word copy
 * shader and vkCmdCopyBuffer, on the CPU the faster of memcpy and a non-temporal-store copy,
 * on the library's threads). Then, for kvcache_decode_f16, 1000 decode calls as inference
 * engines make them (K or V of one layer each, the layers in turn): separately, in one batch,
 * and, on Vulkan, recorded into one command buffer of an application's device (the
 * interop API on a device made by examples/vkapp.c).
 *
 *   vkindex-bench [--backend auto|cpu|vulkan|all] [--device NAME] [--reps N] [--warmup N]
 *                 [--quick] [--json FILE] [--batch-calls N] [WORKLOAD ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vkindex.h"
#include "introspect.h"
#ifdef VKI_BENCH_RECORDED
#include <volk.h>  /* Vulkan through the static library's volk (see bench/meson.build) */
#include "vkapp.h" /* examples/: an application's Vulkan device, for recorded calls */
#endif
#include "reference.h" /* tests/harness/: the tests' naive reference and generator */
#include "rng.h"

typedef enum index_kind { UNIQUE, RANGE, ONE, REPEATS } index_kind;

typedef struct workload {
    const char *name;
    vki_dtype dtype;
    int ndim;
    int64_t shape[4], quick_shape[4];
    int dim;
    index_kind kind;
    int64_t n, quick_n, first; /* first: RANGE start / ONE position */
} workload;

static const workload workloads[] = {
    {"rows_f32", VKI_FLOAT32, 2, {1048576, 256}, {65536, 256}, 0, UNIQUE, 262144, 16384, 0},
    {"kvcache_prefill_f16", VKI_FLOAT16, 4, {8, 32, 4096, 128}, {1, 8, 4096, 128}, 2, RANGE,
     1024, 1024, 1024},
    {"kvcache_decode_f16", VKI_FLOAT16, 4, {8, 32, 4096, 128}, {1, 8, 4096, 128}, 2, ONE, 1, 1,
     2047},
    {"cols_f32", VKI_FLOAT32, 2, {4096, 8192}, {256, 8192}, 1, UNIQUE, 4096, 4096, 0},
    {"cols_u8", VKI_UINT8, 2, {4096, 8192}, {256, 8192}, 1, UNIQUE, 4096, 4096, 0},
    {"small_f32", VKI_FLOAT32, 2, {1024, 64}, {1024, 64}, 0, UNIQUE, 16, 16, 0},
    {"dups_f32", VKI_FLOAT32, 2, {65536, 256}, {4096, 256}, 0, REPEATS, 262144, 16384, 0},
};
#define WORKLOAD_COUNT (int)(sizeof workloads / sizeof workloads[0])

typedef struct options {
    const char *backend, *device, *json;
    int reps, warmup, quick, batch_calls;
    int selected[WORKLOAD_COUNT];
} options;

typedef struct stats {
    double median, min, max;
} stats;

/* Commands recorded per call (vki_internal_counts, averaged over the calls timed). */
typedef struct per_call {
    double submissions, dispatches, barriers, fills, copies;
} per_call;

typedef struct result {
    const char *backend;
    char device[256];
    const char *workload;
    double bytes;
    stats wall_ms, kernel_ms;
    double gbps, copy_gbps, ratio;
    double bound_gbps[2];   /* each method of the copy bound, by name */
    const char *bound_names[2];
    const char *bound_method; /* the faster one, which gives copy_gbps */
    per_call counts;
    int checked;
    char cannot_run[512]; /* why the workload could not run on this device, or "" */
} result;

static result results[64];
static int result_count;

/* 1000 decode calls, one way: per call, wall time, GPU time (-1: none) and commands. */
typedef struct decode_way {
    const char *name;
    int ran;
    double wall_us, gpu_us;
    per_call counts;
} decode_way;
enum { SEPARATE, BATCHED, RECORDED, DECODE_WAYS };
static struct {
    const char *backend;
    char device[256];
    int calls, layers;
    decode_way way[DECODE_WAYS];
} decode[2];
static int decode_count;

#define TRY(call)                                                                              \
    do {                                                                                       \
        vki_status st_ = (call);                                                               \
        if (st_ != VKI_OK) {                                                                   \
            fprintf(stderr, "vkindex-bench: %s: %s: %s\n", #call, vki_status_string(st_),      \
                    vki_last_error());                                                         \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static stats summarise(double *v, int n)
{
    stats s = {-1, -1, -1};
    if (n <= 0 || v[0] < 0)
        return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

/* The tests' generator (tests/harness/rng.h), seeded as always: the same inputs every run. */
static test_rng bench_rng = {0x2545F4914F6CDD1Dull};

static int64_t numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= shape[k];
    return n;
}

static void make_index(const workload *w, int64_t dim_size, int64_t n, int64_t *idx)
{
    switch (w->kind) {
    case UNIQUE: { /* a random n-subset in random order */
        int64_t *perm = malloc((size_t)dim_size * sizeof *perm);
        for (int64_t i = 0; i < dim_size; i++)
            perm[i] = i;
        for (int64_t i = 0; i < n; i++) {
            int64_t j = i + rng_below(&bench_rng, dim_size - i), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
            idx[i] = perm[i];
        }
        free(perm);
        break;
    }
    case RANGE:
        for (int64_t i = 0; i < n; i++)
            idx[i] = w->first + i;
        break;
    case ONE:
        idx[0] = w->first;
        break;
    case REPEATS:
        for (int64_t i = 0; i < n; i++)
            idx[i] = rng_below(&bench_rng, dim_size);
        break;
    }
}

/* ---- the copy bound ---- */

/* The copy bound of `moved` bytes (read + write): the faster of the backend's two plain copies
 * (vki_internal_bound_copy) of half of them, each the median of the repetitions, in GB/s. */
static void copy_bound(vki_context *ctx, double moved, const options *o, result *res)
{
    int64_t n = ((int64_t)(moved / 2) + 63) / 64 * 64;
    vki_tensor *a, *b;
    TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &a));
    TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &b));
    unsigned char *host = malloc((size_t)n);
    rng_fill(&bench_rng, host, (size_t)n);
    TRY(vki_tensor_upload(a, host, (size_t)n)); /* both written once: no page faults timed */
    TRY(vki_tensor_upload(b, host, (size_t)n));
    free(host);
    double *t = malloc(sizeof(double) * (size_t)o->reps);
    res->copy_gbps = 0;
    res->bound_method = "-";
    for (int m = 0; vki_internal_bound_name(ctx, m); m++) {
        for (int r = 0; r < o->warmup + o->reps; r++) {
            double t0 = now_ms();
            TRY(vki_internal_bound_copy(b, a, m));
            double wall = now_ms() - t0, k = vki_internal_last_kernel_ns(ctx);
            if (r >= o->warmup)
                t[r - o->warmup] = k >= 0 ? k / 1e6 : wall;
        }
        stats s = summarise(t, o->reps);
        res->bound_gbps[m] = s.median > 0 ? 2.0 * (double)n / (s.median * 1e6) : 0;
        res->bound_names[m] = vki_internal_bound_name(ctx, m);
        if (res->bound_gbps[m] > res->copy_gbps) {
            res->copy_gbps = res->bound_gbps[m];
            res->bound_method = vki_internal_bound_name(ctx, m);
        }
    }
    vki_tensor_destroy(a);
    vki_tensor_destroy(b);
    free(t);
}

static per_call counts_since(const vki_context *ctx, const vki_internal_counts *before, int calls)
{
    vki_internal_counts now;
    vki_internal_counts_get(ctx, &now);
    return (per_call){(double)(now.submissions - before->submissions) / calls,
                      (double)(now.dispatches - before->dispatches) / calls,
                      (double)(now.barriers - before->barriers) / calls,
                      (double)(now.fills - before->fills) / calls,
                      (double)(now.copies - before->copies) / calls};
}

/* GPUs lower their clocks when idle, and preparing a workload leaves them idle: keep the
 * device busy with copies for a while right before timing. */
static void warm_up_device(vki_context *ctx, const options *o)
{
    if (vki_context_backend(ctx) != VKI_BACKEND_VULKAN)
        return;
    int64_t n = o->quick ? (4 << 20) : (64 << 20);
    vki_tensor *a, *b;
    TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &a));
    TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &b));
    /* From idle a GPU takes longer than 300 ms to reach full clocks (seen on an H200: the
     * first workload ran at half speed), so the first warm-up lasts longer. */
    static int warmed;
    double until = now_ms() + (o->quick ? 20 : warmed++ ? 300 : 2000);
    while (now_ms() < until)
        TRY(vki_internal_bound_copy(b, a, 0));
    vki_tensor_destroy(a);
    vki_tensor_destroy(b);
}

/* ---- one workload ---- */

/* One workload on one context: its sizes, its host inputs and its tensors. */
typedef struct run {
    vki_context *ctx;
    const char *backend;
    const workload *w;
    const options *o;
    int position, total;
    const int64_t *shape;
    int64_t src_shape[4], n;
    size_t es, self_bytes, src_bytes;
    double moved;
    unsigned char *self_host, *src_host;
    int64_t *idx;
    vki_tensor *self, *src, *index;
} run;

/* Sizes and random inputs on the host (self_host, src_host, idx). */
static void plan_run(run *r)
{
    const workload *w = r->w;
    r->shape = r->o->quick ? w->quick_shape : w->shape;
    r->n = r->o->quick ? w->quick_n : w->n;
    r->es = vki_dtype_size(w->dtype);
    memcpy(r->src_shape, r->shape, sizeof r->src_shape);
    r->src_shape[w->dim] = r->n;
    r->self_bytes = (size_t)numel(w->ndim, r->shape) * r->es;
    r->src_bytes = (size_t)numel(w->ndim, r->src_shape) * r->es;
    r->moved = 2.0 * (double)r->src_bytes + (double)r->n * 8;
    fprintf(stderr, "[%d/%d] %s on %s (%s): preparing %.1f MB...\n", r->position, r->total,
            w->name, r->backend, vki_context_device_name(r->ctx),
            (double)(r->self_bytes + r->src_bytes) / 1e6);
    r->self_host = malloc(r->self_bytes);
    r->src_host = malloc(r->src_bytes);
    r->idx = malloc((size_t)r->n * sizeof *r->idx);
    rng_fill(&bench_rng, r->self_host, r->self_bytes);
    rng_fill(&bench_rng, r->src_host, r->src_bytes);
    make_index(w, r->shape[w->dim], r->n, r->idx);
}

static result *new_result(const run *r)
{
    result *res = &results[result_count++];
    *res = (result){.backend = r->backend, .workload = r->w->name, .bytes = r->moved};
    snprintf(res->device, sizeof res->device, "%s", vki_context_device_name(r->ctx));
    return res;
}

/* A workload that does not fit a device (its memory, its limits) is reported and skipped
 * (returns 0); any other failure ends the benchmark. */
static int fits(const run *r, vki_status st)
{
    if (st != VKI_ERROR_OUT_OF_DEVICE_MEMORY && st != VKI_ERROR_OUT_OF_HOST_MEMORY &&
        st != VKI_ERROR_UNSUPPORTED) {
        TRY(st);
        return 1;
    }
    result *res = new_result(r);
    snprintf(res->cannot_run, sizeof res->cannot_run, "%s: %s", vki_status_string(st),
             vki_last_error());
    for (char *q = res->cannot_run; *q; q++) /* JSON-safe */
        if (*q == '"' || *q == '\\')
            *q = '\'';
    fprintf(stderr, "[%d/%d] %s cannot run on %s: %s\n", r->position, r->total, r->w->name,
            vki_context_device_name(r->ctx), res->cannot_run);
    return 0;
}

/* The device's tensors, filled from the host inputs; 0 when the workload does not fit. */
static int upload_inputs(run *r)
{
    const workload *w = r->w;
    return fits(r, vki_tensor_create(r->ctx, w->dtype, w->ndim, r->shape, &r->self)) &&
           fits(r, vki_tensor_create(r->ctx, w->dtype, w->ndim, r->src_shape, &r->src)) &&
           fits(r, vki_tensor_create(r->ctx, VKI_INT64, 1, &r->n, &r->index)) &&
           fits(r, vki_tensor_upload(r->self, r->self_host, r->self_bytes)) &&
           fits(r, vki_tensor_upload(r->src, r->src_host, r->src_bytes)) &&
           fits(r, vki_tensor_upload(r->index, r->idx, (size_t)r->n * 8));
}

/* A reference view over the whole host copy of a contiguous tensor. */
static ref_view whole_storage(void *storage, int ndim, const int64_t *shape)
{
    ref_view v = {.storage = storage, .ndim = ndim};
    int64_t stride = 1;
    for (int k = ndim - 1; k >= 0; k--) {
        v.shape[k] = shape[k];
        v.strides[k] = stride;
        stride *= shape[k];
    }
    return v;
}

/* One call, checked against the tests' naive reference (tests/harness/reference.c) before
 * timing; 0 when the workload does not fit. self_host becomes the expected result. */
static int check_result(run *r)
{
    if (!fits(r, vki_index_copy_(r->self, r->w->dim, r->index, r->src)))
        return 0;
    unsigned char *got = malloc(r->self_bytes);
    TRY(vki_tensor_download(r->self, got, r->self_bytes));
    ref_view want = whole_storage(r->self_host, r->w->ndim, r->shape);
    ref_view src = whole_storage(r->src_host, r->w->ndim, r->src_shape);
    ref_view index = whole_storage(r->idx, 1, &r->n);
    ref_index_copy(&want, &want, r->w->dim, &index, 8, &src, (int64_t)r->es);
    if (memcmp(got, r->self_host, r->self_bytes) != 0) {
        fprintf(stderr, "vkindex-bench: %s on %s gives a wrong result\n", r->w->name, r->backend);
        exit(1);
    }
    free(got);
    return 1;
}

/* Warm-up, then the timed repetitions and the copy bound of the same bytes. */
static void time_calls(const run *r)
{
    const options *o = r->o;
    double *wall = malloc(sizeof(double) * (size_t)o->reps);
    double *kern = malloc(sizeof(double) * (size_t)o->reps);
    warm_up_device(r->ctx, o);
    vki_internal_counts before;
    for (int i = 0; i < o->warmup + o->reps; i++) {
        if (i == o->warmup)
            vki_internal_counts_get(r->ctx, &before);
        double t0 = now_ms();
        TRY(vki_index_copy_(r->self, r->w->dim, r->index, r->src));
        double t = now_ms() - t0, k = vki_internal_last_kernel_ns(r->ctx);
        if (i >= o->warmup) {
            wall[i - o->warmup] = t;
            kern[i - o->warmup] = k >= 0 ? k / 1e6 : -1;
        }
    }
    result *res = new_result(r);
    res->checked = 1;
    res->counts = counts_since(r->ctx, &before, o->reps);
    res->wall_ms = summarise(wall, o->reps);
    res->kernel_ms = summarise(kern, o->reps);
    free(wall);
    free(kern);
    double t = res->kernel_ms.median > 0 ? res->kernel_ms.median : res->wall_ms.median;
    res->gbps = r->moved / (t * 1e6);
    warm_up_device(r->ctx, o);
    copy_bound(r->ctx, r->moved, o, res);
    res->ratio = res->copy_gbps > 0 ? res->gbps / res->copy_gbps : 0;
    fprintf(stderr, "[%d/%d] %s on %s: check ok, %.3f ms, %.1f GB/s, %.0f%% of the copy bound "
            "(%.1f GB/s, %s)\n", r->position, r->total, r->w->name, r->backend, t, res->gbps,
            100 * res->ratio, res->copy_gbps, res->bound_method);
}

/* ---- 1000 decode calls ---- */

/* Layer l of a [layers, ...] tensor: the view [shape[1], shape[2], shape[3]] at layer l. */
static vki_tensor *layer_of(vki_tensor *t, const int64_t *shape, int64_t l)
{
    vki_tensor *v;
    TRY(vki_tensor_view(t, 3, shape + 1, NULL, l * shape[1] * shape[2] * shape[3], &v));
    return v;
}

/* The layer views of a decode run's destination and source. */
typedef struct decode_views {
    int layers;
    vki_tensor *self[64], *src[64];
} decode_views;

static void views_make(decode_views *v, vki_tensor *self, const int64_t *shape, vki_tensor *src,
                       const int64_t *src_shape)
{
    v->layers = shape[0] < 64 ? (int)shape[0] : 64;
    for (int l = 0; l < v->layers; l++) {
        v->self[l] = layer_of(self, shape, l);
        v->src[l] = layer_of(src, src_shape, l);
    }
}

static void views_destroy(decode_views *v)
{
    for (int l = 0; l < v->layers; l++) {
        vki_tensor_destroy(v->self[l]);
        vki_tensor_destroy(v->src[l]);
    }
}

#ifdef VKI_BENCH_RECORDED
#define CHECK_VK(call)                                                                         \
    do {                                                                                       \
        VkResult r_ = (call);                                                                  \
        if (r_ != VK_SUCCESS) {                                                                \
            fprintf(stderr, "vkindex-bench: %s failed: %d\n", #call, (int)r_);                 \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* The calls recorded into one command buffer of an application's device (the same physical
 * device, through the interop API), submitted three times; the last is reported. */
static void time_recorded(const run *r, decode_way *way)
{
    char *saved = getenv("VKI_DEVICE") ? strdup(getenv("VKI_DEVICE")) : NULL;
    setenv("VKI_DEVICE", vki_context_device_name(r->ctx), 1); /* vkapp picks it by name */
    vkapp app;
    VkResult made = vkapp_create(&app, true);
    if (saved)
        setenv("VKI_DEVICE", saved, 1);
    else
        unsetenv("VKI_DEVICE");
    free(saved);
    if (made != VK_SUCCESS) {
        fprintf(stderr, "vkindex-bench: no application device for recorded calls: skipped\n");
        vkapp_destroy(&app); /* what was made of it */
        return;
    }
    vki_vulkan_device dev = vkapp_device(&app);
    vki_context *ctx;
    TRY(vki_context_create_vulkan(&dev, NULL, &ctx));
    vki_tensor *self, *src, *index;
    const workload *w = r->w;
    TRY(vki_tensor_create(ctx, w->dtype, w->ndim, r->shape, &self));
    TRY(vki_tensor_create(ctx, w->dtype, w->ndim, r->src_shape, &src));
    TRY(vki_tensor_create(ctx, VKI_INT64, 1, &r->n, &index));
    TRY(vki_tensor_upload(self, r->self_host, r->self_bytes));
    TRY(vki_tensor_upload(src, r->src_host, r->src_bytes));
    TRY(vki_tensor_upload(index, r->idx, (size_t)r->n * 8));
    decode_views v;
    views_make(&v, self, r->shape, src, r->src_shape);
    VkQueryPool queries = VK_NULL_HANDLE;
    VkQueryPoolCreateInfo qp = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 2};
    if (app.timestamps)
        CHECK_VK(vkCreateQueryPool(app.device, &qp, NULL, &queries));
    CHECK_VK(vkapp_begin(&app));
    /* The application's barrier before vkindex's calls: each submission rewrites what the
     * one before wrote. */
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkapp_barrier(&app, stages, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, stages,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    if (queries) {
        vkCmdResetQueryPool(app.cmd, queries, 0, 2);
        vkCmdWriteTimestamp(app.cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries, 0);
    }
    const int calls = r->o->batch_calls;
    for (int c = 0; c < calls; c++)
        TRY(vki_cmd_index_copy_(app.cmd, v.self[c % v.layers], 1, index, v.src[c % v.layers]));
    if (queries)
        vkCmdWriteTimestamp(app.cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries, 1);
    CHECK_VK(vkEndCommandBuffer(app.cmd));
    vki_cmd_stats cs;
    TRY(vki_cmd_stats_get(ctx, app.cmd, &cs));
    for (int rep = 0; rep < 3; rep++) {
        const double t0 = now_ms();
        CHECK_VK(vkapp_submit_wait(&app));
        way->wall_us = (now_ms() - t0) * 1e3 / calls;
        way->gpu_us = -1;
        if (queries) {
            uint64_t t[2];
            CHECK_VK(vkGetQueryPoolResults(app.device, queries, 0, 2, sizeof t, t, sizeof t[0],
                                           VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
            way->gpu_us = (double)(t[1] - t[0]) * app.props.limits.timestampPeriod / 1e3 / calls;
        }
    }
    TRY(vki_cmd_check(ctx, app.cmd));
    way->ran = 1;
    way->counts = (per_call){0, (double)cs.dispatches / calls, (double)cs.barriers / calls,
                             (double)cs.fills / calls, 0};
    vki_cmd_release(ctx, app.cmd);
    if (queries)
        vkDestroyQueryPool(app.device, queries, NULL);
    views_destroy(&v);
    vki_tensor_destroy(self);
    vki_tensor_destroy(src);
    vki_tensor_destroy(index);
    vki_context_destroy(ctx);
    vkapp_destroy(&app);
}
#endif

/* Decode steps as an inference engine makes them: one call per layer (the views of dim 0 of
 * the workload's cache), the layers in turn: separately, in one batch, and recorded. */
static void time_decode_calls(const run *r)
{
    const int calls = r->o->batch_calls;
    if (decode_count == 2)
        return;
    decode_views v;
    views_make(&v, r->self, r->shape, r->src, r->src_shape);
    decode[decode_count].backend = r->backend;
    snprintf(decode[decode_count].device, sizeof decode[decode_count].device, "%s",
             vki_context_device_name(r->ctx));
    decode[decode_count].calls = calls;
    decode[decode_count].layers = v.layers;
    decode_way *way = decode[decode_count++].way;
    way[SEPARATE].name = "separate";
    way[BATCHED].name = "batched";
    way[RECORDED].name = "recorded";
    warm_up_device(r->ctx, r->o);
    TRY(vki_index_copy_(v.self[0], 1, r->index, v.src[0]));
    vki_internal_counts before;
    vki_internal_counts_get(r->ctx, &before);
    double t0 = now_ms(), gpu = 0;
    for (int c = 0; c < calls; c++) {
        TRY(vki_index_copy_(v.self[c % v.layers], 1, r->index, v.src[c % v.layers]));
        double k = vki_internal_last_kernel_ns(r->ctx);
        gpu = gpu < 0 || k < 0 ? -1 : gpu + k;
    }
    way[SEPARATE] = (decode_way){"separate", 1, (now_ms() - t0) * 1e3 / calls,
                                 gpu < 0 ? -1 : gpu / 1e3 / calls,
                                 counts_since(r->ctx, &before, calls)};
    TRY(vki_batch_begin(r->ctx));
    TRY(vki_batch_end(r->ctx));
    vki_internal_counts_get(r->ctx, &before);
    t0 = now_ms();
    TRY(vki_batch_begin(r->ctx));
    for (int c = 0; c < calls; c++)
        TRY(vki_index_copy_(v.self[c % v.layers], 1, r->index, v.src[c % v.layers]));
    TRY(vki_batch_end(r->ctx));
    double wall = (now_ms() - t0) * 1e3 / calls, k = vki_internal_last_kernel_ns(r->ctx);
    way[BATCHED] = (decode_way){"batched", 1, wall, k >= 0 ? k / 1e3 / calls : -1,
                                counts_since(r->ctx, &before, calls)};
    views_destroy(&v);
#ifdef VKI_BENCH_RECORDED
    if (vki_context_backend(r->ctx) == VKI_BACKEND_VULKAN)
        time_recorded(r, &way[RECORDED]);
#endif
}

static void run_workload(vki_context *ctx, const char *backend, const workload *w,
                         const options *o, int position, int total)
{
    run r = {.ctx = ctx, .backend = backend, .w = w, .o = o, .position = position,
             .total = total};
    plan_run(&r);
    if (upload_inputs(&r) && check_result(&r)) {
        time_calls(&r);
        if (w->kind == ONE && o->batch_calls > 0)
            time_decode_calls(&r);
    }
    vki_tensor_destroy(r.self);
    vki_tensor_destroy(r.src);
    vki_tensor_destroy(r.index);
    free(r.self_host);
    free(r.src_host);
    free(r.idx);
}

static void print_table(void)
{
    printf("\n%-8s %-20s %9s %26s %10s %9s %9s %7s %-20s %s\n", "backend", "workload", "MB moved",
           "wall ms median [min, max]", "kernel ms", "GB/s", "bound GB/s", "% bound",
           "bound: fastest of", "per call: subm/disp/barr/fill/copy");
    for (int i = 0; i < result_count; i++) {
        const result *r = &results[i];
        if (r->cannot_run[0]) {
            printf("%-8s %-20s %9.1f cannot run on %s: %s\n", r->backend, r->workload,
                   r->bytes / 1e6, r->device, r->cannot_run);
            continue;
        }
        char kernel[32] = "-";
        if (r->kernel_ms.median >= 0)
            snprintf(kernel, sizeof kernel, "%.4f", r->kernel_ms.median);
        printf("%-8s %-20s %9.1f %10.4f [%6.4g, %6.4g] %10s %9.1f %9.1f %6.0f%% %-20s "
               "%.3g/%.3g/%.3g/%.3g/%.3g\n", r->backend, r->workload, r->bytes / 1e6,
               r->wall_ms.median, r->wall_ms.min, r->wall_ms.max, kernel, r->gbps, r->copy_gbps,
               100 * r->ratio, r->bound_method, r->counts.submissions, r->counts.dispatches,
               r->counts.barriers, r->counts.fills, r->counts.copies);
    }
    for (int d = 0; d < decode_count; d++) {
        printf("\n%s (%s): %d kvcache_decode_f16 calls, one layer each (%d layers in turn)\n",
               decode[d].backend, decode[d].device, decode[d].calls, decode[d].layers);
        for (int k = 0; k < DECODE_WAYS; k++) {
            const decode_way *w = &decode[d].way[k];
            if (!w->ran)
                continue;
            printf("  %-9s %9.2f us wall per call", w->name, w->wall_us);
            if (w->gpu_us >= 0)
                printf(", %8.2f us GPU", w->gpu_us);
            printf("; per call %.3g submissions, %.3g dispatches, %.3g barriers, %.3g fills, "
                   "%.3g copies\n", w->counts.submissions, w->counts.dispatches,
                   w->counts.barriers, w->counts.fills, w->counts.copies);
        }
    }
}

static void json_counts(FILE *f, const per_call *c)
{
    fprintf(f, "{\"submissions\": %.4f, \"dispatches\": %.4f, \"barriers\": %.4f, "
               "\"fills\": %.4f, \"copies\": %.4f}", c->submissions, c->dispatches,
            c->barriers, c->fills, c->copies);
}

static void write_json(const char *path, const options *o)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    char host[256] = "unknown";
    gethostname(host, sizeof host);
    fprintf(f, "{\n  \"host\": \"%s\",\n  \"quick\": %s,\n  \"reps\": %d,\n  \"results\": [\n",
            host, o->quick ? "true" : "false", o->reps);
    for (int i = 0; i < result_count; i++) {
        const result *r = &results[i];
        if (r->cannot_run[0]) { /* fits() took quotes and backslashes out of the message */
            fprintf(f, "    {\"backend\": \"%s\", \"device\": \"%s\", \"workload\": \"%s\", "
                       "\"bytes\": %.0f, \"cannot_run\": \"%s\"}%s\n",
                    r->backend, r->device, r->workload, r->bytes, r->cannot_run,
                    i + 1 < result_count ? "," : "");
            continue;
        }
        fprintf(f,
                "    {\"backend\": \"%s\", \"device\": \"%s\", \"workload\": \"%s\", "
                "\"bytes\": %.0f, \"wall_ms\": {\"median\": %.6f, \"min\": %.6f, \"max\": %.6f}, "
                "\"kernel_ms\": {\"median\": %.6f, \"min\": %.6f, \"max\": %.6f}, "
                "\"gbps\": %.3f, \"copy_gbps\": %.3f, \"copy_bound_by\": \"%s\", "
                "\"copy_bounds\": {\"%s\": %.3f, \"%s\": %.3f}, \"ratio\": %.4f, \"per_call\": ",
                r->backend, r->device, r->workload, r->bytes, r->wall_ms.median, r->wall_ms.min,
                r->wall_ms.max, r->kernel_ms.median, r->kernel_ms.min, r->kernel_ms.max, r->gbps,
                r->copy_gbps, r->bound_method, r->bound_names[0],
                r->bound_gbps[0], r->bound_names[1], r->bound_gbps[1],
                r->ratio);
        json_counts(f, &r->counts);
        fprintf(f, "}%s\n", i + 1 < result_count ? "," : "");
    }
    fprintf(f, "  ],\n  \"decode_calls\": [");
    for (int d = 0; d < decode_count; d++) {
        fprintf(f, "%s\n    {\"backend\": \"%s\", \"device\": \"%s\", \"calls\": %d, "
                   "\"layers\": %d", d ? "," : "", decode[d].backend, decode[d].device,
                decode[d].calls, decode[d].layers);
        for (int k = 0; k < DECODE_WAYS; k++) {
            const decode_way *w = &decode[d].way[k];
            if (!w->ran)
                continue;
            fprintf(f, ", \"%s\": {\"wall_us_per_call\": %.3f, \"gpu_us_per_call\": %.3f, "
                       "\"per_call\": ", w->name, w->wall_us, w->gpu_us);
            json_counts(f, &w->counts);
            fprintf(f, "}");
        }
        fprintf(f, "}");
    }
    fprintf(f, "\n  ]\n}\n");
    fclose(f);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: vkindex-bench [--backend auto|cpu|vulkan|all] [--device NAME] [--reps N]\n"
            "                     [--warmup N] [--quick] [--json FILE] [--batch-calls N]\n"
            "                     [WORKLOAD ...]\nworkloads:");
    for (int i = 0; i < WORKLOAD_COUNT; i++)
        fprintf(stderr, " %s", workloads[i].name);
    fprintf(stderr, "\n");
    exit(2);
}

static options parse_options(int argc, char **argv)
{
    options o = {.backend = "auto", .reps = 15, .warmup = 3, .batch_calls = 1000};
    int any = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--backend") && i + 1 < argc) o.backend = argv[++i];
        else if (!strcmp(a, "--device") && i + 1 < argc) o.device = argv[++i];
        else if (!strcmp(a, "--reps") && i + 1 < argc) o.reps = atoi(argv[++i]);
        else if (!strcmp(a, "--warmup") && i + 1 < argc) o.warmup = atoi(argv[++i]);
        else if (!strcmp(a, "--json") && i + 1 < argc) o.json = argv[++i];
        else if (!strcmp(a, "--batch-calls") && i + 1 < argc) o.batch_calls = atoi(argv[++i]);
        else if (!strcmp(a, "--quick")) o.quick = 1;
        else {
            int found = 0;
            for (int w = 0; w < WORKLOAD_COUNT; w++)
                if (!strcmp(a, workloads[w].name))
                    o.selected[w] = found = any = 1;
            if (!found)
                usage();
        }
    }
    if (o.reps < 1 || o.warmup < 0)
        usage();
    if (o.quick) {
        o.reps = o.reps > 3 ? 3 : o.reps;
        o.warmup = 1;
        o.batch_calls = o.batch_calls > 50 ? 50 : o.batch_calls;
    }
    for (int w = 0; w < WORKLOAD_COUNT; w++)
        if (!any)
            o.selected[w] = 1;
    return o;
}

/* The backends --backend names (for 'all', Vulkan only when a device opens); returns how many. */
static int choose_backends(const options *o, vki_backend backends[2])
{
    int nb = 0;
    if (!strcmp(o->backend, "all")) {
        backends[nb++] = VKI_BACKEND_CPU;
        vki_context *probe;
        vki_context_options po = {.backend = VKI_BACKEND_VULKAN, .device = o->device};
        if (vki_context_create(&po, &probe) == VKI_OK) {
            backends[nb++] = VKI_BACKEND_VULKAN;
            vki_context_destroy(probe);
        } else {
            fprintf(stderr, "vkindex-bench: no Vulkan device: %s\n", vki_last_error());
        }
    } else if (!strcmp(o->backend, "cpu")) {
        backends[nb++] = VKI_BACKEND_CPU;
    } else if (!strcmp(o->backend, "vulkan")) {
        backends[nb++] = VKI_BACKEND_VULKAN;
    } else if (!strcmp(o->backend, "auto")) {
        backends[nb++] = VKI_BACKEND_AUTO;
    } else {
        usage();
    }
    return nb;
}

int main(int argc, char **argv)
{
    options o = parse_options(argc, argv);
    vki_backend backends[2];
    int nb = choose_backends(&o, backends);
    int total = 0, position = 0;
    for (int w = 0; w < WORKLOAD_COUNT; w++)
        total += o.selected[w] * nb;
    for (int b = 0; b < nb; b++) {
        vki_context *ctx;
        vki_context_options co = {.backend = backends[b], .device = o.device};
        TRY(vki_context_create(&co, &ctx));
        const char *name = vki_context_backend(ctx) == VKI_BACKEND_VULKAN ? "vulkan" : "cpu";
        for (int w = 0; w < WORKLOAD_COUNT; w++)
            if (o.selected[w])
                run_workload(ctx, name, &workloads[w], &o, ++position, total);
        vki_context_destroy(ctx);
    }
    print_table();
    if (o.json)
        write_json(o.json, &o);
    return 0;
}
