/* This file implements the tests of the MJR reader: the real Janus fixtures against the
 * numbers in their reference dumps, synthetic files of every version checked field by field,
 * every truncation offset of small files, and each kind of damage (zero padding, bodies past
 * the end, bad prefixes, large or broken headers, unknown magic). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/mjr.h"
#include "tests/test.h"

#define FIX VB_SOURCE_DIR "/tests/fixtures/"
#define MAX_SEEN 1024

/* ---- building files in memory ----------------------------------------------------------- */

/* Files are built in the project's bounded buffer; 16 MiB is far more than any test needs. */
static void mb_put(struct vb_buf *b, const void *d, size_t n)
{
    ASSERT_EQ(vb_buf_put(b, d, n), 0);
}

static void mb_u16(struct vb_buf *b, uint16_t v)
{
    ASSERT_EQ(vb_buf_put_be16(b, v), 0);
}

static void mb_u32(struct vb_buf *b, uint32_t v)
{
    ASSERT_EQ(vb_buf_put_be32(b, v), 0);
}

static void mb_start(struct vb_buf *b, const char *magic, const char *header)
{
    vb_buf_init(b, 16u << 20);
    mb_put(b, magic, 8);
    mb_u16(b, (uint16_t)strlen(header));
    mb_put(b, header, strlen(header));
}

static void mb_frame_v2(struct vb_buf *b, uint32_t t_ms, const uint8_t *body, size_t n)
{
    mb_put(b, "MEET", 4);
    mb_u32(b, t_ms);
    mb_u16(b, (uint16_t)n);
    mb_put(b, body, n);
}

static void mb_frame_v1(struct vb_buf *b, const uint8_t *body, size_t n)
{
    mb_put(b, "MEETECHO", 8);
    mb_u16(b, (uint16_t)n);
    mb_put(b, body, n);
}

/* An RTP packet of `len` (>= 12) bytes with a payload pattern derived from seq. */
static void rtp_make(uint8_t *out, size_t len, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    out[0] = 0x80;
    out[1] = 111;
    wr_u16(out + 2, seq);
    wr_u32(out + 4, ts);
    wr_u32(out + 8, ssrc);
    for (size_t i = 12; i < len; i++)
        out[i] = (uint8_t)(seq * 7 + i);
    if (len > 12)
        out[len - 1] = 0xaa; /* a body ending in zero before padding is taken as cut off */
}

/* ---- reading ---------------------------------------------------------------------------- */

struct seen {
    uint64_t offset, end;
    size_t len;
    uint32_t t_ms;
    bool has_time;
    int64_t data_real_us;
    uint32_t sum;
    uint16_t seq;
    uint32_t ts, ssrc;
};

