/* tests/transcode/mjr_synth.h — builds MJR00002 files by hand for the conversion tests:
 * a header rendered by the mjr module, then frames with chosen RTP fields, arrival times
 * and order (so that loss, reordering, duplicates, wraps and SSRC changes can be staged),
 * and an output reader over libavformat to check what a conversion wrote. */
#ifndef VB_TESTS_MJR_SYNTH_H
#define VB_TESTS_MJR_SYNTH_H

#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "mjr/mjr.h"
#include "tests/test.h"

struct synth {
    FILE *fp;
};

/* Starts a file with the header of `codec` and wall-clock first-frame time `u_us`. */
static inline void synth_open(struct synth *s, const char *path, enum mjr_kind kind,
                              const char *codec, int64_t u_us, bool e2ee)
{
    s->fp = fopen(path, "wb");
    ASSERT(s->fp != NULL);
    struct mjr_info info = {.kind = kind, .codec = codec, .e2ee = e2ee};
    char *hdr = mjr_header_render(&info, u_us - 1000, u_us);
    uint8_t len[2];
    wr_u16(len, (uint16_t)strlen(hdr));
    fwrite("MJR00002", 1, 8, s->fp);
    fwrite(len, 1, 2, s->fp);
    fwrite(hdr, 1, strlen(hdr), s->fp);
    free(hdr);
}

/* Appends one RTP packet recorded `t_ms` after the first frame. */
static inline void synth_rtp(struct synth *s, uint32_t t_ms, uint8_t pt, bool marker, uint16_t seq,
                             uint32_t ts, uint32_t ssrc, const uint8_t *payload, size_t n)
{
    uint8_t pre[10], rtp[12];
    memcpy(pre, "MEET", 4);
    wr_u32(pre + 4, t_ms);
    wr_u16(pre + 8, (uint16_t)(12 + n));
    rtp[0] = 0x80;
    rtp[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    wr_u16(rtp + 2, seq);
    wr_u32(rtp + 4, ts);
    wr_u32(rtp + 8, ssrc);
    fwrite(pre, 1, 10, s->fp);
    fwrite(rtp, 1, 12, s->fp);
    fwrite(payload, 1, n, s->fp);
}

/* Appends a data message sent at wall time `real_us`. */
static inline void synth_data(struct synth *s, uint32_t t_ms, int64_t real_us, const char *msg)
{
    uint8_t pre[10], when[8];
    size_t n = strlen(msg);
    memcpy(pre, "MEET", 4);
    wr_u32(pre + 4, t_ms);
    wr_u16(pre + 8, (uint16_t)(8 + n));
    wr_u64(when, (uint64_t)real_us);
    fwrite(pre, 1, 10, s->fp);
    fwrite(when, 1, 8, s->fp);
    fwrite(msg, 1, n, s->fp);
}

static inline void synth_close(struct synth *s)
{
    ASSERT_EQ(fclose(s->fp), 0);
}

/* What a conversion wrote, per stream, read back with libavformat. */
struct probe_stream {
    enum AVCodecID codec;
    int64_t packets;
    double first_s, end_s; /* first pts, and last pts + duration, in seconds */
    int width, height;
    int channels;
    bool monotonic;    /* pts strictly increasing */
    double max_step_s; /* largest pts step between consecutive packets */
};

static inline int probe_file(const char *path, struct probe_stream *ps, int max)
{
    AVFormatContext *ic = NULL;
    ASSERT_EQ(avformat_open_input(&ic, path, NULL, NULL), 0);
    ASSERT(avformat_find_stream_info(ic, NULL) >= 0);
    int n = (int)ic->nb_streams < max ? (int)ic->nb_streams : max;
    int64_t last[8];
    for (int i = 0; i < n; i++) {
        memset(&ps[i], 0, sizeof(ps[i]));
        ps[i].codec = ic->streams[i]->codecpar->codec_id;
        ps[i].width = ic->streams[i]->codecpar->width;
        ps[i].height = ic->streams[i]->codecpar->height;
        ps[i].channels = ic->streams[i]->codecpar->ch_layout.nb_channels;
        ps[i].monotonic = true;
        last[i] = INT64_MIN;
    }
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(ic, pkt) >= 0) {
        int i = pkt->stream_index;
        if (i < n && pkt->pts != AV_NOPTS_VALUE) {
            double tb = av_q2d(ic->streams[i]->time_base);
            double t = (double)pkt->pts * tb;
            if (ps[i].packets == 0)
                ps[i].first_s = t;
            if (last[i] != INT64_MIN) {
                if (pkt->pts <= last[i])
                    ps[i].monotonic = false;
                double step = (double)(pkt->pts - last[i]) * tb;
                if (step > ps[i].max_step_s)
                    ps[i].max_step_s = step;
            }
            last[i] = pkt->pts;
            ps[i].end_s = t + (double)pkt->duration * tb;
            ps[i].packets++;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    return n;
}

#endif
