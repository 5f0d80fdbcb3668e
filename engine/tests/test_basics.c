/* Status codes, name validation, fill patterns and the checksum. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gapcheck/gapcheck.h"
#include "suites.h"

START_TEST(status_names_round_trip)
{
    for (int s = GC_OK; s >= GC_STATUS_MIN; s--) {
        int back = 1;
        ck_assert_str_ne(gc_status_name(s), "EUNKNOWN");
        ck_assert_int_eq(gc_status_parse(gc_status_name(s), &back), GC_OK);
        ck_assert_int_eq(back, s);
    }
    int v;
    ck_assert_int_eq(gc_status_parse("GC_ETIMEOUT", &v), GC_OK);
    ck_assert_int_eq(v, GC_ETIMEOUT);
    ck_assert_int_eq(gc_status_parse("ENOPE", &v), GC_EINVAL);
    ck_assert_str_eq(gc_status_name(-999), "EUNKNOWN");
}
END_TEST

/* Every status has its own text, word for word: a report shows these to people. */
START_TEST(status_texts_exact)
{
    static const struct {
        int code;
        const char *text;
    } want[] = {
        {GC_OK, "success"},
        {GC_EINVAL, "invalid argument"},
        {GC_ENOMEM, "out of memory"},
        {GC_ESYS, "system call failed"},
        {GC_ENOTFOUND, "not found"},
        {GC_EEXIST, "already exists"},
        {GC_ECONTRACT, "access outside the process contract"},
        {GC_EREADONLY, "write to a read-only entry refused"},
        {GC_EWIRE, "malformed message"},
        {GC_ELIMIT, "hard limit exceeded"},
        {GC_ESTATE, "wrong lifecycle state"},
        {GC_ECRASH, "worker killed by a signal"},
        {GC_EEXIT, "worker exited during a task"},
        {GC_ETIMEOUT, "task passed its deadline"},
        {GC_EUNSUPPORTED, "not supported in this mode"},
        {GC_EPROC, "process reported failure"},
        {GC_EBUSY, "resource busy"},
        {GC_ECONFLICT, "commit conflict: the state changed since the task's base"},
        {GC_EVALIDATE, "a write failed validation"},
    };
    ck_assert_int_eq((int)(sizeof want / sizeof want[0]), GC_OK - GC_STATUS_MIN + 1);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_str_eq(gc_status_text(want[i].code), want[i].text);
    ck_assert_str_eq(gc_status_text(GC_STATUS_MIN - 1), "unknown status");
    ck_assert_str_eq(gc_status_text(1), "unknown status");
    int v = 7;
    ck_assert_int_eq(gc_status_parse(NULL, &v), GC_EINVAL);
    ck_assert_int_eq(v, 7);
}
END_TEST

/* gc_err_set fills and returns the status; a NULL err is allowed everywhere
 * (callers pass NULL when they only want the status); clear empties both. */
START_TEST(err_set_and_clear)
{
    gc_err err;
    ck_assert_int_eq(gc_err_set(&err, GC_ELIMIT, "n = %d", 42), GC_ELIMIT);
    ck_assert_int_eq(err.status, GC_ELIMIT);
    ck_assert_str_eq(err.msg, "n = 42");
    gc_err_clear(&err);
    ck_assert_int_eq(err.status, GC_OK);
    ck_assert_str_eq(err.msg, "");
    ck_assert_int_eq(gc_err_set(NULL, GC_EINVAL, "ignored %s", "x"), GC_EINVAL);
    gc_err_clear(NULL);
}
END_TEST

