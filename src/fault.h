/*
 * Fault injection, for the tests of a build configured with -Dfault_injection=true (never in
 * a release): the library's host allocations and its fallible Vulkan calls pass through these
 * points, and a test arms one kind of failure at a time with vki_fault_arm (exported by such
 * builds only; see fault.c):
 *   VKI_FAULT_ARM_ALLOC, N        the N-th host allocation returns NULL
 *   VKI_FAULT_ARM_VULKAN, N       the N-th fallible Vulkan call returns
 *                                 VK_ERROR_OUT_OF_DEVICE_MEMORY without being made
 *   VKI_FAULT_ARM_DEVICE_LOST, N  the N-th fallible Vulkan call and every one after it return
 *                                 VK_ERROR_DEVICE_LOST (a device that is gone)
 * (N 0 disarms.) Arming is a call and not an environment variable because drivers read the
 * environment from their own threads, which a test's setenv would race with. Counting is
 * process-wide; vki_fault_points tells a test how many points a run passed, so that it can
 * walk N over all of them. In other builds every point compiles to nothing.
 */
#ifndef VKI_FAULT_H
#define VKI_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The kinds vki_fault_arm takes (its first argument, as an int). */
enum { VKI_FAULT_ARM_ALLOC, VKI_FAULT_ARM_VULKAN, VKI_FAULT_ARM_DEVICE_LOST, VKI_FAULT_ARM_KINDS };

#ifdef VKI_FAULT_INJECTION
bool vki_fault_alloc(void);
bool vki_fault_vulkan(void);
int vki_fault_vulkan_result(void);
#else
#define vki_fault_alloc() false
#define vki_fault_vulkan() false
#define vki_fault_vulkan_result() 0
#endif

static inline void *vki_malloc(size_t bytes)
{
    return vki_fault_alloc() ? NULL : malloc(bytes);
}

static inline void *vki_calloc(size_t count, size_t size)
{
    return vki_fault_alloc() ? NULL : calloc(count, size);
}

static inline void *vki_realloc(void *p, size_t bytes)
{
    return vki_fault_alloc() ? NULL : realloc(p, bytes);
}

/* Room for `need` elements of `size` bytes in array, whose capacity is *cap (doubled, from
 * `first`): the array to use from now on, or NULL when out of memory (array and *cap are then
 * unchanged). */
static inline void *vki_grow(void *array, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return array;
    size_t grown = *cap ? *cap : first;
    while (grown < need)
        grown *= 2;
    void *p = vki_realloc(array, grown * size);
    if (p)
        *cap = grown;
    return p;
}

#endif
