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
    VkDescriptorSetLayoutBinding b[VKI_BINDING_COUNT];
    for (uint32_t i = 0; i < VKI_BINDING_COUNT; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = vk_binding_type(i),
            .descriptorCount = vk_binding_descriptors(i, windows),
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = VKI_BINDING_COUNT,
        .pBindings = b,
    };
    VK(c->vk.vkCreateDescriptorSetLayout(c->device, &info, NULL, &c->set_layout[which]));
    VkPipelineLayoutCreateInfo pl = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &c->set_layout[which],
    };
    VK(c->vk.vkCreatePipelineLayout(c->device, &pl, NULL, &c->pipeline_layout[which]));
error:
    return st;
}

vki_status vk_pipelines_init(vk_ctx *c)
{
    vki_status st = VKI_OK;
    TRY(create_layouts(c, 0, 1));
    /* The windowed variants need VK_WINDOWED_STORAGE_BUFFERS storage buffers in one stage. */
    c->caps.windows = c->props.limits.maxPerStageDescriptorStorageBuffers >= VK_WINDOWED_STORAGE_BUFFERS;
    if (c->caps.windows)
        TRY(create_layouts(c, 1, VKI_MAX_WINDOWS));
    /* The sets of one submission; the pool is reset by every vk_begin. */
    TRY(vk_descriptor_pool_create(c, VK_SETS_PER_SUBMIT, &c->run.pool));
    c->run.sets_left = VK_SETS_PER_SUBMIT;
error:
    return st;
}

vki_status vk_descriptor_pool_create(vk_ctx *c, uint32_t sets, VkDescriptorPool *out)
{
    vki_status st = VKI_OK;
    VkDescriptorPoolSize sizes[2] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER_DYNAMIC, sets},
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, sets * (VK_WINDOWED_STORAGE_BUFFERS - 1)},
    };
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = sets,
        .poolSizeCount = 2,
        .pPoolSizes = sizes,
    };
    VK(c->vk.vkCreateDescriptorPool(c->device, &info, NULL, out));
error:
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
    if (c->run.pool)
        c->vk.vkDestroyDescriptorPool(c->device, c->run.pool, NULL);
    for (int i = 0; i < 2; i++) {
        if (c->pipeline_layout[i])
            c->vk.vkDestroyPipelineLayout(c->device, c->pipeline_layout[i], NULL);
        if (c->set_layout[i])
            c->vk.vkDestroyDescriptorSetLayout(c->device, c->set_layout[i], NULL);
    }
}

vki_status vk_pipeline_get(vk_ctx *c, const vk_pipeline_key *key, VkPipeline *out)
{
    vki_status st = VKI_OK;
    for (size_t i = 0; i < c->pipeline_count; i++)
        if (!memcmp(&c->pipelines[i].key, key, sizeof *key)) {
            *out = c->pipelines[i].pipeline;
            goto error; /* found: st is VKI_OK */
        }
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
    uint32_t values[VKI_SPEC_COUNT];
    values[VKI_SPEC_WG] = c->workgroup_size;
    values[VKI_SPEC_ES] = key->elem_size;
    values[VKI_SPEC_LPR] = key->lanes_per_row;
    values[VKI_SPEC_MODE] = key->mode;
    values[VKI_SPEC_FLAGS] = key->flags;
    values[VKI_SPEC_PACK] = key->pack ? key->pack : 1;
    VkSpecializationMapEntry entries[VKI_SPEC_COUNT];
    for (uint32_t i = 0; i < VKI_SPEC_COUNT; i++)
        entries[i] = (VkSpecializationMapEntry){i, i * 4, 4};
    VkSpecializationInfo spec = {VKI_SPEC_COUNT, entries, sizeof values, values};
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = *module,
            .pName = "main",
            .pSpecializationInfo = &spec,
        },
        .layout = c->pipeline_layout[vk_variant_of((vk_variant)key->variant).windowed],
    };
    VK_GROW(c->pipelines, c->pipeline_cap, c->pipeline_count + 1, 16);
    VkPipeline pipeline;
    VK(c->vk.vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &info, NULL, &pipeline));
    c->pipelines[c->pipeline_count++] = (vk_pipeline_entry){*key, pipeline};
    *out = pipeline;
error:
    return st;
}