START_TEST(names_validated)
{
    gc_err err;
    ck_assert_int_eq(gc_name_check("large_data", "heavy entry", &err), GC_OK);
    ck_assert_int_eq(gc_name_check("a.b-c_9", "heavy entry", &err), GC_OK);
    ck_assert_int_eq(gc_name_check("", "heavy entry", &err), GC_EINVAL);
    ck_assert_int_eq(gc_name_check(".hidden", "heavy entry", &err), GC_EINVAL);
    ck_assert_int_eq(gc_name_check("a/b", "domain key", &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "domain key"));
    ck_assert_ptr_nonnull(strstr(err.msg, "0x2f"));
    /* Each end of each allowed range, and the byte just outside it. */
    static const char *const ok[] = {"a", "z", "A", "Z", "0", "9", "x_", "x.", "x-"};
    static const char *const bad[] = {"`", "{", "@", "[", "/", ":", "x ", "x~"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(gc_name_check(ok[i], "k", &err) == GC_OK, "'%s' refused", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(gc_name_check(bad[i], "k", &err) == GC_EINVAL, "'%s' accepted", bad[i]);
    char longname[GC_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname);
    longname[GC_NAME_MAX] = '\0';
    ck_assert_int_eq(gc_name_check(longname, "k", &err), GC_OK);
    longname[GC_NAME_MAX] = 'x';
    longname[GC_NAME_MAX + 1] = '\0';
    ck_assert_int_eq(gc_name_check(longname, "k", &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "limit 63"));
}
END_TEST

/* A name over the limit is refused with its real length, as a case file's
 * author needs it ("domain key name is 100 bytes long (limit 63)"), not
 * with the limit plus one whatever its length. */
START_TEST(long_name_refused_with_its_length)
{
    static const size_t lens[] = {GC_NAME_MAX + 1, GC_NAME_MAX + 2, 100, 1000};
    char name[1001], want[GC_ERR_MSG_MAX];
    gc_err err;
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        memset(name, 'k', lens[k]);
        name[lens[k]] = '\0';
        ck_assert_int_eq(gc_name_check(name, "domain key", &err), GC_EINVAL);
        snprintf(want, sizeof want, "domain key name is %zu bytes long (limit 63)", lens[k]);
        ck_assert_str_eq(err.msg, want);
    }
}
END_TEST

START_TEST(pattern_slices_agree_with_whole)
{
    static const char *specs[] = {"zero", "sequence", "random:42", "random:0x10"};
    for (size_t s = 0; s < 4; s++) {
        gc_pattern p;
        ck_assert_int_eq(gc_pattern_parse(specs[s], &p, NULL), GC_OK);
        uint8_t whole[1000], part[1000];
        gc_pattern_fill(&p, whole, sizeof whole, 0);
        for (size_t off = 0; off < 40; off += 3) {
            gc_pattern_fill(&p, part, 77, off);
            ck_assert_mem_eq(part, whole + off, 77);
            ck_assert_uint_eq(gc_pattern_byte(&p, off + 5), whole[off + 5]);
        }
    }
}
END_TEST

/* random:SEED is splitmix64 (Steele, Lea and Flood 2014) as a function of its
 * state, little-endian, the 8 bytes at block b = offset / 8 being
 * splitmix64(SEED ^ b): another tool regenerates a case's random data from
 * that sentence alone. Expected words: the published first outputs of
 * Vigna's reference splitmix64.c seeded with 0 (the k-th is splitmix64 of
 * k times its increment 0x9E3779B97F4A7C15), not this code's output. Both
 * paths are checked: the fill's whole blocks and the byte-at-a-time one. */
START_TEST(random_pattern_is_published_splitmix64)
{
    static const struct {
        const char *spec;
        uint64_t block;   /* block index whose bytes are the published word */
        uint64_t word;
    } want[] = {
        {"random:0", 0, 0xE220A8397B1DCDAFull},
        {"random:0x9E3779B97F4A7C15", 0, 0x6E789E6AA1B965F4ull},
        {"random:0x3C6EF372FE94F82A", 0, 0x06C45D188009454Full},
        {"random:0xDAA66D2C7DDF743F", 0, 0xF88BB8A8724C81ECull},
        /* SEED ^ 1 is the second state: block 1 of this seed. */
        {"random:0x9E3779B97F4A7C14", 1, 0x6E789E6AA1B965F4ull},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        gc_pattern p;
        ck_assert_int_eq(gc_pattern_parse(want[k].spec, &p, NULL), GC_OK);
        uint8_t le[8], filled[16];
        for (int b = 0; b < 8; b++)
            le[b] = (uint8_t)(want[k].word >> (8 * b));
        gc_pattern_fill(&p, filled, sizeof filled, 0);
        ck_assert_msg(memcmp(filled + 8 * want[k].block, le, 8) == 0,
                      "%s: block %u is not splitmix64's published word", want[k].spec,
                      (unsigned)want[k].block);
        for (int b = 0; b < 8; b++)
            ck_assert_uint_eq(gc_pattern_byte(&p, 8 * want[k].block + (uint64_t)b), le[b]);
    }
}
END_TEST

/* A fill writes its len bytes and not one more, whatever its alignment: a
 * slice of an entry is filled in place, beside bytes that are not its own.
 * Every pattern, start offsets 0 to 15 and lengths 0 to 40 (so a fill can
 * start and end inside a block or on its edge), into a buffer with a canary
 * after the slice. */
START_TEST(pattern_fill_writes_only_its_slice)
{
    static const char *specs[] = {"zero", "sequence", "random:42"};
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        gc_pattern p;
        ck_assert_int_eq(gc_pattern_parse(specs[s], &p, NULL), GC_OK);
        for (uint64_t off = 0; off < 16; off++) {
            for (size_t len = 0; len <= 40; len++) {
                uint8_t buf[64];
                memset(buf, 0xA5, sizeof buf);
                gc_pattern_fill(&p, buf, len, off);
                for (size_t i = len; i < sizeof buf; i++)
                    ck_assert_msg(buf[i] == 0xA5, "%s at %u, %zu bytes: byte %zu written",
                                  specs[s], (unsigned)off, len, i);
                for (size_t i = 0; i < len; i++)
                    ck_assert_uint_eq(buf[i], gc_pattern_byte(&p, off + i));
            }
        }
    }
}
END_TEST

