#!/usr/bin/env python3
"""Golden files for Qwen2.5-Coder-0.5B/1.5B-Instruct Q4_K_M (issue 18, acceptance 2).

Two independent references per model, on the same token ids:
  * llama.cpp (llama-cpp-python) on an F32 copy of the file (llama_model_quantize, ALL_F32) with an
    F32 KV cache: llama.cpp's own graph, f32 products;
  * transformers' GGUF loader (dequantises every tensor to f32; eager attention, f32 compute).
Prompts: code, Lean 4, multilingual text, a ChatML conversation and one of more than 1,000 tokens.
At every position each reference's next-token log-prob and its top-4 (ids, log-probs) are kept,
rounded to 1e-5 (the tests' bound is 1e-3), so a test can compare our log-probs at every position
without the full rows (tests/model/golden_logprobs.h reads them).

The tokenizer golden (>= 300 strings: code indentation, CJK, emoji, digits, long whitespace runs,
special-token text) holds llama.cpp's ids (vocab only, special text parsed, no BOS) and
transformers' (its GGUF-built tokenizer); the two models' vocabularies are checked identical, so
one file serves both.

Writes (tests/golden/qwen/):
  <name>.llamacpp.json, <name>.transformers.json
                      {"model", "sha256", "reference", "top_k", "cases": [{"text", "ids",
                      "next_logprob" [T-1], "top_ids" [T][4], "top_logprob" [T][4]}]}
  <name>.json         prompts, versions, and the two references' agreement (max |diff| over full
                      log-softmax rows per prompt: the scale of the tests' bound)
  tokenizer.jsonl     {"text", "ids" (llama.cpp), "ids_hf"} per line
where <name> is qwen2.5-coder-0.5b or qwen2.5-coder-1.5b.

Re-run:  nice -n 15 /work/refvenv/bin/python tools/make_qwen_golden.py --name qwen2.5-coder-0.5b
         [--model M.gguf] [--what model|tokenizer|both] [--threads 2]
Needs:   torch, transformers, accelerate, gguf, numpy, llama-cpp-python.
"""
import argparse
import json
import os
import random
import sys
import tempfile

import golden_common
from golden_common import log

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "tests", "golden", "qwen")
FILES = {"qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
         "qwen2.5-coder-1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"}
TOP_K = 4      # with the next token: the columns that carry the mass, in a small file


