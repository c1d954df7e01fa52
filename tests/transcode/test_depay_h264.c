/* This file implements the tests of the H.264 depacketizer (transcode/h264.c, nal.c):
 * hand-built RTP payloads for every packetization mode, broken fragment runs and overrunning
 * aggregation sizes, every truncation of every packet, SPS resolution parsing on SPS written
 * bit by bit here and on SPS produced by libx264, and a real H.264 recording made by Janus. */
#include "tests/transcode/depay_h26x_util.h"

/* ---- H.264 SPS builder ------------------------------------------------------------------ */

struct sps264 {
    unsigned profile, chroma, separate, scaling, poc_type;
    unsigned w_mbs, h_units, frame_mbs_only;
    unsigned crop[4]; /* left right top bottom; all 0 = no cropping */
};

static void sps264_scaling(struct bw *w, unsigned chroma)
{
    unsigned lists = chroma == 3 ? 12 : 8;
    for (unsigned i = 0; i < lists; i++) {
        unsigned present = i % 2 == 0;
        bw_u(w, present, 1);
        if (!present)
            continue;
        if (i == 6) {
            bw_se(w, -8); /* nextScale 0 at once: the default matrix, one delta only */
            continue;
        }
        for (unsigned j = 0; j < (i < 6 ? 16u : 64u); j++)
            bw_se(w, j % 2 ? -1 : 1);
    }
}

static size_t sps264_build(const struct sps264 *s, uint8_t *nal)
{
    struct bw w = {0};
    bw_u(&w, s->profile, 8);
    bw_u(&w, 0, 8);  /* constraint flags */
    bw_u(&w, 40, 8); /* level */
    bw_ue(&w, 0);
    if (s->profile == 100 || s->profile == 244) {
        bw_ue(&w, s->chroma);
        if (s->chroma == 3)
            bw_u(&w, s->separate, 1);
        bw_ue(&w, 0);
        bw_ue(&w, 0);
        bw_u(&w, 0, 1);
        bw_u(&w, s->scaling, 1);
        if (s->scaling)
            sps264_scaling(&w, s->chroma);
    }
    bw_ue(&w, 0); /* log2_max_frame_num_minus4 */
    bw_ue(&w, s->poc_type);
    if (s->poc_type == 0) {
        bw_ue(&w, 2);
    } else if (s->poc_type == 1) {
        bw_u(&w, 0, 1);
        bw_se(&w, -3);
        bw_se(&w, 5);
        bw_ue(&w, 3);
        bw_se(&w, 1);
        bw_se(&w, -2);
        bw_se(&w, 7);
    }
    bw_ue(&w, 4);
    bw_u(&w, 0, 1);
    bw_ue(&w, s->w_mbs - 1);
    bw_ue(&w, s->h_units - 1);
    bw_u(&w, s->frame_mbs_only, 1);
    if (!s->frame_mbs_only)
        bw_u(&w, 1, 1);
    bw_u(&w, 1, 1);
    unsigned cropping = s->crop[0] | s->crop[1] | s->crop[2] | s->crop[3];
    bw_u(&w, cropping != 0, 1);
    for (unsigned i = 0; cropping && i < 4; i++)
        bw_ue(&w, s->crop[i]);
    bw_u(&w, 0, 1); /* vui_parameters_present_flag */
    static const uint8_t hdr = 0x67;
    return bw_nal(&w, &hdr, 1, nal);
}

/* Sends `sps` alone and returns the size the depacketizer read (0x0 if it refused it). */
static void h264_sps_size(const uint8_t *sps, size_t len, int *width, int *height)
{
    struct run r;
    run_open(&r, "h264");
    run_one(&r, sps, len);
    ASSERT_EQ(r.rc, 0);
    *width = r.fi.width;
    *height = r.fi.height;
    if (*width == 0)
        ASSERT(r.fi.damaged);
    run_close(&r);
}

