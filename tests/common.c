/* Helpers shared by the test programs (see common.h). */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static vki_context *shared_ctx;

/* The 'vulkan-off64' suites force 64-bit offsets (VKI_VULKAN_SPLIT=64). A device without
 * shaderInt64 must refuse them with VKI_ERROR_UNSUPPORTED and say why; the program then
 * skips (77). Any other outcome of the probe call is a failure. */
static void skip_unless_off64_works(vki_context *ctx)
{
    const char *split = getenv("VKI_VULKAN_SPLIT");
    if (!split || strcmp(split, "64") || vki_context_backend(ctx) != VKI_BACKEND_VULKAN)
        return;
    const int64_t one = 1, zero = 0;
    const float value = 1.0f;
    vki_tensor *self = NULL, *index = NULL, *source = NULL;
    vki_status st = vki_tensor_create(ctx, VKI_FLOAT32, 1, &one, &self);
    if (st == VKI_OK)
        st = vki_tensor_create(ctx, VKI_FLOAT32, 1, &one, &source);
    if (st == VKI_OK)
        st = vki_tensor_create(ctx, VKI_INT64, 1, &one, &index);
    if (st == VKI_OK)
        st = vki_tensor_upload(index, &zero, sizeof zero);
    if (st == VKI_OK)
        st = vki_tensor_upload(source, &value, sizeof value);
    if (st == VKI_OK)
        st = vki_index_copy_(self, 0, index, source);
    vki_tensor_destroy(self);
    vki_tensor_destroy(source);
    vki_tensor_destroy(index);
    if (st == VKI_OK)
        return;
    const char *want = "needs 64-bit offsets and this device has no shaderInt64";
    if (st == VKI_ERROR_UNSUPPORTED && strstr(vki_last_error(), want)) {
        fprintf(stderr, "SKIP: the device refuses 64-bit offsets as it should: %s\n", vki_last_error());
        vki_context_destroy(ctx);
        exit(77);
    }
    fprintf(stderr, "the 64-bit offset probe failed: %s: %s\n", vki_status_string(st), vki_last_error());
    exit(1);
}

vki_context *test_context(void)
{
    if (!shared_ctx) {
        vki_status st = vki_context_create(NULL, &shared_ctx);
        if (st == VKI_ERROR_NO_DEVICE) { /* a Vulkan suite on a machine without the device */
            fprintf(stderr, "SKIP: %s\n", vki_last_error());
            exit(77);
        }
        if (st != VKI_OK) {
            fprintf(stderr, "cannot create the context under test: %s: %s\n",
                    vki_status_string(st), vki_last_error());
            exit(1);
        }
        fprintf(stderr, "# backend %s, device %s\n",
                vki_context_backend(shared_ctx) == VKI_BACKEND_VULKAN ? "vulkan" : "cpu",
                vki_context_device_name(shared_ctx));
        skip_unless_off64_works(shared_ctx);
    }
    return shared_ctx;
}

vki_context *test_context_with(const char *name, const char *value)
{
    char *saved = test_env_save(name);
    setenv(name, value, 1);
    vki_context *ctx = NULL;
    vki_status st = vki_context_create(NULL, &ctx);
    test_env_restore(name, saved);
    OK(st);
    return ctx;
}

int test_close_batch(void **state)
{
    (void)state;
    if (shared_ctx)
        (void)vki_batch_end(shared_ctx); /* VKI_ERROR_INVALID_ARGUMENT when none is open */
    return 0;
}

void test_context_release(void)
{
    vki_context_destroy(shared_ctx);
    shared_ctx = NULL;
}

vki_tensor *make_tensor(vki_context *ctx, vki_dtype dtype, int ndim, const int64_t *shape,
                        const void *host)
{
    vki_tensor *t = NULL;
    OK(vki_tensor_create(ctx, dtype, ndim, shape, &t));
    if (host)
        OK(vki_tensor_upload(t, host, (size_t)vki_tensor_numel(t) * vki_dtype_size(dtype)));
    return t;
}

void download_storage(vki_tensor *base, int64_t storage_elems, void *host)
{
    vki_tensor *all = NULL;
    const int64_t one = 1;
    OK(vki_tensor_view(base, 1, &storage_elems, &one, 0, &all));
    OK(vki_tensor_download(all, host, (size_t)storage_elems * vki_dtype_size(vki_tensor_dtype(base))));
    vki_tensor_destroy(all);
}

int64_t test_arg(int argc, char **argv, const char *name, int64_t fallback)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return strtoll(argv[i + 1], NULL, 0);
    return fallback;
}

uint64_t test_seed(int argc, char **argv, const char *program)
{
    uint64_t seed = (uint64_t)test_arg(argc, argv, "--seed", 0);
    if (!seed) {
        const char *env = getenv("VKI_TEST_SEED");
        seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    }
    fprintf(stderr, "# %s: seed %llu (replay with --seed %llu)\n", program,
            (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

char *test_env_save(const char *name)
{
    const char *v = getenv(name);
    return v ? strdup(v) : NULL;
}

void test_env_restore(const char *name, char *saved)
{
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
    free(saved);
}
