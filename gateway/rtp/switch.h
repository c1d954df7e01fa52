/* gateway/rtp/switch.h — helpers of the SFU's forwarding path: one continuous outgoing RTP
 * stream made of packets from changing sources (RFC 3550 sequence number and timestamp
 * continuity), video payload inspection (keyframes, the VP8 payload descriptor of RFC 7741) and
 * simulcast substream / temporal layer selection for one subscriber stream.
 *
 * Threads and memory: everything here runs on media threads. No function allocates, locks or
 * makes a system call. The state structs are owned by the caller (embedded in its per-subscriber
 * stream object), may be zero-initialised and must be set up with their init function before
 * use. One struct serves one forwarded stream and is used by one thread at a time (the media
 * thread of the caller): none of it is thread-safe. The payload functions are pure and may run
 * on any thread on buffers that thread owns. */
#ifndef VB_GATEWAY_RTP_SWITCH_H
#define VB_GATEWAY_RTP_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Sequence number and timestamp continuity (switch.c) ---- */

/* How many recent deliberately dropped packets (gw_rtp_switch_skip) are remembered so that a
 * late packet from before them still gets its own output number. */
#define GW_RTP_SWITCH_SKIPS 32

/* Output continuity of one forwarded stream (a subscriber's m-line). The fields are private to
 * switch.c. Output value = input value + offset, with the offsets fixed when a source starts
 * (and the sequence offset lowered by one per skipped packet). Owned (embedded) by the caller;
 * every gw_rtp_switch_* call on it from the media thread that sends the stream, or under the
 * caller's own lock: not thread-safe, one per forwarded stream. */
struct gw_rtp_switch {
    uint32_t clock_rate; /* of the output stream; 0: a source switch advances ts by 1 */
    bool sending;        /* a packet went out: last_seq, last_ts, last_us are valid */
    bool have_source;    /* false before the first packet and after a reset */
    bool follows;        /* the current source followed another one */
    bool young;          /* the current source is recent enough to tell older-than-first */
    bool skips_lost;     /* more skips happened than the ring holds */
    uint32_t ssrc;       /* of the current source */
    uint16_t first_seq;  /* input seq of the current source's first packet */
    uint16_t max_seq;    /* newest input seq of the current source (sent or skipped) */
    uint16_t seq_off;    /* output seq = input seq + seq_off (for packets newer than the skips) */
    uint32_t ts_off;     /* output ts = input ts + ts_off */
    uint16_t last_seq;   /* newest output seq sent */
    uint32_t last_ts;    /* newest output ts sent */
    int64_t last_us;     /* when the newest packet went out */
    uint16_t skips[GW_RTP_SWITCH_SKIPS]; /* input seqs skipped, oldest at skip_head when full */
    uint8_t nskips, skip_head;
};

/* Sets up `s` for a stream whose RTP clock runs at `clock_rate` Hz (90000 for video, 48000 for
 * Opus). Nothing has been sent yet. Nothing to free. Owner's thread, before any other call. */
void gw_rtp_switch_init(struct gw_rtp_switch *s, uint32_t clock_rate);

/* Rewrites seq and ts of the plain RTP packet `pkt` (`len` bytes, checked with gw_rtp_parse) in
 * place so that what goes out is one continuous stream. The very first source keeps its own
 * values. When the source changes (an SSRC other than the last one seen, or after
 * gw_rtp_switch_reset) the output continues at the newest sent seq + 1 and at the newest sent
 * ts + the wall time elapsed since the newest packet went out (`now_us`, monotonic), in
 * clock-rate units, at least 1. Within a source the seq and ts offsets are constant, so
 * reordered and late packets keep their relative positions (minus the packets skipped after
 * them). The SSRC is not touched: call this before setting the subscriber's SSRC, since the
 * source's SSRC is how a change is seen. Each subscriber rewrites its own copy of a packet.
 * Returns 0; -EINVAL when `pkt` is not RTP; -ESTALE (nothing rewritten, drop the packet) for a
 * late packet that cannot be numbered without colliding with one already sent: older than the
 * first packet of a source that followed another one, or older than the skips remembered.
 * Forwarding thread (no allocation, no lock, no system call). */
int gw_rtp_switch_apply(struct gw_rtp_switch *s, uint8_t *pkt, size_t len, int64_t now_us);

/* The next packet starts a new source even with the same SSRC (e.g. the subscriber switched
 * feed or substream). Same thread as gw_rtp_switch_apply. */
void gw_rtp_switch_reset(struct gw_rtp_switch *s);

