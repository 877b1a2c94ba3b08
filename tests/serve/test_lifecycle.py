"""Stopping and leaving: a client that drops a stream or a pending answer, running or still queued,
frees its slot at once; SIGTERM stops accepting, lets the request in flight finish, and the server
exits 0. Own servers (native weights, the default for serving without a calibration)."""
import json
import re
import signal
import socket
import threading
import time

import pytest

from conftest import Server, request, stream_lines


def cancelled_total(url):
    return int(re.search(r"^reasonscope_cancelled_total (\d+)", request("GET", url + "/metrics").text, re.M).group(1))


def running(url):
    return int(re.search(r"^reasonscope_requests_running (\d+)", request("GET", url + "/metrics").text, re.M).group(1))


def test_dropped_stream_frees_the_worker():
    s = Server(["--max-tokens-limit", "4000", "--max-batch", "1"])
    try:
        body = {"prompt": "Once upon a time", "max_tokens": 4000, "temperature": 1.0, "seed": 1, "stream": True}
        for line in stream_lines(s.url + "/v1/completions", body):
            if line.startswith("data: ") and json.loads(line[6:])["choices"][0]["text"]:
                break  # first text: now leave (the connection closes)
        t0 = time.time()
        # one sequence at a time: this one runs only once the dropped one has left
        r = request("POST", s.url + "/v1/completions", body={"prompt": "Hi", "max_tokens": 1})
        assert r.status_code == 200
        # 4000 tokens would take minutes; the next request runs as soon as the write fails
        assert time.time() - t0 < 30
        assert cancelled_total(s.url) == 1
        assert running(s.url) == 0
    finally:
        assert s.stop() == 0, s.stderr()


def test_dropped_non_streaming_request_frees_its_slot():
    """A non-streaming client that leaves: its sequence is cancelled within about a second."""
    s = Server(["--max-tokens-limit", "4000"])
    try:
        # greedy, this prompt repeats itself without an end-of-sequence token for hundreds of tokens
        body = json.dumps({"prompt": "The capital of France is", "max_tokens": 4000, "temperature": 0}).encode()
        sock = socket.create_connection(("127.0.0.1", int(s.url.rsplit(":", 1)[1])))
        sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        for _ in range(200):
            if running(s.url) == 1:
                break
            time.sleep(0.05)
        assert running(s.url) == 1
        time.sleep(1.0)
        assert running(s.url) == 1  # still generating when the client leaves
        sock.close()
        t0 = time.time()
        while time.time() - t0 < 10 and (cancelled_total(s.url) != 1 or running(s.url) != 0):
            time.sleep(0.1)
        # 4000 tokens would take minutes
        assert cancelled_total(s.url) == 1 and running(s.url) == 0, time.time() - t0
    finally:
        assert s.stop() == 0, s.stderr()


def metric(url, name):
    return int(re.search(r"^" + re.escape(name) + r" (\d+)", request("GET", url + "/metrics").text, re.M).group(1))


def send_raw(url, body):
    """A non-streaming POST on a raw socket (left open: the caller closes it to leave)."""
    raw = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw)
    return sock


def wait_for(cond, seconds):
    t0 = time.time()
    while time.time() - t0 < seconds:
        if cond():
            return time.time() - t0
        time.sleep(0.05)
    return None


def test_client_leaving_while_queued_frees_its_place():
    """--max-batch 1, --max-queue 2: one long request runs, a second waits in the queue. Its client
    leaves (non-streaming, then streaming): the queue empties at once while the first still runs,
    and the freed place takes the next request, which is served once the first one ends."""
    s = Server(["--max-tokens-limit", "4000", "--max-batch", "1", "--max-queue", "2"])
    try:
        url = s.url
        long_req = send_raw(url, {"prompt": "The capital of France is", "max_tokens": 4000, "temperature": 0})
        assert wait_for(lambda: running(url) == 1, 10) is not None
        queued = send_raw(url, {"prompt": "Hi", "max_tokens": 4})
        assert wait_for(lambda: metric(url, "reasonscope_queue_depth") == 1, 10) is not None
        # the queue is full: a third request is refused at once
        full = request("POST", url + "/v1/completions", body={"prompt": "Hi", "max_tokens": 1})
        assert full.status_code == 503, full.text
        time.sleep(0.5)
        queued.close()
        took = wait_for(lambda: metric(url, "reasonscope_queue_depth") == 0, 5)
        assert took is not None, "the queued request was not dropped within 5 s"
        print(f"queued non-streaming client left: dropped after {took:.2f} s")
        assert metric(url, "reasonscope_queue_dropped_total") == 1 and running(url) == 1
        # a streaming client that leaves while queued is dropped too
        for line in stream_lines(url + "/v1/completions", {"prompt": "Hi", "max_tokens": 4, "stream": True}):
            break  # the first keep-alive comment: it is queued; leave
        assert wait_for(lambda: metric(url, "reasonscope_queue_dropped_total") == 2, 5) is not None
        assert metric(url, "reasonscope_queue_depth") == 0 and running(url) == 1
        # the freed place takes the next request (no 503), which runs once the long one is gone
        got = {}
        t = threading.Thread(target=lambda: got.update(r=request("POST", url + "/v1/completions",
                                                               body={"prompt": "Hi", "max_tokens": 2})))
        t.start()
        assert wait_for(lambda: metric(url, "reasonscope_queue_depth") == 1, 10) is not None
        long_req.close()
        t0 = time.time()
        t.join(30)
        assert got["r"].status_code == 200 and time.time() - t0 < 10, (got, time.time() - t0)
        assert cancelled_total(url) == 1 and running(url) == 0
    finally:
        assert s.stop() == 0, s.stderr()


def test_sigterm_finishes_in_flight_and_exits_0():
    s = Server(["--grace-seconds", "60"])
    got = {}

    def stream():
        body = {"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0, "stream": True}
        got["lines"] = []
        for line in stream_lines(s.url + "/v1/completions", body):
            if line.startswith("data: "):
                got["lines"].append(line)
                if len(got["lines"]) == 1:
                    got["first"] = time.time()

    t = threading.Thread(target=stream)
    t.start()
    for _ in range(600):
        if "first" in got:
            break
        time.sleep(0.05)
    assert "first" in got
    s.proc.send_signal(signal.SIGTERM)
    t.join(120)
    assert got["lines"][-1] == "data: [DONE]"
    finals = [json.loads(x[6:]) for x in got["lines"][:-1]]
    assert finals[-1]["choices"][0]["finish_reason"] == "length"  # all 24 tokens, not cut short
    assert s.proc.wait(60) == 0, s.stderr()
    with pytest.raises(ConnectionRefusedError):
        request("GET", s.url + "/health", timeout=5)
    assert "stopping (SIGTERM)" in s.stderr()
    s.stop()


def test_grace_period_cuts_short():
    s = Server(["--grace-seconds", "0.5", "--max-tokens-limit", "4000"])
    got = {}

    def run():
        r = request("POST", s.url + "/v1/completions", body={"prompt": "Once upon a time", "max_tokens": 4000,
                                                             "temperature": 1.0, "seed": 3})
        got["r"] = r

    t = threading.Thread(target=run)
    t.start()
    time.sleep(2.0)
    s.proc.send_signal(signal.SIGTERM)
    t.join(120)
    assert s.proc.wait(60) == 0, s.stderr()
    r = got["r"]
    assert r.status_code == 200 and r.json()["choices"][0]["finish_reason"] == "length"
    assert r.json()["usage"]["completion_tokens"] < 4000
    assert "grace period over" in s.stderr()
    s.stop()
