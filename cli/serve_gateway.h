/* cli/serve_gateway.h — the gateway part of `verbatim serve`: authentication, the core with its
 * compiled-in plugins, the session sweeper, and the REST and Admin transports.
 *
 * The settings are borrowed for the call; the started gateway is owned by the caller and stopped
 * with serve_gateway_stop (main thread). */
#ifndef VB_CLI_SERVE_GATEWAY_H
#define VB_CLI_SERVE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/log.h"

struct archive;

struct serve_gateway;

struct serve_gw_settings {
    const char *data_dir;
    const char *server_name;
    struct archive *archive; /* borrowed: the plugins' recorder */
    /* Janus REST API */
    const char *rest_addr;
    unsigned rest_port; /* 0 = any free port */
    const char *rest_base;
    int long_poll_ms;
    const char *allow_origin;
    size_t max_body;
    unsigned http_threads;
    unsigned max_connections;
    /* Admin API */
    bool admin_enabled;
    const char *admin_addr;
    unsigned admin_port;
    const char *admin_base;
    const char *admin_secret; /* NULL or "" = every admin request but info/ping refused */
    /* authentication and core */
    const char *api_secret;
    bool token_auth;
    const char *token_auth_secret;
    int64_t session_timeout_s;
    unsigned max_events;
    /* VideoRoom */
    const char *videoroom_admin_key;
    const char *videoroom_rooms_file; /* NULL or "" = DATA/videoroom-rooms.json */
    const json_t *videoroom_rooms;    /* rooms from the config file; may be NULL */
    bool record_all;
    bool lock_rtp_forward; /* rtp_forward needs the VideoRoom admin_key */
    /* media */
    unsigned media_loops; /* 0 = one per online CPU */
    unsigned no_media_timer_s;
    unsigned slowlink_threshold;
    const char *cert_pem, *cert_key; /* "" = generated */
    bool answer_passive;
    const char *ice_enforce_list, *ice_ignore_list, *rtp_port_range, *stun_server, *nat_1_1;
    bool ice_tcp, ipv6;
};

/* Starts everything; 0, or 1 after logging why (what started is stopped again). `log` is
 * borrowed and must outlive the gateway (the Admin API may change its level). */
int serve_gateway_start(const struct serve_gw_settings *s, struct vb_log *log,
                        struct serve_gateway **out);
void serve_gateway_stop(struct serve_gateway *gw); /* NULL is a no-op */

#endif
