/* This file implements video RTP payload inspection for forwarding: codec names, keyframe
 * detection for VP8 (RFC 7741), VP9 (RFC 9628), H.264 (RFC 6184), AV1 (the AOMedia RTP payload
 * format) and H.265 (RFC 7798), and parsing and in-place rewriting of the VP8 payload
 * descriptor. Every read is checked against the payload length; nothing is allocated. */
#include "gateway/rtp/switch.h"

#include <errno.h>
#include <strings.h>

#include "common/bytes.h"

enum gw_video_codec gw_video_codec_from_name(const char *name)
{
    static const struct {
        const char *name;
        enum gw_video_codec codec;
    } names[] = {
        {"vp8", GW_VC_VP8},  {"vp9", GW_VC_VP9},   {"h264", GW_VC_H264}, {"av1", GW_VC_AV1},
        {"av1x", GW_VC_AV1}, {"h265", GW_VC_H265}, {"hevc", GW_VC_H265},
    };
    if (!name)
        return GW_VC_UNKNOWN;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].codec;
    return GW_VC_UNKNOWN;
}

/* ---- VP8 ---- */

/* First descriptor byte: X R N S R PID(3). Extension byte: I L T K RSV(4). */
#define VP8_X 0x80
#define VP8_S 0x10
#define VP8_PID 0x07
#define VP8_I 0x80
#define VP8_L 0x40
#define VP8_T 0x20
#define VP8_K 0x10
#define VP8_M 0x80 /* in the first picture id byte: 15-bit picture id */
#define VP8_Y 0x20 /* in the TID/Y/KEYIDX byte */

/* Offsets of the optional fields; 0 when absent (offset 0 is always the first byte). */
struct vp8_layout {
    size_t picid_off, tl0_off, tk_off;
};

static int vp8_layout(const uint8_t *p, size_t len, struct gw_vp8_desc *d, struct vp8_layout *l)
{
    size_t off = 1;
    *l = (struct vp8_layout){0};
    *d = (struct gw_vp8_desc){0};
    if (len < 1)
        return -EINVAL;
    d->start = (p[0] & VP8_S) && (p[0] & VP8_PID) == 0;
    if (p[0] & VP8_X) {
        if (len < 2)
            return -EINVAL;
        uint8_t ext = p[1];
        off = 2;
        if (ext & VP8_I) {
            if (off >= len)
                return -EINVAL;
            l->picid_off = off;
            d->has_picid = true;
            d->picid_16 = p[off] & VP8_M;
            if (d->picid_16) {
                if (off + 1 >= len)
                    return -EINVAL;
                d->picid = rd_u16(p + off) & 0x7fff;
                off += 2;
            } else {
                d->picid = p[off] & 0x7f;
                off += 1;
            }
        }
        if (ext & VP8_L) {
            if (off >= len)
                return -EINVAL;
            l->tl0_off = off;
            d->has_tl0picidx = true;
            d->tl0picidx = p[off++];
        }
        if (ext & (VP8_T | VP8_K)) {
            if (off >= len)
                return -EINVAL;
            l->tk_off = off;
            if (ext & VP8_T) {
                d->has_tid = true;
                d->tid = p[off] >> 6;
                d->layer_sync = p[off] & VP8_Y;
            }
            off++;
        }
    }
    if (off >= len) /* the VP8 payload must hold at least one byte */
        return -EINVAL;
    d->header_len = off;
    return 0;
}

int gw_vp8_desc_parse(const uint8_t *payload, size_t len, struct gw_vp8_desc *d)
{
    struct vp8_layout l;
    return vp8_layout(payload, len, d, &l);
}

int gw_vp8_desc_rewrite(uint8_t *payload, size_t len, uint16_t picid, uint8_t tl0picidx)
{
    struct gw_vp8_desc d;
    struct vp8_layout l;
    if (vp8_layout(payload, len, &d, &l) != 0)
        return -EINVAL;
    if (d.has_picid && d.picid_16)
        wr_u16(payload + l.picid_off, (uint16_t)(0x8000 | (picid & 0x7fff)));
    else if (d.has_picid)
        payload[l.picid_off] = (uint8_t)(picid & 0x7f);
    if (d.has_tl0picidx)
        payload[l.tl0_off] = tl0picidx;
    return 0;
}

/* A VP8 keyframe: the first packet of partition 0, and the inverse key frame flag (P, the
 * lowest bit of the frame tag) clear. */
static bool vp8_keyframe(const uint8_t *p, size_t len)
{
    struct gw_vp8_desc d;
    if (gw_vp8_desc_parse(p, len, &d) != 0 || !d.start)
        return false;
    return (p[d.header_len] & 0x01) == 0;
}

/* ---- VP9 ---- */

/* First descriptor byte: I P L F B E V Z. */
#define VP9_I 0x80
#define VP9_P 0x40
#define VP9_L 0x20
#define VP9_F 0x10
#define VP9_B 0x08
#define VP9_V 0x02

