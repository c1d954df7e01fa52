/* This file implements the tests of the AV1 depacketizer (transcode/av1.c) over hand-built RTP
 * payloads: both element forms (W=0 and W=N), OBU fragments across packets and their loss,
 * the sequence header (frame size, keyframe, extradata), and truncated or malformed input. */
#include <errno.h>

#include "tests/test.h"
#include "transcode/depay.h"

#define TD 0x12, 0x00 /* temporal delimiter with a zero size field */

/* OBU headers without a size field, as RTP carries them. */
#define OBU_SEQ 0x08   /* sequence header */
#define OBU_TDEL 0x10  /* temporal delimiter */
#define OBU_META 0x28  /* metadata */
#define OBU_FRAME 0x30 /* frame */
#define OBU_TLIST 0x40 /* tile list */

static struct tc_rtp pkt(const uint8_t *p, size_t len, uint64_t seq)
{
    struct tc_rtp r = {.payload = p, .len = len, .seq = seq, .ts = 9000, .marker = false};
    return r;
}

/* Runs one frame through `d`; `out` is reset first. */
static int run(struct tc_depay *d, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
               struct tc_frame_info *fi)
{
    out->len = 0;
    memset(fi, 0, sizeof(*fi));
    return d->ops->frame(d->state, pkts, n, out, fi);
}

#define ASSERT_OUT(buf, ...)                                                                       \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        ASSERT_EQ((buf).len, sizeof(want_));                                                       \
        ASSERT_MEMEQ((buf).p, want_, sizeof(want_));                                               \
    } while (0)

/* A frame OBU (no size field) with frame header bits show_existing_frame=0, frame_type=KEY. */
static const uint8_t key_frame[] = {OBU_FRAME, 0x10, 0xaa, 0xbb};
/* The same with frame_type=INTER_FRAME. */
static const uint8_t inter_frame[] = {OBU_FRAME, 0x30, 0xcc};

/* An MSB-first bit writer for building sequence headers. */
struct bitw {
    uint8_t b[64];
    size_t pos;
};

static void bitw_put(struct bitw *w, uint32_t v, unsigned n)
{
    while (n-- > 0) {
        if ((v >> n) & 1u)
            w->b[w->pos >> 3] |= (uint8_t)(0x80u >> (w->pos & 7));
        w->pos++;
    }
}

/* Ends the payload with trailing bits; its length in bytes. */
static size_t bitw_finish(struct bitw *w)
{
    bitw_put(w, 1, 1);
    w->pos = (w->pos + 7) & ~(size_t)7;
    return w->pos / 8;
}

/* The part of a sequence header after the frame size, with fixed tool flags. */
static void put_seq_tail(struct bitw *w)
{
    bitw_put(w, 0, 1); /* frame_id_numbers_present_flag */
    bitw_put(w, 0, 3); /* 128x128 superblock, filter intra, intra edge filter */
    bitw_put(w, 0, 4); /* interintra, masked compound, warped motion, dual filter */
    bitw_put(w, 0, 1); /* enable_order_hint */
    bitw_put(w, 1, 1); /* seq_choose_screen_content_tools */
    bitw_put(w, 1, 1); /* seq_choose_integer_mv */
    bitw_put(w, 0, 3); /* superres, cdef, restoration */
    bitw_put(w, 0, 1); /* color_config: high_bitdepth */
    bitw_put(w, 0, 1); /* mono_chrome */
    bitw_put(w, 0, 1); /* color_description_present_flag */
    bitw_put(w, 0, 1); /* color_range */
    bitw_put(w, 0, 2); /* chroma_sample_position */
    bitw_put(w, 0, 1); /* separate_uv_delta_q */
    bitw_put(w, 0, 1); /* film_grain_params_present */
}

