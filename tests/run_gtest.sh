#!/usr/bin/env bash
# One ctest entry per GoogleTest executable (tests/CMakeLists.txt, rs_add_test): runs every case of
# EXE in one process (one libtorch start-up and one model load instead of one per case; CI time,
# issue 21), printing only failures and skips (--gtest_brief). Exit status: the executable's, or 77
# (ctest: skipped) when every case skipped and none failed. When only some cases skipped, the entry
# passes and says so in a line "partly skipped: ..." (scripts/test.sh lists those lines after the
# suite), each skip's reason printed above it.
# Usage: run_gtest.sh EXE [gtest options...]
set -u
exe=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$exe" --gtest_brief=1 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || exit "$rc"
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p' "$log" | tail -1)
skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) tests\{0,1\}.*/\1/p' "$log" | tail -1)
if [ -z "$passed" ]; then
  echo "run_gtest.sh: no '[  PASSED  ] N tests.' line from $exe"
  exit 1
fi
if [ -z "$skipped" ] || [ "$skipped" = 0 ]; then
  [ "$passed" -gt 0 ] || { echo "run_gtest.sh: $exe ran no test"; exit 1; }
else
  if [ "$passed" = 0 ]; then exit 77; fi
  echo "partly skipped: $(basename "$exe"): $skipped of $((passed + skipped)) cases skipped (reasons above)"
fi
exit 0
