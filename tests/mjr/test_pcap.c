/* This file implements the tests of the capture parser on synthetic captures built in
 * memory: classic pcap in both byte orders with µs and ns times, pcapng with several sections
 * and interfaces, every supported link type, IPv4 with options, IPv6 with extension headers,
 * VLAN tags, Ethernet padding; what it filters (RTCP, other RTP versions, short payloads,
 * fragments, non-UDP, excluded ports); damaged captures at every truncation offset and with
 * bogus lengths. The conversions through files are in test_pcap_convert.c. */
#include "tests/mjr/pcap_build.h"

/* ---- classic pcap ----------------------------------------------------------------------- */

static void test_pcap_orders_and_resolutions(void)
{
    for (int big = 0; big < 2; big++) {
        for (int nsec = 0; nsec < 2; nsec++) {
            struct mbuf cap = {0}, f1 = {0}, f2 = {0};
            frame_v4(&f1, 7, 0x11223344, 111, 40);
            frame_v4(&f2, 8, 0x11223344, 111, 41);
            pcap_header(&cap, big, nsec, MJR_LINK_ETHERNET, 65535);
            pcap_add(&cap, nsec, T0, &f1);
            pcap_add(&cap, nsec, T0 + 20001, &f2);
            struct mjr_capture *c = open_ok(&cap);
            ASSERT_EQ(mjr_capture_format(c), MJR_CAPTURE_PCAP);
            ASSERT_EQ(mjr_capture_link(c), MJR_LINK_ETHERNET);
            struct mjr_capture_packet p;
            struct mjr_capture_rtp rtp;
            ASSERT_EQ(mjr_capture_next(c, &p), 1);
            ASSERT_EQ(p.time_us, T0); /* ns: the extra 789 ns are truncated */
            ASSERT_EQ(p.index, 1);
            ASSERT_EQ(p.caplen, f1.len);
            ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
            ASSERT_UEQ(rtp.ssrc, 0x11223344);
            ASSERT_EQ(rtp.len, 52);
            ASSERT_EQ(rtp.pt, 111);
            ASSERT_EQ(rtp.src_port, 40000);
            ASSERT_EQ(rtp.dst_port, 50000);
            ASSERT_EQ(rd_u16(rtp.rtp + 2), 7);
            ASSERT_EQ(mjr_capture_next(c, &p), 1);
            ASSERT_EQ(p.time_us, T0 + 20001);
            ASSERT_EQ(p.index, 2);
            ASSERT_EQ(mjr_capture_next(c, &p), 0);
            ASSERT_EQ(mjr_capture_next(c, &p), 0);
            ASSERT_STREQ(mjr_capture_diag(c), "");
            mjr_capture_destroy(c);
            mb_free(&cap);
            mb_free(&f1);
            mb_free(&f2);
        }
    }
}

static void test_pcap_not_a_capture(void)
{
    static const uint8_t junk[] = "MJR00002 this is not a capture at all";
    struct mjr_capture *c = NULL;
    char err[200];
    ASSERT_EQ(mjr_capture_open_mem(junk, sizeof(junk), &c, err, sizeof(err)), -EBADMSG);
    ASSERT(strstr(err, "not a pcap") != NULL);
    ASSERT_EQ(mjr_capture_open_mem(junk, 3, &c, err, sizeof(err)), -EBADMSG);
    ASSERT_EQ(mjr_capture_open_mem(NULL, 0, &c, NULL, 0), -EBADMSG);
    struct mbuf cap = {0};
    pcap_header(&cap, false, false, 1, 65535);
    ASSERT_EQ(mjr_capture_open_mem(cap.p, 20, &c, err, sizeof(err)), -EBADMSG);
    cap.p[4] = 3; /* version 3.4 */
    ASSERT_EQ(mjr_capture_open_mem(cap.p, cap.len, &c, err, sizeof(err)), -EBADMSG);
    ASSERT(strstr(err, "version") != NULL);
    mb_free(&cap);
    ASSERT(mjr_capture_open_file("/nonexistent/x.pcap", &c, err, sizeof(err)) == -ENOENT);
}

/* ---- link types and network layers ------------------------------------------------------ */

