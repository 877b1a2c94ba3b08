#!/usr/bin/env python3
"""Golden files for the tokenizer tests, from an independent reference.

The reference is the PyPI `tokenizers` library (Hugging Face) built from the GGUF file's own
vocabulary and merges (read with the PyPI `gguf` package), with the pre-tokenizer SmolLM2's
tokenizer.json declares: Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False,
use_regex=True)], and the file's control / user-defined tokens as special added tokens.
Chat goldens render the file's Jinja chat template with `jinja2` the way transformers'
apply_chat_template does (trim_blocks, lstrip_blocks).

Writes (deterministic; re-run to regenerate):
  tests/golden/tokenizer/smollm2.jsonl       {"text", "parse_special", "ids"} per line
  tests/golden/tokenizer/chat_smollm2.jsonl  {"messages", "add_generation_prompt", "text", "ids"}

When llama-cpp-python is installed, the same strings are also tokenized by llama.cpp (vocab
only) and its agreement with the `tokenizers` ids is printed as a second, independent check.

Usage: /work/refvenv/bin/python tools/make_tokenizer_golden.py [model.gguf]
"""
import json
import os
import random
import sys

import gguf
import jinja2
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "golden", "tokenizer")
DEFAULT_MODEL = os.environ.get(
    "REASONSCOPE_MODEL",
    os.path.expanduser("~/.cache/reasonscope/models/SmolLM2-135M-Instruct.Q4_1.gguf"))


def field_strings(reader, key):
    f = reader.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]


def field_ints(reader, key):
    f = reader.fields[key]
    return [int(f.parts[i][0]) for i in f.data]


def field_string(reader, key):
    f = reader.fields[key]
    return bytes(f.parts[f.data[0]]).decode("utf-8")


def build_reference(path, with_specials):
    r = gguf.GGUFReader(path)
    assert field_string(r, "tokenizer.ggml.model") == "gpt2"
    assert field_string(r, "tokenizer.ggml.pre") == "smollm"
    tokens = field_strings(r, "tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ")) for m in field_strings(r, "tokenizer.ggml.merges")]
    types = field_ints(r, "tokenizer.ggml.token_type")
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    if with_specials:
        specials = [AddedToken(t, special=True, normalized=False)
                    for t, ty in zip(tokens, types) if ty in (2, 3, 4)]
        tok.add_special_tokens(specials)
    template = field_string(r, "tokenizer.chat_template")
    return tok, template


