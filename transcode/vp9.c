/* This file implements the VP9 depacketizer (RTP payload format of RFC 9628).
 *
 * Every packet starts with a payload descriptor: a required byte (I P L F B E V Z), then, as
 * its flags announce, a 7- or 15-bit picture id, the layer indices (with a TL0PICIDX byte in
 * non-flexible mode), up to three reference differences (P_DIFF, flexible mode) and a
 * scalability structure (SS). The frame is what follows the descriptors, concatenated in
 * sequence order.
 *
 * DESIGN: B and E mark the first and last packet of a layer frame. When a picture has several
 * spatial layers, their layer frames share the RTP timestamp and are written one after the
 * other as they arrive, without building a superframe index: that is what janus-pp-rec does,
 * and decoders split the frames by parsing them. Whether the picture is a keyframe comes from
 * the VP9 uncompressed header of its first layer frame; its size from the last layer frame
 * whose header states one (the highest spatial layer). The SS resolutions are only a fallback
 * for when no header can be parsed. A frame is whole when its first packet has B=1, no
 * sequence number is skipped, no packet is malformed and every header parses; otherwise it is
 * still written but marked damaged. No state is kept between frames. */
#include "transcode/depay.h"

#include <errno.h>

#include "common/bytes.h"
#include "transcode/bits.h"

/* Required descriptor byte. */
#define VP9_I 0x80u /* picture id present */
#define VP9_P 0x40u /* inter-picture predicted */
#define VP9_L 0x20u /* layer indices present */
#define VP9_F 0x10u /* flexible mode */
#define VP9_B 0x08u /* first packet of a layer frame */
#define VP9_E 0x04u /* last packet of a layer frame */
#define VP9_V 0x02u /* scalability structure present */
#define VP9_M 0x80u /* first picture id byte: the id has 15 bits */
#define VP9_N 0x01u /* P_DIFF byte: another one follows */
#define VP9_PDIFF_MAX 3
/* Scalability structure byte. */
#define VP9_SS_Y 0x10u /* resolutions present */
#define VP9_SS_G 0x08u /* picture group description present */

/* Uncompressed header constants (VP9 bitstream specification, section 6.2). */
#define VP9_FRAME_MARKER 2u
#define VP9_SYNC_CODE 0x498342u
#define VP9_CS_RGB 7u

/* What one packet's descriptor says. */
struct vp9_desc {
    bool begin;              /* B */
    int ss_width, ss_height; /* largest SS resolution, 0 when absent */
};

/* Reads the scalability structure at p[*off]; advances *off past it. */
static int ss_parse(const uint8_t *p, size_t len, size_t *off, struct vp9_desc *d)
{
    if (*off >= len)
        return -EBADMSG;
    uint8_t ss = p[(*off)++];
    size_t layers = (ss >> 5) + 1u;
    if (ss & VP9_SS_Y) {
        if (len - *off < layers * 4)
            return -EBADMSG;
        for (size_t i = 0; i < layers; i++, *off += 4) {
            int w = rd_u16(p + *off), h = rd_u16(p + *off + 2);
            if ((long)w * h > (long)d->ss_width * d->ss_height) {
                d->ss_width = w;
                d->ss_height = h;
            }
        }
    }
    if (ss & VP9_SS_G) {
        if (*off >= len)
            return -EBADMSG;
        unsigned pictures = p[(*off)++];
        for (unsigned i = 0; i < pictures; i++) {
            if (*off >= len)
                return -EBADMSG;
            size_t refs = (p[(*off)++] >> 2) & 3u; /* TID(3) U(1) R(2) reserved(2) */
            if (len - *off < refs)
                return -EBADMSG;
            *off += refs;
        }
    }
    return 0;
}

/* Reads the payload descriptor at the start of a packet. Returns its length, or -EBADMSG when
 * it is cut off, malformed or no payload byte follows it. */
static int descriptor_parse(const uint8_t *p, size_t len, struct vp9_desc *d)
{
    if (len < 1)
        return -EBADMSG;
    uint8_t flags = p[0];
    size_t off = 1;
    d->begin = flags & VP9_B;
    d->ss_width = d->ss_height = 0;
    if (flags & VP9_I) {
        if (off >= len)
            return -EBADMSG;
        off += (p[off] & VP9_M) ? 2 : 1;
    }
    if (flags & VP9_L)
        off += (flags & VP9_F) ? 1 : 2; /* TID U SID D, plus TL0PICIDX in non-flexible mode */
    if ((flags & VP9_F) && (flags & VP9_P)) {
        for (int k = 0;; k++) {
            if (k == VP9_PDIFF_MAX || off >= len)
                return -EBADMSG;
            if (!(p[off++] & VP9_N))
                break;
        }
    }
    if ((flags & VP9_V) && (off > len || ss_parse(p, len, &off, d) < 0))
        return -EBADMSG;
    if (off >= len)
        return -EBADMSG;
    return (int)off;
}

/* What a layer frame's uncompressed header says. */
struct vp9_header {
    bool key;
    int width, height; /* 0 when the header takes its size from a reference frame */
};

