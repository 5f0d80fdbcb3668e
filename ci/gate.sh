#!/usr/bin/env bash
# The CI regression gate: runs `make check` (every test), `make coverage`
# (fails below reports/thresholds.json) and `make timings` (case and bench
# medians against reports/baseline.json, fails on a slowdown beyond the
# tolerance), and exits non-zero if any of them regressed. Every stage runs
# even after a failure so that one CI run shows all regressions; the last
# lines say which stages failed. Extra arguments go to every make call
# (e.g. BUILD=build/ci).
# Usage: ci/gate.sh [MAKEVAR=VALUE...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed=()
for stage in check coverage timings; do
  echo "== gate: make $stage $*"
  start=$(date +%s)
  if make --no-print-directory "$@" "$stage"; then
    echo "== gate: make $stage passed in $(($(date +%s) - start)) s"
  else
    echo "== gate: make $stage FAILED in $(($(date +%s) - start)) s"
    failed+=("$stage")
  fi
done
if ((${#failed[@]})); then
  echo "gate: FAILED: ${failed[*]}"
  exit 1
fi
echo "gate: passed (check, coverage thresholds, timings)"
