/* The context wire codec: how a factory-made context crosses into a process
 * worker. The encoder writes the format documented in wire.h. The decoder is
 * the engine's first fuzz target and trusts nothing: every read is bounded by
 * the message, every count and length by the hard limits, and every entry by
 * the real (fstat) size and seals of the descriptors received beside it; the
 * input file's own manifest must agree with the message, so a descriptor from
 * another zone generation is caught here rather than read as wrong data. It
 * keeps no state between calls, never closes the descriptors, and frees all it
 * allocated on every error path. */
#include "gapcheck/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx_int.h"
#include "codec_int.h"
#include "gapcheck/status.h"

#define WIRE_FLAG_INPUT 0x1u
#define WIRE_FLAG_OUTPUT 0x2u
#define WIRE_FLAGS_ALL (WIRE_FLAG_INPUT | WIRE_FLAG_OUTPUT)
#define WIRE_HEADER_SIZE 56u

/* Byte offsets of the header fields, for readable reasons. */
enum {
    OFF_FLAGS = GC__OFF_FLAGS, OFF_TASK = 12,
    OFF_NTASKS = 16, OFF_GENERATION = 20, OFF_DEADLINE = 28, OFF_IN_SIZE = 36,
    OFF_OUT_SIZE = 44, OFF_NDOMAIN = 52, OFF_NENTRIES = 54
};

/* ---- encoder --------------------------------------------------------------- */

#define WIRE_CFG_STRICT_CONTRACTS 0x1u
#define WIRE_CFG_STRICT_COMMIT 0x2u
#define WIRE_CFG_ALL 0x3u

/* The commit section: what the write set may hold and what it is based on. */
static void put_commit(struct gc__writer *w, const gc_ctx *ctx)
{
    uint32_t cfg = (ctx->cfg.strict_contracts ? WIRE_CFG_STRICT_CONTRACTS : 0) |
                   (ctx->cfg.commit == GC_COMMIT_STRICT ? WIRE_CFG_STRICT_COMMIT : 0);
    gc__put_uint(w, ctx->base_version, 8);
    gc__put_uint(w, ctx->attempt, 4);
    gc__put_uint(w, cfg, 1);
    gc__put_uint(w, ctx->allow, 1);
    gc__put_uint(w, ctx->n_declared, 2);
    for (size_t i = 0; i < ctx->n_domain; i++)
        gc__put_uint(w, ctx->domain[i].modified, 8);
    gc__put_uint(w, ctx->n_wnames, 2);
    for (size_t i = 0; i < ctx->n_wnames; i++)
        gc__put_name(w, ctx->wnames[i]);
    gc__put_uint(w, ctx->return_idx, 2);
}

static void put_header(struct gc__writer *w, const gc_ctx *ctx)
{
    uint32_t flags = (ctx->in_size ? WIRE_FLAG_INPUT : 0) | (ctx->out_size ? WIRE_FLAG_OUTPUT : 0);
    gc__put_head(w, GC_WIRE_MAGIC, GC_WIRE_VERSION, flags);
    gc__put_uint(w, ctx->task, 4);
    gc__put_uint(w, ctx->ntasks, 4);
    gc__put_uint(w, ctx->generation, 8);
    gc__put_uint(w, ctx->deadline_ns, 8);
    gc__put_uint(w, ctx->in_size, 8);
    gc__put_uint(w, ctx->out_size, 8);
    gc__put_uint(w, ctx->n_domain, 2);
    gc__put_uint(w, ctx->n_entries, 2);
}

/* Writes the message into w; with no room (cap 0) it only counts. */
static void encode_into(struct gc__writer *w, const gc_ctx *ctx)
{
    put_header(w, ctx);
    for (size_t i = 0; i < ctx->n_domain; i++) {
        gc__put_name(w, ctx->domain[i].name);
        gc__put_value(w, &ctx->domain[i].v);
    }
    for (size_t i = 0; i < ctx->n_entries; i++) {
        const gc_zone_entry *e = &ctx->entries[i];
        gc__put_name(w, e->name);
        gc__put_uint(w, e->flags, 4);
        gc__put_uint(w, e->offset, 8);
        gc__put_uint(w, e->length, 8);
    }
    put_commit(w, ctx);
}

