/* This file implements a conversion job: one MJR file to one output, or several (audio and
 * video of a participant, or many participants) merged into one file with one track each.
 *
 * DESIGN: every input is a track (track.c) yielding timed frames in constant memory. Video
 * tracks are probed first with a second reader over the same file, up to their first
 * keyframe, for what a container header needs (codec configuration, resolution, rotation).
 * Each track's first frame is then read ahead, which fixes its start on the wall clock (the
 * MJR header's "u" plus the first packet's time). A merge places every track at its start
 * relative to the earliest, so tracks that began later or paused stay in sync; then frames
 * are written in time order across tracks (the muxer's interleaving queue stays short). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "transcode/format.h"
#include "transcode/mux.h"
#include "transcode/track.h"

#define PROGRESS_EVERY 2000     /* frames between progress calls */
#define SRT_LAST_CUE_US 5000000 /* as janus-pp-rec: the last cue shows 5 s */

struct job_track {
    struct tc_track t;
    const struct tc_codec_desc *codec;
    struct tc_frame next; /* read ahead */
    bool has_next;
    int64_t offset_us; /* where the track starts on the output's timeline */
    int stream;
    struct vb_buf extradata;
    int width, height, rotation;
    int64_t last_end; /* pts + duration of the last frame written, track clock */
    /* SRT: a cue is written when the next one's time is known. */
    struct vb_buf cue;
    int64_t cue_pts;
    bool has_cue;
};

struct job {
    const struct tc_job *job;
    struct tc_result *res;
    const struct tc_format_desc *fmt;
    struct job_track *tracks;
    size_t n;
    struct tc_mux mux;
    bool mux_open;
    tc_progress_fn progress;
    void *ud;
    uint64_t frames_written;
    double t0;
};

static int fail(struct job *j, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct job *j, int rc, const char *fmt, ...)
{
    char msg[sizeof(j->res->error)]; /* arguments may point into res->error itself */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    memcpy(j->res->error, msg, sizeof(msg));
    j->res->status = rc;
    return rc;
}

void tc_options_default(struct tc_options *o)
{
    memset(o, 0, sizeof(*o));
    o->payload_type = -1;
    o->restamp_packets = 10;
    o->restamp_min_th_ms = 500;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads a video track up to its first keyframe with a second reader, for the header. */
static int probe_video(struct job *j, struct job_track *jt, const char *path)
{
    struct tc_track *p = xcalloc(1, sizeof(*p));
    int rc = tc_track_open(p, path, &j->job->opts, j->res->error, sizeof(j->res->error));
    if (rc < 0) {
        free(p);
        return fail(j, rc, "%s", j->res->error);
    }
    struct tc_frame f;
    bool found = false;
    while ((rc = tc_track_next(p, &f, j->res->error, sizeof(j->res->error))) == 1) {
        if (!f.key)
            continue;
        found = true;
        jt->width = f.width ? f.width : p->st.width;
        jt->height = f.height ? f.height : p->st.height;
        jt->rotation = p->rotation;
        if (p->ops->extradata)
            p->ops->extradata(p->depay->state, &jt->extradata);
        break;
    }
    tc_track_close(p);
    free(p);
    if (!found)
        return fail(j, -ENODATA, "%s: no decodable %s frame (no keyframe) in the recording", path,
                    jt->t.codec);
    return 0;
}

static int open_tracks(struct job *j)
{
    const struct tc_job *job = j->job;
    j->tracks = xcalloc(job->n_inputs, sizeof(*j->tracks));
    for (size_t i = 0; i < job->n_inputs; i++) {
        struct job_track *jt = &j->tracks[i];
        vb_buf_init(&jt->extradata, 64 * 1024);
        vb_buf_init(&jt->cue, 64 * 1024);
        int rc =
            tc_track_open(&jt->t, job->inputs[i], &job->opts, j->res->error, sizeof(j->res->error));
        if (rc < 0)
            return fail(j, rc, "%s", j->res->error);
        j->n = i + 1;
        const char *codec = jt->t.codec;
        jt->codec = tc_codec_find(codec);
        if (!jt->codec || !tc_format_accepts(j->fmt, codec)) {
            char can[96];
            transcode_formats_for(codec, can, sizeof(can));
            return fail(j, -ENOTSUP, "%s: %s cannot go into a .%s file%s%s%s", job->inputs[i],
                        codec, j->fmt->name, can[0] ? " (it can go into: " : "", can,
                        can[0] ? ")" : "");
        }
        if (jt->t.kind == MJR_KIND_VIDEO && (rc = probe_video(j, jt, job->inputs[i])) < 0)
            return rc;
    }
    return 0;
}

/* Reads every track's first frame and places the tracks on one timeline. */
static int read_ahead(struct job *j)
{
    int64_t earliest = INT64_MAX;
    for (size_t i = 0; i < j->n; i++) {
        struct job_track *jt = &j->tracks[i];
        int rc = tc_track_next(&jt->t, &jt->next, j->res->error, sizeof(j->res->error));
        if (rc < 0)
            return fail(j, rc, "%s", j->res->error);
        jt->has_next = rc == 1;
        if (jt->has_next && jt->t.start_us < earliest)
            earliest = jt->t.start_us;
    }
    bool any = false;
    for (size_t i = 0; i < j->n; i++) {
        struct job_track *jt = &j->tracks[i];
        if (!jt->has_next)
            continue;
        any = true;
        jt->offset_us = j->n > 1 ? jt->t.start_us - earliest : 0;
    }
    if (!any) {
        const char *diag = mjr_reader_diag(j->tracks[0].t.rd);
        return fail(j, -ENODATA, "%s: no frames to convert%s%s", j->job->inputs[0],
                    diag[0] ? ": " : "", diag);
    }
    return 0;
}

static int add_streams(struct job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        struct job_track *jt = &j->tracks[i];
        struct tc_mux_stream_params p = {
            .codec = jt->codec,
            .clock_rate = (int)jt->t.clock_rate,
            .width = jt->width,
            .height = jt->height,
            .extradata = jt->extradata.p,
            .extradata_len = jt->extradata.len,
            .rotation = jt->rotation,
        };
        if (jt->t.kind == MJR_KIND_DATA)
            p.clock_rate = 1000; /* data times are written in ms */
        if (jt->rotation && strcmp(j->fmt->name, "mp4") != 0)
            vb_log_warn(j->job->opts.log,
                        "%s: the video is rotated by %d degrees, which a .%s file cannot "
                        "record (FFmpeg's Matroska muxer has no rotation); players will show "
                        "it unrotated",
                        j->job->inputs[i], jt->rotation, j->fmt->name);
        int rc = tc_mux_add_stream(&j->mux, &p, j->res->error, sizeof(j->res->error));
        if (rc < 0)
            return fail(j, rc, "%s", j->res->error);
        jt->stream = rc;
    }
    return tc_mux_begin(&j->mux, &j->job->opts, j->res->error, sizeof(j->res->error)) < 0
               ? fail(j, -EIO, "%s", j->res->error)
               : 0;
}

