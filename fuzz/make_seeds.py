#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets added for issue 21 (jsonl, hf_config,
hf_tokenizer, chat, spectral_calibration, qk_heads, cvec, edit) and two model-like files for
gguf: small valid files and known edge cases, made here from the format descriptions in the
readers' headers.
Run from the repository root: python3 fuzz/make_seeds.py (overwrites those seed files only)."""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(corpus, name, data):
    d = os.path.join(ROOT, corpus)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def jl(*rows):
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


# ---------------------------------------------------------------- JSONL: "<mode>\n<file>"
PQ = {"id": "p1", "hops": 2, "context": "Every cat is a mammal. Every mammal is warm. Tom is a cat.",
      "query": "True or false: Tom is warm.",
      "chain_of_thought": ["Tom is a cat.", "Every cat is a mammal.", "Tom is a mammal.",
                           "Every mammal is warm.", "Tom is warm."],
      "answer": "True"}
PQ2 = dict(PQ, id="p2", answer="False", query="True or false: Tom is not warm.")
TWOHOP = {"id": "t1", "first_hop_question": "Who is the head of state of France?",
          "second_hop_question": "Where was Emmanuel Macron born?",
          "composed_questions": ["Where was the head of state of France born?"],
          "bridge_answer": "Emmanuel Macron", "answer": "Amiens",
          "composed_cloze": "The head of state of France was born in",
          "single_cloze": "Emmanuel Macron was born in",
          "composed_subject": "the head of state of France", "bridge_subject": "Emmanuel Macron",
          "generalization_clozes": ["The French head of state was born in"],
          "generalization_answers": ["Amiens"], "irrelevant_clozes": ["Paris is in"],
          "irrelevant_answers": ["France"]}
MC = {"id": "m1", "prompt": "Mary went to the kitchen. Where is Mary? Answer:", "answer": " kitchen",
      "wrong_answers": [" garden", " hallway"], "task": "babi15", "context": "Mary went to the kitchen.",
      "question": "Where is Mary?"}
jsonl_seeds = {
    "prontoqa": jl(PQ, PQ2),
    "cot-pairs": jl({"id": "c1", "text": "Tom is a cat. Tom is warm.", "label": 1, "source_id": "p1", "hops": 2},
                    {"id": "c2", "text": "Tom is a cat. Tom is not warm.", "label": 0, "corruption": "negated",
                     "source_id": "p1", "hops": 2}),
    "mc": jl(MC),
    "instructions": jl({"id": "i1", "instruction": "Reverse the words.", "input": "red blue",
                        "output": "blue red", "task": "reverse", "distribution": 0}),
    "pairs": jl({"id": "x1", "positive": "I am happy.", "negative": "I am sad.", "source_id": "m1"}),
    "labelled-text": jl({"id": "l1", "text": "theorem t : 1 + 1 = 2 := rfl", "label": 1}),
    "minif2f": jl({"id": "f1", "text": "by norm_num", "label": 0}),
    "mquake-2hop": jl(TWOHOP),
    "twohop": jl({k: v for k, v in TWOHOP.items() if not k.startswith(("generalization", "irrelevant"))}),
    "text": jl({"text": "hello"}, {"id": "a", "text": "world"}),
    "qk-prontoqa": jl(PQ, dict(PQ2, hops=3)),
    "qk-mcq": jl({"id": 7, "context": "Bob has a red ball.", "question": "What colour is the ball?",
                  "options": ["red", "blue", "green"], "answer_index": 0}),
    "twohop-cases": jl(TWOHOP, dict(TWOHOP, id="t2", answer="Paris", category="correct")),
    "make-cot-pairs": jl(PQ, PQ2),
    "make-pairs": jl(MC, dict(MC, id="m2")),
}
for mode, body in jsonl_seeds.items():
    put("jsonl", mode, mode + "\n" + body)
MCQ = {"id": "q", "context": "c", "question": "Which?", "options": ["a", "b"], "answer_index": 1}
put("jsonl", "edge_qk_mcq", "qk-mcq\n" + jl(dict(MCQ, id=1.5), dict(MCQ, options=["a", " "]),
                                             dict(MCQ, options=["a", "b\nc"]), dict(MCQ, options=["a"]),
                                             dict(MCQ, answer_index=2), {k: v for k, v in MCQ.items() if k != "answer_index"},
                                             dict({k: v for k, v in MCQ.items() if k != "answer_index"}, answer="b"),
                                             dict({k: v for k, v in MCQ.items() if k != "answer_index"}, answer="z"),
                                             dict(MCQ, options=["a", "a"]), dict(MCQ, hops=-1)))
put("jsonl", "edge_qk_prontoqa", "qk-prontoqa\n" + jl(dict(PQ, answer="Maybe"), dict(PQ, answer=1),
                                                       {k: v for k, v in PQ.items() if k != "answer"},
                                                       dict(PQ, hops="2"), dict(PQ, id=None)))
# edge cases of the reader conventions (README data section)
put("jsonl", "edge_bom_crlf", "prontoqa\n\ufeff" + json.dumps(PQ) + "\r\n\r\n  \t\n" + json.dumps(PQ2))
put("jsonl", "edge_duplicate_id", "prontoqa\n" + jl(PQ, PQ))
put("jsonl", "edge_bad_utf8", b"text\n{\"text\": \"a\xc0\xafb\"}\n{\"text\": \"ok\"}\n")
put("jsonl", "edge_huge_int", "cot-pairs\n" + jl('{"id": "a", "text": "t", "label": 18446744073709551615}',
                                                  '{"id": "b", "text": "t", "label": 1e999}'))
put("jsonl", "edge_deep", "text\n" + "[" * 300 + "]" * 300 + "\n" + jl({"text": "x"}))
put("jsonl", "edge_not_object", "mc\n" + jl("[]", "null", "\"s\"", "3"))
put("jsonl", "edge_no_final_newline", "pairs\n" + json.dumps({"id": "x", "positive": "a", "negative": "b"}))

# ---------------------------------------------------------------- HF config.json
LLAMA_CFG = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128,
             "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
             "max_position_embeddings": 256, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
             "tie_word_embeddings": True, "rope_scaling": None}
put("hf_config", "llama.json", json.dumps(LLAMA_CFG, indent=2))
put("hf_config", "llama3_scaling.json", json.dumps(dict(LLAMA_CFG, rope_scaling={
    "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192})))
put("hf_config", "linear_scaling.json", json.dumps(dict(LLAMA_CFG, rope_scaling={"type": "linear", "factor": 2.0})))
put("hf_config", "qwen2.json", json.dumps(dict(LLAMA_CFG, model_type="qwen2", head_dim=16,
                                               text_config={"hidden_size": 8}, eos_token_id=[1, 2])))
put("hf_config", "mistral.json", json.dumps(dict(LLAMA_CFG, model_type="mistral", sliding_window=4096)))
put("hf_config", "edge_gemma3.json", json.dumps(dict(LLAMA_CFG, model_type="gemma3_text")))
put("hf_config", "edge_huge.json", json.dumps(dict(LLAMA_CFG, num_hidden_layers=9223372036854775807,
                                                   hidden_size=4611686018427387904)))
put("hf_config", "edge_float_layers.json", json.dumps(dict(LLAMA_CFG, num_hidden_layers=2.0)))
put("hf_config", "edge_zero_heads.json", json.dumps(dict(LLAMA_CFG, num_attention_heads=0)))

# ---------------------------------------------------------------- HF tokenizer files
# tokenizer.json NUL tokenizer_config.json NUL chat_template.jinja
BYTES = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
cs = BYTES[:]
n = 0
for b in range(256):
    if b not in BYTES:
        BYTES.append(b)
        cs.append(256 + n)
        n += 1
BYTE_SYMS = [chr(c) for c in cs]  # GPT-2 bytes_to_unicode, in BYTES order
vocab = {s: i for i, s in enumerate(BYTE_SYMS)}
vocab["he"] = 256
vocab["hel"] = 257
GPT2_RE = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
TOK = {"version": "1.0", "added_tokens": [
    {"id": 258, "content": "<|im_start|>", "special": True}, {"id": 259, "content": "<|im_end|>", "special": True},
    {"id": 260, "content": "<|endoftext|>", "special": True}],
    "normalizer": None,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                                                               {"Sequence": {"id": "A", "type_id": 0}}]},
    "model": {"type": "BPE", "vocab": vocab, "merges": ["h e", ["he", "l"]], "ignore_merges": False}}
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
CFG = {"bos_token": "<|endoftext|>", "eos_token": {"content": "<|im_end|>"}, "add_bos_token": False,
       "chat_template": CHATML}
put("hf_tokenizer", "bpe_chatml", json.dumps(TOK) + "\0" + json.dumps(CFG))
put("hf_tokenizer", "bpe_no_config", json.dumps(TOK))
put("hf_tokenizer", "bpe_jinja_file", json.dumps(TOK) + "\0" + json.dumps({"eos_token": "<|im_end|>"}) + "\0" + CHATML)
split = dict(TOK, pre_tokenizer={"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated",
                                 "invert": False})
put("hf_tokenizer", "bpe_split_regex", json.dumps(split) + "\0" +
    json.dumps({"chat_template": [{"name": "default", "template": "<|start_header_id|>"}]}))
put("hf_tokenizer", "edge_gap_ids", json.dumps(dict(TOK, added_tokens=[{"id": 5000, "content": "<x>"}])))
put("hf_tokenizer", "edge_spm", json.dumps(dict(TOK, model=dict(TOK["model"], byte_fallback=True))))
put("hf_tokenizer", "edge_bad_bos", json.dumps(TOK) + "\0" + json.dumps({"bos_token": "<nope>"}))
put("hf_tokenizer", "edge_post_processor", json.dumps(dict(TOK, post_processor={
    "type": "Sequence", "processors": [{"type": "TemplateProcessing", "single": [{"SpecialToken": 3}, "x"]}]})))

# ---------------------------------------------------------------- chat templates
# flags byte, then template NUL role NUL content ...
def chat(name, flags, tmpl, *msgs):
    body = tmpl
    for role, content in msgs:
        body += "\0" + role + "\0" + content
    put("chat", name, bytes([flags]) + body.encode("utf-8"))


CONV = [("system", "You are brief."), ("user", " Hi there "), ("assistant", "Hello!"), ("user", "2+2?")]
chat("chatml", 15, CHATML, *CONV)
chat("chatml_default_system", 15, "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM<|im_end|>\\n' }}"
     + CHATML, ("user", "Hi"))
chat("llama3", 15, "{{ '<|begin_of_text|>' }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
     "<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}", *CONV)
chat("llama2", 7, "{% if messages[0]['role'] == 'system' %}<<SYS>>\\n{% endif %}[INST] {{ m }} [/INST]", *CONV)
chat("mistral", 6, "{{ bos_token }}[INST] {{ message['content'] }} [/INST]", ("user", "a"), ("assistant", "b"))
chat("gemma", 11, "{{ bos_token }}<start_of_turn>user\n{{ content }}<end_of_turn>\n", *CONV)
chat("edge_llama2_bad_role", 7, "[INST]", ("user", "a"), ("tool", "b"))
chat("edge_empty", 0, "", ("user", "x"))
chat("edge_unterminated_system", 8, "<|im_start|>system\\nno end", ("user", "x"))

# ---------------------------------------------------------------- spectral calibration JSON
CAL = {"format": "reasonscope-spectral-calibration", "version": 1, "layer": 12, "metric": "hfer",
       "direction": "less", "threshold": 0.3125, "laplacian": "rw", "hfer_band": 0.1, "max_tokens": 512,
       "maths_dtype": "f64", "model": {"arch": "llama", "n_layer": 30}}
put("spectral_calibration", "valid.json", json.dumps(CAL, indent=2))
put("spectral_calibration", "inf_threshold.json", json.dumps(dict(CAL, threshold="-inf", metric="fiedler",
                                                                  direction="greater", laplacian="sym")))
put("spectral_calibration", "no_dtype.json", json.dumps({k: v for k, v in CAL.items() if k != "maths_dtype"}))
put("spectral_calibration", "baselines.json", json.dumps(dict(CAL, baselines={
    "token_count": {"direction": "greater", "threshold": 41.5},
    "mean_logprob": {"direction": "less", "threshold": "-inf"}})))
put("spectral_calibration", "edge_huge_layer.json", json.dumps(dict(CAL, layer=1e300)))
put("spectral_calibration", "edge_huge_tokens.json", json.dumps(dict(CAL, max_tokens=1e19)))
put("spectral_calibration", "edge_band_zero.json", json.dumps(dict(CAL, hfer_band=0)))
put("spectral_calibration", "edge_bad_metric.json", json.dumps(dict(CAL, metric="nope")))

# ---------------------------------------------------------------- qk heads.json
HEADS = {"kind": "reasonscope.qk.heads", "version": 1, "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
         "format": "prontoqa", "template": "{context}\\n{question}\\n{options}Answer:", "rope": "pre",
         "n_layer": 30, "n_head": 9, "n_head_kv": 3, "n_options": 2, "n_calib": 40,
         "top1": {"layer": 14, "head": 3},
         "ensemble": [{"layer": 14, "head": 3, "mu": [0.5, -0.5], "sigma": 1.25},
                      {"layer": 20, "head": 0, "mu": [0.1, -0.1], "sigma": 0.75}],
         "ranking": [{"layer": 14, "head": 3, "calib_balanced_accuracy": 0.9, "calib_margin": 1.5}]}
put("qk_heads", "valid.json", json.dumps(HEADS, indent=2))
put("qk_heads", "post_rope.json", json.dumps(dict(HEADS, rope="post", n_options=3, ensemble=[
    {"layer": 0, "head": 0, "mu": [0, 1, 2], "sigma": 1}])))
put("qk_heads", "edge_ranking_types.json", json.dumps(dict(HEADS, ranking=[{"layer": "x", "head": 1}])))
put("qk_heads", "edge_head_range.json", json.dumps(dict(HEADS, top1={"layer": 30, "head": 0})))
put("qk_heads", "edge_sigma_zero.json", json.dumps(dict(HEADS, ensemble=[{"layer": 1, "head": 1, "mu": [0, 0], "sigma": 0}])))
put("qk_heads", "edge_huge_int.json", json.dumps(HEADS).replace('"n_layer": 30', '"n_layer": 18446744073709551615'))


# ---------------------------------------------------------------- control-vector GGUF
def gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf(kv, tensors, align=32):
    """kv: [(key, type, payload bytes)], tensors: [(name, dims, ggml type, data bytes)]; GGUF v3."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for key, t, payload in kv:
        out += gguf_str(key) + struct.pack("<I", t) + payload
    offsets, off = [], 0
    for name, dims, gt, data in tensors:
        offsets.append(off)
        off += (len(data) + align - 1) // align * align
    for (name, dims, gt, data), o in zip(tensors, offsets):
        out += gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", gt, o)
    out += b"\0" * (-len(out) % align)
    for (name, dims, gt, data) in tensors:
        out += data + b"\0" * (-len(data) % align)
    return out


