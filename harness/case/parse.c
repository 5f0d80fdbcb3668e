/* harness case module, parser: turns a case file (INI, read with inih) into a
 * validated struct hc_case, or into one hc_error naming file, line, key and
 * reason. It knows no key by name: sections and keys are rows of the grammar
 * tables (keys.c), which say where a key may appear, what it takes and where
 * its value goes; this file reads the generic kinds of value, tracks lines
 * and duplicates, and checks what involves several keys at the end. inih is
 * driven through ini_parse_stream with our own line reader so that every key
 * and section is tied to its line, NUL bytes and over-long lines are refused
 * instead of silently cut, and sections are seen even when empty (inih itself
 * reports only key/value pairs). The format is documented in cases/README.md.
 * Everything allocated here belongs to the hc_case and is released by
 * hc_case_free. */
#include "keys.h"

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
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "probe.h"

/* --------------------------------------------------------------------- */
/* Key bookkeeping                                                         */

/* Duplicate keys are refused: inih would hand both to us and the last would
 * silently win, which hides copy-paste mistakes in expectations. */
static int note_key(hc_parser *p, const char *full)
{
    for (size_t i = 0; i < p->nseen; i++)
        if (strcmp(p->seen[i].key, full) == 0)
            return hc__fail(p, p->line, full, GC_EEXIST, "duplicate key (first set at line %d)",
                           p->seen[i].line);
    if (p->nseen == p->capseen) {
        size_t cap = p->capseen ? p->capseen * 2 : 32;
        hc_seen_key *v = realloc(p->seen, cap * sizeof *v);
        if (!v)
            return hc__fail(p, p->line, full, GC_ENOMEM, "out of memory");
        p->seen = v;
        p->capseen = cap;
    }
    char *k = hc__strdup(full);
    if (!k)
        return hc__fail(p, p->line, full, GC_ENOMEM, "out of memory");
    p->seen[p->nseen++] = (hc_seen_key){k, p->line};
    return 1;
}

