/* This file implements the VideoRoom's synchronous room requests — create, edit, destroy,
 * exists, list — and the dispatcher of every synchronous request (also used by the Admin API's
 * message_plugin). Replies and error texts are Janus 1.1.2's, including the order in which the
 * checks run (it decides which error a request with several problems gets).
 *
 * DESIGN: a handler returns the reply, or NULL with the error filled; the dispatcher turns the
 * error into {"videoroom":"event","error_code":N,"error":"..."}. Destroying a room unlinks it from
 * the table first (so nothing new finds it), then marks it destroyed under its lock and tells
 * every participant; the events and the PeerConnection closes go out once the lock is dropped. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/videoroom/vr_internal.h"

static const struct vr_param room_params[] = {{"room", GW_JSON_UINT, true}};

struct vr_room *vr_access_room(struct vr *v, const json_t *body, bool check_modify,
                               struct vr_err *e)
{
    uint64_t id = vr_json_u64(body, "room");
    struct vr_room *r = vr_rooms_get(&v->rooms, id);
    if (!r) {
        vr_fail(e, VR_ERR_NO_SUCH_ROOM, "No such room (%" PRIu64 ")", id);
        return NULL;
    }
    pthread_mutex_lock(&r->lock);
    int err = 0;
    if (r->destroyed)
        err = vr_fail(e, VR_ERR_NO_SUCH_ROOM, "No such room (%" PRIu64 ")", id);
    else if (check_modify)
        err = vr_secret_check(r->set.secret, body, "secret", e);
    if (err) {
        pthread_mutex_unlock(&r->lock);
        vr_room_unref(r);
        return NULL;
    }
    return r;
}

static json_t *req_create(struct vr *v, json_t *body, struct vr_err *e)
{
    static const struct vr_param roomopt[] = {{"room", GW_JSON_UINT, false}};
    static const struct vr_param adminkey[] = {{"admin_key", GW_JSON_STRING, true}};
    if (vr_settings_check(body, e) || VR_CHECK(body, roomopt, e))
        return NULL;
    if (v->admin_key &&
        (VR_CHECK(body, adminkey, e) || vr_secret_check(v->admin_key, body, "admin_key", e)))
        return NULL;
    struct vr_room_settings set;
    if (vr_settings_parse(v, body, &set, e))
        return NULL;
    bool save = json_is_true(json_object_get(body, "permanent"));
    if (save && !v->rooms_file) {
        vr_settings_clear(&set);
        vr_fail(e, VR_ERR_UNKNOWN, "No configuration file, can't create permanent room");
        return NULL;
    }
    uint64_t id = vr_json_u64(body, "room");
    struct vr_room *r = vr_room_new(id, &set);
    const json_t *allowed = json_object_get(body, "allowed");
    if (allowed) {
        for (size_t i = 0; i < json_array_size(allowed); i++)
            vr_room_allowed_add(r, json_string_value(json_array_get(allowed, i)));
        r->check_allowed = true;
    }
    if (vr_rooms_insert(&v->rooms, r) < 0) {
        vr_room_unref(r);
        vr_fail(e, VR_ERR_ROOM_EXISTS, "Room %" PRIu64 " already exists", id);
        return NULL;
    }
    if (save)
        save = vr_persist_put(v, r);
    json_t *reply = json_pack("{s:s, s:I, s:b}", "videoroom", "created", "room", (json_int_t)r->id,
                              "permanent", save);
    vb_log_info(v->log, "videoroom: created room %" PRIu64, r->id);
    vr_room_unref(r);
    return reply;
}

static void replace(char **slot, const json_t *v, bool only_nonempty)
{
    const char *s = json_string_value(v);
    if (!s || (only_nonempty && !s[0]))
        return;
    free(*slot);
    *slot = xstrdup(s);
}

static void apply_edit(struct vr_room_settings *s, const json_t *body)
{
    const json_t *v;
    replace(&s->description, json_object_get(body, "new_description"), true);
    if ((v = json_object_get(body, "new_is_private")))
        s->is_private = json_is_true(v);
    if ((v = json_object_get(body, "new_require_pvtid")))
        s->require_pvtid = json_is_true(v);
    if ((v = json_object_get(body, "new_publishers")))
        s->max_publishers = (int32_t)(uint32_t)json_integer_value(v);
    if ((v = json_object_get(body, "new_bitrate"))) {
        s->bitrate = (uint32_t)json_integer_value(v);
        if (s->bitrate > 0 && s->bitrate < 64000)
            s->bitrate = 64000;
    }
    if ((v = json_object_get(body, "new_fir_freq")))
        s->fir_freq = (uint16_t)json_integer_value(v);
    replace(&s->secret, json_object_get(body, "new_secret"), true);
    replace(&s->pin, json_object_get(body, "new_pin"), true);
    if ((v = json_object_get(body, "new_lock_record")))
        s->lock_record = json_is_true(v);
    replace(&s->rec_dir, json_object_get(body, "new_rec_dir"), false);
}

static json_t *req_edit(struct vr *v, json_t *body, struct vr_err *e)
{
    static const struct vr_param edit_params[] = {
        {"secret", GW_JSON_STRING, false},       {"new_description", GW_JSON_STRING, false},
        {"new_is_private", GW_JSON_BOOL, false}, {"new_secret", GW_JSON_STRING, false},
        {"new_pin", GW_JSON_STRING, false},      {"new_require_pvtid", GW_JSON_BOOL, false},
        {"new_bitrate", GW_JSON_UINT, false},    {"new_fir_freq", GW_JSON_UINT, false},
        {"new_publishers", GW_JSON_UINT, false}, {"new_lock_record", GW_JSON_BOOL, false},
        {"new_rec_dir", GW_JSON_STRING, false},  {"permanent", GW_JSON_BOOL, false},
    };
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, edit_params, e))
        return NULL;
    bool save = json_is_true(json_object_get(body, "permanent"));
    if (save && !v->rooms_file) {
        vr_fail(e, VR_ERR_UNKNOWN, "No configuration file, can't edit room permanently");
        return NULL;
    }
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    apply_edit(&r->set, body);
    pthread_mutex_unlock(&r->lock);
    if (save)
        save = vr_persist_put(v, r);
    json_t *reply = json_pack("{s:s, s:I, s:b}", "videoroom", "edited", "room", (json_int_t)r->id,
                              "permanent", save);
    vr_room_unref(r);
    return reply;
}

/* Marks the room destroyed and tells its participants (the caller holds a reference). */
static void room_shutdown(struct vr *v, struct vr_room *r)
{
    struct vr_outbox o = {0};
    pthread_mutex_lock(&r->lock);
    r->destroyed = true;
    while (r->participants) {
        struct vr_participant *p = r->participants;
        r->participants = p->next;
        p->next = NULL;
        p->in_room = false;
        p->publishing = p->started = false;
        vr_outbox_add(&o, p->h,
                      json_pack("{s:s, s:I}", "videoroom", "destroyed", "room", (json_int_t)r->id));
        vr_outbox_close(&o, p->h);
        vr_participant_unref(p);
    }
    r->nparticipants = 0;
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, &o);
}

