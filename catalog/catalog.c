/* This file implements the catalog's lifecycle: checking and opening the database file,
 * configuring the write connection (WAL, synchronous=NORMAL, foreign keys), migrating the
 * schema, the pool of read-only connections, and shutdown.
 *
 * DESIGN: the file is first examined by a read-only connection (schema.c) so that a file
 * we refuse is never opened for writing. The write connection is created next: WAL must be
 * on before the read-only connections open, since they need its shared-memory index. Each
 * reader is one connection with its own mutex; a query takes the first free one, or waits
 * for one picked round-robin. On close the readers go first, so the writer's connection is
 * the last one and SQLite checkpoints the WAL into the database and removes it. The writer
 * keeps a 64 MiB page cache (index pages of a million recordings stay hot); readers map the
 * file instead of copying pages. */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "catalog: \"%s\" failed: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return catalog_sqlite_errno(rc);
    }
    return 0;
}

static int open_writer(struct catalog *c, char *err, size_t errlen)
{
    int rc =
        sqlite3_open_v2(c->db_path, &c->wdb,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", c->db_path,
                 c->wdb ? sqlite3_errmsg(c->wdb) : sqlite3_errstr(rc));
        return catalog_sqlite_errno(rc);
    }
    sqlite3_busy_timeout(c->wdb, CATALOG_BUSY_MS);
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->wdb, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        rc = mode && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_CANTOPEN;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot put %s in WAL mode: %s", c->db_path, sqlite3_errmsg(c->wdb));
        return catalog_sqlite_errno(rc);
    }
    int r = exec_sql(c->wdb,
                     "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                     " PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536",
                     err, errlen);
    if (r == 0)
        r = catalog_schema_migrate(c->wdb, catalog_schema_version(), err, errlen);
    return r;
}

static int open_readers(struct catalog *c, unsigned n, char *err, size_t errlen)
{
    c->readers = xcalloc(n, sizeof *c->readers);
    for (unsigned i = 0; i < n; i++) {
        struct catalog_reader *r = &c->readers[i];
        int rc =
            sqlite3_open_v2(c->db_path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "cannot open a read connection to %s: %s", c->db_path,
                     r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
            sqlite3_close(r->db);
            r->db = NULL;
            return catalog_sqlite_errno(rc);
        }
        sqlite3_busy_timeout(r->db, CATALOG_BUSY_MS);
        /* Queries read index pages at random: map the file rather than copy pages. */
        sqlite3_exec(r->db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
        pthread_mutex_init(&r->mu, NULL);
        c->n_readers = i + 1;
    }
    return 0;
}

int catalog_open(const struct catalog_config *cfg, struct catalog **out, char *err, size_t errlen)
{
    char scratch[256];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (!cfg || !cfg->db_path || !cfg->data_dir || !out) {
        snprintf(err, errlen, "catalog: a database path and a data directory are needed");
        return -EINVAL;
    }
    *out = NULL;
    int r = catalog_schema_check(cfg->db_path, err, errlen);
    if (r < 0)
        return r;
    struct catalog *c = xcalloc(1, sizeof *c);
    c->db_path = xstrdup(cfg->db_path);
    c->data_dir = xstrdup(cfg->data_dir);
    c->batch_max = cfg->batch_max ? cfg->batch_max : 512;
    c->log = cfg->log;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv_work, NULL);
    pthread_cond_init(&c->cv_space, NULL);
    pthread_cond_init(&c->cv_done, NULL);
    r = open_writer(c, err, errlen);
    if (r == 0)
        r = open_readers(c, cfg->readers ? (cfg->readers < 64 ? cfg->readers : 64) : 4, err,
                         errlen);
    if (r == 0) {
        r = catalog_writer_start(c);
        if (r < 0)
            snprintf(err, errlen, "catalog: cannot start the writer thread: %s", strerror(-r));
    }
    if (r < 0) {
        catalog_close(c);
        return r;
    }
    *out = c;
    return 0;
}

void catalog_close(struct catalog *c)
{
    if (!c)
        return;
    catalog_writer_stop(c);
    for (unsigned i = 0; i < c->n_readers; i++) {
        sqlite3_close(c->readers[i].db);
        pthread_mutex_destroy(&c->readers[i].mu);
    }
    free(c->readers);
    for (size_t i = 0; i < c->n_wstmts; i++)
        sqlite3_finalize(c->wstmts[i].st);
    if (c->wdb) {
        sqlite3_exec(c->wdb, "PRAGMA optimize", NULL, NULL, NULL);
        if (sqlite3_close(c->wdb) != SQLITE_OK)
            vb_log_warn(c->log, "catalog: closing %s: %s", c->db_path, sqlite3_errmsg(c->wdb));
    }
    pthread_cond_destroy(&c->cv_done);
    pthread_cond_destroy(&c->cv_space);
    pthread_cond_destroy(&c->cv_work);
    pthread_mutex_destroy(&c->mu);
    free(c->data_dir);
    free(c->db_path);
    free(c);
}

struct catalog_reader *catalog_reader_acquire(struct catalog *c)
{
    unsigned start = atomic_fetch_add(&c->next_reader, 1);
    for (unsigned i = 0; i < c->n_readers; i++) {
        struct catalog_reader *r = &c->readers[(start + i) % c->n_readers];
        if (pthread_mutex_trylock(&r->mu) == 0)
            return r;
    }
    struct catalog_reader *r = &c->readers[start % c->n_readers];
    pthread_mutex_lock(&r->mu);
    return r;
}

void catalog_reader_release(struct catalog_reader *r)
{
    pthread_mutex_unlock(&r->mu);
}
