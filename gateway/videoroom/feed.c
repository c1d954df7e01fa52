/* This file implements a publisher's media: the answer to its offer (the room's codecs, the
 * extensions we use, receive-only), the feed streams that answer describes, the media thread's
 * work for every packet it sends (hand it to the recorder, then to every subscriber stream fed
 * from it), and the feedback we send it (keyframe requests, the REMB cap).
 *
 * DESIGN: the recorder gets the packet first and as received (the MJR keeps the publisher's
 * extensions, as Janus's recordings do); archive_rec_write_rtp() is a copy into memory that never
 * blocks, and a full buffer drops the frame and counts it (rec_drops) rather than ever slowing
 * forwarding. Each subscriber stream gets its own copy with the extensions removed (the
 * subscriber's offer negotiated none: its ids would not match the publisher's), our payload type,
 * and continuous sequence numbers and timestamps (gw_rtp_switch). The whole packet is handled
 * under the feed's lock, which only this publisher's thread and control changes of this feed
 * take. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/rtp/rtp.h"
#include "gateway/sdp/sdp.h"
#include "gateway/videoroom/vr_internal.h"

#define FEED_PLI_GAP_US 500000   /* between two keyframe requests to a publisher */
#define FEED_REMB_GAP_US 1000000 /* between two REMBs */
#define FORWARD_MAX 1500

void vr_feed_init(struct vr_feed *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
}

static void stream_clear(struct vr_feed_stream *fs)
{
    for (size_t i = 0; i < 16; i++) {
        free(fs->ext_uris[i]);
        fs->ext_uris[i] = NULL;
        fs->extmaps[i] = NULL;
    }
}

void vr_feed_destroy(struct vr_feed *f)
{
    for (size_t i = 0; i < VR_MAX_STREAMS; i++) {
        stream_clear(&f->streams[i]);
        vr_forwarders_clear(&f->streams[i]);
        free(f->streams[i].subs);
        free(f->streams[i].fwds);
    }
    pthread_mutex_destroy(&f->lock);
}

/* ---- negotiation ---- */

static void lower_copy(char *dst, size_t size, const char *src)
{
    size_t k = 0;
    for (; src && src[k] && k + 1 < size; k++)
        dst[k] = (char)(src[k] >= 'A' && src[k] <= 'Z' ? src[k] + 32 : src[k]);
    dst[k] = '\0';
}

/* What an accepted m-line of our answer says. */
static void desc_from_media(struct vr_media_desc *d, const struct sdp_media *m)
{
    memset(d, 0, sizeof *d);
    const struct sdp_codec *c = &m->codecs[0];
    d->kind = m->type == SDP_MEDIA_VIDEO ? MJR_KIND_VIDEO : MJR_KIND_AUDIO;
    snprintf(d->mid, sizeof d->mid, "%s", m->mid ? m->mid : "");
    lower_copy(d->codec, sizeof d->codec, c->name);
    d->pt = c->pt;
    d->clock_rate = c->clock_rate ? c->clock_rate : (d->kind == MJR_KIND_VIDEO ? 90000 : 8000);
    d->channels = c->channels;
    snprintf(d->fmtp, sizeof d->fmtp, "%s", c->fmtp ? c->fmtp : "");
    d->vcodec = d->kind == MJR_KIND_VIDEO ? gw_video_codec_from_name(d->codec) : GW_VC_UNKNOWN;
}

/* The codec preference: the body's, then the room's lists. */
static size_t codec_prefs(const struct vr_room_settings *s, const json_t *body, const char **out,
                          size_t cap)
{
    size_t n = 0;
    const char *ac = json_string_value(json_object_get(body, "audiocodec"));
    const char *vc = json_string_value(json_object_get(body, "videocodec"));
    if (ac && n < cap)
        out[n++] = ac;
    if (vc && n < cap)
        out[n++] = vc;
    for (int i = 0; i < VR_CODECS && n < cap; i++) {
        if (s->acodec[i] >= 0)
            out[n++] = vr_audio_codec_name(s->acodec[i]);
        if (s->vcodec[i] >= 0 && n < cap)
            out[n++] = vr_video_codec_name(s->vcodec[i]);
    }
    return n;
}

