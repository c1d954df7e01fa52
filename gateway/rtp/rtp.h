/* gateway/rtp/rtp.h — RTP for the gateway's media plane: header parsing and in-place rewriting
 * (RFC 3550), header extensions in the one-byte and two-byte forms (RFC 8285) with decoders for
 * the extensions WebRTC negotiates, RTX (RFC 4588) unwrap and wrap, and the send-side
 * retransmission buffer that answers NACKs.
 *
 * Every field is read with the explicit big-endian readers of common/bytes.h and every length
 * is checked against the packet; a parsed header holds offsets into the caller's packet, never
 * pointers, so it stays valid for in-place rewriting. The packet functions are pure (no state,
 * no allocation) and may run on any thread on packets that thread owns. The retransmission
 * buffer has its own thread rule, written at its declaration. */
#ifndef VB_GATEWAY_RTP_RTP_H
#define VB_GATEWAY_RTP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_RTP_HEADER_MIN 12
#define GW_RTP_EXT_ONE_BYTE 0xBEDE /* profile of the one-byte form */
#define GW_RTP_EXT_TWO_BYTE 0x1000 /* profile of the two-byte form (low 4 bits: appbits) */
#define GW_RTP_EXT_TWO_BYTE_MASK 0xFFF0

/* A parsed header. Offsets count from the first byte of the packet. */
struct gw_rtp_hdr {
    bool marker;
    bool padding;       /* the P bit; pad_len bytes at the end are padding */
    bool extension;     /* the X bit; ext_* below describe the block */
    uint8_t csrc_count; /* CC, 0-15 */
    uint8_t pt;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    uint16_t ext_profile; /* the 16-bit "defined by profile" word, 0 without extension */
    size_t ext_off;       /* extension header (profile, length) offset; 0 without */
    size_t ext_len;       /* bytes of extension data after its 4-byte header */
    size_t payload_off;   /* first payload byte (after CSRCs and extension) */
    size_t payload_len;   /* payload bytes, padding excluded (0 for a padding-only packet) */
    uint8_t pad_len;      /* padding bytes, counted in the packet's length */
};

/* Parses and validates the header of an RTP packet of `len` bytes: version 2, CSRCs, the
 * extension block and the padding all inside the packet, and not an RTCP packet (payload types
 * 64-95 with the marker bit, i.e. a second byte of 192-223, are RTCP under rtcp-mux, RFC 5761).
 * Returns 0, or -EBADMSG with *h unspecified. Any thread. */
int gw_rtp_parse(const uint8_t *pkt, size_t len, struct gw_rtp_hdr *h);

/* Demultiplexes rtcp-mux traffic (RFC 5761 section 4): true when `len` >= 2, the version is
 * 2 and the second byte is an RTCP packet type (192-223). Any thread. */
bool gw_rtp_is_rtcp(const uint8_t *pkt, size_t len);

/* In-place rewrites of the fixed header. `pkt` is a packet that gw_rtp_parse accepted (at least
 * GW_RTP_HEADER_MIN bytes); a parsed header of it, if kept, is stale for the changed field.
 * `pt` is masked to 7 bits. Any thread that owns the packet. */
void gw_rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc);
void gw_rtp_set_seq(uint8_t *pkt, uint16_t seq);
void gw_rtp_set_ts(uint8_t *pkt, uint32_t ts);
void gw_rtp_set_pt(uint8_t *pkt, uint8_t pt);
void gw_rtp_set_marker(uint8_t *pkt, bool marker);

/* ---- Header extensions (RFC 8285) ---- */

/* The URIs of the extensions the gateway understands (as in a=extmap lines). */
#define GW_RTP_EXT_URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define GW_RTP_EXT_URI_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define GW_RTP_EXT_URI_REPAIRED_RID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define GW_RTP_EXT_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define GW_RTP_EXT_URI_VIDEO_ORIENTATION "urn:3gpp:video-orientation"
#define GW_RTP_EXT_URI_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define GW_RTP_EXT_URI_TRANSPORT_CC                                                                \
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define GW_RTP_EXT_URI_PLAYOUT_DELAY "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

