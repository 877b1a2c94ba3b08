#!/usr/bin/env bash
# The main job (README): install what is missing, build reasonscope, and run it on the default
# model. Until the analysis commands land this is `info` plus a short chat generation; the
# `audit` command will replace it. Extra arguments are passed to `generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target reasonscope
RS=build/release/bin/reasonscope
echo "== reasonscope info =="
"$RS" info
echo "== reasonscope generate --chat =="
"$RS" generate --chat --prompt "${PROMPT:-What is the capital of France? Answer in one sentence.}" \
  --max-new-tokens 48 "$@"