/* Copies the stream's extension map (for the recording's header) and the ids we read. */
static void stream_exts(struct vr_feed_stream *fs, const struct sdp_media *m)
{
    stream_clear(fs);
    fs->ext_audio_level = 0;
    for (size_t i = 0; i < m->n_extmaps; i++) {
        unsigned id = m->extmaps[i].id;
        if (id < 1 || id > 14 || !m->extmaps[i].uri)
            continue;
        fs->ext_uris[id] = xstrdup(m->extmaps[i].uri);
        fs->extmaps[id] = fs->ext_uris[id];
        if (strcmp(m->extmaps[i].uri, SDP_EXT_AUDIO_LEVEL) == 0)
            fs->ext_audio_level = (int)id;
    }
}

/* The control plane's view of the feed (room lock held): p->streams. */
static void publish_streams(struct vr_participant *p)
{
    struct vr_stream *st = xcalloc(VR_MAX_STREAMS, sizeof *st);
    size_t n = 0;
    for (size_t i = 0; i < p->feed.nstreams; i++) {
        const struct vr_feed_stream *fs = &p->feed.streams[i];
        if (!fs->active)
            continue;
        bool video = fs->d.kind == MJR_KIND_VIDEO;
        st[n].mindex = fs->mindex;
        st[n].mid = xstrdup(fs->d.mid);
        st[n].type = video ? "video" : "audio";
        st[n].codec = video ? vr_video_codec_name(vr_video_codec(fs->d.codec))
                            : vr_audio_codec_name(vr_audio_codec(fs->d.codec));
        for (size_t k = 0; k < p->nstreams; k++) /* descriptions survive a renegotiation */
            if (p->streams[k].mid && strcmp(p->streams[k].mid, fs->d.mid) == 0 &&
                p->streams[k].description)
                st[n].description = xstrdup(p->streams[k].description);
        n++;
    }
    vr_streams_free(p->streams, p->nstreams);
    p->streams = st;
    p->nstreams = n;
}

/* The body's `descriptions` applied to p->streams (room lock held). */
static void apply_descriptions(struct vr_participant *p, const json_t *body)
{
    const json_t *d = json_object_get(body, "descriptions");
    for (size_t i = 0; i < json_array_size(d); i++) {
        const char *mid = json_string_value(json_object_get(json_array_get(d, i), "mid"));
        const char *text = json_string_value(json_object_get(json_array_get(d, i), "description"));
        for (size_t k = 0; mid && text && k < p->nstreams; k++) {
            if (p->streams[k].mid && strcmp(p->streams[k].mid, mid) == 0) {
                free(p->streams[k].description);
                p->streams[k].description = xstrdup(text);
            }
        }
    }
}

/* The substream a rid names: h/m/l and f/h/q by name, else by position (the first listed is
 * the best, as browsers list their encodings). */
static int rid_substream(const struct sdp_media *om, size_t k, size_t n)
{
    static const char *const sets[][3] = {{"l", "m", "h"}, {"q", "h", "f"}};
    for (size_t s = 0; s < 2; s++) {
        bool all = true;
        int at = -1;
        for (size_t i = 0, j = 0; i < om->n_rids; i++) {
            if (om->rids[i].recv)
                continue;
            int found = -1;
            for (int x = 0; x < 3; x++)
                if (strcmp(om->rids[i].id, sets[s][x]) == 0)
                    found = x;
            all = all && found >= 0;
            if (j++ == k)
                at = found;
        }
        if (all && at >= 0)
            return at;
    }
    return (int)(n - 1 - k);
}

/* Simulcast of an offered m-line: the rids the publisher sends (or its SIM group's SSRCs, low
 * to high). */
