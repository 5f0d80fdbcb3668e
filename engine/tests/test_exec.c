/* execute_parallel end to end on the real engine: both worker modes, the
 * pool's persistence and replacement, every failure kind, and no leaks. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_int.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"
#include "proto.h"
#include "suites.h"
#include "testutil.h"

static const gc_mode modes[] = {GC_MODE_THREAD, GC_MODE_PROCESS};
static const char *const ab[] = {"a", "b"};

typedef struct fixture {
    gc_engine *e;
    gc_state *st;
    gc_result res[64];
    const char *key[1];       /* the domain key fx_key set */
    gc_contract reads_key;    /* a contract that reads that key alone */
} fixture;

static void fx_open(fixture *f, size_t out_len)
{
    gc_err err;
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(gc_engine_new(&f->e, &err), GC_OK);
    ck_assert_int_eq(gc_builtins_register(f->e, &err), GC_OK);
    f->st = tu_state(1 << 20, 3 * 4096 + 5, out_len);
}

/* Domain `key` set to v, and the contract that reads that key alone: the
 * set-up of every run of a builtin driven by one domain value (sleep, spin and
 * block's ms, exit's code, alloc's bytes). The contract lives in f. */
static const gc_contract *fx_key(fixture *f, const char *key, int64_t v)
{
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f->st, key, v, &err), GC_OK);
    f->key[0] = key;
    f->reads_key = (gc_contract){.domain_reads = f->key, .n_domain_reads = 1};
    return &f->reads_key;
}

static void fx_close(fixture *f)
{
    gc_engine_free(f->e);
    gc_state_free(f->st);
}

static int fx_run(fixture *f, const char *proc, gc_mode mode, uint32_t workers, uint32_t tasks,
                  uint32_t timeout_ms, const gc_contract *c)
{
    gc_exec_opts o = {.process = proc, .mode = mode, .workers = workers, .tasks = tasks,
                      .timeout_ms = timeout_ms, .contract = c};
    gc_err err;
    gc_err_clear(&err);
    int rc = gc_execute_parallel(f->e, f->st, &o, f->res, &err);
    if (rc != GC_OK)
        fprintf(stderr, "execute_parallel: %s\n", err.msg);
    return rc;
}

START_TEST(every_worker_sees_every_heavy_entry)
{
    fixture f;
    fx_open(&f, 0);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    uint64_t want = tu_checksum(f.st, ab, 2);
    /* read_all: every byte of both entries reaches the worker. */
    ck_assert_int_eq(fx_run(&f, "read_all", modes[_i], 2, 2, 0, &c), GC_OK);
    const void *da, *db;
    size_t la, lb;
    gc_zone_read(gc_state_heavy(f.st), "a", &da, &la, NULL);
    gc_zone_read(gc_state_heavy(f.st), "b", &db, &lb, NULL);
    ck_assert_int_eq(f.res[1].status, GC_OK);
    ck_assert_uint_eq((uint64_t)f.res[1].value, gc_sum64(da, la) + gc_sum64(db, lb));
    /* and its text counts those bytes, as checksum's does: what a reader of
     * the result is told was covered */
    char want_text[64];
    snprintf(want_text, sizeof want_text, "read %zu bytes", la + lb);
    ck_assert_str_eq(f.res[1].text, want_text);
    ck_assert_int_eq(fx_run(&f, "checksum", modes[_i], 3, 10, 0, &c), GC_OK);
    snprintf(want_text, sizeof want_text, "%016llx over %zu bytes", (unsigned long long)want,
             la + lb);
    for (int t = 0; t < 10; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
        ck_assert_uint_eq(f.res[t].task, (unsigned)t);
        ck_assert_uint_eq((uint64_t)f.res[t].value, want);
        ck_assert_str_eq(f.res[t].text, want_text);
        ck_assert_int_ge(f.res[t].worker, 0);
        ck_assert_int_lt(f.res[t].worker, 3);
        ck_assert_uint_gt(f.res[t].wall_ns, 0);
        if (modes[_i] == GC_MODE_PROCESS)
            ck_assert_int_ne(f.res[t].pid, getpid());
        else
            ck_assert_int_eq(f.res[t].pid, getpid());
    }
    fx_close(&f);
}
END_TEST

/* INC-025: gc_engine_warm starts every worker a run on as many workers uses,
 * so that run starts none (the counter a timed claim relies on). */
START_TEST(warm_starts_every_worker_before_the_run)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_warm(f.e, 0, &err), GC_EINVAL);
    ck_assert_int_eq(gc_engine_warm(NULL, 1, &err), GC_EINVAL);
    ck_assert_int_eq(gc_engine_warm(f.e, 3, &err), GC_OK);
    gc_engine_stats s0, s1;
    gc_engine_stats_get(f.e, &s0);
    ck_assert_uint_eq(s0.workers_started, 3);
    ck_assert_uint_eq(s0.workers_live, 3);
    ck_assert_uint_eq(s0.dispatches, 0);
    ck_assert_int_eq(gc_engine_warm(f.e, 3, &err), GC_OK);   /* warm already: nothing new */
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 3, 6, 0, &c), GC_OK);
    gc_engine_stats_get(f.e, &s1);
    ck_assert_uint_eq(s1.workers_started, s0.workers_started);
    ck_assert_uint_eq(s1.dispatches, 6);
    fx_close(&f);
}
END_TEST

/* The pool's size limit is inclusive: a warm-up of GC_WORKERS_MAX workers,
 * the largest run allowed, starts them all; one more is refused, unchanged. */
START_TEST(warm_takes_the_largest_pool_and_refuses_one_more)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_warm(f.e, GC_WORKERS_MAX + 1, &err), GC_EINVAL);
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_started, 0);
    ck_assert_int_eq(gc_engine_warm(f.e, GC_WORKERS_MAX, &err), GC_OK);
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_live, GC_WORKERS_MAX);
    fx_close(&f);
}
END_TEST

START_TEST(pool_persists_and_follows_generations)
{
    fixture f;
    fx_open(&f, 0);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 2, 4, 0, &c), GC_OK);
    int pid0 = f.res[0].pid;
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_started, 2);
    /* A new generation with other bytes: the same workers must see them. */
    gc_state *st2 = tu_state(4096 * 7 + 1, 10, 0);
    gc_state_free(f.st);
    f.st = st2;
    uint64_t want = tu_checksum(f.st, ab, 2);
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 2, 4, 0, &c), GC_OK);
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(f.res[t].status, GC_OK);
        ck_assert_uint_eq((uint64_t)f.res[t].value, want);
        ck_assert(f.res[t].pid > 0);
    }
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_started, 2);
    ck_assert_uint_eq(s.workers_live, 2);
    ck_assert_uint_eq(s.dispatches, 8);
    int same = 0;
    for (int t = 0; t < 4; t++)
        same += f.res[t].pid == pid0;
    ck_assert_int_gt(same, 0);
    fx_close(&f);
}
END_TEST

START_TEST(outputs_written_by_workers_are_read_back)
{
    fixture f;
    fx_open(&f, 100003);
    static const char *const outs[] = {"out"};
    static const char *const dom[] = {"pattern"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1, .outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(fx_run(&f, "fill", modes[_i], 3, 7, 0, &c), GC_OK);
    int64_t total = 0;
    for (int t = 0; t < 7; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
        total += f.res[t].value;
    }
    ck_assert_int_eq(total, 100003);
    void *d;
    size_t n;
    ck_assert_int_eq(gc_zone_output(gc_state_heavy(f.st), "out", &d, &n, NULL), GC_OK);
    ck_assert_uint_eq(n, 100003);
    gc_pattern seq = {GC_PATTERN_SEQUENCE, 0};
    for (size_t i = 0; i < n; i++)
        if (((uint8_t *)d)[i] != gc_pattern_byte(&seq, i))
            ck_abort_msg("output byte %zu differs", i);
    fx_close(&f);
}
END_TEST

/* fill takes its pattern from domain "pattern" only: a contract that reads
 * other keys (here ms) but not "pattern" gets the default sequence, with no
 * access to an undeclared key, and one that reads "pattern" after another
 * key gets the pattern it names, in thread and process mode. */
START_TEST(fill_takes_its_pattern_from_the_pattern_key_only)
{
    fixture f;
    fx_open(&f, 4099);
    static const char *const outs[] = {"out"};
    static const char *const ms[] = {"ms"}, *const both[] = {"ms", "pattern"};
    gc_contract c1 = {.domain_reads = ms, .n_domain_reads = 1, .outputs = outs, .n_outputs = 1};
    gc_contract c2 = {.domain_reads = both, .n_domain_reads = 2, .outputs = outs, .n_outputs = 1};
    gc_err err;
    ck_assert_int_eq(gc_state_set_str(f.st, "pattern", "random:5", &err), GC_OK);
    const gc_contract *cs[] = {&c1, &c2};
    gc_pattern want[] = {{GC_PATTERN_SEQUENCE, 0}, {GC_PATTERN_RANDOM, 5}};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(fx_run(&f, "fill", modes[_i], 2, 3, 0, cs[k]), GC_OK);
        for (int t = 0; t < 3; t++) {
            ck_assert_msg(f.res[t].status == GC_OK, "contract %d task %d: %s %s", k, t,
                          gc_status_name(f.res[t].status), f.res[t].text);
            ck_assert_uint_eq(f.res[t].violations, 0);
        }
        void *d;
        size_t n;
        ck_assert_int_eq(gc_zone_output(gc_state_heavy(f.st), "out", &d, &n, NULL), GC_OK);
        ck_assert_uint_eq(n, 4099);
        for (size_t i = 0; i < n; i++)
            if (((uint8_t *)d)[i] != gc_pattern_byte(&want[k], i))
                ck_abort_msg("contract %d: output byte %zu differs", k, i);
    }
    fx_close(&f);
}
END_TEST

START_TEST(crash_fails_only_its_task_and_worker_is_replaced)
{
    static const int sigs[] = {SIGSEGV, SIGABRT, SIGKILL};
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f.st, "signal", sigs[_i], &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f.st, "only_task", 2, &err), GC_OK);
    static const char *const dom[] = {"signal", "only_task"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2};
    gc_census before;
    tu_census_take(&before);
    ck_assert_int_eq(fx_run(&f, "crash", GC_MODE_PROCESS, 2, 6, 0, &c), GC_OK);
    for (int t = 0; t < 6; t++) {
        if (t == 2) {
            ck_assert_int_eq(f.res[t].status, GC_ECRASH);
            ck_assert_int_eq(f.res[t].signal, sigs[_i]);
            ck_assert_ptr_nonnull(strstr(f.res[t].text, "killed by signal"));
        } else {
            ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s", t, f.res[t].text);
        }
    }
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_replaced, 1);
    ck_assert_uint_eq(s.workers_live, 2);
    /* The engine still works after the crash. */
    gc_contract cs = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 2, 3, 0, &cs), GC_OK);
    for (int t = 0; t < 3; t++)
        ck_assert_uint_eq((uint64_t)f.res[t].value, tu_checksum(f.st, ab, 2));
    gc_engine_pool_stop(f.e);
    gc_census after;
    tu_census_take(&after);
    tu_census_same(&before, &after);
    fx_close(&f);
}
END_TEST

START_TEST(exit_mid_task_is_reported_with_its_code)
{
    fixture f;
    fx_open(&f, 0);
    const gc_contract *c = fx_key(&f, "code", 3);
    ck_assert_int_eq(fx_run(&f, "exit", GC_MODE_PROCESS, 2, 3, 0, c), GC_OK);
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(f.res[t].status, GC_EEXIT);
        ck_assert_int_eq(f.res[t].exit_code, 3);
    }
    fx_close(&f);
}
END_TEST

START_TEST(hang_past_deadline_is_killed_others_finish)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f.st, "ms", 20000, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f.st, "only_task", 1, &err), GC_OK);
    static const char *const dom[] = {"ms", "only_task"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2};
    /* Under valgrind a worker's first task takes hundreds of ms (code
     * translation): the deadline stretches so that only the 20 s sleeper
     * passes it, and the kill still comes long before the sleep would end. */
    const uint32_t deadline_ms = gc_census_under_valgrind() ? 2000 : 200;
    const uint64_t bound_ns = gc_census_under_valgrind() ? 15000000000ull : 5000000000ull;
    ck_assert_int_eq(fx_run(&f, "sleep", modes[_i], 2, 5, deadline_ms, &c), GC_OK);
    for (int t = 0; t < 5; t++) {
        if (t == 1) {
            ck_assert_int_eq(f.res[t].status, GC_ETIMEOUT);
            ck_assert_uint_lt(f.res[t].wall_ns, bound_ns);
            ck_assert_uint_ge(f.res[t].wall_ns, (uint64_t)deadline_ms * 1000000ull);
        } else {
            ck_assert_int_eq(f.res[t].status, GC_OK);
        }
    }
    fx_close(&f);
}
END_TEST

/* A thread cannot be preempted: a busy loop that ends past its deadline is
 * ETIMEOUT, and the text says by how much; that overshoot lies inside the
 * run as this test measured it from outside (no timing claim: a bound). */
START_TEST(late_thread_reports_its_overshoot)
{
    fixture f;
    fx_open(&f, 0);
    const gc_contract *c = fx_key(&f, "ms", 60);
    uint64_t t0 = gc_now_ns();
    ck_assert_int_eq(fx_run(&f, "spin", GC_MODE_THREAD, 1, 1, 20, c), GC_OK);
    uint64_t t1 = gc_now_ns();
    ck_assert_int_eq(f.res[0].status, GC_ETIMEOUT);
    double late_ms = -1;
    ck_assert_int_eq(sscanf(f.res[0].text, "task finished %lf ms after its deadline", &late_ms), 1);
    ck_assert(late_ms > 0);
    ck_assert_msg(late_ms * 1e6 <= (double)(t1 - t0), "overshoot %.3f ms but the run took %.3f ms",
                  late_ms, (double)(t1 - t0) / 1e6);
    fx_close(&f);
}
END_TEST

