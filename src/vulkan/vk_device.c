/*
 * The logical device: what the chosen device offers (features, limits, memory, timestamps),
 * the device with exactly the features the kernels may use, its queue, command pool, fence
 * and the buffers every call uses; the backend's creation and destruction.
 */
#include "vk_internal.h"
#include "vkindex_vulkan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_env_caps(vk_caps *caps)
{
    const char *disable = getenv("VKI_VULKAN_DISABLE");
    if (disable) {
        if (strstr(disable, "storage8_16"))
            caps->native_subword = false;
        if (strstr(disable, "int64"))
            caps->int64 = false;
        if (strstr(disable, "host_memory"))
            caps->host_import = false;
    }
    const char *split = getenv("VKI_VULKAN_SPLIT");
    if (split && !strcmp(split, "1"))
        caps->force_windows = true;
    if (split && !strcmp(split, "64"))
        caps->force_windows = caps->force_off64 = true;
}

/* Whether the device offers VK_EXT_external_memory_host (vki_tensor_wrap_host), and the
 * alignment it imports host memory at. */
static vki_status read_host_import(vk_ctx *c)
{
    vki_status st = VKI_OK;
    VkExtensionProperties *list = NULL;
    uint32_t n = 0;
    VK(c->in.vkEnumerateDeviceExtensionProperties(c->physical, NULL, &n, NULL));
    list = vki_calloc(n ? n : 1, sizeof *list);
    if (!list)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    VK(c->in.vkEnumerateDeviceExtensionProperties(c->physical, NULL, &n, list));
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(list[i].extensionName, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME))
            c->caps.host_import = true;
    if (c->caps.host_import) {
        VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT};
        VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                          .pNext = &host};
        c->in.vkGetPhysicalDeviceProperties2(c->physical, &p2);
        c->host_pointer_alignment = host.minImportedHostPointerAlignment;
    }
error:
    free(list);
    return st;
}

/* What the chosen device offers, as vk_caps and limits (before anything is created). */
static vki_status read_device(vk_ctx *c, const vk_candidate *cd)
{
    vki_status st = VKI_OK;
    c->physical = cd->physical;
    c->props = cd->props;
    c->queue_family = (uint32_t)cd->queue_family;
    c->in.vkGetPhysicalDeviceMemoryProperties(c->physical, &c->memory_props);

    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                            .pNext = &f12};
    VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    c->in.vkGetPhysicalDeviceFeatures2(c->physical, &f);
    c->caps.native_subword = f12.storageBuffer8BitAccess && f11.storageBuffer16BitAccess;
    c->caps.int64 = f.features.shaderInt64;
    TRY(read_host_import(c));
    read_env_caps(&c->caps);

    VkPhysicalDeviceMaintenance4Properties m4 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES,
                                                 .maxBufferSize = UINT64_MAX};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                 /* maxBufferSize is a Vulkan 1.3 property */
                                                 .pNext = c->props.apiVersion >= VK_API_VERSION_1_3 ? &m4 : NULL};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    c->in.vkGetPhysicalDeviceProperties2(c->physical, &p2);
    c->max_allocation = m3.maxMemoryAllocationSize;
    c->max_buffer = m4.maxBufferSize;

    uint32_t nq = 0;
    c->in.vkGetPhysicalDeviceQueueFamilyProperties(c->physical, &nq, NULL);
    VkQueueFamilyProperties *q = vki_calloc(nq, sizeof *q);
    if (!q)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"));
    c->in.vkGetPhysicalDeviceQueueFamilyProperties(c->physical, &nq, q);
    c->caps.timestamps = q[c->queue_family].timestampValidBits > 0 &&
                         c->props.limits.timestampPeriod > 0;
    free(q);

    const VkPhysicalDeviceLimits *lim = &c->props.limits;
    uint32_t wg = 256;
    if (wg > lim->maxComputeWorkGroupInvocations)
        wg = lim->maxComputeWorkGroupInvocations;
    if (wg > lim->maxComputeWorkGroupSize[0])
        wg = lim->maxComputeWorkGroupSize[0];
    c->workgroup_size = wg;
    uint64_t align = lim->minStorageBufferOffsetAlignment > 64 ? lim->minStorageBufferOffsetAlignment : 64;
    c->window_bytes = (uint64_t)lim->maxStorageBufferRange / align * align;
error:
    return st;
}

/* The function of VK_EXT_external_memory_host, on a device that has it enabled. */
static void load_host_import(vk_ctx *c)
{
    if (c->caps.host_import)
        c->get_host_pointer_properties = (PFN_vkGetMemoryHostPointerPropertiesEXT)
            c->in.vkGetDeviceProcAddr(c->device, "vkGetMemoryHostPointerPropertiesEXT");
    c->caps.host_import = c->get_host_pointer_properties != NULL;
}

