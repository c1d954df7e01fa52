/* web/web.h — the HTTP catalog: a JSON API over the catalog, one HTML page, and downloads of
 * recordings and transcoded outputs (Range, ETag), served by libmicrohttpd.
 *
 * Routes (every /api/ route needs `Authorization: Bearer TOKEN`; the two `/file` download
 * routes also take `?token=TOKEN` so that <audio>/<video> elements can play them):
 *   GET  /                              the catalog page (no token needed to load it)
 *   GET  /api/rooms                     ?from&to&limit&offset
 *   GET  /api/rooms/ROOM                one room
 *   GET  /api/rooms/ROOM/participants   ?display&from&to&limit&offset
 *   GET  /api/recordings                ?room&participant&display&codec&kind&state&from&to
 *                                       &limit&offset (from/to in microseconds)
 *   GET  /api/recordings/ID             one recording
 *   GET  /api/recordings/ID/file        the .mjr (HEAD too)
 *   GET  /api/jobs                      ?state&from&to&limit&offset (created in [from, to))
 *   POST /api/jobs                      {"recordings": [ids], "format": "webm", "merge": true}
 *   GET  /api/jobs/ID                   state and progress
 *   POST /api/jobs/ID/cancel
 *   GET  /api/outputs/ID                metadata
 *   GET  /api/outputs/ID/file           the transcoded file (HEAD too)
 * Errors are JSON bodies {"error": "..."} with a 4xx/5xx status. Recordings and outputs carry
 * "missing": true when their file is no longer under the data directory. Downloads and job
 * requests are written to the catalog's audit log.
 *
 * The server runs on libmicrohttpd's own threads (an epoll thread pool); it only reads the
 * config after web_start() returns, so the config's strings must outlive the server. The
 * caller should ignore or block SIGPIPE in its own threads as any socket server must (the
 * server's threads block it themselves). */
#ifndef VB_WEB_H
#define VB_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog/catalog.h"
#include "common/log.h"

#define WEB_DEFAULT_ADDR "127.0.0.1"
#define WEB_DEFAULT_PORT 8090
#define WEB_TOKEN_MAX 256 /* longest token accepted, without the NUL */

struct web;

struct web_config {
    const char *bind_addr;    /* IPv4 or IPv6 literal; NULL = WEB_DEFAULT_ADDR */
    unsigned port;            /* 0 = an ephemeral port (read it back with web_port) */
    const char *data_dir;     /* recordings and outputs live under it; required */
    const char *token;        /* the bearer token every /api/ request needs; required */
    struct catalog *catalog;  /* borrowed; must outlive the server */
    unsigned threads;         /* libmicrohttpd thread pool size; 0 = 4 */
    const struct vb_log *log; /* borrowed; may be NULL */
};

/* Starts serving. The config's strings, catalog and log are borrowed until web_stop().
 * -EINVAL (bad config), -EADDRINUSE or another -errno when the daemon cannot start; err gets
 * a sentence either way. Any thread. */
int web_start(const struct web_config *cfg, struct web **out, char *err, size_t errlen);

/* The port the server listens on (the bound one when the config asked for 0). */
unsigned web_port(const struct web *w);

/* Stops accepting, waits for requests in flight, frees the server. NULL is a no-op. Not from
 * a server thread. */
void web_stop(struct web *w);

/* Reads the token from DATA_DIR/catalog-token, or creates that file (mode 0600, never
 * overwriting one) holding 64 hex digits from getrandom(). `token` gets the token without
 * surrounding whitespace (len >= 65); *created (may be NULL) tells whether it was generated.
 * -ENOSPC if the token does not fit, -EINVAL for an empty or non-printable file, else -errno. */
int web_token_load_or_create(const char *data_dir, char *token, size_t len, bool *created);

#endif