START_TEST(crash_and_exit_refused_in_threads)
{
    fixture f;
    fx_open(&f, 0);
    ck_assert_int_eq(fx_run(&f, "crash", GC_MODE_THREAD, 1, 1, 0, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EUNSUPPORTED);
    ck_assert_int_eq(fx_run(&f, "exit", GC_MODE_THREAD, 1, 1, 0, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EUNSUPPORTED);
    fx_close(&f);
}
END_TEST

START_TEST(undeclared_read_is_a_contract_violation)
{
    fixture f;
    fx_open(&f, 0);
    static const char *const dom[] = {"name"};
    static const char *const heavy[] = {"b"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1, .heavy_reads = heavy, .n_heavy_reads = 1};
    ck_assert_int_eq(fx_run(&f, "read_undeclared", modes[_i], 2, 3, 0, &c), GC_OK);
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(f.res[t].status, GC_ECONTRACT);
        ck_assert_uint_eq(f.res[t].violations, 1);
        ck_assert_ptr_nonnull(strstr(f.res[t].text, "'a'"));
    }
    fx_close(&f);
}
END_TEST

START_TEST(readonly_entry_cannot_be_written)
{
    fixture f;
    fx_open(&f, 0);
    static const char *const heavy[] = {"a"};
    uint64_t before = tu_checksum(f.st, ab, 2);
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1};
    ck_assert_int_eq(fx_run(&f, "write_readonly", modes[_i], 2, 4, 0, &c), GC_OK);
    for (int t = 0; t < 4; t++) {
        ck_assert_msg(f.res[t].status == GC_EREADONLY, "task %d: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
    }
    ck_assert_uint_eq(tu_checksum(f.st, ab, 2), before);
    fx_close(&f);
}
END_TEST

/* write_readonly tries the FIRST heavy entry its contract declares (here b,
 * declared before a) and says which one the kernel refused; a contract with
 * no heavy read (only an output) is refused with the reason, at once. */
START_TEST(write_readonly_names_the_first_declared_heavy_entry)
{
    fixture f;
    fx_open(&f, 4096);
    static const char *const ba[] = {"b", "a"}, *const out[] = {"out"};
    uint64_t before = tu_checksum(f.st, ab, 2);
    gc_contract c = {.heavy_reads = ba, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "write_readonly", modes[_i], 1, 2, 0, &c), GC_OK);
    for (int t = 0; t < 2; t++) {
        ck_assert_int_eq(f.res[t].status, GC_EREADONLY);
        ck_assert_str_eq(f.res[t].text, "write to 'b' refused: mprotect: Permission denied");
    }
    gc_contract none = {.outputs = out, .n_outputs = 1};
    ck_assert_int_eq(fx_run(&f, "write_readonly", modes[_i], 1, 1, 0, &none), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EINVAL);
    ck_assert_str_eq(f.res[0].text, "write_readonly: the contract names no heavy entry");
    ck_assert_uint_eq(tu_checksum(f.st, ab, 2), before);
    fx_close(&f);
}
END_TEST

/* A sleep stopped by its deadline says so, with the time it was asked for,
 * and stops there (not after its 3 s). Thread mode: the process itself
 * reports it; in process mode the pool's kill at the same deadline may
 * answer first (then the text is the pool's). */
START_TEST(sleep_stopped_at_its_deadline_says_so)
{
    fixture f;
    fx_open(&f, 0);
    const gc_contract *c = fx_key(&f, "ms", 3000);
    ck_assert_int_eq(fx_run(&f, "sleep", GC_MODE_THREAD, 1, 1, 50, c), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_ETIMEOUT);
    ck_assert_str_eq(f.res[0].text, "sleep of 3000 ms stopped at the deadline");
    ck_assert_uint_lt(f.res[0].wall_ns, 2000000000ull);
    fx_close(&f);
}
END_TEST

/* The peak resident size, in KiB, of this process or of its reaped children. */
static long peak_rss_kb(int who)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(who, &ru), 0);
    return ru.ru_maxrss;
}

/* alloc touches every page of the bytes it allocates, so the process that
 * runs it really holds them: the peak resident size of that process (this
 * one in thread mode, the pool's worker in process mode, counted once the
 * engine has reaped it) grows by about them over a run of 0 bytes. */
START_TEST(alloc_makes_its_bytes_resident)
{
    const int64_t bytes = 64 << 20;
    const int who = modes[_i] == GC_MODE_THREAD ? RUSAGE_SELF : RUSAGE_CHILDREN;
    long peak[2];
    for (int i = 0; i < 2; i++) {
        fixture f;
        fx_open(&f, 0);
        const gc_contract *c = fx_key(&f, "bytes", i ? bytes : 0);
        ck_assert_int_eq(fx_run(&f, "alloc", modes[_i], 1, 1, 0, c), GC_OK);
        ck_assert_int_eq(f.res[0].status, GC_OK);
        ck_assert_int_eq(f.res[0].value, i ? bytes : 0);
        fx_close(&f);
        peak[i] = peak_rss_kb(who);
    }
    ck_assert_msg(peak[1] - peak[0] >= bytes / 1024 / 2,
                  "a run of alloc %lld bytes raised the peak resident size by %ld KiB",
                  (long long)bytes, peak[1] - peak[0]);
}
END_TEST

/* spin and block wait their ms and say how they waited, with the time, in
 * thread and process mode (no deadline: neither looks at one). */
START_TEST(spin_and_block_say_how_long_they_waited)
{
    fixture f;
    fx_open(&f, 0);
    const gc_contract *c = fx_key(&f, "ms", 5);
    static const char *const how[][2] = {{"spin", "spun 5 ms"}, {"block", "blocked 5 ms"}};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(fx_run(&f, how[i][0], modes[_i], 1, 1, 0, c), GC_OK);
        ck_assert_int_eq(f.res[0].status, GC_OK);
        ck_assert_int_eq(f.res[0].value, 5);
        ck_assert_str_eq(f.res[0].text, how[i][1]);
        ck_assert_uint_ge(f.res[0].wall_ns, 5000000ull);
    }
    fx_close(&f);
}
END_TEST

/* A zone at its largest (GC_HEAVY_MAX entries) reaches the workers of both
 * modes: a process worker accepts its manifest (count at the limit), and
 * the last entry's bytes are read there. */
START_TEST(zone_at_its_entry_limit_reaches_workers)
{
    gc_engine *e = NULL;
    gc_state *st = NULL;
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_builtins_register(e, &err), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    char name[16];
    for (int i = 0; i < GC_HEAVY_MAX; i++) {
        snprintf(name, sizeof name, "e%d", i);
        ck_assert_int_eq(gc_zone_declare(z, name, 8, 0, &err), GC_OK);
    }
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    void *p;
    size_t n;
    ck_assert_int_eq(gc_zone_fill(z, name, &p, &n, &err), GC_OK);
    memcpy(p, "lastone!", 8);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, &err), GC_OK);
    const char *const last[] = {name};
    gc_contract c = {.heavy_reads = last, .n_heavy_reads = 1};
    gc_exec_opts o = {.process = "checksum", .mode = modes[_i], .workers = 1, .tasks = 1,
                      .contract = &c};
    gc_result r;
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, &r, &err), GC_OK);
    ck_assert_msg(r.status == GC_OK, "%s %s", gc_status_name(r.status), r.text);
    ck_assert_uint_eq((uint64_t)r.value, gc_checksum("lastone!", 8, GC_CHECKSUM_SEED));
    gc_engine_free(e);
    gc_state_free(st);
}
END_TEST

/* CPU time, in ns, of this process or of its reaped children. */
static uint64_t cpu_ns(int who)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(who, &ru), 0);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* sleep sleeps: a 3 s sleep without a deadline takes its time in wall clock
 * but next to no CPU, unlike spin (its steps stay under the 1 s that
 * nanosleep refuses as EINVAL, which would turn the wait into a busy loop).
 * Measured as the CPU of the process that ran it (this one in thread mode,
 * the reaped pool worker in process mode) over that of a sleep of 0 ms, which
 * pays the same fixed cost (fork, set-up, exit). What is left is the sleep's
 * wake-ups, one per 10 ms step: about 3 ms a second here, 60 ms in all the
 * worst seen under load. A spin takes every cycle it is given, which under
 * load is not all of its wall time (a third of it with two builds beside it
 * on 2 cores), and a step of 1 s or more spins on EINVAL only until less than
 * 1 s is left: hence a sleep of 3 s and a bound of a tenth of it. */
START_TEST(sleep_sleeps_rather_than_spins)
{
    const int who = modes[_i] == GC_MODE_THREAD ? RUSAGE_SELF : RUSAGE_CHILDREN;
    const uint64_t sleep_ms = 3000, bound_ns = sleep_ms * 1000000ull / 10;
    uint64_t cpu[2];
    for (int i = 0; i < 2; i++) {
        fixture f;
        fx_open(&f, 0);
        const gc_contract *c = fx_key(&f, "ms", i ? (int64_t)sleep_ms : 0);
        uint64_t before = cpu_ns(who);
        ck_assert_int_eq(fx_run(&f, "sleep", modes[_i], 1, 1, 0, c), GC_OK);
        ck_assert_int_eq(f.res[0].status, GC_OK);
        if (i)
            ck_assert_uint_ge(f.res[0].wall_ns, sleep_ms * 1000000ull);
        fx_close(&f);
        cpu[i] = cpu_ns(who) - before;
    }
    ck_assert_msg(cpu[1] < cpu[0] + bound_ns, "a %llu ms sleep took %llu ms of CPU, one of 0 ms "
                  "%llu ms: more than a tenth of its time, it spins", (unsigned long long)sleep_ms,
                  (unsigned long long)(cpu[1] / 1000000), (unsigned long long)(cpu[0] / 1000000));
}
END_TEST

/* read_undeclared reads the heavy entry named by domain "name"; when "name"
 * itself cannot be read (not declared: ECONTRACT, counted) the task fails
 * with that refusal and reaches for nothing more, in thread and process mode. */
START_TEST(read_undeclared_without_a_name_reports_why)
{
    fixture f;
    fx_open(&f, 0);
    const gc_contract *c = fx_key(&f, "ms", 0);
    ck_assert_int_eq(fx_run(&f, "read_undeclared", modes[_i], 1, 1, 0, c), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_ECONTRACT);
    ck_assert_str_eq(f.res[0].text, "'name' is not declared by the contract (domain keys: ms)");
    ck_assert_uint_eq(f.res[0].violations, 1);
    fx_close(&f);
}
END_TEST

/* The other side of the contract check: read_undeclared of an entry the
 * contract does declare is let through, and the task reports what it read
 * (the entry's size, the bytes it saw), with no violation counted, in
 * thread and process mode. A contract that refused or lost a declared read
 * would fail every honest process. */
START_TEST(read_undeclared_of_a_declared_entry_reads_it)
{
    fixture f;
    fx_open(&f, 0);
    static const char *const dom[] = {"name"};
    static const char *const heavy[] = {"a"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1, .heavy_reads = heavy, .n_heavy_reads = 1};
    ck_assert_int_eq(fx_run(&f, "read_undeclared", modes[_i], 2, 2, 0, &c), GC_OK);
    for (int t = 0; t < 2; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
        ck_assert_int_eq(f.res[t].value, 1 << 20);
        ck_assert_str_eq(f.res[t].text, "read 'a' (1048576 bytes)");
        ck_assert_uint_eq(f.res[t].violations, 0);
    }
    fx_close(&f);
}
END_TEST

/* echo shows a bytes value in hex, as much of it as the text holds: a
 * value of 127 bytes whole (254 hex digits, the most a 256-byte text takes
 * with its NUL), one of 200 by its first 127 bytes; the value is the
 * length either way, in thread and process mode. */
START_TEST(echo_shows_as_many_bytes_as_its_text_holds)
{
    fixture f;
    fx_open(&f, 0);
    uint8_t blob[200];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 37 + 11);
    char want[GC_RESULT_TEXT_MAX];
    for (size_t i = 0; i < 127; i++)
        snprintf(want + 2 * i, 3, "%02x", blob[i]);
    static const char *const dom[] = {"blob"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1};
    static const size_t lens[] = {127, 200};
    for (int k = 0; k < 2; k++) {
        gc_err err;
        ck_assert_int_eq(gc_state_set_bytes(f.st, "blob", blob, lens[k], &err), GC_OK);
        ck_assert_int_eq(fx_run(&f, "echo", modes[_i], 1, 1, 0, &c), GC_OK);
        ck_assert_msg(f.res[0].status == GC_OK, "%s", f.res[0].text);
        ck_assert_int_eq(f.res[0].value, (int64_t)lens[k]);
        ck_assert_uint_eq(strlen(f.res[0].text), 254);
        ck_assert_str_eq(f.res[0].text, want);
    }
    fx_close(&f);
}
END_TEST

START_TEST(missing_heavy_entry_fails_every_task_loudly)
{
    fixture f;
    fx_open(&f, 0);
    static const char *const heavy[] = {"large_data"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1};
    ck_assert_int_eq(fx_run(&f, "checksum", modes[_i], 2, 3, 0, &c), GC_OK);
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(f.res[t].status, GC_ENOTFOUND);
        ck_assert_ptr_nonnull(strstr(f.res[t].text, "large_data"));
    }
    fx_close(&f);
}
END_TEST

/* value = the deadline the process itself sees in its context. */
static int proc_deadline(gc_ctx *ctx, gc_proc_out *out)
{
    out->value = (int64_t)gc_ctx_deadline_ns(ctx);
    return GC_OK;
}

/* Every worker, thread or process, sees its task's deadline in its context
 * (dispatch time plus timeout_ms, on the engine's one monotonic clock, which
 * every process of the host shares): without it a cooperative process could
 * not stop in time, and in process mode would be killed at the deadline
 * instead. Exact for the longest timeout a run can ask for (UINT32_MAX ms,
 * some 50 days): no overflow, no drift. No timeout, no deadline. */
