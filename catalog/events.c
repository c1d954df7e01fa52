/* This file implements catalog events: validating and copying them on the poster's thread,
 * and applying them to the tables on the writer thread.
 *
 * DESIGN: events are upserts, so the archive can post what it knows in any order. An event
 * naming a room, participant or track the catalog has not seen creates it. The participant
 * an event means is the latest row for (room, participant) that has not left; if there is
 * none, a new session row starts. Likewise a track is the latest unpublished-at-NULL row for
 * (participant row, kind, mindex). A recording is its path (unique); re-opening a known
 * path restarts that row (a rescan of the same file keeps its id). */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <string.h>

#include "common/sha256.h"
#include "common/xalloc.h"

/* Any one string of an event; longer ones are refused (bounded memory per event). */
#define EVENT_STRING_MAX 4096

#define EVENT_STRINGS(e)                                                                           \
    {                                                                                              \
        &(e)->room, &(e)->room_description, &(e)->participant, &(e)->display, &(e)->kind_name,     \
            &(e)->mid, &(e)->codec, &(e)->description, &(e)->path, &(e)->error                     \
    }

static bool given(const char *s)
{
    return s && s[0];
}

static bool track_kind_ok(const char *k)
{
    return k && (strcmp(k, "audio") == 0 || strcmp(k, "video") == 0 || strcmp(k, "data") == 0);
}

static int event_check(const struct catalog_event *ev)
{
    const char *const *strs[] = EVENT_STRINGS(ev);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (*strs[i] && strlen(*strs[i]) > EVENT_STRING_MAX)
            return -EINVAL;
    if (ev->size > INT64_MAX || ev->frames > INT64_MAX || ev->dropped > INT64_MAX ||
        ev->trimmed > INT64_MAX || ev->at_us < 0)
        return -EINVAL;
    bool who = given(ev->room) && given(ev->participant);
    bool track = who && track_kind_ok(ev->kind_name) && ev->mindex >= 0;
    switch (ev->kind) {
    case CATALOG_ROOM_CREATED:
    case CATALOG_ROOM_DESTROYED:
        return given(ev->room) ? 0 : -EINVAL;
    case CATALOG_PARTICIPANT_JOINED:
    case CATALOG_PARTICIPANT_LEFT:
        return who ? 0 : -EINVAL;
    case CATALOG_TRACK_PUBLISHED:
    case CATALOG_TRACK_UNPUBLISHED:
        return track ? 0 : -EINVAL;
    case CATALOG_RECORDING_OPENED:
        return track && catalog_path_ok(ev->path) ? 0 : -EINVAL;
    case CATALOG_RECORDING_CLOSED:
    case CATALOG_RECORDING_FAILED:
    case CATALOG_RECORDING_RECOVERED:
        return catalog_path_ok(ev->path) ? 0 : -EINVAL;
    }
    return -EINVAL;
}

/* One allocation: the struct followed by its strings. */
static struct catalog_event *event_copy(const struct catalog_event *ev)
{
    const char *const *src[] = EVENT_STRINGS(ev);
    size_t total = sizeof *ev;
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
        if (*src[i])
            total += strlen(*src[i]) + 1;
    struct catalog_event *copy = xmalloc(total);
    *copy = *ev;
    const char **dst[] = EVENT_STRINGS(copy);
    char *p = (char *)(copy + 1);
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
        if (!*src[i])
            continue;
        size_t n = strlen(*src[i]) + 1;
        memcpy(p, *src[i], n);
        *dst[i] = p;
        p += n;
    }
    return copy;
}

int catalog_post(struct catalog *c, const struct catalog_event *ev)
{
    if (!c || !ev)
        return -EINVAL;
    int r = event_check(ev);
    if (r < 0)
        return r;
    struct catalog_event *copy = event_copy(ev);
    if (!copy->at_us)
        copy->at_us = catalog_now_us();
    return catalog_writer_post(c, catalog_event_apply, copy);
}

/* ------------------------------------------------------------------------------------------ */

static const char sql_room_ensure[] =
    "INSERT INTO rooms(room, created_at) VALUES (?1, ?2) ON CONFLICT(room) DO NOTHING";