size_t gc_wire_size(const gc_ctx *ctx)
{
    struct gc__writer w = {NULL, 0, 0};
    encode_into(&w, ctx);
    return w.len;
}

int gc_wire_encode(const gc_ctx *ctx, uint8_t *buf, size_t cap, size_t *len, gc_err *err)
{
    if (!ctx || !len || (!buf && cap))
        return gc_err_set(err, GC_EINVAL, "gc_wire_encode: NULL argument");
    struct gc__writer w = {buf, cap, 0};
    encode_into(&w, ctx);
    return gc__put_end(&w, GC_WIRE_MSG_MAX, "wire: context", len, err);
}

/* ---- decoder: the header ------------------------------------------------ */

struct header {
    uint64_t flags, task, ntasks, generation, deadline, in_size, out_size, ndomain, nentries;
};

static int read_header(struct gc__reader *r, struct header *h)
{
    int rc = gc__rd_head(r, GC_WIRE_MSG_MAX, GC_WIRE_MAGIC, GC_WIRE_VERSION, WIRE_FLAGS_ALL,
                         &h->flags);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 4, "task", &h->task);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 4, "ntasks", &h->ntasks);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 8, "generation", &h->generation);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 8, "deadline_ns", &h->deadline);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 8, "input file size", &h->in_size);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 8, "output file size", &h->out_size);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 2, "domain count", &h->ndomain);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 2, "entry count", &h->nentries);
    return rc;
}

/* A file is present exactly when its flag is set; an input file means a zone,
 * so it comes with a generation; outputs never come without inputs. */
static int check_header(struct gc__reader *r, const struct header *h)
{
    uint64_t page = gc__page_size();
    int has_in = (h->flags & WIRE_FLAG_INPUT) != 0, has_out = (h->flags & WIRE_FLAG_OUTPUT) != 0;
    if (h->ntasks == 0 || h->task >= h->ntasks)
        return gc__rd_bad(r, GC_EWIRE, "task at byte %d is %llu of ntasks %llu at byte %d", OFF_TASK,
                   (unsigned long long)h->task, (unsigned long long)h->ntasks, OFF_NTASKS);
    if (has_out && !has_in)
        return gc__rd_bad(r, GC_EWIRE, "flags at byte %d declare an output file without an input file",
                   OFF_FLAGS);
    if (has_in != (h->generation != 0))
        return gc__rd_bad(r, GC_EWIRE, "generation at byte %d is %llu but flags at byte %d %s an input "
                   "file", OFF_GENERATION, (unsigned long long)h->generation, OFF_FLAGS,
                   has_in ? "declare" : "declare no");
    if (has_in != (h->in_size != 0) || h->in_size % page)
        return gc__rd_bad(r, GC_EWIRE, "input file size at byte %d is %llu (flags: %s input file; sizes "
                   "are whole pages)", OFF_IN_SIZE, (unsigned long long)h->in_size,
                   has_in ? "an" : "no");
    if (has_out != (h->out_size != 0) || h->out_size % page)
        return gc__rd_bad(r, GC_EWIRE, "output file size at byte %d is %llu (flags: %s output file; "
                   "sizes are whole pages)", OFF_OUT_SIZE, (unsigned long long)h->out_size,
                   has_out ? "an" : "no");
    if (h->ndomain > GC_DOMAIN_MAX)
        return gc__rd_bad(r, GC_ELIMIT, "domain count at byte %d is %llu (limit %d)", OFF_NDOMAIN,
                   (unsigned long long)h->ndomain, GC_DOMAIN_MAX);
    if (h->nentries > GC_HEAVY_MAX)
        return gc__rd_bad(r, GC_ELIMIT, "entry count at byte %d is %llu (limit %d)", OFF_NENTRIES,
                   (unsigned long long)h->nentries, GC_HEAVY_MAX);
    return GC_OK;
}

/* ---- decoder: domain values and entries ------------------------------------ */

