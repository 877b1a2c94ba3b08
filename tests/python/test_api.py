"""The model API (README "Python"): TransformerLens names and semantics, zero-copy tensors,
interventions against the CLI's, errors, threads."""
import gc
import json
import os
import threading
import time

import pytest
import torch

import reasonscope
from conftest import THREADS, read_safetensors

PROMPTS = ["The capital of France is", "Two plus two equals four, and three plus three"]


def test_cfg_matches_cli_info(model, cli, model_path):
    info = json.loads(cli("info", "--model", model_path, "--json").stdout)
    c = model.cfg
    assert (c.n_layers, c.d_model, c.n_heads, c.n_key_value_heads, c.d_head, c.d_mlp, c.d_vocab, c.n_ctx,
            c.architecture) == (info["n_layer"], info["d_model"], info["n_head"], info["n_head_kv"], info["d_head"],
                                info["d_ff"], info["n_vocab"], info["context_length"], info["architecture"])
    assert (c.n_layers, c.d_model, c.n_heads, c.n_key_value_heads) == (30, 576, 9, 3)
    assert model.pad_token_id == info["tokenizer"]["pad"]["id"]


def test_tokens_round_trip_and_padding(model):
    t = model.to_tokens(PROMPTS)
    assert t.dtype == torch.int64 and t.dim() == 2 and t.shape[0] == 2
    lens = [len(model.to_tokens(p)[0]) for p in PROMPTS]
    assert t.shape[1] == max(lens)
    pad = model.pad_token_id
    short = lens.index(min(lens))
    assert (t[short, min(lens):] == pad).all()           # right padding by default (TransformerLens)
    left = model.to_tokens(PROMPTS, padding_side="left")
    assert (left[short, : max(lens) - min(lens)] == pad).all()
    assert model.to_string(model.to_tokens(PROMPTS[0])[0]) == PROMPTS[0]
    assert model.to_string(t[1, :lens[1]]) == PROMPTS[1]
    st = model.to_str_tokens(PROMPTS[0])
    assert "".join(st) == PROMPTS[0] and len(st) == lens[0]
    assert model.to_str_tokens(PROMPTS)[1] == model.to_str_tokens(PROMPTS[1])
    bos = model.to_tokens("x", prepend_bos=True)[0, 0].item()
    assert bos == model._m.bos_id


def test_forward_batch_equals_rows_alone(model):
    """Right padding: real positions exact; left padding: masked, column -1 is each row's last."""
    alone = [model(p)[0] for p in PROMPTS]
    for side in ("right", "left"):
        logits = model(model.to_tokens(PROMPTS, padding_side=side))
        assert logits.shape[:2] == model.to_tokens(PROMPTS).shape and logits.shape[2] == model.cfg.d_vocab
        for i, a in enumerate(alone):
            n = a.shape[0]
            got = logits[i, :n] if side == "right" else logits[i, -n:]
            torch.testing.assert_close(got, a, rtol=0, atol=2e-4)


