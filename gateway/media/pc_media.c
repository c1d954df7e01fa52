/* This file implements a PeerConnection's media path: SRTP unprotect of what arrives (on the
 * loop), the RTP / RTCP split, the m-line of each packet (by SSRC, learned from the SDP, the
 * mid header extension or the payload type), RTX unwrapping, receive statistics and the
 * plugin's incoming hooks; the send path (our SSRC per m-line, SRTP protect, ICE send) that
 * any thread may use; and the periodic work: receiver reports and the `media` events of the
 * no-media timer.
 *
 * DESIGN: nothing here allocates or blocks per packet. Packets are handled in the buffer libnice
 * gave (in place) or copied once to the stack for sending, where SRTP needs room for its tag. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/media/media_internal.h"

#define SEND_MAX 1500

/* The rtp-stream-id (or repaired one) a packet names in extension `id`, copied into `out`
 * (size 17); false when absent. */
static bool packet_rid(const uint8_t *pkt, const struct gw_rtp_hdr *h, int id, char *out)
{
    size_t off, len;
    if (id <= 0 || !h->extension || gw_rtp_ext_find(pkt, h, (uint8_t)id, &off, &len) < 0 ||
        len == 0 || len > 16)
        return false;
    memcpy(out, pkt + off, len);
    out[len] = '\0';
    return true;
}

static bool is_rtx_pt(const struct pc_stream *s, uint8_t pt, int *apt)
{
    for (size_t k = 0; k < s->n_rtx; k++)
        if (s->rtx_pt[k] == pt) {
            *apt = s->rtx_apt[k];
            return true;
        }
    return false;
}

/* A packet of an SSRC not seen yet on stream `s`: the layer it starts (media: by rid, or the
 * first free one), or the layer whose retransmissions it carries (RTX: by repaired rid, or the
 * only layer). NULL when it fits nowhere. */
static struct pc_layer *layer_learn(struct pc_stream *s, const uint8_t *pkt,
                                    const struct gw_rtp_hdr *h, bool rtx)
{
    char rid[17];
    bool named = packet_rid(pkt, h, rtx ? s->rrid_ext : s->rid_ext, rid);
    for (size_t k = 0; named && k < s->n_layers; k++) {
        struct pc_layer *l = &s->layers[k];
        if (strcmp(l->rid, rid) != 0)
            continue;
        uint32_t *slot = rtx ? &l->rtx_ssrc : &l->ssrc;
        if (*slot == 0)
            *slot = h->ssrc;
        if (!s->ssrc_remote && !rtx) /* the m-line's peer SSRC: its first layer heard */
            s->ssrc_remote = h->ssrc;
        return *slot == h->ssrc ? l : NULL;
    }
    if (rtx) /* unnamed retransmissions: only when there is no doubt about the layer */
        return s->n_layers == 1 ? &s->layers[0] : NULL;
    if (s->n_layers < PC_LAYERS && (s->simulcast || s->n_layers == 0)) {
        struct pc_layer *l = &s->layers[s->n_layers++];
        memset(l, 0, sizeof *l);
        l->ssrc = h->ssrc;
        if (named)
            memcpy(l->rid, rid, sizeof l->rid);
        gw_nack_gen_init(&l->nack, NULL);
        if (s->n_layers == 1)
            s->ssrc_remote = h->ssrc;
        return l;
    }
    for (size_t k = 0; k < s->n_layers; k++) /* a layer announced in the SDP by rid only */
        if (!s->layers[k].ssrc && !s->layers[k].rid[0]) {
            s->layers[k].ssrc = h->ssrc;
            return &s->layers[k];
        }
    return NULL;
}

/* The stream and layer a packet from the peer belongs to, and whether it is a retransmission
 * (loop: the learned SSRCs are loop-only). By SSRC; a new SSRC by its payload type (unique per
 * m-line in what we negotiate) and rid. */
