/* This file implements tool_pcap, the helper of pcap_tshark.sh: it writes a capture with
 * gateway/media/pcap.h (RTP both ways on two m-lines, an SR+SDES compound and an RR, a NACK and
 * a PLI) and prints on stdout, one line per packet, what tshark must decode from it, as
 * tab-separated fields: ip.src ip.dst udp.srcport udp.dstport rtp.p_type rtp.ssrc rtp.seq
 * rtcp.pt rtcp.senderssrc frame.len frame.cap_len (lists comma-separated, empty when none).
 *
 * usage: tool_pcap OUT.pcap [TRUNCATE] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "gateway/media/pcap.h"

#define PEER_AUDIO 0x11111111u
#define OUR_AUDIO 0x22222222u
#define PEER_VIDEO 0x33333333u
#define OUR_VIDEO 0x44444444u

struct out {
    struct gw_pcap *c;
    size_t truncate;
};

/* Captures `p` and prints its line; `fields`: the five RTP / RTCP fields, tab-separated. */
static void put(struct out *o, enum gw_pcap_dir dir, bool rtcp, int mindex, const uint8_t *p,
                size_t len, const char *fields)
{
    gw_pcap_capture(o->c, dir, rtcp, mindex, p, len);
    bool out = dir == GW_PCAP_OUT;
    int us = GW_PCAP_PORT_US + 2 * mindex + rtcp, peer = GW_PCAP_PORT_PEER + 2 * mindex + rtcp;
    size_t cap = o->truncate && o->truncate < len ? o->truncate : len;
    printf("%s\t%s\t%d\t%d\t%s\t%zu\t%zu\n", out ? "10.0.0.2" : "10.0.0.1",
           out ? "10.0.0.1" : "10.0.0.2", out ? us : peer, out ? peer : us, fields, 42 + len,
           42 + cap);
}

static void rtp(struct out *o, enum gw_pcap_dir dir, int mindex, int pt, uint32_t ssrc,
                uint16_t seq, size_t len)
{
    uint8_t p[1200];
    memset(p, 0, sizeof p);
    p[0] = 0x80;
    p[1] = (uint8_t)pt;
    wr_u16(p + 2, seq);
    wr_u32(p + 4, (uint32_t)seq * 960);
    wr_u32(p + 8, ssrc);
    for (size_t i = 12; i < len; i++)
        p[i] = (uint8_t)(i + seq);
    char f[96];
    snprintf(f, sizeof f, "%d\t0x%08" PRIx32 "\t%u\t\t", pt, ssrc, seq);
    put(o, dir, false, mindex, p, len, f);
}

/* An RTCP header: version 2, count/format `rc`, type `pt`, `len` bytes in all. */
static void rtcp_hdr(uint8_t *p, int rc, int pt, size_t len, uint32_t sender)
{
    p[0] = (uint8_t)(0x80 | rc);
    p[1] = (uint8_t)pt;
    wr_u16(p + 2, (uint16_t)(len / 4 - 1));
    wr_u32(p + 4, sender);
}

static void rtcp_packets(struct out *o)
{
    uint8_t p[128];
    char f[96];
    /* SR + SDES(CNAME "peer") from the peer on m-line 0 */
    memset(p, 0, sizeof p);
    rtcp_hdr(p, 0, 200, 28, PEER_AUDIO);
    wr_u32(p + 8, 0xe8000000u); /* NTP seconds */
    wr_u32(p + 16, 123456);
    wr_u32(p + 20, 50);
    wr_u32(p + 24, 8000);
    rtcp_hdr(p + 28, 1, 202, 16, PEER_AUDIO);
    memcpy(p + 36, "\x01\x04peer", 6);
    snprintf(f, sizeof f, "\t\t\t200,202\t0x%08" PRIx32, PEER_AUDIO);
    put(o, GW_PCAP_IN, true, 0, p, 44, f);
    /* RR with one report block from us on m-line 0 */
    memset(p, 0, sizeof p);
    rtcp_hdr(p, 1, 201, 32, OUR_AUDIO);
    wr_u32(p + 8, PEER_AUDIO);
    wr_u32(p + 16, 1100);
    snprintf(f, sizeof f, "\t\t\t201\t0x%08" PRIx32, OUR_AUDIO);
    put(o, GW_PCAP_OUT, true, 0, p, 32, f);
    /* generic NACK and PLI from the peer about our video on m-line 1 */
    memset(p, 0, sizeof p);
    rtcp_hdr(p, 1, 205, 16, PEER_VIDEO);
    wr_u32(p + 8, OUR_VIDEO);
    wr_u16(p + 12, 7);
    snprintf(f, sizeof f, "\t\t\t205\t0x%08" PRIx32, PEER_VIDEO);
    put(o, GW_PCAP_IN, true, 1, p, 16, f);
    rtcp_hdr(p, 1, 206, 12, PEER_VIDEO);
    snprintf(f, sizeof f, "\t\t\t206\t0x%08" PRIx32, PEER_VIDEO);
    put(o, GW_PCAP_IN, true, 1, p, 12, f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: tool_pcap OUT.pcap [TRUNCATE]\n");
        return 2;
    }
    struct out o = {NULL, argc == 3 ? (size_t)strtoul(argv[2], NULL, 10) : 0};
    int err = gw_pcap_create(argv[1], o.truncate, 0, &o.c);
    if (err < 0) {
        fprintf(stderr, "tool_pcap: %s: %s\n", argv[1], strerror(-err));
        return 1;
    }
    for (uint16_t i = 0; i < 3; i++) {
        rtp(&o, GW_PCAP_IN, 0, 111, PEER_AUDIO, (uint16_t)(100 + i), 160);
        rtp(&o, GW_PCAP_OUT, 0, 111, OUR_AUDIO, (uint16_t)(5000 + i), 160);
        rtp(&o, GW_PCAP_IN, 1, 96, PEER_VIDEO, (uint16_t)(65534 + i), 1100);
        rtp(&o, GW_PCAP_OUT, 1, 96, OUR_VIDEO, (uint16_t)(7 + i), 1100);
    }
    rtcp_packets(&o);
    gw_pcap_destroy(o.c, true);
    return 0;
}
