/* harness: the timing reference (hr_calib_*).
 *
 * With --calibrate the runner runs a fixed workload right before every run of
 * every case, in its own process: a memfd of HR_CALIB_BYTES created, mapped,
 * filled with a pseudo-random pattern page by page (page faults, kernel page
 * zeroing, memory writes, the same kind of work as a case filling a heavy
 * zone) and read back. Its CPU time is the reference the timing gate divides
 * a case's CPU time by: whatever makes this machine slower at that moment
 * (neighbours, memory bandwidth, page-fault cost) slows both, and cancels.
 * The workload uses no engine code, so an engine that gets slower does not. */
#ifndef GAPCHECK_HARNESS_CALIB_H
#define GAPCHECK_HARNESS_CALIB_H

#include <stddef.h>

#define HR_CALIB_BYTES (4u << 20)   /* ~5 ms of CPU on the 2-core VM */

typedef struct hr_calib {
    double cpu_ms;    /* CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID) */
    double wall_ms;
} hr_calib;

/* Runs the workload over `bytes` (> 0, a multiple of 8). Returns 0, or -1
 * with errno set (memfd, truncate or map refused); nothing is left open. */
int hr_calib_run(size_t bytes, hr_calib *out);

#endif
