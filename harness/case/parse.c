/* harness case module, parser: turns a case file (INI, read with inih) into a
 * validated struct hc_case, or into one hc_error naming file, line, key and
 * reason. inih is driven through ini_parse_stream with our own line reader so
 * that every key and section is tied to its line, NUL bytes and over-long lines
 * are refused instead of silently cut, and sections are seen even when empty
 * (inih itself reports only key/value pairs). The format is documented in
 * cases/README.md; this file is its reference implementation. Everything
 * allocated here belongs to the hc_case and is released by hc_case_free. */
#include "case_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

const hc_metric_def hc__metrics[] = {
    {"wall_ms", "ms", "wall time of the whole gc_execute_parallel call"},
    {"task_wall_ms", "ms", "median of the tasks' wall_ns (dispatch to result)"},
    {"task_exec_ms", "ms", "median of the tasks' exec_ns (inside the process function)"},
    {"handoff_ms", "ms", "median task wall time of the 'touch' process (entry mapped, first and last byte read)"},
    {"handoff_max_ms", "ms", "slowest task wall time of the 'touch' process (includes each worker's first mapping)"},
};
const size_t hc__nmetrics = sizeof hc__metrics / sizeof hc__metrics[0];

/* --------------------------------------------------------------------- */
/* Parser state and error reporting                                       */

typedef enum hc_section_kind {
    HC_SEC_NONE = 0,
    HC_SEC_CASE,
    HC_SEC_STATE,
    HC_SEC_DOMAIN,
    HC_SEC_CONTRACT,
    HC_SEC_EXPECT,
    HC_SEC_HEAVY,
    HC_SEC_OUTPUT,
    HC_SEC_CLAIM,
    HC_SEC_RUN,
    HC_SEC_COUNT
} hc_section_kind;

static const char *const hc_simple_sections[HC_SEC_COUNT] = {
    [HC_SEC_CASE] = "case",     [HC_SEC_STATE] = "state",   [HC_SEC_DOMAIN] = "domain",
    [HC_SEC_CONTRACT] = "contract", [HC_SEC_EXPECT] = "expect", [HC_SEC_RUN] = "run",
};

typedef struct hc_seen_key {
    char *key;                      /* "section.key" */
    int line;
} hc_seen_key;

typedef struct hc_parser {
    hc_case *c;
    hc_error *err;
    int failed;
    int rc;                         /* status of the first error */
    const char *text;               /* NUL-terminated copy of the input */
    size_t len, pos;
    int line;                       /* line most recently handed to inih */
    hc_section_kind sec;            /* current section, from the reader */
    char sec_name[256];             /* as written between the brackets */
    size_t sec_index;               /* entry or claim index for named sections */
    int sec_line[HC_SEC_COUNT];     /* header line of each simple section, 0 = absent */
    hc_seen_key *seen;
    size_t nseen, capseen;
    /* Lines of keys that later checks refer to. */
    int line_of[32];
} hc_parser;

enum {
    L_ID, L_TITLE, L_PROCESS, L_WORKERS, L_TASKS, L_MODE, L_VALUE, L_TEXT, L_MAXWALL,
    L_TIMEOUT, L_TASK_TIMEOUT, L_HEAVY_ZONE, L_STATUS, L_CALLERS, L_SETUP, L_COUNT
};

static int hc_fail(hc_parser *p, int line, const char *key, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Records the first error only: later ones are usually its consequences. */
static int hc_fail(hc_parser *p, int line, const char *key, int rc, const char *fmt, ...)
{
    if (p->failed)
        return 0;
    p->failed = 1;
    p->rc = rc;
    p->err->line = line;
    snprintf(p->err->key, sizeof p->err->key, "%s", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    return 0;
}

static char *hc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* --------------------------------------------------------------------- */
/* Value syntax helpers: strict, whole-string, range-checked.             */

static int parse_i64(const char *s, int64_t *out)
{
    if (!*s || isspace((unsigned char)*s))
        return -1;
    const char *digits = s + (*s == '-' || *s == '+');
    int base = (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) ? 16 : 10;
    if (base == 16 && *s == '-')
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (errno || end == s || *end)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    int64_t v;
    if (parse_i64(s, &v) || v < (int64_t)lo || v > (int64_t)hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s))
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* "100MiB": a decimal count and a unit (B, KiB, MiB, GiB); the unit is
 * required so that no one has to guess whether 100 means bytes. */
static int parse_size(const char *s, uint64_t *out)
{
    static const struct { const char *unit; unsigned shift; } units[] = {
        {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30},
    };
    const char *q = s;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == s || q - s > 15)
        return -1;
    uint64_t n = 0;
    for (const char *d = s; d < q; d++)
        n = n * 10 + (uint64_t)(*d - '0');
    while (*q == ' ')
        q++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(q, units[i].unit) == 0) {
            if (n > (GC_ZONE_ENTRY_MAX >> units[i].shift))
                return -2;
            *out = n << units[i].shift;
            return 0;
        }
    }
    return -1;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* An id, tag or incident: [A-Za-z0-9_.:/-], first char alphanumeric. */
static int ident_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max || !isalnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && !strchr("_.:/-", ch))
            return 0;
    }
    return 1;
}

/* Split a comma list into trimmed items; an empty value is an empty list.
 * Calls fn for each item; stops at the first failure. */
typedef int (*hc_item_fn)(hc_parser *p, const char *key, const char *item, void *arg);

static int for_each_item(hc_parser *p, const char *key, const char *value, hc_item_fn fn,
                         void *arg)
{
    if (!*value)
        return 1;
    char item[512];
    const char *s = value;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (n == 0)
            return hc_fail(p, p->line, key, GC_EINVAL, "empty item in comma list '%s'", value);
        if (n >= sizeof item)
            return hc_fail(p, p->line, key, GC_EINVAL, "list item of %zu bytes is too long", n);
        memcpy(item, s, n);
        item[n] = '\0';
        if (!fn(p, key, item, arg))
            return 0;
        if (!comma)
            return 1;
        s = comma + 1;
    }
}

/* --------------------------------------------------------------------- */
/* Key bookkeeping                                                         */