START_TEST(workers_see_their_deadline)
{
    static const uint64_t timeouts_ms[] = {60000, UINT32_MAX};
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "deadline", proc_deadline, NULL, &err), GC_OK);
    for (int k = 0; k < 2; k++) {
        const uint64_t ms = timeouts_ms[k];
        uint64_t before = gc_now_ns();
        ck_assert_int_eq(fx_run(&f, "deadline", modes[_i], 2, 4, (uint32_t)ms, NULL), GC_OK);
        uint64_t after = gc_now_ns();
        for (int t = 0; t < 4; t++) {
            ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s", t, f.res[t].text);
            uint64_t d = (uint64_t)f.res[t].value;
            ck_assert_msg(d >= before + ms * 1000000ull && d <= after + ms * 1000000ull,
                          "timeout %llu ms, task %d: deadline %llu not within [%llu, %llu]",
                          (unsigned long long)ms, t, (unsigned long long)d,
                          (unsigned long long)(before + ms * 1000000ull),
                          (unsigned long long)(after + ms * 1000000ull));
        }
    }
    ck_assert_int_eq(fx_run(&f, "deadline", modes[_i], 2, 2, 0, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].value, 0);
    ck_assert_int_eq(f.res[1].value, 0);
    fx_close(&f);
}
END_TEST

/* A process that fills its whole text buffer and leaves no terminator. */
static int proc_full_text(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    memset(out->text, 'x', sizeof out->text);
    return GC_OK;
}

/* Such a text comes back cut at the buffer's last byte, the longest that
 * fits (GC_RESULT_TEXT_MAX - 1 characters), and nothing is read past it. */
START_TEST(unterminated_process_text_is_cut_at_the_last_byte)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "full_text", proc_full_text, NULL, &err), GC_OK);
    ck_assert_int_eq(fx_run(&f, "full_text", modes[_i], 1, 2, 0, NULL), GC_OK);
    char want[GC_RESULT_TEXT_MAX];
    memset(want, 'x', sizeof want - 1);
    want[sizeof want - 1] = '\0';
    for (int t = 0; t < 2; t++) {
        ck_assert_int_eq(f.res[t].status, GC_OK);
        ck_assert_str_eq(f.res[t].text, want);
    }
    fx_close(&f);
}
END_TEST

/* A task's exec time is its process function's own running time: at least
 * the 20 ms it sleeps, within the run's wall time and the task's own. */
START_TEST(exec_time_is_the_process_own)
{
    fixture f;
    fx_open(&f, 0);
    const gc_contract *c = fx_key(&f, "ms", 20);
    uint64_t before = gc_now_ns();
    ck_assert_int_eq(fx_run(&f, "sleep", modes[_i], 2, 2, 0, c), GC_OK);
    uint64_t run_ns = gc_now_ns() - before;
    for (int t = 0; t < 2; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %d: %s", t, f.res[t].text);
        ck_assert_uint_ge(f.res[t].exec_ns, 20000000ull);
        ck_assert_uint_le(f.res[t].exec_ns, f.res[t].wall_ns);
        ck_assert_uint_le(f.res[t].wall_ns, run_ns);
    }
    fx_close(&f);
}
END_TEST

/* Reads a declared integer as a string (refused: GC_EINVAL, not a contract
 * violation), then gives its own text; task 0 succeeds, task 1 fails. */
static int proc_own_text(gc_ctx *ctx, gc_proc_out *out)
{
    const char *v = NULL;
    int rc = gc_ctx_str(ctx, "ms", &v);
    snprintf(out->text, sizeof out->text, "own text after %s", gc_status_name(rc));
    return gc_ctx_task(ctx) == 0 ? GC_OK : GC_EPROC;
}

/* A process's own text is its result's text, whether it succeeds or fails,
 * even after the context refused it something: the refusal's reason stands
 * in only for a failed process that gave none. */
START_TEST(process_text_wins_over_an_earlier_refusal)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "own_text", proc_own_text, NULL, &err), GC_OK);
    const gc_contract *c = fx_key(&f, "ms", 0);
    ck_assert_int_eq(fx_run(&f, "own_text", modes[_i], 2, 2, 0, c), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_int_eq(f.res[1].status, GC_EPROC);
    for (int t = 0; t < 2; t++) {
        ck_assert_str_eq(f.res[t].text, "own text after EINVAL");
        ck_assert_uint_eq(f.res[t].violations, 0);
    }
    fx_close(&f);
}
END_TEST

/* A refused worker count is told with the range that is allowed, so the
 * user sees what to ask for instead (1..GC_WORKERS_MAX, in either mode). */
START_TEST(refused_worker_count_names_the_allowed_range)
{
    fixture f;
    fx_open(&f, 0);
    gc_exec_opts o = {.process = "checksum", .mode = modes[_i], .workers = GC_WORKERS_MAX + 1,
                      .tasks = 1};
    gc_err err;
    ck_assert_int_eq(gc_execute_parallel(f.e, f.st, &o, f.res, &err), GC_EINVAL);
    char want[96];
    snprintf(want, sizeof want, "execute_parallel: workers = %d (allowed 1..%d)",
             GC_WORKERS_MAX + 1, GC_WORKERS_MAX);
    ck_assert_str_eq(err.msg, want);
    fx_close(&f);
}
END_TEST

START_TEST(bad_runs_are_refused)
{
    fixture f;
    fx_open(&f, 0);
    ck_assert_int_eq(fx_run(&f, "no_such_process", modes[_i], 1, 1, 0, NULL), GC_ENOTFOUND);
    ck_assert_int_eq(fx_run(&f, "checksum", modes[_i], 0, 1, 0, NULL), GC_EINVAL);
    ck_assert_int_eq(fx_run(&f, "checksum", modes[_i], GC_WORKERS_MAX + 1, 1, 0, NULL), GC_EINVAL);
    ck_assert_int_eq(fx_run(&f, "checksum", modes[_i], 1, 0, 0, NULL), GC_EINVAL);
    ck_assert_int_eq(fx_run(&f, "checksum", (gc_mode)7, 1, 1, 0, NULL), GC_EINVAL);
    fx_close(&f);
}
END_TEST

/* A process that reports the worker's own census: descriptors x 100 + memfd
 * mappings. */
static int proc_census(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    gc_census c;
    if (gc_census_take(&c) != GC_OK)
        return GC_ESYS;
    out->value = c.fds * 100 + c.maps;
    snprintf(out->text, sizeof out->text, "%d fds (%d memfds), %d memfd maps", c.fds, c.memfds,
             c.maps);
    return GC_OK;
}

START_TEST(workers_hold_only_their_channel_and_the_zone)
{
    fixture f;
    fx_open(&f, 4096);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "census", proc_census, NULL, &err), GC_OK);
    /* Open files in the main process that a worker must not inherit. */
    FILE *noise = tmpfile();
    ck_assert_ptr_nonnull(noise);
    static const char *const heavy[] = {"a"};
    static const char *const outs[] = {"out"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1, .outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(fx_run(&f, "census", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    /* stdin, stdout, stderr, channel (3), input and output memfds: 6 fds,
     * and exactly the two memfd mappings the worker made itself. */
    ck_assert_msg(f.res[0].value == 602, "census %lld: %s", (long long)f.res[0].value,
                  f.res[0].text);
    /* Without heavy data in its contract a fresh worker maps nothing. */
    gc_engine_pool_stop(f.e);
    ck_assert_int_eq(fx_run(&f, "census", GC_MODE_PROCESS, 1, 1, 0, NULL), GC_OK);
    ck_assert_msg(f.res[0].value == 400, "census %lld: %s", (long long)f.res[0].value,
                  f.res[0].text);
    fclose(noise);
    fx_close(&f);
}
END_TEST

typedef struct conc_arg {
    gc_engine *e;
    gc_state *st;
    gc_mode mode;
    uint64_t want;
    int ok;
} conc_arg;

static void *conc_main(void *p)
{
    conc_arg *a = p;
    gc_result res[8];
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    a->ok = 1;
    for (int round = 0; round < 5; round++) {
        gc_exec_opts o = {.process = "checksum", .mode = a->mode, .workers = 2, .tasks = 8,
                          .contract = &c};
        if (gc_execute_parallel(a->e, a->st, &o, res, NULL) != GC_OK)
            a->ok = 0;
        for (int t = 0; t < 8; t++)
            if (res[t].status != GC_OK || (uint64_t)res[t].value != a->want || res[t].task != (uint32_t)t) {
                fprintf(stderr, "concurrent: task %d: %s %s\n", t, gc_status_name(res[t].status),
                        res[t].text);
                a->ok = 0;
            }
    }
    return NULL;
}

START_TEST(concurrent_calls_are_serialised_and_correct)
{
    fixture f;
    fx_open(&f, 0);
    /* Start the pool from this thread: workers forked from a short-lived
     * caller thread would carry that thread's memory (valgrind sees it as
     * possibly lost in every worker). */
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 2, 2, 0, &c), GC_OK);
    pthread_t th[4];
    conc_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (conc_arg){.e = f.e, .st = f.st, .mode = modes[i % 2],
                             .want = tu_checksum(f.st, ab, 2)};
        ck_assert_int_eq(pthread_create(&th[i], NULL, conc_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].ok, 1);
    }
    fx_close(&f);
}
END_TEST

START_TEST(nothing_leaks_after_engine_free)
{
    gc_census before;
    tu_census_take(&before);
    fixture f;
    fx_open(&f, 8192);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 4, 16, 0, &c), GC_OK);
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 4, 16, 0, &c), GC_OK);
    const gc_contract *cs = fx_key(&f, "ms", 10000);
    ck_assert_int_eq(fx_run(&f, "sleep", GC_MODE_PROCESS, 2, 2, 100, cs), GC_OK);
    ck_assert_msg(f.res[0].status == GC_ETIMEOUT, "%s %s", gc_status_name(f.res[0].status),
                  f.res[0].text);
    fx_close(&f);
    gc_census after;
    tu_census_take(&after);
    tu_census_same(&before, &after);
}
END_TEST

/* Task BREAK_AT shuts its worker's channel for receiving, as a channel that
 * broke after the worker answered: the reply still goes out, then the worker
 * reads end of file and leaves, and the next send to it is refused (EPIPE). */
#define BREAK_AT 30u
static int proc_break_channel(gc_ctx *ctx, gc_proc_out *out)
{
    uint32_t t = gc_ctx_task(ctx);
    if (t == BREAK_AT && shutdown(GC_WORKER_CHANNEL_FD, SHUT_RD) != 0)
        return GC_ESYS;
    out->value = 1000 + (int64_t)t;
    return GC_OK;
}

/* A worker whose channel breaks between two tasks of a run costs the run no
 * task: the task that could not be handed over goes to its replacement, in
 * order, and every task has its own result. */
START_TEST(channel_broken_between_tasks_costs_no_task)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "break_channel", proc_break_channel, NULL, &err),
                     GC_OK);
    const uint32_t n = 40;
    ck_assert_int_eq(fx_run(&f, "break_channel", GC_MODE_PROCESS, 1, n, 0, NULL), GC_OK);
    int first = f.res[0].pid;
    for (uint32_t t = 0; t < n; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "task %u: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
        ck_assert_uint_eq(f.res[t].task, t);
        ck_assert_int_eq(f.res[t].value, 1000 + (int64_t)t);
        ck_assert_uint_eq(f.res[t].attempts, 1);   /* a refused send is no attempt */
        if (t <= BREAK_AT)
            ck_assert_int_eq(f.res[t].pid, first);
        else
            ck_assert_int_ne(f.res[t].pid, first);
    }
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_replaced, 1);
    ck_assert_uint_eq(s.workers_started, 2);
    ck_assert_uint_eq(s.workers_live, 1);
    ck_assert_uint_eq(s.dispatches, n);   /* the refused send handed nothing over */
    fx_close(&f);
}
END_TEST

/* The standard slots (of 0, 1, 2) the test process closed, as a daemon does;
 * workers forked afterwards inherit the value. */
static int stdio_closed;

/* value = 1 when every slot its host closed is closed in this worker too; the
 * text says what is there otherwise. */
static int proc_stdio(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    out->value = 1;
    snprintf(out->text, sizeof out->text, "closed as in the host");
    for (int fd = 0; fd < 3; fd++) {
        if (!(stdio_closed & (1 << fd)))
            continue;
        errno = 0;
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
            continue;
        char path[32], target[128] = "?";
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 1] = '\0';
        out->value = 0;
        snprintf(out->text, sizeof out->text, "fd %d: %s", fd, target);
    }
    return GC_OK;
}

/* Runs proc_stdio and checksum on 2 workers: every worker's closed stdio
 * slots are as closed as its host's, and the zone's data reaches them whole. */
static void expect_stdio_closed_in_workers(fixture *f, const char *when)
{
    ck_assert_int_eq(fx_run(f, "stdio", GC_MODE_PROCESS, 2, 4, 0, NULL), GC_OK);
    for (int t = 0; t < 4; t++)
        ck_assert_msg(f->res[t].status == GC_OK && f->res[t].value == 1,
                      "closed 0x%x, %s, task %d: %s %s", (unsigned)stdio_closed, when, t,
                      gc_status_name(f->res[t].status), f->res[t].text);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(f, "checksum", GC_MODE_PROCESS, 2, 4, 0, &c), GC_OK);
    for (int t = 0; t < 4; t++)
        ck_assert_uint_eq((uint64_t)f->res[t].value, tu_checksum(f->st, ab, 2));
    /* Still close-on-exec where it was moved: an exec'd child of the host
     * gets no zone file. */
    int in = gc_zone_input_fd(gc_state_heavy(f->st));
    ck_assert_int_ge(in, 3);
    ck_assert_int_ne(fcntl(in, F_GETFD) & FD_CLOEXEC, 0);
}

