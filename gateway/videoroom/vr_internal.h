/* gateway/videoroom/vr_internal.h — structures shared by the VideoRoom plugin's files. Not for
 * other modules.
 *
 * Objects: a room (struct vr_room) holds its settings and its participants; a participant
 * (struct vr_participant) is a handle joined as a publisher; a subscriber (struct vr_subscriber)
 * is a handle receiving feeds; a session (struct vr_session) is the plugin's per-handle state.
 * All are reference counted (C11 atomics); a participant references its room and its handle.
 *
 * Locks and their order (take left before right, never the reverse):
 *     rooms.lock  ->  room->lock  ->  session->lock
 * `sessions.lock` (the handle -> session map), `perm_lock` (the rooms file) and the worker
 * queue locks are leaves: nothing else is taken while they are held. Gateway callbacks
 * (push_event, close_pc, end_session) are never called with any of these held: events built
 * under a lock go to a `struct vr_outbox` and are pushed once the locks are released.
 *
 * Media: a participant's `streams` are what the others see of its published m-lines (the control
 * plane); its `feed` is the media plane (vr_media.h), and a subscriber's media streams are in
 * `ss`. */
#ifndef VB_GATEWAY_VIDEOROOM_INTERNAL_H
#define VB_GATEWAY_VIDEOROOM_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "gateway/json_type.h"
#include "gateway/videoroom/videoroom.h"
#include "gateway/videoroom/vr_forward.h"
#include "gateway/videoroom/vr_media.h"

#define VR_PACKAGE "janus.plugin.videoroom"
#define VR_ROOM_BUCKETS 512
#define VR_SESSION_BUCKETS 1024
#define VR_WORKERS 2
#define VR_QUEUE_MAX 4096   /* pending asynchronous requests per worker */
#define VR_CODECS 5         /* codecs a room may allow, as Janus */
#define VR_ALLOWED_MAX 1024 /* tokens in a room's ACL (its lookups are linear) */

/* Plugin error codes (Janus's). */
enum {
    VR_ERR_NO_MESSAGE = 421,
    VR_ERR_INVALID_JSON = 422,
    VR_ERR_INVALID_REQUEST = 423,
    VR_ERR_JOIN_FIRST = 424,
    VR_ERR_ALREADY_JOINED = 425,
    VR_ERR_NO_SUCH_ROOM = 426,
    VR_ERR_ROOM_EXISTS = 427,
    VR_ERR_NO_SUCH_FEED = 428,
    VR_ERR_MISSING_ELEMENT = 429,
    VR_ERR_INVALID_ELEMENT = 430,
    VR_ERR_INVALID_SDP_TYPE = 431,
    VR_ERR_PUBLISHERS_FULL = 432,
    VR_ERR_UNAUTHORIZED = 433,
    VR_ERR_ALREADY_PUBLISHED = 434,
    VR_ERR_NOT_PUBLISHED = 435,
    VR_ERR_ID_EXISTS = 436,
    VR_ERR_INVALID_SDP = 437,
    VR_ERR_INVALID_FEED = 438,
    VR_ERR_UNKNOWN = 499,
};

/* ---- errors and parameter checks (util.c) ---- */

struct vr_err {
    int code; /* 0 = none */
    char text[256];
};

