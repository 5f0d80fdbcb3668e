/* The heavy zone: lifecycle, layout and manifest, and the kernel-enforced
 * promises: seals refuse every write to a published zone, forked children do
 * not inherit its mappings, and freeing (or failing) releases every
 * descriptor and mapping. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx_int.h"
#include "gapcheck/gapcheck.h"
#include "suites.h"
#include "testutil.h"

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Inputs "a" (a_len, sequence) and "b" (b_len, random:7); output "out" when
 * out_len is not (size_t)-1. Published. */
static gc_zone *make_zone(size_t a_len, size_t b_len, size_t out_len)
{
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", a_len, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "b", b_len, 0, &err), GC_OK);
    if (out_len != (size_t)-1)
        ck_assert_int_eq(gc_zone_declare(z, "out", out_len, GC_ENTRY_OUTPUT, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    void *p;
    size_t n;
    gc_pattern seq = {GC_PATTERN_SEQUENCE, 0}, rnd = {GC_PATTERN_RANDOM, 7};
    ck_assert_int_eq(gc_zone_fill(z, "a", &p, &n, &err), GC_OK);
    ck_assert_uint_eq(n, a_len);
    gc_pattern_fill(&seq, p, n, 0);
    ck_assert_int_eq(gc_zone_fill(z, "b", &p, &n, &err), GC_OK);
    gc_pattern_fill(&rnd, p, n, 0);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    return z;
}

static uint64_t pattern_sum(gc_pattern_kind k, uint64_t seed, size_t len)
{
    gc_pattern p = {k, seed};
    uint8_t *buf = malloc(len ? len : 1);
    gc_pattern_fill(&p, buf, len, 0);
    uint64_t s = gc_checksum(buf, len, GC_CHECKSUM_SEED);
    free(buf);
    return s;
}

START_TEST(zone_publish_keeps_bytes_and_layout)
{
    gc_zone *z = make_zone(3 * page() + 17, 5000, 100);
    ck_assert(gc_zone_is_published(z));
    ck_assert_uint_ge(gc_zone_generation(z), 1);
    ck_assert_uint_eq(gc_zone_count(z), 3);
    const void *d;
    size_t n;
    gc_err err;
    ck_assert_int_eq(gc_zone_read(z, "a", &d, &n, &err), GC_OK);
    ck_assert_uint_eq(n, 3 * page() + 17);
    ck_assert_uint_eq(gc_checksum(d, n, GC_CHECKSUM_SEED),
                      pattern_sum(GC_PATTERN_SEQUENCE, 0, n));
    ck_assert_int_eq(gc_zone_read(z, "b", &d, &n, &err), GC_OK);
    ck_assert_uint_eq(gc_checksum(d, n, GC_CHECKSUM_SEED), pattern_sum(GC_PATTERN_RANDOM, 7, n));
    /* Layout: page-aligned, in bounds of the right file, no overlap. */
    uint64_t end = 0;
    for (size_t i = 0; i < 2; i++) {
        const gc_zone_entry *e = gc_zone_entry_at(z, i);
        ck_assert_uint_eq(e->offset % page(), 0);
        ck_assert_uint_ge(e->offset, end);
        ck_assert_uint_ge(e->offset, page());   /* the manifest comes first */
        end = e->offset + e->length;
        ck_assert_uint_le(end, gc_zone_input_size(z));
    }
    const gc_zone_entry *o = gc_zone_find(z, "out");
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(o->flags, GC_ENTRY_OUTPUT);
    ck_assert_uint_le(o->offset + o->length, gc_zone_output_size(z));
    ck_assert_ptr_null(gc_zone_find(z, "nope"));
    ck_assert_ptr_null(gc_zone_entry_at(z, 3));
    struct stat sb;
    ck_assert_int_eq(fstat(gc_zone_input_fd(z), &sb), 0);
    ck_assert_uint_eq((uint64_t)sb.st_size, gc_zone_input_size(z));
    ck_assert_int_eq(fstat(gc_zone_output_fd(z), &sb), 0);
    ck_assert_uint_eq((uint64_t)sb.st_size, gc_zone_output_size(z));
    gc_zone_free(z);
}
END_TEST

START_TEST(zone_manifest_describes_entries)
{
    gc_zone *z = make_zone(10, 0, 7);
    struct gc__manifest_head h;
    ck_assert_int_eq(pread(gc_zone_input_fd(z), &h, sizeof h, 0), (ssize_t)sizeof h);
    ck_assert_mem_eq(h.magic, GC_ZONE_MAGIC, 8);
    ck_assert_uint_eq(h.version, GC_ZONE_VERSION);
    ck_assert_uint_eq(h.generation, gc_zone_generation(z));
    ck_assert_uint_eq(h.count, 3);
    ck_assert_uint_eq(h.input_size, gc_zone_input_size(z));
    ck_assert_uint_eq(h.output_size, gc_zone_output_size(z));
    for (size_t i = 0; i < 3; i++) {
        struct gc__manifest_entry me;
        off_t at = (off_t)(sizeof h + i * sizeof me);
        ck_assert_int_eq(pread(gc_zone_input_fd(z), &me, sizeof me, at), (ssize_t)sizeof me);
        const gc_zone_entry *e = gc_zone_entry_at(z, i);
        ck_assert_str_eq(me.name, e->name);
        ck_assert_uint_eq(me.offset, e->offset);
        ck_assert_uint_eq(me.length, e->length);
        ck_assert_uint_eq(me.flags, e->flags);
        ck_assert_uint_eq(me.reserved, 0);
    }
    /* Past the last entry the manifest pages hold zeros up to the data:
     * the file workers receive carries what the zone declared and no stray
     * byte of the process that wrote it. */
    size_t used = sizeof h + 3 * sizeof(struct gc__manifest_entry);
    ck_assert_uint_eq(h.data_offset, page());
    const uint8_t *m = gc_zone_input_base(z);
    for (size_t i = used; i < h.data_offset; i++)
        ck_assert_msg(m[i] == 0, "manifest page byte %zu is 0x%02x", i, m[i]);
    /* The manifest is also what the read-only mapping shows. */
    ck_assert_mem_eq(gc_zone_input_base(z), &h, sizeof h);
    gc_zone_free(z);
}
END_TEST

/* The layout, computed by hand: the manifest (48 + 6 x 88 bytes) takes the
 * first page; then each input entry in declaration order, at a page boundary,
 * taking its length rounded up to whole pages (a page-long entry one page, a
 * zero-length one none), and the outputs the same way in their own file. The
 * files are exactly that long: no page more than the data needs. */
START_TEST(zone_layout_packs_entries_in_whole_pages)
{
    const uint64_t pg = page();
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    static const struct { const char *name; uint64_t len; uint32_t flags; uint64_t offset; } e[] = {
        {"page", 4096, 0, 1}, {"byte", 1, 0, 2}, {"page_and_byte", 4097, 0, 3},
        {"empty", 0, 0, 5}, {"out_page", 4096, GC_ENTRY_OUTPUT, 0},
        {"out_byte", 1, GC_ENTRY_OUTPUT, 1},
    };
    ck_assert_uint_eq(pg, 4096);   /* the lengths above are in 4 KiB pages */
    for (size_t i = 0; i < 6; i++)
        ck_assert_int_eq(gc_zone_declare(z, e[i].name, e[i].len, e[i].flags, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    for (size_t i = 0; i < 6; i++)
        ck_assert_msg(gc_zone_find(z, e[i].name)->offset == e[i].offset * pg,
                      "%s at %llu, expected page %llu", e[i].name,
                      (unsigned long long)gc_zone_find(z, e[i].name)->offset,
                      (unsigned long long)e[i].offset);
    ck_assert_uint_eq(gc_zone_input_size(z), 5 * pg);
    ck_assert_uint_eq(gc_zone_output_size(z), 2 * pg);
    struct gc__manifest_head h;
    ck_assert_int_eq(pread(gc_zone_input_fd(z), &h, sizeof h, 0), (ssize_t)sizeof h);
    ck_assert_uint_eq(h.data_offset, pg);
    gc_zone_free(z);
}
END_TEST

START_TEST(zone_empty_is_valid)
{
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    ck_assert_uint_eq(gc_zone_count(z), 0);
    ck_assert_uint_eq(gc_zone_input_size(z), page());
    ck_assert_int_ge(gc_zone_input_fd(z), 0);
    ck_assert_int_eq(gc_zone_output_fd(z), -1);
    ck_assert_ptr_null(gc_zone_output_base(z));
    ck_assert_uint_eq(gc_zone_output_size(z), 0);
    gc_zone_free(z);
}
END_TEST

START_TEST(zone_zero_length_entries)
{
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "empty", 0, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "nothing", 0, GC_ENTRY_OUTPUT, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    const void *d;
    size_t n = 99;
    ck_assert_int_eq(gc_zone_read(z, "empty", &d, &n, &err), GC_OK);
    ck_assert_uint_eq(n, 0);
    void *w;
    ck_assert_int_eq(gc_zone_output(z, "nothing", &w, &n, &err), GC_OK);
    ck_assert_uint_eq(n, 0);
    /* Outputs exist, so there is an output file, even if empty entries fit in none. */
    ck_assert_int_ge(gc_zone_output_fd(z), 0);
    ck_assert_uint_eq(gc_zone_output_size(z), page());
    gc_zone_free(z);
}
END_TEST

START_TEST(zone_lifecycle_errors)
{
    gc_zone *z = NULL;
    gc_err err;
    void *w;
    const void *r;
    size_t n;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", 10, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "o", 10, GC_ENTRY_OUTPUT, &err), GC_OK);
    ck_assert_int_eq(gc_zone_fill(z, "a", &w, &n, &err), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "draft"));
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_ESTATE);
    ck_assert_int_eq(gc_zone_read(z, "a", &r, &n, &err), GC_ESTATE);
    ck_assert_int_eq(gc_zone_output(z, "o", &w, &n, &err), GC_ESTATE);
    ck_assert_uint_eq(gc_zone_generation(z), 0);
    ck_assert_int_eq(gc_zone_input_fd(z), -1);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_ESTATE);
    ck_assert_int_eq(gc_zone_declare(z, "late", 1, 0, &err), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "gc_zone_declare"));
    ck_assert_int_eq(gc_zone_fill(z, "o", &w, &n, &err), GC_EINVAL);   /* outputs: workers' */
    ck_assert_int_eq(gc_zone_fill(z, "zz", &w, &n, &err), GC_ENOTFOUND);
    ck_assert_int_eq(gc_zone_read(z, "a", &r, &n, &err), GC_ESTATE);
    ck_assert(!gc_zone_is_published(z));
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_ESTATE);
    ck_assert_int_eq(gc_zone_fill(z, "a", &w, &n, &err), GC_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "published"));
    ck_assert_int_eq(gc_zone_output(z, "a", &w, &n, &err), GC_EREADONLY);
    ck_assert_int_eq(gc_zone_read(z, "zz", &r, &n, &err), GC_ENOTFOUND);
    ck_assert_int_eq(gc_zone_read(z, "o", &r, &n, &err), GC_OK);   /* read outputs back */
    ck_assert_int_eq(gc_zone_declare(NULL, "x", 1, 0, &err), GC_EINVAL);
    ck_assert_int_eq(gc_zone_allocate(NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_zone_allocate: zone is NULL");
    ck_assert_int_eq(gc_zone_new(NULL, &err), GC_EINVAL);
    gc_zone_free(z);
    gc_zone_free(NULL);
}
END_TEST

/* NULL where an answer must go is refused with EINVAL, each argument alone;
 * a lookup by a NULL name or in no zone finds nothing; a zone without an
 * input file (still a draft, or none) reports size 0. */
START_TEST(zone_null_arguments_and_sizes)
{
    gc_zone *z = make_zone(10, 20, (size_t)-1);
    gc_err err;
    const void *r = NULL;
    size_t n = 99;
    ck_assert_int_eq(gc_zone_read(z, "a", &r, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_zone_read: NULL argument");
    ck_assert_int_eq(gc_zone_read(z, "a", NULL, &n, &err), GC_EINVAL);
    ck_assert_uint_eq(n, 99);
    ck_assert_int_eq(gc_zone_read(z, "a", &r, &n, &err), GC_OK);
    ck_assert_uint_eq(n, 10);
    /* A lookup without a zone or a name finds nothing, like one of a name
     * the zone does not hold. */
    ck_assert_ptr_null(gc_zone_find(NULL, "a"));
    ck_assert_ptr_null(gc_zone_find(z, NULL));
    ck_assert_ptr_nonnull(gc_zone_find(z, "a"));
    ck_assert_uint_gt(gc_zone_input_size(z), 0);   /* manifest and data, whole pages */
    ck_assert_uint_eq(gc_zone_input_size(z) % page(), 0);
    gc_zone_free(z);
    ck_assert_uint_eq(gc_zone_input_size(NULL), 0);
    gc_zone *draft = NULL;
    ck_assert_int_eq(gc_zone_new(&draft, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(draft, "a", 10, 0, &err), GC_OK);
    ck_assert_uint_eq(gc_zone_input_size(draft), 0);
    gc_zone_free(draft);
}
END_TEST

START_TEST(zone_declare_rejects)
{
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "", 1, 0, &err), GC_EINVAL);
    ck_assert_int_eq(gc_zone_declare(z, "a/b", 1, 0, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "heavy entry"));
    ck_assert_int_eq(gc_zone_declare(z, NULL, 1, 0, &err), GC_EINVAL);
    ck_assert_int_eq(gc_zone_declare(z, "a", 1, 0x2, &err), GC_EINVAL);
    ck_assert_int_eq(gc_zone_declare(z, "a", GC_ZONE_ENTRY_MAX + 1, 0, &err), GC_ELIMIT);
    ck_assert_int_eq(gc_zone_declare(z, "a", GC_ZONE_ENTRY_MAX, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", 1, 0, &err), GC_EEXIST);
    ck_assert_int_eq(gc_zone_declare(z, "a", 1, GC_ENTRY_OUTPUT, &err), GC_EEXIST);
    ck_assert_ptr_nonnull(strstr(err.msg, "'a'"));
    for (int i = 1; i < GC_HEAVY_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "e%d", i);
        ck_assert_int_eq(gc_zone_declare(z, name, 0, 0, &err), GC_OK);
    }
    ck_assert_int_eq(gc_zone_declare(z, "one_more", 0, 0, &err), GC_ELIMIT);
    ck_assert_uint_eq(gc_zone_count(z), GC_HEAVY_MAX);
    gc_zone_free(z);
}
END_TEST

START_TEST(zone_seals_refuse_every_write)
{
    gc_zone *z = make_zone(2 * page(), 10, 64);
    int fd = gc_zone_input_fd(z);
    int seals = fcntl(fd, F_GET_SEALS);
    int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL;
    ck_assert_int_eq(seals & want, want);
    char byte = 1;
    errno = 0;
    ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)page()), -1);
    ck_assert_int_eq(errno, EPERM);
    errno = 0;
    ck_assert_ptr_eq(mmap(NULL, page(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
    ck_assert_int_eq(errno, EPERM);
    errno = 0;
    ck_assert_int_eq(mprotect((void *)gc_zone_input_base(z), page(), PROT_READ | PROT_WRITE), -1);
    ck_assert_int_eq(errno, EACCES);
    errno = 0;
    ck_assert_int_eq(ftruncate(fd, (off_t)page()), -1);
    ck_assert_int_eq(errno, EPERM);
    ck_assert_int_eq(ftruncate(fd, (off_t)(64 * page())), -1);
    ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, 0), -1);   /* F_SEAL_SEAL: no unsealing path */
    ck_assert_int_eq(errno, EPERM);
    /* Reopening through /proc gives a new file description, same seals. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int fd2 = open(path, O_RDWR);
    ck_assert_int_ge(fd2, 0);
    ck_assert_int_eq(write(fd2, &byte, 1), -1);
    ck_assert_int_eq(errno, EPERM);
    close(fd2);
    /* The output file keeps its size but stays writable. */
    int ofd = gc_zone_output_fd(z);
    int oseals = fcntl(ofd, F_GET_SEALS);
    ck_assert_int_eq(oseals, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    ck_assert_int_eq(ftruncate(ofd, 0), -1);
    ck_assert_int_eq(errno, EPERM);
    void *o;
    size_t n;
    ck_assert_int_eq(gc_zone_output(z, "out", &o, &n, NULL), GC_OK);
    memset(o, 0xAB, n);
    unsigned char back = 0;
    ck_assert_int_eq(pread(ofd, &back, 1, (off_t)gc_zone_find(z, "out")->offset), 1);
    ck_assert_uint_eq(back, 0xAB);   /* shared: the file sees the mapping's writes */
    gc_zone_free(z);
}
END_TEST

static void on_segv(int sig)
{
    (void)sig;
    _exit(77);
}

/* A store through the read-only mapping is refused by the kernel (SIGSEGV;
 * caught so that sanitizers and valgrind report it the same way). */
START_TEST(zone_store_to_published_input_faults)
{
    gc_zone *z = make_zone(page(), 10, (size_t)-1);
    const void *d;
    size_t n;
    ck_assert_int_eq(gc_zone_read(z, "a", &d, &n, NULL), GC_OK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The child keeps no zone mapping (MADV_DONTFORK), so map it afresh,
         * read-only, as a worker would, and try to store. */
        void *m = mmap(NULL, (size_t)gc_zone_input_size(z), PROT_READ, MAP_SHARED,
                       gc_zone_input_fd(z), 0);
        gc_zone_free(z);   /* the child's copy: its fds (the mapping stays) */
        if (m == MAP_FAILED)
            _exit(2);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_segv;
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        ((volatile char *)m)[page()] = 1;
        _exit(0);
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 77);
    gc_zone_free(z);
}
END_TEST

START_TEST(zone_mappings_not_inherited_by_fork)
{
    gc_zone *z = make_zone(4 * page(), 10, 100);
    void *in = (void *)gc_zone_input_base(z), *out = gc_zone_output_base(z);
    unsigned char vec[1];
    ck_assert_int_eq(mincore(in, page(), vec), 0);
    ck_assert_int_eq(mincore(out, page(), vec), 0);
    ck_assert_int_eq(tu_memfd_maps(), 2);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* mincore fails with ENOMEM on unmapped addresses: no fault risked. */
        int bad = 0;
        errno = 0;
        bad |= mincore(in, page(), vec) == 0 || errno != ENOMEM;
        errno = 0;
        bad |= (mincore(out, page(), vec) == 0 || errno != ENOMEM) << 1;
        bad |= (tu_memfd_maps() != 0) << 2;
        gc_zone_free(z);   /* closes the child's copies of the fds; nothing to unmap */
        _exit(bad);
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 0);
    gc_zone_free(z);
}
END_TEST

START_TEST(zone_free_releases_everything)
{
    int fds = tu_fd_count(), maps = tu_memfd_maps();
    for (int round = 0; round < 3; round++) {
        gc_zone *pub = make_zone(100, 5 * page(), 33);
        gc_zone *noout = make_zone(1, 1, (size_t)-1);
        gc_zone *filling = NULL, *draft = NULL;
        ck_assert_int_eq(gc_zone_new(&filling, NULL), GC_OK);
        ck_assert_int_eq(gc_zone_declare(filling, "x", 10, 0, NULL), GC_OK);
        ck_assert_int_eq(gc_zone_declare(filling, "y", 10, GC_ENTRY_OUTPUT, NULL), GC_OK);
        ck_assert_int_eq(gc_zone_allocate(filling, NULL), GC_OK);
        ck_assert_int_eq(gc_zone_new(&draft, NULL), GC_OK);
        ck_assert_int_eq(gc_zone_declare(draft, "x", 10, 0, NULL), GC_OK);
        ck_assert_int_eq(tu_fd_count(), fds + 5);
        ck_assert_int_eq(tu_memfd_maps(), maps + 5);
        gc_zone_free(pub);
        gc_zone_free(noout);
        gc_zone_free(filling);
        gc_zone_free(draft);
        ck_assert_int_eq(tu_fd_count(), fds);
        ck_assert_int_eq(tu_memfd_maps(), maps);
    }
}
END_TEST

static int lowest_free_fd(void)
{
    int fd = dup(0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return fd;
}

static void limit(int resource, rlim_t v)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(resource, &rl), 0);
    rl.rlim_cur = v;
    ck_assert_int_eq(setrlimit(resource, &rl), 0);
}

