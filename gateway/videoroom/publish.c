/* This file implements what a joined handle asks afterwards: a publisher's configure, publish,
 * unpublish and leave; a subscriber's start, pause, configure and leave; and the media state
 * changes the core reports (PeerConnection up, hung up), with Janus 1.1.2's replies and errors.
 *
 * DESIGN: the publishers limit is a slot taken when a publisher's SDP offer is accepted
 * (`publishing`), counted under the room's lock, so it is exact whatever the concurrency; it is
 * released by unpublish, hangup, leave, kick, or the handle going away. Janus counts live
 * PeerConnections at offer time instead, which lets two simultaneous offers overshoot. The SDP
 * answer, the streams and the subscriptions' offers are the media layer's: where they go, the
 * code says so. A participant is live (`started`) once its PeerConnection is up: only then do
 * the others hear about it (`publishers`, and `unpublished` when it stops). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

static json_t *room_event(const struct vr_room *r, const char *key, const char *value)
{
    return json_pack("{s:s, s:I, s:s}", "videoroom", "event", "room", (json_int_t)r->id, key,
                     value);
}

static void announce(struct vr_room *r, struct vr_participant *p, struct vr_outbox *o)
{
    vr_room_notify_others(r, p,
                          json_pack("{s:s, s:I, s:[o]}", "videoroom", "event", "room",
                                    (json_int_t)r->id, "publishers", vr_participant_pub_json(p)),
                          o);
}

int vr_publisher_offer(struct vr *v, struct vr_participant *p, const json_t *jsep,
                       const json_t *body, json_t **answer, struct vr_err *e)
{
    struct vr_room *r = p->room;
    const char *type = json_string_value(json_object_get(jsep, "type"));
    if (!type || strcasecmp(type, "offer") != 0) {
        if (type && strcasecmp(type, "answer") == 0)
            return vr_fail(e, VR_ERR_INVALID_SDP_TYPE, "Only subscribers send answers");
        return vr_fail(e, VR_ERR_INVALID_SDP_TYPE, "Unknown SDP type '%s'", type ? type : "");
    }
    bool update = json_is_true(json_object_get(jsep, "update"));
    if (!update && !p->publishing) {
        int count = 0;
        for (struct vr_participant *q = r->participants; q; q = q->next)
            count += q != p && q->publishing;
        if (count >= r->set.max_publishers)
            return vr_fail(e, VR_ERR_PUBLISHERS_FULL,
                           "Maximum number of publishers (%d) already reached",
                           r->set.max_publishers);
    }
    if (r->set.require_e2ee && !json_is_true(json_object_get(jsep, "e2ee")))
        return vr_fail(e, VR_ERR_UNAUTHORIZED, "Room requires end-to-end encrypted media");
    if (vr_feed_negotiate(v, p, jsep, body, answer, e))
        return e->code;
    p->publishing = true;
    return 0;
}

/* Recording changes (lock_record needs the secret, a wrong one is silently ignored). */
static void configure_recording(struct vr *v, struct vr_participant *p, const json_t *body)
{
    struct vr_room *r = p->room;
    const json_t *record = json_object_get(body, "record");
    const json_t *file = json_object_get(body, "filename");
    if (!record && !file)
        return;
    struct vr_err e;
    if (r->set.lock_record && r->set.secret && vr_secret_check(r->set.secret, body, "secret", &e))
        return;
    if (record)
        p->recording = json_is_true(record) || v->record_all;
    if (file) {
        free(p->rec_base);
        p->rec_base = xstrdup(json_string_value(file));
    }
}

static void configure_display(struct vr_participant *p, const json_t *body, struct vr_outbox *o)
{
    const char *display = json_string_value(json_object_get(body, "display"));
    if (!display)
        return;
    char *old = p->display;
    p->display = xstrdup(display);
    if (old) /* Janus tells the others only about a change, not a first name */
        vr_room_notify_others(p->room, p,
                              json_pack("{s:s, s:I, s:s}", "videoroom", "event", "id",
                                        (json_int_t)p->id, "display", p->display),
                              o);
    free(old);
}

