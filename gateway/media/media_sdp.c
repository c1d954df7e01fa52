/* This file implements what the PeerConnection keeps of a negotiation — one stream per m-line
 * with its kind, mid, payload types, RTX mapping, clock rate and SSRCs — and the WebRTC part of
 * the Admin API's handle_info (sdps, ICE, DTLS, per-m-line counters). */
#include <stdio.h>
#include <string.h>

#include "gateway/media/media_internal.h"

/* The peer's SSRC of an m-line: the first a=ssrc that is not the RTX one of an FID group. */
static uint32_t remote_ssrc_of(const struct sdp_media *md, uint32_t *rtx)
{
    *rtx = 0;
    for (size_t g = 0; g < md->n_ssrc_groups; g++) {
        const struct sdp_ssrc_group *sg = &md->ssrc_groups[g];
        if (strcmp(sg->semantics, "FID") == 0 && sg->n_ssrcs == 2) {
            *rtx = sg->ssrcs[1];
            return sg->ssrcs[0];
        }
    }
    return md->n_ssrcs ? md->ssrcs[0].ssrc : 0;
}

/* The RTX SSRC paired with `ssrc` by an FID group, 0 when none. */
static uint32_t rtx_of(const struct sdp_media *md, uint32_t ssrc)
{
    for (size_t g = 0; g < md->n_ssrc_groups; g++) {
        const struct sdp_ssrc_group *sg = &md->ssrc_groups[g];
        if (strcmp(sg->semantics, "FID") == 0 && sg->n_ssrcs == 2 && sg->ssrcs[0] == ssrc)
            return sg->ssrcs[1];
    }
    return 0;
}

static void layer_reset(struct pc_layer *l, uint32_t ssrc, uint32_t rtx, const char *rid)
{
    memset(l, 0, sizeof *l);
    l->ssrc = ssrc;
    l->rtx_ssrc = rtx;
    snprintf(l->rid, sizeof l->rid, "%s", rid ? rid : "");
    gw_nack_gen_init(&l->nack, NULL);
}

/* The peer's RTP streams on an m-line: one SSRC (maybe with RTX), the SSRCs of a SIM group
 * (low to high), or the rids it will name in its packets (simulcast with rtp-stream-id). A
 * renegotiation that keeps the same SSRCs keeps their state. */
static void layers_from_sdp(struct pc_stream *s, const struct sdp_media *md)
{
    int rid_ext = sdp_media_extmap_id(md, SDP_EXT_RID);
    int rrid_ext = sdp_media_extmap_id(md, SDP_EXT_REPAIRED_RID);
    s->rid_ext = rid_ext > 0 && rid_ext < 15 ? rid_ext : 0;
    s->rrid_ext = rrid_ext > 0 && rrid_ext < 15 ? rrid_ext : 0;
    uint32_t ssrcs[PC_LAYERS] = {0};
    size_t n = 0;
    for (size_t g = 0; g < md->n_ssrc_groups && n == 0; g++) {
        const struct sdp_ssrc_group *sg = &md->ssrc_groups[g];
        if (strcmp(sg->semantics, "SIM") == 0)
            for (size_t k = 0; k < sg->n_ssrcs && n < PC_LAYERS; k++)
                ssrcs[n++] = sg->ssrcs[k];
    }
    uint32_t rtx = 0;
    if (n == 0 && (ssrcs[0] = remote_ssrc_of(md, &rtx)) != 0)
        n = 1;
    size_t rids = 0;
    for (size_t k = 0; k < md->n_rids; k++)
        rids += !md->rids[k].recv;
    s->simulcast = n > 1 || (rids > 1 && s->rid_ext);
    if (n > 0 && ssrcs[0] == s->layers[0].ssrc && s->n_layers >= n)
        return; /* the same streams */
    if (n == 0 && rids == 0 && s->n_layers)
        return; /* nothing said: keep what was learnt */
    s->n_layers = 0;
    for (size_t k = 0; k < n; k++)
        layer_reset(&s->layers[s->n_layers++], ssrcs[k], k == 0 && rtx ? rtx : rtx_of(md, ssrcs[k]),
                    NULL);
    if (n == 0 && s->simulcast) /* rid-based: SSRCs learnt from the packets */
        for (size_t k = 0; k < md->n_rids && s->n_layers < PC_LAYERS; k++)
            if (!md->rids[k].recv)
                layer_reset(&s->layers[s->n_layers++], 0, 0, md->rids[k].id);
    s->ssrc_remote = s->n_layers ? s->layers[0].ssrc : 0;
}