/* memfd_create of the output file fails after the input file exists: the
 * half-made zone must give everything back and stay a usable draft. */
START_TEST(zone_allocate_failure_releases_partial)
{
    int fds = tu_fd_count(), maps = tu_memfd_maps();
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "in", 100, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "out", 100, GC_ENTRY_OUTPUT, &err), GC_OK);
    struct rlimit saved;
    getrlimit(RLIMIT_NOFILE, &saved);
    limit(RLIMIT_NOFILE, (rlim_t)lowest_free_fd() + 1);   /* room for one descriptor */
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_ESYS);
    ck_assert_ptr_nonnull(strstr(err.msg, "memfd_create"));
    limit(RLIMIT_NOFILE, saved.rlim_cur);
    ck_assert_int_eq(tu_fd_count(), fds);
    ck_assert_int_eq(tu_memfd_maps(), maps);
    ck_assert_int_eq(gc_zone_input_fd(z), -1);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);   /* still a draft: retry works */
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    gc_zone_free(z);
    ck_assert_int_eq(tu_fd_count(), fds);
}
END_TEST

/* ftruncate past RLIMIT_FSIZE fails: for the input file (nothing mapped yet)
 * and for the output file (input already mapped). */
START_TEST(zone_allocate_failure_on_size)
{
    signal(SIGXFSZ, SIG_IGN);
    int fds = tu_fd_count(), maps = tu_memfd_maps();
    limit(RLIMIT_FSIZE, 1u << 20);
    for (int which = 0; which < 2; which++) {
        gc_zone *z = NULL;
        gc_err err;
        ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
        ck_assert_int_eq(gc_zone_declare(z, "in", which ? 100 : 2u << 20, 0, &err), GC_OK);
        ck_assert_int_eq(gc_zone_declare(z, "out", which ? 2u << 20 : 100, GC_ENTRY_OUTPUT,
                                         &err), GC_OK);
        ck_assert_int_eq(gc_zone_allocate(z, &err), GC_ESYS);
        ck_assert_ptr_nonnull(strstr(err.msg, "ftruncate"));
        ck_assert_int_eq(tu_fd_count(), fds);
        ck_assert_int_eq(tu_memfd_maps(), maps);
        gc_zone_free(z);
    }
}
END_TEST

