/* Fuzz target context_decode: the wire decoder (gc_wire_decode) over
 * arbitrary bytes plus real memfds, as a process worker receives them. The
 * input (format in fz.h, FZD_*) chooses the descriptors (none, a sealed
 * memfd, a wrongly sealed one, a pipe, the same file twice), their sizes,
 * the bytes of the input file's manifest, and the message itself. The
 * decoder must return a context or an error, never crash or leak the
 * descriptors; a context it returns must be one a worker can trust: every
 * entry inside its file, named by the file's manifest, reachable through the
 * accessors only after attach, and re-encoding to the very message (the
 * format is canonical, so anything else means the decoder kept or dropped
 * something). Files are cached between iterations (fz_memfd_cached): a
 * sealed file cannot change under the decoder, so a cached one is the file a
 * fresh one would be. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fz.h"
#include "gapcheck/gapcheck.h"
#include "gapcheck/wire.h"

/* The manifest as we wrote it (host order, zone.c's layout: head of 48
 * bytes, entries of 88), read independently of the engine's own structs. */
struct manifest {
    const uint8_t *p;
    size_t len;
};

/* The descriptors the input asks for (fz.h, FZD_*), cached by fz.c. */
static void open_files(unsigned ctl, uint64_t in_size, uint64_t out_size,
                       const struct manifest *m, int *in_fd, int *out_fd)
{
    static const int in_seals[] = {0, FZ_SEALS_INPUT_ALL, FZ_SEALS_RESIZE, 0};
    static const int out_seals[] = {0, FZ_SEALS_RESIZE, FZ_SEALS_RESIZE | F_SEAL_WRITE, 0};
    unsigned in_kind = ctl & FZD_IN_MASK, out_kind = (ctl >> FZD_OUT_SHIFT) & 0x3u;
    if ((ctl & FZD_PIPE) && in_kind != FZD_IN_NONE) {
        *in_fd = fz_pipe_cached();
        FZ_CHECK(*in_fd >= 0, "pipe: %s", strerror(errno));
    } else if (in_kind != FZD_IN_NONE) {
        *in_fd = fz_memfd_cached(in_kind, in_size, m->p, m->len, in_seals[in_kind]);
        FZ_CHECK(*in_fd >= 0, "memfd for the input file: %s", strerror(errno));
    }
    if (ctl & FZD_SAME_FD) {
        *out_fd = *in_fd;
    } else if (out_kind != FZD_OUT_NONE) {
        *out_fd = fz_memfd_cached(1u << 8 | out_kind, out_size, NULL, 0, out_seals[out_kind]);
        FZ_CHECK(*out_fd >= 0, "memfd for the output file: %s", strerror(errno));
    }
}

/* FZD_SYNTH: the manifest zone.c would have written for the entries the
 * message lists (parsed leniently: what cannot be read is left out). */
static uint8_t *synth_manifest(const uint8_t *msg, size_t len, uint64_t in_size,
                               uint64_t out_size, uint64_t page, size_t *out_len)
{
    fz_in in = {msg, len, 20};
    uint64_t generation = fz_u64(&in);
    in.pos = 52;
    size_t ndomain = fz_u16(&in), nentries = fz_u16(&in);
    for (size_t i = 0; i < ndomain && fz_left(&in) > 0; i++) {
        size_t got;
        fz_bytes(&in, fz_u8(&in), &got);
        unsigned type = fz_u8(&in);
        if (type == GC_VAL_INT || type == GC_VAL_DOUBLE)
            fz_u64(&in);
        else
            fz_bytes(&in, (size_t)(fz_u16(&in) | (uint32_t)fz_u16(&in) << 16), &got);
    }
    if (nentries > GC_HEAVY_MAX)
        nentries = GC_HEAVY_MAX;
    uint8_t *buf = calloc(1, 48 + 88 * nentries);
    FZ_CHECK(buf != NULL, "out of memory");
    uint32_t count = 0;
    for (; count < nentries && fz_left(&in) > 0; count++) {
        uint8_t *me = buf + 48 + 88 * count;
        size_t got;
        const uint8_t *name = fz_bytes(&in, fz_u8(&in), &got);
        memcpy(me, name, got < 64 ? got : 63);
        uint32_t flags = (uint32_t)fz_u16(&in) | (uint32_t)fz_u16(&in) << 16;
        uint64_t offset = fz_u64(&in), length = fz_u64(&in);
        memcpy(me + 64, &offset, 8);
        memcpy(me + 72, &length, 8);
        memcpy(me + 80, &flags, 4);
    }
    uint32_t version = GC_ZONE_VERSION;
    uint64_t data_offset = (48 + 88 * (uint64_t)count + page - 1) / page * page;
    memcpy(buf, GC_ZONE_MAGIC, 8);
    memcpy(buf + 8, &version, 4);
    memcpy(buf + 12, &count, 4);
    memcpy(buf + 16, &generation, 8);
    memcpy(buf + 24, &data_offset, 8);
    memcpy(buf + 32, &in_size, 8);
    memcpy(buf + 40, &out_size, 8);
    *out_len = 48 + 88 * (size_t)count;
    return buf;
}

