/* The commit path of one run (commit.c), shared line for line by thread mode
 * (exec.c) and process mode (pool.c): they differ only in how a finished
 * attempt's write set reaches gc__commit_finish (in the context itself, or
 * decoded from the worker's reply and adopted by the main process's copy of
 * the context).
 *
 *   gc__commit_begin   fixes the run's base (a copy of the state when the
 *                      contract can write), the configuration, retries
 *   gc__commit_ctx     the next attempt's context: the first from the base,
 *                      retries from the state as it is now (the one factory)
 *   gc__commit_finish  optimistic check, validation, install, deliveries;
 *                      records the attempt; says whether to run it again
 * Both take the commit's lock, so thread workers may call them directly. */
#ifndef GAPCHECK_COMMIT_INT_H
#define GAPCHECK_COMMIT_INT_H

#include <pthread.h>
#include <stdint.h>

#include "engine_int.h"
#include "wset_int.h"

struct gc__commit {
    gc_engine *e;
    gc_state *st;                 /* the live state commits go into */
    gc_state *base;               /* the run's base (NULL: st, nothing can change) */
    const gc_contract *contract;
    gc_config cfg;                /* the engine's, fixed for the run */
    uint32_t ntasks, retries;
    uint32_t *attempts;           /* per task */
    gc__outbox *outbox;           /* per task when the contract may send, else NULL */
    gc_history *hist;
    pthread_mutex_t lock;
};

int gc__commit_begin(gc__commit *cm, gc_engine *e, gc_state *st, const gc_contract *c,
                     const gc_exec_opts *opts, gc_err *err);
void gc__commit_end(gc__commit *cm);
int gc__commit_ctx(gc__commit *cm, uint32_t task, gc_ctx **out, gc_err *err);
/* The attempt of ctx was never run (its worker's channel failed): forget it. */
void gc__commit_unrun(gc__commit *cm, uint32_t task);
/* r holds the attempt's outcome as the worker reported it. Returns 1 when the
 * task must run again (a conflict with retries left), else 0 with r final. */
int gc__commit_finish(gc__commit *cm, gc_ctx *ctx, gc_result *r);

/* history.c: append one attempt (the lock is held). */
struct gc__hist_rec {
    const gc_ctx *ctx;
    uint32_t task;
    int outcome;
    uint64_t version;
    const gc_hist_delivery *deliveries;
    size_t n_deliveries;
    int lost;                     /* deliveries could not be listed (no memory) */
};
void gc__history_add(gc_history *h, const struct gc__hist_rec *rec);

#endif
