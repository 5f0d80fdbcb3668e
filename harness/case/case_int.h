/* harness case module, insides: the parsed form of a case file, shared by the
 * parser (parse.c) and the executor (exec.c). Nothing outside the case
 * module includes this header; the runner sees only case.h. Every pointer in
 * struct hc_case is owned by the case and released by hc_case_free alone. */
#ifndef GAPCHECK_HARNESS_CASE_INT_H
#define GAPCHECK_HARNESS_CASE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "case.h"
#include "gapcheck/gapcheck.h"

/* A case file larger than this is a mistake, not a case. */
#define HC_FILE_MAX (1024u * 1024u)
/* Longest line handed to inih: a 4 KiB bytes value in hex plus its key. */
#define HC_LINE_MAX 16384
#define HC_CLAIM_NAME_MAX 64

/* One [domain] value, in file order (that is also the state's insertion order). */
typedef struct hc_domain_val {
    char name[GC_NAME_MAX + 1];
    gc_value_type type;
    int64_t i;
    double d;
    uint8_t *data;                  /* STR (NUL-terminated) and BYTES; owned */
    size_t len;                     /* bytes in data, without the NUL for STR */
    int line;
} hc_domain_val;

/* One [heavy.NAME] or [output.NAME] entry, in file order (= declare order). */
typedef struct hc_entry {
    char name[GC_NAME_MAX + 1];
    int output;                     /* [output.NAME]: writable by workers */
    uint64_t size;
    gc_pattern fill;                /* heavy only */
    int fill_from_seed;             /* "random" without SEED: seed comes from the run */
    int line;                       /* of the section header */
} hc_entry;

/* [expect] output.NAME = pattern:SPEC, resolved against the entries at the end. */
typedef struct hc_output_exp {
    char name[GC_NAME_MAX + 1];
    gc_pattern pattern;
    int line;
} hc_output_exp;

/* [expect] KEY.N: what task N alone must show (status.N overrides status;
 * the others add to the every-task keys). One per task, filled by its keys. */
typedef struct hc_status_exp {
    uint32_t task;
    int has_status, status;         /* status.N */
    int signal;                     /* signal.N; 0 = not checked */
    char *text;                     /* text.N, exact; owned; NULL = not checked */
    char *text_contains;            /* text_contains.N; owned; NULL = not checked */
    int sent;                       /* sent.N: 1 a worker got it, 0 never; -1 not checked */
    int line;                       /* first KEY.N line of this task */
    char key[48];                   /* and that key, "expect.status.4" */
    int kline[5];                   /* line of status, signal, text, text_contains, sent */
} hc_status_exp;

typedef enum hc_value_kind {
    HC_VALUE_NONE = 0,
    HC_VALUE_INT,                   /* value = 42 */
    HC_VALUE_CHECKSUM,              /* value = checksum: gc_checksum over the contract's heavy reads */
    HC_VALUE_TOUCH                  /* value = touch: sum of first+last byte of each heavy read */
} hc_value_kind;

/* A [claim.NAME] as written; measured values live in hc_outcome. */
typedef struct hc_claim_spec {
    char name[HC_CLAIM_NAME_MAX];
    char text[HC_TEXT_MAX];
    char metric[64];
    char unit[16];
    double claimed;
    int line;
} hc_claim_spec;

/* A comma list of names (contract). */
typedef struct hc_names {
    char **v;                       /* owned, each owned */
    size_t n;
    int set;                        /* the key was present */
    int line;
} hc_names;

struct hc_case {
    hc_case_info info;
    char process[GC_NAME_MAX + 1];
    uint32_t workers;
    uint32_t tasks;
    uint32_t task_timeout_ms;       /* 0 = no deadline */
    int zone_none;                  /* [state] heavy_zone = none: no zone at all */
    int outputs_frozen;             /* [state] outputs = frozen: gc_zone_freeze_outputs */

    hc_domain_val *domain;
    size_t ndomain;
    hc_entry *entries;
    size_t nentries;

    int has_contract;               /* [contract] present; else the registered one */
    hc_names domain_reads, heavy_reads, outputs;

