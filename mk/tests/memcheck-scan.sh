#!/usr/bin/env bash
# Test of mk/memcheck-scan.sh, the one judge of memory-tool output (make
# memcheck, make sanitize, and the memory judges of make mutate). The
# outputs below are excerpts of real runs with reports.mk's VALGRIND flags
# (--quiet: no ERROR or LEAK SUMMARY is printed, only the records), pids
# interleaved as forked processes write them. Prints "N passed, N failed".
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scan="$here/mk/memcheck-scan.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }

# Clean: a worker's descriptors at exit (not the top process's), a block
# possibly lost (not an error kind here), a process ended by a signal.
cat > "$tmp/clean.out" <<'EOF'
Running suite(s): exec
==200== FILE DESCRIPTORS: 4 open (3 std) at exit.
==200== Open AF_UNIX socket 3: <unknown>
==200==    at 0x4A3AAA7: dup2 (syscall-template.S:120)
==200==    by 0x1527F5: worker_isolate (worker.c:227)
==200== 
==100== 272 bytes in 1 blocks are possibly lost in loss record 337 of 342
==100==    at 0x48465EF: calloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==100==    by 0x4010CB2: allocate_dtv (dl-tls.c:401)
==100== 
==300== Process terminating with default action of signal 6 (SIGABRT)
==300==    at 0x4A00D3C: __pthread_kill_implementation (pthread_kill.c:44)
==300==    by 0x49B1F31: raise (raise.c:26)
==100== FILE DESCRIPTORS: 4 open (3 std) at exit.
==100== Open file descriptor 3: /tmp/check_3SveXC
==100==    at 0x4A3A011: open (open64.c:41)
==100==    by 0x1594D7: open_tmp_file (in build/engine/tests/engine_tests)
==100== 
100%: Checks: 31, Failures: 0, Errors: 0
EOF
if out=$("$scan" "$tmp/clean.out"); then ok "clean output passes (descriptors of a worker, possibly lost, a signal)"
else bad "clean output failed: $out"; fi

# An error in a pool worker (pid 201) whose exit status nobody reads; its
# record is interleaved with another process's lines and every test passed.
cat > "$tmp/worker-error.out" <<'EOF'
Running suite(s): exec
==201== Syscall param sendmsg(msg.msg_control) points to uninitialised byte(s)
==100== FILE DESCRIPTORS: 4 open (3 std) at exit.
==201==    at 0x4A4CC4D: __libc_sendmsg (sendmsg.c:28)
==201==    by 0x14E2F0: dispatch (pool.c:325)
==201==  Address 0x1ffeffa5f4 is on thread 1's stack
==201== 
==100== Open file descriptor 3: /tmp/check_3SveXC
==100==    at 0x4A3A011: open (open64.c:41)
==100== 
100%: Checks: 1, Failures: 0, Errors: 0
EOF
if out=$("$scan" "$tmp/worker-error.out"); then bad "an error in a worker passed the scan"
elif grep -q "1 Valgrind error(s) in 1 process(es); first: ==201== Syscall param sendmsg" <<<"$out"
then ok "an error record is found though no summary is printed and the test passed, named"
else bad "an error record failed the scan without naming it: $out"; fi

cat > "$tmp/leak.out" <<'EOF'
==100== 40 bytes in 1 blocks are definitely lost in loss record 2 of 2
==100==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==100==    by 0x10915A: main (leak.c:4)
==100== 
EOF
if out=$("$scan" "$tmp/leak.out"); then bad "a definite leak passed the scan"
elif grep -q "definitely lost in loss record" <<<"$out"; then ok "a definite leak's record fails the scan"
else bad "a leak failed the scan without naming it: $out"; fi

# A descriptor our code (gc_ prefix) still holds in the top process at exit.
cat > "$tmp/fd.out" <<'EOF'
==100== FILE DESCRIPTORS: 5 open (3 std) at exit.
==100== Open file descriptor 7: /memfd:gc-zone (deleted)
==100==    at 0x4A4B1E9: memfd_create (syscall-template.S:120)
==100==    by 0x14F0A1: gc__zone_create (zone.c:205)
==100== 
EOF
if out=$("$scan" "$tmp/fd.out"); then bad "a leaked descriptor passed the scan"
elif grep -q "descriptors opened by gapcheck code" <<<"$out" && ! grep -q "Valgrind error" <<<"$out"
then ok "a descriptor of ours open at exit fails the scan (and is no Valgrind error)"
else bad "a leaked descriptor was judged wrong: $out"; fi

cat > "$tmp/asan.out" <<'EOF'
==100==ERROR: LeakSanitizer: detected memory leaks
EOF
if out=$("$scan" "$tmp/asan.out"); then bad "a sanitizer report passed the scan"
elif grep -q "sanitizer: ==100==ERROR: LeakSanitizer" <<<"$out"; then ok "a sanitizer report fails the scan, named"
else bad "a sanitizer report failed the scan without naming it: $out"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
