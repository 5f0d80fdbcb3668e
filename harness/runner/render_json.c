/* harness: results.json, through jansson (never hand-written escaping).
 * Field meanings are documented in harness/README.md; bump HR_SCHEMA_VERSION
 * when a field changes meaning or disappears (adding one does not). Strings go
 * through hr_utf8_clean because jansson rejects invalid UTF-8, and a case's
 * message is untrusted bytes. Non-finite numbers become null (JSON has none). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "render.h"
#include "text.h"

/* Builders set *bad instead of returning errors, so that the tree reads
 * top-down; jansson's *_set_new already frees the value on failure. */
typedef struct hr__jb {
    int bad;
} hr__jb;

static json_t *hr__str(hr__jb *b, const char *s)
{
    char *c = hr_utf8_clean(s);
    json_t *v = c ? json_string(c) : NULL;
    free(c);
    if (!v)
        b->bad = 1;
    return v;
}

static json_t *hr__num(double d)
{
    return isfinite(d) ? json_real(d) : json_null();
}

static void hr__set(hr__jb *b, json_t *obj, const char *key, json_t *v)
{
    if (!v || json_object_set_new(obj, key, v) != 0)
        b->bad = 1;
}

static void hr__push(hr__jb *b, json_t *arr, json_t *v)
{
    if (!v || json_array_append_new(arr, v) != 0)
        b->bad = 1;
}

static json_t *hr__run_info(hr__jb *b, const hr_run_info *in)
{
    json_t *o = json_object();
    if (!o) {
        b->bad = 1;
        return NULL;
    }
    hr__set(b, o, "seed", json_integer((json_int_t)in->seed));
    json_t *argv = json_array();
    for (int i = 0; argv && i < in->argc; i++)
        hr__push(b, argv, hr__str(b, in->argv[i]));
    hr__set(b, o, "argv", argv);
    hr__set(b, o, "command", hr__str(b, in->command));
    hr__set(b, o, "start_time", hr__str(b, in->start_time));
    hr__set(b, o, "duration_ms", hr__num(in->duration_ms));
    hr__set(b, o, "host", hr__str(b, in->host));
    hr__set(b, o, "kernel", hr__str(b, in->kernel));
    hr__set(b, o, "cores", json_integer(in->cores));
    hr__set(b, o, "jobs", json_integer(in->jobs));
    hr__set(b, o, "repeat", json_integer(in->repeat));
    hr__set(b, o, "calibrate", json_boolean(in->calibrate));
    hr__set(b, o, "timeout_multiplier", hr__num(in->timeout_mult));
    if (in->shard_count > 0) {
        json_t *sh = json_object();
        if (sh) {
            hr__set(b, sh, "index", json_integer(in->shard_index));
            hr__set(b, sh, "count", json_integer(in->shard_count));
        }
        hr__set(b, o, "shard", sh);
    } else {
        hr__set(b, o, "shard", json_null());
    }
    return o;
}

