/* execute_parallel: validates a run, then hands it to thread workers (the
 * kept threads of tpool.c, running the task loop here) or to the process
 * pool (pool.c). Both build every task's context with the
 * one factory, gc_ctx_from_state: there is no second path that could forget
 * a zone. Thread workers share the main process's read-only mapping, so the
 * kernel's seals protect the zone from them as well; what a thread cannot do
 * is survive a crash or be killed at a deadline, so processes that would kill
 * the main process refuse to run in threads, and a late thread task is
 * reported as ETIMEOUT when it returns. A thread worker hands its finished
 * attempt to the run's commit (commit.c) itself; the commit's lock makes that
 * one commit at a time, the same path process mode takes. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit_int.h"
#include "engine_int.h"
#include "gapcheck/status.h"
#include "gapcheck/wire.h"

typedef struct thread_run {
    gc__commit *cm;
    const gc__proc *proc;
    const gc_exec_opts *opts;
    gc_result *results;
    atomic_uint next;
} thread_run;

static void thread_task(thread_run *run, int slot, uint32_t t)
{
    gc_result *r = &run->results[t];
    r->worker = slot;
    uint64_t t0 = gc__now_ns();
    for (int again = 1; again;) {
        gc_ctx *ctx = NULL;
        gc_err err;
        gc_err_clear(&err);
        uint64_t ta = gc__now_ns();
        int rc = gc__commit_ctx(run->cm, t, &ctx, &err);
        if (rc != GC_OK) {
            r->status = rc;
            snprintf(r->text, sizeof r->text, "%s", err.msg);
            break;
        }
        r->pid = (int)getpid();   /* a worker (this process's thread) got the task */
        if (run->opts->timeout_ms)
            gc_wire_set_deadline(ctx, ta + (uint64_t)run->opts->timeout_ms * 1000000ull);
        gc__run_process(run->proc, ctx, r);
        again = gc__commit_finish(run->cm, ctx, r);
        gc_ctx_free(ctx);
    }
    r->wall_ns = gc__now_ns() - t0;
}

/* What every woken thread of the pool runs: tasks until none is left. */
static void thread_work(void *arg, int slot)
{
    thread_run *run = arg;
    for (;;) {
        unsigned t = atomic_fetch_add(&run->next, 1u);
        if (t >= run->opts->tasks)
            break;
        thread_task(run, slot, t);
    }
}

static int run_threads(gc_engine *e, gc__commit *cm, const gc__proc *p, const gc_exec_opts *opts,
                       gc_result *results, gc_err *err)
{
    thread_run run = {.cm = cm, .proc = p, .opts = opts, .results = results};
    atomic_init(&run.next, 0u);
    uint32_t n = opts->workers < opts->tasks ? opts->workers : opts->tasks;
    return gc__tpool_run(e, n, thread_work, &run, err);
}

static int check_opts(const gc_exec_opts *o, gc_err *err)
{
    if (!o)
        return gc_err_set(err, GC_EINVAL, "execute_parallel: no options");
    if (!o->process)
        return gc_err_set(err, GC_EINVAL, "execute_parallel: no process named");
    if (o->mode != GC_MODE_THREAD && o->mode != GC_MODE_PROCESS)
        return gc_err_set(err, GC_EINVAL, "execute_parallel: mode %d is neither thread nor process",
                          (int)o->mode);
    if (o->workers < 1 || o->workers > GC_WORKERS_MAX)
        return gc_err_set(err, GC_EINVAL, "execute_parallel: workers = %u (allowed 1..%d)",
                          o->workers, GC_WORKERS_MAX);
    if (o->tasks < 1 || o->tasks > GC_TASKS_MAX)
        return gc_err_set(err, GC_EINVAL, "execute_parallel: tasks = %u (allowed 1..%u)", o->tasks,
                          GC_TASKS_MAX);
    if (o->retries > GC_RETRIES_MAX)
        return gc_err_set(err, GC_EINVAL, "execute_parallel: retries = %u (allowed 0..%u)",
                          o->retries, GC_RETRIES_MAX);
    return GC_OK;
}

int gc_execute_parallel(gc_engine *e, gc_state *st, const gc_exec_opts *opts,
                        gc_result *results, gc_err *err)
{
    if (!e || !st || !results)
        return gc_err_set(err, GC_EINVAL, "execute_parallel: engine, state and results are required");
    int rc = check_opts(opts, err);
    if (rc != GC_OK)
        return rc;
    pthread_mutex_lock(&e->lock);
    const gc__proc *p = gc__engine_find(e, opts->process);
    if (!p) {
        rc = gc_err_set(err, GC_ENOTFOUND, "execute_parallel: no process named '%s' is registered",
                        opts->process);
        goto out;
    }
    const gc_contract *c = opts->contract ? opts->contract : &p->contract;
    if (c->outbox && !e->outbox) {
        /* Fail before any worker runs, never drop messages (INC-002). */
        rc = gc_err_set(err, GC_EINVAL, "execute_parallel: the contract of '%s' may send outbox "
                        "messages but the engine has no outbox sink (gc_engine_set_outbox)",
                        opts->process);
        goto out;
    }
    memset(results, 0, (size_t)opts->tasks * sizeof *results);
    for (uint32_t t = 0; t < opts->tasks; t++) {
        results[t].task = t;
        results[t].worker = -1;
    }
    gc__commit cm;
    rc = gc__commit_begin(&cm, e, st, c, opts, err);
    if (rc != GC_OK)
        goto out;
    if (opts->mode == GC_MODE_THREAD)
        rc = run_threads(e, &cm, p, opts, results, err);
    else
        rc = gc__pool_run(e, &cm, p, opts, results, err);
    gc__commit_end(&cm);
out:
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* Every worker a run of `workers` would use is started here, before any
 * timing: a warm-up with fewer tasks than workers leaves the rest to start
 * inside the timed run (INC-025). The pool's workers_started counter lets a
 * caller prove that the timed run started none. */
int gc_engine_warm(gc_engine *e, uint32_t workers, gc_err *err)
{
    if (!e)
        return gc_err_set(err, GC_EINVAL, "gc_engine_warm: engine is NULL");
    if (workers < 1 || workers > GC_WORKERS_MAX)
        return gc_err_set(err, GC_EINVAL, "gc_engine_warm: workers = %u (allowed 1..%d)", workers,
                          GC_WORKERS_MAX);
    pthread_mutex_lock(&e->lock);
    int rc = gc__pool_warm(e, workers, err);
    pthread_mutex_unlock(&e->lock);
    return rc;
}
