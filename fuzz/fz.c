/* Helpers shared by the gapcheck fuzz targets (see fz.h): failure reporting,
 * the per-iteration descriptor check, sealed memfds and an input reader.
 * Kept free of engine internals so a target's checks are independent of the
 * code they check. fuzz.mk compiles this file without coverage
 * instrumentation: whether a file was cached or made afresh must not look
 * like new coverage to the fuzzer. */
#include "fz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fz: PROPERTY VIOLATED: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* dup() hands out the lowest free descriptor: that is the slot a leak
 * would take. */
int fz_fd_mark(void)
{
    int fd = dup(2);
    if (fd < 0)
        fz_fail("fd mark: dup: %s", strerror(errno));
    close(fd);
    return fd;
}

void fz_fd_check(int mark, const char *where)
{
    if (fcntl(mark, F_GETFD) != -1)
        fz_fail("%s: descriptor %d was left open (leak)", where, mark);
}

int fz_memfd(uint64_t size, const uint8_t *bytes, size_t len, int seals)
{
    int fd = memfd_create("gapcheck-fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (len > size)
        len = (size_t)size;
    if (ftruncate(fd, (off_t)size) != 0 ||
        (len && pwrite(fd, bytes, len, 0) != (ssize_t)len) ||
        (seals && fcntl(fd, F_ADD_SEALS, seals) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

int fz_debug(void)
{
    static int on = -1;
    if (on < 0) {
        const char *v = getenv("FZ_DEBUG");
        on = v && *v && strcmp(v, "0") != 0;
    }
    return on;
}

/* A handful of cleanups at most: one per target's cache. */
static void (*cleanups[8])(void);
static size_t n_cleanups;

void fz_at_cleanup(void (*fn)(void))
{
    for (size_t i = 0; i < n_cleanups; i++)
        if (cleanups[i] == fn)
            return;
    if (n_cleanups == sizeof cleanups / sizeof cleanups[0])
        fz_fail("fz_at_cleanup: too many cleanups");
    cleanups[n_cleanups++] = fn;
}

void fz_cleanup(void)
{
    for (size_t i = 0; i < n_cleanups; i++)
        cleanups[i]();
}

/* ---- cached descriptors --------------------------------------------------- */

#define CACHE_SLOTS 64

struct cached_fd {
    int fd;
    unsigned key;
    int seals;
    uint64_t size, hash, used;
    uint8_t *bytes;          /* NULL: free slot */
    size_t len;
};

static struct cached_fd cache[CACHE_SLOTS];
static uint64_t cache_clock;
static int cache_mark = -1;
static int cache_pipe[2] = {-1, -1};

static void cache_cleanup(void)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].bytes)
            close(cache[i].fd);
        free(cache[i].bytes);
        cache[i].bytes = NULL;
    }
    if (cache_pipe[0] >= 0) {
        close(cache_pipe[0]);
        close(cache_pipe[1]);
        cache_pipe[0] = cache_pipe[1] = -1;
    }
    cache_mark = -1;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Seals that freeze a file's bytes (and, with F_SEAL_SEAL, for good): such a
 * file can only be made afresh. */
#define FROZEN_SEALS (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

/* Can slot c's file be rewritten in place into a (key, size, seals) file?
 * Its bytes must not be frozen, and its size must be the one asked for
 * unless no seal stops a resize. */
static int rewritable(const struct cached_fd *c, unsigned key, uint64_t size, int seals)
{
    return c->bytes && c->key == key && c->seals == seals && !(seals & FROZEN_SEALS) &&
           (c->size == size || !(seals & (F_SEAL_SHRINK | F_SEAL_GROW)));
}

/* Make fd what fz_memfd(size, bytes, len, seals) would have made: every old
 * byte dropped (a resize to 0, or a hole punched over the whole file when
 * its size is sealed: both leave zeros that own no page, as a fresh file
 * has), then the new bytes at offset 0. The seals are already the ones
 * asked for (rewritable). */
static int memfd_rewrite(int fd, uint64_t old_size, uint64_t size, const uint8_t *bytes,
                         size_t len)
{
    if (len > size)
        len = (size_t)size;
    if (old_size != size) {
        if (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0)
            return -1;
    } else if (size && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                                 (off_t)size) != 0) {
        return -1;
    }
    return len && pwrite(fd, bytes, len, 0) != (ssize_t)len ? -1 : 0;
}

int fz_memfd_cached(unsigned key, uint64_t size, const uint8_t *bytes, size_t len, int seals)
{
    uint64_t hash = fnv1a(bytes, len);
    struct cached_fd *victim = &cache[0], *reuse = NULL;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct cached_fd *c = &cache[i];
        if (c->bytes && c->key == key && c->seals == seals && c->size == size &&
            c->hash == hash && c->len == len && (len == 0 || memcmp(c->bytes, bytes, len) == 0)) {
            c->used = ++cache_clock;
            return c->fd;
        }
        if (rewritable(c, key, size, seals) && (!reuse || c->used < reuse->used))
            reuse = c;
        if (!c->bytes || (victim->bytes && c->used < victim->used))
            victim = c;
    }
    fz_at_cleanup(cache_cleanup);
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, bytes, len);
    /* A miss: rewrite a file whose bytes may change (one of the same kind)
     * in place, which costs a hole punch and a write; only a file whose
     * bytes are sealed is made afresh, and the slot's old file closed (a
     * new descriptor: the leak check's slot is looked up again). */
    struct cached_fd *c = reuse ? reuse : victim;
    int fd = -1;
    if (reuse && memfd_rewrite(reuse->fd, reuse->size, size, bytes, len) == 0) {
        fd = reuse->fd;
    } else {
        if (c->bytes)
            close(c->fd);
        cache_mark = -1;
        fd = fz_memfd(size, bytes, len, seals);
    }
    free(c->bytes);
    c->bytes = NULL;
    if (fd < 0) {
        free(copy);
        return -1;
    }
    c->fd = fd;
    c->bytes = copy;
    c->key = key;
    c->seals = seals;
    c->size = size;
    c->hash = hash;
    c->len = len;
    c->used = ++cache_clock;
    return fd;
}

int fz_pipe_cached(void)
{
    if (cache_pipe[0] < 0) {
        if (pipe2(cache_pipe, O_CLOEXEC) != 0)
            return -1;
        cache_mark = -1;
        fz_at_cleanup(cache_cleanup);
    }
    return cache_pipe[0];
}

/* The fuzzing engine may itself keep a descriptor open between iterations
 * (libFuzzer does when it starts looking for leaks), taking the cached slot:
 * then the slot is busy before the code under test runs, and the mark is
 * redone instead of reporting a leak that is not the target's. */
int fz_fd_mark_cached(void)
{
    if (cache_mark < 0 || fcntl(cache_mark, F_GETFD) != -1)
        cache_mark = fz_fd_mark();
    return cache_mark;
}

/* ---- input reader ------------------------------------------------------------- */

uint8_t fz_u8(fz_in *in)
{
    return in->pos < in->len ? in->p[in->pos++] : 0;
}

uint16_t fz_u16(fz_in *in)
{
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

uint64_t fz_u64(fz_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)fz_u8(in) << (8 * i);
    return v;
}

size_t fz_left(const fz_in *in)
{
    return in->len - in->pos;
}

const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got)
{
    size_t k = n < fz_left(in) ? n : fz_left(in);
    const uint8_t *p = in->p + in->pos;
    in->pos += k;
    *got = k;
    return p;
}
