#!/usr/bin/env python3
"""Python-stack side of bench/bench_vs_python (issue 7, acceptance 5).

Runs one framework on the same GGUF file and the same token ids as reasonscope, capturing the
same things: the residual stream after every block and every layer's attention pattern, at every
position. One framework per process, so each peak RSS is its own.

  transformers      AutoModelForCausalLM.from_pretrained(dir, gguf_file=...) (dequantised to f32,
                    as reasonscope does), eager attention, forward(output_hidden_states=True,
                    output_attentions=True)
  transformer_lens  TransformerLens 4.x (HookedTransformer became TransformerBridge): the bridge
                    around that same Hugging Face model (raw weights, no processing),
                    run_with_cache(names_filter=resid_post | pattern)

Prints one JSON object on stdout: framework, versions, best seconds over --repeats (after a
warm-up), peak RSS, RSS before the model loads, bytes captured; notes on stderr.
  /work/refvenv/bin/python tools/bench_python_stack.py --framework transformers \
      --model M.gguf --tokens ids.json --threads 2
Needs PyPI torch, transformers, gguf (and transformer-lens for that framework).
"""
import argparse
import json
import os
import resource
import sys
import time


def rss_now():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def load_hf(model_path, torch):
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(os.path.dirname(model_path),
                                             gguf_file=os.path.basename(model_path),
                                             dtype=torch.float32, attn_implementation="eager")
    return m.eval()


def load_tl(hf, model_path, torch):
    """TransformerLens 4.x's bridge around that same Hugging Face model (no Hub access: the model
    and the tokenizer both come from the GGUF file)."""
    from transformer_lens.model_bridge import TransformerBridge
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.dirname(model_path),
                                        gguf_file=os.path.basename(model_path))
    return TransformerBridge.boot_transformers("HuggingFaceTB/SmolLM2-135M-Instruct", hf_model=hf,
                                               tokenizer=tok, dtype=torch.float32, device="cpu")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--framework", required=True, choices=["transformers", "transformer_lens"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True, help="JSON [[ids of row 0], [ids of row 1], ...]")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    rss_before_import = rss_now()
    import torch
    import transformers
    torch.set_num_threads(args.threads)
    tokens = torch.tensor(json.load(open(args.tokens)), dtype=torch.long)
    rss_before_load = rss_now()
    versions = {"python": sys.version.split()[0], "torch": torch.__version__,
                "transformers": transformers.__version__}
    t0 = time.perf_counter()
    hf = load_hf(args.model, torch)
    if args.framework == "transformer_lens":
        import transformer_lens
        versions["transformer_lens"] = getattr(transformer_lens, "__version__", None)
        if versions["transformer_lens"] is None:
            from importlib.metadata import version
            versions["transformer_lens"] = version("transformer-lens")
        model = load_tl(hf, args.model, torch)
        names = lambda n: n.endswith("hook_resid_post") or n.endswith("attn.hook_pattern")

        def run():
            logits, cache = model.run_with_cache(tokens, names_filter=names)
            return logits, [cache[k] for k in cache.keys()]
    else:
        model = hf

        def run():
            out = model(tokens, output_hidden_states=True, output_attentions=True, use_cache=False)
            # hidden_states[0] is the embedding; [1..L] the residual stream after each block
            return out.logits, list(out.hidden_states[1:]) + list(out.attentions)
    load_s = time.perf_counter() - t0

    with torch.inference_mode():
        logits, caps = run()  # warm-up
        captured = sum(t.numel() * t.element_size() for t in caps)
        n_caps = len(caps)
        del logits, caps
        best = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            logits, caps = run()
            best = min(best, time.perf_counter() - t0)
            del logits, caps
    print(json.dumps({"framework": args.framework, "versions": versions, "threads": args.threads,
                      "batch": list(tokens.shape), "seconds": best, "load_seconds": load_s,
                      "n_captured": n_caps, "captured_bytes": captured, "peak_rss": peak_rss(),
                      "rss_before_load": rss_before_load, "rss_before_import": rss_before_import}))


if __name__ == "__main__":
    main()
