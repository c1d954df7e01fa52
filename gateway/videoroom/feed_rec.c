/* This file implements recording in the VideoRoom: a publisher's streams are recorded through the
 * archive (one MJR per stream, named as Janus's VideoRoom names them, indexed in the catalog)
 * whenever its room records (`record`, `enable_recording`, or the server's record_all) or the
 * publisher asked to (`record` in configure); and the catalog hears when participants join and
 * leave.
 *
 * DESIGN: recorders are opened on the thread that changed what is wanted (a worker after an
 * answer, the request thread of enable_recording), never on a media thread, and with no room or
 * feed lock held while the file is created; only the pointer swap takes the feed's lock. A
 * participant's rec_lock serializes those changes. A stream whose feed stopped meanwhile refuses
 * the new recorder (closed at once), and vr_feed_stop() closes the recorders when a publisher
 * stops, so a file is open exactly while its stream is published and wanted. Video recorders
 * open with a keyframe request so the file starts decodable. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/videoroom/vr_internal.h"

#define REC_KEYFRAME_WAIT_US 3000000 /* a video file waits this long at most for a keyframe */

/* What one stream's recorder needs, copied under the room's lock. */
struct rec_want {
    bool want;
    struct archive_stream_info info;
    struct vr_media_desc d;
    int mindex;
    const char *extmaps[16];
};

/* Reads what should be recorded (room lock held by the caller). */
static size_t rec_plan(struct vr_participant *p, bool record, char *room, char *pid, char *display,
                       size_t dsize, char *base, size_t bsize, struct rec_want *w)
{
    struct vr_feed *f = &p->feed;
    snprintf(room, 32, "%" PRIu64, p->room->id);
    snprintf(pid, 32, "%" PRIu64, p->id);
    snprintf(display, dsize, "%s", p->display ? p->display : "");
    snprintf(base, bsize, "%s", p->rec_base ? p->rec_base : "");
    pthread_mutex_lock(&f->lock);
    size_t n = f->nstreams;
    for (size_t i = 0; i < n; i++) {
        const struct vr_feed_stream *fs = &f->streams[i];
        w[i].want = record && fs->active;
        w[i].d = fs->d;
        w[i].mindex = fs->mindex;
        memcpy(w[i].extmaps, fs->extmaps, sizeof w[i].extmaps);
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* Installs `rec` on stream i if it still wants one; else closes it. True when installed. */
static bool rec_install(struct vr_feed *f, size_t i, struct archive_rec *rec)
{
    pthread_mutex_lock(&f->lock);
    struct vr_feed_stream *fs = &f->streams[i];
    bool ok = fs->active && !fs->rec;
    if (ok) {
        fs->rec = rec;
        fs->rec_wait_until_us =
            fs->d.kind == MJR_KIND_VIDEO ? vb_clock_mono_us() + REC_KEYFRAME_WAIT_US : 0;
    }
    pthread_mutex_unlock(&f->lock);
    if (!ok)
        archive_rec_close(rec);
    return ok;
}

static struct archive_rec *rec_take(struct vr_feed *f, size_t i)
{
    pthread_mutex_lock(&f->lock);
    struct archive_rec *rec = f->streams[i].rec;
    f->streams[i].rec = NULL;
    pthread_mutex_unlock(&f->lock);
    return rec;
}

static bool rec_has(struct vr_feed *f, size_t i)
{
    pthread_mutex_lock(&f->lock);
    bool has = f->streams[i].rec != NULL;
    pthread_mutex_unlock(&f->lock);
    return has;
}

void vr_feed_rec_update(struct vr *v, struct vr_participant *p)
{
    if (!v->archive)
        return;
    struct rec_want w[VR_MAX_STREAMS];
    char room[32], pid[32], display[256], base[256];
    pthread_mutex_lock(&p->rec_lock);
    pthread_mutex_lock(&p->room->lock);
    /* The publisher's own switch (set from the room's at join, changed by its configure and by
     * enable_recording), as Janus; compliance mode cannot be turned off. */
    bool record = p->in_room && p->publishing && (p->recording || v->record_all);
    size_t n = rec_plan(p, record, room, pid, display, sizeof display, base, sizeof base, w);
    pthread_mutex_unlock(&p->room->lock);
    bool video_opened = false;
    for (size_t i = 0; i < n; i++) {
        bool has = rec_has(&p->feed, i);
        if (!w[i].want && has) {
            archive_rec_close(rec_take(&p->feed, i));
            continue;
        }
        if (!w[i].want || has)
            continue;
        struct archive_stream_info info = {.room = room,
                                           .participant = pid,
                                           .display = display[0] ? display : NULL,
                                           .kind = w[i].d.kind,
                                           .mindex = w[i].mindex,
                                           .mid = w[i].d.mid,
                                           .codec = w[i].d.codec,
                                           .fmtp = w[i].d.fmtp[0] ? w[i].d.fmtp : NULL,
                                           .base_name = base[0] ? base : NULL};
        memcpy(info.extmaps, w[i].extmaps, sizeof info.extmaps);
        struct archive_rec *rec = NULL;
        int err = archive_rec_open(v->archive, &info, &rec);
        if (err < 0) {
            vb_log_warn(v->log, "videoroom: room %s: cannot record stream %d of %s: %s", room,
                        w[i].mindex, pid, strerror(-err));
            continue;
        }
        if (rec_install(&p->feed, i, rec) && w[i].d.kind == MJR_KIND_VIDEO)
            video_opened = true;
    }
    pthread_mutex_unlock(&p->rec_lock);
    if (video_opened)
        vr_feed_request_keyframes(v, p);
}

void vr_feed_rec_stop(struct vr *v, struct vr_participant *p)
{
    (void)v;
    pthread_mutex_lock(&p->rec_lock);
    for (size_t i = 0; i < VR_MAX_STREAMS; i++) {
        struct archive_rec *rec = rec_take(&p->feed, i);
        if (rec)
            archive_rec_close(rec);
    }
    pthread_mutex_unlock(&p->rec_lock);
}

void vr_rec_participant_joined(struct vr *v, struct vr_participant *p)
{
    if (!v->archive)
        return;
    char room[32], pid[32];
    snprintf(room, sizeof room, "%" PRIu64, p->room->id);
    snprintf(pid, sizeof pid, "%" PRIu64, p->id);
    archive_participant_joined(v->archive, room, pid, p->display);
}

void vr_rec_participant_left(struct vr *v, struct vr_participant *p)
{
    if (!v->archive)
        return;
    char room[32], pid[32];
    snprintf(room, sizeof room, "%" PRIu64, p->room->id);
    snprintf(pid, sizeof pid, "%" PRIu64, p->id);
    archive_participant_left(v->archive, room, pid);
}
