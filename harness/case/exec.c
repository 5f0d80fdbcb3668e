/* harness case module, executor: runs one parsed case once, in one mode, on a
 * fresh engine, and judges it. It builds the state the case describes (domain
 * values, a published heavy zone filled with its patterns), runs
 * gc_execute_parallel, then checks every expectation in a fixed order (task
 * statuses, values, texts, outputs, unchanged heavy data, wall-time limit,
 * claims) and writes the first unmet one into hc_outcome with the figures
 * involved. Expected values are always computed here, in the main process,
 * from the state's own bytes: a case file never carries a checksum, so a
 * worker that saw other bytes (or none) cannot agree with it by accident.
 * Every resource taken here is released on the single exit path of
 * hc_case_run. Isolation (fork, timeout, leak accounting) is the runner's job. */
#include "case_int.h"
#include "histcheck.h"
#include "probe.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>


/* The first unmet expectation wins; later ones would only repeat it. */
static void unmet(hc_outcome *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void unmet(hc_outcome *out, const char *fmt, ...)
{
    if (!out->passed)
        return;
    out->passed = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

static void add_metric(hc_outcome *out, const hc_metric_def *def, double value)
{
    if (out->nmetrics >= HC_METRICS_MAX)
        return;
    hc_metric *m = &out->metrics[out->nmetrics++];
    snprintf(m->name, sizeof m->name, "%s", def->name);
    snprintf(m->unit, sizeof m->unit, "%s", def->unit);
    m->value = value;
}

static const hc_metric *find_metric(const hc_outcome *out, const char *name)
{
    for (int i = 0; i < out->nmetrics; i++)
        if (strcmp(out->metrics[i].name, name) == 0)
            return &out->metrics[i];
    return NULL;
}

/* Median in ms of one nanosecond field over all results (leaves scratch
 * sorted: its last value is the slowest). */
static double median_ms(const gc_result *res, uint32_t n, int exec, double *scratch)
{
    for (uint32_t i = 0; i < n; i++)
        scratch[i] = (double)(exec ? res[i].exec_ns : res[i].wall_ns) / 1e6;
    return gc_median(scratch, n);
}

/* The state of the case: domain values in file order, then a heavy zone with
 * the entries in file order, filled and published (unless heavy_zone = none).
 * The zone belongs to the state once attached; before that, to this function. */
/* Where in the case file a run error comes from: the line and key of the
 * value that could not be built (0 / "" when no single line is to blame). */
typedef struct hc_where {
    int line;
    char key[96];
} hc_where;

static void where_entry(hc_where *w, const hc_entry *e, const char *key)
{
    w->line = e->line;
    snprintf(w->key, sizeof w->key, "%s.%s%s%s", e->output ? "output" : "heavy", e->name,
             key ? "." : "", key ? key : "");
}

static int build_state(const hc_case *c, uint64_t seed, gc_state **out, gc_err *ge, hc_where *w)
{
    gc_state *st = NULL;
    gc_zone *z = NULL;
    *w = (hc_where){0};
    /* The zone lives in tmpfs: filling more than the machine has ends in the
     * OOM killer, not in an error. Refuse first, with the figures. */
    uint64_t need = 0, have = hc_probe_mem_available();
    size_t largest = 0;
    for (size_t i = 0; i < c->nentries; i++) {
        need += c->entries[i].size;
        if (c->entries[i].size > c->entries[largest].size)
            largest = i;
    }
    if (have && need > have) {
        where_entry(w, &c->entries[largest], "size");   /* the largest entry is the one to cut */
        return gc_err_set(ge, GC_ELIMIT,
                          "the heavy zone needs %llu MiB, only %llu MiB are available "
                          "(add requires = mem>=SIZE to skip such a case)",
                          (unsigned long long)(need >> 20), (unsigned long long)(have >> 20));
    }
    int rc = gc_state_new(&st, ge);
    for (size_t i = 0; rc == GC_OK && i < c->ndomain; i++) {
        const hc_domain_val *d = &c->domain[i];
        w->line = d->line;
        snprintf(w->key, sizeof w->key, "domain.%s", d->name);
        switch (d->type) {
        case GC_VAL_INT: rc = gc_state_set_int(st, d->name, d->i, ge); break;
        case GC_VAL_DOUBLE: rc = gc_state_set_double(st, d->name, d->d, ge); break;
        case GC_VAL_STR: rc = gc_state_set_str(st, d->name, (const char *)d->data, ge); break;
        case GC_VAL_BYTES: rc = gc_state_set_bytes(st, d->name, d->data, d->len, ge); break;
        }
    }
    if (rc == GC_OK)
        *w = (hc_where){0};
    if (rc == GC_OK && !c->zone_none) {
        rc = gc_zone_new(&z, ge);
        for (size_t i = 0; rc == GC_OK && i < c->nentries; i++) {
            where_entry(w, &c->entries[i], NULL);
            rc = gc_zone_declare(z, c->entries[i].name, c->entries[i].size,
                                 c->entries[i].output ? GC_ENTRY_OUTPUT : 0, ge);
        }
        if (rc == GC_OK && c->nentries) {
            /* Allocating and publishing concern the whole zone: blamed on
             * its first entry, which is where the zone starts in the file. */
            where_entry(w, &c->entries[0], NULL);
            rc = gc_zone_allocate(z, ge);
        } else if (rc == GC_OK) {
            rc = gc_zone_allocate(z, ge);
        }
        for (size_t i = 0; rc == GC_OK && i < c->nentries; i++) {
            const hc_entry *e = &c->entries[i];
            if (e->output)
                continue;
            where_entry(w, e, "fill");
            void *data;
            size_t len;
            rc = gc_zone_fill(z, e->name, &data, &len, ge);
            if (rc != GC_OK)
                break;
            gc_pattern p = e->fill;
            /* "random" without a seed: the run's seed picks the bytes, which
             * is allowed because every expectation is computed from them. */
            if (e->fill_from_seed)
                p.seed = gc_checksum(e->name, strlen(e->name), seed);
            /* A fresh memfd reads as zeros: writing them would only commit
             * memory. */
            if (p.kind != GC_PATTERN_ZERO)
                gc_pattern_fill(&p, data, len, 0);
        }
        if (rc == GC_OK && c->nentries)
            where_entry(w, &c->entries[0], NULL);
        if (rc == GC_OK)
            rc = gc_zone_publish(z, ge);
        if (rc == GC_OK && c->outputs_frozen)
            rc = gc_zone_freeze_outputs(z, ge);
        if (rc == GC_OK)
            rc = gc_state_set_heavy(st, z, ge);
        if (rc == GC_OK)
            z = NULL;                   /* the state owns it now */
    }
    gc_zone_free(z);
    if (rc != GC_OK) {
        gc_state_free(st);
        return rc;
    }
    *out = st;
    return GC_OK;
}

/* What the process should return, computed from the state's bytes the way
 * builtins.h defines checksum and touch. Fails (with why) when the contract
 * names an entry the state does not have: then no value can be expected. */
static int expected_value(const hc_case *c, const gc_state *st, const gc_contract *k,
                          int64_t *value, char *why, size_t whylen)
{
    if (c->value_kind == HC_VALUE_INT) {
        *value = c->value;
        return GC_OK;
    }
    const gc_zone *z = gc_state_heavy(st);
    uint64_t h = GC_CHECKSUM_SEED;
    int64_t sum = 0;
    for (size_t i = 0; i < k->n_heavy_reads; i++) {
        const void *data;
        size_t len;
        gc_err ge;
        if (!z || gc_zone_read(z, k->heavy_reads[i], &data, &len, &ge) != GC_OK) {
            snprintf(why, whylen, "heavy entry '%s' named by the contract is not in the state",
                     k->heavy_reads[i]);
            return GC_ENOTFOUND;
        }
        h = gc_checksum(data, len, h);
        if (len)
            sum += ((const uint8_t *)data)[0] + ((const uint8_t *)data)[len - 1];
    }
    *value = c->value_kind == HC_VALUE_CHECKSUM ? (int64_t)h : sum;
    return GC_OK;
}

/* Checksums of every input entry, to prove the run changed none of them. */
static int heavy_sums(const gc_state *st, uint64_t **out, size_t *n)
{
    const gc_zone *z = gc_state_heavy(st);
    size_t cnt = z ? gc_zone_count(z) : 0;
    uint64_t *v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v)
        return GC_ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const gc_zone_entry *e = gc_zone_entry_at(z, i);
        const void *data;
        size_t len;
        if (e->flags & GC_ENTRY_OUTPUT || gc_zone_read(z, e->name, &data, &len, NULL) != GC_OK)
            continue;
        v[i] = gc_checksum(data, len, GC_CHECKSUM_SEED);
    }
    *out = v;
    *n = cnt;
    return GC_OK;
}

