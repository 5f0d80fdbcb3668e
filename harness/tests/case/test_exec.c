/* hc_case_run end to end on the real engine: cases that must pass in both
 * modes, and cases whose expectations are wrong on purpose, to prove that each
 * kind of expectation can fail and says precisely why (an expectation that
 * cannot fail verifies nothing). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_int.h"
#include "suites.h"

static hc_case *load(const char *text)
{
    hc_case *c = NULL;
    hc_error err;
    int rc = hc_case_parse("run.case", text, strlen(text), &c, &err);
    ck_assert_msg(rc == GC_OK, "parse: %d: %s: %s", err.line, err.key, err.message);
    return c;
}

/* Run in one mode; the run itself must be carried out. */
static void run(const char *text, gc_mode mode, hc_outcome *out)
{
    hc_case *c = load(text);
    int rc = hc_case_run(c, mode, 1234, out);
    ck_assert_msg(rc == GC_OK, "run could not be carried out: %s", out->message);
    hc_case_free(c);
}

static void expect_pass(const char *text)
{
    for (int m = GC_MODE_THREAD; m <= GC_MODE_PROCESS; m++) {
        hc_outcome out;
        run(text, (gc_mode)m, &out);
        ck_assert_msg(out.passed, "%s mode: %s", m == GC_MODE_THREAD ? "thread" : "process",
                      out.message);
    }
}

static void expect_fail(const char *text, gc_mode mode, const char *needle)
{
    hc_outcome out;
    run(text, mode, &out);
    ck_assert_msg(!out.passed, "case passed but should fail: %s", out.message);
    ck_assert_msg(strstr(out.message, needle) != NULL, "message '%s' lacks '%s'", out.message,
                  needle);
}

#define HEAD "[case]\nid = t\ntitle = t\n"

static const char checksum_case[] =
    HEAD "process = checksum\nworkers = 3\ntasks = 7\n"
    "[heavy.a]\nsize = 3MiB\nfill = sequence\n"
    "[heavy.b.c-d]\nsize = 4097B\nfill = random:7\n"
    "[heavy.seeded]\nsize = 1KiB\nfill = random\n"
    "[contract]\nheavy_reads = b.c-d, a, seeded\n"
    "[expect]\nvalue = checksum\nheavy_unchanged = true\nmax_wall_ms = 10000\n";

START_TEST(checksum_both_modes)
{
    expect_pass(checksum_case);
    hc_outcome out;
    run(checksum_case, GC_MODE_PROCESS, &out);
    ck_assert_uint_eq(out.tasks, 7);
    ck_assert_uint_eq(out.tasks_ok, 7);
    ck_assert_int_ge(out.nmetrics, 3);
    ck_assert_str_eq(out.metrics[0].name, "wall_ms");
    ck_assert(out.metrics[0].value > 0);
}
END_TEST

START_TEST(value_mismatch_fails)
{
    expect_fail(HEAD "process = checksum\n[heavy.a]\nsize = 1KiB\nfill = zero\n"
                "[contract]\nheavy_reads = a\n[expect]\nvalue = 12345\n",
                GC_MODE_THREAD, "task 0: value");
    expect_fail(HEAD "process = touch\n[heavy.a]\nsize = 1KiB\nfill = sequence\n"
                "[contract]\nheavy_reads = a\n[expect]\nvalue = 1\n",
                GC_MODE_PROCESS, "task 0: value 255, expected 1");
}
END_TEST

START_TEST(touch_value_and_handoff_metric)
{
    static const char text[] =
        HEAD "process = touch\nworkers = 2\ntasks = 4\n[heavy.a]\nsize = 1MiB\nfill = random:3\n"
        "[contract]\nheavy_reads = a\n[expect]\nvalue = touch\n"
        "[claim.h]\ntext = handed over fast\nmetric = handoff_ms\nclaimed = 10000\nunit = ms\n";
    expect_pass(text);
    hc_outcome out;
    run(text, GC_MODE_PROCESS, &out);
    ck_assert_int_eq(out.nclaims, 1);
    ck_assert_int_eq(out.claims[0].holds, 1);
    ck_assert(out.claims[0].measured > 0);
    ck_assert_str_eq(out.claims[0].metric, "handoff_ms");
}
END_TEST

