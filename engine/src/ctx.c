/* The context factory and the accessors process functions use. The factory is
 * the one place where a worker context is made from the state (the INC-014
 * cure: no dispatcher can build its own and forget the heavy zone). It checks
 * the whole contract before allocating anything, copies exactly the declared
 * domain values, records exactly the declared entries, and binds them to the
 * main process's mappings. It also copies the engine configuration, the
 * state's version (the context's base) and each copied key's last-modified
 * version, and starts the write set empty (INC-026: a pending set seeded from
 * the snapshot made every returned value look "already written"). Accessors
 * only ever look inside the context, so a process cannot reach what its
 * contract does not name; each refusal leaves a readable reason in
 * last_error, and contract breaches are counted. Writes, events and messages
 * only ever go into the write set; the commit (commit.c) decides what of it
 * reaches the state. */
#include "gapcheck/ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_int.h"
#include "value_int.h"
#include "gapcheck/wire.h"
#include "gapcheck/status.h"

/* ---- shared with wire.c ------------------------------------------------ */

gc_ctx *gc__ctx_alloc(size_t n_domain, size_t n_entries, size_t n_writes)
{
    gc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    /* calloc(0) may return NULL; one spare slot keeps "NULL = failed". */
    ctx->domain = calloc(n_domain + 1, sizeof *ctx->domain);
    ctx->entries = calloc(n_entries + 1, sizeof *ctx->entries);
    ctx->wnames = calloc(n_writes + 1, sizeof *ctx->wnames);
    if (!ctx->domain || !ctx->entries || !ctx->wnames) {
        free(ctx->domain);
        free(ctx->entries);
        free(ctx->wnames);
        free(ctx);
        return NULL;
    }
    ctx->cfg = gc_config_default();
    ctx->attempt = 1;
    ctx->return_idx = GC__NO_RETURN;
    return ctx;
}

gc_config gc_config_default(void)
{
    return (gc_config){.strict_contracts = 1, .commit = GC_COMMIT_SMART};
}

int gc__ctx_value_copy(struct gc__ctx_value *dst, const char *name, size_t name_len,
                       const gc_value *src)
{
    memset(dst, 0, sizeof *dst);
    memcpy(dst->name, name, name_len);
    dst->name[name_len] = '\0';
    return gc__value_dup(src, &dst->v, &dst->buf);
}

void gc_ctx_free(gc_ctx *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->n_domain; i++)
        free(ctx->domain[i].buf);
    free(ctx->domain);
    free(ctx->entries);
    free(ctx->wnames);
    gc__wset_free(&ctx->ws);
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

static long write_index(const gc_contract *c, const char *key)
{
    for (size_t i = 0; i < c->n_domain_writes; i++)
        if (strcmp(c->domain_writes[i], key) == 0)
            return (long)i;
    return -1;
}

/* Heavy reads and outputs share one namespace (the zone's). The counts are
 * checked first, so no list is read past a count that lies about it. */
