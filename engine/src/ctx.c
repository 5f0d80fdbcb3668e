/* The context factory and the accessors process functions use. The factory is
 * the one place where a worker context is made from the state (the INC-014
 * cure: no dispatcher can build its own and forget the heavy zone). It checks
 * the whole contract before allocating anything, copies exactly the declared
 * domain values, records exactly the declared entries, and binds them to the
 * main process's mappings. Accessors only ever look inside the context, so a
 * process cannot reach what its contract does not name; each refusal leaves a
 * readable reason in last_error, and contract breaches are counted. */
#include "gapcheck/ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_int.h"
#include "gapcheck/wire.h"
#include "gapcheck/status.h"

/* ---- shared with wire.c ------------------------------------------------ */

gc_ctx *gc__ctx_alloc(size_t n_domain, size_t n_entries)
{
    gc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    /* calloc(0) may return NULL; one spare slot keeps "NULL = failed". */
    ctx->domain = calloc(n_domain + 1, sizeof *ctx->domain);
    ctx->entries = calloc(n_entries + 1, sizeof *ctx->entries);
    if (!ctx->domain || !ctx->entries) {
        free(ctx->domain);
        free(ctx->entries);
        free(ctx);
        return NULL;
    }
    return ctx;
}

int gc__ctx_value_copy(struct gc__ctx_value *dst, const char *name, size_t name_len,
                       const gc_value *src)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->name, name, name_len);
    dst->name[name_len] = '\0';
    dst->v = *src;
    if (src->type == GC_VAL_STR || src->type == GC_VAL_BYTES) {
        char *buf = malloc(src->len + 1);
        if (!buf)
            return GC_ENOMEM;
        if (src->len)
            memcpy(buf, src->ptr, src->len);
        buf[src->len] = '\0';
        dst->buf = buf;
        dst->v.ptr = buf;
    } else {
        dst->v.ptr = NULL;
        dst->v.len = 0;
    }
    return GC_OK;
}

void gc_ctx_free(gc_ctx *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->n_domain; i++)
        free(ctx->domain[i].buf);
    free(ctx->domain);
    free(ctx->entries);
    free(ctx);
}

/* ---- contract checks ------------------------------------------------------ */

