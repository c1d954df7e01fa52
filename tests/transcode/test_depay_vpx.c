/* Tests of the VP8 and VP9 depacketizers (transcode/vp8.c, transcode/vp9.c): RTP payloads
 * built by hand, with every descriptor extension, keyframe headers, damaged frames (missing
 * first packet, sequence gaps, malformed packets) and truncation at every length. Truncated
 * packets are copied to buffers of their exact size so that ASan catches any overread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"
#include "transcode/depay.h"

#define PKT_MAX 512
#define PKTS_MAX 8

/* A frame under construction: its packets and their bytes. */
struct frame {
    uint8_t mem[PKTS_MAX][PKT_MAX];
    struct tc_rtp pk[PKTS_MAX];
    size_t n;
};

static void frame_add(struct frame *f, uint64_t seq, const uint8_t *desc, size_t dlen,
                      const uint8_t *data, size_t len)
{
    ASSERT(f->n < PKTS_MAX);
    ASSERT(dlen + len <= PKT_MAX);
    uint8_t *m = f->mem[f->n];
    if (dlen && desc)
        memcpy(m, desc, dlen);
    if (len && data)
        memcpy(m + dlen, data, len);
    f->pk[f->n] = (struct tc_rtp){.payload = m, .len = dlen + len, .seq = seq, .ts = 9000};
    f->n++;
}

/* Runs one frame through a fresh depacketizer; `out` is initialized here, freed by caller. */
static int run(const struct tc_depay_ops *ops, const struct tc_rtp *pk, size_t n,
               struct vb_buf *out, struct tc_frame_info *fi)
{
    struct tc_depay *d = tc_depay_new(ops);
    memset(fi, 0, sizeof(*fi));
    vb_buf_init(out, 1u << 20);
    int rc = ops->frame(d->state, pk, n, out, fi);
    tc_depay_free(d);
    return rc;
}

