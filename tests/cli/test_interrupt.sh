#!/usr/bin/env bash
# Interrupts and --resume (README, "Interrupts and --resume"; issue 21, acceptance 2). For every
# command that runs over a dataset: one uninterrupted run, then RS_INTERRUPT_TRIALS trials (1 by
# default, a smoke run of every check in CI; 20 for the measurement in the README) that each
#   - start the command, wait until its checkpoint holds a finished item, sleep a random part of
#     the time the uninterrupted run took after its first item, and send SIGINT;
#   - require exit status 130 (or 0 when the run finished first), one stderr line naming
#     --resume, no "*.tmp.<pid>" file, no .jsonl line cut short, and every output file either
#     absent or identical to the uninterrupted run's;
#   - run the same command with --resume and require outputs byte-identical to the
#     uninterrupted run's, except the wall-clock fields in summary.json files (seconds,
#     read_seconds, scan_seconds, prompts_per_second, timing, n_resumed), and no checkpoint left.
# Also: SIGTERM gives 143; a second SIGINT stops at once and still leaves no temporary file;
# --resume with other settings is refused (exit 2) and leaves the checkpoint as it was.
# The commands run on the native weights where they take them (below, at N).
# Needs the default model (REASONSCOPE_MODEL or the cache of scripts/setup.sh); exits 77
# (skipped) without it. RS_INTERRUPT_ONLY=score,trace limits the commands. Prints a line per trial
# (interrupted, with the items the checkpoint kept, or finished before the signal) and per command.
# Usage: bash test_interrupt.sh /path/to/reasonscope
set -u
# A shell that starts with SIGINT ignored (a background job of a non-interactive shell: `nohup
# ... &`) cannot restore it, and every trial would then "finish first": run again with SIGINT at
# its default.
if (( 0x$(awk '/^SigIgn/ {print $2}' /proc/$$/status) & 2 )) && [ -z "${RS_INTERRUPT_REEXEC:-}" ]; then
  RS_INTERRUPT_REEXEC=1 exec python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores the last two itself
    signal.signal(s, signal.SIG_DFL)
os.execvp("bash", ["bash"] + sys.argv[1:])' "$0" "$@"
fi
set -m  # background jobs keep SIGINT (a non-interactive shell would start them with it ignored)
source "$(dirname "$0")/common.sh"
# One trial in CI: a second one repeated the same checks at another random point for ~40% more
# CPU (CI time, issue 21); the acceptance measurement runs 20.
TRIALS=${RS_INTERRUPT_TRIALS:-1}
ONLY=${RS_INTERRUPT_ONLY:-}
# data label keeps 16 cases per item: 18 cases are 2 items, so the signal falls in the last one
# and --resume recomputes nothing; 33 (3 items) leave one to recompute, at twice the time.
LABEL_CASES=${RS_INTERRUPT_LABEL_CASES:-18}
# One thread: ctest runs this beside other tests on 2 cores, where two threads each spend most of
# their time waiting at OpenMP barriers (measured: `data label` 25 s with 2 threads, 9 s with 1).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
CACHE=${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}
MODEL=${REASONSCOPE_MODEL:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}
if [ ! -f "$MODEL" ]; then echo "skip: $MODEL not found (scripts/setup.sh)"; exit 77; fi
M=(--model "$MODEL" --threads "$OMP_NUM_THREADS")
# --weights native where the command allows it (not spectral's attention pattern, nor edit's
# weights): the checkpoint and resume code does not depend on the weights, and the native model
# loads in ~0.05 CPU-s against ~0.5 for the exact one, 3 loads per command (busy machine: this
# script 115 -> ~85 CPU-s; CI time, issue 21). test_shard_merge.sh keeps the exact weights, so
# rows computed in separate processes are still compared byte for byte on both paths.
N=(--weights native)
q() { "$BIN" "$@" >/dev/null 2>&1; }
EXEC=  # "exec" for a background run: its pid is then the command's own

