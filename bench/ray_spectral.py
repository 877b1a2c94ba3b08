"""`verify spectral` over one proof file: one process against reasonscope.ray on a local Ray cluster,
in the same run (issue 22, acceptance 2; README "Ray").

  python bench/ray_spectral.py --data ../shared/benchmarks/minif2f-lean/dev.jsonl --model smollm2-135m \
      --work /tmp/ray_bench [--cpus 2] [--kill-after 0.5]

Four runs, each from an empty folder:
  single    the unsharded command, --threads CPUS: the wall-time baseline;
  single-1  the unsharded command, --threads 1: the result every shard computes (a matrix
            product's reduction order, hence the last bits of a float, can depend on the thread
            count, so results are compared at the same thread count);
  ray       CPUS shards as Ray tasks of 1 CPU each (--threads 1), merged;
  killed    as ray, but the Ray worker of the last shard is SIGKILLed once its checkpoint holds
            KILL_AFTER of its rows; Ray retries the task, which resumes from those rows.
Each merged folder must equal single-1: every file byte-identical, summary.json apart from its
wall-clock fields. Against `single` (other thread count) it reports the largest relative
difference of the per-example numbers and whether the selected detector is the same. Prints one
JSON object per run and a last one with the verdict; exit 1 on a difference. Needs the CLI binary ($REASONSCOPE_BIN or build/release/bin/reasonscope) and `ray`.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
_spec = importlib.util.spec_from_file_location("rsray", os.path.join(ROOT, "python", "reasonscope", "ray.py"))
rsray = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = rsray
_spec.loader.exec_module(rsray)

# verify spectral's wall-clock fields (README, "Interrupts and --resume")
WALL = {"seconds", "read_seconds", "scan_seconds", "prompts_per_second", "timing", "n_resumed"}


def differences(ref, got):
    names = lambda d: sorted(os.path.relpath(os.path.join(r, n), d) for r, _, ns in os.walk(d) for n in ns)
    if names(ref) != names(got):
        return [f"files: {names(ref)} vs {names(got)}"]
    out = []
    for f in names(ref):
        x, y = open(os.path.join(ref, f), "rb").read(), open(os.path.join(got, f), "rb").read()
        if x == y:
            continue
        if f.endswith(".json"):
            jx, jy = json.loads(x), json.loads(y)
            for k in WALL:
                jx.pop(k, None), jy.pop(k, None)
            if jx == jy:
                continue
        out.append(f)
    return out


def float_drift(ref, got):
    """Per top-level field of examples.jsonl (layer_features by metric): the largest absolute
    difference over the largest magnitude; how many predictions differ; and whether summary.json
    selects the same detector."""
    diff, scale = {}, {}
    flips = 0

    def walk(x, y, key):
        if isinstance(x, dict):
            for k in x:
                walk(x[k], y[k], k if key in ("", "layer_features") else key)
        elif isinstance(x, list):
            for u, v in zip(x, y):
                walk(u, v, key)
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            diff[key] = max(diff.get(key, 0.0), abs(x - y))
            scale[key] = max(scale.get(key, 0.0), abs(x))

    for lx, ly in zip(open(os.path.join(ref, "examples.jsonl")), open(os.path.join(got, "examples.jsonl"))):
        x, y = json.loads(lx), json.loads(ly)
        walk(x, y, "")
        flips += x.get("prediction") != y.get("prediction")
    sel = lambda d: {k: json.load(open(os.path.join(d, "summary.json")))["selected"].get(k) for k in ("metric", "layer", "direction")}
    return {"max_diff_over_scale": {k: float(f"{diff[k] / scale[k]:.2g}") for k in diff if diff[k] > 0},
            "prediction_flips": flips, "same_selected_detector": sel(ref) == sel(got)}


def rows_in(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0


def kill_when(victim_dir, n_rows, done):
    """SIGKILLs the Ray worker whose reasonscope child writes victim_dir, once n_rows are checkpointed."""
    rows = os.path.join(victim_dir, "resume", "rows.jsonl")
    while not done.is_set():
        if rows_in(rows) >= n_rows:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
                    if victim_dir.encode() in argv and argv[0].endswith(b"reasonscope"):
                        ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
                        os.kill(ppid, 9)
                        return {"killed_worker": ppid, "rows_checkpointed": rows_in(rows)}
                except (OSError, IndexError, ValueError):
                    continue
        time.sleep(0.05)
    return {"killed_worker": None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--kill-after", type=float, default=0.5, help="fraction of the victim shard's rows")
    a = ap.parse_args()
    import ray

    binary = rsray.find_binary(os.environ.get("REASONSCOPE_BIN") or os.path.join(ROOT, rsray.DEFAULT_BINARY))
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    n_items = sum(1 for line in open(a.data) if line.strip())
    command = ["verify", "spectral", "--model", a.model]
    results = {}

    data = os.path.abspath(a.data)  # as reasonscope.ray passes it: summary.json records the path
    for run, threads in (("single", a.cpus), ("single-1", 1)):
        t = time.time()
        subprocess.run([binary] + command + ["--threads", str(threads), "--data", data,
                                             "--out", os.path.join(a.work, run)],
                       check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        results[run] = time.time() - t
        print(json.dumps({"run": run, "threads": threads, "items": n_items, "seconds": round(results[run], 1)}),
              flush=True)

    ray.init(num_cpus=a.cpus, include_dashboard=False, log_to_driver=False)
    verdict = {}
    for run in ("ray", "killed"):
        out = os.path.join(a.work, run)
        done, killer = threading.Event(), {}
        if run == "killed":
            victim = os.path.join(out + ".shards", f"shard-{a.cpus - 1:05d}-of-{a.cpus:05d}")
            per_shard = n_items // a.cpus
            th = threading.Thread(target=lambda: killer.update(kill_when(victim, max(1, int(per_shard * a.kill_after)), done)))
            th.start()
        lines = []
        t = time.time()
        rsray.run(command, data, a.cpus, resources_per_shard={"num_cpus": 1}, out=out, binary=binary,
                  progress=lambda l: (lines.append(l), print(l, file=sys.stderr, flush=True)))
        results[run] = time.time() - t
        done.set()
        if run == "killed":
            th.join()
        diff = differences(os.path.join(a.work, "single-1"), out)
        verdict[run] = not diff
        print(json.dumps({"run": run, "shards": a.cpus, "seconds": round(results[run], 1),
                          "speedup_vs_single": round(results["single"] / results[run], 3),
                          "identical_to_single_1": not diff, "differing_files": diff,
                          "vs_single": float_drift(os.path.join(a.work, "single"), out), **killer}), flush=True)
        if run == "killed":
            attempts = open(os.path.join(victim, "ray_attempts.log")).read().splitlines()
            verdict["retried"] = killer.get("killed_worker") is not None and len(attempts) == 2
            print(json.dumps({"victim_attempts": len(attempts)}), flush=True)
    ray.shutdown()
    ok = all(verdict.values())
    print(json.dumps({"ok": ok, **verdict}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
