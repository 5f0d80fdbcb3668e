/* harness: one end-to-end case, as read from a case file, and its execution.
 *
 * This header is the contract between the case module (parse a file with
 * inih, build the state, run the engine, check expectations: hc_*) and the
 * runner (discover, isolate in a child, time, report). The runner never looks
 * inside a case beyond hc_case_info; the case module never forks for
 * isolation or writes reports. */
#ifndef GAPCHECK_HARNESS_CASE_H
#define GAPCHECK_HARNESS_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "figures.h"
#include "gapcheck/engine.h"

/* What the runner needs to know about a case without running it. */
typedef struct hc_case_info {
    char path[4096];                 /* the case file */
    char id[HC_ID_MAX];              /* unique across the tree */
    char title[HC_TEXT_MAX];
    char incident[HC_ID_MAX];        /* "INC-014", or "" for cases/engine/ */
    char tags[HC_TAGS_MAX][64];
    int ntags;
    double timeout_s;                /* whole case, before the --timeout multiplier */
    gc_mode modes[2];                /* "both" expands to thread then process */
    int nmodes;
    char xfail[HC_TEXT_MAX];         /* reason; "" when the case must pass */
    char requires[HC_REQUIRES_MAX][64];
    int nrequires;
    int mixed_modes;                 /* [run] alternate_mode: rounds of both modes */
} hc_case_info;

typedef struct hc_case hc_case;

/* A parse or validation error: file, line (0 when not tied to one), key. */
typedef struct hc_error {
    char path[4096];
    int line;
    char key[128];                   /* "section.key", or "" */
    char message[HC_MESSAGE_MAX];
} hc_error;

/* The outcome of one run of a case in one mode, in the child. */
typedef struct hc_outcome {
    int passed;                      /* every expectation met */
    char message[HC_MESSAGE_MAX];    /* first unmet expectation, or a summary */
    uint32_t tasks;
    uint32_t tasks_ok;
    hc_metric metrics[HC_METRICS_MAX];
    int nmetrics;
    hc_claim claims[HC_CLAIMS_MAX];
    int nclaims;
    /* What really ran, for the runner to hold against the label: every
     * distinct process that ran a task (gc_result.pid) over all rounds and
     * callers. Thread workers show as the case process's own pid (listed
     * first whenever seen); pool workers as theirs. */
    int32_t pids[HC_PIDS_MAX];
    int npids;
    uint32_t pids_unlisted;          /* distinct pids seen beyond HC_PIDS_MAX */
} hc_outcome;

/* Parse and validate a case file. On failure returns a negative gc_status and
 * fills err (file, line, key, reason); *out is NULL. */
int hc_case_load(const char *path, hc_case **out, hc_error *err);
/* Same over bytes in memory (fuzzing, tests); `name` stands for the path. */
int hc_case_parse(const char *name, const char *text, size_t len, hc_case **out, hc_error *err);
void hc_case_free(hc_case *c);
const hc_case_info *hc_case_get_info(const hc_case *c);

/* Are the case's `requires` met on this machine? 1 yes, 0 no (why says which). */
int hc_case_requires_met(const hc_case *c, char *why, size_t whylen);

/* Run the case once in one mode on a fresh engine: build the state, run the
 * process, check every expectation. `seed` drives every random choice.
 * Returns GC_OK when the run could be carried out (out->passed tells the
 * verdict), or an error status when it could not (out->message says why). */
int hc_case_run(const hc_case *c, gc_mode mode, uint64_t seed, hc_outcome *out);

#endif