void hc__check_heavy_unchanged(const gc_state *st, const uint64_t *before, size_t nbefore,
                               hc_outcome *out)
{
    uint64_t *after = NULL;
    size_t nafter = 0;
    if (heavy_sums(st, &after, &nafter) != GC_OK) {
        unmet(out, "heavy_unchanged: out of memory");
        return;
    }
    const gc_zone *z = gc_state_heavy(st);
    if (nafter != nbefore)
        unmet(out, "heavy_unchanged: %zu entries before the run, %zu after", nbefore, nafter);
    for (size_t i = 0; i < nbefore && i < nafter && out->passed; i++)
        if (before[i] != after[i])
            unmet(out, "heavy entry '%s' changed during the run (checksum %016" PRIx64
                       " before, %016" PRIx64 " after)",
                  gc_zone_entry_at(z, i)->name, before[i], after[i]);
    free(after);
}

void hc__check_rss_growth(const hc_case *c, long rss_first, long rss_end, hc_outcome *out)
{
    if (rss_first > 0 && rss_end > 0 &&
        (uint64_t)(rss_end > rss_first ? rss_end - rss_first : 0) > c->rss_growth_kb_max)
        unmet(out, "RSS grew from %ld kB after round 1 to %ld kB after round %u (limit +%" PRIu64
                   " kB)",
              rss_first, rss_end, c->rounds, c->rss_growth_kb_max);
}

/* Compare an output entry with its pattern; reports the first differing byte. */
static void check_output(hc_outcome *out, const gc_state *st, const hc_output_exp *oe)
{
    const gc_zone *z = gc_state_heavy(st);
    void *data;
    size_t len;
    gc_err ge;
    if (!z || gc_zone_output(z, oe->name, &data, &len, &ge) != GC_OK) {
        unmet(out, "output '%s': not readable after the run (%s)", oe->name,
              z ? ge.msg : "the state has no heavy zone");
        return;
    }
    uint8_t chunk[65536];
    const uint8_t *d = data;
    for (size_t off = 0; off < len; off += sizeof chunk) {
        size_t n = len - off < sizeof chunk ? len - off : sizeof chunk;
        gc_pattern_fill(&oe->pattern, chunk, n, off);
        if (memcmp(d + off, chunk, n) == 0)
            continue;
        size_t i = 0;
        while (d[off + i] == chunk[i])
            i++;
        unmet(out, "output '%s': byte at offset %zu of %zu is 0x%02x, expected 0x%02x from its "
                   "pattern",
              oe->name, off + i, len, d[off + i], chunk[i]);
        return;
    }
}

/* Before every round, each output with an expectation is set to the bitwise
 * complement of its expected pattern, so every byte differs from what must
 * be read back: bytes nobody wrote this round (a worker that stopped writing
 * from round 2 on, or an output no worker wrote at all whose pattern is the
 * initial zeros) fail the check after the round. */
static void poison_outputs(const hc_case *c, const gc_state *st)
{
    /* Frozen outputs are read-only for every process, the main one too: no
     * worker can write them, so there is nothing to poison (and the store
     * would fault). Their expectation checks the bytes they were frozen with. */
    if (c->outputs_frozen)
        return;
    const gc_zone *z = gc_state_heavy(st);
    for (size_t i = 0; z && i < c->noutputs_exp; i++) {
        void *data;
        size_t len;
        if (gc_zone_output(z, c->outputs_exp[i].name, &data, &len, NULL) != GC_OK)
            continue;   /* check_output reports it */
        uint8_t *d = data;
        gc_pattern_fill(&c->outputs_exp[i].pattern, d, len, 0);
        for (size_t k = 0; k < len; k++)
            d[k] = (uint8_t)~d[k];
    }
}

/* Note every process that ran a task of this call (see hc_outcome.pids). */
static void note_pids(hc_outcome *out, const gc_result *res, uint32_t n)
{
    int32_t self = (int32_t)getpid();
    for (uint32_t t = 0; t < n; t++) {
        int32_t pid = res[t].pid;
        if (pid <= 0)
            continue;   /* no worker got this task */
        int known = 0;
        for (int i = 0; i < out->npids && !known; i++)
            known = out->pids[i] == pid;
        if (known)
            continue;
        if (pid == self && out->npids > 0) {
            /* The case's own pid always makes the list: it is the one that
             * tells thread workers from process workers. */
            if (out->npids == HC_PIDS_MAX)
                out->pids_unlisted++;
            else
                out->npids++;
            memmove(&out->pids[1], &out->pids[0], (size_t)(out->npids - 1) * sizeof *out->pids);
            out->pids[0] = pid;
        } else if (out->npids < HC_PIDS_MAX) {
            out->pids[out->npids++] = pid;
        } else {
            out->pids_unlisted++;
        }
    }
}

