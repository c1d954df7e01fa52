/* This file implements the RTP sequence/timestamp rewrite Janus's recorder applies before
 * saving a packet, so that our files carry the same numbers as Janus's.
 *
 * DESIGN: the written sequence number starts at 1 and the timestamp at 0. Both continue
 * relative to the source (written = source - base + base_prev). When the SSRC changes, or
 * after a resume, the bases are taken again from the next packet: the sequence continues at
 * last + 1 and the timestamp at last + the wall time elapsed since the previous packet (or
 * since the resume) at the codec's clock rate, at least 1 tick, so playback stays seamless.
 * Janus assumes 48 kHz for any audio but G.711/G.722; we use the codec's real rate, which is
 * the same for every codec Janus records but L16 at 16 kHz. */
#include "mjr/mjr.h"

void mjr_rebase_apply(struct mjr_rebase *rb, uint32_t ssrc, uint16_t seq, uint32_t ts,
                      int64_t now_us, uint16_t *out_seq, uint32_t *out_ts)
{
    if (!rb->started || ssrc != rb->last_ssrc) {
        rb->last_ssrc = ssrc;
        rb->reset = true;
    }
    if (rb->reset) {
        rb->base_ts_prev = rb->last_ts;
        rb->base_ts = ts;
        if (rb->started && rb->last_time_us > 0) {
            int64_t elapsed = now_us - rb->last_time_us;
            if (elapsed < 0)
                elapsed = 0;
            uint32_t rate = rb->clock_rate ? rb->clock_rate : 48000;
            uint64_t ticks = (uint64_t)elapsed * (rate / 1000) / 1000;
            if (ticks == 0)
                ticks = 1;
            rb->base_ts_prev += (uint32_t)ticks;
            rb->last_ts += (uint32_t)ticks;
        }
        rb->base_seq_prev = rb->last_seq;
        rb->base_seq = seq;
        rb->reset = false;
        rb->started = true;
    }
    rb->last_ts = (uint32_t)(ts - rb->base_ts) + rb->base_ts_prev;
    rb->last_seq = (uint16_t)((uint16_t)(seq - rb->base_seq) + rb->base_seq_prev + 1);
    rb->last_time_us = now_us;
    *out_seq = rb->last_seq;
    *out_ts = rb->last_ts;
}

void mjr_rebase_resume(struct mjr_rebase *rb, int64_t now_us)
{
    if (!rb->started)
        return;
    rb->reset = true;
    rb->last_time_us = now_us;
}