    int status_all;                 /* expected status of every task (default GC_OK) */
    hc_status_exp *status_one;
    size_t nstatus_one;
    hc_value_kind value_kind;
    int64_t value;
    char *text;                     /* exact text of every task expected OK; owned */
    char *text_contains;            /* substring of every task's text; owned */
    hc_output_exp *outputs_exp;
    size_t noutputs_exp;
    int heavy_unchanged;
    double max_wall_ms;             /* 0 = no limit */
    hc_claim_spec claims[HC_CLAIMS_MAX];
    int nclaims;

    /* [run]: how the engine is driven (defaults: one call, no limits). */
    uint32_t rounds;                /* execute_parallel calls on one engine, >= 1 */
    uint32_t new_generation_every;  /* publish a fresh zone every N rounds; 0 = never */
    int alternate_mode;             /* odd rounds use the other worker mode */
    uint32_t callers;               /* main-process threads calling at once, >= 1 */
    uint32_t limit_nofile;          /* descriptors that may still be opened under the limit */
    int limit_nofile_set;
    uint64_t limit_as;              /* address-space headroom in bytes; 0 = no limit */
    int recover;                    /* after a limited attempt, run again unlimited */
    int setup_status;               /* [expect] setup: building the state under limits */
    int run_status;                 /* [expect] run: what execute_parallel returns */
    uint64_t rss_growth_kb_max;     /* [expect] RSS growth from round 1 to the end; 0 = unchecked */
    int has_rss_growth;
    /* [expect] engine counters after the last round (gc_engine_stats);
     * HC_COUNT_UNCHECKED when not given. */
    uint32_t exp_workers_started, exp_workers_replaced, exp_pool_restarts;
    uint32_t register_every;        /* [run]: register the process anew every N rounds */

    /* The commit path: [contract] writes, [run] options, [expect] read-back
     * and delivery counts (of the last round; -1 = not checked). */
    hc_names domain_writes;
    char return_key[GC_NAME_MAX + 1];   /* "" = none */
    int events, outbox;
    uint32_t retries;
    int commit_strict;              /* [run] commit: 0 smart, 1 strict */
    int strict_contracts;           /* [run] strict_contracts, default 1 */
    char rule_key[GC_NAME_MAX + 1]; /* [run] rule KEY:MIN..MAX, when has_rule */
    int64_t rule_min, rule_max;
    int has_rule;
    int warm_default;               /* [run] warm_default: a first run on the default config */
    hc_domain_val *state_exp;       /* [expect] state.NAME, owned */
    size_t nstate_exp;
    int64_t version_exp, committed_exp, events_exp, messages_exp, undeclared_exp;
    int history_check;              /* [expect] history: 0 unchecked, 1 consistent */
};

#define HC_COUNT_UNCHECKED UINT32_MAX

/* [expect] heavy_unchanged: the checksum of every input entry of st now
 * (gc_checksum from GC_CHECKSUM_SEED, output entries 0) must equal
 * before[i]; the first difference is written into out as unmet. */
/* [expect] rss_growth_kb_max: RSS (kB) after round 1 and after the last
 * round; growth over the limit is written into out as unmet (the executor
 * skips the check under ASan or valgrind, whose heaps own the figure). */
void hc__check_rss_growth(const hc_case *c, long rss_first, long rss_end, hc_outcome *out);
void hc__check_heavy_unchanged(const gc_state *st, const uint64_t *before, size_t nbefore,
                               hc_outcome *out);

/* Expected status of task t. */
int hc__expected_status(const hc_case *c, uint32_t t);

/* Metrics the executor measures (metrics.c), with their units and the
 * process that produces them; claims name them. */
typedef struct hc_metric_def {
    const char *name;
    const char *unit;
    const char *process;            /* the built-in that produces it; NULL = every process */
    const char *what;
} hc_metric_def;

extern const hc_metric_def hc__metrics[];
extern const size_t hc__nmetrics;
const hc_metric_def *hc__metric_find(const char *name);
/* Does a run of `process` produce metric m? */
int hc__metric_produced_by(const hc_metric_def *m, const char *process);
void hc__metrics_known(char *buf, size_t len);
/* cases/README.md's table of metrics. 0, or -1 on a write error. */
int hc__metrics_markdown(FILE *f);

#endif
