/* bench/mjr_write_report.h — what bench/mjr_write measures and how it reports it (header
 * only, included by mjr_write.c alone: bench/CMakeLists.txt makes every .c file a program).
 *
 * A pass fills a `struct result` with raw counters. One table of metrics then drives both the
 * printed comparison (ours, baseline, ours/baseline, target) and the keys of the --json file,
 * so the two can never disagree. The targets are judged for ours only. */
#ifndef VB_BENCH_MJR_WRITE_REPORT_H
#define VB_BENCH_MJR_WRITE_REPORT_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench/bench_util.h"
#include "mjr/mjr.h"

#define MIB (1024.0 * 1024.0)

enum side { SIDE_DRY, SIDE_OURS, SIDE_BASE };

struct options {
    unsigned streams, producers, writers, timeout_s;
    double seconds;
    bool fast, keep, writeback, buffered, run_ours, run_base;
    uint64_t frames;
    const char *dir, *json;
    size_t budget_mb;
    enum mjr_sync_policy sync;
};

/* What one pass measured. Filled by the pass (main thread after joining the producers). */
struct result {
    bool ran, drain_timeout, wb_done;
    int error;
    struct bench_hist lat;    /* every append */
    struct bench_hist steady; /* appends that started after the pass's first second */
    struct bench_hist lag;    /* paced: how late each event was emitted */
    uint64_t offered, ok, eagain, other_err;
    uint64_t frames, dropped, failed_streams, open_failed;
    uint64_t stats_frames, stats_dropped;
    struct mjr_engine_stats es;
    double feed_s, drain_s, wb_s, wb_cpu_s;
    int64_t prod_loop_cpu_ns, prod_close_cpu_ns, writer_cpu_ns, other_cpu_ns;
    int64_t open_caller_cpu_ns; /* ours: the mjr_stream_open loop */
    int64_t open_cpu_ns;        /* creating the files: see report_derive() */
    int64_t process_cpu_ns, others_cpu_ns, flusher_cpu_ns;
    unsigned writer_threads, verified, verify_bad;
    double append_cpu_ns, write_cpu_ns;
    uint64_t disk_size, disk_alloc, missing, peak_buffered, peak_dirty;
    char verify_diag[200];
};

enum metric {
    M_P50,
    M_P99,
    M_P999,
    M_MAX,
    M_MEAN,
    M_S99,
    M_S999,
    M_LAG99,
    M_LAGMAX,
    M_OFFERED,
    M_FRAMES,
    M_DROPPED,
    M_EAGAIN,
    M_OTHER,
    M_STATS_DROPPED,
    M_ENGINE_DROPPED,
    M_FAILED,
    M_LOGICAL,
    M_DISK,
    M_WCPU,
    M_CREATE,
    M_WCPU_MIB,
    M_WCPU_MIB_NC,
    M_APPEND_CPU,
    M_ALLIN_MIB,
    M_PROC_CPU,
    M_FLUSH_CPU,
    M_OTHERS_CPU,
    M_PEAK_BUF,
    M_PEAK_DIRTY,
    M_FEED,
    M_DRAIN,
    M_THROUGHPUT,
    M_WB,
    M_WB_CPU,
    M_COUNT
};

struct metric_row {
    enum metric m;
    const char *label, *key;
    int prec; /* decimals printed; 0 = an integer in the JSON */
    unsigned flags;
};

#define ROW_PACED 1u /* real-time mode only */
#define ROW_OURS 2u  /* only ours has it */
#define ROW_WB 4u    /* only with the syncfs measurement */

