/* This file implements bench/make_recording: it turns a media file encoded by ffmpeg into an
 * MJR00002 recording shaped like the ones Janus writes, for the conversion benchmarks.
 *
 * The input (a .webm with VP8, or an .ogg/.webm with Opus) is demuxed with libavformat and
 * its first VP8 or Opus stream is packetized into RTP as a browser would send it: VP8 per
 * RFC 7741 (a one-byte payload descriptor, S=1 on the first packet of a frame, partition 0,
 * the frame split into packets of at most ~1100 bytes of payload, the marker bit on the last
 * one), Opus one packet per RTP packet. The RTP header is 12 bytes with a fixed SSRC and the
 * payload types Janus negotiates by default (96 VP8, 111 Opus); sequence numbers start at 1
 * and timestamps at 0, as after Janus's recorder rewrite. Each frame is "MEET" + u32 t_ms +
 * u16 length + the packet, where t_ms is the packet's presentation time in ms from the first
 * one (Janus stores arrival times; a live stream arrives at its presentation times).
 *
 * DESIGN: --loop N reads the input N times in a row; each pass is shifted by the end time of
 * the one before it (the last packet's presentation time plus its duration), so timestamps,
 * t_ms and sequence numbers simply continue, as one long recording would. The header is
 * rendered by mjr_header_render() with "s" and "u" taken from the wall clock, like a
 * recording started now. The file is written with stdio: this is a generator, not a
 * benchmark subject. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavformat/avformat.h>

#include "common/bytes.h"
#include "mjr/mjr.h"

#define RTP_HEADER_LEN 12
#define VP8_MAX_PAYLOAD 1100 /* bytes of VP8 data per packet, after the descriptor */
#define PT_VP8 96
#define PT_OPUS 111
#define DEFAULT_SSRC 0x5eb1a7e5u
#define PKT_MAX 1500 /* janus-pp-rec skips larger frame bodies */

struct gen {
    FILE *out;
    const char *out_path;
    enum mjr_kind kind;
    uint32_t clock_rate;
    uint8_t pt;
    uint32_t ssrc;
    uint16_t seq;        /* next sequence number */
    int64_t offset_us;   /* start of the current pass on the recording's timeline */
    int64_t pass_end_us; /* end of the current pass so far, relative to its start */
    uint64_t packets, frames, bytes;
    int64_t last_us;
};

static int64_t wall_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int put_bytes(struct gen *g, const void *p, size_t n)
{
    if (fwrite(p, 1, n, g->out) != n) {
        fprintf(stderr, "make_recording: write to %s failed: %s\n", g->out_path, strerror(errno));
        return -EIO;
    }
    g->bytes += n;
    return 0;
}

static int write_header(struct gen *g, const char *codec)
{
    struct mjr_info info;
    memset(&info, 0, sizeof(info));
    info.kind = g->kind;
    info.codec = codec;
    int64_t now = wall_now_us();
    char *json = mjr_header_render(&info, now - 1000, now);
    size_t len = strlen(json);
    uint8_t pre[MJR_MAGIC_LEN + 2];
    memcpy(pre, "MJR00002", MJR_MAGIC_LEN);
    wr_u16(pre + MJR_MAGIC_LEN, (uint16_t)len);
    int rc = put_bytes(g, pre, sizeof(pre));
    if (rc == 0)
        rc = put_bytes(g, json, len);
    free(json);
    return rc;
}

/* Writes one MJR frame: prefix, RTP header, optional one-byte descriptor, payload. */
static int write_packet(struct gen *g, int64_t t_us, bool marker, int descriptor,
                        const uint8_t *payload, size_t len)
{
    size_t body = RTP_HEADER_LEN + (descriptor >= 0 ? 1 : 0) + len;
    if (body > PKT_MAX) {
        fprintf(stderr, "make_recording: a %zu-byte packet is too large for MJR readers\n", body);
        return -EMSGSIZE;
    }
    uint8_t hdr[MJR_V2_FRAME_PREFIX + RTP_HEADER_LEN + 1];
    memcpy(hdr, "MEET", 4);
    wr_u32(hdr + 4, (uint32_t)(t_us / 1000));
    wr_u16(hdr + 8, (uint16_t)body);
    uint8_t *rtp = hdr + MJR_V2_FRAME_PREFIX;
    rtp[0] = 0x80;
    rtp[1] = (uint8_t)((marker ? 0x80 : 0) | g->pt);
    wr_u16(rtp + 2, g->seq++);
    wr_u32(rtp + 4, (uint32_t)((t_us * g->clock_rate + 500000) / 1000000));
    wr_u32(rtp + 8, g->ssrc);
    size_t n = MJR_V2_FRAME_PREFIX + RTP_HEADER_LEN;
    if (descriptor >= 0)
        hdr[n++] = (uint8_t)descriptor;
    int rc = put_bytes(g, hdr, n);
    if (rc == 0)
        rc = put_bytes(g, payload, len);
    g->packets++;
    return rc;
}

/* VP8 per RFC 7741: equal-sized pieces of at most VP8_MAX_PAYLOAD bytes, S=1 (0x10) on the
 * first, PID 0, no extensions; the marker on the last packet of the frame. */
static int packetize_vp8(struct gen *g, int64_t t_us, const uint8_t *data, size_t len)
{
    size_t n = (len + VP8_MAX_PAYLOAD - 1) / VP8_MAX_PAYLOAD;
    if (n == 0)
        n = 1;
    size_t piece = (len + n - 1) / n;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t take = len - off < piece ? len - off : piece;
        int rc = write_packet(g, t_us, i + 1 == n, i == 0 ? 0x10 : 0x00, data + off, take);
        if (rc < 0)
            return rc;
        off += take;
    }
    return 0;
}

