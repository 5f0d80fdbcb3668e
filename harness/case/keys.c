/* harness case module, the grammar: every section and every key a case file
 * may hold, as rows of two tables, and the readers of the few values that
 * the parser's generic kinds do not cover. The parser (parse.c) knows no key
 * by name: what is accepted, where it goes, what is required, the "known
 * keys" lists of its messages and the key reference in cases/README.md all
 * come from here. See keys.h for how to add a key. */
#include "keys.h"

#include <ctype.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#define C_(field) offsetof(hc_case, field), sizeof(((hc_case *)0)->field)
#define E_(field) offsetof(hc_entry, field), sizeof(((hc_entry *)0)->field)
#define L_(field) offsetof(hc_claim_spec, field), sizeof(((hc_claim_spec *)0)->field)

const hc_section_def hc__sections[] = {
    {HC_SEC_CASE, "case", 0, 1, NULL},
    {HC_SEC_STATE, "state", 0, 0, NULL},
    {HC_SEC_DOMAIN, "domain", 0, 0, "any NAME = TYPE:VALUE"},
    {HC_SEC_CONTRACT, "contract", 0, 0, NULL},
    {HC_SEC_EXPECT, "expect", 0, 0, NULL},
    {HC_SEC_RUN, "run", 0, 0, NULL},
    {HC_SEC_HEAVY, "heavy", 1, 0, NULL},
    {HC_SEC_OUTPUT, "output", 1, 0, "outputs start zeroed, so there is no fill"},
    {HC_SEC_CLAIM, "claim", 1, 0, NULL},
};
const size_t hc__nsections = sizeof hc__sections / sizeof hc__sections[0];

/* --------------------------------------------------------------------- */
/* Readers of values no generic kind covers                               */

static int add_tag(hc_parser *p, const char *key, const char *item, void *arg)
{
    (void)arg;
    hc_case_info *in = &p->c->info;
    if (!hc__ident_ok(item, sizeof in->tags[0]))
        return hc__fail(p, p->line, key, GC_EINVAL,
                        "tag '%s' is not 1..63 chars of [A-Za-z0-9_.:/-] starting alphanumeric",
                        item);
    for (int i = 0; i < in->ntags; i++)
        if (strcmp(in->tags[i], item) == 0)
            return hc__fail(p, p->line, key, GC_EEXIST, "tag '%s' listed twice", item);
    if (in->ntags == HC_TAGS_MAX)
        return hc__fail(p, p->line, key, GC_ELIMIT, "more than %d tags", HC_TAGS_MAX);
    snprintf(in->tags[in->ntags++], sizeof in->tags[0], "%s", item);
    return 1;
}

static int read_tags(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                     const char *key, void *obj)
{
    (void)k, (void)name, (void)obj;
    return hc__for_each_item(p, key, value, add_tag, NULL);
}

static int add_requirement(hc_parser *p, const char *key, const char *item, void *arg)
{
    (void)arg;
    hc_case_info *in = &p->c->info;
    if (!hc_probe_requirement_ok(item)) {
        char known[256];
        hc_probe_requirements_known(known, sizeof known);
        return hc__fail(p, p->line, key, GC_EINVAL, "unknown requirement '%s' (known: %s)", item,
                        known);
    }
    if (in->nrequires == HC_REQUIRES_MAX)
        return hc__fail(p, p->line, key, GC_ELIMIT, "more than %d requirements",
                        HC_REQUIRES_MAX);
    snprintf(in->requires[in->nrequires++], sizeof in->requires[0], "%s", item);
    return 1;
}

static int read_requires(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                         const char *key, void *obj)
{
    (void)k, (void)name, (void)obj;
    return hc__for_each_item(p, key, value, add_requirement, NULL);
}

static int read_mode(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                     const char *key, void *obj)
{
    (void)k, (void)name, (void)obj;
    hc_case_info *in = &p->c->info;
    if (strcmp(value, "thread") == 0) {
        in->modes[0] = GC_MODE_THREAD;
        in->nmodes = 1;
    } else if (strcmp(value, "process") == 0) {
        in->modes[0] = GC_MODE_PROCESS;
        in->nmodes = 1;
    } else if (strcmp(value, "both") == 0) {
        in->modes[0] = GC_MODE_THREAD;
        in->modes[1] = GC_MODE_PROCESS;
        in->nmodes = 2;
    } else {
        return hc__fail(p, p->line, key, GC_EINVAL,
                        "mode '%s' is not one of thread, process, both", value);
    }
    return 1;
}

/* Checked against the engine's own table, so a typo is an error at its line
 * and a new built-in needs no change here. */
static int read_process(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                        const char *key, void *obj)
{
    (void)k, (void)name, (void)obj;
    if (!gc_builtins_has(value))
        return hc__fail(p, p->line, key, GC_ENOTFOUND, "process '%s' is not a built-in (%s)",
                        value, gc_builtins_list());
    snprintf(p->c->process, sizeof p->c->process, "%s", value);
    return 1;
}

/* A `TYPE:VALUE` for domain key `name`, appended to *list: the [domain]
 * values and the [expect] state.NAME read-backs share it. */