static void stdio_close(int mask)
{
    for (int fd = 0; fd < 3; fd++)
        if (mask & (1 << fd))
            ck_assert_int_eq(close(fd), 0);
}

static void stdio_restore(const int keep[3], int mask)
{
    for (int fd = 0; fd < 3; fd++)
        if (mask & (1 << fd))
            ck_assert_int_eq(dup2(keep[fd], fd), fd);
}

/* A host that closed standard slots (a daemon: stdin, stderr, all three)
 * leaves the lowest descriptors free. The engine keeps its own files out of
 * 0-2: a zone file or a worker channel there would be inherited by every
 * worker forked later as its stdio (a worker keeps 0-2), holding the zone's
 * memory or another worker's channel open (that worker then never sees its
 * channel close), and a host that reopens the slot would close the engine's
 * file under it. Each set is tried with the zone made after the slots were
 * closed, and with only the workers' channels made after. */
START_TEST(engine_files_stay_out_of_closed_stdio)
{
    static const int sets[] = {1 << 0, 1 << 2, 7};
    int keep[3];
    for (int fd = 0; fd < 3; fd++) {
        keep[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        ck_assert_int_ge(keep[fd], 3);
    }
    stdio_closed = sets[_i];
    gc_err err;
    fixture f;
    stdio_close(stdio_closed);
    fx_open(&f, 4096);   /* the zone's files, made with the slots free */
    ck_assert_int_eq(gc_engine_register(f.e, "stdio", proc_stdio, NULL, &err), GC_OK);
    expect_stdio_closed_in_workers(&f, "zone made with the slots closed");
    fx_close(&f);
    stdio_restore(keep, stdio_closed);
    fx_open(&f, 4096);   /* the zone's files above 2 ... */
    ck_assert_int_eq(gc_engine_register(f.e, "stdio", proc_stdio, NULL, &err), GC_OK);
    stdio_close(stdio_closed);   /* ... and the slots free for the worker channels */
    expect_stdio_closed_in_workers(&f, "workers started with the slots closed");
    fx_close(&f);
    stdio_restore(keep, stdio_closed);
    for (int fd = 0; fd < 3; fd++)
        close(keep[fd]);
}
END_TEST

/* Workers know the processes registered when they were forked, so a
 * registration after a run restarts the pool: the old workers are stopped
 * and reaped, new ones run the new process, and the stats count the live
 * workers (not the stopped ones too) and the restart. */
START_TEST(registering_later_restarts_the_pool)
{
    fixture f;
    fx_open(&f, 0);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 2, 2, 0, &c), GC_OK);
    pid_t old[2] = {f.res[0].pid, f.res[1].pid};
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "census", proc_census, NULL, &err), GC_OK);
    ck_assert_int_eq(gc_engine_register(f.e, "census", proc_census, NULL, &err), GC_EEXIST);
    ck_assert_int_eq(fx_run(&f, "census", GC_MODE_PROCESS, 2, 2, 0, NULL), GC_OK);
    for (int t = 0; t < 2; t++) {
        ck_assert_msg(f.res[t].status == GC_OK, "%s", f.res[t].text);
        ck_assert_int_ne(f.res[t].pid, old[0]);
        ck_assert_int_ne(f.res[t].pid, old[1]);
    }
    for (int i = 0; i < 2; i++)   /* stopped and reaped, not left as zombies */
        ck_assert_int_eq(waitpid(old[i], NULL, WNOHANG), -1);
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.pool_restarts, 1);
    ck_assert_uint_eq(s.workers_started, 4);
    ck_assert_uint_eq(s.workers_replaced, 0);
    ck_assert_uint_eq(s.workers_live, 2);
    fx_close(&f);
}
END_TEST

START_TEST(malformed_or_oversized_reply_fails_only_its_task)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_state_set_int(f.st, "kind", _i + 1, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(f.st, "only_task", 1, &err), GC_OK);
    static const char *const dom[] = {"kind", "only_task"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 2};
    ck_assert_int_eq(fx_run(&f, "bad_result", GC_MODE_PROCESS, 2, 4, 0, &c), GC_OK);
    static const char *const why[] = {"oversized", "bad magic", "answers task"};
    for (int t = 0; t < 4; t++) {
        if (t == 1) {
            ck_assert_int_eq(f.res[t].status, GC_EWIRE);
            ck_assert_msg(strstr(f.res[t].text, why[_i]) != NULL, "%s", f.res[t].text);
        } else {
            ck_assert_int_eq(f.res[t].status, GC_OK);
        }
    }
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_replaced, 1);
    fx_close(&f);
}
END_TEST

START_TEST(fd_census_builtin_finds_no_stray_descriptor)
{
    fixture f;
    fx_open(&f, 4096);
    FILE *noise = tmpfile();
    static const char *const heavy[] = {"a"};
    static const char *const outs[] = {"out"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1, .outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(fx_run(&f, "fd_census", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_msg(f.res[0].value == 0, "stray: %s", f.res[0].text);
    ck_assert_ptr_nonnull(strstr(f.res[0].text, "memfd:"));
    /* The same census in a thread sees the main process's files: it can fail. */
    ck_assert_int_eq(fx_run(&f, "fd_census", GC_MODE_THREAD, 1, 1, 0, &c), GC_OK);
    ck_assert_int_gt(f.res[0].value, 0);
    fclose(noise);
    fx_close(&f);
}
END_TEST

/* The worker's census counts memfd mappings by the kernel's name for one,
 * "/memfd:NAME (deleted)": a file whose path merely contains "memfd:",
 * mapped by the main process before the worker was forked (so the worker
 * inherits that mapping), is not a stray memfd mapping of the worker. */
START_TEST(fd_census_builtin_counts_only_memfd_mappings)
{
    char dir[] = "/tmp/gc-census-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/memfd:decoy", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 4096), 0);
    void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(map, MAP_FAILED);
    fixture f;
    fx_open(&f, 4096);
    static const char *const heavy[] = {"a"};
    static const char *const outs[] = {"out"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1, .outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(fx_run(&f, "fd_census", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
    fx_close(&f);
    ck_assert_int_eq(munmap(map, 4096), 0);
    close(fd);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
    /* The value, not the text: the text lists every descriptor with its
     * target first and is cut at GC_RESULT_TEXT_MAX when stdio has long
     * paths (make memcheck, make sanitize), figures included. */
    ck_assert_int_eq(f.res[0].status, GC_OK);
    ck_assert_msg(f.res[0].value == 0, "stray: %s", f.res[0].text);
}
END_TEST

/* memfd mappings of the worker pid, read from its /proc/PID/maps (the
 * census text can be cut short when a tool such as valgrind holds many
 * descriptors). */
static long memfd_maps_of(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    long maps = 0;
    while (fgets(line, sizeof line, f))
        maps += strstr(line, "/memfd:") != NULL;
    fclose(f);
    return maps;
}

/* A worker that changes generation answers first and releases the old one
 * on its helper thread: its census finds nothing stray, and soon after,
 * with no further task, only the new generation is mapped. A release that
 * never happened would keep the old mappings forever. */
START_TEST(old_generation_released_after_the_reply)
{
    fixture f;
    fx_open(&f, 4096);
    static const char *const heavy[] = {"a"};
    static const char *const outs[] = {"out"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1, .outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(fx_run(&f, "fd_census", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK && f.res[0].value == 0, "%s", f.res[0].text);
    ck_assert_int_eq(memfd_maps_of(f.res[0].pid), 2);
    for (int gen = 0; gen < 3; gen++) {
        gc_state *next = tu_state(8u << 20, 4096, 4096);
        gc_state_free(f.st);          /* the worker's close will be the last one */
        f.st = next;
        ck_assert_int_eq(fx_run(&f, "fd_census", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
        ck_assert_msg(f.res[0].status == GC_OK && f.res[0].value == 0, "%s", f.res[0].text);
        /* No further task is needed for the old generation to go. */
        long maps = memfd_maps_of(f.res[0].pid);
        for (int i = 0; i < 500 && maps != 2; i++) {
            usleep(10000);
            maps = memfd_maps_of(f.res[0].pid);
        }
        ck_assert_msg(maps == 2, "worker still maps %ld memfd regions after 5 s", maps);
    }
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_started, 1);
    fx_close(&f);
}
END_TEST

/* Threads of process pid, from /proc/PID/task. */
static int threads_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "%s", path);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A state whose zone is one input entry "a" of len bytes, left zero: a
 * large zone costs its pages but no pattern fill. */
static gc_state *big_state(size_t len)
{
    gc_state *st;
    gc_zone *z;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", len, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, &err), GC_OK);
    return st;
}

/* Generations that change faster than the worker can release them: every
 * task brings a new 64 MiB zone, and when the worker holds a zone's last
 * reference (the main process freed its state) closing it takes the kernel
 * tens of milliseconds, so that generation is still being released when the
 * next is retired, and often a third waits for a slot. None is lost or
 * released twice: the census, taken while releases are still in flight,
 * waits for them and finds nothing stray and the live generation's mapping
 * only; the worker soon maps the live generation only, and one helper
 * thread served every release (a thread per generation would grow without
 * bound). */
START_TEST(generations_retired_faster_than_released_are_all_released)
{
    enum { GENS = 7 };
    const size_t len = gc_census_under_valgrind() ? 8u << 20 : 64u << 20;
    fixture f;
    fx_open(&f, 0);
    gc_state_free(f.st);
    gc_state *st[GENS];
    for (int g = 0; g < GENS; g++)    /* the last freed one 3 times as large */
        st[g] = big_state(g == GENS - 3 ? 3 * len : len);
    static const char *const a[] = {"a"};
    gc_contract c = {.heavy_reads = a, .n_heavy_reads = 1};
    for (int g = 0; g < GENS; g++) {
        f.st = st[g];
        ck_assert_int_eq(fx_run(&f, "touch", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
        ck_assert_msg(f.res[0].status == GC_OK, "generation %d: %s", g, f.res[0].text);
        /* An even generation's last reference goes to the worker, so its
         * release is slow; an odd one's state is kept, so its task follows
         * at once and retires that generation while the even one is still
         * being released. */
        if (g % 2 == 0 && g < GENS - 1)
            gc_state_free(st[g]);
    }
    /* At once: the large generation is still being released and the one
     * after it waits in the queue. */
    ck_assert_int_eq(fx_run(&f, "fd_census", GC_MODE_PROCESS, 1, 1, 5000, &c), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK && f.res[0].value == 0, "%s: %s",
                  gc_status_name(f.res[0].status), f.res[0].text);
    /* The census waits for the releases still in flight and reports the
     * worker settled: the live generation's mapping is its only one. (When
     * the text is whole: valgrind's many descriptors can cut it short.) */
    const char *figures = strstr(f.res[0].text, "; ");
    ck_assert_msg(!figures || strcmp(figures, "; 1 memfd maps, 0 stray") == 0, "%s",
                  f.res[0].text);
    for (int g = 1; g < GENS - 1; g += 2)
        gc_state_free(st[g]);
    long maps = memfd_maps_of(f.res[0].pid);
    for (int i = 0; i < 500 && maps != 1; i++) {
        usleep(10000);
        maps = memfd_maps_of(f.res[0].pid);
    }
    ck_assert_msg(maps == 1, "worker still maps %ld memfd regions after 5 s", maps);
    ck_assert_int_eq(threads_of(f.res[0].pid), 2);   /* its loop and the one helper */
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_started, 1);
    fx_close(&f);
}
END_TEST

/* Keeps a mapping of its zone's input file after it returns, as a process
 * that caches a view of the zone would: maps the file the worker holds
 * (found in /proc/self/fd) once more and never unmaps it. value = the
 * mapping's address. */
static int proc_keep_a_mapping(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    DIR *d = opendir("/proc/self/fd");
    int fd = -1;
    for (struct dirent *de; d && fd < 0 && (de = readdir(d));) {
        char path[300], target[128];
        snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        if (strstr(target, "memfd:gapcheck-zone-in"))
            fd = atoi(de->d_name);
    }
    if (d)
        closedir(d);
    struct stat sb;
    void *p = MAP_FAILED;
    if (fd >= 0 && fstat(fd, &sb) == 0)
        p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(out->text, sizeof out->text, "keep_a_mapping: no input file mapped");
        return GC_EPROC;
    }
    out->value = (int64_t)(uintptr_t)p;
    return GC_OK;
}

/* A mapping of an old generation left in the worker (here one its process
 * kept) is stray in the census, though the worker still holds that file and
 * another mapping of it (the generation retired by this very task), and
 * where the kernel usually puts it: the next generation's input mapping
 * goes directly below the older ones, so the stray one starts at the very
 * byte past it. */
START_TEST(fd_census_finds_a_stray_mapping_next_to_the_live_generation)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "keep_a_mapping", proc_keep_a_mapping, NULL, &err),
                     GC_OK);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "keep_a_mapping", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK, "%s", f.res[0].text);
    gc_state *next = tu_state(1 << 20, 3 * 4096 + 5, 0);
    gc_state_free(f.st);
    f.st = next;
    ck_assert_int_eq(fx_run(&f, "fd_census", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    /* One stray, and no descriptor: the kept mapping. (Not read from the
     * text's mapping figures, which valgrind's many descriptors cut off.) */
    ck_assert_msg(f.res[0].value == 1 && !strstr(f.res[0].text, "(stray)"),
                  "value %lld: %s", (long long)f.res[0].value, f.res[0].text);
    fx_close(&f);
}
END_TEST

/* One generation, contracts that name different files in turn: the worker
 * must hold every file of the zone, not only those of its first context. */
START_TEST(contracts_naming_other_files_of_the_same_generation)
{
    fixture f;
    fx_open(&f, 4096);
    static const char *const outs[] = {"out"};
    gc_contract none = {0};
    gc_contract in = {.heavy_reads = ab, .n_heavy_reads = 2};
    gc_contract out = {.outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(fx_run(&f, "echo", GC_MODE_PROCESS, 1, 1, 0, &none), GC_OK);
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 1, 1, 0, &in), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK, "%s", f.res[0].text);
    ck_assert_int_eq(fx_run(&f, "fill", GC_MODE_PROCESS, 1, 1, 0, &out), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK, "%s", f.res[0].text);
    ck_assert_int_eq(f.res[0].value, 4096);
    ck_assert_int_eq(fx_run(&f, "echo", GC_MODE_PROCESS, 1, 1, 0, &none), GC_OK);
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 1, 1, 0, &in), GC_OK);
    ck_assert_uint_eq((uint64_t)f.res[0].value, tu_checksum(f.st, ab, 2));
    fx_close(&f);
}
END_TEST

static long census_rss_kb(void)
{
    gc_census c;
    tu_census_take(&c);
    return c.rss_kb;
}

/* Soak: 10,000 dispatches over one persistent
 * pool, both modes, a new zone generation every few rounds; nothing may leak
 * and RSS must stay flat. It fits make check: about a second here. */
START_TEST(soak_many_dispatches_leave_nothing_behind)
{
    gc_census before;
    tu_census_take(&before);
    fixture f;
    fx_open(&f, 0);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    long rss_start = -1;
    uint32_t dispatches = 0;
    for (int round = 0; round < 1250; round++) {
        if (round % 25 == 0) {
            gc_state_free(f.st);
            f.st = tu_state(64 * 1024 + (size_t)round, 4096, 0);
        }
        gc_mode m = round % 3 == 0 ? GC_MODE_THREAD : GC_MODE_PROCESS;
        ck_assert_int_eq(fx_run(&f, "checksum", m, 2, 8, 0, &c), GC_OK);
        uint64_t want = tu_checksum(f.st, ab, 2);
        for (int t = 0; t < 8; t++)
            ck_assert_uint_eq((uint64_t)f.res[t].value, want);
        dispatches += 8;
        if (round == 25)
            rss_start = census_rss_kb();
    }
    long rss_end = census_rss_kb();
    fprintf(stderr, "soak: %u dispatches, RSS %ld kB after warm-up, %ld kB at the end\n",
            dispatches, rss_start, rss_end);
    /* Under valgrind or ASan RSS is the tool's, not ours: skip that limit. */
    int tool = gc_census_under_valgrind();
#if defined(__SANITIZE_ADDRESS__)
    tool = 1;
#endif
    if (!tool)
        ck_assert_int_le(rss_end, rss_start + 1024);
    fx_close(&f);
    gc_census after;
    tu_census_take(&after);
    tu_census_same(&before, &after);
}
END_TEST

/* A heavy zone has no name anywhere: nothing appears in /dev/shm, and the
 * descriptor is an anonymous memfd. */
START_TEST(zones_are_anonymous)
{
    int before = 0, after = 0;
    DIR *d = opendir("/dev/shm");
    struct dirent *de;
    while (d && (de = readdir(d)))
        before++;
    if (d)
        closedir(d);
    fixture f;
    fx_open(&f, 4096);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_PROCESS, 2, 2, 0, &c), GC_OK);
    d = opendir("/dev/shm");
    while (d && (de = readdir(d)))
        after++;
    if (d)
        closedir(d);
    ck_assert_int_eq(after, before);
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", gc_zone_input_fd(gc_state_heavy(f.st)));
    ssize_t n = readlink(path, target, sizeof target - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_msg(strncmp(target, "/memfd:", 7) == 0, "zone file is %s", target);
    fx_close(&f);
}
END_TEST