/* color_config(): only checked, its values are not needed. */
static int color_config_parse(struct tc_bits *b, unsigned profile)
{
    bool codes_subsampling = profile == 1 || profile == 3; /* profiles that code subsampling */
    if (profile >= 2)
        tc_bits_u1(b); /* ten_or_twelve_bit */
    if (tc_bits_u(b, 3) != VP9_CS_RGB) {
        tc_bits_u1(b); /* color_range */
        if (codes_subsampling) {
            tc_bits_skip(b, 2); /* subsampling_x, subsampling_y */
            if (tc_bits_u1(b))  /* reserved_zero */
                return -EBADMSG;
        }
    } else if (!codes_subsampling || tc_bits_u1(b)) { /* RGB is 4:4:4; reserved_zero */
        return -EBADMSG;
    }
    return 0;
}

static void frame_size_parse(struct tc_bits *b, struct vp9_header *h)
{
    h->width = (int)tc_bits_u(b, 16) + 1;
    h->height = (int)tc_bits_u(b, 16) + 1;
}

/* Parses the start of uncompressed_header() up to the frame size. Returns 0, or -EBADMSG
 * when the header is invalid or cut off. */
static int header_parse(const uint8_t *p, size_t len, struct vp9_header *h)
{
    struct tc_bits b;
    tc_bits_init(&b, p, len);
    h->key = false;
    h->width = h->height = 0;
    if (tc_bits_u(&b, 2) != VP9_FRAME_MARKER)
        return -EBADMSG;
    unsigned profile = tc_bits_u1(&b);
    profile |= tc_bits_u1(&b) << 1;
    if (profile == 3 && tc_bits_u1(&b)) /* reserved_zero */
        return -EBADMSG;
    if (tc_bits_u1(&b)) { /* show_existing_frame, then frame_to_show_map_idx */
        tc_bits_skip(&b, 3);
        return b.overrun ? -EBADMSG : 0;
    }
    bool key = tc_bits_u1(&b) == 0; /* frame_type */
    bool show_frame = tc_bits_u1(&b);
    bool error_resilient = tc_bits_u1(&b);
    bool intra_only = false;
    if (!key) {
        if (!show_frame)
            intra_only = tc_bits_u1(&b);
        if (!error_resilient)
            tc_bits_skip(&b, 2); /* reset_frame_context */
    }
    if (key || intra_only) {
        if (tc_bits_u(&b, 24) != VP9_SYNC_CODE)
            return -EBADMSG;
        if ((key || profile > 0) && color_config_parse(&b, profile) < 0)
            return -EBADMSG;
        if (intra_only)
            tc_bits_skip(&b, 8); /* refresh_frame_flags */
        frame_size_parse(&b, h);
    } else {
        tc_bits_skip(&b, 8 + 3 * 4); /* refresh_frame_flags; 3 x (ref_frame_idx, sign_bias) */
        bool found_ref = false;
        for (int i = 0; i < 3 && !found_ref; i++)
            found_ref = tc_bits_u1(&b);
        if (!found_ref)
            frame_size_parse(&b, h);
    }
    if (b.overrun) {
        h->width = h->height = 0;
        return -EBADMSG;
    }
    h->key = key;
    return 0;
}

/* Judges the layer frame at out[start..]: the first one decides the keyframe flag, any one
 * stating a size sets it (so the last such one wins). */
static void layer_inspect(const struct vb_buf *out, size_t start, bool first,
                          struct tc_frame_info *fi, bool *parsed)
{
    struct vp9_header h;
    if (header_parse(out->p + start, out->len - start, &h) < 0) {
        fi->damaged = true;
        return;
    }
    *parsed = true;
    if (first)
        fi->key = h.key;
    if (h.width > 0) {
        fi->width = h.width;
        fi->height = h.height;
    }
}

static int vp9_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                     struct tc_frame_info *fi)
{
    (void)state;
    bool any = false, parsed = false, layer_open = false, layer_first = false;
    size_t layer_start = 0;
    int ss_width = 0, ss_height = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pkts[i].seq != pkts[i - 1].seq + 1)
            fi->damaged = true;
        struct vp9_desc d;
        int off = descriptor_parse(pkts[i].payload, pkts[i].len, &d);
        if (off < 0) {
            fi->damaged = true; /* malformed: skipped */
            continue;
        }
        if (i == 0 && !d.begin)
            fi->damaged = true; /* the frame's beginning is missing */
        if (d.ss_width > 0) {
            ss_width = d.ss_width;
            ss_height = d.ss_height;
        }
        if (d.begin) {
            if (layer_open)
                layer_inspect(out, layer_start, layer_first, fi, &parsed);
            layer_first = i == 0;
            layer_open = true;
            layer_start = out->len;
        }
        int rc = vb_buf_put(out, pkts[i].payload + off, pkts[i].len - (size_t)off);
        if (rc < 0)
            return rc;
        any = true;
    }
    if (!any)
        return -EBADMSG;
    if (layer_open)
        layer_inspect(out, layer_start, layer_first, fi, &parsed);
    if (!parsed && ss_width > 0) {
        fi->width = ss_width;
        fi->height = ss_height;
    }
    return 0;
}

const struct tc_depay_ops tc_depay_vp9 = {.codec = "vp9", .frame = vp9_frame};
