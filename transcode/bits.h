/* transcode/bits.h — an MSB-first bit reader over a bounded byte range, for codec headers
 * (H.264/H.265 SPS with Exp-Golomb codes, VP9 uncompressed header, AV1 sequence header).
 *
 * Reading past the end never reads memory: it yields zero bits and sets `overrun`, which the
 * caller checks once at the end of a header. Header-only; no allocation; any thread. */
#ifndef VB_TRANSCODE_BITS_H
#define VB_TRANSCODE_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tc_bits {
    const uint8_t *p;
    size_t len;   /* bytes */
    size_t pos;   /* bits consumed */
    bool overrun; /* a read went past the end */
};

static inline void tc_bits_init(struct tc_bits *b, const uint8_t *p, size_t len)
{
    b->p = p;
    b->len = len;
    b->pos = 0;
    b->overrun = false;
}

static inline unsigned tc_bits_u1(struct tc_bits *b)
{
    if (b->pos >= b->len * 8) {
        b->overrun = true;
        return 0;
    }
    unsigned v = (b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1u;
    b->pos++;
    return v;
}

/* n <= 32 bits, most significant first. */
static inline uint32_t tc_bits_u(struct tc_bits *b, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 1) | tc_bits_u1(b);
    return v;
}

static inline void tc_bits_skip(struct tc_bits *b, size_t n)
{
    if (b->pos + n > b->len * 8) {
        b->pos = b->len * 8;
        b->overrun = true;
        return;
    }
    b->pos += n;
}

/* Unsigned Exp-Golomb (ue(v)); more than 31 leading zeros counts as an overrun. */
static inline uint32_t tc_bits_ue(struct tc_bits *b)
{
    unsigned zeros = 0;
    while (tc_bits_u1(b) == 0) {
        if (b->overrun || ++zeros > 31) {
            b->overrun = true;
            return 0;
        }
    }
    return (uint32_t)(((uint64_t)1 << zeros) - 1 + tc_bits_u(b, zeros));
}

/* Signed Exp-Golomb (se(v)). */
static inline int32_t tc_bits_se(struct tc_bits *b)
{
    uint32_t k = tc_bits_ue(b);
    return (k & 1) ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

#endif