/* A simple main-profile sequence header payload for 1280x720. */
static size_t seq_720p(uint8_t *p)
{
    struct bitw w = {{0}, 0};
    bitw_put(&w, 0, 3);  /* seq_profile */
    bitw_put(&w, 0, 1);  /* still_picture */
    bitw_put(&w, 0, 1);  /* reduced_still_picture_header */
    bitw_put(&w, 0, 1);  /* timing_info_present_flag */
    bitw_put(&w, 0, 1);  /* initial_display_delay_present_flag */
    bitw_put(&w, 0, 5);  /* operating_points_cnt_minus_1 */
    bitw_put(&w, 0, 12); /* operating_point_idc[0] */
    bitw_put(&w, 8, 5);  /* seq_level_idx[0] = 4.0 */
    bitw_put(&w, 0, 1);  /* seq_tier[0] */
    bitw_put(&w, 10, 4); /* frame_width_bits_minus_1 */
    bitw_put(&w, 9, 4);  /* frame_height_bits_minus_1 */
    bitw_put(&w, 1279, 11);
    bitw_put(&w, 719, 10);
    put_seq_tail(&w);
    size_t n = bitw_finish(&w);
    memcpy(p, w.b, n);
    return n;
}

/* A sequence header with timing info, a decoder model, initial display delays and two
 * operating points (each syntax branch taken once), for 1920x1080. */
static size_t seq_1080p_models(uint8_t *p)
{
    struct bitw w = {{0}, 0};
    bitw_put(&w, 0, 3);      /* seq_profile */
    bitw_put(&w, 0, 2);      /* still_picture, reduced_still_picture_header */
    bitw_put(&w, 1, 1);      /* timing_info_present_flag */
    bitw_put(&w, 1001, 32);  /* num_units_in_display_tick */
    bitw_put(&w, 60000, 32); /* time_scale */
    bitw_put(&w, 1, 1);      /* equal_picture_interval */
    bitw_put(&w, 0, 3);      /* uvlc: three leading zeros, */
    bitw_put(&w, 1, 1);      /* the stop bit, */
    bitw_put(&w, 5, 3);      /* and three value bits */
    bitw_put(&w, 1, 1);      /* decoder_model_info_present_flag */
    bitw_put(&w, 9, 5);      /* buffer_delay_length_minus_1: 10-bit delays */
    bitw_put(&w, 1, 32);     /* num_units_in_decoding_tick */
    bitw_put(&w, 4, 5);      /* buffer_removal_time_length_minus_1 */
    bitw_put(&w, 4, 5);      /* frame_presentation_time_length_minus_1 */
    bitw_put(&w, 1, 1);      /* initial_display_delay_present_flag */
    bitw_put(&w, 1, 5);      /* operating_points_cnt_minus_1: two points */
    bitw_put(&w, 0x103, 12); /* operating_point_idc[0] */
    bitw_put(&w, 13, 5);     /* seq_level_idx[0] > 7: */
    bitw_put(&w, 1, 1);      /* seq_tier[0] */
    bitw_put(&w, 1, 1);      /* decoder_model_present_for_this_op[0] */
    bitw_put(&w, 300, 10);   /* decoder_buffer_delay */
    bitw_put(&w, 500, 10);   /* encoder_buffer_delay */
    bitw_put(&w, 1, 1);      /* low_delay_mode_flag */
    bitw_put(&w, 1, 1);      /* initial_display_delay_present_for_this_op[0] */
    bitw_put(&w, 9, 4);      /* initial_display_delay_minus_1 */
    bitw_put(&w, 0x101, 12); /* operating_point_idc[1] */
    bitw_put(&w, 5, 5);      /* seq_level_idx[1] <= 7: no tier */
    bitw_put(&w, 0, 1);      /* decoder_model_present_for_this_op[1] */
    bitw_put(&w, 0, 1);      /* initial_display_delay_present_for_this_op[1] */
    bitw_put(&w, 11, 4);     /* frame_width_bits_minus_1 */
    bitw_put(&w, 10, 4);     /* frame_height_bits_minus_1 */
    bitw_put(&w, 1919, 12);
    bitw_put(&w, 1079, 11);
    put_seq_tail(&w);
    size_t n = bitw_finish(&w);
    memcpy(p, w.b, n);
    return n;
}

/* W=0 (every element has a length) and W=2 (the last has none) give the same temporal unit:
 * each OBU gets the size flag and its size. */
