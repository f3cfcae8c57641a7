/* The header for Vulkan applications compiles on its own as strict C11 (and as C++ through
 * test_header_vulkan.cpp's include of this file), and its declarations are usable. */
#include "vkindex_vulkan.h"

#include <stdarg.h>
#include <string.h>
#include <stddef.h>
#include <setjmp.h>
#ifdef __cplusplus
extern "C" {
#endif
#include <cmocka.h>
#ifdef __cplusplus
}
#endif

static void header_alone(void **state)
{
    (void)state;
    vki_vulkan_device dev;
    memset(&dev, 0, sizeof dev);
    vki_vulkan_features features;
    (void)features;
    assert_null(dev.enabled_features);
    vki_status (*record)(VkCommandBuffer, vki_tensor *, int64_t, const vki_tensor *,
                         const vki_tensor *) = vki_cmd_index_copy_;
    assert_non_null(record);
    assert_int_equal(vki_cmd_check(NULL, VK_NULL_HANDLE), VKI_ERROR_INVALID_ARGUMENT);
    assert_int_equal(vki_context_create_vulkan(&dev, NULL, NULL), VKI_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(header_alone)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
