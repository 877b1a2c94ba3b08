#!/usr/bin/env python3
"""Greedy continuations of the default model from llama.cpp itself, beside ours (issue 23,
acceptance 3; issue 21 point 6).

For each prompt of tests/golden/generate/greedy_smollm2_q4_1.json this asks llama.cpp's
llama-server for 128 greedy tokens after the prompt's token ids (top-k 1, F32 KV cache like our
native path, no flash attention, no weight repacking), runs `reasonscope generate --json -n 128
-t 0 --weights native` on the same prompt, and prints, per prompt, whether the two agree and
where they first differ. With --write it records llama.cpp's continuations as the golden that
tests/model/test_generate.cpp checks ours against.

Re-run:  python3 tools/make_greedy_golden.py --llama-server /tmp/llamaserver/build/bin/llama-server \
             --cli build/release/bin/reasonscope [--write]
Needs:   a llama.cpp build (llama-server); the standard library only.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GOLDEN = os.path.join(REPO, "tests", "golden", "generate", "greedy_smollm2_q4_1.json")
DEFAULT_MODEL = os.path.expanduser("~/.cache/reasonscope/models/SmolLM2-135M-Instruct.Q4_1.gguf")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def wait_ready(url, proc, seconds=120):
    t0 = time.time()
    while time.time() - t0 < seconds:
        if proc.poll() is not None:
            sys.exit(f"llama-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.5)
    sys.exit("llama-server did not become ready")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-server", default="/tmp/llamaserver/build/bin/llama-server")
    ap.add_argument("--cli", default=os.path.join(REPO, "build", "release", "bin", "reasonscope"))
    ap.add_argument("--model", default=os.environ.get("REASONSCOPE_MODEL", DEFAULT_MODEL))
    ap.add_argument("--golden", default=GOLDEN, help="prompts from here; --write replaces it")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="record llama.cpp's continuations as the golden")
    args = ap.parse_args()
    with open(args.golden) as f:
        golden = json.load(f)
    n_new = int(golden["max_new_tokens"])

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_cmd = [args.llama_server, "-m", args.model, "-t", str(args.threads), "--no-repack", "-ctk", "f32",
                  "-ctv", "f32", "-fa", "off", "-c", "2048", "-np", "1", "--no-warmup", "--port", str(port)]
    proc = subprocess.Popen(server_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(url, proc)
        build = post(url + "/completion", {"prompt": [1], "n_predict": 0}).get("generation_settings", {})
        rows, n_same = [], 0
        for row in golden["rows"]:
            r = post(url + "/completion", {"prompt": row["prompt_ids"], "n_predict": n_new, "temperature": 0.0,
                                           "top_k": 1, "samplers": ["top_k"], "cache_prompt": False,
                                           "return_tokens": True, "seed": 0})
            theirs = r["tokens"]
            ours_out = subprocess.run([args.cli, "generate", "--json", "--model", args.model, "--weights", "native",
                                       "--threads", str(args.threads), "-t", "0", "-n", str(n_new), "-p", row["prompt"]],
                                      capture_output=True, text=True, check=True)
            ours = json.loads(ours_out.stdout)["tokens"]
            first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
            same = ours == theirs
            n_same += same
            print(f"{'same' if same else 'DIFF'}  first difference at {first if not same else '-'} of "
                  f"{len(theirs)} (ours {len(ours)})  {row['prompt'][:50]!r}")
            rows.append({"prompt": row["prompt"], "prompt_ids": row["prompt_ids"], "tokens": theirs,
                         "stop_reason": "eos" if r.get("stop_type") == "eos" else "max_new_tokens",
                         "text": r["content"], "ours_first_difference": None if same else first})
        print(f"{n_same} of {len(rows)} continuations identical to llama.cpp's")
    finally:
        proc.terminate()
        proc.wait()
    if args.write:
        out = {
            "about": "Greedy continuations of the default model (SmolLM2-135M-Instruct Q4_1) from llama.cpp's "
                     "llama-server (top-k 1, F32 KV cache, no flash attention, --no-repack, "
                     f"{args.threads} threads), written by tools/make_greedy_golden.py; "
                     "tests/model/test_generate.cpp checks our native greedy decoding against them. "
                     "ours_first_difference: where `reasonscope generate` (native weights) first differed "
                     "when recorded (null: identical).",
            "llama_cpp": {"server": os.path.basename(args.llama_server), "settings": " ".join(server_cmd[3:-2]),
                          "n_ctx": build.get("n_ctx")},
            "model": os.path.basename(args.model),
            "weights": "native",
            "isa": golden.get("isa", "avx512"),
            "max_new_tokens": n_new,
            "rows": rows,
        }
        tmp = args.golden + f".tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        os.replace(tmp, args.golden)
        print(f"wrote {args.golden}")


if __name__ == "__main__":
    main()
