/* Tests of the NACK generator of gateway/rtp with a scripted clock (common/clock.h): gaps
 * requested at once or after the reorder delay, retried at the retry interval, given up after
 * the retries or the age, cleared by late packets; sequence wraps, jumps that reset, the window
 * sliding past old gaps, the caller's capacity, and the generated list packed into an RTCP NACK
 * and read back. */
#include "common/clock.h"
#include "gateway/rtp/rtcp.h"
#include "tests/test.h"

struct fake_clock {
    int64_t now;
};

static int64_t fake_now(void *ctx)
{
    return ((struct fake_clock *)ctx)->now;
}

#define MS 1000

/* Polls at the clock's time and compares with the expected list. */
static void expect_poll(struct gw_nack_gen *g, const struct vb_clock *clk, const uint16_t *want,
                        size_t n)
{
    uint16_t got[GW_NACK_WINDOW];
    size_t k = gw_nack_gen_poll(g, vb_clock_mono(clk), got, GW_NACK_WINDOW);
    if (k != n) {
        fprintf(stderr, "poll at %" PRId64 " us:", vb_clock_mono(clk));
        for (size_t i = 0; i < k; i++)
            fprintf(stderr, " %u", got[i]);
        fputc('\n', stderr);
    }
    ASSERT_EQ(k, n);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(got[i], want[i]);
}

#define POLL(g, clk, ...)                                                                          \
    expect_poll(g, clk, (const uint16_t[]){__VA_ARGS__},                                           \
                sizeof((const uint16_t[]){__VA_ARGS__}) / sizeof(uint16_t))
#define POLL_NONE(g, clk) expect_poll(g, clk, NULL, 0)

static void feed(struct gw_nack_gen *g, const struct vb_clock *clk, uint16_t seq,
                 enum gw_nack_result want)
{
    ASSERT_EQ(gw_nack_gen_on_packet(g, seq, vb_clock_mono(clk)), want);
}

static void test_gap_retry_giveup(void)
{
    struct fake_clock fc = {1000000};
    struct vb_clock clk = {fake_now, fake_now, &fc};
    struct gw_nack_config cfg = {.retry_us = 50 * MS, .max_retries = 3};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, &cfg);
    feed(&g, &clk, 1, GW_NACK_NEW);
    feed(&g, &clk, 2, GW_NACK_NEW);
    POLL_NONE(&g, &clk);
    feed(&g, &clk, 5, GW_NACK_NEW);
    POLL(&g, &clk, 3, 4);
    fc.now += 10 * MS;
    POLL_NONE(&g, &clk); /* not again before the retry interval */
    fc.now += 40 * MS;
    POLL(&g, &clk, 3, 4);
    feed(&g, &clk, 3, GW_NACK_RECOVERED);
    feed(&g, &clk, 3, GW_NACK_OLD); /* a second copy is a duplicate */
    fc.now += 50 * MS;
    POLL(&g, &clk, 4); /* third request for 4 */
    fc.now += 50 * MS;
    POLL_NONE(&g, &clk); /* out of retries: given up */
    ASSERT_EQ(g.given_up, 1);
    ASSERT_EQ(g.requested, 5);
    ASSERT_EQ(g.recovered, 1);
    ASSERT_EQ(g.missing, 0);
    feed(&g, &clk, 4, GW_NACK_OLD);
    feed(&g, &clk, 6, GW_NACK_NEW);
    feed(&g, &clk, 6, GW_NACK_OLD);
}

static void test_reorder_delay(void)
{
    struct fake_clock fc = {0};
    struct vb_clock clk = {fake_now, fake_now, &fc};
    struct gw_nack_config cfg = {.reorder_us = 20 * MS};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, &cfg);
    feed(&g, &clk, 1, GW_NACK_NEW);
    feed(&g, &clk, 3, GW_NACK_NEW);
    fc.now = 5 * MS;
    POLL_NONE(&g, &clk);
    fc.now = 10 * MS;
    feed(&g, &clk, 2, GW_NACK_RECOVERED); /* reordered, never requested */
    feed(&g, &clk, 5, GW_NACK_NEW);       /* 4 missing since 10 ms */
    fc.now = 29 * MS;
    POLL_NONE(&g, &clk);
    fc.now = 30 * MS;
    POLL(&g, &clk, 4);
    ASSERT_EQ(g.requested, 1);
}

static void test_max_age(void)
{
    struct fake_clock fc = {0};
    struct vb_clock clk = {fake_now, fake_now, &fc};
    struct gw_nack_config cfg = {.retry_us = 50 * MS, .max_age_us = 200 * MS};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, &cfg);
    feed(&g, &clk, 100, GW_NACK_NEW);
    feed(&g, &clk, 102, GW_NACK_NEW);
    for (int i = 0; i < 5; i++) {
        POLL(&g, &clk, 101);
        fc.now += 50 * MS;
    }
    fc.now = 201 * MS;
    POLL_NONE(&g, &clk);
    ASSERT_EQ(g.given_up, 1);
    ASSERT_EQ(g.requested, 5);
}

static void test_wrap(void)
{
    struct fake_clock fc = {0};
    struct vb_clock clk = {fake_now, fake_now, &fc};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, NULL);
    feed(&g, &clk, 65534, GW_NACK_NEW);
    feed(&g, &clk, 65535, GW_NACK_NEW);
    feed(&g, &clk, 2, GW_NACK_NEW);
    POLL(&g, &clk, 0, 1);
    feed(&g, &clk, 1, GW_NACK_RECOVERED);
    feed(&g, &clk, 65533, GW_NACK_OLD); /* before the first: not a gap */
    fc.now += 100 * MS;
    POLL(&g, &clk, 0);
    /* many wraps in order: nothing missing */
    for (uint32_t q = 3; q < 3 + 3 * 65536; q++)
        ASSERT_EQ(gw_nack_gen_on_packet(&g, (uint16_t)q, fc.now), GW_NACK_NEW);
    ASSERT_EQ(g.missing, 0);
    ASSERT_EQ(g.given_up, 1); /* 0 fell out of the window */
}

