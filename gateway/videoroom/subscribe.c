/* This file implements a subscriber's media: its streams (one per m-line of its PeerConnection,
 * each fed by one publisher stream), the offers we make it (join, subscribe, unsubscribe,
 * update, and the autoupdate when a feed goes away), and its requests on them (start, pause,
 * configure, switch), with Janus 1.1.2's events.
 *
 * DESIGN: a subscriber stream is attached to its feed stream's list under the feed's lock and
 * only then gets packets; detaching takes the same lock, so once detach returns no publisher
 * thread uses it and it can be changed or freed. A stream whose feed went away keeps its m-line,
 * inactive, as Janus keeps m-lines in place; a later subscription reuses an inactive m-line of
 * the same kind. Our offers carry one codec per m-line with our own payload types
 * (those of the table below), no header extensions (the publisher's ids mean nothing to the
 * subscriber: feed.c strips them), and our SSRCs (added by the media layer). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/sdp/sdp.h"
#include "gateway/videoroom/vr_internal.h"

/* Our payload type and written name for each codec we forward. */
static const struct {
    const char *codec, *written;
    int pt;
} codec_table[] = {
    {"opus", "opus", 111}, {"pcmu", "PCMU", 0}, {"pcma", "PCMA", 8},
    {"g722", "G722", 9},   {"vp8", "VP8", 96},  {"vp9", "VP9", 98},
    {"h264", "H264", 102}, {"av1", "AV1", 45},  {"h265", "H265", 104},
};

static int codec_entry(const char *codec)
{
    for (size_t i = 0; i < sizeof codec_table / sizeof codec_table[0]; i++)
        if (strcasecmp(codec_table[i].codec, codec) == 0)
            return (int)i;
    return -1;
}

/* ---- attaching streams to feeds (room lock held) ---- */

static void stream_attach(struct vr_sub_stream *ss)
{
    struct vr_feed *f = &ss->feed->feed;
    pthread_mutex_lock(&f->lock);
    struct vr_feed_stream *fs = &f->streams[ss->feed_mindex];
    if (fs->active) {
        if (fs->nsubs == fs->capsubs) {
            fs->capsubs = fs->capsubs ? fs->capsubs * 2 : 4;
            fs->subs = xrealloc(fs->subs, fs->capsubs * sizeof *fs->subs);
        }
        fs->subs[fs->nsubs++] = ss;
        ss->attached = true;
        gw_rtp_switch_reset(&ss->sw);
    }
    pthread_mutex_unlock(&f->lock);
}

static void stream_detach(struct vr_sub_stream *ss)
{
    if (!ss->feed)
        return;
    struct vr_feed *f = &ss->feed->feed;
    pthread_mutex_lock(&f->lock);
    struct vr_feed_stream *fs = &f->streams[ss->feed_mindex];
    for (size_t i = 0; ss->attached && i < fs->nsubs; i++) {
        if (fs->subs[i] == ss) {
            fs->subs[i] = fs->subs[--fs->nsubs];
            break;
        }
    }
    ss->attached = false;
    pthread_mutex_unlock(&f->lock);
}

/* The stream stops being fed: its m-line stays, disabled. */
static void stream_unfeed(struct vr_sub_stream *ss)
{
    stream_detach(ss);
    vr_participant_unref(ss->feed);
    ss->feed = NULL;
}

/* The substream / temporal layer a subscription entry asks for (-1 = the default, the best). */
static void layers_wanted(const json_t *item, int *substream, int *temporal)
{
    const json_t *s = json_object_get(item, "substream");
    const json_t *t = json_object_get(item, "temporal");
    if (!s)
        s = json_object_get(item, "spatial_layer");
    if (!t)
        t = json_object_get(item, "temporal_layer");
    *substream = json_is_integer(s) ? (int)json_integer_value(s) : -1;
    *temporal = json_is_integer(t) ? (int)json_integer_value(t) : -1;
}

/* Feeds `ss` from stream `fi` of publisher `q` (room lock held), at the layers `item` asks for
 * (simulcast). */
static void stream_feed(struct vr_sub_stream *ss, struct vr_participant *q, size_t fi,
                        const json_t *item)
{
    const struct vr_feed_stream *fs = &q->feed.streams[fi];
    char mid[32];
    memcpy(mid, ss->d.mid, sizeof mid);
    ss->d = fs->d;
    memcpy(ss->d.mid, mid, sizeof mid);
    int c = codec_entry(fs->d.codec);
    ss->d.pt = c >= 0 ? codec_table[c].pt : fs->d.pt;
    vr_participant_ref(q);
    ss->feed = q;
    ss->feed_mindex = (int)fi;
    ss->send = true;
    gw_rtp_switch_init(&ss->sw, fs->d.clock_rate);
    gw_simulcast_init(&ss->sc, fs->d.vcodec);
    int substream, temporal;
    layers_wanted(item, &substream, &temporal);
    gw_simulcast_set_target(&ss->sc, substream, temporal);
    stream_attach(ss);
}

