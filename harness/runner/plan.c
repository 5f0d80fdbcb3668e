/* harness: planning (see plan.h). */
#include "plan.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gapcheck/pattern.h"
#include "text.h"

const char *hr_mode_name(gc_mode m)
{
    switch (m) {
    case GC_MODE_THREAD: return "thread";
    case GC_MODE_PROCESS: return "process";
    }
    return "unknown";
}

uint64_t hr_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

int hr_shard_of(const char *id, int count)
{
    if (count <= 1)
        return 1;
    return (int)(hr_hash(id) % (uint64_t)count) + 1;
}

/* A glob ending in "[thread]" or "[process]": the suffix is the mode, taken
 * literally, and the rest globs the case id. Returns the suffix or NULL. */
static const char *hr__mode_suffix(const char *glob)
{
    static const char *const suffixes[] = {"[thread]", "[process]"};
    size_t n = strlen(glob);
    for (size_t i = 0; i < 2; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcmp(glob + n - k, suffixes[i]))
            return glob + n - k;
    }
    return NULL;
}

int hr_filter_match(const char *const *globs, int n, const char *id, const char *case_id)
{
    if (n == 0)
        return 1;
    for (int i = 0; i < n; i++) {
        const char *g = globs[i];
        if (!strcmp(g, id) || !strcmp(g, case_id))
            return 1;
        const char *suffix = hr__mode_suffix(g);
        if (suffix) {
            size_t il = strlen(id), sl = strlen(suffix), bl = (size_t)(suffix - g);
            char base[512];
            if (il < sl || strcmp(id + il - sl, suffix) != 0 || bl >= sizeof base)
                continue;
            memcpy(base, g, bl);
            base[bl] = '\0';
            if (fnmatch(base, case_id, 0) == 0)
                return 1;
            continue;
        }
        if (fnmatch(g, id, 0) == 0 || fnmatch(g, case_id, 0) == 0)
            return 1;
    }
    return 0;
}

int hr_tags_match(const char *const *want, int n, const hc_case_info *info, const char *mode)
{
    for (int i = 0; i < n; i++) {
        int found = mode && !strcmp(want[i], mode);
        for (int t = 0; !found && info && t < info->ntags && t < HC_TAGS_MAX; t++)
            found = !strcmp(want[i], info->tags[t]);
        if (!found)
            return 0;
    }
    return 1;
}

uint64_t hr_case_seed(uint64_t run_seed, const char *id)
{
    return gc_splitmix64(run_seed ^ gc_splitmix64(hr_hash(id))) & (uint64_t)INT64_MAX;
}

void hr_fallback_id(const char *path, char *out, size_t len)
{
    const char *p = path;
    while (!strncmp(p, "./", 2))
        p += 2;
    const char *c = strstr(p, "cases/");
    if (c && (c == p || c[-1] == '/'))
        p = c + 6;
    size_t n = strlen(p);
    if (n > 5 && !strcmp(p + n - 5, ".case"))
        n -= 5;
    snprintf(out, len, "%.*s", (int)n, p);
}

void hr_replay_command(const hr_opts *o, uint64_t run_seed, const char *path, const char *id,
                       char *out, size_t len)
{
    char num[64];
    out[0] = '\0';
    hr_shell_append(out, len, o->argv0);
    hr_shell_append(out, len, "run");
    hr_shell_append(out, len, path);
    if (id) {
        hr_shell_append(out, len, "--filter");
        hr_shell_append(out, len, id);
    }
    snprintf(num, sizeof num, "%llu", (unsigned long long)run_seed);
    hr_shell_append(out, len, "--seed");
    hr_shell_append(out, len, num);
    if (o->timeout_mult != 1.0) {
        snprintf(num, sizeof num, "%g", o->timeout_mult);
        hr_shell_append(out, len, "--timeout");
        hr_shell_append(out, len, num);
    }
}

static int hr__push_case(hr_plan *p, hc_case *c)
{
    hc_case **n = realloc(p->cases, (p->ncases + 1) * sizeof *n);
    if (!n)
        return -1;
    p->cases = n;
    p->cases[p->ncases++] = c;
    return 0;
}

static int hr__push_job(hr_plan *p, const hr_job *j)
{
    hr_job *n = realloc(p->jobs, (p->njobs + 1) * sizeof *n);
    if (!n)
        return -1;
    p->jobs = n;
    p->jobs[p->njobs++] = *j;
    return 0;
}

static int hr__selected_by_shard(const hr_opts *o, const char *id)
{
    return o->shard_count == 0 || hr_shard_of(id, o->shard_count) == o->shard_index;
}

static void hr__fill_from_info(hr_result *r, const hc_case_info *info, const char *path)
{
    snprintf(r->case_id, sizeof r->case_id, "%s", info->id);
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->title, sizeof r->title, "%s", info->title);
    snprintf(r->incident, sizeof r->incident, "%s", info->incident);
    r->ntags = info->ntags < HC_TAGS_MAX ? info->ntags : HC_TAGS_MAX;
    for (int t = 0; t < r->ntags; t++)
        snprintf(r->tags[t], sizeof r->tags[t], "%s", info->tags[t]);
}