def long_prompt():
    """> 1,000 tokens: a made-up inventory (code and prose), then a question about its first line."""
    rng = random.Random(18)
    names = ["Ada", "Bram", "Chloe", "Dmitri", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas",
             "Kiri", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tomas"]
    cities = ["Lisbon", "Oslo", "Lagos", "Kyoto", "Quito", "Perth", "Tunis", "Riga", "Lima", "Hanoi"]
    things = ["bicycles", "lanterns", "violins", "teapots", "kites", "maps", "clocks", "boats"]
    lines = ["# inventory.py: who keeps what, where", "INVENTORY = ["]
    for i in range(42):
        lines.append(f"    ({rng.choice(names)!r}, {rng.choice(cities)!r}, {rng.randint(2, 97)}, "
                     f"{rng.choice(things)!r}),  # row {i + 1}")
    lines.append("]")
    lines.append("")
    lines.append("def count(city):\n    return sum(n for _, c, n, _ in INVENTORY if c == city)\n")
    first = lines[2].split("'")[1]
    return "\n".join(lines) + f"\n# Question: who is in row 1? Answer: row 1 is {first}, who lives in"


PROMPTS = [
    # code
    "def binary_search(xs, target):\n    \"\"\"Index of target in the sorted list xs, or -1.\"\"\"\n"
    "    lo, hi = 0, len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n"
    "        if xs[mid] == target:\n            return mid\n        if xs[mid] < target:\n"
    "            lo = mid + 1\n        else:\n",
    # Lean 4
    "theorem add_comm_example (a b : ℕ) : a + b = b + a := by\n  induction a with\n"
    "  | zero => simp\n  | succ n ih => omega\n\n"
    "theorem two_mul_le (n : ℕ) (h : 1 ≤ n) : n ≤ 2 * n := by\n  omega\n\n"
    "lemma sq_nonneg' (x : ℤ) : 0 ≤ x ^ 2 := by\n  exact pow_two_nonneg x\n\n"
    "example : ∀ p q : Prop, p ∧ q → q ∧ p := by\n  intro p q ⟨hp, hq⟩\n  exact",
    # multilingual
    "Le chat dort sur le canapé. Die Katze schläft auf dem Sofa. 猫在沙发上睡觉。"
    "猫はソファで寝ています。Кошка спит на диване. القطة نائمة على الأريكة. "
    "고양이가 소파에서 자고 있다. 🐱💤 In English: the cat",
    # ChatML, special tokens
    "<|im_start|>system\nYou are a helpful coding assistant.<|im_end|>\n<|im_start|>user\n"
    "Write a one-line Python expression that reverses the string s.<|im_end|>\n<|im_start|>assistant\n",
    long_prompt(),
]

# Qwen2.5's own special-token text (parsed as the tokens), and partial or mangled forms (plain text).
QWEN_SPECIALS = [
    "<|im_start|>user\nhi<|im_end|>", "<|endoftext|>", "text <|im_end|> text", "<|im_start|",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
    "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y<|fim_middle|>",
    "<|repo_name|>demo<|file_sep|>src/a.py\nimport os", "<tool_call>{\"name\": \"f\"}</tool_call>",
    "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(1,2)<|box_end|>", "< |im_end| >",
    "<|fim_pad|><|fim_pad|>", "<|IM_START|>", "<|im_end|><|im_end|>",
]
QWEN_EXTRA = [
    # code indentation, tabs and spaces mixed, deep nesting
    "def f():\n\tif x:\n\t\treturn 1\n\telse:\n\t    return 2\n",
    "        " * 4 + "deep()\n", "{\n" + "".join("  " * k + "{\n" for k in range(1, 8)) + "}",
    "fn main() {\n    let x = 5;\n    println!(\"{}\", x);\n}\n",
    "theorem t (n : ℕ) : n + 0 = n := by\n  simp\n", "  | succ n ih =>\n    rw [ih]\n",
    "#!/bin/bash\nfor f in *.txt; do\n  echo \"$f\"\ndone\n", "x\t=\t1\t\t# tabbed",
    "public static void main(String[] args) {\n        System.out.println(\"hi\");\n    }",
    "```python\nprint('hi')\n```", "// TODO(me): fix\n/* block */", "a->b; c::d; e=>f; g<=h; i!=j",
    # long whitespace runs
    " " * 64, " " * 100 + "x", "x" + " " * 200 + "y", "\n" * 50, "\t" * 20 + "t", " \n" * 30,
    "a" + "\u3000" * 10 + "b", " " * 33 + "\n" + " " * 17,
    # digits
    "12345678901234567890", "3.141592653589793", "2^64 = 18446744073709551616", "0.000001",
    "1,234,567.89", "٣٤٥ ١٢", "①②③", "Ⅻ Ⅳ", "10⁻³ m²", "x = 1e+308", "#FF00AA", "192.168.0.1:8080",
    # CJK and other scripts
    "这是一个很长的中文句子，用来测试分词器是否正确处理汉字。", "東京都渋谷区で会議があります。",
    "漢字かなカナ混じり文", "한글과 漢字의 혼용", "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３", "中文English混合Text",
    "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ", "ગુજરાતી", "ქართული", "Ελληνικά και English", "Ёлка и ёж", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙",
    # emoji
    "🧑🏾‍💻 coding", "🏳️‍🌈", "😀😀😀😀😀", "🇯🇵🇰🇷🇨🇳", "1️⃣2️⃣3️⃣", "👩‍🔬👨‍🚀", "🫠🪿",
    # contractions, case, punctuation
    "don't can't I'M we'll they'VE she's", "HELLO World hello", "“quoted” ‘single’ «guillemets»",
    "—dash–en-dash‐hyphen", "…ellipsis", "a.b.c", "e.g. i.e. etc.", "C++ C# F#", "snake_case camelCase",
    "https://example.com/a?b=c&d=e#f", "user@example.com", "\\n literal backslash-n", "\x00\x01 ctrl",
    "\u200bzero\u200bwidth", "e\u0301 combining", "\ufeffbom",
]


def load_hf(model_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    d, f = os.path.split(model_path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    return tok, model


def hf_logprobs(model, ids):
    import torch
    with torch.no_grad():
        logits = model(torch.tensor([ids]), use_cache=False).logits[0].double()
    return torch.log_softmax(logits, -1).numpy()


def do_tokenizer(args, tok):
    strings = golden_common.tokenizer_strings(QWEN_SPECIALS, QWEN_EXTRA, n=340)
    assert len(strings) >= 300, len(strings)
    ids_ll = golden_common.llamacpp_ids(args.model, strings)
    other = FILES["qwen2.5-coder-1.5b" if args.name.endswith("0.5b") else "qwen2.5-coder-0.5b"]
    other_path = os.path.join(os.path.dirname(args.model), other)
    if os.path.exists(other_path):  # one golden for both: their tokenizers must agree
        assert golden_common.llamacpp_ids(other_path, strings) == ids_ll, "the two vocabularies differ"
        log("llama.cpp ids identical for", other)
    same = 0
    path = os.path.join(OUT, "tokenizer.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for text, ll in zip(strings, ids_ll):
            hf = tok(text, add_special_tokens=False)["input_ids"]
            same += hf == ll
            f.write(json.dumps({"text": text, "ids": ll, "ids_hf": hf}, ensure_ascii=False) + "\n")
    log(f"tokenizer: {len(strings)} strings; transformers' ids equal llama.cpp's on {same}")


def do_model(args, tok):
    import numpy as np
    import torch
    import transformers
    import accelerate  # noqa: F401  (transformers' GGUF loader needs it: fail before the slow part)
    import llama_cpp
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    prompts_ids = [tok(p)["input_ids"] for p in PROMPTS]
    ll_tok = golden_common.llamacpp_ids(args.model, PROMPTS)
    assert ll_tok == prompts_ids, "llama.cpp and transformers tokenise a prompt differently"
    assert max(len(i) for i in prompts_ids) > 1000, [len(i) for i in prompts_ids]
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        f32 = os.path.join(tmp, "model.F32.gguf")
        log("F32 copy ->", f32)
        golden_common.make_f32_copy(args.model, f32, args.threads)
        ll = golden_common.llamacpp_logprobs(f32, prompts_ids, args.threads)
    log("llama.cpp done; transformers")
    _, model = load_hf(args.model)
    cases = {"llamacpp": [], "transformers": []}
    meta_prompts = []
    for i, (text, ids, lp_ll) in enumerate(zip(PROMPTS, prompts_ids, ll)):
        lp_hf = hf_logprobs(model, ids)
        for ref, lp in (("llamacpp", lp_ll), ("transformers", lp_hf)):
            r = golden_common.logprob_record(lp, ids, TOP_K)
            cases[ref].append({"text": text, "ids": ids,
                               "next_logprob": [round(float(v), 5) for v in r["next_logprob"]],
                               "top_ids": r["top_ids"].tolist(),
                               "top_logprob": [[round(float(v), 5) for v in row] for row in r["top_logprobs"]]})
        agree = float(np.abs(lp_ll - lp_hf).max())
        top1 = float((lp_ll.argmax(-1) == lp_hf.argmax(-1)).mean())
        meta_prompts.append({"n_tokens": len(ids), "refs_max_abs_diff_full_rows": agree,
                             "refs_top1_agreement": top1,
                             "greedy_next": tok.decode([int(lp_hf[-1].argmax())])})
        log(f"p{i}: {len(ids)} tokens, |llama.cpp - transformers| max {agree:.3g}, top-1 agree {top1:.4f}, "
            f"next {meta_prompts[-1]['greedy_next']!r}")
    os.makedirs(OUT, exist_ok=True)
    sha = golden_common.sha256(args.model)
    refs = {"llamacpp": f"llama-cpp-python {llama_cpp.__version__}, ALL_F32 copy, F32 KV cache, no flash attention",
            "transformers": f"transformers {transformers.__version__} GGUF loader, f32, eager attention; "
                            f"torch {torch.__version__}"}
    for ref, desc in refs.items():
        with open(os.path.join(OUT, f"{args.name}.{ref}.json"), "w", encoding="utf-8") as f:
            json.dump({"model": os.path.basename(args.model), "sha256": sha, "reference": desc,
                       "top_k": TOP_K, "cases": cases[ref]}, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(OUT, f"{args.name}.json"), "w", encoding="utf-8") as f:
        json.dump({"model": os.path.basename(args.model), "sha256": sha, "generator": "tools/make_qwen_golden.py",
                   "references": refs, "prompts": meta_prompts}, f, ensure_ascii=False, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True, choices=sorted(FILES))
    ap.add_argument("--model", help="default: the setup.sh cache path of --name")
    ap.add_argument("--what", default="both", choices=["model", "tokenizer", "both"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tmp", default=None, help="folder for the F32 copy (4x the file)")
    args = ap.parse_args()
    args.model = args.model or golden_common.default_cache_model(FILES[args.name])
    from transformers import AutoTokenizer
    d, f = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    os.makedirs(OUT, exist_ok=True)
    if args.what in ("tokenizer", "both"):
        do_tokenizer(args, tok)
    if args.what in ("model", "both"):
        do_model(args, tok)


if __name__ == "__main__":
    main()
