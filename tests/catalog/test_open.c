/* Tests catalog_open: creating, reopening, schema migration by user_version, and refusing
 * files that are not a Verbatim catalog without changing a byte of them. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog/catalog.h"
#include "catalog/catalog_internal.h"
#include "tests/catalog/catalog_util.h"
#include "tests/test.h"

struct tmp {
    char dir[64];
    char db[128];
};

static void setup(struct tmp *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/vb-catalog-open-XXXXXX");
    ASSERT(mkdtemp(t->dir));
    snprintf(t->db, sizeof t->db, "%s/catalog.db", t->dir);
}

static void teardown(struct tmp *t)
{
    cat_rm_tree(t->dir);
}

static int open_catalog(struct tmp *t, struct catalog **c, char *err, size_t len)
{
    struct catalog_config cfg = {.db_path = t->db, .data_dir = t->dir, .readers = 2};
    return catalog_open(&cfg, c, err, len);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f);
    char *buf = malloc(1 << 20);
    ASSERT(buf);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static int64_t pragma(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void exec_on(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg);
    ASSERT_EQ(rc, SQLITE_OK);
    sqlite3_close(db);
}

static bool exists(struct tmp *t, const char *suffix)
{
    char p[160];
    snprintf(p, sizeof p, "%s%s", t->db, suffix);
    return access(p, F_OK) == 0;
}

/* A refused file must come back byte for byte, with no -wal / -shm left beside it. */
static void expect_refused(struct tmp *t, int want, const char *needle)
{
    size_t n0, n1;
    char *before = slurp(t->db, &n0);
    struct catalog *c = (struct catalog *)1;
    char err[256] = "";
    ASSERT_EQ(open_catalog(t, &c, err, sizeof err), want);
    ASSERT(c == NULL);
    fprintf(stderr, "   refused: %s\n", err);
    ASSERT(strstr(err, needle) != NULL);
    char *after = slurp(t->db, &n1);
    ASSERT_UEQ(n0, n1);
    ASSERT_MEMEQ(before, after, n0);
    ASSERT(!exists(t, "-wal"));
    ASSERT(!exists(t, "-shm"));
    free(before);
    free(after);
}

static void post_room(struct catalog *c, const char *room, const char *desc)
{
    struct catalog_event ev = {
        .kind = CATALOG_ROOM_CREATED, .room = room, .room_description = desc};
    ASSERT_EQ(catalog_post(c, &ev), 0);
}

static void test_create_close_reopen(void)
{
    struct tmp t;
    setup(&t);
    struct catalog *c = NULL;
    char err[256];
    ASSERT_EQ(open_catalog(&t, &c, err, sizeof err), 0);
    post_room(c, "1234", "Board meeting");
    struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                               .room = "1234",
                               .participant = "42",
                               .display = "Alice",
                               .kind_name = "audio",
                               .mindex = 0,
                               .codec = "opus",
                               .path = "recordings/1234/a.mjr"};
    ASSERT_EQ(catalog_post(c, &ev), 0);
    catalog_close(c);
    ASSERT(!exists(&t, "-wal")); /* checkpointed into the file at close */

    ASSERT_EQ(pragma(t.db, "PRAGMA user_version"), catalog_schema_version());
    ASSERT_EQ(pragma(t.db, "PRAGMA application_id"), CATALOG_APPLICATION_ID);
    ASSERT_EQ(pragma(t.db, "SELECT count(*) FROM recordings"), 1);

    ASSERT_EQ(open_catalog(&t, &c, err, sizeof err), 0);
    json_t *room = NULL;
    ASSERT_EQ(catalog_room_get(c, "1234", &room), 0);
    ASSERT_STREQ(json_string_value(json_object_get(room, "description")), "Board meeting");
    ASSERT_EQ(json_integer_value(json_object_get(room, "participants")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(room, "recordings")), 1);
    json_decref(room);
    char **paths = NULL;
    size_t n = 0;
    ASSERT_EQ(catalog_open_recordings(c, &paths, &n), 0);
    ASSERT_UEQ(n, 1);
    ASSERT_STREQ(paths[0], "recordings/1234/a.mjr");
    free(paths[0]);
    free(paths);
    catalog_close(c);
    catalog_close(NULL);
    teardown(&t);
}

/* A process killed after a flush: its events are in the WAL, and the next open sees them. */
static void test_reopen_after_kill(void)
{
    struct tmp t;
    setup(&t);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        struct catalog *c = NULL;
        if (open_catalog(&t, &c, NULL, 0) < 0)
            _exit(1);
        char path[64];
        for (int i = 0; i < 100; i++) {
            snprintf(path, sizeof path, "recordings/9/%03d.mjr", i);
            struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                                       .room = "9",
                                       .participant = "1",
                                       .kind_name = "audio",
                                       .path = path};
            catalog_post(c, &ev);
        }
        catalog_flush(c);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ASSERT(exists(&t, "-wal")); /* never checkpointed */
    struct catalog *c = NULL;
    char err[256];
    ASSERT_EQ(open_catalog(&t, &c, err, sizeof err), 0);
    char **paths = NULL;
    size_t n = 0;
    ASSERT_EQ(catalog_open_recordings(c, &paths, &n), 0);
    ASSERT_UEQ(n, 100);
    ASSERT_STREQ(paths[99], "recordings/9/099.mjr");
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    catalog_close(c);
    teardown(&t);
}

