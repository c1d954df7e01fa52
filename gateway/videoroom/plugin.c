/* This file implements the VideoRoom plugin's vtable and context: creating and destroying the
 * context (rooms from the configuration and the rooms file, worker threads), the per-handle
 * sessions, message routing (synchronous replies, asynchronous requests queued to the workers,
 * Janus's errors for everything else), the Admin API's message_plugin, handle_info's
 * plugin-specific part, and the media hooks.
 *
 * DESIGN: the core passes each hook the handle and the state pointer set at attach, but a
 * message may still be running on an HTTP thread while the handle is detached on another. So
 * the state pointer is never trusted: the session is looked up by handle in a map, under a
 * lock, and referenced for the duration of the call (as Janus's sessions table). destroy_session
 * unlinks it first, so nothing new finds it, then leaves the room. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

static const struct vr_param request_params[] = {{"request", GW_JSON_STRING, true}};
static const char *const async_requests[] = {
    "join",  "joinandconfigure", "update",    "configure",   "publish", "unpublish", "start",
    "pause", "switch",           "subscribe", "unsubscribe", "leave",
};

const struct gw_plugin_callbacks *vr_callbacks(struct vr *v)
{
    return atomic_load_explicit(&v->cb, memory_order_acquire); /* per packet: no lock */
}

/* ---- sessions ---- */

static struct vr_session **bucket_of(struct vr *v, const struct gw_handle *h)
{
    return &v->sessions.buckets[((uintptr_t)h >> 4) % VR_SESSION_BUCKETS];
}

struct vr_session *vr_session_get(struct vr *v, struct gw_handle *h)
{
    pthread_mutex_lock(&v->sessions.lock);
    struct vr_session *s = *bucket_of(v, h);
    while (s && s->h != h)
        s = s->next;
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&v->sessions.lock);
    return s;
}

void vr_session_unref(struct vr_session *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    vr_participant_unref(s->pub);
    vr_subscriber_unref(s->sub);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int vr_create_session(void *ctx, const struct gw_plugin_callbacks *cb, struct gw_handle *h,
                             void **state)
{
    struct vr *v = ctx;
    atomic_store_explicit(&v->cb, cb, memory_order_release);
    struct vr_session *s = xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1); /* the map's */
    s->h = h;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_lock(&v->sessions.lock);
    s->next = *bucket_of(v, h);
    *bucket_of(v, h) = s;
    pthread_mutex_unlock(&v->sessions.lock);
    *state = s;
    return 0;
}