/* Sets the error and returns `code`. */
int vr_fail(struct vr_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {"videoroom":"event","error_code":N,"error":"..."} (new reference). */
json_t *vr_err_json(const struct vr_err *e);

struct vr_param {
    const char *name;
    enum gw_json_type type;
    bool required;
};
/* Checks the members of `obj` (anything: a non-object has no members) in table order, as
 * Janus: "Missing mandatory element (x)" 429, "Invalid element type (x should be ...)" 430.
 * A positive integer is >= 0. 0 or the code (e filled). */
int vr_params_check(const json_t *obj, const struct vr_param *p, size_t n, struct vr_err *e);
#define VR_CHECK(obj, table, e)                                                                    \
    vr_params_check((obj), (table), sizeof(table) / sizeof((table)[0]), (e))
/* When `secret` is set: `member` must be a string equal to it (constant time), else 429 / 430 /
 * 433 "Unauthorized (wrong <member>)". 0 or the code. */
int vr_secret_check(const char *secret, const json_t *obj, const char *member, struct vr_err *e);
/* Constant-time equality (time depends on the expected length only). */
bool vr_str_equal(const char *given, const char *expected);
/* A random id in [1, 2^53) / a random nonzero 32-bit id. */
uint64_t vr_random_id(void);
uint32_t vr_random_u32(void);
/* The uint64 Janus reads from an integer member (0 when absent or not an integer). */
uint64_t vr_json_u64(const json_t *obj, const char *key);

/* Events built under a lock, pushed after it is released (no transaction). */
struct vr_out {
    struct gw_handle *h; /* referenced */
    json_t *data;        /* owned */
};
struct vr_outbox {
    struct vr_out *items;
    size_t n, cap;
    struct gw_handle **close; /* handles whose PeerConnection to close after the events */
    size_t nclose, capclose;
    struct vr_subscriber **gone; /* subscribers whose feeds went away (referenced) */
    size_t ngone, capgone;
    struct vr_participant **left; /* participants that left, for the catalog (referenced) */
    size_t nleft, capleft;
};
/* Queues `data` (stolen) for `h` (referenced here). */
void vr_outbox_add(struct vr_outbox *o, struct gw_handle *h, json_t *data);
/* Queues a close_pc for `h` (referenced here). */
void vr_outbox_close(struct vr_outbox *o, struct gw_handle *h);
/* Queues `p` (referenced here): the catalog hears it left. */
void vr_outbox_left(struct vr_outbox *o, struct vr_participant *p);
/* Queues `sub` (referenced here) to be told its feeds changed (vr_sub_feed_gone); once each. */
void vr_outbox_feed_gone(struct vr_outbox *o, struct vr_subscriber *sub);
/* Pushes everything in order, then closes PeerConnections, then updates subscribers whose
 * feeds went away, and empties the outbox. Call with no plugin lock held. */
void vr_outbox_flush(struct vr *v, struct vr_outbox *o);

/* ---- rooms (room.c) ---- */

struct vr_stream {
    int mindex;
    char *mid;
    const char *type;  /* "audio" | "video" | "data" */
    const char *codec; /* static name, may be NULL */
    char *description;
    bool disabled;
    bool muted; /* by a moderator */
};

struct vr_room_settings {
    char *description; /* never NULL once built */
    char *secret, *pin, *rec_dir, *vp9_profile, *h264_profile;
    bool is_private, require_pvtid, signed_tokens, require_e2ee, dummy_publisher, bitrate_cap;
    bool opus_fec, opus_dtx, video_svc, audiolevel_ext, audiolevel_event, videoorient_ext;
    bool playoutdelay_ext, transport_wide_cc_ext, record, lock_record, notify_joining;
    int max_publishers;
    uint32_t bitrate;
    uint16_t fir_freq;
    int audio_active_packets, audio_level_average;
    int acodec[VR_CODECS], vcodec[VR_CODECS]; /* indexes in the name tables; -1 = none */
};

struct vr_participant;
struct vr_remote;
struct vr_remotization;

struct vr_room {
    atomic_int refs;
    uint64_t id;
    pthread_mutex_t lock;
    /* Under lock: */
    bool destroyed;
    struct vr_room_settings set;
    bool check_allowed;
    char **allowed; /* the ACL tokens, in insertion order */
    size_t nallowed, capallowed;
    struct vr_participant *participants; /* joined publishers, in join order */
    size_t nparticipants;
    /* Under the rooms table lock: */
    struct vr_room *next;
};

struct vr_rooms {
    pthread_mutex_t lock;
    struct vr_room *buckets[VR_ROOM_BUCKETS];
    size_t n;
};

/* Checks the types of a create-style object's room keys (not "room"), as Janus. 0 or the code. */
int vr_settings_check(const json_t *obj, struct vr_err *e);
/* Builds settings from a create-style object (room keys of create / the config). `record_all`
 * forces record. 0 or the error (e filled); *out is cleared on error. */
int vr_settings_parse(struct vr *v, const json_t *obj, struct vr_room_settings *out,
                      struct vr_err *e);
void vr_settings_clear(struct vr_room_settings *s);
/* "opus,pcmu" style lists of the room's codecs. */
void vr_settings_codecs(const struct vr_room_settings *s, char *audio, char *video, size_t size);
/* The rooms-file entry of a room (lock held). New reference. */
json_t *vr_room_persist_json(const struct vr_room *r);
/* The `list` entry of a room (lock held). New reference. */
json_t *vr_room_list_json(const struct vr_room *r);
/* Codec lookup by name (case-insensitive); -1 when unknown. */
int vr_audio_codec(const char *name);
int vr_video_codec(const char *name);
const char *vr_audio_codec_name(int i);
const char *vr_video_codec_name(int i);

/* A new room (one reference, the caller's) taking `set`'s contents. */
struct vr_room *vr_room_new(uint64_t id, struct vr_room_settings *set);
void vr_room_ref(struct vr_room *r);
void vr_room_unref(struct vr_room *r);
/* ACL (lock held). */
bool vr_room_allowed_has(const struct vr_room *r, const char *token);
void vr_room_allowed_add(struct vr_room *r, const char *token);
void vr_room_allowed_remove(struct vr_room *r, const char *token);

/* The table. Insert: the table takes its own reference; -EEXIST when the id is taken; id 0 =
 * pick a random free one (written back to r->id). */
int vr_rooms_insert(struct vr_rooms *t, struct vr_room *r);
/* A referenced room, or NULL. */
struct vr_room *vr_rooms_get(struct vr_rooms *t, uint64_t id);
bool vr_rooms_has(struct vr_rooms *t, uint64_t id);
/* Unlinks room `id` and returns the table's reference, or NULL. */
struct vr_room *vr_rooms_remove(struct vr_rooms *t, uint64_t id);
/* Every room, referenced, sorted by id: a new array of *n pointers (free it and unref each). */
struct vr_room **vr_rooms_snapshot(struct vr_rooms *t, size_t *n);
void vr_rooms_clear(struct vr_rooms *t);

/* ---- participants (join.c) ---- */

struct vr_participant {
    atomic_int refs;
    struct vr_room *room; /* referenced; the room joined (constant) */
    struct gw_handle *h;  /* referenced (constant) */
    uint64_t id;
    uint32_t pvt_id;
    /* Under room->lock: */
    bool in_room; /* false after leave, kick, room destroyed, handle gone */
    bool kicked;
    bool publishing; /* holds a publisher slot: an offer was accepted */
    bool started;    /* its PeerConnection is up (setup_media) */
    char *display;
    uint32_t bitrate;
    bool recording;
    char *rec_base;
    int64_t audio_active_packets, audio_level_average;
    struct vr_stream *streams; /* published m-lines, as the others see them */
    size_t nstreams;
    struct vr_participant *next; /* in the room's list */
    /* Media (vr_media.h): the feed has its own lock; rec_lock serializes recorder changes
     * (taken before room->lock, never on a media thread). */
    struct vr_feed feed;
    pthread_mutex_t rec_lock;
    atomic_uint remb; /* the REMB cap sent to the publisher, bits/s (0 = none) */
    /* Cascading (remote.c). A remote publisher (add_remote_publisher) has h == NULL and
     * `remote` set, both constant; `rmt` is its receiver (sockets, reader thread), owned, set
     * before it joins the room and freed by vr_remote_release(). A local publisher's
     * remotizations (publish_remotely), under room->lock. */
    bool remote;
    struct vr_remote *rmt;
    struct vr_remotization *remotizations;
    size_t nremotizations;
};

struct vr_subscriber {
    atomic_int refs;
    struct vr_room *room; /* referenced (constant) */
    struct gw_handle *h;  /* referenced (constant) */
    uint32_t pvt_id;
    /* Under room->lock: */
    bool in_room;
    bool paused;
    bool autoupdate;                          /* renegotiate when a feed goes away (default true) */
    bool pc_up;                               /* its PeerConnection is up */
    struct vr_sub_stream *ss[VR_MAX_STREAMS]; /* one per m-line of its PeerConnection */
    size_t nss;
    uint64_t sdp_session; /* o= of our offers */
    /* Forwarding on (started, not paused, PeerConnection up): read on publishers' threads. */
    atomic_bool fwd_on;
};

enum vr_ptype { VR_PTYPE_NONE, VR_PTYPE_PUBLISHER, VR_PTYPE_SUBSCRIBER };

struct vr_session {
    atomic_int refs;
    struct gw_handle *h; /* borrowed: valid until destroy_session */
    pthread_mutex_t lock;
    /* Under lock: */
    bool destroyed;
    enum vr_ptype ptype;
    struct vr_participant *pub; /* referenced */
    struct vr_subscriber *sub;  /* referenced */
    /* Under the sessions map lock: */
    struct vr_session *next;
};

void vr_participant_ref(struct vr_participant *p);
void vr_participant_unref(struct vr_participant *p);
void vr_subscriber_unref(struct vr_subscriber *s);
/* Removes `p` from its room (room lock held) telling the others: "unpublished" first when it
 * was publishing live, then "leaving" (or "kicked" when `kicked`). No-op when not in the room. */
void vr_participant_remove(struct vr_participant *p, bool kicked, struct vr_outbox *o);
/* Releases `p`'s publisher slot (room lock held): the others hear "unpublished" when it was
 * live; `publishing` and `started` are cleared. The streams are left as they are. */
void vr_participant_stop_publishing(struct vr_participant *p, struct vr_outbox *o);
/* Queues `ev` (stolen) for every participant of the room but `self` (room lock held). */
void vr_room_notify_others(struct vr_room *r, const struct vr_participant *self, json_t *ev,
                           struct vr_outbox *o);
/* Frees an array of `n` streams and the strings it owns (NULL with n == 0 is a no-op). */
void vr_streams_free(struct vr_stream *st, size_t n);
/* The `publishers` entry of a participant (room lock held). New reference. */
json_t *vr_participant_pub_json(const struct vr_participant *p);
/* Its `streams` alone (room lock held). New reference. */
json_t *vr_participant_pub_streams(const struct vr_participant *p);
/* The participant with `id` in the room (lock held), or NULL. */
struct vr_participant *vr_room_find(struct vr_room *r, uint64_t id);
/* The session's participant or subscriber, referenced (NULL when none). */
struct vr_participant *vr_session_publisher(struct vr_session *s);
struct vr_subscriber *vr_session_subscriber(struct vr_session *s);

/* The asynchronous requests (worker thread): the event to push (new reference) and *jsep
 * (NULL or a new reference); what they cause for others goes to `o`, flushed by the caller
 * after the reply. join.c: join; publish.c: a publisher's or subscriber's verbs. */
json_t *vr_async_join(struct vr *v, struct vr_session *s, const char *request, json_t *body,
                      json_t *jsep, json_t **jsep_out, struct vr_outbox *o);
json_t *vr_async_publisher(struct vr *v, struct vr_session *s, struct vr_participant *p,
                           const char *request, json_t *body, json_t *jsep, json_t **jsep_out,
                           struct vr_outbox *o);
json_t *vr_async_subscriber(struct vr *v, struct vr_session *s, struct vr_subscriber *sub,
                            const char *request, json_t *body, json_t *jsep, json_t **jsep_out,
                            struct vr_outbox *o);
/* Checks a `streams` list of a subscription (room lock held): feeds live, mids known, layers
 * in range; *nstreams gets how many streams it would make. 0 or the code. */
int vr_subscription_check(struct vr_room *r, const json_t *feeds, size_t *nstreams,
                          struct vr_err *e);
/* The media layer's entry: sets the published streams of the publisher on handle `h` (copied).
 * 0 or -ENOENT when the handle is not a publisher. */
int vr_publisher_set_streams(struct vr *v, struct gw_handle *h, const struct vr_stream *st,
                             size_t n);
/* A publisher's offer: takes a slot (432 when full) and answers it (*answer, a new jsep; feed.c).
 * Room lock held. 0 or the code. */
int vr_publisher_offer(struct vr *v, struct vr_participant *p, const json_t *jsep,
                       const json_t *body, json_t **answer, struct vr_err *e);
/* The handle's media went away: releases the slot, tells the others when it was live. */
void vr_session_hangup(struct vr *v, struct vr_session *s);
/* The handle's PeerConnection is up. */
void vr_session_media_up(struct vr *v, struct vr_session *s);
/* The handle goes away: leaves the room (others told). */
void vr_session_gone(struct vr *v, struct vr_session *s);

/* ---- synchronous requests (requests_room.c, requests_part.c) ---- */

/* Answers a synchronous request (also the Admin API's), or returns NULL when `request` is not
 * one. The vr_req_* handlers (requests_part.c) return the reply, or NULL with `e` filled. */
json_t *vr_sync_request(struct vr *v, const char *request, json_t *body);
json_t *vr_req_kick(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_moderate(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_listparticipants(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_enable_recording(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_allowed(struct vr *v, json_t *body, struct vr_err *e);
/* Looks the body's room up, checks it is not destroyed and, with `check_modify`, the secret.
 * On success the room is returned referenced and LOCKED. NULL on error (e filled). */
struct vr_room *vr_access_room(struct vr *v, const json_t *body, bool check_modify,
                               struct vr_err *e);

/* ---- cascading: remote publishers and remotizations (remote.c) ---- */

/* add_remote_publisher, update_remote_publisher, remove_remote_publisher, publish_remotely,
 * unpublish_remotely, listremotes (synchronous; reply, or NULL with e filled). */
json_t *vr_req_add_remote_publisher(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_update_remote_publisher(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_remove_remote_publisher(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_publish_remotely(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_unpublish_remotely(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_listremotes(struct vr *v, json_t *body, struct vr_err *e);
/* feed.c's keyframe request, for a remote publisher: a PLI for stream `mindex` from the remote
 * publisher's RTCP socket to the address its source latched (at most one per 500 ms unless
 * `force`; none before anything latched), and true. False (nothing done) for a publisher with
 * a handle. Any thread; no room lock needed (takes the feed's). */
bool vr_remote_request_keyframe(struct vr_participant *p, int mindex, bool force);
/* What cascading attached to `p`, freed with its last reference (vr_participant_unref): a
 * remote publisher's reader is stopped (its thread joined: it never waits for a room lock, so
 * the caller may hold one) and its sockets closed; a publisher's remotization records go. */
void vr_remote_release(struct vr_participant *p);

/* ---- the permanent rooms file (persist.c) ---- */

/* Adds a room from a configuration object (create's keys; `room` required unless `id` is
 * nonzero). Invalid or duplicate rooms are skipped with a warning. 0 or the error code. */
int vr_room_load(struct vr *v, const json_t *obj, uint64_t id, const char *origin);

/* Loads the file into v->perm (missing = empty) and creates its rooms. 0 or -errno. */
int vr_persist_load(struct vr *v);
/* Records room r's entry (takes r->lock for the snapshot: call it without) and rewrites the
 * file. true when written. */
bool vr_persist_put(struct vr *v, struct vr_room *r);
/* Removes room `id`'s entry and rewrites the file. true when written. */
bool vr_persist_remove(struct vr *v, uint64_t id);

/* ---- the asynchronous workers (async.c) ---- */

struct vr_msg {
    struct vr_msg *next;
    struct vr_session *s; /* referenced */
    struct gw_handle *h;  /* referenced */
    char *transaction;    /* owned, may be NULL */
    json_t *body;         /* owned copy */
    json_t *jsep;         /* owned copy or NULL */
};

struct vr_worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct vr_msg *head, *tail;
    size_t len;
    bool stop;
    bool started;
    struct vr *v;
};

int vr_workers_start(struct vr *v);
void vr_workers_stop(struct vr *v);
/* Queues a message (stolen) on the handle's worker. 0 or -EAGAIN (queue full: not queued). */
int vr_workers_push(struct vr *v, struct vr_msg *m);
void vr_msg_free(struct vr_msg *m);

/* ---- the plugin context (plugin.c) ---- */

struct vr_sessions {
    pthread_mutex_t lock;
    struct vr_session *buckets[VR_SESSION_BUCKETS];
};

struct vr {
    /* Set by the first create_session (the same for every later one); read per packet. */
    _Atomic(const struct gw_plugin_callbacks *) cb;
    char *rooms_file;
    char *admin_key;
    bool record_all;
    bool lock_rtp_forward;
    struct archive *archive; /* borrowed; NULL = no recording */
    bool (*token_room_ok)(void *ctx, const char *token, const char *room);
    void *token_ctx;
    const struct vb_log *log;
    struct vr_rooms rooms;
    struct vr_sessions sessions;
    pthread_mutex_t perm_lock;
    json_t *perm; /* the rooms file's entries: object "<id>" -> room object; under perm_lock */
    struct vr_worker workers[VR_WORKERS];
};

/* The callbacks given by the core (NULL before any handle attached). */
const struct gw_plugin_callbacks *vr_callbacks(struct vr *v);
/* A referenced session for `h`, or NULL when it is gone. */
struct vr_session *vr_session_get(struct vr *v, struct gw_handle *h);
void vr_session_unref(struct vr_session *s);
/* Handles one asynchronous message (worker thread): pushes the reply event. */
void vr_async_handle(struct vr *v, struct vr_msg *m);

#endif
