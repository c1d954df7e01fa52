/* archive/archive_internal.h — what the files of the archive module share: the archive and
 * recorder structs, file-name rules (building, checking and parsing Janus's names), and small
 * file-system and catalog helpers used by recording, recovery and scan.
 *
 * Nothing here is public: other modules include archive/archive.h or archive/scan.h. */
#ifndef VB_ARCHIVE_INTERNAL_H
#define VB_ARCHIVE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "archive/archive.h"
#include "common/fs.h"

#define ARCHIVE_RECORDINGS "recordings" /* folder under the data directory */
#define ARCHIVE_DIR_MODE 0750
#define ARCHIVE_ID_MAX 128        /* bytes of a room or participant id used in a path */
#define ARCHIVE_FILE_NAME_MAX 250 /* a recording's file name, leaving room for ".tmp" */

struct archive {
    char *data_dir; /* owned copy */
    struct mjr_engine *engine;
    struct catalog *catalog;
    const struct vb_log *log;
    pthread_mutex_t lock;     /* guards recs, live, and every recorder's `closed` and links */
    pthread_cond_t idle;      /* signalled when live drops to 0 */
    struct archive_rec *recs; /* every recorder whose on_closed has not run yet */
    unsigned live;
};

/* A recorder's bookkeeping. Created by archive_rec_open(); used by its producer until
 * archive_rec_close(); freed on a writer thread by the stream's on_closed callback. */
struct archive_rec {
    struct archive *a;
    struct mjr_stream *stream;
    char *rel_path; /* "recordings/<room>/<name>.mjr", relative to the data directory */
    bool closed;    /* mjr_stream_close() was called (by the producer or by destroy) */
    struct archive_rec *prev, *next;
};

/* ------------------------------------------------------------------------------------------ */
/* names.c */

/* True when `s` may be used as a room or participant id inside a path: not empty, at most
 * ARCHIVE_ID_MAX bytes, no '/', no "..", no control characters. */
bool archive_id_safe(const char *s);
/* The same rules for a caller-given base name (`filename`). */
bool archive_base_name_safe(const char *s);

/* What a recording's file name says. Strings owned by the struct (archive_name_clear). */
struct archive_name {
    bool videoroom;    /* videoroom-<room>-user-<participant>-<ts>-<kind>-<mindex>.mjr */
    char *room;        /* videoroom names only */
    char *participant; /* videoroom names: the publisher id; else the base name */
    int64_t ts_us;     /* videoroom names only */
    enum mjr_kind kind;
    int mindex;
};

/* Parses a file name ending in ".mjr": Janus's VideoRoom pattern, else the base-name pattern
 * <base>-<audio|video|data>-<mindex>.mjr. Returns 0, or -EINVAL when neither matches. */
int archive_name_parse(const char *file, struct archive_name *out);
void archive_name_clear(struct archive_name *n);

/* "a/b" (malloc'd). */
char *archive_join(const char *a, const char *b);
/* printf into a malloc'd string. */
char *archive_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when `s` ends with `suffix`. */
bool archive_ends_with(const char *s, const char *suffix);

/* ------------------------------------------------------------------------------------------ */
/* util.c */

/* 1 if something exists at `path` (lstat), 0 if not, -errno on another error. */
int archive_exists(const char *path);

/* A sorted set of strings (recording paths the catalog knows). */
struct archive_strset {
    char **v;
    size_t n, cap;
    bool sorted;
};
void archive_strset_add(struct archive_strset *s, const char *str);
bool archive_strset_has(struct archive_strset *s, const char *str);
void archive_strset_free(struct archive_strset *s);

/* Adds to `set` the path of every recording the catalog has for `room` (any state).
 * 0 or the query's -errno. */
int archive_catalog_paths(struct catalog *c, const char *room, struct archive_strset *set);

/* What a recording's MJR header and frames say, for indexing a file found on disk. */
struct archive_mjr_facts {
    enum mjr_kind kind;
    char codec[32];     /* "" when the header is missing */
    int64_t created_us; /* header "s" */
    int64_t first_us;   /* header "u" */
    int64_t end_us;     /* wall clock of the last frame (first_us + its t_ms) */
    uint64_t frames;
};
/* Reads the header and iterates the frames. 0, -EBADMSG for a file that is not MJR (with a
 * sentence in err), or -errno. */
int archive_mjr_inspect(const char *path, struct archive_mjr_facts *f, char *err, size_t errlen);

#endif