static int check_list(const char *const *names, size_t n, const char *what, gc_err *err)
{
    if (n && !names)
        return gc_err_set(err, GC_EINVAL, "contract: %zu %s names but the list is NULL", n, what);
    for (size_t i = 0; i < n; i++) {
        int rc = gc_name_check(names[i], what, err);
        if (rc != GC_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return gc_err_set(err, GC_EINVAL, "contract: %s '%s' is declared twice", what,
                                  names[i]);
    }
    return GC_OK;
}

/* Heavy reads and outputs share one namespace (the zone's). */
static int check_contract(const gc_contract *c, gc_err *err)
{
    if (c->n_domain_reads > GC_DOMAIN_MAX)
        return gc_err_set(err, GC_ELIMIT, "contract: %zu domain keys (limit %d)",
                          c->n_domain_reads, GC_DOMAIN_MAX);
    if (c->n_heavy_reads > GC_HEAVY_MAX || c->n_outputs > GC_HEAVY_MAX - c->n_heavy_reads)
        return gc_err_set(err, GC_ELIMIT, "contract: %zu heavy reads and %zu outputs (limit %d)",
                          c->n_heavy_reads, c->n_outputs, GC_HEAVY_MAX);
    int rc = check_list(c->domain_reads, c->n_domain_reads, "domain key", err);
    if (rc == GC_OK)
        rc = check_list(c->heavy_reads, c->n_heavy_reads, "heavy entry", err);
    if (rc == GC_OK)
        rc = check_list(c->outputs, c->n_outputs, "output entry", err);
    for (size_t i = 0; rc == GC_OK && i < c->n_outputs; i++)
        for (size_t j = 0; j < c->n_heavy_reads; j++)
            if (strcmp(c->outputs[i], c->heavy_reads[j]) == 0)
                return gc_err_set(err, GC_EINVAL,
                                  "contract: '%s' is declared both as a heavy read and an output",
                                  c->outputs[i]);
    return rc;
}

static int lookup_domain(const gc_state *st, const gc_contract *c, gc_err *err)
{
    for (size_t i = 0; i < c->n_domain_reads; i++) {
        const gc_value *v;
        if (gc_state_get(st, c->domain_reads[i], &v) != GC_OK)
            return gc_err_set(err, GC_ENOTFOUND,
                              "domain key '%s' declared by the contract is not in the state",
                              c->domain_reads[i]);
    }
    return GC_OK;
}

/* Every declared entry exists and is of the declared kind. */
static int lookup_entries(const gc_zone *z, const char *const *names, size_t n, int want_output,
                          gc_err *err)
{
    const char *what = want_output ? "output entry" : "heavy entry";
    for (size_t i = 0; i < n; i++) {
        if (!z)
            return gc_err_set(err, GC_ENOTFOUND,
                              "%s '%s' declared by the contract is not in the state (the state "
                              "has no heavy zone)", what, names[i]);
        const gc_zone_entry *e = gc_zone_find(z, names[i]);
        if (!e)
            return gc_err_set(err, GC_ENOTFOUND,
                              "%s '%s' declared by the contract is not in the state's heavy zone",
                              what, names[i]);
        int is_output = (e->flags & GC_ENTRY_OUTPUT) != 0;
        if (is_output != want_output)
            return gc_err_set(err, GC_ECONTRACT,
                              "'%s' is declared by the contract as %s but the zone holds it as "
                              "%s", names[i], want_output ? "an output" : "a heavy read",
                              is_output ? "an output entry" : "an input entry");
    }
    return GC_OK;
}

/* ---- the factory ------------------------------------------------------------ */

static int fill_ctx(gc_ctx *ctx, const gc_state *st, const gc_contract *c, gc_err *err)
{
    for (size_t i = 0; i < c->n_domain_reads; i++) {
        const gc_value *v = NULL;
        gc_state_get(st, c->domain_reads[i], &v);
        const char *name = c->domain_reads[i];
        if (gc__ctx_value_copy(&ctx->domain[i], name, strlen(name), v) != GC_OK)
            return gc_err_set(err, GC_ENOMEM, "context: out of memory copying '%s'", name);
        ctx->n_domain = i + 1;
    }
    const gc_zone *z = gc_state_heavy(st);
    for (size_t i = 0; i < c->n_heavy_reads; i++)
        ctx->entries[ctx->n_entries++] = *gc_zone_find(z, c->heavy_reads[i]);
    for (size_t i = 0; i < c->n_outputs; i++)
        ctx->entries[ctx->n_entries++] = *gc_zone_find(z, c->outputs[i]);
    /* A context names the zone only when its contract does, so a worker
     * whose contract names no heavy entry is sent no descriptor. Outputs come
     * with the input file too: its manifest carries the generation the
     * decoder verifies. */
    if (z && ctx->n_entries > 0) {
        ctx->generation = gc_zone_generation(z);
        ctx->in_size = gc_zone_input_size(z);
        ctx->in_base = gc_zone_input_base(z);
    }
    if (z && c->n_outputs > 0) {
        ctx->out_size = gc_zone_output_size(z);
        ctx->out_base = gc_zone_output_base(z);
    }
    return GC_OK;
}

int gc_ctx_from_state(const gc_state *st, const gc_contract *c, uint32_t task, uint32_t ntasks,
                      gc_ctx **out, gc_err *err)
{
    if (!st || !c || !out)
        return gc_err_set(err, GC_EINVAL, "gc_ctx_from_state: NULL %s",
                          !st ? "state" : !c ? "contract" : "out");
    if (ntasks == 0 || task >= ntasks)
        return gc_err_set(err, GC_EINVAL, "gc_ctx_from_state: task %u of %u", task, ntasks);
    const gc_zone *z = gc_state_heavy(st);
    int rc = check_contract(c, err);
    if (rc == GC_OK)
        rc = lookup_domain(st, c, err);
    if (rc == GC_OK)
        rc = lookup_entries(z, c->heavy_reads, c->n_heavy_reads, 0, err);
    if (rc == GC_OK)
        rc = lookup_entries(z, c->outputs, c->n_outputs, 1, err);
    if (rc != GC_OK)
        return rc;
    gc_ctx *ctx = gc__ctx_alloc(c->n_domain_reads, c->n_heavy_reads + c->n_outputs);
    if (!ctx)
        return gc_err_set(err, GC_ENOMEM, "gc_ctx_from_state: out of memory");
    ctx->mode = GC_CTX_THREAD;
    ctx->task = task;
    ctx->ntasks = ntasks;
    ctx->attached = 1;
    rc = fill_ctx(ctx, st, c, err);
    /* Every context must be one a process worker can receive, so that a
     * contract behaves the same in thread and process mode. */
    if (rc == GC_OK && gc_wire_size(ctx) > GC_WIRE_MSG_MAX)
        rc = gc_err_set(err, GC_ELIMIT,
                        "context: the contract's values and entries take %zu bytes encoded, "
                        "over the %u-byte message limit",
                        gc_wire_size(ctx), GC_WIRE_MSG_MAX);
    if (rc != GC_OK) {
        gc_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return GC_OK;
}

/* ---- accessors -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int refuse(gc_ctx *ctx, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
    va_end(ap);
    if (status == GC_ECONTRACT || status == GC_EREADONLY) {
        if (ctx->violations < UINT32_MAX)
            ctx->violations++;
    }
    return status;
}

/* "a, b, c" of the declared names of one kind, truncated with "..." */
static void declared_list(const gc_ctx *ctx, int kind, char *buf, size_t cap)
{
    size_t used = 0;
    int any = 0;
    buf[0] = '\0';
    size_t n = kind == 0 ? ctx->n_domain : ctx->n_entries;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        if (kind == 0) {
            name = ctx->domain[i].name;
        } else {
            int is_out = (ctx->entries[i].flags & GC_ENTRY_OUTPUT) != 0;
            if (is_out != (kind == 2))
                continue;
            name = ctx->entries[i].name;
        }
        int w = snprintf(buf + used, cap - used, "%s%s", any ? ", " : "", name);
        any = 1;
        if (w < 0 || (size_t)w >= cap - used) {
            if (cap > 4)
                memcpy(buf + cap - 4, "...", 4);
            return;
        }
        used += (size_t)w;
    }
    if (!any)
        snprintf(buf, cap, "none");
}

static int undeclared(gc_ctx *ctx, const char *name, int kind)
{
    static const char *const kinds[] = {"domain keys", "heavy reads", "outputs"};
    char list[160];
    declared_list(ctx, kind, list, sizeof list);
    return refuse(ctx, GC_ECONTRACT, "'%.64s' is not declared by the contract (%s: %s)", name,
                  kinds[kind], list);
}

static int usable(gc_ctx *ctx, const char *name, const void *out)
{
    if (!ctx)
        return GC_EINVAL;
    if (!name || !out)
        return refuse(ctx, GC_EINVAL, "context access with a NULL %s", name ? "output" : "name");
    if (!ctx->attached)
        return refuse(ctx, GC_ESTATE,
                      "context is not attached to its zone yet (gc_wire_attach before access)");
    return GC_OK;
}

static int find_value(gc_ctx *ctx, const char *key, const void *out, const gc_value **v)
{
    int rc = usable(ctx, key, out);
    if (rc != GC_OK)
        return rc;
    for (size_t i = 0; i < ctx->n_domain; i++) {
        if (strcmp(ctx->domain[i].name, key) == 0) {
            *v = &ctx->domain[i].v;
            return GC_OK;
        }
    }
    return undeclared(ctx, key, 0);
}

static int typed_value(gc_ctx *ctx, const char *key, const void *out, gc_value_type want,
                       const gc_value **v)
{
    int rc = find_value(ctx, key, out, v);
    if (rc == GC_OK && (*v)->type != want)
        rc = refuse(ctx, GC_EINVAL, "domain key '%s' is %s, not %s", key,
                    gc_value_type_name((*v)->type), gc_value_type_name(want));
    return rc;
}

int gc_ctx_int(gc_ctx *ctx, const char *key, int64_t *out)
{
    const gc_value *v;
    int rc = typed_value(ctx, key, out, GC_VAL_INT, &v);
    if (rc == GC_OK)
        *out = v->i;
    return rc;
}

int gc_ctx_double(gc_ctx *ctx, const char *key, double *out)
{
    const gc_value *v;
    int rc = typed_value(ctx, key, out, GC_VAL_DOUBLE, &v);
    if (rc == GC_OK)
        *out = v->d;
    return rc;
}

int gc_ctx_str(gc_ctx *ctx, const char *key, const char **out)
{
    const gc_value *v;
    int rc = typed_value(ctx, key, out, GC_VAL_STR, &v);
    if (rc == GC_OK)
        *out = v->ptr;
    return rc;
}

int gc_ctx_bytes(gc_ctx *ctx, const char *key, const void **data, size_t *len)
{
    const gc_value *v;
    int rc = typed_value(ctx, key, len ? (const void *)data : NULL, GC_VAL_BYTES, &v);
    if (rc == GC_OK) {
        *data = v->ptr;
        *len = v->len;
    }
    return rc;
}

int gc_ctx_value(gc_ctx *ctx, const char *key, const gc_value **out)
{
    return find_value(ctx, key, out, out);
}

static const gc_zone_entry *find_entry(const gc_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->n_entries; i++)
        if (strcmp(ctx->entries[i].name, name) == 0)
            return &ctx->entries[i];
    return NULL;
}

