/* Isolation: a child that crashes, hangs (with a grandchild in its group),
 * exits without a result, sends garbage, or prints; leak counting from /proc;
 * message validation; the status each outcome classifies to; and the timing
 * reference the runner measures beside each run. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calib.h"
#include "isolate.h"
#include "leaks.h"
#include "run.h"

static char start_err[256];   /* hr_child_start's reason, when it fails */

static void body_pass(void *arg, hr_msg *m)
{
    (void)arg;
    printf("hello from the child\n");
    fprintf(stderr, "and its stderr\n");
    m->out.passed = 1;
    m->out.tasks = m->out.tasks_ok = 2;
    snprintf(m->out.message, sizeof m->out.message, "fine");
}

static void body_crash(void *arg, hr_msg *m)
{
    (void)arg;
    (void)m;
    raise(SIGSEGV);
}

/* Hangs, after forking a grandchild that hangs too: the timeout must kill
 * the whole process group, not just the child. */
static void body_hang(void *arg, hr_msg *m)
{
    (void)arg;
    (void)m;
    if (fork() == 0) {
        for (;;)
            pause();
    }
    for (;;)
        pause();
}

/* The first child of pid, from /proc (0 while it has none). */
static pid_t first_child(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    int kid = 0;
    if (f) {
        if (fscanf(f, "%d", &kid) != 1)
            kid = 0;
        fclose(f);
    }
    return kid;
}

/* Dead: gone, or a zombie waiting for its new parent to reap it. */
static int is_dead(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && (p[2] == 'Z' || p[2] == 'X');
}

static void body_exit(void *arg, hr_msg *m)
{
    (void)arg;
    (void)m;
    _exit(3);
}

static void body_garbage(void *arg, hr_msg *m)
{
    (void)arg;
    (void)m;
    (void)!write(3, "garbage", 7);   /* fd 3 is the message pipe */
    _exit(0);
}

static void body_bad_counts(void *arg, hr_msg *m)
{
    (void)arg;
    m->out.nmetrics = 1000;
}

