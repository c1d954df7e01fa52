/* This file implements tool_rtp_record, a test helper that turns an encoded media file into
 * an MJR00002 recording the way Janus would have written it, so that `verbatim pp` can be
 * checked end to end against real encoders:
 *
 *     tool_rtp_record IN.media OUT.mjr [--cvo ID:ROT] [--start-us US]
 *
 * DESIGN: the first stream of IN is demuxed with libavformat (never decoded) and handed to
 * libavformat's own RTP muxer, so the packetization is FFmpeg's, independent of our
 * depacketizers. The muxer writes into a custom AVIOContext whose buffer and maximum packet
 * size are RTP_MAX bytes and which it flushes after every packet, so each write callback is
 * one RTP packet; the callback checks that (version, size, consecutive sequence numbers)
 * rather than assuming it. Each packet becomes one MJR frame: "MEET", the arrival time in ms
 * (taken from the RTP timestamp relative to the first, which is what real-time sending gives),
 * the length, the packet. As Janus rebases, the first sequence number is 1 and the first
 * timestamp 0. H.264/H.265 from MP4 or Matroska go through the mp4toannexb filters first, so
 * the parameter sets travel in band before every keyframe as WebRTC senders do. PCM codecs are
 * cut into 20 ms packets (the demuxer's chunks would be any size). --cvo adds a one-byte
 * header extension with the video-orientation element to every video packet and names it in
 * the header's "x" map. --start-us sets the header's "u" (first frame, wall clock µs) so that
 * recordings to be merged line up; the default is now. Exit status 0, or 1 with a sentence on
 * stderr. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include "common/bytes.h"
#include "mjr/mjr.h"

#define RTP_MAX 1200      /* bytes of one RTP packet, header included */
#define RTP_HDR 12        /* fixed header; the muxer writes no CSRCs */
#define CVO_EXT_LEN 8     /* 0xBEDE, length 1, one element of one byte, two bytes padding */
#define PCM_PACKET_MS 20  /* what WebRTC sends per G.711/G.722/L16 packet */
#define FIRST_SEQ 1       /* Janus rebases the first recorded packet to seq 1, timestamp 0 */
#define RTP_SSRC 0x5eed01 /* fixed so that runs are reproducible */

#if LIBAVFORMAT_VERSION_MAJOR < 61
typedef uint8_t avio_buf_t; /* write_packet takes a non-const buffer before FFmpeg 6.1 */
#else
typedef const uint8_t avio_buf_t;
#endif

struct codec_name {
    enum AVCodecID id;
    const char *mjr; /* the "c" value */
};

static const struct codec_name codec_names[] = {
    {AV_CODEC_ID_OPUS, "opus"},       {AV_CODEC_ID_VP8, "vp8"},
    {AV_CODEC_ID_VP9, "vp9"},         {AV_CODEC_ID_H264, "h264"},
    {AV_CODEC_ID_HEVC, "h265"},       {AV_CODEC_ID_AV1, "av1"},
    {AV_CODEC_ID_PCM_MULAW, "pcmu"},  {AV_CODEC_ID_PCM_ALAW, "pcma"},
    {AV_CODEC_ID_ADPCM_G722, "g722"}, {AV_CODEC_ID_PCM_S16BE, "l16"},
};

struct args {
    const char *in, *out;
    int cvo_id, cvo_rot; /* cvo_id 0: no extension */
    int64_t start_us;    /* 0: now */
};

/* What the write callback needs; one per run, on the main thread. */
struct recorder {
    FILE *fp;
    bool video;
    uint32_t clock_rate;
    int cvo_id;
    uint8_t cvo_byte;
    bool started;
    uint32_t ts0;
    uint16_t next_seq;
    uint64_t packets, rtcp;
    int failed; /* 0 or -errno, with why */
    char why[200];
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tool_rtp_record: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static const char *av_err(int rc, char *buf, size_t len)
{
    av_strerror(rc, buf, len);
    return buf;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return (int)(end - s);
}

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof(*a));
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        long id, rot, us;
        if (strcmp(argv[i], "--cvo") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            int n = parse_int(s, 1, 14, &id);
            if (n < 0 || s[n] != ':' || parse_int(s + n + 1, 0, 270, &rot) < 0 || rot % 90 ||
                s[n + 1 + strspn(s + n + 1, "0123456789")] != '\0')
                return -EINVAL;
            a->cvo_id = (int)id;
            a->cvo_rot = (int)rot;
        } else if (strcmp(argv[i], "--start-us") == 0 && i + 1 < argc) {
            int n = parse_int(argv[++i], 1, LONG_MAX, &us);
            if (n < 0 || argv[i][n] != '\0')
                return -EINVAL;
            a->start_us = us;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return -EINVAL;
        } else if (pos == 0) {
            a->in = argv[i], pos++;
        } else if (pos == 1) {
            a->out = argv[i], pos++;
        } else {
            return -EINVAL;
        }
    }
    return pos == 2 ? 0 : -EINVAL;
}

