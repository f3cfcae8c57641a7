/*
 * vkindex-info: the Vulkan devices vkindex sees, with type, driver, API version and the
 * features it uses; the device AUTO picks, or why AUTO would use the CPU backend; and what a
 * context created with the current environment (VKI_BACKEND, VKI_DEVICE) gets.
 */
#include <stdio.h>

#include "vkindex.h"
#ifdef VKI_HAVE_VULKAN
#include "introspect.h"
#endif

int main(void)
{
    printf("vkindex %s (library version number %u)\n", VKI_VERSION_STRING, vki_version());
#ifdef VKI_HAVE_VULKAN
    vki_vulkan_report(stdout);
#else
    printf("This build has no Vulkan backend (-Dvulkan=disabled): AUTO gives the CPU backend.\n");
#endif
    vki_context *ctx;
    vki_status st = vki_context_create(NULL, &ctx);
    if (st != VKI_OK) {
        printf("A context with the current environment fails: %s: %s\n", vki_status_string(st),
               vki_last_error());
        return 1;
    }
    printf("A context with the current environment uses: %s backend, device \"%s\"\n",
           vki_context_backend(ctx) == VKI_BACKEND_VULKAN ? "vulkan" : "cpu",
           vki_context_device_name(ctx));
    vki_context_destroy(ctx);
    return 0;
}
