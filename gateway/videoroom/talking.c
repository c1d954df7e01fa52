/* This file implements the VideoRoom's `talking` / `stopped-talking` events: a publisher's audio
 * levels (the RFC 6464 audio-level header extension) averaged over windows of
 * `audio_active_packets` packets; a window whose average is louder than `audio_level_average`
 * (in -dBov: lower is louder) starts talking, a quieter one stops it, as Janus decides it.
 *
 * DESIGN: the averaging runs on the publisher's media thread under the feed's lock and only
 * reports a change; the event goes out from the same thread once that lock is released, under
 * the room's lock just long enough to queue it for every participant. */
#include <stdio.h>

#include "gateway/rtp/rtp.h"
#include "gateway/videoroom/vr_internal.h"

bool vr_talk_packet(struct vr_feed_stream *fs, const uint8_t *pkt, size_t len, int *avg)
{
    (void)len;
    struct gw_rtp_hdr h;
    size_t off = 0, n = 0;
    bool vad = false;
    uint8_t level = 127;
    if (!fs->talk_event || fs->ext_audio_level <= 0 || gw_rtp_parse(pkt, len, &h) < 0 ||
        !h.extension || gw_rtp_ext_find(pkt, &h, (uint8_t)fs->ext_audio_level, &off, &n) < 0 ||
        gw_rtp_ext_audio_level(pkt + off, n, &vad, &level) < 0)
        return false;
    fs->level_sum += level;
    if (++fs->level_count < fs->talk_packets)
        return false;
    *avg = fs->level_sum / fs->level_count;
    fs->level_sum = fs->level_count = 0;
    bool talking = *avg < fs->talk_threshold;
    if (talking == fs->talking)
        return false;
    fs->talking = talking;
    return true;
}

void vr_talk_notify(struct vr *v, struct vr_participant *p, int mindex, const char *mid,
                    bool talking, int avg)
{
    struct vr_room *r = p->room;
    struct vr_outbox o = {0};
    pthread_mutex_lock(&r->lock);
    if (p->in_room) {
        json_t *ev = json_pack("{s:s, s:I, s:I, s:i, s:s, s:f}", "videoroom",
                               talking ? "talking" : "stopped-talking", "room", (json_int_t)r->id,
                               "id", (json_int_t)p->id, "mindex", mindex, "mid", mid,
                               "audio-level-dBov-avg", (double)avg);
        for (struct vr_participant *q = r->participants; q; q = q->next)
            vr_outbox_add(&o, q->h, json_deep_copy(ev)); /* the talker hears it too, as Janus */
        json_decref(ev);
    }
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, &o);
}
