#!/usr/bin/env bash
# Scans the output of a test run under Valgrind or ASan/UBSan (make memcheck,
# make sanitize) for what an exit status can miss: Valgrind's error and leak
# records of every process (forked Check tests and pool workers each print
# their own), descriptors left open at exit beyond stdio (--track-fds=yes
# only reports them) and sanitizer reports. Prints what it found; exits 1 if
# anything, 0 if the output is clean.
# Usage: mk/memcheck-scan.sh OUTPUT-FILE
set -euo pipefail
out=${1:?usage: memcheck-scan.sh OUTPUT-FILE}
bad=0
report() { echo "memcheck-scan: $out: $1"; bad=1; }

# Valgrind's errors, leaks included, by their records: with --quiet (as
# reports.mk's VALGRIND runs it) Valgrind prints no ERROR or LEAK SUMMARY, and
# an error in a process whose exit status nobody reads (a pool worker) shows
# only here. A record is a headline then its stack ("at 0x..."); processes
# interleave, so the headline is kept per pid. Records that are no error:
# descriptors open at exit (--track-fds, judged below), blocks possibly lost
# or still reachable (not in --errors-for-leak-kinds), a process ended by a
# signal (its test says so) and warnings.
vgerrs=$(awk '
  match($0, /^==[0-9]+== /) {
    pid = substr($0, 1, RLENGTH); text = substr($0, RLENGTH + 1)
    if (text ~ /^ +at 0x/) {
      h = head[pid]
      if (h != "" && h !~ /^(Open |FILE DESCRIPTORS|Process terminating|Warning)/ \
          && h !~ /(possibly lost|still reachable) in loss record/)
        print pid h
      head[pid] = ""
    } else if (text ~ /^[^ ]/)
      head[pid] = text
  }' "$out")
if [ -n "$vgerrs" ]; then
  report "$(grep -c '' <<<"$vgerrs") Valgrind error(s) in $(cut -d' ' -f1 <<<"$vgerrs" | sort -u | wc -l) process(es); first: $(head -n 1 <<<"$vgerrs")"
fi
# --track-fds=yes reports descriptors open at exit in EVERY process, and by
# design forked ones hold some (a pool worker its channel, a Check test
# child Check's message file, a fork test its inherited memfd) that the
# kernel closes at _exit. A leak is what the top process (the first pid in
# the output: the test runner or gapcheck) still holds at exit through our
# code: a frame in a function with a project prefix (gc_, hc_, hr_; the test
# helpers gc_test_* excepted). The top process exits last, so its report is
# the last one. Leaks inside cases and tests are counted from /proc by the
# runner and the engine's own tests.
main_pid=$(grep -E '^==[0-9]+== FILE DESCRIPTORS:' "$out" | tail -n 1 | grep -oE '^==[0-9]+==' || true)
leaked=""
if [ -n "$main_pid" ]; then
  leaked=$(awk -v pid="$main_pid" '
    index($0, pid) != 1 { next }
    /Open (file descriptor|AF_UNIX socket|AF_INET)/ { inblk = 1; hdr = $0; ours = 0; next }
    inblk && /(at|by) 0x[0-9A-Fa-f]+: (gc_|gc__|hc_|hr_)/ && !/: gc_test_/ { ours = 1 }
    inblk && /^==[0-9]+== *$/ { if (ours) print hdr; inblk = 0 }
    END { if (inblk && ours) print hdr }' "$out")
fi
if [ -n "$leaked" ]; then
  report "descriptors opened by gapcheck code still open at exit:"
  echo "$leaked" | head -n 10
fi
if grep -qE '^(==[0-9]+==)?ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$out"; then
  report "sanitizer: $(grep -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out" | head -n 1)"
fi
exit "$bad"