static void test_link_types(void)
{
    struct mbuf r = {0}, u = {0}, ip4 = {0}, ip6 = {0};
    rtp_build(&r, 96, 1, 0, 0xCAFE, 20);
    udp_build(&u, 5004, 5006, &r);
    ipv4_build(&ip4, &u, 17, 0, 0);
    ipv6_build(&ip6, 17, NULL, 0, &u);
    for (int v6 = 0; v6 < 2; v6++) {
        const struct mbuf *ip = v6 ? &ip6 : &ip4;
        uint16_t et = v6 ? 0x86DD : 0x0800;
        struct mbuf pkts[6] = {{0}};
        uint32_t links[6] = {MJR_LINK_ETHERNET,  MJR_LINK_ETHERNET,
                             MJR_LINK_LINUX_SLL, MJR_LINK_LINUX_SLL2,
                             MJR_LINK_RAW,       v6 ? MJR_LINK_IPV6 : MJR_LINK_IPV4};
        eth_build(&pkts[0], et, ip, false);
        eth_build(&pkts[1], et, ip, true);
        /* SLL: type, ARPHRD, addr len, 8 address bytes, protocol */
        mb_n16(&pkts[2], 0);
        mb_n16(&pkts[2], 1);
        mb_n16(&pkts[2], 6);
        for (int i = 0; i < 8; i++)
            mb_u8(&pkts[2], 0xaa);
        mb_n16(&pkts[2], et);
        mb_put(&pkts[2], ip->p, ip->len);
        /* SLL2: protocol, reserved, ifindex, ARPHRD, type, addr len, 8 address bytes */
        mb_n16(&pkts[3], et);
        mb_n16(&pkts[3], 0);
        mb_n32(&pkts[3], 2);
        mb_n16(&pkts[3], 1);
        mb_u8(&pkts[3], 4);
        mb_u8(&pkts[3], 6);
        for (int i = 0; i < 8; i++)
            mb_u8(&pkts[3], 0xbb);
        mb_put(&pkts[3], ip->p, ip->len);
        mb_put(&pkts[4], ip->p, ip->len);
        mb_put(&pkts[5], ip->p, ip->len);
        for (int i = 0; i < 6; i++) {
            struct mbuf cap;
            one_record(&cap, links[i], &pkts[i]);
            struct mjr_capture_rtp rtp;
            const char *why = NULL;
            int rc = decode_single(&cap, &rtp, &why);
            if (rc != 0)
                fprintf(stderr, "link %u v6=%d: %s\n", links[i], v6, why);
            ASSERT_EQ(rc, 0);
            ASSERT_UEQ(rtp.ssrc, 0xCAFE);
            ASSERT_EQ(rtp.len, 32);
            ASSERT_EQ(rtp.ipv6, v6);
            ASSERT_EQ(rtp.dst_port, 5006);
            ASSERT(mjr_capture_link_supported(links[i]));
            mb_free(&cap);
            mb_free(&pkts[i]);
        }
    }
    /* An unsupported link type is recognised as such, per record and up front. */
    struct mbuf cap;
    one_record(&cap, 147 /* USER0 */, &ip4);
    struct mjr_capture_rtp rtp;
    const char *why = NULL;
    ASSERT_EQ(decode_single(&cap, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "unsupported link type");
    ASSERT(!mjr_capture_link_supported(147));
    mb_free(&cap);
    mb_free(&r);
    mb_free(&u);
    mb_free(&ip4);
    mb_free(&ip6);
}

/* Decodes an Ethernet frame carrying `l3` as `et`; returns the result and the reason. */
static int decode_eth(uint16_t et, const struct mbuf *l3, struct mjr_capture_rtp *rtp,
                      const char **why)
{
    struct mbuf pkt = {0}, cap;
    eth_build(&pkt, et, l3, false);
    one_record(&cap, MJR_LINK_ETHERNET, &pkt);
    int rc = decode_single(&cap, rtp, why);
    mb_free(&pkt);
    mb_free(&cap);
    return rc;
}

static void test_ipv4_options_fragments_padding(void)
{
    struct mbuf r = {0}, u = {0}, ip = {0};
    struct mjr_capture_rtp rtp;
    const char *why;
    rtp_build(&r, 0, 3, 0, 0xABC, 0); /* 12 bytes: the frame is padded below */
    udp_build(&u, 4000, 4002, &r);
    ipv4_build(&ip, &u, 17, 2, 0);
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), 0);
    ASSERT_EQ(rtp.len, 12);
    /* Ethernet padding after the datagram is not RTP payload. */
    mb_put(&ip, "\xee\xee\xee\xee\xee\xee", 6);
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), 0);
    ASSERT_EQ(rtp.len, 12);
    mb_free(&ip);
    ipv4_build(&ip, &u, 17, 0, 0x2000); /* more fragments */
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "IPv4 fragment");
    mb_free(&ip);
    ipv4_build(&ip, &u, 6, 0, 0); /* TCP */
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "not UDP");
    /* Total length past the record. */
    wr_u16(ip.p + 2, (uint16_t)(ip.len + 1));
    ip.p[9] = 17;
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "bad IPv4 lengths");
    /* A header length below 20. */
    wr_u16(ip.p + 2, (uint16_t)ip.len);
    ip.p[0] = 0x44;
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), -ENOENT);
    /* A UDP length past the datagram. */
    ip.p[0] = 0x45;
    wr_u16(ip.p + 20 + 4, 200);
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "bad UDP length");
    /* ARP is not IP. */
    ASSERT_EQ(decode_eth(0x0806, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "not IP");
    mb_free(&ip);
    mb_free(&u);
    mb_free(&r);
}

