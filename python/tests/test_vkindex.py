"""The Python module against torch.Tensor.index_copy_ (PyTorch on the CPU): random cases on the
CPU backend (arrays used in place) and on a Vulkan device when there is one (VKINDEX_TEST_DEVICE,
default the first; validation layer on), PyTorch's errors word for word, DLPack both ways.

    PYTHONPATH=python VKINDEX_LIBRARY=build/libvkindex.so /usr/bin/python3 -m pytest python/tests
"""
import gc
import os
import re

import numpy as np
import pytest
import torch
import torch.utils.dlpack

import vkindex

DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
          torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
          torch.complex128]
NUMPY_DTYPES = {torch.bool: np.bool_, torch.uint8: np.uint8, torch.int8: np.int8,
                torch.int16: np.int16, torch.int32: np.int32, torch.int64: np.int64,
                torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64,
                torch.complex64: np.complex64, torch.complex128: np.complex128}


def _vulkan_context():
    wanted = os.environ.get("VKINDEX_TEST_DEVICE")
    if wanted is None:
        names = vkindex.devices()
        if not names:
            return None
        wanted = "0"
    return vkindex.Context("vulkan", device=wanted, validation=True)


_contexts = {}


@pytest.fixture(params=["cpu", "vulkan"], scope="module")
def ctx(request):
    if request.param not in _contexts:
        _contexts[request.param] = (vkindex.Context("cpu", threads=2) if request.param == "cpu"
                                    else _vulkan_context())
    if _contexts[request.param] is None:
        pytest.skip("no Vulkan device")
    return _contexts[request.param]


def random_tensor(gen, shape, dtype):
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=gen).bool()
    if dtype.is_floating_point or dtype.is_complex:
        return torch.randn(shape, generator=gen, dtype=dtype if dtype != torch.bfloat16 else torch.float32).to(dtype)
    return torch.randint(-100 if dtype != torch.uint8 else 0, 100, shape, generator=gen).to(dtype)


def strided(gen, t):
    """t itself, or a non-contiguous view with t's values (transposed or every other element)."""
    kind = int(torch.randint(0, 3, (1,), generator=gen))
    if t.dim() >= 2 and kind == 1:
        return t.transpose(0, -1).contiguous().transpose(0, -1)
    if t.dim() >= 1 and kind == 2:
        wide = torch.empty(t.shape[:-1] + (2 * t.shape[-1],), dtype=t.dtype)
        view = wide[..., ::2]
        view.copy_(t)
        return view
    return t.clone()


def random_case(gen):
    dtype = DTYPES[int(torch.randint(0, len(DTYPES), (1,), generator=gen))]
    ndim = int(torch.randint(0, 4, (1,), generator=gen))
    shape = [int(torch.randint(1, 6, (1,), generator=gen)) for _ in range(ndim)]
    dim = int(torch.randint(-max(ndim, 1), max(ndim, 1), (1,), generator=gen))
    d = dim % max(ndim, 1)
    size = shape[d] if ndim else 1
    n = int(torch.randint(0, 2 * size + 1, (1,), generator=gen)) if ndim else 1
    src_shape = list(shape)
    if ndim:
        src_shape[d] = n
    index = torch.randint(0, size, (n,), generator=gen)  # repeats: the last occurrence wins
    if not ndim or int(torch.randint(0, 4, (1,), generator=gen)) == 0 and n == 1:
        index = index.reshape(())  # a 0-d index
    self_t = strided(gen, random_tensor(gen, shape, dtype))
    source = strided(gen, random_tensor(gen, src_shape, dtype))
    return self_t, dim, index, source


def as_kind(t, kind, ctx):
    if kind == "numpy" and t.dtype in NUMPY_DTYPES:
        return t.numpy()
    if kind == "vkindex":
        return ctx.tensor(t)
    return t


def same(a, b):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    if a.dtype == torch.bfloat16:
        a, b = a.float(), b.float()
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