START_TEST(missed_claim_fails)
{
    expect_fail(HEAD "process = touch\n[heavy.a]\nsize = 1MiB\nfill = zero\n"
                "[contract]\nheavy_reads = a\n"
                "[claim.h]\ntext = instant\nmetric = handoff_ms\nclaimed = 0.000001\nunit = ms\n",
                GC_MODE_PROCESS, "claim 'h' (instant) missed: handoff_ms measured");
}
END_TEST

/* A task expectation fails before the claim could be measured: the claim is
 * still reported, with no figure, and does not hold (in both modes). */
START_TEST(unmeasured_claim_does_not_hold)
{
    static const char text[] =
        HEAD "process = touch\n[heavy.a]\nsize = 1MiB\nfill = zero\n"
        "[contract]\nheavy_reads = a\n[expect]\nstatus = ECRASH\n"
        "[claim.h]\ntext = generous\nmetric = handoff_ms\nclaimed = 100000\nunit = ms\n"
        "[claim.w]\ntext = also generous\nmetric = wall_ms\nclaimed = 100000\nunit = ms\n";
    for (int m = GC_MODE_THREAD; m <= GC_MODE_PROCESS; m++) {
        hc_outcome out;
        run(text, (gc_mode)m, &out);
        ck_assert_int_eq(out.passed, 0);
        ck_assert_msg(strstr(out.message, "task 0: status OK") != NULL, "%s", out.message);
        ck_assert_int_eq(out.nclaims, 2);
        for (int i = 0; i < 2; i++) {
            ck_assert_msg(isnan(out.claims[i].measured), "claim %d measured %g", i,
                          out.claims[i].measured);
            ck_assert_int_eq(out.claims[i].holds, 0);
        }
    }
}
END_TEST

START_TEST(status_mismatch_names_task_and_reason)
{
    /* The contract names an entry the state lacks: INC-014's symptom. */
    expect_fail(HEAD "process = checksum\n[heavy.a]\nsize = 1KiB\nfill = zero\n"
                "[contract]\nheavy_reads = large_data\n",
                GC_MODE_THREAD, "task 0: status ENOTFOUND (");
    expect_fail(HEAD "process = checksum\n[heavy.a]\nsize = 1KiB\nfill = zero\n"
                "[contract]\nheavy_reads = large_data\n",
                GC_MODE_PROCESS, "large_data");
    expect_fail(HEAD "process = echo\n[domain]\nx = int:1\n[contract]\ndomain_reads = x\n"
                "[expect]\nstatus.0 = ETIMEOUT\n",
                GC_MODE_THREAD, "task 0: status OK (1), expected ETIMEOUT");
}
END_TEST

START_TEST(echo_text_and_value)
{
    expect_pass(HEAD "process = echo\nworkers = 2\ntasks = 5\n"
                "[domain]\nmsg = str:hello; world\n[contract]\ndomain_reads = msg\n"
                "[expect]\ntext = hello; world\nvalue = 12\n");
    expect_fail(HEAD "process = echo\n[domain]\nmsg = str:hello\n[contract]\ndomain_reads = msg\n"
                "[expect]\ntext = bye\n",
                GC_MODE_THREAD, "task 0: text 'hello', expected 'bye'");
    expect_fail(HEAD "process = echo\n[domain]\nmsg = str:hello\n[contract]\ndomain_reads = msg\n"
                "[expect]\ntext_contains = bye\n",
                GC_MODE_PROCESS, "does not contain 'bye'");
}
END_TEST

START_TEST(outputs_read_back)
{
    static const char text[] =
        HEAD "process = fill\nworkers = 3\ntasks = 5\n"
        "[domain]\npattern = str:random:99\n"
        "[output.o]\nsize = 1MiB\n[output.p]\nsize = 12345B\n"
        "[contract]\ndomain_reads = pattern\noutputs = o, p\n"
        "[expect]\noutput.o = pattern:random:99\noutput.p = pattern:random:99\n";
    expect_pass(text);
    expect_fail(HEAD "process = fill\n[output.o]\nsize = 4KiB\n[contract]\noutputs = o\n"
                "[expect]\noutput.o = pattern:zero\n",
                GC_MODE_PROCESS, "output 'o': byte at offset 1 of 4096 is 0x01, expected 0x00");
}
END_TEST

