#!/usr/bin/env bash
# `reasonscope audit` on a random-weight model made here (a 2-block `cluster train` model after one
# step, context 64 tokens): every section runs or says why not (prompts longer than the context
# are skipped with that reason), DIR/summary.json has each section under its name plus the
# verdict, a second run recomputes nothing, and an interrupt (SIGINT) leaves only whole files
# from which a rerun finishes. Needs no downloaded model.
# Usage: bash test_audit.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
export RS_MINIF2F_FIXTURE=$(cd "$(dirname "$0")/../data/fixtures/minif2f-lean" && pwd)/dev.jsonl

"$BIN" cluster train --tasks 3 --distributions 2 --layers 2 --d-model 16 --heads 2 --steps 1 --eval-every 1 \
  --eval-rows 8 --batch 8 --threads 1 --out "$TMP/model" 2>"$TMP/err" || { bad "tiny model: $(tail -2 "$TMP/err")"; exit 1; }

# ---- a whole audit
if "$BIN" audit --model "$TMP/model" --threads 1 --out "$TMP/a" >"$TMP/out" 2>"$TMP/err" &&
   grep -q "^report: $TMP/a/report.html$" "$TMP/out" && grep -q "^Strong: " "$TMP/out" && grep -q "^How sure: " "$TMP/out" &&
   python3 - "$TMP/a" <<'PY'
import json, os, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
names = ["spectral", "qk", "steer", "twohop", "cluster"]
for k in ["command", "model", "budget", "seed", "model_info", "sections", "verdict", "seconds"] + names:
    assert k in s, k
assert s["budget"] == "quick" and s["model_info"]["n_layer"] == 2, s["model_info"]
assert s["verdict"]["lines"] and s["verdict"]["lines"][0].startswith("Strong:")
for n in names:
    st = s["sections"][n]
    assert st["status"] in ("ok", "skipped"), (n, st)
    if st["status"] == "skipped":
        assert st["reason"] and s[n]["reason"] == st["reason"], (n, st)
    else:
        assert n in s["verdict"]["findings"], n
    sec = json.load(open(f"{d}/{n}/summary.json"))
    assert sec["audit"] == {"model": s["model"], "budget": "quick", "seed": 0, "dtype": "f32", "device": "cpu",
                            "layer_convention_version": 2, "sections_version": 2}, sec["audit"]
    assert os.path.getsize(f"{d}/{n}/report.html") > 0
# the spectral and cluster prompts fit the 64-token context (spectral truncates), so they run
for n in ("spectral", "cluster"):
    assert s["sections"][n]["status"] == "ok", (n, s["sections"][n])
    assert os.path.getsize(f"{d}/{n}/examples.jsonl") > 0
assert "context" in s["sections"]["qk"]["reason"], s["sections"]["qk"]
# spectral: two rows, formal proofs (the built-in miniF2F sample: 20 valid + 20 rejected proofs,
# each exactly as in the fixture) and chains of thought, each with its own verdict sentence
src = {}
for l in open(os.environ["RS_MINIF2F_FIXTURE"]):
    r = json.loads(l); src[r["id"]] = r
rows = [json.loads(l) for l in open(d + "/spectral/inputs/minif2f.jsonl")]
assert len(rows) == 40 and sum(r["label"] for r in rows) == 20 and all(src[r["id"]] == r for r in rows)
sp = s["spectral"]
assert sp["setting"] == "minif2f" and sp["n"] == 40 and sp["n_valid"] == 20, (sp["n"], sp["n_valid"])
assert sp["cot_pairs"]["n"] == 80 and "nested_cv_accuracy" in sp["cot_pairs"] and "nested_cv_accuracy" in sp
assert [st["step"] for st in sp["audit_steps"]] == ["verify-spectral-minif2f", "verify-spectral-cot-pairs"], sp["audit_steps"]
text = s["verdict"]["findings"]["spectral"]["text"]
assert text.count("Formal proofs (miniF2F") == 1 and text.count("Informal chains of thought") == 1, text
# cluster: the from-scratch run (separator position) beside the pretrained model's clustering
fs = s["cluster"]["from_scratch"]
assert fs["position"] == "separator" and fs["steps"] == 60 and 0 <= fs["val_accuracy"] <= 1, fs
assert [b["layer"] for b in fs["by_layer"]] == ["embed", 0, 1, 2, 3, 4, 5], fs["by_layer"]
assert all(-1 <= b["ari"] <= 1 for b in fs["by_layer"]) and fs["best_layer"]["ari"] == max(b["ari"] for b in fs["by_layer"])
tr = json.load(open(d + "/cluster/scratch/summary.json"))
assert tr["final"]["ari_by_layer"] == [b["ari"] for b in fs["by_layer"]]
assert "The paper's own experiment" in s["verdict"]["findings"]["cluster"]["text"]
# one layer convention: the cluster child names the embeddings "embed", then blocks 0..L-1
cl = json.load(open(d + "/cluster/summary.json"))
assert cl["layer_convention"] == "block" and [b["layer"] for b in cl["by_layer"]] == ["embed", 0, 1], cl["by_layer"]
page = open(d + "/report.html").read()
assert page.count("<svg") >= 4 and "Verdict" in page and "Skipped: " in page
for rel in ("spectral/report.html", "spectral/cot_pairs/report.html", "cluster/scratch/report.html"):
    assert f"From {rel}" in page, rel