static struct pc_stream *stream_of(struct gw_pc *pc, const uint8_t *pkt, const struct gw_rtp_hdr *h,
                                   struct pc_layer **layer, bool *rtx)
{
    for (size_t i = 0; i < pc->n_streams; i++) {
        struct pc_stream *s = &pc->streams[i];
        for (size_t k = 0; s->active && k < s->n_layers; k++) {
            if (s->layers[k].ssrc == h->ssrc || s->layers[k].rtx_ssrc == h->ssrc) {
                *layer = &s->layers[k];
                *rtx = s->layers[k].rtx_ssrc == h->ssrc;
                return s;
            }
        }
    }
    for (size_t i = 0; i < pc->n_streams; i++) {
        struct pc_stream *s = &pc->streams[i];
        int apt;
        if (!s->active)
            continue;
        bool is_rtx = is_rtx_pt(s, h->pt, &apt);
        if (!s->pt_known[h->pt] && !is_rtx)
            continue;
        *layer = layer_learn(s, pkt, h, is_rtx);
        *rtx = is_rtx;
        return *layer ? s : NULL;
    }
    return NULL;
}

/* The packet's transport-wide sequence number goes to the feedback log (every packet that
 * arrives counts, whatever becomes of it). */
static void twcc_in(struct gw_pc *pc, const uint8_t *buf, const struct gw_rtp_hdr *h)
{
    int id = atomic_load_explicit(&pc->twcc_ext, memory_order_relaxed);
    size_t off, n;
    uint16_t seq;
    if (id <= 0 || !h->extension || gw_rtp_ext_find(buf, h, (uint8_t)id, &off, &n) < 0 ||
        gw_rtp_ext_transport_seq(buf + off, n, &seq) < 0)
        return;
    if (!pc->twcc) {
        pc->twcc = xmalloc(sizeof *pc->twcc); /* once per PeerConnection */
        gw_twcc_rx_init(pc->twcc);
    }
    gw_twcc_rx_on_packet(pc->twcc, seq, vb_clock_mono_us());
}

static void rtp_in(struct gw_pc *pc, uint8_t *buf, size_t len)
{
    pc_pcap_packet(pc, GW_PCAP_IN, false, buf, len); /* pcap: Admin API capture (pc_pcap.c) */
    struct gw_rtp_hdr h;
    struct pc_layer *l = NULL;
    bool rtx = false;
    if (gw_rtp_parse(buf, len, &h) < 0)
        return;
    twcc_in(pc, buf, &h);
    struct pc_stream *s = stream_of(pc, buf, &h, &l, &rtx);
    if (!s)
        return;
    if (rtx) { /* RTX: back to the original packet, or dropped */
        int apt = -1;
        if (!is_rtx_pt(s, h.pt, &apt) || !l->ssrc ||
            gw_rtp_rtx_unwrap(buf, &len, &h, l->ssrc, (uint8_t)apt) < 0)
            return;
    }
    int64_t now = vb_clock_mono_us();
    if (!l->rx_stats_on) {
        gw_rtp_rx_stats_init(&l->rx, l->ssrc, s->clock_rate);
        l->rx_stats_on = true;
    }
    gw_rtp_rx_stats_update(&l->rx, h.seq, h.ts, len, now);
    if (s->video)
        gw_nack_gen_on_packet(&l->nack, h.seq, now);
    s->last_rx_us = now;
    atomic_fetch_add(&s->pkts_in, 1);
    atomic_fetch_add(&s->bytes_in, len);
    const struct gw_plugin_reg *reg = gw_handle_plugin(pc->h);
    if (reg->plugin->incoming_rtp && gw_handle_hook_enter(pc->h)) {
        reg->plugin->incoming_rtp(reg->ctx, pc->h, gw_handle_plugin_state(pc->h), s->mindex,
                                  s->video, buf, len);
        gw_handle_hook_leave(pc->h);
    }
}

static struct pc_stream *stream_by_local_ssrc(struct gw_pc *pc, uint32_t ssrc)
{
    for (size_t i = 0; i < pc->n_streams; i++)
        if (pc->streams[i].ssrc_local == ssrc)
            return &pc->streams[i];
    return NULL;
}

static struct pc_stream *stream_by_remote_ssrc(struct gw_pc *pc, uint32_t ssrc,
                                               struct pc_layer **layer)
{
    for (size_t i = 0; i < pc->n_streams; i++)
        for (size_t k = 0; k < pc->streams[i].n_layers; k++)
            if (pc->streams[i].layers[k].ssrc == ssrc) {
                *layer = &pc->streams[i].layers[k];
                return &pc->streams[i];
            }
    return NULL;
}