static uint64_t pages_to_size(uint8_t b, uint64_t page)
{
    return (uint64_t)(b & 0x7f) * page + ((b & 0x80) ? 1 : 0);
}

static uint64_t manifest_u64(const struct manifest *m, size_t off)
{
    uint64_t v = 0;
    if (off + 8 <= m->len)
        memcpy(&v, m->p + off, 8);
    return v;
}

static uint32_t manifest_u32(const struct manifest *m, size_t off)
{
    uint32_t v = 0;
    if (off + 4 <= m->len)
        memcpy(&v, m->p + off, 4);
    return v;
}

/* Does the manifest list this entry with the same offset, length, flags? */
static int manifest_names(const struct manifest *m, const gc_zone_entry *e)
{
    uint32_t count = manifest_u32(m, 12);
    for (size_t i = 0; i < count && 48 + (i + 1) * 88 <= m->len; i++) {
        const uint8_t *me = m->p + 48 + i * 88;
        if (strncmp((const char *)me, e->name, 64) != 0)
            continue;
        return manifest_u64(m, 48 + i * 88 + 64) == e->offset &&
               manifest_u64(m, 48 + i * 88 + 72) == e->length &&
               manifest_u32(m, 48 + i * 88 + 80) == e->flags;
    }
    return 0;
}

static void check_entries(gc_ctx *ctx, const struct manifest *m, uint64_t in_size,
                          uint64_t out_size, uint64_t page)
{
    uint64_t data_offset = manifest_u64(m, 24);
    for (size_t i = 0; i < gc_ctx_entry_count(ctx); i++) {
        const gc_zone_entry *e = gc_ctx_entry_at(ctx, i);
        FZ_CHECK(e != NULL, "entry %zu of %zu is NULL", i, gc_ctx_entry_count(ctx));
        FZ_CHECK(memchr(e->name, 0, sizeof e->name) && gc_name_check(e->name, "entry", NULL) == 0,
                 "entry %zu has an invalid name", i);
        int out = (e->flags & GC_ENTRY_OUTPUT) != 0;
        uint64_t size = out ? out_size : in_size;
        FZ_CHECK((e->flags & ~GC_ENTRY_FLAGS_ALL) == 0, "entry '%s' flags 0x%x", e->name, e->flags);
        FZ_CHECK(size > 0, "entry '%s' refers to an absent %s file", e->name,
                 out ? "output" : "input");
        FZ_CHECK(e->offset % page == 0, "entry '%s' offset %llu not page-aligned", e->name,
                 (unsigned long long)e->offset);
        FZ_CHECK(e->length <= size && e->offset <= size - e->length,
                 "entry '%s' [%llu, +%llu) lies outside its file of %llu bytes", e->name,
                 (unsigned long long)e->offset, (unsigned long long)e->length,
                 (unsigned long long)size);
        FZ_CHECK(out || e->offset >= data_offset,
                 "input entry '%s' at %llu overlaps the manifest (data at %llu)", e->name,
                 (unsigned long long)e->offset, (unsigned long long)data_offset);
        FZ_CHECK(manifest_names(m, e), "entry '%s' is not in the input file's manifest",
                 e->name);
    }
}

/* Map what was received the way a worker does and read every entry
 * through the accessors: pointers must land inside the mappings. */
