/* harness: the result model (see result.h): status names, the passed/failed/
 * skipped arithmetic that every output shares, and the report container. */
#include "result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const hr__status_names[HR_NSTATUS] = {
    "pass", "fail", "error", "timeout", "crash", "xfail", "xpass", "skip",
};

const char *hr_status_name(hr_status s)
{
    if ((int)s < 0 || s >= HR_NSTATUS)
        return "error";
    return hr__status_names[s];
}

int hr_status_is_failure(hr_status s)
{
    switch (s) {
    case HR_PASS:
    case HR_XFAIL:
    case HR_SKIP:
        return 0;
    default:
        return 1;   /* unknown values fail too: a closed set has no "maybe" */
    }
}

int hr_status_counts_as_passed(hr_status s)
{
    return s == HR_PASS || s == HR_XFAIL;
}

int hr_status_caught(hr_status s)
{
    return s == HR_FAIL || s == HR_TIMEOUT || s == HR_CRASH;
}

void hr_report_init(hr_report *r)
{
    memset(r, 0, sizeof *r);
}

hr_result *hr_report_add(hr_report *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        hr_result *p = realloc(r->results, cap * sizeof *p);
        if (!p)
            return NULL;
        r->results = p;
        r->cap = cap;
    }
    hr_result *res = &r->results[r->n++];
    memset(res, 0, sizeof *res);
    return res;
}

void hr_report_free(hr_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->results[i].output);
        free(r->results[i].samples);
    }
    free(r->results);
    for (int i = 0; i < r->info.argc; i++)
        free(r->info.argv[i]);
    free(r->info.argv);
    memset(r, 0, sizeof *r);
}

void hr_totals_compute(const hr_report *r, hr_totals *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < r->n; i++) {
        hr_status s = r->results[i].status;
        if ((int)s < 0 || s >= HR_NSTATUS)
            s = HR_ERROR;
        t->by_status[s]++;
        t->total++;
        if (s == HR_SKIP)
            t->skipped++;
        else if (hr_status_is_failure(s))
            t->failed++;
        else
            t->passed++;   /* pass and xfail */
    }
}

void hr_summary_line(const hr_totals *t, char *buf, size_t len)
{
    if (t->skipped)
        snprintf(buf, len, "%zu passed, %zu failed, %zu skipped", t->passed, t->failed,
                 t->skipped);
    else
        snprintf(buf, len, "%zu passed, %zu failed", t->passed, t->failed);
}

int hr_exit_code(const hr_totals *t)
{
    return t->failed ? 1 : 0;
}

