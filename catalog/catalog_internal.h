/* catalog/catalog_internal.h — what the catalog's files share; not a public API.
 *
 * The catalog object owns one write connection (used only by the writer thread once it runs)
 * and a pool of read-only connections (each used by one query at a time, under its mutex).
 * Work for the writer is a FIFO of items: queued events and audit rows (owned copies, freed
 * by the writer), and synchronous calls (the caller's arguments stay on its stack while it
 * waits for the item's sequence number to be applied). */
#ifndef VB_CATALOG_INTERNAL_H
#define VB_CATALOG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <sqlite3.h>

#include "catalog/catalog.h"

/* PRAGMA application_id of a Verbatim catalog: "VBct". */
#define CATALOG_APPLICATION_ID 0x56426374
/* Events allowed to wait in the queue before catalog_post() blocks. */
#define CATALOG_QUEUE_MAX 100000
/* How long a connection waits for another process's lock before SQLITE_BUSY. */
#define CATALOG_BUSY_MS 5000
#define CATALOG_LIMIT_DEFAULT 50
#define CATALOG_LIMIT_MAX 1000
/* Inputs one job may merge; a hard bound on what a request can make us store. */
#define CATALOG_JOB_INPUTS_MAX 256
/* Prepared statements the writer keeps (one per distinct SQL text it runs). */
#define CATALOG_WSTMT_MAX 64

struct catalog_call {
    void *arg; /* borrowed from the waiting caller */
    int result;
};

struct catalog_item {
    struct catalog_item *next;
    uint64_t seq;
    int (*apply)(struct catalog *c, void *arg);
    void *arg;                 /* owned (free()d with the item) unless `call` is set */
    struct catalog_call *call; /* synchronous: result goes here; the caller waits for seq */
};

struct catalog_reader {
    pthread_mutex_t mu;
    sqlite3 *db;
};

struct catalog_wstmt {
    const char *sql; /* identity: the address of a constant string */
    sqlite3_stmt *st;
};

struct catalog {
    char *db_path;
    char *data_dir;
    unsigned batch_max;
    const struct vb_log *log;

    /* Writer thread state: the connection and its statement cache. */
    sqlite3 *wdb;
    struct catalog_wstmt wstmts[CATALOG_WSTMT_MAX];
    size_t n_wstmts;
    pthread_t writer;
    bool writer_started;

    /* Queue (under mu). */
    pthread_mutex_t mu;
    pthread_cond_t cv_work;  /* items queued, or stopping */
    pthread_cond_t cv_space; /* the backlog dropped below CATALOG_QUEUE_MAX */
    pthread_cond_t cv_done;  /* applied_seq advanced */
    struct catalog_item *head, *tail;
    size_t pending;
    uint64_t posted_seq, applied_seq;
    bool stopping;

    /* Read connections. */
    struct catalog_reader *readers;
    unsigned n_readers;
    atomic_uint next_reader;
};

/* schema.c: checks an existing file read-only (0, -EBADMSG, -EPROTO with a sentence in
 * err), then brings an open read-write connection to the current version. */
int catalog_schema_check(const char *path, char *err, size_t errlen);
int catalog_schema_migrate(sqlite3 *db, int target, char *err, size_t errlen);
/* The number of schema versions this build knows (the newest user_version). */
int catalog_schema_version(void);

/* writer.c: the queue and the thread. */
int catalog_writer_start(struct catalog *c);
void catalog_writer_stop(struct catalog *c);
/* Queues an owned argument to be applied by `apply` (which must not free it). */
int catalog_writer_post(struct catalog *c, int (*apply)(struct catalog *, void *), void *arg);
/* Runs fn(c, arg) on the writer thread inside a transaction and returns its result. */
int catalog_writer_call(struct catalog *c, int (*fn)(struct catalog *, void *), void *arg);

/* Creates a job from the writer thread, inside a call already running there (auto.c). */
int catalog_job_create_locked(struct catalog *c, const struct catalog_job_spec *spec, int64_t *id);
/* Writer thread only: a cached prepared statement, reset and unbound; NULL on error. */
sqlite3_stmt *catalog_wstmt(struct catalog *c, const char *sql);
/* Steps a statement to its end and resets it: 0 or -errno (logged). */
int catalog_wstep(struct catalog *c, sqlite3_stmt *st);

/* events.c: applies one queued struct catalog_event (writer thread). */
int catalog_event_apply(struct catalog *c, void *ev);

/* audit.c: applies one queued audit row (writer thread); hashes a row's canonical form. */
int catalog_audit_apply(struct catalog *c, void *row);
void catalog_audit_hash(const char *prev_hex, int64_t at, const char *who, const char *action,
                        const char *object, char out_hex[65]);

/* catalog.c: a read connection, held until released. */
struct catalog_reader *catalog_reader_acquire(struct catalog *c);
void catalog_reader_release(struct catalog_reader *r);
/* query.c: acquire + BEGIN (one snapshot); COMMIT + release. */
struct catalog_reader *catalog_read_begin(struct catalog *c);
void catalog_read_end(struct catalog_reader *r);

/* query.c: a list query (count and one page, in one read transaction) built from constant
 * SQL fragments; values are always bound, never pasted into SQL. */
#define CATALOG_WHERE_MAX 16
struct catalog_where {
    char sql[1024];
    size_t len;
    int n;
    struct {
        const char *text; /* NULL: the integer */
        int64_t i;
    } binds[CATALOG_WHERE_MAX];
};
void catalog_where_text(struct catalog_where *w, const char *cond, const char *v);
void catalog_where_int(struct catalog_where *w, const char *cond, int64_t v);

struct catalog_list {
    const char *key;        /* the array's name in the result: "recordings" */
    const char *columns;    /* "SELECT" list, with AS names the JSON keys */
    const char *from;       /* "FROM ... JOIN ..." */
    const char *count_from; /* for COUNT(*) when the filters need no join; NULL = from */
    const char *order;      /* "ORDER BY ..." */
    /* Turns a row into its JSON object; NULL = catalog_row_json(). */
    json_t *(*row)(void *ctx, sqlite3 *db, sqlite3_stmt *st);
    void *ctx;
};
/* Reads limit and offset (0 = 50, at most 1000; negative: -EINVAL). */
int catalog_filter_page(const struct catalog_filter *f, int64_t *limit, int64_t *offset);
/* Runs the list on a reader's connection (inside catalog_read_begin/end: the count and the
 * page see the same snapshot). */
int catalog_list_run(sqlite3 *db, const struct catalog_list *l, const struct catalog_where *w,
                     int64_t limit, int64_t offset, json_t **out);
/* One row of `sql` (one integer parameter) as JSON through `row`; -ENOENT if none. */
int catalog_get_one(struct catalog *c, const char *sql, int64_t id,
                    json_t *(*row)(void *ctx, sqlite3 *db, sqlite3_stmt *st), void *ctx,
                    json_t **out);
/* The single text column of `sql` (one integer parameter) into buf; -ENOENT, -ENAMETOOLONG. */
int catalog_get_text(struct catalog *c, const char *sql, int64_t id, char *buf, size_t len);

/* util.c */
int catalog_sqlite_errno(int rc);
void catalog_bind_text(sqlite3_stmt *st, int i, const char *s);
/* The row's columns as a JSON object keyed by column name (invalid UTF-8 replaced). */
json_t *catalog_row_json(sqlite3_stmt *st);
json_t *catalog_column_json(sqlite3_stmt *st, int i);
/* A relative path with no empty, "." or ".." component: what may name a file under the data
 * directory. */
bool catalog_path_ok(const char *path);
int64_t catalog_now_us(void);

#endif
