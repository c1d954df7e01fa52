/* This file implements the tests of web/: the token file, Range and ETag parsing, start-up
 * errors, and (case "http") the whole server over real HTTP on loopback: a catalog in a
 * temporary data directory filled through catalog_post() with real files on disk, the server
 * on an ephemeral port, and tests/web/web_client.py making the requests (auth, JSON shapes,
 * filters, errors, downloads with Range/ETag, path escapes, jobs, 200 concurrent clients).
 * The audit rows the requests must have written are counted in the database afterwards. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "common/sha256.h"
#include "tests/test.h"
#include "web/web.h"
#include "web/web_internal.h"

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[4096];
            snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void make_tmpdir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/vb-web-XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_UEQ(fwrite(p, 1, n, f), n);
    ASSERT_EQ(fclose(f), 0);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    ASSERT(d != NULL);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------------------------------ */

static void test_token(void)
{
    char dir[64], tok[128], again[128], path[128];
    make_tmpdir(dir, sizeof(dir));
    bool created = false;
    ASSERT_EQ(web_token_load_or_create(dir, tok, sizeof(tok), &created), 0);
    ASSERT(created);
    ASSERT_EQ(strlen(tok), 64);
    ASSERT_EQ(strspn(tok, "0123456789abcdef"), 64);
    snprintf(path, sizeof(path), "%s/catalog-token", dir);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(web_token_load_or_create(dir, again, sizeof(again), &created), 0);
    ASSERT(!created);
    ASSERT_STREQ(again, tok);
    ASSERT_EQ(web_token_load_or_create(dir, again, 64, NULL), -ENOSPC);
    /* A token written by hand: surrounding whitespace is dropped. */
    write_file(path, "  s3cret-Token \r\n", 17);
    ASSERT_EQ(web_token_load_or_create(dir, again, sizeof(again), &created), 0);
    ASSERT_STREQ(again, "s3cret-Token");
    write_file(path, "\n\n", 2);
    ASSERT_EQ(web_token_load_or_create(dir, again, sizeof(again), NULL), -EINVAL);
    write_file(path, "two words", 9);
    ASSERT_EQ(web_token_load_or_create(dir, again, sizeof(again), NULL), -EINVAL);
    /* Two generated tokens differ. */
    unlink(path);
    ASSERT_EQ(web_token_load_or_create(dir, again, sizeof(again), &created), 0);
    ASSERT(created && strcmp(again, tok) != 0);
    ASSERT_EQ(web_token_load_or_create("/nonexistent-vb-dir", again, sizeof(again), NULL), -ENOENT);
    rm_rf(dir);

    size_t n = 0;
    const char *t = web_token_from_header("Bearer abc ", &n);
    ASSERT(t && n == 3 && memcmp(t, "abc", 3) == 0);
    t = web_token_from_header("  bearer\txyz", &n);
    ASSERT(t && n == 3 && memcmp(t, "xyz", 3) == 0);
    ASSERT(web_token_from_header("Basic abc", &n) == NULL);
    ASSERT(web_token_from_header("Bearer", &n) == NULL);
    ASSERT(web_token_from_header("Bearer   ", &n) == NULL);
    ASSERT(web_token_from_header("Bearerabc", &n) == NULL);
    ASSERT(web_token_valid("abc", 3) && !web_token_valid("a b", 3) && !web_token_valid("", 0));
}

static void range_ok(const char *h, uint64_t size, uint64_t first, uint64_t last)
{
    uint64_t a = 0, b = 0;
    int rc = web_range_parse(h, size, &a, &b);
    if (rc != 1)
        TEST_FAIL_("range \"%s\" of %llu: %d", h, (unsigned long long)size, rc);
    ASSERT_UEQ(a, first);
    ASSERT_UEQ(b, last);
}

static void test_range(void)
{
    uint64_t a, b;
    range_ok("bytes=0-99", 1000, 0, 99);
    range_ok("bytes=10-", 1000, 10, 999);
    range_ok("bytes=-100", 1000, 900, 999);
    range_ok("bytes=-5000", 1000, 0, 999);
    range_ok("bytes=990-5000", 1000, 990, 999);
    range_ok(" bytes = 5-5 ", 1000, 5, 5);
    range_ok("bytes=999-999", 1000, 999, 999);
    ASSERT_EQ(web_range_parse("bytes=1000-", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=5-4", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=-0", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=abc", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=1-2x", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=-", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes 0-1", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=+1-2", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=99999999999999999999-", 1000, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=0-", 0, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=-1", 0, &a, &b), -ERANGE);
    ASSERT_EQ(web_range_parse("bytes=0-1,4-5", 1000, &a, &b), 0);
    ASSERT_EQ(web_range_parse("items=0-1", 1000, &a, &b), 0);
}

