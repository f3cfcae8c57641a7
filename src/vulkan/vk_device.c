/*
 * The Vulkan backend's device side: loading Vulkan through volk (the library links no
 * libvulkan), the instance with the optional validation layer, the choice of a physical
 * device (AUTO: the best hardware GPU; software devices only when named), the logical device
 * with the features vkindex uses, and the report that vkindex-info prints.
 */
#include "vk_internal.h"
#include "vk_report.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *vk_result_name(VkResult r)
{
    switch (r) {
#define NAME(x) case x: return #x;
    NAME(VK_SUCCESS) NAME(VK_NOT_READY) NAME(VK_TIMEOUT) NAME(VK_INCOMPLETE)
    NAME(VK_ERROR_OUT_OF_HOST_MEMORY) NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    NAME(VK_ERROR_INITIALIZATION_FAILED) NAME(VK_ERROR_DEVICE_LOST)
    NAME(VK_ERROR_MEMORY_MAP_FAILED) NAME(VK_ERROR_LAYER_NOT_PRESENT)
    NAME(VK_ERROR_EXTENSION_NOT_PRESENT) NAME(VK_ERROR_FEATURE_NOT_PRESENT)
    NAME(VK_ERROR_INCOMPATIBLE_DRIVER) NAME(VK_ERROR_TOO_MANY_OBJECTS)
    NAME(VK_ERROR_FORMAT_NOT_SUPPORTED) NAME(VK_ERROR_FRAGMENTED_POOL)
    NAME(VK_ERROR_UNKNOWN) NAME(VK_ERROR_OUT_OF_POOL_MEMORY)
    NAME(VK_ERROR_FRAGMENTATION) NAME(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    NAME(VK_ERROR_VALIDATION_FAILED_EXT)
#undef NAME
    default: return "VkResult (unnamed)";
    }
}

vki_status vk_fail_on(vk_ctx *c, VkResult r, const char *what, const char *file, int line)
{
    if (c->validation_failed) /* the layer's message says more (and it made the call fail) */
        return vk_check_validation(c);
    if (r == VK_ERROR_DEVICE_LOST && !c->lost) { /* every later call fails at once */
        c->lost = true;
        snprintf(c->lost_reason, sizeof c->lost_reason, "%s returned VK_ERROR_DEVICE_LOST", what);
    }
    return vk_fail(r, what, file, line);
}

vki_status vk_fail(VkResult r, const char *what, const char *file, int line)
{
    vki_status st = r == VK_ERROR_OUT_OF_HOST_MEMORY     ? VKI_ERROR_OUT_OF_HOST_MEMORY
                    : r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? VKI_ERROR_OUT_OF_DEVICE_MEMORY
                    : r == VK_ERROR_DEVICE_LOST          ? VKI_ERROR_DEVICE_LOST
                                                         : VKI_ERROR_VULKAN;
    const char *base = strrchr(file, '/');
    return vki_fail(st, "%s failed: %s (%d) at %s:%d", what, vk_result_name(r), (int)r,
                    base ? base + 1 : file, line);
}

/* ---- loading ---- */

static pthread_mutex_t volk_lock = PTHREAD_MUTEX_INITIALIZER;
static VkResult volk_status = VK_NOT_READY;

static bool load_vulkan(void)
{
    pthread_mutex_lock(&volk_lock);
    if (volk_status == VK_NOT_READY)
        volk_status = volkInitialize();
    pthread_mutex_unlock(&volk_lock);
    return volk_status == VK_SUCCESS;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    (void)types;
    vk_ctx *c = user;
    if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
        return VK_FALSE;
    if (!c->validation_failed)
        snprintf(c->validation_message, sizeof c->validation_message, "%s", data->pMessage);
    c->validation_failed = true;
    fprintf(stderr, "vkindex: Vulkan validation: %s\n", data->pMessage);
    /* While a context is destroyed no call can return the message (it usually names an object
     * vkindex forgot to destroy): validation is a debugging mode, so stop here. */
    if (c->destroying) {
        fprintf(stderr, "vkindex: Vulkan validation failed while destroying a context; aborting\n");
        abort();
    }
    /* An error makes the layer skip the call, so that an invalid submission never runs. */
    return severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? VK_TRUE : VK_FALSE;
}

/* Whether the loader offers the layer; OUT_OF_HOST_MEMORY (never "not installed") when the
 * list cannot be read for want of memory. */
static vki_status find_layer(const char *name, bool *found)
{
    uint32_t count = 0;
    *found = false;
    if (vkEnumerateInstanceLayerProperties(&count, NULL) != VK_SUCCESS || count == 0)
        return VKI_OK;
    VkLayerProperties *layers = vki_calloc(count, sizeof *layers);
    if (!layers)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");
    if (vkEnumerateInstanceLayerProperties(&count, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < count && !*found; i++)
            *found = !strcmp(layers[i].layerName, name);
    free(layers);
    return VKI_OK;
}

/* Creates the instance; NO_DEVICE with the reason when Vulkan is not usable. */
static vki_status create_instance(vk_ctx *c, bool validation)
{
    if (!load_vulkan())
        return vki_fail(VKI_ERROR_NO_DEVICE,
                        "no Vulkan loader: libvulkan.so.1 could not be loaded (install "
                        "libvulkan1 and a Vulkan driver)");
    uint32_t api = VK_API_VERSION_1_0;
    if (vkEnumerateInstanceVersion)
        vkEnumerateInstanceVersion(&api);
    if (api < VK_API_VERSION_1_2)
        return vki_fail(VKI_ERROR_NO_DEVICE,
                        "the Vulkan loader supports only Vulkan %u.%u; vkindex needs 1.2",
                        VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api));
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    bool layer_found = false;
    vki_status st = validation ? find_layer(layer, &layer_found) : VKI_OK;
    if (st != VKI_OK)
        return st;
    if (validation && !layer_found)
        return vki_fail(VKI_ERROR_NO_DEVICE,
                        "validation was requested but the Khronos validation layer is not "
                        "installed (Debian package vulkan-validationlayers)");
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = &sync,
    };
    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .pNext = &features,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation,
        .pUserData = c,
    };
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkindex",
        .pEngineName = "vkindex",
        .apiVersion = VK_API_VERSION_1_2,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validation ? &messenger : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1 : 0,
        .ppEnabledLayerNames = &layer,
        .enabledExtensionCount = validation ? 1 : 0,
        .ppEnabledExtensionNames = &ext,
    };
    VkResult r = VK_TRY(vkCreateInstance(&info, NULL, &c->instance));
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return vki_fail(VKI_ERROR_NO_DEVICE,
                        "no Vulkan driver: vkCreateInstance found no usable ICD "
                        "(VK_ERROR_INCOMPATIBLE_DRIVER)");
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        return vk_fail(r, "vkCreateInstance", __FILE__, __LINE__);
    if (r != VK_SUCCESS)
        return vki_fail(VKI_ERROR_NO_DEVICE, "vkCreateInstance failed: %s", vk_result_name(r));
    /* The context's own instance functions; nothing global is written after the one-time
     * initialisation (volk's loader functions, and its vkGetDeviceProcAddr: the loader's
     * trampoline, the same for every instance and device). */
