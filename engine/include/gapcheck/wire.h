/* gapcheck engine: the context wire format.
 *
 * A process worker receives its context as one message (encoded here) with the
 * zone's descriptors beside it (SCM_RIGHTS). Format v2, little-endian:
 *   header  magic "GCW1" u32 | version u16 | flags u16 (bit0 input file,
 *           bit1 output file; other bits must be 0) | total length u32 |
 *           task u32 | ntasks u32 | generation u64 | deadline_ns u64 |
 *           input file size u64 | output file size u64 |
 *           domain count u16 | entry count u16
 *   domain  name_len u8 | name | type u8 | INT/DOUBLE: 8 bytes |
 *           STR/BYTES: len u32 | bytes        (repeated domain count times)
 *   entry   name_len u8 | name | flags u32 | offset u64 | length u64
 *   commit  base version u64 | attempt u32 | config u8 (bit0 strict contracts,
 *           bit1 strict commit) | allow u8 (bit0 events, bit1 outbox) |
 *           declared count u16 | last-modified u64 per domain key |
 *           write count u16 | write names (name_len u8 | name) |
 *           return index u16 (0xFFFF: none)
 * The domain section holds the declared reads first; with strict contracts
 * off every other key of the state follows (readable, counted).
 * Rules the decoder enforces besides the layout: a file is present exactly
 * when its flag is set, and then its size is a non-zero whole number of pages;
 * an input file comes with a non-zero generation (and only then); an output
 * file only with an input file; task < ntasks; heavy reads come before
 * outputs; STR values hold no NUL; names are unique per section; attempt >= 1;
 * no last-modified version after the base; undeclared keys only with strict
 * contracts off; the return index names a write.
 * The decoder is a pure function of (bytes, length, descriptors): it trusts
 * nothing. It checks the version, every count and length against the hard
 * limits in value.h, names, types, flags, that the message is consumed
 * exactly, and each entry (page-aligned offset, offset+length) against the
 * real size of the received file (fstat), which must also equal the size the
 * message states and be sealed against resizing (the input file also against
 * writing; the output file must not be). The input file's own manifest must
 * carry the message's generation and every entry of the message. Errors are
 * GC_EWIRE, or GC_ELIMIT for counts and lengths over a limit, with the field
 * and byte offset in the reason; GC_ENOMEM when out of memory; GC_ESYS, with
 * errno kept, when fstat, F_GET_SEALS or a read of the file fails for a
 * reason other than a bad descriptor (EBADF) or an unsealable file (EINVAL).
 * A read interrupted by a signal (EINTR) is retried. Pass -1 for a file the message does not
 * declare: a descriptor there is an error too. It never takes ownership of
 * the descriptors. */
#ifndef GAPCHECK_WIRE_H
#define GAPCHECK_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_WIRE_MAGIC 0x31574347u   /* "GCW1" */
#define GC_WIRE_VERSION 2u
#define GC_WIRE_MSG_MAX (64u * 1024u)

/* Encode ctx into buf (capacity cap); *len gets the message length.
 * GC_ELIMIT if it does not fit. */
int gc_wire_encode(const gc_ctx *ctx, uint8_t *buf, size_t cap, size_t *len, gc_err *err);

/* Bytes the encoded message of ctx takes (may exceed GC_WIRE_MSG_MAX). */
size_t gc_wire_size(const gc_ctx *ctx);

/* Decode a message. in_fd/out_fd: the received input and output files, or -1
 * when the message declares none (a declared file with fd -1 is an error).
 * On success *out is an unattached context (gc_wire_attach before access),
 * in GC_CTX_PROCESS mode; the factory's own contexts are GC_CTX_THREAD. */
int gc_wire_decode(const uint8_t *msg, size_t len, int in_fd, int out_fd, gc_ctx **out,
                   gc_err *err);

/* Bind a decoded context to the worker's mappings of the two files; sizes must
 * be those the message stated. NULL/0 where the message has no such file. */
int gc_wire_attach(gc_ctx *ctx, const void *in_base, uint64_t in_size, void *out_base,
                   uint64_t out_size, gc_err *err);
/* Sizes a decoded context expects for its files (0 when absent). */
uint64_t gc_wire_input_size(const gc_ctx *ctx);
uint64_t gc_wire_output_size(const gc_ctx *ctx);

/* Set the deadline carried by a context (dispatcher, before encoding). */
void gc_wire_set_deadline(gc_ctx *ctx, uint64_t deadline_ns);

/* Do two contexts describe the same thing (task, generation, domain values,
 * entries)? GC_OK or GC_EINVAL with the first difference in err. */
int gc_wire_compare(const gc_ctx *a, const gc_ctx *b, gc_err *err);

#ifdef __cplusplus
}
#endif
#endif
