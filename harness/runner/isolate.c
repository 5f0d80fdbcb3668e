/* harness: isolated child runs (see isolate.h). */
#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gapcheck/measure.h"

/* A child without pidfd is polled on this tick (seconds). */
#define HR_TICK_S 0.02

double hr_now(void)
{
    return (double)gc_now_ns() / 1e9;   /* the one clock, in seconds */
}

static int hr__pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

static void hr__close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static int hr__write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Close every descriptor from `from` up; close_range when the kernel has it. */
static void hr__close_from(int from)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)from, ~0u, 0u) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = from; fd < (max > 0 ? max : 1024); fd++)
        close((int)fd);
}

/* In the child, never returns. Only async-signal-safe-ish work before fn:
 * the parent is single-threaded, so the whole libc is usable after fork. */
static void hr__child_main(hr_child_fn fn, void *arg, int msg_w, int out_w, pid_t parent)
{
    setpgid(0, 0);
    /* If the runner dies, its cases die with it rather than run unwatched. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* Move both pipe ends above the target numbers before dup2 onto 0-3. */
    int m = fcntl(msg_w, F_DUPFD, 10);
    int o = fcntl(out_w, F_DUPFD, 10);
    int nul = open("/dev/null", O_RDONLY);
    if (m < 0 || o < 0 || nul < 0)
        _exit(126);
    if (dup2(nul, 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0 || dup2(m, 3) < 0)
        _exit(126);
    hr__close_from(4);

    hr_msg *msg = calloc(1, sizeof *msg);
    if (!msg)
        _exit(125);
    fn(arg, msg);
    msg->magic = HR_MSG_MAGIC;
    msg->version = HR_MSG_VERSION;
    msg->size = (uint32_t)sizeof *msg;
    msg->magic_end = HR_MSG_MAGIC;
    fflush(NULL);   /* what the case printed goes first, as it happened */
    int rc = hr__write_all(3, msg, sizeof *msg);
    free(msg);   /* so that a memcheck of the case sees nothing of ours */
    _exit(rc == 0 ? 0 : 124);   /* _exit: the parent's atexit/stdio are not ours */
}

int hr_child_start(hr_child *c, hr_child_fn fn, void *arg, double timeout_s, char *err,
                   size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->pidfd = c->msg_fd = c->out_fd = -1;
    int mp[2] = {-1, -1}, op[2] = {-1, -1};
    const char *step = "cannot allocate its output buffer";
    c->out = malloc(HR_OUTPUT_MAX + 1);
    if (!c->out)
        goto fail;
    c->out[0] = '\0';
    step = "cannot create its result and output pipes";
    if (pipe2(mp, O_CLOEXEC) != 0 || pipe2(op, O_CLOEXEC) != 0)
        goto fail;
    fflush(NULL);   /* or the child would print the parent's buffered text again */
    pid_t parent = getpid();
    c->start = hr_now();
    c->deadline = timeout_s > 0 ? c->start + timeout_s : INFINITY;
    step = "cannot fork";
    pid_t pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0)
        hr__child_main(fn, arg, mp[1], op[1], parent);
    /* Both sides set the group, so that it exists before either relies on it. */
    setpgid(pid, pid);
    c->pid = pid;
    c->case_pid = pid;
    close(mp[1]);
    close(op[1]);
    c->msg_fd = mp[0];
    c->out_fd = op[0];
    fcntl(c->msg_fd, F_SETFL, O_NONBLOCK);
    fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
    c->pidfd = hr__pidfd_open(pid);   /* -1: fall back to ticking */
    return 0;
fail:
    snprintf(err, errlen, "could not start the case's process: %s: %s", step, strerror(errno));
    for (int i = 0; i < 2; i++) {
        hr__close(&mp[i]);
        hr__close(&op[i]);
    }
    free(c->out);
    c->out = NULL;
    return -1;
}

