#!/usr/bin/env bash
# The Python side of the tests: a venv at build/pyenv (or $1) on Debian's /usr/bin/python3 with
# --system-site-packages, so it sees Debian's python3-torch, which is the same libtorch 1.13 the
# CLI links (one libtorch per process), plus the PyPI packages of tests/python/requirements.txt.
# Prints the venv's python on stdout. Idempotent: pip runs only when the requirements changed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-build/pyenv}
req=tests/python/requirements.txt
log() { echo "pyenv: $*" >&2; }

if [[ ! -x $venv/bin/python ]]; then
  log "creating $venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  log "installing $(grep -cv '^\s*\(#\|$\)' "$req") packages from $req"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$(cd "$venv" && pwd)/bin/python"