static const struct metric_row METRICS[] = {
    {M_P50, "append p50 (us)", "append_p50_us", 3, 0},
    {M_P99, "append p99 (us)", "append_p99_us", 3, 0},
    {M_P999, "append p99.9 (us)", "append_p999_us", 3, 0},
    {M_MAX, "append max (us)", "append_max_us", 1, 0},
    {M_MEAN, "append mean (us)", "append_mean_us", 3, 0},
    {M_S99, "  p99 after the first second (us)", "steady_p99_us", 3, 0},
    {M_S999, "  p99.9 after the first second (us)", "steady_p999_us", 3, 0},
    {M_LAG99, "schedule lag p99 (us; 1 ms ticks)", "lag_p99_us", 0, ROW_PACED},
    {M_LAGMAX, "schedule lag max (us)", "lag_max_us", 0, ROW_PACED},
    {M_OFFERED, "frames offered", "frames_offered", 0, 0},
    {M_FRAMES, "frames written", "frames_written", 0, 0},
    {M_DROPPED, "frames dropped", "frames_dropped", 0, 0},
    {M_EAGAIN, "  producer got -EAGAIN", "producer_eagain", 0, 0},
    {M_OTHER, "  producer got another error", "producer_other_errors", 0, 0},
    {M_STATS_DROPPED, "  mjr_stream_stats dropped", "stream_stats_dropped", 0, ROW_OURS},
    {M_ENGINE_DROPPED, "  mjr_engine_stats dropped", "engine_stats_dropped", 0, ROW_OURS},
    {M_FAILED, "failed streams", "failed_streams", 0, 0},
    {M_LOGICAL, "logical size (MiB)", "logical_mib", 1, 0},
    {M_DISK, "on disk, st_blocks*512 (MiB)", "disk_mib", 1, 0},
    {M_WCPU, "writer CPU (s)", "writer_cpu_s", 3, 0},
    {M_CREATE, "  of which before the feed: files (s)", "create_cpu_s", 3, 0},
    {M_WCPU_MIB, "writer CPU per MiB (ms)", "writer_cpu_ms_per_mib", 3, 0},
    {M_WCPU_MIB_NC, "  without the before-feed part (ms/MiB)", "writer_cpu_nocreate_ms_per_mib", 3,
     0},
    {M_ALLIN_MIB, "  with kernel flushing (ms/MiB)", "writer_flusher_cpu_ms_per_mib", 3, 0},
    {M_APPEND_CPU, "producer CPU in append, est. (s)", "append_cpu_s", 3, 0},
    {M_PROC_CPU, "process CPU of the pass (s)", "process_cpu_s", 3, 0},
    {M_FLUSH_CPU, "kworker+jbd2 CPU during the pass (s)", "flusher_cpu_s", 3, 0},
    {M_OTHERS_CPU, "other processes' CPU meanwhile (s)", "others_cpu_s", 3, 0},
    {M_PEAK_BUF, "peak engine buffers (MiB)", "peak_engine_buffers_mib", 1, ROW_OURS},
    {M_PEAK_DIRTY, "peak Dirty+Writeback, system (MiB)", "peak_dirty_mib", 1, 0},
    {M_FEED, "wall: feeding (s)", "wall_feed_s", 3, 0},
    {M_DRAIN, "wall: closing and draining (s)", "wall_drain_s", 3, 0},
    {M_THROUGHPUT, "written per wall second (MiB/s)", "throughput_mib_s", 1, 0},
    {M_WB, "afterwards: syncfs wall (s)", "syncfs_s", 3, ROW_WB},
    {M_WB_CPU, "afterwards: syncfs CPU (s)", "syncfs_cpu_s", 3, ROW_WB},
};

#define METRIC_ROWS (sizeof(METRICS) / sizeof(METRICS[0]))

/* A quantile in µs; NAN (printed "-", null in JSON) for an empty histogram. */
static inline double report_us(const struct bench_hist *h, double q)
{
    return h->count ? (double)bench_hist_quantile(h, q) / 1000.0 : NAN;
}

static inline double report_per_mib(double ns, uint64_t bytes)
{
    return bytes ? ns / 1e6 / ((double)bytes / MIB) : 0;
}

