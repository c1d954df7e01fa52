/* gateway/videoroom/vr_forward.h — RTP forwarders of the VideoRoom (forward.c): a publisher's
 * streams sent as plain RTP over UDP to an address a request gives (`rtp_forward`), listed by
 * `listforwarders` and removed by `stop_rtp_forward`, as Janus 1.1.2 does; and the forwarders
 * of a remotization (`publish_remotely`, cascading to another instance). Included by
 * vr_internal.h; not for other modules.
 *
 * Threads: the requests run on request threads (synchronous plugin requests); the send runs on
 * the publisher's media thread under its feed lock and never blocks (non-blocking sendto; a
 * full socket buffer drops the packet and counts it). */
#ifndef VB_GATEWAY_VIDEOROOM_FORWARD_H
#define VB_GATEWAY_VIDEOROOM_FORWARD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

struct vr;
struct vr_err;
struct vr_forwarder;
struct vr_feed_stream;
struct vr_participant;

/* Janus's lock_rtp_forward: with the plugin's admin_key set and lock_rtp_forward on, the body
 * must carry it as "admin_key" (429 / 430 / 433). 0 or the code. */
int vr_fwd_admin_check(const struct vr *v, const json_t *body, struct vr_err *e);
/* The synchronous requests (reply, or NULL with e filled). */
json_t *vr_req_rtp_forward(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_stop_rtp_forward(struct vr *v, json_t *body, struct vr_err *e);
json_t *vr_req_listforwarders(struct vr *v, json_t *body, struct vr_err *e);

/* Sends one packet of the publisher (as received, plain RTP) to every forwarder of the stream,
 * never blocking (a packet the socket does not take at once is dropped and counted). Returns
 * true when the receiver of a video forwarder asked for a keyframe (PLI or FIR on its
 * rtcp_port): the caller then calls vr_feed_request_keyframe() for the stream once the feed
 * lock is released. Media thread, feed lock held. */
bool vr_forwarders_send(struct vr_feed_stream *fs, const uint8_t *pkt, size_t len);
/* Closes and frees every forwarder of the stream (the publisher stopped). The `fwds` array
 * stays allocated (the publisher stays in listforwarders, with no forwarders, until it leaves,
 * as in Janus); the feed's owner frees it. Feed lock held. */
void vr_forwarders_clear(struct vr_feed_stream *fs);
/* handle_info's view of the stream's forwarders: [{stream_id, type, host, port, ..., packets,
 * dropped, keyframe_requests}] (a new reference; [] when none). Feed lock held. */
json_t *vr_forwarders_info(const struct vr_feed_stream *fs);

/* ---- remotizations: publish_remotely's forwarders (the requests are in remote.c) ---- */

/* The SSRC a remotized stream is sent with: VR_REMOTE_BASE_SSRC + mindex * VR_REMOTE_SSRC_STEP
 * (+ the substream for simulcast), Janus's numbering, by which the receiving instance (a remote
 * publisher, remote.c) tells the streams apart on its one port. */
#define VR_REMOTE_BASE_SSRC 1000u
#define VR_REMOTE_SSRC_STEP 10u

/* Where a remotization goes: publish_remotely's host, host_family, port, rtcp_port,
 * srtp_suite and srtp_crypto, checked as rtp_forward checks its own (numeric or "localhost"
 * hosts, loopback or this namespace's addresses only, ports within 1..65535). */
struct vr_fwd_dest {
    char host[INET6_ADDRSTRLEN]; /* numeric */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    uint16_t port, rtcp_port; /* rtcp_port 0 = none */
    int srtp_profile;         /* 0 = plain RTP */
    uint8_t srtp_key[30];     /* master key + salt; wiped by vr_fwd_dest_clear() */
};

/* A request's srtp_suite + srtp_crypto (both, or neither: *profile 0, plain RTP): 430 "Invalid
 * SRTP suite (N)" unless 32 or 80, 430 unless the crypto is the base64 of a 30-byte master key
 * and salt (into key[30]). 0 or the code. Any thread. */
int vr_fwd_srtp_parse(const json_t *body, int *profile, uint8_t *key, struct vr_err *e);
/* Fills *d from the request body (its members' types already checked), in Janus's order
 * (SRTP suite, port, family, address). 0 or the error code (e filled). Any thread. */
int vr_fwd_dest_parse(const json_t *body, struct vr_fwd_dest *d, struct vr_err *e);
void vr_fwd_dest_clear(struct vr_fwd_dest *d);
/* One forwarder to `d` per active stream of `p`, tagged `remote_id` (copied): SSRC as above,
 * payload type as received, the RTCP port on the first video stream only; a keyframe request
 * arriving there for another stream (by SSRC) asks that stream's publisher. *video_mask gets a
 * bit per video mindex: the caller asks those streams for a keyframe once its locks are
 * released. Room lock held (takes the feed lock). 0, or the code with nothing created. */
int vr_forwarders_add_remote(struct vr_participant *p, const char *remote_id,
                             const struct vr_fwd_dest *d, uint32_t *video_mask, struct vr_err *e);
/* Stops and frees the forwarders tagged `remote_id`; how many there were. Any thread, no feed
 * lock held (takes it). */
size_t vr_forwarders_remove_remote(struct vr_participant *p, const char *remote_id);

#endif