static uint32_t checksum(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static size_t read_all(struct mjr_reader *r, struct seen *out, size_t max)
{
    struct mjr_frame f;
    size_t n = 0;
    while (mjr_reader_next(r, &f) == 1) {
        ASSERT_LT(n, max);
        ASSERT_UEQ(f.end - f.offset, f.len + 10 + (f.data_real_us ? 8 : 0));
        struct seen *s = &out[n++];
        memset(s, 0, sizeof(*s));
        s->offset = f.offset;
        s->end = f.end;
        s->len = f.len;
        s->t_ms = f.t_ms;
        s->has_time = f.has_time;
        s->data_real_us = f.data_real_us;
        s->sum = checksum(f.body, f.len);
        if (f.len >= 12) {
            s->seq = rd_u16(f.body + 2);
            s->ts = rd_u32(f.body + 4);
            s->ssrc = rd_u32(f.body + 8);
        }
    }
    ASSERT_EQ(mjr_reader_next(r, &f), 0); /* stays at the end */
    return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        TEST_FAIL_("cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = xmalloc((size_t)sz + 1);
    ASSERT_EQ(fread(buf, 1, (size_t)sz, fp), sz);
    fclose(fp);
    *len = (size_t)sz;
    return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ASSERT(fp != NULL);
    ASSERT_EQ(fwrite(buf, 1, len, fp), len);
    ASSERT_EQ(fclose(fp), 0);
}

static struct mjr_reader *open_mem_ok(const uint8_t *buf, size_t len)
{
    struct mjr_reader *r = NULL;
    char err[200] = "";
    int rc = mjr_reader_open_mem(buf, len, &r, err, sizeof(err));
    if (rc != 0)
        TEST_FAIL_("open_mem(%zu bytes) failed: %d %s", len, rc, err);
    return r;
}

/* ---- the real Janus recordings ---------------------------------------------------------- */

struct fixture {
    const char *path;
    enum mjr_kind kind;
    const char *codec;
    uint64_t size;
    int64_t s, u;
    size_t frames;
    uint32_t ssrc;
    uint16_t seq_last;
    uint32_t ts_last, t_last;
    size_t first_len, second_len;
    uint32_t second_t;
};

static const struct fixture fixtures[] = {
    {FIX "h264-opus-1pub/videoroom-727973277-user-6490932377196342-1795607451420222-audio-0.mjr",
     MJR_KIND_AUDIO, "opus", 140969, 1795607451420224, 1795607451473312, 505, 3064877059u, 505,
     483840, 10063, 405, 350, 7},
    {FIX "h264-opus-1pub/videoroom-727973277-user-6490932377196342-1795607451420501-video-1.mjr",
     MJR_KIND_VIDEO, "h264", 133030, 1795607451420502, 1795607451480558, 154, 3266704761u, 154,
     906000, 10047, 1146, 459, 1},
    {FIX "vp8-opus-1pub/videoroom-118810912-user-4292621012949761-1795607440500653-audio-0.mjr",
     MJR_KIND_AUDIO, "opus", 140690, 1795607440500655, 1795607440544994, 504, 485787272u, 504,
     482880, 10056, 405, 350, 20},
    {FIX "vp8-opus-1pub/videoroom-118810912-user-4292621012949761-1795607440500908-video-1.mjr",
     MJR_KIND_VIDEO, "vp8", 201225, 1795607440500909, 1795607440560381, 212, 725690051u, 212,
     906000, 10051, 391, 283, 53},
};

static void check_fixture(const struct fixture *fx)
{
    static const size_t cap = MAX_SEEN;
    struct seen *a = xcalloc(cap, sizeof(*a)), *b = xcalloc(cap, sizeof(*b));
    struct mjr_reader *r = NULL;
    char err[200];
    ASSERT_EQ(mjr_reader_open(fx->path, &r, err, sizeof(err)), 0);
    ASSERT_EQ(mjr_reader_version(r), MJR_VERSION_2);
    ASSERT_EQ(mjr_reader_kind(r), fx->kind);
    ASSERT_STREQ(mjr_reader_codec(r), fx->codec);
    ASSERT_EQ(mjr_reader_created_us(r), fx->s);
    ASSERT_EQ(mjr_reader_first_frame_us(r), fx->u);
    ASSERT_STREQ(json_string_value(json_object_get(mjr_reader_header(r), "c")), fx->codec);
    size_t n = read_all(r, a, cap);
    ASSERT_EQ(n, fx->frames);
    ASSERT(!mjr_reader_truncated(r));
    ASSERT_STREQ(mjr_reader_diag(r), "");
    ASSERT_UEQ(mjr_reader_good_end(r), fx->size);
    ASSERT_UEQ(a[0].offset, 10 + mjr_reader_header_len(r));
    ASSERT_UEQ(a[n - 1].end, fx->size);
    ASSERT_EQ(a[0].t_ms, 0);
    ASSERT_EQ(a[1].t_ms, fx->second_t);
    ASSERT_EQ(a[n - 1].t_ms, fx->t_last);
    ASSERT_EQ(a[0].seq, 1);
    ASSERT_EQ(a[0].ts, 0);
    ASSERT_EQ(a[n - 1].seq, fx->seq_last);
    ASSERT_EQ(a[n - 1].ts, fx->ts_last);
    ASSERT_EQ(a[0].len, fx->first_len);
    ASSERT_EQ(a[1].len, fx->second_len);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(a[i].ssrc, fx->ssrc);
        ASSERT(a[i].has_time);
        if (i)
            ASSERT_UEQ(a[i].offset, a[i - 1].end);
    }
    mjr_reader_destroy(r);

    /* The memory reader sees exactly what the windowed file reader saw. */
    size_t len;
    uint8_t *buf = slurp(fx->path, &len);
    r = open_mem_ok(buf, len);
    ASSERT_EQ(read_all(r, b, cap), n);
    ASSERT_MEMEQ(a, b, n * sizeof(*a));
    mjr_reader_destroy(r);
    free(buf);
    free(a);
    free(b);
}

static void test_fixtures(void)
{
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
        check_fixture(&fixtures[i]);
}

/* ---- synthetic files of each version ---------------------------------------------------- */

static void test_v2_audio_fields(void)
{
    struct vb_buf b;
    const char *hdr = "{\"t\": \"a\", \"c\": \"opus\", \"s\": 1000, \"u\": 2000}";
    mb_start(&b, "MJR00002", hdr);
    uint8_t pkt[100];
    rtp_make(pkt, sizeof(pkt), 1, 0, 0x11223344);
    mb_frame_v2(&b, 0, pkt, sizeof(pkt));
    mb_frame_v2(&b, 20, pkt, 0);      /* empty body: a whole frame all the same */
    mb_frame_v2(&b, 40, pkt + 12, 5); /* shorter than RTP: returned, not skipped */
    rtp_make(pkt, 12, 2, 960, 0x11223344);
    mb_frame_v2(&b, 0xfffffff0u, pkt, 12);
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    ASSERT_EQ(mjr_reader_version(r), MJR_VERSION_2);
    ASSERT_EQ(mjr_reader_kind(r), MJR_KIND_AUDIO);
    ASSERT_STREQ(mjr_reader_codec(r), "opus");
    ASSERT_EQ(mjr_reader_header_len(r), strlen(hdr));
    ASSERT_EQ(mjr_reader_created_us(r), 1000);
    ASSERT_EQ(mjr_reader_first_frame_us(r), 2000);
    ASSERT_UEQ(mjr_reader_good_end(r), 10 + strlen(hdr));
    struct mjr_frame f;
    uint64_t off = 10 + strlen(hdr);
    ASSERT_EQ(mjr_reader_next(r, &f), 1);
    ASSERT_EQ(f.len, 100);
    ASSERT_EQ(f.t_ms, 0);
    ASSERT(f.has_time);
    ASSERT_EQ(f.data_real_us, 0);
    ASSERT_UEQ(f.offset, off);
    ASSERT_UEQ(f.end, off + 110);
    ASSERT_MEMEQ(f.body, b.p + off + 10, 100);
    ASSERT_EQ(rd_u32(f.body + 8), 0x11223344);
    off += 110;
    ASSERT_EQ(mjr_reader_next(r, &f), 1);
    ASSERT_EQ(f.len, 0);
    ASSERT_EQ(f.t_ms, 20);
    ASSERT_UEQ(f.offset, off);
    ASSERT_UEQ(f.end, off + 10);
    off += 10;
    ASSERT_EQ(mjr_reader_next(r, &f), 1);
    ASSERT_EQ(f.len, 5);
    ASSERT_EQ(f.t_ms, 40);
    ASSERT_MEMEQ(f.body, b.p + off + 10, 5);
    off += 15;
    ASSERT_EQ(mjr_reader_next(r, &f), 1);
    ASSERT_EQ(f.len, 12);
    ASSERT_UEQ(f.t_ms, 0xfffffff0u);
    ASSERT_EQ(rd_u16(f.body + 2), 2);
    ASSERT_EQ(rd_u32(f.body + 4), 960);
    ASSERT_UEQ(f.end, b.len);
    ASSERT_EQ(mjr_reader_next(r, &f), 0);
    ASSERT(!mjr_reader_truncated(r));
    ASSERT_STREQ(mjr_reader_diag(r), "");
    ASSERT_UEQ(mjr_reader_good_end(r), b.len);
    mjr_reader_destroy(r);
    free(b.p);
}

static void build_v2_data(struct vb_buf *b)
{
    mb_start(b, "MJR00002", "{\"t\": \"d\", \"c\": \"text\", \"s\": 5, \"u\": 6}");
    const char *msgs[] = {"hello", "", "a longer message"};
    for (int i = 0; i < 3; i++) {
        uint8_t body[64];
        wr_u64(body, 1700000000000000ull + (uint64_t)i);
        memcpy(body + 8, msgs[i], strlen(msgs[i]));
        mb_frame_v2(b, (uint32_t)i * 100, body, 8 + strlen(msgs[i]));
    }
}

static void test_v2_data_fields(void)
{
    struct vb_buf b;
    build_v2_data(&b);
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    ASSERT_EQ(mjr_reader_kind(r), MJR_KIND_DATA);
    ASSERT_STREQ(mjr_reader_codec(r), "text");
    const char *msgs[] = {"hello", "", "a longer message"};
    struct mjr_frame f;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(mjr_reader_next(r, &f), 1);
        ASSERT_EQ(f.data_real_us, 1700000000000000ll + i);
        ASSERT_EQ(f.len, strlen(msgs[i]));
        ASSERT_MEMEQ(f.body, msgs[i], f.len);
        ASSERT_EQ(f.t_ms, i * 100);
        ASSERT_UEQ(f.end - f.offset, 18 + f.len);
    }
    ASSERT_EQ(mjr_reader_next(r, &f), 0);
    ASSERT(!mjr_reader_truncated(r));
    mjr_reader_destroy(r);

    /* A data body too short for its time stamp ends the parse before it. */
    uint64_t good = b.len;
    mb_frame_v2(&b, 400, (const uint8_t *)"abc", 3);
    r = open_mem_ok(b.p, b.len);
    struct seen s[8];
    ASSERT_EQ(read_all(r, s, 8), 3);
    ASSERT(mjr_reader_truncated(r));
    ASSERT(strstr(mjr_reader_diag(r), "time stamp") != NULL);
    ASSERT_UEQ(mjr_reader_good_end(r), good);
    mjr_reader_destroy(r);
    free(b.p);
}