/* Protects and sends one plain packet prepared in `buf` (room for the tag). */
static int protect_send(struct gw_pc *pc, struct vb_srtp *srtp, uint8_t *buf, size_t len,
                        size_t cap, bool rtcp)
{
    pc_pcap_packet(pc, GW_PCAP_OUT, rtcp, buf, len); /* pcap: Admin API capture (pc_pcap.c) */
    int err = rtcp ? vb_srtp_protect_rtcp(srtp, buf, &len, cap)
                   : vb_srtp_protect_rtp(srtp, buf, &len, cap);
    return err < 0 ? err : ice_agent_send(pc->agent, buf, len);
}

/* Answers a NACK about our stream `s` from its retransmission buffer. */
static void retransmit(struct gw_pc *pc, struct pc_stream *s, const uint8_t *rtcp,
                       const struct gw_rtcp_block *b, int64_t now)
{
    struct vb_srtp *srtp = atomic_load(&pc->srtp);
    uint16_t seqs[256];
    size_t n = gw_rtcp_block_nack_seqs(rtcp, b, seqs, 256);
    atomic_fetch_add(&s->nacked_seqs_in, n);
    for (size_t i = 0; i < n && s->rtx && srtp; i++) {
        uint8_t buf[SEND_MAX];
        int len =
            gw_rtx_buffer_lookup(s->rtx, seqs[i], now, buf, sizeof buf - VB_SRTP_MAX_OVERHEAD);
        if (len > 0 && protect_send(pc, srtp, buf, (size_t)len, sizeof buf, false) == 0)
            atomic_fetch_add(&s->retransmitted, 1);
    }
}

/* The report blocks of an SR or RR about our streams: loss, jitter and round trip. */
static void take_reports(struct gw_pc *pc, const uint8_t *buf, const struct gw_rtcp_block *b)
{
    for (unsigned r = 0; r < b->reports; r++) {
        struct gw_rtcp_report_block rb;
        struct pc_stream *ours;
        if (gw_rtcp_block_report(buf, b, r, &rb) < 0 ||
            (ours = stream_by_local_ssrc(pc, rb.ssrc)) == NULL)
            continue;
        pthread_mutex_lock(&ours->send_lock);
        if (ours->tx_on)
            gw_rtp_tx_stats_on_report(&ours->tx, &rb, vb_clock_real_us());
        pthread_mutex_unlock(&ours->send_lock);
    }
}

/* Statistics from the peer's reports; feedback counted. The whole packet goes to the plugin
 * on the m-line it concerns (the first one when none is named). */
static void rtcp_in(struct gw_pc *pc, uint8_t *buf, size_t len)
{
    pc_pcap_packet(pc, GW_PCAP_IN, true, buf, len); /* pcap: Admin API capture (pc_pcap.c) */
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, buf, len);
    struct pc_stream *target = NULL;
    int64_t now = vb_clock_mono_us();
    while (gw_rtcp_iter_next(&it, &b) == 1) {
        struct pc_stream *s = NULL;
        switch (b.kind) {
        case GW_RTCP_KIND_SR: {
            struct pc_layer *l = NULL;
            s = stream_by_remote_ssrc(pc, b.ssrc, &l);
            if (s && l->rx_stats_on)
                gw_rtp_rx_stats_on_sr(&l->rx, b.sr.ntp, now);
        }
            take_reports(pc, buf, &b);
            break;
        case GW_RTCP_KIND_RR:
            take_reports(pc, buf, &b);
            break;
        case GW_RTCP_KIND_NACK:
            s = stream_by_local_ssrc(pc, b.media_ssrc);
            if (s) {
                atomic_fetch_add(&s->nacks_in, 1);
                retransmit(pc, s, buf, &b, now);
            }
            break;
        case GW_RTCP_KIND_PLI:
        case GW_RTCP_KIND_FIR:
            s = stream_by_local_ssrc(pc, b.media_ssrc);
            if (s)
                atomic_fetch_add(&s->plis_in, 1);
            break;
        default:
            break;
        }
        if (s && !target)
            target = s;
    }
    if (!target && pc->n_streams)
        target = &pc->streams[0];
    if (!target)
        return;
    const struct gw_plugin_reg *reg = gw_handle_plugin(pc->h);
    if (reg->plugin->incoming_rtcp && gw_handle_hook_enter(pc->h)) {
        reg->plugin->incoming_rtcp(reg->ctx, pc->h, gw_handle_plugin_state(pc->h), target->mindex,
                                   target->video, buf, len);
        gw_handle_hook_leave(pc->h);
    }
}