def make_strings():
    """>= 500 varied strings, generated deterministically."""
    rng = random.Random(20261125)
    words_en = ("the quick brown fox jumps over lazy dog reasoning model layer attention "
                "tokenizer Hello World isn't can't we'll they've I'm she'd it's DON'T "
                "Transformer GPT-2 SmolLM2 interpretability probe vector").split()
    code = [
        "def f(x):\n    return x ** 2\n",
        "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "#include <vector>\nint main() { return 0; }",
        "SELECT id, name FROM users WHERE age >= 21;",
        '{"key": [1, 2, 3], "nested": {"a": null, "b": true}}',
        "<div class=\"x\"><span>hi</span></div>",
        "fn main() { println!(\"{}\", 42); }",
        "x = [i*i for i in range(10) if i % 2 == 0]",
        "if (a && b || !c) { x <<= 2; y >>= 3; }",
        "$ git commit -m 'fix: off-by-one in tokenizer'",
        "const f = async (a, b) => await g(a ?? b);",
        "    # indented comment\n        nested = True\n",
        "std::unique_ptr<Tokenizer> t = Tokenizer::from_gguf(f);",
        "lambda x: x['key'] if 'key' in x else None",
        "\\begin{equation} E = mc^2 \\end{equation}",
        "theorem add_comm (a b : ℕ) : a + b = b + a := by simp [Nat.add_comm]",
    ]
    cjk = ["你好，世界！", "我想在apple工作", "日本語のテキストとカタカナ", "한국어 텍스트입니다",
           "機械学習は面白い。", "中文字符和English混合", "東京タワー", "《三体》第二部"]
    emoji = ["🚀", "😶‍🌫️", "👍🏽", "🇺🇸🇫🇷", "❤️", "🦙", "👨‍👩‍👧‍👦", "✅", "🎉🎉🎉", "🤖 + 🧠 = ?"]
    accents = ["Führer", "naïve café résumé", "Ångström façade", "Cửa Việt", "e\u0301 combining",
               "Ñandú año", "Zürich Straße", "crème brûlée", "São Paulo", "Dvořák"]
    scripts = ["مرحبا بالعالم", "नमस्ते दुनिया", "שלום עולם", "Привет, мир!", "Γειά σου Κόσμε",
               "สวัสดีชาวโลก", "ཀ་ཁ་ག", "Բարեւ աշխարհ", "გამარჯობა", "ሰላም ልዑል", "ẞ ß ǅ"]
    specials = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<repo_name>", "<file_sep>",
                "<jupyter_code>", "<|im_start", "im_end|>", "<|im_start|><|im_end|>"]
    spaces = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2009", "\u200b", "\u2028"]

    out = []
    # Fixed edge cases first.
    out += ["", " ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\t\n", " \n ", "a", "A", "0", "00",
            "123", "1234567890", "3.14159", "-42", "1,000,000", "2026-11-25", "0x1F", "1e-5",
            "!!!!!!", "...", "???", "--- ---", "'s", "'S", "'ll", "don't", "DON'T", "y'all",
            "\u00a0", "\u3000 ", " \u200b ", "\x00", "\x7f", "\x01\x02\x03", "\u0085", "\ufeff"]
    out += [" " * n for n in (5, 8, 17, 33, 64)] + ["\t" * n for n in (2, 5, 9)]
    out += ["\n" * n for n in (4, 7)] + [" \t" * 6, "\n \n\n \n\n\n \t \t\t \t\n  \n   \n"]
    out += ["word" + " " * n + "word" for n in (2, 3, 7, 16)]
    out += ["x" + "\n" * n + "  y" for n in (1, 2, 5)]
    out += code + cjk + emoji + accents + scripts + specials
    out += ["3" * n for n in range(1, 12)]
    # Random mixtures.
    categories = [
        lambda: " ".join(rng.choice(words_en) for _ in range(rng.randint(1, 12))),
        lambda: rng.choice(code),
        lambda: "".join(rng.choice(cjk) for _ in range(rng.randint(1, 3))),
        lambda: " ".join(rng.choice(emoji) for _ in range(rng.randint(1, 4))),
        lambda: " ".join(rng.choice(accents) for _ in range(rng.randint(1, 3))),
        lambda: " ".join(rng.choice(scripts) for _ in range(rng.randint(1, 2))),
        lambda: str(rng.randint(0, 10 ** rng.randint(1, 15))) + rng.choice(["", ".", ",", " ", "%", "px"])
                + str(rng.randint(0, 999)),
        lambda: rng.choice(words_en) + "".join(rng.choice(spaces) for _ in range(rng.randint(1, 20)))
                + rng.choice(words_en),
        lambda: rng.choice(specials) + rng.choice(["user", "assistant", "system"]) + "\n"
                + " ".join(rng.choice(words_en) for _ in range(rng.randint(1, 6))) + rng.choice(specials),
        lambda: "".join(rng.choice("!@#$%^&*()_+-=[]{};:'\",.<>/?\\|`~") for _ in range(rng.randint(1, 15))),
        lambda: "".join(rng.choice([rng.choice(words_en), rng.choice(cjk), rng.choice(emoji),
                                    rng.choice(spaces), str(rng.randint(0, 99999)), rng.choice(specials),
                                    rng.choice(accents), rng.choice(scripts)])
                        for _ in range(rng.randint(2, 8))),
        lambda: "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 12))),
        lambda: "".join(chr(rng.choice([rng.randint(0x1F300, 0x1FAFF), rng.randint(0x4E00, 0x9FFF),
                                        rng.randint(0x0600, 0x06FF), rng.randint(0x0900, 0x097F)]))
                        for _ in range(rng.randint(1, 10))),
    ]
    # Longer texts: paragraphs with punctuation and line breaks, and chat transcripts with the
    # special tokens inline.
    categories += [
        lambda: "".join(rng.choice(words_en) + rng.choice([" ", " ", " ", ", ", ". ", "\n", "! ", "? ", "; "])
                        for _ in range(rng.randint(20, 60))),
        lambda: "".join("<|im_start|>" + rng.choice(["system", "user", "assistant"]) + "\n"
                        + " ".join(rng.choice(words_en + cjk + emoji) for _ in range(rng.randint(2, 10)))
                        + "<|im_end|>\n" for _ in range(rng.randint(1, 3))),
    ]
    while len(out) < 600:
        s = rng.choice(categories)()
        if rng.random() < 0.2:
            s = rng.choice(spaces) + s
        if rng.random() < 0.2:
            s = s + rng.choice(spaces) * rng.randint(1, 3)
        out.append(s)
    # Surrogates cannot be encoded in UTF-8: drop any random code point that produced one.
    return [s for s in out if not any(0xD800 <= ord(c) <= 0xDFFF for c in s)]