static void test_element_forms(void)
{
    static const uint8_t w0[] = {0x00, 4, OBU_FRAME, 0x30, 0x01, 0x02, 3, OBU_META, 0x05, 0x06};
    static const uint8_t w2[] = {0x20, 4, OBU_FRAME, 0x30, 0x01, 0x02, OBU_META, 0x05, 0x06};
    static const uint8_t w1[] = {0x10, OBU_FRAME, 0x30, 0x01, 0x02};
    struct tc_depay *d = tc_depay_new(&tc_depay_av1);
    struct vb_buf out;
    vb_buf_init(&out, 4096);
    struct tc_frame_info fi;

    struct tc_rtp p = pkt(w0, sizeof(w0), 1);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x32, 3, 0x30, 0x01, 0x02, 0x2a, 2, 0x05, 0x06);
    ASSERT(!fi.key && !fi.damaged);
    ASSERT_EQ(fi.width, 0);

    p = pkt(w2, sizeof(w2), 2);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x32, 3, 0x30, 0x01, 0x02, 0x2a, 2, 0x05, 0x06);
    ASSERT(!fi.damaged);

    p = pkt(w1, sizeof(w1), 3);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x32, 3, 0x30, 0x01, 0x02);

    /* W=3 with only two elements (both with a length): the second ends the packet. */
    static const uint8_t w3short[] = {0x30, 1, OBU_META, 2, OBU_META, 0x07};
    p = pkt(w3short, sizeof(w3short), 4);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x2a, 0, 0x2a, 1, 0x07);
    vb_buf_free(&out);
    tc_depay_free(d);
}

/* Extension headers are kept; OBUs that already have a size field are taken at their size;
 * temporal delimiters and tile lists are dropped; a 199-byte payload gets a 2-byte size. */
static void test_obu_rewrite(void)
{
    uint8_t big[1 + 3 + 200];
    big[0] = 0x20; /* W=2 */
    big[1] = 2;
    big[2] = OBU_TDEL;
    big[3] = 0x00;
    big[4] = OBU_FRAME;
    for (size_t i = 5; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    struct tc_depay *d = tc_depay_new(&tc_depay_av1);
    struct vb_buf out;
    vb_buf_init(&out, 4096);
    struct tc_frame_info fi;

    struct tc_rtp p = pkt(big, sizeof(big), 10);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_EQ(out.len, 2 + 1 + 2 + 199);
    ASSERT_MEMEQ(out.p, ((const uint8_t[]){TD, 0x32, 0xc7, 0x01}), 5);
    ASSERT_MEMEQ(out.p + 5, big + 5, 199);

    /* Extension byte kept; a size field already present (2) is honoured and what follows it in
     * the element ignored; the tile list goes. */
    static const uint8_t ext[] = {0x00, 3,    0x34, 0x28, 0x09, 6,         0x36, 0x48,
                                  2,    0xa1, 0xa2, 0xa3, 2,    OBU_TLIST, 0x00};
    p = pkt(ext, sizeof(ext), 11);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x36, 0x28, 1, 0x09, 0x36, 0x48, 2, 0xa1, 0xa2);
    ASSERT(!fi.damaged);

    /* Only a temporal delimiter: nothing usable. */
    static const uint8_t only_td[] = {0x10, OBU_TDEL};
    p = pkt(only_td, sizeof(only_td), 12);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), -EBADMSG);

    /* Output buffer too small. */
    struct vb_buf tiny;
    vb_buf_init(&tiny, 8);
    p = pkt(big, sizeof(big), 13);
    ASSERT_EQ(run(d, &p, 1, &tiny, &fi), -E2BIG);
    vb_buf_free(&tiny);
    vb_buf_free(&out);
    tc_depay_free(d);
}