/* SDP-less description updates, announced when something changed on a live publisher. */
static void configure_descriptions(struct vr_participant *p, const json_t *body, const json_t *jsep,
                                   struct vr_outbox *o)
{
    const json_t *d = json_object_get(body, "descriptions");
    if (json_array_size(d) == 0 || json_string_value(json_object_get(jsep, "sdp")))
        return;
    bool changed = false;
    for (size_t i = 0; i < json_array_size(d); i++) {
        const char *mid = json_string_value(json_object_get(json_array_get(d, i), "mid"));
        const char *text = json_string_value(json_object_get(json_array_get(d, i), "description"));
        for (size_t k = 0; mid && text && k < p->nstreams; k++) {
            if (p->streams[k].mid && strcmp(p->streams[k].mid, mid) == 0) {
                free(p->streams[k].description);
                p->streams[k].description = xstrdup(text);
                changed = true;
            }
        }
    }
    if (changed && p->started)
        announce(p->room, p, o);
}

static int configure_checks(struct vr_participant *p, const json_t *body, const json_t *jsep,
                            struct vr_err *e)
{
    static const struct vr_param publish_params[] = {
        {"descriptions", GW_JSON_ARRAY, false},
        {"audiocodec", GW_JSON_STRING, false},
        {"videocodec", GW_JSON_STRING, false},
        {"bitrate", GW_JSON_UINT, false},
        {"keyframe", GW_JSON_BOOL, false},
        {"record", GW_JSON_BOOL, false},
        {"filename", GW_JSON_STRING, false},
        {"display", GW_JSON_STRING, false},
        {"secret", GW_JSON_STRING, false},
        {"audio_level_averge", GW_JSON_UINT, false},
        {"audio_active_packets", GW_JSON_UINT, false},
        {"mid", GW_JSON_STRING, false},
        {"send", GW_JSON_BOOL, false},
        {"min_delay", GW_JSON_INT, false},
        {"max_delay", GW_JSON_INT, false},
        {"audio", GW_JSON_BOOL, false},
        {"video", GW_JSON_BOOL, false},
        {"data", GW_JSON_BOOL, false},
        {"update", GW_JSON_BOOL, false},
        {"restart", GW_JSON_BOOL, false},
    };
    static const struct vr_param desc_params[] = {{"mid", GW_JSON_STRING, true},
                                                  {"description", GW_JSON_STRING, true}};
    if (p->kicked)
        return vr_fail(e, VR_ERR_UNAUTHORIZED, "Unauthorized, you have been kicked");
    if (VR_CHECK(body, publish_params, e))
        return e->code;
    const json_t *d = json_object_get(body, "descriptions");
    for (size_t i = 0; i < json_array_size(d); i++)
        if (VR_CHECK(json_array_get(d, i), desc_params, e))
            return e->code;
    if (!json_string_value(json_object_get(jsep, "sdp")))
        return 0;
    const struct vr_room_settings *s = &p->room->set;
    const char *ac = json_string_value(json_object_get(body, "audiocodec"));
    const char *vc = json_string_value(json_object_get(body, "videocodec"));
    int a = vr_audio_codec(ac), v = vr_video_codec(vc);
    bool a_ok = !ac, v_ok = !vc;
    for (int i = 0; i < VR_CODECS; i++) {
        a_ok = a_ok || (a >= 0 && s->acodec[i] == a);
        v_ok = v_ok || (v >= 0 && s->vcodec[i] == v);
    }
    if (!a_ok)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Audio codec unavailable in this room");
    if (!v_ok)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Video codec unavailable in this room");
    return 0;
}

