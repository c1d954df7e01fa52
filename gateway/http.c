/* This file implements the Janus REST and Admin transports: path parsing under the base path,
 * bounded request bodies, id injection from the path (457 on conflicts), long polls with maxev,
 * info and ping over GET, CORS headers and OPTIONS preflights, on a libmicrohttpd daemon with a
 * fixed pool of epoll threads.
 *
 * DESIGN: every JSON reply is HTTP 200 (Janus puts errors in the body); transport failures are
 * status-only (404 unknown path or session, 302 for a long poll on a handle path, 403 for an
 * unauthorized poll, 413 for a body over the limit). A long poll with nothing queued is parked
 * (http_poll.c): its connection is suspended, so thousands of idle polls cost no threads, and
 * the handler below runs again when it is resumed to answer with what is queued by then. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/http_internal.h"

#define GW_HTTP_PACKAGE "janus.transport.http"

/* Per-request state, freed in the completion callback. */
struct http_req {
    struct vb_buf body;
    bool too_big;
    bool polling; /* a long poll: `poll` is live */
    struct http_poll poll;
};

static void add_cors(struct gw_http *h, struct MHD_Connection *c, struct MHD_Response *r)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", h->origin);
    MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    const char *m =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method");
    if (m)
        MHD_add_response_header(r, "Access-Control-Allow-Methods", m);
    const char *hd =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    if (hd)
        MHD_add_response_header(r, "Access-Control-Allow-Headers", hd);
}

static enum MHD_Result send_status(struct gw_http *h, struct MHD_Connection *c, unsigned status,
                                   const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    add_cors(h, c, r);
    if (location)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    enum MHD_Result res = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return res;
}

/* Sends `obj` (stolen) as HTTP 200 JSON. */
static enum MHD_Result send_json(struct gw_http *h, struct MHD_Connection *c, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    add_cors(h, c, r);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return res;
}

/* Answers a long poll with the events in `arr` (stolen; a keepalive when empty). */
static enum MHD_Result poll_reply(struct gw_http *h, struct MHD_Connection *c, int maxev,
                                  json_t *arr)
{
    if (json_array_size(arr) == 0)
        json_array_append_new(arr, json_pack("{s:s}", "janus", "keepalive"));
    if (maxev == 1) {
        json_t *one = json_incref(json_array_get(arr, 0));
        json_decref(arr);
        return send_json(h, c, one);
    }
    return send_json(h, c, arr);
}

/* Takes what is queued; parks the poll when there is nothing yet and time is left. */
static enum MHD_Result poll_step(struct gw_http *h, struct MHD_Connection *c, struct http_req *r)
{
    struct http_poll *poll = &r->poll;
    json_t *arr;
    int n = gw_session_events_take(poll->s, poll->maxev, 0, &arr);
    if (n > 0 || gw_session_ended(poll->s) || atomic_load(&h->stopping) ||
        vb_clock_mono_us() >= poll->deadline_us)
        return poll_reply(h, c, poll->maxev, arr);
    json_decref(arr);
    http_poll_park(h, poll);
    return MHD_YES;
}

static enum MHD_Result long_poll(struct gw_http *h, struct MHD_Connection *c, uint64_t sid,
                                 struct http_req *r)
{
    json_t *auth = json_object();
    const char *secret = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "apisecret");
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (secret)
        json_object_set_new(auth, "apisecret", json_string(secret));
    if (token)
        json_object_set_new(auth, "token", json_string(token));
    bool ok = gw_core_authorized(h->core, auth);
    json_decref(auth);
    if (!ok)
        return send_status(h, c, MHD_HTTP_FORBIDDEN, NULL);
    struct http_poll *poll = &r->poll;
    if (gw_core_session_get(h->core, sid, &poll->s) < 0)
        return send_status(h, c, MHD_HTTP_NOT_FOUND, NULL);
    r->polling = true;
    atomic_fetch_add(&h->polls_live, 1);
    poll->h = h;
    poll->conn = c;
    poll->heap_ix = SIZE_MAX;
    poll->deadline_us = vb_clock_mono_us() + (int64_t)h->hold_ms * 1000;
    poll->maxev = 1;
    const char *mv = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "maxev");
    if (mv) {
        long v = strtol(mv, NULL, 10);
        poll->maxev = v < 1 ? 1 : v > 1000 ? 1000 : (int)v;
    }
    return poll_step(h, c, r);
}