for root, _, files in os.walk(d):
    for f in files:
        assert ".tmp." not in f, os.path.join(root, f)
print("sections:", {n: s["sections"][n]["status"] for n in names})
PY
then ok "audit on a tiny model: summary keys, every section ran or says why not"
else bad "audit: $(tail -3 "$TMP/err")"; fi

# ---- a second run recomputes nothing
stat -c %Y "$TMP"/a/*/summary.json >"$TMP/mtimes1"
if "$BIN" audit --model "$TMP/model" --threads 1 --out "$TMP/a" >"$TMP/out2" 2>"$TMP/err2" &&
   [[ $(grep -c "finished earlier" "$TMP/err2") == 5 ]] && ! grep -q " \.\.\.$" "$TMP/err2" &&
   stat -c %Y "$TMP"/a/*/summary.json | cmp -s - "$TMP/mtimes1" &&
   diff <(tail -n +2 "$TMP/out") <(tail -n +2 "$TMP/out2") >/dev/null; then
  ok "rerun keeps all 5 sections and prints the same verdict"
else bad "rerun: $(cat "$TMP/err2" | tail -5)"; fi

# ---- another seed starts afresh (cmd_audit.cpp decides it the same way for every section; spectral
# runs here in ~1.5 s, cluster's from-scratch training in ~12 s: CI time)
if "$BIN" audit --model "$TMP/model" --threads 1 --seed 1 --only spectral --out "$TMP/a" >/dev/null 2>"$TMP/err3" &&
   ! grep -q "finished earlier" "$TMP/err3" &&
   python3 -c "import json,sys; assert json.load(open('$TMP/a/spectral/summary.json'))['audit']['seed'] == 1"; then
  ok "another seed recomputes the section"
else bad "seed change: $(tail -3 "$TMP/err3")"; fi

# ---- SIGINT mid-run: exit 130, whole files only; the rerun finishes. The signal comes once the
# last section's `cluster train` has written its checkpoint, so the rerun must resume that step
# (an audit that ran its steps without --resume failed here: "holds a checkpoint").
set -m  # the audit keeps SIGINT (a background job of a non-interactive shell would ignore it)
"$BIN" audit --model "$TMP/model" --threads 1 --out "$TMP/b" >/dev/null 2>"$TMP/err4" & pid=$!
set +m
for _ in $(seq 1800); do [ -e "$TMP/b/cluster/scratch/checkpoint" ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
kill -INT $pid 2>/dev/null; wait $pid; rc=$?
if [[ $rc == 130 ]] && [ -e "$TMP/b/cluster/scratch/checkpoint" ] &&
   python3 - "$TMP/b" <<'PY'
import json, os, sys
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        assert ".tmp." not in f, p
        if f.endswith(".jsonl"):
            data = open(p, "rb").read()
            assert not data or data.endswith(b"\n"), p
            for line in data.splitlines():
                json.loads(line)
        if f.endswith(".json"):
            json.load(open(p))
PY
then ok "interrupt in cluster train (exit $rc): its checkpoint kept, no temporary or torn files"
else bad "interrupt: exit $rc $(tail -3 "$TMP/err4")"; fi
if "$BIN" audit --model "$TMP/model" --threads 1 --out "$TMP/b" >/dev/null 2>"$TMP/err5" &&
   python3 -c "import json; s=json.load(open('$TMP/b/summary.json')); assert all(s['sections'][n]['status'] in ('ok','skipped') for n in s['sections'])"; then
  ok "rerun after the interrupt finishes ($(grep -c 'finished earlier' "$TMP/err5") sections kept)"
else bad "rerun after interrupt: $(tail -3 "$TMP/err5")"; fi

# ---- a section whose command fails is marked error, the page and summary are still written, exit 1
# (its input damaged inside a folder of this same audit, so the command refuses it before loading)
mkdir -p "$TMP/e/cluster/inputs" && cp "$TMP/b/cluster/audit_run.json" "$TMP/e/cluster/" &&
  echo '{not json' >"$TMP/e/cluster/inputs/instructions.jsonl"
if "$BIN" audit --model "$TMP/model" --threads 1 --only cluster --out "$TMP/e" >/dev/null 2>"$TMP/err7"; then bad "failed section: exit 0"
elif grep -q "1 section(s) failed" "$TMP/err7" &&
     python3 -c "import json; s=json.load(open('$TMP/e/summary.json')); c=s['sections']['cluster']; assert c['status']=='error' and 'instructions.jsonl:1' in c['reason'], c" &&
     grep -q "Failed: " "$TMP/e/report.html"; then ok "failed section: marked error, page written, exit 1"
else bad "failed section: $(tail -2 "$TMP/err7")"; fi

# ---- the --model help names installed models' names
if "$BIN" audit --help | grep -q "installed model's name"; then ok "audit --help: --model takes a name"
else bad "audit --help: --model text"; fi

# ---- bad input
if "$BIN" audit --model "$TMP/none.gguf" --out "$TMP/c" >/dev/null 2>"$TMP/err6"; then bad "missing model: exit 0"
elif grep -q "none.gguf" "$TMP/err6" && [[ ! -e $TMP/c/summary.json ]]; then ok "missing model: one message"
else bad "missing model: $(cat "$TMP/err6")"; fi

[[ $fails == 0 ]] && echo "all passed" || { echo "$fails failed"; exit 1; }
