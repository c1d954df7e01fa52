/* gateway/core.h — the Janus core API as a pure function over Jansson objects.
 *
 * A `struct gw_core` owns the sessions, their handles and their event queues, and routes every
 * Janus request (create, attach, message, trickle, ...) independently of any transport: the
 * HTTP transport parses a body, fills a `struct gw_request_ctx` with the ids from the path and
 * calls gw_core_handle(). Plugins are compiled in and given to the core at creation as a table
 * of `static const struct gw_plugin` vtables with a context pointer each (no global registry).
 *
 * Threads: every public function may be called from any thread; the core locks internally.
 * Plugin hooks are called without any core lock held, so a plugin may push events from inside
 * its hooks or later from its own threads. */
#ifndef VB_GATEWAY_CORE_H
#define VB_GATEWAY_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/clock.h"

struct gw_core;
struct gw_session;
struct gw_handle;

/* Janus core error codes. */
enum {
    GW_ERR_UNAUTHORIZED = 403,
    GW_ERR_UNAUTHORIZED_PLUGIN = 405,
    GW_ERR_TRANSPORT_SPECIFIC = 450,
    GW_ERR_MISSING_REQUEST = 452,
    GW_ERR_UNKNOWN_REQUEST = 453,
    GW_ERR_INVALID_JSON = 454,
    GW_ERR_INVALID_JSON_OBJECT = 455,
    GW_ERR_MISSING_MANDATORY_ELEMENT = 456,
    GW_ERR_INVALID_REQUEST_PATH = 457,
    GW_ERR_SESSION_NOT_FOUND = 458,
    GW_ERR_HANDLE_NOT_FOUND = 459,
    GW_ERR_PLUGIN_NOT_FOUND = 460,
    GW_ERR_PLUGIN_ATTACH = 461,
    GW_ERR_PLUGIN_MESSAGE = 462,
    GW_ERR_PLUGIN_DETACH = 463,
    GW_ERR_JSEP_UNKNOWN_TYPE = 464,
    GW_ERR_JSEP_INVALID_SDP = 465,
    GW_ERR_TRICKLE_INVALID_STREAM = 466,
    GW_ERR_INVALID_ELEMENT_TYPE = 467,
    GW_ERR_SESSION_CONFLICT = 468,
    GW_ERR_UNEXPECTED_ANSWER = 469,
    GW_ERR_TOKEN_NOT_FOUND = 470,
    GW_ERR_WEBRTC_STATE = 471,
    GW_ERR_NOT_ACCEPTING_SESSIONS = 472,
    GW_ERR_UNKNOWN = 490,
};

/* What handle_message() returned. */
enum gw_plugin_result {
    GW_PLUGIN_SYNC = 0,  /* *result holds the plugin's data: success + plugindata */
    GW_PLUGIN_ASYNC = 1, /* ack now; the plugin pushes an event with the transaction later */
};

/* The core's side, given to a plugin in create_session(): the plugin keeps the pointer (it
 * lives as long as the core). Every callback may be called from any thread, with no plugin
 * lock required; `h` is borrowed. */
struct gw_plugin_callbacks {
    /* Queues {"janus":"event","sender":H,"transaction":T?,"plugindata":{plugin,data},"jsep"?}
     * on the handle's session. Steals `data` and `jsep` (jsep may be NULL); `transaction` is
     * copied and may be NULL. 0, or -ENOENT when the handle was detached. */
    int (*push_event)(struct gw_handle *h, const char *transaction, json_t *data, json_t *jsep);
    /* Sends one plain RTP / RTCP packet (borrowed) on the m-line `mindex` of the handle's
     * PeerConnection; the media layer protects it. 0, or -ENOTCONN when the handle has no
     * PeerConnection up. Media threads; never blocks. */
    int (*relay_rtp)(struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len);
    int (*relay_rtcp)(struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len);
    /* Sends a data-channel message (borrowed) on channel `label` (NULL = the first).
     * 0 or -ENOTCONN. */
    int (*relay_data)(struct gw_handle *h, const char *label, bool binary, const uint8_t *buf,
                      size_t len);
    /* Closes the handle's PeerConnection (a `hangup` event with reason "Close PC" when there
     * was one); the handle stays attached. 0 or -ENOENT when detached. */
    int (*close_pc)(struct gw_handle *h);
    /* Detaches the handle as if the client had sent `detach` (a `detached` event is queued).
     * The plugin's destroy_session runs inside this call (do not hold a lock it takes) — or,
     * when one of the plugin's hooks is running on this handle (e.g. the caller's own
     * handle_message), as soon as the last such hook returns. 0 or -ENOENT when detached. */
    int (*end_session)(struct gw_handle *h);
    /* Hands an event (stolen) to the configured event handlers, `{"plugin":P,"event":E}`
     * with type 64; dropped when none are configured. */
    void (*notify_event)(struct gw_handle *h, json_t *event);
};