#define LOAD_INSTANCE_FUNCTION(name) c->in.name = (PFN_##name)vkGetInstanceProcAddr(c->instance, #name);
    VK_INSTANCE_FUNCTIONS(LOAD_INSTANCE_FUNCTION)
#undef LOAD_INSTANCE_FUNCTION
    pthread_mutex_lock(&volk_lock);
    if (!vkGetDeviceProcAddr)
        vkGetDeviceProcAddr = c->in.vkGetDeviceProcAddr;
    pthread_mutex_unlock(&volk_lock);
    c->validation = validation;
    if (validation) {
        messenger.pNext = NULL;
        r = VK_TRY(c->in.vkCreateDebugUtilsMessengerEXT(c->instance, &messenger, NULL, &c->messenger));
        if (r != VK_SUCCESS)
            return vk_fail(r, "vkCreateDebugUtilsMessengerEXT", __FILE__, __LINE__);
    }
    return VKI_OK;
}

/* ---- choosing a device ---- */

typedef struct candidate {
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties props;
    int queue_family;        /* -1: none with compute */
    const char *unusable;    /* why it cannot be used, or NULL */
} candidate;

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER: return 1;
    default: return 0; /* CPU: software rasterisers */
    }
}

static const char *vk_device_type_name(int type)
{
    switch ((VkPhysicalDeviceType)type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU (software)";
    default: return "other";
    }
}

/* The physical devices and why each is unusable, if it is. An empty list is not an error
 * here (the caller words it); a failure to allocate or enumerate is. */
