#!/usr/bin/env python3
"""`reasonscope serve` against llama.cpp's llama-server, same GGUF file (issue 20, acceptance 4).

Starts both servers (each warmed with one short request), then, for --repeat rounds, sends the
same PROMPTS as streaming /v1/completions (max_tokens 128, temperature 0) one at a time (1 stream)
and all at once (8 streams), to one server and then the other, back to back (only one server
has work at any time; idle, neither uses the CPU), alternating which goes first. Tokens are what each server says it returned
(usage.completion_tokens of the include_usage chunk), so an early end-of-sequence counts as fewer
tokens for that server only. Prints one JSON object per (server, streams) and one per ratio:
  tokens_per_s  all completion tokens / wall time from the first request sent to the last finished
  mean_ttft_s   request sent -> first chunk carrying text

llama-server: built from the llama.cpp vendored in the llama-cpp-python 0.3.36 sdist (commit
0c1e57098, the cvector-generator golden's; see tools/make_cvector_golden.py), target llama-server
with -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF.
It keeps a prompt cache per slot; cache_prompt false (a llama-server field; reasonscope ignores
unknown fields) keeps the 8-stream round from reusing the 1-stream round's prefill.
--no-repack: on this machine's Xeon (AMX listed in cpuinfo) a -march=native build puts Q4_1 weights
in ggml's AMX buffer and dies with SIGILL at the first tile instruction (the sandbox does not grant
AMX state); Q4_1 has no other repacked kernel (ggml-cpu/repack.cpp), so the flag only turns AMX off.

  build/pyenv/bin/python bench/serve_vs_llamaserver.py --llama-server /tmp/llamaserver/build/bin/llama-server

Ratios are taken per back-to-back pair (a busy machine's load drifts between minutes, less between
seconds); the last line has their medians over the rounds.
"""
import argparse
import http.client
import json
import os
import statistics
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):",
    "Water boils at 100 degrees Celsius because",
    "The three primary colours are",
    "To add 27 and 45, first add the tens:",
    "If all cats are animals and Tom is a cat, then",
    "The history of the Roman Empire begins",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, proc, log, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            sys.exit(f"server exited {proc.returncode}: " + open(log).read()[-2000:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit("server did not become healthy: " + open(log).read()[-2000:])


def complete(port, prompt, max_tokens, extra):
    """One streaming completion; returns (seconds to first text, tokens, text, finish_reason, end time)."""
    body = dict(prompt=prompt, max_tokens=max_tokens, temperature=0, stream=True,
                stream_options={"include_usage": True}, **extra)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", body=json.dumps(body).encode(),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:300]!r}")
    ttft, text, usage, finish = None, [], None, None
    while True:
        line = r.readline()
        if not line:
            break
        line = line.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        j = json.loads(line[6:])
        for ch in j.get("choices") or []:
            if ch.get("text"):
                if ttft is None:
                    ttft = time.perf_counter() - t0
                text.append(ch["text"])
            finish = ch.get("finish_reason") or finish
        usage = j.get("usage") or usage
    end = time.perf_counter()
    conn.close()
    if not usage:
        raise RuntimeError("stream without a usage chunk")
    return ttft, usage["completion_tokens"], "".join(text), finish, end


def measure(port, streams, max_tokens, extra):
    results = [None] * len(PROMPTS)

    def worker(idx):
        for i in idx:
            results[i] = complete(port, PROMPTS[i], max_tokens, extra)

    groups = [list(range(k, len(PROMPTS), streams)) for k in range(streams)]
    ts = [threading.Thread(target=worker, args=(g,)) for g in groups]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if any(r is None for r in results):
        sys.exit("a request failed (see the thread's traceback above)")
    wall = max(r[4] for r in results) - t0
    tokens = sum(r[1] for r in results)
    ttfts = [r[0] for r in results if r[0] is not None]
    return {"streams": streams, "requests": len(PROMPTS), "completion_tokens": tokens,
            "tokens_per_request": [r[1] for r in results],
            "finish_reasons": [r[3] for r in results], "wall_s": round(wall, 3),
            "tokens_per_s": round(tokens / wall, 2),
            "mean_ttft_s": round(sum(ttfts) / len(ttfts), 4) if ttfts else None}, [r[2] for r in results]


class Running:
    """A server process, healthy and warmed (one short request)."""

    def __init__(self, name, cmd, port, extra):
        self.name, self.cmd, self.port, self.extra = name, cmd, port, extra
        self.log = tempfile.NamedTemporaryFile("w+", suffix=f".{name}.log", delete=False).name
        with open(self.log, "w") as lf:
            self.proc = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT)
        wait_healthy(port, self.proc, self.log)
        complete(port, "Hello", 8, extra)  # first touch of the weights and the caches

    def measure(self, streams, max_tokens):
        row, texts = measure(self.port, streams, max_tokens, self.extra)
        return {"server": self.name, "command": " ".join(self.cmd), **row}, texts

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.log)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-server", default="/tmp/llamaserver/build/bin/llama-server")
    ap.add_argument("--bin", default="build/release/bin/reasonscope")
    ap.add_argument("--model", default=os.path.expanduser(
        "~/.cache/reasonscope/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--threads", default="2")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--streams", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each measures both servers at every stream count")
    a = ap.parse_args()
    if max(a.streams) > len(PROMPTS):
        sys.exit(f"at most {len(PROMPTS)} streams")

    p, q = free_port(), free_port()
    theirs = Running("llama-server", [a.llama_server, "-m", a.model, "-t", a.threads, "-np", "8", "-c", "8192",
                                      "--temp", "0", "--no-repack", "--host", "127.0.0.1", "--port", str(p)],
                     p, {"cache_prompt": False})
    try:
        ours = Running("reasonscope", [a.bin, "serve", "--model", a.model, "--threads", a.threads, "--port", str(q)],
                       q, {})
    except BaseException:
        theirs.stop()
        raise
    ratios = {s: [] for s in a.streams}
    try:
        for rep in range(a.repeat):
            for streams in a.streams:
                # Back to back, alternating which goes first: on a busy machine the load drifts.
                pair = (theirs, ours) if (rep + streams) % 2 == 0 else (ours, theirs)
                got = {}
                for srv in pair:
                    row, texts = srv.measure(streams, a.max_tokens)
                    print(json.dumps({"repeat": rep, **row}), flush=True)
                    got[srv.name] = (row, texts)
                (o, ot), (t, tt) = got["reasonscope"], got["llama-server"]
                r = round(o["tokens_per_s"] / t["tokens_per_s"], 3)
                ratios[streams].append(r)
                print(json.dumps({"repeat": rep, "streams": streams, "ratio_tokens_per_s_ours_over_llama_server": r,
                                  "ratio_mean_ttft_ours_over_llama_server":
                                      round(o["mean_ttft_s"] / t["mean_ttft_s"], 3)
                                      if o["mean_ttft_s"] and t["mean_ttft_s"] else None,
                                  "same_text_requests": sum(x == y for x, y in zip(ot, tt))}), flush=True)
    finally:
        ours.stop()
        theirs.stop()
    print(json.dumps({"median_ratio_tokens_per_s": {str(s): statistics.median(v) for s, v in ratios.items()},
                      "ratios": {str(s): v for s, v in ratios.items()}}), flush=True)


if __name__ == "__main__":
    main()
