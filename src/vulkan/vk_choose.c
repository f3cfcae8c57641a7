/*
 * The choice of a physical device: the list of devices with why each is unusable (Vulkan
 * before 1.2, no compute queue), and the pick for a request (AUTO: the best hardware GPU;
 * software devices only when named or when Vulkan was asked for).
 */
#include "vk_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

const char *vk_device_type_name(int type)
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
vki_status vk_list_candidates(vk_ctx *c, vk_candidate **out, uint32_t *count)
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
    vk_candidate *list = vki_calloc(*count, sizeof *list);
    vki_status st = VKI_OK;
    if (!devices || !list)
        st = vki_fail(VKI_ERROR_OUT_OF_HOST_MEMORY, "vki_context_create: out of host memory");
    else if ((r = VK_TRY(c->in.vkEnumeratePhysicalDevices(c->instance, count, devices))) < 0)
        st = vk_fail(r, "vkEnumeratePhysicalDevices", __FILE__, __LINE__);
    for (uint32_t i = 0; st == VKI_OK && i < *count; i++) {
        vk_candidate *cd = &list[i];
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

static void list_names(const vk_candidate *list, uint32_t count, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < count && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%u: %s (%s)", i ? "; " : "", i,
                                 list[i].props.deviceName,
                                 vk_device_type_name(list[i].props.deviceType));
}

bool vk_name_contains(const char *name, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = name; *p; p++)
        if (!strncasecmp(p, needle, n))
            return true;
    return n == 0;
}

int vk_pick_device(const vk_candidate *list, uint32_t count, const char *wanted, bool required,
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
                if (vk_name_contains(list[i].props.deviceName, wanted))
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

