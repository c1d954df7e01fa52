/* This file implements bench/mjr_write: the asynchronous MJR writer engine against a
 * Janus-style recorder, fed the same RTP packets in the same process.
 *
 * N streams (bench_rtp.h: half Opus audio at 50 packets/s, half VP8 video at 30 frames/s
 * of 5 packets) are spread over P producer threads that stand for media loops. A producer
 * walks its streams in due-time order (a binary heap of next-due times) and either keeps to
 * real time (waking on 1 ms ticks, for --seconds) or runs flat out (--fast, --frames frames
 * in all). Every packet goes through one append call timed with CLOCK_MONOTONIC into the
 * producer's own histogram. Three passes run one after the other, each with fresh threads
 * and the same packets:
 *   dry       the append is an empty function: calibrates what generating packets costs;
 *   ours      mjr_stream_write_rtp() into an mjr_engine, whose threads write the files;
 *   baseline  bench_janus.h: a FILE * and a mutex per stream, fwrite on the producer thread.
 *
 * DESIGN: the baseline writes on the producer threads, inside the timed calls, so its writer
 * CPU is the producers' CPU minus what the dry pass says generating and timing the same
 * number of packets costs, plus its fopen and fclose loops. (Reading the thread CPU clock
 * around every call would cost about 0.7 µs a call here and distort both sides.) Ours is the
 * CPU of the engine's threads named "mjr-writer*", read from /proc/self/task before they
 * exit. Both sides create their files before the feed starts (ours waits for its writers to
 * go idle), and that part is reported apart, since on some filesystems it dominates. The
 * kernel's writeback of page cache is counted apart too: flusher threads during the pass
 * and an optional syncfs after it. bench/README.md says how to read the table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "bench/bench_janus.h"
#include "bench/bench_rtp.h"
#include "bench/bench_util.h"
#include "bench/mjr_write_report.h"
#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/mjr.h"

#define TICK_NS 1000000LL /* a paced producer wakes at most once per ms */
#define DRAIN_TIMEOUT_NS (120 * 1000000000LL)
#define SAMPLE_NS 20000000LL /* how often the main thread samples memory use */
#define VERIFY_FILES 8
#define WARMUP_NS 1000000000LL /* the "steady" histogram starts after this */
#define CREATE_TIMEOUT_NS (60 * 1000000000LL)

struct run;

/* One stream of one pass. */
struct slot {
    struct run *run;
    char *path;
    struct mjr_stream *ms;         /* ours, until the producer closes it */
    struct bench_janus *bj;        /* baseline */
    struct mjr_stream_stats stats; /* ours: read by the producer just before closing */
    struct mjr_stream_result res;  /* ours: copied in on_closed; res.path = final_path */
    char *final_path;
    uint64_t expect; /* frames the file must hold; UINT64_MAX for a failed stream */
};

struct producer {
    struct run *run;
    unsigned id;
    size_t first, count; /* streams [first, first + count) */
    uint32_t *heap;      /* stream indices relative to first, ordered by due time */
    uint64_t quota;      /* --fast: frames to offer */
    int64_t steady_from; /* appends starting from then also go to `steady` */
    struct bench_hist *lat, *steady, *lag;
    uint64_t offered, ok, eagain, other_err;
    int64_t cpu_loop_ns, cpu_close_ns, end_ns, close_end_ns;
    pthread_t thread;
    uint8_t pkt[BENCH_RTP_MAX];
};

struct run {
    const struct options *o;
    enum side side;
    char dir[PATH_MAX];
    struct bench_rtp *gens;
    struct slot *slots;
    struct producer *prods;
    struct mjr_engine *engine;
    pthread_barrier_t start;
    int64_t start_ns, deadline_ns;
    uint64_t opened;
    atomic_uint producers_done;
    atomic_ullong closed;
    struct result *r;
};

/* ------------------------------------------------------------------------------------------ */
/* Producers */

