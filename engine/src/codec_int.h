/* Byte-level primitives of the engine's two message formats: the context
 * (wire.c) and the write set a worker sends back (wset.c). Little-endian
 * integers, length-prefixed names and typed values, written by a writer that
 * keeps counting past its capacity (to report the size needed) and read by a
 * reader that bounds every read by the message and names the field, byte
 * offset and section in its reasons. One copy, so both formats read and
 * write names and values exactly alike. */
#ifndef GAPCHECK_CODEC_INT_H
#define GAPCHECK_CODEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gapcheck/error.h"
#include "gapcheck/value.h"

void gc__le_put(uint8_t *p, uint64_t v, size_t n);
uint64_t gc__le_get(const uint8_t *p, size_t n);

struct gc__writer {
    uint8_t *buf;
    size_t cap, len;   /* len keeps counting past cap, to report the need */
};

void gc__put_bytes(struct gc__writer *w, const void *p, size_t n);
void gc__put_uint(struct gc__writer *w, uint64_t v, size_t n);
void gc__put_name(struct gc__writer *w, const char *name);     /* len u8 | bytes */
void gc__put_value(struct gc__writer *w, const gc_value *v);   /* type u8 | payload */

/* Both formats open with the same 12 bytes: magic u32 | version u16 |
 * flags u16 | total length u32. gc__put_head writes them with the total 0;
 * gc__put_end, once the whole message is written, checks it against the
 * format's limit and the buffer (GC_ELIMIT: "WHAT needs N bytes ...") and
 * patches the total. */
enum { GC__OFF_MAGIC = 0, GC__OFF_VERSION = 4, GC__OFF_FLAGS = 6, GC__OFF_TOTAL = 8 };
void gc__put_head(struct gc__writer *w, uint32_t magic, uint32_t version, uint32_t flags);
int gc__put_end(struct gc__writer *w, size_t max, const char *what, size_t *len, gc_err *err);

struct gc__reader {
    const uint8_t *p;
    size_t len, pos;
    gc_err *err;
    const char *format;   /* "wire", "write set": starts every reason */
    /* What is being read, for reasons: "domain[3] name". */
    const char *sect;
    long idx;             /* -1: not in a list */
};

/* The head (see gc__put_head), in the "header" section: a message over max
 * bytes is GC_ELIMIT; a wrong magic or version, a flag outside `known` or a
 * total length other than the message's is GC_EWIRE. */
int gc__rd_head(struct gc__reader *r, size_t max, uint32_t magic, uint32_t version,
                uint64_t known, uint64_t *flags);
/* A name (as gc__rd_name) copied into dst[GC_NAME_MAX + 1], NUL-filled
 * after it. A name equal to one of the n names before it in its list
 * (NUL-terminated, the first at `first`, each `stride` bytes after the last;
 * n = 0 and first NULL for a name that need not be unique) is GC_EWIRE:
 * "FIELD at byte AT repeats SECT[J] 'NAME'". */
int gc__rd_name_into(struct gc__reader *r, const char *field, char *dst, const char *first,
                     size_t stride, size_t n);

/* Fail with "FORMAT: SECT[IDX] reason"; returns status. */
int gc__rd_bad(struct gc__reader *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int gc__rd_take(struct gc__reader *r, size_t n, const char *field, const uint8_t **out);
int gc__rd_uint(struct gc__reader *r, size_t n, const char *field, uint64_t *v);
/* A name (len u8 | bytes) that passes gc_name_check_n; points into the message. */
int gc__rd_name(struct gc__reader *r, const uint8_t **name, size_t *name_len);
/* A typed value: int, double, str (no NUL) or bytes, within
 * GC_VALUE_BYTES_MAX (GC_ELIMIT); ptr points into the message. */
int gc__rd_value(struct gc__reader *r, gc_value *v);

#endif
