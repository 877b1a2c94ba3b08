#!/usr/bin/env bash
# `reasonscope steer` on the default model, briefly: train writes a llama.cpp-layout GGUF plus
# VEC.summary.json; eval writes summary.json / examples.jsonl / report.html with the documented
# keys; --steer on generate/score/trace changes the output (and --steer-alpha 0 does not); convert
# shifts a cvector-generator file; bad input (model mismatch, no direction tensors, an empty pair
# side) gives one clear message, a non-zero exit and no output.
# Usage: bash test_steer.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
DATA=$SRC/tests/methods/steer/data
export OMP_NUM_THREADS=1
T="--threads 1"

"$BIN" data make babi15 --n 24 --seed 3 --out "$TMP/b.jsonl" 2>/dev/null
"$BIN" data make pairs --from "$TMP/b.jsonl" --seed 3 --out "$TMP/p.jsonl" 2>/dev/null

if "$BIN" steer train $T --data "$TMP/p.jsonl" --method pca-c --layers 8-10 --out "$TMP/v.gguf" 2>"$TMP/err" &&
   python3 - "$TMP" <<'PY'
import json, struct, sys
d = sys.argv[1]
s = json.load(open(d + "/v.summary.json"))
assert s["command"] == "steer train" and s["method"] == "pca-c" and s["n_pairs"] == 24, s
assert [l["layer"] for l in s["layers"]] == [8, 9, 10], s["layers"]
for l in s["layers"]:
    for k in ("norm", "auroc_train", "auroc_heldout", "pair_acc_heldout", "cos_rc"):
        assert k in l, k
b = open(d + "/v.gguf", "rb").read()
assert b[:4] == b"GGUF"
for name in (b"general.architecture", b"controlvector", b"controlvector.model_hint",
             b"controlvector.layer_count", b"direction.8", b"direction.10"):
    assert name in b, name
PY
then ok "train"; else bad "train: $(tail -3 "$TMP/err")"; fi

# The first 12 rows (4 calibration, 8 test): the same checks as on all 24 at half the forwards (CI time).
if "$BIN" steer eval $T --vector "$TMP/v.gguf" --layers 9-10 --alpha -2,2 --data "$TMP/b.jsonl" --limit 12 \
     --calib 4 --bootstrap 200 --out "$TMP/eval" 2>"$TMP/err" &&
   python3 - "$TMP/eval" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
assert s["format"] == "mcq" and s["n_calib"] == 4 and s["n_test"] == 8, s
assert len(s["rows"]) == 6, s["rows"]  # 2 layers x alphas {-2, 0, 2}
for r in s["rows"]:
    for k in ("layer", "alpha", "accuracy_first_token", "accuracy_sequence", "mean_kl",
              "mean_entropy_bits", "p_correct", "p_incorrect"):
        assert k in r, k
    if r["alpha"] == 0:
        assert r["mean_kl"] == 0.0, r
    else:
        assert r["mean_kl"] > 0, r
assert set(s["selected"]) == {"layer", "alpha"}
t = s["test"]
for k in ("baseline_accuracy", "steered_accuracy", "delta", "ci95"):
    assert k in t, k
assert t["ci95"][0] <= t["delta"] <= t["ci95"][1]
assert s["training_separation"] is not None
rows = [json.loads(l) for l in open(d + "/examples.jsonl")]
assert len(rows) == 12 and sum(r["split"] == "test" for r in rows) == 8
html = open(d + "/report.html").read()
assert "<svg" in html and "Per-layer separation" in html
PY
then ok "eval"; else bad "eval: $(tail -3 "$TMP/err")"; fi

