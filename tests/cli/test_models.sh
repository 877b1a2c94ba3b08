#!/usr/bin/env bash
# `reasonscope models` and --model NAME: the C++ table (core/paths.h) agrees with scripts/setup.sh's
# MODELS table (name, file, bytes, sha256); with an empty REASONSCOPE_CACHE every model is listed as
# absent with its setup.sh command, and `--model NAME` of a known but absent model names that
# command (exit 4); an unknown name that is not a readable path lists the known names (exit 4); a
# name whose file is there resolves to it (`tokenize --model NAME`, a link to the default model),
# also beside a same-named folder that is not a model.
# Usage: bash test_models.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
BIN=$(readlink -f "$BIN")  # absolute: one case runs in another folder
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
unset REASONSCOPE_MODEL REASONSCOPE_GEMMA3
export REASONSCOPE_CACHE=$TMP/cache   # empty: nothing installed

# the two tables agree
bash "$SRC/scripts/setup.sh" --list >"$TMP/setup.tsv" 2>"$TMP/err" || bad "setup.sh --list: $(cat "$TMP/err")"
if "$BIN" models --json >"$TMP/models.json" 2>"$TMP/err" &&
   python3 - "$TMP/models.json" "$TMP/setup.tsv" "$TMP/cache" <<'PY'
import json, sys
models = json.load(open(sys.argv[1]))["models"]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
ours = [(m["name"], m["file"], str(m["file_bytes"]), m["sha256"]) for m in models]
assert ours == [tuple(r) for r in rows], (ours, rows)
assert len(models) >= 4 and models[0]["default"] and not any(m["default"] for m in models[1:])
for m in models:
    assert m["installed"] is False and m["state"] == "absent", m
    assert m["path"] == f"{sys.argv[3]}/models/{m['file']}", m
    want = "scripts/setup.sh" if m["default"] else f"scripts/setup.sh --with {m['name']}"
    assert m["install"] == want, m
    assert m["params"] > 0 and m["architecture"] and m["family"], m
q = {m["name"]: m for m in models}
assert q["qwen2.5-coder-0.5b"]["architecture"] == "qwen2" and q["qwen2.5-coder-1.5b"]["file_bytes"] > 10**9
PY
then ok "models --json agrees with setup.sh --list ($(wc -l <"$TMP/setup.tsv") models), all absent"
else bad "models --json: $(cat "$TMP/err")"; fi

if "$BIN" models >"$TMP/models.txt" 2>"$TMP/err" && grep -q "^qwen2.5-coder-1.5b " "$TMP/models.txt" &&
   grep -q "install: scripts/setup.sh --with qwen2.5-coder-1.5b" "$TMP/models.txt"
then ok "models (table) lists the install command"; else bad "models table: $(cat "$TMP/models.txt" "$TMP/err")"; fi

# a known name that is not installed: the exact command, exit 4 (ExitCode::kModel)
"$BIN" tokenize --model qwen2.5-coder-0.5b --text x >/dev/null 2>"$TMP/err"; rc=$?
if [[ $rc == 4 ]] && grep -q "model qwen2.5-coder-0.5b is not installed (no file $TMP/cache/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf); install it with scripts/setup.sh --with qwen2.5-coder-0.5b" "$TMP/err" &&
   [[ $(wc -l <"$TMP/err") == 1 ]]
then ok "absent known name: exit 4, $(cat "$TMP/err")"; else bad "absent known name: rc $rc: $(cat "$TMP/err")"; fi

# an unknown name that is no readable path: the known names, exit 4
"$BIN" info --model qwen9-giant >/dev/null 2>"$TMP/err"; rc=$?
if [[ $rc == 4 ]] && grep -q "qwen9-giant: cannot read model (no such file or directory) and not a known model name (smollm2-135m, gemma3, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b" "$TMP/err"
then ok "unknown name: exit 4, lists the known names"; else bad "unknown name: rc $rc: $(cat "$TMP/err")"; fi

# the default model, absent: exit 4 naming setup.sh
"$BIN" tokenize --text x >/dev/null 2>"$TMP/err"; rc=$?
if [[ $rc == 4 ]] && grep -q "default model not found; run scripts/setup.sh" "$TMP/err"
then ok "absent default model: exit 4"; else bad "absent default model: rc $rc: $(cat "$TMP/err")"; fi

# a name whose file is present resolves to it (the default model's file, linked under the name's file)
REAL=${REASONSCOPE_CACHE_REAL:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}/models/SmolLM2-135M-Instruct.Q4_1.gguf
if [[ -f $REAL ]]; then
  mkdir -p "$TMP/cache/models" && ln -s "$REAL" "$TMP/cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
  if "$BIN" tokenize --model smollm2-135m --json --text "Hello world" >"$TMP/tok.json" 2>"$TMP/err" &&
     "$BIN" tokenize --model "$REAL" --json --text "Hello world" >"$TMP/tok2.json" 2>>"$TMP/err" &&
     python3 - "$TMP/tok.json" "$TMP/tok2.json" "$TMP/cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" <<'PY' &&
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["model"] == sys.argv[3] and a["ids"] == b["ids"] and len(a["ids"]) == 2, (a, b)
PY
     "$BIN" models --json >"$TMP/m2.json" &&
     python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['models'][0]; assert m['installed'] and m['state']=='installed', m" "$TMP/m2.json"
  then ok "--model smollm2-135m resolves to the installed file; models says installed"
  else bad "name resolution: $(cat "$TMP/err")"; fi
  # a folder named like the model in the working directory, not a model (no config.json): the name wins
  mkdir -p "$TMP/cwd/smollm2-135m"
  if (cd "$TMP/cwd" && "$BIN" tokenize --model smollm2-135m --json --text "Hello world" >"$TMP/tok3.json" 2>"$TMP/err") &&
     python3 -c "import json,sys; a=json.load(open(sys.argv[1])); assert a['model']==sys.argv[2], a" "$TMP/tok3.json" "$TMP/cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
  then ok "--model NAME beside a same-named non-model folder resolves to the installed file"
  else bad "name beside a same-named folder: $(cat "$TMP/err")"; fi
  # a file of the wrong size under a known name is reported, not called installed
  ln -s "$SRC/tests/golden/dequant/dequant_golden.gguf" "$TMP/cache/models/gemma-3-270m-q4_k_m.gguf"
  if "$BIN" models --json >"$TMP/m3.json" &&
     python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['models'][1]; assert not m['installed'] and m['state'].startswith('wrong size'), m" "$TMP/m3.json"
  then ok "a wrong-size file is not called installed"; else bad "wrong-size file: $(cat "$TMP/m3.json")"; fi
else
  echo "skip: default model absent ($REAL): name-to-file resolution not checked"
fi

echo "$fails failure(s)"
[[ $fails == 0 ]]
