/* bench/bench_rtp.h — synthetic RTP streams that look like a media server's input (header
 * only, see bench_util.h for why).
 *
 * A stream is audio (Opus, PT 111, one packet of 82-122 bytes every 20 ms, timestamp +960)
 * or video (VP8, PT 96, a frame every 1/30 s made of 5 packets of 1000-1200 bytes sharing one
 * timestamp, +3000 per frame, marker bit on the last packet). Each stream has a fixed SSRC and
 * random initial sequence number and timestamp, and a random phase within its period so that
 * streams do not all fire at once. Everything is drawn from a per-stream xorshift generator,
 * so the same index gives the same packets in every pass of a benchmark.
 *
 * Packets are built in a caller-owned buffer whose payload bytes the caller fills once
 * (bench_rtp_fill_payload); only the header and the first payload byte are written per packet,
 * which keeps generation cheap next to what is measured. */
#ifndef VB_BENCH_RTP_H
#define VB_BENCH_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bench/bench_util.h"
#include "common/bytes.h"
#include "mjr/mjr.h"

#define BENCH_RTP_HEADER 12
#define BENCH_RTP_MAX 1500
#define BENCH_AUDIO_PERIOD_NS 20000000LL          /* 50 packets/s */
#define BENCH_VIDEO_PERIOD_NS (1000000000LL / 30) /* 30 frames/s ... */
#define BENCH_VIDEO_PACKETS 5                     /* ... of 5 packets: 150 packets/s */

/* The packet source of one stream. Owned by the thread that produces its packets. */
struct bench_rtp {
    enum mjr_kind kind;
    uint32_t ssrc, ts, ts_step;
    uint16_t seq;
    uint8_t pt;
    bool talkspurt;
    uint64_t rng;
    int64_t due_ns;    /* time of the next event (packet or frame), from the stream's start */
    int64_t period_ns; /* time between events */
};

/* Stream `index`: even indices are audio, odd ones video. */
static inline void bench_rtp_init(struct bench_rtp *g, size_t index)
{
    memset(g, 0, sizeof(*g));
    g->rng = 0x9E3779B97F4A7C15ull * (index + 1) + 0x1234567;
    g->kind = index % 2 == 0 ? MJR_KIND_AUDIO : MJR_KIND_VIDEO;
    g->ssrc = (uint32_t)bench_rand_next(&g->rng) | 1;
    g->seq = (uint16_t)bench_rand_next(&g->rng);
    g->ts = (uint32_t)bench_rand_next(&g->rng);
    g->talkspurt = true;
    if (g->kind == MJR_KIND_AUDIO) {
        g->pt = 111;
        g->ts_step = 960;
        g->period_ns = BENCH_AUDIO_PERIOD_NS;
    } else {
        g->pt = 96;
        g->ts_step = 3000;
        g->period_ns = BENCH_VIDEO_PERIOD_NS;
    }
    g->due_ns = (int64_t)(bench_rand_next(&g->rng) % (uint64_t)g->period_ns);
}

/* Packets per event: 1 for audio, 5 for a video frame. */
static inline unsigned bench_rtp_packets(const struct bench_rtp *g)
{
    return g->kind == MJR_KIND_VIDEO ? BENCH_VIDEO_PACKETS : 1;
}

/* The codec name for an MJR header. */
static inline const char *bench_rtp_codec(const struct bench_rtp *g)
{
    return g->kind == MJR_KIND_AUDIO ? "opus" : "vp8";
}

/* Fills the payload area of a BENCH_RTP_MAX-byte packet buffer with pseudo-random bytes. */
static inline void bench_rtp_fill_payload(uint8_t *buf, uint64_t seed)
{
    memset(buf, 0, BENCH_RTP_HEADER);
    for (size_t i = BENCH_RTP_HEADER; i < BENCH_RTP_MAX; i++)
        buf[i] = (uint8_t)bench_rand_next(&seed);
}

/* Writes packet `k` (0-based) of the current event into `buf` and returns its length. */
static inline size_t bench_rtp_packet(struct bench_rtp *g, uint8_t *buf, unsigned k)
{
    uint64_t r = bench_rand_next(&g->rng);
    bool marker;
    size_t len;
    if (g->kind == MJR_KIND_AUDIO) {
        marker = g->talkspurt;
        g->talkspurt = r % 500 == 0; /* a new talkspurt now and then */
        len = 82 + (size_t)(r >> 32) % 41;
        buf[BENCH_RTP_HEADER] = 0x78; /* Opus TOC byte */
    } else {
        marker = k + 1 == BENCH_VIDEO_PACKETS; /* last packet of the frame */
        len = 1000 + (size_t)(r >> 32) % 201;
        buf[BENCH_RTP_HEADER] = k == 0 ? 0x10 : 0x00; /* VP8 descriptor, S bit on the first */
    }
    buf[0] = 0x80;
    buf[1] = (uint8_t)((marker ? 0x80 : 0) | g->pt);
    wr_u16(buf + 2, g->seq++);
    wr_u32(buf + 4, g->ts);
    wr_u32(buf + 8, g->ssrc);
    return len;
}

/* Moves to the next event once its packets were sent. */
static inline void bench_rtp_advance(struct bench_rtp *g)
{
    g->ts += g->ts_step;
    g->due_ns += g->period_ns;
}

#endif