# ---- inputs (small, so a run takes seconds)
write_texts "$TMP/texts.jsonl"
q data make prontoqa --n 6 --seed 5 --hops 1-3 --out "$TMP/pq.jsonl"
q data make cot-pairs --from "$TMP/pq.jsonl" --seed 5 --out "$TMP/cot.jsonl"
q data make prontoqa --n 6 --seed 11 --hops 1,3 --out "$TMP/qk.jsonl"
q data make babi15 --n 24 --seed 3 --out "$TMP/b.jsonl"
q data make pairs --from "$TMP/b.jsonl" --seed 3 --out "$TMP/pairs.jsonl"
q data make twohop --n "$LABEL_CASES" --seed 3 --out "$TMP/twohop.jsonl"
q data make instructions --n 48 --seed 4 --tasks 3 --distributions 2 --out "$TMP/instr.jsonl"
q steer train "${M[@]}" --data "$TMP/pairs.jsonl" --layers 8-10 --out "$TMP/v.gguf" ||
  { bad "setup: steer train"; exit 1; }
q edit creme "${M[@]}" --data "$TMP/twohop.jsonl" --category all --split all --limit 2 --layers 8-9 --templates 1 \
  --out "$TMP/edit.safetensors" || { bad "setup: edit creme"; exit 1; }

# ---- the commands: run_<name> OUT_DIR [--resume]; outputs go under OUT_DIR; ck_<name> OUT_DIR
# prints the checkpoint's rows file.
run_score() { $EXEC "$BIN" score "${M[@]}" "${N[@]}" --data "$TMP/texts.jsonl" --field text --token-logprobs --out "$1/o" "${@:2}"; }
ck_score() { echo "$1/o/resume/rows.jsonl"; }
run_trace() { $EXEC "$BIN" trace "${M[@]}" "${N[@]}" --data "$TMP/texts.jsonl" --field text --hooks 'blocks.*.hook_resid_post' \
  --positions all --out "$1/acts.safetensors" "${@:2}"; }
ck_trace() { echo "$1/acts.safetensors.resume/rows.jsonl"; }
run_spectral() { $EXEC "$BIN" verify spectral "${M[@]}" --data "$TMP/cot.jsonl" --layers 0-3 --folds 2 --max-tokens 64 \
  --out "$1/o" "${@:2}"; }
ck_spectral() { echo "$1/o/resume/rows.jsonl"; }
run_qk() { $EXEC "$BIN" verify qk "${M[@]}" "${N[@]}" --data "$TMP/qk.jsonl" --calib 4 --ensemble 3 --batch-size 2 --bootstrap 200 \
  --out "$1/o" "${@:2}"; }
ck_qk() { echo "$1/o/resume/rows.jsonl"; }
run_steer_train() { $EXEC "$BIN" steer train "${M[@]}" "${N[@]}" --data "$TMP/pairs.jsonl" --layers 8-10 --batch 1 --out "$1/v.gguf" "${@:2}"; }
ck_steer_train() { echo "$1/v.gguf.resume/rows.jsonl"; }
run_steer_eval() { $EXEC "$BIN" steer eval "${M[@]}" "${N[@]}" --vector "$TMP/v.gguf" --layers 9 --alpha 2 --data "$TMP/b.jsonl" \
  --limit 8 --calib 4 --bootstrap 200 --out "$1/o" "${@:2}"; }
ck_steer_eval() { echo "$1/o/resume/rows.jsonl"; }
run_label() { $EXEC "$BIN" data label twohop "${M[@]}" "${N[@]}" --data "$TMP/twohop.jsonl" --alternatives 1 --out "$1/labelled.jsonl" "${@:2}" >"$1/counts.json"; }
ck_label() { echo "$1/labelled.jsonl.resume/rows.jsonl"; }
run_cluster() { $EXEC "$BIN" cluster analyze "${M[@]}" "${N[@]}" --data "$TMP/instr.jsonl" --label-field task --text-field instruction \
  --layers 2,5 --batch 1 --out "$1/o" "${@:2}"; }
ck_cluster() { echo "$1/o/resume/rows.jsonl"; }
run_patch() { $EXEC "$BIN" patch "${M[@]}" "${N[@]}" --data "$TMP/twohop.jsonl" --category all --limit 3 --components resid \
  --positions last --out "$1/o" "${@:2}"; }