static void stream_simulcast(struct vr_feed_stream *fs, const struct sdp_media *om,
                             const struct sdp_media *am)
{
    gw_simulcast_init(&fs->sim, fs->d.vcodec);
    fs->simulcast = false;
    fs->rec_sub = 0;
    int rid_ext = sdp_media_extmap_id(am, SDP_EXT_RID);
    fs->ext_rid = rid_ext > 0 && rid_ext < 15 ? rid_ext : 0;
    size_t n = 0;
    for (size_t i = 0; i < om->n_rids; i++)
        n += !om->rids[i].recv;
    if (n > 1 && am->n_rids > 0 && fs->ext_rid) {
        if (n > GW_SIMULCAST_SUBSTREAMS)
            n = GW_SIMULCAST_SUBSTREAMS;
        for (size_t i = 0, k = 0; i < om->n_rids && k < n; i++) {
            if (om->rids[i].recv)
                continue;
            int sub = rid_substream(om, k++, n);
            if (gw_simulcast_set_rid(&fs->sim, sub, om->rids[i].id) == 0 && sub > fs->rec_sub)
                fs->rec_sub = sub;
        }
        fs->simulcast = true;
        return;
    }
    for (size_t g = 0; g < om->n_ssrc_groups; g++) {
        const struct sdp_ssrc_group *sg = &om->ssrc_groups[g];
        if (strcmp(sg->semantics, "SIM") != 0 || sg->n_ssrcs < 2)
            continue;
        for (size_t k = 0; k < sg->n_ssrcs && k < GW_SIMULCAST_SUBSTREAMS; k++)
            gw_simulcast_set_ssrc(&fs->sim, (int)k, sg->ssrcs[k]);
        fs->rec_sub = (int)(sg->n_ssrcs < GW_SIMULCAST_SUBSTREAMS ? sg->n_ssrcs - 1
                                                                  : GW_SIMULCAST_SUBSTREAMS - 1);
        fs->simulcast = true;
        return;
    }
}

/* Fills the feed from our answer (room lock held; feed->lock taken for the swap). */
static void feed_from_answer(struct vr_participant *p, const struct sdp *offer,
                             const struct sdp *answer)
{
    struct vr_feed *f = &p->feed;
    pthread_mutex_lock(&f->lock);
    size_t n = answer->n_media < VR_MAX_STREAMS ? answer->n_media : VR_MAX_STREAMS;
    for (size_t i = 0; i < n; i++) {
        const struct sdp_media *m = &answer->media[i];
        struct vr_feed_stream *fs = &f->streams[i];
        bool ok = m->port != 0 && m->rtp && m->n_codecs > 0 && m->codecs[0].name &&
                  (m->type == SDP_MEDIA_AUDIO || m->type == SDP_MEDIA_VIDEO);
        struct vr_media_desc d;
        if (ok)
            desc_from_media(&d, m);
        if (!ok) {
            fs->active = false;
            continue;
        }
        fs->mindex = (int)i;
        fs->d = d;
        stream_exts(fs, m);
        if (d.kind == MJR_KIND_VIDEO && i < offer->n_media)
            stream_simulcast(fs, &offer->media[i], m);
        else
            fs->simulcast = false;
        fs->talk_event = p->room->set.audiolevel_event && d.kind == MJR_KIND_AUDIO;
        fs->talk_packets = (int)(p->audio_active_packets > 0 ? p->audio_active_packets
                                                             : p->room->set.audio_active_packets);
        fs->talk_threshold = (int)(p->audio_level_average > 0 ? p->audio_level_average
                                                              : p->room->set.audio_level_average);
        if (fs->talk_packets <= 0)
            fs->talk_packets = 100;
        if (fs->talk_threshold <= 0)
            fs->talk_threshold = 25;
        fs->active = true;
    }
    for (size_t i = n; i < f->nstreams; i++)
        f->streams[i].active = false;
    if (n > f->nstreams)
        f->nstreams = n;
    pthread_mutex_unlock(&f->lock);
}

