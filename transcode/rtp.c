/* This file implements RTP header parsing for the converter and the 64-bit extension of
 * sequence numbers and timestamps (with 2^16 and 2^32 epochs: janus-pp-rec multiplies by
 * UINT32_MAX and loses one tick per timestamp wrap). */
#include "transcode/rtp.h"

#include <errno.h>

#include "common/bytes.h"

int tc_rtp_parse(const uint8_t *p, size_t len, struct tc_rtp_hdr *h)
{
    if (len < TC_RTP_MIN || (p[0] >> 6) != 2)
        return -EBADMSG;
    bool padding = p[0] & 0x20, has_ext = p[0] & 0x10;
    size_t off = TC_RTP_MIN + 4u * (p[0] & 0x0f);
    h->marker = p[1] & 0x80;
    h->pt = p[1] & 0x7f;
    h->seq = rd_u16(p + 2);
    h->ts = rd_u32(p + 4);
    h->ssrc = rd_u32(p + 8);
    h->ext = NULL;
    h->ext_len = 0;
    h->ext_profile = 0;
    if (off > len)
        return -EBADMSG;
    if (has_ext) {
        if (len - off < 4)
            return -EBADMSG;
        h->ext_profile = rd_u16(p + off);
        size_t words = rd_u16(p + off + 2);
        off += 4;
        if (words * 4 > len - off)
            return -EBADMSG;
        h->ext = p + off;
        h->ext_len = words * 4;
        off += words * 4;
    }
    size_t end = len;
    if (padding) {
        uint8_t pad = p[len - 1];
        if (pad == 0 || pad > end - off)
            return -EBADMSG;
        end -= pad;
    }
    h->payload = p + off;
    h->payload_len = end - off;
    return 0;
}

int tc_rtp_ext_find(const struct tc_rtp_hdr *h, unsigned id, const uint8_t **data)
{
    if (!h->ext || id == 0)
        return -ENOENT;
    bool one_byte = h->ext_profile == 0xBEDE;
    bool two_byte = (h->ext_profile & 0xfff0) == 0x1000;
    if (!one_byte && !two_byte)
        return -ENOENT;
    size_t i = 0;
    while (i < h->ext_len) {
        if (h->ext[i] == 0) { /* padding between elements */
            i++;
            continue;
        }
        unsigned eid, elen;
        if (one_byte) {
            eid = h->ext[i] >> 4;
            elen = (h->ext[i] & 0x0f) + 1u;
            if (eid == 15) /* reserved: stop parsing (RFC 8285 section 4.2) */
                return -ENOENT;
            i += 1;
        } else {
            if (i + 2 > h->ext_len)
                return -ENOENT;
            eid = h->ext[i];
            elen = h->ext[i + 1];
            i += 2;
        }
        if (elen > h->ext_len - i)
            return -ENOENT;
        if (eid == id) {
            *data = h->ext + i;
            return (int)elen;
        }
        i += elen;
    }
    return -ENOENT;
}

static uint64_t unwrap(struct tc_unwrap *u, uint64_t v, unsigned bits)
{
    uint64_t range = (uint64_t)1 << bits, half = range >> 1, mask = range - 1;
    if (!u->started) {
        u->started = true;
        u->highest = ((uint64_t)1 << 40) + v; /* a middle epoch: room below for late ones */
        return u->highest;
    }
    uint64_t diff = (v - u->highest) & mask; /* forward distance from the highest, mod range */
    uint64_t ext;
    if (diff < half) {
        ext = u->highest + diff;
        u->highest = ext;
    } else {
        ext = u->highest - (range - diff); /* older than the highest */
    }
    return ext;
}

uint64_t tc_unwrap_seq(struct tc_unwrap *u, uint16_t seq)
{
    return unwrap(u, seq, 16);
}

uint64_t tc_unwrap_ts(struct tc_unwrap *u, uint32_t ts)
{
    return unwrap(u, ts, 32);
}
