/* Write sets (wset_int.h): the container a context fills while its process
 * runs, and the codec that carries it back from a process worker in the
 * task's reply. The decoder is a fuzz target (fuzz/writeset_decode.c): a
 * worker may be broken or hostile, so it trusts no byte, bounds every read by
 * the message and every count and length by the hard limits, and frees what
 * it allocated on every error path. The encoding is canonical (one encoding
 * per write set), which the fuzz target checks by re-encoding. */
#include "wset_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gapcheck/status.h"
#include "codec_int.h"
#include "value_int.h"

/* ---- the container --------------------------------------------------------- */

static void write_release(struct gc__write *w)
{
    free(w->buf);
    w->buf = NULL;
}

void gc__wset_free(gc__wset *ws)
{
    if (!ws)
        return;
    for (size_t i = 0; i < ws->n_writes; i++)
        write_release(&ws->writes[i]);
    for (size_t i = 0; i < ws->n_events; i++)
        free(ws->events[i].payload);
    for (size_t i = 0; i < ws->n_msgs; i++)
        free(ws->msgs[i].payload);
    free(ws->writes);
    free(ws->events);
    free(ws->msgs);
    free(ws->reads);
    memset(ws, 0, sizeof *ws);
}

int gc__wset_empty(const gc__wset *ws)
{
    return ws->n_writes == 0 && ws->n_events == 0 && ws->n_msgs == 0;
}

/* Room for one more element in a growing array. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return GC_OK;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return GC_ENOMEM;
    *arr = p;
    *cap = ncap;
    return GC_OK;
}

/* Encoded bytes of one write and of one event or message (wset_int.h). */
static size_t write_bytes(const struct gc__write *w)
{
    size_t v = w->v.type == GC_VAL_STR || w->v.type == GC_VAL_BYTES ? 4 + w->v.len : 8;
    return 1 + strlen(w->name) + 1 + 1 + v;
}

static size_t event_bytes(const struct gc__event *e, int message)
{
    return 1 + strlen(e->topic) + (message ? 1 + strlen(e->id) : 0) + 2 + e->len;
}

const struct gc__write *gc__wset_find(const gc__wset *ws, const char *key)
{
    for (size_t i = 0; i < ws->n_writes; i++)
        if (strcmp(ws->writes[i].name, key) == 0)
            return &ws->writes[i];
    return NULL;
}

static size_t writes_bytes(const gc__wset *ws)
{
    size_t n = 0;
    for (size_t i = 0; i < ws->n_writes; i++)
        n += write_bytes(&ws->writes[i]);
    return n;
}

void gc__wset_swap_writes(gc__wset *a, gc__wset *b)
{
    size_t wa = writes_bytes(a), wb = writes_bytes(b);
    struct gc__write *w = a->writes;
    size_t n = a->n_writes, cap = a->cap_writes;
    a->writes = b->writes;
    a->n_writes = b->n_writes;
    a->cap_writes = b->cap_writes;
    b->writes = w;
    b->n_writes = n;
    b->cap_writes = cap;
    a->bytes = a->bytes - wa + wb;
    b->bytes = b->bytes - wb + wa;
}

int gc__wset_put(gc__wset *ws, const char *key, uint8_t source, const gc_value *v, gc_err *err)
{
    if ((v->type == GC_VAL_STR || v->type == GC_VAL_BYTES) && v->len > GC_VALUE_BYTES_MAX)
        return gc_err_set(err, GC_ELIMIT, "write of '%s': %s value of %zu bytes (limit %d)", key,
                          gc_value_type_name(v->type), v->len, GC_VALUE_BYTES_MAX);
    struct gc__write w;
    memset(&w, 0, sizeof w);
    snprintf(w.name, sizeof w.name, "%s", key);
    w.source = source;
    if (gc__value_dup(v, &w.v, &w.buf) != GC_OK)
        return gc_err_set(err, GC_ENOMEM, "write of '%s': out of memory", key);
    for (size_t i = 0; i < ws->n_writes; i++) {
        if (strcmp(ws->writes[i].name, key) == 0) {
            ws->bytes -= write_bytes(&ws->writes[i]);
            write_release(&ws->writes[i]);
            ws->writes[i] = w;
            ws->bytes += write_bytes(&w);
            return GC_OK;
        }
    }
    if (ws->n_writes >= GC_DOMAIN_MAX ||
        grow((void **)&ws->writes, &ws->cap_writes, ws->n_writes, sizeof w) != GC_OK) {
        free(w.buf);
        return ws->n_writes >= GC_DOMAIN_MAX
                   ? gc_err_set(err, GC_ELIMIT, "write set: more than %d writes", GC_DOMAIN_MAX)
                   : gc_err_set(err, GC_ENOMEM, "write of '%s': out of memory", key);
    }
    ws->writes[ws->n_writes++] = w;
    ws->bytes += write_bytes(&w);
    return GC_OK;
}