int vr_feed_negotiate(struct vr *v, struct vr_participant *p, const json_t *jsep,
                      const json_t *body, json_t **answer, struct vr_err *e)
{
    (void)v;
    const struct vr_room_settings *s = &p->room->set;
    const char *text = json_string_value(json_object_get(jsep, "sdp"));
    struct sdp *offer = NULL, *ans = NULL;
    char why[160];
    if (!text || sdp_parse(text, strlen(text), &offer, why, sizeof why) < 0)
        return vr_fail(e, VR_ERR_INVALID_SDP, "Error parsing offer: %s", text ? why : "no SDP");
    const char *prefs[2 + 2 * VR_CODECS];
    /* transport-wide-cc: the media layer sends the feedback browsers estimate bandwidth from */
    static const char *const exts[] = {SDP_EXT_MID,
                                       SDP_EXT_RID,
                                       SDP_EXT_REPAIRED_RID,
                                       SDP_EXT_AUDIO_LEVEL,
                                       SDP_EXT_VIDEO_ORIENTATION,
                                       SDP_EXT_PLAYOUT_DELAY,
                                       SDP_EXT_TRANSPORT_CC};
    struct sdp_answer_opts o = {.codecs = prefs,
                                .n_codecs = codec_prefs(s, body, prefs, 2 + 2 * VR_CODECS),
                                .h264_profile = s->h264_profile,
                                .vp9_profile = s->vp9_profile,
                                .extmaps = exts,
                                .n_extmaps = sizeof exts / sizeof exts[0],
                                .dir = SDP_DIR_RECVONLY,
                                .sess_id = vr_random_id()};
    char *out = NULL;
    int rc = sdp_answer_generate(offer, &o, &ans);
    if (rc == 0)
        rc = sdp_write(ans, &out, NULL);
    if (rc < 0) {
        sdp_free(offer);
        sdp_free(ans);
        return vr_fail(e, VR_ERR_INVALID_SDP, "Error answering the offer");
    }
    feed_from_answer(p, offer, ans);
    publish_streams(p);
    apply_descriptions(p, body);
    *answer = json_pack("{s:s, s:s}", "type", "answer", "sdp", out);
    free(out);
    sdp_free(ans);
    sdp_free(offer);
    return 0;
}

void vr_feed_stop(struct vr_participant *p, struct vr_subscriber ***subs, size_t *nsubs)
{
    struct vr_feed *f = &p->feed;
    struct archive_rec *recs[VR_MAX_STREAMS];
    size_t nrecs = 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nstreams; i++) {
        struct vr_feed_stream *fs = &f->streams[i];
        fs->active = false;
        vr_forwarders_clear(fs);
        if (fs->rec)
            recs[nrecs++] = fs->rec;
        fs->rec = NULL;
        for (size_t k = 0; k < fs->nsubs; k++) {
            struct vr_subscriber *sub = fs->subs[k]->sub;
            fs->subs[k]->attached = false;
            size_t j = 0;
            while (j < *nsubs && (*subs)[j] != sub)
                j++;
            if (j == *nsubs) {
                *subs = xrealloc(*subs, (*nsubs + 1) * sizeof **subs);
                atomic_fetch_add(&sub->refs, 1);
                (*subs)[(*nsubs)++] = sub;
            }
        }
        fs->nsubs = 0;
    }
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < nrecs; i++) /* finished by the archive's writer thread */
        archive_rec_close(recs[i]);
}

/* ---- feedback to the publisher ---- */

