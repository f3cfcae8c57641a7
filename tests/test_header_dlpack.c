/* The DLPack header compiles on its own as strict C11 (and as C++ through
 * test_header_dlpack.cpp's include of this file), and its declarations are usable. */
#include "vkindex_dlpack.h"

#include <stdarg.h>
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
    DLDataType type;
    type.code = kDLFloat;
    type.bits = 32;
    type.lanes = 1;
    vki_dtype dtype = VKI_BOOL;
    assert_int_equal(vki_dtype_from_dlpack(type, &dtype), VKI_OK);
    assert_int_equal(dtype, VKI_FLOAT32);
    assert_int_equal(vki_tensor_from_dlpack(NULL, NULL, NULL), VKI_ERROR_INVALID_ARGUMENT);
    assert_int_equal(vki_tensor_to_dlpack(NULL, NULL), VKI_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(header_alone)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
