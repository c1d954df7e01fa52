/* This file implements what `catalog scan` tells the catalog about the files it placed: for
 * each room with new files, the room, then per participant the join (at the earliest
 * creation time among all its files), and per new file its track, the recording's opening
 * (at the header's "s") and its closing (at its last frame, with size, SHA-256 and frames).
 *
 * DESIGN: the gateway would have posted the same sequence live, so a scanned recording looks
 * in the catalog like one recorded here, except that the display name is unknown. Room and
 * join events are left out when the catalog already had recordings of that room or
 * participant, so that a repeated or partial scan does not start a second session. */
#include <stdio.h>
#include <string.h>

#include "archive/scan_internal.h"

static void post(struct scan *s, const struct catalog_event *ev)
{
    int rc = catalog_post(s->c, ev);
    if (rc < 0) {
        if (s->line) {
            char msg[300];
            snprintf(msg, sizeof(msg), "error: the catalog refused an event about %s: %s",
                     ev->path ? ev->path : ev->room, strerror(-rc));
            s->line(s->ud, msg);
        }
        s->rep.errors++;
    }
}

static const char *kind_of(const struct scan_file *f)
{
    enum mjr_kind k = f->facts.kind != MJR_KIND_UNKNOWN ? f->facts.kind : f->name_kind;
    return mjr_kind_name(k);
}

static const char *codec_of(const struct scan_file *f)
{
    return f->facts.codec[0] ? f->facts.codec : "unknown";
}

static void post_file(struct scan *s, const struct scan_file *f)
{
    struct catalog_event ev = {.kind = CATALOG_TRACK_PUBLISHED,
                               .at_us = f->at_us,
                               .room = f->room,
                               .participant = f->participant,
                               .kind_name = kind_of(f),
                               .mindex = f->mindex,
                               .codec = codec_of(f)};
    post(s, &ev);
    ev.kind = CATALOG_RECORDING_OPENED;
    ev.path = f->rel;
    post(s, &ev);
    struct catalog_event done = {.kind = CATALOG_RECORDING_CLOSED,
                                 .at_us = f->facts.end_us ? f->facts.end_us : f->at_us,
                                 .path = f->rel,
                                 .size = f->size,
                                 .has_sha256 = true,
                                 .frames = f->facts.frames};
    memcpy(done.sha256, f->sha256, sizeof(done.sha256));
    post(s, &done);
}

/* One participant's files v[0..n). */
static void post_participant(struct scan *s, const struct scan_file *v, size_t n)
{
    bool has_new = false, has_already = false;
    int64_t joined = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].state != SCAN_NEW && v[i].state != SCAN_ALREADY)
            continue;
        has_new |= v[i].state == SCAN_NEW;
        has_already |= v[i].state == SCAN_ALREADY;
        if (v[i].at_us && (!joined || v[i].at_us < joined))
            joined = v[i].at_us;
    }
    if (!has_new)
        return;
    if (!has_already) {
        struct catalog_event ev = {.kind = CATALOG_PARTICIPANT_JOINED,
                                   .at_us = joined,
                                   .room = v[0].room,
                                   .participant = v[0].participant};
        post(s, &ev);
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].state == SCAN_NEW)
            post_file(s, &v[i]);
}

void archive_scan_post_room(struct scan *s, const struct scan_file *v, size_t n)
{
    int64_t created = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (v[i].state != SCAN_NEW)
            continue;
        any = true;
        if (v[i].at_us && (!created || v[i].at_us < created))
            created = v[i].at_us;
    }
    if (!any)
        return;
    if (v[0].room_new) {
        struct catalog_event ev = {
            .kind = CATALOG_ROOM_CREATED, .at_us = created, .room = v[0].room};
        post(s, &ev);
    }
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && !strcmp(v[j].participant, v[i].participant); j++)
            ;
        post_participant(s, v + i, j - i);
    }
}
