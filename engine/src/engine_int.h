/* Engine internals shared by the registry (engine.c), the dispatcher
 * (exec.c), the process pool (pool.c) and the worker loop (worker.c). */
#ifndef GAPCHECK_ENGINE_INT_H
#define GAPCHECK_ENGINE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "gapcheck/engine.h"
#include "gapcheck/measure.h"

/* A registered process with its own copy of its contract. */
typedef struct gc__proc {
    char name[GC_NAME_MAX + 1];
    gc_proc_fn fn;
    gc_contract contract;       /* points into names below */
    char **names;               /* every name string, owned */
    size_t nnames;
} gc__proc;

typedef struct gc__pool gc__pool;
typedef struct gc__tpool gc__tpool;

/* A validation rule on one key: an integer range, or a check function. */
typedef struct gc__rule {
    char key[GC_NAME_MAX + 1];
    gc_rule_fn fn;              /* NULL: the range below */
    void *arg;
    int64_t min, max;
} gc__rule;

/* A subscriber to events of one topic ("" = every topic). */
typedef struct gc__sub {
    char topic[GC_NAME_MAX + 1];
    gc_delivery_fn fn;
    void *arg;
} gc__sub;

#define GC__RULES_MAX 1024
#define GC__SUBS_MAX 256

struct gc_engine {
    pthread_mutex_t lock;       /* serialises execute_parallel and registration */
    gc__proc *procs;
    size_t nprocs;
    uint64_t registry_version;  /* bumped by every registration */
    gc__pool *pool;             /* NULL until the first process-mode run */
    gc__tpool *tpool;           /* NULL until the first thread-mode run */
    gc_engine_stats stats;
    gc_config cfg;              /* copied into every context by the factory */
    gc__rule *rules;
    size_t nrules;
    gc__sub *subs;
    size_t nsubs;
    gc_delivery_fn outbox;      /* NULL: no sink (runs that may send are refused) */
    void *outbox_arg;
};

/* Lookup without locking (callers hold e->lock or run in a worker). */
const gc__proc *gc__engine_find(const gc_engine *e, const char *name);

/* Run fn on ctx the way every worker does: time it, turn contract violations
 * into GC_ECONTRACT, write a successful process's returned value to the
 * contract's return key, and fill status/value/text/violations/
 * undeclared_reads/exec_ns of r. */
void gc__run_process(const gc__proc *p, gc_ctx *ctx, gc_result *r);

typedef struct gc__commit gc__commit;

/* The process pool (pool.c). Contexts come from, and finished attempts go
 * to, the run's commit (commit_int.h). */
int gc__pool_run(gc_engine *e, gc__commit *cm, const gc__proc *p, const gc_exec_opts *opts,
                 gc_result *results, gc_err *err);
void gc__pool_free(gc__pool *pool);
/* Start the pool's first `workers` workers now (engine lock held). */
int gc__pool_warm(gc_engine *e, uint32_t workers, gc_err *err);

/* The thread pool (tpool.c): wakes min(n, threads it could start) kept
 * threads, each calling fn(arg, slot) with its own slot 0..n-1, and returns
 * when every one has returned (the caller's thread calls fn(arg, 0) itself
 * when no thread can start). Caller holds e->lock. Free joins every thread
 * (e may be NULL: no stats to update). */
int gc__tpool_run(gc_engine *e, uint32_t n, void (*fn)(void *arg, int slot), void *arg,
                  gc_err *err);
void gc__tpool_free(gc_engine *e, gc__tpool *tp);

/* The worker loop (worker.c): serves tasks on sock until EOF; never returns. */
void gc__worker_main(const gc_engine *e, int sock, int slot, pid_t parent)
    __attribute__((noreturn));

/* Inside a pool worker: does the descriptor, or the mapping starting at
 * addr, belong to the zone generation the worker keeps (the live one, or the
 * one it releases after the current reply)? Always 0 outside a worker. */
int gc__worker_holds_fd(int fd);
/* Returns once no retired generation is still being released (census). */
void gc__worker_release_settle(void);
int gc__worker_holds_addr(uintptr_t addr);

/* census.c: is this a memfd? A descriptor's link (readlink of
 * /proc/self/fd/N) names one when it reads "/memfd:NAME (deleted)"; a line of
 * /proc/self/maps maps one when its path field reads so. A file whose path
 * merely contains "memfd:" is not one. */
int gc__link_is_memfd(const char *link);
int gc__maps_line_is_memfd(const char *line);

/* The engine's clock is the public one (measure.h). */
#define gc__now_ns gc_now_ns

/* The poll(2) timeout that wakes at deadline_ns (0: no deadline, -1 = wait
 * for an event); never negative for a deadline, however far away. */
int gc__poll_timeout_ms(uint64_t deadline_ns, uint64_t now_ns);

/* The descriptor a pool worker serves its channel on. */
#define GC_WORKER_CHANNEL_FD 3

#endif
