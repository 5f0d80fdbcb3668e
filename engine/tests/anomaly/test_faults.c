/* Single faults with a precise expectation, beside the loops: a read error
 * or EINTR in the decoder and the pool is never a spin, a persistent poll
 * failure ends the run instead of looping, errno survives a failed zone
 * allocation, a value refused for its name leaks nothing, nor does a key
 * set again, a value the state cannot copy is refused and never borrowed,
 * and gc_execute_parallel refuses a NULL engine, state, results array or
 * process name; a worker that died while idle costs the next run no task, an
 * interrupted send, receive or wait costs it no worker, a failed receive
 * costs its task and worker only, and one that cannot start is reported with
 * its code 1; a publish failing twice keeps the zone, and a failed
 * allocation unmaps nothing it did not map. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ctx_int.h"
#include "fault.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"
#include "testutil.h"

static const char *const HEAVY[] = {"a", "b"};

/* A factory context of a state with a zone, encoded. */
typedef struct wire_fx {
    gc_state *st;
    gc_ctx *ctx;
    uint8_t msg[GC_WIRE_MSG_MAX];
    size_t len;
} wire_fx;

static void wire_open(wire_fx *f)
{
    f->st = tu_state(2 * 4096, 100, 0);
    gc_contract c = {.heavy_reads = HEAVY, .n_heavy_reads = 2};
    ck_assert_int_eq(gc_ctx_from_state(f->st, &c, NULL, 0, 1, &f->ctx, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_encode(f->ctx, f->msg, sizeof f->msg, &f->len, NULL), GC_OK);
}

static void wire_close(wire_fx *f)
{
    gc_ctx_free(f->ctx);
    gc_state_free(f->st);
}

static int wire_decode(wire_fx *f, gc_ctx **d, gc_err *err)
{
    return gc_wire_decode(f->msg, f->len, gc_zone_input_fd(gc_state_heavy(f->st)), -1, d, err);
}

/* A read that keeps failing is reported once, not retried forever. */
START_TEST(decoder_read_error_is_reported_not_retried)
{
    wire_fx f;
    wire_open(&f);
    gc_ctx *d = NULL;
    gc_err err;
    gcf_plan p = {.calls = GCF_BIT(GCF_PREAD), .nth = 1, .times = GCF_FOREVER, .err = EIO,
                  .scope = GCF_HERE};
    gcf_arm(&p);
    errno = 0;
    int rc = wire_decode(&f, &d, &err);
    int e = errno;
    gcf_disarm();
    ck_assert_int_eq(rc, GC_ESYS);
    ck_assert_int_eq(e, EIO);
    ck_assert_uint_eq(gcf_seen(GCF_PREAD), 1);
    ck_assert_str_eq(err.msg, "wire: cannot read the input file's manifest: pread: Input/output error");
    ck_assert_ptr_null(d);
    wire_close(&f);
}
END_TEST

/* EINTR on every read, once: each is retried and the decode succeeds. */
START_TEST(decoder_retries_eintr)
{
    wire_fx f;
    wire_open(&f);
    gc_ctx *d = NULL;
    gc_err err;
    ck_assert_int_eq(wire_decode(&f, &d, &err), GC_OK);
    gc_ctx_free(d);
    gcf_plan p = {.calls = GCF_BIT(GCF_PREAD), .nth = 1, .times = GCF_FOREVER, .every = 2,
                  .err = EINTR, .scope = GCF_HERE};
    gcf_arm(&p);
    d = NULL;
    int rc = wire_decode(&f, &d, &err);
    gcf_disarm();
    ck_assert_msg(rc == GC_OK, "%s", err.msg);
    ck_assert_uint_eq(gcf_fired(), 2);           /* manifest head and entries */
    ck_assert_uint_eq(gcf_seen(GCF_PREAD), 4);
    ck_assert_int_eq(gc_wire_compare(f.ctx, d, &err), GC_OK);
    gc_ctx_free(d);
    wire_close(&f);
}
END_TEST

static void exec_fx(gc_engine **e, gc_state **st)
{
    ck_assert_int_eq(gc_engine_new(e, NULL), GC_OK);
    ck_assert_int_eq(gc_builtins_register(*e, NULL), GC_OK);
    *st = tu_state(4096, 100, 0);
}

/* The pool fault tests' run: checksum over both heavy entries (the answer
 * every healthy task must give, tu_checksum of HEAVY) in process mode. */
static gc_exec_opts checksum_opts(uint32_t workers, uint32_t tasks)
{
    static const gc_contract c = {.heavy_reads = HEAVY, .n_heavy_reads = 2};
    return (gc_exec_opts){.process = "checksum", .mode = GC_MODE_PROCESS, .workers = workers,
                          .tasks = tasks, .contract = &c};
}

/* One run with plan p armed for it alone. */
static int run_armed(const gcf_plan *p, gc_engine *e, gc_state *st, const gc_exec_opts *o,
                     gc_result *res, gc_err *err)
{
    gcf_arm(p);
    int rc = gc_execute_parallel(e, st, o, res, err);
    gcf_disarm();
    return rc;
}

/* poll failing for good: the busy tasks fail with ESYS and the run ends
 * (the injector aborts a run that retries it GCF_SPIN_LIMIT times). */
START_TEST(pool_poll_failure_ends_the_run)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(2, 3);
    gc_result res[3];
    gc_err err;
    gcf_plan p = {.calls = GCF_BIT(GCF_POLL), .nth = 1, .times = GCF_FOREVER, .err = ENOMEM,
                  .scope = GCF_HERE};
    int rc = run_armed(&p, e, st, &o, res, &err);
    ck_assert_int_eq(rc, GC_OK);
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(res[t].status, GC_ESYS);
        ck_assert_msg(strstr(res[t].text, "poll") && strstr(res[t].text, strerror(ENOMEM)),
                      "task %d: %s", t, res[t].text);
    }
    /* At most one look at an idle worker and one wait per task. */
    ck_assert_uint_le(gcf_seen(GCF_POLL), 2 * 3);
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    for (int t = 0; t < 3; t++)
        ck_assert_uint_eq((uint64_t)res[t].value, tu_checksum(st, HEAVY, 2));
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A worker that died while idle between runs costs the next run nothing:
 * the send to it is refused (its channel is closed), so it is replaced and
 * the task handed to the new worker. */
