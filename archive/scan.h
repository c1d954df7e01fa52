/* archive/scan.h — indexing MJR files that were recorded elsewhere (`verbatim catalog scan`).
 *
 * A scan walks a source folder for *.mjr files (for example what a real Janus wrote under
 * its rec_dir), imports each into DATA/recordings/<room>/ under its own name (a hard link
 * when source and data share a filesystem, else a copy; never overwriting), and tells the
 * catalog about the rooms, participants, tracks and recordings the files stand for. Janus's
 * VideoRoom names (videoroom-<room>-user-<id>-<µs>-<kind>-<mindex>.mjr) give room and
 * participant, so a participant's audio, video and data files are grouped under one
 * participant; other names go to room "unsorted", one participant per file. Scanning the
 * same files again adds nothing.
 *
 * Thread: any control thread; blocking file I/O. The catalog is borrowed. */
#ifndef VB_ARCHIVE_SCAN_H
#define VB_ARCHIVE_SCAN_H

#include "catalog/catalog.h"

#define ARCHIVE_SCAN_UNSORTED "unsorted" /* room of files whose name is not Janus's */

struct archive_scan_report {
    unsigned indexed; /* new in the catalog (imported, or already in place but not indexed) */
    unsigned already; /* in place with the same SHA-256 and known to the catalog */
    unsigned skipped; /* not an MJR file, or not a *.mjr name (each reported by a line) */
    unsigned errors;  /* could not be read, hashed or imported, or a different file of the
                         same name is already in the data directory */
};

/* Scans `src_dir` recursively (symbolic links to folders are not followed) into `data_dir`
 * and the catalog `c`, and waits until the catalog applied it all. `line` (may be NULL) gets
 * one sentence per file (indexed, already indexed, skipped, or failed), on the calling
 * thread. Returns 0 (per-file problems are counted in `rep`, which may be NULL), or -errno
 * when `src_dir` cannot be read. */
int archive_scan(const char *src_dir, const char *data_dir, struct catalog *c,
                 struct archive_scan_report *rep, void (*line)(void *ud, const char *msg),
                 void *ud);

#endif
