/* This file implements the tables of output formats and codecs: the container each codec
 * may be muxed into without re-encoding (janus-pp-rec's targets, plus Matroska and MP4 where
 * the container carries the codec), and the libavcodec identity of each MJR codec name. */
#include "transcode/format.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "transcode/transcode.h"

static const char *const opus_only[] = {"opus", "multiopus", NULL};
static const char *const webm_codecs[] = {"vp8", "vp9", "av1", "opus", "multiopus", NULL};
static const char *const mkv_codecs[] = {"vp8",  "vp9",  "av1",       "h264",
                                         "h265", "opus", "multiopus", NULL};
static const char *const mp4_codecs[] = {"h264", "h265", "av1", "opus", NULL};
static const char *const wav_codecs[] = {"pcmu", "pcma", "g711", "g722", "l16", "l16-48", NULL};
static const char *const text_codecs[] = {"text", NULL};
static const char *const raw_codecs[] = {"binary", "text", NULL};

static const struct tc_format_desc formats[] = {
    {"opus", "opus", opus_only},   {"ogg", "ogg", opus_only},       {"mka", "matroska", opus_only},
    {"webm", "webm", webm_codecs}, {"mkv", "matroska", mkv_codecs}, {"mp4", "mp4", mp4_codecs},
    {"wav", "wav", wav_codecs},    {"srt", "srt", text_codecs},     {"raw", NULL, raw_codecs},
};

static const struct tc_codec_desc codecs[] = {
    {"opus", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_OPUS, 48000, 2},
    {"multiopus", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_OPUS, 48000, 6},
    {"pcmu", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_PCM_MULAW, 8000, 1},
    {"g711", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_PCM_MULAW, 8000, 1},
    {"pcma", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_PCM_ALAW, 8000, 1},
    {"g722", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_ADPCM_G722, 16000, 1},
    {"l16", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_PCM_S16LE, 16000, 1},
    {"l16-48", AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_PCM_S16LE, 48000, 1},
    {"vp8", AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_VP8, 0, 0},
    {"vp9", AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_VP9, 0, 0},
    {"h264", AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_H264, 0, 0},
    {"h265", AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_HEVC, 0, 0},
    {"av1", AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_AV1, 0, 0},
    {"text", AVMEDIA_TYPE_SUBTITLE, AV_CODEC_ID_SUBRIP, 0, 0},
    {"binary", AVMEDIA_TYPE_DATA, AV_CODEC_ID_NONE, 0, 0},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct tc_format_desc *tc_format_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < COUNT(formats); i++)
        if (strcasecmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

bool tc_format_accepts(const struct tc_format_desc *f, const char *codec)
{
    for (const char *const *c = f->codecs; *c; c++)
        if (strcasecmp(*c, codec) == 0)
            return true;
    return false;
}

void transcode_formats_for(const char *codec, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < COUNT(formats) && at < len; i++)
        if (tc_format_accepts(&formats[i], codec)) {
            int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", formats[i].name);
            if (n < 0)
                break;
            at += (size_t)n;
        }
}

const struct tc_codec_desc *tc_codec_find(const char *codec)
{
    for (size_t i = 0; i < COUNT(codecs); i++)
        if (strcasecmp(codecs[i].name, codec) == 0)
            return &codecs[i];
    return NULL;
}

const char *tc_format_from_path(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return NULL;
    const struct tc_format_desc *f = tc_format_find(dot + 1);
    return f ? f->name : NULL;
}
