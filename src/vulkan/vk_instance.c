/*
 * Loading Vulkan and the instance: volk loads libvulkan at run time (the library links no
 * libvulkan), each context loads its own instance functions, the optional validation layer
 * with synchronization validation reports through a messenger, and VkResult failures become
 * vki_status values with their names.
 */
#include "vk_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

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

/* The loader, its Vulkan version, and the validation layer when asked for. */
static vki_status check_loader(bool validation)
{
    vki_status st = VKI_OK;
    if (!load_vulkan())
        TRY(vki_fail(VKI_ERROR_NO_DEVICE,
                     "no Vulkan loader: libvulkan.so.1 could not be loaded (install libvulkan1 "
                     "and a Vulkan driver)"));
    uint32_t api = VK_API_VERSION_1_0;
    if (vkEnumerateInstanceVersion)
        vkEnumerateInstanceVersion(&api);
    if (api < VK_API_VERSION_1_2)
        TRY(vki_fail(VKI_ERROR_NO_DEVICE,
                     "the Vulkan loader supports only Vulkan %u.%u; vkindex needs 1.2",
                     VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api)));
    bool layer_found = false;
    if (validation)
        TRY(find_layer(VALIDATION_LAYER, &layer_found));
    if (validation && !layer_found)
        TRY(vki_fail(VKI_ERROR_NO_DEVICE,
                     "validation was requested but the Khronos validation layer is not "
                     "installed (Debian package vulkan-validationlayers)"));
error:
    return st;
}

vki_status vk_load_instance_functions(vk_ctx *c, PFN_vkGetInstanceProcAddr gipa)
{
    vki_status st = VKI_OK;
    if (!gipa && !load_vulkan())
        TRY(vki_fail(VKI_ERROR_NO_DEVICE,
                     "no Vulkan loader: libvulkan.so.1 could not be loaded (install libvulkan1 "
                     "and a Vulkan driver)"));
    if (!gipa)
        gipa = vkGetInstanceProcAddr; /* the loader's, which volk looked up */
#define LOAD_INSTANCE_FUNCTION(name) c->in.name = (PFN_##name)gipa(c->instance, #name);
    VK_INSTANCE_FUNCTIONS(LOAD_INSTANCE_FUNCTION)
#undef LOAD_INSTANCE_FUNCTION
    if (!c->in.vkGetDeviceProcAddr || !c->in.vkGetPhysicalDeviceProperties2)
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED, "the instance does not provide Vulkan 1.1 functions "
                                            "(vkGetPhysicalDeviceProperties2)"));
error:
    return st;
}

vki_status vk_load_device_functions(vk_ctx *c)
{
    vki_status st = VKI_OK;
#define LOAD_DEVICE_FUNCTION(name)                                                             \
    if (!(c->vk.name = (PFN_##name)c->in.vkGetDeviceProcAddr(c->device, #name)))               \
        TRY(vki_fail(VKI_ERROR_UNSUPPORTED, "the device does not provide %s", #name));
    VK_DEVICE_FUNCTIONS(LOAD_DEVICE_FUNCTION)
#undef LOAD_DEVICE_FUNCTION
error:
    return st;
}

vki_status vk_instance_create(vk_ctx *c, bool validation)
{
    vki_status st = VKI_OK;
    TRY(check_loader(validation));
    const char *layer = VALIDATION_LAYER;
    const char *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
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
        TRY(vki_fail(VKI_ERROR_NO_DEVICE, "no Vulkan driver: vkCreateInstance found no usable ICD "
                                          "(VK_ERROR_INCOMPATIBLE_DRIVER)"));
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        TRY(vk_fail(r, "vkCreateInstance", __FILE__, __LINE__));
    if (r != VK_SUCCESS)
        TRY(vki_fail(VKI_ERROR_NO_DEVICE, "vkCreateInstance failed: %s", vk_result_name(r)));
    TRY(vk_load_instance_functions(c, NULL));
    c->validation = validation;
    messenger.pNext = NULL;
    if (validation)
        VK(c->in.vkCreateDebugUtilsMessengerEXT(c->instance, &messenger, NULL, &c->messenger));
error:
    return st;
}
