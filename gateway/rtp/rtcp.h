/* gateway/rtp/rtcp.h — RTCP for the gateway's media plane: parsing of compound and reduced-size
 * packets into typed blocks (RFC 3550, 4585, 5104, 5506 and the REMB draft), builders into a
 * caller's buffer, SSRC rewriting for forwarded feedback, receiver and sender statistics
 * (RFC 3550 appendix A) and the NACK generator for gaps in what we receive.
 *
 * Parsing reads with the explicit big-endian readers of common/bytes.h and checks every length;
 * blocks borrow the caller's bytes. Parsing, building and rewriting are pure and run on any
 * thread on buffers that thread owns. The stateful parts (statistics, NACK generator) state
 * their thread at their declarations; none of them allocates after creation. */
#ifndef VB_GATEWAY_RTP_RTCP_H
#define VB_GATEWAY_RTP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Packet types (the second byte). */
#define GW_RTCP_SR 200
#define GW_RTCP_RR 201
#define GW_RTCP_SDES 202
#define GW_RTCP_BYE 203
#define GW_RTCP_APP 204
#define GW_RTCP_RTPFB 205
#define GW_RTCP_PSFB 206
#define GW_RTCP_XR 207

/* Feedback message types (the FMT field of RTPFB / PSFB). */
#define GW_RTCP_FMT_NACK 1  /* RTPFB generic NACK, RFC 4585 */
#define GW_RTCP_FMT_TWCC 15 /* RTPFB transport-wide congestion control */
#define GW_RTCP_FMT_PLI 1   /* PSFB picture loss indication, RFC 4585 */
#define GW_RTCP_FMT_FIR 4   /* PSFB full intra request, RFC 5104 */
#define GW_RTCP_FMT_AFB 15  /* PSFB application layer feedback (REMB) */

#define GW_RTCP_MAX_REPORTS 31 /* report blocks in one SR/RR (5-bit count) */

/* What a block is, as far as the gateway cares. */
enum gw_rtcp_kind {
    GW_RTCP_KIND_OTHER = 0, /* unknown type or feedback format: skip */
    GW_RTCP_KIND_SR,
    GW_RTCP_KIND_RR,
    GW_RTCP_KIND_SDES, /* not parsed */
    GW_RTCP_KIND_BYE,
    GW_RTCP_KIND_APP, /* not parsed */
    GW_RTCP_KIND_NACK,
    GW_RTCP_KIND_TWCC, /* recognized, not parsed */
    GW_RTCP_KIND_PLI,
    GW_RTCP_KIND_FIR,
    GW_RTCP_KIND_REMB,
};

/* One report block of an SR or RR (RFC 3550 6.4.1). */
struct gw_rtcp_report_block {
    uint32_t ssrc;           /* the source this block reports on */
    uint8_t fraction_lost;   /* since the previous report, in 1/256 */
    int32_t cumulative_lost; /* 24-bit signed on the wire: -8388608..8388607 */
    uint32_t highest_seq;    /* extended highest sequence number received */
    uint32_t jitter;         /* interarrival jitter in timestamp units */
    uint32_t lsr;            /* middle 32 bits of the last SR's NTP time, 0 = none */
    uint32_t dlsr;           /* delay since that SR, in 1/65536 s */
};

/* Sender info of an SR. */
struct gw_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp; /* NTP timestamp, 32.32 fixed point seconds since 1900 */
    uint32_t rtp_ts;
    uint32_t packets;
    uint32_t octets;
};

/* One parsed block (one RTCP packet of a compound). `off`/`len` locate it in the compound
 * buffer, header included and padding included; the typed fields below are filled for the
 * kinds that have them, and variable parts are read with the accessors. */
struct gw_rtcp_block {
    enum gw_rtcp_kind kind;
    uint8_t type;  /* the packet type byte */
    uint8_t count; /* the 5-bit count / FMT field */
    size_t off;
    size_t len;
    uint32_t ssrc;         /* sender SSRC (SR, RR, feedback, APP); first SSRC of a BYE; else 0 */
    uint32_t media_ssrc;   /* media source SSRC of feedback; else 0 */
    struct gw_rtcp_sr sr;  /* SR only (sr.ssrc == ssrc) */
    unsigned reports;      /* SR/RR: report blocks present */
    unsigned items;        /* NACK: FCI entries; FIR: FCI entries; REMB: SSRCs; BYE: SSRCs */
    uint64_t remb_bitrate; /* REMB: mantissa << exponent, bits per second */
};

/* Iterates the packets of a compound (or reduced-size, RFC 5506) RTCP buffer. Every packet
 * must have version 2 and a length inside the buffer; padding is allowed on the last only. */
