/* This file implements the catalog's queries over rooms, participants and recordings, and the
 * list machinery (filters, count, page) the job queries share.
 *
 * DESIGN: a query's SQL is assembled only from constant fragments chosen by which filters are
 * set; every value is a bound parameter. Choosing fragments (rather than one statement with
 * "?1 IS NULL OR col = ?1" everywhere) lets SQLite use the index each filter has: by room or
 * participant it walks participants -> tracks -> recordings; by time it ranges over
 * recordings(opened_at, closed_at), an index that answers the count without touching rows. A
 * recording overlaps [from, to) if it opened before `to` and has not closed by `from`; the
 * opened_at range starts at from - (longest recording), or at the oldest still-open
 * recording if that is earlier, so the scan is bounded yet misses nothing.
 * The total (COUNT(*)) and the page are read in one transaction: they agree. Lists are in
 * chronological order (ties broken by end time, then id), stable for pagination. */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define INT64_MAX_SQL "9223372036854775807"

static void where_cond(struct catalog_where *w, const char *cond)
{
    const char *sep = w->len ? " AND " : " WHERE ";
    int n = snprintf(w->sql + w->len, sizeof w->sql - w->len, "%s%s", sep, cond);
    if (n < 0 || (size_t)n >= sizeof w->sql - w->len || w->n == CATALOG_WHERE_MAX) {
        /* Fragments are constants of this module: running out is a bug, not input. */
        fprintf(stderr, "catalog: WHERE clause too long\n");
        abort();
    }
    w->len += (size_t)n;
}

void catalog_where_text(struct catalog_where *w, const char *cond, const char *v)
{
    where_cond(w, cond);
    w->binds[w->n].text = v;
    w->n++;
}

void catalog_where_int(struct catalog_where *w, const char *cond, int64_t v)
{
    where_cond(w, cond);
    w->binds[w->n].text = NULL;
    w->binds[w->n].i = v;
    w->n++;
}

int catalog_filter_page(const struct catalog_filter *f, int64_t *limit, int64_t *offset)
{
    *limit = f && f->limit ? f->limit : CATALOG_LIMIT_DEFAULT;
    *offset = f ? f->offset : 0;
    if (*limit < 0 || *offset < 0 || (f && (f->from_us < 0 || f->to_us < 0)))
        return -EINVAL;
    if (*limit > CATALOG_LIMIT_MAX)
        *limit = CATALOG_LIMIT_MAX;
    return 0;
}

struct catalog_reader *catalog_read_begin(struct catalog *c)
{
    struct catalog_reader *r = catalog_reader_acquire(c);
    sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
    return r;
}

void catalog_read_end(struct catalog_reader *r)
{
    if (!sqlite3_get_autocommit(r->db))
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    catalog_reader_release(r);
}

static int prepare(sqlite3 *db, const char *a, const char *b, const char *c, const char *d,
                   sqlite3_stmt **st)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 8;
    char *sql = xmalloc(n);
    snprintf(sql, n, "%s %s%s %s", a, b, c, d);
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    free(sql);
    return rc;
}

static void bind_where(sqlite3_stmt *st, const struct catalog_where *w)
{
    for (int i = 0; i < w->n; i++) {
        if (w->binds[i].text)
            catalog_bind_text(st, i + 1, w->binds[i].text);
        else
            sqlite3_bind_int64(st, i + 1, w->binds[i].i);
    }
}