static void check_tasks(const hc_case *c, const gc_result *res, const gc_state *st,
                        const gc_contract *k, hc_outcome *out)
{
    for (uint32_t t = 0; t < c->tasks && out->passed; t++) {
        int want = hc__expected_status(c, t);
        if (res[t].status == want)
            continue;
        char extra[64] = "";
        if (res[t].status == GC_ECRASH)
            snprintf(extra, sizeof extra, ", signal %d", res[t].signal);
        else if (res[t].status == GC_EEXIT)
            snprintf(extra, sizeof extra, ", exit code %d", res[t].exit_code);
        unmet(out, "task %u: status %s (%s%s), expected %s", t, gc_status_name(res[t].status),
              res[t].text[0] ? res[t].text : gc_status_text(res[t].status), extra,
              gc_status_name(want));
    }
    if (out->passed && c->value_kind != HC_VALUE_NONE) {
        int64_t want = 0;
        char why[256] = "";
        if (expected_value(c, st, k, &want, why, sizeof why) != GC_OK) {
            unmet(out, "value = %s: cannot be computed: %s",
                  c->value_kind == HC_VALUE_CHECKSUM ? "checksum" : "touch", why);
        } else {
            for (uint32_t t = 0; t < c->tasks && out->passed; t++) {
                if (hc__expected_status(c, t) != GC_OK || res[t].value == want)
                    continue;
                if (c->value_kind == HC_VALUE_CHECKSUM)
                    unmet(out, "task %u: value 0x%016" PRIx64 ", expected checksum 0x%016" PRIx64
                               " of the %zu heavy entries the contract reads",
                          t, (uint64_t)res[t].value, (uint64_t)want, k->n_heavy_reads);
                else
                    unmet(out, "task %u: value %" PRId64 ", expected %" PRId64 "%s", t,
                          res[t].value, want,
                          c->value_kind == HC_VALUE_TOUCH ? " (sum of first and last bytes)" : "");
            }
        }
    }
    for (uint32_t t = 0; c->text && t < c->tasks && out->passed; t++)
        if (hc__expected_status(c, t) == GC_OK && strcmp(res[t].text, c->text) != 0)
            unmet(out, "task %u: text '%s', expected '%s'", t, res[t].text, c->text);
    for (uint32_t t = 0; c->text_contains && t < c->tasks && out->passed; t++)
        if (!strstr(res[t].text, c->text_contains))
            unmet(out, "task %u: text '%s' does not contain '%s'", t, res[t].text,
                  c->text_contains);
    /* What single tasks must show besides their status (KEY.N). */
    for (size_t i = 0; i < c->nstatus_one && out->passed; i++) {
        const hc_status_exp *te = &c->status_one[i];
        const gc_result *rt = &res[te->task];
        const char *abbrev = te->signal ? sigabbrev_np(te->signal) : NULL;
        if (te->signal && rt->signal != te->signal)
            unmet(out, "task %u: signal %d, expected %d (SIG%s) (status %s: %s)", te->task,
                  rt->signal, te->signal, abbrev ? abbrev : "?", gc_status_name(rt->status),
                  rt->text);
        else if (te->text && strcmp(rt->text, te->text) != 0)
            unmet(out, "task %u: text '%s', expected '%s'", te->task, rt->text, te->text);
        else if (te->text_contains && !strstr(rt->text, te->text_contains))
            unmet(out, "task %u: text '%s' does not contain '%s'", te->task, rt->text,
                  te->text_contains);
        else if (te->sent == 0 && rt->pid != 0)
            unmet(out, "task %u: reached a worker (pid %d), expected never sent (status %s: %s)",
                  te->task, rt->pid, gc_status_name(rt->status), rt->text);
        else if (te->sent == 1 && rt->pid == 0)
            unmet(out, "task %u: no worker got it, expected sent (status %s: %s)", te->task,
                  gc_status_name(rt->status), rt->text);
    }
}

/* The engine's own counters against [expect] workers_started,
 * workers_replaced and pool_restarts, after the last round. */
static void check_counters(const hc_case *c, gc_engine *e, hc_outcome *out)
{
    gc_engine_stats st;
    gc_engine_stats_get(e, &st);
    const struct {
        const char *name;
        uint32_t want;
        uint64_t got;
    } k[] = {
        {"workers_started", c->exp_workers_started, st.workers_started},
        {"workers_replaced", c->exp_workers_replaced, st.workers_replaced},
        {"pool_restarts", c->exp_pool_restarts, st.pool_restarts},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0] && out->passed; i++)
        if (k[i].want != HC_COUNT_UNCHECKED && k[i].got != k[i].want)
            unmet(out, "engine counter %s = %" PRIu64 ", expected %u (started %" PRIu64
                       ", replaced %" PRIu64 ", pool restarts %" PRIu64 ", dispatches %" PRIu64 ")",
                  k[i].name, k[i].got, k[i].want, st.workers_started, st.workers_replaced,
                  st.pool_restarts, st.dispatches);
}

/* What subscribers and the outbox sink saw in the current round: the
 * commit path's deliveries, checked against [expect] events/messages. */
typedef struct hc_delivery {
    gc_delivery_kind kind;
    uint32_t task, attempt;
    uint32_t made_by;               /* the attempt the payload names; 0: it names none */
    uint64_t version;
    char id[GC_NAME_MAX + 1];
} hc_delivery;

/* The attempt a builtin's payload ("task=T attempt=A") says made it: the
 * engine's own d->attempt is the attempt it was delivered for, and a phantom
 * (INC-016) is exactly a payload of one attempt delivered for another. */
static uint32_t payload_attempt(const gc_delivery *d)
{
    static const char tag[] = "attempt=";
    const char *p = d->payload;
    size_t n = d->len, t = sizeof tag - 1;
    for (size_t i = 0; p && i + t < n; i++) {
        if (memcmp(p + i, tag, t) != 0)
            continue;
        uint64_t a = 0;
        size_t j = i + t;
        while (j < n && p[j] >= '0' && p[j] <= '9' && a <= UINT32_MAX)
            a = a * 10 + (uint64_t)(p[j++] - '0');
        return j > i + t && a <= UINT32_MAX ? (uint32_t)a : 0;
    }
    return 0;
}

typedef struct hc_deliveries {
    hc_delivery *v;
    size_t n, cap;
    int lost;                       /* out of memory: counts cannot be trusted */
} hc_deliveries;

static void delivered(const gc_delivery *d, void *arg)
{
    hc_deliveries *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        hc_delivery *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->lost = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    hc_delivery *x = &l->v[l->n++];
    x->kind = d->kind;
    x->task = d->task;
    x->attempt = d->attempt;
    x->made_by = payload_attempt(d);
    x->version = d->version;
    snprintf(x->id, sizeof x->id, "%s", d->id);
}

/* Everything one execution of a case holds; released by run_release alone. */
typedef struct hc_run {
    const hc_case *c;
    gc_engine *eng;
    gc_config cfg;                  /* the case's engine configuration */
    gc_state *st;
    gc_contract contract;           /* the case's [contract] */
    const gc_contract *k;           /* the contract in force */
    gc_result *res;                 /* callers x tasks */
    double *scratch;
    uint64_t *before;               /* heavy checksums of the current state */
    size_t nbefore;
    double *round_ms;               /* wall time of each round (caller 0) */
    int expect_run;                 /* what execute_parallel must return now */
    char note[384];                 /* appended to the passing message */
    char process[GC_NAME_MAX + 1];  /* the name the rounds call (see register_every) */
    hc_where where;                 /* what the last state build was doing */
    char run_msg[GC_ERR_MSG_MAX];   /* why the last call failed, "" if it did not */
    uint64_t started_in_window;     /* pool workers started during the timed rounds */
    hc_deliveries events, msgs;     /* of the current round */
    gc_history *hist;               /* [expect] history: the round's attempts */
    hc_hist_key *hkeys;             /* the list keys as the round found them (copies) */
    uint64_t hversion;              /* the state's version then */
    uint64_t hist_attempts, hist_installed, hist_reads, hist_deliveries;
} hc_run;