/* The dry pass's append: a real call that does nothing, so the call and its timing remain. */
__attribute__((noinline)) static int dry_append(const uint8_t *pkt, size_t len)
{
    __asm__ volatile("" : : "r"(pkt), "r"(len) : "memory");
    return 0;
}

static inline int sink_append(const struct run *run, struct slot *s, const uint8_t *pkt, size_t len)
{
    switch (run->side) {
    case SIDE_OURS:
        return s->ms ? mjr_stream_write_rtp(s->ms, pkt, len) : -EBADF;
    case SIDE_BASE:
        return bench_janus_write(s->bj, pkt, len);
    default:
        return dry_append(pkt, len);
    }
}

static int64_t heap_key(const struct producer *p, uint32_t i)
{
    return p->run->gens[p->first + i].due_ns;
}

static void heap_sift_down(struct producer *p, size_t at)
{
    for (;;) {
        size_t l = 2 * at + 1, m = at;
        if (l < p->count && heap_key(p, p->heap[l]) < heap_key(p, p->heap[m]))
            m = l;
        if (l + 1 < p->count && heap_key(p, p->heap[l + 1]) < heap_key(p, p->heap[m]))
            m = l + 1;
        if (m == at)
            return;
        uint32_t t = p->heap[at];
        p->heap[at] = p->heap[m];
        p->heap[m] = t;
        at = m;
    }
}

/* Emits the event of the stream on top of the heap (1 audio packet or 5 video packets),
 * timing each append, and moves the stream to its next due time. Returns the time after the
 * last append. */
static int64_t producer_emit(struct producer *p)
{
    size_t index = p->first + p->heap[0];
    struct bench_rtp *g = &p->run->gens[index];
    struct slot *s = &p->run->slots[index];
    unsigned n = bench_rtp_packets(g);
    int64_t t1 = 0;
    for (unsigned k = 0; k < n; k++) {
        size_t len = bench_rtp_packet(g, p->pkt, k);
        int64_t t0 = bench_now_ns();
        int rc = sink_append(p->run, s, p->pkt, len);
        t1 = bench_now_ns();
        bench_hist_add(p->lat, (uint64_t)(t1 - t0));
        if (t0 >= p->steady_from)
            bench_hist_add(p->steady, (uint64_t)(t1 - t0));
        p->offered++;
        if (rc == 0)
            p->ok++;
        else if (rc == -EAGAIN)
            p->eagain++;
        else
            p->other_err++;
    }
    bench_rtp_advance(g);
    heap_sift_down(p, 0);
    return t1;
}