START_TEST(pattern_parse_rejects)
{
    gc_pattern p;
    gc_err err;
    ck_assert_int_eq(gc_pattern_parse("random:", &p, &err), GC_EINVAL);
    ck_assert_int_eq(gc_pattern_parse("random:12x", &p, &err), GC_EINVAL);
    ck_assert_int_eq(gc_pattern_parse("ones", &p, &err), GC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'ones'"));
    ck_assert_int_eq(gc_pattern_parse("random:7", &p, &err), GC_OK);
    ck_assert_uint_eq(p.seed, 7);
}
END_TEST

START_TEST(random_seeds_differ)
{
    gc_pattern a, b;
    gc_pattern_parse("random:1", &a, NULL);
    gc_pattern_parse("random:2", &b, NULL);
    uint8_t x[64], y[64];
    gc_pattern_fill(&a, x, sizeof x, 0);
    gc_pattern_fill(&b, y, sizeof y, 0);
    ck_assert_int_ne(memcmp(x, y, sizeof x), 0);
}
END_TEST

START_TEST(checksum_sensitive_and_chainable)
{
    uint8_t buf[4099];
    gc_pattern p = {GC_PATTERN_SEQUENCE, 0};
    gc_pattern_fill(&p, buf, sizeof buf, 0);
    uint64_t whole = gc_checksum(buf, sizeof buf, GC_CHECKSUM_SEED);
    ck_assert_uint_eq(whole, gc_checksum(buf, sizeof buf, GC_CHECKSUM_SEED));
    for (size_t i = 0; i < sizeof buf; i += 511) {
        buf[i] ^= 1;
        ck_assert_uint_ne(whole, gc_checksum(buf, sizeof buf, GC_CHECKSUM_SEED));
        buf[i] ^= 1;
    }
    /* Length matters even for zero bytes. */
    uint8_t z[16] = {0};
    ck_assert_uint_ne(gc_checksum(z, 8, 1), gc_checksum(z, 16, 1));
    /* Chaining depends on order. */
    uint64_t ab = gc_checksum(buf + 100, 50, gc_checksum(buf, 100, 7));
    uint64_t ba = gc_checksum(buf, 100, gc_checksum(buf + 100, 50, 7));
    ck_assert_uint_ne(ab, ba);
}
END_TEST

/* gc_checksum is a fixed function, not just some hash: `fill = random`
 * entries get their seed from it (cases/README.md, Seeds), so a printed
 * replay command rebuilds the same bytes only while it stays the same.
 * Expected values come from an independent Python reimplementation of the
 * algorithm (64-bit arithmetic by masking Python integers; its splitmix64
 * reproduces the published seed-0 outputs checked above), not from this
 * code. The lengths reach every path: empty, tail only, exactly one word, one
 * 64-byte lane block, block + word + tail, several blocks; and a chain. */
START_TEST(checksum_known_answers)
{
    uint8_t seq[300];
    for (size_t i = 0; i < sizeof seq; i++)
        seq[i] = (uint8_t)i;
    static const struct {
        size_t len;
        uint64_t sum;
    } want[] = {
        {0, 0x1615B452635C6C06ull},  {3, 0x2E4810F94EFF9A7Cull},  {8, 0xB99D13D584994E47ull},
        {64, 0xAF9634B17D78A266ull}, {75, 0x597D10089FC1E045ull}, {300, 0xCEA898DFC77DA22Full},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        ck_assert_msg(gc_checksum(seq, want[k].len, GC_CHECKSUM_SEED) == want[k].sum,
                      "checksum of the first %zu sequence bytes is 0x%016llx, reference 0x%016llx",
                      want[k].len, (unsigned long long)gc_checksum(seq, want[k].len,
                                                                    GC_CHECKSUM_SEED),
                      (unsigned long long)want[k].sum);
    ck_assert_uint_eq(gc_checksum(seq + 100, 50, gc_checksum(seq, 100, 7)), 0x51593D469AAB3DD1ull);
}
END_TEST

START_TEST(sum64_adds_words_and_tail)
{
    uint8_t buf[37];
    uint64_t want = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i + 8 <= 32; i += 8) {
        uint64_t w;
        memcpy(&w, buf + i, 8);
        want += w;
    }
    uint64_t tail = 0;
    for (size_t i = 32; i < 37; i++)
        tail |= (uint64_t)buf[i] << (8 * (i - 32));
    ck_assert_uint_eq(gc_sum64(buf, sizeof buf), want + tail);
    ck_assert_uint_eq(gc_sum64(buf, 0), 0);
}
END_TEST

/* gc_sum64 is what pattern.h says at every length: the wrapping sum of the
 * buffer's 64-bit little-endian words, the last one zero padded, computed
 * here word by word from that sentence. Lengths 0 to 64 reach every shape
 * of blocks and tail (a tail of 9 to 15 bytes holds a whole word and a
 * part); every byte has its high bit set, so words overlap and carry. */
START_TEST(sum64_is_the_sum_of_words_at_every_length)
{
    uint8_t buf[64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(0x80 | (i * 37));
    for (size_t len = 0; len <= sizeof buf; len++) {
        uint64_t want = 0;
        for (size_t w = 0; w < len; w += 8) {
            uint64_t word = 0;
            for (size_t b = 0; b < 8 && w + b < len; b++)
                word |= (uint64_t)buf[w + b] << (8 * b);
            want += word;
        }
        ck_assert_msg(gc_sum64(buf, len) == want, "%zu bytes: 0x%016llx, sum of words 0x%016llx",
                      len, (unsigned long long)gc_sum64(buf, len), (unsigned long long)want);
    }
}
END_TEST

/* The one clock and the one median (measure.h) every part measures with. */
START_TEST(clock_and_median)
{
    uint64_t a = gc_now_ns(), b = gc_now_ns();
    ck_assert_uint_gt(a, 0);
    ck_assert_uint_ge(b, a);
    double odd[] = {5, 1, 3};
    ck_assert_double_eq(gc_median(odd, 3), 3);
    ck_assert_double_eq(odd[0], 1);   /* sorted in place: min first, max last */
    ck_assert_double_eq(odd[2], 5);
    double even[] = {4, 1, 3, 2};
    ck_assert_double_eq(gc_median(even, 4), 2.5);
    double one[] = {7};
    ck_assert_double_eq(gc_median(one, 1), 7);
    ck_assert_double_eq(gc_median(NULL, 0), 0);
}
END_TEST

/* Task deadlines and timings subtract gc_now_ns readings, so it must be
 * CLOCK_MONOTONIC (the wall clock can be stepped, and a step would stretch
 * or cut a deadline): a reading lies between two of that clock's taken
 * around it. */
START_TEST(now_reads_the_monotonic_clock)
{
    struct timespec a, b;
    ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &a), 0);
    uint64_t now = gc_now_ns();
    ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &b), 0);
    ck_assert_uint_ge(now, (uint64_t)a.tv_sec * 1000000000ull + (uint64_t)a.tv_nsec);
    ck_assert_uint_le(now, (uint64_t)b.tv_sec * 1000000000ull + (uint64_t)b.tv_nsec);
}
END_TEST