static int read_domain(struct gc__reader *r, gc_ctx *ctx, size_t n)
{
    r->sect = "domain";
    for (size_t i = 0; i < n; i++) {
        r->idx = (long)i;
        char name[GC_NAME_MAX + 1];
        gc_value v;
        int rc = gc__rd_name_into(r, "name", name, ctx->domain[0].name, sizeof ctx->domain[0], i);
        if (rc == GC_OK)
            rc = gc__rd_value(r, &v);
        if (rc != GC_OK)
            return rc;
        if (gc__ctx_value_copy(&ctx->domain[i], name, strlen(name), &v) != GC_OK)
            return gc_err_set(r->err, GC_ENOMEM, "wire: out of memory");
        ctx->n_domain = i + 1;
    }
    return GC_OK;
}

/* Offsets are page-aligned and entries lie inside the file the message
 * states; the stated sizes are compared with fstat later. */
static int check_entry(struct gc__reader *r, const gc_zone_entry *e, const struct header *h,
                       int seen_output, size_t at)
{
    uint64_t page = gc__page_size();
    int out = (e->flags & GC_ENTRY_OUTPUT) != 0;
    uint64_t size = out ? h->out_size : h->in_size;
    if (e->flags & ~(uint64_t)GC_ENTRY_FLAGS_ALL)
        return gc__rd_bad(r, GC_EWIRE, "flags at byte %zu are 0x%x (known: 0x%x)", at, e->flags,
                   GC_ENTRY_FLAGS_ALL);
    if (seen_output && !out)
        return gc__rd_bad(r, GC_EWIRE, "at byte %zu: a heavy read after an output (heavy reads come "
                   "first)", at);
    if (size == 0)
        return gc__rd_bad(r, GC_EWIRE, "at byte %zu: %s entry but the message has no %s file", at,
                   out ? "an output" : "an input", out ? "output" : "input");
    if (e->offset % page)
        return gc__rd_bad(r, GC_EWIRE, "offset at byte %zu is %llu, not page-aligned", at + 4,
                   (unsigned long long)e->offset);
    if (e->length > size || e->offset > size - e->length)
        return gc__rd_bad(r, GC_EWIRE, "offset %llu + length %llu at byte %zu pass the %s file's %llu "
                   "bytes", (unsigned long long)e->offset, (unsigned long long)e->length, at + 4,
                   out ? "output" : "input", (unsigned long long)size);
    return GC_OK;
}

static int read_entries(struct gc__reader *r, gc_ctx *ctx, const struct header *h)
{
    int seen_output = 0;
    r->sect = "entry";
    for (size_t i = 0; i < (size_t)h->nentries; i++) {
        r->idx = (long)i;
        uint64_t flags = 0;
        gc_zone_entry *e = &ctx->entries[i];
        int rc = gc__rd_name_into(r, "name", e->name, ctx->entries[0].name,
                                  sizeof ctx->entries[0], i);
        size_t fields_at = r->pos;
        if (rc == GC_OK)
            rc = gc__rd_uint(r, 4, "flags", &flags);
        if (rc == GC_OK)
            rc = gc__rd_uint(r, 8, "offset", &e->offset);
        if (rc == GC_OK)
            rc = gc__rd_uint(r, 8, "length", &e->length);
        if (rc != GC_OK)
            return rc;
        e->flags = (uint32_t)flags;
        ctx->n_entries = i + 1;
        rc = check_entry(r, e, h, seen_output, fields_at);
        if (rc != GC_OK)
            return rc;
        seen_output |= (e->flags & GC_ENTRY_OUTPUT) != 0;
    }
    return GC_OK;
}

