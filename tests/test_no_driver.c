/*
 * Run with no Vulkan driver reachable (meson sets VK_DRIVER_FILES / VK_ICD_FILENAMES to a
 * file that does not exist): AUTO quietly gives the CPU backend, VULKAN gives
 * VKI_ERROR_NO_DEVICE and says why.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static void auto_falls_back_to_cpu(void **state)
{
    (void)state;
    vki_context *ctx = NULL;
    OK(vki_context_create(NULL, &ctx));
    assert_int_equal(vki_context_backend(ctx), VKI_BACKEND_CPU);
    assert_string_equal(vki_context_device_name(ctx), "cpu");
    vki_context_destroy(ctx);
}

static void vulkan_required_fails(void **state)
{
    (void)state;
    vki_context *ctx = NULL;
    vki_context_options o = {.backend = VKI_BACKEND_VULKAN};
    assert_int_equal(vki_context_create(&o, &ctx), VKI_ERROR_NO_DEVICE);
    assert_null(ctx);
    const char *msg = vki_last_error();
    if (!strstr(msg, "no Vulkan driver") && !strstr(msg, "no Vulkan device") &&
        !strstr(msg, "has no Vulkan backend"))
        fail_msg("the message does not say why: %s", msg);
    /* A named device asks for Vulkan too. */
    o = (vki_context_options){.device = "llvmpipe"};
    assert_int_equal(vki_context_create(&o, &ctx), VKI_ERROR_NO_DEVICE);
    setenv("VKI_BACKEND", "vulkan", 1);
    assert_int_equal(vki_context_create(NULL, &ctx), VKI_ERROR_NO_DEVICE);
    unsetenv("VKI_BACKEND");
}

int main(void)
{
    unsetenv("VKI_BACKEND");
    unsetenv("VKI_DEVICE");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auto_falls_back_to_cpu),
        cmocka_unit_test(vulkan_required_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