static json_t *publisher_configure(struct vr *v, struct vr_participant *p, json_t *body,
                                   json_t *jsep, json_t **jsep_out, struct vr_err *e,
                                   struct vr_outbox *o)
{
    if (configure_checks(p, body, jsep, e))
        return NULL;
    const json_t *b = json_object_get(body, "bitrate");
    if (b) {
        p->bitrate = (uint32_t)json_integer_value(b);
        atomic_store(&p->remb, p->bitrate); /* feed.c sends it as REMB */
    }
    if (json_object_get(body, "audio_active_packets"))
        p->audio_active_packets = json_integer_value(json_object_get(body, "audio_active_packets"));
    if (json_object_get(body, "audio_level_average"))
        p->audio_level_average = json_integer_value(json_object_get(body, "audio_level_average"));
    configure_recording(v, p, body);
    configure_display(p, body, o);
    configure_descriptions(p, body, jsep, o);
    if (jsep && vr_publisher_offer(v, p, jsep, body, jsep_out, e))
        return NULL;
    json_t *ev = room_event(p->room, "configured", "ok");
    if (*jsep_out) { /* as Janus: the negotiated codecs, then the streams */
        json_t *pub = vr_participant_pub_json(p);
        static const char *const keys[] = {"audio_codec", "video_codec", "streams"};
        for (size_t i = 0; i < 3; i++)
            if (json_object_get(pub, keys[i]))
                json_object_set(ev, keys[i], json_object_get(pub, keys[i]));
        json_decref(pub);
    }
    if (json_is_true(json_object_get(body, "keyframe")))
        vr_feed_request_keyframes(v, p);
    return ev;
}

/* Releases the publisher slot and the streams; the others hear `unpublished` when it was live. */
static void unpublish(struct vr_participant *p, struct vr_outbox *o)
{
    vr_participant_stop_publishing(p, o);
    vr_streams_free(p->streams, p->nstreams);
    p->streams = NULL;
    p->nstreams = 0;
}

static json_t *publisher_request(struct vr *v, struct vr_participant *p, const char *request,
                                 json_t *body, json_t *jsep, json_t **jsep_out, struct vr_err *e,
                                 struct vr_outbox *o)
{
    bool join = strcasecmp(request, "join") == 0 || strcasecmp(request, "joinandconfigure") == 0;
    if (!p->in_room) {
        if (join)
            vr_fail(e, VR_ERR_ALREADY_JOINED, "Not in a room (create a new handle)");
        else
            vr_fail(e, VR_ERR_NO_SUCH_ROOM, "No such room");
        return NULL;
    }
    if (join) {
        vr_fail(e, VR_ERR_ALREADY_JOINED, "Already in as a publisher on this handle");
        return NULL;
    }
    bool publish = strcasecmp(request, "publish") == 0;
    if (publish || strcasecmp(request, "configure") == 0) {
        if (publish && (p->started || p->publishing)) {
            vr_fail(e, VR_ERR_ALREADY_PUBLISHED, "Can't publish, already published");
            return NULL;
        }
        return publisher_configure(v, p, body, jsep, jsep_out, e, o);
    }
    if (strcasecmp(request, "unpublish") == 0) {
        if (!p->started && !p->publishing) {
            vr_fail(e, VR_ERR_NOT_PUBLISHED, "Can't unpublish, not published");
            return NULL;
        }
        unpublish(p, o);
        vr_outbox_close(o, p->h);
        return room_event(p->room, "unpublished", "ok");
    }
    if (strcasecmp(request, "leave") == 0) {
        json_t *ev = room_event(p->room, "leaving", "ok");
        if (p->publishing || p->started)
            vr_outbox_close(o, p->h);
        vr_participant_remove(p, false, o);
        return ev;
    }
    vr_fail(e, VR_ERR_INVALID_REQUEST, "Unknown request '%s'", request);
    return NULL;
}

json_t *vr_async_publisher(struct vr *v, struct vr_session *s, struct vr_participant *p,
                           const char *request, json_t *body, json_t *jsep, json_t **jsep_out,
                           struct vr_outbox *o)
{
    (void)s;
    *jsep_out = NULL;
    struct vr_err e = {0};
    pthread_mutex_lock(&p->room->lock);
    json_t *ev = publisher_request(v, p, request, body, jsep, jsep_out, &e, o);
    pthread_mutex_unlock(&p->room->lock);
    return ev ? ev : vr_err_json(&e);
}

