#version 450
#extension GL_GOOGLE_include_directive : require
// The first pass of index_copy: checks every index value against dst.size(dim), recording
// the first bad position (atomicMax of its complement), and builds the winner map: for each destination slot,
// the last position i that writes it, stored as i + 1 (atomicMax; 0 means none). It also notes
// whether any slot is written twice, so that the scatter can skip the map when none is.
#include "common.glsl"

void main()
{
    const uint n = p[VKI_P_N], dim_size = p[VKI_P_DIM_SIZE], slot = p[VKI_P_SLOT];
    const uint step = gl_NumWorkGroups.x * WG;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
        uvec2 v = load_index(i);
        if (v.y != 0u || v.x >= dim_size) {
            atomicMax(scratch[VKI_SCRATCH_STATUS(slot)], ~i);
        } else if ((FLAGS & VKI_FLAG_WINNERS) != 0u) {
            if (atomicMax(scratch[VKI_SCRATCH_WINNERS + v.x], i + 1u) != 0u)
                scratch[VKI_SCRATCH_DUPS(slot)] = 1u; // every writer stores the same value
        }
    }
}
