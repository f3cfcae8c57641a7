/*
 * Threads: 8 threads, each with contexts of its own (with and without the validation layer,
 * created and destroyed in different orders), run seeded sequences of calls; every result must
 * equal the same sequence run on one thread. The ThreadSanitizer build of CI runs this program:
 * contexts must share nothing unsynchronised.
 */
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 8, ROWS = 32, COLS = 24, CALLS = 12 };

typedef struct job {
    int id;
    float result[ROWS * COLS];
    vki_status st;
    char message[512];
} job;

/* The sequence of thread `id` on a context: CALLS index_copy_ of seeded rows and columns. */
static vki_status run_sequence(vki_context *ctx, int id, float *result)
{
    test_rng r = {0x5EED0000u + (uint64_t)id};
    float self_host[ROWS * COLS], src_host[ROWS * COLS];
    for (int i = 0; i < ROWS * COLS; i++)
        self_host[i] = (float)(id * 1000 + i);
    vki_tensor *self = NULL;
    vki_status st = vki_tensor_create(ctx, VKI_FLOAT32, 2, (int64_t[]){ROWS, COLS}, &self);
    if (st == VKI_OK)
        st = vki_tensor_upload(self, self_host, sizeof self_host);
    for (int c = 0; c < CALLS && st == VKI_OK; c++) {
        const int dim = (int)rng_below(&r, 2);
        const int64_t n = 1 + rng_below(&r, 8), size = dim == 0 ? ROWS : COLS;
        const int64_t src_shape[2] = {dim == 0 ? n : ROWS, dim == 0 ? COLS : n};
        int64_t idx[8];
        for (int64_t i = 0; i < n; i++)
            idx[i] = rng_below(&r, size);
        for (int64_t i = 0; i < src_shape[0] * src_shape[1]; i++)
            src_host[i] = (float)(c * 100 + i + id);
        vki_tensor *src = NULL, *index = NULL;
        st = vki_tensor_create(ctx, VKI_FLOAT32, 2, src_shape, &src);
        if (st == VKI_OK)
            st = vki_tensor_upload(src, src_host, (size_t)(src_shape[0] * src_shape[1]) * sizeof(float));
        if (st == VKI_OK)
            st = vki_tensor_create(ctx, VKI_INT64, 1, &n, &index);
        if (st == VKI_OK)
            st = vki_tensor_upload(index, idx, (size_t)n * sizeof *idx);
        if (st == VKI_OK)
            st = vki_index_copy_(self, dim, index, src);
        vki_tensor_destroy(src);
        vki_tensor_destroy(index);
    }
    if (st == VKI_OK)
        st = vki_tensor_download(self, result, sizeof(float) * ROWS * COLS);
    vki_tensor_destroy(self);
    return st;
}

static void *thread_main(void *arg)
{
    job *j = arg;
    /* Two contexts per thread, one with validation: made in one order, destroyed in the order
     * the thread's id picks; the sequence runs on the second. */
    vki_context *a = NULL, *b = NULL;
    vki_context_options with = {.validation = 1}, without = {.validation = 0};
    j->st = vki_context_create(j->id % 2 ? &with : &without, &a);
    if (j->st == VKI_OK)
        j->st = vki_context_create(j->id % 2 ? &without : &with, &b);
    if (j->st == VKI_OK && j->id % 4 < 2) {
        vki_context_destroy(a);
        a = NULL;
    }
    if (j->st == VKI_OK)
        j->st = run_sequence(b, j->id, j->result);
    if (j->st != VKI_OK)
        snprintf(j->message, sizeof j->message, "%s", vki_last_error());
    vki_context_destroy(b);
    vki_context_destroy(a);
    return NULL;
}

static void threads_equal_one_thread(void **state)
{
    (void)state;
    static job jobs[THREADS];
    pthread_t th[THREADS];
    char *saved = test_env_save("VKI_VALIDATION"); /* options decide, not the suite's default */
    unsetenv("VKI_VALIDATION");
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){.id = t};
        assert_int_equal(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    test_env_restore("VKI_VALIDATION", saved);
    vki_context *ctx = test_context();
    for (int t = 0; t < THREADS; t++) {
        if (jobs[t].st != VKI_OK)
            fail_msg("thread %d: %s: %s", t, vki_status_string(jobs[t].st), jobs[t].message);
        float sequential[ROWS * COLS];
        OK(run_sequence(ctx, t, sequential));
        if (memcmp(sequential, jobs[t].result, sizeof sequential))
            fail_msg("thread %d: its result differs from the same calls on one thread", t);
    }
}

int main(int argc, char **argv)
{
    (void)test_seed(argc, argv, "test_threads");
    /* Tests that make contexts of their own follow the suite too: a device that must refuse
     * the forced 64-bit offsets has the whole program skip (see test_context). */
    (void)test_context();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_equal_one_thread),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
