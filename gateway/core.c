/* This file implements the Janus request router: validation of the mandatory elements, the
 * order of checks Janus applies (session id, handle id, authorization, session lookup, activity,
 * handle lookup, verb, path), and one small function per verb building the reply Janus sends.
 *
 * DESIGN: the router is a pure function of (core state, path ids, request object) to a reply
 * object, so every transport (HTTP now, others later) shares it and the tests drive it without
 * sockets. Replies and errors are built here; events (detached, hangup, plugin events) are
 * queued on the session for the transport's long poll to take. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/core_internal.h"

json_t *gw_core_error(uint64_t session_id, const char *transaction, int code, const char *reason)
{
    json_t *e = json_pack("{s:s}", "janus", "error");
    if (session_id)
        json_object_set_new(e, "session_id", json_integer((json_int_t)session_id));
    if (transaction)
        json_object_set_new(e, "transaction", json_string(transaction));
    json_object_set_new(e, "error", json_pack("{s:i, s:s}", "code", code, "reason", reason));
    return e;
}

int gw_fail(json_t **reply, uint64_t sid, const char *tr, int code, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    *reply = gw_core_error(sid, tr, code, reason);
    return code;
}

/* {"janus":kind,"session_id":S?,"transaction":T} */
json_t *gw_message(const char *kind, uint64_t sid, const char *tr)
{
    json_t *m = json_pack("{s:s}", "janus", kind);
    if (sid)
        json_object_set_new(m, "session_id", json_integer((json_int_t)sid));
    json_object_set_new(m, "transaction", json_string(tr));
    return m;
}

static bool handle_detached(struct gw_handle *h)
{
    pthread_mutex_lock(&h->session->lock);
    bool detached = h->detached;
    pthread_mutex_unlock(&h->session->lock);
    return detached;
}

static int push_event(struct gw_handle *h, const char *transaction, json_t *data, json_t *jsep)
{
    struct gw_session *s = h->session;
    if (handle_detached(h)) {
        json_decref(data);
        json_decref(jsep);
        return -ENOENT;
    }
    json_t *ev = json_pack("{s:s, s:I, s:I}", "janus", "event", "session_id", (json_int_t)s->id,
                           "sender", (json_int_t)h->id);
    if (transaction)
        json_object_set_new(ev, "transaction", json_string(transaction));
    json_object_set_new(ev, "plugindata",
                        json_pack("{s:s, s:o}", "plugin", h->reg->plugin->package, "data",
                                  data ? data : json_object()));
    if (jsep)
        json_object_set_new(ev, "jsep", jsep);
    gw_session_push(s, ev);
    return 0;
}

/* The media layer is not built yet: no handle has a PeerConnection to send on. */
static int relay_packet(struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len)
{
    (void)h, (void)mindex, (void)pkt, (void)len;
    return -ENOTCONN;
}

static int relay_data(struct gw_handle *h, const char *label, bool binary, const uint8_t *buf,
                      size_t len)
{
    (void)h, (void)label, (void)binary, (void)buf, (void)len;
    return -ENOTCONN;
}

/* Without a PeerConnection there is nothing to close (and Janus sends no hangup then). */
static int close_pc(struct gw_handle *h)
{
    return handle_detached(h) ? -ENOENT : 0;
}

static int end_session(struct gw_handle *h)
{
    int err = gw_handle_detach(h);
    if (err < 0)
        return err;
    gw_session_push(h->session, json_pack("{s:s, s:I, s:I}", "janus", "detached", "session_id",
                                          (json_int_t)h->session->id, "sender", (json_int_t)h->id));
    return 0;
}

/* No event handlers are built yet: plugin events go nowhere, as in Janus without handlers. */
static void notify_event(struct gw_handle *h, json_t *event)
{
    (void)h;
    json_decref(event);
}

