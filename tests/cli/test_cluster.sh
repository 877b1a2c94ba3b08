#!/usr/bin/env bash
# `reasonscope cluster`: a tiny `cluster train` writes a model directory that other commands
# load (tokenize, cluster analyze), summary.json / examples.jsonl / report.html with the
# documented keys; `cluster analyze` refuses one class only, fewer rows than clusters and a
# missing label field with one clear message, a non-zero exit and no output files.
# Needs no downloaded model: analyze runs on the model trained here.
# Usage: bash test_cluster.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"

if "$BIN" cluster train --tasks 3 --distributions 2 --layers 1 --d-model 16 --heads 2 --steps 6 \
     --eval-every 3 --eval-rows 30 --batch 16 --threads 1 --out "$TMP/model" 2>"$TMP/err" &&
   python3 - "$TMP/model" <<'PY'
import json, os, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
for k in ("config", "steps", "curves", "final", "timing"):
    assert k in s, k
assert s["steps"] == 6 and s["config"]["tasks"] == 3
acc = s["curves"]["accuracy"]
assert [(p["step"], p["split"]) for p in acc] == [(0, "train"), (0, "val"), (3, "train"), (3, "val"), (6, "train"), (6, "val")], acc
assert set(acc[0]) == {"step", "split", "accuracy", "loss"}
cl = s["curves"]["clustering"]
assert len(cl) == 3 * 2 * 2 and set(cl[0]) == {"step", "split", "layer", "ari", "nmi", "silhouette"}
# one layer convention (README): the embeddings are "embed", block l is l
assert [p["layer"] for p in cl[:2]] == ["embed", 0], cl[:2]
assert s["layers"] == ["embed", 0] and s["layer_convention"] == "block" and s["layer_convention_version"] == 2, s
f = s["final"]
for k in ("train_accuracy", "val_accuracy", "ari_by_layer", "nmi_by_layer"):
    assert k in f, k
assert len(f["ari_by_layer"]) == 2
rows = [json.loads(l) for l in open(d + "/examples.jsonl")]
assert len(rows) == 30 and {"task", "instruction", "input", "output", "predicted", "correct"} <= set(rows[0])
for fn in ("config.json", "model.safetensors", "tokenizer.json", "report.html"):
    assert os.path.getsize(os.path.join(d, fn)) > 0, fn
assert "<svg" in open(d + "/report.html").read()
PY
then ok "cluster train writes model, summary, examples, report"; else bad "cluster train: $(tail -3 "$TMP/err")"; fi

if out=$("$BIN" tokenize --model "$TMP/model" --text "please map the word with dax | cat" --json 2>"$TMP/err") &&
   python3 -c 'import json,sys; t=json.loads(sys.argv[1]); ids=t["ids"] if isinstance(t,dict) else t; assert len(ids)==8, t' "$out"; then
  ok "the trained model's tokenizer loads (one token per word)"
else bad "tokenize on the trained model: $out $(tail -3 "$TMP/err")"; fi

"$BIN" data make instructions --n 60 --seed 4 --tasks 3 --distributions 2 --out "$TMP/instr.jsonl" 2>/dev/null
if "$BIN" cluster analyze --model "$TMP/model" --data "$TMP/instr.jsonl" --label-field task \
     --text-field instruction --threads 1 --out "$TMP/an" 2>"$TMP/err" &&
   python3 - "$TMP/an" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["n_rows"] == 60 and s["n_classes"] == 3, s
bl = s["by_layer"]
assert [b["layer"] for b in bl] == ["embed", 0], bl  # default --layers embed,all
assert s["layers"] == ["embed", 0] and s["layer_convention"] == "block", s
for b in bl:
    assert {"layer", "ari", "nmi", "silhouette", "ari_shuffled", "nmi_shuffled"} <= set(b)
    assert -1 <= b["ari"] <= 1 and 0 <= b["nmi"] <= 1
rows = [json.loads(l) for l in open(sys.argv[1] + "/examples.jsonl")]
assert len(rows) == 60 and len(rows[0]["cluster_by_layer"]) == 2
PY
then ok "cluster analyze on the trained model"; else bad "cluster analyze: $(tail -3 "$TMP/err")"; fi

# Bad input: each must fail with one message naming the problem, and write nothing.
expect_fail() {  # name, expected substring, args...
  local name=$1 want=$2; shift 2
  rm -rf "$TMP/bad"
  if "$BIN" cluster analyze --model "$TMP/model" --threads 1 --out "$TMP/bad" "$@" 2>"$TMP/err"; then
    bad "$name: exit 0"
  elif ! grep -qF -- "$want" "$TMP/err"; then
    bad "$name: message was: $(cat "$TMP/err")"
  elif [ -e "$TMP/bad/summary.json" ] || [ -e "$TMP/bad/examples.jsonl" ]; then
    bad "$name: left output files"
  else
    ok "$name: $(head -1 "$TMP/err")"
  fi
}
printf '%s\n' '{"text": "a b", "task": "x"}' '{"text": "c d", "task": "x"}' '{"text": "e f", "task": "x"}' >"$TMP/one.jsonl"
expect_fail "one class only" "only one class ('x')" --data "$TMP/one.jsonl" --label-field task
printf '%s\n' '{"text": "a b", "task": "x"}' '{"text": "c d", "task": "y"}' >"$TMP/few.jsonl"
expect_fail "fewer rows than clusters" "2 rows for 2 distinct labels" --data "$TMP/few.jsonl" --label-field task
printf '%s\n' '{"text": "a b", "task": "x"}' '{"text": "c d"}' '{"text": "e f", "task": "y"}' >"$TMP/missing.jsonl"
expect_fail "missing label field" "missing.jsonl:2: field 'task' is missing" --data "$TMP/missing.jsonl" --label-field task
expect_fail "layer out of range" "--layers: layer 5 is out of range: this model has blocks 0..0" \
  --data "$TMP/instr.jsonl" --label-field task --text-field instruction --layers 0-5
expect_fail "negative layer" "--layers: negative" --data "$TMP/instr.jsonl" --label-field task --text-field instruction --layers=-1
# `all` is every block, without the embeddings
if "$BIN" cluster analyze --model "$TMP/model" --data "$TMP/instr.jsonl" --label-field task --text-field instruction \
     --layers all --threads 1 --out "$TMP/an2" 2>"$TMP/err" &&
   python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert [b["layer"] for b in s["by_layer"]] == [0], s["by_layer"]' \
     "$TMP/an2/summary.json"; then
  ok "cluster analyze --layers all: blocks only"
else bad "cluster analyze --layers all: $(tail -3 "$TMP/err")"; fi
rc=0; "$BIN" cluster analyze --model "$TMP/model" --data "$TMP/instr.jsonl" --label-field task --text-field instruction \
  --layers 9 --threads 1 --out "$TMP/bad" \
  2>/dev/null || rc=$?
[ "$rc" = 2 ] && ok "bad --layers exits 2 (usage)" || bad "bad --layers exit status $rc, expected 2"

exit $((fails > 0))