/* As run() over a single packet copied to a heap buffer of exactly `len` bytes. */
static int run_exact(const struct tc_depay_ops *ops, const uint8_t *p, size_t len,
                     struct tc_frame_info *fi)
{
    uint8_t *copy = malloc(len);
    ASSERT(copy != NULL);
    memcpy(copy, p, len);
    struct tc_rtp pk = {.payload = copy, .len = len, .seq = 5, .ts = 0};
    struct vb_buf out;
    int rc = run(ops, &pk, 1, &out, fi);
    if (rc == 0)
        ASSERT_GT(out.len, 0);
    vb_buf_free(&out);
    free(copy);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* VP8 */

/* A VP8 keyframe: frame tag (P=0, show_frame), start code, 14-bit sizes with scaling bits
 * set in the top 2 bits (they must be masked off), then filler. Returns its length. */
static size_t vp8_keyframe(uint8_t *b, int width, int height)
{
    const uint8_t head[] = {0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a};
    memcpy(b, head, sizeof(head));
    b[6] = (uint8_t)width;
    b[7] = (uint8_t)((width >> 8) | 0x40);
    b[8] = (uint8_t)height;
    b[9] = (uint8_t)((height >> 8) | 0x80);
    for (size_t i = 10; i < 40; i++)
        b[i] = (uint8_t)(i * 7);
    return 40;
}

static void test_vp8_single_keyframe(void)
{
    uint8_t bits[64];
    size_t len = vp8_keyframe(bits, 640, 480);
    const uint8_t desc[] = {0x10}; /* S=1, PID 0 */
    struct frame f = {0};
    frame_add(&f, 1, desc, sizeof(desc), bits, len);
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
    ASSERT(fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 640);
    ASSERT_EQ(fi.height, 480);
    ASSERT_EQ(out.len, len);
    ASSERT_MEMEQ(out.p, bits, len);
    vb_buf_free(&out);
}

/* Three packets with every extension: the keyframe header itself is split over the first
 * two packets, so it is read from the assembled frame. */
static void test_vp8_multi_packet_extensions(void)
{
    uint8_t bits[64];
    size_t len = vp8_keyframe(bits, 1280, 720);
    /* X S PID0; I L T K; 15-bit picture id 0x1234; TL0PICIDX; TID 1 Y 1 KEYIDX 3 */
    const uint8_t d1[] = {0x90, 0xf0, 0x92, 0x34, 0x07, 0x63};
    /* X, partition 1 starts (S=1 PID 1); I L; 7-bit picture id; TL0PICIDX */
    const uint8_t d2[] = {0x91, 0xc0, 0x12, 0x07};
    /* X N (non-reference), T only: TID 2; then X, K only: KEYIDX 5 */
    const uint8_t d3[] = {0xa0, 0x20, 0x80};
    const uint8_t d4[] = {0x80, 0x10, 0x05};
    struct frame f = {0};
    frame_add(&f, 100, d1, sizeof(d1), bits, 5);
    frame_add(&f, 101, d2, sizeof(d2), bits + 5, 10);
    frame_add(&f, 102, d3, sizeof(d3), bits + 15, 10);
    frame_add(&f, 103, d4, sizeof(d4), bits + 25, len - 25);
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
    ASSERT(fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 1280);
    ASSERT_EQ(fi.height, 720);
    ASSERT_EQ(out.len, len);
    ASSERT_MEMEQ(out.p, bits, len);
    vb_buf_free(&out);
}

static void test_vp8_interframe(void)
{
    const uint8_t bits[] = {0x31, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0x55};
    const uint8_t desc[] = {0x90, 0x80, 0x33}; /* X S; I with a 7-bit id */
    struct frame f = {0};
    frame_add(&f, 7, desc, sizeof(desc), bits, sizeof(bits));
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
    ASSERT(!fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 0);
    ASSERT_EQ(fi.height, 0);
    ASSERT_EQ(out.len, sizeof(bits));
    ASSERT_MEMEQ(out.p, bits, sizeof(bits));
    vb_buf_free(&out);
}

/* First packet lost (S=0), or starting a later partition: damaged, not key, still written. */
static void test_vp8_missing_start(void)
{
    uint8_t bits[64];
    size_t len = vp8_keyframe(bits, 320, 240);
    const uint8_t starts[][1] = {{0x00}, {0x11}, {0x01}}; /* S=0; S=1 PID 1; S=0 PID 1 */
    for (size_t i = 0; i < 3; i++) {
        struct frame f = {0};
        frame_add(&f, 1, starts[i], 1, bits, len);
        struct vb_buf out;
        struct tc_frame_info fi;
        ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
        ASSERT(fi.damaged);
        ASSERT(!fi.key);
        ASSERT_EQ(fi.width, 0);
        ASSERT_EQ(out.len, len);
        vb_buf_free(&out);
    }
}

static void test_vp8_seq_gap(void)
{
    uint8_t bits[64];
    size_t len = vp8_keyframe(bits, 320, 240);
    const uint8_t d1[] = {0x10}, d2[] = {0x00};
    struct frame f = {0};
    frame_add(&f, 50, d1, 1, bits, 20);
    frame_add(&f, 52, d2, 1, bits + 20, len - 20); /* 51 is lost */
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT(fi.key); /* the keyframe header itself arrived */
    ASSERT_EQ(fi.width, 320);
    ASSERT_EQ(out.len, len);
    vb_buf_free(&out);

    /* Without the gap the same packets are whole. */
    f.pk[1].seq = 51;
    ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
    ASSERT(!fi.damaged);
    vb_buf_free(&out);
}

/* A "keyframe" (P=0) without the start code, or too short to hold its header. */
static void test_vp8_bad_keyframe_header(void)
{
    uint8_t bits[64];
    size_t len = vp8_keyframe(bits, 320, 240);
    bits[4] = 0x02;
    const uint8_t desc[] = {0x10};
    struct frame f = {0};
    frame_add(&f, 1, desc, 1, bits, len);
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT(!fi.key);
    ASSERT_EQ(fi.width, 0);
    vb_buf_free(&out);
}

/* A malformed packet in the middle is skipped; a frame of only malformed packets is
 * -EBADMSG. */
static void test_vp8_malformed_packets(void)
{
    uint8_t bits[64];
    size_t len = vp8_keyframe(bits, 320, 240);
    const uint8_t d1[] = {0x10}, bad[] = {0x80, 0x80}, d3[] = {0x00};
    struct frame f = {0};
    frame_add(&f, 1, d1, 1, bits, 20);
    frame_add(&f, 2, bad, sizeof(bad), NULL, 0); /* I announced, picture id missing */
    frame_add(&f, 3, d3, 1, bits + 20, len - 20);
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT(fi.key);
    ASSERT_EQ(out.len, len);
    ASSERT_MEMEQ(out.p, bits, len);
    vb_buf_free(&out);

    struct frame g = {0};
    const uint8_t only[] = {0x10};
    frame_add(&g, 1, bad, sizeof(bad), NULL, 0);
    frame_add(&g, 2, only, 1, NULL, 0); /* a descriptor and no payload */
    ASSERT_EQ(run(&tc_depay_vp8, g.pk, g.n, &out, &fi), -EBADMSG);
    vb_buf_free(&out);
}

/* Every descriptor shape cut at every length, alone and followed by a good packet; and a
 * whole keyframe cut at every length. */
static void test_vp8_truncations(void)
{
    static const uint8_t descs[][6] = {
        {0x10},
        {0x90, 0x80, 0x05},
        {0x90, 0x80, 0x81, 0x02},
        {0x90, 0x40, 0x01},
        {0x90, 0x20, 0x40},
        {0x90, 0x10, 0x03},
        {0x90, 0xf0, 0x81, 0x23, 0x05, 0x60},
    };
    static const size_t dlens[] = {1, 3, 4, 3, 3, 3, 6};
    uint8_t bits[64];
    size_t blen = vp8_keyframe(bits, 176, 144);
    for (size_t k = 0; k < sizeof(dlens) / sizeof(dlens[0]); k++) {
        uint8_t pkt[128];
        size_t dlen = dlens[k];
        memcpy(pkt, descs[k], dlen);
        memcpy(pkt + dlen, bits, blen);
        for (size_t len = 1; len <= dlen + blen; len++) {
            struct tc_frame_info fi;
            int rc = run_exact(&tc_depay_vp8, pkt, len, &fi);
            if (len <= dlen) {
                ASSERT_EQ(rc, -EBADMSG);
                continue;
            }
            ASSERT_EQ(rc, 0);
            bool whole = len - dlen >= 10;
            ASSERT_EQ(fi.key, whole);
            ASSERT_EQ(fi.damaged, !whole);
            ASSERT_EQ(fi.width, whole ? 176 : 0);
            ASSERT_EQ(fi.height, whole ? 144 : 0);
        }
        /* Cut descriptor, then a good continuation packet: usable but damaged. */
        for (size_t len = 1; len <= dlen; len++) {
            struct frame f = {0};
            const uint8_t cont[] = {0x00};
            frame_add(&f, 1, pkt, len, NULL, 0);
            frame_add(&f, 2, cont, 1, bits, 12);
            struct vb_buf out;
            struct tc_frame_info fi;
            ASSERT_EQ(run(&tc_depay_vp8, f.pk, f.n, &out, &fi), 0);
            ASSERT(fi.damaged);
            ASSERT(!fi.key);
            ASSERT_EQ(out.len, 12);
            vb_buf_free(&out);
        }
    }
}

static void test_vp8_out_full(void)
{
    uint8_t bits[64];
    size_t len = vp8_keyframe(bits, 320, 240);
    const uint8_t desc[] = {0x10};
    struct frame f = {0};
    frame_add(&f, 1, desc, 1, bits, len);
    struct tc_frame_info fi = {0};
    struct vb_buf out;
    vb_buf_init(&out, 16);
    ASSERT_EQ(tc_depay_vp8.frame(NULL, f.pk, f.n, &out, &fi), -E2BIG);
    vb_buf_free(&out);
}

/* ---------------------------------------------------------------------------------------- */
/* VP9 */

/* An MSB-first bit writer for uncompressed headers. */
struct bitw {
    uint8_t b[64];
    size_t bits;
};

static void bitw_put(struct bitw *w, uint32_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        ASSERT(w->bits < sizeof(w->b) * 8);
        if ((v >> i) & 1u)
            w->b[w->bits >> 3] |= (uint8_t)(0x80u >> (w->bits & 7));
        w->bits++;
    }
}

