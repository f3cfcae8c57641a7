/*
 * The embedded SPIR-V, one uint32_t array per kernel and variant, made by glslangValidator at
 * build time, and what each variant is compiled for: both come from the list in
 * shaders/meson.build (vk_shader_list.h).
 */
#define VK_SHADER_LIST_EMBED
#include "vk_internal.h"

static const vk_spirv table[VK_KERNEL_COUNT][VK_VARIANT_COUNT] = VK_SPIRV_TABLE;

static const vk_variant_props props[VK_VARIANT_COUNT] = {
#define VK_VARIANT_PROPS(name, windowed, off64, native) {windowed, off64, native},
    VK_VARIANTS(VK_VARIANT_PROPS)
#undef VK_VARIANT_PROPS
};

vk_spirv vk_shader_code(vk_kernel kernel, vk_variant variant)
{
    return table[kernel][variant];
}

vk_variant_props vk_variant_of(vk_variant variant)
{
    return props[variant];
}

vk_variant vk_variant_find(bool windowed, bool off64, bool native_subword)
{
    for (int v = 0; v < VK_VARIANT_COUNT; v++)
        if (props[v].windowed == windowed && props[v].off64 == off64 &&
            props[v].native_subword == native_subword)
            return (vk_variant)v;
    return VK_VARIANT_COUNT; /* not compiled: vk_launch_prepare never asks for one */
}