void pc_streams_from_sdp(struct gw_pc *pc, const struct sdp *d)
{
    size_t n = d->n_media < PC_MAX_STREAMS ? d->n_media : PC_MAX_STREAMS;
    for (size_t i = 0; i < n; i++) {
        const struct sdp_media *md = &d->media[i];
        struct pc_stream *s = &pc->streams[i];
        bool fresh = i >= pc->n_streams;
        if (fresh) {
            memset(s, 0, sizeof *s);
            s->ssrc_local = media_random_ssrc();
            pthread_mutex_init(&s->send_lock, NULL);
            struct gw_rtx_buffer_config rc = {.slots = md->type == SDP_MEDIA_VIDEO ? 512 : 64};
            gw_rtx_buffer_create(&rc, &s->rtx);
        }
        s->mindex = (int)i;
        s->video = md->type == SDP_MEDIA_VIDEO;
        s->active = md->port != 0 && md->rtp &&
                    (md->type == SDP_MEDIA_AUDIO || md->type == SDP_MEDIA_VIDEO);
        snprintf(s->mid, sizeof s->mid, "%s", md->mid ? md->mid : "");
        memset(s->pt_known, 0, sizeof s->pt_known);
        s->n_rtx = 0;
        s->clock_rate = 0;
        for (size_t c = 0; c < md->n_codecs; c++) {
            const struct sdp_codec *codec = &md->codecs[c];
            if (codec->pt < 0 || codec->pt > 127)
                continue;
            if (codec->apt >= 0) {
                if (s->n_rtx < PC_MAX_RTX_PTS) {
                    s->rtx_pt[s->n_rtx] = codec->pt;
                    s->rtx_apt[s->n_rtx++] = codec->apt;
                }
                continue;
            }
            s->pt_known[codec->pt] = true;
            if (!s->clock_rate)
                s->clock_rate = codec->clock_rate ? codec->clock_rate : (s->video ? 90000 : 8000);
        }
        layers_from_sdp(s, md);
    }
    if (n > pc->n_streams)
        pc->n_streams = n;
}

void pc_streams_free(struct gw_pc *pc)
{
    for (size_t i = 0; i < pc->n_streams; i++) {
        gw_rtx_buffer_destroy(pc->streams[i].rtx);
        pthread_mutex_destroy(&pc->streams[i].send_lock);
    }
}