void pc_recv(struct gw_pc *pc, uint8_t *buf, size_t len)
{
    struct vb_srtp *srtp = atomic_load(&pc->srtp);
    if (!srtp || dtls_demux_classify(buf[0]) != DTLS_DEMUX_RTP || len < GW_RTP_HEADER_MIN)
        return;
    if (gw_rtp_is_rtcp(buf, len)) {
        if (vb_srtp_unprotect_rtcp(srtp, buf, &len) == 0)
            rtcp_in(pc, buf, len);
        return;
    }
    if (vb_srtp_unprotect_rtp(srtp, buf, &len) == 0)
        rtp_in(pc, buf, len);
}

/* ---- sending (any thread) ---- */

static struct pc_stream *stream_at(struct gw_pc *pc, int mindex)
{
    if (mindex < 0 || (size_t)mindex >= pc->n_streams)
        return NULL;
    struct pc_stream *s = &pc->streams[mindex];
    return s->active ? s : NULL;
}

int pc_send_rtp(struct gw_pc *pc, int mindex, const uint8_t *pkt, size_t len)
{
    struct vb_srtp *srtp = atomic_load(&pc->srtp);
    struct pc_stream *s = stream_at(pc, mindex);
    if (!srtp || !s)
        return -ENOTCONN;
    if (len < GW_RTP_HEADER_MIN || len + VB_SRTP_MAX_OVERHEAD > SEND_MAX)
        return -EMSGSIZE;
    uint8_t buf[SEND_MAX];
    memcpy(buf, pkt, len);
    gw_rtp_set_ssrc(buf, s->ssrc_local);
    struct gw_rtp_hdr h;
    if (gw_rtp_parse(buf, len, &h) < 0)
        return -EBADMSG;
    int64_t now = vb_clock_mono_us();
    pthread_mutex_lock(&s->send_lock);
    if (s->rtx)
        gw_rtx_buffer_store(s->rtx, buf, len, now);
    if (!s->tx_on) {
        gw_rtp_tx_stats_init(&s->tx, s->ssrc_local, s->clock_rate);
        s->tx_on = true;
    }
    gw_rtp_tx_stats_update(&s->tx, h.ts, h.payload_len, now);
    pthread_mutex_unlock(&s->send_lock);
    int err = protect_send(pc, srtp, buf, len, sizeof buf, false);
    if (err == 0) {
        atomic_fetch_add(&s->pkts_out, 1);
        atomic_fetch_add(&s->bytes_out, len);
    }
    return err;
}

int pc_send_rtcp(struct gw_pc *pc, int mindex, const uint8_t *pkt, size_t len)
{
    struct vb_srtp *srtp = atomic_load(&pc->srtp);
    struct pc_stream *s = stream_at(pc, mindex);
    if (!srtp || !s)
        return -ENOTCONN;
    if (len < 8 || len + VB_SRTP_MAX_OVERHEAD + 4 > SEND_MAX)
        return -EMSGSIZE;
    uint8_t buf[SEND_MAX];
    memcpy(buf, pkt, len);
    /* Feedback a plugin relays names the SSRCs it saw; here they become ours (sender) and the
     * peer's stream on that m-line (media), as Janus does. */
    struct gw_rtcp_ssrc_map map[PC_MAX_STREAMS];
    size_t n = 0;
    for (size_t i = 0; i < pc->n_streams; i++)
        if (pc->streams[i].ssrc_remote)
            map[n++] =
                (struct gw_rtcp_ssrc_map){pc->streams[i].ssrc_local, pc->streams[i].ssrc_remote};
    if (gw_rtcp_rewrite_ssrcs(buf, len, s->ssrc_local, map, n) < 0)
        return -EBADMSG;
    struct gw_rtcp_iter it; /* keyframe requests count as ours in handle_info */
    struct gw_rtcp_block b;
    unsigned plis = 0;
    gw_rtcp_iter_init(&it, buf, len);
    while (gw_rtcp_iter_next(&it, &b) == 1)
        plis += b.kind == GW_RTCP_KIND_PLI || b.kind == GW_RTCP_KIND_FIR;
    int err = protect_send(pc, srtp, buf, len, sizeof buf, true);
    if (err == 0 && plis)
        atomic_fetch_add(&s->plis_out, plis);
    return err;
}