/* An output nobody writes must not pass on its initial zero bytes. */
START_TEST(unwritten_output_fails)
{
    static const char text[] = HEAD "process = echo\n[domain]\nx = int:1\n[output.o]\nsize = 4KiB\n"
                                    "[contract]\ndomain_reads = x\noutputs = o\n"
                                    "[expect]\noutput.o = pattern:zero\n";
    expect_fail(text, GC_MODE_THREAD, "output 'o': byte at offset 0 of 4096 is 0xff, expected 0x00");
    expect_fail(text, GC_MODE_PROCESS, "output 'o': byte at offset 0 of 4096 is 0xff, expected 0x00");
}
END_TEST

/* heavy_unchanged can fail: the same comparison the executor makes after a
 * run, against checksums that differ from the zone's (as a zone some worker
 * wrote would), names the entry; against the true ones it holds. */
START_TEST(heavy_unchanged_can_fail)
{
    gc_err ge;
    gc_state *st = NULL;
    gc_zone *z = NULL;
    ck_assert_int_eq(gc_state_new(&st, &ge), GC_OK);
    ck_assert_int_eq(gc_zone_new(&z, &ge), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", 4096, 0, &ge), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "o", 100, GC_ENTRY_OUTPUT, &ge), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "b", 5000, 0, &ge), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &ge), GC_OK);
    void *data;
    size_t len;
    ck_assert_int_eq(gc_zone_fill(z, "b", &data, &len, &ge), GC_OK);
    memset(data, 7, len);
    ck_assert_int_eq(gc_zone_publish(z, &ge), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, &ge), GC_OK);
    uint8_t zeros[4096] = {0}, sevens[5000];
    memset(sevens, 7, sizeof sevens);
    uint64_t truth[3] = {gc_checksum(zeros, sizeof zeros, GC_CHECKSUM_SEED), 0,
                         gc_checksum(sevens, sizeof sevens, GC_CHECKSUM_SEED)};
    hc_outcome out;
    memset(&out, 0, sizeof out);
    out.passed = 1;
    hc__check_heavy_unchanged(st, truth, 3, &out);
    ck_assert_msg(out.passed, "%s", out.message);
    uint64_t changed[3] = {truth[0], truth[1], truth[2] ^ 1};
    hc__check_heavy_unchanged(st, changed, 3, &out);
    ck_assert_int_eq(out.passed, 0);
    ck_assert_msg(strstr(out.message, "heavy entry 'b' changed during the run") != NULL, "%s",
                  out.message);
    gc_state_free(st);
}
END_TEST

/* [expect] setup and run (the limited attempt) can fail: each names what
 * happened and what was expected. EINVAL never comes out of building this
 * state, and a run with descriptors to spare returns OK, whatever the tool
 * (valgrind hands out descriptors past a lowered limit). */
START_TEST(setup_and_run_expectations_fail)
{
    expect_fail(HEAD "process = checksum\nworkers = 2\n[heavy.a]\nsize = 4KiB\nfill = zero\n"
                "[contract]\nheavy_reads = a\n[run]\nlimit_nofile = 1000\n"
                "[expect]\nsetup = EINVAL\n",
                GC_MODE_PROCESS, "setup under limits: status OK");
    expect_fail(HEAD "process = checksum\nworkers = 2\n[heavy.a]\nsize = 4KiB\nfill = zero\n"
                "[contract]\nheavy_reads = a\n[run]\nlimit_nofile = 1000\n"
                "[expect]\nrun = ESYS\n",
                GC_MODE_PROCESS, "returned OK");
}
END_TEST

/* rss_growth_kb_max can fail: the executor's comparison, on the figures of a
 * run that grew by 1 MiB, against limits below and at that growth. */
START_TEST(rss_growth_limit_can_fail)
{
    hc_case *c = load(HEAD "process = echo\n[run]\nrounds = 5\n[expect]\nrss_growth_kb_max = 1023\n");
    hc_outcome out;
    memset(&out, 0, sizeof out);
    out.passed = 1;
    hc__check_rss_growth(c, 4000, 5024, &out);
    ck_assert_int_eq(out.passed, 0);
    ck_assert_str_eq(out.message,
                     "RSS grew from 4000 kB after round 1 to 5024 kB after round 5 (limit +1023 kB)");
    hc_case_free(c);
    c = load(HEAD "process = echo\n[run]\nrounds = 5\n[expect]\nrss_growth_kb_max = 1024\n");
    memset(&out, 0, sizeof out);
    out.passed = 1;
    hc__check_rss_growth(c, 4000, 5024, &out);
    hc__check_rss_growth(c, 5024, 4000, &out);   /* shrinking is fine */
    ck_assert_msg(out.passed, "%s", out.message);
    hc_case_free(c);
}
END_TEST

