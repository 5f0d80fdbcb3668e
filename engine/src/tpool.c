/* The thread pool of thread mode: threads started on demand, kept across
 * runs, woken per run, joined when the engine is freed or its pools stopped.
 * It knows nothing of tasks: a run hands it one function that every woken
 * thread calls with its slot number (exec.c's loop over the run's tasks, the
 * one context factory and the one commit path), and returns when all of them
 * returned. Waking a kept thread is one semaphore post (a futex wake),
 * where a new thread per run cost a clone and a join on every call. Each
 * thread has its own semaphore, so a run of one task wakes one thread, not
 * the whole pool. The pool lives under the engine's lock (execute_parallel
 * holds it for the whole run), so one run at a time uses it. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "gapcheck/status.h"

typedef struct tslot {
    pthread_t tid;
    sem_t go;                     /* posted once per run this thread joins, and at quit */
    int index;
    struct gc__tpool *tp;
} tslot;

struct gc__tpool {
    sem_t done;                   /* posted by each thread when its part of a run is over */
    int quit;                     /* read by a thread after its go: set before posting */
    void (*fn)(void *arg, int slot);
    void *arg;
    uint32_t nthreads;
    tslot s[GC_WORKERS_MAX];
};

/* A semaphore wait that a signal does not cut short. */
static void sem_wait_all(sem_t *sem)
{
    while (sem_wait(sem) != 0)
        ;
}

static void *tslot_main(void *p)
{
    tslot *s = p;
    gc__tpool *tp = s->tp;
    for (;;) {
        sem_wait_all(&s->go);     /* the post orders tp->fn, arg and quit before us */
        if (tp->quit)
            break;
        tp->fn(tp->arg, s->index);
        sem_post(&tp->done);
    }
    return NULL;
}

static int tpool_new(gc__tpool **out, gc_err *err)
{
    gc__tpool *tp = calloc(1, sizeof *tp);
    if (!tp)
        return gc_err_set(err, GC_ENOMEM, "threads: out of memory for the thread pool");
    if (sem_init(&tp->done, 0, 0) != 0) {
        int e = errno;
        free(tp);
        errno = e;
        return gc_err_set(err, GC_ESYS, "threads: cannot create the thread pool: sem_init: %s",
                          strerror(e));
    }
    *out = tp;
    return GC_OK;
}

/* Start threads until there are n (or as many as the system gives). */
static void tpool_grow(gc_engine *e, gc__tpool *tp, uint32_t n)
{
    if (tp->nthreads >= n)
        return;                   /* warm: not even the two sigmask calls below */
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
        if (sem_init(&s->go, 0, 0) != 0)
            break;
        if (pthread_create(&s->tid, NULL, tslot_main, s) != 0) {
            sem_destroy(&s->go);
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
        int rc = tpool_new(&e->tpool, err);
        if (rc != GC_OK)
            return rc;
    }
    gc__tpool *tp = e->tpool;
    tpool_grow(e, tp, n);
    uint32_t use = tp->nthreads < n ? tp->nthreads : n;
    if (use == 0) {
        fn(arg, 0);               /* no thread could start: the caller's thread works */
        return GC_OK;
    }
    /* A semaphore per direction and no lock: a woken thread runs at once
     * instead of waking only to wait for a mutex its waker still holds. */
    tp->fn = fn;
    tp->arg = arg;
    for (uint32_t i = 0; i < use; i++)
        sem_post(&tp->s[i].go);
    for (uint32_t i = 0; i < use; i++)
        sem_wait_all(&tp->done);
    tp->fn = NULL;
    tp->arg = NULL;
    e->stats.thread_runs++;
    return GC_OK;
}

void gc__tpool_free(gc_engine *e, gc__tpool *tp)
{
    if (!tp)
        return;
    tp->quit = 1;
    for (uint32_t i = 0; i < tp->nthreads; i++)
        sem_post(&tp->s[i].go);
    for (uint32_t i = 0; i < tp->nthreads; i++) {
        pthread_join(tp->s[i].tid, NULL);
        sem_destroy(&tp->s[i].go);
        if (e)
            e->stats.threads_live--;
    }
    sem_destroy(&tp->done);
    free(tp);
}
