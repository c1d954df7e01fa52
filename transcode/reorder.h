/* transcode/reorder.h — a bounded reorder window over one track's RTP packets.
 *
 * Packets go in as recorded (arrival order) and come out in extended-sequence order.
 * Duplicates (a sequence number already held or already output) are dropped and counted;
 * a packet older than what was already output is late and dropped. A hole is waited for
 * until the window (`TC_REORDER_WINDOW` sequence numbers) has moved past it, then counted as
 * lost. Memory is the window's fixed slots, whatever the file's length.
 *
 * Ownership: the caller owns the struct (tc_reorder_init / tc_reorder_release); packets
 * returned by tc_reorder_pop() are borrowed until the next call. One thread. */
#ifndef VB_TRANSCODE_REORDER_H
#define VB_TRANSCODE_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_REORDER_WINDOW 512u /* a power of two */
#define TC_REORDER_START 16u   /* packets buffered before the first is output */
#define TC_PKT_MAX 1500u       /* larger RTP packets are refused (as janus-pp-rec does) */

struct tc_pkt {
    uint64_t seq; /* extended */
    int64_t ts;   /* extended */
    uint32_t t_ms;
    bool marker;
    uint16_t len;
    uint16_t off; /* payload starts here within data (after the RTP header) */
    uint8_t data[TC_PKT_MAX];
};

struct tc_reorder_stats {
    uint64_t in, out, duplicates, late, lost;
};

struct tc_reorder {
    struct tc_pkt *slots; /* TC_REORDER_WINDOW, owned */
    bool *used;
    struct tc_pkt pending; /* a packet too far ahead to fit until the window moves */
    bool has_pending;
    bool started;     /* `next` is set */
    uint64_t next;    /* the sequence number to output next */
    uint64_t lowest;  /* before start: the lowest buffered */
    uint64_t highest; /* the highest buffered or output */
    size_t count;     /* buffered in slots */
    struct tc_reorder_stats st;
};

void tc_reorder_init(struct tc_reorder *r);
void tc_reorder_release(struct tc_reorder *r);

/* Takes a copy of `p`. Returns 0, 1 for a duplicate or late packet (dropped, counted). The
 * caller then calls tc_reorder_pop() until it returns NULL before pushing again. */
int tc_reorder_push(struct tc_reorder *r, const struct tc_pkt *p);

/* The next packet in order when it is due, else NULL. With `drain` (end of input) every
 * buffered packet is due. */
const struct tc_pkt *tc_reorder_pop(struct tc_reorder *r, bool drain);

#endif
