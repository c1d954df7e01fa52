/* This file implements the archive object (create, destroy) and the room, participant and
 * track lifecycle events it passes on to the catalog's queue.
 *
 * DESIGN: the archive keeps every recorder whose stream has not reported back yet in one
 * list under one mutex. Destroy closes the ones their producers never closed and then waits
 * on a condition variable until the last on_closed callback (on a writer thread) has removed
 * its recorder, so that when destroy returns every file is finished and its outcome queued
 * to the catalog. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_internal.h"
#include "common/xalloc.h"

int archive_create(const struct archive_config *cfg, struct archive **out)
{
    if (!cfg || !out || !cfg->data_dir || !cfg->data_dir[0] || !cfg->engine || !cfg->catalog)
        return -EINVAL;
    struct archive *a = xcalloc(1, sizeof(*a));
    a->data_dir = xstrdup(cfg->data_dir);
    a->engine = cfg->engine;
    a->catalog = cfg->catalog;
    a->log = cfg->log;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->idle, NULL);
    *out = a;
    return 0;
}

/* Marks every recorder its producer has not closed as closed and returns their streams
 * (malloc'd array; count in *n). Called with the lock held. */
static struct mjr_stream **take_unclosed(struct archive *a, size_t *n)
{
    size_t count = 0;
    for (struct archive_rec *r = a->recs; r; r = r->next)
        count += !r->closed;
    struct mjr_stream **v = xcalloc(count ? count : 1, sizeof(*v));
    size_t i = 0;
    for (struct archive_rec *r = a->recs; r; r = r->next) {
        if (r->closed)
            continue;
        r->closed = true;
        v[i++] = r->stream;
    }
    *n = count;
    return v;
}

void archive_destroy(struct archive *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    size_t n;
    struct mjr_stream **streams = take_unclosed(a, &n);
    pthread_mutex_unlock(&a->lock);
    if (n)
        vb_log_info(a->log, "archive: closing %zu recording(s) still open", n);
    /* Outside the lock: a stream's on_closed may run as soon as it is closed. */
    for (size_t i = 0; i < n; i++)
        mjr_stream_close(streams[i]);
    free(streams);
    pthread_mutex_lock(&a->lock);
    while (a->live > 0)
        pthread_cond_wait(&a->idle, &a->lock);
    pthread_mutex_unlock(&a->lock);
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->lock);
    free(a->data_dir);
    free(a);
}

static int post(struct archive *a, const struct catalog_event *ev)
{
    int rc = catalog_post(a->catalog, ev);
    if (rc < 0)
        vb_log_warn(a->log, "archive: catalog refused an event (kind %d): %s", (int)ev->kind,
                    strerror(-rc));
    return rc;
}

int archive_room_created(struct archive *a, const char *room, const char *description)
{
    if (!a || !room || !room[0])
        return -EINVAL;
    struct catalog_event ev = {
        .kind = CATALOG_ROOM_CREATED, .room = room, .room_description = description};
    return post(a, &ev);
}

int archive_room_destroyed(struct archive *a, const char *room)
{
    if (!a || !room || !room[0])
        return -EINVAL;
    struct catalog_event ev = {.kind = CATALOG_ROOM_DESTROYED, .room = room};
    return post(a, &ev);
}

int archive_participant_joined(struct archive *a, const char *room, const char *participant,
                               const char *display)
{
    if (!a || !room || !room[0] || !participant || !participant[0])
        return -EINVAL;
    struct catalog_event ev = {.kind = CATALOG_PARTICIPANT_JOINED,
                               .room = room,
                               .participant = participant,
                               .display = display};
    return post(a, &ev);
}

int archive_participant_left(struct archive *a, const char *room, const char *participant)
{
    if (!a || !room || !room[0] || !participant || !participant[0])
        return -EINVAL;
    struct catalog_event ev = {
        .kind = CATALOG_PARTICIPANT_LEFT, .room = room, .participant = participant};
    return post(a, &ev);
}

static bool kind_valid(enum mjr_kind k)
{
    return k == MJR_KIND_AUDIO || k == MJR_KIND_VIDEO || k == MJR_KIND_DATA;
}

int archive_track_published(struct archive *a, const struct archive_stream_info *info)
{
    if (!a || !info || !info->room || !info->room[0] || !info->participant ||
        !info->participant[0] || !kind_valid(info->kind) || info->mindex < 0)
        return -EINVAL;
    struct catalog_event ev = {.kind = CATALOG_TRACK_PUBLISHED,
                               .room = info->room,
                               .participant = info->participant,
                               .display = info->display,
                               .kind_name = mjr_kind_name(info->kind),
                               .mindex = info->mindex,
                               .mid = info->mid,
                               .codec = info->codec,
                               .description = info->description};
    return post(a, &ev);
}

int archive_track_unpublished(struct archive *a, const char *room, const char *participant,
                              enum mjr_kind kind, int mindex)
{
    if (!a || !room || !room[0] || !participant || !participant[0] || !kind_valid(kind) ||
        mindex < 0)
        return -EINVAL;
    struct catalog_event ev = {.kind = CATALOG_TRACK_UNPUBLISHED,
                               .room = room,
                               .participant = participant,
                               .kind_name = mjr_kind_name(kind),
                               .mindex = mindex};
    return post(a, &ev);
}
