#!/usr/bin/env bash
# Sum the results of every `make check` step from its log and print one line:
#   Checks: N, Failures: F, Errors: E   (Check unit tests)
#   N passed, N failed[, N skipped]     (gapcheck cases and other steps)
# Fails when a step left no log, a log has no summary, or anything failed.
set -u
dir=${1:?usage: check-summary.sh LOGDIR}
checks=0 failures=0 errors=0 passed=0 failed=0 skipped=0 bad=0 steps=0
for log in "$dir"/*.log; do
  [ -e "$log" ] || continue
  steps=$((steps + 1))
  found=0
  while read -r n f e; do
    checks=$((checks + n)); failures=$((failures + f)); errors=$((errors + e)); found=1
  done < <(sed -nE 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/p' "$log")
  while read -r p q s; do
    passed=$((passed + p)); failed=$((failed + q)); skipped=$((skipped + ${s:-0})); found=1
  done < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/p' "$log")
  if [ "$found" = 0 ]; then
    echo "check-summary: $(basename "$log" .log): no summary line (step crashed or ran nothing)" >&2
    bad=$((bad + 1))
  fi
done
if [ "$steps" = 0 ]; then echo "check-summary: no step ran" >&2; exit 1; fi
echo "----------------------------------------------------------------"
echo "steps: $steps, unit Checks: $checks, Failures: $failures, Errors: $errors; cases: $passed passed, $failed failed, $skipped skipped"
total_pass=$((checks - failures - errors + passed))
total_fail=$((failures + errors + failed + bad))
echo "$total_pass passed, $total_fail failed, $skipped skipped"
[ "$total_fail" = 0 ]
