#!/usr/bin/env bash
# End-to-end test of the gapcheck binary on the fixture cases in
# harness/tests/fixtures/runner/: one of each result code (a malformed file,
# a timeout, xfail, xpass, skip...), then the outputs checked by real
# consumers: prove reads the TAP, xmllint validates the JUnit XML against
# harness/tests/runner/junit.xsd, python3 reads results.json.
# gapcheck's own output goes to files under OUT, never to this script's
# stdout: its "N passed, N failed" lines would be summed by check-summary.
# Usage: e2e.sh GAPCHECK OUT      Ends with "N passed, N failed".
set -u
GAPCHECK=${1:?usage: e2e.sh GAPCHECK OUTDIR}
OUT=${2:?usage: e2e.sh GAPCHECK OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
FIX=harness/tests/fixtures/runner
XSD=$HERE/junit.xsd
PY=$(command -v /usr/bin/python3 || command -v python3)
rm -rf "$OUT" && mkdir -p "$OUT"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { local what=$1; shift; if "$@" >>"$OUT/checks.log" 2>&1; then ok "$what"; else bad "$what"; fi; }

# JSON helper: prints the status of each result as "id status".
statuses() { "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["results"]:
    print(r["id"], r["status"])' "$1"; }

# --- 1. the full fixture run -------------------------------------------------
"$GAPCHECK" run $FIX --output "$OUT/all" --format json,junit,tap,md --seed 4242 \
  >"$OUT/all.out" 2>"$OUT/all.err"
rc=$?
check "fixture run exits 1 (it has failures)" test "$rc" = 1
check "closing line is '3 passed, 4 failed, 2 skipped'" \
  test "$(tail -n 1 "$OUT/all.out")" = "3 passed, 4 failed, 2 skipped"
check "the seed is printed" grep -q 'seed 4242' "$OUT/all.out"
statuses "$OUT/all/results.json" >"$OUT/all.status" 2>>"$OUT/checks.log"
expect_status() { check "$1 is $2" grep -qxF "$1 $2" "$OUT/all.status"; }
expect_status 'fx.ok[thread]' pass
expect_status 'fx.ok[process]' pass
expect_status 'fx.fails[thread]' fail
expect_status 'fx.slow[process]' timeout
expect_status 'fx.xfail[thread]' xfail
expect_status 'fx.xpass[thread]' xpass
expect_status 'fx.skip[thread]' skip
expect_status 'fx.skip[process]' skip
expect_status "$FIX/bad" error
check "hidden files and other extensions are not cases" \
  test "$(wc -l <"$OUT/all.status")" = 9
check "malformed file reported with file:line: key" \
  grep -q "$FIX/bad.case:6: case.workers:" "$OUT/all.out"
check "the run went on after the malformed file" grep -q '^PASS    fx.ok' "$OUT/all.out"
check "skip carries its reason" grep -q 'cores>=4096' "$OUT/all/results.tap"
check "timeout was enforced near 1 s, not 20 s" "$PY" -c '
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["results"] if r["id"] == "fx.slow[process]"][0]
assert 900 <= r["wall_ms"]["median"] < 5000, r["wall_ms"]' "$OUT/all/results.json"
check "results.json has the documented fields" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "gapcheck-results" and d["schema_version"] == 1
for k in ("seed", "argv", "command", "start_time", "host", "cores"): assert k in d["run"], k
assert d["run"]["seed"] == 4242
for k in ("passed", "failed", "skipped", "by_status"): assert k in d["summary"], k
for r in d["results"]:
    for k in ("id", "file", "incident", "mode", "status", "message", "seed", "wall_ms",
              "cpu_ms", "maxrss_kb", "leaks", "metrics", "claims", "signal"):
        assert k in r, (r["id"], k)
    assert set(r["wall_ms"]) == {"min", "median", "max"}
    assert set(r["leaks"]) == {"fds", "memfds", "maps", "children"}
' "$OUT/all/results.json"
check "prove parses the TAP (9 tests, 4 failed, no parse errors)" bash -c '
out=$(prove -e cat "$1" 2>&1); echo "$out"
grep -q "Tests: 9 Failed: 4" <<<"$out" && ! grep -qi "parse error" <<<"$out"' _ "$OUT/all/results.tap"
check "JUnit XML validates against the JUnit/Jenkins XSD" \
  xmllint --noout --schema "$XSD" "$OUT/all/junit.xml"
check "summary.md written" grep -q '^# gapcheck run: 3 passed, 4 failed, 2 skipped' "$OUT/all/summary.md"

# --- 2. replay: the printed command reruns exactly the failed case ------------
replay=$(sed -n 's/^ *seed [0-9]*; replay: \(.*fails.case.*\)$/\1/p' "$OUT/all.out" | head -n 1)
check "failure prints a replay command with --filter and --seed" \
  grep -q -- "--filter 'fx.fails\[thread\]' --seed 4242" <<<"$replay"
eval "$replay --output '$OUT/replay'" >"$OUT/replay.out" 2>&1
check "replay runs that one case, and it fails again" \
  test "$(statuses "$OUT/replay/results.json")" = "fx.fails[thread] fail"
check "replay gives the case the same seed" "$PY" -c '
import json, sys
a = {r["id"]: r["seed"] for r in json.load(open(sys.argv[1]))["results"]}
b = {r["id"]: r["seed"] for r in json.load(open(sys.argv[2]))["results"]}
assert a["fx.fails[thread]"] == b["fx.fails[thread]"]' "$OUT/all/results.json" "$OUT/replay/results.json"

# --- 3. a clean run: exit 0, prove passes -------------------------------------
"$GAPCHECK" run $FIX/ok.case $FIX/xfail.case --output "$OUT/clean" --jobs 2 --repeat 3 \
  --calibrate >"$OUT/clean.out" 2>&1
check "clean run (pass + xfail) exits 0" test $? = 0
check "clean closing line" test "$(tail -n 1 "$OUT/clean.out")" = "3 passed, 0 failed"
check "prove accepts the clean TAP" prove -e cat "$OUT/clean/results.tap"
check "clean JUnit validates" xmllint --noout --schema "$XSD" "$OUT/clean/junit.xml"
check "--repeat 3 gives 3 runs with min <= median <= max" "$PY" -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    w = r["wall_ms"]
    assert r["runs"] == 3 or r["status"] == "xfail", r
    assert w["min"] <= w["median"] <= w["max"], w
    assert r["leaks"] == {"fds": 0, "memfds": 0, "maps": 0, "children": 0}, r["leaks"]' \
  "$OUT/clean/results.json"
check "--calibrate: one sample per run, each with its reference (CPU and wall)" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["calibrate"] is True
for r in d["results"]:
    assert len(r["samples"]) == r["runs"], r["id"]
    for x in r["samples"]:
        assert 0 < x["calib_cpu_ms"] and 0 < x["calib_wall_ms"] and 0 <= x["cpu_ms"], x
    assert min(x["wall_ms"] for x in r["samples"]) == r["wall_ms"]["min"], r["id"]' \
  "$OUT/clean/results.json"
check "without --calibrate: samples carry no reference" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["calibrate"] is False
ran = [r for r in d["results"] if r["runs"]]
assert ran and all(len(r["samples"]) == r["runs"] and r["samples"][0]["calib_cpu_ms"] is None
                   for r in ran)' "$OUT/all/results.json"

# --- 4. selection: --list, --filter, --tag, --shard ---------------------------
"$GAPCHECK" run $FIX --list >"$OUT/list.out" 2>"$OUT/list.err"
check "--list exits 1 when a file does not load, and names it" \
  bash -c "test $? = 1 && grep -q 'bad.case:6' '$OUT/list.err'"
check "--list prints the ids, runs nothing" bash -c \
  "test \$(wc -l <'$OUT/list.out') = 8 && test ! -e '$OUT/list'"
check "--filter with a glob" bash -c \
  "test \"\$('$GAPCHECK' run $FIX/ok.case $FIX/fails.case --list --filter 'fx.o*' | tr '\n' ' ')\" = 'fx.ok[thread] fx.ok[process] '"
check "--filter with an exact id (brackets literal)" bash -c \
  "test \"\$('$GAPCHECK' run $FIX/ok.case --list --filter 'fx.ok[process]')\" = 'fx.ok[process]'"
check "--tag (the mode counts as a tag)" bash -c \
  "test \"\$('$GAPCHECK' run $FIX/ok.case --list --tag smoke --tag thread)\" = 'fx.ok[thread]'"
for i in 1 2 3; do
  "$GAPCHECK" run $FIX/ok.case $FIX/fails.case $FIX/xfail.case $FIX/xpass.case $FIX/sub \
    --list --shard $i/3 >"$OUT/shard$i" 2>/dev/null
done
"$GAPCHECK" run $FIX/ok.case $FIX/fails.case $FIX/xfail.case $FIX/xpass.case $FIX/sub \
  --list >"$OUT/shard-all" 2>/dev/null
check "shards 1..3 partition the ids" bash -c \
  "test \"\$(cat '$OUT'/shard[123] | sort)\" = \"\$(sort '$OUT/shard-all')\""

# --- 5. --max-failures, usage errors, empty selection -------------------------
"$GAPCHECK" run $FIX/fails.case $FIX/xpass.case $FIX/ok.case --max-failures 1 \
  --output "$OUT/maxf" >"$OUT/maxf.out" 2>&1
check "--max-failures 1 skips the rest, with the reason" bash -c \
  "grep -q 'not run: --max-failures 1 reached' '$OUT/maxf.out' && \
   test \"\$(tail -n 1 '$OUT/maxf.out')\" = '0 passed, 1 failed, 3 skipped'"
"$GAPCHECK" run --jobs lots >"$OUT/usage.out" 2>&1
check "usage error exits 2 with a clear message" bash -c \
  "test $? = 2 && grep -q \"jobs 'lots'\" '$OUT/usage.out'"
"$GAPCHECK" run $FIX/ok.case --filter nothing-matches --output "$OUT/empty" >"$OUT/empty.out" 2>&1
check "an empty selection fails (a typo must not pass)" test $? = 1
check "--help lists the options and the result codes" bash -c \
  "'$GAPCHECK' --help | grep -q -- '--max-failures' && '$GAPCHECK' --help | grep -q 'xpass'"
"$GAPCHECK" run $FIX/slow.case --timeout 0.3 --output "$OUT/mult" >"$OUT/mult.out" 2>&1
check "--timeout multiplies the case timeout" bash -c "grep -q 'timed out after 0.3 s' '$OUT/mult.out'"

# --- 6. what must never hang or lie ------------------------------------------
# A FIFO named *.case: refused by name (opening it would wait for a writer
# forever), and the run goes on; the same with --list. `timeout` turns a hang
# into a failed check instead of a stuck make check.
mkdir -p "$OUT/fifo" && cp $FIX/ok.case "$OUT/fifo/" && mkfifo "$OUT/fifo/pipe.case"
timeout 20 "$GAPCHECK" run "$OUT/fifo" --output "$OUT/fifo-run" >"$OUT/fifo.out" 2>&1
rc=$?
check "a FIFO named *.case does not hang the run, is an error naming it, the rest runs" bash -c \
  "test $rc = 1 && grep -q 'pipe.case.*not a regular file (a FIFO)' '$OUT/fifo.out' && \
   grep -q '^PASS    fx.ok\[thread\]' '$OUT/fifo.out'"
timeout 20 "$GAPCHECK" run "$OUT/fifo" --list >"$OUT/fifo-list.out" 2>"$OUT/fifo-list.err"
rc=$?
check "--list with a FIFO named *.case: exit 1, names it, lists the rest" bash -c \
  "test $rc = 1 && grep -q 'pipe.case.*FIFO' '$OUT/fifo-list.err' && \
   grep -qxF 'fx.ok[process]' '$OUT/fifo-list.out'"
# An --output that cannot be written: said on stdout beside the summary, no
# "results in" for files that are not there, and the run fails.
touch "$OUT/not-a-dir"
"$GAPCHECK" run $FIX/ok.case --output "$OUT/not-a-dir/sub" >"$OUT/noout.out" 2>"$OUT/noout.err"
rc=$?
check "unwritable --output: exit 1, stdout says so, claims no file" bash -c \
  "test $rc = 1 && grep -q '^results NOT written: results.json junit.xml results.tap' '$OUT/noout.out' && \
   ! grep -q '^results in' '$OUT/noout.out' && test ! -e '$OUT/not-a-dir/sub'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