static void test_etag(void)
{
    const char *e = "\"abc\"";
    ASSERT(web_etag_match("\"abc\"", e));
    ASSERT(web_etag_match("W/\"abc\"", e));
    ASSERT(web_etag_match("\"x\", \"abc\"", e));
    ASSERT(web_etag_match("\"x\",W/\"abc\"", e));
    ASSERT(web_etag_match("*", e));
    ASSERT(!web_etag_match("\"abcd\"", e));
    ASSERT(!web_etag_match("\"ab\"", e));
    ASSERT(!web_etag_match("abc", e));
    ASSERT(!web_etag_match("\"abc", e));
    ASSERT(!web_etag_match("", e));
    ASSERT_STREQ(web_mime_type("webm"), "video/webm");
    ASSERT_STREQ(web_mime_type("opus"), "audio/ogg");
    ASSERT_STREQ(web_mime_type("ogg"), "audio/ogg");
    ASSERT_STREQ(web_mime_type("mp4"), "video/mp4");
    ASSERT_STREQ(web_mime_type("wav"), "audio/wav");
    ASSERT_STREQ(web_mime_type("srt"), "application/x-subrip");
    ASSERT_STREQ(web_mime_type("mjr"), "application/octet-stream");
    ASSERT_STREQ(web_mime_type(NULL), "application/octet-stream");
}

static struct catalog *open_catalog(const char *dir)
{
    char db[256], err[256];
    snprintf(db, sizeof(db), "%s/catalog.db", dir);
    struct catalog_config cc = {.db_path = db, .data_dir = dir};
    struct catalog *cat = NULL;
    int rc = catalog_open(&cc, &cat, err, sizeof(err));
    if (rc)
        TEST_FAIL_("catalog_open: %d %s", rc, err);
    return cat;
}

