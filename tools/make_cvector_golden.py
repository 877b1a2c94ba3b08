#!/usr/bin/env python3
"""Golden files for importing a REAL llama.cpp cvector-generator vector (issue 10, acceptance 2).

llama.cpp's tools/cvector-generator (vendored in the llama-cpp-python 0.3.36 sdist, llama.cpp
commit 0c1e57098) is run on an F32 copy of the default model with our prompt pairs
(tests/methods/steer/data/cvgen_positive.txt / cvgen_negative.txt, --method mean). What the tool
does, from its source (tools/cvector-generator/cvector-generator.cpp, mean.hpp):
  - cb_eval keeps every graph tensor named "l_out-il" with one row per prompt token: the output
    of block il (src/models/llama.cpp: `cur = build_cvec(cur, il); cb(cur, "l_out", il)`). The
    last block's l_out has only the output rows (ggml_get_rows on inp_out_ids) and is skipped, so
    blocks 0 .. n_layer-2 are kept;
  - per kept block: diff = hidden(positive) - hidden(negative) at every token position (the
    shorter prompt padded with the last token of tokenize(" ")), rows whose every element is
    <= 1e-6 dropped (filter_nonzero_rows), then mean.hpp: the mean row, scaled to unit norm;
  - mean.hpp / pca.hpp name the vector of kept block il "direction.{il+1}".
llama.cpp itself (common/common.cpp llama_control_vector_load; src/llama-adapter.cpp) puts
direction.N in buffer slot N-1 and adds it to the output of block il = N. So a tool file, loaded
as is, steers one block LATER than the block it was measured at; reasonscope's
`steer convert --from-llama-cpp-cvector` shifts it back (direction.N -> our layer N-1).

Outputs (tests/methods/steer/data/):
  cvgen_mean.gguf    the tool's own output file, byte for byte (29 x direction.N, N = 1..29)
  cvgen_mean.json    the command line; the prompt pairs as the tool tokenised and padded them
                     (ids), so the test can recompute the mean difference at each of OUR blocks
                     and find where direction.N was measured; and llama.cpp's log-probs (all
                     positions, a column subset, plus each next token's log-prob for `score`)
                     for two prompts on the F32 copy with an F32 KV cache:
                       plain     no control vector
                       raw       the tool file as llama.cpp's --control-vector-scaled FILE S
                                 --control-vector-layer-range A B applies it (direction.N at
                                 block N, N = A..B)
                       measured  the same vectors at the blocks they were measured at
                                 (direction.N at block N-1, N = A..B): llama.cpp's
                                 control-vector API given the buffer shifted down one slot

Build the tool (CPU only, nothing else):
  pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36 && tar xzf llama_cpp_python-0.3.36.tar.gz
  cmake -S llama_cpp_python-0.3.36/vendor/llama.cpp -B build -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF -DGGML_OPENMP=OFF -DLLAMA_BUILD_COMMIT=0c1e57098
  cmake --build build -j2 --target llama-cvector-generator
Re-run:
  /work/refvenv/bin/python tools/make_cvector_golden.py --tool build/bin/llama-cvector-generator
Needs: llama-cpp-python (0.3.36, the same llama.cpp), gguf, numpy.
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "tests", "methods", "steer", "data")
DEFAULT_MODEL = os.path.expanduser("~/.cache/reasonscope/models/SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_TOOL = "/work/cvector-build/build/bin/llama-cvector-generator"
LLAMA_CPP_COMMIT = "0c1e57098"  # llama-cpp-python 0.3.36 CHANGELOG: "update llama.cpp to ggml-org/llama.cpp@0c1e57098"
PROMPTS = [  # written for this file
    "Wolves are afraid of mice. Sheep are afraid of cats. Gertrude is a sheep. Question: What is "
    "Gertrude afraid of? Answer:",
    "Every square is a rectangle. This shape is a square, so this shape is",
]
FIRST, LAST = 10, 15  # tool directions applied: direction.10 .. direction.15
STRENGTH = 6.0
N_RANDOM_COLS = 64
N_TOP = 5


def read_tool_file(path):
    import gguf
    r = gguf.GGUFReader(path)
    dirs = {}
    for t in r.tensors:
        assert t.name.startswith("direction."), t.name
        assert t.tensor_type == gguf.GGMLQuantizationType.F32 and len(t.shape) == 1, t.name
        dirs[int(t.name.split(".")[1])] = np.array(t.data, dtype=np.float32).reshape(-1)
    meta = {f.name: f for f in r.fields.values()}
    arch = bytes(meta["general.architecture"].parts[-1]).decode()
    hint = bytes(meta["controlvector.model_hint"].parts[-1]).decode()
    count = int(meta["controlvector.layer_count"].parts[-1][0])
    return dirs, arch, hint, count


def cvec_buffer(dirs, n_embd, n_layer, strength):
    """common.cpp llama_control_vector_load_one: direction.N (N >= 1) -> data[(N-1)*n_embd:], times
    the strength. Sized for every layer so that a later case overwrites an earlier one."""
    buf = np.zeros(n_embd * (n_layer - 1), dtype=np.float32)
    for n, v in dirs.items():
        assert 1 <= n <= n_layer - 1, n
        buf[(n - 1) * n_embd:n * n_embd] += v * strength
    return buf


def read_lines(path):
    """ctrlvec_load_prompt_file: one prompt per line, empty lines skipped (no escapes used here)."""
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f]
    assert all("\\" not in l for l in lines), "the golden prompts use no escapes"
    return [l for l in lines if l]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--tool", default=DEFAULT_TOOL, help="llama-cvector-generator built from the sdist")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import llama_cpp
    from llama_cpp import Llama

    pos_file, neg_file = os.path.join(OUT, "cvgen_positive.txt"), os.path.join(OUT, "cvgen_negative.txt")
    positives, negatives = read_lines(pos_file), read_lines(neg_file)
    assert len(positives) == len(negatives)
    with tempfile.TemporaryDirectory() as tmp:
        f32 = os.path.join(tmp, "SmolLM2-135M-Instruct.F32.gguf")
        qp = llama_cpp.llama_model_quantize_default_params()
        qp.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
        qp.allow_requantize = True
        qp.nthread = args.threads
        rc = llama_cpp.llama_model_quantize(args.model.encode(), f32.encode(), ctypes.byref(qp))
        assert rc == 0, f"llama_model_quantize failed: {rc}"

        # The tool itself (its output file is kept byte for byte).
        tool_out = os.path.join(tmp, "cvgen_mean.gguf")
        cmd = [args.tool, "-m", f32, "--positive-file", pos_file, "--negative-file", neg_file,
               "--method", "mean", "-t", str(args.threads), "-c", "512", "-o", tool_out]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"cvector-generator failed: {proc.returncode}")
        added = [l.split(": ", 1)[1] for l in proc.stdout.splitlines() if l.startswith("Added tensor: ")]
        print("tool wrote:", " ".join(added))
        gguf_path = os.path.join(OUT, "cvgen_mean.gguf")
        shutil.copyfile(tool_out, gguf_path)
        dirs, arch, hint, count = read_tool_file(gguf_path)

        F32 = 0  # GGML_TYPE_F32
        llm = Llama(model_path=f32, n_ctx=512, n_batch=512, n_threads=args.threads, logits_all=True,
                    type_k=F32, type_v=F32, verbose=False)
        n_embd, n_layer = llm.n_embd(), llama_cpp.llama_n_layer(llm.model)
        assert sorted(dirs) == list(range(1, n_layer)), sorted(dirs)  # direction.1 .. direction.n_layer-1
        assert count == n_layer - 1 and arch == "controlvector", (count, arch)
        for v in dirs.values():
            assert abs(np.linalg.norm(v) - 1) < 1e-4  # mean.hpp normalises

        # The pairs exactly as the tool tokenised them (tokenized_prompt: add_bos from the vocab,
        # special tokens parsed; padding with the last token of tokenize(" ", add_bos=false)).
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
        pad = llm.tokenize(b" ", add_bos=False, special=False)[-1]
        pairs = []
        for p, n in zip(positives, negatives):
            tp = llm.tokenize(p.encode(), add_bos=add_bos, special=True)
            tn = llm.tokenize(n.encode(), add_bos=add_bos, special=True)
            m = max(len(tp), len(tn))
            pairs.append({"positive": p, "negative": n,
                          "positive_ids": tp + [pad] * (m - len(tp)), "negative_ids": tn + [pad] * (m - len(tn))})

        apply = (getattr(llama_cpp, "llama_set_adapter_cvec", None) or getattr(llama_cpp, "llama_apply_adapter_cvec", None)
                 or llama_cpp.llama_control_vector_apply)

        def set_cvec(buf, il_start, il_end):
            arr = None if buf is None else buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            rc = apply(llm.ctx, arr, 0 if buf is None else buf.size, n_embd, il_start, il_end)
            assert rc == 0, f"control vector apply failed: {rc}"

        def logprobs(ids):
            llm.reset()
            llm.eval(ids)
            s = np.array(llm.scores[: len(ids)], dtype=np.float64)
            m = s.max(-1, keepdims=True)
            return s - m - np.log(np.exp(s - m).sum(-1, keepdims=True))

        chosen = {n: dirs[n] for n in range(FIRST, LAST + 1)}
        cases = {  # name: (buffer, first block, last block)
            "plain": (None, 0, 0),
            "raw": (cvec_buffer(chosen, n_embd, n_layer, STRENGTH), FIRST, LAST),
            "measured": (cvec_buffer({n - 1: v for n, v in chosen.items()}, n_embd, n_layer, STRENGTH),
                         FIRST - 1, LAST - 1),
        }
        rng = np.random.default_rng(0)
        prompts = []
        for text in PROMPTS:
            ids = llm.tokenize(text.encode(), add_bos=add_bos, special=True)
            lps = {}
            for name, (buf, a, b) in cases.items():
                set_cvec(buf, a, b)
                lps[name] = logprobs(ids)
            set_cvec(None, 0, 0)
            cols = set(rng.choice(lps["plain"].shape[1], N_RANDOM_COLS, replace=False).tolist())
            for lp in lps.values():
                for row in lp:
                    cols.update(np.argsort(-row)[:N_TOP].tolist())
            cols = sorted(cols)
            entry = {"text": text, "ids": ids, "columns": cols}
            for name, lp in lps.items():
                entry[name] = [[float(f"{v:.7g}") for v in row[cols]] for row in lp]
                # log p(ids[t+1] | ids[..t]): what `score --token-logprobs` writes
                entry[name + "_next"] = [float(f"{lp[t, ids[t + 1]]:.7g}") for t in range(len(ids) - 1)]
            for name in ("raw", "measured"):
                print(f"{text[:32]!r}: {len(ids)} tokens, max |{name} - plain| log-prob "
                      f"{np.abs(lps[name] - lps['plain']).max():.3f}")
            print(f"  max |raw - measured| {np.abs(lps['raw'] - lps['measured']).max():.3f}")
            prompts.append(entry)

    rel = lambda p: os.path.relpath(p, REPO)
    result = {
        "tool": "llama.cpp tools/cvector-generator (llama-cvector-generator)",
        "llama_cpp_commit": LLAMA_CPP_COMMIT,
        "llama_cpp_python_version": llama_cpp.__version__,
        "command": ["llama-cvector-generator", "-m", "SmolLM2-135M-Instruct.F32.gguf", "--positive-file",
                    rel(pos_file), "--negative-file", rel(neg_file), "--method", "mean", "-t",
                    str(args.threads), "-c", "512", "-o", rel(gguf_path)],
        "model": os.path.basename(args.model), "weights": "ALL_F32 copy (llama_model_quantize)",
        "kv_cache": "F32",
        "n_layer": n_layer, "n_embd": n_embd,
        # Which tensor the tool wrote for which block (from its source; the test checks it
        # against our activations): direction.{il+1} is the mean difference at block il.
        "tool_tensors": added,
        "measured_block_of_direction": {f"direction.{n}": n - 1 for n in sorted(dirs)},
        "row_filter_eps": 1e-6,
        "pad_id": pad, "add_bos": add_bos,
        "pairs": pairs,
        "strength": STRENGTH, "first_direction": FIRST, "last_direction": LAST,
        "cases": {
            "raw": "llama.cpp --control-vector-scaled cvgen_mean.gguf S --control-vector-layer-range "
                   f"{FIRST} {LAST}: direction.N added at block N",
            "measured": f"direction.N added at block N-1 (N = {FIRST}..{LAST}): where the tool measured it",
        },
        "prompts": prompts,
    }
    with open(os.path.join(OUT, "cvgen_mean.json"), "w") as fh:
        json.dump(result, fh, separators=(",", ":"))
        fh.write("\n")
    print("wrote", rel(gguf_path), "and", rel(os.path.join(OUT, "cvgen_mean.json")))


if __name__ == "__main__":
    sys.exit(main())