static void test_ipv6_extensions(void)
{
    struct mbuf r = {0}, u = {0}, ip = {0};
    struct mjr_capture_rtp rtp;
    const char *why;
    rtp_build(&r, 100, 9, 0, 0x600D, 16);
    udp_build(&u, 6000, 6002, &r);
    /* hop-by-hop (8 bytes) -> destination options (16 bytes) -> fragment (atomic) -> UDP */
    uint8_t ext[32] = {0};
    ext[0] = 60;
    ext[1] = 0;
    ext[8] = 44;
    ext[9] = 1;
    ext[24] = 17;
    ipv6_build(&ip, 0, ext, sizeof(ext), &u);
    ASSERT_EQ(decode_eth(0x86DD, &ip, &rtp, &why), 0);
    ASSERT_UEQ(rtp.ssrc, 0x600D);
    ASSERT_EQ(rtp.len, 28);
    mb_free(&ip);
    /* A non-first fragment is skipped. */
    ext[26] = 0x01;
    ext[27] = 0x00;
    ipv6_build(&ip, 0, ext, sizeof(ext), &u);
    ASSERT_EQ(decode_eth(0x86DD, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "IPv6 fragment");
    mb_free(&ip);
    /* ESP cannot be looked into. */
    ipv6_build(&ip, 50, NULL, 0, &u);
    ASSERT_EQ(decode_eth(0x86DD, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "IPv6 ESP (encrypted)");
    mb_free(&ip);
    /* An extension header longer than the packet. */
    uint8_t big_ext[8] = {17, 200};
    ipv6_build(&ip, 60, big_ext, sizeof(big_ext), &u);
    ASSERT_EQ(decode_eth(0x86DD, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "cut-off IPv6 extension header");
    /* A payload length past the record. */
    ip.p[6] = 17;
    wr_u16(ip.p + 4, 9000);
    ASSERT_EQ(decode_eth(0x86DD, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "bad IPv6 payload length");
    mb_free(&ip);
    mb_free(&u);
    mb_free(&r);
}

/* RTCP, other RTP versions, short payloads and excluded ports are not taken as RTP. */
static void test_rtp_filter(void)
{
    struct {
        uint8_t b0, pt;
        size_t plen;
        uint16_t sport, dport;
        const char *why; /* NULL: accepted */
    } cases[] = {
        {0x80, 111, 0, 4000, 4002, NULL},
        {0x80, 0x80 | 96, 0, 4000, 4002, NULL}, /* marker set, PT 96 */
        {0x80, 63, 0, 4000, 4002, NULL},
        {0x80, 200, 20, 4000, 4002, "RTCP"}, /* SR: 200 & 0x7f = 72 */
        {0x80, 64, 0, 4000, 4002, "RTCP"},
        {0x80, 95, 0, 4000, 4002, "RTCP"},
        {0x40, 96, 0, 4000, 4002, "not RTP version 2"},
        {0x80, 96, 0, 53, 4002, "UDP port not used for RTP"},
        {0x80, 96, 0, 4000, 5353, "UDP port not used for RTP"},
        {0x80, 96, 0, 0, 4002, "UDP port not used for RTP"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mbuf r = {0}, u = {0}, ip = {0};
        rtp_build(&r, cases[i].pt, 1, 0, 77, cases[i].plen);
        r.p[0] = cases[i].b0;
        udp_build(&u, cases[i].sport, cases[i].dport, &r);
        ipv4_build(&ip, &u, 17, 0, 0);
        struct mjr_capture_rtp rtp;
        const char *why = NULL;
        int rc = decode_eth(0x0800, &ip, &rtp, &why);
        if (cases[i].why) {
            ASSERT_EQ(rc, -ENOENT);
            ASSERT_STREQ(why, cases[i].why);
        } else {
            ASSERT_EQ(rc, 0);
            ASSERT_EQ(rtp.pt, cases[i].pt & 0x7f);
        }
        mb_free(&r);
        mb_free(&u);
        mb_free(&ip);
    }
    /* An 11-byte UDP payload. */
    struct mbuf r = {0}, u = {0}, ip = {0};
    rtp_build(&r, 96, 1, 0, 77, 0);
    r.len = 11;
    udp_build(&u, 4000, 4002, &r);
    ipv4_build(&ip, &u, 17, 0, 0);
    struct mjr_capture_rtp rtp;
    const char *why = NULL;
    ASSERT_EQ(decode_eth(0x0800, &ip, &rtp, &why), -ENOENT);
    ASSERT_STREQ(why, "UDP payload too short for RTP");
    mb_free(&r);
    mb_free(&u);
    mb_free(&ip);
}

/* ---- pcapng ----------------------------------------------------------------------------- */

static void test_pcapng(void)
{
    struct mbuf cap = {0}, f1 = {0}, f2 = {0};
    frame_v4(&f1, 1, 0xA, 111, 30);
    frame_v4(&f2, 2, 0xB, 111, 31);
    ng_shb(&cap, false);
    ng_idb(&cap, MJR_LINK_ETHERNET, 0, 9);  /* ns */
    ng_idb(&cap, MJR_LINK_ETHERNET, 0, -1); /* µs */
    ng_epb(&cap, 0, (uint64_t)T0 * 1000 + 999, &f1);
    /* an unknown block type is skipped */
    cap.big = false;
    mb_f32(&cap, 0x0BAD);
    mb_f32(&cap, 16);
    mb_f32(&cap, 0);
    mb_f32(&cap, 16);
    ng_epb(&cap, 1, (uint64_t)T0 + 5, &f2);
    /* a second section, big-endian, with a binary resolution (2^-10 s) and a simple block */
    ng_shb(&cap, true);
    ng_idb(&cap, MJR_LINK_ETHERNET, 0, 0x80 | 10);
    ng_epb(&cap, 0, (uint64_t)1700000000 * 1024 + 512, &f1);
    ng_spb(&cap, &f2);
    struct mjr_capture *c = open_ok(&cap);
    ASSERT_EQ(mjr_capture_format(c), MJR_CAPTURE_PCAPNG);
    struct mjr_capture_packet p;
    struct mjr_capture_rtp rtp;
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(p.time_us, T0);
    ASSERT_EQ(p.link, MJR_LINK_ETHERNET);
    ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
    ASSERT_UEQ(rtp.ssrc, 0xA);
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(p.time_us, T0 + 5);
    ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
    ASSERT_UEQ(rtp.ssrc, 0xB);
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(p.time_us, INT64_C(1700000000500000));
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(p.time_us, 0); /* simple packet blocks carry no time */
    ASSERT_EQ(p.caplen, f2.len);
    ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
    ASSERT_EQ(p.index, 4);
    ASSERT_EQ(mjr_capture_next(c, &p), 0);
    mjr_capture_destroy(c);

    /* The same bytes read from a file give the same records. */
    char path[] = "/tmp/vb_test_pcap_XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, cap.p, cap.len), (ssize_t)cap.len);
    close(fd);
    char err[200];
    ASSERT_EQ(mjr_capture_open_file(path, &c, err, sizeof(err)), 0);
    int n = 0;
    while (mjr_capture_next(c, &p) == 1) {
        ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
        n++;
    }
    ASSERT_EQ(n, 4);
    ASSERT_STREQ(mjr_capture_diag(c), "");
    mjr_capture_destroy(c);
    unlink(path);
    mb_free(&cap);
    mb_free(&f1);
    mb_free(&f2);
}

/* Damaged pcapng: each case must stop with -EBADMSG after `good` records. */
static void test_pcapng_damage(void)
{
    struct mbuf f = {0};
    frame_v4(&f, 1, 0xA, 111, 30);
    for (int kind = 0; kind < 6; kind++) {
        struct mbuf cap = {0};
        ng_shb(&cap, false);
        ng_idb(&cap, MJR_LINK_ETHERNET, 0, -1);
        ng_epb(&cap, 0, 1, &f);
        size_t at = cap.len;
        ng_epb(&cap, 0, 2, &f);
        switch (kind) {
        case 0: /* unknown interface */
            wr_le32(cap.p + at + 8, 5);
            break;
        case 1: /* block length not a multiple of 4 */
            wr_le32(cap.p + at + 4, 73);
            break;
        case 2: /* trailing length differs */
            wr_le32(cap.p + cap.len - 4, 999);
            break;
        case 3: /* captured length past the block */
            wr_le32(cap.p + at + 20, 4000);
            break;
        case 4: /* block length past the end of the file */
            wr_le32(cap.p + at + 4, 4096);
            break;
        case 5: /* huge block length */
            wr_le32(cap.p + at + 4, 0xfffffff0u);
            break;
        }
        struct mjr_capture *c = open_ok(&cap);
        struct mjr_capture_packet p;
        ASSERT_EQ(mjr_capture_next(c, &p), 1);
        ASSERT_EQ(mjr_capture_next(c, &p), -EBADMSG);
        ASSERT(mjr_capture_diag(c)[0] != '\0');
        ASSERT_EQ(mjr_capture_next(c, &p), -EBADMSG); /* sticky */
        mjr_capture_destroy(c);
        mb_free(&cap);
    }
    /* A packet before any interface, and a bad byte-order magic. */
    struct mbuf cap = {0};
    ng_shb(&cap, false);
    ng_epb(&cap, 0, 1, &f);
    struct mjr_capture *c = open_ok(&cap);
    struct mjr_capture_packet p;
    ASSERT_EQ(mjr_capture_next(c, &p), -EBADMSG);
    mjr_capture_destroy(c);
    wr_le32(cap.p + 8, 0x12345678);
    char err[200];
    ASSERT_EQ(mjr_capture_open_mem(cap.p, cap.len, &c, err, sizeof(err)), -EBADMSG);
    mb_free(&cap);
    mb_free(&f);
}

/* ---- damaged classic pcap --------------------------------------------------------------- */

static void test_pcap_bogus_lengths(void)
{
    struct mbuf f = {0};
    frame_v4(&f, 1, 0xA, 111, 30);
    /* caplen over the snapshot length */
    struct mbuf cap = {0};
    pcap_header(&cap, false, false, 1, 64);
    pcap_record(&cap, false, T0, &f, (uint32_t)f.len, (uint32_t)f.len);
    struct mjr_capture *c = open_ok(&cap);
    struct mjr_capture_packet p;
    ASSERT_EQ(mjr_capture_next(c, &p), -EBADMSG);
    ASSERT(strstr(mjr_capture_diag(c), "snapshot") != NULL);
    mjr_capture_destroy(c);
    mb_free(&cap);
    /* a huge caplen with snaplen 0 (unknown) */
    pcap_header(&cap, false, false, 1, 0);
    pcap_add(&cap, false, T0, &f);
    cap.big = false;
    mb_f32(&cap, 1);
    mb_f32(&cap, 2);
    mb_f32(&cap, 0x7fffffff);
    mb_f32(&cap, 0x7fffffff);
    c = open_ok(&cap);
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(mjr_capture_next(c, &p), -EBADMSG);
    mjr_capture_destroy(c);
    mb_free(&cap);
    /* caplen < origlen (cut by the snaplen): returned as such, and the RTP inside is cut */
    pcap_header(&cap, false, false, 1, 60);
    pcap_record(&cap, false, T0, &f, 60, (uint32_t)f.len);
    c = open_ok(&cap);
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(p.caplen, 60);
    ASSERT_EQ(p.origlen, f.len);
    struct mjr_capture_rtp rtp;
    ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), -ENOENT);
    mjr_capture_destroy(c);
    mb_free(&cap);
    mb_free(&f);
}

/* Where a unit (record or block) of a capture ends, and whether it is a packet. */
struct unit_end {
    size_t off;
    bool packet;
};

/* Cuts a capture at every offset: never a crash, exactly the whole packets before the cut,
 * and a cut inside a unit reported as damage. `header` bytes are needed to open at all. */
static void truncate_everywhere(const struct mbuf *cap, size_t header, const struct unit_end *u,
                                int n)
{
    for (size_t cut = 0; cut <= cap->len; cut++) {
        uint8_t *copy = xmalloc(cut ? cut : 1);
        memcpy(copy, cap->p, cut);
        struct mjr_capture *c = NULL;
        int orc = mjr_capture_open_mem(copy, cut, &c, NULL, 0);
        ASSERT_EQ(orc, cut < header ? -EBADMSG : 0);
        if (orc == 0) {
            int whole = 0;
            bool boundary = cut == header;
            for (int i = 0; i < n && u[i].off <= cut; i++) {
                whole += u[i].packet;
                boundary = u[i].off == cut;
            }
            struct mjr_capture_packet p;
            struct mjr_capture_rtp rtp;
            int got = 0, rc;
            while ((rc = mjr_capture_next(c, &p)) == 1) {
                got++;
                ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
            }
            ASSERT_EQ(got, whole);
            ASSERT_EQ(rc, boundary ? 0 : -EBADMSG);
            mjr_capture_destroy(c);
        }
        free(copy);
    }
}

static void test_truncation_everywhere(void)
{
    struct mbuf f1 = {0}, f2 = {0}, cap = {0};
    frame_v4(&f1, 1, 0xA, 111, 10);
    frame_v4(&f2, 2, 0xA, 111, 13);
    struct unit_end u[4];
    pcap_header(&cap, true, false, 1, 65535);
    size_t header = cap.len;
    pcap_add(&cap, false, T0, &f1);
    u[0] = (struct unit_end){cap.len, true};
    pcap_add(&cap, false, T0 + 1, &f2);
    u[1] = (struct unit_end){cap.len, true};
    truncate_everywhere(&cap, header, u, 2);
    mb_free(&cap);

    ng_shb(&cap, false);
    header = cap.len;
    ng_idb(&cap, MJR_LINK_ETHERNET, 0, 6);
    u[0] = (struct unit_end){cap.len, false};
    ng_epb(&cap, 0, 1, &f1);
    u[1] = (struct unit_end){cap.len, true};
    ng_spb(&cap, &f2);
    u[2] = (struct unit_end){cap.len, true};
    ng_epb(&cap, 0, 2, &f2);
    u[3] = (struct unit_end){cap.len, true};
    truncate_everywhere(&cap, header, u, 4);
    mb_free(&cap);
    mb_free(&f1);
    mb_free(&f2);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"pcap_orders_and_resolutions", test_pcap_orders_and_resolutions},
        {"pcap_not_a_capture", test_pcap_not_a_capture},
        {"link_types", test_link_types},
        {"ipv4_options_fragments_padding", test_ipv4_options_fragments_padding},
        {"ipv6_extensions", test_ipv6_extensions},
        {"rtp_filter", test_rtp_filter},
        {"pcapng", test_pcapng},
        {"pcapng_damage", test_pcapng_damage},
        {"pcap_bogus_lengths", test_pcap_bogus_lengths},
        {"truncation_everywhere", test_truncation_everywhere},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
