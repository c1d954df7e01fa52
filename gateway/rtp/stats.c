/* This file implements NTP time conversion, the round trip from report blocks, and the
 * receiver and sender statistics of RFC 3550 appendix A: sequence tracking with wraps and
 * resynchronization (A.1), expected/lost and the fraction lost between reports (A.3), and the
 * interarrival jitter (A.8), all in integer arithmetic.
 *
 * DESIGN: unlike A.1 there is no probation for a new source. Packets reach here after SRTP
 * authentication, so a source is real from its first packet, and a probation would only drop
 * the first packets from the counts. Jitter is fed only by packets that advance the highest
 * sequence number (see rtcp.h). */
#include "gateway/rtp/rtcp.h"

#include <errno.h>

#define NTP_UNIX_OFFSET 2208988800u /* seconds from 1900 to 1970 */
#define SEQ_MOD 65536u
#define MAX_DROPOUT 3000u
#define MAX_MISORDER 100u

uint64_t gw_rtcp_ntp_from_us(int64_t real_us)
{
    if (real_us < 0)
        real_us = 0;
    uint64_t sec = (uint64_t)(real_us / 1000000) + NTP_UNIX_OFFSET;
    uint64_t frac = ((uint64_t)(real_us % 1000000) << 32) / 1000000;
    return (sec << 32) | frac;
}