/* Ends the header with filler bytes standing for the rest of the frame; returns the length. */
static size_t bitw_finish(struct bitw *w, uint8_t *out)
{
    size_t len = (w->bits + 7) / 8;
    memcpy(out, w->b, len);
    for (size_t i = 0; i < 16; i++)
        out[len + i] = (uint8_t)(0xa5 ^ i);
    return len + 16;
}

static void vp9_profile_put(struct bitw *w, unsigned profile)
{
    bitw_put(w, 2, 2);            /* frame_marker */
    bitw_put(w, profile & 1u, 1); /* profile_low_bit */
    bitw_put(w, profile >> 1, 1); /* profile_high_bit */
    if (profile == 3)
        bitw_put(w, 0, 1); /* reserved_zero */
    bitw_put(w, 0, 1);     /* show_existing_frame */
}

static void vp9_size_put(struct bitw *w, int width, int height)
{
    bitw_put(w, (uint32_t)width - 1, 16);
    bitw_put(w, (uint32_t)height - 1, 16);
    bitw_put(w, 0, 1); /* render_and_frame_size_different */
}

/* A key frame's header; color_space 2 (BT.709), or 7 (RGB) when `rgb`. */
static size_t vp9_keyframe(uint8_t *out, unsigned profile, bool rgb, int width, int height)
{
    struct bitw w = {0};
    vp9_profile_put(&w, profile);
    bitw_put(&w, 0, 1);    /* frame_type: key */
    bitw_put(&w, 1, 1);    /* show_frame */
    bitw_put(&w, 0, 1);    /* error_resilient_mode */
    bitw_put(&w, 0x49, 8); /* sync code */
    bitw_put(&w, 0x83, 8);
    bitw_put(&w, 0x42, 8);
    if (profile >= 2)
        bitw_put(&w, 1, 1); /* ten_or_twelve_bit */
    bitw_put(&w, rgb ? 7 : 2, 3);
    if (!rgb) {
        bitw_put(&w, 1, 1); /* color_range */
        if (profile == 1 || profile == 3)
            bitw_put(&w, 2, 3); /* subsampling_x 1, subsampling_y 0, reserved_zero */
    } else {
        bitw_put(&w, 0, 1); /* reserved_zero */
    }
    vp9_size_put(&w, width, height);
    return bitw_finish(&w, out);
}

