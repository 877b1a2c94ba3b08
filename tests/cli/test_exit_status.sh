#!/usr/bin/env bash
# Exit statuses per error class (README, "Exit statuses"; core/error.h): a bad command line is 2
# (--help is 0), a malformed data file 3 (JSONL, calibration, heads, control vector, edit file),
# a model that cannot be loaded 4, an input longer than the model's context 5. Each error is
# one "error: " line on stderr. Interrupts (130, 143) are checked by test_interrupt.sh.
# The model-free checks always run; the rest need the default model (REASONSCOPE_MODEL or the
# cache of scripts/setup.sh) and are reported as skipped (77) without it.
# Usage: bash test_exit_status.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
CACHE=${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}
MODEL=${REASONSCOPE_MODEL:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}

# expect NAME STATUS MESSAGE_PART -- command...: the exit status, one error line naming the problem
expect() {
  local name=$1 want=$2 part=$3
  shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ "$rc" != "$want" ]; then
    bad "$name: exit $rc, want $want ($(tail -1 "$TMP/err"))"
  elif [ "$want" != 0 ] && ! grep -q -- "$part" "$TMP/err"; then
    bad "$name: stderr lacks '$part': $(cat "$TMP/err")"
  else
    ok "$name: exit $rc"
  fi
}

printf '{"text": "fine"}\n{"text": \n' >"$TMP/torn.jsonl"
printf '{"text": "fine"}\n{"other": 1}\n' >"$TMP/nofield.jsonl"
printf '{"label": 1, "text": "a"}\n' >"$TMP/one.jsonl"
printf '{"layer": "x"}\n' >"$TMP/cal.json"
printf 'not json\n' >"$TMP/heads.json"
printf 'GGUF\x03\x00\x00\x00' >"$TMP/vec.gguf"
printf 'GGUF\x03\x00\x00\x00\x01' >"$TMP/model.gguf"
mkdir -p "$TMP/hfdir"

# 2: the command line
expect "help" 0 "" "$BIN" --help
expect "subcommand help" 0 "" "$BIN" score --help
expect "unknown option" 2 "" "$BIN" score --data "$TMP/one.jsonl" --field text --out "$TMP/o" --no-such-option
expect "missing required option" 2 "" "$BIN" score --data "$TMP/one.jsonl" --out "$TMP/o"
expect "no subcommand" 2 "" "$BIN"
expect "value not allowed" 2 "" "$BIN" trace -p hi --hooks x --reduce median --out "$TMP/o.safetensors"
expect "sampling value out of range (top-k)" 2 "top-k" "$BIN" generate -p hi --top-k -3
expect "sampling value out of range (top-p)" 2 "top-p" "$BIN" generate -p hi --top-p 0
expect "sampling value out of range (temperature)" 2 "temperature" "$BIN" generate -p hi -t -1
expect "empty prompt (generate)" 2 "empty prompt" "$BIN" generate -p ""
expect "empty prompt (trace)" 2 "empty prompt" "$BIN" trace -p "" --hooks blocks.0.hook_resid_post --out "$TMP/o.safetensors"
expect "empty prompt (lens)" 2 "empty prompt" "$BIN" lens -p "" --answers x --out "$TMP/o"

# 3: data files (all read before the model loads)
expect "torn JSONL line" 3 "torn.jsonl:2" "$BIN" score --data "$TMP/torn.jsonl" --field text --out "$TMP/o"
expect "JSONL row without the field" 3 "nofield.jsonl:2" "$BIN" score --data "$TMP/nofield.jsonl" --field text --out "$TMP/o"
expect "missing data file" 3 "nosuch.jsonl" "$BIN" score --data "$TMP/nosuch.jsonl" --field text --out "$TMP/o"
expect "calibration file" 3 "cal.json" "$BIN" verify spectral --data "$TMP/one.jsonl" --calibration "$TMP/cal.json" --out "$TMP/o"
expect "heads file" 3 "heads.json" "$BIN" verify qk --data "$TMP/one.jsonl" --heads "$TMP/heads.json" --out "$TMP/o"
for d in "$TMP/o" "$TMP/o.safetensors"; do [ -n "$(find "$d" -type f 2>/dev/null)" ] && bad "a file appeared after bad input: $d"; done

# 4: the model
expect "missing model" 4 "nosuch.gguf" "$BIN" score --model "$TMP/nosuch.gguf" --data "$TMP/one.jsonl" --field text --out "$TMP/o"
expect "truncated GGUF" 4 "model.gguf" "$BIN" score --model "$TMP/model.gguf" --data "$TMP/one.jsonl" --field text --out "$TMP/o"
expect "HF directory without config.json" 4 "hfdir" "$BIN" score --model "$TMP/hfdir" --data "$TMP/one.jsonl" --field text --out "$TMP/o"
expect "tokenize, HF directory without tokenizer.json" 4 "tokenizer.json" "$BIN" tokenize --model "$TMP/hfdir" --text hi
expect "tokenize, missing model" 4 "nosuch.gguf" "$BIN" tokenize --model "$TMP/nosuch.gguf" --text hi

skipped=0
if [ ! -f "$MODEL" ]; then
  echo "skip model runs: $MODEL not found (scripts/setup.sh)"
  skipped=1
else
  M=(--model "$MODEL" --threads 2)
  # 3 again: files read once the model is there (a control vector, an edit file)
  "$BIN" data make babi15 --n 6 --seed 1 --out "$TMP/b.jsonl" 2>/dev/null
  expect "control vector" 3 "vec.gguf" "$BIN" steer eval "${M[@]}" --vector "$TMP/vec.gguf" --layer 5 --data "$TMP/b.jsonl" --out "$TMP/o"
  expect "edit file" 3 "vec.gguf" "$BIN" trace "${M[@]}" --edit "$TMP/vec.gguf" -p hi --hooks blocks.0.hook_resid_post --out "$TMP/o.safetensors"
  # 5: longer than the model's context (the check comes before any forward)
  python3 -c "
import json
print(json.dumps({'prefix': 'word ' * 40000, 'text': ' end'}))" >"$TMP/long.jsonl"
  expect "prompt longer than the context (trace)" 5 "model's context" "$BIN" trace "${M[@]}" --data "$TMP/long.jsonl" --field prefix \
    --hooks blocks.0.hook_resid_post --out "$TMP/o.safetensors"
  expect "continuation longer than the context (score)" 5 "model's context" "$BIN" score "${M[@]}" --data "$TMP/long.jsonl" \
    --field text --prefix-field prefix --out "$TMP/o"
  for d in "$TMP/o" "$TMP/o.safetensors" "$TMP/o.safetensors.resume"; do
    [ -n "$(find "$d" -type f 2>/dev/null)" ] && bad "a file appeared after a failed run: $d"
  done
fi

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
[ "$skipped" -eq 1 ] && exit 77
echo "all exit status checks passed"
