/* This file implements the JSON API under /api/: the router (path and method to handler),
 * strict parsing of query parameters into a catalog filter, and the handlers for rooms,
 * participants, recordings, jobs and outputs.
 *
 * DESIGN: every value from the request is checked before it reaches the catalog: numbers
 * are plain decimal within their range, enumerations are one of their known names, strings
 * have a length limit, and a job's body is a JSON object with known keys only. Anything else
 * is a 400 with a sentence saying which parameter was wrong. Unknown query parameters are
 * ignored (the page adds ?token= and browsers may add cache busters). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

#define ROOM_ID_MAX 256

enum route_kind {
    R_NONE,
    R_ROOMS,
    R_ROOM,
    R_ROOM_PARTICIPANTS,
    R_RECORDINGS,
    R_RECORDING,
    R_RECORDING_FILE,
    R_JOBS,
    R_JOB,
    R_JOB_CANCEL,
    R_OUTPUT,
    R_OUTPUT_FILE,
};

struct route {
    enum route_kind kind;
    int64_t id;
    char room[ROOM_ID_MAX + 1];
};

/* A collection with numeric ids: "/NAME", "/NAME/ID", "/NAME/ID/SUB". */
struct collection {
    const char *name;
    enum route_kind list, one, sub_kind;
    const char *sub;
};

static const struct collection collections[] = {
    {"recordings", R_RECORDINGS, R_RECORDING, R_RECORDING_FILE, "file"},
    {"jobs", R_JOBS, R_JOB, R_JOB_CANCEL, "cancel"},
    {"outputs", R_NONE, R_OUTPUT, R_OUTPUT_FILE, "file"},
};

/* A positive decimal id at *p, advancing *p. */
static bool parse_id(const char **p, int64_t *id)
{
    const char *s = *p;
    int64_t v = 0;
    if (*s < '1' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - (*s - '0')) / 10)
            return false;
        v = v * 10 + (*s - '0');
    }
    *p = s;
    *id = v;
    return true;
}

static enum route_kind route_rooms(const char *rest, struct route *r)
{
    if (*rest == '\0')
        return R_ROOMS;
    if (*rest != '/' || rest[1] == '\0')
        return R_NONE;
    rest++;
    size_t n = strlen(rest);
    static const char suffix[] = "/participants";
    enum route_kind kind = R_ROOM;
    if (n > sizeof(suffix) - 1 && strcmp(rest + n - (sizeof(suffix) - 1), suffix) == 0) {
        n -= sizeof(suffix) - 1;
        kind = R_ROOM_PARTICIPANTS;
    }
    if (n > ROOM_ID_MAX)
        return R_NONE;
    memcpy(r->room, rest, n);
    r->room[n] = '\0';
    return kind;
}

static enum route_kind route_parse(const char *url, struct route *r)
{
    memset(r, 0, sizeof(*r));
    if (strncmp(url, "/api/", 5) != 0)
        return R_NONE;
    const char *p = url + 5;
    if (strncmp(p, "rooms", 5) == 0 && (p[5] == '\0' || p[5] == '/'))
        return r->kind = route_rooms(p + 5, r);
    for (size_t i = 0; i < sizeof(collections) / sizeof(collections[0]); i++) {
        const struct collection *c = &collections[i];
        size_t n = strlen(c->name);
        if (strncmp(p, c->name, n) != 0 || (p[n] != '\0' && p[n] != '/'))
            continue;
        p += n;
        if (*p == '\0')
            return r->kind = c->list;
        p++;
        if (!parse_id(&p, &r->id))
            return R_NONE;
        if (*p == '\0')
            return r->kind = c->one;
        if (*p == '/' && strcmp(p + 1, c->sub) == 0)
            return r->kind = c->sub_kind;
        return R_NONE;
    }
    return R_NONE;
}

static const char *route_allow(enum route_kind k)
{
    switch (k) {
    case R_JOBS:
        return "GET, HEAD, POST";
    case R_JOB_CANCEL:
        return "POST";
    default:
        return "GET, HEAD";
    }
}

static bool method_allowed(enum route_kind k, const char *method)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (k == R_JOBS)
        return get || post;
    if (k == R_JOB_CANCEL)
        return post;
    return get;
}

bool web_api_accepts_body(const char *url, const char *method)
{
    struct route r;
    enum route_kind k = route_parse(url, &r);
    return strcmp(method, "POST") == 0 && (k == R_JOBS || k == R_JOB_CANCEL);
}

/* ------------------------------------------------------------------------------------------ */
/* Query parameters. */

