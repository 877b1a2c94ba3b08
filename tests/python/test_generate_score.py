"""generate (KV cache, hooks at every step) and score, against the CLI's commands."""
import json

import torch

from conftest import THREADS

PROMPT = "The capital of France is"


def cli_generate(cli, model_path, *extra, n=10):
    out = cli("generate", "--model", model_path, "--threads", THREADS, "--weights", "dequant", "--json",
              "-n", n, "--prompt", PROMPT, *extra).stdout
    return json.loads(out)


def test_greedy_generate_matches_cli(model, cli, model_path):
    ref = cli_generate(cli, model_path)
    g = model.generate(PROMPT, max_new_tokens=10, do_sample=False, return_type="generations")[0]
    assert g["tokens"] == ref["tokens"]
    assert model.generate(PROMPT, max_new_tokens=10, do_sample=False) == PROMPT + ref["text"]
    toks = model.generate(model.to_tokens(PROMPT), max_new_tokens=10, do_sample=False)
    assert toks[0].tolist() == model.to_tokens(PROMPT)[0].tolist() + ref["tokens"]


def test_hooks_act_at_every_step_with_the_cache(model, cli, model_path):
    shapes = []

    def zero_heads(z, hook):
        shapes.append(tuple(z.shape))
        z = z.clone()
        z[:, :, [0, 3]] = 0
        return z

    ref = cli_generate(cli, model_path, "--ablate-head", "5:0,3")
    g = model.generate(PROMPT, max_new_tokens=10, do_sample=False, stop_at_eos=False,
                       fwd_hooks=[("blocks.5.attn.hook_z", zero_heads)], return_type="generations")[0]
    assert g["tokens"] == ref["tokens"][: len(g["tokens"])] and len(g["tokens"]) == 10
    T = len(model.to_tokens(PROMPT)[0])
    # prefill sees the prompt, then one position per step: the KV cache is in use
    assert shapes[0][1] == T and all(s[1] == 1 for s in shapes[1:]) and len(shapes) == 10
    # the same hook without the cache (every step recomputes everything) gives the same tokens
    shapes.clear()
    g2 = model.generate(PROMPT, max_new_tokens=10, do_sample=False, stop_at_eos=False, use_past_kv_cache=False,
                        fwd_hooks=[("blocks.5.attn.hook_z", zero_heads)], return_type="generations")[0]
    assert g2["tokens"] == g["tokens"] and shapes[-1][1] == T + 9
    # m.hooks() context applies to generate too
    with model.hooks(fwd_hooks=[("blocks.5.attn.hook_z", zero_heads)]):
        g3 = model.generate(PROMPT, max_new_tokens=10, do_sample=False, stop_at_eos=False, return_type="generations")[0]
    assert g3["tokens"] == g["tokens"]


def test_sampling_is_seeded(model):
    a = model.generate(PROMPT, max_new_tokens=8, temperature=0.9, seed=3, return_type="generations")[0]
    b = model.generate(PROMPT, max_new_tokens=8, temperature=0.9, seed=3, return_type="generations")[0]
    assert a["tokens"] == b["tokens"]


def test_score_matches_cli(model, cli, model_path, tmp_path):
    texts = ["The cat sat on the mat.", "Paris is the capital of France, and Berlin is the capital of Germany."]
    data = tmp_path / "t.jsonl"
    data.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    cli("score", "--model", model_path, "--threads", THREADS, "--data", data, "--field", "text",
        "--token-logprobs", "--out", tmp_path / "o")
    ref = [json.loads(l) for l in (tmp_path / "o" / "examples.jsonl").read_text().splitlines()]
    got = model.score(texts)
    for g, r in zip(got, ref):
        assert len(g["tokens"]) == r["n_tokens"] and len(g["token_logprobs"]) == r["n_tokens"] - 1
        assert g["token_logprobs"] == r["token_logprobs"]          # the same computation: bitwise
        assert abs(g["sum_logprob"] - r["sum_logprob"]) < 1e-9
    # a steering-like hook changes the scores
    bumped = model.score(texts[0], fwd_hooks=[("blocks.10.hook_resid_post", lambda x, h: x * 1.5)])
    assert bumped["token_logprobs"] != got[0]["token_logprobs"]
