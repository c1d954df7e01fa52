/* This file implements the AV1 depacketizer (AOMedia "RTP Payload Format For AV1"): it takes
 * the OBU elements out of every packet of a temporal unit, joins OBUs fragmented across
 * packets, and writes the temporal unit in the low-overhead bitstream format containers store:
 * a temporal delimiter, then every OBU with obu_has_size_field set and its size.
 *
 * DESIGN: an OBU element in a packet is either a whole OBU or a fragment of one; the
 * aggregation header's Z and Y bits say whether the first element continues the previous
 * packet's last one and whether the last element goes on in the next packet. Fragments are
 * gathered in a bounded buffer in the state; any break in the chain (a sequence number gap, a
 * continuation with nothing to continue, a fragment that is not continued) drops the partial
 * OBU and marks the frame damaged, since a decoder cannot use half an OBU. An OBU never spans
 * two temporal units, so a fragment still open at the end of a frame is dropped too.
 *
 * RTP senders usually leave obu_has_size_field at 0, so every OBU header is rewritten with the
 * flag set and followed by a LEB128 size (an OBU that already has a size field is taken at its
 * own size). Temporal delimiters and tile list OBUs in the payload are dropped: the first is
 * written once at the start, the second has no place in an RTP stream. The latest sequence
 * header is kept for extradata() and gives the frame size; a sequence header followed by a
 * frame header of a key frame, or the N bit (new coded video sequence), marks a keyframe. */
#include "transcode/depay.h"

#include <errno.h>
#include <string.h>

#include "transcode/bits.h"

#define AV1_OBU_MAX (16u << 20) /* largest OBU reassembled from fragments */
#define AV1_SEQ_MAX 1024        /* largest sequence header payload kept for extradata */
#define AV1_LEB128_MAX 8        /* bytes of a LEB128 value we read or write at most */

/* Aggregation header bits. */
#define AGG_Z 0x80u /* the first element continues an OBU from the previous packet */
#define AGG_Y 0x40u /* the last element continues in the next packet */
#define AGG_N 0x08u /* first packet of a coded video sequence */

/* OBU header bits and types. */
#define OBU_FORBIDDEN 0x80u
#define OBU_EXTENSION 0x04u
#define OBU_HAS_SIZE 0x02u
enum {
    OBU_SEQUENCE_HEADER = 1,
    OBU_TEMPORAL_DELIMITER = 2,
    OBU_FRAME_HEADER = 3,
    OBU_FRAME = 6,
    OBU_TILE_LIST = 8,
};

struct av1_state {
    struct vb_buf frag; /* the OBU being reassembled, while frag_open */
    bool frag_open;
    uint8_t seq_hdr[2]; /* latest sequence header's OBU header bytes (size flag set) */
    size_t seq_hdr_len; /* 0 until a sequence header was seen */
    uint8_t seq[AV1_SEQ_MAX];
    size_t seq_len;
};

/* What one frame() call has seen so far. */
struct av1_tu {
    struct av1_state *st;
    struct vb_buf *out;
    struct tc_frame_info *fi;
    bool seq_seen;      /* a sequence header came earlier in this temporal unit */
    bool seq_reduced;   /* its reduced_still_picture_header */
    bool frame_checked; /* the first frame header after it was looked at */
    size_t obus;        /* OBUs written to out */
};

/* Reads a LEB128 value of at most AV1_LEB128_MAX bytes; the bytes used, or -1. */
static int leb128_read(const uint8_t *p, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < len && i < AV1_LEB128_MAX; i++) {
        x |= (uint64_t)(p[i] & 0x7fu) << (7 * i);
        if (!(p[i] & 0x80u)) {
            *v = x;
            return (int)i + 1;
        }
    }
    return -1;
}

/* Writes `v` (< 2^56) in the fewest LEB128 bytes; the bytes written. */
static size_t leb128_write(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7fu;
        v >>= 7;
        p[n++] = (uint8_t)(v ? byte | 0x80u : byte);
    } while (v && n < AV1_LEB128_MAX);
    return n;
}

/* uvlc(): leading zeros, a one, then as many value bits (none past 31 zeros). */
static void skip_uvlc(struct tc_bits *b)
{
    unsigned zeros = 0;
    while (!tc_bits_u1(b)) {
        if (b->overrun)
            return;
        zeros++;
    }
    if (zeros < 32)
        tc_bits_skip(b, zeros);
}

/* Skips the sequence header from timing_info_present_flag to the end of the operating
 * points (present when reduced_still_picture_header is 0). */
