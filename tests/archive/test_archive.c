/* This file implements the archive tests: recorders over a real MJR engine and a real SQLite
 * catalog in a temporary folder. Streams of two participants are recorded and closed (names,
 * catalog state, size and SHA-256 against the files), a stream fails through the engine's
 * fault hook, pause and resume, unsafe names are refused, and destroying the archive
 * finishes recorders nobody closed. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "mjr/mjr.h"
#include "tests/archive/archive_util.h"
#include "tests/test.h"

#define FRAMES 40
#define ROOM "1234"

struct fixture {
    char dir[512];
    struct catalog *c;
    struct mjr_engine *e;
    struct archive *a;
};

static void setup(struct fixture *fx, const char *tag, const struct mjr_engine_config *ecfg)
{
    fx->c = util_catalog_open(fx->dir, sizeof(fx->dir), tag);
    ASSERT_EQ(mjr_engine_create(ecfg, &fx->e), 0);
    struct archive_config cfg = {.data_dir = fx->dir, .engine = fx->e, .catalog = fx->c};
    ASSERT_EQ(archive_create(&cfg, &fx->a), 0);
}

/* Destroys the archive (finishing every recorder) and lets the catalog apply it all. */
static void finish(struct fixture *fx)
{
    archive_destroy(fx->a);
    fx->a = NULL;
    catalog_flush(fx->c);
}

static void teardown(struct fixture *fx)
{
    archive_destroy(fx->a);
    mjr_engine_destroy(fx->e);
    catalog_close(fx->c);
    util_rm_tree(fx->dir);
}

static struct archive_stream_info stream(const char *participant, enum mjr_kind kind)
{
    struct archive_stream_info info = {.room = ROOM, .participant = participant, .kind = kind};
    info.mindex = kind == MJR_KIND_AUDIO ? 0 : kind == MJR_KIND_VIDEO ? 1 : 2;
    info.codec = kind == MJR_KIND_AUDIO ? "opus" : kind == MJR_KIND_VIDEO ? "vp8" : "text";
    return info;
}

/* Writes `n` frames starting at `from`; returns how many were accepted. */
static int feed(struct archive_rec *r, enum mjr_kind kind, int from, int n)
{
    uint8_t pkt[256];
    int ok = 0;
    for (int i = from; i < from + n; i++) {
        int rc;
        if (kind == MJR_KIND_DATA) {
            int len = snprintf((char *)pkt, sizeof(pkt), "message %d", i);
            rc = archive_rec_write_data(r, pkt, (size_t)len);
        } else {
            bool audio = kind == MJR_KIND_AUDIO;
            size_t len = util_rtp(pkt, audio ? 111 : 96, (uint16_t)(1000 + i),
                                  (uint32_t)i * (audio ? 960 : 3000), audio ? 0xa0d10 : 0x51de0,
                                  audio ? 80 : 180, (uint8_t)i);
            rc = archive_rec_write_rtp(r, pkt, len);
        }
        ok += rc == 0;
    }
    return ok;
}

/* Frames and codec of a finished file, read back with the MJR reader. */
static uint64_t file_frames(const char *dir, const char *rel, const char *codec)
{
    char abs[1024];
    snprintf(abs, sizeof(abs), "%s/%s", dir, rel);
    struct mjr_reader *r;
    ASSERT_EQ(mjr_reader_open(abs, &r, NULL, 0), 0);
    ASSERT_STREQ(mjr_reader_codec(r), codec);
    uint64_t n = 0;
    struct mjr_frame f;
    while (mjr_reader_next(r, &f) == 1)
        n++;
    ASSERT(!mjr_reader_truncated(r));
    mjr_reader_destroy(r);
    snprintf(abs, sizeof(abs), "%s/%s.tmp", dir, rel);
    ASSERT(!util_exists(abs));
    return n;
}