/* A plugin: one static const vtable. `ctx` is the plugin's own context from the table. The
 * `struct gw_handle *` passed to the hooks is borrowed: valid until destroy_session returns,
 * or longer if the plugin takes gw_handle_ref(). Hooks marked "may be NULL" are optional.
 * destroy_session never runs while another hook of the same handle is running: a detach that
 * comes meanwhile is completed when that hook returns. */
struct gw_plugin {
    const char *name;    /* "VideoRoom plugin" */
    const char *package; /* "janus.plugin.videoroom" */
    const char *author;
    const char *description;
    const char *version_string;
    int version;
    /* A handle attached: set *state to the plugin's per-handle state. 0 or negative errno
     * (the attach then fails with 461). */
    int (*create_session)(void *ctx, const struct gw_plugin_callbacks *cb, struct gw_handle *h,
                          void **state);
    /* The handle is going away (detach, destroy, timeout): free `state`. */
    void (*destroy_session)(void *ctx, struct gw_handle *h, void *state);
    /* A message: `body` and `jsep` (may be NULL) are borrowed for the call. Returns
     * GW_PLUGIN_SYNC with *result set (owned by the core), GW_PLUGIN_ASYNC, or negative errno
     * (error 462). */
    int (*handle_message)(void *ctx, struct gw_handle *h, void *state, const char *transaction,
                          json_t *body, json_t *jsep, json_t **result);
    /* An Admin API `message_plugin` request (borrowed): *result is the reply's data (owned by
     * the core). 0 or negative errno. May be NULL (the request then fails). */
    int (*handle_admin_message)(void *ctx, json_t *request, json_t **result);
    /* The PeerConnection is up (ICE connected, DTLS done). May be NULL. Media thread. */
    void (*setup_media)(void *ctx, struct gw_handle *h, void *state);
    /* One plain (already unprotected) RTP / RTCP packet from the peer, borrowed for the call,
     * on m-line `mindex`. May be NULL. Media thread: must not block. */
    void (*incoming_rtp)(void *ctx, struct gw_handle *h, void *state, int mindex, bool video,
                         const uint8_t *pkt, size_t len);
    void (*incoming_rtcp)(void *ctx, struct gw_handle *h, void *state, int mindex, bool video,
                          const uint8_t *pkt, size_t len);
    /* A data-channel message (borrowed). May be NULL. Media thread. */
    void (*incoming_data)(void *ctx, struct gw_handle *h, void *state, const char *label,
                          bool binary, const uint8_t *buf, size_t len);
    /* Media was hung up (hangup request, close_pc, ICE/DTLS failure). May be NULL. */
    void (*hangup_media)(void *ctx, struct gw_handle *h, void *state);
    /* Plugin-specific info for handle_info; a new reference or NULL. May be NULL. */
    json_t *(*query_session)(void *ctx, struct gw_handle *h, void *state);
};

/* One entry of the plugin table given to the core; the table ends with plugin == NULL. */
struct gw_plugin_reg {
    const struct gw_plugin *plugin;
    void *ctx;
};

/* Authorization hook: return true to let the request through. `request` is borrowed. */
typedef bool (*gw_auth_fn)(void *ctx, const json_t *request);

/* Plugin-access hook for attach: may `request` (borrowed, e.g. its "token") attach a handle to
 * `plugin_package`? False makes the attach fail with 405. (gw_auth_plugin_ok fits.) */
typedef bool (*gw_auth_plugin_fn)(void *ctx, const json_t *request, const char *plugin_package);