def render_chat(template, messages, add_generation_prompt):
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages,
                                            add_generation_prompt=add_generation_prompt)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    ref_special, template = build_reference(path, with_specials=True)
    ref_plain, _ = build_reference(path, with_specials=False)
    strings = make_strings()
    rng = random.Random(7)
    n_plain = 0
    with open(os.path.join(OUT_DIR, "smollm2.jsonl"), "w", encoding="utf-8") as f:
        for s in strings:
            parse_special = rng.random() >= 0.15
            ref = ref_special if parse_special else ref_plain
            ids = ref.encode(s, add_special_tokens=False).ids
            n_plain += not parse_special
            f.write(json.dumps({"text": s, "parse_special": parse_special, "ids": ids},
                               ensure_ascii=False) + "\n")
    conversations = [
        [{"role": "user", "content": "Hello!"}],
        [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"}],
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
         {"role": "user", "content": "Tell me a joke.\nMake it short."}],
        [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Good morning"},
         {"role": "assistant", "content": "Bonjour"}],
        [{"role": "user", "content": "  spaces around  "}],
    ]
    with open(os.path.join(OUT_DIR, "chat_smollm2.jsonl"), "w", encoding="utf-8") as f:
        for conv in conversations:
            for agp in (True, False):
                text = render_chat(template, conv, agp)
                ids = ref_special.encode(text, add_special_tokens=False).ids
                f.write(json.dumps({"messages": conv, "add_generation_prompt": agp, "text": text,
                                    "ids": ids}, ensure_ascii=False) + "\n")
    print(f"{len(strings)} strings ({n_plain} with special-token text not parsed), "
          f"{len(conversations) * 2} chat renderings -> {OUT_DIR}")
    cross_check_llama_cpp(path, os.path.join(OUT_DIR, "smollm2.jsonl"))


def cross_check_llama_cpp(model_path, golden_path):
    try:
        from llama_cpp import Llama
    except ImportError:
        print("llama-cpp-python not installed: no llama.cpp cross-check")
        return
    llm = Llama(model_path=model_path, vocab_only=True, verbose=False)
    rows = [json.loads(line) for line in open(golden_path, encoding="utf-8")]
    agree = sum(llm.tokenize(r["text"].encode("utf-8"), add_bos=False, special=r["parse_special"]) == r["ids"]
                for r in rows)
    print(f"llama.cpp cross-check: {agree}/{len(rows)} strings give the same ids as `tokenizers`")


if __name__ == "__main__":
    main()
