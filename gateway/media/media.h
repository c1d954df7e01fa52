/* gateway/media/media.h — the media layer: one PeerConnection per handle that negotiated media,
 * tying ICE (gateway/ice), DTLS (gateway/dtls), SRTP (gateway/srtp), RTP/RTCP (gateway/rtp) and
 * SDP (gateway/sdp) to a core handle and its plugin.
 *
 * A `struct gw_media` is created once by the server (serve) with the media loops, the ICE
 * configuration and the DTLS certificate (all borrowed: they must outlive it), and given to the
 * core as its `struct gw_media_ops` (gw_core_config.media_ops). The core then calls it for every
 * jsep, trickle, hangup and detach, and plugins reach it through relay_rtp/relay_rtcp. Destroy
 * it after the core (gw_core_destroy detaches every handle, which frees every PeerConnection).
 *
 * Threads: the ops may be called from any thread. Each PeerConnection lives on one media loop
 * (ice_loops_pick): ICE, DTLS, SRTP unprotect, RTCP timers and the plugin's setup_media /
 * incoming_rtp / incoming_rtcp hooks all run on that loop's thread. Sending (relay_rtp) may
 * happen from any thread; it never blocks. */
#ifndef VB_GATEWAY_MEDIA_H
#define VB_GATEWAY_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "common/log.h"
#include "gateway/core.h"

struct gw_media;
struct ice_loops;
struct ice_config;
struct dtls_cert;

struct gw_media_config {
    struct ice_loops *loops;      /* borrowed */
    const struct ice_config *ice; /* borrowed, prepared */
    struct dtls_cert *cert;       /* borrowed */
    unsigned no_media_timer_s;    /* `media` receiving:false after this long; 0 = 1 */
    unsigned slowlink_threshold;  /* lost packets per second for `slowlink`; 0 = 4 */
    unsigned gather_wait_ms;      /* how long an answer waits for our candidates; 0 = 2000 */
    /* Our a=setup when answering an "actpass" offer: false = "active" (we are the DTLS client,
     * as Janus), true = "passive" (the peer is the client and offers its SRTP profiles:
     * browsers then put AEAD-GCM first). */
    bool answer_passive;
    const struct vb_log *log; /* borrowed; may be NULL */
};

/* 0 or -EINVAL. The caller owns *out. */
int gw_media_create(const struct gw_media_config *cfg, struct gw_media **out);
/* NULL is a no-op. Every PeerConnection must be gone (the core destroyed) before. */
void gw_media_destroy(struct gw_media *m);
/* The ops for gw_core_config.media_ops; valid as long as `m`. */
const struct gw_media_ops *gw_media_ops(struct gw_media *m);
/* PeerConnections alive now. Any thread. */
unsigned gw_media_pc_count(struct gw_media *m);

#endif
