/* This file implements the tests of the H.265 depacketizer (transcode/h265.c, nal.c):
 * aggregation and fragmentation units, IRAP detection, parameter sets as extradata, every
 * truncation of every packet, and SPS resolution parsing on SPS written bit by bit here and on
 * SPS produced by libx265. */
#include "tests/transcode/depay_h26x_util.h"

/* ---- H.265 ------------------------------------------------------------------------------ */

struct sps265 {
    unsigned sub_layers_minus1, profile_present, level_present; /* bit i: sub-layer i */
    unsigned chroma, separate, width, height;
    unsigned win[4]; /* left right top bottom; all 0 = no window */
};

static void ptl265_profile(struct bw *w)
{
    bw_u(w, 0, 2);
    bw_u(w, 0, 1);
    bw_u(w, 1, 5);           /* Main */
    bw_u(w, 0x60000000, 32); /* compatible with Main, Main 10 */
    bw_u(w, 0x9, 4);         /* progressive, frame only */
    bw_u(w, 0, 32);          /* 43 reserved bits + 1 */
    bw_u(w, 0, 12);
}

static size_t sps265_build(const struct sps265 *s, uint8_t *nal)
{
    struct bw w = {0};
    bw_u(&w, 0, 4);
    bw_u(&w, s->sub_layers_minus1, 3);
    bw_u(&w, 1, 1);
    ptl265_profile(&w);
    bw_u(&w, 93, 8); /* level 3.1 */
    for (unsigned i = 0; i < s->sub_layers_minus1; i++) {
        bw_u(&w, (s->profile_present >> i) & 1, 1);
        bw_u(&w, (s->level_present >> i) & 1, 1);
    }
    for (unsigned i = s->sub_layers_minus1; s->sub_layers_minus1 && i < 8; i++)
        bw_u(&w, 0, 2);
    for (unsigned i = 0; i < s->sub_layers_minus1; i++) {
        if ((s->profile_present >> i) & 1)
            ptl265_profile(&w);
        if ((s->level_present >> i) & 1)
            bw_u(&w, 90, 8);
    }
    bw_ue(&w, 0);
    bw_ue(&w, s->chroma);
    if (s->chroma == 3)
        bw_u(&w, s->separate, 1);
    bw_ue(&w, s->width);
    bw_ue(&w, s->height);
    unsigned window = s->win[0] | s->win[1] | s->win[2] | s->win[3];
    bw_u(&w, window != 0, 1);
    for (unsigned i = 0; window && i < 4; i++)
        bw_ue(&w, s->win[i]);
    bw_ue(&w, 0); /* bit_depth_luma_minus8, ... (not read) */
    bw_ue(&w, 0);
    bw_ue(&w, 4);
    static const uint8_t hdr[2] = {0x42, 0x01};
    return bw_nal(&w, hdr, 2, nal);
}

static void h265_sps_size(const uint8_t *sps, size_t len, int *width, int *height)
{
    struct run r;
    run_open(&r, "h265");
    run_one(&r, sps, len);
    ASSERT_EQ(r.rc, len < 2 ? -EBADMSG : 0); /* a 1-byte packet has no payload header */
    *width = r.fi.width;
    *height = r.fi.height;
    if (*width == 0)
        ASSERT(r.fi.damaged);
    run_close(&r);
}

static void check_sps265(const struct sps265 *s, int width, int height)
{
    uint8_t nal[512];
    size_t len = sps265_build(s, nal);
    int w, h;
    h265_sps_size(nal, len, &w, &h);
    ASSERT_EQ(w, width);
    ASSERT_EQ(h, height);
    for (size_t cut = 1; cut < len; cut++) {
        h265_sps_size(nal, cut, &w, &h);
        ASSERT(w == 0 || (w == width && h == height));
    }
}

static const uint8_t x265_vps[] = {0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60,
                                   0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
                                   0x00, 0x00, 0x03, 0x00, 0x78, 0x95, 0x98, 0x09};
