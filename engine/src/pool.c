/* The process pool: pre-forked workers that persist across runs, and the
 * process-mode dispatcher. Each task's context comes from the one factory,
 * is encoded, and is sent with the zone's descriptors when the worker does not
 * hold that generation yet. The dispatcher waits on all busy workers at once
 * and turns every way a worker can fail (signal, exit, hang past the deadline,
 * malformed or oversized reply, closed channel) into that task's result, then
 * replaces the worker. Every worker it forks it also reaps. It keeps each
 * running attempt's context: a reply's write set is decoded, checked against
 * that context (what it may write) and handed to the run's commit with it,
 * exactly as a thread worker hands its own; a task the commit sends round
 * again (a conflict with retries left) goes back to the queue. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commit_int.h"
#include "ctx_int.h"
#include "engine_int.h"
#include "gapcheck/status.h"
#include "gapcheck/wire.h"
#include "proto.h"

typedef struct pool_worker {
    pid_t pid;                /* 0: empty slot */
    int sock;                 /* main side of the channel, -1 when empty */
    uint64_t gen;             /* zone generation the worker maps */
    int busy;
    uint32_t task;
    uint64_t start_ns;        /* dispatch time of the running task */
    uint64_t deadline_ns;     /* 0: none */
    gc_ctx *ctx;              /* the running attempt's context (main side) */
} pool_worker;

struct gc__pool {
    pool_worker w[GC_WORKERS_MAX];
    uint64_t registry_version;    /* registry the workers were forked with */
};

/* One run's bookkeeping. */
typedef struct pool_run {
    gc_engine *e;
    gc__pool *pool;
    gc__commit *cm;
    const gc__proc *proc;
    const gc_exec_opts *opts;
    gc_result *results;
    uint8_t *msg;                 /* GC_PROTO_TASK_MAX bytes */
    uint8_t *reply;               /* GC_PROTO_REPLY_MAX + 1 bytes */
    int in_fd, out_fd;
    uint64_t gen;
    uint32_t next, done;
    uint32_t *sends;              /* failed hand-overs per task */
    uint64_t *first_ns;           /* first dispatch per task */
    uint32_t *queue;              /* tasks to run again, or handed back */
    uint32_t nqueue;
} pool_run;

#define DISPATCH_ATTEMPTS 3
#define REAP_GRACE_NS 200000000ull   /* a worker that closed its channel gets 200 ms to exit */

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Wait for a worker to end; kill it when it does not end within grace_ns.
 * Returns the wait status. Never leaves a zombie. */
static int reap(pid_t pid, uint64_t grace_ns)
{
    int status = 0;
    uint64_t until = gc__now_ns() + grace_ns;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return status;
        if (got < 0 && errno != EINTR)
            return 0;             /* not our child any more: nothing to reap */
        if (got == 0 && gc__now_ns() >= until)
            break;
        if (got == 0)
            sleep_ns(1000000);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

static void slot_clear(pool_worker *w)
{
    if (w->sock >= 0)
        close(w->sock);
    gc_ctx_free(w->ctx);
    *w = (pool_worker){.sock = -1};
}

/* A worker's channel, both ends out of the stdio slots (gc__fd_above_stdio):
 * in 0-2 the main side would be inherited by every later worker, which keeps
 * 0-2, and its worker would never see it close. */
static int channel_pair(int sv[2], gc_err *err)
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return gc_err_set(err, GC_ESYS, "cannot create a worker channel: socketpair: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        sv[i] = gc__fd_above_stdio(sv[i]);
        if (sv[i] < 0) {
            int saved = errno;
            close(sv[1 - i]);
            return gc_err_set(err, GC_ESYS, "cannot create a worker channel: "
                              "fcntl(F_DUPFD_CLOEXEC): %s", strerror(saved));
        }
    }
    return GC_OK;
}

static int spawn(gc_engine *e, gc__pool *pool, int slot, gc_err *err)
{
    int sv[2];
    int rc = channel_pair(sv, err);
    if (rc != GC_OK)
        return rc;
    pid_t parent = getpid();
    /* Unwritten stdio buffers would be copied into the worker and printed
     * twice by anything that flushes at its exit (valgrind's freeres does). */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(sv[0]);
        close(sv[1]);
        return gc_err_set(err, GC_ESYS, "cannot fork a worker: %s", strerror(saved));
    }
    if (pid == 0) {
        close(sv[0]);
        gc__worker_main(e, sv[1], slot, parent);
    }
    close(sv[1]);
    pool->w[slot] = (pool_worker){.pid = pid, .sock = sv[0]};
    e->stats.workers_started++;
    e->stats.workers_live++;
    return GC_OK;
}