/* Duplicate keys are refused: inih would hand both to us and the last would
 * silently win, which hides copy-paste mistakes in expectations. */
static int note_key(hc_parser *p, const char *full)
{
    for (size_t i = 0; i < p->nseen; i++)
        if (strcmp(p->seen[i].key, full) == 0)
            return hc_fail(p, p->line, full, GC_EEXIST, "duplicate key (first set at line %d)",
                           p->seen[i].line);
    if (p->nseen == p->capseen) {
        size_t cap = p->capseen ? p->capseen * 2 : 32;
        hc_seen_key *v = realloc(p->seen, cap * sizeof *v);
        if (!v)
            return hc_fail(p, p->line, full, GC_ENOMEM, "out of memory");
        p->seen = v;
        p->capseen = cap;
    }
    char *k = hc_strdup(full);
    if (!k)
        return hc_fail(p, p->line, full, GC_ENOMEM, "out of memory");
    p->seen[p->nseen++] = (hc_seen_key){k, p->line};
    return 1;
}

static int set_text(hc_parser *p, const char *key, const char *value, char *dst, size_t cap)
{
    size_t n = strlen(value);
    if (n >= cap)
        return hc_fail(p, p->line, key, GC_ELIMIT, "value is %zu bytes long (limit %zu)", n,
                       cap - 1);
    memcpy(dst, value, n + 1);
    return 1;
}

/* --------------------------------------------------------------------- */
/* Sections                                                               */