static int handle_packet(struct gen *g, const AVStream *st, const AVPacket *pkt, int64_t first_pts)
{
    if (pkt->pts == AV_NOPTS_VALUE || pkt->size <= 0)
        return 0;
    AVRational us = {1, 1000000};
    int64_t rel = av_rescale_q(pkt->pts - first_pts, st->time_base, us);
    int64_t dur = av_rescale_q(pkt->duration, st->time_base, us);
    if (rel < 0)
        return 0; /* before the first packet (an Ogg pre-skip leftover, say) */
    if (rel + dur > g->pass_end_us)
        g->pass_end_us = rel + dur;
    int64_t t_us = g->offset_us + rel;
    g->last_us = t_us;
    g->frames++;
    if (g->kind == MJR_KIND_VIDEO)
        return packetize_vp8(g, t_us, pkt->data, (size_t)pkt->size);
    return write_packet(g, t_us, false, -1, pkt->data, (size_t)pkt->size);
}

/* Picks the VP8 or Opus stream; sets the kind and codec. Returns its index or -1. */
static int pick_stream(AVFormatContext *fc, struct gen *g, const char **codec)
{
    for (unsigned i = 0; i < fc->nb_streams; i++) {
        enum AVCodecID id = fc->streams[i]->codecpar->codec_id;
        if (id == AV_CODEC_ID_VP8 || id == AV_CODEC_ID_OPUS) {
            bool video = id == AV_CODEC_ID_VP8;
            g->kind = video ? MJR_KIND_VIDEO : MJR_KIND_AUDIO;
            g->clock_rate = video ? 90000 : 48000;
            g->pt = video ? PT_VP8 : PT_OPUS;
            *codec = video ? "vp8" : "opus";
            return (int)i;
        }
    }
    return -1;
}

/* Reads the input once, appending its packets after what the passes before wrote. */
static int run_pass(struct gen *g, const char *in_path, unsigned pass)
{
    AVFormatContext *fc = NULL;
    int rc = avformat_open_input(&fc, in_path, NULL, NULL);
    if (rc < 0 || (rc = avformat_find_stream_info(fc, NULL)) < 0) {
        fprintf(stderr, "make_recording: cannot read %s: %s\n", in_path, av_err2str(rc));
        avformat_close_input(&fc);
        return -EINVAL;
    }
    const char *codec = NULL;
    int idx = pick_stream(fc, g, &codec);
    if (idx < 0) {
        fprintf(stderr, "make_recording: %s has no VP8 or Opus stream\n", in_path);
        avformat_close_input(&fc);
        return -ENOTSUP;
    }
    rc = pass == 0 ? write_header(g, codec) : 0;
    AVPacket *pkt = av_packet_alloc();
    int64_t first_pts = AV_NOPTS_VALUE;
    g->pass_end_us = 0;
    while (rc == 0 && av_read_frame(fc, pkt) >= 0) {
        if (pkt->stream_index == idx) {
            if (first_pts == AV_NOPTS_VALUE)
                first_pts = pkt->pts;
            rc = handle_packet(g, fc->streams[idx], pkt, first_pts);
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fc);
    g->offset_us += g->pass_end_us;
    return rc;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: make_recording [--loop N] [--ssrc X] INPUT OUTPUT.mjr\n"
                "Packetizes the VP8 or Opus stream of INPUT (.webm, .ogg) into an MJR00002\n"
                "recording as Janus writes it. --loop N: read INPUT N times in a row (1).\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"loop", required_argument, NULL, 'l'},
                                             {"ssrc", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct gen g;
    memset(&g, 0, sizeof(g));
    g.ssrc = DEFAULT_SSRC;
    g.seq = 1;
    unsigned long loops = 1;
    int c;
    while ((c = getopt_long(argc, argv, "l:s:h", longopts, NULL)) != -1) {
        char *end = NULL;
        if (c == 'l') {
            loops = strtoul(optarg, &end, 10);
            if (*end || loops == 0 || loops > 1000) {
                usage(stderr);
                return 2;
            }
        } else if (c == 's') {
            g.ssrc = (uint32_t)strtoul(optarg, &end, 0);
            if (*end || g.ssrc == 0) {
                usage(stderr);
                return 2;
            }
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return 2;
    }
    g.out_path = argv[optind + 1];
    g.out = fopen(g.out_path, "wbe");
    if (!g.out) {
        fprintf(stderr, "make_recording: cannot create %s: %s\n", g.out_path, strerror(errno));
        return 1;
    }
    setvbuf(g.out, NULL, _IOFBF, 1 << 20);
    int rc = 0;
    for (unsigned long i = 0; i < loops && rc == 0; i++)
        rc = run_pass(&g, argv[optind], (unsigned)i);
    if (fclose(g.out) != 0 && rc == 0) {
        fprintf(stderr, "make_recording: closing %s failed: %s\n", g.out_path, strerror(errno));
        rc = -EIO;
    }
    if (rc < 0) {
        remove(g.out_path);
        return 1;
    }
    printf("make_recording: %s: %s, %" PRIu64 " media frames in %" PRIu64
           " RTP packets, %.1f s, %.1f MB\n",
           g.out_path, g.kind == MJR_KIND_VIDEO ? "vp8" : "opus", g.frames, g.packets,
           (double)g.offset_us / 1e6, (double)g.bytes / 1e6);
    return 0;
}
