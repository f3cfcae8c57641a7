/*
 * The dtypes: element sizes and PyTorch's names of them (as its messages print them).
 */
#include "vkindex.h"

static const struct { const char *name; size_t size; } dtype_info[VKI_DTYPE_COUNT] = {
    [VKI_BOOL] = {"Bool", 1},         [VKI_UINT8] = {"Byte", 1},
    [VKI_INT8] = {"Char", 1},         [VKI_INT16] = {"Short", 2},
    [VKI_UINT16] = {"UInt16", 2},     [VKI_INT32] = {"Int", 4},
    [VKI_UINT32] = {"UInt32", 4},     [VKI_INT64] = {"Long", 8},
    [VKI_UINT64] = {"UInt64", 8},     [VKI_FLOAT16] = {"Half", 2},
    [VKI_BFLOAT16] = {"BFloat16", 2}, [VKI_FLOAT32] = {"Float", 4},
    [VKI_FLOAT64] = {"Double", 8},    [VKI_COMPLEX32] = {"ComplexHalf", 4},
    [VKI_COMPLEX64] = {"ComplexFloat", 8}, [VKI_COMPLEX128] = {"ComplexDouble", 16},
    [VKI_FLOAT8_E4M3FN] = {"Float8_e4m3fn", 1}, [VKI_FLOAT8_E5M2] = {"Float8_e5m2", 1},
};

size_t vki_dtype_size(vki_dtype dtype)
{
    return (unsigned)dtype < VKI_DTYPE_COUNT ? dtype_info[dtype].size : 0;
}

const char *vki_dtype_name(vki_dtype dtype)
{
    return (unsigned)dtype < VKI_DTYPE_COUNT ? dtype_info[dtype].name : "Unknown";
}