/* An inter frame's header (profile 0): with found_ref, or with an explicit size. */
static size_t vp9_interframe(uint8_t *out, int width, int height)
{
    struct bitw w = {0};
    vp9_profile_put(&w, 0);
    bitw_put(&w, 1, 1);      /* frame_type: non-key */
    bitw_put(&w, 1, 1);      /* show_frame */
    bitw_put(&w, 0, 1);      /* error_resilient_mode */
    bitw_put(&w, 1, 2);      /* reset_frame_context */
    bitw_put(&w, 0x04, 8);   /* refresh_frame_flags */
    bitw_put(&w, 0x9a5, 12); /* 3 x (ref_frame_idx, sign_bias) */
    if (width == 0) {
        bitw_put(&w, 1, 1); /* found_ref on the first */
    } else {
        bitw_put(&w, 0, 3);
        vp9_size_put(&w, width, height);
    }
    return bitw_finish(&w, out);
}

/* An intra-only frame (hidden) of profile 0: no color_config. */
static size_t vp9_intra_only(uint8_t *out, int width, int height)
{
    struct bitw w = {0};
    vp9_profile_put(&w, 0);
    bitw_put(&w, 1, 1); /* frame_type: non-key */
    bitw_put(&w, 0, 1); /* show_frame */
    bitw_put(&w, 1, 1); /* error_resilient_mode: no reset_frame_context */
    bitw_put(&w, 1, 1); /* intra_only */
    bitw_put(&w, 0x498342, 24);
    bitw_put(&w, 0x10, 8); /* refresh_frame_flags */
    vp9_size_put(&w, width, height);
    return bitw_finish(&w, out);
}

