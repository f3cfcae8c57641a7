// vkindex_vulkan.h as C++ (extern "C", no C-only constructs).
#include "test_header_vulkan.c"