STR, I32, F32T, F16T = 8, 5, 0, 1


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


CV_KV = [("general.architecture", STR, gguf_str("controlvector")), ("controlvector.model_hint", STR, gguf_str("llama")),
         ("controlvector.layer_count", I32, struct.pack("<i", 2)),
         ("controlvector.reasonscope.method", STR, gguf_str("mean-diff"))]
put("cvec", "two_layers.gguf", gguf(CV_KV, [("direction.1", [4], F32T, f32([1, 2, 3, 4])),
                                            ("direction.5", [4], F32T, f32([0.5, -1, 0, 2]))]))
put("cvec", "f16.gguf", gguf(CV_KV[:2], [("direction.3", [2], F16T, struct.pack("<2e", 1.5, -2.0))]))
put("cvec", "edge_direction0.gguf", gguf(CV_KV, [("direction.0", [2], F32T, f32([1, 2]))]))
put("cvec", "edge_ragged.gguf", gguf(CV_KV, [("direction.1", [2], F32T, f32([1, 2])),
                                             ("direction.2", [3], F32T, f32([1, 2, 3]))]))
put("cvec", "edge_name.gguf", gguf(CV_KV, [("direction.+7", [1], F32T, f32([1])),
                                           ("other", [1], F32T, f32([1]))]))
