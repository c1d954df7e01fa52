/* gateway/core_internal.h — structures shared by core.c (the router) and session.c (sessions,
 * handles, event queues). Not for other modules.
 *
 * Locking: `gw_core.lock` guards the session table and the settings; `gw_session.lock` guards
 * one session's handles, event queue and activity time. Order: core lock, then session lock.
 * Plugin hooks are never called with either held. */
#ifndef VB_GATEWAY_CORE_INTERNAL_H
#define VB_GATEWAY_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "gateway/core.h"

#define GW_BUCKETS 1024

struct gw_handle {
    atomic_int refs;
    uint64_t id;
    struct gw_session *session; /* referenced */
    const struct gw_plugin_reg *reg;
    void *state;            /* the plugin's; set once by create_session */
    char *opaque_id;        /* from attach, or NULL; immutable */
    char *token;            /* attach's token when token auth is on, or NULL; immutable */
    int64_t created_us;     /* monotonic */
    bool detached;          /* under session lock */
    int hooks;              /* plugin hooks running on this handle; under session lock */
    bool destroy_pending;   /* detached while hooks ran: the last one out destroys */
    _Atomic(void *) media;  /* the media layer's PeerConnection, or NULL */
    bool alert;             /* hung up (Janus's "alert" flag); under session lock */
    bool trickled;          /* a trickle arrived (Janus's "trickle" flag); under session lock */
    json_t *trickles;       /* array; under session lock */
    struct gw_handle *next; /* in the session's list, under session lock */
};

struct gw_session {
    atomic_int refs;
    uint64_t id;
    struct gw_core *core;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int64_t last_activity_us;
    int64_t timeout_s;     /* own timeout, or -1 = the core's; under the lock */
    const char *transport; /* package of the transport that created or claimed it; under lock */
    bool gone;             /* destroyed or timed out: no new handles */
    struct gw_handle *handles;
    /* Bounded ring of queued events (json_t *), oldest at `head`. */
    json_t **ev;
    size_t ev_cap, ev_head, ev_len;
    uint64_t ev_dropped;
    uint64_t ev_dropped_untold; /* dropped since the last events_dropped notice */
    struct gw_waiter *waiters;  /* armed long polls, under the lock */
    struct gw_session *next;    /* in the core's bucket, under core lock */
};

struct gw_core {
    pthread_mutex_t lock;
    struct gw_session *buckets[GW_BUCKETS];
    size_t nsessions;
    int64_t timeout_s;
    bool accepting;
    size_t max_events;
    const struct vb_clock *clock;
    const struct gw_plugin_reg *plugins;
    gw_auth_fn auth;
    gw_auth_plugin_fn auth_plugin;
    void *auth_ctx;
    const char *server_name;
    const char *log_path;
    bool api_secret_on, token_auth_on;
    struct gw_media_info media;           /* defaults filled in */
    const struct gw_media_ops *media_ops; /* NULL = no media layer */
    struct gw_transport_info *transports; /* owned copies, under core lock */
    size_t ntransports;
    struct gw_plugin_callbacks cb;
    /* Detaches deferred until a running plugin hook leaves (gw_handle_hook_leave): the core
     * is not freed before they are done, since the hook may still use `cb`. */
    pthread_mutex_t defer_lock;
    pthread_cond_t defer_cond;
    unsigned deferred; /* under defer_lock */
};

/* One request being routed (core.c fills it, verbs.c answers it). */
struct gw_route {
    struct gw_core *g;
    json_t *req;
    const char *verb;
    const char *tr; /* transaction */
    uint64_t sid;
    struct gw_session *s;  /* referenced */
    struct gw_handle *h;   /* referenced; NULL on session paths */
    const char *transport; /* the request's transport package, or NULL */
};

/* The reason of every 403 (both APIs), as Janus words it. */
#define GW_REASON_UNAUTHORIZED "Unauthorized request (wrong or missing secret/token)"