static int count_rows(sqlite3 *db, const struct catalog_list *l, const struct catalog_where *w,
                      int64_t *total)
{
    sqlite3_stmt *st = NULL;
    int rc =
        prepare(db, "SELECT count(*)", l->count_from ? l->count_from : l->from, w->sql, "", &st);
    if (rc == SQLITE_OK) {
        bind_where(st, w);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *total = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int catalog_list_run(sqlite3 *db, const struct catalog_list *l, const struct catalog_where *w,
                     int64_t limit, int64_t offset, json_t **out)
{
    int64_t total = 0;
    sqlite3_stmt *st = NULL;
    int rc = count_rows(db, l, w, &total);
    if (rc == SQLITE_OK) {
        char tail[160];
        snprintf(tail, sizeof tail, "%s LIMIT ?%d OFFSET ?%d", l->order, w->n + 1, w->n + 2);
        rc = prepare(db, l->columns, l->from, w->sql, tail, &st);
    }
    json_t *items = json_array();
    if (rc == SQLITE_OK) {
        bind_where(st, w);
        sqlite3_bind_int64(st, w->n + 1, limit);
        sqlite3_bind_int64(st, w->n + 2, offset);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(items, l->row ? l->row(l->ctx, db, st) : catalog_row_json(st));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return catalog_sqlite_errno(rc ? rc : SQLITE_ERROR);
    }
    *out = json_pack("{s:o, s:I, s:I, s:I}", l->key, items, "total", (json_int_t)total, "limit",
                     (json_int_t)limit, "offset", (json_int_t)offset);
    return 0;
}

int catalog_get_one(struct catalog *c, const char *sql, int64_t id,
                    json_t *(*row)(void *ctx, sqlite3 *db, sqlite3_stmt *st), void *ctx,
                    json_t **out)
{
    if (!c || !out)
        return -EINVAL;
    struct catalog_reader *r = catalog_read_begin(c);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    int ret = -ENOENT;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = row ? row(ctx, r->db, st) : catalog_row_json(st);
            ret = 0;
        } else if (rc != SQLITE_DONE) {
            ret = catalog_sqlite_errno(rc);
        }
    } else {
        ret = catalog_sqlite_errno(rc);
    }
    sqlite3_finalize(st);
    catalog_read_end(r);
    return ret;
}

int catalog_get_text(struct catalog *c, const char *sql, int64_t id, char *buf, size_t len)
{
    if (!c || !buf || !len)
        return -EINVAL;
    struct catalog_reader *r = catalog_reader_acquire(c);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    int ret = -ENOENT;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *s = (const char *)sqlite3_column_text(st, 0);
            size_t n = s ? strlen(s) : 0;
            ret = n < len ? 0 : -ENAMETOOLONG;
            if (ret == 0)
                memcpy(buf, s ? s : "", n + 1);
        } else if (rc != SQLITE_DONE) {
            ret = catalog_sqlite_errno(rc);
        }
    } else {
        ret = catalog_sqlite_errno(rc);
    }
    sqlite3_finalize(st);
    catalog_reader_release(r);
    return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* Rooms. */

static const char room_columns[] =
    "SELECT rooms.room AS room, rooms.description AS description,"
    " rooms.created_at AS created_at, rooms.destroyed_at AS destroyed_at,"
    " (SELECT count(*) FROM participants p WHERE p.room = rooms.room) AS participants,"
    " (SELECT count(*) FROM participants p JOIN tracks t ON t.participant_id = p.id"
    "  JOIN recordings r ON r.track_id = t.id WHERE p.room = rooms.room) AS recordings";

int catalog_rooms_query(struct catalog *c, const struct catalog_filter *f, json_t **out)
{
    int64_t limit, offset;
    if (!c || !out || catalog_filter_page(f, &limit, &offset) < 0)
        return -EINVAL;
    struct catalog_where w = {.len = 0};
    if (f && f->room)
        catalog_where_text(&w, "rooms.room = ?", f->room);
    if (f && f->participant)
        catalog_where_text(&w,
                           "EXISTS (SELECT 1 FROM participants p WHERE p.room = rooms.room"
                           " AND p.participant = ?)",
                           f->participant);
    if (f && f->display)
        catalog_where_text(&w,
                           "EXISTS (SELECT 1 FROM participants p WHERE p.room = rooms.room"
                           " AND instr(lower(p.display), lower(?)) > 0)",
                           f->display);
    if (f && f->from_us)
        catalog_where_int(&w, "coalesce(rooms.destroyed_at, " INT64_MAX_SQL ") > ?", f->from_us);
    if (f && f->to_us)
        catalog_where_int(&w, "rooms.created_at < ?", f->to_us);
    const struct catalog_list l = {
        .key = "rooms",
        .columns = room_columns,
        .from = "FROM rooms",
        .order = "ORDER BY rooms.created_at, rooms.room",
    };
    struct catalog_reader *r = catalog_read_begin(c);
    int ret = catalog_list_run(r->db, &l, &w, limit, offset, out);
    catalog_read_end(r);
    return ret;
}

