/* Tests of gateway/rtp RTCP: every packet type both ways — hand-assembled byte vectors laid out
 * as in RFC 3550 (SR, RR, SDES, BYE), RFC 4585 (generic NACK, PLI), RFC 5104 (FIR) and the REMB
 * draft, compared with what the builders write and parsed back — plus NACK PID/BLP packing edge
 * cases, compound and reduced-size packets, malformed packets, SSRC rewriting and NTP/RTT. */
#include <errno.h>

#include "common/bytes.h"
#include "gateway/rtp/rtcp.h"
#include "tests/test.h"

#define S1 0x11111111u
#define S2 0x22222222u
#define S3 0x33333333u

/* Parses a buffer expected to hold exactly one block. */
static struct gw_rtcp_block one_block(const uint8_t *p, size_t len)
{
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, p, len);
    ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 1);
    struct gw_rtcp_block end;
    ASSERT_EQ(gw_rtcp_iter_next(&it, &end), 0);
    ASSERT_EQ(b.off, 0);
    ASSERT_EQ(b.len, len);
    return b;
}

/* An SR with one report block (RFC 3550 6.4.1), cumulative lost -3. */
static const uint8_t sr_vec[] = {
    0x81, 0xc8, 0x00, 0x0c,                         /* V=2 RC=1 PT=200 length 12 */
    0x11, 0x11, 0x11, 0x11,                         /* SSRC of sender */
    0xe9, 0x3c, 0x5a, 0x80, 0x80, 0x00, 0x00, 0x00, /* NTP 3913046656.5 */
    0x00, 0x01, 0x00, 0x00,                         /* RTP timestamp */
    0x00, 0x00, 0x01, 0x00,                         /* packet count 256 */
    0x00, 0x01, 0x00, 0x00,                         /* octet count 65536 */
    0x22, 0x22, 0x22, 0x22,                         /* SSRC_1 */
    0x40, 0xff, 0xff, 0xfd,                         /* fraction 64/256, cumulative -3 */
    0x00, 0x01, 0x00, 0x10,                         /* extended highest seq */
    0x00, 0x00, 0x00, 0x20,                         /* jitter */
    0x5a, 0x80, 0x80, 0x00,                         /* LSR */
    0x00, 0x01, 0x00, 0x00,                         /* DLSR 1 s */
};

static const struct gw_rtcp_report_block sr_rb = {
    .ssrc = S2,
    .fraction_lost = 64,
    .cumulative_lost = -3,
    .highest_seq = 0x10010,
    .jitter = 32,
    .lsr = 0x5a808000,
    .dlsr = 65536,
};

static void check_report(const struct gw_rtcp_report_block *a, const struct gw_rtcp_report_block *b)
{
    ASSERT_UEQ(a->ssrc, b->ssrc);
    ASSERT_EQ(a->fraction_lost, b->fraction_lost);
    ASSERT_EQ(a->cumulative_lost, b->cumulative_lost);
    ASSERT_UEQ(a->highest_seq, b->highest_seq);
    ASSERT_UEQ(a->jitter, b->jitter);
    ASSERT_UEQ(a->lsr, b->lsr);
    ASSERT_UEQ(a->dlsr, b->dlsr);
}