static const char sql_room_create[] =
    "INSERT INTO rooms(room, description, created_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT(room) DO UPDATE SET description = coalesce(excluded.description, description),"
    " created_at = CASE WHEN destroyed_at IS NULL THEN min(created_at, excluded.created_at)"
    " ELSE excluded.created_at END, destroyed_at = NULL";
static const char sql_room_destroy[] = "UPDATE rooms SET destroyed_at = ?2 WHERE room = ?1";
static const char sql_room_tracks_end[] =
    "UPDATE tracks SET unpublished_at = ?2 WHERE unpublished_at IS NULL AND participant_id IN"
    " (SELECT id FROM participants WHERE room = ?1 AND left_at IS NULL)";
static const char sql_room_participants_end[] =
    "UPDATE participants SET left_at = ?2 WHERE room = ?1 AND left_at IS NULL";
static const char sql_participant_find[] =
    "SELECT id FROM participants WHERE room = ?1 AND participant = ?2 AND left_at IS NULL"
    " ORDER BY id DESC LIMIT 1";
static const char sql_participant_insert[] =
    "INSERT INTO participants(room, participant, display, joined_at) VALUES (?1, ?2, ?3, ?4)";
static const char sql_participant_display[] =
    "UPDATE participants SET display = ?2 WHERE id = ?1 AND display IS NOT ?2";
static const char sql_participant_leave[] = "UPDATE participants SET left_at = ?2 WHERE id = ?1";
static const char sql_participant_tracks_end[] =
    "UPDATE tracks SET unpublished_at = ?2 WHERE participant_id = ?1 AND unpublished_at IS NULL";
static const char sql_track_find[] =
    "SELECT id FROM tracks WHERE participant_id = ?1 AND kind = ?2 AND mindex = ?3"
    " AND unpublished_at IS NULL ORDER BY id DESC LIMIT 1";
static const char sql_track_insert[] =
    "INSERT INTO tracks(participant_id, kind, mindex, mid, codec, description, published_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_track_update[] =
    "UPDATE tracks SET mid = coalesce(?2, mid), codec = coalesce(?3, codec),"
    " description = coalesce(?4, description) WHERE id = ?1 AND (mid IS NOT coalesce(?2, mid)"
    " OR codec IS NOT coalesce(?3, codec) OR description IS NOT coalesce(?4, description))";
static const char sql_track_end[] = "UPDATE tracks SET unpublished_at = ?2 WHERE id = ?1";
static const char sql_recording_open[] =
    "INSERT INTO recordings(track_id, path, codec, state, opened_at)"
    " VALUES (?1, ?2, coalesce(?3, (SELECT codec FROM tracks WHERE id = ?1)), 'open', ?4)"
    " ON CONFLICT(path) DO UPDATE SET track_id = excluded.track_id, codec = excluded.codec,"
    " state = 'open', size = NULL, sha256 = NULL, frames = NULL, dropped = NULL,"
    " trimmed = NULL, error = NULL, opened_at = excluded.opened_at, closed_at = NULL";
static const char sql_recording_close[] =
    "UPDATE recordings SET state = ?2, size = ?3, sha256 = ?4, frames = coalesce(?5, frames),"
    " dropped = coalesce(?6, dropped), trimmed = coalesce(?7, trimmed), error = ?8,"
    " closed_at = ?9 WHERE path = ?1";

/* Runs a statement whose parameters 1 and 2 are (text or id, time). */
static int run_at(struct catalog *c, const char *sql, const char *text, int64_t id, int64_t at)
{
    sqlite3_stmt *st = catalog_wstmt(c, sql);
    if (!st)
        return -EIO;
    if (text)
        catalog_bind_text(st, 1, text);
    else
        sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    return catalog_wstep(c, st);
}

/* A single-row, single-integer SELECT: 1 with *id, 0 for no row. */
static int select_id(struct catalog *c, sqlite3_stmt *st, int64_t *id)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    vb_log_warn(c->log, "catalog: %s", sqlite3_errmsg(c->wdb));
    return catalog_sqlite_errno(rc);
}

