/* volk, compiled into the library: Vulkan is loaded at run time (dlopen of libvulkan.so.1),
 * so vkindex starts on machines without a loader and falls back to the CPU backend. Its
 * global instance-level function pointers stay hidden (symbol visibility); device functions
 * go through a per-context VolkDeviceTable. */
#include <volk.c>