static const uint8_t x265_pps[] = {0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40};
static const uint8_t h265_idr[] = {0x26, 0x01, 0xaf, 0x06, 0xb8, 0x63, 0xef, 0x3a, 0x7f,
                                   0x00, 0x00, 0x03, 0x01, 0x8c, 0x21, 0x42, 0x5b, 0x99,
                                   0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90};

static void test_h265_ap_irap(void)
{
    uint8_t sps[512], ap[512];
    size_t sps_len = sps265_build(&(struct sps265){.chroma = 1, .width = 1280, .height = 720}, sps);
    const uint8_t *u[] = {x265_vps, sps, x265_pps};
    size_t ul[] = {sizeof(x265_vps), sps_len, sizeof(x265_pps)};
    static const uint8_t ap_hdr[2] = {0x60, 0x01}; /* type 48, tid 1 */
    size_t ap_len = agg_build(ap, ap_hdr, 2, u, ul, 3);
    uint8_t want[1024];
    size_t want_len = 0;
    annexb_add(want, &want_len, x265_vps, sizeof(x265_vps));
    annexb_add(want, &want_len, sps, sps_len);
    annexb_add(want, &want_len, x265_pps, sizeof(x265_pps));
    size_t x_len = want_len;
    annexb_add(want, &want_len, h265_idr, sizeof(h265_idr));

    struct run r;
    run_open(&r, "h265");
    uint8_t x[1024];
    const uint8_t *p[2] = {ap, h265_idr};
    size_t len[2] = {ap_len, sizeof(h265_idr)};
    run_frame(&r, p, len, 1, 1); /* parameter sets only: not a keyframe */
    ASSERT_EQ(r.rc, 0);
    ASSERT(!r.fi.key && !r.fi.damaged);
    run_frame(&r, p, len, 2, 1);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.key && !r.fi.damaged);
    ASSERT_EQ(r.fi.width, 1280);
    ASSERT_EQ(r.fi.height, 720);
    ASSERT_EQ(r.out.len, want_len);
    ASSERT_MEMEQ(r.out.p, want, want_len);
    ASSERT_EQ(run_extradata(&r, x, sizeof(x)), x_len);
    ASSERT_MEMEQ(x, want, x_len);
    /* Non-IRAP (TRAIL_R) and every IRAP type. */
    uint8_t nal[4] = {0x02, 0x01, 0xaa, 0xbb};
    run_one(&r, nal, sizeof(nal));
    ASSERT(!r.fi.key && r.rc == 0);
    for (unsigned t = 16; t <= 23; t++) {
        nal[0] = (uint8_t)(t << 1);
        run_one(&r, nal, sizeof(nal));
        ASSERT(r.fi.key && r.rc == 0);
    }
    nal[0] = 24 << 1;
    run_one(&r, nal, sizeof(nal));
    ASSERT(!r.fi.key);
    run_close(&r);
}

static void test_h265_extradata_needs_all(void)
{
    uint8_t sps[512], x[16];
    size_t sps_len = sps265_build(&(struct sps265){.chroma = 1, .width = 64, .height = 64}, sps);
    struct run r;
    run_open(&r, "h265");
    run_one(&r, sps, sps_len);
    run_one(&r, x265_pps, sizeof(x265_pps));
    ASSERT_EQ(run_extradata(&r, x, sizeof(x)), 0); /* no VPS */
    run_close(&r);
}

