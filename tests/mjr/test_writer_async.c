/* Tests of the asynchronous MJR writer engine: many streams over O_DIRECT + libaio and over
 * the buffered fallback, the memory budget (drops counted, never waited for), flush and crash
 * recovery, and fault injection (ENOSPC, EIO, short writes) on one stream while others go on. */
#include "tests/mjr/writer_util.h"

#include <stdatomic.h>
#include <fcntl.h>

/* Expected content of stream `i`, frame `j`: a deterministic RTP packet. */
static size_t frame_for(uint8_t *pkt, int i, int j)
{
    size_t payload = 20 + (size_t)((i * 7919 + j * 104729) % 1380);
    return rtp_build(pkt, 96, j % 3 == 0, (uint16_t)(j + 1), (uint32_t)j * 3000,
                     0x1000u + (uint32_t)i, payload, (uint8_t)(i + j));
}

/* Reads `path` and checks it holds exactly frames [0, n) of stream `i` minus the ones whose
 * bit is set in `skipped` (may be NULL). Returns the frame count read. */
static int verify_stream_file(const char *path, int i, int n, const uint8_t *skipped)
{
    struct mjr_reader *r = NULL;
    char err[200] = "";
    int rc = mjr_reader_open(path, &r, err, sizeof(err));
    if (rc != 0)
        TEST_FAIL_("open %s: %s", path, err);
    struct mjr_frame f;
    uint8_t pkt[1500];
    int j = 0, count = 0;
    while (mjr_reader_next(r, &f) == 1) {
        while (skipped && j < n && skipped[j])
            j++;
        ASSERT_LT(j, n);
        size_t len = frame_for(pkt, i, j);
        if (f.len != len || memcmp(f.body, pkt, len) != 0)
            TEST_FAIL_("%s: frame %d (stream %d, index %d, at offset %" PRIu64
                       ") is not what was written",
                       path, count, i, j, f.offset);
        j++;
        count++;
    }
    if (mjr_reader_truncated(r))
        TEST_FAIL_("%s truncated: %s", path, mjr_reader_diag(r));
    mjr_reader_destroy(r);
    return count;
}

struct multi_result {
    struct close_box boxes[64];
};

static void run_many_streams(const char *base, bool force_buffered, bool expect_direct)
{
    enum { STREAMS = 40, FRAMES = 3000 };
    char dir[512];
    make_tmpdir(dir, sizeof(dir), base, "many");
    struct mjr_engine_config cfg = {
        .writer_threads = 2, .flush_interval_ms = 50, .buffered = force_buffered};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    static struct multi_result mr;
    struct mjr_stream *s[STREAMS];
    char paths[STREAMS][600];
    for (int i = 0; i < STREAMS; i++) {
        close_box_init(&mr.boxes[i]);
        snprintf(paths[i], sizeof(paths[i]), "%s/s%02d.mjr", dir, i);
        struct mjr_stream_opts o = {
            .path = paths[i], .raw = true, .on_closed = close_box_cb, .ud = &mr.boxes[i]};
        o.info.kind = i % 2 ? MJR_KIND_VIDEO : MJR_KIND_AUDIO;
        o.info.codec = i % 2 ? "vp8" : "opus";
        ASSERT_EQ(mjr_stream_open(e, &o, &s[i]), 0);
    }
    /* Far faster than real time: when a stream's window fills, the frame is refused with
     * -EAGAIN (and counted); this producer then waits a little and offers it again, so the
     * files must hold every frame. */
    uint8_t pkt[1500];
    int refused[STREAMS] = {0};
    for (int j = 0; j < FRAMES; j++) {
        for (int i = 0; i < STREAMS; i++) {
            size_t len = frame_for(pkt, i, j);
            int rc;
            while ((rc = mjr_stream_write_rtp(s[i], pkt, len)) == -EAGAIN) {
                refused[i]++;
                usleep(1000);
            }
            ASSERT_EQ(rc, 0);
        }
        if (j % 500 == 0)
            usleep(20000); /* let the flush timer and the full-segment path both run */
    }
    mjr_engine_flush(e); /* every file is open and has been written once */
    struct mjr_engine_stats es;
    mjr_engine_stats_get(e, &es);
    ASSERT_EQ(es.streams_open, STREAMS);
    ASSERT_EQ(es.direct_io, expect_direct);
    for (int i = 0; i < STREAMS; i++) {
        ASSERT(file_exists(paths[i]) == 0); /* still under the temporary name */
        mjr_stream_close(s[i]);
    }
    mjr_engine_destroy(e);
    for (int i = 0; i < STREAMS; i++) {
        ASSERT_EQ(mr.boxes[i].count, 1);
        ASSERT_EQ(mr.boxes[i].res.status, 0);
        ASSERT_EQ(mr.boxes[i].res.frames, FRAMES);
        ASSERT_EQ(mr.boxes[i].res.dropped, refused[i]);
        ASSERT_EQ(verify_stream_file(paths[i], i, FRAMES, NULL), FRAMES);
        char tmp[700];
        snprintf(tmp, sizeof(tmp), "%.600s.tmp", paths[i]);
        ASSERT(!file_exists(tmp));
    }
    rm_tree(dir);
}