/* recordings/1234/videoroom-1234-user-<p>-<µs in [t0, t1]>-<kind>-<mindex>.mjr */
static void check_name(const char *rel, const char *participant, const char *kind, int mindex,
                       int64_t t0, int64_t t1)
{
    char prefix[256], suffix[64];
    snprintf(prefix, sizeof(prefix), "recordings/" ROOM "/videoroom-" ROOM "-user-%s-",
             participant);
    snprintf(suffix, sizeof(suffix), "-%s-%d.mjr", kind, mindex);
    size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(rel);
    ASSERT(n > pl + sl);
    ASSERT_EQ(strncmp(rel, prefix, pl), 0);
    ASSERT_STREQ(rel + n - sl, suffix);
    char *end = NULL;
    int64_t ts = strtoll(rel + pl, &end, 10);
    ASSERT(end == rel + n - sl);
    ASSERT_GE(ts, t0);
    ASSERT_LE(ts, t1);
}

static void test_record_and_close(void)
{
    struct fixture fx = {0};
    setup(&fx, "arch-rec", NULL);
    static const char *const who[] = {"4292621012949761", "guest-7"};
    static const enum mjr_kind kinds[] = {MJR_KIND_AUDIO, MJR_KIND_VIDEO, MJR_KIND_DATA};
    struct archive_rec *recs[6];
    char *paths[6];
    int64_t t0 = vb_clock_real_us();
    for (int i = 0; i < 6; i++) {
        struct archive_stream_info info = stream(who[i / 3], kinds[i % 3]);
        info.display = "Ada";
        ASSERT_EQ(archive_rec_open(fx.a, &info, &recs[i]), 0);
        paths[i] = xstrdup(archive_rec_path(recs[i]));
    }
    int64_t t1 = vb_clock_real_us();
    for (int i = 0; i < 6; i++)
        ASSERT_EQ(feed(recs[i], kinds[i % 3], 0, FRAMES), FRAMES);
    for (int i = 0; i < 6; i++)
        archive_rec_close(recs[i]);
    finish(&fx);

    char room_dir[600];
    snprintf(room_dir, sizeof(room_dir), "%s/recordings/" ROOM, fx.dir);
    struct stat st;
    ASSERT_EQ(stat(room_dir, &st), 0);
    mode_t um = umask(0);
    umask(um);
    ASSERT_EQ(st.st_mode & 0777, 0750 & ~um);
    json_t *res = util_recordings(fx.c, ROOM);
    ASSERT_EQ(util_int(res, "total"), 6);
    for (int i = 0; i < 6; i++) {
        struct archive_stream_info info = stream(who[i / 3], kinds[i % 3]);
        check_name(paths[i], who[i / 3], mjr_kind_name(kinds[i % 3]), info.mindex, t0, t1);
        json_t *rec = util_find(res, paths[i]);
        ASSERT(rec != NULL);
        ASSERT_STREQ(util_str(rec, "state"), "closed");
        ASSERT_STREQ(util_str(rec, "participant"), who[i / 3]);
        ASSERT_STREQ(util_str(rec, "kind"), mjr_kind_name(kinds[i % 3]));
        ASSERT_STREQ(util_str(rec, "codec"), info.codec);
        ASSERT_EQ(util_int(rec, "frames"), FRAMES);
        ASSERT_EQ(util_int(rec, "dropped"), 0);
        util_check_hash(fx.dir, rec, paths[i]);
        ASSERT_UEQ(file_frames(fx.dir, paths[i], info.codec), FRAMES);
        free(paths[i]);
    }
    json_decref(res);
    teardown(&fx);
}

/* Fails every write to a file whose name contains "doomed". */
static int fail_doomed(void *ctx, const char *path, uint64_t off, size_t len)
{
    (void)ctx;
    (void)off;
    (void)len;
    return strstr(path, "doomed") ? -EIO : 0;
}

