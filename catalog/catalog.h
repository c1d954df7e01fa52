/* catalog/catalog.h — the SQLite index of everything recorded: rooms, participants, tracks,
 * recordings, transcode jobs and their outputs, and a hash-chained audit log.
 *
 * One catalog per data directory (DIR/catalog.db). Writes go through a queue to one writer
 * thread that owns the write connection and applies them in batched transactions; queries
 * run on a small pool of read-only connections (WAL mode lets them run while the writer
 * writes). Results of queries are Jansson objects in the shape the web API serves.
 *
 * Identity: a room is its id string (Janus room ids may be numbers or strings; numbers are
 * given as their decimal text). A participant is one session of a person in a room: (room,
 * participant id, joined_at). A track is one published stream of a participant (kind, mindex).
 * A recording is one MJR file, keyed by its path relative to the data directory.
 *
 * Thread-safety: every function may be called from any thread, except catalog_close()
 * (once, after every other call returned). Ownership: strings passed in are copied; json_t
 * results are owned by the caller (json_decref). Returns: 0 or -errno unless said. */
#ifndef VB_CATALOG_H
#define VB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/log.h"

struct catalog;

struct catalog_config {
    const char *db_path;      /* e.g. DIR/catalog.db; created if missing */
    const char *data_dir;     /* recording/output paths are relative to it */
    unsigned batch_max;       /* events per transaction at most; 0 = 512 */
    unsigned readers;         /* read connections; 0 = 4 */
    const struct vb_log *log; /* borrowed; may be NULL */
};

/* Opens (creating and migrating with PRAGMA user_version as needed) and starts the writer.
 * A file that is not SQLite, or an SQLite database that is not a Verbatim catalog (foreign
 * tables, or a user_version newer than this build knows), is refused with -EBADMSG /
 * -EPROTO and a sentence in err, and is left untouched. */
int catalog_open(const struct catalog_config *cfg, struct catalog **out, char *err, size_t errlen);

/* Applies every queued event, stops the writer, closes all connections. NULL is a no-op. */
void catalog_close(struct catalog *c);

/* ------------------------------------------------------------------------------------------ */
/* Events: queued, applied in order by the writer thread. */

enum catalog_event_kind {
    CATALOG_ROOM_CREATED = 1,    /* room, description */
    CATALOG_ROOM_DESTROYED,      /* room */
    CATALOG_PARTICIPANT_JOINED,  /* room, participant, display */
    CATALOG_PARTICIPANT_LEFT,    /* room, participant */
    CATALOG_TRACK_PUBLISHED,     /* room, participant, kind, mindex, mid, codec, description */
    CATALOG_TRACK_UNPUBLISHED,   /* room, participant, kind, mindex */
    CATALOG_RECORDING_OPENED,    /* room, participant, kind, mindex, codec, path */
    CATALOG_RECORDING_CLOSED,    /* path, size, sha256, frames, dropped */
    CATALOG_RECORDING_FAILED,    /* path, error (and size/sha256 of what is on disk, if any) */
    CATALOG_RECORDING_RECOVERED, /* path, size, sha256, frames, trimmed */
};

struct catalog_event {
    enum catalog_event_kind kind;
    int64_t at_us; /* wall clock of the event; 0 = now */
    const char *room;
    const char *room_description;
    const char *participant;
    const char *display;
    const char *kind_name; /* "audio", "video", "data" */
    int mindex;
    const char *mid;
    const char *codec;
    const char *description;
    const char *path; /* recording path relative to the data directory */
    uint64_t size;
    bool has_sha256;
    uint8_t sha256[32];
    uint64_t frames, dropped, trimmed;
    const char *error;
};

/* Queues an event (copied). Never fails for a valid event; waits only if a very large
 * backlog (100,000 events) has built up. -EINVAL for an event missing what its kind needs.
 * Rooms, participants and tracks an event refers to are created if not yet known. */
int catalog_post(struct catalog *c, const struct catalog_event *ev);

/* Waits until every event posted before the call has been applied (tests, shutdown). */
void catalog_flush(struct catalog *c);

/* ------------------------------------------------------------------------------------------ */
/* Queries (read connections). */

struct catalog_filter {
    const char *room;        /* exact room id */
    const char *participant; /* exact participant id */
    const char *display;     /* substring of the display name */
    const char *codec;       /* exact */
    const char *kind;        /* "audio" / "video" / "data" */
    const char *state;       /* recordings: open / closed / recovered / failed; jobs: ... */
    int64_t from_us, to_us;  /* recordings overlapping [from, to); 0 = open-ended */
    int64_t limit;           /* 0 = 50; at most 1000 */
    int64_t offset;
};

/* {"rooms": [{"room", "description", "created_at", "destroyed_at", "participants",
 *  "recordings"}...], "total", "limit", "offset"} */
int catalog_rooms_query(struct catalog *c, const struct catalog_filter *f, json_t **out);
/* One room as above; -ENOENT. */
int catalog_room_get(struct catalog *c, const char *room, json_t **out);
/* {"participants": [{"id", "room", "participant", "display", "joined_at", "left_at",
 *  "tracks": [...]}...], "total", ...} (f->room required). */
