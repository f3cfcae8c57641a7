/*
 * The report that vkindex-info prints: every Vulkan device with its type, driver, API version,
 * the features and limits vkindex uses, the device AUTO picks or why it would use the CPU, and
 * where the software devices are.
 */
#include "vk_internal.h"
#include "../introspect.h"

#include <stdio.h>
#include <stdlib.h>

void vki_vulkan_report(FILE *out)
{
    vk_ctx probe = {0}, *c = &probe;
    vki_status st = vk_instance_create(c, false);
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
    vk_candidate *list = NULL;
    if (vk_list_candidates(&probe, &list, &count) != VKI_OK)
        fprintf(out, "Vulkan: the devices could not be listed: %s\n", vki_last_error());
    char reason[1536];
    int pick = vk_pick_device(list, count, NULL, false, reason, sizeof reason);
    for (uint32_t i = 0; i < count; i++) {
        vk_candidate *cd = &list[i];
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
                l->maxPerStageDescriptorStorageBuffers >= VK_WINDOWED_STORAGE_BUFFERS
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
            if (vk_name_contains(list[i].props.deviceName, software[k].name))
                seen = (int)i;
        char where[32] = "not found";
        if (seen >= 0)
            snprintf(where, sizeof where, "device %d", seen);
        fprintf(out, "  %-11s %-9s select with %s\n", software[k].label, where, software[k].how);
    }
    free(list);
    c->in.vkDestroyInstance(c->instance, NULL);
}