START_TEST(readonly_write_refused)
{
    expect_pass(HEAD "process = write_readonly\nworkers = 2\ntasks = 2\n"
                "[domain]\nstore = int:1\n[heavy.a]\nsize = 8KiB\nfill = sequence\n"
                "[contract]\ndomain_reads = store\nheavy_reads = a\n"
                "[expect]\nstatus = EREADONLY\nheavy_unchanged = true\n");
}
END_TEST

/* INC-002: frozen outputs are refused by the factory, in both modes, with
 * the entry named; and a contract that names no output still runs. */
START_TEST(frozen_outputs_refused_in_the_factory)
{
    const char *frozen = HEAD "process = fill\nworkers = 2\ntasks = 2\n"
                              "[state]\noutputs = frozen\n[output.out]\nsize = 4KiB\n"
                              "[contract]\noutputs = out\n";
    expect_fail(frozen, GC_MODE_THREAD, "status EREADONLY (context: output entry 'out' cannot be "
                                        "bound writable");
    expect_fail(frozen, GC_MODE_PROCESS, "status EREADONLY (context: output entry 'out' cannot "
                                         "be bound writable");
    expect_pass(HEAD "process = checksum\n[state]\noutputs = frozen\n[output.out]\n"
                "size = 4KiB\n[contract]\nheavy_reads =\n[expect]\nvalue = checksum\n");
}
END_TEST

START_TEST(empty_zone_and_no_zone)
{
    expect_pass(HEAD "process = checksum\n[contract]\nheavy_reads =\n[expect]\nvalue = checksum\n");
    expect_pass(HEAD "process = checksum\n[state]\nheavy_zone = none\n[contract]\n"
                "[expect]\nvalue = checksum\n");
}
END_TEST

START_TEST(registered_contract_when_none_given)
{
    /* Built-ins register an empty contract: echo has no key to echo. */
    expect_fail(HEAD "process = echo\n[domain]\nx = int:1\n", GC_MODE_THREAD,
                "task 0: status EINVAL");
}
END_TEST

START_TEST(max_wall_exceeded)
{
    expect_fail(HEAD "process = sleep\n[domain]\nms = int:30\n[contract]\ndomain_reads = ms\n"
                "[expect]\nmax_wall_ms = 1\n",
                GC_MODE_THREAD,
                gc_census_under_valgrind() ? "exceeds max_wall_ms 10.00 (x10 under valgrind)"
                                           : "exceeds max_wall_ms 1.00");
}
END_TEST

START_TEST(failures_per_task)
{
    hc_outcome out;
    run(HEAD "process = crash\nmode = process\nworkers = 2\ntasks = 4\n"
        "[domain]\nonly_task = int:2\n[contract]\ndomain_reads = only_task\n"
        "[expect]\nstatus = ok\nstatus.2 = ECRASH\n",
        GC_MODE_PROCESS, &out);
    ck_assert_msg(out.passed, "%s", out.message);
    ck_assert_uint_eq(out.tasks_ok, 3);
    run(HEAD "process = sleep\nworkers = 2\ntasks = 2\ntask_timeout_ms = 50\n"
        "[domain]\nms = int:5000\n[contract]\ndomain_reads = ms\n[expect]\nstatus = ETIMEOUT\n",
        GC_MODE_THREAD, &out);
    ck_assert_msg(out.passed, "%s", out.message);
    ck_assert_uint_eq(out.tasks_ok, 0);
}
END_TEST