int gw_core_create(const struct gw_core_config *cfg, struct gw_core **out)
{
    if (!cfg || !out)
        return -EINVAL;
    struct gw_core *g = xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    g->timeout_s = cfg->session_timeout_s < 0 ? 60 : cfg->session_timeout_s;
    g->max_events = cfg->max_events ? cfg->max_events : 1000;
    g->accepting = true;
    g->clock = cfg->clock;
    g->plugins = cfg->plugins;
    g->auth = cfg->auth;
    g->auth_ctx = cfg->auth_ctx;
    g->server_name = cfg->server_name ? cfg->server_name : "Verbatim";
    g->cb.push_event = push_event;
    g->cb.relay_rtp = relay_packet;
    g->cb.relay_rtcp = relay_packet;
    g->cb.relay_data = relay_data;
    g->cb.close_pc = close_pc;
    g->cb.end_session = end_session;
    g->cb.notify_event = notify_event;
    *out = g;
    return 0;
}

void gw_core_destroy(struct gw_core *g)
{
    if (!g)
        return;
    for (size_t b = 0; b < GW_BUCKETS; b++) {
        while (g->buckets[b]) {
            struct gw_session *s = g->buckets[b];
            gw_session_ref(s);
            gw_session_end(s, NULL);
            gw_session_unref(s);
        }
    }
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void gw_core_set_accepting(struct gw_core *g, bool accept)
{
    pthread_mutex_lock(&g->lock);
    g->accepting = accept;
    pthread_mutex_unlock(&g->lock);
}

void gw_core_set_session_timeout(struct gw_core *g, int64_t seconds)
{
    pthread_mutex_lock(&g->lock);
    g->timeout_s = seconds < 0 ? 0 : seconds;
    pthread_mutex_unlock(&g->lock);
}

size_t gw_core_session_count(struct gw_core *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->nsessions;
    pthread_mutex_unlock(&g->lock);
    return n;
}

static int version_number(void)
{
    int ma = 0, mi = 0, pa = 0;
    if (sscanf(VB_VERSION, "%d.%d.%d", &ma, &mi, &pa) != 3)
        return 0;
    return ma * 1000 + mi * 100 + pa;
}

static json_t *server_info(struct gw_core *g, const char *tr)
{
    pthread_mutex_lock(&g->lock);
    int64_t timeout = g->timeout_s;
    bool accepting = g->accepting;
    pthread_mutex_unlock(&g->lock);
    json_t *plugins = json_object();
    for (const struct gw_plugin_reg *r = g->plugins; r && r->plugin; r++) {
        const struct gw_plugin *p = r->plugin;
        json_object_set_new(plugins, p->package,
                            json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", p->name, "author",
                                      p->author, "description", p->description, "version_string",
                                      p->version_string, "version", p->version));
    }
    json_t *i = json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:b, s:I, s:b, s:b}", "janus", "server_info",
        "transaction", tr, "name", g->server_name, "version", version_number(), "version_string",
        VB_VERSION, "author", "the Verbatim authors", "server-name", g->server_name,
        "accepting-new-sessions", accepting, "session-timeout", (json_int_t)timeout, "api_secret",
        g->auth != NULL, "auth_token", g->auth != NULL);
    json_object_set_new(i, "transports", json_object());
    json_object_set_new(i, "events", json_object());
    json_object_set_new(i, "plugins", plugins);
    return i;
}

bool gw_core_authorized(struct gw_core *g, const json_t *request)
{
    return !g->auth || g->auth(g->auth_ctx, request);
}

static int do_create(struct gw_core *g, json_t *req, const char *tr, json_t **reply)
{
    pthread_mutex_lock(&g->lock);
    bool accepting = g->accepting;
    pthread_mutex_unlock(&g->lock);
    if (!accepting)
        return gw_fail(reply, 0, tr, GW_ERR_NOT_ACCEPTING_SESSIONS, "Not accepting new sessions");
    if (!gw_core_authorized(g, req))
        return gw_fail(reply, 0, tr, GW_ERR_UNAUTHORIZED,
                       "Unauthorized request (wrong or missing secret/token)");
    /* Like Janus, an `id` that is not a positive integer is ignored (a random id is chosen). */
    uint64_t want = 0;
    json_t *id = json_object_get(req, "id");
    if (json_is_integer(id) && json_integer_value(id) > 0)
        want = (uint64_t)json_integer_value(id);
    struct gw_session *s;
    int err = gw_session_create(g, want, &s);
    if (err == -EEXIST)
        return gw_fail(reply, want, tr, GW_ERR_SESSION_CONFLICT, "Session ID already in use");
    if (err == -EAGAIN)
        return gw_fail(reply, 0, tr, GW_ERR_NOT_ACCEPTING_SESSIONS, "Not accepting new sessions");
    *reply = gw_message("success", 0, tr);
    json_object_set_new(*reply, "data", json_pack("{s:I}", "id", (json_int_t)s->id));
    gw_session_unref(s);
    return 0;
}

