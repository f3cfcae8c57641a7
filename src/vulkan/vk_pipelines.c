/*
 * Descriptor set layouts, pipeline layouts, shader modules and the pipeline cache. Pipelines
 * are created on first use for a (kernel, variant, element size, lanes per row, mode, flags)
 * key and kept for the context's lifetime: never per call, never all at start-up.
 */
#include "vk_internal.h"

#include <stdlib.h>
#include <string.h>

static vki_status create_layouts(vk_ctx *c, int which, uint32_t windows)
{
    vki_status st = VKI_OK;
    VkDescriptorSetLayoutBinding b[5];
    for (uint32_t i = 0; i < 5; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = i == 0 ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC
                                     : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = i < 2 ? 1 : windows,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 5,
        .pBindings = b,
    };
    VK(c->vk.vkCreateDescriptorSetLayout(c->device, &info, NULL, &c->set_layout[which]));
    VkPipelineLayoutCreateInfo pl = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &c->set_layout[which],
    };
    VK(c->vk.vkCreatePipelineLayout(c->device, &pl, NULL, &c->pipeline_layout[which]));
done:
    return st;
}

vki_status vk_pipelines_init(vk_ctx *c)
{
    vki_status st = create_layouts(c, 0, 1);
    /* The windowed variants need 3 * VK_MAX_WINDOWS + 2 storage buffers in one stage. */
    c->caps.windows = c->props.limits.maxPerStageDescriptorStorageBuffers >= 3 * VK_MAX_WINDOWS + 2;
    if (st == VKI_OK && c->caps.windows)
        st = create_layouts(c, 1, VK_MAX_WINDOWS);
    if (st != VKI_OK)
        return st;
    /* Enough descriptors for the few sets of one call; the pool is reset after each. */
    const uint32_t sets = VK_SETS_PER_SUBMIT;
    VkDescriptorPoolSize sizes[2] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC, sets},
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, sets * (1 + 3 * VK_MAX_WINDOWS)},
    };
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = sets,
        .poolSizeCount = 2,
        .pPoolSizes = sizes,
    };
    VK(c->vk.vkCreateDescriptorPool(c->device, &info, NULL, &c->descriptor_pool));
    c->descriptor_sets_left = sets;
done:
    return st;
}

void vk_pipelines_destroy(vk_ctx *c)
{
    for (size_t i = 0; i < c->pipeline_count; i++)
        c->vk.vkDestroyPipeline(c->device, c->pipelines[i].pipeline, NULL);
    free(c->pipelines);
    for (int k = 0; k < VK_KERNEL_COUNT; k++)
        for (int v = 0; v < VK_VARIANT_COUNT; v++)
            if (c->modules[k][v])
                c->vk.vkDestroyShaderModule(c->device, c->modules[k][v], NULL);
    if (c->descriptor_pool)
        c->vk.vkDestroyDescriptorPool(c->device, c->descriptor_pool, NULL);
    for (int i = 0; i < 2; i++) {
        if (c->pipeline_layout[i])
            c->vk.vkDestroyPipelineLayout(c->device, c->pipeline_layout[i], NULL);
        if (c->set_layout[i])
            c->vk.vkDestroyDescriptorSetLayout(c->device, c->set_layout[i], NULL);
    }
}

static bool variant_windowed(uint32_t variant)
{
    return variant >= VK_VARIANT_W8_NATIVE;
}

vki_status vk_pipeline_get(vk_ctx *c, const vk_pipeline_key *key, VkPipeline *out)
{
    for (size_t i = 0; i < c->pipeline_count; i++)
        if (!memcmp(&c->pipelines[i].key, key, sizeof *key)) {
            *out = c->pipelines[i].pipeline;
            return VKI_OK;
        }
    vki_status st = VKI_OK;
    VkShaderModule *module = &c->modules[key->kernel][key->variant];
    if (!*module) {
        vk_spirv spv = vk_shader_code((vk_kernel)key->kernel, (vk_variant)key->variant);
        VkShaderModuleCreateInfo info = {
            .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
            .codeSize = spv.bytes,
            .pCode = spv.code,
        };
        VK(c->vk.vkCreateShaderModule(c->device, &info, NULL, module));
    }
    const uint32_t values[6] = {c->workgroup_size, key->elem_size, key->lanes_per_row, key->mode,
                                key->flags, key->pack ? key->pack : 1};
    VkSpecializationMapEntry entries[6];
    for (uint32_t i = 0; i < 6; i++)
        entries[i] = (VkSpecializationMapEntry){i, i * 4, 4};
    VkSpecializationInfo spec = {6, entries, sizeof values, values};
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = *module,
            .pName = "main",
            .pSpecializationInfo = &spec,
        },
        .layout = c->pipeline_layout[variant_windowed(key->variant)],
    };
    if (c->pipeline_count == c->pipeline_cap) {
        size_t cap = c->pipeline_cap ? 2 * c->pipeline_cap : 16;
        vk_pipeline_entry *grown = vki_realloc(c->pipelines, cap * sizeof *grown);
        if (!grown)
            return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        c->pipelines = grown;
        c->pipeline_cap = cap;
    }
    VkPipeline pipeline;
    VK(c->vk.vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &info, NULL, &pipeline));
    c->pipelines[c->pipeline_count++] = (vk_pipeline_entry){*key, pipeline};
    *out = pipeline;
done:
    return st;
}
