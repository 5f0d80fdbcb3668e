#!/usr/bin/env bash
# One fuzzing campaign of one target, run by `make fuzz` (AFL++) and
# `make fuzz-libfuzzer`: assembles the seeds (the committed corpus, plus the
# target's extra inputs from fuzz/fuzz.mk, e.g. every cases/**/*.case for
# case_parse), runs the engine for SECONDS over JOBS
# processes (AFL++: one -M main and -S secondaries, AFL++'s own convention:
# the main job runs the build without sanitizers, for speed, the secondaries
# the ASan+UBSan build, on the same queue, the first secondary with a CMPLOG
# build beside it; each job bound to one core; libFuzzer: -jobs/-workers)
# into fuzz/out/TARGET/ENGINE/, then prints the campaign's own figures:
# execs/s (total and per job), edges covered, crashes and hangs. AFL++ exits 0
# even when it found crashes, so the verdict comes from its output folder:
# this script exits 1 when any crash (libFuzzer: crash, leak, oom or timeout
# artifact) was found, after naming the files to feed to fuzz/triage.sh.
# Usage: fuzz/campaign.sh afl|libfuzzer TARGET SECONDS JOBS BUILD [DIR:GLOB]
# Environment: FUZZ_RESUME=1 continues an AFL++ output folder instead of
# starting over; FUZZ_TIMEOUT_MS (default 1000) is the per-input limit;
# FUZZ_PIN=0 leaves the AFL++ jobs unbound.
set -euo pipefail

engine=${1:?usage: campaign.sh afl|libfuzzer TARGET SECONDS JOBS BUILD}
target=${2:?target}
seconds=${3:?seconds}
jobs=${4:?jobs}
build=${5:?build dir}
inputs=${6:-}
timeout_ms=${FUZZ_TIMEOUT_MS:-1000}

root=$(pwd)
bin="$root/$build/fuzz/$engine/$target"
fast="$root/$build/fuzz/afl-fast/$target"   # AFL++ main job: no sanitizers
cmplog="$root/$build/fuzz/afl-cmplog/$target" # AFL++ first secondary: -c
dict="$root/fuzz/dict/$target.dict"
out="$root/fuzz/out/$target/$engine"
seeds="$root/$build/fuzz/seeds/$target"

[ -x "$bin" ] || { echo "campaign: $bin is not built" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[0-9]+$ && $jobs -ge 1 ]] ||
  { echo "campaign: SECONDS and JOBS must be positive integers" >&2; exit 2; }

# fuzz/out/ is generated output and must never be committed.
grep -qxF '/fuzz/out/' .gitignore 2>/dev/null || echo '/fuzz/out/' >> .gitignore

rm -rf "$seeds"
mkdir -p "$seeds" "$out"
cp "fuzz/corpus/$target"/* "$seeds"/ 2>/dev/null || true
if [ -n "$inputs" ] && [ -d "${inputs%%:*}" ]; then
  find "${inputs%%:*}" -name "${inputs#*:}" -type f -print0 |
    while IFS= read -r -d '' f; do cp "$f" "$seeds/$(echo "$f" | tr / _)"; done
fi
# Regressions are seeds too: the neighbourhood of a past bug is worth a look.
if [ -d "fuzz/regressions/$target" ]; then
  find "fuzz/regressions/$target" -type f ! -name '*.desc' -exec cp {} "$seeds"/ \;
fi
[ -n "$(ls -A "$seeds")" ] || echo x > "$seeds/empty"

# The figure of a key in an AFL++ fuzzer_stats file.
stat_of() { sed -nE "s/^$2 +: ([0-9.]+).*/\1/p" "$1" | head -n 1; }