static int add_event(gc__wset *ws, struct gc__event **arr, size_t *n, size_t *cap, size_t max,
                     const char *what, const char *topic, const char *id, const void *p,
                     size_t len, gc_err *err)
{
    if (len > GC_PAYLOAD_MAX)
        return gc_err_set(err, GC_ELIMIT, "%s '%s': payload of %zu bytes (limit %d)", what,
                          topic, len, GC_PAYLOAD_MAX);
    if (*n >= max)
        return gc_err_set(err, GC_ELIMIT, "write set: more than %zu %ss", max, what);
    struct gc__event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.topic, sizeof ev.topic, "%s", topic);
    snprintf(ev.id, sizeof ev.id, "%s", id ? id : "");
    ev.payload = malloc(len + 1);
    if (!ev.payload || grow((void **)arr, cap, *n, sizeof ev) != GC_OK) {
        free(ev.payload);
        return gc_err_set(err, GC_ENOMEM, "%s '%s': out of memory", what, topic);
    }
    if (len)
        memcpy(ev.payload, p, len);
    ev.len = len;
    (*arr)[(*n)++] = ev;
    ws->bytes += event_bytes(&ev, id != NULL);
    return GC_OK;
}

int gc__wset_event(gc__wset *ws, const char *topic, const void *p, size_t len, gc_err *err)
{
    return add_event(ws, &ws->events, &ws->n_events, &ws->cap_events, GC_EVENTS_MAX, "event", topic,
                     NULL, p, len, err);
}

int gc__wset_msg(gc__wset *ws, const char *topic, const char *id, const void *p, size_t len,
                 gc_err *err)
{
    for (size_t i = 0; i < ws->n_msgs; i++)
        if (strcmp(ws->msgs[i].id, id) == 0)
            return gc_err_set(err, GC_EEXIST, "message id '%s' is already in this write set", id);
    return add_event(ws, &ws->msgs, &ws->n_msgs, &ws->cap_msgs, GC_MESSAGES_MAX, "message", topic,
                     id, p, len, err);
}

/* ---- a task's outbox -------------------------------------------------------- */

int gc__outbox_take(gc__outbox *ob, gc__wset *ws)
{
    if (ws->n_msgs > ob->cap - ob->n) {
        struct gc__event *m = realloc(ob->msgs, (ob->n + ws->n_msgs) * sizeof *m);
        if (!m)
            return GC_ENOMEM;
        ob->msgs = m;
        ob->cap = ob->n + ws->n_msgs;
    }
    for (size_t i = 0; i < ws->n_msgs; i++) {
        ob->msgs[ob->n++] = ws->msgs[i];
        ws->bytes -= event_bytes(&ws->msgs[i], 1);
    }
    ws->n_msgs = 0;
    return GC_OK;
}

void gc__outbox_clear(gc__outbox *ob)
{
    for (size_t i = 0; i < ob->n; i++)
        free(ob->msgs[i].payload);
    ob->n = 0;
}

void gc__outbox_free(gc__outbox *ob)
{
    gc__outbox_clear(ob);
    free(ob->msgs);
    ob->msgs = NULL;
    ob->cap = 0;
}

/* ---- encoder ------------------------------------------------------------------ */

static void encode_into(struct gc__writer *o, const gc__wset *ws, const uint16_t *reads, size_t nr)
{
    gc__put_head(o, GC__WSET_MAGIC, GC__WSET_VERSION, 0);
    gc__put_uint(o, ws->n_writes, 2);
    gc__put_uint(o, ws->n_events, 2);
    gc__put_uint(o, ws->n_msgs, 2);
    gc__put_uint(o, nr, 2);
    for (size_t i = 0; i < ws->n_writes; i++) {
        const struct gc__write *w = &ws->writes[i];
        gc__put_name(o, w->name);
        gc__put_uint(o, w->source, 1);
        gc__put_value(o, &w->v);
    }
    for (size_t i = 0; i < ws->n_events; i++) {
        gc__put_name(o, ws->events[i].topic);
        gc__put_uint(o, ws->events[i].len, 2);
        gc__put_bytes(o, ws->events[i].payload, ws->events[i].len);
    }
    for (size_t i = 0; i < ws->n_msgs; i++) {
        gc__put_name(o, ws->msgs[i].topic);
        gc__put_name(o, ws->msgs[i].id);
        gc__put_uint(o, ws->msgs[i].len, 2);
        gc__put_bytes(o, ws->msgs[i].payload, ws->msgs[i].len);
    }
    for (size_t i = 0; i < nr; i++)
        gc__put_uint(o, reads[i], 2);
}

size_t gc__wset_size(const gc__wset *ws, size_t n_reads)
{
    /* Kept as entries come and go: a process setting n keys must not pay
     * n re-counts of the whole set. */
    return GC__WSET_HEAD + ws->bytes + 2 * n_reads;
}

int gc__wset_encode(const gc__wset *ws, const uint16_t *reads, size_t n_reads, uint8_t *buf,
                    size_t cap, size_t *len, gc_err *err)
{
    struct gc__writer o = {buf, cap, 0};
    encode_into(&o, ws, reads, n_reads);
    return gc__put_end(&o, GC_WSET_MSG_MAX, "write set", len, err);
}

/* ---- decoder ------------------------------------------------------------------- */

