/* The engine object: the registry of named processes with their contracts,
 * the configuration, validation rules, event subscribers and outbox sink the
 * commit path uses, the one routine that runs a process on a context (shared
 * by thread and process workers), and the engine's lifetime (both pools are
 * released here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx_int.h"
#include "engine_int.h"
#include "gapcheck/status.h"
#include "gapcheck/value.h"

int gc_engine_new(gc_engine **out, gc_err *err)
{
    *out = NULL;
    gc_engine *e = calloc(1, sizeof *e);
    if (!e)
        return gc_err_set(err, GC_ENOMEM, "engine: out of memory");
    if (pthread_mutex_init(&e->lock, NULL) != 0) {
        free(e);
        return gc_err_set(err, GC_ESYS, "engine: cannot create its lock");
    }
    e->cfg = gc_config_default();
    *out = e;
    return GC_OK;
}

static void proc_release(gc__proc *p)
{
    for (size_t i = 0; i < p->nnames; i++)
        free(p->names[i]);
    free(p->names);
    free((void *)p->contract.domain_reads);
    free((void *)p->contract.heavy_reads);
    free((void *)p->contract.outputs);
    free((void *)p->contract.domain_writes);
}

void gc_engine_free(gc_engine *e)
{
    if (!e)
        return;
    gc__pool_free(e->pool);
    gc__tpool_free(NULL, e->tpool);
    for (size_t i = 0; i < e->nprocs; i++)
        proc_release(&e->procs[i]);
    free(e->procs);
    free(e->rules);
    free(e->subs);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

/* Copy one list of contract names into p (gc__contract_check has checked
 * the list and its names). */
static int copy_names(gc__proc *p, const char *const *src, size_t n, const char *const **dst,
                      gc_err *err)
{
    *dst = NULL;
    if (n == 0)
        return GC_OK;
    const char **list = calloc(n, sizeof *list);
    if (!list)
        return gc_err_set(err, GC_ENOMEM, "process '%s': out of memory copying its contract",
                          p->name);
    *dst = list;
    for (size_t i = 0; i < n; i++) {
        char *copy = strdup(src[i]);
        if (!copy)
            return gc_err_set(err, GC_ENOMEM, "process '%s': out of memory copying its contract",
                              p->name);
        p->names[p->nnames++] = copy;
        list[i] = copy;
    }
    return GC_OK;
}

int gc_engine_register(gc_engine *e, const char *name, gc_proc_fn fn, const gc_contract *c,
                       gc_err *err)
{
    int rc = gc_name_check(name, "process", err);
    if (rc != GC_OK)
        return rc;
    if (!fn)
        return gc_err_set(err, GC_EINVAL, "process '%s': no function", name);
    static const gc_contract empty;
    /* A copy: the caller may pass a registered process's own contract
     * (gc_engine_lookup), which lives in the array grown below. */
    gc_contract cc = c ? *c : empty;
    c = &cc;
    /* The factory's own check, before anything is sized from the counts: a
     * contract the factory would refuse is refused here, and counts within
     * the limits cannot add up past SIZE_MAX below. */
    rc = gc__contract_check(c, err);
    if (rc != GC_OK)
        return rc;
    pthread_mutex_lock(&e->lock);
    if (gc__engine_find(e, name)) {
        rc = gc_err_set(err, GC_EEXIST, "process '%s' is already registered", name);
        goto out;
    }
    if (e->nprocs >= GC_PROCESSES_MAX) {
        rc = gc_err_set(err, GC_ELIMIT, "process '%s': registry full (%d processes)", name,
                        GC_PROCESSES_MAX);
        goto out;
    }
    gc__proc *grown = realloc(e->procs, (e->nprocs + 1) * sizeof *grown);
    if (!grown) {
        rc = gc_err_set(err, GC_ENOMEM, "process '%s': out of memory", name);
        goto out;
    }
    e->procs = grown;
    gc__proc p = {0};
    snprintf(p.name, sizeof p.name, "%s", name);
    p.fn = fn;
    /* One slot per name, and one for the return key: never 0. */
    size_t total = c->n_domain_reads + c->n_heavy_reads + c->n_outputs + c->n_domain_writes + 1;
    p.names = calloc(total, sizeof *p.names);
    if (!p.names) {
        rc = gc_err_set(err, GC_ENOMEM, "process '%s': out of memory", name);
        goto out;
    }
    rc = copy_names(&p, c->domain_reads, c->n_domain_reads, &p.contract.domain_reads, err);
    if (rc == GC_OK)
        rc = copy_names(&p, c->heavy_reads, c->n_heavy_reads, &p.contract.heavy_reads, err);
    if (rc == GC_OK)
        rc = copy_names(&p, c->outputs, c->n_outputs, &p.contract.outputs, err);
    if (rc == GC_OK)
        rc = copy_names(&p, c->domain_writes, c->n_domain_writes, &p.contract.domain_writes,
                        err);
    if (rc == GC_OK && c->return_key) {
        const char *const *one = NULL;
        rc = copy_names(&p, &c->return_key, 1, &one, err);
        if (one)
            p.contract.return_key = one[0];
        free((void *)one);
    }
    if (rc != GC_OK) {
        proc_release(&p);
        goto out;
    }
    p.contract.n_domain_reads = c->n_domain_reads;
    p.contract.n_heavy_reads = c->n_heavy_reads;
    p.contract.n_outputs = c->n_outputs;
    p.contract.n_domain_writes = c->n_domain_writes;
    p.contract.events = c->events != 0;
    p.contract.outbox = c->outbox != 0;
    e->procs[e->nprocs++] = p;
    e->registry_version++;
out:
    pthread_mutex_unlock(&e->lock);
    return rc;
}

