/* This file implements the VideoRoom's synchronous requests about who is in a room: allowed
 * (the ACL), kick, moderate, listparticipants, and enable_recording, with
 * Janus 1.1.2's replies, texts and check order (kick and moderate validate "room" and then "id",
 * the second result replacing the first: a missing room with a valid id is "No such room (0)").
 *
 * DESIGN: each runs under the room's lock from vr_access_room(); events for the participants
 * are queued in an outbox and pushed after the lock is released. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

static const struct vr_param room_params[] = {{"room", GW_JSON_UINT, true}};
static const struct vr_param id_params[] = {{"id", GW_JSON_UINT, true}};

static json_t *allowed_list(const struct vr_room *r)
{
    json_t *list = json_array();
    for (size_t i = 0; i < r->nallowed; i++)
        json_array_append_new(list, json_string(r->allowed[i]));
    return list;
}

/* Adds or removes the request's tokens (lock held). 0 or 430. */
static int allowed_edit(struct vr_room *r, const json_t *body, bool add, struct vr_err *e)
{
    const json_t *allowed = json_object_get(body, "allowed");
    for (size_t i = 0; i < json_array_size(allowed); i++)
        if (!json_is_string(json_array_get(allowed, i)))
            return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                           "Invalid element in the allowed array (not a string)");
    if (add && r->nallowed + json_array_size(allowed) > VR_ALLOWED_MAX)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (at most %d tokens in the allowed array)", VR_ALLOWED_MAX);
    for (size_t i = 0; i < json_array_size(allowed); i++) {
        const char *token = json_string_value(json_array_get(allowed, i));
        if (add)
            vr_room_allowed_add(r, token);
        else
            vr_room_allowed_remove(r, token);
    }
    return 0;
}

json_t *vr_req_allowed(struct vr *v, json_t *body, struct vr_err *e)
{
    static const struct vr_param allowed_params[] = {{"secret", GW_JSON_STRING, false},
                                                     {"action", GW_JSON_STRING, true},
                                                     {"allowed", GW_JSON_ARRAY, false}};
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, allowed_params, e))
        return NULL;
    const char *action = json_string_value(json_object_get(body, "action"));
    bool enable = strcasecmp(action, "enable") == 0, disable = strcasecmp(action, "disable") == 0;
    bool add = strcasecmp(action, "add") == 0, remove = strcasecmp(action, "remove") == 0;
    if (!enable && !disable && !add && !remove) {
        vr_fail(e, VR_ERR_INVALID_ELEMENT, "Unsupported action '%s' (allowed)", action);
        return NULL;
    }
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    json_t *reply = NULL;
    if (enable || disable)
        r->check_allowed = enable;
    if ((add || remove) && allowed_edit(r, body, add, e))
        goto out_unlock;
    reply = json_pack("{s:s, s:I}", "videoroom", "success", "room", (json_int_t)r->id);
    if (!disable)
        json_object_set_new(reply, "allowed", allowed_list(r));
out_unlock:
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    return reply;
}

json_t *vr_req_kick(struct vr *v, json_t *body, struct vr_err *e)
{
    static const struct vr_param kick_params[] = {{"secret", GW_JSON_STRING, false}};
    VR_CHECK(body, room_params, e); /* replaced by the next check, as in Janus */
    if (VR_CHECK(body, id_params, e) || VR_CHECK(body, kick_params, e))
        return NULL;
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    uint64_t id = vr_json_u64(body, "id");
    struct vr_participant *p = vr_room_find(r, id);
    if (!p) {
        pthread_mutex_unlock(&r->lock);
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such user %" PRIu64 " in room %" PRIu64, id, r->id);
        vr_room_unref(r);
        return NULL;
    }
    struct vr_outbox o = {0};
    vr_participant_ref(p);
    if (!p->kicked) {
        p->kicked = true;
        vr_outbox_add(&o, p->h,
                      json_pack("{s:s, s:I, s:s, s:s}", "videoroom", "event", "room",
                                (json_int_t)r->id, "leaving", "ok", "reason", "kicked"));
        vr_participant_remove(p, true, &o);
        vr_outbox_close(&o, p->h);
    }
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, &o);
    vb_log_info(v->log, "videoroom: kicked %" PRIu64 " from room %" PRIu64, id, r->id);
    vr_participant_unref(p);
    vr_room_unref(r);
    return json_pack("{s:s}", "videoroom", "success");
}

