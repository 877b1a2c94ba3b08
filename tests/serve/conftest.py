"""Fixtures for the `reasonscope serve` tests: the binary, the default model, a server on
127.0.0.1 (port 0: the server picks a free port and names it in its log line) that is stopped
with SIGTERM at the end and must exit 0."""
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.parse

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("REASONSCOPE_BIN", os.path.join(ROOT, "build", "release", "bin", "reasonscope"))
STEER_FILE = os.path.join(ROOT, "tests", "methods", "steer", "data", "ours_vec.gguf")
API_KEY = "test-key-123"
# One thread: ctest runs this beside other tests on 2 cores, where a second OpenMP thread mostly
# spins at barriers (busy machine: 5 one-token requests on the exact-weights server 1.33 CPU-s with
# 2 threads, 0.46 with 1; three 24-token ones 19.9 against 7.0).
THREADS = "1"


class Response:
    def __init__(self, status, headers, text):
        self.status_code, self.headers, self.text = status, headers, text

    def json(self):
        return json.loads(self.text)


def request(method, url, body=None, raw=None, headers=None, timeout=120):
    """One HTTP request on its own connection (the standard library: no client package needed)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = dict(headers or {})
    if body is not None:
        raw = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, u.path, body=raw, headers=h)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode())
    finally:
        conn.close()


def stream_lines(url, body, headers=None, timeout=120, status=None):
    """POST and yield the response's lines as they arrive; leaving the loop closes the connection."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("POST", u.path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json", **(headers or {})})
        r = conn.getresponse()
        if status is not None:
            status.update(code=r.status, content_type=r.getheader("Content-Type", ""))
        while True:
            line = r.readline()
            if not line:
                return
            yield line.decode().rstrip("\r\n")
    finally:
        conn.close()


def model_args():
    m = os.environ.get("REASONSCOPE_MODEL")
    return ["--model", m] if m else []


def calibration(path):
    """A frozen spectral detector (the layout `verify spectral --save-calibration` writes)."""
    cal = {"format": "reasonscope-spectral-calibration", "version": 1, "layer": 3, "metric": "fiedler",
           "direction": "greater", "threshold": 0.5, "laplacian": "rw", "hfer_band": 0.1,
           "max_tokens": 512, "maths_dtype": "f32", "model": {}}
    with open(path, "w") as f:
        json.dump(cal, f)
    return path


class Server:
    def __init__(self, extra, env=None):
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.proc = subprocess.Popen([BIN, "serve", "--port", "0", "--threads", THREADS] + model_args() + extra,
                                     stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.time() + 120
        self.url = None
        while time.time() < deadline:
            text = open(self.log.name).read()
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
            if m:
                self.url = m.group(1)
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {text}")
            time.sleep(0.1)
        if not self.url:
            self.proc.kill()
            raise RuntimeError("server did not start: " + open(self.log.name).read())

    def stderr(self):
        return open(self.log.name).read()

    def stop(self, timeout=60):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        os.unlink(self.log.name)
        return self.proc.returncode


@pytest.fixture(scope="session")
def tmpdir_session():
    with tempfile.TemporaryDirectory() as d:
        yield d


@pytest.fixture(scope="session")
def cal_path(tmpdir_session):
    return calibration(os.path.join(tmpdir_session, "cal.json"))


@pytest.fixture(scope="session")
def server(cal_path):
    """The shared server: a steering vector, the spectral verifier (exact weights), an API key."""
    s = Server(["--steer", f"reason={STEER_FILE}", "--spectral-calibration", cal_path, "--api-key", API_KEY,
                "--max-tokens-limit", "512", "--max-body-bytes", "200000"])
    yield s
    assert s.stop() == 0, s.stderr()


@pytest.fixture(scope="session")
def client(server):
    import openai
    # Closed before the server stops: its pooled keep-alive connection would hold the server's
    # stop for the keep-alive timeout (5 s of idle teardown; CI time, issue 21).
    with openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0, timeout=120) as c:
        yield c


@pytest.fixture(scope="session")
def model_id(client):
    return client.models.list().data[0].id
