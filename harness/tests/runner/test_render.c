/* Renderers over one hostile report: quotes, markup, control characters,
 * invalid UTF-8 and a non-finite metric must come out as valid JSON (parsed
 * back with jansson), well-escaped XML, one-line TAP, and the status mapping
 * of each format must match the model's. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render.h"

static const char *const NASTY = "a \"q\" <b> & 'c' \x01\x1f tab\there\nnew \xff\xfe end";

static void fill(hr_report *r)
{
    hr_report_init(r);
    r->info.seed = 42;
    snprintf(r->info.command, sizeof r->info.command, "gapcheck run '<x>'");
    snprintf(r->info.start_time, sizeof r->info.start_time, "2024-01-02T03:04:05Z");
    snprintf(r->info.host, sizeof r->info.host, "host&1");
    r->info.cores = 2;
    r->info.jobs = 1;
    r->info.repeat = 3;
    r->info.timeout_mult = 1;
    hr_status st[] = {HR_PASS, HR_FAIL, HR_ERROR, HR_TIMEOUT, HR_CRASH, HR_XFAIL, HR_XPASS, HR_SKIP};
    for (int i = 0; i < 8; i++) {
        hr_result *x = hr_report_add(r);
        snprintf(x->id, sizeof x->id, "INC-1.c%d[thread]", i);
        snprintf(x->case_id, sizeof x->case_id, "INC-1.c%d", i);
        snprintf(x->path, sizeof x->path, "cases/INC-1/c%d.case", i);
        snprintf(x->incident, sizeof x->incident, i < 4 ? "INC-1" : "");
        snprintf(x->mode, sizeof x->mode, "thread");
        x->status = st[i];
        snprintf(x->message, sizeof x->message, "%s", NASTY);
        snprintf(x->reason, sizeof x->reason, "reason #%d", i);
        x->runs = st[i] == HR_SKIP ? 0 : 3;
        x->wall_ms_min = 1;
        x->wall_ms_median = 2.5;
        x->wall_ms_max = 4;
        if (x->runs) {
            x->samples = calloc((size_t)x->runs, sizeof *x->samples);
            for (int k = 0; x->samples && k < x->runs; k++)
                x->samples[k] = (hr_sample){.wall_ms = 1 + k, .cpu_ms = 0.5 + k,
                                            .calib_cpu_ms = k == 1 ? NAN : 4.5,
                                            .calib_wall_ms = 5};
        }
        x->signal = st[i] == HR_CRASH ? 11 : 0;
        x->leaks.fds = i;
        x->nmetrics = 2;
        snprintf(x->metrics[0].name, sizeof x->metrics[0].name, "handoff_ms");
        x->metrics[0].value = 48.5;
        snprintf(x->metrics[1].name, sizeof x->metrics[1].name, "nan\xff");
        x->metrics[1].value = NAN;
        x->nclaims = 1;
        snprintf(x->claims[0].text, sizeof x->claims[0].text, "100 MB in 48 ms <fast>");
        x->claims[0].claimed = 48;
        x->claims[0].measured = 12.5;
        x->claims[0].holds = 1;
        snprintf(x->replay, sizeof x->replay, "gapcheck run x --filter 'INC-1.c%d[thread]'", i);
        x->output = strdup(i == 1 ? "out <\x02> \xc3" : "");
    }
}

static char *render(int (*fn)(const hr_report *, FILE *), const hr_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(fn(r, f), 0);
    fclose(f);
    return buf;
}

START_TEST(json_is_valid_and_complete)
{
    hr_report r;
    fill(&r);
    char *text = render(hr_render_json, &r);
    json_error_t e;
    json_t *root = json_loads(text, 0, &e);
    if (!root)
        ck_abort_msg("results.json does not parse: %s (line %d)", e.text, e.line);
    ck_assert_str_eq(json_string_value(json_object_get(root, "schema")), "gapcheck-results");
    ck_assert_int_eq(json_integer_value(json_object_get(root, "schema_version")), 1);
    json_t *run = json_object_get(root, "run");
    ck_assert_int_eq(json_integer_value(json_object_get(run, "seed")), 42);
    ck_assert_str_eq(json_string_value(json_object_get(run, "host")), "host&1");
    json_t *sum = json_object_get(root, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "passed")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "failed")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "skipped")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "exit_code")), 1);
    json_t *results = json_object_get(root, "results");
    ck_assert_uint_eq(json_array_size(results), 8);
    json_t *crash = json_array_get(results, 4);
    ck_assert_str_eq(json_string_value(json_object_get(crash, "status")), "crash");
    ck_assert_int_eq(json_integer_value(json_object_get(crash, "signal")), 11);
    ck_assert(json_is_null(json_object_get(json_array_get(results, 0), "signal")));
    /* The message survives, with invalid bytes replaced by U+FFFD. */
    const char *msg = json_string_value(json_object_get(crash, "message"));
    ck_assert_str_eq(msg, "a \"q\" <b> & 'c' \x01\x1f tab\there\nnew \xef\xbf\xbd\xef\xbf\xbd end");
    json_t *wall = json_object_get(crash, "wall_ms");
    ck_assert_double_eq(json_real_value(json_object_get(wall, "median")), 2.5);
    /* One sample per run, in run order; a reference that was not measured
     * is null, not 0 (the timing gate skips it). */
    json_t *samples = json_object_get(crash, "samples");
    ck_assert_uint_eq(json_array_size(samples), 3);
    json_t *s2 = json_array_get(samples, 2);
    ck_assert_double_eq(json_real_value(json_object_get(s2, "wall_ms")), 3);
    ck_assert_double_eq(json_real_value(json_object_get(s2, "cpu_ms")), 2.5);
    ck_assert_double_eq(json_real_value(json_object_get(s2, "calib_cpu_ms")), 4.5);
    ck_assert_double_eq(json_real_value(json_object_get(s2, "calib_wall_ms")), 5);
    ck_assert(json_is_null(json_object_get(json_array_get(samples, 1), "calib_cpu_ms")));
    ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(results, 7), "samples")), 0);
    ck_assert(json_is_false(json_object_get(run, "calibrate")));
    json_t *leaks = json_object_get(crash, "leaks");
    ck_assert_int_eq(json_integer_value(json_object_get(leaks, "fds")), 4);
    ck_assert_ptr_nonnull(json_object_get(leaks, "memfds"));
    ck_assert_ptr_nonnull(json_object_get(leaks, "maps"));
    ck_assert_ptr_nonnull(json_object_get(leaks, "children"));
    json_t *metrics = json_object_get(crash, "metrics");
    ck_assert_uint_eq(json_array_size(metrics), 2);
    ck_assert(json_is_null(json_object_get(json_array_get(metrics, 1), "value")));
    json_t *claim = json_array_get(json_object_get(crash, "claims"), 0);
    ck_assert(json_is_true(json_object_get(claim, "holds")));
    ck_assert_double_eq(json_real_value(json_object_get(claim, "claimed")), 48);
    /* Verdicts as data, per result, in status order pass, fail, error,
     * timeout, crash, xfail, xpass, skip: what counts as passed, as failed,
     * and as a judged failure that catches a bug (not error, xpass, skip). */
    static const int passed[8] = {1, 0, 0, 0, 0, 1, 0, 0};
    static const int failed[8] = {0, 1, 1, 1, 1, 0, 1, 0};
    static const int caught[8] = {0, 1, 0, 1, 1, 0, 0, 0};
    for (size_t i = 0; i < 8; i++) {
        json_t *x = json_array_get(results, i);
        ck_assert_msg(json_is_boolean(json_object_get(x, "passed")), "result %zu: no passed", i);
        ck_assert_int_eq(json_is_true(json_object_get(x, "passed")), passed[i]);
        ck_assert_int_eq(json_is_true(json_object_get(x, "failed")), failed[i]);
        ck_assert_int_eq(json_is_true(json_object_get(x, "caught")), caught[i]);
    }
    const char *fields[] = {"id", "case_id", "file", "incident", "mode", "status", "message",
                            "seed", "wall_ms", "cpu_ms", "maxrss_kb", "leaks", "metrics",
                            "claims", "signal", "runs", "replay", "tags", "load_error",
                            "samples"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!json_object_get(crash, fields[i]))
            ck_abort_msg("result lacks field %s", fields[i]);
    json_decref(root);
    free(text);
    hr_report_free(&r);
}
END_TEST

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

