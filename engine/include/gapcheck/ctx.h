/* gapcheck engine: contracts and worker contexts.
 *
 * A contract names what a process may touch: domain keys it reads, heavy
 * entries it reads, output entries it writes. gc_ctx_from_state is THE context
 * factory: the only constructor of a worker context, for thread and process
 * workers alike (process workers receive its result encoded, see wire.h).
 * A context exposes exactly what its contract names; asking for anything else
 * returns GC_ECONTRACT and counts a violation. A context never owns the zone's
 * descriptors or mappings. */
#ifndef GAPCHECK_CTX_H
#define GAPCHECK_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "state.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gc_contract {
    const char *const *domain_reads;  size_t n_domain_reads;
    const char *const *heavy_reads;   size_t n_heavy_reads;
    const char *const *outputs;       size_t n_outputs;
} gc_contract;

typedef enum gc_ctx_mode { GC_CTX_THREAD = 1, GC_CTX_PROCESS = 2 } gc_ctx_mode;

typedef struct gc_ctx gc_ctx;

/* Build task `task` of `ntasks`'s context from the state and the contract.
 * Every declared domain key and heavy/output entry must exist in the state
 * (else GC_ENOTFOUND naming it); declared heavy reads must be input entries and
 * outputs output entries (else GC_ECONTRACT). The context is bound to the
 * main process's mappings (thread mode). */
int gc_ctx_from_state(const gc_state *st, const gc_contract *c, uint32_t task, uint32_t ntasks,
                      gc_ctx **out, gc_err *err);
void gc_ctx_free(gc_ctx *ctx);

/* Accessors for process functions. Undeclared names: GC_ECONTRACT (counted).
 * Type mismatch on a declared key: GC_EINVAL (not a violation). */
int gc_ctx_int(gc_ctx *ctx, const char *key, int64_t *out);
int gc_ctx_double(gc_ctx *ctx, const char *key, double *out);
int gc_ctx_str(gc_ctx *ctx, const char *key, const char **out);
int gc_ctx_bytes(gc_ctx *ctx, const char *key, const void **data, size_t *len);
int gc_ctx_value(gc_ctx *ctx, const char *key, const gc_value **out);
/* A declared heavy (read-only) entry. */
int gc_ctx_heavy(gc_ctx *ctx, const char *name, const void **data, size_t *len);
/* A declared output entry, writable. */
int gc_ctx_output(gc_ctx *ctx, const char *name, void **data, size_t *len);

uint32_t gc_ctx_task(const gc_ctx *ctx);
uint32_t gc_ctx_task_count(const gc_ctx *ctx);
uint64_t gc_ctx_generation(const gc_ctx *ctx);   /* 0 when it names no heavy entry */
gc_ctx_mode gc_ctx_mode_of(const gc_ctx *ctx);
uint32_t gc_ctx_violations(const gc_ctx *ctx);
/* Reason of the last failed access, "" if none. */
const char *gc_ctx_last_error(const gc_ctx *ctx);
/* Absolute CLOCK_MONOTONIC deadline in ns for the running task, 0 = none.
 * Cooperative processes (sleep) check it; thread workers cannot be killed. */
uint64_t gc_ctx_deadline_ns(const gc_ctx *ctx);

/* Introspection for tests, fuzzers and the wire codec: declared names in
 * contract order. */
size_t gc_ctx_domain_count(const gc_ctx *ctx);
const char *gc_ctx_domain_name(const gc_ctx *ctx, size_t i);
size_t gc_ctx_entry_count(const gc_ctx *ctx);   /* heavy reads then outputs */
const gc_zone_entry *gc_ctx_entry_at(const gc_ctx *ctx, size_t i);

#ifdef __cplusplus
}
#endif
#endif
