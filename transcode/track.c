/* This file implements a track's input side: opening an MJR file for conversion, reading
 * its RTP packets, keeping one source across SSRC changes, extending sequence numbers and
 * timestamps, and feeding the reorder window. Frame assembly is in track_frame.c.
 *
 * DESIGN: Janus's recorder already rewrites sequence numbers and timestamps so that they
 * continue across an SSRC change; files from other recorders may jump instead. So a packet
 * of a new SSRC is first unwrapped as if nothing changed; if that lands within a plausible
 * distance of the last packet it is a continuation as recorded, otherwise the new source is
 * shifted to continue right after the old one (next sequence number, timestamp advanced by
 * the wall time between the two packets). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "transcode/track.h"

#define CONTINUE_SEQ 1000                    /* sequence numbers a continuation may skip */
#define CONTINUE_SECONDS 30                  /* and seconds of RTP time */
#define CVO_URI "urn:3gpp:video-orientation" /* the video-orientation extension */

/* The extension id of video orientation: -v, else the header's "x" map. */
static int orientation_ext_id(const struct tc_track *t)
{
    if (t->opts->videoorient_ext > 0)
        return t->opts->videoorient_ext;
    json_t *x = json_object_get(mjr_reader_header(t->rd), "x");
    const char *key;
    json_t *val;
    json_object_foreach(x, key, val)
    {
        const char *uri = json_string_value(val);
        if (uri && strcmp(uri, CVO_URI) == 0)
            return atoi(key);
    }
    return 0;
}

int tc_track_open(struct tc_track *t, const char *path, const struct tc_options *o, char *err,
                  size_t errlen)
{
    memset(t, 0, sizeof(*t));
    t->path = path;
    t->opts = o;
    int rc = mjr_reader_open(path, &t->rd, err, errlen);
    if (rc < 0)
        return rc;
    struct stat stt;
    if (stat(path, &stt) == 0)
        t->file_size = (uint64_t)stt.st_size;
    t->kind = mjr_reader_kind(t->rd);
    const char *codec = mjr_reader_codec(t->rd);
    json_t *hdr = mjr_reader_header(t->rd);
    if (!codec || t->kind == MJR_KIND_UNKNOWN) {
        snprintf(err, errlen, "%s: the recording has no usable header (%s)", path,
                 mjr_reader_diag(t->rd)[0] ? mjr_reader_diag(t->rd) : "no frames");
        tc_track_close(t);
        return -EBADMSG;
    }
    if (json_is_true(json_object_get(hdr, "e"))) {
        snprintf(err, errlen,
                 "%s: the recording is end-to-end encrypted (\"e\": true); its media cannot be "
                 "converted without the keys",
                 path);
        tc_track_close(t);
        return -ENOTSUP;
    }
    snprintf(t->codec, sizeof(t->codec), "%s", codec);
    snprintf(t->st.codec, sizeof(t->st.codec), "%s", codec);
    for (char *c = t->codec; *c; c++)
        *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    vb_buf_init(&t->out, 16u * 1024 * 1024);
    vb_buf_init(&t->held_buf, 16u * 1024 * 1024);
    vb_buf_init(&t->payloads, 16u * 1024 * 1024);
    if (t->kind == MJR_KIND_DATA) {
        t->clock_rate = 1000000;
        return 0;
    }
    t->ops = tc_depay_find(t->codec);
    if (!t->ops) {
        snprintf(err, errlen, "%s: codec \"%s\" is not supported", path, codec);
        tc_track_close(t);
        return -ENOTSUP;
    }
    t->clock_rate = mjr_codec_clock_rate(t->codec);
    if (!t->clock_rate)
        t->clock_rate = t->kind == MJR_KIND_VIDEO ? 90000 : 48000;
    t->depay = tc_depay_new(t->ops);
    tc_reorder_init(&t->ro);
    t->want_key = t->kind == MJR_KIND_VIDEO;
    return 0;
}

void tc_track_close(struct tc_track *t)
{
    mjr_reader_destroy(t->rd);
    t->rd = NULL;
    tc_depay_free(t->depay);
    t->depay = NULL;
    tc_reorder_release(&t->ro);
    vb_buf_free(&t->out);
    vb_buf_free(&t->held_buf);
    vb_buf_free(&t->payloads);
}

