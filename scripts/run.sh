#!/usr/bin/env bash
# The main job (README): install what is missing, build reasonscope, and run the quick reasoning
# audit on the default model (`reasonscope audit`: the five analyses on built-in generated data,
# one report). Prints where the report is and its verdict lines. Idempotent: a rerun keeps the
# finished sections (same model, budget and seed) and only redoes what is missing.
# Output folder: $AUDIT_OUT (default runs/audit); extra arguments go to `audit`
# (e.g. --budget full, --seed 1, --model other.gguf, --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target reasonscope
RS=build/release/bin/reasonscope
OUT=${AUDIT_OUT:-runs/audit}
echo "== reasonscope audit --out $OUT $* ==" >&2
"$RS" audit --out "$OUT" "$@"
