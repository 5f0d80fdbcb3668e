/* harness case module, the history checker (histcheck.h). It trusts neither
 * the engine's statuses nor its versions alone: each claim of the history is
 * held against another observation. Installed versions against each other
 * and the state's; each read's version against the installs before its base;
 * each write's bytes against the value at the version it read; the final
 * state's elements against the installed writes and the acknowledged tasks;
 * and what subscribers and the outbox sink actually saw against the attempts
 * that were installed. Every check runs (none stops at the first anomaly),
 * so a report names all kinds a bug produces; the first of each kind is kept
 * with the task, attempt, key and versions that show it. Histories are small
 * (one run), so lookups are linear scans. */
#include "histcheck.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[HC_HIST_NKINDS] = {
    [HC_HIST_INCOMPLETE] = "incomplete-history",
    [HC_HIST_MISSING] = "missing-append",
    [HC_HIST_DUPLICATE] = "duplicate-append",
    [HC_HIST_PHANTOM_APPEND] = "phantom-append",
    [HC_HIST_WRONG_APPEND] = "wrong-append",
    [HC_HIST_STALE_READ] = "stale-read",
    [HC_HIST_READ_VALUE] = "read-value",
    [HC_HIST_LOST_UPDATE] = "lost-update",
    [HC_HIST_PHANTOM_DELIVERY] = "phantom-delivery",
    [HC_HIST_MISSING_DELIVERY] = "missing-delivery",
    [HC_HIST_VERSION_ORDER] = "version-order",
};

const char *hc_hist_kind_name(hc_hist_kind k)
{
    return k >= 0 && k < HC_HIST_NKINDS ? kind_names[k] : "?";
}

