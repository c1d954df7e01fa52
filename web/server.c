/* This file implements the web server's life and the first steps of every request: the
 * listening socket, the libmicrohttpd daemon, bearer-token checks, request bodies (bounded),
 * and the JSON replies the rest of web/ queues.
 *
 * DESIGN: we bind the listening socket ourselves and hand it to libmicrohttpd, so a busy port
 * is a precise -EADDRINUSE with a sentence instead of a log line from inside the library, and
 * port 0 is read back with getsockname(). Authentication happens on the first call of a
 * request, before any body is read: a POST without a valid token or too long for the limit
 * is answered at once. A body is accumulated in a bounded buffer owned by the request
 * (freed in the completion callback); a chunked body that grows past the limit is drained
 * and answered 413 at its end. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "web/web_internal.h"

/* Per-request state of a request that carries a body. */
struct web_req {
    struct vb_buf body;
    bool too_big;
};

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status,
                             struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static struct MHD_Response *json_response(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text)
        return NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    return resp;
}

enum MHD_Result web_reply_json(struct MHD_Connection *conn, unsigned status, json_t *obj)
{
    return queue(conn, status, json_response(obj));
}

enum MHD_Result web_reply_error_hdr(struct MHD_Connection *conn, unsigned status, const char *hdr,
                                    const char *value, const char *msg)
{
    struct MHD_Response *resp = json_response(json_pack("{s:s}", "error", msg));
    if (resp && hdr)
        MHD_add_response_header(resp, hdr, value);
    return queue(conn, status, resp);
}

enum MHD_Result web_reply_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return web_reply_error_hdr(conn, status, NULL, NULL, msg);
}

void web_call_who(const struct web_call *call, char *buf, size_t len)
{
    char host[NI_MAXHOST] = "?";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(call->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        socklen_t sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                              : sizeof(struct sockaddr_in);
        if (getnameinfo(ci->client_addr, sl, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
            snprintf(host, sizeof(host), "?");
    }
    snprintf(buf, len, "%s@%s", call->w->token_tag, host);
}

void web_call_audit(const struct web_call *call, const char *action, const char *object)
{
    char who[WEB_WHO_MAX];
    web_call_who(call, who, sizeof(who));
    int rc = catalog_audit(call->w->cat, who, action, object);
    if (rc != 0)
        vb_log_error(call->w->log, "web: audit of %s %s failed: %s", action, object, strerror(-rc));
}

/* ------------------------------------------------------------------------------------------ */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Whether the request carries the server's token: in the Authorization header, or for the
 * download routes (which <audio>/<video> elements fetch) in the query string. */
static bool authorized(struct web *w, struct MHD_Connection *conn, const char *url)
{
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t n = 0;
    const char *tok = auth ? web_token_from_header(auth, &n) : NULL;
    if (tok)
        return web_token_check(w, tok, n);
    if (has_suffix(url, "/file")) {
        const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
        if (q)
            return web_token_check(w, q, strlen(q));
    }
    return false;
}

static enum MHD_Result reply_page(struct MHD_Connection *conn)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        web_page_html_len(), (void *)web_page_html, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; "
                            "style-src 'unsafe-inline'; connect-src 'self'; media-src 'self'; "
                            "img-src 'self' data:; frame-ancestors 'none'");
    return queue(conn, MHD_HTTP_OK, resp);
}

static bool is_api(const char *url)
{
    return strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0;
}

/* Answers a request whose body (if any) is complete. */
static enum MHD_Result dispatch(struct web *w, struct MHD_Connection *conn, const char *url,
                                const char *method, const struct vb_buf *body)
{
    if (is_api(url)) {
        struct web_call call = {
            .w = w,
            .conn = conn,
            .url = url,
            .method = method,
            .body = body ? body->p : NULL,
            .body_len = body ? body->len : 0,
        };
        return web_api_handle(&call);
    }
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return web_reply_error_hdr(conn, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
                                       "GET, HEAD", "method not allowed");
        return reply_page(conn);
    }
    return web_reply_error(conn, MHD_HTTP_NOT_FOUND, "no such page");
}

