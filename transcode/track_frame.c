/* This file implements a track's output side: turning ordered RTP packets into frames
 * (grouping video packets by timestamp and depacketizing), timing them, and filling audio
 * gaps so that audio stays as long as the time it covers.
 *
 * DESIGN: a video frame is every consecutive packet with one timestamp (the marker bit is
 * not trusted, as janus-pp-rec does not). Frames before the first keyframe cannot be decoded
 * and are skipped; a damaged frame (lost packets inside it) is dropped and counted, and the
 * frames after it are kept (a player shows artifacts until the next keyframe, as it would
 * have live). Audio gaps (loss or DTX) are filled with frames sized from the stream itself:
 * for Opus a TOC-only packet (one zero-length frame, which decoders conceal) of the
 * previous packet's frame duration; for PCM codecs silence samples. */
#include <errno.h>
#include <string.h>

#include "transcode/track.h"

#define FILL_MAX_BYTES 8000 /* PCM silence per fill frame */
#define FILL_MAX_GAP_S 3600 /* longer gaps are left as gaps */

static int64_t pcm_ticks(const struct tc_track *t, size_t len)
{
    if (strncmp(t->codec, "l16", 3) == 0)
        return (int64_t)(len / 2);
    return (int64_t)len; /* G.711: a byte per sample; G.722: a byte per 8 kHz tick */
}

static uint8_t pcm_silence(const struct tc_track *t)
{
    if (strcmp(t->codec, "pcmu") == 0 || strcmp(t->codec, "g711") == 0)
        return 0xff;
    if (strcmp(t->codec, "pcma") == 0)
        return 0xd5;
    return 0;
}

static bool is_opus(const struct tc_track *t)
{
    return strcmp(t->codec, "opus") == 0 || strcmp(t->codec, "multiopus") == 0;
}

/* Duration of an audio frame in RTP ticks; 0 if unknown. */
static int64_t audio_ticks(const struct tc_track *t, const uint8_t *p, size_t len)
{
    if (is_opus(t))
        return tc_opus_packet_samples(p, len);
    return pcm_ticks(t, len);
}

/* The length of the next fill frame in ticks, 0 when the gap is filled. */
static int64_t fill_next_unit(const struct tc_track *t)
{
    if (is_opus(t)) /* whole frames of the previous packet's duration; a remainder stays */
        return t->fill_left >= t->fill_unit ? t->fill_unit : 0;
    return t->fill_left < FILL_MAX_BYTES ? t->fill_left : FILL_MAX_BYTES;
}

static int emit_fill(struct tc_track *t, struct tc_frame *f)
{
    int64_t unit = fill_next_unit(t);
    memset(f, 0, sizeof(*f));
    f->pts = t->fill_pts;
    f->duration = unit;
    f->key = true;
    f->filled = true;
    if (is_opus(t)) {
        t->fill_opus[0] = t->prev_toc & 0xfc; /* code 0: one frame, here of zero length */
        f->data = t->fill_opus;
        f->len = 1;
    } else {
        uint8_t silence[2 * FILL_MAX_BYTES];
        size_t bytes = (size_t)unit * (strncmp(t->codec, "l16", 3) == 0 ? 2 : 1);
        memset(silence, pcm_silence(t), bytes);
        t->out.len = 0;
        if (vb_buf_put(&t->out, silence, bytes) < 0)
            return -E2BIG;
        f->data = t->out.p;
        f->len = bytes;
    }
    t->fill_pts += unit;
    t->fill_left -= unit;
    if (fill_next_unit(t) == 0)
        t->fill_left = 0;
    t->st.filled_frames++;
    return 1;
}

/* Plans the fill of a gap of `gap` ticks before the frame held back. A gap of more than an
 * hour is not filled: the stream stopped rather than went quiet, and the timestamps keep
 * its place (WAV, which has none, closes it up). This also bounds the work a corrupt file
 * can ask for. */
static void plan_fill(struct tc_track *t, int64_t gap)
{
    t->fill_unit = 0;
    if (gap > FILL_MAX_GAP_S * (int64_t)t->clock_rate) {
        t->st.unfilled_gaps++;
        return;
    }
    if (is_opus(t)) {
        uint8_t toc = t->prev_toc & 0xfc;
        t->fill_unit = tc_opus_packet_samples(&toc, 1);
        if (t->fill_unit == 0 || gap < t->fill_unit)
            return;
    }
    t->fill_left = gap;
    t->fill_pts = t->next_ts - t->origin_ts;
}