/* The commit section (see put_commit and wire.h). */
static int read_commit(struct gc__reader *r, gc_ctx *ctx)
{
    uint64_t base, attempt, cfg, allow, declared, nwrites, ret, v;
    r->sect = "commit";
    r->idx = -1;
    size_t at = r->pos;
    int rc = gc__rd_uint(r, 8, "base version", &base);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 4, "attempt", &attempt);
    if (rc == GC_OK && attempt == 0)
        return gc__rd_bad(r, GC_EWIRE, "attempt at byte %zu is 0 (attempts count from 1)", at + 8);
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 1, "config", &cfg);
    if (rc == GC_OK && (cfg & ~(uint64_t)WIRE_CFG_ALL))
        return gc__rd_bad(r, GC_EWIRE, "config at byte %zu has unknown bits 0x%llx", at + 12,
                   (unsigned long long)(cfg & ~(uint64_t)WIRE_CFG_ALL));
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 1, "allow", &allow);
    if (rc == GC_OK && (allow & ~(uint64_t)GC__ALLOW_ALL))
        return gc__rd_bad(r, GC_EWIRE, "allow at byte %zu has unknown bits 0x%llx", at + 13,
                   (unsigned long long)(allow & ~(uint64_t)GC__ALLOW_ALL));
    if (rc == GC_OK)
        rc = gc__rd_uint(r, 2, "declared count", &declared);
    if (rc == GC_OK && (declared > ctx->n_domain ||
                        (declared < ctx->n_domain && (cfg & WIRE_CFG_STRICT_CONTRACTS))))
        return gc__rd_bad(r, GC_EWIRE, "declared count at byte %zu is %llu of %zu domain keys (undeclared "
                   "keys ride only with strict contracts off)", at + 14,
                   (unsigned long long)declared, ctx->n_domain);
    if (rc != GC_OK)
        return rc;
    ctx->base_version = base;
    ctx->attempt = (uint32_t)attempt;
    ctx->cfg.strict_contracts = (cfg & WIRE_CFG_STRICT_CONTRACTS) != 0;
    ctx->cfg.commit = (cfg & WIRE_CFG_STRICT_COMMIT) ? GC_COMMIT_STRICT : GC_COMMIT_SMART;
    ctx->allow = (uint32_t)allow;
    ctx->n_declared = (size_t)declared;
    for (size_t i = 0; i < ctx->n_domain; i++) {
        at = r->pos;
        rc = gc__rd_uint(r, 8, "last-modified version", &v);
        if (rc == GC_OK && v > base)
            return gc__rd_bad(r, GC_EWIRE, "last-modified version of '%s' at byte %zu is %llu, after the "
                       "base version %llu", ctx->domain[i].name, at, (unsigned long long)v,
                       (unsigned long long)base);
        if (rc != GC_OK)
            return rc;
        ctx->domain[i].modified = v;
    }
    at = r->pos;
    rc = gc__rd_uint(r, 2, "write count", &nwrites);
    if (rc == GC_OK && nwrites > GC_DOMAIN_MAX)
        return gc__rd_bad(r, GC_ELIMIT, "write count at byte %zu is %llu (limit %d)", at,
                   (unsigned long long)nwrites, GC_DOMAIN_MAX);
    if (rc != GC_OK)
        return rc;
    free(ctx->wnames);
    ctx->wnames = calloc((size_t)nwrites + 1, sizeof *ctx->wnames);
    if (!ctx->wnames)
        return gc_err_set(r->err, GC_ENOMEM, "wire: out of memory");
    r->sect = "write";
    for (size_t i = 0; i < (size_t)nwrites; i++) {
        r->idx = (long)i;
        rc = gc__rd_name_into(r, "name", ctx->wnames[i], ctx->wnames[0], sizeof ctx->wnames[0], i);
        if (rc != GC_OK)
            return rc;
        ctx->n_wnames = i + 1;
    }
    r->sect = "commit";
    r->idx = -1;
    at = r->pos;
    rc = gc__rd_uint(r, 2, "return index", &ret);
    if (rc == GC_OK && ret != GC__NO_RETURN && ret >= nwrites)
        return gc__rd_bad(r, GC_EWIRE, "return index at byte %zu is %llu of %llu writes", at,
                   (unsigned long long)ret, (unsigned long long)nwrites);
    ctx->return_idx = (uint32_t)ret;
    return rc;
}

/* ---- decoder: the descriptors -------------------------------------------------- */

/* A system call that failed on a descriptor the message was sent with: a
 * descriptor that is not one (EBADF) or a file that cannot carry seals
 * (EINVAL) is a bad message; anything else is the system's failure, reported
 * as GC_ESYS with errno kept, so a worker short of memory is not mistaken
 * for a sender of garbage. */
