/* This file implements automatic conversion jobs (catalog_jobs_auto): when every recording
 * of a participant is finished, one job merges their audio and video into a file people can
 * play.
 *
 * DESIGN: a writer-thread call (ordered after the events that closed the recordings) picks
 * participants not yet considered (participants.auto_job IS NULL, schema v2) with no open
 * recording, chooses a container from the first video codec (or the audio codec when there
 * is no video), keeps the inputs that container can hold, creates the job as
 * catalog_job_create() would, and marks the participant with the job (or 0). */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define AUTO_BATCH 64 /* participants per call */
#define AUTO_INPUTS 8 /* a merge takes at most this many recordings */

struct auto_input {
    int64_t id;
    char kind; /* 'a' or 'v' */
    char codec[16];
};

/* The container for a participant's recordings, and whether each input goes into it. */
static const char *auto_format(const struct auto_input *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in[i].kind == 'v') {
            if (!strcmp(in[i].codec, "h264") || !strcmp(in[i].codec, "h265"))
                return "mp4";
            return "webm"; /* vp8, vp9, av1 */
        }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(in[i].codec, "opus") || !strcmp(in[i].codec, "multiopus"))
            return "opus";
    return n ? "wav" : NULL;
}

static bool auto_takes(const char *format, const struct auto_input *in)
{
    bool opus = !strcmp(in->codec, "opus") || !strcmp(in->codec, "multiopus");
    if (!strcmp(format, "webm"))
        return in->kind == 'v' || opus;
    if (!strcmp(format, "mp4"))
        return in->kind == 'v' || !strcmp(in->codec, "opus");
    return in->kind == 'a'; /* opus / wav: audio only, and a single track */
}

static int participant_inputs(struct catalog *c, int64_t pid, struct auto_input *in, size_t *n)
{
    sqlite3_stmt *st =
        catalog_wstmt(c, "SELECT r.id, t.kind, COALESCE(r.codec, t.codec, '') FROM recordings r"
                         " JOIN tracks t ON t.id = r.track_id WHERE t.participant_id = ?1"
                         " AND r.state IN ('closed', 'recovered') AND t.kind IN ('audio', 'video')"
                         " ORDER BY r.opened_at, r.id");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, pid);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < AUTO_INPUTS) {
        struct auto_input *x = &in[(*n)++];
        x->id = sqlite3_column_int64(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *codec = (const char *)sqlite3_column_text(st, 2);
        x->kind = kind && kind[0] == 'v' ? 'v' : 'a';
        snprintf(x->codec, sizeof(x->codec), "%s", codec ? codec : "");
        for (char *p = x->codec; *p; p++)
            *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : catalog_sqlite_errno(rc);
}

struct auto_args {
    const char *requested_by;
    unsigned created;
};

static int mark(struct catalog *c, int64_t pid, int64_t job)
{
    sqlite3_stmt *st = catalog_wstmt(c, "UPDATE participants SET auto_job = ?2 WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, pid);
    sqlite3_bind_int64(st, 2, job);
    return catalog_wstep(c, st);
}

static int auto_one(struct catalog *c, struct auto_args *a, int64_t pid)
{
    struct auto_input in[AUTO_INPUTS];
    size_t n = 0;
    int rc = participant_inputs(c, pid, in, &n);
    if (rc < 0)
        return rc;
    const char *format = auto_format(in, n);
    int64_t ids[AUTO_INPUTS];
    size_t k = 0;
    for (size_t i = 0; format && i < n; i++)
        if (auto_takes(format, &in[i]) && (k == 0 || strcmp(format, "opus") != 0) &&
            (k == 0 || strcmp(format, "wav") != 0))
            ids[k++] = in[i].id;
    if (k == 0)
        return mark(c, pid, 0);
    struct catalog_job_spec spec = {
        .recordings = ids, .n_recordings = k, .format = format, .requested_by = a->requested_by};
    int64_t job = 0;
    rc = catalog_job_create_locked(c, &spec, &job);
    if (rc < 0)
        return rc;
    a->created++;
    return mark(c, pid, job);
}

static int auto_apply(struct catalog *c, void *arg)
{
    struct auto_args *a = arg;
    sqlite3_stmt *st = catalog_wstmt(
        c, "SELECT p.id FROM participants p WHERE p.auto_job IS NULL"
           " AND EXISTS (SELECT 1 FROM tracks t JOIN recordings r ON r.track_id = t.id"
           "  WHERE t.participant_id = p.id AND r.state IN ('closed', 'recovered'))"
           " AND NOT EXISTS (SELECT 1 FROM tracks t JOIN recordings r ON r.track_id = t.id"
           "  WHERE t.participant_id = p.id AND r.state = 'open')"
           " ORDER BY p.id LIMIT ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, AUTO_BATCH);
    int64_t pids[AUTO_BATCH];
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < AUTO_BATCH)
        pids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return catalog_sqlite_errno(rc);
    for (size_t i = 0; i < n; i++)
        if ((rc = auto_one(c, a, pids[i])) < 0)
            return rc;
    return 0;
}

int catalog_jobs_auto(struct catalog *c, const char *requested_by, unsigned *created)
{
    if (!c)
        return -EINVAL;
    struct auto_args a = {.requested_by = requested_by ? requested_by : "auto"};
    int rc = catalog_writer_call(c, auto_apply, &a);
    if (created)
        *created = a.created;
    return rc;
}