START_TEST(child_passes_and_output_captured)
{
    hr_child c;
    ck_assert_int_eq(hr_child_run(&c, body_pass, NULL, 10, start_err, sizeof start_err), 0);
    ck_assert_int_eq(c.timed_out, 0);
    ck_assert_int_eq(c.signal, 0);
    ck_assert_int_eq(c.exited, 1);
    ck_assert_int_eq(c.msg_valid, 1);
    ck_assert_int_eq(c.msg.out.passed, 1);
    ck_assert_str_eq(c.msg.out.message, "fine");
    ck_assert_ptr_nonnull(strstr(c.out, "hello from the child\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "and its stderr\n"));
    ck_assert_int_eq(c.pid, 0);
    ck_assert_int_eq(c.pidfd, -1);
    ck_assert_int_eq(c.msg_fd, -1);
    ck_assert_int_eq(c.out_fd, -1);
    char msg[256];
    ck_assert_int_eq(hr_classify(&c, 0, 10, msg, sizeof msg), HR_PASS);
    hr_child_release(&c);
}
END_TEST

/* A child that cannot be started says which step failed and why, and
 * leaves nothing open: here no descriptor is free for its pipes. */
START_TEST(child_start_failure_names_the_step)
{
    int lowest = dup(0);
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    hr_child c;
    char err[256] = "";
    int rc = hr_child_start(&c, body_pass, NULL, 10, err, sizeof err);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err, "could not start the case's process: cannot create its result and "
                          "output pipes: Too many open files");
    ck_assert_ptr_null(c.out);
    ck_assert_int_eq(c.pid, 0);
    int after = dup(0);
    ck_assert_int_eq(after, lowest);   /* nothing left open */
    close(after);
}
END_TEST

START_TEST(child_crash_is_crash)
{
    hr_child c;
    ck_assert_int_eq(hr_child_run(&c, body_crash, NULL, 10, start_err, sizeof start_err), 0);
    ck_assert_int_eq(c.signal, SIGSEGV);
    ck_assert_int_eq(c.msg_valid, 0);
    char msg[256];
    ck_assert_int_eq(hr_classify(&c, 0, 10, msg, sizeof msg), HR_CRASH);
    ck_assert_ptr_nonnull(strstr(msg, "SIGSEGV"));
    hr_child_release(&c);
}
END_TEST

START_TEST(timeout_kills_whole_group)
{
    hr_child c;
    ck_assert_int_eq(hr_child_start(&c, body_hang, NULL, 0.5, start_err, sizeof start_err), 0);
    pid_t grandchild = 0;
    double t0 = hr_now();
    while (!grandchild && hr_now() - t0 < 0.4) {
        grandchild = first_child(c.pid);
        usleep(5000);
    }
    ck_assert_int_gt(grandchild, 0);
    while (!hr_child_step(&c, NULL, 0))
        usleep(10000);
    double took = hr_now() - t0;
    ck_assert_int_eq(c.timed_out, 1);
    ck_assert(took >= 0.45 && took < 5);
    for (int i = 0; i < 100 && !is_dead(grandchild); i++)
        usleep(10000);   /* SIGKILL is delivered asynchronously */
    ck_assert(is_dead(grandchild));
    char msg[256];
    ck_assert_int_eq(hr_classify(&c, 0, 0.5, msg, sizeof msg), HR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(msg, "timed out after 0.5 s"));
    hr_child_release(&c);
}
END_TEST

START_TEST(no_result_and_garbage_are_errors)
{
    hr_child c;
    char msg[256];
    ck_assert_int_eq(hr_child_run(&c, body_exit, NULL, 10, start_err, sizeof start_err), 0);
    ck_assert_int_eq(c.exit_code, 3);
    ck_assert_int_eq(hr_classify(&c, 0, 10, msg, sizeof msg), HR_ERROR);
    ck_assert_ptr_nonnull(strstr(msg, "without sending a result"));
    hr_child_release(&c);

    ck_assert_int_eq(hr_child_run(&c, body_garbage, NULL, 10, start_err, sizeof start_err), 0);
    ck_assert_int_eq(hr_classify(&c, 0, 10, msg, sizeof msg), HR_ERROR);
    ck_assert_ptr_nonnull(strstr(msg, "result message of 7 bytes"));
    hr_child_release(&c);

    ck_assert_int_eq(hr_child_run(&c, body_bad_counts, NULL, 10, start_err, sizeof start_err), 0);
    ck_assert_int_eq(hr_classify(&c, 0, 10, msg, sizeof msg), HR_ERROR);
    ck_assert_ptr_nonnull(strstr(msg, "1000 metrics"));
    hr_child_release(&c);
}
END_TEST

START_TEST(message_validation)
{
    hr_msg m;
    char why[160];
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), -1);   /* no magic */
    m.magic = m.magic_end = HR_MSG_MAGIC;
    m.version = HR_MSG_VERSION;
    m.size = sizeof m;
    memset(m.out.message, 'x', sizeof m.out.message);   /* unterminated */
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), 0);
    ck_assert_uint_eq(strlen(m.out.message), sizeof m.out.message - 1);
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m - 1, why, sizeof why), -1);
    m.out.tasks = 1;
    m.out.tasks_ok = 2;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), -1);
    m.out.tasks_ok = 1;
    m.rc = 5;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), -1);
    m.rc = 0;
    m.leaks.fds = -1;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), -1);
    m.leaks.fds = 0;
    m.out.nclaims = -1;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), -1);
}
END_TEST

