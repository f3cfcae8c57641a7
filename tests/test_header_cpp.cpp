// The public header compiles as C++ and links with C linkage.
#include "vkindex.h"

#include <cstdarg>
#include <cstddef>
#include <csetjmp>
#include <cstring>
extern "C" {
#include <cmocka.h>
}

static void header_as_cpp(void **)
{
    vki_context_options opts{};
    opts.backend = VKI_BACKEND_CPU;
    vki_context *ctx = nullptr;
    assert_int_equal(vki_context_create(&opts, &ctx), VKI_OK);
    assert_string_equal(vki_context_device_name(ctx), "cpu");
    vki_context_destroy(ctx);
    assert_true(std::strcmp(vki_dtype_name(VKI_FLOAT32), "Float") == 0);
}

int main()
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(header_as_cpp)};
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