int catalog_room_get(struct catalog *c, const char *room, json_t **out)
{
    if (!c || !room || !out)
        return -EINVAL;
    struct catalog_filter f = {.room = room, .limit = 1};
    json_t *list = NULL;
    int r = catalog_rooms_query(c, &f, &list);
    if (r < 0)
        return r;
    json_t *first = json_array_get(json_object_get(list, "rooms"), 0);
    if (first)
        *out = json_incref(first);
    json_decref(list);
    return first ? 0 : -ENOENT;
}

/* ------------------------------------------------------------------------------------------ */
/* Recordings. */

#define REC_COLUMNS                                                                                \
    "SELECT r.id AS id, p.room AS room, p.participant AS participant, p.display AS display,"       \
    " t.kind AS kind, t.mindex AS mindex, r.codec AS codec, r.path AS path, r.state AS state,"     \
    " r.size AS size, r.sha256 AS sha256, r.frames AS frames, r.dropped AS dropped,"               \
    " r.trimmed AS trimmed, r.error AS error, r.opened_at AS opened_at,"                           \
    " r.closed_at AS closed_at, r.track_id AS track, p.id AS participant_session"
#define REC_FROM                                                                                   \
    "FROM recordings r JOIN tracks t ON t.id = r.track_id"                                         \
    " JOIN participants p ON p.id = t.participant_id"

/* Where a time-range scan over recordings(opened_at) may start (see DESIGN). */
static int64_t opened_lower_bound(sqlite3 *db, int64_t from)
{
    sqlite3_stmt *st = NULL;
    int64_t lower = from;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT value FROM catalog_meta WHERE key = 'max_recording_us'),"
                           " (SELECT min(opened_at) FROM recordings WHERE state = 'open')",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        int64_t span = sqlite3_column_int64(st, 0);
        lower = from - (span > 0 ? span : 0);
        if (sqlite3_column_type(st, 1) == SQLITE_INTEGER && sqlite3_column_int64(st, 1) < lower)
            lower = sqlite3_column_int64(st, 1);
    } else {
        lower = 0; /* unknown: scan from the start, still correct */
    }
    sqlite3_finalize(st);
    return lower;
}

static void recordings_where(sqlite3 *db, const struct catalog_filter *f, struct catalog_where *w)
{
    /* With a room or participant, SQLite should start from participants; the unary + keeps
     * it from choosing the opened_at index for the time terms instead. */
    bool by_who = f->room || f->participant;
    if (f->room)
        catalog_where_text(w, "p.room = ?", f->room);
    if (f->participant)
        catalog_where_text(w, "p.participant = ?", f->participant);
    if (f->display)
        catalog_where_text(w, "instr(lower(p.display), lower(?)) > 0", f->display);
    if (f->codec)
        catalog_where_text(w, "r.codec = ?", f->codec);
    if (f->kind)
        catalog_where_text(w, "t.kind = ?", f->kind);
    if (f->state)
        catalog_where_text(w, "r.state = ?", f->state);
    if (f->from_us) {
        catalog_where_int(w, "coalesce(r.closed_at, " INT64_MAX_SQL ") > ?", f->from_us);
        catalog_where_int(w, by_who ? "+r.opened_at >= ?" : "r.opened_at >= ?",
                          opened_lower_bound(db, f->from_us));
    }
    if (f->to_us)
        catalog_where_int(w, by_who ? "+r.opened_at < ?" : "r.opened_at < ?", f->to_us);
}

int catalog_recordings_query(struct catalog *c, const struct catalog_filter *f, json_t **out)
{
    int64_t limit, offset;
    if (!c || !out || catalog_filter_page(f, &limit, &offset) < 0)
        return -EINVAL;
    const struct catalog_filter none = {.limit = 0};
    if (!f)
        f = &none;
    /* Filters on recordings alone: the total needs no join (the joins are on foreign keys,
     * so they neither add nor drop rows). */
    bool joined = f->room || f->participant || f->display || f->kind;
    const struct catalog_list l = {
        .key = "recordings",
        .columns = REC_COLUMNS,
        .from = REC_FROM,
        .count_from = joined ? NULL : "FROM recordings r",
        /* The recordings_opened index order: a time range stops after one page. */
        .order = "ORDER BY r.opened_at, r.closed_at, r.id",
    };
    struct catalog_reader *r = catalog_read_begin(c);
    struct catalog_where w = {.len = 0};
    recordings_where(r->db, f, &w);
    int ret = catalog_list_run(r->db, &l, &w, limit, offset, out);
    catalog_read_end(r);
    return ret;
}

