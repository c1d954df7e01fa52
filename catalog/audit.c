/* This file implements the catalog's hash-chained audit log and `verify`: re-hashing every
 * recorded and transcoded file and walking the audit chain.
 *
 * DESIGN: an audit row's hash is the SHA-256, as 64 lower-case hex digits, of its canonical
 * form, the bytes
 *     prev_hash "\n" at "\n" who "\n" action "\n" object
 * where prev_hash is the previous row's hash in hex (64 zeros for the first row), at is the
 * time in microseconds since the epoch as a decimal integer (no padding, '-' if negative),
 * and who, action and object are the stored UTF-8 texts, with no terminator after object.
 * who and action may not contain a newline (catalog_audit refuses them), so the form parses
 * back one way only; object, last, may hold anything. Rows are written only by the writer
 * thread, which reads the previous hash inside the same transaction, so the chain has no
 * forks. Ids come from AUTOINCREMENT and every insert commits or rolls back with its
 * sqlite_sequence update, so ids are 1, 2, 3, ... with no gap: an edited row fails its own
 * hash, a deleted row leaves a gap (or breaks the next row's prev_hash), and deleted rows at
 * the end leave sqlite_sequence ahead of the last id. */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha256.h"
#include "common/xalloc.h"

#define AUDIT_FIELD_MAX 4096
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct audit_row {
    int64_t at;
    const char *who, *action, *object; /* point into the same allocation */
};

void catalog_audit_hash(const char *prev_hex, int64_t at, const char *who, const char *action,
                        const char *object, char out_hex[65])
{
    struct vb_sha256 h;
    uint8_t d[VB_SHA256_LEN];
    char num[24];
    snprintf(num, sizeof num, "%" PRId64, at);
    if (vb_sha256_init(&h) < 0)
        abort(); /* out of memory, as xmalloc would */
    const char *parts[] = {prev_hex, num, who, action, object};
    for (size_t i = 0; i < 5; i++) {
        if (i)
            vb_sha256_update(&h, "\n", 1);
        vb_sha256_update(&h, parts[i], strlen(parts[i]));
    }
    vb_sha256_final(&h, d);
    vb_sha256_hex(d, out_hex);
}

int catalog_audit(struct catalog *c, const char *who, const char *action, const char *object)
{
    if (!object)
        object = "";
    if (!c || !who || !who[0] || !action || !action[0] || strchr(who, '\n') ||
        strchr(action, '\n') || strlen(who) > AUDIT_FIELD_MAX || strlen(action) > AUDIT_FIELD_MAX ||
        strlen(object) > AUDIT_FIELD_MAX)
        return -EINVAL;
    size_t nw = strlen(who) + 1, na = strlen(action) + 1, no = strlen(object) + 1;
    struct audit_row *row = xmalloc(sizeof *row + nw + na + no);
    char *p = (char *)(row + 1);
    row->at = catalog_now_us();
    row->who = memcpy(p, who, nw);
    row->action = memcpy(p + nw, action, na);
    row->object = memcpy(p + nw + na, object, no);
    return catalog_writer_post(c, catalog_audit_apply, row);
}

