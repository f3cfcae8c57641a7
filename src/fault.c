/* The fault-injection points of fault.h (built only with -Dfault_injection=true). */
#include "fault.h"
#include "vkindex.h"

#include <stdatomic.h>

static atomic_llong alloc_points, vulkan_points;
static atomic_llong armed[VKI_FAULT_ARM_KINDS]; /* the point armed of each kind, 0 for none */

bool vki_fault_alloc(void)
{
    long long n = atomic_fetch_add(&alloc_points, 1) + 1;
    return n == atomic_load(&armed[VKI_FAULT_ARM_ALLOC]);
}

static _Thread_local int injected;

bool vki_fault_vulkan(void)
{
    long long n = atomic_fetch_add(&vulkan_points, 1) + 1;
    long long lost = atomic_load(&armed[VKI_FAULT_ARM_DEVICE_LOST]);
    if (lost > 0 && n >= lost) {
        injected = -4; /* VK_ERROR_DEVICE_LOST */
        return true;
    }
    if (n == atomic_load(&armed[VKI_FAULT_ARM_VULKAN])) {
        injected = -2; /* VK_ERROR_OUT_OF_DEVICE_MEMORY */
        return true;
    }
    return false;
}

int vki_fault_vulkan_result(void)
{
    return injected;
}

/* Exported from fault-injection builds: arming a point (a VKI_FAULT_ARM_ kind; n 0 disarms),
 * the points passed so far, and a reset of the counts. */
__attribute__((visibility("default"))) void vki_fault_arm(int kind, long long n);
__attribute__((visibility("default"))) void vki_fault_points(long long *alloc, long long *vulkan);
__attribute__((visibility("default"))) void vki_fault_reset(void);

void vki_fault_arm(int kind, long long n)
{
    if (kind >= 0 && kind < VKI_FAULT_ARM_KINDS)
        atomic_store(&armed[kind], n);
}

void vki_fault_points(long long *alloc, long long *vulkan)
{
    *alloc = atomic_load(&alloc_points);
    *vulkan = atomic_load(&vulkan_points);
}

void vki_fault_reset(void)
{
    atomic_store(&alloc_points, 0);
    atomic_store(&vulkan_points, 0);
}
