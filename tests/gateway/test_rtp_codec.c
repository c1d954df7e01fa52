/* Tests of gateway/rtp/codec.c: codec names; keyframe detection on hand-built VP8 (RFC 7741),
 * VP9 (RFC 9628), H.264 (RFC 6184), AV1 (AOMedia RTP format) and H.265 (RFC 7798) payloads,
 * true and false cases; every truncation of them read from an exact-size heap copy (so the
 * sanitizer build catches any read past the end); the VP8 payload descriptor parsed and
 * rewritten in place with 7- and 15-bit picture ids. */
#include <errno.h>

#include "gateway/rtp/switch.h"
#include "tests/test.h"

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static void test_codec_names(void)
{
    ASSERT_EQ(gw_video_codec_from_name("vp8"), GW_VC_VP8);
    ASSERT_EQ(gw_video_codec_from_name("VP8"), GW_VC_VP8);
    ASSERT_EQ(gw_video_codec_from_name("Vp9"), GW_VC_VP9);
    ASSERT_EQ(gw_video_codec_from_name("H264"), GW_VC_H264);
    ASSERT_EQ(gw_video_codec_from_name("h264"), GW_VC_H264);
    ASSERT_EQ(gw_video_codec_from_name("AV1"), GW_VC_AV1);
    ASSERT_EQ(gw_video_codec_from_name("av1x"), GW_VC_AV1);
    ASSERT_EQ(gw_video_codec_from_name("H265"), GW_VC_H265);
    ASSERT_EQ(gw_video_codec_from_name("hevc"), GW_VC_H265);
    ASSERT_EQ(gw_video_codec_from_name("opus"), GW_VC_UNKNOWN);
    ASSERT_EQ(gw_video_codec_from_name("vp80"), GW_VC_UNKNOWN);
    ASSERT_EQ(gw_video_codec_from_name(""), GW_VC_UNKNOWN);
    ASSERT_EQ(gw_video_codec_from_name(NULL), GW_VC_UNKNOWN);
}

/* The answer for the whole payload, after checking every shorter prefix (in an exact-size
 * allocation) and that a prefix too short for the deciding byte is never a keyframe. */
static bool key(enum gw_video_codec c, const uint8_t *p, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        ASSERT(copy);
        memcpy(copy, p, n);
        bool k = gw_rtp_is_keyframe(c, copy, n);
        if (n == 0)
            ASSERT(!k);
        free(copy);
    }
    uint8_t *copy = malloc(len);
    ASSERT(copy);
    memcpy(copy, p, len);
    bool k = gw_rtp_is_keyframe(c, copy, len);
    free(copy);
    return k;
}

/* The shortest prefix of a payload that is a keyframe (len + 1 when none). */
static size_t first_key_prefix(enum gw_video_codec c, const uint8_t *p, size_t len)
{
    for (size_t n = 0; n <= len; n++)
        if (gw_rtp_is_keyframe(c, p, n))
            return n;
    return len + 1;
}

static void test_vp8_keyframes(void)
{
    /* X; I L T; 15-bit picid 42; tl0 5; tid 0 Y; frame tag with P = 0, start code */
    ASSERT(key(GW_VC_VP8,
               BYTES(0x90, 0xe0, 0x80, 0x2a, 0x05, 0x20, 0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a)));
    ASSERT(key(GW_VC_VP8, BYTES(0x10, 0x50))); /* minimal descriptor */
    /* P = 1: an interframe */
    ASSERT(!key(GW_VC_VP8, BYTES(0x90, 0xe0, 0x80, 0x2b, 0x05, 0x20, 0x51, 0x2a, 0x00)));
    ASSERT(!key(GW_VC_VP8, BYTES(0x00, 0x50)));       /* S = 0: a continuation */
    ASSERT(!key(GW_VC_VP8, BYTES(0x11, 0x50)));       /* partition 1 */
    ASSERT(!key(GW_VC_VP8, BYTES(0x90, 0x80, 0x80))); /* runs out inside the picture id */
    ASSERT(!key(GW_VC_VP8, BYTES(0x90, 0x80, 0x05))); /* no payload after the descriptor */
    /* the deciding byte is the frame tag: no shorter prefix passes */
    const uint8_t k[] = {0x90, 0xe0, 0x80, 0x2a, 0x05, 0x20, 0x50};
    ASSERT_EQ(first_key_prefix(GW_VC_VP8, k, sizeof k), sizeof k);
}

