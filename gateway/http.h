/* gateway/http.h — the Janus REST and Admin transports over libmicrohttpd.
 *
 * Serves `<base>`, `<base>/<session>` and `<base>/<session>/<handle>` (POST requests into a
 * request handler — gw_core_handle for the Janus API, gw_admin_handle for the Admin API — and,
 * for the Janus API, GET long polls on the session's event queue), `GET <base>/info` and
 * `GET <base>/ping`, CORS on every reply and OPTIONS preflights. The server is owned by whoever
 * starts it; the core and the handler's context are borrowed and must outlive it. Start and stop
 * from one thread.
 *
 * Threads: a fixed pool of libmicrohttpd epoll threads serves every connection; a long poll
 * with nothing to return is suspended (no thread held) until an event arrives, its session ends,
 * or its hold time passes (one timer thread per server). */
#ifndef VB_GATEWAY_HTTP_H
#define VB_GATEWAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/core.h"

struct gw_http;

/* Handles one request (borrowed) and sets *reply to a new object, like gw_core_handle. */
typedef int (*gw_http_handler_fn)(void *ctx, const struct gw_request_ctx *rctx, json_t *request,
                                  json_t **reply);

struct gw_http_config {
    const char *address;      /* numeric IPv4 or IPv6; NULL = "127.0.0.1" */
    uint16_t port;            /* 0 = any free port (read it back with gw_http_port) */
    const char *base_path;    /* NULL = "/janus" */
    int hold_ms;              /* long-poll hold; 0 = the default (30000) */
    const char *allow_origin; /* NULL = "*" */
    size_t max_body;          /* 0 = the default (1 MiB) */
    unsigned threads;         /* epoll threads; 0 = the default (2) */
    unsigned max_connections; /* 0 = the default (20000) */
    /* NULL = the Janus API (gw_core_handle on the core, long polls on). Otherwise this handler
     * answers POSTs and GET info/ping, and GET on a session path is 404 (the Admin API). */
    gw_http_handler_fn handler;
    void *handler_ctx;
};

/* Binds and starts serving. 0, -EINVAL, or a negative errno from bind/listen. */
int gw_http_start(struct gw_core *core, const struct gw_http_config *cfg, struct gw_http **out);
/* The bound port. */
uint16_t gw_http_port(const struct gw_http *h);
/* Long polls parked right now (suspended, holding no thread). Any thread. */
size_t gw_http_parked(struct gw_http *h);
/* Stops serving: parked long polls are answered, then the daemon stops and everything is freed.
 * NULL is a no-op. */
void gw_http_stop(struct gw_http *h);

#endif
