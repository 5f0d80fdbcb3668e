/* The engine's benchmark: how long a heavy zone takes to reach a worker
 * (handoff), how fast a worker reads it, and what a copy through a pipe would
 * cost instead. All figures come from one run on this machine, as medians and
 * minimums over repeats, so that ratios between them are meaningful even on a
 * noisy shared host.
 *
 * Every handoff is also given as a multiple of its floor, measured in the
 * same run and interleaved sample by sample with the handoffs it divides:
 * for process mode a bare SOCK_SEQPACKET round trip between two processes
 * (300 bytes out, 64 back: what a task and its reply weigh), for thread mode
 * a wake-up round trip between two threads over a semaphore each way (a
 * futex wake and wait each way: what the thread pool does per run).
 *
 * "Warm" handoffs repeat a zone the worker already maps (sizes taking turns
 * in rotated passes). "Fresh" ones hand a
 * new generation: each round fills and publishes one zone of every size
 * first, then times the sizes in a rotated order, each in both modes, and
 * right before every timed fresh handoff evicts the caches the same way
 * (writing a buffer larger than the last-level cache), so that a 1 GiB and a
 * 1 MiB handoff start from the same cache state; after each round, an
 * untimed handoff of a small zone makes the worker release the round's last
 * zone before the next round's timed handoffs. The eviction and the pause
 * before a handoff cost by themselves (a warm handoff after them took 132 us
 * against 34 us back to back, process mode, load 12), so each round also
 * times, after the same eviction and pause, a warm handoff and a floor
 * sample: a fresh handoff is judged against those. The 100 MiB fresh
 * process handoff is also taken hot (back to back, as issue 2 measured the
 * floors its 200 us target came from). Warm-up is proven, not
 * assumed: the engine's counters must show no worker process and no thread
 * started inside any timed window, or the bench fails.
 *
 * Zero-copy against a copy: a warm worker's handoff plus its full read of
 * 100 MiB, against the same bytes through a pipe into a child. The fair
 * pipe figure gives the child what the worker has: a buffer already faulted
 * in, and a full read of what arrived; the first pipe figure (kept: other
 * tools read it) times a child's page faults and no read.
 *
 * The commit figures: commits per second for N tasks incrementing one key
 * (every commit conflicts the rest: retries) and N tasks writing disjoint
 * keys from one base (no conflict may happen: the bench fails if one does),
 * and what a write set of 1 or 64 keys adds to a process-mode task (the
 * reply's bytes and their decoding), against a task that writes nothing. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "gapcheck/gapcheck.h"

#define MiB (1024ull * 1024ull)


typedef struct stat_ns {
    double median, min;
    int n;
} stat_ns;

/* The median and minimum of n nanosecond figures (gc_median sorts its copy). */
static stat_ns summarize(const uint64_t *v, int n)
{
    stat_ns s = {.n = n};
    double *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    if (!d)
        return s;
    for (int i = 0; i < n; i++)
        d[i] = (double)v[i];
    s.median = gc_median(d, (size_t)n);
    s.min = n > 0 ? d[0] : 0;
    free(d);
    return s;
}

__attribute__((noreturn)) static void die(const char *what, const gc_err *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err ? err->msg : strerror(errno));
    exit(1);
}

/* A fresh state whose zone holds one input entry "data" of len bytes. */
static gc_state *make_state(uint64_t len)
{
    gc_err err;
    gc_state *st;
    gc_zone *z;
    void *p;
    size_t n;
    if (gc_state_new(&st, &err) || gc_zone_new(&z, &err) ||
        gc_zone_declare(z, "data", len, 0, &err) || gc_zone_allocate(z, &err) ||
        gc_zone_fill(z, "data", &p, &n, &err))
        die("building a zone", &err);
    gc_pattern pat = {GC_PATTERN_RANDOM, 1};
    gc_pattern_fill(&pat, p, n, 0);
    if (gc_zone_publish(z, &err) || gc_state_set_heavy(st, z, &err))
        die("publishing a zone", &err);
    return st;
}

static const char *const data_name[] = {"data"};
static const gc_contract data_contract = {.heavy_reads = data_name, .n_heavy_reads = 1};

/* One call of execute_parallel with a single task; returns its duration as
 * the caller sees it and the task's result. */
static uint64_t run_one(gc_engine *e, gc_state *st, const char *proc, gc_mode mode,
                        gc_result *r)
{
    gc_exec_opts o = {.process = proc, .mode = mode, .workers = 1, .tasks = 1,
                      .contract = &data_contract};
    gc_err err;
    uint64_t t0 = gc_now_ns();
    if (gc_execute_parallel(e, st, &o, r, &err) != GC_OK)
        die("execute_parallel", &err);
    uint64_t t1 = gc_now_ns();
    if (r->status != GC_OK) {
        fprintf(stderr, "bench: task failed: %s %s\n", gc_status_name(r->status), r->text);
        exit(1);
    }
    return t1 - t0;
}

/* ---- floors ------------------------------------------------------------------ */

/* The process floor: a child that answers every datagram of up to 512 bytes
 * with 64 bytes, over the kind of channel the pool uses. */
typedef struct proc_peer {
    pid_t pid;
    int sock;
} proc_peer;

static proc_peer proc_peer_start(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair", NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", NULL);
    if (pid == 0) {
        close(sv[0]);
        uint8_t in[512], out[64];
        memset(out, 0x2A, sizeof out);
        while (recv(sv[1], in, sizeof in, 0) > 0)
            if (send(sv[1], out, sizeof out, MSG_NOSIGNAL) != (ssize_t)sizeof out)
                break;
        _exit(0);
    }
    close(sv[1]);
    return (proc_peer){.pid = pid, .sock = sv[0]};
}

