/*
 * vkindex: PyTorch's Tensor.index_copy_(dim, index, source) on Vulkan GPUs and on the CPU.
 *
 * This is the only public header. It needs no Vulkan header and exports only vki_* symbols.
 *
 * Object model
 *   vki_context  one backend (CPU, or one Vulkan device) and everything created on it.
 *   vki_tensor   a strided view of a storage that lives on its context's backend. A tensor made
 *                by vki_tensor_create owns a new storage; vki_tensor_view makes another view of
 *                the same storage. Storages are reference counted: the storage lives as long as
 *                any view of it, so destroying a base tensor before its views is safe.
 *
 * Thread safety
 *   A context and the tensors made on it may be used by one thread at a time: calls that touch
 *   the same context must be serialised by the caller. A call that finds its context in use by
 *   another thread returns VKI_ERROR_INVALID_ARGUMENT and says so, having done nothing (the
 *   destroy functions, which return nothing, cannot report it: never race them). Different
 *   contexts are independent and may be used concurrently from different threads.
 *   vki_last_error() is per thread.
 *
 * Errors
 *   Every function that can fail returns a vki_status. On failure nothing visible has changed
 *   (no tensor written, no output handle set) and vki_last_error() returns a message for it.
 *   The one exception is VKI_ERROR_DEVICE_LOST: the device failed (or could not be waited for)
 *   after work was submitted, so the tensors that call writes are undefined, as after CUDA's
 *   sticky errors (though none of the call's work still runs once it has returned: host memory
 *   it wrote is the application's again). The context is then lost: every later call on it
 *   returns VKI_ERROR_DEVICE_LOST at once; destroy its tensors and the context, and make a new
 *   one.
 *   In a batch, a vki_batch_end (or a transfer, which submits the queued calls first) that
 *   fails with another status has run none of the calls queued since the last submission.
 *
 * Sizes and strides are 64-bit and counted in elements, never in bytes, except where a
 * parameter says "bytes".
 */
#ifndef VKINDEX_H
#define VKINDEX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(VKI_BUILDING_SHARED)
#define VKI_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define VKI_API __attribute__((visibility("default")))
#else
#define VKI_API
#endif

/* Library version: VKI_VERSION_MAJOR, _MINOR, _PATCH, _STRING and VKI_VERSION (the header's),
 * and vki_version() (the library's, as VKI_VERSION encodes it: major * 1000000 + minor * 1000
 * + patch). The shared library's soname is libvkindex.so.MAJOR: within one major version the
 * API and ABI only grow, so an application built against an older minor version runs on a
 * newer one; check vki_version() >= VKI_VERSION at start-up to catch the reverse. */
#include "vkindex_version.h"

/* The largest number of dimensions a tensor may have. */
#define VKI_MAX_DIMS 16

/* Result of every fallible call. Negative values are errors. */
typedef enum vki_status {
    VKI_OK = 0,
    VKI_ERROR_INVALID_ARGUMENT = -1,     /* PyTorch RuntimeError class: dtype, shape, overlap    */
    VKI_ERROR_INDEX = -2,                /* PyTorch IndexError class: dim, index rank/count/value */
    VKI_ERROR_OUT_OF_HOST_MEMORY = -3,
    VKI_ERROR_OUT_OF_DEVICE_MEMORY = -4,
    VKI_ERROR_NO_DEVICE = -5,            /* a Vulkan backend was required and none is usable     */
    VKI_ERROR_UNSUPPORTED = -6,          /* the request is valid but this build/device cannot do it */
    VKI_ERROR_DEVICE_LOST = -7,
    VKI_ERROR_VULKAN = -8                /* any other Vulkan failure; the message names the VkResult */
} vki_status;

/* Element types. The copy is bitwise, so every type is supported on every backend. The comment
 * gives PyTorch's name (used in messages) and the element size in bytes. */
typedef enum vki_dtype {
    VKI_BOOL,            /* Bool           1 */
    VKI_UINT8,           /* Byte           1 */
    VKI_INT8,            /* Char           1 */
    VKI_INT16,           /* Short          2 */
    VKI_UINT16,          /* UInt16         2 */
    VKI_INT32,           /* Int            4 */
    VKI_UINT32,          /* UInt32         4 */
    VKI_INT64,           /* Long           8 */
    VKI_UINT64,          /* UInt64         8 */
    VKI_FLOAT16,         /* Half           2 */
    VKI_BFLOAT16,        /* BFloat16       2 */
    VKI_FLOAT32,         /* Float          4 */
    VKI_FLOAT64,         /* Double         8 */
    VKI_COMPLEX32,       /* ComplexHalf    4 */
    VKI_COMPLEX64,       /* ComplexFloat   8 */
    VKI_COMPLEX128,      /* ComplexDouble 16 */
    VKI_FLOAT8_E4M3FN,   /* Float8_e4m3fn  1 */
    VKI_FLOAT8_E5M2      /* Float8_e5m2    1 */
} vki_dtype;

/* Number of dtypes above (one past the last). */
#define VKI_DTYPE_COUNT 18

