#!/usr/bin/env python3
"""Golden files for the safetensors reader/writer tests (tests/io/test_safetensors_compat.cpp).

Two directions, both checked against the reference implementation (PyPI `safetensors`):

1. Files Python writes, which we must read exactly:
     python_numpy.safetensors  written by safetensors.numpy.save_file (F64 F32 F16 I64 I32 I16 I8
                               U8 BOOL, a scalar, an empty tensor, metadata)
     python_torch.safetensors  written by safetensors.torch.save_file (BF16, F16, F32 with special
                               values: signed zero, subnormals, inf, the largest finite values)
   expected.json lists every tensor's dtype, shape and values (floats as float32 bit patterns,
   as numpy/torch widen them; integers as ints).

2. A file our writer writes, which Python must load: pass the test binary with --test-bin; it is
   run with RS_SAFETENSORS_CANONICAL_OUT=<tmp> (test Compat.WriterMatchesGolden writes its
   canonical file there), the file is loaded with safetensors.torch and safetensors.numpy, every
   value is compared with numpy/torch's own rounding of the same inputs (round to nearest even),
   and only then is it stored as written_by_reasonscope.safetensors, with python_check.json
   recording what Python saw. The C++ test then requires its output to equal that file byte for
   byte, so the writer stays Python-compatible without Python at test time.

Usage: /work/refvenv/bin/python tools/make_safetensors_golden.py \
           --test-bin build/tests/io/io_test_safetensors_compat
Also writes the fuzz seed corpus fuzz/corpus/safetensors/.
Re-runnable: it overwrites the files in tests/golden/safetensors/ and the corpus.
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import save_file as np_save
from safetensors.torch import load_file as torch_load
from safetensors.torch import save_file as torch_save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "safetensors")


def canonical_values(n, offset):
    """Same formula as canonical_values() in test_safetensors_compat.cpp: exact in double,
    then rounded to float32 (both sides round to nearest even)."""
    return np.array([((((i + offset) * 7919) % 2001) - 1000) / 37.0 for i in range(n)],
                    dtype=np.float64).astype(np.float32)


SPECIALS = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 65519.0, 65520.0, 1e-7, 5.96e-8, 3.0e38,
                     np.inf, -np.inf, 1.0 / 3.0, 1e-40, -7.0e-39], dtype=np.float64).astype(np.float32)


def f32_bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


def expected_entry(dtype, arr):
    """dtype name, shape, values (float32 bits for float dtypes, ints otherwise)."""
    e = {"dtype": dtype, "shape": list(arr.shape)}
    if dtype in ("F64", "F32", "F16", "BF16"):
        e["f32_bits"] = f32_bits(arr.to(torch.float32).numpy() if isinstance(arr, torch.Tensor)
                                 else arr.astype(np.float32))
    else:
        e["ints"] = [int(x) for x in np.asarray(arr).reshape(-1)]
    return e


def python_written():
    expected = {}
    rng = np.random.default_rng(1234)
    np_tensors = {
        "a.f64": rng.standard_normal((2, 3)).astype(np.float64),
        "b.f32": rng.standard_normal((4, 5)).astype(np.float32),
        "c.f16": rng.standard_normal((3, 7)).astype(np.float16),
        "d.i64": rng.integers(-2**62, 2**62, size=(5,), dtype=np.int64),
        "e.i32": rng.integers(-2**31, 2**31 - 1, size=(2, 2), dtype=np.int32),
        "f.i16": rng.integers(-2**15, 2**15 - 1, size=(3,), dtype=np.int16),
        "g.i8": rng.integers(-128, 127, size=(6,), dtype=np.int8),
        "h.u8": rng.integers(0, 255, size=(2, 4), dtype=np.uint8),
        "i.bool": rng.integers(0, 2, size=(5,)).astype(np.bool_),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    path = os.path.join(OUT, "python_numpy.safetensors")
    np_save(np_tensors, path, metadata={"format": "np", "note": "written by safetensors.numpy, ünïcödé"})
    names = {np.float64: "F64", np.float32: "F32", np.float16: "F16", np.int64: "I64",
             np.int32: "I32", np.int16: "I16", np.int8: "I8", np.uint8: "U8", np.bool_: "BOOL"}
    expected["python_numpy.safetensors"] = {
        "metadata": {"format": "np", "note": "written by safetensors.numpy, ünïcödé"},
        "tensors": {k: expected_entry(names[v.dtype.type], v) for k, v in np_tensors.items()},
    }

    g = torch.Generator().manual_seed(99)
    t_tensors = {
        "w.bf16": torch.randn(3, 5, generator=g).to(torch.bfloat16),
        "special.bf16": torch.from_numpy(SPECIALS).to(torch.bfloat16),
        "special.f16": torch.from_numpy(SPECIALS).to(torch.float16),
        "special.f32": torch.from_numpy(SPECIALS.copy()),
        "layers.0.mlp.up_proj.weight": torch.randn(4, 2, generator=g).to(torch.float16),
    }
    path = os.path.join(OUT, "python_torch.safetensors")
    torch_save(t_tensors, path, metadata={"format": "pt"})
    tnames = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32"}
    expected["python_torch.safetensors"] = {
        "metadata": {"format": "pt"},
        "tensors": {k: expected_entry(tnames[v.dtype], v) for k, v in t_tensors.items()},
    }
    return expected


def check_ours(test_bin):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ours.safetensors")
        env = dict(os.environ, RS_SAFETENSORS_CANONICAL_OUT=out)
        subprocess.run([test_bin, "--gtest_filter=Compat.WriterMatchesGolden"], env=env, check=False,
                       stdout=subprocess.DEVNULL)
        data = open(out, "rb").read()

    # The canonical tensors of the C++ test (canonical_tensors()).
    f32 = canonical_values(15, 0).reshape(3, 5)
    f16_src = canonical_values(24, 100).reshape(4, 6)
    bf16_src = canonical_values(24, 200).reshape(2, 3, 4)
    want = {
        "weights.f32": torch.from_numpy(f32.copy()),
        "weights.f16": torch.from_numpy(f16_src.copy()).to(torch.float16),
        "weights.bf16": torch.from_numpy(bf16_src.copy()).to(torch.bfloat16),
        "special.f16": torch.from_numpy(SPECIALS.copy()).to(torch.float16),
        "special.bf16": torch.from_numpy(SPECIALS.copy()).to(torch.bfloat16),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
    }
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "ours.safetensors")
        open(p, "wb").write(data)
        loaded = torch_load(p)
        with safe_open(p, framework="np") as f:
            metadata = f.metadata()
            np_ok = {}
            for k in f.keys():
                if k.endswith("bf16"):
                    continue  # numpy has no bfloat16
                got, w = f.get_tensor(k), want[k].numpy()
                np_ok[k] = bool(got.dtype == w.dtype and got.shape == w.shape and
                                got.tobytes() == w.tobytes())
    assert set(loaded) == set(want), (sorted(loaded), sorted(want))
    torch_ok = {}
    for k, w in want.items():
        got = loaded[k]
        assert got.dtype == w.dtype and list(got.shape) == list(w.shape), (k, got.dtype, got.shape)
        width = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}[w.dtype]
        torch_ok[k] = bool(torch.equal(got.view(width), w.view(width)))
    assert all(torch_ok.values()), torch_ok
    assert all(np_ok.values()), np_ok
    assert metadata == {"format": "pt", "producer": "reasonscope"}, metadata
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    open(os.path.join(OUT, "written_by_reasonscope.safetensors"), "wb").write(data)
    return {
        "file": "written_by_reasonscope.safetensors",
        "sha256": hashlib.sha256(data).hexdigest(),
        "safetensors_version": __import__("safetensors").__version__,
        "torch_version": torch.__version__,
        "loads_in_safetensors_torch": True,
        "loads_in_safetensors_numpy": True,
        "values_equal_torch_rounding": torch_ok,
        "values_equal_numpy": np_ok,
        "metadata_seen_by_python": metadata,
    }


CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus", "safetensors")


def fuzz_seeds():
    """Seed corpus for fuzz/fuzz_safetensors.cpp: small valid files and near-misses."""
    def f(header, data=b""):
        h = header.encode()
        return struct.pack("<Q", len(h)) + h + data
    seeds = {
        "empty_header": f("{}"),
        "metadata_only": f('{"__metadata__": {"format": "pt"}}'),
        "one_f32": f('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}',
                     b"\x00\x00\x80\x3f\x00\x00\x00\x40"),
        "f16_bf16": f('{"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, '
                      '"b": {"dtype": "BF16", "shape": [1, 1], "data_offsets": [4, 6]}}',
                      b"\x00\x3c\x00\xc0\x80\x3f"),
        "scalar_empty": f('{"s": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]}, '
                          '"e": {"dtype": "I32", "shape": [0, 3], "data_offsets": [8, 8]}}', b"\x00" * 8),
        "ints": f('{"__metadata__": {"k": "v"}, "i": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}, '
                  '"u": {"dtype": "U8", "shape": [3], "data_offsets": [8, 11]}, '
                  '"m": {"dtype": "BOOL", "shape": [1], "data_offsets": [11, 12]}}', bytes(range(12))),
        "overlap": f('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
                     '"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', b"\x00" * 8),
        "bad_dtype": f('{"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}', b"\x00"),
    }
    os.makedirs(CORPUS, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(CORPUS, k + ".safetensors"), "wb") as fh:
            fh.write(v)
    with open(os.path.join(OUT, "python_torch.safetensors"), "rb") as src, \
            open(os.path.join(CORPUS, "python_torch.safetensors"), "wb") as dst:
        dst.write(src.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--test-bin", required=True,
                    help="built tests/io/io_test_safetensors_compat (writes our canonical file)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    expected = python_written()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")
    check = check_ours(args.test_bin)
    with open(os.path.join(OUT, "python_check.json"), "w") as f:
        json.dump(check, f, indent=1, ensure_ascii=False)
        f.write("\n")
    fuzz_seeds()
    print("wrote", OUT, "and", CORPUS)


if __name__ == "__main__":
    main()
