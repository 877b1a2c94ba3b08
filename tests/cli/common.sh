# What the CLI test scripts share. A script sources it after `set -u`, relative to itself so that
# ctest may run it from any directory:
#   source "$(dirname "$0")/common.sh"
# It gives the script
#   BIN    the reasonscope binary: the script's first argument (a usage line when it is missing)
#   SRC    the source tree: RS_SOURCE_DIR (ctest sets it), else two folders above the script
#   TMP    a new folder, removed when the script exits
#   fails  the number of failed checks; `ok MSG` and `bad MSG` print a check's result, and bad
#          counts it
# and same_tree and write_texts (below). Each script still prints its own closing line and sets
# its exit status.

BIN=${1:?usage: $(basename "$0") /path/to/reasonscope}
SRC=${RS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok()  { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }

# The fields of a summary.json that differ between two runs of one command on the same input:
# wall-clock times, and n_resumed (what a resumed or merged run did not compute again).
WALL_CLOCK_KEYS="seconds read_seconds scan_seconds prompts_per_second timing n_resumed"

# same_tree REF DIR REF_NAME DIR_NAME [KEY...]: DIR holds the same files as REF with the same
# bytes, except for the WALL_CLOCK_KEYS and KEYs of a .json file's top-level object. Otherwise
# one line on stderr ("files differ: only in REF_NAME [...], only in DIR_NAME [...]" or
# "FILE: differs from REF_NAME") and exit status 1.
same_tree() {
  # shellcheck disable=SC2086  # WALL_CLOCK_KEYS is a list of words
  python3 - "$@" $WALL_CLOCK_KEYS <<'PY'
import json, os, sys
ref, got, ref_name, got_name = sys.argv[1:5]
ignored = set(sys.argv[5:])
def files(d):
    out = set()
    for root, _, names in os.walk(d):
        for n in names:
            out.add(os.path.relpath(os.path.join(root, n), d))
    return out
a, b = files(ref), files(got)
if a != b:
    sys.exit(f"files differ: only in {ref_name} {sorted(a - b)}, only in {got_name} {sorted(b - a)}")
for f in sorted(a):
    x, y = open(os.path.join(ref, f), "rb").read(), open(os.path.join(got, f), "rb").read()
    if x == y:
        continue
    if f.endswith(".json"):
        jx, jy = json.loads(x), json.loads(y)
        if isinstance(jx, dict) and isinstance(jy, dict):
            for k in ignored:
                jx.pop(k, None); jy.pop(k, None)
            # Compared as text: NaN equals NaN there, and 1 differs from 1.0 as in the bytes.
            if json.dumps(jx, sort_keys=True) == json.dumps(jy, sort_keys=True):
                continue
    sys.exit(f"{f}: differs from {ref_name}")
PY
}

# write_texts FILE: 8 short texts, {"id": "t0", "text": "..."} rows of 6 to 26 words: a small
# input for the dataset commands, so that a run takes seconds.
write_texts() {
  python3 - "$1" <<'PY'
import json, sys
words = "the cat sat on a mat while seven dogs ran past quickly under grey skies".split()
with open(sys.argv[1], "w") as f:
    for i in range(8):
        n = 6 + (i * 5) % 23
        f.write(json.dumps({"id": f"t{i}", "text": " ".join(words[(i + j) % len(words)] for j in range(n))}) + "\n")
PY
}