# --scoring shared (the default: the unsteered blocks below a setting's layer run once per row,
# a layer's settings as the rows of one batch) against --scoring separate (one whole forward per
# setting and row), with candidates of several tokens (the continuation pass). --batch 1 gives
# every product the shape separate gives it: the same bytes. Batched rows may reorder a GEMM's
# sums on another BLAS: the choice and every accuracy must still agree, numbers within 1e-4.
# 8 rows (3 calibration, 5 test; 3 with a longer answer): each setting and row is compared, so
# more rows repeat the same checks (CI time).
python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + "/b.jsonl")][:8]
extra = ["hippopotamus calf", "sheep dog", "wolfhound", "cat burglar"]
with open(d + "/bm.jsonl", "w") as f:
    for i, r in enumerate(rows):
        r["wrong_answers"] = r["wrong_answers"][:2] + [extra[i % 4]]
        if i % 3 == 0:
            r["answer"] += " cub"
        f.write(json.dumps(r) + "\n")
PY
for s in "separate" "shared --batch 1" "shared"; do
  "$BIN" steer eval $T --vector "$TMP/v.gguf" --layers 9-10 --alpha -2,2 --data "$TMP/bm.jsonl" --calib 3 \
    --bootstrap 100 --select-by sequence --scoring $s --out "$TMP/sc-${s// /}" 2>"$TMP/err-${s// /}" ||
    bad "eval --scoring $s: $(tail -2 "$TMP/err-${s// /}")"
done
if out=$(python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
def load(name):
    s = json.load(open(d + "/" + name + "/summary.json"))
    s.pop("seconds")
    return s, [json.loads(l) for l in open(d + "/" + name + "/examples.jsonl")]
ref = load("sc-separate")
assert any(len(r["baseline"]["candidate_logprobs"]) == 4 for r in ref[1])
assert load("sc-shared--batch1") == ref, "--batch 1 differs from separate"
got = load("sc-shared")
worst = 0.0
def walk(a, b, path):
    global worst
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a: walk(a[k], b[k], path + "." + k)
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)): walk(x, y, "%s[%d]" % (path, i))
    elif isinstance(a, float) and "accuracy" not in path and "ci95" not in path and "delta" not in path:
        assert abs(a - b) <= 1e-4, (path, a, b)
        worst = max(worst, abs(a - b))
    else:
        assert a == b, (path, a, b)
walk(ref, got, "")
print("bitwise" if got == ref else "max difference %.3g" % worst)
PY
); then ok "eval --scoring shared = separate ($out)"; else bad "eval --scoring shared vs separate: $out"; fi

# --steer on generate / score / trace.
P="Sheep are afraid of wolves. Gertrude is a sheep. Gertrude is afraid of"
g0=$("$BIN" generate $T -p "$P" -n 8 2>/dev/null)
g1=$("$BIN" generate $T -p "$P" -n 8 --steer "$TMP/v.gguf" --steer-layer 10 --steer-alpha 0 2>/dev/null)
g2=$("$BIN" generate $T -p "$P" -n 8 --steer "$TMP/v.gguf" --steer-layer 10 --steer-alpha 30 \
       --steer "$TMP/v.gguf" --steer-layer 9 --steer-alpha 30 2>/dev/null)
if [ -n "$g0" ] && [ "$g0" = "$g1" ] && [ "$g0" != "$g2" ]; then ok "generate --steer"; else bad "generate --steer: '$g0' / '$g1' / '$g2'"; fi
printf '%s\n' "{\"prefix\": \"$P\", \"text\": \" wolves\"}" >"$TMP/s.jsonl"
"$BIN" score $T --data "$TMP/s.jsonl" --field text --prefix-field prefix --out "$TMP/s0" 2>/dev/null
"$BIN" score $T --data "$TMP/s.jsonl" --field text --prefix-field prefix --out "$TMP/s1" \
  --steer "$TMP/v.gguf" --steer-layer 10 --steer-alpha 20 2>/dev/null
