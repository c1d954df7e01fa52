/* tests/mjr/pcap_build.h — building captures in memory for the pcap tests: a growable
 * buffer, RTP/UDP/IPv4/IPv6/Ethernet layers, classic pcap records and pcapng blocks, and small
 * helpers over the capture parser. Shared by test_pcap.c and test_pcap_convert.c. */
#ifndef VB_TESTS_MJR_PCAP_BUILD_H
#define VB_TESTS_MJR_PCAP_BUILD_H

#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/mjr.h"
#include "mjr/pcap_internal.h"
#include "tests/test.h"

#define T0 INT64_C(1700000000123456) /* capture time of the first packet, µs */

/* ---- building captures in memory -------------------------------------------------------- */

struct mbuf {
    uint8_t *p;
    size_t len, cap;
    bool big; /* byte order for the pcap/pcapng fields */
};

static inline void mb_put(struct mbuf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = xrealloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static inline void mb_u8(struct mbuf *b, uint8_t v)
{
    mb_put(b, &v, 1);
}

/* Network order. */
static inline void mb_n16(struct mbuf *b, uint16_t v)
{
    uint8_t t[2];
    wr_u16(t, v);
    mb_put(b, t, 2);
}

static inline void mb_n32(struct mbuf *b, uint32_t v)
{
    uint8_t t[4];
    wr_u32(t, v);
    mb_put(b, t, 4);
}

/* File order (b->big). */
static inline void mb_f16(struct mbuf *b, uint16_t v)
{
    uint8_t t[2];
    if (b->big)
        wr_u16(t, v);
    else
        wr_le16(t, v);
    mb_put(b, t, 2);
}

static inline void mb_f32(struct mbuf *b, uint32_t v)
{
    uint8_t t[4];
    if (b->big)
        wr_u32(t, v);
    else
        wr_le32(t, v);
    mb_put(b, t, 4);
}

static inline void mb_free(struct mbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* An RTP packet: version 2, `pt`, seq, ts, ssrc and `plen` payload bytes. */
static inline void rtp_build(struct mbuf *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                             size_t plen)
{
    mb_u8(b, 0x80);
    mb_u8(b, pt);
    mb_n16(b, seq);
    mb_n32(b, ts);
    mb_n32(b, ssrc);
    for (size_t i = 0; i < plen; i++)
        mb_u8(b, (uint8_t)(i * 7 + seq));
}

static inline void udp_build(struct mbuf *b, uint16_t sport, uint16_t dport, const struct mbuf *pl)
{
    mb_n16(b, sport);
    mb_n16(b, dport);
    mb_n16(b, (uint16_t)(8 + pl->len));
    mb_n16(b, 0);
    mb_put(b, pl->p, pl->len);
}

/* IPv4 with `opt_words` 4-byte option words, protocol `proto`, fragment field `frag`. */
static inline void ipv4_build(struct mbuf *b, const struct mbuf *l4, uint8_t proto, int opt_words,
                              uint16_t frag)
{
    size_t ihl = 20 + (size_t)opt_words * 4;
    mb_u8(b, (uint8_t)(0x40 | (ihl / 4)));
    mb_u8(b, 0);
    mb_n16(b, (uint16_t)(ihl + l4->len));
    mb_n16(b, 0x1234);
    mb_n16(b, frag);
    mb_u8(b, 64);
    mb_u8(b, proto);
    mb_n16(b, 0);
    mb_n32(b, 0xc0a80001);
    mb_n32(b, 0xc0a80002);
    for (int i = 0; i < opt_words; i++)
        mb_n32(b, 0x01010101); /* NOPs */
    mb_put(b, l4->p, l4->len);
}

/* IPv6 whose first next-header is `first`, followed by the extension bytes `ext` (which
 * must chain to `proto`) and the layer-4 bytes. */
static inline void ipv6_build(struct mbuf *b, uint8_t first, const uint8_t *ext, size_t ext_len,
                              const struct mbuf *l4)
{
    mb_n32(b, 0x60000000);
    mb_n16(b, (uint16_t)(ext_len + l4->len));
    mb_u8(b, first);
    mb_u8(b, 64);
    for (int i = 0; i < 8; i++)
        mb_n32(b, 0x20010db8 + (uint32_t)i);
    mb_put(b, ext, ext_len);
    mb_put(b, l4->p, l4->len);
}

static inline void eth_build(struct mbuf *b, uint16_t type, const struct mbuf *l3, bool vlan)
{
    for (int i = 0; i < 12; i++)
        mb_u8(b, (uint8_t)i);
    if (vlan) {
        mb_n16(b, 0x8100);
        mb_n16(b, 42);
    }
    mb_n16(b, type);
    mb_put(b, l3->p, l3->len);
}

/* A whole Ethernet/IPv4/UDP/RTP frame. */
static inline void frame_v4(struct mbuf *out, uint16_t seq, uint32_t ssrc, uint8_t pt, size_t plen)
{
    struct mbuf r = {0}, u = {0}, ip = {0};
    rtp_build(&r, pt, seq, seq * 960u, ssrc, plen);
    udp_build(&u, 40000, 50000, &r);
    ipv4_build(&ip, &u, 17, 0, 0x4000);
    eth_build(out, 0x0800, &ip, false);
    mb_free(&r);
    mb_free(&u);
    mb_free(&ip);
}

static inline void pcap_header(struct mbuf *b, bool big, bool nsec, uint32_t link, uint32_t snap)
{
    b->big = big;
    mb_f32(b, nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
    mb_f16(b, 2);
    mb_f16(b, 4);
    mb_f32(b, 0);
    mb_f32(b, 0);
    mb_f32(b, snap);
    mb_f32(b, link);
}

static inline void pcap_record(struct mbuf *b, bool nsec, int64_t t_us, const struct mbuf *pkt,
                               uint32_t caplen, uint32_t origlen)
{
    mb_f32(b, (uint32_t)(t_us / 1000000));
    mb_f32(b, (uint32_t)(t_us % 1000000) * (nsec ? 1000u : 1u) + (nsec ? 789u : 0u));
    mb_f32(b, caplen);
    mb_f32(b, origlen);
    mb_put(b, pkt->p, caplen < pkt->len ? caplen : pkt->len);
}

static inline void pcap_add(struct mbuf *b, bool nsec, int64_t t_us, const struct mbuf *pkt)
{
    pcap_record(b, nsec, t_us, pkt, (uint32_t)pkt->len, (uint32_t)pkt->len);
}

/* pcapng blocks. */
static inline void ng_shb(struct mbuf *b, bool big)
{
    b->big = big;
    mb_f32(b, 0x0A0D0D0A);
    mb_f32(b, 28);
    mb_f32(b, 0x1A2B3C4D);
    mb_f16(b, 1);
    mb_f16(b, 0);
    mb_f32(b, 0xffffffff);
    mb_f32(b, 0xffffffff);
    mb_f32(b, 28);
}

/* An interface; `tsresol` < 0 for none (µs). */
static inline void ng_idb(struct mbuf *b, uint16_t link, uint32_t snap, int tsresol)
{
    uint32_t len = 20 + (tsresol >= 0 ? 12 : 0);
    mb_f32(b, 1);
    mb_f32(b, len);
    mb_f16(b, link);
    mb_f16(b, 0);
    mb_f32(b, snap);
    if (tsresol >= 0) {
        mb_f16(b, 9);
        mb_f16(b, 1);
        uint8_t v[4] = {(uint8_t)tsresol, 0, 0, 0};
        mb_put(b, v, 4);
        mb_f32(b, 0); /* opt_endofopt */
    }
    mb_f32(b, len);
}

static inline void ng_epb(struct mbuf *b, uint32_t iface, uint64_t ts, const struct mbuf *pkt)
{
    size_t pad = (4 - pkt->len % 4) % 4;
    uint32_t len = (uint32_t)(32 + pkt->len + pad);
    mb_f32(b, 6);
    mb_f32(b, len);
    mb_f32(b, iface);
    mb_f32(b, (uint32_t)(ts >> 32));
    mb_f32(b, (uint32_t)ts);
    mb_f32(b, (uint32_t)pkt->len);
    mb_f32(b, (uint32_t)pkt->len);
    mb_put(b, pkt->p, pkt->len);
    for (size_t i = 0; i < pad; i++)
        mb_u8(b, 0);
    mb_f32(b, len);
}

static inline void ng_spb(struct mbuf *b, const struct mbuf *pkt)
{
    size_t pad = (4 - pkt->len % 4) % 4;
    uint32_t len = (uint32_t)(16 + pkt->len + pad);
    mb_f32(b, 3);
    mb_f32(b, len);
    mb_f32(b, (uint32_t)pkt->len);
    mb_put(b, pkt->p, pkt->len);
    for (size_t i = 0; i < pad; i++)
        mb_u8(b, 0);
    mb_f32(b, len);
}

/* ---- helpers over the parser ------------------------------------------------------------ */

static inline struct mjr_capture *open_ok(const struct mbuf *b)
{
    struct mjr_capture *c = NULL;
    char err[200] = "";
    int rc = mjr_capture_open_mem(b->p, b->len, &c, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "open: %s\n", err);
    ASSERT_EQ(rc, 0);
    return c;
}

/* The one record of `cap` decoded: returns the decode result and fills *rtp. */
static inline int decode_single(const struct mbuf *cap, struct mjr_capture_rtp *rtp,
                                const char **why)
{
    struct mjr_capture *c = open_ok(cap);
    struct mjr_capture_packet p;
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    int rc = mjr_capture_decode_rtp(&p, rtp, why);
    ASSERT_EQ(mjr_capture_next(c, &p), 0);
    mjr_capture_destroy(c);
    return rc;
}

/* A classic pcap of one record with link type `link` holding `pkt`. */
static inline void one_record(struct mbuf *cap, uint32_t link, const struct mbuf *pkt)
{
    memset(cap, 0, sizeof(*cap));
    pcap_header(cap, false, false, link, 65535);
    pcap_add(cap, false, T0, pkt);
}

#endif
