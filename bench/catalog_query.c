/* This file implements the catalog benchmark: ingest of 1,000,000 recording rows through
 * catalog_post(), then random queries by room, by participant and by time range, with their
 * p50 / p99 latencies (the target is p99 < 10 ms).
 *
 * DESIGN: the data looks like a month of meetings: 5,000 rooms, 8 participants each (every
 * participant id unique), each participant recording audio and video in segments, 25
 * recordings per participant; each meeting starts at a random time in the 30 days and lasts
 * 30 to 120 minutes. Every recording is two events (RECORDING_OPENED, which also creates the
 * room, participant and track, then RECORDING_CLOSED with size and SHA-256), so the ingest
 * rate is measured on the real path: copy, queue, batched transactions, until catalog_flush()
 * returns. Queries go through catalog_recordings_query() (SQL, count, page of 50, JSON), one
 * at a time on one thread: latency, not throughput.
 *
 * usage: catalog_query [--dir DIR] [--recordings N] [--queries Q] [--batch B] [--keep]
 *        catalog_query --dir DIR --query-only [--recordings N]   (queries on a kept catalog) */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/bench_util.h"
#include "catalog/catalog.h"

#define ROOMS 5000
#define PER_ROOM 8
#define DAY_US (INT64_C(86400) * 1000000)
#define T_START INT64_C(1700000000000000)
#define SPAN_US (30 * DAY_US)

struct options {
    const char *dir;
    long recordings;
    long queries;
    unsigned batch;
    bool keep;
    bool query_only;
};

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.recordings = 1000000, .queries = 1000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--keep") == 0 || strcmp(a, "--query-only") == 0) {
            *(a[2] == 'k' ? &o->keep : &o->query_only) = true;
            continue;
        }
        if (!v)
            return -EINVAL;
        if (strcmp(a, "--dir") == 0)
            o->dir = v;
        else if (strcmp(a, "--recordings") == 0)
            o->recordings = strtol(v, NULL, 10);
        else if (strcmp(a, "--queries") == 0)
            o->queries = strtol(v, NULL, 10);
        else if (strcmp(a, "--batch") == 0)
            o->batch = (unsigned)strtoul(v, NULL, 10);
        else
            return -EINVAL;
        i++;
    }
    return o->recordings > 0 && o->queries > 0 && (!o->query_only || o->dir) ? 0 : -EINVAL;
}

static void post_or_die(struct catalog *c, const struct catalog_event *ev)
{
    if (catalog_post(c, ev) < 0) {
        fprintf(stderr, "catalog_post failed\n");
        exit(1);
    }
}

/* Posts one room's meeting: its participants' recordings, segment after segment. */
static long post_room(struct catalog *c, int room, int rooms, int per_participant, uint64_t *rng)
{
    char room_id[16], who[24], path[160];
    snprintf(room_id, sizeof room_id, "%d", 100000 + room);
    /* Meetings start in order over the month (events arrive as they happen), a few hours
     * of jitter each. */
    int64_t start = T_START + SPAN_US / rooms * room +
                    (int64_t)(bench_rand_next(rng) % (uint64_t)(4 * 3600 * INT64_C(1000000)));
    int64_t length = (30 + (int64_t)(bench_rand_next(rng) % 91)) * 60 * 1000000;
    int64_t seg = length / ((per_participant + 1) / 2);
    long n = 0;
    for (int p = 0; p < PER_ROOM; p++) {
        snprintf(who, sizeof who, "u%d-%d", room, p);
        for (int k = 0; k < per_participant; k++) {
            bool video = k % 2;
            int64_t opened = start + (k / 2) * seg + p * 1000;
            snprintf(path, sizeof path, "recordings/%s/videoroom-%s-user-%s-%" PRId64 "-%s-%d.mjr",
                     room_id, room_id, who, opened, video ? "video" : "audio", video);
            struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                                       .at_us = opened,
                                       .room = room_id,
                                       .participant = who,
                                       .display = "Participant Name",
                                       .kind_name = video ? "video" : "audio",
                                       .mindex = video,
                                       .codec = video ? "vp8" : "opus",
                                       .path = path};
            post_or_die(c, &ev);
            ev = (struct catalog_event){.kind = CATALOG_RECORDING_CLOSED,
                                        .at_us = opened + seg - 1000,
                                        .path = path,
                                        .size = 1000000 + bench_rand_next(rng) % 1000000,
                                        .has_sha256 = true,
                                        .frames = 15000};
            memset(ev.sha256, (int)(n & 0xff), sizeof ev.sha256);
            post_or_die(c, &ev);
            n++;
        }
    }
    return n;
}

struct query_kind {
    const char *name;
    struct bench_hist *h;
    int64_t rows;
    int64_t totals;
};