static int read_write(struct gc__reader *r, gc__wset *ws)
{
    char name[GC_NAME_MAX + 1];
    uint64_t source;
    int rc = gc__rd_name_into(r, "name", name, ws->n_writes ? ws->writes[0].name : NULL,
                              sizeof ws->writes[0], ws->n_writes);
    size_t at = r->pos;
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 1, "source", &source);
    if (rc == GC_OK && source != GC__WRITE_SET && source != GC__WRITE_RETURN)
        return gc__rd_bad(r, GC_EWIRE, "source at byte %zu is %llu (1 set, 2 return)", at,
                          (unsigned long long)source);
    gc_value v;
    if (rc == GC_OK)
        rc = gc__rd_value(r, &v);
    if (rc == GC_OK)
        rc = gc__wset_put(ws, name, (uint8_t)source, &v, r->err);
    return rc;
}

static int read_event(struct gc__reader *r, gc__wset *ws, int message)
{
    char topic[GC_NAME_MAX + 1], id[GC_NAME_MAX + 1];
    uint64_t len;
    const uint8_t *p = NULL;
    int rc = gc__rd_name_into(r, "topic", topic, NULL, 0, 0);
    if (rc == GC_OK && message)
        rc = gc__rd_name_into(r, "id", id, ws->n_msgs ? ws->msgs[0].id : NULL, sizeof ws->msgs[0],
                              ws->n_msgs);
    size_t at = r->pos;
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 2, "payload length", &len);
    if (rc == GC_OK && len > GC_PAYLOAD_MAX)
        return gc__rd_bad(r, GC_ELIMIT, "payload length at byte %zu is %llu (limit %d)", at,
                   (unsigned long long)len, GC_PAYLOAD_MAX);
    if (rc == GC_OK)
        rc = gc__rd_take(r, (size_t)len, "payload", &p);
    if (rc != GC_OK)
        return rc;
    return message ? gc__wset_msg(ws, topic, id, p, (size_t)len, r->err)
                   : gc__wset_event(ws, topic, p, (size_t)len, r->err);
}

static int decode_body(struct gc__reader *r, const uint64_t count[4], size_t n_domain, gc__wset *ws)
{
    static const char *const sects[] = {"write", "event", "message", "read"};
    int rc = GC_OK;
    for (int s = 0; s < 3 && rc == GC_OK; s++) {
        r->sect = sects[s];
        for (uint64_t i = 0; i < count[s] && rc == GC_OK; i++) {
            r->idx = (long)i;
            rc = s == 0 ? read_write(r, ws) : read_event(r, ws, s == 2);
        }
    }
    if (rc != GC_OK)
        return rc;
    r->sect = "read";
    ws->reads = calloc(count[3] + 1, sizeof *ws->reads);
    if (!ws->reads)
        return gc_err_set(r->err, GC_ENOMEM, "write set: out of memory");
    for (uint64_t i = 0; i < count[3]; i++) {
        r->idx = (long)i;
        uint64_t ix;
        size_t at = r->pos;
        rc = gc__rd_uint(r, 2, "index", &ix);
        if (rc != GC_OK)
            return rc;
        if (ix >= n_domain || (i > 0 && ix <= ws->reads[i - 1]))
            return gc__rd_bad(r, GC_EWIRE, "index at byte %zu is %llu (the context has %zu keys; "
                       "indices increase)", at, (unsigned long long)ix, n_domain);
        ws->reads[ws->n_reads++] = (uint16_t)ix;
    }
    r->idx = -1;
    if (r->pos != r->len)
        return gc_err_set(r->err, GC_EWIRE, "write set: %zu trailing bytes at byte %zu",
                          r->len - r->pos, r->pos);
    return GC_OK;
}

int gc__wset_decode(const uint8_t *msg, size_t len, size_t n_domain, gc__wset *out,
                    gc_err *err)
{
    memset(out, 0, sizeof *out);
    if (!msg && len)
        return gc_err_set(err, GC_EINVAL, "write set: NULL message");
    struct gc__reader r = {msg, len, 0, err, "write set", "header", -1};
    uint64_t flags, count[4];
    int rc = gc__rd_head(&r, GC_WSET_MSG_MAX, GC__WSET_MAGIC, GC__WSET_VERSION, 0, &flags);
    static const char *const names[] = {"write count", "event count", "message count",
                                        "read count"};
    static const uint64_t limits[] = {GC_DOMAIN_MAX, GC_EVENTS_MAX, GC_MESSAGES_MAX,
                                      GC_DOMAIN_MAX};
    for (int i = 0; i < 4 && rc == GC_OK; i++) {
        size_t at = r.pos;
        rc = gc__rd_uint(&r, 2, names[i], &count[i]);
        if (rc == GC_OK && count[i] > limits[i])
            return gc__rd_bad(&r, GC_ELIMIT, "%s at byte %zu is %llu (limit %llu)", names[i], at,
                       (unsigned long long)count[i], (unsigned long long)limits[i]);
    }
    if (rc == GC_OK)
        rc = decode_body(&r, count, n_domain, out);
    if (rc != GC_OK)
        gc__wset_free(out);
    return rc;
}
