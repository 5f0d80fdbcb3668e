/* The state: the domain zone (named small values the state owns, kept in
 * insertion order so that listings and encodings are reproducible), the
 * published heavy zone it owns, and versions: the state's, and per key the
 * version that last modified it. Setting a value is all-or-nothing: the new
 * copy is made before the old one is released, so a failed set leaves the
 * previous value in place; installing a write set (the only way a version is
 * made) allocates everything it needs before it changes anything. */
#include "gapcheck/state.h"

#include <stdlib.h>
#include <string.h>

#include "gapcheck/status.h"
#include "state_int.h"
#include "value_int.h"

struct state_item {
    char name[GC_NAME_MAX + 1];
    gc_value v;
    void *buf;      /* owned copy of string/bytes values */
    uint64_t modified;
};

/* Items are allocated one by one: gc_state_get hands out pointers into them
 * that must survive later insertions (which grow the pointer array). */
struct gc_state {
    struct state_item **items;
    size_t count, cap;
    gc_zone *heavy;
    int heavy_borrowed;   /* a clone shares its source's zone */
    uint64_t version;
};

int gc_state_new(gc_state **out, gc_err *err)
{
    if (!out)
        return gc_err_set(err, GC_EINVAL, "gc_state_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return gc_err_set(err, GC_ENOMEM, "gc_state_new: out of memory");
    return GC_OK;
}

void gc_state_free(gc_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++) {
        free(st->items[i]->buf);
        free(st->items[i]);
    }
    free(st->items);
    if (!st->heavy_borrowed)
        gc_zone_free(st->heavy);
    free(st);
}

static struct state_item *find_item(const gc_state *st, const char *name)
{
    for (size_t i = 0; i < st->count; i++)
        if (strcmp(st->items[i]->name, name) == 0)
            return st->items[i];
    return NULL;
}

/* Slot for name: the existing one, or a new one at the end. */
static int slot_for(gc_state *st, const char *name, struct state_item **out, gc_err *err)
{
    *out = find_item(st, name);
    if (*out)
        return GC_OK;
    if (st->count >= GC_DOMAIN_MAX)
        return gc_err_set(err, GC_ELIMIT, "domain key '%s': a state holds at most %d keys", name,
                          GC_DOMAIN_MAX);
    if (st->count == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        struct state_item **items = realloc(st->items, cap * sizeof *items);
        if (!items)
            return gc_err_set(err, GC_ENOMEM, "domain key '%s': out of memory", name);
        st->items = items;
        st->cap = cap;
    }
    struct state_item *it = calloc(1, sizeof *it);
    if (!it)
        return gc_err_set(err, GC_ENOMEM, "domain key '%s': out of memory", name);
    memcpy(it->name, name, strlen(name) + 1);
    st->items[st->count++] = it;
    *out = it;
    return GC_OK;
}

/* Store v (whose bytes, if any, are in buf, now owned by the state). */
static int set_value(gc_state *st, const char *name, const gc_value *v, void *buf, gc_err *err)
{
    struct state_item *it = NULL;
    int rc = gc_name_check(name, "domain key", err);
    if (rc == GC_OK)
        rc = slot_for(st, name, &it, err);
    if (rc != GC_OK) {
        free(buf);
        return rc;
    }
    free(it->buf);
    it->v = *v;
    it->buf = buf;
    it->modified = st->version;
    return GC_OK;
}

int gc_state_set_int(gc_state *st, const char *name, int64_t v, gc_err *err)
{
    if (!st)
        return gc_err_set(err, GC_EINVAL, "gc_state_set_int: state is NULL");
    gc_value val = {.type = GC_VAL_INT, .i = v};
    return set_value(st, name, &val, NULL, err);
}

int gc_state_set_double(gc_state *st, const char *name, double v, gc_err *err)
{
    if (!st)
        return gc_err_set(err, GC_EINVAL, "gc_state_set_double: state is NULL");
    gc_value val = {.type = GC_VAL_DOUBLE, .d = v};
    return set_value(st, name, &val, NULL, err);
}

