/* This file implements RTP fixed-header parsing and validation (RFC 3550 section 5.1), the
 * rtcp-mux demultiplexing test (RFC 5761 section 4) and in-place rewriting of header fields. */
#include "gateway/rtp/rtp.h"

#include <errno.h>

#include "common/bytes.h"

/* Reads the extension block starting at `off`; advances *off past it. */
static int parse_extension(const uint8_t *pkt, size_t len, size_t *off, struct gw_rtp_hdr *h)
{
    if (len - *off < 4)
        return -EBADMSG;
    h->ext_off = *off;
    h->ext_profile = rd_u16(pkt + *off);
    size_t bytes = (size_t)rd_u16(pkt + *off + 2) * 4;
    *off += 4;
    if (bytes > len - *off)
        return -EBADMSG;
    h->ext_len = bytes;
    *off += bytes;
    return 0;
}

int gw_rtp_parse(const uint8_t *pkt, size_t len, struct gw_rtp_hdr *h)
{
    if (len < GW_RTP_HEADER_MIN || (pkt[0] >> 6) != 2 || (pkt[1] >= 192 && pkt[1] <= 223))
        return -EBADMSG;
    h->padding = pkt[0] & 0x20;
    h->extension = pkt[0] & 0x10;
    h->csrc_count = pkt[0] & 0x0f;
    h->marker = pkt[1] & 0x80;
    h->pt = pkt[1] & 0x7f;
    h->seq = rd_u16(pkt + 2);
    h->ts = rd_u32(pkt + 4);
    h->ssrc = rd_u32(pkt + 8);
    h->ext_profile = 0;
    h->ext_off = 0;
    h->ext_len = 0;
    h->pad_len = 0;
    size_t off = GW_RTP_HEADER_MIN + 4u * h->csrc_count;
    if (off > len)
        return -EBADMSG;
    if (h->extension && parse_extension(pkt, len, &off, h) < 0)
        return -EBADMSG;
    if (h->padding) {
        uint8_t pad = pkt[len - 1];
        if (pad == 0 || pad > len - off)
            return -EBADMSG;
        h->pad_len = pad;
    }
    h->payload_off = off;
    h->payload_len = len - off - h->pad_len;
    return 0;
}

bool gw_rtp_is_rtcp(const uint8_t *pkt, size_t len)
{
    return len >= 2 && (pkt[0] >> 6) == 2 && pkt[1] >= 192 && pkt[1] <= 223;
}

void gw_rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc)
{
    wr_u32(pkt + 8, ssrc);
}

void gw_rtp_set_seq(uint8_t *pkt, uint16_t seq)
{
    wr_u16(pkt + 2, seq);
}

void gw_rtp_set_ts(uint8_t *pkt, uint32_t ts)
{
    wr_u32(pkt + 4, ts);
}

void gw_rtp_set_pt(uint8_t *pkt, uint8_t pt)
{
    pkt[1] = (uint8_t)((pkt[1] & 0x80) | (pt & 0x7f));
}

void gw_rtp_set_marker(uint8_t *pkt, bool marker)
{
    pkt[1] = (uint8_t)((pkt[1] & 0x7f) | (marker ? 0x80 : 0));
}