static void test_failing_stream(void)
{
    struct mjr_fault fault = {.before_write = fail_doomed};
    struct mjr_engine_config ecfg = {.fault = &fault};
    struct fixture fx = {0};
    setup(&fx, "arch-fail", &ecfg);
    struct archive_stream_info info = stream("77", MJR_KIND_AUDIO);
    info.base_name = "doomed";
    struct archive_rec *bad, *good;
    ASSERT_EQ(archive_rec_open(fx.a, &info, &bad), 0);
    ASSERT_STREQ(archive_rec_path(bad), "recordings/" ROOM "/doomed-audio-0.mjr");
    info.base_name = "fine";
    ASSERT_EQ(archive_rec_open(fx.a, &info, &good), 0);
    feed(bad, MJR_KIND_AUDIO, 0, FRAMES);
    ASSERT_EQ(feed(good, MJR_KIND_AUDIO, 0, FRAMES), FRAMES);
    archive_rec_close(bad);
    archive_rec_close(good);
    finish(&fx);

    json_t *res = util_recordings(fx.c, ROOM);
    json_t *r = util_find(res, "recordings/" ROOM "/doomed-audio-0.mjr");
    ASSERT(r != NULL);
    ASSERT_STREQ(util_str(r, "state"), "failed");
    const char *err = util_str(r, "error");
    ASSERT(err != NULL && strstr(err, strerror(EIO)) != NULL);
    r = util_find(res, "recordings/" ROOM "/fine-audio-0.mjr");
    ASSERT(r != NULL);
    ASSERT_STREQ(util_str(r, "state"), "closed");
    util_check_hash(fx.dir, r, "recordings/" ROOM "/fine-audio-0.mjr");
    json_decref(res);
    teardown(&fx);
}

static void test_pause_resume(void)
{
    struct fixture fx = {0};
    setup(&fx, "arch-pause", NULL);
    struct archive_stream_info info = stream("88", MJR_KIND_VIDEO);
    struct archive_rec *r;
    ASSERT_EQ(archive_rec_open(fx.a, &info, &r), 0);
    char *path = xstrdup(archive_rec_path(r));
    ASSERT_EQ(feed(r, MJR_KIND_VIDEO, 0, 10), 10);
    archive_rec_pause(r);
    ASSERT_EQ(feed(r, MJR_KIND_VIDEO, 10, 10), 0);
    archive_rec_resume(r);
    ASSERT_EQ(feed(r, MJR_KIND_VIDEO, 20, 10), 10);
    archive_rec_close(r);
    finish(&fx);

    json_t *res = util_recordings(fx.c, ROOM);
    json_t *rec = util_find(res, path);
    ASSERT(rec != NULL);
    ASSERT_STREQ(util_str(rec, "state"), "closed");
    ASSERT_EQ(util_int(rec, "frames"), 20);
    util_check_hash(fx.dir, rec, path);
    ASSERT_UEQ(file_frames(fx.dir, path, "vp8"), 20);
    json_decref(res);
    free(path);
    teardown(&fx);
}

static void test_unsafe_names(void)
{
    struct fixture fx = {0};
    setup(&fx, "arch-names", NULL);
    static const char *const bad_ids[] = {"",     "..",        ".",       "../etc", "a/b",
                                          "x..y", "tab\there", "del\x7f", "nl\n"};
    struct archive_rec *r = NULL;
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        struct archive_stream_info info = stream("1", MJR_KIND_AUDIO);
        info.room = bad_ids[i];
        ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
        info = stream(bad_ids[i], MJR_KIND_AUDIO);
        ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
        info = stream("1", MJR_KIND_AUDIO);
        info.base_name = bad_ids[i];
        ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
    }
    struct archive_stream_info info = stream("1", MJR_KIND_AUDIO);
    info.base_name = "/tmp/absolute";
    ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
    info = stream("1", MJR_KIND_AUDIO);
    info.codec = NULL;
    ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
    info = stream("1", MJR_KIND_UNKNOWN);
    ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
    info = stream(NULL, MJR_KIND_AUDIO);
    ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
    char long_id[300];
    memset(long_id, '9', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    info = stream(long_id, MJR_KIND_AUDIO);
    ASSERT_EQ(archive_rec_open(fx.a, &info, &r), -EINVAL);
    char rec_dir[600];
    snprintf(rec_dir, sizeof(rec_dir), "%s/recordings", fx.dir);
    ASSERT(!util_exists(rec_dir)); /* nothing was created for any of them */

    /* A name in use, live or on disk, is refused. */
    info = stream("1", MJR_KIND_AUDIO);
    info.base_name = "same";
    struct archive_rec *first, *second;
    ASSERT_EQ(archive_rec_open(fx.a, &info, &first), 0);
    ASSERT_EQ(archive_rec_open(fx.a, &info, &second), -EEXIST);
    archive_rec_close(first);
    finish(&fx);
    struct archive_config cfg = {.data_dir = fx.dir, .engine = fx.e, .catalog = fx.c};
    ASSERT_EQ(archive_create(&cfg, &fx.a), 0);
    ASSERT_EQ(archive_rec_open(fx.a, &info, &second), -EEXIST);
    json_t *res = util_recordings(fx.c, NULL);
    ASSERT_EQ(util_int(res, "total"), 1);
    json_decref(res);
    teardown(&fx);
}