static void skip_operating_points(struct tc_bits *b)
{
    bool decoder_model = false;
    unsigned delay_bits = 0;
    if (tc_bits_u1(b)) {     /* timing_info_present_flag */
        tc_bits_skip(b, 32); /* num_units_in_display_tick */
        tc_bits_skip(b, 32); /* time_scale */
        if (tc_bits_u1(b))   /* equal_picture_interval */
            skip_uvlc(b);    /* num_ticks_per_picture_minus_1 */
        decoder_model = tc_bits_u1(b);
        if (decoder_model) {
            delay_bits = tc_bits_u(b, 5) + 1; /* buffer_delay_length_minus_1 */
            tc_bits_skip(b, 32);              /* num_units_in_decoding_tick */
            tc_bits_skip(b, 5 + 5); /* buffer_removal_time / frame_presentation_time lengths */
        }
    }
    bool initial_delay = tc_bits_u1(b);
    unsigned count = tc_bits_u(b, 5) + 1; /* operating_points_cnt_minus_1 */
    for (unsigned i = 0; i < count && !b->overrun; i++) {
        tc_bits_skip(b, 12);     /* operating_point_idc */
        if (tc_bits_u(b, 5) > 7) /* seq_level_idx */
            tc_bits_skip(b, 1);  /* seq_tier */
        if (decoder_model && tc_bits_u1(b))
            tc_bits_skip(b, 2 * delay_bits + 1); /* buffer delays, low_delay_mode_flag */
        if (initial_delay && tc_bits_u1(b))
            tc_bits_skip(b, 4); /* initial_display_delay_minus_1 */
    }
}

/* Reads a sequence header OBU payload up to the maximum frame size. */
static int seq_parse(const uint8_t *p, size_t len, bool *reduced, int *width, int *height)
{
    struct tc_bits b;
    tc_bits_init(&b, p, len);
    unsigned profile = tc_bits_u(&b, 3);
    tc_bits_skip(&b, 1); /* still_picture */
    *reduced = tc_bits_u1(&b);
    if (*reduced)
        tc_bits_skip(&b, 5); /* seq_level_idx[0] */
    else
        skip_operating_points(&b);
    unsigned wbits = tc_bits_u(&b, 4) + 1;
    unsigned hbits = tc_bits_u(&b, 4) + 1;
    uint32_t w = tc_bits_u(&b, wbits);
    uint32_t h = tc_bits_u(&b, hbits);
    if (b.overrun || profile > 2)
        return -EBADMSG;
    *width = (int)w + 1;
    *height = (int)h + 1;
    return 0;
}

/* Whether a frame or frame header OBU payload starts a key frame. */
static bool frame_is_key(const uint8_t *p, size_t len, bool reduced)
{
    if (reduced)
        return true; /* a reduced still picture header is always a key frame */
    struct tc_bits b;
    tc_bits_init(&b, p, len);
    if (tc_bits_u1(&b)) /* show_existing_frame */
        return false;
    unsigned type = tc_bits_u(&b, 2);
    return !b.overrun && type == 0; /* KEY_FRAME */
}

/* Learns from a sequence header written to the output: size, keyframe context, extradata. */
static void note_sequence_header(struct av1_tu *t, const uint8_t *hdr, size_t hlen,
                                 const uint8_t *p, size_t len)
{
    bool reduced;
    int width, height;
    if (seq_parse(p, len, &reduced, &width, &height) < 0) {
        t->fi->damaged = true;
        return;
    }
    t->fi->width = width;
    t->fi->height = height;
    t->seq_seen = true;
    t->seq_reduced = reduced;
    t->frame_checked = false;
    if (len > AV1_SEQ_MAX)
        return;
    memcpy(t->st->seq_hdr, hdr, hlen);
    t->st->seq_hdr_len = hlen;
    memcpy(t->st->seq, p, len);
    t->st->seq_len = len;
}

/* Writes one complete OBU (as it came in an element) to the output with its size field.
 * A malformed OBU is left out and marks the frame damaged. 0 or -E2BIG. */
static int emit_obu(struct av1_tu *t, const uint8_t *obu, size_t len)
{
    if (len < 1 || (obu[0] & OBU_FORBIDDEN))
        goto malformed;
    unsigned type = (obu[0] >> 3) & 15u;
    size_t hlen = (obu[0] & OBU_EXTENSION) ? 2 : 1;
    if (len < hlen)
        goto malformed;
    const uint8_t *p = obu + hlen;
    size_t plen = len - hlen;
    if (obu[0] & OBU_HAS_SIZE) {
        uint64_t size;
        int n = leb128_read(p, plen, &size);
        if (n < 0 || size > plen - (size_t)n)
            goto malformed;
        p += n;
        plen = (size_t)size;
    }
    if (type == OBU_TEMPORAL_DELIMITER || type == OBU_TILE_LIST)
        return 0;

    uint8_t hdr[2 + AV1_LEB128_MAX];
    hdr[0] = (uint8_t)(obu[0] | OBU_HAS_SIZE);
    if (hlen == 2)
        hdr[1] = obu[1];
    size_t n = hlen + leb128_write(hdr + hlen, plen);
    int rc = vb_buf_put(t->out, hdr, n);
    if (rc == 0)
        rc = vb_buf_put(t->out, p, plen);
    if (rc < 0)
        return rc;
    t->obus++;
    if (type == OBU_SEQUENCE_HEADER) {
        note_sequence_header(t, hdr, hlen, p, plen);
    } else if ((type == OBU_FRAME || type == OBU_FRAME_HEADER) && t->seq_seen &&
               !t->frame_checked) {
        t->frame_checked = true;
        if (frame_is_key(p, plen, t->seq_reduced))
            t->fi->key = true;
    }
    return 0;

malformed:
    t->fi->damaged = true;
    return 0;
}

