/* gateway/http.h — the Janus REST transport over libmicrohttpd.
 *
 * Serves `<base>`, `<base>/<session>` and `<base>/<session>/<handle>` (POST requests into
 * gw_core_handle, GET long polls on the session's event queue), `GET <base>/info` and
 * `GET <base>/ping`, CORS on every reply and OPTIONS preflights. The server is owned by whoever
 * starts it; the core is borrowed and must outlive it. Start and stop from one thread.
 *
 * First version: one thread per connection, a long poll blocks its thread for up to `hold_ms`
 * (suspend/resume for thousands of idle polls is future work). */
#ifndef VB_GATEWAY_HTTP_H
#define VB_GATEWAY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/core.h"

struct gw_http;

struct gw_http_config {
    const char *address;      /* numeric IPv4; NULL = "127.0.0.1" */
    uint16_t port;            /* 0 = any free port (read it back with gw_http_port) */
    const char *base_path;    /* NULL = "/janus" */
    int hold_ms;              /* long-poll hold; 0 = the default (30000) */
    const char *allow_origin; /* NULL = "*" */
    size_t max_body;          /* 0 = the default (1 MiB) */
};

/* Binds and starts serving. 0, -EINVAL, or a negative errno from bind/listen. */
int gw_http_start(struct gw_core *core, const struct gw_http_config *cfg, struct gw_http **out);
/* The bound port. */
uint16_t gw_http_port(const struct gw_http *h);
/* Stops serving (waits for running long polls to return) and frees. NULL is a no-op. */
void gw_http_stop(struct gw_http *h);

#endif
