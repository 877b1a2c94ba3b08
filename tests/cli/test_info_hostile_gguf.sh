#!/usr/bin/env bash
# `reasonscope info` on crafted GGUF files whose metadata holds one 100 MB array (issue 21,
# acceptance 3): a UINT8 array of 100,000,000 bytes, and a STRING array of 12,500,000 empty
# strings (8 bytes each, the smallest string). Each file is a well-formed GGUF without a model
# in it, so `info` must refuse it with one message and the "model not loadable" status (4),
# at a peak resident size under 500 MB (one ~100-byte value per element asked for 10 GB).
# Usage: bash test_info_hostile_gguf.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
[[ -x /usr/bin/time ]] || { echo "skip: /usr/bin/time (GNU time) is absent"; exit 77; }
LIMIT_KB=$((500 * 1000))

# GGUF v3 (ggml docs/gguf.md): magic, version, n_tensors = 0, n_kv = 1, then key "junk",
# type ARRAY (9), element type, count, elements.
python3 - "$TMP" <<'PY'
import struct, sys
tmp = sys.argv[1]
def write(name, elem_type, count, payload_bytes):
    with open(f"{tmp}/{name}", "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, 1))
        f.write(struct.pack("<Q", 4) + b"junk" + struct.pack("<IIQ", 9, elem_type, count))
        f.write(bytes(payload_bytes))  # zeros: UINT8 0, or a u64 length 0 per string
write("u8.gguf", 0, 100_000_000, 100_000_000)
write("str.gguf", 8, 12_500_000, 100_000_000)
PY

for f in u8 str; do
  /usr/bin/time -f "%M" -o "$TMP/$f.rss" "$BIN" info --model "$TMP/$f.gguf" >"$TMP/$f.out" 2>"$TMP/$f.err"
  rc=$?
  rss=$(tail -1 "$TMP/$f.rss")
  echo "$f.gguf: exit $rc, peak RSS ${rss} KB, stderr: $(head -1 "$TMP/$f.err")"
  [[ $rc -eq 4 ]] || bad "$f: expected exit 4 (model not loadable), got $rc"
  [[ $(grep -c . "$TMP/$f.err") -eq 1 ]] || { bad "$f: expected one message"; cat "$TMP/$f.err"; }
  grep -qF "$TMP/$f.gguf" "$TMP/$f.err" || bad "$f: the message does not name the file"
  [[ $rss =~ ^[0-9]+$ && $rss -lt $LIMIT_KB ]] && ok "$f: peak RSS ${rss} KB < ${LIMIT_KB} KB" ||
    bad "$f: peak RSS '${rss}' KB, limit ${LIMIT_KB} KB"
done

[[ $fails -eq 0 ]] && echo "all hostile GGUF info tests passed" || { echo "$fails failed"; exit 1; }
