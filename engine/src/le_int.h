/* Little-endian integers in messages: the one pair of primitives the wire
 * codec (wire.c) and the write-set codec (wset.c) share. */
#ifndef GAPCHECK_LE_INT_H
#define GAPCHECK_LE_INT_H

#include <stddef.h>
#include <stdint.h>

static inline void gc__le_put(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t gc__le_get(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#endif
