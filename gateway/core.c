/* This file implements the Janus request router: validation of the mandatory elements, the
 * order of checks Janus applies (session id, handle id, authorization, session lookup, activity,
 * handle lookup, verb, path), the core's settings and its `info` reply, and the callbacks the
 * core gives plugins.
 *
 * DESIGN: the router is a pure function of (core state, path ids, request object) to a reply
 * object, so every transport (HTTP now, others later) shares it and the tests drive it without
 * sockets. Replies and errors are built here; events (detached, hangup, plugin events) are
 * queued on the session for the transport's long poll to take. As in Janus, verbs are matched
 * without regard to case, and an id in the body that is not an integer counts as absent. The
 * Admin API (admin.c) shares the first checks, the root path's info/ping and the session and
 * handle lookup (core_internal.h); its own order of checks differs around them. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "common/xalloc.h"
#include "gateway/core_internal.h"

#ifndef VB_GIT_SHA
#define VB_GIT_SHA "not-a-git-repo"
#endif

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

const struct gw_plugin_reg *gw_plugin_find(struct gw_core *g, const char *package)
{
    for (const struct gw_plugin_reg *p = g->plugins; p && p->plugin; p++)
        if (strcmp(p->plugin->package, package) == 0)
            return p;
    return NULL;
}

static bool handle_detached(struct gw_handle *h)
{
    pthread_mutex_lock(&h->session->lock);
    bool detached = h->detached;
    pthread_mutex_unlock(&h->session->lock);
    return detached;
}

/* The media layer merges our transport into a plugin's jsep; without one it goes as is. */
static json_t *client_jsep(struct gw_handle *h, json_t *jsep)
{
    const struct gw_media_ops *m = h->session->core->media_ops;
    if (!jsep || !m)
        return jsep;
    json_t *out = NULL;
    int err = m->local_jsep(m->ctx, h, jsep, &out);
    json_decref(jsep);
    return err < 0 ? NULL : out;
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
    jsep = client_jsep(h, jsep);
    if (jsep)
        json_object_set_new(ev, "jsep", jsep);
    gw_session_push(s, ev);
    return 0;
}

static int relay_rtp(struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len)
{
    const struct gw_media_ops *m = h->session->core->media_ops;
    return m ? m->send_rtp(m->ctx, h, mindex, pkt, len) : -ENOTCONN;
}

static int relay_rtcp(struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len)
{
    const struct gw_media_ops *m = h->session->core->media_ops;
    return m ? m->send_rtcp(m->ctx, h, mindex, pkt, len) : -ENOTCONN;
}

static int relay_data(struct gw_handle *h, const char *label, bool binary, const uint8_t *buf,
                      size_t len)
{
    (void)h, (void)label, (void)binary, (void)buf, (void)len;
    return -ENOTCONN;
}

/* The PeerConnection goes (a hangup event "Close PC" when there was one); the plugin is told
 * through hangup_media like for any hangup. */
static int close_pc(struct gw_handle *h)
{
    if (handle_detached(h))
        return -ENOENT;
    gw_handle_hangup(h, "Close PC");
    return 0;
}

static int end_session(struct gw_handle *h)
{
    return gw_handle_detach_notify(h);
}

/* No event handlers are built yet: plugin events go nowhere, as in Janus without handlers. */
static void notify_event(struct gw_handle *h, json_t *event)
{
    (void)h;
    json_decref(event);
}

/* Copies the media layer's info, filling the defaults of a gateway without one. */
static void media_init(struct gw_media_info *m, const struct gw_media_info *from)
{
    if (from)
        *m = *from;
    if (!m->local_ip)
        m->local_ip = "127.0.0.1";
    if (!m->ice_nomination)
        m->ice_nomination = "aggressive";
    if (!m->candidates_timeout_s)
        m->candidates_timeout_s = 45;
    if (!m->min_nack_queue_ms)
        m->min_nack_queue_ms = 200;
    if (!m->twcc_period_ms)
        m->twcc_period_ms = 200;
    if (!m->dtls_mtu)
        m->dtls_mtu = 1200;
}

