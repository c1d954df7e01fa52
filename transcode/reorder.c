/* This file implements the reorder window (see reorder.h).
 *
 * DESIGN: slot `seq % WINDOW` holds the packet with that extended sequence number. Output
 * walks `next` upward: a present slot goes out at once; a hole is skipped only when a packet
 * WINDOW - 1 numbers later has arrived (so at most one window of packets is ever held). A
 * packet that would land on a slot still holding an older one waits in `pending` while the
 * caller pops (skipping holes) until it fits. Output starts after TC_REORDER_START packets
 * so that the first packets of a file may themselves arrive out of order. */
#include "transcode/reorder.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define MASK (TC_REORDER_WINDOW - 1)

void tc_reorder_init(struct tc_reorder *r)
{
    memset(r, 0, sizeof(*r));
    r->slots = xcalloc(TC_REORDER_WINDOW, sizeof(*r->slots));
    r->used = xcalloc(TC_REORDER_WINDOW, sizeof(*r->used));
}

void tc_reorder_release(struct tc_reorder *r)
{
    free(r->slots);
    free(r->used);
    r->slots = NULL;
    r->used = NULL;
}

static void copy_pkt(struct tc_pkt *dst, const struct tc_pkt *src)
{
    memcpy(dst, src, offsetof(struct tc_pkt, data));
    memcpy(dst->data, src->data, src->len);
}

static void place(struct tc_reorder *r, const struct tc_pkt *p)
{
    copy_pkt(&r->slots[p->seq & MASK], p);
    r->used[p->seq & MASK] = true;
    r->count++;
    if (p->seq > r->highest || (!r->started && r->count == 1))
        r->highest = p->seq;
    if (!r->started && (r->count == 1 || p->seq < r->lowest))
        r->lowest = p->seq;
}

int tc_reorder_push(struct tc_reorder *r, const struct tc_pkt *p)
{
    r->st.in++;
    struct tc_pkt *slot = &r->slots[p->seq & MASK];
    bool taken = r->used[p->seq & MASK];
    if (r->started && p->seq < r->next) {
        /* A duplicate if this very packet went out (its slot still names it); otherwise it
         * was skipped as lost, or is older than the window: late. */
        if (!taken && slot->seq == p->seq)
            r->st.duplicates++;
        else
            r->st.late++;
        return 1;
    }
    if ((taken && slot->seq == p->seq) || (r->has_pending && r->pending.seq == p->seq)) {
        r->st.duplicates++;
        return 1;
    }
    if (!r->started && r->count > 0 && p->seq + TC_REORDER_WINDOW <= r->highest) {
        r->st.late++; /* far older than the first packets: not part of this window */
        return 1;
    }
    if (taken) {
        if (p->seq < slot->seq) { /* a whole window older than a packet still held */
            r->st.late++;
            return 1;
        }
        /* An older packet still holds the slot: wait for the window to move. */
        copy_pkt(&r->pending, p);
        r->has_pending = true;
        return 0;
    }
    place(r, p);
    return 0;
}

static const struct tc_pkt *take(struct tc_reorder *r)
{
    size_t i = r->next & MASK;
    r->used[i] = false;
    r->count--;
    r->next++;
    r->st.out++;
    return &r->slots[i];
}

const struct tc_pkt *tc_reorder_pop(struct tc_reorder *r, bool drain)
{
    if (!r->started) {
        if (r->count == 0 || (!drain && r->count < TC_REORDER_START && !r->has_pending))
            return NULL;
        r->started = true;
        r->next = r->lowest;
    }
    for (;;) {
        /* The pending packet fits once its slot's older packet is behind `next`. */
        if (r->has_pending && r->pending.seq < r->next + TC_REORDER_WINDOW) {
            r->has_pending = false;
            place(r, &r->pending);
        }
        if (r->count == 0 && !r->has_pending)
            return NULL;
        if (r->used[r->next & MASK] && r->slots[r->next & MASK].seq == r->next)
            return take(r);
        /* A hole at `next`: skip it only when it can no longer be filled. */
        uint64_t ahead = r->has_pending ? r->pending.seq : r->highest;
        if (!drain && ahead < r->next + TC_REORDER_WINDOW - 1)
            return NULL;
        uint64_t floor = r->has_pending ? r->pending.seq - (TC_REORDER_WINDOW - 1) : 0;
        if (r->count == 0 && r->has_pending && floor > r->next) {
            /* Nothing buffered: jump to a window below the pending packet; the holes within
             * that window are still waited for, as for any packet that far ahead. */
            r->st.lost += floor - r->next;
            r->next = floor;
        } else {
            r->st.lost++;
            r->next++;
        }
    }
}
