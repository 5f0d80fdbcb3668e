/* State internals for the commit path (commit.c): the run's base snapshot
 * and the all-or-nothing install of a write set. */
#ifndef GAPCHECK_STATE_INT_H
#define GAPCHECK_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gapcheck/state.h"
#include "wset_int.h"

/* A copy of src's domain values, versions and version; the heavy zone is
 * shared, not owned (gc_state_free leaves it alone). The run's first
 * attempts are all built from it. */
int gc__state_clone(const gc_state *src, gc_state **out, gc_err *err);

/* Install every write of ws as one new version: all or nothing (on error the
 * state is unchanged). *version gets the new version. */
int gc__state_install(gc_state *st, const gc__wset *ws, uint64_t *version, gc_err *err);

#endif