put("cvec", "edge_model_file.gguf", gguf([("general.architecture", STR, gguf_str("llama"))],
                                         [("direction.1", [1], F32T, f32([1]))]))
put("cvec", "edge_2d.gguf", gguf(CV_KV, [("direction.2", [2, 2], F32T, f32([1, 2, 3, 4]))]))


# ---------------------------------------------------------------- model GGUF (config + tokenizer)
U32, F32V, BOOL, ARR = 4, 6, 7, 9


def u32(x):
    return struct.pack("<I", x)


def arr(t, items):
    return struct.pack("<IQ", t, len(items)) + b"".join(items)


def model_kv(arch, tokens, types, extra_tok):
    kv = [("general.architecture", STR, gguf_str(arch)), (arch + ".block_count", U32, u32(2)),
          (arch + ".embedding_length", U32, u32(8)), (arch + ".feed_forward_length", U32, u32(16)),
          (arch + ".attention.head_count", U32, u32(2)), (arch + ".attention.head_count_kv", U32, u32(1)),
          (arch + ".context_length", U32, u32(64)), (arch + ".rope.freq_base", F32V, struct.pack("<f", 10000.0)),
          (arch + ".attention.layer_norm_rms_epsilon", F32V, struct.pack("<f", 1e-5)),
          ("tokenizer.ggml.tokens", ARR, arr(STR, [gguf_str(t) for t in tokens])),
          ("tokenizer.ggml.token_type", ARR, arr(I32, [struct.pack("<i", t) for t in types])),
          ("tokenizer.ggml.bos_token_id", U32, u32(0)), ("tokenizer.ggml.eos_token_id", U32, u32(1)),
          ("tokenizer.chat_template", STR, gguf_str(CHATML))]
    return kv + extra_tok