typedef enum vki_backend {
    VKI_BACKEND_AUTO = 0,  /* the best hardware GPU, else the CPU backend               */
    VKI_BACKEND_CPU,       /* the native CPU backend                                     */
    VKI_BACKEND_VULKAN     /* a Vulkan device; VKI_ERROR_NO_DEVICE if none is usable     */
} vki_backend;

typedef struct vki_context vki_context;
typedef struct vki_tensor vki_tensor;

/* Options for vki_context_create. A zero-initialised struct (or NULL) means the defaults.
 * Fields left at zero are taken from the environment where a variable is named. */
typedef struct vki_context_options {
    /* Which backend. AUTO (0): env VKI_BACKEND ("auto", "cpu", "vulkan"), else the best
     * hardware GPU (discrete, then integrated, then virtual), else the CPU backend. Software
     * Vulkan devices (lavapipe, SwiftShader) are used only when asked for by VULKAN or by name. */
    vki_backend backend;
    /* Which Vulkan device. NULL: env VKI_DEVICE, else the best. "2": the device with that index
     * in enumeration order; anything else: a case-insensitive substring of the device name,
     * e.g. "llvmpipe" or "SwiftShader". Naming a device implies the Vulkan backend unless
     * backend is CPU. The string is copied; it need not outlive the call. */
    const char *device;
    /* 1: enable the Khronos validation layer (synchronization validation included), a
     * debugging mode: any error it reports fails the call that caused it with
     * VKI_ERROR_VULKAN before its work is submitted, and a message reported while a context is
     * destroyed (a Vulkan object left alive) aborts the process, since no call can return it.
     * 0: env VKI_VALIDATION=1 turns it on. Ignored by the CPU backend. */
    int validation;
    /* CPU backend worker threads, the calling thread included. 0: env VKI_THREADS, else one
     * per online core. 1: everything runs on the calling thread. */
    int threads;
} vki_context_options;

/* Creates a context. opts may be NULL (all defaults). On success *out receives the context;
 * on failure *out is left unchanged. Returns VKI_ERROR_NO_DEVICE when the Vulkan backend was
 * required (by options or environment) and no usable device matches; the message says why. */
VKI_API vki_status vki_context_create(const vki_context_options *opts, vki_context **out);

/* Releases the caller's reference to the context. NULL is fine. Tensors still alive keep the
 * context's resources alive; they are freed when the last tensor is destroyed. */
VKI_API void vki_context_destroy(vki_context *ctx);

/* The backend the context runs on: VKI_BACKEND_CPU or VKI_BACKEND_VULKAN (never AUTO).
 * Returns VKI_BACKEND_AUTO for a NULL context. */
VKI_API vki_backend vki_context_backend(const vki_context *ctx);

/* A human-readable device name: "cpu" for the CPU backend, the Vulkan device name otherwise.
 * The string lives as long as the context. Returns "" for a NULL context. */
VKI_API const char *vki_context_device_name(const vki_context *ctx);

/* Creates a contiguous (row-major) tensor of the given dtype and shape, uninitialised.
 * ndim is 0 (a scalar: shape may be NULL) to VKI_MAX_DIMS; every size must be >= 0. Strides are
 * PyTorch's contiguous strides (a size-0 dimension counts as 1). The tensor holds a reference
 * to ctx. Returns VKI_ERROR_INVALID_ARGUMENT for bad arguments or a byte size that overflows
 * 64 bits, VKI_ERROR_OUT_OF_HOST_MEMORY / VKI_ERROR_OUT_OF_DEVICE_MEMORY when allocation fails. */
VKI_API vki_status vki_tensor_create(vki_context *ctx, vki_dtype dtype, int ndim,
                                     const int64_t *shape, vki_tensor **out);

/* Creates another view of base's storage with base's dtype: ndim dims of the given shape and
 * strides (elements, >= 0; strides may be NULL for contiguous strides), starting offset
 * elements into the storage (not into base's view). Every element of the view must lie inside
 * the storage, else VKI_ERROR_INVALID_ARGUMENT. The view keeps the storage alive. */
VKI_API vki_status vki_tensor_view(vki_tensor *base, int ndim, const int64_t *shape,
                                   const int64_t *strides, int64_t offset, vki_tensor **out);

/* A tensor over the application's own memory: bytes at data (its storage) viewed with the
 * given dtype, shape and strides (elements, >= 0; NULL: contiguous) from its first byte, as
 * for vki_tensor_view. No copy: vki_index_copy_ and the other calls read and write data in
 * place, and vkindex never frees it.
 *   Alignment: data must be a multiple of the element size. On a Vulkan context (which
 *     imports the memory with VK_EXT_external_memory_host) data and bytes must also be
 *     positive multiples of the device's minImportedHostPointerAlignment (4096 on most
 *     devices; the message says which), else VKI_ERROR_INVALID_ARGUMENT; a device without the
 *     extension (or an application's device created without it) gives VKI_ERROR_UNSUPPORTED
 *     saying so: use vki_tensor_create and upload instead.
 *   Lifetime: data must stay valid until the last tensor over it (views included) is
 *     destroyed and no batch still holds it (vki_batch_end). Between calls the application
 *     may read and write it directly: every call is synchronous, and on Vulkan the memory is
 *     host-coherent (inside a batch, only after vki_batch_end).
 *   Overlap: two tensors wrapped over the same memory are different storages to vkindex,
 *     which cannot see that they share it: keep the written tensor of a call apart from its
 *     inputs (views of one wrapped tensor are checked as usual).
 * bytes 0 makes a storage of nothing (data may be NULL), for empty tensors. */
