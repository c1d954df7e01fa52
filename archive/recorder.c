/* This file implements recorders: naming a stream's file as Janus's VideoRoom does, opening
 * it on the MJR engine with hashing on, telling the catalog, the hot-path pass-throughs, and
 * the close callback that reports the outcome.
 *
 * DESIGN: a recorder has two owners in turn. Its producer owns it from archive_rec_open()
 * until archive_rec_close(); the engine's writer thread owns it from then on, and frees it in
 * on_closed after posting RECORDING_CLOSED or RECORDING_FAILED. The catalog hears about the
 * recording (RECORDING_OPENED) before archive_rec_open() returns, and the close event can
 * only be posted after archive_rec_close(), so the catalog's single queue always sees them
 * in that order. A name already used by a live recorder, or present on disk under its final
 * or temporary name, is refused: the engine would refuse it too, but only later, on its
 * writer thread, where the caller could not be told. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_internal.h"
#include "common/clock.h"
#include "common/xalloc.h"

static bool info_valid(const struct archive_stream_info *info)
{
    if (!info || !archive_id_safe(info->room) || !archive_id_safe(info->participant))
        return false;
    if (info->kind != MJR_KIND_AUDIO && info->kind != MJR_KIND_VIDEO && info->kind != MJR_KIND_DATA)
        return false;
    if (!info->codec || !info->codec[0] || info->mindex < 0)
        return false;
    return !info->base_name || archive_base_name_safe(info->base_name);
}

/* The file name Janus's VideoRoom would give this stream. */
static char *file_name(const struct archive_stream_info *info, int64_t now_us)
{
    const char *kind = mjr_kind_name(info->kind);
    if (info->base_name)
        return archive_printf("%s-%s-%d.mjr", info->base_name, kind, info->mindex);
    return archive_printf("videoroom-%s-user-%s-%" PRId64 "-%s-%d.mjr", info->room,
                          info->participant, now_us, kind, info->mindex);
}

/* 0 if nothing uses `rel` (lock held): no live recorder, no final or temporary file. */
static int name_free(struct archive *a, const char *rel, const char *abs)
{
    for (struct archive_rec *r = a->recs; r; r = r->next)
        if (strcmp(r->rel_path, rel) == 0)
            return -EEXIST;
    int rc = archive_exists(abs);
    if (rc != 0)
        return rc > 0 ? -EEXIST : rc;
    char *tmp = archive_printf("%s.tmp", abs);
    rc = archive_exists(tmp);
    free(tmp);
    return rc > 0 ? -EEXIST : rc;
}

static void rec_free(struct archive_rec *r)
{
    free(r->rel_path);
    free(r);
}

static void post_outcome(struct archive_rec *r, const struct mjr_stream_result *res)
{
    struct catalog_event ev = {.path = r->rel_path,
                               .frames = res->frames,
                               .dropped = res->dropped,
                               .has_sha256 = res->has_sha256};
    if (res->has_sha256)
        memcpy(ev.sha256, res->sha256, sizeof(ev.sha256));
    char error[200];
    if (res->status == 0 && !res->has_sha256) {
        /* The engine hashes every file it finishes: no digest means no file to vouch for. */
        ev.kind = CATALOG_RECORDING_FAILED;
        ev.error = "the writer finished the stream without a file";
        vb_log_error(r->a->log, "archive: %s: %s", r->rel_path, ev.error);
    } else if (res->status == 0) {
        ev.kind = CATALOG_RECORDING_CLOSED;
        ev.size = res->bytes;
    } else {
        ev.kind = CATALOG_RECORDING_FAILED;
        /* What is on disk: the whole frames written before the error, if recovery kept any. */
        ev.size = res->recovered ? res->bytes : 0;
        snprintf(error, sizeof(error), "recording failed: %s%s", strerror(-res->status),
                 res->recovered ? " (the file keeps the frames written before the error)" : "");
        ev.error = error;
        vb_log_error(r->a->log, "archive: %s: %s", r->rel_path, error);
    }
    int rc = catalog_post(r->a->catalog, &ev);
    if (rc < 0)
        vb_log_error(r->a->log, "archive: catalog refused the outcome of %s: %s", r->rel_path,
                     strerror(-rc));
}