/* What the media layer reports in `info` (Janus's ICE/DTLS keys). Copied at core creation. A
 * zero field takes the default in brackets, which describes a gateway with no media layer. */
struct gw_media_info {
    const char *local_ip;       /* "local-ip" ["127.0.0.1"] */
    const char *ice_nomination; /* "ice-nomination" ["aggressive"] */
    int candidates_timeout_s;   /* "candidates-timeout" [45] */
    int min_nack_queue_ms;      /* "min-nack-queue" [200] */
    int twcc_period_ms;         /* "twcc-period" [200] */
    int dtls_mtu;               /* "dtls-mtu" [1200] */
    int static_event_loops;     /* "static-event-loops" [0] */
    bool data_channels;         /* "data_channels" [false] */
    bool ipv6, ice_lite, ice_tcp, full_trickle, mdns, nack_optimizations, keepalive_conncheck;
};

/* A transport as listed in `info`'s "transports". Strings are copied. */
struct gw_transport_info {
    const char *package; /* "janus.transport.http" */
    const char *name;
    const char *author;
    const char *description;
    const char *version_string;
    int version;
};

/* The media layer's side, given to the core at creation (gw_core_config.media_ops; NULL = no
 * media layer: a jsep then reaches the plugin untouched and nothing is sent). Every hook may be
 * called from any thread with no core lock held; `h` is borrowed. */
struct gw_media_ops {
    void *ctx;
    /* A client's jsep (borrowed) arrived with a message on `h`: check it, create or update the
     * PeerConnection, and set *plugin_jsep to what the plugin gets (a new reference: the SDP
     * without transport attributes). 0, or a Janus error code (464 unknown type, 465 invalid
     * SDP, 469 unexpected answer, 471 wrong state) with `reason` filled. */
    int (*remote_jsep)(void *ctx, struct gw_handle *h, json_t *jsep, json_t **plugin_jsep,
                       char *reason, size_t rlen);
    /* A plugin pushes a jsep (borrowed) on `h`: set *client_jsep to what the client gets (a new
     * reference: our ICE and DTLS attributes and candidates merged in). May wait briefly for
     * candidate gathering. 0 or negative errno (the event then goes without a jsep). */
    int (*local_jsep)(void *ctx, struct gw_handle *h, json_t *jsep, json_t **client_jsep);
    /* Trickle candidates were queued on `h` (gw_handle_trickles_take them when ready). */
    void (*trickled)(void *ctx, struct gw_handle *h);
    /* Hang up `h`'s PeerConnection, if any: queue {"janus":"hangup","reason":R} and stop
     * media. True when there was one. */
    bool (*hangup)(void *ctx, struct gw_handle *h, const char *reason);
    /* `h` is being detached: free its PeerConnection (after this no media hook runs on it). */
    void (*detached)(void *ctx, struct gw_handle *h);
    /* The plugin's relay_rtp / relay_rtcp / relay_data. */
    int (*send_rtp)(void *ctx, struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len);
    int (*send_rtcp)(void *ctx, struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len);
    /* handle_info's WebRTC part: fills `info` (borrowed) with flags/sdps/webrtc keys. */
    void (*info)(void *ctx, struct gw_handle *h, json_t *info);
    /* Admin API start_pcap: captures the plain RTP and RTCP of `h`'s PeerConnection into a new
     * pcap file at `path` (created or truncated), `truncate` bytes of each packet (0 = all).
     * 0, -ENOTCONN (no PeerConnection), -EALREADY (a capture runs) or the -errno of creating the
     * file. May be NULL (no capture). Control threads: may block on disk. */
    int (*start_pcap)(void *ctx, struct gw_handle *h, const char *path, size_t truncate);
    /* Admin API stop_pcap: ends `h`'s capture; the file is complete when it returns. 0 or
     * -ENOENT (none runs). May be NULL. Control threads. */
    int (*stop_pcap)(void *ctx, struct gw_handle *h);
};

/* The media layer's per-handle state (its PeerConnection), an opaque pointer the media layer
 * sets and reads; NULL when none. Any thread (atomic). */
