/*
 * The one seam through which the tools (vkindex-bench, vkindex-info) reach the library's
 * internals: linked from the static library, not part of the public API and not exported
 * from the shared library.
 */
#ifndef VKI_INTROSPECT_H
#define VKI_INTROSPECT_H

#include <stdio.h>
#include "vkindex.h"

/* dst = src elementwise with the backend's own copy (on Vulkan the 16-byte-vector copy
 * kernel): the streaming-copy bound of the benchmark. Same shape and dtype, no overlap. */
vki_status vki_internal_copy(vki_tensor *dst, const vki_tensor *src);

/* GPU time in nanoseconds of the context's last submission (timestamps around all its
 * commands); a negative value when the backend has no timestamps (the CPU backend). */
double vki_internal_last_kernel_ns(const vki_context *ctx);

/* vkindex-info's report (built with the Vulkan backend only, VKI_HAVE_VULKAN): lists the
 * Vulkan devices with type, driver, API version and the features vkindex uses, marks the one
 * AUTO picks, or says why AUTO would choose the CPU backend. */
void vki_vulkan_report(FILE *out);

#endif
