#!/usr/bin/env python3
"""Golden files for the Gemma 3 270M model and tokenizer (issue 13, acceptance 1 and 2).

Reference: transformers' GGUF loader on the same file (gemma-3-270m-q4_k_m.gguf, installed by
`scripts/setup.sh --with gemma3`). It dequantises every tensor to f32, subtracts 1 from every
norm weight (llama.cpp's converter stored 1 + w) and runs Gemma3ForCausalLM with eager attention
in f32. Its tokenizer is built from the GGUF's own vocabulary (transformers' GGUF converter).

Writes (deterministic; small enough to keep in the repository):
  tests/golden/gemma3/model.json      per prompt: ids (BOS first), at every position the log-prob
                                      of the actual next token and the reference's top-8 ids and
                                      log-probs; plus the last position's resid_post per layer
                                      for the first prompt (hook-meaning check).
  tests/golden/gemma3/tokenizer.jsonl {"text", "ids", "ids_llamacpp"} per line, >= 200 strings,
                                      ids without BOS: transformers' and llama.cpp's (vocab only,
                                      llama-cpp-python), which differ on runs of more than 31
                                      spaces (see llamacpp_ids).

Re-run:  nice -n 19 /work/refvenv/bin/python tools/make_gemma_golden.py [--model M.gguf]
         [--what model|tokenizer|both]
Needs:   torch, transformers (with gguf), numpy.
"""
import argparse
import json
import os
import random
import sys

import golden_common

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "tests", "golden", "gemma3")
DEFAULT_MODEL = os.path.expanduser("~/.cache/reasonscope/models/gemma-3-270m-q4_k_m.gguf")
TOP_K = 8


def long_prompt():
    """~700 tokens of made-up facts, then a question about the first one: positions past 512
    exercise the sliding window (layers that are not global see only the last 512 keys)."""
    rng = random.Random(13)
    names = ["Ada", "Bram", "Chloe", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas",
             "Kiri", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tomas"]
    cities = ["Lisbon", "Oslo", "Lagos", "Kyoto", "Quito", "Perth", "Tunis", "Riga", "Lima", "Hanoi"]
    things = ["bicycles", "lanterns", "violins", "teapots", "kites", "maps", "clocks", "boats"]
    lines = []
    for i in range(36):
        n, c, t = rng.choice(names), rng.choice(cities), rng.choice(things)
        lines.append(f"Fact {i + 1}: {n} lives in {c} and keeps {rng.randint(2, 97)} {t} in a "
                     f"{rng.choice(['red', 'green', 'blue', 'white'])} shed.")
    first = lines[0].split(": ", 1)[1].split(" lives")[0]
    return "\n".join(lines) + f"\nQuestion: where does the person from fact 1 live? Answer: {first} lives in"


PROMPTS = [
    "The capital of France is Paris. The capital of Germany is Berlin. The capital of Italy is",
    "def mean(xs):\n    \"\"\"Average of a list.\"\"\"\n    total = 0\n    for x in xs:\n"
    "        total += x\n    return total /",
    "Every wumpus is a tumpus. Every tumpus is red. Max is a wumpus. Question: is Max red? "
    "Let us reason step by step. Max is a wumpus, so",
    "Hello  world!   Three spaces,    four spaces.\tTab, then\n\nnew lines. 12345 + 678 = 13023. "
    "Café, naïve, Straße, 東京, Москва 🙂",
    long_prompt(),
]


# ----------------------------------------------------------------------------- tokenizer strings
# Gemma's control tokens as plain text here: they are not parsed (add_special_tokens=False).
GEMMA_SPECIALS = ["<bos>", "<start_of_turn>user\nhi<end_of_turn>", "<eos> text", "<pad>"]


def tokenizer_strings():
    """>= 200 strings: whitespace runs, code indentation, multilingual text, emoji, digits."""
    return golden_common.tokenizer_strings(GEMMA_SPECIALS)


def llamacpp_ids(model, strings):
    """llama.cpp's ids (special tokens parsed, as transformers does in text). On runs of more than
    31 spaces the two references differ: llama.cpp (like SentencePiece's longest-prefix match of
    user-defined pieces) takes the longest piece first (40 spaces = 31 + 9), while transformers'
    GGUF-built tokenizer splits them by merges (16 + 24)."""
    return golden_common.llamacpp_ids(model, strings)


def add_llamacpp_ids(model, path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    for r, ids in zip(rows, llamacpp_ids(model, [r["text"] for r in rows])):
        r["ids_llamacpp"] = ids
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    same = sum(r["ids"] == r["ids_llamacpp"] for r in rows)
    print(f"llama.cpp ids equal transformers' on {same} of {len(rows)} strings", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--what", default="both", choices=["model", "tokenizer", "both"])
    args = ap.parse_args()
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    d, name = os.path.split(os.path.abspath(args.model))
    os.makedirs(OUT, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)

    if args.what in ("tokenizer", "both"):
        strings = tokenizer_strings()
        assert len(strings) >= 200, len(strings)
        with open(os.path.join(OUT, "tokenizer.jsonl"), "w", encoding="utf-8") as f:
            for text in strings:
                ids = tok(text, add_special_tokens=False)["input_ids"]
                f.write(json.dumps({"text": text, "ids": ids}, ensure_ascii=False) + "\n")
        add_llamacpp_ids(args.model, os.path.join(OUT, "tokenizer.jsonl"))
        print(f"tokenizer: {len(strings)} strings; 'Hello  world' ->",
              tok("Hello  world", add_special_tokens=False)["input_ids"], file=sys.stderr)

    if args.what in ("model", "both"):
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32,
                                                     attn_implementation="eager")
        model.eval()
        cfg = model.config
        layers = model.model.layers
        captured = {}
        hooks = [layer.register_forward_hook(
            lambda mod, inp, out, i=i: captured.__setitem__(i, (out[0] if isinstance(out, tuple) else out).detach()))
            for i, layer in enumerate(layers)]
        cases = []
        for p_i, text in enumerate(PROMPTS):
            ids = tok(text)["input_ids"]            # BOS first (the file adds it)
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0].double()
            lp = torch.log_softmax(logits, -1)
            top = lp.topk(TOP_K, -1)
            case = {
                "text": text,
                "ids": ids,
                "next_logprob": [round(lp[t, ids[t + 1]].item(), 6) for t in range(len(ids) - 1)],
                "top_ids": top.indices.tolist(),
                "top_logprob": [[round(v, 6) for v in row] for row in top.values.tolist()],
            }
            if p_i == 0:
                case["resid_post_last"] = [[round(v, 5) for v in captured[l][0, -1].tolist()]
                                           for l in range(len(layers))]
            cases.append(case)
            print(f"prompt {p_i}: {len(ids)} tokens, greedy next = {tok.decode([top.indices[-1, 0].item()])!r}",
                  file=sys.stderr)
        for h in hooks:
            h.remove()
        meta = {
            "model": name,
            "reference": f"transformers {transformers.__version__} GGUF loader, f32, eager attention; "
                         f"torch {torch.__version__}",
            "config": {"layer_types": list(cfg.layer_types), "sliding_window": cfg.sliding_window,
                       "rope_local_base_freq": getattr(cfg, "rope_local_base_freq", None),
                       "query_pre_attn_scalar": cfg.query_pre_attn_scalar,
                       "final_logit_softcapping": cfg.final_logit_softcapping},
            "top_k": TOP_K,
            "cases": cases,
        }
        with open(os.path.join(OUT, "model.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, separators=(",", ":"))
        print("wrote", os.path.join(OUT, "model.json"), file=sys.stderr)


if __name__ == "__main__":
    main()