/* Every metric of `r`, indexed by enum metric. */
static inline void report_values(const struct result *r, double v[M_COUNT])
{
    int64_t others = r->others_cpu_ns - r->flusher_cpu_ns;
    double allin = r->write_cpu_ns + (double)r->flusher_cpu_ns + r->wb_cpu_s * 1e9;
    v[M_P50] = report_us(&r->lat, 0.5);
    v[M_P99] = report_us(&r->lat, 0.99);
    v[M_P999] = report_us(&r->lat, 0.999);
    v[M_MAX] = r->lat.count ? (double)r->lat.max / 1000.0 : NAN;
    v[M_MEAN] = r->lat.count ? (double)r->lat.sum / 1000.0 / (double)r->lat.count : NAN;
    v[M_S99] = report_us(&r->steady, 0.99);
    v[M_S999] = report_us(&r->steady, 0.999);
    v[M_LAG99] = report_us(&r->lag, 0.99);
    v[M_LAGMAX] = r->lag.count ? (double)r->lag.max / 1000.0 : NAN;
    v[M_OFFERED] = (double)r->offered;
    v[M_FRAMES] = (double)r->frames;
    v[M_DROPPED] = (double)r->dropped;
    v[M_EAGAIN] = (double)r->eagain;
    v[M_OTHER] = (double)r->other_err;
    v[M_STATS_DROPPED] = (double)r->stats_dropped;
    v[M_ENGINE_DROPPED] = (double)r->es.dropped;
    v[M_FAILED] = (double)r->failed_streams;
    v[M_LOGICAL] = (double)r->disk_size / MIB;
    v[M_DISK] = (double)r->disk_alloc / MIB;
    v[M_WCPU] = r->write_cpu_ns / 1e9;
    v[M_CREATE] = (double)r->open_cpu_ns / 1e9;
    v[M_WCPU_MIB] = report_per_mib(r->write_cpu_ns, r->disk_size);
    v[M_WCPU_MIB_NC] = report_per_mib(r->write_cpu_ns - (double)r->open_cpu_ns, r->disk_size);
    v[M_APPEND_CPU] = r->append_cpu_ns / 1e9;
    v[M_ALLIN_MIB] = report_per_mib(allin, r->disk_size);
    v[M_PROC_CPU] = (double)r->process_cpu_ns / 1e9;
    v[M_FLUSH_CPU] = (double)r->flusher_cpu_ns / 1e9;
    v[M_OTHERS_CPU] = others > 0 ? (double)others / 1e9 : 0;
    v[M_PEAK_BUF] = (double)r->peak_buffered / MIB;
    v[M_PEAK_DIRTY] = (double)r->peak_dirty / MIB;
    v[M_FEED] = r->feed_s;
    v[M_DRAIN] = r->drain_s;
    v[M_THROUGHPUT] =
        r->feed_s + r->drain_s > 0 ? (double)r->disk_size / MIB / (r->feed_s + r->drain_s) : 0;
    v[M_WB] = r->wb_s;
    v[M_WB_CPU] = r->wb_cpu_s;
}

/* Turns the raw counters into the compared numbers. `gen_ns` is the producer CPU a frame
 * costs to generate and time without writing it (the dry pass). Writer CPU, ours: the engine's
 * writer threads plus the caller's mjr_stream_open loop. Baseline: its fopen loop, its
 * producers' CPU beyond generating, its fclose loop. Creating the files (open_cpu_ns), ours:
 * the open loop plus the writers' CPU until they went idle before the feed; baseline: the
 * fopen loop. */
static inline void report_derive(struct result *r, enum side side, double gen_ns)
{
    r->append_cpu_ns = (double)r->prod_loop_cpu_ns - gen_ns * (double)r->offered;
    if (r->append_cpu_ns < 0)
        r->append_cpu_ns = 0;
    if (side == SIDE_OURS)
        r->write_cpu_ns = (double)(r->writer_cpu_ns + r->open_caller_cpu_ns);
    else
        r->write_cpu_ns = (double)r->open_cpu_ns + r->append_cpu_ns + (double)r->prod_close_cpu_ns;
}

/* The targets, for ours. `met` is -1 when a target cannot be judged. The CPU target is also
 * judged without the files' creation, whose cost depends on the filesystem's state. */
#define TARGETS 5
struct target {
    enum metric m;
    const char *text, *key;
    int met;
};

static inline void report_judge(const struct result *a, const struct result *b,
                                struct target t[TARGETS])
{
    double va[M_COUNT], vb[M_COUNT];
    report_values(a, va);
    report_values(b, vb);
    bool cpu_known = a->ran && b->ran && a->disk_size && b->disk_size && a->writer_threads;
    bool no_drop = a->dropped == 0 && a->eagain == 0 && a->other_err == 0 && a->es.dropped == 0;
    t[0] = (struct target){M_P99, "< 2", "p99_lt_2us", a->ran ? va[M_P99] < 2.0 : -1};
    t[1] = (struct target){M_P999, "< 20", "p999_lt_20us", a->ran ? va[M_P999] < 20.0 : -1};
    t[2] = (struct target){M_DROPPED, "0", "zero_drops", a->ran ? no_drop : -1};
    t[3] = (struct target){M_WCPU_MIB, "<= 0.5 x baseline", "writer_cpu_le_half_baseline",
                           cpu_known ? va[M_WCPU_MIB] <= 0.5 * vb[M_WCPU_MIB] : -1};
    t[4] =
        (struct target){M_WCPU_MIB_NC, "<= 0.5 x baseline", "writer_cpu_nocreate_le_half_baseline",
                        cpu_known ? va[M_WCPU_MIB_NC] <= 0.5 * vb[M_WCPU_MIB_NC] : -1};
}

