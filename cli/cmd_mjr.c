/* This file implements `verbatim mjr`, the MJR inspection tools. `verbatim mjr info FILE
 * [--json]` reads a recording once, frame by frame, and reports its version, kind, codec,
 * header, frame count, duration, gaps between frames, RTP sources and how the file ended.
 *
 * DESIGN: the report is computed in one pass into a `struct info_stats` and then printed
 * either as text or as one JSON object built with jansson. Frame times come from the frame
 * prefix in MJR00002; older versions have none, so their times are derived from the RTP
 * timestamps (unwrapped across 32-bit wraps) at the codec's clock rate, and the report says
 * which source it used. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/mjr.h"

#define GAP_THRESHOLD_MS 500
#define GAPS_LISTED 20
#define SSRCS_KEPT 64
#define HEADER_SHOWN 400 /* characters of a long header shown in the text report */

struct gap {
    uint64_t frame; /* index of the frame after the gap */
    int64_t at_ms;  /* time of the frame before the gap */
    int64_t gap_ms; /* interval */
};

struct info_stats {
    uint64_t frames;
    uint64_t rtp_frames; /* bodies that look like RTP (version 2, at least 12 bytes) */
    uint64_t body_bytes;
    uint32_t clock_rate; /* of the codec; 0 when unknown or data */
    /* MJR00002 frame times */
    bool have_t;
    uint32_t first_t, last_t;
    /* RTP */
    bool have_rtp;
    uint16_t first_seq, last_seq;
    uint32_t first_ts, last_ts;
    int64_t ext_ts, ext_min, ext_max; /* timestamps extended past 32-bit wraps */
    uint32_t ssrcs[SSRCS_KEPT];
    size_t n_ssrcs;
    bool more_ssrcs;
    /* gaps between consecutive frame times */
    bool have_prev;
    int64_t prev_ms;
    struct gap gaps[GAPS_LISTED];
    uint64_t n_gaps;
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: verbatim mjr info FILE [--json]\n"
                "  info   version, kind, codec, header, frames, duration, gaps, damage\n");
}

/* ---- one pass over the frames ----------------------------------------------------------- */

static void note_ssrc(struct info_stats *st, uint32_t ssrc)
{
    for (size_t i = 0; i < st->n_ssrcs; i++)
        if (st->ssrcs[i] == ssrc)
            return;
    if (st->n_ssrcs < SSRCS_KEPT)
        st->ssrcs[st->n_ssrcs++] = ssrc;
    else
        st->more_ssrcs = true;
}

static void note_rtp(struct info_stats *st, const uint8_t *b, size_t len)
{
    if (len < 12 || (b[0] >> 6) != 2)
        return;
    uint16_t seq = rd_u16(b + 2);
    uint32_t ts = rd_u32(b + 4);
    st->rtp_frames++;
    if (!st->have_rtp) {
        st->have_rtp = true;
        st->first_seq = seq;
        st->first_ts = ts;
        st->ext_ts = st->ext_min = st->ext_max = ts;
    } else {
        st->ext_ts += (int32_t)(ts - st->last_ts);
        if (st->ext_ts < st->ext_min)
            st->ext_min = st->ext_ts;
        if (st->ext_ts > st->ext_max)
            st->ext_max = st->ext_ts;
    }
    st->last_seq = seq;
    st->last_ts = ts;
    note_ssrc(st, rd_u32(b + 8));
}

/* The frame's time in ms for gap detection, or -1 when it has none. */
static int64_t frame_time_ms(const struct info_stats *st, const struct mjr_frame *f, bool rtp)
{
    if (f->has_time)
        return f->t_ms;
    if (rtp && st->have_rtp && st->clock_rate)
        return (st->ext_ts - (int64_t)st->first_ts) * 1000 / st->clock_rate;
    return -1;
}

