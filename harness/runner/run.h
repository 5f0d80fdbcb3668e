/* harness: carrying out a plan (hr_run_*).
 *
 * Runs the plan's jobs, up to --jobs at once, each run in its own isolated
 * child (isolate.h) around hc_case_run, --repeat times (stopping at the first
 * run that does not pass), and turns what came back into the job's result:
 * status from the closed set, timings, peak memory, leaks, metrics, claims.
 * Prints one line per result (a \r progress line on a terminal) and, for each
 * failure, its seed and replay command. --max-failures and SIGINT/SIGTERM
 * stop the starting of new runs; what was not started is reported as skip. */
#ifndef GAPCHECK_HARNESS_RUN_H
#define GAPCHECK_HARNESS_RUN_H

#include <stdio.h>

#include "isolate.h"
#include "opts.h"
#include "plan.h"
#include "result.h"

/* A case carrying this tag may leave descriptors/memfds/children behind
 * without failing (the leaks are still counted and reported). */
#define HR_TAG_ALLOW_LEAKS "allow-leaks"
/* Timeout of a case that declares none (seconds, before --timeout). */
#define HR_DEFAULT_TIMEOUT_S 60.0

/* Returns 0 when every job ran, 130 when interrupted, -1 with the reason in
 * err on a fatal error (out of memory). Results are written into rep. */
int hr_run(const hr_opts *o, const hr_plan *plan, hr_report *rep, FILE *out, char *err,
           size_t errlen);

/* The mode on the label against what really ran (exported for tests): from
 * the pids that ran tasks (hc_outcome.pids) and the case process's pid, as
 * the runner itself forked it. Thread workers run in the case process, pool
 * workers in other processes; `mixed` ([run] alternate_mode) allows both,
 * as long as the label's own mode ran. Writes "thread", "process",
 * "thread+process" or "none" into ran; returns 1 when label and reality
 * agree, else 0 with why. A task no worker got names no pid, so a run in
 * which nothing ran contradicts no label. */
int hr_mode_check(const hc_outcome *o, int32_t case_pid, gc_mode label, int mixed, char *ran,
                  size_t ranlen, char *why, size_t whylen);

/* Turn one finished child into a status and message (exported for tests).
 * allow_leaks: leaks are reported but do not fail. */
hr_status hr_classify(const hr_child *c, int allow_leaks, double timeout_s, char *msg,
                      size_t msglen);

#endif