static void run_release(hc_run *r)
{
    free(r->round_ms);
    free(r->before);
    free(r->scratch);
    free(r->res);
    free(r->events.v);
    free(r->msgs.v);
    for (size_t i = 0; r->hkeys && i < r->c->domain_writes.n; i++)
        free((void *)r->hkeys[i].before.ptr);
    free(r->hkeys);
    gc_history_free(r->hist);
    gc_state_free(r->st);
    gc_engine_free(r->eng);
}

/* ASan's quarantine and valgrind's own heap make RSS the tool's figure, not
 * the engine's: an RSS limit is meaningless under them. */
static int under_memory_tool(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#else
    return gc_census_under_valgrind();
#endif
}

/* Under valgrind every instruction of the case and its workers runs some
 * 10-50 times slower, and a worker's first task pays for translating the
 * code it reaches; a 200 ms deadline meant for a task that finishes in
 * microseconds then kills it (seen at load 8). Valgrind judges memory, not
 * time: its runs stretch every deadline and wall limit of a case by this
 * factor. make check (no tool) keeps the limits as written. */
static uint32_t tool_slowdown(void)
{
    return gc_census_under_valgrind() ? 10 : 1;
}

static uint32_t task_deadline_ms(const hc_case *c)
{
    return c->task_timeout_ms * tool_slowdown();
}

static long rss_kb(void)
{
    gc_census c;
    return gc_census_take(&c) == GC_OK ? c.rss_kb : -1;
}

/* (Re)build the state; its heavy checksums are taken when the case asks for
 * heavy_unchanged, so the comparison is always against this generation. */
static int run_new_state(hc_run *r, uint64_t seed, gc_err *ge)
{
    gc_state_free(r->st);
    r->st = NULL;
    free(r->before);
    r->before = NULL;
    int rc = build_state(r->c, seed, &r->st, ge, &r->where);
    if (rc == GC_OK && r->c->heavy_unchanged) {
        rc = heavy_sums(r->st, &r->before, &r->nbefore);
        if (rc != GC_OK)
            gc_err_set(ge, rc, "out of memory for heavy checksums");
    }
    return rc;
}

/* Resource limits of [run], applied around the limited attempt only. */
typedef struct hc_limits {
    struct rlimit nofile, as;
    int set_nofile, set_as;
} hc_limits;

/* Highest open descriptor + 1 (the engine's census), so that a limit can be expressed as headroom.
 * Descriptors at or above the soft limit are a tool's (valgrind keeps its own
 * there) and do not count. */
static int fd_ceiling(void)
{
    gc_census cs;
    return gc_census_take(&cs) == GC_OK ? cs.fd_top : 0;
}

/* The address space now (VmSize), from the same census. */
static uint64_t vm_size(void)
{
    gc_census cs;
    return gc_census_take(&cs) == GC_OK ? (uint64_t)cs.vm_kb * 1024u : 0;
}

/* Limits are headroom over what the process holds now, so a case means the
 * same under the runner, valgrind or ASan: limit_nofile = N lets N more
 * descriptors be opened, limit_as = SIZE lets the address space grow by SIZE. */
static int limits_apply(const hc_case *c, hc_limits *saved, gc_err *ge)
{
    memset(saved, 0, sizeof *saved);
    if (c->limit_nofile_set) {
        if (getrlimit(RLIMIT_NOFILE, &saved->nofile) != 0)
            return gc_err_set(ge, GC_ESYS, "getrlimit(RLIMIT_NOFILE) failed");
        rlim_t want = (rlim_t)fd_ceiling() + c->limit_nofile;
        struct rlimit l = {want, saved->nofile.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &l) != 0)
            return gc_err_set(ge, GC_ESYS, "setrlimit(RLIMIT_NOFILE, %llu) failed",
                              (unsigned long long)want);
        saved->set_nofile = 1;
    }
    if (c->limit_as) {
        if (getrlimit(RLIMIT_AS, &saved->as) != 0)
            return gc_err_set(ge, GC_ESYS, "getrlimit(RLIMIT_AS) failed");
        struct rlimit l = {(rlim_t)(vm_size() + c->limit_as), saved->as.rlim_max};
        if (setrlimit(RLIMIT_AS, &l) != 0)
            return gc_err_set(ge, GC_ESYS, "setrlimit(RLIMIT_AS) failed");
        saved->set_as = 1;
    }
    return GC_OK;
}

static void limits_restore(hc_limits *saved)
{
    if (saved->set_nofile)
        setrlimit(RLIMIT_NOFILE, &saved->nofile);
    if (saved->set_as)
        setrlimit(RLIMIT_AS, &saved->as);
    saved->set_nofile = saved->set_as = 0;
}

/* [expect] history = consistent, before a round: the list keys' values (copied:
 * the round commits into the state) and versions, and an empty history. */
static int history_begin(hc_run *r, hc_outcome *out)
{
    const hc_case *c = r->c;
    gc_history_clear(r->hist);
    r->hversion = gc_state_version(r->st);
    for (size_t i = 0; i < c->domain_writes.n; i++) {
        hc_hist_key *k = &r->hkeys[i];
        free((void *)k->before.ptr);
        memset(k, 0, sizeof *k);
        k->name = c->domain_writes.v[i];
        const gc_value *v;
        if (gc_state_get(r->st, k->name, &v) != GC_OK ||
            (v->type != GC_VAL_BYTES && v->type != GC_VAL_STR) ||
            gc_state_key_version(r->st, k->name, &k->before_version) != GC_OK) {
            unmet(out, "history: list key '%s' is not a bytes or string key of the state",
                  k->name);
            return GC_EINVAL;
        }
        void *copy = malloc(v->len + 1);
        if (!copy) {
            unmet(out, "history: out of memory copying '%s'", k->name);
            return GC_ENOMEM;
        }
        memcpy(copy, v->ptr, v->len);
        k->before = *v;
        k->before.ptr = copy;
    }
    return GC_OK;
}

/* After a round: the checker over what the engine recorded, the results, the
 * list keys now and what the subscriber and the sink saw. */
