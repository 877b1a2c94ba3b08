#!/usr/bin/env bash
# `reasonscope info` on the default model ($REASONSCOPE_MODEL or the setup's cache path): the
# text and --json forms agree with the model's known shape, --hooks lists every hook point with
# its shape, and bad model files give one clear message and a non-zero exit.
# Usage: bash test_info.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"

# text form
if "$BIN" info >"$TMP/out" 2>"$TMP/err"; then
  for want in "architecture  llama: 30 layers, d_model 576, 9 heads (3 kv, d_head 64), d_ff 1536" \
              "theta 100000" "tied, vocabulary 49152" "chat format chatml" 'eos 2 "<|im_end|>"' \
              "parameters    134515008"; do
    grep -qF -- "$want" "$TMP/out" || { bad "info: stdout lacks '$want'"; cat "$TMP/out"; }
  done
  ok "info text"
else
  bad "info: exit non-zero: $(head -3 "$TMP/err")"
fi

# --json --hooks: parse and check the numbers and the hook list
if "$BIN" info --json --hooks >"$TMP/j" 2>"$TMP/err"; then
  if python3 - "$TMP/j" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["architecture"] == "llama" and j["n_layer"] == 30 and j["d_model"] == 576, j
assert j["n_head"] == 9 and j["n_head_kv"] == 3 and j["d_head"] == 64 and j["n_vocab"] == 49152
assert j["tokenizer"]["eos"] == {"id": 2, "text": "<|im_end|>"}, j["tokenizer"]
assert j["tokenizer"]["chat_format"] == "chatml"
assert j["rope"]["theta"] == 100000 and j["tied_embeddings"] is True
assert j["weights_bytes"] == 4 * j["n_params"], (j["weights_bytes"], j["n_params"])
assert j["load_seconds"] > 0
names = [h["name"] for h in j["hooks"]]
per_layer = [n for n in names if n.startswith("blocks.0.")]
assert len(names) == 3 + 30 * len(per_layer), (len(names), len(per_layer))
shape = {h["name"]: h["shape"] for h in j["hooks"]}
assert shape["blocks.7.attn.hook_q"] == ["B", "T", 9, 64], shape["blocks.7.attn.hook_q"]
assert shape["blocks.7.attn.hook_k"] == ["B", "T", 3, 64]
assert shape["blocks.7.attn.hook_pattern"] == ["B", 9, "T", "K"]
assert shape["blocks.29.hook_resid_post"] == ["B", "T", 576]
assert shape["blocks.3.mlp.hook_post"] == ["B", "T", 1536]
assert shape["hook_logits"] == ["B", "T", 49152]
PY
  then ok "info --json --hooks"; else bad "info --json --hooks"; fi
else
  bad "info --json: exit non-zero: $(head -3 "$TMP/err")"
fi

# --hooks text form lists the same names
if "$BIN" info --hooks >"$TMP/h" 2>/dev/null && grep -qE '^  blocks\.29\.attn\.hook_pattern +\[B, 9, T, K\]$' "$TMP/h" &&
   grep -q "hooks         $(python3 -c "import json;print(len(json.load(open('$TMP/j'))['hooks']))") points" "$TMP/h"; then
  ok "info --hooks"
else
  bad "info --hooks"; tail -3 "$TMP/h"
fi

# bad model files: one message naming the file, non-zero exit
expect_fail() {
  local name=$1 want=$2; shift 2
  if "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"; then bad "$name: exit 0"; return; fi
  grep -qF -- "$want" "$TMP/err" || { bad "$name: stderr lacks '$want'"; cat "$TMP/err"; return; }
  [[ $(wc -l <"$TMP/err") -le 2 ]] || { bad "$name: more than one message"; cat "$TMP/err"; return; }
  ok "$name"
}
expect_fail missing-model "$TMP/none.gguf: cannot read model" info --model "$TMP/none.gguf"
MODEL=$(python3 -c "import json;print(json.load(open('$TMP/j'))['model'])")
head -c 3000000 "$MODEL" >"$TMP/truncated.gguf"
expect_fail truncated-model "$TMP/truncated.gguf" info --model "$TMP/truncated.gguf"
printf 'not a gguf file at all' >"$TMP/garbage.gguf"
expect_fail garbage-model "$TMP/garbage.gguf" info --model "$TMP/garbage.gguf"

[[ $fails -eq 0 ]] && echo "all info tests passed" || { echo "$fails failed"; exit 1; }