/* One packet frame through the VP9 depacketizer; checks the output is the payload. */
static void vp9_one(const uint8_t *desc, size_t dlen, const uint8_t *bits, size_t blen,
                    struct tc_frame_info *fi)
{
    struct frame f = {0};
    frame_add(&f, 1, desc, dlen, bits, blen);
    struct vb_buf out;
    ASSERT_EQ(run(&tc_depay_vp9, f.pk, f.n, &out, fi), 0);
    ASSERT_EQ(out.len, blen);
    ASSERT_MEMEQ(out.p, bits, blen);
    vb_buf_free(&out);
}

/* Non-flexible mode with layer indices and TL0PICIDX; profile 0 key frame 1280x720. */
static void test_vp9_keyframe_nonflexible(void)
{
    uint8_t bits[96];
    size_t len = vp9_keyframe(bits, 0, false, 1280, 720);
    const uint8_t desc[] = {0xac, 0x15, 0x00, 0x07}; /* I L B E; 7-bit id; L; TL0PICIDX */
    struct tc_frame_info fi;
    vp9_one(desc, sizeof(desc), bits, len, &fi);
    ASSERT(fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 1280);
    ASSERT_EQ(fi.height, 720);
}

/* Key frames of profiles 1 to 3 (subsampling bits, bit depth, reserved bits, RGB). */
static void test_vp9_keyframe_profiles(void)
{
    const uint8_t desc[] = {0x0c}; /* B E */
    for (unsigned profile = 0; profile < 4; profile++) {
        for (int rgb = 0; rgb < 2; rgb++) {
            uint8_t bits[96];
            size_t len = vp9_keyframe(bits, profile, rgb, 352 + (int)profile, 288 - rgb);
            struct tc_frame_info fi;
            vp9_one(desc, sizeof(desc), bits, len, &fi);
            bool valid = !rgb || profile == 1 || profile == 3; /* RGB needs 4:4:4 */
            ASSERT_EQ(fi.key, valid);
            ASSERT_EQ(fi.damaged, !valid);
            ASSERT_EQ(fi.width, valid ? 352 + (int)profile : 0);
            ASSERT_EQ(fi.height, valid ? 288 - rgb : 0);
        }
    }
}

/* Flexible mode, two packets, picture id of 15 bits and three P_DIFFs; inter frame. */
static void test_vp9_flexible_pdiff(void)
{
    uint8_t bits[96];
    size_t len = vp9_interframe(bits, 0, 0);
    const uint8_t d1[] = {0xf8, 0x81, 0x23, 0x20, 0x03, 0x05, 0x04}; /* I P L F B */
    const uint8_t d2[] = {0xf4, 0x81, 0x23, 0x20, 0x02};             /* I P L F E */
    struct frame f = {0};
    frame_add(&f, 65535, d1, sizeof(d1), bits, 3);
    frame_add(&f, 65536, d2, sizeof(d2), bits + 3, len - 3);
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp9, f.pk, f.n, &out, &fi), 0);
    ASSERT(!fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 0);
    ASSERT_EQ(out.len, len);
    ASSERT_MEMEQ(out.p, bits, len);
    vb_buf_free(&out);

    /* A fourth P_DIFF (N set on the third) is malformed. */
    const uint8_t d4[] = {0xfc, 0x81, 0x23, 0x20, 0x03, 0x05, 0x07, 0x04};
    struct frame g = {0};
    frame_add(&g, 1, d4, sizeof(d4), bits, len);
    ASSERT_EQ(run(&tc_depay_vp9, g.pk, g.n, &out, &fi), -EBADMSG);
    vb_buf_free(&out);
}

