/* This file implements POST /api/jobs: a transcode request from the page or a script.
 *
 * The body is {"recordings": [ids], "format": "webm", "merge": true}. With merge (the
 * default) the recordings become one job and one output (e.g. a participant's audio and video
 * muxed together); with "merge": false each recording gets its own job, and the reply lists
 * them all. Every id is checked to exist before any job is created, so a bad id creates
 * nothing. Each created job is written to the audit log. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "web/web_internal.h"

#define JOB_INPUTS_MAX 256

static const char *const formats[] = {"opus", "ogg", "mka", "wav", "webm",
                                      "mkv",  "mp4", "srt", NULL};

struct job_request {
    int64_t ids[JOB_INPUTS_MAX];
    size_t n;
    const char *format; /* borrowed from the parsed body */
    bool merge;
};

static bool known_format(const char *f)
{
    for (const char *const *p = formats; *p; p++)
        if (strcmp(f, *p) == 0)
            return true;
    return false;
}

static int parse_ids(json_t *arr, struct job_request *jr, char *err, size_t errlen)
{
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0 || n > JOB_INPUTS_MAX) {
        snprintf(err, errlen, "\"recordings\" must be an array of 1 to %d recording ids",
                 JOB_INPUTS_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            snprintf(err, errlen, "\"recordings\"[%zu] is not a recording id", i);
            return -EINVAL;
        }
        jr->ids[i] = json_integer_value(v);
        for (size_t k = 0; k < i; k++)
            if (jr->ids[k] == jr->ids[i]) {
                snprintf(err, errlen, "recording %" PRId64 " is listed twice", jr->ids[i]);
                return -EINVAL;
            }
    }
    jr->n = n;
    return 0;
}

static int parse_body(json_t *body, struct job_request *jr, char *err, size_t errlen)
{
    if (!json_is_object(body)) {
        snprintf(err, errlen, "the body must be a JSON object");
        return -EINVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "recordings") != 0 && strcmp(key, "format") != 0 &&
            strcmp(key, "merge") != 0) {
            snprintf(err, errlen, "unknown key \"%.64s\"", key);
            return -EINVAL;
        }
    }
    int rc = parse_ids(json_object_get(body, "recordings"), jr, err, errlen);
    if (rc)
        return rc;
    jr->format = json_string_value(json_object_get(body, "format"));
    if (!jr->format || !known_format(jr->format)) {
        snprintf(err, errlen, "\"format\" must be one of opus, ogg, mka, wav, webm, mkv, mp4, srt");
        return -EINVAL;
    }
    json_t *merge = json_object_get(body, "merge");
    if (merge && !json_is_boolean(merge)) {
        snprintf(err, errlen, "\"merge\" must be true or false");
        return -EINVAL;
    }
    jr->merge = !merge || json_is_true(merge);
    return 0;
}

/* The audit object of a job: "job:N format=F recordings=a,b,c" (bounded). */
static void audit_created(struct web_call *call, int64_t id, const struct job_request *jr,
                          const int64_t *ids, size_t n)
{
    char object[256];
    size_t used = (size_t)snprintf(object, sizeof(object),
                                   "job:%" PRId64 " format=%s recordings=", id, jr->format);
    for (size_t i = 0; i < n && used < sizeof(object); i++)
        used += (size_t)snprintf(object + used, sizeof(object) - used, "%s%" PRId64, i ? "," : "",
                                 ids[i]);
    web_call_audit(call, "job-create", object);
}

static int create_one(struct web_call *call, const struct job_request *jr, const int64_t *ids,
                      size_t n, int64_t *id)
{
    char who[WEB_WHO_MAX];
    web_call_who(call, who, sizeof(who));
    struct catalog_job_spec spec = {
        .recordings = ids,
        .n_recordings = n,
        .format = jr->format,
        .requested_by = who,
    };
    int rc = catalog_job_create(call->w->cat, &spec, id);
    if (rc == 0)
        audit_created(call, *id, jr, ids, n);
    return rc;
}

/* Every id names a recording: 0, or -ENOENT with the first unknown id in *bad. */
static int check_ids(struct web_call *call, const struct job_request *jr, int64_t *bad)
{
    for (size_t i = 0; i < jr->n; i++) {
        json_t *obj = NULL;
        int rc = catalog_recording_get(call->w->cat, jr->ids[i], &obj);
        json_decref(obj);
        if (rc) {
            *bad = jr->ids[i];
            return rc;
        }
    }
    return 0;
}

static enum MHD_Result reply_created(struct web_call *call, const int64_t *ids, size_t n)
{
    json_t *reply = json_pack("{s:I}", "id", (json_int_t)ids[0]);
    if (n > 1) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_integer(ids[i]));
        json_object_set_new(reply, "ids", arr);
    }
    return web_reply_json(call->conn, MHD_HTTP_CREATED, reply);
}

enum MHD_Result web_job_create(struct web_call *call)
{
    json_error_t jerr;
    json_t *body =
        json_loadb((const char *)call->body, call->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body)
        return web_reply_error(call->conn, MHD_HTTP_BAD_REQUEST, "bad JSON: %s", jerr.text);
    struct job_request *jr = xcalloc(1, sizeof(*jr));
    char err[160];
    enum MHD_Result r;
    int64_t bad = 0;
    int rc = parse_body(body, jr, err, sizeof(err));
    if (rc) {
        r = web_reply_error(call->conn, MHD_HTTP_BAD_REQUEST, "%s", err);
        goto out;
    }
    rc = check_ids(call, jr, &bad);
    int64_t created[JOB_INPUTS_MAX];
    size_t n_created = 0;
    if (rc == 0 && jr->merge) {
        rc = create_one(call, jr, jr->ids, jr->n, &created[0]);
        n_created = rc == 0;
    }
    for (size_t i = 0; rc == 0 && !jr->merge && i < jr->n; i++) {
        rc = create_one(call, jr, &jr->ids[i], 1, &created[i]);
        n_created += rc == 0;
    }
    if (rc == -ENOENT)
        r = web_reply_error(call->conn, MHD_HTTP_NOT_FOUND, "no such recording: %" PRId64, bad);
    else if (rc == -EINVAL)
        r = web_reply_error(call->conn, MHD_HTTP_BAD_REQUEST, "the catalog refused the job");
    else if (rc)
        r = web_reply_error(call->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "catalog: %s",
                            strerror(-rc));
    else
        r = reply_created(call, created, n_created);
out:
    free(jr);
    json_decref(body);
    return r;
}
