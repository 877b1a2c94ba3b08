#!/usr/bin/env bash
# The test command (README): installs what is missing, builds, and runs every suite.
#  1. torch-free layers (io, kernels, tokenizer, data, report) under AddressSanitizer + UBSan;
#  2. short libFuzzer runs of every input format the tool reads (fuzz/: GGUF, safetensors, the
#     tokenizer, JSONL rows, HF config/tokenizer files, chat templates, calibration/heads JSON,
#     control vectors, edit files; built in the same clang tree as 1), FUZZ_SECONDS (default 4)
#     each, JOBS at a time: a smoke run of the seed corpus and some mutations (the long campaign:
#     README, "The two commands");
#  3. the full Release build and suite, including the real default model, less the torch-free
#     unit tests, which 1 has run under the sanitizers (RS_TORCH_FREE_TESTS=OFF); in a new tree the
#     benchmarks are only compiled for errors, not linked (RS_BENCH_CHECK_ONLY).
# GoogleTest cases run one process per test binary (tests/run_gtest.sh); a binary whose cases
# only partly skipped passes, and its "partly skipped" line is repeated at the end.
# Build directories live under build/ and are reused, so a second run only rebuilds changes.
set -euo pipefail
cd "$(dirname "$0")/.."
# CI also installs Gemma 3 270M and Qwen2.5-Coder-0.5B (491 MB), so their tests (which skip only
# when the file is absent) run; the qwen2.5-coder-1.5b cases run where it is installed.
./scripts/setup.sh --with gemma3,qwen2.5-coder-0.5b

JOBS=${JOBS:-$(nproc)}
export REASONSCOPE_MODEL="${REASONSCOPE_MODEL:-${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
export REASONSCOPE_GEMMA3="${REASONSCOPE_GEMMA3:-${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}/models/gemma-3-270m-q4_k_m.gguf}"
export CTEST_OUTPUT_ON_FAILURE=1

echo "== sanitizer build (clang; ASan + UBSan unit tests and libFuzzer targets, torch-free layers) =="
# One tree for both: the torch-free layers are compiled once, with the sanitizers and libFuzzer's
# coverage instrumentation; the unit tests link them with ASan + UBSan, the fuzz targets also with
# libFuzzer's main. (Two trees compiled the same layers twice; CI time, issue 21.)
# RelWithDebInfo (-O2 -g): -O1 -gline-tables-only built the tree in 399 CPU-s against 405, and
# -O0 in 213 but ran the tests that parse the real model 6 times longer (README, "The two commands").
# A new tree is made with Ninja, which compiles a target's files while the libraries it links are
# still being built (make waits for them); a tree that exists keeps its generator, and without
# ninja it is make. RS_UNITY: 8 files to a translation unit (CMakeLists.txt).
new_tree() { [[ -f $1/CMakeCache.txt ]] || ! command -v ninja >/dev/null || echo "-G Ninja"; }
# shellcheck disable=SC2046  # new_tree prints nothing or two words
CC=clang CXX=clang++ cmake -S . -B build/sanitize $(new_tree build/sanitize) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRS_SANITIZE=ON -DRS_FUZZ=ON -DRS_WITH_TORCH=OFF -DRS_BUILD_BENCH=OFF -DRS_UNITY=ON >/dev/null
cmake --build build/sanitize -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/sanitize -j"$JOBS"

echo "== fuzz smoke runs (libFuzzer, ${FUZZ_SECONDS:=4} s each, $JOBS at a time) =="
fuzz_one() {  # fuzz_one TARGET: a FUZZ_SECONDS run from a copy of its seed corpus, logged
  local f=$1 name corpus work rc=0
  name=$(basename "$f"); corpus=fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d); [[ -d $corpus ]] && cp -r "$corpus"/. "$work"/
  # Undefined behaviour is a finding too (UBSan only reports and goes on by default).
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$work" >"$FUZZ_LOGS/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$FUZZ_LOGS/$name.rc"
  rm -rf "$work"
}
FUZZ_LOGS=$(mktemp -d); export FUZZ_LOGS FUZZ_SECONDS; export -f fuzz_one
find build/sanitize/fuzz -maxdepth 1 -name 'fuzz_*' -type f -executable -print0 | sort -z |
  xargs -0 -r -n1 -P"$JOBS" bash -c 'fuzz_one "$0"'
fuzz_failed=0
for log in "$FUZZ_LOGS"/*.log; do
  name=$(basename "$log" .log)
  echo "-- $name"
  if [[ $(cat "$FUZZ_LOGS/$name.rc") == 0 ]]; then tail -n 5 "$log"; else tail -n 60 "$log"; fuzz_failed=1; fi
done
rm -rf "$FUZZ_LOGS"
[[ $fuzz_failed == 0 ]] || { echo "fuzz smoke run: a target failed (log above)"; exit 1; }

echo "== Release build and full suite =="
# The Python tests (the package, the server's openai-client tests, Ray) run in this venv.
REASONSCOPE_PYTHON=$(./scripts/pyenv.sh); export REASONSCOPE_PYTHON
# RS_BUILD_PYTHON=ON: the Python module and its tests are part of the suite, never quietly left out.
# RS_TORCH_FREE_TESTS=OFF: the torch-free unit tests ran above, under ASan + UBSan; this tree
# does not build and run them a second time (CI time, issue 21).
# A new tree (CI's fresh clone) only checks that the benchmarks compile (RS_BENCH_CHECK_ONLY:
# -fsyntax-only, no binaries; CI time, issue 21); a tree that exists keeps its setting, so a
# developer's benchmark binaries are never left stale.
bench_opt=()
[[ -f build/release/CMakeCache.txt ]] || bench_opt=(-DRS_BENCH_CHECK_ONLY=ON)
# shellcheck disable=SC2046
cmake -S . -B build/release $(new_tree build/release) -DCMAKE_BUILD_TYPE=Release -DRS_BUILD_PYTHON=ON \
  -DRS_TORCH_FREE_TESTS=OFF -DRS_UNITY=ON "${bench_opt[@]}" >/dev/null
cmake --build build/release -j"$JOBS"
# The test scripts check outputs with python3, ~160 calls a run. Where python3 is a pyenv
# shim, every call first runs pyenv's bash scripts (~0.1 CPU-s and ~0.2 s each; CI time, issue
# 21), so ctest finds the interpreter that the shim resolves to first on its PATH: the same
# python3, called directly.
py3=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')
mkdir -p build/python3 && ln -sfn "$py3" build/python3/python3
PATH="$PWD/build/python3:$PATH" ctest --test-dir build/release -j"$JOBS"
grep -h '^partly skipped: ' build/sanitize/Testing/Temporary/LastTest.log \
  build/release/Testing/Temporary/LastTest.log || true
