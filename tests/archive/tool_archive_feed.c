/* This file implements tool_archive_feed, the producer of the crash-recovery test: it records
 * the packets of MJR files (the real-Janus fixtures) through the archive API, as the gateway
 * would, into a data directory with a real catalog; and, in a second mode, runs the archive's
 * crash recovery on that directory.
 *
 *     tool_archive_feed --data DIR [--speed N] [--for-ms MS] IN.mjr...
 *     tool_archive_feed --recover --data DIR
 *     tool_archive_feed --dump --data DIR
 *
 * Record mode opens one recorder per input (room, participant, kind and mindex from Janus's
 * file name; codec from the header), replays the frames at their recorded times N times
 * faster (default 4), and starts over when the longest input ends, shifting RTP sequence
 * numbers and timestamps so every file stays one continuous stream. Once every recorder's
 * temporary file exists and the catalog has applied their openings it prints "recording".
 * It runs until killed, or for --for-ms and then closes cleanly. --recover prints the
 * recovery report as JSON; --dump prints the catalog's recordings as JSON. Exit status 0, or
 * 1 with a sentence on stderr. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "archive/archive.h"
#include "archive/archive_internal.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/xalloc.h"

#define RTP_MIN 12

struct track {
    struct archive_rec *rec;
    enum mjr_kind kind;
    size_t n;
    uint8_t **body;
    size_t *len;
    uint32_t *t_ms;
    size_t next;
    uint32_t ts_off, ts_span; /* shift per loop: the input's timestamp range plus a frame */
    uint16_t seq_off, seq_span;
};

struct opts {
    const char *data;
    double speed;
    int64_t for_ms;
    bool recover, dump;
    char **inputs;
    int n_inputs;
};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "tool_archive_feed: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
    return 1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.speed = 4.0};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (!strcmp(argv[i], "--recover"))
            o->recover = true;
        else if (!strcmp(argv[i], "--dump"))
            o->dump = true;
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            o->data = argv[++i];
        else if (!strcmp(argv[i], "--speed") && i + 1 < argc)
            o->speed = atof(argv[++i]);
        else if (!strcmp(argv[i], "--for-ms") && i + 1 < argc)
            o->for_ms = atoll(argv[++i]);
        else
            return -EINVAL;
    }
    o->inputs = argv + i;
    o->n_inputs = argc - i;
    if (!o->data || o->speed <= 0 || (!o->recover && !o->dump && o->n_inputs == 0))
        return -EINVAL;
    return 0;
}

/* Loads every frame of `path` and opens its recorder. */
static int track_load(struct archive *a, const char *path, struct track *t)
{
    char err[200];
    struct mjr_reader *r;
    int rc = mjr_reader_open(path, &r, err, sizeof(err));
    if (rc < 0)
        return fail(err, rc);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct archive_name nm;
    if (archive_name_parse(base, &nm) < 0 || !nm.videoroom) {
        mjr_reader_destroy(r);
        return fail("not a Janus VideoRoom file name", EINVAL);
    }
    struct mjr_frame f;
    size_t cap = 0;
    while (mjr_reader_next(r, &f) == 1) {
        if (f.len < RTP_MIN)
            continue;
        if (t->n == cap) {
            cap = cap ? cap * 2 : 256;
            t->body = xrealloc(t->body, cap * sizeof(*t->body));
            t->len = xrealloc(t->len, cap * sizeof(*t->len));
            t->t_ms = xrealloc(t->t_ms, cap * sizeof(*t->t_ms));
        }
        t->body[t->n] = xmalloc(f.len);
        memcpy(t->body[t->n], f.body, f.len);
        t->len[t->n] = f.len;
        t->t_ms[t->n++] = f.t_ms;
    }
    t->kind = mjr_reader_kind(r);
    struct archive_stream_info info = {.room = nm.room,
                                       .participant = nm.participant,
                                       .kind = t->kind,
                                       .mindex = nm.mindex,
                                       .codec = mjr_reader_codec(r)};
    rc = t->n ? archive_rec_open(a, &info, &t->rec) : -ENODATA;
    mjr_reader_destroy(r);
    archive_name_clear(&nm);
    if (rc < 0)
        return fail(path, rc);
    uint32_t first_ts = rd_u32(t->body[0] + 4), last_ts = rd_u32(t->body[t->n - 1] + 4);
    t->ts_span = last_ts - first_ts + (t->kind == MJR_KIND_VIDEO ? 3000 : 960);
    t->seq_span = (uint16_t)(rd_u16(t->body[t->n - 1] + 2) - rd_u16(t->body[0] + 2) + 1);
    return 0;
}

static void track_write(struct track *t)
{
    uint8_t pkt[MJR_FRAME_MAX];
    size_t len = t->len[t->next];
    memcpy(pkt, t->body[t->next], len);
    wr_u16(pkt + 2, (uint16_t)(rd_u16(pkt + 2) + t->seq_off));
    wr_u32(pkt + 4, rd_u32(pkt + 4) + t->ts_off);
    archive_rec_write_rtp(t->rec, pkt, len);
    t->next++;
}

