/* This file implements the H.264 depacketizer (RFC 6184, non-interleaved mode): single NAL
 * unit packets, STAP-A aggregation and FU-A fragmentation become one Annex B access unit per
 * RTP timestamp. It keeps the latest SPS and PPS for the muxer's extradata and reads the
 * resolution from each SPS (ITU-T H.264 section 7.3.2.1.1, up to the frame cropping).
 *
 * DESIGN: what cannot be used is skipped and the frame marked damaged rather than failed:
 * interleaved-mode packets (STAP-B, MTAP, FU-B), reserved types, NAL units with the forbidden
 * bit set, aggregation sizes that overrun, broken fragment runs, unparsable SPS. A frame fails
 * (-EBADMSG) only when nothing at all came out of it. */
#include "transcode/depay.h"

#include <errno.h>

#include "transcode/bits.h"
#include "transcode/nal.h"

enum {
    H264_NAL_IDR = 5,
    H264_NAL_SPS = 7,
    H264_NAL_PPS = 8,
    H264_NAL_LAST_SINGLE = 23,
    H264_STAP_A = 24,
    H264_FU_A = 28,
};

/* Sanity bound of the coded size in macroblocks per dimension (32768 pixels). */
#define H264_MAX_MBS 2048

struct h264_state {
    struct tc_nal_ps sps;
    struct tc_nal_ps pps;
};

/* What the SPS says about the picture format, as far as the size needs it. */
struct h264_sps {
    unsigned chroma_format_idc; /* 1 (4:2:0) unless a high profile says otherwise */
    bool separate_colour_plane;
};

static bool h264_profile_has_chroma_info(unsigned profile_idc)
{
    switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
        return true;
    default:
        return false;
    }
}

/* scaling_list(): only walked, the values are not needed. */
static int h264_skip_scaling_list(struct tc_bits *b, unsigned size)
{
    int last = 8, next = 8;
    for (unsigned j = 0; j < size && !b->overrun; j++) {
        if (next != 0) {
            int32_t delta = tc_bits_se(b);
            if (delta < -128 || delta > 127)
                return -EBADMSG;
            next = (last + delta + 256) % 256;
        }
        if (next != 0)
            last = next;
    }
    return 0;
}

/* The high-profile part: chroma format, bit depths, transform bypass, scaling matrices. */
static int h264_sps_chroma(struct tc_bits *b, struct h264_sps *s)
{
    s->chroma_format_idc = tc_bits_ue(b);
    if (s->chroma_format_idc > 3)
        return -EBADMSG;
    if (s->chroma_format_idc == 3)
        s->separate_colour_plane = tc_bits_u1(b);
    if (tc_bits_ue(b) > 6 || tc_bits_ue(b) > 6) /* bit_depth_{luma,chroma}_minus8 */
        return -EBADMSG;
    tc_bits_skip(b, 1); /* qpprime_y_zero_transform_bypass_flag */
    if (!tc_bits_u1(b)) /* seq_scaling_matrix_present_flag */
        return 0;
    unsigned lists = s->chroma_format_idc == 3 ? 12 : 8;
    for (unsigned i = 0; i < lists && !b->overrun; i++) {
        if (tc_bits_u1(b) && h264_skip_scaling_list(b, i < 6 ? 16 : 64) < 0)
            return -EBADMSG;
    }
    return 0;
}

/* log2_max_frame_num_minus4 and the picture order count fields. */
static int h264_sps_poc(struct tc_bits *b)
{
    if (tc_bits_ue(b) > 12) /* log2_max_frame_num_minus4 */
        return -EBADMSG;
    uint32_t poc_type = tc_bits_ue(b);
    if (poc_type == 0) {
        if (tc_bits_ue(b) > 12) /* log2_max_pic_order_cnt_lsb_minus4 */
            return -EBADMSG;
    } else if (poc_type == 1) {
        tc_bits_skip(b, 1); /* delta_pic_order_always_zero_flag */
        tc_bits_se(b);      /* offset_for_non_ref_pic */
        tc_bits_se(b);      /* offset_for_top_to_bottom_field */
        uint32_t cycle = tc_bits_ue(b);
        if (cycle > 255)
            return -EBADMSG;
        for (uint32_t i = 0; i < cycle && !b->overrun; i++)
            tc_bits_se(b); /* offset_for_ref_frame[i] */
    } else if (poc_type != 2) {
        return -EBADMSG;
    }
    return 0;
}