static void history_end(hc_run *r, const gc_result *res, hc_outcome *out)
{
    const hc_case *c = r->c;
    size_t na = gc_history_count(r->hist), ns = r->events.n + r->msgs.n;
    const gc_attempt **att = calloc(na + 1, sizeof *att);
    hc_hist_seen *seen = calloc(ns + 1, sizeof *seen);
    if (!att || !seen || r->events.lost || r->msgs.lost) {
        unmet(out, "history: out of memory recording the round");
        free(att);
        free(seen);
        return;
    }
    for (size_t i = 0; i < na; i++)
        att[i] = gc_history_at(r->hist, i);
    for (size_t i = 0; i < ns; i++) {
        const hc_delivery *d = i < r->events.n ? &r->events.v[i] : &r->msgs.v[i - r->events.n];
        seen[i] = (hc_hist_seen){d->kind, d->task, d->attempt, d->made_by, d->version};
    }
    for (size_t i = 0; i < c->domain_writes.n; i++) {
        hc_hist_key *k = &r->hkeys[i];
        const gc_value *v;
        k->after = (gc_value){0};
        k->after_version = 0;
        if (gc_state_get(r->st, k->name, &v) == GC_OK) {
            k->after = *v;
            gc_state_key_version(r->st, k->name, &k->after_version);
        }
    }
    hc_hist_input in = {.attempts = att, .nattempts = na,
                        .incomplete = gc_history_incomplete(r->hist), .results = res,
                        .ntasks = c->tasks, .keys = r->hkeys, .nkeys = c->domain_writes.n,
                        .seen = seen, .nseen = ns, .version_before = r->hversion,
                        .version_after = gc_state_version(r->st)};
    hc_hist_report rep;
    if (hc_hist_check(&in, &rep) > 0) {
        char sum[HC_MESSAGE_MAX];
        hc_hist_summary(&rep, sum, sizeof sum);
        unmet(out, "history inconsistent over %zu attempts: %s", na, sum);
    }
    r->hist_attempts += na;
    r->hist_installed += rep.installed;
    r->hist_reads += rep.reads_checked;
    r->hist_deliveries += rep.deliveries_checked;
    free(att);
    free(seen);
}

typedef struct hc_caller {
    hc_run *r;
    gc_exec_opts opts;
    gc_result *res;
    int rc;
    gc_err ge;
    uint64_t ns;
} hc_caller;

static void *caller_main(void *arg)
{
    hc_caller *cl = arg;
    uint64_t t0 = gc_now_ns();
    cl->rc = gc_execute_parallel(cl->r->eng, cl->r->st, &cl->opts, cl->res, &cl->ge);
    cl->ns = gc_now_ns() - t0;
    return NULL;
}

/* One round: every caller runs the process once. Caller 0 is this thread;
 * the others are threads of the main process calling at the same time. */
static int run_round(hc_run *r, gc_mode mode, hc_outcome *out, double *wall_ms)
{
    const hc_case *c = r->c;
    hc_caller cl[64];
    pthread_t th[64];
    uint32_t started = 1;
    r->events.n = r->msgs.n = 0;
    for (uint32_t i = 0; i < c->callers; i++) {
        cl[i] = (hc_caller){.r = r, .res = r->res + (size_t)i * c->tasks};
        cl[i].opts = (gc_exec_opts){.process = r->process, .mode = mode, .workers = c->workers,
                                    .tasks = c->tasks, .timeout_ms = task_deadline_ms(c),
                                    .contract = c->has_contract ? &r->contract : NULL,
                                    .retries = c->retries};
        gc_err_clear(&cl[i].ge);
    }
    /* callers is 1 when the history is checked (the parser says so) */
    if (c->history_check) {
        if (history_begin(r, out) != GC_OK)
            return GC_EINVAL;
        cl[0].opts.history = r->hist;
    }
    for (uint32_t i = 1; i < c->callers; i++, started++)
        if (pthread_create(&th[i], NULL, caller_main, &cl[i]) != 0)
            break;
    caller_main(&cl[0]);
    for (uint32_t i = 1; i < started; i++)
        pthread_join(th[i], NULL);
    if (started < c->callers) {
        unmet(out, "could start only %u of %u caller threads", started, c->callers);
        return GC_ESYS;
    }
    *wall_ms = (double)cl[0].ns / 1e6;
    for (uint32_t i = 0; i < c->callers; i++)
        if (cl[i].rc == GC_OK)
            note_pids(out, cl[i].res, c->tasks);
    snprintf(r->run_msg, sizeof r->run_msg, "%s", cl[0].rc != GC_OK ? cl[0].ge.msg : "");
    for (uint32_t i = 0; i < c->callers && out->passed; i++) {
        if (cl[i].rc != r->expect_run) {
            unmet(out, "execute_parallel (%s mode%s) returned %s (%s), expected %s",
                  mode == GC_MODE_THREAD ? "thread" : "process",
                  c->callers > 1 ? ", one of concurrent callers" : "", gc_status_name(cl[i].rc),
                  cl[i].ge.msg[0] ? cl[i].ge.msg : gc_status_text(cl[i].rc),
                  gc_status_name(r->expect_run));
            break;
        }
        /* The history first: an anomaly explains the statuses it causes. */
        if (cl[i].rc == GC_OK && i == 0 && c->history_check)
            history_end(r, cl[i].res, out);
        if (cl[i].rc == GC_OK)
            check_tasks(c, cl[i].res, r->st, r->k, out);
    }
    return GC_OK;
}

static int typed_equal(const gc_value *v, const hc_domain_val *want)
{
    if (v->type != want->type)
        return 0;
    if (v->type == GC_VAL_INT)
        return v->i == want->i;
    if (v->type == GC_VAL_DOUBLE)
        return v->d == want->d;
    return v->len == want->len && (!v->len || memcmp(v->ptr, want->data, v->len) == 0);
}

/* The commit path's end-of-run expectations: the state read back, its
 * version, commits and deliveries of the last round. */
static void check_commits(hc_run *r, const gc_result *res, hc_outcome *out)
{
    const hc_case *c = r->c;
    for (size_t i = 0; i < c->nstate_exp && out->passed; i++) {
        const hc_domain_val *want = &c->state_exp[i];
        const gc_value *v;
        if (gc_state_get(r->st, want->name, &v) != GC_OK)
            unmet(out, "state.%s: the state has no such key after the run", want->name);
        else if (!typed_equal(v, want))
            unmet(out, "state.%s: the committed value (%s%s%" PRId64 ") is not the expected %s "
                       "value", want->name, gc_value_type_name(v->type),
                  v->type == GC_VAL_INT ? " " : ", length ",
                  v->type == GC_VAL_INT ? v->i : (int64_t)v->len, gc_value_type_name(want->type));
    }
    if (c->version_exp >= 0 && out->passed && gc_state_version(r->st) != (uint64_t)c->version_exp)
        unmet(out, "the state is at version %" PRIu64 ", expected %" PRId64,
              gc_state_version(r->st), c->version_exp);
    int64_t committed = 0;
    for (uint32_t t = 0; t < c->tasks; t++)
        committed += res[t].committed_version > 0;
    if (c->committed_exp >= 0 && out->passed && committed != c->committed_exp)
        unmet(out, "%" PRId64 " tasks committed, expected %" PRId64, committed, c->committed_exp);
    if (out->passed && (r->events.lost || r->msgs.lost))
        unmet(out, "out of memory recording deliveries");
    if (c->events_exp >= 0 && out->passed && (int64_t)r->events.n != c->events_exp)
        unmet(out, "%zu events delivered, expected %" PRId64, r->events.n, c->events_exp);
    int64_t undeclared = 0;
    for (uint32_t t = 0; t < c->tasks; t++)
        undeclared += res[t].undeclared_reads;
    if (c->undeclared_exp >= 0 && out->passed && undeclared != c->undeclared_exp)
        unmet(out, "%" PRId64 " undeclared reads counted, expected %" PRId64, undeclared,
              c->undeclared_exp);
    if (c->messages_exp >= 0 && out->passed && (int64_t)r->msgs.n != c->messages_exp)
        unmet(out, "%zu messages delivered, expected %" PRId64, r->msgs.n, c->messages_exp);
    for (size_t i = 0; i < r->msgs.n && out->passed; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->msgs.v[i].id, r->msgs.v[j].id) == 0 && c->callers == 1) {
                unmet(out, "message id '%s' was delivered twice (a phantom)", r->msgs.v[i].id);
                break;
            }
    /* A delivery must see the version its own task installed: never before. */
    for (size_t i = 0; i < r->events.n && out->passed && c->callers == 1; i++) {
        const hc_delivery *d = &r->events.v[i];
        if (d->task < c->tasks && d->version != res[d->task].committed_version)
            unmet(out, "task %u's event was delivered at version %" PRIu64 ", its commit is "
                       "version %" PRIu64, d->task, d->version, res[d->task].committed_version);
    }
}