static void test_destroy_finishes_open(void)
{
    struct fixture fx = {0};
    setup(&fx, "arch-destroy", NULL);
    static const enum mjr_kind kinds[] = {MJR_KIND_AUDIO, MJR_KIND_VIDEO, MJR_KIND_DATA};
    char *paths[3];
    struct archive_rec *recs[3];
    for (int i = 0; i < 3; i++) {
        struct archive_stream_info info = stream("99", kinds[i]);
        ASSERT_EQ(archive_rec_open(fx.a, &info, &recs[i]), 0);
        paths[i] = xstrdup(archive_rec_path(recs[i]));
        ASSERT_EQ(feed(recs[i], kinds[i], 0, FRAMES), FRAMES);
    }
    /* One is closed by its producer, the rest by destroy. */
    archive_rec_close(recs[0]);
    finish(&fx);
    json_t *res = util_recordings(fx.c, ROOM);
    ASSERT_EQ(util_int(res, "total"), 3);
    for (int i = 0; i < 3; i++) {
        json_t *rec = util_find(res, paths[i]);
        ASSERT(rec != NULL);
        ASSERT_STREQ(util_str(rec, "state"), "closed");
        ASSERT_EQ(util_int(rec, "frames"), FRAMES);
        util_check_hash(fx.dir, rec, paths[i]);
        ASSERT_UEQ(file_frames(fx.dir, paths[i], stream("99", kinds[i]).codec), FRAMES);
        free(paths[i]);
    }
    json_decref(res);
    teardown(&fx);
}

#define FIX_DIR VB_SOURCE_DIR "/tests/fixtures/vp8-opus-1pub/"
#define FIX_AUDIO FIX_DIR "videoroom-118810912-user-4292621012949761-1795607440500653-audio-0.mjr"
#define FIX_VIDEO FIX_DIR "videoroom-118810912-user-4292621012949761-1795607440500908-video-1.mjr"

/* Writes the bytes of `src` and then `tail_len` bytes of `tail` to `dst`. */
static void put_file(const char *src, const char *dst, const void *tail, size_t tail_len)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    ASSERT(in != NULL && out != NULL);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        ASSERT_EQ(fwrite(buf, 1, n, out), n);
    if (tail_len)
        ASSERT_EQ(fwrite(tail, 1, tail_len, out), tail_len);
    fclose(in);
    ASSERT_EQ(fclose(out), 0);
}

static void post_open(struct catalog *c, const char *path)
{
    struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                               .room = "77",
                               .participant = "1",
                               .kind_name = "audio",
                               .codec = "opus",
                               .path = path};
    ASSERT_EQ(catalog_post(c, &ev), 0);
}

