#!/usr/bin/env bash
# The warm engine (`reasonscope engine-server`, README "A warm engine for many short commands"):
# with REASONSCOPE_ENGINE_SOCKET naming a listening server, a command runs in a fork of it and
# must behave as the exec'd engine does, also on the model the server preloaded (--preload). Checks, each against the same command without the
# variable: the outputs, exit status and stderr of a run and of a failing run; the preloaded model
# taken through another path to its file, and an in-place --edit on it that stays in its worker;
# a relative --out (working directory) and the mode of what it writes (umask); a forwarded SIGINT
# (130, resumable); that the warm path was taken at all (the caller's own peak RSS stays small: it
# never loads libtorch); that SIGKILL of the caller ends the command; that a client whose
# load-time variables differ, or that runs under a memory limit, is declined and runs its own
# engine; that junk on the socket leaves the server serving; that a second start replaces the
# first; and --stop.
# Needs the default model (REASONSCOPE_MODEL or the cache of scripts/setup.sh); exits 77 without.
# Usage: bash test_warm_engine.sh /path/to/reasonscope
set -u
set -m  # background jobs keep SIGINT (a non-interactive shell would start them with it ignored)
source "$(dirname "$0")/common.sh"
CACHE=${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}
MODEL=${REASONSCOPE_MODEL:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}
[ -f "$MODEL" ] || { echo "skip: $MODEL not found (scripts/setup.sh)"; exit 77; }
[[ -x /usr/bin/time ]] || { echo "skip: /usr/bin/time (GNU time) is absent"; exit 77; }
export OMP_NUM_THREADS=1
unset REASONSCOPE_ENGINE_SOCKET
SOCK=$TMP/engine.sock
LOG=$TMP/server.log
trap '"$BIN" engine-server --socket "$SOCK" --stop >/dev/null 2>&1; rm -rf "$TMP"' EXIT
warm() { REASONSCOPE_ENGINE_SOCKET=$SOCK "$@"; }

if "$BIN" engine-server --socket "$SOCK" --detach --log "$LOG" --preload "$MODEL" 2>"$TMP/start.err" && [ -S "$SOCK" ] &&
   grep -q "listening at $SOCK" "$TMP/start.err"
then ok "engine-server --detach: returns once listening at the socket"
else bad "engine-server --detach: $(cat "$TMP/start.err")"; fi
pid1=$(pgrep -f -- "engine-server --socket $SOCK --detach --log")
"$BIN" engine-server --socket "$SOCK" --detach --log "$LOG" --preload "$MODEL" 2>"$TMP/again.err"; rc=$?
for _ in $(seq 100); do kill -0 "${pid1:-0}" 2>/dev/null || break; sleep 0.02; done  # it exits just after unlinking
if [[ $rc == 0 ]] && grep -q "replaced the server" "$TMP/again.err" &&
   [ -S "$SOCK" ] && [[ -n $pid1 ]] && ! kill -0 "$pid1" 2>/dev/null
then ok "a second start at the same socket replaces the first (it may run an older build)"
else bad "a second start: $(cat "$TMP/again.err"), first server ${pid1:-?} $(kill -0 "${pid1:-0}" 2>/dev/null && echo "still runs")"; fi

# ---- the same command both ways
write_texts "$TMP/texts.jsonl"
SCORE=(score --model "$MODEL" --threads 1 --weights native --data "$TMP/texts.jsonl" --field text --token-logprobs)
mkdir -p "$TMP/cwd_warm" "$TMP/cwd_exec"
(cd "$TMP/cwd_exec" && umask 077 && "$BIN" "${SCORE[@]}" --out o >out 2>err); rc_exec=$?
(cd "$TMP/cwd_warm" && umask 077 && warm "$BIN" "${SCORE[@]}" --out o >out 2>err); rc_warm=$?
if [[ $rc_exec == 0 && $rc_warm == 0 ]] && same_tree "$TMP/cwd_exec/o" "$TMP/cwd_warm/o" exec warm &&
   cmp -s "$TMP/cwd_exec/out" "$TMP/cwd_warm/out"
then ok "score: exit 0 and the same outputs (relative --out in the caller's directory) both ways"
else bad "score: exit $rc_exec / $rc_warm, $(cat "$TMP/cwd_warm/err" | head -3)"; fi
m_exec=$(stat -c %a "$TMP/cwd_exec/o/summary.json" 2>/dev/null); m_warm=$(stat -c %a "$TMP/cwd_warm/o/summary.json" 2>/dev/null)
[[ -n $m_warm && $m_warm == "$m_exec" ]] && ok "umask 077: summary.json mode $m_warm both ways" ||
  bad "umask: mode '$m_exec' exec, '$m_warm' warm"

