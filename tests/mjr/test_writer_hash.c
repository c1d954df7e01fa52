/* The writer's SHA-256 (mjr_stream_opts.sha256): computed on the writer thread as bytes reach
 * the disk, it must equal the hash of the finished file — for a stream of many segments
 * written with O_DIRECT, for buffered writes, for an empty stream, and for a stream that
 * failed and was trimmed by recovery. */
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "common/sha256.h"
#include "mjr/mjr.h"
#include "tests/mjr/writer_util.h"
#include "tests/test.h"

static void check_hash(const struct close_box *box)
{
    ASSERT(box->res.has_sha256);
    uint8_t want[VB_SHA256_LEN];
    uint64_t size = 0;
    ASSERT_EQ(vb_sha256_file(box->res.path, want, &size), 0);
    ASSERT_UEQ(size, box->res.bytes);
    ASSERT_MEMEQ(box->res.sha256, want, VB_SHA256_LEN);
}

/* Records `packets` video packets of ~1,100 bytes (many 32 KiB segments) and closes. */
static void record(const char *dir, bool buffered, unsigned packets, struct close_box *box)
{
    struct mjr_engine_config cfg = {.buffered = buffered, .flush_interval_ms = 20};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/v-%d-%u.mjr", dir, buffered, packets);
    close_box_init(box);
    struct mjr_stream_opts o = {.path = path, .sha256 = true, .on_closed = close_box_cb, .ud = box};
    o.info.kind = MJR_KIND_VIDEO;
    o.info.codec = "vp8";
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    uint8_t pkt[1300];
    for (unsigned i = 0; i < packets; i++) {
        size_t n = rtp_build(pkt, 96, i % 5 == 4, (uint16_t)i, 3000 * (i / 5), 77,
                             1000 + (i * 37) % 200, (uint8_t)i);
        while (mjr_stream_write_rtp(s, pkt, n) == -EAGAIN)
            mjr_engine_flush(e); /* let the writer catch up: every byte must be in the file */
        if (i % 500 == 0)
            mjr_engine_flush(e); /* partial tail blocks written, later rewritten */
    }
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(box->count, 1);
    ASSERT_EQ(box->res.status, 0);
}

static void hash_matches_file_direct_and_buffered(void)
{
    char dir[256];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "hash");
    for (int buffered = 0; buffered < 2; buffered++) {
        for (unsigned packets = 0; packets <= 3000; packets += 1500) {
            struct close_box box;
            record(dir, buffered, packets, &box);
            check_hash(&box);
        }
    }
    rm_tree(dir);
}

struct fail_after {
    int writes;
};

static int fail_third_write(void *ctx, const char *path, uint64_t off, size_t len)
{
    (void)path;
    (void)off;
    (void)len;
    struct fail_after *f = ctx;
    return ++f->writes == 3 ? -EIO : 0;
}

/* A stream that fails is trimmed to its whole frames: the hash is of what was kept. */
static void hash_of_a_recovered_stream(void)
{
    char dir[256];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "hashfail");
    struct fail_after fa = {0};
    struct mjr_fault fault = {.before_write = fail_third_write, .ctx = &fa};
    struct mjr_engine_config cfg = {.fault = &fault, .flush_interval_ms = 10};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/a.mjr", dir);
    struct close_box box;
    close_box_init(&box);
    struct mjr_stream_opts o = {
        .path = path, .sha256 = true, .on_closed = close_box_cb, .ud = &box};
    o.info.kind = MJR_KIND_AUDIO;
    o.info.codec = "opus";
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    uint8_t pkt[200];
    for (unsigned i = 0; i < 2000; i++) {
        size_t n = rtp_build(pkt, 111, 0, (uint16_t)i, 960 * i, 5, 100, (uint8_t)i);
        mjr_stream_write_rtp(s, pkt, n);
        if (i % 100 == 0)
            mjr_engine_flush(e);
    }
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(box.count, 1);
    ASSERT_EQ(box.res.status, -EIO);
    ASSERT(box.res.recovered);
    check_hash(&box);
    rm_tree(dir);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"hash_matches_file_direct_and_buffered", hash_matches_file_direct_and_buffered},
        {"hash_of_a_recovered_stream", hash_of_a_recovered_stream},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