/* Send one task message (header with fd_flags + context bytes) with nfds
 * (0 to 2) descriptors to a worker and read its reply. */
static int send_task(int sock, const char *process, uint32_t task, const uint8_t *ctx,
                     size_t clen, uint32_t fd_flags, const int *fds, int nfds, gc_result *r)
{
    uint8_t msg[GC_PROTO_TASK_MAX];
    gc__task_hdr h;
    memset(&h, 0, sizeof h);
    h.magic = GC_PROTO_TASK_MAGIC;
    h.task = task;
    h.ctx_len = (uint32_t)clen;
    h.fd_flags = fd_flags;
    snprintf(h.process, sizeof h.process, "%s", process);
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, ctx, clen);
    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(2 * sizeof(int))];
    } cbuf;
    memset(&cbuf, 0, sizeof cbuf);
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof h + clen};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        m.msg_control = cbuf.space;
        m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
        return -1;
    static uint8_t reply[GC_PROTO_REPLY_MAX];
    ssize_t n = recv(sock, reply, sizeof reply, 0);
    uint64_t held;
    const uint8_t *ws;
    size_t wlen;
    memset(r, 0, sizeof *r);
    return n > 0 && gc__result_check(reply, (size_t)n, task, r, &held, &ws, &wlen, NULL) == GC_OK
               ? 0 : -1;
}

/* Fork a worker of f's engine on a fresh channel, as the pool does; *sock is
 * the main side. stdin_closed: its descriptor 0 is free, as in a daemon's. */
static pid_t worker_on_channel(fixture *f, int stdin_closed, int *sock)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    pid_t parent = getpid(), pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sv[0]);
        if (stdin_closed)
            close(0);   /* as a worker of a host that closed stdin (a daemon) */
        gc__worker_main(f->e, sv[1], 0, parent);
    }
    close(sv[1]);
    *sock = sv[0];
    return pid;
}

/* The encoded context of task 0 of 1 under contract c, from f's state. */
static size_t encoded_ctx(fixture *f, const gc_contract *c, uint8_t *buf, size_t cap)
{
    gc_ctx *ctx;
    size_t len;
    ck_assert_int_eq(gc_ctx_from_state(f->st, c, NULL, 0, 1, &ctx, NULL), GC_OK);
    ck_assert_int_eq(gc_wire_encode(ctx, buf, cap, &len, NULL), GC_OK);
    gc_ctx_free(ctx);
    return len;
}

/* Wait up to 3 s for a worker to end by itself; killed after that. */
static int worker_end(pid_t pid, int *ws)
{
    pid_t got = 0;
    for (int i = 0; i < 3000 && got == 0; i++) {
        got = waitpid(pid, ws, WNOHANG);
        if (got == 0)
            usleep(1000);
    }
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, ws, 0);
    }
    return got == pid;
}

/* The worker re-checks what it receives: a context whose entry reaches past
 * the end of the file that came with it is refused (EWIRE), the worker lives
 * on, and a correct context afterwards is served. This is the pool's own
 * defence, beside the decoder's fuzzing. */
START_TEST(worker_refuses_entry_outside_received_file)
{
    fixture f;
    fx_open(&f, 0);
    static const char *const heavy[] = {"a"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1};
    uint8_t good[GC_WIRE_MSG_MAX], bad[GC_WIRE_MSG_MAX];
    size_t len = encoded_ctx(&f, &c, good, sizeof good);
    /* Find entry a's length (1 MiB, little-endian u64) and stretch it past the file. */
    uint64_t one_mib = 1 << 20, huge = gc_zone_input_size(gc_state_heavy(f.st)) + 4096;
    memcpy(bad, good, len);
    size_t at = 0;
    for (size_t i = 0; i + 8 <= len; i++)
        if (memcmp(bad + i, &one_mib, 8) == 0)
            at = i;
    ck_assert_uint_gt(at, 0);
    memcpy(bad + at, &huge, 8);

    int sock;
    pid_t pid = worker_on_channel(&f, 0, &sock);
    int in_fd = gc_zone_input_fd(gc_state_heavy(f.st));
    const uint32_t in = GC_PROTO_USES_INPUT | GC_PROTO_FD_INPUT;
    gc_result r;
    ck_assert_int_eq(send_task(sock, "checksum", 0, bad, len, in, &in_fd, 1, &r), 0);
    ck_assert_int_eq(r.status, GC_EWIRE);
    ck_assert_msg(strstr(r.text, "context rejected") != NULL, "%s", r.text);
    ck_assert_int_eq(send_task(sock, "checksum", 1, good, len, in, &in_fd, 1, &r), 0);
    ck_assert_msg(r.status == GC_OK, "%s", r.text);
    ck_assert_uint_eq((uint64_t)r.value, tu_checksum(f.st, heavy, 1));
    close(sock);
    int ws = 0;
    ck_assert_msg(worker_end(pid, &ws), "the worker still runs 3 s after its channel closed");
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    fx_close(&f);
}
END_TEST

static void on_tick(int sig)
{
    (void)sig;
}

/* Leaves SIGALRM ticking every 2 ms in its worker, with a handler that does
 * not restart calls (a process timing its own blocking calls): value = pid. */
static int proc_leave_timer(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    struct itimerval it = {.it_interval = {0, 2000}, .it_value = {0, 2000}};
    if (sigaction(SIGALRM, &sa, NULL) != 0 || setitimer(ITIMER_REAL, &it, NULL) != 0)
        return GC_ESYS;
    out->value = getpid();
    return GC_OK;
}

/* block's wait is one blocking wait of its full length, restarted where a
 * signal cut it short: on a worker whose earlier process left SIGALRM
 * ticking every 2 ms (a handler that restarts nothing), a block of 100 ms
 * still lasts 100 ms inside the process and reports it. Process mode only:
 * the timer belongs to the worker; a thread of the test process would share
 * it with every other thread. */
START_TEST(block_waits_its_whole_time_through_signals)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "leave_timer", proc_leave_timer, NULL, &err), GC_OK);
    gc_contract none = {0};
    ck_assert_int_eq(fx_run(&f, "leave_timer", GC_MODE_PROCESS, 1, 1, 0, &none), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_OK);
    pid_t pid = (pid_t)f.res[0].value;
    ck_assert_int_eq(gc_state_set_int(f.st, "ms", 100, &err), GC_OK);
    static const char *const ms[] = {"ms"};
    gc_contract c = {.domain_reads = ms, .n_domain_reads = 1};
    ck_assert_int_eq(fx_run(&f, "block", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
    ck_assert_msg(f.res[0].status == GC_OK, "%s", f.res[0].text);
    ck_assert_int_eq(f.res[0].pid, pid);          /* the worker with the timer */
    ck_assert_str_eq(f.res[0].text, "blocked 100 ms");
    ck_assert_msg(f.res[0].exec_ns >= 100000000ull, "a block of 100 ms ended after %llu ns",
                  (unsigned long long)f.res[0].exec_ns);
    fx_close(&f);
}
END_TEST

/* A worker learns of the main process's end from its channel: when it closes
 * the worker leaves by itself, cleanly. A signal its process left behind
 * does not change that: while idle its wait is cut short again and again
 * (EINTR) and it serves on, and at end of file it leaves though the last
 * failed call left errno at EINTR (a worker that took that for another
 * interruption would spin at 100% CPU for ever, an orphan nobody reaps). */
START_TEST(worker_interrupted_by_its_process_serves_on_and_leaves_at_end_of_file)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "leave_timer", proc_leave_timer, NULL, &err), GC_OK);
    gc_contract none = {0};
    uint8_t ctx[GC_WIRE_MSG_MAX];
    size_t len = encoded_ctx(&f, &none, ctx, sizeof ctx);
    int sock;
    pid_t pid = worker_on_channel(&f, 0, &sock);
    gc_result r;
    for (uint32_t t = 0; t < 2; t++) {
        ck_assert_int_eq(send_task(sock, "leave_timer", t, ctx, len, 0, NULL, 0, &r), 0);
        ck_assert_msg(r.status == GC_OK, "task %u: %s", t, r.text);
        ck_assert_int_eq(r.value, pid);
        usleep(30000);   /* about 15 ticks while the worker waits for a task */
    }
    close(sock);
    int ws = 0;
    ck_assert_msg(worker_end(pid, &ws), "the worker still runs 3 s after its channel closed");
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "worker ended with status 0x%x", ws);
    fx_close(&f);
}
END_TEST

/* A worker that moved to a new generation released the old one on its
 * helper thread; at end of file it still leaves cleanly, at once: the helper
 * is told to quit and joined, and nothing it holds waits for ever. */
START_TEST(worker_that_released_a_generation_leaves_at_end_of_file)
{
    fixture f;
    fx_open(&f, 0);
    gc_contract in = {.heavy_reads = ab, .n_heavy_reads = 2};
    int sock;
    pid_t pid = worker_on_channel(&f, 0, &sock);
    const uint32_t flags = GC_PROTO_USES_INPUT | GC_PROTO_FD_INPUT;
    gc_result r;
    for (uint32_t gen = 0; gen < 2; gen++) {
        if (gen > 0) {
            gc_state_free(f.st);
            f.st = tu_state(64 * 1024, 4096, 0);
        }
        uint8_t ctx[GC_WIRE_MSG_MAX];
        size_t len = encoded_ctx(&f, &in, ctx, sizeof ctx);
        int fd = gc_zone_input_fd(gc_state_heavy(f.st));
        ck_assert_int_eq(send_task(sock, "checksum", gen, ctx, len, flags, &fd, 1, &r), 0);
        ck_assert_msg(r.status == GC_OK, "generation %u: %s", gen, r.text);
        ck_assert_uint_eq((uint64_t)r.value, tu_checksum(f.st, ab, 2));
    }
    /* The usual end: the old generation is long gone (one memfd mapping
     * left) and the helper sits idle, waiting for work; a quit it is never
     * woken for would hold the worker for ever. */
    long maps = memfd_maps_of(pid);
    for (int i = 0; i < 500 && maps != 1; i++) {
        usleep(10000);
        maps = memfd_maps_of(pid);
    }
    ck_assert_msg(maps == 1, "worker still maps %ld memfd regions after 5 s", maps);
    usleep(20000);   /* past the helper's last look at its queue, into its wait */
    close(sock);
    int ws = 0;
    ck_assert_msg(worker_end(pid, &ws), "the worker still runs 3 s after its channel closed");
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "worker ended with status 0x%x", ws);
    fx_close(&f);
}
END_TEST

/* Closes its worker's channel, then finishes for a while and exits with code
 * 5: a process that closes its files before its last work (exit handlers). */
