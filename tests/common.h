/*
 * Helpers shared by the test programs: the context under test (chosen by the environment,
 * so one program runs on every backend), a seeded generator, and tensor shorthands.
 */
#ifndef VKI_TESTS_COMMON_H
#define VKI_TESTS_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vkindex.h"
#include "rng.h" /* the seeded generator (tests/harness/, shared with vkindex-bench) */

/* Fails the current test with the call's status and message unless it returns VKI_OK. */
#define OK(call)                                                                               \
    do {                                                                                       \
        vki_status st_ = (call);                                                               \
        if (st_ != VKI_OK)                                                                     \
            fail_msg("%s -> %s: %s", #call, vki_status_string(st_), vki_last_error());         \
    } while (0)

/* The context under test: VKI_BACKEND / VKI_DEVICE / VKI_VALIDATION pick it. */
vki_context *test_context(void);
void test_context_release(void);
/* A context of its own, made with the environment variable `name` set to `value` (then put
 * back): for the testing knobs of the Vulkan backend (README). */
vki_context *test_context_with(const char *name, const char *value);
/* A cmocka teardown: a test that failed with a batch open on the context under test must not
 * leave it open for the tests after it. */
int test_close_batch(void **state);

/* A tensor of the given shape filled from host data (bytes must match). */
vki_tensor *make_tensor(vki_context *ctx, vki_dtype dtype, int ndim, const int64_t *shape,
                        const void *host);
/* The whole storage of t as bytes (a 1-d Byte view over it is not possible across dtypes, so
 * this downloads a 1-d view of the storage in t's dtype). */
void download_storage(vki_tensor *base, int64_t storage_elems, void *host);

/* The value of an environment variable (a copy, or NULL when unset), and putting it back:
 * tests that change the environment leave it as they found it. */
char *test_env_save(const char *name);
void test_env_restore(const char *name, char *saved); /* frees saved */

/* Seed from argv ("--seed N") or the clock; printed so a failure can be replayed. */
uint64_t test_seed(int argc, char **argv, const char *program);
int64_t test_arg(int argc, char **argv, const char *name, int64_t fallback);

#endif