static void build_v1(struct vb_buf *b)
{
    mb_start(b, "MJR00001", "{\"t\": \"v\", \"c\": \"vp9\", \"s\": 7, \"u\": 8}");
    for (int i = 0; i < 4; i++) {
        uint8_t pkt[40];
        rtp_make(pkt, 20 + (size_t)i * 5, (uint16_t)(10 + i), (uint32_t)i * 3000, 42);
        mb_frame_v1(b, pkt, 20 + (size_t)i * 5);
    }
}

static void test_v1_fields(void)
{
    struct vb_buf b;
    build_v1(&b);
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    ASSERT_EQ(mjr_reader_version(r), MJR_VERSION_1);
    ASSERT_EQ(mjr_reader_kind(r), MJR_KIND_VIDEO);
    ASSERT_STREQ(mjr_reader_codec(r), "vp9");
    ASSERT_EQ(mjr_reader_created_us(r), 7);
    struct seen s[8];
    ASSERT_EQ(read_all(r, s, 8), 4);
    for (int i = 0; i < 4; i++) {
        ASSERT(!s[i].has_time);
        ASSERT_EQ(s[i].t_ms, 0);
        ASSERT_EQ(s[i].len, 20 + i * 5);
        ASSERT_EQ(s[i].seq, 10 + i);
        ASSERT_EQ(s[i].ts, i * 3000);
        ASSERT_EQ(s[i].ssrc, 42);
    }
    ASSERT(!mjr_reader_truncated(r));
    ASSERT_UEQ(mjr_reader_good_end(r), b.len);
    mjr_reader_destroy(r);
    free(b.p);
}