/* Every claim of the case goes into the outcome, measured or not. A claim
 * is measured only when the run got far enough to measure its metric
 * (`measured_ok`); otherwise it is recorded with no figure (NaN, rendered as
 * null) and does not hold: a claim that was not measured is not held, and a
 * report must never show it as met. Claims already recorded are kept. */
static void record_claims(const hc_case *c, hc_outcome *out, int measured_ok,
                          uint64_t started_in_window)
{
    for (int i = out->nclaims; i < c->nclaims; i++) {
        const hc_claim_spec *cs = &c->claims[i];
        hc_claim *cl = &out->claims[out->nclaims++];
        snprintf(cl->text, sizeof cl->text, "%s", cs->text);
        snprintf(cl->metric, sizeof cl->metric, "%s", cs->metric);
        snprintf(cl->unit, sizeof cl->unit, "%s", cs->unit);
        cl->claimed = cs->claimed;
        const hc_metric *m = measured_ok ? find_metric(out, cs->metric) : NULL;
        cl->measured = m ? m->value : NAN;
        cl->holds = m && m->value <= cs->claimed && started_in_window == 0;
        if (!m)
            unmet(out, "claim '%s': metric %s was not measured in this run", cs->name, cs->metric);
        else if (started_in_window)
            unmet(out, "claim '%s' not held: the pool started %" PRIu64 " worker(s) inside the "
                       "timed window (the figure timed worker start-up; warm-up must start "
                       "every worker)", cs->name, started_in_window);
        else if (!cl->holds)
            unmet(out, "claim '%s' (%s) missed: %s measured %.3f %s > claimed %g %s", cs->name,
                  cs->text, cs->metric, m->value, cs->unit, cs->claimed, cs->unit);
    }
}

/* The rounds of [run] on one engine, then the end-of-run expectations. */
static int has_tag(const hc_case *c, const char *tag)
{
    for (int i = 0; i < c->info.ntags && i < HC_TAGS_MAX; i++)
        if (strcmp(c->info.tags[i], tag) == 0)
            return 1;
    return 0;
}

/* Leaks between rounds: once the engine is warm (pool started, and with
 * alternate_mode both modes run once), every later round must end holding no
 * more descriptors, memfds, memfd mappings or children than the warm round
 * did. The runner's census only sees what is left after the engine is freed,
 * which hides anything the engine pins until then (an old generation kept by
 * the pool, a channel never closed). `allow-leaks` cases are exempt. */
static void check_round_leaks(const hc_case *c, uint32_t round, uint32_t warm,
                              gc_census *base, hc_outcome *out)
{
    gc_census now;
    if (round < warm || has_tag(c, "allow-leaks") || gc_census_take(&now) != GC_OK)
        return;
    if (round == warm) {
        *base = now;
        return;
    }
    if (base->fds < 0)
        return;   /* the warm round could not be counted */
    if (now.fds > base->fds || now.memfds > base->memfds || now.maps > base->maps ||
        now.children > base->children)
        unmet(out, "leaked between rounds: after round %u the case process holds %d descriptors "
                   "(%d memfds), %d memfd mappings, %d children; after round %u: %d (%d), %d, %d",
              round + 1, now.fds, now.memfds, now.maps, now.children, warm + 1, base->fds,
              base->memfds, base->maps, base->children);
}

/* A timed claim must not time worker start-up (INC-025: a pool warmed with
 * one task started its other workers inside the timed window). Before the
 * first timed round the engine starts every worker the rounds will use
 * (gc_engine_warm; thread workers are made per call, there is nothing to
 * warm); no task runs, so no worker maps the zone before the timed round
 * does (a first handoff stays a first handoff). The pool's own counter then
 * proves it: run_rounds compares workers_started around the timed rounds,
 * and a worker started in between makes every claim not held. */
static int warm_every_worker(hc_run *r, gc_mode mode, hc_outcome *out)
{
    if (mode != GC_MODE_PROCESS && !r->c->alternate_mode)
        return GC_OK;
    gc_err ge;
    gc_err_clear(&ge);
    int rc = gc_engine_warm(r->eng, r->c->workers, &ge);
    if (rc != GC_OK)
        unmet(out, "warm-up before the timed rounds failed: %s (%s)", gc_status_name(rc), ge.msg);
    return rc;
}

/* [run] warm_default: one unjudged run on the default configuration starts
 * the workers; then the case's configuration is set on the same engine, so
 * the rounds show whether a change between runs reaches warm workers
 * (INC-011, INC-017). */
static int warm_on_default(hc_run *r, gc_mode mode, hc_outcome *out)
{
    const hc_case *c = r->c;
    gc_exec_opts o = {.process = r->process, .mode = mode, .workers = c->workers,
                      .tasks = c->tasks, .timeout_ms = task_deadline_ms(c),
                      .contract = c->has_contract ? &r->contract : NULL, .retries = c->retries};
    gc_err ge;
    gc_err_clear(&ge);
    int rc = gc_execute_parallel(r->eng, r->st, &o, r->res, &ge);
    if (rc == GC_OK)
        rc = gc_engine_configure(r->eng, &r->cfg, &ge);
    if (rc != GC_OK)
        unmet(out, "warm run on the default configuration: %s (%s)", gc_status_name(rc), ge.msg);
    r->events.n = r->msgs.n = 0;
    return rc;
}

