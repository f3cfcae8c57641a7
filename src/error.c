/*
 * The message of the last failure (one per thread), and the status names.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[2048];

vki_status vki_fail(vki_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

vki_status vki_fail_in(const char *fn, vki_status status)
{
    char message[sizeof last_error];
    memcpy(message, last_error, sizeof message);
    return vki_fail(status, "%s: %s", fn, message);
}

const char *vki_last_error(void)
{
    return last_error;
}

const char *vki_status_string(vki_status s)
{
    switch (s) {
    case VKI_OK: return "VKI_OK";
    case VKI_ERROR_INVALID_ARGUMENT: return "VKI_ERROR_INVALID_ARGUMENT";
    case VKI_ERROR_INDEX: return "VKI_ERROR_INDEX";
    case VKI_ERROR_OUT_OF_HOST_MEMORY: return "VKI_ERROR_OUT_OF_HOST_MEMORY";
    case VKI_ERROR_OUT_OF_DEVICE_MEMORY: return "VKI_ERROR_OUT_OF_DEVICE_MEMORY";
    case VKI_ERROR_NO_DEVICE: return "VKI_ERROR_NO_DEVICE";
    case VKI_ERROR_UNSUPPORTED: return "VKI_ERROR_UNSUPPORTED";
    case VKI_ERROR_DEVICE_LOST: return "VKI_ERROR_DEVICE_LOST";
    case VKI_ERROR_VULKAN: return "VKI_ERROR_VULKAN";
    }
    return "VKI_ERROR_UNKNOWN";
}
