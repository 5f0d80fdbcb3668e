#!/usr/bin/env bash
# The check-fuzz-replay step of `make check`: every committed corpus, every
# stored regression and (for case_parse) every case file of the tree through
# the gcc replay drivers, sanitizers on. Writes LOG, which ends with one line
# "N passed, N failed" (N = files replayed) for ci/check-summary.sh; the
# drivers' own summaries are prefixed "replay:" so they are not counted twice.
# Usage: fuzz/replay-all.sh BUILD LOG
set -euo pipefail
build=${1:?usage: replay-all.sh BUILD LOG}
log=${2:?usage: replay-all.sh BUILD LOG}
targets=(context_decode context_factory case_parse writeset_decode)
passed=0 failed=0 rc=0
: > "$log"
for t in "${targets[@]}"; do
  paths=()
  for d in "fuzz/corpus/$t" "fuzz/regressions/$t"; do
    [ -d "$d" ] && paths+=("$d")
  done
  if [ "$t" = case_parse ] && [ -d cases ]; then
    while IFS= read -r -d '' f; do paths+=("$f"); done \
      < <(find cases -name '*.case' -type f -print0 | sort -z)
  fi
  ((${#paths[@]} > 0)) || continue
  # The driver exits 1 when an input failed; the summary line says how many.
  out=$("$build/fuzz/replay/$t" -q "${paths[@]}" 2>&1) || rc=1
  printf '== %s\n%s\n' "$t" "$out" >> "$log"
  line=$(printf '%s\n' "$out" | tail -n 1)
  if [[ $line =~ ^replay:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    echo "replay-all: $t: the driver printed no summary (it crashed?)" >> "$log"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed" >> "$log"
cat "$log"
[ "$rc" = 0 ] && [ "$failed" = 0 ]