/* Tells `s` that the packet `pkt` of the current source is dropped on purpose (e.g. a temporal
 * layer not forwarded): packets newer than it go out one seq lower, so the output has no gap.
 * Only a packet newer than every packet of the source seen so far counts; an older one, a
 * packet of another SSRC, one arriving before any source or after a reset, or one that is not
 * RTP changes nothing. Same thread as gw_rtp_switch_apply. */
void gw_rtp_switch_skip(struct gw_rtp_switch *s, const uint8_t *pkt, size_t len);

/* ---- Payload inspection (codec.c) ---- */

enum gw_video_codec { GW_VC_UNKNOWN, GW_VC_VP8, GW_VC_VP9, GW_VC_H264, GW_VC_AV1, GW_VC_H265 };

/* The codec of an rtpmap encoding name, case-insensitive: "vp8", "vp9", "h264", "av1" (also
 * "av1x"), "h265" (also "hevc"); GW_VC_UNKNOWN for anything else and for NULL. Any thread. */
enum gw_video_codec gw_video_codec_from_name(const char *name);

/* True when the RTP payload (`len` bytes, never read past) starts a keyframe:
 *   VP8: S bit with partition index 0 and the P bit of the VP8 payload header clear;
 *   VP9: P bit clear, B bit set, and the VP9 frame header of the payload is a key frame;
 *   H.264 (packetization modes 0/1): an IDR (5) or SPS (7) NAL unit, alone, inside a STAP-A,
 *     or at the start of an FU-A;
 *   AV1: the N bit (first packet of a coded video sequence) of the aggregation header;
 *   H.265 (without DONL): an IRAP (16-21), VPS (32) or SPS (33) NAL unit, alone, inside an AP,
 *     or at the start of an FU.
 * False for GW_VC_UNKNOWN and for anything truncated or malformed. Any thread. */
bool gw_rtp_is_keyframe(enum gw_video_codec c, const uint8_t *payload, size_t len);

/* VP8 payload descriptor (RFC 7741 section 4.2). */
struct gw_vp8_desc {
    bool start; /* S bit with partition index 0 */
    bool has_picid, picid_16;
    uint16_t picid;
    bool has_tl0picidx;
    uint8_t tl0picidx;
    bool has_tid; /* the T bit: tid and layer_sync are meaningful */
    uint8_t tid;
    bool layer_sync;
    size_t header_len; /* bytes of descriptor before the VP8 payload header */
};

/* Parses the descriptor at the start of an RTP payload of `len` bytes into *d. Returns 0, or
 * -EINVAL when the descriptor runs past `len` or leaves no VP8 payload byte after it (*d is
 * then unspecified). Any thread. */
int gw_vp8_desc_parse(const uint8_t *payload, size_t len, struct gw_vp8_desc *d);

/* Rewrites the picture id and TL0PICIDX in place, in the widths present (a 7-bit picture id
 * keeps the low 7 bits of `picid`, a 15-bit one the low 15); absent fields are left alone.
 * Returns 0, or -EINVAL as gw_vp8_desc_parse. Any thread that owns the buffer. */
int gw_vp8_desc_rewrite(uint8_t *payload, size_t len, uint16_t picid, uint8_t tl0picidx);

/* ---- Simulcast selection (simulcast.c) ---- */

#define GW_SIMULCAST_SUBSTREAMS 3 /* 0 = lowest quality */
#define GW_SIMULCAST_LAYERS 3     /* temporal layers 0..2 */
#define GW_SIMULCAST_RID_MAX 16   /* bytes of a rid (the most an RFC 8285 one-byte element holds) */
#define GW_SIMULCAST_STALE_US 250000 /* a substream without packets this long has stopped */
#define GW_SIMULCAST_PLI_US 500000   /* at most one keyframe request per this interval */

/* Simulcast selection for one subscriber stream, like Janus's. The fields are private to
 * simulcast.c. Owned (embedded) by the caller; every gw_simulcast_* call on it from the media
 * thread that forwards the stream, or under the caller's own lock: not thread-safe, one per
 * forwarded stream. (A `configure` on a control thread should hand its target over, e.g.
 * through atomics in the caller's stream object that the media thread passes to
 * gw_simulcast_set_target before gw_simulcast_process.) */