/* Malformed elements and OBUs: damaged, and what was whole is still written. */
static void test_malformed(void)
{
    struct tc_depay *d = tc_depay_new(&tc_depay_av1);
    struct vb_buf out;
    vb_buf_init(&out, 4096);
    struct tc_frame_info fi;
    /* A length past the end of the packet after a good element. */
    static const uint8_t past[] = {0x00, 2, OBU_META, 0x01, 9, OBU_META, 0x02};
    struct tc_rtp p = pkt(past, sizeof(past), 1);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x2a, 1, 0x01);
    ASSERT(fi.damaged);
    /* A LEB128 longer than 8 bytes. */
    static const uint8_t leb9[] = {0x00, 0x80, 0x80, 0x80, 0x80,    0x80,
                                   0x80, 0x80, 0x80, 0x01, OBU_META};
    p = pkt(leb9, sizeof(leb9), 2);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), -EBADMSG);
    ASSERT(fi.damaged);
    /* A non-minimal LEB128 (3 bytes for 2) is fine. */
    static const uint8_t leb3[] = {0x00, 0x82, 0x80, 0x00, OBU_META, 0x03};
    p = pkt(leb3, sizeof(leb3), 3);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x2a, 1, 0x03);
    ASSERT(!fi.damaged);
    /* Forbidden bit; an OBU size field larger than its element; a missing extension byte; an
     * empty element; each is left out. */
    static const uint8_t bad[] = {0x00, 2, 0xa8, 0x01, 3, 0x2a,     5,
                                  0x01, 1, 0x2c, 0,    2, OBU_META, 0x04};
    p = pkt(bad, sizeof(bad), 4);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT_OUT(out, TD, 0x2a, 1, 0x04);
    ASSERT(fi.damaged);
    /* A packet with only the aggregation header. */
    static const uint8_t hdr_only[] = {0x00};
    p = pkt(hdr_only, sizeof(hdr_only), 5);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), -EBADMSG);
    ASSERT(fi.damaged);
    vb_buf_free(&out);
    tc_depay_free(d);
}

/* Three packets: OBU A whole and the start of B; the middle of B; the end of B and OBU C. */
static const uint8_t frag1[] = {0x60, 2, OBU_META, 0x0a, OBU_FRAME, 0x30, 0x11}; /* Y, W=2 */
static const uint8_t frag2[] = {0xd0, 0x12, 0x13, 0x14};                         /* Z Y, W=1 */
static const uint8_t frag3[] = {0xa0, 2, 0x15, 0x16, OBU_META, 0x0c};            /* Z, W=2 */
/* The same OBUs unfragmented. */
static const uint8_t whole[] = {0x30, 2,    OBU_META, 0x0a, 8,    OBU_FRAME, 0x30, 0x11,
                                0x12, 0x13, 0x14,     0x15, 0x16, OBU_META,  0x0c};

