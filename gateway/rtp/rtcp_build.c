/* This file implements the RTCP builders: SR, RR, SDES CNAME, BYE, generic NACK (with PID/BLP
 * packing), PLI, FIR and REMB, each appended to a caller's buffer so that several calls make a
 * compound packet. */
#include "gateway/rtp/rtcp.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

#define MAX_PACKET (65536u * 4) /* the 16-bit length field counts words minus one */

void gw_rtcp_writer_init(struct gw_rtcp_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->err = 0;
}

static int fail(struct gw_rtcp_writer *w, int err)
{
    if (w->err == 0)
        w->err = err;
    return err;
}

/* Room for a packet of `size` bytes (a multiple of 4), or NULL after recording -ENOSPC. */
static uint8_t *reserve(struct gw_rtcp_writer *w, size_t size)
{
    if (size > MAX_PACKET || size > w->cap - w->len) {
        fail(w, -ENOSPC);
        return NULL;
    }
    return w->buf + w->len;
}

static void put_header(uint8_t *p, unsigned count, uint8_t type, size_t size)
{
    p[0] = (uint8_t)(0x80 | (count & 0x1f));
    p[1] = type;
    wr_u16(p + 2, (uint16_t)(size / 4 - 1));
}

static void put_report(uint8_t *r, const struct gw_rtcp_report_block *rb)
{
    int32_t lost = rb->cumulative_lost;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    uint32_t l24 = (uint32_t)lost & 0xffffff;
    wr_u32(r, rb->ssrc);
    r[4] = rb->fraction_lost;
    r[5] = (uint8_t)(l24 >> 16);
    r[6] = (uint8_t)(l24 >> 8);
    r[7] = (uint8_t)l24;
    wr_u32(r + 8, rb->highest_seq);
    wr_u32(r + 12, rb->jitter);
    wr_u32(r + 16, rb->lsr);
    wr_u32(r + 20, rb->dlsr);
}

int gw_rtcp_write_sr(struct gw_rtcp_writer *w, const struct gw_rtcp_sr *sr,
                     const struct gw_rtcp_report_block *rb, unsigned n)
{
    if (n > GW_RTCP_MAX_REPORTS || (n && !rb))
        return fail(w, -EINVAL);
    size_t size = 28 + 24 * (size_t)n;
    uint8_t *p = reserve(w, size);
    if (!p)
        return -ENOSPC;
    put_header(p, n, GW_RTCP_SR, size);
    wr_u32(p + 4, sr->ssrc);
    wr_u64(p + 8, sr->ntp);
    wr_u32(p + 16, sr->rtp_ts);
    wr_u32(p + 20, sr->packets);
    wr_u32(p + 24, sr->octets);
    for (unsigned i = 0; i < n; i++)
        put_report(p + 28 + 24 * (size_t)i, &rb[i]);
    w->len += size;
    return 0;
}

int gw_rtcp_write_rr(struct gw_rtcp_writer *w, uint32_t ssrc, const struct gw_rtcp_report_block *rb,
                     unsigned n)
{
    if (n > GW_RTCP_MAX_REPORTS || (n && !rb))
        return fail(w, -EINVAL);
    size_t size = 8 + 24 * (size_t)n;
    uint8_t *p = reserve(w, size);
    if (!p)
        return -ENOSPC;
    put_header(p, n, GW_RTCP_RR, size);
    wr_u32(p + 4, ssrc);
    for (unsigned i = 0; i < n; i++)
        put_report(p + 8 + 24 * (size_t)i, &rb[i]);
    w->len += size;
    return 0;
}

int gw_rtcp_write_sdes_cname(struct gw_rtcp_writer *w, uint32_t ssrc, const char *cname)
{
    size_t clen = cname ? strlen(cname) : 0;
    if (clen == 0 || clen > 255)
        return fail(w, -EINVAL);
    /* chunk: SSRC, CNAME item (type, length, text), a null item, zeros to a word boundary */
    size_t chunk = (4 + 2 + clen + 1 + 3) & ~(size_t)3;
    size_t size = 4 + chunk;
    uint8_t *p = reserve(w, size);
    if (!p)
        return -ENOSPC;
    memset(p, 0, size);
    put_header(p, 1, GW_RTCP_SDES, size);
    wr_u32(p + 4, ssrc);
    p[8] = 1; /* CNAME */
    p[9] = (uint8_t)clen;
    memcpy(p + 10, cname, clen);
    w->len += size;
    return 0;
}

