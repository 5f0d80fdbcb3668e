/* The primitives of codec_int.h: what the context codec (wire.c) and the
 * write-set codec (wset.c) share, so that a name or a value is written and
 * checked the same way in both directions of a worker's channel. */
#include "codec_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gapcheck/status.h"

void gc__le_put(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t gc__le_get(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- writing ---------------------------------------------------------------- */

void gc__put_bytes(struct gc__writer *w, const void *p, size_t n)
{
    if (n && w->len <= w->cap && n <= w->cap - w->len)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void gc__put_uint(struct gc__writer *w, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    gc__le_put(tmp, v, n);
    gc__put_bytes(w, tmp, n);
}

void gc__put_name(struct gc__writer *w, const char *name)
{
    size_t n = strlen(name);
    gc__put_uint(w, n, 1);
    gc__put_bytes(w, name, n);
}

void gc__put_value(struct gc__writer *w, const gc_value *v)
{
    gc__put_uint(w, (uint64_t)v->type, 1);
    if (v->type == GC_VAL_INT) {
        gc__put_uint(w, (uint64_t)v->i, 8);
    } else if (v->type == GC_VAL_DOUBLE) {
        uint64_t bits;
        memcpy(&bits, &v->d, 8);
        gc__put_uint(w, bits, 8);
    } else {
        gc__put_uint(w, v->len, 4);
        gc__put_bytes(w, v->ptr, v->len);
    }
}

void gc__put_head(struct gc__writer *w, uint32_t magic, uint32_t version, uint32_t flags)
{
    gc__put_uint(w, magic, 4);
    gc__put_uint(w, version, 2);
    gc__put_uint(w, flags, 2);
    gc__put_uint(w, 0, 4);   /* total length, patched by gc__put_end */
}

int gc__put_end(struct gc__writer *w, size_t max, const char *what, size_t *len, gc_err *err)
{
    if (w->len > max)
        return gc_err_set(err, GC_ELIMIT, "%s needs %zu bytes (message limit %zu)", what, w->len,
                          max);
    if (w->len > w->cap)
        return gc_err_set(err, GC_ELIMIT, "%s needs %zu bytes, buffer holds %zu", what, w->len,
                          w->cap);
    gc__le_put(w->buf + GC__OFF_TOTAL, w->len, 4);
    *len = w->len;
    return GC_OK;
}

/* ---- reading ------------------------------------------------------------------ */

int gc__rd_bad(struct gc__reader *r, int status, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (r->idx >= 0)
        return gc_err_set(r->err, status, "%s: %s[%ld] %s", r->format, r->sect, r->idx, what);
    return gc_err_set(r->err, status, "%s: %s %s", r->format, r->sect, what);
}

int gc__rd_take(struct gc__reader *r, size_t n, const char *field, const uint8_t **out)
{
    if (n > r->len - r->pos)
        return gc__rd_bad(r, GC_EWIRE, "%s at byte %zu needs %zu bytes but the message ends at "
                          "byte %zu", field, r->pos, n, r->len);
    *out = r->p + r->pos;
    r->pos += n;
    return GC_OK;
}

int gc__rd_uint(struct gc__reader *r, size_t n, const char *field, uint64_t *v)
{
    const uint8_t *p = NULL;
    int rc = gc__rd_take(r, n, field, &p);
    if (rc == GC_OK)
        *v = gc__le_get(p, n);
    return rc;
}

int gc__rd_name(struct gc__reader *r, const uint8_t **name, size_t *name_len)
{
    uint64_t n;
    size_t at = r->pos;
    int rc = gc__rd_uint(r, 1, "name_len", &n);
    if (rc == GC_OK)
        rc = gc__rd_take(r, (size_t)n, "name", name);
    if (rc != GC_OK)
        return rc;
    gc_err why;
    if (gc_name_check_n((const char *)*name, (size_t)n, "the", &why) != GC_OK)
        return gc__rd_bad(r, GC_EWIRE, "name at byte %zu: %s", at, why.msg);
    *name_len = (size_t)n;
    return GC_OK;
}

int gc__rd_value(struct gc__reader *r, gc_value *v)
{
    uint64_t type, len;
    size_t at = r->pos;
    int rc = gc__rd_uint(r, 1, "type", &type);
    if (rc != GC_OK)
        return rc;
    memset(v, 0, sizeof *v);
    v->type = (gc_value_type)type;
    if (type == GC_VAL_INT || type == GC_VAL_DOUBLE) {
        uint64_t bits;
        rc = gc__rd_uint(r, 8, "value", &bits);
        if (type == GC_VAL_INT)
            v->i = (int64_t)bits;
        else
            memcpy(&v->d, &bits, 8);
        return rc;
    }
    if (type != GC_VAL_STR && type != GC_VAL_BYTES)
        return gc__rd_bad(r, GC_EWIRE, "type at byte %zu is %llu (not int, double, str or bytes)",
                          at, (unsigned long long)type);
    at = r->pos;
    rc = gc__rd_uint(r, 4, "value length", &len);
    if (rc == GC_OK && len > GC_VALUE_BYTES_MAX)
        return gc__rd_bad(r, GC_ELIMIT, "value length at byte %zu is %llu (limit %d)", at,
                          (unsigned long long)len, GC_VALUE_BYTES_MAX);
    const uint8_t *p = NULL;
    if (rc == GC_OK)
        rc = gc__rd_take(r, (size_t)len, "value", &p);
    if (rc == GC_OK && type == GC_VAL_STR && memchr(p, 0, (size_t)len))
        return gc__rd_bad(r, GC_EWIRE, "string value at byte %zu contains a NUL byte", at + 4);
    v->ptr = p;
    v->len = (size_t)len;
    return rc;
}

int gc__rd_head(struct gc__reader *r, size_t max, uint32_t magic, uint32_t version,
                uint64_t known, uint64_t *flags)
{
    if (r->len > max)
        return gc_err_set(r->err, GC_ELIMIT, "%s: message of %zu bytes (limit %zu)", r->format,
                          r->len, max);
    uint64_t m, v, total;
    r->sect = "header";
    r->idx = -1;
    int rc = gc__rd_uint(r, 4, "magic", &m);
    if (rc == GC_OK && m != magic)
        return gc__rd_bad(r, GC_EWIRE, "magic at byte %d is 0x%08llx, not 0x%08x", GC__OFF_MAGIC,
                          (unsigned long long)m, magic);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 2, "version", &v);
    if (rc == GC_OK && v != version)
        return gc__rd_bad(r, GC_EWIRE, "version at byte %d is %llu, this decoder reads %u",
                          GC__OFF_VERSION, (unsigned long long)v, version);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 2, "flags", flags);
    if (rc == GC_OK && (*flags & ~known))
        return gc__rd_bad(r, GC_EWIRE, "flags at byte %d: reserved bits 0x%llx are set (known: "
                          "0x%llx)", GC__OFF_FLAGS, (unsigned long long)(*flags & ~known),
                          (unsigned long long)known);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 4, "total length", &total);
    if (rc == GC_OK && total != r->len)
        return gc__rd_bad(r, GC_EWIRE, "total length at byte %d is %llu but %zu bytes were "
                          "received", GC__OFF_TOTAL, (unsigned long long)total, r->len);
    return rc;
}

int gc__rd_name_into(struct gc__reader *r, const char *field, char *dst, const char *first,
                     size_t stride, size_t n)
{
    const uint8_t *name = NULL;
    size_t len = 0, at = r->pos;
    int rc = gc__rd_name(r, &name, &len);
    if (rc != GC_OK)
        return rc;
    memset(dst, 0, GC_NAME_MAX + 1);
    memcpy(dst, name, len);
    for (size_t j = 0; j < n; j++) {
        const char *other = first + j * stride;
        if (strcmp(other, dst) == 0)
            return gc__rd_bad(r, GC_EWIRE, "%s at byte %zu repeats %s[%zu] '%s'", field, at,
                              r->sect, j, other);
    }
    return GC_OK;
}
