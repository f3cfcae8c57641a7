/*
 * The context's one command buffer: beginning a submission, barriers, submitting and waiting,
 * and what a failure means at each point. Before vkQueueSubmit nothing has run, so a failure
 * (the validation layer's too, looked at before submitting) changes nothing. After it the
 * device may have written anything the submission writes: a wait that fails is retried once,
 * and if it fails again the context is lost, once a last wait has seen the submission end (so
 * that nothing of the call runs after it returns; every later call returns
 * VKI_ERROR_DEVICE_LOST at once, and destroying waits for the device before it frees anything).
 */
#include "vk_internal.h"

vki_status vk_check_validation(vk_ctx *c)
{
    if (!c->validation_failed)
        return VKI_OK;
    c->validation_failed = false;
    return vki_fail(VKI_ERROR_VULKAN, "Vulkan validation: %s", c->validation_message);
}

vki_status vk_check_lost(const vk_ctx *c)
{
    if (!c->lost)
        return VKI_OK;
    return vki_fail(VKI_ERROR_DEVICE_LOST,
                    "the Vulkan device of this context is lost (%s); destroy the context and "
                    "its tensors, and create a new one", c->lost_reason);
}

static vki_status lose(vk_ctx *c, VkResult r, const char *what)
{
    c->lost = true;
    snprintf(c->lost_reason, sizeof c->lost_reason, "%s failed with %s after the work was "
             "submitted", what, vk_result_name(r));
    return vki_fail(VKI_ERROR_DEVICE_LOST,
                    "%s failed with %s after the work was submitted: the call may have been "
                    "carried out in part, the tensors it writes are undefined, and the context "
                    "can no longer be used", what, vk_result_name(r));
}

void vk_barrier_on(vk_ctx *c, VkCommandBuffer cmd, VkPipelineStageFlags src_stage,
                   VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                   VkAccessFlags dst_access)
{
    VkMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    c->vk.vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &b, 0, NULL, 0, NULL);
    c->counts[VK_COUNT_BARRIERS] += cmd == c->cmd;
}

void vk_barrier(vk_ctx *c, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    vk_barrier_on(c, c->cmd, src_stage, src_access, dst_stage, dst_access);
}

/* The byte range of a view's elements in its VkBuffer. */
static vk_access access_of(const vki_view *v, bool write)
{
    const vk_buffer *b = vk_buffer_of(v);
    uint64_t lo, hi;
    vki_view_span(v->ndim, v->shape, v->strides, v->offset, v->elem_size, &lo, &hi);
    return (vk_access){b->first.buffer, b->first.base + lo, b->first.base + hi, write, b->foreign};
}

/* Whether two accesses may touch the same bytes, one of them writing. Two foreign buffers may
 * share memory whatever their ranges (an application's buffers over one allocation, or host
 * memory wrapped twice), so they are taken to. */
static bool conflicts(const vk_access *a, const vk_access *b)
{
    if (!a->write && !b->write)
        return false;
    if (a->buffer == b->buffer)
        return a->lo < b->hi && b->lo < a->hi;
    return a->foreign && b->foreign;
}

bool vk_hazards_note(vk_hazards *h, const vki_copy_op *op, bool force)
{
    vk_access mine[4];
    int n = 0;
    mine[n++] = access_of(&op->dst, true);
    mine[n++] = access_of(&op->src, false);
    mine[n++] = access_of(&op->index, false);
    if (op->base.storage)
        mine[n++] = access_of(&op->base, false);
    bool conflict = force || h->count + n > VK_TRACKED_ACCESSES;
    for (int i = 0; i < h->count && !conflict; i++)
        for (int k = 0; k < n && !conflict; k++)
            conflict = conflicts(&h->tracked[i], &mine[k]);
    if (conflict)
        h->count = 0;
    for (int k = 0; k < n; k++)
        h->tracked[h->count++] = mine[k];
    return conflict;
}

