#!/usr/bin/env bash
# `reasonscope verify spectral` end to end on the default model with a small made-up labelled
# set: the outputs carry the documented keys; the detector saved with --save-calibration and
# applied with --calibration to the same rows in another order reproduces every prediction;
# a finished run leaves no checkpoint and a --resume of it gives the same rows; bad input (non-JSON line, missing
# field, label 2, one class, empty text) fails with file:line and writes no outputs; texts over
# --max-tokens are truncated and counted.
# Usage: bash test_verify_spectral.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
export OMP_NUM_THREADS=1
RUN=("$BIN" verify spectral --threads 1 --layers 0-3 --folds 3)

python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
valid = ["Every cat is a mammal. Tom is a cat. So Tom is a mammal.",
         "All squares are rectangles. This shape is a square. Therefore it is a rectangle.",
         "If it rains the grass is wet. It rains. So the grass is wet.",
         "Each dog barks. Rex is a dog. Hence Rex barks.",
         "Two plus two is four. Four plus one is five. So two plus two plus one is five.",
         "Every prime above two is odd. Seven is a prime above two. So seven is odd."]
invalid = ["Every cat is a mammal. Tom is a mammal. So Tom is a cat.",
           "All squares are rectangles. This shape is a rectangle. Therefore it is a square.",
           "If it rains the grass is wet. The grass is wet. So it rains.",
           "Each dog barks. Rex barks. Hence Rex is a dog.",
           "Two plus two is five. Five plus one is six. So two plus two plus one is seven.",
           "Every prime above two is odd. Nine is odd. So nine is a prime."]
rows = [{"id": f"v{i}", "text": t, "label": 1} for i, t in enumerate(valid)]
rows += [{"id": f"x{i}", "text": t, "label": 0, "corruption": ["converse", "arith"][i == 4]} for i, t in enumerate(invalid)]
def write(name, rs, raw=None):
    with open(f"{d}/{name}", "w") as f:
        for r in rs: f.write(json.dumps(r) + "\n")
        if raw: f.write(raw + "\n")
write("train.jsonl", rows)
write("shuffled.jsonl", list(reversed(rows)))
write("unlabelled.jsonl", [{"id": r["id"], "text": r["text"]} for r in rows[:3]])
write("notjson.jsonl", rows[:3], raw="{not json")
write("missing.jsonl", rows[:3] + [{"id": "m", "label": 1}])
write("label2.jsonl", rows[:3] + [{"id": "l", "text": "x y z", "label": 2}])
write("oneclass.jsonl", rows[:6])
write("empty.jsonl", rows[:3] + [{"id": "e", "text": "  ", "label": 0}])
PY

# 1. calibrate
if "${RUN[@]}" --data "$TMP/train.jsonl" --save-calibration "$TMP/cal.json" --out "$TMP/a" 2>"$TMP/err"; then
  if python3 - "$TMP/a" "$TMP/cal.json" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
for k in ["n", "n_valid", "n_invalid", "per_layer_metric", "selected", "nested_cv_accuracy", "baselines",
          "partial_correlation_given_length", "by_corruption", "n_truncated"]:
    assert k in s, k
assert s["n"] == 12 and s["n_valid"] == 6 and s["n_invalid"] == 6
assert len(s["per_layer_metric"]) == 4 * 5
for e in s["per_layer_metric"]:
    assert set(e) >= {"layer", "metric", "cohens_d", "auroc", "mw_p", "in_sample_accuracy", "threshold", "direction"}
    assert 0 <= e["auroc"] <= 1 and 0.5 <= e["in_sample_accuracy"] <= 1
assert set(s["selected"]) >= {"layer", "metric", "direction", "threshold"}
assert set(s["nested_cv_accuracy"]) >= {"mean", "std"}
for b in ["token_count", "mean_logprob"]:
    assert set(s["baselines"][b]) >= {"auroc", "cohens_d", "nested_cv_accuracy"}
assert set(s["by_corruption"]) == {"converse", "arith"}
rows = [json.loads(l) for l in open(d + "/examples.jsonl")]
assert len(rows) == 12
for r in rows:
    assert set(r) >= {"id", "label", "prediction", "score", "token_count", "mean_logprob", "features"}
    assert set(r["features"]) == {"fiedler", "energy", "smoothness", "entropy", "hfer"}
    assert r["mean_logprob"] < 0 and r["token_count"] > 5
cal = json.load(open(sys.argv[2]))
assert cal["layer"] == s["selected"]["layer"] and cal["metric"] == s["selected"]["metric"]
assert "<svg" in open(d + "/report.html").read()
print("selected", s["selected"]["metric"], "layer", s["selected"]["layer"], "nested", s["nested_cv_accuracy"]["mean"])
PY
  then ok "calibrate: outputs and keys"; else bad "calibrate: outputs and keys"; fi
else bad "calibrate run"; cat "$TMP/err"; fi

