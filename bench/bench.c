/*
 * vkindex-bench: the seven workloads (rows_f32 ... dups_f32, see README) on the chosen backend (or each in turn).
 * For each workload: a check of the result against the tests' naive reference (the harness
 * library of tests/harness/, whose generator also makes the inputs), warm-up, then repetitions
 * timed by wall clock and, on Vulkan, GPU timestamps; median and spread; GB/s counting
 * 2 x source bytes + index bytes; and the ratio to a streaming copy of the same bytes measured
 * in the same run on the same device with the library's own copy (vki_internal_copy: on the
 * CPU, the CPU backend's copy on its thread pool; on Vulkan, the 16-byte-vector copy kernel).
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

typedef struct result {
    const char *backend;
    char device[256];
    const char *workload;
    double bytes;
    stats wall_ms, kernel_ms;
    double gbps, copy_gbps, ratio;
    int checked;
    char cannot_run[512]; /* why the workload could not run on this device, or "" */
} result;

static result results[64];
static int result_count;
static double batch_separate_us = -1, batch_batched_us = -1, batch_kernel_us = -1;

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

/* GB/s (read + write) of a streaming copy of half of `moved` bytes on this context, with the
 * library's own copy (vki_internal_copy): on the CPU backend its copy on the library's thread
 * pool with the library's policy, on Vulkan the 16-byte-vector copy kernel. */
static double copy_bound(vki_context *ctx, double moved, const options *o)
{
    int64_t n = ((int64_t)(moved / 2) + 15) / 16 * 16;
    vki_tensor *a, *b;
    TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &a));
    TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &b));
    unsigned char *host = malloc((size_t)n);
    rng_fill(&bench_rng, host, (size_t)n);
    TRY(vki_tensor_upload(a, host, (size_t)n)); /* both written once: no page faults timed */
    TRY(vki_tensor_upload(b, host, (size_t)n));
    free(host);
    double *t = malloc(sizeof(double) * (size_t)o->reps);
    for (int r = 0; r < o->warmup + o->reps; r++) {
        double t0 = now_ms();
        TRY(vki_internal_copy(b, a));
        double wall = now_ms() - t0, k = vki_internal_last_kernel_ns(ctx);
        if (r >= o->warmup)
            t[r - o->warmup] = k >= 0 ? k / 1e6 : wall;
    }
    vki_tensor_destroy(a);
    vki_tensor_destroy(b);
    stats s = summarise(t, o->reps);
    free(t);
    return 2.0 * (double)n / (s.median * 1e6);
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
        TRY(vki_internal_copy(b, a));
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
    for (int i = 0; i < o->warmup + o->reps; i++) {
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
    res->wall_ms = summarise(wall, o->reps);
    res->kernel_ms = summarise(kern, o->reps);
    free(wall);
    free(kern);
    double t = res->kernel_ms.median > 0 ? res->kernel_ms.median : res->wall_ms.median;
    res->gbps = r->moved / (t * 1e6);
    warm_up_device(r->ctx, o);
    res->copy_gbps = copy_bound(r->ctx, r->moved, o);
    res->ratio = res->gbps / res->copy_gbps;
    fprintf(stderr, "[%d/%d] %s on %s: check ok, %.3f ms, %.1f GB/s, %.0f%% of the copy bound\n",
            r->position, r->total, r->w->name, r->backend, t, res->gbps, 100 * res->ratio);
}

/* Small calls: many decode steps separately, then in one batch. */
static void time_batch(const run *r)
{
    const int calls = r->o->batch_calls;
    const int dim = r->w->dim;
    warm_up_device(r->ctx, r->o);
    TRY(vki_index_copy_(r->self, dim, r->index, r->src));
    double t0 = now_ms();
    for (int c = 0; c < calls; c++)
        TRY(vki_index_copy_(r->self, dim, r->index, r->src));
    batch_separate_us = (now_ms() - t0) * 1e3 / calls;
    TRY(vki_batch_begin(r->ctx));
    TRY(vki_batch_end(r->ctx));
    t0 = now_ms();
    TRY(vki_batch_begin(r->ctx));
    for (int c = 0; c < calls; c++)
        TRY(vki_index_copy_(r->self, dim, r->index, r->src));
    TRY(vki_batch_end(r->ctx));
    batch_batched_us = (now_ms() - t0) * 1e3 / calls;
    double k = vki_internal_last_kernel_ns(r->ctx);
    batch_kernel_us = k >= 0 ? k / 1e3 / calls : -1;
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
            time_batch(&r);
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
    printf("\n%-8s %-20s %9s %26s %10s %9s %9s %7s\n", "backend", "workload", "MB moved",
           "wall ms median [min, max]", "kernel ms", "GB/s", "copy GB/s", "% copy");
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
        printf("%-8s %-20s %9.1f %10.4f [%6.4g, %6.4g] %10s %9.1f %9.1f %6.0f%%\n", r->backend,
               r->workload, r->bytes / 1e6, r->wall_ms.median, r->wall_ms.min, r->wall_ms.max,
               kernel, r->gbps, r->copy_gbps, 100 * r->ratio);
    }
    if (batch_separate_us >= 0) {
        printf("\nkvcache_decode_f16 small calls: %.2f us per call separately, %.2f us per call "
               "in one batch", batch_separate_us, batch_batched_us);
        if (batch_kernel_us >= 0)
            printf(" (GPU time per call in the batch: %.2f us)", batch_kernel_us);
        printf("\n");
    }
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
                "\"gbps\": %.3f, \"copy_gbps\": %.3f, \"ratio\": %.4f}%s\n",
                r->backend, r->device, r->workload, r->bytes, r->wall_ms.median, r->wall_ms.min,
                r->wall_ms.max, r->kernel_ms.median, r->kernel_ms.min, r->kernel_ms.max, r->gbps,
                r->copy_gbps, r->ratio, i + 1 < result_count ? "," : "");
    }
    fprintf(f, "  ],\n  \"decode_batch\": {\"calls\": %d, \"separate_us_per_call\": %.3f, "
               "\"batched_us_per_call\": %.3f, \"batched_gpu_us_per_call\": %.3f}\n}\n",
            o->batch_calls, batch_separate_us, batch_batched_us, batch_kernel_us);
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