static void check_access(gc_ctx *ctx, int in_fd, int out_fd, uint64_t in_size, uint64_t out_size)
{
    const void *data = NULL;
    size_t len = 0;
    if (gc_ctx_entry_count(ctx) > 0) {
        int rc = gc_ctx_heavy(ctx, gc_ctx_entry_at(ctx, 0)->name, &data, &len);
        FZ_CHECK(rc == GC_ESTATE, "access before gc_wire_attach returned %d, not ESTATE", rc);
    }
    uint8_t *in_base = NULL, *out_base = NULL;
    if (in_size) {
        void *p = mmap(NULL, (size_t)in_size, PROT_READ, MAP_SHARED, in_fd, 0);
        FZ_CHECK(p != MAP_FAILED, "mmap(input): %s", strerror(errno));
        in_base = p;
    }
    if (out_size) {
        void *p = mmap(NULL, (size_t)out_size, PROT_READ | PROT_WRITE, MAP_SHARED, out_fd, 0);
        FZ_CHECK(p != MAP_FAILED, "mmap(output): %s", strerror(errno));
        out_base = p;
    }
    gc_err err;
    int rc = gc_wire_attach(ctx, in_base, in_size, out_base, out_size, &err);
    FZ_CHECK(rc == GC_OK, "gc_wire_attach: %s", err.msg);
    for (size_t i = 0; i < gc_ctx_entry_count(ctx); i++) {
        const gc_zone_entry *e = gc_ctx_entry_at(ctx, i);
        int out = (e->flags & GC_ENTRY_OUTPUT) != 0;
        const uint8_t *base = out ? out_base : in_base;
        uint64_t size = out ? out_size : in_size;
        void *w = NULL;
        rc = out ? gc_ctx_output(ctx, e->name, &w, &len) : gc_ctx_heavy(ctx, e->name, &data, &len);
        if (out)
            data = w;
        FZ_CHECK(rc == GC_OK, "declared entry '%s' refused: %s", e->name, gc_ctx_last_error(ctx));
        const uint8_t *d = data;
        FZ_CHECK(len == e->length && d >= base && (uint64_t)(d - base) <= size - len,
                 "entry '%s' points outside its mapping", e->name);
        if (len) {
            volatile uint8_t first = d[0], last = d[len - 1];
            (void)first;
            (void)last;
        }
        rc = out ? gc_ctx_heavy(ctx, e->name, &data, &len) : gc_ctx_output(ctx, e->name, &w, &len);
        FZ_CHECK(rc == (out ? GC_EINVAL : GC_EREADONLY), "entry '%s' reachable the wrong way (%d)",
                 e->name, rc);
    }
    /* A name no contract can declare (too long): always refused. */
    static const char undeclared[] = "fz-undeclared-entry-name-that-no-message-can-carry-0123456789ab";
    rc = gc_ctx_heavy(ctx, undeclared, &data, &len);
    FZ_CHECK(rc == GC_ECONTRACT, "undeclared entry visible (%d)", rc);
    if (in_base)
        munmap(in_base, (size_t)in_size);
    if (out_base)
        munmap(out_base, (size_t)out_size);
}

static void check_domain(gc_ctx *ctx)
{
    for (size_t i = 0; i < gc_ctx_domain_count(ctx); i++) {
        const char *name = gc_ctx_domain_name(ctx, i);
        FZ_CHECK(name && gc_name_check(name, "key", NULL) == GC_OK, "domain %zu: bad name", i);
        const gc_value *v = NULL;
        int rc = gc_ctx_value(ctx, name, &v);
        FZ_CHECK(rc == GC_OK && v, "domain '%s' refused after attach (%d)", name, rc);
        FZ_CHECK(v->type >= GC_VAL_INT && v->type <= GC_VAL_BYTES, "domain '%s' type %d", name,
                 (int)v->type);
        if (v->type == GC_VAL_STR || v->type == GC_VAL_BYTES) {
            FZ_CHECK(v->ptr != NULL && v->len <= GC_VALUE_BYTES_MAX, "domain '%s' value", name);
            if (v->type == GC_VAL_STR)
                FZ_CHECK(strlen(v->ptr) == v->len, "domain '%s': string length", name);
        }
    }
}

