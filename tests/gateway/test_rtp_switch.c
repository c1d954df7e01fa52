/* Tests of gateway/rtp/switch.c: one continuous output stream made of changing RTP sources.
 * The first source keeps its numbers; a new source (another SSRC or after a reset) continues
 * at the newest seq + 1 and the newest ts + the elapsed wall time in clock units; reordering
 * and loss inside a source are preserved; 16-bit seq and 32-bit ts wrap; skipped packets leave
 * no gap, also for late packets from before the skip; packets that would collide are refused. */
#include <errno.h>

#include "common/bytes.h"
#include "gateway/rtp/rtp.h"
#include "gateway/rtp/switch.h"
#include "tests/test.h"

#define MS 1000

struct pkt {
    uint8_t b[16];
    size_t len;
};

/* A plain RTP packet with a 4-byte payload. */
static struct pkt mk(uint32_t ssrc, uint16_t seq, uint32_t ts)
{
    struct pkt p = {.len = 16};
    p.b[0] = 0x80;
    p.b[1] = 96;
    wr_u16(p.b + 2, seq);
    wr_u32(p.b + 4, ts);
    wr_u32(p.b + 8, ssrc);
    memcpy(p.b + 12, "data", 4);
    return p;
}

struct out {
    uint16_t seq;
    uint32_t ts;
};

/* Applies `s` to a packet and returns the output numbers; the rest must be untouched. */
static struct out fwd(struct gw_rtp_switch *s, uint32_t ssrc, uint16_t seq, uint32_t ts,
                      int64_t now)
{
    struct pkt p = mk(ssrc, seq, ts);
    ASSERT_EQ(gw_rtp_switch_apply(s, p.b, p.len, now), 0);
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(p.b, p.len, &h), 0);
    ASSERT_UEQ(h.ssrc, ssrc);
    ASSERT_EQ(h.pt, 96);
    ASSERT_MEMEQ(p.b + 12, "data", 4);
    return (struct out){h.seq, h.ts};
}

static void skip(struct gw_rtp_switch *s, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
    struct pkt p = mk(ssrc, seq, ts);
    gw_rtp_switch_skip(s, p.b, p.len);
}

static void test_first_source_kept(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    for (int i = 0; i < 5; i++) {
        struct out o = fwd(&s, 0xa, (uint16_t)(1000 + i), 5000u + 3000u * i, i * 33 * MS);
        ASSERT_EQ(o.seq, 1000 + i);
        ASSERT_UEQ(o.ts, 5000u + 3000u * i);
    }
}

static void test_switch_by_ssrc(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    struct out o;
    for (int i = 0; i < 4; i++)
        o = fwd(&s, 0xa, (uint16_t)(100 + i), 3000u * i, i * 33 * MS);
    ASSERT_EQ(o.seq, 103);
    ASSERT_UEQ(o.ts, 9000);
    /* 50 ms after the last packet: 4500 units at 90 kHz */
    o = fwd(&s, 0xb, 9000, 777, 99 * MS + 50 * MS);
    ASSERT_EQ(o.seq, 104);
    ASSERT_UEQ(o.ts, 9000 + 4500);
    o = fwd(&s, 0xb, 9001, 777 + 3000, 182 * MS);
    ASSERT_EQ(o.seq, 105);
    ASSERT_UEQ(o.ts, 9000 + 4500 + 3000);
    /* and back to the first SSRC: a new source again, 10 ms later (900 units) */
    o = fwd(&s, 0xa, 104, 12000, 192 * MS);
    ASSERT_EQ(o.seq, 106);
    ASSERT_UEQ(o.ts, 9000 + 4500 + 3000 + 900);
}

static void test_reset_same_ssrc(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 48000);
    struct out o = fwd(&s, 7, 10, 960, 0);
    o = fwd(&s, 7, 11, 1920, 20 * MS);
    ASSERT_EQ(o.seq, 11);
    gw_rtp_switch_reset(&s);
    /* same SSRC but numbers from elsewhere: continues at 12, ts + 30 ms at 48 kHz */
    o = fwd(&s, 7, 5000, 100000, 50 * MS);
    ASSERT_EQ(o.seq, 12);
    ASSERT_UEQ(o.ts, 1920 + 1440);
    /* no time elapsed at all: the timestamp still advances by one unit */
    gw_rtp_switch_reset(&s);
    o = fwd(&s, 7, 20000, 42, 50 * MS);
    ASSERT_EQ(o.seq, 13);
    ASSERT_UEQ(o.ts, 1920 + 1440 + 1);
    /* a clock running backwards counts as no time */
    gw_rtp_switch_reset(&s);
    o = fwd(&s, 7, 30000, 42, 40 * MS);
    ASSERT_EQ(o.seq, 14);
    ASSERT_UEQ(o.ts, 1920 + 1440 + 2);
}

