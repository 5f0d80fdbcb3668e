/* The result model: status names, which statuses fail the run, the closing
 * line, the exit code, medians; and command-line parsing (every option, every
 * kind of usage error). */
#include <check.h>

#include "gapcheck/measure.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "leaks.h"
#include "opts.h"
#include "render.h"
#include "result.h"
#include "text.h"
#include "verify.h"
/* The result model and everything that only reports it see no parser type:
 * case.h (the case module's contract) comes in only with plan.h, isolate.h
 * and run.h, the runner's parts that load and run cases. */
#ifdef GAPCHECK_HARNESS_CASE_H
#error "a runner header that reports results includes case.h"
#endif

static void add(hr_report *r, hr_status s, int n)
{
    for (int i = 0; i < n; i++)
        hr_report_add(r)->status = s;
}

START_TEST(status_names_closed_set)
{
    const char *want[] = {"pass", "fail", "error", "timeout", "crash", "xfail", "xpass", "skip"};
    ck_assert_int_eq(HR_NSTATUS, 8);
    for (int s = 0; s < HR_NSTATUS; s++)
        ck_assert_str_eq(hr_status_name((hr_status)s), want[s]);
    ck_assert_str_eq(hr_status_name((hr_status)99), "error");
    ck_assert_int_eq(hr_status_is_failure(HR_PASS), 0);
    ck_assert_int_eq(hr_status_is_failure(HR_XFAIL), 0);
    ck_assert_int_eq(hr_status_is_failure(HR_SKIP), 0);
    ck_assert_int_eq(hr_status_is_failure(HR_FAIL), 1);
    ck_assert_int_eq(hr_status_is_failure(HR_ERROR), 1);
    ck_assert_int_eq(hr_status_is_failure(HR_TIMEOUT), 1);
    ck_assert_int_eq(hr_status_is_failure(HR_CRASH), 1);
    ck_assert_int_eq(hr_status_is_failure(HR_XPASS), 1);
    ck_assert_int_eq(hr_status_is_failure((hr_status)99), 1);
}
END_TEST

START_TEST(aggregation_and_exit_code)
{
    hr_report r;
    hr_report_init(&r);
    hr_totals t;
    char line[128];
    hr_totals_compute(&r, &t);
    hr_summary_line(&t, line, sizeof line);
    ck_assert_str_eq(line, "0 passed, 0 failed");
    ck_assert_int_eq(hr_exit_code(&t), 0);

    add(&r, HR_PASS, 3);
    add(&r, HR_XFAIL, 2);
    hr_totals_compute(&r, &t);
    hr_summary_line(&t, line, sizeof line);
    ck_assert_str_eq(line, "5 passed, 0 failed");
    ck_assert_int_eq(hr_exit_code(&t), 0);

    add(&r, HR_SKIP, 1);
    hr_totals_compute(&r, &t);
    hr_summary_line(&t, line, sizeof line);
    ck_assert_str_eq(line, "5 passed, 0 failed, 1 skipped");
    ck_assert_int_eq(hr_exit_code(&t), 0);

    add(&r, HR_FAIL, 1);
    add(&r, HR_ERROR, 1);
    add(&r, HR_TIMEOUT, 1);
    add(&r, HR_CRASH, 1);
    add(&r, HR_XPASS, 1);
    hr_totals_compute(&r, &t);
    hr_summary_line(&t, line, sizeof line);
    ck_assert_str_eq(line, "5 passed, 5 failed, 1 skipped");
    ck_assert_int_eq(hr_exit_code(&t), 1);
    ck_assert_uint_eq(t.total, 11);
    ck_assert_uint_eq(t.by_status[HR_XFAIL], 2);
    hr_report_free(&r);
}
END_TEST

START_TEST(median)
{
    double a[] = {5, 1, 3};
    ck_assert_double_eq(gc_median(a, 3), 3);
    double b[] = {4, 1, 3, 2};
    ck_assert_double_eq(gc_median(b, 4), 2.5);
    ck_assert_double_eq(gc_median(NULL, 0), 0);
}
END_TEST

/* --- options ---------------------------------------------------------- */