ck_patch() { echo "$1/o/resume/rows.jsonl"; }
run_edit_eval() { $EXEC "$BIN" edit eval "${M[@]}" --edit "$TMP/edit.safetensors" --data "$TMP/twohop.jsonl" --category all \
  --split all --limit 2 --out "$1/o" "${@:2}"; }
ck_edit_eval() { echo "$1/o/resume/rows.jsonl"; }
COMMANDS=(score trace spectral qk steer_train steer_eval label cluster patch edit_eval)

# resumed REF DIR: same_tree (common.sh) for a resumed run. summary.json's "vector" is steer
# train's own output path, which differs because the trials write elsewhere.
resumed() { same_tree "$1" "$2" "the uninterrupted run" "the resumed run" vector; }

# whole_files DIR: no temporary file; every .jsonl ends with a newline and each line parses
whole_files() {
  python3 - "$1" <<'PY'
import json, os, re, sys
for root, _, names in os.walk(sys.argv[1]):
    for n in names:
        p = os.path.join(root, n)
        if re.search(r"\.tmp\.\d+$", n):
            sys.exit(f"temporary file left: {p}")
        if n.endswith(".jsonl"):
            s = open(p, "rb").read()
            if s and not s.endswith(b"\n"):
                sys.exit(f"torn last line: {p}")
            for i, line in enumerate(s.splitlines()):
                try:
                    json.loads(line)
                except ValueError:
                    sys.exit(f"{p}:{i + 1}: not JSON")
PY
}

# partial_ok REF DIR: after an interrupt, each output either absent or identical (the checkpoint
# folder aside, which --resume reads)
partial_ok() {
  # shellcheck disable=SC2086  # WALL_CLOCK_KEYS (common.sh) is a list of words
  python3 - "$1" "$2" $WALL_CLOCK_KEYS vector <<'PY'
import json, os, sys
ref, got = sys.argv[1], sys.argv[2]
WALL = set(sys.argv[3:])  # the keys resumed() leaves out
for root, dirs, names in os.walk(got):
    dirs[:] = [d for d in dirs if not (d == "resume" or d.endswith(".resume"))]
    for n in names:
        p = os.path.join(root, n)
        r = os.path.join(ref, os.path.relpath(p, got))
        if n == "counts.json":  # data label's stdout, redirected by the test itself
            continue
        if not os.path.exists(r):
            sys.exit(f"{p}: present after the interrupt and not in the finished output")
        x, y = open(r, "rb").read(), open(p, "rb").read()
        if x != y and n.endswith(".json"):  # a run that finished before the signal: wall-clock fields differ
            jx, jy = json.loads(x), json.loads(y)
            if isinstance(jx, dict) and isinstance(jy, dict):
                for k in WALL:
                    jx.pop(k, None); jy.pop(k, None)
                x, y = jx, jy
        if x != y:
            sys.exit(f"{p}: present after the interrupt and not the finished output")
PY
}