static void rec_fail(struct recorder *r, const char *why)
{
    if (!r->failed) {
        r->failed = -EPROTO;
        snprintf(r->why, sizeof(r->why), "%s", why);
    }
}

/* Writes one RTP packet as an MJR frame, with the timestamp rebased to 0 and the CVO
 * extension inserted after the fixed header when asked for. */
static int rec_frame(struct recorder *r, const uint8_t *pkt, size_t len)
{
    uint8_t out[RTP_MAX + CVO_EXT_LEN];
    uint32_t ts = rd_u32(pkt + 4);
    if (!r->started) {
        r->started = true;
        r->ts0 = ts;
    }
    uint32_t rel = ts - r->ts0; /* modulo 2^32 */
    memcpy(out, pkt, RTP_HDR);
    wr_u32(out + 4, rel);
    size_t n = RTP_HDR;
    if (r->video && r->cvo_id) {
        out[0] |= 0x10; /* X */
        const uint8_t ext[CVO_EXT_LEN] = {0xBE,        0xDE, 0x00, 0x01, (uint8_t)(r->cvo_id << 4),
                                          r->cvo_byte, 0x00, 0x00};
        memcpy(out + n, ext, CVO_EXT_LEN);
        n += CVO_EXT_LEN;
    }
    memcpy(out + n, pkt + RTP_HDR, len - RTP_HDR);
    n += len - RTP_HDR;
    uint8_t pre[MJR_V2_FRAME_PREFIX];
    memcpy(pre, "MEET", 4);
    wr_u32(pre + 4, (uint32_t)((uint64_t)rel * 1000 / r->clock_rate));
    wr_u16(pre + 8, (uint16_t)n);
    if (fwrite(pre, 1, sizeof(pre), r->fp) != sizeof(pre) || fwrite(out, 1, n, r->fp) != n) {
        r->failed = -EIO;
        snprintf(r->why, sizeof(r->why), "cannot write: %s", strerror(errno));
        return AVERROR(EIO);
    }
    r->packets++;
    return 0;
}

/* The RTP muxer's output: one call per packet (checked). */
static int rec_write_cb(void *opaque, avio_buf_t *buf, int size)
{
    struct recorder *r = opaque;
    if (r->failed)
        return AVERROR(EIO);
    if (size < RTP_HDR || size > RTP_MAX) {
        char why[80];
        snprintf(why, sizeof(why), "the muxer wrote %d bytes at once (not one RTP packet)", size);
        rec_fail(r, why);
        return AVERROR(EPROTO);
    }
    if ((buf[0] >> 6) != 2) {
        rec_fail(r, "the muxer wrote something that is not RTP version 2");
        return AVERROR(EPROTO);
    }
    if (buf[1] >= 200 && buf[1] <= 204) { /* RTCP SR, RR, SDES, BYE, APP */
        r->rtcp++;
        return size;
    }
    if ((buf[0] & 0x3f) != 0) { /* P, X, CC: the muxer sets none of them */
        rec_fail(r, "the muxer wrote RTP with padding, an extension or CSRCs");
        return AVERROR(EPROTO);
    }
    uint16_t seq = rd_u16(buf + 2);
    if (seq != (r->packets > 0 ? r->next_seq : FIRST_SEQ)) {
        char why[120];
        snprintf(why, sizeof(why),
                 "sequence number %u after %" PRIu64 " packets: a write callback was not "
                 "exactly one packet",
                 (unsigned)seq, r->packets);
        rec_fail(r, why);
        return AVERROR(EPROTO);
    }
    r->next_seq = (uint16_t)(seq + 1);
    int rc = rec_frame(r, buf, (size_t)size);
    return rc < 0 ? rc : size;
}

