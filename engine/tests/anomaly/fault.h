/* Fault injection for the anomaly tests (test-only; never in libgapcheck).
 *
 * Fails the Nth allocation or system call the engine makes, SQLite-style:
 * a plan names which calls count (a mask), the first one to fail (nth), how
 * many fail from there (times, or every k-th call), the errno to set, and in
 * which processes it applies.
 *
 * How: link-time wrapping. engine/engine.mk relinks the engine's objects
 * into one relocatable object with `ld -r --wrap=NAME` for every call below,
 * so the engine's own call sites reach __wrap_NAME here, which fails the
 * call or makes the real one. Why this and not an LD_PRELOAD shim: only the
 * engine's calls are renamed, never those of the test code, Check (whose
 * allocator exits on failure) or glibc's internals (an interposed malloc
 * also fails fopen's and pthread_create's); it works unchanged under ASan
 * and Valgrind, which replace malloc underneath the wrapper; it needs no
 * dlsym at run time; and the installed library is built without it. The
 * wrapper's return address names the call site (record.py maps it to a
 * file and line).
 *
 * Forked workers: pool workers are forked from the test process and inherit
 * the armed plan with its counters. A plan's scope says where it applies:
 * GCF_HERE only in the process that armed it (a worker never fails because
 * of a plan meant for the dispatcher), GCF_CHILD only in processes forked
 * after arming, each counting its calls from its own fork (so "the 2nd
 * allocation" means the same call in every replacement worker). The on/off
 * switch is shared: gcf_disarm in the test process also disarms the workers
 * it forked, so a normal run afterwards meets no injected failure. Failures and
 * their call sites are recorded in a shared anonymous mapping created by
 * gcf_init before Check forks, so the dispatcher's, the workers' and every
 * test process's failures all reach the final count.
 *
 * Spins: every failure is counted; when one process has injected
 * GCF_SPIN_LIMIT failures under one plan it aborts with "fault: spin", so a loop that retries a
 * failing call forever is a test failure, not a hang. */
#ifndef GC_FAULT_H
#define GC_FAULT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum gcf_call {
    GCF_MALLOC, GCF_CALLOC, GCF_REALLOC, GCF_STRDUP,
    GCF_MEMFD_CREATE, GCF_FTRUNCATE, GCF_FCNTL, GCF_MMAP, GCF_MPROTECT, GCF_MADVISE,
    GCF_SOCKETPAIR, GCF_FORK, GCF_SENDMSG, GCF_RECVMSG, GCF_SEND, GCF_RECV,
    GCF_PREAD, GCF_READ, GCF_POLL, GCF_CLOSE_RANGE, GCF_FSTAT, GCF_DUP2,
    GCF_PTHREAD_CREATE,
    GCF_NCALLS
} gcf_call;

#define GCF_BIT(c) (1u << (c))
#define GCF_ALLOC (GCF_BIT(GCF_MALLOC) | GCF_BIT(GCF_CALLOC) | GCF_BIT(GCF_REALLOC) | \
                   GCF_BIT(GCF_STRDUP))
#define GCF_FOREVER UINT32_MAX
#define GCF_SPIN_LIMIT 10000u

typedef enum gcf_scope { GCF_HERE = 1, GCF_CHILD = 2 } gcf_scope;

typedef struct gcf_plan {
    uint32_t calls;      /* mask of GCF_BIT(call) that count */
    uint32_t nth;        /* first counted call to fail, 1-based */
    uint32_t times;      /* failures from nth on (1 = once, GCF_FOREVER = all) */
    uint32_t every;      /* 0, or fail every `every`-th call from nth on (2 with
                          * nth 1: each call fails once and its retry passes) */
    int err;             /* errno set by a failed call (0: ENOMEM for allocations,
                          * EIO for the rest); pthread_create returns it */
    gcf_scope scope;
} gcf_plan;

/* Create the shared record; call once in main, before any test forks. */
void gcf_init(void);
void gcf_arm(const gcf_plan *p);
void gcf_disarm(void);
/* Failures injected since the last gcf_arm, in this process and its children. */
uint32_t gcf_fired(void);
/* Counted calls of one kind seen by this process since the last gcf_arm. */
uint32_t gcf_seen(gcf_call c);
const char *gcf_call_name(gcf_call c);

/* Heap census of this process: blocks allocated through the wrappers since
 * gcf_heap_begin and not freed yet. */
void gcf_heap_begin(void);
long gcf_heap_live(void);
void gcf_heap_end(void);

/* Every call site that failed, with its count: "call offset count" lines,
 * the offset relative to __executable_start (scripts/anomaly-sites.py turns
 * it into file:line). Returns the number of distinct sites. */
size_t gcf_sites_write(FILE *f);
/* Record one operation's outcome for the counts (op x point x outcome). */
void gcf_outcome(const char *op, const char *point, const char *outcome);
size_t gcf_outcomes_write(FILE *f);

#endif