struct gw_rtcp_iter {
    const uint8_t *buf;
    size_t len;
    size_t pos;
};

void gw_rtcp_iter_init(struct gw_rtcp_iter *it, const uint8_t *buf, size_t len);
/* The next block: 1 and *b filled, 0 at the end, -EBADMSG for a malformed packet (the
 * iteration is over: packets after it cannot be located). A block whose type-specific part is
 * short (e.g. an SR of 20 bytes) is -EBADMSG too. */
int gw_rtcp_iter_next(struct gw_rtcp_iter *it, struct gw_rtcp_block *b);

/* Checks a whole buffer as gw_rtcp_iter_next would: the number of blocks (>= 1), or -EBADMSG.
 */
int gw_rtcp_validate(const uint8_t *buf, size_t len);

/* Report block `i` (< b->reports) of an SR/RR. 0 or -EINVAL. */
int gw_rtcp_block_report(const uint8_t *buf, const struct gw_rtcp_block *b, unsigned i,
                         struct gw_rtcp_report_block *out);
/* Expands a generic NACK's PID/BLP entries into sequence numbers, in wire order (a BLP bit
 * for a PID already listed is not deduplicated). Writes at most `cap` and returns how many it
 * wrote; 17 * b->items always suffices. */
size_t gw_rtcp_block_nack_seqs(const uint8_t *buf, const struct gw_rtcp_block *b, uint16_t *out,
                               size_t cap);
/* FIR entry `i` (< b->items): the SSRC asked for a key frame and the command sequence number. */
int gw_rtcp_block_fir(const uint8_t *buf, const struct gw_rtcp_block *b, unsigned i, uint32_t *ssrc,
                      uint8_t *seq_nr);
/* REMB SSRC `i` (< b->items), or BYE SSRC `i`. 0 or -EINVAL. */
int gw_rtcp_block_ssrc(const uint8_t *buf, const struct gw_rtcp_block *b, unsigned i,
                       uint32_t *ssrc);

/* Rewrites SSRCs in a compound packet in place, for forwarding feedback between a publisher
 * and a subscriber: the sender SSRC of every packet (SR, RR, feedback, SDES chunks, BYE,
 * APP) becomes `sender` unless it is 0, and each media SSRC (report blocks, feedback media
 * source, FIR entries, REMB list) equal to some map[i].from becomes map[i].to (others stay).
 * The buffer is validated first; on -EBADMSG nothing was changed. */
struct gw_rtcp_ssrc_map {
    uint32_t from;
    uint32_t to;
};
int gw_rtcp_rewrite_ssrcs(uint8_t *buf, size_t len, uint32_t sender,
                          const struct gw_rtcp_ssrc_map *map, size_t n);

/* ---- Builders ---- */

/* Appends packets to a caller's buffer, forming a compound (e.g. RR then REMB). Each write
 * appends one packet and returns 0, or fails with nothing appended: -ENOSPC when it does not
 * fit, -EINVAL for arguments out of range; the first failure is also kept in `err`. The
 * compound is buf[0..len). Any thread. */
struct gw_rtcp_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
};

void gw_rtcp_writer_init(struct gw_rtcp_writer *w, uint8_t *buf, size_t cap);
/* SR with `n` (<= 31) report blocks. */
int gw_rtcp_write_sr(struct gw_rtcp_writer *w, const struct gw_rtcp_sr *sr,
                     const struct gw_rtcp_report_block *rb, unsigned n);
/* RR with `n` (<= 31) report blocks (0 is a valid empty RR). */
int gw_rtcp_write_rr(struct gw_rtcp_writer *w, uint32_t ssrc, const struct gw_rtcp_report_block *rb,
                     unsigned n);
/* SDES with one chunk holding a CNAME item (1-255 bytes). */
int gw_rtcp_write_sdes_cname(struct gw_rtcp_writer *w, uint32_t ssrc, const char *cname);
/* BYE for one SSRC, no reason. */
int gw_rtcp_write_bye(struct gw_rtcp_writer *w, uint32_t ssrc);
/* Generic NACK for `n` (>= 1) sequence numbers, packed into PID/BLP entries; any order,
 * duplicates and wraps are fine (each number goes into the first entry that covers it). */
int gw_rtcp_write_nack(struct gw_rtcp_writer *w, uint32_t sender, uint32_t media,
                       const uint16_t *seqs, size_t n);
int gw_rtcp_write_pli(struct gw_rtcp_writer *w, uint32_t sender, uint32_t media);
/* FIR asking `media` for a key frame with command sequence number `seq_nr` (RFC 5104 4.3.1;
 * the caller increments it per new request). */
