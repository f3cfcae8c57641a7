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

/* The copy bound's methods: on Vulkan 0 is a trivial 16-byte-word copy shader and 1
 * vkCmdCopyBuffer; on the CPU 0 is memcpy and 1 a copy with non-temporal stores, split over the
 * context's threads like its own copies. dst = src over the whole storage of two contiguous
 * tensors of the same size. vki_internal_bound_name: the method's name, NULL past the last. */
const char *vki_internal_bound_name(const vki_context *ctx, int method);
vki_status vki_internal_bound_copy(vki_tensor *dst, const vki_tensor *src, int method);

/* Commands the context has recorded into its own command buffers so far (zeros on a backend
 * without any): the benchmark's per-call counts are differences of two readings. */
typedef struct vki_internal_counts {
    int64_t submissions, dispatches, barriers, fills, copies;
} vki_internal_counts;
void vki_internal_counts_get(const vki_context *ctx, vki_internal_counts *out);

/* GPU time in nanoseconds of the context's last submission (timestamps around all its
 * commands); a negative value when the backend has no timestamps (the CPU backend). */
double vki_internal_last_kernel_ns(const vki_context *ctx);

/* vkindex-info's report (built with the Vulkan backend only, VKI_HAVE_VULKAN): lists the
 * Vulkan devices with type, driver, API version and the features vkindex uses, marks the one
 * AUTO picks, or says why AUTO would choose the CPU backend. */
void vki_vulkan_report(FILE *out);

#endif