static int file_error(gc_err *err, int seals, const char *which, int fd)
{
    int e = errno;
    int rc = (seals ? e == EINVAL : e == EBADF) ? GC_EWIRE : GC_ESYS;
    if (seals)
        gc_err_set(err, rc, "wire: %s file cannot be sealed: fcntl(F_GET_SEALS) on descriptor %d: %s",
                   which, fd, strerror(e));
    else
        gc_err_set(err, rc, "wire: fstat(%s descriptor %d): %s", which, fd, strerror(e));
    errno = e;
    return rc;
}

static int check_file(int fd, int declared, uint64_t stated, int input, gc_err *err)
{
    const char *which = input ? "input" : "output";
    if (!declared) {
        if (fd != -1)
            return gc_err_set(err, GC_EWIRE, "wire: the message declares no %s file but "
                              "descriptor %d was passed", which, fd);
        return GC_OK;
    }
    struct stat sb;
    if (fd < 0)
        return gc_err_set(err, GC_EWIRE, "wire: the message declares an %s file but no "
                          "descriptor was passed", which);
    if (fstat(fd, &sb) != 0)
        return file_error(err, 0, which, fd);
    if (!S_ISREG(sb.st_mode) || sb.st_size < 0 || (uint64_t)sb.st_size != stated)
        return gc_err_set(err, GC_EWIRE, "wire: %s file size at byte %d is %llu but the "
                          "descriptor's file has %lld bytes%s", which,
                          input ? OFF_IN_SIZE : OFF_OUT_SIZE, (unsigned long long)stated,
                          (long long)sb.st_size, S_ISREG(sb.st_mode) ? "" : " (not a file)");
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0)
        return file_error(err, 1, which, fd);
    int need = F_SEAL_SHRINK | F_SEAL_GROW;
    if ((seals & need) != need)
        return gc_err_set(err, GC_EWIRE, "wire: %s file is not sealed against resizing "
                          "(seals 0x%x)", which, (unsigned)seals);
    int wseals = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
    if (input && !(seals & wseals))
        return gc_err_set(err, GC_EWIRE, "wire: input file is not sealed against writing "
                          "(seals 0x%x)", (unsigned)seals);
    if (!input && (seals & wseals))
        return gc_err_set(err, GC_EWIRE, "wire: output file is sealed against writing "
                          "(seals 0x%x): it cannot hold outputs", (unsigned)seals);
    return GC_OK;
}

/* Reads n bytes at off, retrying EINTR. GC_EWIRE when the file ends first,
 * GC_ESYS (errno kept) when the read fails: either way once, never a retry
 * of a call that keeps failing. */
static int pread_all(int fd, void *buf, size_t n, uint64_t off, const char *what, gc_err *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            gc_err_set(err, GC_ESYS, "wire: cannot read %s: pread: %s", what, strerror(e));
            errno = e;
            return GC_ESYS;
        }
        if (k == 0)
            return gc_err_set(err, GC_EWIRE, "wire: the input file ends at byte %llu, inside %s",
                              (unsigned long long)(off + got), what);
        got += (size_t)k;
    }
    return GC_OK;
}

static int check_manifest_head(const struct gc__manifest_head *mh, const struct header *h,
                               gc_err *err)
{
    uint64_t page = gc__page_size();
    uint64_t need = sizeof *mh + (uint64_t)mh->count * sizeof(struct gc__manifest_entry);
    if (memcmp(mh->magic, GC_ZONE_MAGIC, sizeof mh->magic) != 0 || mh->version != GC_ZONE_VERSION)
        return gc_err_set(err, GC_EWIRE, "wire: input file holds no version %u zone manifest",
                          GC_ZONE_VERSION);
    if (mh->generation != h->generation)
        return gc_err_set(err, GC_EWIRE, "wire: generation at byte %d is %llu but the input "
                          "file is zone generation %llu", OFF_GENERATION,
                          (unsigned long long)h->generation, (unsigned long long)mh->generation);
    if (mh->count > GC_HEAVY_MAX || mh->data_offset % page || mh->data_offset < need ||
        mh->data_offset > h->in_size || mh->input_size != h->in_size ||
        (h->out_size && mh->output_size != h->out_size))
        return gc_err_set(err, GC_EWIRE, "wire: the input file's manifest (%u entries, data at "
                          "%llu, sizes %llu/%llu) disagrees with the message", mh->count,
                          (unsigned long long)mh->data_offset,
                          (unsigned long long)mh->input_size,
                          (unsigned long long)mh->output_size);
    return GC_OK;
}