int gw_rtcp_write_fir(struct gw_rtcp_writer *w, uint32_t sender, uint32_t media, uint8_t seq_nr);
/* REMB of `bitrate` bits per second for `n` (1-255) SSRCs. The bitrate is rounded down to 18
 * significant bits (mantissa with a 6-bit exponent). */
int gw_rtcp_write_remb(struct gw_rtcp_writer *w, uint32_t sender, uint64_t bitrate,
                       const uint32_t *ssrcs, unsigned n);

/* ---- Time ---- */

/* The NTP timestamp (32.32 since 1900) of a wall-clock time in microseconds since 1970; its
 * middle 32 bits (the LSR form, 16.16 seconds); and the round trip from a report block about
 * our stream received at `arrival_ntp` (RFC 3550 6.4.1: A - LSR - DLSR), in microseconds, or
 * -1 when lsr is 0 or the result is negative. Pure; any thread. */
uint64_t gw_rtcp_ntp_from_us(int64_t real_us);
uint32_t gw_rtcp_ntp_middle(uint64_t ntp);
int64_t gw_rtcp_rtt_us(uint64_t arrival_ntp, uint32_t lsr, uint32_t dlsr);

/* ---- Receiver statistics (per incoming SSRC) ---- */

/* RFC 3550 A.1 (sequence tracking: wraps, large jumps resynchronized after two sequential
 * packets, duplicates counted so loss may go negative), A.3 (expected/lost, fraction lost
 * between reports) and A.8 (interarrival jitter). Jitter is updated only by packets that
 * advance the highest sequence number: retransmissions and reordered packets arrive late by
 * design and would count as network jitter otherwise.
 *
 * Thread: the loop thread that receives the stream; no lock. Plain struct: embed it. */
struct gw_rtp_rx_stats {
    uint32_t ssrc;
    uint32_t clock_rate;
    bool started;
    uint16_t max_seq;
    uint32_t cycles;   /* sequence wraps, shifted by 16 */
    uint32_t base_seq; /* extended seq of the first packet */
    uint32_t bad_seq;  /* after a big jump: the seq that confirms it (RFC 3550 A.1) */
    uint64_t received; /* packets, duplicates included */
    uint64_t bytes;
    uint64_t expected_prior;
    uint64_t received_prior;
    bool have_transit;
    uint32_t transit;   /* last relative transit time, timestamp units */
    uint32_t jitter_q4; /* jitter x 16 (A.8) */
    uint32_t last_sr;   /* middle 32 bits of the last SR's NTP time, 0 = none */
    int64_t last_sr_us; /* its arrival, monotonic */
};

/* Starts statistics for `ssrc` at `clock_rate` Hz (0 disables jitter). */
void gw_rtp_rx_stats_init(struct gw_rtp_rx_stats *s, uint32_t ssrc, uint32_t clock_rate);
/* One received packet (plain RTP, RTX already unwrapped) of `bytes` bytes arriving at
 * `arrival_us` (monotonic). Returns 0 when counted, -EAGAIN for a packet after a big jump that
 * is held as a candidate resynchronization and not counted. */
int gw_rtp_rx_stats_update(struct gw_rtp_rx_stats *s, uint16_t seq, uint32_t ts, size_t bytes,
                           int64_t arrival_us);
/* An SR from this stream's sender arrived (`ntp` from its sender info) at `arrival_us`. */
void gw_rtp_rx_stats_on_sr(struct gw_rtp_rx_stats *s, uint64_t ntp, int64_t arrival_us);
/* Fills a report block for an RR/SR we send at `now_us` and starts the next report interval.
 * -ENODATA before the first packet. */
int gw_rtp_rx_stats_report(struct gw_rtp_rx_stats *s, int64_t now_us,
                           struct gw_rtcp_report_block *rb);
/* Read-only views (no interval change). */
uint32_t gw_rtp_rx_stats_ext_max(const struct gw_rtp_rx_stats *s);
int64_t gw_rtp_rx_stats_lost(const struct gw_rtp_rx_stats *s);
uint32_t gw_rtp_rx_stats_jitter(const struct gw_rtp_rx_stats *s);

/* ---- Sender statistics (per outgoing SSRC) ---- */

/* Counts what we send and builds our SR's sender info; keeps what the receiver reports back.
 * Thread: updates and SR building under the caller's send lock for the stream (the same lock
 * as SRTP protect); on_report on the loop thread that receives RTCP — the fields it writes
 * (rtt_us, remote_*) are separate from the send-side fields, and readers on other threads
 * accept a torn view of a 64-bit counter as admin statistics. Plain struct: embed it. */
