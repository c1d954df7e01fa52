/* This file implements the H.265 depacketizer (RFC 7798, without DONL fields, i.e.
 * sprop-max-don-diff 0): single NAL unit packets, aggregation packets (AP) and
 * fragmentation units (FU) become one Annex B access unit per RTP timestamp. It keeps the
 * latest VPS, SPS and PPS of the base layer for the muxer's extradata and reads the
 * resolution from each SPS (ITU-T H.265 section 7.3.2.2, up to the conformance window).
 *
 * DESIGN: as in h264.c, what cannot be used (PACI packets, unspecified types, NAL units with
 * the forbidden bit set or a zero temporal id, overrunning aggregation sizes, broken
 * fragment runs, unparsable SPS) is skipped and the frame marked damaged; a frame fails only
 * when nothing came out of it. */
#include "transcode/depay.h"

#include <errno.h>

#include "transcode/bits.h"
#include "transcode/nal.h"

enum {
    H265_NAL_IRAP_FIRST = 16,
    H265_NAL_IRAP_LAST = 23,
    H265_NAL_VPS = 32,
    H265_NAL_SPS = 33,
    H265_NAL_PPS = 34,
    H265_NAL_LAST_SINGLE = 47,
    H265_AP = 48,
    H265_FU = 49,
};

/* Sanity bound of pic_width/height_in_luma_samples. */
#define H265_MAX_SAMPLES 32768

struct h265_state {
    struct tc_nal_ps vps;
    struct tc_nal_ps sps;
    struct tc_nal_ps pps;
};

static unsigned h265_type(const uint8_t *nal)
{
    return (nal[0] >> 1) & 0x3f;
}

static unsigned h265_layer_id(const uint8_t *nal)
{
    return ((nal[0] & 1u) << 5) | (nal[1] >> 3);
}

/* forbidden_zero_bit clear and nuh_temporal_id_plus1 not 0. */
static bool h265_header_ok(const uint8_t *nal)
{
    return (nal[0] & 0x80) == 0 && (nal[1] & 7) != 0;
}

/* profile_tier_level(1, max_sub_layers_minus1): only walked. */
static void h265_skip_ptl(struct tc_bits *b, unsigned max_sub_layers_minus1)
{
    bool profile_present[8], level_present[8];
    tc_bits_skip(b, 88 + 8); /* general profile space .. reserved bits, general_level_idc */
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        profile_present[i] = tc_bits_u1(b);
        level_present[i] = tc_bits_u1(b);
    }
    if (max_sub_layers_minus1 > 0)
        tc_bits_skip(b, 2 * (8 - max_sub_layers_minus1)); /* reserved_zero_2bits */
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        if (profile_present[i])
            tc_bits_skip(b, 88);
        if (level_present[i])
            tc_bits_skip(b, 8);
    }
}

/* Parses the SPS NAL unit at `nal` (2-byte header included, emulation prevention not
 * removed) up to the conformance window. 0 with the displayed size, or -EBADMSG. */
static int h265_sps_parse(const uint8_t *nal, size_t len, int *width, int *height)
{
    uint8_t rbsp[TC_NAL_PS_MAX];
    if (len < 3 || len > TC_NAL_PS_MAX)
        return -EBADMSG;
    size_t n = tc_nal_unescape(nal + 2, len - 2, rbsp, sizeof(rbsp));
    struct tc_bits b;
    tc_bits_init(&b, rbsp, n);
    tc_bits_skip(&b, 4); /* sps_video_parameter_set_id */
    unsigned max_sub_layers_minus1 = tc_bits_u(&b, 3);
    if (max_sub_layers_minus1 > 6)
        return -EBADMSG;
    tc_bits_skip(&b, 1); /* sps_temporal_id_nesting_flag */
    h265_skip_ptl(&b, max_sub_layers_minus1);
    if (tc_bits_ue(&b) > 15) /* sps_seq_parameter_set_id */
        return -EBADMSG;
    uint32_t chroma_format_idc = tc_bits_ue(&b);
    if (chroma_format_idc > 3)
        return -EBADMSG;
    unsigned separate_colour_plane = chroma_format_idc == 3 ? tc_bits_u1(&b) : 0;
    uint64_t full_w = tc_bits_ue(&b), full_h = tc_bits_ue(&b);
    uint64_t win_l = 0, win_r = 0, win_t = 0, win_b = 0;
    if (tc_bits_u1(&b)) { /* conformance_window_flag */
        win_l = tc_bits_ue(&b);
        win_r = tc_bits_ue(&b);
        win_t = tc_bits_ue(&b);
        win_b = tc_bits_ue(&b);
    }
    if (b.overrun || full_w == 0 || full_h == 0 || full_w > H265_MAX_SAMPLES ||
        full_h > H265_MAX_SAMPLES)
        return -EBADMSG;
    /* SubWidthC, SubHeightC (table 6-1): 2x2 for 4:2:0, 2x1 for 4:2:2, else 1x1. */
    bool sub = !separate_colour_plane && (chroma_format_idc == 1 || chroma_format_idc == 2);
    unsigned sub_w = sub ? 2 : 1, sub_h = chroma_format_idc == 1 ? 2 : 1;
    uint64_t cut_w = (win_l + win_r) * sub_w, cut_h = (win_t + win_b) * sub_h;
    if (cut_w >= full_w || cut_h >= full_h)
        return -EBADMSG;
    *width = (int)(full_w - cut_w);
    *height = (int)(full_h - cut_h);
    return 0;
}

