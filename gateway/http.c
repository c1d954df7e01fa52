/* This file implements the Janus REST transport: path parsing under the base path, bounded
 * request bodies, id injection from the path (457 on conflicts), long polls with maxev, info and
 * ping over GET, CORS headers and OPTIONS preflights, on a libmicrohttpd daemon.
 *
 * DESIGN: every JSON reply is HTTP 200 (Janus puts errors in the body); transport failures are
 * status-only (404 unknown path or session, 302 for a long poll on a handle path, 403 for an
 * unauthorized poll, 413 for a body over the limit). This first version runs one thread per
 * connection, so a long poll simply blocks in gw_session_events_take(). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "gateway/http.h"

struct gw_http {
    struct gw_core *core;
    struct MHD_Daemon *d;
    char *base;
    char *origin;
    int hold_ms;
    size_t max_body;
    uint16_t port;
};

/* Per-request state, freed in the completion callback. */
struct http_req {
    struct vb_buf body;
    bool too_big;
};

/* The path below the base: ids, or a word (info/ping). */
struct http_path {
    uint64_t sid, hid;
    const char *word; /* "info" or "ping" at the first level, else NULL */
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

/* A decimal id of 1..19 digits; 0 when not one. */
static uint64_t parse_id(const char *s, size_t n)
{
    if (n == 0 || n > 19)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v;
}

/* 0, or -ENOENT when the URL is outside the base or too deep. */
static int parse_path(const struct gw_http *h, const char *url, struct http_path *p)
{
    memset(p, 0, sizeof *p);
    size_t bl = strlen(h->base);
    if (strncmp(url, h->base, bl) != 0)
        return -ENOENT;
    const char *rest = url + bl;
    if (*rest == '\0' || strcmp(rest, "/") == 0)
        return 0;
    if (*rest != '/')
        return -ENOENT;
    rest++;
    const char *slash = strchr(rest, '/');
    size_t n1 = slash ? (size_t)(slash - rest) : strlen(rest);
    if (!slash && (strcmp(rest, "info") == 0 || strcmp(rest, "ping") == 0)) {
        p->word = rest;
        return 0;
    }
    p->sid = parse_id(rest, n1);
    if (!p->sid)
        return -ENOENT;
    if (!slash || slash[1] == '\0')
        return 0;
    const char *second = slash + 1;
    if (strchr(second, '/'))
        return -ENOENT;
    p->hid = parse_id(second, strlen(second));
    return p->hid ? 0 : -ENOENT;
}

static enum MHD_Result long_poll(struct gw_http *h, struct MHD_Connection *c, uint64_t sid)
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
    struct gw_session *s;
    if (gw_core_session_get(h->core, sid, &s) < 0)
        return send_status(h, c, MHD_HTTP_NOT_FOUND, NULL);
    int maxev = 1;
    const char *mv = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "maxev");
    if (mv) {
        long v = strtol(mv, NULL, 10);
        maxev = v < 1 ? 1 : v > 1000 ? 1000 : (int)v;
    }
    json_t *arr;
    int n = gw_session_events_take(s, maxev, h->hold_ms, &arr);
    gw_session_unref(s);
    if (n <= 0)
        json_array_append_new(arr, json_pack("{s:s}", "janus", "keepalive"));
    if (maxev == 1) {
        json_t *one = json_incref(json_array_get(arr, 0));
        json_decref(arr);
        return send_json(h, c, one);
    }
    return send_json(h, c, arr);
}

static enum MHD_Result handle_get(struct gw_http *h, struct MHD_Connection *c,
                                  const struct http_path *p)
{
    if (p->word && strcmp(p->word, "ping") == 0)
        return send_json(h, c, json_pack("{s:s}", "janus", "pong"));
    if (p->word) {
        json_t *req = json_pack("{s:s, s:s}", "janus", "info", "transaction", "info");
        json_t *reply;
        gw_core_handle(h->core, NULL, req, &reply);
        json_decref(req);
        json_object_del(reply, "transaction");
        return send_json(h, c, reply);
    }
    if (p->hid) {
        char loc[64];
        snprintf(loc, sizeof loc, "%s/%" PRIu64, h->base, p->sid);
        return send_status(h, c, MHD_HTTP_FOUND, loc);
    }
    if (!p->sid)
        return send_status(h, c, MHD_HTTP_NOT_FOUND, NULL);
    return long_poll(h, c, p->sid);
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
    if (inject_id(req, "session_id", p->sid) || inject_id(req, "handle_id", p->hid)) {
        json_t *t = json_object_get(req, "transaction");
        json_t *e = gw_core_error(p->sid, json_is_string(t) ? json_string_value(t) : NULL,
                                  GW_ERR_INVALID_REQUEST_PATH, "Invalid path for this request");
        json_decref(req);
        return send_json(h, c, e);
    }
    struct gw_request_ctx ctx = {.session_id = p->sid, .handle_id = p->hid};
    json_t *reply;
    gw_core_handle(h->core, &ctx, req, &reply);
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
    if (*data_size) {
        if (!r->too_big && vb_buf_put(&r->body, data, *data_size) < 0)
            r->too_big = true;
        *data_size = 0;
        return MHD_YES;
    }
    struct http_path p;
    if (parse_path(h, url, &p) < 0)
        return send_status(h, c, MHD_HTTP_NOT_FOUND, NULL);
    if (strcmp(method, "OPTIONS") == 0)
        return send_status(h, c, MHD_HTTP_OK, NULL);
    if (strcmp(method, "GET") == 0)
        return handle_get(h, c, &p);
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
    (void)cls;
    (void)c;
    (void)toe;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    vb_buf_free(&r->body);
    free(r);
    *con_cls = NULL;
}

int gw_http_start(struct gw_core *core, const struct gw_http_config *cfg, struct gw_http **out)
{
    if (!core || !cfg || !out)
        return -EINVAL;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
    if (inet_pton(AF_INET, cfg->address ? cfg->address : "127.0.0.1", &sa.sin_addr) != 1)
        return -EINVAL;
    struct gw_http *h = xcalloc(1, sizeof *h);
    h->core = core;
    h->base = xstrdup(cfg->base_path ? cfg->base_path : "/janus");
    h->origin = xstrdup(cfg->allow_origin ? cfg->allow_origin : "*");
    h->hold_ms = cfg->hold_ms > 0 ? cfg->hold_ms : 30000;
    h->max_body = cfg->max_body ? cfg->max_body : 1024 * 1024;
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->d) {
        gw_http_stop(h);
        return -EADDRINUSE;
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

void gw_http_stop(struct gw_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h->base);
    free(h->origin);
    free(h);
}
