#!/usr/bin/env bash
# Issue 7, acceptance 1: the same command with and without OPENBLAS_CORETYPE takes the same time,
# on this host and on a host where OpenBLAS picks Prescott by itself (simulated here with
# RS_BLAS_SIMULATE_CORE=Prescott: OpenBLAS is put into its Prescott kernels before reasonscope's
# start-up check runs, the state such a host starts in). Configurations run interleaved, REPS
# times each; medians of wall time. The slow path (OPENBLAS_CORETYPE=Prescott, the user forcing
# it) is timed for reference.
#   bash bench/blas_kernel_timing.sh [BIN] [REPS]     (THREADS=1 by default: a shared machine)
set -u
BIN=${1:-build/release/bin/reasonscope}
REPS=${2:-3}
THREADS=${THREADS:-1}
DATA=$(cd "$(dirname "$0")/.." && pwd)/tests/data/fixtures/prontoqa/dev.jsonl
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset OPENBLAS_CORETYPE RS_BLAS_SIMULATE_CORE
configs=(
  "host|"
  "host+OPENBLAS_CORETYPE=SkylakeX|OPENBLAS_CORETYPE=SkylakeX"
  "prescott-host|RS_BLAS_SIMULATE_CORE=Prescott"
  "prescott-host+OPENBLAS_CORETYPE=SkylakeX|RS_BLAS_SIMULATE_CORE=Prescott OPENBLAS_CORETYPE=SkylakeX"
  "slow-path:OPENBLAS_CORETYPE=Prescott|OPENBLAS_CORETYPE=Prescott"
)
cmd=("$BIN" -q score --data "$DATA" --field context --limit 16 --threads "$THREADS" --out "$TMP/out")
echo "command: ${cmd[*]}"
for c in "${configs[@]}"; do
  name=${c%%|*}; envs=${c#*|}
  echo "  $name: $(env $envs "$BIN" info --json 2>/dev/null | python3 -c 'import json,sys; b=json.load(sys.stdin)["blas"]; print(b["core"], "chosen by", b["chosen_by"])')"
done
n=${#configs[@]}
for r in $(seq 1 "$REPS"); do
  # rotate the starting configuration each repetition: the first run after a pause is often slower
  for k in $(seq 0 $((n - 1))); do
    i=$(( (k + r - 1) % n ))
    envs=${configs[$i]#*|}
    t0=$(date +%s.%N)
    env $envs OMP_NUM_THREADS="$THREADS" "${cmd[@]}" 2>/dev/null || { echo "run failed: ${configs[$i]}"; exit 1; }
    echo "$i $(echo "$(date +%s.%N) - $t0" | bc)" >>"$TMP/times"
  done
done
python3 - "$TMP/times" "${configs[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = [c.split("|")[0] for c in sys.argv[2:]]
med = {i: statistics.median(float(t) for j, t in rows if int(j) == i) for i in range(len(names))}
for i, n in enumerate(names):
    ts = " ".join(f"{float(t):.2f}" for j, t in rows if int(j) == i)
    print(f"{n:45s} median {med[i]:7.2f} s  ({ts})  x{med[i] / med[0]:.2f} of host")
PY
