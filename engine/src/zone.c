/* The heavy zone: named large buffers in two memfds that workers receive as
 * descriptors. The zone moves through draft (entries declared), filling (files
 * created and mapped writable), and published (input file sealed against any
 * write or resize and mapped read-only; the kernel, not the engine, enforces
 * it). The zone is the single owner of its descriptors and mappings and
 * zone_release is the single path that lets go of them, on errors and in
 * gc_zone_free alike. Every mapping is MADV_DONTFORK: a forked worker must
 * receive the zone explicitly (the INC-014 lesson: no implicit inheritance
 * that could hide a dispatcher that forgot to pass it). */
#include "gapcheck/zone.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx_int.h"
#include "gapcheck/status.h"
#include "gapcheck/value.h"

/* ZONE_SEALED: publishing sealed the file but could not map it yet; a
 * second gc_zone_publish maps it. A filling zone whose publish failed before
 * sealing has no mapping (in_base NULL) until the next fill or publish. */
enum zone_phase { ZONE_DRAFT, ZONE_FILLING, ZONE_SEALED, ZONE_PUBLISHED };

struct gc_zone {
    enum zone_phase phase;
    gc_zone_entry *entries;     /* declaration order */
    size_t count, cap, n_outputs;
    int in_fd, out_fd;
    uint8_t *in_base;           /* writable while filling, read-only after */
    uint64_t in_size, data_offset;
    uint8_t *out_base;
    uint64_t out_size;
    uint64_t generation;
    int outputs_frozen;         /* gc_zone_freeze_outputs: never bound writable again */
};

#define SEALS_INPUT (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)
#define SEALS_OUTPUT (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* Generations are unique in the process so that pooled workers can tell a
 * new zone from the one they keep mapped, even if an address is reused. */
static _Atomic uint64_t next_generation = 1;

static const char *phase_name(enum zone_phase p)
{
    switch (p) {
    case ZONE_DRAFT: return "draft (not allocated)";
    case ZONE_FILLING: return "filling (allocated, not published)";
    case ZONE_SEALED: return "sealed (publishing did not finish; publish again)";
    case ZONE_PUBLISHED: return "published";
    }
    return "unknown";
}

static int phase_error(const gc_zone *z, const char *op, const char *needed, gc_err *err)
{
    return gc_err_set(err, GC_ESTATE, "%s: the zone is %s; it must be %s", op,
                      phase_name(z->phase), needed);
}

static int sys_error(const char *what, gc_err *err)
{
    int e = errno;
    int rc = gc_err_set(err, GC_ESYS, "heavy zone: %s failed: %s", what, strerror(e));
    errno = e;
    return rc;
}

static uint64_t round_up(uint64_t v, uint64_t page)
{
    return (v + page - 1) / page * page;
}

int gc_zone_new(gc_zone **out, gc_err *err)
{
    if (!out)
        return gc_err_set(err, GC_EINVAL, "gc_zone_new: out is NULL");
    gc_zone *z = calloc(1, sizeof *z);
    if (!z)
        return gc_err_set(err, GC_ENOMEM, "gc_zone_new: out of memory");
    z->in_fd = -1;
    z->out_fd = -1;
    *out = z;
    return GC_OK;
}

static gc_zone_entry *find_entry(const gc_zone *z, const char *name)
{
    for (size_t i = 0; i < z->count; i++)
        if (strcmp(z->entries[i].name, name) == 0)
            return &z->entries[i];
    return NULL;
}

int gc_zone_declare(gc_zone *z, const char *name, uint64_t length, uint32_t flags, gc_err *err)
{
    if (!z)
        return gc_err_set(err, GC_EINVAL, "gc_zone_declare: zone is NULL");
    if (z->phase != ZONE_DRAFT)
        return phase_error(z, "gc_zone_declare", "a draft (declare before gc_zone_allocate)", err);
    int rc = gc_name_check(name, "heavy entry", err);
    if (rc != GC_OK)
        return rc;
    if (flags & ~GC_ENTRY_FLAGS_ALL)
        return gc_err_set(err, GC_EINVAL, "heavy entry '%s': unknown flags 0x%x", name,
                          (unsigned)(flags & ~GC_ENTRY_FLAGS_ALL));
    if (length > GC_ZONE_ENTRY_MAX)
        return gc_err_set(err, GC_ELIMIT, "heavy entry '%s': length %llu exceeds the limit %llu",
                          name, (unsigned long long)length, (unsigned long long)GC_ZONE_ENTRY_MAX);
    if (find_entry(z, name))
        return gc_err_set(err, GC_EEXIST, "heavy entry '%s' is already declared", name);
    if (z->count >= GC_HEAVY_MAX)
        return gc_err_set(err, GC_ELIMIT, "heavy entry '%s': a zone holds at most %d entries",
                          name, GC_HEAVY_MAX);
    if (z->count == z->cap) {
        size_t cap = z->cap ? z->cap * 2 : 8;
        gc_zone_entry *e = realloc(z->entries, cap * sizeof *e);
        if (!e)
            return gc_err_set(err, GC_ENOMEM, "heavy entry '%s': out of memory", name);
        z->entries = e;
        z->cap = cap;
    }
    gc_zone_entry *e = &z->entries[z->count++];
    memset(e, 0, sizeof *e);
    memcpy(e->name, name, strlen(name) + 1);
    e->length = length;
    e->flags = flags;
    if (flags & GC_ENTRY_OUTPUT)
        z->n_outputs++;
    return GC_OK;
}