/* The logical device with exactly the features the kernels may use, and its queue. */
static vki_status create_logical(vk_ctx *c)
{
    vki_status st = VKI_OK;
    VkPhysicalDeviceVulkan12Features e12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .storageBuffer8BitAccess = c->caps.native_subword,
    };
    VkPhysicalDeviceVulkan11Features e11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .pNext = &e12,
        .storageBuffer16BitAccess = c->caps.native_subword,
    };
    VkPhysicalDeviceFeatures2 e = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &e11,
        .features = {.shaderInt64 = c->caps.int64},
    };
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = c->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    const char *host_import = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &e,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = c->caps.host_import,
        .ppEnabledExtensionNames = &host_import,
    };
    VK(c->in.vkCreateDevice(c->physical, &info, NULL, &c->device));
    TRY(vk_load_device_functions(c));
    load_host_import(c);
    c->vk.vkGetDeviceQueue(c->device, c->queue_family, 0, &c->queue);
error:
    if (st != VKI_OK && c->device) { /* destroy cannot use a table that is not complete */
        PFN_vkDestroyDevice destroy =
            (PFN_vkDestroyDevice)c->in.vkGetDeviceProcAddr(c->device, "vkDestroyDevice");
        if (destroy)
            destroy(c->device, NULL);
        c->device = VK_NULL_HANDLE;
    }
    return st;
}

/* The command pool and buffer, the fence and the timestamp queries. */
static vki_status create_commands(vk_ctx *c)
{
    vki_status st = VKI_OK;
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = c->queue_family,
    };
    VK(c->vk.vkCreateCommandPool(c->device, &pool, NULL, &c->command_pool));
    VkCommandBufferAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = c->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VK(c->vk.vkAllocateCommandBuffers(c->device, &alloc, &c->cmd));
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK(c->vk.vkCreateFence(c->device, &fence, NULL, &c->fence));
    if (c->caps.timestamps) {
        VkQueryPoolCreateInfo qp = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = 2,
        };
        VK(c->vk.vkCreateQueryPool(c->device, &qp, NULL, &c->timestamps));
    }
error:
    return st;
}

/* What every context needs on its device once the device exists. */
static vki_status create_resources(vk_ctx *c)
{
    vki_status st = VKI_OK;
    TRY(create_commands(c));
    TRY(vk_memory_init(c));
    TRY(vk_pipelines_init(c));
    TRY(vk_buffer_create(c, (VkDeviceSize)VK_PARAMS_PER_SUBMIT * VKI_PARAM_SLOT_BYTES,
                         VK_MEMORY_UPLOAD, true, &c->params));
    TRY(vk_buffer_create(c, (VkDeviceSize)VKI_SCRATCH_SLOTS * 4 * VKI_REPORT_WORDS,
                         VK_MEMORY_READBACK, true, &c->reports));
    memset(c->reports.first.mapped, 0, (size_t)c->reports.size);
    TRY(vk_buffer_create(c, 4096, VK_MEMORY_DEVICE, true, &c->scratch));
    c->run.params = &c->params;
    c->run.report = (VkDescriptorBufferInfo){c->reports.first.buffer, 0, c->reports.size};
error:
    return st;
}

/* Everything a context needs on the chosen device; vk_context_destroy undoes a part. */
static vki_status create_device(vk_ctx *c, const vk_candidate *cd)
{
    vki_status st = VKI_OK;
    TRY(read_device(c, cd));
    TRY(create_logical(c));
    TRY(create_resources(c));
error:
    return st;
}

void vk_context_destroy(void *impl)
{
    vk_ctx *c = impl;
    c->destroying = true;
    if (c->device) {
        /* Every submission of ours has been waited for; on an application's device waiting
         * for it all would need its queues (and the application may be using them). */
        if (!c->imported)
            c->vk.vkDeviceWaitIdle(c->device);
        vk_record_destroy_all(c);
        vk_buffer_destroy(c, &c->params);
        vk_buffer_destroy(c, &c->reports);
        vk_buffer_destroy(c, &c->scratch);
        vk_buffer_destroy(c, &c->staging);
        vk_memory_destroy(c);
        vk_pipelines_destroy(c);
        free(c->pending);
        if (c->timestamps)
            c->vk.vkDestroyQueryPool(c->device, c->timestamps, NULL);
        if (c->fence)
            c->vk.vkDestroyFence(c->device, c->fence, NULL);
        if (c->command_pool)
            c->vk.vkDestroyCommandPool(c->device, c->command_pool, NULL);
        if (!c->imported)
            c->vk.vkDestroyDevice(c->device, NULL);
    }
    if (c->imported) {
        free(c);
        return;
    }
    if (c->messenger)
        c->in.vkDestroyDebugUtilsMessengerEXT(c->instance, c->messenger, NULL);
    if (c->instance)
        c->in.vkDestroyInstance(c->instance, NULL);
    free(c);
}

vki_status vki_vulkan_backend_create(const vki_vulkan_request *req, const vki_backend_ops **ops,
                                     void **impl, char *name, size_t name_cap)
{
    vki_status st = VKI_OK;
    vk_candidate *list = NULL;
    vk_ctx *c = vki_calloc(1, sizeof *c);
    if (!c)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory"));
    c->bad.call = -1;
    TRY(vk_instance_create(c, req->validation));
    uint32_t count = 0;
    TRY(vk_list_candidates(c, &list, &count));
    char reason[1536];
    int pick = vk_pick_device(list, count, req->device, req->required, reason, sizeof reason);
    if (pick < 0)
        TRY(vki_fail(VKI_ERROR_NO_DEVICE, "vki_context_create: %s", reason));
    TRY(create_device(c, &list[pick]));
    TRY(vk_check_validation(c));
    snprintf(name, name_cap, "%s", c->props.deviceName);
    *ops = &vk_backend_ops;
    *impl = c;
error:
    free(list);
    if (st != VKI_OK && c)
        vk_context_destroy(c);
    return st;
}