static json_t *req_destroy(struct vr *v, json_t *body, struct vr_err *e)
{
    static const struct vr_param destroy_params[] = {{"permanent", GW_JSON_BOOL, false}};
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, destroy_params, e))
        return NULL;
    bool save = json_is_true(json_object_get(body, "permanent"));
    if (save && !v->rooms_file) {
        vr_fail(e, VR_ERR_UNKNOWN, "No configuration file, can't destroy room permanently");
        return NULL;
    }
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    uint64_t id = r->id;
    pthread_mutex_unlock(&r->lock);
    struct vr_room *linked = vr_rooms_remove(&v->rooms, id);
    if (!linked) { /* a concurrent destroy won */
        vr_room_unref(r);
        vr_fail(e, VR_ERR_NO_SUCH_ROOM, "No such room (%" PRIu64 ")", id);
        return NULL;
    }
    room_shutdown(v, r);
    vr_room_unref(linked);
    vr_room_unref(r);
    if (save)
        save = vr_persist_remove(v, id);
    vb_log_info(v->log, "videoroom: destroyed room %" PRIu64, id);
    return json_pack("{s:s, s:I, s:b}", "videoroom", "destroyed", "room", (json_int_t)id,
                     "permanent", save);
}

static json_t *req_exists(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e))
        return NULL;
    uint64_t id = vr_json_u64(body, "room");
    return json_pack("{s:s, s:I, s:b}", "videoroom", "success", "room", (json_int_t)id, "exists",
                     vr_rooms_has(&v->rooms, id));
}

static json_t *req_list(struct vr *v, json_t *body, struct vr_err *e)
{
    bool show_private = false;
    const char *key = json_string_value(json_object_get(body, "admin_key"));
    if (v->admin_key && key && key[0]) {
        if (vr_secret_check(v->admin_key, body, "admin_key", e))
            return NULL;
        show_private = true;
    }
    size_t n;
    struct vr_room **all = vr_rooms_snapshot(&v->rooms, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        struct vr_room *r = all[i];
        pthread_mutex_lock(&r->lock);
        if (!r->destroyed && (show_private || !r->set.is_private))
            json_array_append_new(list, vr_room_list_json(r));
        pthread_mutex_unlock(&r->lock);
        vr_room_unref(r);
    }
    free(all);
    return json_pack("{s:s, s:o}", "videoroom", "success", "list", list);
}

struct sync_req {
    const char *name;
    json_t *(*fn)(struct vr *v, json_t *body, struct vr_err *e);
};

static const struct sync_req sync_reqs[] = {
    {"create", req_create},
    {"edit", req_edit},
    {"destroy", req_destroy},
    {"list", req_list},
    {"exists", req_exists},
    {"allowed", vr_req_allowed},
    {"kick", vr_req_kick},
    {"moderate", vr_req_moderate},
    {"listparticipants", vr_req_listparticipants},
    {"listforwarders", vr_req_listforwarders},
    {"rtp_forward", vr_req_rtp_forward},
    {"stop_rtp_forward", vr_req_stop_rtp_forward},
    {"enable_recording", vr_req_enable_recording},
    {"add_remote_publisher", vr_req_add_remote_publisher},
    {"update_remote_publisher", vr_req_update_remote_publisher},
    {"remove_remote_publisher", vr_req_remove_remote_publisher},
    {"publish_remotely", vr_req_publish_remotely},
    {"unpublish_remotely", vr_req_unpublish_remotely},
    {"listremotes", vr_req_listremotes},
};

json_t *vr_sync_request(struct vr *v, const char *request, json_t *body)
{
    for (size_t i = 0; i < sizeof sync_reqs / sizeof sync_reqs[0]; i++) {
        if (strcasecmp(sync_reqs[i].name, request) != 0)
            continue;
        struct vr_err e = {0};
        json_t *reply = sync_reqs[i].fn(v, body, &e);
        if (!reply) {
            if (!e.code)
                vr_fail(&e, VR_ERR_UNKNOWN, "Invalid response");
            reply = vr_err_json(&e);
        }
        return reply;
    }
    return NULL;
}