enum {
    F_ROOM = 1 << 0,
    F_PARTICIPANT = 1 << 1,
    F_DISPLAY = 1 << 2,
    F_CODEC = 1 << 3,
    F_KIND = 1 << 4,
    F_REC_STATE = 1 << 5,
    F_JOB_STATE = 1 << 6,
    F_TIME = 1 << 7,
    F_PAGE = 1 << 8,
};

static const char *const kinds[] = {"audio", "video", "data", NULL};
static const char *const rec_states[] = {"open", "closed", "recovered", "failed", NULL};
static const char *const job_states[] = {"queued", "running", "done", "failed", "cancelled", NULL};

static bool one_of(const char *v, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(v, *names) == 0)
            return true;
    return false;
}

/* A string parameter (absent or empty: NULL). -EINVAL with a sentence in err. */
static int arg_str(struct web_call *call, const char *name, const char *const *names,
                   const char **out, char *err, size_t errlen)
{
    const char *v = MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, name);
    *out = NULL;
    if (!v || !*v)
        return 0;
    if (strlen(v) > WEB_ARG_MAX) {
        snprintf(err, errlen, "parameter %s is longer than %d bytes", name, WEB_ARG_MAX);
        return -EINVAL;
    }
    if (names && !one_of(v, names)) {
        snprintf(err, errlen, "parameter %s has an unknown value", name);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* A decimal integer parameter in [min, max]; *out untouched when absent. */
static int arg_int(struct web_call *call, const char *name, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t errlen)
{
    const char *v = MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return 0;
    const char *p = v;
    int64_t n = 0;
    bool ok = *p >= '0' && *p <= '9' && strlen(v) <= 19;
    for (; ok && *p; p++) {
        if (*p < '0' || *p > '9' || n > (INT64_MAX - (*p - '0')) / 10)
            ok = false;
        else
            n = n * 10 + (*p - '0');
    }
    if (!ok || n < min || n > max) {
        snprintf(err, errlen, "parameter %s must be an integer from %" PRId64 " to %" PRId64, name,
                 min, max);
        return -EINVAL;
    }
    *out = n;
    return 0;
}

static int parse_filter(struct web_call *call, unsigned which, struct catalog_filter *f, char *err,
                        size_t errlen)
{
    memset(f, 0, sizeof(*f));
    int rc = 0;
    if (!rc && (which & F_ROOM))
        rc = arg_str(call, "room", NULL, &f->room, err, errlen);
    if (!rc && (which & F_PARTICIPANT))
        rc = arg_str(call, "participant", NULL, &f->participant, err, errlen);
    if (!rc && (which & F_DISPLAY))
        rc = arg_str(call, "display", NULL, &f->display, err, errlen);
    if (!rc && (which & F_CODEC))
        rc = arg_str(call, "codec", NULL, &f->codec, err, errlen);
    if (!rc && (which & F_KIND))
        rc = arg_str(call, "kind", kinds, &f->kind, err, errlen);
    if (!rc && (which & (F_REC_STATE | F_JOB_STATE)))
        rc = arg_str(call, "state", (which & F_REC_STATE) ? rec_states : job_states, &f->state, err,
                     errlen);
    if (!rc && (which & F_TIME)) {
        rc = arg_int(call, "from", 0, INT64_MAX, &f->from_us, err, errlen);
        if (!rc)
            rc = arg_int(call, "to", 0, INT64_MAX, &f->to_us, err, errlen);
        if (!rc && f->from_us && f->to_us && f->from_us >= f->to_us) {
            snprintf(err, errlen, "parameter from must be before to");
            rc = -EINVAL;
        }
    }
    if (!rc && (which & F_PAGE)) {
        rc = arg_int(call, "limit", 1, 1000, &f->limit, err, errlen);
        if (!rc)
            rc = arg_int(call, "offset", 0, INT64_MAX / 2, &f->offset, err, errlen);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Handlers. */

/* Replies with *obj, read only after the query ran (hence its address: argument evaluation
 * order is unspecified), or with the error the query returned. */
static enum MHD_Result reply_catalog(struct web_call *call, int rc, json_t **obj, const char *what)
{
    if (rc == 0)
        return web_reply_json(call->conn, MHD_HTTP_OK, *obj);
    json_decref(*obj);
    *obj = NULL;
    if (rc == -ENOENT)
        return web_reply_error(call->conn, MHD_HTTP_NOT_FOUND, "no such %s", what);
    if (rc == -EINVAL)
        return web_reply_error(call->conn, MHD_HTTP_BAD_REQUEST, "invalid %s request", what);
    vb_log_error(call->w->log, "web: catalog query for %s failed: %s", what, strerror(-rc));
    return web_reply_error(call->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "catalog: %s",
                           strerror(-rc));
}

static void mark_missing_all(struct web_call *call, json_t *list, const char *key)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(list, key), i, item)
    {
        web_mark_missing(call->w, item);
    }
}

static enum MHD_Result handle_list(struct web_call *call, const struct route *r)
{
    static const unsigned which[] = {
        [R_ROOMS] = F_TIME | F_PAGE,
        [R_ROOM_PARTICIPANTS] = F_DISPLAY | F_TIME | F_PAGE,
        [R_RECORDINGS] =
            F_ROOM | F_PARTICIPANT | F_DISPLAY | F_CODEC | F_KIND | F_REC_STATE | F_TIME | F_PAGE,
        [R_JOBS] = F_JOB_STATE | F_TIME | F_PAGE,
    };
    struct catalog_filter f;
    char err[160];
    if (parse_filter(call, which[r->kind], &f, err, sizeof(err)) != 0)
        return web_reply_error(call->conn, MHD_HTTP_BAD_REQUEST, "%s", err);
    json_t *obj = NULL;
    int rc;
    switch (r->kind) {
    case R_ROOMS:
        return reply_catalog(call, catalog_rooms_query(call->w->cat, &f, &obj), &obj, "room");
    case R_ROOM_PARTICIPANTS:
        rc = catalog_room_get(call->w->cat, r->room, &obj);
        json_decref(obj);
        obj = NULL;
        f.room = r->room;
        if (rc == 0)
            rc = catalog_participants_query(call->w->cat, &f, &obj);
        return reply_catalog(call, rc, &obj, "room");
    case R_RECORDINGS:
        rc = catalog_recordings_query(call->w->cat, &f, &obj);
        if (rc == 0)
            mark_missing_all(call, obj, "recordings");
        return reply_catalog(call, rc, &obj, "recording");
    default:
        return reply_catalog(call, catalog_jobs_query(call->w->cat, &f, &obj), &obj, "job");
    }
}

static enum MHD_Result handle_one(struct web_call *call, const struct route *r)
{
    json_t *obj = NULL;
    int rc;
    switch (r->kind) {
    case R_ROOM:
        return reply_catalog(call, catalog_room_get(call->w->cat, r->room, &obj), &obj, "room");
    case R_RECORDING:
        rc = catalog_recording_get(call->w->cat, r->id, &obj);
        if (rc == 0)
            web_mark_missing(call->w, obj);
        return reply_catalog(call, rc, &obj, "recording");
    case R_OUTPUT:
        rc = catalog_output_get(call->w->cat, r->id, &obj);
        if (rc == 0)
            web_mark_missing(call->w, obj);
        return reply_catalog(call, rc, &obj, "output");
    default:
        return reply_catalog(call, catalog_job_get(call->w->cat, r->id, &obj), &obj, "job");
    }
}

static enum MHD_Result handle_cancel(struct web_call *call, const struct route *r)
{
    json_t *obj = NULL;
    int rc = catalog_job_get(call->w->cat, r->id, &obj);
    json_decref(obj);
    obj = NULL;
    if (rc)
        return reply_catalog(call, rc, &obj, "job");
    char object[48];
    snprintf(object, sizeof(object), "job:%" PRId64, r->id);
    web_call_audit(call, "job-cancel", object);
    rc = catalog_job_cancel(call->w->cat, r->id);
    if (rc == -ENOENT)
        return reply_catalog(call, rc, &obj, "job");
    if (rc)
        return web_reply_error(call->conn, MHD_HTTP_CONFLICT, "job cannot be cancelled: %s",
                               strerror(-rc));
    return reply_catalog(call, catalog_job_get(call->w->cat, r->id, &obj), &obj, "job");
}

enum MHD_Result web_api_handle(struct web_call *call)
{
    struct route r;
    enum route_kind k = route_parse(call->url, &r);
    if (k == R_NONE)
        return web_reply_error(call->conn, MHD_HTTP_NOT_FOUND, "no such resource");
    if (!method_allowed(k, call->method))
        return web_reply_error_hdr(call->conn, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
                                   route_allow(k), "method not allowed");
    switch (k) {
    case R_ROOMS:
    case R_ROOM_PARTICIPANTS:
    case R_RECORDINGS:
        return handle_list(call, &r);
    case R_JOBS:
        if (strcmp(call->method, "POST") == 0)
            return web_job_create(call);
        return handle_list(call, &r);
    case R_RECORDING_FILE:
        return web_download(call, WEB_FILE_RECORDING, r.id);
    case R_OUTPUT_FILE:
        return web_download(call, WEB_FILE_OUTPUT, r.id);
    case R_JOB_CANCEL:
        return handle_cancel(call, &r);
    default:
        return handle_one(call, &r);
    }
}
