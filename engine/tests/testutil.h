/* Test helpers: a standard state with a heavy zone, and a census of the
 * process's descriptors, memfd mappings and children to prove nothing leaks. */
#ifndef GC_TESTUTIL_H
#define GC_TESTUTIL_H
#include <stddef.h>
#include <stdint.h>

#include "gapcheck/gapcheck.h"

/* Take the engine's census (gapcheck/census.h); ck_asserts it worked. */
void tu_census_take(gc_census *c);
/* ck_asserts that `after` equals `before` field by field. */
void tu_census_same(const gc_census *before, const gc_census *after);
/* Open descriptors and memfd mappings now, from the census. */
int tu_fd_count(void);
int tu_memfd_maps(void);
/* Descriptors the program may own: below the soft RLIMIT_NOFILE (valgrind
 * keeps its own descriptors above it). */
int tu_fd_is_ours(int fd);

/* A state with domain ms=int, signal=int, only_task=int, code=int,
 * name=str("a"), pattern=str("sequence") and a published zone with inputs
 * "a" (a_len bytes, sequence), "b" (b_len, random:7) and output "out"
 * (out_len; 0 = none). */
gc_state *tu_state(size_t a_len, size_t b_len, size_t out_len);
/* The checksum builtin's expected value over the given entries of st. */
uint64_t tu_checksum(const gc_state *st, const char *const *names, size_t n);
#endif
