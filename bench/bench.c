/*
 * vkindex-bench: the seven workloads (rows_f32 ... dups_f32, see README) on the chosen backend (or each in turn).
 * For each workload: a check of the result (against the CPU backend on Vulkan, against a
 * plain host loop on the CPU), warm-up, then repetitions timed by wall clock and, on Vulkan,
 * GPU timestamps; median and spread; GB/s counting 2 x source bytes + index bytes; and the
 * ratio to a streaming copy of the same bytes measured in the same run on the same device
 * (memcpy on as many threads as the CPU backend uses; the 16-byte-vector copy kernel on Vulkan).
 *
 *   vkindex-bench [--backend auto|cpu|vulkan|all] [--device NAME] [--reps N] [--warmup N]
 *                 [--quick] [--json FILE] [--batch-calls N] [WORKLOAD ...]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vkindex.h"
#include "../src/introspect.h"

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

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_random(void *buf, size_t bytes)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < bytes; i += 8) {
        uint64_t v = rng();
        memcpy(p + i, &v, bytes - i < 8 ? bytes - i : 8);
    }
}

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
            int64_t j = i + (int64_t)(rng() % (uint64_t)(dim_size - i)), t = perm[i];
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
            idx[i] = (int64_t)(rng() % (uint64_t)dim_size);
        break;
    }
}

/* The plain host loop for contiguous tensors: outer x index x inner, last occurrence wins. */
static void host_reference(unsigned char *self, const unsigned char *src, const int64_t *idx,
                           int ndim, const int64_t *shape, int dim, int64_t n, size_t es)
{
    int64_t outer = numel(dim, shape), inner = numel(ndim - dim - 1, shape + dim + 1);
    size_t slice = (size_t)inner * es;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < n; i++)
            memcpy(self + ((size_t)o * (size_t)shape[dim] + (size_t)idx[i]) * slice,
                   src + ((size_t)o * (size_t)n + (size_t)i) * slice, slice);
}

/* ---- the copy bound ---- */

typedef struct memcpy_job {
    char *dst;
    const char *src;
    size_t bytes;
} memcpy_job;

static void *memcpy_thread(void *p)
{
    memcpy_job *j = p;
    memcpy(j->dst, j->src, j->bytes);
    return NULL;
}

static int cpu_threads(void)
{
    const char *env = getenv("VKI_THREADS");
    long t = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return t > 0 ? (int)(t > 64 ? 64 : t) : 1;
}

/* memcpy of `bytes` split across the CPU backend's thread count; returns ms. */
static double timed_memcpy(char *dst, const char *src, size_t bytes, int threads)
{
    pthread_t tid[64];
    memcpy_job jobs[64];
    double t0 = now_ms();
    for (int k = 0; k < threads; k++) {
        size_t b = bytes * (size_t)k / (size_t)threads, e = bytes * (size_t)(k + 1) / (size_t)threads;
        jobs[k] = (memcpy_job){dst + b, src + b, e - b};
        if (k)
            pthread_create(&tid[k], NULL, memcpy_thread, &jobs[k]);
    }
    memcpy_thread(&jobs[0]);
    for (int k = 1; k < threads; k++)
        pthread_join(tid[k], NULL);
    return now_ms() - t0;
}

/* GB/s (read + write) of a streaming copy of half of `moved` bytes on this context. */
static double copy_bound(vki_context *ctx, double moved, const options *o)
{
    size_t bytes = ((size_t)(moved / 2) + 15) / 16 * 16;
    double *t = malloc(sizeof(double) * (size_t)o->reps);
    int vulkan = vki_context_backend(ctx) == VKI_BACKEND_VULKAN;
    if (vulkan) {
        int64_t n = (int64_t)bytes;
        vki_tensor *a, *b;
        TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &a));
        TRY(vki_tensor_create(ctx, VKI_UINT8, 1, &n, &b));
        for (int r = 0; r < o->warmup + o->reps; r++) {
            double t0 = now_ms();
            TRY(vki_internal_copy(b, a));
            double wall = now_ms() - t0, k = vki_internal_last_kernel_ns(ctx);
            if (r >= o->warmup)
                t[r - o->warmup] = k >= 0 ? k / 1e6 : wall;
        }
        vki_tensor_destroy(a);
        vki_tensor_destroy(b);
    } else {
        char *a = aligned_alloc(64, bytes), *b = aligned_alloc(64, bytes);
        fill_random(a, bytes);
        memset(b, 1, bytes);
        /* Like the CPU backend, small copies stay on the calling thread. */
        int threads = bytes < (256u << 10) ? 1 : cpu_threads();
        for (int r = 0; r < o->warmup + o->reps; r++) {
            double ms = timed_memcpy(b, a, bytes, threads);
            if (r >= o->warmup)
                t[r - o->warmup] = ms;
        }
        free(a);
        free(b);
    }
    stats s = summarise(t, o->reps);
    free(t);
    return 2.0 * (double)bytes / (s.median * 1e6);
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

