"""The per-request edit ("reasonscope": {"edit": NAME}, registered with --edit NAME=FILE) and the
QK judge ("verify": ["qk"], --qk-heads FILE) through the official openai client, each checked
against the CLI command that computes the same thing: `generate --weights native --edit FILE`
and `verify qk --weights native --heads FILE`. Own server on native weights (the default for
serving without a calibration), with two edits and saved heads made here by the CLI."""
import json
import os
import re
import subprocess
import threading

import openai
import pytest

from conftest import BIN, THREADS, Server, model_args, request

# CREME's kind of prompt: the edit fitted on the two-hop rows below changes this greedy answer.
EDIT_PROMPT = "The capital of the country where Ericsson has its headquarters is"
PLAIN_PROMPT = "The capital of France is"


def cli(*args):
    return subprocess.run([BIN] + [str(a) for a in args], capture_output=True, text=True, check=True)


@pytest.fixture(scope="module")
def files(tmpdir_session):
    d = os.path.join(tmpdir_session, "ext")
    os.makedirs(d, exist_ok=True)
    m = ["--threads", THREADS] + model_args()
    cli("data", "make", "twohop", "--n", "6", "--seed", "3", "--out", f"{d}/twohop.jsonl")
    for name, layers in (("fix", "8-9"), ("other", "12")):
        cli("edit", "creme", *m, "--data", f"{d}/twohop.jsonl", "--category", "all", "--split", "all", "--limit", "2",
            "--layers", layers, "--templates", "1", "--out", f"{d}/{name}.safetensors")
    cli("data", "make", "prontoqa", "--n", "8", "--seed", "11", "--hops", "1,3", "--out", f"{d}/calib.jsonl")
    cli("data", "make", "prontoqa", "--n", "2", "--seed", "12", "--hops", "3", "--out", f"{d}/new.jsonl")
    cli("verify", "qk", *m, "--bootstrap", "200", "--data", f"{d}/calib.jsonl", "--calib", "4", "--ensemble", "3",
        "--out", f"{d}/qk")
    return d


@pytest.fixture(scope="module")
def ext(files):
    s = Server(["--edit", f"fix={files}/fix.safetensors", "--edit", f"other={files}/other.safetensors",
                "--qk-heads", f"{files}/qk/heads.json", "--max-batch", "8"])
    yield s
    assert s.stop() == 0, s.stderr()


@pytest.fixture(scope="module")
def ext_client(ext):
    with openai.OpenAI(base_url=ext.url + "/v1", api_key="unused", max_retries=0, timeout=120) as c:  # conftest.client
        yield c


def generate_native(*args):
    out = cli("generate", "--weights", "native", "--threads", THREADS, "--json", *model_args(), *args)
    return json.loads(out.stdout)


# ---------------------------------------------------------------------------------------- edit

def test_edit_matches_generate_native_edit(ext_client, files):
    n = 10
    edited = ext_client.completions.create(model="m", prompt=EDIT_PROMPT, max_tokens=n, temperature=0, logprobs=1,
                                           extra_body={"reasonscope": {"edit": "fix"}})
    plain = ext_client.completions.create(model="m", prompt=EDIT_PROMPT, max_tokens=n, temperature=0, logprobs=1)
    ref = generate_native("-p", EDIT_PROMPT, "-n", str(n), "--edit", f"{files}/fix.safetensors")
    ref0 = generate_native("-p", EDIT_PROMPT, "-n", str(n))
    assert edited.choices[0].text == ref["text"] and edited.usage.completion_tokens == len(ref["tokens"])
    assert plain.choices[0].text == ref0["text"]
    # the edit matters here: other tokens, and other log-probabilities from the first one on
    assert edited.choices[0].text != plain.choices[0].text, edited.choices[0].text
    assert edited.choices[0].logprobs.token_logprobs[0] != plain.choices[0].logprobs.token_logprobs[0]
    assert edited.model_extra["reasonscope"] == {"edit": "fix"}
    assert "reasonscope" not in (plain.model_extra or {})


def run(url, body):
    r = request("POST", url + "/v1/completions", body=body)
    assert r.status_code == 200, r.text
    c = r.json()["choices"][0]
    return c["text"], c["logprobs"]["token_logprobs"]