int hr_child_pollfds(const hr_child *c, struct pollfd *p)
{
    int n = 0;
    if (c->pidfd >= 0)
        p[n++] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
    if (c->msg_fd >= 0)
        p[n++] = (struct pollfd){.fd = c->msg_fd, .events = POLLIN};
    if (c->out_fd >= 0)
        p[n++] = (struct pollfd){.fd = c->out_fd, .events = POLLIN};
    return n;
}

/* Read what is available; close at EOF. Never blocks (O_NONBLOCK). */
static void hr__drain(hr_child *c)
{
    char tmp[8192];
    while (c->msg_fd >= 0) {
        ssize_t n = read(c->msg_fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;   /* EAGAIN: nothing more now */
        if (n == 0) {
            hr__close(&c->msg_fd);
            break;
        }
        size_t room = sizeof c->msgbuf - c->msglen;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(c->msgbuf + c->msglen, tmp, take);
        c->msglen += take;
        if (take < (size_t)n)
            c->msg_overflow = 1;
    }
    while (c->out_fd >= 0) {
        ssize_t n = read(c->out_fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) {
            hr__close(&c->out_fd);
            break;
        }
        size_t room = HR_OUTPUT_MAX - c->outlen;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(c->out + c->outlen, tmp, take);
        c->outlen += take;
        c->out[c->outlen] = '\0';
        if (take < (size_t)n)
            c->out_truncated = 1;   /* keep reading: a blocked writer never exits */
    }
}

static void hr__force_nul(char *s, size_t size)
{
    s[size - 1] = '\0';
}

int hr_msg_validate(hr_msg *m, size_t len, char *err, size_t errlen)
{
#define HR_BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
    if (len != sizeof *m)
        HR_BAD("result message of %zu bytes, expected %zu", len, sizeof *m);
    if (m->magic != HR_MSG_MAGIC || m->magic_end != HR_MSG_MAGIC)
        HR_BAD("result message with a bad magic number");
    if (m->version != HR_MSG_VERSION || m->size != sizeof *m)
        HR_BAD("result message of version %u / size %u, expected %u / %zu", m->version,
               m->size, HR_MSG_VERSION, sizeof *m);
    if (m->rc > 0 || m->rc < -1000)
        HR_BAD("result message with status %d, not a gc_status", (int)m->rc);
    if (!isfinite(m->run_ms) || m->run_ms < 0)
        HR_BAD("result message with a run time that is not a time");
    const hr_leaks *l = &m->leaks;
    if (l->fds < 0 || l->memfds < 0 || l->maps < 0 || l->children < 0 || l->fds > 1000000 ||
        l->memfds > 1000000 || l->maps > 1000000 || l->children > 1000000)
        HR_BAD("result message with impossible leak counts");
    hc_outcome *o = &m->out;
    if (o->passed != 0 && o->passed != 1)
        HR_BAD("result message with passed=%d", o->passed);
    if (o->nmetrics < 0 || o->nmetrics > HC_METRICS_MAX)
        HR_BAD("result message with %d metrics (max %d)", o->nmetrics, HC_METRICS_MAX);
    if (o->nclaims < 0 || o->nclaims > HC_CLAIMS_MAX)
        HR_BAD("result message with %d claims (max %d)", o->nclaims, HC_CLAIMS_MAX);
    if (o->tasks_ok > o->tasks)
        HR_BAD("result message with %u of %u tasks ok", o->tasks_ok, o->tasks);
    if (o->npids < 0 || o->npids > HC_PIDS_MAX)
        HR_BAD("result message with %d pids (max %d)", o->npids, HC_PIDS_MAX);
    for (int i = 0; i < o->npids; i++)
        if (o->pids[i] <= 0)
            HR_BAD("result message with pid %d", (int)o->pids[i]);
#undef HR_BAD
    /* Strings: terminated whatever the child wrote. */
    hr__force_nul(o->message, sizeof o->message);
    for (int i = 0; i < HC_METRICS_MAX; i++) {
        hr__force_nul(o->metrics[i].name, sizeof o->metrics[i].name);
        hr__force_nul(o->metrics[i].unit, sizeof o->metrics[i].unit);
    }
    for (int i = 0; i < HC_CLAIMS_MAX; i++) {
        hc_claim *cl = &o->claims[i];
        hr__force_nul(cl->text, sizeof cl->text);
        hr__force_nul(cl->metric, sizeof cl->metric);
        hr__force_nul(cl->unit, sizeof cl->unit);
        /* A claim without a finite figure was not measured, so it does not
         * hold, whatever the child says. */
        cl->holds = cl->holds && isfinite(cl->measured) ? 1 : 0;
    }
    return 0;
}

/* The child has exited (a zombie, so its pid and group id are still ours):
 * kill what is left of the group, collect the pipes, reap, validate. */
static void hr__finish(hr_child *c)
{
    kill(-c->pid, SIGKILL);
    hr__drain(c);
    int status = 0;
    pid_t r;
    do
        r = wait4(c->pid, &status, 0, &c->ru);
    while (r < 0 && errno == EINTR);
    c->wall_ms = (hr_now() - c->start) * 1000.0;
    if (r == c->pid) {
        if (WIFEXITED(status)) {
            c->exited = 1;
            c->exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            c->signal = WTERMSIG(status);
        }
    }
    c->pid = 0;
    hr__close(&c->pidfd);
    hr__close(&c->msg_fd);
    hr__close(&c->out_fd);
    if (c->timed_out || c->signal) {
        c->msg_valid = 0;
    } else if (c->msg_overflow) {
        snprintf(c->msg_error, sizeof c->msg_error, "child sent more than one result message");
    } else if (c->msglen == 0) {
        snprintf(c->msg_error, sizeof c->msg_error,
                 "child exited with status %d without sending a result", c->exit_code);
    } else {
        memcpy(&c->msg, c->msgbuf, sizeof c->msg);   /* aligned copy */
        c->msg_valid =
            hr_msg_validate(&c->msg, c->msglen, c->msg_error, sizeof c->msg_error) == 0;
    }
}

static int hr__exited(hr_child *c)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* WNOWAIT: look without reaping, so the group can still be killed safely. */
    if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == ECHILD;   /* should not happen: treat as gone */
    return si.si_pid == c->pid;
}

