#!/usr/bin/env bash
# --weights on the default model: generate defaults to native (quantised) weights and gives the
# same greedy answer as --weights dequant; trace can capture the residual stream on native
# weights, and a pattern hook there says it needs --weights dequant; bad values are refused.
# Usage: bash test_weights.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"

for w in auto native dequant; do
  if "$BIN" generate --weights $w --threads 1 -p "The capital of France is" -n 6 >"$TMP/$w" 2>"$TMP/err"; then
    grep -q "Paris" "$TMP/$w" && ok "generate --weights $w: Paris" || bad "generate --weights $w: $(cat "$TMP/$w")"
  else
    bad "generate --weights $w exit non-zero: $(cat "$TMP/err")"
  fi
done
cmp -s "$TMP/auto" "$TMP/native" && ok "auto = native for generate" || bad "auto differs from native"

if "$BIN" trace --weights native --threads 1 --prompt "One two three" --hooks "blocks.*.hook_resid_post" \
     --out "$TMP/t.safetensors" >/dev/null 2>"$TMP/err" && [[ -s $TMP/t.safetensors ]]; then
  ok "trace resid_post on native weights"
else
  bad "trace on native: $(cat "$TMP/err")"
fi
if "$BIN" trace --weights native --threads 1 --prompt "One two" --hooks "blocks.0.attn.hook_pattern" \
     --out "$TMP/p.safetensors" >/dev/null 2>"$TMP/err"; then
  bad "pattern hook on native weights accepted"
else
  grep -q "weights dequant" "$TMP/err" && ok "pattern hook asks for --weights dequant" || bad "message: $(cat "$TMP/err")"
fi
if "$BIN" generate --weights fast -p "x" -n 1 >/dev/null 2>"$TMP/err"; then bad "--weights fast accepted"; else ok "bad --weights refused"; fi

[[ $fails -eq 0 ]] && echo "all ok" || { echo "$fails failed"; exit 1; }
