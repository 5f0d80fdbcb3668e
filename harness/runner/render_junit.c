/* harness: junit.xml, the JUnit/Jenkins dialect that CI tools read.
 * One <testsuite> per incident (cases of no incident under "engine", files
 * that failed to load under "load-errors"), one <testcase> per result, in plan
 * order. Mapping: fail and xpass -> <failure>; error, timeout and crash ->
 * <error>; skip -> <skipped>; pass and xfail -> no child (xfail's reason goes
 * to <system-out>). harness/tests/junit.xsd is the schema the tests check
 * against. Every text goes through hr_xml_escape. */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "text.h"

static const char *hr__suite_of(const hr_result *r)
{
    if (r->is_load_error)
        return "load-errors";
    return r->incident[0] ? r->incident : "engine";
}

static void hr__attr(FILE *f, const char *name, const char *value)
{
    fprintf(f, " %s=\"", name);
    hr_xml_escape(f, value);
    fputc('"', f);
}

static void hr__testcase(FILE *f, const hr_result *r)
{
    char buf[64];
    fputs("    <testcase", f);
    hr__attr(f, "name", r->id);
    char cls[HC_ID_MAX + 16];
    snprintf(cls, sizeof cls, "gapcheck.%s", hr__suite_of(r));
    hr__attr(f, "classname", cls);
    snprintf(buf, sizeof buf, "%.3f", r->wall_ms_median / 1000.0);
    hr__attr(f, "time", buf);
    fputs(">\n", f);

    const char *el = NULL;
    switch (r->status) {
    case HR_FAIL:
    case HR_XPASS:
        el = "failure";
        break;
    case HR_ERROR:
    case HR_TIMEOUT:
    case HR_CRASH:
        el = "error";
        break;
    case HR_SKIP:
        fputs("      <skipped", f);
        hr__attr(f, "message", r->message);
        fputs("/>\n", f);
        break;
    default:
        break;
    }
    if (el) {
        fprintf(f, "      <%s", el);
        hr__attr(f, "type", hr_status_name(r->status));
        hr__attr(f, "message", r->message);
        fputs(">", f);
        hr_xml_escape(f, r->message);
        if (r->replay[0]) {
            fprintf(f, "&#10;seed %llu; replay: ", (unsigned long long)r->seed);
            hr_xml_escape(f, r->replay);
        }
        fprintf(f, "</%s>\n", el);
    }
    if (r->status == HR_XFAIL || (r->output && r->output[0])) {
        fputs("      <system-out>", f);
        if (r->status == HR_XFAIL) {
            fputs("xfail: ", f);
            hr_xml_escape(f, r->reason);
            fputs("&#10;", f);
        }
        if (r->output)
            hr_xml_escape(f, r->output);
        fputs("</system-out>\n", f);
    }
    fputs("    </testcase>\n", f);
}

int hr_render_junit(const hr_report *r, FILE *f)
{
    hr_totals all;
    hr_totals_compute(r, &all);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"gapcheck\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\""
               " skipped=\"%zu\" time=\"%.3f\">\n",
            all.total, all.by_status[HR_FAIL] + all.by_status[HR_XPASS],
            all.by_status[HR_ERROR] + all.by_status[HR_TIMEOUT] + all.by_status[HR_CRASH],
            all.by_status[HR_SKIP], r->info.duration_ms / 1000.0);

    /* Suites in order of first appearance; results of a suite may be spread
     * over the plan (several roots), so each suite scans the whole list. */
    char *done = calloc(r->n ? r->n : 1, 1);
    if (!done)
        return -1;
    int suite_id = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (done[i])
            continue;
        const char *name = hr__suite_of(&r->results[i]);
        size_t tests = 0, failures = 0, errors = 0, skipped = 0;
        double time_s = 0;
        for (size_t j = i; j < r->n; j++) {
            const hr_result *x = &r->results[j];
            if (strcmp(hr__suite_of(x), name) != 0)
                continue;
            tests++;
            time_s += x->wall_ms_median / 1000.0;
            if (x->status == HR_FAIL || x->status == HR_XPASS)
                failures++;
            else if (x->status == HR_ERROR || x->status == HR_TIMEOUT ||
                     x->status == HR_CRASH)
                errors++;
            else if (x->status == HR_SKIP)
                skipped++;
        }
        fputs("  <testsuite", f);
        hr__attr(f, "name", name);
        fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\""
                   " time=\"%.3f\" id=\"%d\"", tests, failures, errors, skipped, time_s,
                suite_id++);
        /* JUnit's timestamp has no zone designator; ours is UTC. */
        char stamp[20];
        snprintf(stamp, sizeof stamp, "%.19s", r->info.start_time);
        if (stamp[0])
            hr__attr(f, "timestamp", stamp);
        hr__attr(f, "hostname", r->info.host);
        fputs(">\n    <properties>\n", f);
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->info.seed);
        fputs("      <property name=\"seed\"", f);
        hr__attr(f, "value", seed);
        fputs("/>\n      <property name=\"command\"", f);
        hr__attr(f, "value", r->info.command);
        fputs("/>\n    </properties>\n", f);
        for (size_t j = i; j < r->n; j++) {
            if (strcmp(hr__suite_of(&r->results[j]), name) != 0)
                continue;
            done[j] = 1;
            hr__testcase(f, &r->results[j]);
        }
        fputs("  </testsuite>\n", f);
    }
    free(done);
    fputs("</testsuites>\n", f);
    return ferror(f) ? -1 : 0;
}