static inline bool report_row_shown(const struct options *o, const struct metric_row *row,
                                    const struct result *r, bool ours)
{
    if ((row->flags & ROW_PACED) && o->fast)
        return false;
    if ((row->flags & ROW_OURS) && !ours)
        return false;
    return !(row->flags & ROW_WB) || r->wb_done;
}

static inline const char *report_sync_name(enum mjr_sync_policy s)
{
    return s == MJR_SYNC_NONE ? "none" : s == MJR_SYNC_FLUSH ? "flush" : "close";
}

static inline void report_table(const struct options *o, const struct result *a,
                                const struct result *b)
{
    struct target t[TARGETS];
    double va[M_COUNT], vb[M_COUNT];
    report_judge(a, b, t);
    report_values(a, va);
    report_values(b, vb);
    printf("%-40s %13s %13s %9s   %s\n", "", "ours", "baseline", "ours/base", "target (ours)");
    for (size_t i = 0; i < METRIC_ROWS; i++) {
        const struct metric_row *row = &METRICS[i];
        bool sa_on = a->ran && report_row_shown(o, row, a, true);
        bool sb_on = b->ran && report_row_shown(o, row, b, false);
        if (!sa_on && !sb_on)
            continue;
        char sa[32] = "-", sb[32] = "-", sr[32] = "";
        sa_on = sa_on && !isnan(va[row->m]);
        sb_on = sb_on && !isnan(vb[row->m]);
        if (sa_on)
            snprintf(sa, sizeof(sa), "%.*f", row->prec, va[row->m]);
        if (sb_on)
            snprintf(sb, sizeof(sb), "%.*f", row->prec, vb[row->m]);
        if (sa_on && sb_on && vb[row->m] != 0)
            snprintf(sr, sizeof(sr), "%.3g", va[row->m] / vb[row->m]);
        printf("%-40s %13s %13s %9s", row->label, sa, sb, sr);
        for (int k = 0; k < TARGETS; k++)
            if (t[k].m == row->m)
                printf("   %-18s %s", t[k].text, t[k].met < 0 ? "n/a" : t[k].met ? "PASS" : "MISS");
        printf("\n");
    }
}

static inline void report_notes(const struct result *a, const struct result *b)
{
    if (a->ran) {
        printf("ours: %u thread(s) named mjr-writer*%s; other mjr-* threads %.3f s CPU; "
               "direct I/O %s; %llu writes of %.1f MiB by the engine\n",
               a->writer_threads, a->writer_threads ? "" : " (none found: writer CPU unknown)",
               (double)a->other_cpu_ns / 1e9, a->es.direct_io ? "yes" : "no",
               (unsigned long long)a->es.writes, (double)a->es.bytes_written / MIB);
        if (a->drain_timeout)
            printf("ours: WARNING: streams were still open when the drain timed out\n");
    }
    const struct result *sides[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const struct result *r = sides[i];
        if (!r->ran)
            continue;
        printf("%s: %u sample file(s) read back whole, first frame rewritten to seq 1 ts 0",
               i ? "baseline" : "ours", r->verified);
        if (r->verify_bad)
            printf("; %u FAILED (%s)", r->verify_bad, r->verify_diag);
        if (r->missing)
            printf("; %llu files missing", (unsigned long long)r->missing);
        if (r->open_failed)
            printf("; %llu streams failed to open", (unsigned long long)r->open_failed);
        if (r->error)
            printf("; pass failed: %s", strerror(-r->error));
        printf("\n");
    }
}