/* A workload that does not fit a device (its memory, its limits) is reported and skipped;
 * any other failure ends the benchmark. */
#define PREPARE(call)                                                                          \
    do {                                                                                       \
        vki_status st_ = (call);                                                               \
        if (st_ == VKI_ERROR_OUT_OF_DEVICE_MEMORY || st_ == VKI_ERROR_OUT_OF_HOST_MEMORY ||    \
            st_ == VKI_ERROR_UNSUPPORTED) {                                                    \
            result *res_ = &results[result_count++];                                           \
            *res_ = (result){.backend = backend, .workload = w->name, .bytes = moved};         \
            snprintf(res_->device, sizeof res_->device, "%s", vki_context_device_name(ctx));   \
            snprintf(res_->cannot_run, sizeof res_->cannot_run, "%s: %s",                      \
                     vki_status_string(st_), vki_last_error());                                \
            for (char *q_ = res_->cannot_run; *q_; q_++) /* JSON-safe */                       \
                if (*q_ == '"' || *q_ == '\\')                                                  \
                    *q_ = '\'';                                                                \
            fprintf(stderr, "[%d/%d] %s cannot run on %s: %s\n", position, total, w->name,     \
                    vki_context_device_name(ctx), res_->cannot_run);                           \
            goto cannot_run;                                                                   \
        }                                                                                      \
        TRY(st_);                                                                              \
    } while (0)