const gc__proc *gc__engine_find(const gc_engine *e, const char *name)
{
    for (size_t i = 0; i < e->nprocs; i++)
        if (strcmp(e->procs[i].name, name) == 0)
            return &e->procs[i];
    return NULL;
}

int gc_engine_lookup(const gc_engine *e, const char *name, gc_proc_fn *fn, const gc_contract **c)
{
    gc_engine *m = (gc_engine *)e;   /* the lock is not part of the logical state */
    pthread_mutex_lock(&m->lock);
    const gc__proc *p = name ? gc__engine_find(e, name) : NULL;
    if (p) {
        if (fn)
            *fn = p->fn;
        if (c)
            *c = &p->contract;
    }
    pthread_mutex_unlock(&m->lock);
    return p ? GC_OK : GC_ENOTFOUND;
}

void gc__run_process(const gc__proc *p, gc_ctx *ctx, gc_result *r)
{
    gc_proc_out out;
    memset(&out, 0, sizeof out);
    uint64_t t0 = gc__now_ns();
    int status = p->fn(ctx, &out);
    uint64_t t1 = gc__now_ns();
    r->exec_ns = t1 - t0;
    r->value = out.value;
    out.text[sizeof out.text - 1] = '\0';
    r->violations = gc_ctx_violations(ctx);
    r->undeclared_reads = gc_ctx_undeclared_reads(ctx);
    gc_err rerr;
    gc_err_clear(&rerr);
    if (status == GC_OK && r->violations == 0 && gc__ctx_return(ctx, out.value, &rerr) != GC_OK) {
        /* The returned value could not join the write set: fail loudly, never
         * drop it (INC-026). */
        status = rerr.status;
        snprintf(r->text, sizeof r->text, "return value: %.200s", rerr.msg);
    } else if (status == GC_OK && r->violations > 0) {
        /* A process that swallowed a refused access still broke its contract. */
        status = GC_ECONTRACT;
        snprintf(r->text, sizeof r->text, "%s", gc_ctx_last_error(ctx));
    } else if (status != GC_OK && out.text[0] == '\0' && gc_ctx_last_error(ctx)[0] != '\0') {
        snprintf(r->text, sizeof r->text, "%s", gc_ctx_last_error(ctx));
    } else {
        snprintf(r->text, sizeof r->text, "%s", out.text);
    }
    uint64_t deadline = gc_ctx_deadline_ns(ctx);
    if (status == GC_OK && deadline != 0 && t1 > deadline) {
        status = GC_ETIMEOUT;
        snprintf(r->text, sizeof r->text, "task finished %.3f ms after its deadline",
                 (double)(t1 - deadline) / 1e6);
    }
    r->status = status;
}

/* ---- configuration, rules, deliveries ---------------------------------------- */

int gc_engine_configure(gc_engine *e, const gc_config *cfg, gc_err *err)
{
    if (!e || !cfg)
        return gc_err_set(err, GC_EINVAL, "gc_engine_configure: NULL %s", e ? "config" : "engine");
    if (cfg->commit != GC_COMMIT_SMART && cfg->commit != GC_COMMIT_STRICT)
        return gc_err_set(err, GC_EINVAL, "gc_engine_configure: commit mode %d is neither smart "
                          "nor strict", (int)cfg->commit);
    pthread_mutex_lock(&e->lock);
    e->cfg = *cfg;
    e->cfg.strict_contracts = cfg->strict_contracts != 0;
    pthread_mutex_unlock(&e->lock);
    return GC_OK;
}

