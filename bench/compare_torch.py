#!/usr/bin/env python3
"""Runs the workloads of vkindex-bench through PyTorch's index_copy_ (CPU, or CUDA when
present) and through vkindex-bench in the same run, and prints the ratio per workload. With
the Python module (python/vkindex, found next to this file; VKINDEX_LIBRARY names the library,
default build/libvkindex.so) it also runs vkindex.index_copy_ on PyTorch's own CPU tensors, in
place through DLPack on a CPU context, checks that the result equals PyTorch's, and prints its
time ("py ms": the call from Python, wall time).

    python3 bench/compare_torch.py [--bench build/bench/vkindex-bench] [--backend cpu|vulkan|auto]
                                   [--torch-device cpu|cuda] [--threads N] [--reps N] [--quick]
                                   [WORKLOAD ...]

Bytes moved = 2 x source bytes + index bytes, as in vkindex-bench. PyTorch is used for
comparison only; vkindex does not depend on it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_here, "..", "python"))
os.environ.setdefault("VKINDEX_LIBRARY", os.path.join(_here, "..", "build", "libvkindex.so"))
try:
    import vkindex
except ImportError:  # pragma: no cover - the module is in the repository
    vkindex = None

# name: (dtype, shape, quick_shape, dim, kind, n, quick_n, first)
WORKLOADS = {
    "rows_f32": (torch.float32, (1048576, 256), (65536, 256), 0, "unique", 262144, 16384, 0),
    "kvcache_prefill_f16": (torch.float16, (8, 32, 4096, 128), (1, 8, 4096, 128), 2, "range", 1024, 1024, 1024),
    "kvcache_decode_f16": (torch.float16, (8, 32, 4096, 128), (1, 8, 4096, 128), 2, "one", 1, 1, 2047),
    "cols_f32": (torch.float32, (4096, 8192), (256, 8192), 1, "unique", 4096, 4096, 0),
    "cols_u8": (torch.uint8, (4096, 8192), (256, 8192), 1, "unique", 4096, 4096, 0),
    "small_f32": (torch.float32, (1024, 64), (1024, 64), 0, "unique", 16, 16, 0),
    "dups_f32": (torch.float32, (65536, 256), (4096, 256), 0, "repeats", 262144, 16384, 0),
}


def make_index(kind, dim_size, n, first, gen):
    if kind == "unique":
        return torch.randperm(dim_size, generator=gen)[:n]
    if kind == "range":
        return torch.arange(first, first + n)
    if kind == "one":
        return torch.tensor([first])
    return torch.randint(0, dim_size, (n,), generator=gen)


def random_tensor(shape, dtype, gen):
    if dtype.is_floating_point:
        return torch.randn(shape, generator=gen).to(dtype)
    return torch.randint(0, 256, shape, generator=gen).to(dtype)


def last_occurrences(self_t, dim, index, src):
    """self_t.index_copy_(dim, index, src) where each repeated index value takes its last
    occurrence, as vkindex promises (PyTorch promises no order for repeated values)."""
    last = {}
    for i, v in enumerate(index.tolist()):
        last[v] = i
    pos = torch.tensor(sorted(last.values()), dtype=torch.long, device=index.device)
    return self_t.clone().index_copy_(dim, index[pos], src.index_select(dim, pos))


def time_python(self_t, dim, index, src, want, args, ctx):
    """vkindex.index_copy_ on the same CPU tensors (in place, no copy on a CPU context), checked
    against PyTorch's result once; the median wall time of the call in ms."""
    self_t = self_t.cpu()  # a copy of self as it was before PyTorch's calls
    index, src = index.cpu(), src.cpu()
    vkindex.index_copy_(self_t, dim, index, src, context=ctx)
    if not torch.equal(self_t, want.cpu()):
        sys.exit("vkindex (Python) and PyTorch disagree")
    times = []
    for r in range(args.warmup + args.reps):
        t0 = time.perf_counter()
        vkindex.index_copy_(self_t, dim, index, src, context=ctx)
        ms = (time.perf_counter() - t0) * 1e3
        if r >= args.warmup:
            times.append(ms)
    return statistics.median(times)