/* Assign page-aligned offsets and the two file sizes. Each entry is below
 * 2^40 and there are at most 2^10, so the sums cannot wrap 64 bits; the check
 * against the mappable range still guards 32-bit size_t and off_t. */
static int zone_layout(gc_zone *z, gc_err *err)
{
    uint64_t page = gc__page_size();
    uint64_t head = sizeof(struct gc__manifest_head) +
                    (uint64_t)z->count * sizeof(struct gc__manifest_entry);
    uint64_t in_pos = round_up(head, page), out_pos = 0;
    z->data_offset = in_pos;
    for (size_t i = 0; i < z->count; i++) {
        gc_zone_entry *e = &z->entries[i];
        uint64_t *pos = (e->flags & GC_ENTRY_OUTPUT) ? &out_pos : &in_pos;
        e->offset = *pos;
        *pos += round_up(e->length, page);
    }
    /* A file that exists is never empty: mmap refuses length 0, and outputs
     * that are all empty still get their (one page) file. */
    if (z->n_outputs && out_pos == 0)
        out_pos = page;
    uint64_t limit = (uint64_t)(SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX);
    if (in_pos > limit || out_pos > limit)
        return gc_err_set(err, GC_ELIMIT, "heavy zone: total size %llu + %llu bytes is not mappable",
                          (unsigned long long)in_pos, (unsigned long long)out_pos);
    z->in_size = in_pos;
    z->out_size = out_pos;
    return GC_OK;
}

/* The one release path: unmaps and closes whatever exists, leaves the zone
 * with nothing to release again. */
static void zone_release(gc_zone *z)
{
    if (z->in_base)
        munmap(z->in_base, (size_t)z->in_size);
    if (z->out_base)
        munmap(z->out_base, (size_t)z->out_size);
    if (z->in_fd >= 0)
        close(z->in_fd);
    if (z->out_fd >= 0)
        close(z->out_fd);
    z->in_base = z->out_base = NULL;
    z->in_fd = z->out_fd = -1;
}

static int map_shared(int fd, uint64_t size, int prot, uint8_t **base, const char *what,
                      gc_err *err)
{
    /* The published read-only view is populated up front: thread workers
     * share it, so no thread ever takes a page fault on the zone, and the
     * cost is paid once at publish instead of in every first handoff. */
    int flags = MAP_SHARED | (prot == PROT_READ ? MAP_POPULATE : 0);
    void *p = mmap(NULL, (size_t)size, prot, flags, fd, 0);
    if (p == MAP_FAILED)
        return sys_error(what, err);
    if (madvise(p, (size_t)size, MADV_DONTFORK) != 0) {
        int rc = sys_error("madvise(MADV_DONTFORK)", err);
        munmap(p, (size_t)size);
        return rc;
    }
    *base = p;
    return GC_OK;
}

static int create_file(const char *label, uint64_t size, int *fd, gc_err *err)
{
    *fd = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (*fd < 0)
        return sys_error("memfd_create", err);
    *fd = gc__fd_above_stdio(*fd);
    if (*fd < 0)
        return sys_error("fcntl(F_DUPFD_CLOEXEC) of a zone file", err);
    if (ftruncate(*fd, (off_t)size) != 0)
        return sys_error("ftruncate", err);
    return GC_OK;
}

static int allocate_files(gc_zone *z, gc_err *err)
{
    int rc = create_file("gapcheck-zone-in", z->in_size, &z->in_fd, err);
    if (rc == GC_OK)
        rc = map_shared(z->in_fd, z->in_size, PROT_READ | PROT_WRITE, &z->in_base,
                        "mmap(input file)", err);
    if (rc != GC_OK || z->n_outputs == 0)
        return rc;
    rc = create_file("gapcheck-zone-out", z->out_size, &z->out_fd, err);
    if (rc == GC_OK && fcntl(z->out_fd, F_ADD_SEALS, SEALS_OUTPUT) != 0)
        rc = sys_error("fcntl(F_ADD_SEALS, output file)", err);
    if (rc == GC_OK)
        rc = map_shared(z->out_fd, z->out_size, PROT_READ | PROT_WRITE, &z->out_base,
                        "mmap(output file)", err);
    return rc;
}