static struct vr_stream *stream_by_mid(struct vr_participant *p, const char *mid)
{
    for (size_t i = 0; i < p->nstreams; i++)
        if (p->streams[i].mid && strcmp(p->streams[i].mid, mid) == 0)
            return &p->streams[i];
    return NULL;
}

json_t *vr_req_moderate(struct vr *v, json_t *body, struct vr_err *e)
{
    static const struct vr_param moderate_params[] = {{"secret", GW_JSON_STRING, false},
                                                      {"mid", GW_JSON_STRING, true},
                                                      {"mute", GW_JSON_BOOL, true}};
    VR_CHECK(body, room_params, e); /* replaced by the next check, as in Janus */
    if (VR_CHECK(body, id_params, e) || VR_CHECK(body, moderate_params, e))
        return NULL;
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    uint64_t id = vr_json_u64(body, "id");
    const char *mid = json_string_value(json_object_get(body, "mid"));
    bool mute = json_is_true(json_object_get(body, "mute"));
    json_t *reply = NULL;
    struct vr_outbox o = {0};
    struct vr_participant *p = vr_room_find(r, id);
    struct vr_stream *st = p ? stream_by_mid(p, mid) : NULL;
    if (!p) {
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such user %" PRIu64 " in room %" PRIu64, id, r->id);
    } else if (!st) {
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such stream %s", mid);
    } else {
        st->muted = mute;
        for (struct vr_participant *q = r->participants; q; q = q->next)
            vr_outbox_add(&o, q->h,
                          json_pack("{s:s, s:I, s:I, s:s, s:s}", "videoroom", "event", "room",
                                    (json_int_t)r->id, "id", (json_int_t)id, "mid", mid,
                                    "moderation", mute ? "muted" : "unmuted"));
        reply = json_pack("{s:s}", "videoroom", "success");
    }
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, &o);
    vr_room_unref(r);
    return reply;
}

json_t *vr_req_listparticipants(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e))
        return NULL;
    struct vr_room *r = vr_access_room(v, body, false, e);
    if (!r)
        return NULL;
    json_t *list = json_array();
    for (struct vr_participant *p = r->participants; p; p = p->next) {
        json_t *o = json_pack("{s:I}", "id", (json_int_t)p->id);
        if (p->display)
            json_object_set_new(o, "display", json_string(p->display));
        if (p->remote) /* add_remote_publisher's, as Janus marks them */
            json_object_set_new(o, "remote", json_true());
        json_object_set_new(o, "publisher", json_boolean(p->started));
        json_array_append_new(list, o);
    }
    json_t *reply = json_pack("{s:s, s:I, s:o}", "videoroom", "participants", "room",
                              (json_int_t)r->id, "participants", list);
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    return reply;
}

json_t *vr_req_enable_recording(struct vr *v, json_t *body, struct vr_err *e)
{
    static const struct vr_param record_params[] = {{"record", GW_JSON_BOOL, true}};
    if (VR_CHECK(body, record_params, e))
        return NULL;
    bool record = json_is_true(json_object_get(body, "record"));
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    json_t *reply = NULL;
    struct vr_participant **ps = NULL;
    size_t n = 0;
    if (!record && v->record_all) {
        vr_fail(e, VR_ERR_UNAUTHORIZED, "Unauthorized (recording can't be disabled here)");
    } else {
        if (r->set.record != record) {
            r->set.record = record;
            ps = xcalloc(r->nparticipants + 1, sizeof *ps);
            for (struct vr_participant *p = r->participants; p; p = p->next) {
                p->recording = record;
                vr_participant_ref(p);
                ps[n++] = p;
            }
        }
        reply = json_pack("{s:s, s:b}", "videoroom", "success", "record", record);
    }
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < n; i++) { /* live: files open or close now, with no lock held */
        vr_feed_rec_update(v, ps[i]);
        vr_participant_unref(ps[i]);
    }
    free(ps);
    vr_room_unref(r);
    return reply;
}