def time_torch(name, args, device, gen, ctx=None):
    dtype, shape, qshape, dim, kind, n, qn, first = WORKLOADS[name]
    shape, n = (qshape, qn) if args.quick else (shape, n)
    src_shape = list(shape)
    src_shape[dim] = n
    self_t = random_tensor(shape, dtype, gen).to(device)
    src = random_tensor(src_shape, dtype, gen).to(device)
    index = make_index(kind, shape[dim], n, first, gen).to(device)
    moved = 2 * src.numel() * src.element_size() + n * 8
    before = self_t.clone() if ctx else None
    times = []
    for r in range(args.warmup + args.reps):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            self_t.index_copy_(dim, index, src)
            end.record()
            torch.cuda.synchronize()
            ms = start.elapsed_time(end)
        else:
            t0 = time.perf_counter()
            self_t.index_copy_(dim, index, src)
            ms = (time.perf_counter() - t0) * 1e3
        if r >= args.warmup:
            times.append(ms)
    ms = statistics.median(times)
    want = self_t if kind != "repeats" else last_occurrences(before, dim, index, src)
    py_ms = time_python(before, dim, index, src, want, args, ctx) if ctx else None
    return moved, ms, moved / (ms * 1e6), py_ms


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", default=os.path.join(os.path.dirname(__file__), "..", "build", "bench", "vkindex-bench"))
    p.add_argument("--backend", default="cpu", choices=["cpu", "vulkan", "auto"])
    p.add_argument("--torch-device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="vkindex CPU workers")
    p.add_argument("--torch-threads", type=int, default=None, help="PyTorch threads (default: --threads)")
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-python", action="store_true", help="skip the Python module's column")
    p.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    args = p.parse_args()
    for w in args.workloads:
        if w not in WORKLOADS:
            sys.exit(f"unknown workload {w}; known: {' '.join(WORKLOADS)}")
    torch.set_num_threads(args.torch_threads or args.threads)
    gen = torch.Generator().manual_seed(1234)
    ctx = None
    if vkindex is not None and not args.no_python:
        ctx = vkindex.Context(backend=args.backend, threads=args.threads)

    torch_results = {}
    for w in args.workloads:
        torch_results[w] = time_torch(w, args, args.torch_device, gen, ctx)
        print(f"torch {w}: {torch_results[w][1]:.4f} ms, {torch_results[w][2]:.2f} GB/s", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "vkindex.json")
        cmd = [args.bench, "--backend", args.backend, "--reps", str(args.reps), "--warmup",
               str(args.warmup), "--json", out, "--batch-calls", "0"] + (["--quick"] if args.quick else []) + args.workloads
        env = dict(os.environ, VKI_THREADS=str(args.threads))
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        with open(out) as f:
            vk = {r["workload"]: r for r in json.load(f)["results"]}

    device = vk[args.workloads[0]]["device"] if args.workloads else "?"
    print(f"\nPyTorch {torch.__version__} on {args.torch_device} ({args.torch_threads or args.threads} threads) vs "
          f"vkindex on {args.backend} ({device}, {args.threads} threads on the CPU), medians of {args.reps}")
    print(f"{'workload':<20} {'torch ms':>10} {'torch GB/s':>11} {'vkindex ms':>11} {'vkindex GB/s':>13} {'% copy':>7} {'speed-up':>9} {'py ms':>9}")
    for w in args.workloads:
        moved, t_ms, t_gbps, py_ms = torch_results[w]
        py = f"{py_ms:>9.4f}" if py_ms is not None else f"{'-':>9}"
        r = vk[w]
        if "cannot_run" in r:
            print(f"{w:<20} {t_ms:>10.4f} {t_gbps:>11.2f}   vkindex cannot run it on this device: {r['cannot_run']}")
            continue
        v_ms = r["kernel_ms"]["median"] if r["kernel_ms"]["median"] > 0 and args.torch_device == "cuda" else r["wall_ms"]["median"]
        v_gbps = moved / (v_ms * 1e6)
        print(f"{w:<20} {t_ms:>10.4f} {t_gbps:>11.2f} {v_ms:>11.4f} {v_gbps:>13.2f} {100 * v_gbps / r['copy_gbps']:>6.0f}% {t_ms / v_ms:>8.2f}x {py}")


if __name__ == "__main__":
    main()
