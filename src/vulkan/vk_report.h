/* What vkindex-info prints (linked from the static library; not exported). */
#ifndef VKI_VK_REPORT_H
#define VKI_VK_REPORT_H
#include <stdio.h>

/* Lists the Vulkan devices with type, driver, API version and the features vkindex uses,
 * marks the one AUTO picks, or says why AUTO would choose the CPU backend. */
void vki_vulkan_report(FILE *out);

#endif
