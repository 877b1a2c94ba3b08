#!/usr/bin/env bash
# End-to-end: `reasonscope report demo` writes a self-contained report.html with every chart
# type and a summary.json listing them; bad output paths fail cleanly and leave nothing behind.
# Usage: bash test_report_demo.sh /path/to/reasonscope
set -u
source "$(dirname "$0")/common.sh"
check() {  # check "description" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

"$BIN" report demo --out "$TMP/out" --seed 5 2>"$TMP/err1"
check "report demo exits 0" test $? -eq 0
check "report.html written" test -s "$TMP/out/report.html"
check "summary.json written" test -s "$TMP/out/summary.json"
check "no temporary files left" test "$(ls -A "$TMP/out" | sort | tr '\n' ' ')" = "report.html summary.json "
HTML="$TMP/out/report.html"
# The checks below grep the page; without it they would prove nothing.
[ -s "$HTML" ] && [ -s "$TMP/out/summary.json" ] || { cat "$TMP/err1"; echo "no output; stopping"; exit 1; }
for kind in line heatmap histogram roc scatter bar; do
  check "chart kind $kind drawn" grep -q "class=\"rs-chart rs-$kind\"" "$HTML"
  check "summary lists $kind" grep -q "\"kind\": \"$kind\"" "$TMP/out/summary.json"
done
check "at least 10 inline SVG charts" test "$(grep -o '<svg ' "$HTML" | wc -l)" -ge 10
check "verdict box present" grep -q 'class="verdict' "$HTML"
check "table present" grep -q '<table>' "$HTML"
check "axis labels present" test "$(grep -o 'class="axis-label"' "$HTML" | wc -l)" -ge 18
check "no scripts" bash -c "! grep -q '<script' '$HTML'"
check "no external references" bash -c "! grep -Eq 'src=|url\\(|href=\"[^#]' '$HTML'"
check "only the SVG namespace mentions http" \
  test "$(grep -o 'http[^\"]*' "$HTML" | sort -u)" = "http://www.w3.org/2000/svg"
check "summary.json records the seed" grep -q '"seed": 5' "$TMP/out/summary.json"

"$BIN" report demo --out "$TMP/again" --seed 5 2>/dev/null
check "same seed, same page" cmp -s "$HTML" "$TMP/again/report.html"
"$BIN" report demo --out "$TMP/other" --seed 6 2>/dev/null
check "other seed written" test -s "$TMP/other/report.html"
check "other seed, other data" bash -c "! cmp -s '$HTML' '$TMP/other/report.html'"

"$BIN" report demo 2>"$TMP/err2" >/dev/null
check "missing --out fails" test $? -ne 0
check "missing --out is explained" grep -q -- "--out" "$TMP/err2"

touch "$TMP/a_file"
"$BIN" report demo --out "$TMP/a_file/sub" 2>"$TMP/err3" >/dev/null
check "unusable output directory fails" test $? -ne 0
check "error names the path" grep -q "a_file" "$TMP/err3"
check "nothing written there" test ! -e "$TMP/a_file/sub"

"$BIN" report demo --help >"$TMP/help" 2>&1
check "help describes the demo" grep -q "every chart type" "$TMP/help"

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