static int entry_in_manifest(const gc_zone_entry *e, const struct gc__manifest_entry *me,
                             size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strncmp(me[i].name, e->name, sizeof me[i].name) == 0)
            return me[i].offset == e->offset && me[i].length == e->length &&
                   me[i].flags == e->flags;
    return 0;
}

/* The message must describe entries of the zone the descriptor holds. A
 * message may leave out the output file (a contract without outputs), never
 * state another size for it. */
static int check_manifest(int fd, const gc_ctx *ctx, const struct header *h, gc_err *err)
{
    struct gc__manifest_head mh;
    int rc = pread_all(fd, &mh, sizeof mh, 0, "the input file's manifest", err);
    if (rc == GC_OK)
        rc = check_manifest_head(&mh, h, err);
    if (rc != GC_OK || ctx->n_entries == 0)
        return rc;
    size_t bytes = (size_t)mh.count * sizeof(struct gc__manifest_entry);
    struct gc__manifest_entry *me = malloc(bytes ? bytes : 1);
    if (!me)
        return gc_err_set(err, GC_ENOMEM, "wire: out of memory reading the manifest");
    rc = pread_all(fd, me, bytes, sizeof mh, "the input file's manifest entries", err);
    for (size_t i = 0; rc == GC_OK && i < ctx->n_entries; i++) {
        const gc_zone_entry *e = &ctx->entries[i];
        if (!(e->flags & GC_ENTRY_OUTPUT) && e->offset < mh.data_offset)
            rc = gc_err_set(err, GC_EWIRE, "wire: entry[%zu] '%s' offset %llu lies in the "
                            "manifest", i, e->name, (unsigned long long)e->offset);
        else if (!entry_in_manifest(e, me, mh.count))
            rc = gc_err_set(err, GC_EWIRE, "wire: entry[%zu] '%s' (offset %llu, length %llu, "
                            "flags 0x%x) is not in the input file's manifest", i, e->name,
                            (unsigned long long)e->offset, (unsigned long long)e->length,
                            e->flags);
    }
    free(me);
    return rc;
}

/* ---- decoder ----------------------------------------------------------------- */

static int decode_body(struct gc__reader *r, const struct header *h, int in_fd, int out_fd,
                       gc_ctx *ctx)
{
    int rc = read_domain(r, ctx, (size_t)h->ndomain);
    if (rc == GC_OK)
        rc = read_entries(r, ctx, h);
    if (rc == GC_OK)
        rc = read_commit(r, ctx);
    if (rc != GC_OK)
        return rc;
    if (r->pos != r->len)
        return gc_err_set(r->err, GC_EWIRE, "wire: %zu trailing bytes after the commit section "
                          "at byte %zu", r->len - r->pos, r->pos);
    rc = check_file(in_fd, (h->flags & WIRE_FLAG_INPUT) != 0, h->in_size, 1, r->err);
    if (rc == GC_OK)
        rc = check_file(out_fd, (h->flags & WIRE_FLAG_OUTPUT) != 0, h->out_size, 0, r->err);
    if (rc == GC_OK && (h->flags & WIRE_FLAG_INPUT))
        rc = check_manifest(in_fd, ctx, h, r->err);
    return rc;
}

