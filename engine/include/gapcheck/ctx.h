/* gapcheck engine: contracts and worker contexts.
 *
 * A contract names what a process may touch: domain keys it reads, heavy
 * entries it reads, output entries it writes, domain keys it writes, and
 * whether it may emit events and send outbox messages. Writes go into the
 * context's write set (commit.h); the state itself is never touched by a
 * process. gc_ctx_from_state is THE context
 * factory: the only constructor of a worker context, for thread and process
 * workers alike (process workers receive its result encoded, see wire.h).
 * A context exposes exactly what its contract names; asking for anything else
 * returns GC_ECONTRACT and counts a violation. A context never owns the zone's
 * descriptors or mappings. */
#ifndef GAPCHECK_CTX_H
#define GAPCHECK_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "commit.h"
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
    const char *const *domain_writes; size_t n_domain_writes;
    /* A declared write that receives the process's returned value (gc_proc_out
     * .value, an integer) when it succeeds; NULL: the value is not written.
     * Precedence: the return is applied last, so it replaces a set of the
     * same key made during the run; keys only set keep their set value. */
    const char *return_key;
    int events;                       /* may emit events */
    int outbox;                       /* may send outbox messages */
} gc_contract;

typedef enum gc_ctx_mode { GC_CTX_THREAD = 1, GC_CTX_PROCESS = 2 } gc_ctx_mode;

typedef struct gc_ctx gc_ctx;

/* Build task `task` of `ntasks`'s context from the state, the contract and
 * the engine configuration (NULL: gc_config_default(); engines pass their
 * own, which the context carries to the worker). Every declared domain read
 * and heavy/output entry must exist in the state (else GC_ENOTFOUND naming
 * it); declared heavy reads must be input entries and outputs output entries
 * (else GC_ECONTRACT); a return key must be a declared write. Declared
 * writes need not exist yet (a commit creates them). The context records the
 * state's version as its base and each copied key's last-modified version.
 * It is bound to the main process's mappings (thread mode). */
int gc_ctx_from_state(const gc_state *st, const gc_contract *c, const gc_config *cfg,
                      uint32_t task, uint32_t ntasks, gc_ctx **out, gc_err *err);
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

/* The write set. Reads keep returning the base values (a pending set is not
 * read back). A second set of a key replaces the first. Undeclared keys,
 * events or messages: GC_ECONTRACT (counted, so the task fails and nothing is
 * committed); a value, payload or write set over its limit: GC_ELIMIT;
 * a message id used twice in one write set: GC_EEXIST. Topics and ids follow
 * the name rules (gc_name_check). */
int gc_ctx_set_int(gc_ctx *ctx, const char *key, int64_t v);
int gc_ctx_set_double(gc_ctx *ctx, const char *key, double v);
int gc_ctx_set_str(gc_ctx *ctx, const char *key, const char *v);
int gc_ctx_set_bytes(gc_ctx *ctx, const char *key, const void *data, size_t len);
int gc_ctx_set_value(gc_ctx *ctx, const char *key, const gc_value *v);
int gc_ctx_emit(gc_ctx *ctx, const char *topic, const void *payload, size_t len);
int gc_ctx_send(gc_ctx *ctx, const char *topic, const char *id, const void *payload,
                size_t len);
/* Pending writes, events and messages so far. */
size_t gc_ctx_pending_writes(const gc_ctx *ctx);
size_t gc_ctx_pending_events(const gc_ctx *ctx);
size_t gc_ctx_pending_messages(const gc_ctx *ctx);
/* Does the contract let the process emit events / send messages? */
int gc_ctx_may_emit(const gc_ctx *ctx);
int gc_ctx_may_send(const gc_ctx *ctx);
/* Declared writes, in contract order. */
size_t gc_ctx_write_count(const gc_ctx *ctx);
const char *gc_ctx_write_name(const gc_ctx *ctx, size_t i);

uint32_t gc_ctx_task(const gc_ctx *ctx);
uint32_t gc_ctx_task_count(const gc_ctx *ctx);
uint64_t gc_ctx_generation(const gc_ctx *ctx);   /* 0 when it names no heavy entry */
gc_ctx_mode gc_ctx_mode_of(const gc_ctx *ctx);
uint32_t gc_ctx_violations(const gc_ctx *ctx);
/* Reads of undeclared keys that strict_contracts 0 allowed. */
uint32_t gc_ctx_undeclared_reads(const gc_ctx *ctx);
/* The state version the context was built from, the last-modified version
 * of a copied key (GC_ENOTFOUND if the context holds no such key), the
 * attempt number (1 = first) and the configuration it carries. */
uint64_t gc_ctx_base_version(const gc_ctx *ctx);
int gc_ctx_key_version(const gc_ctx *ctx, const char *key, uint64_t *out);
uint32_t gc_ctx_attempt(const gc_ctx *ctx);
gc_config gc_ctx_config(const gc_ctx *ctx);
/* Reason of the last failed access, "" if none. */
const char *gc_ctx_last_error(const gc_ctx *ctx);
/* Absolute CLOCK_MONOTONIC deadline in ns for the running task, 0 = none.
 * Cooperative processes (sleep) check it; thread workers cannot be killed. */
uint64_t gc_ctx_deadline_ns(const gc_ctx *ctx);

/* Introspection for tests, fuzzers and the wire codec: declared names in
 * contract order (keys carried for lax reads are not listed). */
size_t gc_ctx_domain_count(const gc_ctx *ctx);
const char *gc_ctx_domain_name(const gc_ctx *ctx, size_t i);
size_t gc_ctx_entry_count(const gc_ctx *ctx);   /* heavy reads then outputs */
const gc_zone_entry *gc_ctx_entry_at(const gc_ctx *ctx, size_t i);

#ifdef __cplusplus
}
#endif
#endif
