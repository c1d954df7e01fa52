/* transcode/mux.h — an output file being written (internal to transcode/).
 *
 * Wraps libavformat's muxers (and a plain file for raw data): streams are added, the header
 * is written, packets are written with times in each stream's own clock, and finishing
 * writes the trailer and renames "<path>.part" to <path>. Aborting (or any failure) removes
 * the temporary file, so a half-written output never appears under the final name.
 *
 * Ownership: the caller owns the struct; tc_mux_finish() or tc_mux_abort() releases what it
 * holds (exactly one of them, once). One thread. */
#ifndef VB_TRANSCODE_MUX_H
#define VB_TRANSCODE_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

#include "transcode/format.h"
#include "transcode/transcode.h"

#define TC_MUX_STREAMS 8

struct tc_mux_stream_params {
    const struct tc_codec_desc *codec;
    int clock_rate; /* pts and durations given to tc_mux_write are in 1/clock_rate s */
    int width, height;
    const uint8_t *extradata; /* borrowed; codec configuration (see transcode/depay.h) */
    size_t extradata_len;
    int rotation; /* degrees clockwise the picture must be turned for display */
};

struct tc_mux {
    const struct tc_format_desc *fmt;
    char *path;
    char *tmp_path;
    AVFormatContext *oc;
    AVPacket *pkt;
    FILE *raw;
    AVRational in_tb[TC_MUX_STREAMS];
    bool swap16[TC_MUX_STREAMS]; /* L16: network byte order in, little-endian out */
    int n_streams;
    bool header_done;
    uint64_t bytes;
};

int tc_mux_open(struct tc_mux *m, const char *path, const struct tc_format_desc *fmt, char *err,
                size_t errlen);
/* Returns the stream index (>= 0) or -errno. */
int tc_mux_add_stream(struct tc_mux *m, const struct tc_mux_stream_params *p, char *err,
                      size_t errlen);
int tc_mux_begin(struct tc_mux *m, const struct tc_options *o, char *err, size_t errlen);
int tc_mux_write(struct tc_mux *m, int stream, const uint8_t *data, size_t len, int64_t pts,
                 int64_t duration, bool key, char *err, size_t errlen);
/* Trailer, close, rename. On failure the temporary file is removed. */
int tc_mux_finish(struct tc_mux *m, char *err, size_t errlen);
void tc_mux_abort(struct tc_mux *m);

#endif