START_TEST(zone_larger_than_memory_is_refused)
{
    /* Not run at all rather than filled into the OOM killer. */
    hc_case *c = load(HEAD "process = checksum\n[heavy.huge]\nsize = 1024GiB\nfill = sequence\n");
    hc_outcome out;
    ck_assert_int_eq(hc_case_run(c, GC_MODE_THREAD, 1, &out), GC_ELIMIT);
    ck_assert_int_eq(out.passed, 0);
    ck_assert_ptr_nonnull(strstr(out.message, "state: the heavy zone needs 1048576 MiB"));
    /* A run error names the file, the line and the key to blame. */
    ck_assert_msg(strncmp(out.message, "run.case:5: heavy.huge.size: state: ", 36) == 0, "%s",
                  out.message);
    hc_case_free(c);
}
END_TEST

START_TEST(zero_size_entries)
{
    expect_pass(HEAD "process = checksum\nworkers = 2\ntasks = 3\n"
                "[heavy.empty]\nsize = 0B\nfill = zero\n[heavy.one]\nsize = 1B\nfill = sequence\n"
                "[output.oempty]\nsize = 0B\n"
                "[contract]\nheavy_reads = empty, one\noutputs = oempty\n"
                "[expect]\nvalue = checksum\nheavy_unchanged = true\n");
}
END_TEST

/* Per-task keys: each can fail, and says which task and why. */
START_TEST(per_task_expectations_fail)
{
    expect_fail(HEAD "process = crash\nmode = process\ntasks = 2\n"
                "[domain]\nsignal = int:6\nonly_task = int:1\n[contract]\n"
                "domain_reads = signal, only_task\n[expect]\nstatus.1 = ECRASH\nsignal.1 = SIGSEGV\n",
                GC_MODE_PROCESS, "task 1: signal 6, expected 11 (SIGSEGV)");
    expect_pass(HEAD "process = echo\ntasks = 2\n[domain]\nmsg = str:hi\n[contract]\n"
                "domain_reads = msg\n[expect]\ntext.1 = hi\ntext_contains.0 = h\nsent.1 = true\n");
    expect_fail(HEAD "process = echo\ntasks = 2\n[domain]\nmsg = str:hi\n[contract]\n"
                "domain_reads = msg\n[expect]\ntext.1 = bye\n",
                GC_MODE_THREAD, "task 1: text 'hi', expected 'bye'");
    expect_fail(HEAD "process = echo\ntasks = 2\n[domain]\nmsg = str:hi\n[contract]\n"
                "domain_reads = msg\n[expect]\ntext_contains.1 = bye\n",
                GC_MODE_PROCESS, "task 1: text 'hi' does not contain 'bye'");
    /* A task the factory refused reached no worker; one that ran did. */
    static const char refused[] = HEAD "process = checksum\n[heavy.a]\nsize = 1KiB\nfill = zero\n"
                                       "[contract]\nheavy_reads = large_data\n[expect]\n"
                                       "status = ENOTFOUND\nsent.0 = false\n";
    expect_pass(refused);
    static const char ran[] = HEAD "process = checksum\n[heavy.a]\nsize = 1KiB\nfill = zero\n"
                                   "[contract]\nheavy_reads = a\n[expect]\nsent.0 = false\n";
    expect_fail(ran, GC_MODE_THREAD, "task 0: reached a worker (pid ");
    expect_fail(ran, GC_MODE_PROCESS, "task 0: reached a worker (pid ");
    static const char notsent[] = HEAD "process = checksum\n[heavy.a]\nsize = 1KiB\nfill = zero\n"
                                       "[contract]\nheavy_reads = large_data\n[expect]\n"
                                       "status = ENOTFOUND\nsent.0 = true\n";
    expect_fail(notsent, GC_MODE_THREAD, "task 0: no worker got it, expected sent");
    expect_fail(notsent, GC_MODE_PROCESS, "task 0: no worker got it, expected sent");
}
END_TEST