static int key_line(const hc_parser *p, const char *full)
{
    for (size_t i = 0; i < p->nseen; i++)
        if (strcmp(p->seen[i].key, full) == 0)
            return p->seen[i].line;
    return 0;
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

static int claim_begin(hc_parser *p, const char *name, const char *sub)
{
    hc_case *c = p->c;
    gc_err ge;
    if (gc_name_check(sub, "claim", &ge) != GC_OK)
        return hc__fail(p, p->line, name, GC_EINVAL, "bad section name: %s", ge.msg);
    for (int i = 0; i < c->nclaims; i++)
        if (strcmp(c->claims[i].name, sub) == 0)
            return hc__fail(p, p->line, name, GC_EEXIST,
                            "claim '%s' declared twice (first at line %d)", sub,
                            c->claims[i].line);
    if (c->nclaims == HC_CLAIMS_MAX)
        return hc__fail(p, p->line, name, GC_ELIMIT, "more than %d claims", HC_CLAIMS_MAX);
    hc_claim_spec *cl = &c->claims[c->nclaims];
    memset(cl, 0, sizeof *cl);
    snprintf(cl->name, sizeof cl->name, "%s", sub);
    cl->line = p->line;
    p->sec_index = (size_t)c->nclaims++;
    p->sec = HC_SEC_CLAIM;
    return 1;
}

static int entry_begin(hc_parser *p, const char *name, const char *sub, int output)
{
    hc_case *c = p->c;
    gc_err ge;
    const char *what = output ? "output entry" : "heavy entry";
    if (gc_name_check(sub, what, &ge) != GC_OK)
        return hc__fail(p, p->line, name, GC_EINVAL, "bad section name: %s", ge.msg);
    int prev = find_entry(c, sub);
    if (prev >= 0)
        return hc__fail(p, p->line, name, GC_EEXIST,
                        "entry '%s' declared twice (first as [%s.%s] at line %d); heavy and "
                        "output entries share one namespace",
                        sub, c->entries[prev].output ? "output" : "heavy", sub,
                        c->entries[prev].line);
    if (c->nentries == GC_HEAVY_MAX)
        return hc__fail(p, p->line, name, GC_ELIMIT, "more than %d heavy/output entries",
                        GC_HEAVY_MAX);
    hc_entry *v = realloc(c->entries, (c->nentries + 1) * sizeof *v);
    if (!v)
        return hc__fail(p, p->line, name, GC_ENOMEM, "out of memory");
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

/* Called by the reader for each "[...]" line, before inih sees it. */
static int section_begin(hc_parser *p, const char *name)
{
    snprintf(p->sec_name, sizeof p->sec_name, "%s", name);
    for (size_t i = 0; i < hc__nsections; i++) {
        const hc_section_def *s = &hc__sections[i];
        size_t n = strlen(s->name);
        if (s->named) {
            if (strncmp(name, s->name, n) != 0 || name[n] != '.')
                continue;
            if (s->sec == HC_SEC_CLAIM)
                return claim_begin(p, name, name + n + 1);
            return entry_begin(p, name, name + n + 1, s->sec == HC_SEC_OUTPUT);
        }
        if (strcmp(name, s->name) != 0)
            continue;
        if (p->sec_line[s->sec])
            return hc__fail(p, p->line, name, GC_EEXIST,
                            "section [%s] appears twice (first at line %d)", name,
                            p->sec_line[s->sec]);
        p->sec_line[s->sec] = p->line;
        p->sec = s->sec;
        /* An empty [contract] is a real contract that grants nothing,
         * unlike no [contract], which means the registered one. */
        if (s->sec == HC_SEC_CONTRACT)
            p->c->has_contract = 1;
        return 1;
    }
    char known[256];
    hc__sections_known(known, sizeof known);
    return hc__fail(p, p->line, name, GC_EINVAL, "unknown section [%s] (known: %s)", name, known);
}

/* --------------------------------------------------------------------- */
/* Keys: the generic kinds of value                                       */

static int add_name(hc_parser *p, const char *key, const char *item, void *arg)
{
    const hc_key_def *k = ((void **)arg)[0];
    hc_names *ns = ((void **)arg)[1];
    gc_err ge;
    if (gc_name_check(item, k->hint ? k->hint : "name", &ge) != GC_OK)
        return hc__fail(p, p->line, key, GC_EINVAL, "%s", ge.msg);
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], item) == 0)
            return hc__fail(p, p->line, key, GC_EEXIST, "'%s' listed twice", item);
    char **v = realloc(ns->v, (ns->n + 1) * sizeof *v);
    if (!v)
        return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
    ns->v = v;
    if (!(ns->v[ns->n] = hc__strdup(item)))
        return hc__fail(p, p->line, key, GC_ENOMEM, "out of memory");
    ns->n++;
    return 1;
}