/* janus-pp-rec's restamping: a packet whose latency (arrival time minus RTP time) jumps above
 * both the threshold and the moving average x restamp/1000 moves the rest of the timeline
 * forward by the jump, so that audio that paused in RTP time keeps its wall-clock place. */
static int64_t restamp(struct tc_track *t, const struct tc_pkt *p)
{
    const struct tc_options *o = t->opts;
    int64_t ts = p->ts + t->restamp_offset;
    double rate = (double)t->clock_rate;
    double latency = (double)p->t_ms / 1000.0 - (double)(ts - t->origin_ts) / rate;
    unsigned window = (unsigned)o->restamp_packets;
    if (window == 0 || window > sizeof(t->latency) / sizeof(t->latency[0]))
        window = 10;
    if (latency > (double)o->restamp_min_th_ms / 1000.0 && t->latency_n > 0) {
        double sum = 0;
        unsigned n = t->latency_n < window ? t->latency_n : window;
        for (unsigned i = 0; i < n; i++)
            sum += t->latency[(t->latency_at + window - 1 - i) % window];
        double avg = sum / n;
        if (latency > avg * o->restamp / 1000.0) {
            int64_t jump = (int64_t)((latency - avg) * rate);
            t->restamp_offset += jump;
            ts += jump;
            latency = avg;
        }
    }
    t->latency[t->latency_at % window] = latency;
    t->latency_at = (t->latency_at + 1) % window;
    t->latency_n++;
    return ts;
}

/* How much of an audio gap of `gap` ticks is a jump of the sender's RTP clock rather than
 * time that passed: in MJR00002 files, what exceeds the arrival-time gap by more than 5 s;
 * in older files (no arrival times), what exceeds 10 minutes. Such a gap is closed up, not
 * filled, so that a corrupt or reset timestamp cannot make hours of silence. */
static int64_t gap_excess(const struct tc_track *t, int64_t gap, uint32_t t_ms)
{
    int64_t rate = t->clock_rate;
    if (mjr_reader_version(t->rd) == MJR_VERSION_2) {
        /* The time that passed after the previous frame ended, by the arrival times. */
        int64_t arrival = t_ms > t->prev_t_ms ? (int64_t)(t_ms - t->prev_t_ms) * rate / 1000 : 0;
        arrival = arrival > t->prev_dur ? arrival - t->prev_dur : 0;
        return gap > arrival + 5 * rate ? gap - arrival : 0;
    }
    return gap > 600 * rate ? gap - 600 * rate : 0;
}

static int audio_next(struct tc_track *t, struct tc_frame *f)
{
    const struct tc_pkt *p;
    while (tc_track_packet(t, &p) == 1) {
        if (p->len <= p->off)
            continue;
        int64_t ts = t->opts->restamp > 0 ? restamp(t, p) : p->ts;
        struct tc_rtp r = {.payload = p->data + p->off,
                           .len = (size_t)(p->len - p->off),
                           .seq = p->seq,
                           .ts = ts,
                           .marker = p->marker};
        struct tc_frame_info fi = {0};
        t->out.len = 0;
        if (t->ops->frame(t->depay->state, &r, 1, &t->out, &fi) < 0) {
            t->st.damaged_frames++;
            continue;
        }
        if (t->opts->audioskew_ms > 0) {
            bool drop;
            ts = tc_skew_apply(&t->skew, t->clock_rate, t->opts->audioskew_ms, p->t_ms, ts,
                               audio_ticks(t, r.payload, r.len), &drop);
            if (drop) {
                t->st.skew_dropped++;
                continue;
            }
        }
        ts += t->jump_shift;
        if (t->have_prev && ts + audio_ticks(t, r.payload, r.len) <= t->next_ts) {
            t->st.duplicates++; /* wholly before what was already written */
            continue;
        }
        int64_t gap = t->have_prev ? ts - t->next_ts : 0;
        int64_t excess = gap > 0 ? gap_excess(t, gap, p->t_ms) : 0;
        if (excess > 0) { /* a jump in RTP time only: close it up rather than fill it */
            t->jump_shift -= excess;
            ts -= excess;
            gap -= excess;
            t->st.discontinuities++;
        }
        memset(f, 0, sizeof(*f));
        f->pts = ts - t->origin_ts;
        f->duration = audio_ticks(t, r.payload, r.len);
        f->key = true;
        t->prev_t_ms = p->t_ms;
        t->prev_dur = f->duration;
        t->have_prev = true;
        if (is_opus(t))
            t->prev_toc = r.payload[0];
        t->st.frames++;
        if (gap > 0)
            plan_fill(t, gap); /* from where the previous frame ended */
        t->next_ts = ts + f->duration;
        if (t->fill_left > 0) {
            /* Hold this frame back; the fill comes first. */
            t->held_buf.len = 0;
            if (vb_buf_put(&t->held_buf, t->out.p, t->out.len) < 0)
                return -E2BIG;
            t->held = *f;
            t->held.data = t->held_buf.p;
            t->held.len = t->held_buf.len;
            t->held_valid = true;
            return emit_fill(t, f);
        }
        f->data = t->out.p;
        f->len = t->out.len;
        return 1;
    }
    return 0;
}