static int proc_close_then_exit(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    (void)out;
    close(GC_WORKER_CHANNEL_FD);
    usleep(50000);
    _exit(5);
}

/* Closes its worker's channel, then never ends. */
static int proc_close_then_hang(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    (void)out;
    close(GC_WORKER_CHANNEL_FD);
    for (;;)
        pause();
    return GC_OK;   /* not reached */
}

/* A worker that hangs up its channel and then hangs is killed once its
 * grace is over: the run ends, the task is reported killed, and no wait for
 * a worker that will never end holds the run (there is no task deadline). */
START_TEST(worker_hanging_after_its_channel_closed_is_killed_after_the_grace)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "close_then_hang", proc_close_then_hang, NULL, &err),
                     GC_OK);
    ck_assert_int_eq(fx_run(&f, "close_then_hang", GC_MODE_PROCESS, 1, 1, 0, NULL), GC_OK);
    ck_assert_msg(f.res[0].status == GC_ECRASH && f.res[0].signal == SIGKILL, "%s %s",
                  gc_status_name(f.res[0].status), f.res[0].text);
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_live, 1);   /* replaced */
    fx_close(&f);
}
END_TEST

/* A worker whose channel closes a moment before it ends is reported as it
 * really ended, with its exit code: the pool gives it time to exit before it
 * kills it (and would otherwise report every such end as its own SIGKILL). */
START_TEST(worker_ending_after_its_channel_closed_is_reported_with_its_code)
{
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "close_then_exit", proc_close_then_exit, NULL, &err),
                     GC_OK);
    ck_assert_int_eq(fx_run(&f, "close_then_exit", GC_MODE_PROCESS, 2, 2, 0, NULL), GC_OK);
    /* Under valgrind a process's own end (the tool's leak check runs at its
     * exit) outlasts any grace: there the worker may be killed. */
    int tool = gc_census_under_valgrind();
    for (int t = 0; t < 2; t++) {
        if (tool && f.res[t].status == GC_ECRASH && f.res[t].signal == SIGKILL)
            continue;
        ck_assert_msg(f.res[t].status == GC_EEXIT && f.res[t].exit_code == 5, "task %d: %s %s", t,
                      gc_status_name(f.res[t].status), f.res[t].text);
        ck_assert_ptr_nonnull(strstr(f.res[t].text, "exited with code 5"));
    }
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_replaced, 2);
    ck_assert_uint_eq(s.workers_live, 2);
    fx_close(&f);
}
END_TEST

/* Descriptors below 64 another process of ours holds, from /proc/PID/fd. */
static uint64_t fds_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    uint64_t set = 0;
    for (struct dirent *de; (de = readdir(d));) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] != '.' && fd < 64)
            set |= 1ull << fd;
    }
    closedir(d);
    return set;
}

/* A worker that refuses a handover closes the files that came with it,
 * whatever numbers the kernel gave them, and nothing else: in a worker of a
 * host that closed stdin (a daemon) a file received first lands in
 * descriptor 0; in a worker that holds a generation, the files it holds stay
 * open and serve on. After each refusal the worker holds exactly what it
 * held before. */
START_TEST(refused_handover_closes_what_came_and_keeps_what_is_held)
{
    fixture f;
    fx_open(&f, 4096);
    static const char *const outs[] = {"out"};
    gc_contract none = {0}, in = {.heavy_reads = ab, .n_heavy_reads = 2};
    gc_contract io = {.heavy_reads = ab, .n_heavy_reads = 2, .outputs = outs, .n_outputs = 1};
    uint8_t ctx[GC_WIRE_MSG_MAX], ctx_in[GC_WIRE_MSG_MAX], ctx_io[GC_WIRE_MSG_MAX];
    size_t len = encoded_ctx(&f, &none, ctx, sizeof ctx);
    size_t len_in = encoded_ctx(&f, &in, ctx_in, sizeof ctx_in);
    size_t len_io = encoded_ctx(&f, &io, ctx_io, sizeof ctx_io);
    const gc_zone *z = gc_state_heavy(f.st);
    const int files[2] = {gc_zone_input_fd(z), gc_zone_output_fd(z)};
    ck_assert_int_ge(files[0], 0);
    ck_assert_int_ge(files[1], 0);
    const uint32_t in_alone = GC_PROTO_USES_INPUT | GC_PROTO_FD_INPUT;
    const uint32_t out_alone = GC_PROTO_USES_OUTPUT | GC_PROTO_FD_OUTPUT;
    int sock;
    pid_t pid = worker_on_channel(&f, 1, &sock);
    gc_result r;
    ck_assert_int_eq(send_task(sock, "fd_census", 0, ctx, len, 0, NULL, 0, &r), 0);
    ck_assert_msg(r.status == GC_OK, "%s", r.text);
    uint64_t held = fds_of(pid);
    ck_assert_uint_eq(held & 1, 0);
    ck_assert_uint_ne(held & (1u << GC_WORKER_CHANNEL_FD), 0);
    /* The context names no file, so a file sent with it is refused: the
     * input file alone, the output file alone, each landing in slot 0. */
    for (uint32_t i = 0; i < 2; i++) {
        ck_assert_int_eq(send_task(sock, "fd_census", 1 + i, ctx, len, i ? out_alone : in_alone,
                                   &files[i], 1, &r), 0);
        ck_assert_msg(r.status == GC_EWIRE && strstr(r.text, "descriptor 0 was passed"),
                      "handover %u: %s %s", i, gc_status_name(r.status), r.text);
        ck_assert_msg(fds_of(pid) == held, "handover %u: worker holds 0x%llx, before 0x%llx", i,
                      (unsigned long long)fds_of(pid), (unsigned long long)held);
    }
    /* A whole generation, as the pool hands it over: now the worker holds
     * both files (the input file in slot 0). */
    const uint32_t both = GC_PROTO_USES_INPUT | GC_PROTO_USES_OUTPUT | GC_PROTO_FD_INPUT |
                          GC_PROTO_FD_OUTPUT;
    ck_assert_int_eq(send_task(sock, "fd_census", 3, ctx_io, len_io, both, files, 2, &r), 0);
    ck_assert_msg(r.status == GC_OK && r.value == 0, "%s", r.text);
    uint64_t gen_held = fds_of(pid);
    ck_assert_uint_ne(gen_held & 1, 0);
    ck_assert_int_eq(__builtin_popcountll(gen_held & ~held), 2);
    /* The output file alone again, refused: only that new descriptor goes. */
    ck_assert_int_eq(send_task(sock, "fd_census", 4, ctx, len, out_alone, &files[1], 1, &r), 0);
    ck_assert_msg(r.status == GC_EWIRE && strstr(r.text, "was passed"), "%s %s",
                  gc_status_name(r.status), r.text);
    ck_assert_msg(fds_of(pid) == gen_held, "worker holds 0x%llx, before 0x%llx",
                  (unsigned long long)fds_of(pid), (unsigned long long)gen_held);
    /* The generation it holds serves on, without any file sent again. */
    ck_assert_int_eq(send_task(sock, "checksum", 5, ctx_in, len_in, GC_PROTO_USES_INPUT, NULL, 0,
                               &r), 0);
    ck_assert_msg(r.status == GC_OK, "%s", r.text);
    ck_assert_uint_eq((uint64_t)r.value, tu_checksum(f.st, ab, 2));
    ck_assert_int_eq(send_task(sock, "fd_census", 6, ctx, len, 0, NULL, 0, &r), 0);
    ck_assert_msg(r.status == GC_OK && r.value == 0, "%s", r.text);   /* nothing stray */
    close(sock);
    int ws = 0;
    ck_assert_msg(worker_end(pid, &ws), "the worker still runs 3 s after its channel closed");
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    fx_close(&f);
}
END_TEST

/* A task the worker refuses before any process runs reports no value, no
 * time in a process and no violation: nothing of the task the worker served
 * before it (whose result it built in the same place) leaks into its own. */
START_TEST(refused_task_reports_nothing_of_the_task_before)
{
    fixture f;
    fx_open(&f, 0);
    gc_contract none = {0}, in = {.heavy_reads = ab, .n_heavy_reads = 2};
    uint8_t ctx[GC_WIRE_MSG_MAX], ctx_in[GC_WIRE_MSG_MAX];
    size_t len = encoded_ctx(&f, &none, ctx, sizeof ctx);
    size_t len_in = encoded_ctx(&f, &in, ctx_in, sizeof ctx_in);
    int fd = gc_zone_input_fd(gc_state_heavy(f.st));
    const uint32_t in_flags = GC_PROTO_USES_INPUT | GC_PROTO_FD_INPUT;
    int sock;
    pid_t pid = worker_on_channel(&f, 0, &sock);
    gc_result r;
    ck_assert_int_eq(send_task(sock, "checksum", 0, ctx_in, len_in, in_flags, &fd, 1, &r), 0);
    ck_assert_msg(r.status == GC_OK, "%s", r.text);
    ck_assert_uint_eq((uint64_t)r.value, tu_checksum(f.st, ab, 2));
    ck_assert_uint_ne(r.value, 0);
    ck_assert_uint_gt(r.exec_ns, 0);
    /* The context names no file, yet the input file comes with it: refused. */
    ck_assert_int_eq(send_task(sock, "checksum", 1, ctx, len, in_flags, &fd, 1, &r), 0);
    ck_assert_msg(r.status == GC_EWIRE, "%s %s", gc_status_name(r.status), r.text);
    ck_assert_msg(r.value == 0 && r.exec_ns == 0 && r.violations == 0 && r.undeclared_reads == 0,
                  "refused task reports value %lld, exec %llu ns, %u violations, %u lax reads",
                  (long long)r.value, (unsigned long long)r.exec_ns, r.violations,
                  r.undeclared_reads);
    close(sock);
    int ws = 0;
    ck_assert_msg(worker_end(pid, &ws), "the worker still runs 3 s after its channel closed");
    fx_close(&f);
}
END_TEST

/* Does process pid map an address range that starts at addr? */
static int maps_at(pid_t pid, uintptr_t addr)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strtoull(line, NULL, 16) == addr;
    fclose(f);
    return found;
}

/* A worker that cannot map a received output file (here a descriptor of it
 * opened read-only) refuses the task, unmaps what it had mapped of that
 * handover and nothing else of its address space: a mapping its host keeps
 * low in memory (as a program built without PIE keeps its code at
 * 0x400000), inherited at fork, stays; and a whole handover after it is
 * served. */
START_TEST(failed_output_mapping_unmaps_only_its_own)
{
    fixture f;
    fx_open(&f, 1u << 20);
    const uintptr_t low_addr = 0x10000;
    void *low = mmap((void *)low_addr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                     MAP_FIXED_NOREPLACE, -1, 0);
    ck_assert_msg(low == (void *)low_addr, "cannot map a page at 0x%lx: %s",
                  (unsigned long)low_addr, strerror(errno));
    static const char *const outs[] = {"out"};
    gc_contract io = {.heavy_reads = ab, .n_heavy_reads = 2, .outputs = outs, .n_outputs = 1};
    uint8_t ctx[GC_WIRE_MSG_MAX];
    size_t len = encoded_ctx(&f, &io, ctx, sizeof ctx);
    const gc_zone *z = gc_state_heavy(f.st);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", gc_zone_output_fd(z));
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(ro, 0);
    const uint32_t both = GC_PROTO_USES_INPUT | GC_PROTO_USES_OUTPUT | GC_PROTO_FD_INPUT |
                          GC_PROTO_FD_OUTPUT;
    int sock;
    pid_t pid = worker_on_channel(&f, 0, &sock);
    ck_assert(maps_at(pid, low_addr));
    gc_result r;
    const int refused[2] = {gc_zone_input_fd(z), ro};
    ck_assert_int_eq(send_task(sock, "checksum", 0, ctx, len, both, refused, 2, &r), 0);
    ck_assert_msg(r.status == GC_ESYS && strstr(r.text, "mapping the output file failed"),
                  "%s %s", gc_status_name(r.status), r.text);
    ck_assert_msg(maps_at(pid, low_addr), "the worker unmapped its host's page at 0x%lx",
                  (unsigned long)low_addr);
    const int files[2] = {gc_zone_input_fd(z), gc_zone_output_fd(z)};
    ck_assert_int_eq(send_task(sock, "checksum", 1, ctx, len, both, files, 2, &r), 0);
    ck_assert_msg(r.status == GC_OK, "%s", r.text);
    ck_assert_uint_eq((uint64_t)r.value, tu_checksum(f.st, ab, 2));
    close(sock);
    int ws = 0;
    ck_assert_msg(worker_end(pid, &ws), "the worker still runs 3 s after its channel closed");
    close(ro);
    munmap(low, 4096);
    fx_close(&f);
}
END_TEST

/* ---- thread mode's kept threads ------------------------------------------------ */

/* Threads of this process, from /proc/self/task. */
static int thread_count(void)
{
    return threads_of(getpid());
}

/* The kernel's id of the thread that runs the task. */
static int proc_tid(gc_ctx *ctx, gc_proc_out *out)
{
    (void)ctx;
    out->value = (int64_t)syscall(SYS_gettid);
    return GC_OK;
}