/* What an application enabled, from the feature chain it created its device with: the
 * optional paths are used only where the feature is both supported and enabled. */
static void enabled_caps(const VkPhysicalDeviceFeatures2 *chain, vk_caps *caps)
{
    bool s8 = false, s16 = false, i64 = false;
    for (const VkBaseInStructure *p = (const VkBaseInStructure *)chain; p; p = p->pNext) {
        switch (p->sType) {
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2:
            i64 = i64 || ((const VkPhysicalDeviceFeatures2 *)p)->features.shaderInt64;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES:
            s16 = s16 || ((const VkPhysicalDeviceVulkan11Features *)p)->storageBuffer16BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES:
            s8 = s8 || ((const VkPhysicalDeviceVulkan12Features *)p)->storageBuffer8BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES:
            s16 = s16 || ((const VkPhysicalDevice16BitStorageFeatures *)p)->storageBuffer16BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES:
            s8 = s8 || ((const VkPhysicalDevice8BitStorageFeatures *)p)->storageBuffer8BitAccess;
            break;
        default:
            break;
        }
    }
    caps->native_subword = caps->native_subword && s8 && s16;
    caps->int64 = caps->int64 && i64;
}

/* The application's physical device as a candidate: Vulkan 1.2 and a compute family. */
static vki_status import_candidate(vk_ctx *c, const vki_vulkan_device *dev, vk_candidate *cd)
{
    vki_status st = VKI_OK;
    *cd = (vk_candidate){.physical = dev->physical_device, .queue_family = (int)dev->queue_family};
    c->in.vkGetPhysicalDeviceProperties(cd->physical, &cd->props);
    if (cd->props.apiVersion < VK_API_VERSION_1_2 || dev->api_version < VK_API_VERSION_1_2)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED,
                     "vki_context_create_vulkan: vkindex needs Vulkan 1.2 (device %u.%u, "
                     "instance %u.%u)", VK_API_VERSION_MAJOR(cd->props.apiVersion),
                     VK_API_VERSION_MINOR(cd->props.apiVersion),
                     VK_API_VERSION_MAJOR(dev->api_version), VK_API_VERSION_MINOR(dev->api_version)));
    uint32_t nq = 0;
    c->in.vkGetPhysicalDeviceQueueFamilyProperties(cd->physical, &nq, NULL);
    VkQueueFamilyProperties *q = vki_calloc(nq ? nq : 1, sizeof *q);
    if (!q)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create_vulkan: out of host memory"));
    c->in.vkGetPhysicalDeviceQueueFamilyProperties(cd->physical, &nq, q);
    const bool compute = dev->queue_family < nq && (q[dev->queue_family].queueFlags & VK_QUEUE_COMPUTE_BIT);
    free(q);
    if (!compute)
        TRY(vki_fail(VKI_ERROR_INVALID_ARGUMENT,
                     "vki_context_create_vulkan: queue family %u has no compute", dev->queue_family));
error:
    return st;
}

vki_status vki_vulkan_backend_import(const vki_vulkan_device *dev, const vki_backend_ops **ops,
                                     void **impl, char *name, size_t name_cap)
{
    vki_status st = VKI_OK;
    vk_ctx *c = vki_calloc(1, sizeof *c);
    if (!c)
        TRY(vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create_vulkan: out of host memory"));
    *c = (vk_ctx){.bad = {.call = -1}, .imported = true, .instance = dev->instance,
                  .lock_queue = dev->lock_queue, .unlock_queue = dev->unlock_queue,
                  .queue_user = dev->queue_user};
    TRY(vk_load_instance_functions(c, dev->get_instance_proc_addr));
    vk_candidate cd;
    TRY(import_candidate(c, dev, &cd));
    TRY(read_device(c, &cd));
    enabled_caps(dev->enabled_features, &c->caps);
    bool host_import = false; /* only if the application enabled it */
    for (uint32_t i = 0; i < dev->enabled_extension_count; i++)
        host_import = host_import ||
                      !strcmp(dev->enabled_extensions[i], VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
    c->caps.host_import = c->caps.host_import && host_import;
    c->device = dev->device;
    if ((st = vk_load_device_functions(c)) != VKI_OK) {
        c->device = VK_NULL_HANDLE; /* nothing of ours on it yet, and no table to destroy with */
        goto error;
    }
    load_host_import(c);
    c->queue = dev->queue;
    TRY(create_resources(c));
    snprintf(name, name_cap, "%s", c->props.deviceName);
    *ops = &vk_backend_ops;
    *impl = c;
error:
    if (st != VKI_OK && c)
        vk_context_destroy(c);
    return st;
}
