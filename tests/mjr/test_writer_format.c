/* Tests of what the MJR writer puts in files: byte-identical copies of recordings made by
 * real Janus, golden files for the RTP rewrite (SSRC change, sequence wrap, pause/resume),
 * data frames, header rendering, and the empty recording. */
#include "tests/mjr/writer_util.h"

#include <dirent.h>

#define FIX_VP8 "/tests/fixtures/vp8-opus-1pub"
#define FIX_H264 "/tests/fixtures/h264-opus-1pub"

/* Compares `out` with tests/ref/mjr/<name> byte for byte (VB_UPDATE_GOLDEN=1 rewrites the
 * golden copy; review the diff of what the writer now produces before committing it). */
static void golden_check(const char *out, const char *name)
{
    char golden[600];
    snprintf(golden, sizeof(golden), "%s/tests/ref/mjr/%s", VB_SOURCE_DIR, name);
    size_t lg, lo;
    uint8_t *o_bytes = read_all(out, &lo);
    ASSERT(o_bytes != NULL);
    if (getenv("VB_UPDATE_GOLDEN")) {
        FILE *fp = fopen(golden, "wb");
        ASSERT(fp != NULL);
        ASSERT_EQ(fwrite(o_bytes, 1, lo, fp), lo);
        fclose(fp);
    }
    uint8_t *g = read_all(golden, &lg);
    ASSERT(g != NULL);
    ASSERT_EQ(lo, lg);
    ASSERT_MEMEQ(o_bytes, g, lg);
    free(g);
    free(o_bytes);
}

static struct mjr_engine *engine_new(struct script_clock *clk, struct vb_clock *vc)
{
    vc->mono_us = script_mono;
    vc->real_us = script_real;
    vc->ctx = clk;
    struct mjr_engine_config cfg = {.clock = vc};
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(&cfg, &e), 0);
    return e;
}

/* Rewrites one file recorded by real Janus through our writer, fed with the same packets at
 * the same times, and expects the very same bytes. */
static void refeed_and_compare(const char *fixture, const char *outdir)
{
    struct mjr_reader *r = NULL;
    char err[200];
    ASSERT_EQ(mjr_reader_open(fixture, &r, err, sizeof(err)), 0);
    ASSERT_EQ(mjr_reader_version(r), MJR_VERSION_2);
    struct script_clock clk = {.mono = 1000000, .real = mjr_reader_first_frame_us(r)};
    struct vb_clock vc;
    struct mjr_engine *e = engine_new(&clk, &vc);
    struct close_box box;
    close_box_init(&box);
    char out[600];
    snprintf(out, sizeof(out), "%s/%s", outdir, strrchr(fixture, '/') + 1);
    struct mjr_stream_opts o = {.path = out, .on_closed = close_box_cb, .ud = &box};
    o.info.kind = mjr_reader_kind(r);
    o.info.codec = mjr_reader_codec(r);
    o.info.created_us = mjr_reader_created_us(r);
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    struct mjr_frame f;
    int n = 0;
    while (mjr_reader_next(r, &f) == 1) {
        clk.mono = 1000000 + (int64_t)f.t_ms * 1000;
        ASSERT_EQ(mjr_stream_write_rtp(s, f.body, f.len), 0);
        n++;
    }
    ASSERT(!mjr_reader_truncated(r));
    ASSERT_GT(n, 100);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(box.count, 1);
    ASSERT_EQ(box.res.status, 0);
    ASSERT_EQ(box.res.frames, n);
    ASSERT_STREQ(box.res.path, out);
    size_t la, lb;
    uint8_t *a = read_all(fixture, &la);
    uint8_t *b = read_all(out, &lb);
    ASSERT(a && b);
    ASSERT_EQ(lb, la);
    ASSERT_MEMEQ(b, a, la);
    free(a);
    free(b);
    mjr_reader_destroy(r);
}

static void test_janus_fixtures_byte_identical(void)
{
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "fixture");
    const char *sets[] = {FIX_VP8, FIX_H264};
    int files = 0;
    for (int i = 0; i < 2; i++) {
        char path[600];
        snprintf(path, sizeof(path), "%s%s", VB_SOURCE_DIR, sets[i]);
        DIR *d = opendir(path);
        ASSERT(d != NULL);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l < 4 || strcmp(de->d_name + l - 4, ".mjr") != 0)
                continue;
            char file[900];
            snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
            refeed_and_compare(file, dir);
            files++;
        }
        closedir(d);
    }
    ASSERT_EQ(files, 4);
    rm_tree(dir);
}

struct expect_pkt {
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    uint32_t t_ms;
};

/* Feeds a VP8 stream through an SSRC change, a sequence wrap and a pause/resume, checks the
 * rewritten numbers one by one, then compares the file with the golden copy. */