static void test_sr(void)
{
    struct gw_rtcp_block b = one_block(sr_vec, sizeof sr_vec);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_SR);
    ASSERT_UEQ(b.ssrc, S1);
    ASSERT_UEQ(b.sr.ntp, 0xe93c5a8080000000ull);
    ASSERT_EQ(b.sr.rtp_ts, 0x10000);
    ASSERT_EQ(b.sr.packets, 256);
    ASSERT_EQ(b.sr.octets, 65536);
    ASSERT_EQ(b.reports, 1);
    struct gw_rtcp_report_block rb;
    ASSERT_EQ(gw_rtcp_block_report(sr_vec, &b, 0, &rb), 0);
    check_report(&rb, &sr_rb);
    ASSERT_EQ(gw_rtcp_block_report(sr_vec, &b, 1, &rb), -EINVAL);

    struct gw_rtcp_sr sr = {S1, 0xe93c5a8080000000ull, 0x10000, 256, 65536};
    uint8_t buf[128];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_sr(&w, &sr, &sr_rb, 1), 0);
    ASSERT_EQ(w.len, sizeof sr_vec);
    ASSERT_MEMEQ(buf, sr_vec, sizeof sr_vec);
    ASSERT_EQ(gw_rtcp_write_sr(&w, &sr, &sr_rb, 32), -EINVAL);
    ASSERT_EQ(w.err, -EINVAL);
    ASSERT_EQ(w.len, sizeof sr_vec);
}

static void test_rr(void)
{
    static const uint8_t empty[] = {0x80, 0xc9, 0x00, 0x01, 0x11, 0x11, 0x11, 0x11};
    uint8_t buf[256];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_rr(&w, S1, NULL, 0), 0);
    ASSERT_EQ(w.len, 8);
    ASSERT_MEMEQ(buf, empty, 8);
    struct gw_rtcp_block b = one_block(buf, w.len);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_RR);
    ASSERT_EQ(b.reports, 0);

    /* the SR's report block in an RR: same 24 bytes after an 8-byte header */
    struct gw_rtcp_report_block rbs[2] = {sr_rb, sr_rb};
    rbs[1].ssrc = S3;
    rbs[1].cumulative_lost = 0x7fffff;
    rbs[1].fraction_lost = 255;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_rr(&w, S1, rbs, 2), 0);
    ASSERT_EQ(w.len, 56);
    ASSERT_EQ(buf[0], 0x82);
    ASSERT_EQ(buf[3], 13);
    ASSERT_MEMEQ(buf + 8, sr_vec + 28, 24);
    b = one_block(buf, w.len);
    ASSERT_EQ(b.reports, 2);
    struct gw_rtcp_report_block rb;
    ASSERT_EQ(gw_rtcp_block_report(buf, &b, 0, &rb), 0);
    check_report(&rb, &rbs[0]);
    ASSERT_EQ(gw_rtcp_block_report(buf, &b, 1, &rb), 0);
    check_report(&rb, &rbs[1]);

    /* cumulative loss beyond 24 bits is clamped */
    rbs[0].cumulative_lost = 20000000;
    rbs[1].cumulative_lost = -20000000;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_rr(&w, S1, rbs, 2), 0);
    b = one_block(buf, w.len);
    ASSERT_EQ(gw_rtcp_block_report(buf, &b, 0, &rb), 0);
    ASSERT_EQ(rb.cumulative_lost, 8388607);
    ASSERT_EQ(gw_rtcp_block_report(buf, &b, 1, &rb), 0);
    ASSERT_EQ(rb.cumulative_lost, -8388608);
}