START_TEST(classify_leaks_and_failures)
{
    hr_child c;
    memset(&c, 0, sizeof c);
    c.msg_valid = 1;
    c.msg.out.passed = 1;
    char msg[512];
    c.msg.leaks.fds = 2;
    c.msg.leaks.memfds = 1;
    c.msg.leaks.children = 1;
    ck_assert_int_eq(hr_classify(&c, 0, 1, msg, sizeof msg), HR_FAIL);
    ck_assert_str_eq(msg, "leaked 2 descriptors (1 memfd), 1 child process");
    ck_assert_int_eq(hr_classify(&c, 1, 1, msg, sizeof msg), HR_PASS);   /* allow-leaks */
    c.msg.out.passed = 0;
    snprintf(c.msg.out.message, sizeof c.msg.out.message, "task 3: ECRASH");
    ck_assert_int_eq(hr_classify(&c, 0, 1, msg, sizeof msg), HR_FAIL);
    ck_assert_str_eq(msg, "task 3: ECRASH; also leaked 2 descriptors (1 memfd), 1 child process");
    c.msg.rc = -3;
    ck_assert_int_eq(hr_classify(&c, 0, 1, msg, sizeof msg), HR_ERROR);
    ck_assert_ptr_nonnull(strstr(msg, "ESYS"));
}
END_TEST

/* The runner, not the case, holds the label against the pids that ran. */
START_TEST(mode_on_the_label_is_the_mode_that_ran)
{
    hc_outcome o;
    char ran[24], why[320];
    memset(&o, 0, sizeof o);
    /* Nothing ran (every task refused before a worker got it): no contradiction. */
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_PROCESS, 0, ran, sizeof ran, why, sizeof why), 1);
    ck_assert_str_eq(ran, "none");
    /* Thread workers: the case process itself. */
    o.npids = 1;
    o.pids[0] = 100;
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_THREAD, 0, ran, sizeof ran, why, sizeof why), 1);
    ck_assert_str_eq(ran, "thread");
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_PROCESS, 0, ran, sizeof ran, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "labelled [process] but tasks ran in the case process"));
    /* Pool workers: other processes. */
    o.npids = 2;
    o.pids[0] = 101;
    o.pids[1] = 102;
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_PROCESS, 0, ran, sizeof ran, why, sizeof why), 1);
    ck_assert_str_eq(ran, "process");
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_THREAD, 0, ran, sizeof ran, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "labelled [thread] but tasks ran in other processes (pid 101"));
    /* Only unlisted pids (more than HC_PIDS_MAX): still other processes. */
    o.npids = 0;
    o.pids_unlisted = 40;
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_THREAD, 0, ran, sizeof ran, why, sizeof why), 0);
    o.pids_unlisted = 0;
    /* Both: only a mixed-mode case may show both, and its label's mode must be among them. */
    o.npids = 2;
    o.pids[0] = 100;
    o.pids[1] = 101;
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_THREAD, 0, ran, sizeof ran, why, sizeof why), 0);
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_PROCESS, 0, ran, sizeof ran, why, sizeof why), 0);
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_THREAD, 1, ran, sizeof ran, why, sizeof why), 1);
    ck_assert_str_eq(ran, "thread+process");
    o.npids = 1;
    o.pids[0] = 101;
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_THREAD, 1, ran, sizeof ran, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "(mixed modes) but no task ran in the case process"));
    ck_assert_int_eq(hr_mode_check(&o, 100, GC_MODE_PROCESS, 1, ran, sizeof ran, why, sizeof why), 1);
}
END_TEST

/* A child that reports a pid of 0 or below, or too many, is not believed. */
START_TEST(message_with_bad_pids_is_refused)
{
    hr_msg m;
    char why[160];
    memset(&m, 0, sizeof m);
    m.magic = m.magic_end = HR_MSG_MAGIC;
    m.version = HR_MSG_VERSION;
    m.size = sizeof m;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), 0);
    m.out.npids = HC_PIDS_MAX + 1;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), -1);
    m.out.npids = 1;
    m.out.pids[0] = 0;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), -1);
    m.out.pids[0] = 7;
    ck_assert_int_eq(hr_msg_validate(&m, sizeof m, why, sizeof why), 0);
}
END_TEST

