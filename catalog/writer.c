/* This file implements the catalog's writer: a FIFO of work items and the one thread that
 * owns the write connection and applies them in batched transactions.
 *
 * DESIGN: every write goes through this thread, including the synchronous job operations
 * (create, claim, progress, finish, cancel): they are queued as "calls" whose caller waits for
 * the call's sequence number to be applied. One write connection means no SQLITE_BUSY between
 * our own writers, one place that orders events and job changes (a job created right after
 * a RECORDING_OPENED sees the recording), and a statement cache used by one thread only. The
 * price is that a call waits behind the events queued before it (at most one batch in
 * practice: events apply at tens of thousands per second).
 *
 * The thread takes up to batch_max items per BEGIN IMMEDIATE ... COMMIT. Each item runs in a
 * SAVEPOINT, so one failing item (a constraint, an unknown job) is rolled back alone and the
 * rest of the batch commits. If the transaction itself fails (SQLite rolled it back, or COMMIT
 * failed: disk full, I/O error), the batch is retried once from the start; after that its
 * calls fail with the error and its events are logged as lost. SQLITE_BUSY (another process
 * holds the write lock past busy_timeout) is retried until it clears: posters then block on
 * the full queue instead of events being dropped. applied_seq advances only after
 * COMMIT, so catalog_flush() and a call's return mean "committed": it survives a crash of
 * the process (synchronous=NORMAL: a power loss may take the last commits before a
 * checkpoint, never corrupt the file). */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "common/xalloc.h"