/* Close every channel first (workers exit on EOF), then reap them all. */
static void pool_stop_workers(gc_engine *e, gc__pool *pool)
{
    for (int i = 0; i < GC_WORKERS_MAX; i++)
        if (pool->w[i].pid > 0 && pool->w[i].sock >= 0) {
            close(pool->w[i].sock);
            pool->w[i].sock = -1;
        }
    for (int i = 0; i < GC_WORKERS_MAX; i++) {
        if (pool->w[i].pid > 0) {
            reap(pool->w[i].pid, REAP_GRACE_NS);
            if (e)
                e->stats.workers_live--;
        }
        slot_clear(&pool->w[i]);
    }
}

void gc__pool_free(gc__pool *pool)
{
    if (!pool)
        return;
    pool_stop_workers(NULL, pool);
    free(pool);
}

/* How a reaped worker ended, in words: "killed by signal 9 (Killed)",
 * "exited with code 1" or "vanished". */
static void describe_end(int wstatus, char *buf, size_t cap)
{
    if (WIFSIGNALED(wstatus))
        snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(wstatus),
                 strsignal(WTERMSIG(wstatus)));
    else if (WIFEXITED(wstatus))
        snprintf(buf, cap, "exited with code %d", WEXITSTATUS(wstatus));
    else
        snprintf(buf, cap, "vanished");
}

static void describe_death(int wstatus, pool_worker *w, gc_result *r)
{
    char how[64];
    describe_end(wstatus, how, sizeof how);
    r->status = WIFEXITED(wstatus) ? GC_EEXIT : GC_ECRASH;
    if (WIFSIGNALED(wstatus))
        r->signal = WTERMSIG(wstatus);
    else if (WIFEXITED(wstatus))
        r->exit_code = WEXITSTATUS(wstatus);
    snprintf(r->text, sizeof r->text, "worker %d (pid %d) %s during task %u", r->worker,
             (int)w->pid, how, w->task);
}

/* The worker in `slot` is gone or must go: reap it, then try to replace it. */
static void replace(pool_run *run, int slot)
{
    pool_worker *w = &run->pool->w[slot];
    slot_clear(w);
    run->e->stats.workers_live--;
    gc_err err;
    if (spawn(run->e, run->pool, slot, &err) == GC_OK)
        run->e->stats.workers_replaced++;
}

/* The attempt in slot is over (r says how): the commit decides, and the
 * task is either final or queued to run again. */
static void finish(pool_run *run, int slot, gc_result *r)
{
    pool_worker *w = &run->pool->w[slot];
    int again = gc__commit_finish(run->cm, w->ctx, r);
    gc_ctx_free(w->ctx);
    w->ctx = NULL;
    w->busy = 0;
    if (again) {
        run->queue[run->nqueue++] = w->task;
        return;
    }
    r->wall_ns = gc__now_ns() - run->first_ns[w->task];
    run->done++;
}

/* A busy worker died (channel closed or broken): its task fails with why. */
static void worker_died(pool_run *run, int slot)
{
    pool_worker *w = &run->pool->w[slot];
    gc_result *r = &run->results[w->task];
    close(w->sock);
    w->sock = -1;
    int wstatus = reap(w->pid, REAP_GRACE_NS);
    describe_death(wstatus, w, r);
    finish(run, slot, r);
    replace(run, slot);
}

/* Kill a worker whose task must end now (deadline, protocol violation). */
static void worker_kill(pool_run *run, int slot, int status, const char *why)
{
    pool_worker *w = &run->pool->w[slot];
    gc_result *r = &run->results[w->task];
    kill(w->pid, SIGKILL);
    reap(w->pid, 0);
    r->status = status;
    snprintf(r->text, sizeof r->text, "%s", why);
    finish(run, slot, r);
    replace(run, slot);
}

/* Send task t to the idle worker in slot. Returns GC_OK when sent, GC_EBUSY
 * when the worker's channel failed (task not started: the worker is replaced
 * and the task retried), or an error that is the task's own result. */