static int find_entry(const hc_case *c, const char *name)
{
    for (size_t i = 0; i < c->nentries; i++)
        if (strcmp(c->entries[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Called by the reader for each "[...]" line, before inih sees it. */
static int section_begin(hc_parser *p, const char *name)
{
    hc_case *c = p->c;
    snprintf(p->sec_name, sizeof p->sec_name, "%s", name);
    for (int k = 1; k < HC_SEC_COUNT; k++) {
        if (hc_simple_sections[k] && strcmp(name, hc_simple_sections[k]) == 0) {
            if (p->sec_line[k])
                return hc_fail(p, p->line, name, GC_EEXIST,
                               "section [%s] appears twice (first at line %d)", name,
                               p->sec_line[k]);
            p->sec_line[k] = p->line;
            p->sec = (hc_section_kind)k;
            /* An empty [contract] is a real contract that grants nothing,
             * unlike no [contract], which means the registered one. */
            if (k == HC_SEC_CONTRACT)
                c->has_contract = 1;
            return 1;
        }
    }
    const char *dot = strchr(name, '.');
    size_t plen = dot ? (size_t)(dot - name) : 0;
    if (dot && (plen == 5 || plen == 6) &&
        (strncmp(name, "heavy", plen) == 0 || strncmp(name, "output", plen) == 0 ||
         strncmp(name, "claim", plen) == 0)) {
        const char *sub = dot + 1;
        gc_err ge;
        if (strncmp(name, "claim", plen) == 0) {
            if (gc_name_check(sub, "claim", &ge) != GC_OK)
                return hc_fail(p, p->line, name, GC_EINVAL, "bad section name: %s", ge.msg);
            for (int i = 0; i < c->nclaims; i++)
                if (strcmp(c->claims[i].name, sub) == 0)
                    return hc_fail(p, p->line, name, GC_EEXIST,
                                   "claim '%s' declared twice (first at line %d)", sub,
                                   c->claims[i].line);
            if (c->nclaims == HC_CLAIMS_MAX)
                return hc_fail(p, p->line, name, GC_ELIMIT, "more than %d claims",
                               HC_CLAIMS_MAX);
            hc_claim_spec *cl = &c->claims[c->nclaims];
            memset(cl, 0, sizeof *cl);
            snprintf(cl->name, sizeof cl->name, "%s", sub);
            cl->line = p->line;
            p->sec_index = (size_t)c->nclaims++;
            p->sec = HC_SEC_CLAIM;
            return 1;
        }
        int output = strncmp(name, "output", plen) == 0;
        const char *what = output ? "output entry" : "heavy entry";
        if (gc_name_check(sub, what, &ge) != GC_OK)
            return hc_fail(p, p->line, name, GC_EINVAL, "bad section name: %s", ge.msg);
        int prev = find_entry(c, sub);
        if (prev >= 0)
            return hc_fail(p, p->line, name, GC_EEXIST,
                           "entry '%s' declared twice (first as [%s.%s] at line %d); heavy and "
                           "output entries share one namespace",
                           sub, c->entries[prev].output ? "output" : "heavy", sub,
                           c->entries[prev].line);
        if (c->nentries == GC_HEAVY_MAX)
            return hc_fail(p, p->line, name, GC_ELIMIT, "more than %d heavy/output entries",
                           GC_HEAVY_MAX);
        hc_entry *v = realloc(c->entries, (c->nentries + 1) * sizeof *v);
        if (!v)
            return hc_fail(p, p->line, name, GC_ENOMEM, "out of memory");
        c->entries = v;
        hc_entry *e = &c->entries[c->nentries];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", sub);
        e->output = output;
        e->line = p->line;
        p->sec_index = c->nentries++;
        p->sec = output ? HC_SEC_OUTPUT : HC_SEC_HEAVY;
        return 1;
    }
    return hc_fail(p, p->line, name, GC_EINVAL,
                   "unknown section [%s] (known: case, state, domain, contract, expect, "
                   "heavy.NAME, output.NAME, claim.NAME)",
                   name);
}

/* --------------------------------------------------------------------- */
/* Keys, per section                                                      */

static int add_tag(hc_parser *p, const char *key, const char *item, void *arg)
{
    (void)arg;
    hc_case_info *in = &p->c->info;
    if (!ident_ok(item, sizeof in->tags[0]))
        return hc_fail(p, p->line, key, GC_EINVAL,
                       "tag '%s' is not 1..63 chars of [A-Za-z0-9_.:/-] starting alphanumeric",
                       item);
    for (int i = 0; i < in->ntags; i++)
        if (strcmp(in->tags[i], item) == 0)
            return hc_fail(p, p->line, key, GC_EEXIST, "tag '%s' listed twice", item);
    if (in->ntags == HC_TAGS_MAX)
        return hc_fail(p, p->line, key, GC_ELIMIT, "more than %d tags", HC_TAGS_MAX);
    snprintf(in->tags[in->ntags++], sizeof in->tags[0], "%s", item);
    return 1;
}

/* The closed set of requirements; hc_case_requires_met gives their meaning. */
static int requirement_ok(const char *r)
{
    if (strcmp(r, "memfd") == 0 || strcmp(r, "seals") == 0 || strcmp(r, "valgrind") == 0 ||
        strcmp(r, "native-limits") == 0)
        return 1;
    uint32_t n;
    uint64_t sz;
    if (strncmp(r, "cores>=", 7) == 0)
        return parse_u32(r + 7, 1, 4096, &n) == 0;
    if (strncmp(r, "mem>=", 5) == 0)
        return parse_size(r + 5, &sz) == 0;
    return 0;
}

static int add_requirement(hc_parser *p, const char *key, const char *item, void *arg)
{
    (void)arg;
    hc_case_info *in = &p->c->info;
    if (!requirement_ok(item))
        return hc_fail(p, p->line, key, GC_EINVAL,
                       "unknown requirement '%s' (known: memfd, seals, valgrind, native-limits, "
                       "cores>=N, mem>=SIZE)",
                       item);
    if (in->nrequires == HC_REQUIRES_MAX)
        return hc_fail(p, p->line, key, GC_ELIMIT, "more than %d requirements",
                       HC_REQUIRES_MAX);
    snprintf(in->requires[in->nrequires++], sizeof in->requires[0], "%s", item);
    return 1;
}

static int key_case(hc_parser *p, const char *name, const char *value, const char *key)
{
    hc_case *c = p->c;
    hc_case_info *in = &c->info;
    if (strcmp(name, "id") == 0) {
        if (!ident_ok(value, sizeof in->id))
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "id '%s' is not 1..%zu chars of [A-Za-z0-9_.:/-] starting "
                           "alphanumeric",
                           value, sizeof in->id - 1);
        p->line_of[L_ID] = p->line;
        return set_text(p, key, value, in->id, sizeof in->id);
    }
    if (strcmp(name, "title") == 0) {
        if (!*value)
            return hc_fail(p, p->line, key, GC_EINVAL, "title is empty");
        p->line_of[L_TITLE] = p->line;
        return set_text(p, key, value, in->title, sizeof in->title);
    }
    if (strcmp(name, "incident") == 0) {
        if (*value && !ident_ok(value, sizeof in->incident))
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "incident '%s' is not an identifier like INC-014", value);
        return set_text(p, key, value, in->incident, sizeof in->incident);
    }
    if (strcmp(name, "tags") == 0)
        return for_each_item(p, key, value, add_tag, NULL);
    if (strcmp(name, "timeout") == 0) {
        double t;
        if (parse_double(value, &t) || t <= 0 || t > 86400)
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "timeout '%s' is not a number of seconds in (0, 86400]", value);
        in->timeout_s = t;
        return 1;
    }
    if (strcmp(name, "mode") == 0) {
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
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "mode '%s' is not one of thread, process, both", value);
        }
        return 1;
    }
    if (strcmp(name, "workers") == 0) {
        if (parse_u32(value, 1, GC_WORKERS_MAX, &c->workers))
            return hc_fail(p, p->line, key, GC_EINVAL, "workers '%s' is not an integer in 1..%d",
                           value, GC_WORKERS_MAX);
        p->line_of[L_WORKERS] = p->line;
        return 1;
    }
    if (strcmp(name, "tasks") == 0) {
        if (parse_u32(value, 1, GC_TASKS_MAX, &c->tasks))
            return hc_fail(p, p->line, key, GC_EINVAL, "tasks '%s' is not an integer in 1..%u",
                           value, GC_TASKS_MAX);
        p->line_of[L_TASKS] = p->line;
        return 1;
    }
    if (strcmp(name, "process") == 0) {
        /* Checked against the engine's own table, so a typo is an error at
         * its line and a new built-in needs no change here. */
        if (gc_builtins_has(value)) {
            p->line_of[L_PROCESS] = p->line;
            return set_text(p, key, value, c->process, sizeof c->process);
        }
        return hc_fail(p, p->line, key, GC_ENOTFOUND, "process '%s' is not a built-in (%s)", value,
                       gc_builtins_list());
    }
    if (strcmp(name, "task_timeout_ms") == 0) {
        if (parse_u32(value, 0, UINT32_MAX, &c->task_timeout_ms))
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "task_timeout_ms '%s' is not an integer in 0..%u", value, UINT32_MAX);
        p->line_of[L_TASK_TIMEOUT] = p->line;
        return 1;
    }
    if (strcmp(name, "xfail") == 0) {
        if (!*value)
            return hc_fail(p, p->line, key, GC_EINVAL, "xfail needs a reason");
        return set_text(p, key, value, in->xfail, sizeof in->xfail);
    }
    if (strcmp(name, "requires") == 0)
        return for_each_item(p, key, value, add_requirement, NULL);
    return hc_fail(p, p->line, key, GC_EINVAL,
                   "unknown key in [case] (known: id, title, incident, tags, timeout, mode, "
                   "workers, tasks, process, task_timeout_ms, xfail, requires)");
}

static int key_state(hc_parser *p, const char *name, const char *value, const char *key)
{
    if (strcmp(name, "heavy_zone") == 0) {
        if (strcmp(value, "published") == 0)
            p->c->zone_none = 0;
        else if (strcmp(value, "none") == 0)
            p->c->zone_none = 1;
        else
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "heavy_zone '%s' is not one of published, none", value);
        p->line_of[L_HEAVY_ZONE] = p->line;
        return 1;
    }
    return hc_fail(p, p->line, key, GC_EINVAL, "unknown key in [state] (known: heavy_zone)");
}