int gw_rtcp_write_bye(struct gw_rtcp_writer *w, uint32_t ssrc)
{
    uint8_t *p = reserve(w, 8);
    if (!p)
        return -ENOSPC;
    put_header(p, 1, GW_RTCP_BYE, 8);
    wr_u32(p + 4, ssrc);
    w->len += 8;
    return 0;
}

static void put_fb_header(uint8_t *p, uint8_t type, unsigned fmt, size_t size, uint32_t sender,
                          uint32_t media)
{
    put_header(p, fmt, type, size);
    wr_u32(p + 4, sender);
    wr_u32(p + 8, media);
}

/* Puts `seq` into the first PID/BLP entry of fci[0..*n) that covers it, or a new entry; false
 * when a new entry is needed and `max` are used. */
static bool nack_add(uint8_t *fci, size_t *n, size_t max, uint16_t seq)
{
    for (size_t i = 0; i < *n; i++) {
        uint8_t *e = fci + 4 * i;
        uint16_t d = (uint16_t)(seq - rd_u16(e));
        if (d == 0)
            return true;
        if (d <= 16) {
            wr_u16(e + 2, (uint16_t)(rd_u16(e + 2) | (1u << (d - 1))));
            return true;
        }
    }
    if (*n == max)
        return false;
    wr_u16(fci + 4 * *n, seq);
    wr_u16(fci + 4 * *n + 2, 0);
    (*n)++;
    return true;
}

int gw_rtcp_write_nack(struct gw_rtcp_writer *w, uint32_t sender, uint32_t media,
                       const uint16_t *seqs, size_t n)
{
    if (n == 0 || !seqs)
        return fail(w, -EINVAL);
    size_t room = w->cap - w->len;
    if (room > MAX_PACKET)
        room = MAX_PACKET;
    if (room < 16)
        return fail(w, -ENOSPC);
    uint8_t *p = w->buf + w->len;
    size_t max = (room - 12) / 4, used = 0;
    for (size_t i = 0; i < n; i++)
        if (!nack_add(p + 12, &used, max, seqs[i]))
            return fail(w, -ENOSPC);
    size_t size = 12 + 4 * used;
    put_fb_header(p, GW_RTCP_RTPFB, GW_RTCP_FMT_NACK, size, sender, media);
    w->len += size;
    return 0;
}

int gw_rtcp_write_pli(struct gw_rtcp_writer *w, uint32_t sender, uint32_t media)
{
    uint8_t *p = reserve(w, 12);
    if (!p)
        return -ENOSPC;
    put_fb_header(p, GW_RTCP_PSFB, GW_RTCP_FMT_PLI, 12, sender, media);
    w->len += 12;
    return 0;
}

int gw_rtcp_write_fir(struct gw_rtcp_writer *w, uint32_t sender, uint32_t media, uint8_t seq_nr)
{
    uint8_t *p = reserve(w, 20);
    if (!p)
        return -ENOSPC;
    /* RFC 5104 4.3.1: the header's media source is 0; the FCI names the SSRC */
    put_fb_header(p, GW_RTCP_PSFB, GW_RTCP_FMT_FIR, 20, sender, 0);
    wr_u32(p + 12, media);
    p[16] = seq_nr;
    p[17] = p[18] = p[19] = 0;
    w->len += 20;
    return 0;
}

int gw_rtcp_write_remb(struct gw_rtcp_writer *w, uint32_t sender, uint64_t bitrate,
                       const uint32_t *ssrcs, unsigned n)
{
    if (n == 0 || n > 255 || !ssrcs)
        return fail(w, -EINVAL);
    size_t size = 20 + 4 * (size_t)n;
    uint8_t *p = reserve(w, size);
    if (!p)
        return -ENOSPC;
    unsigned exp = 0;
    while ((bitrate >> exp) > 0x3ffff)
        exp++;
    uint32_t mantissa = (uint32_t)(bitrate >> exp);
    put_fb_header(p, GW_RTCP_PSFB, GW_RTCP_FMT_AFB, size, sender, 0);
    memcpy(p + 12, "REMB", 4);
    p[16] = (uint8_t)n;
    p[17] = (uint8_t)((exp << 2) | (mantissa >> 16));
    wr_u16(p + 18, (uint16_t)mantissa);
    for (unsigned i = 0; i < n; i++)
        wr_u32(p + 20 + 4 * (size_t)i, ssrcs[i]);
    w->len += size;
    return 0;
}
