#!/usr/bin/env bash
# `reasonscope` links no libtorch (its static initialisation costs ~0.5 CPU-s per process): it runs
# the torch-free commands itself and execs reasonscope-engine, beside it, for the others (src/cli/
# main.cpp). Checks: no libtorch in its dependencies; with the engine absent the torch-free commands
# still work (they ran here), a torch command fails with one line naming the engine (exit 1), and
# top-level --help, which lists every command, needs the engine too; with the engine there,
# `--help` lists every command, as reasonscope-engine itself does, and exit statuses pass through
# the exec unchanged (test_interrupt signals commands started through it).
# Usage: bash test_dispatch.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
BIN=$(readlink -f "$BIN")
ENGINE=$BIN-engine
[[ -x $ENGINE ]] || { echo "FAIL $ENGINE: not built beside $BIN"; exit 1; }

if ldd "$BIN" >"$TMP/ldd" 2>&1 && ! grep -q "torch\|c10" "$TMP/ldd"; then ok "reasonscope links no libtorch"
else bad "reasonscope links libtorch: $(grep "torch\|c10" "$TMP/ldd" | head -3)"; fi
if ldd "$ENGINE" | grep -q "libtorch"; then ok "reasonscope-engine links libtorch"; else bad "reasonscope-engine: no libtorch"; fi

# Alone: a copy without its engine.
mkdir "$TMP/alone"; cp "$BIN" "$TMP/alone/rs"
alone=$TMP/alone/rs
if "$alone" data make prontoqa --n 3 --seed 1 --out "$TMP/p.jsonl" 2>"$TMP/err" &&
   "$alone" data check "$TMP/p.jsonl" --schema prontoqa >/dev/null 2>>"$TMP/err" &&
   "$alone" models --json >/dev/null 2>>"$TMP/err" && "$alone" report demo --help >/dev/null 2>>"$TMP/err" &&
   "$alone" -v audit --help >/dev/null 2>>"$TMP/err"
then ok "without the engine: data make/check, models, report demo, audit run"
else bad "without the engine, a torch-free command failed: $(cat "$TMP/err")"; fi
if [[ -f ${REASONSCOPE_MODEL:-} ]]; then
  if "$alone" tokenize --model "$REASONSCOPE_MODEL" --text "Hello world" >/dev/null 2>"$TMP/err"; then ok "without the engine: tokenize runs"
  else bad "without the engine, tokenize: $(cat "$TMP/err")"; fi
fi
# merge runs the second stage of the shards' command in-process, so it needs every command.
for cmd in "info --help" "merge --help" "data label --help" "data --help" "--help" ""; do
  # shellcheck disable=SC2086  # the words of a command line
  "$alone" $cmd >"$TMP/out" 2>"$TMP/err"; rc=$?
  if [[ $rc == 1 && $(wc -l <"$TMP/err") == 1 ]] && grep -q "^error: cannot run $alone-engine, which runs this command" "$TMP/err"
  then ok "without the engine, '$cmd': exit 1, one line naming $alone-engine"
  else bad "without the engine, '$cmd': exit $rc, $(cat "$TMP/out" "$TMP/err" | head -3)"; fi
done

# With the engine: the top-level help is the engine's, with every command.
"$BIN" --help >"$TMP/help" 2>&1; rc=$?
"$ENGINE" --help >"$TMP/help.engine" 2>&1
for c in audit cluster data edit generate info lens merge models patch report score serve steer tokenize trace verify; do
  grep -q "^  $c " "$TMP/help" || bad "--help does not list $c"
done
if [[ $rc == 0 ]] && diff <(sed 1,3d "$TMP/help") <(sed 1,3d "$TMP/help.engine") >/dev/null; then ok "--help lists every command, as the engine does"
else bad "--help (exit $rc) differs from the engine's"; fi
"$BIN" info --model "$TMP/none.gguf" 2>/dev/null; rc=$?
"$ENGINE" info --model "$TMP/none.gguf" 2>/dev/null; rc_engine=$?
if [[ $rc == "$rc_engine" && $rc == 4 ]]; then ok "info on a missing model: exit 4 through the exec, as the engine"
else bad "info on a missing model: exit $rc through the exec, $rc_engine from the engine"; fi
"$BIN" data label --bogus 2>/dev/null; rc=$?
[[ $rc == 2 ]] && ok "data label --bogus: exit 2 (usage) through the exec" || bad "data label --bogus: exit $rc"

[[ $fails == 0 ]] && echo "test_dispatch: all checks passed" || echo "test_dispatch: $fails check(s) failed"
[[ $fails == 0 ]]