START_TEST(leaks_counted_from_proc)
{
    hr_leaks before, after, d;
    ck_assert_int_eq(hr_leaks_snapshot(&before, start_err, sizeof start_err), 0);
    int fd = open("/dev/null", O_RDONLY);
    int mfd = memfd_create("hr-test", MFD_CLOEXEC);
    ck_assert_int_ge(mfd, 0);
    ck_assert_int_eq(ftruncate(mfd, 4096), 0);
    void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
    ck_assert_ptr_ne(map, MAP_FAILED);
    pid_t kid = fork();
    if (kid == 0) {
        pause();
        _exit(0);
    }
    ck_assert_int_eq(hr_leaks_snapshot(&after, start_err, sizeof start_err), 0);
    hr_leaks_diff(&before, &after, &d);
    ck_assert_int_eq(d.fds, 2);
    ck_assert_int_eq(d.memfds, 1);
    ck_assert_int_eq(d.maps, 1);
    ck_assert_int_eq(d.children, 1);
    ck_assert(hr_leaks_any(&d));
    char text[160];
    hr_leaks_describe(&d, text, sizeof text);
    ck_assert_str_eq(text, "2 descriptors (1 memfd), 1 memfd mapping, 1 child process");
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    munmap(map, 4096);
    close(mfd);
    close(fd);
    ck_assert_int_eq(hr_leaks_snapshot(&after, start_err, sizeof start_err), 0);
    hr_leaks_diff(&before, &after, &d);
    ck_assert(!hr_leaks_any(&d));
    hr_leaks_describe(&d, text, sizeof text);
    ck_assert_str_eq(text, "nothing");
}
END_TEST

/* The timing reference (calib.h) does the work it times: 16x the bytes cost
 * clearly more CPU than 1x (the fill is not optimised away), it takes the
 * caller's CPU (wall >= CPU), leaves no descriptor or mapping behind, and
 * refuses a size it cannot fill in whole words. */
static double min_cpu_ms(size_t bytes)
{
    double best = INFINITY;
    for (int i = 0; i < 3; i++) {
        hr_calib c = {0};
        ck_assert_int_eq(hr_calib_run(bytes, &c), 0);
        ck_assert(isfinite(c.cpu_ms) && c.cpu_ms > 0);
        ck_assert_msg(c.wall_ms + 0.5 >= c.cpu_ms, "wall %.3f < cpu %.3f", c.wall_ms, c.cpu_ms);
        if (c.cpu_ms < best)
            best = c.cpu_ms;
    }
    return best;
}

START_TEST(calibration_does_its_work_and_leaves_nothing)
{
    hr_leaks before, after, d;
    char err[256];
    ck_assert_int_eq(hr_leaks_snapshot(&before, err, sizeof err), 0);
    double small = min_cpu_ms(1u << 20), big = min_cpu_ms(16u << 20);
    ck_assert_msg(big > 2 * small, "16 MiB %.3f ms CPU vs 1 MiB %.3f ms", big, small);
    ck_assert_int_eq(hr_leaks_snapshot(&after, err, sizeof err), 0);
    hr_leaks_diff(&before, &after, &d);
    ck_assert(!hr_leaks_any(&d));
    hr_calib c = {.cpu_ms = -1, .wall_ms = -1};
    errno = 0;
    ck_assert_int_eq(hr_calib_run(0, &c), -1);
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert_int_eq(hr_calib_run(4096 + 4, &c), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(hr_calib_run(4096, NULL), -1);
    ck_assert(c.cpu_ms == -1 && c.wall_ms == -1);
}
END_TEST

Suite *suite_runner_isolate(void);
Suite *suite_runner_isolate(void)
{
    Suite *s = suite_create("runner_isolate");
    TCase *tc = tcase_create("isolate");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, child_passes_and_output_captured);
    tcase_add_test(tc, child_crash_is_crash);
    tcase_add_test(tc, child_start_failure_names_the_step);
    tcase_add_test(tc, timeout_kills_whole_group);
    tcase_add_test(tc, no_result_and_garbage_are_errors);
    tcase_add_test(tc, message_validation);
    tcase_add_test(tc, classify_leaks_and_failures);
    tcase_add_test(tc, mode_on_the_label_is_the_mode_that_ran);
    tcase_add_test(tc, message_with_bad_pids_is_refused);
    tcase_add_test(tc, leaks_counted_from_proc);
    tcase_add_test(tc, calibration_does_its_work_and_leaves_nothing);
    suite_add_tcase(s, tc);
    return s;
}