static uint64_t proc_floor_once(proc_peer *p)
{
    uint8_t out[300], in[512];
    memset(out, 0x55, sizeof out);
    uint64_t t0 = gc_now_ns();
    if (send(p->sock, out, sizeof out, MSG_NOSIGNAL) != (ssize_t)sizeof out ||
        recv(p->sock, in, sizeof in, 0) != 64)
        die("floor round trip", NULL);
    return gc_now_ns() - t0;
}

static void proc_peer_stop(proc_peer *p)
{
    close(p->sock);
    int ws;
    waitpid(p->pid, &ws, 0);
}

/* The thread floor: one wake-up round trip to a waiting thread and back,
 * with a semaphore each way (a futex wake and wait each way), the mechanism
 * the thread pool uses per run. */
typedef struct thread_peer {
    sem_t to_peer, to_main;
    int quit;
    pthread_t tid;
} thread_peer;

static void *thread_peer_main(void *arg)
{
    thread_peer *p = arg;
    for (;;) {
        while (sem_wait(&p->to_peer) != 0)
            ;
        if (p->quit)
            break;
        sem_post(&p->to_main);
    }
    return NULL;
}

static void thread_peer_start(thread_peer *p)
{
    memset(p, 0, sizeof *p);
    if (sem_init(&p->to_peer, 0, 0) != 0 || sem_init(&p->to_main, 0, 0) != 0 ||
        pthread_create(&p->tid, NULL, thread_peer_main, p) != 0)
        die("thread floor", NULL);
}

static uint64_t thread_floor_once(thread_peer *p)
{
    uint64_t t0 = gc_now_ns();
    sem_post(&p->to_peer);
    while (sem_wait(&p->to_main) != 0)
        ;
    return gc_now_ns() - t0;
}

static void thread_peer_stop(thread_peer *p)
{
    p->quit = 1;
    sem_post(&p->to_peer);
    pthread_join(p->tid, NULL);
    sem_destroy(&p->to_peer);
    sem_destroy(&p->to_main);
}

typedef struct floors {
    proc_peer proc;
    thread_peer thread;
    uint64_t *samples[2];         /* [0] process, [1] thread: every sample taken */
    int n[2], cap;
} floors;

static int mode_ix(gc_mode m)
{
    return m == GC_MODE_THREAD;
}

/* One floor sample of the mode, kept for the run's floor median. */
static uint64_t floor_once(floors *f, gc_mode m)
{
    int i = mode_ix(m);
    uint64_t v = i ? thread_floor_once(&f->thread) : proc_floor_once(&f->proc);
    if (f->n[i] < f->cap)
        f->samples[i][f->n[i]++] = v;
    return v;
}

/* ---- warm-up proof and cache conditions -------------------------------------- */

/* Pool processes and threads started inside timed windows: must stay 0. */
static uint64_t started_in_windows;

static uint64_t started_now(gc_engine *e)
{
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    return s.workers_started + s.threads_started;
}

/* The same cache state before every timed fresh handoff: write, then read,
 * a buffer twice the size of the last-level cache, in the main process. */
#define EVICT_BYTES (96 * MiB)
static uint8_t *evict_buf;

static void evict_caches(void)
{
    static uint8_t round;
    memset(evict_buf, ++round, EVICT_BYTES);
    volatile uint64_t sink = gc_sum64(evict_buf, EVICT_BYTES);
    (void)sink;
    /* Then sleep 2 ms, as a caller between handoffs would: right after tens
     * of ms of CPU the scheduler would otherwise make the handoff wait for a
     * time slice on a busy host, and that is not the handoff's cost. */
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 2000000};
    nanosleep(&ts, NULL);
}

/* ---- handoffs ---------------------------------------------------------------- */

/* One timed handoff; a pool process or thread started meanwhile is counted
 * as a failed warm-up. */
static uint64_t timed_handoff(gc_engine *e, gc_state *st, gc_mode mode)
{
    gc_result r;
    uint64_t before = started_now(e);
    uint64_t ns = run_one(e, st, "touch", mode, &r);
    started_in_windows += started_now(e) - before;
    return ns;
}

#define NSIZES 4
static const uint64_t sizes_mib[NSIZES] = {1, 16, 100, 1024};
static const char *const size_key[NSIZES] = {"1MiB", "16MiB", "100MiB", "1GiB"};

/* Warm handoffs of zones the worker already maps, every size and both
 * modes: the sizes take turns in passes (order rotated per pass), each turn
 * an untimed handoff that maps the size again, then timed ones, each
 * followed by one floor sample of the same mode (interleaved, so both see
 * the same load). Turns spread every size over the whole run, so that a
 * busy moment of a shared host does not land on one size only. */
static void handoff_warm(gc_engine *e, floors *f, gc_state *st[NSIZES], int reps, int passes,
                         stat_ns h_out[2][NSIZES], stat_ns f_out[2][NSIZES])
{
    int per = (reps + passes - 1) / passes, n = per * passes;
    uint64_t *v[2][NSIZES], *fl[2][NSIZES];
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < NSIZES; k++)
            if (!(v[m][k] = calloc((size_t)n, sizeof(uint64_t))) ||
                !(fl[m][k] = calloc((size_t)n, sizeof(uint64_t))))
                die("calloc", NULL);
    for (int pass = 0; pass < passes; pass++)
        for (int j = 0; j < NSIZES; j++) {
            int k = (j + pass) % NSIZES;
            for (int o = 0; o < 2; o++) {
                int m = (o + pass) % 2;
                gc_mode mode = m ? GC_MODE_THREAD : GC_MODE_PROCESS;
                gc_result r;
                run_one(e, st[k], "touch", mode, &r);   /* maps this size again: untimed */
                for (int i = 0; i < per; i++) {
                    v[m][k][pass * per + i] = timed_handoff(e, st[k], mode);
                    fl[m][k][pass * per + i] = floor_once(f, mode);
                }
            }
        }
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < NSIZES; k++) {
            h_out[m][k] = summarize(v[m][k], n);
            f_out[m][k] = summarize(fl[m][k], n);
            free(v[m][k]);
            free(fl[m][k]);
        }
}