static void test_start_errors(void)
{
    char dir[64], err[256];
    make_tmpdir(dir, sizeof(dir));
    struct catalog *cat = open_catalog(dir);
    int fds = count_fds();
    struct web_config cfg = {.data_dir = dir, .token = "t0ken", .catalog = cat, .threads = 2};
    struct web *w = NULL, *w2 = NULL;
    ASSERT_EQ(web_start(&cfg, &w, err, sizeof(err)), 0);
    ASSERT_GT(web_port(w), 0);
    struct web_config busy = cfg;
    busy.port = web_port(w);
    ASSERT_EQ(web_start(&busy, &w2, err, sizeof(err)), -EADDRINUSE);
    ASSERT(strstr(err, "port") != NULL);
    web_stop(w);
    ASSERT_EQ(count_fds(), fds); /* the listening socket is closed with the server */
    web_stop(NULL);

    struct web_config bad = cfg;
    bad.bind_addr = "localhost"; /* numeric addresses only */
    ASSERT_EQ(web_start(&bad, &w2, err, sizeof(err)), -EINVAL);
    bad = cfg;
    bad.token = "has space";
    ASSERT_EQ(web_start(&bad, &w2, err, sizeof(err)), -EINVAL);
    bad = cfg;
    bad.token = NULL;
    ASSERT_EQ(web_start(&bad, &w2, err, sizeof(err)), -EINVAL);
    bad = cfg;
    bad.data_dir = "/nonexistent-vb-dir";
    ASSERT_EQ(web_start(&bad, &w2, err, sizeof(err)), -ENOENT);
    bad = cfg;
    bad.bind_addr = "::1";
    if (web_start(&bad, &w2, err, sizeof(err)) == 0) /* hosts without IPv6 refuse */
        web_stop(w2);
    ASSERT_EQ(count_fds(), fds);
    catalog_close(cat);
    rm_rf(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* The HTTP test: fixture, server, client. */

#define T0 INT64_C(1700000000000000)
#define SEC INT64_C(1000000)

struct fixture {
    char dir[64];
    struct catalog *cat;
    json_t *fx; /* what the client is told */
};

static void post(struct catalog *cat, struct catalog_event ev)
{
    int rc = catalog_post(cat, &ev);
    if (rc)
        TEST_FAIL_("catalog_post kind %d path %s: %d", ev.kind, ev.path ? ev.path : "-", rc);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + seed);
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

/* A closed recording of room/participant with `n` bytes of content on disk (n = 0: none). */
static void add_recording(struct fixture *f, const char *room, const char *who, const char *kind,
                          int mindex, const char *codec, const char *path, size_t n, int64_t at,
                          bool close)
{
    post(f->cat, (struct catalog_event){.kind = CATALOG_RECORDING_OPENED,
                                        .at_us = at,
                                        .room = room,
                                        .participant = who,
                                        .kind_name = kind,
                                        .mindex = mindex,
                                        .codec = codec,
                                        .path = path});
    uint8_t *buf = malloc(n ? n : 1);
    fill(buf, n, (unsigned)mindex + (unsigned)strlen(path));
    struct catalog_event ev = {.kind = CATALOG_RECORDING_CLOSED,
                               .at_us = at + 60 * SEC,
                               .path = path,
                               .size = n,
                               .has_sha256 = true,
                               .frames = 10};
    vb_sha256(buf, n, ev.sha256);
    if (n) {
        char full[256];
        snprintf(full, sizeof(full), "%s/%s", f->dir, path);
        write_file(full, buf, n);
        if (strcmp(path, "recordings/1234/videoroom-1234-user-111-1000-audio-0.mjr") == 0) {
            char *hex = malloc(2 * n + 1), sha[VB_SHA256_HEX];
            hex_of(buf, n, hex);
            vb_sha256_hex(ev.sha256, sha);
            json_object_set_new(f->fx, "r1_bytes", json_string(hex));
            json_object_set_new(f->fx, "r1_sha256", json_string(sha));
            json_object_set_new(f->fx, "r1_path", json_string(path));
            free(hex);
        }
    }
    if (close)
        post(f->cat, ev);
    free(buf);
}

static int64_t recording_id(struct catalog *cat, const char *path)
{
    struct catalog_filter flt = {.limit = 1000};
    json_t *res = NULL;
    ASSERT_EQ(catalog_recordings_query(cat, &flt, &res), 0);
    size_t i;
    json_t *r;
    int64_t id = 0;
    json_array_foreach(json_object_get(res, "recordings"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "path")), path) == 0)
            id = json_integer_value(json_object_get(r, "id"));
    }
    json_decref(res);
    ASSERT_GT(id, 0);
    return id;
}