/* Skips the scalability structure at *off. */
static int vp9_skip_ss(const uint8_t *p, size_t len, size_t *off)
{
    if (*off >= len)
        return -EINVAL;
    uint8_t ss = p[(*off)++];
    size_t layers = (size_t)(ss >> 5) + 1;
    if (ss & 0x10) /* Y: width and height of each spatial layer */
        *off += 4 * layers;
    if (ss & 0x08) { /* G: picture group description */
        if (*off >= len)
            return -EINVAL;
        unsigned groups = p[(*off)++];
        for (unsigned i = 0; i < groups; i++) {
            if (*off >= len)
                return -EINVAL;
            unsigned refs = (p[*off] >> 2) & 0x03;
            *off += 1 + refs;
        }
    }
    return *off <= len ? 0 : -EINVAL;
}

/* Length of the VP9 payload descriptor, or -EINVAL. */
static int vp9_desc_len(const uint8_t *p, size_t len, size_t *out)
{
    if (len < 1)
        return -EINVAL;
    uint8_t b = p[0];
    size_t off = 1;
    if (b & VP9_I) {
        if (off >= len)
            return -EINVAL;
        off += (p[off] & 0x80) ? 2 : 1;
    }
    if (b & VP9_L)
        off += (b & VP9_F) ? 1 : 2; /* layer indices, plus TL0PICIDX in non-flexible mode */
    if ((b & VP9_F) && (b & VP9_P)) {
        for (int i = 0;; i++) { /* up to three P_DIFF, each with N (more) as lowest bit */
            if (off >= len || i == 3)
                return -EINVAL;
            if (!(p[off++] & 0x01))
                break;
        }
    }
    if (off > len)
        return -EINVAL;
    if ((b & VP9_V) && vp9_skip_ss(p, len, &off) != 0)
        return -EINVAL;
    *out = off;
    return 0;
}

/* The first bits of the VP9 uncompressed header: frame_marker (2), profile (2 bits, low first),
 * a reserved bit in profile 3, show_existing_frame, frame_type (0 = key frame). */
static bool vp9_header_is_key(uint8_t b)
{
    if ((b >> 6) != 2)
        return false;
    unsigned profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
    int bit = profile == 3 ? 2 : 3; /* position of show_existing_frame */
    if ((b >> bit) & 1)
        return false;
    return ((b >> (bit - 1)) & 1) == 0;
}

static bool vp9_keyframe(const uint8_t *p, size_t len)
{
    size_t off;
    if (len < 1 || (p[0] & VP9_P) || !(p[0] & VP9_B) || vp9_desc_len(p, len, &off) != 0 ||
        off >= len)
        return false;
    return vp9_header_is_key(p[off]);
}

/* ---- H.264 ---- */

static bool h264_key_type(unsigned type)
{
    return type == 5 || type == 7; /* IDR slice, SPS */
}

static bool h264_keyframe(const uint8_t *p, size_t len)
{
    if (len < 1)
        return false;
    unsigned type = p[0] & 0x1f;
    if (type >= 1 && type <= 23)
        return h264_key_type(type);
    if (type == 24) { /* STAP-A: (16-bit size, NAL unit) after the header */
        size_t off = 1;
        while (off + 2 < len) {
            size_t size = rd_u16(p + off);
            if (size == 0)
                return false;
            if (h264_key_type(p[off + 2] & 0x1f))
                return true;
            off += 2 + size;
        }
        return false;
    }
    if (type == 28) /* FU-A: indicator, then S E R Type */
        return len >= 2 && (p[1] & 0x80) && h264_key_type(p[1] & 0x1f);
    return false;
}

/* ---- AV1 ---- */

static bool av1_keyframe(const uint8_t *p, size_t len)
{
    return len >= 1 && (p[0] & 0x08); /* Z Y W W N - - -: N starts a coded video sequence */
}

/* ---- H.265 ---- */

static bool h265_key_type(unsigned type)
{
    return (type >= 16 && type <= 21) || type == 32 || type == 33; /* IRAP, VPS, SPS */
}

static bool h265_keyframe(const uint8_t *p, size_t len)
{
    if (len < 2)
        return false;
    unsigned type = (p[0] >> 1) & 0x3f;
    if (type < 48)
        return h265_key_type(type);
    if (type == 48) { /* AP: (16-bit size, NAL unit) after the 2-byte header */
        size_t off = 2;
        while (off + 2 < len) {
            size_t size = rd_u16(p + off);
            if (size < 2)
                return false;
            if (h265_key_type((p[off + 2] >> 1) & 0x3f))
                return true;
            off += 2 + size;
        }
        return false;
    }
    if (type == 49) /* FU: 2-byte header, then S E FuType(6) */
        return len >= 3 && (p[2] & 0x80) && h265_key_type(p[2] & 0x3f);
    return false;
}

bool gw_rtp_is_keyframe(enum gw_video_codec c, const uint8_t *payload, size_t len)
{
    if (!payload)
        return false;
    switch (c) {
    case GW_VC_VP8:
        return vp8_keyframe(payload, len);
    case GW_VC_VP9:
        return vp9_keyframe(payload, len);
    case GW_VC_H264:
        return h264_keyframe(payload, len);
    case GW_VC_AV1:
        return av1_keyframe(payload, len);
    case GW_VC_H265:
        return h265_keyframe(payload, len);
    case GW_VC_UNKNOWN:
        break;
    }
    return false;
}
