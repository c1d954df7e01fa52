/* This file implements RTCP parsing: iterating the packets of a compound or reduced-size
 * (RFC 5506) buffer with every length checked, typing each packet (SR, RR, SDES, BYE, APP,
 * generic NACK, transport-cc, PLI, FIR, REMB) and the accessors of their variable parts.
 *
 * DESIGN: a block is an offset and a length into the caller's buffer plus the fixed fields
 * already decoded; lists (report blocks, NACK entries, SSRCs) are read on demand by index, so
 * the iterator needs no storage however long the packet is. The iterator checks each list's
 * size against the packet once, which is what makes the unchecked accessor reads safe. */
#include "gateway/rtp/rtcp.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

#define REPORT_SIZE 24
#define SR_FIXED 28 /* header, SSRC, sender info */
#define RR_FIXED 8
#define FB_FIXED 12 /* header, sender SSRC, media SSRC */

void gw_rtcp_iter_init(struct gw_rtcp_iter *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = len;
    it->pos = 0;
}

static int parse_sr_rr(const uint8_t *p, size_t body, struct gw_rtcp_block *b)
{
    size_t fixed = b->type == GW_RTCP_SR ? SR_FIXED : RR_FIXED;
    if (body < fixed + (size_t)b->count * REPORT_SIZE)
        return -EBADMSG;
    b->kind = b->type == GW_RTCP_SR ? GW_RTCP_KIND_SR : GW_RTCP_KIND_RR;
    b->ssrc = rd_u32(p + 4);
    b->reports = b->count;
    if (b->type == GW_RTCP_SR) {
        b->sr.ssrc = b->ssrc;
        b->sr.ntp = rd_u64(p + 8);
        b->sr.rtp_ts = rd_u32(p + 16);
        b->sr.packets = rd_u32(p + 20);
        b->sr.octets = rd_u32(p + 24);
    }
    return 0;
}

static uint64_t remb_bitrate(unsigned exp, uint32_t mantissa)
{
    if (exp > 46 && (mantissa >> (64 - exp)) != 0)
        return UINT64_MAX;
    return (uint64_t)mantissa << exp;
}

/* PSFB application layer feedback: REMB when the FCI says so, else OTHER. */
static int parse_afb(const uint8_t *p, size_t body, struct gw_rtcp_block *b)
{
    const uint8_t *fci = p + FB_FIXED;
    size_t fci_len = body - FB_FIXED;
    if (fci_len < 8 || memcmp(fci, "REMB", 4) != 0)
        return 0;
    unsigned n = fci[4];
    if (fci_len < 8 + 4 * (size_t)n)
        return -EBADMSG;
    uint32_t mantissa = ((uint32_t)(fci[5] & 0x03) << 16) | rd_u16(fci + 6);
    b->kind = GW_RTCP_KIND_REMB;
    b->items = n;
    b->remb_bitrate = remb_bitrate(fci[5] >> 2, mantissa);
    return 0;
}

static int parse_fb(const uint8_t *p, size_t body, struct gw_rtcp_block *b)
{
    if (body < FB_FIXED)
        return -EBADMSG;
    b->ssrc = rd_u32(p + 4);
    b->media_ssrc = rd_u32(p + 8);
    size_t fci_len = body - FB_FIXED;
    if (b->type == GW_RTCP_RTPFB) {
        if (b->count == GW_RTCP_FMT_NACK) {
            if (fci_len == 0 || fci_len % 4 != 0)
                return -EBADMSG;
            b->kind = GW_RTCP_KIND_NACK;
            b->items = (unsigned)(fci_len / 4);
        } else if (b->count == GW_RTCP_FMT_TWCC) {
            b->kind = GW_RTCP_KIND_TWCC;
        }
        return 0;
    }
    if (b->count == GW_RTCP_FMT_PLI) {
        b->kind = GW_RTCP_KIND_PLI;
    } else if (b->count == GW_RTCP_FMT_FIR) {
        if (fci_len == 0 || fci_len % 8 != 0)
            return -EBADMSG;
        b->kind = GW_RTCP_KIND_FIR;
        b->items = (unsigned)(fci_len / 8);
    } else if (b->count == GW_RTCP_FMT_AFB) {
        return parse_afb(p, body, b);
    }
    return 0;
}