static void send_pli(struct vr *v, struct vr_participant *p, int mindex, bool force)
{
    struct vr_feed *f = &p->feed;
    if (vr_remote_request_keyframe(p, mindex, force)) /* a remote publisher (remote.c) */
        return;
    if (mindex < 0 || mindex >= VR_MAX_STREAMS)
        return;
    int64_t now = vb_clock_mono_us();
    pthread_mutex_lock(&f->lock);
    struct vr_feed_stream *fs = &f->streams[mindex];
    bool video = fs->active && fs->d.kind == MJR_KIND_VIDEO;
    bool go = video && (force || now - fs->last_pli_us >= FEED_PLI_GAP_US);
    if (video && !go) /* too soon after the last one: sent when the gap is over */
        fs->pli_pending = true;
    uint32_t ssrcs[GW_SIMULCAST_SUBSTREAMS] = {fs->ssrc};
    size_t n = 1;
    if (fs->simulcast) /* a keyframe on every substream: any may be switched to */
        for (size_t k = n = 0; k < GW_SIMULCAST_SUBSTREAMS; k++)
            if (fs->sim.has_ssrc[k])
                ssrcs[n++] = fs->sim.ssrc[k];
    pthread_mutex_unlock(&f->lock);
    const struct gw_plugin_callbacks *cb = vr_callbacks(v);
    if (!go || !cb || n == 0)
        return;
    uint8_t buf[128];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    for (size_t k = 0; k < n; k++)
        gw_rtcp_write_pli(&w, 0, ssrcs[k]); /* the media layer names the sender */
    if (!w.err && cb->relay_rtcp(p->h, mindex, buf, w.len) == 0) {
        pthread_mutex_lock(&f->lock);
        fs->last_pli_us = now;
        pthread_mutex_unlock(&f->lock);
    }
}

void vr_feed_request_keyframe(struct vr *v, struct vr_participant *p, int mindex)
{
    send_pli(v, p, mindex, false);
}

void vr_feed_request_keyframes(struct vr *v, struct vr_participant *p)
{
    for (int i = 0; i < VR_MAX_STREAMS; i++)
        send_pli(v, p, i, true);
}

void vr_feed_incoming_rtcp(struct vr *v, struct vr_participant *p, int mindex, const uint8_t *pkt,
                           size_t len)
{
    (void)pkt, (void)len;
    unsigned bitrate = atomic_load_explicit(&p->remb, memory_order_relaxed);
    const struct gw_plugin_callbacks *cb = vr_callbacks(v);
    if (!bitrate || !cb)
        return;
    int64_t now = vb_clock_mono_us();
    struct vr_feed *f = &p->feed;
    pthread_mutex_lock(&f->lock);
    bool due = now - f->last_remb_us >= FEED_REMB_GAP_US;
    uint32_t ssrcs[VR_MAX_STREAMS];
    unsigned n = 0;
    for (size_t i = 0; due && i < f->nstreams; i++)
        if (f->streams[i].active && f->streams[i].d.kind == MJR_KIND_VIDEO && f->streams[i].ssrc)
            ssrcs[n++] = f->streams[i].ssrc;
    if (due && n)
        f->last_remb_us = now;
    pthread_mutex_unlock(&f->lock);
    if (!due || !n)
        return;
    uint8_t buf[128];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    if (gw_rtcp_write_remb(&w, 0, bitrate, ssrcs, n) == 0)
        cb->relay_rtcp(p->h, mindex, buf, w.len);
}

/* ---- the media path ---- */

/* A subscriber stream whose simulcast substream or temporal layer changed with a packet: told
 * once the feed's lock is released ({"videoroom":"event","mid":M,"substream":N} and/or
 * "temporal", as Janus). */
struct layer_notice {
    struct gw_handle *h; /* referenced */
    char mid[32];
    int substream, temporal; /* -1 = unchanged */
};
#define LAYER_NOTICES 8

struct fanout {
    bool pli; /* a subscriber waits for a keyframe */
    struct layer_notice notices[LAYER_NOTICES];
    size_t n;
};