static int participant_find(struct catalog *c, const struct catalog_event *ev, int64_t *id)
{
    sqlite3_stmt *st = catalog_wstmt(c, sql_participant_find);
    if (!st)
        return -EIO;
    catalog_bind_text(st, 1, ev->room);
    catalog_bind_text(st, 2, ev->participant);
    return select_id(c, st, id);
}

static int participant_ensure(struct catalog *c, const struct catalog_event *ev, int64_t *id)
{
    /* A participant row implies its room's (foreign key): the room is ensured only for a new
     * participant. */
    int r = participant_find(c, ev, id);
    if (r < 0)
        return r;
    sqlite3_stmt *st;
    if (r == 1) {
        if (!ev->display)
            return 0;
        if (!(st = catalog_wstmt(c, sql_participant_display)))
            return -EIO;
        sqlite3_bind_int64(st, 1, *id);
        catalog_bind_text(st, 2, ev->display);
        return catalog_wstep(c, st);
    }
    if ((r = run_at(c, sql_room_ensure, ev->room, 0, ev->at_us)) < 0)
        return r;
    if (!(st = catalog_wstmt(c, sql_participant_insert)))
        return -EIO;
    catalog_bind_text(st, 1, ev->room);
    catalog_bind_text(st, 2, ev->participant);
    catalog_bind_text(st, 3, ev->display);
    sqlite3_bind_int64(st, 4, ev->at_us);
    r = catalog_wstep(c, st);
    *id = sqlite3_last_insert_rowid(c->wdb);
    return r;
}

static int track_find(struct catalog *c, int64_t pid, const struct catalog_event *ev, int64_t *id)
{
    sqlite3_stmt *st = catalog_wstmt(c, sql_track_find);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, pid);
    catalog_bind_text(st, 2, ev->kind_name);
    sqlite3_bind_int(st, 3, ev->mindex);
    return select_id(c, st, id);
}

static int track_ensure(struct catalog *c, const struct catalog_event *ev, int64_t *id)
{
    int64_t pid = 0;
    int r = participant_ensure(c, ev, &pid);
    if (r == 0)
        r = track_find(c, pid, ev, id);
    if (r < 0)
        return r;
    bool found = r == 1;
    sqlite3_stmt *st = catalog_wstmt(c, found ? sql_track_update : sql_track_insert);
    if (!st)
        return -EIO;
    if (found) {
        sqlite3_bind_int64(st, 1, *id);
        catalog_bind_text(st, 2, ev->mid);
        catalog_bind_text(st, 3, ev->codec);
        catalog_bind_text(st, 4, ev->description);
        return catalog_wstep(c, st);
    }
    sqlite3_bind_int64(st, 1, pid);
    catalog_bind_text(st, 2, ev->kind_name);
    sqlite3_bind_int(st, 3, ev->mindex);
    catalog_bind_text(st, 4, ev->mid);
    catalog_bind_text(st, 5, ev->codec);
    catalog_bind_text(st, 6, ev->description);
    sqlite3_bind_int64(st, 7, ev->at_us);
    r = catalog_wstep(c, st);
    *id = sqlite3_last_insert_rowid(c->wdb);
    return r;
}

static int room_created(struct catalog *c, const struct catalog_event *ev)
{
    sqlite3_stmt *st = catalog_wstmt(c, sql_room_create);
    if (!st)
        return -EIO;
    catalog_bind_text(st, 1, ev->room);
    catalog_bind_text(st, 2, ev->room_description);
    sqlite3_bind_int64(st, 3, ev->at_us);
    return catalog_wstep(c, st);
}

static int room_destroyed(struct catalog *c, const struct catalog_event *ev)
{
    int r = run_at(c, sql_room_ensure, ev->room, 0, ev->at_us);
    if (r == 0)
        r = run_at(c, sql_room_destroy, ev->room, 0, ev->at_us);
    if (r == 0)
        r = run_at(c, sql_room_tracks_end, ev->room, 0, ev->at_us);
    if (r == 0)
        r = run_at(c, sql_room_participants_end, ev->room, 0, ev->at_us);
    return r;
}