/* Inter frames: found_ref (no size), an explicit size, an intra-only frame, and
 * show_existing_frame. */
static void test_vp9_non_key_frames(void)
{
    const uint8_t desc[] = {0x4c}; /* P B E */
    uint8_t bits[96];
    struct tc_frame_info fi;
    size_t len = vp9_interframe(bits, 0, 0);
    vp9_one(desc, 1, bits, len, &fi);
    ASSERT(!fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 0);

    len = vp9_interframe(bits, 800, 600);
    vp9_one(desc, 1, bits, len, &fi);
    ASSERT(!fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 800);
    ASSERT_EQ(fi.height, 600);

    len = vp9_intra_only(bits, 640, 360);
    vp9_one(desc, 1, bits, len, &fi);
    ASSERT(!fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 640);
    ASSERT_EQ(fi.height, 360);

    const uint8_t existing[] = {0x8b}; /* marker 2, profile 0, show_existing_frame, slot 3 */
    vp9_one(desc, 1, existing, 1, &fi);
    ASSERT(!fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 0);
}

/* The SS descriptor of a two-layer stream: I(15 bits) L V B E; Y with 640x360 and 1280x720;
 * G with two pictures (one and two P_DIFFs). */
static const uint8_t vp9_ss_desc[] = {
    0xae, 0x80, 0x01, 0x00, 0x00,                   /* I L B E V; picture id; L; TL0PICIDX */
    0x38, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, /* N_S=1 Y G; 640 360 1280 720 */
    0xd0, 0x02, 0x04, 0x04, 0x38, 0x01, 0x02,       /* N_G=2; TID0 R1; TID1 U R2 */
};

static void test_vp9_scalability_structure(void)
{
    uint8_t bits[96];
    size_t len = vp9_keyframe(bits, 0, false, 320, 180);
    struct tc_frame_info fi;
    vp9_one(vp9_ss_desc, sizeof(vp9_ss_desc), bits, len, &fi);
    ASSERT(fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 320); /* the header wins over the SS */
    ASSERT_EQ(fi.height, 180);

    /* A header that cannot be parsed (frame_marker 0): the SS's largest layer. */
    const uint8_t junk[] = {0x00, 0x11, 0x22, 0x33};
    vp9_one(vp9_ss_desc, sizeof(vp9_ss_desc), junk, sizeof(junk), &fi);
    ASSERT(!fi.key);
    ASSERT(fi.damaged);
    ASSERT_EQ(fi.width, 1280);
    ASSERT_EQ(fi.height, 720);
}

