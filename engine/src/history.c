/* The attempt history (commit.h): what a consistency checker reads. The
 * commit path appends one record per finished attempt under its lock, in
 * commit order; a run without a history never gets here. Each record owns
 * copies of its strings (the context it describes is freed right after). */
#include <stdlib.h>
#include <string.h>

#include "commit_int.h"
#include "ctx_int.h"
#include "gapcheck/status.h"

struct gc_history {
    gc_attempt *a;
    size_t n, cap;
    size_t incomplete;
};

int gc_history_new(gc_history **out, gc_err *err)
{
    if (!out)
        return gc_err_set(err, GC_EINVAL, "gc_history_new: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? GC_OK : gc_err_set(err, GC_ENOMEM, "gc_history_new: out of memory");
}

static void attempt_release(gc_attempt *a)
{
    for (size_t i = 0; i < a->n_reads; i++)
        free((void *)a->reads[i].key);
    for (size_t i = 0; i < a->n_writes; i++) {
        free((void *)a->writes[i]);
        free((void *)a->values[i].ptr);
    }
    for (size_t i = 0; i < a->n_deliveries; i++) {
        free((void *)a->deliveries[i].topic);
        free((void *)a->deliveries[i].id);
    }
    free((void *)a->reads);
    free((void *)a->writes);
    free((void *)a->values);
    free((void *)a->deliveries);
}

void gc_history_clear(gc_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        attempt_release(&h->a[i]);
    h->n = 0;
    h->incomplete = 0;
}

void gc_history_free(gc_history *h)
{
    gc_history_clear(h);
    if (h)
        free(h->a);
    free(h);
}

size_t gc_history_count(const gc_history *h) { return h ? h->n : 0; }
size_t gc_history_incomplete(const gc_history *h) { return h ? h->incomplete : 0; }

const gc_attempt *gc_history_at(const gc_history *h, size_t i)
{
    return h && i < h->n ? &h->a[i] : NULL;
}

/* Fill a's arrays from the record; 0 when something could not be copied. */
static int fill(gc_attempt *a, const struct gc__hist_rec *rec)
{
    const gc_ctx *ctx = rec->ctx;
    const gc__wset *ws = &ctx->ws;
    int ok = 1;
    size_t nr = 0;
    for (size_t i = 0; i < ctx->n_domain; i++)
        nr += ctx->domain[i].read != 0;
    gc_hist_read *reads = calloc(nr + 1, sizeof *reads);
    const char **writes = calloc(ws->n_writes + 1, sizeof *writes);
    gc_value *values = calloc(ws->n_writes + 1, sizeof *values);
    gc_hist_delivery *dl = calloc(rec->n_deliveries + 1, sizeof *dl);
    a->reads = reads;
    a->writes = writes;
    a->values = values;
    a->deliveries = dl;
    if (!reads || !writes || !values || !dl)
        return 0;
    for (size_t i = 0; i < ctx->n_domain; i++) {
        if (!ctx->domain[i].read)
            continue;
        char *key = strdup(ctx->domain[i].name);
        ok &= key != NULL;
        if (key)
            reads[a->n_reads++] = (gc_hist_read){key, ctx->domain[i].modified};
    }
    for (size_t i = 0; i < ws->n_writes; i++) {
        const gc_value *v = &ws->writes[i].v;
        char *key = strdup(ws->writes[i].name);
        void *copy = NULL;
        int holds = v->type == GC_VAL_STR || v->type == GC_VAL_BYTES;
        if (holds && (copy = malloc(v->len + 1)) != NULL) {
            memcpy(copy, v->ptr, v->len);
            ((char *)copy)[v->len] = '\0';
        }
        if (!key || (holds && !copy)) {
            free(key);
            free(copy);
            ok = 0;
            continue;
        }
        values[a->n_writes] = *v;
        values[a->n_writes].ptr = copy;
        writes[a->n_writes++] = key;
    }
    for (size_t i = 0; i < rec->n_deliveries; i++) {
        gc_hist_delivery d = rec->deliveries[i];
        d.topic = strdup(d.topic);
        d.id = strdup(d.id);
        if (!d.topic || !d.id) {
            free((void *)d.topic);
            free((void *)d.id);
            ok = 0;
            continue;
        }
        dl[a->n_deliveries++] = d;
    }
    return ok && !rec->lost;
}

void gc__history_add(gc_history *h, const struct gc__hist_rec *rec)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        gc_attempt *a = realloc(h->a, cap * sizeof *a);
        if (!a) {
            h->incomplete++;
            return;
        }
        h->a = a;
        h->cap = cap;
    }
    gc_attempt *a = &h->a[h->n++];
    memset(a, 0, sizeof *a);
    a->task = rec->task;
    a->attempt = rec->ctx->attempt;
    a->base = rec->ctx->base_version;
    a->outcome = rec->outcome;
    a->version = rec->version;
    if (!fill(a, rec))
        h->incomplete++;
}
