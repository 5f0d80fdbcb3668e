/* gapcheck engine: deterministic data patterns and checksums.
 *
 * Used to fill heavy entries ("zero", "sequence", "random:SEED"), by the
 * "fill" built-in process to write outputs, and to checksum entries. The
 * harness computes expected checksums in the main process with the same
 * functions over the state's own bytes, never from a hard-coded figure. */
#ifndef GAPCHECK_PATTERN_H
#define GAPCHECK_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gc_pattern_kind {
    GC_PATTERN_ZERO = 1,
    GC_PATTERN_SEQUENCE = 2,   /* byte at offset o is (uint8_t)o */
    /* Seeded and reproducible by any tool: the 8 bytes at block b = offset / 8
     * are splitmix64(seed ^ b), little-endian, where splitmix64(s) is what
     * Vigna's reference splitmix64.c next() returns when called with x = s. */
    GC_PATTERN_RANDOM = 3
} gc_pattern_kind;

typedef struct gc_pattern {
    gc_pattern_kind kind;
    uint64_t seed;
} gc_pattern;

/* Parse "zero", "sequence" or "random:SEED" (SEED decimal or 0x hex). */
int gc_pattern_parse(const char *spec, gc_pattern *out, gc_err *err);
/* Fill dst as if it were the bytes [offset, offset+len) of an infinite
 * stream of the pattern (so slices written separately agree). */
void gc_pattern_fill(const gc_pattern *p, void *dst, size_t len, uint64_t offset);
/* Byte at a given offset of the pattern's stream. */
uint8_t gc_pattern_byte(const gc_pattern *p, uint64_t offset);
/* Vigna's splitmix64 output for state x (the random pattern's mixer);
 * public so other seeds derived in gapcheck (the runner's per-case seeds)
 * use the same, tested function. */
uint64_t gc_splitmix64(uint64_t x);

/* 64-bit non-cryptographic checksum, chainable: pass the previous result as
 * seed to checksum several buffers as one. Eight lanes of 8 bytes. */
uint64_t gc_checksum(const void *data, size_t len, uint64_t seed);
/* Wrapping sum of the buffer's 64-bit little-endian words (the tail zero
 * padded): a pure read at memory bandwidth, for measuring reads, not for
 * telling buffers apart. */
uint64_t gc_sum64(const void *data, size_t len);
#define GC_CHECKSUM_SEED 0x9E3779B97F4A7C15ull

#ifdef __cplusplus
}
#endif
#endif
