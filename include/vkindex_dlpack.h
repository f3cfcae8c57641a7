/*
 * vkindex and DLPack (https://github.com/dmlc/dlpack, version 0.6 and later): tensors shared
 * with PyTorch, NumPy, JAX, CuPy and any other framework that speaks DLPack, without a copy.
 * Include after (or instead of) vkindex.h; this header includes <dlpack/dlpack.h>. The library
 * has these functions when it was built with that header (Debian: libdlpack-dev).
 *
 * Dtypes (vki_dtype_from_dlpack / vki_dtype_to_dlpack), one lane always:
 *   kDLInt 8, 16, 32, 64        Char, Short, Int, Long
 *   kDLUInt 8, 16, 32, 64       Byte, UInt16, UInt32, UInt64
 *   kDLFloat 16, 32, 64         Half, Float, Double
 *   kDLBfloat 16                BFloat16
 *   kDLComplex 32, 64, 128      ComplexHalf, ComplexFloat, ComplexDouble
 *   code 6 (kDLBool, DLPack 0.8) 8 bits: Bool on import
 * DLPack 0.6 has no boolean type: Bool is exported as kDLUInt 8, as PyTorch exports its bool
 * tensors (which so import as Byte). It has no 8-bit floats: Float8_e4m3fn and Float8_e5m2
 * cannot be exported, and kDLFloat 8 is refused on import (it cannot say which of the two it
 * is). Anything else (other widths, more than one lane, kDLOpaqueHandle) is refused with
 * VKI_ERROR_UNSUPPORTED and a message naming the code, bits and lanes.
 *
 * Devices:
 *   kDLCPU (and the host-accessible kDLCUDAHost, kDLROCMHost): host memory, used in place as
 *     by vki_tensor_wrap_host, with its alignment rules (on a Vulkan context: the device's
 *     minImportedHostPointerAlignment for the memory from data + byte_offset to the end of
 *     the last element).
 *   kDLVulkan: DLPack leaves the meaning of data open; vkindex's convention is that data holds
 *     the VkBuffer handle (cast to a pointer) and byte_offset the offset in bytes in that
 *     buffer of the tensor's first element (strides and shape from there, as always). vkindex
 *     wraps the buffer with vki_tensor_wrap_buffer (include/vkindex_vulkan.h: the context must
 *     be made with vki_context_create_vulkan on the buffer's device) from byte_offset rounded
 *     down to a multiple of 256 (the largest minStorageBufferOffsetAlignment Vulkan allows) to
 *     the end of the last element rounded up to 16 bytes: the buffer must hold that range.
 *     device_id is not read. vki_tensor_to_dlpack exports a Vulkan context's tensors so.
 *   Other devices: VKI_ERROR_UNSUPPORTED.
 */
#ifndef VKINDEX_DLPACK_H
#define VKINDEX_DLPACK_H

#include <dlpack/dlpack.h>

#include "vkindex.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The vki_dtype of a DLPack dtype, and the reverse (see above); VKI_ERROR_UNSUPPORTED with a
 * message for a type the other side cannot express. */
VKI_API vki_status vki_dtype_from_dlpack(DLDataType type, vki_dtype *out);
VKI_API vki_status vki_dtype_to_dlpack(vki_dtype dtype, DLDataType *out);

/* A tensor over a DLPack tensor's memory, without a copy (see Devices above). On success
 * vkindex owns managed: it calls managed->deleter (when not NULL) once the storage is gone,
 * that is when the last tensor over it (views included) is destroyed and no batch holds it,
 * from the thread that destroys it. On failure managed is left to the caller, untouched, and
 * *out unchanged. Negative strides are refused (VKI_ERROR_UNSUPPORTED). vkindex cannot see
 * that two imports share memory: as for vki_tensor_wrap_host, keep a call's written tensor
 * apart from its inputs. */
VKI_API vki_status vki_tensor_from_dlpack(vki_context *ctx, DLManagedTensor *managed,
                                          vki_tensor **out);

/* t as a DLPack tensor, without a copy: *out describes t's elements (shape, strides in
 * elements, dtype; kDLCPU with data at t's first element and byte_offset 0 on a CPU context,
 * kDLVulkan as above on a Vulkan one) and holds a reference to t's storage (t itself may be
 * destroyed at once). The consumer calls (*out)->deleter(*out) once when done; like
 * vki_tensor_destroy, not while another thread uses t's context. VKI_ERROR_UNSUPPORTED for a
 * dtype DLPack cannot express and for a Vulkan storage kept in several buffers. */
VKI_API vki_status vki_tensor_to_dlpack(const vki_tensor *t, DLManagedTensor **out);

#ifdef __cplusplus
}
#endif

#endif