def test_run_with_cache_names_and_shapes(model):
    tokens = model.to_tokens(PROMPTS[0])
    T = tokens.shape[1]
    logits, cache = model.run_with_cache(tokens)
    assert set(cache) == set(model.hook_names)
    c = model.cfg
    assert cache["blocks.3.hook_resid_post"].shape == (1, T, c.d_model)
    assert cache["blocks.3.attn.hook_pattern"].shape == (1, c.n_heads, T, T)
    assert cache["blocks.3.attn.hook_q"].shape == (1, T, c.n_heads, c.d_head)
    assert cache["blocks.3.attn.hook_k"].shape == (1, T, c.n_key_value_heads, c.d_head)
    assert cache["hook_embed"].shape == (1, T, c.d_model)
    pat = cache["blocks.0.attn.hook_pattern"][0]
    torch.testing.assert_close(pat.sum(-1), torch.ones(c.n_heads, T))
    assert float(pat.triu(1).abs().max()) == 0.0                      # causal
    assert cache["resid_post", 3] is cache["blocks.3.hook_resid_post"]  # TL short keys
    assert ("pattern", 0) in cache
    # resid_post of a block is the next block's resid_pre
    torch.testing.assert_close(cache["blocks.3.hook_resid_post"], cache["blocks.4.hook_resid_pre"], rtol=0, atol=0)
    torch.testing.assert_close(logits, model(tokens), rtol=0, atol=0)
    # names_filter: list, callable, pattern
    _, c1 = model.run_with_cache(tokens, names_filter=["blocks.2.hook_resid_post", "blocks.5.attn.hook_pattern"])
    assert set(c1) == {"blocks.2.hook_resid_post", "blocks.5.attn.hook_pattern"}
    _, c2 = model.run_with_cache(tokens, names_filter=lambda n: n.endswith("hook_resid_post"))
    assert sorted(c2) == sorted(f"blocks.{l}.hook_resid_post" for l in range(c.n_layers))
    _, c3 = model.run_with_cache(tokens, names_filter="blocks.*.attn.hook_pattern")
    assert len(c3) == c.n_layers
    torch.testing.assert_close(c1["blocks.2.hook_resid_post"], cache["blocks.2.hook_resid_post"], rtol=0, atol=0)


def test_unknown_hook_name_names_the_nearest(model):
    with pytest.raises(reasonscope.Error, match="hook_resid_post"):
        model.run_with_cache(model.to_tokens("hi"), names_filter=["blocks.2.hook_resid_pots"])


def test_hook_sees_every_point_with_its_name(model):
    seen = []

    def fn(x, hook):
        seen.append((hook.name, hook.layer(), tuple(x.shape)))

    tokens = model.to_tokens(PROMPTS[0])
    model.run_with_hooks(tokens, fwd_hooks=[(lambda n: n.endswith("hook_z"), fn), ("hook_embed", fn)])
    assert [s[0] for s in seen] == ["hook_embed"] + [f"blocks.{l}.attn.hook_z" for l in range(30)]
    assert seen[3][1] == 2 and seen[0][1] is None


def test_replacing_hook_matches_cli_ablation(model, cli, model_path, tmp_path):
    """A Python hook that zeroes heads 0 and 3 of block 5 gives the residual stream the CLI's
    --ablate-head 5:0,3 gives (trace, same model file, same threads)."""
    prompt = PROMPTS[1]
    last = "blocks.29.hook_resid_post"
    out = {}
    for tag, extra in (("plain", []), ("ablated", ["--ablate-head", "5:0,3"])):
        path = tmp_path / f"{tag}.safetensors"
        cli("trace", "--model", model_path, "--threads", THREADS, "--prompt", prompt, "--hooks", last,
            "--positions", "all", "--out", path, *extra)
        out[tag] = read_safetensors(str(path))[last]

    def zero_heads(z, hook):
        z = z.clone()
        z[:, :, [0, 3]] = 0
        return z

    tokens = model.to_tokens(prompt)
    _, plain = model.run_with_cache(tokens, names_filter=[last])
    with model.hooks(fwd_hooks=[("blocks.5.attn.hook_z", zero_heads)]):
        _, ablated = model.run_with_cache(tokens, names_filter=[last])
    torch.testing.assert_close(plain[last][0], out["plain"], rtol=0, atol=1e-5)
    torch.testing.assert_close(ablated[last][0], out["ablated"], rtol=0, atol=1e-5)
    assert float((out["ablated"] - out["plain"]).abs().max()) > 1e-2   # the ablation did something
    # in-place edit + None is the same intervention
    def zero_in_place(z, hook):
        z[:, :, [0, 3]] = 0
    logits_a = model.run_with_hooks(tokens, fwd_hooks=[("blocks.5.attn.hook_z", zero_heads)])
    logits_b = model.run_with_hooks(tokens, fwd_hooks=[("blocks.5.attn.hook_z", zero_in_place)])
    torch.testing.assert_close(logits_a, logits_b, rtol=0, atol=0)