START_TEST(idle_dead_worker_is_replaced)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(2, 4);
    gc_result res[4];
    gc_err err;
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    pid_t victim = res[0].pid;
    ck_assert_int_gt(victim, 0);
    ck_assert_int_eq(kill(victim, SIGKILL), 0);
    siginfo_t si;   /* dead, and left for the pool to reap */
    ck_assert_int_eq(waitid(P_PID, (id_t)victim, &si, WEXITED | WNOWAIT), 0);
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    for (int t = 0; t < 4; t++) {
        ck_assert_msg(res[t].status == GC_OK, "task %d: %s", t, res[t].text);
        ck_assert_int_ne(res[t].pid, victim);
    }
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_replaced, 1);
    ck_assert_uint_eq(s.workers_live, 2);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A signal that interrupts the dispatcher's send, receive or wait is not a
 * failure of the worker: the call is made again, every task ends with its
 * result, and no worker is replaced (a replaced worker is a fork and a cold
 * start inside the caller's run, which gc_engine_warm promised not to do). */
START_TEST(pool_interrupted_call_costs_no_worker)
{
    static const gcf_call calls[] = {GCF_SENDMSG, GCF_RECV, GCF_POLL};
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(2, 4);
    gc_result res[4];
    gc_err err;
    ck_assert_int_eq(gc_engine_warm(e, 2, &err), GC_OK);
    gcf_plan p = {.calls = GCF_BIT(calls[_i]), .nth = 1, .times = 1, .err = EINTR,
                  .scope = GCF_HERE};
    int rc = run_armed(&p, e, st, &o, res, &err);
    ck_assert_msg(rc == GC_OK, "%s", err.msg);
    ck_assert_uint_eq(gcf_fired(), 1);
    for (int t = 0; t < 4; t++) {
        ck_assert_msg(res[t].status == GC_OK, "%s: task %d: %s", gcf_call_name(calls[_i]), t,
                      res[t].text);
        ck_assert_uint_eq((uint64_t)res[t].value, tu_checksum(st, HEAVY, 2));
    }
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_msg(s.workers_replaced == 0, "EINTR on %s replaced %llu worker(s)",
                  gcf_call_name(calls[_i]), (unsigned long long)s.workers_replaced);
    ck_assert_uint_eq(s.workers_started, 2);
    ck_assert_uint_eq(s.dispatches, 4);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A receive that fails on the dispatcher's side (not EINTR, not the
 * worker's end) may have lost the reply: the task fails with ESYS, its text
 * names recv, the task, the worker and the errno, and the worker, whose
 * channel is in an unknown state, is killed and replaced. A failure that
 * persists fails each task once and ends the run (the injector aborts one
 * that keeps retrying the call); the next run is whole again. */
START_TEST(pool_receive_failure_fails_its_task_and_replaces_the_worker)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(2, 3);
    gc_result res[3];
    gc_err err;
    ck_assert_int_eq(gc_engine_warm(e, 2, &err), GC_OK);
    gcf_plan p = {.calls = GCF_BIT(GCF_RECV), .nth = 1, .times = GCF_FOREVER, .err = EIO,
                  .scope = GCF_HERE};
    int rc = run_armed(&p, e, st, &o, res, &err);
    ck_assert_msg(rc == GC_OK, "%s", err.msg);
    ck_assert_uint_eq(gcf_fired(), 3);   /* one failed receive per task, none retried */
    for (int t = 0; t < 3; t++) {
        char want[128];
        snprintf(want, sizeof want, "receiving the result of task %d from worker %d failed: "
                 "recv: %s", t, res[t].worker, strerror(EIO));
        ck_assert_int_eq(res[t].status, GC_ESYS);
        ck_assert_str_eq(res[t].text, want);
    }
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_replaced, 3);
    ck_assert_uint_eq(s.workers_live, 2);
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    for (int t = 0; t < 3; t++) {
        ck_assert_msg(res[t].status == GC_OK, "task %d: %s", t, res[t].text);
        ck_assert_uint_eq((uint64_t)res[t].value, tu_checksum(st, HEAVY, 2));
    }
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_replaced, 3);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