wait_rows() {  # wait_rows FILE PID: until FILE has a line or PID has ended
  while kill -0 "$2" 2>/dev/null; do
    [ -s "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

ms() { date +%s%3N; }

for c in "${COMMANDS[@]}"; do
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$c,"* ]]; then continue; fi
  ref="$TMP/ref_$c"
  mkdir -p "$ref"
  # The uninterrupted run, timed from its first finished item to its end: the trials' signals
  # fall at a random point of that stretch.
  t0=$(ms)
  EXEC=exec "run_$c" "$ref" 2>"$TMP/err" &
  pid=$!
  wait_rows "$("ck_$c" "$ref")" "$pid"
  t1=$(ms)
  if ! wait "$pid"; then bad "$c: uninterrupted run failed: $(tail -2 "$TMP/err")"; continue; fi
  dur=$(( $(ms) - t0 )) rest=$(( $(ms) - t1 ))
  if ! resumed "$ref" "$ref" || [ -n "$(find "$ref" -name resume -o -name '*.resume')" ]; then
    bad "$c: the uninterrupted run left its checkpoint"
  fi
  n_int=0 n_fin=0 n_ok=0
  for t in $(seq 1 "$TRIALS"); do
    d="$TMP/t_$c"
    rm -rf "$d"; mkdir -p "$d"
    EXEC=exec "run_$c" "$d" 2>"$TMP/err" &  # the background job is the command itself
    pid=$!
    wait_rows "$("ck_$c" "$d")" "$pid"
    # uniform in [0, rest) ms; bash's own RANDOM (15 bits), since starting python here took
    # seconds on the loaded machine and so moved the signal past the end
    wait_ms=$(( (RANDOM * 32768 + RANDOM) * rest / 1073741824 ))
    sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    if [ "$rc" = 130 ]; then
      n_int=$((n_int + 1)) how="interrupted, $(wc -l <"$("ck_$c" "$d")") items kept"
      last=$(grep -v '^\s*$' "$TMP/err" | tail -1)
      [[ "$last" == *"interrupted (SIGINT)"*"--resume"* ]] || bad "$c trial $t: last stderr line: $last"
    elif [ "$rc" = 0 ]; then
      n_fin=$((n_fin + 1)) how="finished first"
    else
      bad "$c trial $t: exit $rc after SIGINT: $(tail -2 "$TMP/err")"; continue
    fi
    msg=$(whole_files "$d" 2>&1) || { bad "$c trial $t: $msg"; continue; }
    msg=$(partial_ok "$ref" "$d" 2>&1) || { bad "$c trial $t: $msg"; continue; }
    if ! "run_$c" "$d" --resume 2>"$TMP/err"; then bad "$c trial $t: --resume failed: $(tail -2 "$TMP/err")"; continue; fi
    msg=$(resumed "$ref" "$d" 2>&1) || { bad "$c trial $t: resumed: $msg"; continue; }
    n_ok=$((n_ok + 1))
    echo "$c trial $t: $how; files whole; resumed identical"
  done
  echo "$c: $TRIALS trials, $n_int interrupted mid-run, $n_fin finished first, $n_ok resumed identical (uninterrupted run ${dur} ms, ${rest} ms after its first item)"
  [ "$n_ok" = "$TRIALS" ] && ok "$c: interrupt + resume"
done

# SIGTERM -> 143; a second SIGINT -> stops at once (130), still no temporary file; other settings
# with --resume -> refused (2), checkpoint kept.
if [ -z "$ONLY" ] || [[ ",$ONLY," == *",score,"* ]]; then
  d="$TMP/term"; rm -rf "$d"; mkdir -p "$d"
  EXEC=exec run_score "$d" 2>"$TMP/err" & pid=$!
  wait_rows "$(ck_score "$d")" "$pid"; kill -TERM "$pid"; wait "$pid"; rc=$?
  if [ "$rc" = 143 ] && grep -q "interrupted (SIGTERM)" "$TMP/err"; then ok "SIGTERM: exit 143"
  elif [ "$rc" = 0 ]; then echo "note: SIGTERM came after the last row (exit 0)"
  else bad "SIGTERM: exit $rc: $(tail -1 "$TMP/err")"; fi
  if [ "$rc" = 143 ]; then
    before=$(md5sum <"$(ck_score "$d")")
    "$BIN" score "${M[@]}" "${N[@]}" --data "$TMP/texts.jsonl" --field text --out "$d/o" --resume 2>"$TMP/err"; rc=$?
    if [ "$rc" = 2 ] && grep -q "token_logprobs" "$TMP/err" && [ "$(md5sum <"$(ck_score "$d")")" = "$before" ]; then
      ok "--resume with other settings: exit 2, checkpoint kept"
    else bad "--resume with other settings: exit $rc: $(tail -1 "$TMP/err")"; fi
  fi
  d="$TMP/twice"; rm -rf "$d"; mkdir -p "$d"
  EXEC=exec run_trace "$d" 2>"$TMP/err" & pid=$!
  wait_rows "$(ck_trace "$d")" "$pid"; kill -INT "$pid"; sleep 0.01; kill -INT "$pid"; wait "$pid"; rc=$?
  if { [ "$rc" = 130 ] || [ "$rc" = 0 ]; } && msg=$(whole_files "$d" 2>&1); then ok "two SIGINTs: exit $rc, no temporary file"
  else bad "two SIGINTs: exit $rc ${msg:-}"; fi
fi

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all interrupt checks passed"
