/* harness: from case files to a plan of runs (hr_plan_*).
 *
 * Loads every discovered file with hc_case_load, expands each case into one
 * run per mode (id "INC-014/checksum[thread]"), and selects by --filter,
 * --tag and --shard. Every selected run gets its hr_result slot in the
 * report now, in plan order, so the report's order never depends on which
 * job finished first. Files that fail to load, and duplicate ids, become
 * `error` results (file:line: key: reason) and the plan goes on; cases whose
 * `requires` are not met become `skip` with the reason. The selection helpers
 * are exported for the unit tests. */
#ifndef GAPCHECK_HARNESS_PLAN_H
#define GAPCHECK_HARNESS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "discover.h"
#include "opts.h"
#include "result.h"

typedef struct hr_job {
    const hc_case *c;              /* owned by the plan */
    const hc_case_info *info;
    gc_mode mode;
    size_t result;                 /* index into the report's results */
} hr_job;

typedef struct hr_plan {
    hc_case **cases;               /* owned; freed by hr_plan_free */
    size_t ncases;
    hr_job *jobs;                  /* runs to carry out, in plan order */
    size_t njobs;
    size_t load_errors;
} hr_plan;

/* Returns 0, or -1 (out of memory) with a reason in err. */
int hr_plan_build(const hr_opts *o, const hr_files *files, hr_plan *plan, hr_report *rep,
                  char *err, size_t errlen);
void hr_plan_free(hr_plan *plan);

const char *hr_mode_name(gc_mode m);
/* 64-bit FNV-1a: stable across builds, machines and runs (shards rely on it). */
uint64_t hr_hash(const char *s);
/* Shard (1..count) that an id belongs to. */
int hr_shard_of(const char *id, int count);
/* Kept by --filter: no globs, or any glob that equals the id or the case id,
 * or fnmatch-es either. A glob ending in "[thread]"/"[process]" takes that
 * suffix literally (fnmatch would read it as a bracket expression) and globs
 * the case id with the rest: "INC-014.*[process]". */
int hr_filter_match(const char *const *globs, int n, const char *id, const char *case_id);
/* Kept by --tag: the case (or its mode name) carries every wanted tag. */
int hr_tags_match(const char *const *want, int n, const hc_case_info *info, const char *mode);
/* The seed of one result: a mix of the run seed and the id, in 0..2^63-1,
 * so that replaying one case with --filter gives it the same seed. */
uint64_t hr_case_seed(uint64_t run_seed, const char *id);
/* Id for a file that did not load: its path without a leading "./" or
 * "cases/" and without ".case". */
void hr_fallback_id(const char *path, char *out, size_t len);
/* The command that replays one result (shell-quoted). */
void hr_replay_command(const hr_opts *o, uint64_t run_seed, const char *path, const char *id,
                       char *out, size_t len);

#endif
