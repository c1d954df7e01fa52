/* This file implements the gateway part of `verbatim serve`: it creates the authentication
 * object, the core with the plugin table, the sweeper that expires idle sessions, and the REST
 * (Janus API with long polls) and Admin transports, and stops them in reverse order.
 *
 * DESIGN: the plugin table is built here, in the program's composition root, so the gateway
 * never loads code dynamically and a new engineer sees every plugin in one place. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/serve_gateway.h"
#include "common/xalloc.h"
#include "gateway/admin.h"
#include "gateway/auth.h"
#include "gateway/core.h"
#include "gateway/http.h"
#include "gateway/sweeper.h"
#include "gateway/dtls/dtls.h"
#include "gateway/echotest/echotest.h"
#include "gateway/ice/ice.h"
#include "gateway/media/media.h"
#include "gateway/videoroom/videoroom.h"

#define VR_PACKAGE "janus.plugin.videoroom"

struct serve_gateway {
    struct gw_auth *auth;
    struct ice_config ice;
    bool ice_inited;
    struct ice_loops *loops;
    struct dtls_cert *cert;
    struct gw_media *media;
    struct vr *videoroom;
    struct echotest *echotest;
    struct gw_plugin_reg plugins[3]; /* the compiled-in plugins; ends with a NULL plugin */
    struct gw_core *core;
    struct gw_sweeper *sweeper;
    struct gw_admin *admin;
    struct gw_http *rest;
    struct gw_http *admin_http;
};

