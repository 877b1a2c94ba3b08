#!/usr/bin/env python3
"""Golden files for reasonscope's GGUF reader and dequantisers, made with an independent
implementation: the PyPI `gguf` package (gguf.quants.dequantize, gguf.GGUFWriter).

Writes tests/golden/dequant/dequant_golden.gguf holding, for every supported type T:
  "T.raw"       the random blocks, stored as type T (2 rows x 512 elements)
  "T.expected"  gguf.quants.dequantize of those bytes, F32, same shape
and a set of metadata keys of every GGUF value type (including nested arrays) whose values
tests/io/test_gguf_golden.cpp checks. The blocks are random bytes with every f16 field
(scales, mins, F16 elements) forced finite (ggml and numpy agree on NaN payloads only up to
quieting); BF16 and F32 keep random bits, NaNs included (both are pure bit moves).

Re-runnable: fixed seed, same output. Usage: /work/refvenv/bin/python tools/make_dequant_golden.py
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROWS, COLS = 2, 512
SEED = 20261125

# Byte offsets of the f16 fields inside one block (ggml-common.h block_* structs).
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
TYPES = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K]


def finite_f16(bits: np.ndarray) -> np.ndarray:
    """Clear one exponent bit wherever the exponent is all ones (inf/NaN) -> finite."""
    bits = bits.astype(np.uint16)
    bad = (bits & 0x7C00) == 0x7C00
    bits[bad] &= np.uint16(0xBFFF)
    return bits


def random_blocks(rng: np.random.Generator, qtype: T) -> np.ndarray:
    block, size = GGML_QUANT_SIZES[qtype]
    n_blocks = ROWS * COLS // block
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    if qtype == T.F16:
        raw = finite_f16(raw.view(np.uint16)).view(np.uint8).reshape(n_blocks, size)
    for off in F16_FIELDS.get(qtype, []):
        field = np.ascontiguousarray(raw[:, off:off + 2]).view(np.uint16)
        raw[:, off:off + 2] = finite_f16(field).view(np.uint8).reshape(n_blocks, 2)
    # Make sure special scale values appear: +0, -0 and a subnormal in the first blocks.
    for k, special in enumerate([0x0000, 0x8000, 0x0001]):
        for off in F16_FIELDS.get(qtype, []):
            raw[k, off:off + 2] = np.array([special], dtype=np.uint16).view(np.uint8)
    return raw.reshape(ROWS, -1)


def add_metadata(w: gguf.GGUFWriter) -> None:
    """One key per GGUF value type; tests/io/test_gguf_golden.cpp expects these values."""
    V = gguf.GGUFValueType
    w.add_uint8("golden.u8", 200)
    w.add_int8("golden.i8", -100)
    w.add_uint16("golden.u16", 60000)
    w.add_int16("golden.i16", -30000)
    w.add_uint32("golden.u32", 4000000000)
    w.add_int32("golden.i32", -2000000000)
    w.add_float32("golden.f32", 0.15625)
    w.add_bool("golden.bool", True)
    w.add_string("golden.string", "héllo\nwörld")
    w.add_uint64("golden.u64", 18000000000000000000)
    w.add_int64("golden.i64", -9000000000000000000)
    w.add_float64("golden.f64", -2.5e-300)
    w.add_array("golden.arr_i32", [1, -2, 3])
    w.add_array("golden.arr_str", ["a", "", "ccc"])
    w.add_array("golden.arr_nested", [[1, 2], [3]])


def main() -> int:
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(repo, "tests", "golden", "dequant")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "dequant_golden.gguf")
    rng = np.random.default_rng(SEED)

    w = gguf.GGUFWriter(path + ".tmp", arch="golden")
    add_metadata(w)
    for qtype in TYPES:
        raw = random_blocks(rng, qtype)
        expected = gguf.quants.dequantize(raw, qtype).astype(np.float32)
        assert expected.shape == (ROWS, COLS), (qtype.name, expected.shape)
        w.add_tensor(f"{qtype.name}.raw", raw, raw_dtype=qtype)
        w.add_tensor(f"{qtype.name}.expected", np.ascontiguousarray(expected), raw_dtype=T.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(path + ".tmp", path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