enum gw_rtp_ext_kind {
    GW_RTP_EXT_UNKNOWN = 0,
    GW_RTP_EXT_MID,
    GW_RTP_EXT_RID,
    GW_RTP_EXT_REPAIRED_RID,
    GW_RTP_EXT_AUDIO_LEVEL,
    GW_RTP_EXT_VIDEO_ORIENTATION,
    GW_RTP_EXT_ABS_SEND_TIME,
    GW_RTP_EXT_TRANSPORT_CC,
    GW_RTP_EXT_PLAYOUT_DELAY,
};

/* The kind of an extmap URI (exact, case-sensitive match), GW_RTP_EXT_UNKNOWN otherwise; and
 * back (NULL for UNKNOWN or out of range). Any thread. */
enum gw_rtp_ext_kind gw_rtp_ext_kind_from_uri(const char *uri);
const char *gw_rtp_ext_kind_uri(enum gw_rtp_ext_kind kind);

/* Walks the elements of a packet's extension block. Holds offsets only; the packet is passed
 * to each call. An unknown profile (neither form) yields no elements. */
struct gw_rtp_ext_iter {
    size_t pos; /* next byte to read, from the start of the packet */
    size_t end; /* end of the extension data */
    bool two_byte;
};

void gw_rtp_ext_iter_init(struct gw_rtp_ext_iter *it, const struct gw_rtp_hdr *h);
/* Next element: 1 with its id, the offset of its data in the packet and its length; 0 at the
 * end; -EBADMSG when an element runs past the block (the rest is ignored by the other
 * functions). Padding bytes are skipped; a one-byte id of 15 ends the walk (RFC 8285 4.2). */
int gw_rtp_ext_iter_next(struct gw_rtp_ext_iter *it, const uint8_t *pkt, uint8_t *id, size_t *off,
                         size_t *len);

/* Finds element `id` (1-14 one-byte, 1-255 two-byte): 0 and its data offset and length, or
 * -ENOENT. */
int gw_rtp_ext_find(const uint8_t *pkt, const struct gw_rtp_hdr *h, uint8_t id, size_t *off,
                    size_t *len);

/* Rewrites element `id`'s value in place with `len` bytes. A shorter value than the element's
 * is allowed: the element shrinks and the bytes it frees become padding (0). Returns 0,
 * -ENOENT when absent, -EMSGSIZE when `len` is larger than the element (nothing can grow in
 * place) or 0 in the one-byte form. */
int gw_rtp_ext_set(uint8_t *pkt, const struct gw_rtp_hdr *h, uint8_t id, const uint8_t *val,
                   size_t len);

/* Removes element `id` in place, overwriting it (header and data) with padding. 0 or -ENOENT. */
int gw_rtp_ext_remove(uint8_t *pkt, const struct gw_rtp_hdr *h, uint8_t id);

/* Removes the whole extension block: clears the X bit, moves the payload (and padding) down and
 * updates *len and *h. 0, or -ENOENT when there is no extension. */
int gw_rtp_ext_strip(uint8_t *pkt, size_t *len, struct gw_rtp_hdr *h);

/* Decoders of element values (`d`, `len` as gw_rtp_ext_find found them). 0 or -EBADMSG.
 * audio-level (RFC 6464): voice activity flag and level in -dBov (0 loudest, 127 silence).
 * video-orientation (3GPP TS 26.114): rotation 0, 90, 180 or 270 (R1 R0 x 90 degrees, as
 *   libwebrtc reads it), and the flip bit.
 * abs-send-time: 24-bit 6.18 fixed point seconds, raw and in microseconds (0-64 s).
 * transport-cc: the transport-wide sequence number.
 * playout-delay: minimum and maximum in milliseconds (units of 10 ms on the wire). */
int gw_rtp_ext_audio_level(const uint8_t *d, size_t len, bool *vad, uint8_t *level);
int gw_rtp_ext_video_orientation(const uint8_t *d, size_t len, unsigned *rotation, bool *flip);
int gw_rtp_ext_abs_send_time(const uint8_t *d, size_t len, uint32_t *raw, int64_t *us);
int gw_rtp_ext_transport_seq(const uint8_t *d, size_t len, uint16_t *seq);
int gw_rtp_ext_playout_delay(const uint8_t *d, size_t len, unsigned *min_ms, unsigned *max_ms);

/* ---- RTX (RFC 4588) ---- */