# 2. the frozen detector on the same rows in another order: identical predictions
if "${RUN[@]}" --data "$TMP/shuffled.jsonl" --calibration "$TMP/cal.json" --out "$TMP/b" 2>"$TMP/err" &&
   python3 - "$TMP/a" "$TMP/b" <<'PY'
import json, sys
a = {r["id"]: r for r in map(json.loads, open(sys.argv[1] + "/examples.jsonl"))}
b = {r["id"]: r for r in map(json.loads, open(sys.argv[2] + "/examples.jsonl"))}
assert a.keys() == b.keys()
for k in a:
    assert a[k]["prediction"] == b[k]["prediction"] and a[k]["score"] == b[k]["score"], k
s = json.load(open(sys.argv[2] + "/summary.json"))
acc = sum(r["prediction"] == r["label"] for r in a.values()) / len(a)
assert abs(s["frozen"]["accuracy"] - acc) < 1e-12, (s["frozen"], acc)
PY
then ok "calibration reproduces predictions exactly"; else bad "calibration reproduces predictions"; cat "$TMP/err"; fi

# 2b. the baselines beside the frozen detector on the same rows: thresholds frozen from cal.json,
# every number recomputed here from examples.jsonl; a calibration file without baseline rules
# (older files) falls back to the best rule on these rows and says so.
python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
cal = json.load(open(d + "/cal.json"))
del cal["baselines"]
json.dump(cal, open(d + "/cal_old.json", "w"))
cal["baselines"] = {"token_count": {"direction": "sideways", "threshold": 3}, "mean_logprob": {"direction": "less", "threshold": 0}}
json.dump(cal, open(d + "/cal_bad.json", "w"))
PY
baselines_check='
import json, sys, statistics as st
out, cal, src = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
s = json.load(open(out + "/summary.json"))
rows = [json.loads(l) for l in open(out + "/examples.jsonl")]
y = [r["label"] for r in rows]
def split(v):
    return [a for a, l in zip(v, y) if l == 1], [a for a, l in zip(v, y) if l == 0]
def auroc(v):  # P(valid > invalid), ties 1/2
    pos, neg = split(v)
    return sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))
def cohen(v):
    pos, neg = split(v)
    sp = (((len(pos) - 1) * st.variance(pos) + (len(neg) - 1) * st.variance(neg)) / (len(pos) + len(neg) - 2)) ** 0.5
    return (st.mean(pos) - st.mean(neg)) / sp
def acc(v, direction, t):
    return sum((a > t if direction == "greater" else a < t) == l for a, l in zip(v, y)) / len(y)
def best_acc(v):
    u = sorted(set(v))
    cuts = [float("-inf")] + [(a + b) / 2 for a, b in zip(u, u[1:])]
    return max(acc(v, dr, t) for dr in ("greater", "less") for t in cuts)
f = s["frozen"]
assert set(f) >= {"n", "accuracy", "auroc", "cohens_d", "baselines"}, f.keys()
a = auroc([r["score"] for r in rows])
assert abs(f["auroc"] - (a if s["selected"]["direction"] == "greater" else 1 - a)) < 1e-12, f
assert abs(f["cohens_d"] - cohen([r["score"] for r in rows])) < 1e-9, f
for k in ("token_count", "mean_logprob"):
    b, v = f["baselines"][k], [r[k] for r in rows]
    assert set(b) >= {"n", "accuracy", "auroc", "cohens_d", "direction", "threshold", "threshold_source"}, b
    assert b["threshold_source"] == src and b["n"] == len(rows) and 0 <= b["auroc"] <= 1, b
    if src == "calibration":
        assert b["direction"] == cal["baselines"][k]["direction"] and b["threshold"] == cal["baselines"][k]["threshold"], (b, cal)
    else:
        assert abs(b["accuracy"] - best_acc(v)) < 1e-12, (b, best_acc(v))
    assert abs(b["accuracy"] - acc(v, b["direction"], b["threshold"])) < 1e-12, b
    a = auroc(v)
    assert abs(b["auroc"] - (a if b["direction"] == "greater" else 1 - a)) < 1e-12, (k, b, a)
    assert abs(b["cohens_d"] - cohen(v)) < 1e-9, (k, b)
page = open(out + "/report.html").read()
assert "Frozen detector and the two baselines on the same rows" in page and "Token count on the same rows" in page
'
if python3 -c "import json; c=json.load(open('$TMP/cal.json')); a=json.load(open('$TMP/a/summary.json'))['baselines']
assert all(c['baselines'][k]['threshold'] == a[k]['threshold'] and c['baselines'][k]['direction'] == a[k]['direction'] for k in a), c" &&
   python3 -c "$baselines_check" "$TMP/b" "$TMP/cal.json" calibration; then
  ok "calibration: baselines frozen from the file beside the detector, recomputed from examples.jsonl"
else bad "calibration: baselines beside the frozen detector"; fi
if "${RUN[@]}" --data "$TMP/train.jsonl" --calibration "$TMP/cal_old.json" --out "$TMP/b_old" 2>"$TMP/err" &&
   python3 -c "$baselines_check" "$TMP/b_old" "$TMP/cal_old.json" in_sample; then
  ok "calibration file without baseline rules: in-sample baselines, labelled as such"