static void test_reorder_preserved(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    fwd(&s, 1, 10, 100, 0);
    ASSERT_EQ(fwd(&s, 1, 12, 300, 1 * MS).seq, 12);
    ASSERT_EQ(fwd(&s, 1, 11, 200, 2 * MS).seq, 11);
    /* the second source arrives reordered too: offsets stay constant */
    struct out a = fwd(&s, 2, 500, 7000, 11 * MS);
    ASSERT_EQ(a.seq, 13);
    ASSERT_UEQ(a.ts, 300 + 900); /* 10 ms since the newest packet (seq 12) went out */
    struct out c = fwd(&s, 2, 503, 7300, 13 * MS);
    struct out b = fwd(&s, 2, 501, 7100, 14 * MS);
    struct out b2 = fwd(&s, 2, 502, 7200, 15 * MS);
    ASSERT_EQ(c.seq, 16);
    ASSERT_EQ(b.seq, 14);
    ASSERT_EQ(b2.seq, 15);
    ASSERT_UEQ(c.ts - a.ts, 300);
    ASSERT_UEQ(b.ts - a.ts, 100);
    ASSERT_UEQ(b2.ts - a.ts, 200);
    /* a duplicate maps to the same numbers */
    struct out d = fwd(&s, 2, 501, 7100, 16 * MS);
    ASSERT_EQ(d.seq, b.seq);
    ASSERT_UEQ(d.ts, b.ts);
    /* the next switch continues after the newest (seq 16), not after the last (15) */
    struct out n = fwd(&s, 3, 1, 1, 26 * MS);
    ASSERT_EQ(n.seq, 17);
    ASSERT_UEQ(n.ts, c.ts + 900 * 13 / 10); /* 13 ms since seq 503 went out */
}

static void test_wraps(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    /* the input wraps inside the first source */
    ASSERT_EQ(fwd(&s, 1, 65534, 0xfffff000u, 0).seq, 65534);
    ASSERT_EQ(fwd(&s, 1, 65535, 0xfffffc00u, 1 * MS).seq, 65535);
    struct out o = fwd(&s, 1, 0, 0x400, 2 * MS);
    ASSERT_EQ(o.seq, 0);
    ASSERT_UEQ(o.ts, 0x400);
    /* the output wraps at a switch: newest seq 65535, ts 0xffffff00 */
    gw_rtp_switch_init(&s, 90000);
    fwd(&s, 1, 65535, 0xffffff00u, 0);
    o = fwd(&s, 2, 300, 5, 10 * MS); /* + 900 */
    ASSERT_EQ(o.seq, 0);
    ASSERT_UEQ(o.ts, (uint32_t)(0xffffff00u + 900u));
    o = fwd(&s, 2, 301, 3005, 43 * MS);
    ASSERT_EQ(o.seq, 1);
    ASSERT_UEQ(o.ts, (uint32_t)(0xffffff00u + 900u + 3000u));
    /* a late packet across the input wrap of a new source still maps by its offset */
    o = fwd(&s, 3, 65535, 10, 50 * MS);
    ASSERT_EQ(o.seq, 2);
    ASSERT_EQ(fwd(&s, 3, 1, 30, 51 * MS).seq, 4);
    ASSERT_EQ(fwd(&s, 3, 0, 20, 52 * MS).seq, 3);
    /* long elapsed times wrap the timestamp modulo 2^32 without overflow */
    gw_rtp_switch_init(&s, 90000);
    fwd(&s, 1, 1, 0, 0);
    o = fwd(&s, 2, 1, 0, INT64_C(7200) * 1000000 + 500); /* two hours and 45 units */
    ASSERT_EQ(o.seq, 2);
    ASSERT_UEQ(o.ts, 648000045u);
    o = fwd(&s, 3, 1, 0, INT64_C(3600) * 1000000 * 24 * 400);
    ASSERT_EQ(o.seq, 3);
}

static void test_skip_no_gap(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    ASSERT_EQ(fwd(&s, 1, 1, 0, 0).seq, 1);
    ASSERT_EQ(fwd(&s, 1, 2, 0, 0).seq, 2);
    skip(&s, 1, 3, 3000);
    ASSERT_EQ(fwd(&s, 1, 4, 6000, 0).seq, 3);
    skip(&s, 1, 5, 9000);
    skip(&s, 1, 6, 9000);
    ASSERT_EQ(fwd(&s, 1, 7, 12000, 0).seq, 4);
    /* the timestamps are not shifted: the time of the dropped frames still passed */
    ASSERT_UEQ(fwd(&s, 1, 8, 15000, 0).ts, 15000);
    /* skipping an older packet, another SSRC's or garbage changes nothing */
    skip(&s, 1, 2, 0);
    skip(&s, 9, 9, 0);
    uint8_t junk[3] = {1, 2, 3};
    gw_rtp_switch_skip(&s, junk, sizeof junk);
    ASSERT_EQ(fwd(&s, 1, 9, 18000, 0).seq, 6);
    /* a skip right after a reset is not of the current source */
    gw_rtp_switch_reset(&s);
    skip(&s, 1, 10, 0);
    ASSERT_EQ(fwd(&s, 1, 11, 21000, 0).seq, 7);
    /* a switch after skips continues after the newest packet sent */
    skip(&s, 1, 12, 0);
    ASSERT_EQ(fwd(&s, 2, 77, 0, 0).seq, 8);
}