static void test_sdes_bye(void)
{
    static const uint8_t sdes[] = {0x81, 0xca, 0x00, 0x03, 0x11, 0x11, 0x11, 0x11,
                                   0x01, 0x03, 'a',  'b',  'c',  0x00, 0x00, 0x00};
    static const uint8_t sdes4[] = {0x81, 0xca, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11, 0x01, 0x06,
                                    'a',  'b',  'c',  'd',  'e',  'f',  0x00, 0x00, 0x00, 0x00};
    static const uint8_t bye[] = {0x81, 0xcb, 0x00, 0x01, 0x22, 0x22, 0x22, 0x22};
    uint8_t buf[300];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_sdes_cname(&w, S1, "abc"), 0);
    ASSERT_EQ(w.len, sizeof sdes);
    ASSERT_MEMEQ(buf, sdes, sizeof sdes);
    struct gw_rtcp_block b = one_block(buf, w.len);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_SDES);
    ASSERT_UEQ(b.ssrc, S1);
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_sdes_cname(&w, S1, "abcdef"), 0); /* needs a whole null word */
    ASSERT_EQ(w.len, sizeof sdes4);
    ASSERT_MEMEQ(buf, sdes4, sizeof sdes4);
    ASSERT_EQ(gw_rtcp_write_sdes_cname(&w, S1, ""), -EINVAL);
    char longname[257];
    memset(longname, 'x', 256);
    longname[256] = '\0';
    ASSERT_EQ(gw_rtcp_write_sdes_cname(&w, S1, longname), -EINVAL);
    longname[255] = '\0';
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_sdes_cname(&w, S1, longname), 0);
    ASSERT_EQ(w.len % 4, 0);
    ASSERT_EQ(gw_rtcp_validate(buf, w.len), 1);

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_bye(&w, S2), 0);
    ASSERT_MEMEQ(buf, bye, sizeof bye);
    b = one_block(buf, w.len);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_BYE);
    ASSERT_EQ(b.items, 1);
    uint32_t ssrc;
    ASSERT_EQ(gw_rtcp_block_ssrc(buf, &b, 0, &ssrc), 0);
    ASSERT_UEQ(ssrc, S2);
    ASSERT_EQ(gw_rtcp_block_ssrc(buf, &b, 1, &ssrc), -EINVAL);
}

/* Builds a NACK for `seqs` and checks the FCI words against `fci` (PID << 16 | BLP). */
static void check_nack(const uint16_t *seqs, size_t n, const uint32_t *fci, size_t nfci)
{
    uint8_t buf[512];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_nack(&w, S1, S2, seqs, n), 0);
    ASSERT_EQ(w.len, 12 + 4 * nfci);
    ASSERT_EQ(buf[0], 0x81);
    ASSERT_EQ(buf[1], 205);
    ASSERT_EQ(rd_u16(buf + 2), 2 + nfci);
    ASSERT_UEQ(rd_u32(buf + 4), S1);
    ASSERT_UEQ(rd_u32(buf + 8), S2);
    for (size_t i = 0; i < nfci; i++)
        ASSERT_UEQ(rd_u32(buf + 12 + 4 * i), fci[i]);
    struct gw_rtcp_block b = one_block(buf, w.len);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_NACK);
    ASSERT_EQ(b.items, nfci);
    /* every requested number comes back, and nothing else */
    uint16_t out[17 * 64];
    size_t got = gw_rtcp_block_nack_seqs(buf, &b, out, sizeof out / sizeof out[0]);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < got; k++)
            found |= out[k] == seqs[i];
        ASSERT(found);
    }
    for (size_t k = 0; k < got; k++) {
        bool asked = false;
        for (size_t i = 0; i < n; i++)
            asked |= out[k] == seqs[i];
        ASSERT(asked);
    }
}

