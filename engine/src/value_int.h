/* Values inside the engine: the one way a value gets its own copy of its
 * bytes, shared by the state (set, clone, install), the contexts (factory
 * and wire decoder) and the write sets, so every owner copies alike. */
#ifndef GAPCHECK_VALUE_INT_H
#define GAPCHECK_VALUE_INT_H

#include "gapcheck/value.h"

/* out = v with its own copy of v's bytes: for STR and BYTES, len bytes plus
 * a NUL (required for strings, harmless for bytes) in *buf, which the caller
 * owns and frees; numbers carry no bytes (ptr NULL, len 0, *buf NULL).
 * GC_ENOMEM, and then *buf is NULL and out is untouched. */
int gc__value_dup(const gc_value *v, gc_value *out, void **buf);

#endif