/* What a timed fresh handoff is compared with under the same conditions:
 * per round and mode, after the same eviction and pause, a warm handoff (the
 * zone the worker has just mapped, handed again) and one floor sample. The
 * pause before a handoff costs by itself (the idle vCPU and its caches wake
 * up cold): a warm handoff or a bare round trip pays it too, so the
 * generation's own cost is the fresh figure over these, not over the floor
 * measured back to back. */
typedef struct cold_refs {
    stat_ns warm[2], floor[2];
} cold_refs;

/* Fresh handoffs: per round one new zone of every size, filled first; then
 * each size in both modes, the order of sizes rotated from round to round,
 * the caches evicted the same way before each timed handoff. Every zone is
 * freed only at the end of its round. */
static void handoff_fresh(gc_engine *e, floors *f, gc_state *flush, int rounds,
                          stat_ns out[2][NSIZES], cold_refs *refs)
{
    uint64_t *v[2][NSIZES], *cw[2], *cf[2];
    for (int m = 0; m < 2; m++) {
        for (int k = 0; k < NSIZES; k++)
            if (!(v[m][k] = calloc((size_t)rounds, sizeof(uint64_t))))
                die("calloc", NULL);
        if (!(cw[m] = calloc((size_t)rounds, sizeof(uint64_t))) ||
            !(cf[m] = calloc((size_t)rounds, sizeof(uint64_t))))
            die("calloc", NULL);
    }
    for (int rd = 0; rd < rounds; rd++) {
        gc_state *st[NSIZES];
        for (int k = 0; k < NSIZES; k++)
            st[k] = make_state(sizes_mib[k] * MiB);
        for (int j = 0; j < NSIZES; j++) {
            int k = (j + rd) % NSIZES;
            static const gc_mode order[2] = {GC_MODE_PROCESS, GC_MODE_THREAD};
            for (int o = 0; o < 2; o++) {
                gc_mode m = order[(o + rd) % 2];
                evict_caches();
                v[mode_ix(m)][k][rd] = timed_handoff(e, st[k], m);
                if (j == (rd % NSIZES)) {
                    /* Once per round and mode, rotating over the sizes: the
                     * same zone again (now warm), then a floor sample, each
                     * after the same eviction and pause. */
                    evict_caches();
                    cw[mode_ix(m)][rd] = timed_handoff(e, st[k], m);
                    evict_caches();
                    cf[mode_ix(m)][rd] = m == GC_MODE_THREAD ? thread_floor_once(&f->thread)
                                                             : proc_floor_once(&f->proc);
                }
            }
        }
        for (int k = 0; k < NSIZES; k++)
            gc_state_free(st[k]);
        /* The worker still holds the round's last zone; its close frees the
         * pages (hundreds of ms for 1 GiB, on the worker's release thread).
         * Make it happen now, untimed, so that it does not compete for the
         * CPU with the next round's timed handoffs. */
        gc_result r;
        run_one(e, flush, "touch", GC_MODE_PROCESS, &r);
    }
    for (int m = 0; m < 2; m++) {
        for (int k = 0; k < NSIZES; k++) {
            out[m][k] = summarize(v[m][k], rounds);
            free(v[m][k]);
        }
        refs->warm[m] = summarize(cw[m], rounds);
        refs->floor[m] = summarize(cf[m], rounds);
        free(cw[m]);
        free(cf[m]);
    }
}

/* Fresh process handoffs of 100 MiB the way issue 2 measured its floors
 * (27 us to pass a descriptor, 90 us with the mapping): hot, back to back,
 * no eviction and no pause. Per round: a new zone is filled and published,
 * an untimed warm handoff (of `flush`, which the worker already maps) runs
 * the path once, then the new zone is handed, timed. The zone is freed after
 * the worker has moved back to `flush`, so no page freeing of an old
 * generation runs beside a timed handoff. */
static stat_ns handoff_fresh_hot(gc_engine *e, gc_state *flush, int rounds)
{
    uint64_t *v = calloc((size_t)rounds, sizeof(uint64_t));
    if (!v)
        die("calloc", NULL);
    gc_result r;
    run_one(e, flush, "touch", GC_MODE_PROCESS, &r);
    for (int rd = 0; rd < rounds; rd++) {
        gc_state *st = make_state(100 * MiB);
        run_one(e, flush, "touch", GC_MODE_PROCESS, &r);
        v[rd] = timed_handoff(e, st, GC_MODE_PROCESS);
        run_one(e, flush, "touch", GC_MODE_PROCESS, &r);
        gc_state_free(st);
    }
    stat_ns s = summarize(v, rounds);
    free(v);
    return s;
}

/* Worker's full read (read_all, timed inside the worker) and the whole call. */
static void worker_read(gc_engine *e, gc_state *st, int reps, stat_ns *exec, stat_ns *call)
{
    uint64_t ex[64], ca[64];
    gc_result r;
    run_one(e, st, "read_all", GC_MODE_PROCESS, &r);  /* map and fault in once: warm */
    for (int i = 0; i < reps; i++) {
        ca[i] = run_one(e, st, "read_all", GC_MODE_PROCESS, &r);
        ex[i] = r.exec_ns;
    }
    *exec = summarize(ex, reps);
    *call = summarize(ca, reps);
}