static vki_status list_candidates(vk_ctx *c, candidate **out, uint32_t *count)
{
    *out = NULL;
    *count = 0;
    VkResult r = VK_TRY(c->in.vkEnumeratePhysicalDevices(c->instance, count, NULL));
    if (r != VK_SUCCESS) {
        *count = 0;
        return r == VK_ERROR_INITIALIZATION_FAILED ? VKI_OK /* no device: worded by the caller */
                                                   : vk_fail(r, "vkEnumeratePhysicalDevices", __FILE__, __LINE__);
    }
    if (*count == 0)
        return VKI_OK;
    VkPhysicalDevice *devices = vki_calloc(*count, sizeof *devices);
    candidate *list = vki_calloc(*count, sizeof *list);
    vki_status st = VKI_OK;
    if (!devices || !list)
        st = vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");
    else if ((r = VK_TRY(c->in.vkEnumeratePhysicalDevices(c->instance, count, devices))) < 0)
        st = vk_fail(r, "vkEnumeratePhysicalDevices", __FILE__, __LINE__);
    for (uint32_t i = 0; st == VKI_OK && i < *count; i++) {
        candidate *cd = &list[i];
        cd->physical = devices[i];
        c->in.vkGetPhysicalDeviceProperties(devices[i], &cd->props);
        cd->queue_family = -1;
        uint32_t nq = 0;
        c->in.vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &nq, NULL);
        VkQueueFamilyProperties *q = vki_calloc(nq ? nq : 1, sizeof *q);
        if (!q) {
            st = vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");
            break;
        }
        c->in.vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &nq, q);
        for (uint32_t f = 0; f < nq && cd->queue_family < 0; f++)
            if (q[f].queueFlags & VK_QUEUE_COMPUTE_BIT)
                cd->queue_family = (int)f;
        free(q);
        if (cd->props.apiVersion < VK_API_VERSION_1_2)
            cd->unusable = "supports only Vulkan 1.0/1.1 (vkindex needs 1.2)";
        else if (cd->queue_family < 0)
            cd->unusable = "has no compute queue";
    }
    free(devices);
    if (st != VKI_OK) {
        free(list);
        *count = 0;
        return st;
    }
    *out = list;
    return VKI_OK;
}

static void list_names(const candidate *list, uint32_t count, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < count && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%u: %s (%s)", i ? "; " : "", i,
                                 list[i].props.deviceName,
                                 vk_device_type_name(list[i].props.deviceType));
}

static bool name_contains(const char *name, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = name; *p; p++)
        if (!strncasecmp(p, needle, n))
            return true;
    return n == 0;
}

/* Picks the device index for a request, or -1 with reason filled. */
static int vk_pick_device(const candidate *list, uint32_t count, const char *wanted, bool required,
                   char *reason, size_t cap)
{
    char seen[1024];
    list_names(list, count, seen, sizeof seen);
    if (count == 0) {
        snprintf(reason, cap, "no Vulkan device: the driver reports no physical device");
        return -1;
    }
    if (wanted) {
        char *end;
        long at = strtol(wanted, &end, 10);
        int found = -1;
        if (*wanted && !*end) {
            if (at >= 0 && at < (long)count)
                found = (int)at;
        } else {
            for (uint32_t i = 0; i < count && found < 0; i++)
                if (name_contains(list[i].props.deviceName, wanted))
                    found = (int)i;
        }
        if (found < 0) {
            snprintf(reason, cap, "no Vulkan device matches \"%s\"; devices seen: %s", wanted, seen);
            return -1;
        }
        if (list[found].unusable) {
            snprintf(reason, cap, "Vulkan device %d (%s) %s", found, list[found].props.deviceName,
                     list[found].unusable);
            return -1;
        }
        return found;
    }
    int best = -1;
    for (uint32_t i = 0; i < count; i++) {
        if (list[i].unusable)
            continue;
        if (!required && list[i].props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU)
            continue;
        if (best < 0 || type_rank(list[i].props.deviceType) > type_rank(list[best].props.deviceType))
            best = (int)i;
    }
    if (best < 0)
        snprintf(reason, cap,
                 required ? "no usable Vulkan device; devices seen: %s"
                          : "no hardware Vulkan device (software devices are used only when "
                            "asked for by backend VULKAN or by name); devices seen: %s",
                 seen);
    return best;
}

/* ---- the logical device ---- */

