#!/usr/bin/env bash
# The serve tests in the Python test venv (scripts/pyenv.sh makes it; scripts/test.sh exports
# REASONSCOPE_PYTHON). A missing venv is a failure with a message, never a skip.
set -u
cd "$(dirname "$0")/../.."
PY=${REASONSCOPE_PYTHON:-build/pyenv/bin/python}
if [[ ! -x $PY ]]; then
  echo "serve tests: no Python at $PY; run scripts/pyenv.sh (or set REASONSCOPE_PYTHON)" >&2
  exit 1
fi
if ! "$PY" -c "import openai, pytest" 2>/dev/null; then
  echo "serve tests: $PY lacks openai or pytest; run scripts/pyenv.sh (tests/python/requirements.txt)" >&2
  exit 1
fi
exec "$PY" -m pytest -q -p no:cacheprovider tests/serve
