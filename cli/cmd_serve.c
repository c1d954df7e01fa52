/* This file implements `verbatim serve`: the server, configured by cli/serve_config (built-in
 * defaults, a JSON file, options; see docs/config.md).
 *
 * It opens the catalog (DATA/catalog.db), starts the MJR writer engine and the archive,
 * recovers the recordings a previous run left open, loads (or creates) the catalog token,
 * starts the web catalog (127.0.0.1:8090), the transcode workers and the gateway
 * (cli/serve_gateway.c: the Janus API on 127.0.0.1:8088/janus, the Admin API on
 * 127.0.0.1:7088/admin when a secret is set), and runs until SIGINT or SIGTERM.
 *
 * DESIGN: signals are blocked in every thread and taken synchronously with sigwait() in the
 * main thread, so no handler and no global flag are needed. Shutdown runs in reverse order:
 * gateway (no new requests, parked polls answered), web, workers, archive (open recordings
 * finished and indexed), engine, catalog (every queued event applied). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive.h"
#include "catalog/catalog.h"
#include "catalog/runner.h"
#include "cli/cli.h"
#include "cli/serve_config.h"
#include "cli/serve_gateway.h"
#include "mjr/mjr.h"
#include "web/web.h"

/* What the parts of the server are started with; the strings are borrowed from the
 * struct serve_config they were taken from. */
struct serve_opts {
    const char *data_dir;
    unsigned writer_threads;
    const char *web_bind;
    unsigned web_port;
    unsigned workers;
    bool no_auto; /* --no-auto-transcode */
    struct serve_gw_settings gw;
};

static int make_dir(const char *path)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}

/* The settings as the parts of the server take them (every value is within its range: the
 * loader checked it). */
static void opts_from_config(const struct serve_config *c, struct serve_opts *o)
{
    *o = (struct serve_opts){
        .data_dir = c->general.data_dir,
        .writer_threads = (unsigned)c->archive.writer_threads,
        .web_bind = c->web.bind,
        .web_port = (unsigned)c->web.port,
        .workers = (unsigned)c->transcode.workers,
        .no_auto = !c->transcode.auto_jobs,
        .gw = {.data_dir = c->general.data_dir,
               .server_name = c->general.server_name,
               .rest_addr = c->janus.address,
               .rest_port = (unsigned)c->janus.port,
               .rest_base = c->janus.base_path,
               .long_poll_ms = (int)c->janus.long_poll_ms,
               .allow_origin = c->janus.allow_origin,
               .max_body = (size_t)c->janus.max_body,
               .http_threads = (unsigned)c->janus.threads,
               .max_connections = (unsigned)c->janus.max_connections,
               .admin_enabled = c->admin.enabled,
               .admin_addr = c->admin.address,
               .admin_port = (unsigned)c->admin.port,
               .admin_base = c->admin.base_path,
               .admin_secret = c->admin.secret,
               .api_secret = c->auth.api_secret,
               .token_auth = c->auth.token_auth,
               .token_auth_secret = c->auth.token_auth_secret,
               .session_timeout_s = c->core.session_timeout,
               .max_events = (unsigned)c->core.max_events,
               .videoroom_admin_key = c->videoroom.admin_key,
               .videoroom_rooms_file = c->videoroom.rooms_file,
               .videoroom_rooms = c->videoroom.rooms,
               .record_all = c->videoroom.record_all,
               .lock_rtp_forward = c->videoroom.lock_rtp_forward,
               .media_loops = (unsigned)c->media.loops,
               .no_media_timer_s = (unsigned)c->media.no_media_timer,
               .slowlink_threshold = (unsigned)c->media.slowlink_threshold,
               .cert_pem = c->media.cert_pem,
               .cert_key = c->media.cert_key,
               .answer_passive = strcmp(c->media.answer_setup, "passive") == 0,
               .ice_enforce_list = c->nat.ice_enforce_list,
               .ice_ignore_list = c->nat.ice_ignore_list,
               .rtp_port_range = c->nat.rtp_port_range,
               .stun_server = c->nat.stun_server,
               .nat_1_1 = c->nat.nat_1_1,
               .ice_tcp = c->nat.ice_tcp,
               .ipv6 = c->nat.ipv6},
    };
}

struct server {
    struct serve_gateway *gateway;
    struct catalog *catalog;
    struct mjr_engine *engine;
    struct archive *archive;
    struct web *web;
    struct catalog_runner *runner;
};

static void server_stop(struct server *sv)
{
    serve_gateway_stop(sv->gateway);
    web_stop(sv->web);
    catalog_runner_stop(sv->runner);
    archive_destroy(sv->archive);
    mjr_engine_destroy(sv->engine);
    catalog_close(sv->catalog);
}