/* The median of an odd count is its middle value after sorting, for any odd
 * count (`--repeat N` timings are the median of N runs), not only 1 and 3;
 * expected values by hand. */
START_TEST(median_of_odd_counts)
{
    double five[] = {9, 2, 7, 4, 5};     /* sorted 2 4 5 7 9 */
    ck_assert_double_eq(gc_median(five, 5), 5);
    double seven[] = {70, 10, 60, 20, 50, 30, 40};   /* sorted 10 .. 70 */
    ck_assert_double_eq(gc_median(seven, 7), 40);
    ck_assert_double_eq(seven[0], 10);
    ck_assert_double_eq(seven[6], 70);
}
END_TEST

/* The census's descriptor ceiling and address space, which case limits are
 * headroom over: a new descriptor raises fd_top past it; VmSize is read. */
START_TEST(census_fd_top_and_vm)
{
    gc_census c;
    ck_assert_int_eq(gc_census_take(&c), GC_OK);
    ck_assert_int_gt(c.vm_kb, 0);
    ck_assert_int_ge(c.vm_kb, c.rss_kb);
    int fd = dup(2);
    ck_assert_int_ge(fd, 0);
    /* Above every descriptor open before; dup2 past the old top. */
    int high = dup2(fd, c.fd_top + 5);
    ck_assert_int_eq(high, c.fd_top + 5);
    gc_census d;
    ck_assert_int_eq(gc_census_take(&d), GC_OK);
    ck_assert_int_eq(d.fd_top, high + 1);
    ck_assert_int_eq(d.fds, c.fds + 2);
    close(high);
    close(fd);
}
END_TEST

