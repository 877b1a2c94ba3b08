#!/usr/bin/env bash
# `reasonscope trace` on the default model: the .safetensors output has the documented layout
# (checked by parsing the format with the Python standard library), its values match the
# golden transformers reference (read with the Python standard library), and bad input (unknown hook name with
# suggestions, layer out of range, JSONL line without the field, position out of range, empty
# prompt) gives one clear message, a non-zero exit and no output file.
# Usage: bash test_trace.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
GOLDEN=$SRC/tests/golden/reference
run() { "$BIN" trace "$@" >"$TMP/out" 2>"$TMP/err"; }

# Header of a safetensors file with the standard library only: {name: (dtype, shape)}.
cat >"$TMP/header.py" <<'PY'
import json, struct, sys
def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
        size = f.seek(0, 2)
    meta = h.pop("__metadata__", {})
    end = 0
    for k, v in h.items():
        b, e = v["data_offsets"]
        numel = 1
        for d in v["shape"]:
            numel *= d
        assert e - b == numel * {"F32": 4, "I64": 8}[v["dtype"]], (k, v)
        end = max(end, e)
    assert 8 + n + end == size, "data section does not end at the end of the file"
    return {k: (v["dtype"], v["shape"]) for k, v in h.items()}, meta
PY

printf '{"id": "a", "text": "Every cat is a mammal. Tom is a cat."}\n{"id": "b", "text": "The quick brown fox jumps."}\n' >"$TMP/d.jsonl"

# positions all over two rows: concatenated positions, row / position indices, padded keys
if run --data "$TMP/d.jsonl" --field text --hooks 'blocks.*.hook_resid_post,blocks.5.attn.hook_pattern' \
       --positions all --out "$TMP/all.safetensors" &&
   python3 - "$TMP/all.safetensors" <<PY
import sys; sys.path.insert(0, "$TMP"); from header import header
h, meta = header(sys.argv[1])
n = h["input_ids"][1][0]
assert h["row_offsets"] == ("I64", [3]) and h["row"] == ("I64", [n]) and h["position"] == ("I64", [n])
assert sum(1 for k in h if k.endswith("hook_resid_post")) == 30
assert h["blocks.29.hook_resid_post"] == ("F32", [n, 576]), h["blocks.29.hook_resid_post"]
dt, shp = h["blocks.5.attn.hook_pattern"]
assert shp[0] == 9 and shp[1] == n and shp[2] < n, shp   # [H, P, K_max]
assert meta["format"] == "reasonscope-trace-1" and meta["positions"] == "all" and meta["rows"] == "2"
PY
then ok "all positions layout"; else bad "all positions layout: $(cat "$TMP/err")"; fi

# last / mean / list
if run -p "Max is a wumpus." --hooks 'blocks.3.hook_resid_post,blocks.2.attn.hook_q' --out "$TMP/last.safetensors" &&
   python3 - "$TMP/last.safetensors" <<PY
import sys; sys.path.insert(0, "$TMP"); from header import header
h, meta = header(sys.argv[1])
assert h["blocks.3.hook_resid_post"] == ("F32", [1, 576]) and h["blocks.2.attn.hook_q"] == ("F32", [1, 9, 64]), h
assert "row" not in h and meta["positions"] == "last"
PY
then ok "last layout"; else bad "last layout: $(cat "$TMP/err")"; fi
if run --data "$TMP/d.jsonl" --field text --hooks blocks.1.hook_resid_post --positions all --reduce mean \
       --out "$TMP/mean.safetensors" &&
   python3 -c "
import sys; sys.path.insert(0, '$TMP'); from header import header
h, meta = header('$TMP/mean.safetensors'); assert h['blocks.1.hook_resid_post'] == ('F32', [2, 576]), h"
then ok "mean layout"; else bad "mean layout: $(cat "$TMP/err")"; fi
if run --data "$TMP/d.jsonl" --field text --hooks blocks.1.hook_resid_post,hook_logits --positions 0,2 \
       --out "$TMP/list.safetensors" &&
   python3 -c "
import sys; sys.path.insert(0, '$TMP'); from header import header
h, meta = header('$TMP/list.safetensors')
assert h['blocks.1.hook_resid_post'] == ('F32', [4, 576]) and h['hook_logits'] == ('F32', [4, 49152]), h
assert h['position'] == ('I64', [4])"
then ok "list layout"; else bad "list layout: $(cat "$TMP/err")"; fi

# values: trace the golden prompts and compare with transformers' activations. Read with the
# standard library only (struct + array), so the check runs on any machine with python3.
python3 - "$GOLDEN" "$TMP/golden.jsonl" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1] + "/reference.json"))
with open(sys.argv[2], "w") as f:
    for p in meta["prompts"]:
        f.write(json.dumps({"id": p["name"], "text": p["text"]}) + "\n")
PY
if run --data "$TMP/golden.jsonl" --field text --positions all \
       --hooks 'blocks.0.hook_resid_post,blocks.14.hook_resid_post,blocks.29.hook_resid_post,blocks.5.attn.hook_pattern,blocks.20.attn.hook_q' \
       --out "$TMP/g.safetensors" &&
   python3 - "$GOLDEN" "$TMP/g.safetensors" <<'PY'