/* Looks at a NAL unit already written out: keyframe, parameter sets, resolution. Parameter
 * sets of other layers than the base layer are not kept. */
static void h265_inspect(struct h265_state *st, const uint8_t *nal, size_t len,
                         struct tc_frame_info *fi)
{
    unsigned type = h265_type(nal);
    int width, height;
    if (type >= H265_NAL_IRAP_FIRST && type <= H265_NAL_IRAP_LAST)
        fi->key = true;
    if (h265_layer_id(nal) != 0)
        return;
    switch (type) {
    case H265_NAL_VPS:
        if (len < 3 || tc_nal_ps_set(&st->vps, nal, len) < 0)
            fi->damaged = true;
        break;
    case H265_NAL_SPS:
        if (h265_sps_parse(nal, len, &width, &height) < 0 ||
            tc_nal_ps_set(&st->sps, nal, len) < 0) {
            fi->damaged = true;
            break;
        }
        fi->width = width;
        fi->height = height;
        break;
    case H265_NAL_PPS:
        if (len < 3 || tc_nal_ps_set(&st->pps, nal, len) < 0)
            fi->damaged = true;
        break;
    default:
        break;
    }
}

/* A whole NAL unit (single NAL unit packet or AP unit): checked, written, inspected. */
static int h265_emit(void *state, const uint8_t *nal, size_t len, struct vb_buf *out,
                     struct tc_frame_info *fi)
{
    struct h265_state *st = state;
    if (len < 2 || !h265_header_ok(nal) || h265_type(nal) > H265_NAL_LAST_SINGLE) {
        fi->damaged = true;
        return 0;
    }
    int rc = tc_nal_put(out, nal, len);
    if (rc < 0)
        return rc;
    h265_inspect(st, nal, len, fi);
    return 0;
}

/* FU: 2-byte payload header (type 49), FU header (S, E, type), fragment. */
static int h265_fu(struct h265_state *st, const struct tc_rtp *pkt, struct tc_nal_fu *fu,
                   struct vb_buf *out, struct tc_frame_info *fi)
{
    const uint8_t *p = pkt->payload;
    unsigned type = pkt->len >= 3 ? p[2] & 0x3fu : 0;
    if (pkt->len < 3 || type > H265_NAL_LAST_SINGLE) {
        tc_nal_fu_abort(fu, out, &fi->damaged);
        fi->damaged = true;
        return 0;
    }
    uint8_t hdr[2] = {(uint8_t)((p[0] & 0x81) | (type << 1)), p[1]};
    size_t off;
    int rc = tc_nal_fu_add(fu, out, hdr, 2, p[2] & 0x80, p[2] & 0x40, p + 3, pkt->len - 3, pkt->seq,
                           &fi->damaged, &off);
    if (rc <= 0)
        return rc;
    h265_inspect(st, out->p + off, out->len - off, fi);
    return 0;
}

static int h265_packet(struct h265_state *st, const struct tc_rtp *pkt, struct tc_nal_fu *fu,
                       struct vb_buf *out, struct tc_frame_info *fi)
{
    const uint8_t *p = pkt->payload;
    if (pkt->len < 2 || !h265_header_ok(p)) {
        tc_nal_fu_abort(fu, out, &fi->damaged);
        fi->damaged = true;
        return 0;
    }
    unsigned type = h265_type(p);
    if (type == H265_FU)
        return h265_fu(st, pkt, fu, out, fi);
    /* Fragments of one NAL unit are never interleaved with other packets. */
    tc_nal_fu_abort(fu, out, &fi->damaged);
    if (type <= H265_NAL_LAST_SINGLE)
        return h265_emit(st, p, pkt->len, out, fi);
    if (type == H265_AP)
        return tc_nal_agg_each(p + 2, pkt->len - 2, h265_emit, st, out,
                               fi); /* AP: 16-bit size + NAL, repeated */
    fi->damaged = true;             /* PACI (50) and the unspecified types 51-63 */
    return 0;
}

static int h265_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                      struct tc_frame_info *fi)
{
    struct h265_state *st = state;
    struct tc_nal_fu fu = {0};
    size_t base = out->len;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pkts[i].seq != pkts[i - 1].seq + 1)
            fi->damaged = true;
        int rc = h265_packet(st, &pkts[i], &fu, out, fi);
        if (rc < 0)
            return rc;
    }
    tc_nal_fu_abort(&fu, out, &fi->damaged);
    return out->len > base ? 0 : -EBADMSG;
}

static int h265_extradata(void *state, struct vb_buf *out)
{
    const struct h265_state *st = state;
    const struct tc_nal_ps *ps[] = {&st->vps, &st->sps, &st->pps};
    return tc_nal_ps_put_all(ps, 3, out);
}

const struct tc_depay_ops tc_depay_h265 = {
    .codec = "h265",
    .state_size = sizeof(struct h265_state),
    .frame = h265_frame,
    .extradata = h265_extradata,
};