/* Runs the request handler: the core's unless the server was given another (the Admin API). */
static int run_handler(struct gw_http *h, const struct gw_request_ctx *ctx, json_t *req,
                       json_t **reply)
{
    if (h->handler)
        return h->handler(h->handler_ctx, ctx, req, reply);
    return gw_core_handle(h->core, ctx, req, reply);
}

static enum MHD_Result handle_get(struct gw_http *h, struct MHD_Connection *c,
                                  const struct http_path *p, struct http_req *r)
{
    if (p->word && strcmp(p->word, "ping") == 0)
        return send_json(h, c, json_pack("{s:s}", "janus", "pong"));
    if (p->word) {
        json_t *req = json_pack("{s:s, s:s}", "janus", "info", "transaction", "info");
        json_t *reply;
        run_handler(h, NULL, req, &reply);
        json_decref(req);
        json_object_del(reply, "transaction");
        return send_json(h, c, reply);
    }
    if (h->handler && p->sid) /* the Admin API has no long polls: Janus answers so */
        return send_json(h, c,
                         gw_core_error(0, NULL, GW_ERR_INVALID_JSON, "Request payload missing"));
    if (p->hid) {
        char loc[64];
        snprintf(loc, sizeof loc, "%s/%" PRIu64, h->base, p->sid);
        return send_status(h, c, MHD_HTTP_FOUND, loc);
    }
    if (!p->sid)
        return send_status(h, c, MHD_HTTP_NOT_FOUND, NULL);
    return long_poll(h, c, p->sid, r);
}

/* 0, or 457 when the body names another session/handle than the path. */
static int inject_id(json_t *req, const char *key, uint64_t from_path)
{
    if (!from_path)
        return 0;
    json_t *v = json_object_get(req, key);
    if (json_is_integer(v) && json_integer_value(v) != 0 &&
        (uint64_t)json_integer_value(v) != from_path)
        return GW_ERR_INVALID_REQUEST_PATH;
    json_object_set_new(req, key, json_integer((json_int_t)from_path));
    return 0;
}

static enum MHD_Result handle_post(struct gw_http *h, struct MHD_Connection *c,
                                   const struct http_path *p, struct http_req *r)
{
    if (p->word)
        return send_status(h, c, MHD_HTTP_NOT_FOUND, NULL);
    if (r->body.len == 0)
        return send_json(h, c,
                         gw_core_error(0, NULL, GW_ERR_INVALID_JSON, "JSON error: empty body"));
    json_error_t err;
    json_t *req = json_loadb((const char *)r->body.p, r->body.len, 0, &err);
    if (!req) {
        char why[256];
        snprintf(why, sizeof why, "JSON error: on line %d: %s", err.line, err.text);
        return send_json(h, c, gw_core_error(0, NULL, GW_ERR_INVALID_JSON, why));
    }
    if (!json_is_object(req)) {
        json_decref(req);
        return send_json(
            h, c, gw_core_error(0, NULL, GW_ERR_INVALID_JSON_OBJECT, "JSON error: not an object"));
    }
    /* Janus answers a conflict without session_id or transaction. */
    if (inject_id(req, "session_id", p->sid)) {
        json_decref(req);
        return send_json(h, c,
                         gw_core_error(0, NULL, GW_ERR_INVALID_REQUEST_PATH,
                                       "Conflicting session ID (payload and path)"));
    }
    if (inject_id(req, "handle_id", p->hid)) {
        json_decref(req);
        return send_json(h, c,
                         gw_core_error(0, NULL, GW_ERR_INVALID_REQUEST_PATH,
                                       "Conflicting handle ID (payload and path)"));
    }
    struct gw_request_ctx ctx = {
        .session_id = p->sid, .handle_id = p->hid, .transport = GW_HTTP_PACKAGE};
    json_t *reply;
    run_handler(h, &ctx, req, &reply);
    json_decref(req);
    return send_json(h, c, reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    struct gw_http *h = cls;
    struct http_req *r = *con_cls;
    if (!r) {
        r = xcalloc(1, sizeof *r);
        vb_buf_init(&r->body, h->max_body);
        *con_cls = r;
        return MHD_YES;
    }
    if (r->polling) { /* a parked long poll was resumed */
        http_poll_unpark(h, &r->poll);
        return poll_step(h, c, r);
    }
    if (*data_size) {
        if (!r->too_big && vb_buf_put(&r->body, data, *data_size) < 0)
            r->too_big = true;
        *data_size = 0;
        return MHD_YES;
    }
    struct http_path p;
    if (http_path_parse(h->base, url, &p) < 0)
        return send_status(h, c, MHD_HTTP_NOT_FOUND, NULL);
    if (strcmp(method, "OPTIONS") == 0)
        return send_status(h, c, MHD_HTTP_OK, NULL);
    if (strcmp(method, "GET") == 0)
        return handle_get(h, c, &p, r);
    if (strcmp(method, "POST") == 0) {
        if (r->too_big)
            return send_status(h, c, MHD_HTTP_CONTENT_TOO_LARGE, NULL);
        return handle_post(h, c, &p, r);
    }
    return send_json(h, c, gw_core_error(0, NULL, GW_ERR_TRANSPORT_SPECIFIC, "Unsupported method"));
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    if (r->polling) {
        struct gw_http *h = cls;
        http_poll_unpark(h, &r->poll);
        gw_session_unref(r->poll.s);
        atomic_fetch_sub(&h->polls_live, 1);
    }
    vb_buf_free(&r->body);
    free(r);
    *con_cls = NULL;
}

/* Fills `ss` from a numeric IPv4 or IPv6 address. */
static int make_addr(const char *address, uint16_t port, struct sockaddr_storage *ss, bool *ipv6)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *ipv6 = false;
        return 0;
    }
    if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *ipv6 = true;
        return 0;
    }
    return -EINVAL;
}