@pytest.mark.parametrize("seed", range(40))
def test_random_in_place(ctx, seed):
    """index_copy_ on PyTorch tensors and NumPy arrays (self written in place, no copy on the
    CPU), index and source of every kind, against torch.Tensor.index_copy_."""
    gen = torch.Generator().manual_seed(seed)
    for case in range(6):
        self_t, dim, index, source = random_case(gen)
        want = self_t.clone().index_copy_(dim, index, source)
        kinds = ["torch", "numpy", "vkindex"]
        self_kind = kinds[case % 2]
        target = self_t if self_kind == "torch" or self_t.dtype not in NUMPY_DTYPES else self_t.numpy()
        address = target.data_ptr() if isinstance(target, torch.Tensor) else target.ctypes.data
        idx = index.int() if case % 3 == 2 else index  # int32 indices: vkindex's extension
        got = vkindex.index_copy_(target, dim, as_kind(idx, kinds[(case + seed) % 3], ctx),
                                  as_kind(source, kinds[(case + seed + 1) % 3], ctx), context=ctx)
        assert got is target
        now = target.data_ptr() if isinstance(target, torch.Tensor) else target.ctypes.data
        assert now == address
        assert same(target, want), (seed, case, dim, index, source.shape)


@pytest.mark.parametrize("seed", range(10))
def test_random_out_of_place(ctx, seed):
    """index_copy against torch.index_copy: a new array of self's kind, self unchanged."""
    gen = torch.Generator().manual_seed(1000 + seed)
    for case in range(4):
        self_t, dim, index, source = random_case(gen)
        before = self_t.clone()
        want = self_t.index_copy(dim, index, source)
        target = self_t if case % 2 or self_t.dtype not in NUMPY_DTYPES else self_t.numpy()
        got = vkindex.index_copy(target, dim, index, source, context=ctx)
        assert type(got) is type(target)
        assert same(got, want)
        assert same(self_t, before)


def test_vkindex_tensors(ctx):
    """Tensors of the context itself: made from arrays, written, read back as NumPy."""
    self_v = ctx.tensor(np.zeros((4, 3), np.float32))
    vkindex.index_copy_(self_v, 1, np.array([2, 0]), np.ones((4, 2), np.float32))
    assert self_v.shape == (4, 3) and self_v.dtype == "Float"
    assert (self_v.numpy() == np.array([[1, 0, 1]] * 4, np.float32)).all()
    out = vkindex.index_copy(self_v, 0, torch.tensor([3]), torch.full((1, 3), 7.0))
    assert isinstance(out, vkindex.Tensor)
    assert (out.numpy()[3] == 7).all() and (self_v.numpy()[3] == [1, 0, 1]).all()


# ---- PyTorch's errors (each case: the call, and the exception both must raise) ----