static void check_recovered(struct fixture *fx, json_t *res, const char *rel, const char *src,
                            int64_t trimmed)
{
    json_t *r = util_find(res, rel);
    ASSERT(r != NULL);
    ASSERT_STREQ(util_str(r, "state"), "recovered");
    ASSERT_EQ(util_int(r, "trimmed"), trimmed);
    ASSERT(json_is_integer(json_object_get(r, "frames"))); /* recovery counts them */
    ASSERT_GT(util_int(r, "frames"), 0);
    util_check_hash(fx->dir, r, rel);
    uint8_t want[VB_SHA256_LEN];
    char hex[VB_SHA256_HEX];
    ASSERT_EQ(vb_sha256_file(src, want, NULL), 0); /* exactly the whole frames are kept */
    vb_sha256_hex(want, hex);
    ASSERT_STREQ(util_str(r, "sha256"), hex);
}

static void test_recover(void)
{
    struct fixture fx = {0};
    setup(&fx, "arch-recover", NULL);
    char dir[600], p[800];
    snprintf(p, sizeof(p), "%s/recordings", fx.dir);
    ASSERT_EQ(mkdir(p, 0750), 0);
    snprintf(dir, sizeof(dir), "%s/recordings/77", fx.dir);
    ASSERT_EQ(mkdir(dir, 0750), 0);
    const char *a = "recordings/77/a-audio-0.mjr", *b = "recordings/77/b-audio-0.mjr",
               *m = "recordings/77/gone-audio-0.mjr",
               *stray = "recordings/77/videoroom-77-user-5-123-video-1.mjr";
    post_open(fx.c, a);
    post_open(fx.c, b);
    post_open(fx.c, m);
    catalog_flush(fx.c);
    static const uint8_t cut[] = {'M', 'E', 'E', 'T', 0, 0, 1};
    snprintf(p, sizeof(p), "%s/%s.tmp", fx.dir, a); /* died while writing */
    put_file(FIX_AUDIO, p, cut, sizeof(cut));
    snprintf(p, sizeof(p), "%s/%s", fx.dir, b); /* died after the rename */
    put_file(FIX_AUDIO, p, NULL, 0);
    uint8_t *zeros = calloc(1, 4096);                   /* preallocated, never written */
    snprintf(p, sizeof(p), "%s/%s.tmp", fx.dir, stray); /* died before the catalog heard */
    put_file(FIX_VIDEO, p, zeros, 4096);
    free(zeros);

    struct archive_recover_report rep;
    ASSERT_EQ(archive_recover(fx.a, &rep), 0);
    ASSERT_EQ(rep.recovered, 2);
    ASSERT_EQ(rep.missing, 1);
    ASSERT_EQ(rep.stray, 1);
    ASSERT_UEQ(rep.trimmed, sizeof(cut) + 4096);
    json_t *res = util_recordings(fx.c, "77");
    ASSERT_EQ(util_int(res, "total"), 4);
    check_recovered(&fx, res, a, FIX_AUDIO, sizeof(cut));
    check_recovered(&fx, res, b, FIX_AUDIO, 0);
    check_recovered(&fx, res, stray, FIX_VIDEO, 4096);
    json_t *r = util_find(res, stray);
    ASSERT_STREQ(util_str(r, "participant"), "5");
    ASSERT_STREQ(util_str(r, "kind"), "video");
    ASSERT_STREQ(util_str(r, "codec"), "vp8");
    ASSERT_EQ(util_int(r, "mindex"), 1);
    r = util_find(res, m);
    ASSERT_STREQ(util_str(r, "state"), "failed");
    ASSERT_STREQ(util_str(r, "error"), "file missing after a crash");
    json_decref(res);
    snprintf(p, sizeof(p), "%s/%s.tmp", fx.dir, a);
    ASSERT(!util_exists(p));

    /* Nothing is left to do the second time. */
    ASSERT_EQ(archive_recover(fx.a, &rep), 0);
    ASSERT_EQ(rep.recovered + rep.missing + rep.stray, 0);
    teardown(&fx);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"record_and_close", test_record_and_close},
        {"failing_stream", test_failing_stream},
        {"pause_resume", test_pause_resume},
        {"unsafe_names", test_unsafe_names},
        {"destroy_finishes_open", test_destroy_finishes_open},
        {"recover", test_recover},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
