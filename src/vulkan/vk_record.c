/*
 * Recorded operations: index_copy recorded into an application's command buffer (see
 * include/vkindex_vulkan.h for the contract). What the commands use must outlive the recording
 * and every submission of it, so it comes from pages that belong to the command buffer's
 * recording until vki_cmd_release: host-visible parameter blocks, a descriptor pool, and the
 * report slots where the kernels leave the first bad index of each operation for
 * vki_cmd_check. A call with more than VK_FUSED_MAX_INDICES indices also gets a scratch
 * buffer of its own (status word and winner map, cleared by every execution). Released pages
 * are kept for the next recordings, so memory stays flat.
 *
 * vkindex orders its operations of one recording among themselves: an operation that reads
 * memory an earlier one wrote, or writes memory an earlier one read or wrote (since vkindex's
 * last barrier in that command buffer), starts with one global barrier (compute and transfer,
 * writes -> reads and writes). Independent operations (the K and V of every layer for one
 * token) get none and may overlap on the GPU. Every operation has its own report slot, bound
 * at an offset of its own, so they share no memory of vkindex's. The application orders them
 * against its own commands and earlier submissions (include/vkindex_vulkan.h).
 */
#include "vk_internal.h"

#include <stdlib.h>
#include <string.h>

/* Launches (parameter blocks, descriptor sets) and report slots per page. */
#define PAGE_LAUNCHES 256

typedef struct vk_page {
    vk_arena arena;
    vk_buffer params, report;
    uint32_t reports_used;
    struct vk_page *next;
} vk_page;

/* A recorded operation: where its report is, and what its message needs. */
typedef struct vk_recorded {
    uint64_t sequence; /* recording order over the context */
    const vk_page *page;
    uint32_t report;
    int dim;
    int64_t dim_size;
} vk_recorded;

struct vk_recording {
    VkCommandBuffer cmd;
    vk_page *pages;      /* the newest first */
    vk_recorded *ops;
    size_t op_count, op_cap;
    vk_buffer *scratch;  /* scratch buffers of calls with a check pass */
    size_t scratch_count, scratch_cap;
    vk_hazards hazards;  /* since vkindex's last barrier in cmd */
    int64_t counts[4];   /* operations, dispatches, barriers, fills (vki_cmd_stats) */
    vk_recording *next;
};

/* Bytes between report slots: each is bound at an offset of its own. */
static VkDeviceSize report_stride(const vk_ctx *c)
{
    const VkDeviceSize align = c->props.limits.minStorageBufferOffsetAlignment;
    return align > 4 * VKI_REPORT_WORDS ? align : 4 * VKI_REPORT_WORDS;
}

static void page_destroy(vk_ctx *c, vk_page *p)
{
    if (p->arena.pool)
        c->vk.vkDestroyDescriptorPool(c->device, p->arena.pool, NULL);
    vk_buffer_destroy(c, &p->params);
    vk_buffer_destroy(c, &p->report);
    free(p);
}

/* An empty page: all report slots zero, every parameter block and set free. */
static void page_clear(vk_ctx *c, vk_page *p)
{
    c->vk.vkResetDescriptorPool(c->device, p->arena.pool, 0);
    p->arena.sets_left = PAGE_LAUNCHES;
    p->arena.params_used = 0;
    p->reports_used = 0;
    memset(p->report.first.mapped, 0, (size_t)p->report.size);
}

static vki_status page_create(vk_ctx *c, vk_page **out)
{
    vki_status st = VKI_OK;
    vk_page *p = vki_calloc(1, sizeof *p);
    if (!p)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    TRY(vk_buffer_create(c, (VkDeviceSize)PAGE_LAUNCHES * VKI_PARAM_SLOT_BYTES, VK_MEMORY_UPLOAD,
                         true, &p->params));
    TRY(vk_buffer_create(c, PAGE_LAUNCHES * report_stride(c), VK_MEMORY_READBACK, true,
                         &p->report));
    TRY(vk_descriptor_pool_create(c, PAGE_LAUNCHES, &p->arena.pool));
    p->arena.params = &p->params;
    page_clear(c, p);
    *out = p;
error:
    if (st != VKI_OK && p)
        page_destroy(c, p);
    return st;
}

static vk_recording *find(vk_ctx *c, VkCommandBuffer cmd)
{
    vk_recording *r = c->recordings;
    while (r && r->cmd != cmd)
        r = r->next;
    return r;
}

/* The recording of cmd, made on its first operation. */
static vki_status recording_of(vk_ctx *c, VkCommandBuffer cmd, vk_recording **out)
{
    vki_status st = VKI_OK;
    vk_recording *r = find(c, cmd);
    if (!r) {
        r = vki_calloc(1, sizeof *r);
        if (!r)
            TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
        r->cmd = cmd;
        r->next = c->recordings;
        c->recordings = r;
    }
    *out = r;
error:
    return st;
}

/* A page of r with room for one operation: its newest, a released one, or a new one. */
static vki_status page_with_room(vk_ctx *c, vk_recording *r, vk_page **out)
{
    vki_status st = VKI_OK;
    vk_page *p = r->pages;
    if (!p || p->reports_used == PAGE_LAUNCHES || p->arena.params_used + VK_CALL_LAUNCHES > PAGE_LAUNCHES ||
        p->arena.sets_left < VK_CALL_LAUNCHES) {
        if (c->free_pages) {
            p = c->free_pages;
            c->free_pages = p->next;
        } else {
            TRY(page_create(c, &p));
        }
        p->next = r->pages;
        r->pages = p;
    }
    *out = p;
error:
    return st;
}

