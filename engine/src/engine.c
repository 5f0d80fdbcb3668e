/* The engine object: the registry of named processes with their contracts,
 * the one routine that runs a process on a context (shared by thread and
 * process workers), and the engine's lifetime (the pool is released here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "gapcheck/status.h"
#include "gapcheck/value.h"

uint64_t gc__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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
}

void gc_engine_free(gc_engine *e)
{
    if (!e)
        return;
    gc__pool_free(e->pool);
    for (size_t i = 0; i < e->nprocs; i++)
        proc_release(&e->procs[i]);
    free(e->procs);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

/* Copy one list of contract names into p, validating each. */
static int copy_names(gc__proc *p, const char *const *src, size_t n, const char *what,
                      const char *const **dst, gc_err *err)
{
    *dst = NULL;
    if (n == 0)
        return GC_OK;
    if (!src)
        return gc_err_set(err, GC_EINVAL, "contract: %zu %s but no list", n, what);
    const char **list = calloc(n, sizeof *list);
    if (!list)
        return gc_err_set(err, GC_ENOMEM, "contract: out of memory");
    *dst = list;
    for (size_t i = 0; i < n; i++) {
        int rc = gc_name_check(src[i], what, err);
        if (rc != GC_OK)
            return rc;
        char *copy = strdup(src[i]);
        if (!copy)
            return gc_err_set(err, GC_ENOMEM, "contract: out of memory");
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
    if (!c)
        c = &empty;
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
    size_t total = c->n_domain_reads + c->n_heavy_reads + c->n_outputs;
    p.names = calloc(total ? total : 1, sizeof *p.names);
    if (!p.names) {
        rc = gc_err_set(err, GC_ENOMEM, "process '%s': out of memory", name);
        goto out;
    }
    rc = copy_names(&p, c->domain_reads, c->n_domain_reads, "domain key", &p.contract.domain_reads, err);
    if (rc == GC_OK)
        rc = copy_names(&p, c->heavy_reads, c->n_heavy_reads, "heavy entry", &p.contract.heavy_reads, err);
    if (rc == GC_OK)
        rc = copy_names(&p, c->outputs, c->n_outputs, "output entry", &p.contract.outputs, err);
    if (rc != GC_OK) {
        proc_release(&p);
        goto out;
    }
    p.contract.n_domain_reads = c->n_domain_reads;
    p.contract.n_heavy_reads = c->n_heavy_reads;
    p.contract.n_outputs = c->n_outputs;
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
    if (status == GC_OK && r->violations > 0) {
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
    pthread_mutex_unlock(&e->lock);
}
