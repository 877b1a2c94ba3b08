"""reasonscope's Python API beside TransformerLens 4.x (TransformerBridge) on the same weights
(issue 19, acceptance 3 and 4; README "Python"). Needs a Python with torch, reasonscope
(`pip install .`) and transformer_lens; the TL side loads a Hugging Face directory of the same
weights (e.g. the GGUF dequantised by transformers' GGUF loader and saved with safetensors).

  python bench/python_vs_tl.py check --gguf M.gguf --hf DIR
      run_with_cache on the same token ids: max |ours - TL| of every blocks.L.hook_resid_post and
      blocks.L.attn.hook_pattern (acceptance: <= 1e-4)
  python bench/python_vs_tl.py bench --gguf M.gguf --hf DIR [--dtypes float32,bfloat16]
      tokens/s and peak RSS of run_with_cache capturing every resid_post and pattern, batch x
      tokens random ids; each (side, dtype) in a fresh process so that peak memory is its own
  python bench/python_vs_tl.py hooks --gguf M.gguf
      per-call cost of a Python hook callback: 2000 no-op hooks at one point every forward forms
      (blocks.0.hook_resid_post) against the plain forward, --reps alternating pairs; and one at
      every hook point, against run_with_cache of the same points (both form every activation)
      and against the plain forward
Prints one JSON object per measurement.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def wanted(n):
    return n.endswith("hook_resid_post") or n.endswith("attn.hook_pattern")


def load_ours(gguf, dtype):
    import reasonscope
    return reasonscope.load(gguf, dtype=dtype)


def load_tl(hf, dtype):
    from transformers import AutoTokenizer
    from transformer_lens.model_bridge import TransformerBridge
    tok = AutoTokenizer.from_pretrained(hf)
    return TransformerBridge.boot_transformers(hf, tokenizer=tok, dtype=DTYPES[dtype], device="cpu")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cmd_check(a):
    ours = load_ours(a.gguf, "float32")
    tl = load_tl(a.hf, "float32")
    prompts = ["The Eiffel Tower is in the city of Paris, which is the capital of France.",
               "Every wumpus is a yumpus. Max is a wumpus. Therefore Max is a"]
    worst = {"resid_post": 0.0, "pattern": 0.0}
    rel = 0.0
    for p in prompts:
        tokens = ours.to_tokens(p)
        _, c1 = ours.run_with_cache(tokens, names_filter=wanted)
        with torch.no_grad():
            _, c2 = tl.run_with_cache(tokens, names_filter=wanted)
        for name, v in c1.items():
            d = float((v.float() - c2[name].float()).abs().max())
            kind = "pattern" if name.endswith("hook_pattern") else "resid_post"
            worst[kind] = max(worst[kind], d)
            if kind == "resid_post":
                rel = max(rel, d / float(c2[name].abs().max()))
    print(json.dumps({"check": "run_with_cache vs TransformerLens", "max_abs_resid_post": worst["resid_post"],
                      "max_abs_pattern": worst["pattern"], "max_rel_resid_post": rel,
                      "n_layers": ours.cfg.n_layers, "prompts": len(prompts)}))


def cmd_side(a):
    g = torch.Generator().manual_seed(0)
    base = peak_rss_mb()
    t0 = time.perf_counter()
    m = load_ours(a.gguf, a.dtype) if a.side == "ours" else load_tl(a.hf, a.dtype)
    load_s = time.perf_counter() - t0
    vocab = m.cfg.d_vocab
    tokens = torch.randint(100, vocab - 100, (a.batch, a.tokens), generator=g)
    after_load = peak_rss_mb()
    times = []
    with torch.no_grad():
        for _ in range(a.reps + 1):
            t = time.perf_counter()
            _, cache = m.run_with_cache(tokens, names_filter=wanted)
            times.append(time.perf_counter() - t)
            assert len(cache) == 2 * m.cfg.n_layers, len(cache)
            del cache
    best = min(times[1:])
    print(json.dumps({"side": a.side, "dtype": a.dtype, "batch": a.batch, "tokens": a.tokens,
                      "threads": torch.get_num_threads(), "load_s": round(load_s, 2),
                      "seconds": round(best, 3), "all_seconds": [round(x, 3) for x in times],
                      "tokens_per_s": round(a.batch * a.tokens / best, 1),
                      "peak_rss_mb": round(peak_rss_mb(), 1), "rss_before_load_mb": round(base, 1),
                      "peak_rss_after_load_mb": round(after_load, 1)}))


def cmd_bench(a):
    for dtype in a.dtypes.split(","):
        for side in ("ours", "tl"):
            cmd = [sys.executable, os.path.abspath(__file__), "side", "--side", side, "--dtype", dtype,
                   "--gguf", a.gguf, "--hf", a.hf, "--batch", str(a.batch), "--tokens", str(a.tokens),
                   "--reps", str(a.reps)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                print(json.dumps({"side": side, "dtype": dtype, "error": p.stderr.strip().splitlines()[-1:]}))
            else:
                print(p.stdout.strip().splitlines()[-1], flush=True)


def cmd_hooks(a):
    """A no-op hook at every point against run_with_cache of the same points: both materialise
    every activation (attn.hook_result, hook_pattern, ...), so the difference is the callback's
    own cost (GIL, the tensor's Python wrapper, the call). Against the plain forward, the
    difference also counts computing activations a plain forward never forms."""
    m = load_ours(a.gguf, "float32")
    tokens = m.to_tokens("x")
    calls = [0]

    def noop(x, hook):
        calls[0] += 1

    names = m.hook_names
    hooks = [(n, noop) for n in names]
    for _ in range(3):  # warm up
        m(tokens)
        m.run_with_hooks(tokens, fwd_hooks=hooks)
        m.run_with_cache(tokens, names_filter=names)
    t_plain, t_cache, t_hooked = [], [], []
    for _ in range(a.reps):
        for ts, f in ((t_plain, lambda: m(tokens)), (t_cache, lambda: m.run_with_cache(tokens, names_filter=names)),
                      (t_hooked, lambda: m.run_with_hooks(tokens, fwd_hooks=hooks))):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
    # K no-op hooks at one point every forward forms, against the same forward without them, in
    # alternating pairs: the difference over K is one callback's whole cost (registration, GIL,
    # the tensor's Python wrapper, the call). K = 2000 lifts it far above the forward's own noise;
    # one hook per block (30) did not, on a busy machine.
    point, K = "blocks.0.hook_resid_post", 2000
    many = [(point, noop)] * K
    per_call = []
    for _ in range(a.reps):
        calls[0] = 0
        t0 = time.perf_counter()
        m(tokens)
        t1 = time.perf_counter()
        m.run_with_hooks(tokens, fwd_hooks=many)
        t2 = time.perf_counter()
        assert calls[0] == K, calls[0]
        per_call.append(((t2 - t1) - (t1 - t0)) / K)
    med = lambda v: sorted(v)[len(v) // 2]
    n = len(names)
    print(json.dumps({"hooks": "%d no-op Python hooks at %s of a 1-token forward, against the forward without them" % (K, point),
                      "per_call_us": round(med(per_call) * 1e6, 2),
                      "per_call_us_rounds": [round(x * 1e6, 2) for x in per_call]}))
    print(json.dumps({"hooks": "no-op Python hook at every point of a 1-token forward", "points": n,
                      "forward_ms": round(med(t_plain) * 1e3, 2), "capture_all_ms": round(med(t_cache) * 1e3, 2),
                      "hooked_ms": round(med(t_hooked) * 1e3, 2),
                      "per_call_us_vs_capture_all": round((med(t_hooked) - med(t_cache)) / n * 1e6, 2),
                      "per_call_us_vs_forward": round((med(t_hooked) - med(t_plain)) / n * 1e6, 2),
                      "reps": a.reps}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["check", "bench", "side", "hooks"])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--hf")
    ap.add_argument("--side", choices=["ours", "tl"])
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    {"check": cmd_check, "bench": cmd_bench, "side": cmd_side, "hooks": cmd_hooks}[a.what](a)


if __name__ == "__main__":
    main()