/* [run]: repeated calls, concurrent callers, resource limits, recovery. */
static int key_run(hc_parser *p, const char *name, const char *value, const char *key)
{
    hc_case *c = p->c;
    if (strcmp(name, "rounds") == 0) {
        if (parse_u32(value, 1, 1000000, &c->rounds))
            return hc_fail(p, p->line, key, GC_EINVAL, "rounds '%s' is not an integer in 1..1000000",
                           value);
        return 1;
    }
    if (strcmp(name, "new_generation_every") == 0) {
        if (parse_u32(value, 0, 1000000, &c->new_generation_every))
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "new_generation_every '%s' is not an integer in 0..1000000", value);
        return 1;
    }
    if (strcmp(name, "alternate_mode") == 0 || strcmp(name, "recover") == 0) {
        int *dst = name[0] == 'a' ? &c->alternate_mode : &c->recover;
        if (parse_bool(value, dst))
            return hc_fail(p, p->line, key, GC_EINVAL, "%s '%s' is not true or false", name, value);
        return 1;
    }
    if (strcmp(name, "callers") == 0) {
        if (parse_u32(value, 1, 64, &c->callers))
            return hc_fail(p, p->line, key, GC_EINVAL, "callers '%s' is not an integer in 1..64",
                           value);
        p->line_of[L_CALLERS] = p->line;
        return 1;
    }
    if (strcmp(name, "limit_nofile") == 0) {
        if (parse_u32(value, 0, 1u << 20, &c->limit_nofile))
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "limit_nofile '%s' is not an integer in 0..1048576", value);
        c->limit_nofile_set = 1;
        return 1;
    }
    if (strcmp(name, "limit_as") == 0) {
        if (parse_size(value, &c->limit_as) || c->limit_as == 0)
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "limit_as '%s' is not a size with a unit (B, KiB, MiB, GiB)", value);
        return 1;
    }
    return hc_fail(p, p->line, key, GC_EINVAL,
                   "unknown key in [run] (known: rounds, new_generation_every, alternate_mode, "
                   "callers, limit_nofile, limit_as, recover)");
}

static int key_domain(hc_parser *p, const char *name, const char *value, const char *key)
{
    hc_case *c = p->c;
    gc_err ge;
    if (gc_name_check(name, "domain key", &ge) != GC_OK)
        return hc_fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
    if (c->ndomain == GC_DOMAIN_MAX)
        return hc_fail(p, p->line, key, GC_ELIMIT, "more than %d domain values", GC_DOMAIN_MAX);
    hc_domain_val dv;
    memset(&dv, 0, sizeof dv);
    snprintf(dv.name, sizeof dv.name, "%s", name);
    dv.line = p->line;
    if (strncmp(value, "int:", 4) == 0) {
        dv.type = GC_VAL_INT;
        if (parse_i64(value + 4, &dv.i))
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "'%s' is not a 64-bit integer (decimal or 0x hex)", value + 4);
    } else if (strncmp(value, "double:", 7) == 0) {
        dv.type = GC_VAL_DOUBLE;
        if (parse_double(value + 7, &dv.d))
            return hc_fail(p, p->line, key, GC_EINVAL, "'%s' is not a finite number",
                           value + 7);
    } else if (strncmp(value, "str:", 4) == 0) {
        dv.type = GC_VAL_STR;
        dv.len = strlen(value + 4);
        if (dv.len > GC_VALUE_BYTES_MAX)
            return hc_fail(p, p->line, key, GC_ELIMIT, "string of %zu bytes (limit %d)", dv.len,
                           GC_VALUE_BYTES_MAX);
        dv.data = (uint8_t *)hc_strdup(value + 4);
        if (!dv.data)
            return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
    } else if (strncmp(value, "bytes:hex:", 10) == 0) {
        const char *hex = value + 10;
        size_t n = strlen(hex);
        if (n % 2)
            return hc_fail(p, p->line, key, GC_EINVAL, "hex bytes have an odd digit count (%zu)",
                           n);
        if (n / 2 > GC_VALUE_BYTES_MAX)
            return hc_fail(p, p->line, key, GC_ELIMIT, "%zu bytes (limit %d)", n / 2,
                           GC_VALUE_BYTES_MAX);
        for (size_t i = 0; i < n; i++)
            if (hexval(hex[i]) < 0)
                return hc_fail(p, p->line, key, GC_EINVAL,
                               "'%c' at position %zu is not a hex digit", hex[i], i);
        dv.type = GC_VAL_BYTES;
        dv.len = n / 2;
        dv.data = malloc(dv.len ? dv.len : 1);
        if (!dv.data)
            return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
        for (size_t i = 0; i < dv.len; i++)
            dv.data[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    } else {
        return hc_fail(p, p->line, key, GC_EINVAL,
                       "value '%s' has no type prefix (int:, double:, str:, bytes:hex:)", value);
    }
    hc_domain_val *v = realloc(c->domain, (c->ndomain + 1) * sizeof *v);
    if (!v) {
        free(dv.data);
        return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
    }
    c->domain = v;
    c->domain[c->ndomain++] = dv;
    return 1;
}

static int add_name(hc_parser *p, const char *key, const char *item, void *arg)
{
    hc_names *ns = arg;
    gc_err ge;
    const char *what = ns == &p->c->domain_reads ? "domain key" : "entry";
    if (gc_name_check(item, what, &ge) != GC_OK)
        return hc_fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], item) == 0)
            return hc_fail(p, p->line, key, GC_EEXIST, "'%s' listed twice", item);
    char **v = realloc(ns->v, (ns->n + 1) * sizeof *v);
    if (!v)
        return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
    ns->v = v;
    if (!(ns->v[ns->n] = hc_strdup(item)))
        return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
    ns->n++;
    return 1;
}

static int key_contract(hc_parser *p, const char *name, const char *value, const char *key)
{
    hc_names *ns = NULL;
    if (strcmp(name, "domain_reads") == 0)
        ns = &p->c->domain_reads;
    else if (strcmp(name, "heavy_reads") == 0)
        ns = &p->c->heavy_reads;
    else if (strcmp(name, "outputs") == 0)
        ns = &p->c->outputs;
    else
        return hc_fail(p, p->line, key, GC_EINVAL,
                       "unknown key in [contract] (known: domain_reads, heavy_reads, outputs)");
    ns->set = 1;
    ns->line = p->line;
    return for_each_item(p, key, value, add_name, ns);
}

