"""Continuous batching (issue 20, point 4): concurrent requests share decode steps, each with its
own steering, sampling and stop rules, and each gets exactly what it gets alone. Own server on
native weights (the default for serving without a calibration)."""
import json
import re
import subprocess
import threading

from conftest import BIN, STEER_FILE, THREADS, Server, model_args, request, stream_lines

PROMPTS = ["The capital of France is", "If all cats are animals and Tom is a cat, then",
           "Once upon a time", "def fibonacci(n):"]


def bodies():
    out = []
    for i, p in enumerate(PROMPTS):
        out.append({"prompt": p, "max_tokens": 20, "temperature": 0, "logprobs": 2})
        out.append({"prompt": p, "max_tokens": 16, "temperature": 0,
                    "reasonscope": {"steer": [{"vector": "reason", "alpha": 12.0 if i % 2 else -8.0}]}})
    out.append({"prompt": PROMPTS[2], "max_tokens": 24, "temperature": 1.0, "top_p": 0.9, "seed": 5})
    out.append({"prompt": PROMPTS[0], "max_tokens": 30, "temperature": 0, "stop": [" population"]})
    out.append({"messages": [{"role": "user", "content": "What is 2 + 2?"}], "max_tokens": 12, "temperature": 0})
    return out


def run(url, body, stream):
    """(text, finish_reason, completion_tokens, token log-probs) of one request."""
    path = "/v1/chat/completions" if "messages" in body else "/v1/completions"
    if not stream:
        r = request("POST", url + path, body=body)
        assert r.status_code == 200, r.text
        c = r.json()["choices"][0]
        text = c["message"]["content"] if "messages" in body else c["text"]
        lps = c["logprobs"]["token_logprobs"] if c.get("logprobs") else None
        return text, c["finish_reason"], r.json()["usage"]["completion_tokens"], lps
    body = dict(body, stream=True, stream_options={"include_usage": True})
    text, finish, usage, lps = "", None, None, []
    lines = [x for x in stream_lines(url + path, body) if x.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    for x in lines[:-1]:
        o = json.loads(x[6:])
        if o.get("usage"):
            usage = o["usage"]["completion_tokens"]
        for c in o["choices"]:
            text += c["delta"].get("content", "") if "messages" in body else c["text"]
            finish = c["finish_reason"] or finish
            if c.get("logprobs"):
                lps += c["logprobs"]["token_logprobs"]
    return text, finish, usage, (lps if "logprobs" in body else None)


def batch_sizes(url):
    m = request("GET", url + "/metrics").text
    le1 = int(re.search(r'^reasonscope_batch_size_bucket\{le="1(?:\.0)?"\} (\d+)', m, re.M).group(1))
    n = int(re.search(r"^reasonscope_batch_size_count (\d+)", m, re.M).group(1))
    return le1, n


def test_batched_equals_alone():
    s = Server(["--steer", f"reason={STEER_FILE}", "--max-batch", "16"])
    try:
        reqs = bodies()
        alone = [run(s.url, b, stream=False) for b in reqs]
        le1_before, n_before = batch_sizes(s.url)
        assert le1_before == n_before  # one at a time: every step had one sequence
        together = [None] * len(reqs)

        def worker(i):
            together[i] = run(s.url, reqs[i], stream=i % 2 == 1)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(reqs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        le1, n = batch_sizes(s.url)
        assert n - n_before > le1 - le1_before  # some decode steps ran several sequences
        worst = 0.0
        for i, (a, b) in enumerate(zip(alone, together)):
            assert b is not None, i
            assert a[:3] == b[:3], (i, reqs[i], a, b)  # text, finish_reason, completion_tokens
            if a[3] is not None:
                assert len(a[3]) == len(b[3])
                worst = max([worst] + [abs(x - y) for x, y in zip(a[3], b[3])])
        print(f"batched vs alone: max |log-prob diff| = {worst:g}")
        assert worst <= 1e-6
        # steering did something, and the stop string and chat rules held
        assert alone[1][0] != run(s.url, dict(reqs[1], reasonscope={}), stream=False)[0]
        assert alone[-2][1] == "stop" and alone[-2][0].endswith("has a")
        # the same steered greedy tokens as `generate --weights native --steer` (the CLI loop)
        ref = json.loads(subprocess.run(
            [BIN, "generate", "--weights", "native", "--threads", THREADS, "--json"] + model_args() +
            ["-p", PROMPTS[1], "-n", "16", "--steer", STEER_FILE, "--steer-alpha", "12.0"],
            capture_output=True, text=True, check=True).stdout)
        assert alone[3][0] == ref["text"]
    finally:
        assert s.stop() == 0, s.stderr()