START_TEST(junit_escapes_and_maps_statuses)
{
    hr_report r;
    fill(&r);
    char *x = render(hr_render_junit, &r);
    ck_assert_ptr_nonnull(strstr(x, "<testsuites name=\"gapcheck\" tests=\"8\" failures=\"2\" "
                                    "errors=\"3\" skipped=\"1\""));
    ck_assert_uint_eq(count(x, "<testcase "), 8);
    ck_assert_uint_eq(count(x, "<testsuite "), 2);   /* INC-1 and engine */
    ck_assert_uint_eq(count(x, "<failure "), 2);     /* fail, xpass */
    ck_assert_uint_eq(count(x, "<error "), 3);       /* error, timeout, crash */
    ck_assert_uint_eq(count(x, "<skipped "), 1);
    ck_assert_ptr_nonnull(strstr(x, "a &quot;q&quot; &lt;b&gt; &amp; &apos;c&apos; \\x01\\x1F "
                                    "tab&#9;here&#10;new \xef\xbf\xbd\xef\xbf\xbd end"));
    ck_assert_ptr_nonnull(strstr(x, "out &lt;\\x02&gt; \xef\xbf\xbd"));
    ck_assert_ptr_nonnull(strstr(x, "value=\"gapcheck run &apos;&lt;x&gt;&apos;\""));
    ck_assert_ptr_nonnull(strstr(x, "timestamp=\"2024-01-02T03:04:05\""));
    ck_assert_ptr_null(strchr(x, '\x01'));
    ck_assert_ptr_null(strstr(x, "\xff"));
    free(x);
    hr_report_free(&r);
}
END_TEST

