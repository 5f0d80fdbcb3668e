/* gapcheck engine: process registry and execute_parallel.
 *
 * An engine holds named processes (C functions with a contract), a
 * persistent pool of pre-forked worker processes and one of kept threads. gc_execute_parallel runs a
 * process over N tasks on W workers, as threads or as pooled processes, and
 * returns one gc_result per task. Every worker's context comes from the one
 * factory (gc_ctx_from_state); process workers receive it encoded with the
 * zone's descriptors and keep the zone mapped until its generation changes.
 * Failures are values: a task whose worker crashes, exits, hangs past the
 * deadline or breaks its contract gets an error result; other tasks finish;
 * the pool replaces dead workers. A task that succeeds has its write set
 * committed into the state (commit.h): one at a time, in the main process,
 * the same code in both modes. Every task's first attempt is built from the
 * state as the run found it (one base for the run); retries from the state
 * as it is then. Calls on one engine from several threads are serialised. */
#ifndef GAPCHECK_ENGINE_H
#define GAPCHECK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "commit.h"
#include "ctx.h"
#include "error.h"
#include "state.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_RESULT_TEXT_MAX 256
#define GC_WORKERS_MAX 256
#define GC_TASKS_MAX 1000000u
#define GC_PROCESSES_MAX 256

/* What a process function hands back besides its status. */
typedef struct gc_proc_out {
    int64_t value;
    char text[GC_RESULT_TEXT_MAX];
} gc_proc_out;

/* A process: returns GC_OK or a negative gc_status (GC_EPROC for its own
 * failures), with details in out->text. */
typedef int (*gc_proc_fn)(gc_ctx *ctx, gc_proc_out *out);

typedef enum gc_mode { GC_MODE_THREAD = 1, GC_MODE_PROCESS = 2 } gc_mode;

typedef struct gc_exec_opts {
    const char *process;          /* registered name */
    gc_mode mode;
    uint32_t workers;             /* 1..GC_WORKERS_MAX */
    uint32_t tasks;               /* 1..GC_TASKS_MAX */
    uint32_t timeout_ms;          /* per task, 0 = none */
    const gc_contract *contract;  /* NULL: the process's registered contract */
    uint32_t retries;             /* runs again after a conflict, 0..GC_RETRIES_MAX */
    gc_history *history;          /* NULL: no attempt history (costs nothing) */
} gc_exec_opts;

typedef struct gc_result {
    uint32_t task;
    int status;                   /* GC_OK or why the task failed */
    int64_t value;
    char text[GC_RESULT_TEXT_MAX];/* the process's text, or the failure reason */
    int worker;                   /* worker slot */
    int pid;                      /* process that ran the task; 0 when no worker got it */
    int signal;                   /* GC_ECRASH: the signal */
    int exit_code;                /* GC_EEXIT: the exit code */
    uint32_t violations;          /* contract violations seen in the task */
    uint64_t wall_ns;             /* dispatch to result, seen by the main process */
    uint64_t exec_ns;             /* inside the process function */
    uint32_t undeclared_reads;    /* lax reads (strict_contracts 0) */
    /* The commit path: attempts made (0 when none ran), the base version of
     * the last one, the version its write set was installed as (0: nothing
     * installed; the status and text say why), and what was delivered after
     * install: event deliveries (one per subscriber reached) and messages. */
    uint32_t attempts;
    uint64_t base_version;
    uint64_t committed_version;
    uint32_t writes;
    uint32_t events_delivered;
    uint32_t messages_delivered;
} gc_result;

typedef struct gc_engine_stats {
    uint64_t workers_started;     /* pool processes forked, ever */
    uint64_t workers_replaced;    /* of which replacements of dead workers */
    uint64_t dispatches;          /* tasks sent to pool workers */
    uint32_t workers_live;        /* pool processes alive now */
    /* Thread mode keeps its threads too: started ever, alive now, and runs
     * that woke kept threads (a warm run starts none). */
    uint64_t threads_started;
    uint32_t threads_live;
    uint64_t thread_runs;
    uint64_t pool_restarts;       /* pools stopped because a process was registered later */
} gc_engine_stats;

typedef struct gc_engine gc_engine;

int gc_engine_new(gc_engine **out, gc_err *err);
/* Stops and reaps the pool, joins the kept threads; releases everything. */
void gc_engine_free(gc_engine *e);

/* Register a process; the contract is checked as gc_ctx_from_state checks
 * it (counts within the limits: GC_ELIMIT; a bad, missing or repeated name,
 * or a return key that is not a declared write: GC_EINVAL), then copied.
 * Names per gc_name_check. */
int gc_engine_register(gc_engine *e, const char *name, gc_proc_fn fn, const gc_contract *c,
                       gc_err *err);
int gc_engine_lookup(const gc_engine *e, const char *name, gc_proc_fn *fn,
                     const gc_contract **c);

/* Run; results must hold opts->tasks entries. Returns GC_OK when the run took
 * place (each task's own status is in its result), or an error when it could
 * not start (bad options, unknown process, pool failure). */
int gc_execute_parallel(gc_engine *e, gc_state *st, const gc_exec_opts *opts,
                        gc_result *results, gc_err *err);

/* The configuration every context of later runs carries (and commits use). */
int gc_engine_configure(gc_engine *e, const gc_config *cfg, gc_err *err);
gc_config gc_engine_config_get(gc_engine *e);

/* Validation rules, checked at commit for every write of `key`, in the order
 * added. An integer range [min, max] (a non-integer value fails it too), or
 * a check function. */
int gc_engine_rule_int_range(gc_engine *e, const char *key, int64_t min, int64_t max,
                             gc_err *err);
int gc_engine_rule_check(gc_engine *e, const char *key, gc_rule_fn fn, void *arg, gc_err *err);
/* Event subscribers (topic NULL: every topic) and the outbox sink (one; a
 * run whose contract may send messages is refused while there is none). */
int gc_engine_subscribe(gc_engine *e, const char *topic, gc_delivery_fn fn, void *arg,
                        gc_err *err);
int gc_engine_set_outbox(gc_engine *e, gc_delivery_fn fn, void *arg, gc_err *err);

/* Start the pool's first `workers` process workers now (those alive are
 * kept), so that a timed run on as many workers starts none: warm-up for
 * benchmarks and claims (workers_started does not move during the run). */
int gc_engine_warm(gc_engine *e, uint32_t workers, gc_err *err);
void gc_engine_stats_get(gc_engine *e, gc_engine_stats *out);
/* Stop all pool workers and join all kept threads now (both are started
 * again on demand). */
void gc_engine_pool_stop(gc_engine *e);

#ifdef __cplusplus
}
#endif
#endif
