/* web/web_internal.h — what the files of web/ share: the server object, the per-request call
 * context, replies, the router, downloads and token helpers.
 *
 * Everything here runs on libmicrohttpd's threads; `struct web` is read-only once started, so
 * the pool threads share it without locks. */
#ifndef VB_WEB_INTERNAL_H
#define VB_WEB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "common/sha256.h"
#include "web/web.h"

#define WEB_BODY_MAX (64 * 1024) /* request bodies beyond this get 413 */
#define WEB_WHO_MAX 96           /* "token:xxxxxxxx@address" */
#define WEB_ARG_MAX 256          /* longest query string value accepted */

struct web {
    struct MHD_Daemon *mhd;
    struct catalog *cat;
    const struct vb_log *log;
    char *data_dir; /* realpath of the configured data directory; owned */
    size_t data_dir_len;
    uint8_t token_digest[VB_SHA256_LEN];
    char token_tag[16]; /* "token:" and the first 8 hex digits of the token's SHA-256 */
    unsigned port;
};

/* One request being answered: what the router and the handlers need. */
struct web_call {
    struct web *w;
    struct MHD_Connection *conn;
    const char *url;     /* decoded path, without the query */
    const char *method;  /* "GET", "HEAD", "POST", ... */
    const uint8_t *body; /* POST body (NULL for others); not NUL-terminated */
    size_t body_len;
};

/* ---- server.c: replies and audit ---- */

/* Queues `obj` (reference stolen) as a JSON reply with `status`. */
enum MHD_Result web_reply_json(struct MHD_Connection *conn, unsigned status, json_t *obj);
/* Queues {"error": message} with `status`. */
enum MHD_Result web_reply_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with one extra header on the response (e.g. Allow for 405). */
enum MHD_Result web_reply_error_hdr(struct MHD_Connection *conn, unsigned status, const char *hdr,
                                    const char *value, const char *msg);
/* "token:xxxxxxxx@ADDRESS" for the audit log. */
void web_call_who(const struct web_call *call, char *buf, size_t len);
/* Appends an audit row for this call (who is the caller's token tag and address). */
void web_call_audit(const struct web_call *call, const char *action, const char *object);

/* ---- api.c: the /api/ router ---- */

/* Answers an authenticated /api/ request. */
enum MHD_Result web_api_handle(struct web_call *call);
/* Whether `method` may be sent with a body to this route (only POST routes). */
bool web_api_accepts_body(const char *url, const char *method);

/* ---- jobs.c ---- */

/* POST /api/jobs: validates the JSON body, creates the job(s), audits, replies 201. */
enum MHD_Result web_job_create(struct web_call *call);

/* ---- download.c: files ---- */

enum web_file_kind {
    WEB_FILE_RECORDING,
    WEB_FILE_OUTPUT,
};

/* Streams the file of a recording or output (Range, ETag, audit). */
enum MHD_Result web_download(struct web_call *call, enum web_file_kind kind, int64_t id);
/* Resolves `rel` under the data directory into `out` (realpath). -ENOENT if it does not
 * exist, -EACCES if it resolves outside the data directory, -ENAMETOOLONG. */
int web_path_resolve(const struct web *w, const char *rel, char *out, size_t len);
/* Sets "missing": true on a recording or output object whose file is gone. */
void web_mark_missing(const struct web *w, json_t *obj);
/* Parses a Range header for a file of `size` bytes: 1 and [*first, *last] for one
 * satisfiable range, 0 to serve the whole file (other units, several ranges), -ERANGE for an
 * invalid or unsatisfiable range (416). */
int web_range_parse(const char *hdr, uint64_t size, uint64_t *first, uint64_t *last);
/* Whether an If-None-Match value matches `etag` (quoted; weak comparison; "*" matches). */
bool web_etag_match(const char *if_none_match, const char *etag);
/* The MIME type of a format name or file extension ("webm" -> "video/webm"). */
const char *web_mime_type(const char *format);

/* ---- token.c ---- */

/* Whether `s` is a usable token: 1..WEB_TOKEN_MAX printable ASCII characters, no spaces. */
bool web_token_valid(const char *s, size_t n);
/* Constant-time check of a presented token against the server's. */
bool web_token_check(const struct web *w, const char *presented, size_t n);
/* The bearer token of an Authorization header value ("Bearer X"), or NULL; *n its length. */
const char *web_token_from_header(const char *authorization, size_t *n);

/* ---- page.c ---- */

extern const char web_page_html[];
size_t web_page_html_len(void);

#endif