START_TEST(tap_lines_and_directives)
{
    hr_report r;
    fill(&r);
    char *t = render(hr_render_tap, &r);
    ck_assert(strncmp(t, "TAP version 13\n1..8\n", 20) == 0);
    ck_assert_ptr_nonnull(strstr(t, "\nok 1 - INC-1.c0[thread]\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nnot ok 2 - INC-1.c1[thread]\n  ---\n  status: fail\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nnot ok 6 - INC-1.c5[thread] # TODO xfail: reason \\#5\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nnot ok 7 - INC-1.c6[thread]\n  ---\n  status: xpass\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nok 8 - INC-1.c7[thread] # SKIP a \"q\""));
    ck_assert_ptr_nonnull(strstr(t, "  signal: 11\n"));
    /* Every line is either a test line, a plan, the version or YAML: no
     * message newline may leak out of its line. */
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"))
        ck_assert(!strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7) ||
                  !strncmp(line, "  ", 2) || !strncmp(line, "1..", 3) ||
                  !strncmp(line, "TAP version", 11));
    free(t);
    hr_report_free(&r);
}
END_TEST

START_TEST(markdown_and_files)
{
    hr_report r;
    fill(&r);
    char *m = render(hr_render_md, &r);
    ck_assert_ptr_nonnull(strstr(m, "# gapcheck run: 2 passed, 5 failed, 1 skipped"));
    ck_assert_ptr_nonnull(strstr(m, "## Failures"));
    ck_assert_ptr_nonnull(strstr(m, "## Claims"));
    free(m);

    char dir[] = "/tmp/hr-render-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char out[128], err[256];
    unsigned written = 0;
    snprintf(out, sizeof out, "%s/a/b", dir);
    /* Every row of the format table is written, under its own file name. */
    unsigned all = (1u << hr_nformats) - 1;
    ck_assert_uint_ge(hr_nformats, 4);
    ck_assert_int_eq(hr_render_all(&r, out, all, &written, err, sizeof err), 0);
    ck_assert_uint_eq(written, all);
    for (size_t i = 0; i < hr_nformats; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", out, hr_formats[i].file);
        ck_assert_msg(access(p, R_OK) == 0, "%s not written", p);
    }
    const char *names[] = {"results.json", "junit.xml", "results.tap", "summary.md"};
    for (int i = 0; i < 4; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", out, names[i]);
        ck_assert_int_eq(access(p, R_OK), 0);
    }
    ck_assert_int_eq(hr_render_all(&r, "/proc/no/such/dir", hr_format_bit("json"), &written, err, sizeof err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "/proc/no"));
    ck_assert_uint_eq(written, 0);   /* nothing claimed that is not there */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    hr_report_free(&r);
}
END_TEST

Suite *suite_runner_render(void);
Suite *suite_runner_render(void)
{
    Suite *s = suite_create("runner_render");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, json_is_valid_and_complete);
    tcase_add_test(tc, junit_escapes_and_maps_statuses);
    tcase_add_test(tc, tap_lines_and_directives);
    tcase_add_test(tc, markdown_and_files);
    suite_add_tcase(s, tc);
    return s;
}
