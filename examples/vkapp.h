/*
 * The Vulkan side of a small application, for the examples and tests of vkindex inside an
 * application: an instance (with the validation layer and synchronization validation when
 * VKI_VALIDATION=1, every message counted), a device on VKI_DEVICE (a substring of its name;
 * default: the first) created with vkindex's recommended features or with none, a compute
 * queue, a command buffer, a fence, and buffers. None of this is vkindex: it is what any
 * Vulkan application already has.
 */
#ifndef VKAPP_H
#define VKAPP_H

#include <stdbool.h>

#include "vkindex_vulkan.h"

typedef struct vkapp {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memory;
    VkDevice device;
    uint32_t family;
    VkQueue queue;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    bool timestamps;               /* the queue family has them                             */
    bool recommended;              /* the device has vkindex's recommended features         */
    vki_vulkan_features features;  /* what vkindex recommends (enabled when recommended)    */
    int messages;                  /* validation messages so far                            */
} vkapp;

typedef struct vkapp_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped;                  /* host-visible buffers only                             */
    VkDeviceSize size;
} vkapp_buffer;

/* VK_SUCCESS, VK_ERROR_INCOMPATIBLE_DRIVER when there is no driver or no device matches
 * VKI_DEVICE, or the failing call's result. a must not move afterwards. */
VkResult vkapp_create(vkapp *a, bool recommended);
void vkapp_destroy(vkapp *a);
/* The description of the device for vki_context_create_vulkan. */
vki_vulkan_device vkapp_device(const vkapp *a);

/* A buffer with the usage vkindex needs (storage, transfer source and destination), in
 * device-local or in host-visible, coherent, mapped memory. */
VkResult vkapp_buffer_create(vkapp *a, VkDeviceSize size, bool host_visible, vkapp_buffer *out);
void vkapp_buffer_destroy(vkapp *a, vkapp_buffer *b);

VkResult vkapp_begin(vkapp *a);   /* resets a->cmd and begins it */
VkResult vkapp_submit_wait(vkapp *a); /* ends nothing: submits a->cmd and waits */
void vkapp_barrier(vkapp *a, VkPipelineStageFlags src, VkAccessFlags src_access,
                   VkPipelineStageFlags dst, VkAccessFlags dst_access);

#endif
