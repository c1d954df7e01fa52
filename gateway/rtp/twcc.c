/* This file implements transport-cc feedback (twcc.h): a ring of arrival times by
 * transport-wide sequence number, and the feedback packet built from it.
 *
 * DESIGN: a feedback covers the numbers [next_seq, max_seq]. Statuses are written as two-bit
 * status vector chunks (seven symbols each: not received, small delta, large or negative delta),
 * which can express any sequence; deltas are relative to the previous received packet, the first
 * to the reference time (the first arrival rounded down to 64 ms). A delta that does not fit the
 * 16-bit signed large form (a gap over 8 s) ends the feedback early: the next one starts a new
 * reference time. The packet is padded to 32 bits with the P bit, as libwebrtc writes it. */
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "gateway/rtp/twcc.h"

#define TWCC_PT 205 /* RTPFB */
#define TWCC_FMT 15
#define DELTA_UNIT_US 250
#define REF_UNIT_US 64000
#define SYM_NONE 0
#define SYM_SMALL 1
#define SYM_LARGE 2

void gw_twcc_rx_init(struct gw_twcc_rx *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < GW_TWCC_WINDOW; i++)
        t->arrival_us[i] = -1;
}

/* Signed distance from a to b in the 16-bit sequence space. */
static int seq_diff(uint16_t a, uint16_t b)
{
    return (int16_t)(uint16_t)(b - a);
}

void gw_twcc_rx_on_packet(struct gw_twcc_rx *t, uint16_t seq, int64_t arrival_us)
{
    if (!t->started) {
        t->started = true;
        t->next_seq = t->max_seq = seq;
    } else if (seq_diff(t->next_seq, seq) < 0) {
        return; /* already reported (or far too old) */
    } else if (seq_diff(t->max_seq, seq) > 0) {
        t->max_seq = seq;
    }
    /* The window holds [next_seq, next_seq + WINDOW): a sender far ahead drops the oldest. */
    if (seq_diff(t->next_seq, t->max_seq) >= GW_TWCC_WINDOW)
        t->next_seq = (uint16_t)(t->max_seq - GW_TWCC_WINDOW + 1);
    size_t slot = seq % GW_TWCC_WINDOW;
    t->arrival_us[slot] = arrival_us;
    t->seq_of[slot] = seq;
    t->received++;
}

static int64_t arrival_of(const struct gw_twcc_rx *t, uint16_t seq)
{
    size_t slot = seq % GW_TWCC_WINDOW;
    return t->seq_of[slot] == seq ? t->arrival_us[slot] : -1;
}

/* Floor division for the reference time (arrivals are positive here, but be exact). */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int gw_twcc_rx_feedback(struct gw_twcc_rx *t, struct gw_rtcp_writer *w, uint32_t sender,
                        uint32_t media)
{
    if (!t->started || seq_diff(t->next_seq, t->max_seq) < 0)
        return 0;
    /* The first received packet sets the reference time. A run of losses too long for one
     * feedback before it is skipped (left unreported: there is no time to report it against). */
    size_t span = (size_t)seq_diff(t->next_seq, t->max_seq) + 1, lead = 0;
    int64_t first = -1;
    for (; lead < span && first < 0; lead++)
        first = arrival_of(t, (uint16_t)(t->next_seq + lead));
    if (first < 0)
        return 0;
    if (--lead >= GW_TWCC_MAX_PER_FB) {
        t->next_seq = (uint16_t)(t->next_seq + lead);
        span -= lead;
    }
    size_t count = span < GW_TWCC_MAX_PER_FB ? span : GW_TWCC_MAX_PER_FB;
    int64_t ref = floor_div(first, REF_UNIT_US);
    /* Symbols and deltas; stop before a delta the large form cannot hold. */
    uint8_t sym[GW_TWCC_MAX_PER_FB];
    int16_t delta[GW_TWCC_MAX_PER_FB];
    size_t n = 0, ndeltas = 0, delta_bytes = 0;
    int64_t prev = ref * REF_UNIT_US;
    for (; n < count; n++) {
        int64_t at = arrival_of(t, (uint16_t)(t->next_seq + n));
        if (at < 0) {
            sym[n] = SYM_NONE;
            continue;
        }
        int64_t d = floor_div(at - prev, DELTA_UNIT_US);
        if (d < INT16_MIN || d > INT16_MAX)
            break;
        sym[n] = d >= 0 && d <= 255 ? SYM_SMALL : SYM_LARGE;
        delta[ndeltas++] = (int16_t)d;
        delta_bytes += sym[n] == SYM_SMALL ? 1 : 2;
        prev += d * DELTA_UNIT_US; /* the receiver sums the deltas we write */
    }
    size_t chunks = (n + 6) / 7;
    size_t body = 20 + 2 * chunks + delta_bytes; /* header 8, media 4, base..count 8 */
    size_t size = (body + 3) & ~(size_t)3;
    if (size > w->cap - w->len) {
        if (w->err == 0)
            w->err = -ENOSPC;
        return -ENOSPC;
    }
    uint8_t *p = w->buf + w->len;
    memset(p, 0, size);
    size_t pad = size - body;
    p[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | TWCC_FMT);
    p[1] = TWCC_PT;
    wr_u16(p + 2, (uint16_t)(size / 4 - 1));
    wr_u32(p + 4, sender);
    wr_u32(p + 8, media);
    wr_u16(p + 12, t->next_seq);
    wr_u16(p + 14, (uint16_t)n);
    uint32_t ref24 = (uint32_t)ref & 0xffffff;
    wr_u32(p + 16, ref24 << 8 | t->fb_count);
    uint8_t *q = p + 20;
    for (size_t c = 0; c < chunks; c++, q += 2) {
        uint16_t chunk = 0xC000; /* status vector, two-bit symbols */
        for (size_t k = 0; k < 7; k++) {
            size_t i = c * 7 + k;
            chunk |= (uint16_t)((i < n ? sym[i] : SYM_NONE) << (12 - 2 * k));
        }
        wr_u16(q, chunk);
    }
    for (size_t i = 0, d = 0; i < n; i++) {
        if (sym[i] == SYM_SMALL) {
            *q++ = (uint8_t)delta[d++];
        } else if (sym[i] == SYM_LARGE) {
            wr_u16(q, (uint16_t)delta[d++]);
            q += 2;
        }
    }
    if (pad)
        p[size - 1] = (uint8_t)pad;
    w->len += size;
    t->next_seq = (uint16_t)(t->next_seq + n);
    t->fb_count++;
    t->reported += n;
    t->feedbacks++;
    return 1;
}
