/* Tests of transport-cc feedback (gateway/rtp/twcc.c): feedback packets built from known
 * arrivals are parsed back by an independent reader written here from the draft (header,
 * run-length and status-vector chunks, small and large deltas, padding), and every received
 * packet's arrival time must come back within the 250 µs resolution; losses, sequence wraps,
 * reordering (negative deltas), a gap too long for one feedback, the window and a full buffer. */
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/rtp/twcc.h"
#include "tests/test.h"

struct parsed {
    uint32_t sender, media;
    uint16_t base, count;
    uint8_t fb_count;
    int64_t arrival[1000]; /* per status, -1 = not received */
};

static uint16_t take_symbols(const uint8_t *chunk, int *sym, size_t max)
{
    uint16_t c = rd_u16(chunk);
    if (!(c & 0x8000)) { /* run length */
        int s = (c >> 13) & 3;
        size_t run = c & 0x1fff;
        for (size_t i = 0; i < run && i < max; i++)
            sym[i] = s;
        return (uint16_t)(run < max ? run : max);
    }
    bool two = c & 0x4000;
    size_t n = two ? 7 : 14;
    for (size_t i = 0; i < n && i < max; i++)
        sym[i] = two ? (c >> (12 - 2 * i)) & 3 : (c >> (13 - i)) & 1;
    return (uint16_t)(n < max ? n : max);
}

/* Parses one feedback packet; asserts its framing. */
static void parse(const uint8_t *p, size_t len, struct parsed *out)
{
    ASSERT_EQ(p[0] & 0xc0, 0x80);
    ASSERT_EQ(p[0] & 0x1f, 15);
    ASSERT_EQ(p[1], 205);
    size_t size = ((size_t)rd_u16(p + 2) + 1) * 4;
    ASSERT_EQ(size, len);
    size_t end = size - ((p[0] & 0x20) ? p[size - 1] : 0);
    out->sender = rd_u32(p + 4);
    out->media = rd_u32(p + 8);
    out->base = rd_u16(p + 12);
    out->count = rd_u16(p + 14);
    uint32_t word = rd_u32(p + 16);
    int32_t ref = (int32_t)(word >> 8);
    if (ref & 0x800000)
        ref -= 0x1000000;
    out->fb_count = (uint8_t)word;
    int sym[1000];
    size_t have = 0, at = 20;
    while (have < out->count) {
        ASSERT(at + 2 <= end);
        have += take_symbols(p + at, sym + have, out->count - have);
        at += 2;
    }
    int64_t t = (int64_t)ref * 64000;
    for (size_t i = 0; i < out->count; i++) {
        out->arrival[i] = -1;
        if (sym[i] == 1) {
            ASSERT(at + 1 <= end);
            t += (int64_t)p[at++] * 250;
            out->arrival[i] = t;
        } else if (sym[i] == 2) {
            ASSERT(at + 2 <= end);
            t += (int64_t)(int16_t)rd_u16(p + at) * 250;
            at += 2;
            out->arrival[i] = t;
        } else {
            ASSERT_EQ(sym[i], 0);
        }
    }
    ASSERT_EQ(at, end); /* nothing but padding after the deltas */
}

/* Builds one feedback and parses it. Returns what gw_twcc_rx_feedback returned. */
static int feedback(struct gw_twcc_rx *t, struct parsed *out)
{
    uint8_t buf[1500];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    int rc = gw_twcc_rx_feedback(t, &w, 0x1111, 0x2222);
    if (rc == 1) {
        parse(buf, w.len, out);
        ASSERT_EQ(w.len % 4, 0);
        /* The project's RTCP reader sees one transport-cc packet. */
        struct gw_rtcp_iter it;
        struct gw_rtcp_block b;
        gw_rtcp_iter_init(&it, buf, w.len);
        ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 1);
        ASSERT_EQ(b.kind, GW_RTCP_KIND_TWCC);
        ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 0);
    }
    return rc;
}

static void assert_close(int64_t got, int64_t want)
{
    ASSERT(got >= 0);
    ASSERT(got <= want && want - got < 250);
}

static void test_losses_and_deltas(void)
{
    static struct gw_twcc_rx t;
    static struct parsed p;
    gw_twcc_rx_init(&t);
    ASSERT_EQ(feedback(&t, &p), 0); /* nothing yet */
    int64_t base = 5000000;
    for (uint16_t s = 100; s < 110; s++)
        if (s != 103 && s != 104)
            gw_twcc_rx_on_packet(&t, s, base + (s - 100) * 1000);
    ASSERT_EQ(feedback(&t, &p), 1);
    ASSERT_EQ(p.sender, 0x1111);
    ASSERT_EQ(p.media, 0x2222);
    ASSERT_EQ(p.base, 100);
    ASSERT_EQ(p.count, 10);
    ASSERT_EQ(p.fb_count, 0);
    for (int i = 0; i < 10; i++) {
        if (i == 3 || i == 4)
            ASSERT_EQ(p.arrival[i], -1);
        else
            assert_close(p.arrival[i], base + i * 1000);
    }
    ASSERT_EQ(feedback(&t, &p), 0); /* all reported */
    /* A late 103 is not reported again; new ones continue the numbering. */
    gw_twcc_rx_on_packet(&t, 103, base + 20000);
    gw_twcc_rx_on_packet(&t, 110, base + 21000);
    ASSERT_EQ(feedback(&t, &p), 1);
    ASSERT_EQ(p.base, 110);
    ASSERT_EQ(p.count, 1);
    ASSERT_EQ(p.fb_count, 1);
    assert_close(p.arrival[0], base + 21000);
}

