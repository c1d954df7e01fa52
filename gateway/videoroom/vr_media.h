/* gateway/videoroom/vr_media.h — the VideoRoom's media plane, shared by its files (included by
 * vr_internal.h). Not for other modules.
 *
 * A publisher's `struct vr_feed` holds one `struct vr_feed_stream` per negotiated m-line (its
 * codec, payload type, extension ids, its recorder, and the subscriber streams fed from it). A
 * subscriber owns `struct vr_sub_stream`s, one per m-line of its PeerConnection, each fed by one
 * publisher stream (or none: a disabled m-line).
 *
 * Threads and locks: the publisher's packets arrive on its media loop thread, which takes
 * feed->lock for the packet (uncontended but by control changes of the same publisher: no lock
 * is shared between rooms or publishers on the media path), writes the recorder and sends to
 * every attached subscriber stream. A subscriber stream's forwarding state (`sw`, `sc`) is
 * touched only under the lock of the feed it is attached to. The control plane attaches and
 * detaches subscriber streams under that lock, and changes the lists of streams under the
 * room's lock. Lock order: room->lock -> feed->lock (never the reverse). Disk work (opening and
 * closing recorders) happens on worker threads with no lock held but feed->lock for the pointer
 * swap. */
#ifndef VB_GATEWAY_VIDEOROOM_MEDIA_H
#define VB_GATEWAY_VIDEOROOM_MEDIA_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "archive/archive.h"
#include "gateway/rtp/switch.h"

#define VR_MAX_STREAMS 16 /* m-lines of one PeerConnection (the media layer's limit) */

struct vr;
struct vr_participant;
struct vr_subscriber;
struct vr_sub_stream;
struct vr_err;

/* What both sides keep of a negotiated m-line. */
struct vr_media_desc {
    enum mjr_kind kind;
    char mid[32];
    char codec[16]; /* lowercase ("opus", "vp8", ...) */
    int pt;         /* the publisher's payload type */
    uint32_t clock_rate;
    unsigned channels;
    char fmtp[256];
    enum gw_video_codec vcodec;
};

struct vr_feed_stream {
    bool active; /* negotiated and accepted (under feed->lock) */
    int mindex;
    struct vr_media_desc d;
    int ext_audio_level; /* the publisher's extension ids, 0 = none */
    int ext_rid;
    /* Simulcast: the substream of each packet (by SSRC, or by rid and then learnt; media
     * thread under feed->lock), and the substream recorded (the top one). */
    bool simulcast;
    struct gw_simulcast sim;
    int rec_sub;
    const char *extmaps[16];
    char *ext_uris[16]; /* owned copies behind extmaps */
    /* under feed->lock */
    struct archive_rec *rec;
    /* A video recorder starts with a keyframe (one was asked for when it opened): packets
     * before it are not written, unless none came by this time (0 = not waiting). */
    int64_t rec_wait_until_us;
    struct vr_sub_stream **subs;
    size_t nsubs, capsubs;
    struct vr_forwarder **fwds; /* rtp_forward (forward.c) */
    size_t nfwds, capfwds;
    /* media thread (under feed->lock) */
    uint32_t ssrc;       /* the publisher's, as last seen */
    int64_t last_pli_us; /* our last keyframe request to the publisher */
    bool pli_pending;    /* one was asked for too soon after it: send when the gap is over */
    bool talking;
    int level_sum, level_count;       /* audio levels over the current window */
    bool talk_event;                  /* the room sends talking events (audiolevel_event) */
    int talk_packets, talk_threshold; /* window size, average level (-dBov) that is talking */
    /* counters */
    atomic_uint_fast64_t packets, recorded, rec_drops;
};

struct vr_feed {
    pthread_mutex_t lock;
    struct vr_feed_stream streams[VR_MAX_STREAMS]; /* by the publisher's mindex */
    size_t nstreams;
    int64_t last_remb_us; /* media thread */
};

struct vr_sub_stream {
    struct vr_subscriber *sub; /* borrowed: the subscriber owns this stream */
    int mindex;
    struct vr_media_desc d;      /* d.pt: the payload type we offered */
    struct vr_participant *feed; /* referenced; NULL = no source (disabled m-line) */
    int feed_mindex;
    bool send;     /* `configure` send:false stops it */
    bool ready;    /* forwarding possible: the subscriber's PeerConnection is up */
    bool attached; /* in feed->streams[feed_mindex].subs */
    /* under the feed's lock */
    struct gw_rtp_switch sw;
    struct gw_simulcast sc; /* substream and temporal layer chosen (simulcast feeds) */
    atomic_uint_fast64_t forwarded;
};

/* ---- feed.c: a publisher's negotiation and media ---- */

