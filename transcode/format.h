/* transcode/format.h — which codec may go into which container, and how libavformat names
 * them (internal to transcode/). Tables only; any thread. */
#ifndef VB_TRANSCODE_FORMAT_H
#define VB_TRANSCODE_FORMAT_H

#include <stdbool.h>

#include <libavcodec/avcodec.h>

struct tc_format_desc {
    const char *name;          /* as -f takes it and as the extension */
    const char *muxer;         /* libavformat's short name; NULL: written by hand */
    const char *const *codecs; /* accepted MJR codec names, NULL-terminated */
};

struct tc_codec_desc {
    const char *name; /* MJR "c" */
    enum AVMediaType type;
    enum AVCodecID id;
    int sample_rate; /* audio: samples per second in the output */
    int channels;
};

const struct tc_format_desc *tc_format_find(const char *name);
bool tc_format_accepts(const struct tc_format_desc *f, const char *codec);

const struct tc_codec_desc *tc_codec_find(const char *codec);

#endif