static void read_env_caps(vk_caps *caps)
{
    const char *disable = getenv("VKI_VULKAN_DISABLE");
    if (disable) {
        if (strstr(disable, "storage8_16"))
            caps->native_subword = false;
        if (strstr(disable, "int64"))
            caps->int64 = false;
    }
    const char *split = getenv("VKI_VULKAN_SPLIT");
    if (split && !strcmp(split, "1"))
        caps->force_windows = true;
    if (split && !strcmp(split, "64"))
        caps->force_windows = caps->force_off64 = true;
}

static vki_status create_device(vk_ctx *c, const candidate *cd)
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
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    c->in.vkGetPhysicalDeviceQueueFamilyProperties(c->physical, &nq, q);
    c->caps.timestamps = q[c->queue_family].timestampValidBits > 0 &&
                         c->props.limits.timestampPeriod > 0;
    free(q);

    /* Enable exactly what the kernels may use. */
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
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &e,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
    };
    VK(c->in.vkCreateDevice(c->physical, &info, NULL, &c->device));
    volkLoadDeviceTable(&c->vk, c->device);
    c->vk.vkGetDeviceQueue(c->device, c->queue_family, 0, &c->queue);

    const VkPhysicalDeviceLimits *lim = &c->props.limits;
    uint32_t wg = 256;
    if (wg > lim->maxComputeWorkGroupInvocations)
        wg = lim->maxComputeWorkGroupInvocations;
    if (wg > lim->maxComputeWorkGroupSize[0])
        wg = lim->maxComputeWorkGroupSize[0];
    c->workgroup_size = wg;
    uint64_t align = lim->minStorageBufferOffsetAlignment > 64 ? lim->minStorageBufferOffsetAlignment : 64;
    c->window_bytes = (uint64_t)lim->maxStorageBufferRange / align * align;

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
    st = vk_memory_init(c);
    if (st == VKI_OK)
        st = vk_pipelines_init(c);
    if (st != VKI_OK)
        goto done;
    st = vk_buffer_create(c, (VkDeviceSize)VK_PARAM_SLOTS * VK_PARAM_SLOT, VK_MEMORY_UPLOAD, true,
                          &c->params);
    if (st == VKI_OK)
        st = vk_buffer_create(c, VK_READBACK_BYTES, VK_MEMORY_READBACK, true, &c->readback);
    if (st == VKI_OK)
        st = vk_buffer_create(c, 4096, VK_MEMORY_DEVICE, true, &c->scratch);
done:
    return st;
}

void vk_context_destroy(void *impl)
{
    vk_ctx *c = impl;
    c->destroying = true;
    if (c->device) {
        c->vk.vkDeviceWaitIdle(c->device);
        vk_buffer_destroy(c, &c->params);
        vk_buffer_destroy(c, &c->readback);
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
        c->vk.vkDestroyDevice(c->device, NULL);
    }
    if (c->messenger)
        c->in.vkDestroyDebugUtilsMessengerEXT(c->instance, c->messenger, NULL);
    if (c->instance)
        c->in.vkDestroyInstance(c->instance, NULL);
    free(c);
}

extern const vki_backend_ops vk_backend_ops;

vki_status vki_vulkan_backend_create(const vki_vulkan_request *req, const vki_backend_ops **ops,
                                     void **impl, char *name, size_t name_cap)
{
    vk_ctx *c = vki_calloc(1, sizeof *c);
    if (!c)
        return vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");
    vki_status st = create_instance(c, req->validation);
    uint32_t count = 0;
    candidate *list = NULL;
    if (st == VKI_OK)
        st = list_candidates(c, &list, &count);
    if (st == VKI_OK) {
        char reason[1536];
        int pick = vk_pick_device(list, count, req->device, req->required, reason, sizeof reason);
        if (pick < 0)
            st = vki_fail(VKI_ERROR_NO_DEVICE, "vki_context_create: %s", reason);
        else
            st = create_device(c, &list[pick]);
    }
    free(list);
    if (st == VKI_OK)
        st = vk_check_validation(c);
    if (st != VKI_OK) {
        vk_context_destroy(c);
        return st;
    }
    snprintf(name, name_cap, "%s", c->props.deviceName);
    *ops = &vk_backend_ops;
    *impl = c;
    return VKI_OK;
}

/* ---- vkindex-info ---- */