START_TEST(threads_are_kept_across_runs_and_joined_at_free)
{
    int base = thread_count();
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "tid", proc_tid, NULL, &err), GC_OK);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 3, 12, 0, &c), GC_OK);
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.threads_started, 3);
    ck_assert_uint_eq(s.threads_live, 3);
    ck_assert_int_eq(thread_count(), base + 3);
    /* One task on one worker, three times: the same kept thread runs it,
     * never the caller's, and no thread starts. */
    int64_t tid0 = 0;
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(fx_run(&f, "tid", GC_MODE_THREAD, 1, 1, 0, NULL), GC_OK);
        ck_assert_int_eq(f.res[0].status, GC_OK);
        ck_assert_int_ne(f.res[0].value, (int64_t)syscall(SYS_gettid));
        if (round == 0)
            tid0 = f.res[0].value;
        ck_assert_int_eq(f.res[0].value, tid0);
    }
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 2, 8, 0, &c), GC_OK);
    for (int t = 0; t < 8; t++)
        ck_assert_uint_eq((uint64_t)f.res[t].value, tu_checksum(f.st, ab, 2));
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.threads_started, 3);
    ck_assert_uint_eq(s.thread_runs, 5);
    /* More workers than kept: only the missing ones start. */
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 5, 10, 0, &c), GC_OK);
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.threads_started, 5);
    ck_assert_int_eq(thread_count(), base + 5);
    /* Stopping the pools joins them; the next run starts them again. */
    gc_engine_pool_stop(f.e);
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.threads_live, 0);
    ck_assert_int_eq(thread_count(), base);
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 2, 4, 0, &c), GC_OK);
    ck_assert_int_eq(thread_count(), base + 2);
    fx_close(&f);
    ck_assert_int_eq(thread_count(), base);
}
END_TEST

/* Late tasks keep their meaning on kept threads: a cooperative one stops at
 * its deadline, a non-cooperative one is reported ETIMEOUT when it returns,
 * a destructive one is refused; and the same threads serve the next run. */
START_TEST(kept_threads_keep_failure_semantics)
{
    fixture f;
    fx_open(&f, 0);
    const gc_contract *cd = fx_key(&f, "ms", 300);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 2, 2, 0, &c), GC_OK);
    static const char *const late[] = {"sleep", "spin", "block"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(fx_run(&f, late[i], GC_MODE_THREAD, 2, 2, 50, cd), GC_OK);
        for (int t = 0; t < 2; t++)
            ck_assert_msg(f.res[t].status == GC_ETIMEOUT, "%s task %d: %s %s", late[i], t,
                          gc_status_name(f.res[t].status), f.res[t].text);
    }
    /* sleep watches its deadline: it stopped long before its 300 ms. */
    ck_assert_int_eq(fx_run(&f, "sleep", GC_MODE_THREAD, 1, 1, 50, cd), GC_OK);
    ck_assert_uint_lt(f.res[0].wall_ns, 250000000ull);
    ck_assert_int_eq(fx_run(&f, "crash", GC_MODE_THREAD, 2, 2, 0, NULL), GC_OK);
    ck_assert_int_eq(f.res[0].status, GC_EUNSUPPORTED);
    ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 2, 6, 0, &c), GC_OK);
    for (int t = 0; t < 6; t++)
        ck_assert_uint_eq((uint64_t)f.res[t].value, tu_checksum(f.st, ab, 2));
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.threads_started, 2);
    ck_assert_uint_eq(s.threads_live, 2);
    fx_close(&f);
}
END_TEST

/* The largest run thread mode allows, GC_WORKERS_MAX workers, starts that
 * many kept threads, every task is right, and gc_engine_free joins them all
 * and frees the pool cleanly: the full pool is the edge where a wake-up loop
 * running one slot too far would post a semaphore past the pool's end. */
START_TEST(largest_thread_pool_runs_and_is_freed)
{
    int base = thread_count();
    fixture f;
    fx_open(&f, 0);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    gc_result *res = calloc(GC_WORKERS_MAX, sizeof *res);
    ck_assert_ptr_nonnull(res);
    gc_exec_opts o = {.process = "checksum", .mode = GC_MODE_THREAD, .workers = GC_WORKERS_MAX,
                      .tasks = GC_WORKERS_MAX, .contract = &c};
    gc_err err;
    ck_assert_int_eq(gc_execute_parallel(f.e, f.st, &o, res, &err), GC_OK);
    uint64_t want = tu_checksum(f.st, ab, 2);
    for (int t = 0; t < GC_WORKERS_MAX; t++)
        ck_assert_msg(res[t].status == GC_OK && (uint64_t)res[t].value == want, "task %d: %s %s",
                      t, gc_status_name(res[t].status), res[t].text);
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.threads_started, GC_WORKERS_MAX);
    ck_assert_uint_eq(s.threads_live, GC_WORKERS_MAX);
    ck_assert_int_eq(thread_count(), base + GC_WORKERS_MAX);
    free(res);
    fx_close(&f);
    ck_assert_int_eq(thread_count(), base);
}
END_TEST

/* An application's SIGSEGV handler (a sanitizer's, a JIT's) that recovers
 * from a fault in the task's own thread. */
static __thread sigjmp_buf *volatile fault_jump;   /* volatile: set before the store */

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    if (fault_jump)
        siglongjmp(*fault_jump, 1);
    signal(sig, SIG_DFL);   /* not ours: fault again, unhandled */
}

/* Stores into the read-only heavy entry "a": value 1 when the fault reached
 * the process's handler and the task went on. */
static int proc_store_readonly(gc_ctx *ctx, gc_proc_out *out)
{
    const void *d;
    size_t n;
    if (gc_ctx_heavy(ctx, "a", &d, &n) != GC_OK || n == 0)
        return GC_EINVAL;
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1) == 0) {
        fault_jump = &jb;
        ((volatile char *)(uintptr_t)d)[0] = 1;
        fault_jump = NULL;
        snprintf(out->text, sizeof out->text, "the store went through");
        return GC_OK;
    }
    fault_jump = NULL;
    out->value = 1;
    snprintf(out->text, sizeof out->text, "fault caught by the handler");
    return GC_OK;
}

/* A fault in a task is the process's business as on the caller's own thread:
 * on a kept thread (which takes no asynchronous signal) the synchronous
 * SIGSEGV still reaches the handler the application installed, and the task
 * ends normally. In a worker process (default handlers) the fault kills that
 * worker only and is reported as a crash by SIGSEGV. */
START_TEST(fault_in_a_task_reaches_the_handler_or_kills_only_its_worker)
{
    gc_mode m = modes[_i];
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    ck_assert_int_eq(gc_engine_register(f.e, "store_readonly", proc_store_readonly, NULL, &err),
                     GC_OK);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old), 0);
    static const char *const heavy[] = {"a"};
    gc_contract c = {.heavy_reads = heavy, .n_heavy_reads = 1};
    /* The caller blocks every signal (an application that leaves them to a
     * signal thread of its own): the threads it starts must not inherit that. */
    sigset_t all, prev;
    sigfillset(&all);
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &all, &prev), 0);
    for (int round = 0; round < 2; round++) {   /* a fresh thread, then the kept one */
        ck_assert_int_eq(fx_run(&f, "store_readonly", m, 1, 1, 0, &c), GC_OK);
        if (m == GC_MODE_THREAD) {
            ck_assert_msg(f.res[0].status == GC_OK && f.res[0].value == 1, "round %d: %s %s",
                          round, gc_status_name(f.res[0].status), f.res[0].text);
        } else {
            ck_assert_msg(f.res[0].status == GC_ECRASH && f.res[0].signal == SIGSEGV,
                          "round %d: %s %s", round, gc_status_name(f.res[0].status),
                          f.res[0].text);
        }
    }
    ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &prev, NULL), 0);
    ck_assert_int_eq(sigaction(SIGSEGV, &old, NULL), 0);
    /* The zone is as it was: the store never reached it. */
    gc_contract cs = {.heavy_reads = ab, .n_heavy_reads = 2};
    ck_assert_int_eq(fx_run(&f, "checksum", m, 2, 2, 0, &cs), GC_OK);
    ck_assert_uint_eq((uint64_t)f.res[0].value, tu_checksum(f.st, ab, 2));
    fx_close(&f);
}
END_TEST

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

/* A worker forked by a caller that blocks every signal (an application that
 * leaves them to a signal thread of its own) does not keep that mask: its
 * tasks run with signals as a fresh process has them, so a signal a task
 * raises ends the worker and is reported as the crash it is, rather than
 * waiting, blocked, while the task goes on. Both a worker forked for the run
 * and its replacement, forked after the crash. */
START_TEST(workers_do_not_inherit_the_callers_blocked_signals)
{
    static const int sigs[] = {SIGSEGV, SIGTERM};
    fixture f;
    fx_open(&f, 0);
    gc_err err;
    static const char *const dom[] = {"signal"};
    gc_contract c = {.domain_reads = dom, .n_domain_reads = 1};
    sigset_t all, prev;
    sigfillset(&all);
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &all, &prev), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(gc_state_set_int(f.st, "signal", sigs[i], &err), GC_OK);
        ck_assert_int_eq(fx_run(&f, "crash", GC_MODE_PROCESS, 1, 1, 0, &c), GC_OK);
        ck_assert_msg(f.res[0].status == GC_ECRASH && f.res[0].signal == sigs[i],
                      "signal %d: %s %s", sigs[i], gc_status_name(f.res[0].status),
                      f.res[0].text);
    }
    ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &prev, NULL), 0);
    gc_engine_stats s;
    gc_engine_stats_get(f.e, &s);
    ck_assert_uint_eq(s.workers_replaced, 2);
    fx_close(&f);
}
END_TEST

/* A thread-mode run gives the caller its signal mask back: the kept threads
 * are started with every asynchronous signal blocked, the caller is not left
 * so. After the run that starts them and after a warm one, the caller's mask
 * is what it was and a signal it raises is delivered at once. */
START_TEST(thread_run_gives_the_caller_its_signal_mask_back)
{
    fixture f;
    fx_open(&f, 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
    sigset_t before, after;
    ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
    ck_assert_int_eq(sigismember(&before, SIGUSR1), 0);
    gc_contract c = {.heavy_reads = ab, .n_heavy_reads = 2};
    for (int round = 0; round < 2; round++) {   /* starting threads, then warm */
        ck_assert_int_eq(fx_run(&f, "checksum", GC_MODE_THREAD, 2, 2, 0, &c), GC_OK);
        ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
        for (int sig = 1; sig < SIGRTMIN; sig++)
            ck_assert_msg(sigismember(&after, sig) == sigismember(&before, sig),
                          "round %d: signal %d %s by the run", round, sig,
                          sigismember(&after, sig) ? "blocked" : "unblocked");
        usr1_seen = 0;
        ck_assert_int_eq(raise(SIGUSR1), 0);
        ck_assert_msg(usr1_seen, "round %d: SIGUSR1 raised after the run was not delivered", round);
    }
    ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
    fx_close(&f);
}
END_TEST

/* A deadline 2^31 ms or more ahead must still be a finite wait: an int
 * overflow would give poll a negative timeout, which means "forever". */
START_TEST(poll_timeout_never_overflows_into_forever)
{
    const uint64_t now = 5000000000ull;
    static const uint64_t ms[] = {1, 1000, 2147483647ull, 2147483648ull, 3000000000ull,
                                  4294967295ull, 1ull << 40};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        int t = gc__poll_timeout_ms(now + ms[i] * 1000000ull, now);
        ck_assert_msg(t > 0, "deadline %llu ms ahead gave poll timeout %d",
                      (unsigned long long)ms[i], t);
        ck_assert_int_eq(t, ms[i] > INT_MAX ? INT_MAX : (int)ms[i]);
    }
    ck_assert_int_eq(gc__poll_timeout_ms(0, now), -1);          /* no deadline */
    ck_assert_int_eq(gc__poll_timeout_ms(now, now), 0);          /* due now */
    ck_assert_int_eq(gc__poll_timeout_ms(now - 1, now), 0);      /* passed */
    ck_assert_int_eq(gc__poll_timeout_ms(now - 1000000, now), 0); /* passed 1 ms ago */
    ck_assert_int_eq(gc__poll_timeout_ms(1, now), 0);   /* long passed: no wrap into a long wait */
    ck_assert_int_eq(gc__poll_timeout_ms(now + 1, now), 1);      /* rounded up */
}
END_TEST

/* The options' limits, checked before any worker runs: tasks exactly at
 * GC_TASKS_MAX passes the check (the run then stops at the unknown process),
 * one more is refused; retries likewise at GC_RETRIES_MAX and one more (a
 * conflicting task would run again billions of times); no options at all
 * is refused, not dereferenced. */
