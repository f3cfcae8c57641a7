// Shared by every vkindex kernel: the bindings and specialization constants (their ids and
// the layouts of the parameter block and scratch are in interface.h, shared with the C code),
// and element access to the three tensor slots.
//
// Compile-time variants (glslangValidator -D, from the variant list in shaders/meson.build):
//   VKI_WINDOWED     tensors are bound as arrays of VKI_MAX_WINDOWS windows of 2^p[VKI_P_WINDOW]
//                    bytes each; without it, one binding per tensor (the fast path for
//                    tensors that fit in maxStorageBufferRange). Windows are picked by a
//                    switch with constant array indices, so no descriptor-indexing feature is
//                    needed.
//   VKI_OFF64        byte offsets are 64-bit (needs shaderInt64); else 32-bit.
//   VKI_NATIVE_SUBWORD  1- and 2-byte elements use 8/16-bit storage; else 32-bit atomics, so
//                    two invocations never write one 32-bit word non-atomically.
#extension GL_EXT_control_flow_attributes : enable
#include "interface.h"

// WINDOW_SWITCH(w, ACCESS) runs ACCESS(k) for the constant k equal to w.
#ifdef VKI_WINDOWED
#define VKI_WINDOWS VKI_MAX_WINDOWS
#if VKI_MAX_WINDOWS != 8
#error WINDOW_SWITCH below has a case per window
#endif
#define WINDOW_SWITCH(w, ACCESS)                                                              \
    switch (w) {                                                                              \
    case 0u: ACCESS(0); break;                                                                \
    case 1u: ACCESS(1); break;                                                                \
    case 2u: ACCESS(2); break;                                                                \
    case 3u: ACCESS(3); break;                                                                \
    case 4u: ACCESS(4); break;                                                                \
    case 5u: ACCESS(5); break;                                                                \
    case 6u: ACCESS(6); break;                                                                \
    default: ACCESS(7); break;                                                                \
    }
#else
#define VKI_WINDOWS 1
#define WINDOW_SWITCH(w, ACCESS) ACCESS(0);
#endif
#ifdef VKI_OFF64
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#define off_t uint64_t
#else
#define off_t uint
#endif
#ifdef VKI_NATIVE_SUBWORD
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_16bit_storage : require
#endif

layout(local_size_x_id = VKI_SPEC_WG) in;
layout(constant_id = VKI_SPEC_WG) const uint WG = 256;
layout(constant_id = VKI_SPEC_ES) const uint ES = 4;
layout(constant_id = VKI_SPEC_LPR) const uint LPR = 256;
layout(constant_id = VKI_SPEC_MODE) const uint MODE = 0;
layout(constant_id = VKI_SPEC_FLAGS) const uint FLAGS = 0;
layout(constant_id = VKI_SPEC_PACK) const uint PACK = 1;

layout(set = 0, binding = VKI_BINDING_PARAMS, std430) readonly buffer Params { uint p[]; };
layout(set = 0, binding = VKI_BINDING_SCRATCH, std430) buffer Scratch { uint scratch[]; };
layout(set = 0, binding = VKI_BINDING_SCRATCH, std430) readonly buffer Scratch4 { uvec4 scratch4[]; };

// The first position in [0, n) whose index is outside [0, dim_size), or VKI_NO_BAD_INDEX.
uint first_bad_index();

layout(set = 0, binding = VKI_BINDING_DST, std430) buffer Dst32 { uint w[]; } dst32[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_DST, std430) writeonly buffer Dst64 { uvec2 w[]; } dst64[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_DST, std430) buffer Dst128 { uvec4 w[]; } dst128[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_SRC, std430) readonly buffer Src32 { uint w[]; } src32[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_SRC, std430) readonly buffer Src64 { uvec2 w[]; } src64[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_SRC, std430) readonly buffer Src128 { uvec4 w[]; } src128[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_INDEX, std430) readonly buffer Idx32 { uint w[]; } idx32[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_REPORT, std430) buffer Report { uint report[]; };
#ifdef VKI_NATIVE_SUBWORD
layout(set = 0, binding = VKI_BINDING_DST, std430) writeonly buffer Dst8 { uint8_t w[]; } dst8[VKI_WINDOWS];
layout(set = 0, binding = VKI_BINDING_DST, std430) writeonly buffer Dst16 { uint16_t w[]; } dst16[VKI_WINDOWS];
#endif

off_t param(uint at)
{
#ifdef VKI_OFF64
    return uint64_t(p[at]) | (uint64_t(p[at + 1u]) << 32);
#else
    return p[at];
#endif
}

// The window holding byte b, and b's offset inside it.
uint window_of(off_t b)
{
#if VKI_WINDOWS > 1
    return uint(b >> p[VKI_P_WINDOW]);
#else
    return 0u;
#endif
}

off_t in_window(off_t b, uint w)
{
#if VKI_WINDOWS > 1
    return b - (off_t(w) << p[VKI_P_WINDOW]);
#else
    return b;
#endif
}

