/* gapcheck fuzz targets: what the three targets share (fz_*). A target is
 * written once as LLVMFuzzerTestOneInput and linked three ways (AFL++
 * persistent mode, libFuzzer, the gcc replay driver), so this header also
 * declares that entry point; helpers here must behave the same under all
 * three drivers: no state that changes an input's verdict, no output unless
 * something is wrong, and abort() (never exit) on a violated property so
 * that every driver records it as a crash with a stack. */
#ifndef GAPCHECK_FUZZ_FZ_H
#define GAPCHECK_FUZZ_FZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a violated property on stderr and abort(). */
_Noreturn void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define FZ_CHECK(cond, ...) \
    do { if (!(cond)) fz_fail(__VA_ARGS__); } while (0)

/* A cheap per-iteration descriptor leak check: fz_fd_mark() records the
 * lowest free descriptor, fz_fd_check() fails if it is taken afterwards.
 * Any descriptor opened and left open by the code under test lands on the
 * lowest free slot, so one fcntl() catches it without listing /proc. */
int fz_fd_mark(void);
void fz_fd_check(int mark, const char *where);

/* Seal sets used by the engine (zone.h): a published input file and an
 * output file. */
#define FZ_SEALS_INPUT_ALL \
    (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)
#define FZ_SEALS_RESIZE (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* A memfd of `size` bytes whose first `len` bytes are `bytes` (the rest
 * zero), then sealed with `seals` (0: none). Returns the descriptor or -1.
 * The caller owns it. */
int fz_memfd(uint64_t size, const uint8_t *bytes, size_t len, int seals);

/* Cached descriptors, for targets whose inputs ask for files: making and
 * sealing a memfd costs five system calls and a shmem inode, most of an
 * iteration (measured with perf), while a fuzzer mutates the rest of a few
 * dozen corpus entries whose files stay the same. fz_memfd_cached returns a
 * descriptor from an LRU cache keyed by (key, size, seals, bytes), owned by
 * the cache, or -1. On a miss, a file whose bytes are not sealed (no
 * F_SEAL_WRITE or F_SEAL_FUTURE_WRITE) is not made afresh: one of the same
 * key and seals (and size, when that is sealed) is emptied and rewritten in
 * place, the same file a fresh one would be (size, seals, every byte); a
 * file with sealed bytes cannot change, so it is made anew (fuzz/test_fz.c
 * checks both). fz_pipe_cached: the read end of one pipe (a descriptor that
 * is not a file). fz_fd_mark_cached: fz_fd_mark, redone only when the cache
 * made a new descriptor or the slot was taken between iterations (one
 * fcntl). fz_cleanup() closes them all. This file is compiled without
 * coverage instrumentation (fuzz.mk) so that a hit or a miss is not new
 * coverage: AFL++ would see unstable edges. */
int fz_memfd_cached(unsigned key, uint64_t size, const uint8_t *bytes, size_t len, int seals);
int fz_pipe_cached(void);
int fz_fd_mark_cached(void);

/* Little-endian reader over a fuzz input that yields zeros once exhausted,
 * so every input decodes to some sequence of operations. */
typedef struct fz_in {
    const uint8_t *p;
    size_t len, pos;
} fz_in;
uint8_t fz_u8(fz_in *in);
uint16_t fz_u16(fz_in *in);
uint64_t fz_u64(fz_in *in);
size_t fz_left(const fz_in *in);
/* Up to n bytes (fewer when the input ends); *got says how many. */
const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got);

/* FZ_DEBUG=1 in the environment: targets say on stderr what the code under
 * test answered (why a seed is refused). Read once. */
int fz_debug(void);

/* Run and forget the cleanups targets registered (cached descriptors and
 * the like), so the replay driver can count descriptors after each input.
 * The fuzzing drivers never call it: caches survive between iterations. */
void fz_at_cleanup(void (*fn)(void));
void fz_cleanup(void);

/* ---- input formats, shared with the seed generator (gen_seeds.c) ---- */

/* context_decode: ctl u8 | in_pages u8 | out_pages u8 | mlen u16 |
 * mlen bytes written at offset 0 of the input file (its manifest) | message.
 * A pages byte gives (b & 0x7f) pages, plus one byte when b & 0x80 (a size
 * that is not whole pages). When mlen has bit 15 set (FZD_SYNTH), the input
 * file's manifest is instead made from the message itself (its generation,
 * the stated sizes and its entries), so that the decoder's own bounds checks
 * are reached without the fuzzer having to forge a matching manifest. */
#define FZD_SYNTH 0x8000u
#define FZD_IN_MASK 0x03u        /* input descriptor: */
#define FZD_IN_NONE 0x00u        /*   -1 */
#define FZD_IN_SEALED 0x01u      /*   memfd sealed as a published zone */
#define FZD_IN_RESIZE 0x02u      /*   memfd sealed against resizing only */
#define FZD_IN_OPEN 0x03u        /*   memfd without seals */
#define FZD_OUT_SHIFT 2          /* output descriptor (bits 2-3): */
#define FZD_OUT_NONE 0x00u       /*   -1 */
#define FZD_OUT_RESIZE 0x01u     /*   memfd sealed against resizing (as zone.c) */
#define FZD_OUT_RDONLY 0x02u     /*   also sealed against writing */
#define FZD_OUT_OPEN 0x03u       /*   memfd without seals */
#define FZD_PIPE 0x10u           /* the input descriptor is a pipe instead */
#define FZD_SAME_FD 0x20u        /* pass the input descriptor as output too */
#define FZD_FIX_TOTAL 0x40u      /* patch the message's total length field */
#define FZD_FIX_GEN 0x80u        /* copy the manifest's generation into it */
#define FZD_HEAD 5u

/* context_factory: a sequence of operations, each an opcode byte (taken
 * modulo FZF_OP_COUNT) and its operands; see context_factory.c. */
enum fzf_op {
    FZF_INT = 0,       /* name u8, value u64 */
    FZF_DOUBLE,        /* name u8, bits u64 */
    FZF_STR,           /* name u8, len u8, bytes (cut at the first NUL) */
    FZF_BYTES,         /* name u8, len u16 (mod GC_VALUE_BYTES_MAX+64), bytes */
    FZF_HEAVY,         /* name u8, size u16 (mod 3 pages+1), fill u8, seed u8 */
    FZF_OUTPUT,        /* name u8, size u16 (mod 3 pages+1) */
    FZF_READ_DOMAIN,   /* name u8 */
    FZF_READ_HEAVY,    /* name u8 */
    FZF_WRITE_OUTPUT,  /* name u8 */
    FZF_TASK,          /* task u8, ntasks u8 */
    FZF_OP_COUNT
};
/* Names are picked from a fixed pool by index (u8 modulo its size); the
 * pool mixes valid and invalid names so that both paths are exercised. */
#define FZF_NAME_POOL \
    "n", "ratio", "name", "blob", "large_data", "small.odd-name_1", "a", "b", \
    "result", "out.2", "x-y_z", \
    "k123456789012345678901234567890123456789012345678901234567890ab", \
    "", ".hidden", "bad name", "k1234567890123456789012345678901234567890123456789012345678901ab"

#endif