static int read_typed(hc_parser *p, const char *name, const char *value, const char *key,
                      hc_domain_val **list, size_t *count)
{
    gc_err ge;
    if (gc_name_check(name, "domain key", &ge) != GC_OK)
        return hc__fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
    if (*count == GC_DOMAIN_MAX)
        return hc__fail(p, p->line, key, GC_ELIMIT, "more than %d domain values", GC_DOMAIN_MAX);
    hc_domain_val dv;
    memset(&dv, 0, sizeof dv);
    snprintf(dv.name, sizeof dv.name, "%s", name);
    dv.line = p->line;
    if (strncmp(value, "int:", 4) == 0) {
        dv.type = GC_VAL_INT;
        if (hc__parse_i64(value + 4, &dv.i))
            return hc__fail(p, p->line, key, GC_EINVAL,
                            "'%s' is not a 64-bit integer (decimal or 0x hex)", value + 4);
    } else if (strncmp(value, "double:", 7) == 0) {
        dv.type = GC_VAL_DOUBLE;
        if (hc__parse_double(value + 7, &dv.d))
            return hc__fail(p, p->line, key, GC_EINVAL, "'%s' is not a finite number",
                            value + 7);
    } else if (strncmp(value, "str:", 4) == 0) {
        dv.type = GC_VAL_STR;
        dv.len = strlen(value + 4);
        if (dv.len > GC_VALUE_BYTES_MAX)
            return hc__fail(p, p->line, key, GC_ELIMIT, "string of %zu bytes (limit %d)", dv.len,
                            GC_VALUE_BYTES_MAX);
        dv.data = (uint8_t *)hc__strdup(value + 4);
        if (!dv.data)
            return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
    } else if (strncmp(value, "bytes:hex:", 10) == 0) {
        const char *hex = value + 10;
        size_t n = strlen(hex);
        if (n % 2)
            return hc__fail(p, p->line, key, GC_EINVAL,
                            "hex bytes have an odd digit count (%zu)", n);
        if (n / 2 > GC_VALUE_BYTES_MAX)
            return hc__fail(p, p->line, key, GC_ELIMIT, "%zu bytes (limit %d)", n / 2,
                            GC_VALUE_BYTES_MAX);
        for (size_t i = 0; i < n; i++)
            if (!isxdigit((unsigned char)hex[i]))
                return hc__fail(p, p->line, key, GC_EINVAL,
                                "'%c' at position %zu is not a hex digit", hex[i], i);
        dv.type = GC_VAL_BYTES;
        dv.len = n / 2;
        dv.data = malloc(dv.len ? dv.len : 1);
        if (!dv.data)
            return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
        for (size_t i = 0; i < dv.len; i++) {
            char two[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
            dv.data[i] = (uint8_t)strtoul(two, NULL, 16);
        }
    } else {
        return hc__fail(p, p->line, key, GC_EINVAL,
                        "value '%s' has no type prefix (int:, double:, str:, bytes:hex:)", value);
    }
    hc_domain_val *v = realloc(*list, (*count + 1) * sizeof *v);
    if (!v) {
        free(dv.data);
        return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
    }
    *list = v;
    (*list)[(*count)++] = dv;
    return 1;
}

static int read_domain(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                       const char *key, void *obj)
{
    (void)k, (void)obj;
    return read_typed(p, name, value, key, &p->c->domain, &p->c->ndomain);
}

static int read_state_exp(hc_parser *p, const hc_key_def *k, const char *name,
                          const char *value, const char *key, void *obj)
{
    (void)k, (void)obj;
    for (size_t i = 0; i < p->c->nstate_exp; i++)
        if (strcmp(p->c->state_exp[i].name, name + 6) == 0)
            return hc__fail(p, p->line, key, GC_EEXIST, "state.%s is expected twice", name + 6);
    return read_typed(p, name + 6, value, key, &p->c->state_exp, &p->c->nstate_exp);
}

/* A count expectation (int64_t at k->off): lo..hi, -1 until set. */
static int read_count(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                      const char *key, void *obj)
{
    uint32_t n;
    if (hc__parse_u32(value, (uint32_t)k->lo, (uint32_t)k->hi, &n))
        return hc__fail(p, p->line, key, GC_EINVAL, "%s '%s' is not an integer in %lld..%lld",
                        name, value, (long long)k->lo, (long long)k->hi);
    int64_t v = n;
    memcpy((char *)obj + k->off, &v, sizeof v);
    return 1;
}

/* signal.N: a signal name (SIGSEGV) or number. */
static int parse_signal(const char *v, int *sig)
{
    uint32_t n;
    if (hc__parse_u32(v, 1, 64, &n) == 0) {
        *sig = (int)n;
        return 0;
    }
    for (int s = 1; s < 65; s++) {
        const char *ab = sigabbrev_np(s);
        if (ab && strncmp(v, "SIG", 3) == 0 && strcmp(v + 3, ab) == 0) {
            *sig = s;
            return 0;
        }
    }
    return -1;
}

/* Every KEY.N of [expect]: status.N, signal.N, text.N, text_contains.N,
 * sent.N. They fill the one per-task record of task N. */
static int read_task_n(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                       const char *key, void *obj)
{
    (void)obj;
    hc_case *c = p->c;
    const char *dot = strrchr(name, '.');
    uint32_t t;
    if (!dot || !isdigit((unsigned char)dot[1]) ||
        hc__parse_u32(dot + 1, 0, GC_TASKS_MAX - 1, &t))
        return hc__fail(p, p->line, key, GC_EINVAL, "'%s' is not %.*s.N with N a task number",
                        name, (int)(dot ? dot - name : (ptrdiff_t)strlen(name)), name);
    size_t kind = (size_t)(dot - name);
    hc_status_exp *te = NULL;
    for (size_t i = 0; i < c->nstatus_one && !te; i++)
        if (c->status_one[i].task == t)
            te = &c->status_one[i];
    if (!te) {
        hc_status_exp *v = realloc(c->status_one, (c->nstatus_one + 1) * sizeof *v);
        if (!v)
            return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
        c->status_one = v;
        te = &c->status_one[c->nstatus_one++];
        *te = (hc_status_exp){.task = t, .sent = -1, .line = p->line};
        snprintf(te->key, sizeof te->key, "%s", key);
    }
    static const char *const kinds[] = {"status", "signal", "text", "text_contains", "sent"};
    int ki = 0;
    while (ki < 4 && !(strlen(kinds[ki]) == kind && strncmp(name, kinds[ki], kind) == 0))
        ki++;
    if (te->kline[ki])
        return hc__fail(p, p->line, key, GC_EEXIST, "task %u already has a %s (line %d)", t,
                        kinds[ki], te->kline[ki]);
    te->kline[ki] = p->line;
    if (strncmp(name, "status", kind) == 0 && kind == 6) {
        if (gc_status_parse(value, &te->status) != GC_OK)
            return hc__fail(p, p->line, key, GC_EINVAL, "'%s' is not a status name (%s)", value,
                            k->hint);
        te->has_status = 1;
    } else if (strncmp(name, "signal", kind) == 0 && kind == 6) {
        if (parse_signal(value, &te->signal))
            return hc__fail(p, p->line, key, GC_EINVAL,
                            "'%s' is not a signal name (SIGSEGV, SIGABRT, ...) or number 1..64",
                            value);
    } else if (strncmp(name, "sent", kind) == 0 && kind == 4) {
        if (strcmp(value, "true") == 0)
            te->sent = 1;
        else if (strcmp(value, "false") == 0)
            te->sent = 0;
        else
            return hc__fail(p, p->line, key, GC_EINVAL, "'%s' is not true or false", value);
    } else {
        char **dst = kind == 4 ? &te->text : &te->text_contains;
        if (strlen(value) >= GC_RESULT_TEXT_MAX)
            return hc__fail(p, p->line, key, GC_ELIMIT, "text of %zu bytes (limit %d)",
                            strlen(value), GC_RESULT_TEXT_MAX - 1);
        *dst = hc__strdup(value);
        if (!*dst)
            return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
    }
    return 1;
}

static int read_value(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                      const char *key, void *obj)
{
    (void)k, (void)name, (void)obj;
    hc_case *c = p->c;
    if (strcmp(value, "checksum") == 0)
        c->value_kind = HC_VALUE_CHECKSUM;
    else if (strcmp(value, "touch") == 0)
        c->value_kind = HC_VALUE_TOUCH;
    else if (hc__parse_i64(value, &c->value) == 0)
        c->value_kind = HC_VALUE_INT;
    else
        return hc__fail(p, p->line, key, GC_EINVAL,
                        "value '%s' is not checksum, touch or an integer", value);
    return 1;
}

static int read_output_exp(hc_parser *p, const hc_key_def *k, const char *name,
                           const char *value, const char *key, void *obj)
{
    (void)k, (void)obj;
    hc_case *c = p->c;
    gc_err ge;
    if (gc_name_check(name + 7, "output entry", &ge) != GC_OK)
        return hc__fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
    if (strncmp(value, "pattern:", 8) != 0)
        return hc__fail(p, p->line, key, GC_EINVAL,
                        "'%s' is not pattern:zero, pattern:sequence or pattern:random:SEED",
                        value);
    hc_output_exp oe;
    memset(&oe, 0, sizeof oe);
    if (gc_pattern_parse(value + 8, &oe.pattern, &ge) != GC_OK)
        return hc__fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
    snprintf(oe.name, sizeof oe.name, "%s", name + 7);
    oe.line = p->line;
    hc_output_exp *v = realloc(c->outputs_exp, (c->noutputs_exp + 1) * sizeof *v);
    if (!v)
        return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
    c->outputs_exp = v;
    c->outputs_exp[c->noutputs_exp++] = oe;
    return 1;
}

/* A limit of 0 is a real limit (no growth, no descriptor), so presence is
 * kept beside the value. */
static int read_rss_growth(hc_parser *p, const hc_key_def *k, const char *name,
                           const char *value, const char *key, void *obj)
{
    (void)name, (void)obj;
    uint32_t kb;
    if (hc__parse_u32(value, (uint32_t)k->lo, (uint32_t)k->hi, &kb))
        return hc__fail(p, p->line, key, GC_EINVAL, "rss_growth_kb_max '%s' is not an integer "
                        "in %lld..%lld", value, (long long)k->lo, (long long)k->hi);
    p->c->rss_growth_kb_max = kb;
    p->c->has_rss_growth = 1;
    return 1;
}

static int read_limit_nofile(hc_parser *p, const hc_key_def *k, const char *name,
                             const char *value, const char *key, void *obj)
{
    (void)name, (void)obj;
    if (hc__parse_u32(value, (uint32_t)k->lo, (uint32_t)k->hi, &p->c->limit_nofile))
        return hc__fail(p, p->line, key, GC_EINVAL, "limit_nofile '%s' is not an integer in "
                        "%lld..%lld", value, (long long)k->lo, (long long)k->hi);
    p->c->limit_nofile_set = 1;
    return 1;
}

/* [run] rule: KEY:MIN..MAX, one validation rule (gc_engine_rule_int_range). */
static int read_rule(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                     const char *key, void *obj)
{
    (void)k, (void)name, (void)obj;
    hc_case *c = p->c;
    const char *colon = strchr(value, ':'), *dots = colon ? strstr(colon + 1, "..") : NULL;
    char lo[32], hi[32];
    size_t nlen = colon ? (size_t)(colon - value) : 0;
    size_t lolen = dots ? (size_t)(dots - colon - 1) : 0;
    gc_err ge;
    if (!dots || nlen == 0 || nlen >= sizeof c->rule_key || lolen >= sizeof lo ||
        strlen(dots + 2) >= sizeof hi)
        return hc__fail(p, p->line, key, GC_EINVAL, "rule '%s' is not KEY:MIN..MAX", value);
    memcpy(c->rule_key, value, nlen);
    c->rule_key[nlen] = '\0';
    memcpy(lo, colon + 1, lolen);
    lo[lolen] = '\0';
    snprintf(hi, sizeof hi, "%s", dots + 2);
    if (gc_name_check(c->rule_key, "rule key", &ge) != GC_OK)
        return hc__fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
    if (hc__parse_i64(lo, &c->rule_min) || hc__parse_i64(hi, &c->rule_max) ||
        c->rule_min > c->rule_max)
        return hc__fail(p, p->line, key, GC_EINVAL, "rule '%s': MIN..MAX must be integers with "
                        "MIN <= MAX", value);
    c->has_rule = 1;
    return 1;
}

static int read_fill(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                     const char *key, void *obj)
{
    (void)k, (void)name;
    hc_entry *e = obj;
    gc_err ge;
    if (strcmp(value, "random") == 0) {
        e->fill = (gc_pattern){GC_PATTERN_RANDOM, 0};
        e->fill_from_seed = 1;
    } else if (gc_pattern_parse(value, &e->fill, &ge) != GC_OK) {
        return hc__fail(p, p->line, key, GC_EINVAL, "%s (or 'random' to draw from --seed)",
                        ge.msg);
    }
    return 1;
}

static int read_metric(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                       const char *key, void *obj)
{
    (void)k, (void)name;
    hc_claim_spec *cl = obj;
    if (!hc__metric_find(value)) {
        char known[256];
        hc__metrics_known(known, sizeof known);
        return hc__fail(p, p->line, key, GC_EINVAL, "unknown metric '%s' (known: %s)", value,
                        known);
    }
    snprintf(cl->metric, sizeof cl->metric, "%s", value);
    return 1;
}

/* --------------------------------------------------------------------- */
/* The keys                                                               */

#define STATUS_NAMES "ok, EINVAL, ENOTFOUND, ECONTRACT, EREADONLY, ECRASH, EEXIT, ETIMEOUT, " \
                     "EUNSUPPORTED, EPROC, ..."

const hc_key_def hc__keys[] = {
    /* [case] */
    {HC_SEC_CASE, "id", HC_KIND_IDENT, 1, 1, 0, C_(info.id), NULL, NULL, NULL, "",
     "Unique id, 1..127 chars of `A-Za-z0-9_.:/-`, starting alphanumeric. Convention: "
     "`INC-014.heavy-visible`, `engine.echo`"},
    {HC_SEC_CASE, "title", HC_KIND_TEXT, 1, 1, 0, C_(info.title), NULL, NULL, "a one-line title",
     "", "One line, what the case shows"},
    {HC_SEC_CASE, "process", HC_KIND_FN, 1, 0, 0, C_(process), NULL, read_process, NULL, "",
     "A built-in process (see below)"},
    {HC_SEC_CASE, "incident", HC_KIND_IDENT, 0, 0, 0, C_(info.incident), NULL, NULL, NULL,
     "empty", "the incident id, e.g. `INC-014`; empty for `cases/engine/`"},
    {HC_SEC_CASE, "tags", HC_KIND_FN, 0, 0, 0, C_(info.tags), NULL, read_tags, NULL, "none",
     "comma list of tags (`A-Za-z0-9_.:/-`, up to 16) for `gapcheck run --tag`"},
    {HC_SEC_CASE, "timeout", HC_KIND_POSITIVE, 0, 0, 86400, C_(info.timeout_s), NULL, NULL,
     "seconds", "60",
     "seconds for the whole case (the runner kills it after `timeout` x `--timeout`)"},
    {HC_SEC_CASE, "mode", HC_KIND_FN, 0, 0, 0, C_(info.modes), NULL, read_mode, NULL, "`both`",
     "`thread`, `process`, or `both` (two runs: thread, then process)"},
    {HC_SEC_CASE, "workers", HC_KIND_U32, 0, 1, GC_WORKERS_MAX, C_(workers), NULL, NULL, NULL,
     "1", "workers, 1..256"},
    {HC_SEC_CASE, "tasks", HC_KIND_U32, 0, 1, GC_TASKS_MAX, C_(tasks), NULL, NULL, NULL,
     "= `workers`", "tasks, 1..1000000"},
    {HC_SEC_CASE, "task_timeout_ms", HC_KIND_U32, 0, 0, UINT32_MAX, C_(task_timeout_ms), NULL,
     NULL, NULL, "0", "per-task deadline in ms; 0 = none"},
    {HC_SEC_CASE, "xfail", HC_KIND_TEXT, 0, 1, 0, C_(info.xfail), NULL, NULL, "a reason",
     "not xfail",
     "the reason the case is expected to fail (it then counts as passed when it fails, and as "
     "failed, `xpass`, when it passes)"},
    {HC_SEC_CASE, "requires", HC_KIND_FN, 0, 0, 0, C_(info.requires), NULL, read_requires, NULL,
     "none",
     "comma list of requirements, below; a case whose requirements are not met is skipped, "
     "with the reason"},

    /* [state] */
    {HC_SEC_STATE, "heavy_zone", HC_KIND_CHOICE, 0, 0, 0, C_(zone_none), "published|none", NULL,
     NULL, "`published`",
     "`published`: the state gets a published heavy zone holding the entries below, even when "
     "there are none (an *empty* zone); `none`: the state has no heavy zone at all (no "
     "`[heavy.*]`/`[output.*]` allowed)"},
    {HC_SEC_STATE, "outputs", HC_KIND_CHOICE, 0, 0, 0, C_(outputs_frozen), "writable|frozen",
     NULL, NULL, "`writable`",
     "`frozen`: after publishing, the zone's outputs are made final (`gc_zone_freeze_outputs`), "
     "so no context may bind them writable: a contract naming one is refused by the factory "
     "(`EREADONLY`). Needs at least one `[output.*]`"},

    /* [domain] */
    {HC_SEC_DOMAIN, "NAME", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_domain, NULL, "",
     "`TYPE:VALUE` (types below): a small value copied into every context, inserted in file "
     "order"},

    /* [contract] */
    {HC_SEC_CONTRACT, "domain_reads", HC_KIND_NAMES, 0, 0, 0, C_(domain_reads), NULL, NULL,
     "domain key", "", "comma list of domain keys"},
    {HC_SEC_CONTRACT, "heavy_reads", HC_KIND_NAMES, 0, 0, 0, C_(heavy_reads), NULL, NULL, "entry",
     "", "comma list of heavy (input) entries, in the order the process reads them"},
    {HC_SEC_CONTRACT, "outputs", HC_KIND_NAMES, 0, 0, 0, C_(outputs), NULL, NULL, "entry", "",
     "comma list of output entries"},
    {HC_SEC_CONTRACT, "domain_writes", HC_KIND_NAMES, 0, 0, 0, C_(domain_writes), NULL, NULL,
     "domain key", "",
     "comma list of domain keys the process may write (its write set; committed after the "
     "task succeeds, see engine/README.md)"},
    {HC_SEC_CONTRACT, "return_key", HC_KIND_IDENT, 0, 0, 0, C_(return_key), NULL, NULL, NULL,
     "none",
     "a declared write that receives the process's returned value; it wins over a set of the "
     "same key during the run"},
    {HC_SEC_CONTRACT, "events", HC_KIND_BOOL, 0, 0, 0, C_(events), NULL, NULL, NULL, "`false`",
     "`true`: the process may emit events (delivered to a counting subscriber after install)"},
    {HC_SEC_CONTRACT, "outbox", HC_KIND_BOOL, 0, 0, 0, C_(outbox), NULL, NULL, NULL, "`false`",
     "`true`: the process may send outbox messages (delivered to a recording sink after "
     "install)"},

    /* [expect] */
    {HC_SEC_EXPECT, "status", HC_KIND_STATUS, 0, 0, 0, C_(status_all), NULL, NULL, STATUS_NAMES,
     "`ok`",
     "status of every task: `ok` or an error name (`EINVAL`, `ENOTFOUND`, `ECONTRACT`, "
     "`EREADONLY`, `ECRASH`, `EEXIT`, `ETIMEOUT`, `EUNSUPPORTED`, `EPROC`, ... with or without "
     "`GC_`, any case)"},
    {HC_SEC_EXPECT, "status.N", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_task_n, STATUS_NAMES, "",
     "status of task N only (overrides `status`); N < `tasks`"},
    {HC_SEC_EXPECT, "signal.N", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_task_n, NULL,
     "not checked",
     "the signal that ended task N's worker (`SIGSEGV`, `SIGABRT`, `SIGKILL`, ... or a number); "
     "pair it with `status.N = ECRASH`"},
    {HC_SEC_EXPECT, "text.N", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_task_n, NULL, "not checked",
     "exact text of task N, whatever its status"},
    {HC_SEC_EXPECT, "text_contains.N", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_task_n, NULL,
     "not checked", "a substring of task N's text, whatever its status (e.g. `killed`)"},
    {HC_SEC_EXPECT, "sent.N", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_task_n, NULL, "not checked",
     "`false`: task N never reached a worker (its result names no process: the context was "
     "refused before dispatch); `true`: a worker got it"},
    {HC_SEC_EXPECT, "value", HC_KIND_FN, 0, 0, 0, C_(value), NULL, read_value, NULL,
     "not checked",
     "the value every task expected `ok` must return: `checksum` = `gc_checksum` chained, from "
     "`GC_CHECKSUM_SEED`, over the contract's `heavy_reads` in contract order, **computed by the "
     "harness in the main process from the state it built** (never a number written in the "
     "file); `touch` = the sum of the first and last byte of each of those entries (what the "
     "`touch` process returns); or an integer"},
    {HC_SEC_EXPECT, "text", HC_KIND_HEAPTEXT, 0, 0, GC_RESULT_TEXT_MAX, C_(text), NULL, NULL, NULL,
     "not checked", "exact text every task expected `ok` must return"},
    {HC_SEC_EXPECT, "text_contains", HC_KIND_HEAPTEXT, 0, 0, GC_RESULT_TEXT_MAX,
     C_(text_contains), NULL, NULL, NULL, "not checked",
     "a substring of every task's text, whatever its status (e.g. the entry name in an error "
     "reason)"},
    {HC_SEC_EXPECT, "output.NAME", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_output_exp, NULL,
     "not checked",
     "`pattern:zero`, `pattern:sequence`, `pattern:random:SEED`: before every round the main "
     "process sets output NAME to the complement of that pattern, and after the round reads it "
     "back: it must equal the pattern from its first byte to its last (so every byte was "
     "written in that round)"},
    {HC_SEC_EXPECT, "heavy_unchanged", HC_KIND_BOOL, 0, 0, 0, C_(heavy_unchanged), NULL, NULL,
     NULL, "`false`",
     "`true`: the checksum of every heavy (input) entry, taken in the main process before and "
     "after the run, is the same"},
    {HC_SEC_EXPECT, "max_wall_ms", HC_KIND_POSITIVE, 0, 0, 0, C_(max_wall_ms), NULL, NULL, "ms",
     "none",
     "limit on the wall time of the whole `gc_execute_parallel` call (the median round with "
     "`[run] rounds`)"},
    {HC_SEC_EXPECT, "setup", HC_KIND_STATUS, 0, 0, 0, C_(setup_status), NULL, NULL, STATUS_NAMES,
     "`ok`",
     "under `[run]` limits: the status of building the state (zone allocation, publishing), "
     "e.g. `ESYS`; a failed setup must leave no state behind"},
    {HC_SEC_EXPECT, "run", HC_KIND_STATUS, 0, 0, 0, C_(run_status), NULL, NULL, STATUS_NAMES,
     "`ok`",
     "under `[run]` limits: what `gc_execute_parallel` itself returns (e.g. `ESYS` when no "
     "worker can be started)"},
    {HC_SEC_EXPECT, "state.NAME", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_state_exp, NULL,
     "not checked",
     "`TYPE:VALUE`: after the last round the state's committed value of domain key NAME, read "
     "back (the status alone never proves a write)"},
    {HC_SEC_EXPECT, "version", HC_KIND_FN, 0, 0, UINT32_MAX, C_(version_exp), NULL, read_count,
     NULL, "not checked", "the state's version after the last round (commits made)"},
    {HC_SEC_EXPECT, "committed", HC_KIND_FN, 0, 0, GC_TASKS_MAX, C_(committed_exp), NULL,
     read_count, NULL, "not checked", "tasks of the last round whose write set was installed"},
    {HC_SEC_EXPECT, "events", HC_KIND_FN, 0, 0, UINT32_MAX, C_(events_exp), NULL, read_count,
     NULL, "not checked",
     "event deliveries in the last round; each must also have seen its task's committed "
     "version"},
    {HC_SEC_EXPECT, "messages", HC_KIND_FN, 0, 0, UINT32_MAX, C_(messages_exp), NULL,
     read_count, NULL, "not checked",
     "outbox deliveries in the last round; each message id must arrive at most once"},
    {HC_SEC_EXPECT, "history", HC_KIND_CHOICE, 0, 0, 0, C_(history_check), "unchecked|consistent",
     NULL, NULL, "`unchecked`",
     "`consistent`: every round's attempt history (with `process = list_append`, the "
     "contract's writes as list keys) is checked for anomalies before any other expectation: "
     "missing, duplicated or phantom appends, stale reads, lost updates, deliveries of "
     "attempts not installed, versions not strictly increasing (see *History*); needs "
     "`callers` 1"},
    {HC_SEC_EXPECT, "undeclared_reads", HC_KIND_FN, 0, 0, UINT32_MAX, C_(undeclared_exp), NULL,
     read_count, NULL, "not checked",
     "undeclared domain reads allowed and counted in the last round, summed over its tasks "
     "(`[run] strict_contracts = false`)"},
    {HC_SEC_EXPECT, "rss_growth_kb_max", HC_KIND_FN, 0, 0, UINT32_MAX, C_(rss_growth_kb_max), NULL,
     read_rss_growth, NULL, "not checked",
     "limit on the growth of the case process's RSS from the end of round 1 to the end of the "
     "last round"},

    {HC_SEC_EXPECT, "workers_started", HC_KIND_U32, 0, 0, 1000000, C_(exp_workers_started), NULL,
     NULL, NULL, "not checked",
     "pool worker processes forked over the whole case, replacements included "
     "(`gc_engine_stats`, read after the last round); 0 in a thread-mode case"},
    {HC_SEC_EXPECT, "workers_replaced", HC_KIND_U32, 0, 0, 1000000, C_(exp_workers_replaced),
     NULL, NULL, NULL, "not checked",
     "of those, replacements of workers that died or were killed (crash, deadline, bad reply)"},
    {HC_SEC_EXPECT, "pool_restarts", HC_KIND_U32, 0, 0, 1000000, C_(exp_pool_restarts), NULL,
     NULL, NULL, "not checked",
     "pools stopped and started again because a process was registered after the pool started "
     "(see `[run] register_every`)"},

    /* [run] */
    {HC_SEC_RUN, "rounds", HC_KIND_U32, 0, 1, 1000000, C_(rounds), NULL, NULL, NULL, "1",
     "calls on the same engine (1..1000000); "
     "task expectations and outputs are checked after every round, end-of-run ones "
     "(`heavy_unchanged`, counters, claims) after the last"},
    {HC_SEC_RUN, "new_generation_every", HC_KIND_U32, 0, 0, 1000000, C_(new_generation_every),
     NULL, NULL, NULL, "0",
     "build and publish a new heavy zone (a new generation) every N rounds; 0 = never"},
    {HC_SEC_RUN, "alternate_mode", HC_KIND_BOOL, 0, 0, 0, C_(alternate_mode), NULL, NULL, NULL,
     "`false`",
     "`true`: odd rounds run in the other worker mode (mixed thread and process rounds on one "
     "pool)"},
    {HC_SEC_RUN, "register_every", HC_KIND_U32, 0, 0, 1000000, C_(register_every), NULL, NULL,
     NULL, "0",
     "every N rounds (from round N+1 on) the case's process is registered again under a new "
     "name, and the following rounds call that name: workers forked before know only the old "
     "names, so the pool must restart; 0 = never"},
    {HC_SEC_RUN, "callers", HC_KIND_U32, 0, 1, 64, C_(callers), NULL, NULL, NULL, "1",
     "threads of the main process calling `gc_execute_parallel` at the same time, each "
     "`rounds` times (1..64); needs `new_generation_every = 0`"},
    {HC_SEC_RUN, "limit_nofile", HC_KIND_FN, 0, 0, 1 << 20, C_(limit_nofile), NULL,
     read_limit_nofile, NULL, "no limit",
     "the state is built and one round runs with `RLIMIT_NOFILE` set so that only N more "
     "descriptors can be opened (0..1048576)"},
    {HC_SEC_RUN, "limit_as", HC_KIND_SIZE, 0, 1, 0, C_(limit_as), NULL, NULL, NULL, "no limit",
     "the same with `RLIMIT_AS` set to the current address-space size plus SIZE (`64MiB`)"},
    {HC_SEC_RUN, "retries", HC_KIND_U32, 0, 0, GC_RETRIES_MAX, C_(retries), NULL, NULL, NULL, "0",
     "times a task whose commit conflicts runs again on a fresh context (0..1000); past them "
     "its status is `ECONFLICT`"},
    {HC_SEC_RUN, "commit", HC_KIND_CHOICE, 0, 0, 0, C_(commit_strict), "smart|strict", NULL, NULL,
     "`smart`",
     "optimistic check: `smart`, no key the task writes changed after its base; `strict`, the "
     "state's version is still its base"},
    {HC_SEC_RUN, "strict_contracts", HC_KIND_BOOL, 0, 0, 0, C_(strict_contracts), NULL, NULL,
     NULL, "`true`",
     "`false`: an undeclared domain read is allowed and counted instead of refused"},
    {HC_SEC_RUN, "rule", HC_KIND_FN, 0, 0, 0, 0, 0, NULL, read_rule, "KEY:MIN..MAX", "none",
     "`KEY:MIN..MAX`: a validation rule, every committed write of KEY must be an int in "
     "[MIN, MAX]; a write outside is refused at commit (`EVALIDATE`) with nothing of its "
     "attempt installed or delivered"},
    {HC_SEC_RUN, "warm_default", HC_KIND_BOOL, 0, 0, 0, C_(warm_default), NULL, NULL, NULL,
     "`false`",
     "`true`: before the rounds one run of the case on the engine's default configuration "
     "(strict contracts, smart commit) starts its workers and is not judged; then `commit` and "
     "`strict_contracts` are set on the same engine, whose warm workers must obey them"},
    {HC_SEC_RUN, "recover", HC_KIND_BOOL, 0, 0, 0, C_(recover), NULL, NULL, NULL, "`false`",
     "`true`: after the limited attempt the limits are lifted and the same engine must make a "
     "normal run that meets every expectation"},

    /* [heavy.NAME] */
    {HC_SEC_HEAVY, "size", HC_KIND_SIZE, 1, 0, 0, E_(size), NULL, NULL, NULL, "",
     "A count and a unit: `B`, `KiB`, `MiB`, `GiB` (`100MiB`, `4097B`). The unit is mandatory. "
     "Max 1 TiB"},
    {HC_SEC_HEAVY, "fill", HC_KIND_FN, 1, 0, 0, E_(fill), NULL, read_fill,
     "zero, sequence, random:SEED or random", "",
     "`zero`, `sequence` (byte at offset o is o mod 256), `random:SEED` (seeded, reproducible; "
     "SEED decimal or `0x` hex), or `random` (the seed is derived from the run's `--seed` and "
     "the entry name, see *Seeds*)"},

    /* [output.NAME] */
    {HC_SEC_OUTPUT, "size", HC_KIND_SIZE, 1, 0, 0, E_(size), NULL, NULL, NULL, "",
     "as for `[heavy.NAME]`. Outputs start zeroed; there is no `fill`"},

    /* [claim.NAME] */
    {HC_SEC_CLAIM, "text", HC_KIND_TEXT, 1, 0, 0, L_(text), NULL, NULL, NULL, "",
     "The claim as the incident words it"},
    {HC_SEC_CLAIM, "metric", HC_KIND_FN, 1, 0, 0, L_(metric), NULL, read_metric, NULL, "",
     "The measured metric it is compared with (below)"},
    {HC_SEC_CLAIM, "claimed", HC_KIND_POSITIVE, 1, 0, 0, L_(claimed), NULL, NULL, NULL, "",
     "The limit: the claim holds when measured <= claimed"},
    {HC_SEC_CLAIM, "unit", HC_KIND_TEXT, 1, 0, 0, L_(unit), NULL, NULL, NULL, "",
     "Must be the metric's unit (`ms` for all of them)"},
};
const size_t hc__nkeys = sizeof hc__keys / sizeof hc__keys[0];

/* --------------------------------------------------------------------- */
/* Lookups and generated text                                             */

const hc_section_def *hc__section_def(hc_section_kind sec)
{
    for (size_t i = 0; i < hc__nsections; i++)
        if (hc__sections[i].sec == sec)
            return &hc__sections[i];
    return NULL;
}

/* "status.N" and "output.NAME" stand for every key with that prefix; "NAME"
 * alone for any key at all. */
static int key_matches(const char *pattern, const char *name)
{
    if (strcmp(pattern, "NAME") == 0)
        return 1;
    const char *dot = strchr(pattern, '.');
    if (dot && (strcmp(dot + 1, "N") == 0 || strcmp(dot + 1, "NAME") == 0))
        return strncmp(name, pattern, (size_t)(dot - pattern) + 1) == 0;
    return strcmp(pattern, name) == 0;
}

const hc_key_def *hc__key_find(hc_section_kind sec, const char *name)
{
    for (size_t i = 0; i < hc__nkeys; i++)
        if (hc__keys[i].sec == sec && key_matches(hc__keys[i].name, name))
            return &hc__keys[i];
    return NULL;
}

static void append(char *buf, size_t len, size_t *used, const char *s)
{
    int n = snprintf(buf + *used, len > *used ? len - *used : 0, "%s", s);
    if (n > 0)
        *used += (size_t)n;
    if (*used >= len)
        *used = len ? len - 1 : 0;
}

void hc__keys_known(hc_section_kind sec, char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < hc__nkeys; i++) {
        if (hc__keys[i].sec != sec)
            continue;
        if (used)
            append(buf, len, &used, ", ");
        append(buf, len, &used, hc__keys[i].name);
    }
    const hc_section_def *s = hc__section_def(sec);
    if (s && s->note) {
        append(buf, len, &used, "; ");
        append(buf, len, &used, s->note);
    }
}

void hc__sections_known(char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < hc__nsections; i++) {
        if (used)
            append(buf, len, &used, ", ");
        append(buf, len, &used, hc__sections[i].name);
        if (hc__sections[i].named)
            append(buf, len, &used, ".NAME");
    }
}

int hc__keys_markdown(FILE *f, hc_section_kind sec)
{
    int bad = fputs("| key | value | default |\n| --- | --- | --- |\n", f) < 0;
    for (size_t i = 0; i < hc__nkeys; i++) {
        const hc_key_def *k = &hc__keys[i];
        if (k->sec != sec)
            continue;
        bad |= fprintf(f, "| `%s` | %s%s |%s%s |\n", k->name, k->required ? "**required**. " : "",
                       k->doc, *k->dflt ? " " : "", k->dflt) < 0;
    }
    return bad ? -1 : 0;
}