static int route_no_session(struct gw_core *g, json_t *req, const char *verb, const char *tr,
                            json_t **reply)
{
    if (strcmp(verb, "info") == 0) {
        *reply = server_info(g, tr);
        return 0;
    }
    if (strcmp(verb, "ping") == 0) {
        *reply = gw_message("pong", 0, tr);
        return 0;
    }
    if (strcmp(verb, "create") == 0)
        return do_create(g, req, tr, reply);
    return gw_fail(reply, 0, tr, GW_ERR_INVALID_REQUEST_PATH, "Unhandled request '%s' at this path",
                   verb);
}

/* Reads an id from the path or, when the path has none, from the body. -1 when the body's is
 * not a non-negative integer; `present` says whether there was any. */
static int64_t pick_id(uint64_t from_path, json_t *req, const char *key, bool *present)
{
    *present = from_path != 0;
    if (from_path)
        return (int64_t)from_path;
    json_t *v = json_object_get(req, key);
    if (!v)
        return 0;
    *present = true;
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static int route_session(struct gw_route *r, int64_t hid, bool has_hid, json_t **reply)
{
    if (has_hid && hid < 1)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_HANDLE_NOT_FOUND, "Handle not found");
    if (!gw_core_authorized(r->g, r->req))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNAUTHORIZED,
                       "Unauthorized request (wrong or missing secret/token)");
    if (gw_core_session_get(r->g, r->sid, &r->s) < 0)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_SESSION_NOT_FOUND, "No such session %" PRIu64,
                       r->sid);
    int code;
    if (has_hid) {
        r->h = gw_session_handle_find(r->s, (uint64_t)hid);
        if (!r->h) {
            code = gw_fail(reply, r->sid, r->tr, GW_ERR_HANDLE_NOT_FOUND,
                           "No such handle %" PRId64 " in session %" PRIu64, hid, r->sid);
            goto out_unref;
        }
    }
    code = gw_verb_dispatch(r, reply);
    gw_handle_unref(r->h);
out_unref:
    gw_session_unref(r->s);
    return code;
}

int gw_core_handle(struct gw_core *g, const struct gw_request_ctx *ctx, json_t *request,
                   json_t **reply)
{
    if (!request)
        return gw_fail(reply, 0, NULL, GW_ERR_MISSING_REQUEST, "Missing request");
    if (!json_is_object(request))
        return gw_fail(reply, 0, NULL, GW_ERR_INVALID_JSON_OBJECT, "JSON error: not an object");
    json_t *t = json_object_get(request, "transaction");
    if (!t)
        return gw_fail(reply, 0, NULL, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (transaction)");
    if (!json_is_string(t))
        return gw_fail(reply, 0, NULL, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (transaction should be a string)");
    const char *tr = json_string_value(t);
    json_t *j = json_object_get(request, "janus");
    if (!j)
        return gw_fail(reply, 0, tr, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (janus)");
    if (!json_is_string(j))
        return gw_fail(reply, 0, tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (janus should be a string)");
    bool has_sid, has_hid;
    int64_t sid = pick_id(ctx ? ctx->session_id : 0, request, "session_id", &has_sid);
    int64_t hid = pick_id(ctx ? ctx->handle_id : 0, request, "handle_id", &has_hid);
    if (sid == 0 && hid == 0)
        return route_no_session(g, request, json_string_value(j), tr, reply);
    if (sid < 1)
        return gw_fail(reply, 0, tr, GW_ERR_SESSION_NOT_FOUND, "Session not found");
    struct gw_route r = {
        .g = g, .req = request, .verb = json_string_value(j), .tr = tr, .sid = (uint64_t)sid};
    return route_session(&r, hid, has_hid, reply);
}