def error_cases():
    x = torch.zeros(5, 3)
    return [
        ("rule 1", lambda: (x.clone(), 2, torch.tensor([0]), torch.zeros(1, 3))),
        ("rule 1 negative", lambda: (x.clone(), -3, torch.tensor([0]), torch.zeros(1, 3))),
        ("rule 1 scalar", lambda: (torch.tensor(1.0), 1, torch.tensor(0), torch.tensor(2.0))),
        ("rule 2", lambda: (torch.zeros(3).expand(2, 3), 0, torch.tensor([0]), torch.zeros(1, 3))),
        ("rule 3", lambda: (lambda s: (s, 0, torch.tensor([0]), s[:1]))(x.clone())),
        ("rule 3 index", lambda: (lambda s: (s, 0, s.view(torch.int64)[:1], torch.zeros(1, 3, dtype=torch.int64)))(torch.zeros(4, 3, dtype=torch.int64))),
        ("rule 4", lambda: (x.clone(), 0, torch.tensor([[0]]), torch.zeros(1, 3))),
        ("rule 5", lambda: (x.clone(), 0, torch.tensor([0, 1]), torch.tensor(1.0))),
        ("rule 6", lambda: (x.clone(), 0, torch.tensor([0]), torch.zeros(1, 3, 1))),
        ("rule 7", lambda: (x.clone(), 0, torch.tensor([0], dtype=torch.int16), torch.zeros(1, 3))),
        ("rule 7 float", lambda: (x.clone(), 0, torch.tensor([0.0]), torch.zeros(1, 3))),
        ("rule 8", lambda: (x.clone(), 0, torch.tensor([0]), torch.zeros(1, 3, dtype=torch.double))),
        ("rule 8 bool", lambda: (torch.zeros(2, dtype=torch.bool), 0, torch.tensor([0]), torch.zeros(1, dtype=torch.uint8))),
        ("rule 10", lambda: (x.clone(), 0, torch.tensor([0]), torch.zeros(1, 4))),
        ("rule 10 dim 1", lambda: (torch.zeros(4, 5, 6), 1, torch.tensor([0]), torch.zeros(4, 1, 7))),
        ("rule 11", lambda: (x.clone(), 0, torch.tensor([0, 1]), torch.zeros(1, 3))),
        ("rule 12", lambda: (x.clone(), 0, torch.tensor([7]), torch.zeros(1, 3))),
        ("rule 12 negative", lambda: (x.clone(), 0, torch.tensor([1, -1]), torch.zeros(2, 3))),
        ("rule 12 dim 1", lambda: (x.clone(), 1, torch.tensor([3]), torch.zeros(5, 1))),
        ("rule 12 int64", lambda: (x.clone(), 0, torch.tensor([2 ** 40]), torch.zeros(1, 3))),
    ]


@pytest.mark.parametrize("name,make", error_cases(), ids=[c[0] for c in error_cases()])
def test_errors_as_pytorch(ctx, name, make):
    """The same exception class and message as PyTorch 1.13, and self unchanged."""
    self_t, dim, index, source = make()
    with pytest.raises(Exception) as want:
        self_t.clone().index_copy_(dim, index, source) if name not in ("rule 2", "rule 3", "rule 3 index") \
            else self_t.index_copy_(dim, index, source)
    before = self_t.clone()
    with pytest.raises(type(want.value)) as got:
        vkindex.index_copy_(self_t, dim, index, source, context=ctx)
    assert str(got.value) == str(want.value)
    assert isinstance(got.value, (vkindex.VkindexError, vkindex.VkindexIndexError))
    assert torch.equal(self_t, before)


def test_error_numpy_overlap(ctx):
    """NumPy views of one array share a storage in vkindex too (rule 3, as PyTorch)."""
    x = np.zeros((5, 3), np.float32)
    with pytest.raises(RuntimeError) as got:
        vkindex.index_copy_(x, 0, np.array([0]), x[1:2], context=ctx)
    assert str(got.value) == ("unsupported operation: some elements of the input tensor and the "
                              "written-to tensor refer to a single memory location. Please clone() "
                              "the tensor before performing the operation.")


def test_int32_index_is_accepted(ctx):
    """Where vkindex differs from PyTorch 1.13 on purpose: int32 indices are accepted (PyTorch
    says "Expected a long tensor for index, but got Int")."""
    x = torch.zeros(5, 3)
    vkindex.index_copy_(x, 0, torch.tensor([4], dtype=torch.int32), torch.ones(1, 3), context=ctx)
    assert torch.equal(x, torch.zeros(5, 3).index_copy_(0, torch.tensor([4]), torch.ones(1, 3)))


def test_context_error_message():
    """Tensors of two contexts (PyTorch's device check): a RuntimeError naming the contexts."""
    a, b = vkindex.Context("cpu"), vkindex.Context("cpu")
    self_v = a.tensor(np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match=re.escape("index_copy_(): self, index and source expected "
                       "to be in the same context, but got (self) context ") +
                       r"\d+ \(cpu\), \(index\) context \d+ \(cpu\), and \(source\) context \d+ \(cpu\)$"):
        vkindex.index_copy_(self_v, 0, b.tensor(np.array([0])), a.tensor(np.zeros(1, np.float32)))


