/* The fault injector behind the anomaly tests: the --wrap targets for every
 * allocation and system call the engine depends on, the plan that decides
 * which call fails, a heap census of the blocks the wrappers handed out, and
 * the shared record of injected failures (call sites and outcomes) that the
 * test binary writes out at the end. See fault.h for the why. */
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The engine's objects reach the wrappers below through a relocatable link
 * with --wrap (engine/engine.mk); this file is linked without it, so the
 * plain names here are the real calls. */

extern char __executable_start;

static const char *const call_names[GCF_NCALLS] = {
    "malloc", "calloc", "realloc", "strdup", "memfd_create", "ftruncate", "fcntl", "mmap",
    "mprotect", "madvise", "socketpair", "fork", "sendmsg", "recvmsg", "send", "recv", "pread",
    "read", "poll", "close_range", "fstat", "dup2", "pthread_create",
};

const char *gcf_call_name(gcf_call c)
{
    return c < GCF_NCALLS ? call_names[c] : "?";
}

/* ---- shared record ------------------------------------------------------- */

#define SITES_MAX 1024
#define OUTCOMES_MAX 2048

struct site {
    _Atomic uint64_t key;        /* offset << 8 | call, 0 = free */
    _Atomic uint32_t count;
};

struct outcome {
    char op[48], point[32], outcome[24];
    uint32_t count;
};

struct shared {
    _Atomic int armed;           /* one switch for the test process and its workers */
    _Atomic uint32_t fired;
    atomic_flag lock;            /* outcomes table (test processes run one at a time) */
    struct site sites[SITES_MAX];
    size_t n_outcomes;
    struct outcome outcomes[OUTCOMES_MAX];
};

static struct shared *shared;

void gcf_init(void)
{
    void *p = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("fault: shared record");
        abort();
    }
    shared = p;
}

static void site_record(gcf_call c, const void *ret)
{
    if (!shared)
        return;
    uint64_t off = (uint64_t)((uintptr_t)ret - (uintptr_t)&__executable_start);
    uint64_t key = off << 8 | (uint64_t)c;
    for (size_t i = 0; i < SITES_MAX; i++) {
        struct site *s = &shared->sites[(key + i) % SITES_MAX];
        uint64_t cur = atomic_load(&s->key);
        if (cur == 0 && atomic_compare_exchange_strong(&s->key, &cur, key))
            cur = key;
        if (cur == key) {
            atomic_fetch_add(&s->count, 1);
            return;
        }
    }
}

size_t gcf_sites_write(FILE *f)
{
    size_t n = 0;
    for (size_t i = 0; shared && i < SITES_MAX; i++) {
        uint64_t key = atomic_load(&shared->sites[i].key);
        if (!key)
            continue;
        fprintf(f, "%s 0x%llx %u\n", call_names[key & 0xFF], (unsigned long long)(key >> 8),
                atomic_load(&shared->sites[i].count));
        n++;
    }
    return n;
}

void gcf_outcome(const char *op, const char *point, const char *outcome)
{
    if (!shared)
        return;
    while (atomic_flag_test_and_set(&shared->lock))
        ;
    size_t i;
    for (i = 0; i < shared->n_outcomes; i++) {
        struct outcome *o = &shared->outcomes[i];
        if (!strcmp(o->op, op) && !strcmp(o->point, point) && !strcmp(o->outcome, outcome))
            break;
    }
    if (i == shared->n_outcomes && i < OUTCOMES_MAX) {
        struct outcome *o = &shared->outcomes[i];
        snprintf(o->op, sizeof o->op, "%s", op);
        snprintf(o->point, sizeof o->point, "%s", point);
        snprintf(o->outcome, sizeof o->outcome, "%s", outcome);
        shared->n_outcomes++;
    }
    if (i < OUTCOMES_MAX)
        shared->outcomes[i].count++;
    atomic_flag_clear(&shared->lock);
}

size_t gcf_outcomes_write(FILE *f)
{
    size_t n = shared ? shared->n_outcomes : 0;
    for (size_t i = 0; i < n; i++) {
        const struct outcome *o = &shared->outcomes[i];
        fprintf(f, "%s %s %s %u\n", o->op, o->point, o->outcome, o->count);
    }
    return n;
}

/* ---- the plan -------------------------------------------------------------- */

static gcf_plan plan;
static _Atomic int armed_local;
/* The switch lives in the shared record once gcf_init ran, so that disarming
 * in the test process also stops the plan its forked workers inherited. */
#define ARMED (shared ? &shared->armed : &armed_local)
static pid_t armed_pid;
static _Atomic uint32_t counted;             /* calls in the mask, this process */
static _Atomic uint32_t fired_here;          /* failures injected by this process */
static _Atomic uint32_t seen[GCF_NCALLS];

