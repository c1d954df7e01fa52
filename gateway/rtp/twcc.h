/* gateway/rtp/twcc.h — transport-wide congestion control feedback, the receiver's side
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01): what arrived of the packets numbered by
 * the sender's transport-wide-cc header extension, and when, reported in RTCP transport-cc
 * feedback packets (RTPFB, FMT 15) so a browser's send-side bandwidth estimation can work.
 *
 * Threads and memory: a `struct gw_twcc_rx` is owned by the caller (one per PeerConnection,
 * zero-initialisable, set up with gw_twcc_rx_init), used by one thread (its media loop). No
 * allocation, lock or system call. */
#ifndef VB_GATEWAY_RTP_TWCC_H
#define VB_GATEWAY_RTP_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/rtp/rtcp.h"

#define GW_TWCC_WINDOW 1024    /* sequence numbers remembered (a power of two) */
#define GW_TWCC_MAX_PER_FB 400 /* packets one feedback reports at most */

struct gw_twcc_rx {
    bool started;                           /* a packet was seen: next_seq is valid */
    uint16_t next_seq;                      /* the first sequence number not reported yet */
    uint16_t max_seq;                       /* the newest seen */
    uint8_t fb_count;                       /* feedback packet count, incremented per feedback */
    int64_t arrival_us[GW_TWCC_WINDOW];     /* by seq % window; -1 = not received */
    uint16_t seq_of[GW_TWCC_WINDOW];        /* which seq the slot holds */
    uint64_t received, reported, feedbacks; /* counters */
};

void gw_twcc_rx_init(struct gw_twcc_rx *t);

/* A packet carrying transport-wide sequence number `seq` arrived at `arrival_us` (monotonic).
 * Old or duplicate numbers (before next_seq) are ignored. */
void gw_twcc_rx_on_packet(struct gw_twcc_rx *t, uint16_t seq, int64_t arrival_us);

/* Appends one transport-cc feedback packet to `w` reporting every number from next_seq to the
 * newest seen (at most GW_TWCC_MAX_PER_FB; the rest go in the next one): each received or not,
 * and the arrival deltas of the received ones (in 250 µs units, from a reference time in 64 ms
 * units). Numbers further behind than the window are skipped (reported as not received is
 * not possible: they are left out). Returns 1 when a packet was written, 0 when there was
 * nothing to report, or the writer's -ENOSPC. */
int gw_twcc_rx_feedback(struct gw_twcc_rx *t, struct gw_rtcp_writer *w, uint32_t sender,
                        uint32_t media);

#endif
