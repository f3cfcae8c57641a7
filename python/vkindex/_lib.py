"""The shared library through ctypes: where it is found, the C declarations, the DLPack
structs, and the statuses as Python exceptions."""
import ctypes
import ctypes.util
import os

# vki_status values (include/vkindex.h)
OK = 0
ERROR_INDEX = -2
STATUS_NAMES = {
    0: "VKI_OK", -1: "VKI_ERROR_INVALID_ARGUMENT", -2: "VKI_ERROR_INDEX",
    -3: "VKI_ERROR_OUT_OF_HOST_MEMORY", -4: "VKI_ERROR_OUT_OF_DEVICE_MEMORY",
    -5: "VKI_ERROR_NO_DEVICE", -6: "VKI_ERROR_UNSUPPORTED", -7: "VKI_ERROR_DEVICE_LOST",
    -8: "VKI_ERROR_VULKAN",
}


class VkindexError(RuntimeError):
    """A failed vkindex call of PyTorch's RuntimeError class (dtype, shape, overlap, and every
    failure that is not about an index). The message is vkindex's, word for word; status is the
    name of the vki_status."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


VkindexError.__module__ = "vkindex"


class VkindexIndexError(IndexError):
    """A failed vkindex call of PyTorch's IndexError class (dim, index rank, count or value)."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


VkindexIndexError.__module__ = "vkindex"


# DLPack 0.6 (dlpack/dlpack.h)
class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


# A deleter is called with the GIL held: it may release what a producer that needs it made.
_DELETER = ctypes.PYFUNCTYPE(None, ctypes.c_void_p)


class ContextOptions(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_int), ("device", ctypes.c_char_p),
                ("validation", ctypes.c_int), ("threads", ctypes.c_int)]


def _path():
    path = os.environ.get("VKINDEX_LIBRARY")
    if path:
        return path
    return ctypes.util.find_library("vkindex") or "libvkindex.so.0"


_i64p = ctypes.POINTER(ctypes.c_int64)
_handle = ctypes.POINTER(ctypes.c_void_p)
_DECLS = {
    "vki_context_create": (ctypes.c_int, [ctypes.POINTER(ContextOptions), _handle]),
    "vki_context_destroy": (None, [ctypes.c_void_p]),
    "vki_context_backend": (ctypes.c_int, [ctypes.c_void_p]),
    "vki_context_device_name": (ctypes.c_char_p, [ctypes.c_void_p]),
    "vki_tensor_create": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, _i64p, _handle]),
    "vki_tensor_view": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, _i64p, _i64p, ctypes.c_int64, _handle]),
    "vki_tensor_wrap_host": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                                            ctypes.c_int, _i64p, _i64p, _handle]),
    "vki_tensor_upload": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]),
    "vki_tensor_download": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]),
    "vki_tensor_dtype": (ctypes.c_int, [ctypes.c_void_p]),
    "vki_tensor_ndim": (ctypes.c_int, [ctypes.c_void_p]),
    "vki_tensor_shape": (_i64p, [ctypes.c_void_p]),
    "vki_tensor_strides": (_i64p, [ctypes.c_void_p]),
    "vki_tensor_numel": (ctypes.c_int64, [ctypes.c_void_p]),
    "vki_dtype_size": (ctypes.c_size_t, [ctypes.c_int]),
    "vki_dtype_name": (ctypes.c_char_p, [ctypes.c_int]),
    "vki_index_copy_": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]),
    "vki_index_copy": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                                      ctypes.c_void_p]),
    "vki_last_error": (ctypes.c_char_p, []),
    "vki_version": (ctypes.c_uint, []),
    # DLPack: present in libraries built with dlpack/dlpack.h
    "vki_tensor_from_dlpack": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, _handle]),
    "vki_tensor_to_dlpack": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]),
}


class Library:
    """The loaded library. Calls release the GIL (ctypes.CDLL), except vki_tensor_destroy, which
    keeps it (ctypes.PyDLL): destroying a tensor may run a DLPack producer's deleter, and some
    producers' deleters (NumPy's) need the GIL."""

    def __init__(self, path):
        self.path = path
        self.cdll = ctypes.CDLL(path)
        for name, (restype, argtypes) in _DECLS.items():
            f = getattr(self.cdll, name, None)
            if f is None:
                setattr(self, name, None)
                continue
            f.restype, f.argtypes = restype, argtypes
            setattr(self, name, f)
        destroy = ctypes.PyDLL(path).vki_tensor_destroy
        destroy.restype, destroy.argtypes = None, [ctypes.c_void_p]
        self.vki_tensor_destroy = destroy
        self.has_dlpack = self.vki_tensor_from_dlpack is not None

    def check(self, status):
        """Raises the exception of a failed call (PyTorch's class, vkindex's message)."""
        if status == OK:
            return
        message = self.vki_last_error().decode("utf-8", "replace")
        name = STATUS_NAMES.get(status, "VKI_ERROR_UNKNOWN")
        if status == ERROR_INDEX:
            raise VkindexIndexError(message, name)
        raise VkindexError(message, name)


_library = None


def library():
    """The library, loaded on first use: $VKINDEX_LIBRARY, else the system's libvkindex."""
    global _library
    if _library is None:
        _library = Library(_path())
    return _library


# PyCapsules (the DLPack exchange of Python): the C API through private prototypes (the
# shared ctypes.pythonapi's are left as they are), all keeping the GIL.
def _capi(name, restype, *argtypes):
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))


_CAPSULE_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_get_pointer = _capi("PyCapsule_GetPointer", ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)
# the same on a capsule given by address (a capsule being destroyed cannot be passed as an
# object: its reference count is already 0)
_get_pointer_raw = _capi("PyCapsule_GetPointer", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)
_set_name = _capi("PyCapsule_SetName", ctypes.c_int, ctypes.py_object, ctypes.c_void_p)
_is_valid_raw = _capi("PyCapsule_IsValid", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
_new = _capi("PyCapsule_New", ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p, _CAPSULE_DESTRUCTOR)
# Names outlive every capsule that uses them.
_DLTENSOR = ctypes.create_string_buffer(b"dltensor")
_USED_DLTENSOR = ctypes.create_string_buffer(b"used_dltensor")


def capsule_pointer(capsule):
    """The DLManagedTensor of an unconsumed "dltensor" capsule (ValueError if consumed)."""
    return _get_pointer(capsule, b"dltensor")


def capsule_consumed(capsule):
    """Marks a capsule as consumed: its destructor no longer calls the deleter."""
    _set_name(capsule, ctypes.addressof(_USED_DLTENSOR))


@_CAPSULE_DESTRUCTOR
def _destructor(capsule):
    # An unconsumed capsule still owns its tensor: give it back.
    if not _is_valid_raw(capsule, b"dltensor"):
        return
    address = _get_pointer_raw(capsule, b"dltensor")
    deleter = DLManagedTensor.from_address(address).deleter
    if deleter:
        _DELETER(deleter)(address)


def new_capsule(managed):
    """A "dltensor" capsule owning managed (a DLManagedTensor address): if no consumer takes
    it, its destructor calls the deleter."""
    return _new(managed, ctypes.addressof(_DLTENSOR), _destructor)
