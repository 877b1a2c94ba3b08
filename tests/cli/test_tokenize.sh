#!/usr/bin/env bash
# End-to-end test of `reasonscope tokenize` on the default model (or $REASONSCOPE_MODEL).
# Expected ids come from tests/golden/tokenizer/chat_smollm2.jsonl (made by
# tools/make_tokenizer_golden.py with the Hugging Face `tokenizers` library and jinja2).
# Usage: bash test_tokenize.sh /path/to/reasonscope
set -u
BIN=${1:?usage: test_tokenize.sh /path/to/reasonscope}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${RS_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
GOLDEN="$ROOT/tests/golden/tokenizer/chat_smollm2.jsonl"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# The ids array of a one-line JSON document, as "1,2,3".
ids_of() { sed -n 's/.*"ids": *\[\([^]]*\)\].*/\1/p' | tr -d ' '; }

MODEL_ARGS=()
if [[ -n "${REASONSCOPE_MODEL:-}" ]]; then MODEL_ARGS=(--model "$REASONSCOPE_MODEL"); fi

# 1. --chat renders the model's template exactly as jinja2 did and tokenizes it as HF does.
expected=$(sed -n 1p "$GOLDEN" | ids_of)
[[ -n "$expected" ]] || fail "could not read the golden ids from $GOLDEN"
out=$("$BIN" tokenize "${MODEL_ARGS[@]}" --chat --text 'Hello!' --json) || fail "--chat --json exited non-zero"
got=$(echo "$out" | ids_of)
[[ "$got" == "$expected" ]] || fail "--chat ids differ: got [$got] expected [$expected]"
n_expected=$(echo "$expected" | tr ',' '\n' | wc -l)
echo "$out" | grep -q "\"count\":$n_expected[,}]" || fail "--json count is not $n_expected: $out"

# 2. Special-token text is one token unless --no-special.
out=$("$BIN" tokenize "${MODEL_ARGS[@]}" --text '<|im_start|>user' --json) || fail "--json exited non-zero"
[[ "$(echo "$out" | ids_of)" == 1,* ]] || fail "<|im_start|> was not split out as token 1: $out"
echo "$out" | grep -q '"special":\[true,false' || fail "special flags wrong: $out"
out=$("$BIN" tokenize "${MODEL_ARGS[@]}" --text '<|im_start|>user' --no-special --json) || fail "--no-special exited non-zero"
[[ "$(echo "$out" | ids_of)" != 1,* ]] || fail "--no-special still produced the special token: $out"

# 3. The table: a header, one row per token, the ids line; pieces are shown.
out=$("$BIN" tokenize "${MODEL_ARGS[@]}" --text 'Hi <|im_end|>') || fail "table output exited non-zero"
echo "$out" | grep -q '^count: 3$' || fail "table count line missing: $out"
echo "$out" | grep -q '(special)' || fail "table does not mark the special token: $out"
echo "$out" | grep -q '^ids: .* 2$' || fail "ids line missing or wrong: $out"

# 4. Errors: a missing model and a truncated GGUF give one message and a non-zero exit.
if "$BIN" tokenize --model "$TMP/none.gguf" --text x >"$TMP/out" 2>"$TMP/err"; then
  fail "missing model exited 0"
fi
grep -q "none.gguf" "$TMP/err" || fail "missing-model error does not name the file: $(cat "$TMP/err")"
model=${REASONSCOPE_MODEL:-}
if [[ -z "$model" ]]; then
  model=$("$BIN" tokenize --text x --json | sed -n 's/.*"model":"\([^"]*\)".*/\1/p')
fi
head -c 4000 "$model" >"$TMP/trunc.gguf"
if "$BIN" tokenize --model "$TMP/trunc.gguf" --text x >"$TMP/out" 2>"$TMP/err"; then
  fail "truncated GGUF exited 0"
fi
grep -q "trunc.gguf.*offset" "$TMP/err" || fail "truncated-GGUF error does not name file and offset: $(cat "$TMP/err")"

if [[ $failures -gt 0 ]]; then
  echo "test_tokenize: $failures failure(s)"
  exit 1
fi
echo "test_tokenize: all checks passed"
