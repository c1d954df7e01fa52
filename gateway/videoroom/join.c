/* This file implements the VideoRoom participants: the `join` and `joinandconfigure` requests
 * (as a publisher or a subscriber), a participant's JSON as other participants see it, its
 * removal from a room with the events Janus sends (unpublished, leaving, kicked), and what
 * happens when a handle goes away.
 *
 * DESIGN: a join runs on a worker thread. The room is looked up and referenced, the signed token
 * (if the room wants one) is checked with no lock held, then everything else happens under the
 * room's lock: pin, ACL, id conflicts, and the insertion, so two joins with the same id cannot
 * both succeed. The session is bound to the new participant under its own lock (taken inside the
 * room's), after checking the handle did not go away meanwhile. Events for the other
 * participants are pushed once the lock is released. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

static const struct vr_param room_params[] = {{"room", GW_JSON_UINT, true}};

void vr_participant_ref(struct vr_participant *p)
{
    atomic_fetch_add(&p->refs, 1);
}

void vr_streams_free(struct vr_stream *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].mid);
        free(st[i].description);
    }
    free(st);
}

void vr_participant_unref(struct vr_participant *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    vr_remote_release(p); /* a remote publisher's reader stops before its feed goes */
    vr_streams_free(p->streams, p->nstreams);
    vr_feed_destroy(&p->feed);
    pthread_mutex_destroy(&p->rec_lock);
    free(p->display);
    free(p->rec_base);
    gw_handle_unref(p->h);
    vr_room_unref(p->room);
    free(p);
}

void vr_subscriber_unref(struct vr_subscriber *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    gw_handle_unref(s->h);
    vr_room_unref(s->room);
    free(s);
}