int gc_zone_allocate(gc_zone *z, gc_err *err)
{
    if (!z)
        return gc_err_set(err, GC_EINVAL, "gc_zone_allocate: zone is NULL");
    if (z->phase != ZONE_DRAFT)
        return phase_error(z, "gc_zone_allocate", "a draft (allocate once)", err);
    int rc = zone_layout(z, err);
    if (rc == GC_OK)
        rc = allocate_files(z, err);
    if (rc != GC_OK) {
        zone_release(z);   /* stays a draft: nothing half-made survives */
        return rc;
    }
    z->phase = ZONE_FILLING;
    return GC_OK;
}

/* The writable mapping of a filling zone, made again when a failed publish
 * dropped it. */
static int filling_view(gc_zone *z, gc_err *err)
{
    if (z->in_base)
        return GC_OK;
    return map_shared(z->in_fd, z->in_size, PROT_READ | PROT_WRITE, &z->in_base,
                      "mmap(input file) to resume filling", err);
}

int gc_zone_fill(gc_zone *z, const char *name, void **data, size_t *length, gc_err *err)
{
    if (!z || !name || !data || !length)
        return gc_err_set(err, GC_EINVAL, "gc_zone_fill: NULL argument");
    if (z->phase != ZONE_FILLING)
        return phase_error(z, "gc_zone_fill", "filling (after gc_zone_allocate, before publish)",
                           err);
    const gc_zone_entry *e = find_entry(z, name);
    if (!e)
        return gc_err_set(err, GC_ENOTFOUND, "gc_zone_fill: no heavy entry '%s'", name);
    if (e->flags & GC_ENTRY_OUTPUT)
        return gc_err_set(err, GC_EINVAL,
                          "gc_zone_fill: '%s' is an output entry (workers fill it; read it back "
                          "with gc_zone_read after publish)", name);
    int rc = filling_view(z, err);
    if (rc != GC_OK)
        return rc;
    *data = z->in_base + e->offset;
    *length = (size_t)e->length;
    return GC_OK;
}

static void write_manifest(gc_zone *z, uint64_t generation)
{
    struct gc__manifest_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, GC_ZONE_MAGIC, sizeof h.magic);
    h.version = GC_ZONE_VERSION;
    h.count = (uint32_t)z->count;
    h.generation = generation;
    h.data_offset = z->data_offset;
    h.input_size = z->in_size;
    h.output_size = z->out_size;
    memcpy(z->in_base, &h, sizeof h);
    uint8_t *p = z->in_base + sizeof h;
    for (size_t i = 0; i < z->count; i++, p += sizeof(struct gc__manifest_entry)) {
        struct gc__manifest_entry me;
        memset(&me, 0, sizeof me);
        memcpy(me.name, z->entries[i].name, sizeof me.name);
        me.offset = z->entries[i].offset;
        me.length = z->entries[i].length;
        me.flags = z->entries[i].flags;
        memcpy(p, &me, sizeof me);
    }
}

/* Filling -> sealed: write the manifest, drop the writable mapping, seal.
 * F_SEAL_WRITE is refused while a writable shared mapping exists, so that
 * mapping goes first. When sealing then fails nothing was sealed (the seals
 * are added at once or not at all): the zone stays filling, its bytes
 * untouched in the file, and the next fill or publish maps it again. */
static int zone_seal(gc_zone *z, gc_err *err)
{
    int rc = filling_view(z, err);
    if (rc != GC_OK)
        return rc;
    uint64_t gen = atomic_fetch_add(&next_generation, 1);
    write_manifest(z, gen);
    munmap(z->in_base, (size_t)z->in_size);
    z->in_base = NULL;
    if (fcntl(z->in_fd, F_ADD_SEALS, SEALS_INPUT) != 0)
        return sys_error("fcntl(F_ADD_SEALS, input file) while publishing", err);
    z->generation = gen;
    z->phase = ZONE_SEALED;
    return GC_OK;
}

int gc_zone_publish(gc_zone *z, gc_err *err)
{
    if (!z)
        return gc_err_set(err, GC_EINVAL, "gc_zone_publish: zone is NULL");
    if (z->phase != ZONE_FILLING && z->phase != ZONE_SEALED)
        return phase_error(z, "gc_zone_publish", "filling (after gc_zone_allocate)", err);
    int rc = z->phase == ZONE_FILLING ? zone_seal(z, err) : GC_OK;
    /* A sealed zone whose read-only mapping failed stays sealed: its bytes
     * are final, and publishing again only retries the mapping. */
    if (rc == GC_OK)
        rc = map_shared(z->in_fd, z->in_size, PROT_READ, &z->in_base,
                        "mmap(input file, read-only) while publishing", err);
    if (rc != GC_OK)
        return rc;
    z->phase = ZONE_PUBLISHED;
    return GC_OK;
}

