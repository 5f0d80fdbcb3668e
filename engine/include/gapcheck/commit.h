/* gapcheck engine: the commit path's vocabulary.
 *
 * A process never writes the state. Through its context it fills a write
 * set: declared domain writes, events and outbox messages (ctx.h). The main
 * process commits write sets one at a time: the optimistic check against the
 * version the context was built from, validation rules, install (version + 1,
 * each written key's last-modified set), and only then delivery of events to
 * subscribers and of messages to the outbox sink. A task whose check fails
 * runs again on a fresh context, up to the run's retries. Nothing of an
 * attempt that failed, crashed, timed out, conflicted or broke its contract
 * is installed or delivered.
 *
 * This header holds what that path is configured and observed with: the
 * engine configuration (copied by the one factory into every context and
 * carried on the wire), validation rules, deliveries, and the attempt
 * history a consistency checker reads. */
#ifndef GAPCHECK_COMMIT_H
#define GAPCHECK_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "state.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_EVENTS_MAX 64        /* events one write set may carry */
#define GC_MESSAGES_MAX 64      /* outbox messages one write set may carry */
#define GC_PAYLOAD_MAX 1024     /* bytes of one event's or message's payload */
#define GC_WSET_MSG_MAX (64u * 1024u)   /* a write set, encoded, at most */
#define GC_RETRIES_MAX 1000u    /* most retries a run may ask for per task */

/* Optimistic check. SMART (the default): no key the task writes changed after
 * its base version. STRICT: the state's version is still the task's base
 * (any commit in between is a conflict, even on other keys). */
typedef enum gc_commit_mode { GC_COMMIT_SMART = 0, GC_COMMIT_STRICT = 1 } gc_commit_mode;

/* The engine configuration. Two independent switches (INC-011: one flag that
 * coupled both was the bug). strict_contracts 1: an undeclared read is
 * refused (GC_ECONTRACT, a violation); 0: an undeclared domain key can be
 * read and each such read is counted (gc_result.undeclared_reads), the
 * context then carries every domain key of the state (within the message
 * limit, else the factory says GC_ELIMIT); heavy entries stay declared-only.
 * Undeclared writes,
 * events and messages are refused either way. */
typedef struct gc_config {
    int strict_contracts;
    gc_commit_mode commit;
} gc_config;

/* strict contracts on, smart commit. */
gc_config gc_config_default(void);

/* ---- deliveries --------------------------------------------------------- */

typedef enum gc_delivery_kind { GC_DELIVERY_EVENT = 1, GC_DELIVERY_MESSAGE = 2 } gc_delivery_kind;

/* One delivery, valid for the duration of the callback. `version` is the
 * state's version at delivery: the version the attempt installed. `state`
 * lets a subscriber read what was committed (read only). */
typedef struct gc_delivery {
    gc_delivery_kind kind;
    uint32_t task, attempt;
    const char *topic;
    const char *id;               /* message id; "" for events */
    const void *payload;
    size_t len;
    uint64_t version;
    const gc_state *state;
} gc_delivery;

/* Called in the main process, one commit at a time, after install, while
 * the run holds the engine: a callback must not call into the engine. */
typedef void (*gc_delivery_fn)(const gc_delivery *d, void *arg);

/* A validation rule's check: GC_OK to accept `v` for `key`, anything else to
 * refuse, with a reason in reason[cap] (the task's text, status EVALIDATE). */
typedef int (*gc_rule_fn)(const char *key, const gc_value *v, void *arg, char *reason,
                          size_t cap);

/* ---- attempt history ---------------------------------------------------- */

typedef struct gc_hist_read {
    const char *key;
    uint64_t version;             /* last-modified version the attempt saw */
} gc_hist_read;

typedef struct gc_hist_delivery {
    gc_delivery_kind kind;
    const char *topic;
    const char *id;               /* "" for events */
    uint64_t version;             /* state version at delivery */
    uint32_t receivers;           /* subscribers reached (1 for messages) */
} gc_hist_delivery;

/* One attempt, in commit order. outcome: GC_OK when the write set was
 * installed (as `version`) or was empty (version 0), else the attempt's
 * status (GC_ECONFLICT also when the task was then retried). */
typedef struct gc_attempt {
    uint32_t task, attempt;       /* attempt counts from 1 */
    uint64_t base;                /* version the context was built from */
    int outcome;
    uint64_t version;
    size_t n_reads;
    const gc_hist_read *reads;
    size_t n_writes;
    const char *const *writes;
    /* What each write carried, in the order of `writes` (strings and bytes
     * are the history's own copies): a checker compares what was installed
     * with what later attempts read and what the state holds at the end. */
    const gc_value *values;
    size_t n_deliveries;
    const gc_hist_delivery *deliveries;
} gc_attempt;

typedef struct gc_history gc_history;

/* A history records the attempts of every run given it (gc_exec_opts.history),
 * appended in order; runs without one record nothing and pay nothing. */
int gc_history_new(gc_history **out, gc_err *err);
void gc_history_free(gc_history *h);
void gc_history_clear(gc_history *h);
size_t gc_history_count(const gc_history *h);
/* The i-th attempt, or NULL; valid until the history is cleared or freed. */
const gc_attempt *gc_history_at(const gc_history *h, size_t i);
/* Attempts that could not be recorded whole for lack of memory (a checker
 * must not trust a history where this is not 0). */
size_t gc_history_incomplete(const gc_history *h);

#ifdef __cplusplus
}
#endif
#endif