/* The first call of a request: headers are in, no body read yet. */
static enum MHD_Result on_headers(struct web *w, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **req_cls)
{
    if (is_api(url) && !authorized(w, conn, url))
        return web_reply_error_hdr(conn, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                   "Bearer realm=\"verbatim\"", "missing or wrong bearer token");
    if (!web_api_accepts_body(url, method))
        return dispatch(w, conn, url, method, NULL);
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || n > WEB_BODY_MAX)
            return web_reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                                   "request body larger than %d bytes", WEB_BODY_MAX);
    }
    struct web_req *req = xcalloc(1, sizeof(*req));
    vb_buf_init(&req->body, WEB_BODY_MAX);
    *req_cls = req;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct web *w = cls;
    struct web_req *req = *req_cls;
    if (!req)
        return on_headers(w, conn, url, method, req_cls);
    if (*upload_data_size) {
        if (!req->too_big && vb_buf_put(&req->body, upload_data, *upload_data_size) != 0)
            req->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_big)
        return web_reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                               "request body larger than %d bytes", WEB_BODY_MAX);
    return dispatch(w, conn, url, method, &req->body);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct web_req *req = *req_cls;
    if (!req)
        return;
    vb_buf_free(&req->body);
    free(req);
    *req_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    vb_log_debug((const struct vb_log *)cls, "web: libmicrohttpd: %s", line);
}

/* ------------------------------------------------------------------------------------------ */

/* A listening socket on addr:port; the bound port in *bound. -errno. */
static int listen_on(const char *addr, unsigned port, int *fd_out, unsigned *bound)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
    };
    char service[16];
    snprintf(service, sizeof(service), "%u", port);
    struct addrinfo *ai = NULL;
    if (getaddrinfo(addr, service, &hints, &ai) != 0 || !ai)
        return -EINVAL;
    int rc = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out_free;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        rc = -errno;
        goto out_close;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rc = -errno;
        goto out_close;
    }
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    goto out_free;
out_close:
    close(fd);
out_free:
    freeaddrinfo(ai);
    return rc;
}

static int check_config(const struct web_config *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->catalog || !cfg->data_dir || !cfg->token) {
        snprintf(err, errlen, "web: catalog, data directory and token are required");
        return -EINVAL;
    }
    if (!web_token_valid(cfg->token, strlen(cfg->token))) {
        snprintf(err, errlen, "web: the token must be 1 to %d printable characters", WEB_TOKEN_MAX);
        return -EINVAL;
    }
    if (cfg->port > 65535 || cfg->threads > 256) {
        snprintf(err, errlen, "web: port or thread count out of range");
        return -EINVAL;
    }
    return 0;
}

int web_start(const struct web_config *cfg, struct web **out, char *err, size_t errlen)
{
    int rc = check_config(cfg, err, errlen);
    if (rc)
        return rc;
    const char *addr = cfg->bind_addr ? cfg->bind_addr : WEB_DEFAULT_ADDR;
    struct web *w = xcalloc(1, sizeof(*w));
    w->cat = cfg->catalog;
    w->log = cfg->log;
    w->data_dir = realpath(cfg->data_dir, NULL);
    if (!w->data_dir) {
        rc = -errno;
        snprintf(err, errlen, "web: data directory %s: %s", cfg->data_dir, strerror(errno));
        goto out_free;
    }
    w->data_dir_len = strlen(w->data_dir);
    vb_sha256(cfg->token, strlen(cfg->token), w->token_digest);
    char hex[VB_SHA256_HEX];
    vb_sha256_hex(w->token_digest, hex);
    snprintf(w->token_tag, sizeof(w->token_tag), "token:%.8s", hex);

    int fd = -1;
    rc = listen_on(addr, cfg->port, &fd, &w->port);
    if (rc) {
        snprintf(err, errlen, "web: cannot listen on %s port %u: %s", addr, cfg->port,
                 rc == -EINVAL ? "not a numeric address" : strerror(-rc));
        goto out_free;
    }
    unsigned threads = cfg->threads ? cfg->threads : 4;
    w->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
                              0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
                              (void *)cfg->log, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED,
                              on_completed, w, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_END);
    if (!w->mhd) {
        close(fd);
        rc = -EIO;
        snprintf(err, errlen, "web: libmicrohttpd did not start on %s port %u", addr, w->port);
        goto out_free;
    }
    vb_log_info(cfg->log, "web: catalog on http://%s%s%s:%u/", strchr(addr, ':') ? "[" : "", addr,
                strchr(addr, ':') ? "]" : "", w->port);
    *out = w;
    return 0;
out_free:
    free(w->data_dir);
    free(w);
    return rc;
}

unsigned web_port(const struct web *w)
{
    return w->port;
}

void web_stop(struct web *w)
{
    if (!w)
        return;
    MHD_stop_daemon(w->mhd);
    free(w->data_dir);
    free(w);
}