static void test_nack_packing(void)
{
    check_nack((const uint16_t[]){100, 101, 105, 116, 117, 200}, 6,
               (const uint32_t[]){(100u << 16) | 0x8011, 117u << 16, 200u << 16}, 3);
    check_nack((const uint16_t[]){65535, 0, 1, 15}, 4, (const uint32_t[]){0xffff8003u}, 1);
    check_nack((const uint16_t[]){5, 5, 5}, 3, (const uint32_t[]){5u << 16}, 1);
    check_nack((const uint16_t[]){10, 5, 6, 11}, 4,
               (const uint32_t[]){(10u << 16) | 1, (5u << 16) | 1}, 2);
    uint16_t run[40];
    for (int i = 0; i < 40; i++)
        run[i] = (uint16_t)(65530 + i);
    check_nack(run, 17, (const uint32_t[]){(65530u << 16) | 0xffff}, 1);
    check_nack(run, 18, (const uint32_t[]){(65530u << 16) | 0xffff, 11u << 16}, 2);
    check_nack(
        run, 40,
        (const uint32_t[]){(65530u << 16) | 0xffff, (11u << 16) | 0xffff, (28u << 16) | 0x1f}, 3);

    /* the expansion stops at the caller's capacity */
    uint8_t buf[64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_nack(&w, S1, S2, run, 17), 0);
    struct gw_rtcp_block b = one_block(buf, w.len);
    uint16_t out[17];
    ASSERT_EQ(gw_rtcp_block_nack_seqs(buf, &b, out, 5), 5);
    ASSERT_EQ(out[4], 65534);

    /* no numbers; no room (nothing appended, the error is kept) */
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_nack(&w, S1, S2, run, 0), -EINVAL);
    gw_rtcp_writer_init(&w, buf, 19);
    ASSERT_EQ(gw_rtcp_write_nack(&w, S1, S2, run, 18), -ENOSPC);
    ASSERT_EQ(w.len, 0);
    ASSERT_EQ(w.err, -ENOSPC);
    ASSERT_EQ(gw_rtcp_write_nack(&w, S1, S2, run, 17), 0); /* one entry fits */
    ASSERT_EQ(w.len, 16);
    ASSERT_EQ(w.err, -ENOSPC);
}

static void test_pli_fir(void)
{
    static const uint8_t pli[] = {0x81, 0xce, 0x00, 0x02, 0x11, 0x11,
                                  0x11, 0x11, 0x22, 0x22, 0x22, 0x22};
    static const uint8_t fir[] = {0x84, 0xce, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11, 0x00, 0x00,
                                  0x00, 0x00, 0x22, 0x22, 0x22, 0x22, 0x07, 0x00, 0x00, 0x00};
    uint8_t buf[64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_pli(&w, S1, S2), 0);
    ASSERT_EQ(w.len, sizeof pli);
    ASSERT_MEMEQ(buf, pli, sizeof pli);
    struct gw_rtcp_block b = one_block(buf, w.len);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_PLI);
    ASSERT_UEQ(b.ssrc, S1);
    ASSERT_UEQ(b.media_ssrc, S2);

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_fir(&w, S1, S2, 7), 0);
    ASSERT_EQ(w.len, sizeof fir);
    ASSERT_MEMEQ(buf, fir, sizeof fir);
    b = one_block(buf, w.len);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_FIR);
    ASSERT_EQ(b.items, 1);
    uint32_t ssrc;
    uint8_t seq;
    ASSERT_EQ(gw_rtcp_block_fir(buf, &b, 0, &ssrc, &seq), 0);
    ASSERT_UEQ(ssrc, S2);
    ASSERT_EQ(seq, 7);
    ASSERT_EQ(gw_rtcp_block_fir(buf, &b, 1, &ssrc, &seq), -EINVAL);

    /* a FIR with two entries, assembled by hand */
    uint8_t fir2[28];
    memcpy(fir2, fir, sizeof fir);
    fir2[3] = 6;
    wr_u32(fir2 + 20, S3);
    fir2[24] = 200;
    fir2[25] = fir2[26] = fir2[27] = 0;
    b = one_block(fir2, sizeof fir2);
    ASSERT_EQ(b.items, 2);
    ASSERT_EQ(gw_rtcp_block_fir(fir2, &b, 1, &ssrc, &seq), 0);
    ASSERT_UEQ(ssrc, S3);
    ASSERT_EQ(seq, 200);
}

