#!/usr/bin/env bash
# The check-fuzz-replay step of `make check`: every committed corpus, every
# stored regression and each target's extra inputs (for case_parse every case
# file of the tree) through the gcc replay drivers, sanitizers on. The
# targets and their inputs come from fuzz/fuzz.mk (FUZZ_TARGETS), the one list. Writes LOG, which ends with one line
# "N passed, N failed" (N = files replayed) for mk/check-summary.sh; the
# drivers' own summaries are prefixed "replay:" so they are not counted twice.
# Usage: fuzz/replay-all.sh BUILD LOG TARGET[=DIR:GLOB]...
set -euo pipefail
build=${1:?usage: replay-all.sh BUILD LOG TARGET[=DIR:GLOB]...}
log=${2:?usage: replay-all.sh BUILD LOG TARGET[=DIR:GLOB]...}
shift 2
(($# > 0)) || { echo "replay-all: no target given (make passes FUZZ_TARGETS)" >&2; exit 2; }
passed=0 failed=0 rc=0
: > "$log"
for spec in "$@"; do
  t=${spec%%=*}
  inputs=${spec#"$t"}; inputs=${inputs#=}
  if [ ! -f "fuzz/dict/$t.dict" ]; then
    # Campaigns and the OSS-Fuzz build read it: missing, they would fail later.
    printf '== %s\nreplay-all: %s: no dictionary fuzz/dict/%s.dict\n' "$t" "$t" "$t" >> "$log"
    failed=$((failed + 1))
  fi
  paths=()
  for d in "fuzz/corpus/$t" "fuzz/regressions/$t"; do
    [ -d "$d" ] && paths+=("$d")
  done
  if [ -n "$inputs" ] && [ -d "${inputs%%:*}" ]; then
    while IFS= read -r -d '' f; do paths+=("$f"); done \
      < <(find "${inputs%%:*}" -name "${inputs#*:}" -type f -print0 | sort -z)
  fi
  if ((${#paths[@]} == 0)); then
    # A target in the list with nothing to replay would pass unseen.
    printf '== %s\nreplay-all: %s: nothing to replay (no fuzz/corpus/%s/, no fuzz/regressions/%s/, no extra inputs)\n' \
      "$t" "$t" "$t" "$t" >> "$log"
    failed=$((failed + 1))
    continue
  fi
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