/* Census counts are exact: each memfd counts once as a memfd, each live
 * child once (pids are digit runs in /proc: one run, one child), and a
 * descriptor at or above the soft limit is not counted (valgrind keeps its
 * own there). */
START_TEST(census_counts_exactly)
{
    gc_census a, b;
    ck_assert_int_eq(gc_census_take(&a), GC_OK);
    int mfd = memfd_create("census-test", MFD_CLOEXEC);
    ck_assert_int_ge(mfd, 0);
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            char c;
            close(gate[1]);
            _exit(read(gate[0], &c, 1) < 0);   /* returns when the parent closes the pipe */
        }
    }
    close(gate[0]);
    ck_assert_int_eq(gc_census_take(&b), GC_OK);
    ck_assert_int_eq(b.memfds, a.memfds + 1);
    ck_assert_int_eq(b.fds, a.fds + 2);   /* the memfd and the pipe's write end */
    ck_assert_int_eq(b.children, a.children + 2);
    close(gate[1]);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(waitpid(kids[i], NULL, 0), kids[i]);
    ck_assert_int_eq(gc_census_take(&b), GC_OK);
    ck_assert_int_eq(b.children, a.children);
    ck_assert_int_eq(b.fds, a.fds + 1);
    if (!gc_census_under_valgrind()) {
        struct rlimit old, low;
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
        int high = dup2(mfd, b.fd_top + 10);
        ck_assert_int_eq(high, b.fd_top + 10);
        low = old;
        low.rlim_cur = (rlim_t)high;   /* fd `high` is now at the limit, not below it */
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
        gc_census c;
        int rc = gc_census_take(&c);
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
        ck_assert_int_eq(rc, GC_OK);
        ck_assert_int_eq(c.fds, b.fds);
        ck_assert_int_lt(c.fd_top, high);
        close(high);
    }
    close(mfd);
}
END_TEST

/* A census taken when no descriptor can be opened (a case at its descriptor
 * limit, a process that leaked to the limit) cannot read /proc: it says so,
 * GC_ESYS with every count zeroed, and does not crash or return half-counted
 * figures. A soft RLIMIT_NOFILE of 0 refuses every new descriptor. */
START_TEST(census_without_descriptors_is_esys)
{
    struct rlimit old, none;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    none = old;
    none.rlim_cur = 0;
    gc_census c;
    memset(&c, 0x5A, sizeof c);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    int rc = gc_census_take(&c);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_int_eq(rc, GC_ESYS);
    gc_census zero;
    memset(&zero, 0, sizeof zero);
    ck_assert_mem_eq(&c, &zero, sizeof c);
    /* Nothing was held: the next census, with descriptors again, works. */
    ck_assert_int_eq(gc_census_take(&c), GC_OK);
    ck_assert_int_gt(c.fds, 0);
}
END_TEST

/* A line of /proc/self/maps longer than the census's read buffer (a file
 * mapped from a deep path) counts once: its tail is skipped, not read as a
 * line of its own. Here the tail reads like the line of a memfd mapping
 * (five fields, then the path "/memfd:decoy/f": the directories "a b c d e "
 * and "memfd:decoy" end the path), which a re-read tail would count; the
 * file is not one. */