static void check_sps264(const struct sps264 *s, int width, int height)
{
    uint8_t nal[512];
    size_t len = sps264_build(s, nal);
    int w, h;
    h264_sps_size(nal, len, &w, &h);
    ASSERT_EQ(w, width);
    ASSERT_EQ(h, height);
    /* Every truncation is refused or still reads the same size (the cut is after it). */
    for (size_t cut = 1; cut < len; cut++) {
        h264_sps_size(nal, cut, &w, &h);
        ASSERT(w == 0 || (w == width && h == height));
    }
}

/* ---- H.264 tests ------------------------------------------------------------------------ */

/* Real parameter sets from libx264 (1920x1080, yuv420p, High profile, cropped from 1088). */
static const uint8_t x264_sps_1080[] = {0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02,
                                        0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04,
                                        0x00, 0x00, 0x03, 0x00, 0x78, 0x3c, 0x60, 0xc6, 0x58};
static const uint8_t x264_pps[] = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
static const uint8_t idr_nal[] = {0x65, 0x88, 0x84, 0x00, 0x21, 0xff, 0xfe, 0xf6, 0x1b, 0x7c,
                                  0x00, 0x00, 0x03, 0x01, 0x42, 0x5a, 0x99, 0x0e, 0x12, 0x34,
                                  0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44,
                                  0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

static void test_h264_single_nal(void)
{
    static const uint8_t slice[] = {0x41, 0x9a, 0x02, 0x04, 0x08};
    static const uint8_t want[] = {0, 0, 0, 1, 0x41, 0x9a, 0x02, 0x04, 0x08};
    struct run r;
    run_open(&r, "H264");
    run_one(&r, slice, sizeof(slice));
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.out.len, sizeof(want));
    ASSERT_MEMEQ(r.out.p, want, sizeof(want));
    ASSERT(!r.fi.key && !r.fi.damaged);
    ASSERT_EQ(r.fi.width, 0);
    uint8_t x[16];
    ASSERT_EQ(run_extradata(&r, x, sizeof(x)), 0);
    run_close(&r);
}

static void test_h264_stap_a(void)
{
    const uint8_t *u[] = {x264_sps_1080, x264_pps, idr_nal};
    size_t ul[] = {sizeof(x264_sps_1080), sizeof(x264_pps), sizeof(idr_nal)};
    uint8_t pkt[256];
    static const uint8_t stap_hdr = 0x78; /* NRI 3, type 24 */
    size_t len = agg_build(pkt, &stap_hdr, 1, u, ul, 3);
    static const uint8_t want_x[] = {
        0,    0,    0,    1,    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27,
        0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0x78, 0x3c,
        0x60, 0xc6, 0x58, 0,    0,    0,    1,    0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
    struct run r;
    run_open(&r, "h264");
    run_one(&r, pkt, len);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.key && !r.fi.damaged);
    ASSERT_EQ(r.fi.width, 1920);
    ASSERT_EQ(r.fi.height, 1080);
    ASSERT_EQ(r.out.len, sizeof(want_x) + 4 + sizeof(idr_nal));
    ASSERT_MEMEQ(r.out.p, want_x, sizeof(want_x));
    ASSERT_MEMEQ(r.out.p + sizeof(want_x), "\0\0\0\1", 4);
    ASSERT_MEMEQ(r.out.p + sizeof(want_x) + 4, idr_nal, sizeof(idr_nal));
    uint8_t x[128];
    ASSERT_EQ(run_extradata(&r, x, sizeof(x)), sizeof(want_x));
    ASSERT_MEMEQ(x, want_x, sizeof(want_x));
    /* A later frame without an SPS reports no size and keeps the extradata. */
    run_one(&r, idr_nal, sizeof(idr_nal));
    ASSERT(r.fi.key);
    ASSERT_EQ(r.fi.width, 0);
    ASSERT_EQ(run_extradata(&r, x, sizeof(x)), sizeof(want_x));
    run_close(&r);
}

