/* cli/serve_config.h — the settings of `verbatim serve`: one JSON file (--config), command-line
 * flags over it, and the built-in defaults under both. docs/config.md lists every setting.
 *
 * `struct serve_config` owns its strings and its JSON; release it with serve_config_free. It is
 * filled and read by the main thread; once loaded it is read-only and may be read anywhere. */
#ifndef VB_CLI_SERVE_CONFIG_H
#define VB_CLI_SERVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/config.h"

/* Integers are int64_t (the loader's storage) and always within the ranges of docs/config.md. */
struct serve_config {
    struct {
        char *data_dir;
        char *log_level; /* "error", "warn", "info" or "debug" */
        char *server_name;
    } general;
    struct {
        char *address;
        int64_t port; /* 0 = any free port */
        char *base_path;
        int64_t long_poll_ms;
        char *allow_origin;
        int64_t max_body;
        int64_t threads;
        int64_t max_connections;
    } janus;
    struct {
        bool enabled;
        char *address;
        int64_t port;
        char *base_path;
        char *secret; /* "" = every Admin API request but info and ping refused (403) */
    } admin;
    struct {
        char *api_secret; /* "" = off */
        bool token_auth;
        char *token_auth_secret; /* "" = stored tokens (Admin API) */
    } auth;
    struct {
        int64_t session_timeout; /* seconds; 0 = never */
        int64_t max_events;      /* per-session event queue bound */
    } core;
    struct {
        char *bind;
        int64_t port; /* 0 = any free port */
    } web;
    struct {
        int64_t writer_threads;
    } archive;
    struct {
        int64_t workers; /* 0 = one per online CPU */
        bool auto_jobs;  /* the key transcode.auto */
    } transcode;
    struct {
        char *admin_key;
        char *rooms_file; /* "" = DATA/videoroom-rooms.json (see serve_config_rooms_file) */
        json_t *rooms;    /* a JSON array of objects (room keys are the plugin's to check) */
        bool record_all;
        bool lock_rtp_forward;
    } videoroom;
    struct {
        int64_t loops;              /* media loop threads; 0 = one per online CPU */
        int64_t no_media_timer;     /* seconds without media before `media` receiving:false */
        int64_t slowlink_threshold; /* lost packets a second before a `slowlink` event */
        char *cert_pem;             /* DTLS certificate (PEM); "" = generated at start */
        char *cert_key;             /* its private key (PEM) */
        char *answer_setup;         /* "active" (Janus's choice) or "passive" */
    } media;
    struct {
        char *ice_enforce_list; /* interfaces / IPs to gather on; "" = all but the ignored */
        char *ice_ignore_list;  /* interfaces / IPs to skip */
        char *rtp_port_range;   /* "MIN-MAX"; "" = any port */
        char *stun_server;      /* "HOST[:PORT]"; "" = none */
        char *nat_1_1;          /* public IPs advertised instead of ours; "" = off */
        bool ice_tcp;
        bool ipv6;
    } nat;
};

/* Loads the settings from the serve subcommand's argv (argv[0] = "serve"): the defaults, then
 * the --config file if given, then the flags. Returns 0 (`out` filled; free it), -EINVAL (`err`
 * filled, e.g. `config F: janus.port: expected an integer 0-65535, got "abc"`; the caller
 * should print it and exit 2), or a positive value after printing the help or, with
 * --check-config, the effective settings as JSON to stdout: exit now with status 0. On any
 * non-zero return `out` owns nothing (serve_config_free on it is harmless). Main thread. */
int serve_config_load(int argc, char **argv, struct serve_config *out, char *err, size_t errlen);

/* Releases what `c` owns; calling it twice is harmless. */
void serve_config_free(struct serve_config *c);

/* Prints `verbatim serve --help`. */
void serve_config_print_help(FILE *fp);

/* The settings table (static, for the generic functions of common/config.h, e.g. dumping the
 * effective settings with vb_config_dump). */
const struct vb_config_schema *serve_config_schema(void);

/* general.log_level as a VB_LOG_* level. */
int serve_config_log_level(const struct serve_config *c);

/* The VideoRoom rooms file: videoroom.rooms_file, or DATA/videoroom-rooms.json when that is
 * empty. 0, or -ENAMETOOLONG when it does not fit in `len`. */
int serve_config_rooms_file(const struct serve_config *c, char *buf, size_t len);

#endif
