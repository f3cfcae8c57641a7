/*
 * Fault injection (a build configured with -Dfault_injection=true; see src/fault.h): a
 * representative run (context, tensors, views, transfers, calls in and out of place, aliasing,
 * int32 indices, a bad index, a batch, host memory used in place, and on DLPack builds an import
 * and an export) is repeated with its N-th host allocation failing, then
 * with its N-th fallible Vulkan call failing, then with the device lost from its N-th Vulkan
 * call on, for every N the run passes. Each time: every failure is a clear status with a
 * message, nothing crashes or hangs or leaks (the sanitizer build checks), a call that reports
 * an error other than VKI_ERROR_DEVICE_LOST has changed nothing, a lost context answers
 * VKI_ERROR_DEVICE_LOST at once, and afterwards the context (or, once lost, a new one) works.
 * VKI_TEST_ONLY=NAME runs one test (e.g. device_loss), VKI_TEST_POINT=N only the run that fails
 * at point N (a failure names its point).
 */
#include "common.h"
#ifdef VKI_TEST_DLPACK
#include "vkindex_dlpack.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exported by fault-injection builds of the library (src/fault.c); the kinds are fault.h's. */
enum { ARM_ALLOC, ARM_VULKAN, ARM_DEVICE_LOST };
void vki_fault_arm(int kind, long long n);
void vki_fault_points(long long *alloc, long long *vulkan);
void vki_fault_reset(void);

static const char *fault_var; /* the name of the walk in progress (NULL: none) */
static int fault_kind;        /* what it arms */
static char fault_value[32];  /* the point armed, as text for messages */
static long long fault_point;
static int lost_seen, failures_seen;
static vki_backend expected_backend; /* what the run without injection got */

/* Arming is a call, not an environment variable: lavapipe reads the environment from its own
 * threads (still running after an injected device loss), which setenv would race with. */
static void injection_on(void)
{
    if (fault_var)
        vki_fault_arm(fault_kind, fault_point);
}

static void injection_off(void)
{
    if (fault_var)
        vki_fault_arm(fault_kind, 0);
}

/* Checks a status: OK, or an error with a message. Returns whether it is OK. */
static bool status_ok(vki_status st, const char *what)
{
    if (st == VKI_OK)
        return true;
    failures_seen++;
    if (st == VKI_ERROR_DEVICE_LOST)
        lost_seen = 1;
    const char *m = vki_last_error();
    if (!m || !*m)
        fail_msg("%s failed with %s and no message (%s fault at point %s)", what,
                 vki_status_string(st), fault_var ? fault_var : "-", fault_value);
    return false;
}

/* The bytes of a tensor, read with injection off (NULL on a lost context). */
static void *snapshot(vki_tensor *t, size_t bytes)
{
    injection_off();
    void *p = malloc(bytes);
    vki_status st = vki_tensor_download(t, p, bytes);
    injection_on();
    if (st != VKI_OK) {
        if (st != VKI_ERROR_DEVICE_LOST)
            fail_msg("a download with injection off failed: %s: %s", vki_status_string(st),
                     vki_last_error());
        free(p);
        return NULL;
    }
    return p;
}

/* Runs an index_copy step: on an error other than DEVICE_LOST, `written` keeps every byte. */
static void copy_step(const char *what, vki_tensor *written, size_t bytes, vki_status expected,
                      vki_status (*call)(void *), void *arg)
{
    void *before = snapshot(written, bytes);
    vki_status st = call(arg);
    if (st == expected && expected != VKI_OK) {
        /* the expected error: nothing was written either */
    } else if (status_ok(st, what)) {
        free(before);
        return;
    }
    if (st != VKI_ERROR_DEVICE_LOST && before) {
        void *after = snapshot(written, bytes);
        if (after && memcmp(before, after, bytes))
            fail_msg("%s failed with %s (%s fault at point %s) but changed the tensor it "
                     "writes", what, vki_status_string(st), fault_var ? fault_var : "-",
                     fault_value);
        free(after);
    }
    free(before);
}