static int fd_closed(int fd)
{
    errno = 0;
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* With stdin and stdout closed (a daemon), the engine's new zone file and
 * worker channel land in 0 and 1 and are moved above the standard slots. A
 * move that fails (F_DUPFD_CLOEXEC: EMFILE) refuses the zone or the worker
 * with the call and errno named, and leaves nothing: no descriptor, the
 * slots free again; the same step then succeeds. */
START_TEST(failed_move_out_of_stdio_leaves_nothing)
{
    int keep[2];
    for (int fd = 0; fd < 2; fd++) {
        keep[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        ck_assert_int_ge(keep[fd], 3);
        ck_assert_int_eq(close(fd), 0);
    }
    gc_census before, after;
    tu_census_take(&before);
    gc_err err;
    /* The zone's input file: the first fcntl of an allocation is its move. */
    gc_zone *z;
    ck_assert_int_eq(gc_zone_new(&z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", 10, 0, NULL), GC_OK);
    gcf_plan p = {.calls = GCF_BIT(GCF_FCNTL), .nth = 1, .err = EMFILE, .scope = GCF_HERE};
    gcf_arm(&p);
    errno = 0;
    int rc = gc_zone_allocate(z, &err);
    int e = errno;
    gcf_disarm();
    ck_assert_int_eq(rc, GC_ESYS);
    ck_assert_int_eq(e, EMFILE);
    ck_assert_msg(strstr(err.msg, "fcntl(F_DUPFD_CLOEXEC) of a zone file") &&
                  strstr(err.msg, strerror(EMFILE)), "%s", err.msg);
    ck_assert(fd_closed(0) && fd_closed(1));
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    ck_assert_int_ge(gc_zone_input_fd(z), 3);
    gc_zone_free(z);
    /* A worker channel: its ends land in 0 and 1; the move of either fails. */
    gc_engine *eng;
    ck_assert_int_eq(gc_engine_new(&eng, NULL), GC_OK);
    for (uint32_t nth = 1; nth <= 2; nth++) {
        p.nth = nth;
        gcf_arm(&p);
        rc = gc_engine_warm(eng, 1, &err);
        gcf_disarm();
        ck_assert_int_eq(rc, GC_ESYS);
        ck_assert_msg(strstr(err.msg, "cannot create a worker channel: fcntl(F_DUPFD_CLOEXEC)") &&
                      strstr(err.msg, strerror(EMFILE)), "move %u: %s", nth, err.msg);
        ck_assert_msg(fd_closed(0) && fd_closed(1), "move %u left a descriptor in 0-1", nth);
    }
    ck_assert_int_eq(gc_engine_warm(eng, 1, &err), GC_OK);
    gc_engine_free(eng);
    tu_census_take(&after);
    ck_assert_int_eq(after.fds, before.fds);
    ck_assert_int_eq(after.memfds, before.memfds);
    for (int fd = 0; fd < 2; fd++) {
        ck_assert_int_eq(dup2(keep[fd], fd), fd);
        close(keep[fd]);
    }
}
END_TEST

/* Every send of a task refused (ENOBUFS, for good): after 3 attempts, each
 * on a fresh worker, the task fails ESYS and its text names the send that
 * failed and its errno, and how the last worker ended: it was healthy, so
 * once its channel closed it left by itself (code 0), not killed by the pool
 * at the end of a grace it could never end; the run ends and the next one,
 * without the fault, is whole. */
START_TEST(task_no_worker_could_take_names_the_send)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(1, 1);
    gc_result res[1];
    gc_err err;
    ck_assert_int_eq(gc_engine_warm(e, 1, &err), GC_OK);
    gcf_plan p = {.calls = GCF_BIT(GCF_SENDMSG), .nth = 1, .times = GCF_FOREVER,
                  .err = ENOBUFS, .scope = GCF_HERE};
    int rc = run_armed(&p, e, st, &o, res, &err);
    ck_assert_int_eq(rc, GC_OK);
    ck_assert_int_eq(res[0].status, GC_ESYS);
    ck_assert_msg(strstr(res[0].text, "after 3 attempts") &&
                  strstr(res[0].text, "sending task 0 to worker 0 failed: sendmsg: ") &&
                  strstr(res[0].text, strerror(ENOBUFS)), "%s", res[0].text);
    /* Under valgrind a worker's own exit (the tool's leak check) outlasts the grace. */
    ck_assert_msg(strstr(res[0].text, "(worker exited with code 0)") ||
                  (gc_census_under_valgrind() && strstr(res[0].text, "(worker killed by signal 9")),
                  "%s", res[0].text);
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_replaced, 3);
    ck_assert_uint_eq(s.dispatches, 0);
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    ck_assert_uint_eq((uint64_t)res[0].value, tu_checksum(st, HEAVY, 2));
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A worker that cannot leave the main process's world behind (moving its
 * channel into place, dup2, or closing the rest, close_range, fails) or
 * cannot allocate its message buffers (malloc) ends at once with code 1, and
 * the task it could not serve says so: a reader can tell a worker that
 * failed at start from one that was healthy (code 0). */
START_TEST(worker_failing_at_start_is_reported_with_code_1)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(1, 1);
    gc_result res[1];
    gc_err err;
    static const gcf_call calls[] = {GCF_CLOSE_RANGE, GCF_DUP2, GCF_MALLOC};
    gcf_plan p = {.calls = GCF_BIT(calls[_i]), .nth = 1, .times = GCF_FOREVER, .err = EIO,
                  .scope = GCF_CHILD};
    int rc = run_armed(&p, e, st, &o, res, &err);
    ck_assert_int_eq(rc, GC_OK);
    ck_assert_msg(res[0].status != GC_OK && strstr(res[0].text, "exited with code 1"), "%s: %s %s",
                  gcf_call_name(calls[_i]), gc_status_name(res[0].status), res[0].text);
    /* The pool replaced the failed worker during that run, while the plan
     * was armed: if the replacement reached its start before gcf_disarm, it
     * fails the same way, taking the next task with it (seen under load).
     * The run after it meets only workers forked after the disarm. */
    for (int run = 0; run < 2; run++) {
        ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
        if (run == 0 && res[0].status == GC_EEXIT && strstr(res[0].text, "exited with code 1"))
            continue;
        ck_assert_msg(res[0].status == GC_OK, "run %d after the failure: %s %s", run + 2,
                      gc_status_name(res[0].status), res[0].text);
        ck_assert_uint_eq((uint64_t)res[0].value, tu_checksum(st, HEAVY, 2));
        break;
    }
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A worker that cannot start its release helper (pthread_create refused in
 * every worker) releases each old generation itself, right after the reply
 * of the task that retired it: over generation changes every task is
 * served, and its census finds nothing stray, nothing old still mapped or
 * open, with no helper to wait for. */
START_TEST(worker_without_release_helper_releases_generations_itself)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(1, 1);
    gc_result res[1];
    gc_err err;
    gcf_plan p = {.calls = GCF_BIT(GCF_PTHREAD_CREATE), .nth = 1, .times = GCF_FOREVER,
                  .err = EAGAIN, .scope = GCF_CHILD};
    gcf_arm(&p);
    for (int gen = 0; gen < 3; gen++) {
        if (gen > 0) {
            gc_state *next = tu_state(4096, 100, 0);
            gc_state_free(st);
            st = next;
        }
        ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
        ck_assert_msg(res[0].status == GC_OK, "generation %d: %s %s", gen,
                      gc_status_name(res[0].status), res[0].text);
        ck_assert_uint_eq((uint64_t)res[0].value, tu_checksum(st, HEAVY, 2));
    }
    gc_exec_opts census = o;
    census.process = "fd_census";
    census.timeout_ms = 5000;
    ck_assert_int_eq(gc_execute_parallel(e, st, &census, res, &err), GC_OK);
    ck_assert_msg(res[0].status == GC_OK && res[0].value == 0, "%s: %s",
                  gc_status_name(res[0].status), res[0].text);
    ck_assert_uint_ge(gcf_fired(), 1);   /* the helper really could not start */
    gcf_disarm();
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_started, 1);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* Publishing that fails twice in a row keeps the zone whole: sealing
 * refused (the zone stays filling, its writable mapping dropped), then the
 * mapping that resumes it refused too (an error, nothing written through a
 * mapping that does not exist); the third publish seals the bytes filled
 * before the first. */
START_TEST(publish_failing_twice_keeps_the_zone)
{
    gc_zone *z;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", 5000, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    void *w;
    size_t n;
    ck_assert_int_eq(gc_zone_fill(z, "a", &w, &n, &err), GC_OK);
    gc_pattern seq = {GC_PATTERN_SEQUENCE, 3};
    gc_pattern_fill(&seq, w, n, 0);
    uint64_t sum = gc_checksum(w, n, GC_CHECKSUM_SEED);
    static const gcf_call fail[] = {GCF_FCNTL, GCF_MMAP};
    for (int i = 0; i < 2; i++) {
        gcf_plan p = {.calls = GCF_BIT(fail[i]), .nth = 1, .times = 1, .err = EIO,
                      .scope = GCF_HERE};
        gcf_arm(&p);
        int rc = gc_zone_publish(z, &err);
        gcf_disarm();
        ck_assert_msg(rc == GC_ESYS, "publish with %s failing: %s %s", gcf_call_name(fail[i]),
                      gc_status_name(rc), err.msg);
        ck_assert(!gc_zone_is_published(z));
    }
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    const void *r;
    ck_assert_int_eq(gc_zone_read(z, "a", &r, &n, &err), GC_OK);
    ck_assert_uint_eq(gc_checksum(r, n, GC_CHECKSUM_SEED), sum);
    gc_zone_free(z);
}
END_TEST

/* The only worker's channel refuses a task once and no worker can be forked
 * after it (fork fails for good): the task waiting to be handed out again,
 * alone or with one never handed out, fails ESYS with that reason, like the
 * other, and the run ends. */
START_TEST(queued_task_fails_when_no_worker_is_left)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_result res[2];
    gc_err err;
    for (uint32_t tasks = 1; tasks <= 2; tasks++) {
        gc_exec_opts o = checksum_opts(1, tasks);
        ck_assert_int_eq(gc_engine_warm(e, 1, &err), GC_OK);
        gcf_plan p = {.calls = GCF_BIT(GCF_SENDMSG) | GCF_BIT(GCF_FORK), .nth = 1,
                      .times = GCF_FOREVER, .err = EAGAIN, .scope = GCF_HERE};
        int rc = run_armed(&p, e, st, &o, res, &err);
        ck_assert_int_eq(rc, GC_OK);
        for (uint32_t t = 0; t < tasks; t++)
            ck_assert_msg(res[t].status == GC_ESYS && strstr(res[t].text, "no worker is alive"),
                          "%u tasks, task %u: %s %s", tasks, t, gc_status_name(res[t].status),
                          res[t].text);
        ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
        for (uint32_t t = 0; t < tasks; t++)
            ck_assert_uint_eq((uint64_t)res[t].value, tu_checksum(st, HEAVY, 2));
    }
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* The only worker of a run crashes and no other can be started (fork fails
 * for good): the tasks not yet run fail ESYS with that reason, and the run
 * ends rather than waiting for a worker that cannot come. A warm worker in a
 * slot the run does not use (warmed for two) is not the run's. */
START_TEST(no_worker_left_fails_the_rest_and_ends)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(st, "only_task", 0, &err), GC_OK);
    static const char *const dom[] = {"signal", "only_task"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2};
    gc_exec_opts o = {.process = "crash", .mode = GC_MODE_PROCESS, .workers = 1, .tasks = 3,
                      .contract = &c};
    gc_result res[3];
    ck_assert_int_eq(gc_engine_warm(e, 2, &err), GC_OK);
    gcf_plan p = {.calls = GCF_BIT(GCF_FORK), .nth = 1, .times = GCF_FOREVER, .err = EAGAIN,
                  .scope = GCF_HERE};
    int rc = run_armed(&p, e, st, &o, res, &err);
    ck_assert_int_eq(rc, GC_OK);
    ck_assert_int_eq(res[0].status, GC_ECRASH);
    for (int t = 1; t < 3; t++) {
        ck_assert_int_eq(res[t].status, GC_ESYS);
        ck_assert_str_eq(res[t].text, "no worker is alive and none could be started");
    }
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_live, 1);   /* the unused slot's */
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A cold pool that can fork no worker at all (fork fails for good with
 * EAGAIN, the process limit) refuses the warm-up and the run alike with
 * ESYS and the reason, and counts no worker started or live: a warm-up that
 * started nothing is not reported as done, and the run is refused before
 * any task rather than run with no worker. Once fork works both succeed. */
