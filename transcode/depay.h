/* transcode/depay.h — depacketizers: RTP payloads of one frame in, one codec access unit out.
 *
 * The conversion pipeline (job.c) reads an MJR file, parses and reorders its RTP packets
 * (reorder.c), and groups consecutive packets that share an RTP timestamp into one frame
 * (for video; each audio packet is a frame). A depacketizer turns such a group into the
 * bitstream a container stores, and says what it learnt about the frame: is it a keyframe,
 * what resolution does its bitstream declare, was it whole.
 *
 * Output bitstreams, as libavformat's muxers take them without any bitstream filter:
 *   - Opus, G.711, G.722, L16: the payload unchanged (audio.c).
 *   - VP8, VP9: the frame without payload descriptors (one VP9 superframe per timestamp).
 *   - H.264, H.265: Annex B (00 00 00 01 before every NAL unit); aggregation and
 *     fragmentation units resolved.
 *   - AV1: a temporal unit in the low-overhead format (every OBU with obu_has_size_field=1),
 *     starting with a temporal delimiter OBU.
 *
 * Ownership: a depacketizer's state is allocated by tc_depay_new() and freed by
 * tc_depay_free(). `out` buffers belong to the caller; a depacketizer appends to them.
 * Thread-safety: one state per track, used by one thread at a time. No function here does
 * I/O; all of them are pure over their inputs and the state (fuzzed: tests/fuzz). */
#ifndef VB_TRANSCODE_DEPAY_H
#define VB_TRANSCODE_DEPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* One RTP packet of a track, after reordering. */
struct tc_rtp {
    const uint8_t *payload; /* after the header, CSRCs and extension; padding removed */
    size_t len;             /* > 0 */
    uint64_t seq;           /* extended sequence number: a step over 1 means lost packets */
    int64_t ts;             /* extended RTP timestamp */
    bool marker;
};

/* What a depacketizer learnt from one frame. Zeroed by the caller before each frame. */
struct tc_frame_info {
    bool key;          /* keyframe (VP8/VP9 key frame, H.264 IDR, H.265 IRAP, AV1 key) */
    bool damaged;      /* packets missing or malformed: the frame is incomplete */
    int width, height; /* as the bitstream declares it in this frame, else 0 */
};

struct tc_depay_ops {
    const char *codec; /* MJR "c" value: "vp8", "h264", ... */
    size_t state_size; /* bytes of zeroed state tc_depay_new() allocates (may be 0) */
    /* Builds one frame from `n` >= 1 packets sharing a timestamp, in sequence order (a gap
     * in `seq` means loss inside the frame). Appends the access unit to `out`. Returns 0;
     * -EBADMSG if nothing usable came out (out may have been appended to: the caller resets
     * it); -E2BIG if `out` is full. Sets fi->damaged for a usable but incomplete frame. */
    int (*frame)(void *state, const struct tc_rtp *pkts, size_t n, struct vb_buf *out,
                 struct tc_frame_info *fi);
    /* Appends the codec configuration the muxer needs, from what frames have shown so far:
     * H.264: the latest SPS and PPS, H.265: VPS, SPS and PPS, each in Annex B with 4-byte
     * start codes (libavformat turns them into avcC / hvcC and the Annex B frames into
     * length-prefixed samples); AV1: the sequence header OBU (with its size field; libavformat
     * builds av1C from it); others: none. Returns 0 (out untouched when there is none yet),
     * or -errno. May be NULL. */
    int (*extradata)(void *state, struct vb_buf *out);
    /* Frees what `state` owns (not the state itself). May be NULL. */
    void (*release)(void *state);
};

/* The depacketizer of an MJR codec name (case-insensitive; "g711" is µ-law), or NULL. */
const struct tc_depay_ops *tc_depay_find(const char *codec);

/* Each codec's table (in its own file). */
extern const struct tc_depay_ops tc_depay_vp8;
extern const struct tc_depay_ops tc_depay_vp9;
extern const struct tc_depay_ops tc_depay_h264;
extern const struct tc_depay_ops tc_depay_h265;
extern const struct tc_depay_ops tc_depay_av1;
extern const struct tc_depay_ops tc_depay_opus;
extern const struct tc_depay_ops tc_depay_multiopus;
extern const struct tc_depay_ops tc_depay_pcmu;
extern const struct tc_depay_ops tc_depay_pcma;
extern const struct tc_depay_ops tc_depay_g722;
extern const struct tc_depay_ops tc_depay_l16;    /* 16 kHz */
extern const struct tc_depay_ops tc_depay_l16_48; /* 48 kHz */

/* A depacketizer with its state. */
struct tc_depay {
    const struct tc_depay_ops *ops;
    void *state;
};

/* Allocates the state for `ops`. Never fails (aborts on out of memory). */
struct tc_depay *tc_depay_new(const struct tc_depay_ops *ops);
void tc_depay_free(struct tc_depay *d);

/* Opus (opus.c): the duration in 48 kHz samples of an Opus packet, from its TOC byte and
 * frame count (RFC 6716 section 3.1); 0 for a packet whose framing is impossible (empty, code 1
 * with an odd body, code 2 without its length byte, code 3 without its count or with 0 frames,
 * more than 120 ms). Frame lengths inside code 2/3 packets are not checked. */
unsigned tc_opus_packet_samples(const uint8_t *p, size_t len);

#endif