__attribute__((format(printf, 6, 7)))
static void found(hc_hist_report *rep, hc_hist_kind k, uint32_t task, uint32_t attempt,
                  const char *key, const char *fmt, ...)
{
    rep->total++;
    if (rep->count[k]++ > 0)
        return;
    hc_hist_anomaly *a = &rep->first[k];
    a->task = task;
    a->attempt = attempt;
    snprintf(a->key, sizeof a->key, "%s", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    va_end(ap);
}

static int installed(const gc_attempt *a)
{
    return a->outcome == GC_OK && a->version > 0;
}

static const gc_attempt *find_attempt(const hc_hist_input *in, uint32_t task, uint32_t attempt)
{
    for (size_t i = 0; i < in->nattempts; i++)
        if (in->attempts[i]->task == task && in->attempts[i]->attempt == attempt)
            return in->attempts[i];
    return NULL;
}

/* The value a attempt wrote to key, or NULL when it wrote none. */
static const gc_value *written(const gc_attempt *a, const char *key)
{
    for (size_t i = 0; i < a->n_writes; i++)
        if (strcmp(a->writes[i], key) == 0)
            return a->values ? &a->values[i] : NULL;
    return NULL;
}

static int is_list(const gc_value *v)
{
    return v && (v->type == GC_VAL_BYTES || v->type == GC_VAL_STR);
}

/* The install of key at exactly `version` this run, or NULL. */
static const gc_attempt *install_at(const hc_hist_input *in, const char *key, uint64_t version)
{
    for (size_t i = 0; i < in->nattempts; i++) {
        const gc_attempt *a = in->attempts[i];
        if (installed(a) && a->version == version && written(a, key))
            return a;
    }
    return NULL;
}

/* The last install of key at a version <= at (0 when none this run). */
static uint64_t latest_install(const hc_hist_input *in, const char *key, uint64_t at)
{
    uint64_t best = 0;
    for (size_t i = 0; i < in->nattempts; i++) {
        const gc_attempt *a = in->attempts[i];
        if (installed(a) && a->version <= at && a->version > best && written(a, key))
            best = a->version;
    }
    return best;
}

/* The value of a list key at `version` as the run knows it: the bytes
 * installed at that version, or the value the run started with. NULL when
 * no write of this run and not the starting version holds it. */
static const gc_value *value_at(const hc_hist_input *in, const hc_hist_key *k, uint64_t version)
{
    const gc_attempt *a = install_at(in, k->name, version);
    if (a)
        return written(a, k->name);
    return version == k->before_version ? &k->before : NULL;
}

static int elem_text(char *buf, size_t cap, uint32_t task, uint32_t attempt)
{
    return snprintf(buf, cap, "%" PRIu32 ".%" PRIu32 ";", task, attempt);
}

/* Does v end with the attempt's own element right after `prefix`? */
static int is_own_append(const gc_value *v, const gc_value *prefix, const gc_attempt *a)
{
    char e[32];
    int n = elem_text(e, sizeof e, a->task, a->attempt);
    return v->len == prefix->len + (size_t)n &&
           memcmp((const char *)v->ptr + prefix->len, e, (size_t)n) == 0;
}

static int starts_with(const gc_value *v, const gc_value *prefix)
{
    return v->len >= prefix->len && (prefix->len == 0 || memcmp(v->ptr, prefix->ptr, prefix->len) == 0);
}

/* ---- the checks ---------------------------------------------------------------- */

/* Installed versions strictly increase in commit order, above the run's
 * start, and the state and each key end where the installs say. */
static void check_versions(const hc_hist_input *in, hc_hist_report *rep)
{
    uint64_t last = in->version_before;
    const gc_attempt *prev = NULL;
    size_t n = 0;
    for (size_t i = 0; i < in->nattempts; i++) {
        const gc_attempt *a = in->attempts[i];
        if (!installed(a))
            continue;
        n++;
        if (a->version <= last)
            found(rep, HC_HIST_VERSION_ORDER, a->task, a->attempt, NULL,
                  "task %" PRIu32 " attempt %" PRIu32 " installed version %" PRIu64 " after %s "
                  "version %" PRIu64 ": versions must strictly increase in commit order",
                  a->task, a->attempt, a->version, prev ? "an install of" : "the run began at",
                  last);
        if (a->version > last)
            last = a->version;
        prev = a;
    }
    rep->installed = n;
    if (in->version_after != in->version_before + n)
        found(rep, HC_HIST_VERSION_ORDER, 0, 0, NULL,
              "the state went from version %" PRIu64 " to %" PRIu64 ", but the history installed "
              "%zu write sets", in->version_before, in->version_after, n);
    for (size_t k = 0; k < in->nkeys; k++) {
        const hc_hist_key *key = &in->keys[k];
        uint64_t want = latest_install(in, key->name, UINT64_MAX);
        if (!want)
            want = key->before_version;
        if (key->after_version != want)
            found(rep, HC_HIST_VERSION_ORDER, 0, 0, key->name,
                  "%s was last modified at version %" PRIu64 ", but its last install in the "
                  "history is version %" PRIu64, key->name, key->after_version, want);
    }
}

/* Each install of a key must have the previous install of that key in its
 * base: two commits from the same base on a shared key is the plainest case. */
static void check_lost_updates(const hc_hist_input *in, hc_hist_report *rep)
{
    for (size_t k = 0; k < in->nkeys; k++) {
        const hc_hist_key *key = &in->keys[k];
        for (size_t i = 0; i < in->nattempts; i++) {
            const gc_attempt *a = in->attempts[i];
            if (!installed(a) || !written(a, key->name))
                continue;
            /* the install of this key just before a's */
            uint64_t prev_v = latest_install(in, key->name, a->version - 1);
            const gc_attempt *p = prev_v ? install_at(in, key->name, prev_v) : NULL;
            if (p && a->base < prev_v)
                found(rep, HC_HIST_LOST_UPDATE, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " installed %s at version %" PRIu64
                      " from base %" PRIu64 ", over task %" PRIu32 " attempt %" PRIu32 "'s "
                      "install of %s at version %" PRIu64 " (base %" PRIu64 ") that its base "
                      "did not hold",
                      a->task, a->attempt, key->name, a->version, a->base, p->task, p->attempt,
                      key->name, prev_v, p->base);
            else if (!p && a->base < key->before_version)
                found(rep, HC_HIST_LOST_UPDATE, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " installed %s at version %" PRIu64
                      " from base %" PRIu64 ", older than the version %" PRIu64 " the run "
                      "found it at", a->task, a->attempt, key->name, a->version, a->base,
                      key->before_version);
        }
    }
}

static const hc_hist_key *list_key(const hc_hist_input *in, const char *name)
{
    for (size_t k = 0; k < in->nkeys; k++)
        if (strcmp(in->keys[k].name, name) == 0)
            return &in->keys[k];
    return NULL;
}

static uint64_t read_version(const gc_attempt *a, const char *key, int *found_it)
{
    for (size_t i = 0; i < a->n_reads; i++)
        if (strcmp(a->reads[i].key, key) == 0) {
            *found_it = 1;
            return a->reads[i].version;
        }
    *found_it = 0;
    return 0;
}

/* Every read of a list key saw the latest install at or before its base;
 * every write is the value at the version it read plus its own element;
 * a reader's checksum is that of the values at the versions it read. */
static void check_reads_and_writes(const hc_hist_input *in, hc_hist_report *rep)
{
    for (size_t i = 0; i < in->nattempts; i++) {
        const gc_attempt *a = in->attempts[i];
        for (size_t r = 0; r < a->n_reads; r++) {
            const hc_hist_key *key = list_key(in, a->reads[r].key);
            if (!key)
                continue;
            rep->reads_checked++;
            uint64_t want = latest_install(in, key->name, a->base);
            if (!want)
                want = key->before_version;
            uint64_t got = a->reads[r].version;
            if (got > a->base)
                found(rep, HC_HIST_STALE_READ, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " read %s at version %" PRIu64
                      ", newer than its base %" PRIu64 " (a read from the future)", a->task,
                      a->attempt, key->name, got, a->base);
            else if (got != want)
                found(rep, HC_HIST_STALE_READ, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " (base %" PRIu64 ") read %s at "
                      "version %" PRIu64 ", %s than version %" PRIu64 ", the latest install "
                      "of %s at its base", a->task, a->attempt, a->base, key->name, got,
                      got < want ? "older" : "newer", want, key->name);
        }
        for (size_t w = 0; w < a->n_writes; w++) {
            const hc_hist_key *key = list_key(in, a->writes[w]);
            if (!key)
                continue;
            const gc_value *v = a->values ? &a->values[w] : NULL;
            int has_read;
            uint64_t rv = read_version(a, key->name, &has_read);
            const gc_value *base = has_read ? value_at(in, key, rv) : NULL;
            if (!is_list(v)) {
                found(rep, HC_HIST_WRONG_APPEND, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " wrote %s as %s, not a list",
                      a->task, a->attempt, key->name, v ? gc_value_type_name(v->type) : "nothing");
            } else if (!has_read || !base || !is_list(base)) {
                found(rep, HC_HIST_WRONG_APPEND, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " wrote %s without a read of it at "
                      "a version this run knows (%s %" PRIu64 ")", a->task, a->attempt,
                      key->name, has_read ? "read version" : "no read", rv);
            } else if (!starts_with(v, base)) {
                found(rep, HC_HIST_READ_VALUE, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " read %s at version %" PRIu64
                      " (%zu bytes) but wrote %zu bytes that do not extend that value",
                      a->task, a->attempt, key->name, rv, base->len, v->len);
            } else if (!is_own_append(v, base, a)) {
                char e[32];
                elem_text(e, sizeof e, a->task, a->attempt);
                found(rep, HC_HIST_WRONG_APPEND, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 " wrote %s as the %zu bytes it read "
                      "at version %" PRIu64 " plus %zu bytes, not plus its own element '%s' "
                      "(%s)", a->task, a->attempt, key->name, base->len, rv,
                      v->len - base->len, e, v->len == base->len ? "a write-back of what it read"
                                                                   : "a foreign append");
            }
        }
        /* a reader (no writes) whose result is this attempt's */
        if (a->n_writes || a->outcome != GC_OK || a->task >= in->ntasks)
            continue;
        const gc_result *res = &in->results[a->task];
        if (res->status != GC_OK || res->attempts != a->attempt || in->nkeys == 0)
            continue;
        uint64_t h = GC_CHECKSUM_SEED;
        int known = 1;
        for (size_t k = 0; k < in->nkeys && known; k++) {
            int has_read;
            uint64_t rv = read_version(a, in->keys[k].name, &has_read);
            const gc_value *v = has_read ? value_at(in, &in->keys[k], rv) : NULL;
            known = v && is_list(v);
            if (known)
                h = gc_checksum(v->ptr, v->len, h);
        }
        if (known && (uint64_t)res->value != h)
            found(rep, HC_HIST_READ_VALUE, a->task, a->attempt, NULL,
                  "task %" PRIu32 " attempt %" PRIu32 " read the list keys and returned "
                  "checksum %016" PRIx64 ", but the values at the versions it read give %016"
                  PRIx64, a->task, a->attempt, (uint64_t)res->value, h);
    }
}

/* One parsed element "<task>.<attempt>;" of a list. */
typedef struct elem {
    uint32_t task, attempt;
    size_t key;
} elem;

/* Parse v[from..] into out (grown); 0 on a malformed element (its offset in *bad). */
static int parse_elems(const gc_value *v, size_t from, size_t key, elem **out, size_t *n,
                       size_t *cap, size_t *bad)
{
    const char *s = v->ptr;
    size_t i = from;
    while (i < v->len) {
        uint64_t t = 0, at = 0;
        size_t start = i, digits = 0;
        while (i < v->len && s[i] >= '0' && s[i] <= '9' && digits++ < 10)
            t = t * 10 + (uint64_t)(s[i++] - '0');
        int ok = digits > 0 && i < v->len && s[i] == '.';
        i += ok;
        digits = 0;
        while (ok && i < v->len && s[i] >= '0' && s[i] <= '9' && digits++ < 10)
            at = at * 10 + (uint64_t)(s[i++] - '0');
        ok = ok && digits > 0 && i < v->len && s[i] == ';' && t <= UINT32_MAX && at <= UINT32_MAX;
        if (!ok) {
            *bad = start;
            return 0;
        }
        i++;
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 64;
            elem *e = realloc(*out, c * sizeof *e);
            if (!e) {
                *bad = SIZE_MAX;
                return 0;
            }
            *out = e;
            *cap = c;
        }
        (*out)[(*n)++] = (elem){(uint32_t)t, (uint32_t)at, key};
    }
    return 1;
}

