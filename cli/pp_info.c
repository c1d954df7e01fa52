/* This file implements the describing modes of `verbatim pp`: printing a recording's header
 * as JSON (-j), extended with what a parse finds (-e: packets, duration, video resolutions,
 * in janus-pp-rec's shape), as text (-H header, -p parse), and the format table (-F). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/pp_info.h"
#include "mjr/mjr.h"

static const char *const codec_names[] = {"opus", "multiopus", "pcmu", "pcma",   "g722",
                                          "l16",  "l16-48",    "vp8",  "vp9",    "h264",
                                          "h265", "av1",       "text", "binary", NULL};

int pp_info_extensions(void)
{
    for (const char *const *c = codec_names; *c; c++) {
        printf("%-10s", *c);
        char list[128];
        transcode_formats_for(*c, list, sizeof(list));
        printf(" %s\n", list);
    }
    return 0;
}

static json_t *extended_json(json_t *hdr, const struct tc_description *d)
{
    json_t *o = json_deep_copy(hdr);
    if (!o)
        o = json_object();
    json_t *ext = json_object();
    json_object_set_new(ext, "packets", json_integer((json_int_t)d->packets));
    json_object_set_new(ext, "duration", json_real(d->duration_s));
    if (d->kind == 'v') {
        json_t *res = json_array();
        for (size_t i = 0; i < d->n_resolutions; i++) {
            json_t *r = json_object();
            json_object_set_new(r, "ts", json_real(d->resolutions[i].at_s));
            json_object_set_new(r, "width", json_integer(d->resolutions[i].width));
            json_object_set_new(r, "height", json_integer(d->resolutions[i].height));
            json_array_append_new(res, r);
        }
        json_t *codec = json_object();
        json_object_set_new(codec, "resolution", res);
        json_object_set_new(ext, "codec", codec);
    }
    json_object_set_new(o, "extended", ext);
    return o;
}

static void print_header_text(const char *path, struct mjr_reader *r)
{
    printf("Source file: %s\n", path);
    const char *kind = mjr_kind_name(mjr_reader_kind(r));
    printf("This is %s %s recording:\n", kind[0] == 'a' ? "an" : "a", kind);
    printf("  -- Codec:   %s\n", mjr_reader_codec(r) ? mjr_reader_codec(r) : "(unknown)");
    printf("  -- Created: %lld\n", (long long)mjr_reader_created_us(r));
    printf("  -- Written: %lld\n", (long long)mjr_reader_first_frame_us(r));
}

int pp_info_run(const char *path, bool json, bool extended, bool parse, const struct tc_options *o)
{
    char err[256];
    struct mjr_reader *r;
    if (mjr_reader_open(path, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "verbatim pp: %s\n", err);
        return 1;
    }
    json_t *hdr = mjr_reader_header(r);
    if (json && !extended) {
        char *s = hdr ? json_dumps(hdr, JSON_PRESERVE_ORDER) : NULL;
        if (!s) {
            fprintf(stderr, "verbatim pp: %s has no JSON header\n", path);
            mjr_reader_destroy(r);
            return 1;
        }
        printf("%s\n", s);
        free(s);
        mjr_reader_destroy(r);
        return 0;
    }
    if (!extended && !parse) {
        print_header_text(path, r);
        mjr_reader_destroy(r);
        return 0;
    }
    struct tc_description d;
    int rc = transcode_describe(path, o, &d, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "verbatim pp: %s\n", err);
        mjr_reader_destroy(r);
        return 1;
    }
    if (extended) {
        json_t *e = extended_json(hdr, &d);
        char *s = json_dumps(e, JSON_PRESERVE_ORDER | JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(e);
    } else {
        print_header_text(path, r);
        if (d.kind != 'd')
            printf("SSRC detected: %lu\n", (unsigned long)d.ssrc);
        printf("Counted %llu %s\n", (unsigned long long)d.packets,
               d.kind == 'd' ? "data messages" : "RTP packets");
        for (size_t i = 0; i < d.n_resolutions; i++)
            printf("  -- %dx%d from %.3f s\n", d.resolutions[i].width, d.resolutions[i].height,
                   d.resolutions[i].at_s);
        printf("Duration: %.3f s; lost %llu, duplicates %llu, late %llu, refused %llu\n",
               d.duration_s, (unsigned long long)d.st.lost, (unsigned long long)d.st.duplicates,
               (unsigned long long)d.st.late, (unsigned long long)d.st.refused);
    }
    mjr_reader_destroy(r);
    return 0;
}
