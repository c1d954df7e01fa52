/* This file implements the catalog's schema: recognising a file as ours before touching it,
 * and bringing a database to the current version with PRAGMA user_version migrations.
 *
 * DESIGN: migrations[i] takes a database from user_version i to i+1. Each step runs in its
 * own BEGIN IMMEDIATE transaction together with the user_version (and application_id) update,
 * so a crash leaves the file at a whole version, never half-migrated. A file is checked with a
 * read-only connection first: a non-SQLite file, a foreign SQLite database (another
 * application_id, or tables that are not ours) or a newer schema is refused before any
 * read-write connection exists, so refusing never changes a byte of it.
 *
 * Times are integer microseconds since the Unix epoch. catalog_meta.max_recording_us (kept by
 * triggers) is the longest closed recording: time-range queries use it to bound an index
 * range on opened_at instead of scanning every earlier recording. */
#include "catalog/catalog_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"

static const char schema_v1[] =
    "CREATE TABLE rooms ("
    " room TEXT PRIMARY KEY,"
    " description TEXT,"
    " created_at INTEGER NOT NULL,"
    " destroyed_at INTEGER);"
    "CREATE TABLE participants ("
    " id INTEGER PRIMARY KEY,"
    " room TEXT NOT NULL REFERENCES rooms(room),"
    " participant TEXT NOT NULL,"
    " display TEXT,"
    " joined_at INTEGER NOT NULL,"
    " left_at INTEGER);"
    "CREATE INDEX participants_room ON participants(room, participant);"
    "CREATE INDEX participants_participant ON participants(participant);"
    "CREATE TABLE tracks ("
    " id INTEGER PRIMARY KEY,"
    " participant_id INTEGER NOT NULL REFERENCES participants(id),"
    " kind TEXT NOT NULL CHECK (kind IN ('audio', 'video', 'data')),"
    " mindex INTEGER NOT NULL,"
    " mid TEXT,"
    " codec TEXT,"
    " description TEXT,"
    " published_at INTEGER NOT NULL,"
    " unpublished_at INTEGER);"
    "CREATE INDEX tracks_participant ON tracks(participant_id, kind, mindex);"
    "CREATE TABLE recordings ("
    " id INTEGER PRIMARY KEY,"
    " track_id INTEGER NOT NULL REFERENCES tracks(id),"
    " path TEXT NOT NULL UNIQUE,"
    " codec TEXT,"
    " state TEXT NOT NULL CHECK (state IN ('open', 'closed', 'recovered', 'failed')),"
    " size INTEGER,"
    " sha256 TEXT,"
    " frames INTEGER,"
    " dropped INTEGER,"
    " trimmed INTEGER,"
    " error TEXT,"
    " opened_at INTEGER NOT NULL,"
    " closed_at INTEGER);"
    "CREATE INDEX recordings_track ON recordings(track_id, opened_at);"
    "CREATE INDEX recordings_opened ON recordings(opened_at, closed_at);"
    "CREATE INDEX recordings_open ON recordings(opened_at) WHERE state = 'open';"
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY,"
    " state TEXT NOT NULL"
    "  CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),"
    " format TEXT NOT NULL,"
    " progress REAL NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " max_attempts INTEGER NOT NULL,"
    " lease_owner TEXT,"
    " lease_until INTEGER,"
    " error TEXT,"
    " requested_by TEXT,"
    " created_at INTEGER NOT NULL,"
    " started_at INTEGER,"
    " finished_at INTEGER);"
    "CREATE INDEX jobs_state ON jobs(state, id);"
    "CREATE TABLE job_inputs ("
    " job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL,"
    " recording_id INTEGER NOT NULL REFERENCES recordings(id),"
    " PRIMARY KEY (job_id, position)) WITHOUT ROWID;"
    "CREATE INDEX job_inputs_recording ON job_inputs(recording_id);"
    "CREATE TABLE outputs ("
    " id INTEGER PRIMARY KEY,"
    " job_id INTEGER NOT NULL REFERENCES jobs(id),"
    " path TEXT NOT NULL UNIQUE,"
    " format TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " duration REAL,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX outputs_job ON outputs(job_id);"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at INTEGER NOT NULL,"
    " who TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " object TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE TABLE catalog_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO catalog_meta(key, value) VALUES ('max_recording_us', 0);"
    "CREATE TRIGGER recordings_span_insert AFTER INSERT ON recordings"
    " WHEN NEW.closed_at IS NOT NULL BEGIN"
    " UPDATE catalog_meta SET value = max(value, NEW.closed_at - NEW.opened_at)"
    "  WHERE key = 'max_recording_us'; END;"
    "CREATE TRIGGER recordings_span_update AFTER UPDATE OF opened_at, closed_at ON recordings"
    " WHEN NEW.closed_at IS NOT NULL BEGIN"
    " UPDATE catalog_meta SET value = max(value, NEW.closed_at - NEW.opened_at)"
    "  WHERE key = 'max_recording_us'; END;";

/* v2: the automatic conversion job of a participant (NULL: not considered yet; 0: nothing
 * to convert; else the job's id). */
static const char schema_v2[] =
    "ALTER TABLE participants ADD COLUMN auto_job INTEGER;"
    "CREATE INDEX participants_auto ON participants(auto_job) WHERE auto_job IS NULL;";

static const char *const migrations[] = {
    schema_v1,
    schema_v2,
};

