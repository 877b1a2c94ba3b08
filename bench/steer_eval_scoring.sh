#!/usr/bin/env bash
# steer eval --scoring separate (one whole forward per setting and row) against --scoring shared
# (the unsteered blocks below a setting's layer once per row, a layer's settings as batch rows):
# CPU seconds (user + sys, /usr/bin/time) of each and whether the outputs are the same bytes.
# The settings are S3's (scripts/paper_scale.sh): layers L/3, L/2, 2L/3, alphas +-1, 2, 4; a
# third of the rows calibrate, so the mix of calibration and test rows is S3's (50 / 100).
#
#   bench/steer_eval_scoring.sh MODEL ROWS [THREADS]
#     MODEL: an installed model's name (smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b)
#     ROWS: rows of RUNS/data/babi15_eval.jsonl (scripts/paper_scale.sh makes it), e.g. 12
# Environment: RUNS (../runs/paper), REASONSCOPE_BIN.
set -euo pipefail
MODEL=${1:?usage: bench/steer_eval_scoring.sh MODEL ROWS [THREADS]}
ROWS=${2:?rows}
THREADS=${3:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${REASONSCOPE_BIN:-$ROOT/build/release/bin/reasonscope}
RUNS=${RUNS:-$ROOT/../runs/paper}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
L=$("$BIN" info --model "$MODEL" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["n_layer"])')
layers="$((L / 3)),$((L / 2)),$((2 * L / 3))"
head -12 "$RUNS/data/babi15_pairs.jsonl" >"$W/pairs.jsonl"
"$BIN" steer train --model "$MODEL" --threads "$THREADS" --data "$W/pairs.jsonl" --method pca-c --layers "$layers" \
  --out "$W/v.gguf" 2>/dev/null
for s in separate shared; do
  /usr/bin/time -f "%U %S" -o "$W/$s.time" "$BIN" steer eval --model "$MODEL" --threads "$THREADS" --vector "$W/v.gguf" \
    --layers "$layers" --alpha=-4,-2,-1,1,2,4 --data "$RUNS/data/babi15_eval.jsonl" --limit "$ROWS" \
    --calib "$((ROWS / 3))" --seed 1 --bootstrap 200 --scoring "$s" --out "$W/$s" 2>/dev/null
done
python3 - "$W" "$MODEL" "$ROWS" "$THREADS" <<'PY'
import json, sys
w, model, rows, threads = sys.argv[1:]
cpu = {s: sum(map(float, open("%s/%s.time" % (w, s)).read().split())) for s in ("separate", "shared")}
def out(s):
    j = json.load(open("%s/%s/summary.json" % (w, s)))
    j.pop("seconds")
    return j, open("%s/%s/examples.jsonl" % (w, s)).read()
same = out("separate") == out("shared")
print("%s, %s rows, %s thread(s): separate %.1f CPU-s, shared %.1f CPU-s, %.2fx; outputs %s"
      % (model, rows, threads, cpu["separate"], cpu["shared"], cpu["separate"] / cpu["shared"],
         "byte-identical" if same else "DIFFER"))
PY