static int dispatch(pool_run *run, int slot, uint32_t t, gc_err *err)
{
    pool_worker *w = &run->pool->w[slot];
    gc_result *r = &run->results[t];
    uint64_t t0 = gc__now_ns();
    gc_ctx *ctx = NULL;
    int rc = gc__commit_ctx(run->cm, t, &ctx, err);
    if (rc != GC_OK)
        return rc;
    uint64_t deadline = run->opts->timeout_ms ? t0 + (uint64_t)run->opts->timeout_ms * 1000000ull : 0;
    gc_wire_set_deadline(ctx, deadline);
    gc__task_hdr h;
    memset(&h, 0, sizeof h);
    h.magic = GC_PROTO_TASK_MAGIC;
    h.task = t;
    snprintf(h.process, sizeof h.process, "%s", run->proc->name);
    int fds[2], nfds = 0;
    if (gc_wire_input_size(ctx) > 0)
        h.fd_flags |= GC_PROTO_USES_INPUT;
    if (gc_wire_output_size(ctx) > 0)
        h.fd_flags |= GC_PROTO_USES_OUTPUT;
    /* A worker new to this generation gets every file of the zone at once,
     * so that later contexts of the generation (other contracts) find them. */
    if ((h.fd_flags & (GC_PROTO_USES_INPUT | GC_PROTO_USES_OUTPUT)) && w->gen != run->gen) {
        if (run->in_fd >= 0) {
            h.fd_flags |= GC_PROTO_FD_INPUT;
            fds[nfds++] = run->in_fd;
        }
        if (run->out_fd >= 0) {
            h.fd_flags |= GC_PROTO_FD_OUTPUT;
            fds[nfds++] = run->out_fd;
        }
    }
    size_t clen = 0;
    rc = gc_wire_encode(ctx, run->msg + sizeof h, GC_WIRE_MSG_MAX, &clen, err);
    if (rc != GC_OK) {
        gc_ctx_free(ctx);
        gc__commit_unrun(run->cm, t);
        return rc;
    }
    h.ctx_len = (uint32_t)clen;
    memcpy(run->msg, &h, sizeof h);

    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(2 * sizeof(int))];
    } cbuf;
    struct iovec iov = {.iov_base = run->msg, .iov_len = sizeof h + clen};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(&cbuf, 0, sizeof cbuf);
        msg.msg_control = cbuf.space;
        msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(w->sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* The message fits (checked by the encoder), so a refused send means
         * the channel is unusable: the worker is replaced and the task goes
         * to another. */
        gc_err_set(err, GC_ESYS, "sending task %u to worker %d failed: sendmsg: %s", t, slot,
                   strerror(errno));
        gc_ctx_free(ctx);
        gc__commit_unrun(run->cm, t);
        return GC_EBUSY;
    }
    if (!run->first_ns[t])
        run->first_ns[t] = t0;
    w->ctx = ctx;
    w->busy = 1;
    w->task = t;
    w->start_ns = t0;
    w->deadline_ns = deadline;
    r->worker = slot;
    r->pid = (int)w->pid;
    run->e->stats.dispatches++;
    return GC_OK;
}

/* Read a reply from a worker whose channel is readable. */
static void receive(pool_run *run, int slot)
{
    pool_worker *w = &run->pool->w[slot];
    uint8_t *buf = run->reply;
    ssize_t n;
    do
        n = recv(w->sock, buf, GC_PROTO_REPLY_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        worker_died(run, slot);
        return;
    }
    if (n < 0) {
        /* Our side failed, not the worker: its reply is lost, so the task
         * fails with the reason and the worker is replaced. */
        char why[160];
        snprintf(why, sizeof why, "receiving the result of task %u from worker %d failed: recv: %s",
                 w->task, slot, strerror(errno));
        worker_kill(run, slot, GC_ESYS, why);
        return;
    }
    gc_result *r = &run->results[w->task];
    gc_err err;
    gc_err_clear(&err);
    uint64_t held = 0;
    const uint8_t *wbytes = NULL;
    size_t wlen = 0;
    gc__wset ws;
    /* MSG_TRUNC makes n the real size of the datagram, so an oversized reply
     * is seen as such; gc__result_check refuses it before reading past the
     * buffer. The write set is then held to the same standard: decoded by the
     * pure decoder, and checked against what this attempt's context may write. */
    int rc = gc__result_check(buf, (size_t)n, w->task, r, &held, &wbytes, &wlen, &err);
    /* A worker that failed before it had a context (it could not decode or
     * map what it received) has no write set to send; a failed attempt
     * commits nothing anyway. */
    int has_wset = rc == GC_OK && (r->status == GC_OK || wlen > 0);
    if (has_wset)
        rc = gc__wset_decode(wbytes, wlen, w->ctx->n_domain, &ws, &err);
    if (has_wset && rc == GC_OK)
        rc = gc__ctx_adopt(w->ctx, &ws, &err);
    if (rc == GC_ENOMEM) {
        /* The reply was whole; only this side ran out of memory taking it
         * in. The attempt fails (nothing of it is committed), the worker,
         * which did nothing wrong, stays. */
        r->status = rc;
        snprintf(r->text, sizeof r->text, "worker %d: %.200s", slot, err.msg);
    } else if (rc != GC_OK) {
        char why[GC_ERR_MSG_MAX + 32];
        snprintf(why, sizeof why, "worker %d: %s", slot, err.msg);
        worker_kill(run, slot, GC_EWIRE, why);
        return;
    }
    w->gen = held;
    finish(run, slot, r);
}