/* Whether files in `dir` accept O_DIRECT, asked of the kernel directly. */
static bool dir_takes_direct_io(const char *dir)
{
    char probe[600];
    snprintf(probe, sizeof(probe), "%s/vb-direct-probe-%d", dir, (int)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0600);
    if (fd < 0) {
        unlink(probe);
        return false;
    }
    close(fd);
    unlink(probe);
    return true;
}

/* On a disk filesystem (ours: ext4) the engine must use O_DIRECT + libaio; wherever the
 * kernel refuses O_DIRECT it must notice and fall back. */
static void test_many_streams_direct(void)
{
    bool direct = dir_takes_direct_io("/var/tmp");
    if (!direct)
        fprintf(stderr, "/var/tmp refuses O_DIRECT here: checking the fallback instead\n");
    run_many_streams("/var/tmp", false, direct);
}

/* ramfs refuses O_DIRECT (tmpfs accepts it since Linux 6.6): the engine must notice, say so
 * once, and write through buffered pwrite. Mounting needs root, which CI has; elsewhere the
 * same path is taken by forcing `buffered`. */
static void test_many_streams_buffered_fallback(void)
{
    char mnt[512], cmd[1200];
    make_tmpdir(mnt, sizeof(mnt), "/var/tmp", "ramfs");
    snprintf(cmd, sizeof(cmd), "mount -t ramfs vb-ramfs '%s' 2>/dev/null", mnt);
    if (system(cmd) == 0) {
        run_many_streams(mnt, false, false);
        snprintf(cmd, sizeof(cmd), "umount '%s'", mnt);
        ASSERT_EQ(system(cmd), 0);
    } else {
        fprintf(stderr, "cannot mount ramfs (not root?): forcing buffered writes instead\n");
        run_many_streams(mnt, true, false);
    }
    rm_tree(mnt);
}

/* A writer slowed by the fault hook cannot keep up: with a tiny budget the producer gets
 * -EAGAIN at once, drops are counted, and what was accepted is on disk, in order. */
struct slow_ctx {
    atomic_int delay_us; /* changed by the test while the writer reads it */
};

static int slow_write(void *ctx, const char *path, uint64_t off, size_t len)
{
    (void)path;
    (void)off;
    (void)len;
    usleep((useconds_t)atomic_load(&((struct slow_ctx *)ctx)->delay_us));
    return 0;
}

static void test_budget_drops_counted(void)
{
    enum { FRAMES = 4000 };
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "budget");
    struct slow_ctx sc = {.delay_us = 20000};
    struct mjr_fault fault = {.before_write = slow_write, .ctx = &sc};
    struct mjr_engine_config cfg = {
        .memory_budget = 64 * 1024, .fault = &fault, .flush_interval_ms = 10};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    struct close_box box;
    close_box_init(&box);
    char path[600];
    snprintf(path, sizeof(path), "%s/b.mjr", dir);
    struct mjr_stream_opts o = {
        .path = path, .raw = true, .segment_size = 8192, .on_closed = close_box_cb, .ud = &box};
    o.info.kind = MJR_KIND_VIDEO;
    o.info.codec = "vp8";
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    static uint8_t skipped[FRAMES];
    uint8_t pkt[1500];
    int drops = 0;
    for (int j = 0; j < FRAMES; j++) {
        size_t len = frame_for(pkt, 3, j);
        int rc = mjr_stream_write_rtp(s, pkt, len);
        if (rc == -EAGAIN) {
            skipped[j] = 1;
            drops++;
        } else {
            ASSERT_EQ(rc, 0);
        }
    }
    ASSERT_GT(drops, 0);
    struct mjr_stream_stats st;
    mjr_stream_stats_get(s, &st);
    ASSERT_EQ(st.dropped, drops);
    ASSERT_EQ(st.frames, FRAMES - drops);
    struct mjr_engine_stats es;
    mjr_engine_stats_get(e, &es);
    ASSERT_EQ(es.dropped, drops);
    ASSERT_LE(es.bytes_buffered, 64 * 1024 + 8192);
    atomic_store(&sc.delay_us, 0);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(box.res.status, 0);
    ASSERT_EQ(box.res.dropped, drops);
    ASSERT_EQ(verify_stream_file(path, 3, FRAMES, skipped), FRAMES - drops);
    rm_tree(dir);
}