static void build_legacy(struct vb_buf *b, const char *word)
{
    mb_start(b, "MEETECHO", word);
    for (int i = 0; i < 3; i++) {
        uint8_t pkt[30];
        rtp_make(pkt, sizeof(pkt), (uint16_t)i, (uint32_t)i * 960, 9);
        mb_frame_v1(b, pkt, sizeof(pkt));
    }
}

static void test_legacy_fields(void)
{
    struct vb_buf b;
    build_legacy(&b, "video");
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    ASSERT_EQ(mjr_reader_version(r), MJR_VERSION_LEGACY);
    ASSERT_EQ(mjr_reader_kind(r), MJR_KIND_VIDEO);
    ASSERT_STREQ(mjr_reader_codec(r), "vp8");
    ASSERT(mjr_reader_header(r) == NULL);
    ASSERT_EQ(mjr_reader_header_len(r), 5);
    ASSERT_EQ(mjr_reader_created_us(r), 0);
    struct seen s[8];
    ASSERT_EQ(read_all(r, s, 8), 3);
    ASSERT_UEQ(s[0].offset, 15);
    ASSERT_EQ(s[2].ts, 1920);
    ASSERT(!mjr_reader_truncated(r));
    mjr_reader_destroy(r);
    free(b.p);

    build_legacy(&b, "audio");
    r = open_mem_ok(b.p, b.len);
    ASSERT_EQ(mjr_reader_kind(r), MJR_KIND_AUDIO);
    ASSERT_STREQ(mjr_reader_codec(r), "opus");
    ASSERT_EQ(read_all(r, s, 8), 3);
    mjr_reader_destroy(r);
    free(b.p);

    build_legacy(&b, "audi0");
    r = open_mem_ok(b.p, b.len);
    ASSERT(mjr_reader_codec(r) == NULL);
    ASSERT_EQ(read_all(r, s, 8), 0);
    ASSERT(mjr_reader_truncated(r));
    ASSERT_UEQ(mjr_reader_good_end(r), 8);
    mjr_reader_destroy(r);
    free(b.p);
}

/* ---- every truncation offset ------------------------------------------------------------ */