static const char *mjr_codec(const AVCodecParameters *par)
{
    for (size_t i = 0; i < sizeof(codec_names) / sizeof(codec_names[0]); i++)
        if (codec_names[i].id == par->codec_id) {
            if (par->codec_id == AV_CODEC_ID_PCM_S16BE && par->sample_rate == 48000)
                return "l16-48";
            return codec_names[i].mjr;
        }
    return NULL;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Magic, header length and the JSON header as Janus writes them. */
static int write_mjr_header(FILE *fp, const AVCodecParameters *par, const char *codec,
                            const struct args *a)
{
    struct mjr_info info = {.codec = codec};
    info.kind = par->codec_type == AVMEDIA_TYPE_VIDEO ? MJR_KIND_VIDEO : MJR_KIND_AUDIO;
    if (a->cvo_id && info.kind == MJR_KIND_VIDEO)
        info.extmaps[a->cvo_id] = "urn:3gpp:video-orientation";
    int64_t first = a->start_us ? a->start_us : wall_us();
    char *hdr = mjr_header_render(&info, first - 1000, first);
    size_t n = strlen(hdr);
    uint8_t len[2];
    wr_u16(len, (uint16_t)n);
    int rc = n < MJR_PP_HEADER_LIMIT && fwrite("MJR00002", 1, MJR_MAGIC_LEN, fp) == MJR_MAGIC_LEN &&
                     fwrite(len, 1, 2, fp) == 2 && fwrite(hdr, 1, n, fp) == n
                 ? 0
                 : -EIO;
    free(hdr);
    return rc;
}

/* The bitstream filter in front of the RTP muxer: Annex B with in-band parameter sets for
 * H.264/H.265 stored length-prefixed, nothing otherwise. */
static int open_bsf(const AVStream *in, AVBSFContext **out)
{
    const AVCodecParameters *par = in->codecpar;
    const char *name = NULL;
    bool length_prefixed = par->extradata_size > 0 && par->extradata[0] == 1;
    if (par->codec_id == AV_CODEC_ID_H264 && length_prefixed)
        name = "h264_mp4toannexb";
    else if (par->codec_id == AV_CODEC_ID_HEVC && length_prefixed)
        name = "hevc_mp4toannexb";
    const AVBitStreamFilter *f = name ? av_bsf_get_by_name(name) : NULL;
    int rc = f ? av_bsf_alloc(f, out) : av_bsf_get_null_filter(out);
    if (rc < 0)
        return rc;
    rc = avcodec_parameters_copy((*out)->par_in, par);
    if (rc >= 0) {
        (*out)->time_base_in = in->time_base;
        rc = av_bsf_init(*out);
    }
    if (rc < 0)
        av_bsf_free(out);
    return rc;
}

/* The RTP muxer over the recorder's AVIOContext. */
static int open_rtp(const AVBSFContext *bsf, struct recorder *r, AVFormatContext **out)
{
    AVFormatContext *oc = NULL;
    int rc = avformat_alloc_output_context2(&oc, NULL, "rtp", NULL);
    if (rc < 0)
        return rc;
    AVStream *st = avformat_new_stream(oc, NULL);
    uint8_t *buf = av_malloc(RTP_MAX);
    oc->pb = buf ? avio_alloc_context(buf, RTP_MAX, 1, r, NULL, rec_write_cb, NULL) : NULL;
    if (!st || !oc->pb) {
        av_free(buf);
        avformat_free_context(oc);
        return AVERROR(ENOMEM);
    }
    oc->pb->max_packet_size = RTP_MAX;
    oc->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL; /* VP9 packetization needs it */
    rc = avcodec_parameters_copy(st->codecpar, bsf->par_out);
    st->time_base = bsf->time_base_out;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "rtpflags", "skip_rtcp", 0);
    av_dict_set_int(&opts, "seq", FIRST_SEQ, 0);
    av_dict_set_int(&opts, "ssrc", RTP_SSRC, 0);
    if (rc >= 0)
        rc = avformat_write_header(oc, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        av_freep(&oc->pb->buffer);
        avio_context_free(&oc->pb);
        avformat_free_context(oc);
        return rc;
    }
    *out = oc;
    return 0;
}

static void close_rtp(AVFormatContext *oc)
{
    if (!oc)
        return;
    av_freep(&oc->pb->buffer);
    avio_context_free(&oc->pb);
    avformat_free_context(oc);
}

/* PCM regrouped into 20 ms packets whatever the demuxer's chunks: bytes are carried over
 * from one demuxed packet to the next, and each piece is stamped by the samples before it. */