/* A slot for a new stream of `kind`: a disabled m-line of that kind, else a new one. */
static struct vr_sub_stream *stream_slot(struct vr_subscriber *sub, enum mjr_kind kind)
{
    for (size_t i = 0; i < sub->nss; i++)
        if (!sub->ss[i]->feed && sub->ss[i]->d.kind == kind)
            return sub->ss[i];
    if (sub->nss == VR_MAX_STREAMS)
        return NULL;
    struct vr_sub_stream *ss = xcalloc(1, sizeof *ss);
    ss->sub = sub;
    ss->mindex = (int)sub->nss;
    ss->d.kind = kind;
    snprintf(ss->d.mid, sizeof ss->d.mid, "%d", ss->mindex);
    atomic_init(&ss->forwarded, 0);
    sub->ss[sub->nss++] = ss;
    return ss;
}

/* Adds the streams a `streams` list names (checked by vr_subscription_check). 0 or the code. */
static int streams_add(struct vr_subscriber *sub, const json_t *feeds, struct vr_err *e)
{
    for (size_t i = 0; i < json_array_size(feeds); i++) {
        const json_t *item = json_array_get(feeds, i);
        struct vr_participant *q = vr_room_find(sub->room, vr_json_u64(item, "feed"));
        const char *mid = json_string_value(json_object_get(item, "mid"));
        for (size_t k = 0; q && k < q->feed.nstreams; k++) {
            const struct vr_feed_stream *fs = &q->feed.streams[k];
            if (!fs->active || (mid && strcmp(fs->d.mid, mid) != 0))
                continue;
            struct vr_sub_stream *ss = stream_slot(sub, fs->d.kind);
            if (!ss)
                return vr_fail(e, VR_ERR_UNKNOWN, "Too many streams (at most %d)", VR_MAX_STREAMS);
            stream_feed(ss, q, k, item);
        }
    }
    return 0;
}

/* ---- what the subscriber is told ---- */

json_t *vr_sub_streams_json(const struct vr_subscriber *sub)
{
    json_t *list = json_array();
    for (size_t i = 0; i < sub->nss; i++) {
        const struct vr_sub_stream *ss = sub->ss[i];
        bool video = ss->d.kind == MJR_KIND_VIDEO;
        json_t *o = json_pack("{s:s, s:b, s:i, s:s}", "type", video ? "video" : "audio", "active",
                              ss->feed != NULL, "mindex", ss->mindex, "mid", ss->d.mid);
        json_object_set_new(o, "ready", json_boolean(ss->feed && sub->pc_up));
        json_object_set_new(o, "send", json_boolean(ss->send || !ss->feed)); /* as Janus */
        if (ss->feed) {
            json_object_set_new(o, "feed_id", json_integer((json_int_t)ss->feed->id));
            if (ss->feed->display)
                json_object_set_new(o, "feed_display", json_string(ss->feed->display));
            const struct vr_feed_stream *fs = &ss->feed->feed.streams[ss->feed_mindex];
            json_object_set_new(o, "feed_mid", json_string(fs->d.mid));
            json_object_set_new(o, "codec", json_string(ss->d.codec));
            if (fs->simulcast) {
                pthread_mutex_lock(&ss->feed->feed.lock);
                json_object_set_new(/* Janus's keys */
                                    o, "simulcast",
                                    json_pack("{s:i, s:i, s:i, s:i}", "substream",
                                              gw_simulcast_substream(&ss->sc), "substream-target",
                                              gw_simulcast_target_substream(&ss->sc),
                                              "temporal-layer", gw_simulcast_temporal(&ss->sc),
                                              "temporal-layer-target",
                                              gw_simulcast_target_temporal(&ss->sc)));
                pthread_mutex_unlock(&ss->feed->feed.lock);
            }
        }
        json_array_append_new(list, o);
    }
    return list;
}