uint32_t gw_rtcp_ntp_middle(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

int64_t gw_rtcp_rtt_us(uint64_t arrival_ntp, uint32_t lsr, uint32_t dlsr)
{
    if (lsr == 0)
        return -1;
    uint32_t units = gw_rtcp_ntp_middle(arrival_ntp) - lsr - dlsr; /* 1/65536 s, mod 2^32 */
    if (units & 0x80000000u)
        return -1;
    return (int64_t)(((uint64_t)units * 1000000) >> 16);
}

/* `us` of monotonic time in units of a `rate` Hz clock, mod 2^32 (no 64-bit overflow for
 * any uptime). */
static uint32_t to_ts_units(int64_t us, uint32_t rate)
{
    uint64_t u = us < 0 ? 0 : (uint64_t)us;
    return (uint32_t)((u / 1000000) * rate + (u % 1000000) * rate / 1000000);
}

void gw_rtp_rx_stats_init(struct gw_rtp_rx_stats *s, uint32_t ssrc, uint32_t clock_rate)
{
    *s = (struct gw_rtp_rx_stats){.ssrc = ssrc, .clock_rate = clock_rate};
}

/* RFC 3550 A.1 init_seq: counting restarts at `seq`. */
static void restart(struct gw_rtp_rx_stats *s, uint16_t seq)
{
    s->started = true;
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = SEQ_MOD + 1; /* no candidate */
    s->cycles = 0;
    s->received = 0;
    s->expected_prior = 0;
    s->received_prior = 0;
    s->have_transit = false;
}

static void update_jitter(struct gw_rtp_rx_stats *s, uint32_t ts, int64_t arrival_us)
{
    if (s->clock_rate == 0)
        return;
    uint32_t transit = to_ts_units(arrival_us, s->clock_rate) - ts;
    if (s->have_transit) {
        int32_t d = (int32_t)(transit - s->transit);
        uint64_t ad = d < 0 ? (uint64_t) - (int64_t)d : (uint64_t)d;
        uint64_t j = (uint64_t)s->jitter_q4 + ad - ((s->jitter_q4 + 8u) >> 4);
        s->jitter_q4 = j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
    }
    s->transit = transit;
    s->have_transit = true;
}

int gw_rtp_rx_stats_update(struct gw_rtp_rx_stats *s, uint16_t seq, uint32_t ts, size_t bytes,
                           int64_t arrival_us)
{
    bool advanced = false;
    if (!s->started) {
        restart(s, seq);
        advanced = true;
    } else {
        uint16_t udelta = (uint16_t)(seq - s->max_seq);
        if (udelta < MAX_DROPOUT) { /* in order, maybe with a gap */
            if (seq < s->max_seq)
                s->cycles += SEQ_MOD;
            s->max_seq = seq;
            advanced = udelta != 0;
        } else if (udelta <= SEQ_MOD - MAX_MISORDER) { /* a big jump */
            if (seq != s->bad_seq) {
                s->bad_seq = (seq + 1u) & (SEQ_MOD - 1);
                return -EAGAIN;
            }
            restart(s, seq); /* two sequential packets: the sender restarted */
            advanced = true;
        } /* else a duplicate or reordered packet: counted, no jitter */
    }
    s->received++;
    s->bytes += bytes;
    if (advanced)
        update_jitter(s, ts, arrival_us);
    return 0;
}

void gw_rtp_rx_stats_on_sr(struct gw_rtp_rx_stats *s, uint64_t ntp, int64_t arrival_us)
{
    s->last_sr = gw_rtcp_ntp_middle(ntp);
    s->last_sr_us = arrival_us;
}

uint32_t gw_rtp_rx_stats_ext_max(const struct gw_rtp_rx_stats *s)
{
    return s->cycles + s->max_seq;
}

static int64_t expected(const struct gw_rtp_rx_stats *s)
{
    return (int64_t)gw_rtp_rx_stats_ext_max(s) - s->base_seq + 1;
}

int64_t gw_rtp_rx_stats_lost(const struct gw_rtp_rx_stats *s)
{
    return s->started ? expected(s) - (int64_t)s->received : 0;
}

uint32_t gw_rtp_rx_stats_jitter(const struct gw_rtp_rx_stats *s)
{
    return s->jitter_q4 >> 4;
}

int gw_rtp_rx_stats_report(struct gw_rtp_rx_stats *s, int64_t now_us,
                           struct gw_rtcp_report_block *rb)
{
    if (!s->started)
        return -ENODATA;
    int64_t exp = expected(s), lost = exp - (int64_t)s->received;
    int64_t exp_int = exp - (int64_t)s->expected_prior;
    int64_t lost_int = exp_int - (int64_t)(s->received - s->received_prior);
    s->expected_prior = (uint64_t)exp;
    s->received_prior = s->received;
    rb->ssrc = s->ssrc;
    rb->fraction_lost = 0;
    if (exp_int > 0 && lost_int > 0)
        rb->fraction_lost = (uint8_t)(lost_int >= exp_int ? 255 : (lost_int << 8) / exp_int);
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    rb->cumulative_lost = (int32_t)lost;
    rb->highest_seq = gw_rtp_rx_stats_ext_max(s);
    rb->jitter = gw_rtp_rx_stats_jitter(s);
    rb->lsr = s->last_sr;
    rb->dlsr = 0;
    if (s->last_sr && now_us > s->last_sr_us)
        rb->dlsr = (uint32_t)(((uint64_t)(now_us - s->last_sr_us) << 16) / 1000000);
    return 0;
}

void gw_rtp_tx_stats_init(struct gw_rtp_tx_stats *s, uint32_t ssrc, uint32_t clock_rate)
{
    *s = (struct gw_rtp_tx_stats){.ssrc = ssrc, .clock_rate = clock_rate, .rtt_us = -1};
}

void gw_rtp_tx_stats_update(struct gw_rtp_tx_stats *s, uint32_t ts, size_t payload_len,
                            int64_t now_us)
{
    s->packets++;
    s->octets += (uint32_t)payload_len;
    s->last_ts = ts;
    s->last_ts_us = now_us;
    s->have_ts = true;
}

int gw_rtp_tx_stats_sr(const struct gw_rtp_tx_stats *s, int64_t real_us, int64_t mono_us,
                       struct gw_rtcp_sr *out)
{
    if (!s->have_ts)
        return -ENODATA;
    int64_t elapsed = mono_us - s->last_ts_us;
    out->ssrc = s->ssrc;
    out->ntp = gw_rtcp_ntp_from_us(real_us);
    out->rtp_ts = s->last_ts + (elapsed > 0 ? to_ts_units(elapsed, s->clock_rate) : 0);
    out->packets = s->packets;
    out->octets = s->octets;
    return 0;
}

void gw_rtp_tx_stats_on_report(struct gw_rtp_tx_stats *s, const struct gw_rtcp_report_block *rb,
                               int64_t real_us)
{
    if (rb->ssrc != s->ssrc)
        return;
    s->remote_fraction_lost = rb->fraction_lost;
    s->remote_lost = rb->cumulative_lost;
    s->remote_jitter = rb->jitter;
    int64_t rtt = gw_rtcp_rtt_us(gw_rtcp_ntp_from_us(real_us), rb->lsr, rb->dlsr);
    if (rtt >= 0)
        s->rtt_us = rtt;
}