typedef struct tensors {
    vki_tensor *self, *src, *idx, *idx32, *bad, *out, *view;
} tensors;

static vki_status step_in_place(void *a)
{
    tensors *t = a;
    return vki_index_copy_(t->self, 0, t->idx, t->src);
}
static vki_status step_out_of_place(void *a)
{
    tensors *t = a;
    return vki_index_copy(t->out, t->self, 0, t->idx32, t->src);
}
static vki_status step_bad_index(void *a)
{
    tensors *t = a;
    return vki_index_copy_(t->self, 0, t->bad, t->src);
}
static vki_status step_aliasing(void *a) /* the source shares self's storage: a clone is made */
{
    tensors *t = a;
    vki_tensor *alias = NULL;
    vki_status st = vki_tensor_view(t->self, 2, (int64_t[]){3, 2}, (int64_t[]){4, 2}, 1, &alias);
    if (st == VKI_OK)
        st = vki_index_copy_(t->view, 0, t->idx32, alias);
    vki_tensor_destroy(alias);
    return st;
}

/* Host memory in place: a wrap (a Vulkan device imports it) and a call into it; a failed call
 * leaves the memory as it was. */
static void host_memory_step(vki_context *ctx, const tensors *t)
{
    enum { BLOCK = 65536 };
    float *host = aligned_alloc(BLOCK, BLOCK), before[24];
    for (int k = 0; k < 24; k++)
        host[k] = before[k] = (float)k;
    vki_tensor *wrapped = NULL;
    if (status_ok(vki_tensor_wrap_host(ctx, host, BLOCK, VKI_FLOAT32, 2, (int64_t[]){6, 4}, NULL,
                                       &wrapped), "vki_tensor_wrap_host")) {
        vki_status st = vki_index_copy_(wrapped, 0, t->idx, t->src);
        if (!status_ok(st, "index_copy_ on host memory") && st != VKI_ERROR_DEVICE_LOST &&
            memcmp(before, host, sizeof before))
            fail_msg("a failed call changed host memory (%s fault at point %s)", fault_var,
                     fault_value);
    }
    vki_tensor_destroy(wrapped);
    free(host);
}

#ifdef VKI_TEST_DLPACK
static int deleted;
static void count_deleter(DLManagedTensor *m)
{
    (void)m;
    deleted++;
}

/* DLPack: an import whose deleter runs once if it succeeded and never if it failed, and an
 * export given back through its deleter. */
static void dlpack_step(vki_context *ctx, const tensors *t)
{
    enum { BLOCK = 65536 };
    float *host = aligned_alloc(BLOCK, BLOCK);
    int64_t shape[1] = {BLOCK / 4};
    DLManagedTensor m = {.dl_tensor = {.data = host, .device = {kDLCPU, 0}, .ndim = 1,
                                       .dtype = {kDLFloat, 32, 1}, .shape = shape},
                         .deleter = count_deleter};
    deleted = 0;
    vki_tensor *imported = NULL;
    if (status_ok(vki_tensor_from_dlpack(ctx, &m, &imported), "vki_tensor_from_dlpack")) {
        assert_int_equal(deleted, 0);
        vki_tensor_destroy(imported);
        assert_int_equal(deleted, 1);
    }
    assert_true(deleted <= 1);
    DLManagedTensor *out = NULL;
    if (t->self && status_ok(vki_tensor_to_dlpack(t->self, &out), "vki_tensor_to_dlpack"))
        out->deleter(out);
    free(host);
}
#endif

