/* harness: the one result model of a run (hr_*).
 *
 * Every renderer (JSON, JUnit, TAP, Markdown), the console output and the exit
 * status read this model and nothing else, so the formats cannot disagree.
 * A run is an hr_report: run-wide facts (seed, command line, host) plus one
 * hr_result per planned case × mode, in plan order. Result codes are a closed
 * set (hr_status); which of them count as passed, failed or skipped is decided
 * here, once. */
#ifndef GAPCHECK_HARNESS_RESULT_H
#define GAPCHECK_HARNESS_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "figures.h"   /* metrics, claims, text limits: no parser type */

#define HR_SCHEMA_VERSION 1
/* The Makefile passes the project version; the fallback keeps tests building. */
#ifndef HR_VERSION
#define HR_VERSION "0.0.0-dev"
#endif
#define HR_RESULT_ID_MAX (HC_ID_MAX + 16)

/* The closed set of result codes (lit's model). Order is the JSON order of
 * summary.by_status; never renumber, only append. */
typedef enum hr_status {
    HR_PASS = 0,   /* every expectation met, nothing leaked */
    HR_FAIL,       /* an expectation unmet, or something leaked */
    HR_ERROR,      /* the case could not be judged: bad file, run error, no result */
    HR_TIMEOUT,    /* killed at its deadline (timeout × --timeout) */
    HR_CRASH,      /* the case's process died by a signal (hr_result.signal) */
    HR_XFAIL,      /* failed, as its `xfail` says it should: counts as passed */
    HR_XPASS,      /* passed although marked xfail: counts as failed */
    HR_SKIP,       /* not run: `requires` not met, or --max-failures reached */
    HR_NSTATUS
} hr_status;

/* What a case left behind, counted in its child from /proc/self. */
typedef struct hr_leaks {
    int fds;        /* descriptors (memfds included) */
    int memfds;     /* descriptors that are memfds */
    int maps;       /* memfd mappings */
    int children;   /* child processes still alive */
} hr_leaks;

/* One run's timings, in run order: what the timing gate estimates from. */
typedef struct hr_sample {
    double wall_ms, cpu_ms;        /* as wall_ms/cpu_ms below, of this run */
    double calib_cpu_ms;           /* --calibrate: the reference right before this run */
    double calib_wall_ms;          /* (calib.h); NaN without --calibrate or if it failed */
} hr_sample;

typedef struct hr_result {
    char id[HR_RESULT_ID_MAX];     /* "INC-014/checksum[thread]" */
    char case_id[HC_ID_MAX];       /* "INC-014/checksum"; the fallback id on load errors */
    char path[4096];               /* the case file, as discovered */
    char title[HC_TEXT_MAX];
    char incident[HC_ID_MAX];
    char mode[16];                 /* "thread", "process", "" when not run in a mode */
    char tags[HC_TAGS_MAX][64];
    int ntags;
    hr_status status;
    char message[HC_MESSAGE_MAX];  /* why (for pass: a summary or "") */
    char reason[HC_TEXT_MAX];      /* xfail or skip reason, else "" */
    int load_line;                 /* load errors: line (0 = none) */
    char load_key[128];            /* load errors: "section.key" or "" */
    int is_load_error;
    uint64_t seed;                 /* the case's own seed, derived from the run seed */
    int runs;                      /* runs completed (repeats), 0 if not run */
    double wall_ms_min, wall_ms_median, wall_ms_max;
    double cpu_ms;                 /* user+sys, median over runs */
    hr_sample *samples;            /* owned, one per run (runs entries); NULL if none */
    long maxrss_kb;                /* peak over runs */
    hr_leaks leaks;                /* of the last run */
    int signal;                    /* HR_CRASH: the signal, else 0 */
    uint32_t tasks, tasks_ok;
    hc_metric metrics[HC_METRICS_MAX]; /* value: median over runs */
    int nmetrics;
    hc_claim claims[HC_CLAIMS_MAX];    /* measured: median over runs */
    int nclaims;
    char mode_ran[24];             /* "thread", "process", "thread+process", "none"; "" not run */
    int32_t case_pid;              /* the case process of the last run */
    int32_t pids[HC_PIDS_MAX];     /* processes that ran tasks in the last run */
    int npids;
    uint32_t pids_unlisted;
    char replay[8192];             /* exact command that replays this result */
    char *output;                  /* captured stdout+stderr of the last run, owned; may be NULL */
    int output_truncated;
} hr_result;

typedef struct hr_run_info {
    uint64_t seed;
    char **argv;                   /* owned copy of the command line */
    int argc;
    char command[8192];            /* shell-quoted */
    char start_time[32];           /* ISO 8601 UTC */
    double duration_ms;
    char host[256];
    char kernel[128];
    long cores;
    int jobs, repeat;
    int calibrate;                 /* --calibrate given */
    double timeout_mult;
    int shard_index, shard_count;  /* 1-based index; 0/0 when not sharded */
} hr_run_info;

typedef struct hr_report {
    hr_run_info info;
    hr_result *results;            /* owned, n entries in plan order */
    size_t n, cap;
} hr_report;

typedef struct hr_totals {
    size_t by_status[HR_NSTATUS];
    size_t total, passed, failed, skipped;
} hr_totals;

/* "pass", "fail", ... (the JSON/TAP/JUnit spelling); never NULL. */
const char *hr_status_name(hr_status s);
/* 1 when the status makes the run fail: fail, error, timeout, crash, xpass. */
int hr_status_is_failure(hr_status s);
/* The verdicts, decided here once and written into results.json per result
 * ("passed", "failed", "caught"), so that no later stage decides again:
 * counts as passed (pass, xfail); caught = the case ran and was judged to
 * fail an expectation (fail, timeout, crash; not error, xpass or skip), which
 * is what proves a re-injected bug was noticed. */
int hr_status_counts_as_passed(hr_status s);
int hr_status_caught(hr_status s);

void hr_report_init(hr_report *r);
/* Appends a zeroed result; returns it or NULL when out of memory. The pointer
 * is valid until the next append. */
hr_result *hr_report_add(hr_report *r);
void hr_report_free(hr_report *r);

void hr_totals_compute(const hr_report *r, hr_totals *t);
/* "N passed, N failed" plus ", N skipped" when any were skipped. */
void hr_summary_line(const hr_totals *t, char *buf, size_t len);
/* 0 when nothing failed, 1 otherwise. */
int hr_exit_code(const hr_totals *t);

#endif