/* Drops a partial OBU, if any: the frame is then damaged. */
static void frag_drop(struct av1_tu *t)
{
    if (t->st->frag_open)
        t->fi->damaged = true;
    t->st->frag_open = false;
    t->st->frag.len = 0;
}

/* Handles one OBU element: `cont` if it continues the open fragment, `more` if the OBU goes
 * on in the next packet. 0 or -E2BIG. */
static int take_element(struct av1_tu *t, const uint8_t *el, size_t len, bool cont, bool more)
{
    struct av1_state *st = t->st;
    if (cont) {
        if (!st->frag_open) {
            t->fi->damaged = true; /* its beginning was lost */
            return 0;
        }
    } else if (!more) {
        return emit_obu(t, el, len);
    } else {
        frag_drop(t);
        st->frag_open = true;
    }
    if (vb_buf_put(&st->frag, el, len) < 0) {
        frag_drop(t); /* larger than any OBU we accept */
        return 0;
    }
    if (more)
        return 0;
    int rc = emit_obu(t, st->frag.p, st->frag.len);
    st->frag_open = false;
    st->frag.len = 0;
    return rc;
}

/* Takes the OBU elements out of one packet. 0 or -E2BIG. */
static int take_packet(struct av1_tu *t, const struct tc_rtp *pkt)
{
    if (!pkt->payload || pkt->len < 2) {
        frag_drop(t);
        t->fi->damaged = true;
        return 0;
    }
    unsigned agg = pkt->payload[0];
    bool z = agg & AGG_Z, y = agg & AGG_Y;
    unsigned w = (agg >> 4) & 3u;
    if (!z)
        frag_drop(t); /* the open fragment's continuation was lost */
    const uint8_t *p = pkt->payload + 1;
    size_t left = pkt->len - 1;
    for (unsigned i = 0; left > 0; i++) {
        size_t len = left; /* with W set, the W-th element fills the packet */
        if (w == 0 || i + 1 < w) {
            uint64_t v;
            int n = leb128_read(p, left, &v);
            if (n < 0 || v > left - (size_t)n) {
                frag_drop(t);
                t->fi->damaged = true;
                return 0;
            }
            p += n;
            left -= (size_t)n;
            len = (size_t)v;
        }
        const uint8_t *el = p;
        p += len;
        left -= len;
        int rc = take_element(t, el, len, i == 0 && z, left == 0 && y);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int av1_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                     struct tc_frame_info *fi)
{
    static const uint8_t temporal_delimiter[2] = {(OBU_TEMPORAL_DELIMITER << 3) | OBU_HAS_SIZE, 0};
    struct av1_state *st = state;
    struct av1_tu t = {.st = st, .out = out, .fi = fi};
    if (st->frag.max == 0)
        vb_buf_init(&st->frag, AV1_OBU_MAX);
    st->frag_open = false;
    st->frag.len = 0;

    int rc = vb_buf_put(out, temporal_delimiter, sizeof(temporal_delimiter));
    if (rc < 0)
        return rc;
    if (n > 0 && pkts[0].payload && pkts[0].len > 0 && (pkts[0].payload[0] & AGG_N))
        fi->key = true;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pkts[i].seq != pkts[i - 1].seq + 1) {
            fi->damaged = true;
            frag_drop(&t);
        }
        rc = take_packet(&t, &pkts[i]);
        if (rc < 0)
            return rc;
    }
    frag_drop(&t); /* an OBU does not continue into the next temporal unit */
    return t.obus > 0 ? 0 : -EBADMSG;
}

static int av1_extradata(void *state, struct vb_buf *out)
{
    struct av1_state *st = state;
    if (st->seq_hdr_len == 0)
        return 0;
    uint8_t size[AV1_LEB128_MAX];
    int rc = vb_buf_put(out, st->seq_hdr, st->seq_hdr_len);
    if (rc == 0)
        rc = vb_buf_put(out, size, leb128_write(size, st->seq_len));
    if (rc == 0)
        rc = vb_buf_put(out, st->seq, st->seq_len);
    return rc;
}

static void av1_release(void *state)
{
    struct av1_state *st = state;
    vb_buf_free(&st->frag);
}

const struct tc_depay_ops tc_depay_av1 = {
    .codec = "av1",
    .state_size = sizeof(struct av1_state),
    .frame = av1_frame,
    .extradata = av1_extradata,
    .release = av1_release,
};
