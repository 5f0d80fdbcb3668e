/* The worker process: forked by the pool, it serves tasks on its channel
 * until the channel closes. It holds nothing of the main process's zone (the
 * mappings are MADV_DONTFORK and every inherited descriptor but its channel
 * is closed): the only way it sees heavy data is the descriptor that arrives
 * with a task, decoded and checked by the wire decoder. It keeps the zone of
 * the last generation mapped, so the next task of that generation costs no
 * mapping; an older generation is released after the reply is sent, by a
 * helper thread (the last close of a 1 GiB memfd frees its pages and takes
 * hundreds of ms), so that nothing proportional to a zone's size stands
 * between the worker and its next task. The attempt's write set (and the keys it read)
 * goes back in the reply; the worker never commits anything itself. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx_int.h"
#include "engine_int.h"
#include "gapcheck/status.h"
#include "gapcheck/wire.h"
#include "proto.h"

#ifdef GC_COVERAGE
void __gcov_dump(void);
#define worker_flush_coverage() __gcov_dump()
#else
#define worker_flush_coverage() ((void)0)
#endif


/* The zone generation the worker maps: its descriptors and mappings. */
typedef struct zone_view {
    uint64_t gen;
    int in_fd, out_fd;
    void *in_map, *out_map;
    uint64_t in_size, out_size;
} zone_view;

static void view_release(zone_view *v)
{
    if (v->in_map)
        munmap(v->in_map, v->in_size);
    if (v->out_map)
        munmap(v->out_map, v->out_size);
    if (v->in_fd >= 0)
        close(v->in_fd);
    if (v->out_fd >= 0)
        close(v->out_fd);
    *v = (zone_view){.in_fd = -1, .out_fd = -1};
}

/* ---- releasing old generations off the critical path ------------------------
 * The worker loop hands each retired generation to a helper thread, started
 * on the first retirement, and goes back to its channel at once. At most
 * RELEASE_MAX generations wait or are being released; a loop that would
 * queue one more waits for a slot (only when generations change faster than
 * the kernel frees them). Views in the queue still count as held, so the
 * census sees them as the worker's, not as strays, until they are gone. */
#define RELEASE_MAX 2

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;            /* a view was queued, one was released, or quit */
    zone_view q[RELEASE_MAX];     /* in use when in_fd or out_fd >= 0 or a map */
    int n;                        /* views queued or being released */
    int started, quit;
    pthread_t tid;
} rel = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int view_empty(const zone_view *v)
{
    return v->in_fd < 0 && v->out_fd < 0 && !v->in_map && !v->out_map;
}

static void *release_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&rel.mu);
    for (;;) {
        int i = 0;
        while (i < RELEASE_MAX && view_empty(&rel.q[i]))
            i++;
        if (i == RELEASE_MAX) {
            if (rel.quit)
                break;
            pthread_cond_wait(&rel.cv, &rel.mu);
            continue;
        }
        zone_view v = rel.q[i];
        pthread_mutex_unlock(&rel.mu);
        view_release(&v);             /* the slow part, unlocked; still held in q[i] */
        pthread_mutex_lock(&rel.mu);
        rel.q[i] = (zone_view){.in_fd = -1, .out_fd = -1};
        rel.n--;
        pthread_cond_broadcast(&rel.cv);
    }
    pthread_mutex_unlock(&rel.mu);
    return NULL;
}

/* Take *v over (it is emptied); released by the helper, or here when no
 * helper thread can start. */
static void release_later(zone_view *v)
{
    if (view_empty(v))
        return;
    pthread_mutex_lock(&rel.mu);
    if (!rel.started) {
        for (int i = 0; i < RELEASE_MAX; i++)
            rel.q[i] = (zone_view){.in_fd = -1, .out_fd = -1};
        rel.started = pthread_create(&rel.tid, NULL, release_main, NULL) == 0 ? 1 : -1;
    }
    if (rel.started < 0) {
        pthread_mutex_unlock(&rel.mu);
        view_release(v);
        return;
    }
    while (rel.n == RELEASE_MAX)
        pthread_cond_wait(&rel.cv, &rel.mu);
    int i = 0;
    while (!view_empty(&rel.q[i]))
        i++;
    rel.q[i] = *v;
    rel.n++;
    *v = (zone_view){.in_fd = -1, .out_fd = -1};
    pthread_cond_broadcast(&rel.cv);
    pthread_mutex_unlock(&rel.mu);
}