static void note_gap(struct info_stats *st, int64_t t_ms)
{
    if (t_ms < 0)
        return;
    if (st->have_prev && t_ms - st->prev_ms > GAP_THRESHOLD_MS) {
        if (st->n_gaps < GAPS_LISTED)
            st->gaps[st->n_gaps] = (struct gap){st->frames, st->prev_ms, t_ms - st->prev_ms};
        st->n_gaps++;
    }
    if (!st->have_prev || t_ms > st->prev_ms)
        st->prev_ms = t_ms;
    st->have_prev = true;
}

static void stats_collect(struct mjr_reader *r, struct info_stats *st)
{
    enum mjr_kind kind = mjr_reader_kind(r);
    bool media = kind == MJR_KIND_AUDIO || kind == MJR_KIND_VIDEO;
    st->clock_rate = media ? mjr_codec_clock_rate(mjr_reader_codec(r)) : 0;
    struct mjr_frame f;
    while (mjr_reader_next(r, &f) == 1) {
        if (f.has_time) {
            if (!st->have_t)
                st->first_t = f.t_ms;
            st->have_t = true;
            st->last_t = f.t_ms;
        }
        uint64_t before = st->rtp_frames;
        if (media)
            note_rtp(st, f.body, f.len);
        if (media)
            note_gap(st, frame_time_ms(st, &f, st->rtp_frames > before));
        st->frames++;
        st->body_bytes += f.len;
    }
}

/* Duration in ms from RTP timestamps, or -1 when it cannot be computed. */
static int64_t rtp_duration_ms(const struct info_stats *st)
{
    if (!st->have_rtp || !st->clock_rate)
        return -1;
    return (st->ext_max - st->ext_min) * 1000 / st->clock_rate;
}

/* The duration reported: frame times in MJR00002, RTP time otherwise (-1: none). */
static int64_t duration_ms(const struct info_stats *st, const char **source)
{
    if (st->have_t) {
        *source = "frame times";
        return (int64_t)st->last_t - st->first_t;
    }
    int64_t d = rtp_duration_ms(st);
    *source = d >= 0 ? "RTP timestamps" : "none";
    return d;
}

/* ---- JSON report ------------------------------------------------------------------------ */

static json_t *header_json(struct mjr_reader *r)
{
    json_t *h = mjr_reader_header(r);
    if (h)
        return json_incref(h);
    if (mjr_reader_version(r) == MJR_VERSION_LEGACY && mjr_reader_codec(r))
        return json_pack("{s:s, s:s}", "t", mjr_kind_letter(mjr_reader_kind(r)), "c",
                         mjr_reader_codec(r));
    return json_null();
}

static json_t *gaps_json(const struct info_stats *st)
{
    json_t *a = json_array();
    for (uint64_t i = 0; i < st->n_gaps && i < GAPS_LISTED; i++)
        json_array_append_new(
            a, json_pack("{s:I, s:I, s:I}", "frame", (json_int_t)st->gaps[i].frame, "after_ms",
                         (json_int_t)st->gaps[i].at_ms, "gap_ms", (json_int_t)st->gaps[i].gap_ms));
    return a;
}

static json_t *int_or_null(bool have, int64_t v)
{
    return have ? json_integer((json_int_t)v) : json_null();
}

