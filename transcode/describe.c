/* This file implements transcode_describe(): one pass over a recording through the same
 * track pipeline a conversion uses (so the counts agree with what would be written),
 * measuring packets, time span and, for video, the resolution of every keyframe that
 * changes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcode/track.h"

static void note_resolution(struct tc_description *d, const struct tc_track *t,
                            const struct tc_frame *f)
{
    if (!f->key || f->width <= 0)
        return;
    if (d->n_resolutions > 0) {
        const struct tc_resolution_change *last = &d->resolutions[d->n_resolutions - 1];
        if (last->width == f->width && last->height == f->height)
            return;
    }
    if (d->n_resolutions == sizeof(d->resolutions) / sizeof(d->resolutions[0]))
        return;
    d->resolutions[d->n_resolutions++] = (struct tc_resolution_change){
        .at_s = (double)f->pts / (double)t->clock_rate, .width = f->width, .height = f->height};
}

int transcode_describe(const char *path, const struct tc_options *o, struct tc_description *d,
                       char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    struct tc_track *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    int rc = tc_track_open(t, path, o, err, errlen);
    if (rc < 0) {
        free(t);
        return rc;
    }
    snprintf(d->codec, sizeof(d->codec), "%s", t->codec);
    d->kind = mjr_kind_letter(t->kind)[0];
    struct tc_frame f;
    if (t->kind == MJR_KIND_DATA) {
        int64_t last = 0;
        while (tc_track_next(t, &f, err, errlen) == 1) {
            d->packets++;
            last = f.pts;
        }
        d->duration_s = (double)last / 1e6;
    } else {
        if (t->kind == MJR_KIND_VIDEO) {
            while (tc_track_next(t, &f, err, errlen) == 1)
                note_resolution(d, t, &f);
        } else {
            while (tc_track_next(t, &f, err, errlen) == 1)
                ;
        }
        d->packets = t->ro.st.out;
        d->duration_s =
            t->have_origin ? (double)(t->last_ts - t->origin_ts) / (double)t->clock_rate : 0;
        d->ssrc = t->ssrc;
    }
    d->st = t->st;
    d->st.duplicates += t->ro.st.duplicates;
    d->st.late += t->ro.st.late;
    d->st.lost += t->ro.st.lost;
    tc_track_close(t);
    free(t);
    return 0;
}