run_afl() {
  export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
  # Each job runs on one core (job i on core i mod the core count), it and
  # the target it forks: a persistent-mode execution is a ping-pong of
  # wake-ups between afl-fuzz, its fork server and the target, and on this
  # VM a wake-up on another core costs more than the target's own work
  # (context_decode main job: 9,866 execs/s unbound, 22,000-32,000 bound, at
  # load 7). taskset rather than AFL++'s own binding, which looks for a core
  # no other process is bound to and gives up when other people's jobs
  # hold them: AFL_NO_AFFINITY keeps afl-fuzz from rebinding.
  export AFL_NO_AFFINITY=1
  local ncpu
  ncpu=$(nproc)
  # ASan must abort (AFL++ sees a signal) and not symbolize (slow).
  export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=1:allocator_may_return_null=1
  export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0
  if [ "${FUZZ_RESUME:-0}" = 1 ]; then
    export AFL_AUTORESUME=1
  else
    rm -rf "$out"
    mkdir -p "$out"
  fi
  [ -x "$fast" ] || { echo "campaign: $fast is not built" >&2; exit 2; }
  local pids=() i name run pin
  for ((i = 0; i < jobs; i++)); do
    if ((i == 0)); then name=main; role=(-M main); run=$fast
    else name=sec$i; role=(-S "sec$i"); run=$bin; fi
    # AFL++'s convention: CMPLOG on one secondary (it costs that job extra
    # executions per queue entry), here the first.
    if ((i == 1)); then
      [ -x "$cmplog" ] || { echo "campaign: $cmplog is not built" >&2; exit 2; }
      role+=(-c "$cmplog")
    fi
    pin=()
    [ "${FUZZ_PIN:-1}" = 0 ] || pin=(taskset -c $((i % ncpu)))
    "${pin[@]}" afl-fuzz "${role[@]}" -i "$seeds" -o "$out" -V "$seconds" -t "$timeout_ms" \
      -m none -x "$dict" -- "$run" > "$out/$name.log" 2>&1 &
    pids+=($!)
  done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=$?; done
  if ((rc != 0)); then
    echo "campaign: afl-fuzz failed (exit $rc); its log:" >&2
    tail -n 30 "$out/main.log" >&2
    exit 2
  fi

  local total_eps=0 execs=0 crashes=0 hangs=0 edges="" total_edges="" stab=""
  printf '%-6s %-11s %12s %10s %8s %8s %7s %9s\n' job build execs execs/s edges crashes hangs \
    stability
  for d in "$out"/*/; do
    local st="$d/fuzzer_stats"
    [ -f "$st" ] || continue
    local n e eps c h cov s
    n=$(basename "$d")
    e=$(stat_of "$st" execs_done)
    eps=$(stat_of "$st" execs_per_sec)
    c=$(find "$d/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
    h=$(find "$d/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
    cov=$(stat_of "$st" edges_found)
    s=$(sed -nE 's/^stability +: ([0-9.]+%).*/\1/p' "$st")
    local kind=asan+ubsan
    [ "$n" = main ] && kind=plain
    [ "$n" = sec1 ] && kind=asan+cmplog
    printf '%-6s %-11s %12s %10s %8s %8s %7s %9s\n' "$n" "$kind" "$e" "$eps" "${cov:-?}" "$c" "$h" \
      "${s:-?}"
    total_eps=$(awk -v a="$total_eps" -v b="$eps" 'BEGIN { printf "%.0f", a + b }')
    execs=$((execs + ${e%.*}))
    crashes=$((crashes + c))
    hangs=$((hangs + h))
    if [ "$n" = main ]; then
      edges=$cov
      total_edges=$(stat_of "$st" total_edges)
      stab=$s
    fi
  done
  # The union of every instance's queue, measured by afl-showmap.
  local union
  union=$(ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=0 \
          timeout 120 afl-showmap -C -i "$out" -o "$out/showmap.txt" -t 5000 -m none -- "$bin" \
          2>&1 | sed -nE 's/.*Captured ([0-9]+) tuples.*/\1/p' | tail -n 1) || true
  echo "----------------------------------------------------------------"
  echo "target: $target, engine: AFL++ persistent mode, $jobs job(s), ${seconds}s, $([ "${FUZZ_PIN:-1}" = 0 ] && echo "jobs unbound" || echo "job i bound to core i mod $ncpu")"
  echo "execs: $execs total, $total_eps execs/s total, $((total_eps / jobs)) execs/s per job"
  echo "edges: ${edges:-?} of ${total_edges:-?} (main's fuzzer_stats), ${union:-?} in the union of queues (afl-showmap -C); stability ${stab:-?}"
  echo "crashes: $crashes, hangs: $hangs"
  report "$crashes" "$out/*/crashes/id:*"
}

# libFuzzer prints "stat::name: value" at the end of each job.
lf_stat() { local key=$1; shift; sed -nE "s/^stat::$key: +([0-9]+).*/\1/p" "$@"; }

run_libfuzzer() {
  local corpus="$out/corpus" art="$out/artifacts"
  rm -rf "$art" "$out"/*.log
  mkdir -p "$corpus" "$art"
  export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  local args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$art/"
              -timeout=$(((timeout_ms + 999) / 1000)) -dict="$dict" "$corpus" "$seeds")
  local rc=0
  if ((jobs == 1)); then
    "$bin" "${args[@]}" > "$out/fuzz-0.log" 2>&1 || rc=$?
  else
    # -jobs writes fuzz-N.log into the working directory.
    (cd "$out" && "$bin" -jobs="$jobs" -workers="$jobs" "${args[@]}" > "$out/driver.log" 2>&1) ||
      rc=$?
  fi
  local logs=("$out"/fuzz-*.log)
  local execs eps cov crashes
  execs=$(lf_stat number_of_executed_units "${logs[@]}" | awk '{ s += $1 } END { print s + 0 }')
  eps=$(lf_stat average_exec_per_sec "${logs[@]}" | awk '{ s += $1 } END { print s + 0 }')
  # Edges: the highest "cov:" any job reached (they share the corpus folder).
  cov=$(grep -hoE 'cov: [0-9]+' "${logs[@]}" | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
  crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \
            -o -name 'timeout-*' \) | wc -l)
  echo "----------------------------------------------------------------"
  echo "target: $target, engine: libFuzzer, $jobs job(s), ${seconds}s (exit $rc)"
  echo "execs: $execs total, $eps execs/s total, $((eps / jobs)) execs/s per job"
  echo "edges: $cov (libFuzzer cov:), corpus: $(find "$corpus" -type f | wc -l) files"
  echo "crashes: $crashes (crash/leak/oom/timeout artifacts)"
  report "$crashes" "$art/*"
}

report() {
  local n=$1 pattern=$2
  if ((n > 0)); then
    echo "campaign: $n crash(es) found in $pattern"
    echo "campaign: triage them with: make fuzz-triage FUZZ_TARGET=$target BUILD=$build"
    exit 1
  fi
  echo "campaign: no crash"
}

case $engine in
  afl) run_afl ;;
  libfuzzer) run_libfuzzer ;;
  *) echo "campaign: unknown engine '$engine' (afl or libfuzzer)" >&2; exit 2 ;;
esac