/* Two spatial layers of one picture: concatenated; key from the first, size from the last. */
static void test_vp9_spatial_layers(void)
{
    uint8_t l0[96], l1[96];
    size_t n0 = vp9_keyframe(l0, 0, false, 640, 360);
    size_t n1 = vp9_interframe(l1, 1280, 720);
    const uint8_t d0[] = {0x2c, 0x00, 0x00};  /* L B E; SID 0; TL0PICIDX */
    const uint8_t d1a[] = {0x28, 0x03, 0x00}; /* L B; SID 1 D */
    const uint8_t d1b[] = {0x24, 0x03, 0x00}; /* L E */
    struct frame f = {0};
    frame_add(&f, 10, d0, sizeof(d0), l0, n0);
    frame_add(&f, 11, d1a, sizeof(d1a), l1, 4);
    frame_add(&f, 12, d1b, sizeof(d1b), l1 + 4, n1 - 4);
    struct vb_buf out;
    struct tc_frame_info fi;
    ASSERT_EQ(run(&tc_depay_vp9, f.pk, f.n, &out, &fi), 0);
    ASSERT(fi.key);
    ASSERT(!fi.damaged);
    ASSERT_EQ(fi.width, 1280);
    ASSERT_EQ(fi.height, 720);
    ASSERT_EQ(out.len, n0 + n1);
    ASSERT_MEMEQ(out.p, l0, n0);
    ASSERT_MEMEQ(out.p + n0, l1, n1);
    vb_buf_free(&out);

    /* Base layer lost: not a keyframe, but the upper layer's size is still read. */
    ASSERT_EQ(run(&tc_depay_vp9, f.pk + 1, 2, &out, &fi), 0);
    ASSERT(!fi.key);
    ASSERT_EQ(fi.width, 1280);
    ASSERT_EQ(out.len, n1);
    vb_buf_free(&out);
}

