/*
 * The benchmark's copy bound on Vulkan (src/introspect.h): dst = src over two buffers of the
 * same size, either with the plainest copy shader (shaders/bound_copy.comp) or with
 * vkCmdCopyBuffer, timed like any submission (timestamps around its commands). Nothing here
 * is used by index_copy; everything it creates is destroyed before it returns.
 */
#include "vk_internal.h"

#include "bound_copy.h" /* vki_spv_bound_copy, compiled by shaders/meson.build */

/* Pieces of one chunk (and one binding) at most; a descriptor set each. */
static vki_status shader_copy(vk_ctx *c, vk_buffer *dst, vk_buffer *src, VkDeviceSize bytes)
{
    vki_status st = VKI_OK;
    VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkShaderModule module = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkDescriptorPool pool = VK_NULL_HANDLE;
    const VkDeviceSize piece = c->chunk_bytes;
    const uint32_t pieces = (uint32_t)((bytes + piece - 1) / piece);
    VkDescriptorSetLayoutBinding b[2];
    for (uint32_t i = 0; i < 2; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = i, .descriptorCount = 1,
                                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo sl = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .bindingCount = 2, .pBindings = b};
    VK(c->vk.vkCreateDescriptorSetLayout(c->device, &sl, NULL, &set_layout));
    VkPushConstantRange push = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 4};
    VkPipelineLayoutCreateInfo pl = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1, .pSetLayouts = &set_layout,
                                     .pushConstantRangeCount = 1, .pPushConstantRanges = &push};
    VK(c->vk.vkCreatePipelineLayout(c->device, &pl, NULL, &layout));
    VkShaderModuleCreateInfo sm = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                   .codeSize = sizeof vki_spv_bound_copy,
                                   .pCode = vki_spv_bound_copy};
    VK(c->vk.vkCreateShaderModule(c->device, &sm, NULL, &module));
    VkComputePipelineCreateInfo cp = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = module, .pName = "main"},
        .layout = layout,
    };
    VK(c->vk.vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &cp, NULL, &pipeline));
    VkDescriptorPoolSize size = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 * pieces};
    VkDescriptorPoolCreateInfo dp = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                     .maxSets = pieces, .poolSizeCount = 1, .pPoolSizes = &size};
    VK(c->vk.vkCreateDescriptorPool(c->device, &dp, NULL, &pool));
    TRY(vk_begin(c));
    c->vk.vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    for (uint32_t k = 0; k < pieces; k++) {
        VkDescriptorSet set;
        VkDescriptorSetAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                             .descriptorPool = pool, .descriptorSetCount = 1,
                                             .pSetLayouts = &set_layout};
        VK(c->vk.vkAllocateDescriptorSets(c->device, &alloc, &set));
        const VkDeviceSize at = (VkDeviceSize)k * piece, len = bytes - at < piece ? bytes - at : piece;
        VkDescriptorBufferInfo infos[2] = {vk_window(src, at, len), vk_window(dst, at, len)};
        VkWriteDescriptorSet w = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set,
                                  .dstBinding = 0, .descriptorCount = 2,
                                  .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                  .pBufferInfo = infos};
        c->vk.vkUpdateDescriptorSets(c->device, 1, &w, 0, NULL);
        const uint32_t words = (uint32_t)(len / 16);
        uint64_t groups = (words + 255) / 256;
        if (groups > c->props.limits.maxComputeWorkGroupCount[0])
            groups = c->props.limits.maxComputeWorkGroupCount[0]; /* the kernel loops */
        c->vk.vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
        c->vk.vkCmdPushConstants(c->cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &words);
        c->vk.vkCmdDispatch(c->cmd, (uint32_t)groups, 1, 1);
    }
    TRY(vk_submit_wait(c));
error:
    st = vk_abandon(c, st); /* (a failed wait has seen the submission end: see vk_command.c) */
    if (pool)
        c->vk.vkDestroyDescriptorPool(c->device, pool, NULL);
    if (pipeline)
        c->vk.vkDestroyPipeline(c->device, pipeline, NULL);
    if (module)
        c->vk.vkDestroyShaderModule(c->device, module, NULL);
    if (layout)
        c->vk.vkDestroyPipelineLayout(c->device, layout, NULL);
    if (set_layout)
        c->vk.vkDestroyDescriptorSetLayout(c->device, set_layout, NULL);
    return st;
}

vki_status vk_bound_copy(void *impl, const vki_view *dst, const vki_view *src, int method)
{
    vk_ctx *c = impl;
    vki_status st = VKI_OK;
    TRY(vk_check_lost(c));
    if (c->recording) /* vk_begin would drop a batch's queued calls */
        return vki_fail(VKI_ERROR_INVALID_ARGUMENT, "the copy bound cannot run inside a batch");
    const VkDeviceSize bytes = vk_buffer_of(dst)->size < vk_buffer_of(src)->size
                                   ? vk_buffer_of(dst)->size : vk_buffer_of(src)->size;
    if (bytes < 16)
        return VKI_OK; /* nothing the copy shader can move */
    if (method == 0) {
        TRY(shader_copy(c, vk_buffer_of(dst), vk_buffer_of(src), bytes & ~(VkDeviceSize)15));
    } else {
        TRY(vk_begin(c));
        vk_cmd_copy(c, vk_buffer_of(src), 0, vk_buffer_of(dst), 0, bytes);
        TRY(vk_submit_wait(c));
    }
error:
    return vk_abandon(c, st);
}

void vk_command_counts(void *impl, int64_t counts[5])
{
    const vk_ctx *c = impl;
    for (int i = 0; i < VK_COUNT_KINDS; i++)
        counts[i] = c->counts[i];
}