void vk_call_barrier(vk_ctx *c, VkCommandBuffer cmd)
{
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vk_barrier_on(c, cmd, stages, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, stages,
                  VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
}

vki_status vk_begin(vk_ctx *c)
{
    vki_status st = VKI_OK;
    TRY(vk_check_lost(c));
    if (!c->fence) { /* the last one could not be reset after its wait: a new one */
        VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        VK(c->vk.vkCreateFence(c->device, &fence, NULL, &c->fence));
    }
    VK(c->vk.vkResetDescriptorPool(c->device, c->run.pool, 0));
    c->run.sets_left = VK_SETS_PER_SUBMIT;
    c->run.params_used = 0;
    c->calls_in_submission = 0;
    c->hazards.count = 0;
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    /* Whatever state a failed recording left it in (never pending: that would be lost). */
    VK(c->vk.vkResetCommandBuffer(c->cmd, 0));
    VK(c->vk.vkBeginCommandBuffer(c->cmd, &begin));
    c->recording = true;
    vk_barrier(c, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT,
               VK_ACCESS_MEMORY_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT,
               VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
               VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    if (c->caps.timestamps) {
        c->vk.vkCmdResetQueryPool(c->cmd, c->timestamps, 0, 2);
        c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->timestamps, 0);
    }
error:
    return st;
}

vki_status vk_abandon(vk_ctx *c, vki_status st)
{
    if (c->recording) {
        c->vk.vkEndCommandBuffer(c->cmd);
        c->recording = false;
    }
    return st;
}

/* Ends the recording and submits it: when this fails, nothing has run. */
static vki_status submit(vk_ctx *c)
{
    vki_status st = VKI_OK;
    if (c->caps.timestamps)
        c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->timestamps, 1);
    vk_barrier(c, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
               VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    c->recording = false;
    VK(c->vk.vkEndCommandBuffer(c->cmd));
    /* Whatever the layer said about the recording: the submission must not run. */
    TRY(vk_check_validation(c));
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &c->cmd,
    };
    if (c->lock_queue) /* an application's queue, which its own threads may use */
        c->lock_queue(c->queue_user);
    VkResult r = VK_TRY(c->vk.vkQueueSubmit(c->queue, 1, &submit, c->fence));
    c->counts[VK_COUNT_SUBMISSIONS] += r == VK_SUCCESS;
    if (c->unlock_queue)
        c->unlock_queue(c->queue_user);
    if (r == VK_ERROR_DEVICE_LOST)
        TRY(lose(c, r, "vkQueueSubmit"));
    if (r != VK_SUCCESS) /* nothing was submitted */
        TRY(vk_fail(r, "vkQueueSubmit", __FILE__, __LINE__));
    TRY(vk_check_validation(c)); /* the layer skipped the submission */
error:
    return st;
}

/* Waits for the submission; from here on the device may be writing, so a wait that fails
 * (twice) loses the context. */
static vki_status wait_done(vk_ctx *c)
{
    vki_status st = VKI_OK;
    VkResult r = VK_TRY(c->vk.vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, UINT64_MAX));
    if (r != VK_SUCCESS && r != VK_ERROR_DEVICE_LOST)
        r = VK_TRY(c->vk.vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, UINT64_MAX));
    if (r != VK_SUCCESS) {
        /* The submission may still be running (a device that reports a failed wait is not
         * always gone): one last wait, made even under fault injection, so that no work of
         * this call outlives it. A device that is really lost answers at once. */
        c->vk.vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
        TRY(lose(c, r, "vkWaitForFences"));
    }
    if (VK_TRY(c->vk.vkResetFences(c->device, 1, &c->fence)) != VK_SUCCESS) {
        /* The work is done; only the fence cannot be used again. */
        c->vk.vkDestroyFence(c->device, c->fence, NULL);
        c->fence = VK_NULL_HANDLE;
    }
    c->last_kernel_ns = -1;
    if (c->caps.timestamps) {
        uint64_t t[2];
        r = VK_TRY(c->vk.vkGetQueryPoolResults(c->device, c->timestamps, 0, 2, sizeof t, t,
                                               sizeof t[0], VK_QUERY_RESULT_64_BIT |
                                               VK_QUERY_RESULT_WAIT_BIT));
        if (r == VK_SUCCESS) /* else the call is done all the same; its time is unknown */
            c->last_kernel_ns = (double)(t[1] - t[0]) * c->props.limits.timestampPeriod;
    }
    TRY(vk_check_validation(c));
error:
    return st;
}

vki_status vk_submit_wait(vk_ctx *c)
{
    vki_status st = VKI_OK;
    TRY(submit(c));
    TRY(wait_done(c));
error:
    return st;
}
