/* The Vulkan side of a small application (see vkapp.h).
 *
 * Built with VKAPP_VOLK (and VK_NO_PROTOTYPES), it calls Vulkan through volk's function
 * pointers instead of the loader's exports: a program linked with vkindex's static library
 * (vkindex-bench) carries volk, whose pointers have the loader's names. */
#ifdef VKAPP_VOLK
#include <volk.h>
#endif
#include "vkapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY_VK(call)                                                                           \
    do {                                                                                       \
        VkResult r_ = (call);                                                                  \
        if (r_ != VK_SUCCESS)                                                                  \
            return r_;                                                                         \
    } while (0)

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    (void)types;
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        fprintf(stderr, "validation: %s\n", data->pMessage);
        ((vkapp *)user)->messages++;
    }
    return VK_FALSE;
}

static VkResult create_instance(vkapp *a)
{
    const char *env = getenv("VKI_VALIDATION");
    const bool validate = env && !strcmp(env, "1");
    const char *layer = "VK_LAYER_KHRONOS_validation", *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                        .enabledValidationFeatureCount = 1,
                                        .pEnabledValidationFeatures = &sync};
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "vkapp",
                             .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                 .pNext = validate ? &features : NULL,
                                 .pApplicationInfo = &app,
                                 .enabledLayerCount = validate,
                                 .ppEnabledLayerNames = &layer,
                                 .enabledExtensionCount = validate,
                                 .ppEnabledExtensionNames = &ext};
    TRY_VK(vkCreateInstance(&info, NULL, &a->instance));
    if (!validate)
        return VK_SUCCESS;
    VkDebugUtilsMessengerCreateInfoEXT m = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = a};
    PFN_vkCreateDebugUtilsMessengerEXT make = (PFN_vkCreateDebugUtilsMessengerEXT)
        vkGetInstanceProcAddr(a->instance, "vkCreateDebugUtilsMessengerEXT");
    return make(a->instance, &m, NULL, &a->messenger);
}

/* The device named by VKI_DEVICE (or the first), its compute queue family and its limits. */
static VkResult pick_device(vkapp *a)
{
    uint32_t count = 8;
    VkPhysicalDevice list[8];
    VkResult r = vkEnumeratePhysicalDevices(a->instance, &count, list);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return r;
    const char *want = getenv("VKI_DEVICE");
    for (uint32_t i = 0; i < count && !a->physical; i++) {
        vkGetPhysicalDeviceProperties(list[i], &a->props);
        if (!want || strcasestr(a->props.deviceName, want))
            a->physical = list[i];
    }
    if (!a->physical)
        return VK_ERROR_INCOMPATIBLE_DRIVER;
    vkGetPhysicalDeviceMemoryProperties(a->physical, &a->memory);
    uint32_t families = 8;
    VkQueueFamilyProperties q[8];
    vkGetPhysicalDeviceQueueFamilyProperties(a->physical, &families, q);
    for (a->family = 0; a->family < families; a->family++)
        if (q[a->family].queueFlags & VK_QUEUE_COMPUTE_BIT)
            break;
    if (a->family == families)
        return VK_ERROR_FEATURE_NOT_PRESENT;
    a->timestamps = q[a->family].timestampValidBits > 0 && a->props.limits.timestampPeriod > 0;
    return VK_SUCCESS;
}

VkResult vkapp_create(vkapp *a, bool recommended)
{
    memset(a, 0, sizeof *a);
    a->recommended = recommended;
#ifdef VKAPP_VOLK
    TRY_VK(volkInitialize());
    TRY_VK(create_instance(a));
    volkLoadInstanceOnly(a->instance);
#else
    TRY_VK(create_instance(a));
#endif
    TRY_VK(pick_device(a));
    if (vki_vulkan_device_features(NULL, a->instance, a->physical, &a->features) != VKI_OK)
        return VK_ERROR_INITIALIZATION_FAILED;
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                      .queueFamilyIndex = a->family,
                                      .queueCount = 1,
                                      .pQueuePriorities = &priority};
    VkDeviceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                               .pNext = recommended ? &a->features.features2 : NULL,
                               .queueCreateInfoCount = 1,
                               .pQueueCreateInfos = &queue};
    TRY_VK(vkCreateDevice(a->physical, &info, NULL, &a->device));
