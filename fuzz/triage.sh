#!/usr/bin/env bash
# Crash triage for one target (make fuzz-triage FUZZ_TARGET=...): turns what
# the last campaigns left in fuzz/out/TARGET/ (AFL++ crashes/ and hangs/,
# libFuzzer crash-/leak-/oom-/timeout- artifacts) into regressions:
#   1. reproduce each with the gcc replay driver (sanitizers, symbolized
#      report), falling back to the libFuzzer build; drop what does not
#      reproduce (a hang on a loaded machine is often just that);
#   2. de-duplicate by stack: kind of failure plus the first three frames of
#      the report that are not sanitizer, libc or fz_fail plumbing; a stack
#      already stored under fuzz/regressions/TARGET/ is a duplicate;
#   3. minimize (libFuzzer -minimize_crash, else afl-tmin), keeping the
#      smaller input only if it still fails the same way;
#   4. store it as fuzz/regressions/TARGET/crash-SIG with crash-SIG.desc, one
#      line: kind, frames, sanitizer summary, where it came from.
# `make check` (check-fuzz-replay) replays every stored regression.
# Usage: fuzz/triage.sh TARGET BUILD
set -euo pipefail

target=${1:?usage: triage.sh TARGET BUILD}
build=${2:?usage: triage.sh TARGET BUILD}
replay="$build/fuzz/replay/$target"
lf="$build/fuzz/libfuzzer/$target"
afl="$build/fuzz/afl/$target"
regs="fuzz/regressions/$target"
work="$build/fuzz/triage/$target"
[ -x "$replay" ] || { echo "triage: $replay is not built" >&2; exit 2; }
mkdir -p "$regs" "$work"

export ASAN_OPTIONS=symbolize=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Report of one input: the replay driver's, or libFuzzer's when the gcc build
# does not fail on it. Prints nothing when neither fails.
report_of() {
  local f=$1 out
  if ! out=$("$replay" -t 10 "$f" 2>&1); then
    printf '%s\n' "$out"
    return
  fi
  if [ -x "$lf" ] && ! out=$(timeout 60 "$lf" -timeout=10 "$f" 2>&1); then
    printf '%s\n' "$out"
  fi
}

# Kind of failure: sanitizer error class, property violation, leak, timeout.
kind_of() {
  local r=$1 k
  k=$(printf '%s\n' "$r" | sed -nE 's/.*ERROR: (AddressSanitizer|LeakSanitizer): ([a-z-]+).*/\1:\2/p' | head -n 1)
  # A violated property: its message without names and figures, so that two
  # violations in the same function stay apart.
  if [ -z "$k" ]; then
    k=$(printf '%s\n' "$r" | sed -nE 's/.*PROPERTY VIOLATED: (.*)/\1/p' | head -n 1 |
        sed -E "s/'[^']*'//g; s/[0-9]+//g" | cut -c1-60 | tr ' ' '-')
    [ -z "$k" ] || k="property:$k"
  fi
  [ -n "$k" ] || k=$(printf '%s\n' "$r" | sed -nE 's/.*runtime error: ([a-z ]+).*/ubsan:\1/p' | head -n 1 | tr ' ' '-')
  if [ -z "$k" ] && printf '%s\n' "$r" | grep -qE 'timeout|signal 14'; then k=timeout; fi
  printf '%s\n' "${k:-crash}"
}

# The first three frames that belong to the code, not to the plumbing.
frames_of() {
  printf '%s\n' "$1" | sed -nE 's/^ +#[0-9]+ 0x[0-9a-f]+ in ([^ ]+).*/\1/p' |
    grep -vE '^(__|_start|abort|raise|gsignal|fz_fail|fz_fd_check|main|run_one|replay_|fuzzer::|std::|LLVMFuzzerTestOneInput$)' |
    head -n 3 | paste -sd '<' - || true
}

summary_of() {
  printf '%s\n' "$1" | grep -m1 -E 'SUMMARY:|PROPERTY VIOLATED|runtime error' |
    sed -E 's/^[^A-Za-z]*//' | cut -c1-200 || true
}

# Candidates from both engines.
mapfile -t found < <(find "fuzz/out/$target" -type f \( -path '*/crashes/id:*' -o \
  -path '*/hangs/id:*' -o -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o \
  -name 'timeout-*' \) 2>/dev/null | sort)
echo "triage: $target: ${#found[@]} candidate(s)"
new=0 dup=0 gone=0
declare -A seen=()
for f in "${found[@]}"; do
  rep=$(report_of "$f")
  if [ -z "$rep" ]; then
    echo "  not reproduced: $f"
    gone=$((gone + 1))
    continue
  fi
  kind=$(kind_of "$rep")
  frames=$(frames_of "$rep")
  sig=$(printf '%s|%s' "$kind" "$frames" | sha1sum | cut -c1-12)
  if [ -n "${seen[$sig]:-}" ] || [ -e "$regs/crash-$sig" ]; then
    echo "  duplicate ($kind at ${frames:-?}): $f"
    dup=$((dup + 1))
    continue
  fi
  seen[$sig]=1
  min="$work/min-$sig"
  cp "$f" "$min"
  # Minimize with whichever engine can; keep the result only if it still
  # fails with the same signature.
  if [ -x "$lf" ]; then
    timeout 300 "$lf" -minimize_crash=1 -runs=20000 -timeout=10 -exact_artifact_path="$min.tmp" \
      "$f" > "$work/minimize-$sig.log" 2>&1 || true
  elif [ -x "$afl" ] && command -v afl-tmin > /dev/null; then
    ASAN_OPTIONS=abort_on_error=1:symbolize=0 timeout 300 afl-tmin -i "$f" -o "$min.tmp" \
      -t 5000 -m none -- "$afl" > "$work/minimize-$sig.log" 2>&1 || true
  fi
  if [ -s "$min.tmp" ]; then
    mrep=$(report_of "$min.tmp")
    if [ -n "$mrep" ] && [ "$(kind_of "$mrep")" = "$kind" ] && [ "$(frames_of "$mrep")" = "$frames" ]; then
      mv "$min.tmp" "$min"
      rep=$mrep
    fi
  fi
  rm -f "$min.tmp"
  cp "$min" "$regs/crash-$sig"
  printf '%s at %s: %s (from %s, %s bytes, minimized to %s; %s)\n' "$kind" "${frames:-?}" \
    "$(summary_of "$rep")" "${f#fuzz/out/}" "$(stat -c %s "$f")" "$(stat -c %s "$min")" \
    "$(date -u +%Y-%m-%d)" > "$regs/crash-$sig.desc"
  printf '%s\n' "$rep" > "$work/report-$sig.txt"
  echo "  NEW $regs/crash-$sig: $(cat "$regs/crash-$sig.desc")"
  new=$((new + 1))
done
echo "triage: $target: $new new regression(s), $dup duplicate(s), $gone not reproduced;" \
     "full reports in $work/"