static int participant_left(struct catalog *c, const struct catalog_event *ev)
{
    int64_t pid = 0;
    int r = participant_find(c, ev, &pid);
    if (r <= 0)
        return r; /* not in the room: nothing to end */
    r = run_at(c, sql_participant_tracks_end, NULL, pid, ev->at_us);
    if (r == 0)
        r = run_at(c, sql_participant_leave, NULL, pid, ev->at_us);
    return r;
}

static int track_unpublished(struct catalog *c, const struct catalog_event *ev)
{
    int64_t pid = 0, tid = 0;
    int r = participant_find(c, ev, &pid);
    if (r == 1)
        r = track_find(c, pid, ev, &tid);
    if (r <= 0)
        return r;
    return run_at(c, sql_track_end, NULL, tid, ev->at_us);
}

static int recording_opened(struct catalog *c, const struct catalog_event *ev)
{
    int64_t tid = 0;
    int r = track_ensure(c, ev, &tid);
    if (r < 0)
        return r;
    sqlite3_stmt *st = catalog_wstmt(c, sql_recording_open);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, tid);
    catalog_bind_text(st, 2, ev->path);
    catalog_bind_text(st, 3, ev->codec);
    sqlite3_bind_int64(st, 4, ev->at_us);
    return catalog_wstep(c, st);
}

static void bind_count(sqlite3_stmt *st, int i, bool has, uint64_t v)
{
    if (has)
        sqlite3_bind_int64(st, i, (int64_t)v);
    else
        sqlite3_bind_null(st, i);
}

static int recording_ended(struct catalog *c, const struct catalog_event *ev)
{
    static const char *const states[] = {
        [CATALOG_RECORDING_CLOSED] = "closed",
        [CATALOG_RECORDING_FAILED] = "failed",
        [CATALOG_RECORDING_RECOVERED] = "recovered",
    };
    sqlite3_stmt *st = catalog_wstmt(c, sql_recording_close);
    if (!st)
        return -EIO;
    char hex[VB_SHA256_HEX];
    vb_sha256_hex(ev->sha256, hex);
    bool failed = ev->kind == CATALOG_RECORDING_FAILED;
    catalog_bind_text(st, 1, ev->path);
    catalog_bind_text(st, 2, states[ev->kind]);
    bind_count(st, 3, !failed || ev->size || ev->has_sha256, ev->size);
    catalog_bind_text(st, 4, ev->has_sha256 ? hex : NULL);
    bind_count(st, 5, !failed, ev->frames); /* closed, and recovered (counted by recovery) */
    bind_count(st, 6, ev->kind == CATALOG_RECORDING_CLOSED, ev->dropped);
    bind_count(st, 7, ev->kind == CATALOG_RECORDING_RECOVERED, ev->trimmed);
    catalog_bind_text(st, 8, failed ? (ev->error ? ev->error : "failed") : NULL);
    sqlite3_bind_int64(st, 9, ev->at_us);
    int r = catalog_wstep(c, st);
    if (r == 0 && sqlite3_changes(c->wdb) == 0) {
        vb_log_warn(c->log, "catalog: %s of an unknown recording %s", states[ev->kind], ev->path);
        return -ENOENT;
    }
    return r;
}

int catalog_event_apply(struct catalog *c, void *arg)
{
    const struct catalog_event *ev = arg;
    int64_t id = 0;
    switch (ev->kind) {
    case CATALOG_ROOM_CREATED:
        return room_created(c, ev);
    case CATALOG_ROOM_DESTROYED:
        return room_destroyed(c, ev);
    case CATALOG_PARTICIPANT_JOINED:
        return participant_ensure(c, ev, &id);
    case CATALOG_PARTICIPANT_LEFT:
        return participant_left(c, ev);
    case CATALOG_TRACK_PUBLISHED:
        return track_ensure(c, ev, &id);
    case CATALOG_TRACK_UNPUBLISHED:
        return track_unpublished(c, ev);
    case CATALOG_RECORDING_OPENED:
        return recording_opened(c, ev);
    case CATALOG_RECORDING_CLOSED:
    case CATALOG_RECORDING_FAILED:
    case CATALOG_RECORDING_RECOVERED:
        return recording_ended(c, ev);
    }
    return -EINVAL;
}
