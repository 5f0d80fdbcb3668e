/* Engine internals shared by the registry (engine.c), the dispatcher
 * (exec.c), the process pool (pool.c) and the worker loop (worker.c). */
#ifndef GAPCHECK_ENGINE_INT_H
#define GAPCHECK_ENGINE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "gapcheck/engine.h"

/* A registered process with its own copy of its contract. */
typedef struct gc__proc {
    char name[GC_NAME_MAX + 1];
    gc_proc_fn fn;
    gc_contract contract;       /* points into names below */
    char **names;               /* every name string, owned */
    size_t nnames;
} gc__proc;

typedef struct gc__pool gc__pool;

struct gc_engine {
    pthread_mutex_t lock;       /* serialises execute_parallel and registration */
    gc__proc *procs;
    size_t nprocs;
    uint64_t registry_version;  /* bumped by every registration */
    gc__pool *pool;             /* NULL until the first process-mode run */
    gc_engine_stats stats;
};

/* Lookup without locking (callers hold e->lock or run in a worker). */
const gc__proc *gc__engine_find(const gc_engine *e, const char *name);

/* Run fn on ctx the way every worker does: time it, turn contract violations
 * into GC_ECONTRACT, and fill status/value/text/violations/exec_ns of r. */
void gc__run_process(const gc__proc *p, gc_ctx *ctx, gc_result *r);

/* The process pool (pool.c). */
int gc__pool_run(gc_engine *e, const gc_state *st, const gc__proc *p, const gc_contract *c,
                 const gc_exec_opts *opts, gc_result *results, gc_err *err);
void gc__pool_free(gc__pool *pool);

/* The worker loop (worker.c): serves tasks on sock until EOF; never returns. */
void gc__worker_main(const gc_engine *e, int sock, int slot, pid_t parent)
    __attribute__((noreturn));

uint64_t gc__now_ns(void);

/* The poll(2) timeout that wakes at deadline_ns (0: no deadline, -1 = wait
 * for an event); never negative for a deadline, however far away. */
int gc__poll_timeout_ms(uint64_t deadline_ns, uint64_t now_ns);

/* The descriptor a pool worker serves its channel on. */
#define GC_WORKER_CHANNEL_FD 3

#endif