int gw_http_start(struct gw_core *core, const struct gw_http_config *cfg, struct gw_http **out)
{
    if (!core || !cfg || !out)
        return -EINVAL;
    struct sockaddr_storage ss;
    bool ipv6;
    if (make_addr(cfg->address ? cfg->address : "127.0.0.1", cfg->port, &ss, &ipv6) < 0)
        return -EINVAL;
    struct gw_http *h = xcalloc(1, sizeof *h);
    h->core = core;
    h->base = xstrdup(cfg->base_path ? cfg->base_path : "/janus");
    h->origin = xstrdup(cfg->allow_origin ? cfg->allow_origin : "*");
    h->hold_ms = cfg->hold_ms > 0 ? cfg->hold_ms : 30000;
    h->max_body = cfg->max_body ? cfg->max_body : 1024 * 1024;
    h->handler = cfg->handler;
    h->handler_ctx = cfg->handler_ctx;
    int err = http_park_start(&h->park);
    if (err < 0) {
        gw_http_stop(h);
        return err;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     (ipv6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 2),
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(cfg->max_connections ? cfg->max_connections : 20000),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)120, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->d) {
        gw_http_stop(h);
        return -EADDRINUSE;
    }
    if (!h->handler) {
        struct gw_transport_info ti = {.package = GW_HTTP_PACKAGE,
                                       .name = "JANUS REST (HTTP/HTTPS) transport plugin",
                                       .author = "the Verbatim authors",
                                       .description = "The Janus API over HTTP long polls, on "
                                                      "libmicrohttpd with suspended polls",
                                       .version_string = "0.1.0",
                                       .version = 1};
        gw_core_transport_add(core, &ti); /* -EEXIST for a second server: listed once */
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : cfg->port;
    *out = h;
    return 0;
}

uint16_t gw_http_port(const struct gw_http *h)
{
    return h->port;
}

size_t gw_http_parked(struct gw_http *h)
{
    return http_park_count(&h->park);
}

void gw_http_stop(struct gw_http *h)
{
    if (!h)
        return;
    atomic_store(&h->stopping, true); /* no poll parks from now on */
    MHD_socket listen_fd = h->d ? MHD_quiesce_daemon(h->d) : MHD_INVALID_SOCKET;
    http_park_stop(&h->park); /* every parked poll is resumed to answer */
    /* Let the resumed polls send their answers (bounded: a stuck client cannot hold us). */
    for (int i = 0; i < 400 && atomic_load(&h->polls_live) > 0; i++)
        nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    if (h->d)
        MHD_stop_daemon(h->d);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    http_park_free(&h->park);
    free(h->base);
    free(h->origin);
    free(h);
}
