/* Deterministic fill patterns and the chainable checksum. The random pattern is
 * a counter-based generator (splitmix64 of seed and the 8-byte block index), so
 * any slice can be produced independently and slices agree with the whole. */
#include "gapcheck/pattern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gapcheck/status.h"

uint64_t gc_splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

int gc_pattern_parse(const char *spec, gc_pattern *out, gc_err *err)
{
    if (!spec)
        return gc_err_set(err, GC_EINVAL, "fill pattern is missing");
    if (strcmp(spec, "zero") == 0) {
        *out = (gc_pattern){GC_PATTERN_ZERO, 0};
        return GC_OK;
    }
    if (strcmp(spec, "sequence") == 0) {
        *out = (gc_pattern){GC_PATTERN_SEQUENCE, 0};
        return GC_OK;
    }
    if (strncmp(spec, "random:", 7) == 0 && spec[7] != '\0' && spec[7] != '-') {
        char *end = NULL;
        errno = 0;
        unsigned long long seed = strtoull(spec + 7, &end, 0);
        if (errno == 0 && end && *end == '\0') {
            *out = (gc_pattern){GC_PATTERN_RANDOM, (uint64_t)seed};
            return GC_OK;
        }
    }
    return gc_err_set(err, GC_EINVAL,
                      "fill pattern '%s' is not one of zero, sequence, random:SEED", spec);
}

uint8_t gc_pattern_byte(const gc_pattern *p, uint64_t offset)
{
    switch (p->kind) {
    case GC_PATTERN_ZERO: return 0;
    case GC_PATTERN_SEQUENCE: return (uint8_t)offset;
    case GC_PATTERN_RANDOM: return (uint8_t)(gc_splitmix64(p->seed ^ (offset >> 3)) >> (8 * (offset & 7)));
    }
    return 0;
}

void gc_pattern_fill(const gc_pattern *p, void *dst, size_t len, uint64_t offset)
{
    uint8_t *d = dst;
    if (p->kind == GC_PATTERN_ZERO) {
        memset(d, 0, len);
        return;
    }
    if (p->kind == GC_PATTERN_SEQUENCE) {
        for (size_t i = 0; i < len; i++)
            d[i] = (uint8_t)(offset + i);
        return;
    }
    size_t i = 0;
    /* Head up to the next 8-byte block, then whole blocks, then the tail. */
    for (; i < len && ((offset + i) & 7) != 0; i++)
        d[i] = gc_pattern_byte(p, offset + i);
    for (; i + 8 <= len; i += 8) {
        uint64_t w = gc_splitmix64(p->seed ^ ((offset + i) >> 3));
        for (int b = 0; b < 8; b++)
            d[i + (size_t)b] = (uint8_t)(w >> (8 * b));
    }
    for (; i < len; i++)
        d[i] = gc_pattern_byte(p, offset + i);
}

static uint64_t mix_word(uint64_t h, uint64_t w)
{
    h ^= w * 0x87C37B91114253D5ull;
    return (h << 31 | h >> 33) * 0x4CF5AD432745937Full;
}

/* Eight independent lanes over 64-byte blocks: each lane's multiply chain is
 * about eight cycles deep, so eight lanes keep the multipliers busy and a
 * full read runs near memory bandwidth instead of being bound by one chain. */
#define CK_LANES 8
uint64_t gc_checksum(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *s = data;
    uint64_t h[CK_LANES];
    h[0] = seed ^ (len * 0xC2B2AE3D27D4EB4Full);
    for (int l = 1; l < CK_LANES; l++)
        h[l] = h[0] + (uint64_t)l * 0x9E3779B97F4A7C15ull;
    size_t i = 0;
    for (; i + 8 * CK_LANES <= len; i += 8 * CK_LANES) {
        uint64_t w[CK_LANES];
        memcpy(w, s + i, sizeof w);
        for (int l = 0; l < CK_LANES; l++)
            h[l] = mix_word(h[l], w[l]);
    }
    /* Fold the lanes in order (not by XOR, which lets equal lanes cancel). */
    uint64_t acc = gc_splitmix64(h[0]);
    for (int l = 1; l < CK_LANES; l++)
        acc = mix_word(acc, h[l]);
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc = mix_word(acc, w);
    }
    uint64_t tail = 0;
    for (size_t b = 0; i < len; i++, b++)
        tail |= (uint64_t)s[i] << (8 * b);
    acc = mix_word(acc, tail);
    return gc_splitmix64(acc);
}

uint64_t gc_sum64(const void *data, size_t len)
{
    const uint8_t *s = data;
    uint64_t a = 0, b = 0;
    size_t i = 0;
    /* Two independent sums let the compiler keep two adds in flight. */
    for (; i + 16 <= len; i += 16) {
        uint64_t w[2];
        memcpy(w, s + i, 16);
        a += w[0];
        b += w[1];
    }
    /* The tail (under 16 bytes) is up to two words, the last zero padded:
     * folding it into one word would OR bytes 8 apart instead of adding. */
    uint64_t tail[2] = {0, 0};
    for (size_t k = 0; i < len; i++, k++)
        tail[k >> 3] |= (uint64_t)s[i] << (8 * (k & 7));
    return a + b + tail[0] + tail[1];
}
