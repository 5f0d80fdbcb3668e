#!/usr/bin/env bash
# End-to-end test of `gapcheck verify` on the fixture incidents in
# harness/tests/fixtures/verify/: INC-901 (one case catches the re-injected
# bug, one cannot fail against it: VERIFIED, and the second reported as not
# caught), INC-902 (no case can catch it: NOT VERIFIED, in both modes),
# INC-903 (a patch that no longer applies: an error naming the incident and
# the file) and INC-904 (a patch that edits a file outside engine/: refused).
# It also checks that the tree itself is never touched.
# gapcheck's own output goes to files under OUT, never to this script's
# stdout: its "N passed, N failed" lines would be summed by check-summary.
# Usage: verify-e2e.sh GAPCHECK BUILD OUT     Ends with "N passed, N failed".
set -u
GAPCHECK=${1:?usage: verify-e2e.sh GAPCHECK BUILD OUT}
BUILD=${2:?usage: verify-e2e.sh GAPCHECK BUILD OUT}
OUT=${3:?usage: verify-e2e.sh GAPCHECK BUILD OUT}
FIX=harness/tests/fixtures/verify
PY=$(command -v /usr/bin/python3 || command -v python3)
rm -rf "$OUT" && mkdir -p "$OUT"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { local what=$1; shift; if "$@" >>"$OUT/checks.log" 2>&1; then ok "$what"; else bad "$what"; fi; }
# q FILE EXPR: a Python expression over the verdict `v` must be true.
q() { "$PY" -c 'import json, sys
v = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
print(sys.argv[2], "->", ok)
sys.exit(0 if ok else 1)' "$OUT/$1.json" "$2"; }

before=$(cat engine/src/*.c engine/src/*.h harness/runner/*.c | md5sum)
rc=0
"$GAPCHECK" verify --cases "$FIX" --build "$BUILD" --output "$OUT" >"$OUT/verify.log" 2>&1 || rc=$?
check "verify exits 1 when an incident is not verified" test "$rc" = 1
check "the closing line counts incidents" grep -qx '1 passed, 3 failed' "$OUT/verify.log"
check "the tree's engine and harness are untouched" \
  test "$before" = "$(cat engine/src/*.c engine/src/*.h harness/runner/*.c | md5sum)"

check "INC-901 is VERIFIED" q INC-901 'v["verdict"] == "VERIFIED" and v["fix_holds"] and v["sensitive"]'
check "INC-901: the catching case is recorded in each mode" \
  q INC-901 'set(v["reinject"]["caught"]) == {"INC-901.catches[thread]", "INC-901.catches[process]"}'
check "INC-901: a case that cannot fail against the bug is reported as such" \
  q INC-901 'set(v["reinject"]["not_caught"]) == {"INC-901.cannot-fail[thread]", "INC-901.cannot-fail[process]"}'
check "INC-901: the matrix says caught / not caught per case and mode" \
  q INC-901 '{(r["case_id"], m, c["cell"]) for r in v["matrix"] for m, c in r["modes"].items()} == {("INC-901.catches", "thread", "caught"), ("INC-901.catches", "process", "caught"), ("INC-901.cannot-fail", "thread", "not caught"), ("INC-901.cannot-fail", "process", "not caught")}'
check "INC-901: the patch's files and the changed file are named" \
  q INC-901 'v["reinject"]["files"] == ["engine/src/ctx.c"] and v["reinject"]["changed"] == ["engine/src/ctx.c"]'
check "the log says which case cannot fail against the bug" \
  grep -q 'INC-901.cannot-fail\[thread\] cannot fail against the re-injected bug' "$OUT/verify.log"

check "INC-902 (no case can catch the bug) is NOT VERIFIED" \
  q INC-902 'v["verdict"] == "NOT VERIFIED" and v["fix_holds"] and not v["sensitive"]'
check "INC-902: not sensitive, said for each mode" \
  q INC-902 'any("thread mode" in m for m in v["missing"]) and any("process mode" in m for m in v["missing"])'

check "INC-903 (patch no longer applies) is an error naming the incident and the file" \
  q INC-903 'not v["verified"] and v["reinject"]["applies"] is False and any("INC-903/reinject.patch no longer applies" in e for e in v["errors"])'
check "INC-904 (patch outside engine/) is refused before it runs" \
  q INC-904 'not v["verified"] and any("outside engine/" in e and "harness/runner/main.c" in e for e in v["errors"]) and "applies" not in v["reinject"]'

# --also: a case set that knows nothing of the incident runs against its
# re-injected engine; the verdict records whether it caught the bug, and the
# verdict itself stays the incident's own cases' to decide.
rc=0
"$GAPCHECK" verify --cases "$FIX" --build "$BUILD" --output "$OUT/also-yes" \
  --also "$FIX/INC-901" INC-901 >"$OUT/also-yes.log" 2>&1 || rc=$?
check "--also: a set that catches the bug is recorded as caught, in both modes" \
  q also-yes/INC-901 'v["verdict"] == "VERIFIED" and v["reinject"]["also"]["caught"] is True and v["reinject"]["also"]["caught_thread"] == 1 and v["reinject"]["also"]["caught_process"] == 1 and len(v["reinject"]["also"]["results"]) == 4'
check "--also: the log names the set and what the first catching case said" \
  grep -q 'verify INC-901: --also .*INC-901 CAUGHT the re-injection (failing: thread 1, process 1 of 4): ' "$OUT/also-yes.log"
rc=0
"$GAPCHECK" verify --cases "$FIX" --build "$BUILD" --output "$OUT/also-no" \
  --also "$FIX/INC-902" INC-901 >"$OUT/also-no.log" 2>&1 || rc=$?
check "--also: a set that cannot catch the bug is recorded as not caught; the verdict stands" \
  q also-no/INC-901 'v["verdict"] == "VERIFIED" and v["reinject"]["also"]["caught"] is False and v["reinject"]["also"]["caught_thread"] == 0 and v["reinject"]["also"]["caught_process"] == 0'
check "--also: without it the verdict has no also record" \
  q INC-901 '"also" not in v["reinject"]'

rc=0
"$GAPCHECK" verify --cases "$FIX" --output "$OUT/none" INC-999 >"$OUT/unknown.log" 2>&1 || rc=$?
check "an unknown incident is not verified (exit 1)" test "$rc" = 1
rc=0
"$GAPCHECK" verify --bogus >"$OUT/usage.log" 2>&1 || rc=$?
check "an unknown option is a usage error (exit 2)" test "$rc" = 2
check "the usage error is said once, on stderr" \
  grep -qx "gapcheck verify: unknown option '--bogus' (try --help)" "$OUT/usage.log"
rc=0
"$GAPCHECK" verify --help >"$OUT/help.log" 2>&1 || rc=$?
check "--help prints the usage (exit 0)" \
  sh -c '[ "$1" = 0 ] && head -1 "$2" | grep -q "^usage: gapcheck verify"' sh "$rc" "$OUT/help.log"
: >"$OUT/a-file"
rc=0
"$GAPCHECK" verify --output "$OUT/a-file/sub/out" >"$OUT/mkdir.log" 2>&1 || rc=$?
check "an output folder that cannot be made is named, the step that failed (exit 1)" \
  sh -c '[ "$1" = 1 ] && grep -qx "gapcheck verify: cannot create $2/a-file/sub: Not a directory" "$3"' \
  sh "$rc" "$OUT" "$OUT/mkdir.log"

echo "verify-e2e: $pass passed, $fail failed (log: $OUT/checks.log)"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
