#!/usr/bin/env bash
# --dtype on the default model: bf16 still answers the capital question; f16 either runs (a
# libtorch with f16 GEMM on this device) or stops with ONE line naming the dtype and what to use
# instead, never a libtorch backtrace. An unavailable device is refused the same way.
# Usage: bash test_dtype.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"

if "$BIN" generate -p "The capital of France is" -n 4 --dtype bf16 >"$TMP/out" 2>"$TMP/err" &&
   grep -q "Paris" "$TMP/out"; then ok "bf16 greedy answer contains Paris"
else bad "bf16: $(cat "$TMP/out" "$TMP/err")"; fi

if "$BIN" generate -p "The capital of France is" -n 4 --dtype f16 >"$TMP/out" 2>"$TMP/err"; then
  [[ -s $TMP/out ]] && ok "f16 runs on this libtorch" || bad "f16 ran but printed nothing"
elif [[ $(wc -l <"$TMP/err") -eq 1 ]] && grep -q "^error: dtype Half has no matrix multiply on cpu" "$TMP/err"; then
  ok "f16 refused in one line: $(cat "$TMP/err")"
else bad "f16 failure is not one clear line: $(head -3 "$TMP/err")"; fi

if "$BIN" info --device cuda:7 >"$TMP/out" 2>"$TMP/err"; then
  bad "cuda:7 accepted"
elif [[ $(wc -l <"$TMP/err") -eq 1 ]] && grep -q "^error: .*cuda" "$TMP/err"; then
  ok "missing device refused in one line: $(cat "$TMP/err")"
else bad "device failure is not one clear line: $(head -3 "$TMP/err")"; fi

echo "$fails failed"
exit $((fails > 0))