void vki_vulkan_report(FILE *out)
{
    vk_ctx probe = {0}, *c = &probe;
    vki_status st = create_instance(c, false);
    if (st != VKI_OK) {
        fprintf(out, "Vulkan: not usable: %s\n", vki_last_error());
        fprintf(out, "AUTO would choose the CPU backend (no usable Vulkan).\n");
        return;
    }
    uint32_t api = 0;
    vkEnumerateInstanceVersion(&api);
    fprintf(out, "Vulkan loader: API %u.%u.%u\n", VK_API_VERSION_MAJOR(api),
            VK_API_VERSION_MINOR(api), VK_API_VERSION_PATCH(api));
    uint32_t count = 0;
    candidate *list = NULL;
    if (list_candidates(&probe, &list, &count) != VKI_OK)
        fprintf(out, "Vulkan: the devices could not be listed: %s\n", vki_last_error());
    char reason[1536];
    int pick = vk_pick_device(list, count, NULL, false, reason, sizeof reason);
    for (uint32_t i = 0; i < count; i++) {
        candidate *cd = &list[i];
        VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &f12};
        VkPhysicalDeviceFeatures2 f = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
        VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
        VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &drv};
        VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sub};
        c->in.vkGetPhysicalDeviceFeatures2(cd->physical, &f);
        c->in.vkGetPhysicalDeviceProperties2(cd->physical, &p2);
        const VkPhysicalDeviceLimits *l = &cd->props.limits;
        fprintf(out, "%s device %u: %s\n", (int)i == pick ? "*" : " ", i, cd->props.deviceName);
        fprintf(out, "    type %s, Vulkan %u.%u.%u, driver %s (%s)\n",
                vk_device_type_name(cd->props.deviceType), VK_API_VERSION_MAJOR(cd->props.apiVersion),
                VK_API_VERSION_MINOR(cd->props.apiVersion), VK_API_VERSION_PATCH(cd->props.apiVersion),
                drv.driverName, drv.driverInfo);
        fprintf(out, "    storage 8/16-bit: %s/%s -> sub-word path: %s; shaderInt64: %s; "
                     "tensors over maxStorageBufferRange: %s\n",
                f12.storageBuffer8BitAccess ? "yes" : "no", f11.storageBuffer16BitAccess ? "yes" : "no",
                f12.storageBuffer8BitAccess && f11.storageBuffer16BitAccess ? "8/16-bit storage"
                                                                            : "32-bit atomics",
                f.features.shaderInt64 ? "yes" : "no",
                l->maxPerStageDescriptorStorageBuffers >= 3 * VK_MAX_WINDOWS + 2
                    ? "yes, in windows" : "no (too few storage buffers per stage)");
        fprintf(out, "    maxStorageBufferRange %u, maxComputeWorkGroupCount %u, "
                     "maxComputeWorkGroupInvocations %u, subgroup size %u, storage buffers per stage %u, "
                     "maxMemoryAllocationCount %u\n",
                l->maxStorageBufferRange, l->maxComputeWorkGroupCount[0],
                l->maxComputeWorkGroupInvocations, sub.subgroupSize,
                l->maxPerStageDescriptorStorageBuffers, l->maxMemoryAllocationCount);
        if (cd->unusable)
            fprintf(out, "    not usable: %s\n", cd->unusable);
    }
    if (pick >= 0)
        fprintf(out, "AUTO picks device %d (%s).\n", pick, list[pick].props.deviceName);
    else
        fprintf(out, "AUTO would choose the CPU backend: %s.\n", reason);
    /* The software devices, which AUTO never picks: where they are and how to select them. */
    static const struct { const char *label, *name, *how; } software[] = {
        {"lavapipe", "llvmpipe", "VKI_DEVICE=llvmpipe (Debian package mesa-vulkan-drivers)"},
        {"SwiftShader", "swiftshader",
         "VKI_DEVICE=swiftshader with VK_ADD_DRIVER_FILES=DIR/vk_swiftshader_icd.json (bash "
         "scripts/fetch-swiftshader DIR fetches it from Debian's chromium-common)"},
    };
    fprintf(out, "Software Vulkan devices (used only when named or with backend VULKAN):\n");
    for (size_t k = 0; k < sizeof software / sizeof software[0]; k++) {
        int seen = -1;
        for (uint32_t i = 0; i < count && seen < 0; i++)
            if (name_contains(list[i].props.deviceName, software[k].name))
                seen = (int)i;
        char where[32] = "not found";
        if (seen >= 0)
            snprintf(where, sizeof where, "device %d", seen);
        fprintf(out, "  %-11s %-9s select with %s\n", software[k].label, where, software[k].how);
    }
    free(list);
    c->in.vkDestroyInstance(c->instance, NULL);
}