static json_t *subscriber_request(struct vr *v, struct vr_subscriber *sub, const char *request,
                                  json_t *body, json_t *jsep, json_t **jsep_out, struct vr_err *e,
                                  struct vr_outbox *o)
{
    const struct vr_room *r = sub->room;
    if (strcasecmp(request, "join") == 0) {
        vr_fail(e, VR_ERR_ALREADY_JOINED, "Already in as a subscriber on this handle");
        return NULL;
    }
    if (!sub->in_room || r->destroyed) {
        vr_fail(e, VR_ERR_NO_SUCH_ROOM, "No such room");
        return NULL;
    }
    if (strcasecmp(request, "leave") == 0) {
        sub->in_room = false;
        vr_sub_clear(sub);
        vr_outbox_close(o, sub->h);
        return room_event(r, "left", "ok");
    }
    return vr_sub_request(v, sub, request, body, jsep, jsep_out, e);
}

json_t *vr_async_subscriber(struct vr *v, struct vr_session *s, struct vr_subscriber *sub,
                            const char *request, json_t *body, json_t *jsep, json_t **jsep_out,
                            struct vr_outbox *o)
{
    (void)s;
    *jsep_out = NULL;
    struct vr_err e = {0};
    pthread_mutex_lock(&sub->room->lock);
    json_t *ev = subscriber_request(v, sub, request, body, jsep, jsep_out, &e, o);
    pthread_mutex_unlock(&sub->room->lock);
    return ev ? ev : vr_err_json(&e);
}

void vr_session_hangup(struct vr *v, struct vr_session *s)
{
    struct vr_subscriber *sub = vr_session_subscriber(s);
    if (sub) { /* its streams stay: a new negotiation (configure restart) may follow */
        pthread_mutex_lock(&sub->room->lock);
        sub->pc_up = false;
        atomic_store(&sub->fwd_on, false);
        pthread_mutex_unlock(&sub->room->lock);
        vr_subscriber_unref(sub);
    }
    struct vr_participant *p = vr_session_publisher(s);
    if (!p)
        return;
    struct vr_outbox o = {0};
    pthread_mutex_lock(&p->room->lock);
    if (p->in_room)
        unpublish(p, &o);
    pthread_mutex_unlock(&p->room->lock);
    vr_outbox_flush(v, &o);
    vr_participant_unref(p);
}

void vr_session_media_up(struct vr *v, struct vr_session *s)
{
    struct vr_subscriber *sub = vr_session_subscriber(s);
    if (sub) {
        vr_sub_media_up(v, sub);
        vr_subscriber_unref(sub);
    }
    struct vr_participant *p = vr_session_publisher(s);
    if (!p)
        return;
    struct vr_outbox o = {0};
    pthread_mutex_lock(&p->room->lock);
    if (p->in_room && p->publishing && !p->started) {
        p->started = true;
        announce(p->room, p, &o);
    }
    pthread_mutex_unlock(&p->room->lock);
    vr_outbox_flush(v, &o);
    vr_feed_request_keyframes(v, p); /* recordings and subscribers start on a keyframe */
    vr_participant_unref(p);
}

int vr_publisher_set_streams(struct vr *v, struct gw_handle *h, const struct vr_stream *st,
                             size_t n)
{
    struct vr_session *s = vr_session_get(v, h);
    struct vr_participant *p = s ? vr_session_publisher(s) : NULL;
    vr_session_unref(s);
    if (!p)
        return -ENOENT;
    struct vr_stream *copy = xcalloc(n ? n : 1, sizeof *copy);
    for (size_t i = 0; i < n; i++) {
        copy[i] = st[i];
        copy[i].mid = st[i].mid ? xstrdup(st[i].mid) : NULL;
        copy[i].description = st[i].description ? xstrdup(st[i].description) : NULL;
    }
    pthread_mutex_lock(&p->room->lock);
    struct vr_stream *old = p->streams;
    size_t nold = p->nstreams;
    p->streams = copy;
    p->nstreams = n;
    pthread_mutex_unlock(&p->room->lock);
    vr_streams_free(old, nold);
    vr_participant_unref(p);
    return 0;
}