/* Wait until every queued view is released and the helper has ended. */
static void release_drain(void)
{
    pthread_mutex_lock(&rel.mu);
    int started = rel.started > 0;
    rel.quit = 1;
    pthread_cond_broadcast(&rel.cv);
    pthread_mutex_unlock(&rel.mu);
    if (started)
        pthread_join(rel.tid, NULL);
}

/* What the worker holds of the zone, for the census builtin: the live
 * generation, the previous one during the task that brought a new one, and
 * those still being released. Nothing else of any zone may be open or
 * mapped in a worker. NULL outside a pool worker (thread mode). */
static const zone_view *held_views[2];

static int view_holds_fd(const zone_view *v, int fd)
{
    return v && fd >= 0 && (fd == v->in_fd || fd == v->out_fd);
}

static int view_holds_addr(const zone_view *v, uintptr_t a)
{
    if (!v)
        return 0;
    uintptr_t in = (uintptr_t)v->in_map, out = (uintptr_t)v->out_map;
    return (in && a >= in && a - in < v->in_size) || (out && a >= out && a - out < v->out_size);
}

static int releasing_holds(int fd, uintptr_t addr)
{
    if (!held_views[0])
        return 0;                     /* not a worker: nothing is ever queued */
    int held = 0;
    pthread_mutex_lock(&rel.mu);
    for (int i = 0; i < RELEASE_MAX && !held && rel.started > 0; i++)
        held = fd >= 0 ? view_holds_fd(&rel.q[i], fd) : view_holds_addr(&rel.q[i], addr);
    pthread_mutex_unlock(&rel.mu);
    return held;
}

/* Wait until no retired generation waits or is being released. A census
 * lists /proc first and asks about each entry after; a view released in
 * between would be listed as the worker's mapping yet no longer be held. */
void gc__worker_release_settle(void)
{
    pthread_mutex_lock(&rel.mu);
    while (rel.started > 0 && rel.n > 0)
        pthread_cond_wait(&rel.cv, &rel.mu);
    pthread_mutex_unlock(&rel.mu);
}

int gc__worker_holds_fd(int fd)
{
    return view_holds_fd(held_views[0], fd) || view_holds_fd(held_views[1], fd) ||
           releasing_holds(fd, 0);
}

int gc__worker_holds_addr(uintptr_t addr)
{
    return view_holds_addr(held_views[0], addr) || view_holds_addr(held_views[1], addr) ||
           releasing_holds(-1, addr);
}

__attribute__((noreturn)) static void worker_exit(int code)
{
    worker_flush_coverage();
    _exit(code);
}

/* Leave the main process's world behind: default signals, only the channel. */
static int worker_isolate(int sock, pid_t parent)
{
    /* No PR_SET_PDEATHSIG: it fires when the forking THREAD exits, and any
     * thread may call execute_parallel. A worker learns of its parent's end
     * from its channel (EOF); a stuck one dies with the caller's process
     * group (the harness kills whole groups). */
    if (getppid() != parent)
        return -1;                    /* the parent is already gone */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);     /* fails harmlessly for SIGKILL/SIGSTOP */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (sock != GC_WORKER_CHANNEL_FD) {
        if (dup2(sock, GC_WORKER_CHANNEL_FD) < 0)
            return -1;
    }
    /* Everything else the main process had open (its other workers' channels,
     * case files, pipes) is not the worker's business. */
    if (close_range(GC_WORKER_CHANNEL_FD + 1, ~0u, 0) != 0)
        return -1;
    return 0;
}