static int parse(hr_opts *o, char *err, size_t errlen, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, errlen);
    argv[argc++] = "gapcheck";
    char *a;
    while ((a = va_arg(ap, char *)) != NULL)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return hr_opts_parse(argc, argv, o, err, errlen);
}

START_TEST(opts_defaults)
{
    hr_opts o;
    char err[256];
    ck_assert_int_eq(parse(&o, err, sizeof err, "run", NULL), 0);
    ck_assert_int_eq(o.command, HR_CMD_RUN);
    ck_assert_int_eq(o.npaths, 1);
    ck_assert_str_eq(o.paths[0], "cases");
    ck_assert_int_eq(o.jobs, 1);
    ck_assert_int_eq(o.repeat, 1);
    ck_assert_int_eq(o.calibrate, 0);
    ck_assert_double_eq(o.timeout_mult, 1.0);
    ck_assert_uint_eq(o.formats, hr_format_bit("json") | hr_format_bit("junit") | hr_format_bit("tap"));
    ck_assert_str_eq(o.output, "reports/run");
    ck_assert_int_eq(o.seed_set, 0);
    ck_assert_int_eq(o.shard_count, 0);
    ck_assert_int_eq(o.max_failures, 0);
    hr_opts_free(&o);
}
END_TEST

/* The format table drives --format, its default, its error and the usage
 * text: every row is reachable by name (and alias) with nothing else edited. */
START_TEST(opts_formats_from_the_table)
{
    char err[256], names[128];
    hr_formats_names(names, sizeof names, 0);
    char *usage = NULL;
    size_t ulen = 0;
    FILE *f = open_memstream(&usage, &ulen);
    ck_assert_ptr_nonnull(f);
    hr_usage(f, "gapcheck");
    fclose(f);
    unsigned dflt = 0;
    for (size_t i = 0; i < hr_nformats; i++) {
        const hr_format *fm = &hr_formats[i];
        hr_opts o;
        ck_assert_int_eq(parse(&o, err, sizeof err, "run", "--format", fm->name, NULL), 0);
        ck_assert_uint_eq(o.formats, 1u << i);
        hr_opts_free(&o);
        if (fm->alias) {
            ck_assert_int_eq(parse(&o, err, sizeof err, "run", "--format", fm->alias, NULL), 0);
            ck_assert_uint_eq(o.formats, 1u << i);
            hr_opts_free(&o);
        }
        ck_assert_msg(strstr(names, fm->name) != NULL, "%s not in '%s'", fm->name, names);
        ck_assert_msg(strstr(usage, fm->file) != NULL, "usage lacks %s", fm->file);
        dflt |= fm->by_default ? 1u << i : 0;
    }
    ck_assert_uint_eq(hr_formats_default(), dflt);
    ck_assert_ptr_nonnull(strstr(usage, names));
    hr_opts o;
    ck_assert_int_eq(parse(&o, err, sizeof err, "run", "--format", "json,nope", NULL), -1);
    char want[256];
    snprintf(want, sizeof want, "--format 'json,nope': 'nope' is not a format (known: %s)", names);
    ck_assert_str_eq(err, want);
    hr_opts_free(&o);   /* a failed parse still owns what it allocated */
    free(usage);
}
END_TEST