int gw_core_create(const struct gw_core_config *cfg, struct gw_core **out)
{
    if (!cfg || !out)
        return -EINVAL;
    struct gw_core *g = xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    pthread_mutex_init(&g->defer_lock, NULL);
    pthread_cond_init(&g->defer_cond, NULL);
    g->timeout_s = cfg->session_timeout_s < 0 ? 60 : cfg->session_timeout_s;
    g->max_events = cfg->max_events ? cfg->max_events : 1000;
    g->accepting = true;
    g->clock = cfg->clock;
    g->plugins = cfg->plugins;
    g->media_ops = cfg->media_ops;
    g->auth = cfg->auth;
    g->auth_plugin = cfg->auth_plugin;
    g->auth_ctx = cfg->auth_ctx;
    g->server_name = cfg->server_name ? cfg->server_name : "Verbatim";
    g->log_path = cfg->log_path;
    g->api_secret_on = cfg->api_secret_on;
    g->token_auth_on = cfg->token_auth_on;
    media_init(&g->media, cfg->media);
    g->cb.push_event = push_event;
    g->cb.relay_rtp = relay_rtp;
    g->cb.relay_rtcp = relay_rtcp;
    g->cb.relay_data = relay_data;
    g->cb.close_pc = close_pc;
    g->cb.end_session = end_session;
    g->cb.notify_event = notify_event;
    *out = g;
    return 0;
}

static void transport_free(struct gw_transport_info *t)
{
    free((char *)t->package);
    free((char *)t->name);
    free((char *)t->author);
    free((char *)t->description);
    free((char *)t->version_string);
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
    pthread_mutex_lock(&g->defer_lock); /* plugin hooks still running (a worker's message) */
    while (g->deferred > 0)
        pthread_cond_wait(&g->defer_cond, &g->defer_lock);
    pthread_mutex_unlock(&g->defer_lock);
    for (size_t i = 0; i < g->ntransports; i++)
        transport_free(&g->transports[i]);
    free(g->transports);
    pthread_cond_destroy(&g->defer_cond);
    pthread_mutex_destroy(&g->defer_lock);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

int gw_core_transport_add(struct gw_core *g, const struct gw_transport_info *t)
{
    if (!t || !t->package || !t->name || !t->author || !t->description || !t->version_string)
        return -EINVAL;
    int rc = 0;
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->ntransports; i++)
        if (strcmp(g->transports[i].package, t->package) == 0)
            rc = -EEXIST;
    if (rc == 0) {
        g->transports = xrealloc(g->transports, (g->ntransports + 1) * sizeof *g->transports);
        g->transports[g->ntransports++] = (struct gw_transport_info){
            .package = xstrdup(t->package),
            .name = xstrdup(t->name),
            .author = xstrdup(t->author),
            .description = xstrdup(t->description),
            .version_string = xstrdup(t->version_string),
            .version = t->version,
        };
    }
    pthread_mutex_unlock(&g->lock);
    return rc;
}

void gw_core_set_accepting(struct gw_core *g, bool accept)
{
    pthread_mutex_lock(&g->lock);
    g->accepting = accept;
    pthread_mutex_unlock(&g->lock);
}

bool gw_core_accepting(struct gw_core *g)
{
    pthread_mutex_lock(&g->lock);
    bool accepting = g->accepting;
    pthread_mutex_unlock(&g->lock);
    return accepting;
}

void gw_core_set_session_timeout(struct gw_core *g, int64_t seconds)
{
    pthread_mutex_lock(&g->lock);
    g->timeout_s = seconds < 0 ? 0 : seconds;
    pthread_mutex_unlock(&g->lock);
}

int64_t gw_core_session_timeout(struct gw_core *g)
{
    pthread_mutex_lock(&g->lock);
    int64_t t = g->timeout_s;
    pthread_mutex_unlock(&g->lock);
    return t;
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

/* {"<package>":{name, author, description, version_string, version}} for one module. */
static void module_add(json_t *to, const char *package, const char *name, const char *author,
                       const char *description, const char *version_string, int version)
{
    json_object_set_new(to, package,
                        json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "author", author,
                                  "description", description, "version_string", version_string,
                                  "version", version));
}

static json_t *modules_info(struct gw_core *g, json_t *info)
{
    json_t *transports = json_object();
    for (size_t i = 0; i < g->ntransports; i++) { /* under core lock */
        const struct gw_transport_info *t = &g->transports[i];
        module_add(transports, t->package, t->name, t->author, t->description, t->version_string,
                   t->version);
    }
    json_t *plugins = json_object();
    for (const struct gw_plugin_reg *r = g->plugins; r && r->plugin; r++) {
        const struct gw_plugin *p = r->plugin;
        module_add(plugins, p->package, p->name, p->author, p->description, p->version_string,
                   p->version);
    }
    json_t *deps = json_pack("{s:s, s:s, s:s}", "jansson", JANSSON_VERSION, "libmicrohttpd",
                             MHD_get_version(), "crypto", OpenSSL_version(OPENSSL_VERSION));
    json_object_set_new(info, "dependencies", deps);
    json_object_set_new(info, "transports", transports);
    json_object_set_new(info, "events", json_object());
    json_object_set_new(info, "loggers", json_object());
    json_object_set_new(info, "plugins", plugins);
    return info;
}

