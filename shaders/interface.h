/*
 * Everything the Vulkan backend's C code and its shaders must agree on, written once: the
 * specialization constants, bindings, modes and flags of the kernels, the parameter block and
 * the scratch buffer. The C files (src/vulkan/) and shaders/common.glsl both include this
 * file, so it holds only #define lines of integer expressions that mean the same in C and GLSL;
 * the C side checks the sizes below with _Static_assert. docs/architecture.md says what the
 * kernels do with them; the list of compiled variants is in shaders/meson.build.
 */
#ifndef VKI_SHADER_INTERFACE_H
#define VKI_SHADER_INTERFACE_H

/* Specialization constant ids. */
#define VKI_SPEC_WG 0     /* invocations per workgroup                                         */
#define VKI_SPEC_ES 1     /* element size in bytes: 1, 2, 4, 8, 16                             */
#define VKI_SPEC_LPR 2    /* invocations per row (a power of two <= WG)                        */
#define VKI_SPEC_MODE 3   /* VKI_MODE_*                                                        */
#define VKI_SPEC_FLAGS 4  /* VKI_FLAG_*                                                        */
#define VKI_SPEC_PACK 5   /* packed gather: elements per invocation (16 / ES); 1: off          */
#define VKI_SPEC_COUNT 6

/* Descriptor set 0. The tensor bindings are arrays of VKI_WINDOWS windows in the windowed
 * variants (one descriptor each otherwise). */
#define VKI_BINDING_PARAMS 0  /* the launch's parameter block (a dynamic storage buffer)       */
#define VKI_BINDING_SCRATCH 1
#define VKI_BINDING_DST 2
#define VKI_BINDING_SRC 3
#define VKI_BINDING_INDEX 4
#define VKI_BINDING_REPORT 5  /* recorded operations: their report slots (host-visible)      */
#define VKI_BINDING_COUNT 6
#define VKI_MAX_WINDOWS 8     /* windows per tensor binding in the windowed variants           */

/* What the copy kernel does. */
#define VKI_MODE_COPY 0u    /* dst[x] = src[x]                                                 */
#define VKI_MODE_SCATTER 1u /* over source elements: dst[.., index[i], ..] = src[.., i, ..]   */
#define VKI_MODE_GATHER 2u  /* over destination elements, through the winner map             */

#define VKI_FLAG_GUARD 1u   /* write nothing if the check pass found a bad index               */
#define VKI_FLAG_WINNERS 2u /* scatter: only the last occurrence of each index writes          */
#define VKI_FLAG_INDEX32 4u /* index elements are int32 (else int64)                           */
#define VKI_FLAG_FUSED 8u   /* few indices: every invocation checks them all itself (no check
                               pass and no scratch)                                            */

/* The parameter block of one launch, in 32-bit words; 64-bit values are (low, high) pairs. */
#define VKI_MAX_ND 16u          /* dims of an iteration box                                    */
#define VKI_P_ND 0u             /* dims of the iteration (1..16)                               */
#define VKI_P_AXIS 1u           /* the index axis, or 0xFFFFFFFF for a plain copy              */
#define VKI_P_N 2u              /* index count                                                 */
#define VKI_P_DIM_SIZE 3u       /* dst.size(dim)                                               */
#define VKI_P_WINDOW 4u         /* log2 of the bytes per binding window                        */
#define VKI_P_ROWS 6u           /* 64-bit: product of all dims but the innermost               */
#define VKI_P_DST_BASE 8u       /* 64-bit byte offsets of the first elements                   */
#define VKI_P_SRC_BASE 10u
#define VKI_P_IDX_BASE 12u
#define VKI_P_IDX_STRIDE 14u    /* 64-bit: bytes between index elements                        */
#define VKI_P_CHUNKS 16u        /* 64-bit: each row is split into this many chunks             */
#define VKI_P_SHAPE 18u         /* VKI_MAX_ND 64-bit sizes                                     */
#define VKI_P_DST_STRIDE (VKI_P_SHAPE + 2u * VKI_MAX_ND)      /* VKI_MAX_ND 64-bit byte strides */
#define VKI_P_SRC_STRIDE (VKI_P_DST_STRIDE + 2u * VKI_MAX_ND)
#define VKI_P_SLOT (VKI_P_SRC_STRIDE + 2u * VKI_MAX_ND)        /* the call's scratch slot       */
#define VKI_P_REPORT (VKI_P_SLOT + 1u)                        /* its report slot               */
#define VKI_P_WORDS (VKI_P_REPORT + 1u)
#define VKI_PARAM_SLOT_BYTES 512u /* bytes per launch: a multiple of any storage alignment    */

/* Scratch, used only by calls with a check pass, in 32-bit words: two words per slot (a call
 * of the submission), its status word and its "duplicates seen" word, then the winner map of
 * the current call. A call clears its two words and the map with one fill before its check
 * pass (the slots after it are not in use yet). A status word holds ~p for the first bad
 * position p (atomicMax of ~p finds the smallest p); 0 means none. */
#define VKI_SCRATCH_SLOTS 1024u
#define VKI_SCRATCH_STATUS(slot) (2u * (slot))
#define VKI_SCRATCH_DUPS(slot) (2u * (slot) + 1u)
#define VKI_SCRATCH_WINNERS (2u * VKI_SCRATCH_SLOTS)
#define VKI_NO_BAD_INDEX 0xFFFFFFFFu

/* A call's report slot, in 32-bit words, in host-visible memory: ~p for the first bad
 * position p (0: none; the first report stays), then the value (low, high). The host reads
 * it after the submission and clears it. */
#define VKI_REPORT_WORDS 4u

#if defined(__STDC_VERSION__) /* the C side checks what the shaders rely on */
_Static_assert(VKI_P_WORDS * 4u <= VKI_PARAM_SLOT_BYTES, "the parameter block outgrew its slot");
_Static_assert(VKI_P_ROWS % 2u == 0u && VKI_P_DST_BASE % 2u == 0u && VKI_P_SRC_BASE % 2u == 0u &&
                   VKI_P_IDX_BASE % 2u == 0u && VKI_P_IDX_STRIDE % 2u == 0u &&
                   VKI_P_CHUNKS % 2u == 0u && VKI_P_SHAPE % 2u == 0u,
               "64-bit parameters start on even words");
_Static_assert(VKI_SCRATCH_WINNERS >= VKI_SCRATCH_DUPS(VKI_SCRATCH_SLOTS - 1u) + 1u,
               "scratch regions overlap");
_Static_assert(VKI_SCRATCH_WINNERS % 4u == 0u, "the winner map is read as uvec4s");
#endif

#endif
