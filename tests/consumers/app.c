/* The program every consumer of the consumers suite builds (tests/consumers/run): from an
 * installed vkindex through pkg-config, CMake and meson, and with vkindex as a meson
 * subproject, each time with the README's own lines. It fails unless the header and the
 * library it runs with are one version (and the meson project's, VKINDEX_EXPECTED_VERSION,
 * when set), and one index_copy_ on the CPU backend gives PyTorch's result. */
#include <vkindex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, vki_status st)
{
    fprintf(stderr, "app: %s: %s: %s\n", what, vki_status_string(st), vki_last_error());
    return 1;
}

int main(void)
{
    char text[32];
    snprintf(text, sizeof text, "%d.%d.%d", VKI_VERSION_MAJOR, VKI_VERSION_MINOR,
             VKI_VERSION_PATCH);
    const char *expected = getenv("VKINDEX_EXPECTED_VERSION");
    if (vki_version() != VKI_VERSION || strcmp(text, VKI_VERSION_STRING) != 0 ||
        (expected && strcmp(expected, VKI_VERSION_STRING) != 0)) {
        fprintf(stderr, "app: versions differ: vki_version() %u, VKI_VERSION %d, macros %s, "
                "VKI_VERSION_STRING %s, expected %s\n", vki_version(), VKI_VERSION, text,
                VKI_VERSION_STRING, expected ? expected : "(not set)");
        return 1;
    }

    vki_context_options opts = {.backend = VKI_BACKEND_CPU, .threads = 1};
    vki_context *ctx;
    vki_status st = vki_context_create(&opts, &ctx);
    if (st != VKI_OK)
        return fail("vki_context_create", st);
    /* self = zeros(4, 2); self.index_copy_(0, tensor([3, 1]), tensor([[1, 2], [3, 4]])) */
    const int64_t self_shape[] = {4, 2}, source_shape[] = {2, 2}, n = 2;
    const float source_host[] = {1, 2, 3, 4};
    const int64_t index_host[] = {3, 1};
    const float want[] = {0, 0, 3, 4, 0, 0, 1, 2};
    float self_host[8] = {0};
    vki_tensor *self = NULL, *source = NULL, *index = NULL;
    if ((st = vki_tensor_create(ctx, VKI_FLOAT32, 2, self_shape, &self)) != VKI_OK ||
        (st = vki_tensor_create(ctx, VKI_FLOAT32, 2, source_shape, &source)) != VKI_OK ||
        (st = vki_tensor_create(ctx, VKI_INT64, 1, &n, &index)) != VKI_OK ||
        (st = vki_tensor_upload(self, self_host, sizeof self_host)) != VKI_OK ||
        (st = vki_tensor_upload(source, source_host, sizeof source_host)) != VKI_OK ||
        (st = vki_tensor_upload(index, index_host, sizeof index_host)) != VKI_OK ||
        (st = vki_index_copy_(self, 0, index, source)) != VKI_OK ||
        (st = vki_tensor_download(self, self_host, sizeof self_host)) != VKI_OK)
        return fail("index_copy_ on the CPU backend", st);
    int ok = memcmp(self_host, want, sizeof want) == 0;
    if (!ok)
        fprintf(stderr, "app: index_copy_ gave the wrong result\n");
    else
        printf("vkindex %s: index_copy_ on %s: ok\n", VKI_VERSION_STRING,
               vki_context_device_name(ctx));
    vki_tensor_destroy(index);
    vki_tensor_destroy(source);
    vki_tensor_destroy(self);
    vki_context_destroy(ctx);
    return ok ? 0 : 1;
}
