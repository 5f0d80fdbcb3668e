/* Tests of the fuzz targets' descriptor cache (fz_memfd_cached in fz.c),
 * run by `make check` (check-fuzz-plumbing). The cache hands the code under
 * test the file an input asks for; a file rewritten in place must be, byte
 * for byte, size and seals, the file fz_memfd would make afresh, or the
 * fuzzers would test the decoder against files no input described. Each
 * check compares a cached file with a fresh one; a file with sealed bytes
 * must never change under a descriptor handed out before. Ends with
 * "N passed, M failed". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fz.h"

static int passed, failed;

static void expect(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

/* Are the two files the same: size, seals and every byte? */
static int same_file(int a, int b)
{
    struct stat sa, sb;
    if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0 || sa.st_size != sb.st_size ||
        fcntl(a, F_GET_SEALS) != fcntl(b, F_GET_SEALS))
        return 0;
    uint8_t ba[4096], bb[4096];
    for (off_t off = 0; off < sa.st_size; off += (off_t)sizeof ba) {
        ssize_t na = pread(a, ba, sizeof ba, off), nb = pread(b, bb, sizeof bb, off);
        if (na < 0 || na != nb || memcmp(ba, bb, (size_t)na) != 0)
            return 0;
    }
    return 1;
}

/* Is fd (handed out by the cache) the file fz_memfd would make? */
static int is_fresh(int fd, uint64_t size, const uint8_t *bytes, size_t len, int seals)
{
    int ref = fz_memfd(size, bytes, len, seals);
    if (ref < 0) {
        printf("fz_memfd: %s\n", strerror(errno));
        return 0;
    }
    int ok = fd >= 0 && same_file(fd, ref);
    close(ref);
    return ok;
}

static ino_t inode_of(int fd)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 ? sb.st_ino : 0;
}

/* Long bytes first, then short ones: a rewrite that kept the old tail
 * would show it beyond the new bytes. Sizes not whole pages included. */
static void one_kind(const char *name, unsigned key, int seals, uint64_t size1, uint64_t size2)
{
    uint8_t a[6000], b[100];
    memset(a, 0xa5, sizeof a);
    memset(b, 0x5a, sizeof b);
    char what[160];
    int fa = fz_memfd_cached(key, size1, a, sizeof a, seals);
    snprintf(what, sizeof what, "%s: first file is the fresh one", name);
    expect(is_fresh(fa, size1, a, sizeof a, seals), what);
    ino_t ia = inode_of(fa);
    int again = fz_memfd_cached(key, size1, a, sizeof a, seals);
    snprintf(what, sizeof what, "%s: the same input is a hit on the same file", name);
    expect(again == fa && inode_of(again) == ia, what);

    int fb = fz_memfd_cached(key, size2, b, sizeof b, seals);
    snprintf(what, sizeof what, "%s: other bytes give the fresh file (no old tail)", name);
    expect(is_fresh(fb, size2, b, sizeof b, seals), what);
    int frozen = (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0;
    int resizable = !(seals & (F_SEAL_SHRINK | F_SEAL_GROW));
    if (frozen) {
        /* A sealed file cannot be rewritten: a new one, the old one intact. */
        snprintf(what, sizeof what, "%s: sealed bytes: a new file, the old one unchanged", name);
        expect(inode_of(fb) != ia && is_fresh(fa, size1, a, sizeof a, seals), what);
    } else if (size1 == size2 || resizable) {
        snprintf(what, sizeof what, "%s: writable: the same file rewritten in place", name);
        expect(fb == fa && inode_of(fb) == ia, what);
        /* And back: the long bytes again, over the short ones. */
        int fc = fz_memfd_cached(key, size1, a, sizeof a, seals);
        snprintf(what, sizeof what, "%s: rewritten back to the first bytes", name);
        expect(fc == fa && is_fresh(fc, size1, a, sizeof a, seals), what);
    }
    fz_cleanup();
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t p3 = 3 * (uint64_t)page, odd = 2 * (uint64_t)page + 1;
    one_kind("no seals", 3, 0, p3, p3);
    one_kind("no seals, new size", 3, 0, p3, odd);
    one_kind("no seals, bytes beyond the size", 3, 0, (uint64_t)page, (uint64_t)page);
    one_kind("size sealed", 2, FZ_SEALS_RESIZE, odd, odd);
    one_kind("size sealed, new size", 2, FZ_SEALS_RESIZE, odd, p3);
    one_kind("input sealed as a zone", 1, FZ_SEALS_INPUT_ALL, p3, p3);
    one_kind("output sealed against writing", 1u << 8 | 2,
             FZ_SEALS_RESIZE | F_SEAL_WRITE, p3, p3);

    /* Two kinds in the cache at once: rewriting one leaves the other. */
    uint8_t x[64], y[64];
    memset(x, 1, sizeof x);
    memset(y, 2, sizeof y);
    int sealed = fz_memfd_cached(1, p3, x, sizeof x, FZ_SEALS_INPUT_ALL);
    int open1 = fz_memfd_cached(3, p3, x, sizeof x, 0);
    int open2 = fz_memfd_cached(3, p3, y, sizeof y, 0);
    expect(open2 == open1 && is_fresh(open2, p3, y, sizeof y, 0) &&
               fz_memfd_cached(1, p3, x, sizeof x, FZ_SEALS_INPUT_ALL) == sealed &&
               is_fresh(sealed, p3, x, sizeof x, FZ_SEALS_INPUT_ALL),
           "a rewrite leaves the other kinds' files as they were");
    fz_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