static void test_remb(void)
{
    static const uint8_t remb[] = {0x8f, 0xce, 0x00, 0x05, 0x11, 0x11, 0x11, 0x11,
                                   0x00, 0x00, 0x00, 0x00, 'R',  'E',  'M',  'B',
                                   0x01, 0x0b, 0xd0, 0x90, 0x22, 0x22, 0x22, 0x22};
    uint8_t buf[128];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_remb(&w, S1, 1000000, (const uint32_t[]){S2}, 1), 0);
    ASSERT_EQ(w.len, sizeof remb);
    ASSERT_MEMEQ(buf, remb, sizeof remb);
    struct gw_rtcp_block b = one_block(buf, w.len);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_REMB);
    ASSERT_UEQ(b.remb_bitrate, 1000000);
    ASSERT_EQ(b.items, 1);
    uint32_t ssrc;
    ASSERT_EQ(gw_rtcp_block_ssrc(buf, &b, 0, &ssrc), 0);
    ASSERT_UEQ(ssrc, S2);

    /* rounding down to 18 significant bits; small values exact; several SSRCs */
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_remb(&w, S1, 1000003, (const uint32_t[]){S2, S3}, 2), 0);
    b = one_block(buf, w.len);
    ASSERT_UEQ(b.remb_bitrate, 1000000);
    ASSERT_EQ(b.items, 2);
    ASSERT_EQ(gw_rtcp_block_ssrc(buf, &b, 1, &ssrc), 0);
    ASSERT_UEQ(ssrc, S3);
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_remb(&w, S1, 262143, (const uint32_t[]){S2}, 1), 0);
    ASSERT_UEQ(one_block(buf, w.len).remb_bitrate, 262143);
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_remb(&w, S1, UINT64_MAX, (const uint32_t[]){S2}, 1), 0);
    ASSERT_UEQ(one_block(buf, w.len).remb_bitrate, 0x3ffffull << 46);
    ASSERT_EQ(gw_rtcp_write_remb(&w, S1, 5, NULL, 0), -EINVAL);

    /* exponents the wire allows but 64 bits do not hold saturate */
    uint8_t big[sizeof remb];
    memcpy(big, remb, sizeof remb);
    big[17] = (uint8_t)(63 << 2);
    big[18] = 0;
    big[19] = 1;
    ASSERT_UEQ(one_block(big, sizeof big).remb_bitrate, 1ull << 63);
    big[19] = 3;
    ASSERT_UEQ(one_block(big, sizeof big).remb_bitrate, UINT64_MAX);
    /* an AFB that is not REMB is skipped as OTHER; a REMB whose SSRC list is cut is bad */
    big[12] = 'X';
    ASSERT_EQ(one_block(big, sizeof big).kind, GW_RTCP_KIND_OTHER);
    memcpy(big, remb, sizeof remb);
    big[16] = 2;
    ASSERT_EQ(gw_rtcp_validate(big, sizeof big), -EBADMSG);
}

static void test_compound(void)
{
    uint8_t buf[256];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_rr(&w, S1, &sr_rb, 1), 0);
    ASSERT_EQ(gw_rtcp_write_remb(&w, S1, 300000, (const uint32_t[]){S2}, 1), 0);
    ASSERT_EQ(gw_rtcp_write_sdes_cname(&w, S1, "verbatim"), 0);
    ASSERT_EQ(gw_rtcp_write_nack(&w, S1, S2, (const uint16_t[]){1, 3}, 2), 0);
    ASSERT_EQ(gw_rtcp_write_pli(&w, S1, S2), 0);
    ASSERT_EQ(gw_rtcp_write_bye(&w, S1), 0);
    ASSERT_EQ(w.err, 0);
    ASSERT_EQ(gw_rtcp_validate(buf, w.len), 6);
    static const enum gw_rtcp_kind kinds[] = {GW_RTCP_KIND_RR,   GW_RTCP_KIND_REMB,
                                              GW_RTCP_KIND_SDES, GW_RTCP_KIND_NACK,
                                              GW_RTCP_KIND_PLI,  GW_RTCP_KIND_BYE};
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, buf, w.len);
    size_t k = 0, pos = 0;
    while (gw_rtcp_iter_next(&it, &b) > 0) {
        ASSERT_EQ(b.kind, kinds[k]);
        ASSERT_EQ(b.off, pos);
        pos += b.len;
        k++;
    }
    ASSERT_EQ(k, 6);
    ASSERT_EQ(pos, w.len);

    /* padding on the last packet (P bit, count in the last byte, included in the length) */
    size_t n = w.len;
    size_t bye = n - 8;
    buf[bye] |= 0x20;
    buf[bye + 3] = 2;
    memset(buf + n, 0, 3);
    buf[n + 3] = 4;
    ASSERT_EQ(gw_rtcp_validate(buf, n + 4), 6);
    buf[n + 3] = 9; /* more padding than the BYE's body */
    ASSERT_EQ(gw_rtcp_validate(buf, n + 4), -EBADMSG);
    buf[n + 3] = 0;
    ASSERT_EQ(gw_rtcp_validate(buf, n + 4), -EBADMSG);
    /* padding on a packet that is not the last */
    buf[bye] &= (uint8_t)~0x20;
    buf[bye + 3] = 1;
    buf[0] |= 0x20;
    ASSERT_EQ(gw_rtcp_validate(buf, n), -EBADMSG);
}