/* Types the packet at p (body = its length without padding). */
static int parse_block(const uint8_t *p, size_t body, struct gw_rtcp_block *b)
{
    switch (b->type) {
    case GW_RTCP_SR:
    case GW_RTCP_RR:
        return parse_sr_rr(p, body, b);
    case GW_RTCP_SDES:
        b->kind = GW_RTCP_KIND_SDES;
        if (b->count > 0 && body >= 8)
            b->ssrc = rd_u32(p + 4);
        return 0;
    case GW_RTCP_BYE:
        if (body < 4 + 4 * (size_t)b->count)
            return -EBADMSG;
        b->kind = GW_RTCP_KIND_BYE;
        b->items = b->count;
        if (b->count > 0)
            b->ssrc = rd_u32(p + 4);
        return 0;
    case GW_RTCP_APP:
        if (body < 12)
            return -EBADMSG;
        b->kind = GW_RTCP_KIND_APP;
        b->ssrc = rd_u32(p + 4);
        return 0;
    case GW_RTCP_RTPFB:
    case GW_RTCP_PSFB:
        return parse_fb(p, body, b);
    default:
        return 0;
    }
}

int gw_rtcp_iter_next(struct gw_rtcp_iter *it, struct gw_rtcp_block *b)
{
    if (it->pos >= it->len)
        return 0;
    const uint8_t *p = it->buf + it->pos;
    size_t left = it->len - it->pos;
    if (left < 4 || (p[0] >> 6) != 2)
        goto bad;
    size_t plen = ((size_t)rd_u16(p + 2) + 1) * 4;
    if (plen > left)
        goto bad;
    size_t body = plen;
    if (p[0] & 0x20) { /* padding: only the last packet of a compound may have it */
        uint8_t pad = p[plen - 1];
        if (plen != left || pad == 0 || pad > plen - 4)
            goto bad;
        body -= pad;
    }
    memset(b, 0, sizeof *b);
    b->type = p[1];
    b->count = p[0] & 0x1f;
    b->off = it->pos;
    b->len = plen;
    if (parse_block(p, body, b) < 0)
        goto bad;
    it->pos += plen;
    return 1;
bad:
    it->pos = it->len;
    return -EBADMSG;
}

int gw_rtcp_validate(const uint8_t *buf, size_t len)
{
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    int n = 0, rc;
    gw_rtcp_iter_init(&it, buf, len);
    while ((rc = gw_rtcp_iter_next(&it, &b)) > 0)
        n++;
    if (rc < 0 || n == 0)
        return -EBADMSG;
    return n;
}

int gw_rtcp_block_report(const uint8_t *buf, const struct gw_rtcp_block *b, unsigned i,
                         struct gw_rtcp_report_block *out)
{
    if ((b->kind != GW_RTCP_KIND_SR && b->kind != GW_RTCP_KIND_RR) || i >= b->reports)
        return -EINVAL;
    size_t fixed = b->kind == GW_RTCP_KIND_SR ? SR_FIXED : RR_FIXED;
    const uint8_t *r = buf + b->off + fixed + (size_t)i * REPORT_SIZE;
    out->ssrc = rd_u32(r);
    out->fraction_lost = r[4];
    uint32_t lost = ((uint32_t)r[5] << 16) | ((uint32_t)r[6] << 8) | r[7];
    out->cumulative_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    out->highest_seq = rd_u32(r + 8);
    out->jitter = rd_u32(r + 12);
    out->lsr = rd_u32(r + 16);
    out->dlsr = rd_u32(r + 20);
    return 0;
}

size_t gw_rtcp_block_nack_seqs(const uint8_t *buf, const struct gw_rtcp_block *b, uint16_t *out,
                               size_t cap)
{
    if (b->kind != GW_RTCP_KIND_NACK)
        return 0;
    size_t n = 0;
    const uint8_t *fci = buf + b->off + FB_FIXED;
    for (unsigned i = 0; i < b->items && n < cap; i++, fci += 4) {
        uint16_t pid = rd_u16(fci), blp = rd_u16(fci + 2);
        out[n++] = pid;
        for (unsigned bit = 0; bit < 16 && n < cap; bit++)
            if (blp & (1u << bit))
                out[n++] = (uint16_t)(pid + bit + 1);
    }
    return n;
}

int gw_rtcp_block_fir(const uint8_t *buf, const struct gw_rtcp_block *b, unsigned i, uint32_t *ssrc,
                      uint8_t *seq_nr)
{
    if (b->kind != GW_RTCP_KIND_FIR || i >= b->items)
        return -EINVAL;
    const uint8_t *e = buf + b->off + FB_FIXED + (size_t)i * 8;
    *ssrc = rd_u32(e);
    *seq_nr = e[4];
    return 0;
}

int gw_rtcp_block_ssrc(const uint8_t *buf, const struct gw_rtcp_block *b, unsigned i,
                       uint32_t *ssrc)
{
    if (i >= b->items)
        return -EINVAL;
    if (b->kind == GW_RTCP_KIND_REMB)
        *ssrc = rd_u32(buf + b->off + FB_FIXED + 8 + (size_t)i * 4);
    else if (b->kind == GW_RTCP_KIND_BYE)
        *ssrc = rd_u32(buf + b->off + 4 + (size_t)i * 4);
    else
        return -EINVAL;
    return 0;
}