/* The state keeps its own copy of the bytes (gc__value_dup). */
static int copy_bytes(gc_state *st, const char *name, gc_value_type type, const void *v,
                      size_t len, gc_err *err)
{
    /* A string is measured only up to one byte past the limit (strnlen): its
     * real length is not known, so its message names the limit alone. */
    if (len > GC_VALUE_BYTES_MAX && type == GC_VAL_STR)
        return gc_err_set(err, GC_ELIMIT, "domain key '%s': %s value of more than %d bytes",
                          name ? name : "(null)", gc_value_type_name(type), GC_VALUE_BYTES_MAX);
    if (len > GC_VALUE_BYTES_MAX)
        return gc_err_set(err, GC_ELIMIT, "domain key '%s': %s value of %zu bytes (limit %d)",
                          name ? name : "(null)", gc_value_type_name(type), len,
                          GC_VALUE_BYTES_MAX);
    gc_value val = {.type = type, .ptr = v, .len = len};
    void *buf;
    if (gc__value_dup(&val, &val, &buf) != GC_OK)
        return gc_err_set(err, GC_ENOMEM, "domain key '%s': out of memory", name ? name : "(null)");
    return set_value(st, name, &val, buf, err);
}

int gc_state_set_str(gc_state *st, const char *name, const char *v, gc_err *err)
{
    if (!st || !v)
        return gc_err_set(err, GC_EINVAL, "gc_state_set_str: %s is NULL", st ? "value" : "state");
    return copy_bytes(st, name, GC_VAL_STR, v, strnlen(v, GC_VALUE_BYTES_MAX + 1), err);
}

int gc_state_set_bytes(gc_state *st, const char *name, const void *v, size_t len, gc_err *err)
{
    if (!st || (!v && len))
        return gc_err_set(err, GC_EINVAL, "gc_state_set_bytes: %s is NULL",
                          st ? "value" : "state");
    return copy_bytes(st, name, GC_VAL_BYTES, v, len, err);
}

/* The item of a lookup by name: GC_EINVAL for a NULL argument (out is the
 * caller's result pointer), GC_ENOTFOUND for no such key. */
static int lookup(const gc_state *st, const char *name, const void *out,
                  const struct state_item **it)
{
    if (!st || !name || !out)
        return GC_EINVAL;
    *it = find_item(st, name);
    return *it ? GC_OK : GC_ENOTFOUND;
}

int gc_state_get(const gc_state *st, const char *name, const gc_value **out)
{
    const struct state_item *it;
    int rc = lookup(st, name, out, &it);
    if (rc == GC_OK)
        *out = &it->v;
    return rc;
}

size_t gc_state_domain_count(const gc_state *st)
{
    return st ? st->count : 0;
}

uint64_t gc_state_version(const gc_state *st)
{
    return st ? st->version : 0;
}

int gc_state_key_version(const gc_state *st, const char *name, uint64_t *out)
{
    const struct state_item *it;
    int rc = lookup(st, name, out, &it);
    if (rc == GC_OK)
        *out = it->modified;
    return rc;
}

int gc_state_domain_at(const gc_state *st, size_t i, const char **name, const gc_value **value)
{
    if (!st || !name || !value)
        return GC_EINVAL;
    if (i >= st->count)
        return GC_ENOTFOUND;
    *name = st->items[i]->name;
    *value = &st->items[i]->v;
    return GC_OK;
}

int gc_state_set_heavy(gc_state *st, gc_zone *zone, gc_err *err)
{
    if (!st || !zone)
        return gc_err_set(err, GC_EINVAL, "gc_state_set_heavy: %s is NULL", st ? "zone" : "state");
    if (!gc_zone_is_published(zone))
        return gc_err_set(err, GC_ESTATE,
                          "gc_state_set_heavy: the zone is not published (gc_zone_publish first)");
    if (zone == st->heavy)
        return GC_OK;   /* already ours: freeing "the old one" would free it */
    if (!st->heavy_borrowed)
        gc_zone_free(st->heavy);
    st->heavy = zone;
    st->heavy_borrowed = 0;
    return GC_OK;
}