import array, json, struct, sys

def load(path):  # {name: (shape, flat values)}, F32 / I32 / I64 little-endian
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    h = json.loads(buf[8:8 + n])
    meta = h.pop("__metadata__", {})
    out = {}
    for k, v in h.items():
        b, e = v["data_offsets"]
        a = array.array({"F32": "f", "I32": "i", "I64": "q"}[v["dtype"]])
        a.frombytes(buf[8 + n + b:8 + n + e])
        if sys.byteorder != "little":
            a.byteswap()
        out[k] = (v["shape"], a)
    return out, meta

ref, _ = load(sys.argv[1] + "/reference.safetensors")
meta = json.load(open(sys.argv[1] + "/reference.json"))
ours, ours_meta = load(sys.argv[2])
assert ours_meta["format"] == "reasonscope-trace-1"
off = ours["row_offsets"][1]
rows = ours["row"][1]
positions = ours["position"][1]
worst = 0.0

def rel_diff(name, r, ref_key):  # max|ours - ref| / max|ref| over row r's positions
    shape, vals = ours[name]
    width = len(vals) // shape[0]
    ref_vals = ref[ref_key][1]
    ours_row = [vals[i * width + j] for i in range(off[r], off[r + 1]) for j in range(width)]
    assert len(ours_row) == len(ref_vals), (name, len(ours_row), len(ref_vals))
    return max(abs(a - b) for a, b in zip(ours_row, ref_vals)) / max(abs(b) for b in ref_vals)

for r, p in enumerate(meta["prompts"]):
    name = p["name"]
    assert list(ours["input_ids"][1][off[r]:off[r + 1]]) == list(ref[name + ".ids"][1]), name
    assert [x for x, row in zip(positions, rows) if row == r] == list(range(off[r + 1] - off[r]))
    for l in (0, 14, 29):
        worst = max(worst, rel_diff(f"blocks.{l}.hook_resid_post", r, f"{name}.resid_post.{l}"))
    worst = max(worst, rel_diff("blocks.20.attn.hook_q", r, name + ".q"))
    # pattern: ours [H, P, K] (K zero-padded), reference [H, T, T]
    (H, P, K), pat = ours["blocks.5.attn.hook_pattern"]
    T = off[r + 1] - off[r]
    ref_pat = ref[name + ".pattern"][1]
    for h in range(H):
        for t in range(T):
            base = (h * P + off[r] + t) * K
            for k in range(K):
                want = ref_pat[(h * T + t) * T + k] if k < T else 0.0
                assert abs(pat[base + k] - want) < 1e-5, (name, h, t, k)
print(f"trace vs transformers: max relative difference {worst:.3g}")
assert worst < 1e-4, worst
PY
then ok "values match the golden reference"; else bad "golden values: $(tail -3 "$TMP/err")"; fi

expect_fail() {
  local name=$1 want=$2; shift 2
  rm -f "$TMP/x.safetensors"
  if run "$@" --out "$TMP/x.safetensors"; then bad "$name: exit 0"; return; fi
  grep -qF -- "$want" "$TMP/err" || { bad "$name: stderr lacks '$want'"; cat "$TMP/err"; return; }
  [[ $(grep -c . "$TMP/err") -le 2 ]] || { bad "$name: more than one message"; cat "$TMP/err"; return; }
  ls "$TMP"/x.safetensors* >/dev/null 2>&1 && { bad "$name: left an output file"; return; }
  ok "$name"
}
expect_fail unknown-hook "did you mean" -p hi --hooks blocks.3.hook_resid_pots
expect_fail unknown-hook-suggests "hook_resid_post" -p hi --hooks blocks.3.hook_resid_pots
expect_fail layer-out-of-range "layer 30 is out of range" -p hi --hooks blocks.30.hook_resid_post
expect_fail head-out-of-range "head 12 is out of range" -p hi --hooks blocks.1.hook_resid_post --ablate-head 1:12
printf '{"id": "a", "text": "fine"}\n{"id": "b", "txt": "typo"}\n' >"$TMP/bad.jsonl"
expect_fail missing-field "$TMP/bad.jsonl:2: field 'text' is missing" --data "$TMP/bad.jsonl" --field text --hooks blocks.1.hook_resid_post
expect_fail position-out-of-range "--positions 40 is out of range" -p "a short prompt" --hooks blocks.1.hook_resid_post --positions 0,40
expect_fail empty-prompt "empty prompt" -p "" --hooks blocks.1.hook_resid_post
python3 -c "print('word ' * 9000)" >"$TMP/long.txt"
expect_fail prompt-too-long "exceed the model's context of 8192 tokens" -p "$(cat "$TMP/long.txt")" --hooks blocks.1.hook_resid_post
expect_fail bad-positions "--positions: expected last, all or a list" -p hi --hooks blocks.1.hook_resid_post --positions first

[[ $fails -eq 0 ]] && echo "all trace tests passed" || { echo "$fails failed"; exit 1; }