if python3 -c "
import json,sys
a=json.load(open('$TMP/s0/summary.json'))['sum_logprob']; b=json.load(open('$TMP/s1/summary.json'))['sum_logprob']
sys.exit(0 if abs(a-b) > 1e-3 else 1)"; then ok "score --steer"; else bad "score --steer"; fi
if "$BIN" trace $T -p "$P" --hooks blocks.10.hook_resid_post --out "$TMP/t0.safetensors" 2>/dev/null &&
   "$BIN" trace $T -p "$P" --hooks blocks.10.hook_resid_post --out "$TMP/t1.safetensors" \
     --steer "$TMP/v.gguf" --steer-layer 10 --steer-alpha 1 2>/dev/null &&
   ! cmp -s "$TMP/t0.safetensors" "$TMP/t1.safetensors"; then ok "trace --steer"; else bad "trace --steer"; fi

# convert: a real cvector-generator file (direction.11 measured at block 10) -> direction.10
if "$BIN" steer convert --in "$DATA/cvgen_mean.gguf" --from-llama-cpp-cvector --layers 10 --out "$TMP/c.gguf" 2>"$TMP/err" &&
   grep -q "direction.10" "$TMP/c.gguf" && ! grep -q "direction.11" "$TMP/c.gguf"; then ok "convert"; else bad "convert: $(tail -2 "$TMP/err")"; fi

# Bad input.
expect_fail() {  # name, expected message part, command...
  local name=$1 want=$2; shift 2
  if "$@" >"$TMP/out" 2>"$TMP/err"; then bad "$name: exit 0"; return; fi
  if grep -q -- "$want" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -le 2 ]; then ok "$name"; else bad "$name: $(cat "$TMP/err")"; fi
}
python3 - "$TMP" <<'PY'
import struct, sys
d = sys.argv[1]
def gguf(path, tensors, arch=b"controlvector"):
    kv = struct.pack("<Q", 20) + b"general.architecture" + struct.pack("<I", 8) + struct.pack("<Q", len(arch)) + arch
    infos, data = b"", b""
    for name, vals in tensors:
        infos += struct.pack("<Q", len(name)) + name + struct.pack("<I", 1) + struct.pack("<Q", len(vals)) + struct.pack("<I", 0) + struct.pack("<Q", len(data))
        data += struct.pack("<%df" % len(vals), *vals)
        data += b"\0" * ((-len(data)) % 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 1) + kv + infos
    head += b"\0" * ((-len(head)) % 32)
    open(path, "wb").write(head + data)
gguf(d + "/narrow.gguf", [(b"direction.5", [0.5] * 64)])
gguf(d + "/deep.gguf", [(b"direction.40", [0.5] * 576)])
gguf(d + "/nodir.gguf", [(b"other.1", [0.5] * 576)])
open(d + "/emptyside.jsonl", "w").write('{"positive": "a b c", "negative": "a b d"}\n{"positive": "x", "negative": ""}\n')
PY
expect_fail "n_embd mismatch" "n_embd 64 but the model's d_model is 576" "$BIN" generate $T -p hi -n 1 --steer "$TMP/narrow.gguf"
expect_fail "layer count mismatch" "layer 40 but the model has 30 layers" "$BIN" steer eval $T --vector "$TMP/deep.gguf" --layer 5 --data "$TMP/b.jsonl" --out "$TMP/x1"
expect_fail "no direction tensors" "no direction.N tensors" "$BIN" score $T --data "$TMP/s.jsonl" --field text --out "$TMP/x2" --steer "$TMP/nodir.gguf"
expect_fail "empty pair side" "emptyside.jsonl:2: field 'negative' is empty" "$BIN" steer train $T --data "$TMP/emptyside.jsonl" --out "$TMP/x3.gguf"
expect_fail "layer 0 export" "layer 0 cannot be exported" "$BIN" steer train $T --data "$TMP/p.jsonl" --layers 0-2 --out "$TMP/x4.gguf"
for x in x1 x2 x3.gguf x4.gguf; do [ -e "$TMP/$x" ] && bad "output left behind: $x"; done

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