START_TEST(pool_that_cannot_fork_refuses_warm_up_and_run)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(2, 3);
    gc_result res[3];
    gc_err werr, rerr;
    gcf_plan p = {.calls = GCF_BIT(GCF_FORK), .nth = 1, .times = GCF_FOREVER, .err = EAGAIN,
                  .scope = GCF_HERE};
    gcf_arm(&p);
    int wrc = gc_engine_warm(e, 2, &werr);
    int rrc = gc_execute_parallel(e, st, &o, res, &rerr);
    gcf_disarm();
    char want[160];
    snprintf(want, sizeof want, "pool: no worker could be started: cannot fork a worker: %s",
             strerror(EAGAIN));
    ck_assert_int_eq(wrc, GC_ESYS);
    ck_assert_str_eq(werr.msg, want);
    ck_assert_int_eq(rrc, GC_ESYS);
    ck_assert_str_eq(rerr.msg, want);
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_started, 0);
    ck_assert_uint_eq(s.workers_live, 0);
    ck_assert_uint_eq(s.dispatches, 0);
    ck_assert_int_eq(gc_engine_warm(e, 2, &werr), GC_OK);
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &rerr), GC_OK);
    for (int t = 0; t < 3; t++)
        ck_assert_uint_eq((uint64_t)res[t].value, tu_checksum(st, HEAVY, 2));
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_started, 2);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* Each allocation of a warm process-mode run failing in turn (the
 * dispatcher's): the failure surfaces as what it is, ENOMEM, for the run or
 * for the tasks it touched, never as some later failure of a run that went on
 * without the memory (a missing buffer read as a bad address, say). */
START_TEST(pool_run_allocation_failure_is_enomem)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(2, 3);
    gc_result res[3];
    gc_err err;
    ck_assert_int_eq(gc_engine_warm(e, 2, &err), GC_OK);
    uint32_t n;
    for (n = 1; n < 200; n++) {
        gcf_plan p = {.calls = GCF_ALLOC, .nth = n, .times = 1, .scope = GCF_HERE};
        int rc = run_armed(&p, e, st, &o, res, &err);
        if (gcf_fired() == 0) {
            ck_assert_int_eq(rc, GC_OK);
            break;
        }
        ck_assert_msg(rc == GC_OK || rc == GC_ENOMEM, "N=%u: run %s: %s", n, gc_status_name(rc),
                      err.msg);
        for (int t = 0; rc == GC_OK && t < 3; t++)
            ck_assert_msg(res[t].status == GC_OK || res[t].status == GC_ENOMEM,
                          "N=%u: task %d %s: %s", n, t, gc_status_name(res[t].status),
                          res[t].text);
    }
    ck_assert_uint_gt(n, 3);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* The errno of the call that failed is what the caller sees after ESYS. */
START_TEST(zone_allocate_keeps_errno)
{
    static const gcf_call calls[] = {GCF_MEMFD_CREATE, GCF_FTRUNCATE, GCF_MMAP, GCF_MADVISE,
                                     GCF_FCNTL};
    static const int errs[] = {EMFILE, EFBIG, ENOMEM, EAGAIN, EPERM};
    gc_zone *z;
    ck_assert_int_eq(gc_zone_new(&z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "in", 10, 0, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "out", 10, GC_ENTRY_OUTPUT, NULL), GC_OK);
    gcf_plan p = {.calls = GCF_BIT(calls[_i]), .nth = 1, .err = errs[_i], .scope = GCF_HERE};
    gcf_arm(&p);
    gc_err err;
    errno = 0;
    int rc = gc_zone_allocate(z, &err);
    int e = errno;
    gcf_disarm();
    ck_assert_int_eq(rc, GC_ESYS);
    ck_assert_msg(e == errs[_i], "%s: errno %d, expected %d", gcf_call_name(calls[_i]), e, errs[_i]);
    ck_assert_ptr_nonnull(strstr(err.msg, strerror(errs[_i])));
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    gc_zone_free(z);
}
END_TEST

/* A failed allocation releases what the zone made and nothing else: a page
 * the application mapped low in its address space, inside the span the
 * zone's input file would have had, is still there and still holds its byte
 * (a release must not unmap, from address 0, a mapping it never made). */
START_TEST(failed_allocate_unmaps_nothing_it_did_not_map)
{
    const uintptr_t mib = 1u << 20;
    gc_zone *z;
    ck_assert_int_eq(gc_zone_new(&z, NULL), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "big", 64 * mib, 0, NULL), GC_OK);
    volatile uint8_t *mine = NULL;
    for (uintptr_t at = mib; at < 60 * mib && !mine; at += mib) {
        void *p = mmap((void *)at, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == (void *)at)
            mine = p;
        else if (p != MAP_FAILED)
            munmap(p, 4096);   /* the hint was taken: placed elsewhere */
    }
    ck_assert_msg(mine != NULL, "no free page below 60 MiB");
    mine[0] = 0x5A;
    static const gcf_call calls[] = {GCF_MEMFD_CREATE, GCF_FTRUNCATE};
    for (int i = 0; i < 2; i++) {
        gcf_plan p = {.calls = GCF_BIT(calls[i]), .nth = 1, .times = 1, .err = EIO,
                      .scope = GCF_HERE};
        gcf_arm(&p);
        gc_err err;
        int rc = gc_zone_allocate(z, &err);
        gcf_disarm();
        ck_assert_int_eq(rc, GC_ESYS);
        unsigned char vec[1];
        ck_assert_msg(mincore((void *)mine, 4096, vec) == 0,
                      "%s failed: the application's page at %p is gone", gcf_call_name(calls[i]),
                      (void *)mine);
        ck_assert_uint_eq(mine[0], 0x5A);
    }
    ck_assert_int_eq(gc_zone_allocate(z, NULL), GC_OK);
    gc_zone_free(z);
    munmap((void *)mine, 4096);
}
END_TEST