int gc_ctx_heavy(gc_ctx *ctx, const char *name, const void **data, size_t *len)
{
    int rc = usable(ctx, name, len ? (const void *)data : NULL);
    if (rc != GC_OK)
        return rc;
    const gc_zone_entry *e = find_entry(ctx, name);
    if (!e)
        return undeclared(ctx, name, 1);
    if (e->flags & GC_ENTRY_OUTPUT)
        return refuse(ctx, GC_EINVAL, "'%s' is declared as an output; use gc_ctx_output", name);
    *data = ctx->in_base + e->offset;
    *len = (size_t)e->length;
    return GC_OK;
}

/* Asking to write a declared read is a breach too (the contract says read
 * only), so it counts as a violation, with its own status. */
int gc_ctx_output(gc_ctx *ctx, const char *name, void **data, size_t *len)
{
    int rc = usable(ctx, name, len ? (const void *)data : NULL);
    if (rc != GC_OK)
        return rc;
    const gc_zone_entry *e = find_entry(ctx, name);
    if (!e)
        return undeclared(ctx, name, 2);
    if (!(e->flags & GC_ENTRY_OUTPUT))
        return refuse(ctx, GC_EREADONLY, "'%s' is declared as a heavy read, not an output", name);
    *data = ctx->out_base + e->offset;
    *len = (size_t)e->length;
    return GC_OK;
}

