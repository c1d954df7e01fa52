/* transcode/rtp.h — RTP packets as recorded in MJR files: header parsing, header extensions,
 * and the extension of 16-bit sequence numbers and 32-bit timestamps to 64 bits.
 *
 * Parsing reads bytes with explicit big-endian readers and checks every length against the
 * packet (RFC 3550 section 5.1; extensions RFC 8285). Pointers in a parsed header borrow the
 * packet's bytes. Pure functions; any thread. */
#ifndef VB_TRANSCODE_RTP_H
#define VB_TRANSCODE_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_RTP_MIN 12

struct tc_rtp_hdr {
    bool marker;
    uint8_t pt;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    const uint8_t *ext; /* extension body (after the 4-byte extension header), or NULL */
    size_t ext_len;
    uint16_t ext_profile; /* 0xBEDE one-byte, 0x100x two-byte */
    const uint8_t *payload;
    size_t payload_len; /* padding removed; may be 0 (a padding-only packet) */
};

/* Parses an RTP packet. Returns 0, or -EBADMSG (version not 2, lengths past the end,
 * padding longer than the payload). */
int tc_rtp_parse(const uint8_t *p, size_t len, struct tc_rtp_hdr *h);

/* Finds extension element `id` (1-14 one-byte, 1-255 two-byte). Returns its length and sets
 * *data, or -ENOENT. */
int tc_rtp_ext_find(const struct tc_rtp_hdr *h, unsigned id, const uint8_t **data);

/* Extends wrapping counters to 64 bits: each new value is placed in the epoch that makes it
 * closest to the highest value seen (a difference of half the range or more is a wrap). The
 * first value starts in a middle epoch, so that reordered packets from before it stay
 * positive. Epochs are 2^16 for sequence numbers and 2^32 for timestamps. */
struct tc_unwrap {
    bool started;
    uint64_t highest;
};
uint64_t tc_unwrap_seq(struct tc_unwrap *u, uint16_t seq);
uint64_t tc_unwrap_ts(struct tc_unwrap *u, uint32_t ts);

#endif