/* Output time of a track's next frame in µs (to pick which track writes next). */
static int64_t next_time_us(const struct job_track *jt)
{
    if (jt->t.kind == MJR_KIND_DATA)
        return jt->offset_us + jt->next.pts;
    return jt->offset_us + jt->next.pts * 1000000 / (int64_t)jt->t.clock_rate;
}

static int write_cue(struct job *j, struct job_track *jt, int64_t end_us)
{
    int64_t dur = end_us - jt->cue_pts;
    if (dur < 1000)
        dur = 1000;
    return tc_mux_write(&j->mux, jt->stream, jt->cue.p, jt->cue.len,
                        (jt->offset_us + jt->cue_pts) / 1000, dur / 1000, true, j->res->error,
                        sizeof(j->res->error));
}

static int write_frame(struct job *j, struct job_track *jt)
{
    const struct tc_frame *f = &jt->next;
    int rc;
    if (jt->t.kind == MJR_KIND_DATA && jt->codec->id == AV_CODEC_ID_SUBRIP) {
        /* A cue ends 1 ms before the next begins (as janus-pp-rec's do). */
        if (jt->has_cue && (rc = write_cue(j, jt, f->pts - 1000)) < 0)
            return rc;
        jt->cue.len = 0;
        if (vb_buf_put(&jt->cue, f->data, f->len) < 0)
            return -E2BIG;
        jt->cue_pts = f->pts;
        jt->has_cue = true;
        return 0;
    }
    if (jt->t.kind == MJR_KIND_DATA)
        return tc_mux_write(&j->mux, jt->stream, f->data, f->len, 0, 0, true, j->res->error,
                            sizeof(j->res->error));
    int64_t shift = jt->offset_us * (int64_t)jt->t.clock_rate / 1000000;
    rc = tc_mux_write(&j->mux, jt->stream, f->data, f->len, f->pts + shift, f->duration, f->key,
                      j->res->error, sizeof(j->res->error));
    if (rc == 0)
        jt->last_end = f->pts + f->duration;
    return rc;
}

static bool report_progress(struct job *j)
{
    if (!j->progress)
        return true;
    uint64_t pos = 0, size = 0, packets = 0;
    for (size_t i = 0; i < j->n; i++) {
        pos += j->tracks[i].t.file_pos;
        size += j->tracks[i].t.file_size;
        packets += j->tracks[i].t.st.packets;
    }
    double el = now_s() - j->t0;
    struct tc_progress p = {
        .fraction = size ? (double)pos / (double)size : 0,
        .packets = packets,
        .packets_per_s = el > 0 ? (double)packets / el : 0,
    };
    return j->progress(j->ud, &p);
}