/* What a crash would leave now: copies the open stream's temporary file of `path`, recovers
 * the copy and returns its whole frames, or -1 if not even the magic is on disk yet. The
 * recovered copy is left at <dir>/crashed.mjr for the caller to check, then removed by the
 * next call. */
static int64_t frames_after_crash(const char *dir, const char *path)
{
    char copy[700], recovered[700], cmd[2000];
    snprintf(copy, sizeof(copy), "%s/crashed.mjr.tmp", dir);
    snprintf(recovered, sizeof(recovered), "%s/crashed.mjr", dir);
    unlink(recovered);
    snprintf(cmd, sizeof(cmd), "cp '%s.tmp' '%s'", path, copy);
    ASSERT_EQ(system(cmd), 0);
    struct mjr_recover_result rr;
    int rc = mjr_recover(copy, NULL, &rr);
    if (rc == -EBADMSG) {
        unlink(copy);
        return -1;
    }
    ASSERT_EQ(rc, 0);
    return (int64_t)rr.frames;
}

static struct mjr_stream *open_audio(struct mjr_engine *e, const char *path)
{
    struct mjr_stream_opts o = {.path = path, .raw = true};
    o.info.kind = MJR_KIND_AUDIO;
    o.info.codec = "opus";
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    return s;
}

/* After mjr_engine_flush() every committed frame is on disk: a copy of the temporary file
 * taken then (what a crash would leave) recovers to exactly those frames. */
static void test_flush_then_crash_recovers_all(void)
{
    char dir[512], path[600], recovered[700];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "crash");
    snprintf(path, sizeof(path), "%s/c.mjr", dir);
    snprintf(recovered, sizeof(recovered), "%s/crashed.mjr", dir);
    struct mjr_engine_config cfg = {.flush_interval_ms = 60000};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    struct mjr_stream *s = open_audio(e, path);
    uint8_t pkt[1500];
    int written = 0;
    for (int round = 0; round < 3; round++) {
        for (int j = 0; j < 37; j++, written++)
            ASSERT_EQ(mjr_stream_write_rtp(s, pkt, frame_for(pkt, 5, written)), 0);
        mjr_engine_flush(e);
        ASSERT_EQ(frames_after_crash(dir, path), written);
        ASSERT_EQ(verify_stream_file(recovered, 5, written, NULL), written);
    }
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(verify_stream_file(path, 5, written, NULL), written);
    rm_tree(dir);
}

/* Without any flush request, the timer alone brings a partial tail block to the disk: a copy
 * of the temporary file (what a crash would leave) recovers every frame once the flush
 * interval has passed. The interval is 100 ms; the test allows 20 times that. */
static void test_timer_flush_reaches_disk(void)
{
    char dir[512], path[600];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "timer");
    snprintf(path, sizeof(path), "%s/t.mjr", dir);
    struct mjr_engine_config cfg = {.flush_interval_ms = 100};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    struct mjr_stream *s = open_audio(e, path);
    uint8_t pkt[1500];
    enum { N = 9 }; /* well under one segment: only the timer's tail write can save them */
    for (int j = 0; j < N; j++)
        ASSERT_EQ(mjr_stream_write_rtp(s, pkt, frame_for(pkt, 7, j)), 0);
    int64_t frames = -1;
    for (int tries = 0; tries < 40 && frames < N; tries++) {
        usleep(50000);
        frames = frames_after_crash(dir, path);
    }
    ASSERT_EQ(frames, N);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(verify_stream_file(path, 7, N, NULL), N);
    rm_tree(dir);
}

/* Fault injection: stream "nospc" fails with ENOSPC once 20 KiB are written, "eio" with EIO
 * on its third write, "short" gets every multi-block write cut in half; "ok" has no faults. */
struct fault_plan {
    pthread_mutex_t lock;
    int eio_writes;
};

