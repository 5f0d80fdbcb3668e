/* The commit path of a run (commit_int.h). Every finished attempt, in thread
 * and process mode alike, comes here, one at a time under the commit's lock,
 * in the main process. Order is the point (INC-023, INC-028, INC-016):
 *   1. an attempt that did not succeed (failed, crashed, timed out, broke its
 *      contract) is recorded and dropped whole: no write, no event, no message;
 *   2. the optimistic check, for every written key and from version 0 on
 *      (strict: the state's version is still the base; smart: no written key
 *      was modified after the base);
 *   3. validation rules on every write;
 *   4. install, all or nothing, as one new version;
 *   5. only then events to subscribers and messages to the outbox sink, each
 *      seeing the version just installed.
 * A conflict with retries left sends the task round again; its next context
 * comes from the one factory over the state as it is then, with a fresh,
 * empty write set (nothing of the conflicted attempt survives it).
 * Messages are the exception that INC-016 is about: they wait for delivery in
 * the task's outbox, kept here per task across attempts (as the original's
 * transaction object kept its outbox across retries), so it is cleared when
 * each attempt starts: a new outbox per attempt, the original's fix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit_int.h"
#include "ctx_int.h"
#include "gapcheck/status.h"
#include "state_int.h"

static int contract_writes(const gc_contract *c)
{
    return c->n_domain_writes > 0 || c->return_key || c->events || c->outbox;
}

int gc__commit_begin(gc__commit *cm, gc_engine *e, gc_state *st, const gc_contract *c,
                     const gc_exec_opts *opts, gc_err *err)
{
    memset(cm, 0, sizeof *cm);
    cm->e = e;
    cm->st = st;
    cm->contract = c;
    cm->cfg = e->cfg;
    cm->ntasks = opts->tasks;
    cm->retries = opts->retries;
    cm->hist = opts->history;
    cm->attempts = calloc(opts->tasks, sizeof *cm->attempts);
    cm->outbox = c->outbox ? calloc(opts->tasks, sizeof *cm->outbox) : NULL;
    if (!cm->attempts || (c->outbox && !cm->outbox)) {
        free(cm->attempts);
        free(cm->outbox);
        return gc_err_set(err, GC_ENOMEM, "commit: out of memory for %u tasks", opts->tasks);
    }
    /* Every first attempt is built from the state as the run found it, even
     * after other tasks committed: one base for the run. A run that cannot
     * write never changes the state, so it needs no copy. */
    if (contract_writes(c)) {
        int rc = gc__state_clone(st, &cm->base, err);
        if (rc != GC_OK) {
            free(cm->attempts);
            free(cm->outbox);
            return rc;
        }
    }
    if (pthread_mutex_init(&cm->lock, NULL) != 0) {
        gc_state_free(cm->base);
        free(cm->attempts);
        free(cm->outbox);
        return gc_err_set(err, GC_ESYS, "commit: cannot create its lock");
    }
    return GC_OK;
}

void gc__commit_end(gc__commit *cm)
{
    gc_state_free(cm->base);
    for (uint32_t t = 0; cm->outbox && t < cm->ntasks; t++)
        gc__outbox_free(&cm->outbox[t]);
    free(cm->outbox);
    free(cm->attempts);
    pthread_mutex_destroy(&cm->lock);
}

int gc__commit_ctx(gc__commit *cm, uint32_t task, gc_ctx **out, gc_err *err)
{
    pthread_mutex_lock(&cm->lock);
    uint32_t attempt = ++cm->attempts[task];
    const gc_state *from = attempt == 1 && cm->base ? cm->base : cm->st;
    int rc = gc_ctx_from_state(from, cm->contract, &cm->cfg, task, cm->ntasks, out, err);
    if (rc == GC_OK)
        gc__ctx_set_attempt(*out, attempt);
    else
        cm->attempts[task]--;
    if (rc == GC_OK && cm->outbox)
        gc__outbox_clear(&cm->outbox[task]);   /* a new outbox per attempt (INC-016) */
    pthread_mutex_unlock(&cm->lock);
    return rc;
}

