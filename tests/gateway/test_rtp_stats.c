/* Tests of gateway/rtp statistics: receiver statistics (RFC 3550 A.1, A.3, A.8) against a
 * simulated stream with loss, reordering, duplicates and sequence wraps, whose expected counts
 * and jitter the test computes on its own (jitter in floating point, as A.8's formula); loss
 * fractions, resynchronization after a jump, LSR/DLSR; sender statistics, SR extrapolation and
 * RTT from report blocks. */
#include <errno.h>

#include "gateway/rtp/rtcp.h"
#include "tests/test.h"

#define RATE 48000
#define FRAME_US 20000
#define FRAME_TS 960

static double dabs(double x)
{
    return x < 0 ? -x : x;
}

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

struct sim_pkt {
    uint32_t i; /* index in the sent stream: seq = start + i, ts = i * FRAME_TS */
    int64_t arrival_us;
};

static int by_arrival(const void *a, const void *b)
{
    const struct sim_pkt *x = a, *y = b;
    return (x->arrival_us > y->arrival_us) - (x->arrival_us < y->arrival_us);
}

/* Sent packet i leaves at i * 20 ms and takes 30-55 ms, so some overtake others; 2% are lost,
 * about 1% arrive twice. Returns the packets in arrival order. */
static struct sim_pkt *simulate(uint32_t n, size_t *count)
{
    struct sim_pkt *v = malloc(sizeof *v * n * 2);
    ASSERT(v);
    uint32_t st = 12345;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lcg(&st);
        if (i > 0 && r % 50 == 0)
            continue;
        int64_t delay = i == 0 ? 30000 : 30000 + (int64_t)(lcg(&st) % 25000);
        v[k++] = (struct sim_pkt){i, (int64_t)i * FRAME_US + delay + 1000000};
        if (r % 97 == 1)
            v[k++] = (struct sim_pkt){i, (int64_t)i * FRAME_US + delay + 1000000 + 5000};
    }
    qsort(v, k, sizeof *v, by_arrival);
    *count = k;
    return v;
}

/* The reference: A.3 counts and A.8 jitter (double) fed by packets that advance the highest. */
struct reference {
    bool started;
    uint32_t highest;
    uint64_t received;
    double transit, jitter;
    uint32_t exp_prior;
    uint64_t rcv_prior;
};

static void reference_feed(struct reference *r, const struct sim_pkt *p)
{
    r->received++;
    double transit = (double)p->arrival_us * RATE / 1e6 - (double)p->i * FRAME_TS;
    if (!r->started || p->i > r->highest) {
        if (r->started) {
            double d = dabs(transit - r->transit);
            r->jitter += (d - r->jitter) / 16.0;
        }
        r->transit = transit;
        r->highest = p->i;
        r->started = true;
    }
}

static void test_simulated_stream(void)
{
    const uint16_t start = 65000; /* wraps after 536 packets, and again */
    size_t n;
    struct sim_pkt *v = simulate(70000, &n);
    struct gw_rtp_rx_stats s;
    gw_rtp_rx_stats_init(&s, 0xabc, RATE);
    struct reference ref = {0};
    int reordered = 0, reports = 0;
    uint32_t highest_seen = 0;
    for (size_t k = 0; k < n; k++) {
        uint16_t seq = (uint16_t)(start + v[k].i);
        uint32_t ts = v[k].i * FRAME_TS;
        reordered += v[k].i < highest_seen;
        if (v[k].i > highest_seen)
            highest_seen = v[k].i;
        ASSERT_EQ(gw_rtp_rx_stats_update(&s, seq, ts, 100, v[k].arrival_us), 0);
        reference_feed(&ref, &v[k]);
        if (k % 5000 == 4999) { /* a report: compare the interval's fraction lost */
            struct gw_rtcp_report_block rb;
            ASSERT_EQ(gw_rtp_rx_stats_report(&s, v[k].arrival_us, &rb), 0);
            uint32_t expected = ref.highest + 1;
            int64_t exp_int = expected - ref.exp_prior;
            int64_t lost_int = exp_int - (int64_t)(ref.received - ref.rcv_prior);
            uint8_t frac = lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0;
            ASSERT_EQ(rb.fraction_lost, frac);
            ASSERT_EQ(rb.cumulative_lost, (int64_t)expected - (int64_t)ref.received);
            ASSERT_UEQ(rb.highest_seq, (uint32_t)start + ref.highest);
            ref.exp_prior = expected;
            ref.rcv_prior = ref.received;
            reports++;
        }
    }
    ASSERT_GT(reordered, 100); /* the simulation did reorder */
    ASSERT_GT(reports, 10);
    ASSERT_UEQ(gw_rtp_rx_stats_ext_max(&s), (uint32_t)start + ref.highest);
    ASSERT_EQ(s.received, ref.received);
    ASSERT_EQ(s.bytes, ref.received * 100);
    ASSERT_EQ(gw_rtp_rx_stats_lost(&s), (int64_t)ref.highest + 1 - (int64_t)ref.received);
    ASSERT_GT(gw_rtp_rx_stats_lost(&s), 100);
    double want = ref.jitter, got = gw_rtp_rx_stats_jitter(&s);
    fprintf(stderr, "jitter %.1f (reference %.1f), lost %" PRId64 "\n", got, want,
            gw_rtp_rx_stats_lost(&s));
    ASSERT_GT(want, 100); /* ~ several ms at 48 kHz */
    ASSERT(dabs(got - want) <= 2 + want * 0.01);
    free(v);
}

