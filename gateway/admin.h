/* gateway/admin.h — the Janus Admin API as a pure function over Jansson objects.
 *
 * A `struct gw_admin` answers Admin API requests (the body of a POST to `/admin`,
 * `/admin/<session>` or `/admin/<session>/<handle>`) against a core: server info and status,
 * settings changed at run time (session timeouts, log level, draining), sessions and handles
 * listed, inspected and ended, messages to plugins, and the stored tokens of gateway/auth.h.
 * Replies and error codes are Janus 1.1.2's. Every request but `info` and `ping` must carry the
 * configured `admin_secret` (error 403 otherwise).
 *
 * Ownership: whoever creates the admin owns it (gw_admin_destroy); the core, the auth object and
 * the log are borrowed and must outlive it. Threads: gw_admin_handle may be called from any
 * thread, several at once. */
#ifndef VB_GATEWAY_ADMIN_H
#define VB_GATEWAY_ADMIN_H

#include <jansson.h>

#include "common/log.h"
#include "gateway/auth.h"
#include "gateway/core.h"

struct gw_admin;

struct gw_admin_config {
    struct gw_core *core;     /* required */
    struct gw_auth *auth;     /* the token verbs' store; NULL = token authentication is off */
    const char *admin_secret; /* copied; NULL or "" = no secret required */
    /* set_log_level changes its level (Janus's 0-7 mapped onto ours); custom_logline writes to
     * it. May be NULL (then set_log_level only remembers the level). */
    struct vb_log *log;
};

/* Creates the Admin API. 0 or -EINVAL (no core). The caller owns *out. Any thread. */
int gw_admin_create(const struct gw_admin_config *cfg, struct gw_admin **out);
/* Frees it. NULL is a no-op. No gw_admin_handle call may be running. */
void gw_admin_destroy(struct gw_admin *a);

/* Handles one request (borrowed; NULL answers 452). The path's ids come in `ctx` (may be NULL):
 * a different integer id in the body is error 457. *reply is always set to a new object owned
 * by the caller. Returns 0, or the Janus error code carried by the reply. Any thread. */
int gw_admin_handle(struct gw_admin *a, const struct gw_request_ctx *ctx, json_t *request,
                    json_t **reply);

/* gw_admin_handle with the admin as a void pointer, for gw_http_config.handler. */
int gw_admin_handler(void *admin, const struct gw_request_ctx *ctx, json_t *request,
                     json_t **reply);

#endif