/* Splits `nal` into `n` FU-A payloads of about equal size; returns them in p/len. */
static void fu_a_split(const uint8_t *nal, size_t nal_len, size_t n, uint8_t (*buf)[64],
                       const uint8_t **p, size_t *len)
{
    size_t body = nal_len - 1, step = (body + n - 1) / n;
    for (size_t i = 0; i < n; i++) {
        size_t off = 1 + i * step, cnt = i + 1 < n ? step : nal_len - off;
        buf[i][0] = (uint8_t)((nal[0] & 0xe0) | 28);
        buf[i][1] = (uint8_t)((i == 0 ? 0x80 : 0) | (i + 1 == n ? 0x40 : 0) | (nal[0] & 0x1f));
        memcpy(buf[i] + 2, nal + off, cnt);
        p[i] = buf[i];
        len[i] = 2 + cnt;
    }
}

static void test_h264_fu_a(void)
{
    uint8_t buf[3][64];
    const uint8_t *p[3];
    size_t len[3];
    fu_a_split(idr_nal, sizeof(idr_nal), 3, buf, p, len);
    struct run r;
    run_open(&r, "h264");
    run_frame(&r, p, len, 3, 7);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.key && !r.fi.damaged);
    ASSERT_EQ(r.out.len, 4 + sizeof(idr_nal));
    ASSERT_MEMEQ(r.out.p, "\0\0\0\1", 4);
    ASSERT_MEMEQ(r.out.p + 4, idr_nal, sizeof(idr_nal));
    run_close(&r);
}

static void test_h264_fu_a_broken(void)
{
    static const uint8_t aud[] = {0x09, 0xf0};
    uint8_t buf[3][64];
    const uint8_t *p[4];
    size_t len[4];
    fu_a_split(idr_nal, sizeof(idr_nal), 3, buf, p + 1, len + 1);
    p[0] = aud;
    len[0] = sizeof(aud);
    struct run r;
    run_open(&r, "h264");
    /* Middle fragment lost: AUD, FU start (seq 1), FU end (seq 3). */
    struct tc_rtp pk[3] = {{.payload = p[0], .len = len[0], .seq = 0},
                           {.payload = p[1], .len = len[1], .seq = 1},
                           {.payload = p[3], .len = len[3], .seq = 3}};
    memset(&r.fi, 0, sizeof(r.fi));
    ASSERT_EQ(r.d->ops->frame(r.d->state, pk, 3, &r.out, &r.fi), 0);
    ASSERT(r.fi.damaged);
    ASSERT_EQ(r.out.len, 4 + sizeof(aud)); /* the partial IDR is absent */
    ASSERT_MEMEQ(r.out.p + 4, aud, sizeof(aud));
    /* The fragments alone: nothing usable. */
    run_frame(&r, p + 1, len + 1, 1, 50); /* start, never ended */
    ASSERT_EQ(r.rc, -EBADMSG);
    ASSERT(r.fi.damaged);
    run_frame(&r, p + 2, len + 2, 2, 50); /* start lost */
    ASSERT_EQ(r.rc, -EBADMSG);
    ASSERT(r.fi.damaged);
    /* A single NAL unit inside a run breaks it; the NAL unit itself survives. */
    const uint8_t *q[4] = {p[1], p[2], aud, p[3]};
    size_t ql[4] = {len[1], len[2], sizeof(aud), len[3]};
    run_frame(&r, q, ql, 4, 10);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.damaged && !r.fi.key);
    ASSERT_EQ(r.out.len, 4 + sizeof(aud));
    /* A new start before the end: the first run is dropped, the second kept. */
    const uint8_t *s[4] = {p[1], p[1], p[2], p[3]};
    size_t sl[4] = {len[1], len[1], len[2], len[3]};
    run_frame(&r, s, sl, 4, 10);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.damaged && r.fi.key);
    ASSERT_EQ(r.out.len, 4 + sizeof(idr_nal));
    ASSERT_MEMEQ(r.out.p + 4, idr_nal, sizeof(idr_nal));
    run_close(&r);
}

