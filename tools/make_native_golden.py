#!/usr/bin/env python3
"""Golden values for native (quantised) weights: llama.cpp's own quantised path on the default
Q4_1 file (issue 7, acceptance 2: "logits of the fast path agree with llama.cpp's own quantised
path to the tolerance you state").

llama.cpp multiplies Q4_1 / Q8_0 weights by activations quantised to 8 bits (Q8_1 / Q8_0
blocks), as our native path does; the KV cache is set to F32 here so that only the products
differ (llama.cpp's default F16 cache adds ~3e-3 of its own, ARCHITECTURE.md).

Output: tests/golden/native/llamacpp_q4_1.json (small; kept in the repository):
  prompts[i].tokens       token ids (from llama.cpp's tokenizer, so the test needs no Python)
  prompts[i].next_logp    log-prob of each following token, at every position but the last
  prompts[i].top_ids / top_logp    the 16 likeliest tokens at every position, and their log-probs
  prompts[i].cols_logp    log-probs of a fixed random set of 64 vocabulary ids at every position
  cols, version, model sha256 (first 16 hex), settings

Re-run:  /work/refvenv/bin/python tools/make_native_golden.py [--model M.gguf]
Needs:   pip install llama-cpp-python numpy
"""
import argparse
import hashlib
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "tests", "golden", "native", "llamacpp_q4_1.json")
DEFAULT_MODEL = os.path.expanduser("~/.cache/reasonscope/models/SmolLM2-135M-Instruct.Q4_1.gguf")

# Written for this file (no third-party text).
PROMPTS = [
    "The capital of France is Paris. The capital of Germany is Berlin. The capital of Spain is",
    "<|im_start|>user\nName three colours of the rainbow.<|im_end|>\n<|im_start|>assistant\n",
    "Every wumpus is a tumpus. Every tumpus is red. Max is a wumpus. So Max is",
]
N_TOP = 16
N_COLS = 64


def log_softmax(s):
    s = s.astype(np.float64)
    m = s.max(-1, keepdims=True)
    return s - m - np.log(np.exp(s - m).sum(-1, keepdims=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.environ.get("REASONSCOPE_MODEL", DEFAULT_MODEL))
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=args.model, n_ctx=512, n_batch=512, n_threads=1, logits_all=True,
                type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32, flash_attn=False,
                verbose=False)
    n_vocab = llm.n_vocab()
    rng = np.random.default_rng(7)
    cols = sorted(rng.choice(n_vocab, N_COLS, replace=False).tolist())
    with open(args.model, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()[:16]
    out = {"tool": "llama-cpp-python", "version": llama_cpp.__version__, "model_sha256_16": sha,
           "settings": "n_threads=1 type_k=type_v=F32 flash_attn=off logits_all", "cols": cols,
           "prompts": []}
    for p in PROMPTS:
        ids = llm.tokenize(p.encode(), add_bos=False, special=True)
        llm.reset()
        llm.eval(ids)
        lp = log_softmax(np.array(llm.scores[: len(ids)], dtype=np.float32))
        top = np.argsort(-lp, axis=-1)[:, :N_TOP]
        out["prompts"].append({
            "text": p,
            "tokens": ids,
            "next_logp": [round(float(lp[t, ids[t + 1]]), 6) for t in range(len(ids) - 1)],
            "top_ids": top.tolist(),
            "top_logp": np.round(np.take_along_axis(lp, top, -1), 6).tolist(),
            "cols_logp": np.round(lp[:, cols], 6).tolist(),
        })
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f)
    print(f"wrote {args.out}: {len(PROMPTS)} prompts, llama-cpp-python {llama_cpp.__version__}")


if __name__ == "__main__":
    main()