static void sleep_until(int64_t when_ns)
{
    struct timespec ts = {.tv_sec = when_ns / 1000000000, .tv_nsec = when_ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Real time: every event due by now is emitted (its lateness recorded), then the thread
 * sleeps until the tick of the next due event, like a media loop woken by packets. */
static void producer_loop_paced(struct producer *p)
{
    const struct run *run = p->run;
    int64_t now = bench_now_ns();
    while (now < run->deadline_ns) {
        for (;;) {
            int64_t due = run->start_ns + heap_key(p, p->heap[0]);
            if (due > now || now >= run->deadline_ns)
                break;
            bench_hist_add(p->lag, (uint64_t)(now - due));
            now = producer_emit(p);
        }
        int64_t rel = heap_key(p, p->heap[0]);
        int64_t wake = run->start_ns + (rel + TICK_NS - 1) / TICK_NS * TICK_NS;
        if (wake > run->deadline_ns)
            wake = run->deadline_ns;
        if (wake > now)
            sleep_until(wake);
        now = bench_now_ns();
    }
}

static void producer_loop_fast(struct producer *p)
{
    while (p->offered < p->quota)
        producer_emit(p);
}

static void producer_close_streams(struct producer *p)
{
    for (size_t i = p->first; i < p->first + p->count; i++) {
        struct slot *s = &p->run->slots[i];
        if (s->ms) {
            mjr_stream_stats_get(s->ms, &s->stats);
            mjr_stream_close(s->ms);
            s->ms = NULL;
        }
        if (s->bj)
            bench_janus_close(s->bj);
    }
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    char name[16];
    snprintf(name, sizeof(name), "bench-prod-%u", p->id);
    pthread_setname_np(pthread_self(), name);
    for (size_t i = 0; i < p->count; i++)
        p->heap[i] = (uint32_t)i;
    for (size_t i = p->count / 2; i-- > 0;)
        heap_sift_down(p, i);
    bench_rtp_fill_payload(p->pkt, 0xC0FFEEull + p->id);

    pthread_barrier_wait(&p->run->start);
    int64_t cpu0 = bench_thread_cpu_ns();
    if (p->count > 0) {
        if (p->run->o->fast)
            producer_loop_fast(p);
        else
            producer_loop_paced(p);
    }
    int64_t cpu1 = bench_thread_cpu_ns();
    p->end_ns = bench_now_ns();
    producer_close_streams(p);
    p->cpu_loop_ns = cpu1 - cpu0;
    p->cpu_close_ns = bench_thread_cpu_ns() - cpu1;
    p->close_end_ns = bench_now_ns();
    atomic_fetch_add(&p->run->producers_done, 1);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening and finishing the streams of a pass */

static void ours_on_closed(void *ud, const struct mjr_stream_result *res)
{
    struct slot *s = ud;
    s->res = *res;
    s->final_path = xstrdup(res->path ? res->path : s->path);
    s->res.path = s->final_path;
    atomic_fetch_add_explicit(&s->run->closed, 1, memory_order_release);
}

static int ours_open_all(struct run *run)
{
    const struct options *o = run->o;
    struct mjr_engine_config cfg = {
        .writer_threads = o->writers ? o->writers : 1,
        .memory_budget = o->budget_mb ? o->budget_mb << 20 : (size_t)256 << 20,
        .flush_interval_ms = 1000,
        .prealloc_chunk = (size_t)1 << 20,
        .queue_depth = 2048,
        .sync = o->sync,
        .buffered = o->buffered,
    };
    int rc = mjr_engine_create(&cfg, &run->engine);
    if (rc != 0) {
        fprintf(stderr, "mjr_write: mjr_engine_create: %s\n", strerror(-rc));
        return rc;
    }
    int64_t cpu0 = bench_thread_cpu_ns();
    for (size_t i = 0; i < o->streams; i++) {
        struct slot *s = &run->slots[i];
        struct mjr_stream_opts so = {.path = s->path, .on_closed = ours_on_closed, .ud = s};
        so.info.kind = run->gens[i].kind;
        so.info.codec = bench_rtp_codec(&run->gens[i]);
        if (mjr_stream_open(run->engine, &so, &s->ms) != 0) {
            s->ms = NULL;
            run->r->open_failed++;
            continue;
        }
        run->opened++;
    }
    run->r->open_caller_cpu_ns = bench_thread_cpu_ns() - cpu0;
    return 0;
}

/* Lets the writer threads finish creating the files before the feed starts, as the baseline's
 * fopen loop does, and records what that cost them: their CPU once it stopped growing for
 * three samples in a row (or after a minute). */
static void ours_wait_created(struct run *run)
{
    int64_t prev = -1, deadline = bench_now_ns() + CREATE_TIMEOUT_NS;
    unsigned flat = 0;
    while (flat < 3 && bench_now_ns() < deadline) {
        sleep_until(bench_now_ns() + 50000000);
        int64_t cpu = bench_threads_cpu_ns("mjr-writer", NULL, NULL);
        flat = cpu == prev ? flat + 1 : 0;
        prev = cpu;
    }
    run->r->open_cpu_ns = run->r->open_caller_cpu_ns + (prev > 0 ? prev : 0);
}

static void base_open_all(struct run *run)
{
    int64_t cpu0 = bench_thread_cpu_ns();
    for (size_t i = 0; i < run->o->streams; i++) {
        struct slot *s = &run->slots[i];
        s->bj = xmalloc(sizeof(*s->bj));
        const struct bench_rtp *g = &run->gens[i];
        if (bench_janus_open(s->bj, s->path, g->kind, bench_rtp_codec(g)) != 0) {
            bench_janus_close(s->bj);
            run->r->open_failed++;
            continue;
        }
        run->opened++;
    }
    run->r->open_cpu_ns = bench_thread_cpu_ns() - cpu0;
}

/* Main thread, while the pass runs: peak memory held by the engine and by the system's
 * dirty page cache. */
static void sample_memory(struct run *run)
{
    struct result *r = run->r;
    if (run->engine) {
        struct mjr_engine_stats es;
        mjr_engine_stats_get(run->engine, &es);
        if (es.bytes_buffered > r->peak_buffered)
            r->peak_buffered = es.bytes_buffered;
    }
    uint64_t dirty = (bench_meminfo_kib("Dirty") + bench_meminfo_kib("Writeback")) * 1024;
    if (dirty > r->peak_dirty)
        r->peak_dirty = dirty;
}

/* Waits for the engine to report every stream closed, reads its writer threads' CPU (before
 * they exit) and its counters, and destroys it. Sets *done_ns to when the last one closed. */
static void ours_finish(struct run *run, int64_t *done_ns)
{
    struct result *r = run->r;
    int64_t t0 = bench_now_ns();
    while (atomic_load_explicit(&run->closed, memory_order_acquire) < run->opened) {
        if (bench_now_ns() - t0 > DRAIN_TIMEOUT_NS) {
            r->drain_timeout = true;
            fprintf(stderr, "mjr_write: %llu of %llu streams not closed after %lld s\n",
                    (unsigned long long)(run->opened - atomic_load(&run->closed)),
                    (unsigned long long)run->opened, DRAIN_TIMEOUT_NS / 1000000000);
            break;
        }
        sample_memory(run);
        sleep_until(bench_now_ns() + 2000000);
    }
    *done_ns = bench_now_ns();
    r->writer_cpu_ns = bench_threads_cpu_ns("mjr-writer", NULL, &r->writer_threads);
    r->other_cpu_ns = bench_threads_cpu_ns("mjr-", "mjr-writer", NULL);
    mjr_engine_stats_get(run->engine, &r->es);
    mjr_engine_destroy(run->engine);
    run->engine = NULL;
    for (size_t i = 0; i < run->o->streams; i++) {
        struct slot *s = &run->slots[i];
        r->stats_frames += s->stats.frames;
        r->stats_dropped += s->stats.dropped;
        if (!s->final_path)
            continue;
        r->frames += s->res.frames;
        r->dropped += s->res.dropped;
        r->failed_streams += s->res.status != 0;
        s->expect = s->res.status == 0 ? s->res.frames : UINT64_MAX;
    }
}

static void base_finish(struct run *run)
{
    struct result *r = run->r;
    for (size_t i = 0; i < run->o->streams; i++) {
        struct slot *s = &run->slots[i];
        if (!s->bj)
            continue;
        r->frames += s->bj->frames;
        r->dropped += s->bj->errors;
        r->failed_streams += s->bj->errors != 0;
        s->expect = s->bj->errors == 0 ? s->bj->frames : UINT64_MAX;
        bench_janus_fini(s->bj);
        free(s->bj);
        s->bj = NULL;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* After a pass: files on disk, a sample read back, the deferred writeback */

static const char *slot_file(const struct slot *s)
{
    return s->final_path ? s->final_path : s->path;
}

static void measure_disk(struct run *run)
{
    struct result *r = run->r;
    for (size_t i = 0; i < run->o->streams; i++)
        if (bench_file_usage(slot_file(&run->slots[i]), &r->disk_size, &r->disk_alloc) != 0)
            r->missing++;
}

/* Reads one file back: it must hold exactly the frames its writer accepted, and its first
 * frame must carry the Janus rewrite (seq 1, timestamp 0). Returns 0 or -1 with a diag. */
static int verify_file(const char *path, uint64_t expect, char *diag, size_t cap)
{
    struct mjr_reader *rd;
    char err[160] = "";
    if (mjr_reader_open(path, &rd, err, sizeof(err)) != 0) {
        snprintf(diag, cap, "%s: %s", path, err);
        return -1;
    }
    struct mjr_frame f;
    uint64_t n = 0;
    int rc = 0;
    while (mjr_reader_next(rd, &f) == 1) {
        if (n == 0 &&
            (f.len < BENCH_RTP_HEADER || rd_u16(f.body + 2) != 1 || rd_u32(f.body + 4) != 0)) {
            snprintf(diag, cap, "%s: first frame not rewritten to seq 1, ts 0", path);
            rc = -1;
        }
        n++;
    }
    if (rc == 0 && (n != expect || mjr_reader_truncated(rd))) {
        snprintf(diag, cap, "%s: %llu frames read, %llu expected%s", path, (unsigned long long)n,
                 (unsigned long long)expect, mjr_reader_truncated(rd) ? ", truncated" : "");
        rc = -1;
    }
    mjr_reader_destroy(rd);
    return rc;
}

static void verify_sample(struct run *run)
{
    struct result *r = run->r;
    size_t n = run->o->streams;
    size_t m = n < VERIFY_FILES ? n : VERIFY_FILES;
    for (size_t k = 0; k < m; k++) {
        size_t i = k * n / m + k % 2; /* streams alternate audio, video */
        if (i >= n)
            i = n - 1;
        const struct slot *s = &run->slots[i];
        if (s->expect == UINT64_MAX)
            continue; /* a failed stream: its file holds whatever was saved */
        if (verify_file(slot_file(s), s->expect, r->verify_diag, sizeof(r->verify_diag)) != 0)
            r->verify_bad++;
        else
            r->verified++;
    }
}

/* What the kernel still owes the disk after the pass: a syncfs of the filesystem, timed, with
 * the CPU of the kernel's flusher threads and of the calling thread over it. */
static void measure_writeback(struct run *run)
{
    struct result *r = run->r;
    int fd = open(run->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    int64_t k0 = bench_flusher_cpu_ns(), c0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
    if (syncfs(fd) == 0) {
        r->wb_done = true;
        r->wb_s = (double)(bench_now_ns() - t0) / 1e9;
        int64_t cpu = bench_flusher_cpu_ns() - k0 + bench_thread_cpu_ns() - c0;
        r->wb_cpu_s = (double)cpu / 1e9;
    }
    close(fd);
}

/* Our file names: s<digits>-audio.mjr or s<digits>-video.mjr, maybe with ".tmp". */
static bool is_bench_file(const char *name)
{
    size_t i = 1;
    if (name[0] != 's')
        return false;
    while (name[i] >= '0' && name[i] <= '9')
        i++;
    const char *rest = name + i;
    return i > 1 && (!strcmp(rest, "-audio.mjr") || !strcmp(rest, "-video.mjr") ||
                     !strcmp(rest, "-audio.mjr.tmp") || !strcmp(rest, "-video.mjr.tmp"));
}

/* Removes the files a pass wrote into `dir` (and nothing else), then `dir` if empty. Files
 * stay until the end of the run: deleting thousands of inodes makes the next creations slow
 * on a journal-less ext4 (see bench/README.md), which would bias the following pass. */
static void remove_pass_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)))
        if (is_bench_file(de->d_name))
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    rmdir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* One pass */

static void producers_start(struct run *run)
{
    const struct options *o = run->o;
    unsigned np = o->producers;
    pthread_barrier_init(&run->start, NULL, np + 1);
    for (unsigned i = 0; i < np; i++) {
        struct producer *p = &run->prods[i];
        p->run = run;
        p->id = i;
        p->first = (size_t)o->streams * i / np;
        p->count = (size_t)o->streams * (i + 1) / np - p->first;
        p->quota = o->frames / np + (i < o->frames % np);
        p->heap = xcalloc(p->count ? p->count : 1, sizeof(*p->heap));
        p->lat = xcalloc(1, sizeof(*p->lat));
        p->steady = xcalloc(1, sizeof(*p->steady));
        p->lag = xcalloc(1, sizeof(*p->lag));
        pthread_create(&p->thread, NULL, producer_main, p);
    }
    run->start_ns = bench_now_ns() + 2000000;
    run->deadline_ns = run->start_ns + (int64_t)(o->seconds * 1e9);
    for (unsigned i = 0; i < np; i++)
        run->prods[i].steady_from = run->start_ns + WARMUP_NS;
    pthread_barrier_wait(&run->start);
}

/* Joins the producers and sums what they counted. Returns when the last one stopped
 * feeding in *end_ns and when the last one finished closing in *close_end_ns. */
static void producers_join(struct run *run, int64_t *end_ns, int64_t *close_end_ns)
{
    struct result *r = run->r;
    *end_ns = *close_end_ns = run->start_ns;
    for (unsigned i = 0; i < run->o->producers; i++) {
        struct producer *p = &run->prods[i];
        pthread_join(p->thread, NULL);
        bench_hist_merge(&r->lat, p->lat);
        bench_hist_merge(&r->steady, p->steady);
        bench_hist_merge(&r->lag, p->lag);
        free(p->lat);
        free(p->steady);
        free(p->lag);
        free(p->heap);
        r->offered += p->offered;
        r->ok += p->ok;
        r->eagain += p->eagain;
        r->other_err += p->other_err;
        r->prod_loop_cpu_ns += p->cpu_loop_ns;
        r->prod_close_cpu_ns += p->cpu_close_ns;
        *end_ns = p->end_ns > *end_ns ? p->end_ns : *end_ns;
        *close_end_ns = p->close_end_ns > *close_end_ns ? p->close_end_ns : *close_end_ns;
    }
    pthread_barrier_destroy(&run->start);
}

static void run_threads(struct run *run)
{
    struct result *r = run->r;
    producers_start(run);
    while (atomic_load(&run->producers_done) < run->o->producers) {
        sample_memory(run);
        sleep_until(bench_now_ns() + SAMPLE_NS);
    }
    int64_t end, done;
    producers_join(run, &end, &done);
    if (run->side == SIDE_OURS)
        ours_finish(run, &done);
    else if (run->side == SIDE_BASE)
        base_finish(run);
    r->feed_s = (double)(end - run->start_ns) / 1e9;
    r->drain_s = (double)(done - end) / 1e9;
}

static void run_setup(struct run *run)
{
    static const char *const names[] = {"dry", "ours", "baseline"};
    const struct options *o = run->o;
    snprintf(run->dir, sizeof(run->dir), "%s/%s", o->dir, names[run->side]);
    run->gens = xcalloc(o->streams, sizeof(*run->gens));
    run->slots = xcalloc(o->streams, sizeof(*run->slots));
    run->prods = xcalloc(o->producers, sizeof(*run->prods));
    for (size_t i = 0; i < o->streams; i++) {
        char path[PATH_MAX + 64];
        bench_rtp_init(&run->gens[i], i);
        snprintf(path, sizeof(path), "%s/s%05zu-%s.mjr", run->dir, i,
                 mjr_kind_name(run->gens[i].kind));
        run->slots[i].path = xstrdup(path);
        run->slots[i].run = run;
    }
}

static int run_pass(const struct options *o, enum side side, struct result *r)
{
    struct run run = {.o = o, .side = side, .r = r};
    int rc = 0;
    memset(r, 0, sizeof(*r));
    r->ran = true;
    run_setup(&run);
    if (side != SIDE_DRY && mkdir(run.dir, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
        fprintf(stderr, "mjr_write: mkdir %s: %s\n", run.dir, strerror(errno));
        goto out_free;
    }
    fprintf(stderr, "mjr_write: %s pass\n",
            side == SIDE_DRY    ? "dry (calibration)"
            : side == SIDE_OURS ? "ours"
                                : "baseline");
    int64_t pcpu0 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID), ocpu0 = bench_others_cpu_ns();
    int64_t kcpu0 = bench_flusher_cpu_ns();
    if (side == SIDE_OURS && (rc = ours_open_all(&run)) == 0)
        ours_wait_created(&run);
    else if (side == SIDE_BASE)
        base_open_all(&run);
    if (rc != 0)
        goto out_free;
    run_threads(&run);
    r->process_cpu_ns = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - pcpu0;
    r->others_cpu_ns = bench_others_cpu_ns() - ocpu0;
    r->flusher_cpu_ns = bench_flusher_cpu_ns() - kcpu0;
    if (side != SIDE_DRY) {
        measure_disk(&run);
        verify_sample(&run);
        if (o->writeback)
            measure_writeback(&run);
    }
out_free:
    for (size_t i = 0; i < o->streams; i++) {
        free(run.slots[i].path);
        free(run.slots[i].final_path);
    }
    free(run.gens);
    free(run.slots);
    free(run.prods);
    r->error = rc;
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Options and main */

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mjr_write [options]\n"
                "  --streams N      streams, half audio half video (2000)\n"
                "  --producers P    producer threads (2)\n"
                "  --seconds D      real-time run length (10)\n"
                "  --fast           no pacing: --frames frames as fast as possible\n"
                "  --frames F       frames in all with --fast (1000000)\n"
                "  --dir DIR        where files go; ours/ and baseline/ below it (./bench-data)\n"
                "  --budget-mb M    engine memory budget in MiB (256)\n"
                "  --writers W      engine writer threads (1)\n"
                "  --sync S         engine sync policy: close, none, flush (close)\n"
                "  --buffered       engine: buffered pwrite instead of O_DIRECT\n"
                "  --only SIDE      run only ours or only baseline\n"
                "  --no-writeback   skip the syncfs measured after each pass\n"
                "  --keep           keep the files\n"
                "  --json OUT       also write the results as JSON to OUT\n"
                "  --timeout S      abort the run after S seconds (600)\n");
}

static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Sets the numeric option `c` from `arg` if it lies in [lo, hi]. */
static int parse_number(struct options *o, int c, const char *arg)
{
    static const struct {
        int c;
        unsigned long long lo, hi;
    } limits[] = {{'s', 1, 100000},  {'p', 1, 64}, {'d', 1, 3600},  {'F', 1, 1ull << 40},
                  {'b', 1, 1 << 20}, {'w', 1, 64}, {'t', 10, 86400}};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        unsigned long long v;
        if (limits[i].c != c)
            continue;
        if (parse_uint(arg, limits[i].lo, limits[i].hi, &v) != 0)
            return -EINVAL;
        if (c == 's')
            o->streams = (unsigned)v;
        else if (c == 'p')
            o->producers = (unsigned)v;
        else if (c == 'd')
            o->seconds = (double)v;
        else if (c == 'F')
            o->frames = v;
        else if (c == 'b')
            o->budget_mb = (size_t)v;
        else if (c == 'w')
            o->writers = (unsigned)v;
        else
            o->timeout_s = (unsigned)v;
        return 0;
    }
    return -EINVAL;
}

static int parse_one(struct options *o, int c, const char *arg)
{
    switch (c) {
    case 'f':
        o->fast = true;
        return 0;
    case 'D':
        o->dir = arg;
        return 0;
    case 'k':
        o->keep = true;
        return 0;
    case 'j':
        o->json = arg;
        return 0;
    case 'B':
        o->buffered = true;
        return 0;
    case 'W':
        o->writeback = false;
        return 0;
    case 'S':
        if (!strcmp(arg, "close"))
            o->sync = MJR_SYNC_CLOSE;
        else if (!strcmp(arg, "none"))
            o->sync = MJR_SYNC_NONE;
        else if (!strcmp(arg, "flush"))
            o->sync = MJR_SYNC_FLUSH;
        else
            return -EINVAL;
        return 0;
    case 'o':
        o->run_ours = !strcmp(arg, "ours");
        o->run_base = !strcmp(arg, "baseline");
        return o->run_ours || o->run_base ? 0 : -EINVAL;
    default:
        return parse_number(o, c, arg);
    }
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"streams", required_argument, NULL, 's'},
        {"producers", required_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 'd'},
        {"fast", no_argument, NULL, 'f'},
        {"frames", required_argument, NULL, 'F'},
        {"dir", required_argument, NULL, 'D'},
        {"budget-mb", required_argument, NULL, 'b'},
        {"keep", no_argument, NULL, 'k'},
        {"json", required_argument, NULL, 'j'},
        {"writers", required_argument, NULL, 'w'},
        {"sync", required_argument, NULL, 'S'},
        {"buffered", no_argument, NULL, 'B'},
        {"only", required_argument, NULL, 'o'},
        {"no-writeback", no_argument, NULL, 'W'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.streams = 2000,
                          .producers = 2,
                          .seconds = 10,
                          .frames = 1000000,
                          .dir = "./bench-data",
                          .writeback = true,
                          .run_ours = true,
                          .run_base = true,
                          .sync = MJR_SYNC_CLOSE,
                          .timeout_s = 600};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == '?' || parse_one(o, c, optarg) != 0) {
            if (c != '?')
                fprintf(stderr, "mjr_write: bad option value: %s\n", optarg);
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc || o->producers > o->streams || (o->fast && o->frames < o->producers)) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

