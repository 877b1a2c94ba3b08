#!/usr/bin/env bash
# `reasonscope data check`: the benchmark files pass with the right counts; each kind of bad
# input (malformed JSON, invalid UTF-8, missing field, wrong type, duplicate id, unknown schema,
# missing file) exits non-zero with a message naming file:line and the field.
# Usage: bash test_data_check.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
# Copies of the outside benchmark files (tests/data/fixtures/README.md names source and licence).
FIXTURES=$(cd "$(dirname "$0")/../data/fixtures" && pwd)

# expect_pass NAME FILE SCHEMA GREP...: exit 0 and stdout contains every GREP string.
expect_pass() {
  local name=$1 file=$2 schema=$3; shift 3
  if ! "$BIN" data check "$file" --schema "$schema" >"$TMP/out" 2>"$TMP/err"; then
    bad "$name: exit $? ($(head -3 "$TMP/err"))"; return
  fi
  for want in "$@"; do
    grep -qF -- "$want" "$TMP/out" || { bad "$name: stdout lacks '$want'"; cat "$TMP/out"; return; }
  done
  ok "$name"
}

# expect_fail NAME FILE SCHEMA GREP...: exit non-zero and stderr contains every GREP string.
expect_fail() {
  local name=$1 file=$2 schema=$3; shift 3
  if "$BIN" data check "$file" --schema "$schema" >"$TMP/out" 2>"$TMP/err"; then
    bad "$name: exit 0"; return
  fi
  for want in "$@"; do
    grep -qF -- "$want" "$TMP/err" || { bad "$name: stderr lacks '$want'"; cat "$TMP/err"; return; }
  done
  ok "$name"
}

B=$FIXTURES
expect_pass prontoqa "$B/prontoqa/dev.jsonl" prontoqa "rows    600 valid of 600 lines" "hops:  1=200  3=200  5=200"
expect_pass minif2f "$B/minif2f-lean/dev.jsonl" minif2f "rows    300 valid" "label:  0=200  1=100"
expect_pass mquake "$B/mquake-2hop/dev.jsonl" mquake-2hop "rows    344 valid"
expect_pass twohop "$B/mquake-2hop/dev.jsonl" twohop "rows    344 valid"

# --json prints the report as JSON.
if "$BIN" data check "$B/minif2f-lean/dev.jsonl" --schema labelled-text --json >"$TMP/j" 2>/dev/null &&
   grep -q '"rows": 300' "$TMP/j" && grep -q '"n_errors": 0' "$TMP/j"; then ok json; else bad json; fi

F=$TMP/rows.jsonl
good='{"id": "a", "text": "fine", "label": 1}'

printf '%s\n{"id": "b", "text": "x", "label": 0,,}\n' "$good" >"$F"
expect_fail malformed-json "$F" labelled-text "$F:2: malformed JSON at byte column"

printf '%s\n\n{"id": "b", "text": "caf\xc3\x28", "label": 0}\n' "$good" >"$F"
expect_fail invalid-utf8 "$F" labelled-text "$F:3: invalid UTF-8 at byte column 25 (byte 0xc3)"

printf '%s\n{"id": "b", "label": 0}\n' "$good" >"$F"
expect_fail missing-field "$F" labelled-text "$F:2: field 'text': missing (expected string)"

printf '%s\n{"id": "b", "text": "t", "label": "yes"}\n' "$good" >"$F"
expect_fail wrong-type "$F" labelled-text "$F:2: field 'label': expected int, found string"

printf '%s\n{"id": "b", "text": "t", "label": 0}\n{"id": "a", "text": "u", "label": 0}\n' "$good" >"$F"
expect_fail duplicate-id "$F" labelled-text "$F:3: field 'id': duplicate value \"a\" (first on line 1)"

printf '[1, 2]\n' >"$F"
expect_fail not-object "$F" labelled-text "$F:1: expected a JSON object, found array"

# Several problems: all counted, the list capped by --max-errors.
for i in $(seq 1 30); do echo "{\"id\": \"x$i\", \"text\": 3, \"label\": 0}"; done >"$F"
if "$BIN" data check "$F" --schema labelled-text --max-errors 4 >/dev/null 2>"$TMP/err"; then
  bad cap
elif [ "$(grep -c "field 'text'" "$TMP/err")" = 4 ] && grep -qF "... and 26 more" "$TMP/err" &&
     grep -qF "30 bad line(s)" "$TMP/err"; then ok cap; else bad cap; cat "$TMP/err"; fi

# --schema text with a chosen field.
printf '{"prompt": "hello"}\n{"prompt": "world"}\n' >"$F"
if "$BIN" data check "$F" --schema text --field prompt >"$TMP/out" 2>&1 && grep -qF "rows    2 valid" "$TMP/out"
then ok text-field; else bad text-field; cat "$TMP/out"; fi
if "$BIN" data check "$F" --schema text --field body >/dev/null 2>"$TMP/err"; then bad text-field-missing
elif grep -qF "$F:1: field 'body': missing" "$TMP/err"; then ok text-field-missing; else bad text-field-missing; fi

expect_fail unknown-schema "$F" no-such-schema "unknown schema 'no-such-schema'" "prontoqa"
expect_fail missing-file "$TMP/nope.jsonl" text "$TMP/nope.jsonl: cannot open"

# Files written by `data make` pass the schema of their kind (generators and readers agree).
G=$TMP/gen
mkdir -p "$G"
for k in prontoqa twohop babi15 ioi instructions; do
  "$BIN" data make $k --n 40 --seed 5 --out "$G/$k.jsonl" 2>/dev/null || bad "data make $k"
done
"$BIN" data make cot-pairs --from "$G/prontoqa.jsonl" --seed 5 --out "$G/cot.jsonl" 2>/dev/null || bad "data make cot-pairs"
"$BIN" data make pairs --from "$G/babi15.jsonl" --seed 5 --out "$G/pairs.jsonl" 2>/dev/null || bad "data make pairs"
expect_pass gen-prontoqa "$G/prontoqa.jsonl" prontoqa "rows    40 valid of 40 lines"
expect_pass gen-twohop "$G/twohop.jsonl" twohop "rows    40 valid of 40 lines"
expect_pass gen-babi15 "$G/babi15.jsonl" mc "rows    40 valid of 40 lines" "task:  babi15=40"
expect_pass gen-ioi "$G/ioi.jsonl" mc "rows    40 valid of 40 lines" "task:  ioi=40"
expect_pass gen-instructions "$G/instructions.jsonl" instructions "rows    40 valid of 40 lines"
expect_pass gen-cot-pairs "$G/cot.jsonl" cot-pairs "rows    80 valid of 80 lines" "label:  0=40  1=40"
expect_pass gen-pairs "$G/pairs.jsonl" pairs "rows    40 valid of 40 lines"

echo "$fails failure(s)"
[ "$fails" = 0 ]