static void test_vp9_keyframes(void)
{
    /* I B E V; 15-bit picid 1; SS: one layer, Y G, 640x480, one group TID 0 R 0; then the VP9
     * header: frame marker 2, profile 0, show_existing 0, frame_type 0 (key) */
    const uint8_t kf[] = {0x8e, 0x80, 0x01, 0x18, 0x02, 0x80, 0x01, 0xe0, 0x01, 0x00, 0x82, 0x49};
    ASSERT(key(GW_VC_VP9, kf, sizeof kf));
    ASSERT_EQ(first_key_prefix(GW_VC_VP9, kf, sizeof kf), 11); /* up to the header byte */
    /* the same with frame_type 1 (non-key) in the header */
    ASSERT(
        !key(GW_VC_VP9, BYTES(0x8e, 0x80, 0x01, 0x18, 0x02, 0x80, 0x01, 0xe0, 0x01, 0x00, 0x86)));
    /* P set: inter-picture predicted */
    ASSERT(!key(GW_VC_VP9, BYTES(0xcc, 0x80, 0x02, 0x82)));
    /* B clear: not the first packet of the frame */
    ASSERT(!key(GW_VC_VP9, BYTES(0x84, 0x80, 0x02, 0x82)));
    /* show_existing_frame set */
    ASSERT(!key(GW_VC_VP9, BYTES(0x8c, 0x80, 0x02, 0x88)));
    /* not a frame marker */
    ASSERT(!key(GW_VC_VP9, BYTES(0x8c, 0x80, 0x02, 0x42)));
    /* profile 3 (a reserved bit before show_existing_frame): key, then non-key */
    ASSERT(key(GW_VC_VP9, BYTES(0x8c, 0x80, 0x02, 0xb0)));
    ASSERT(!key(GW_VC_VP9, BYTES(0x8c, 0x80, 0x02, 0xb2)));
    /* non-flexible with layer indices and TL0PICIDX; 7-bit picid */
    ASSERT(key(GW_VC_VP9, BYTES(0xa8, 0x05, 0x00, 0x07, 0x82)));
    /* flexible with layer indices (one byte, no TL0PICIDX) */
    ASSERT(key(GW_VC_VP9, BYTES(0xb8, 0x05, 0x00, 0x82)));
    /* SS with Y but the sizes cut short */
    ASSERT(!key(GW_VC_VP9, BYTES(0x8a, 0x05, 0x30, 0x02, 0x80)));
    /* SS with G whose groups run past the end */
    ASSERT(!key(GW_VC_VP9, BYTES(0x8a, 0x05, 0x08, 0x02, 0x0c)));
}

static void test_h264_keyframes(void)
{
    ASSERT(key(GW_VC_H264, BYTES(0x65, 0x88, 0x84)));  /* IDR slice */
    ASSERT(key(GW_VC_H264, BYTES(0x67, 0x42, 0xc0)));  /* SPS */
    ASSERT(!key(GW_VC_H264, BYTES(0x41, 0x9a, 0x00))); /* non-IDR slice */
    ASSERT(!key(GW_VC_H264, BYTES(0x68, 0xce)));       /* PPS */
    ASSERT(!key(GW_VC_H264, BYTES(0x06, 0x05)));       /* SEI */
    /* STAP-A: SPS first; or PPS then IDR */
    ASSERT(key(GW_VC_H264, BYTES(0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68)));
    ASSERT(key(GW_VC_H264, BYTES(0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x65, 0x88)));
    ASSERT(!key(GW_VC_H264, BYTES(0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x41, 0x9a)));
    /* STAP-A whose first size jumps past the end, or is zero */
    ASSERT(!key(GW_VC_H264, BYTES(0x78, 0x00, 0x40, 0x41, 0x00, 0x02, 0x65, 0x88)));
    ASSERT(!key(GW_VC_H264, BYTES(0x78, 0x00, 0x00, 0x65, 0x88)));
    /* FU-A: start of an IDR; continuation; start of a non-IDR */
    ASSERT(key(GW_VC_H264, BYTES(0x7c, 0x85, 0xb8)));
    ASSERT(!key(GW_VC_H264, BYTES(0x7c, 0x05, 0xb8)));
    ASSERT(!key(GW_VC_H264, BYTES(0x7c, 0x45, 0xb8)));
    ASSERT(!key(GW_VC_H264, BYTES(0x5c, 0x81, 0xb8)));
    ASSERT(!key(GW_VC_H264, BYTES(0x7c)));
    /* STAP-B, MTAP and FU-B are not WebRTC's and never keyframes here */
    ASSERT(!key(GW_VC_H264, BYTES(0x79, 0x00, 0x00, 0x00, 0x02, 0x65, 0x88)));
    ASSERT(!key(GW_VC_H264, BYTES(0x7d, 0x85, 0x00, 0x00)));
}

static void test_av1_keyframes(void)
{
    ASSERT(key(GW_VC_AV1, BYTES(0x08, 0x0a, 0x0b))); /* N */
    ASSERT(key(GW_VC_AV1, BYTES(0x18, 0x0a)));       /* N with W = 1 */
    ASSERT(!key(GW_VC_AV1, BYTES(0x10, 0x32)));      /* W = 1 only */
    ASSERT(!key(GW_VC_AV1, BYTES(0xc0, 0x32)));      /* Z Y: a fragment in the middle */
}

