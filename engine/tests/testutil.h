/* Test helpers: a standard state with a heavy zone, and a census of the
 * process's descriptors, memfd mappings and children to prove nothing leaks. */
#ifndef GC_TESTUTIL_H
#define GC_TESTUTIL_H
#include <stddef.h>
#include <stdint.h>

#include "gapcheck/gapcheck.h"

typedef struct tu_census {
    int fds;        /* entries in /proc/self/fd */
    int memfd_fds;  /* of which memfd descriptors */
    int memfd_maps; /* memfd lines in /proc/self/maps */
    int children;   /* children of every thread */
} tu_census;

void tu_census_take(tu_census *c);
/* Descriptors the program may own: below the soft RLIMIT_NOFILE (valgrind
 * keeps its own descriptors above it). */
int tu_fd_is_ours(int fd);
/* ck_asserts that `after` equals `before` field by field. */
void tu_census_same(const tu_census *before, const tu_census *after);

/* A state with domain ms=int, signal=int, only_task=int, code=int,
 * name=str("a"), pattern=str("sequence") and a published zone with inputs
 * "a" (a_len bytes, sequence), "b" (b_len, random:7) and output "out"
 * (out_len; 0 = none). */
gc_state *tu_state(size_t a_len, size_t b_len, size_t out_len);
/* The checksum builtin's expected value over the given entries of st. */
uint64_t tu_checksum(const gc_state *st, const char *const *names, size_t n);
#endif
