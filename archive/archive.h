/* archive/archive.h — the recording lifecycle: what the gateway calls to record a stream.
 *
 * An archive ties the MJR writer engine (mjr/) to the catalog (catalog/). Opening a recorder
 * names its file as Janus's VideoRoom does, under a per-room folder of DATA/recordings, and
 * tells the catalog; feeding it is the engine's hot path (a copy into memory, no syscall, no
 * lock); closing it finishes the file on a writer thread, where its SHA-256 (computed by the
 * writer as the bytes reach the disk, never on the media thread) and size go to the catalog.
 * At startup, archive_recover() finalizes every recording the catalog still marks open.
 *
 * Thread-safety: archive_rec_write_*, _pause and _resume are for the recorder's one producer
 * (a media thread) and never block. Everything else may be called from any control thread.
 * Ownership: the archive borrows the engine and the catalog (both must outlive it); a
 * recorder is owned by its caller until archive_rec_close(), after which it must not be used. */
#ifndef VB_ARCHIVE_H
#define VB_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "common/log.h"
#include "mjr/mjr.h"

struct archive;
struct archive_rec;

struct archive_config {
    const char *data_dir;      /* recordings go to DATA/recordings/<room>/ */
    struct mjr_engine *engine; /* borrowed */
    struct catalog *catalog;   /* borrowed */
    const struct vb_log *log;  /* borrowed; may be NULL */
};

int archive_create(const struct archive_config *cfg, struct archive **out);
/* Closes every recorder still open (as archive_rec_close), waits until their files are
 * finished and the catalog told, frees the archive. NULL is a no-op. */
void archive_destroy(struct archive *a);

/* What the gateway knows about a stream when it starts recording it. */
struct archive_stream_info {
    const char *room;        /* required */
    const char *participant; /* required: the publisher id */
    const char *display;
    enum mjr_kind kind; /* required */
    int mindex;
    const char *mid;
    const char *codec; /* required: "opus", "vp8", ... ("text"/"binary" for data) */
    const char *fmtp;
    const char *description;
    const char *extmaps[16]; /* extmaps[id] for id 1..14, NULL = none */
    bool e2ee;
    /* Janus's `filename`: the file is <base_name>-<audio|video|data>-<mindex>.mjr under the
     * room folder (a relative name; "..", "/" and control characters are refused). NULL =
     * videoroom-<room>-user-<participant>-<now µs>-<kind>-<mindex>.mjr. */
    const char *base_name;
};

/* Opens a recorder: the file is created under its temporary name by the engine, and the
 * catalog gets RECORDING_OPENED (creating room, participant and track as needed). -EINVAL
 * for missing or unsafe fields, -EEXIST if that file exists, or the engine's -errno. */
int archive_rec_open(struct archive *a, const struct archive_stream_info *info,
                     struct archive_rec **out);

/* Hot path: as mjr_stream_write_rtp / mjr_stream_write_data (0, or -EAGAIN when the frame
 * was dropped and counted, or the stream's error). */
int archive_rec_write_rtp(struct archive_rec *r, const uint8_t *pkt, size_t len);
int archive_rec_write_data(struct archive_rec *r, const uint8_t *msg, size_t len);
void archive_rec_pause(struct archive_rec *r);
void archive_rec_resume(struct archive_rec *r);

/* The final path, relative to the data directory (valid until close). */
const char *archive_rec_path(const struct archive_rec *r);

/* Ends recording. The file is finished on a writer thread, which then posts
 * RECORDING_CLOSED (size, SHA-256, frames, dropped) or RECORDING_FAILED (with the error). */
void archive_rec_close(struct archive_rec *r);

/* Room and participant lifecycle, passed to the catalog's queue. */
int archive_room_created(struct archive *a, const char *room, const char *description);
int archive_room_destroyed(struct archive *a, const char *room);
int archive_participant_joined(struct archive *a, const char *room, const char *participant,
                               const char *display);
int archive_participant_left(struct archive *a, const char *room, const char *participant);
int archive_track_published(struct archive *a, const struct archive_stream_info *info);
int archive_track_unpublished(struct archive *a, const char *room, const char *participant,
                              enum mjr_kind kind, int mindex);

struct archive_recover_report {
    unsigned recovered; /* catalog said open: trimmed, renamed, hashed, marked recovered */
    unsigned missing;   /* catalog said open but no file (temporary or final) exists */
    unsigned stray;     /* *.mjr.tmp under recordings/ the catalog did not know: recovered
                           and indexed as well */
    uint64_t trimmed;   /* bytes cut in all (partial frames, preallocated zeros) */
};

/* Crash recovery, before any recorder opens: every recording the catalog marks open is
 * recovered with mjr_recover(), re-hashed, and marked recovered (with the bytes trimmed);
 * a missing one is marked failed. Waits until the catalog has applied it all. */
int archive_recover(struct archive *a, struct archive_recover_report *rep);

#endif