/* The value of one key, read the way its row says, into obj + k->off. */
static int read_value(hc_parser *p, const hc_key_def *k, const char *name, const char *value,
                      const char *key, void *obj)
{
    char *dst = (char *)obj + k->off;
    int line = p->line;
    switch (k->kind) {
    case HC_KIND_FN:
        return k->fn(p, k, name, value, key, obj);
    case HC_KIND_TEXT:
    case HC_KIND_IDENT: {
        size_t n = strlen(value);
        if (k->kind == HC_KIND_IDENT && (*value || k->lo) && !hc__ident_ok(value, k->size))
            return hc__fail(p, line, key, GC_EINVAL,
                            "%s '%s' is not an identifier: 1..%zu chars of [A-Za-z0-9_.:/-], "
                            "starting alphanumeric",
                            name, value, k->size - 1);
        if (k->lo && n == 0)
            return hc__fail(p, line, key, GC_EINVAL, "%s is empty; it needs %s", name,
                            k->hint ? k->hint : "a value");
        if (n >= k->size)
            return hc__fail(p, line, key, GC_ELIMIT, "value is %zu bytes long (limit %zu)", n,
                            k->size - 1);
        memcpy(dst, value, n + 1);
        return 1;
    }
    case HC_KIND_U32:
        if (hc__parse_u32(value, (uint32_t)k->lo, (uint32_t)k->hi, (uint32_t *)(void *)dst))
            return hc__fail(p, line, key, GC_EINVAL, "%s '%s' is not an integer in %lld..%lld",
                            name, value, (long long)k->lo, (long long)k->hi);
        return 1;
    case HC_KIND_POSITIVE: {
        double d;
        if (hc__parse_double(value, &d) || d <= 0 || (k->hi && d > (double)k->hi)) {
            char bound[48] = "";
            if (k->hi)
                snprintf(bound, sizeof bound, ", at most %lld", (long long)k->hi);
            return hc__fail(p, line, key, GC_EINVAL, "%s '%s' is not a positive number%s%s%s",
                            name, value, k->hint ? " of " : "", k->hint ? k->hint : "", bound);
        }
        memcpy(dst, &d, sizeof d);
        return 1;
    }
    case HC_KIND_BOOL:
        if (hc__parse_bool(value, (int *)(void *)dst))
            return hc__fail(p, line, key, GC_EINVAL, "%s '%s' is not true or false", name, value);
        return 1;
    case HC_KIND_SIZE: {
        uint64_t v = 0;
        int r = hc__parse_size(value, &v);
        if (r == -2)
            return hc__fail(p, line, key, GC_ELIMIT, "%s '%s' is over the 1 TiB entry limit",
                            name, value);
        if (r || v < (uint64_t)k->lo)
            return hc__fail(p, line, key, GC_EINVAL,
                            "%s '%s' is not a count with a unit (B, KiB, MiB, GiB)%s, e.g. "
                            "100MiB", name, value, k->lo ? " above 0" : "");
        memcpy(dst, &v, sizeof v);
        return 1;
    }
    case HC_KIND_STATUS:
        if (gc_status_parse(value, (int *)(void *)dst) != GC_OK)
            return hc__fail(p, line, key, GC_EINVAL, "'%s' is not a status name (%s)", value,
                            k->hint);
        return 1;
    case HC_KIND_CHOICE: {
        int i = 0;
        for (const char *c = k->choices; c; i++) {
            const char *bar = strchr(c, '|');
            size_t n = bar ? (size_t)(bar - c) : strlen(c);
            if (strlen(value) == n && strncmp(value, c, n) == 0) {
                *(int *)(void *)dst = i;
                return 1;
            }
            c = bar ? bar + 1 : NULL;
        }
        char list[256];
        size_t n = 0;
        for (const char *c = k->choices; *c && n + 3 < sizeof list; c++) {
            if (*c == '|') {
                list[n++] = ',';
                list[n++] = ' ';
            } else {
                list[n++] = *c;
            }
        }
        list[n] = '\0';
        return hc__fail(p, line, key, GC_EINVAL, "%s '%s' is not one of %s", name, value, list);
    }
    case HC_KIND_HEAPTEXT: {
        char **s = (char **)(void *)dst;
        if (strlen(value) >= (size_t)k->hi)
            return hc__fail(p, line, key, GC_ELIMIT,
                            "text of %zu bytes can never match (results hold %lld)",
                            strlen(value), (long long)k->hi - 1);
        if (!(*s = hc__strdup(value)))
            return hc__fail(p, line, key, GC_ENOMEM, "out of memory");
        return 1;
    }
    case HC_KIND_NAMES: {
        hc_names *ns = (hc_names *)(void *)dst;
        ns->set = 1;
        ns->line = line;
        void *arg[2] = {(void *)k, ns};
        return hc__for_each_item(p, key, value, add_name, arg);
    }
    }
    return hc__fail(p, line, key, GC_EINVAL, "internal: key kind %d", (int)k->kind);
}

/* The object a section's keys write to. */
static void *section_object(hc_parser *p)
{
    switch (p->sec) {
    case HC_SEC_HEAVY:
    case HC_SEC_OUTPUT: return &p->c->entries[p->sec_index];
    case HC_SEC_CLAIM: return &p->c->claims[p->sec_index];
    default: return p->c;
    }
}

