/* This file implements a PeerConnection's side of the Admin API's start_pcap / stop_pcap: the
 * capture (gateway/media/pcap.h) hung on the PC, the hook the media path calls for every plain
 * packet it receives (after SRTP unprotect) and sends (before SRTP protect), the m-line each
 * packet is filed under, and the capture's part of handle_info.
 *
 * DESIGN: the capture is an atomic pointer on the PC, so a packet costs one relaxed load while
 * none runs. Users of a capture (the media threads' hook, handle_info) announce themselves in
 * pc->pcap_users before loading the pointer; stop_pcap swaps the pointer to NULL, then waits
 * until no user is left (each holds it for one copy into the ring) before freeing it. With both
 * sides sequentially consistent, a user either saw NULL or is counted when stop_pcap looks.
 * A capture belongs to its PeerConnection (an ICE restart keeps both): it ends, its file
 * complete, with stop_pcap or when the PC is freed after a hangup or detach, without waiting for
 * the disk there; Janus keeps it on the handle. */
#include <errno.h>
#include <sched.h>

#include "common/bytes.h"
#include "gateway/media/media_internal.h"

/* The m-line whose SSRC (ours, or the peer's) is `ssrc`, or -1. */
static int mindex_by_ssrc(struct gw_pc *pc, uint32_t ssrc, bool ours)
{
    if (!ssrc)
        return -1;
    for (size_t i = 0; i < pc->n_streams && i < PC_MAX_STREAMS; i++) {
        const struct pc_stream *s = &pc->streams[i];
        if ((ours ? s->ssrc_local : s->ssrc_remote) == ssrc)
            return s->mindex;
    }
    return -1;
}

/* The m-line of an RTP packet: by SSRC (ours going out, the peer's coming in), else by payload
 * type (the peer's SSRC may not be learned yet, or it is a retransmission). */
static int mindex_of_rtp(struct gw_pc *pc, enum gw_pcap_dir dir, const uint8_t *pkt, size_t len)
{
    if (len < 12)
        return -1;
    int m = mindex_by_ssrc(pc, rd_u32(pkt + 8), dir == GW_PCAP_OUT);
    uint8_t pt = pkt[1] & 0x7f;
    for (size_t i = 0; m < 0 && i < pc->n_streams && i < PC_MAX_STREAMS; i++) {
        const struct pc_stream *s = &pc->streams[i];
        bool rtx = false;
        for (size_t k = 0; k < s->n_rtx && k < PC_MAX_RTX_PTS; k++)
            rtx = rtx || s->rtx_pt[k] == pt;
        if (s->active && (s->pt_known[pt] || rtx))
            m = s->mindex;
    }
    return m;
}

/* The m-line of an RTCP compound: its sender's SSRC, else the media SSRC of a first feedback
 * packet (205/206), which names the other side's stream. */
static int mindex_of_rtcp(struct gw_pc *pc, enum gw_pcap_dir dir, const uint8_t *pkt, size_t len)
{
    if (len < 8)
        return -1;
    bool out = dir == GW_PCAP_OUT;
    int m = mindex_by_ssrc(pc, rd_u32(pkt + 4), out);
    if (m < 0 && len >= 12 && (pkt[1] == 205 || pkt[1] == 206))
        m = mindex_by_ssrc(pc, rd_u32(pkt + 8), !out);
    return m;
}

void pc_pcap_packet(struct gw_pc *pc, enum gw_pcap_dir dir, bool rtcp, const uint8_t *pkt,
                    size_t len)
{
    if (!atomic_load_explicit(&pc->pcap, memory_order_relaxed))
        return;
    atomic_fetch_add(&pc->pcap_users, 1);
    struct gw_pcap *c = atomic_load(&pc->pcap);
    if (c) {
        int m = rtcp ? mindex_of_rtcp(pc, dir, pkt, len) : mindex_of_rtp(pc, dir, pkt, len);
        gw_pcap_capture(c, dir, rtcp, m, pkt, len);
    }
    atomic_fetch_sub(&pc->pcap_users, 1);
}

void pc_pcap_info(struct gw_pc *pc, json_t *info)
{
    if (!atomic_load(&pc->pcap))
        return;
    atomic_fetch_add(&pc->pcap_users, 1);
    struct gw_pcap *c = atomic_load(&pc->pcap);
    if (c) { /* Janus's keys, then our counters */
        struct gw_pcap_stats st;
        gw_pcap_get_stats(c, &st);
        json_object_set_new(info, "dump-to-pcap", json_true());
        json_object_set_new(info, "pcap-file", json_string(gw_pcap_path(c)));
        json_object_set_new(info, "pcap-stats",
                            json_pack("{s:I, s:I, s:I, s:I}", "captured", (json_int_t)st.captured,
                                      "dropped", (json_int_t)st.dropped, "written",
                                      (json_int_t)st.written, "failed", (json_int_t)st.failed));
    }
    atomic_fetch_sub(&pc->pcap_users, 1);
}

int media_start_pcap(void *ctx, struct gw_handle *h, const char *path, size_t truncate)
{
    struct gw_pc *pc = pc_get(ctx, h);
    if (!pc)
        return -ENOTCONN;
    int err = -EALREADY;
    if (!atomic_load(&pc->pcap)) {
        struct gw_pcap *c = NULL, *none = NULL;
        err = gw_pcap_create(path, truncate, 0, &c);
        if (err == 0 && !atomic_compare_exchange_strong(&pc->pcap, &none, c)) {
            gw_pcap_destroy(c, true); /* another start_pcap won the race */
            err = -EALREADY;
        }
    }
    pc_unref(pc);
    return err;
}

int media_stop_pcap(void *ctx, struct gw_handle *h)
{
    struct gw_pc *pc = pc_get(ctx, h);
    if (!pc)
        return -ENOENT;
    struct gw_pcap *c = atomic_exchange(&pc->pcap, NULL);
    if (c) {
        while (atomic_load(&pc->pcap_users) > 0)
            sched_yield();
        gw_pcap_destroy(c, true);
    }
    pc_unref(pc);
    return c ? 0 : -ENOENT;
}

void pc_pcap_free(struct gw_pc *pc)
{
    /* The last reference: no packet hook or handle_info can be running on this PC. */
    gw_pcap_destroy(atomic_exchange(&pc->pcap, NULL), false);
}