/* The representative run; every step may fail, and the run goes on with what exists. */
static void scenario(void)
{
    lost_seen = 0;
    injection_on();
    vki_context *ctx = NULL;
    vki_status created = vki_context_create(NULL, &ctx);
    if (!status_ok(created, "vki_context_create")) {
        injection_off();
        /* A host allocation that fails while the device is chosen is out of host memory:
         * never "no device", which would also send AUTO to the CPU in silence. */
        if (fault_var && fault_kind == ARM_ALLOC)
            assert_int_equal(created, VKI_ERROR_OUT_OF_HOST_MEMORY);
        return;
    }
    if (!fault_var)
        expected_backend = vki_context_backend(ctx);
    else if (vki_context_backend(ctx) != expected_backend)
        fail_msg("with a %s fault at point %s the context fell back to another backend",
                 fault_var, fault_value);
    tensors t = {0};
    float grid[24], rows[12];
    for (int i = 0; i < 24; i++)
        grid[i] = (float)i;
    for (int i = 0; i < 12; i++)
        rows[i] = (float)(100 + i);
    struct { vki_tensor **t; vki_dtype dtype; int ndim; int64_t shape[2]; const void *host; size_t bytes; } make[] = {
        {&t.self, VKI_FLOAT32, 2, {6, 4}, grid, sizeof grid},
        {&t.src, VKI_FLOAT32, 2, {3, 4}, rows, sizeof rows},
        {&t.idx, VKI_INT64, 1, {3}, (int64_t[]){5, 0, 5}, 24},
        {&t.idx32, VKI_INT32, 1, {3}, (int32_t[]){2, 1, 2}, 12},
        {&t.bad, VKI_INT64, 1, {3}, (int64_t[]){1, 6, 2}, 24},
        {&t.out, VKI_FLOAT32, 2, {6, 4}, NULL, 0},
    };
    for (size_t i = 0; i < sizeof make / sizeof make[0]; i++) {
        if (!status_ok(vki_tensor_create(ctx, make[i].dtype, make[i].ndim, make[i].shape, make[i].t),
                       "vki_tensor_create")) {
            *make[i].t = NULL;
            continue;
        }
        if (make[i].host && !status_ok(vki_tensor_upload(*make[i].t, make[i].host, make[i].bytes),
                                       "vki_tensor_upload"))
            continue;
    }
    if (t.self && !status_ok(vki_tensor_view(t.self, 2, (int64_t[]){3, 2}, (int64_t[]){8, 1}, 2, &t.view),
                             "vki_tensor_view"))
        t.view = NULL;
    if (t.self && t.src && t.idx)
        copy_step("in place", t.self, sizeof grid, VKI_OK, step_in_place, &t);
    if (t.self && t.src && t.idx32 && t.out)
        copy_step("out of place", t.out, sizeof grid, VKI_OK, step_out_of_place, &t);
    if (t.self && t.src && t.bad)
        copy_step("a bad index", t.self, sizeof grid, VKI_ERROR_INDEX, step_bad_index, &t);
    if (t.view && t.idx32)
        copy_step("aliasing", t.self, sizeof grid, VKI_OK, step_aliasing, &t);
    if (t.view) { /* strided transfers: the copy kernel */
        float six[6] = {-1, -2, -3, -4, -5, -6}, back[6];
        void *before = snapshot(t.self, sizeof grid);
        vki_status st = vki_tensor_upload(t.view, six, sizeof six);
        if (!status_ok(st, "a strided upload") && st != VKI_ERROR_DEVICE_LOST && before) {
            void *after = snapshot(t.self, sizeof grid);
            if (after && memcmp(before, after, sizeof grid))
                fail_msg("a failed upload changed the tensor (%s fault at point %s)", fault_var,
                         fault_value);
            free(after);
        }
        free(before);
        (void)status_ok(vki_tensor_download(t.view, back, sizeof back), "a strided download");
    }
    if (t.self && t.src && t.idx && t.bad && status_ok(vki_batch_begin(ctx), "vki_batch_begin")) {
        (void)status_ok(vki_index_copy_(t.self, 0, t.idx, t.src), "a batch call");
        (void)vki_index_copy_(t.self, 0, t.bad, t.src);
        (void)status_ok(vki_index_copy(t.out, t.self, 0, t.idx, t.src), "a batch call");
        vki_status st = vki_batch_end(ctx);
        if (st != VKI_ERROR_INDEX)
            (void)status_ok(st, "vki_batch_end");
    }
    if (t.src && t.idx)
        host_memory_step(ctx, &t);
#ifdef VKI_TEST_DLPACK
    dlpack_step(ctx, &t);
#endif
    injection_off();

    /* Afterwards: a lost context says so at once; any other works. */
    vki_context *check = ctx;
    if (lost_seen && vki_context_backend(ctx) == VKI_BACKEND_VULKAN) {
        vki_tensor *x = NULL;
        vki_status st = vki_tensor_create(ctx, VKI_FLOAT32, 1, (int64_t[]){4}, &x);
        if (st == VKI_OK && t.self && t.src && t.idx)
            st = vki_index_copy_(t.self, 0, t.idx, t.src);
        if (st != VKI_ERROR_DEVICE_LOST)
            fail_msg("a call on a lost context returned %s", vki_status_string(st));
        vki_tensor_destroy(x);
        OK(vki_context_create(NULL, &check));
    }
    vki_tensor *a = make_tensor(check, VKI_FLOAT32, 2, (int64_t[]){4, 2}, (float[8]){0});
    vki_tensor *b = make_tensor(check, VKI_FLOAT32, 2, (int64_t[]){1, 2}, (float[]){7, 8});
    vki_tensor *i = make_tensor(check, VKI_INT64, 1, (int64_t[]){1}, (int64_t[]){3});
    OK(vki_index_copy_(a, 0, i, b));
    float got[8];
    OK(vki_tensor_download(a, got, sizeof got));
    assert_memory_equal(got, ((float[]){0, 0, 0, 0, 0, 0, 7, 8}), sizeof got);
    vki_tensor_destroy(a);
    vki_tensor_destroy(b);
    vki_tensor_destroy(i);
    if (check != ctx)
        vki_context_destroy(check);

    vki_tensor *all[] = {t.view, t.self, t.src, t.idx, t.idx32, t.bad, t.out};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        vki_tensor_destroy(all[k]);
    vki_context_destroy(ctx);
}