int hr_child_step(hr_child *c, const struct pollfd *p, int np)
{
    (void)p;
    (void)np;   /* reading is cheap and non-blocking: just try every pipe */
    if (c->pid == 0)
        return 1;
    hr__drain(c);
    if (hr__exited(c)) {
        hr__finish(c);
        return 1;
    }
    if (hr_now() >= c->deadline) {
        c->timed_out = 1;
        kill(-c->pid, SIGKILL);
        kill(c->pid, SIGKILL);   /* the child itself, should both setpgid calls have failed */
        hr__finish(c);
        return 1;
    }
    return 0;
}

void hr_child_abort(hr_child *c)
{
    if (c->pid == 0)
        return;
    c->timed_out = 1;
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL);
    hr__finish(c);
}

int hr_child_run(hr_child *c, hr_child_fn fn, void *arg, double timeout_s, char *err,
                 size_t errlen)
{
    if (hr_child_start(c, fn, arg, timeout_s, err, errlen) != 0)
        return -1;
    while (!hr_child_step(c, NULL, 0)) {
        struct pollfd p[HR_CHILD_NFDS];
        int np = hr_child_pollfds(c, p);
        double wait = c->deadline - hr_now();
        if (c->pidfd < 0 && wait > HR_TICK_S)
            wait = HR_TICK_S;
        int ms = wait <= 0 ? 0 : wait > 1e6 ? 1000000 : (int)ceil(wait * 1000);
        poll(p, (nfds_t)np, ms);
    }
    return 0;
}

void hr_child_release(hr_child *c)
{
    free(c->out);
    c->out = NULL;
}