int gc_wire_decode(const uint8_t *msg, size_t len, int in_fd, int out_fd, gc_ctx **out,
                   gc_err *err)
{
    if (!out || (!msg && len))
        return gc_err_set(err, GC_EINVAL, "gc_wire_decode: NULL argument");
    *out = NULL;
    struct gc__reader r = {msg, len, 0, err, "wire", "header", -1};
    struct header h;
    int rc = read_header(&r, &h);
    if (rc == GC_OK)
        rc = check_header(&r, &h);
    if (rc != GC_OK)
        return rc;
    gc_ctx *ctx = gc__ctx_alloc((size_t)h.ndomain, (size_t)h.nentries, 0);
    if (!ctx)
        return gc_err_set(err, GC_ENOMEM, "wire: out of memory");
    ctx->mode = GC_CTX_PROCESS;
    ctx->task = (uint32_t)h.task;
    ctx->ntasks = (uint32_t)h.ntasks;
    ctx->generation = h.generation;
    ctx->deadline_ns = h.deadline;
    ctx->in_size = h.in_size;
    ctx->out_size = h.out_size;
    rc = decode_body(&r, &h, in_fd, out_fd, ctx);
    if (rc != GC_OK) {
        int e = errno;    /* GC_ESYS promises the failed call's errno */
        gc_ctx_free(ctx);
        errno = e;
        return rc;
    }
    *out = ctx;
    return GC_OK;
}

/* ---- attach, sizes, deadline ----------------------------------------------------- */

static int check_mapping(const void *base, uint64_t size, uint64_t want, const char *which,
                         gc_err *err)
{
    if (size != want)
        return gc_err_set(err, GC_EINVAL, "gc_wire_attach: %s mapping of %llu bytes, the "
                          "message states %llu", which, (unsigned long long)size,
                          (unsigned long long)want);
    if ((base == NULL) != (want == 0))
        return gc_err_set(err, GC_EINVAL, "gc_wire_attach: %s mapping %s", which,
                          want ? "is missing" : "given but the message has no such file");
    if ((uintptr_t)base % gc__page_size())
        return gc_err_set(err, GC_EINVAL, "gc_wire_attach: %s mapping is not page-aligned",
                          which);
    return GC_OK;
}

int gc_wire_attach(gc_ctx *ctx, const void *in_base, uint64_t in_size, void *out_base,
                   uint64_t out_size, gc_err *err)
{
    if (!ctx)
        return gc_err_set(err, GC_EINVAL, "gc_wire_attach: context is NULL");
    if (ctx->mode != GC_CTX_PROCESS || ctx->attached)
        return gc_err_set(err, GC_ESTATE, "gc_wire_attach: the context is %s",
                          ctx->attached ? "already attached" : "not a decoded context");
    int rc = check_mapping(in_base, in_size, ctx->in_size, "input", err);
    if (rc == GC_OK)
        rc = check_mapping(out_base, out_size, ctx->out_size, "output", err);
    if (rc != GC_OK)
        return rc;
    ctx->in_base = in_base;
    ctx->out_base = out_base;
    ctx->attached = 1;
    return GC_OK;
}

uint64_t gc_wire_input_size(const gc_ctx *ctx)
{
    return ctx ? ctx->in_size : 0;
}

uint64_t gc_wire_output_size(const gc_ctx *ctx)
{
    return ctx ? ctx->out_size : 0;
}

void gc_wire_set_deadline(gc_ctx *ctx, uint64_t deadline_ns)
{
    if (ctx)
        ctx->deadline_ns = deadline_ns;
}

/* ---- compare ------------------------------------------------------------------------ */

static int compare_u64(const char *what, uint64_t a, uint64_t b, gc_err *err)
{
    if (a == b)
        return GC_OK;
    return gc_err_set(err, GC_EINVAL, "%s differs: %llu vs %llu", what, (unsigned long long)a,
                      (unsigned long long)b);
}

static int compare_value(size_t i, const struct gc__ctx_value *a, const struct gc__ctx_value *b,
                         gc_err *err)
{
    if (strcmp(a->name, b->name) != 0)
        return gc_err_set(err, GC_EINVAL, "domain[%zu] name differs: '%s' vs '%s'", i, a->name,
                          b->name);
    if (a->v.type != b->v.type)
        return gc_err_set(err, GC_EINVAL, "domain '%s' type differs: %s vs %s", a->name,
                          gc_value_type_name(a->v.type), gc_value_type_name(b->v.type));
    int same;
    if (a->v.type == GC_VAL_INT)
        same = a->v.i == b->v.i;
    else if (a->v.type == GC_VAL_DOUBLE)
        same = memcmp(&a->v.d, &b->v.d, sizeof a->v.d) == 0;   /* NaN bits too */
    else
        same = a->v.len == b->v.len && (a->v.len == 0 || memcmp(a->v.ptr, b->v.ptr, a->v.len) == 0);
    if (!same)
        return gc_err_set(err, GC_EINVAL, "domain '%s' value differs", a->name);
    return GC_OK;
}