static void test_h265_keyframes(void)
{
    ASSERT(key(GW_VC_H265, BYTES(0x26, 0x01, 0xaf)));  /* IDR_W_RADL (19) */
    ASSERT(key(GW_VC_H265, BYTES(0x20, 0x01, 0xaf)));  /* BLA_W_LP (16) */
    ASSERT(key(GW_VC_H265, BYTES(0x2a, 0x01, 0xaf)));  /* CRA (21) */
    ASSERT(key(GW_VC_H265, BYTES(0x40, 0x01, 0x0c)));  /* VPS */
    ASSERT(key(GW_VC_H265, BYTES(0x42, 0x01, 0x01)));  /* SPS */
    ASSERT(!key(GW_VC_H265, BYTES(0x44, 0x01, 0xc1))); /* PPS */
    ASSERT(!key(GW_VC_H265, BYTES(0x02, 0x01, 0xd0))); /* TRAIL_R */
    ASSERT(!key(GW_VC_H265, BYTES(0x2c, 0x01, 0xd0))); /* reserved IRAP 22 */
    ASSERT(!key(GW_VC_H265, BYTES(0x26)));             /* one byte: no NAL header */
    /* AP: VPS; PPS then IDR; PPS then TRAIL; a size below a NAL header */
    ASSERT(key(GW_VC_H265, BYTES(0x60, 0x01, 0x00, 0x03, 0x40, 0x01, 0x0c)));
    ASSERT(key(GW_VC_H265,
               BYTES(0x60, 0x01, 0x00, 0x03, 0x44, 0x01, 0xc1, 0x00, 0x03, 0x26, 0x01, 0xaf)));
    ASSERT(!key(GW_VC_H265,
                BYTES(0x60, 0x01, 0x00, 0x03, 0x44, 0x01, 0xc1, 0x00, 0x03, 0x02, 0x01, 0xaf)));
    ASSERT(!key(GW_VC_H265, BYTES(0x60, 0x01, 0x00, 0x01, 0x26, 0x00, 0x03, 0x26, 0x01)));
    /* FU: start of IDR_W_RADL; continuation; start of TRAIL_R */
    ASSERT(key(GW_VC_H265, BYTES(0x62, 0x01, 0x93, 0xaf)));
    ASSERT(!key(GW_VC_H265, BYTES(0x62, 0x01, 0x13, 0xaf)));
    ASSERT(!key(GW_VC_H265, BYTES(0x62, 0x01, 0x81, 0xaf)));
}

static void test_unknown_codec(void)
{
    ASSERT(!key(GW_VC_UNKNOWN, BYTES(0x10, 0x50)));
    ASSERT(!gw_rtp_is_keyframe(GW_VC_VP8, NULL, 0));
}

static void test_vp8_desc_7bit(void)
{
    uint8_t p[] = {0x90, 0x80, 0x25, 0x50, 0x2a};
    struct gw_vp8_desc d;
    ASSERT_EQ(gw_vp8_desc_parse(p, sizeof p, &d), 0);
    ASSERT(d.start && d.has_picid && !d.picid_16);
    ASSERT_EQ(d.picid, 0x25);
    ASSERT(!d.has_tl0picidx && !d.has_tid);
    ASSERT_EQ(d.header_len, 3);
    ASSERT_EQ(gw_vp8_desc_rewrite(p, sizeof p, 0x1234, 9), 0);
    ASSERT_MEMEQ(p, ((const uint8_t[]){0x90, 0x80, 0x34, 0x50, 0x2a}), sizeof p);
    ASSERT_EQ(gw_vp8_desc_parse(p, sizeof p, &d), 0);
    ASSERT_EQ(d.picid, 0x34);
    ASSERT_EQ(d.header_len, 3);
}

