/* harness: what a case left behind (hr_leaks_*).
 *
 * The case's child takes a snapshot before and after hc_case_run with the
 * engine's census (gapcheck/census.h: descriptors, memfds, memfd mappings,
 * child processes, read from /proc); the difference is what the case left. */
#ifndef GAPCHECK_HARNESS_LEAKS_H
#define GAPCHECK_HARNESS_LEAKS_H

#include <stddef.h>

#include "result.h"

/* Returns 0, or -1 with the reason in err when /proc could not be read (out
 * is then zeroed). */
int hr_leaks_snapshot(hr_leaks *out, char *err, size_t errlen);
/* after - before, each floored at 0 (closing an inherited descriptor is not
 * a leak, and must not hide one). */
void hr_leaks_diff(const hr_leaks *before, const hr_leaks *after, hr_leaks *out);
int hr_leaks_any(const hr_leaks *l);
/* "2 descriptors (1 memfd), 1 memfd mapping, 1 child process" or "nothing". */
void hr_leaks_describe(const hr_leaks *l, char *buf, size_t len);

#endif
