/* Deterministic fill patterns and the chainable checksum. The random pattern is
 * a counter-based generator (splitmix64 of seed and the 8-byte block index), so
 * any slice can be produced independently and slices agree with the whole. */
#include "gapcheck/pattern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gapcheck/status.h"

static uint64_t splitmix64(uint64_t x)
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
    case GC_PATTERN_RANDOM: return (uint8_t)(splitmix64(p->seed ^ (offset >> 3)) >> (8 * (offset & 7)));
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
        uint64_t w = splitmix64(p->seed ^ ((offset + i) >> 3));
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

/* Four independent lanes over 32-byte blocks: the multiply chains overlap in
 * the pipeline, so a full read runs near memory bandwidth instead of being
 * bound by one dependent chain. */
uint64_t gc_checksum(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *s = data;
    uint64_t h0 = seed ^ (len * 0xC2B2AE3D27D4EB4Full);
    uint64_t h1 = h0 + 0x9E3779B97F4A7C15ull, h2 = h0 + 0xD6E8FEB86659FD93ull,
             h3 = h0 + 0xFF51AFD7ED558CCDull;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, s + i, 32);
        h0 = mix_word(h0, w[0]);
        h1 = mix_word(h1, w[1]);
        h2 = mix_word(h2, w[2]);
        h3 = mix_word(h3, w[3]);
    }
    /* Fold the lanes in order (not by XOR, which lets equal lanes cancel). */
    uint64_t h = mix_word(mix_word(mix_word(splitmix64(h0), h1), h2), h3);
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = mix_word(h, w);
    }
    uint64_t tail = 0;
    for (size_t b = 0; i < len; i++, b++)
        tail |= (uint64_t)s[i] << (8 * b);
    h = mix_word(h, tail);
    return splitmix64(h);
}