VKI_API vki_status vki_tensor_wrap_host(vki_context *ctx, void *data, size_t bytes,
                                        vki_dtype dtype, int ndim, const int64_t *shape,
                                        const int64_t *strides, vki_tensor **out);

/* Destroys a tensor handle; the storage goes when its last view goes. NULL is fine. */
VKI_API void vki_tensor_destroy(vki_tensor *t);

/* Tensor properties. Each returns 0 (or VKI_BOOL / NULL) for a NULL tensor. shape and strides
 * point at ndim values that live as long as the tensor. */
VKI_API vki_dtype vki_tensor_dtype(const vki_tensor *t);
VKI_API int vki_tensor_ndim(const vki_tensor *t);
VKI_API const int64_t *vki_tensor_shape(const vki_tensor *t);
VKI_API const int64_t *vki_tensor_strides(const vki_tensor *t);
VKI_API int64_t vki_tensor_offset(const vki_tensor *t);
VKI_API int64_t vki_tensor_numel(const vki_tensor *t);

/* Size in bytes of one element of dtype (1, 2, 4, 8 or 16); 0 for a value outside the enum. */
VKI_API size_t vki_dtype_size(vki_dtype dtype);

/* PyTorch's name of dtype ("Float", "Long", ...); "Unknown" for a value outside the enum. */
VKI_API const char *vki_dtype_name(vki_dtype dtype);

/* Copies host data into the tensor's elements. host holds the elements in row-major logical
 * order, packed; bytes must equal numel * element size. Synchronous: host may be reused as
 * soon as the call returns. Only the tensor's own elements are written, never the rest of its
 * storage. */
VKI_API vki_status vki_tensor_upload(vki_tensor *t, const void *host, size_t bytes);

/* Copies the tensor's elements into host, row-major and packed; bytes as for upload. */
VKI_API vki_status vki_tensor_download(const vki_tensor *t, void *host, size_t bytes);

/* self.index_copy_(dim, index, source), exactly as PyTorch: for every position i of index,
 * the slice source.select(dim, i) is copied into self.select(dim, index[i]). index is 0-d or
 * 1-d, of dtype VKI_INT64 (or VKI_INT32). dim may be negative. When index repeats a position
 * the slice from the last occurrence wins, on every backend. All or nothing: on error (an
 * out-of-range index included) self is unchanged. The checks, their order, statuses and
 * messages are PyTorch's; see README.md. Synchronous: the copy is done when the call returns. */
VKI_API vki_status vki_index_copy_(vki_tensor *self, int64_t dim, const vki_tensor *index,
                                   const vki_tensor *source);

/* Out of place: out receives a copy of self, then index_copy_ into out. out must have self's
 * shape and dtype and belong to the same context. out may be the very same view as self
 * (then this is index_copy_); any other overlap of a dense out with self is an error. On error
 * out is unchanged. */
VKI_API vki_status vki_index_copy(vki_tensor *out, const vki_tensor *self, int64_t dim,
                                  const vki_tensor *index, const vki_tensor *source);

/* Batches: many calls in one submission, for throughput on small calls.
 * vki_batch_begin starts a batch on ctx. Until vki_batch_end, each vki_index_copy_ /
 * vki_index_copy on ctx is checked at once (an argument error is returned by the call itself
 * and nothing is queued) and then queued; queued calls run in call order. vki_batch_end runs
 * what is still queued, waits, and returns the first error: a call whose index is out of range
 * writes nothing (the other calls run), and the message of vki_batch_end names its position in
 * the batch (0-based). Upload and download inside a batch see the results of the calls queued
 * before them (those calls run first). Tensors used by queued calls may be destroyed before
 * vki_batch_end. Batches do not nest. On the CPU backend calls run at once; the error rules are
 * the same. Returns VKI_ERROR_INVALID_ARGUMENT for a NULL ctx or a batch already open. */
VKI_API vki_status vki_batch_begin(vki_context *ctx);

/* Ends the batch of ctx (see vki_batch_begin). VKI_ERROR_INVALID_ARGUMENT if none is open. */
VKI_API vki_status vki_batch_end(vki_context *ctx);

/* The name of a status, e.g. "VKI_ERROR_INDEX". Never NULL. */
/* The version of the library in use (VKI_VERSION of the headers it was built from). */
VKI_API unsigned vki_version(void);

VKI_API const char *vki_status_string(vki_status s);

/* The message of this thread's last failed call ("" if none has failed). The string stays
 * valid until the next failing call on this thread. */
VKI_API const char *vki_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* VKINDEX_H */