static void test_reduced_and_other(void)
{
    uint8_t buf[64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_pli(&w, S1, S2), 0); /* RFC 5506: feedback alone is fine */
    ASSERT_EQ(gw_rtcp_validate(buf, w.len), 1);

    static const uint8_t twcc[] = {0x8f, 0xcd, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22,
                                   0x22, 0x22, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
    ASSERT_EQ(one_block(twcc, sizeof twcc).kind, GW_RTCP_KIND_TWCC);
    uint8_t v[sizeof twcc];
    memcpy(v, twcc, sizeof v);
    v[0] = 0x83; /* RTPFB FMT 3 (TMMBR): not ours */
    ASSERT_EQ(one_block(v, sizeof v).kind, GW_RTCP_KIND_OTHER);
    v[1] = GW_RTCP_XR;
    ASSERT_EQ(one_block(v, sizeof v).kind, GW_RTCP_KIND_OTHER);
    v[1] = 210;
    ASSERT_EQ(one_block(v, sizeof v).kind, GW_RTCP_KIND_OTHER);
    v[0] = 0x80;
    v[1] = GW_RTCP_APP;
    struct gw_rtcp_block b = one_block(v, sizeof v);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_APP);
    ASSERT_UEQ(b.ssrc, S1);
}

static void expect_bad(const uint8_t *p, size_t len)
{
    ASSERT_EQ(gw_rtcp_validate(p, len), -EBADMSG);
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, p, len);
    int rc;
    while ((rc = gw_rtcp_iter_next(&it, &b)) > 0)
        ;
    ASSERT_EQ(rc, -EBADMSG);
    ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 0); /* over after an error */
}

static void test_malformed(void)
{
    uint8_t p[64] = {0};
    ASSERT_EQ(gw_rtcp_validate(p, 0), -EBADMSG);
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, p, 0);
    ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 0);
    memcpy(p, sr_vec, sizeof sr_vec);
    expect_bad(p, 3);                 /* no whole header */
    expect_bad(p, sizeof sr_vec - 4); /* length beyond the buffer */
    expect_bad(p, sizeof sr_vec + 2); /* trailing bytes that are no packet */
    p[0] = 0x41;                      /* version 1 */
    expect_bad(p, sizeof sr_vec);
    p[0] = 0x82; /* two report blocks announced, one present */
    expect_bad(p, sizeof sr_vec);
    p[0] = 0x80; /* an SR cut before its sender info ends */
    p[3] = 5;
    expect_bad(p, 24);
    static const uint8_t nack0[] = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    expect_bad(nack0, sizeof nack0); /* a NACK without entries */
    static const uint8_t fir4[] = {0x84, 0xce, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2};
    expect_bad(fir4, sizeof fir4); /* a FIR entry of 4 bytes */
    static const uint8_t fb8[] = {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1};
    expect_bad(fb8, sizeof fb8); /* feedback without a media SSRC */
    static const uint8_t bye2[] = {0x82, 0xcb, 0x00, 0x01, 0, 0, 0, 1};
    expect_bad(bye2, sizeof bye2);
    static const uint8_t app[] = {0x80, 0xcc, 0x00, 0x01, 0, 0, 0, 1};
    expect_bad(app, sizeof app);
    /* a good PLI followed by garbage: the PLI is seen, then the error */
    uint8_t two[16] = {0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0xc8, 0x00, 0x00};
    gw_rtcp_iter_init(&it, two, sizeof two);
    ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 1);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_PLI);
    ASSERT_EQ(gw_rtcp_iter_next(&it, &b), -EBADMSG);
}