static int parse_status(hc_parser *p, const char *key, const char *value, int *out)
{
    if (gc_status_parse(value, out) != GC_OK)
        return hc_fail(p, p->line, key, GC_EINVAL,
                       "'%s' is not a status name (ok, EINVAL, ENOTFOUND, ECONTRACT, EREADONLY, "
                       "ECRASH, EEXIT, ETIMEOUT, EUNSUPPORTED, EPROC, ...)",
                       value);
    return 1;
}

static int key_expect(hc_parser *p, const char *name, const char *value, const char *key)
{
    hc_case *c = p->c;
    if (strcmp(name, "status") == 0) {
        p->line_of[L_STATUS] = p->line;
        return parse_status(p, key, value, &c->status_all);
    }
    if (strcmp(name, "setup") == 0) {
        p->line_of[L_SETUP] = p->line;
        return parse_status(p, key, value, &c->setup_status);
    }
    if (strcmp(name, "run") == 0)
        return parse_status(p, key, value, &c->run_status);
    if (strcmp(name, "rss_growth_kb_max") == 0) {
        uint32_t kb;
        if (parse_u32(value, 0, UINT32_MAX, &kb))
            return hc_fail(p, p->line, key, GC_EINVAL, "rss_growth_kb_max '%s' is not an integer",
                           value);
        c->rss_growth_kb_max = kb;
        c->has_rss_growth = 1;
        return 1;
    }
    if (strncmp(name, "status.", 7) == 0) {
        uint32_t t;
        if (parse_u32(name + 7, 0, GC_TASKS_MAX - 1, &t) || !isdigit((unsigned char)name[7]))
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "'%s' is not status.N with N a task number", name);
        int st;
        if (!parse_status(p, key, value, &st))
            return 0;
        for (size_t i = 0; i < c->nstatus_one; i++)
            if (c->status_one[i].task == t)
                return hc_fail(p, p->line, key, GC_EEXIST,
                               "task %u already has a status (line %d)", t,
                               c->status_one[i].line);
        hc_status_exp *v = realloc(c->status_one, (c->nstatus_one + 1) * sizeof *v);
        if (!v)
            return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
        c->status_one = v;
        c->status_one[c->nstatus_one++] = (hc_status_exp){t, st, p->line};
        return 1;
    }
    if (strcmp(name, "value") == 0) {
        p->line_of[L_VALUE] = p->line;
        if (strcmp(value, "checksum") == 0) {
            c->value_kind = HC_VALUE_CHECKSUM;
        } else if (strcmp(value, "touch") == 0) {
            c->value_kind = HC_VALUE_TOUCH;
        } else if (parse_i64(value, &c->value) == 0) {
            c->value_kind = HC_VALUE_INT;
        } else {
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "value '%s' is not checksum, touch or an integer", value);
        }
        return 1;
    }
    if (strcmp(name, "text") == 0 || strcmp(name, "text_contains") == 0) {
        char **dst = name[4] ? &c->text_contains : &c->text;
        if (strlen(value) >= GC_RESULT_TEXT_MAX)
            return hc_fail(p, p->line, key, GC_ELIMIT, "text of %zu bytes can never match "
                           "(results hold %d)", strlen(value), GC_RESULT_TEXT_MAX - 1);
        if (!(*dst = hc_strdup(value)))
            return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
        p->line_of[L_TEXT] = p->line;
        return 1;
    }
    if (strncmp(name, "output.", 7) == 0) {
        gc_err ge;
        if (gc_name_check(name + 7, "output entry", &ge) != GC_OK)
            return hc_fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
        if (strncmp(value, "pattern:", 8) != 0)
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "'%s' is not pattern:zero, pattern:sequence or pattern:random:SEED",
                           value);
        hc_output_exp oe;
        memset(&oe, 0, sizeof oe);
        if (gc_pattern_parse(value + 8, &oe.pattern, &ge) != GC_OK)
            return hc_fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
        snprintf(oe.name, sizeof oe.name, "%s", name + 7);
        oe.line = p->line;
        hc_output_exp *v = realloc(c->outputs_exp, (c->noutputs_exp + 1) * sizeof *v);
        if (!v)
            return hc_fail(p, p->line, key, GC_ENOMEM, "out of memory");
        c->outputs_exp = v;
        c->outputs_exp[c->noutputs_exp++] = oe;
        return 1;
    }
    if (strcmp(name, "heavy_unchanged") == 0) {
        if (parse_bool(value, &c->heavy_unchanged))
            return hc_fail(p, p->line, key, GC_EINVAL, "'%s' is not true or false", value);
        return 1;
    }
    if (strcmp(name, "max_wall_ms") == 0) {
        if (parse_double(value, &c->max_wall_ms) || c->max_wall_ms <= 0)
            return hc_fail(p, p->line, key, GC_EINVAL, "'%s' is not a positive number of ms",
                           value);
        p->line_of[L_MAXWALL] = p->line;
        return 1;
    }
    return hc_fail(p, p->line, key, GC_EINVAL,
                   "unknown key in [expect] (known: status, status.N, value, text, "
                   "text_contains, output.NAME, heavy_unchanged, max_wall_ms)");
}

static int key_entry(hc_parser *p, const char *name, const char *value, const char *key)
{
    hc_entry *e = &p->c->entries[p->sec_index];
    if (strcmp(name, "size") == 0) {
        int r = parse_size(value, &e->size);
        if (r == -2)
            return hc_fail(p, p->line, key, GC_ELIMIT, "size '%s' is over the 1 TiB entry limit",
                           value);
        if (r)
            return hc_fail(p, p->line, key, GC_EINVAL,
                           "size '%s' is not a count with a unit (B, KiB, MiB, GiB), e.g. 100MiB",
                           value);
        e->has_size = 1;
        return 1;
    }
    if (strcmp(name, "fill") == 0 && !e->output) {
        gc_err ge;
        if (strcmp(value, "random") == 0) {
            e->fill = (gc_pattern){GC_PATTERN_RANDOM, 0};
            e->fill_from_seed = 1;
        } else if (gc_pattern_parse(value, &e->fill, &ge) != GC_OK) {
            return hc_fail(p, p->line, key, GC_EINVAL, "%s (or 'random' to draw from --seed)",
                           ge.msg);
        }
        e->has_fill = 1;
        return 1;
    }
    return hc_fail(p, p->line, key, GC_EINVAL, "unknown key in [%s] (known: %s)", p->sec_name,
                   e->output ? "size; outputs start zeroed" : "size, fill");
}