static int plan_write(void *ctx, const char *path, uint64_t off, size_t len)
{
    struct fault_plan *p = ctx;
    path = strrchr(path, '/') + 1;
    if (strstr(path, "nospc") && off + len > 20 * 1024)
        return -ENOSPC;
    if (strstr(path, "eio")) {
        pthread_mutex_lock(&p->lock);
        int n = ++p->eio_writes;
        pthread_mutex_unlock(&p->lock);
        if (n == 3)
            return -EIO;
    }
    /* O_DIRECT cannot write less than a block, so only writes of several blocks are cut. */
    if (strstr(path, "short") && len > 4096)
        return (int)(len / 2);
    return 0;
}

static void test_faults_isolated(void)
{
    enum { FRAMES = 2000, N = 4 };
    const char *names[N] = {"ok", "nospc", "eio", "short"};
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "faults");
    struct fault_plan plan = {.eio_writes = 0};
    pthread_mutex_init(&plan.lock, NULL);
    struct mjr_fault fault = {.before_write = plan_write, .ctx = &plan};
    struct mjr_engine_config cfg = {.fault = &fault, .flush_interval_ms = 5};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    static struct close_box boxes[N];
    struct mjr_stream *s[N];
    char paths[N][600];
    for (int i = 0; i < N; i++) {
        close_box_init(&boxes[i]);
        snprintf(paths[i], sizeof(paths[i]), "%s/%s.mjr", dir, names[i]);
        struct mjr_stream_opts o = {.path = paths[i],
                                    .raw = true,
                                    .segment_size = 8192,
                                    .on_closed = close_box_cb,
                                    .ud = &boxes[i]};
        o.info.kind = MJR_KIND_VIDEO;
        o.info.codec = "vp8";
        ASSERT_EQ(mjr_stream_open(e, &o, &s[i]), 0);
    }
    uint8_t pkt[1500];
    int refused[N] = {0}, again[N] = {0};
    for (int j = 0; j < FRAMES; j++) {
        for (int i = 0; i < N; i++) {
            size_t len = frame_for(pkt, i, j);
            int rc;
            while ((rc = mjr_stream_write_rtp(s[i], pkt, len)) == -EAGAIN) {
                again[i]++; /* window full under load: offer it again */
                usleep(1000);
            }
            if (rc != 0) {
                ASSERT(rc == -ENOSPC || rc == -EIO);
                refused[i]++;
            }
        }
        if (j % 100 == 0)
            usleep(10000);
    }
    for (int i = 0; i < N; i++)
        mjr_stream_close(s[i]);
    mjr_engine_destroy(e);
    /* The healthy and the short-written streams are complete and correct. */
    ASSERT_EQ(boxes[0].res.status, 0);
    ASSERT_EQ(verify_stream_file(paths[0], 0, FRAMES, NULL), FRAMES);
    ASSERT_EQ(boxes[3].res.status, 0);
    ASSERT_EQ(verify_stream_file(paths[3], 3, FRAMES, NULL), FRAMES);
    /* The failed ones report their error, refused later frames, and kept whole frames. */
    ASSERT_EQ(boxes[1].res.status, -ENOSPC);
    ASSERT_EQ(boxes[2].res.status, -EIO);
    for (int i = 1; i <= 2; i++) {
        ASSERT_GT(refused[i], 0);
        ASSERT_EQ(boxes[i].res.dropped, refused[i] + again[i]);
        ASSERT(boxes[i].res.recovered);
        ASSERT_STREQ(boxes[i].res.path, paths[i]);
        int kept = verify_stream_file(paths[i], i, FRAMES, NULL);
        ASSERT_LT(kept, FRAMES);
    }
    rm_tree(dir);
}

/* A real full filesystem: a 1 MiB tmpfs (mounting needs root, which CI has). The stream
 * recording there fails with ENOSPC and keeps its whole frames; a stream on another
 * filesystem, written at the same time by the same writer, is complete. */