static void test_rewrite(void)
{
    uint8_t buf[512];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    struct gw_rtcp_report_block rbs[3] = {sr_rb, sr_rb, sr_rb};
    rbs[0].ssrc = 0xa;
    rbs[1].ssrc = 0xb;
    rbs[2].ssrc = 0xc; /* not in the map: stays */
    struct gw_rtcp_sr sr = {S1, 1, 2, 3, 4};
    ASSERT_EQ(gw_rtcp_write_sr(&w, &sr, rbs, 3), 0);
    ASSERT_EQ(gw_rtcp_write_rr(&w, S1, rbs, 2), 0);
    ASSERT_EQ(gw_rtcp_write_sdes_cname(&w, S1, "x"), 0);
    ASSERT_EQ(gw_rtcp_write_pli(&w, S1, 0xa), 0);
    ASSERT_EQ(gw_rtcp_write_fir(&w, S1, 0xb, 1), 0);
    ASSERT_EQ(gw_rtcp_write_remb(&w, S1, 5000, (const uint32_t[]){0xa, 0xb, 0xc}, 3), 0);
    ASSERT_EQ(gw_rtcp_write_nack(&w, S1, 0xb, (const uint16_t[]){9}, 1), 0);
    ASSERT_EQ(gw_rtcp_write_bye(&w, S1), 0);
    size_t len = w.len;
    uint8_t copy[512];
    memcpy(copy, buf, len);
    static const struct gw_rtcp_ssrc_map map[] = {{0xa, 0xaa}, {0xb, 0xbb}};
    ASSERT_EQ(gw_rtcp_rewrite_ssrcs(buf, len, S3, map, 2), 0);

    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    struct gw_rtcp_report_block rb;
    uint32_t ssrc;
    uint8_t seq;
    int blocks = 0;
    gw_rtcp_iter_init(&it, buf, len);
    while (gw_rtcp_iter_next(&it, &b) > 0) {
        blocks++;
        ASSERT_UEQ(b.ssrc, S3);
        switch (b.kind) {
        case GW_RTCP_KIND_SR:
            ASSERT_EQ(b.sr.ntp, 1); /* sender info untouched */
            ASSERT_EQ(b.sr.octets, 4);
            /* fall through */
        case GW_RTCP_KIND_RR:
            for (unsigned i = 0; i < b.reports; i++) {
                ASSERT_EQ(gw_rtcp_block_report(buf, &b, i, &rb), 0);
                ASSERT_UEQ(rb.ssrc, i == 0 ? 0xaa : i == 1 ? 0xbb : 0xc);
                ASSERT_EQ(rb.cumulative_lost, -3);
            }
            break;
        case GW_RTCP_KIND_PLI:
            ASSERT_UEQ(b.media_ssrc, 0xaa);
            break;
        case GW_RTCP_KIND_FIR:
            ASSERT_EQ(gw_rtcp_block_fir(buf, &b, 0, &ssrc, &seq), 0);
            ASSERT_UEQ(ssrc, 0xbb);
            ASSERT_EQ(b.media_ssrc, 0);
            break;
        case GW_RTCP_KIND_REMB:
            for (unsigned i = 0; i < 3; i++) {
                ASSERT_EQ(gw_rtcp_block_ssrc(buf, &b, i, &ssrc), 0);
                ASSERT_UEQ(ssrc, i == 0 ? 0xaa : i == 1 ? 0xbb : 0xc);
            }
            break;
        case GW_RTCP_KIND_NACK:
            ASSERT_UEQ(b.media_ssrc, 0xbb);
            break;
        default:
            break;
        }
    }
    ASSERT_EQ(blocks, 8);

    /* sender 0 keeps sender SSRCs; a malformed buffer is not touched */
    memcpy(buf, copy, len);
    ASSERT_EQ(gw_rtcp_rewrite_ssrcs(buf, len, 0, map, 2), 0);
    gw_rtcp_iter_init(&it, buf, len);
    while (gw_rtcp_iter_next(&it, &b) > 0)
        ASSERT_UEQ(b.ssrc, S1);
    memcpy(buf, copy, len);
    buf[len - 8] = 0x40;
    memcpy(copy, buf, len);
    ASSERT_EQ(gw_rtcp_rewrite_ssrcs(buf, len, S3, map, 2), -EBADMSG);
    ASSERT_MEMEQ(buf, copy, len);
}

