#!/usr/bin/env bash
# The CI regression gate. The suite runs once, in `make verify`, which runs
# each stage (make check: every test; make coverage: thresholds of
# reports/thresholds.json; make timings: case and bench medians against
# reports/baseline.json) even after a failure and records its exit status in
# reports/stages/STAGE.rc beside its log. The gate decides nothing itself: it
# reads those records and fails when a stage failed or left no record, naming
# each. Extra arguments go to make (e.g. BUILD=build/ci).
# Usage: ci/gate.sh [MAKEVAR=VALUE...]      run make verify, then judge
#        ci/gate.sh --stages DIR            judge the records of a verify run
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stages_dir=reports/stages
if [ "${1:-}" = --stages ]; then
  stages_dir=${2:?usage: ci/gate.sh --stages DIR}
else
  echo "== gate: make verify $*"
  start=$(date +%s)
  # verify's own exit status also covers the incident verdicts; the gate
  # judges the stages below, from their records.
  make --no-print-directory "$@" verify
  rc=$?
  echo "== gate: make verify finished in $(($(date +%s) - start)) s (exit $rc)"
fi

failed=()
for stage in check coverage timings; do
  rcf=$stages_dir/$stage.rc
  if [ ! -f "$rcf" ]; then
    echo "== gate: $stage: no record ($rcf): the stage did not run"
    failed+=("$stage")
  elif [ "$(cat "$rcf")" = 0 ]; then
    echo "== gate: $stage passed"
  else
    echo "== gate: $stage FAILED (exit $(cat "$rcf"); log: $stages_dir/$stage.log)"
    failed+=("$stage")
  fi
done
if ((${#failed[@]})); then
  echo "gate: FAILED: ${failed[*]}"
  exit 1
fi
echo "gate: passed (check, coverage thresholds, timings)"