static stat_ns main_read(const gc_state *st, int reps)
{
    uint64_t v[64];
    const void *d;
    size_t n;
    gc_zone_read(gc_state_heavy(st), "data", &d, &n, NULL);
    volatile uint64_t sink = gc_sum64(d, n);   /* warm the page tables */
    for (int i = 0; i < reps; i++) {
        uint64_t t0 = gc_now_ns();
        sink += gc_sum64(d, n);
        v[i] = gc_now_ns() - t0;
    }
    (void)sink;
    return summarize(v, reps);
}

/* The copy baseline: len bytes through a pipe into a child's own buffer.
 * As first written, the child receives into a buffer it has never touched
 * (its page faults are timed) and does not read what it received; the
 * zero-copy figure it is compared with is a warm worker (its mapping already
 * faulted) that reads every byte. `fair` gives the child the same: its buffer
 * written once before the timed window, and every byte read (gc_sum64, as
 * read_all) after it arrived, and the window opens once the child is ready;
 * it ends when the child says so. */
static stat_ns pipe_copy(uint64_t len, int reps, int fair)
{
    uint64_t v[64];
    uint8_t *src = malloc(len);
    if (!src)
        die("malloc", NULL);
    memset(src, 0x5A, len);
    for (int i = 0; i < reps; i++) {
        int data[2], ack[2], ready[2];
        if (pipe(data) || pipe(ack) || pipe(ready))
            die("pipe", NULL);
        fcntl(data[1], F_SETPIPE_SZ, 1 << 20);
        pid_t pid = fork();
        if (pid < 0)
            die("fork", NULL);
        if (pid == 0) {
            close(data[1]);
            close(ack[0]);
            close(ready[0]);
            uint8_t *dst = malloc(len);
            if (dst && fair)
                memset(dst, 0xA5, len);
            char r = 'r';
            if (fair && write(ready[1], &r, 1) != 1)
                _exit(1);
            uint64_t got = 0;
            while (dst && got < len) {
                ssize_t k = read(data[0], dst + got, len - got);
                if (k <= 0)
                    break;
                got += (uint64_t)k;
            }
            volatile uint64_t sink = fair && got == len ? gc_sum64(dst, len) : 0;
            (void)sink;
            char c = got == len ? 'y' : 'n';
            _exit(write(ack[1], &c, 1) == 1 && c == 'y' ? 0 : 1);
        }
        close(data[0]);
        close(ack[1]);
        close(ready[1]);
        char rdy = 0;
        if (fair && read(ready[0], &rdy, 1) != 1)
            die("pipe child did not start", NULL);
        close(ready[0]);
        uint64_t t0 = gc_now_ns(), sent = 0;
        while (sent < len) {
            ssize_t k = write(data[1], src + sent, len - sent);
            if (k <= 0)
                die("pipe write", NULL);
            sent += (uint64_t)k;
        }
        char c = 0;
        if (read(ack[0], &c, 1) != 1 || c != 'y')
            die("pipe child did not receive everything", NULL);
        v[i] = gc_now_ns() - t0;
        close(data[1]);
        close(ack[0]);
        int ws;
        waitpid(pid, &ws, 0);
    }
    free(src);
    return summarize(v, reps);
}

/* ---- commit figures ------------------------------------------------------- */

#define COMMIT_TASKS 64
static char key_names[COMMIT_TASKS][8];
static const char *key_list[COMMIT_TASKS];

/* One run of `tasks` tasks of increment; returns its wall time, and adds the
 * tasks' attempts to *attempts. Every task must commit. */
static uint64_t commit_run(gc_engine *e, gc_state *st, gc_mode mode, uint32_t tasks,
                           const gc_contract *c, uint32_t retries, uint64_t *attempts)
{
    static gc_result r[COMMIT_TASKS];
    gc_exec_opts o = {.process = "increment", .mode = mode, .workers = 2, .tasks = tasks,
                      .contract = c, .retries = retries};
    gc_err err;
    uint64_t t0 = gc_now_ns();
    if (gc_execute_parallel(e, st, &o, r, &err) != GC_OK)
        die("execute_parallel (commit)", &err);
    uint64_t t1 = gc_now_ns();
    for (uint32_t t = 0; t < tasks; t++) {
        if (r[t].status != GC_OK) {
            fprintf(stderr, "bench: commit task %u: %s %s\n", t, gc_status_name(r[t].status),
                    r[t].text);
            exit(1);
        }
        *attempts += r[t].attempts;
    }
    return t1 - t0;
}

typedef struct commit_rate {
    stat_ns wall;
    double per_s;            /* commits per second, from the median run */
    double attempts;         /* attempts per run, on average */
} commit_rate;