/* core.c: sets *reply to an error and returns `code`. */
int gw_fail(json_t **reply, uint64_t sid, const char *tr, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* core.c: {"janus":kind,"session_id":S (when nonzero),"transaction":T}. */
json_t *gw_message(const char *kind, uint64_t sid, const char *tr);

/* core.c: the server_info reply (`info` on both APIs). New reference. */
json_t *gw_server_info(struct gw_core *g, const char *tr);
/* core.c: the registered plugin with this package, or NULL. */
const struct gw_plugin_reg *gw_plugin_find(struct gw_core *g, const char *package);

/* core.c: the checks the Janus API and the Admin API (admin.c) share, in Janus's order. Each
 * returns 0, or the Janus error code with *reply set to the error (caller owns it).
 * gw_request_check_object: there is a request (452) and it is an object (455).
 * gw_request_check_mandatory: "transaction" then "janus" are present (456) and strings (467);
 * these errors name the session `esid` (0 = none) and, as Janus's, carry no transaction. On
 * success *tr and *verb point into `request`. */
int gw_request_check_object(const json_t *request, json_t **reply);
int gw_request_check_mandatory(json_t *request, uint64_t esid, const char **tr, const char **verb,
                               json_t **reply);
/* core.c: answers `info` and `ping` on the root path of either API: true with *reply set when
 * `verb` is one of them (case-insensitive), else false. */
bool gw_root_info_ping(struct gw_core *g, const char *verb, const char *tr, json_t **reply);
/* core.c: looks up the session `sid` of a session or handle path and, when `has_hid`, its
 * handle `hid`. `touch` makes the lookup count as the session's activity (the Janus API) or
 * not (the Admin API). 0 with *s referenced and *h referenced (NULL when !has_hid), or 458 /
 * 459 with *reply set and nothing referenced. */
int gw_route_lookup(struct gw_core *g, uint64_t sid, const char *tr, int64_t hid, bool has_hid,
                    bool touch, struct gw_session **s, struct gw_handle **h, json_t **reply);

/* verbs.c: answers a request on a session or handle path. Returns 0 or the error code. */
int gw_verb_dispatch(struct gw_route *r, json_t **reply);
/* verbs.c: detaches `h` (referenced by the caller) with a `detached` event and answers
 * success, or 463 when it was already detached (both APIs' detach). 0 or 463, *reply set. */
int gw_verb_detach(struct gw_handle *h, uint64_t sid, const char *tr, json_t **reply);

/* session.c */
uint64_t gw_random_id(void);
/* Creates and inserts a session with `id` (0 = random). 0, -EEXIST, or -EAGAIN (draining). */
int gw_session_create(struct gw_core *g, uint64_t id, struct gw_session **out);
/* Removes the session from the table (if still there) and detaches its handles. Queues
 * `final_event` (stolen, may be NULL) for pollers. */
void gw_session_end(struct gw_session *s, json_t *final_event);
/* Queues an event (stolen), dropping the oldest when full, and wakes takers. */
void gw_session_push(struct gw_session *s, json_t *ev);
/* Finds a live session and references it without counting as activity (Admin API). 0 or
 * -ENOENT. */
int gw_core_session_find(struct gw_core *g, uint64_t id, struct gw_session **out);
/* The ids of the live sessions / of a session's handles: new JSON arrays. */
json_t *gw_core_session_list(struct gw_core *g);
json_t *gw_session_handle_list(struct gw_session *s);
/* The session's timeout in force: its own, else the core's (seconds, 0 = never). */
int64_t gw_session_timeout_of(struct gw_session *s);
/* Attaches a handle to `reg`'s plugin; `opaque_id` and `token` (may be NULL) are copied. 0,
 * -ENOENT (session gone) or the plugin's error. */
int gw_handle_attach(struct gw_session *s, const struct gw_plugin_reg *reg, const char *opaque_id,
                     const char *token, struct gw_handle **out);
/* Finds a handle of the session and references it, or NULL. */
struct gw_handle *gw_session_handle_find(struct gw_session *s, uint64_t id);
/* Unlinks a handle and tells its plugin. -ENOENT if already detached. */
int gw_handle_detach(struct gw_handle *h);
/* gw_handle_hook_enter/leave (core.h): while a hook runs, a detach unlinks the handle at once
 * but defers destroy_session to the last hook's leave, so a plugin never sees its state freed
 * under a running hook. */
/* gw_handle_detach, then a `detached` event for the session's pollers (detach, end_session,
 * the Admin API's detach_handle). */
int gw_handle_detach_notify(struct gw_handle *h);
/* Hangs up the handle's media for `reason` ("Janus API", "Admin API"): the plugin's
 * hangup_media once until media is negotiated again. With no PeerConnection there is no
 * `hangup` event, as in Janus. */
void gw_handle_hangup(struct gw_handle *h, const char *reason);
void gw_handle_trickle_push(struct gw_handle *h, json_t *item);

#endif
