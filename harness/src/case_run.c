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

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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

static void add_metric(hc_outcome *out, const char *name, double value)
{
    if (out->nmetrics >= HC_METRICS_MAX)
        return;
    hc_metric *m = &out->metrics[out->nmetrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->unit, sizeof m->unit, "ms");
    m->value = value;
}

static const hc_metric *find_metric(const hc_outcome *out, const char *name)
{
    for (int i = 0; i < out->nmetrics; i++)
        if (strcmp(out->metrics[i].name, name) == 0)
            return &out->metrics[i];
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Median in ms of one nanosecond field over all results. */
static double median_ms(const gc_result *res, uint32_t n, int exec, uint64_t *scratch)
{
    for (uint32_t i = 0; i < n; i++)
        scratch[i] = exec ? res[i].exec_ns : res[i].wall_ns;
    qsort(scratch, n, sizeof *scratch, cmp_u64);
    uint64_t m = n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
    return (double)m / 1e6;
}

/* The state of the case: domain values in file order, then a heavy zone with
 * the entries in file order, filled and published (unless heavy_zone = none).
 * The zone belongs to the state once attached; before that, to this function. */
static int build_state(const hc_case *c, uint64_t seed, gc_state **out, gc_err *ge)
{
    gc_state *st = NULL;
    gc_zone *z = NULL;
    /* The zone lives in tmpfs: filling more than the machine has ends in the
     * OOM killer, not in an error. Refuse first, with the figures. */
    uint64_t need = 0, have = hc__mem_available();
    for (size_t i = 0; i < c->nentries; i++)
        need += c->entries[i].size;
    if (have && need > have)
        return gc_err_set(ge, GC_ELIMIT,
                          "the heavy zone needs %llu MiB, only %llu MiB are available "
                          "(add requires = mem>=SIZE to skip such a case)",
                          (unsigned long long)(need >> 20), (unsigned long long)(have >> 20));
    int rc = gc_state_new(&st, ge);
    for (size_t i = 0; rc == GC_OK && i < c->ndomain; i++) {
        const hc_domain_val *d = &c->domain[i];
        switch (d->type) {
        case GC_VAL_INT: rc = gc_state_set_int(st, d->name, d->i, ge); break;
        case GC_VAL_DOUBLE: rc = gc_state_set_double(st, d->name, d->d, ge); break;
        case GC_VAL_STR: rc = gc_state_set_str(st, d->name, (const char *)d->data, ge); break;
        case GC_VAL_BYTES: rc = gc_state_set_bytes(st, d->name, d->data, d->len, ge); break;
        }
    }
    if (rc == GC_OK && !c->zone_none) {
        rc = gc_zone_new(&z, ge);
        for (size_t i = 0; rc == GC_OK && i < c->nentries; i++)
            rc = gc_zone_declare(z, c->entries[i].name, c->entries[i].size,
                                 c->entries[i].output ? GC_ENTRY_OUTPUT : 0, ge);
        if (rc == GC_OK)
            rc = gc_zone_allocate(z, ge);
        for (size_t i = 0; rc == GC_OK && i < c->nentries; i++) {
            const hc_entry *e = &c->entries[i];
            if (e->output)
                continue;
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
        if (rc == GC_OK)
            rc = gc_zone_publish(z, ge);
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
    gc_engine *eng = NULL;
    gc_state *st = NULL;
    gc_result *res = NULL;
    uint64_t *scratch = NULL, *before = NULL, *after = NULL;
    size_t nbefore = 0, nafter = 0;
    gc_err ge;
    gc_err_clear(&ge);
    const char *stage = "engine";

    /* The case's contract, or the process's registered one without [contract]. */
    gc_contract contract = {
        (const char *const *)c->domain_reads.v, c->domain_reads.n,
        (const char *const *)c->heavy_reads.v, c->heavy_reads.n,
        (const char *const *)c->outputs.v, c->outputs.n,
    };
    const gc_contract *k = &contract;

    int rc = gc_engine_new(&eng, &ge);
    if (rc == GC_OK)
        rc = gc_builtins_register(eng, &ge);
    if (rc == GC_OK && !c->has_contract) {
        gc_proc_fn fn;
        rc = gc_engine_lookup(eng, c->process, &fn, &k);
        if (rc != GC_OK)
            gc_err_set(&ge, rc, "process '%s' is not registered", c->process);
    }
    if (rc == GC_OK) {
        stage = "state";
        rc = build_state(c, seed, &st, &ge);
    }
    if (rc == GC_OK) {
        stage = "memory";
        res = calloc(c->tasks, sizeof *res);
        scratch = calloc(c->tasks, sizeof *scratch);
        rc = res && scratch ? GC_OK : gc_err_set(&ge, GC_ENOMEM, "out of memory for %u results",
                                                 c->tasks);
    }
    if (rc == GC_OK && c->heavy_unchanged)
        rc = heavy_sums(st, &before, &nbefore);
    if (rc != GC_OK) {
        snprintf(out->message, sizeof out->message, "%s: %s", stage,
                 ge.msg[0] ? ge.msg : gc_status_text(rc));
        goto done;
    }

    gc_exec_opts opts = {
        .process = c->process,
        .mode = mode,
        .workers = c->workers,
        .tasks = c->tasks,
        .timeout_ms = c->task_timeout_ms,
        .contract = c->has_contract ? &contract : NULL,
    };
    uint64_t t0 = now_ns();
    rc = gc_execute_parallel(eng, st, &opts, res, &ge);
    double wall_ms = (double)(now_ns() - t0) / 1e6;
    if (rc != GC_OK) {
        snprintf(out->message, sizeof out->message, "execute_parallel (%s mode) failed: %s",
                 mode == GC_MODE_THREAD ? "thread" : "process", ge.msg);
        goto done;
    }

    for (uint32_t t = 0; t < c->tasks; t++)
        out->tasks_ok += res[t].status == GC_OK;
    add_metric(out, "wall_ms", wall_ms);
    add_metric(out, "task_wall_ms", median_ms(res, c->tasks, 0, scratch));
    add_metric(out, "task_exec_ms", median_ms(res, c->tasks, 1, scratch));
    if (strcmp(c->process, "touch") == 0) {
        add_metric(out, "handoff_ms", median_ms(res, c->tasks, 0, scratch));
        /* median_ms left scratch sorted: the last is the slowest handoff. */
        add_metric(out, "handoff_max_ms", (double)scratch[c->tasks - 1] / 1e6);
    }

    out->passed = 1;
    check_tasks(c, res, st, k, out);
    for (size_t i = 0; i < c->noutputs_exp && out->passed; i++)
        check_output(out, st, &c->outputs_exp[i]);
    if (c->heavy_unchanged && out->passed) {
        rc = heavy_sums(st, &after, &nafter);
        if (rc != GC_OK) {
            out->passed = 0;
            snprintf(out->message, sizeof out->message, "heavy_unchanged: out of memory");
            goto done;
        }
        const gc_zone *z = gc_state_heavy(st);
        for (size_t i = 0; i < nbefore && out->passed; i++)
            if (before[i] != after[i])
                unmet(out, "heavy entry '%s' changed during the run (checksum %016" PRIx64
                           " before, %016" PRIx64 " after)",
                      gc_zone_entry_at(z, i)->name, before[i], after[i]);
    }
    if (c->max_wall_ms > 0 && wall_ms > c->max_wall_ms)
        unmet(out, "wall time %.2f ms exceeds max_wall_ms %.2f", wall_ms, c->max_wall_ms);

    /* Claims are measured and recorded even when something else failed, so a
     * report always shows the figures; a missed claim fails the case. */
    for (int i = 0; i < c->nclaims; i++) {
        const hc_claim_spec *cs = &c->claims[i];
        hc_claim *cl = &out->claims[out->nclaims++];
        snprintf(cl->text, sizeof cl->text, "%s", cs->text);
        snprintf(cl->metric, sizeof cl->metric, "%s", cs->metric);
        snprintf(cl->unit, sizeof cl->unit, "%s", cs->unit);
        cl->claimed = cs->claimed;
        const hc_metric *m = find_metric(out, cs->metric);
        cl->measured = m ? m->value : -1;
        cl->holds = m && m->value <= cs->claimed;
        if (!m)
            unmet(out, "claim '%s': metric %s was not measured in this run", cs->name, cs->metric);
        else if (!cl->holds)
            unmet(out, "claim '%s' (%s) missed: %s measured %.3f %s > claimed %g %s", cs->name,
                  cs->text, cs->metric, m->value, cs->unit, cs->claimed, cs->unit);
    }
    if (out->passed) {
        int n = snprintf(out->message, sizeof out->message,
                         "%u/%u tasks as expected in %s mode, wall %.2f ms", c->tasks, c->tasks,
                         mode == GC_MODE_THREAD ? "thread" : "process", wall_ms);
        for (int i = 0; i < out->nclaims && n > 0 && (size_t)n < sizeof out->message; i++)
            n += snprintf(out->message + n, sizeof out->message - (size_t)n,
                          "; claim %s %.3f <= %g %s", out->claims[i].metric,
                          out->claims[i].measured, out->claims[i].claimed, out->claims[i].unit);
    }
    rc = GC_OK;

done:
    free(after);
    free(before);
    free(scratch);
    free(res);
    gc_state_free(st);
    gc_engine_free(eng);
    return rc;
}