static void sql_exec(const char *dir, const char *sql)
{
    char db[256];
    snprintf(db, sizeof(db), "%s/catalog.db", dir);
    sqlite3 *h = NULL;
    ASSERT_EQ(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        TEST_FAIL_("%s: %s", sql, msg);
    sqlite3_close(h);
}

/* A job for r1+r2 that a worker ran to completion, with one webm output on disk. */
static void add_done_job(struct fixture *f, int64_t r1, int64_t r2)
{
    int64_t ids[2] = {r1, r2}, jid = 0;
    struct catalog_job_spec spec = {.recordings = ids, .n_recordings = 2, .format = "webm"};
    ASSERT_EQ(catalog_job_create(f->cat, &spec, &jid), 0);
    struct catalog_job job;
    memset(&job, 0, sizeof(job));
    ASSERT_EQ(catalog_job_claim(f->cat, "test-worker", 60000, &job), 1);
    ASSERT_EQ(job.id, jid);
    catalog_job_release(&job);
    char rel[64], full[256];
    snprintf(rel, sizeof(rel), "outputs/%lld", (long long)jid);
    snprintf(full, sizeof(full), "%s/%s", f->dir, rel);
    ASSERT_EQ(mkdir(full, 0755), 0);
    snprintf(rel, sizeof(rel), "outputs/%lld/participant-111.webm", (long long)jid);
    snprintf(full, sizeof(full), "%s/%s", f->dir, rel);
    uint8_t body[2345];
    fill(body, sizeof(body), 99);
    write_file(full, body, sizeof(body));
    struct catalog_output out = {
        .path = rel, .format = "webm", .size = sizeof(body), .duration_s = 60.0};
    vb_sha256(body, sizeof(body), out.sha256);
    ASSERT_EQ(catalog_job_finish(f->cat, jid, "test-worker", 0, NULL, &out, 1), 0);
    json_t *j = NULL;
    ASSERT_EQ(catalog_job_get(f->cat, jid, &j), 0);
    int64_t oid = json_integer_value(json_array_get(json_object_get(j, "outputs"), 0));
    json_decref(j);
    ASSERT_GT(oid, 0);
    char hex[2 * sizeof(body) + 1], sha[VB_SHA256_HEX];
    hex_of(body, sizeof(body), hex);
    vb_sha256_hex(out.sha256, sha);
    json_object_set_new(f->fx, "job_done", json_integer(jid));
    json_object_set_new(f->fx, "output", json_integer(oid));
    json_object_set_new(f->fx, "output_bytes", json_string(hex));
    json_object_set_new(f->fx, "output_sha256", json_string(sha));
}

static void fixture_build(struct fixture *f)
{
    make_tmpdir(f->dir, sizeof(f->dir));
    f->cat = open_catalog(f->dir);
    f->fx = json_object();
    char path[256];
    snprintf(path, sizeof(path), "%s/recordings", f->dir);
    ASSERT_EQ(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/recordings/1234", f->dir);
    ASSERT_EQ(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/outputs", f->dir);
    ASSERT_EQ(mkdir(path, 0755), 0);

    struct catalog *c = f->cat;
    post(c, (struct catalog_event){.kind = CATALOG_ROOM_CREATED,
                                   .at_us = T0 - SEC,
                                   .room = "1234",
                                   .room_description = "Standup"});
    post(c, (struct catalog_event){.kind = CATALOG_ROOM_CREATED,
                                   .at_us = T0 - SEC,
                                   .room = "5678",
                                   .room_description = "Retro"});
    post(c, (struct catalog_event){.kind = CATALOG_PARTICIPANT_JOINED,
                                   .at_us = T0 - SEC,
                                   .room = "1234",
                                   .participant = "111",
                                   .display = "Alice"});
    post(c, (struct catalog_event){.kind = CATALOG_PARTICIPANT_JOINED,
                                   .at_us = T0 - SEC,
                                   .room = "1234",
                                   .participant = "222",
                                   .display = "Bob"});
    post(c, (struct catalog_event){.kind = CATALOG_PARTICIPANT_JOINED,
                                   .at_us = T0 - SEC,
                                   .room = "5678",
                                   .participant = "333",
                                   .display = "Carol"});
    const char *p1 = "recordings/1234/videoroom-1234-user-111-1000-audio-0.mjr";
    const char *p2 = "recordings/1234/videoroom-1234-user-111-1000-video-1.mjr";
    const char *p3 = "recordings/1234/videoroom-1234-user-222-1100-audio-0.mjr";
    const char *p4 = "recordings/5678/videoroom-5678-user-333-2000-audio-0.mjr";
    const char *p5 = "recordings/1234/evil.mjr";
    const char *p6 = "recordings/1234/moved.mjr";
    add_recording(f, "1234", "111", "audio", 0, "opus", p1, 5000, T0, true);
    add_recording(f, "1234", "111", "video", 1, "vp8", p2, 3000, T0, true);
    add_recording(f, "1234", "222", "audio", 0, "opus", p3, 700, T0 + 100 * SEC, true);
    add_recording(f, "5678", "333", "audio", 0, "opus", p4, 0, T0 + 1000 * SEC, false);
    add_recording(f, "1234", "222", "video", 1, "h264", p5, 0, T0 + 200 * SEC, true);
    add_recording(f, "1234", "222", "video", 2, "h264", p6, 0, T0 + 200 * SEC, true);
    /* The catalog refuses "../" paths itself; the server must not rely on that. */
    struct catalog_event trav = {.kind = CATALOG_RECORDING_OPENED,
                                 .room = "1234",
                                 .participant = "222",
                                 .kind_name = "audio",
                                 .mindex = 3,
                                 .codec = "opus",
                                 .path = "../../etc/passwd"};
    ASSERT_EQ(catalog_post(c, &trav), -EINVAL);
    catalog_flush(c);

    /* r3's file is deleted behind the catalog's back; r5 is a symlink leading out. */
    snprintf(path, sizeof(path), "%s/%s", f->dir, p3);
    ASSERT_EQ(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/%s", f->dir, p5);
    ASSERT_EQ(symlink("/etc/passwd", path), 0);
    json_t *rec = json_object();
    const char *names[] = {"r1", "r2", "r3", "r4", "r5", "r6"};
    const char *paths[] = {p1, p2, p3, p4, p5, p6};
    for (int i = 0; i < 6; i++)
        json_object_set_new(rec, names[i], json_integer(recording_id(c, paths[i])));
    /* r6's path edited in the database to escape the data directory. */
    sql_exec(f->dir, "UPDATE recordings SET path = '../../etc/passwd' WHERE path = "
                     "'recordings/1234/moved.mjr'");
    add_done_job(f, json_integer_value(json_object_get(rec, "r1")),
                 json_integer_value(json_object_get(rec, "r2")));
    json_object_set_new(f->fx, "recordings", rec);
    json_object_set_new(f->fx, "t0", json_integer(T0));
}

static int64_t audit_rows(const char *dir, char *last_who, size_t len)
{
    char db[256];
    snprintf(db, sizeof(db), "%s/catalog.db", dir);
    sqlite3 *h = NULL;
    ASSERT_EQ(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ASSERT_EQ(sqlite3_prepare_v2(h,
                                 "SELECT count(*), (SELECT who FROM audit ORDER BY id DESC"
                                 " LIMIT 1) FROM audit",
                                 -1, &st, NULL),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    const unsigned char *who = sqlite3_column_text(st, 1);
    snprintf(last_who, len, "%s", who ? (const char *)who : "");
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static int run_client(const char *fixture, const char *result)
{
    char script[4096];
    snprintf(script, sizeof(script), "%s/tests/web/web_client.py", VB_SOURCE_DIR);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"python3", script, (char *)fixture, (char *)result, NULL};
        execv("/usr/bin/python3", argv);
        _exit(127);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_http(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct fixture f;
    fixture_build(&f);
    char token[128], err[256];
    ASSERT_EQ(web_token_load_or_create(f.dir, token, sizeof(token), NULL), 0);
    struct web_config cfg = {.data_dir = f.dir, .token = token, .catalog = f.cat};
    struct web *w = NULL;
    int rc = web_start(&cfg, &w, err, sizeof(err));
    if (rc)
        TEST_FAIL_("web_start: %d %s", rc, err);
    json_object_set_new(f.fx, "port", json_integer(web_port(w)));
    json_object_set_new(f.fx, "token", json_string(token));
    char fixture[128], result[128], who[256];
    snprintf(fixture, sizeof(fixture), "%s/fixture.json", f.dir);
    snprintf(result, sizeof(result), "%s/result.txt", f.dir);
    ASSERT_EQ(json_dump_file(f.fx, fixture, 0), 0);
    catalog_flush(f.cat);
    int64_t before = audit_rows(f.dir, who, sizeof(who));

    int client = run_client(fixture, result);
    web_stop(w);
    if (client != 0) { /* leave no temporary directory behind, then fail */
        json_decref(f.fx);
        catalog_close(f.cat);
        rm_rf(f.dir);
        TEST_FAIL_("web_client.py exited with %d", client);
    }
    catalog_flush(f.cat);
    FILE *r = fopen(result, "r");
    ASSERT(r != NULL);
    long long audited = -1;
    ASSERT_EQ(fscanf(r, "%lld", &audited), 1);
    fclose(r);
    int64_t after = audit_rows(f.dir, who, sizeof(who));
    ASSERT_EQ(after - before, audited);
    ASSERT_GT(audited, 30);
    uint8_t d[VB_SHA256_LEN];
    char hex[VB_SHA256_HEX], want[64];
    vb_sha256(token, strlen(token), d);
    vb_sha256_hex(d, hex);
    snprintf(want, sizeof(want), "token:%.8s@127.0.0.1", hex);
    ASSERT_STREQ(who, want);
    struct catalog_verify_report rep;
    memset(&rep, 0, sizeof(rep));
    catalog_verify(f.cat, &rep, NULL, NULL);
    ASSERT_EQ(rep.audit_broken_at, 0);
    ASSERT_UEQ(rep.audit_rows, (uint64_t)after);
    json_decref(f.fx);
    catalog_close(f.cat);
    rm_rf(f.dir);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"token", test_token}, {"range", test_range},
        {"etag", test_etag},   {"start_errors", test_start_errors},
        {"http", test_http},   {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