/* ---- introspection ------------------------------------------------------------ */

uint32_t gc_ctx_task(const gc_ctx *ctx) { return ctx ? ctx->task : 0; }
uint32_t gc_ctx_task_count(const gc_ctx *ctx) { return ctx ? ctx->ntasks : 0; }
uint64_t gc_ctx_generation(const gc_ctx *ctx) { return ctx ? ctx->generation : 0; }
gc_ctx_mode gc_ctx_mode_of(const gc_ctx *ctx) { return ctx ? ctx->mode : GC_CTX_THREAD; }
uint32_t gc_ctx_violations(const gc_ctx *ctx) { return ctx ? ctx->violations : 0; }
const char *gc_ctx_last_error(const gc_ctx *ctx) { return ctx ? ctx->last_error : ""; }
uint64_t gc_ctx_deadline_ns(const gc_ctx *ctx) { return ctx ? ctx->deadline_ns : 0; }
size_t gc_ctx_domain_count(const gc_ctx *ctx) { return ctx ? ctx->n_domain : 0; }
size_t gc_ctx_entry_count(const gc_ctx *ctx) { return ctx ? ctx->n_entries : 0; }

const char *gc_ctx_domain_name(const gc_ctx *ctx, size_t i)
{
    return ctx && i < ctx->n_domain ? ctx->domain[i].name : NULL;
}

const gc_zone_entry *gc_ctx_entry_at(const gc_ctx *ctx, size_t i)
{
    return ctx && i < ctx->n_entries ? &ctx->entries[i] : NULL;
}
