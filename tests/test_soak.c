/*
 * Soak (meson suite 'soak', not in the default run): random calls for VKI_SOAK_SECONDS
 * (default 60) on the backend under test - tensors made and destroyed, uploads and downloads of
 * strided views, index_copy in and out of place with repeats and bad indices, batches - with
 * every result checked against a host model, while the process's resident memory must stay
 * flat: after a warm-up it may not grow by more than 32 MiB.
 *   meson test -C build --suite soak        VKI_SOAK_SECONDS=600 for a longer run
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long resident_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

enum { ROWS = 64, COLS = 48 };

/* One round: a fresh self, a few calls (some batched, one with a bad index), checked. */
static void round_of_calls(vki_context *ctx, test_rng *r)
{
    static float model[ROWS * COLS], got[ROWS * COLS], src[ROWS * COLS];
    for (int i = 0; i < ROWS * COLS; i++)
        model[i] = (float)rng_below(r, 1000);
    vki_tensor *self = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){ROWS, COLS}, model);
    const bool batch = rng_below(r, 3) == 0;
    if (batch)
        OK(vki_batch_begin(ctx));
    bool bad_seen = false;
    const int calls = 1 + (int)rng_below(r, 6);
    for (int c = 0; c < calls; c++) {
        const int64_t n = 1 + rng_below(r, 40), cols = COLS;
        int64_t idx[40];
        for (int64_t i = 0; i < n; i++)
            idx[i] = rng_below(r, ROWS);
        const bool bad = rng_below(r, 10) == 0;
        if (bad)
            idx[rng_below(r, n)] = ROWS + rng_below(r, 5);
        for (int64_t i = 0; i < n * cols; i++)
            src[i] = (float)(c * 10000 + i);
        vki_tensor *s = make_tensor(ctx, VKI_FLOAT32, 2, (int64_t[]){n, cols}, src);
        vki_tensor *ix = make_tensor(ctx, VKI_INT64, 1, &n, idx);
        vki_status st = vki_index_copy_(self, 0, ix, s);
        vki_tensor_destroy(s);
        vki_tensor_destroy(ix);
        if (!batch)
            assert_int_equal(st, bad ? VKI_ERROR_INDEX : VKI_OK);
        else
            OK(st);
        if (!bad) /* a bad call writes nothing; in a batch the others still run */
            for (int64_t i = 0; i < n; i++)
                memcpy(&model[idx[i] * cols], &src[i * cols], sizeof(float) * (size_t)cols);
        bad_seen = bad_seen || bad;
    }
    if (batch)
        assert_int_equal(vki_batch_end(ctx), bad_seen ? VKI_ERROR_INDEX : VKI_OK);
    OK(vki_tensor_download(self, got, sizeof got));
    assert_memory_equal(got, model, sizeof got);
    /* A strided view round trip. */
    vki_tensor *view = NULL;
    OK(vki_tensor_view(self, 2, (int64_t[]){ROWS / 2, COLS / 3}, (int64_t[]){2 * COLS, 3}, 1, &view));
    float part[(ROWS / 2) * (COLS / 3)], back[(ROWS / 2) * (COLS / 3)];
    for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
        part[i] = (float)rng_below(r, 100);
    OK(vki_tensor_upload(view, part, sizeof part));
    OK(vki_tensor_download(view, back, sizeof back));
    assert_memory_equal(back, part, sizeof part);
    vki_tensor_destroy(view);
    vki_tensor_destroy(self);
}

static void memory_stays_flat(void **state)
{
    (void)state;
    const char *env = getenv("VKI_SOAK_SECONDS");
    const double seconds = env ? atof(env) : 60;
    vki_context *ctx = test_context();
    test_rng r = {(uint64_t)time(NULL)};
    const double start = now_s(), warm = start + seconds / 5;
    long base = 0, peak = 0, rounds = 0;
    while (now_s() < start + seconds) {
        round_of_calls(ctx, &r);
        rounds++;
        if (!base && now_s() >= warm)
            base = resident_kib();
        if (base && resident_kib() > peak)
            peak = resident_kib();
    }
    printf("# %ld rounds in %.0f s; resident memory after the warm-up %ld KiB, at most %ld KiB\n",
           rounds, seconds, base, peak);
    if (base && peak - base > 32 * 1024)
        fail_msg("resident memory grew by %ld KiB", peak - base);
}

int main(int argc, char **argv)
{
    (void)test_seed(argc, argv, "test_soak");
    const struct CMUnitTest tests[] = {cmocka_unit_test(memory_stays_flat)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    test_context_release();
    return failed;
}
