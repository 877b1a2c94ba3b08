#!/usr/bin/env python3
"""Golden file for control-vector interoperability with llama.cpp (issue 10, acceptance 2).

What it checks (the other direction, a real cvector-generator file imported into reasonscope,
has its own golden: tools/make_cvector_golden.py):
  a vector file WE wrote (reasonscope steer train; llama.cpp layout, direction.N = block N) is
  loaded the way llama.cpp's common/common.cpp llama_control_vector_load does (direction.N ->
  slot N-1 of the buffer, times the strength) and applied with llama.cpp's control-vector API
  (llama_apply_adapter_cvec / llama_control_vector_apply, layers 1..n_layer-1). The test
  compares llama.cpp's log-probs with ours under `--steer FILE --steer-alpha A`.

llama.cpp runs on an F32 copy of the model (llama_model_quantize with ftype ALL_F32 and
allow_requantize: the dequantised Q4_1 weights, the same floats our loader makes) with an F32 KV
cache, so the two engines agree to ~1e-4 without steering (ARCHITECTURE.md: Q4_1 matmuls differ
by up to ~0.25, an F16 KV cache by ~3e-3). The unsteered log-probs are stored too, so the test
measures that agreement and uses it as the tolerance for the steered comparison.

Outputs (tests/methods/steer/data/):
  ours_vec.gguf          made by our binary (steer train, r-c, layers 5,10,20, 40 babi15 pairs)
  llamacpp_steer.json    prompts, llama.cpp token ids, column subset, log-probs per case

Re-run:  /work/refvenv/bin/python tools/make_steer_golden.py --binary build/release/bin/reasonscope
Needs:   pip install llama-cpp-python gguf numpy
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "tests", "methods", "steer", "data")
DEFAULT_MODEL = os.path.expanduser("~/.cache/reasonscope/models/SmolLM2-135M-Instruct.Q4_1.gguf")
PROMPTS = [  # written for this file
    "Wolves are afraid of mice. Sheep are afraid of cats. Gertrude is a sheep. Question: What is "
    "Gertrude afraid of? Answer:",
    "When Mary and John went to the store, John gave a drink to",
]
LAYERS = [5, 10, 20]
ALPHA = 4.0
N_RANDOM_COLS = 64
N_TOP = 5


def read_vectors(path):
    import gguf
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        assert t.name.startswith("direction."), t.name
        assert t.tensor_type == gguf.GGMLQuantizationType.F32, (t.name, t.tensor_type)
        assert len(t.shape) == 1, (t.name, t.shape)
        out[int(t.name.split(".")[1])] = np.array(t.data, dtype=np.float32).reshape(-1)
    meta = {f.name: f for f in r.fields.values()}
    arch = bytes(meta["general.architecture"].parts[-1]).decode()
    assert arch == "controlvector", arch
    assert "controlvector.layer_count" in meta and "controlvector.model_hint" in meta
    return out


def cvec_buffer(dirs, n_embd, n_layer, strength):
    """common.cpp llama_control_vector_load_one: direction.N (N >= 1) -> data[(N-1)*n_embd:].
    Sized for every layer: llama.cpp's apply() only overwrites the slots the buffer covers, so a
    shorter buffer would leave an earlier case's vectors in place."""
    top = max(max(dirs), n_layer - 1)
    buf = np.zeros(n_embd * top, dtype=np.float32)
    for n, v in dirs.items():
        assert n >= 1
        buf[(n - 1) * n_embd:n * n_embd] += v * strength
    return buf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "release", "bin", "reasonscope"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import llama_cpp
    from llama_cpp import Llama

    os.makedirs(OUT, exist_ok=True)
    ours = os.path.join(OUT, "ours_vec.gguf")
    with tempfile.TemporaryDirectory() as tmp:
        mc, pairs = os.path.join(tmp, "b.jsonl"), os.path.join(tmp, "p.jsonl")
        run = lambda *a: subprocess.run([args.binary, *a], check=True)
        run("data", "make", "babi15", "--n", "40", "--seed", "7", "--out", mc)
        run("data", "make", "pairs", "--from", mc, "--seed", "7", "--out", pairs)
        run("steer", "train", "--model", args.model, "--threads", str(args.threads), "--data", pairs,
            "--method", "r-c", "--layers", ",".join(map(str, LAYERS)), "--out", ours)
        summary = ours[:-5] + ".summary.json"
        if os.path.exists(summary):
            os.remove(summary)
        dirs = read_vectors(ours)
        assert sorted(dirs) == LAYERS, sorted(dirs)

        f32 = os.path.join(tmp, "model-f32.gguf")
        qp = llama_cpp.llama_model_quantize_default_params()
        qp.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
        qp.allow_requantize = True
        qp.nthread = args.threads
        rc = llama_cpp.llama_model_quantize(args.model.encode(), f32.encode(), ctypes.byref(qp))
        assert rc == 0, f"llama_model_quantize failed: {rc}"

        F32 = 0  # GGML_TYPE_F32
        llm = Llama(model_path=f32, n_ctx=256, n_batch=256, n_threads=args.threads, logits_all=True,
                    type_k=F32, type_v=F32, verbose=False)
        n_embd, n_layer = llm.n_embd(), llama_cpp.llama_n_layer(llm.model)
        apply = (getattr(llama_cpp, "llama_set_adapter_cvec", None) or getattr(llama_cpp, "llama_apply_adapter_cvec", None)
                 or llama_cpp.llama_control_vector_apply)

        def set_cvec(buf):
            if buf is None:
                arr, n = None, 0
            else:
                arr, n = buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), buf.size
            rc = apply(llm.ctx, arr, n, n_embd, 1, n_layer - 1)
            assert rc == 0, f"control vector apply failed: {rc}"

        def logprobs(ids):
            llm.reset()
            llm.eval(ids)
            s = np.array(llm.scores[: len(ids)], dtype=np.float64)
            m = s.max(-1, keepdims=True)
            return s - m - np.log(np.exp(s - m).sum(-1, keepdims=True))

        rng = np.random.default_rng(0)
        result = {"prompts": [], "alpha": ALPHA, "layers": LAYERS,
                  "llama_cpp_python_version": llama_cpp.__version__,
                  "model": os.path.basename(args.model), "kv_cache": "F32", "weights": "ALL_F32 copy"}
        cases = {
            "plain": None,
            "ours_all_layers": cvec_buffer(dirs, n_embd, n_layer, ALPHA),
        }
        for text in PROMPTS:
            ids = llm.tokenize(text.encode(), add_bos=False, special=True)
            lps = {}
            for name, buf in cases.items():
                set_cvec(buf)
                lps[name] = logprobs(ids)
            set_cvec(None)
            cols = set(rng.choice(lps["plain"].shape[1], N_RANDOM_COLS, replace=False).tolist())
            for lp in lps.values():
                for row in lp:
                    cols.update(np.argsort(-row)[:N_TOP].tolist())
            cols = sorted(cols)
            entry = {"text": text, "ids": ids, "columns": cols}
            for name, lp in lps.items():
                entry[name] = [[float(f"{v:.7g}") for v in row[cols]] for row in lp]
            d = np.abs(lps["ours_all_layers"] - lps["plain"]).max()
            print(f"{text[:40]!r}: {len(ids)} tokens, max |steered - plain| log-prob {d:.3f}")
            result["prompts"].append(entry)
    with open(os.path.join(OUT, "llamacpp_steer.json"), "w") as fh:
        json.dump(result, fh, separators=(",", ":"))
        fh.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    sys.exit(main())
