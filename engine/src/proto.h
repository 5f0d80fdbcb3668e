/* Messages between the pool (main process) and a worker process, over a
 * SOCK_SEQPACKET socketpair. A task message is a fixed header followed by a
 * context in the wire format (wire.h); the zone's descriptors ride beside it
 * (SCM_RIGHTS) only when the worker does not hold that generation yet. A
 * result message is a fixed header, its text, then the attempt's encoded
 * write set (wset_int.h). Both sides validate what they receive: a worker may
 * be hostile or broken, so the main process trusts no byte of a result. */
#ifndef GAPCHECK_PROTO_H
#define GAPCHECK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "gapcheck/commit.h"
#include "gapcheck/engine.h"
#include "gapcheck/wire.h"

#define GC_PROTO_TASK_MAGIC 0x314B5447u    /* "GTK1" */
#define GC_PROTO_RESULT_MAGIC 0x31535247u  /* "GRS1" */
#define GC_PROTO_FD_INPUT 0x1u             /* input file descriptor attached */
#define GC_PROTO_FD_OUTPUT 0x2u            /* output file descriptor attached */
#define GC_PROTO_USES_INPUT 0x4u           /* the context names the input file */
#define GC_PROTO_USES_OUTPUT 0x8u          /* the context names the output file */
#define GC_PROTO_FLAGS_ALL 0xFu

typedef struct gc__task_hdr {
    uint32_t magic;
    uint32_t task;
    uint32_t fd_flags;                     /* GC_PROTO_FD_* */
    uint32_t ctx_len;                      /* bytes of wire context that follow */
    char process[GC_NAME_MAX + 1];
} gc__task_hdr;

#define GC_PROTO_TASK_MAX (sizeof(gc__task_hdr) + GC_WIRE_MSG_MAX)

typedef struct gc__result_msg {
    uint32_t magic;
    uint32_t task;
    int32_t status;
    uint32_t violations;
    int64_t value;
    uint64_t exec_ns;
    uint64_t held_gen;                     /* zone generation the worker now maps */
    uint32_t undeclared_reads;
    uint32_t wset_len;                     /* bytes of write set after the text */
    uint32_t text_len;                     /* bytes of text, no NUL */
    char text[GC_RESULT_TEXT_MAX];
} gc__result_msg;

#define GC_PROTO_RESULT_HEAD offsetof(gc__result_msg, text)
/* The largest reply: header, text, the largest write set. */
#define GC_PROTO_REPLY_MAX (GC_PROTO_RESULT_HEAD + GC_RESULT_TEXT_MAX + GC_WSET_MSG_MAX)

/* Validate a received result message against the task it must answer and
 * copy it into r; *wset and *wset_len locate its write set bytes (inside
 * buf), for gc__wset_decode. GC_EWIRE with the reason on any inconsistency. */
int gc__result_check(const void *buf, size_t len, uint32_t task, gc_result *r,
                     uint64_t *held_gen, const uint8_t **wset, size_t *wset_len, gc_err *err);
/* Length on the wire of a result message (header + text), without its write set. */
size_t gc__result_len(const gc__result_msg *m);

#endif