sqlite3_stmt *catalog_wstmt(struct catalog *c, const char *sql)
{
    for (size_t i = 0; i < c->n_wstmts; i++) {
        if (c->wstmts[i].sql == sql) {
            sqlite3_stmt *st = c->wstmts[i].st;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    if (c->n_wstmts == CATALOG_WSTMT_MAX) {
        vb_log_error(c->log, "catalog: statement cache full (raise CATALOG_WSTMT_MAX)");
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->wdb, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        vb_log_error(c->log, "catalog: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(c->wdb));
        return NULL;
    }
    c->wstmts[c->n_wstmts].sql = sql;
    c->wstmts[c->n_wstmts].st = st;
    c->n_wstmts++;
    return st;
}

int catalog_wstep(struct catalog *c, sqlite3_stmt *st)
{
    if (!st)
        return -EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    vb_log_warn(c->log, "catalog: \"%s\": %s", sqlite3_sql(st), sqlite3_errmsg(c->wdb));
    return catalog_sqlite_errno(rc);
}

static int exec_cached(struct catalog *c, const char *sql)
{
    return catalog_wstep(c, catalog_wstmt(c, sql));
}

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_savepoint[] = "SAVEPOINT item";
static const char sql_release[] = "RELEASE item";
static const char sql_rollback_to[] = "ROLLBACK TO item";

/* Applies one item inside the open transaction. Returns false if SQLite ended the
 * transaction (the batch must start over). */
static bool apply_item(struct catalog *c, struct catalog_item *it)
{
    int r = exec_cached(c, sql_savepoint);
    if (r == 0) {
        r = it->apply(c, it->call ? it->call->arg : it->arg);
        if (sqlite3_get_autocommit(c->wdb))
            return false;
        if (r < 0)
            exec_cached(c, sql_rollback_to);
        if (exec_cached(c, sql_release) < 0)
            return false;
    }
    if (it->call)
        it->call->result = r;
    else if (r < 0)
        vb_log_warn(c->log, "catalog: an event was not applied (error %d)", r);
    return !sqlite3_get_autocommit(c->wdb);
}

static int run_batch(struct catalog *c, struct catalog_item *items)
{
    int r = exec_cached(c, sql_begin);
    if (r < 0)
        return r;
    for (struct catalog_item *it = items; it; it = it->next)
        if (!apply_item(c, it))
            return -EIO;
    r = exec_cached(c, sql_commit);
    if (r < 0 && !sqlite3_get_autocommit(c->wdb))
        sqlite3_exec(c->wdb, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

static bool stopping(struct catalog *c)
{
    pthread_mutex_lock(&c->mu);
    bool s = c->stopping;
    pthread_mutex_unlock(&c->mu);
    return s;
}

static void apply_batch(struct catalog *c, struct catalog_item *items, unsigned n)
{
    int r = 0;
    for (int attempt = 0;; attempt++) {
        r = run_batch(c, items);
        if (r == 0)
            return;
        if (!sqlite3_get_autocommit(c->wdb))
            sqlite3_exec(c->wdb, "ROLLBACK", NULL, NULL, NULL);
        vb_log_warn(c->log, "catalog: transaction of %u items failed (%d): %s", n, r,
                    sqlite3_errmsg(c->wdb));
        /* Another process holding the write lock (each try already waited CATALOG_BUSY_MS)
         * passes: keep trying rather than lose events, unless we are shutting down. Other
         * errors get one more try. */
        if (attempt >= 1 && (r != -EBUSY || (stopping(c) && attempt >= 3)))
            break;
    }
    unsigned lost = 0;
    for (struct catalog_item *it = items; it; it = it->next) {
        if (it->call)
            it->call->result = r < 0 ? r : -EIO;
        else
            lost++;
    }
    if (lost)
        vb_log_error(c->log, "catalog: %u events could not be written and are lost", lost);
}

static void *writer_main(void *arg)
{
    struct catalog *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->head && !c->stopping)
            pthread_cond_wait(&c->cv_work, &c->mu);
        if (!c->head)
            break;
        struct catalog_item *first = c->head, *last = first;
        unsigned n = 1;
        while (last->next && n < c->batch_max) {
            last = last->next;
            n++;
        }
        c->head = last->next;
        if (!c->head)
            c->tail = NULL;
        last->next = NULL;
        uint64_t seq = last->seq;
        pthread_mutex_unlock(&c->mu);

        apply_batch(c, first, n);

        pthread_mutex_lock(&c->mu);
        c->applied_seq = seq;
        c->pending -= n;
        pthread_cond_broadcast(&c->cv_done);
        pthread_cond_broadcast(&c->cv_space);
        pthread_mutex_unlock(&c->mu);
        /* Calls' callers may have returned already: only the nodes are ours to free. */
        while (first) {
            struct catalog_item *next = first->next;
            if (!first->call)
                free(first->arg);
            free(first);
            first = next;
        }
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int catalog_writer_start(struct catalog *c)
{
    int e = pthread_create(&c->writer, NULL, writer_main, c);
    if (e)
        return -e;
    pthread_setname_np(c->writer, "vb-catalog");
    c->writer_started = true;
    return 0;
}

void catalog_writer_stop(struct catalog *c)
{
    if (!c->writer_started)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->cv_work);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->writer, NULL);
    c->writer_started = false;
}

static uint64_t enqueue(struct catalog *c, struct catalog_item *it)
{
    pthread_mutex_lock(&c->mu);
    while (c->pending >= CATALOG_QUEUE_MAX)
        pthread_cond_wait(&c->cv_space, &c->mu);
    it->seq = ++c->posted_seq;
    it->next = NULL;
    if (c->tail)
        c->tail->next = it;
    else
        c->head = it;
    c->tail = it;
    c->pending++;
    pthread_cond_signal(&c->cv_work);
    uint64_t seq = it->seq;
    pthread_mutex_unlock(&c->mu);
    return seq;
}

int catalog_writer_post(struct catalog *c, int (*apply)(struct catalog *, void *), void *arg)
{
    struct catalog_item *it = xcalloc(1, sizeof *it);
    it->apply = apply;
    it->arg = arg;
    enqueue(c, it);
    return 0;
}

static void wait_applied(struct catalog *c, uint64_t seq)
{
    pthread_mutex_lock(&c->mu);
    while (c->applied_seq < seq)
        pthread_cond_wait(&c->cv_done, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

int catalog_writer_call(struct catalog *c, int (*fn)(struct catalog *, void *), void *arg)
{
    struct catalog_call call = {.arg = arg, .result = -EIO};
    struct catalog_item *it = xcalloc(1, sizeof *it);
    it->apply = fn;
    it->call = &call;
    wait_applied(c, enqueue(c, it));
    return call.result;
}

void catalog_flush(struct catalog *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t seq = c->posted_seq;
    pthread_mutex_unlock(&c->mu);
    wait_applied(c, seq);
}