/* N tasks writing one key, or each its own key (disjoint, from one base). */
static commit_rate commit_rate_of(gc_engine *e, gc_mode mode, int disjoint, int reps)
{
    uint64_t v[32], attempts = 0;
    static const char *const k[] = {"k"}, *const own[] = {"own"};
    gc_contract one = {.domain_reads = k, .n_domain_reads = 1, .domain_writes = k,
                       .n_domain_writes = 1};
    gc_contract many = {.domain_reads = own, .n_domain_reads = 1, .domain_writes = key_list,
                        .n_domain_writes = COMMIT_TASKS};
    for (int i = 0; i < reps; i++) {
        gc_state *st;
        gc_err err;
        if (gc_state_new(&st, &err) || gc_state_set_int(st, "k", 0, &err) ||
            gc_state_set_int(st, "own", 1, &err))
            die("commit state", &err);
        v[i] = commit_run(e, st, mode, COMMIT_TASKS, disjoint ? &many : &one,
                          disjoint ? 0 : COMMIT_TASKS, &attempts);
        if (gc_state_version(st) != COMMIT_TASKS)
            die("commit run: the state did not reach version N", NULL);
        gc_state_free(st);
    }
    commit_rate cr = {.wall = summarize(v, reps)};
    cr.per_s = COMMIT_TASKS / (cr.wall.median / 1e9);
    cr.attempts = (double)attempts / reps;
    if (disjoint && attempts != (uint64_t)COMMIT_TASKS * (uint64_t)reps) {
        fprintf(stderr, "bench: disjoint keys from one base retried (%.1f attempts per run)\n",
                cr.attempts);
        exit(1);
    }
    return cr;
}

/* A one-task process-mode run writing `keys` keys (0: a task that writes
 * nothing): the write set's cost over the process boundary. */
static stat_ns wset_cost(gc_engine *e, size_t keys, int reps)
{
    uint64_t v[256];
    gc_state *st;
    gc_err err;
    if (gc_state_new(&st, &err))
        die("commit state", &err);
    gc_contract c = {.domain_writes = key_list, .n_domain_writes = keys};
    const char *proc = keys ? "increment" : "echo";
    static const char *const any[] = {"own"};
    if (!keys) {
        c.domain_reads = any;
        c.n_domain_reads = 1;
    }
    if (gc_state_set_int(st, "own", 0, &err))
        die("commit state", &err);
    for (int i = -3; i < reps; i++) {   /* three warm-up runs */
        gc_exec_opts o = {.process = proc, .mode = GC_MODE_PROCESS, .workers = 1, .tasks = 1,
                          .contract = &c};
        gc_result r;
        uint64_t t0 = gc_now_ns();
        if (gc_execute_parallel(e, st, &o, &r, &err) != GC_OK)
            die("write set run", &err);
        if (r.status != GC_OK) {
            fprintf(stderr, "bench: write set task: %s %s\n", gc_status_name(r.status), r.text);
            exit(1);
        }
        if (i >= 0)
            v[i] = gc_now_ns() - t0;
    }
    gc_state_free(st);
    return summarize(v, reps);
}

static json_t *fig(json_t *root, const char *group, const char *key, double median, double min,
                   int n)
{
    json_t *g = json_object_get(root, group);
    if (!g) {
        g = json_object();
        json_object_set_new(root, group, g);
    }
    json_object_set_new(g, key, json_real(median));
    char mk[96];
    snprintf(mk, sizeof mk, "%s_min", group);
    json_t *gm = json_object_get(root, mk);
    if (!gm) {
        gm = json_object();
        json_object_set_new(root, mk, gm);
    }
    json_object_set_new(gm, key, json_real(min));
    (void)n;
    return g;
}

static void row(const char *what, stat_ns s, double scale, const char *unit)
{
    printf("  %-44s %12.1f %12.1f %-5s (n=%d)\n", what, s.median / scale, s.min / scale, unit, s.n);
}

/* The floor a handoff is divided by: for warm handoffs the floor samples
 * taken interleaved with them (same window, same load on a shared host); for
 * fresh ones the run's floor, all samples. */
static double floor_of(const stat_ns floor_s[2], stat_ns warm_f[2][NSIZES], int m, int warm,
                       int k)
{
    return warm ? warm_f[m][k].median : floor_s[m].median;
}

