/*
 * vkindex-demo: the README's first command. Picks the best backend as AUTO does, prints it and
 * the device, runs one index_copy_ and prints the result next to what PyTorch gives.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vkindex.h"

#define TRY(call)                                                                              \
    do {                                                                                       \
        vki_status st_ = (call);                                                               \
        if (st_ != VKI_OK) {                                                                   \
            fprintf(stderr, "%s failed: %s: %s\n", #call, vki_status_string(st_),              \
                    vki_last_error());                                                         \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)

int main(void)
{
    vki_context *ctx;
    TRY(vki_context_create(NULL, &ctx));
    printf("backend: %s\n", vki_context_backend(ctx) == VKI_BACKEND_VULKAN ? "vulkan" : "cpu");
    printf("device:  %s\n", vki_context_device_name(ctx));

    /* self = zeros(5, 3); self.index_copy_(0, tensor([4, 0, 2]), arange(9).view(3, 3)) */
    const int64_t self_shape[] = {5, 3}, src_shape[] = {3, 3}, idx_shape[] = {3};
    float self_host[15] = {0}, src_host[9];
    for (int i = 0; i < 9; i++)
        src_host[i] = (float)i;
    const int64_t idx_host[] = {4, 0, 2};
    vki_tensor *self, *source, *index;
    TRY(vki_tensor_create(ctx, VKI_FLOAT32, 2, self_shape, &self));
    TRY(vki_tensor_create(ctx, VKI_FLOAT32, 2, src_shape, &source));
    TRY(vki_tensor_create(ctx, VKI_INT64, 1, idx_shape, &index));
    TRY(vki_tensor_upload(self, self_host, sizeof self_host));
    TRY(vki_tensor_upload(source, src_host, sizeof src_host));
    TRY(vki_tensor_upload(index, idx_host, sizeof idx_host));
    TRY(vki_index_copy_(self, 0, index, source));
    TRY(vki_tensor_download(self, self_host, sizeof self_host));

    printf("zeros(5, 3).index_copy_(0, tensor([4, 0, 2]), arange(9.).view(3, 3)) =\n");
    for (int r = 0; r < 5; r++)
        printf("  [%g, %g, %g]\n", self_host[3 * r], self_host[3 * r + 1], self_host[3 * r + 2]);
    const float expected[15] = {3, 4, 5, 0, 0, 0, 6, 7, 8, 0, 0, 0, 0, 1, 2};
    int ok = 1;
    for (int i = 0; i < 15; i++)
        ok &= self_host[i] == expected[i];
    printf("%s\n", ok ? "matches PyTorch" : "DOES NOT MATCH PyTorch");
    vki_tensor_destroy(self);
    vki_tensor_destroy(source);
    vki_tensor_destroy(index);
    vki_context_destroy(ctx);
    return ok ? 0 : 1;
}