/* The run must end by itself whatever the engine or the disk do. */
static void on_alarm(int sig)
{
    static const char msg[] = "mjr_write: --timeout reached, aborting\n";
    (void)sig;
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    _exit(3);
}

static void setup_process(const struct options *o)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    alarm(o->timeout_s);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)o->streams + 256) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)o->streams + 256 ? rl.rlim_max : o->streams + 256;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    setup_process(&o);
    bool made_dir = mkdir(o.dir, 0755) == 0;
    if (!made_dir && errno != EEXIST) {
        fprintf(stderr, "mjr_write: mkdir %s: %s\n", o.dir, strerror(errno));
        return 1;
    }
    struct result *dry = xcalloc(1, sizeof(*dry));
    struct result *ours = xcalloc(1, sizeof(*ours));
    struct result *base = xcalloc(1, sizeof(*base));
    struct options od = o; /* a short calibration pass */
    od.seconds = o.seconds < 3 ? o.seconds : 3;
    od.frames = o.frames / 4 > o.producers ? o.frames / 4 : o.producers;
    run_pass(&od, SIDE_DRY, dry);
    double gen_ns = dry->offered ? (double)dry->prod_loop_cpu_ns / (double)dry->offered : 0;
    if (o.run_ours)
        run_pass(&o, SIDE_OURS, ours);
    if (o.run_base)
        run_pass(&o, SIDE_BASE, base);
    report_derive(ours, SIDE_OURS, gen_ns);
    report_derive(base, SIDE_BASE, gen_ns);
    report_print(&o, dry, gen_ns, ours, base);
    int rc = ours->error || base->error ? 1 : 0;
    if (o.json && report_json(&o, gen_ns, ours, base) != 0)
        rc = 1;
    if (!o.keep) {
        static const char *const sides[] = {"ours", "baseline"};
        for (int i = 0; i < 2; i++) {
            char dir[PATH_MAX + 16];
            snprintf(dir, sizeof(dir), "%s/%s", o.dir, sides[i]);
            remove_pass_files(dir);
        }
        if (made_dir)
            rmdir(o.dir);
    }
    free(dry);
    free(ours);
    free(base);
    return rc;
}