/* Runs the scenario once per point of the kind armed (var names it in messages). */
static void walk_scenario(const char *var, int kind, void (*run)(void))
{
    fault_var = NULL;
    long long alloc = 0, vulkan = 0;
    vki_fault_reset();
    run();
    vki_fault_points(&alloc, &vulkan);
    const bool vulkan_points = kind != ARM_ALLOC;
    const long long points = vulkan_points ? vulkan : alloc;
    if (vulkan_points && vulkan == 0) {
        printf("# %s: no Vulkan calls on this backend\n", var);
        return;
    }
    assert_true(points > 0);
    int runs_with_failures = 0;
    const char *only = getenv("VKI_TEST_POINT");
    const long long first = only && *only ? atoll(only) : 1, last = only && *only ? first : points;
    for (long long n = first; n <= last; n++) {
        fault_var = var;
        fault_kind = kind;
        fault_point = n;
        snprintf(fault_value, sizeof fault_value, "%lld", n);
        failures_seen = 0;
        vki_fault_reset();
        run();
        runs_with_failures += failures_seen > 0;
    }
    fault_var = NULL;
    printf("# %s: %lld points walked, %d runs saw a failure\n", var, points, runs_with_failures);
    fflush(stdout);
}

static void walk(const char *var, int kind)
{
    walk_scenario(var, kind, scenario);
}

static void host_allocations(void **state)
{
    (void)state;
    walk("allocation", ARM_ALLOC);
}

static void vulkan_calls(void **state)
{
    (void)state;
    walk("Vulkan call", ARM_VULKAN);
}

static void device_loss(void **state)
{
    (void)state;
    walk("device loss", ARM_DEVICE_LOST);
}

/* A wait that fails loses the context, but the call returns only once its submission is over:
 * after it, the device writes nothing more (the host memory it wrote is the application's
 * again). The call is large enough to be still running when a wait fails at once, and it
 * writes host memory in place, which the test reads the moment the call returns. */
