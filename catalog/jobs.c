/* This file implements transcode jobs in the catalog: creating, claiming with a lease,
 * progress, finishing with outputs, cancelling, and the job and output queries.
 *
 * DESIGN: each operation is a synchronous call run by the writer thread (writer.c) inside
 * its own savepoint, so it is atomic and ordered with the events queued before it. A job is
 * queued -> running (claimed: attempts + 1, lease_owner, lease_until) -> done / failed /
 * cancelled; a failure, or a lease that expired because the worker died, puts it back to
 * queued while attempts < max_attempts. A worker owns a job while state is running and
 * lease_owner is its name: progress and finish from anyone else get -ESTALE, which is how a
 * worker learns its job was cancelled or taken over. */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha256.h"
#include "common/xalloc.h"

static bool name_ok(const char *s, size_t max)
{
    if (!s || !s[0] || strlen(s) > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static int step_id(struct catalog *c, sqlite3_stmt *st, int64_t *v)
{
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc == SQLITE_ROW;
    vb_log_warn(c->log, "catalog: %s", sqlite3_errmsg(c->wdb));
    return catalog_sqlite_errno(rc);
}

/* ------------------------------------------------------------------------------------------ */

struct create_args {
    const struct catalog_job_spec *spec;
    int64_t id;
};

static int create_apply(struct catalog *c, void *arg)
{
    struct create_args *a = arg;
    const struct catalog_job_spec *s = a->spec;
    int64_t v = 0;
    for (size_t i = 0; i < s->n_recordings; i++) {
        sqlite3_stmt *st = catalog_wstmt(c, "SELECT id FROM recordings WHERE id = ?1");
        if (st)
            sqlite3_bind_int64(st, 1, s->recordings[i]);
        int r = step_id(c, st, &v);
        if (r <= 0)
            return r < 0 ? r : -ENOENT;
    }
    sqlite3_stmt *st = catalog_wstmt(c, "INSERT INTO jobs(state, format, max_attempts,"
                                        " requested_by, created_at)"
                                        " VALUES ('queued', ?1, ?2, ?3, ?4)");
    if (!st)
        return -EIO;
    catalog_bind_text(st, 1, s->format);
    sqlite3_bind_int(st, 2, s->max_attempts ? (int)s->max_attempts : 3);
    catalog_bind_text(st, 3, s->requested_by);
    sqlite3_bind_int64(st, 4, catalog_now_us());
    int r = catalog_wstep(c, st);
    a->id = sqlite3_last_insert_rowid(c->wdb);
    for (size_t i = 0; i < s->n_recordings && r == 0; i++) {
        st = catalog_wstmt(c, "INSERT INTO job_inputs(job_id, position, recording_id)"
                              " VALUES (?1, ?2, ?3)");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, a->id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int64(st, 3, s->recordings[i]);
        r = catalog_wstep(c, st);
    }
    return r;
}

int catalog_job_create_locked(struct catalog *c, const struct catalog_job_spec *spec, int64_t *id)
{
    struct create_args a = {.spec = spec};
    int r = create_apply(c, &a);
    if (r == 0 && id)
        *id = a.id;
    return r;
}

int catalog_job_create(struct catalog *c, const struct catalog_job_spec *spec, int64_t *id)
{
    if (!c || !spec || !spec->recordings || spec->n_recordings == 0 ||
        spec->n_recordings > CATALOG_JOB_INPUTS_MAX || !name_ok(spec->format, 32) ||
        spec->max_attempts > 100 || (spec->requested_by && strlen(spec->requested_by) > 256))
        return -EINVAL;
    struct create_args a = {.spec = spec};
    int r = catalog_writer_call(c, create_apply, &a);
    if (r == 0 && id)
        *id = a.id;
    return r;
}

void catalog_job_release(struct catalog_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n_inputs; i++)
        free(j->inputs[i]);
    free(j->inputs);
    free(j->format);
    memset(j, 0, sizeof *j);
}

/* ------------------------------------------------------------------------------------------ */

struct claim_args {
    const char *worker;
    int64_t lease_ms;
    struct catalog_job *out;
};

/* The oldest claimable job: queued, or running with an expired lease. 1, 0 or -errno. */
static int claim_pick(struct catalog *c, int64_t now, int64_t *id, int64_t *attempts,
                      int64_t *max_attempts)
{
    int64_t q = 0, e = 0;
    int rq = step_id(c,
                     catalog_wstmt(c, "SELECT id FROM jobs WHERE state = 'queued'"
                                      " ORDER BY id LIMIT 1"),
                     &q);
    sqlite3_stmt *st = catalog_wstmt(c, "SELECT id FROM jobs WHERE state = 'running'"
                                        " AND lease_until < ?1 ORDER BY id LIMIT 1");
    if (st)
        sqlite3_bind_int64(st, 1, now);
    int re = step_id(c, st, &e);
    if (rq < 0 || re < 0)
        return rq < 0 ? rq : re;
    if (!rq && !re)
        return 0;
    *id = rq && (!re || q < e) ? q : e;
    st = catalog_wstmt(c, "SELECT attempts, max_attempts FROM jobs WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, *id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *attempts = sqlite3_column_int64(st, 0);
        *max_attempts = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : -EIO;
}

static int claim_fill(struct catalog *c, int64_t id, struct catalog_job *j)
{
    sqlite3_stmt *st = catalog_wstmt(c, "SELECT format, attempts FROM jobs WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return -EIO;
    }
    j->id = id;
    j->format = xstrdup((const char *)sqlite3_column_text(st, 0));
    j->attempt = (unsigned)sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    st = catalog_wstmt(c, "SELECT r.path FROM job_inputs ji JOIN recordings r"
                          " ON r.id = ji.recording_id WHERE ji.job_id = ?1 ORDER BY ji.position");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        j->inputs = xrealloc(j->inputs, (j->n_inputs + 1) * sizeof *j->inputs);
        j->inputs[j->n_inputs++] = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 1 : catalog_sqlite_errno(rc);
}

static int claim_apply(struct catalog *c, void *arg)
{
    struct claim_args *a = arg;
    catalog_job_release(a->out); /* a batch that is retried runs this again */
    int64_t now = catalog_now_us();
    for (;;) {
        int64_t id = 0, attempts = 0, max_attempts = 0;
        int r = claim_pick(c, now, &id, &attempts, &max_attempts);
        if (r <= 0)
            return r;
        sqlite3_stmt *st;
        if (attempts >= max_attempts) {
            /* Its last worker died holding it: no attempt is left. */
            st = catalog_wstmt(c, "UPDATE jobs SET state = 'failed', finished_at = ?2,"
                                  " lease_until = NULL, error = 'the worker''s lease expired"
                                  " on the last attempt' WHERE id = ?1");
            if (!st)
                return -EIO;
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, now);
            if ((r = catalog_wstep(c, st)) < 0)
                return r;
            continue;
        }
        st = catalog_wstmt(c, "UPDATE jobs SET state = 'running', attempts = attempts + 1,"
                              " lease_owner = ?2, lease_until = ?3, progress = 0,"
                              " started_at = coalesce(started_at, ?4) WHERE id = ?1");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, id);
        catalog_bind_text(st, 2, a->worker);
        sqlite3_bind_int64(st, 3, now + a->lease_ms * 1000);
        sqlite3_bind_int64(st, 4, now);
        if ((r = catalog_wstep(c, st)) < 0)
            return r;
        return claim_fill(c, id, a->out);
    }
}

