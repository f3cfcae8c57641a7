#version 450
#extension GL_GOOGLE_include_directive : require
// The copy pass of index_copy, and the plain strided copy. The iteration space is an
// nd-dimensional box (dims collapsed on the host) walked as rows: each row (all dims but the
// innermost, possibly split in chunks) is taken by LPR invocations that stride along the
// innermost dim, so neighbouring invocations touch neighbouring elements. On the index axis
// the destination coordinate comes from the index (scatter) or the source coordinate from the
// winner map (gather); positions that another occurrence overrides are skipped.
// A packed gather (PACK > 1: the index axis is the innermost, contiguous in the destination)
// gives each invocation 16 destination bytes: it reads them, replaces the elements that have a
// winner and writes the 16 bytes back in one store, so no word is shared between invocations
// and every write is a whole, coalesced vector.
#include "common.glsl"

// Maps coordinate c on the index axis to (dst coordinate, src coordinate); false: skip it.
bool map_axis(off_t c, out off_t dc, out off_t sc)
{
    if (MODE == VKI_MODE_SCATTER) {
        uint v = load_index(uint(c)).x;
        if ((FLAGS & VKI_FLAG_WINNERS) != 0u && scratch[VKI_SCRATCH_DUPS(p[VKI_P_SLOT])] != 0u &&
            scratch[VKI_SCRATCH_WINNERS + v] != uint(c) + 1u)
            return false;
        if ((FLAGS & VKI_FLAG_FUSED) != 0u) /* few indices: a later occurrence overrides this one */
            for (uint k = uint(c) + 1u; k < p[VKI_P_N]; k++)
                if (load_index(k).x == v)
                    return false;
        dc = off_t(v);
        sc = c;
        return true;
    }
    uint winner = scratch[VKI_SCRATCH_WINNERS + uint(c)];
    dc = c;
    sc = off_t(winner) - 1u;
    return winner != 0u;
}

// Replaces element e (of ES bytes) of the 16-byte vector acc with the low bytes of v.
uvec4 insert_element(uvec4 acc, uint e, uvec4 v)
{
    if (ES == 8u) {
        acc[2u * e] = v.x;
        acc[2u * e + 1u] = v.y;
        return acc;
    }
    uint word = (e * ES) / 4u, shift = ((e * ES) % 4u) * 8u;
    uint mask = ES == 4u ? 0xFFFFFFFFu : (((1u << (ES * 8u)) - 1u) << shift);
    acc[word] = (acc[word] & ~mask) | ((v.x << shift) & mask);
    return acc;
}

void packed_gather(off_t d, off_t s, off_t j, off_t src_last)
{
    const off_t first = j * PACK;
    uvec4 acc = uvec4(0u);
    bool any = false;
    // The winner map starts on a 16-byte boundary and PACK is a multiple of 2, so the winners
    // of a pack are whole uvec4s when PACK >= 4.
    uvec4 winners[4];
    [[unroll]] for (uint q = 0u; q < (PACK + 3u) / 4u; q++)
        winners[q] = PACK >= 4u ? scratch4[VKI_SCRATCH_WINNERS / 4u + uint(first) / 4u + q]
                                : uvec4(scratch[VKI_SCRATCH_WINNERS + uint(first)],
                                        scratch[VKI_SCRATCH_WINNERS + uint(first) + 1u], 0u, 0u);
    [[unroll]] for (uint e = 0u; e < PACK; e++) {
        uint winner = winners[e / 4u][e % 4u];
        if (winner != 0u) {
            if (!any)
                acc = load_dst16(d + first * ES);
            any = true;
            acc = insert_element(acc, e, load_src(s + (off_t(winner) - 1u) * src_last));
        }
    }
    if (any)
        store_dst16(d + first * ES, acc);
}

void main()
{
    if ((FLAGS & VKI_FLAG_GUARD) != 0u && scratch[VKI_SCRATCH_STATUS(p[VKI_P_SLOT])] != 0u) {
        if (gl_GlobalInvocationID.x == 0u)
            record_bad_value(~scratch[VKI_SCRATCH_STATUS(p[VKI_P_SLOT])]);
        return; // an index is out of range: write nothing
    }
    if ((FLAGS & VKI_FLAG_FUSED) != 0u) {
        uint bad = first_bad_index(); // the same answer in every invocation
        if (MODE != VKI_MODE_COPY && gl_GlobalInvocationID.x == 0u && bad != VKI_NO_BAD_INDEX)
            record_bad_value(bad);
        if (bad != VKI_NO_BAD_INDEX)
            return;
    }
    const int nd = int(p[VKI_P_ND]);
    const int axis = MODE == VKI_MODE_COPY ? -1 : int(p[VKI_P_AXIS]);
    const int last = nd - 1;
    const off_t len = param(VKI_P_SHAPE + 2u * uint(last));
    const off_t chunks = param(VKI_P_CHUNKS);
    const off_t chunk_len = (len + chunks - 1u) / chunks;
    const off_t work = param(VKI_P_ROWS) * chunks;
    const uint rows_per_group = WG / LPR;
    const uint sub = gl_LocalInvocationID.x / LPR, lane = gl_LocalInvocationID.x % LPR;
    const off_t step = off_t(gl_NumWorkGroups.x) * rows_per_group;
    const off_t dst_last = param(VKI_P_DST_STRIDE + 2u * uint(last));
    const off_t src_last = param(VKI_P_SRC_STRIDE + 2u * uint(last));

    for (off_t item = off_t(gl_WorkGroupID.x) * rows_per_group + sub; item < work; item += step) {
        off_t row = item / chunks, chunk = item % chunks;
        off_t d = param(VKI_P_DST_BASE), s = param(VKI_P_SRC_BASE);
        bool skip = false;
        for (int k = last - 1; k >= 0; k--) {
            off_t size = param(VKI_P_SHAPE + 2u * uint(k));
            off_t c = row % size;
            row /= size;
            off_t dc = c, sc = c;
            if (k == axis)
                skip = skip || !map_axis(c, dc, sc);
            d += dc * param(VKI_P_DST_STRIDE + 2u * uint(k));
            s += sc * param(VKI_P_SRC_STRIDE + 2u * uint(k));
        }
        if (skip)
            continue;
        off_t begin = chunk * chunk_len, end = min(len, begin + chunk_len);
        if (PACK > 1u) {
            for (off_t j = begin + lane; j < end; j += LPR)
                packed_gather(d, s, j, src_last);
            continue;
        }
        if (last != axis) { /* four moves in flight per invocation */
            for (off_t j = begin + lane; j < end; j += 4u * LPR) {
                uvec4 v[4];
                [[unroll]] for (uint u = 0u; u < 4u; u++)
                    if (j + u * LPR < end)
                        v[u] = load_src(s + (j + u * LPR) * src_last);
                [[unroll]] for (uint u = 0u; u < 4u; u++)
                    if (j + u * LPR < end)
                        store_dst(d + (j + u * LPR) * dst_last, v[u]);
            }
            continue;
        }
        for (off_t j = begin + lane; j < end; j += LPR) {
            off_t dj = j, sj = j;
            if (last == axis && !map_axis(j, dj, sj))
                continue;
            store_dst(d + dj * dst_last, load_src(s + sj * src_last));
        }
    }
}
