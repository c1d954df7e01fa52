/* This file implements the MJR header: kind names, codec clock rates and the JSON header
 * text rendered exactly as Janus's recorder renders it.
 *
 * DESIGN: Janus builds the header with jansson and dumps it with JSON_PRESERVE_ORDER and no
 * other flag, which gives ", " and ": " separators and no newline. We build the same object
 * in the same key order (t c f d x s u or e) and dump it the same way, so the bytes match. */
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "mjr/mjr.h"

const char *mjr_kind_letter(enum mjr_kind kind)
{
    switch (kind) {
    case MJR_KIND_AUDIO:
        return "a";
    case MJR_KIND_VIDEO:
        return "v";
    case MJR_KIND_DATA:
        return "d";
    default:
        return "?";
    }
}

const char *mjr_kind_name(enum mjr_kind kind)
{
    switch (kind) {
    case MJR_KIND_AUDIO:
        return "audio";
    case MJR_KIND_VIDEO:
        return "video";
    case MJR_KIND_DATA:
        return "data";
    default:
        return "unknown";
    }
}

struct codec_rate {
    const char *name;
    uint32_t rate;
};

static const struct codec_rate codec_rates[] = {
    {"opus", 48000},   {"multiopus", 48000}, {"red", 48000},    {"pcmu", 8000},
    {"pcma", 8000},    {"g711", 8000},       {"g722", 8000},    {"l16", 16000},
    {"l16-48", 48000}, {"isac16", 16000},    {"isac32", 32000}, {"vp8", 90000},
    {"vp9", 90000},    {"h264", 90000},      {"av1", 90000},    {"h265", 90000},
};

uint32_t mjr_codec_clock_rate(const char *codec)
{
    if (!codec)
        return 0;
    for (size_t i = 0; i < sizeof(codec_rates) / sizeof(codec_rates[0]); i++)
        if (strcasecmp(codec_rates[i].name, codec) == 0)
            return codec_rates[i].rate;
    return 0;
}

char *mjr_header_render(const struct mjr_info *info, int64_t created_us, int64_t first_us)
{
    json_t *o = json_object();
    json_object_set_new(o, "t", json_string(mjr_kind_letter(info->kind)));
    json_object_set_new(o, "c", json_string(info->codec ? info->codec : ""));
    if (info->fmtp)
        json_object_set_new(o, "f", json_string(info->fmtp));
    if (info->description)
        json_object_set_new(o, "d", json_string(info->description));
    json_t *x = NULL;
    for (int id = 1; id < 15; id++) {
        if (!info->extmaps[id])
            continue;
        if (!x)
            x = json_object();
        char key[4];
        key[0] = (char)('0' + id / 10);
        key[1] = (char)('0' + id % 10);
        key[2] = '\0';
        json_object_set_new(x, id < 10 ? key + 1 : key, json_string(info->extmaps[id]));
    }
    if (x)
        json_object_set_new(o, "x", x);
    json_object_set_new(o, "s", json_integer(created_us));
    json_object_set_new(o, "u", json_integer(first_us));
    if (info->kind == MJR_KIND_AUDIO && info->opusred_pt > 0)
        json_object_set_new(o, "or", json_integer(info->opusred_pt));
    if (info->e2ee)
        json_object_set_new(o, "e", json_true());
    char *text = json_dumps(o, JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        abort(); /* jansson only fails here on allocation failure */
    char *copy = xstrdup(text);
    free(text);
    return copy;
}