static void run_workload(vki_context *ctx, const char *backend, const workload *w,
                         const options *o, int position, int total)
{
    const int64_t *shape = o->quick ? w->quick_shape : w->shape;
    const int64_t n = o->quick ? w->quick_n : w->n;
    const size_t es = vki_dtype_size(w->dtype);
    int64_t src_shape[4];
    memcpy(src_shape, shape, sizeof src_shape);
    src_shape[w->dim] = n;
    const size_t self_bytes = (size_t)numel(w->ndim, shape) * es;
    const size_t src_bytes = (size_t)numel(w->ndim, src_shape) * es;
    const double moved = 2.0 * (double)src_bytes + (double)n * 8;
    fprintf(stderr, "[%d/%d] %s on %s (%s): preparing %.1f MB...\n", position, total, w->name,
            backend, vki_context_device_name(ctx), (double)(self_bytes + src_bytes) / 1e6);

    unsigned char *self_host = malloc(self_bytes), *src_host = malloc(src_bytes);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    fill_random(self_host, self_bytes);
    fill_random(src_host, src_bytes);
    make_index(w, shape[w->dim], n, idx);

    vki_tensor *self = NULL, *src = NULL, *index = NULL;
    double *wall = NULL, *kern = NULL;
    PREPARE(vki_tensor_create(ctx, w->dtype, w->ndim, shape, &self));
    PREPARE(vki_tensor_create(ctx, w->dtype, w->ndim, src_shape, &src));
    PREPARE(vki_tensor_create(ctx, VKI_INT64, 1, &n, &index));
    PREPARE(vki_tensor_upload(self, self_host, self_bytes));
    PREPARE(vki_tensor_upload(src, src_host, src_bytes));
    PREPARE(vki_tensor_upload(index, idx, (size_t)n * 8));

    /* Check the result once before timing. */
    PREPARE(vki_index_copy_(self, w->dim, index, src));
    unsigned char *got = malloc(self_bytes), *want = self_host;
    TRY(vki_tensor_download(self, got, self_bytes));
    if (vki_context_backend(ctx) == VKI_BACKEND_VULKAN) {
        vki_context *cpu;
        vki_context_options co = {.backend = VKI_BACKEND_CPU};
        TRY(vki_context_create(&co, &cpu));
        vki_tensor *cs, *cx, *ci;
        TRY(vki_tensor_create(cpu, w->dtype, w->ndim, shape, &cs));
        TRY(vki_tensor_create(cpu, w->dtype, w->ndim, src_shape, &cx));
        TRY(vki_tensor_create(cpu, VKI_INT64, 1, &n, &ci));
        TRY(vki_tensor_upload(cs, self_host, self_bytes));
        TRY(vki_tensor_upload(cx, src_host, src_bytes));
        TRY(vki_tensor_upload(ci, idx, (size_t)n * 8));
        TRY(vki_index_copy_(cs, w->dim, ci, cx));
        TRY(vki_tensor_download(cs, self_host, self_bytes));
        vki_tensor_destroy(cs);
        vki_tensor_destroy(cx);
        vki_tensor_destroy(ci);
        vki_context_destroy(cpu);
    } else {
        host_reference(self_host, src_host, idx, w->ndim, shape, w->dim, n, es);
    }
    if (memcmp(got, want, self_bytes) != 0) {
        fprintf(stderr, "vkindex-bench: %s on %s gives a wrong result\n", w->name, backend);
        exit(1);
    }
    free(got);

    wall = malloc(sizeof(double) * (size_t)o->reps);
    kern = malloc(sizeof(double) * (size_t)o->reps);
    warm_up_device(ctx, o);
    for (int r = 0; r < o->warmup + o->reps; r++) {
        double t0 = now_ms();
        TRY(vki_index_copy_(self, w->dim, index, src));
        double t = now_ms() - t0, k = vki_internal_last_kernel_ns(ctx);
        if (r >= o->warmup) {
            wall[r - o->warmup] = t;
            kern[r - o->warmup] = k >= 0 ? k / 1e6 : -1;
        }
    }
    result *res = &results[result_count++];
    *res = (result){.backend = backend, .workload = w->name, .bytes = moved, .checked = 1};
    snprintf(res->device, sizeof res->device, "%s", vki_context_device_name(ctx));
    res->wall_ms = summarise(wall, o->reps);
    res->kernel_ms = summarise(kern, o->reps);
    double t = res->kernel_ms.median > 0 ? res->kernel_ms.median : res->wall_ms.median;
    res->gbps = moved / (t * 1e6);
    warm_up_device(ctx, o);
    res->copy_gbps = copy_bound(ctx, moved, o);
    res->ratio = res->gbps / res->copy_gbps;
    fprintf(stderr, "[%d/%d] %s on %s: %.3f ms, %.1f GB/s, %.0f%% of the copy bound\n", position,
            total, w->name, backend, t, res->gbps, 100 * res->ratio);

    /* Small calls: many decode steps separately, then in one batch. */
    if (w->kind == ONE && o->batch_calls > 0) {
        const int calls = o->batch_calls;
        warm_up_device(ctx, o);
        TRY(vki_index_copy_(self, w->dim, index, src));
        double t0 = now_ms();
        for (int c = 0; c < calls; c++)
            TRY(vki_index_copy_(self, w->dim, index, src));
        batch_separate_us = (now_ms() - t0) * 1e3 / calls;
        TRY(vki_batch_begin(ctx));
        TRY(vki_batch_end(ctx));
        t0 = now_ms();
        TRY(vki_batch_begin(ctx));
        for (int c = 0; c < calls; c++)
            TRY(vki_index_copy_(self, w->dim, index, src));
        TRY(vki_batch_end(ctx));
        batch_batched_us = (now_ms() - t0) * 1e3 / calls;
        double k = vki_internal_last_kernel_ns(ctx);
        batch_kernel_us = k >= 0 ? k / 1e3 / calls : -1;
    }
cannot_run:
    free(wall);
    free(kern);
    vki_tensor_destroy(self);
    vki_tensor_destroy(src);
    vki_tensor_destroy(index);
    free(self_host);
    free(src_host);
    free(idx);
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
        if (r->cannot_run[0]) { /* PREPARE took quotes and backslashes out of the message */
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

int main(int argc, char **argv)
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

    vki_backend backends[2];
    int nb = 0;
    if (!strcmp(o.backend, "all")) {
        backends[nb++] = VKI_BACKEND_CPU;
        vki_context *probe;
        vki_context_options po = {.backend = VKI_BACKEND_VULKAN, .device = o.device};
        if (vki_context_create(&po, &probe) == VKI_OK) {
            backends[nb++] = VKI_BACKEND_VULKAN;
            vki_context_destroy(probe);
        } else {
            fprintf(stderr, "vkindex-bench: no Vulkan device: %s\n", vki_last_error());
        }
    } else if (!strcmp(o.backend, "cpu")) {
        backends[nb++] = VKI_BACKEND_CPU;
    } else if (!strcmp(o.backend, "vulkan")) {
        backends[nb++] = VKI_BACKEND_VULKAN;
    } else if (!strcmp(o.backend, "auto")) {
        backends[nb++] = VKI_BACKEND_AUTO;
    } else {
        usage();
    }
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