static void test_h264_stap_a_overrun(void)
{
    static const uint8_t aud[] = {0x09, 0xf0};
    uint8_t pkt[32] = {0x18};
    size_t len = 1;
    wr_u16(pkt + len, sizeof(aud));
    memcpy(pkt + len + 2, aud, sizeof(aud));
    len += 2 + sizeof(aud);
    wr_u16(pkt + len, 200); /* more than is left */
    memcpy(pkt + len + 2, idr_nal, 10);
    len += 12;
    struct run r;
    run_open(&r, "h264");
    run_one(&r, pkt, len);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.damaged && !r.fi.key);
    ASSERT_EQ(r.out.len, 4 + sizeof(aud));
    pkt[2] = 0; /* first size 0 */
    pkt[1] = 0;
    run_one(&r, pkt, len);
    ASSERT_EQ(r.rc, -EBADMSG);
    ASSERT(r.fi.damaged);
    run_one(&r, pkt, 1); /* no unit at all */
    ASSERT_EQ(r.rc, -EBADMSG);
    ASSERT(r.fi.damaged);
    run_close(&r);
}

static void test_h264_skipped_types(void)
{
    static const uint8_t types[] = {0, 25, 26, 27, 29, 30, 31};
    struct run r;
    run_open(&r, "h264");
    for (size_t i = 0; i < sizeof(types); i++) {
        uint8_t pkt[8] = {(uint8_t)(0x60 | types[i]), 0x80 | 5, 1, 2, 3, 4, 5, 6};
        run_one(&r, pkt, sizeof(pkt));
        ASSERT_EQ(r.rc, -EBADMSG);
        ASSERT(r.fi.damaged && !r.fi.key);
    }
    uint8_t forbidden[] = {0xe5, 1, 2, 3}; /* F bit set */
    run_one(&r, forbidden, sizeof(forbidden));
    ASSERT_EQ(r.rc, -EBADMSG);
    ASSERT(r.fi.damaged);
    run_close(&r);
}

static void test_h264_sps_built(void)
{
    /* 1280x720 Constrained Baseline, no cropping. */
    check_sps264(
        &(struct sps264){
            .profile = 66, .poc_type = 2, .w_mbs = 80, .h_units = 45, .frame_mbs_only = 1},
        1280, 720);
    /* 1920x1080 High: scaling lists, 1088 cropped by 4 chroma rows. */
    check_sps264(&(struct sps264){.profile = 100,
                                  .chroma = 1,
                                  .scaling = 1,
                                  .w_mbs = 120,
                                  .h_units = 68,
                                  .frame_mbs_only = 1,
                                  .crop = {0, 0, 0, 4}},
                 1920, 1080);
    /* 1920x1080 interlaced (field pairs: crop unit 4 rows), POC type 1. */
    check_sps264(&(struct sps264){.profile = 100,
                                  .chroma = 1,
                                  .poc_type = 1,
                                  .w_mbs = 120,
                                  .h_units = 34,
                                  .frame_mbs_only = 0,
                                  .crop = {0, 0, 0, 2}},
                 1920, 1080);
    /* High 4:4:4 with 12 scaling lists: crop unit 1x1. */
    check_sps264(&(struct sps264){.profile = 244,
                                  .chroma = 3,
                                  .scaling = 1,
                                  .w_mbs = 20,
                                  .h_units = 15,
                                  .frame_mbs_only = 1,
                                  .crop = {1, 3, 2, 5}},
                 316, 233);
    /* 4:2:2: crop unit 2x1; separate colour planes: 1x1; monochrome: 1x1. */
    check_sps264(&(struct sps264){.profile = 100,
                                  .chroma = 2,
                                  .w_mbs = 20,
                                  .h_units = 15,
                                  .frame_mbs_only = 1,
                                  .crop = {1, 1, 1, 1}},
                 316, 238);
    check_sps264(&(struct sps264){.profile = 244,
                                  .chroma = 3,
                                  .separate = 1,
                                  .w_mbs = 20,
                                  .h_units = 15,
                                  .frame_mbs_only = 1,
                                  .crop = {1, 1, 1, 1}},
                 318, 238);
    check_sps264(&(struct sps264){.profile = 100,
                                  .chroma = 0,
                                  .w_mbs = 20,
                                  .h_units = 15,
                                  .frame_mbs_only = 1,
                                  .crop = {0, 1, 0, 1}},
                 319, 239);
    /* Cropping everything away is malformed. */
    uint8_t nal[512];
    size_t len = sps264_build(
        &(struct sps264){
            .profile = 66, .w_mbs = 1, .h_units = 1, .frame_mbs_only = 1, .crop = {4, 4, 0, 0}},
        nal);
    int w, h;
    h264_sps_size(nal, len, &w, &h);
    ASSERT_EQ(w, 0);
}