/* The stream is finished (writer thread). The recorder is ours now: report and free it. */
static void on_closed(void *ud, const struct mjr_stream_result *res)
{
    struct archive_rec *r = ud;
    struct archive *a = r->a;
    post_outcome(r, res);
    pthread_mutex_lock(&a->lock);
    if (r->prev)
        r->prev->next = r->next;
    else
        a->recs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    rec_free(r);
    /* After the unlock, archive_destroy may free `a`: nothing touches it below. */
    if (--a->live == 0)
        pthread_cond_broadcast(&a->idle);
    pthread_mutex_unlock(&a->lock);
}

/* Opens the engine stream for `r` and links it (lock held). */
static int start_stream(struct archive *a, struct archive_rec *r,
                        const struct archive_stream_info *info, const char *abs, int64_t now_us)
{
    struct mjr_stream_opts o = {.path = abs, .sha256 = true, .on_closed = on_closed, .ud = r};
    o.info.kind = info->kind;
    o.info.codec = info->codec;
    o.info.fmtp = info->fmtp;
    o.info.description = info->description;
    for (size_t i = 0; i < 16; i++)
        o.info.extmaps[i] = info->extmaps[i];
    o.info.e2ee = info->e2ee;
    o.info.created_us = now_us;
    int rc = mjr_stream_open(a->engine, &o, &r->stream);
    if (rc < 0)
        return rc;
    r->next = a->recs;
    if (a->recs)
        a->recs->prev = r;
    a->recs = r;
    a->live++;
    return 0;
}

static void post_opened(struct archive *a, const struct archive_rec *r,
                        const struct archive_stream_info *info, int64_t now_us)
{
    struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                               .at_us = now_us,
                               .room = info->room,
                               .participant = info->participant,
                               .display = info->display,
                               .kind_name = mjr_kind_name(info->kind),
                               .mindex = info->mindex,
                               .mid = info->mid,
                               .codec = info->codec,
                               .description = info->description,
                               .path = r->rel_path};
    int rc = catalog_post(a->catalog, &ev);
    if (rc < 0)
        vb_log_error(a->log, "archive: catalog refused the opening of %s: %s", r->rel_path,
                     strerror(-rc));
}

int archive_rec_open(struct archive *a, const struct archive_stream_info *info,
                     struct archive_rec **out)
{
    if (!a || !out || !info_valid(info))
        return -EINVAL;
    int64_t now_us = vb_clock_real_us();
    char *name = file_name(info, now_us);
    if (strlen(name) > ARCHIVE_FILE_NAME_MAX) {
        free(name);
        return -EINVAL;
    }
    char *dir = archive_printf("%s/%s/%s", a->data_dir, ARCHIVE_RECORDINGS, info->room);
    struct archive_rec *r = xcalloc(1, sizeof(*r));
    r->a = a;
    r->rel_path = archive_printf("%s/%s/%s", ARCHIVE_RECORDINGS, info->room, name);
    char *abs = archive_join(a->data_dir, r->rel_path);
    int rc = vb_mkdir_p(dir, ARCHIVE_DIR_MODE);
    if (rc < 0) {
        vb_log_error(a->log, "archive: cannot create %s: %s", dir, strerror(-rc));
        goto out_free;
    }
    pthread_mutex_lock(&a->lock);
    rc = name_free(a, r->rel_path, abs);
    if (rc == 0)
        rc = start_stream(a, r, info, abs, now_us);
    if (rc == 0)
        post_opened(a, r, info, now_us);
    pthread_mutex_unlock(&a->lock);
out_free:
    free(abs);
    free(dir);
    free(name);
    if (rc < 0) {
        rec_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int archive_rec_write_rtp(struct archive_rec *r, const uint8_t *pkt, size_t len)
{
    return mjr_stream_write_rtp(r->stream, pkt, len);
}

int archive_rec_write_data(struct archive_rec *r, const uint8_t *msg, size_t len)
{
    return mjr_stream_write_data(r->stream, msg, len);
}

void archive_rec_pause(struct archive_rec *r)
{
    mjr_stream_pause(r->stream);
}

void archive_rec_resume(struct archive_rec *r)
{
    mjr_stream_resume(r->stream);
}

const char *archive_rec_path(const struct archive_rec *r)
{
    return r->rel_path;
}

void archive_rec_close(struct archive_rec *r)
{
    if (!r)
        return;
    struct archive *a = r->a;
    pthread_mutex_lock(&a->lock);
    bool already = r->closed;
    r->closed = true;
    struct mjr_stream *s = r->stream;
    pthread_mutex_unlock(&a->lock);
    /* From here on_closed may run and free r. */
    if (!already)
        mjr_stream_close(s);
}