START_TEST(opts_every_option)
{
    hr_opts o;
    char err[256];
    ck_assert_int_eq(parse(&o, err, sizeof err, "run", "a", "--filter", "INC-014/*", "-f",
                           "x[thread]", "--tag=smoke", "-t", "heavy", "--jobs", "4",
                           "--shard", "2/3", "--repeat=5", "--timeout", "2.5", "--seed",
                           "123", "--format", "json,md", "-o", "out", "--list",
                           "--max-failures", "2", "-v", "--calibrate", "b", "--", "--weird",
                           NULL),
                     0);
    ck_assert_int_eq(o.npaths, 3);
    ck_assert_str_eq(o.paths[0], "a");
    ck_assert_str_eq(o.paths[1], "b");
    ck_assert_str_eq(o.paths[2], "--weird");
    ck_assert_int_eq(o.nfilters, 2);
    ck_assert_str_eq(o.filters[1], "x[thread]");
    ck_assert_int_eq(o.ntags, 2);
    ck_assert_str_eq(o.tags[0], "smoke");
    ck_assert_int_eq(o.jobs, 4);
    ck_assert_int_eq(o.shard_index, 2);
    ck_assert_int_eq(o.shard_count, 3);
    ck_assert_int_eq(o.repeat, 5);
    ck_assert_double_eq(o.timeout_mult, 2.5);
    ck_assert_int_eq(o.seed_set, 1);
    ck_assert_uint_eq(o.seed, 123);
    ck_assert_uint_eq(o.formats, hr_format_bit("json") | hr_format_bit("md"));
    ck_assert_str_eq(o.output, "out");
    ck_assert_int_eq(o.list, 1);
    ck_assert_int_eq(o.max_failures, 2);
    ck_assert_int_eq(o.verbose, 1);
    ck_assert_int_eq(o.calibrate, 1);
    hr_opts_free(&o);

    ck_assert_int_eq(parse(&o, err, sizeof err, "run", "-j8", "-s7", NULL), 0);
    ck_assert_int_eq(o.jobs, 8);
    ck_assert_uint_eq(o.seed, 7);
    hr_opts_free(&o);
    ck_assert_int_eq(parse(&o, err, sizeof err, "--help", NULL), 0);
    ck_assert_int_eq(o.command, HR_CMD_HELP);
    hr_opts_free(&o);
    ck_assert_int_eq(parse(&o, err, sizeof err, "-V", NULL), 0);
    ck_assert_int_eq(o.command, HR_CMD_VERSION);
    hr_opts_free(&o);
}
END_TEST

static void usage_error(const char *want, const char *a1, const char *a2, const char *a3)
{
    hr_opts o;
    char err[256] = "";
    ck_assert_int_eq(parse(&o, err, sizeof err, a1, a2, a3, NULL), -1);
    if (!strstr(err, want))
        ck_abort_msg("error '%s' does not mention '%s'", err, want);
    hr_opts_free(&o);
}

START_TEST(opts_usage_errors)
{
    usage_error("no command", NULL, NULL, NULL);
    usage_error("unknown command 'walk'", "walk", NULL, NULL);
    usage_error("unknown option '--nope'", "run", "--nope", NULL);
    usage_error("unknown option '-z'", "run", "-z", NULL);
    usage_error("--jobs needs a value", "run", "--jobs", NULL);
    usage_error("--jobs 'x'", "run", "--jobs", "x");
    usage_error("--jobs '999'", "run", "--jobs", "999");
    usage_error("1-based", "run", "--shard", "0/4");
    usage_error("1-based", "run", "--shard", "5/4");
    usage_error("expected I/N", "run", "--shard", "3");
    usage_error("--repeat '0'", "run", "--repeat", "0");
    usage_error("--timeout '-1'", "run", "--timeout", "-1");
    usage_error("--timeout 'nan'", "run", "--timeout", "nan");
    usage_error("--seed '-5'", "run", "--seed", "-5");
    usage_error("--seed '99999999999999999999'", "run", "--seed", "99999999999999999999");
    usage_error("--format 'json,xml'", "run", "--format", "json,xml");
    usage_error("--format '': '' is not a format (known: json,", "run", "--format", "");
    usage_error("--list takes no value", "run", "--list=yes", NULL);
    usage_error("--max-failures 'many'", "run", "--max-failures", "many");
    usage_error("no command", "--jobs", "2", NULL);
}
END_TEST

Suite *suite_runner_model(void);
Suite *suite_runner_model(void)
{
    Suite *s = suite_create("runner_model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, status_names_closed_set);
    tcase_add_test(tc, aggregation_and_exit_code);
    tcase_add_test(tc, median);
    tcase_add_test(tc, opts_formats_from_the_table);
    suite_add_tcase(s, tc);
    return s;
}

Suite *suite_runner_opts(void);
Suite *suite_runner_opts(void)
{
    Suite *s = suite_create("runner_opts");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, opts_defaults);
    tcase_add_test(tc, opts_every_option);
    tcase_add_test(tc, opts_usage_errors);
    suite_add_tcase(s, tc);
    return s;
}