static int compare_entry(size_t i, const gc_zone_entry *a, const gc_zone_entry *b, gc_err *err)
{
    if (strcmp(a->name, b->name) != 0)
        return gc_err_set(err, GC_EINVAL, "entry[%zu] name differs: '%s' vs '%s'", i, a->name,
                          b->name);
    if (a->flags != b->flags || a->offset != b->offset || a->length != b->length)
        return gc_err_set(err, GC_EINVAL, "entry '%s' differs: flags 0x%x/0x%x offset %llu/%llu "
                          "length %llu/%llu", a->name, a->flags, b->flags,
                          (unsigned long long)a->offset, (unsigned long long)b->offset,
                          (unsigned long long)a->length, (unsigned long long)b->length);
    return GC_OK;
}

static int compare_commit(const gc_ctx *a, const gc_ctx *b, gc_err *err)
{
    int rc = compare_u64("base version", a->base_version, b->base_version, err);
    if (rc == GC_OK)
        rc = compare_u64("attempt", a->attempt, b->attempt, err);
    if (rc == GC_OK)
        rc = compare_u64("strict contracts", (uint64_t)a->cfg.strict_contracts,
                         (uint64_t)b->cfg.strict_contracts, err);
    if (rc == GC_OK)
        rc = compare_u64("commit mode", (uint64_t)a->cfg.commit, (uint64_t)b->cfg.commit, err);
    if (rc == GC_OK)
        rc = compare_u64("allow", a->allow, b->allow, err);
    if (rc == GC_OK)
        rc = compare_u64("declared count", a->n_declared, b->n_declared, err);
    for (size_t i = 0; rc == GC_OK && i < a->n_domain; i++)
        rc = compare_u64(a->domain[i].name, a->domain[i].modified, b->domain[i].modified, err);
    if (rc == GC_OK)
        rc = compare_u64("write count", a->n_wnames, b->n_wnames, err);
    for (size_t i = 0; rc == GC_OK && i < a->n_wnames; i++)
        if (strcmp(a->wnames[i], b->wnames[i]) != 0)
            rc = gc_err_set(err, GC_EINVAL, "write[%zu] differs: '%s' vs '%s'", i, a->wnames[i],
                            b->wnames[i]);
    if (rc == GC_OK)
        rc = compare_u64("return index", a->return_idx, b->return_idx, err);
    return rc;
}

int gc_wire_compare(const gc_ctx *a, const gc_ctx *b, gc_err *err)
{
    if (!a || !b)
        return gc_err_set(err, GC_EINVAL, "gc_wire_compare: NULL context");
    int rc = compare_u64("task", a->task, b->task, err);
    if (rc == GC_OK)
        rc = compare_u64("ntasks", a->ntasks, b->ntasks, err);
    if (rc == GC_OK)
        rc = compare_u64("generation", a->generation, b->generation, err);
    if (rc == GC_OK)
        rc = compare_u64("deadline_ns", a->deadline_ns, b->deadline_ns, err);
    if (rc == GC_OK)
        rc = compare_u64("input file size", a->in_size, b->in_size, err);
    if (rc == GC_OK)
        rc = compare_u64("output file size", a->out_size, b->out_size, err);
    if (rc == GC_OK)
        rc = compare_u64("domain count", a->n_domain, b->n_domain, err);
    for (size_t i = 0; rc == GC_OK && i < a->n_domain; i++)
        rc = compare_value(i, &a->domain[i], &b->domain[i], err);
    if (rc == GC_OK)
        rc = compare_u64("entry count", a->n_entries, b->n_entries, err);
    for (size_t i = 0; rc == GC_OK && i < a->n_entries; i++)
        rc = compare_entry(i, &a->entries[i], &b->entries[i], err);
    if (rc == GC_OK)
        rc = compare_commit(a, b, err);
    return rc;
}