static void compare_file_reader(const uint8_t *buf, size_t n, struct mjr_reader *mem_r,
                                const struct seen *want, size_t nwant)
{
    char path[] = "/tmp/vb-test-reader-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    close(fd);
    spill(path, buf, n);
    struct mjr_reader *r = NULL;
    ASSERT_EQ(mjr_reader_open(path, &r, NULL, 0), 0);
    struct seen got[MAX_SEEN];
    ASSERT_EQ(read_all(r, got, MAX_SEEN), nwant);
    ASSERT_MEMEQ(got, want, nwant * sizeof(*got));
    ASSERT_EQ(mjr_reader_truncated(r), mjr_reader_truncated(mem_r));
    ASSERT_UEQ(mjr_reader_good_end(r), mjr_reader_good_end(mem_r));
    ASSERT_STREQ(mjr_reader_diag(r), mjr_reader_diag(mem_r));
    mjr_reader_destroy(r);
    unlink(path);
}

/* Cuts `buf` (a clean file) at every length and checks what the reader makes of each cut. */
static void sweep_cuts(const uint8_t *buf, size_t len)
{
    static struct seen all[MAX_SEEN], got[MAX_SEEN];
    struct mjr_reader *r = open_mem_ok(buf, len);
    uint64_t header_end = mjr_reader_good_end(r);
    size_t total = read_all(r, all, MAX_SEEN);
    ASSERT(!mjr_reader_truncated(r));
    ASSERT_UEQ(mjr_reader_good_end(r), len);
    mjr_reader_destroy(r);
    for (size_t n = 0; n <= len; n++) {
        char err[200] = "";
        r = NULL;
        int rc = mjr_reader_open_mem(buf, n, &r, err, sizeof(err));
        if (n < MJR_MAGIC_LEN) {
            ASSERT_EQ(rc, -EBADMSG);
            ASSERT(err[0] != '\0');
            continue;
        }
        ASSERT_EQ(rc, 0);
        size_t whole = 0;
        bool boundary = n == MJR_MAGIC_LEN || n == header_end;
        while (whole < total && all[whole].end <= n)
            whole++;
        if (whole && all[whole - 1].end == n)
            boundary = true;
        uint64_t good = n < header_end ? MJR_MAGIC_LEN : whole ? all[whole - 1].end : header_end;
        size_t nread = read_all(r, got, MAX_SEEN);
        if (nread != whole)
            TEST_FAIL_("cut at %zu: %zu frames, expected %zu", n, nread, whole);
        ASSERT_MEMEQ(got, all, whole * sizeof(*got));
        if (mjr_reader_truncated(r) != !boundary)
            TEST_FAIL_("cut at %zu: truncated=%d (%s)", n, mjr_reader_truncated(r),
                       mjr_reader_diag(r));
        ASSERT_UEQ(mjr_reader_good_end(r), good);
        ASSERT_EQ(mjr_reader_diag(r)[0] != '\0', !boundary);
        if (n < header_end && n > MJR_MAGIC_LEN) {
            ASSERT(mjr_reader_header(r) == NULL);
            ASSERT(mjr_reader_codec(r) == NULL);
        }
        if (n % 61 == 0 || n == len - 1)
            compare_file_reader(buf, n, r, got, nread);
        mjr_reader_destroy(r);
    }
}

static void test_cuts_synthetic(void)
{
    struct vb_buf b;
    mb_start(&b, "MJR00002", "{\"t\": \"a\", \"c\": \"opus\", \"s\": 1, \"u\": 2}");
    for (int i = 0; i < 6; i++) {
        uint8_t pkt[80];
        size_t n = i == 3 ? 0 : 12 + (size_t)i * 11;
        rtp_make(pkt, n < 12 ? 12 : n, (uint16_t)i, (uint32_t)i * 960, 5);
        mb_frame_v2(&b, (uint32_t)i * 20, pkt, n);
    }
    sweep_cuts(b.p, b.len);
    free(b.p);
    build_v2_data(&b);
    sweep_cuts(b.p, b.len);
    free(b.p);
    build_v1(&b);
    sweep_cuts(b.p, b.len);
    free(b.p);
    build_legacy(&b, "audio");
    sweep_cuts(b.p, b.len);
    free(b.p);
}

static void test_cuts_fixture(void)
{
    size_t len;
    uint8_t *buf = slurp(fixtures[3].path, &len);
    struct mjr_reader *r = open_mem_ok(buf, len);
    struct mjr_frame f;
    uint64_t base = 0;
    while (mjr_reader_next(r, &f) == 1 && f.end <= 4096)
        base = f.end;
    mjr_reader_destroy(r);
    ASSERT_GT(base, 2000);
    sweep_cuts(buf, (size_t)base);
    free(buf);
}

/* ---- other damage ----------------------------------------------------------------------- */

