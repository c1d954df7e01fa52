/* This file implements the VP8 depacketizer (RTP payload format of RFC 7741).
 *
 * Every packet starts with a payload descriptor: a required byte (X R N S R PID) and, when X
 * is set, an extension byte (I L T K) announcing a picture id of 7 or 15 bits, a TL0PICIDX
 * byte and a TID/Y/KEYIDX byte. The frame is what follows the descriptors, concatenated in
 * sequence order; libavformat stores it as is.
 *
 * DESIGN: the frame is judged on the assembled bytes rather than on the first packet alone,
 * so a keyframe header that a sender split over two packets is still read. A frame is whole
 * only when its first packet starts partition 0 (S=1, PID=0), no sequence number is skipped
 * and no packet is malformed; anything else is still written, but marked damaged, so that the
 * caller decides whether to keep it. No state is kept between frames. */
#include "transcode/depay.h"

#include <errno.h>

#include "common/bytes.h"

/* Required descriptor byte. */
#define VP8_X 0x80u /* an extension byte follows */
#define VP8_S 0x10u /* start of a partition */
#define VP8_PID 0x07u
/* Extension byte. */
#define VP8_I 0x80u /* picture id present */
#define VP8_L 0x40u /* TL0PICIDX present */
#define VP8_T 0x20u /* TID present (shares a byte with KEYIDX) */
#define VP8_K 0x10u /* KEYIDX present */
/* First picture id byte: the id has 15 bits. */
#define VP8_M 0x80u

/* Keyframe header: the 3-byte frame tag, the start code, then two 16-bit little-endian
 * dimension fields of which the low 14 bits are the size (the top 2 are scaling). */
#define VP8_KEY_HEADER_LEN 10
#define VP8_DIM_MASK 0x3fffu

/* Reads the payload descriptor at the start of a packet. Returns its length, or -EBADMSG when
 * it is cut off or no payload byte follows it. *start says whether the packet begins the
 * frame (S=1 with partition index 0). */
static int descriptor_parse(const uint8_t *p, size_t len, bool *start)
{
    if (len < 1)
        return -EBADMSG;
    *start = (p[0] & VP8_S) && (p[0] & VP8_PID) == 0;
    size_t off = 1;
    if (p[0] & VP8_X) {
        if (len < 2)
            return -EBADMSG;
        uint8_t ext = p[1];
        off = 2;
        if (ext & VP8_I) {
            if (off >= len)
                return -EBADMSG;
            off += (p[off] & VP8_M) ? 2 : 1;
        }
        if (ext & VP8_L)
            off++;
        if (ext & (VP8_T | VP8_K))
            off++;
    }
    if (off >= len)
        return -EBADMSG;
    return (int)off;
}

/* Reads what the frame at `p` says of itself: keyframe or not, and a keyframe's size. A frame
 * claiming to be a keyframe without a valid keyframe header is damaged and not a keyframe. */
static void frame_inspect(const uint8_t *p, size_t len, struct tc_frame_info *fi)
{
    if (p[0] & 1u) /* P: an interframe */
        return;
    if (len < VP8_KEY_HEADER_LEN || p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a) {
        fi->damaged = true;
        return;
    }
    int width = rd_le16(p + 6) & VP8_DIM_MASK, height = rd_le16(p + 8) & VP8_DIM_MASK;
    if (width == 0 || height == 0) {
        fi->damaged = true;
        return;
    }
    fi->key = true;
    fi->width = width;
    fi->height = height;
}

static int vp8_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                     struct tc_frame_info *fi)
{
    (void)state;
    size_t base = out->len;
    bool any = false, starts = false;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pkts[i].seq != pkts[i - 1].seq + 1)
            fi->damaged = true;
        bool start = false;
        int off = descriptor_parse(pkts[i].payload, pkts[i].len, &start);
        if (off < 0) {
            fi->damaged = true; /* malformed: skipped */
            continue;
        }
        if (i == 0)
            starts = start;
        int rc = vb_buf_put(out, pkts[i].payload + off, pkts[i].len - (size_t)off);
        if (rc < 0)
            return rc;
        any = true;
    }
    if (!any)
        return -EBADMSG;
    if (!starts) {
        fi->damaged = true; /* the frame's beginning is missing: nothing to say about it */
        return 0;
    }
    frame_inspect(out->p + base, out->len - base, fi);
    return 0;
}

const struct tc_depay_ops tc_depay_vp8 = {.codec = "vp8", .frame = vp8_frame};