static void send_result(uint32_t task, const gc_result *r, uint64_t held_gen,
                        const uint8_t *wset, size_t wset_len)
{
    gc__result_msg m;
    memset(&m, 0, sizeof m);
    m.magic = GC_PROTO_RESULT_MAGIC;
    m.task = task;
    m.status = r->status;
    m.violations = r->violations;
    m.undeclared_reads = r->undeclared_reads;
    m.value = r->value;
    m.exec_ns = r->exec_ns;
    m.held_gen = held_gen;
    m.wset_len = (uint32_t)wset_len;
    size_t tl = strnlen(r->text, GC_RESULT_TEXT_MAX - 1);
    memcpy(m.text, r->text, tl);
    m.text_len = (uint32_t)tl;
    struct iovec iov[2] = {{.iov_base = &m, .iov_len = gc__result_len(&m)},
                           {.iov_base = (void *)wset, .iov_len = wset_len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = wset_len ? 2 : 1};
    if (sendmsg(GC_WORKER_CHANNEL_FD, &msg, MSG_NOSIGNAL) < 0)
        worker_exit(0);               /* the main process is gone or gave up on us */
}

/* The attempt's write set and read keys into wbuf; a write set that cannot
 * be encoded fails the task (it is never dropped silently). */
static size_t reply_wset(const gc_ctx *ctx, uint8_t *wbuf, gc_result *r)
{
    uint16_t reads[GC_DOMAIN_MAX];
    size_t nr = gc__ctx_reads(ctx, reads), len = 0;
    gc_err err;
    if (gc__wset_encode(&ctx->ws, reads, nr, wbuf, GC_WSET_MSG_MAX, &len, &err) != GC_OK) {
        r->status = err.status;
        snprintf(r->text, sizeof r->text, "worker: %.200s", err.msg);
        return 0;
    }
    return len;
}

static void fail(gc_result *r, int status, const char *msg)
{
    r->status = status;
    snprintf(r->text, sizeof r->text, "worker: %s", msg);
}

static int file_size(int fd, uint64_t *size, gc_result *r)
{
    struct stat sb;
    *size = 0;
    if (fd < 0)
        return GC_OK;
    int failed = fstat(fd, &sb) != 0;
    if (failed || sb.st_size < 0) {
        snprintf(r->text, sizeof r->text, "worker: fstat of a received file failed: %s",
                 failed ? strerror(errno) : "negative size");
        return r->status = GC_ESYS;
    }
    *size = (uint64_t)sb.st_size;
    return GC_OK;
}

/* Map a newly received generation. On failure nothing is kept. */
static int view_map(zone_view *v, gc_result *r)
{
    if (v->in_size > 0) {
        v->in_map = mmap(NULL, v->in_size, PROT_READ, MAP_SHARED, v->in_fd, 0);
        if (v->in_map == MAP_FAILED) {
            v->in_map = NULL;
            snprintf(r->text, sizeof r->text, "worker: mapping the input file failed: mmap: %s",
                     strerror(errno));
            return r->status = GC_ESYS;
        }
    }
    if (v->out_size > 0) {
        v->out_map = mmap(NULL, v->out_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->out_fd, 0);
        if (v->out_map == MAP_FAILED) {
            v->out_map = NULL;
            snprintf(r->text, sizeof r->text, "worker: mapping the output file failed: mmap: %s",
                     strerror(errno));
            return r->status = GC_ESYS;
        }
    }
    return GC_OK;
}

/* Serve one task message; `fds` are the descriptors that came with it (owned
 * here from now on). Old views to drop after the reply go to *retired. */
static void serve(const gc_engine *e, zone_view *cur, zone_view *retired, const uint8_t *buf,
                  size_t len, int fds[2], int nfds, uint32_t *task_out, gc_result *r,
                  uint8_t *wbuf, size_t *wlen)
{
    gc__task_hdr h;
    zone_view fresh = {.in_fd = -1, .out_fd = -1};
    gc_ctx *ctx = NULL;
    gc_err err;
    gc_err_clear(&err);
    *task_out = UINT32_MAX;

    if (len < sizeof h) {
        fail(r, GC_EWIRE, "task message shorter than its header");
        goto drop_fds;
    }
    memcpy(&h, buf, sizeof h);
    *task_out = h.task;
    if (h.magic != GC_PROTO_TASK_MAGIC || h.ctx_len != len - sizeof h ||
        memchr(h.process, '\0', sizeof h.process) == NULL || (h.fd_flags & ~GC_PROTO_FLAGS_ALL) != 0) {
        fail(r, GC_EWIRE, "malformed task header");
        goto drop_fds;
    }
    int want = !!(h.fd_flags & GC_PROTO_FD_INPUT) + !!(h.fd_flags & GC_PROTO_FD_OUTPUT);
    if (want != nfds) {
        fail(r, GC_EWIRE, "task header announces a different number of descriptors");
        goto drop_fds;
    }
    if (nfds > 0) {
        int k = 0;
        fresh.in_fd = (h.fd_flags & GC_PROTO_FD_INPUT) ? fds[k++] : -1;
        fresh.out_fd = (h.fd_flags & GC_PROTO_FD_OUTPUT) ? fds[k++] : -1;
        nfds = 0;                     /* now owned by `fresh` */
    }
    /* The decoder gets exactly the files the context names: received ones,
     * else the ones the worker already holds. */
    int have_fresh = fresh.in_fd >= 0 || fresh.out_fd >= 0;
    int in_fd = !(h.fd_flags & GC_PROTO_USES_INPUT) ? -1 : have_fresh ? fresh.in_fd : cur->in_fd;
    int out_fd = !(h.fd_flags & GC_PROTO_USES_OUTPUT) ? -1 : have_fresh ? fresh.out_fd : cur->out_fd;
    int rc = gc_wire_decode(buf + sizeof h, h.ctx_len, in_fd, out_fd, &ctx, &err);
    if (rc != GC_OK) {
        r->status = rc;
        snprintf(r->text, sizeof r->text, "worker: context rejected: %.200s", err.msg);
        goto out;
    }
    zone_view *use = cur;
    if (fresh.in_fd >= 0 || fresh.out_fd >= 0) {
        fresh.gen = gc_ctx_generation(ctx);
        /* Files the decoder did not check (not named by this context) are
         * mapped at their real size; a later context is checked against it. */
        if (file_size(fresh.in_fd, &fresh.in_size, r) != GC_OK ||
            file_size(fresh.out_fd, &fresh.out_size, r) != GC_OK)
            goto out;
        if (view_map(&fresh, r) != GC_OK)
            goto out;
        use = &fresh;
    } else if ((gc_wire_input_size(ctx) > 0 || gc_wire_output_size(ctx) > 0) &&
               gc_ctx_generation(ctx) != cur->gen) {
        char msg[128];
        snprintf(msg, sizeof msg, "context names generation %llu but the worker maps %llu",
                 (unsigned long long)gc_ctx_generation(ctx), (unsigned long long)cur->gen);
        fail(r, GC_EWIRE, msg);
        goto out;
    }
    int uses_in = gc_wire_input_size(ctx) > 0, uses_out = gc_wire_output_size(ctx) > 0;
    rc = gc_wire_attach(ctx, uses_in ? use->in_map : NULL, uses_in ? use->in_size : 0,
                        uses_out ? use->out_map : NULL, uses_out ? use->out_size : 0, &err);
    if (rc != GC_OK) {
        r->status = rc;
        snprintf(r->text, sizeof r->text, "worker: %.200s", err.msg);
        goto out;
    }
    if (use == &fresh) {
        *retired = *cur;              /* released after the reply */
        *cur = fresh;
        fresh = (zone_view){.in_fd = -1, .out_fd = -1};
    }
    const gc__proc *p = gc__engine_find(e, h.process);
    if (!p) {
        char msg[128];
        snprintf(msg, sizeof msg, "process '%s' is not registered in the worker", h.process);
        fail(r, GC_ENOTFOUND, msg);
        goto out;
    }
    gc__run_process(p, ctx, r);
    *wlen = reply_wset(ctx, wbuf, r);
out:
    gc_ctx_free(ctx);
    view_release(&fresh);
drop_fds:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
}

void gc__worker_main(const gc_engine *e, int sock, int slot, pid_t parent)
{
    (void)slot;
    if (worker_isolate(sock, parent) != 0)
        worker_exit(1);
    uint8_t *buf = malloc(GC_PROTO_TASK_MAX);
    uint8_t *wbuf = malloc(GC_WSET_MSG_MAX);
    if (!buf || !wbuf) {
        free(buf);   /* one of the two was had: not left behind at exit */
        free(wbuf);
        worker_exit(1);
    }
    zone_view cur = {.in_fd = -1, .out_fd = -1};
    zone_view retired = {.in_fd = -1, .out_fd = -1};
    held_views[0] = &cur;
    held_views[1] = &retired;
    for (;;) {
        union {
            struct cmsghdr align;
            char space[CMSG_SPACE(2 * sizeof(int))];
        } cbuf;
        struct iovec iov = {.iov_base = buf, .iov_len = GC_PROTO_TASK_MAX};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cbuf.space, .msg_controllen = sizeof cbuf.space};
        ssize_t n = recvmsg(GC_WORKER_CHANNEL_FD, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;                    /* channel closed: the pool is shutting down */
        int fds[2], nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (nfds < 2)
                    fds[nfds++] = fd;
                else
                    close(fd);
            }
        }
        gc_result r;
        memset(&r, 0, sizeof r);
        uint32_t task;
        size_t wlen = 0;
        if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
            for (int i = 0; i < nfds; i++)
                close(fds[i]);
            task = n >= 8 ? ((const uint32_t *)(const void *)buf)[1] : UINT32_MAX;
            fail(&r, GC_EWIRE, "task message or its descriptors were truncated");
        } else {
            serve(e, &cur, &retired, buf, (size_t)n, fds, nfds, &task, &r, wbuf, &wlen);
        }
        send_result(task, &r, cur.gen, wbuf, wlen);
        release_later(&retired);
    }
    release_drain();
    view_release(&cur);
    free(buf);
    free(wbuf);
    worker_exit(0);
}
