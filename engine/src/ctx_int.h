/* Insides of worker contexts, shared by the factory (ctx.c) and the wire codec
 * (wire.c), plus the on-file layout of the zone manifest, which zone.c writes
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

/* One domain value owned by a context. Strings are stored with their NUL;
 * bytes values get a non-NULL buffer even when empty, so ptr is never NULL. */
struct gc__ctx_value {
    char name[GC_NAME_MAX + 1];
    gc_value v;
    void *buf;
};

struct gc_ctx {
    gc_ctx_mode mode;
    uint32_t task, ntasks;
    uint64_t generation;           /* 0: no heavy zone */
    uint64_t deadline_ns;
    struct gc__ctx_value *domain;  /* contract order */
    size_t n_domain;
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
    char last_error[GC_ERR_MSG_MAX];
};

/* Allocate a context with room for the given numbers of values and entries;
 * NULL when out of memory. Counts are trusted (callers checked limits). */
gc_ctx *gc__ctx_alloc(size_t n_domain, size_t n_entries);
/* Copy a value (and its name, of length name_len) into slot dst. Strings and
 * bytes are duplicated; GC_ENOMEM on failure (dst then owns nothing). */
int gc__ctx_value_copy(struct gc__ctx_value *dst, const char *name, size_t name_len,
                       const gc_value *src);
size_t gc__page_size(void);

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