int catalog_recording_get(struct catalog *c, int64_t id, json_t **out)
{
    return catalog_get_one(c, REC_COLUMNS " " REC_FROM " WHERE r.id = ?1", id, NULL, NULL, out);
}

int catalog_recording_path(struct catalog *c, int64_t id, char *buf, size_t len)
{
    return catalog_get_text(c, "SELECT path FROM recordings WHERE id = ?1", id, buf, len);
}

int catalog_open_recordings(struct catalog *c, char ***paths, size_t *n)
{
    if (!c || !paths || !n)
        return -EINVAL;
    *paths = NULL;
    *n = 0;
    struct catalog_reader *r = catalog_reader_acquire(c);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        r->db, "SELECT path FROM recordings WHERE state = 'open' ORDER BY id", -1, &st, NULL);
    size_t cap = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *paths = xrealloc(*paths, cap * sizeof **paths);
        }
        (*paths)[(*n)++] = xstrdup((const char *)sqlite3_column_text(st, 0));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    catalog_reader_release(r);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < *n; i++)
            free((*paths)[i]);
        free(*paths);
        *paths = NULL;
        *n = 0;
        return catalog_sqlite_errno(rc);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Participants, each with its tracks and their recordings. */

static json_t *rows_json(sqlite3 *db, const char *sql, int64_t id,
                         json_t *(*row)(void *ctx, sqlite3 *db, sqlite3_stmt *st))
{
    json_t *a = json_array();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(a, row ? row(NULL, db, st) : catalog_row_json(st));
    }
    sqlite3_finalize(st);
    return a;
}

static json_t *track_json(void *ctx, sqlite3 *db, sqlite3_stmt *st)
{
    (void)ctx;
    json_t *o = catalog_row_json(st);
    json_object_set_new(
        o, "recordings",
        rows_json(db, REC_COLUMNS " " REC_FROM " WHERE r.track_id = ?1 ORDER BY r.opened_at, r.id",
                  sqlite3_column_int64(st, 0), NULL));
    return o;
}

static json_t *participant_json(void *ctx, sqlite3 *db, sqlite3_stmt *st)
{
    (void)ctx;
    json_t *o = catalog_row_json(st);
    json_object_set_new(o, "tracks",
                        rows_json(db,
                                  "SELECT id, kind, mindex, mid, codec, description, published_at,"
                                  " unpublished_at FROM tracks WHERE participant_id = ?1"
                                  " ORDER BY published_at, id",
                                  sqlite3_column_int64(st, 0), track_json));
    return o;
}

int catalog_participants_query(struct catalog *c, const struct catalog_filter *f, json_t **out)
{
    int64_t limit, offset;
    if (!c || !out || !f || !f->room || catalog_filter_page(f, &limit, &offset) < 0)
        return -EINVAL;
    struct catalog_where w = {.len = 0};
    catalog_where_text(&w, "p.room = ?", f->room);
    if (f->participant)
        catalog_where_text(&w, "p.participant = ?", f->participant);
    if (f->display)
        catalog_where_text(&w, "instr(lower(p.display), lower(?)) > 0", f->display);
    if (f->from_us)
        catalog_where_int(&w, "coalesce(p.left_at, " INT64_MAX_SQL ") > ?", f->from_us);
    if (f->to_us)
        catalog_where_int(&w, "p.joined_at < ?", f->to_us);
    const struct catalog_list l = {
        .key = "participants",
        .columns = "SELECT p.id AS id, p.room AS room, p.participant AS participant,"
                   " p.display AS display, p.joined_at AS joined_at, p.left_at AS left_at",
        .from = "FROM participants p",
        .order = "ORDER BY p.joined_at, p.id",
        .row = participant_json,
    };
    struct catalog_reader *r = catalog_read_begin(c);
    int ret = catalog_list_run(r->db, &l, &w, limit, offset, out);
    catalog_read_end(r);
    return ret;
}
