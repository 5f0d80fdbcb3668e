/* harness: the command line of `gapcheck` (hr_opts_*).
 *
 * Parsing is a pure function from argv to an hr_opts or a usage error with a
 * one-line reason (exit status 2), so it is unit-tested without running
 * anything. Option values are validated here; the rest of the runner trusts
 * hr_opts. Strings point into argv, which must outlive the options. */
#ifndef GAPCHECK_HARNESS_OPTS_H
#define GAPCHECK_HARNESS_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HR_EXIT_USAGE 2
#define HR_JOBS_MAX 256
#define HR_REPEAT_MAX 10000
#define HR_SEED_MAX INT64_MAX   /* seeds are JSON integers */

typedef enum hr_command { HR_CMD_RUN = 1, HR_CMD_HELP, HR_CMD_VERSION } hr_command;

typedef struct hr_opts {
    hr_command command;
    const char *argv0;
    const char **paths;      /* owned array, strings in argv; default "cases" */
    int npaths;
    const char **filters;    /* globs on ids; a result is kept if any matches */
    int nfilters;
    const char **tags;       /* a case is kept if it carries every tag */
    int ntags;
    int jobs;                /* parallel cases, >= 1 */
    int shard_index;         /* 1-based; 0 when not sharded */
    int shard_count;
    int repeat;              /* runs per case, >= 1 */
    int calibrate;           /* time the reference workload before every run */
    double timeout_mult;     /* > 0 */
    uint64_t seed;
    int seed_set;
    unsigned formats;        /* HR_FMT_* bits */
    const char *output;      /* directory */
    int list;
    int max_failures;        /* 0 = no limit */
    int verbose;
} hr_opts;

/* Returns 0, or -1 with a one-line reason in err (a usage error). */
int hr_opts_parse(int argc, char **argv, hr_opts *o, char *err, size_t errlen);
void hr_opts_free(hr_opts *o);
void hr_usage(FILE *f, const char *argv0);

#endif