int catalog_participants_query(struct catalog *c, const struct catalog_filter *f, json_t **out);
/* {"recordings": [{"id", "room", "participant", "display", "kind", "mindex", "codec", "path",
 *  "state", "size", "sha256", "frames", "dropped", "trimmed", "error", "opened_at",
 *  "closed_at"}...], "total", "limit", "offset"} */
int catalog_recordings_query(struct catalog *c, const struct catalog_filter *f, json_t **out);
int catalog_recording_get(struct catalog *c, int64_t id, json_t **out);
/* The recording's path relative to the data directory (for downloads); -ENOENT. */
int catalog_recording_path(struct catalog *c, int64_t id, char *buf, size_t len);

/* ------------------------------------------------------------------------------------------ */
/* Transcode jobs and outputs. */

enum catalog_job_state {
    CATALOG_JOB_QUEUED = 0,
    CATALOG_JOB_RUNNING,
    CATALOG_JOB_DONE,
    CATALOG_JOB_FAILED,
    CATALOG_JOB_CANCELLED,
};

struct catalog_job_spec {
    const int64_t *recordings; /* recording ids: one, or several merged into one output */
    size_t n_recordings;
    const char *format; /* "opus", "webm", "mp4", ... */
    const char *requested_by;
    unsigned max_attempts; /* 0 = 3 */
};

/* Creates a queued job (synchronously: the id is known on return). -ENOENT if a recording
 * id is unknown; -EINVAL for no recordings or no format. */
int catalog_job_create(struct catalog *c, const struct catalog_job_spec *spec, int64_t *id);

/* A claimed job: what a worker needs to run it. Strings owned by the struct. */
struct catalog_job {
    int64_t id;
    char *format;
    size_t n_inputs;
    char **inputs;    /* paths relative to the data directory, in the order given */
    unsigned attempt; /* 1 for the first run */
};
void catalog_job_release(struct catalog_job *j);

/* Claims the oldest queued job (or one whose lease expired: its worker died) for `lease_ms`.
 * Returns 1 with *out filled, 0 if none. A job past its max attempts becomes failed. */
int catalog_job_claim(struct catalog *c, const char *worker, int64_t lease_ms,
                      struct catalog_job *out);
/* Records progress (0..1) and extends the lease. -ESTALE if the job is no longer ours
 * (cancelled, or the lease was taken over): the worker must stop. */
int catalog_job_progress(struct catalog *c, int64_t id, const char *worker, double fraction,
                         int64_t lease_ms);

struct catalog_output {
    const char *path; /* relative to the data directory */
    const char *format;
    uint64_t size;
    uint8_t sha256[32];
    double duration_s;
};
/* Ends a job: done with its outputs, or failed with an error (retried while attempts
 * remain). -ESTALE as above. */
int catalog_job_finish(struct catalog *c, int64_t id, const char *worker, int status,
                       const char *error, const struct catalog_output *outputs, size_t n);
/* Automatic conversion: for every participant whose recordings are all finished (none
 * open, at least one audio or video closed or recovered) and who has not been considered,
 * creates one job merging their audio and video: WebM for VP8/VP9/AV1 video, MP4 for
 * H.264/H.265 (with Opus audio), Opus or WAV for audio only. Each participant is considered
 * once (a participant with nothing convertible is marked so). *created (may be NULL) gets
 * the number of jobs created. */
int catalog_jobs_auto(struct catalog *c, const char *requested_by, unsigned *created);

/* Cancels a queued or running job (a running one is told at its next progress). */
int catalog_job_cancel(struct catalog *c, int64_t id);

/* {"jobs": [{"id", "state", "format", "recordings": [ids], "progress", "attempts", "error",
 *  "created_at", "started_at", "finished_at", "outputs": [ids]}...], "total", ...} */
int catalog_jobs_query(struct catalog *c, const struct catalog_filter *f, json_t **out);
int catalog_job_get(struct catalog *c, int64_t id, json_t **out);
/* {"id", "job", "path", "format", "size", "sha256", "duration"} and its path for download. */
int catalog_output_get(struct catalog *c, int64_t id, json_t **out);
int catalog_output_path(struct catalog *c, int64_t id, char *buf, size_t len);

/* ------------------------------------------------------------------------------------------ */
/* Audit log and verification. */

/* Appends a row (who, action, object, when) chained to the previous one by SHA-256. Queued. */
int catalog_audit(struct catalog *c, const char *who, const char *action, const char *object);

struct catalog_verify_report {
    uint64_t files_checked;
    uint64_t missing;    /* recordings/outputs whose file is gone */
    uint64_t mismatched; /* size or SHA-256 differ */
    uint64_t audit_rows;
    int64_t audit_broken_at; /* first audit row id that does not chain; 0 = intact */
};
/* Re-hashes every closed/recovered recording and every output under the data directory,
 * checks the audit chain; `report` (may be NULL) is called with one line per problem.
 * Returns 0 when everything is intact, 1 when something is wrong, -errno on failure. */
int catalog_verify(struct catalog *c, struct catalog_verify_report *rep,
                   void (*report)(void *ud, const char *line), void *ud);

/* Recordings still marked open (for crash recovery at startup): paths relative to the data
 * directory, malloc'd array of malloc'd strings in *paths, count in *n. */
int catalog_open_recordings(struct catalog *c, char ***paths, size_t *n);

#endif