static void lost_wait_leaves_nothing_running(void **state)
{
    (void)state;
    enum { ROWS = 8192, COLS = 256, BLOCK = 65536 };
    const size_t bytes = (size_t)ROWS * COLS * sizeof(float);
    float *host = aligned_alloc(BLOCK, bytes), *rows = malloc(bytes), *want = malloc(bytes);
    int64_t *order = malloc(ROWS * sizeof *order);
    for (int64_t i = 0; i < ROWS; i++)
        order[i] = (i * 4099) % ROWS; /* every row once, out of order */
    for (size_t k = 0; k < (size_t)ROWS * COLS; k++)
        rows[k] = (float)k;
    for (int64_t i = 0; i < ROWS; i++)
        memcpy(want + order[i] * COLS, rows + i * COLS, COLS * sizeof(float));
    bool found = false, skipped = false;
    for (long long n = 1; !found && !skipped; n++) {
        vki_context *ctx = NULL;
        OK(vki_context_create(NULL, &ctx));
        if (vki_context_backend(ctx) != VKI_BACKEND_VULKAN) { /* nothing runs behind it */
            vki_context_destroy(ctx);
            skipped = true;
            break;
        }
        vki_tensor *src = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){ROWS, COLS}, rows);
        vki_tensor *idx = make_tensor(ctx, VKI_INT64, 1, (int64_t[]){ROWS}, order);
        vki_tensor *self = NULL;
        memset(host, 0, bytes);
        vki_status st = vki_tensor_wrap_host(ctx, host, bytes, VKI_FLOAT32, 2,
                                             (int64_t[]){ROWS, COLS}, NULL, &self);
        if (st == VKI_ERROR_UNSUPPORTED) { /* no host memory in place on this device */
            vki_tensor_destroy(src);
            vki_tensor_destroy(idx);
            vki_context_destroy(ctx);
            skipped = true;
            break;
        }
        OK(st);
        vki_fault_reset();
        vki_fault_arm(ARM_DEVICE_LOST, n);
        st = vki_index_copy_(self, 0, idx, src);
        vki_fault_arm(ARM_DEVICE_LOST, 0);
        if (st == VKI_ERROR_DEVICE_LOST && strstr(vki_last_error(), "vkWaitForFences")) {
            found = true;
            if (memcmp(host, want, bytes))
                fail_msg("the call returned with the device still writing (point %lld)", n);
            assert_string_equal(vki_last_error(),
                                "vkWaitForFences failed with VK_ERROR_DEVICE_LOST after the work "
                                "was submitted: the call may have been carried out in part, the "
                                "tensors it writes are undefined, and the context can no longer "
                                "be used");
            vki_tensor *x = NULL; /* and every later call says so at once */
            assert_int_equal(vki_tensor_create(ctx, VKI_FLOAT32, 1, (int64_t[]){1}, &x),
                             VKI_ERROR_DEVICE_LOST);
            assert_string_equal(vki_last_error(),
                                "vki_tensor_create: the Vulkan device of this context is lost "
                                "(vkWaitForFences failed with VK_ERROR_DEVICE_LOST after the work "
                                "was submitted); destroy the context and its tensors, and create "
                                "a new one");
        } else if (st == VKI_OK) {
            fail_msg("the call passed no failing wait (%lld points)", n - 1);
        }
        vki_tensor_destroy(self);
        vki_tensor_destroy(src);
        vki_tensor_destroy(idx);
        vki_context_destroy(ctx);
    }
    free(order);
    free(want);
    free(rows);
    free(host);
    if (skipped)
        skip();
}

#ifdef VKI_TEST_INTEROP
#include "vkapp.h"

/* The application of the interop scenario, made once with injection off: its device with the
 * recommended features, and its buffers (self [64, 4] f32, a source [2, 4] and [40, 4], an
 * index of 2 and one of 40, all valid). */
static vkapp app;
static vkapp_buffer app_buf[5];
static const int64_t app_shapes[5][2] = {{64, 4}, {2, 4}, {40, 4}, {2, 1}, {40, 1}};