static void build_small_v2(struct vb_buf *b, int frames)
{
    mb_start(b, "MJR00002", "{\"t\": \"v\", \"c\": \"vp8\", \"s\": 1, \"u\": 2}");
    for (int i = 0; i < frames; i++) {
        uint8_t pkt[200];
        rtp_make(pkt, sizeof(pkt), (uint16_t)(i + 1), (uint32_t)i * 3000, 77);
        mb_frame_v2(b, (uint32_t)i * 33, pkt, sizeof(pkt));
    }
}

static void expect_end(const uint8_t *buf, size_t len, size_t frames, uint64_t good,
                       const char *diag_part)
{
    struct seen s[MAX_SEEN];
    struct mjr_reader *r = open_mem_ok(buf, len);
    ASSERT_EQ(read_all(r, s, MAX_SEEN), frames);
    ASSERT(mjr_reader_truncated(r));
    ASSERT_UEQ(mjr_reader_good_end(r), good);
    if (!strstr(mjr_reader_diag(r), diag_part))
        TEST_FAIL_("diag \"%s\" lacks \"%s\"", mjr_reader_diag(r), diag_part);
    mjr_reader_destroy(r);
}

static void test_trailing_zeros(void)
{
    struct vb_buf b;
    build_small_v2(&b, 5);
    uint64_t clean = b.len;
    uint8_t *zeros = xcalloc(1, 1 << 20);
    mb_put(&b, zeros, 1 << 20);
    expect_end(b.p, b.len, 5, clean, "zero bytes");
    expect_end(b.p, clean + 1, 5, clean, "zero bytes");
    expect_end(b.p, clean + 9, 5, clean, "zero bytes");

    /* A cut-off frame, then zeros: the declared length runs into the zeros, not out of the
     * file, so only the zeros at the end of it and after it tell it apart. A crash cuts where
     * a block or page ends: here frame 20 crosses 4096 and is cut there. */
    struct vb_buf c;
    build_small_v2(&c, 19);
    uint64_t clean19 = c.len;
    ASSERT(clean19 < 4096 && clean19 + 210 > 4096);
    uint8_t pkt[200];
    rtp_make(pkt, sizeof(pkt), 20, 57000, 77);
    mb_frame_v2(&c, 627, pkt, sizeof(pkt));
    c.len = 4096;
    mb_put(&c, zeros, 4096);
    expect_end(c.p, c.len, 19, clean19, "ends in zeros and only zero bytes follow");
    /* The same frame whole, ending in a few zero bytes, then padding (a tail block written
     * zero-padded before a crash): kept, since its zeros do not reach back to a boundary. */
    c.len = clean19;
    memset(pkt + 190, 0, 10);
    mb_frame_v2(&c, 627, pkt, sizeof(pkt));
    uint64_t whole20 = c.len;
    mb_put(&c, zeros, 4096);
    expect_end(c.p, c.len, 20, whole20, "zero bytes");
    free(c.p);
    /* A lone prefix then zeros reads as an empty frame followed by zeros: dropped too. */
    b.len = clean;
    mb_put(&b, "MEET", 4);
    mb_put(&b, zeros, 1000);
    expect_end(b.p, b.len, 5, clean, "ends in zeros and only zero bytes follow");
    /* A lone prefix at the very end of the file. */
    b.len = clean;
    mb_put(&b, "MEET", 4);
    expect_end(b.p, b.len, 5, clean, "frame prefix");
    /* A whole frame whose body ends in zero, at the end of the file: kept. */
    b.len = clean;
    pkt[199] = 0;
    mb_frame_v2(&b, 165, pkt, sizeof(pkt));
    struct seen s6[8];
    struct mjr_reader *r6 = open_mem_ok(b.p, b.len);
    ASSERT_EQ(read_all(r6, s6, 8), 6);
    ASSERT(!mjr_reader_truncated(r6));
    mjr_reader_destroy(r6);

    /* Zeros followed by something else are not padding. */
    b.len = clean;
    mb_put(&b, zeros, 100);
    mb_put(&b, "MEET", 4);
    expect_end(b.p, b.len, 5, clean, "followed by other data");

    /* Magic then zeros: no header, nothing to read. */
    b.len = 8;
    mb_put(&b, zeros, 5000);
    expect_end(b.p, b.len, 0, 8, "zero bytes");
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    ASSERT(mjr_reader_header(r) == NULL);
    ASSERT(mjr_reader_codec(r) == NULL);
    mjr_reader_destroy(r);
    free(zeros);
    free(b.p);
}