static void test_jitter_constant_and_step(void)
{
    struct gw_rtp_rx_stats s;
    gw_rtp_rx_stats_init(&s, 1, 90000);
    for (uint32_t i = 0; i < 100; i++) /* constant delay: no jitter */
        ASSERT_EQ(gw_rtp_rx_stats_update(&s, (uint16_t)i, i * 3000, 1000, 5000000 + i * 33333), 0);
    ASSERT_LE(gw_rtp_rx_stats_jitter(&s), 1);
    /* one packet 10 ms late: D = 899 units (arrival truncated to units), jitter 899/16 */
    gw_rtp_rx_stats_init(&s, 1, 90000);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 0, 0, 1, 1000000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 1, 3000, 1, 1000000 + 33333 + 10000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_jitter(&s), 56);
    /* a late (reordered) packet does not feed the jitter */
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 0, 0, 1, 9000000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_jitter(&s), 56);
    /* clock rate 0: no jitter at all */
    gw_rtp_rx_stats_init(&s, 1, 0);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 0, 0, 1, 0), 0);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 1, 3000, 1, 999999), 0);
    ASSERT_EQ(gw_rtp_rx_stats_jitter(&s), 0);
}

static void test_fraction_and_clamp(void)
{
    struct gw_rtp_rx_stats s;
    struct gw_rtcp_report_block rb;
    gw_rtp_rx_stats_init(&s, 7, RATE);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), -ENODATA);
    for (uint16_t q = 0; q < 100; q++)
        if (q % 10 != 5)
            ASSERT_EQ(gw_rtp_rx_stats_update(&s, q, q * 960u, 10, q * 20000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), 0);
    ASSERT_EQ(rb.ssrc, 7);
    ASSERT_EQ(rb.fraction_lost, 25); /* 10 of 100: 25.6/256 */
    ASSERT_EQ(rb.cumulative_lost, 10);
    ASSERT_EQ(rb.highest_seq, 99);
    ASSERT_EQ(rb.lsr, 0);
    ASSERT_EQ(rb.dlsr, 0);
    for (uint16_t q = 100; q < 200; q++)
        ASSERT_EQ(gw_rtp_rx_stats_update(&s, q, q * 960u, 10, q * 20000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), 0);
    ASSERT_EQ(rb.fraction_lost, 0);
    ASSERT_EQ(rb.cumulative_lost, 10);
    /* duplicates only: more received than expected, loss negative, fraction 0 */
    for (int k = 0; k < 30; k++)
        ASSERT_EQ(gw_rtp_rx_stats_update(&s, 199, 199 * 960u, 10, 5000000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), 0);
    ASSERT_EQ(rb.fraction_lost, 0);
    ASSERT_EQ(rb.cumulative_lost, -20);
    /* new packets and a duplicate: the interval lost -1, reported as 0 */
    for (uint16_t q = 200; q < 210; q++)
        ASSERT_EQ(gw_rtp_rx_stats_update(&s, q, q * 960u, 10, q * 20000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 209, 209 * 960u, 10, 5000000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), 0);
    ASSERT_EQ(rb.fraction_lost, 0);
    ASSERT_EQ(rb.cumulative_lost, -21);
    /* all of an interval lost: 255 at most */
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 1199, 0, 10, 6000000), 0);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), 0);
    ASSERT_EQ(rb.fraction_lost, 255); /* 999 of 1000 */
    /* a loss beyond 24 bits is reported clamped */
    s.cycles = 300u << 16;
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), 0);
    ASSERT_EQ(rb.cumulative_lost, 0x7fffff);
}