gc_config gc_engine_config_get(gc_engine *e)
{
    pthread_mutex_lock(&e->lock);
    gc_config c = e->cfg;
    pthread_mutex_unlock(&e->lock);
    return c;
}

static int add_rule(gc_engine *e, const gc__rule *r, gc_err *err)
{
    int rc = gc_name_check(r->key, "rule key", err);
    if (rc != GC_OK)
        return rc;
    pthread_mutex_lock(&e->lock);
    gc__rule *grown = e->nrules < GC__RULES_MAX
                          ? realloc(e->rules, (e->nrules + 1) * sizeof *grown) : NULL;
    if (grown) {
        e->rules = grown;
        e->rules[e->nrules++] = *r;
    } else {
        rc = e->nrules >= GC__RULES_MAX
                 ? gc_err_set(err, GC_ELIMIT, "rule on '%s': %d rules already", r->key,
                              GC__RULES_MAX)
                 : gc_err_set(err, GC_ENOMEM, "rule on '%s': out of memory", r->key);
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int gc_engine_rule_int_range(gc_engine *e, const char *key, int64_t min, int64_t max,
                             gc_err *err)
{
    if (!e || !key)
        return gc_err_set(err, GC_EINVAL, "gc_engine_rule_int_range: NULL argument");
    if (min > max)
        return gc_err_set(err, GC_EINVAL, "rule on '%s': min %lld > max %lld", key,
                          (long long)min, (long long)max);
    gc__rule r = {.min = min, .max = max};
    snprintf(r.key, sizeof r.key, "%.*s", GC_NAME_MAX, key);
    if (strlen(key) > GC_NAME_MAX)
        return gc_name_check(key, "rule key", err);
    return add_rule(e, &r, err);
}

int gc_engine_rule_check(gc_engine *e, const char *key, gc_rule_fn fn, void *arg, gc_err *err)
{
    if (!e || !key || !fn)
        return gc_err_set(err, GC_EINVAL, "gc_engine_rule_check: NULL argument");
    if (strlen(key) > GC_NAME_MAX)
        return gc_name_check(key, "rule key", err);
    gc__rule r = {.fn = fn, .arg = arg};
    snprintf(r.key, sizeof r.key, "%s", key);
    return add_rule(e, &r, err);
}

int gc_engine_subscribe(gc_engine *e, const char *topic, gc_delivery_fn fn, void *arg,
                        gc_err *err)
{
    if (!e || !fn)
        return gc_err_set(err, GC_EINVAL, "gc_engine_subscribe: NULL argument");
    int rc = topic ? gc_name_check(topic, "topic", err) : GC_OK;
    if (rc != GC_OK)
        return rc;
    pthread_mutex_lock(&e->lock);
    gc__sub *grown = e->nsubs < GC__SUBS_MAX
                         ? realloc(e->subs, (e->nsubs + 1) * sizeof *grown) : NULL;
    if (grown) {
        e->subs = grown;
        gc__sub *s = &e->subs[e->nsubs++];
        memset(s, 0, sizeof *s);
        snprintf(s->topic, sizeof s->topic, "%s", topic ? topic : "");
        s->fn = fn;
        s->arg = arg;
    } else {
        /* The reason names the topic, so a caller subscribing many can tell which failed. */
        char to[GC_NAME_MAX + 16];
        if (topic)
            snprintf(to, sizeof to, "'%s'", topic);
        else
            snprintf(to, sizeof to, "every topic");
        rc = e->nsubs >= GC__SUBS_MAX
                 ? gc_err_set(err, GC_ELIMIT, "subscribe to %s: %d subscribers already", to,
                              GC__SUBS_MAX)
                 : gc_err_set(err, GC_ENOMEM, "subscribe to %s: out of memory", to);
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int gc_engine_set_outbox(gc_engine *e, gc_delivery_fn fn, void *arg, gc_err *err)
{
    if (!e)
        return gc_err_set(err, GC_EINVAL, "gc_engine_set_outbox: NULL engine");
    pthread_mutex_lock(&e->lock);
    e->outbox = fn;
    e->outbox_arg = arg;
    pthread_mutex_unlock(&e->lock);
    return GC_OK;
}

void gc_engine_stats_get(gc_engine *e, gc_engine_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->stats;
    pthread_mutex_unlock(&e->lock);
}

void gc_engine_pool_stop(gc_engine *e)
{
    pthread_mutex_lock(&e->lock);
    gc__pool_free(e->pool);
    e->pool = NULL;
    e->stats.workers_live = 0;
    gc__tpool_free(e, e->tpool);
    e->tpool = NULL;
    pthread_mutex_unlock(&e->lock);
}