static json_t *hr__result(hr__jb *b, const hr_result *r)
{
    json_t *o = json_object();
    if (!o) {
        b->bad = 1;
        return NULL;
    }
    hr__set(b, o, "id", hr__str(b, r->id));
    hr__set(b, o, "case_id", hr__str(b, r->case_id));
    hr__set(b, o, "file", hr__str(b, r->path));
    hr__set(b, o, "title", hr__str(b, r->title));
    hr__set(b, o, "incident", hr__str(b, r->incident));
    hr__set(b, o, "mode", hr__str(b, r->mode));
    json_t *tags = json_array();
    for (int i = 0; tags && i < r->ntags; i++)
        hr__push(b, tags, hr__str(b, r->tags[i]));
    hr__set(b, o, "tags", tags);
    hr__set(b, o, "status", hr__str(b, hr_status_name(r->status)));
    hr__set(b, o, "passed", json_boolean(hr_status_counts_as_passed(r->status)));
    hr__set(b, o, "failed", json_boolean(hr_status_is_failure(r->status)));
    hr__set(b, o, "caught", json_boolean(hr_status_caught(r->status)));
    hr__set(b, o, "message", hr__str(b, r->message));
    hr__set(b, o, "reason", hr__str(b, r->reason));
    if (r->is_load_error) {
        json_t *le = json_object();
        if (le) {
            hr__set(b, le, "line", json_integer(r->load_line));
            hr__set(b, le, "key", hr__str(b, r->load_key));
        }
        hr__set(b, o, "load_error", le);
    } else {
        hr__set(b, o, "load_error", json_null());
    }
    hr__set(b, o, "seed", json_integer((json_int_t)r->seed));
    hr__set(b, o, "runs", json_integer(r->runs));
    json_t *wall = json_object();
    if (wall) {
        hr__set(b, wall, "min", hr__num(r->wall_ms_min));
        hr__set(b, wall, "median", hr__num(r->wall_ms_median));
        hr__set(b, wall, "max", hr__num(r->wall_ms_max));
    }
    hr__set(b, o, "wall_ms", wall);
    hr__set(b, o, "cpu_ms", hr__num(r->cpu_ms));
    json_t *samples = json_array();
    for (int i = 0; samples && r->samples && i < r->runs; i++) {
        const hr_sample *x = &r->samples[i];
        json_t *one = json_object();
        if (one) {
            hr__set(b, one, "wall_ms", hr__num(x->wall_ms));
            hr__set(b, one, "cpu_ms", hr__num(x->cpu_ms));
            hr__set(b, one, "calib_cpu_ms", hr__num(x->calib_cpu_ms));
            hr__set(b, one, "calib_wall_ms", hr__num(x->calib_wall_ms));
        }
        hr__push(b, samples, one);
    }
    hr__set(b, o, "samples", samples);
    hr__set(b, o, "maxrss_kb", json_integer(r->maxrss_kb));
    json_t *lk = json_object();
    if (lk) {
        hr__set(b, lk, "fds", json_integer(r->leaks.fds));
        hr__set(b, lk, "memfds", json_integer(r->leaks.memfds));
        hr__set(b, lk, "maps", json_integer(r->leaks.maps));
        hr__set(b, lk, "children", json_integer(r->leaks.children));
    }
    hr__set(b, o, "leaks", lk);
    hr__set(b, o, "signal", r->signal ? json_integer(r->signal) : json_null());
    hr__set(b, o, "tasks", json_integer(r->tasks));
    hr__set(b, o, "tasks_ok", json_integer(r->tasks_ok));
    json_t *metrics = json_array();
    for (int i = 0; metrics && i < r->nmetrics; i++) {
        json_t *m = json_object();
        if (m) {
            hr__set(b, m, "name", hr__str(b, r->metrics[i].name));
            hr__set(b, m, "unit", hr__str(b, r->metrics[i].unit));
            hr__set(b, m, "value", hr__num(r->metrics[i].value));
        }
        hr__push(b, metrics, m);
    }
    hr__set(b, o, "metrics", metrics);
    json_t *claims = json_array();
    for (int i = 0; claims && i < r->nclaims; i++) {
        const hc_claim *c = &r->claims[i];
        json_t *m = json_object();
        if (m) {
            hr__set(b, m, "text", hr__str(b, c->text));
            hr__set(b, m, "metric", hr__str(b, c->metric));
            hr__set(b, m, "unit", hr__str(b, c->unit));
            hr__set(b, m, "claimed", hr__num(c->claimed));
            hr__set(b, m, "measured", hr__num(c->measured));
            hr__set(b, m, "holds", json_boolean(c->holds));
        }
        hr__push(b, claims, m);
    }
    hr__set(b, o, "claims", claims);
    json_t *ran = json_object();
    if (ran) {
        hr__set(b, ran, "mode", hr__str(b, r->mode_ran));
        hr__set(b, ran, "case_pid", r->case_pid ? json_integer(r->case_pid) : json_null());
        json_t *pids = json_array();
        for (int i = 0; pids && i < r->npids && i < HC_PIDS_MAX; i++)
            hr__push(b, pids, json_integer(r->pids[i]));
        hr__set(b, ran, "pids", pids);
        hr__set(b, ran, "pids_unlisted", json_integer(r->pids_unlisted));
    }
    hr__set(b, o, "ran", ran);
    hr__set(b, o, "replay", hr__str(b, r->replay));
    hr__set(b, o, "output", r->output ? hr__str(b, r->output) : json_null());
    hr__set(b, o, "output_truncated", json_boolean(r->output_truncated));
    return o;
}

int hr_render_json(const hr_report *r, FILE *f)
{
    hr__jb b = {0};
    json_t *root = json_object();
    if (!root)
        return -1;
    hr__set(&b, root, "schema", json_string("gapcheck-results"));
    hr__set(&b, root, "schema_version", json_integer(HR_SCHEMA_VERSION));
    hr__set(&b, root, "gapcheck_version", json_string(HR_VERSION));
    hr__set(&b, root, "run", hr__run_info(&b, &r->info));

    hr_totals t;
    hr_totals_compute(r, &t);
    json_t *sum = json_object();
    if (sum) {
        hr__set(&b, sum, "total", json_integer((json_int_t)t.total));
        hr__set(&b, sum, "passed", json_integer((json_int_t)t.passed));
        hr__set(&b, sum, "failed", json_integer((json_int_t)t.failed));
        hr__set(&b, sum, "skipped", json_integer((json_int_t)t.skipped));
        json_t *by = json_object();
        for (int s = 0; by && s < HR_NSTATUS; s++)
            hr__set(&b, by, hr_status_name((hr_status)s),
                    json_integer((json_int_t)t.by_status[s]));
        hr__set(&b, sum, "by_status", by);
        hr__set(&b, sum, "exit_code", json_integer(hr_exit_code(&t)));
    }
    hr__set(&b, root, "summary", sum);

    json_t *results = json_array();
    for (size_t i = 0; results && i < r->n; i++)
        hr__push(&b, results, hr__result(&b, &r->results[i]));
    hr__set(&b, root, "results", results);

    int rc = -1;
    if (!b.bad && json_dumpf(root, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF)
        rc = 0;
    json_decref(root);
    return rc;
}