/* Fail every task waiting to run (first time or again) with one reason. */
static void fail_remaining(pool_run *run, int status, const char *why)
{
    while (run->nqueue > 0 || run->next < run->opts->tasks) {
        uint32_t t = run->nqueue > 0 ? run->queue[--run->nqueue] : run->next++;
        gc_result *r = &run->results[t];
        r->status = status;
        snprintf(r->text, sizeof r->text, "%s", why);
        run->done++;
    }
}

/* The next task to hand out: one to run again first, then a new one. */
static int take_task(pool_run *run, uint32_t *t)
{
    if (run->nqueue > 0)
        *t = run->queue[--run->nqueue];
    else if (run->next < run->opts->tasks)
        *t = run->next++;
    else
        return 0;
    return 1;
}

static int live_workers(const pool_run *run)
{
    int n = 0;
    for (uint32_t i = 0; i < run->opts->workers; i++)
        n += run->pool->w[i].pid > 0;
    return n;
}

static void dispatch_idle(pool_run *run)
{
    for (uint32_t s = 0; s < run->opts->workers; s++) {
        pool_worker *w = &run->pool->w[s];
        if (w->pid <= 0 || w->busy)
            continue;
        uint32_t t;
        if (!take_task(run, &t))
            break;
        gc_err err;
        gc_err_clear(&err);
        int rc = dispatch(run, (int)s, t, &err);
        if (rc == GC_OK)
            continue;
        if (rc == GC_EBUSY) {
            /* The channel failed before the task started: not the task's fault.
             * Replace the worker and hand the task out again. A worker that
             * died before its first task (it could not start) shows here
             * only as a broken channel, so the reason says how it ended. A
             * worker still alive (the send failed on our side) learns from
             * its channel's end that it must go: closed first, the grace is
             * its time to leave, not a wait it can never end. */
            char how[64];
            close(w->sock);
            w->sock = -1;
            describe_end(reap(w->pid, REAP_GRACE_NS), how, sizeof how);
            replace(run, (int)s);
            if (++run->sends[t] < DISPATCH_ATTEMPTS) {
                run->queue[run->nqueue++] = t;
                continue;
            }
            gc_result *r = &run->results[t];
            r->status = GC_ESYS;
            snprintf(r->text, sizeof r->text,
                     "task %u could not be handed to a worker after %d attempts: %.120s "
                     "(worker %s)", t, DISPATCH_ATTEMPTS, err.msg, how);
            run->done++;
        } else {
            gc_result *r = &run->results[t];
            r->status = rc;
            r->worker = (int)s;
            snprintf(r->text, sizeof r->text, "%s", err.msg);
            run->done++;
        }
    }
}

int gc__poll_timeout_ms(uint64_t deadline_ns, uint64_t now_ns)
{
    if (deadline_ns == 0)
        return -1;
    if (deadline_ns <= now_ns)
        return 0;
    /* Rounded up, so the wake-up is never before the deadline; capped, because
     * a deadline 2^31 ms or more away would turn negative in an int, and a
     * negative poll timeout means "wait forever". Waking early is harmless:
     * the dispatcher loops and waits again. */
    uint64_t ms = (deadline_ns - now_ns + 999999) / 1000000;
    return ms > (uint64_t)INT_MAX ? INT_MAX : (int)ms;
}