static void test_skip_late_packets(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    fwd(&s, 1, 1, 0, 0);
    fwd(&s, 1, 2, 0, 0);
    /* 3 is late; 4 goes out, 5 is skipped, 6 goes out one lower */
    ASSERT_EQ(fwd(&s, 1, 4, 0, 0).seq, 4);
    skip(&s, 1, 5, 0);
    ASSERT_EQ(fwd(&s, 1, 6, 0, 0).seq, 5);
    /* late 3 was before the skip: its own number, not 2 */
    ASSERT_EQ(fwd(&s, 1, 3, 0, 0).seq, 3);
    /* a late packet after the skip uses the shifted offset */
    skip(&s, 1, 8, 0);
    ASSERT_EQ(fwd(&s, 1, 9, 0, 0).seq, 7);
    ASSERT_EQ(fwd(&s, 1, 7, 0, 0).seq, 6);
    /* a late packet does not move the newest seen back: skipping 9 again changes nothing */
    skip(&s, 1, 9, 0);
    ASSERT_EQ(fwd(&s, 1, 10, 0, 0).seq, 8);
}

static void test_skip_ring_overflow(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    fwd(&s, 1, 100, 0, 0);
    /* 101 and 130 are late; 102-129 and 131-142 are skipped: 40, more than the ring holds */
    for (uint16_t q = 102; q <= 142; q++)
        if (q != 130)
            skip(&s, 1, q, 0);
    ASSERT_EQ(GW_RTP_SWITCH_SKIPS, 32);
    ASSERT_EQ(fwd(&s, 1, 143, 0, 0).seq, 103); /* 101 and 102 are kept for the late ones */
    /* 130 is after the oldest skip remembered (110): numbered right after 100's slot */
    ASSERT_EQ(fwd(&s, 1, 130, 0, 0).seq, 102);
    /* 101 precedes skips that were forgotten: refused, untouched */
    struct pkt p = mk(1, 101, 0);
    struct pkt orig = p;
    ASSERT_EQ(gw_rtp_switch_apply(&s, p.b, p.len, 0), -ESTALE);
    ASSERT_MEMEQ(p.b, orig.b, p.len);
}

static void test_stale_before_switch(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    fwd(&s, 1, 10, 0, 0);
    fwd(&s, 1, 11, 0, 0);
    ASSERT_EQ(fwd(&s, 2, 500, 0, 0).seq, 12);
    ASSERT_EQ(fwd(&s, 2, 501, 0, 0).seq, 13);
    /* 499 of the new source would take seq 11, already sent for the old source */
    struct pkt p = mk(2, 499, 0);
    ASSERT_EQ(gw_rtp_switch_apply(&s, p.b, p.len, 0), -ESTALE);
    ASSERT_EQ(rd_u16(p.b + 2), 499);
    /* the very first source has nothing before it: late packets go out as they are */
    gw_rtp_switch_init(&s, 90000);
    fwd(&s, 1, 10, 0, 0);
    ASSERT_EQ(fwd(&s, 1, 9, 0, 0).seq, 9);
}

static void test_rejects_non_rtp(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 90000);
    struct pkt p = mk(1, 1, 1);
    ASSERT_EQ(gw_rtp_switch_apply(&s, p.b, 11, 0), -EINVAL);
    p.b[0] = 0x40; /* version 1 */
    ASSERT_EQ(gw_rtp_switch_apply(&s, p.b, p.len, 0), -EINVAL);
    p = mk(1, 1, 1);
    p.b[1] = 200; /* RTCP SR under rtcp-mux */
    ASSERT_EQ(gw_rtp_switch_apply(&s, p.b, p.len, 0), -EINVAL);
    /* nothing was taken as a source: the first real packet keeps its numbers */
    ASSERT_EQ(fwd(&s, 1, 4242, 1, 0).seq, 4242);
}

static void test_zero_clock_rate(void)
{
    struct gw_rtp_switch s;
    gw_rtp_switch_init(&s, 0);
    fwd(&s, 1, 1, 1000, 0);
    struct out o = fwd(&s, 2, 1, 0, 5000 * MS);
    ASSERT_UEQ(o.ts, 1001);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"first_source_kept", test_first_source_kept},
        {"switch_by_ssrc", test_switch_by_ssrc},
        {"reset_same_ssrc", test_reset_same_ssrc},
        {"reorder_preserved", test_reorder_preserved},
        {"wraps", test_wraps},
        {"skip_no_gap", test_skip_no_gap},
        {"skip_late_packets", test_skip_late_packets},
        {"skip_ring_overflow", test_skip_ring_overflow},
        {"stale_before_switch", test_stale_before_switch},
        {"rejects_non_rtp", test_rejects_non_rtp},
        {"zero_clock_rate", test_zero_clock_rate},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