static void test_rtp_rewrite_golden(void)
{
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "golden");
    struct script_clock clk = {.mono = 5000000, .real = 1700000000123456};
    struct vb_clock vc;
    struct mjr_engine *e = engine_new(&clk, &vc);
    char out[600];
    snprintf(out, sizeof(out), "%s/rewrite.mjr", dir);
    struct mjr_stream_opts o = {.path = out};
    o.info.kind = MJR_KIND_VIDEO;
    o.info.codec = "vp8";
    o.info.description = "camera";
    o.info.extmaps[1] = "urn:ietf:params:rtp-hdrext:sdes:mid";
    o.info.extmaps[13] = "urn:3gpp:video-orientation";
    o.info.created_us = 1700000000000001;
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    struct expect_pkt exp[64];
    int n = 0;
    uint8_t pkt[1500];
    /* 10 packets of SSRC A, 33 ms apart, source seq 1000.., ts 3000 + 2970 i. */
    for (int i = 0; i < 10; i++, n++) {
        clk.mono = 5000000 + i * 33000;
        size_t len =
            rtp_build(pkt, 96, 1, (uint16_t)(1000 + i), 3000 + 2970u * i, 0xAAAA, 100, (uint8_t)i);
        ASSERT_EQ(mjr_stream_write_rtp(s, pkt, len), 0);
        exp[n] = (struct expect_pkt){(uint16_t)(1 + i), 2970u * i, 0xAAAA, (uint32_t)i * 33};
    }
    /* SSRC B 40 ms later, its seq about to wrap: continues at seq 11, ts + 40 ms at 90 kHz. */
    for (int i = 0; i < 10; i++, n++) {
        clk.mono = 5000000 + 9 * 33000 + 40000 + i * 33000;
        size_t len = rtp_build(pkt, 96, 0, (uint16_t)(65530 + i), 777777 + 2970u * i, 0xBBBB, 200,
                               (uint8_t)(50 + i));
        ASSERT_EQ(mjr_stream_write_rtp(s, pkt, len), 0);
        exp[n] = (struct expect_pkt){(uint16_t)(11 + i), 2970u * 9 + 3600 + 2970u * i, 0xBBBB,
                                     (uint32_t)(9 * 33 + 40 + i * 33)};
    }
    /* Pause: frames are refused, not recorded, not counted as dropped. */
    mjr_stream_pause(s);
    ASSERT_EQ(mjr_stream_write_rtp(s, pkt, 40), -EPIPE);
    clk.mono += 1000000;
    mjr_stream_resume(s);
    uint32_t resume_ts = exp[n - 1].ts;
    /* 250 ms after the resume the source jumped far ahead: written ts = last + 250 ms. */
    clk.mono += 250000;
    for (int i = 0; i < 5; i++, n++) {
        size_t len = rtp_build(pkt, 96, 1, (uint16_t)(20000 + i), 9000000 + 2970u * i, 0xBBBB, 300,
                               (uint8_t)(90 + i));
        ASSERT_EQ(mjr_stream_write_rtp(s, pkt, len), 0);
        exp[n] = (struct expect_pkt){(uint16_t)(21 + i), resume_ts + 22500 + 2970u * i, 0xBBBB,
                                     (uint32_t)((clk.mono - 5000000) / 1000)};
        clk.mono += 33000;
    }
    struct mjr_stream_stats st;
    mjr_stream_stats_get(s, &st);
    ASSERT_EQ(st.frames, n);
    ASSERT_EQ(st.dropped, 0);
    mjr_stream_close(s);
    mjr_engine_destroy(e);

    struct mjr_reader *r = NULL;
    char err[200];
    ASSERT_EQ(mjr_reader_open(out, &r, err, sizeof(err)), 0);
    json_t *h = mjr_reader_header(r);
    ASSERT(h != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(h, "d")), "camera");
    ASSERT_EQ(json_integer_value(json_object_get(h, "u")), 1700000000123456);
    struct mjr_frame f;
    int i = 0;
    while (mjr_reader_next(r, &f) == 1) {
        ASSERT_LT(i, n);
        ASSERT_EQ(rd_u16(f.body + 2), exp[i].seq);
        ASSERT_EQ(rd_u32(f.body + 4), exp[i].ts);
        ASSERT_EQ(rd_u32(f.body + 8), exp[i].ssrc);
        ASSERT_EQ(f.t_ms, exp[i].t_ms);
        i++;
    }
    ASSERT_EQ(i, n);
    ASSERT(!mjr_reader_truncated(r));
    mjr_reader_destroy(r);

    golden_check(out, "rewrite-vp8.mjr");
    rm_tree(dir);
}

