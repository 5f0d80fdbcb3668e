/* Insides of worker contexts, shared by the factory (ctx.c), the wire codec
 * (wire.c) and the commit path (commit.c, pool.c, worker.c), plus the on-file layout of the zone manifest, which zone.c writes
 * and the wire decoder verifies against the received descriptor. Nothing here
 * is a promise to users: names are gc__* and the layouts may change with
 * GC_ZONE_VERSION. */
#ifndef GAPCHECK_CTX_INT_H
#define GAPCHECK_CTX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gapcheck/ctx.h"
#include "gapcheck/value.h"
#include "gapcheck/zone.h"
#include "wset_int.h"

/* One domain value owned by a context. Strings are stored with their NUL;
 * bytes values get a non-NULL buffer even when empty, so ptr is never NULL. */
struct gc__ctx_value {
    char name[GC_NAME_MAX + 1];
    gc_value v;
    void *buf;
    uint64_t modified;             /* the key's last-modified version at base */
    int read;                      /* read by the process (for the history) */
};

#define GC__ALLOW_EVENTS 0x1u
#define GC__ALLOW_OUTBOX 0x2u
#define GC__ALLOW_ALL 0x3u
#define GC__NO_RETURN 0xFFFFu

struct gc_ctx {
    gc_ctx_mode mode;
    uint32_t task, ntasks;
    uint64_t generation;           /* 0: no heavy zone */
    uint64_t deadline_ns;
    struct gc__ctx_value *domain;  /* contract order, then lax extras */
    size_t n_domain;
    size_t n_declared;             /* domain[0..n_declared) are declared reads */
    gc_zone_entry *entries;        /* heavy reads first, then outputs */
    size_t n_entries;
    /* Files the context refers to: sizes are those of the zone (thread mode)
     * or those the message stated (process mode); 0 means no such file. */
    uint64_t in_size, out_size;
    /* Bound mappings; a decoded context is unattached until gc_wire_attach,
     * so that a worker cannot read before it has mapped what it received. */
    int attached;
    const uint8_t *in_base;
    uint8_t *out_base;
    uint32_t violations;
    uint32_t undeclared_reads;
    char last_error[GC_ERR_MSG_MAX];
    /* The commit path: what the context was built from and may write. */
    gc_config cfg;
    uint64_t base_version;
    uint32_t attempt;              /* 1 = first */
    uint32_t allow;                /* GC__ALLOW_* */
    char (*wnames)[GC_NAME_MAX + 1];  /* declared writes, contract order */
    size_t n_wnames;
    uint32_t return_idx;           /* index into wnames, or GC__NO_RETURN */
    gc__wset ws;                   /* pending: starts empty */
};

/* Allocate a context with room for the given numbers of values, entries and
 * declared writes; NULL when out of memory. Counts are trusted (callers
 * checked limits). */
gc_ctx *gc__ctx_alloc(size_t n_domain, size_t n_entries, size_t n_writes);

/* The contract alone, as the factory checks it before allocating anything:
 * counts within the limits, every name valid and declared once, heavy reads
 * and outputs disjoint, the return key a declared write. gc_engine_register
 * runs it too, so a registered contract is one the factory can take. */
int gc__contract_check(const gc_contract *c, gc_err *err);
/* Copy a value (and its name, of length name_len) into slot dst. Strings and
 * bytes are duplicated; GC_ENOMEM on failure (dst then owns nothing). */
int gc__ctx_value_copy(struct gc__ctx_value *dst, const char *name, size_t name_len,
                       const gc_value *src);
size_t gc__page_size(void);
/* A descriptor the engine keeps, moved out of the standard slots 0-2 (where a
 * host that closed its stdin lets the kernel put it): there every worker
 * forked later would inherit it as its own stdio, and a host reopening its
 * stdin would close it. Keeps close-on-exec; returns the descriptor, or -1
 * with errno (the original is closed either way). Zone files, worker channels. */
int gc__fd_above_stdio(int fd);

/* The write-back, after a successful body (INC-021, INC-026): the attempt's
 * pending set is built once, starting empty: the returned value into the
 * contract's return key first, then every write made during the run that it
 * does not overlap (a key already pending is skipped, so the returned value
 * wins over a set of the same key: the stated precedence). Keys neither set
 * nor returned are not pending, and the commit leaves them as they are. */
int gc__ctx_return(gc_ctx *ctx, int64_t value, gc_err *err);
/* Indices of the domain keys the process read, ascending, into idx (room for
 * n_domain); returns how many. */
size_t gc__ctx_reads(const gc_ctx *ctx, uint16_t *idx);
/* The main process's copy of a context takes the write set a worker sent
 * back, after checking it against what this context may write (declared
 * keys, return key, events, outbox): GC_EWIRE naming the first breach. ws is
 * emptied either way. */
int gc__ctx_adopt(gc_ctx *ctx, gc__wset *ws, gc_err *err);
void gc__ctx_set_attempt(gc_ctx *ctx, uint32_t attempt);

/* The zone manifest at offset 0 of the input file, in host byte order (the
 * file never leaves the machine). The data of the first entry starts at
 * data_offset, the manifest's size rounded up to a page. */
struct gc__manifest_head {
    char magic[8];          /* GC_ZONE_MAGIC with its NUL */
    uint32_t version;       /* GC_ZONE_VERSION */
    uint32_t count;         /* entries, inputs and outputs, declaration order */
    uint64_t generation;
    uint64_t data_offset;
    uint64_t input_size;
    uint64_t output_size;   /* 0: no output file */
};

struct gc__manifest_entry {
    char name[64];
    uint64_t offset;
    uint64_t length;
    uint32_t flags;
    uint32_t reserved;      /* 0 */
};

_Static_assert(sizeof(struct gc__manifest_head) == 48, "manifest head layout");
_Static_assert(sizeof(struct gc__manifest_entry) == 88, "manifest entry layout");

#endif