static void test_jumps(void)
{
    struct fake_clock fc = {0};
    struct vb_clock clk = {fake_now, fake_now, &fc};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, NULL);
    feed(&g, &clk, 10, GW_NACK_NEW);
    feed(&g, &clk, 12, GW_NACK_NEW);
    feed(&g, &clk, 10 + 600, GW_NACK_RESET); /* a jump: no NACK storm for 589 numbers */
    POLL_NONE(&g, &clk);
    ASSERT_EQ(g.given_up, 1); /* the open gap (11) was abandoned */
    feed(&g, &clk, 612, GW_NACK_NEW);
    POLL(&g, &clk, 611);

    /* exactly a window ahead is still tracked: 511 gaps, oldest first */
    gw_nack_gen_init(&g, NULL);
    feed(&g, &clk, 10, GW_NACK_NEW);
    feed(&g, &clk, 10 + GW_NACK_WINDOW, GW_NACK_NEW);
    uint16_t got[GW_NACK_WINDOW];
    ASSERT_EQ(gw_nack_gen_poll(&g, fc.now, got, GW_NACK_WINDOW), GW_NACK_WINDOW - 1);
    for (unsigned i = 0; i < GW_NACK_WINDOW - 1; i++)
        ASSERT_EQ(got[i], 11 + i);

    /* far behind once: ignored; twice in sequence: the sender restarted */
    gw_nack_gen_init(&g, NULL);
    feed(&g, &clk, 1000, GW_NACK_NEW);
    feed(&g, &clk, 100, GW_NACK_OLD);
    feed(&g, &clk, 1001, GW_NACK_NEW);
    feed(&g, &clk, 101, GW_NACK_OLD); /* the candidate was forgotten by 1001 */
    feed(&g, &clk, 102, GW_NACK_RESET);
    feed(&g, &clk, 104, GW_NACK_NEW);
    POLL(&g, &clk, 103);
}

static void test_window_slides(void)
{
    struct fake_clock fc = {0};
    struct vb_clock clk = {fake_now, fake_now, &fc};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, NULL);
    feed(&g, &clk, 10, GW_NACK_NEW);
    feed(&g, &clk, 12, GW_NACK_NEW);
    for (uint16_t q = 13; q < 11 + GW_NACK_WINDOW; q++)
        feed(&g, &clk, q, GW_NACK_NEW);
    ASSERT_EQ(g.missing, 1); /* 11 is still inside the window */
    feed(&g, &clk, 11 + GW_NACK_WINDOW, GW_NACK_NEW);
    ASSERT_EQ(g.missing, 0); /* now it is not: given up without a poll */
    ASSERT_EQ(g.given_up, 1);
    POLL_NONE(&g, &clk);
    feed(&g, &clk, 11, GW_NACK_OLD);
}

static void test_capacity(void)
{
    struct fake_clock fc = {0};
    struct vb_clock clk = {fake_now, fake_now, &fc};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, NULL);
    feed(&g, &clk, 10, GW_NACK_NEW);
    feed(&g, &clk, 61, GW_NACK_NEW); /* 11..60 missing */
    uint16_t got[20];
    for (int round = 0; round < 3; round++) {
        size_t n = gw_nack_gen_poll(&g, fc.now, got, 20);
        ASSERT_EQ(n, round < 2 ? 20 : 10);
        for (size_t i = 0; i < n; i++)
            ASSERT_EQ(got[i], 11 + 20 * round + (int)i);
    }
    POLL_NONE(&g, &clk);
    ASSERT_EQ(g.requested, 50);
    gw_nack_gen_set_retry(&g, 5 * MS);
    fc.now += 5 * MS;
    ASSERT_EQ(gw_nack_gen_poll(&g, fc.now, got, 20), 20);
    ASSERT_EQ(got[0], 11);
}

/* The generator's list through the RTCP builder and parser. */
static void test_into_rtcp(void)
{
    struct fake_clock fc = {0};
    struct gw_nack_gen g;
    gw_nack_gen_init(&g, NULL);
    static const uint16_t recv[] = {65500, 65502, 65503, 65520, 65521, 3, 4, 40};
    for (size_t i = 0; i < sizeof recv / sizeof recv[0]; i++)
        gw_nack_gen_on_packet(&g, recv[i], fc.now);
    uint16_t seqs[GW_NACK_WINDOW];
    size_t n = gw_nack_gen_poll(&g, fc.now, seqs, GW_NACK_WINDOW);
    ASSERT_EQ(n, 1 + 16 + 17 + 35);
    uint8_t buf[512];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    ASSERT_EQ(gw_rtcp_write_nack(&w, 1, 2, seqs, n), 0);
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, buf, w.len);
    ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 1);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_NACK);
    ASSERT_EQ(b.items, 5); /* 65501, 65518, 65535, 16, 33 */
    uint16_t back[17 * 5];
    ASSERT_EQ(gw_rtcp_block_nack_seqs(buf, &b, back, 17 * 5), n);
    ASSERT_MEMEQ(back, seqs, n * sizeof seqs[0]);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"gap_retry_giveup", test_gap_retry_giveup},
        {"reorder_delay", test_reorder_delay},
        {"max_age", test_max_age},
        {"wrap", test_wrap},
        {"jumps", test_jumps},
        {"window_slides", test_window_slides},
        {"capacity", test_capacity},
        {"into_rtcp", test_into_rtcp},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
