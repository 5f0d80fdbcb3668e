/* harness case module, the history checker: decides whether one run of the
 * list-append workload (builtin `list_append`) is consistent, from the
 * engine's recorded attempt history (gc_history, commit.h), the task
 * results, the list keys' values before and after the run, and the
 * deliveries the case's own subscriber and outbox sink saw. In the spirit of
 * Jepsen's Elle list-append checker: it is told no bug, it names anomalies.
 * A list key's value is a sequence of elements "<task>.<attempt>;"; every
 * element is unique per task within a run.
 *
 * Pure: no engine call, no allocation that outlives the call, so unit tests
 * feed it hand-made histories. Internal to the case module (exec.c uses it
 * for `[expect] history = consistent`). */
#ifndef GAPCHECK_HARNESS_HISTCHECK_H
#define GAPCHECK_HARNESS_HISTCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "gapcheck/gapcheck.h"

typedef enum hc_hist_kind {
    HC_HIST_INCOMPLETE,         /* the engine could not record the history whole */
    HC_HIST_MISSING,            /* an acknowledged append is not in the final state */
    HC_HIST_DUPLICATE,          /* an element is in the final state more than once */
    HC_HIST_PHANTOM_APPEND,     /* the final state holds an element no installed attempt wrote */
    HC_HIST_WRONG_APPEND,       /* a write is not what it read plus its own element */
    HC_HIST_STALE_READ,         /* a read saw another version than the latest at its base */
    HC_HIST_READ_VALUE,         /* what a read returned is not the value at its version */
    HC_HIST_LOST_UPDATE,        /* installed from a base that misses an earlier install of the key */
    HC_HIST_PHANTOM_DELIVERY,   /* delivered for an attempt not installed, at another version, twice */
    HC_HIST_MISSING_DELIVERY,   /* an installed attempt's recorded delivery was never seen */
    HC_HIST_VERSION_ORDER,      /* versions not strictly increasing, or not the state's */
    HC_HIST_NKINDS
} hc_hist_kind;

/* A list key: its value and last-modified version when the run started and
 * when it ended (type GC_VAL_BYTES or GC_VAL_STR; anything else is a
 * wrong-append; an `after` of type 0 means the key is gone from the state). */
typedef struct hc_hist_key {
    const char *name;
    gc_value before, after;
    uint64_t before_version, after_version;
} hc_hist_key;

/* One delivery as the case's subscriber or outbox sink saw it. */
typedef struct hc_hist_seen {
    gc_delivery_kind kind;
    uint32_t task, attempt;     /* the engine's: the attempt it was delivered for */
    uint32_t made_by;           /* the attempt its payload names ("attempt=N"); 0: unknown */
    uint64_t version;
} hc_hist_seen;

typedef struct hc_hist_input {
    const gc_attempt *const *attempts;  /* the history, in commit order */
    size_t nattempts;
    size_t incomplete;                  /* gc_history_incomplete */
    const gc_result *results;           /* ntasks results of the run */
    uint32_t ntasks;
    const hc_hist_key *keys;            /* the list keys, in contract order */
    size_t nkeys;
    const hc_hist_seen *seen;
    size_t nseen;
    uint64_t version_before, version_after;   /* the state's */
} hc_hist_input;

typedef struct hc_hist_anomaly {
    uint32_t task, attempt;
    char key[GC_NAME_MAX + 1];          /* "" when no key is involved */
    uint64_t version;
    char text[320];                     /* the whole story, for a message */
} hc_hist_anomaly;

typedef struct hc_hist_report {
    size_t total;                       /* anomalies found */
    size_t count[HC_HIST_NKINDS];
    hc_hist_anomaly first[HC_HIST_NKINDS];   /* the first of each kind found */
    size_t installed, reads_checked, deliveries_checked;
} hc_hist_report;

/* Check one run. Returns the number of anomalies (0: consistent); the
 * report says which. */
size_t hc_hist_check(const hc_hist_input *in, hc_hist_report *rep);
/* "lost-update", "missing-append", ... */
const char *hc_hist_kind_name(hc_hist_kind k);
/* "3 anomalies (lost-update 2, missing-append 1); lost-update: ...; missing-append: ..."
 * into buf[cap]. */
void hc_hist_summary(const hc_hist_report *rep, char *buf, size_t cap);

#endif
