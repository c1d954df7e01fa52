/* archive/scan_internal.h — state shared by the files of `catalog scan`: scan.c (walk, read,
 * import), scan_import.c (hard link or copy without overwriting) and scan_events.c (what is
 * posted to the catalog). One scan runs on one thread. */
#ifndef VB_ARCHIVE_SCAN_INTERNAL_H
#define VB_ARCHIVE_SCAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/archive_internal.h"
#include "archive/scan.h"

enum scan_state {
    SCAN_PENDING = 0,
    SCAN_NEW,     /* imported (or found in place) and not yet in the catalog */
    SCAN_ALREADY, /* in place and in the catalog */
    SCAN_SKIP,
    SCAN_ERROR,
};

struct scan_file {
    char *src;         /* path under the source folder */
    char *name;        /* file name */
    char *room;        /* from the name, or ARCHIVE_SCAN_UNSORTED */
    char *participant; /* from the name, or the name's stem */
    enum mjr_kind name_kind;
    int mindex;
    struct archive_mjr_facts facts;
    int64_t at_us; /* header "s" (else "u", else the file's mtime) */
    uint64_t size;
    uint8_t sha256[32];
    char *rel; /* recordings/<room>/<name> once placed */
    enum scan_state state;
    bool room_new; /* first file of its room only: the catalog knew nothing of the room */
};

struct scan {
    const char *data_dir;
    struct catalog *c;
    void (*line)(void *ud, const char *msg);
    void *ud;
    struct archive_scan_report rep;
    struct scan_file *v; /* sorted by room, participant, name before import */
    size_t n, cap;
};

/* Puts `src` at `dest` (hard link, else copy) unless something is there. Returns 1 when it
 * was placed, 0 when `dest` already holds a file with digest `sha256`, or -errno with a
 * sentence in `why` (a different file under that name is -EEXIST). */
int archive_scan_import(const char *src, const char *dest, const uint8_t sha256[32], char *why,
                        size_t whylen);

/* Posts the events of one room's files v[0..n) (sorted by participant): room, participants,
 * tracks, recordings opened and closed, for the files that are new to the catalog. */
void archive_scan_post_room(struct scan *s, const struct scan_file *v, size_t n);

#endif
