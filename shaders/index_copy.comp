#version 450
#extension GL_GOOGLE_include_directive : require
// The copy pass of index_copy, and the plain strided copy. The iteration space is an
// nd-dimensional box (dims collapsed on the host) walked as rows: each row (all dims but the
// innermost, possibly split in chunks) is taken by LPR invocations that stride along the
// innermost dim, so neighbouring invocations touch neighbouring elements. On the index axis
// the destination coordinate comes from the index (scatter) or the source coordinate from the
// winner map (gather); positions that another occurrence overrides are skipped.
#include "common.glsl"

// Maps coordinate c on the index axis to (dst coordinate, src coordinate); false: skip it.
bool map_axis(off_t c, out off_t dc, out off_t sc)
{
    if (MODE == MODE_SCATTER) {
        uint v = load_index(uint(c)).x;
        if ((FLAGS & FLAG_WINNERS) != 0u && scratch[SCRATCH_WINNERS + v] != uint(c) + 1u)
            return false;
        dc = off_t(v);
        sc = c;
        return true;
    }
    uint winner = scratch[SCRATCH_WINNERS + uint(c)];
    dc = c;
    sc = off_t(winner) - 1u;
    return winner != 0u;
}

void main()
{
    if ((FLAGS & FLAG_GUARD) != 0u && scratch[0] != NO_BAD_INDEX)
        return; // an index is out of range: write nothing
    const int nd = int(p[P_ND]);
    const int axis = MODE == MODE_COPY ? -1 : int(p[P_AXIS]);
    const int last = nd - 1;
    const off_t len = param(P_SHAPE + 2u * uint(last));
    const off_t chunks = param(P_CHUNKS);
    const off_t chunk_len = (len + chunks - 1u) / chunks;
    const off_t work = param(P_ROWS) * chunks;
    const uint rows_per_group = WG / LPR;
    const uint sub = gl_LocalInvocationID.x / LPR, lane = gl_LocalInvocationID.x % LPR;
    const off_t step = off_t(gl_NumWorkGroups.x) * rows_per_group;
    const off_t dst_last = param(P_DST_STRIDE + 2u * uint(last));
    const off_t src_last = param(P_SRC_STRIDE + 2u * uint(last));

    for (off_t item = off_t(gl_WorkGroupID.x) * rows_per_group + sub; item < work; item += step) {
        off_t row = item / chunks, chunk = item % chunks;
        off_t d = param(P_DST_BASE), s = param(P_SRC_BASE);
        bool skip = false;
        for (int k = last - 1; k >= 0; k--) {
            off_t size = param(P_SHAPE + 2u * uint(k));
            off_t c = row % size;
            row /= size;
            off_t dc = c, sc = c;
            if (k == axis)
                skip = skip || !map_axis(c, dc, sc);
            d += dc * param(P_DST_STRIDE + 2u * uint(k));
            s += sc * param(P_SRC_STRIDE + 2u * uint(k));
        }
        if (skip)
            continue;
        off_t begin = chunk * chunk_len, end = min(len, begin + chunk_len);
        for (off_t j = begin + lane; j < end; j += LPR) {
            off_t dj = j, sj = j;
            if (last == axis && !map_axis(j, dj, sj))
                continue;
            store_dst(d + dj * dst_last, load_src(s + sj * src_last));
        }
    }
}
