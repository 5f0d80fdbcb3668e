#!/usr/bin/env bash
# Test of ci/gate.sh: it judges the stage records `make verify` leaves
# (reports/stages/STAGE.rc) and runs nothing again. Every stage passing
# passes; one failing stage, or one without a record, fails and is named.
# Prints "N passed, N failed" for the check summary.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }

set_rc() { echo "$2" > "$tmp/$1.rc"; }
set_rc check 0; set_rc coverage 0; set_rc timings 0
if out=$("$here/ci/gate.sh" --stages "$tmp" 2>&1); then ok "all stages passed: gate passes"
else bad "all stages passed, gate failed: $out"; fi

set_rc coverage 1
if out=$("$here/ci/gate.sh" --stages "$tmp" 2>&1); then bad "coverage failed, gate passed"
elif grep -q "FAILED: coverage" <<<"$out"; then ok "a failed stage fails the gate, named"
else bad "gate failed without naming coverage: $out"; fi

set_rc coverage 0; rm "$tmp/timings.rc"
if out=$("$here/ci/gate.sh" --stages "$tmp" 2>&1); then bad "timings never ran, gate passed"
elif grep -q "timings: no record" <<<"$out"; then ok "a stage without a record fails the gate"
else bad "gate failed without naming timings: $out"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