/* The final state: each list kept what it held before the run, then holds
 * exactly the elements of the installs of this run, once each; every task
 * the engine acknowledged is in it. */
static void check_final_state(const hc_hist_input *in, hc_hist_report *rep)
{
    elem *e = NULL;
    size_t n = 0, cap = 0;
    for (size_t k = 0; k < in->nkeys; k++) {
        const hc_hist_key *key = &in->keys[k];
        if (key->after.type == 0) {
            found(rep, HC_HIST_MISSING, 0, 0, key->name,
                  "%s is gone from the state after the run (it held %zu bytes at version %"
                  PRIu64 " before)", key->name, key->before.len, key->before_version);
            continue;
        }
        if (!is_list(&key->after) || !is_list(&key->before)) {
            found(rep, HC_HIST_WRONG_APPEND, 0, 0, key->name, "%s is not a list (bytes or "
                  "string) before or after the run", key->name);
            continue;
        }
        size_t from = key->before.len;
        if (!starts_with(&key->after, &key->before)) {
            found(rep, HC_HIST_MISSING, 0, 0, key->name,
                  "%s lost what it held before the run: its %zu bytes are no longer a prefix "
                  "of its %zu bytes after it", key->name, key->before.len, key->after.len);
            from = 0;
        }
        size_t bad = 0;
        if (!parse_elems(&key->after, from, k, &e, &n, &cap, &bad)) {
            if (bad == SIZE_MAX)
                found(rep, HC_HIST_INCOMPLETE, 0, 0, key->name, "out of memory parsing %s",
                      key->name);
            else
                found(rep, HC_HIST_PHANTOM_APPEND, 0, 0, key->name,
                      "%s holds bytes that are no element \"<task>.<attempt>;\" at offset %zu",
                      key->name, bad);
        }
    }
    /* each element: once, and from an install of that very key */
    for (size_t i = 0; i < n; i++) {
        const char *kname = in->keys[e[i].key].name;
        for (size_t j = 0; j < i; j++)
            if (e[j].task == e[i].task) {
                found(rep, HC_HIST_DUPLICATE, e[i].task, e[i].attempt, kname,
                      "task %" PRIu32 "'s element is in the final state twice: %" PRIu32
                      ".%" PRIu32 "; in %s and %" PRIu32 ".%" PRIu32 "; in %s", e[i].task,
                      e[j].task, e[j].attempt, in->keys[e[j].key].name, e[i].task,
                      e[i].attempt, kname);
                break;
            }
        const gc_attempt *a = find_attempt(in, e[i].task, e[i].attempt);
        if (!a || !installed(a) || !written(a, kname))
            found(rep, HC_HIST_PHANTOM_APPEND, e[i].task, e[i].attempt, kname,
                  "%s holds %" PRIu32 ".%" PRIu32 "; but attempt %" PRIu32 " of task %" PRIu32
                  " %s", kname, e[i].task, e[i].attempt, e[i].attempt, e[i].task,
                  !a ? "is not in the history"
                     : !installed(a) ? "was not installed" : "installed no write of it");
    }
    /* each install that appended is in its key; each acknowledged task too */
    for (size_t i = 0; i < in->nattempts; i++) {
        const gc_attempt *a = in->attempts[i];
        if (!installed(a))
            continue;
        for (size_t w = 0; w < a->n_writes; w++) {
            const hc_hist_key *key = list_key(in, a->writes[w]);
            if (!key)
                continue;
            size_t k = (size_t)(key - in->keys), hit = 0;
            for (size_t j = 0; j < n; j++)
                hit += e[j].key == k && e[j].task == a->task && e[j].attempt == a->attempt;
            int has_read;
            uint64_t rv = read_version(a, key->name, &has_read);
            const gc_value *base = has_read ? value_at(in, key, rv) : NULL;
            int appended = base && is_list(base) && is_list(&a->values[w]) &&
                           starts_with(&a->values[w], base) && is_own_append(&a->values[w], base, a);
            if (appended && !hit)
                found(rep, HC_HIST_MISSING, a->task, a->attempt, key->name,
                      "task %" PRIu32 " attempt %" PRIu32 "'s append %" PRIu32 ".%" PRIu32
                      "; to %s, installed at version %" PRIu64 " (base %" PRIu64 "), is not in "
                      "the final state", a->task, a->attempt, a->task, a->attempt, key->name,
                      a->version, a->base);
        }
    }
    for (uint32_t t = 0; t < in->ntasks; t++) {
        const gc_result *res = &in->results[t];
        if (res->status != GC_OK || res->committed_version == 0)
            continue;
        const gc_attempt *a = find_attempt(in, t, res->attempts);
        if (!a || !installed(a) || a->version != res->committed_version)
            found(rep, HC_HIST_MISSING, t, res->attempts, NULL,
                  "task %" PRIu32 " was acknowledged as committed at version %" PRIu64 " by "
                  "attempt %" PRIu32 ", but the history %s", t, res->committed_version,
                  res->attempts,
                  !a ? "has no such attempt"
                     : !installed(a) ? "did not install it"
                                     : "installed it at another version");
    }
    free(e);
}