static void run_query(struct catalog *c, struct query_kind *q, const struct catalog_filter *f)
{
    json_t *out = NULL;
    int64_t t0 = bench_now_ns();
    int r = catalog_recordings_query(c, f, &out);
    int64_t t1 = bench_now_ns();
    if (r < 0) {
        fprintf(stderr, "%s query failed: %d\n", q->name, r);
        exit(1);
    }
    bench_hist_add(q->h, (uint64_t)(t1 - t0));
    q->rows += (int64_t)json_array_size(json_object_get(out, "recordings"));
    q->totals += json_integer_value(json_object_get(out, "total"));
    json_decref(out);
}

static void report(const struct query_kind *q, long n)
{
    printf("  %-13s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (mean total %" PRId64
           ", mean rows %" PRId64 ")%s\n",
           q->name, (double)bench_hist_quantile(q->h, 0.50) / 1e6,
           (double)bench_hist_quantile(q->h, 0.99) / 1e6, (double)q->h->max / 1e6, q->totals / n,
           q->rows / n, bench_hist_quantile(q->h, 0.99) < 10000000 ? "" : "  ** p99 over 10 ms **");
}

static void run_queries(struct catalog *c, const struct options *o, int rooms, uint64_t *rng)
{
    struct query_kind qs[3] = {
        {.name = "by room"}, {.name = "by participant"}, {.name = "by time"}};
    char room_id[16], who[24];
    for (int k = 0; k < 3; k++)
        qs[k].h = calloc(1, sizeof *qs[k].h);
    for (long i = 0; i < o->queries; i++) {
        int room = (int)(bench_rand_next(rng) % (uint64_t)rooms);
        snprintf(room_id, sizeof room_id, "%d", 100000 + room);
        run_query(c, &qs[0], &(struct catalog_filter){.room = room_id});
        snprintf(who, sizeof who, "u%d-%d", room, (int)(bench_rand_next(rng) % PER_ROOM));
        run_query(c, &qs[1], &(struct catalog_filter){.participant = who});
        int64_t from = T_START + (int64_t)(bench_rand_next(rng) % (uint64_t)SPAN_US);
        run_query(
            c, &qs[2],
            &(struct catalog_filter){.from_us = from, .to_us = from + 3600 * INT64_C(1000000)});
    }
    printf("queries: %ld of each kind, one at a time, page of 50 with COUNT(*) total:\n",
           o->queries);
    for (int k = 0; k < 3; k++) {
        report(&qs[k], o->queries);
        free(qs[k].h);
    }
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void ingest(struct catalog *c, const char *db, int rooms, int per_participant, uint64_t *rng)
{
    long n = 0;
    int64_t t0 = bench_now_ns();
    for (int room = 0; room < rooms; room++)
        n += post_room(c, room, rooms, per_participant, rng);
    int64_t t1 = bench_now_ns();
    catalog_flush(c);
    int64_t t2 = bench_now_ns();
    double s = (double)(t2 - t0) / 1e9;
    char wal[520];
    snprintf(wal, sizeof wal, "%s-wal", db);
    printf("ingest: %ld recordings (%ld events) in %.2f s: %.0f recordings/s, %.0f events/s "
           "(posting returned after %.2f s); catalog.db %.1f MB + WAL %.1f MB\n",
           n, 2 * n, s, (double)n / s, 2.0 * (double)n / s, (double)(t1 - t0) / 1e9,
           (double)file_size(db) / 1e6, (double)file_size(wal) / 1e6);
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o) < 0) {
        fprintf(stderr,
                "usage: %s [--dir DIR] [--recordings N] [--queries Q] [--batch B] [--keep]\n"
                "       %s --dir DIR --query-only [--recordings N] [--queries Q]\n",
                argv[0], argv[0]);
        return 2;
    }
    char tmpl[] = "/var/tmp/vb-catalog-bench-XXXXXX", db[512];
    const char *dir = o.dir;
    if (!dir && !(dir = mkdtemp(tmpl))) {
        perror("mkdtemp");
        return 1;
    }
    mkdir(dir, 0755);
    snprintf(db, sizeof db, "%s/catalog.db", dir);
    struct catalog_config cfg = {.db_path = db, .data_dir = dir, .batch_max = o.batch};
    struct catalog *c = NULL;
    char err[256];
    if (catalog_open(&cfg, &c, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int per_participant = (int)((o.recordings + ROOMS * PER_ROOM - 1) / (ROOMS * PER_ROOM));
    int rooms =
        (int)((o.recordings + PER_ROOM * per_participant - 1) / (PER_ROOM * per_participant));
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    if (!o.query_only)
        ingest(c, db, rooms, per_participant, &rng);
    run_queries(c, &o, rooms, &rng);
    catalog_close(c);
    if (!o.keep && !o.dir)
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
