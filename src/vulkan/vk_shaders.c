/* The embedded SPIR-V: one uint32_t array per kernel and variant, made by glslangValidator
 * at build time (shaders/meson.build). */
#include "vk_internal.h"

#include "check_w1_native.h"
#include "check_w1_atomic.h"
#include "check_w8_native.h"
#include "check_w8_atomic.h"
#include "check_w8_o64_native.h"
#include "check_w8_o64_atomic.h"
#include "index_copy_w1_native.h"
#include "index_copy_w1_atomic.h"
#include "index_copy_w8_native.h"
#include "index_copy_w8_atomic.h"
#include "index_copy_w8_o64_native.h"
#include "index_copy_w8_o64_atomic.h"

#define SPV(a) {a, sizeof(a)}

static const vk_spirv table[VK_KERNEL_COUNT][VK_VARIANT_COUNT] = {
    [VK_KERNEL_CHECK] = {SPV(vki_spv_check_w1_native), SPV(vki_spv_check_w1_atomic),
                         SPV(vki_spv_check_w8_native), SPV(vki_spv_check_w8_atomic),
                         SPV(vki_spv_check_w8_o64_native), SPV(vki_spv_check_w8_o64_atomic)},
    [VK_KERNEL_INDEX_COPY] = {SPV(vki_spv_index_copy_w1_native), SPV(vki_spv_index_copy_w1_atomic),
                              SPV(vki_spv_index_copy_w8_native), SPV(vki_spv_index_copy_w8_atomic),
                              SPV(vki_spv_index_copy_w8_o64_native),
                              SPV(vki_spv_index_copy_w8_o64_atomic)},
};

vk_spirv vk_shader_code(vk_kernel kernel, vk_variant variant)
{
    return table[kernel][variant];
}