static const char *dkind(gc_delivery_kind k)
{
    return k == GC_DELIVERY_EVENT ? "event" : "message";
}

/* What the subscriber and the sink saw: only installed attempts' deliveries,
 * each at the version its attempt installed, once; and every delivery the
 * engine recorded was seen. */
static void check_deliveries(const hc_hist_input *in, hc_hist_report *rep)
{
    for (size_t i = 0; i < in->nseen; i++) {
        const hc_hist_seen *s = &in->seen[i];
        uint32_t by = s->made_by ? s->made_by : s->attempt;
        rep->deliveries_checked++;
        const gc_attempt *a = find_attempt(in, s->task, by);
        if (!a || !installed(a)) {
            found(rep, HC_HIST_PHANTOM_DELIVERY, s->task, by, NULL,
                  "the %s of task %" PRIu32 " attempt %" PRIu32 " was delivered (for attempt %"
                  PRIu32 ", at version %" PRIu64 "), but attempt %" PRIu32 " %s%s", dkind(s->kind),
                  s->task, by, s->attempt, s->version, by,
                  !a ? "is not in the history" : "was not installed: its outcome is ",
                  a ? gc_status_name(a->outcome) : "");
            continue;
        }
        if (s->version != a->version)
            found(rep, HC_HIST_PHANTOM_DELIVERY, s->task, by, NULL,
                  "the %s of task %" PRIu32 " attempt %" PRIu32 " was delivered at version %"
                  PRIu64 ", but that attempt installed version %" PRIu64, dkind(s->kind),
                  s->task, by, s->version, a->version);
        for (size_t j = 0; j < i; j++) {
            const hc_hist_seen *o = &in->seen[j];
            if (o->kind == s->kind && o->task == s->task &&
                (o->made_by ? o->made_by : o->attempt) == by) {
                found(rep, HC_HIST_PHANTOM_DELIVERY, s->task, by, NULL,
                      "the %s of task %" PRIu32 " attempt %" PRIu32 " was delivered twice (at "
                      "versions %" PRIu64 " and %" PRIu64 ")", dkind(s->kind), s->task, by,
                      o->version, s->version);
                break;
            }
        }
    }
    for (size_t i = 0; i < in->nattempts; i++) {
        const gc_attempt *a = in->attempts[i];
        if (!installed(a))
            continue;
        for (size_t d = 0; d < a->n_deliveries; d++) {
            if (a->deliveries[d].receivers == 0)
                continue;
            int seen = 0;
            for (size_t j = 0; j < in->nseen && !seen; j++)
                seen = in->seen[j].kind == a->deliveries[d].kind &&
                       in->seen[j].task == a->task &&
                       (in->seen[j].made_by ? in->seen[j].made_by : in->seen[j].attempt) ==
                           a->attempt;
            if (!seen)
                found(rep, HC_HIST_MISSING_DELIVERY, a->task, a->attempt, NULL,
                      "task %" PRIu32 " attempt %" PRIu32 " installed version %" PRIu64 " and "
                      "the engine recorded its %s '%s' as delivered, but nobody saw it",
                      a->task, a->attempt, a->version, dkind(a->deliveries[d].kind),
                      a->deliveries[d].topic);
        }
    }
}

