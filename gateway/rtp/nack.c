/* This file implements the NACK generator: the missing sequence numbers of one incoming stream,
 * tracked in a fixed window behind the highest received, and the decision of which to request
 * now (RFC 4585 generic NACK) and which to give up.
 *
 * DESIGN: sequence numbers are extended to 32 bits and compared by signed difference, so the
 * 16-bit wrap is no special case. Slot i of the ring holds the gap whose extended number is
 * i modulo the window; when the highest advances, the slots it passes are reused, which gives
 * up the gaps that fell out of the window without a separate sweep. `oldest_missing` is a
 * lower bound of the open gaps so that a poll does not walk the whole window each time. */
#include "gateway/rtp/rtcp.h"

#include <string.h>

#define DEFAULT_RETRY_US 100000
#define DEFAULT_RETRIES 10
#define DEFAULT_MAX_AGE_US 1000000
#define WINDOW ((uint32_t)GW_NACK_WINDOW)

void gw_nack_gen_init(struct gw_nack_gen *g, const struct gw_nack_config *cfg)
{
    memset(g, 0, sizeof *g);
    if (cfg)
        g->cfg = *cfg;
    if (g->cfg.reorder_us < 0)
        g->cfg.reorder_us = 0;
    if (g->cfg.retry_us <= 0)
        g->cfg.retry_us = DEFAULT_RETRY_US;
    if (g->cfg.max_retries == 0)
        g->cfg.max_retries = DEFAULT_RETRIES;
    if (g->cfg.max_age_us <= 0)
        g->cfg.max_age_us = DEFAULT_MAX_AGE_US;
}

void gw_nack_gen_set_retry(struct gw_nack_gen *g, int64_t retry_us)
{
    g->cfg.retry_us = retry_us > 0 ? retry_us : DEFAULT_RETRY_US;
}

static struct gw_nack_slot *slot_of(struct gw_nack_gen *g, uint32_t ext)
{
    return &g->slots[ext % WINDOW];
}

static void drop(struct gw_nack_gen *g, struct gw_nack_slot *s)
{
    s->missing = false;
    g->missing--;
}

/* Restarts tracking with `ext` as the highest; open gaps are abandoned (counted given up). */
static void reset(struct gw_nack_gen *g, uint32_t ext)
{
    g->given_up += g->missing;
    g->missing = 0;
    memset(g->slots, 0, sizeof g->slots);
    g->started = true;
    g->highest = ext;
    g->oldest_missing = ext + 1;
    g->have_bad = false;
}

/* The highest moves forward to `ext` (at most a window ahead): every number passed becomes a
 * gap, and the slots they reuse give up what they held. */
static void advance(struct gw_nack_gen *g, uint32_t ext, int64_t now_us)
{
    for (uint32_t s = g->highest + 1; s != ext + 1; s++) {
        struct gw_nack_slot *sl = slot_of(g, s);
        if (sl->missing) {
            drop(g, sl);
            g->given_up++;
        }
        if (s == ext)
            break;
        *sl = (struct gw_nack_slot){.ext_seq = s, .missing = true, .missing_since = now_us};
        g->missing++;
    }
    g->highest = ext;
}

enum gw_nack_result gw_nack_gen_on_packet(struct gw_nack_gen *g, uint16_t seq, int64_t now_us)
{
    if (!g->started) {
        reset(g, 0x10000u + seq); /* one epoch up: room for reordered packets before it */
        return GW_NACK_NEW;
    }
    int16_t delta = (int16_t)(uint16_t)(seq - (uint16_t)g->highest);
    uint32_t ext = g->highest + (uint32_t)(int32_t)delta;
    if (delta > 0) {
        if ((uint32_t)delta > WINDOW) {
            reset(g, ext);
            return GW_NACK_RESET;
        }
        g->have_bad = false;
        advance(g, ext, now_us);
        return GW_NACK_NEW;
    }
    if (delta == 0)
        return GW_NACK_OLD;
    if ((uint32_t) - (int32_t)delta >= WINDOW) { /* far behind: a restart if the next follows */
        if (g->have_bad && seq == (uint16_t)g->bad_seq) {
            reset(g, ext);
            return GW_NACK_RESET;
        }
        g->bad_seq = seq + 1u;
        g->have_bad = true;
        return GW_NACK_OLD;
    }
    struct gw_nack_slot *sl = slot_of(g, ext);
    if (!sl->missing || sl->ext_seq != ext)
        return GW_NACK_OLD;
    drop(g, sl);
    g->recovered++;
    return GW_NACK_RECOVERED;
}

/* One gap at poll time: true when it should be requested now; gives it up when it is due but
 * out of retries, or too old. */
static bool due(struct gw_nack_gen *g, struct gw_nack_slot *sl, int64_t now_us)
{
    int64_t age = now_us - sl->missing_since;
    if (age > g->cfg.max_age_us) {
        drop(g, sl);
        g->given_up++;
        return false;
    }
    if (age < g->cfg.reorder_us)
        return false;
    if (sl->tries > 0 && now_us - sl->last_sent < g->cfg.retry_us)
        return false;
    if (sl->tries >= g->cfg.max_retries) {
        drop(g, sl);
        g->given_up++;
        return false;
    }
    return true;
}

size_t gw_nack_gen_poll(struct gw_nack_gen *g, int64_t now_us, uint16_t *seqs, size_t cap)
{
    if (g->missing == 0)
        return 0;
    uint32_t lo = g->highest - WINDOW + 1, s = g->oldest_missing;
    if ((int32_t)(s - lo) < 0)
        s = lo;
    bool seen = false;
    size_t n = 0;
    for (; s != g->highest && g->missing > 0; s++) {
        struct gw_nack_slot *sl = slot_of(g, s);
        if (!sl->missing || sl->ext_seq != s)
            continue;
        if (n < cap && due(g, sl, now_us)) {
            seqs[n++] = (uint16_t)s;
            sl->tries++;
            sl->last_sent = now_us;
            g->requested++;
        }
        if (sl->missing && !seen) {
            g->oldest_missing = s;
            seen = true;
        }
    }
    if (!seen)
        g->oldest_missing = g->highest + 1;
    return n;
}
