#!/bin/sh
# The compiler launcher of the benchmarks under RS_BENCH_CHECK_ONLY (bench/CMakeLists.txt): runs
# the compile, which has -fsyntax-only and so writes no object, then creates the object file the
# build expects, empty (nothing links it), so that the next build skips the check unless an input
# changed.
out=
prev=
for a in "$@"; do
  [ "$prev" = -o ] && out=$a
  prev=$a
done
"$@" || exit
[ -n "$out" ] && : >"$out"
