/* Test helpers; see testutil.h. */
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int tu_fd_is_ours(int fd)
{
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) != 0 || (rlim_t)fd < rl.rlim_cur;
}

void tu_census_take(gc_census *c)
{
    ck_assert_int_eq(gc_census_take(c), GC_OK);
}

int tu_fd_count(void)
{
    gc_census c;
    tu_census_take(&c);
    return c.fds;
}

int tu_memfd_maps(void)
{
    gc_census c;
    tu_census_take(&c);
    return c.maps;
}

void tu_census_same(const gc_census *b, const gc_census *a)
{
    ck_assert_int_eq(a->fds, b->fds);
    ck_assert_int_eq(a->memfds, b->memfds);
    ck_assert_int_eq(a->maps, b->maps);
    ck_assert_int_eq(a->children, b->children);
}

gc_state *tu_state(size_t a_len, size_t b_len, size_t out_len)
{
    gc_state *st;
    gc_err err;
    ck_assert_int_eq(gc_state_new(&st, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "ms", 0, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "signal", 11, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "only_task", -1, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_int(st, "code", 3, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "name", "a", &err), GC_OK);
    ck_assert_int_eq(gc_state_set_str(st, "pattern", "sequence", &err), GC_OK);
    gc_zone *z;
    ck_assert_int_eq(gc_zone_new(&z, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "a", a_len, 0, &err), GC_OK);
    ck_assert_int_eq(gc_zone_declare(z, "b", b_len, 0, &err), GC_OK);
    if (out_len)
        ck_assert_int_eq(gc_zone_declare(z, "out", out_len, GC_ENTRY_OUTPUT, &err), GC_OK);
    ck_assert_int_eq(gc_zone_allocate(z, &err), GC_OK);
    void *p;
    size_t n;
    gc_pattern seq = {GC_PATTERN_SEQUENCE, 0}, rnd = {GC_PATTERN_RANDOM, 7};
    ck_assert_int_eq(gc_zone_fill(z, "a", &p, &n, &err), GC_OK);
    gc_pattern_fill(&seq, p, n, 0);
    ck_assert_int_eq(gc_zone_fill(z, "b", &p, &n, &err), GC_OK);
    gc_pattern_fill(&rnd, p, n, 0);
    ck_assert_int_eq(gc_zone_publish(z, &err), GC_OK);
    ck_assert_int_eq(gc_state_set_heavy(st, z, &err), GC_OK);
    return st;
}

uint64_t tu_checksum(const gc_state *st, const char *const *names, size_t n)
{
    uint64_t h = GC_CHECKSUM_SEED;
    for (size_t i = 0; i < n; i++) {
        const void *d;
        size_t len;
        ck_assert_int_eq(gc_zone_read(gc_state_heavy(st), names[i], &d, &len, NULL), GC_OK);
        h = gc_checksum(d, len, h);
    }
    return h;
}