static void test_h264_sps_real(void)
{
    /* libx264 320x240 High 4:4:4 Predictive (testsrc is RGB), and 1920x1080 4:4:4. */
    static const uint8_t sps_240_444[] = {0x67, 0xf4, 0x00, 0x0c, 0x91, 0x9b, 0x28, 0x28, 0x3f,
                                          0x60, 0x22, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00,
                                          0x03, 0x00, 0x3c, 0x1e, 0x28, 0x53, 0x2c};
    static const uint8_t sps_1080_444[] = {
        0x67, 0xf4, 0x00, 0x28, 0x91, 0x9b, 0x28, 0x0f, 0x00, 0x44, 0xfc, 0x4e, 0x02, 0x20,
        0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x03, 0x03, 0xc1, 0xe3, 0x06, 0x32, 0xc0};
    int w, h;
    h264_sps_size(sps_240_444, sizeof(sps_240_444), &w, &h);
    ASSERT_EQ(w, 320);
    ASSERT_EQ(h, 240);
    h264_sps_size(sps_1080_444, sizeof(sps_1080_444), &w, &h);
    ASSERT_EQ(w, 1920);
    ASSERT_EQ(h, 1080);
    h264_sps_size(x264_sps_1080, sizeof(x264_sps_1080), &w, &h);
    ASSERT_EQ(w, 1920);
    ASSERT_EQ(h, 1080);
}

static void test_h264_parameter_sets(void)
{
    struct run r;
    run_open(&r, "h264");
    uint8_t x[256];
    run_one(&r, x264_sps_1080, sizeof(x264_sps_1080));
    ASSERT_EQ(run_extradata(&r, x, sizeof(x)), 0); /* no PPS yet */
    /* A malformed SPS is output but not kept. */
    run_one(&r, x264_sps_1080, 6);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.damaged);
    ASSERT_EQ(r.fi.width, 0);
    run_one(&r, x264_pps, sizeof(x264_pps));
    size_t n = run_extradata(&r, x, sizeof(x));
    ASSERT_EQ(n, 8 + sizeof(x264_sps_1080) + sizeof(x264_pps));
    ASSERT_MEMEQ(x + 4, x264_sps_1080, sizeof(x264_sps_1080));
    /* The latest SPS replaces the previous one. */
    uint8_t sps[512];
    size_t len = sps264_build(
        &(struct sps264){
            .profile = 66, .poc_type = 2, .w_mbs = 80, .h_units = 45, .frame_mbs_only = 1},
        sps);
    run_one(&r, sps, len);
    ASSERT_EQ(r.fi.width, 1280);
    n = run_extradata(&r, x, sizeof(x));
    ASSERT_EQ(n, 8 + len + sizeof(x264_pps));
    ASSERT_MEMEQ(x + 4, sps, len);
    ASSERT_MEMEQ(x + 8 + len, x264_pps, sizeof(x264_pps));
    /* An output buffer too small: -E2BIG from frame() and extradata(), nothing appended. */
    struct vb_buf small;
    vb_buf_init(&small, 10);
    struct tc_rtp pkt = {.payload = idr_nal, .len = sizeof(idr_nal), .seq = 1};
    struct tc_frame_info fi = {0};
    ASSERT_EQ(r.d->ops->frame(r.d->state, &pkt, 1, &small, &fi), -E2BIG);
    ASSERT_EQ(r.d->ops->extradata(r.d->state, &small), -E2BIG);
    ASSERT_EQ(small.len, 0);
    vb_buf_free(&small);
    run_close(&r);
}