/* ---- periodic work (loop) ---- */

static void media_event(struct gw_pc *pc, struct pc_stream *s, bool receiving, int64_t quiet_us)
{
    json_t *ev = json_pack("{s:s, s:I, s:I, s:s, s:s, s:b}", "janus", "media", "session_id",
                           (json_int_t)gw_handle_session_id(pc->h), "sender",
                           (json_int_t)gw_handle_id(pc->h), "mid", s->mid, "type",
                           s->video ? "video" : "audio", "receiving", receiving);
    if (!receiving)
        json_object_set_new(ev, "seconds", json_integer((json_int_t)(quiet_us / 1000000)));
    gw_handle_push(pc->h, ev);
}

/* One compound a second: an SR when we send (sender info of our first sending stream, as
 * Janus does), else an RR, with a report block for every stream we receive, and our CNAME. */
static void send_reports(struct gw_pc *pc, struct vb_srtp *srtp, int64_t now)
{
    struct gw_rtcp_report_block rb[31]; /* the most one report holds */
    unsigned n = 0;
    uint32_t sender = 0;
    struct gw_rtcp_sr sr;
    bool have_sr = false;
    for (size_t i = 0; i < pc->n_streams; i++) {
        struct pc_stream *s = &pc->streams[i];
        if (!s->active)
            continue;
        if (!sender)
            sender = s->ssrc_local;
        pthread_mutex_lock(&s->send_lock);
        if (!have_sr && s->tx_on && gw_rtp_tx_stats_sr(&s->tx, vb_clock_real_us(), now, &sr) == 0) {
            have_sr = true;
            sender = s->ssrc_local;
        }
        pthread_mutex_unlock(&s->send_lock);
        for (size_t k = 0; k < s->n_layers && n < 31; k++)
            if (s->layers[k].rx_stats_on &&
                gw_rtp_rx_stats_report(&s->layers[k].rx, now, &rb[n]) == 0)
                n++;
    }
    if (!sender || (!n && !have_sr))
        return;
    uint8_t buf[SEND_MAX];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf - VB_SRTP_MAX_OVERHEAD - 4);
    if (have_sr)
        gw_rtcp_write_sr(&w, &sr, rb, n);
    else
        gw_rtcp_write_rr(&w, sender, rb, n);
    gw_rtcp_write_sdes_cname(&w, sender, "verbatim");
    if (!w.err)
        protect_send(pc, srtp, buf, w.len, sizeof buf, true);
}

/* A PLI to the peer for its stream `s` (layer `l`), at most one a second per layer (loop). */
static void request_keyframe(struct gw_pc *pc, struct pc_stream *s, struct pc_layer *l,
                             struct vb_srtp *srtp, int64_t now)
{
    if (now - l->last_pli_us < 1000000)
        return;
    l->last_pli_us = now;
    uint8_t buf[64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf - VB_SRTP_MAX_OVERHEAD - 4);
    gw_rtcp_write_pli(&w, s->ssrc_local, l->ssrc);
    if (!w.err && protect_send(pc, srtp, buf, w.len, sizeof buf, true) == 0)
        atomic_fetch_add(&s->plis_out, 1);
}