static void test_vp8_desc_15bit(void)
{
    /* X; I L T K; M + 0x1234; tl0 7; tid 1 Y keyidx 3; payload */
    uint8_t p[] = {0x90, 0xf0, 0x92, 0x34, 0x07, 0x63, 0x51, 0x00};
    struct gw_vp8_desc d;
    ASSERT_EQ(gw_vp8_desc_parse(p, sizeof p, &d), 0);
    ASSERT(d.start && d.has_picid && d.picid_16);
    ASSERT_EQ(d.picid, 0x1234);
    ASSERT(d.has_tl0picidx);
    ASSERT_EQ(d.tl0picidx, 7);
    ASSERT(d.has_tid && d.layer_sync);
    ASSERT_EQ(d.tid, 1);
    ASSERT_EQ(d.header_len, 6);
    ASSERT_EQ(gw_vp8_desc_rewrite(p, sizeof p, 0x7ffe, 0xff), 0);
    ASSERT_MEMEQ(p, ((const uint8_t[]){0x90, 0xf0, 0xff, 0xfe, 0xff, 0x63, 0x51, 0x00}), sizeof p);
    ASSERT_EQ(gw_vp8_desc_parse(p, sizeof p, &d), 0);
    ASSERT_EQ(d.picid, 0x7ffe);
    ASSERT_EQ(d.tl0picidx, 0xff);
    ASSERT_EQ(d.tid, 1);
    /* a 16-bit value keeps the M bit and the low 15 bits */
    ASSERT_EQ(gw_vp8_desc_rewrite(p, sizeof p, 0xffff, 0), 0);
    ASSERT_EQ(gw_vp8_desc_parse(p, sizeof p, &d), 0);
    ASSERT(d.picid_16);
    ASSERT_EQ(d.picid, 0x7fff);
    ASSERT_EQ(d.tl0picidx, 0);
    /* and back: the original bytes */
    ASSERT_EQ(gw_vp8_desc_rewrite(p, sizeof p, 0x1234, 7), 0);
    ASSERT_MEMEQ(p, ((const uint8_t[]){0x90, 0xf0, 0x92, 0x34, 0x07, 0x63, 0x51, 0x00}), sizeof p);
}

static void test_vp8_desc_fields(void)
{
    struct gw_vp8_desc d;
    /* no extension */
    ASSERT_EQ(gw_vp8_desc_parse(BYTES(0x10, 0x50), &d), 0);
    ASSERT(d.start && !d.has_picid && !d.has_tl0picidx && !d.has_tid);
    ASSERT_EQ(d.header_len, 1);
    /* K without T: the TID/Y/KEYIDX byte is there but the tid is not meaningful */
    ASSERT_EQ(gw_vp8_desc_parse(BYTES(0x80, 0x10, 0xe3, 0x50), &d), 0);
    ASSERT(!d.start && !d.has_tid && !d.layer_sync);
    ASSERT_EQ(d.header_len, 3);
    /* T: tid 2 without layer sync; partition 2 without S */
    ASSERT_EQ(gw_vp8_desc_parse(BYTES(0x82, 0x20, 0x80, 0x50), &d), 0);
    ASSERT(!d.start && d.has_tid && !d.layer_sync);
    ASSERT_EQ(d.tid, 2);
    /* S with partition 1 is not a start */
    ASSERT_EQ(gw_vp8_desc_parse(BYTES(0x11, 0x50), &d), 0);
    ASSERT(!d.start);
    /* L only */
    ASSERT_EQ(gw_vp8_desc_parse(BYTES(0x90, 0x40, 0x09, 0x50), &d), 0);
    ASSERT(d.has_tl0picidx && !d.has_picid);
    ASSERT_EQ(d.tl0picidx, 9);
    /* a rewrite of absent fields changes nothing */
    uint8_t q[] = {0x80, 0x20, 0x40, 0x50};
    ASSERT_EQ(gw_vp8_desc_rewrite(q, sizeof q, 0x55, 0x66), 0);
    ASSERT_MEMEQ(q, ((const uint8_t[]){0x80, 0x20, 0x40, 0x50}), sizeof q);
}

static void test_vp8_desc_truncated(void)
{
    const uint8_t full[] = {0x90, 0xf0, 0x92, 0x34, 0x07, 0x63, 0x51};
    struct gw_vp8_desc d;
    for (size_t n = 0; n < sizeof full; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        ASSERT(copy);
        memcpy(copy, full, n);
        ASSERT_EQ(gw_vp8_desc_parse(copy, n, &d), -EINVAL);
        ASSERT_EQ(gw_vp8_desc_rewrite(copy, n, 1, 1), -EINVAL);
        ASSERT_MEMEQ(copy, full, n);
        free(copy);
    }
    ASSERT_EQ(gw_vp8_desc_parse(full, sizeof full, &d), 0);
    ASSERT_EQ(d.header_len, 6);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"codec_names", test_codec_names},
        {"vp8_keyframes", test_vp8_keyframes},
        {"vp9_keyframes", test_vp9_keyframes},
        {"h264_keyframes", test_h264_keyframes},
        {"av1_keyframes", test_av1_keyframes},
        {"h265_keyframes", test_h265_keyframes},
        {"unknown_codec", test_unknown_codec},
        {"vp8_desc_7bit", test_vp8_desc_7bit},
        {"vp8_desc_15bit", test_vp8_desc_15bit},
        {"vp8_desc_fields", test_vp8_desc_fields},
        {"vp8_desc_truncated", test_vp8_desc_truncated},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