def test_zero_copy_cache_shares_storage_with_hook(model):
    """What a hook saw and what the cache holds are one tensor's storage: no copy anywhere."""
    seen = {}

    def grab(x, hook):
        seen[hook.name] = x

    names = ["blocks.4.hook_resid_post", "blocks.4.attn.hook_pattern"]
    with model.hooks(fwd_hooks=[(n, grab) for n in names]):
        _, cache = model.run_with_cache(model.to_tokens(PROMPTS[0]), names_filter=names)
    for n in names:
        assert cache[n].data_ptr() == seen[n].data_ptr()
        assert cache[n].storage().data_ptr() == seen[n].storage().data_ptr()


def test_tensor_outlives_its_model(model_path):
    m = reasonscope.load(model_path)
    logits, cache = m.run_with_cache(m.to_tokens("hello there"), names_filter=["blocks.1.hook_resid_post"])
    r = cache["blocks.1.hook_resid_post"]
    expect = float(r.double().sum())
    del m, cache
    gc.collect()
    junk = [torch.randn(1000, 1000) for _ in range(4)]   # reuse freed memory if it were freed
    assert float(r.double().sum()) == expect and torch.isfinite(logits).all()
    del junk


def test_cpp_errors_are_python_exceptions_with_the_cli_message(cli, tmp_path):
    missing = tmp_path / "nope.gguf"
    p = cli("info", "--model", missing, check=False)
    assert p.returncode != 0 and p.stderr.startswith("error: ")
    with pytest.raises(reasonscope.Error) as e:
        reasonscope.load(str(missing))
    assert str(e.value) == p.stderr.strip()[len("error: "):]
    assert e.value.exit_code == p.returncode
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    p = cli("info", "--model", bad, check=False)
    with pytest.raises(reasonscope.Error) as e:
        reasonscope.load(str(bad))
    assert str(e.value) == p.stderr.strip()[len("error: "):] and e.value.exit_code == p.returncode
    assert isinstance(e.value, RuntimeError)


def test_hook_errors_propagate(model):
    def boom(x, hook):
        raise KeyError("from the hook")
    with pytest.raises(KeyError, match="from the hook"):
        model.run_with_hooks(model.to_tokens("hi"), fwd_hooks=[("blocks.1.hook_resid_post", boom)])
    with pytest.raises(reasonscope.Error, match="different shape"):
        model.run_with_hooks(model.to_tokens("hi"), fwd_hooks=[("blocks.1.hook_resid_post", lambda x, h: x[..., :10])])
    with pytest.raises(reasonscope.Error, match="expected a torch.Tensor"):
        model.run_with_hooks(model.to_tokens("hi"), fwd_hooks=[("blocks.1.hook_resid_post", lambda x, h: 3)])
    # the model still works afterwards
    assert model(model.to_tokens("hi")).shape[0] == 1


def test_two_threads_run_forwards_concurrently(model):
    """Both threads get the single-threaded answers, and the GIL is free during a forward (a
    Python thread keeps counting while two forwards run)."""
    tokens = [model.to_tokens(p) for p in PROMPTS]
    expect = [model(t) for t in tokens]
    results, errors = {}, []
    ticks = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1

    def work(i):
        try:
            for _ in range(3):
                results.setdefault(i, []).append(model(tokens[i]))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    counter = threading.Thread(target=count)
    counter.start()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    counter.join()
    assert not errors, errors
    for i in range(2):
        for r in results[i]:
            torch.testing.assert_close(r, expect[i], rtol=0, atol=1e-5)
    assert ticks[0] > 1000, f"the Python thread counted only {ticks[0]} in {time.perf_counter() - t0:.2f} s"


def test_stop_at_layer_and_loss(model):
    tokens = model.to_tokens(PROMPTS[1])
    _, cache = model.run_with_cache(tokens, names_filter=["blocks.4.hook_resid_post"])
    resid = model(tokens, stop_at_layer=5)
    torch.testing.assert_close(resid, cache["blocks.4.hook_resid_post"], rtol=0, atol=0)
    loss = model(tokens, return_type="loss")
    s = model.score(PROMPTS[1])
    assert abs(float(loss) + s["mean_logprob"]) < 1e-4