int catalog_job_claim(struct catalog *c, const char *worker, int64_t lease_ms,
                      struct catalog_job *out)
{
    if (!c || !out || !worker || !worker[0] || strlen(worker) > 256 || lease_ms <= 0 ||
        lease_ms > INT64_MAX / 2000)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    struct claim_args a = {.worker = worker, .lease_ms = lease_ms, .out = out};
    int r = catalog_writer_call(c, claim_apply, &a);
    if (r != 1)
        catalog_job_release(out);
    return r;
}

/* ------------------------------------------------------------------------------------------ */

struct own_args {
    int64_t id;
    const char *worker;
    double fraction;
    int64_t lease_ms;
    bool success;
    const char *error;
    const struct catalog_output *outputs;
    size_t n;
};

/* 0 if the job is running under `worker` (with its attempts), -ESTALE, or -ENOENT. */
static int job_owned(struct catalog *c, const struct own_args *a, int64_t *attempts,
                     int64_t *max_attempts)
{
    sqlite3_stmt *st = catalog_wstmt(c, "SELECT state = 'running' AND lease_owner IS ?2,"
                                        " attempts, max_attempts FROM jobs WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, a->id);
    catalog_bind_text(st, 2, a->worker);
    int rc = sqlite3_step(st);
    bool owned = false;
    if (rc == SQLITE_ROW) {
        owned = sqlite3_column_int(st, 0);
        *attempts = sqlite3_column_int64(st, 1);
        *max_attempts = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? -ENOENT : catalog_sqlite_errno(rc);
    return owned ? 0 : -ESTALE;
}

static int progress_apply(struct catalog *c, void *arg)
{
    struct own_args *a = arg;
    int64_t attempts = 0, max_attempts = 0;
    int r = job_owned(c, a, &attempts, &max_attempts);
    if (r < 0)
        return r;
    sqlite3_stmt *st =
        catalog_wstmt(c, "UPDATE jobs SET progress = ?2, lease_until = ?3 WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_double(st, 2, a->fraction);
    sqlite3_bind_int64(st, 3, catalog_now_us() + a->lease_ms * 1000);
    return catalog_wstep(c, st);
}

int catalog_job_progress(struct catalog *c, int64_t id, const char *worker, double fraction,
                         int64_t lease_ms)
{
    if (!c || !worker || isnan(fraction) || lease_ms <= 0 || lease_ms > INT64_MAX / 2000)
        return -EINVAL;
    struct own_args a = {
        .id = id,
        .worker = worker,
        .fraction = fraction < 0   ? 0
                    : fraction > 1 ? 1
                                   : fraction,
        .lease_ms = lease_ms,
    };
    return catalog_writer_call(c, progress_apply, &a);
}

static int output_insert(struct catalog *c, int64_t job, const struct catalog_output *o,
                         int64_t now)
{
    sqlite3_stmt *st = catalog_wstmt(c, "INSERT INTO outputs(job_id, path, format, size, sha256,"
                                        " duration, created_at)"
                                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return -EIO;
    char hex[VB_SHA256_HEX];
    vb_sha256_hex(o->sha256, hex);
    sqlite3_bind_int64(st, 1, job);
    catalog_bind_text(st, 2, o->path);
    catalog_bind_text(st, 3, o->format);
    sqlite3_bind_int64(st, 4, (int64_t)o->size);
    catalog_bind_text(st, 5, hex);
    sqlite3_bind_double(st, 6, o->duration_s);
    sqlite3_bind_int64(st, 7, now);
    return catalog_wstep(c, st);
}

static int finish_apply(struct catalog *c, void *arg)
{
    struct own_args *a = arg;
    int64_t attempts = 0, max_attempts = 0, now = catalog_now_us();
    int r = job_owned(c, a, &attempts, &max_attempts);
    for (size_t i = 0; r == 0 && a->success && i < a->n; i++)
        r = output_insert(c, a->id, &a->outputs[i], now);
    if (r < 0)
        return r;
    const char *state = a->success ? "done" : attempts < max_attempts ? "queued" : "failed";
    sqlite3_stmt *st = catalog_wstmt(
        c, "UPDATE jobs SET state = ?2, error = ?3, lease_until = NULL,"
           " progress = CASE WHEN ?2 = 'done' THEN 1 ELSE progress END,"
           " finished_at = CASE WHEN ?2 = 'queued' THEN NULL ELSE ?4 END WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, a->id);
    catalog_bind_text(st, 2, state);
    catalog_bind_text(st, 3, a->success ? NULL : a->error ? a->error : "failed");
    sqlite3_bind_int64(st, 4, now);
    return catalog_wstep(c, st);
}

int catalog_job_finish(struct catalog *c, int64_t id, const char *worker, int status,
                       const char *error, const struct catalog_output *outputs, size_t n)
{
    bool success = status == 0 || status == CATALOG_JOB_DONE;
    if (!c || !worker || (n && !outputs) || n > CATALOG_JOB_INPUTS_MAX ||
        (error && strlen(error) > 4096))
        return -EINVAL;
    for (size_t i = 0; success && i < n; i++)
        if (!catalog_path_ok(outputs[i].path) || !name_ok(outputs[i].format, 32) ||
            outputs[i].size > INT64_MAX)
            return -EINVAL;
    struct own_args a = {
        .id = id,
        .worker = worker,
        .success = success,
        .error = error,
        .outputs = outputs,
        .n = n,
    };
    return catalog_writer_call(c, finish_apply, &a);
}

static int cancel_apply(struct catalog *c, void *arg)
{
    const int64_t *id = arg;
    int64_t v = 0;
    sqlite3_stmt *st = catalog_wstmt(c, "UPDATE jobs SET state = 'cancelled', finished_at = ?2,"
                                        " lease_until = NULL"
                                        " WHERE id = ?1 AND state IN ('queued', 'running')");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, *id);
    sqlite3_bind_int64(st, 2, catalog_now_us());
    int r = catalog_wstep(c, st);
    if (r < 0 || sqlite3_changes(c->wdb) > 0)
        return r;
    st = catalog_wstmt(c, "SELECT id FROM jobs WHERE id = ?1");
    if (st)
        sqlite3_bind_int64(st, 1, *id);
    r = step_id(c, st, &v);
    return r < 0 ? r : r ? -EALREADY : -ENOENT;
}

int catalog_job_cancel(struct catalog *c, int64_t id)
{
    if (!c)
        return -EINVAL;
    return catalog_writer_call(c, cancel_apply, &id);
}

/* ------------------------------------------------------------------------------------------ */
/* Queries. */

static json_t *ids_json(sqlite3 *db, const char *sql, int64_t id)
{
    json_t *a = json_array();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(a, json_integer(sqlite3_column_int64(st, 0)));
    }
    sqlite3_finalize(st);
    return a;
}

static json_t *job_json(void *ctx, sqlite3 *db, sqlite3_stmt *st)
{
    (void)ctx;
    json_t *o = catalog_row_json(st);
    int64_t id = sqlite3_column_int64(st, 0);
    json_object_set_new(o, "recordings",
                        ids_json(db,
                                 "SELECT recording_id FROM job_inputs WHERE job_id = ?1"
                                 " ORDER BY position",
                                 id));
    json_object_set_new(o, "outputs",
                        ids_json(db, "SELECT id FROM outputs WHERE job_id = ?1 ORDER BY id", id));
    return o;
}

#define JOB_COLUMNS                                                                                \
    "SELECT id, state, format, progress, attempts, max_attempts, error, requested_by,"             \
    " lease_owner AS worker, created_at, started_at, finished_at"

int catalog_jobs_query(struct catalog *c, const struct catalog_filter *f, json_t **out)
{
    int64_t limit, offset;
    if (!c || !out || catalog_filter_page(f, &limit, &offset) < 0)
        return -EINVAL;
    struct catalog_where w = {.len = 0};
    if (f && f->state)
        catalog_where_text(&w, "state = ?", f->state);
    if (f && f->from_us)
        catalog_where_int(&w, "created_at >= ?", f->from_us);
    if (f && f->to_us)
        catalog_where_int(&w, "created_at < ?", f->to_us);
    const struct catalog_list l = {
        .key = "jobs",
        .columns = JOB_COLUMNS,
        .from = "FROM jobs",
        .order = "ORDER BY id",
        .row = job_json,
    };
    struct catalog_reader *r = catalog_read_begin(c);
    int ret = catalog_list_run(r->db, &l, &w, limit, offset, out);
    catalog_read_end(r);
    return ret;
}

int catalog_job_get(struct catalog *c, int64_t id, json_t **out)
{
    return catalog_get_one(c, JOB_COLUMNS " FROM jobs WHERE id = ?1", id, job_json, NULL, out);
}

int catalog_output_get(struct catalog *c, int64_t id, json_t **out)
{
    return catalog_get_one(c,
                           "SELECT id, job_id AS job, path, format, size, sha256, duration,"
                           " created_at FROM outputs WHERE id = ?1",
                           id, NULL, NULL, out);
}

int catalog_output_path(struct catalog *c, int64_t id, char *buf, size_t len)
{
    return catalog_get_text(c, "SELECT path FROM outputs WHERE id = ?1", id, buf, len);
}