/* Our offer for the subscriber's streams (room lock held). New reference or NULL. */
static json_t *sub_offer(struct vr_subscriber *sub)
{
    struct sdp_stream st[VR_MAX_STREAMS];
    char msid[VR_MAX_STREAMS][80];
    for (size_t i = 0; i < sub->nss; i++) {
        const struct vr_sub_stream *ss = sub->ss[i];
        int c = codec_entry(ss->d.codec);
        bool video = ss->d.kind == MJR_KIND_VIDEO;
        snprintf(msid[i], sizeof msid[i], "janus janus%s%" PRIu64 "-%s", video ? "v" : "a",
                 ss->feed ? ss->feed->id : 0, ss->d.mid);
        st[i] = (struct sdp_stream){
            .kind = video ? SDP_MEDIA_VIDEO : SDP_MEDIA_AUDIO,
            .mid = ss->d.mid,
            .codec = c >= 0 ? codec_table[c].written : (video ? "VP8" : "opus"),
            .pt = ss->d.pt ? ss->d.pt : (c >= 0 ? codec_table[c].pt : (video ? 96 : 111)),
            .clock_rate = ss->d.clock_rate,
            .channels = strcmp(ss->d.codec, "opus") == 0 ? 2 : 0,
            .fmtp = ss->d.fmtp[0] ? ss->d.fmtp : NULL,
            .msid = msid[i],
            /* A stream whose feed went away stays in the bundle, inactive (as Janus). */
            .dir = ss->feed ? SDP_DIR_SENDONLY : SDP_DIR_INACTIVE,
        };
    }
    struct sdp *d = NULL;
    char *text = NULL;
    json_t *j = NULL;
    if (sdp_offer_generate(st, sub->nss, sub->sdp_session, &d) == 0 &&
        sdp_write(d, &text, NULL) == 0)
        j = json_pack("{s:s, s:s}", "type", "offer", "sdp", text);
    free(text);
    sdp_free(d);
    return j;
}

static void fwd_update(struct vr_subscriber *sub)
{
    atomic_store(&sub->fwd_on, sub->in_room && sub->pc_up && !sub->paused);
}

/* Keyframe requests for every video stream fed (room lock held). */
static void request_keyframes(struct vr *v, struct vr_subscriber *sub)
{
    for (size_t i = 0; i < sub->nss; i++)
        if (sub->ss[i]->feed && sub->ss[i]->d.kind == MJR_KIND_VIDEO)
            vr_feed_request_keyframe(v, sub->ss[i]->feed, sub->ss[i]->feed_mindex);
}

/* ---- requests ---- */

json_t *vr_sub_join(struct vr *v, struct vr_subscriber *sub, const json_t *feeds, json_t **offer,
                    struct vr_err *e)
{
    (void)v;
    sub->sdp_session = vr_random_id();
    if (streams_add(sub, feeds, e))
        return NULL;
    *offer = sub_offer(sub);
    if (!*offer) {
        vr_fail(e, VR_ERR_UNKNOWN, "Error generating the offer");
        return NULL;
    }
    return json_pack("{s:s, s:I, s:o}", "videoroom", "attached", "room", (json_int_t)sub->room->id,
                     "streams", vr_sub_streams_json(sub));
}

/* unsubscribe entries: {feed, mid?} or {sub_mid}. Returns how many streams stopped. */
static size_t streams_remove(struct vr_subscriber *sub, const json_t *list)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        uint64_t feed = vr_json_u64(item, "feed");
        const char *mid = json_string_value(json_object_get(item, "mid"));
        const char *sub_mid = json_string_value(json_object_get(item, "sub_mid"));
        for (size_t k = 0; k < sub->nss; k++) {
            struct vr_sub_stream *ss = sub->ss[k];
            if (!ss->feed)
                continue;
            const char *fmid = ss->feed->feed.streams[ss->feed_mindex].d.mid;
            bool hit = sub_mid ? strcmp(ss->d.mid, sub_mid) == 0
                               : ss->feed->id == feed && (!mid || strcmp(fmid, mid) == 0);
            if (hit) {
                stream_unfeed(ss);
                n++;
            }
        }
    }
    return n;
}

static json_t *updated_event(struct vr_subscriber *sub, json_t **jsep_out, struct vr_err *e)
{
    *jsep_out = sub_offer(sub);
    if (!*jsep_out) {
        vr_fail(e, VR_ERR_UNKNOWN, "Error generating the offer");
        return NULL;
    }
    return json_pack("{s:s, s:I, s:o}", "videoroom", "updated", "room", (json_int_t)sub->room->id,
                     "streams", vr_sub_streams_json(sub));
}

