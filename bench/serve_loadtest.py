#!/usr/bin/env python3
"""Bounded load test of `reasonscope serve` on loopback (issue 20, acceptance 3). Not a pytest file.

Starts the server (port 0), runs --clients threads x --requests requests (every other one
streaming, with stream_options.include_usage), where every --drop-every'th client closes some
streams after the first event; then keeps going until --total requests to compare the server's RSS
after 100 and after --total requests. Checks: no 5xx, every stream well formed (data: <json> events,
one finish_reason, `data: [DONE]` last). Prints one JSON summary; exit 1 when a check fails.

  build/pyenv/bin/python bench/serve_loadtest.py --bin build/release/bin/reasonscope
  build/pyenv/bin/python bench/serve_loadtest.py --max-batch 1 --total 400   # no batching, baseline
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/release/bin/reasonscope")
    ap.add_argument("--model", default=os.environ.get("REASONSCOPE_MODEL"))
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=25, help="per client, in the measured round")
    ap.add_argument("--total", type=int, default=1000, help="requests before the last RSS reading")
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--drop-every", type=int, default=4, help="every Nth client drops some streams mid-way")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--max-batch", default="16", help="the server's --max-batch (1: one sequence at a time, the baseline)")
    a = ap.parse_args()

    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    cmd = [a.bin, "serve", "--port", "0", "--threads", a.threads, "--max-queue", str(a.clients + 4),
           "--max-batch", a.max_batch]
    if a.model:
        cmd += ["--model", a.model]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    url = None
    for _ in range(1200):
        m = re.search(r"listening on (http://[\d.]+:\d+)", open(log.name).read())
        if m:
            url = m.group(1)
            break
        if proc.poll() is not None:
            sys.exit("server exited: " + open(log.name).read())
        time.sleep(0.1)
    if not url:
        proc.kill()
        sys.exit("server did not start")

    lock = threading.Lock()
    st = {"done": 0, "5xx": 0, "other_status": 0, "malformed": 0, "dropped": 0, "tokens": 0, "lat": [],
          "rss_100": None, "errors": []}
    prompts = ["The capital of France is", "Once upon a time", "def fibonacci(n):", "Water boils at",
               "The three primary colours are"]

    host = urllib.parse.urlsplit(url)

    def connect():
        return http.client.HTTPConnection(host.hostname, host.port, timeout=300)

    def one(conn, i, c, measured):
        """One request on the client's keep-alive connection; returns the connection to use next."""
        stream = i % 2 == 1
        drop = stream and c % a.drop_every == 0 and i % 5 == 1
        body = {"prompt": prompts[(c + i) % len(prompts)], "max_tokens": a.max_tokens, "temperature": 0.7,
                "seed": c * 1000 + i, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        t0 = time.time()
        tokens, bad, status = 0, None, 0
        try:
            conn.request("POST", "/v1/completions", body=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            status = r.status
            if not stream:
                j = json.loads(r.read())
                if status == 200:
                    tokens = j["usage"]["completion_tokens"]
                    if not isinstance(j["choices"][0]["text"], str) or j["choices"][0]["finish_reason"] is None:
                        bad = "bad completion body"
            elif status != 200:
                r.read()
            else:
                events, finishes, usage = [], 0, None
                while True:
                    line = r.readline()
                    if not line:
                        break
                    line = line.decode().rstrip("\r\n")
                    if not line or line.startswith(":"):
                        continue
                    if not line.startswith("data: "):
                        bad = f"not an SSE data line: {line[:80]!r}"
                        break
                    events.append(line[6:])
                    if line == "data: [DONE]":
                        continue
                    j = json.loads(line[6:])
                    if j.get("choices") and j["choices"][0].get("finish_reason"):
                        finishes += 1
                    if j.get("usage"):
                        usage = j["usage"]
                    if drop:
                        break
                if drop:  # leave mid-stream: close the connection, open a new one
                    conn.close()
                    conn = connect()
                    with lock:
                        st["dropped"] += 1
                elif bad is None and (not events or events[-1] != "[DONE]" or finishes != 1 or not usage):
                    bad = f"stream: last={events[-1] if events else None} finishes={finishes} usage={usage}"
                elif bad is None:
                    tokens = usage["completion_tokens"]
        except Exception as e:  # a reset or a JSON error is a malformed response
            bad = f"{type(e).__name__}: {e}"
            conn.close()
            conn = connect()
        dt = time.time() - t0
        with lock:
            st["done"] += 1
            if status >= 500:
                st["5xx"] += 1
            elif status != 200:
                st["other_status"] += 1
            if bad:
                st["malformed"] += 1
                st["errors"].append(bad)
            if measured and not drop:
                st["lat"].append(dt)
                st["tokens"] += tokens
            if st["done"] == 100:
                st["rss_100"] = rss_kib(proc.pid)
        return conn

    def run_round(n_per_client, measured):
        def client_loop(c):
            conn = connect()
            for i in range(n_per_client):
                conn = one(conn, i, c, measured)
            conn.close()
        ts = [threading.Thread(target=client_loop, args=(c,)) for c in range(a.clients)]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.time() - t0

    wall = run_round(a.requests, True)
    measured_tokens, lat = st["tokens"], sorted(st["lat"])
    rest = max(0, a.total - st["done"])
    if rest:
        run_round((rest + a.clients - 1) // a.clients, False)
    rss_end = rss_kib(proc.pid)
    mc = connect()
    mc.request("GET", "/metrics")
    metrics = mc.getresponse().read().decode()
    mc.close()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(120)

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] if lat else None

    out = {"clients": a.clients, "requests_per_client": a.requests, "max_tokens": a.max_tokens, "max_batch": a.max_batch,
           "measured_requests": len(lat), "dropped_streams": st["dropped"], "requests_total": st["done"],
           "5xx": st["5xx"], "other_non_200": st["other_status"], "malformed": st["malformed"],
           "errors": st["errors"][:5], "p50_s": pct(50), "p99_s": pct(99), "wall_s": wall,
           "tokens": measured_tokens, "tokens_per_s": measured_tokens / wall if wall else None,
           "rss_kib_after_100": st["rss_100"], "rss_kib_after_total": rss_end,
           "rss_growth": (rss_end / st["rss_100"] - 1) if st["rss_100"] else None,
           "cancelled_total": re.search(r"^reasonscope_cancelled_total (\d+)", metrics, re.M).group(1),
           "exit_status": code}
    print(json.dumps(out, indent=1))
    os.unlink(log.name)
    ok = st["5xx"] == 0 and st["malformed"] == 0 and st["other_status"] == 0 and code == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