START_TEST(options_checked_at_their_exact_limits)
{
    gc_engine *e = NULL;
    gc_state *st = NULL;
    gc_result res[1];
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    gc_exec_opts o = {.process = "no-such-process", .mode = GC_MODE_THREAD, .workers = 1,
                      .tasks = GC_TASKS_MAX};
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "no-such-process"));
    o.tasks = GC_TASKS_MAX + 1;
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "tasks = 1000001"));
    o.tasks = 1;
    o.retries = GC_RETRIES_MAX;
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_ENOTFOUND);
    o.retries = GC_RETRIES_MAX + 1;
    ck_assert_int_eq(gc_execute_parallel(e, st, &o, res, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "execute_parallel: retries = 1001 (allowed 0..1000)");
    ck_assert_int_eq(gc_execute_parallel(e, st, NULL, res, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "execute_parallel: no options");
    gc_state_free(st);
    gc_engine_free(e);
}
END_TEST

/* A result message is checked field by field against its size: text and
 * write set exactly at their maxima pass, one byte more, or lengths that do
 * not add up to the message, are EWIRE. */
START_TEST(result_check_at_its_exact_limits)
{
    static uint8_t buf[GC_PROTO_REPLY_MAX];
    const size_t head = GC_PROTO_RESULT_HEAD;
    gc__result_msg m;
    memset(&m, 0, sizeof m);
    m.magic = GC_PROTO_RESULT_MAGIC;
    m.task = 3;
    m.text_len = GC_RESULT_TEXT_MAX - 1;
    m.wset_len = GC_WSET_MSG_MAX;
    memset(m.text, 't', m.text_len);
    memset(buf, 0, sizeof buf);
    memcpy(buf, &m, head + m.text_len);
    gc_result r;
    uint64_t held = 0;
    const uint8_t *ws = NULL;
    size_t wlen = 0;
    gc_err err;
    size_t len = head + m.text_len + m.wset_len;
    ck_assert_int_eq(gc__result_check(buf, len, 3, &r, &held, &ws, &wlen, &err), GC_OK);
    ck_assert_uint_eq(strlen(r.text), GC_RESULT_TEXT_MAX - 1);
    ck_assert_uint_eq(wlen, GC_WSET_MSG_MAX);
    ck_assert_ptr_eq(ws, buf + head + m.text_len);
    /* A write set one byte over its maximum. */
    m.text_len = 0;
    m.wset_len = GC_WSET_MSG_MAX + 1;
    memcpy(buf, &m, head);
    ck_assert_int_eq(gc__result_check(buf, head + m.wset_len, 3, &r, &held, &ws, &wlen, &err),
                     GC_EWIRE);
    ck_assert_ptr_nonnull(strstr(err.msg, "write set length 65537"));
    /* A text one byte over its maximum. */
    m.text_len = GC_RESULT_TEXT_MAX;
    m.wset_len = 0;
    memcpy(buf, &m, head);
    ck_assert_int_eq(gc__result_check(buf, head + m.text_len, 3, &r, &held, &ws, &wlen, &err),
                     GC_EWIRE);
    ck_assert_ptr_nonnull(strstr(err.msg, "text length 256"));
    /* Lengths in range that do not add up to the message's size. */
    m.text_len = 5;
    m.wset_len = 0;
    memcpy(buf, &m, head);
    ck_assert_int_eq(gc__result_check(buf, head + 6, 3, &r, &held, &ws, &wlen, &err), GC_EWIRE);
    ck_assert_ptr_nonnull(strstr(err.msg, "do not match its size"));
    /* The largest message is GC_PROTO_REPLY_MAX - 1 bytes (a text of at most
     * GC_RESULT_TEXT_MAX - 1): one of GC_PROTO_REPLY_MAX bytes with both
     * lengths at their maxima is refused for what is wrong with it, lengths
     * one short of its size, not as past a maximum it does not pass; one more
     * byte is oversized, the maximum named. */
    m.text_len = GC_RESULT_TEXT_MAX - 1;
    m.wset_len = GC_WSET_MSG_MAX;
    memcpy(buf, &m, head);
    ck_assert_uint_eq(head + m.text_len + m.wset_len + 1, GC_PROTO_REPLY_MAX);
    ck_assert_int_eq(gc__result_check(buf, GC_PROTO_REPLY_MAX, 3, &r, &held, &ws, &wlen, &err),
                     GC_EWIRE);
    ck_assert_msg(strstr(err.msg, "do not match its size") != NULL, "%s", err.msg);
    ck_assert_int_eq(gc__result_check(buf, GC_PROTO_REPLY_MAX + 1, 3, &r, &held, &ws, &wlen,
                                      &err), GC_EWIRE);
    char oversized[96];
    snprintf(oversized, sizeof oversized, "oversized result message: %zu bytes, maximum %zu",
             (size_t)GC_PROTO_REPLY_MAX + 1, (size_t)GC_PROTO_REPLY_MAX);
    ck_assert_str_eq(err.msg, oversized);
    /* Statuses: GC_OK down to GC_STATUS_MIN exactly pass, one past either end
     * is EWIRE. */
    static const int statuses[] = {GC_OK, GC_STATUS_MIN, 1, GC_STATUS_MIN - 1};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        m.text_len = 0;
        m.wset_len = 0;
        m.status = statuses[i];
        memcpy(buf, &m, head);
        int want = i < 2 ? GC_OK : GC_EWIRE;
        ck_assert_int_eq(gc__result_check(buf, head, 3, &r, &held, &ws, &wlen, &err), want);
        if (want == GC_OK)
            ck_assert_int_eq(r.status, statuses[i]);
        else
            ck_assert_ptr_nonnull(strstr(err.msg, "unknown status"));
    }
}
END_TEST

/* A worker's result message is refused for what is wrong with it, and the
 * reason reaches the task's text ("worker N: ..."): one shorter than its
 * fixed header says so, at every length short of it; a text with a NUL byte
 * (first, inner or last) is refused rather than believed up to the NUL, which
 * would drop the rest of a worker's reason unseen. */
START_TEST(result_check_refuses_a_short_header_and_a_nul_in_text)
{
    static uint8_t buf[GC_PROTO_REPLY_MAX];
    const size_t head = GC_PROTO_RESULT_HEAD;
    gc__result_msg m;
    memset(&m, 0, sizeof m);
    m.magic = GC_PROTO_RESULT_MAGIC;
    m.task = 3;
    memset(buf, 0, sizeof buf);
    memcpy(buf, &m, head);
    gc_result r;
    uint64_t held = 0;
    const uint8_t *ws = NULL;
    size_t wlen = 0;
    gc_err err;
    for (size_t len = 0; len < head; len++) {
        ck_assert_int_eq(gc__result_check(buf, len, 3, &r, &held, &ws, &wlen, &err), GC_EWIRE);
        ck_assert_msg(strstr(err.msg, "shorter than its header") != NULL, "%zu bytes: %s", len,
                      err.msg);
    }
    ck_assert_int_eq(gc__result_check(buf, head, 3, &r, &held, &ws, &wlen, &err), GC_OK);
    static const char text[] = "bad input";
    m.text_len = sizeof text - 1;
    for (size_t at = 0; at < m.text_len; at++) {
        memcpy(m.text, text, m.text_len);
        m.text[at] = '\0';
        memcpy(buf, &m, head + m.text_len);
        ck_assert_int_eq(gc__result_check(buf, head + m.text_len, 3, &r, &held, &ws, &wlen, &err),
                         GC_EWIRE);
        ck_assert_msg(strstr(err.msg, "contains a NUL byte") != NULL, "NUL at %zu: %s", at,
                      err.msg);
    }
    memcpy(m.text, text, m.text_len);
    memcpy(buf, &m, head + m.text_len);
    ck_assert_int_eq(gc__result_check(buf, head + m.text_len, 3, &r, &held, &ws, &wlen, &err),
                     GC_OK);
    ck_assert_str_eq(r.text, text);
}
END_TEST

/* gc__result_check reads the len bytes it is given and not one past them:
 * a caller's buffer may end where the message does. A message that ends
 * right where an inaccessible page begins is checked without a fault, with
 * no text and with one. */
START_TEST(result_check_reads_no_byte_past_the_message)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), head = GC_PROTO_RESULT_HEAD;
    uint8_t *map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(map, MAP_FAILED);
    ck_assert_int_eq(mprotect(map + pg, pg, PROT_NONE), 0);
    gc__result_msg m;
    memset(&m, 0, sizeof m);
    m.magic = GC_PROTO_RESULT_MAGIC;
    m.task = 3;
    gc_result r;
    uint64_t held = 0;
    const uint8_t *ws = NULL;
    size_t wlen = 0;
    gc_err err;
    for (uint32_t text_len = 0; text_len <= 2; text_len += 2) {
        m.text_len = text_len;
        memcpy(m.text, "ok", text_len);
        size_t len = head + text_len;
        uint8_t *at = map + pg - len;
        memcpy(at, &m, len);
        ck_assert_int_eq(gc__result_check(at, len, 3, &r, &held, &ws, &wlen, &err), GC_OK);
        ck_assert_uint_eq(strlen(r.text), text_len);
    }
    ck_assert_int_eq(munmap(map, 2 * pg), 0);
}
END_TEST

/* Rules per engine are capped: exactly GC__RULES_MAX are kept, the next is ELIMIT. */
START_TEST(rules_capped_at_their_exact_maximum)
{
    gc_engine *e = NULL;
    gc_err err;
    ck_assert_int_eq(gc_engine_new(&e, &err), GC_OK);
    for (int i = 0; i < GC__RULES_MAX; i++)
        ck_assert_int_eq(gc_engine_rule_int_range(e, "k", 0, i, &err), GC_OK);
    ck_assert_int_eq(gc_engine_rule_int_range(e, "k", 0, 1, &err), GC_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "1024 rules already"));
    gc_engine_free(e);
}
END_TEST

Suite *suite_exec(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("both_modes");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, every_worker_sees_every_heavy_entry, 0, 2);
    tcase_add_loop_test(tc, outputs_written_by_workers_are_read_back, 0, 2);
    tcase_add_loop_test(tc, fill_takes_its_pattern_from_the_pattern_key_only, 0, 2);
    tcase_add_loop_test(tc, hang_past_deadline_is_killed_others_finish, 0, 2);
    tcase_add_loop_test(tc, undeclared_read_is_a_contract_violation, 0, 2);
    tcase_add_loop_test(tc, readonly_entry_cannot_be_written, 0, 2);
    tcase_add_loop_test(tc, write_readonly_names_the_first_declared_heavy_entry, 0, 2);
    tcase_add_test(tc, sleep_stopped_at_its_deadline_says_so);
    tcase_add_loop_test(tc, alloc_makes_its_bytes_resident, 0, 2);
    tcase_add_loop_test(tc, spin_and_block_say_how_long_they_waited, 0, 2);
    tcase_add_loop_test(tc, zone_at_its_entry_limit_reaches_workers, 0, 2);
    tcase_add_loop_test(tc, sleep_sleeps_rather_than_spins, 0, 2);
    tcase_add_loop_test(tc, read_undeclared_without_a_name_reports_why, 0, 2);
    tcase_add_loop_test(tc, read_undeclared_of_a_declared_entry_reads_it, 0, 2);
    tcase_add_loop_test(tc, echo_shows_as_many_bytes_as_its_text_holds, 0, 2);
    tcase_add_loop_test(tc, missing_heavy_entry_fails_every_task_loudly, 0, 2);
    tcase_add_loop_test(tc, bad_runs_are_refused, 0, 2);
    tcase_add_loop_test(tc, refused_worker_count_names_the_allowed_range, 0, 2);
    tcase_add_loop_test(tc, workers_see_their_deadline, 0, 2);
    tcase_add_loop_test(tc, unterminated_process_text_is_cut_at_the_last_byte, 0, 2);
    tcase_add_loop_test(tc, exec_time_is_the_process_own, 0, 2);
    tcase_add_loop_test(tc, process_text_wins_over_an_earlier_refusal, 0, 2);
    tcase_add_loop_test(tc, fault_in_a_task_reaches_the_handler_or_kills_only_its_worker, 0, 2);
    suite_add_tcase(s, tc);
    TCase *pc = tcase_create("pool");
    tcase_set_timeout(pc, 30);
    tcase_add_test(pc, pool_persists_and_follows_generations);
    tcase_add_test(pc, options_checked_at_their_exact_limits);
    tcase_add_test(pc, late_thread_reports_its_overshoot);
    tcase_add_test(pc, result_check_at_its_exact_limits);
    tcase_add_test(pc, result_check_refuses_a_short_header_and_a_nul_in_text);
    tcase_add_test(pc, result_check_reads_no_byte_past_the_message);
    tcase_add_test(pc, rules_capped_at_their_exact_maximum);
    tcase_add_test(pc, warm_starts_every_worker_before_the_run);
    tcase_add_test(pc, block_waits_its_whole_time_through_signals);
    tcase_add_test(pc, warm_takes_the_largest_pool_and_refuses_one_more);
    tcase_add_loop_test(pc, crash_fails_only_its_task_and_worker_is_replaced, 0, 3);
    tcase_add_test(pc, exit_mid_task_is_reported_with_its_code);
    tcase_add_test(pc, crash_and_exit_refused_in_threads);
    tcase_add_test(pc, workers_hold_only_their_channel_and_the_zone);
    tcase_add_test(pc, concurrent_calls_are_serialised_and_correct);
    tcase_add_test(pc, nothing_leaks_after_engine_free);
    tcase_add_test(pc, registering_later_restarts_the_pool);
    tcase_add_test(pc, channel_broken_between_tasks_costs_no_task);
    tcase_add_loop_test(pc, engine_files_stay_out_of_closed_stdio, 0, 3);
    tcase_add_loop_test(pc, malformed_or_oversized_reply_fails_only_its_task, 0, 3);
    tcase_add_test(pc, fd_census_builtin_finds_no_stray_descriptor);
    tcase_add_test(pc, fd_census_finds_a_stray_mapping_next_to_the_live_generation);
    tcase_add_test(pc, fd_census_builtin_counts_only_memfd_mappings);
    tcase_add_test(pc, old_generation_released_after_the_reply);
    tcase_add_test(pc, generations_retired_faster_than_released_are_all_released);
    tcase_add_test(pc, contracts_naming_other_files_of_the_same_generation);
    tcase_add_test(pc, zones_are_anonymous);
    tcase_add_test(pc, worker_refuses_entry_outside_received_file);
    tcase_add_test(pc, worker_interrupted_by_its_process_serves_on_and_leaves_at_end_of_file);
    tcase_add_test(pc, worker_that_released_a_generation_leaves_at_end_of_file);
    tcase_add_test(pc, worker_ending_after_its_channel_closed_is_reported_with_its_code);
    tcase_add_test(pc, worker_hanging_after_its_channel_closed_is_killed_after_the_grace);
    tcase_add_test(pc, refused_handover_closes_what_came_and_keeps_what_is_held);
    tcase_add_test(pc, refused_task_reports_nothing_of_the_task_before);
    tcase_add_test(pc, failed_output_mapping_unmaps_only_its_own);
    tcase_add_test(pc, poll_timeout_never_overflows_into_forever);
    tcase_add_test(pc, threads_are_kept_across_runs_and_joined_at_free);
    tcase_add_test(pc, kept_threads_keep_failure_semantics);
    tcase_add_test(pc, largest_thread_pool_runs_and_is_freed);
    tcase_add_test(pc, thread_run_gives_the_caller_its_signal_mask_back);
    tcase_add_test(pc, workers_do_not_inherit_the_callers_blocked_signals);
    suite_add_tcase(s, pc);
    TCase *sc = tcase_create("soak");
    tcase_set_timeout(sc, 120);
    tcase_add_test(sc, soak_many_dispatches_leave_nothing_behind);
    suite_add_tcase(s, sc);
    return s;
}
