/* gapcheck engine: domain values.
 *
 * A domain value is a small typed value (integer, float, string, bytes) that is
 * copied into every worker context. Strings are NUL-terminated; bytes carry a
 * length. Limits below are hard limits enforced by the state, the factory and
 * the wire decoder alike. */
#ifndef GAPCHECK_VALUE_H
#define GAPCHECK_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_NAME_MAX 63             /* longest key or entry name, bytes */
#define GC_VALUE_BYTES_MAX 4096    /* longest string or bytes value */
#define GC_DOMAIN_MAX 256          /* most domain keys in one state */
#define GC_HEAVY_MAX 1024          /* most heavy entries in one zone */

typedef enum gc_value_type {
    GC_VAL_INT = 1,
    GC_VAL_DOUBLE = 2,
    GC_VAL_STR = 3,
    GC_VAL_BYTES = 4
} gc_value_type;

typedef struct gc_value {
    gc_value_type type;
    int64_t i;          /* GC_VAL_INT */
    double d;           /* GC_VAL_DOUBLE */
    const void *ptr;    /* GC_VAL_STR (NUL-terminated) and GC_VAL_BYTES */
    size_t len;         /* bytes in ptr, without the NUL for strings */
} gc_value;

/* A valid name: 1..GC_NAME_MAX bytes of [A-Za-z0-9_.-], not starting with '.'.
 * Returns GC_OK or GC_EINVAL with the reason in err. `what` names the kind of
 * name in the message ("domain key", "heavy entry"). */
int gc_name_check(const char *name, const char *what, struct gc_err *err);
/* Same check on a counted, not necessarily NUL-terminated, name. */
int gc_name_check_n(const char *name, size_t len, const char *what, struct gc_err *err);

const char *gc_value_type_name(gc_value_type t);

#ifdef __cplusplus
}
#endif
#endif