static void test_h264_truncations(void)
{
    uint8_t stap[256], fu[3][64], sps[512];
    const uint8_t *u[] = {x264_sps_1080, x264_pps, idr_nal};
    size_t ul[] = {sizeof(x264_sps_1080), sizeof(x264_pps), sizeof(idr_nal)};
    static const uint8_t stap_hdr = 0x18;
    const uint8_t *p[7];
    size_t len[7];
    p[0] = stap;
    len[0] = agg_build(stap, &stap_hdr, 1, u, ul, 3);
    fu_a_split(idr_nal, sizeof(idr_nal), 3, fu, p + 1, len + 1);
    p[4] = sps;
    len[4] = sps264_build(&(struct sps264){.profile = 100,
                                           .chroma = 1,
                                           .scaling = 1,
                                           .poc_type = 1,
                                           .w_mbs = 120,
                                           .h_units = 68,
                                           .frame_mbs_only = 1,
                                           .crop = {0, 0, 0, 4}},
                          sps);
    p[5] = idr_nal;
    len[5] = sizeof(idr_nal);
    p[6] = x264_sps_1080;
    len[6] = sizeof(x264_sps_1080);
    truncate_all("h264", p, len, 7);
}

/* ---- shared helpers --------------------------------------------------------------------- */

static void test_nal_helpers(void)
{
    static const uint8_t in[] = {0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00,
                                 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x03};
    static const uint8_t want[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x03, 0x00, 0x00};
    uint8_t o[32];
    ASSERT_EQ(tc_nal_unescape(in, sizeof(in), o, sizeof(o)), sizeof(want));
    ASSERT_MEMEQ(o, want, sizeof(want));
    ASSERT_EQ(tc_nal_unescape(in, sizeof(in), o, 3), 3);
    static const uint8_t agg[] = {0x00, 0x01, 0xaa, 0x00, 0x02, 0xbb, 0xcc, 0x00, 0x05, 0xdd};
    struct tc_nal_agg it = {.p = agg, .left = sizeof(agg)};
    const uint8_t *nal;
    size_t len;
    ASSERT_EQ(tc_nal_agg_next(&it, &nal, &len), 1);
    ASSERT(nal == agg + 2 && len == 1);
    ASSERT_EQ(tc_nal_agg_next(&it, &nal, &len), 1);
    ASSERT(nal == agg + 5 && len == 2);
    ASSERT_EQ(tc_nal_agg_next(&it, &nal, &len), -EBADMSG);
    ASSERT_EQ(tc_nal_agg_next(&it, &nal, &len), 0);
    struct tc_nal_ps ps = {0};
    ASSERT_EQ(tc_nal_ps_set(&ps, agg, 0), -E2BIG);
    ASSERT_EQ(tc_nal_ps_set(&ps, o, TC_NAL_PS_MAX + 1), -E2BIG);
    ASSERT_EQ(ps.len, 0);
}

/* ---- a real recording ------------------------------------------------------------------- */

#define FIXTURE_H264                                                                               \
    VB_SOURCE_DIR "/tests/fixtures/h264-opus-1pub/"                                                \
                  "videoroom-727973277-user-6490932377196342-1795607451420501-video-1.mjr"

/* RTP header parse into `pkt`; payload borrowed from `b`. 0 or -1. */
static int rtp_parse(const uint8_t *b, size_t len, struct tc_rtp *pkt, uint32_t *ts)
{
    if (len < 12 || (b[0] >> 6) != 2)
        return -1;
    size_t off = 12 + 4u * (b[0] & 0x0f);
    if ((b[0] & 0x10) && off + 4 <= len)
        off += 4 + 4u * rd_u16(b + off + 2);
    if (b[0] & 0x20)
        len = len > b[len - 1] ? len - b[len - 1] : 0;
    if (off >= len)
        return -1;
    *pkt = (struct tc_rtp){.payload = b + off, .len = len - off, .seq = rd_u16(b + 2)};
    pkt->marker = b[1] & 0x80;
    *ts = rd_u32(b + 4);
    pkt->ts = *ts;
    return 0;
}

