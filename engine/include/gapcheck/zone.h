/* gapcheck engine: the heavy zone.
 *
 * A zone holds named large buffers in anonymous shared memory (memfd), handed
 * to workers as descriptors, never as copied bytes. Lifecycle:
 *   gc_zone_new -> gc_zone_declare (xN) -> gc_zone_allocate -> fill through
 *   gc_zone_fill -> gc_zone_publish.
 * Input entries live in one memfd: a manifest page(s) (magic, version,
 * generation, entries: name, offset, length, flags) followed by the data,
 * each entry page-aligned. Publishing drops the writable mapping, seals the
 * file (F_SEAL_SHRINK|GROW|WRITE|FUTURE_WRITE|SEAL) and maps it read-only, so
 * no one, thread or process, can write it any more: the kernel refuses.
 * That read-only view is populated at publish (MAP_POPULATE), so thread
 * workers, which share it, never fault on the zone; publishing 1 GiB costs
 * about 0.1 s more for it, paid once instead of in every first access.
 * Output entries live in a second memfd, sealed against resizing only, which
 * workers write and the main process reads back.
 * Every published zone gets a new, process-wide unique generation number.
 * Mappings are marked MADV_DONTFORK: a forked worker never inherits the zone,
 * it must receive it. gc_zone_free releases both mappings and descriptors. */
#ifndef GAPCHECK_ZONE_H
#define GAPCHECK_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_ENTRY_OUTPUT 0x1u       /* entry lives in the writable output file */
#define GC_ENTRY_FLAGS_ALL 0x1u

#define GC_ZONE_MAGIC "GCZONE1"    /* 8 bytes with the NUL */
#define GC_ZONE_VERSION 1u
#define GC_ZONE_ENTRY_MAX ((uint64_t)1 << 40)   /* 1 TiB: hard cap per entry */

typedef struct gc_zone gc_zone;

typedef struct gc_zone_entry {
    char name[64];        /* NUL-terminated, valid per gc_name_check */
    uint64_t offset;      /* page-aligned, in the input or output file */
    uint64_t length;      /* bytes */
    uint32_t flags;       /* GC_ENTRY_* */
} gc_zone_entry;

int gc_zone_new(gc_zone **out, gc_err *err);
/* Declare an entry; names unique across inputs and outputs. Draft only. */
int gc_zone_declare(gc_zone *z, const char *name, uint64_t length, uint32_t flags, gc_err *err);
/* Create the memfds and map them writable for filling. Draft only. */
int gc_zone_allocate(gc_zone *z, gc_err *err);
/* Writable pointer to an input entry's bytes, while filling (before publish). */
int gc_zone_fill(gc_zone *z, const char *name, void **data, size_t *length, gc_err *err);
/* Seal and publish; assigns the generation. Filling only. A failure
 * (GC_ESYS, errno kept) leaves the zone's bytes as they were and the call
 * can be repeated: failing to seal keeps the zone filling (pointers from
 * earlier gc_zone_fill calls are then stale: fill again), failing to map the
 * sealed file keeps it sealed until a repeated publish maps it. */
int gc_zone_publish(gc_zone *z, gc_err *err);
void gc_zone_free(gc_zone *z);

/* Make a published zone's outputs final (results read back and kept): the
 * main process's view of them becomes read-only and the context factory
 * refuses, with GC_EREADONLY naming the entry, any contract that declares one
 * of them as an output. No-op without outputs or when already frozen. */
int gc_zone_freeze_outputs(gc_zone *z, gc_err *err);
int gc_zone_outputs_frozen(const gc_zone *z);

int gc_zone_is_published(const gc_zone *z);
uint64_t gc_zone_generation(const gc_zone *z);      /* 0 before publish */
size_t gc_zone_count(const gc_zone *z);
const gc_zone_entry *gc_zone_entry_at(const gc_zone *z, size_t i);
/* Entry by name, or NULL. */
const gc_zone_entry *gc_zone_find(const gc_zone *z, const char *name);
/* Bytes of an entry in the main process's mapping (inputs read-only after
 * publish; outputs always writable). Published zones only. */
int gc_zone_read(const gc_zone *z, const char *name, const void **data, size_t *length, gc_err *err);
int gc_zone_output(const gc_zone *z, const char *name, void **data, size_t *length, gc_err *err);

/* Descriptors and mappings, for the dispatcher and the context factory. The
 * zone keeps ownership: callers must not close or unmap them. */
int gc_zone_input_fd(const gc_zone *z);
int gc_zone_output_fd(const gc_zone *z);          /* -1 without outputs */
const void *gc_zone_input_base(const gc_zone *z);
uint64_t gc_zone_input_size(const gc_zone *z);
void *gc_zone_output_base(const gc_zone *z);       /* NULL without outputs */
uint64_t gc_zone_output_size(const gc_zone *z);

#ifdef __cplusplus
}
#endif
#endif