# The preloaded model: taken by the first load in a worker (by another path to the same file too);
# an edit applied in place stays in that worker: the next command sees the file's weights.
ln -s "$MODEL" "$TMP/link.gguf"
if warm "$BIN" -v score --model "$TMP/link.gguf" --threads 1 --data "$TMP/texts.jsonl" --field text --out "$TMP/pre" 2>"$TMP/pre.err" >/dev/null &&
   grep -q "the model the warm engine preloaded" "$TMP/pre.err"
then ok "score: takes the preloaded model (through a symlink to the file)"
else bad "score through a symlink: no preloaded model taken: $(grep -i "load" "$TMP/pre.err" | head -2)"; fi
write_twohop() { "$BIN" data make twohop --n 18 --seed 3 --out "$1" >/dev/null 2>&1; }
write_twohop "$TMP/twohop.jsonl"
"$BIN" edit creme --model "$MODEL" --threads 1 --data "$TMP/twohop.jsonl" --category all --split all --limit 2 --layers 8-9 \
  --templates 1 --out "$TMP/edit.safetensors" >/dev/null 2>"$TMP/creme.err" || bad "setup: edit creme: $(tail -1 "$TMP/creme.err")"
PLAIN=(score --model "$MODEL" --threads 1 --data "$TMP/texts.jsonl" --field text --token-logprobs)
"$BIN" "${PLAIN[@]}" --edit "$TMP/edit.safetensors" --out "$TMP/edit_exec" >/dev/null 2>&1
"$BIN" "${PLAIN[@]}" --out "$TMP/plain_exec" >/dev/null 2>&1
warm "$BIN" "${PLAIN[@]}" --edit "$TMP/edit.safetensors" --out "$TMP/edit_warm" >/dev/null 2>&1
warm "$BIN" "${PLAIN[@]}" --out "$TMP/plain_warm" >/dev/null 2>&1
if same_tree "$TMP/edit_exec" "$TMP/edit_warm" exec warm && same_tree "$TMP/plain_exec" "$TMP/plain_warm" exec warm &&
   ! cmp -s "$TMP/edit_exec/examples.jsonl" "$TMP/plain_exec/examples.jsonl"
then ok "--edit on the preloaded model, then a plain run: both as exec'd (the edit stayed in its worker)"
else bad "--edit then plain through the preloaded model differ from the exec'd runs"; fi

for cmd in "info --model $TMP/absent.gguf" "score --model $MODEL --data $TMP/absent.jsonl --out $TMP/x" "info --layers 99"; do
  # shellcheck disable=SC2086  # the words of a command line
  "$BIN" $cmd >"$TMP/e.out" 2>"$TMP/e.err"; a=$?
  # shellcheck disable=SC2086
  warm "$BIN" $cmd >"$TMP/w.out" 2>"$TMP/w.err"; b=$?
  if [[ $a != 0 && $a == "$b" ]] && cmp -s "$TMP/e.err" "$TMP/w.err" && cmp -s "$TMP/e.out" "$TMP/w.out"
  then ok "'${cmd%% *} ...' failing: exit $a and the same stderr both ways"
  else bad "'$cmd': exit $a exec / $b warm; stderr '$(head -1 "$TMP/e.err")' / '$(head -1 "$TMP/w.err")'"; fi
done