/* subscribe / unsubscribe / update: the streams change, then a new offer. */
static json_t *renegotiate(struct vr_subscriber *sub, const json_t *add, const json_t *remove,
                           json_t **jsep_out, struct vr_err *e)
{
    size_t n = 0;
    if (add && vr_subscription_check(sub->room, add, &n, e))
        return NULL;
    if (remove)
        streams_remove(sub, remove);
    if (add && streams_add(sub, add, e))
        return NULL;
    return updated_event(sub, jsep_out, e);
}

/* switch: streams [{feed, mid, sub_mid}] change source without renegotiating. */
static json_t *switch_streams(struct vr *v, struct vr_subscriber *sub, const json_t *list,
                              struct vr_err *e)
{
    static const struct vr_param params[] = {{"feed", GW_JSON_UINT, true},
                                             {"mid", GW_JSON_STRING, true},
                                             {"sub_mid", GW_JSON_STRING, true}};
    if (json_array_size(list) == 0) {
        vr_fail(e, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (streams)");
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(list); i++)
        if (VR_CHECK(json_array_get(list, i), params, e))
            return NULL;
    int changes = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        struct vr_participant *q = vr_room_find(sub->room, vr_json_u64(item, "feed"));
        const char *mid = json_string_value(json_object_get(item, "mid"));
        const char *sub_mid = json_string_value(json_object_get(item, "sub_mid"));
        struct vr_sub_stream *ss = NULL;
        for (size_t k = 0; k < sub->nss && !ss; k++)
            if (strcmp(sub->ss[k]->d.mid, sub_mid) == 0)
                ss = sub->ss[k];
        size_t fi = 0;
        while (q && fi < q->feed.nstreams &&
               !(q->feed.streams[fi].active && strcmp(q->feed.streams[fi].d.mid, mid) == 0))
            fi++;
        if (!q || !q->started || fi == q->feed.nstreams) {
            vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such feed (%" PRIu64 ")",
                    vr_json_u64(item, "feed"));
            return NULL;
        }
        if (!ss) {
            vr_fail(e, VR_ERR_INVALID_ELEMENT, "No such subscription mid '%s'", sub_mid);
            return NULL;
        }
        if (ss->d.kind != q->feed.streams[fi].d.kind ||
            strcmp(ss->d.codec, q->feed.streams[fi].d.codec) != 0) {
            vr_fail(e, VR_ERR_INVALID_ELEMENT, "Can't switch: codec or media type differ");
            return NULL;
        }
        if (ss->feed == q && ss->feed_mindex == (int)fi)
            continue;
        if (ss->feed)
            stream_unfeed(ss);
        stream_feed(ss, q, fi, item);
        if (ss->d.kind == MJR_KIND_VIDEO)
            vr_feed_request_keyframe(v, q, (int)fi);
        changes++;
    }
    return json_pack("{s:s, s:I, s:s, s:i, s:o}", "videoroom", "event", "room",
                     (json_int_t)sub->room->id, "switched", "ok", "changes", changes, "streams",
                     vr_sub_streams_json(sub));
}

/* configure: streams [{mid, send, substream, temporal}] (or send / substream / temporal at the
 * top level for every stream). */
static void configure_streams(struct vr_subscriber *sub, const json_t *body)
{
    const json_t *list = json_object_get(body, "streams");
    const json_t *all = json_object_get(body, "send");
    for (size_t k = 0; k < sub->nss; k++) {
        struct vr_sub_stream *ss = sub->ss[k];
        const json_t *send = all;
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *item = json_array_get(list, i);
            const char *mid = json_string_value(json_object_get(item, "mid"));
            if (mid && strcmp(mid, ss->d.mid) == 0 && json_object_get(item, "send"))
                send = json_object_get(item, "send");
        }
        const json_t *layers = /* top-level layers apply to every stream (legacy form) */
            json_object_get(body, "substream") || json_object_get(body, "temporal") ? body : NULL;
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *item = json_array_get(list, i);
            const char *mid = json_string_value(json_object_get(item, "mid"));
            if (mid && strcmp(mid, ss->d.mid) == 0)
                layers = item;
        }
        if ((!send && !layers) || !ss->feed)
            continue;
        int substream = -1, temporal = -1;
        if (layers)
            layers_wanted(layers, &substream, &temporal);
        struct vr_feed *f = &ss->feed->feed;
        pthread_mutex_lock(&f->lock);
        if (send)
            ss->send = json_is_true(send);
        gw_simulcast_set_target(&ss->sc, substream, temporal);
        pthread_mutex_unlock(&f->lock);
    }
}