/* Maps a packet's sequence number and timestamp onto the track's continuous timeline. */
static void extend(struct tc_track *t, const struct tc_rtp_hdr *h, uint32_t t_ms, struct tc_pkt *p)
{
    if (t->have_ssrc && h->ssrc != t->ssrc) {
        struct tc_unwrap s = t->useq, u = t->uts;
        int64_t seq = (int64_t)tc_unwrap_seq(&s, h->seq) + t->seq_shift;
        int64_t ts = (int64_t)tc_unwrap_ts(&u, h->ts) + t->ts_shift;
        int64_t dseq = seq - (int64_t)t->last_seq, dts = ts - t->last_ts;
        bool continues = dseq > -CONTINUE_SEQ && dseq < CONTINUE_SEQ &&
                         dts > -(int64_t)t->clock_rate * CONTINUE_SECONDS &&
                         dts < (int64_t)t->clock_rate * CONTINUE_SECONDS;
        if (!continues) {
            memset(&t->useq, 0, sizeof(t->useq));
            memset(&t->uts, 0, sizeof(t->uts));
            int64_t gap_ms = t_ms > t->last_t_ms ? (int64_t)(t_ms - t->last_t_ms) : 0;
            int64_t step = gap_ms * t->clock_rate / 1000;
            t->seq_shift = (int64_t)t->last_seq + 1 - (int64_t)tc_unwrap_seq(&t->useq, h->seq);
            t->ts_shift =
                t->last_ts + (step > 0 ? step : 1) - (int64_t)tc_unwrap_ts(&t->uts, h->ts);
        }
        t->ssrc = h->ssrc;
    }
    t->have_ssrc = true;
    t->ssrc = h->ssrc;
    p->seq = (uint64_t)((int64_t)tc_unwrap_seq(&t->useq, h->seq) + t->seq_shift);
    p->ts = (int64_t)tc_unwrap_ts(&t->uts, h->ts) + t->ts_shift;
    if (t->opts->ignore_rtp_ts)
        p->ts = (int64_t)t_ms * t->clock_rate / 1000;
    if (p->seq > t->last_seq || t->last_seq == 0) {
        t->last_seq = p->seq;
        t->last_ts = p->ts;
        t->last_t_ms = t_ms;
    }
}

/* -C: janus-pp-rec's SIP silence suppression. A marked audio packet close in sequence
 * numbers to the last one but more than ten times further in RTP time than that distance
 * explains starts suppression and is dropped; the next packet ends it. */
static bool silence_marker(struct tc_track *t, const struct tc_rtp_hdr *h, const struct tc_pkt *p,
                           uint64_t prev_seq, int64_t prev_ts)
{
    if (t->ssup_on) {
        t->ssup_on = false;
        return false;
    }
    if (!h->marker)
        return false;
    int64_t dseq = (int64_t)(p->seq - prev_seq);
    if (dseq < 0)
        dseq = -dseq;
    if (dseq >= t->opts->silence_distance)
        return false;
    int64_t step = strncmp(t->codec, "opus", 4) == 0 || strcmp(t->codec, "multiopus") == 0
                       ? 960
                       : 160; /* 20 ms packets */
    int64_t dts = p->ts - prev_ts;
    if (dts < 0)
        dts = -dts;
    if (dts <= 10 * step * dseq)
        return false;
    t->ssup_on = true;
    return true;
}

/* Reads one MJR frame and pushes it into the window. 1: read (maybe refused), 0: end of
 * input (a damaged end included: the reader's diagnostic says how it ended). */
static int read_packet(struct tc_track *t)
{
    struct mjr_frame f;
    if (mjr_reader_next(t->rd, &f) == 0) {
        t->input_done = true;
        return 0;
    }
    t->file_pos = f.end;
    t->st.packets++;
    struct tc_rtp_hdr h;
    if (f.len > TC_PKT_MAX || tc_rtp_parse(f.body, f.len, &h) < 0) {
        t->st.refused++;
        return 1;
    }
    if (t->skipped_first < t->opts->ignore_first) {
        t->skipped_first++;
        t->st.refused++;
        return 1;
    }
    if (t->opts->payload_type >= 0 && h.pt != t->opts->payload_type) {
        t->st.refused++;
        return 1;
    }
    if (t->kind == MJR_KIND_VIDEO && !t->rotation) {
        int id = orientation_ext_id(t);
        const uint8_t *cvo;
        if (id > 0 && tc_rtp_ext_find(&h, (unsigned)id, &cvo) >= 1)
            t->rotation = (cvo[0] & 3) * 90;
    }
    struct tc_pkt stage;
    struct tc_pkt *p = &stage;
    uint64_t prev_seq = t->last_seq;
    int64_t prev_ts = t->last_ts;
    bool had_ssrc = t->have_ssrc;
    extend(t, &h, f.t_ms, p);
    if (t->kind == MJR_KIND_AUDIO && t->opts->silence_distance > 0 && had_ssrc &&
        silence_marker(t, &h, p, prev_seq, prev_ts)) {
        t->st.refused++;
        return 1;
    }
    p->t_ms = f.t_ms;
    p->marker = h.marker;
    p->len = (uint16_t)f.len;
    p->off = (uint16_t)(h.payload - f.body);
    memcpy(p->data, f.body, f.len);
    /* Padding-only packets keep their place in the sequence (no false loss) and are
     * skipped when they come out. */
    p->len = (uint16_t)(p->off + h.payload_len);
    tc_reorder_push(&t->ro, p);
    return 1;
}

int tc_track_packet(struct tc_track *t, const struct tc_pkt **out)
{
    for (;;) {
        const struct tc_pkt *p = tc_reorder_pop(&t->ro, t->input_done);
        if (p) {
            if (!t->have_origin) {
                t->have_origin = true;
                t->origin_ts = p->ts;
                t->start_us = mjr_reader_first_frame_us(t->rd) + (int64_t)p->t_ms * 1000;
            }
            *out = p;
            return 1;
        }
        if (t->input_done)
            return 0;
        read_packet(t);
    }
}
