/* This file implements sequence number and timestamp continuity for one forwarded RTP stream
 * whose packets come from changing sources (RFC 3550 section 5.1: a receiver expects seq to
 * grow by one per packet and ts to follow the media clock).
 *
 * DESIGN: every source gets a constant pair of offsets, chosen at its first packet so that it
 * continues right after the newest packet sent; the packets of a source are then mapped by
 * adding the offsets, which keeps reordering and loss visible to the receiver exactly as they
 * were (so its NACKs still name the right packets). A packet dropped on purpose lowers the seq
 * offset by one for the packets after it; the skipped input seqs of the recent past are kept in
 * a small ring, so a late packet from before a skip is numbered with the offset that was in
 * force for it, instead of landing on a number already used. All comparisons of seq values are
 * serial (RFC 1982), modulo 2^16. */
#include "gateway/rtp/switch.h"

#include <errno.h>
#include <string.h>

#include "gateway/rtp/rtp.h"

/* Beyond this distance from its first packet a source is old: seq arithmetic can no longer
 * tell a packet older than the first one from a much newer one. */
#define YOUNG_SPAN 0x4000

/* True when seq a comes after seq b. */
static bool seq_newer(uint16_t a, uint16_t b)
{
    return (int16_t)(uint16_t)(a - b) > 0;
}

static bool ts_newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

void gw_rtp_switch_init(struct gw_rtp_switch *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof *s);
    s->clock_rate = clock_rate;
}

void gw_rtp_switch_reset(struct gw_rtp_switch *s)
{
    s->have_source = false;
}

/* Clock units for the wall time since the newest packet went out, modulo 2^32, at least 1. */
static uint32_t elapsed_units(const struct gw_rtp_switch *s, int64_t now_us)
{
    int64_t us = now_us - s->last_us;
    if (us <= 0)
        return 1;
    if (us > INT64_C(1000000000000)) /* 11 days; whole seconds x rate stays far below 2^64 */
        us = INT64_C(1000000000000);
    uint64_t sec = (uint64_t)us / 1000000u, frac = (uint64_t)us % 1000000u;
    uint32_t units = (uint32_t)(sec * s->clock_rate + frac * s->clock_rate / 1000000u);
    return units == 0 ? 1 : units;
}

/* Makes the packet (input seq, ts) of `ssrc` the first of a new source. */
static void start_source(struct gw_rtp_switch *s, uint32_t ssrc, uint16_t seq, uint32_t ts,
                         int64_t now_us)
{
    if (s->sending) {
        s->seq_off = (uint16_t)(s->last_seq + 1 - seq);
        s->ts_off = s->last_ts + elapsed_units(s, now_us) - ts;
    } else {
        s->seq_off = 0;
        s->ts_off = 0;
    }
    s->follows = s->sending;
    s->have_source = true;
    s->young = true;
    s->ssrc = ssrc;
    s->first_seq = seq;
    s->max_seq = (uint16_t)(seq - 1); /* so that the first packet counts as the newest */
    s->nskips = 0;
    s->skip_head = 0;
    s->skips_lost = false;
}

/* Notes `seq` as the newest input of the current source. */
static void advance_max(struct gw_rtp_switch *s, uint16_t seq)
{
    s->max_seq = seq;
    if ((uint16_t)(seq - s->first_seq) >= YOUNG_SPAN)
        s->young = false;
}

/* The seq offset for a late packet `seq` (older than max_seq): the current one plus one per
 * remembered skip after it. -ESTALE when it is older than what the ring remembers. */
static int late_offset(const struct gw_rtp_switch *s, uint16_t seq, uint16_t *off)
{
    uint16_t o = s->seq_off;
    for (unsigned i = 0; i < s->nskips; i++)
        if (seq_newer(s->skips[i], seq))
            o++;
    if (s->skips_lost && s->nskips > 0 && seq_newer(s->skips[s->skip_head], seq))
        return -ESTALE;
    *off = o;
    return 0;
}

/* True when `seq` is older than the first packet of a source that followed another one. */
static bool before_first(const struct gw_rtp_switch *s, uint16_t seq)
{
    if (!s->follows || !s->young)
        return false;
    return (uint16_t)(seq - s->first_seq) > (uint16_t)(s->max_seq - s->first_seq);
}

int gw_rtp_switch_apply(struct gw_rtp_switch *s, uint8_t *pkt, size_t len, int64_t now_us)
{
    struct gw_rtp_hdr h;
    if (gw_rtp_parse(pkt, len, &h) != 0)
        return -EINVAL;
    if (!s->have_source || h.ssrc != s->ssrc)
        start_source(s, h.ssrc, h.seq, h.ts, now_us);
    uint16_t off = s->seq_off;
    bool newest = seq_newer(h.seq, s->max_seq);
    if (!newest) {
        if (before_first(s, h.seq) || late_offset(s, h.seq, &off) != 0)
            return -ESTALE;
    }
    uint16_t out_seq = (uint16_t)(h.seq + off);
    uint32_t out_ts = h.ts + s->ts_off;
    gw_rtp_set_seq(pkt, out_seq);
    gw_rtp_set_ts(pkt, out_ts);
    if (newest)
        advance_max(s, h.seq);
    if (!s->sending || seq_newer(out_seq, s->last_seq)) {
        s->last_seq = out_seq;
        s->last_us = now_us;
    }
    if (!s->sending || ts_newer(out_ts, s->last_ts))
        s->last_ts = out_ts;
    s->sending = true;
    return 0;
}

void gw_rtp_switch_skip(struct gw_rtp_switch *s, const uint8_t *pkt, size_t len)
{
    struct gw_rtp_hdr h;
    if (gw_rtp_parse(pkt, len, &h) != 0 || !s->have_source || h.ssrc != s->ssrc ||
        !seq_newer(h.seq, s->max_seq))
        return;
    advance_max(s, h.seq);
    s->seq_off--;
    if (s->nskips < GW_RTP_SWITCH_SKIPS) {
        s->skips[s->nskips++] = h.seq;
        return;
    }
    s->skips[s->skip_head] = h.seq; /* overwrite the oldest */
    s->skip_head = (uint8_t)((s->skip_head + 1) % GW_RTP_SWITCH_SKIPS);
    s->skips_lost = true;
}