static void test_vp9_damage(void)
{
    uint8_t bits[96];
    size_t len = vp9_keyframe(bits, 0, false, 1280, 720);
    const uint8_t first[] = {0x08}, mid[] = {0x00}, last[] = {0x04};
    struct vb_buf out;
    struct tc_frame_info fi;

    struct frame f = {0}; /* B=0 on the first packet */
    frame_add(&f, 1, mid, 1, bits, 10);
    frame_add(&f, 2, last, 1, bits + 10, len - 10);
    ASSERT_EQ(run(&tc_depay_vp9, f.pk, f.n, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT(!fi.key);
    ASSERT_EQ(fi.width, 0);
    ASSERT_EQ(out.len, len);
    vb_buf_free(&out);

    struct frame g = {0}; /* a gap */
    frame_add(&g, 1, first, 1, bits, 10);
    frame_add(&g, 3, last, 1, bits + 10, len - 10);
    ASSERT_EQ(run(&tc_depay_vp9, g.pk, g.n, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT(fi.key);
    ASSERT_EQ(fi.width, 1280);
    vb_buf_free(&out);
    g.pk[1].seq = 2;
    ASSERT_EQ(run(&tc_depay_vp9, g.pk, g.n, &out, &fi), 0);
    ASSERT(!fi.damaged);
    vb_buf_free(&out);

    /* A key frame with a wrong sync code. */
    bits[2] ^= 0x10;
    struct frame h = {0};
    frame_add(&h, 1, first, 1, bits, len);
    ASSERT_EQ(run(&tc_depay_vp9, h.pk, h.n, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT(!fi.key);
    vb_buf_free(&out);
}

/* Descriptors cut at every length, alone and before a good packet; a key frame cut at every
 * length behind the SS descriptor (the SS size is the fallback throughout). */
static void test_vp9_truncations(void)
{
    uint8_t key[96], inter[96], pkt[256];
    size_t klen = vp9_keyframe(key, 0, false, 1280, 720);
    size_t ilen = vp9_interframe(inter, 0, 0);
    const size_t header_bytes = 9; /* 69 bits up to render_and_frame_size_different */

    size_t dlen = sizeof(vp9_ss_desc);
    memcpy(pkt, vp9_ss_desc, dlen);
    memcpy(pkt + dlen, key, klen);
    for (size_t len = 1; len <= dlen + klen; len++) {
        struct tc_frame_info fi;
        int rc = run_exact(&tc_depay_vp9, pkt, len, &fi);
        if (len <= dlen) {
            ASSERT_EQ(rc, -EBADMSG);
            continue;
        }
        ASSERT_EQ(rc, 0);
        bool whole = len - dlen >= header_bytes;
        ASSERT_EQ(fi.key, whole);
        ASSERT_EQ(fi.damaged, !whole);
        ASSERT_EQ(fi.width, 1280);
        ASSERT_EQ(fi.height, 720);
    }

    static const uint8_t descs[][8] = {
        {0x88, 0x05},
        {0x88, 0x85, 0x01},
        {0xa8, 0x00, 0x01, 0x02},
        {0xb8, 0x00, 0x40},
        {0xf8, 0x81, 0x23, 0x20, 0x03, 0x05, 0x04},
        {0x4a, 0x00},                               /* V: SS with neither Y nor G, N_S=0 */
        {0x4a, 0x18, 0x01, 0x40, 0x00, 0xf0, 0x00}, /* SS: Y (one layer) G with N_G=0 */
    };
    static const size_t dlens[] = {2, 3, 4, 3, 7, 2, 7};
    for (size_t k = 0; k < sizeof(dlens) / sizeof(dlens[0]); k++) {
        dlen = dlens[k];
        memcpy(pkt, descs[k], dlen);
        memcpy(pkt + dlen, inter, ilen);
        for (size_t len = 1; len <= dlen + ilen; len++) {
            struct tc_frame_info fi;
            int rc = run_exact(&tc_depay_vp9, pkt, len, &fi);
            ASSERT_EQ(rc, len <= dlen ? -EBADMSG : 0);
            ASSERT(!fi.key);
            if (len == dlen + ilen) {
                ASSERT(!fi.damaged);
                ASSERT_EQ(fi.width, 0); /* parsed: no SS fallback */
            }
        }
        for (size_t len = 1; len <= dlen; len++) {
            struct frame f = {0};
            const uint8_t cont[] = {0x04};
            frame_add(&f, 1, pkt, len, NULL, 0);
            frame_add(&f, 2, cont, 1, inter + 2, 5);
            struct vb_buf out;
            struct tc_frame_info fi;
            ASSERT_EQ(run(&tc_depay_vp9, f.pk, f.n, &out, &fi), 0);
            ASSERT(fi.damaged);
            ASSERT(!fi.key);
            ASSERT_EQ(out.len, 5);
            vb_buf_free(&out);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */

static void test_registry(void)
{
    ASSERT(tc_depay_find("VP8") == &tc_depay_vp8);
    ASSERT(tc_depay_find("vp8") == &tc_depay_vp8);
    ASSERT(tc_depay_find("Vp9") == &tc_depay_vp9);
    ASSERT_STREQ(tc_depay_vp8.codec, "vp8");
    ASSERT_STREQ(tc_depay_vp9.codec, "vp9");
    ASSERT(tc_depay_vp8.extradata == NULL);
    ASSERT(tc_depay_vp9.extradata == NULL);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"registry", test_registry},
        {"vp8_single_keyframe", test_vp8_single_keyframe},
        {"vp8_multi_packet_extensions", test_vp8_multi_packet_extensions},
        {"vp8_interframe", test_vp8_interframe},
        {"vp8_missing_start", test_vp8_missing_start},
        {"vp8_seq_gap", test_vp8_seq_gap},
        {"vp8_bad_keyframe_header", test_vp8_bad_keyframe_header},
        {"vp8_malformed_packets", test_vp8_malformed_packets},
        {"vp8_truncations", test_vp8_truncations},
        {"vp8_out_full", test_vp8_out_full},
        {"vp9_keyframe_nonflexible", test_vp9_keyframe_nonflexible},
        {"vp9_keyframe_profiles", test_vp9_keyframe_profiles},
        {"vp9_flexible_pdiff", test_vp9_flexible_pdiff},
        {"vp9_non_key_frames", test_vp9_non_key_frames},
        {"vp9_scalability_structure", test_vp9_scalability_structure},
        {"vp9_spatial_layers", test_vp9_spatial_layers},
        {"vp9_damage", test_vp9_damage},
        {"vp9_truncations", test_vp9_truncations},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