static inline void report_print(const struct options *o, const struct result *dry, double gen_ns,
                                const struct result *a, const struct result *b)
{
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    printf("mjr_write: %u streams (%u audio: 50 pkt/s of 82-122 B; %u video: 30 fps x 5 pkt "
           "of 1000-1200 B), %u producers, ",
           o->streams, (o->streams + 1) / 2, o->streams / 2, o->producers);
    if (o->fast)
        printf("--fast, %llu frames\n", (unsigned long long)o->frames);
    else
        printf("real time, %.1f s\n", o->seconds);
    printf("engine: %u writer thread(s), budget %zu MiB, sync %s%s; dir %s; load average "
           "%.2f %.2f %.2f on %ld CPUs\n",
           o->writers ? o->writers : 1, o->budget_mb ? o->budget_mb : 256,
           report_sync_name(o->sync), o->buffered ? ", buffered" : "", o->dir, load[0], load[1],
           load[2], sysconf(_SC_NPROCESSORS_ONLN));
    printf("dry pass: %.0f ns of producer CPU per frame to generate and time it (%llu frames)\n\n",
           gen_ns, (unsigned long long)dry->offered);
    report_table(o, a, b);
    printf("\n");
    report_notes(a, b);
}

static inline json_t *report_side_json(const struct options *o, const struct result *r, bool ours)
{
    double v[M_COUNT];
    report_values(r, v);
    json_t *j = json_object();
    for (size_t i = 0; i < METRIC_ROWS; i++) {
        const struct metric_row *row = &METRICS[i];
        if (!report_row_shown(o, row, r, ours))
            continue;
        double x = v[row->m];
        json_t *val = isnan(x)    ? json_null()
                      : row->prec ? json_real(x)
                                  : json_integer((json_int_t)x);
        json_object_set_new(j, row->key, val);
    }
    json_object_set_new(j, "logical_bytes", json_integer((json_int_t)r->disk_size));
    json_object_set_new(j, "disk_bytes", json_integer((json_int_t)r->disk_alloc));
    json_object_set_new(j, "files_verified", json_integer(r->verified));
    json_object_set_new(j, "files_verify_failed", json_integer(r->verify_bad));
    json_object_set_new(j, "files_missing", json_integer((json_int_t)r->missing));
    if (ours) {
        json_object_set_new(j, "writer_threads", json_integer(r->writer_threads));
        json_object_set_new(j, "direct_io", json_boolean(r->es.direct_io));
        json_object_set_new(j, "engine_writes", json_integer((json_int_t)r->es.writes));
    }
    return j;
}

static inline json_t *report_config_json(const struct options *o, double gen_ns)
{
    json_t *cfg = json_object();
    json_object_set_new(cfg, "streams", json_integer(o->streams));
    json_object_set_new(cfg, "producers", json_integer(o->producers));
    json_object_set_new(cfg, "mode", json_string(o->fast ? "fast" : "realtime"));
    if (o->fast)
        json_object_set_new(cfg, "frames", json_integer((json_int_t)o->frames));
    else
        json_object_set_new(cfg, "seconds", json_real(o->seconds));
    json_object_set_new(cfg, "writers", json_integer(o->writers ? o->writers : 1));
    json_object_set_new(cfg, "budget_mib",
                        json_integer((json_int_t)(o->budget_mb ? o->budget_mb : 256)));
    json_object_set_new(cfg, "sync", json_string(report_sync_name(o->sync)));
    json_object_set_new(cfg, "buffered", json_boolean(o->buffered));
    json_object_set_new(cfg, "dir", json_string(o->dir));
    json_object_set_new(cfg, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(cfg, "dry_cpu_ns_per_frame", json_real(gen_ns));
    return cfg;
}

/* Writes the results to o->json. Returns 0 or -EIO. */
static inline int report_json(const struct options *o, double gen_ns, const struct result *a,
                              const struct result *b)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
    json_t *root = json_object();
    json_object_set_new(root, "date", json_string(date));
    json_object_set_new(root, "config", report_config_json(o, gen_ns));
    if (a->ran)
        json_object_set_new(root, "ours", report_side_json(o, a, true));
    if (b->ran)
        json_object_set_new(root, "baseline", report_side_json(o, b, false));
    struct target t[TARGETS];
    report_judge(a, b, t);
    json_t *tj = json_object();
    for (int k = 0; k < TARGETS; k++)
        json_object_set_new(tj, t[k].key, t[k].met < 0 ? json_null() : json_boolean(t[k].met));
    json_object_set_new(root, "targets", tj);
    int rc = json_dump_file(root, o->json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc != 0) {
        fprintf(stderr, "mjr_write: cannot write %s\n", o->json);
        return -EIO;
    }
    return 0;
}

#endif