struct pcm_chunker {
    int bits;  /* per sample, all channels; 0: not PCM */
    int chunk; /* bytes per packet */
    int have;  /* bytes waiting in buf */
    bool started;
    int64_t first_pts; /* RTP stream time base */
    int64_t sent;      /* bytes handed to the muxer */
    uint8_t buf[RTP_MAX];
};

static int pcm_chunker_init(struct pcm_chunker *c, const AVCodecParameters *par)
{
    memset(c, 0, sizeof(*c));
    switch (par->codec_id) {
    case AV_CODEC_ID_PCM_MULAW:
    case AV_CODEC_ID_PCM_ALAW:
    case AV_CODEC_ID_PCM_S16BE:
    case AV_CODEC_ID_ADPCM_G722:
        c->bits = av_get_bits_per_sample(par->codec_id) * par->ch_layout.nb_channels;
        c->chunk = par->sample_rate / (1000 / PCM_PACKET_MS) * c->bits / 8;
        return c->bits > 0 && c->chunk > 0 && c->chunk <= RTP_MAX - RTP_HDR ? 0 : -EINVAL;
    default:
        return 0;
    }
}

static int pcm_flush(AVFormatContext *oc, struct pcm_chunker *c)
{
    if (c->have == 0)
        return 0;
    const AVStream *st = oc->streams[0];
    AVPacket *part = av_packet_alloc();
    if (!part)
        return AVERROR(ENOMEM);
    int rc = av_new_packet(part, c->have);
    if (rc >= 0) {
        memcpy(part->data, c->buf, (size_t)c->have);
        int64_t samples = c->sent * 8 / c->bits;
        part->pts =
            c->first_pts + av_rescale(samples, st->time_base.den,
                                      (int64_t)st->codecpar->sample_rate * st->time_base.num);
        part->dts = part->pts;
        rc = av_write_frame(oc, part);
    }
    av_packet_free(&part);
    c->sent += c->have;
    c->have = 0;
    return rc;
}

/* Hands one packet (in the RTP stream's time base) to the muxer. */
static int send_packet(AVFormatContext *oc, AVPacket *pkt, struct pcm_chunker *c)
{
    if (c->bits == 0)
        return av_write_frame(oc, pkt);
    if (!c->started) {
        if (pkt->pts == AV_NOPTS_VALUE)
            return AVERROR(EINVAL);
        c->started = true;
        c->first_pts = pkt->pts;
    }
    int rc = 0;
    for (int off = 0; off < pkt->size && rc >= 0;) {
        int n = pkt->size - off < c->chunk - c->have ? pkt->size - off : c->chunk - c->have;
        memcpy(c->buf + c->have, pkt->data + off, (size_t)n);
        c->have += n;
        off += n;
        if (c->have == c->chunk)
            rc = pcm_flush(oc, c);
    }
    return rc;
}

/* Demux -> filter -> RTP muxer until the end of the input. */
static int pump(AVFormatContext *ic, AVBSFContext *bsf, AVFormatContext *oc,
                struct pcm_chunker *pcm)
{
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return AVERROR(ENOMEM);
    int rc = 0;
    bool eof = false;
    while (rc >= 0 && !eof) {
        rc = av_read_frame(ic, pkt);
        if (rc == AVERROR_EOF) {
            eof = true;
            rc = av_bsf_send_packet(bsf, NULL);
        } else if (rc >= 0 && pkt->stream_index != 0) {
            av_packet_unref(pkt);
            continue;
        } else if (rc >= 0) {
            rc = av_bsf_send_packet(bsf, pkt);
        }
        while (rc >= 0 && (rc = av_bsf_receive_packet(bsf, pkt)) >= 0) {
            av_packet_rescale_ts(pkt, bsf->time_base_out, oc->streams[0]->time_base);
            pkt->stream_index = 0;
            rc = send_packet(oc, pkt, pcm);
            av_packet_unref(pkt);
        }
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            rc = 0;
    }
    av_packet_free(&pkt);
    return rc < 0 ? rc : pcm_flush(oc, pcm);
}