/* Data recordings: each body is an 8-byte wall-clock stamp plus the message. */
static void test_data_golden(void)
{
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "data");
    struct script_clock clk = {.mono = 1000, .real = 1600000000000000};
    struct vb_clock vc;
    struct mjr_engine *e = engine_new(&clk, &vc);
    char out[600];
    snprintf(out, sizeof(out), "%s/data.mjr", dir);
    struct mjr_stream_opts o = {.path = out};
    o.info.kind = MJR_KIND_DATA;
    o.info.codec = "text";
    o.info.created_us = 1599999999000000;
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    const char *msgs[] = {"hello", "", "a longer message with ünïcödé"};
    for (int i = 0; i < 3; i++) {
        clk.mono = 1000 + i * 1500000;
        clk.real = 1600000000000000 + i * 1500000;
        ASSERT_EQ(mjr_stream_write_data(s, (const uint8_t *)msgs[i], strlen(msgs[i])), 0);
    }
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    struct mjr_reader *r = NULL;
    ASSERT_EQ(mjr_reader_open(out, &r, NULL, 0), 0);
    ASSERT_EQ(mjr_reader_kind(r), MJR_KIND_DATA);
    struct mjr_frame f;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(mjr_reader_next(r, &f), 1);
        ASSERT_EQ(f.len, strlen(msgs[i]));
        ASSERT_MEMEQ(f.body, msgs[i], f.len);
        ASSERT_EQ(f.data_real_us, 1600000000000000 + i * 1500000);
        ASSERT_EQ(f.t_ms, i * 1500);
    }
    ASSERT_EQ(mjr_reader_next(r, &f), 0);
    mjr_reader_destroy(r);
    golden_check(out, "data-text.mjr");
    rm_tree(dir);
}

static void test_header_render(void)
{
    struct mjr_info info = {.kind = MJR_KIND_AUDIO, .codec = "opus"};
    char *t = mjr_header_render(&info, 11, 22);
    ASSERT_STREQ(t, "{\"t\": \"a\", \"c\": \"opus\", \"s\": 11, \"u\": 22}");
    free(t);
    info.fmtp = "minptime=10";
    info.description = "mic";
    info.extmaps[2] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    info.extmaps[10] = "x";
    info.opusred_pt = 120;
    info.e2ee = true;
    t = mjr_header_render(&info, 1, 2);
    ASSERT_STREQ(t,
                 "{\"t\": \"a\", \"c\": \"opus\", \"f\": \"minptime=10\", \"d\": \"mic\", \"x\": "
                 "{\"2\": \"urn:ietf:params:rtp-hdrext:ssrc-audio-level\", \"10\": \"x\"}, "
                 "\"s\": 1, \"u\": 2, \"or\": 120, \"e\": true}");
    free(t);
}

/* A stream that never got a packet leaves just the magic, as Janus does. */
static void test_empty_recording(void)
{
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "empty");
    char out[600];
    snprintf(out, sizeof(out), "%s/empty.mjr", dir);
    struct close_box box;
    record_nothing(out, &box);
    ASSERT_EQ(box.res.status, 0);
    size_t len;
    uint8_t *b = read_all(out, &len);
    ASSERT_EQ(len, 8);
    ASSERT_MEMEQ(b, "MJR00002", 8);
    free(b);
    rm_tree(dir);
}

static void test_bad_input(void)
{
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(NULL, &e), 0);
    struct mjr_stream *s = NULL;
    struct mjr_stream_opts o = {.path = "/nonexistent-dir-vb/x.mjr"};
    o.info.kind = MJR_KIND_AUDIO;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), -EINVAL); /* no codec */
    o.info.codec = "opus";
    o.info.kind = (enum mjr_kind)42;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), -EINVAL);
    o.info.kind = MJR_KIND_AUDIO;
    static char huge[70000];
    memset(huge, 'd', sizeof(huge) - 1);
    o.info.description = huge; /* the header would not fit its u16 length */
    ASSERT_EQ(mjr_stream_open(e, &o, &s), -EMSGSIZE);
    o.info.description = NULL;
    struct close_box box;
    close_box_init(&box);
    o.on_closed = close_box_cb;
    o.ud = &box;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    uint8_t pkt[2000];
    ASSERT_EQ(mjr_stream_write_rtp(s, pkt, 5), -EINVAL); /* shorter than an RTP header */
    size_t len = rtp_build(pkt, 111, 0, 1, 1, 1, 10, 0);
    pkt[0] = 0x40; /* RTP version 1 */
    ASSERT_EQ(mjr_stream_write_rtp(s, pkt, len), -EINVAL);
    struct mjr_stream_stats st;
    mjr_stream_stats_get(s, &st);
    ASSERT_EQ(st.dropped, 2);
    ASSERT_EQ(st.frames, 0);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    ASSERT_EQ(box.count, 1);
    ASSERT_EQ(box.res.status, -ENOENT); /* the directory does not exist */
}