/* A value refused for its name must not keep the copy it made. */
START_TEST(refused_name_frees_its_copy)
{
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    gcf_heap_begin();
    gc_err err;
    ck_assert_int_eq(gc_state_set_str(st, "bad/name", "value", &err), GC_EINVAL);
    ck_assert_int_eq(gc_state_set_bytes(st, "", "v", 1, &err), GC_EINVAL);
    ck_assert_int_eq(gc_state_set_str(st, NULL, "v", &err), GC_EINVAL);
    long live = gcf_heap_live();
    gcf_heap_end();
    ck_assert_int_eq(live, 0);
    ck_assert_uint_eq(gc_state_domain_count(st), 0);
    gc_state_free(st);
}
END_TEST

/* A string or bytes value the state cannot copy (out of memory) is refused
 * with ENOMEM and a reason naming the key: the key keeps its old value, a
 * new key is not added, and the state never keeps the caller's buffer in
 * place of its own copy (state.h: string and bytes values are copied). */
START_TEST(value_the_state_cannot_copy_is_refused_and_not_borrowed)
{
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    char buf[16] = "first";
    ck_assert_int_eq(gc_state_set_bytes(st, "b", buf, 5, NULL), GC_OK);
    gcf_plan p = {.calls = GCF_ALLOC, .nth = 1, .times = 1, .scope = GCF_HERE};
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "s" : "b";
        memcpy(buf, "other", 6);
        gc_err err;
        gc_err_clear(&err);
        gcf_arm(&p);
        int rc = i ? gc_state_set_str(st, key, buf, &err) : gc_state_set_bytes(st, key, buf, 5, &err);
        gcf_disarm();
        ck_assert_int_eq(rc, GC_ENOMEM);
        char want[64];
        snprintf(want, sizeof want, "domain key '%s': out of memory", key);
        ck_assert_str_eq(err.msg, want);
        memcpy(buf, "later", 6);   /* the caller reuses its buffer */
        const gc_value *v = NULL;
        if (i) {
            ck_assert_int_eq(gc_state_get(st, "s", &v), GC_ENOTFOUND);
        } else {
            ck_assert_int_eq(gc_state_get(st, "b", &v), GC_OK);
            ck_assert_uint_eq(v->len, 5);
            ck_assert_mem_eq(v->ptr, "first", 5);
        }
    }
    ck_assert_uint_eq(gc_state_domain_count(st), 1);
    gc_state_free(st);
}
END_TEST