size_t hc_hist_check(const hc_hist_input *in, hc_hist_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (in->incomplete) {
        found(rep, HC_HIST_INCOMPLETE, 0, 0, NULL,
              "the engine could not record %zu attempts whole (out of memory): the history "
              "cannot be trusted", in->incomplete);
        return rep->total;
    }
    check_versions(in, rep);
    check_lost_updates(in, rep);
    check_reads_and_writes(in, rep);
    check_final_state(in, rep);
    check_deliveries(in, rep);
    return rep->total;
}

void hc_hist_summary(const hc_hist_report *rep, char *buf, size_t cap)
{
    size_t n = 0;
#define PUT(...) do { if (n < cap) { int w_ = snprintf(buf + n, cap - n, __VA_ARGS__); \
                                     n += w_ > 0 ? (size_t)w_ : 0; } } while (0)
    if (cap)
        buf[0] = '\0';
    PUT("%zu anomal%s (", rep->total, rep->total == 1 ? "y" : "ies");
    int any = 0;
    for (int k = 0; k < HC_HIST_NKINDS; k++)
        if (rep->count[k]) {
            PUT("%s%s %zu", any ? ", " : "", kind_names[k], rep->count[k]);
            any = 1;
        }
    PUT(")");
    for (int k = 0; k < HC_HIST_NKINDS; k++)
        if (rep->count[k])
            PUT("; %s: %s", kind_names[k], rep->first[k].text);
#undef PUT
}