/* Wait for replies, deaths and deadlines of busy workers. */
static void wait_busy(pool_run *run)
{
    struct pollfd pfd[GC_WORKERS_MAX];
    int slot_of[GC_WORKERS_MAX];
    int n = 0;
    uint64_t now = gc__now_ns(), first_deadline = 0;
    for (uint32_t s = 0; s < run->opts->workers; s++) {
        pool_worker *w = &run->pool->w[s];
        if (w->pid <= 0 || !w->busy)
            continue;
        pfd[n] = (struct pollfd){.fd = w->sock, .events = POLLIN};
        slot_of[n++] = (int)s;
        if (w->deadline_ns && (!first_deadline || w->deadline_ns < first_deadline))
            first_deadline = w->deadline_ns;
    }
    if (n == 0)
        return;
    int ready = poll(pfd, (nfds_t)n, gc__poll_timeout_ms(first_deadline, now));
    if (ready < 0 && errno != EINTR) {
        /* Nothing can be waited for: the busy tasks fail now, rather than
         * the run looping on a call that keeps failing. */
        char why[160];
        int e = errno;
        for (int i = 0; i < n; i++) {
            snprintf(why, sizeof why, "waiting for the result of task %u failed: poll: %s",
                     run->pool->w[slot_of[i]].task, strerror(e));
            worker_kill(run, slot_of[i], GC_ESYS, why);
        }
        return;
    }
    for (int i = 0; i < n && ready > 0; i++) {
        if (pfd[i].revents & POLLIN)
            receive(run, slot_of[i]);
        else if (pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL))
            worker_died(run, slot_of[i]);
    }
    now = gc__now_ns();
    for (int i = 0; i < n; i++) {
        pool_worker *w = &run->pool->w[slot_of[i]];
        if (w->pid > 0 && w->busy && w->deadline_ns && now >= w->deadline_ns) {
            char why[128];
            snprintf(why, sizeof why, "task %u passed its deadline of %u ms; worker %d (pid %d) killed",
                     w->task, run->opts->timeout_ms, slot_of[i], (int)w->pid);
            worker_kill(run, slot_of[i], GC_ETIMEOUT, why);
        }
    }
}

/* Make sure the pool exists, runs the current registry and has enough workers. */
static int pool_prepare(gc_engine *e, uint32_t workers, gc_err *err)
{
    if (!e->pool) {
        e->pool = calloc(1, sizeof *e->pool);
        if (!e->pool)
            return gc_err_set(err, GC_ENOMEM, "pool: out of memory");
        for (int i = 0; i < GC_WORKERS_MAX; i++)
            e->pool->w[i] = (pool_worker){.sock = -1};
        e->pool->registry_version = e->registry_version;
    }
    if (e->pool->registry_version != e->registry_version) {
        /* Workers know the processes registered when they were forked. */
        pool_stop_workers(e, e->pool);
        e->stats.pool_restarts++;
        e->pool->registry_version = e->registry_version;
    }
    int live = 0;
    gc_err last;
    gc_err_clear(&last);
    for (uint32_t s = 0; s < workers; s++) {
        if (e->pool->w[s].pid > 0 || spawn(e, e->pool, (int)s, &last) == GC_OK)
            live++;
    }
    if (live == 0)
        return gc_err_set(err, GC_ESYS, "pool: no worker could be started: %s", last.msg);
    return GC_OK;
}

int gc__pool_warm(gc_engine *e, uint32_t workers, gc_err *err)
{
    return pool_prepare(e, workers, err);
}

int gc__pool_run(gc_engine *e, gc__commit *cm, const gc__proc *p, const gc_exec_opts *opts,
                 gc_result *results, gc_err *err)
{
    int rc = pool_prepare(e, opts->workers, err);
    if (rc != GC_OK)
        return rc;
    pool_run run = {.e = e, .pool = e->pool, .cm = cm, .proc = p, .opts = opts,
                    .results = results, .in_fd = -1, .out_fd = -1};
    const gc_zone *zone = gc_state_heavy(cm->st);
    if (zone) {
        run.gen = gc_zone_generation(zone);
        run.in_fd = gc_zone_input_fd(zone);
        run.out_fd = gc_zone_output_fd(zone);
    }
    run.msg = malloc(GC_PROTO_TASK_MAX);
    run.reply = malloc(GC_PROTO_REPLY_MAX + 1);
    run.sends = calloc(opts->tasks, sizeof *run.sends);
    run.first_ns = calloc(opts->tasks, sizeof *run.first_ns);
    run.queue = calloc(opts->tasks, sizeof *run.queue);
    if (!run.msg || !run.reply || !run.sends || !run.first_ns || !run.queue) {
        rc = gc_err_set(err, GC_ENOMEM, "pool: out of memory for %u tasks", opts->tasks);
        goto out;
    }
    /* One exit test, right after work is handed out: the run ends when
     * every task has its final result. */
    for (;;) {
        dispatch_idle(&run);
        if (run.done >= opts->tasks)
            break;
        /* A busy worker is a live one (a slot is cleared whole when its
         * worker goes), so with none alive no task is in flight either. */
        if (live_workers(&run) == 0) {
            fail_remaining(&run, GC_ESYS, "no worker is alive and none could be started");
            break;
        }
        wait_busy(&run);
    }
out:
    free(run.msg);
    free(run.reply);
    free(run.sends);
    free(run.first_ns);
    free(run.queue);
    return rc;
}
