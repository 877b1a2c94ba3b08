#!/usr/bin/env bash
# End-to-end test of `reasonscope data make`: every kind writes a file that `data check`
# accepts, the same seed gives identical bytes, and impossible parameters or bad --from input
# give one clear message, a non-zero exit and no output file (nor a temporary) left behind.
# Usage: bash test_data_make.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
# A copy of an outside benchmark file (tests/data/fixtures/README.md names source and licence).
FIXTURES=$(cd "$(dirname "$0")/../data/fixtures" && pwd)

# make KIND SCHEMA ROWS ARGS... : run, check exit 0, row count and schema.
make_ok() {
  local kind=$1 schema=$2 rows=$3; shift 3
  local out="$TMP/$kind-$RANDOM.jsonl"
  if ! "$BIN" -q data make "$kind" "$@" --out "$out" 2>"$TMP/err"; then
    bad "$kind $*: exit non-zero: $(cat "$TMP/err")"; return
  fi
  local n; n=$(wc -l <"$out")
  [ "$n" -eq "$rows" ] && ok "$kind $*: $n rows" || bad "$kind $*: $n rows, expected $rows"
  if "$BIN" -q data check "$out" --schema "$schema" >"$TMP/check" 2>&1; then
    ok "$kind: data check --schema $schema"
  else
    bad "$kind: data check --schema $schema: $(cat "$TMP/check")"
  fi
  LAST=$out
}

# fail_clean EXPECTED_TEXT ARGS... : non-zero exit, message on stderr, nothing left in $TMP/fail.
fail_clean() {
  local expect=$1; shift
  local sub="$TMP/fail"; rm -rf "$sub"; mkdir -p "$sub"
  if "$BIN" data make "$@" --out "$sub/out.jsonl" >"$TMP/out" 2>"$TMP/err"; then
    bad "data make $*: succeeded, expected failure"; return
  fi
  if ! grep -qF -- "$expect" "$TMP/err"; then
    bad "data make $*: message lacks '$expect': $(cat "$TMP/err")"; return
  fi
  if [ -n "$(ls -A "$sub")" ]; then
    bad "data make $*: left files behind: $(ls -A "$sub")"; return
  fi
  ok "data make $* -> $(head -c 160 "$TMP/err" | tr '\n' ' ')"
}

make_ok prontoqa prontoqa 60 --n 60 --seed 3 --hops 1-6;  PQ=$LAST
make_ok prontoqa prontoqa 20 --n 20 --seed 3 --hops 2 --distractors off
make_ok cot-pairs cot-pairs 120 --from "$PQ" --seed 1
make_ok cot-pairs cot-pairs 1200 --from "$FIXTURES/prontoqa/dev.jsonl" --seed 1
make_ok twohop twohop 50 --n 50 --seed 1
make_ok twohop mquake-2hop 50 --n 50 --seed 2
make_ok babi15 mc 40 --n 40 --seed 1;  BABI=$LAST
make_ok ioi mc 40 --n 40 --seed 1
make_ok instructions instructions 100 --n 100 --seed 1 --tasks 5 --distributions 3
make_ok pairs pairs 40 --from "$BABI" --seed 1
make_ok pairs pairs 10 --from "$PQ" --n 10 --seed 1
make_ok minif2f minif2f 40 --n 40 --seed 1;  MF=$LAST
# the built-in miniF2F sample: balanced, every row exactly the fixture's row
if python3 - "$MF" "$FIXTURES/minif2f-lean/dev.jsonl" <<'PY'
import json, sys
src = {r["id"]: r for r in map(json.loads, open(sys.argv[2]))}
rows = [json.loads(l) for l in open(sys.argv[1])]
assert sum(r["label"] for r in rows) == 20 and all(src[r["id"]] == r for r in rows), rows[:2]
PY
then ok "minif2f: 20 valid + 20 invalid proofs, each identical to the fixture"; else bad "minif2f: sample"; fi

# Determinism: same seed -> same bytes; another seed -> different bytes.
for kind in prontoqa twohop babi15 ioi instructions minif2f; do
  "$BIN" -q data make $kind --n 30 --seed 7 --out "$TMP/a.jsonl" &&
  "$BIN" -q data make $kind --n 30 --seed 7 --out "$TMP/b.jsonl" &&
  "$BIN" -q data make $kind --n 30 --seed 8 --out "$TMP/c.jsonl" || { bad "$kind determinism run"; continue; }
  if cmp -s "$TMP/a.jsonl" "$TMP/b.jsonl" && ! cmp -s "$TMP/a.jsonl" "$TMP/c.jsonl"; then
    ok "$kind: same seed same bytes, other seed differs"
  else
    bad "$kind: determinism"
  fi
done

# Impossible parameters and bad input.
fail_clean "--hops 7 is impossible" prontoqa --n 5 --hops 7
fail_clean "--hops 7 is impossible" prontoqa --n 5 --hops 1-9
fail_clean "--n must be at least 1" prontoqa --n 0
fail_clean "unknown kind \"sudoku\"" sudoku --n 5
fail_clean "--from F.jsonl is required" cot-pairs
fail_clean "--n N (the number of rows) is required" babi15
fail_clean "distinct two-hop questions" twohop --n 100000
fail_clean "--tasks 99 is impossible" instructions --n 5 --tasks 99
fail_clean "--distractors expects on or off" prontoqa --n 5 --distractors sometimes
fail_clean "--hops applies only to kind prontoqa" babi15 --n 5 --hops 2
fail_clean "the built-in miniF2F dev split has 100 valid and 200 invalid" minif2f --n 300
fail_clean "nope.jsonl" pairs --from "$TMP/nope.jsonl"
printf '{"id": "x", "hops": 1,\n' >"$TMP/broken.jsonl"
fail_clean "broken.jsonl:1" cot-pairs --from "$TMP/broken.jsonl"
printf '{"id":"m1","prompt":"p","answer":"a"}\n' >"$TMP/mc.jsonl"
fail_clean "mc.jsonl:1" pairs --from "$TMP/mc.jsonl"
fail_clean "wrong_answers" pairs --from "$TMP/mc.jsonl"

# Help names every kind.
help=$("$BIN" data make --help 2>&1)
for kind in prontoqa cot-pairs twohop babi15 ioi instructions pairs minif2f; do
  echo "$help" | grep -q "  $kind: " || bad "help lacks $kind"
done
ok "help lists every kind"

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "all data make checks passed"