def test_other_statuses():
    with pytest.raises(RuntimeError) as got:
        vkindex.Context("vulkan", device="no such device")
    assert got.value.status == "VKI_ERROR_NO_DEVICE"
    with pytest.raises(ValueError):
        vkindex.Context("gpu")
    with pytest.raises(TypeError):
        vkindex.index_copy_(np.zeros(3, np.float32), 0, np.array([0]), np.zeros(1, np.longdouble))


def test_numpy_views():
    """Reversed, read-only and misaligned NumPy arrays work (through packed copies)."""
    ctx = vkindex.Context("cpu")
    x = np.zeros((4, 2), np.int64)
    rev = x[::-1]
    vkindex.index_copy_(rev, 0, np.array([0]), np.array([[5, 6]]), context=ctx)
    assert (x[3] == [5, 6]).all() and (x[:3] == 0).all()
    src = np.array([[1, 2]])
    src.setflags(write=False)
    vkindex.index_copy_(x, 0, np.array([1]), src, context=ctx)
    assert (x[1] == [1, 2]).all()
    with pytest.raises(ValueError):
        vkindex.index_copy_(src, 0, np.array([0]), np.array([[0, 0]]), context=ctx)


# ---- DLPack ----

requires_dlpack = pytest.mark.skipif(not vkindex.library().has_dlpack,
                                     reason="the library was built without DLPack")


@requires_dlpack
def test_dlpack_numpy_in_place():
    """A NumPy array through its own __dlpack__: the same memory, kept alive by vkindex."""
    ctx = vkindex.Context("cpu")
    a = np.zeros((3, 2), np.int32)
    v = ctx.from_dlpack(a)
    del a
    gc.collect()
    vkindex.index_copy_(v, 0, np.array([2]), np.array([[7, 8]], np.int32))
    assert v.numpy().tolist() == [[0, 0], [0, 0], [7, 8]]
    assert np.from_dlpack(v).tolist() == [[0, 0], [0, 0], [7, 8]]


@requires_dlpack
def test_dlpack_torch_in_place():
    """A PyTorch tensor imported through DLPack is used in place and kept alive by vkindex: the
    tensor's last Python reference can go first."""
    ctx = vkindex.Context("cpu")
    t = torch.arange(12.0).reshape(3, 4)
    mirror = t.view(-1)  # the same memory, to watch it
    v = ctx.from_dlpack(t)
    assert v.shape == (3, 4) and v.stride() == (4, 1) and v.dtype == "Float"
    del t
    gc.collect()
    vkindex.index_copy_(v, 0, torch.tensor([1]), torch.full((1, 4), -1.0))
    assert mirror[4:8].eq(-1).all()
    b = ctx.from_dlpack(torch.tensor([True, False]))
    assert b.dtype == "Bool"


@requires_dlpack
def test_dlpack_export_round_trip():
    """vkindex tensors go to PyTorch and NumPy without a copy, and come back."""
    ctx = vkindex.Context("cpu")
    v = ctx.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    t = torch.utils.dlpack.from_dlpack(v)
    a = np.from_dlpack(v)
    vkindex.index_copy_(v, 1, np.array([0]), np.full((2, 1), 9, np.float32))
    assert t[:, 0].eq(9).all() and (a[:, 0] == 9).all()
    del v
    gc.collect()
    assert t.tolist() == [[9, 1, 2], [9, 4, 5]]  # the export keeps the storage
    back = ctx.from_dlpack(t)
    assert back.numpy().tolist() == [[9, 1, 2], [9, 4, 5]]
    capsule = vkindex.Tensor.__dlpack__(back)
    del capsule  # never consumed: its destructor gives the export back
    gc.collect()
    with pytest.raises(RuntimeError, match="^vki_tensor_to_dlpack: DLPack has no dtype for Float8_e5m2$"):
        ctx.empty([2], "Float8_e5m2").__dlpack__()


def test_devices():
    names = vkindex.devices()
    assert isinstance(names, list)
    for k, name in enumerate(names):
        with vkindex.Context("vulkan", device=str(k)) as c:
            assert c.device_name == name