/* The returned value's write-back (INC-026) builds the attempt's write set
 * anew; when an allocation fails on the way it fails ENOMEM with a reason and
 * leaves the write set as the process made it (what the history records for
 * the failed attempt, and what a worker's reply carries), never the half-built
 * one. Each allocation of the write-back fails in turn, then none. */
START_TEST(failed_return_write_back_keeps_the_process_writes)
{
    static const char *const w[] = {"r", "s"};
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    gc_contract c = {.domain_writes = w, .n_domain_writes = 2, .return_key = "r"};
    int failed = 0, rc = GC_ENOMEM;
    for (uint32_t nth = 1; rc == GC_ENOMEM && nth < 20; nth++) {
        gc_ctx *ctx;
        ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
        ck_assert_int_eq(gc_ctx_set_str(ctx, "s", "hello"), GC_OK);
        size_t size = gc__wset_size(&ctx->ws, 0);
        gc_err err;
        gc_err_clear(&err);
        gcf_plan p = {.calls = GCF_ALLOC, .nth = nth, .times = 1, .scope = GCF_HERE};
        gcf_arm(&p);
        rc = gc__ctx_return(ctx, 7, &err);
        gcf_disarm();
        if (rc == GC_ENOMEM) {
            failed++;
            ck_assert_ptr_nonnull(strstr(err.msg, "out of memory"));
            ck_assert_uint_eq(ctx->ws.n_writes, 1);
            const struct gc__write *s = gc__wset_find(&ctx->ws, "s");
            ck_assert_ptr_nonnull(s);
            ck_assert_str_eq((const char *)s->v.ptr, "hello");
            ck_assert_ptr_null(gc__wset_find(&ctx->ws, "r"));
            ck_assert_uint_eq(gc__wset_size(&ctx->ws, 0), size);
        } else {
            ck_assert_int_eq(rc, GC_OK);
            ck_assert_uint_eq(ctx->ws.n_writes, 2);
            ck_assert_int_eq(gc__wset_find(&ctx->ws, "r")->v.i, 7);
        }
        gc_ctx_free(ctx);
    }
    ck_assert_int_eq(rc, GC_OK);
    ck_assert_int_ge(failed, 2);   /* the pending set's room, the string's copy */
    gc_state_free(st);
}
END_TEST

