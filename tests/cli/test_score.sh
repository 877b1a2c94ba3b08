#!/usr/bin/env bash
# `reasonscope score` on the default model: perplexity mode reproduces the reference perplexity
# of the fixed paragraph (tests/golden/reference), continuation mode ranks " Paris" above
# " London", outputs are summary.json + examples.jsonl with the documented keys, and a JSONL
# line without the field gives one clear message, a non-zero exit and no output files.
# Usage: bash test_score.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
GOLDEN=$SRC/tests/golden/reference

python3 - "$GOLDEN/perplexity_paragraph.txt" "$TMP/texts.jsonl" <<'PY'
import json, sys
para = open(sys.argv[1], encoding="utf-8").read()
with open(sys.argv[2], "w") as f:
    f.write(json.dumps({"id": "paragraph", "text": para}) + "\n")
    f.write(json.dumps({"id": "short", "text": "The cat sat on the mat."}) + "\n")
PY
if "$BIN" score --data "$TMP/texts.jsonl" --field text --out "$TMP/ppl" --token-logprobs 2>"$TMP/err" &&
   python3 - "$TMP/ppl" "$GOLDEN/reference.json" <<'PY'
import json, math, sys
d, ref = sys.argv[1], json.load(open(sys.argv[2]))
s = json.load(open(d + "/summary.json"))
rows = [json.loads(l) for l in open(d + "/examples.jsonl")]
assert s["command"] == "score" and s["mode"] == "perplexity" and s["n_rows"] == 2, s
assert [r["id"] for r in rows] == ["paragraph", "short"] and [r["line"] for r in rows] == [1, 2]
p = rows[0]
want = ref["paragraph"]["perplexity_transformers"]
print(f"paragraph perplexity {p['perplexity']:.4f} (transformers {want:.4f})")
assert abs(math.log(p["perplexity"] / want)) < 1e-3, (p["perplexity"], want)
assert p["n_tokens"] == ref["paragraph"]["n_tokens"] and p["n_scored"] == p["n_tokens"] - 1
assert len(p["token_logprobs"]) == p["n_scored"]
assert abs(sum(p["token_logprobs"]) - p["sum_logprob"]) < 1e-6
n = sum(r["n_scored"] for r in rows)
assert s["n_scored_tokens"] == n
assert abs(s["perplexity"] - math.exp(-sum(r["sum_logprob"] for r in rows) / n)) < 1e-9 * s["perplexity"]
for k in ("sum_logprob", "mean_logprob", "mean_row_perplexity", "median_row_perplexity", "seconds"):
    assert k in s, k
PY
then ok "perplexity mode"; else bad "perplexity mode: $(tail -3 "$TMP/err")"; fi

# continuation mode
printf '%s\n' '{"id": "paris", "prefix": "The capital of France is", "text": " Paris"}' \
              '{"id": "london", "prefix": "The capital of France is", "text": " London"}' >"$TMP/cont.jsonl"
if "$BIN" score --data "$TMP/cont.jsonl" --field text --prefix-field prefix --out "$TMP/cont" 2>"$TMP/err" &&
   python3 - "$TMP/cont" <<'PY'
import json, sys
rows = {r["id"]: r for r in map(json.loads, open(sys.argv[1] + "/examples.jsonl"))}
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["mode"] == "continuation" and s["prefix_field"] == "prefix"
assert rows["paris"]["n_scored"] == 1 and rows["paris"]["n_prefix_tokens"] == 5
assert rows["paris"]["sum_logprob"] > rows["london"]["sum_logprob"] + 2, rows
assert rows["paris"]["n_greedy_correct"] == 1
PY
then ok "continuation mode"; else bad "continuation mode: $(tail -3 "$TMP/err")"; fi

# --window smaller than the paragraph: same tokens scored, higher perplexity (less context)
if "$BIN" score --data "$TMP/texts.jsonl" --field text --out "$TMP/win" --window 32 --stride 16 --limit 1 2>"$TMP/err" &&
   python3 -c "
import json
a = json.loads(open('$TMP/ppl/examples.jsonl').readline()); b = json.loads(open('$TMP/win/examples.jsonl').readline())
assert a['n_scored'] == b['n_scored'] and b['perplexity'] > a['perplexity'], (a['perplexity'], b['perplexity'])"
then ok "windowed"; else bad "windowed: $(tail -3 "$TMP/err")"; fi

expect_fail() {
  local name=$1 want=$2 out=$3; shift 3
  if "$BIN" score "$@" --out "$out" >"$TMP/out" 2>"$TMP/err"; then bad "$name: exit 0"; return; fi
  grep -qF -- "$want" "$TMP/err" || { bad "$name: stderr lacks '$want'"; cat "$TMP/err"; return; }
  [[ $(grep -c . "$TMP/err") -le 2 ]] || { bad "$name: more than one message"; cat "$TMP/err"; return; }
  [[ -e $out/summary.json || -e $out/examples.jsonl ]] && { bad "$name: left output files"; return; }
  ok "$name"
}
printf '{"id": "a", "text": "fine text here"}\n{"id": "b", "body": "typo"}\n' >"$TMP/bad.jsonl"
expect_fail missing-field "$TMP/bad.jsonl:2: field 'text' is missing" "$TMP/o1" --data "$TMP/bad.jsonl" --field text
printf '{"id": "a", "text": 12}\n' >"$TMP/num.jsonl"
expect_fail wrong-type "$TMP/num.jsonl:1: field 'text' must be a string" "$TMP/o2" --data "$TMP/num.jsonl" --field text
printf '{"id": "a", "text": "Hi"}\n' >"$TMP/one.jsonl"
expect_fail one-token "needs at least 2" "$TMP/o3" --data "$TMP/one.jsonl" --field text
expect_fail missing-prefix "field 'prefix' is missing" "$TMP/o4" --data "$TMP/texts.jsonl" --field text --prefix-field prefix
expect_fail missing-file "$TMP/none.jsonl" "$TMP/o5" --data "$TMP/none.jsonl" --field text

[[ $fails -eq 0 ]] && echo "all score tests passed" || { echo "$fails failed"; exit 1; }