struct fixture_stats {
    unsigned frames, keys, damaged;
    int first_w, first_h;
    bool first_key;
};

static void fixture_flush(struct run *r, uint8_t (*bodies)[1500], const size_t *blen, size_t n,
                          struct fixture_stats *st)
{
    struct tc_rtp pkts[64];
    uint32_t ts;
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(rtp_parse(bodies[i], blen[i], &pkts[i], &ts), 0);
    r->out.len = 0;
    memset(&r->fi, 0, sizeof(r->fi));
    ASSERT_EQ(r->d->ops->frame(r->d->state, pkts, n, &r->out, &r->fi), 0);
    ASSERT_GT(r->out.len, 4);
    ASSERT_MEMEQ(r->out.p, "\0\0\0\1", 4);
    if (st->frames == 0) {
        st->first_key = r->fi.key;
        st->first_w = r->fi.width;
        st->first_h = r->fi.height;
    }
    st->frames++;
    st->keys += r->fi.key;
    st->damaged += r->fi.damaged;
}

static void test_h264_fixture(void)
{
    char err[256];
    struct mjr_reader *rd;
    ASSERT_EQ(mjr_reader_open(FIXTURE_H264, &rd, err, sizeof(err)), 0);
    ASSERT_STREQ(mjr_reader_codec(rd), "h264");
    struct run r;
    run_open(&r, mjr_reader_codec(rd));
    uint8_t(*bodies)[1500] = calloc(64, sizeof(*bodies));
    ASSERT(bodies != NULL);
    size_t blen[64], n = 0;
    uint32_t cur_ts = 0;
    struct fixture_stats st = {0};
    struct mjr_frame f;
    while (mjr_reader_next(rd, &f) == 1) {
        struct tc_rtp pkt;
        uint32_t ts;
        ASSERT(f.len <= sizeof(bodies[0]));
        ASSERT_EQ(rtp_parse(f.body, f.len, &pkt, &ts), 0);
        if (n > 0 && ts != cur_ts) {
            fixture_flush(&r, bodies, blen, n, &st);
            n = 0;
        }
        ASSERT(n < 64);
        memcpy(bodies[n], f.body, f.len);
        blen[n++] = f.len;
        cur_ts = ts;
    }
    if (n > 0)
        fixture_flush(&r, bodies, blen, n, &st);
    ASSERT_EQ(st.frames, 152);
    ASSERT(st.first_key);
    ASSERT_GE(st.keys, 1);
    ASSERT_EQ(st.damaged, 0);
    ASSERT_EQ(st.first_w, 320);
    ASSERT_EQ(st.first_h, 240);
    uint8_t x[2048];
    size_t xn = run_extradata(&r, x, sizeof(x));
    ASSERT_GT(xn, 8);
    ASSERT_MEMEQ(x, "\0\0\0\1", 4);
    ASSERT_EQ(x[4] & 0x1f, 7);
    free(bodies);
    run_close(&r);
    mjr_reader_destroy(rd);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"nal_helpers", test_nal_helpers},
        {"h264_single_nal", test_h264_single_nal},
        {"h264_stap_a", test_h264_stap_a},
        {"h264_fu_a", test_h264_fu_a},
        {"h264_fu_a_broken", test_h264_fu_a_broken},
        {"h264_stap_a_overrun", test_h264_stap_a_overrun},
        {"h264_skipped_types", test_h264_skipped_types},
        {"h264_sps_built", test_h264_sps_built},
        {"h264_sps_real", test_h264_sps_real},
        {"h264_parameter_sets", test_h264_parameter_sets},
        {"h264_truncations", test_h264_truncations},
        {"h264_fixture", test_h264_fixture},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
