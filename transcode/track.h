/* transcode/track.h — one MJR input as a sequence of timed frames (internal to transcode/).
 *
 * A track reads its file through the mjr reader, parses RTP, keeps one source (the first
 * SSRC, following SSRC changes as a continuation), extends sequence numbers and timestamps,
 * reorders in a bounded window, groups video packets by timestamp, depacketizes, and fills
 * audio gaps. Frames come out in presentation order with a time in the codec's RTP clock
 * from the track's first packet. Data tracks yield one frame per message with its wall time.
 *
 * Ownership: the caller owns the struct; tc_track_open() allocates what it holds and
 * tc_track_close() frees it. Frames returned by tc_track_next() are borrowed until the next
 * call. One thread. */
#ifndef VB_TRANSCODE_TRACK_H
#define VB_TRANSCODE_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "mjr/mjr.h"
#include "transcode/depay.h"
#include "transcode/reorder.h"
#include "transcode/rtp.h"
#include "transcode/transcode.h"

#define TC_FRAME_PKTS 1024 /* packets of one video frame at most */

struct tc_frame {
    const uint8_t *data;
    size_t len;
    int64_t pts;      /* RTP clock units from the track's first packet (data: µs) */
    int64_t duration; /* same units; 0 when unknown */
    bool key;
    bool filled;       /* inserted to fill a gap */
    int width, height; /* declared by this frame's bitstream, else 0 */
};

/* Audio clock skew compensation (skew.c). Zeroed at open. */
struct tc_skew {
    bool started, dropping;
    uint32_t start_ms;
    int64_t start_ts;
    double delay;  /* smoothed RTP time minus expected, in ticks */
    int64_t shift; /* ticks added to every timestamp from here on */
    uint64_t jumps, drops;
};

/* Returns the packet's timestamp corrected for the drift of the sender's clock (threshold
 * in ms, arrival time t_ms, the packet's duration in ticks); *drop: the packet must be
 * dropped to let the wall clock catch up. */
int64_t tc_skew_apply(struct tc_skew *k, uint32_t rate, int threshold_ms, uint32_t t_ms, int64_t ts,
                      int64_t duration, bool *drop);

struct tc_track {
    const char *path;
    struct mjr_reader *rd;
    enum mjr_kind kind;
    char codec[16];
    uint32_t clock_rate; /* RTP clock; data tracks: 1,000,000 (µs) */
    const struct tc_options *opts;
    const struct tc_depay_ops *ops;
    struct tc_depay *depay;
    uint64_t file_size;
    uint64_t file_pos;

    /* Source tracking. */
    bool have_ssrc;
    uint32_t ssrc;
    struct tc_unwrap useq, uts;
    int64_t seq_shift, ts_shift; /* added after an SSRC change that does not continue */
    uint64_t last_seq;
    int64_t last_ts;
    uint32_t last_t_ms;
    unsigned skipped_first;
    struct tc_reorder ro;
    bool input_done;
    bool drained;

    /* Timeline. */
    bool have_origin;
    int64_t origin_ts; /* extended ts of the first packet out of the window */
    int64_t start_us;  /* wall clock of that packet (u + t_ms) */

    /* Frame assembly (video): packets of one timestamp; payload copies in `payloads`. */
    struct tc_rtp group[TC_FRAME_PKTS];
    size_t group_off[TC_FRAME_PKTS];
    size_t group_n;
    struct vb_buf payloads;
    struct tc_pkt carry; /* the first packet of the next frame */
    bool has_carry;
    bool want_key; /* drop frames until the first keyframe */

    /* Audio gap filling. */
    bool have_prev;
    int64_t next_ts;      /* where the previous audio frame ended (extended RTP ts) */
    uint8_t prev_toc;     /* Opus: the previous packet's TOC byte */
    int64_t fill_left;    /* fill frames still to insert before `held` */
    int64_t fill_unit;    /* RTP ticks per fill frame */
    int64_t fill_pts;     /* pts of the next fill frame */
    uint8_t fill_opus[1]; /* a TOC-only Opus packet: one zero-length frame (PLC) */

    /* Restamping (-r/-c/-n, audio): latencies of the last packets, in a ring. */
    int64_t restamp_offset; /* ticks added to every timestamp from here on */
    double latency[1000];
    unsigned latency_n, latency_at;
    bool ssup_on;        /* -C: in SIP silence suppression (the next packet leaves it) */
    struct tc_skew skew; /* -S */
    int64_t jump_shift;  /* ticks removed at RTP time jumps the arrival times do not show */
    uint32_t prev_t_ms;  /* arrival time of the previous audio frame */
    int64_t prev_dur;    /* and its duration in ticks */

    /* A frame read ahead and not yet returned (after a fill). */
    bool held_valid;
    struct tc_frame held;
    int64_t data_origin_us; /* data tracks: time of the first message */
    bool data_started;

    struct vb_buf out; /* the current frame's bytes */
    struct vb_buf held_buf;
    int rotation; /* degrees, from the video-orientation extension */
    struct tc_track_stats st;
};

/* Opens `path`. Returns 0, or -errno with a sentence in err: not MJR (-EBADMSG), an
 * encrypted recording (-ENOTSUP), a codec without depacketizer (-ENOTSUP), I/O (-errno). */
int tc_track_open(struct tc_track *t, const char *path, const struct tc_options *o, char *err,
                  size_t errlen);

/* The next frame: 1 with *f, 0 at the end, -errno on a failure (err filled). */
int tc_track_next(struct tc_track *t, struct tc_frame *f, char *err, size_t errlen);

void tc_track_close(struct tc_track *t);

/* The next RTP packet in sequence order (track_frame.c's input): 1, or 0 at the end. */
int tc_track_packet(struct tc_track *t, const struct tc_pkt **out);

#endif
