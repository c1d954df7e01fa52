/* This file implements `verbatim serve`: the server on its embedded defaults.
 *
 * It opens the catalog (DATA/catalog.db), starts the MJR writer engine and the archive,
 * recovers the recordings a previous run left open, loads (or creates) the catalog token,
 * starts the web catalog (127.0.0.1:8090) and the transcode workers, and runs until SIGINT
 * or SIGTERM. The gateway (REST 127.0.0.1:8088/janus, admin 127.0.0.1:7088/admin) is not
 * built yet; it says so at start rather than pretending to listen.
 *
 * DESIGN: signals are blocked in every thread and taken synchronously with sigwait() in the
 * main thread, so no handler and no global flag are needed. Shutdown runs in reverse order:
 * web (no new requests), workers, archive (open recordings finished and indexed), engine,
 * catalog (every queued event applied). */
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
#include "mjr/mjr.h"
#include "web/web.h"

struct serve_opts {
    const char *data_dir;
    unsigned writer_threads;
    const char *web_bind;
    unsigned web_port;
    unsigned workers;
    bool no_auto; /* --no-auto-transcode */
};

static int make_dir(const char *path)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}

static int parse_uint(const char *s, unsigned long max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 10);
    if (errno || *end || end == s || n > max)
        return -EINVAL;
    *out = (unsigned)n;
    return 0;
}

static int parse_args(int argc, char **argv, struct serve_opts *o)
{
    for (int i = 1; i < argc; i += 2) { /* every option but one takes a value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -EINVAL;
        if (strcmp(argv[i], "--no-auto-transcode") == 0) {
            o->no_auto = true;
            i--;
            continue;
        }
        if (strcmp(argv[i], "--data") == 0 && v) {
            o->data_dir = v;
            rc = 0;
        } else if (strcmp(argv[i], "--writer-threads") == 0 && v) {
            rc = parse_uint(v, 64, &o->writer_threads);
            if (rc == 0 && o->writer_threads == 0)
                rc = -EINVAL;
        } else if (strcmp(argv[i], "--web-bind") == 0 && v) {
            o->web_bind = v;
            rc = 0;
        } else if (strcmp(argv[i], "--web-port") == 0 && v) {
            rc = parse_uint(v, 65535, &o->web_port);
        } else if (strcmp(argv[i], "--workers") == 0 && v) {
            rc = parse_uint(v, 256, &o->workers);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

struct server {
    struct catalog *catalog;
    struct mjr_engine *engine;
    struct archive *archive;
    struct web *web;
    struct catalog_runner *runner;
};

static void server_stop(struct server *sv)
{
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

int cli_serve(int argc, char **argv, const struct vb_log *log)
{
    struct serve_opts o = {.data_dir = "data", .writer_threads = 1, .web_port = WEB_DEFAULT_PORT};
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: verbatim serve [--data DIR] [--writer-threads N] "
                        "[--web-bind ADDR] [--web-port PORT] [--workers N] "
                        "[--no-auto-transcode]\n");
        return 2;
    }
    char dir[4096];
    int rc = make_dir(o.data_dir);
    const char *subs[] = {"recordings", "outputs"};
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", o.data_dir, subs[i]);
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
    if (server_start(&sv, &o, log) != 0)
        return 1;
    char token[WEB_TOKEN_MAX + 1];
    if (web_and_workers_start(&sv, &o, token, sizeof(token), log) != 0) {
        server_stop(&sv);
        return 1;
    }
    vb_log_info(log, "not built yet: Janus REST API (127.0.0.1:8088/janus), admin API "
                     "(127.0.0.1:7088/admin)");
    vb_log_info(log, "serving; stop with Ctrl-C or SIGTERM");
    int sig = 0;
    sigwait(&set, &sig);
    vb_log_info(log, "signal %d: finishing open recordings", sig);
    server_stop(&sv);
    vb_log_info(log, "stopped");
    return 0;
}
