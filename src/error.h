/*
 * Failures: the thread-local message behind vki_last_error(), and the CHECK macro of the
 * argument checks. This is the bottom of the library: the front door and both backends report
 * through it, and it calls nothing of vkindex.
 */
#ifndef VKI_ERROR_H
#define VKI_ERROR_H

#include "vkindex.h"

/* Records the message of a failure for vki_last_error() and returns status. */
vki_status vki_fail(vki_status status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Puts "fn: " in front of the message of the failure just recorded and returns status: the
 * API call that a backend's own message (which never names one) happened in. */
vki_status vki_fail_in(const char *fn, vki_status status);

/* Returns vki_fail(status, ...) from the calling function when cond is false. */
#define VKI_CHECK(cond, status, ...)                                                           \
    do {                                                                                       \
        if (!(cond))                                                                           \
            return vki_fail(status, __VA_ARGS__);                                              \
    } while (0)

#endif