/* inih's callback: one key/value pair of the current section. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    hc_parser *p = user;
    if (p->failed)
        return 0;
    char key[384];
    if (!*section || p->sec == HC_SEC_NONE) {
        snprintf(key, sizeof key, "%s", name);
        return hc__fail(p, p->line, key, GC_EINVAL, "key outside any section (start with [case])");
    }
    /* The section as written: inih cuts section names at 50 bytes. */
    snprintf(key, sizeof key, "%s.%s", p->sec_name, name);
    if (strlen(p->sec_name) + 1 + strlen(name) >= sizeof key)
        return hc__fail(p, p->line, key, GC_EINVAL, "key name too long");
    if (!note_key(p, key))
        return 0;
    const hc_key_def *k = hc__key_find(p->sec, name);
    if (!k) {
        char known[512];
        hc__keys_known(p->sec, known, sizeof known);
        return hc__fail(p, p->line, key, GC_EINVAL, "unknown key in [%s] (known: %s)",
                        p->sec_name, known);
    }
    return read_value(p, k, name, value, key, section_object(p));
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
        hc__fail(p, p->line, "", GC_ELIMIT, "line is %zu bytes long (limit %d)", n, num - 3);
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
            hc__fail(p, p->line, "", GC_EINVAL, "malformed section header (expected [name])");
            return NULL;
        }
        char name[256];
        size_t len = (size_t)(close - b - 1);
        if (len >= sizeof name) {
            hc__fail(p, p->line, "", GC_EINVAL, "section name too long");
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

/* Every required key of one section instance (`prefix` = "case",
 * "heavy.NAME", ...), at the line of its header. */
static int require_keys(hc_parser *p, hc_section_kind sec, const char *prefix, int line)
{
    for (size_t i = 0; i < hc__nkeys; i++) {
        const hc_key_def *k = &hc__keys[i];
        if (k->sec != sec || !k->required)
            continue;
        char full[192];
        snprintf(full, sizeof full, "%s.%s", prefix, k->name);
        if (!key_line(p, full)) {
            if (k->hint)
                return hc__fail(p, line, full, GC_EINVAL, "missing required key '%s' (%s)", full,
                                k->hint);
            return hc__fail(p, line, full, GC_EINVAL, "missing required key '%s'", full);
        }
    }
    return 1;
}

static int finish(hc_parser *p)
{
    hc_case *c = p->c;
    if (!p->sec_line[HC_SEC_CASE])
        return hc__fail(p, 0, "case", GC_EINVAL, "missing section [case]");
    for (size_t i = 0; i < hc__nsections; i++) {
        const hc_section_def *s = &hc__sections[i];
        if (!s->named && p->sec_line[s->sec] &&
            !require_keys(p, s->sec, s->name, p->sec_line[s->sec]))
            return 0;
    }
    for (size_t i = 0; i < c->nentries; i++) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s.%s", c->entries[i].output ? "output" : "heavy",
                 c->entries[i].name);
        if (!require_keys(p, c->entries[i].output ? HC_SEC_OUTPUT : HC_SEC_HEAVY, prefix,
                          c->entries[i].line))
            return 0;
    }
    for (int i = 0; i < c->nclaims; i++) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "claim.%s", c->claims[i].name);
        if (!require_keys(p, HC_SEC_CLAIM, prefix, c->claims[i].line))
            return 0;
    }
    if (!key_line(p, "case.tasks"))
        c->tasks = c->workers;
    if (c->callers > 1 && c->new_generation_every > 0)
        return hc__fail(p, key_line(p, "run.callers"), "run.callers", GC_EINVAL,
                        "concurrent callers share one state, which must not change during a "
                        "run: new_generation_every must be 0");
    if (c->history_check && c->callers > 1)
        return hc__fail(p, key_line(p, "expect.history"), "expect.history", GC_EINVAL,
                        "a history is checked per run, and run.callers %u interleaves runs: it "
                        "needs callers = 1", c->callers);
    if (c->history_check && c->domain_writes.n == 0)
        return hc__fail(p, key_line(p, "expect.history"), "expect.history", GC_EINVAL,
                        "a history is checked over list keys, and [contract] domain_writes "
                        "names none");
    if ((c->setup_status != GC_OK || c->run_status != GC_OK || c->recover) &&
        !c->limit_nofile_set && !c->limit_as)
        return hc__fail(p, key_line(p, "expect.setup"), "expect.setup", GC_EINVAL,
                        "expect.setup, expect.run and run.recover are about a run under "
                        "[run] limit_nofile or limit_as, and the case sets neither");
    if (c->zone_none && c->nentries)
        return hc__fail(p, key_line(p, "state.heavy_zone"), "state.heavy_zone", GC_EINVAL,
                        "heavy_zone = none, but the case declares %zu heavy/output entries "
                        "(first at line %d)",
                        c->nentries, c->entries[0].line);
    size_t nout = 0;
    for (size_t i = 0; i < c->nentries; i++)
        nout += c->entries[i].output != 0;
    if (c->outputs_frozen && nout == 0)
        return hc__fail(p, key_line(p, "state.outputs"), "state.outputs", GC_EINVAL,
                        "outputs = frozen, but the case declares no [output.*] entry");
    for (size_t i = 0; i < c->nstatus_one; i++) {
        if (c->status_one[i].task >= c->tasks) {
            const char *key = c->status_one[i].key;
            return hc__fail(p, c->status_one[i].line, key, GC_EINVAL,
                            "task %u does not exist (the case runs %u tasks, 0..%u)",
                            c->status_one[i].task, c->tasks, c->tasks - 1);
        }
    }
    for (size_t i = 0; i < c->noutputs_exp; i++) {
        int k = find_entry(c, c->outputs_exp[i].name);
        if (k < 0 || !c->entries[k].output) {
            char key[96];
            snprintf(key, sizeof key, "expect.output.%s", c->outputs_exp[i].name);
            return hc__fail(p, c->outputs_exp[i].line, key, GC_ENOTFOUND,
                            "no [output.%s] section declares this entry",
                            c->outputs_exp[i].name);
        }
    }
    for (int i = 0; i < c->nclaims; i++) {
        hc_claim_spec *cl = &c->claims[i];
        char key[160];
        const hc_metric_def *m = hc__metric_find(cl->metric);   /* read_metric checked it */
        snprintf(key, sizeof key, "claim.%s.unit", cl->name);
        if (strcmp(m->unit, cl->unit) != 0)
            return hc__fail(p, cl->line, key, GC_EINVAL,
                            "unit '%s' does not match metric %s, measured in %s", cl->unit,
                            m->name, m->unit);
        snprintf(key, sizeof key, "claim.%s.metric", cl->name);
        if (!hc__metric_produced_by(m, c->process))
            return hc__fail(p, cl->line, key, GC_EINVAL,
                            "%s is measured only for process = %s (this case runs '%s')",
                            cl->metric, m->process, c->process);
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
    for (size_t i = 0; i < c->nstate_exp; i++)
        free(c->state_exp[i].data);
    free(c->state_exp);
    free(c->entries);
    hc_names *lists[] = {&c->domain_reads, &c->heavy_reads, &c->outputs, &c->domain_writes};
    for (size_t l = 0; l < 4; l++) {
        for (size_t i = 0; i < lists[l]->n; i++)
            free(lists[l]->v[i]);
        free(lists[l]->v);
    }
    for (size_t i = 0; i < c->nstatus_one; i++) {
        free(c->status_one[i].text);
        free(c->status_one[i].text_contains);
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
    c->exp_workers_started = c->exp_workers_replaced = c->exp_pool_restarts = HC_COUNT_UNCHECKED;
    c->strict_contracts = 1;
    c->version_exp = c->committed_exp = c->events_exp = c->messages_exp = -1;
    c->undeclared_exp = -1;

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
        hc__fail(&p, r, "", GC_EINVAL,
                "syntax error: expected 'key = value', '[section]' or a comment");
    else if (!p.failed && r < 0)
        hc__fail(&p, 0, "", GC_ENOMEM, "inih failed (%d)", r);
    if (!p.failed)
        finish(&p);
    c->info.mixed_modes = c->alternate_mode;

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
        if (c->status_one[i].task == t && c->status_one[i].has_status)
            return c->status_one[i].status;
    return c->status_all;
}

/* --------------------------------------------------------------------- */
/* Requirements                                                           */

int hc_case_requires_met(const hc_case *c, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    for (int i = 0; i < c->info.nrequires; i++) {
        const char *r = c->info.requires[i];
        char detail[128] = "";
        if (!hc_probe_requirement_met(r, detail, sizeof detail)) {
            if (why && whylen)
                snprintf(why, whylen, "requires %s: %s", r, detail);
            return 0;
        }
    }
    return 1;
}