/* A result for a file that did not load, if the selection keeps it. Tags
 * are unknown for such a file: it is kept, so that --tag cannot hide it. */
static int hr__load_error(const hr_opts *o, uint64_t seed, const char *path, const hc_error *e,
                          hr_report *rep, hr_plan *plan)
{
    char id[HC_ID_MAX];
    hr_fallback_id(path, id, sizeof id);
    if (!hr_filter_match(o->filters, o->nfilters, id, id) || !hr__selected_by_shard(o, id))
        return 0;
    hr_result *r = hr_report_add(rep);
    if (!r)
        return -1;
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->case_id, sizeof r->case_id, "%s", id);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->status = HR_ERROR;
    r->is_load_error = 1;
    r->load_line = e->line;
    hr_fmt(r->load_key, sizeof r->load_key, "%s", e->key);
    const char *file = e->path[0] ? e->path : path;
    if (e->line > 0 && e->key[0])
        hr_fmt(r->message, sizeof r->message, "%s:%d: %s: %s", file, e->line, e->key,
                 e->message);
    else if (e->line > 0)
        hr_fmt(r->message, sizeof r->message, "%s:%d: %s", file, e->line, e->message);
    else if (e->key[0])
        hr_fmt(r->message, sizeof r->message, "%s: %s: %s", file, e->key, e->message);
    else
        hr_fmt(r->message, sizeof r->message, "%s: %s", file, e->message);
    r->seed = hr_case_seed(seed, id);
    hr_replay_command(o, seed, path, NULL, r->replay, sizeof r->replay);
    plan->load_errors++;
    return 0;
}

int hr_plan_build(const hr_opts *o, const hr_files *files, hr_plan *plan, hr_report *rep,
                  char *err, size_t errlen)
{
    memset(plan, 0, sizeof *plan);
    uint64_t seed = rep->info.seed;
    for (size_t f = 0; f < files->n; f++) {
        const char *path = files->paths[f];
        hc_case *c = NULL;
        hc_error e;
        memset(&e, 0, sizeof e);
        if (hc_case_load(path, &c, &e) != 0 || !c) {
            if (c)
                hc_case_free(c);
            if (!e.message[0])
                snprintf(e.message, sizeof e.message, "could not be loaded");
            if (hr__load_error(o, seed, path, &e, rep, plan) != 0)
                goto oom;
            continue;
        }
        if (hr__push_case(plan, c) != 0) {
            hc_case_free(c);
            goto oom;
        }
        const hc_case_info *info = hc_case_get_info(c);
        /* Ids are unique across the tree; a second file with the same id is
         * an error of that file, not a silent shadowing. */
        const char *dup = NULL;
        for (size_t k = 0; k + 1 < plan->ncases && !dup; k++) {
            const hc_case_info *other = hc_case_get_info(plan->cases[k]);
            if (!strcmp(other->id, info->id))
                dup = other->path[0] ? other->path : "another file";
        }
        if (dup) {
            memset(&e, 0, sizeof e);
            snprintf(e.key, sizeof e.key, "id");
            hr_fmt(e.message, sizeof e.message, "duplicate id '%s' (also in %s)", info->id,
                     dup);
            if (hr__load_error(o, seed, path, &e, rep, plan) != 0)
                goto oom;
            continue;
        }
        char why[HC_TEXT_MAX] = "";
        int met = hc_case_requires_met(c, why, sizeof why);
        int nmodes = info->nmodes < 0 ? 0 : info->nmodes > 2 ? 2 : info->nmodes;
        for (int m = 0; m < nmodes; m++) {
            const char *mode = hr_mode_name(info->modes[m]);
            char id[HR_RESULT_ID_MAX];
            snprintf(id, sizeof id, "%s[%s]", info->id, mode);
            if (!hr_filter_match(o->filters, o->nfilters, id, info->id) ||
                !hr_tags_match(o->tags, o->ntags, info, mode) || !hr__selected_by_shard(o, id))
                continue;
            hr_result *r = hr_report_add(rep);
            if (!r)
                goto oom;
            snprintf(r->id, sizeof r->id, "%s", id);
            hr__fill_from_info(r, info, path);
            snprintf(r->mode, sizeof r->mode, "%s", mode);
            r->seed = hr_case_seed(seed, id);
            hr_replay_command(o, seed, path, id, r->replay, sizeof r->replay);
            snprintf(r->reason, sizeof r->reason, "%s", info->xfail);
            if (!met) {
                r->status = HR_SKIP;
                snprintf(r->reason, sizeof r->reason, "%s", why[0] ? why : "requires not met");
                hr_fmt(r->message, sizeof r->message, "%s", r->reason);
                continue;
            }
            hr_job j = {.c = c, .info = info, .mode = info->modes[m], .result = rep->n - 1};
            if (hr__push_job(plan, &j) != 0)
                goto oom;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory while planning");
    hr_plan_free(plan);
    return -1;
}

void hr_plan_free(hr_plan *plan)
{
    for (size_t i = 0; i < plan->ncases; i++)
        hc_case_free(plan->cases[i]);
    free(plan->cases);
    free(plan->jobs);
    memset(plan, 0, sizeof *plan);
}