static void test_wrap_and_resync(void)
{
    struct gw_rtp_rx_stats s;
    struct gw_rtcp_report_block rb;
    gw_rtp_rx_stats_init(&s, 7, RATE);
    for (uint32_t q = 65530; q < 65546; q++)
        ASSERT_EQ(gw_rtp_rx_stats_update(&s, (uint16_t)q, 0, 1, 0), 0);
    ASSERT_EQ(gw_rtp_rx_stats_ext_max(&s), 65545);
    ASSERT_EQ(s.cycles, 65536);
    ASSERT_EQ(gw_rtp_rx_stats_lost(&s), 0);
    /* a lone jump is held, not counted; normal packets go on */
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 20000, 0, 1, 0), -EAGAIN);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 10, 0, 1, 0), 0);
    ASSERT_EQ(gw_rtp_rx_stats_ext_max(&s), 65546);
    ASSERT_EQ(s.received, 17);
    /* a jump confirmed by the next packet restarts the counts */
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 30000, 0, 1, 0), -EAGAIN);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 30001, 0, 1, 0), 0);
    ASSERT_EQ(s.received, 1);
    ASSERT_EQ(gw_rtp_rx_stats_ext_max(&s), 30001);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 30002, 0, 1, 0), 0);
    /* an old packet (within the misorder allowance) counts: loss goes negative */
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 29990, 0, 1, 0), 0);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 0, &rb), 0);
    ASSERT_EQ(rb.highest_seq, 30002);
    ASSERT_EQ(rb.cumulative_lost, -1);
}

static void test_lsr_dlsr(void)
{
    struct gw_rtp_rx_stats s;
    struct gw_rtcp_report_block rb;
    gw_rtp_rx_stats_init(&s, 7, RATE);
    ASSERT_EQ(gw_rtp_rx_stats_update(&s, 1, 0, 1, 0), 0);
    uint64_t ntp = 0xe93c5a8080000000ull;
    gw_rtp_rx_stats_on_sr(&s, ntp, 10000000);
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 10500000, &rb), 0);
    ASSERT_UEQ(rb.lsr, 0x5a808000u);
    ASSERT_EQ(rb.dlsr, 32768); /* 0.5 s in 1/65536 s */
    ASSERT_EQ(gw_rtp_rx_stats_report(&s, 12000000, &rb), 0);
    ASSERT_EQ(rb.dlsr, 131072);
}

static void test_sender(void)
{
    struct gw_rtp_tx_stats s;
    struct gw_rtcp_sr sr;
    gw_rtp_tx_stats_init(&s, 0x5151, RATE);
    ASSERT_EQ(s.rtt_us, -1);
    ASSERT_EQ(gw_rtp_tx_stats_sr(&s, 0, 0, &sr), -ENODATA);
    gw_rtp_tx_stats_update(&s, 1000, 100, 1000000);
    gw_rtp_tx_stats_update(&s, 1960, 50, 1020000);
    int64_t real = 1700000000500000;
    ASSERT_EQ(gw_rtp_tx_stats_sr(&s, real, 1040000, &sr), 0);
    ASSERT_EQ(sr.ssrc, 0x5151);
    ASSERT_EQ(sr.rtp_ts, 2920); /* 20 ms after the last packet */
    ASSERT_EQ(sr.packets, 2);
    ASSERT_EQ(sr.octets, 150);
    ASSERT_UEQ(sr.ntp, gw_rtcp_ntp_from_us(real));
    ASSERT_EQ(gw_rtp_tx_stats_sr(&s, real, 1000000, &sr), 0); /* clock behind: no extrapolation */
    ASSERT_EQ(sr.rtp_ts, 1960);

    /* the receiver reports 0.5 s after our SR, we read it 0.75 s after: RTT 250 ms */
    struct gw_rtcp_report_block rb = {.ssrc = 0x5151,
                                      .fraction_lost = 12,
                                      .cumulative_lost = 34,
                                      .jitter = 56,
                                      .lsr = gw_rtcp_ntp_middle(gw_rtcp_ntp_from_us(real)),
                                      .dlsr = 32768};
    gw_rtp_tx_stats_on_report(&s, &rb, real + 750000);
    ASSERT_EQ(s.rtt_us, 250000);
    ASSERT_EQ(s.remote_fraction_lost, 12);
    ASSERT_EQ(s.remote_lost, 34);
    ASSERT_EQ(s.remote_jitter, 56);
    rb.ssrc = 1; /* about another stream: ignored */
    rb.jitter = 1;
    gw_rtp_tx_stats_on_report(&s, &rb, real + 700000);
    ASSERT_EQ(s.remote_jitter, 56);
    rb.ssrc = 0x5151; /* no LSR: the RTT stays */
    rb.lsr = 0;
    gw_rtp_tx_stats_on_report(&s, &rb, real + 700000);
    ASSERT_EQ(s.rtt_us, 250000);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"simulated_stream", test_simulated_stream},
        {"jitter_constant_and_step", test_jitter_constant_and_step},
        {"fraction_and_clamp", test_fraction_and_clamp},
        {"wrap_and_resync", test_wrap_and_resync},
        {"lsr_dlsr", test_lsr_dlsr},
        {"sender", test_sender},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