/* FU payloads of `nal`: 2-byte payload header (type 49), FU header, fragment. */
static void fu265_split(const uint8_t *nal, size_t nal_len, size_t n, uint8_t (*buf)[64],
                        const uint8_t **p, size_t *len)
{
    size_t body = nal_len - 2, step = (body + n - 1) / n;
    unsigned type = (nal[0] >> 1) & 0x3f;
    for (size_t i = 0; i < n; i++) {
        size_t off = 2 + i * step, cnt = i + 1 < n ? step : nal_len - off;
        buf[i][0] = (uint8_t)((nal[0] & 0x81) | (49 << 1));
        buf[i][1] = nal[1];
        buf[i][2] = (uint8_t)((i == 0 ? 0x80 : 0) | (i + 1 == n ? 0x40 : 0) | type);
        memcpy(buf[i] + 3, nal + off, cnt);
        p[i] = buf[i];
        len[i] = 3 + cnt;
    }
}

static void test_h265_fu(void)
{
    /* CRA with nuh_layer_id 0 and temporal id 2 (header bits that must survive). */
    uint8_t nal[sizeof(h265_idr)];
    memcpy(nal, h265_idr, sizeof(nal));
    nal[0] = 21 << 1;
    nal[1] = 0x02;
    uint8_t buf[3][64];
    const uint8_t *p[3];
    size_t len[3];
    fu265_split(nal, sizeof(nal), 3, buf, p, len);
    struct run r;
    run_open(&r, "h265");
    run_frame(&r, p, len, 3, 65535);
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.fi.key && !r.fi.damaged);
    ASSERT_EQ(r.out.len, 4 + sizeof(nal));
    ASSERT_MEMEQ(r.out.p, "\0\0\0\1", 4);
    ASSERT_MEMEQ(r.out.p + 4, nal, sizeof(nal));
    /* Middle fragment lost. */
    struct tc_rtp pk[2] = {{.payload = p[0], .len = len[0], .seq = 4},
                           {.payload = p[2], .len = len[2], .seq = 6}};
    memset(&r.fi, 0, sizeof(r.fi));
    r.out.len = 0;
    ASSERT_EQ(r.d->ops->frame(r.d->state, pk, 2, &r.out, &r.fi), -EBADMSG);
    ASSERT(r.fi.damaged);
    ASSERT_EQ(r.out.len, 0);
    /* FU carrying an AP or FU type, PACI, F bit, temporal id 0: skipped, damaged. */
    static const uint8_t bad[][5] = {{0x62, 0x01, 0xb0, 1, 2}, {0x62, 0x01, 0xb1, 1, 2},
                                     {0x64, 0x01, 0x26, 1, 2}, {0xa6, 0x01, 0x00, 1, 2},
                                     {0x26, 0x00, 0x00, 1, 2}, {0x7e, 0x01, 0x00, 1, 2}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        run_one(&r, bad[i], sizeof(bad[i]));
        ASSERT_EQ(r.rc, -EBADMSG);
        ASSERT(r.fi.damaged);
    }
    run_close(&r);
}

static void test_h265_sps(void)
{
    check_sps265(&(struct sps265){.chroma = 1, .width = 1280, .height = 720}, 1280, 720);
    /* 1920x1088 coded, window of 4 chroma rows at the bottom. */
    check_sps265(&(struct sps265){.chroma = 1, .width = 1920, .height = 1088, .win = {0, 0, 0, 4}},
                 1920, 1080);
    /* Sub-layers with and without profile/level parts. */
    check_sps265(&(struct sps265){.sub_layers_minus1 = 3,
                                  .profile_present = 0x5,
                                  .level_present = 0x6,
                                  .chroma = 1,
                                  .width = 1280,
                                  .height = 720,
                                  .win = {2, 2, 0, 0}},
                 1272, 720);
    check_sps265(&(struct sps265){.sub_layers_minus1 = 6,
                                  .profile_present = 0x3f,
                                  .level_present = 0x3f,
                                  .chroma = 1,
                                  .width = 640,
                                  .height = 480},
                 640, 480);
    /* 4:2:2 (2x1), 4:4:4 (1x1), separate planes (1x1), monochrome (1x1). */
    check_sps265(&(struct sps265){.chroma = 2, .width = 64, .height = 64, .win = {1, 1, 1, 1}}, 60,
                 62);
    check_sps265(&(struct sps265){.chroma = 3, .width = 64, .height = 64, .win = {1, 1, 1, 1}}, 62,
                 62);
    check_sps265(
        &(struct sps265){.chroma = 3, .separate = 1, .width = 64, .height = 64, .win = {1}}, 63,
        64);
    check_sps265(&(struct sps265){.chroma = 0, .width = 64, .height = 64, .win = {0, 0, 3, 0}}, 64,
                 61);
    /* Malformed: 7 sub-layers minus 1, window past the picture, zero width. */
    const struct sps265 bad[] = {{.sub_layers_minus1 = 7, .chroma = 1, .width = 64, .height = 64},
                                 {.chroma = 1, .width = 64, .height = 64, .win = {16, 16}},
                                 {.chroma = 1, .width = 0, .height = 64}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t nal[512];
        size_t len = sps265_build(&bad[i], nal);
        int w, h;
        h265_sps_size(nal, len, &w, &h);
        ASSERT_EQ(w, 0);
    }
}