int catalog_audit_apply(struct catalog *c, void *arg)
{
    const struct audit_row *row = arg;
    char prev[VB_SHA256_HEX] = ZERO_HASH, hash[VB_SHA256_HEX];
    sqlite3_stmt *st = catalog_wstmt(c, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return catalog_sqlite_errno(rc);
    catalog_audit_hash(prev, row->at, row->who, row->action, row->object, hash);
    st = catalog_wstmt(c, "INSERT INTO audit(at, who, action, object, prev_hash, hash)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, row->at);
    catalog_bind_text(st, 2, row->who);
    catalog_bind_text(st, 3, row->action);
    catalog_bind_text(st, 4, row->object);
    catalog_bind_text(st, 5, prev);
    catalog_bind_text(st, 6, hash);
    return catalog_wstep(c, st);
}

/* ------------------------------------------------------------------------------------------ */
/* Verify. */

struct verify {
    struct catalog *c;
    struct catalog_verify_report *rep;
    void (*report)(void *ud, const char *line);
    void *ud;
};

static void problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct verify *v, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (v->report)
        v->report(v->ud, line);
}

struct file_row {
    int64_t id;
    char *path;
    int64_t size;
    char sha[VB_SHA256_HEX]; /* empty: none recorded */
};

static void check_file(struct verify *v, const char *what, const struct file_row *f)
{
    v->rep->files_checked++;
    if (!catalog_path_ok(f->path)) {
        v->rep->mismatched++;
        problem(v, "%s %" PRId64 ": unsafe path \"%s\" in the catalog", what, f->id, f->path);
        return;
    }
    size_t n = strlen(v->c->data_dir) + strlen(f->path) + 2;
    char *full = xmalloc(n);
    snprintf(full, n, "%s/%s", v->c->data_dir, f->path);
    uint8_t d[VB_SHA256_LEN];
    char hex[VB_SHA256_HEX];
    uint64_t size = 0;
    int r = vb_sha256_file(full, d, &size);
    free(full);
    if (r < 0) {
        v->rep->missing++;
        problem(v, "%s %" PRId64 ": %s is missing (%s)", what, f->id, f->path, strerror(-r));
        return;
    }
    vb_sha256_hex(d, hex);
    if ((int64_t)size != f->size) {
        v->rep->mismatched++;
        problem(v, "%s %" PRId64 ": %s is %" PRIu64 " bytes, the catalog says %" PRId64, what,
                f->id, f->path, size, f->size);
    } else if (f->sha[0] && strcmp(hex, f->sha) != 0) {
        v->rep->mismatched++;
        problem(v, "%s %" PRId64 ": %s has SHA-256 %s, the catalog says %s", what, f->id, f->path,
                hex, f->sha);
    }
}

/* One page of (id, path, size, sha256) rows after `after`; the reader is released before
 * any file is read. Returns the number of rows, or -errno. */
static int fetch_files(struct catalog *c, const char *sql, int64_t after, struct file_row *rows,
                       int max)
{
    struct catalog_reader *r = catalog_reader_acquire(c);
    sqlite3_stmt *st = NULL;
    int n = 0, rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int(st, 2, max);
    }
    while (rc == SQLITE_OK && n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(st, 3);
        rows[n].id = sqlite3_column_int64(st, 0);
        rows[n].path = xstrdup((const char *)sqlite3_column_text(st, 1));
        rows[n].size = sqlite3_column_int64(st, 2);
        snprintf(rows[n].sha, sizeof rows[n].sha, "%s", sha ? sha : "");
        n++;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    catalog_reader_release(r);
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        while (n > 0)
            free(rows[--n].path);
        return catalog_sqlite_errno(rc);
    }
    return n;
}

static int verify_files(struct verify *v, const char *what, const char *sql)
{
    enum { PAGE = 256 };
    struct file_row rows[PAGE];
    int64_t after = 0;
    for (;;) {
        int n = fetch_files(v->c, sql, after, rows, PAGE);
        if (n < 0)
            return n;
        for (int i = 0; i < n; i++) {
            check_file(v, what, &rows[i]);
            after = rows[i].id;
            free(rows[i].path);
        }
        if (n < PAGE)
            return 0;
    }
}

static void audit_break(struct verify *v, int64_t id, const char *why)
{
    if (!v->rep->audit_broken_at)
        v->rep->audit_broken_at = id;
    problem(v, "audit row %" PRId64 " %s", id, why);
}

static int walk_audit(struct verify *v, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    char expect[VB_SHA256_HEX] = ZERO_HASH, hash[VB_SHA256_HEX];
    int64_t last = 0;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, at, who, action, object, prev_hash, hash FROM audit"
                                " ORDER BY id",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *f[5];
        for (int i = 0; i < 5; i++) {
            f[i] = (const char *)sqlite3_column_text(st, i + 2);
            f[i] = f[i] ? f[i] : "";
        }
        v->rep->audit_rows++;
        if (id != last + 1)
            audit_break(v, last + 1, "is missing (deleted)");
        else if (strcmp(f[3], expect) != 0)
            audit_break(v, id, "does not chain to the row before it");
        catalog_audit_hash(f[3], sqlite3_column_int64(st, 1), f[0], f[1], f[2], hash);
        if (strcmp(hash, f[4]) != 0)
            audit_break(v, id, "does not match its hash (edited)");
        snprintf(expect, sizeof expect, "%s", f[4]);
        last = id;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return catalog_sqlite_errno(rc);
    rc = sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'", -1, &st,
                            NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > last)
        audit_break(v, last + 1, "and the rows after it are missing (deleted)");
    sqlite3_finalize(st);
    return 0;
}

int catalog_verify(struct catalog *c, struct catalog_verify_report *rep,
                   void (*report)(void *ud, const char *line), void *ud)
{
    if (!c)
        return -EINVAL;
    struct catalog_verify_report local;
    struct verify v = {.c = c, .rep = rep ? rep : &local, .report = report, .ud = ud};
    memset(v.rep, 0, sizeof *v.rep);
    int r = verify_files(&v, "recording",
                         "SELECT id, path, size, sha256 FROM recordings"
                         " WHERE state IN ('closed', 'recovered') AND id > ?1 ORDER BY id"
                         " LIMIT ?2");
    if (r == 0)
        r = verify_files(&v, "output",
                         "SELECT id, path, size, sha256 FROM outputs WHERE id > ?1 ORDER BY id"
                         " LIMIT ?2");
    if (r == 0) {
        struct catalog_reader *rd = catalog_read_begin(c);
        r = walk_audit(&v, rd->db);
        catalog_read_end(rd);
    }
    if (r < 0)
        return r;
    return v.rep->missing || v.rep->mismatched || v.rep->audit_broken_at ? 1 : 0;
}
