/* The public header compiles on its own as strict C11 (it is the first and only include of
 * vkindex here) and its declarations are usable. */
#include "vkindex.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void header_alone(void **state)
{
    (void)state;
    vki_context_options zero = {0};
    assert_int_equal(zero.backend, VKI_BACKEND_AUTO);
    assert_int_equal(VKI_MAX_DIMS >= 8, 1);
    assert_non_null(vki_status_string(VKI_OK));
    vki_status (*fn)(vki_tensor *, int64_t, const vki_tensor *, const vki_tensor *) =
        vki_index_copy_;
    assert_non_null(fn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(header_alone)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
