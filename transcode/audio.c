/* This file implements the audio depacketizers: Opus (and multiopus), G.711 µ-law and
 * A-law, G.722 and L16. Their RTP payloads are already what containers store, so a frame is
 * its payload unchanged; Opus packets are checked against RFC 6716's framing so that a
 * malformed one is reported instead of written. */
#include "transcode/depay.h"

#include <errno.h>

/* PCM-like payloads: packets sharing a timestamp are concatenated (there is normally one). */
static int pcm_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                     struct tc_frame_info *fi)
{
    (void)state;
    fi->key = true;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pkts[i].seq != pkts[i - 1].seq + 1)
            fi->damaged = true;
        int rc = vb_buf_put(out, pkts[i].payload, pkts[i].len);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Opus: one packet is one frame; a second packet with the same timestamp is ignored (a
 * sender never does that; it is not a continuation). */
static int opus_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                      struct tc_frame_info *fi)
{
    (void)state;
    (void)n;
    if (tc_opus_packet_samples(pkts[0].payload, pkts[0].len) == 0)
        return -EBADMSG;
    fi->key = true;
    return vb_buf_put(out, pkts[0].payload, pkts[0].len);
}

/* Multiopus packets are several self-delimited Opus streams; the first stream's TOC still
 * gives the duration, and the payload goes to the container as is. */
static int multiopus_frame(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                           struct tc_frame_info *fi)
{
    (void)state;
    (void)n;
    fi->key = true;
    return vb_buf_put(out, pkts[0].payload, pkts[0].len);
}

const struct tc_depay_ops tc_depay_opus = {.codec = "opus", .frame = opus_frame};
const struct tc_depay_ops tc_depay_multiopus = {.codec = "multiopus", .frame = multiopus_frame};
const struct tc_depay_ops tc_depay_pcmu = {.codec = "pcmu", .frame = pcm_frame};
const struct tc_depay_ops tc_depay_pcma = {.codec = "pcma", .frame = pcm_frame};
const struct tc_depay_ops tc_depay_g722 = {.codec = "g722", .frame = pcm_frame};
const struct tc_depay_ops tc_depay_l16 = {.codec = "l16", .frame = pcm_frame};
const struct tc_depay_ops tc_depay_l16_48 = {.codec = "l16-48", .frame = pcm_frame};
