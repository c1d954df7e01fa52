/* This file implements output files: libavformat muxing without re-encoding, Opus
 * identification headers, rotation metadata, and the temporary-name-then-rename rule. */
#include "transcode/mux.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/display.h>
#include <libavutil/error.h>

#include "common/bytes.h"
#include "common/xalloc.h"

static int av_fail(int averr, char *err, size_t errlen, const char *what, const char *path)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof(msg));
    snprintf(err, errlen, "%s %s: %s", what, path, msg);
    return averr < 0 && averr > -4096 ? averr : -EIO;
}

int tc_mux_open(struct tc_mux *m, const char *path, const struct tc_format_desc *fmt, char *err,
                size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->fmt = fmt;
    m->path = xstrdup(path);
    size_t n = strlen(path);
    m->tmp_path = xmalloc(n + 6);
    memcpy(m->tmp_path, path, n);
    memcpy(m->tmp_path + n, ".part", 6);
    if (!fmt->muxer) {
        m->raw = fopen(m->tmp_path, "wb");
        if (!m->raw) {
            int e = errno;
            snprintf(err, errlen, "cannot create %s: %s", m->tmp_path, strerror(e));
            tc_mux_abort(m);
            return -e;
        }
        return 0;
    }
    int rc = avformat_alloc_output_context2(&m->oc, NULL, fmt->muxer, m->tmp_path);
    if (rc < 0 || !m->oc) {
        rc = av_fail(rc, err, errlen, "cannot set up the muxer for", path);
        tc_mux_abort(m);
        return rc;
    }
    m->pkt = av_packet_alloc();
    return 0;
}

/* OpusHead (RFC 7845 section 5.1): what Ogg, Matroska and MP4 need to identify Opus. */
static void opus_head(uint8_t *h, size_t *len, int channels)
{
    memcpy(h, "OpusHead", 8);
    h[8] = 1; /* version */
    h[9] = (uint8_t)channels;
    wr_le16(h + 10, 0);     /* pre-skip: the RTP stream starts at its first sample */
    wr_le32(h + 12, 48000); /* input sample rate (informational) */
    wr_le16(h + 16, 0);     /* output gain */
    if (channels <= 2) {
        h[18] = 0; /* mapping family 0: mono or stereo */
        *len = 19;
        return;
    }
    /* Multiopus as WebRTC sends it (5.1): family 1, 4 streams, 2 coupled. */
    static const uint8_t map51[6] = {0, 4, 1, 2, 3, 5};
    h[18] = 1;
    h[19] = 4;
    h[20] = 2;
    memcpy(h + 21, map51, 6);
    *len = 27;
}

static int set_extradata(AVCodecParameters *par, const uint8_t *d, size_t n)
{
    par->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return -ENOMEM;
    memcpy(par->extradata, d, n);
    par->extradata_size = (int)n;
    return 0;
}

int tc_mux_add_stream(struct tc_mux *m, const struct tc_mux_stream_params *p, char *err,
                      size_t errlen)
{
    if (m->n_streams == TC_MUX_STREAMS)
        return -E2BIG;
    int idx = m->n_streams++;
    m->in_tb[idx] = (AVRational){1, p->clock_rate};
    if (!m->oc)
        return idx; /* raw */
    AVStream *st = avformat_new_stream(m->oc, NULL);
    if (!st)
        return av_fail(AVERROR(ENOMEM), err, errlen, "cannot add a stream to", m->path);
    AVCodecParameters *par = st->codecpar;
    par->codec_type = p->codec->type;
    par->codec_id = p->codec->id;
    st->time_base = m->in_tb[idx];
    if (p->codec->type == AVMEDIA_TYPE_AUDIO) {
        par->sample_rate = p->codec->sample_rate;
        av_channel_layout_default(&par->ch_layout, p->codec->channels);
        if (p->codec->id == AV_CODEC_ID_PCM_S16LE) {
            par->bits_per_coded_sample = 16;
            m->swap16[idx] = true;
        } else if (p->codec->id == AV_CODEC_ID_PCM_MULAW || p->codec->id == AV_CODEC_ID_PCM_ALAW) {
            par->bits_per_coded_sample = 8;
        } else if (p->codec->id == AV_CODEC_ID_ADPCM_G722) {
            par->bits_per_coded_sample = 4;
        }
        if (p->codec->id == AV_CODEC_ID_OPUS) {
            uint8_t head[32];
            size_t hl;
            opus_head(head, &hl, p->codec->channels);
            if (set_extradata(par, head, hl) < 0)
                return -ENOMEM;
            par->frame_size = 960; /* 20 ms, the usual WebRTC packet (MP4 wants a value) */
        }
    } else if (p->codec->type == AVMEDIA_TYPE_VIDEO) {
        par->width = p->width;
        par->height = p->height;
        if (p->extradata_len && set_extradata(par, p->extradata, p->extradata_len) < 0)
            return -ENOMEM;
        if (p->rotation) {
            uint8_t *sd =
                av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, sizeof(int32_t) * 9);
            if (!sd)
                return -ENOMEM;
            /* av_display_rotation_set() takes the clockwise angle to turn the picture by for
             * display (ffprobe then shows it as -90 for 90), as the CVO bits mean it. */
            av_display_rotation_set((int32_t *)sd, (double)p->rotation);
        }
    }
    return idx;
}