uvec4 load_src(off_t b)
{
    uint w = window_of(b);
    off_t o = in_window(b, w);
    uvec4 v = uvec4(0u);
#define LOAD128(k) v = src128[k].w[uint(o >> 4)]
#define LOAD64(k) v.xy = src64[k].w[uint(o >> 3)]
#define LOAD32(k) v.x = src32[k].w[uint(o >> 2)]
    if (ES == 16u) {
        WINDOW_SWITCH(w, LOAD128)
    } else if (ES == 8u) {
        WINDOW_SWITCH(w, LOAD64)
    } else if (ES == 4u) {
        WINDOW_SWITCH(w, LOAD32)
    } else { /* sub-word reads go through 32-bit words: reads never race, and it is faster */
#define LOADWORD(k) v.x = src32[k].w[uint(o >> 2)]
        WINDOW_SWITCH(w, LOADWORD)
        v.x = (v.x >> (uint(o & 3u) * 8u)) & (ES == 2u ? 0xFFFFu : 0xFFu);
    }
    return v;
}

void store_dst(off_t b, uvec4 v)
{
    uint w = window_of(b);
    off_t o = in_window(b, w);
#define STORE128(k) dst128[k].w[uint(o >> 4)] = v
#define STORE64(k) dst64[k].w[uint(o >> 3)] = v.xy
#define STORE32(k) dst32[k].w[uint(o >> 2)] = v.x
    if (ES == 16u) {
        WINDOW_SWITCH(w, STORE128)
    } else if (ES == 8u) {
        WINDOW_SWITCH(w, STORE64)
    } else if (ES == 4u) {
        WINDOW_SWITCH(w, STORE32)
    } else {
#ifdef VKI_NATIVE_SUBWORD
#define STORE16(k) dst16[k].w[uint(o >> 1)] = uint16_t(v.x)
#define STORE8(k) dst8[k].w[uint(o)] = uint8_t(v.x)
        if (ES == 2u) {
            WINDOW_SWITCH(w, STORE16)
        } else {
            WINDOW_SWITCH(w, STORE8)
        }
#else
        // Each lane of a word belongs to one invocation: clear ours, then set it.
        uint shift = uint(o & 3u) * 8u;
        uint mask = (ES == 2u ? 0xFFFFu : 0xFFu) << shift;
        uint at = uint(o >> 2), bits = (v.x << shift) & mask;
#define STOREATOMIC(k) atomicAnd(dst32[k].w[at], ~mask); atomicOr(dst32[k].w[at], bits)
        WINDOW_SWITCH(w, STOREATOMIC)
#endif
    }
}

// The 16 bytes at b (16-aligned) of the destination, for gathers that rewrite whole vectors.
uvec4 load_dst16(off_t b)
{
    uint w = window_of(b);
    off_t o = in_window(b, w);
    uvec4 v = uvec4(0u);
#define LOADDST(k) v = dst128[k].w[uint(o >> 4)]
    WINDOW_SWITCH(w, LOADDST)
    return v;
}

void store_dst16(off_t b, uvec4 v)
{
    uint w = window_of(b);
    off_t o = in_window(b, w);
    WINDOW_SWITCH(w, STORE128)
}

// Index element i as (low word, high word); int32 values are sign-extended.
uvec2 load_index(uint i)
{
    off_t b = param(VKI_P_IDX_BASE) + off_t(i) * param(VKI_P_IDX_STRIDE);
    uint w = window_of(b);
    uint at = uint(in_window(b, w) >> 2);
    uvec2 v = uvec2(0u);
#define LOADINDEX(k) v = uvec2(idx32[k].w[at], (FLAGS & VKI_FLAG_INDEX32) != 0u ? 0u : idx32[k].w[at + 1u])
    WINDOW_SWITCH(w, LOADINDEX)
    if ((FLAGS & VKI_FLAG_INDEX32) != 0u)
        v.y = int(v.x) < 0 ? 0xFFFFFFFFu : 0u;
    return v;
}

// Reports the call's first bad index (at `position`) and its value in the call's report slot,
// where the host reads it after the submission (a later call may rewrite the index). The
// first report stays until the host has cleared it.
void record_bad_value(uint position)
{
    uvec2 v = load_index(position);
    const uint r = VKI_REPORT_WORDS * p[VKI_P_REPORT];
    if (report[r] == 0u) {
        report[r] = ~position;
        report[r + 1u] = v.x;
        report[r + 2u] = v.y;
    }
}

uint first_bad_index()
{
    const uint n = p[VKI_P_N], dim_size = p[VKI_P_DIM_SIZE];
    for (uint i = 0u; i < n; i++) {
        uvec2 v = load_index(i);
        if (v.y != 0u || v.x >= dim_size)
            return i;
    }
    return VKI_NO_BAD_INDEX;
}