/* A key set again replaces its pending value and keeps no copy of the old
 * one: a process that sets one key many times holds one value's memory, and
 * nothing is left once the context is freed. */
START_TEST(key_set_again_keeps_no_old_value)
{
    static const char *const w[] = {"k"};
    gc_state *st;
    ck_assert_int_eq(gc_state_new(&st, NULL), GC_OK);
    gc_contract c = {.domain_writes = w, .n_domain_writes = 1};
    gcf_heap_begin();
    gc_ctx *ctx;
    ck_assert_int_eq(gc_ctx_from_state(st, &c, NULL, 0, 1, &ctx, NULL), GC_OK);
    ck_assert_int_eq(gc_ctx_set_str(ctx, "k", "first"), GC_OK);
    long one = gcf_heap_live();
    for (int i = 0; i < 50; i++) {
        char v[32]; /* room for any int: no truncation warning at -O1 */
        snprintf(v, sizeof v, "value %d", i);
        ck_assert_int_eq(i % 2 ? gc_ctx_set_str(ctx, "k", v) : gc_ctx_set_bytes(ctx, "k", v, 3),
                         GC_OK);
        ck_assert_int_eq(gcf_heap_live(), one);
    }
    ck_assert_uint_eq(gc_ctx_pending_writes(ctx), 1);
    gc_ctx_free(ctx);
    long live = gcf_heap_live();
    gcf_heap_end();
    ck_assert_int_eq(live, 0);
    gc_state_free(st);
}
END_TEST