# ---- the warm path was taken: the caller itself never loads libtorch (~160 MB resident at start;
# `info --help` is a torch command that loads no model)
rss() { /usr/bin/time -f %M -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/rss.err"; cat "$TMP/rss"; }
r_exec=$(rss "$BIN" info --help); r_warm=$(rss env REASONSCOPE_ENGINE_SOCKET="$SOCK" "$BIN" info --help)
if [[ $r_warm =~ ^[0-9]+$ && $r_exec =~ ^[0-9]+$ ]] && (( r_warm < 50000 && r_exec > 100000 ))
then ok "info --help: the caller's peak RSS ${r_warm} KB warm, ${r_exec} KB exec'd"
else bad "info --help: peak RSS '$r_warm' KB warm (want < 50000), '$r_exec' KB exec'd (want > 100000)"; fi
# A load-time variable of another value: declined, so the caller runs its own engine.
r_declined=$(REASONSCOPE_ENGINE_VERBOSE=1 rss env REASONSCOPE_ENGINE_SOCKET="$SOCK" MALLOC_ARENA_MAX=3 "$BIN" info --help)
cp "$TMP/rss.err" "$TMP/declined.err"
# A memory limit: a fork would start with the server's memory counted against it, so declined too.
r_limited=$( (ulimit -v 4000000; rss env REASONSCOPE_ENGINE_SOCKET="$SOCK" "$BIN" info --help) )
if [[ $r_limited =~ ^[0-9]+$ ]] && (( r_limited > 100000 )); then ok "ulimit -v: declined, the caller ran its own engine"
else bad "ulimit -v: the caller's peak RSS '$r_limited' KB (want > 100000: its own engine)"; fi
if [[ $r_declined =~ ^[0-9]+$ ]] && (( r_declined > 100000 )) && grep -q "declined (an environment variable read at load time" "$TMP/declined.err"
then ok "MALLOC_ARENA_MAX differs from the server's: declined (note under REASONSCOPE_ENGINE_VERBOSE), ran its own engine"
else bad "a different MALLOC_ARENA_MAX: peak RSS '$r_declined' KB, stderr '$(head -1 "$TMP/declined.err")'"; fi

# ---- signals: SIGINT forwarded (the command stops cleanly and resumes); SIGKILL ends the command
for i in $(seq 5); do cat "$TMP/texts.jsonl"; done | python3 -c '
import json, sys
for i, line in enumerate(sys.stdin):
    row = json.loads(line); row["id"] = f"r{i}"; print(json.dumps(row))' >"$TMP/many.jsonl"
LONG=(score --model "$MODEL" --threads 1 --weights native --data "$TMP/many.jsonl" --field text)
wait_rows() { for _ in $(seq 600); do [ -s "$1" ] && return 0; kill -0 "$2" 2>/dev/null || return 1; sleep 0.05; done; return 1; }
REASONSCOPE_ENGINE_SOCKET=$SOCK "$BIN" "${LONG[@]}" --out "$TMP/int" 2>"$TMP/int.err" & pid=$!
wait_rows "$TMP/int/resume/rows.jsonl" $pid; kill -INT $pid 2>/dev/null; wait $pid; rc=$?
if [[ $rc == 130 ]] && grep -q -- "--resume" "$TMP/int.err" && ! ls "$TMP/int" | grep -q "\.tmp\."
then ok "SIGINT to the caller: forwarded, exit 130, the line names --resume, no temporary file"
else bad "SIGINT: exit $rc, $(tail -1 "$TMP/int.err")"; fi
warm "$BIN" "${LONG[@]}" --out "$TMP/ref" >/dev/null 2>&1  # the reference (both ways agree: above)
if warm "$BIN" "${LONG[@]}" --out "$TMP/int" --resume >/dev/null 2>"$TMP/res.err" && same_tree "$TMP/ref" "$TMP/int" uninterrupted resumed
then ok "the interrupted warm run, resumed: the uninterrupted run's outputs"
else bad "resume after the warm SIGINT: $(tail -1 "$TMP/res.err")"; fi
REASONSCOPE_ENGINE_SOCKET=$SOCK "$BIN" "${LONG[@]}" --out "$TMP/killed" 2>/dev/null & pid=$!
wait_rows "$TMP/killed/resume/rows.jsonl" $pid; kill -KILL $pid; wait $pid 2>/dev/null
for _ in $(seq 100); do pgrep -f -- "--out $TMP/killed" >/dev/null || break; sleep 0.05; done
if pgrep -f -- "--out $TMP/killed" >/dev/null; then bad "SIGKILL of the caller: the command still runs"
else ok "SIGKILL of the caller: the command ended with it"; fi

# ---- junk on the socket: the server goes on
python3 - "$SOCK" <<'PY'
import socket, sys
for junk in (b"", b"RSWARM01\xff\xff\xff\xff", b"RSWARM01\x10\x00\x00\x00" + b"\x07" * 16, b"GET / HTTP/1.0\r\n\r\n"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    try:
        s.sendall(junk); s.shutdown(socket.SHUT_WR); s.recv(100)
    except OSError:  # the handler may drop the connection before reading it all
        pass
    s.close()
PY
if warm "$BIN" info --model "$MODEL" >/dev/null 2>"$TMP/after.err"; then ok "four junk requests: refused or dropped, the server still runs commands"
else bad "after junk requests: $(cat "$TMP/after.err")"; fi

# ---- --stop: the socket goes, and commands run their own engine again
"$BIN" engine-server --socket "$SOCK" --stop 2>"$TMP/stop.err"
if [ ! -e "$SOCK" ] && grep -q "stopped" "$TMP/stop.err" && warm "$BIN" info --model "$MODEL" >/dev/null 2>&1
then ok "--stop: socket removed; with nothing listening a command runs as usual"
else bad "--stop: $(cat "$TMP/stop.err"), socket $( [ -e "$SOCK" ] && echo still there || echo gone)"; fi
grep -q "error" "$LOG" && bad "the server's log: $(grep error "$LOG" | head -2)"

if [[ $fails == 0 ]]; then echo "test_warm_engine: all passed"; exit 0; fi
echo "test_warm_engine: $fails failed"; exit 1