static int group_add(struct tc_track *t, const struct tc_pkt *p)
{
    if (t->group_n == TC_FRAME_PKTS)
        return -E2BIG;
    size_t at = t->payloads.len;
    int rc = vb_buf_put(&t->payloads, p->data + p->off, (size_t)(p->len - p->off));
    if (rc < 0)
        return rc;
    t->group[t->group_n] = (struct tc_rtp){
        .len = (size_t)(p->len - p->off), .seq = p->seq, .ts = p->ts, .marker = p->marker};
    t->group_off[t->group_n] = at;
    t->group_n++;
    return 0;
}

/* Collects the packets of the next timestamp. Returns false at the end of the track. */
static bool collect_group(struct tc_track *t, bool *overflow)
{
    t->group_n = 0;
    t->payloads.len = 0;
    *overflow = false;
    if (t->has_carry) {
        t->has_carry = false;
        if (group_add(t, &t->carry) < 0)
            *overflow = true;
    }
    const struct tc_pkt *p;
    while (tc_track_packet(t, &p) == 1) {
        if (p->len <= p->off)
            continue; /* padding only */
        if (t->group_n > 0 && p->ts != t->group[0].ts) {
            memcpy(&t->carry, p, offsetof(struct tc_pkt, data));
            memcpy(t->carry.data, p->data, p->len);
            t->has_carry = true;
            break;
        }
        if (group_add(t, p) < 0)
            *overflow = true;
    }
    for (size_t i = 0; i < t->group_n; i++)
        t->group[i].payload = t->payloads.p + t->group_off[i];
    return t->group_n > 0;
}

static int video_next(struct tc_track *t, struct tc_frame *f)
{
    bool overflow;
    while (collect_group(t, &overflow)) {
        struct tc_frame_info fi = {0};
        t->out.len = 0;
        int rc = t->ops->frame(t->depay->state, t->group, t->group_n, &t->out, &fi);
        if (rc < 0 || fi.damaged || overflow) {
            t->st.damaged_frames++;
            continue;
        }
        if (t->want_key && !fi.key) {
            t->st.skipped_frames++;
            continue;
        }
        t->want_key = false;
        if (fi.key)
            t->st.key_frames++;
        if (fi.width > 0 && t->st.width == 0) {
            t->st.width = fi.width;
            t->st.height = fi.height;
        }
        t->st.frames++;
        memset(f, 0, sizeof(*f));
        f->data = t->out.p;
        f->len = t->out.len;
        f->pts = t->group[0].ts - t->origin_ts;
        f->key = fi.key;
        f->width = fi.width;
        f->height = fi.height;
        return 1;
    }
    return 0;
}

static int data_next(struct tc_track *t, struct tc_frame *f)
{
    struct mjr_frame mf;
    if (mjr_reader_next(t->rd, &mf) == 0)
        return 0;
    t->file_pos = mf.end;
    t->st.packets++;
    int64_t when = mf.data_real_us ? mf.data_real_us
                                   : mjr_reader_first_frame_us(t->rd) + (int64_t)mf.t_ms * 1000;
    if (!t->data_started) {
        /* Times count from the recording's creation ("s"), as janus-pp-rec's do. */
        int64_t created = mjr_reader_created_us(t->rd);
        t->data_started = true;
        t->data_origin_us = created > 0 && created <= when ? created : when;
        t->start_us = t->data_origin_us;
    }
    memset(f, 0, sizeof(*f));
    f->data = mf.body;
    f->len = mf.len;
    f->pts = when - t->data_origin_us;
    f->key = true;
    t->st.frames++;
    return 1;
}

int tc_track_next(struct tc_track *t, struct tc_frame *f, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    if (t->kind == MJR_KIND_DATA)
        return data_next(t, f);
    if (t->fill_left > 0)
        return emit_fill(t, f);
    if (t->held_valid) {
        t->held_valid = false;
        *f = t->held;
        return 1;
    }
    return t->kind == MJR_KIND_VIDEO ? video_next(t, f) : audio_next(t, f);
}