static json_t *stream_info(struct pc_stream *s)
{
    json_t *in = json_pack("{s:I, s:I, s:I, s:I}", "packets", (json_int_t)atomic_load(&s->pkts_in),
                           "bytes", (json_int_t)atomic_load(&s->bytes_in), "nacks",
                           (json_int_t)atomic_load(&s->nacks_in), "plis",
                           (json_int_t)atomic_load(&s->plis_in));
    json_t *out = json_pack(
        "{s:I, s:I, s:I, s:I}", "packets", (json_int_t)atomic_load(&s->pkts_out), "bytes",
        (json_int_t)atomic_load(&s->bytes_out), "nacks", (json_int_t)atomic_load(&s->nacks_out),
        "retransmitted", (json_int_t)atomic_load(&s->retransmitted));
    json_object_set_new(out, "plis", json_integer((json_int_t)atomic_load(&s->plis_out)));
    json_t *rtcp = json_object();
    pthread_mutex_lock(&s->send_lock); /* what the peer reports about our stream */
    if (s->tx_on) {
        if (s->tx.rtt_us >= 0)
            json_object_set_new(rtcp, "rtt", json_integer((json_int_t)(s->tx.rtt_us / 1000)));
        json_object_set_new(rtcp, "lost-by-remote", json_integer(s->tx.remote_lost));
        json_object_set_new(rtcp, "jitter-remote", json_integer(s->tx.remote_jitter));
    }
    pthread_mutex_unlock(&s->send_lock);
    if (s->n_layers && s->layers[0].rx_stats_on) {
        json_object_set_new(rtcp, "lost", json_integer(gw_rtp_rx_stats_lost(&s->layers[0].rx)));
        json_object_set_new(rtcp, "jitter", json_integer(gw_rtp_rx_stats_jitter(&s->layers[0].rx)));
    }

    json_t *j = json_pack("{s:s, s:i, s:s, s:I, s:I, s:b, s:o, s:{s:o, s:o}}", "type",
                          s->video ? "video" : "audio", "mindex", s->mindex, "mid", s->mid, "ssrc",
                          (json_int_t)s->ssrc_local, "ssrc-peer", (json_int_t)s->ssrc_remote,
                          "receiving", s->receiving, "rtcp", rtcp, "stats", "in", in, "out", out);
    if (s->simulcast) { /* the peer's SSRC per substream, as learnt */
        json_t *ssrcs = json_array();
        for (size_t k = 0; k < s->n_layers; k++)
            json_array_append_new(ssrcs, json_integer((json_int_t)s->layers[k].ssrc));
        json_object_set_new(j, "ssrc-peer-simulcast", ssrcs);
    }
    return j;
}

void pc_info(struct gw_pc *pc, json_t *info)
{
    json_t *sdps = json_object();
    json_t *media = json_object();
    pthread_mutex_lock(&pc->lock);
    if (pc->local_sdp)
        json_object_set_new(sdps, "local", json_string(pc->local_sdp));
    if (pc->remote_sdp)
        json_object_set_new(sdps, "remote", json_string(pc->remote_sdp));
    json_t *dtls = json_pack(
        "{s:s, s:s, s:s, s:s, s:s}", "fingerprint", dtls_cert_fingerprint(pc->m->cfg.cert),
        "remote-fingerprint", pc->fp_value, "remote-fingerprint-hash", pc->fp_hash, "dtls-role",
        pc->role == DTLS_ROLE_CLIENT ? "active" : "passive", "dtls-state", pc->dtls_state);
    if (pc->srtp_profile[0])
        json_object_set_new(dtls, "srtp-profile", json_string(pc->srtp_profile));
    bool up = pc->webrtcup;
    bool negotiated = pc->local_sdp && pc->remote_sdp;
    struct vb_srtp *srtp = atomic_load(&pc->srtp);
    if (srtp) {
        struct vb_srtp_stats st;
        vb_srtp_get_stats(srtp, &st);
        json_object_set_new(
            dtls, "srtp",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rtp-in",
                      (json_int_t)st.rtp_unprotected, "rtcp-in", (json_int_t)st.rtcp_unprotected,
                      "rtp-out", (json_int_t)st.rtp_protected, "rtcp-out",
                      (json_int_t)st.rtcp_protected, "auth-failures", (json_int_t)st.auth_failures,
                      "replay-failures", (json_int_t)st.replay_failures, "other-failures",
                      (json_int_t)st.other_failures));
    }
    for (size_t i = 0; i < pc->n_streams; i++) {
        char key[16];
        snprintf(key, sizeof key, "%zu", i);
        if (pc->streams[i].active)
            json_object_set_new(media, key, stream_info(&pc->streams[i]));
    }
    pthread_mutex_unlock(&pc->lock);
    json_object_set_new(info, "sdps", sdps);
    json_t *ice = ice_agent_info(pc->agent);
    json_t *webrtc = json_pack("{s:o, s:o, s:o}", "ice", ice ? ice : json_object(), "dtls", dtls,
                               "media", media);
    json_object_set_new(info, "webrtc", webrtc);
    json_t *flags = json_object_get(info, "flags");
    if (json_is_object(flags)) {
        json_object_set_new(flags, "negotiated", json_boolean(negotiated));
        json_object_set_new(flags, "ready", json_boolean(up));
    }
}