static void layer_changed(struct fanout *fo, struct vr_sub_stream *ss, int old_sub, int old_t)
{
    int sub = gw_simulcast_substream(&ss->sc), t = gw_simulcast_temporal(&ss->sc);
    if ((sub == old_sub && t == old_t) || fo->n == LAYER_NOTICES)
        return;
    struct layer_notice *n = &fo->notices[fo->n++];
    gw_handle_ref(ss->sub->h);
    n->h = ss->sub->h;
    memcpy(n->mid, ss->d.mid, sizeof n->mid);
    n->substream = sub != old_sub ? sub : -1;
    n->temporal = t != old_t ? t : -1;
}

static void notices_send(const struct gw_plugin_callbacks *cb, uint64_t room, struct fanout *fo)
{
    for (size_t i = 0; i < fo->n; i++) {
        struct layer_notice *n = &fo->notices[i];
        static const char *const keys[] = {"substream", "temporal"}; /* one event each, as Janus */
        const int values[] = {n->substream, n->temporal};
        for (size_t k = 0; k < 2; k++)
            if (values[k] >= 0)
                cb->push_event(n->h, NULL,
                               json_pack("{s:s, s:I, s:s, s:i}", "videoroom", "event", "room",
                                         (json_int_t)room, "mid", n->mid, keys[k], values[k]),
                               NULL);
        gw_handle_unref(n->h);
    }
}

/* One copy of `bare` (the packet without its extensions, made once per packet) for one
 * subscriber stream (feed lock held). `sub`: the packet's substream (simulcast), else -1. */
static void forward_one(const struct gw_plugin_callbacks *cb, struct vr_sub_stream *ss,
                        const uint8_t *bare, size_t len, int sub, int64_t now, struct fanout *fo)
{
    if (!ss->send || !atomic_load_explicit(&ss->sub->fwd_on, memory_order_relaxed))
        return;
    uint8_t buf[FORWARD_MAX];
    memcpy(buf, bare, len);
    if (sub >= 0) {
        bool switched = false, need_keyframe = false;
        int old_sub = gw_simulcast_substream(&ss->sc), old_t = gw_simulcast_temporal(&ss->sc);
        int go = gw_simulcast_process(&ss->sc, sub, buf, len, now, &switched, &need_keyframe);
        fo->pli = fo->pli || need_keyframe;
        layer_changed(fo, ss, old_sub, old_t);
        if (!go) { /* not this substream, or a temporal layer left out */
            if (sub == gw_simulcast_substream(&ss->sc))
                gw_rtp_switch_skip(&ss->sw, buf, len);
            return;
        }
        if (switched)
            gw_rtp_switch_reset(&ss->sw);
    }
    gw_rtp_set_pt(buf, (uint8_t)ss->d.pt);
    if (gw_rtp_switch_apply(&ss->sw, buf, len, now) < 0)
        return;
    if (cb->relay_rtp(ss->sub->h, ss->mindex, buf, len) == 0)
        atomic_fetch_add_explicit(&ss->forwarded, 1, memory_order_relaxed);
}