static int key_claim(hc_parser *p, const char *name, const char *value, const char *key)
{
    hc_claim_spec *cl = &p->c->claims[p->sec_index];
    if (strcmp(name, "text") == 0) {
        cl->has_text = 1;
        return set_text(p, key, value, cl->text, sizeof cl->text);
    }
    if (strcmp(name, "metric") == 0) {
        for (size_t i = 0; i < hc__nmetrics; i++) {
            if (strcmp(value, hc__metrics[i].name) == 0) {
                cl->has_metric = 1;
                return set_text(p, key, value, cl->metric, sizeof cl->metric);
            }
        }
        return hc_fail(p, p->line, key, GC_EINVAL,
                       "unknown metric '%s' (known: wall_ms, task_wall_ms, task_exec_ms, "
                       "handoff_ms, handoff_max_ms)",
                       value);
    }
    if (strcmp(name, "claimed") == 0) {
        if (parse_double(value, &cl->claimed) || cl->claimed <= 0)
            return hc_fail(p, p->line, key, GC_EINVAL, "claimed '%s' is not a positive number",
                           value);
        cl->has_claimed = 1;
        return 1;
    }
    if (strcmp(name, "unit") == 0) {
        cl->has_unit = 1;
        return set_text(p, key, value, cl->unit, sizeof cl->unit);
    }
    return hc_fail(p, p->line, key, GC_EINVAL,
                   "unknown key in [%s] (known: text, metric, claimed, unit)", p->sec_name);
}

/* inih's callback: one key/value pair of the current section. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    hc_parser *p = user;
    if (p->failed)
        return 0;
    char key[160];
    if (!*section || p->sec == HC_SEC_NONE) {
        snprintf(key, sizeof key, "%s", name);
        return hc_fail(p, p->line, key, GC_EINVAL, "key outside any section (start with [case])");
    }
    snprintf(key, sizeof key, "%s.%s", section, name);
    if (strlen(section) + 1 + strlen(name) >= sizeof key)
        return hc_fail(p, p->line, key, GC_EINVAL, "key name too long");
    if (!note_key(p, key))
        return 0;
    switch (p->sec) {
    case HC_SEC_CASE: return key_case(p, name, value, key);
    case HC_SEC_STATE: return key_state(p, name, value, key);
    case HC_SEC_DOMAIN: return key_domain(p, name, value, key);
    case HC_SEC_CONTRACT: return key_contract(p, name, value, key);
    case HC_SEC_EXPECT: return key_expect(p, name, value, key);
    case HC_SEC_HEAVY:
    case HC_SEC_OUTPUT: return key_entry(p, name, value, key);
    case HC_SEC_CLAIM: return key_claim(p, name, value, key);
    case HC_SEC_RUN: return key_run(p, name, value, key);
    default: break;
    }
    return hc_fail(p, p->line, key, GC_EINVAL, "internal: no section");
}

/* fgets-like reader over the NUL-terminated copy. It hands inih one whole line
 * at a time, so p->line is the line of whatever inih reports next. */
static char *on_read(char *str, int num, void *stream)
{
    hc_parser *p = stream;
    if (p->failed || p->pos >= p->len)
        return NULL;
    const char *s = p->text + p->pos;
    const char *nl = memchr(s, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - s) + 1 : p->len - p->pos;
    p->line++;
    /* inih needs room for "\r\n\0" beyond the content. */
    if (n + 3 > (size_t)num) {
        hc_fail(p, p->line, "", GC_ELIMIT, "line is %zu bytes long (limit %d)", n, num - 3);
        return NULL;
    }
    memcpy(str, s, n);
    str[n] = '\0';
    p->pos += n;
    /* Sections are tracked here, not in the handler, because inih reports
     * nothing for a section without keys. Same trimming rules as inih. */
    const char *b = str;
    if (p->line == 1 && strncmp(b, "\xEF\xBB\xBF", 3) == 0)
        b += 3;                         /* inih skips a UTF-8 BOM too */
    while (isspace((unsigned char)*b))
        b++;
    if (*b == '[') {
        const char *close = strchr(b, ']');
        const char *end = str + strlen(str);
        while (end > b && isspace((unsigned char)end[-1]))
            end--;
        if (!close || close + 1 != end) {
            hc_fail(p, p->line, "", GC_EINVAL, "malformed section header (expected [name])");
            return NULL;
        }
        char name[256];
        size_t len = (size_t)(close - b - 1);
        if (len >= sizeof name) {
            hc_fail(p, p->line, "", GC_EINVAL, "section name too long");
            return NULL;
        }
        memcpy(name, b + 1, len);
        name[len] = '\0';
        if (!section_begin(p, name))
            return NULL;
    }
    return str;
}

/* --------------------------------------------------------------------- */
/* Whole-case validation, after every line was read                       */

static int require_key(hc_parser *p, int present, int sec, const char *key)
{
    if (present)
        return 1;
    return hc_fail(p, p->sec_line[sec], key, GC_EINVAL, "missing required key '%s'", key);
}

