#!/usr/bin/env bash
# lens / data label twohop / patch / edit creme / edit eval / --edit on the default model, with a
# few rows so it stays quick (issue 11): documented summary keys, the lens's last layer agrees
# with the model (Paris first for the Eiffel Tower prompt), an edit file applied through --edit
# changes the logits and an identity edit file for another model is refused; bad input (no
# bridge entity, an answer that tokenises to nothing, layers out of range, an edit for another
# model) gives one clear message, a non-zero exit and no output.
# Usage: bash test_lens.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
# One thread: ctest runs this beside other tests on 2 cores (test_interrupt.sh).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
M=(--threads 1)

P="The capital of the country where the Eiffel Tower is located is"
if "$BIN" lens "${M[@]}" --prompt "$P" --answers "Paris,France" --out "$TMP/lens" 2>"$TMP/err" &&
   python3 - "$TMP/lens" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
for k in ["command", "model", "prompt", "n_tokens", "positions", "read_position", "final_norm",
          "top_k", "n_layers", "answers"]:
    assert k in s, k
L = s["n_layers"]
rows = [json.loads(l) for l in open(d + "/examples.jsonl")]
assert len(rows) == L and rows[-1]["layer"] == L - 1
paris = s["answers"][0]
assert len(paris["p_by_layer"]) == L
assert paris["rank_by_layer"][-1] == 0, paris["rank_by_layer"]
assert rows[-1]["top"][0]["text"] == " Paris", rows[-1]["top"][0]
assert "<svg" in open(d + "/report.html").read()
print("lens: p(Paris) at the last layer", round(paris["p_by_layer"][-1], 3))
PY
then ok "lens on the Eiffel Tower prompt"; else bad "lens"; cat "$TMP/err"; fi

# the layer convention: embed (the token embeddings) and a block chosen by --layers; block L-1 is
# the same reading as in the full run
if "$BIN" lens "${M[@]}" --prompt "$P" --answers "Paris" --layers embed,29 --out "$TMP/lens_embed" 2>"$TMP/err" &&
   python3 - "$TMP/lens" "$TMP/lens_embed" <<'PY'
import json, sys
a = json.load(open(sys.argv[1] + "/summary.json"))
b = json.load(open(sys.argv[2] + "/summary.json"))
assert a["layers"] == list(range(a["n_layers"])) and a["layer_convention"] == "block", a["layers"]
assert b["layers"] == ["embed", 29] and b["n_layers"] == 2, b["layers"]
pa, pb = a["answers"][0]["p_by_layer"], b["answers"][0]["p_by_layer"]
assert len(pb) == 2 and abs(pb[1] - pa[29]) < 1e-6, (pb, pa[29])
rows = [json.loads(l) for l in open(sys.argv[2] + "/examples.jsonl")]
assert [r["layer"] for r in rows] == ["embed", 29], rows
PY
then ok "lens --layers embed,29"; else bad "lens --layers embed,29: $(tail -2 "$TMP/err")"; fi
rc=0; "$BIN" lens "${M[@]}" --prompt "$P" --layers 30 --out "$TMP/bad_layers" 2>"$TMP/err" || rc=$?
if [ "$rc" = 2 ] && grep -q -- "--layers: layer 30 is out of range: this model has blocks 0..29" "$TMP/err" && [ ! -e "$TMP/bad_layers" ]
then ok "lens --layers 30: exit 2, one message, no output"; else bad "lens --layers 30: rc $rc $(cat "$TMP/err")"; fi

"$BIN" data make twohop --n 6 --seed 3 --out "$TMP/twohop.jsonl" 2>/dev/null
if "$BIN" data label twohop "${M[@]}" --data "$TMP/twohop.jsonl" --out "$TMP/labelled.jsonl" >"$TMP/counts.json" 2>"$TMP/err" &&
   python3 - "$TMP/labelled.jsonl" "$TMP/counts.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
c = json.load(open(sys.argv[2]))
assert len(rows) == 6 and c["n"] == 6 and sum(c["categories"].values()) == 6, c
for r in rows:
    assert r["category"] in c["categories"], r["category"]
    assert set(r["label"]) == {"first_hop", "second_hop", "composition"}
print("label counts", c["categories"])
PY
then ok "data label twohop"; else bad "data label twohop"; cat "$TMP/err"; fi

if "$BIN" patch "${M[@]}" --data "$TMP/labelled.jsonl" --category all --limit 1 --components resid,attn \
     --positions last --out "$TMP/patch" 2>"$TMP/err" &&
   python3 - "$TMP/patch" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