/* Room for one more operation and one more scratch buffer in r. */
static vki_status reserve(vk_recording *r)
{
    vki_status st = VKI_OK;
    VK_GROW(r->ops, r->op_cap, r->op_count + 1, 64);
    VK_GROW(r->scratch, r->scratch_cap, r->scratch_count + 1, 16);
error:
    return st;
}

vki_status vk_record_index_copy(void *impl, void *command_buffer, const vki_copy_op *op)
{
    vk_ctx *c = impl;
    VkCommandBuffer cmd = command_buffer;
    vki_status st = VKI_OK;
    vk_recording *r;
    vk_page *p;
    vk_call_plan plan;
    vk_buffer scratch = {0};
    TRY(vk_check_lost(c));
    if (!c->imported)
        TRY(vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                     "this context runs on a device of its own, not on the application's (make "
                     "it with vki_context_create_vulkan)"));
    TRY(vk_plan_call(c, op, &plan));
    TRY(recording_of(c, cmd, &r));
    TRY(reserve(r));
    TRY(page_with_room(c, r, &p));
    const bool checks = op->check_index && !plan.fused;
    const uint32_t report = p->reports_used;
    p->arena.report = (VkDescriptorBufferInfo){p->report.first.buffer, report * report_stride(c),
                                               4 * VKI_REPORT_WORDS};
    p->arena.scratch = p->arena.report; /* a fused call touches no scratch */
    if (checks) { /* status word, duplicate flag and winner map of its own, slot 0 */
        TRY(vk_buffer_create(c, plan.scratch_bytes, VK_MEMORY_DEVICE, true, &scratch));
        p->arena.scratch = (VkDescriptorBufferInfo){
            scratch.first.buffer, 0,
            scratch.size < c->window_bytes ? scratch.size : c->window_bytes};
    }
    vk_prepared prepared[VK_CALL_LAUNCHES];
    TRY(vk_prepare_call(c, &p->arena, op, &plan, 0, 0, prepared)); /* report: at its offset */
    p->reports_used++;
    int dispatches = 0;
    for (int i = 0; i < VK_CALL_LAUNCHES; i++)
        dispatches += prepared[i].groups > 0;
    const bool barrier = vk_hazards_note(&r->hazards, op, checks);
    if (barrier)
        vk_call_barrier(c, cmd);
    r->counts[0]++;
    r->counts[1] += dispatches;
    r->counts[2] += barrier + checks + (dispatches > 1 ? dispatches - 1 : 0);
    r->counts[3] += checks;
    if (vk_clear_scratch(c, cmd, scratch.first.buffer, &plan, 0)) {
        r->scratch[r->scratch_count++] = scratch;
        scratch = (vk_buffer){0};
    }
    vk_dispatch_call(c, cmd, prepared);
    r->ops[r->op_count++] = (vk_recorded){.sequence = c->next_sequence++, .page = p,
                                          .report = report, .dim = op->dim,
                                          .dim_size = op->dst.shape[op->dim]};
error:
    vk_buffer_destroy(c, &scratch); /* nothing recorded uses it after a failure */
    return st;
}

vki_status vk_record_check(void *impl, void *command_buffer, vki_bad_index *bad, int *dim,
                           int64_t *dim_size)
{
    vk_ctx *c = impl;
    const vk_recorded *first = NULL;
    uint32_t first_words[VKI_REPORT_WORDS] = {0};
    for (vk_recording *r = c->recordings; r; r = r->next)
        for (size_t i = 0; i < r->op_count && (!command_buffer || r->cmd == command_buffer); i++) {
            const vk_recorded *op = &r->ops[i];
            const uint32_t *words =
                (const uint32_t *)((const char *)op->page->report.first.mapped +
                                   op->report * report_stride(c));
            if (words[0] != 0 && (!first || op->sequence < first->sequence)) {
                first = op;
                memcpy(first_words, words, sizeof first_words);
            }
        }
    for (vk_recording *r = c->recordings; r; r = r->next) /* the next check starts afresh */
        for (vk_page *p = r->pages; p && (!command_buffer || r->cmd == command_buffer); p = p->next)
            memset(p->report.first.mapped, 0, (size_t)p->report.size);
    *bad = (vki_bad_index){.call = -1};
    if (!first)
        return VKI_OK;
    *bad = (vki_bad_index){.call = 0, .position = ~first_words[0],
                           .value = (int64_t)((uint64_t)first_words[2] << 32 | first_words[1])};
    *dim = first->dim;
    *dim_size = first->dim_size;
    return VKI_ERROR_INDEX;
}

static void recording_free(vk_ctx *c, vk_recording *r)
{
    while (r->pages) {
        vk_page *p = r->pages;
        r->pages = p->next;
        page_clear(c, p);
        p->next = c->free_pages;
        c->free_pages = p;
    }
    for (size_t i = 0; i < r->scratch_count; i++)
        vk_buffer_destroy(c, &r->scratch[i]);
    free(r->scratch);
    free(r->ops);
    free(r);
}

void vk_record_release(void *impl, void *command_buffer)
{
    vk_ctx *c = impl;
    for (vk_recording **at = &c->recordings; *at; at = &(*at)->next)
        if ((*at)->cmd == (VkCommandBuffer)command_buffer) {
            vk_recording *r = *at;
            *at = r->next;
            recording_free(c, r);
            return;
        }
}

void vk_record_stats(void *impl, void *command_buffer, int64_t counts[4])
{
    const vk_recording *r = find(impl, command_buffer);
    for (int i = 0; i < 4; i++)
        counts[i] = r ? r->counts[i] : 0;
}

void vk_record_destroy_all(vk_ctx *c)
{
    while (c->recordings) {
        vk_recording *r = c->recordings;
        c->recordings = r->next;
        recording_free(c, r);
    }
    while (c->free_pages) {
        vk_page *p = c->free_pages;
        c->free_pages = p->next;
        page_destroy(c, p);
    }
}