def test_edits_per_row_in_one_batch(ext, files):
    """Rows of one batch carry different edits or none; each gets what it gets alone."""
    reqs = []
    for p in (EDIT_PROMPT, PLAIN_PROMPT, "Once upon a time"):
        for edit in ("fix", "other", None):
            b = {"prompt": p, "max_tokens": 12, "temperature": 0, "logprobs": 0}
            if edit:
                b["reasonscope"] = {"edit": edit}
            reqs.append(b)
    alone = [run(ext.url, b) for b in reqs]
    n_before = batch_steps(ext.url)
    together = [None] * len(reqs)
    threads = [threading.Thread(target=lambda i=i: together.__setitem__(i, run(ext.url, reqs[i]))) for i in range(len(reqs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    multi = batch_steps(ext.url)
    assert multi[1] - n_before[1] > multi[0] - n_before[0]  # some decode steps held several rows
    for i, (a, b) in enumerate(zip(alone, together)):
        assert b is not None and a[0] == b[0], (i, reqs[i], a, b)
        assert max(abs(x - y) for x, y in zip(a[1], b[1])) <= 1e-6, (i, a[1], b[1])
    # the two edits and none give three different answers on the edited prompt
    assert len({alone[0][0], alone[1][0], alone[2][0]}) == 3, alone[:3]


def batch_steps(url):
    """(decode steps of one sequence, all decode steps) from /metrics."""
    m = request("GET", url + "/metrics").text
    le1 = int(re.search(r'^reasonscope_batch_size_bucket\{le="1(?:\.0)?"\} (\d+)', m, re.M).group(1))
    return le1, int(re.search(r"^reasonscope_batch_size_count (\d+)", m, re.M).group(1))


def test_unregistered_or_malformed_edit_is_400(ext, ext_client):
    with pytest.raises(openai.BadRequestError) as e:
        ext_client.completions.create(model="m", prompt="hi", max_tokens=1, extra_body={"reasonscope": {"edit": "nope"}})
    err = e.value.body
    assert err["code"] == "unknown_edit" and err["param"] == "reasonscope.edit"
    assert "no edit named 'nope'" in err["message"] and "fix, other" in err["message"]
    r = request("POST", ext.url + "/v1/completions", body={"prompt": "hi", "reasonscope": {"edit": 3}})
    assert r.status_code == 400 and r.json()["error"]["param"] == "reasonscope.edit"
    # and the server keeps serving
    assert ext_client.completions.create(model="m", prompt="hi", max_tokens=1).usage.completion_tokens == 1


def test_serve_edit_needs_a_name(files):
    """In serve, --edit registers NAME=FILE; a bare FILE is one usage error (exit 2), before any load."""
    p = subprocess.run([BIN, "serve", "--port", "0", "--edit", f"{files}/fix.safetensors"] + model_args(),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "serve registers edits by name and a request selects one" in lines[0], p.stderr
    # a command without hook edits refuses an edit on native weights, and says how to get one
    t = subprocess.run([BIN, "trace", "--weights", "native", "--threads", THREADS, "--edit", f"{files}/fix.safetensors",
                        "-p", "hi", "--hooks", "blocks.0.hook_resid_post", "--out", f"{files}/t.safetensors"] +
                       model_args(), capture_output=True, text=True, timeout=120)
    assert t.returncode == 2 and "--weights dequant" in t.stderr, t.stderr


# ------------------------------------------------------------------------------------------ qk

def qk_prompt(row):
    """verify qk's default template for a prontoqa row, options as given."""
    return f"{row['context']}\n{row['query']}\nTrue\nFalse\nAnswer:"


def test_qk_matches_verify_qk(ext_client, files):
    row = json.loads(open(f"{files}/new.jsonl").readline())
    c = ext_client.completions.create(model="m", prompt=qk_prompt(row), max_tokens=2, temperature=0,
                                      extra_body={"reasonscope": {"verify": ["qk"]}})
    v = c.model_extra["reasonscope"]["verify"]["qk"]
    one = f"{files}/one.jsonl"
    with open(one, "w") as f:
        f.write(json.dumps({k: row[k] for k in ("id", "hops", "context", "query")}) + "\n")  # unlabelled
    cli("verify", "qk", "--weights", "native", "--threads", THREADS, *model_args(), "--heads", f"{files}/qk/heads.json",
        "--data", one, "--out", f"{files}/qk_one")
    ref = json.loads(open(f"{files}/qk_one/examples.jsonl").readline())
    assert v["in_template"] is True and v["options"] == ["True", "False"]
    assert v["choice"] == ref["prediction"] and v["choice_index"] == ref["ensemble"]["prediction"]
    for judge in ("ensemble", "top1", "baseline_first_token", "baseline_sequence"):
        want = {k: x for k, x in ref[judge].items() if k != "correct"}
        assert v[judge] == want, (judge, v[judge], want)
    # the options shown the other way round are the same question: the same two prompts scored
    swapped = qk_prompt(row).replace("True\nFalse\n", "False\nTrue\n")
    s = ext_client.completions.create(model="m", prompt=swapped, max_tokens=1, temperature=0,
                                      extra_body={"reasonscope": {"verify": ["qk"]}})
    assert s.model_extra["reasonscope"]["verify"]["qk"]["ensemble"] == v["ensemble"]
    # the stream's last chunk, and a chat whose user message is the question, carry the same object
    chunks = list(ext_client.completions.create(model="m", prompt=qk_prompt(row), max_tokens=2, temperature=0,
                                                stream=True, extra_body={"reasonscope": {"verify": ["qk"]}}))
    assert chunks[-1].model_extra["reasonscope"]["verify"]["qk"]["ensemble"] == v["ensemble"]
    chat = ext_client.chat.completions.create(model="m", max_tokens=2, temperature=0,
                                              messages=[{"role": "user", "content": qk_prompt(row)}],
                                              extra_body={"reasonscope": {"verify": ["qk"]}})
    assert chat.model_extra["reasonscope"]["verify"]["qk"]["top1"] == v["top1"]


def test_qk_outside_the_template_says_so(ext_client):
    c = ext_client.completions.create(model="m", prompt=PLAIN_PROMPT, max_tokens=2, temperature=0,
                                      extra_body={"reasonscope": {"verify": ["qk"], "edit": "fix"}})
    v = c.model_extra["reasonscope"]["verify"]["qk"]
    assert v["in_template"] is False and "template" in v["reason"], v
    assert c.model_extra["reasonscope"]["edit"] == "fix"
    # options that are not True and False, for prontoqa heads
    c = ext_client.completions.create(model="m", prompt="Some facts.\nTrue or false: x.\nYes\nNo\nAnswer:",
                                      max_tokens=1, extra_body={"reasonscope": {"verify": ["qk"]}})
    v = c.model_extra["reasonscope"]["verify"]["qk"]
    assert v["in_template"] is False and "True and False" in v["reason"], v


def test_qk_without_heads_is_400(client, model_id):
    """The shared server has no --qk-heads."""
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=model_id, prompt="hi", max_tokens=1, extra_body={"reasonscope": {"verify": ["qk"]}})
    assert e.value.body["code"] == "verifier_not_configured" and "--qk-heads" in e.value.body["message"]