static void print_json(struct mjr_reader *r, const struct info_stats *st, uint64_t size)
{
    const char *src;
    int64_t dur = duration_ms(st, &src);
    int64_t first = st->have_t ? st->first_t : 0;
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(mjr_reader_version(r)));
    json_object_set_new(o, "kind", json_string(mjr_kind_name(mjr_reader_kind(r))));
    const char *codec = mjr_reader_codec(r);
    json_object_set_new(o, "codec", codec ? json_string(codec) : json_null());
    json_object_set_new(o, "header", header_json(r));
    json_object_set_new(o, "header_bytes", json_integer((json_int_t)mjr_reader_header_len(r)));
    json_object_set_new(o, "frames", json_integer((json_int_t)st->frames));
    json_object_set_new(o, "rtp_frames", json_integer((json_int_t)st->rtp_frames));
    json_object_set_new(o, "duration_ms", json_integer(dur > 0 ? dur : 0));
    json_object_set_new(o, "time_source", json_string(src));
    json_object_set_new(o, "first_ms", int_or_null(dur >= 0 && st->frames, first));
    json_object_set_new(o, "last_ms", int_or_null(dur >= 0 && st->frames, first + dur));
    int64_t rd = rtp_duration_ms(st);
    json_object_set_new(o, "rtp_duration_ms", int_or_null(rd >= 0, rd));
    json_object_set_new(o, "clock_rate", json_integer(st->clock_rate));
    json_object_set_new(o, "seq_first", int_or_null(st->have_rtp, st->first_seq));
    json_object_set_new(o, "seq_last", int_or_null(st->have_rtp, st->last_seq));
    json_object_set_new(o, "ts_first", int_or_null(st->have_rtp, st->first_ts));
    json_object_set_new(o, "ts_last", int_or_null(st->have_rtp, st->last_ts));
    json_t *ss = json_array();
    for (size_t i = 0; i < st->n_ssrcs; i++)
        json_array_append_new(ss, json_integer(st->ssrcs[i]));
    json_object_set_new(o, "ssrcs", ss);
    json_object_set_new(o, "gap_threshold_ms", json_integer(GAP_THRESHOLD_MS));
    json_object_set_new(o, "gap_count", json_integer((json_int_t)st->n_gaps));
    json_object_set_new(o, "gaps", gaps_json(st));
    json_object_set_new(o, "bytes", json_integer((json_int_t)size));
    json_object_set_new(o, "good_end", json_integer((json_int_t)mjr_reader_good_end(r)));
    json_object_set_new(o, "truncated", json_boolean(mjr_reader_truncated(r)));
    json_object_set_new(o, "diag", json_string(mjr_reader_diag(r)));
    json_object_set_new(o, "created_us", json_integer(mjr_reader_created_us(r)));
    json_object_set_new(o, "first_frame_us", json_integer(mjr_reader_first_frame_us(r)));
    char *text = json_dumps(o, JSON_PRESERVE_ORDER);
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

/* ---- text report ------------------------------------------------------------------------ */

static const char *version_name(enum mjr_version v)
{
    switch (v) {
    case MJR_VERSION_LEGACY:
        return "legacy MEETECHO (0)";
    case MJR_VERSION_1:
        return "MJR00001 (1)";
    default:
        return "MJR00002 (2)";
    }
}

static void print_header_text(struct mjr_reader *r)
{
    json_t *h = header_json(r);
    char *text = json_is_null(h) ? NULL : json_dumps(h, JSON_PRESERVE_ORDER);
    size_t len = text ? strlen(text) : 0;
    if (!text)
        printf("header:       (none)\n");
    else if (len > HEADER_SHOWN)
        printf("header:       %.*s... (%zu bytes)\n", HEADER_SHOWN, text, mjr_reader_header_len(r));
    else
        printf("header:       %s%s\n", text,
               mjr_reader_version(r) == MJR_VERSION_LEGACY ? " (synthesized: legacy file)" : "");
    free(text);
    json_decref(h);
}

static void print_gaps_text(const struct info_stats *st)
{
    if (st->n_gaps == 0) {
        printf("gaps:         none over %d ms\n", GAP_THRESHOLD_MS);
        return;
    }
    printf("gaps:         %" PRIu64 " over %d ms\n", st->n_gaps, GAP_THRESHOLD_MS);
    for (uint64_t i = 0; i < st->n_gaps && i < GAPS_LISTED; i++)
        printf("              %" PRId64 " ms after %" PRId64 " ms (before frame %" PRIu64 ")\n",
               st->gaps[i].gap_ms, st->gaps[i].at_ms, st->gaps[i].frame);
    if (st->n_gaps > GAPS_LISTED)
        printf("              ... and %" PRIu64 " more\n", st->n_gaps - GAPS_LISTED);
}