#ifdef VKAPP_VOLK
    volkLoadDevice(a->device);
#endif
    vkGetDeviceQueue(a->device, a->family, 0, &a->queue);
    VkCommandPoolCreateInfo pool = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = a->family};
    TRY_VK(vkCreateCommandPool(a->device, &pool, NULL, &a->pool));
    VkCommandBufferAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                         .commandPool = a->pool,
                                         .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                         .commandBufferCount = 1};
    TRY_VK(vkAllocateCommandBuffers(a->device, &alloc, &a->cmd));
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    return vkCreateFence(a->device, &fence, NULL, &a->fence);
}

void vkapp_destroy(vkapp *a)
{
    if (a->device) {
        vkDestroyFence(a->device, a->fence, NULL);
        vkDestroyCommandPool(a->device, a->pool, NULL);
        vkDestroyDevice(a->device, NULL);
    }
    if (a->messenger)
        ((PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            a->instance, "vkDestroyDebugUtilsMessengerEXT"))(a->instance, a->messenger, NULL);
    if (a->instance)
        vkDestroyInstance(a->instance, NULL);
}

vki_vulkan_device vkapp_device(const vkapp *a)
{
    return (vki_vulkan_device){.instance = a->instance,
                               .api_version = VK_API_VERSION_1_2,
                               .physical_device = a->physical,
                               .device = a->device,
                               .queue_family = a->family,
                               .queue = a->queue,
                               .enabled_features = a->recommended ? &a->features.features2 : NULL};
}

VkResult vkapp_buffer_create(vkapp *a, VkDeviceSize size, bool host_visible, vkapp_buffer *out)
{
    *out = (vkapp_buffer){.size = size};
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = size,
                               .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                        VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    TRY_VK(vkCreateBuffer(a->device, &info, NULL, &out->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(a->device, out->buffer, &req);
    const VkMemoryPropertyFlags want = host_visible ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
                                                    : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    uint32_t type = 0;
    while (type < a->memory.memoryTypeCount &&
           !((req.memoryTypeBits >> type & 1) &&
             (a->memory.memoryTypes[type].propertyFlags & want) == want))
        type++;
    if (type == a->memory.memoryTypeCount)
        return VK_ERROR_FEATURE_NOT_PRESENT;
    VkMemoryAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = req.size,
                                  .memoryTypeIndex = type};
    TRY_VK(vkAllocateMemory(a->device, &alloc, NULL, &out->memory));
    TRY_VK(vkBindBufferMemory(a->device, out->buffer, out->memory, 0));
    return host_visible ? vkMapMemory(a->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped)
                        : VK_SUCCESS;
}

void vkapp_buffer_destroy(vkapp *a, vkapp_buffer *b)
{
    vkDestroyBuffer(a->device, b->buffer, NULL);
    vkFreeMemory(a->device, b->memory, NULL);
}

VkResult vkapp_begin(vkapp *a)
{
    TRY_VK(vkResetCommandBuffer(a->cmd, 0));
    VkCommandBufferBeginInfo info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    return vkBeginCommandBuffer(a->cmd, &info);
}

VkResult vkapp_submit_wait(vkapp *a)
{
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &a->cmd};
    TRY_VK(vkQueueSubmit(a->queue, 1, &submit, a->fence));
    TRY_VK(vkWaitForFences(a->device, 1, &a->fence, VK_TRUE, UINT64_MAX));
    return vkResetFences(a->device, 1, &a->fence);
}

void vkapp_barrier(vkapp *a, VkPipelineStageFlags src, VkAccessFlags src_access,
                   VkPipelineStageFlags dst, VkAccessFlags dst_access)
{
    VkMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                         .srcAccessMask = src_access,
                         .dstAccessMask = dst_access};
    vkCmdPipelineBarrier(a->cmd, src, dst, 0, 1, &b, 0, NULL, 0, NULL);
}