static void loadavg(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    buf[0] = '\0';
    if (f) {
        if (!fgets(buf, (int)cap, f))
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "reports/bench.json";
    int quick = getenv("GC_BENCH_QUICK") != NULL;
    int reps_big = quick ? 3 : 11, reps_warm = quick ? 41 : 401, rounds = quick ? 5 : 21;
    char load_start[128], load_end[128];
    loadavg(load_start, sizeof load_start);
    gc_engine *e;
    gc_err err;
    if (gc_engine_new(&e, &err) || gc_builtins_register(e, &err))
        die("engine", &err);
    evict_buf = malloc(EVICT_BYTES);
    floors fl = {.cap = 4 * NSIZES * (reps_warm + 8)};
    fl.samples[0] = calloc((size_t)fl.cap, sizeof(uint64_t));
    fl.samples[1] = calloc((size_t)fl.cap, sizeof(uint64_t));
    if (!evict_buf || !fl.samples[0] || !fl.samples[1])
        die("malloc", NULL);
    fl.proc = proc_peer_start();
    thread_peer_start(&fl.thread);
    gc_state *warm = make_state(100 * MiB);
    gc_result r;
    run_one(e, warm, "touch", GC_MODE_PROCESS, &r);   /* start the pool and the threads */
    run_one(e, warm, "touch", GC_MODE_THREAD, &r);
    for (int i = 0; i < 100; i++) {                   /* and the floors' peers */
        proc_floor_once(&fl.proc);
        thread_floor_once(&fl.thread);
    }

    printf("gapcheck bench: %ld cores, load %s; medians and minimums over repeats\n",
           sysconf(_SC_NPROCESSORS_ONLN), load_start);
    printf("  %-44s %12s %12s\n", "figure", "median", "min");
    stat_ns warm_h[2][NSIZES], warm_f[2][NSIZES];
    gc_state *wst[NSIZES];
    for (int k = 0; k < NSIZES; k++)
        wst[k] = k == 2 ? warm : make_state(sizes_mib[k] * MiB);
    handoff_warm(e, &fl, wst, reps_warm, quick ? 4 : 8, warm_h, warm_f);
    for (int k = 0; k < NSIZES; k++)
        if (wst[k] != warm)
            gc_state_free(wst[k]);
    stat_ns fresh[2][NSIZES];
    gc_state *flush = make_state(4096);
    cold_refs cold;
    handoff_fresh(e, &fl, flush, rounds, fresh, &cold);
    stat_ns hot100 = handoff_fresh_hot(e, flush, rounds);
    gc_state_free(flush);
    /* Floor samples once more after the fresh rounds, so the run's floor
     * spans its whole length. */
    for (int i = 0; i < reps_warm; i++) {
        floor_once(&fl, GC_MODE_PROCESS);
        floor_once(&fl, GC_MODE_THREAD);
    }
    stat_ns floor_s[2] = {summarize(fl.samples[0], fl.n[0]), summarize(fl.samples[1], fl.n[1])};
    stat_ns wexec, wcall;
    worker_read(e, warm, reps_big, &wexec, &wcall);
    stat_ns mread = main_read(warm, reps_big);
    stat_ns pipe100 = pipe_copy(100 * MiB, quick ? 3 : 7, 0);
    stat_ns pipe100f = pipe_copy(100 * MiB, quick ? 3 : 7, 1);
    proc_peer_stop(&fl.proc);
    thread_peer_stop(&fl.thread);
    loadavg(load_end, sizeof load_end);
    for (int i = 0; i < COMMIT_TASKS; i++) {
        snprintf(key_names[i], sizeof key_names[i], "d%d", i);
        key_list[i] = key_names[i];
    }
    int creps = quick ? 3 : 9, wreps = quick ? 21 : 201;
    commit_rate c1p = commit_rate_of(e, GC_MODE_PROCESS, 0, creps);
    commit_rate cdp = commit_rate_of(e, GC_MODE_PROCESS, 1, creps);
    commit_rate c1t = commit_rate_of(e, GC_MODE_THREAD, 0, creps);
    commit_rate cdt = commit_rate_of(e, GC_MODE_THREAD, 1, creps);
    stat_ns ws0 = wset_cost(e, 0, wreps), ws1 = wset_cost(e, 1, wreps);
    stat_ns ws64 = wset_cost(e, 64, wreps);

    static const char *const mode_name[2] = {"process", "thread"};
    static const char *const floor_key[2] = {"process_seqpacket", "thread_wake"};
    printf("  %-44s %12.2f %12.2f us    (n=%d)\n", "floor: SOCK_SEQPACKET round trip, 2 processes",
           floor_s[0].median / 1e3, floor_s[0].min / 1e3, floor_s[0].n);
    printf("  %-44s %12.2f %12.2f us    (n=%d)\n", "floor: futex (semaphore) round trip, 2 threads",
           floor_s[1].median / 1e3, floor_s[1].min / 1e3, floor_s[1].n);
    printf("  %-44s %12s %12s %8s\n", "handoff (x floor: median / floor median)", "median", "min",
           "x floor");
    printf("  (warm: the floor samples interleaved with that size's handoffs; fresh: the run's floor)\n");
    for (int m = 0; m < 2; m++)
        for (int w = 0; w < 2; w++)
            for (int k = 0; k < NSIZES; k++) {
                stat_ns h = w ? warm_h[m][k] : fresh[m][k];
                char what[96];
                snprintf(what, sizeof what, "handoff, %s, %s %s", mode_name[m], w ? "warm" : "fresh",
                         size_key[k]);
                printf("  %-44s %12.1f %12.1f us %6.2fx  (n=%d)", what, h.median / 1e3,
                       h.min / 1e3, h.median / floor_of(floor_s, warm_f, m, w, k), h.n);
                if (w)
                    printf(" its floor %.2f us", warm_f[m][k].median / 1e3);
                printf("\n");
            }
    printf("  fresh handoffs against the same conditions (after the same eviction and 2 ms pause):\n");
    for (int m = 0; m < 2; m++) {
        char what[96];
        snprintf(what, sizeof what, "floor, %s, after eviction + pause", mode_name[m]);
        row(what, cold.floor[m], 1e3, "us");
        snprintf(what, sizeof what, "warm handoff, %s, after eviction + pause", mode_name[m]);
        row(what, cold.warm[m], 1e3, "us");
        printf("  %-44s %12.2fx (fresh 100MiB / warm, same conditions)\n", "",
               fresh[m][2].median / cold.warm[m].median);
    }
    row("handoff, process, fresh 100MiB, hot", hot100, 1e3, "us");
    printf("  %-44s %12s %12s    (hot: back to back, no eviction, no pause)\n", "", "", "");
    row("worker full read 100 MiB (warm, in worker)", wexec, 1e6, "ms");
    row("main one-thread read 100 MiB", mread, 1e6, "ms");
    row("copy: 100 MiB through a pipe to a child", pipe100, 1e6, "ms");
    row("copy, fair: warm child buffer, child reads", pipe100f, 1e6, "ms");
    row("zero-copy: handoff + worker full read, warm", wcall, 1e6, "ms");

    printf("commit (%d tasks, 2 workers; one key: retries up to %d; disjoint: retries 0):\n",
           COMMIT_TASKS, COMMIT_TASKS);
    printf("  %-44s %12.0f %12s (attempts per run %.1f)\n", "commits/s, process, one key",
           c1p.per_s, "", c1p.attempts);
    printf("  %-44s %12.0f %12s (attempts per run %.1f)\n", "commits/s, process, disjoint keys",
           cdp.per_s, "", cdp.attempts);
    printf("  %-44s %12.0f %12s (attempts per run %.1f)\n", "commits/s, thread, one key",
           c1t.per_s, "", c1t.attempts);
    printf("  %-44s %12.0f %12s (attempts per run %.1f)\n", "commits/s, thread, disjoint keys",
           cdt.per_s, "", cdt.attempts);
    row("process task, no write set", ws0, 1e3, "us");
    row("process task, 1-key write set", ws1, 1e3, "us");
    row("process task, 64-key write set", ws64, 1e3, "us");
    printf("  %-44s %12.1f us\n", "64-key write set over the boundary, added",
           (ws64.median - ws0.median) / 1e3);
    printf("  %-44s %12.1f us\n", "1-key write set over the boundary, added",
           (ws1.median - ws0.median) / 1e3);

    double bytes = 100.0 * MiB;
    double gbps_worker = bytes / wexec.median, gbps_main = bytes / mread.median;
    printf("  %-44s %12.2f GB/s\n", "read bandwidth, worker (warm)", gbps_worker);
    printf("  %-44s %12.2f GB/s\n", "read bandwidth, main one thread", gbps_main);
    printf("  warm-up: %llu pool processes or threads started inside timed windows\n",
           (unsigned long long)started_in_windows);
    printf("  load average: %s at the start, %s at the end\n", load_start, load_end);

    const int g1 = NSIZES - 1;   /* 1 GiB */
    struct {
        const char *text;
        double value, limit;
        int at_most;
    } targets[] = {
        /* Issue 2 set 200 us against floors measured hot (27 us to pass a
         * descriptor, 90 us with the mapping): checked on the hot figure.
         * The fresh rows above are taken after an eviction and a pause (for
         * sizes to compare), which cost a warm handoff as much. */
        {"fresh 100 MiB handoff to a process worker <= 200 us (hot)", hot100.median / 1e3, 200, 1},
        {"warm 100 MiB handoff to a process worker <= 50 us", warm_h[0][2].median / 1e3, 50, 1},
        {"process handoff 1 GiB / 1 MiB <= 1.2", fresh[0][g1].median / fresh[0][0].median, 1.2, 1},
        {"thread handoff 1 GiB / 1 MiB <= 1.2", fresh[1][g1].median / fresh[1][0].median, 1.2, 1},
        /* Warm sizes are timed in separate windows: each is divided by the
         * floor of its own window first, so that a busier window does not
         * pass for a size effect. */
        {"(warm) process handoff 1 GiB / 1 MiB <= 1.2 (each over its own floor)",
         (warm_h[0][g1].median / warm_f[0][g1].median) / (warm_h[0][0].median / warm_f[0][0].median),
         1.2, 1},
        {"(warm) thread handoff 1 GiB / 1 MiB <= 1.2 (each over its own floor)",
         (warm_h[1][g1].median / warm_f[1][g1].median) / (warm_h[1][0].median / warm_f[1][0].median),
         1.2, 1},
        {"warm process handoff 1 MiB <= 3 x floor", warm_h[0][0].median / warm_f[0][0].median, 3, 1},
        {"warm process handoff 1 GiB <= 3 x floor", warm_h[0][g1].median / warm_f[0][g1].median, 3, 1},
        {"warm thread handoff 1 MiB <= 3 x floor", warm_h[1][0].median / warm_f[1][0].median, 3, 1},
        {"warm thread handoff 1 GiB <= 3 x floor", warm_h[1][g1].median / warm_f[1][g1].median, 3, 1},
        {"no pool process or thread started in a timed window", (double)started_in_windows, 0, 1},
        {"worker read >= 0.5 x one-thread read", gbps_worker / gbps_main, 0.5, 0},
        /* Both receivers warm and both reading every byte once (pipe_copy). */
        {"zero-copy >= 10x faster than the pipe (fair: warm, both read)",
         pipe100f.median / wcall.median, 10, 0},
    };
    json_t *root = json_object();
    json_t *tj = json_array();
    printf("targets:\n");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        int ok = targets[i].at_most ? targets[i].value <= targets[i].limit
                                    : targets[i].value >= targets[i].limit;
        printf("  [%s] %-52s measured %.3f\n", ok ? "MET " : "MISS", targets[i].text, targets[i].value);
        json_array_append_new(tj, json_pack("{s:s,s:f,s:f,s:b}", "text", targets[i].text, "measured",
                                            targets[i].value, "limit", targets[i].limit, "met", ok));
    }
    /* handoff_us keeps the keys other tools read (process.1MiB, ...,
     * thread_warm.1GiB) and gains the other sizes; handoff_x_floor has the
     * same keys as multiples of the floor; handoff_curve is the plot's data. */
    json_t *curve = json_object();
    json_t *jsz = json_array();
    for (int k = 0; k < NSIZES; k++)
        json_array_append_new(jsz, json_integer((json_int_t)sizes_mib[k]));
    json_object_set_new(curve, "sizes_mib", jsz);
    json_t *xf = json_object();
    for (int m = 0; m < 2; m++) {
        json_t *cm = json_object(), *jf = json_array(), *jw = json_array();
        for (int k = 0; k < NSIZES; k++) {
            char key[64];
            snprintf(key, sizeof key, "%s.%s", mode_name[m], size_key[k]);
            fig(root, "handoff_us", key, fresh[m][k].median / 1e3, fresh[m][k].min / 1e3, fresh[m][k].n);
            json_object_set_new(xf, key, json_real(fresh[m][k].median / floor_s[m].median));
            snprintf(key, sizeof key, "%s_warm.%s", mode_name[m], size_key[k]);
            fig(root, "handoff_us", key, warm_h[m][k].median / 1e3, warm_h[m][k].min / 1e3,
                warm_h[m][k].n);
            json_object_set_new(xf, key, json_real(warm_h[m][k].median / warm_f[m][k].median));
            fig(root, "floors_us", key, warm_f[m][k].median / 1e3, warm_f[m][k].min / 1e3,
                warm_f[m][k].n);
            json_array_append_new(jf, json_real(fresh[m][k].median / 1e3));
            json_array_append_new(jw, json_real(warm_h[m][k].median / 1e3));
        }
        json_object_set_new(cm, "fresh_us", jf);
        json_object_set_new(cm, "warm_us", jw);
        json_object_set_new(cm, "floor_us", json_real(floor_s[m].median / 1e3));
        json_object_set_new(curve, mode_name[m], cm);
        fig(root, "floors_us", floor_key[m], floor_s[m].median / 1e3, floor_s[m].min / 1e3,
            floor_s[m].n);
    }
    json_object_set_new(root, "handoff_x_floor", xf);
    json_object_set_new(root, "handoff_curve", curve);
    json_object_set_new(root, "fresh_method", json_pack(
        "{s:i,s:i,s:s}", "rounds", rounds, "evict_bytes", (json_int_t)EVICT_BYTES, "how",
        "per round: one new zone of every size filled and published first; sizes timed in an "
        "order rotated per round, both modes each; before every timed fresh handoff the main "
        "process writes then reads a buffer of evict_bytes (over twice the last-level cache) and sleeps 2 ms; after each round an untimed handoff of a 4 KiB zone makes the worker release the round's last zone"));
    json_object_set_new(root, "warmup", json_pack("{s:I,s:s}", "started_in_timed_windows",
                                                  (json_int_t)started_in_windows, "proof",
                                                  "gc_engine_stats workers_started + "
                                                  "threads_started around every timed handoff"));
    json_object_set_new(root, "load", json_pack("{s:s,s:s}", "start", load_start, "end", load_end));
    fig(root, "read_gbps", "worker_warm", gbps_worker, bytes / wexec.min, wexec.n);
    fig(root, "read_gbps", "one_thread", gbps_main, bytes / mread.min, mread.n);
    fig(root, "copy_ms", "pipe_100MiB", pipe100.median / 1e6, pipe100.min / 1e6, pipe100.n);
    fig(root, "copy_ms", "zero_copy_100MiB", wcall.median / 1e6, wcall.min / 1e6, wcall.n);
    /* New figures in groups of their own: the timing gate compares only the
     * groups it knows (handoff_us, read_gbps, copy_ms) with its baseline. */
    fig(root, "copy_fair_ms", "pipe_100MiB_warm_read", pipe100f.median / 1e6, pipe100f.min / 1e6,
        pipe100f.n);
    fig(root, "handoff_hot_us", "process.100MiB", hot100.median / 1e3, hot100.min / 1e3, hot100.n);
    for (int m = 0; m < 2; m++) {
        char key[64];
        snprintf(key, sizeof key, "%s.warm", mode_name[m]);
        fig(root, "handoff_cold_ref_us", key, cold.warm[m].median / 1e3, cold.warm[m].min / 1e3,
            cold.warm[m].n);
        snprintf(key, sizeof key, "%s.floor", mode_name[m]);
        fig(root, "handoff_cold_ref_us", key, cold.floor[m].median / 1e3, cold.floor[m].min / 1e3,
            cold.floor[m].n);
    }
    fig(root, "commit_per_s", "process.one_key", c1p.per_s, COMMIT_TASKS / (c1p.wall.min / 1e9),
        c1p.wall.n);
    fig(root, "commit_per_s", "process.disjoint", cdp.per_s,
        COMMIT_TASKS / (cdp.wall.min / 1e9), cdp.wall.n);
    fig(root, "commit_per_s", "thread.one_key", c1t.per_s, COMMIT_TASKS / (c1t.wall.min / 1e9),
        c1t.wall.n);
    fig(root, "commit_per_s", "thread.disjoint", cdt.per_s, COMMIT_TASKS / (cdt.wall.min / 1e9),
        cdt.wall.n);
    fig(root, "commit_attempts", "process.one_key", c1p.attempts, c1p.attempts, c1p.wall.n);
    fig(root, "commit_attempts", "process.disjoint", cdp.attempts, cdp.attempts, cdp.wall.n);
    fig(root, "commit_attempts", "thread.one_key", c1t.attempts, c1t.attempts, c1t.wall.n);
    fig(root, "commit_attempts", "thread.disjoint", cdt.attempts, cdt.attempts, cdt.wall.n);
    fig(root, "wset_task_us", "keys0", ws0.median / 1e3, ws0.min / 1e3, ws0.n);
    fig(root, "wset_task_us", "keys1", ws1.median / 1e3, ws1.min / 1e3, ws1.n);
    fig(root, "wset_task_us", "keys64", ws64.median / 1e3, ws64.min / 1e3, ws64.n);
    json_object_set_new(root, "targets", tj);
    char cmd[512] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 2);
        strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    }
    json_object_set_new(root, "command", json_string(cmd));
    json_object_set_new(root, "cores", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(root, "quick", json_boolean(quick));
    json_object_set_new(root, "schema", json_integer(1));
    if (json_dump_file(root, out, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "bench: cannot write %s\n", out);
        return 1;
    }
    json_decref(root);
    printf("wrote %s; produced by: %s\n", out, cmd);
    gc_state_free(warm);
    gc_engine_free(e);
    free(evict_buf);
    free(fl.samples[0]);
    free(fl.samples[1]);
    return started_in_windows == 0 ? 0 : 1;
}