void serve_gateway_stop(struct serve_gateway *gw)
{
    if (!gw)
        return;
    gw_http_stop(gw->admin_http);
    gw_http_stop(gw->rest);
    gw_sweeper_stop(gw->sweeper);
    gw_admin_destroy(gw->admin);
    gw_core_destroy(gw->core);
    /* Every PeerConnection's teardown was queued to its loop: let the loops finish them. */
    for (int i = 0; gw->media && gw_media_pc_count(gw->media) > 0 && i < 500; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    ice_loops_destroy(gw->loops);
    gw_media_destroy(gw->media);
    dtls_cert_destroy(gw->cert);
    if (gw->ice_inited)
        ice_config_free(&gw->ice);
    echotest_destroy(gw->echotest);
    vr_destroy(gw->videoroom);
    gw_auth_destroy(gw->auth);
    free(gw);
}

/* The media layer: ICE configuration, loops, the DTLS certificate. */
static int start_media(struct serve_gateway *gw, const struct serve_gw_settings *s,
                       struct vb_log *log)
{
    char err[256] = "";
    ice_config_init(&gw->ice);
    gw->ice_inited = true;
    gw->ice.log = log;
    gw->ice.ice_tcp = s->ice_tcp;
    gw->ice.ipv6 = s->ipv6;
    int rc = ice_config_set_enforce_list(&gw->ice, s->ice_enforce_list ? s->ice_enforce_list : "",
                                         err, sizeof err);
    if (rc == 0 && s->ice_ignore_list)
        rc = ice_config_set_ignore_list(&gw->ice, s->ice_ignore_list, err, sizeof err);
    if (rc == 0 && s->rtp_port_range)
        rc = ice_config_set_port_range(&gw->ice, s->rtp_port_range, err, sizeof err);
    if (rc == 0 && s->stun_server)
        rc = ice_config_set_stun_server(&gw->ice, s->stun_server, err, sizeof err);
    if (rc == 0 && s->nat_1_1)
        rc = ice_config_set_nat_1_1(&gw->ice, s->nat_1_1, err, sizeof err);
    if (rc == 0)
        rc = ice_config_prepare(&gw->ice, err, sizeof err);
    if (rc < 0) {
        /* Not fatal: the Janus API works without media (a jsep then fails with 471). */
        vb_log_warn(log, "no WebRTC media: ICE settings: %s", err);
        return 0;
    }
    if (s->cert_pem && s->cert_pem[0])
        rc = dtls_cert_load(log, s->cert_pem, s->cert_key, NULL, &gw->cert);
    else
        rc = dtls_cert_generate(log, &gw->cert);
    if (rc < 0) {
        vb_log_error(log, "cannot set up the DTLS certificate: %s", strerror(-rc));
        return rc;
    }
    rc = ice_loops_create(s->media_loops, log, &gw->loops);
    struct gw_media_config mc = {.loops = gw->loops,
                                 .ice = &gw->ice,
                                 .cert = gw->cert,
                                 .no_media_timer_s = s->no_media_timer_s,
                                 .answer_passive = s->answer_passive,
                                 .slowlink_threshold = s->slowlink_threshold,
                                 .log = log};
    if (rc == 0)
        rc = gw_media_create(&mc, &gw->media);
    if (rc < 0) {
        vb_log_error(log, "cannot start the media loops: %s", strerror(-rc));
        return rc;
    }
    vb_log_info(log, "WebRTC media: %u loop(s), DTLS fingerprint %s", ice_loops_count(gw->loops),
                dtls_cert_fingerprint(gw->cert));
    return 0;
}

/* VideoRoom rooms with signed_tokens: the token must name the plugin and the room. */
static bool room_token_ok(void *ctx, const char *token, const char *room)
{
    return gw_auth_signed_room_ok(ctx, token, VR_PACKAGE, room);
}

static int start_plugins(struct serve_gateway *gw, const struct serve_gw_settings *s,
                         const struct vb_log *log)
{
    char rooms_file[4096];
    if (s->videoroom_rooms_file && s->videoroom_rooms_file[0])
        snprintf(rooms_file, sizeof rooms_file, "%s", s->videoroom_rooms_file);
    else
        snprintf(rooms_file, sizeof rooms_file, "%s/videoroom-rooms.json", s->data_dir);
    struct vr_config vc = {.rooms_file = rooms_file,
                           .rooms = s->videoroom_rooms,
                           .admin_key = s->videoroom_admin_key,
                           .record_all = s->record_all,
                           .lock_rtp_forward = s->lock_rtp_forward,
                           .archive = s->archive,
                           .log = log};
    if (gw_auth_signed_on(gw->auth)) {
        vc.token_room_ok = room_token_ok;
        vc.token_ctx = gw->auth;
    }
    int rc = vr_create(&vc, &gw->videoroom);
    if (rc < 0) {
        vb_log_error(log, "cannot start the VideoRoom plugin (rooms file %s): %s", rooms_file,
                     strerror(-rc));
        return rc;
    }
    gw->plugins[0] = (struct gw_plugin_reg){vr_plugin(), gw->videoroom};
    rc = echotest_create(log, s->archive, &gw->echotest);
    if (rc < 0) {
        vb_log_error(log, "cannot start the EchoTest plugin: %s", strerror(-rc));
        return rc;
    }
    gw->plugins[1] = (struct gw_plugin_reg){echotest_plugin(), gw->echotest};
    return 0;
}

static int start_auth(struct serve_gateway *gw, const struct serve_gw_settings *s,
                      const struct vb_log *log)
{
    struct gw_auth_config ac = {.api_secret = s->api_secret,
                                .token_auth = s->token_auth,
                                .token_auth_secret = s->token_auth_secret};
    int rc = gw_auth_create(&ac, &gw->auth);
    if (rc < 0)
        vb_log_error(log, "cannot set up authentication: %s", strerror(-rc));
    return rc;
}

static int start_core(struct serve_gateway *gw, const struct serve_gw_settings *s,
                      struct vb_log *log)
{
    struct gw_core_config cc = {.plugins = gw->plugins,
                                .session_timeout_s = s->session_timeout_s,
                                .max_events = s->max_events,
                                .server_name = s->server_name,
                                .api_secret_on = gw_auth_api_secret_on(gw->auth),
                                .token_auth_on = gw_auth_token_on(gw->auth),
                                .media_ops = gw->media ? gw_media_ops(gw->media) : NULL};
    if (cc.api_secret_on || cc.token_auth_on) {
        cc.auth = gw_auth_request_ok;
        cc.auth_plugin = gw_auth_plugin_ok;
        cc.auth_ctx = gw->auth;
    }
    int rc = gw_core_create(&cc, &gw->core);
    if (rc == 0)
        rc = gw_sweeper_start(gw->core, 1000, &gw->sweeper);
    struct gw_admin_config ac = {.core = gw->core,
                                 .auth = gw_auth_token_on(gw->auth) ? gw->auth : NULL,
                                 .admin_secret = s->admin_secret,
                                 .log = log};
    if (rc == 0)
        rc = gw_admin_create(&ac, &gw->admin);
    if (rc < 0)
        vb_log_error(log, "cannot start the gateway core: %s", strerror(-rc));
    return rc;
}

static int start_rest(struct serve_gateway *gw, const struct serve_gw_settings *s,
                      const struct vb_log *log)
{
    struct gw_http_config hc = {.address = s->rest_addr,
                                .port = (uint16_t)s->rest_port,
                                .base_path = s->rest_base,
                                .hold_ms = s->long_poll_ms,
                                .allow_origin = s->allow_origin,
                                .max_body = s->max_body,
                                .threads = s->http_threads,
                                .max_connections = s->max_connections};
    int rc = gw_http_start(gw->core, &hc, &gw->rest);
    if (rc < 0) {
        vb_log_error(log, "cannot serve the Janus API on %s:%u: %s",
                     s->rest_addr ? s->rest_addr : "127.0.0.1", s->rest_port, strerror(-rc));
        return rc;
    }
    vb_log_info(log, "Janus API: http://%s:%u%s", s->rest_addr ? s->rest_addr : "127.0.0.1",
                gw_http_port(gw->rest), s->rest_base ? s->rest_base : "/janus");
    return 0;
}

/* The Admin API listens only with a secret: without one it would be open to any local user. */
static int start_admin(struct serve_gateway *gw, const struct serve_gw_settings *s,
                       const struct vb_log *log)
{
    if (!s->admin_enabled)
        return 0;
    if (!s->admin_secret || !s->admin_secret[0]) {
        vb_log_info(log, "Admin API off: no admin secret (--admin-secret or admin.secret)");
        return 0;
    }
    struct gw_http_config hc = {.address = s->admin_addr,
                                .port = (uint16_t)s->admin_port,
                                .base_path = s->admin_base ? s->admin_base : "/admin",
                                .allow_origin = s->allow_origin,
                                .max_body = s->max_body,
                                .threads = 1,
                                .max_connections = 256,
                                .handler = gw_admin_handler,
                                .handler_ctx = gw->admin};
    int rc = gw_http_start(gw->core, &hc, &gw->admin_http);
    if (rc < 0) {
        vb_log_error(log, "cannot serve the Admin API on %s:%u: %s",
                     s->admin_addr ? s->admin_addr : "127.0.0.1", s->admin_port, strerror(-rc));
        return rc;
    }
    vb_log_info(log, "Admin API: http://%s:%u%s", s->admin_addr ? s->admin_addr : "127.0.0.1",
                gw_http_port(gw->admin_http), hc.base_path);
    return 0;
}

int serve_gateway_start(const struct serve_gw_settings *s, struct vb_log *log,
                        struct serve_gateway **out)
{
    struct serve_gateway *gw = xcalloc(1, sizeof *gw);
    if (start_auth(gw, s, log) < 0 || start_media(gw, s, log) < 0 ||
        start_plugins(gw, s, log) < 0 || start_core(gw, s, log) < 0 || start_rest(gw, s, log) < 0 ||
        start_admin(gw, s, log) < 0) {
        serve_gateway_stop(gw);
        return 1;
    }
    *out = gw;
    return 0;
}
