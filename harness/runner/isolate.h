/* harness: running one function in an isolated child (hr_child_*).
 *
 * The kselftest model: each run is forked into its own process group; the
 * parent watches it (pidfd + poll, or a short tick where pidfd is missing)
 * against a deadline and kills the whole group with SIGKILL when it passes.
 * The child gets /dev/null as stdin, a pipe as stdout+stderr (captured, at
 * most HR_OUTPUT_MAX bytes kept) and a second pipe, fd 3, on which it sends
 * ONE fixed-size hr_msg; every other inherited descriptor is closed, so a
 * child does not hold another child's pipes open. The parent treats the
 * message as untrusted: size, magic, counts, NUL-termination are checked.
 * Several children can be in flight: the caller polls their descriptors
 * together (hr_child_pollfds) and steps each (hr_child_step). Every started
 * child is reaped exactly once, by hr_child_step or hr_child_abort, and its
 * descriptors are closed on every path. */
#ifndef GAPCHECK_HARNESS_ISOLATE_H
#define GAPCHECK_HARNESS_ISOLATE_H

#include <poll.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "case.h"
#include "result.h"

#define HR_MSG_MAGIC 0x67617063u   /* "gapc" */
#define HR_MSG_VERSION 1u
#define HR_OUTPUT_MAX (64 * 1024)
#define HR_CHILD_NFDS 3            /* pollfds per child */

/* What the child sends back: the case's outcome and what it left behind. */
typedef struct hr_msg {
    uint32_t magic, version, size;
    int32_t rc;                    /* hc_case_run's return value */
    double run_ms;                 /* wall time of hc_case_run alone, in the child */
    hr_leaks leaks;
    hc_outcome out;
    uint32_t magic_end;            /* catches a truncated or shifted write */
} hr_msg;

/* The body run in the child: fill msg->rc, run_ms, leaks and out. The
 * framing fields are set by the caller. */
typedef void (*hr_child_fn)(void *arg, hr_msg *msg);

typedef struct hr_child {
    pid_t pid;                     /* 0 when not started or already reaped */
    pid_t case_pid;                /* the child's pid, kept after reaping */
    int pidfd, msg_fd, out_fd;     /* -1 when closed */
    double start, deadline;        /* hr_now() seconds */
    unsigned char msgbuf[sizeof(hr_msg)];
    size_t msglen;
    int msg_overflow;              /* the child sent more than one message */
    char *out;                     /* captured output, owned (NUL-terminated) */
    size_t outlen;
    int out_truncated;
    /* Set once reaped: */
    int timed_out;
    int exited, exit_code, signal;
    struct rusage ru;
    double wall_ms;                /* fork to exit, seen by the parent */
    int msg_valid;
    char msg_error[160];           /* why the message was rejected */
    hr_msg msg;
} hr_child;

/* Monotonic seconds. */
double hr_now(void);

/* Fork a child running fn(arg). timeout_s <= 0 means no deadline. Returns 0,
 * or -1 with the step that failed and why in err (nothing is left open then). */
int hr_child_start(hr_child *c, hr_child_fn fn, void *arg, double timeout_s, char *err,
                   size_t errlen);

/* Fill up to HR_CHILD_NFDS pollfds; returns how many. */
int hr_child_pollfds(const hr_child *c, struct pollfd *p);

/* Handle the events in p (as filled by hr_child_pollfds, np entries) and the
 * clock: reads output, enforces the deadline (SIGKILL to the group), and
 * when the child has exited, kills what is left of its group, reaps it and
 * validates its message. Returns 1 when the child is finished, 0 otherwise. */
int hr_child_step(hr_child *c, const struct pollfd *p, int np);

/* Kill the group now and reap (interrupts). The child counts as timed out. */
void hr_child_abort(hr_child *c);

/* Run to completion (one child, blocking). Returns 0, or -1 with err as
 * hr_child_start. */
int hr_child_run(hr_child *c, hr_child_fn fn, void *arg, double timeout_s, char *err,
                 size_t errlen);

/* Free the captured output (unless its ownership was taken: set c->out NULL). */
void hr_child_release(hr_child *c);

/* Check a received message; on failure returns -1 with the reason in err. */
int hr_msg_validate(hr_msg *m, size_t len, char *err, size_t errlen);

#endif