static int pump(struct job *j)
{
    for (;;) {
        struct job_track *best = NULL;
        for (size_t i = 0; i < j->n; i++) {
            struct job_track *jt = &j->tracks[i];
            if (jt->has_next && (!best || next_time_us(jt) < next_time_us(best)))
                best = jt;
        }
        if (!best)
            break;
        int rc = write_frame(j, best);
        if (rc < 0)
            return fail(j, rc, "%s", j->res->error);
        rc = tc_track_next(&best->t, &best->next, j->res->error, sizeof(j->res->error));
        if (rc < 0)
            return fail(j, rc, "%s", j->res->error);
        best->has_next = rc == 1;
        if (++j->frames_written % PROGRESS_EVERY == 0 && !report_progress(j))
            return fail(j, -ECANCELED, "cancelled");
    }
    for (size_t i = 0; i < j->n; i++) {
        struct job_track *jt = &j->tracks[i];
        if (jt->has_cue) {
            int rc = write_cue(j, jt, jt->cue_pts + SRT_LAST_CUE_US);
            if (rc < 0)
                return fail(j, rc, "%s", j->res->error);
        }
    }
    return 0;
}

static void collect_stats(struct job *j)
{
    j->res->n_tracks = j->n;
    for (size_t i = 0; i < j->n && i < TC_MAX_INPUTS; i++) {
        struct job_track *jt = &j->tracks[i];
        struct tc_track_stats *s = &j->res->tracks[i];
        *s = jt->t.st;
        s->duplicates += jt->t.ro.st.duplicates;
        s->late += jt->t.ro.st.late;
        s->lost += jt->t.ro.st.lost;
        if (!s->width) {
            s->width = jt->width;
            s->height = jt->height;
        }
        s->start_us = jt->offset_us;
        s->duration_us =
            jt->t.kind == MJR_KIND_DATA ? 0 : jt->last_end * 1000000 / (int64_t)jt->t.clock_rate;
    }
}

static int run(struct job *j)
{
    const struct tc_job *job = j->job;
    if (!job->output || !job->n_inputs || job->n_inputs > TC_MAX_INPUTS)
        return fail(j, -EINVAL, "a job needs an output and 1 to %d inputs", TC_MAX_INPUTS);
    const char *name = job->opts.format ? job->opts.format : tc_format_from_path(job->output);
    j->fmt = tc_format_find(name);
    if (!j->fmt)
        return fail(j, -EINVAL,
                    name ? "unknown output format \"%s\" (known: opus ogg mka wav webm mkv mp4 "
                           "srt raw)"
                         : "cannot tell the output format from \"%s\": give --format",
                    name ? name : job->output);
    if (job->n_inputs > 1 && !j->fmt->muxer)
        return fail(j, -EINVAL, "raw output takes a single input");
    if (job->n_inputs > 1 && (strcmp(j->fmt->name, "wav") == 0 || strcmp(j->fmt->name, "srt") == 0))
        return fail(j, -EINVAL, "a .%s file holds a single track: merge into mkv, webm or mp4",
                    j->fmt->name);
    int rc = open_tracks(j);
    if (rc < 0)
        return rc;
    if ((rc = read_ahead(j)) < 0)
        return rc;
    if (tc_mux_open(&j->mux, job->output, j->fmt, j->res->error, sizeof(j->res->error)) < 0)
        return fail(j, -EIO, "%s", j->res->error);
    j->mux_open = true;
    if ((rc = add_streams(j)) < 0)
        return rc;
    if ((rc = pump(j)) < 0)
        return rc;
    collect_stats(j);
    j->res->bytes_out = j->mux.bytes;
    j->mux_open = false;
    rc = tc_mux_finish(&j->mux, j->res->error, sizeof(j->res->error));
    return rc < 0 ? fail(j, rc, "%s", j->res->error) : 0;
}

int transcode_job_run(const struct tc_job *job, tc_progress_fn progress, void *ud,
                      struct tc_result *res)
{
    memset(res, 0, sizeof(*res));
    struct job j = {.job = job, .res = res, .progress = progress, .ud = ud, .t0 = now_s()};
    int rc = run(&j);
    if (rc < 0) {
        collect_stats(&j);
        if (j.mux_open)
            tc_mux_abort(&j.mux);
    }
    for (size_t i = 0; i < j.n; i++) {
        tc_track_close(&j.tracks[i].t);
        vb_buf_free(&j.tracks[i].extradata);
        vb_buf_free(&j.tracks[i].cue);
    }
    free(j.tracks);
    res->status = rc;
    return rc;
}
