/* tests/mjr/writer_util.h — shared helpers of the MJR writer tests: a scripted clock,
 * temporary directories, close-result capture, RTP packet building and file reading. */
#ifndef VB_TESTS_MJR_WRITER_UTIL_H
#define VB_TESTS_MJR_WRITER_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "mjr/mjr.h"
#include "tests/test.h"

/* A clock the test thread sets by hand. */
struct script_clock {
    int64_t mono, real;
};

static inline int64_t script_mono(void *ctx)
{
    return ((struct script_clock *)ctx)->mono;
}

static inline int64_t script_real(void *ctx)
{
    return ((struct script_clock *)ctx)->real;
}

/* Collects on_closed results; the callback runs on a writer thread. */
struct close_box {
    pthread_mutex_t lock;
    int count;
    struct mjr_stream_result res;
    char path[512];
};

static inline void close_box_init(struct close_box *b)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
}

static inline void close_box_cb(void *ud, const struct mjr_stream_result *res)
{
    struct close_box *b = ud;
    pthread_mutex_lock(&b->lock);
    b->count++;
    b->res = *res;
    snprintf(b->path, sizeof(b->path), "%s", res->path);
    b->res.path = b->path;
    pthread_mutex_unlock(&b->lock);
}

/* Opens an Opus stream at `path` on a default engine and closes it at once; the result
 * lands in *box. */
static inline void record_nothing(const char *path, struct close_box *box)
{
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(NULL, &e), 0);
    close_box_init(box);
    struct mjr_stream_opts o = {.path = path, .on_closed = close_box_cb, .ud = box};
    o.info.kind = MJR_KIND_AUDIO;
    o.info.codec = "opus";
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(box->count, 1);
}

/* A fresh directory under `base` (removed by rm_tree). */
static inline void make_tmpdir(char *out, size_t n, const char *base, const char *tag)
{
    snprintf(out, n, "%s/vb-%s-XXXXXX", base, tag);
    ASSERT(mkdtemp(out) != NULL);
}

static inline void rm_tree(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
}

static inline size_t rtp_build(uint8_t *p, uint8_t pt, int marker, uint16_t seq, uint32_t ts,
                               uint32_t ssrc, size_t payload_len, uint8_t fill)
{
    p[0] = 0x80;
    p[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
    wr_u16(p + 2, seq);
    wr_u32(p + 4, ts);
    wr_u32(p + 8, ssrc);
    for (size_t i = 0; i < payload_len; i++)
        p[12 + i] = (uint8_t)(fill + i);
    return 12 + payload_len;
}

static inline uint8_t *read_all(const char *path, size_t *len)
{
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    ASSERT(buf != NULL);
    ASSERT_EQ(fread(buf, 1, (size_t)n, fp), n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static inline int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

#endif
