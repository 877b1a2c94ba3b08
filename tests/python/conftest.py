"""Shared fixtures of the Python tests (README "Python"): the default model, loaded once, and the
CLI binary of the same build, which the tests compare against.

Run by ctest (python_pytest) with PYTHONPATH = <build>/python:python and REASONSCOPE_BIN set; by
hand: PYTHONPATH=build/release/python:python build/pyenv/bin/python -m pytest tests/python.
A missing model or binary is a failure, not a skip: a skipped suite would pass in ctest.
"""
import json
import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("REASONSCOPE_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "reasonscope")
MODEL = os.environ.get("REASONSCOPE_MODEL") or os.path.join(CACHE, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
BIN = os.environ.get("REASONSCOPE_BIN") or os.path.join(ROOT, "build", "release", "bin", "reasonscope")
# One thread: ctest runs this suite beside other tests on 2 cores, where two threads each spend
# most of their time waiting at OpenMP barriers (test_verify_qk: 143 s with 2, busy machine).
THREADS = 1

torch.set_num_threads(THREADS)


def _require(path, what):
    if not os.path.exists(path):
        pytest.fail(f"{what} not found at {path} (scripts/setup.sh fetches the model; the CLI is "
                    f"built in build/release)", pytrace=False)


@pytest.fixture(scope="session")
def model_path():
    _require(MODEL, "the default model")
    return MODEL


@pytest.fixture(scope="session")
def cli():
    """cli(*args) runs the reasonscope binary; returns CompletedProcess (text)."""
    _require(BIN, "the reasonscope binary")

    def run(*args, check=True):
        p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"reasonscope {' '.join(map(str, args))} -> {p.returncode}: {p.stderr}")
        return p
    return run


@pytest.fixture(scope="session")
def model(model_path):
    import reasonscope
    return reasonscope.load(model_path, threads=THREADS)


def read_outputs(out_dir):
    with open(os.path.join(out_dir, "summary.json")) as f:
        summary = json.load(f)
    path = os.path.join(out_dir, "examples.jsonl")
    examples = []
    if os.path.exists(path):
        with open(path) as f:
            examples = [json.loads(line) for line in f if line.strip()]
    return summary, examples


def read_safetensors(path):
    """name -> tensor of a .safetensors file (the format: u64 header length, JSON header, data)."""
    import struct
    dtypes = {"F32": torch.float32, "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16}
    with open(path, "rb") as f:
        blob = f.read()
    # Every length and offset is checked before it is used: a short or torn file written by the
    # code under test fails here with its name, not as a reshape error further on.
    assert len(blob) >= 8, f"{path}: {len(blob)} bytes, shorter than the header length"
    (n,) = struct.unpack("<Q", blob[:8])
    assert 8 + n <= len(blob), f"{path}: header of {n} bytes runs past the end ({len(blob)} bytes)"
    header = json.loads(blob[8:8 + n])
    data_bytes = len(blob) - 8 - n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        itemsize = torch.empty(0, dtype=dtypes[info["dtype"]]).element_size()
        numel = 1
        for d in info["shape"]:
            numel *= d
        assert 0 <= a <= b <= data_bytes, f"{path}: {name}: data_offsets {a}..{b} outside {data_bytes} data bytes"
        assert b - a == numel * itemsize, f"{path}: {name}: {b - a} bytes for shape {info['shape']} of {info['dtype']}"
        raw = bytearray(blob[8 + n + a:8 + n + b])
        t = torch.frombuffer(raw, dtype=dtypes[info["dtype"]]) if b > a else torch.empty(0, dtype=dtypes[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out