/* A header of 1,500 bytes or more is written (janus-pp-rec would refuse it; we read it). */
static void test_big_header_written(void)
{
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "bighdr");
    struct mjr_engine *e = NULL;
    ASSERT_EQ(mjr_engine_create(NULL, &e), 0);
    char out[600];
    snprintf(out, sizeof(out), "%s/big.mjr", dir);
    static char desc[3001];
    memset(desc, 'x', sizeof(desc) - 1);
    struct mjr_stream_opts o = {.path = out};
    o.info.kind = MJR_KIND_AUDIO;
    o.info.codec = "opus";
    o.info.description = desc;
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    uint8_t pkt[200];
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(
            mjr_stream_write_rtp(s, pkt, rtp_build(pkt, 111, 0, (uint16_t)i, 960u * i, 9, 100, 0)),
            0);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    struct mjr_reader *r = NULL;
    ASSERT_EQ(mjr_reader_open(out, &r, NULL, 0), 0);
    ASSERT_GT(mjr_reader_header_len(r), 3000);
    ASSERT_EQ(strlen(json_string_value(json_object_get(mjr_reader_header(r), "d"))), 3000);
    struct mjr_frame f;
    int n = 0;
    while (mjr_reader_next(r, &f) == 1)
        n++;
    ASSERT_EQ(n, 5);
    mjr_reader_destroy(r);
    rm_tree(dir);
}

/* The header is rendered at open with a placeholder for "u"; a description that spells out
 * the same text must neither move nor corrupt it. */
static void test_header_u_placeholder_is_unambiguous(void)
{
    char dir[512];
    make_tmpdir(dir, sizeof(dir), "/var/tmp", "uhdr");
    struct script_clock clk = {.mono = 1000, .real = 1234567};
    struct vb_clock vc;
    struct mjr_engine *e = engine_new(&clk, &vc);
    char out[600];
    snprintf(out, sizeof(out), "%s/u.mjr", dir);
    const char *tricky = "a, \"u\": -9223372036854775808 b";
    struct mjr_stream_opts o = {.path = out};
    o.info.kind = MJR_KIND_AUDIO;
    o.info.codec = "opus";
    o.info.description = tricky;
    o.info.created_us = 42;
    struct mjr_stream *s = NULL;
    ASSERT_EQ(mjr_stream_open(e, &o, &s), 0);
    uint8_t pkt[200];
    ASSERT_EQ(mjr_stream_write_rtp(s, pkt, rtp_build(pkt, 111, 0, 1, 0, 9, 50, 0)), 0);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    struct mjr_reader *r = NULL;
    ASSERT_EQ(mjr_reader_open(out, &r, NULL, 0), 0);
    json_t *h = mjr_reader_header(r);
    ASSERT(h != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(h, "d")), tricky);
    ASSERT_EQ(json_integer_value(json_object_get(h, "s")), 42);
    ASSERT_EQ(json_integer_value(json_object_get(h, "u")), 1234567);
    char *want = mjr_header_render(&o.info, 42, 1234567);
    ASSERT_EQ(mjr_reader_header_len(r), strlen(want));
    free(want);
    mjr_reader_destroy(r);
    rm_tree(dir);
}

static void test_rebase_math(void)
{
    struct mjr_rebase rb = {.clock_rate = 8000};
    uint16_t seq;
    uint32_t ts;
    mjr_rebase_apply(&rb, 7, 65535, 0xFFFFFF00u, 0, &seq, &ts);
    ASSERT_EQ(seq, 1);
    ASSERT_EQ(ts, 0);
    mjr_rebase_apply(&rb, 7, 0, 0xFFFFFF00u + 160, 20000, &seq, &ts); /* both wrap */
    ASSERT_EQ(seq, 2);
    ASSERT_EQ(ts, 160);
    mjr_rebase_apply(&rb, 9, 4000, 5, 20000, &seq, &ts); /* same instant: at least 1 tick */
    ASSERT_EQ(seq, 3);
    ASSERT_EQ(ts, 161);
    mjr_rebase_apply(&rb, 9, 4001, 165, 40000, &seq, &ts);
    ASSERT_EQ(seq, 4);
    ASSERT_EQ(ts, 321);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"header_render", test_header_render},
        {"rebase_math", test_rebase_math},
        {"janus_fixtures_byte_identical", test_janus_fixtures_byte_identical},
        {"rtp_rewrite_golden", test_rtp_rewrite_golden},
        {"data_golden", test_data_golden},
        {"empty_recording", test_empty_recording},
        {"bad_input", test_bad_input},
        {"big_header_written", test_big_header_written},
        {"header_u_placeholder_is_unambiguous", test_header_u_placeholder_is_unambiguous},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