L = s["n_layers"]
assert s["n"] == 1 and s["guide_runs"] == 1 and s["patched_sequences"] == L * 2, s
assert set(s["cells"]) == {"resid_last", "attn_last"}
# the guide's last-layer residual at the last token fixes the first answer token's rank
assert s["cells"]["resid_last"]["mean_rank"][-1] == s["guide_mean_rank"], s
PY
then ok "patch"; else bad "patch"; cat "$TMP/err"; fi

if "$BIN" edit creme "${M[@]}" --data "$TMP/labelled.jsonl" --category all --split all --limit 2 \
     --layers 8-9 --templates 1 --out "$TMP/edit.safetensors" >"$TMP/creme.json" 2>"$TMP/err" &&
   "$BIN" edit eval "${M[@]}" --edit "$TMP/edit.safetensors" --data "$TMP/labelled.jsonl" --category all \
     --split all --limit 1 --out "$TMP/eval" 2>>"$TMP/err" &&
   "$BIN" lens "${M[@]}" --edit "$TMP/edit.safetensors" --prompt "$P" --answers Paris --out "$TMP/lens2" 2>>"$TMP/err" &&
   python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/creme.json"))
assert c["layers"] == [8, 9] and len(c["layer_stats"]) == 2, c
s = json.load(open(d + "/eval/summary.json"))
for g in ["correction", "paraphrase", "generalization"]:
    for k in ["share_target_gt_wrong_pre", "share_target_gt_wrong_post", "mean_p_target_pre", "mean_p_target_post"]:
        assert k in s[g], (g, k)
assert "mean_abs_delta_p_own_answer" in s["specificity"] and "share_answer_unchanged" in s["specificity"]
assert s["n"] == 1
a = json.load(open(d + "/lens/summary.json"))["answers"][0]["p_by_layer"]
b = json.load(open(d + "/lens2/summary.json"))["answers"][0]["p_by_layer"]
assert a[:8] == b[:8] and a[-1] != b[-1], (a[-1], b[-1])   # layers before the edit unchanged
PY
then ok "edit creme + edit eval + --edit"; else bad "edit creme / eval"; cat "$TMP/err"; fi

# ---- bad input
expect_fail() {  # name, grep pattern, command...
  local name=$1 pat=$2; shift 2
  if "$@" >/dev/null 2>"$TMP/err"; then bad "$name: exit 0"; return; fi
  if grep -q -- "$pat" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -le 2 ]; then ok "$name"; else bad "$name"; cat "$TMP/err"; fi
}
python3 - "$TMP/labelled.jsonl" "$TMP" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
d = sys.argv[2]
r = dict(rows[0]); del r["bridge_answer"]
open(d + "/nobridge.jsonl", "w").write(json.dumps(rows[1]) + "\n" + json.dumps(r) + "\n")
# another model's edit: right name and format, wrong shape
import struct
hdr = {"__metadata__": {"format": "reasonscope.weight_delta.v1", "identity.arch": "llama",
                        "base_mean_abs.model.layers.0.self_attn.o_proj.weight": "0.01"},
       "model.layers.0.self_attn.o_proj.weight": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}
h = json.dumps(hdr).encode(); h += b" " * ((8 - len(h) % 8) % 8)
open(d + "/other.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + b"\0" * 64)
PY
expect_fail "case without a bridge entity" "nobridge.jsonl:2: field 'bridge_answer' is missing" \
  "$BIN" patch "${M[@]}" --data "$TMP/nobridge.jsonl" --out "$TMP/bad1"
[ ! -e "$TMP/bad1" ] || bad "no output dir after a bad case"
expect_fail "answer that tokenises to nothing" "answer '' tokenises to nothing" \
  "$BIN" lens "${M[@]}" --prompt "$P" --answers "Paris,," --out "$TMP/bad2"
expect_fail "layers out of range" "layer 40 is out of range" \
  "$BIN" edit creme "${M[@]}" --data "$TMP/labelled.jsonl" --category all --layers 28-40 --out "$TMP/bad3.safetensors"
[ ! -e "$TMP/bad3.safetensors" ] || bad "no edit file after bad layers"
expect_fail "edit file for another model" "another model" \
  "$BIN" lens "${M[@]}" --edit "$TMP/other.safetensors" --prompt "$P" --out "$TMP/bad4"

[ "$fails" -eq 0 ] && echo "all passed" || { echo "$fails failed"; exit 1; }