else bad "calibration without baseline rules"; cat "$TMP/err"; fi

# 3. unlabelled data with a calibration: predictions only
if "${RUN[@]}" --data "$TMP/unlabelled.jsonl" --calibration "$TMP/cal.json" --out "$TMP/c" 2>"$TMP/err" &&
   python3 -c "import json,sys; s=json.load(open('$TMP/c/summary.json')); assert s['frozen']['accuracy'] is None and s['n']==3"; then
  ok "unlabelled + calibration"; else bad "unlabelled + calibration"; cat "$TMP/err"; fi

# 4. a finished run leaves no checkpoint; --resume then has nothing to resume and gives the same
# rows (interrupted runs: test_interrupt.sh)
cp "$TMP/a/examples.jsonl" "$TMP/a_examples.jsonl"
if [ ! -e "$TMP/a/resume" ] && "${RUN[@]}" --data "$TMP/train.jsonl" --out "$TMP/a" --resume 2>"$TMP/err" &&
   cmp -s "$TMP/a/examples.jsonl" "$TMP/a_examples.jsonl" &&
   python3 -c "import json; s=json.load(open('$TMP/a/summary.json')); assert s['n_resumed']==0 and s['timing']['rows_computed']==12, s['n_resumed']"; then
  ok "no checkpoint after a finished run; --resume recomputes the same rows"; else bad "resume"; cat "$TMP/err"; fi

# 4b. the checkpoint pins the thread count (it changes a product's reduction order, so rows of
# two thread counts would mix last bits) and the rest of the model's load settings: a --resume
# with another --threads is refused with 2, naming the setting, and keeps the checkpoint
python3 -c "
import json
rows = [json.loads(l) for l in open('$TMP/train.jsonl')]
with open('$TMP/many.jsonl', 'w') as f:
    for k in range(20):
        for r in rows: f.write(json.dumps(dict(r, id=f'{r[\"id\"]}-{k}')) + '\n')"
set -m  # the background run keeps SIGINT
"${RUN[@]}" --data "$TMP/many.jsonl" --out "$TMP/i" 2>"$TMP/err" & pid=$!
while kill -0 "$pid" 2>/dev/null && [ ! -s "$TMP/i/resume/rows.jsonl" ]; do sleep 0.05; done
kill -INT "$pid" 2>/dev/null; wait "$pid"; rc=$?
set +m
if [ "$rc" != 130 ]; then bad "interrupted verify spectral: exit $rc, want 130 ($(tail -1 "$TMP/err"))"
else
  before=$(md5sum <"$TMP/i/resume/rows.jsonl")
  "$BIN" verify spectral --threads 2 --layers 0-3 --folds 3 --data "$TMP/many.jsonl" --out "$TMP/i" --resume 2>"$TMP/err"; rc=$?
  if [ "$rc" = 2 ] && grep -q "threads" "$TMP/err" && [ "$(md5sum <"$TMP/i/resume/rows.jsonl")" = "$before" ]; then
    ok "--resume with another --threads: exit 2, names it, checkpoint kept"
  else bad "--resume with another --threads: exit $rc: $(tail -1 "$TMP/err")"; fi
fi

# 5. truncation counted
if "${RUN[@]}" --data "$TMP/train.jsonl" --max-tokens 8 --out "$TMP/t" 2>"$TMP/err" &&
   python3 -c "import json; s=json.load(open('$TMP/t/summary.json')); assert s['n_truncated']==12 and s['max_tokens']==8"; then
  ok "truncation counted"; else bad "truncation"; cat "$TMP/err"; fi

# 6. bad input: clear message with file:line, non-zero exit, no outputs
check_bad() {  # name file expected-substring [extra args]
  local name=$1 file=$2 want=$3; shift 3
  if "${RUN[@]}" --data "$TMP/$file" --out "$TMP/bad_$name" "$@" 2>"$TMP/err"; then
    bad "$name: should fail"
  elif grep -q -- "$want" "$TMP/err" && [ ! -e "$TMP/bad_$name/summary.json" ]; then
    ok "$name: $(head -1 "$TMP/err")"
  else bad "$name: message"; cat "$TMP/err"; fi
}
check_bad notjson notjson.jsonl "notjson.jsonl:4"
check_bad missing missing.jsonl "missing.jsonl:4: field 'text' is missing"
check_bad label2 label2.jsonl "label2.jsonl:4: field 'label': expected 0 (invalid) or 1 (valid), found 2"
check_bad oneclass oneclass.jsonl "all 6 rows have label 1"
check_bad empty empty.jsonl "empty.jsonl:4: field 'text' is empty"
check_bad nolabels unlabelled.jsonl "needs 0/1 labels"
check_bad badcal train.jsonl "cal_bad.json: field 'baselines.token_count.direction'" --calibration "$TMP/cal_bad.json"
check_bad bothcal train.jsonl "exclude" --calibration "$TMP/cal.json" --save-calibration "$TMP/x.json"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