static void counters_reset(void)
{
    atomic_store(&counted, 0);
    atomic_store(&fired_here, 0);
    for (int i = 0; i < GCF_NCALLS; i++)
        atomic_store(&seen[i], 0);
}

void gcf_arm(const gcf_plan *p)
{
    atomic_store(ARMED, 0);
    plan = *p;
    if (plan.nth == 0)
        plan.nth = 1;
    if (plan.times == 0)
        plan.times = 1;
    armed_pid = getpid();
    counters_reset();
    if (shared)
        atomic_store(&shared->fired, 0);
    atomic_store(ARMED, 1);
}

void gcf_disarm(void)
{
    atomic_store(ARMED, 0);
}

uint32_t gcf_fired(void)
{
    return shared ? atomic_load(&shared->fired) : atomic_load(&fired_here);
}

uint32_t gcf_seen(gcf_call c)
{
    return c < GCF_NCALLS ? atomic_load(&seen[c]) : 0;
}

/* Decide whether this call fails; sets errno when it does. */
static int should_fail(gcf_call c, const void *ret)
{
    if (!atomic_load(ARMED) || !(plan.calls & GCF_BIT(c)))
        return 0;
    int here = getpid() == armed_pid;
    if ((plan.scope == GCF_HERE && !here) || (plan.scope == GCF_CHILD && here))
        return 0;
    atomic_fetch_add(&seen[c], 1);
    uint32_t k = atomic_fetch_add(&counted, 1) + 1;
    if (k < plan.nth)
        return 0;
    uint32_t d = k - plan.nth;
    if (plan.every) {
        if (d % plan.every || d / plan.every >= plan.times)
            return 0;
    } else if (d >= plan.times) {
        return 0;
    }
    site_record(c, ret);
    if (shared)
        atomic_fetch_add(&shared->fired, 1);
    if (atomic_fetch_add(&fired_here, 1) + 1 >= GCF_SPIN_LIMIT) {
        static const char msg[] = "fault: spin: a failing call was retried too often\n";
        (void)!write(2, msg, sizeof msg - 1);
        abort();
    }
    int e = plan.err;
    if (e == 0)
        e = c <= GCF_STRDUP ? ENOMEM : EIO;
    errno = e;
    return 1;
}

#define RET() __builtin_extract_return_addr(__builtin_return_address(0))

/* ---- heap census ------------------------------------------------------------ */

#define HEAP_SLOTS (1u << 16)
#define TOMB ((void *)1)

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static void *heap_table[HEAP_SLOTS];
static long heap_live;
static int heap_on, heap_overflow;
static pid_t heap_pid;

static size_t slot_of(const void *p)
{
    uintptr_t v = (uintptr_t)p >> 4;
    return (size_t)((v * 0x9E3779B97F4A7C15ull) >> 48) & (HEAP_SLOTS - 1);
}

static void heap_add(void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&heap_lock);
    if (heap_on && getpid() == heap_pid) {
        size_t i = slot_of(p), k;
        for (k = 0; k < HEAP_SLOTS; k++, i = (i + 1) & (HEAP_SLOTS - 1))
            if (heap_table[i] == NULL || heap_table[i] == TOMB) {
                heap_table[i] = p;
                heap_live++;
                break;
            }
        if (k == HEAP_SLOTS)
            heap_overflow = 1;
    }
    pthread_mutex_unlock(&heap_lock);
}

static int heap_remove(void *p)
{
    int found = 0;
    if (!p)
        return 0;
    pthread_mutex_lock(&heap_lock);
    if (heap_on && getpid() == heap_pid) {
        size_t i = slot_of(p);
        for (size_t k = 0; k < HEAP_SLOTS && heap_table[i]; k++, i = (i + 1) & (HEAP_SLOTS - 1))
            if (heap_table[i] == p) {
                heap_table[i] = TOMB;
                heap_live--;
                found = 1;
                break;
            }
    }
    pthread_mutex_unlock(&heap_lock);
    return found;
}

void gcf_heap_begin(void)
{
    pthread_mutex_lock(&heap_lock);
    memset(heap_table, 0, sizeof heap_table);
    heap_live = 0;
    heap_overflow = 0;
    heap_pid = getpid();
    heap_on = 1;
    pthread_mutex_unlock(&heap_lock);
}

long gcf_heap_live(void)
{
    pthread_mutex_lock(&heap_lock);
    long n = heap_overflow ? -1 : heap_live;
    pthread_mutex_unlock(&heap_lock);
    return n;
}

void gcf_heap_end(void)
{
    pthread_mutex_lock(&heap_lock);
    heap_on = 0;
    pthread_mutex_unlock(&heap_lock);
}

/* ---- allocation wrappers ------------------------------------------------------ */

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

