/* This file implements RTX (RFC 4588 section 4): unwrapping a retransmission received on its
 * own SSRC into the original packet, in place, and wrapping a stored packet for resending. */
#include "gateway/rtp/rtp.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

int gw_rtp_rtx_unwrap(uint8_t *pkt, size_t *len, struct gw_rtp_hdr *h, uint32_t ssrc, uint8_t pt)
{
    if (h->payload_len == 0)
        return -ENODATA;
    if (h->payload_len < 2)
        return -EBADMSG;
    uint16_t osn = rd_u16(pkt + h->payload_off);
    memmove(pkt + h->payload_off, pkt + h->payload_off + 2, *len - h->payload_off - 2);
    *len -= 2;
    h->payload_len -= 2;
    gw_rtp_set_seq(pkt, osn);
    gw_rtp_set_ssrc(pkt, ssrc);
    gw_rtp_set_pt(pkt, pt);
    h->seq = osn;
    h->ssrc = ssrc;
    h->pt = pt & 0x7f;
    return 0;
}

int gw_rtp_rtx_wrap(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap, uint32_t rtx_ssrc,
                    uint8_t rtx_pt, uint16_t rtx_seq)
{
    struct gw_rtp_hdr h;
    if (gw_rtp_parse(pkt, len, &h) < 0)
        return -EBADMSG;
    if (len > (size_t)INT32_MAX - 2)
        return -EMSGSIZE;
    if (cap < len + 2)
        return -ENOSPC;
    memcpy(out, pkt, h.payload_off);
    wr_u16(out + h.payload_off, h.seq);
    memcpy(out + h.payload_off + 2, pkt + h.payload_off, len - h.payload_off);
    gw_rtp_set_seq(out, rtx_seq);
    gw_rtp_set_ssrc(out, rtx_ssrc);
    gw_rtp_set_pt(out, rtx_pt);
    return (int)(len + 2);
}