/* The ICE/DTLS part, in Janus's order, between "server-name" and "api_secret". */
static void media_keys(const struct gw_media_info *m, json_t *i)
{
    json_object_set_new(i, "local-ip", json_string(m->local_ip));
    json_object_set_new(i, "ipv6", json_boolean(m->ipv6));
    json_object_set_new(i, "ice-lite", json_boolean(m->ice_lite));
    json_object_set_new(i, "ice-tcp", json_boolean(m->ice_tcp));
    json_object_set_new(i, "ice-nomination", json_string(m->ice_nomination));
    json_object_set_new(i, "ice-keepalive-conncheck", json_boolean(m->keepalive_conncheck));
    json_object_set_new(i, "full-trickle", json_boolean(m->full_trickle));
    json_object_set_new(i, "mdns-enabled", json_boolean(m->mdns));
    json_object_set_new(i, "min-nack-queue", json_integer(m->min_nack_queue_ms));
    json_object_set_new(i, "nack-optimizations", json_boolean(m->nack_optimizations));
    json_object_set_new(i, "twcc-period", json_integer(m->twcc_period_ms));
    json_object_set_new(i, "dtls-mtu", json_integer(m->dtls_mtu));
    json_object_set_new(i, "static-event-loops", json_integer(m->static_event_loops));
}

json_t *gw_server_info(struct gw_core *g, const char *tr)
{
    const struct gw_media_info *m = &g->media;
    json_t *i = json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:b}", "janus", "server_info", "transaction",
        tr, "name", "Verbatim", "version", version_number(), "version_string", VB_VERSION, "author",
        "the Verbatim authors", "commit-hash", VB_GIT_SHA, "compile-time", __DATE__ " " __TIME__,
        "log-to-stdout", g->log_path == NULL, "log-to-file", g->log_path != NULL);
    if (g->log_path)
        json_object_set_new(i, "log-path", json_string(g->log_path));
    pthread_mutex_lock(&g->lock);
    json_object_set_new(i, "data_channels", json_boolean(m->data_channels));
    json_object_set_new(i, "accepting-new-sessions", json_boolean(g->accepting));
    json_object_set_new(i, "session-timeout", json_integer((json_int_t)g->timeout_s));
    json_object_set_new(i, "reclaim-session-timeout", json_integer(0));
    json_object_set_new(i, "candidates-timeout", json_integer(m->candidates_timeout_s));
    json_object_set_new(i, "server-name", json_string(g->server_name));
    media_keys(m, i);
    json_object_set_new(i, "api_secret", json_boolean(g->api_secret_on));
    json_object_set_new(i, "auth_token", json_boolean(g->token_auth_on));
    json_object_set_new(i, "event_handlers", json_false());
    json_object_set_new(i, "opaqueid_in_api", json_false());
    modules_info(g, i);
    pthread_mutex_unlock(&g->lock);
    return i;
}

bool gw_core_authorized(struct gw_core *g, const json_t *request)
{
    return !g->auth || g->auth(g->auth_ctx, request);
}

static int do_create(struct gw_core *g, json_t *req, const char *tr, const char *transport,
                     json_t **reply)
{
    if (!gw_core_accepting(g))
        return gw_fail(reply, 0, tr, GW_ERR_NOT_ACCEPTING_SESSIONS,
                       "Currently not accepting new sessions");
    if (!gw_core_authorized(g, req))
        return gw_fail(reply, 0, tr, GW_ERR_UNAUTHORIZED, GW_REASON_UNAUTHORIZED);
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
        return gw_fail(reply, 0, tr, GW_ERR_NOT_ACCEPTING_SESSIONS,
                       "Currently not accepting new sessions");
    pthread_mutex_lock(&s->lock);
    s->transport = transport;
    pthread_mutex_unlock(&s->lock);
    *reply = gw_message("success", 0, tr);
    json_object_set_new(*reply, "data", json_pack("{s:I}", "id", (json_int_t)s->id));
    gw_session_unref(s);
    return 0;
}

bool gw_root_info_ping(struct gw_core *g, const char *verb, const char *tr, json_t **reply)
{
    if (strcasecmp(verb, "info") == 0)
        *reply = gw_server_info(g, tr);
    else if (strcasecmp(verb, "ping") == 0)
        *reply = gw_message("pong", 0, tr);
    else
        return false;
    return true;
}