g_tokens = ["<|endoftext|>", "<|im_end|>"] + BYTE_SYMS + ["he", "hel"]
g_types = [3, 3] + [1] * 258
gpt2_kv = model_kv("llama", g_tokens, g_types, [
    ("tokenizer.ggml.model", STR, gguf_str("gpt2")), ("tokenizer.ggml.pre", STR, gguf_str("smollm")),
    ("tokenizer.ggml.merges", ARR, arr(STR, [gguf_str("h e"), gguf_str("he l")]))])
embd = lambda n: ("token_embd.weight", [8, n], F32T, f32([0.01 * i for i in range(8 * n)]))
put("gguf", "model_llama_gpt2.gguf", gguf(gpt2_kv, [embd(len(g_tokens))]))
s_tokens = ["<s>", "</s>", "<unk>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581he", "llo"]
s_types = [3, 3, 2] + [6] * 256 + [1, 1]
spm_kv = model_kv("gemma3", s_tokens, s_types, [
    ("tokenizer.ggml.model", STR, gguf_str("llama")),
    ("tokenizer.ggml.scores", ARR, arr(F32V, [struct.pack("<f", -float(i)) for i in range(len(s_tokens))])),
    ("tokenizer.ggml.add_space_prefix", BOOL, b"\x00"),
    ("gemma3.attention.sliding_window", U32, u32(16)), ("gemma3.attention.sliding_window_pattern", U32, u32(2))])
