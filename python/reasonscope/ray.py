"""Run a reasonscope dataset command as Ray tasks, one shard each, then merge (README, "Ray").

    import ray, reasonscope.ray
    ray.init()
    reasonscope.ray.run(["verify", "spectral", "--threads", "1"], "proofs.jsonl", num_shards=8,
                        resources_per_shard={"num_cpus": 1}, out="runs/spectral")

Each shard is one task that runs the CLI binary as a subprocess (`--shard I/N --resume`), so a
worker loads the model once, and a task pinned to a GPU by Ray sees only that GPU. This module
never imports the compiled extension: it works whether or not the package was built. The binary
is `binary=`, else $REASONSCOPE_BIN, else build/release/bin/reasonscope.

- A failed shard is retried (max_retries) and resumes from the items it had finished, since
  every attempt passes --resume. Exit statuses 2 to 5 (usage, bad input, model, too long) are
  not retried: they would fail again.
- A rerun skips shards whose folder holds a finished shard (shard.json) made by the same
  command line.
- Progress is printed as shards finish; then `reasonscope merge` writes `out`.
"""

import json
import os
import shlex
import subprocess
import sys
import time

__all__ = ["run", "find_binary"]

DEFAULT_BINARY = os.path.join("build", "release", "bin", "reasonscope")
_NOT_RETRIED = {2, 3, 4, 5}  # rs::ExitCode usage, bad input, model, too long: deterministic


def find_binary(binary=None):
    path = binary or os.environ.get("REASONSCOPE_BIN") or DEFAULT_BINARY
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise FileNotFoundError(
            f"reasonscope binary not found at {path!r}: build it (cmake --build build/release) or pass "
            "binary= / set REASONSCOPE_BIN")
    return os.path.abspath(path)


def _shard_task(binary, args, shard_dir, index, count):
    """One attempt at one shard, in a Ray worker. Returns a dict; raises to ask Ray for a retry."""
    import ctypes
    import signal

    def die_with_parent():  # a killed worker must not leave its shard running beside the retry
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    os.makedirs(shard_dir, exist_ok=True)
    with open(os.path.join(shard_dir, "ray_attempts.log"), "a") as f:
        f.write(f"{time.time():.3f} pid {os.getpid()}\n")
    cmd = [binary] + list(args) + ["--shard", f"{index}/{count}", "--out", shard_dir, "--resume"]
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       preexec_fn=die_with_parent)
    seconds = time.time() - t0
    last = (p.stderr.strip().splitlines() or [""])[-1]
    if p.returncode in _NOT_RETRIED:
        return {"index": index, "ok": False, "rc": p.returncode, "error": last, "seconds": seconds}
    if p.returncode != 0:
        raise RuntimeError(f"shard {index}/{count}: exit {p.returncode}: {last}")
    with open(os.path.join(shard_dir, "ray_task.json.tmp"), "w") as f:
        json.dump({"args": list(args), "shard": [index, count]}, f)
    os.replace(os.path.join(shard_dir, "ray_task.json.tmp"), os.path.join(shard_dir, "ray_task.json"))
    return {"index": index, "ok": True, "rc": 0, "seconds": seconds}


def _finished(shard_dir, args, index, count):
    try:
        with open(os.path.join(shard_dir, "ray_task.json")) as f:
            task = json.load(f)
        return (os.path.isfile(os.path.join(shard_dir, "shard.json")) and task["args"] == list(args)
                and task["shard"] == [index, count])
    except (OSError, ValueError, KeyError):
        return False


def run(command, data, num_shards, resources_per_shard=None, out=None, *, binary=None, max_retries=3,
        shard_root=None, progress=None):
    """Runs `command` over `data` in `num_shards` Ray tasks and merges them into `out`.

    command: the CLI arguments without --data, --out, --shard (a list, or one string split as a
      shell would), e.g. ["score", "--field", "text"].
    data: the input JSONL file (passed as --data).
    resources_per_shard: Ray task resources, e.g. {"num_cpus": 1} or {"num_gpus": 1}. With
      num_cpus and no --threads in `command`, --threads num_cpus is added, so each shard uses
      the CPUs Ray gave it (and merge, which replays the shards' options, the same).
    out: what the unsharded command's --out would be (a folder, or the file of trace, steer
      train and data label). Required.
    shard_root: the shard folders' parent (default: out + ".shards"); kept after the merge.
    progress: called with one line per event (default: print to stderr).
    Returns out. Raises RuntimeError when a shard fails for good or the merge fails.
    """
    import ray

    if out is None:
        raise ValueError("out= is required: where the merged outputs go")
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    binary = find_binary(binary)
    args = shlex.split(command) if isinstance(command, str) else list(command)
    for opt in ("--data", "--out", "-o", "--shard", "--resume"):
        if any(a == opt or a.startswith(opt + "=") for a in args):
            raise ValueError(f"command must not contain {opt}: run() sets it")
    resources = dict(resources_per_shard or {})
    if "num_cpus" in resources and not any(a == "--threads" or a.startswith("--threads=") for a in args):
        args += ["--threads", str(max(1, int(resources["num_cpus"])))]
    args += ["--data", os.path.abspath(data)]
    root = os.path.abspath(shard_root or (str(out) + ".shards"))
    dirs = [os.path.join(root, f"shard-{i:05d}-of-{num_shards:05d}") for i in range(num_shards)]

    if not ray.is_initialized():
        ray.init()
    # By value: a worker then needs neither this package on its path nor its compiled extension.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    task = ray.remote(_shard_task).options(max_retries=max_retries, retry_exceptions=True, **resources)
    t0 = time.time()
    pending = {}
    n_done = 0
    for i, d in enumerate(dirs):
        if _finished(d, args, i, num_shards):
            n_done += 1
            say(f"reasonscope.ray: shard {i}/{num_shards} already finished in {d}: skipped")
            continue
        pending[task.remote(binary, args, d, i, num_shards)] = i
    failed = []
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        i = pending.pop(ready[0])
        try:
            r = ray.get(ready[0])
        except Exception as e:  # retries used up (a crash each time)
            failed.append(f"shard {i}/{num_shards}: {str(e).strip().splitlines()[-1] if str(e).strip() else e}")
            say(f"reasonscope.ray: shard {i}/{num_shards} FAILED after {max_retries} retries")
            continue
        if not r["ok"]:
            failed.append(f"shard {i}/{num_shards}: exit {r['rc']}: {r['error']}")
            say(f"reasonscope.ray: shard {i}/{num_shards} FAILED (exit {r['rc']}, not retried): {r['error']}")
            continue
        n_done += 1
        say(f"reasonscope.ray: shard {i}/{num_shards} done in {r['seconds']:.1f} s "
            f"({n_done}/{num_shards} finished, {time.time() - t0:.1f} s)")
    if failed:
        raise RuntimeError("reasonscope.ray: " + "; ".join(failed) + f" (finished shards are kept in {root})")
    p = subprocess.run([binary, "merge", "--out", str(out)] + dirs, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or [""])[-1]
        raise RuntimeError(f"reasonscope.ray: merge failed (exit {p.returncode}): {last}")
    say(f"reasonscope.ray: merged {num_shards} shards into {out} ({time.time() - t0:.1f} s)")
    return out
