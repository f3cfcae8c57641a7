#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_index_copy (tests/fuzz/corpus/seed-*): one small program per
path of the decoder in fuzz_index_copy.c, in the same byte format (a missing byte reads as 0).

    python3 tests/fuzz/make_corpus.py [OUTPUT_DIR]     (default: tests/fuzz/corpus next to it)

Handles are numbered as the target numbers them: the first free slot, in creation order (a
smart call creates its index, then its source unless it is self or shares self's storage
through an alias, then its out). Replay with FUZZ_VERBOSE=1 to see each program.
"""
import os
import sys

(NEW_TENSOR, NEW_INDEX, NEW_ALIAS, CALL_INPLACE, CALL_OUT, SMART, UPLOAD, DOWNLOAD,
 BATCH_BEGIN, BATCH_END, DESTROY, CHECK) = range(12)

DTYPES = ["Bool", "Byte", "Char", "Short", "UInt16", "Int", "UInt32", "Long", "UInt64", "Half",
          "BFloat16", "Float", "Double", "ComplexHalf", "ComplexFloat", "ComplexDouble",
          "Float8_e4m3fn", "Float8_e5m2"]
D = {name: i for i, name in enumerate(DTYPES)}
SIZE = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 0: 7}  # byte whose size_table entry is the size

# Smart-call flags (op_smart_call).
OUT, SRC_ALIAS, IDX32, SRC_SCALAR, IDX_SCALAR, OUT_ALIAS, IDX_ALIAS, SRC_SELF = (
    1, 2, 4, 8, 16, 32, 64, 128)


def header(check_in_batch=False, seed=0x1234):
    return [1 if check_in_batch else 0, seed & 255, (seed >> 8) & 255]


def strides(style=0, ndim=0, perm=(), pad=(), mask=0, sel=0, custom=()):
    """gen_strides: 0 contiguous, 1 padded, 2 transposed (perm: one byte per k = ndim-1..1),
    3 transposed + padded, 4 zero strides (mask), 5 huge strides on size-0/1 dims (sel; bit 7:
    huge offset for an empty view), 6 custom strides (one byte each), 7 column-major."""
    b = [style]
    if style in (2, 3):
        b += list(perm) + [0] * (ndim - 1 - len(perm))
    if style in (1, 3):
        b += list(pad) + [0] * (ndim - len(pad))
    if style == 4:
        b.append(mask)
    if style == 5:
        b.append(sel)
    if style == 6:
        b += list(custom) + [0] * (ndim - len(custom))
    return b


def new_tensor(dtype, shape, st=None, off=0, slack=0):
    st = strides() if st is None else st
    return [NEW_TENSOR, D[dtype], len(shape)] + [SIZE[s] for s in shape] + st + [off, slack]


def new_index(values, dtype="Long", scalar=False, st=None, off=0, slack=0, shape2=None):
    """An index tensor holding values (bytes for index_value: < 200 is v % 5, else specials)."""
    kind = {"Long": 0, "Int": 4}.get(dtype, 7)
    b = [NEW_INDEX, kind]
    if shape2:
        b += [7, shape2[0] - 1, shape2[1] - 1]
        ndim = 2
    elif scalar:
        b += [0]
        ndim = 0
    else:
        b += [2, len(values)]
        ndim = 1
    if kind == 7:
        b.insert(3, D[dtype])
    st = strides(ndim=ndim) if st is None else st
    return b + st + [off, slack] + list(values)


# index_value specials: byte 200 + k gives special[(200 + k) % 16]; 200 % 16 == 8.
def special(v):
    table = [-1, -2, 5, 6, 7, 100, "INT64_MAX", "INT64_MIN", "2^32", "2^32+1", "2^31",
             "-2^32+1", "INT32_MAX", "INT32_MIN", "2^33+2", -5]
    i = table.index(v)
    return 200 + (i - 8) % 16


def alias(h, kind=0, rank=None, shape=(), st=None, off=0):
    """kind 0: the same view; 1: same shape, new strides; 2: new shape and strides.
    kind | 0x80: the offset is exact (an error if it does not fit)."""
    b = [NEW_ALIAS, h, kind]
    if kind % 4 == 1:
        b += st
    elif kind % 4 >= 2:
        b += [len(shape)] + [SIZE[s] for s in shape] + (st or strides())
    return b + [off & 255, off >> 8]


def dimb(d, ndim):
    wrap = max(ndim, 1)
    return d + wrap


def call_(self, d, idx, src):
    return [CALL_INPLACE, self, d, idx, 7 if src == "self" else src * 8]


def call(out, self, d, idx, src):
    return [CALL_OUT, out, self, d, idx, src]


def smart(self, d, flags, n, values, ist=None, ioff=0, xst=None, xoff=0, ost=None, ooff=0):
    b = [SMART, self, d, flags, n]
    b += ist if ist is not None else [0]
    b += [ioff & 255, ioff >> 8] + list(values)
    b += xst if xst is not None else [0]
    b += [xoff & 255, xoff >> 8]
    if flags & OUT:
        b += ost if ost is not None else [0]
        b += [ooff & 255, ooff >> 8]
    return b


def upload(h, values=None, wrong=False):
    mode = (0xE0 if wrong else 0) | (1 if values is not None else 0)
    return [UPLOAD, h, mode] + list(values or [])


def download(h, wrong=False):
    return [DOWNLOAD, h, 0xE0 if wrong else 0]


SEEDS = {}


def seed(name, *ops, check_in_batch=False):
    data = header(check_in_batch, seed=len(SEEDS) * 7919 + 17)
    for op in ops:
        data += op
    SEEDS[name] = bytes(data)


# ---- the programs ----
# 2-d float rows, in place, valid unique indices: h0 self [5,3]; smart makes h1 index, h2 source.
seed("rows-f32", new_tensor("Float", [5, 3]), smart(0, dimb(0, 2), 0, 3, [4, 0, 2]))
seed("cols-neg-dim-int32", new_tensor("Double", [3, 4]),
     smart(0, dimb(-1, 2), IDX32, 4, [3, 1, 1, 0]))
seed("duplicates-last-wins", new_tensor("Short", [4, 2], strides(1, 2, pad=(1, 2))),
     smart(0, dimb(0, 2), 0, 6, [1, 1, 3, 1, 0, 3]))
seed("scalar-self-source-index", new_tensor("ComplexDouble", []),
     smart(0, 1, SRC_SCALAR | IDX_SCALAR, 1, [0]))
seed("scalar-source-1d-self", new_tensor("Half", [4]), smart(0, 1, SRC_SCALAR | IDX_SCALAR, 1, [3]))
seed("empty-dims", new_tensor("Float", [0, 3]), smart(0, dimb(0, 2), 0, 0, []),
     smart(0, dimb(1, 2), 0, 2, [special(100), 1]))
seed("empty-slice-bad-index-unchecked", new_tensor("Int", [2, 0]),
     smart(0, dimb(0, 2), 0, 2, [special(7), special(-1)]))
seed("bad-index-rule12", new_tensor("Float", [4, 2]),
     smart(0, dimb(0, 2), 0, 3, [1, special(100), special(-1)]))
seed("huge-index-2p32p1", new_tensor("Long", [3]),
     smart(0, dimb(0, 1), 0, 2, [0, special("2^32+1")]))
seed("int32-index-2p31", new_tensor("UInt16", [3, 3]),
     smart(0, dimb(1, 2), IDX32, 2, [special("2^31"), 1]))
seed("int64-min-index", new_tensor("UInt64", [2, 2]), smart(0, dimb(0, 2), 0, 1, [special("INT64_MIN")]))
seed("rule1-dim-out-of-range", new_tensor("Float", [2, 3]), smart(0, 224 + 2, 0, 1, [0]),
     smart(0, 224 + 3, 0, 1, [0]), smart(0, 224, 0, 1, [0]))
seed("rule2-zero-stride-self", new_tensor("Float", [3, 2], strides(4, 2, mask=1)),
     smart(0, dimb(1, 2), 0, 2, [0, 1]))
seed("rule3-dense-overlap-and-identity", new_tensor("Byte", [4, 4]),
     smart(0, dimb(0, 2), SRC_ALIAS, 2, [0, 1], xoff=3),
     smart(0, dimb(0, 2), SRC_SELF, 4, [3, 2, 1, 0]))
seed("rules4-11", new_tensor("Float", [3, 2]), new_tensor("Double", [2, 2]),
     new_index([0, 1, 2, 0], shape2=(2, 2)), new_index([0, 1], dtype="Float"),
     new_index([0, 1]), new_tensor("Float", [4]), new_tensor("Float", [2, 3]),
     new_tensor("Float", []), new_tensor("Float", [3, 2]),
     call_(0, dimb(0, 2), 2, 1),   # rule 4: 2-d index
     call_(0, dimb(0, 2), 4, 7),   # rule 5: 0-d source, 2 indices
     call_(0, dimb(0, 2), 4, 5),   # rule 6: 1-d source into 2-d self
     call_(0, dimb(0, 2), 3, 1),   # rule 7: Float index
     call_(0, dimb(0, 2), 4, 1),   # rule 8: Double source into Float self
     call_(0, dimb(0, 2), 4, 6),   # rule 10: slices [2] and [3]
     call_(0, dimb(0, 2), 4, 8))   # rule 11: 2 indices, 3 source slices
seed("out-of-place-fresh", new_tensor("Float", [3, 4], strides(2, 2, perm=(1,))),
     smart(0, dimb(1, 2), OUT, 2, [3, 0], ost=strides(1, 2, pad=(2, 1)), ooff=5))
seed("out-is-self-handle", new_tensor("Int", [3, 2]), new_index([2, 0]),
     new_tensor("Int", [2, 2]), call(0, 0, dimb(0, 2), 1, 2))
seed("out-same-view-alias", new_tensor("Float", [3, 2]), alias(0, 0), new_index([1]),
     new_tensor("Float", [1, 2]), call(1, 0, dimb(0, 2), 2, 3))
seed("out-overlapping-self", new_tensor("Float", [2, 3], slack=6), alias(0, 0x82, shape=(2, 3), off=3),
     new_index([0]), new_tensor("Float", [1, 3]), call(1, 0, dimb(0, 2), 2, 3),
     alias(0, 0x82, shape=(2, 3), st=strides(1, 2, pad=(0, 1)), off=1),
     call(4, 0, dimb(0, 2), 2, 3))
seed("out-dtype-shape-mismatch", new_tensor("Float", [2, 2]), new_tensor("Double", [2, 2]),
     new_tensor("Float", [2, 3]), new_index([1]), new_tensor("Float", [1, 2]),
     call(1, 0, dimb(0, 2), 3, 4), call(2, 0, dimb(0, 2), 3, 4))
seed("non-dense-source-in-self-storage", new_tensor("Half", [4, 3], strides(1, 2, pad=(0, 1))),
     smart(0, dimb(1, 2), SRC_ALIAS, 2, [2, 0], xst=strides(2, 2, perm=(0,)), xoff=2))
seed("index-in-self-storage", new_tensor("Long", [5], slack=3),
     smart(0, dimb(0, 1), IDX_ALIAS, 2, [5, 1], ist=strides(6, 1, custom=(2,)), ioff=1),
     smart(0, dimb(0, 1), IDX_ALIAS | IDX_SCALAR, 1, [3], ist=strides(0), ioff=4))
seed("batch-bad-index-position", new_tensor("Float", [4, 2]), [BATCH_BEGIN],
     smart(0, dimb(0, 2), 0, 2, [0, 1]), smart(0, dimb(0, 2), 0, 1, [special(7)]),
     smart(0, dimb(0, 2), 0, 1, [special(5)]), smart(0, dimb(1, 2), 0, 1, [1]), [BATCH_END])
seed("batch-index-overwritten-by-upload", new_tensor("Float", [3, 2]), new_index([0, 1]),
     new_tensor("Float", [2, 2]), [BATCH_BEGIN], call_(0, dimb(0, 2), 1, 2),
     upload(1, [special(6), 2]), call_(0, dimb(0, 2), 1, 2), upload(1, [1, 2]),
     call_(0, dimb(0, 2), 1, 2), [BATCH_END], check_in_batch=True)
seed("batch-destroy-download-misuse", [BATCH_END], new_tensor("Byte", [5]),
     [BATCH_BEGIN, BATCH_BEGIN], smart(0, dimb(0, 1), SRC_SCALAR | IDX_SCALAR, 1, [4]),
     [DESTROY, 1, DESTROY, 2], download(0), smart(0, dimb(0, 1), 0, 3, [0, 2, 4]),
     [DESTROY, 0, CHECK, BATCH_END, BATCH_END])
seed("batch-out-of-place-empty", new_tensor("BFloat16", [3, 3]), [BATCH_BEGIN],
     smart(0, dimb(0, 2), OUT, 0, []), smart(0, dimb(0, 2), OUT, 1, [special(-1)]),
     smart(0, dimb(1, 2), OUT | IDX32, 3, [0, 1, 2]), [BATCH_END])
seed("strided-upload-download-1-2-byte", new_tensor("Bool", [3, 3], strides(3, 2, perm=(0,), pad=(1, 1))),
     upload(0), download(0), new_tensor("Float8_e5m2", [5], strides(6, 1, custom=(2,))), upload(1),
     download(1), new_tensor("Short", [3, 2], strides(7, 2)), upload(2), download(2),
     new_tensor("Half", [5], strides(6, 1, custom=(3,))), upload(3), download(3))
seed("zero-stride-views", new_tensor("Int", [3, 2], strides(4, 2, mask=2)), download(0), upload(0),
     new_index([1, 2, 3], st=strides(4, 1, mask=1)), download(1),
     new_tensor("Int", [4, 2]), smart(2, dimb(0, 2), 0, 3, [0, 0, 0], ist=strides(4, 1, mask=1)))
seed("huge-strides-size1-empty", new_tensor("Float", [1, 3, 1], strides(5, 3, sel=0)),
     smart(0, dimb(0, 3), OUT, 1, [0], xst=strides(5, 3, sel=1), ost=strides(5, 3, sel=2)),
     new_tensor("Double", [2, 0, 3], strides(5, 3, sel=0x83)), upload(2), download(2),
     smart(2, dimb(1, 3), 0, 0, []), smart(0, dimb(1, 3), 0, 2, [2, 0], xst=strides(5, 3, sel=4)))
seed("rank4-transposed", new_tensor("ComplexFloat", [2, 3, 2, 2], strides(3, 4, perm=(2, 1, 0), pad=(1, 0, 1, 0))),
     smart(0, dimb(2, 4), OUT, 3, [1, 0, 1], xst=strides(2, 4, perm=(1, 1, 1)), ost=strides(7, 4)))
seed("rank3-every-dtype-a", *[op for dt in ["Bool", "Char", "UInt32", "Float8_e4m3fn", "ComplexHalf"]
                              for op in (new_tensor(dt, [2, 3, 2], strides(1, 3, pad=(0, 1, 1))),)],
     smart(0, dimb(1, 3), 0, 2, [2, 0]), smart(1, dimb(2, 3), 0, 2, [1, 1]),
     smart(2, dimb(0, 3), 0, 2, [1, 0]), smart(3, dimb(-1, 3), IDX32, 1, [0]),
     smart(4, dimb(-3, 3), 0, 1, [1]))
seed("view-outside-storage", new_tensor("Float", [4]), alias(0, 0x82, shape=(3, 2), off=0),
     alias(0, 0x82, shape=(2,), off=3), alias(0, 0x02, shape=(2, 2), st=strides(6, 2, custom=(1, 1))))
seed("wrong-size-transfers", new_tensor("Double", [2, 2]), upload(0, wrong=True), download(0, wrong=True),
     new_tensor("Float", [0]), upload(1, wrong=True), download(1), upload(1))
seed("overlapping-written-tensor-skipped", new_tensor("Float", [5], slack=1),
     alias(0, 0x02, shape=(3, 2), st=strides(6, 2, custom=(1, 1))), new_index([0]),
     new_tensor("Float", [1, 2]), call_(1, dimb(0, 2), 2, 3), download(1))
seed("column-major-complex128", new_tensor("ComplexDouble", [3, 4], strides(7, 2)),
     smart(0, dimb(1, 2), SRC_ALIAS, 2, [1, 3], xst=strides(7, 2), xoff=0), check_in_batch=True)
seed("eviction-many-handles", *[new_tensor("Int", [2]) for _ in range(8)],
     *[alias(i, 0) for i in range(8)], alias(3, 0), smart(2, dimb(0, 1), OUT, 2, [1, 0]),
     [CHECK])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds, {sum(len(d) for d in SEEDS.values())} bytes in {out}")


if __name__ == "__main__":
    main()