void *__wrap_malloc(size_t n)
{
    if (should_fail(GCF_MALLOC, RET()))
        return NULL;
    void *p = malloc(n);
    heap_add(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (should_fail(GCF_CALLOC, RET()))
        return NULL;
    void *p = calloc(n, size);
    heap_add(p);
    return p;
}

void *__wrap_realloc(void *old, size_t n)
{
    if (should_fail(GCF_REALLOC, RET()))
        return NULL;
    int tracked = heap_remove(old);
    void *p = realloc(old, n);
    if (p)
        heap_add(p);
    else if (tracked)
        heap_add(old);                /* still the caller's block */
    return p;
}

char *__wrap_strdup(const char *s)
{
    if (should_fail(GCF_STRDUP, RET()))
        return NULL;
    char *p = strdup(s);
    heap_add(p);
    return p;
}

void __wrap_free(void *p)
{
    heap_remove(p);
    free(p);
}

/* ---- system-call wrappers ------------------------------------------------------- */

int __wrap_memfd_create(const char *name, unsigned flags);
int __wrap_ftruncate(int fd, off_t len);
int __wrap_fcntl(int fd, int cmd, ...);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_mprotect(void *addr, size_t len, int prot);
int __wrap_madvise(void *addr, size_t len, int advice);
int __wrap_socketpair(int domain, int type, int proto, int sv[2]);
pid_t __wrap_fork(void);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *m, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_read(int fd, void *buf, size_t n);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_close_range(unsigned first, unsigned last, int flags);
int __wrap_fstat(int fd, struct stat *sb);
int __wrap_dup2(int from, int to);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

int __wrap_memfd_create(const char *name, unsigned flags)
{
    return should_fail(GCF_MEMFD_CREATE, RET()) ? -1 : memfd_create(name, flags);
}

int __wrap_ftruncate(int fd, off_t len)
{
    return should_fail(GCF_FTRUNCATE, RET()) ? -1 : ftruncate(fd, len);
}

int __wrap_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);   /* every command the engine uses takes an int or none */
    va_end(ap);
    return should_fail(GCF_FCNTL, RET()) ? -1 : fcntl(fd, cmd, arg);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return should_fail(GCF_MMAP, RET()) ? MAP_FAILED : mmap(addr, len, prot, flags, fd, off);
}

int __wrap_mprotect(void *addr, size_t len, int prot)
{
    return should_fail(GCF_MPROTECT, RET()) ? -1 : mprotect(addr, len, prot);
}

int __wrap_madvise(void *addr, size_t len, int advice)
{
    return should_fail(GCF_MADVISE, RET()) ? -1 : madvise(addr, len, advice);
}

int __wrap_socketpair(int domain, int type, int proto, int sv[2])
{
    return should_fail(GCF_SOCKETPAIR, RET()) ? -1 : socketpair(domain, type, proto, sv);
}

/* The heap lock is held across fork so that a child never inherits it taken;
 * a child counts its own calls from zero (GCF_CHILD plans). */
pid_t __wrap_fork(void)
{
    if (should_fail(GCF_FORK, RET()))
        return -1;
    pthread_mutex_lock(&heap_lock);
    pid_t pid = fork();
    pthread_mutex_unlock(&heap_lock);
    if (pid == 0)
        counters_reset();
    return pid;
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags)
{
    return should_fail(GCF_SENDMSG, RET()) ? -1 : sendmsg(fd, m, flags);
}

ssize_t __wrap_recvmsg(int fd, struct msghdr *m, int flags)
{
    return should_fail(GCF_RECVMSG, RET()) ? -1 : recvmsg(fd, m, flags);
}

ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags)
{
    return should_fail(GCF_SEND, RET()) ? -1 : send(fd, buf, n, flags);
}

ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags)
{
    return should_fail(GCF_RECV, RET()) ? -1 : recv(fd, buf, n, flags);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    return should_fail(GCF_PREAD, RET()) ? -1 : pread(fd, buf, n, off);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    return should_fail(GCF_READ, RET()) ? -1 : read(fd, buf, n);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    return should_fail(GCF_POLL, RET()) ? -1 : poll(fds, n, timeout);
}

int __wrap_close_range(unsigned first, unsigned last, int flags)
{
    return should_fail(GCF_CLOSE_RANGE, RET()) ? -1 : close_range(first, last, flags);
}

int __wrap_fstat(int fd, struct stat *sb)
{
    return should_fail(GCF_FSTAT, RET()) ? -1 : fstat(fd, sb);
}

int __wrap_dup2(int from, int to)
{
    return should_fail(GCF_DUP2, RET()) ? -1 : dup2(from, to);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (should_fail(GCF_PTHREAD_CREATE, RET()))
        return errno;
    return pthread_create(t, a, fn, arg);
}