/* The engine's counters, seen by a case: each kind can fail. */
START_TEST(engine_counters_fail)
{
    expect_fail(HEAD "process = echo\n[domain]\nx = int:1\n[contract]\ndomain_reads = x\n"
                "[expect]\nworkers_started = 1\n",
                GC_MODE_THREAD, "engine counter workers_started = 0, expected 1");
    hc_outcome out;
    run(HEAD "process = crash\nmode = process\nworkers = 2\ntasks = 2\n"
        "[domain]\nonly_task = int:0\n[contract]\ndomain_reads = only_task\n"
        "[expect]\nstatus.0 = ECRASH\nworkers_replaced = 1\nworkers_started = 3\n",
        GC_MODE_PROCESS, &out);
    ck_assert_msg(out.passed, "%s", out.message);
    expect_fail(HEAD "process = crash\nmode = process\nworkers = 2\ntasks = 2\n"
                "[domain]\nonly_task = int:0\n[contract]\ndomain_reads = only_task\n"
                "[expect]\nstatus.0 = ECRASH\nworkers_replaced = 0\n",
                GC_MODE_PROCESS, "engine counter workers_replaced = 1, expected 0");
    static const char restart[] = HEAD "process = echo\nworkers = 2\n[domain]\nx = int:1\n"
                                       "[contract]\ndomain_reads = x\n[run]\nrounds = 3\n"
                                       "register_every = 1\n[expect]\npool_restarts = 2\n";
    run(restart, GC_MODE_PROCESS, &out);
    ck_assert_msg(out.passed, "%s", out.message);
    expect_fail(restart, GC_MODE_THREAD, "engine counter pool_restarts = 0, expected 2");
}
END_TEST

/* [expect] history = consistent: the list-append workload passes in both
 * modes with the figures in its message; a key that is not a list, and a
 * workload whose writes are not "<task>.<attempt>;" appends, fail named. */
static const char history_case[] =
    HEAD "process = list_append\nworkers = 3\ntasks = 9\n"
    "[domain]\nl0 = bytes:hex:\nl1 = bytes:hex:\nread_every = int:3\n"
    "[contract]\ndomain_reads = l0, l1, read_every\ndomain_writes = l0, l1\n"
    "events = true\noutbox = true\n"
    "[run]\nrounds = 2\nretries = 20\n[expect]\nhistory = consistent\n";

START_TEST(history_expectation)
{
    expect_pass(history_case);
    hc_outcome out;
    run(history_case, GC_MODE_PROCESS, &out);
    ck_assert_msg(strstr(out.message, "; history consistent in 2 rounds: ") &&
                      strstr(out.message, " installed, ") && strstr(out.message, " deliveries "
                                                                               "checked"),
                  "%s", out.message);
    expect_fail(HEAD "process = list_append\n[domain]\nl0 = int:0\n"
                "[contract]\ndomain_reads = l0\ndomain_writes = l0\n"
                "[expect]\nhistory = consistent\n",
                GC_MODE_THREAD, "history: list key 'l0' is not a bytes or string key of the state");
    expect_fail(HEAD "process = append\nworkers = 2\ntasks = 2\n[domain]\nl0 = bytes:hex:\n"
                "[contract]\ndomain_reads = l0\ndomain_writes = l0\n[run]\nretries = 5\n"
                "[expect]\nhistory = consistent\n",
                GC_MODE_THREAD, "wrong-append: task ");
}
END_TEST

Suite *suite_case_run(void)
{
    Suite *s = suite_create("case_run");
    TCase *tc = tcase_create("end_to_end");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, checksum_both_modes);
    tcase_add_test(tc, value_mismatch_fails);
    tcase_add_test(tc, touch_value_and_handoff_metric);
    tcase_add_test(tc, missed_claim_fails);
    tcase_add_test(tc, unmeasured_claim_does_not_hold);
    tcase_add_test(tc, status_mismatch_names_task_and_reason);
    tcase_add_test(tc, echo_text_and_value);
    tcase_add_test(tc, outputs_read_back);
    tcase_add_test(tc, readonly_write_refused);
    tcase_add_test(tc, rss_growth_limit_can_fail);
    tcase_add_test(tc, setup_and_run_expectations_fail);
    tcase_add_test(tc, heavy_unchanged_can_fail);
    tcase_add_test(tc, unwritten_output_fails);
    tcase_add_test(tc, empty_zone_and_no_zone);
    tcase_add_test(tc, frozen_outputs_refused_in_the_factory);
    tcase_add_test(tc, registered_contract_when_none_given);
    tcase_add_test(tc, max_wall_exceeded);
    tcase_add_test(tc, failures_per_task);
    tcase_add_test(tc, zone_larger_than_memory_is_refused);
    tcase_add_test(tc, zero_size_entries);
    tcase_add_test(tc, per_task_expectations_fail);
    tcase_add_test(tc, engine_counters_fail);
    tcase_add_test(tc, history_expectation);
    suite_add_tcase(s, tc);
    return s;
}
