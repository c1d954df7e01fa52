/* gateway/videoroom/vr_forward.h — RTP forwarders of the VideoRoom (forward.c): a publisher's
 * streams sent as plain RTP over UDP to an address a request gives (`rtp_forward`), listed by
 * `listforwarders` and removed by `stop_rtp_forward`, as Janus 1.1.2 does. Included by
 * vr_internal.h; not for other modules.
 *
 * Threads: the requests run on request threads (synchronous plugin requests); the send runs on
 * the publisher's media thread under its feed lock and never blocks (non-blocking sendto; a
 * full socket buffer drops the packet and counts it). */
#ifndef VB_GATEWAY_VIDEOROOM_FORWARD_H
#define VB_GATEWAY_VIDEOROOM_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct vr;
struct vr_err;
struct vr_forwarder;
struct vr_feed_stream;

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

#endif
