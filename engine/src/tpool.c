/* The thread pool of thread mode: threads started on demand, kept across
 * runs, woken per run, joined when the engine is freed or its pools stopped.
 * It knows nothing of tasks: a run hands it one function that every woken
 * thread calls with its slot number (exec.c's loop over the run's tasks, the
 * one context factory and the one commit path), and returns when all of them
 * returned. Waking a kept thread is one condition-variable signal, where a
 * new thread per run cost a clone and a join on every call. Each thread has
 * its own condition variable, so a run of one task wakes one thread, not
 * the whole pool. The pool lives under the engine's lock (execute_parallel
 * holds it for the whole run), so one run at a time uses it. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "engine_int.h"
#include "gapcheck/status.h"

typedef struct tslot {
    pthread_t tid;
    pthread_cond_t wake;          /* signalled when seq moves or the pool quits */
    uint64_t seq;                 /* runs handed to this thread */
    int index;
    struct gc__tpool *tp;
} tslot;

struct gc__tpool {
    pthread_mutex_t mu;           /* guards everything below */
    pthread_cond_t done;          /* signalled when pending reaches 0 */
    uint32_t pending;             /* threads of the current run still working */
    int quit;
    void (*fn)(void *arg, int slot);
    void *arg;
    uint32_t nthreads;
    tslot s[GC_WORKERS_MAX];
};

static void *tslot_main(void *p)
{
    tslot *s = p;
    gc__tpool *tp = s->tp;
    uint64_t seen = 0;            /* seq starts at 0; a run may bump it before we get here */
    pthread_mutex_lock(&tp->mu);
    for (;;) {
        while (s->seq == seen && !tp->quit)
            pthread_cond_wait(&s->wake, &tp->mu);
        if (tp->quit)
            break;
        seen = s->seq;
        void (*fn)(void *, int) = tp->fn;
        void *arg = tp->arg;
        pthread_mutex_unlock(&tp->mu);
        fn(arg, s->index);
        pthread_mutex_lock(&tp->mu);
        if (--tp->pending == 0)
            pthread_cond_signal(&tp->done);
    }
    pthread_mutex_unlock(&tp->mu);
    return NULL;
}

static int tpool_new(gc__tpool **out)
{
    gc__tpool *tp = calloc(1, sizeof *tp);
    if (!tp)
        return GC_ENOMEM;
    if (pthread_mutex_init(&tp->mu, NULL) != 0) {
        free(tp);
        return GC_ESYS;
    }
    if (pthread_cond_init(&tp->done, NULL) != 0) {
        pthread_mutex_destroy(&tp->mu);
        free(tp);
        return GC_ESYS;
    }
    *out = tp;
    return GC_OK;
}

/* Start threads until there are n (or as many as the system gives). */
static void tpool_grow(gc_engine *e, gc__tpool *tp, uint32_t n)
{
    /* Kept threads outlive the caller that started them, so they must not
     * inherit its signal mask by accident: they take no asynchronous signal
     * (those belong to the application's own threads). Synchronous ones
     * (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) stay open, so a
     * fault in a task reaches the process's handlers (sanitizers) as it
     * would in the caller's thread. */
    sigset_t all, old;
    sigfillset(&all);
    static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof sync_sigs / sizeof sync_sigs[0]; i++)
        sigdelset(&all, sync_sigs[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (tp->nthreads < n) {
        tslot *s = &tp->s[tp->nthreads];
        *s = (tslot){.index = (int)tp->nthreads, .tp = tp};
        if (pthread_cond_init(&s->wake, NULL) != 0)
            break;
        if (pthread_create(&s->tid, NULL, tslot_main, s) != 0) {
            pthread_cond_destroy(&s->wake);
            break;
        }
        tp->nthreads++;
        e->stats.threads_started++;
        e->stats.threads_live++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int gc__tpool_run(gc_engine *e, uint32_t n, void (*fn)(void *arg, int slot), void *arg,
                  gc_err *err)
{
    if (!e->tpool) {
        int rc = tpool_new(&e->tpool);
        if (rc != GC_OK)
            return gc_err_set(err, rc, "threads: cannot create the thread pool");
    }
    gc__tpool *tp = e->tpool;
    tpool_grow(e, tp, n);
    uint32_t use = tp->nthreads < n ? tp->nthreads : n;
    if (use == 0) {
        fn(arg, 0);               /* no thread could start: the caller's thread works */
        return GC_OK;
    }
    pthread_mutex_lock(&tp->mu);
    tp->fn = fn;
    tp->arg = arg;
    tp->pending = use;
    for (uint32_t i = 0; i < use; i++) {
        tp->s[i].seq++;
        pthread_cond_signal(&tp->s[i].wake);
    }
    while (tp->pending > 0)
        pthread_cond_wait(&tp->done, &tp->mu);
    tp->fn = NULL;
    tp->arg = NULL;
    pthread_mutex_unlock(&tp->mu);
    e->stats.thread_runs++;
    return GC_OK;
}

void gc__tpool_free(gc_engine *e, gc__tpool *tp)
{
    if (!tp)
        return;
    pthread_mutex_lock(&tp->mu);
    tp->quit = 1;
    for (uint32_t i = 0; i < tp->nthreads; i++)
        pthread_cond_signal(&tp->s[i].wake);
    pthread_mutex_unlock(&tp->mu);
    for (uint32_t i = 0; i < tp->nthreads; i++) {
        pthread_join(tp->s[i].tid, NULL);
        pthread_cond_destroy(&tp->s[i].wake);
        if (e)
            e->stats.threads_live--;
    }
    pthread_cond_destroy(&tp->done);
    pthread_mutex_destroy(&tp->mu);
    free(tp);
}
