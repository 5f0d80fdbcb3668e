/* Write sets: what one attempt of a process asks the commit to do (domain
 * writes, events, outbox messages), and the keys it read. A context owns one
 * (ctx.c fills it through the gc_ctx_set_* / emit / send API); in process
 * mode it crosses back to the main process in the task's reply, encoded here.
 *
 * Reply format v1, little-endian:
 *   header  magic "GWS1" u32 | version u16 | flags u16 (0) | total length u32 |
 *           writes u16 | events u16 | messages u16 | reads u16
 *   write   name_len u8 | name | source u8 (1 set, 2 return) | type u8 |
 *           INT/DOUBLE: 8 bytes | STR/BYTES: len u32 | bytes
 *   event   topic_len u8 | topic | len u16 | payload
 *   message topic_len u8 | topic | id_len u8 | id | len u16 | payload
 *   read    index u16 of a domain key in the context, strictly increasing
 * The decoder is a pure function of (bytes, length, the context's key count):
 * every count, length and name checked against the hard limits (commit.h,
 * value.h), names unique among writes and message ids unique, the message
 * consumed exactly; so the encoding is canonical. GC_EWIRE (GC_ELIMIT for a
 * limit) with the field and byte offset in the reason. */
#ifndef GAPCHECK_WSET_INT_H
#define GAPCHECK_WSET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gapcheck/commit.h"
#include "gapcheck/error.h"
#include "gapcheck/value.h"

#define GC__WSET_MAGIC 0x31535747u   /* "GWS1" */
#define GC__WSET_VERSION 1u
#define GC__WSET_HEAD 20u

enum { GC__WRITE_SET = 1, GC__WRITE_RETURN = 2 };

struct gc__write {
    char name[GC_NAME_MAX + 1];
    uint8_t source;              /* GC__WRITE_SET or GC__WRITE_RETURN */
    gc_value v;                  /* STR/BYTES point into buf */
    void *buf;
};

struct gc__event {
    char topic[GC_NAME_MAX + 1];
    char id[GC_NAME_MAX + 1];    /* messages only */
    void *payload;               /* never NULL once added */
    size_t len;
};

typedef struct gc__wset {
    struct gc__write *writes;
    size_t n_writes, cap_writes;
    struct gc__event *events;
    size_t n_events, cap_events;
    struct gc__event *msgs;
    size_t n_msgs, cap_msgs;
    uint16_t *reads;             /* decoded replies only */
    size_t n_reads;
    size_t bytes;                /* encoded size of writes, events and messages */
} gc__wset;

void gc__wset_free(gc__wset *ws);      /* releases all, leaves it empty */
int gc__wset_empty(const gc__wset *ws);   /* no write, event or message */

/* Add or replace a write (a write of the same key is replaced: the later one
 * wins), add an event or a message. GC_ENOMEM, or GC_ELIMIT / GC_EEXIST with
 * the reason in err; on failure ws is unchanged. Names are the caller's
 * checked names. */
int gc__wset_put(gc__wset *ws, const char *key, uint8_t source, const gc_value *v, gc_err *err);
int gc__wset_event(gc__wset *ws, const char *topic, const void *p, size_t len, gc_err *err);
int gc__wset_msg(gc__wset *ws, const char *topic, const char *id, const void *p, size_t len,
                 gc_err *err);
const struct gc__write *gc__wset_find(const gc__wset *ws, const char *key);
/* Exchanges the writes of a and b (their events and messages stay). */
void gc__wset_swap_writes(gc__wset *a, gc__wset *b);

/* A task's outbox (commit.c): the messages of its attempt, moved out of the
 * attempt's write set when it reaches the commit and delivered from here
 * after install. It lives in the commit's per-task record, outside every
 * context, as the original's transaction object did: only its clearing at
 * each new attempt keeps one attempt's messages from the next (INC-016). */
typedef struct gc__outbox {
    struct gc__event *msgs;
    size_t n, cap;
} gc__outbox;

/* Moves ws's messages to the end of ob (ws keeps none); GC_ENOMEM leaves
 * both unchanged. */
int gc__outbox_take(gc__outbox *ob, gc__wset *ws);
void gc__outbox_clear(gc__outbox *ob);   /* drops every message, keeps the room */
void gc__outbox_free(gc__outbox *ob);

/* Bytes the encoding of ws takes with the given read indices. */
size_t gc__wset_size(const gc__wset *ws, size_t n_reads);
/* Encode ws plus the read indices into buf[cap]; GC_ELIMIT if it does not fit
 * or passes GC_WSET_MSG_MAX. */
int gc__wset_encode(const gc__wset *ws, const uint16_t *reads, size_t n_reads, uint8_t *buf,
                    size_t cap, size_t *len, gc_err *err);
/* Decode into *out (which must be empty); read indices must be below
 * n_domain. On error *out is left empty. */
int gc__wset_decode(const uint8_t *msg, size_t len, size_t n_domain, gc__wset *out,
                    gc_err *err);

#endif