static void test_migration_path(void)
{
    struct tmp t;
    setup(&t);
    /* An empty SQLite file (user_version 0, no tables) migrates one step at a time. */
    sqlite3 *db = NULL;
    char err[256] = "";
    ASSERT_EQ(sqlite3_open(t.db, &db), SQLITE_OK);
    ASSERT_EQ(catalog_schema_migrate(db, 0, err, sizeof err), 0);
    for (int v = 1; v <= catalog_schema_version(); v++) {
        ASSERT_EQ(catalog_schema_migrate(db, v, err, sizeof err), 0);
        sqlite3_stmt *st = NULL;
        ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(st, 0), v);
        sqlite3_finalize(st);
    }
    ASSERT_EQ(catalog_schema_migrate(db, catalog_schema_version() + 1, err, sizeof err), -EINVAL);
    sqlite3_close(db);

    /* Version 0 with no tables is a new catalog: open migrates it to the current version. */
    remove(t.db);
    exec_on(t.db, "PRAGMA user_version = 0; VACUUM");
    struct catalog *c = NULL;
    ASSERT_EQ(open_catalog(&t, &c, err, sizeof err), 0);
    catalog_close(c);
    ASSERT_EQ(pragma(t.db, "PRAGMA user_version"), catalog_schema_version());
    ASSERT_EQ(pragma(t.db, "SELECT count(*) FROM sqlite_schema WHERE name = 'audit'"), 1);
    ASSERT_EQ(pragma(t.db, "SELECT value FROM catalog_meta WHERE key = 'max_recording_us'"), 0);

    /* A file half way (our application id, an older version) is brought forward. */
    remove(t.db);
    exec_on(t.db, "PRAGMA application_id = 1447191412");
    ASSERT_EQ(pragma(t.db, "PRAGMA application_id"), CATALOG_APPLICATION_ID);
    ASSERT_EQ(open_catalog(&t, &c, err, sizeof err), 0);
    catalog_close(c);
    ASSERT_EQ(pragma(t.db, "PRAGMA user_version"), catalog_schema_version());

    /* A catalog from a newer build is refused and left alone. */
    exec_on(t.db, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99");
    expect_refused(&t, -EPROTO, "newer than this build knows");
    teardown(&t);
}

static void test_refuse_text_file(void)
{
    struct tmp t;
    setup(&t);
    FILE *f = fopen(t.db, "w");
    ASSERT(f);
    for (int i = 0; i < 200; i++)
        fprintf(f, "line %d of a text file that is certainly not a database\n", i);
    fclose(f);
    expect_refused(&t, -EBADMSG, "is not an SQLite database");
    teardown(&t);
}

static void test_refuse_foreign_sqlite(void)
{
    struct tmp t;
    setup(&t);
    exec_on(t.db, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
                  "INSERT INTO users(name) VALUES ('ann'), ('bo');");
    expect_refused(&t, -EPROTO, "not a Verbatim catalog");
    /* Another application's id, even with no tables, is not ours either. */
    remove(t.db);
    exec_on(t.db, "PRAGMA application_id = 1234; VACUUM");
    expect_refused(&t, -EPROTO, "another application");
    /* Our table names but a version and no application id: refused, not guessed at. */
    remove(t.db);
    exec_on(t.db, "CREATE TABLE rooms (room TEXT); PRAGMA user_version = 1");
    expect_refused(&t, -EPROTO, "no Verbatim application id");
    /* A foreign database in WAL mode: the read-only check leaves no -wal/-shm behind. */
    remove(t.db);
    exec_on(t.db, "PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT);"
                  "INSERT INTO notes VALUES ('x')");
    expect_refused(&t, -EPROTO, "not a Verbatim catalog");
    teardown(&t);
}

static void test_bad_arguments(void)
{
    struct tmp t;
    setup(&t);
    struct catalog *c = NULL;
    char err[128];
    struct catalog_config cfg = {.db_path = t.db};
    ASSERT_EQ(catalog_open(&cfg, &c, err, sizeof err), -EINVAL);
    ASSERT(err[0]);
    cfg.data_dir = t.dir;
    cfg.db_path = t.dir; /* a directory */
    ASSERT_EQ(catalog_open(&cfg, &c, err, sizeof err), -EINVAL);
    ASSERT(strstr(err, "not a regular file"));
    teardown(&t);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"create_close_reopen", test_create_close_reopen},
        {"reopen_after_kill", test_reopen_after_kill},
        {"migration_path", test_migration_path},
        {"refuse_text_file", test_refuse_text_file},
        {"refuse_foreign_sqlite", test_refuse_foreign_sqlite},
        {"bad_arguments", test_bad_arguments},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
