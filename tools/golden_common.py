"""Shared by the golden-file generators of whole models (make_gemma_golden.py, make_qwen_golden.py):
the tokenizer test strings, llama.cpp's tokenizer, an F32 copy of a GGUF for llama.cpp, and
log-prob records "next-token log-prob + the reference's top-k at every position".

Needs (only for the functions that use them): numpy, torch, transformers, llama-cpp-python.
"""
import ctypes
import hashlib
import os
import random
import sys


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tokenizer_strings(specials, extra=(), n=260, seed=20261201):
    """Whitespace runs, code indentation, multilingual text, emoji, digits, the model's own
    special-token text (`specials`), then `extra`, then random strings up to `n`; deduplicated,
    order kept. The Gemma golden uses specials only and n=260 (its file was made that way)."""
    s = []
    for k in range(1, 33):                       # runs of spaces, alone and between words
        s.append("a" + " " * k + "b")
    for k in (1, 2, 3, 5, 8, 16, 31, 40):
        s.append(" " * k)
        s.append("word" + " " * k)
        s.append(" " * k + "word")
        s.append("\t" * min(k, 6) + "x")
        s.append("\n" * min(k, 6) + "y" + " " * k + "\n")
    s += ["Hello  world", "Hello   world", "Hello world", " Hello world", "Hello\u3000world",
          "  leading", "trailing  ", "a \t b", "a\n \n b", "\r\n\r\n", "x\u00a0y"]
    s += [
        "def f(x):\n    return x ** 2\n",
        "class A:\n    def __init__(self):\n        self.x = 1\n\n    def g(self):\n        pass\n",
        "if (a) {\n  b();\n} else {\n\tc();\n}\n",
        "for i in range(10):\n        if i % 2:\n            print(i)\n",
        "    indented four\n        eight\n            twelve\n",
        "<div>\n  <p class=\"x\">Hi</p>\n</div>",
        "SELECT a, b FROM t WHERE x >= 10 AND y != 'z';",
        "x = [1,2,3]  # comment\ny = {'k': None}",
        "#include <vector>\nint main() { return 0; }\n",
        "    \n    \n",
        "fn main() {\n    let v: Vec<u8> = vec![];\n}\n",
        "$ ls -la | grep \"txt\" > out.log 2>&1",
    ]
    s += [
        "Straße und Größe", "Ça va? Très bien.", "naïve café résumé", "Ελληνικά γράμματα",
        "Привет, как дела?", "日本語のテキストです。", "中文文本测试", "한국어 문장입니다",
        "العربية نص", "עברית טקסט", "हिन्दी पाठ", "ภาษาไทย", "Tiếng Việt có dấu",
        "Türkçe ğüşıöç", "Polski: zażółć gęślą jaźń", "Ærø Øst Å", "Íslenska þ ð",
        "Kiswahili ni lugha", "Português: coração, ação", "Español: ¿qué tal? ¡Hola!",
    ]
    s += ["🙂", "I ❤️ NY", "👍🏽 ok", "🇫🇷🇩🇪", "👨‍👩‍👧‍👦 family", "✨🚀✨", "a😀b😃c", "🤖  robot",
          "emoji at end 🎉", "♠♥♦♣", "☃ snow", "°C ± µm"]
    s += ["0", "7", "42", "123", "2024", "1234567890", "3.14159", "1,000,000", "-17", "+1 (555) 010-9999",
          "0x1F", "1e-9", "v2.3.11", "12:30:05", "2026-12-01", "99.9%", "$1,234.56", "€3,000",
          "1st 2nd 3rd 4th", "x1 y22 z333"]
    s += list(specials)
    s += list(extra)
    rng = random.Random(seed)
    alphabet = ("abcdefghijklmnopqrstuvwxyz ABCXYZ   0123456789 \t\n.,;:!?'\"()[]{}<>/\\-_=+*&^%$#@~`|"
                "éüßñøçα日本語😀🙂")
    while len(s) < n:
        s.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))))
    seen, out = set(), []
    for x in s:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def llamacpp_ids(model, strings):
    """llama.cpp's ids for each string (vocab only; special-token text parsed, no BOS)."""
    from llama_cpp import Llama
    llm = Llama(model_path=model, vocab_only=True, verbose=False)
    return [llm.tokenize(t.encode("utf-8"), add_bos=False, special=True) for t in strings]


def make_f32_copy(model, out, threads=2):
    """Every tensor of `model` dequantised to F32 by llama.cpp itself (llama_model_quantize with
    LLAMA_FTYPE_ALL_F32): llama.cpp then multiplies in f32 instead of quantising activations to
    8 bits, which is what an exact reference for our f32 forward needs."""
    import llama_cpp
    qp = llama_cpp.llama_model_quantize_default_params()
    qp.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
    qp.allow_requantize = True
    qp.nthread = threads
    rc = llama_cpp.llama_model_quantize(model.encode(), out.encode(), ctypes.byref(qp))
    assert rc == 0, f"llama_model_quantize failed: {rc}"


def llamacpp_logprobs(f32_model, prompts_ids, threads=2):
    """llama.cpp's log-softmax [T, V] (float64 numpy) for each id list, on the F32 copy with an
    F32 KV cache and no flash attention (its CPU kernel rounds through f16)."""
    import numpy as np
    from llama_cpp import Llama
    n_ctx = max(len(ids) for ids in prompts_ids) + 8
    F32 = 0  # GGML_TYPE_F32
    llm = Llama(model_path=f32_model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=512, n_threads=threads,
                n_threads_batch=threads, logits_all=True, type_k=F32, type_v=F32, flash_attn=False,
                verbose=False)
    out = []
    for ids in prompts_ids:
        llm.reset()
        llm.eval(ids)
        s = np.array(llm.scores[: len(ids)], dtype=np.float64)
        m = s.max(-1, keepdims=True)
        out.append(s - m - np.log(np.exp(s - m).sum(-1, keepdims=True)))
    return out


def logprob_record(lp, ids, top_k):
    """At every position t of log-softmax rows lp [T, V] (numpy): the log-prob of the actual next
    token ids[t+1] (T-1 values) and the top_k ids and log-probs, as float32 / int32 arrays."""
    import numpy as np
    lp = np.asarray(lp)
    T = len(ids)
    top = np.argsort(-lp, axis=-1, kind="stable")[:, :top_k]
    return {
        "next_logprob": lp[np.arange(T - 1), np.asarray(ids[1:])].astype(np.float32),
        "top_ids": top.astype(np.int32),
        "top_logprobs": np.take_along_axis(lp, top, -1).astype(np.float32),
    }


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def default_cache_model(file):
    cache = os.environ.get("REASONSCOPE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "reasonscope")
    return os.path.join(cache, "models", file)