/* From max_num_ref_frames to the frame cropping: the displayed size. */
static int h264_sps_size(struct tc_bits *b, const struct h264_sps *s, int *width, int *height)
{
    tc_bits_ue(b);      /* max_num_ref_frames */
    tc_bits_skip(b, 1); /* gaps_in_frame_num_value_allowed_flag */
    uint64_t w_mbs = (uint64_t)tc_bits_ue(b) + 1;
    uint64_t h_units = (uint64_t)tc_bits_ue(b) + 1;
    unsigned frame_mbs_only = tc_bits_u1(b);
    if (!frame_mbs_only)
        tc_bits_skip(b, 1); /* mb_adaptive_frame_field_flag */
    tc_bits_skip(b, 1);     /* direct_8x8_inference_flag */
    uint64_t crop_l = 0, crop_r = 0, crop_t = 0, crop_b = 0;
    if (tc_bits_u1(b)) {
        crop_l = tc_bits_ue(b);
        crop_r = tc_bits_ue(b);
        crop_t = tc_bits_ue(b);
        crop_b = tc_bits_ue(b);
    }
    if (b->overrun || w_mbs > H264_MAX_MBS || h_units * (2 - frame_mbs_only) > H264_MAX_MBS)
        return -EBADMSG;
    /* Crop units (7.4.2.1.1): luma samples per unit of frame_crop_*_offset. */
    unsigned unit_x = 1, unit_y = 2 - frame_mbs_only;
    if (!s->separate_colour_plane && s->chroma_format_idc != 0) {
        unit_x = s->chroma_format_idc == 3 ? 1 : 2;
        unit_y *= s->chroma_format_idc == 1 ? 2 : 1;
    }
    uint64_t full_w = w_mbs * 16, full_h = h_units * (2 - frame_mbs_only) * 16;
    uint64_t cut_w = (crop_l + crop_r) * unit_x, cut_h = (crop_t + crop_b) * unit_y;
    if (cut_w >= full_w || cut_h >= full_h)
        return -EBADMSG;
    *width = (int)(full_w - cut_w);
    *height = (int)(full_h - cut_h);
    return 0;
}

/* Parses the SPS NAL unit at `nal` (header byte included, emulation prevention not removed)
 * up to the cropping fields. 0 with the displayed size, or -EBADMSG. */
static int h264_sps_parse(const uint8_t *nal, size_t len, int *width, int *height)
{
    uint8_t rbsp[TC_NAL_PS_MAX];
    if (len < 2 || len > TC_NAL_PS_MAX)
        return -EBADMSG;
    size_t n = tc_nal_unescape(nal + 1, len - 1, rbsp, sizeof(rbsp));
    struct tc_bits b;
    tc_bits_init(&b, rbsp, n);
    unsigned profile_idc = tc_bits_u(&b, 8);
    tc_bits_skip(&b, 16);    /* constraint_set0..5 flags, reserved_zero_2bits, level_idc */
    if (tc_bits_ue(&b) > 31) /* seq_parameter_set_id */
        return -EBADMSG;
    struct h264_sps s = {.chroma_format_idc = 1};
    if (h264_profile_has_chroma_info(profile_idc) && h264_sps_chroma(&b, &s) < 0)
        return -EBADMSG;
    if (h264_sps_poc(&b) < 0)
        return -EBADMSG;
    return h264_sps_size(&b, &s, width, height);
}

/* Looks at a NAL unit already written out: keyframe, parameter sets, resolution. */
static void h264_inspect(struct h264_state *st, const uint8_t *nal, size_t len,
                         struct tc_frame_info *fi)
{
    int width, height;
    switch (nal[0] & 0x1f) {
    case H264_NAL_IDR:
        fi->key = true;
        break;
    case H264_NAL_SPS:
        if (h264_sps_parse(nal, len, &width, &height) < 0 ||
            tc_nal_ps_set(&st->sps, nal, len) < 0) {
            fi->damaged = true;
            break;
        }
        fi->width = width;
        fi->height = height;
        break;
    case H264_NAL_PPS:
        if (len < 2 || tc_nal_ps_set(&st->pps, nal, len) < 0)
            fi->damaged = true;
        break;
    default:
        break;
    }
}

