#!/usr/bin/env bash
# `steer convert --from-llama-cpp-cvector` + `score --steer` on a REAL llama.cpp cvector-generator
# file (tests/methods/steer/data/cvgen_mean.gguf, made with tools/make_cvector_golden.py), against
# llama.cpp's own log-probs in cvgen_mean.json (F32 copy of the default model; issue 10, acceptance
# 2). Each prompt's next-token log-probs from `score --token-logprobs` must match llama.cpp's:
#   - unsteered: measures the engines' agreement; tolerance = 2 x that + 1e-4;
#   - the raw file (no shift; direction.10-15 at blocks 10-15): llama.cpp's --control-vector use;
#   - the file imported with --from-llama-cpp-cvector (direction.10-15 -> our layers 9-14):
#     llama.cpp given the vectors at the blocks the tool measured them at.
# Usage: bash test_steer_cvgen.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
DATA=$SRC/tests/methods/steer/data
export OMP_NUM_THREADS=1
T="--threads 1"

MODEL=${REASONSCOPE_MODEL:-${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}/models/SmolLM2-135M-Instruct.Q4_1.gguf}
# 77: ctest's SKIP_RETURN_CODE (tests/cli/CMakeLists.txt)
if [ ! -f "$MODEL" ]; then echo "skip: default model not found at $MODEL"; exit 77; fi

read -r S A B < <(python3 -c "
import json, sys; g = json.load(open(sys.argv[1]))
print(g['strength'], g['first_direction'], g['last_direction'])
open(sys.argv[2], 'w').write(''.join(json.dumps({'text': p['text']}) + '\n' for p in g['prompts']))
" "$DATA/cvgen_mean.json" "$TMP/prompts.jsonl")

# The raw file: our reader takes direction.N as block N, llama.cpp's layout.
"$BIN" steer convert --in "$DATA/cvgen_mean.gguf" --layers "$A-$B" --out "$TMP/raw.gguf" 2>/dev/null
# The import: direction.N -> our layer N-1.
if "$BIN" steer convert --in "$DATA/cvgen_mean.gguf" --from-llama-cpp-cvector --layers "$((A - 1))-$((B - 1))" \
     --out "$TMP/imported.gguf" 2>"$TMP/err" &&
   grep -q "direction.$((A - 1))" "$TMP/imported.gguf" && ! grep -q "direction.$B" "$TMP/imported.gguf"; then
  ok "convert --from-llama-cpp-cvector"
else
  bad "convert: $(tail -2 "$TMP/err")"
fi

score() {  # out dir, extra args...
  local out=$1; shift
  "$BIN" score $T --model "$MODEL" --data "$TMP/prompts.jsonl" --field text --token-logprobs --out "$TMP/$out" "$@" 2>"$TMP/err" ||
    bad "score $out: $(tail -2 "$TMP/err")"
}
score plain
score raw --steer "$TMP/raw.gguf" --steer-alpha "$S"
score imported --steer "$TMP/imported.gguf" --steer-alpha "$S"

if python3 - "$TMP" "$DATA/cvgen_mean.json" <<'PY'
import json, sys
tmp, golden = sys.argv[1], json.load(open(sys.argv[2]))
def ours(name):
    return [json.loads(l) for l in open(f"{tmp}/{name}/examples.jsonl")]
plain, raw, imp = ours("plain"), ours("raw"), ours("imported")
good = True
for i, p in enumerate(golden["prompts"]):
    assert plain[i]["n_tokens"] == len(p["ids"]), (plain[i]["n_tokens"], len(p["ids"]))  # same tokens
    md = lambda a, b: max(abs(x - y) for x, y in zip(a, b))
    agree = md(plain[i]["token_logprobs"], p["plain_next"])
    tol = 2 * agree + 1e-4
    d_raw = md(raw[i]["token_logprobs"], p["raw_next"])
    d_imp = md(imp[i]["token_logprobs"], p["measured_next"])
    effect = md(imp[i]["token_logprobs"], plain[i]["token_logprobs"])
    shift = md(imp[i]["token_logprobs"], p["raw_next"])
    print(f"prompt {i}: agreement {agree:.2e} (tol {tol:.2e}); raw {d_raw:.2e}; imported {d_imp:.2e}; "
          f"effect {effect:.3f}; imported vs llama.cpp raw {shift:.3f}")
    good &= agree < 1e-3 and d_raw < tol and d_imp < tol and effect > 100 * tol and shift > 10 * tol
sys.exit(0 if good else 1)
PY
then ok "score --steer reproduces llama.cpp (raw file at block N, imported file at block N-1)"
else bad "score --steer vs llama.cpp"; fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