static void test_fragments(void)
{
    struct tc_depay *d = tc_depay_new(&tc_depay_av1);
    struct vb_buf out, ref;
    vb_buf_init(&out, 4096);
    vb_buf_init(&ref, 4096);
    struct tc_frame_info fi;

    struct tc_rtp w = pkt(whole, sizeof(whole), 1);
    ASSERT_EQ(run(d, &w, 1, &ref, &fi), 0);
    ASSERT_OUT(ref, TD, 0x2a, 1, 0x0a, 0x32, 7, 0x30, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x2a, 1,
               0x0c);
    ASSERT(!fi.damaged);

    struct tc_rtp ps[3] = {pkt(frag1, sizeof(frag1), 7), pkt(frag2, sizeof(frag2), 8),
                           pkt(frag3, sizeof(frag3), 9)};
    ASSERT_EQ(run(d, ps, 3, &out, &fi), 0);
    ASSERT(!fi.damaged);
    ASSERT_EQ(out.len, ref.len);
    ASSERT_MEMEQ(out.p, ref.p, ref.len);

    /* Middle fragment lost (seq gap): B is absent, A and C are kept. */
    struct tc_rtp lost[2] = {pkt(frag1, sizeof(frag1), 7), pkt(frag3, sizeof(frag3), 9)};
    ASSERT_EQ(run(d, lost, 2, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT_OUT(out, TD, 0x2a, 1, 0x0a, 0x2a, 1, 0x0c);

    /* Last fragment lost: the frame ends with B open. */
    ASSERT_EQ(run(d, ps, 2, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT_OUT(out, TD, 0x2a, 1, 0x0a);

    /* First packet lost: the frame starts with a continuation. */
    ASSERT_EQ(run(d, ps + 1, 2, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT_OUT(out, TD, 0x2a, 1, 0x0c);

    /* A fragment that the next packet does not continue (Z clear), with no seq gap. */
    struct tc_rtp noz[2] = {pkt(frag1, sizeof(frag1), 20), pkt(whole, sizeof(whole), 21)};
    ASSERT_EQ(run(d, noz, 2, &out, &fi), 0);
    ASSERT(fi.damaged);
    ASSERT_EQ(out.len, 2 + 3 + ref.len - 2);
    ASSERT_MEMEQ(out.p + 5, ref.p + 2, ref.len - 2);

    /* And the whole run again afterwards: nothing left over from the damaged frames. */
    ASSERT_EQ(run(d, ps, 3, &out, &fi), 0);
    ASSERT(!fi.damaged);
    ASSERT_EQ(out.len, ref.len);
    ASSERT_MEMEQ(out.p, ref.p, ref.len);
    vb_buf_free(&out);
    vb_buf_free(&ref);
    tc_depay_free(d);
}

/* Builds a packet (W=0) holding a sequence header OBU and `frame`; its length. */
static size_t build_seq_packet(uint8_t *pk, uint8_t agg, const uint8_t *seq, size_t seq_len,
                               const uint8_t *frame, size_t frame_len)
{
    size_t n = 0;
    pk[n++] = agg;
    pk[n++] = (uint8_t)(1 + seq_len);
    pk[n++] = OBU_SEQ;
    memcpy(pk + n, seq, seq_len);
    n += seq_len;
    pk[n++] = (uint8_t)frame_len;
    memcpy(pk + n, frame, frame_len);
    return n + frame_len;
}

static void test_sequence_header(void)
{
    uint8_t seq[64], pk[128], want[128];
    size_t seq_len = seq_720p(seq);
    ASSERT_LT(seq_len, 64);
    struct tc_depay *d = tc_depay_new(&tc_depay_av1);
    struct vb_buf out, ex;
    vb_buf_init(&out, 4096);
    vb_buf_init(&ex, 4096);
    struct tc_frame_info fi;

    /* Nothing before a sequence header was seen. */
    ASSERT_EQ(d->ops->extradata(d->state, &ex), 0);
    ASSERT_EQ(ex.len, 0);
    static const uint8_t w1_inter[] = {0x10, OBU_FRAME, 0x30, 0xcc};
    struct tc_rtp p = pkt(w1_inter, sizeof(w1_inter), 1);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT(!fi.key);
    ASSERT_EQ(d->ops->extradata(d->state, &ex), 0);
    ASSERT_EQ(ex.len, 0);

    /* Sequence header + key frame: key, 1280x720, extradata = the header with a size. */
    size_t n = build_seq_packet(pk, 0x00, seq, seq_len, key_frame, sizeof(key_frame));
    p = pkt(pk, n, 2);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT(fi.key && !fi.damaged);
    ASSERT_EQ(fi.width, 1280);
    ASSERT_EQ(fi.height, 720);
    size_t k = 0;
    want[k++] = 0x12;
    want[k++] = 0x00;
    want[k++] = 0x0a;
    want[k++] = (uint8_t)seq_len;
    memcpy(want + k, seq, seq_len);
    k += seq_len;
    want[k++] = 0x32;
    want[k++] = 3;
    memcpy(want + k, key_frame + 1, 3);
    k += 3;
    ASSERT_EQ(out.len, k);
    ASSERT_MEMEQ(out.p, want, k);
    ASSERT_EQ(d->ops->extradata(d->state, &ex), 0);
    ASSERT_EQ(ex.len, 2 + seq_len);
    ASSERT_MEMEQ(ex.p, want + 2, 2 + seq_len);

    /* Sequence header + inter frame: not key, size still reported. */
    n = build_seq_packet(pk, 0x00, seq, seq_len, inter_frame, sizeof(inter_frame));
    p = pkt(pk, n, 3);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT(!fi.key);
    ASSERT_EQ(fi.width, 1280);

    /* A frame without a sequence header: no size; the N bit alone makes a keyframe. */
    static const uint8_t n_inter[] = {0x18, OBU_FRAME, 0x30, 0xcc};
    p = pkt(n_inter, sizeof(n_inter), 4);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT(fi.key);
    ASSERT_EQ(fi.width, 0);

    /* The richer header: 1920x1080, replaces the kept one. */
    uint8_t seq2[64];
    size_t seq2_len = seq_1080p_models(seq2);
    n = build_seq_packet(pk, 0x00, seq2, seq2_len, key_frame, sizeof(key_frame));
    p = pkt(pk, n, 5);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT(fi.key && !fi.damaged);
    ASSERT_EQ(fi.width, 1920);
    ASSERT_EQ(fi.height, 1080);
    ex.len = 0;
    ASSERT_EQ(d->ops->extradata(d->state, &ex), 0);
    ASSERT_EQ(ex.len, 2 + seq2_len);
    ASSERT_EQ(ex.p[0], 0x0a);
    ASSERT_EQ(ex.p[1], seq2_len);
    ASSERT_MEMEQ(ex.p + 2, seq2, seq2_len);

    /* A truncated sequence header is written but neither kept nor believed. */
    n = build_seq_packet(pk, 0x00, seq, 4, key_frame, sizeof(key_frame));
    p = pkt(pk, n, 6);
    ASSERT_EQ(run(d, &p, 1, &out, &fi), 0);
    ASSERT(fi.damaged && !fi.key);
    ASSERT_EQ(fi.width, 0);
    ex.len = 0;
    ASSERT_EQ(d->ops->extradata(d->state, &ex), 0);
    ASSERT_EQ(ex.len, 2 + seq2_len);
    vb_buf_free(&out);
    vb_buf_free(&ex);
    tc_depay_free(d);
}

/* Every prefix of every packet, alone and in sequence, and every aggregation header value:
 * no crash, no read past the payload (ASan), and an error or a temporal unit. */
static void test_truncation(void)
{
    uint8_t seq[64], pk[128];
    size_t seq_len = seq_1080p_models(seq);
    size_t seq_pk_len = build_seq_packet(pk, 0x08, seq, seq_len, key_frame, sizeof(key_frame));
    const struct {
        const uint8_t *p;
        size_t len;
    } all[] = {{frag1, sizeof(frag1)},
               {frag2, sizeof(frag2)},
               {frag3, sizeof(frag3)},
               {whole, sizeof(whole)},
               {pk, seq_pk_len}};
    struct tc_depay *d = tc_depay_new(&tc_depay_av1);
    struct vb_buf out;
    vb_buf_init(&out, 4096);
    struct tc_frame_info fi;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        for (size_t len = 1; len <= all[i].len; len++) {
            uint8_t *copy = malloc(len); /* exact size, so ASan sees any overread */
            ASSERT(copy);
            memcpy(copy, all[i].p, len);
            struct tc_rtp ps[3] = {pkt(frag1, sizeof(frag1), 1), pkt(copy, len, 2),
                                   pkt(frag3, sizeof(frag3), 3)};
            int rc = run(d, ps + 1, 1, &out, &fi);
            ASSERT(rc == 0 || rc == -EBADMSG);
            ASSERT_GE(out.len, 2);
            ASSERT_EQ(out.p[0], 0x12);
            rc = run(d, ps, 3, &out, &fi);
            ASSERT(rc == 0 || rc == -EBADMSG);
            for (unsigned agg = 0; agg < 256; agg++) {
                copy[0] = (uint8_t)agg;
                rc = run(d, ps, 3, &out, &fi);
                ASSERT(rc == 0 || rc == -EBADMSG);
                ASSERT_EQ(d->ops->extradata(d->state, &out), 0);
            }
            free(copy);
        }
    }
    vb_buf_free(&out);
    tc_depay_free(d);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"element_forms", test_element_forms},
        {"obu_rewrite", test_obu_rewrite},
        {"malformed", test_malformed},
        {"fragments", test_fragments},
        {"sequence_header", test_sequence_header},
        {"truncation", test_truncation},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
