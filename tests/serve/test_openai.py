"""`reasonscope serve` through the official openai client, unchanged: completions, chat, streaming,
logprobs, sampling options, and the reasonscope extensions (steer, verify) checked against the
CLI commands that compute the same thing."""
import json
import os
import subprocess

from conftest import API_KEY, BIN, STEER_FILE, THREADS, model_args, request, stream_lines

PROMPT = "The capital of France is"


def test_models_and_health(server, client, model_id):
    assert model_id and client.models.retrieve(model_id).id == model_id
    r = request("GET", server.url + "/health")  # no key needed
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_completion(client, model_id):
    c = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=8, temperature=0)
    assert "Paris" in c.choices[0].text, c
    assert c.choices[0].finish_reason == "length"
    assert c.usage.completion_tokens == 8 and c.usage.prompt_tokens > 3
    assert c.usage.total_tokens == c.usage.prompt_tokens + 8


def test_chat(client, model_id):
    c = client.chat.completions.create(model=model_id, max_tokens=40, temperature=0,
                                       messages=[{"role": "user", "content": "What is the capital of France?"}])
    m = c.choices[0]
    assert m.message.role == "assistant" and "Paris" in m.message.content, c
    assert m.finish_reason == "stop"  # the end-of-turn token, well before 40 tokens


def test_chat_stream_equals_non_stream(client, model_id):
    msgs = [{"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": "Name three colours."}]
    full = client.chat.completions.create(model=model_id, messages=msgs, max_tokens=24, temperature=0)
    chunks = list(client.chat.completions.create(model=model_id, messages=msgs, max_tokens=24, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == full.choices[0].message.content
    finals = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == full.choices[0].finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == full.usage.completion_tokens


def test_stream_wire_format(server, model_id):
    """Raw SSE: every event is `data: <json>`, the last one `data: [DONE]`."""
    body = {"model": model_id, "prompt": PROMPT, "max_tokens": 6, "temperature": 0, "stream": True}
    st = {}
    events = [line for line in stream_lines(server.url + "/v1/completions", body,
                                            {"Authorization": f"Bearer {API_KEY}"}, status=st)
              if line.startswith("data: ")]
    assert st["code"] == 200 and st["content_type"].startswith("text/event-stream")
    assert events[-1] == "data: [DONE]"
    objs = [json.loads(e[6:]) for e in events[:-1]]
    assert all(o["object"] == "text_completion" and o["id"] == objs[0]["id"] for o in objs)
    assert "Paris" in "".join(o["choices"][0]["text"] for o in objs)
    assert objs[-1]["choices"][0]["finish_reason"] == "length"


def test_logprobs(client, model_id):
    c = client.chat.completions.create(model=model_id, max_tokens=10, temperature=0, logprobs=True, top_logprobs=3,
                                       messages=[{"role": "user", "content": "What is 2 + 2?"}])
    content = c.choices[0].logprobs.content
    n_text = c.usage.completion_tokens - (1 if c.choices[0].finish_reason == "stop" else 0)
    assert len(content) == n_text and "".join(t.token for t in content) == c.choices[0].message.content
    for t in content:
        assert t.logprob <= 0 and len(t.top_logprobs) == 3
        # greedy: the chosen token is the likeliest one
        assert abs(t.top_logprobs[0].logprob - t.logprob) < 1e-9 and t.top_logprobs[0].token == t.token
    cp = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=5, temperature=0, logprobs=2)
    lp = cp.choices[0].logprobs
    assert len(lp.tokens) == 5 and "".join(lp.tokens) == cp.choices[0].text
    assert all(len(t) <= 2 for t in lp.top_logprobs) and all(x <= 0 for x in lp.token_logprobs)


def test_seed_and_stop(client, model_id):
    def sample(seed):
        return client.completions.create(model=model_id, prompt="Once upon a time", max_tokens=24, temperature=1.0,
                                         top_p=0.95, seed=seed).choices[0].text
    a, b, c = sample(11), sample(11), sample(12)
    assert a == b and a != c
    s = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=20, temperature=0, stop=["Paris"])
    assert s.choices[0].finish_reason == "stop" and "Paris" not in s.choices[0].text


def generate_cli(*args):
    out = subprocess.run([BIN, "generate", "--weights", "dequant", "--threads", THREADS, "--json"] + model_args() +
                         list(args), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_steer_matches_generate(client, model_id):
    """extra_body steer == `generate --steer FILE --steer-alpha A`: the same greedy tokens."""
    n, alpha = 16, 12.0
    steered = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=n, temperature=0, logprobs=0,
                                        extra_body={"reasonscope": {"steer": [{"vector": "reason", "alpha": alpha}]}})
    plain = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=n, temperature=0)
    ref = generate_cli("-p", PROMPT, "-n", str(n), "--steer", STEER_FILE, "--steer-alpha", str(alpha))
    ref0 = generate_cli("-p", PROMPT, "-n", str(n))
    assert steered.choices[0].text == ref["text"] and steered.usage.completion_tokens == len(ref["tokens"])
    assert plain.choices[0].text == ref0["text"]
    assert steered.choices[0].text != plain.choices[0].text  # the vector changes the answer
    assert steered.model_extra["reasonscope"]["steer"] == [{"vector": "reason", "alpha": alpha}]


def test_verify_matches_cli(client, model_id, cal_path, tmpdir_session):
    """verify spectral in the response == `verify spectral --calibration` on prompt + completion."""
    prompt = "If all cats are animals and Tom is a cat, then"
    c = client.completions.create(model=model_id, prompt=prompt, max_tokens=12, temperature=0,
                                  extra_body={"reasonscope": {"verify": ["spectral"]}})
    v = c.model_extra["reasonscope"]["verify"]["spectral"]
    data = os.path.join(tmpdir_session, "verify.jsonl")
    with open(data, "w") as f:
        f.write(json.dumps({"text": prompt + c.choices[0].text}) + "\n")
    out = os.path.join(tmpdir_session, "verify_out")
    subprocess.run([BIN, "verify", "spectral", "--threads", THREADS, "--data", data, "--calibration", cal_path,
                    "--out", out] + model_args(), capture_output=True, check=True)
    with open(os.path.join(out, "examples.jsonl")) as f:
        row = json.loads(f.readline())
    assert v["score"] == row["score"] and v["prediction"] == row["prediction"]
    assert v["verdict"] == ("valid" if row["prediction"] == 1 else "invalid")
    assert v["layer"] == 3 and v["metric"] == "fiedler" and v["token_count"] == row["token_count"]
    # the stream's last chunk carries the same object
    chunks = list(client.completions.create(model=model_id, prompt=prompt, max_tokens=12, temperature=0, stream=True,
                                            extra_body={"reasonscope": {"verify": ["spectral"]}}))
    assert chunks[-1].model_extra["reasonscope"]["verify"]["spectral"]["score"] == v["score"]


def test_metrics(server, client, model_id):
    client.completions.create(model=model_id, prompt=PROMPT, max_tokens=2, temperature=0)
    r = request("GET", server.url + "/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    t = r.text
    for name in ["reasonscope_requests_total{path=\"/v1/completions\",status=\"200\"}",
                 "reasonscope_prompt_tokens_total", "reasonscope_completion_tokens_total",
                 "reasonscope_queue_depth", "reasonscope_time_to_first_token_seconds_bucket{le=\"+Inf\"}",
                 "reasonscope_time_per_output_token_seconds_count"]:
        assert name in t, name