static int record(const struct args *a, AVFormatContext *ic, FILE *fp)
{
    char eb[AV_ERROR_MAX_STRING_SIZE];
    const AVStream *in = ic->streams[0];
    const char *codec = mjr_codec(in->codecpar); /* known: checked by main() */
    struct recorder r = {.fp = fp, .video = in->codecpar->codec_type == AVMEDIA_TYPE_VIDEO};
    r.clock_rate = mjr_codec_clock_rate(codec);
    r.cvo_id = a->cvo_id;
    r.cvo_byte = (uint8_t)(a->cvo_rot / 90); /* C=0 F=0 R1R0 */
    if (write_mjr_header(fp, in->codecpar, codec, a) < 0)
        return fail("%s: cannot write the header", a->out);
    AVBSFContext *bsf = NULL;
    int rc = open_bsf(in, &bsf);
    if (rc < 0)
        return fail("%s: cannot set up the bitstream filter: %s", a->in, av_err(rc, eb, 64));
    AVFormatContext *oc = NULL;
    rc = open_rtp(bsf, &r, &oc);
    if (rc < 0) {
        av_bsf_free(&bsf);
        return fail("libavformat's RTP muxer cannot packetize %s: %s", codec, av_err(rc, eb, 64));
    }
    AVRational tb = oc->streams[0]->time_base;
    if (tb.num != 1 || (uint32_t)tb.den != r.clock_rate) {
        close_rtp(oc);
        av_bsf_free(&bsf);
        return fail("the RTP muxer clocks %s at %d/%d, MJR at 1/%" PRIu32, codec, tb.num, tb.den,
                    r.clock_rate);
    }
    struct pcm_chunker *pcm = av_mallocz(sizeof(*pcm));
    rc = !pcm ? AVERROR(ENOMEM) : pcm_chunker_init(pcm, in->codecpar) < 0 ? AVERROR(EINVAL) : 0;
    if (rc >= 0)
        rc = pump(ic, bsf, oc, pcm);
    av_free(pcm);
    if (rc >= 0)
        rc = av_write_trailer(oc);
    if (rc >= 0)
        avio_flush(oc->pb);
    close_rtp(oc);
    av_bsf_free(&bsf);
    if (r.failed)
        return fail("%s: %s", a->out, r.why);
    if (rc < 0)
        return fail("%s: packetizing failed: %s", a->in, av_err(rc, eb, 64));
    if (r.packets == 0)
        return fail("%s: no packets", a->in);
    fprintf(stderr,
            "tool_rtp_record: %s: %" PRIu64 " RTP packets of %s (%" PRIu64 " RTCP skipped)\n",
            a->out, r.packets, codec, r.rtcp);
    return 0;
}

/* The first stream is one MJR records, with what packetizing it needs. */
static int check_input(const AVFormatContext *ic, const char *path)
{
    if (ic->nb_streams == 0)
        return fail("%s: no streams", path);
    const AVCodecParameters *par = ic->streams[0]->codecpar;
    const char *codec = mjr_codec(par);
    if (!codec)
        return fail("%s: the first stream is %s, which MJR does not record", path,
                    avcodec_get_name(par->codec_id));
    if (par->codec_type != AVMEDIA_TYPE_AUDIO)
        return 0;
    if (par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0)
        return fail("%s: the audio stream has no sample rate or channels", path);
    if (par->codec_id != AV_CODEC_ID_OPUS && par->ch_layout.nb_channels != 1)
        return fail("%s: %s with %d channels; recordings of it are mono", path, codec,
                    par->ch_layout.nb_channels);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    if (parse_args(argc, argv, &a) < 0) {
        fprintf(stderr, "usage: tool_rtp_record IN.media OUT.mjr [--cvo ID:ROT] [--start-us US]\n"
                        "  ID 1-14, ROT 0/90/180/270; US wall-clock microseconds of the first "
                        "frame\n");
        return 1;
    }
    av_log_set_level(AV_LOG_ERROR);
    char eb[AV_ERROR_MAX_STRING_SIZE];
    AVFormatContext *ic = NULL;
    int rc = avformat_open_input(&ic, a.in, NULL, NULL);
    if (rc < 0)
        return fail("%s: cannot open: %s", a.in, av_err(rc, eb, sizeof(eb)));
    if (check_input(ic, a.in) != 0) {
        avformat_close_input(&ic);
        return 1;
    }
    FILE *fp = fopen(a.out, "wb");
    if (!fp) {
        avformat_close_input(&ic);
        return fail("%s: cannot create: %s", a.out, strerror(errno));
    }
    int status = record(&a, ic, fp);
    avformat_close_input(&ic);
    if (fclose(fp) != 0 && status == 0)
        status = fail("%s: cannot write: %s", a.out, strerror(errno));
    if (status != 0)
        remove(a.out);
    return status;
}