static void test_real_enospc(void)
{
    enum { FRAMES = 3000 };
    char mnt[512], dir[512], cmd[1200];
    make_tmpdir(mnt, sizeof(mnt), "/var/tmp", "enospc");
    snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=1m vb-enospc '%s' 2>/dev/null", mnt);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot mount a tmpfs (not root?): real ENOSPC not exercised here\n");
        rm_tree(mnt);
        return;
    }
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "enospc-ok");
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(NULL, &e), 0);
    static struct close_box boxes[2];
    struct mjr_stream *s[2];
    char paths[2][600];
    snprintf(paths[0], sizeof(paths[0]), "%s/full.mjr", mnt);
    snprintf(paths[1], sizeof(paths[1]), "%s/ok.mjr", dir);
    for (int i = 0; i < 2; i++) {
        close_box_init(&boxes[i]);
        struct mjr_stream_opts o = {
            .path = paths[i], .raw = true, .on_closed = close_box_cb, .ud = &boxes[i]};
        o.info.kind = MJR_KIND_VIDEO;
        o.info.codec = "vp8";
        ASSERT_EQ(mjr_stream_open(e, &o, &s[i]), 0);
    }
    uint8_t pkt[1500];
    int refused = 0, again[2] = {0};
    for (int j = 0; j < FRAMES; j++) {
        for (int i = 0; i < 2; i++) {
            size_t len = frame_for(pkt, i, j);
            int rc;
            while ((rc = mjr_stream_write_rtp(s[i], pkt, len)) == -EAGAIN) {
                again[i]++;
                usleep(1000);
            }
            if (i == 0 && rc == -ENOSPC)
                refused++;
            else
                ASSERT_EQ(rc, 0);
        }
        if (j % 100 == 0)
            usleep(5000);
    }
    mjr_stream_close(s[0]);
    mjr_stream_close(s[1]);
    mjr_engine_destroy(e);
    ASSERT_GT(refused, 0);
    ASSERT_EQ(boxes[0].res.status, -ENOSPC);
    ASSERT(boxes[0].res.recovered);
    ASSERT_EQ(boxes[0].res.dropped, refused + again[0]);
    int kept = verify_stream_file(paths[0], 0, FRAMES, NULL);
    ASSERT_GT(kept, 100);
    ASSERT_LT(kept, FRAMES - refused + 1);
    ASSERT_EQ(boxes[1].res.status, 0);
    ASSERT_EQ(verify_stream_file(paths[1], 1, FRAMES, NULL), FRAMES);
    snprintf(cmd, sizeof(cmd), "umount '%s'", mnt);
    ASSERT_EQ(system(cmd), 0);
    rm_tree(mnt);
    rm_tree(dir);
}

/* Shutdown: destroying the engine finishes every stream still open, as if closed. */
static void test_destroy_finishes_open_streams(void)
{
    enum { N = 3, FRAMES = 500 };
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "shutdown");
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(NULL, &e), 0);
    static struct close_box boxes[N];
    char paths[N][600];
    uint8_t pkt[1500];
    for (int i = 0; i < N; i++) {
        close_box_init(&boxes[i]);
        snprintf(paths[i], sizeof(paths[i]), "%s/open%d.mjr", dir, i);
        struct mjr_stream_opts o = {
            .path = paths[i], .raw = true, .on_closed = close_box_cb, .ud = &boxes[i]};
        o.info.kind = MJR_KIND_VIDEO;
        o.info.codec = "vp8";
        struct mjr_stream *s = NULL;
        ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
        for (int j = 0; j < FRAMES; j++)
            ASSERT_EQ(mjr_stream_write_rtp(s, pkt, frame_for(pkt, i, j)), 0);
        /* never closed */
    }
    mjr_engine_destroy(e);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(boxes[i].count, 1);
        ASSERT_EQ(boxes[i].res.status, 0);
        ASSERT_STREQ(boxes[i].res.path, paths[i]);
        ASSERT_EQ(verify_stream_file(paths[i], i, FRAMES, NULL), FRAMES);
    }
    rm_tree(dir);
}

static void test_never_overwrites(void)
{
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "exists");
    char path[600];
    snprintf(path, sizeof(path), "%s/x.mjr", dir);
    FILE *fp = fopen(path, "w");
    ASSERT(fp != NULL);
    fputs("precious", fp);
    fclose(fp);
    struct close_box box;
    record_nothing(path, &box);
    ASSERT_EQ(box.res.status, -EEXIST);
    size_t len;
    uint8_t *b = read_all(path, &len);
    ASSERT_EQ(len, 8);
    ASSERT_MEMEQ(b, "precious", 8);
    free(b);
    rm_tree(dir);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"many_streams_direct", test_many_streams_direct},
        {"many_streams_buffered_fallback", test_many_streams_buffered_fallback},
        {"budget_drops_counted", test_budget_drops_counted},
        {"flush_then_crash_recovers_all", test_flush_then_crash_recovers_all},
        {"timer_flush_reaches_disk", test_timer_flush_reaches_disk},
        {"faults_isolated", test_faults_isolated},
        {"real_enospc", test_real_enospc},
        {"destroy_finishes_open_streams", test_destroy_finishes_open_streams},
        {"never_overwrites", test_never_overwrites},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