void gc__commit_unrun(gc__commit *cm, uint32_t task)
{
    pthread_mutex_lock(&cm->lock);
    if (cm->attempts[task] > 0)
        cm->attempts[task]--;
    pthread_mutex_unlock(&cm->lock);
}

/* ---- the steps ---------------------------------------------------------------- */

/* Step 2. GC_OK, or GC_ECONFLICT with why. */
static int check_versions(const gc__commit *cm, const gc_ctx *ctx, char *why, size_t cap)
{
    uint64_t now = gc_state_version(cm->st), base = ctx->base_version;
    if (cm->cfg.commit == GC_COMMIT_STRICT) {
        if (now == base)
            return GC_OK;
        snprintf(why, cap, "conflict: the state is at version %llu, the task's base is %llu "
                 "(strict commit)", (unsigned long long)now, (unsigned long long)base);
        return GC_ECONFLICT;
    }
    for (size_t i = 0; i < ctx->ws.n_writes; i++) {
        uint64_t modified = 0;
        if (gc_state_key_version(cm->st, ctx->ws.writes[i].name, &modified) != GC_OK)
            continue;       /* a key still absent cannot have moved */
        if (modified > base) {
            snprintf(why, cap, "conflict: '%s' was modified at version %llu, after the task's "
                     "base %llu", ctx->ws.writes[i].name, (unsigned long long)modified,
                     (unsigned long long)base);
            return GC_ECONFLICT;
        }
    }
    return GC_OK;
}

static int rule_applies(const gc__rule *rule, const gc_value *v, char *reason, size_t cap)
{
    if (rule->fn)
        return rule->fn(rule->key, v, rule->arg, reason, cap);
    if (v->type != GC_VAL_INT) {
        snprintf(reason, cap, "is %s, the rule wants an int in [%lld, %lld]",
                 gc_value_type_name(v->type), (long long)rule->min, (long long)rule->max);
        return GC_EVALIDATE;
    }
    if (v->i < rule->min || v->i > rule->max) {
        snprintf(reason, cap, "%lld is outside [%lld, %lld]", (long long)v->i,
                 (long long)rule->min, (long long)rule->max);
        return GC_EVALIDATE;
    }
    return GC_OK;
}

/* Step 3. GC_OK, or GC_EVALIDATE with the first rule's reason. */
static int validate(const gc__commit *cm, const gc_ctx *ctx, char *why, size_t cap)
{
    for (size_t i = 0; i < ctx->ws.n_writes; i++) {
        const struct gc__write *w = &ctx->ws.writes[i];
        for (size_t k = 0; k < cm->e->nrules; k++) {
            const gc__rule *rule = &cm->e->rules[k];
            if (strcmp(rule->key, w->name) != 0)
                continue;
            /* Room so that the longest name and the reason always fit
             * in a result text: a long reason is cut by the rule that
             * writes it, never in the middle of this sentence. */
            char reason[GC_RESULT_TEXT_MAX - GC_NAME_MAX - sizeof "validation of '': "] =
                "refused";
            if (rule_applies(rule, &w->v, reason, sizeof reason) != GC_OK) {
                reason[sizeof reason - 1] = '\0';
                snprintf(why, cap, "validation of '%.*s': %s", GC_NAME_MAX, w->name, reason);
                return GC_EVALIDATE;
            }
        }
    }
    return GC_OK;
}

/* Step 5: everything after install: the attempt's events and the task's
 * outbox. Deliveries are listed in hd (room for every event and message)
 * when the history is on. */