static void print_times_text(const struct info_stats *st)
{
    const char *src;
    int64_t dur = duration_ms(st, &src);
    int64_t rd = rtp_duration_ms(st);
    if (dur < 0) {
        printf("duration:     unknown (no frame times and no RTP clock)\n");
    } else if (st->have_t) {
        printf("duration:     %" PRId64 " ms (frame times)", dur);
        if (rd >= 0)
            printf("; RTP timestamps say %" PRId64 " ms at %" PRIu32 " Hz", rd, st->clock_rate);
        printf("\nfirst/last:   %" PRIu32 " ms / %" PRIu32 " ms\n", st->first_t, st->last_t);
    } else {
        printf("duration:     %" PRId64 " ms (from RTP timestamps at %" PRIu32
               " Hz: this version stores no frame times)\n",
               dur, st->clock_rate);
        printf("first/last:   0 ms / %" PRId64 " ms (RTP time)\n", dur);
    }
    if (st->have_rtp)
        printf("rtp:          seq %u..%u, ts %" PRIu32 "..%" PRIu32 ", %" PRIu64 " RTP frames\n",
               st->first_seq, st->last_seq, st->first_ts, st->last_ts, st->rtp_frames);
}

static void print_text(const char *path, struct mjr_reader *r, const struct info_stats *st,
                       uint64_t size)
{
    const char *codec = mjr_reader_codec(r);
    printf("file:         %s\n", path);
    printf("size:         %" PRIu64 " bytes\n", size);
    printf("version:      %s\n", version_name(mjr_reader_version(r)));
    printf("kind:         %s\n", mjr_kind_name(mjr_reader_kind(r)));
    printf("codec:        %s\n", codec ? codec : "(unknown)");
    print_header_text(r);
    if (mjr_reader_created_us(r) || mjr_reader_first_frame_us(r))
        printf("created:      %" PRId64 " us; first frame %" PRId64 " us (wall clock)\n",
               mjr_reader_created_us(r), mjr_reader_first_frame_us(r));
    printf("frames:       %" PRIu64 " (%" PRIu64 " body bytes)\n", st->frames, st->body_bytes);
    print_times_text(st);
    if (st->n_ssrcs) {
        printf("ssrcs:       ");
        for (size_t i = 0; i < st->n_ssrcs; i++)
            printf(" %" PRIu32 " (0x%08" PRIx32 ")", st->ssrcs[i], st->ssrcs[i]);
        printf("%s\n", st->more_ssrcs ? " ..." : "");
    }
    if (mjr_reader_kind(r) == MJR_KIND_AUDIO || mjr_reader_kind(r) == MJR_KIND_VIDEO)
        print_gaps_text(st);
    const char *diag = mjr_reader_diag(r);
    if (mjr_reader_truncated(r))
        printf("end:          TRUNCATED after byte %" PRIu64 ": %s\n", mjr_reader_good_end(r),
               diag);
    else if (st->frames == 0 && mjr_reader_good_end(r) == MJR_MAGIC_LEN)
        printf("end:          clean: only the magic, no packet was ever recorded\n");
    else
        printf("end:          clean%s%s\n", diag[0] ? "; " : "", diag);
}

/* ---- subcommands ------------------------------------------------------------------------ */

static int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "verbatim mjr info: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "verbatim mjr info: one file at a time\n");
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    struct mjr_reader *r;
    char err[256];
    if (mjr_reader_open(path, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "verbatim mjr info: %s: %s\n", path, err);
        return 1;
    }
    struct stat sb;
    uint64_t size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    struct info_stats *st = xcalloc(1, sizeof(*st));
    stats_collect(r, st);
    if (as_json)
        print_json(r, st, size);
    else
        print_text(path, r, st, size);
    free(st);
    mjr_reader_destroy(r);
    return 0;
}

int cli_mjr(int argc, char **argv, const struct vb_log *log)
{
    (void)log;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "info") == 0)
        return cmd_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "verbatim mjr: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