int gc__contract_check(const gc_contract *c, gc_err *err)
{
    if (c->n_domain_reads > GC_DOMAIN_MAX)
        return gc_err_set(err, GC_ELIMIT, "contract: %zu domain keys (limit %d)",
                          c->n_domain_reads, GC_DOMAIN_MAX);
    if (c->n_domain_writes > GC_DOMAIN_MAX)
        return gc_err_set(err, GC_ELIMIT, "contract: %zu domain writes (limit %d)",
                          c->n_domain_writes, GC_DOMAIN_MAX);
    if (c->n_heavy_reads > GC_HEAVY_MAX || c->n_outputs > GC_HEAVY_MAX - c->n_heavy_reads)
        return gc_err_set(err, GC_ELIMIT, "contract: %zu heavy reads and %zu outputs (limit %d)",
                          c->n_heavy_reads, c->n_outputs, GC_HEAVY_MAX);
    int rc = check_list(c->domain_reads, c->n_domain_reads, "domain key", err);
    if (rc == GC_OK)
        rc = check_list(c->heavy_reads, c->n_heavy_reads, "heavy entry", err);
    if (rc == GC_OK)
        rc = check_list(c->outputs, c->n_outputs, "output entry", err);
    if (rc == GC_OK)
        rc = check_list(c->domain_writes, c->n_domain_writes, "domain write", err);
    if (rc == GC_OK && c->return_key && write_index(c, c->return_key) < 0)
        return gc_err_set(err, GC_EINVAL, "contract: return key '%.64s' is not a declared "
                          "domain write", c->return_key);
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

static int declared_read(const gc_contract *c, const char *key)
{
    for (size_t i = 0; i < c->n_domain_reads; i++)
        if (strcmp(c->domain_reads[i], key) == 0)
            return 1;
    return 0;
}

static int copy_key(gc_ctx *ctx, const gc_state *st, const char *name, gc_err *err)
{
    const gc_value *v = NULL;
    gc_state_get(st, name, &v);
    struct gc__ctx_value *slot = &ctx->domain[ctx->n_domain];
    if (gc__ctx_value_copy(slot, name, strlen(name), v) != GC_OK)
        return gc_err_set(err, GC_ENOMEM, "context: out of memory copying '%s'", name);
    gc_state_key_version(st, name, &slot->modified);
    ctx->n_domain++;
    return GC_OK;
}

static int fill_ctx(gc_ctx *ctx, const gc_state *st, const gc_contract *c, gc_err *err)
{
    for (size_t i = 0; i < c->n_domain_reads; i++)
        if (copy_key(ctx, st, c->domain_reads[i], err) != GC_OK)
            return GC_ENOMEM;
    ctx->n_declared = ctx->n_domain;
    /* Lax contracts: every other key rides along, readable and counted. */
    for (size_t i = 0; !ctx->cfg.strict_contracts && i < gc_state_domain_count(st); i++) {
        const char *name;
        const gc_value *v;
        gc_state_domain_at(st, i, &name, &v);
        if (!declared_read(c, name) && copy_key(ctx, st, name, err) != GC_OK)
            return GC_ENOMEM;
    }
    for (size_t i = 0; i < c->n_domain_writes; i++)
        snprintf(ctx->wnames[i], sizeof ctx->wnames[i], "%s", c->domain_writes[i]);
    ctx->n_wnames = c->n_domain_writes;
    if (c->return_key)
        ctx->return_idx = (uint32_t)write_index(c, c->return_key);
    ctx->allow = (c->events ? GC__ALLOW_EVENTS : 0) | (c->outbox ? GC__ALLOW_OUTBOX : 0);
    ctx->base_version = gc_state_version(st);
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

int gc_ctx_from_state(const gc_state *st, const gc_contract *c, const gc_config *cfg,
                      uint32_t task, uint32_t ntasks, gc_ctx **out, gc_err *err)
{
    if (!st || !c || !out)
        return gc_err_set(err, GC_EINVAL, "gc_ctx_from_state: NULL %s",
                          !st ? "state" : !c ? "contract" : "out");
    if (ntasks == 0 || task >= ntasks)
        return gc_err_set(err, GC_EINVAL, "gc_ctx_from_state: task %u of %u", task, ntasks);
    const gc_zone *z = gc_state_heavy(st);
    int rc = gc__contract_check(c, err);
    if (rc == GC_OK)
        rc = lookup_domain(st, c, err);
    if (rc == GC_OK)
        rc = lookup_entries(z, c->heavy_reads, c->n_heavy_reads, 0, err);
    if (rc == GC_OK)
        rc = lookup_entries(z, c->outputs, c->n_outputs, 1, err);
    /* Outputs that cannot be bound writable are refused here, before any
     * worker runs, never bound read-only for the write to fail (or, in a
     * thread, to fault) far from the cause. */
    if (rc == GC_OK && c->n_outputs > 0 && gc_zone_outputs_frozen(z))
        rc = gc_err_set(err, GC_EREADONLY, "context: output entry '%s' cannot be bound writable: "
                        "the zone's outputs are frozen", c->outputs[0]);
    if (rc != GC_OK)
        return rc;
    gc_config conf = cfg ? *cfg : gc_config_default();
    if (conf.commit != GC_COMMIT_SMART && conf.commit != GC_COMMIT_STRICT)
        return gc_err_set(err, GC_EINVAL, "gc_ctx_from_state: commit mode %d is neither smart "
                          "nor strict", (int)conf.commit);
    conf.strict_contracts = conf.strict_contracts != 0;
    size_t n_domain = conf.strict_contracts ? c->n_domain_reads : gc_state_domain_count(st);
    gc_ctx *ctx = gc__ctx_alloc(n_domain, c->n_heavy_reads + c->n_outputs, c->n_domain_writes);
    if (!ctx)
        return gc_err_set(err, GC_ENOMEM, "gc_ctx_from_state: out of memory");
    ctx->cfg = conf;
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
    size_t n = kind == 0 ? ctx->n_declared : kind == 3 ? ctx->n_wnames : ctx->n_entries;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        if (kind == 0) {
            name = ctx->domain[i].name;
        } else if (kind == 3) {
            name = ctx->wnames[i];
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
    static const char *const kinds[] = {"domain keys", "heavy reads", "outputs",
                                        "domain writes"};
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
            /* Only a lax context holds keys past n_declared. */
            if (i >= ctx->n_declared && ctx->undeclared_reads < UINT32_MAX)
                ctx->undeclared_reads++;
            ctx->domain[i].read = 1;
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

/* ---- the write set -------------------------------------------------------------- */

static int write_slot(const gc_ctx *ctx, const char *key)
{
    for (size_t i = 0; i < ctx->n_wnames; i++)
        if (strcmp(ctx->wnames[i], key) == 0)
            return (int)i;
    return -1;
}

/* A write set must fit a reply, so that thread and process mode accept the
 * same ones: the bound is checked before anything is added. */
static int fits(gc_ctx *ctx, size_t more, const char *what)
{
    size_t now = gc__wset_size(&ctx->ws, ctx->n_domain);
    if (more > GC_WSET_MSG_MAX || now > GC_WSET_MSG_MAX - more)
        return refuse(ctx, GC_ELIMIT, "%s: the write set would take over %u bytes", what,
                      GC_WSET_MSG_MAX);
    return GC_OK;
}

static int put_write(gc_ctx *ctx, const char *key, uint8_t source, const gc_value *v)
{
    gc_err e;
    int rc = gc__wset_put(&ctx->ws, key, source, v, &e);
    return rc == GC_OK ? GC_OK : refuse(ctx, rc, "%s", e.msg);
}

int gc_ctx_set_value(gc_ctx *ctx, const char *key, const gc_value *v)
{
    int rc = usable(ctx, key, v);
    if (rc != GC_OK)
        return rc;
    if (write_slot(ctx, key) < 0)
        return undeclared(ctx, key, 3);
    int sized = v->type == GC_VAL_STR || v->type == GC_VAL_BYTES;
    if (v->type != GC_VAL_INT && v->type != GC_VAL_DOUBLE && !sized)
        return refuse(ctx, GC_EINVAL, "write of '%s': value type %d", key, (int)v->type);
    if (sized && v->len && !v->ptr)
        return refuse(ctx, GC_EINVAL, "write of '%s': NULL data", key);
    if (v->type == GC_VAL_STR && v->len && memchr(v->ptr, '\0', v->len))
        return refuse(ctx, GC_EINVAL, "write of '%s': string holds a NUL byte", key);
    rc = fits(ctx, 80 + (sized ? v->len : 8), "write");
    return rc == GC_OK ? put_write(ctx, key, GC__WRITE_SET, v) : rc;
}

int gc_ctx_set_int(gc_ctx *ctx, const char *key, int64_t v)
{
    gc_value val = {.type = GC_VAL_INT, .i = v};
    return gc_ctx_set_value(ctx, key, &val);
}

int gc_ctx_set_double(gc_ctx *ctx, const char *key, double v)
{
    gc_value val = {.type = GC_VAL_DOUBLE, .d = v};
    return gc_ctx_set_value(ctx, key, &val);
}

int gc_ctx_set_str(gc_ctx *ctx, const char *key, const char *v)
{
    gc_value val = {.type = GC_VAL_STR, .ptr = v, .len = v ? strnlen(v, GC_VALUE_BYTES_MAX + 1) : 0};
    if (!v)
        return ctx ? refuse(ctx, GC_EINVAL, "write of '%.64s': NULL string", key ? key : "")
                   : GC_EINVAL;
    return gc_ctx_set_value(ctx, key, &val);
}

int gc_ctx_set_bytes(gc_ctx *ctx, const char *key, const void *data, size_t len)
{
    gc_value val = {.type = GC_VAL_BYTES, .ptr = data, .len = len};
    return gc_ctx_set_value(ctx, key, &val);
}

static int side_effect(gc_ctx *ctx, uint32_t need, const char *topic, const char *id,
                       const void *payload, size_t len)
{
    const char *what = need == GC__ALLOW_EVENTS ? "event" : "message";
    int rc = usable(ctx, topic, need == GC__ALLOW_EVENTS ? (const void *)topic : id);
    if (rc != GC_OK)
        return rc;
    if (!(ctx->allow & need))
        return refuse(ctx, GC_ECONTRACT, "%s '%.64s': the contract allows no %ss", what, topic,
                      what);
    gc_err e;
    if (gc_name_check(topic, "topic", &e) != GC_OK ||
        (id && gc_name_check(id, "message id", &e) != GC_OK))
        return refuse(ctx, GC_EINVAL, "%s", e.msg);
    if (len && !payload)
        return refuse(ctx, GC_EINVAL, "%s '%s': NULL payload", what, topic);
    rc = fits(ctx, 140 + len, what);
    if (rc != GC_OK)
        return rc;
    rc = id ? gc__wset_msg(&ctx->ws, topic, id, payload, len, &e)
            : gc__wset_event(&ctx->ws, topic, payload, len, &e);
    return rc == GC_OK ? GC_OK : refuse(ctx, rc, "%s", e.msg);
}

int gc_ctx_emit(gc_ctx *ctx, const char *topic, const void *payload, size_t len)
{
    return side_effect(ctx, GC__ALLOW_EVENTS, topic, NULL, payload, len);
}

int gc_ctx_send(gc_ctx *ctx, const char *topic, const char *id, const void *payload, size_t len)
{
    if (ctx && !id)
        return refuse(ctx, GC_EINVAL, "message '%.64s': no id", topic ? topic : "");
    return side_effect(ctx, GC__ALLOW_OUTBOX, topic, id, payload, len);
}

/* One key joins the pending set unless it is pending already: the first
 * path to name a key wins it (the write-back adds the returned value first). */
static int write_back(gc__wset *pending, const char *key, uint8_t source, const gc_value *v,
                      gc_err *err)
{
    return gc__wset_find(pending, key) ? GC_OK : gc__wset_put(pending, key, source, v, err);
}

int gc__ctx_return(gc_ctx *ctx, int64_t value, gc_err *err)
{
    if (ctx->n_wnames == 0)
        return GC_OK;             /* a contract without writes has nothing to write back */
    gc__wset pending;
    memset(&pending, 0, sizeof pending);   /* starts empty (INC-026) */
    int rc = GC_OK;
    if (ctx->return_idx != GC__NO_RETURN) {
        gc_value v = {.type = GC_VAL_INT, .i = value};
        rc = write_back(&pending, ctx->wnames[ctx->return_idx], GC__WRITE_RETURN, &v, err);
    }
    for (size_t i = 0; rc == GC_OK && i < ctx->ws.n_writes; i++) {
        const struct gc__write *w = &ctx->ws.writes[i];
        rc = write_back(&pending, w->name, w->source, &w->v, err);
    }
    if (rc == GC_OK)
        gc__wset_swap_writes(&ctx->ws, &pending);
    gc__wset_free(&pending);
    if (rc == GC_OK && gc__wset_size(&ctx->ws, ctx->n_domain) > GC_WSET_MSG_MAX)
        rc = gc_err_set(err, GC_ELIMIT, "the write set with the returned value passes %u bytes",
                        GC_WSET_MSG_MAX);
    return rc;
}

size_t gc__ctx_reads(const gc_ctx *ctx, uint16_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < ctx->n_domain; i++)
        if (ctx->domain[i].read)
            idx[n++] = (uint16_t)i;
    return n;
}

int gc__ctx_adopt(gc_ctx *ctx, gc__wset *ws, gc_err *err)
{
    int rc = GC_OK;
    for (size_t i = 0; rc == GC_OK && i < ws->n_writes; i++) {
        const struct gc__write *w = &ws->writes[i];
        int slot = write_slot(ctx, w->name);
        if (slot < 0)
            rc = gc_err_set(err, GC_EWIRE, "reply writes '%s', which the contract does not "
                            "declare", w->name);
        else if (w->source == GC__WRITE_RETURN && (uint32_t)slot != ctx->return_idx)
            rc = gc_err_set(err, GC_EWIRE, "reply returns into '%s', which is not the "
                            "contract's return key", w->name);
    }
    if (rc == GC_OK && ws->n_events && !(ctx->allow & GC__ALLOW_EVENTS))
        rc = gc_err_set(err, GC_EWIRE, "reply carries %zu events; the contract allows none",
                        ws->n_events);
    if (rc == GC_OK && ws->n_msgs && !(ctx->allow & GC__ALLOW_OUTBOX))
        rc = gc_err_set(err, GC_EWIRE, "reply carries %zu messages; the contract allows none",
                        ws->n_msgs);
    for (size_t i = 0; rc == GC_OK && i < ws->n_reads; i++) {
        if (ws->reads[i] >= ctx->n_domain)
            rc = gc_err_set(err, GC_EWIRE, "reply reads key %u of %zu", ws->reads[i],
                            ctx->n_domain);
        else
            ctx->domain[ws->reads[i]].read = 1;
    }
    if (rc == GC_OK) {
        gc__wset_free(&ctx->ws);
        ctx->ws = *ws;
        free(ctx->ws.reads);
        ctx->ws.reads = NULL;
        ctx->ws.n_reads = 0;
        memset(ws, 0, sizeof *ws);
    } else {
        gc__wset_free(ws);
    }
    return rc;
}

void gc__ctx_set_attempt(gc_ctx *ctx, uint32_t attempt)
{
    ctx->attempt = attempt;
}

size_t gc_ctx_pending_writes(const gc_ctx *ctx) { return ctx ? ctx->ws.n_writes : 0; }
size_t gc_ctx_pending_events(const gc_ctx *ctx) { return ctx ? ctx->ws.n_events : 0; }
size_t gc_ctx_pending_messages(const gc_ctx *ctx) { return ctx ? ctx->ws.n_msgs : 0; }
size_t gc_ctx_write_count(const gc_ctx *ctx) { return ctx ? ctx->n_wnames : 0; }
int gc_ctx_may_emit(const gc_ctx *ctx) { return ctx && (ctx->allow & GC__ALLOW_EVENTS); }
int gc_ctx_may_send(const gc_ctx *ctx) { return ctx && (ctx->allow & GC__ALLOW_OUTBOX); }

const char *gc_ctx_write_name(const gc_ctx *ctx, size_t i)
{
    return ctx && i < ctx->n_wnames ? ctx->wnames[i] : NULL;
}

/* ---- introspection ------------------------------------------------------------ */

uint32_t gc_ctx_task(const gc_ctx *ctx) { return ctx ? ctx->task : 0; }
uint32_t gc_ctx_task_count(const gc_ctx *ctx) { return ctx ? ctx->ntasks : 0; }
uint64_t gc_ctx_generation(const gc_ctx *ctx) { return ctx ? ctx->generation : 0; }
gc_ctx_mode gc_ctx_mode_of(const gc_ctx *ctx) { return ctx ? ctx->mode : GC_CTX_THREAD; }
uint32_t gc_ctx_violations(const gc_ctx *ctx) { return ctx ? ctx->violations : 0; }
uint32_t gc_ctx_undeclared_reads(const gc_ctx *ctx) { return ctx ? ctx->undeclared_reads : 0; }
uint64_t gc_ctx_base_version(const gc_ctx *ctx) { return ctx ? ctx->base_version : 0; }
uint32_t gc_ctx_attempt(const gc_ctx *ctx) { return ctx ? ctx->attempt : 0; }
gc_config gc_ctx_config(const gc_ctx *ctx) { return ctx ? ctx->cfg : gc_config_default(); }

int gc_ctx_key_version(const gc_ctx *ctx, const char *key, uint64_t *out)
{
    for (size_t i = 0; ctx && key && out && i < ctx->n_domain; i++)
        if (strcmp(ctx->domain[i].name, key) == 0) {
            *out = ctx->domain[i].modified;
            return GC_OK;
        }
    return GC_ENOTFOUND;
}
const char *gc_ctx_last_error(const gc_ctx *ctx) { return ctx ? ctx->last_error : ""; }
uint64_t gc_ctx_deadline_ns(const gc_ctx *ctx) { return ctx ? ctx->deadline_ns : 0; }
size_t gc_ctx_domain_count(const gc_ctx *ctx) { return ctx ? ctx->n_declared : 0; }
size_t gc_ctx_entry_count(const gc_ctx *ctx) { return ctx ? ctx->n_entries : 0; }

const char *gc_ctx_domain_name(const gc_ctx *ctx, size_t i)
{
    return ctx && i < ctx->n_declared ? ctx->domain[i].name : NULL;
}

const gc_zone_entry *gc_ctx_entry_at(const gc_ctx *ctx, size_t i)
{
    return ctx && i < ctx->n_entries ? &ctx->entries[i] : NULL;
}
