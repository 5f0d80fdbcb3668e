#!/usr/bin/env bash
# Open the verification page in headless Chromium (Debian's package) and check
# what a reader sees once the browser has rendered it: every incident's
# verdict line, the SVG plots and the coverage section. Not part of make
# check (Chromium is a large install); run by `make verify-browser`.
# Usage: reports/scripts/browser-check.sh [reports/index.html] [verify.json]
set -euo pipefail
page=${1:-reports/index.html}
summary=${2:-reports/verify.json}
[ -f "$page" ] || { echo "browser-check: $page is missing: run make verify first" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# The flags keep Chromium off this machine's closed network.
dom=$(timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --dump-dom "file://$(realpath "$page")" 2>/dev/null)
fail=0
check() { if grep -q -- "$2" <<<"$dom"; then echo "ok   $1"; else echo "FAIL $1" >&2; fail=1; fi; }
check "page rendered" "gapcheck verification report"
check "coverage section" 'id="coverage"'
svgs=$(grep -o '<svg' <<<"$dom" | wc -l)
if [ "$svgs" -ge 1 ]; then echo "ok   $svgs SVG plots"; else echo "FAIL no SVG plot" >&2; fail=1; fi
# Each incident's verdict from verify.json must be on the rendered page.
while read -r id verdict; do
  check "$id verdict $verdict" "$verdict"
done < <(python3 -c 'import json,sys
for i in json.load(open(sys.argv[1]))["incidents"]: print(i["id"], i["verdict"].split()[0])' "$summary")
exit "$fail"