/* Starts everything; 0, or 1 after logging why (what started is stopped again). */
static int server_start(struct server *sv, const struct serve_opts *o, const struct vb_log *log)
{
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/catalog.db", o->data_dir);
    struct catalog_config cc = {.db_path = path, .data_dir = o->data_dir, .log = log};
    if (catalog_open(&cc, &sv->catalog, err, sizeof(err)) < 0) {
        vb_log_error(log, "%s", err);
        return 1;
    }
    struct mjr_engine_config ec = {.writer_threads = o->writer_threads, .log = log};
    int rc = mjr_engine_create(&ec, &sv->engine);
    struct archive_config ac = {
        .data_dir = o->data_dir, .engine = sv->engine, .catalog = sv->catalog, .log = log};
    if (rc == 0)
        rc = archive_create(&ac, &sv->archive);
    if (rc < 0) {
        vb_log_error(log, "cannot start the recording engine: %s", strerror(-rc));
        server_stop(sv);
        return 1;
    }
    struct archive_recover_report rr = {0};
    rc = archive_recover(sv->archive, &rr);
    if (rc < 0)
        vb_log_error(log, "crash recovery failed: %s", strerror(-rc));
    else if (rr.recovered || rr.missing || rr.stray)
        vb_log_info(log,
                    "crash recovery: %u recording(s) recovered, %u stray file(s) indexed, %u "
                    "missing; %llu byte(s) trimmed",
                    rr.recovered, rr.stray, rr.missing, (unsigned long long)rr.trimmed);
    vb_log_info(log, "recording engine ready: %u writer thread(s), recordings in %s/recordings",
                o->writer_threads, o->data_dir);
    return 0;
}

static int web_and_workers_start(struct server *sv, const struct serve_opts *o, char *token,
                                 size_t token_len, const struct vb_log *log)
{
    bool created = false;
    int rc = web_token_load_or_create(o->data_dir, token, token_len, &created);
    if (rc < 0) {
        vb_log_error(log, "cannot read or create %s/catalog-token: %s", o->data_dir, strerror(-rc));
        return 1;
    }
    if (created)
        vb_log_info(log, "generated the catalog token: %s/catalog-token (mode 0600)", o->data_dir);
    char err[512];
    struct web_config wc = {.bind_addr = o->web_bind,
                            .port = o->web_port,
                            .data_dir = o->data_dir,
                            .token = token,
                            .catalog = sv->catalog,
                            .log = log};
    if (web_start(&wc, &sv->web, err, sizeof(err)) < 0) {
        vb_log_error(log, "cannot start the web catalog: %s", err);
        return 1;
    }
    vb_log_info(log, "web catalog: http://%s:%u/ (bearer token in %s/catalog-token)",
                o->web_bind ? o->web_bind : WEB_DEFAULT_ADDR, web_port(sv->web), o->data_dir);
    struct catalog_runner_config rc_cfg = {.catalog = sv->catalog,
                                           .data_dir = o->data_dir,
                                           .workers = o->workers,
                                           .auto_jobs = !o->no_auto,
                                           .log = log};
    rc = catalog_runner_start(&rc_cfg, &sv->runner);
    if (rc < 0) {
        vb_log_error(log, "cannot start the transcode workers: %s", strerror(-rc));
        return 1;
    }
    return 0;
}

/* Runs the server with settings `o` until a signal: the exit code. */
static int serve_run(const struct serve_opts *o, struct vb_log *log)
{
    char dir[4096];
    int rc = make_dir(o->data_dir);
    const char *subs[] = {"recordings", "outputs"};
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", o->data_dir, subs[i]);
        rc = make_dir(dir);
    }
    if (rc != 0) {
        vb_log_error(log, "cannot create %s: %s", dir, strerror(-rc));
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts: all inherit it */
    sigdelset(&set, SIGPIPE);

    struct server sv = {0};
    if (server_start(&sv, o, log) != 0)
        return 1;
    char token[WEB_TOKEN_MAX + 1];
    if (web_and_workers_start(&sv, o, token, sizeof(token), log) != 0) {
        server_stop(&sv);
        return 1;
    }
    struct serve_gw_settings gws = o->gw;
    gws.archive = sv.archive;
    if (serve_gateway_start(&gws, log, &sv.gateway) != 0) {
        server_stop(&sv);
        return 1;
    }
    vb_log_info(log, "serving; stop with Ctrl-C or SIGTERM");
    int sig = 0;
    sigwait(&set, &sig);
    vb_log_info(log, "signal %d: finishing open recordings", sig);
    server_stop(&sv);
    vb_log_info(log, "stopped");
    return 0;
}

int cli_serve(int argc, char **argv, const struct vb_log *parent_log)
{
    struct serve_config cfg;
    char err[1024];
    int rc = serve_config_load(argc, argv, &cfg, err, sizeof(err));
    if (rc < 0) {
        vb_log_error(parent_log, "%s", err);
        return 2;
    }
    if (rc > 0) /* --help or --check-config: printed */
        return 0;
    struct vb_log serve_log = *parent_log; /* the Admin API may change its level */
    serve_log.level = serve_config_log_level(&cfg);
    struct serve_opts o;
    opts_from_config(&cfg, &o);
    rc = serve_run(&o, &serve_log);
    serve_config_free(&cfg);
    return rc;
}