struct vr_participant *vr_room_find(struct vr_room *r, uint64_t id)
{
    for (struct vr_participant *p = r->participants; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

void vr_room_notify_others(struct vr_room *r, const struct vr_participant *self, json_t *ev,
                           struct vr_outbox *o)
{
    for (struct vr_participant *q = r->participants; q; q = q->next)
        if (q != self)
            vr_outbox_add(o, q->h, json_deep_copy(ev));
    json_decref(ev);
}

/* {"videoroom":"event","room":R,<key>:<p's id>}, told to the others in the room. */
static void notify_about(struct vr_participant *p, const char *key, struct vr_outbox *o)
{
    struct vr_room *r = p->room;
    vr_room_notify_others(r, p,
                          json_pack("{s:s, s:I, s:I}", "videoroom", "event", "room",
                                    (json_int_t)r->id, key, (json_int_t)p->id),
                          o);
}

void vr_participant_stop_publishing(struct vr_participant *p, struct vr_outbox *o)
{
    if (p->started)
        notify_about(p, "unpublished", o);
    p->publishing = p->started = false;
    struct vr_subscriber **subs = NULL;
    size_t nsubs = 0;
    vr_feed_stop(p, &subs, &nsubs); /* recorders closed, subscribers detached */
    for (size_t i = 0; i < nsubs; i++) {
        vr_outbox_feed_gone(o, subs[i]);
        vr_subscriber_unref(subs[i]);
    }
    free(subs);
}

void vr_participant_remove(struct vr_participant *p, bool kicked, struct vr_outbox *o)
{
    struct vr_room *r = p->room;
    if (!p->in_room)
        return;
    vr_participant_stop_publishing(p, o);
    notify_about(p, kicked ? "kicked" : "leaving", o);
    for (struct vr_participant **pp = &r->participants; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    p->next = NULL;
    p->in_room = false;
    r->nparticipants--;
    vr_outbox_left(o, p);
    vr_participant_unref(p); /* the room list's */
}

/* What the media plane adds to a stream's entry, as Janus: Opus FEC, simulcast, and the talking
 * state where the audio-level extension was negotiated (then also on the publisher). Room lock
 * held; takes the feed's. */
static void stream_media_json(const struct vr_participant *p, const struct vr_stream *st, json_t *s,
                              json_t *pub)
{
    struct vr_feed *f = (struct vr_feed *)&p->feed;
    if (st->mindex < 0 || st->mindex >= VR_MAX_STREAMS)
        return;
    pthread_mutex_lock(&f->lock);
    const struct vr_feed_stream *fs = &f->streams[st->mindex];
    if (fs->active && strcmp(fs->d.codec, "opus") == 0 && strstr(fs->d.fmtp, "useinbandfec=1"))
        json_object_set_new(s, "fec", json_true());
    if (fs->active && fs->simulcast)
        json_object_set_new(s, "simulcast", json_true());
    if (fs->active && fs->ext_audio_level > 0) {
        json_object_set_new(s, "talking", json_boolean(fs->talking));
        json_t *now = json_object_get(pub, "talking");
        json_object_set_new(pub, "talking", json_boolean(fs->talking || json_is_true(now)));
    }
    pthread_mutex_unlock(&f->lock);
}

json_t *vr_participant_pub_streams(const struct vr_participant *p)
{
    json_t *pub = vr_participant_pub_json(p);
    json_t *streams = json_incref(json_object_get(pub, "streams"));
    json_decref(pub);
    return streams;
}

json_t *vr_participant_pub_json(const struct vr_participant *p)
{
    json_t *o = json_pack("{s:I}", "id", (json_int_t)p->id);
    if (p->display)
        json_object_set_new(o, "display", json_string(p->display));
    json_t *streams = json_array();
    for (size_t i = 0; i < p->nstreams; i++) {
        const struct vr_stream *st = &p->streams[i];
        json_t *s =
            json_pack("{s:s, s:i, s:s?}", "type", st->type, "mindex", st->mindex, "mid", st->mid);
        if (st->disabled) {
            json_object_set_new(s, "disabled", json_true());
        } else {
            if (st->description)
                json_object_set_new(s, "description", json_string(st->description));
            if (st->codec)
                json_object_set_new(s, "codec", json_string(st->codec));
            const char *legacy = strcmp(st->type, "audio") == 0   ? "audio_codec"
                                 : strcmp(st->type, "video") == 0 ? "video_codec"
                                                                  : NULL;
            if (legacy && st->codec && !json_object_get(o, legacy))
                json_object_set_new(o, legacy, json_string(st->codec));
            if (st->muted)
                json_object_set_new(s, "moderated", json_true());
            stream_media_json(p, st, s, o);
        }
        json_array_append_new(streams, s);
    }
    json_object_set_new(o, "streams", streams);
    return o;
}

struct vr_participant *vr_session_publisher(struct vr_session *s)
{
    pthread_mutex_lock(&s->lock);
    struct vr_participant *p = s->pub;
    if (p)
        vr_participant_ref(p);
    pthread_mutex_unlock(&s->lock);
    return p;
}

struct vr_subscriber *vr_session_subscriber(struct vr_session *s)
{
    pthread_mutex_lock(&s->lock);
    struct vr_subscriber *sub = s->sub;
    if (sub)
        atomic_fetch_add(&sub->refs, 1);
    pthread_mutex_unlock(&s->lock);
    return sub;
}

/* Looks the room up and runs join's room checks (Janus's order: room, destroyed, signed token,
 * pin). Returns the room referenced and LOCKED, or NULL (e filled). */
static struct vr_room *join_room(struct vr *v, const json_t *body, struct vr_err *e)
{
    uint64_t id = vr_json_u64(body, "room");
    struct vr_room *r = vr_rooms_get(&v->rooms, id);
    if (!r) {
        vr_fail(e, VR_ERR_NO_SUCH_ROOM, "No such room (%" PRIu64 ")", id);
        return NULL;
    }
    bool token_ok = true;
    if (r->set.signed_tokens && v->token_room_ok) { /* constant after creation */
        char room[32];
        snprintf(room, sizeof room, "%" PRIu64, id);
        token_ok =
            v->token_room_ok(v->token_ctx, json_string_value(json_object_get(body, "token")), room);
    }
    pthread_mutex_lock(&r->lock);
    int err = 0;
    if (r->destroyed)
        err = vr_fail(e, VR_ERR_NO_SUCH_ROOM, "No such room (%" PRIu64 ")", id);
    else if (!token_ok)
        err = vr_fail(e, VR_ERR_UNAUTHORIZED, "Unauthorized (wrong token)");
    else
        err = vr_secret_check(r->set.pin, body, "pin", e);
    if (err) {
        pthread_mutex_unlock(&r->lock);
        vr_room_unref(r);
        return NULL;
    }
    return r;
}

static int check_descriptions(const json_t *body, struct vr_err *e)
{
    static const struct vr_param desc_params[] = {{"mid", GW_JSON_STRING, true},
                                                  {"description", GW_JSON_STRING, true}};
    const json_t *d = json_object_get(body, "descriptions");
    for (size_t i = 0; i < json_array_size(d); i++)
        if (VR_CHECK(json_array_get(d, i), desc_params, e))
            return e->code;
    return 0;
}

/* Publisher checks before anything is created (room lock held). */
static int publisher_checks(struct vr_room *r, const json_t *body, const json_t *jsep,
                            struct vr_err *e)
{
    static const struct vr_param publisher_params[] = {
        {"display", GW_JSON_STRING, false},
        {"audio_active_packets", GW_JSON_UINT, false},
        {"audio_level_average", GW_JSON_UINT, false},
    };
    static const struct vr_param idopt[] = {{"id", GW_JSON_UINT, false}};
    if (VR_CHECK(body, publisher_params, e) || VR_CHECK(body, idopt, e) ||
        check_descriptions(body, e))
        return e->code;
    if (r->check_allowed &&
        !vr_room_allowed_has(r, json_string_value(json_object_get(body, "token"))))
        return vr_fail(e, VR_ERR_UNAUTHORIZED, "Unauthorized (not in the allowed list)");
    uint64_t id = vr_json_u64(body, "id");
    if (id && vr_room_find(r, id))
        return vr_fail(e, VR_ERR_ID_EXISTS, "User ID %" PRIu64 " already exists", id);
    if (!json_string_value(json_object_get(jsep, "sdp")))
        return 0;
    const char *ac = json_string_value(json_object_get(body, "audiocodec"));
    const char *vc = json_string_value(json_object_get(body, "videocodec"));
    int a = vr_audio_codec(ac), v = vr_video_codec(vc);
    bool a_ok = !ac, v_ok = !vc;
    for (int i = 0; i < VR_CODECS; i++) {
        a_ok = a_ok || (a >= 0 && r->set.acodec[i] == a);
        v_ok = v_ok || (v >= 0 && r->set.vcodec[i] == v);
    }
    if (!a_ok)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Audio codec unavailable in this room");
    if (!v_ok)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Video codec unavailable in this room");
    return 0;
}

static struct vr_participant *participant_new(struct vr *v, struct vr_room *r, struct gw_handle *h,
                                              const char *request, const json_t *body)
{
    struct vr_participant *p = xcalloc(1, sizeof *p);
    atomic_init(&p->refs, 1);
    vr_room_ref(r);
    p->room = r;
    gw_handle_ref(h);
    p->h = h;
    p->id = vr_json_u64(body, "id");
    while (p->id == 0 || vr_room_find(r, p->id))
        p->id = vr_random_id();
    do {
        p->pvt_id = vr_random_u32();
        for (struct vr_participant *q = r->participants; q && p->pvt_id; q = q->next)
            if (q->pvt_id == p->pvt_id)
                p->pvt_id = 0;
    } while (p->pvt_id == 0);
    const char *display = json_string_value(json_object_get(body, "display"));
    p->display = display ? xstrdup(display) : NULL;
    p->bitrate = r->set.bitrate;
    p->recording = v->record_all || r->set.record; /* its own switch from now on, as Janus */
    if (strcasecmp(request, "joinandconfigure") == 0) {
        const json_t *b = json_object_get(body, "bitrate");
        if (json_is_integer(b))
            p->bitrate = (uint32_t)json_integer_value(b);
        p->recording = p->recording || json_is_true(json_object_get(body, "record"));
        const char *file = json_string_value(json_object_get(body, "filename"));
        p->rec_base = file ? xstrdup(file) : NULL;
    }
    p->audio_active_packets = json_integer_value(json_object_get(body, "audio_active_packets"));
    p->audio_level_average = json_integer_value(json_object_get(body, "audio_level_average"));
    vr_feed_init(&p->feed);
    pthread_mutex_init(&p->rec_lock, NULL);
    atomic_init(&p->remb, p->bitrate);
    return p;
}

/* The `joined` event and the `joining` notices (room lock held). */
static json_t *joined_event(struct vr_room *r, struct vr_participant *p, struct vr_outbox *o)
{
    json_t *pubs = json_array();
    json_t *attendees = r->set.notify_joining ? json_array() : NULL;
    for (struct vr_participant *q = r->participants; q; q = q->next) {
        if (q == p)
            continue;
        if (q->started && q->nstreams > 0) {
            json_array_append_new(pubs, vr_participant_pub_json(q));
        } else if (attendees) {
            json_t *a = json_pack("{s:I}", "id", (json_int_t)q->id);
            if (q->display)
                json_object_set_new(a, "display", json_string(q->display));
            json_array_append_new(attendees, a);
        }
    }
    json_t *ev =
        json_pack("{s:s, s:I, s:s, s:I, s:I, s:o}", "videoroom", "joined", "room",
                  (json_int_t)r->id, "description", r->set.description, "id", (json_int_t)p->id,
                  "private_id", (json_int_t)p->pvt_id, "publishers", pubs);
    if (p->audio_active_packets)
        json_object_set_new(ev, "audio_active_packets", json_integer(p->audio_active_packets));
    if (p->audio_level_average)
        json_object_set_new(ev, "audio_level_average", json_integer(p->audio_level_average));
    if (attendees)
        json_object_set_new(ev, "attendees", attendees);
    if (r->set.notify_joining) {
        json_t *who = json_pack("{s:I}", "id", (json_int_t)p->id);
        if (p->display)
            json_object_set_new(who, "display", json_string(p->display));
        vr_room_notify_others(r, p,
                              json_pack("{s:s, s:I, s:o}", "videoroom", "event", "room",
                                        (json_int_t)r->id, "joining", who),
                              o);
    }
    return ev;
}

static json_t *join_publisher(struct vr *v, struct vr_session *s, struct vr_room *r,
                              const char *request, json_t *body, json_t *jsep, json_t **jsep_out,
                              struct vr_err *e, struct vr_outbox *o)
{
    if (publisher_checks(r, body, jsep, e))
        return NULL;
    struct vr_participant *p = participant_new(v, r, s->h, request, body);
    pthread_mutex_lock(&s->lock);
    if (s->destroyed) {
        pthread_mutex_unlock(&s->lock);
        vr_participant_unref(p);
        vr_fail(e, VR_ERR_UNKNOWN, "Session destroyed, invalidating new publisher");
        return NULL;
    }
    s->ptype = VR_PTYPE_PUBLISHER;
    vr_participant_ref(p);
    s->pub = p;
    pthread_mutex_unlock(&s->lock);
    struct vr_participant **tail = &r->participants;
    while (*tail)
        tail = &(*tail)->next;
    *tail = p; /* the room list takes our reference */
    p->in_room = true;
    r->nparticipants++;
    vr_rec_participant_joined(v, p); /* a catalog post: never blocks */
    json_t *ev = joined_event(r, p, o);
    /* joinandconfigure with an offer: publishing is decided now; a refusal replaces the
     * `joined` event but the participant stays in the room, as in Janus. */
    if (jsep && vr_publisher_offer(v, p, jsep, body, jsep_out, e)) {
        json_decref(ev);
        return NULL;
    }
    return ev;
}

/* Streams a subscription would get from `q` (room lock held): all, or the one with `mid`. */
static size_t feed_streams(const struct vr_participant *q, const char *mid)
{
    if (!mid)
        return q->nstreams;
    for (size_t i = 0; i < q->nstreams; i++)
        if (q->streams[i].mid && strcmp(q->streams[i].mid, mid) == 0)
            return 1;
    return 0;
}

static int layer_check(const json_t *s, struct vr_err *e)
{
    json_int_t sp = json_integer_value(json_object_get(s, "spatial_layer"));
    json_int_t ss = json_integer_value(json_object_get(s, "substream"));
    json_int_t tl = json_integer_value(json_object_get(s, "temporal_layer"));
    json_int_t tt = json_integer_value(json_object_get(s, "temporal"));
    if (sp < 0 || sp > 2 || ss < 0 || ss > 2)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid value (substream/spatial_layer should be 0, 1 or 2)");
    if (tl < 0 || tl > 2 || tt < 0 || tt > 2)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid value (temporal/temporal_layer should be 0, 1 or 2)");
    return 0;
}

int vr_subscription_check(struct vr_room *r, const json_t *feeds, size_t *nstreams,
                          struct vr_err *e)
{
    static const struct vr_param stream_params[] = {{"mid", GW_JSON_STRING, false}};
    static const struct vr_param feed_params[] = {{"feed", GW_JSON_UINT, true}};
    *nstreams = 0;
    for (size_t i = 0; i < json_array_size(feeds); i++) {
        const json_t *s = json_array_get(feeds, i);
        if (VR_CHECK(s, stream_params, e) || VR_CHECK(s, feed_params, e))
            return e->code;
        uint64_t feed = vr_json_u64(s, "feed");
        struct vr_participant *q = vr_room_find(r, feed);
        if (!q || !q->started)
            return vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such feed (%" PRIu64 ")", feed);
        const char *mid = json_string_value(json_object_get(s, "mid"));
        if (mid && feed_streams(q, mid) == 0)
            return vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such mid '%s' in feed (%" PRIu64 ")", mid,
                           feed);
        if (layer_check(s, e))
            return e->code;
        *nstreams += feed_streams(q, mid);
    }
    return 0;
}

/* A subscriber bound to the session, with its streams and offer (room lock held). */
static json_t *subscriber_new(struct vr *v, struct vr_session *s, struct vr_room *r,
                              const json_t *body, const json_t *feeds, json_t **offer,
                              struct vr_err *e)
{
    struct vr_subscriber *sub = xcalloc(1, sizeof *sub);
    atomic_init(&sub->refs, 1);
    vr_room_ref(r);
    sub->room = r;
    gw_handle_ref(s->h);
    sub->h = s->h;
    sub->pvt_id = (uint32_t)vr_json_u64(body, "private_id");
    const json_t *au = json_object_get(body, "autoupdate");
    sub->autoupdate = !json_is_false(au);
    sub->in_room = true;
    atomic_init(&sub->fwd_on, false);
    json_t *ev = vr_sub_join(v, sub, feeds, offer, e);
    pthread_mutex_lock(&s->lock);
    bool gone = s->destroyed;
    if (ev && !gone) {
        s->ptype = VR_PTYPE_SUBSCRIBER;
        s->sub = sub; /* the session takes our reference */
        sub = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (sub) { /* failed, or the handle went away meanwhile */
        if (ev && gone)
            vr_fail(e, VR_ERR_UNKNOWN, "Session destroyed, invalidating new subscriber");
        if (gone) {
            json_decref(ev);
            json_decref(*offer);
            ev = NULL;
            *offer = NULL;
        }
        sub->in_room = false;
        vr_sub_clear(sub);
        vr_subscriber_unref(sub);
    }
    return ev;
}

static json_t *join_subscriber(struct vr *v, struct vr_session *s, struct vr_room *r, json_t *body,
                               json_t **offer, struct vr_err *e)
{
    static const struct vr_param subscriber_params[] = {{"private_id", GW_JSON_UINT, false},
                                                        {"close_pc", GW_JSON_BOOL, false},
                                                        {"streams", GW_JSON_ARRAY, false}};
    static const struct vr_param feed_params[] = {{"feed", GW_JSON_UINT, true}};
    if (VR_CHECK(body, subscriber_params, e))
        return NULL;
    json_t *feeds = json_object_get(body, "streams");
    json_t *legacy = NULL;
    if (json_array_size(feeds) == 0) {
        if (VR_CHECK(body, feed_params, e))
            return NULL;
        legacy = json_pack("[{s:I}]", "feed", (json_int_t)vr_json_u64(body, "feed"));
        feeds = legacy;
    }
    size_t nstreams = 0;
    json_t *ev = NULL;
    uint64_t pvt = vr_json_u64(body, "private_id");
    bool owner = false;
    for (struct vr_participant *q = r->participants; q && pvt; q = q->next)
        owner = owner || q->pvt_id == pvt;
    if (vr_subscription_check(r, feeds, &nstreams, e))
        goto out;
    if (r->set.require_pvtid && !owner) {
        vr_fail(e, VR_ERR_UNAUTHORIZED, "Unauthorized (this room requires a valid private_id)");
        goto out;
    }
    if (nstreams == 0) { /* every publisher is live but has no stream yet */
        vr_fail(e, VR_ERR_INVALID_SDP, "Can't offer an SDP with no stream");
        goto out;
    }
    ev = subscriber_new(v, s, r, body, feeds, offer, e);
out:
    json_decref(legacy);
    return ev;
}

json_t *vr_async_join(struct vr *v, struct vr_session *s, const char *request, json_t *body,
                      json_t *jsep, json_t **jsep_out, struct vr_outbox *o)
{
    static const struct vr_param join_params[] = {
        {"ptype", GW_JSON_STRING, true},     {"audio", GW_JSON_BOOL, false},
        {"video", GW_JSON_BOOL, false},      {"data", GW_JSON_BOOL, false},
        {"bitrate", GW_JSON_UINT, false},    {"record", GW_JSON_BOOL, false},
        {"filename", GW_JSON_STRING, false}, {"token", GW_JSON_STRING, false},
    };
    *jsep_out = NULL;
    struct vr_err e = {0};
    if (VR_CHECK(body, room_params, &e) || VR_CHECK(body, join_params, &e))
        return vr_err_json(&e);
    struct vr_room *r = join_room(v, body, &e);
    if (!r)
        return vr_err_json(&e);
    json_t *ev = NULL;
    const char *ptype = json_string_value(json_object_get(body, "ptype"));
    if (strcasecmp(ptype, "publisher") == 0)
        ev = join_publisher(v, s, r, request, body, jsep, jsep_out, &e, o);
    else if (strcasecmp(ptype, "subscriber") == 0)
        ev = join_subscriber(v, s, r, body, jsep_out, &e);
    else
        vr_fail(&e, VR_ERR_INVALID_ELEMENT, "Invalid element (ptype)");
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, o);
    vr_room_unref(r);
    struct vr_participant *p = *jsep_out ? vr_session_publisher(s) : NULL;
    if (p) /* joinandconfigure with an offer: the recorders open now */
        vr_feed_rec_update(v, p);
    vr_participant_unref(p);
    return ev ? ev : vr_err_json(&e);
}

void vr_session_gone(struct vr *v, struct vr_session *s)
{
    pthread_mutex_lock(&s->lock);
    s->destroyed = true;
    struct vr_participant *p = s->pub;
    struct vr_subscriber *sub = s->sub;
    s->pub = NULL;
    s->sub = NULL;
    pthread_mutex_unlock(&s->lock);
    if (p) {
        struct vr_outbox o = {0};
        pthread_mutex_lock(&p->room->lock);
        vr_participant_remove(p, false, &o);
        pthread_mutex_unlock(&p->room->lock);
        vr_outbox_flush(v, &o);
        vr_participant_unref(p);
    }
    if (sub) {
        pthread_mutex_lock(&sub->room->lock);
        sub->in_room = false;
        vr_sub_clear(sub);
        pthread_mutex_unlock(&sub->room->lock);
        vr_subscriber_unref(sub);
    }
}
