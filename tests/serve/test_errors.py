"""Bad input (issue 20, acceptance 2): each gets the right 4xx with an OpenAI error body
{"error": {"message", "type", "param", "code"}}, and the server serves the next request.
Start-up errors exit with rs::ExitCode statuses naming the file."""
import os
import subprocess

import openai
import pytest

from conftest import API_KEY, BIN, THREADS, model_args, request

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def post(server, path, body=None, content=None, headers=AUTH):
    return request("POST", server.url + path, body=body, raw=content, headers=headers)


def still_serves(server):
    r = post(server, "/v1/completions", {"prompt": "Hello", "max_tokens": 1, "temperature": 0})
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] == 1


def check_error(r, status, code=None, param=None):
    assert r.status_code == status, r.text
    e = r.json()["error"]
    assert isinstance(e["message"], str) and e["message"] and isinstance(e["type"], str)
    if code:
        assert e["code"] == code, e
    if param:
        assert e["param"] == param, e
    return e


@pytest.mark.parametrize("path,body,status,code,param", [
    ("/v1/completions", b"{not json", 400, "invalid_json", None),
    ("/v1/completions", b"[1, 2]", 400, "invalid_json", None),
    ("/v1/completions", {"prompt": "hi", "temperature": "hot"}, 400, None, "temperature"),
    ("/v1/completions", {"prompt": "hi", "max_tokens": "ten"}, 400, None, "max_tokens"),
    ("/v1/completions", {"prompt": "hi", "stream": "yes"}, 400, None, "stream"),
    ("/v1/completions", {"prompt": 42}, 400, None, "prompt"),
    ("/v1/completions", {"prompt": "hi", "n": 2}, 400, None, "n"),
    ("/v1/completions", {"prompt": "hi", "top_p": 1.5}, 400, None, "top_p"),
    ("/v1/completions", {"prompt": [1, 2, 10 ** 9]}, 400, None, "prompt"),
    ("/v1/completions", {}, 400, "missing_required_parameter", "prompt"),
    ("/v1/chat/completions", {"messages": "hi"}, 400, None, "messages"),
    ("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "hi"}]}, 400, None, "messages[0].role"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "logprobs": 3}, 400, None, "logprobs"),
    ("/v1/completions", {"prompt": "hi", "reasonscope": {"steer": [{"vector": "nope", "alpha": 1}]}}, 400,
     "unknown_vector", "reasonscope.steer"),
    ("/v1/completions", {"prompt": "hi", "reasonscope": {"steer": [{"vector": "/etc/passwd"}]}}, 400,
     "unknown_vector", None),
    ("/v1/completions", {"prompt": "hi", "reasonscope": {"verify": ["astrology"]}}, 400, None, "reasonscope.verify"),
    ("/v1/completions", {"prompt": "hi", "reasonscope": "steer"}, 400, None, "reasonscope"),
    ("/v1/completions", {"prompt": "hi", "max_tokens": 513}, 400, "max_tokens_exceeded", "max_tokens"),
    ("/v1/completions", {"prompt": "hi", "max_tokens": 10 ** 20}, 400, None, "max_tokens"),
    ("/v1/completions", {"prompt": "hi", "max_tokens": -1}, 400, None, "max_tokens"),
])
def test_bad_request(server, path, body, status, code, param):
    if isinstance(body, bytes):
        r = post(server, path, content=body, headers={**AUTH, "Content-Type": "application/json"})
    else:
        r = post(server, path, body)
    check_error(r, status, code, param)
    still_serves(server)


def test_prompt_over_context(server):
    # SmolLM2's context is 8192 tokens: 9000 words are more
    r = post(server, "/v1/completions", {"prompt": "word " * 9000, "max_tokens": 4})
    check_error(r, 400, "context_length_exceeded", "prompt")
    still_serves(server)


def test_body_too_large(server):
    r = post(server, "/v1/completions", {"prompt": "x" * 300000})
    check_error(r, 413)
    still_serves(server)


def test_unknown_route(server):
    r = request("GET", server.url + "/v1/nothing", headers=AUTH)
    check_error(r, 404)
    still_serves(server)


def test_api_key(server):
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}]:
        r = post(server, "/v1/completions", {"prompt": "hi", "max_tokens": 1}, headers=headers)
        check_error(r, 401, "invalid_api_key")
        r = request("GET", server.url + "/v1/models", headers=headers)
        check_error(r, 401)
    still_serves(server)


def test_openai_client_raises(server, model_id):
    bad = openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    good = openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as e:
        good.completions.create(model=model_id, prompt="hi", extra_body={"reasonscope": {"steer": [{"vector": "x"}]}})
    assert e.value.code == "unknown_vector"
    still_serves(server)


def run_cli(*args):
    return subprocess.run([BIN, "serve", "--port", "0", "--threads", THREADS] + model_args() + list(args),
                          capture_output=True, text=True, timeout=120)


def test_startup_errors(tmpdir_session):
    bad_vec = os.path.join(tmpdir_session, "bad.gguf")
    with open(bad_vec, "wb") as f:
        f.write(b"not a gguf file at all")
    r = run_cli("--steer", f"v={bad_vec}")
    assert r.returncode == 3 and "bad.gguf" in r.stderr, r.stderr
    r = run_cli("--steer", "no-equals-sign")
    assert r.returncode == 2 and "NAME=FILE" in r.stderr, r.stderr
    bad_cal = os.path.join(tmpdir_session, "badcal.json")
    with open(bad_cal, "w") as f:
        f.write('{"format": "reasonscope-spectral-calibration"}')
    r = run_cli("--spectral-calibration", bad_cal)
    assert r.returncode == 3 and "badcal.json" in r.stderr, r.stderr
    r = run_cli("--steer", "a=x.gguf", "--steer", "a=y.gguf")
    assert r.returncode == 2 and "twice" in r.stderr, r.stderr
    for line in r.stderr.strip().splitlines():
        assert line.startswith("error:"), r.stderr
