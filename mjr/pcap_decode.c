/* This file implements mjr_capture_decode_rtp(): from one captured record down to an RTP
 * packet, through the link layer, IPv4/IPv6 and UDP.
 *
 * DESIGN: each layer is a small function taking the bytes left and returning the offset of
 * the next layer, so no step can read past what the previous one proved to be there. The
 * IP and UDP length fields are honoured (and checked against the record): Ethernet padding
 * after a short datagram is not part of the RTP packet. Janus's pcap2mjr takes everything
 * up to the end of the frame instead, padding included, and assumes option-less IPv4 and
 * extension-less IPv6 headers; for ordinary captures both give the same bytes. */
#include <errno.h>
#include <stdbool.h>

#include "common/bytes.h"
#include "mjr/pcap_internal.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define IPPROTO_UDP_ 17
#define MAX_VLAN_TAGS 4
#define MAX_IPV6_EXTENSIONS 8

/* A view of the bytes left: [p, p + len). */
struct span {
    const uint8_t *p;
    size_t len;
};

static void span_skip(struct span *s, size_t n)
{
    s->p += n;
    s->len -= n;
}

/* Strips the link-layer header; returns the ethertype of what follows, or 0. */
static uint16_t link_strip(uint32_t link, struct span *s, const char **why)
{
    uint16_t type = 0;
    switch (link) {
    case MJR_LINK_ETHERNET:
        if (s->len < 14)
            break;
        type = rd_u16(s->p + 12);
        span_skip(s, 14);
        for (int i = 0; i < MAX_VLAN_TAGS && (type == 0x8100 || type == 0x88a8 || type == 0x9100);
             i++) {
            if (s->len < 4)
                return (*why = "cut-off VLAN tag", 0);
            type = rd_u16(s->p + 2);
            span_skip(s, 4);
        }
        return type;
    case MJR_LINK_LINUX_SLL:
        if (s->len < 16)
            break;
        type = rd_u16(s->p + 14);
        span_skip(s, 16);
        return type;
    case MJR_LINK_LINUX_SLL2:
        if (s->len < 20)
            break;
        type = rd_u16(s->p);
        span_skip(s, 20);
        return type;
    case MJR_LINK_RAW:
    case MJR_LINK_IPV4:
    case MJR_LINK_IPV6:
        if (s->len < 1)
            break;
        if (s->p[0] >> 4 == 4)
            return ETHERTYPE_IPV4;
        if (s->p[0] >> 4 == 6)
            return ETHERTYPE_IPV6;
        return (*why = "raw packet is not IP", 0);
    default:
        return (*why = "unsupported link type", 0);
    }
    return (*why = "record shorter than its link-layer header", 0);
}

/* Leaves `s` on the IPv4 payload; returns 0 or -ENOENT. */
static int ipv4_strip(struct span *s, const char **why)
{
    if (s->len < 20 || s->p[0] >> 4 != 4)
        return (*why = "bad IPv4 header", -ENOENT);
    size_t ihl = (size_t)(s->p[0] & 0x0f) * 4;
    size_t total = rd_u16(s->p + 2);
    if (total == 0) /* segmentation offload: the length was never filled in */
        total = s->len;
    if (ihl < 20 || total < ihl || total > s->len)
        return (*why = "bad IPv4 lengths", -ENOENT);
    if (rd_u16(s->p + 6) & 0x3fff)
        return (*why = "IPv4 fragment", -ENOENT);
    if (s->p[9] != IPPROTO_UDP_)
        return (*why = "not UDP", -ENOENT);
    s->len = total;
    span_skip(s, ihl);
    return 0;
}