static void test_length_past_eof(void)
{
    struct vb_buf b;
    build_small_v2(&b, 4);
    uint64_t last = b.len - 210;
    wr_u16(b.p + last + 8, 60000);
    expect_end(b.p, b.len, 3, last, "declares a 60000-byte body");
    wr_u16(b.p + last + 8, 65535);
    expect_end(b.p, b.len, 3, last, "declares a 65535-byte body");
    /* The header's length past the end. */
    wr_u16(b.p + 8, 65535);
    expect_end(b.p, b.len, 0, 8, "header record");
    free(b.p);
}

static void test_bad_prefix(void)
{
    struct vb_buf b;
    build_small_v2(&b, 4);
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    uint64_t header_end = mjr_reader_good_end(r);
    mjr_reader_destroy(r);
    uint64_t at = header_end + 2 * 210;
    b.p[at + 3] = 'X';
    expect_end(b.p, b.len, 2, at, "not a \"MEET\" frame prefix");
    free(b.p);

    build_v1(&b);
    r = open_mem_ok(b.p, b.len);
    header_end = mjr_reader_good_end(r);
    mjr_reader_destroy(r);
    b.p[header_end + 7] = 'X'; /* "MEETECHX" */
    expect_end(b.p, b.len, 0, header_end, "not a \"MEETECHO\" frame prefix");
    free(b.p);
}

/* A header of exactly `hlen` bytes, then two frames. */
static void build_big_header(struct vb_buf *b, size_t hlen)
{
    const char *pre = "{\"t\": \"a\", \"c\": \"opus\", \"d\": \"";
    const char *post = "\", \"s\": 11, \"u\": 22}";
    char *h = xmalloc(hlen + 1);
    size_t pad = hlen - strlen(pre) - strlen(post);
    strcpy(h, pre);
    memset(h + strlen(pre), 'x', pad);
    strcpy(h + strlen(pre) + pad, post);
    ASSERT_EQ(strlen(h), hlen);
    mb_start(b, "MJR00002", h);
    free(h);
    uint8_t pkt[50];
    rtp_make(pkt, sizeof(pkt), 1, 0, 3);
    mb_frame_v2(b, 0, pkt, sizeof(pkt));
    mb_frame_v2(b, 20, pkt, sizeof(pkt));
}

static void test_big_headers(void)
{
    const size_t sizes[] = {1499, 1500, 4000, 65535};
    for (size_t i = 0; i < 4; i++) {
        struct vb_buf b;
        build_big_header(&b, sizes[i]);
        struct mjr_reader *r = open_mem_ok(b.p, b.len);
        ASSERT_EQ(mjr_reader_header_len(r), sizes[i]);
        ASSERT_STREQ(mjr_reader_codec(r), "opus");
        ASSERT_EQ(mjr_reader_first_frame_us(r), 22);
        struct seen s[4];
        ASSERT_EQ(read_all(r, s, 4), 2);
        ASSERT(!mjr_reader_truncated(r));
        bool warned = strstr(mjr_reader_diag(r), "janus-pp-rec refuses") != NULL;
        ASSERT_EQ(warned, sizes[i] >= MJR_PP_HEADER_LIMIT);
        mjr_reader_destroy(r);
        /* Damage after a big header keeps both sentences. */
        if (sizes[i] == 4000) {
            r = open_mem_ok(b.p, b.len - 1);
            ASSERT_EQ(read_all(r, s, 4), 1);
            ASSERT(mjr_reader_truncated(r));
            ASSERT(strstr(mjr_reader_diag(r), "declares") != NULL);
            ASSERT(strstr(mjr_reader_diag(r), "1500") != NULL);
            mjr_reader_destroy(r);
        }
        free(b.p);
    }
}

static void expect_bad_header(const char *magic, const char *hdr, bool keeps_json)
{
    struct vb_buf b;
    mb_start(&b, magic, hdr);
    uint8_t pkt[20];
    rtp_make(pkt, sizeof(pkt), 1, 0, 1);
    mb_frame_v2(&b, 0, pkt, sizeof(pkt));
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    ASSERT(mjr_reader_codec(r) == NULL);
    ASSERT_EQ(mjr_reader_header(r) != NULL, keeps_json);
    struct seen s[2];
    ASSERT_EQ(read_all(r, s, 2), 0);
    ASSERT(mjr_reader_truncated(r));
    ASSERT_UEQ(mjr_reader_good_end(r), 8);
    ASSERT(strlen(mjr_reader_diag(r)) > 10);
    mjr_reader_destroy(r);
    free(b.p);
}

