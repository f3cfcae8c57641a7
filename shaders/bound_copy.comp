#version 450
// The benchmark's copy bound (vkindex-bench): the plainest copy there is, dst[i] = src[i] over
// 16-byte words, one word per invocation and iteration, with nothing of the library's kernels
// (no parameter block, no index arithmetic), so that "% of the copy bound" cannot flatter them.
layout(local_size_x = 256) in;
layout(set = 0, binding = 0, std430) readonly buffer Src { uvec4 src[]; };
layout(set = 0, binding = 1, std430) writeonly buffer Dst { uvec4 dst[]; };
layout(push_constant) uniform Words { uint words; };

void main()
{
    const uint step = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < words; i += step)
        dst[i] = src[i];
}