put("gguf", "model_gemma3_spm.gguf", gguf(spm_kv, [embd(len(s_tokens))]))

# ---------------------------------------------------------------- edit safetensors
def safetensors(tensors, metadata):
    """tensors: [(name, dtype, shape, data bytes)]."""
    header, off = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, shape, data in tensors:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
        off += len(data)
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(t[3] for t in tensors)


W = "model.layers.0.self_attn.o_proj.weight"
MD = {"format": "reasonscope.weight_delta.v1", "method": "rome", "identity.arch": "llama",
      "identity.n_layer": "30", "base_mean_abs." + W: "0.0123"}
put("edit", "valid.safetensors", safetensors([(W, "F32", [2, 2], f32([0.1, 0, 0, -0.1]))], MD))
put("edit", "bf16.safetensors", safetensors([(W, "BF16", [2], struct.pack("<2H", 0x3F80, 0xBF80))], MD))
put("edit", "edge_no_format.safetensors", safetensors([(W, "F32", [1], f32([1]))], {"base_mean_abs." + W: "1"}))
put("edit", "edge_bad_mean.safetensors", safetensors([(W, "F32", [1], f32([1]))], dict(MD, **{"base_mean_abs." + W: "abc"})))
put("edit", "edge_nan_mean.safetensors", safetensors([(W, "F32", [1], f32([1]))], dict(MD, **{"base_mean_abs." + W: "nan"})))
put("edit", "edge_int_tensor.safetensors", safetensors([(W, "I32", [1], struct.pack("<i", 3))], MD))
put("edit", "edge_no_tensors.safetensors", safetensors([], MD))