/* Unwraps a retransmission in place: the original sequence number is read from the first two
 * payload bytes, the payload (and padding) moves down by two, and the header gets `ssrc`, `pt`
 * and the original sequence number; *len and *h are updated. Returns 0; -ENODATA for an RTX
 * packet without payload (a padding-only probe: drop it); -EBADMSG when the payload holds one
 * byte. Any thread that owns the packet. */
int gw_rtp_rtx_unwrap(uint8_t *pkt, size_t *len, struct gw_rtp_hdr *h, uint32_t ssrc, uint8_t pt);

/* Wraps the plain RTP packet `pkt` (that gw_rtp_parse accepts) as an RTX packet into `out`:
 * same header with `rtx_ssrc`, `rtx_pt` and `rtx_seq`, the original sequence number in front of
 * the payload. Returns the length written, -ENOSPC when `cap` is short (len + 2 needed),
 * -EBADMSG (not RTP) or -EMSGSIZE (a length an int cannot return). `out` must not overlap `pkt`.
 * Any thread. */
int gw_rtp_rtx_wrap(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap, uint32_t rtx_ssrc,
                    uint8_t rtx_pt, uint16_t rtx_seq);

/* ---- Retransmission buffer (what we send, for answering NACKs) ---- */

/* Per outgoing stream: the last `slots` packets (by sequence number, copied into preallocated
 * slots of `max_packet` bytes), kept at most `max_age_us`. A lookup returns a copy, optionally
 * wrapped as RTX, at most once per `min_resend_us` per packet (repeated NACKs for one packet
 * cost one resend per interval). Memory: slots x max_packet bytes (768 KiB by default), paid at
 * creation.
 *
 * Threads: store is called on the sending thread of the stream and lookup on the loop thread
 * that receives the NACKs; they may differ, so the buffer holds a mutex held for one slot copy
 * (no allocation, no I/O under it). Create and destroy on the owner's thread, with no store
 * or lookup running. */
struct gw_rtx_buffer;

struct gw_rtx_buffer_config {
    unsigned slots;        /* power of two, 16-32768; 0 = 512 */
    size_t max_packet;     /* largest storable packet; 0 = 1500 */
    int64_t max_age_us;    /* 0 = 1 s */
    int64_t min_resend_us; /* 0 = 40 ms; negative = no limit */
};

/* Creates a buffer (the one allocation). NULL `cfg` = the defaults. 0 or -EINVAL. */
int gw_rtx_buffer_create(const struct gw_rtx_buffer_config *cfg, struct gw_rtx_buffer **out);
/* Frees the buffer. NULL is a no-op. */
void gw_rtx_buffer_destroy(struct gw_rtx_buffer *b);

/* Answers lookups with RTX packets of `ssrc`/`pt`, numbered from `first_seq` on, one per
 * resend (`enable` false: the original packet is resent as is). Any thread. */
void gw_rtx_buffer_set_rtx(struct gw_rtx_buffer *b, bool enable, uint32_t ssrc, uint8_t pt,
                           uint16_t first_seq);

/* Copies the plain (unprotected) RTP packet into the slot of its sequence number, replacing
 * whatever it held, and stamps it with `now_us` (monotonic). 0, -EBADMSG (not RTP) or
 * -EMSGSIZE (larger than max_packet). Sending thread. */
int gw_rtx_buffer_store(struct gw_rtx_buffer *b, const uint8_t *pkt, size_t len, int64_t now_us);

/* Copies packet `seq` into `out` (RTX-wrapped when enabled) for the caller to protect and send,
 * and stamps its resend time. Returns the length, -ENOENT (never stored, overwritten or older
 * than max_age), -EAGAIN (resent less than min_resend_us ago) or -ENOSPC (`cap` too short).
 * Loop thread (any thread). */
int gw_rtx_buffer_lookup(struct gw_rtx_buffer *b, uint16_t seq, int64_t now_us, uint8_t *out,
                         size_t cap);

/* Counters since creation, for handle_info. Any thread. */
struct gw_rtx_buffer_stats {
    uint64_t stored;
    uint64_t resent;
    uint64_t missing; /* lookups that found nothing */
    uint64_t limited; /* lookups refused by min_resend_us */
};
void gw_rtx_buffer_get_stats(struct gw_rtx_buffer *b, struct gw_rtx_buffer_stats *out);

#endif