/* Leaves `s` on the UDP header after the IPv6 header and its extension headers. */
static int ipv6_strip(struct span *s, const char **why)
{
    if (s->len < 40 || s->p[0] >> 4 != 6)
        return (*why = "bad IPv6 header", -ENOENT);
    size_t plen = rd_u16(s->p + 4);
    uint8_t next = s->p[6];
    if (plen == 0) /* jumbogram or segmentation offload */
        plen = s->len - 40;
    if (plen > s->len - 40)
        return (*why = "bad IPv6 payload length", -ENOENT);
    s->len = 40 + plen;
    span_skip(s, 40);
    for (int i = 0; i < MAX_IPV6_EXTENSIONS; i++) {
        size_t hlen;
        switch (next) {
        case IPPROTO_UDP_:
            return 0;
        case 0:   /* hop-by-hop options */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (s->len < 2)
                return (*why = "cut-off IPv6 extension header", -ENOENT);
            hlen = ((size_t)s->p[1] + 1) * 8;
            break;
        case 44: /* fragment */
            if (s->len < 8)
                return (*why = "cut-off IPv6 extension header", -ENOENT);
            if (rd_u16(s->p + 2) & 0xfff9)
                return (*why = "IPv6 fragment", -ENOENT);
            hlen = 8;
            break;
        case 51: /* authentication header */
            if (s->len < 2)
                return (*why = "cut-off IPv6 extension header", -ENOENT);
            hlen = ((size_t)s->p[1] + 2) * 4;
            break;
        case 50:
            return (*why = "IPv6 ESP (encrypted)", -ENOENT);
        default:
            return (*why = "not UDP", -ENOENT);
        }
        if (hlen > s->len)
            return (*why = "cut-off IPv6 extension header", -ENOENT);
        next = s->p[0];
        span_skip(s, hlen);
    }
    return (*why = "too many IPv6 extension headers", -ENOENT);
}

/* Ports of protocols whose packets can start like RTP version 2 (a DNS query id of 0x80xx,
 * say): never taken for media, so SSRC autodetection does not lock onto them. */
static bool port_excluded(uint16_t port)
{
    static const uint16_t ports[] = {0, 53, 67, 68, 123, 137, 138, 161, 162, 514, 1900, 5353, 5355};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
        if (port == ports[i])
            return true;
    return false;
}

bool mjr_capture_link_supported(uint32_t link)
{
    return link == MJR_LINK_ETHERNET || link == MJR_LINK_LINUX_SLL || link == MJR_LINK_LINUX_SLL2 ||
           link == MJR_LINK_RAW || link == MJR_LINK_IPV4 || link == MJR_LINK_IPV6;
}

int mjr_capture_decode_rtp(const struct mjr_capture_packet *p, struct mjr_capture_rtp *out,
                           const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    struct span s = {p->data, p->caplen};
    uint16_t type = link_strip(p->link, &s, why);
    if (type == 0 && *why)
        return -ENOENT;
    int rc;
    if (type == ETHERTYPE_IPV4)
        rc = ipv4_strip(&s, why);
    else if (type == ETHERTYPE_IPV6)
        rc = ipv6_strip(&s, why);
    else
        return (*why = "not IP", -ENOENT);
    if (rc < 0)
        return rc;
    if (s.len < 8)
        return (*why = "cut-off UDP header", -ENOENT);
    size_t ulen = rd_u16(s.p + 4);
    if (ulen == 0 && type == ETHERTYPE_IPV6) /* jumbogram */
        ulen = s.len;
    if (ulen < 8 || ulen > s.len)
        return (*why = "bad UDP length", -ENOENT);
    uint16_t sport = rd_u16(s.p), dport = rd_u16(s.p + 2);
    if (port_excluded(sport) || port_excluded(dport))
        return (*why = "UDP port not used for RTP", -ENOENT);
    s.len = ulen;
    span_skip(&s, 8);
    if (s.len < 12)
        return (*why = "UDP payload too short for RTP", -ENOENT);
    if (s.p[0] >> 6 != 2)
        return (*why = "not RTP version 2", -ENOENT);
    uint8_t pt = s.p[1] & 0x7f;
    if (pt >= 64 && pt < 96)
        return (*why = "RTCP", -ENOENT);
    out->rtp = s.p;
    out->len = s.len;
    out->ssrc = rd_u32(s.p + 8);
    out->pt = pt;
    out->ipv6 = type == ETHERTYPE_IPV6;
    out->src_port = sport;
    out->dst_port = dport;
    return 0;
}