static void test_wrap_reorder_gap(void)
{
    static struct gw_twcc_rx t;
    static struct parsed p;
    gw_twcc_rx_init(&t);
    int64_t at = 1000000;
    /* Across the 16-bit wrap, 65534 arriving after 65535 (a negative delta). */
    gw_twcc_rx_on_packet(&t, 65533, at);
    gw_twcc_rx_on_packet(&t, 65535, at + 2000);
    gw_twcc_rx_on_packet(&t, 65534, at + 2500);
    gw_twcc_rx_on_packet(&t, 0, at + 100000); /* 98 ms later: a large delta */
    gw_twcc_rx_on_packet(&t, 1, at + 100250);
    ASSERT_EQ(feedback(&t, &p), 1);
    ASSERT_EQ(p.base, 65533);
    ASSERT_EQ(p.count, 5);
    assert_close(p.arrival[0], at);
    assert_close(p.arrival[1], at + 2500);
    assert_close(p.arrival[2], at + 2000);
    assert_close(p.arrival[3], at + 100000);
    assert_close(p.arrival[4], at + 100250);
    /* A gap of 10 s cannot be one delta: two feedbacks, each exact. */
    gw_twcc_rx_on_packet(&t, 2, at + 200000);
    gw_twcc_rx_on_packet(&t, 3, at + 10200000);
    ASSERT_EQ(feedback(&t, &p), 1);
    ASSERT_EQ(p.base, 2);
    ASSERT_EQ(p.count, 1);
    assert_close(p.arrival[0], at + 200000);
    ASSERT_EQ(feedback(&t, &p), 1);
    ASSERT_EQ(p.base, 3);
    ASSERT_EQ(p.count, 1);
    assert_close(p.arrival[0], at + 10200000);
}

static void test_window_and_limits(void)
{
    static struct gw_twcc_rx t;
    static struct parsed p;
    gw_twcc_rx_init(&t);
    gw_twcc_rx_on_packet(&t, 10, 1000);
    gw_twcc_rx_on_packet(&t, 10 + 3000, 2000); /* far ahead: the window moves */
    ASSERT_EQ(feedback(&t, &p), 1);            /* the losses before it are too many to report */
    ASSERT_EQ(p.base, 10 + 3000);
    ASSERT_EQ(p.count, 1);
    assert_close(p.arrival[0], 2000);
    /* Fewer losses than a feedback holds are reported as such. */
    gw_twcc_rx_on_packet(&t, 10 + 3000 + 300, 3000);
    ASSERT_EQ(feedback(&t, &p), 1);
    ASSERT_EQ(p.base, 10 + 3001);
    ASSERT_EQ(p.count, 300);
    ASSERT_EQ(p.arrival[0], -1);
    assert_close(p.arrival[299], 3000);
    /* Many packets: several feedbacks of at most GW_TWCC_MAX_PER_FB, all of them received. */
    gw_twcc_rx_init(&t);
    for (int i = 0; i < 900; i++)
        gw_twcc_rx_on_packet(&t, (uint16_t)i, 100000 + i * 300);
    size_t total = 0;
    while (feedback(&t, &p) == 1) {
        ASSERT(p.count <= GW_TWCC_MAX_PER_FB);
        for (size_t i = 0; i < p.count; i++)
            assert_close(p.arrival[i], 100000 + (int64_t)(p.base + i) * 300);
        total += p.count;
    }
    ASSERT_EQ(total, 900);
    /* No room: -ENOSPC, nothing consumed. */
    gw_twcc_rx_on_packet(&t, 900, 500000);
    uint8_t small[16];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, small, sizeof small);
    ASSERT_EQ(gw_twcc_rx_feedback(&t, &w, 1, 2), -ENOSPC);
    ASSERT_EQ(w.err, -ENOSPC);
    ASSERT_EQ(feedback(&t, &p), 1);
    ASSERT_EQ(p.base, 900);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"losses_and_deltas", test_losses_and_deltas},
        {"wrap_reorder_gap", test_wrap_reorder_gap},
        {"window_and_limits", test_window_and_limits},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