const gc_zone *gc_state_heavy(const gc_state *st)
{
    return st ? st->heavy : NULL;
}

/* ---- the commit path (state_int.h) ---------------------------------------- */

int gc__state_clone(const gc_state *src, gc_state **out, gc_err *err)
{
    *out = NULL;
    gc_state *st = calloc(1, sizeof *st);
    struct state_item **items = calloc(src->count + 1, sizeof *items);
    if (!st || !items) {
        free(st);
        free(items);
        return gc_err_set(err, GC_ENOMEM, "state: out of memory copying the run's base");
    }
    st->items = items;
    st->cap = src->count + 1;
    st->heavy = src->heavy;
    st->heavy_borrowed = 1;
    st->version = src->version;
    for (size_t i = 0; i < src->count; i++) {
        struct state_item *it = calloc(1, sizeof *it);
        if (!it || gc__value_dup(&src->items[i]->v, &it->v, &it->buf) != GC_OK) {
            free(it);
            gc_state_free(st);
            return gc_err_set(err, GC_ENOMEM, "state: out of memory copying the run's base");
        }
        memcpy(it->name, src->items[i]->name, sizeof it->name);
        it->modified = src->items[i]->modified;
        st->items[st->count++] = it;
    }
    *out = st;
    return GC_OK;
}

int gc__state_install(gc_state *st, const gc__wset *ws, uint64_t *version, gc_err *err)
{
    size_t n = ws->n_writes, fresh = 0;
    for (size_t i = 0; i < n; i++)
        fresh += find_item(st, ws->writes[i].name) == NULL;
    if (fresh > GC_DOMAIN_MAX - st->count)
        return gc_err_set(err, GC_ELIMIT, "commit: %zu new domain keys would pass the state's "
                          "%d keys", fresh, GC_DOMAIN_MAX);
    /* Everything that can fail happens first, into `staged`. */
    struct staged { gc_value v; void *buf; struct state_item *item; } *sg =
        calloc(n + 1, sizeof *sg);
    int rc = sg ? GC_OK : GC_ENOMEM;
    if (rc == GC_OK && st->count + fresh > st->cap) {
        size_t cap = st->cap ? st->cap : 8;
        while (cap < st->count + fresh)
            cap *= 2;
        struct state_item **items = realloc(st->items, cap * sizeof *items);
        if (items) {
            st->items = items;
            st->cap = cap;
        } else {
            rc = GC_ENOMEM;
        }
    }
    for (size_t i = 0; rc == GC_OK && i < n; i++) {
        rc = gc__value_dup(&ws->writes[i].v, &sg[i].v, &sg[i].buf);
        if (rc == GC_OK && !find_item(st, ws->writes[i].name)) {
            sg[i].item = calloc(1, sizeof *sg[i].item);
            if (!sg[i].item)
                rc = GC_ENOMEM;
        }
    }
    if (rc != GC_OK) {
        for (size_t i = 0; sg && i < n; i++) {
            free(sg[i].buf);
            free(sg[i].item);
        }
        free(sg);
        return gc_err_set(err, GC_ENOMEM, "commit: out of memory installing %zu writes", n);
    }
    st->version++;
    for (size_t i = 0; i < n; i++) {
        struct state_item *it = sg[i].item;
        if (it) {
            memcpy(it->name, ws->writes[i].name, sizeof it->name);
            st->items[st->count++] = it;
        } else {
            it = find_item(st, ws->writes[i].name);
            free(it->buf);
        }
        it->v = sg[i].v;
        it->buf = sg[i].buf;
        it->modified = st->version;
    }
    free(sg);
    *version = st->version;
    return GC_OK;
}