void vr_feed_init(struct vr_feed *f);
/* Detaches every subscriber stream and frees what the feed owns (recorders must be closed). */
void vr_feed_destroy(struct vr_feed *f);
/* Answers a publisher's offer (the plugin-side SDP of `jsep`) with the room's codecs and the
 * body's audiocodec/videocodec preference; fills the feed's streams (replacing a previous
 * negotiation's: their recorders are returned in `closing`, to be closed by the caller) and
 * p->streams. Room lock held. 0 with *answer (a new jsep), or the error code (e filled). */
int vr_feed_negotiate(struct vr *v, struct vr_participant *p, const json_t *jsep,
                      const json_t *body, json_t **answer, struct vr_err *e);
/* Unpublishes the feed's streams: they stop, their subscriber streams are detached and their
 * subscribers collected (referenced, to be told) into *subs. Room lock held. */
void vr_feed_stop(struct vr_participant *p, struct vr_subscriber ***subs, size_t *nsubs);
/* A keyframe request (PLI) to the publisher on its m-line `mindex`, at most one per 500 ms.
 * Any thread. */
void vr_feed_request_keyframe(struct vr *v, struct vr_participant *p, int mindex);
/* Every video stream of the feed (the publisher's PeerConnection came up). */
void vr_feed_request_keyframes(struct vr *v, struct vr_participant *p);
/* The media hooks of a publisher (its media thread). */
void vr_feed_incoming_rtp(struct vr *v, struct vr_participant *p, int mindex, const uint8_t *pkt,
                          size_t len);
void vr_feed_incoming_rtcp(struct vr *v, struct vr_participant *p, int mindex, const uint8_t *pkt,
                           size_t len);
/* handle_info's per-stream media part of a publisher (recording, file, counters). */
void vr_feed_info(struct vr_participant *p, json_t *streams);

/* ---- talking.c: audio levels ---- */

/* One audio packet of stream `fs` (media thread, feed lock held): true when the talking state
 * changed at the end of a window (*avg: the window's average level in -dBov). */
bool vr_talk_packet(struct vr_feed_stream *fs, const uint8_t *pkt, size_t len, int *avg);
/* Tells every participant of the room (the talker too). No lock held. */
void vr_talk_notify(struct vr *v, struct vr_participant *p, int mindex, const char *mid,
                    bool talking, int avg);

/* ---- feed_rec.c: recording ---- */

/* Opens or closes the feed's recorders so they match what the room and the publisher want
 * (recording on, the streams negotiated). Worker or request thread, no lock held: it takes the
 * room's lock to read, opens files with none, and feed->lock to install them. */
void vr_feed_rec_update(struct vr *v, struct vr_participant *p);
/* Closes every recorder of the feed (files finished by the archive's writer). No lock held. */
void vr_feed_rec_stop(struct vr *v, struct vr_participant *p);
/* The catalog's participant lifecycle (no lock held; no-op without an archive). */
void vr_rec_participant_joined(struct vr *v, struct vr_participant *p);
void vr_rec_participant_left(struct vr *v, struct vr_participant *p);

/* ---- subscribe.c: subscribers ---- */

/* Builds the subscriber's streams from a `streams` list (checked by vr_subscription_check),
 * attaching them, and the `attached` event with its offer. Room lock held. */
json_t *vr_sub_join(struct vr *v, struct vr_subscriber *sub, const json_t *feeds, json_t **offer,
                    struct vr_err *e);
/* subscribe / unsubscribe / update / switch / configure / start / pause of a subscriber. Room
 * lock held; the event, *jsep (NULL or a new offer). */
json_t *vr_sub_request(struct vr *v, struct vr_subscriber *sub, const char *request,
                       const json_t *body, const json_t *jsep, json_t **jsep_out, struct vr_err *e);
/* A feed went away: its streams of `sub` are disabled and, with autoupdate, an `updated` event
 * with a new offer is pushed. No lock held. */
void vr_sub_feed_gone(struct vr *v, struct vr_subscriber *sub);
/* Detaches and frees every stream of the subscriber (leave, hangup, handle gone). Room lock
 * held. */
void vr_sub_clear(struct vr_subscriber *sub);
/* The subscriber's PeerConnection came up: forwarding starts, keyframes are requested. */
void vr_sub_media_up(struct vr *v, struct vr_subscriber *sub);
/* Feedback from the subscriber (its media thread): PLI/FIR become keyframe requests to the
 * feed. */
void vr_sub_incoming_rtcp(struct vr *v, struct vr_subscriber *sub, int mindex, const uint8_t *pkt,
                          size_t len);
/* handle_info's / events' `streams` of a subscriber (room lock held). New reference. */
json_t *vr_sub_streams_json(const struct vr_subscriber *sub);

#endif