/* A whole NAL unit (single NAL unit packet or STAP-A unit): checked, written, inspected. */
static int h264_emit(void *state, const uint8_t *nal, size_t len, struct vb_buf *out,
                     struct tc_frame_info *fi)
{
    struct h264_state *st = state;
    unsigned type = nal[0] & 0x1f;
    if ((nal[0] & 0x80) || type == 0 || type > H264_NAL_LAST_SINGLE) {
        fi->damaged = true;
        return 0;
    }
    int rc = tc_nal_put(out, nal, len);
    if (rc < 0)
        return rc;
    h264_inspect(st, nal, len, fi);
    return 0;
}

/* FU-A: FU indicator (F, NRI, 28), FU header (S, E, R, type), fragment. */
static int h264_fu_a(struct h264_state *st, const struct tc_rtp *pkt, struct tc_nal_fu *fu,
                     struct vb_buf *out, struct tc_frame_info *fi)
{
    const uint8_t *p = pkt->payload;
    if (pkt->len < 2) {
        tc_nal_fu_abort(fu, out, &fi->damaged);
        fi->damaged = true;
        return 0;
    }
    unsigned type = p[1] & 0x1f;
    if ((p[0] & 0x80) || type == 0 || type > H264_NAL_LAST_SINGLE) {
        tc_nal_fu_abort(fu, out, &fi->damaged);
        fi->damaged = true;
        return 0;
    }
    uint8_t hdr = (uint8_t)((p[0] & 0xe0) | type);
    size_t off;
    int rc = tc_nal_fu_add(fu, out, &hdr, 1, p[1] & 0x80, p[1] & 0x40, p + 2, pkt->len - 2,
                           pkt->seq, &fi->damaged, &off);
    if (rc <= 0)
        return rc;
    h264_inspect(st, out->p + off, out->len - off, fi);
    return 0;
}

static int h264_packet(struct h264_state *st, const struct tc_rtp *pkt, struct tc_nal_fu *fu,
                       struct vb_buf *out, struct tc_frame_info *fi)
{
    if (pkt->len == 0) {
        fi->damaged = true;
        return 0;
    }
    unsigned type = pkt->payload[0] & 0x1f;
    if (type == H264_FU_A)
        return h264_fu_a(st, pkt, fu, out, fi);
    /* Fragments of one NAL unit are never interleaved with other packets. */
    tc_nal_fu_abort(fu, out, &fi->damaged);
    if (type >= 1 && type <= H264_NAL_LAST_SINGLE)
        return h264_emit(st, pkt->payload, pkt->len, out, fi);
    if (type == H264_STAP_A)
        return tc_nal_agg_each(pkt->payload + 1, pkt->len - 1, h264_emit, st, out,
                               fi); /* STAP-A: 16-bit size + NAL, repeated */
    fi->damaged = true;             /* 0, STAP-B, MTAP16, MTAP24, FU-B, 30, 31 */
    return 0;
}

static int h264_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                      struct tc_frame_info *fi)
{
    struct h264_state *st = state;
    struct tc_nal_fu fu = {0};
    size_t base = out->len;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pkts[i].seq != pkts[i - 1].seq + 1)
            fi->damaged = true;
        int rc = h264_packet(st, &pkts[i], &fu, out, fi);
        if (rc < 0)
            return rc;
    }
    tc_nal_fu_abort(&fu, out, &fi->damaged);
    return out->len > base ? 0 : -EBADMSG;
}

static int h264_extradata(void *state, struct vb_buf *out)
{
    const struct h264_state *st = state;
    const struct tc_nal_ps *ps[] = {&st->sps, &st->pps};
    return tc_nal_ps_put_all(ps, 2, out);
}

const struct tc_depay_ops tc_depay_h264 = {
    .codec = "h264",
    .state_size = sizeof(struct h264_state),
    .frame = h264_frame,
    .extradata = h264_extradata,
};