static void test_h265_sps_real(void)
{
    /* libx265 Main 1918x1078 (conformance window) and Main 4:4:4 1920x1080. */
    static const uint8_t sps_1078[] = {
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x78, 0xa0, 0x03, 0xc0, 0x80, 0x10, 0xe7, 0x55, 0x96, 0x56, 0x69, 0x24, 0xca,
        0xf0, 0x16, 0x80, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x07, 0x84};
    static const uint8_t sps_1080_444[] = {
        0x42, 0x01, 0x01, 0x04, 0x08, 0x00, 0x00, 0x03, 0x00, 0x9e, 0x08, 0x00,
        0x00, 0x03, 0x00, 0x00, 0x78, 0x90, 0x00, 0x78, 0x10, 0x02, 0x1c, 0xb2,
        0xca, 0xcd, 0x24, 0x99, 0x5e, 0x02, 0xdc, 0x08, 0x08, 0x00, 0x10, 0x00,
        0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x80};
    int w, h;
    h265_sps_size(sps_1078, sizeof(sps_1078), &w, &h);
    ASSERT_EQ(w, 1918);
    ASSERT_EQ(h, 1078);
    h265_sps_size(sps_1080_444, sizeof(sps_1080_444), &w, &h);
    ASSERT_EQ(w, 1920);
    ASSERT_EQ(h, 1080);
}

static void test_h265_truncations(void)
{
    uint8_t sps[512], ap[512], fu[3][64];
    size_t sps_len = sps265_build(&(struct sps265){.sub_layers_minus1 = 2,
                                                   .profile_present = 1,
                                                   .level_present = 3,
                                                   .chroma = 1,
                                                   .width = 1920,
                                                   .height = 1088,
                                                   .win = {0, 0, 0, 4}},
                                  sps);
    const uint8_t *u[] = {x265_vps, sps, x265_pps};
    size_t ul[] = {sizeof(x265_vps), sps_len, sizeof(x265_pps)};
    static const uint8_t ap_hdr[2] = {0x60, 0x01};
    const uint8_t *p[6];
    size_t len[6];
    p[0] = ap;
    len[0] = agg_build(ap, ap_hdr, 2, u, ul, 3);
    fu265_split(h265_idr, sizeof(h265_idr), 3, fu, p + 1, len + 1);
    p[4] = sps;
    len[4] = sps_len;
    p[5] = h265_idr;
    len[5] = sizeof(h265_idr);
    truncate_all("h265", p, len, 6);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"h265_ap_irap", test_h265_ap_irap},
        {"h265_extradata_needs_all", test_h265_extradata_needs_all},
        {"h265_fu", test_h265_fu},
        {"h265_sps", test_h265_sps},
        {"h265_sps_real", test_h265_sps_real},
        {"h265_truncations", test_h265_truncations},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