struct gw_rtp_tx_stats {
    uint32_t ssrc;
    uint32_t clock_rate;
    uint32_t packets;
    uint32_t octets; /* payload octets, as RFC 3550 counts them */
    bool have_ts;
    uint32_t last_ts;   /* RTP timestamp of the last packet sent */
    int64_t last_ts_us; /* when it was sent, monotonic */
    int64_t rtt_us;     /* from the last report block about us, -1 = unknown */
    uint8_t remote_fraction_lost;
    int32_t remote_lost;
    uint32_t remote_jitter;
};

void gw_rtp_tx_stats_init(struct gw_rtp_tx_stats *s, uint32_t ssrc, uint32_t clock_rate);
/* One packet sent with RTP timestamp `ts` and `payload_len` payload bytes at `now_us`. */
void gw_rtp_tx_stats_update(struct gw_rtp_tx_stats *s, uint32_t ts, size_t payload_len,
                            int64_t now_us);
/* Sender info for an SR at wall-clock `real_us` / monotonic `mono_us`: the RTP timestamp is
 * extrapolated from the last packet sent at the clock rate. -ENODATA before the first packet. */
int gw_rtp_tx_stats_sr(const struct gw_rtp_tx_stats *s, int64_t real_us, int64_t mono_us,
                       struct gw_rtcp_sr *out);
/* A report block about this SSRC arrived at wall-clock `real_us`: keeps loss, jitter and the
 * round trip time (when the block has an LSR). */
void gw_rtp_tx_stats_on_report(struct gw_rtp_tx_stats *s, const struct gw_rtcp_report_block *rb,
                               int64_t real_us);

/* ---- NACK generator (gaps in what we receive) ---- */

/* Tracks missing sequence numbers of one incoming stream in a window of GW_NACK_WINDOW behind
 * the highest received, and says which to NACK when: a gap is requested after `reorder_us`,
 * then again every `retry_us` until it arrives, `max_retries` requests were sent or it is
 * older than `max_age_us` (then it is given up). A late packet clears its gap; a jump forward
 * of more than the window, or two sequential packets far behind, reset the tracking.
 *
 * Thread: the loop thread that receives the stream; no lock. Plain struct (about 12 KiB, no
 * allocation): embed it. */
#define GW_NACK_WINDOW 512

struct gw_nack_config {
    int64_t reorder_us;   /* wait before the first request; 0 = immediately */
    int64_t retry_us;     /* between requests for one packet; 0 = 100 ms */
    unsigned max_retries; /* 0 = 10 */
    int64_t max_age_us;   /* 0 = 1 s */
};

struct gw_nack_slot {
    int64_t missing_since;
    int64_t last_sent;
    uint32_t ext_seq; /* extended sequence number of the gap */
    uint8_t tries;
    bool missing;
};

struct gw_nack_gen {
    struct gw_nack_config cfg;
    bool started;
    uint32_t highest;        /* extended highest sequence number received */
    uint32_t oldest_missing; /* no gap below this (extended) */
    uint32_t bad_seq;        /* a far-behind seq + 1 that confirms a reset */
    bool have_bad;
    unsigned missing;   /* slots with missing set */
    uint64_t requested; /* sequence numbers put in NACKs */
    uint64_t recovered; /* gaps filled after being seen missing */
    uint64_t given_up;
    struct gw_nack_slot slots[GW_NACK_WINDOW];
};

/* What a packet was to the generator. */
enum gw_nack_result {
    GW_NACK_NEW = 0,       /* advanced the highest (possibly opening gaps) */
    GW_NACK_RECOVERED = 1, /* filled a known gap */
    GW_NACK_OLD = 2,       /* duplicate, or older than the window, or not missing */
    GW_NACK_RESET = 3,     /* a jump: tracking restarted at this packet */
};

/* Initializes (NULL `cfg` = the defaults). */
void gw_nack_gen_init(struct gw_nack_gen *g, const struct gw_nack_config *cfg);
/* Changes the retry interval (e.g. to the measured RTT). <= 0 restores the default. */
void gw_nack_gen_set_retry(struct gw_nack_gen *g, int64_t retry_us);
/* One received packet's sequence number at `now_us` (monotonic). */
enum gw_nack_result gw_nack_gen_on_packet(struct gw_nack_gen *g, uint16_t seq, int64_t now_us);
/* The sequence numbers to NACK now, oldest first, at most `cap` (the rest wait for the next
 * call); each one returned counts as requested at `now_us`. Gaps past their age or retries
 * are dropped here. Returns how many were written. */
size_t gw_nack_gen_poll(struct gw_nack_gen *g, int64_t now_us, uint16_t *seqs, size_t cap);

#endif
