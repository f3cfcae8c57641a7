/*
 * Copies whose destination is not going to be read soon: non-temporal stores send whole
 * cache lines to memory without reading them first or evicting what the caches hold. On
 * x86-64 (SSE2, always there) they are 16-byte streaming stores; elsewhere plain memcpy.
 */
#ifndef VKI_CPU_STREAM_H
#define VKI_CPU_STREAM_H

#include <stddef.h>

/* dst = src, bytes of them, with non-temporal stores for the whole 64-byte lines of dst (the
 * ragged ends by memcpy). The stores are weakly ordered: vki_stream_fence before another
 * thread may read dst. */
void vki_copy_stream(void *dst, const void *src, size_t bytes);
void vki_stream_fence(void);

#endif
