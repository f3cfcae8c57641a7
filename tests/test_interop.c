/*
 * vkindex inside a Vulkan application (include/vkindex_vulkan.h): the test is the application.
 * It creates its own instance (with the validation layer and synchronization validation when
 * VKI_VALIDATION=1: any message fails the test) and its own device on VKI_DEVICE, once with no
 * optional feature and once with the features vkindex recommends, keeps tensors in its own
 * host-visible VkBuffers and records vki_cmd_index_copy_ into its own command buffers. Results
 * are compared with the CPU backend on the same data, and the bytes of every buffer around the
 * tensors must keep their sentinel.
 */
#include "common.h"
#include "vkapp.h" /* examples/vkapp.c: the application's own Vulkan set-up */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL 0xA5

typedef struct app {
    vkapp v;            /* the application's instance, device, queue, command buffer */
    VkDeviceSize align; /* offsets of wrapped ranges */
    vki_context *ctx;   /* vkindex on its device */
} app;

typedef vkapp_buffer app_buffer;

static int locks, unlocks; /* the queue lock callbacks (vki_vulkan_device) */

static void lock_queue(void *user)
{
    assert_ptr_equal(user, &locks);
    assert_int_equal(locks, unlocks); /* never taken twice */
    locks++;
}

static void unlock_queue(void *user)
{
    assert_ptr_equal(user, &locks);
    unlocks++;
}