void vr_feed_incoming_rtp(struct vr *v, struct vr_participant *p, int mindex, const uint8_t *pkt,
                          size_t len)
{
    struct gw_rtp_hdr h;
    const struct gw_plugin_callbacks *cb = vr_callbacks(v);
    if (mindex < 0 || mindex >= VR_MAX_STREAMS || !cb || gw_rtp_parse(pkt, len, &h) < 0)
        return;
    struct vr_feed *f = &p->feed;
    int64_t now = vb_clock_mono_us();
    pthread_mutex_lock(&f->lock);
    struct vr_feed_stream *fs = &f->streams[mindex];
    if (!fs->active || h.pt != fs->d.pt) {
        pthread_mutex_unlock(&f->lock);
        return;
    }
    int sub = -1;
    if (fs->simulcast) {
        size_t off = 0, rlen = 0;
        const uint8_t *rid = NULL;
        if (fs->ext_rid && h.extension &&
            gw_rtp_ext_find(pkt, &h, (uint8_t)fs->ext_rid, &off, &rlen) == 0)
            rid = pkt + off;
        sub = gw_simulcast_resolve(&fs->sim, h.ssrc, rid, rlen);
        if (sub < 0) { /* a substream we cannot place */
            pthread_mutex_unlock(&f->lock);
            return;
        }
    }
    if (sub < 0 || sub == fs->rec_sub)
        fs->ssrc = h.ssrc;
    atomic_fetch_add_explicit(&fs->packets, 1, memory_order_relaxed);
    if (fs->rec && fs->rec_wait_until_us && /* a new video file opens on a keyframe */
        (now >= fs->rec_wait_until_us ||
         gw_rtp_is_keyframe(fs->d.vcodec, pkt + h.payload_off, h.payload_len)) &&
        (sub < 0 || sub == fs->rec_sub))
        fs->rec_wait_until_us = 0;
    if (fs->rec && !fs->rec_wait_until_us &&
        (sub < 0 || sub == fs->rec_sub)) { /* simulcast: the top substream */
        if (archive_rec_write_rtp(fs->rec, pkt, len) == 0)
            atomic_fetch_add_explicit(&fs->recorded, 1, memory_order_relaxed);
        else
            atomic_fetch_add_explicit(&fs->rec_drops, 1, memory_order_relaxed);
    }
    bool fwd_pli = false;              /* a forwarder's receiver asked for a keyframe */
    if (sub < 0 || sub == fs->rec_sub) /* simulcast: forwarders get the top substream */
        fwd_pli = vr_forwarders_send(fs, pkt, len);
    struct fanout fo;
    fo.n = 0;
    fo.pli = fs->pli_pending && now - fs->last_pli_us >= FEED_PLI_GAP_US;
    if (fo.pli)
        fs->pli_pending = false;
    uint8_t bare[FORWARD_MAX]; /* extensions stripped once: the subscribers negotiated none */
    size_t blen = len;
    struct gw_rtp_hdr bh;
    bool ok = fs->nsubs && len <= FORWARD_MAX;
    if (ok) {
        memcpy(bare, pkt, len);
        ok = gw_rtp_parse(bare, blen, &bh) == 0 &&
             (!bh.extension || gw_rtp_ext_strip(bare, &blen, &bh) == 0);
    }
    for (size_t i = 0; ok && i < fs->nsubs; i++)
        forward_one(cb, fs->subs[i], bare, blen, sub, now, &fo);
    int avg = 0;
    bool talk_changed = fs->d.kind == MJR_KIND_AUDIO && vr_talk_packet(fs, pkt, len, &avg);
    bool talking = fs->talking;
    char mid[sizeof fs->d.mid];
    memcpy(mid, fs->d.mid, sizeof mid);
    pthread_mutex_unlock(&f->lock);
    notices_send(cb, p->room->id, &fo);
    if (fo.pli || fwd_pli)
        vr_feed_request_keyframe(v, p, mindex);
    if (talk_changed)
        vr_talk_notify(v, p, mindex, mid, talking, avg);
}

void vr_feed_info(struct vr_participant *p, json_t *streams)
{
    struct vr_feed *f = &p->feed;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nstreams; i++) {
        struct vr_feed_stream *fs = &f->streams[i];
        if (!fs->active)
            continue;
        json_t *o = json_pack(
            "{s:i, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "mindex", fs->mindex, "mid", fs->d.mid,
            "type", fs->d.kind == MJR_KIND_VIDEO ? "video" : "audio", "codec", fs->d.codec,
            "recording", fs->rec != NULL, "packets", (json_int_t)atomic_load(&fs->packets),
            "recorded", (json_int_t)atomic_load(&fs->recorded), "recorder_drops",
            (json_int_t)atomic_load(&fs->rec_drops), "subscribers", (json_int_t)fs->nsubs);
        if (fs->rec)
            json_object_set_new(o, "file", json_string(archive_rec_path(fs->rec)));
        if (fs->nfwds)
            json_object_set_new(o, "forwarders", vr_forwarders_info(fs));
        json_array_append_new(streams, o);
    }
    pthread_mutex_unlock(&f->lock);
}
