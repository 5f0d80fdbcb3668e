/* gapcheck engine: the state.
 *
 * A state has two zones: the domain zone (named small values, copied into
 * every worker context) and the heavy zone (a published gc_zone, handed to
 * workers zero-copy). The state owns its values and its zone.
 *
 * The state is versioned: its version starts at 0 and only a commit (one
 * installed write set, see commit.h) adds one; each domain key records the
 * version that last modified it. Loading values with gc_state_set_* makes no
 * version (the key's last-modified is the current version). A state must not
 * be changed by the caller while execute_parallel runs on it; the run itself
 * commits into it. */
#ifndef GAPCHECK_STATE_H
#define GAPCHECK_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"
#include "zone.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gc_state gc_state;

int gc_state_new(gc_state **out, gc_err *err);
void gc_state_free(gc_state *st);

/* Set (insert or replace) a domain value. Names per gc_name_check; string and
 * bytes values are copied and limited to GC_VALUE_BYTES_MAX. */
int gc_state_set_int(gc_state *st, const char *name, int64_t v, gc_err *err);
int gc_state_set_double(gc_state *st, const char *name, double v, gc_err *err);
int gc_state_set_str(gc_state *st, const char *name, const char *v, gc_err *err);
int gc_state_set_bytes(gc_state *st, const char *name, const void *v, size_t len, gc_err *err);

/* The value stays owned by the state; valid until it is replaced or freed. */
int gc_state_get(const gc_state *st, const char *name, const gc_value **out);
size_t gc_state_domain_count(const gc_state *st);
/* The state's version, and a key's last-modified version (GC_ENOTFOUND when
 * the key does not exist). With gc_state_get, the read-back of what runs
 * committed. */
uint64_t gc_state_version(const gc_state *st);
int gc_state_key_version(const gc_state *st, const char *name, uint64_t *out);
/* i-th domain entry in insertion order: its name and value. */
int gc_state_domain_at(const gc_state *st, size_t i, const char **name, const gc_value **value);

/* Attach a published zone as the heavy zone; the state takes ownership on
 * success (and frees the zone it replaces). Unpublished zones: GC_ESTATE. */
int gc_state_set_heavy(gc_state *st, gc_zone *zone, gc_err *err);
/* The heavy zone, or NULL when the state has none. */
const gc_zone *gc_state_heavy(const gc_state *st);

#ifdef __cplusplus
}
#endif
#endif