/* NACKs for the gaps in what we receive on video, per layer. */
static void send_nacks(struct gw_pc *pc, struct vb_srtp *srtp, int64_t now)
{
    for (size_t i = 0; i < pc->n_streams; i++) {
        struct pc_stream *s = &pc->streams[i];
        for (size_t k = 0; s->active && s->video && k < s->n_layers; k++) {
            struct pc_layer *l = &s->layers[k];
            if (!l->ssrc)
                continue;
            uint16_t seqs[64];
            size_t n = gw_nack_gen_poll(&l->nack, now, seqs, 64);
            if (l->nack.given_up != l->given_up_seen) { /* lost for good: ask for a keyframe */
                l->given_up_seen = l->nack.given_up;
                request_keyframe(pc, s, l, srtp, now);
            }
            if (!n)
                continue;
            uint8_t buf[SEND_MAX];
            struct gw_rtcp_writer w;
            gw_rtcp_writer_init(&w, buf, sizeof buf - VB_SRTP_MAX_OVERHEAD - 4);
            gw_rtcp_write_nack(&w, s->ssrc_local, l->ssrc, seqs, n);
            if (!w.err && protect_send(pc, srtp, buf, w.len, sizeof buf, true) == 0)
                atomic_fetch_add(&s->nacks_out, 1);
        }
    }
}

/* `slowlink` once a second at most per direction, when the packets lost in the last second pass
 * the threshold: uplink = what the peer sends us (our NACKs), else what we send (its NACKs). */
static void check_slowlink(struct gw_pc *pc, struct pc_stream *s)
{
    unsigned threshold = pc->m->cfg.slowlink_threshold ? pc->m->cfg.slowlink_threshold : 4;
    uint64_t up = 0, down = atomic_load(&s->nacked_seqs_in);
    for (size_t k = 0; k < s->n_layers; k++)
        up += s->layers[k].nack.requested;
    uint64_t lost[2] = {up - s->slow_prev_up, down - s->slow_prev_down};
    s->slow_prev_up = up;
    s->slow_prev_down = down;
    for (int i = 0; i < 2; i++) {
        if (lost[i] < threshold)
            continue;
        json_t *ev =
            json_pack("{s:s, s:I, s:I, s:s, s:s, s:b, s:I}", "janus", "slowlink", "session_id",
                      (json_int_t)gw_handle_session_id(pc->h), "sender",
                      (json_int_t)gw_handle_id(pc->h), "mid", s->mid, "media",
                      s->video ? "video" : "audio", "uplink", i == 0, "lost", (json_int_t)lost[i]);
        gw_handle_push(pc->h, ev);
    }
}

/* Transport-cc feedback for what arrived since the last tick (at most a few packets). */
static void send_twcc(struct gw_pc *pc, struct vb_srtp *srtp)
{
    if (!pc->twcc || pc->n_streams == 0)
        return;
    uint32_t sender = pc->streams[0].ssrc_local, media = pc->streams[0].ssrc_remote;
    for (int i = 0; i < 4; i++) {
        uint8_t buf[SEND_MAX];
        struct gw_rtcp_writer w;
        gw_rtcp_writer_init(&w, buf, sizeof buf - VB_SRTP_MAX_OVERHEAD - 4);
        if (gw_twcc_rx_feedback(pc->twcc, &w, sender, media) != 1)
            return;
        protect_send(pc, srtp, buf, w.len, sizeof buf, true);
    }
}

void pc_tick(struct gw_pc *pc)
{
    int64_t now = vb_clock_mono_us();
    int64_t quiet =
        (int64_t)(pc->m->cfg.no_media_timer_s ? pc->m->cfg.no_media_timer_s : 1) * 1000000;
    for (size_t i = 0; i < pc->n_streams; i++) {
        struct pc_stream *s = &pc->streams[i];
        if (!s->active || !s->last_rx_us)
            continue;
        bool now_receiving = now - s->last_rx_us < quiet;
        if (now_receiving != s->receiving) {
            s->receiving = now_receiving;
            media_event(pc, s, now_receiving, now - s->last_rx_us);
        }
    }
    struct vb_srtp *srtp = atomic_load(&pc->srtp);
    if (!srtp)
        return;
    send_nacks(pc, srtp, now);
    send_twcc(pc, srtp);
    if (++pc->ticks % (1000 / PC_TICK_MS) != 0) /* the rest: every second */
        return;
    send_reports(pc, srtp, now);
    for (size_t i = 0; i < pc->n_streams; i++)
        if (pc->streams[i].active)
            check_slowlink(pc, &pc->streams[i]);
}