START_TEST(census_long_maps_line_counts_once)
{
    enum { DEPTH = 23 };   /* 23 x 201 bytes: the path alone passes 4600 bytes */
    char top[] = "/tmp/gc-census-XXXXXX", comp[201];
    memset(comp, 'd', 200);
    comp[200] = '\0';
    ck_assert_ptr_nonnull(mkdtemp(top));
    const char *const last[] = {"a b c d e ", "memfd:decoy"};
    int dirs[DEPTH + 3];
    dirs[0] = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dirs[0], 0);
    for (int i = 1; i <= DEPTH + 2; i++) {
        const char *name = i <= DEPTH ? comp : last[i - DEPTH - 1];
        ck_assert_int_eq(mkdirat(dirs[i - 1], name, 0700), 0);
        dirs[i] = openat(dirs[i - 1], name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dirs[i], 0);
    }
    int fd = openat(dirs[DEPTH + 2], "f", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 4096), 0);
    gc_census before, after;
    ck_assert_int_eq(gc_census_take(&before), GC_OK);
    void *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(map, MAP_FAILED);
    ck_assert_int_eq(gc_census_take(&after), GC_OK);
    /* The premise: the kernel shows the whole path on one long line. */
    FILE *f = fopen("/proc/self/maps", "re");
    ck_assert_ptr_nonnull(f);
    char *line = NULL;
    size_t cap = 0, longest = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0)
        if (strstr(line, "/a b c d e /memfd:decoy/f") && (size_t)n > longest)
            longest = (size_t)n;
    free(line);
    fclose(f);
    ck_assert_int_eq(munmap(map, 4096), 0);
    close(fd);
    ck_assert_int_eq(unlinkat(dirs[DEPTH + 2], "f", 0), 0);
    for (int i = DEPTH + 2; i >= 1; i--) {
        close(dirs[i]);
        ck_assert_int_eq(unlinkat(dirs[i - 1], i <= DEPTH ? comp : last[i - DEPTH - 1],
                                  AT_REMOVEDIR), 0);
    }
    close(dirs[0]);
    ck_assert_int_eq(rmdir(top), 0);
    ck_assert_uint_gt(longest, 4600);
    ck_assert_int_eq(after.maps, before.maps);
}
END_TEST

/* A memfd is what the kernel names one, "/memfd:NAME (deleted)", in a
 * descriptor's link and a mapping's path: a file whose path merely contains
 * "memfd:" (here /tmp/gc-census-XXXXXX/memfd:decoy), open and mapped, is a
 * descriptor and no memfd, its mapping no memfd mapping; a real memfd beside
 * it counts once as each. */
START_TEST(census_counts_only_real_memfds)
{
    char dir[] = "/tmp/gc-census-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/memfd:decoy", dir);
    gc_census before, after;
    ck_assert_int_eq(gc_census_take(&before), GC_OK);
    int fds[2];
    fds[0] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    fds[1] = memfd_create("census-real", MFD_CLOEXEC);
    void *maps[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_ge(fds[i], 0);
        ck_assert_int_eq(ftruncate(fds[i], 4096), 0);
        maps[i] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
        ck_assert_ptr_ne(maps[i], MAP_FAILED);
    }
    ck_assert_int_eq(gc_census_take(&after), GC_OK);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(munmap(maps[i], 4096), 0);
        close(fds[i]);
    }
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
    ck_assert_int_eq(after.fds, before.fds + 2);
    ck_assert_int_eq(after.memfds, before.memfds + 1);
    ck_assert_int_eq(after.maps, before.maps + 1);
}
END_TEST

/* The census's resident set size is the process's: 32 MiB written to fresh
 * pages show up in it (reports use it to show memory stays flat). */
START_TEST(census_rss_follows_resident_memory)
{
    const size_t size = 32u << 20;
    gc_census a, b;
    ck_assert_int_eq(gc_census_take(&a), GC_OK);
    ck_assert_int_gt(a.rss_kb, 0);
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    memset(p, 1, size);
    ck_assert_int_eq(gc_census_take(&b), GC_OK);
    ck_assert_int_eq(munmap(p, size), 0);
    ck_assert_int_ge(b.rss_kb, a.rss_kb + 30 * 1024);
}
END_TEST