static int finish(hc_parser *p)
{
    hc_case *c = p->c;
    hc_case_info *in = &c->info;
    if (!p->sec_line[HC_SEC_CASE])
        return hc_fail(p, 0, "case", GC_EINVAL, "missing section [case]");
    if (!require_key(p, in->id[0] != '\0', HC_SEC_CASE, "case.id") ||
        !require_key(p, in->title[0] != '\0', HC_SEC_CASE, "case.title") ||
        !require_key(p, c->process[0] != '\0', HC_SEC_CASE, "case.process"))
        return 0;
    if (!p->line_of[L_TASKS])
        c->tasks = c->workers;
    if (c->callers > 1 && c->new_generation_every > 0)
        return hc_fail(p, p->line_of[L_CALLERS], "run.callers", GC_EINVAL,
                       "concurrent callers share one state, which must not change during a "
                       "run: new_generation_every must be 0");
    if ((c->setup_status != GC_OK || c->run_status != GC_OK || c->recover) &&
        !c->limit_nofile_set && !c->limit_as)
        return hc_fail(p, p->line_of[L_SETUP], "expect.setup", GC_EINVAL,
                       "expect.setup, expect.run and run.recover are about a run under "
                       "[run] limit_nofile or limit_as, and the case sets neither");
    for (size_t i = 0; i < c->nentries; i++) {
        hc_entry *e = &c->entries[i];
        char key[160];
        snprintf(key, sizeof key, "%s.%s.size", e->output ? "output" : "heavy", e->name);
        if (!e->has_size)
            return hc_fail(p, e->line, key, GC_EINVAL, "missing required key '%s'", key);
        snprintf(key, sizeof key, "heavy.%s.fill", e->name);
        if (!e->output && !e->has_fill)
            return hc_fail(p, e->line, key, GC_EINVAL,
                           "missing required key '%s' (zero, sequence, random:SEED or random)",
                           key);
    }
    if (c->zone_none && c->nentries)
        return hc_fail(p, p->line_of[L_HEAVY_ZONE], "state.heavy_zone", GC_EINVAL,
                       "heavy_zone = none, but the case declares %zu heavy/output entries "
                       "(first at line %d)",
                       c->nentries, c->entries[0].line);
    for (size_t i = 0; i < c->nstatus_one; i++) {
        if (c->status_one[i].task >= c->tasks) {
            char key[64];
            snprintf(key, sizeof key, "expect.status.%u", c->status_one[i].task);
            return hc_fail(p, c->status_one[i].line, key, GC_EINVAL,
                           "task %u does not exist (the case runs %u tasks, 0..%u)",
                           c->status_one[i].task, c->tasks, c->tasks - 1);
        }
    }
    for (size_t i = 0; i < c->noutputs_exp; i++) {
        int k = find_entry(c, c->outputs_exp[i].name);
        if (k < 0 || !c->entries[k].output) {
            char key[96];
            snprintf(key, sizeof key, "expect.output.%s", c->outputs_exp[i].name);
            return hc_fail(p, c->outputs_exp[i].line, key, GC_ENOTFOUND,
                           "no [output.%s] section declares this entry", c->outputs_exp[i].name);
        }
    }
    for (int i = 0; i < c->nclaims; i++) {
        hc_claim_spec *cl = &c->claims[i];
        char key[160];
        const char *miss = !cl->has_text ? "text" : !cl->has_metric ? "metric"
                           : !cl->has_claimed ? "claimed" : !cl->has_unit ? "unit" : NULL;
        if (miss) {
            snprintf(key, sizeof key, "claim.%s.%s", cl->name, miss);
            return hc_fail(p, cl->line, key, GC_EINVAL, "missing required key '%s'", key);
        }
        const hc_metric_def *m = NULL;
        for (size_t k = 0; k < hc__nmetrics; k++)
            if (strcmp(hc__metrics[k].name, cl->metric) == 0)
                m = &hc__metrics[k];
        snprintf(key, sizeof key, "claim.%s.unit", cl->name);
        if (!m)                         /* key_claim accepts known metrics only */
            return hc_fail(p, cl->line, key, GC_EINVAL, "unknown metric '%s'", cl->metric);
        if (strcmp(m->unit, cl->unit) != 0)
            return hc_fail(p, cl->line, key, GC_EINVAL,
                           "unit '%s' does not match metric %s, measured in %s", cl->unit,
                           m->name, m->unit);
        snprintf(key, sizeof key, "claim.%s.metric", cl->name);
        if (strncmp(cl->metric, "handoff_", 8) == 0 && strcmp(c->process, "touch") != 0)
            return hc_fail(p, cl->line, key, GC_EINVAL,
                           "%s is measured only for process = touch (this case runs '%s')",
                           cl->metric, c->process);
    }
    return 1;
}

/* --------------------------------------------------------------------- */
/* Public API                                                             */

/* inih's options are process-wide variables in Debian's build (libinih 55);
 * they are set under a lock for every parse so that no caller depends on
 * another one having set them. */
static pthread_mutex_t hc_ini_lock = PTHREAD_MUTEX_INITIALIZER;

void hc_case_free(hc_case *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ndomain; i++)
        free(c->domain[i].data);
    free(c->domain);
    free(c->entries);
    hc_names *lists[] = {&c->domain_reads, &c->heavy_reads, &c->outputs};
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < lists[l]->n; i++)
            free(lists[l]->v[i]);
        free(lists[l]->v);
    }
    free(c->status_one);
    free(c->text);
    free(c->text_contains);
    free(c->outputs_exp);
    free(c);
}

int hc_case_parse(const char *name, const char *text, size_t len, hc_case **out, hc_error *err)
{
    hc_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    snprintf(err->path, sizeof err->path, "%s", name ? name : "<memory>");
    if (!out)
        return GC_EINVAL;
    *out = NULL;
    if (!text && len)
        return GC_EINVAL;
    if (len > HC_FILE_MAX) {
        snprintf(err->message, sizeof err->message, "case file is %zu bytes (limit %u)", len,
                 HC_FILE_MAX);
        return GC_ELIMIT;
    }
    /* inih reads C strings: a NUL would silently end the file there. */
    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul) {
        int line = 1;
        for (const char *q = text; q < nul; q++)
            line += *q == '\n';
        err->line = line;
        snprintf(err->message, sizeof err->message, "NUL byte at offset %zu",
                 (size_t)(nul - text));
        return GC_EINVAL;
    }
    hc_case *c = calloc(1, sizeof *c);
    char *copy = malloc(len + 1);
    if (!c || !copy) {
        free(c);
        free(copy);
        snprintf(err->message, sizeof err->message, "out of memory");
        return GC_ENOMEM;
    }
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';

    snprintf(c->info.path, sizeof c->info.path, "%s", err->path);
    c->info.timeout_s = 60;
    c->info.modes[0] = GC_MODE_THREAD;
    c->info.modes[1] = GC_MODE_PROCESS;
    c->info.nmodes = 2;
    c->workers = 1;
    c->rounds = 1;
    c->callers = 1;
    c->status_all = GC_OK;

    hc_parser p;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.err = err;
    p.text = copy;
    p.len = len;

    pthread_mutex_lock(&hc_ini_lock);
    ini_use_stack = 1;                  /* Debian's inih sizes the stack line by ini_max_line */
    ini_max_line = HC_LINE_MAX;
    ini_allow_multiline = 0;            /* a continuation line would look like a duplicate key */
    ini_allow_inline_comments = 0;      /* text values may contain ';' */
    ini_allow_no_value = 0;
    ini_stop_on_first_error = 1;
    ini_allow_bom = 1;
    int r = ini_parse_stream(on_read, &p, on_key, &p);
    pthread_mutex_unlock(&hc_ini_lock);

    if (!p.failed && r > 0)
        hc_fail(&p, r, "", GC_EINVAL,
                "syntax error: expected 'key = value', '[section]' or a comment");
    else if (!p.failed && r < 0)
        hc_fail(&p, 0, "", GC_ENOMEM, "inih failed (%d)", r);
    if (!p.failed)
        finish(&p);

    for (size_t i = 0; i < p.nseen; i++)
        free(p.seen[i].key);
    free(p.seen);
    free(copy);
    if (p.failed) {
        hc_case_free(c);
        return p.rc;
    }
    *out = c;
    return GC_OK;
}