void *gw_handle_media(const struct gw_handle *h);
void gw_handle_set_media(struct gw_handle *h, void *media);
/* The plugin's vtable and context of a handle, for the media layer's hooks (setup_media,
 * incoming_rtp, ...): call them between gw_handle_hook_enter and gw_handle_hook_leave. */
const struct gw_plugin_reg *gw_handle_plugin(const struct gw_handle *h);
void *gw_handle_plugin_state(const struct gw_handle *h);
/* Guards a plugin hook call on `h`: enter returns false when the handle is detached (do not
 * call). destroy_session waits for every entered hook to leave. Any thread. */
bool gw_handle_hook_enter(struct gw_handle *h);
void gw_handle_hook_leave(struct gw_handle *h);
/* Queues an event (stolen) on the handle's session, for the media layer's webrtcup, media,
 * slowlink and hangup events. */
void gw_handle_push(struct gw_handle *h, json_t *event);
/* The media layer lost the PeerConnection (ICE failed, DTLS alert, ...): the plugin is told
 * (hangup_media, once per negotiation). The media layer queued the hangup event itself. */
void gw_handle_media_hangup(struct gw_handle *h);

struct gw_core_config {
    const struct gw_plugin_reg *plugins; /* borrowed, must outlive the core; may be NULL */
    int64_t session_timeout_s;           /* 0 = never; < 0 = the default (60) */
    size_t max_events;                   /* per-session queue bound; 0 = the default (1000) */
    const struct vb_clock *clock;        /* borrowed; NULL = system clock */
    gw_auth_fn auth;                     /* NULL = everything passes */
    void *auth_ctx;
    const char *server_name; /* borrowed; NULL = "Verbatim" */
    /* Checked on attach after the plugin is found (uses auth_ctx); NULL = every plugin. */
    gw_auth_plugin_fn auth_plugin;
    bool api_secret_on; /* what `info` says as "api_secret" */
    bool token_auth_on; /* "auth_token"; also keeps a handle's token for the Admin API */
    const struct gw_media_info *media;    /* NULL = the defaults of struct gw_media_info */
    const char *log_path;                 /* `info`'s "log-path"; NULL = logging to the console */
    const struct gw_media_ops *media_ops; /* borrowed; NULL = no media layer */
};

/* Transport-provided context of one request. */
struct gw_request_ctx {
    uint64_t session_id; /* from the path, 0 = none (then the body's session_id is used) */
    uint64_t handle_id;  /* from the path, 0 = none (then the body's handle_id is used) */
    /* Package of the transport ("janus.transport.http"), kept on sessions it creates or claims
     * (handle_info's "session_transport"). A string that outlives the core; NULL = unknown. */
    const char *transport;
};

/* Creates a core. 0 or -EINVAL. The caller owns *out (gw_core_destroy). Any thread. */
int gw_core_create(const struct gw_core_config *cfg, struct gw_core **out);
/* Destroys every session (plugins told) and frees the core. NULL is a no-op. No other call may
 * be running. */
void gw_core_destroy(struct gw_core *g);

/* Handles one request. `request` is borrowed. *reply is always set to a new JSON object owned by
 * the caller (a success, ack, server_info, pong or error). Returns 0, or the Janus error code
 * carried by the reply (positive). Any thread. */
int gw_core_handle(struct gw_core *g, const struct gw_request_ctx *ctx, json_t *request,
                   json_t **reply);

/* Builds {"janus":"error","session_id":S?,"transaction":T?,"error":{code,reason}} (session_id
 * when nonzero, transaction when non-NULL). New reference. */
json_t *gw_core_error(uint64_t session_id, const char *transaction, int code, const char *reason);

/* Expires sessions idle for longer than the timeout: each is removed, its handles detached
 * (plugins told) and {"janus":"timeout","session_id":S} queued for a poller still holding it.
 * Returns how many expired. Call periodically from any thread. */
int gw_core_sweep(struct gw_core *g);

/* Runs the configured authorization hook on `request` (borrowed): true when it passes or when no
 * hook is set. For transports that authorize requests they build themselves (long polls). */
bool gw_core_authorized(struct gw_core *g, const json_t *request);

/* Draining: when false, create answers 472. Any thread. */
void gw_core_set_accepting(struct gw_core *g, bool accept);