static int route_no_session(struct gw_core *g, json_t *req, const char *verb, const char *tr,
                            const char *transport, json_t **reply)
{
    if (gw_root_info_ping(g, verb, tr, reply))
        return 0;
    if (strcasecmp(verb, "create") == 0)
        return do_create(g, req, tr, transport, reply);
    return gw_fail(reply, 0, tr, GW_ERR_INVALID_REQUEST_PATH, "Unhandled request '%s' at this path",
                   verb);
}

/* Reads an id from the path or, when the path has none, from the body: a body value that is
 * not an integer reads as 0, as in Janus. `present` says whether the body had a non-null one. */
static int64_t pick_id(uint64_t from_path, json_t *req, const char *key, bool *present)
{
    *present = from_path != 0;
    if (from_path)
        return (int64_t)from_path;
    json_t *v = json_object_get(req, key);
    if (!v || json_is_null(v))
        return 0;
    *present = true;
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

int gw_route_lookup(struct gw_core *g, uint64_t sid, const char *tr, int64_t hid, bool has_hid,
                    bool touch, struct gw_session **s, struct gw_handle **h, json_t **reply)
{
    *h = NULL;
    if ((touch ? gw_core_session_get(g, sid, s) : gw_core_session_find(g, sid, s)) < 0)
        return gw_fail(reply, sid, tr, GW_ERR_SESSION_NOT_FOUND, "No such session %" PRIu64, sid);
    if (!has_hid)
        return 0;
    *h = gw_session_handle_find(*s, (uint64_t)hid);
    if (*h)
        return 0;
    gw_session_unref(*s);
    *s = NULL;
    return gw_fail(reply, sid, tr, GW_ERR_HANDLE_NOT_FOUND,
                   "No such handle %" PRId64 " in session %" PRIu64, hid, sid);
}

static int route_session(struct gw_route *r, int64_t hid, bool has_hid, json_t **reply)
{
    if (has_hid && hid < 1)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_HANDLE_NOT_FOUND, "Handle not found");
    if (!gw_core_authorized(r->g, r->req))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNAUTHORIZED, GW_REASON_UNAUTHORIZED);
    int code = gw_route_lookup(r->g, r->sid, r->tr, hid, has_hid, true, &r->s, &r->h, reply);
    if (code)
        return code;
    code = gw_verb_dispatch(r, reply);
    gw_handle_unref(r->h);
    gw_session_unref(r->s);
    return code;
}

int gw_request_check_object(const json_t *request, json_t **reply)
{
    if (!request)
        return gw_fail(reply, 0, NULL, GW_ERR_MISSING_REQUEST, "Missing request");
    if (!json_is_object(request))
        return gw_fail(reply, 0, NULL, GW_ERR_INVALID_JSON_OBJECT, "JSON error: not an object");
    return 0;
}

int gw_request_check_mandatory(json_t *request, uint64_t esid, const char **tr, const char **verb,
                               json_t **reply)
{
    json_t *t = json_object_get(request, "transaction");
    if (!t)
        return gw_fail(reply, esid, NULL, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (transaction)");
    if (!json_is_string(t))
        return gw_fail(reply, esid, NULL, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (transaction should be a string)");
    json_t *j = json_object_get(request, "janus"); /* Janus's errors here omit the transaction */
    if (!j)
        return gw_fail(reply, esid, NULL, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (janus)");
    if (!json_is_string(j))
        return gw_fail(reply, esid, NULL, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (janus should be a string)");
    *tr = json_string_value(t);
    *verb = json_string_value(j);
    return 0;
}

int gw_core_handle(struct gw_core *g, const struct gw_request_ctx *ctx, json_t *request,
                   json_t **reply)
{
    int code = gw_request_check_object(request, reply);
    if (code)
        return code;
    bool has_sid, has_hid;
    int64_t sid = pick_id(ctx ? ctx->session_id : 0, request, "session_id", &has_sid);
    int64_t hid = pick_id(ctx ? ctx->handle_id : 0, request, "handle_id", &has_hid);
    /* Janus names the session (when there is a valid one) in these errors too. */
    const char *tr, *verb;
    code = gw_request_check_mandatory(request, sid > 0 ? (uint64_t)sid : 0, &tr, &verb, reply);
    if (code)
        return code;
    const char *transport = ctx ? ctx->transport : NULL;
    if (sid == 0 && hid == 0)
        return route_no_session(g, request, verb, tr, transport, reply);
    if (sid < 1)
        return gw_fail(reply, 0, tr, GW_ERR_SESSION_NOT_FOUND, "Session not found");
    struct gw_route r = {.g = g,
                         .req = request,
                         .verb = verb,
                         .tr = tr,
                         .sid = (uint64_t)sid,
                         .transport = transport};
    return route_session(&r, hid, has_hid, reply);
}
