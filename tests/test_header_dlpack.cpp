// vkindex_dlpack.h as C++ (extern "C", no C-only constructs).
#include "test_header_dlpack.c"
