#version 450
#extension GL_GOOGLE_include_directive : require
// The first pass of index_copy: checks every index value against dst.size(dim), recording
// the first bad position (atomicMin), and builds the winner map: for each destination slot,
// the last position i that writes it, stored as i + 1 (atomicMax; 0 means none).
#include "common.glsl"

void main()
{
    const uint n = p[P_N], dim_size = p[P_DIM_SIZE];
    const uint step = gl_NumWorkGroups.x * WG;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
        uvec2 v = load_index(i);
        if (v.y != 0u || v.x >= dim_size)
            atomicMin(scratch[0], i);
        else if ((FLAGS & FLAG_WINNERS) != 0u)
            atomicMax(scratch[SCRATCH_WINNERS + v.x], i + 1u);
    }
}