int tc_mux_begin(struct tc_mux *m, const struct tc_options *o, char *err, size_t errlen)
{
    if (!m->oc) {
        m->header_done = true;
        return 0;
    }
    int rc = avio_open(&m->oc->pb, m->tmp_path, AVIO_FLAG_WRITE);
    if (rc < 0)
        return av_fail(rc, err, errlen, "cannot create", m->tmp_path);
    AVDictionary *opts = NULL;
    if (o->faststart && strcmp(m->fmt->name, "mp4") == 0)
        av_dict_set(&opts, "movflags", "+faststart", 0);
    if (o->metadata)
        av_dict_set(&m->oc->metadata, "comment", o->metadata, 0);
    rc = avformat_write_header(m->oc, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return av_fail(rc, err, errlen, "cannot write the header of", m->path);
    m->header_done = true;
    return 0;
}

int tc_mux_write(struct tc_mux *m, int stream, const uint8_t *data, size_t len, int64_t pts,
                 int64_t duration, bool key, char *err, size_t errlen)
{
    if (m->raw) {
        if (fwrite(data, 1, len, m->raw) != len) {
            snprintf(err, errlen, "cannot write %s: %s", m->tmp_path, strerror(errno));
            return -EIO;
        }
        m->bytes += len;
        return 0;
    }
    AVStream *st = m->oc->streams[stream];
    AVPacket *pkt = m->pkt;
    if (av_new_packet(pkt, (int)len) < 0)
        return -ENOMEM;
    memcpy(pkt->data, data, len);
    if (m->swap16[stream])
        for (size_t i = 0; i + 1 < len; i += 2) {
            uint8_t b = pkt->data[i];
            pkt->data[i] = pkt->data[i + 1];
            pkt->data[i + 1] = b;
        }
    pkt->stream_index = stream;
    pkt->pts = pkt->dts = av_rescale_q(pts, m->in_tb[stream], st->time_base);
    pkt->duration = duration ? av_rescale_q(duration, m->in_tb[stream], st->time_base) : 0;
    if (key)
        pkt->flags |= AV_PKT_FLAG_KEY;
    int rc = av_interleaved_write_frame(m->oc, pkt); /* takes the packet's reference */
    if (rc < 0)
        return av_fail(rc, err, errlen, "cannot write a packet to", m->path);
    m->bytes += len;
    return 0;
}

static void release(struct tc_mux *m)
{
    if (m->oc) {
        if (m->oc->pb)
            avio_closep(&m->oc->pb);
        avformat_free_context(m->oc);
        m->oc = NULL;
    }
    av_packet_free(&m->pkt);
    if (m->raw) {
        fclose(m->raw);
        m->raw = NULL;
    }
    free(m->path);
    free(m->tmp_path);
    m->path = m->tmp_path = NULL;
}

void tc_mux_abort(struct tc_mux *m)
{
    if (m->tmp_path)
        unlink(m->tmp_path);
    release(m);
}

int tc_mux_finish(struct tc_mux *m, char *err, size_t errlen)
{
    int rc = 0;
    if (m->oc && m->header_done) {
        rc = av_write_trailer(m->oc);
        if (rc < 0)
            rc = av_fail(rc, err, errlen, "cannot finish", m->path);
        else if (m->oc->pb && (rc = avio_closep(&m->oc->pb)) < 0)
            rc = av_fail(rc, err, errlen, "cannot close", m->tmp_path);
    }
    if (rc == 0 && m->raw) {
        int frc = fclose(m->raw);
        m->raw = NULL;
        if (frc != 0) {
            rc = -errno;
            snprintf(err, errlen, "cannot close %s: %s", m->tmp_path, strerror(-rc));
        }
    }
    if (rc == 0 && rename(m->tmp_path, m->path) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot rename %s to %s: %s", m->tmp_path, m->path, strerror(-rc));
    }
    if (rc < 0) {
        tc_mux_abort(m);
        return rc;
    }
    release(m);
    return 0;
}