/* SDES with two chunks, the second a contributor with two items. */
static void test_rewrite_sdes(void)
{
    uint8_t p[] = {0x82, 0xca, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02,
                   'a',  'b',  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,
                   0x01, 0x01, 'c',  0x02, 0x00, 0x00, 0x00, 0x00};
    static const struct gw_rtcp_ssrc_map map[] = {{0xa, 0xaa}};
    ASSERT_EQ(gw_rtcp_validate(p, sizeof p), 1);
    ASSERT_EQ(gw_rtcp_rewrite_ssrcs(p, sizeof p, S3, map, 1), 0);
    ASSERT_UEQ(rd_u32(p + 4), S3);
    ASSERT_UEQ(rd_u32(p + 16), 0xaa);
    ASSERT_EQ(p[22], 'c'); /* items untouched */
}

static void test_ntp_rtt(void)
{
    ASSERT_UEQ(gw_rtcp_ntp_from_us(0), 2208988800ull << 32);
    uint64_t t0 = gw_rtcp_ntp_from_us(1700000000500000); /* .5 s */
    ASSERT_UEQ(t0, ((1700000000ull + 2208988800ull) << 32) | 0x80000000u);
    ASSERT_UEQ(gw_rtcp_ntp_middle(t0), (uint32_t)(t0 >> 16));
    ASSERT_UEQ(gw_rtcp_ntp_from_us(1) & 0xffffffffu, 4294); /* 2^32 / 10^6, rounded down */
    uint32_t lsr = gw_rtcp_ntp_middle(t0);
    uint64_t arrival = gw_rtcp_ntp_from_us(1700000001750000); /* t0 + 1.25 s */
    ASSERT_EQ(gw_rtcp_rtt_us(arrival, lsr, 65536), 250000);
    ASSERT_EQ(gw_rtcp_rtt_us(arrival, lsr, 65536 + 16384), 0);
    ASSERT_EQ(gw_rtcp_rtt_us(arrival, lsr, 2 * 65536), -1); /* negative */
    ASSERT_EQ(gw_rtcp_rtt_us(arrival, 0, 0), -1);           /* no SR seen */
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"sr", test_sr},
        {"rr", test_rr},
        {"sdes_bye", test_sdes_bye},
        {"nack_packing", test_nack_packing},
        {"pli_fir", test_pli_fir},
        {"remb", test_remb},
        {"compound", test_compound},
        {"reduced_and_other", test_reduced_and_other},
        {"malformed", test_malformed},
        {"rewrite", test_rewrite},
        {"rewrite_sdes", test_rewrite_sdes},
        {"ntp_rtt", test_ntp_rtt},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