static void run_rounds(hc_run *r, gc_mode mode, uint64_t seed, hc_outcome *out)
{
    const hc_case *c = r->c;
    gc_engine_stats pool0 = {0}, pool1 = {0};
    if (c->warm_default && warm_on_default(r, mode, out) != GC_OK)
        return;
    if (c->nclaims > 0 && warm_every_worker(r, mode, out) != GC_OK)
        return;
    gc_engine_stats_get(r->eng, &pool0);
    long rss_first = -1;
    gc_err ge;
    gc_census base = {.fds = -1};
    uint32_t warm = c->alternate_mode ? 1 : 0;
    /* The handoff figures are the best round's: on a shared machine a round
     * can wait for a CPU for tens of milliseconds, which is the machine's
     * cost, not the engine's; the least disturbed round is the closest
     * estimate of what a handoff costs (a case gets a first handoff in every
     * round with [run] new_generation_every = 1). */
    double best_handoff = -1, best_handoff_max = -1;
    for (uint32_t round = 0; round < c->rounds && out->passed; round++) {
        if (c->new_generation_every && round > 0 && round % c->new_generation_every == 0) {
            gc_err_clear(&ge);
            if (run_new_state(r, seed + round, &ge) != GC_OK) {
                unmet(out, "round %u: new generation: %.300s:%d: %s: %s", round + 1,
                      c->info.path, r->where.line, r->where.key, ge.msg);
                return;
            }
        }
        if (c->register_every && round > 0 && round % c->register_every == 0) {
            /* A process registered after the pool started: workers forked
             * before it do not know its name, so the pool must restart. */
            gc_proc_fn fn;
            const gc_contract *rk;
            char name[GC_NAME_MAX + 1];
            snprintf(name, sizeof name, "late-%u", round);
            gc_err_clear(&ge);
            if (gc_engine_lookup(r->eng, c->process, &fn, &rk) != GC_OK ||
                gc_engine_register(r->eng, name, fn, rk, &ge) != GC_OK) {
                unmet(out, "round %u: registering '%s': %s", round + 1, name, ge.msg);
                return;
            }
            snprintf(r->process, sizeof r->process, "%s", name);
        }
        gc_mode m = mode;
        if (c->alternate_mode && round % 2 == 1)
            m = mode == GC_MODE_THREAD ? GC_MODE_PROCESS : GC_MODE_THREAD;
        poison_outputs(c, r->st);
        if (run_round(r, m, out, &r->round_ms[round]) != GC_OK)
            return;
        double h = median_ms(r->res, c->tasks, 0, r->scratch);
        /* median_ms left scratch sorted by wall time: the last is the slowest. */
        double hmax = r->scratch[c->tasks - 1];
        if (best_handoff < 0 || h < best_handoff)
            best_handoff = h;
        if (best_handoff_max < 0 || hmax < best_handoff_max)
            best_handoff_max = hmax;
        /* Outputs are read back after every round, each time freshly written. */
        for (size_t i = 0; i < c->noutputs_exp && out->passed && r->expect_run == GC_OK; i++)
            check_output(out, r->st, &c->outputs_exp[i]);
        check_round_leaks(c, round, warm, &base, out);
        if (!out->passed && c->rounds > 1) {
            char tail[HC_MESSAGE_MAX];
            snprintf(tail, sizeof tail, "%s", out->message);
            snprintf(out->message, sizeof out->message, "round %u of %u: %.900s", round + 1,
                     c->rounds, tail);
        }
        if (round == 0)
            rss_first = rss_kb();
    }
    gc_engine_stats_get(r->eng, &pool1);
    r->started_in_window = pool1.workers_started - pool0.workers_started;
    if (!out->passed || r->expect_run != GC_OK)
        return;
    check_counters(c, r->eng, out);
    const gc_result *res = r->res;   /* caller 0, last round */
    for (uint32_t t = 0; t < c->tasks; t++)
        out->tasks_ok += res[t].status == GC_OK;
    double wall_ms = gc_median(r->round_ms, c->rounds);
    double task_wall = median_ms(res, c->tasks, 0, r->scratch);
    double task_exec = median_ms(res, c->tasks, 1, r->scratch);
    /* Every metric of the catalogue (metrics.c) that this case's process
     * produces; for touch a task's wall time is one handoff (best round). */
    for (size_t i = 0; i < hc__nmetrics; i++) {
        const hc_metric_def *m = &hc__metrics[i];
        if (!hc__metric_produced_by(m, c->process))
            continue;
        if (strcmp(m->name, "wall_ms") == 0)
            add_metric(out, m, wall_ms);
        else if (strcmp(m->name, "task_wall_ms") == 0)
            add_metric(out, m, task_wall);
        else if (strcmp(m->name, "handoff_ms") == 0)
            add_metric(out, m, best_handoff);
        else if (strcmp(m->name, "task_exec_ms") == 0)
            add_metric(out, m, task_exec);
        else if (strcmp(m->name, "handoff_max_ms") == 0)
            add_metric(out, m, best_handoff_max);
    }
    check_commits(r, res, out);
    if (c->history_check)
        snprintf(r->note + strlen(r->note), sizeof r->note - strlen(r->note),
                 "; history consistent in %u round%s: %" PRIu64 " attempts, %" PRIu64
                 " installed, %" PRIu64 " reads, %" PRIu64 " deliveries checked",
                 c->rounds, c->rounds == 1 ? "" : "s", r->hist_attempts, r->hist_installed,
                 r->hist_reads, r->hist_deliveries);
    if (c->heavy_unchanged && out->passed)
        hc__check_heavy_unchanged(r->st, r->before, r->nbefore, out);
    if (c->max_wall_ms > 0 && wall_ms > c->max_wall_ms * tool_slowdown())
        unmet(out, "wall time %.2f ms exceeds max_wall_ms %.2f%s", wall_ms,
              c->max_wall_ms * tool_slowdown(), tool_slowdown() > 1 ? " (x10 under valgrind)" : "");
    long rss_end = rss_kb();
    if (c->has_rss_growth && out->passed && !under_memory_tool())
        hc__check_rss_growth(c, rss_first, rss_end, out);
    if (c->has_rss_growth)
        snprintf(r->note + strlen(r->note), sizeof r->note - strlen(r->note),
                 "; RSS %ld -> %ld kB%s", rss_first, rss_end,
                 under_memory_tool() ? " (limit not applied: ASan or valgrind owns the memory)" : "");

    /* Claims are measured and recorded even when a later expectation failed,
     * so a report always shows the figures; a missed claim fails the case. */
    record_claims(c, out, 1, r->started_in_window);
    if (out->passed) {
        int n = snprintf(out->message, sizeof out->message,
                         "%u/%u tasks as expected in %s mode, wall %.2f ms%s%s", c->tasks, c->tasks,
                         mode == GC_MODE_THREAD ? "thread" : "process", wall_ms,
                         c->rounds > 1 ? " (median round)" : "", r->note);
        for (int i = 0; i < out->nclaims && n > 0 && (size_t)n < sizeof out->message; i++)
            n += snprintf(out->message + n, sizeof out->message - (size_t)n,
                          "; claim %s %.3f <= %g %s", out->claims[i].metric,
                          out->claims[i].measured, out->claims[i].claimed, out->claims[i].unit);
        if (c->nclaims > 0 && n > 0 && (size_t)n < sizeof out->message)
            snprintf(out->message + n, sizeof out->message - (size_t)n,
                     "; pool workers started in the timed window: %" PRIu64,
                     r->started_in_window);
    }
}

/* The attempt under [run] limits: setup and (if setup worked) one round must
 * end as [expect] setup/run say. Limits are restored before returning. */