START_TEST(zone_generations_unique_and_increasing)
{
    uint64_t last = 0;
    for (int i = 0; i < 5; i++) {
        gc_zone *z = make_zone(1, 1, (size_t)-1);
        ck_assert_uint_gt(gc_zone_generation(z), last);
        last = gc_zone_generation(z);
        gc_zone_free(z);
    }
}
END_TEST

/* gc_zone_fill answers through both of its out pointers: missing either one
 * is refused EINVAL (never a store through NULL), and the other is left as
 * it was. */
START_TEST(zone_fill_refuses_a_missing_out_pointer)
{
    gc_zone *z = NULL;
    gc_err err;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", 10, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    void *w = &err;
    size_t n = 99;
    ck_assert_int_eq(gc_zone_fill(z, "a", NULL, &n, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_zone_fill: NULL argument");
    ck_assert_uint_eq(n, 99);
    ck_assert_int_eq(gc_zone_fill(z, "a", &w, NULL, &err), GC_EINVAL);
    ck_assert_str_eq(err.msg, "gc_zone_fill: NULL argument");
    ck_assert_ptr_eq(w, &err);
    ck_assert_int_eq(gc_zone_fill(z, "a", &w, &n, &err), GC_OK);
    ck_assert_uint_eq(n, 10);
    gc_zone_free(z);
}
END_TEST

Suite *suite_zone(void)
{
    Suite *s = suite_create("zone");
    TCase *tc = tcase_create("zone");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, zone_publish_keeps_bytes_and_layout);
    tcase_add_test(tc, zone_manifest_describes_entries);
    tcase_add_test(tc, zone_layout_packs_entries_in_whole_pages);
    tcase_add_test(tc, zone_empty_is_valid);
    tcase_add_test(tc, zone_zero_length_entries);
    tcase_add_test(tc, zone_lifecycle_errors);
    tcase_add_test(tc, zone_null_arguments_and_sizes);
    tcase_add_test(tc, zone_fill_refuses_a_missing_out_pointer);
    tcase_add_test(tc, zone_declare_rejects);
    tcase_add_test(tc, zone_seals_refuse_every_write);
    tcase_add_test(tc, zone_store_to_published_input_faults);
    tcase_add_test(tc, zone_mappings_not_inherited_by_fork);
    tcase_add_test(tc, zone_free_releases_everything);
    tcase_add_test(tc, zone_allocate_failure_releases_partial);
    tcase_add_test(tc, zone_allocate_failure_on_size);
    tcase_add_test(tc, zone_generations_unique_and_increasing);
    suite_add_tcase(s, tc);
    return s;
}