void gc_zone_free(gc_zone *z)
{
    if (!z)
        return;
    zone_release(z);
    free(z->entries);
    free(z);
}

/* The main process's view becomes read-only (so a thread worker, which
 * shares it, could not write it either) and the flag tells the factory to
 * refuse any context that would bind these outputs writable: the file itself
 * stays writable for descriptors already handed out, so the factory is the
 * gate, and it refuses loudly rather than bind something that cannot work. */
int gc_zone_freeze_outputs(gc_zone *z, gc_err *err)
{
    if (!z)
        return gc_err_set(err, GC_EINVAL, "gc_zone_freeze_outputs: zone is NULL");
    if (z->phase != ZONE_PUBLISHED)
        return phase_error(z, "gc_zone_freeze_outputs", "published", err);
    if (z->n_outputs == 0 || z->outputs_frozen)
        return GC_OK;
    if (mprotect(z->out_base, (size_t)z->out_size, PROT_READ) != 0)
        return sys_error("mprotect(output file, read-only)", err);
    z->outputs_frozen = 1;
    return GC_OK;
}

int gc_zone_outputs_frozen(const gc_zone *z)
{
    return z && z->outputs_frozen;
}

int gc_zone_is_published(const gc_zone *z)
{
    return z && z->phase == ZONE_PUBLISHED;
}

uint64_t gc_zone_generation(const gc_zone *z)
{
    return z && z->phase == ZONE_PUBLISHED ? z->generation : 0;
}

size_t gc_zone_count(const gc_zone *z)
{
    return z ? z->count : 0;
}

const gc_zone_entry *gc_zone_entry_at(const gc_zone *z, size_t i)
{
    return z && i < z->count ? &z->entries[i] : NULL;
}

const gc_zone_entry *gc_zone_find(const gc_zone *z, const char *name)
{
    return z && name ? find_entry(z, name) : NULL;
}

static int published_entry(const gc_zone *z, const char *name, const char *op,
                           const gc_zone_entry **out, gc_err *err)
{
    if (!z || !name)
        return gc_err_set(err, GC_EINVAL, "%s: NULL argument", op);
    if (z->phase != ZONE_PUBLISHED)
        return phase_error(z, op, "published", err);
    *out = find_entry(z, name);
    if (!*out)
        return gc_err_set(err, GC_ENOTFOUND, "%s: no heavy entry '%s'", op, name);
    return GC_OK;
}

int gc_zone_read(const gc_zone *z, const char *name, const void **data, size_t *length,
                 gc_err *err)
{
    const gc_zone_entry *e = NULL;
    if (!data || !length)
        return gc_err_set(err, GC_EINVAL, "gc_zone_read: NULL argument");
    int rc = published_entry(z, name, "gc_zone_read", &e, err);
    if (rc != GC_OK)
        return rc;
    const uint8_t *base = (e->flags & GC_ENTRY_OUTPUT) ? z->out_base : z->in_base;
    *data = base + e->offset;
    *length = (size_t)e->length;
    return GC_OK;
}

int gc_zone_output(const gc_zone *z, const char *name, void **data, size_t *length, gc_err *err)
{
    const gc_zone_entry *e = NULL;
    if (!data || !length)
        return gc_err_set(err, GC_EINVAL, "gc_zone_output: NULL argument");
    int rc = published_entry(z, name, "gc_zone_output", &e, err);
    if (rc != GC_OK)
        return rc;
    if (!(e->flags & GC_ENTRY_OUTPUT))
        return gc_err_set(err, GC_EREADONLY, "gc_zone_output: '%s' is a sealed input entry", name);
    *data = z->out_base + e->offset;
    *length = (size_t)e->length;
    return GC_OK;
}

int gc_zone_input_fd(const gc_zone *z)
{
    return z ? z->in_fd : -1;
}

int gc_zone_output_fd(const gc_zone *z)
{
    return z ? z->out_fd : -1;
}

const void *gc_zone_input_base(const gc_zone *z)
{
    return z ? z->in_base : NULL;
}

uint64_t gc_zone_input_size(const gc_zone *z)
{
    return z && z->in_fd >= 0 ? z->in_size : 0;
}

void *gc_zone_output_base(const gc_zone *z)
{
    return z ? z->out_base : NULL;
}

uint64_t gc_zone_output_size(const gc_zone *z)
{
    return z && z->out_fd >= 0 ? z->out_size : 0;
}

size_t gc__page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

int gc__fd_above_stdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    return moved;
}