static struct vr_session *session_unlink(struct vr *v, struct gw_handle *h)
{
    pthread_mutex_lock(&v->sessions.lock);
    struct vr_session *found = NULL;
    for (struct vr_session **pp = bucket_of(v, h); *pp; pp = &(*pp)->next) {
        if ((*pp)->h == h) {
            found = *pp;
            *pp = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&v->sessions.lock);
    return found;
}

static void vr_destroy_session(void *ctx, struct gw_handle *h, void *state)
{
    (void)state;
    struct vr *v = ctx;
    struct vr_session *s = session_unlink(v, h);
    if (!s)
        return;
    vr_session_gone(v, s);
    vr_session_unref(s);
}

/* ---- messages ---- */

static bool is_async(const char *request)
{
    for (size_t i = 0; i < sizeof async_requests / sizeof async_requests[0]; i++)
        if (strcasecmp(async_requests[i], request) == 0)
            return true;
    return false;
}

/* Queues an asynchronous request; takes over the reference on `s`. 0 or the error. */
static int enqueue(struct vr *v, struct vr_session *s, struct gw_handle *h, const char *transaction,
                   json_t *body, json_t *jsep, struct vr_err *e)
{
    struct vr_msg *m = xcalloc(1, sizeof *m);
    m->s = s;
    gw_handle_ref(h);
    m->h = h;
    m->transaction = transaction ? xstrdup(transaction) : NULL;
    m->body = json_deep_copy(body);
    m->jsep = jsep ? json_deep_copy(jsep) : NULL;
    if (vr_workers_push(v, m) < 0) {
        vr_msg_free(m);
        return vr_fail(e, VR_ERR_UNKNOWN, "Too many pending requests");
    }
    return 0;
}

static int vr_handle_message(void *ctx, struct gw_handle *h, void *state, const char *transaction,
                             json_t *body, json_t *jsep, json_t **result)
{
    (void)state;
    struct vr *v = ctx;
    struct vr_err e = {0};
    struct vr_session *s = vr_session_get(v, h);
    if (!s) {
        vr_fail(&e, VR_ERR_UNKNOWN, "No session associated with this handle...");
        goto out_sync;
    }
    pthread_mutex_lock(&s->lock);
    bool destroyed = s->destroyed;
    pthread_mutex_unlock(&s->lock);
    if (destroyed) {
        vr_fail(&e, VR_ERR_UNKNOWN, "Session has already been marked as destroyed...");
        goto out_sync;
    }
    if (!body) {
        vr_fail(&e, VR_ERR_NO_MESSAGE, "No message??");
        goto out_sync;
    }
    if (!json_is_object(body)) {
        vr_fail(&e, VR_ERR_INVALID_JSON, "JSON error: not an object");
        goto out_sync;
    }
    if (VR_CHECK(body, request_params, &e))
        goto out_sync;
    const char *request = json_string_value(json_object_get(body, "request"));
    json_t *reply = vr_sync_request(v, request, body);
    if (reply) {
        vr_session_unref(s);
        *result = reply;
        return GW_PLUGIN_SYNC;
    }
    if (is_async(request)) {
        struct vr_session *taken = s;
        s = NULL;
        if (enqueue(v, taken, h, transaction, body, jsep, &e))
            goto out_sync;
        return GW_PLUGIN_ASYNC;
    }
    vr_fail(&e, VR_ERR_INVALID_REQUEST, "Unknown request '%s'", request);
out_sync:
    vr_session_unref(s);
    *result = vr_err_json(&e);
    return GW_PLUGIN_SYNC;
}

static int vr_handle_admin_message(void *ctx, json_t *request, json_t **result)
{
    struct vr *v = ctx;
    struct vr_err e = {0};
    if (!VR_CHECK(request, request_params, &e)) {
        const char *name = json_string_value(json_object_get(request, "request"));
        json_t *reply = vr_sync_request(v, name, request);
        if (reply) {
            *result = reply;
            return 0;
        }
        vr_fail(&e, VR_ERR_INVALID_REQUEST, "Unknown request '%s'", name);
    }
    *result = vr_err_json(&e);
    return 0;
}

/* ---- media hooks and handle_info ---- */

static void vr_setup_media(void *ctx, struct gw_handle *h, void *state)
{
    (void)state;
    struct vr *v = ctx;
    struct vr_session *s = vr_session_get(v, h);
    if (s)
        vr_session_media_up(v, s);
    vr_session_unref(s);
}

static void vr_hangup_media(void *ctx, struct gw_handle *h, void *state)
{
    (void)state;
    struct vr *v = ctx;
    struct vr_session *s = vr_session_get(v, h);
    if (s)
        vr_session_hangup(v, s);
    vr_session_unref(s);
}

/* The media hooks run between the core's hook guard: the session (state) stays valid, and so
 * does its participant or subscriber (set once at join, dropped only at destroy_session). */
static void session_roles(void *state, struct vr_participant **p, struct vr_subscriber **sub)
{
    struct vr_session *s = state;
    pthread_mutex_lock(&s->lock);
    *p = s->pub;
    *sub = s->sub;
    pthread_mutex_unlock(&s->lock);
}

static void vr_incoming_rtp(void *ctx, struct gw_handle *h, void *state, int mindex, bool video,
                            const uint8_t *pkt, size_t len)
{
    (void)h, (void)video;
    struct vr_participant *p;
    struct vr_subscriber *sub;
    session_roles(state, &p, &sub);
    if (p)
        vr_feed_incoming_rtp(ctx, p, mindex, pkt, len);
}

static void vr_incoming_rtcp(void *ctx, struct gw_handle *h, void *state, int mindex, bool video,
                             const uint8_t *pkt, size_t len)
{
    (void)h, (void)video;
    struct vr_participant *p;
    struct vr_subscriber *sub;
    session_roles(state, &p, &sub);
    if (p)
        vr_feed_incoming_rtcp(ctx, p, mindex, pkt, len);
    else if (sub)
        vr_sub_incoming_rtcp(ctx, sub, mindex, pkt, len);
}

static void publisher_info(json_t *info, struct vr_participant *p)
{
    json_object_set_new(info, "type", json_string("publisher"));
    pthread_mutex_lock(&p->room->lock);
    if (p->in_room) {
        json_object_set_new(info, "room", json_integer((json_int_t)p->room->id));
        json_object_set_new(info, "id", json_integer((json_int_t)p->id));
        json_object_set_new(info, "private_id", json_integer(p->pvt_id));
        if (p->display)
            json_object_set_new(info, "display", json_string(p->display));
        json_object_set_new(info, "bitrate", json_integer(p->bitrate));
        json_object_set_new(info, "streams", vr_participant_pub_streams(p));
    }
    pthread_mutex_unlock(&p->room->lock);
    json_t *media = json_array(); /* per stream: recording, file, counters */
    vr_feed_info(p, media);
    if (json_array_size(media))
        json_object_set_new(info, "media", media);
    else
        json_decref(media);
}

static void subscriber_info(json_t *info, struct vr_subscriber *sub)
{
    json_object_set_new(info, "type", json_string("subscriber"));
    pthread_mutex_lock(&sub->room->lock);
    if (sub->in_room) {
        json_object_set_new(info, "room", json_integer((json_int_t)sub->room->id));
        json_object_set_new(info, "private_id", json_integer(sub->pvt_id));
        json_object_set_new(info, "paused", json_boolean(sub->paused));
        json_object_set_new(info, "streams", vr_sub_streams_json(sub));
    }
    pthread_mutex_unlock(&sub->room->lock);
}

static json_t *vr_query_session(void *ctx, struct gw_handle *h, void *state)
{
    (void)state;
    struct vr *v = ctx;
    struct vr_session *s = vr_session_get(v, h);
    if (!s)
        return NULL;
    json_t *info = json_object();
    struct vr_participant *p = vr_session_publisher(s);
    struct vr_subscriber *sub = vr_session_subscriber(s);
    if (p)
        publisher_info(info, p);
    else if (sub)
        subscriber_info(info, sub);
    pthread_mutex_lock(&s->lock);
    json_object_set_new(info, "hangingup", json_integer(0));
    json_object_set_new(info, "destroyed", json_integer(s->destroyed));
    pthread_mutex_unlock(&s->lock);
    vr_participant_unref(p);
    vr_subscriber_unref(sub);
    vr_session_unref(s);
    return info;
}

static const struct gw_plugin vr_vtable = {
    .name = "JANUS VideoRoom plugin",
    .package = VR_PACKAGE,
    .author = "Verbatim",
    .description = "A videoconferencing SFU (Selective Forwarding Unit): rooms where "
                   "participants publish and subscribe to each other's media.",
    .version_string = "0.0.9",
    .version = 9,
    .create_session = vr_create_session,
    .destroy_session = vr_destroy_session,
    .handle_message = vr_handle_message,
    .handle_admin_message = vr_handle_admin_message,
    .setup_media = vr_setup_media,
    .incoming_rtp = vr_incoming_rtp,
    .incoming_rtcp = vr_incoming_rtcp,
    .hangup_media = vr_hangup_media,
    .query_session = vr_query_session,
};

const struct gw_plugin *vr_plugin(void)
{
    return &vr_vtable;
}

/* ---- the context ---- */

/* Rooms of the main configuration: an array of rooms, or an object keyed by id. */
static void load_config_rooms(struct vr *v, const json_t *rooms)
{
    if (json_is_array(rooms)) {
        size_t i;
        const json_t *room;
        json_array_foreach(rooms, i, room) vr_room_load(v, room, 0, "configuration");
        return;
    }
    const char *key;
    const json_t *room;
    json_object_foreach((json_t *)rooms, key, room)
    {
        const char *digits = strncmp(key, "room-", 5) == 0 ? key + 5 : key;
        char *end = NULL;
        uint64_t id = digits[0] >= '0' && digits[0] <= '9' ? strtoull(digits, &end, 10) : 0;
        if (!id || !end || *end) {
            vb_log_warn(v->log, "videoroom: configuration: room '%s' has no numeric id, skipped",
                        key);
            continue;
        }
        vr_room_load(v, room, id, "configuration");
    }
}

int vr_create(const struct vr_config *cfg, struct vr **out)
{
    if (!cfg || !out || (cfg->rooms && !json_is_array(cfg->rooms) && !json_is_object(cfg->rooms)))
        return -EINVAL;
    struct vr *v = xcalloc(1, sizeof *v);
    pthread_mutex_init(&v->rooms.lock, NULL);
    pthread_mutex_init(&v->sessions.lock, NULL);
    pthread_mutex_init(&v->perm_lock, NULL);
    v->rooms_file = cfg->rooms_file ? xstrdup(cfg->rooms_file) : NULL;
    v->admin_key = cfg->admin_key && cfg->admin_key[0] ? xstrdup(cfg->admin_key) : NULL;
    v->record_all = cfg->record_all;
    v->archive = cfg->archive;
    v->lock_rtp_forward = cfg->lock_rtp_forward;
    v->token_room_ok = cfg->token_room_ok;
    v->token_ctx = cfg->token_ctx;
    v->log = cfg->log;
    int err = vr_persist_load(v);
    if (err)
        goto out_destroy;
    if (cfg->rooms)
        load_config_rooms(v, cfg->rooms);
    err = vr_workers_start(v);
    if (err)
        goto out_destroy;
    *out = v;
    return 0;
out_destroy:
    vr_destroy(v);
    return err;
}

void vr_destroy(struct vr *v)
{
    if (!v)
        return;
    vr_workers_stop(v);
    for (size_t b = 0; b < VR_SESSION_BUCKETS; b++) {
        while (v->sessions.buckets[b]) {
            struct vr_session *s = v->sessions.buckets[b];
            v->sessions.buckets[b] = s->next;
            vr_session_gone(v, s);
            vr_session_unref(s);
        }
    }
    size_t n;
    struct vr_room **all = vr_rooms_snapshot(&v->rooms, &n);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&all[i]->lock);
        while (all[i]->participants) {
            struct vr_participant *p = all[i]->participants;
            all[i]->participants = p->next;
            p->in_room = false;
            vr_participant_unref(p);
        }
        pthread_mutex_unlock(&all[i]->lock);
        vr_room_unref(all[i]);
    }
    free(all);
    vr_rooms_clear(&v->rooms);
    json_decref(v->perm);
    free(v->rooms_file);
    free(v->admin_key);
    pthread_mutex_destroy(&v->perm_lock);
    pthread_mutex_destroy(&v->sessions.lock);
    pthread_mutex_destroy(&v->rooms.lock);
    free(v);
}

int vr_room_state_get(struct vr *v, uint64_t room, struct vr_room_state *out)
{
    struct vr_room *r = vr_rooms_get(&v->rooms, room);
    if (!r)
        return -ENOENT;
    pthread_mutex_lock(&r->lock);
    *out = (struct vr_room_state){.room = r->id,
                                  .record = r->set.record,
                                  .lock_record = r->set.lock_record,
                                  .max_publishers = r->set.max_publishers,
                                  .participants = r->nparticipants};
    for (struct vr_participant *p = r->participants; p; p = p->next)
        out->publishing += p->publishing;
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    return 0;
}

json_t *vr_room_describe(struct vr *v, uint64_t room)
{
    struct vr_room *r = vr_rooms_get(&v->rooms, room);
    if (!r)
        return NULL;
    pthread_mutex_lock(&r->lock);
    json_t *o = vr_room_list_json(r);
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    return o;
}
