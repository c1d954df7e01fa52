/* Tests the audit hash chain and catalog_verify: an intact catalog verifies, and an edited,
 * re-hashed or deleted audit row, an edited, truncated or deleted file are each reported. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog/catalog.h"
#include "catalog/catalog_internal.h"
#include "common/sha256.h"
#include "tests/catalog/catalog_util.h"
#include "tests/test.h"

struct fixture {
    char dir[64];
    char db[128];
    struct catalog *c;
};

struct lines {
    char all[8192];
    int n;
};

static void setup(struct fixture *f)
{
    f->c = cat_open_tmp(f->dir, sizeof f->dir, f->db, sizeof f->db, "verify");
}

static void teardown(struct fixture *f)
{
    catalog_close(f->c);
    cat_rm_tree(f->dir);
}

static void collect(void *ud, const char *line)
{
    struct lines *l = ud;
    size_t len = strlen(l->all);
    snprintf(l->all + len, sizeof l->all - len, "%s\n", line);
    l->n++;
    fprintf(stderr, "   verify: %s\n", line);
}

static int verify(struct fixture *f, struct catalog_verify_report *rep, struct lines *l)
{
    memset(l, 0, sizeof *l);
    return catalog_verify(f->c, rep, collect, l);
}

/* Runs SQL on a connection of its own, as someone editing the file behind our back. */
static void tamper(struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    ASSERT_EQ(sqlite3_open(f->db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg);
    ASSERT_EQ(rc, SQLITE_OK);
    sqlite3_close(db);
}

static void audit_row(struct fixture *f, int64_t id, int64_t *at, char *who, char *prev, char *hash)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ASSERT_EQ(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT at, who, prev_hash, hash FROM audit WHERE id = ?1", -1,
                                 &st, NULL),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    *at = sqlite3_column_int64(st, 0);
    snprintf(who, 32, "%s", sqlite3_column_text(st, 1));
    snprintf(prev, 65, "%s", sqlite3_column_text(st, 2));
    snprintf(hash, 65, "%s", sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void post_audit_rows(struct fixture *f, int n)
{
    char obj[64];
    for (int i = 1; i <= n; i++) {
        snprintf(obj, sizeof obj, i == 2 ? "recording %d\nsecond line" : "recording %d", i);
        ASSERT_EQ(catalog_audit(f->c, i % 2 ? "alice" : "bob", "download", obj), 0);
    }
    catalog_flush(f->c);
}

static void test_audit_canonical_form(void)
{
    struct fixture f;
    setup(&f);
    ASSERT_EQ(catalog_audit(f.c, "a\nb", "download", "x"), -EINVAL);
    ASSERT_EQ(catalog_audit(f.c, "alice", "", "x"), -EINVAL);
    ASSERT_EQ(catalog_audit(f.c, "alice", "get\nput", "x"), -EINVAL);
    post_audit_rows(&f, 2);
    int64_t at;
    char who[32], prev[65], hash[65], prev2[65], hash2[65];
    audit_row(&f, 1, &at, who, prev, hash);
    ASSERT_STREQ(prev, "0000000000000000000000000000000000000000000000000000000000000000");
    /* The documented form, hashed here independently of the catalog's code. */
    char text[256];
    int n = snprintf(text, sizeof text, "%s\n%" PRId64 "\nalice\ndownload\nrecording 1", prev, at);
    uint8_t d[VB_SHA256_LEN];
    char hex[VB_SHA256_HEX];
    vb_sha256(text, (size_t)n, d);
    vb_sha256_hex(d, hex);
    ASSERT_STREQ(hash, hex);
    audit_row(&f, 2, &at, who, prev2, hash2);
    ASSERT_STREQ(prev2, hash);
    n = snprintf(text, sizeof text, "%s\n%" PRId64 "\nbob\ndownload\nrecording 2\nsecond line",
                 hash, at);
    vb_sha256(text, (size_t)n, d);
    vb_sha256_hex(d, hex);
    ASSERT_STREQ(hash2, hex);
    teardown(&f);
}

static void test_audit_chain(void)
{
    struct fixture f;
    setup(&f);
    struct catalog_verify_report rep;
    struct lines l;
    ASSERT_EQ(verify(&f, &rep, &l), 0); /* empty */
    post_audit_rows(&f, 10);
    ASSERT_EQ(verify(&f, &rep, &l), 0);
    ASSERT_UEQ(rep.audit_rows, 10);
    ASSERT_EQ(rep.audit_broken_at, 0);
    ASSERT_EQ(l.n, 0);

    /* Edited content: row 4 no longer matches its hash. */
    tamper(&f, "UPDATE audit SET who = 'mallory' WHERE id = 4");
    ASSERT_EQ(verify(&f, &rep, &l), 1);
    ASSERT_EQ(rep.audit_broken_at, 4);
    ASSERT(strstr(l.all, "audit row 4"));
    tamper(&f, "UPDATE audit SET who = 'bob' WHERE id = 4");
    ASSERT_EQ(verify(&f, &rep, &l), 0);

    /* Edited content with the row's own hash recomputed: row 5 no longer chains to it. */
    int64_t at;
    char who[32], prev[65], hash[65], forged[65], sql[256];
    audit_row(&f, 4, &at, who, prev, hash);
    catalog_audit_hash(prev, at, "mallory", "download", "recording 4", forged);
    snprintf(sql, sizeof sql, "UPDATE audit SET who = 'mallory', hash = '%s' WHERE id = 4", forged);
    tamper(&f, sql);
    ASSERT_EQ(verify(&f, &rep, &l), 1);
    ASSERT_EQ(rep.audit_broken_at, 5);
    snprintf(sql, sizeof sql, "UPDATE audit SET who = 'bob', hash = '%s' WHERE id = 4", hash);
    tamper(&f, sql);
    ASSERT_EQ(verify(&f, &rep, &l), 0);

    /* A deleted row in the middle. */
    tamper(&f, "DELETE FROM audit WHERE id = 6");
    ASSERT_EQ(verify(&f, &rep, &l), 1);
    ASSERT_EQ(rep.audit_broken_at, 6);
    ASSERT_UEQ(rep.audit_rows, 9);
    ASSERT(strstr(l.all, "audit row 6 is missing"));
    teardown(&f);

    /* Deleted rows at the end; and appending after a reopen continues the chain. */
    setup(&f);
    post_audit_rows(&f, 3);
    catalog_close(f.c);
    struct catalog_config cfg = {.db_path = f.db, .data_dir = f.dir};
    ASSERT_EQ(catalog_open(&cfg, &f.c, NULL, 0), 0);
    post_audit_rows(&f, 2);
    ASSERT_EQ(verify(&f, &rep, &l), 0);
    ASSERT_UEQ(rep.audit_rows, 5);
    tamper(&f, "DELETE FROM audit WHERE id >= 4");
    ASSERT_EQ(verify(&f, &rep, &l), 1);
    ASSERT_EQ(rep.audit_broken_at, 4);
    teardown(&f);
}

static void write_file(struct fixture *f, const char *rel, size_t n, unsigned seed)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    for (char *s = strchr(path + strlen(f->dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *fp = fopen(path, "wb");
    ASSERT(fp);
    for (size_t i = 0; i < n; i++)
        fputc((int)((i * 2654435761u + seed) >> 13) & 0xff, fp);
    fclose(fp);
}

static void hash_of(struct fixture *f, const char *rel, uint8_t d[32], uint64_t *size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    ASSERT_EQ(vb_sha256_file(path, d, size), 0);
}

static void record(struct fixture *f, const char *rel, enum catalog_event_kind end, size_t n)
{
    write_file(f, rel, n, (unsigned)strlen(rel));
    struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                               .room = "1",
                               .participant = "7",
                               .kind_name = "audio",
                               .path = rel};
    ASSERT_EQ(catalog_post(f->c, &ev), 0);
    ev = (struct catalog_event){.kind = end, .path = rel, .has_sha256 = true};
    hash_of(f, rel, ev.sha256, &ev.size);
    ASSERT_EQ(catalog_post(f->c, &ev), 0);
}

static void flip_byte(struct fixture *f, const char *rel, off_t at)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    int fd = open(path, O_RDWR);
    ASSERT(fd >= 0);
    unsigned char b;
    ASSERT_EQ(pread(fd, &b, 1, at), 1);
    b ^= 0x01;
    ASSERT_EQ(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

/* Three recordings and one output, all intact; then damaged one at a time. */
static void test_verify_files(void)
{
    struct fixture f;
    setup(&f);
    record(&f, "recordings/1/a.mjr", CATALOG_RECORDING_CLOSED, 70000);
    record(&f, "recordings/1/b.mjr", CATALOG_RECORDING_CLOSED, 1000);
    record(&f, "recordings/1/c.mjr", CATALOG_RECORDING_RECOVERED, 5000);
    struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                               .room = "1",
                               .participant = "8",
                               .kind_name = "video",
                               .path = "recordings/1/failed.mjr"};
    ASSERT_EQ(catalog_post(f.c, &ev), 0);
    ev = (struct catalog_event){
        .kind = CATALOG_RECORDING_FAILED, .path = "recordings/1/failed.mjr", .error = "EIO"};
    ASSERT_EQ(catalog_post(f.c, &ev), 0); /* failed: no file to check */
    catalog_flush(f.c);

    json_t *o = NULL;
    ASSERT_EQ(catalog_recordings_query(f.c, NULL, &o), 0);
    int64_t rec = json_integer_value(
        json_object_get(json_array_get(json_object_get(o, "recordings"), 0), "id"));
    json_decref(o);
    int64_t job = 0;
    struct catalog_job_spec spec = {.recordings = &rec, .n_recordings = 1, .format = "opus"};
    ASSERT_EQ(catalog_job_create(f.c, &spec, &job), 0);
    struct catalog_job j;
    ASSERT_EQ(catalog_job_claim(f.c, "w", 60000, &j), 1);
    catalog_job_release(&j);
    write_file(&f, "outputs/1/a.opus", 3000, 9);
    struct catalog_output out = {.path = "outputs/1/a.opus", .format = "opus"};
    hash_of(&f, out.path, out.sha256, &out.size);
    ASSERT_EQ(catalog_job_finish(f.c, job, "w", 0, NULL, &out, 1), 0);

    struct catalog_verify_report rep;
    struct lines l;
    ASSERT_EQ(verify(&f, &rep, &l), 0);
    ASSERT_UEQ(rep.files_checked, 4);
    ASSERT_UEQ(rep.missing + rep.mismatched, 0);

    flip_byte(&f, "recordings/1/a.mjr", 65536); /* one bit, past the first read chunk */
    ASSERT_EQ(verify(&f, &rep, &l), 1);
    ASSERT_UEQ(rep.mismatched, 1);
    ASSERT_UEQ(rep.missing, 0);
    ASSERT(strstr(l.all, "recordings/1/a.mjr has SHA-256"));
    flip_byte(&f, "recordings/1/a.mjr", 65536);
    ASSERT_EQ(verify(&f, &rep, &l), 0);

    char path[256];
    snprintf(path, sizeof path, "%s/recordings/1/b.mjr", f.dir);
    ASSERT_EQ(unlink(path), 0);
    snprintf(path, sizeof path, "%s/recordings/1/c.mjr", f.dir);
    ASSERT_EQ(truncate(path, 4000), 0);
    snprintf(path, sizeof path, "%s/outputs/1/a.opus", f.dir);
    ASSERT_EQ(unlink(path), 0);
    ASSERT_EQ(verify(&f, &rep, &l), 1);
    ASSERT_UEQ(rep.files_checked, 4);
    ASSERT_UEQ(rep.missing, 2);
    ASSERT_UEQ(rep.mismatched, 1);
    ASSERT_EQ(rep.audit_broken_at, 0);
    ASSERT_EQ(l.n, 3);
    ASSERT(strstr(l.all, "recordings/1/b.mjr is missing"));
    ASSERT(strstr(l.all, "outputs/1/a.opus is missing"));
    ASSERT(strstr(l.all, "recordings/1/c.mjr is 4000 bytes, the catalog says 5000"));
    ASSERT_EQ(catalog_verify(f.c, NULL, NULL, NULL), 1); /* no report: still the verdict */
    teardown(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"audit_canonical_form", test_audit_canonical_form},
        {"audit_chain", test_audit_chain},
        {"verify_files", test_verify_files},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