struct gw_simulcast {
    enum gw_video_codec codec;
    int target_sub, target_temporal; /* what the subscriber asked for */
    int sub, temporal;               /* what is forwarded now; -1 before the first packet */
    uint32_t ssrc[GW_SIMULCAST_SUBSTREAMS];
    bool has_ssrc[GW_SIMULCAST_SUBSTREAMS];
    char rid[GW_SIMULCAST_SUBSTREAMS][GW_SIMULCAST_RID_MAX + 1];
    int64_t last_us[GW_SIMULCAST_SUBSTREAMS]; /* last packet per substream */
    bool seen[GW_SIMULCAST_SUBSTREAMS];
    bool pli_sent; /* last_pli_us is valid */
    int64_t last_pli_us;
    uint16_t start_seq; /* input seq of the current substream's switching packet */
    bool start_young;   /* start_seq is recent enough to tell older packets */
    /* VP8: output picture id = input + picid_off (in the packet's width), tl0 likewise. */
    bool vp8_has_picid, vp8_has_tl0; /* one went out: last_picid / last_tl0 are valid */
    uint16_t picid_off, last_picid;
    uint8_t tl0_off, last_tl0;
};

/* Sets up `sc` for a stream of `codec`: target substream 2 and temporal layer 2 (the best),
 * nothing forwarded yet, no SSRCs or rids known. Nothing to free. Owner's thread. */
void gw_simulcast_init(struct gw_simulcast *sc, enum gw_video_codec codec);

/* Sets the wanted substream (0-2) and temporal layer (0-2); -1 keeps the current target, larger
 * values are clamped to 2. The change happens on the next suitable packet (a keyframe of the
 * substream, a layer-sync frame of the temporal layer going up, a frame start going down).
 * Cheap enough to call before every packet. Forwarding thread. */
void gw_simulcast_set_target(struct gw_simulcast *sc, int substream, int temporal);

/* Remembers which SSRC or rid (a string of at most GW_SIMULCAST_RID_MAX bytes) carries
 * `substream`, for gw_simulcast_resolve. 0, or -EINVAL (substream out of range, rid NULL or too
 * long). A rid set again forgets the SSRC learnt for it, so set the rid before the SSRC when both
 * are known. Forwarding thread. */
int gw_simulcast_set_ssrc(struct gw_simulcast *sc, int substream, uint32_t ssrc);
int gw_simulcast_set_rid(struct gw_simulcast *sc, int substream, const char *rid);

/* The substream of a packet of `ssrc`, whose rtp-stream-id extension value is `rid` (`rid_len`
 * bytes; NULL/0 when the packet has none): by SSRC first, else by rid, in which case the SSRC is
 * learnt for that substream. -ENOENT when neither matches. Forwarding thread. */
int gw_simulcast_resolve(struct gw_simulcast *sc, uint32_t ssrc, const uint8_t *rid,
                         size_t rid_len);

/* Decides whether to forward one incoming packet of substream `substream` (resolved by the
 * caller from SSRC or rid): returns 1 forward, 0 drop. Sets *switched when this packet is the
 * first of a new substream (the caller then calls gw_rtp_switch_reset before
 * gw_rtp_switch_apply) and *need_keyframe when the caller should send a PLI to the publisher
 * (a switch is pending and no keyframe arrived yet; at most once per GW_SIMULCAST_PLI_US).
 *
 * Substreams: switching happens only on a keyframe of the effective target, which is the
 * target if it delivered a packet in the last GW_SIMULCAST_STALE_US, else the nearest such
 * substream below it, else above it. When the current substream stopped (no packet for
 * GW_SIMULCAST_STALE_US, or none forwarded yet), a keyframe of any substream is taken. Packets
 * of the current substream older than its switching packet are dropped.
 * Temporal (VP8 with the T bit): packets with a tid above the current temporal layer are
 * dropped; the layer goes down to the target at a frame start and up at a frame start with
 * the layer-sync bit (or on a keyframe, which always goes out, as does the packet that
 * switches). A packet of the current substream (`substream` ==
 * gw_simulcast_substream(sc) after the call) that is dropped is such a deliberate drop: the
 * caller then calls gw_rtp_switch_skip with it.
 * VP8 picture ids and TL0PICIDX are rewritten in place so they stay continuous across
 * substream switches. A packet that is not RTP, or `substream` out of range, is dropped.
 * Forwarding thread (no allocation, no lock, no system call). */
int gw_simulcast_process(struct gw_simulcast *sc, int substream, uint8_t *pkt, size_t len,
                         int64_t now_us, bool *switched, bool *need_keyframe);

/* Current substream / temporal layer being forwarded (-1 before the first packet). Without
 * temporal layer information in the packets, the temporal layer is the target one. Forwarding
 * thread (plain reads: another thread needs the caller's own synchronisation). */
int gw_simulcast_substream(const struct gw_simulcast *sc);
int gw_simulcast_temporal(const struct gw_simulcast *sc);
/* The substream / temporal layer asked for (gw_simulcast_set_target; 2 and 2 by default). */
int gw_simulcast_target_substream(const struct gw_simulcast *sc);
int gw_simulcast_target_temporal(const struct gw_simulcast *sc);

#endif
