#!/usr/bin/env bash
# The BLAS kernel check of `reasonscope` (core/blas_kernel.h) end to end, as `info` reports it:
# without OPENBLAS_CORETYPE the fastest family the CPU runs; with it, exactly the user's choice;
# and when OpenBLAS picks Prescott by itself (simulated with RS_BLAS_SIMULATE_CORE, the state a
# host with an unknown CPU model gets), the check replaces it, unless the user set the variable.
# Usage: bash test_blas_kernel.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['blas'][sys.argv[2]])" "$1" "$2"; }
unset OPENBLAS_CORETYPE RS_BLAS_SIMULATE_CORE

# info NAME ENV... : run `info --json` with the environment assignments, output in $TMP/NAME.
info() {
  local name=$1; shift
  if ! env "$@" "$BIN" info --json >"$TMP/$name" 2>"$TMP/err"; then
    bad "$name: info exit non-zero: $(head -3 "$TMP/err")"; return 1
  fi
}

info plain || exit 1
if [ "$(field "$TMP/plain" library)" != openblas ]; then
  echo "skip: libtorch's BLAS is not OpenBLAS ($(field "$TMP/plain" library)); nothing to switch"
  exit 77  # ctest's SKIP_RETURN_CODE (tests/cli/CMakeLists.txt)
fi
best=$(field "$TMP/plain" core)
echo "host: OpenBLAS $(field "$TMP/plain" openblas_choice) -> $best (chosen by $(field "$TMP/plain" chosen_by)); CPU $(field "$TMP/plain" cpu)"
grep -q '"blas"' "$TMP/plain" && ok "info --json has blas" || bad "info --json lacks blas"
"$BIN" info 2>/dev/null | grep -qE "^blas +OpenBLAS $best \(chosen by " && ok "info text names the kernel" ||
  bad "info text lacks the blas line"

# The user's setting always wins, even a slow one.
if info user OPENBLAS_CORETYPE=Prescott; then
  [ "$(field "$TMP/user" core)" = Prescott ] && [ "$(field "$TMP/user" chosen_by)" = OPENBLAS_CORETYPE ] &&
    ok "OPENBLAS_CORETYPE=Prescott stands" || bad "OPENBLAS_CORETYPE=Prescott: core $(field "$TMP/user" core)"
fi

# OpenBLAS's own Prescott choice is replaced by the host's best family.
if info sim RS_BLAS_SIMULATE_CORE=Prescott; then
  core=$(field "$TMP/sim" core); by=$(field "$TMP/sim" chosen_by)
  [ "$(field "$TMP/sim" openblas_choice)" = Prescott ] || bad "simulated choice not Prescott"
  if [ "$best" = Prescott ]; then
    [ "$core" = Prescott ] && ok "SSE-only CPU keeps Prescott" || bad "SSE-only CPU: core $core"
  else
    [ "$core" = "$best" ] && [ "$by" = reasonscope ] && ok "Prescott replaced by $core: $(field "$TMP/sim" reason)" ||
      bad "simulated Prescott: core $core chosen by $by, expected $best"
  fi
fi

# ...but not when the user set OPENBLAS_CORETYPE.
if info both RS_BLAS_SIMULATE_CORE=Prescott OPENBLAS_CORETYPE=Haswell; then
  [ "$(field "$TMP/both" core)" = Haswell ] && [ "$(field "$TMP/both" chosen_by)" = OPENBLAS_CORETYPE ] &&
    ok "OPENBLAS_CORETYPE wins over the check" || bad "user setting overridden: $(field "$TMP/both" core)"
fi

[[ $fails -eq 0 ]] && echo "all blas kernel tests passed" || { echo "$fails failed"; exit 1; }
