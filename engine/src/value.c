/* Names and value types shared by the state, the factory and the wire codec,
 * so that all three accept exactly the same names; and the one copy of a
 * value's bytes (value_int.h). */
#include "gapcheck/value.h"

#include <stdlib.h>
#include <string.h>

#include "gapcheck/status.h"
#include "value_int.h"

static int name_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

int gc_name_check_n(const char *name, size_t len, const char *what, gc_err *err)
{
    if (!name || len == 0)
        return gc_err_set(err, GC_EINVAL, "%s name is empty", what);
    if (len > GC_NAME_MAX)
        return gc_err_set(err, GC_EINVAL, "%s name is %zu bytes long (limit %d)", what, len,
                          GC_NAME_MAX);
    if (name[0] == '.')
        return gc_err_set(err, GC_EINVAL, "%s name '%.*s' starts with '.'", what, (int)len,
                          name);
    for (size_t i = 0; i < len; i++) {
        if (!name_char_ok((unsigned char)name[i]))
            return gc_err_set(err, GC_EINVAL,
                              "%s name has byte 0x%02x at position %zu (allowed: A-Z a-z 0-9 _ . -)",
                              what, (unsigned char)name[i], i);
    }
    return GC_OK;
}

int gc_name_check(const char *name, const char *what, gc_err *err)
{
    if (!name)
        return gc_err_set(err, GC_EINVAL, "%s name is missing", what);
    return gc_name_check_n(name, strlen(name), what, err);
}

const char *gc_value_type_name(gc_value_type t)
{
    switch (t) {
    case GC_VAL_INT: return "int";
    case GC_VAL_DOUBLE: return "double";
    case GC_VAL_STR: return "str";
    case GC_VAL_BYTES: return "bytes";
    }
    return "unknown";
}

int gc__value_dup(const gc_value *v, gc_value *out, void **buf)
{
    *buf = NULL;
    if (v->type != GC_VAL_STR && v->type != GC_VAL_BYTES) {
        *out = *v;
        out->ptr = NULL;
        out->len = 0;
        return GC_OK;
    }
    char *b = malloc(v->len + 1);
    if (!b)
        return GC_ENOMEM;
    if (v->len)
        memcpy(b, v->ptr, v->len);
    b[v->len] = '\0';
    *out = *v;
    out->ptr = b;
    *buf = b;
    return GC_OK;
}