static void deliver(gc__commit *cm, const gc_ctx *ctx, const gc__outbox *ob, uint64_t version,
                    gc_result *r, gc_hist_delivery *hd, size_t *nhd)
{
    gc_delivery d = {.task = ctx->task, .attempt = ctx->attempt, .state = cm->st};
    for (size_t i = 0; i < ctx->ws.n_events; i++) {
        const struct gc__event *ev = &ctx->ws.events[i];
        d.kind = GC_DELIVERY_EVENT;
        d.topic = ev->topic;
        d.id = "";
        d.payload = ev->payload;
        d.len = ev->len;
        uint32_t reached = 0;
        for (size_t k = 0; k < cm->e->nsubs; k++) {
            const gc__sub *s = &cm->e->subs[k];
            if (s->topic[0] && strcmp(s->topic, ev->topic) != 0)
                continue;
            d.version = gc_state_version(cm->st);
            s->fn(&d, s->arg);
            reached++;
        }
        r->events_delivered += reached;
        if (hd)
            hd[(*nhd)++] = (gc_hist_delivery){GC_DELIVERY_EVENT, ev->topic, "", version, reached};
    }
    for (size_t i = 0; ob && i < ob->n; i++) {
        const struct gc__event *m = &ob->msgs[i];
        d.kind = GC_DELIVERY_MESSAGE;
        d.topic = m->topic;
        d.id = m->id;
        d.payload = m->payload;
        d.len = m->len;
        d.version = gc_state_version(cm->st);
        cm->e->outbox(&d, cm->e->outbox_arg);
        r->messages_delivered++;
        if (hd)
            hd[(*nhd)++] = (gc_hist_delivery){GC_DELIVERY_MESSAGE, m->topic, m->id, version, 1};
    }
}

int gc__commit_finish(gc__commit *cm, gc_ctx *ctx, gc_result *r)
{
    pthread_mutex_lock(&cm->lock);
    const gc__wset *ws = &ctx->ws;
    r->attempts = ctx->attempt;
    r->base_version = ctx->base_version;
    r->writes = (uint32_t)ws->n_writes;
    r->committed_version = 0;
    r->events_delivered = r->messages_delivered = 0;
    int again = 0, outcome = r->status;
    uint64_t version = 0;
    int lost = 0;
    gc_hist_delivery *hd = NULL;
    size_t nhd = 0;
    char why[GC_RESULT_TEXT_MAX];
    /* The attempt's messages join its task's outbox (see the top). */
    gc__outbox *ob = cm->outbox ? &cm->outbox[ctx->task] : NULL;
    if (ob && gc__outbox_take(ob, &ctx->ws) != GC_OK && outcome == GC_OK) {
        outcome = r->status = GC_ENOMEM;
        snprintf(r->text, sizeof r->text, "commit: out of memory for the task's outbox");
        goto record;
    }
    size_t nmsgs = ob ? ob->n : 0;
    if (outcome != GC_OK || (gc__wset_empty(ws) && nmsgs == 0))
        goto record;          /* 1: dropped whole, or nothing to commit */
    outcome = check_versions(cm, ctx, why, sizeof why);
    if (outcome == GC_ECONFLICT) {
        if (ctx->attempt <= cm->retries) {
            again = 1;
        } else {
            r->status = GC_ECONFLICT;
            snprintf(r->text, sizeof r->text, "%.200s (attempt %u, retries %u)", why,
                     ctx->attempt, cm->retries);
        }
        goto record;
    }
    outcome = validate(cm, ctx, why, sizeof why);
    gc_err err;
    gc_err_clear(&err);
    if (outcome == GC_OK)
        outcome = gc__state_install(cm->st, ws, &version, &err);
    if (outcome != GC_OK) {
        r->status = outcome;
        snprintf(r->text, sizeof r->text, "%s", outcome == GC_EVALIDATE ? why : err.msg);
        version = 0;
        goto record;
    }
    r->committed_version = version;
    if (cm->hist) {
        hd = calloc(ws->n_events + nmsgs + 1, sizeof *hd);
        lost = hd == NULL;
    }
    deliver(cm, ctx, ob, version, r, hd, &nhd);
record:
    if (cm->hist) {
        struct gc__hist_rec rec = {ctx, ctx->task, outcome, version, hd, nhd, lost};
        gc__history_add(cm->hist, &rec);
    }
    free(hd);
    pthread_mutex_unlock(&cm->lock);
    return again;
}
