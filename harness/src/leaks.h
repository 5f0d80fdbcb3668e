/* harness: what a process holds, counted from /proc/self (hr_leaks_*).
 *
 * The case's child takes a snapshot before and after hc_case_run; the
 * difference is what the case left behind. Counted: open descriptors, those
 * of them that are memfds (link target "memfd:..."), memfd mappings (lines of
 * /proc/self/maps naming "memfd:"), and live child processes (pids listed in
 * /proc/self/task/<tid>/children of every thread). Reading /proc needs no
 * cooperation from the engine, so a leak cannot hide by forgetting to report. */
#ifndef GAPCHECK_HARNESS_LEAKS_H
#define GAPCHECK_HARNESS_LEAKS_H

#include <stddef.h>

#include "result.h"

/* Returns 0, or -1 when /proc could not be read (out is then zeroed). */
int hr_leaks_snapshot(hr_leaks *out);
/* after - before, each floored at 0 (closing an inherited descriptor is not
 * a leak, and must not hide one). */
void hr_leaks_diff(const hr_leaks *before, const hr_leaks *after, hr_leaks *out);
int hr_leaks_any(const hr_leaks *l);
/* "2 descriptors (1 memfd), 1 memfd mapping, 1 child process" or "nothing". */
void hr_leaks_describe(const hr_leaks *l, char *buf, size_t len);

#endif