/* Session timeout in seconds (0 = never). Any thread. */
void gw_core_set_session_timeout(struct gw_core *g, int64_t seconds);

/* The global session timeout in seconds (0 = never) and whether create is accepted. */
int64_t gw_core_session_timeout(struct gw_core *g);
bool gw_core_accepting(struct gw_core *g);

/* One session's own timeout: seconds (0 = never), or -1 to follow the global one again.
 * 0, -EINVAL (seconds < -1) or -ENOENT. Any thread. */
int gw_core_session_set_timeout(struct gw_core *g, uint64_t session_id, int64_t seconds);

/* Lists a transport in `info` (the transport registers itself when it starts). 0, -EINVAL (a
 * NULL string) or -EEXIST (package already listed). Any thread. */
int gw_core_transport_add(struct gw_core *g, const struct gw_transport_info *t);

/* Number of live sessions. Any thread. */
size_t gw_core_session_count(struct gw_core *g);

/* Finds a session, refreshes its activity (a long poll is a keepalive) and takes a reference
 * for the caller (gw_session_unref). 0 or -ENOENT. Any thread. */
int gw_core_session_get(struct gw_core *g, uint64_t id, struct gw_session **out);

void gw_session_ref(struct gw_session *s);
/* Drops a reference; the last one frees the session and any queued events. NULL is a no-op. */
void gw_session_unref(struct gw_session *s);
uint64_t gw_session_id(const struct gw_session *s);

/* Takes up to `maxev` (>= 1) queued events into *out, a new JSON array owned by the caller,
 * waiting up to `timeout_ms` for the first (0 = don't wait). Returns how many were taken
 * (0 on timeout, *out then an empty array), or -EINVAL. Any thread; several takers may wait. */
int gw_session_events_take(struct gw_session *s, int maxev, int timeout_ms, json_t **out);
/* A waiter for events, for transports that park a long poll instead of blocking a thread
 * (libmicrohttpd suspend/resume). Owned by the caller and embedded in its own state. */
struct gw_waiter {
    /* Called once, with the session's lock held, when an event was queued or the session
     * ended; the waiter is disarmed before the call. Must be quick and take no gateway lock
     * (e.g. MHD_resume_connection). Returns false when the poll was already being resumed for
     * another reason (its timer): the event then goes to the next armed waiter. */
    bool (*wake)(void *ctx);
    void *ctx;
    struct gw_waiter *next; /* the session's */
    bool armed;
};

/* Arms `w` on the session: 0, or -EAGAIN when events are queued or the session has ended (take
 * them now instead of waiting). One armed waiter is woken per queued event (pollers share the
 * queue like Janus's), every one when the session ends. Any thread. */
int gw_session_waiter_arm(struct gw_session *s, struct gw_waiter *w);
/* Disarms `w` if still armed; after it returns, wake() is not running and will not be called.
 * Any thread but wake()'s. */
void gw_session_waiter_disarm(struct gw_session *s, struct gw_waiter *w);
/* True once the session was destroyed or timed out. */
bool gw_session_ended(struct gw_session *s);

/* Events dropped so far because the bounded queue was full (the oldest go first). The next
 * take then starts with {"janus":"events_dropped","session_id":S,"dropped":N} (N since the last
 * such notice), so the client knows it missed events. */
uint64_t gw_session_events_dropped(struct gw_session *s);

/* Handle references, for plugins that push events from their own threads. */
void gw_handle_ref(struct gw_handle *h);
void gw_handle_unref(struct gw_handle *h);
uint64_t gw_handle_id(const struct gw_handle *h);
uint64_t gw_handle_session_id(const struct gw_handle *h);
/* The opaque_id given at attach, or NULL; valid as long as the handle is referenced. */
const char *gw_handle_opaque_id(const struct gw_handle *h);

/* Takes the trickle candidates queued on a handle (a new JSON array, in arrival order; each
 * item is a candidate object, or {"completed":true}). Any thread. */
json_t *gw_handle_trickles_take(struct gw_handle *h);

/* Looks up a handle of a live session and references it (gw_handle_unref). 0 or -ENOENT. */
int gw_core_handle_get(struct gw_core *g, uint64_t session_id, uint64_t handle_id,
                       struct gw_handle **out);

#endif