/* A child counts once whatever its pid's digits: 0 and 9, the ends of the
 * digit class, are digits like any other. A child is forked (and the misses
 * killed again) until its pid has `d` between two other digits, so a census
 * that took `d` for a separator would count it as two children. */
static pid_t child_with_inner_digit(char d, int gate[2])
{
    for (int tries = 0; tries < 5000; tries++) {
        pid_t p = fork();
        ck_assert_int_ge(p, 0);
        if (p == 0) {
            char c;
            close(gate[1]);
            _exit(read(gate[0], &c, 1) < 0);   /* returns when the parent closes the pipe */
        }
        char digits[16];
        snprintf(digits, sizeof digits, "%d", (int)p);
        int runs = 0;   /* runs of digits other than d */
        for (const char *c = digits; *c; c++)
            runs += *c != d && (c == digits || c[-1] == d);
        if (runs >= 2)
            return p;
        ck_assert_int_eq(kill(p, SIGKILL), 0);
        ck_assert_int_eq(waitpid(p, NULL, 0), p);
    }
    ck_abort_msg("no pid with an inner '%c' in 5000 forks", d);
    return -1;
}

START_TEST(census_counts_a_child_with_a_zero_or_nine_in_its_pid_once)
{
    gc_census a, b;
    ck_assert_int_eq(gc_census_take(&a), GC_OK);
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    pid_t kids[2] = {child_with_inner_digit('0', gate), child_with_inner_digit('9', gate)};
    close(gate[0]);
    ck_assert_int_eq(gc_census_take(&b), GC_OK);
    close(gate[1]);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(waitpid(kids[i], NULL, 0), kids[i]);
    ck_assert_int_eq(b.children, a.children + 2);
}
END_TEST

/* A census that could read only part of /proc is GC_ESYS with every count
 * zeroed, not half-counted figures a caller could take for real ones. With
 * one descriptor free (the soft limit just above the lowest free one) the
 * maps, the descriptors and the status are read, one file at a time, but a
 * thread's children file cannot be opened beside its directory. */
START_TEST(census_partly_read_is_esys_and_zeroed)
{
    if (gc_census_under_valgrind())
        return;   /* valgrind keeps its own descriptor limit */
    int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);   /* the lowest free descriptor */
    ck_assert_int_ge(probe, 0);
    close(probe);
    struct rlimit old, one;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    one = old;
    one.rlim_cur = (rlim_t)probe + 1;
    gc_census c;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &one), 0);
    int rc = gc_census_take(&c);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_int_eq(rc, GC_ESYS);
    gc_census zero;
    memset(&zero, 0, sizeof zero);
    ck_assert_mem_eq(&c, &zero, sizeof c);
}
END_TEST

Suite *suite_basics(void)
{
    Suite *s = suite_create("basics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, status_names_round_trip);
    tcase_add_test(tc, status_texts_exact);
    tcase_add_test(tc, err_set_and_clear);
    tcase_add_test(tc, names_validated);
    tcase_add_test(tc, long_name_refused_with_its_length);
    tcase_add_test(tc, pattern_slices_agree_with_whole);
    tcase_add_test(tc, random_pattern_is_published_splitmix64);
    tcase_add_test(tc, pattern_fill_writes_only_its_slice);
    tcase_add_test(tc, pattern_parse_rejects);
    tcase_add_test(tc, random_seeds_differ);
    tcase_add_test(tc, checksum_sensitive_and_chainable);
    tcase_add_test(tc, checksum_known_answers);
    tcase_add_test(tc, sum64_adds_words_and_tail);
    tcase_add_test(tc, sum64_is_the_sum_of_words_at_every_length);
    tcase_add_test(tc, clock_and_median);
    tcase_add_test(tc, now_reads_the_monotonic_clock);
    tcase_add_test(tc, median_of_odd_counts);
    tcase_add_test(tc, census_fd_top_and_vm);
    tcase_add_test(tc, census_counts_exactly);
    tcase_add_test(tc, census_counts_only_real_memfds);
    tcase_add_test(tc, census_without_descriptors_is_esys);
    tcase_add_test(tc, census_partly_read_is_esys_and_zeroed);
    tcase_add_test(tc, census_long_maps_line_counts_once);
    tcase_add_test(tc, census_rss_follows_resident_memory);
    tcase_add_test(tc, census_counts_a_child_with_a_zero_or_nine_in_its_pid_once);
    suite_add_tcase(s, tc);
    return s;
}