/* Encoding the decoded context must give back the message byte for byte. */
static void check_roundtrip(const gc_ctx *ctx, const uint8_t *msg, size_t len)
{
    static uint8_t buf[GC_WIRE_MSG_MAX];
    size_t n = 0;
    gc_err err;
    int rc = gc_wire_encode(ctx, buf, sizeof buf, &n, &err);
    FZ_CHECK(rc == GC_OK, "re-encoding a decoded context failed: %s", err.msg);
    FZ_CHECK(n == len, "re-encoded message has %zu bytes, received %zu", n, len);
    for (size_t i = 0; i < len; i++)
        FZ_CHECK(buf[i] == msg[i], "re-encoded message differs at byte %zu", i);
    FZ_CHECK(gc_wire_compare(ctx, ctx, &err) == GC_OK, "context differs from itself: %s", err.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FZD_HEAD)
        return 0;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    unsigned ctl = data[0];
    uint64_t in_size = pages_to_size(data[1], page), out_size = pages_to_size(data[2], page);
    size_t mlen = (size_t)data[3] | (size_t)data[4] << 8;
    int synth = (mlen & FZD_SYNTH) != 0;
    mlen &= ~(size_t)FZD_SYNTH;
    if (mlen > size - FZD_HEAD)
        mlen = size - FZD_HEAD;
    struct manifest m = {data + FZD_HEAD, mlen};
    size_t len = size - FZD_HEAD - mlen;
    /* An exact-size copy, so that ASan sees any read past the message. */
    uint8_t *msg = malloc(len ? len : 1);
    FZ_CHECK(msg != NULL, "out of memory");
    if (len)
        memcpy(msg, data + FZD_HEAD + mlen, len);
    if ((ctl & FZD_FIX_TOTAL) && len >= 12)
        for (int i = 0; i < 4; i++)
            msg[8 + i] = (uint8_t)(len >> (8 * i));
    if ((ctl & FZD_FIX_GEN) && len >= 28 && mlen >= 24)
        memcpy(msg + 20, m.p + 16, 8);
    uint8_t *synth_buf = NULL;
    if (synth) {
        synth_buf = synth_manifest(msg, len, in_size, out_size, page, &m.len);
        m.p = synth_buf;
    }

    int in_fd = -1, out_fd = -1;
    open_files(ctl, in_size, out_size, &m, &in_fd, &out_fd);
    int mark = fz_fd_mark_cached();
    gc_ctx *ctx = (gc_ctx *)&mark;   /* must be overwritten, NULL on failure */
    gc_err err;
    memset(&err, 0, sizeof err);
    int rc = gc_wire_decode(msg, len, in_fd, out_fd, &ctx, &err);
    fz_fd_check(mark, "gc_wire_decode");
    if (fz_debug())
        fprintf(stderr, "context_decode: gc_wire_decode: %s %s\n", gc_status_name(rc), err.msg);
    if (in_fd >= 0)
        FZ_CHECK(fcntl(in_fd, F_GETFD) != -1, "the decoder closed the input descriptor");
    if (out_fd >= 0)
        FZ_CHECK(fcntl(out_fd, F_GETFD) != -1, "the decoder closed the output descriptor");
    if (rc != GC_OK) {
        FZ_CHECK(ctx == NULL, "failed decode (%d) left a context", rc);
        FZ_CHECK(rc < 0 && rc >= GC_STATUS_MIN && err.status == rc && err.msg[0] &&
                     memchr(err.msg, 0, sizeof err.msg),
                 "failed decode: status %d, err.status %d, reason '%.80s'", rc, err.status,
                 err.msg);
    } else {
        FZ_CHECK(ctx != NULL && gc_ctx_mode_of(ctx) == GC_CTX_PROCESS, "decode: bad context");
        uint64_t in_stated = gc_wire_input_size(ctx), out_stated = gc_wire_output_size(ctx);
        struct stat sb;
        FZ_CHECK(in_stated == 0 || (fstat(in_fd, &sb) == 0 && (uint64_t)sb.st_size == in_stated),
                 "stated input size %llu is not the file's", (unsigned long long)in_stated);
        FZ_CHECK(out_stated == 0 || (fstat(out_fd, &sb) == 0 && (uint64_t)sb.st_size == out_stated),
                 "stated output size %llu is not the file's", (unsigned long long)out_stated);
        FZ_CHECK((in_stated == 0) == (in_fd == -1) && (out_stated == 0) == (out_fd == -1),
                 "a descriptor was accepted for a file the message does not declare");
        FZ_CHECK(gc_ctx_task(ctx) < gc_ctx_task_count(ctx), "task %u of %u", gc_ctx_task(ctx),
                 gc_ctx_task_count(ctx));
        check_entries(ctx, &m, in_stated, out_stated, page);
        check_roundtrip(ctx, msg, len);
        check_access(ctx, in_fd, out_fd, in_stated, out_stated);
        check_domain(ctx);
        gc_ctx_free(ctx);
    }
    fz_fd_check(mark, "context_decode");
    free(synth_buf);
    free(msg);
    return 0;
}