int hc_case_load(const char *path, hc_case **out, hc_error *err)
{
    hc_error scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    if (out)
        *out = NULL;
    if (!path || !out)
        return GC_EINVAL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever, before its type could be checked. It changes nothing
     * for the regular file every case is. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err->message, sizeof err->message, "cannot open: %s", strerror(errno));
        return GC_ESYS;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        const char *kind = S_ISFIFO(sb.st_mode)  ? "a FIFO"
                           : S_ISCHR(sb.st_mode) ? "a character device"
                           : S_ISBLK(sb.st_mode) ? "a block device"
                           : S_ISDIR(sb.st_mode) ? "a directory"
                                                 : "not a file";
        snprintf(err->message, sizeof err->message, "not a regular file (%s); a case is a file",
                 kind);
        close(fd);
        return GC_EINVAL;
    }
    if ((uint64_t)sb.st_size > HC_FILE_MAX) {
        snprintf(err->message, sizeof err->message, "case file is %lld bytes (limit %u)",
                 (long long)sb.st_size, HC_FILE_MAX);
        close(fd);
        return GC_ELIMIT;
    }
    size_t cap = (size_t)sb.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        snprintf(err->message, sizeof err->message, "out of memory");
        return GC_ENOMEM;
    }
    /* Read to EOF rather than trusting st_size: the file may change under us;
     * one byte more than the limit is enough to tell it grew too big. */
    for (;;) {
        if (len == cap) {
            if (cap > HC_FILE_MAX)
                break;
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                snprintf(err->message, sizeof err->message, "out of memory");
                return GC_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err->message, sizeof err->message, "read failed: %s", strerror(errno));
            free(buf);
            close(fd);
            return GC_ESYS;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    int rc = hc_case_parse(path, buf, len, out, err);
    free(buf);
    return rc;
}

const hc_case_info *hc_case_get_info(const hc_case *c)
{
    return c ? &c->info : NULL;
}

int hc__expected_status(const hc_case *c, uint32_t t)
{
    /* The last status.N for a task wins; duplicates are refused at parse. */
    for (size_t i = 0; i < c->nstatus_one; i++)
        if (c->status_one[i].task == t)
            return c->status_one[i].status;
    return c->status_all;
}

/* --------------------------------------------------------------------- */
/* Requirements                                                           */

static int have_memfd(int seals)
{
    int fd = memfd_create("gapcheck-probe", MFD_CLOEXEC | (seals ? MFD_ALLOW_SEALING : 0));
    if (fd < 0)
        return 0;
    int ok = 1;
    /* F_SEAL_FUTURE_WRITE (Linux 5.1) is what makes the zone read-only for
     * workers that map it later; probing it is the point of "seals". */
    if (seals && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) != 0)
        ok = 0;
    close(fd);
    return ok;
}

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        if (n && (size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog) < sizeof buf &&
            access(buf, X_OK) == 0)
            return 1;
        path += n + (colon != NULL);
    }
    return 0;
}

uint64_t hc__mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return (uint64_t)kib * 1024;
}

int hc_case_requires_met(const hc_case *c, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    for (int i = 0; i < c->info.nrequires; i++) {
        const char *r = c->info.requires[i];
        int ok = 1;
        char detail[128] = "";
        if (strcmp(r, "memfd") == 0) {
            ok = have_memfd(0);
            snprintf(detail, sizeof detail, "memfd_create failed");
        } else if (strcmp(r, "seals") == 0) {
            ok = have_memfd(1);
            snprintf(detail, sizeof detail, "memfd seals (F_SEAL_FUTURE_WRITE) unavailable");
        } else if (strcmp(r, "valgrind") == 0) {
            ok = on_path("valgrind");
            snprintf(detail, sizeof detail, "valgrind is not on PATH (apt-get install valgrind)");
        } else if (strcmp(r, "native-limits") == 0) {
            /* valgrind hands out descriptors past a lowered RLIMIT_NOFILE and
             * manages the address space itself: limits do not mean there
             * what they mean to the kernel. */
            const char *preload = getenv("LD_PRELOAD");
            ok = !(preload && strstr(preload, "vgpreload"));
            snprintf(detail, sizeof detail, "running under valgrind");
        } else if (strncmp(r, "cores>=", 7) == 0) {
            long have = sysconf(_SC_NPROCESSORS_ONLN);
            long want = strtol(r + 7, NULL, 10);
            ok = have >= want;
            snprintf(detail, sizeof detail, "%ld cores online", have);
        } else if (strncmp(r, "mem>=", 5) == 0) {
            uint64_t want = 0, have = hc__mem_available();
            parse_size(r + 5, &want);
            ok = have >= want;
            snprintf(detail, sizeof detail, "%llu MiB available",
                     (unsigned long long)(have >> 20));
        }
        if (!ok) {
            if (why && whylen)
                snprintf(why, whylen, "requires %s: %s", r, detail);
            return 0;
        }
    }
    return 1;
}