#define VK_OK(call)                                                                            \
    do {                                                                                       \
        VkResult r_ = (call);                                                                  \
        if (r_ != VK_SUCCESS)                                                                  \
            fail_msg("%s -> VkResult %d", #call, (int)r_);                                     \
    } while (0)

/* The application (examples/vkapp.c), with its device created with vkindex's recommended
 * features or with none, and vkindex on it. */
static app *app_create(bool recommended)
{
    app *a = calloc(1, sizeof *a);
    assert_non_null(a);
    VkResult r = vkapp_create(&a->v, recommended);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        skip();
    VK_OK(r);
    a->align = a->v.props.limits.minStorageBufferOffsetAlignment > 16
                   ? a->v.props.limits.minStorageBufferOffsetAlignment : 16;
    vki_vulkan_device dev = vkapp_device(&a->v);
    dev.lock_queue = lock_queue;
    dev.unlock_queue = unlock_queue;
    dev.queue_user = &locks;
    OK(vki_context_create_vulkan(&dev, NULL, &a->ctx));
    return a;
}

static void app_destroy(app *a)
{
    vki_context_destroy(a->ctx);
    const int messages = a->v.messages;
    vkapp_destroy(&a->v);
    free(a);
    assert_int_equal(messages, 0);
}

/* A host-visible buffer of `size` bytes, filled with the sentinel. */
static app_buffer buffer_create(app *a, VkDeviceSize size)
{
    app_buffer b;
    VK_OK(vkapp_buffer_create(&a->v, size, true, &b));
    memset(b.mapped, SENTINEL, (size_t)size);
    return b;
}

static void buffer_destroy(app *a, app_buffer *b)
{
    vkapp_buffer_destroy(&a->v, b);
}

/* Begins the command buffer with the barrier of the contract: earlier accesses (earlier
 * submissions of it included) before vkindex's operations. */
static void begin(app *a)
{
    VK_OK(vkapp_begin(&a->v));
    vkapp_barrier(&a->v, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                      VK_ACCESS_TRANSFER_WRITE_BIT);
}

/* Ends the command buffer with the barrier of the contract (vkindex's writes -> host reads). */
static void end(app *a)
{
    vkapp_barrier(&a->v, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    VK_OK(vkEndCommandBuffer(a->v.cmd));
}

static void submit_wait(app *a)
{
    VK_OK(vkapp_submit_wait(&a->v));
}

/* ---- one random case: tensors in application buffers, the same on the CPU backend ---- */

typedef struct side {
    app_buffer buf;
    VkDeviceSize offset, bytes; /* the wrapped range */
    vki_tensor *t;              /* over the range */
    vki_tensor *cpu;            /* the same values on the CPU backend */
} side;

static const vki_dtype dtypes[] = {VKI_FLOAT32, VKI_FLOAT16, VKI_UINT8, VKI_INT64, VKI_COMPLEX128};

static void side_create(app *a, vki_context *cpu, side *s, vki_dtype dtype, int ndim,
                        const int64_t *shape, const void *host, test_rng *r)
{
    int64_t bytes = (int64_t)vki_dtype_size(dtype);
    for (int k = 0; k < ndim; k++)
        bytes *= shape[k];
    s->offset = rng_below(r, 2) ? a->align : 0;
    s->bytes = (VkDeviceSize)(bytes + 15) / 16 * 16;
    if (s->bytes == 0)
        s->bytes = 16;
    s->buf = buffer_create(a, s->offset + s->bytes + 64); /* sentinel before and after */
    memcpy((unsigned char *)s->buf.mapped + s->offset, host, (size_t)bytes);
    OK(vki_tensor_wrap_buffer(a->ctx, s->buf.buffer, s->offset, s->bytes, dtype, ndim, shape,
                              NULL, &s->t));
    s->cpu = make_tensor(cpu, dtype, ndim, shape, host);
}

static void side_destroy(app *a, side *s)
{
    vki_tensor_destroy(s->t);
    vki_tensor_destroy(s->cpu);
    buffer_destroy(a, &s->buf);
}

/* The application buffer holds the CPU backend's result, and its sentinels. */
static void side_check(const side *s, const char *what, uint64_t seed)
{
    const int64_t bytes = vki_tensor_numel(s->cpu) * (int64_t)vki_dtype_size(vki_tensor_dtype(s->cpu));
    unsigned char *want = malloc((size_t)bytes + 1);
    OK(vki_tensor_download(s->cpu, want, (size_t)bytes));
    if (memcmp((unsigned char *)s->buf.mapped + s->offset, want, (size_t)bytes))
        fail_msg("%s differs from the CPU backend (seed %llu)", what, (unsigned long long)seed);
    free(want);
    for (VkDeviceSize i = 0; i < s->buf.size; i++)
        if ((i < s->offset || i >= s->offset + (VkDeviceSize)bytes) &&
            ((const unsigned char *)s->buf.mapped)[i] != SENTINEL)
            fail_msg("%s: byte %llu outside the tensor was written (seed %llu)", what,
                     (unsigned long long)i, (unsigned long long)seed);
}

static void random_case(app *a, vki_context *cpu, test_rng *r, uint64_t seed)
{
    const vki_dtype dtype = dtypes[rng_below(r, 5)];
    const int ndim = 1 + (int)rng_below(r, 3), dim = (int)rng_below(r, ndim);
    int64_t shape[3], src_shape[3];
    for (int k = 0; k < ndim; k++)
        shape[k] = src_shape[k] = 1 + rng_below(r, 5);
    shape[dim] = 1 + rng_below(r, 40);
    const int64_t n = rng_below(r, 3) == 0 ? 33 + rng_below(r, 60) : rng_below(r, 9);
    src_shape[dim] = n;
    const bool index32 = rng_below(r, 2), in_place = rng_below(r, 3) != 0;
    const size_t es = vki_dtype_size(dtype);
    int64_t self_n = 1, src_n = 1;
    for (int k = 0; k < ndim; k++) {
        self_n *= shape[k];
        src_n *= src_shape[k];
    }
    unsigned char *self_host = malloc((size_t)(self_n * (int64_t)es) + 1);
    unsigned char *src_host = malloc((size_t)(src_n * (int64_t)es) + 1);
    int64_t idx64[100];
    int32_t idx32[100];
    rng_fill(r, self_host, (size_t)self_n * es);
    rng_fill(r, src_host, (size_t)src_n * es);
    for (int64_t i = 0; i < n; i++)
        idx32[i] = (int32_t)(idx64[i] = rng_below(r, shape[dim])); /* duplicates on purpose */
    side self, src, idx, out;
    side_create(a, cpu, &self, dtype, ndim, shape, self_host, r);
    side_create(a, cpu, &src, dtype, ndim, src_shape, src_host, r);
    side_create(a, cpu, &idx, index32 ? VKI_INT32 : VKI_INT64, 1, &n,
                index32 ? (void *)idx32 : (void *)idx64, r);
    if (!in_place)
        side_create(a, cpu, &out, dtype, ndim, shape, self_host, r);
    begin(a);
    if (in_place)
        OK(vki_cmd_index_copy_(a->v.cmd, self.t, dim, idx.t, src.t));
    else
        OK(vki_cmd_index_copy(a->v.cmd, out.t, self.t, dim, idx.t, src.t));
    end(a);
    submit_wait(a);
    OK(vki_cmd_check(a->ctx, a->v.cmd));
    vki_cmd_release(a->ctx, a->v.cmd);
    if (in_place)
        OK(vki_index_copy_(self.cpu, dim, idx.cpu, src.cpu));
    else
        OK(vki_index_copy(out.cpu, self.cpu, dim, idx.cpu, src.cpu));
    side_check(&self, "self", seed);
    side_check(&src, "source", seed);
    side_check(&idx, "index", seed);
    if (!in_place) {
        side_check(&out, "out", seed);
        side_destroy(a, &out);
    }
    side_destroy(a, &self);
    side_destroy(a, &src);
    side_destroy(a, &idx);
    free(self_host);
    free(src_host);
}

static uint64_t seed;

static void differential(bool recommended)
{
    app *a = app_create(recommended);
    vki_context *cpu;
    vki_context_options opts = {.backend = VKI_BACKEND_CPU};
    OK(vki_context_create(&opts, &cpu));
    test_rng r = {seed ^ (recommended ? 0x1234u : 0)};
    for (int c = 0; c < 60; c++)
        random_case(a, cpu, &r, seed);
    vki_context_destroy(cpu);
    app_destroy(a);
}

static void differential_no_features(void **state)
{
    (void)state;
    differential(false);
}

static void differential_recommended(void **state)
{
    (void)state;
    differential(true);
}

/* One command buffer submitted again and again, its index rewritten by the host between the
 * submissions: every execution reads the index it finds, and one with a bad value writes
 * nothing and is reported by the check, by PyTorch's message. */
static void replays(void **state)
{
    (void)state;
    app *a = app_create(true);
    vki_context *cpu;
    vki_context_options opts = {.backend = VKI_BACKEND_CPU};
    OK(vki_context_create(&opts, &cpu));
    test_rng r = {seed ^ 0x5151u};
    const int64_t shape[2] = {50, 8}, small = 3, large = 40;
    const int64_t small_src[2] = {small, 8}, large_src[2] = {large, 8};
    float self_host[400], src_a[24], src_b[320];
    rng_fill(&r, self_host, sizeof self_host);
    rng_fill(&r, src_a, sizeof src_a);
    rng_fill(&r, src_b, sizeof src_b);
    int64_t idx_a[3] = {0}, idx_b[40] = {0};
    side self, sa, sb, ia, ib;
    side_create(a, cpu, &self, VKI_FLOAT32, 2, shape, self_host, &r);
    side_create(a, cpu, &sa, VKI_FLOAT32, 2, small_src, src_a, &r);
    side_create(a, cpu, &sb, VKI_FLOAT32, 2, large_src, src_b, &r);
    side_create(a, cpu, &ia, VKI_INT64, 1, &small, idx_a, &r);
    side_create(a, cpu, &ib, VKI_INT64, 1, &large, idx_b, &r);
    /* Operations back to back on one tensor with no barrier of the application's between
     * them: two fused ones (a few indices), and one with a check pass. */
    begin(a);
    OK(vki_cmd_index_copy_(a->v.cmd, self.t, 0, ia.t, sa.t));
    OK(vki_cmd_index_copy_(a->v.cmd, self.t, 0, ia.t, sa.t));
    OK(vki_cmd_index_copy_(a->v.cmd, self.t, 0, ib.t, sb.t));
    end(a);
    /* The first needs no barrier of vkindex's, the second one (it writes what the first
     * wrote), the third its own three (leading, after its fill, between its passes). */
    vki_cmd_stats stats;
    OK(vki_cmd_stats_get(a->ctx, a->v.cmd, &stats));
    assert_int_equal(stats.operations, 3);
    assert_int_equal(stats.dispatches, 4);
    assert_int_equal(stats.barriers, 4);
    assert_int_equal(stats.fills, 1);
    for (int round = 0; round < 6; round++) {
        const bool bad = round == 2 || round == 4; /* round 4: the large one is bad */
        for (int i = 0; i < 3; i++)
            idx_a[i] = rng_below(&r, 50);
        for (int i = 0; i < 40; i++)
            idx_b[i] = rng_below(&r, 50);
        if (round == 2)
            idx_a[1] = 50;
        if (round == 4)
            idx_b[17] = -3;
        memcpy((unsigned char *)ia.buf.mapped + ia.offset, idx_a, sizeof idx_a);
        memcpy((unsigned char *)ib.buf.mapped + ib.offset, idx_b, sizeof idx_b);
        OK(vki_tensor_upload(ia.cpu, idx_a, sizeof idx_a));
        OK(vki_tensor_upload(ib.cpu, idx_b, sizeof idx_b));
        submit_wait(a);
        vki_status st = vki_cmd_check(a->ctx, a->v.cmd);
        if (!bad) {
            OK(st);
            OK(vki_index_copy_(self.cpu, 0, ia.cpu, sa.cpu));
            OK(vki_index_copy_(self.cpu, 0, ia.cpu, sa.cpu));
            OK(vki_index_copy_(self.cpu, 0, ib.cpu, sb.cpu));
        } else {
            assert_int_equal(st, VKI_ERROR_INDEX);
            assert_string_equal(vki_last_error(),
                                round == 2 ? "index_copy_(): index 50 is out of bounds for "
                                             "dimension 0 with size 50"
                                           : "index_copy_(): index -3 is out of bounds for "
                                             "dimension 0 with size 50");
            OK(vki_cmd_check(a->ctx, a->v.cmd)); /* reported once */
            /* the other operation of the round ran: only the bad one wrote nothing */
            if (round == 2)
                OK(vki_index_copy_(self.cpu, 0, ib.cpu, sb.cpu));
            else
                for (int twice = 0; twice < 2; twice++)
                    OK(vki_index_copy_(self.cpu, 0, ia.cpu, sa.cpu));
        }
        side_check(&self, "self after a replay", seed);
    }
    vki_cmd_release(a->ctx, a->v.cmd);
    side_destroy(a, &self);
    side_destroy(a, &sa);
    side_destroy(a, &sb);
    side_destroy(a, &ia);
    side_destroy(a, &ib);
    vki_context_destroy(cpu);
    app_destroy(a);
}

/* The synchronous API on an imported device, and a context of vkindex's own next to it,
 * destroyed in either order. */
static void two_contexts(bool imported_first)
{
    app *a = app_create(false);
    vki_context *owned;
    OK(vki_context_create(&(vki_context_options){.backend = VKI_BACKEND_VULKAN}, &owned));
    vki_context *both[2] = {a->ctx, owned};
    const int locked_before = locks;
    for (int k = 0; k < 2; k++) {
        const int64_t shape = 6, n = 2;
        const float self_host[6] = {0, 1, 2, 3, 4, 5}, src_host[2] = {10, 20};
        const int64_t idx_host[2] = {5, 0};
        vki_tensor *self = make_tensor(both[k], VKI_FLOAT32, 1, &shape, self_host);
        vki_tensor *src = make_tensor(both[k], VKI_FLOAT32, 1, &n, src_host);
        vki_tensor *idx = make_tensor(both[k], VKI_INT64, 1, &n, idx_host);
        OK(vki_index_copy_(self, 0, idx, src));
        float got[6];
        OK(vki_tensor_download(self, got, sizeof got));
        const float want[6] = {20, 1, 2, 3, 4, 10};
        assert_memory_equal(got, want, sizeof want);
        vki_tensor_destroy(self);
        vki_tensor_destroy(src);
        vki_tensor_destroy(idx);
    }
    /* the imported context submitted to the application's queue under its lock */
    assert_true(locks > locked_before);
    assert_int_equal(locks, unlocks);
    if (imported_first) {
        vki_context_destroy(a->ctx);
        a->ctx = NULL;
        vki_context_destroy(owned);
    } else {
        vki_context_destroy(owned);
    }
    app_destroy(a);
}

static void two_contexts_imported_first(void **state)
{
    (void)state;
    two_contexts(true);
}

static void two_contexts_owned_first(void **state)
{
    (void)state;
    two_contexts(false);
}

/* Arguments: a wrapped range must be aligned, and a recorded call with an input that shares
 * memory with the written tensor is refused; neither records anything. */
static void refusals(void **state)
{
    (void)state;
    app *a = app_create(false);
    app_buffer b = buffer_create(a, 4096);
    const int64_t four = 4;
    vki_tensor *t = NULL;
    assert_int_equal(vki_tensor_wrap_buffer(a->ctx, b.buffer, 8, 64, VKI_FLOAT32, 1, &four, NULL, &t),
                     VKI_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(vki_last_error(), "vki_tensor_wrap_buffer: offset 8 is not a multiple"));
    assert_int_equal(vki_tensor_wrap_buffer(a->ctx, b.buffer, 0, 20, VKI_FLOAT32, 1, &four, NULL, &t),
                     VKI_ERROR_INVALID_ARGUMENT);
    const int64_t many = 100;
    assert_int_equal(vki_tensor_wrap_buffer(a->ctx, b.buffer, 0, 64, VKI_FLOAT32, 1, &many, NULL, &t),
                     VKI_ERROR_INVALID_ARGUMENT); /* the view does not fit the range */
    OK(vki_tensor_wrap_buffer(a->ctx, b.buffer, 0, 64, VKI_FLOAT32, 1, &four, NULL, &t));
    VkBuffer got;
    VkDeviceSize offset, size;
    OK(vki_tensor_vulkan_buffer(t, &got, &offset, &size));
    assert_true(got == b.buffer && offset == 0 && size == 64);
    const int64_t two = 2, every_other = 2;
    vki_tensor *idx; /* a range of its own, after t's */
    OK(vki_tensor_wrap_buffer(a->ctx, b.buffer, (64 + a->align - 1) / a->align * a->align, 16,
                              VKI_INT64, 1, &two, NULL, &idx));
    begin(a);
    assert_int_equal(vki_cmd_index_copy_(a->v.cmd, t, 0, idx, t), VKI_ERROR_INVALID_ARGUMENT);
    vki_tensor *half; /* not dense, so no rule-3 error: the synchronous call would clone it */
    OK(vki_tensor_view(t, 1, &two, &every_other, 0, &half));
    assert_int_equal(vki_cmd_index_copy_(a->v.cmd, t, 0, idx, half), VKI_ERROR_UNSUPPORTED);
    end(a);
    vki_cmd_release(a->ctx, a->v.cmd);
    vki_tensor_destroy(half);
    vki_tensor_destroy(idx);
    vki_tensor_destroy(t);
    buffer_destroy(a, &b);
    app_destroy(a);
}

/* A recording keeps the tensors it uses: their handles may go before the command buffer
 * runs. A context of vkindex's own cannot record into the application's command buffer. */
static void recordings_keep_tensors(void **state)
{
    (void)state;
    app *a = app_create(true);
    const int64_t shape = 8, n = 2;
    const float zeros[8] = {0}, src_host[2] = {5, 7};
    const int64_t idx_host[2] = {6, 1};
    vki_tensor *self = make_tensor(a->ctx, VKI_FLOAT32, 1, &shape, zeros);
    vki_tensor *src = make_tensor(a->ctx, VKI_FLOAT32, 1, &n, src_host);
    vki_tensor *idx = make_tensor(a->ctx, VKI_INT64, 1, &n, idx_host);
    begin(a);
    OK(vki_cmd_index_copy_(a->v.cmd, self, 0, idx, src));
    end(a);
    vki_tensor_destroy(src);
    vki_tensor_destroy(idx);
    submit_wait(a);
    OK(vki_cmd_check(a->ctx, VK_NULL_HANDLE));
    float got[8];
    OK(vki_tensor_download(self, got, sizeof got));
    const float want[8] = {0, 7, 0, 0, 0, 0, 5, 0};
    assert_memory_equal(got, want, sizeof want);
    vki_cmd_release(a->ctx, a->v.cmd);
    vki_context *owned;
    OK(vki_context_create(&(vki_context_options){.backend = VKI_BACKEND_VULKAN}, &owned));
    vki_tensor *other = make_tensor(owned, VKI_FLOAT32, 1, &shape, zeros);
    vki_tensor *oi = make_tensor(owned, VKI_INT64, 1, &n, idx_host);
    vki_tensor *os = make_tensor(owned, VKI_FLOAT32, 1, &n, src_host);
    begin(a);
    assert_int_equal(vki_cmd_index_copy_(a->v.cmd, other, 0, oi, os), VKI_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(vki_last_error(), "not on the application's"));
    end(a);
    vki_tensor_destroy(other);
    vki_tensor_destroy(oi);
    vki_tensor_destroy(os);
    vki_context_destroy(owned);
    vki_tensor_destroy(self);
    app_destroy(a);
}

static long resident_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4;
}

/* Recording, submitting and releasing 300 operations (two pages) 24 times: released pages
 * and scratch buffers are reused, so resident memory stops growing after the first rounds. */
static void release_keeps_memory_flat(void **state)
{
    (void)state;
    app *a = app_create(true);
    const int64_t shape[2] = {64, 4}, n = 1, src_shape[2] = {1, 4}, many = 40;
    const int64_t big_src[2] = {40, 4};
    float zeros[256] = {0};
    int64_t idx[40] = {0};
    vki_tensor *self = make_tensor(a->ctx, VKI_FLOAT32, 2, shape, zeros);
    vki_tensor *src = make_tensor(a->ctx, VKI_FLOAT32, 2, src_shape, zeros);
    vki_tensor *big = make_tensor(a->ctx, VKI_FLOAT32, 2, big_src, zeros);
    vki_tensor *index = make_tensor(a->ctx, VKI_INT64, 1, &n, idx);
    vki_tensor *big_index = make_tensor(a->ctx, VKI_INT64, 1, &many, idx);
    long after_warmup = 0;
    for (int round = 0; round < 24; round++) {
        begin(a);
        for (int op = 0; op < 300; op++)
            if (op % 100 == 99) /* a few with a scratch buffer of their own */
                OK(vki_cmd_index_copy_(a->v.cmd, self, 0, big_index, big));
            else
                OK(vki_cmd_index_copy_(a->v.cmd, self, 0, index, src));
        end(a);
        submit_wait(a);
        OK(vki_cmd_check(a->ctx, a->v.cmd));
        vki_cmd_release(a->ctx, a->v.cmd);
        if (round == 4)
            after_warmup = resident_kib();
    }
    const long grown = resident_kib() - after_warmup;
#if defined(__SANITIZE_ADDRESS__)
    (void)grown; /* AddressSanitizer keeps freed memory in quarantine: its resident size grows */
#else
    if (grown > 2048)
        fail_msg("resident memory grew by %ld KiB over 19 rounds of record and release", grown);
#endif
    vki_tensor_destroy(self);
    vki_tensor_destroy(src);
    vki_tensor_destroy(big);
    vki_tensor_destroy(index);
    vki_tensor_destroy(big_index);
    app_destroy(a);
}

int main(int argc, char **argv)
{
    seed = test_seed(argc, argv, "test_interop");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(differential_no_features),
        cmocka_unit_test(differential_recommended),
        cmocka_unit_test(replays),
        cmocka_unit_test(two_contexts_imported_first),
        cmocka_unit_test(two_contexts_owned_first),
        cmocka_unit_test(refusals),
        cmocka_unit_test(release_keeps_memory_flat),
        cmocka_unit_test(recordings_keep_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