static void sleep_until(int64_t mono_us)
{
    int64_t d = mono_us - vb_clock_mono_us();
    if (d <= 0)
        return;
    struct timespec ts = {.tv_sec = d / 1000000, .tv_nsec = (d % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* True once every recorder's temporary file exists. */
static bool all_open(const char *data, struct track *tr, int n)
{
    for (int i = 0; i < n; i++) {
        char *tmp = archive_printf("%s/%s.tmp", data, archive_rec_path(tr[i].rec));
        int e = archive_exists(tmp);
        free(tmp);
        if (e != 1)
            return false;
    }
    return true;
}

static void play(const struct opts *o, struct catalog *c, struct track *tr, int n)
{
    uint32_t period_ms = 0;
    for (int i = 0; i < n; i++)
        if (tr[i].t_ms[tr[i].n - 1] + 20 > period_ms)
            period_ms = tr[i].t_ms[tr[i].n - 1] + 20;
    int64_t start = vb_clock_mono_us(), loop = 0;
    bool announced = false;
    for (;;) {
        int best = -1;
        int64_t due = 0;
        for (int i = 0; i < n; i++) {
            if (tr[i].next >= tr[i].n)
                continue;
            int64_t at = start + (int64_t)((double)(loop * period_ms + tr[i].t_ms[tr[i].next]) *
                                           1000.0 / o->speed);
            if (best < 0 || at < due) {
                best = i;
                due = at;
            }
        }
        if (best < 0) {
            for (int i = 0; i < n; i++) {
                tr[i].next = 0;
                tr[i].ts_off += tr[i].ts_span;
                tr[i].seq_off = (uint16_t)(tr[i].seq_off + tr[i].seq_span);
            }
            loop++;
            continue;
        }
        sleep_until(due);
        track_write(&tr[best]);
        if (!announced && all_open(o->data, tr, n)) {
            catalog_flush(c);
            printf("recording\n");
            fflush(stdout);
            announced = true;
        }
        if (o->for_ms && vb_clock_mono_us() - start >= o->for_ms * 1000)
            return;
    }
}

static int record(const struct opts *o, struct archive *a, struct catalog *c)
{
    struct track *tr = xcalloc((size_t)o->n_inputs, sizeof(*tr));
    int rc = 0, n = 0;
    for (; n < o->n_inputs && rc == 0; n++)
        rc = track_load(a, o->inputs[n], &tr[n]);
    if (rc == 0)
        play(o, c, tr, n);
    for (int i = 0; i < n; i++) {
        archive_rec_close(tr[i].rec);
        for (size_t k = 0; k < tr[i].n; k++)
            free(tr[i].body[k]);
        free(tr[i].body);
        free(tr[i].len);
        free(tr[i].t_ms);
    }
    free(tr);
    return rc;
}

static int dump(struct catalog *c)
{
    struct catalog_filter f = {.limit = 1000};
    json_t *res = NULL;
    int rc = catalog_recordings_query(c, &f, &res);
    if (rc < 0)
        return fail("query", rc);
    char *s = json_dumps(res, JSON_COMPACT);
    printf("%s\n", s);
    free(s);
    json_decref(res);
    return 0;
}

static int recover(struct archive *a)
{
    struct archive_recover_report rep;
    int rc = archive_recover(a, &rep);
    if (rc < 0)
        return fail("archive_recover", rc);
    printf("{\"recovered\": %u, \"missing\": %u, \"stray\": %u, \"trimmed\": %" PRIu64 "}\n",
           rep.recovered, rep.missing, rep.stray, rep.trimmed);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: tool_archive_feed --data DIR [--speed N] [--for-ms MS] "
                        "IN.mjr... | --recover --data DIR | --dump --data DIR\n");
        return 2;
    }
    char *db = archive_printf("%s/catalog.db", o.data);
    struct catalog_config ccfg = {.db_path = db, .data_dir = o.data};
    struct catalog *c = NULL;
    char err[256] = "";
    int rc = mkdir(o.data, 0750);
    if (rc != 0 && errno != EEXIST)
        return fail(o.data, errno);
    rc = catalog_open(&ccfg, &c, err, sizeof(err));
    free(db);
    if (rc < 0)
        return fail(err, rc);
    struct mjr_engine *e = NULL;
    struct archive *a = NULL;
    struct archive_config acfg = {.data_dir = o.data, .catalog = c};
    if (!o.dump && (rc = mjr_engine_create(NULL, &e)) == 0) {
        acfg.engine = e;
        rc = archive_create(&acfg, &a);
    }
    if (rc < 0)
        rc = fail("engine", rc);
    else if (o.dump)
        rc = dump(c);
    else if (o.recover)
        rc = recover(a);
    else
        rc = record(&o, a, c);
    archive_destroy(a);
    mjr_engine_destroy(e);
    catalog_close(c);
    return rc;
}