START_TEST(execute_parallel_refuses_null)
{
    static const gc_mode modes[] = {GC_MODE_THREAD, GC_MODE_PROCESS};
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_exec_opts o = checksum_opts(1, 1);
    o.mode = modes[_i];
    gc_result res[1];
    gc_err err;
    const char *want = "execute_parallel: engine, state and results are required";
    ck_assert_int_eq(gc_execute_parallel(NULL, st, &o, res, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(gc_execute_parallel(e, NULL, &o, res, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(gc_execute_parallel(e, st, NULL, res, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "execute_parallel: no options");
    /* Options that name no process: refused as such, not looked up (the
     * registry holds the builtins, whose names a NULL cannot be compared
     * with). */
    o.process = NULL;
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "execute_parallel: no process named");
    o.process = "checksum";
    gc_engine_stats s;
    gc_engine_stats_get(e, &s);
    ck_assert_uint_eq(s.workers_started, 0);   /* refused before anything started */
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_OK);
    ck_assert_int_eq(res[0].status, GC_OK);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* A process-mode attempt is committed with all the worker reported, or not
 * at all: an append that reads and writes "list", with the k-th calloc of
 * the main process failed, k = 1, 2, ... until none is left to fail. Each
 * run either fails ENOMEM and leaves the list and the version as they were,
 * or commits "0;" as one new version with a history record that names its
 * read of "list" (unless the history says it is incomplete). One of those
 * callocs is the reply's read list: that run must fail, naming it. */
START_TEST(reply_is_taken_whole_or_not_at_all)
{
    gc_engine *e;
    gc_state *st;
    exec_fx(&e, &st);
    gc_history *h = NULL;
    ck_assert_int_eq(gc_history_new(&h, NULL), GC_OK);
    static const char *const l[] = {"list"};
    gc_contract c = {.domain_reads = l, .n_domain_reads = 1, .domain_writes = l,
                     .n_domain_writes = 1};
    gc_exec_opts o = {.process = "append", .mode = GC_MODE_PROCESS, .workers = 1, .tasks = 1,
                      .contract = &c, .history = h};
    gc_result r;
    gc_err err;
    int read_list_failed = 0;
    uint32_t fired = 1, k;
    for (k = 1; fired && k < 500; k++) {
        ck_assert_int_eq(gc_state_set_bytes(st, "list", "", 0, NULL), GC_OK);
        gc_history_clear(h);
        uint64_t v0 = gc_state_version(st);
        gcf_plan p = {.calls = GCF_BIT(GCF_CALLOC), .nth = k, .times = 1, .scope = GCF_HERE};
        gcf_arm(&p);
        int rc = gc_execute_parallel(e, st, &o, &r, &err);
        fired = gcf_fired();
        gcf_disarm();
        const gc_value *v;
        ck_assert_int_eq(gc_state_get(st, "list", &v), GC_OK);
        if (rc == GC_OK && r.status == GC_OK) {
            ck_assert_uint_eq(gc_state_version(st), v0 + 1);
            ck_assert_uint_eq(v->len, 2);
            ck_assert_mem_eq(v->ptr, "0;", 2);
            if (gc_history_incomplete(h) == 0) {
                ck_assert_uint_eq(gc_history_count(h), 1);
                const gc_attempt *a = gc_history_at(h, 0);
                ck_assert_msg(a->n_reads == 1, "calloc %u failed: the committed attempt "
                              "records %zu reads", k, a->n_reads);
                ck_assert_str_eq(a->reads[0].key, "list");
            }
        } else {
            ck_assert_msg(rc == GC_ENOMEM || (rc == GC_OK && r.status == GC_ENOMEM),
                          "calloc %u failed: %s / %s %s", k, gc_status_name(rc),
                          gc_status_name(r.status), rc == GC_OK ? r.text : err.msg);
            ck_assert_uint_eq(gc_state_version(st), v0);
            ck_assert_uint_eq(v->len, 0);
            read_list_failed |= rc == GC_OK && strstr(r.text, "write set: out of memory") != NULL;
        }
    }
    ck_assert_msg(!fired, "still failing callocs after %u", k);
    ck_assert(read_list_failed);
    gc_history_free(h);
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

Suite *suite_faults(void);
Suite *suite_faults(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("single");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, decoder_read_error_is_reported_not_retried);
    tcase_add_test(tc, decoder_retries_eintr);
    tcase_add_test(tc, pool_poll_failure_ends_the_run);
    tcase_add_test(tc, idle_dead_worker_is_replaced);
    tcase_add_loop_test(tc, pool_interrupted_call_costs_no_worker, 0, 3);
    tcase_add_test(tc, pool_receive_failure_fails_its_task_and_replaces_the_worker);
    tcase_add_loop_test(tc, zone_allocate_keeps_errno, 0, 5);
    tcase_add_test(tc, refused_name_frees_its_copy);
    tcase_add_test(tc, value_the_state_cannot_copy_is_refused_and_not_borrowed);
    tcase_add_test(tc, failed_move_out_of_stdio_leaves_nothing);
    tcase_add_test(tc, task_no_worker_could_take_names_the_send);
    tcase_add_test(tc, no_worker_left_fails_the_rest_and_ends);
    tcase_add_test(tc, queued_task_fails_when_no_worker_is_left);
    tcase_add_test(tc, pool_that_cannot_fork_refuses_warm_up_and_run);
    tcase_add_loop_test(tc, worker_failing_at_start_is_reported_with_code_1, 0, 3);
    tcase_add_test(tc, worker_without_release_helper_releases_generations_itself);
    tcase_add_test(tc, publish_failing_twice_keeps_the_zone);
    tcase_add_test(tc, failed_allocate_unmaps_nothing_it_did_not_map);
    tcase_add_test(tc, pool_run_allocation_failure_is_enomem);
    tcase_add_test(tc, key_set_again_keeps_no_old_value);
    tcase_add_test(tc, failed_return_write_back_keeps_the_process_writes);
    tcase_add_loop_test(tc, execute_parallel_refuses_null, 0, 2);
    tcase_add_test(tc, reply_is_taken_whole_or_not_at_all);
    suite_add_tcase(s, tc);
    return s;
}