static json_t *room_ok(const struct vr_subscriber *sub, const char *key)
{
    return json_pack("{s:s, s:I, s:s}", "videoroom", "event", "room", (json_int_t)sub->room->id,
                     key, "ok");
}

json_t *vr_sub_request(struct vr *v, struct vr_subscriber *sub, const char *request,
                       const json_t *body, const json_t *jsep, json_t **jsep_out, struct vr_err *e)
{
    (void)jsep;
    if (strcasecmp(request, "start") == 0) {
        sub->paused = false;
        fwd_update(sub);
        if (sub->pc_up)
            request_keyframes(v, sub);
        return room_ok(sub, "started");
    }
    if (strcasecmp(request, "pause") == 0) {
        sub->paused = true;
        fwd_update(sub);
        return room_ok(sub, "paused");
    }
    if (strcasecmp(request, "configure") == 0) {
        configure_streams(sub, body);
        return room_ok(sub, "configured");
    }
    if (strcasecmp(request, "switch") == 0)
        return switch_streams(v, sub, json_object_get(body, "streams"), e);
    const json_t *streams = json_object_get(body, "streams");
    if (strcasecmp(request, "subscribe") == 0 || strcasecmp(request, "unsubscribe") == 0) {
        if (json_array_size(streams) == 0) {
            vr_fail(e, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (streams)");
            return NULL;
        }
        bool add = strcasecmp(request, "subscribe") == 0;
        return renegotiate(sub, add ? streams : NULL, add ? NULL : streams, jsep_out, e);
    }
    if (strcasecmp(request, "update") == 0) {
        const json_t *add = json_object_get(body, "subscribe");
        const json_t *remove = json_object_get(body, "unsubscribe");
        if (json_array_size(add) == 0 && json_array_size(remove) == 0) {
            vr_fail(e, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (subscribe/unsubscribe)");
            return NULL;
        }
        return renegotiate(sub, json_array_size(add) ? add : NULL,
                           json_array_size(remove) ? remove : NULL, jsep_out, e);
    }
    vr_fail(e, VR_ERR_INVALID_REQUEST, "Unknown request '%s'", request);
    return NULL;
}

void vr_sub_clear(struct vr_subscriber *sub)
{
    for (size_t i = 0; i < sub->nss; i++) {
        stream_unfeed(sub->ss[i]);
        free(sub->ss[i]);
        sub->ss[i] = NULL;
    }
    sub->nss = 0;
    atomic_store(&sub->fwd_on, false);
}

void vr_sub_feed_gone(struct vr *v, struct vr_subscriber *sub)
{
    json_t *ev = NULL, *offer = NULL;
    pthread_mutex_lock(&sub->room->lock);
    size_t changes = 0;
    for (size_t i = 0; i < sub->nss; i++) {
        struct vr_sub_stream *ss = sub->ss[i];
        if (ss->feed && !ss->attached) {
            stream_unfeed(ss);
            changes++;
        }
    }
    if (changes && sub->in_room && sub->autoupdate) {
        struct vr_err e;
        ev = updated_event(sub, &offer, &e);
    }
    pthread_mutex_unlock(&sub->room->lock);
    const struct gw_plugin_callbacks *cb = vr_callbacks(v);
    if (ev && cb) {
        cb->push_event(sub->h, NULL, ev, offer);
    } else {
        json_decref(ev);
        json_decref(offer);
    }
}

void vr_sub_media_up(struct vr *v, struct vr_subscriber *sub)
{
    pthread_mutex_lock(&sub->room->lock);
    sub->pc_up = true;
    fwd_update(sub);
    if (sub->in_room)
        request_keyframes(v, sub);
    pthread_mutex_unlock(&sub->room->lock);
}

void vr_sub_incoming_rtcp(struct vr *v, struct vr_subscriber *sub, int mindex, const uint8_t *pkt,
                          size_t len)
{
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    bool keyframe = false;
    gw_rtcp_iter_init(&it, pkt, len);
    while (gw_rtcp_iter_next(&it, &b) == 1)
        keyframe = keyframe || b.kind == GW_RTCP_KIND_PLI || b.kind == GW_RTCP_KIND_FIR;
    if (!keyframe)
        return;
    pthread_mutex_lock(&sub->room->lock);
    for (size_t i = 0; i < sub->nss; i++)
        if (sub->ss[i]->mindex == mindex && sub->ss[i]->feed)
            vr_feed_request_keyframe(v, sub->ss[i]->feed, sub->ss[i]->feed_mindex);
    pthread_mutex_unlock(&sub->room->lock);
}