static void test_bad_headers(void)
{
    expect_bad_header("MJR00002", "{\"t\": \"a\", \"c\": ", false);
    expect_bad_header("MJR00002", "[1, 2, 3]", false);
    expect_bad_header("MJR00002", "not json at all", false);
    expect_bad_header("MJR00002", "{\"c\": \"opus\"}", true);
    expect_bad_header("MJR00002", "{\"t\": \"q\", \"c\": \"opus\"}", true);
    expect_bad_header("MJR00002", "{\"t\": \"a\"}", true);
    expect_bad_header("MJR00001", "{\"t\": \"a\", \"c\": 5}", true);
    /* Cut inside the length field. */
    expect_end((const uint8_t *)"MJR00002\x01", 9, 0, 8, "length field");
}

static void test_bad_magic(void)
{
    const char *bad[] = {"MJR00003xxxxxxxxxx", "XXXXXXXXXXXXXXXX", "MEETECH0\x00\x05video",
                         "mjr00002\x00\x02{}"};
    for (size_t i = 0; i < 4; i++) {
        struct mjr_reader *r = NULL;
        char err[200] = "";
        ASSERT_EQ(mjr_reader_open_mem((const uint8_t *)bad[i], 12, &r, err, sizeof(err)), -EBADMSG);
        ASSERT(r == NULL);
        ASSERT(strstr(err, "not an MJR file") != NULL);
    }
    struct mjr_reader *r = NULL;
    char err[200] = "";
    ASSERT_EQ(mjr_reader_open_mem((const uint8_t *)"MJR0000", 7, &r, err, sizeof(err)), -EBADMSG);
    ASSERT(strstr(err, "7 bytes") != NULL);
    ASSERT_EQ(mjr_reader_open_mem(NULL, 0, &r, NULL, 0), -EBADMSG);
    ASSERT(r == NULL);
    ASSERT_EQ(mjr_reader_open("/nonexistent/vb/x.mjr", &r, err, sizeof(err)), -ENOENT);
    ASSERT(err[0] != '\0');

    /* Only the magic: a valid, empty recording. */
    ASSERT_EQ(mjr_reader_open_mem((const uint8_t *)"MJR00002", 8, &r, err, sizeof(err)), 0);
    struct mjr_frame f;
    ASSERT_EQ(mjr_reader_next(r, &f), 0);
    ASSERT(!mjr_reader_truncated(r));
    ASSERT_STREQ(mjr_reader_diag(r), "");
    ASSERT_UEQ(mjr_reader_good_end(r), 8);
    ASSERT(mjr_reader_codec(r) == NULL);
    mjr_reader_destroy(r);
    mjr_reader_destroy(NULL);
}

/* Frames of the maximum body size through the file reader's window. */
static void test_big_frames_file(void)
{
    struct vb_buf b;
    mb_start(&b, "MJR00002", "{\"t\": \"v\", \"c\": \"h264\", \"s\": 1, \"u\": 2}");
    uint8_t *pkt = xmalloc(MJR_FRAME_MAX);
    for (int i = 0; i < 7; i++) {
        size_t n = i % 2 ? MJR_FRAME_MAX : 1000 + (size_t)i;
        rtp_make(pkt, n, (uint16_t)i, (uint32_t)i, 1);
        mb_frame_v2(&b, (uint32_t)i, pkt, n);
    }
    free(pkt);
    struct seen want[8];
    struct mjr_reader *r = open_mem_ok(b.p, b.len);
    ASSERT_EQ(read_all(r, want, 8), 7);
    compare_file_reader(b.p, b.len, r, want, 7);
    mjr_reader_destroy(r);
    /* And cut inside the last big body (frame 5; frame 6 is 1,016 bytes). */
    r = open_mem_ok(b.p, b.len - 30000);
    ASSERT_EQ(read_all(r, want, 8), 5);
    ASSERT(mjr_reader_truncated(r));
    compare_file_reader(b.p, b.len - 30000, r, want, 5);
    mjr_reader_destroy(r);
    free(b.p);
}

static const struct test_case cases[] = {
    {"fixtures", test_fixtures},
    {"v2_audio_fields", test_v2_audio_fields},
    {"v2_data_fields", test_v2_data_fields},
    {"v1_fields", test_v1_fields},
    {"legacy_fields", test_legacy_fields},
    {"cuts_synthetic", test_cuts_synthetic},
    {"cuts_fixture", test_cuts_fixture},
    {"trailing_zeros", test_trailing_zeros},
    {"length_past_eof", test_length_past_eof},
    {"bad_prefix", test_bad_prefix},
    {"big_headers", test_big_headers},
    {"bad_headers", test_bad_headers},
    {"bad_magic", test_bad_magic},
    {"big_frames_file", test_big_frames_file},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