static void run_limited(hc_run *r, gc_mode mode, uint64_t seed, hc_outcome *out, int *setup_ok)
{
    const hc_case *c = r->c;
    hc_limits saved;
    gc_err ge;
    gc_err_clear(&ge);
    *setup_ok = 0;
    int rc = limits_apply(c, &saved, &ge);
    if (rc != GC_OK) {
        limits_restore(&saved);
        unmet(out, "limits: %s", ge.msg);
        return;
    }
    rc = run_new_state(r, seed, &ge);
    if (rc != c->setup_status) {
        limits_restore(&saved);
        unmet(out, "setup under limits: status %s (%s), expected %s", gc_status_name(rc),
              ge.msg[0] ? ge.msg : gc_status_text(rc), gc_status_name(c->setup_status));
        return;
    }
    if (rc != GC_OK) {
        /* The failure must leave nothing half-built behind. */
        limits_restore(&saved);
        if (r->st)
            unmet(out, "setup failed (%s) but left a state behind", ge.msg);
        snprintf(r->note, sizeof r->note, "; under limits: setup %s (%.200s)", gc_status_name(rc),
                 ge.msg);
        return;
    }
    *setup_ok = 1;
    r->expect_run = c->run_status;
    double ms;
    run_round(r, mode, out, &ms);
    limits_restore(&saved);
    if (c->run_status != GC_OK) {
        snprintf(r->note, sizeof r->note, "; under limits: run %s (%.200s)",
                 gc_status_name(c->run_status), r->run_msg);
    } else {
        /* Which workers served shows how far the pool got under the limit. */
        uint32_t seen = 0;
        uint64_t mask[GC_WORKERS_MAX / 64] = {0};
        for (uint32_t t = 0; t < c->tasks; t++) {
            int w = r->res[t].worker;
            if (w >= 0 && w < GC_WORKERS_MAX && !(mask[w / 64] & (1ull << (w % 64)))) {
                mask[w / 64] |= 1ull << (w % 64);
                seen++;
            }
        }
        snprintf(r->note, sizeof r->note, "; under limits: run OK on %u of %u workers", seen,
                 c->workers);
    }
}

int hc_case_run(const hc_case *c, gc_mode mode, uint64_t seed, hc_outcome *out)
{
    if (!out)
        return GC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!c) {
        snprintf(out->message, sizeof out->message, "no case");
        return GC_EINVAL;
    }
    out->tasks = c->tasks;
    hc_run r;
    memset(&r, 0, sizeof r);
    r.c = c;
    snprintf(r.process, sizeof r.process, "%s", c->process);
    gc_err ge;
    gc_err_clear(&ge);
    const char *stage = "engine";

    /* The case's contract, or the process's registered one without [contract]. */
    r.contract = (gc_contract){
        .domain_reads = (const char *const *)c->domain_reads.v,
        .n_domain_reads = c->domain_reads.n,
        .heavy_reads = (const char *const *)c->heavy_reads.v,
        .n_heavy_reads = c->heavy_reads.n,
        .outputs = (const char *const *)c->outputs.v,
        .n_outputs = c->outputs.n,
        .domain_writes = (const char *const *)c->domain_writes.v,
        .n_domain_writes = c->domain_writes.n,
        .return_key = c->return_key[0] ? c->return_key : NULL,
        .events = c->events,
        .outbox = c->outbox,
    };
    r.k = &r.contract;

    r.cfg = (gc_config){.strict_contracts = c->strict_contracts,
                        .commit = c->commit_strict ? GC_COMMIT_STRICT : GC_COMMIT_SMART};
    /* [run] warm_default: the engine starts on its default configuration;
     * the case's is set after the warm run (warm_on_default). */
    gc_config cfg = c->warm_default ? gc_config_default() : r.cfg;
    int rc = gc_engine_new(&r.eng, &ge);
    if (rc == GC_OK)
        rc = gc_builtins_register(r.eng, &ge);
    if (rc == GC_OK)
        rc = gc_engine_configure(r.eng, &cfg, &ge);
    if (rc == GC_OK && c->has_rule)
        rc = gc_engine_rule_int_range(r.eng, c->rule_key, c->rule_min, c->rule_max, &ge);
    if (rc == GC_OK)
        rc = gc_engine_subscribe(r.eng, NULL, delivered, &r.events, &ge);
    if (rc == GC_OK)
        rc = gc_engine_set_outbox(r.eng, delivered, &r.msgs, &ge);
    if (rc == GC_OK && c->history_check) {
        r.hkeys = calloc(c->domain_writes.n, sizeof *r.hkeys);
        rc = r.hkeys ? gc_history_new(&r.hist, &ge)
                     : gc_err_set(&ge, GC_ENOMEM, "out of memory for the history's keys");
    }
    if (rc == GC_OK && !c->has_contract) {
        gc_proc_fn fn;
        rc = gc_engine_lookup(r.eng, c->process, &fn, &r.k);
        if (rc != GC_OK)
            gc_err_set(&ge, rc, "process '%s' is not registered", c->process);
    }
    if (rc == GC_OK) {
        stage = "memory";
        r.res = calloc((size_t)c->tasks * c->callers, sizeof *r.res);
        r.scratch = calloc(c->tasks, sizeof *r.scratch);
        r.round_ms = calloc(c->rounds, sizeof *r.round_ms);
        rc = r.res && r.scratch && r.round_ms
                 ? GC_OK
                 : gc_err_set(&ge, GC_ENOMEM, "out of memory for %u results", c->tasks);
    }
    if (rc != GC_OK)
        goto failed;
    out->passed = 1;

    int limited = c->limit_nofile_set || c->limit_as;
    if (limited) {
        int setup_ok;
        run_limited(&r, mode, seed, out, &setup_ok);
        if (!out->passed || !c->recover) {
            if (out->passed)
                snprintf(out->message, sizeof out->message, "under limits as expected%s",
                         r.note);
            goto done;
        }
        /* Recovery: the same engine, limits lifted, must do a normal run; the
         * note on the limited attempt stays in the message. */
    }
    stage = "state";
    rc = run_new_state(&r, seed, &ge);
    if (rc != GC_OK) {
        out->passed = 0;
        goto failed;
    }
    /* [expect] run is about the limited attempt; a recovery run must work. */
    r.expect_run = limited ? GC_OK : c->run_status;
    run_rounds(&r, mode, seed, out);
    if (limited && !out->passed) {
        char tail[HC_MESSAGE_MAX];
        snprintf(tail, sizeof tail, "%s", out->message);
        snprintf(out->message, sizeof out->message, "after lifting the limits: %.900s", tail);
    }
    goto done;

failed:
    out->passed = 0;
    record_claims(c, out, 0, 0);
    /* A run error names the file, and the line and key when one is to blame
     * (a zone too large for the machine: the largest entry's size). */
    if (r.where.line > 0)
        snprintf(out->message, sizeof out->message, "%.400s:%d: %s: %s: %s", c->info.path,
                 r.where.line, r.where.key, stage, ge.msg[0] ? ge.msg : gc_status_text(rc));
    else
        snprintf(out->message, sizeof out->message, "%.400s: %s: %s", c->info.path, stage,
                 ge.msg[0] ? ge.msg : gc_status_text(rc));
    run_release(&r);
    return rc;
done:
    /* Whatever path the run took (a task expectation unmet, a limited run),
     * claims it did not reach are recorded as not measured. */
    record_claims(c, out, 0, 0);
    run_release(&r);
    return GC_OK;
}