/* Every table any version of the schema has had: a file with others is not ours. */
static const char *const known_tables[] = {
    "rooms",      "participants", "tracks", "recordings",   "jobs",
    "job_inputs", "outputs",      "audit",  "catalog_meta",
};

int catalog_schema_version(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static bool table_known(const char *name)
{
    for (size_t i = 0; i < sizeof known_tables / sizeof known_tables[0]; i++)
        if (strcmp(name, known_tables[i]) == 0)
            return true;
    return false;
}

/* The first table that is not ours into `foreign` (empty if none); counts all tables. */
static int scan_tables(sqlite3 *db, char *foreign, size_t flen, int *n_tables)
{
    sqlite3_stmt *st = NULL;
    foreign[0] = '\0';
    *n_tables = 0;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT name FROM sqlite_schema WHERE type = 'table'"
                                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        (*n_tables)++;
        if (name && !table_known(name) && !foreign[0])
            snprintf(foreign, flen, "%s", name);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int check_open_db(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    int64_t app = 0, version = 0;
    int n_tables = 0;
    char foreign[128];
    int rc = pragma_int(db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = scan_tables(db, foreign, sizeof foreign, &n_tables);
    if (rc == SQLITE_NOTADB) {
        snprintf(err, errlen, "%s is not an SQLite database", path);
        return -EBADMSG;
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot read %s: %s", path, sqlite3_errmsg(db));
        return catalog_sqlite_errno(rc);
    }
    if (app != 0 && app != CATALOG_APPLICATION_ID) {
        snprintf(err, errlen,
                 "%s is an SQLite database of another application (application_id 0x%08llx), "
                 "not a Verbatim catalog",
                 path, (unsigned long long)(uint32_t)app);
        return -EPROTO;
    }
    if (app == 0 && foreign[0]) {
        snprintf(err, errlen,
                 "%s is an SQLite database but not a Verbatim catalog (it has a table \"%s\")",
                 path, foreign);
        return -EPROTO;
    }
    if (app == 0 && version != 0 && n_tables > 0) {
        snprintf(err, errlen, "%s has schema version %lld but no Verbatim application id", path,
                 (long long)version);
        return -EPROTO;
    }
    if (version > catalog_schema_version()) {
        snprintf(err, errlen,
                 "%s has catalog schema version %lld, newer than this build knows (%d): "
                 "upgrade Verbatim",
                 path, (long long)version, catalog_schema_version());
        return -EPROTO;
    }
    return 0;
}

/* A file: URI for the read-only check (see catalog_schema_check). */
static char *check_uri(const char *path)
{
    size_t n = strlen(path);
    char *wal = xmalloc(n + 5);
    snprintf(wal, n + 5, "%s-wal", path);
    bool has_wal = access(wal, F_OK) == 0;
    free(wal);
    char *uri = xmalloc(3 * n + 32), *p = uri;
    p += sprintf(p, "file:");
    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if (isalnum(*s) || strchr("/-._~", *s))
            *p++ = (char)*s;
        else
            p += sprintf(p, "%%%02X", *s);
    }
    sprintf(p, "%s", has_wal ? "?mode=ro" : "?immutable=1");
    return uri;
}

int catalog_schema_check(const char *path, char *err, size_t errlen)
{
    struct stat stbuf;
    if (stat(path, &stbuf) < 0) {
        if (errno == ENOENT)
            return 0; /* a new catalog */
        int e = errno;
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(e));
        return -e;
    }
    if (!S_ISREG(stbuf.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        return -EINVAL;
    }
    if (stbuf.st_size == 0)
        return 0; /* SQLite's empty database */
    /* Without a -wal file the main file holds every committed page, so it can be read as
     * immutable: no -shm or -wal is created beside a file we may refuse. With one (a catalog
     * in use, or left by a crash), a plain read-only connection is needed to see its pages. */
    char *uri = check_uri(path);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return catalog_sqlite_errno(rc);
    }
    sqlite3_busy_timeout(db, CATALOG_BUSY_MS);
    int ret = check_open_db(db, path, err, errlen);
    sqlite3_close(db);
    return ret;
}

static int migrate_step(sqlite3 *db, int target, char *err, size_t errlen)
{
    char *msg = NULL;
    int64_t version = 0;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK && version >= target) {
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* another process got there first */
        return 0;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, migrations[version], NULL, NULL, &msg);
    if (rc == SQLITE_OK) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %lld; PRAGMA application_id = %d",
                 (long long)version + 1, CATALOG_APPLICATION_ID);
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "catalog migration to version %lld failed: %s",
                 (long long)version + 1, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return catalog_sqlite_errno(rc);
    }
    return 0;
}

int catalog_schema_migrate(sqlite3 *db, int target, char *err, size_t errlen)
{
    int64_t version = 0;
    if (target < 0 || target > catalog_schema_version())
        return -EINVAL;
    int rc = pragma_int(db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        return catalog_sqlite_errno(rc);
    }
    if (version > catalog_schema_version()) {
        snprintf(err, errlen, "catalog schema version %lld is newer than this build knows (%d)",
                 (long long)version, catalog_schema_version());
        return -EPROTO;
    }
    for (int64_t v = version; v < target; v++) {
        int ret = migrate_step(db, (int)v + 1, err, errlen);
        if (ret < 0)
            return ret;
    }
    return 0;
}