static void app_setup(void)
{
    const char *backend = getenv("VKI_BACKEND");
    if (backend && !strcmp(backend, "cpu")) /* the walk of the Vulkan configuration does it */
        skip();
    if (vkapp_create(&app, true) != VK_SUCCESS)
        skip();
    for (int i = 0; i < 5; i++) {
        assert_int_equal(vkapp_buffer_create(&app, 1024, true, &app_buf[i]), VK_SUCCESS);
        memset(app_buf[i].mapped, 0, 1024);
    }
    int64_t *idx = app_buf[4].mapped;
    for (int i = 0; i < 40; i++)
        idx[i] = (i * 7) % 64;
    ((int64_t *)app_buf[3].mapped)[1] = 5;
}

static void app_teardown(void)
{
    for (int i = 0; i < 5; i++)
        vkapp_buffer_destroy(&app, &app_buf[i]);
    const int messages = app.messages;
    vkapp_destroy(&app);
    assert_int_equal(messages, 0);
}

/* An application's life with vkindex: import, wrap, record a fused and a checked operation,
 * submit, check, release, destroy. Every failure must be a clean status; what a failed call
 * would have recorded is not there (the validation layer sees the submission). */
static void interop_scenario(void)
{
    vki_vulkan_device dev = vkapp_device(&app);
    vki_context *ctx = NULL;
    vki_tensor *t[5] = {NULL};
    injection_on();
    bool ok = status_ok(vki_context_create_vulkan(&dev, NULL, &ctx), "vki_context_create_vulkan");
    for (int i = 0; i < 5 && ok; i++)
        ok = status_ok(vki_tensor_wrap_buffer(ctx, app_buf[i].buffer, 0, 1024,
                                              i < 3 ? VKI_FLOAT32 : VKI_INT64, i < 3 ? 2 : 1,
                                              app_shapes[i], NULL, &t[i]),
                       "vki_tensor_wrap_buffer");
    if (ok) {
        injection_off();
        assert_int_equal(vkapp_begin(&app), VK_SUCCESS);
        injection_on();
        status_ok(vki_cmd_index_copy_(app.cmd, t[0], 0, t[3], t[1]), "vki_cmd_index_copy_");
        status_ok(vki_cmd_index_copy_(app.cmd, t[0], 0, t[4], t[2]), "vki_cmd_index_copy_");
        injection_off();
        vkapp_barrier(&app, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                      VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
        assert_int_equal(vkEndCommandBuffer(app.cmd), VK_SUCCESS);
        assert_int_equal(vkapp_submit_wait(&app), VK_SUCCESS);
        injection_on();
        status_ok(vki_cmd_check(ctx, app.cmd), "vki_cmd_check"); /* the indices are valid */
        vki_cmd_release(ctx, app.cmd);
    }
    for (int i = 0; i < 5; i++)
        vki_tensor_destroy(t[i]);
    vki_context_destroy(ctx);
    injection_off();
}

static void interop_allocations(void **state)
{
    (void)state;
    app_setup();
    walk_scenario("allocation", ARM_ALLOC, interop_scenario);
    app_teardown();
}

static void interop_vulkan_calls(void **state)
{
    (void)state;
    app_setup();
    walk_scenario("Vulkan call", ARM_VULKAN, interop_scenario);
    app_teardown();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_allocations),
        cmocka_unit_test(vulkan_calls),
        cmocka_unit_test(device_loss),
        cmocka_unit_test(lost_wait_leaves_nothing_running),
#ifdef VKI_TEST_INTEROP
        cmocka_unit_test(interop_allocations),
        cmocka_unit_test(interop_vulkan_calls),
#endif
    };
    const char *only = getenv("VKI_TEST_ONLY");
    if (only && *only)
        cmocka_set_test_filter(only);
    if (cmocka_run_group_tests(tests, NULL, NULL) == 0)
        return 0;
    /* A failed check leaves its run half way, so what the run made is never destroyed: end
     * before the sanitizer's leak report, which would push the failure out of the log's tail. */
    if (fault_var)
        printf("# the failing run: %s fault at point %s (VKI_TEST_POINT=%s replays it alone)\n",
               fault_var, fault_value, fault_value);
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}
