/*
 * A KV cache kept by a Vulkan application, updated by vkindex inside the application's own
 * command buffers (include/vkindex_vulkan.h).
 *
 * The application creates its own instance and device with only the features vkindex
 * recommends, keeps a K and a V cache [layers, heads, max_seq, head_dim] of float16 in its own
 * device-local buffers, and for every generated token records, into its own command buffer,
 * one vki_cmd_index_copy_ per layer for K and one for V (cache[layer][:, position, :] =
 * new[layer]), with the barriers of vkindex's contract around them, and submits it. At the end
 * it compares the caches with the CPU backend doing the same updates, and times 1000 recorded
 * decode operations in one command buffer with timestamps.
 *
 * Environment: VKI_DEVICE picks the device by name (default: the first), VKI_VALIDATION=1
 * turns on the validation layer with synchronization validation (any message fails). The
 * application's Vulkan set-up, which has nothing of vkindex, is in vkapp.c.
 * Exit status 0 when the caches match, 77 when there is no Vulkan device.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vkapp.h" /* the application's own Vulkan set-up: instance, device, buffers */

enum { LAYERS = 4, HEADS = 8, MAX_SEQ = 128, HEAD_DIM = 64, TOKENS = 96, TIMED_OPS = 1000 };

#define CHECK_VK(call)                                                                         \
    do {                                                                                       \
        VkResult r_ = (call);                                                                  \
        if (r_ != VK_SUCCESS) {                                                                \
            fprintf(stderr, "%s failed: %d\n", #call, (int)r_);                                \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)
#define CHECK_VKI(call)                                                                        \
    do {                                                                                       \
        vki_status s_ = (call);                                                                \
        if (s_ != VKI_OK) {                                                                    \
            fprintf(stderr, "%s failed: %s: %s\n", #call, vki_status_string(s_),               \
                    vki_last_error());                                                         \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* The per-layer views of a cache [LAYERS, HEADS, MAX_SEQ, HEAD_DIM] or of the new K/V rows
 * [LAYERS, HEADS, 1, HEAD_DIM]: tensors [HEADS, seq, HEAD_DIM] for layer l. */
static void layer_views(vki_tensor *whole, int64_t seq, vki_tensor **views)
{
    const int64_t shape[3] = {HEADS, seq, HEAD_DIM};
    for (int l = 0; l < LAYERS; l++)
        CHECK_VKI(vki_tensor_view(whole, 3, shape, NULL, (int64_t)l * HEADS * seq * HEAD_DIM,
                                  &views[l]));
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint16_t random_half(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint16_t)(0x3C00 | ((rng_state >> 33) & 0x3FF)); /* a float16 in [1, 2) */
}

typedef struct caches {
    vki_tensor *k, *v, *k_layer[LAYERS], *v_layer[LAYERS];         /* the caches */
    vki_tensor *k_new, *v_new, *k_row[LAYERS], *v_row[LAYERS];     /* this token's rows */
    vki_tensor *position;                                           /* int64 [1] */
} caches;

static void make_views(caches *c)
{
    layer_views(c->k, MAX_SEQ, c->k_layer);
    layer_views(c->v, MAX_SEQ, c->v_layer);
    layer_views(c->k_new, 1, c->k_row);
    layer_views(c->v_new, 1, c->v_row);
}

static void destroy_caches(caches *c)
{
    vki_tensor *all[] = {c->k, c->v, c->k_new, c->v_new, c->position};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        vki_tensor_destroy(all[i]);
    for (int l = 0; l < LAYERS; l++) {
        vki_tensor_destroy(c->k_layer[l]);
        vki_tensor_destroy(c->v_layer[l]);
        vki_tensor_destroy(c->k_row[l]);
        vki_tensor_destroy(c->v_row[l]);
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* 1000 decode operations recorded in one command buffer, timed with timestamps. */
static void time_recorded(vkapp *g, vki_context *ctx, caches *c)
{
    VkQueryPool queries;
    VkQueryPoolCreateInfo qp = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                .queryCount = 2};
    CHECK_VK(vkCreateQueryPool(g->device, &qp, NULL, &queries));
    vki_cmd_release(ctx, g->cmd);
    CHECK_VK(vkapp_begin(g));
    /* The application's barrier before vkindex's operations: this command buffer is submitted
     * three times, and each submission writes what the one before wrote. */
    vkapp_barrier(g, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    vkCmdResetQueryPool(g->cmd, queries, 0, 2);
    vkCmdWriteTimestamp(g->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries, 0);
    for (int i = 0; i < TIMED_OPS; i++) {
        const int l = (i / 2) % LAYERS;
        CHECK_VKI(vki_cmd_index_copy_(g->cmd, i % 2 ? c->v_layer[l] : c->k_layer[l], 1, c->position,
                                      i % 2 ? c->v_row[l] : c->k_row[l]));
    }
    vkCmdWriteTimestamp(g->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries, 1);
    CHECK_VK(vkEndCommandBuffer(g->cmd));
    vki_cmd_stats stats;
    CHECK_VKI(vki_cmd_stats_get(ctx, g->cmd, &stats));
    for (int rep = 0; rep < 3; rep++) { /* the last of three submissions is reported */
        const double t0 = now_ms();
        CHECK_VK(vkapp_submit_wait(g));
        const double wall = now_ms() - t0;
        uint64_t t[2];
        CHECK_VK(vkGetQueryPoolResults(g->device, queries, 0, 2, sizeof t, t, sizeof t[0],
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        if (rep == 2)
            printf("%d recorded decode operations in one command buffer: %.2f us of GPU time "
                   "per operation (%.2f us wall); per operation %.2f dispatches, %.3f barriers, "
                   "%.2f fills\n",
                   TIMED_OPS, (double)(t[1] - t[0]) * g->props.limits.timestampPeriod / 1e3 / TIMED_OPS,
                   wall * 1e3 / TIMED_OPS, (double)stats.dispatches / (double)stats.operations,
                   (double)stats.barriers / (double)stats.operations,
                   (double)stats.fills / (double)stats.operations);
    }
    CHECK_VKI(vki_cmd_check(ctx, g->cmd));
    vki_cmd_release(ctx, g->cmd);
    vkDestroyQueryPool(g->device, queries, NULL);
}

/* The application's buffers for the caches (device-local) and for the new rows and the
 * position (host-visible, as a model's last layer would leave them), wrapped as tensors. */
typedef struct app_buffers {
    vkapp_buffer k, v, k_new, v_new, position;
} app_buffers;

static const int64_t cache_shape[4] = {LAYERS, HEADS, MAX_SEQ, HEAD_DIM};
static const int64_t row_shape[4] = {LAYERS, HEADS, 1, HEAD_DIM}, one = 1;
static const VkDeviceSize cache_bytes = (VkDeviceSize)LAYERS * HEADS * MAX_SEQ * HEAD_DIM * 2;
static const VkDeviceSize row_bytes = (VkDeviceSize)LAYERS * HEADS * HEAD_DIM * 2;

static void wrap_buffers(vkapp *g, vki_context *ctx, app_buffers *b, caches *gc)
{
    CHECK_VK(vkapp_buffer_create(g, cache_bytes, false, &b->k));
    CHECK_VK(vkapp_buffer_create(g, cache_bytes, false, &b->v));
    CHECK_VK(vkapp_buffer_create(g, row_bytes, true, &b->k_new));
    CHECK_VK(vkapp_buffer_create(g, row_bytes, true, &b->v_new));
    CHECK_VK(vkapp_buffer_create(g, 16, true, &b->position));
    CHECK_VKI(vki_tensor_wrap_buffer(ctx, b->k.buffer, 0, cache_bytes, VKI_FLOAT16, 4, cache_shape, NULL, &gc->k));
    CHECK_VKI(vki_tensor_wrap_buffer(ctx, b->v.buffer, 0, cache_bytes, VKI_FLOAT16, 4, cache_shape, NULL, &gc->v));
    CHECK_VKI(vki_tensor_wrap_buffer(ctx, b->k_new.buffer, 0, row_bytes, VKI_FLOAT16, 4, row_shape, NULL, &gc->k_new));
    CHECK_VKI(vki_tensor_wrap_buffer(ctx, b->v_new.buffer, 0, row_bytes, VKI_FLOAT16, 4, row_shape, NULL, &gc->v_new));
    CHECK_VKI(vki_tensor_wrap_buffer(ctx, b->position.buffer, 0, 16, VKI_INT64, 1, &one, NULL, &gc->position));
    make_views(gc);
    CHECK_VK(vkapp_begin(g)); /* the application clears its caches */
    vkCmdFillBuffer(g->cmd, b->k.buffer, 0, cache_bytes, 0);
    vkCmdFillBuffer(g->cmd, b->v.buffer, 0, cache_bytes, 0);
    CHECK_VK(vkEndCommandBuffer(g->cmd));
    CHECK_VK(vkapp_submit_wait(g));
}

/* The same caches on the CPU backend, zeros, for the check at the end. */
static void cpu_caches(vki_context *cpu, caches *cc)
{
    CHECK_VKI(vki_tensor_create(cpu, VKI_FLOAT16, 4, cache_shape, &cc->k));
    CHECK_VKI(vki_tensor_create(cpu, VKI_FLOAT16, 4, cache_shape, &cc->v));
    CHECK_VKI(vki_tensor_create(cpu, VKI_FLOAT16, 4, row_shape, &cc->k_new));
    CHECK_VKI(vki_tensor_create(cpu, VKI_FLOAT16, 4, row_shape, &cc->v_new));
    CHECK_VKI(vki_tensor_create(cpu, VKI_INT64, 1, &one, &cc->position));
    make_views(cc);
    uint16_t *zeros = calloc(1, (size_t)cache_bytes);
    CHECK_VKI(vki_tensor_upload(cc->k, zeros, (size_t)cache_bytes));
    CHECK_VKI(vki_tensor_upload(cc->v, zeros, (size_t)cache_bytes));
    free(zeros);
}

/* "The model" writes this token's K and V rows and its position (the same on the CPU). */
static void new_token(app_buffers *b, caches *cc, int64_t token)
{
    uint16_t *row = malloc((size_t)row_bytes);
    vkapp_buffer *dst[2] = {&b->k_new, &b->v_new};
    vki_tensor *cpu[2] = {cc->k_new, cc->v_new};
    for (int kv = 0; kv < 2; kv++) {
        for (VkDeviceSize i = 0; i < row_bytes / 2; i++)
            row[i] = random_half();
        memcpy(dst[kv]->mapped, row, (size_t)row_bytes);
        CHECK_VKI(vki_tensor_upload(cpu[kv], row, (size_t)row_bytes));
    }
    memcpy(b->position.mapped, &token, sizeof token);
    CHECK_VKI(vki_tensor_upload(cc->position, &token, sizeof token));
    free(row);
}

/* One token's command buffer: the application's barriers around vkindex's operations. */
static void record_token(vkapp *g, vki_context *ctx, caches *gc)
{
    vki_cmd_release(ctx, g->cmd); /* the last token's recording is done with */
    CHECK_VK(vkapp_begin(g));
    /* Before vkindex: earlier accesses to the caches (the last token's updates and whatever
     * read them, the fill) done and made visible to its compute shaders and transfers. */
    vkapp_barrier(g, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    for (int l = 0; l < LAYERS; l++) {
        CHECK_VKI(vki_cmd_index_copy_(g->cmd, gc->k_layer[l], 1, gc->position, gc->k_row[l]));
        CHECK_VKI(vki_cmd_index_copy_(g->cmd, gc->v_layer[l], 1, gc->position, gc->v_row[l]));
    }
    /* After: vkindex's accesses done before what uses the caches and rows next (attention,
     * the next token's rows). */
    vkapp_barrier(g, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT |
                      VK_ACCESS_HOST_WRITE_BIT);
    CHECK_VK(vkEndCommandBuffer(g->cmd));
}

/* The caches against the CPU backend (vki_tensor_download reads the application's
 * device-local buffers through vkindex's staging). Returns whether they are equal. */
static bool caches_equal(caches *gc, caches *cc)
{
    uint16_t *got = malloc((size_t)cache_bytes), *want = malloc((size_t)cache_bytes);
    bool equal = true;
    vki_tensor *pairs[2][2] = {{gc->k, cc->k}, {gc->v, cc->v}};
    for (int p = 0; p < 2; p++) {
        CHECK_VKI(vki_tensor_download(pairs[p][0], got, (size_t)cache_bytes));
        CHECK_VKI(vki_tensor_download(pairs[p][1], want, (size_t)cache_bytes));
        equal = equal && !memcmp(got, want, (size_t)cache_bytes);
    }
    free(got);
    free(want);
    return equal;
}

int main(void)
{
    vkapp g;
    VkResult r = vkapp_create(&g, true);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
        printf("no Vulkan device%s: nothing to run\n", getenv("VKI_DEVICE") ? " of that name" : "");
        return 77;
    }
    CHECK_VK(r);
    printf("device: %s; enabled for vkindex: storageBuffer8BitAccess %d, "
           "storageBuffer16BitAccess %d, shaderInt64 %d\n",
           g.props.deviceName, g.features.vulkan12.storageBuffer8BitAccess,
           g.features.vulkan11.storageBuffer16BitAccess, g.features.features2.features.shaderInt64);
    const vki_vulkan_device dev = vkapp_device(&g);
    vki_context *ctx, *cpu;
    CHECK_VKI(vki_context_create_vulkan(&dev, NULL, &ctx));
    CHECK_VKI(vki_context_create(&(vki_context_options){.backend = VKI_BACKEND_CPU}, &cpu));
    app_buffers b;
    caches gc = {0}, cc = {0};
    wrap_buffers(&g, ctx, &b, &gc);
    cpu_caches(cpu, &cc);

    const double t0 = now_ms();
    for (int64_t token = 0; token < TOKENS; token++) {
        new_token(&b, &cc, token);
        record_token(&g, ctx, &gc);
        CHECK_VK(vkapp_submit_wait(&g));
        CHECK_VKI(vki_cmd_check(ctx, g.cmd));
        for (int l = 0; l < LAYERS; l++) {
            CHECK_VKI(vki_index_copy_(cc.k_layer[l], 1, cc.position, cc.k_row[l]));
            CHECK_VKI(vki_index_copy_(cc.v_layer[l], 1, cc.position, cc.v_row[l]));
        }
    }
    printf("%d tokens: %d recorded operations per token (K and V of %d layers), %.3f ms per "
           "token (recording, submission and wait)\n", TOKENS, 2 * LAYERS, LAYERS,
           (now_ms() - t0) / TOKENS);
    const bool equal = caches_equal(&gc, &cc);
    printf("K and V caches [%d, %d, %d, %d] float16 against the CPU backend: %s\n", LAYERS,
           HEADS, MAX_SEQ, HEAD_DIM, equal ? "equal" : "DIFFERENT");
    if (g.timestamps)
        time_recorded(&g, ctx, &gc);
    else
        printf("this device has no timestamps: the 1000-operation timing is skipped\n");

    destroy_caches(&gc);
    destroy_caches(&cc);
    vki_context_destroy(ctx); /* before the device it runs on */
    vki_context_destroy(cpu);
    vkapp_buffer *all[] = {&b.k, &b.v, &b.k_new, &b.v_new, &b.position};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        vkapp_buffer_destroy(&g, all[i]);
    const int messages = g.messages;
    vkapp_destroy(&g);
    if (messages)
        printf("%d validation messages\n", messages);
    return equal && !messages ? 0 : 1;
}
