/* gateway/media/media_internal.h — the PeerConnection, shared by the files of gateway/media/.
 * Not for other modules.
 *
 * Ownership: a `struct gw_pc` is reference counted. The handle's link (gw_handle_set_media)
 * holds one reference, every task queued to the loop holds one, and a sender holds one for the
 * duration of a send. The loop-side objects (ICE agent, DTLS endpoint, timers) are torn down on
 * the loop by pc_teardown; the memory (and the SRTP session senders may still use) goes with
 * the last reference.
 *
 * Fields marked (L) are guarded by pc->lock; (loop) are touched only on the PC's loop thread;
 * (once) are written before the PC is shared or under the lock once, then only read. */
#ifndef VB_GATEWAY_MEDIA_INTERNAL_H
#define VB_GATEWAY_MEDIA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "gateway/core.h"
#include "gateway/dtls/dtls.h"
#include "gateway/ice/ice.h"
#include "gateway/media/media.h"
#include "gateway/media/pcap.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/rtp/rtp.h"
#include "gateway/rtp/twcc.h"
#include "gateway/sdp/sdp.h"
#include "gateway/srtp/srtp.h"

#define PC_MAX_STREAMS 16
#define PC_LOCK_STRIPES 64
#define PC_MAX_RTX_PTS 8
#define PC_TICK_MS 50   /* NACKs go out at this pace; reports every 20 ticks */
#define PC_LAYERS 3     /* simulcast substreams of one m-line */
#define PC_DTLS_EARLY 8 /* DTLS datagrams kept until ICE can send them */

struct gw_media {
    struct gw_media_config cfg;
    struct gw_media_ops ops;
    /* Striped locks guarding the handle -> PC link while a reference is taken. */
    pthread_mutex_t link[PC_LOCK_STRIPES];
    atomic_uint pcs;
};

/* One RTP stream the peer sends on an m-line: its SSRC (and RTX SSRC), receive statistics and
 * NACK state. An m-line has one, or up to PC_LAYERS with simulcast (one per substream). (loop) */
struct pc_layer {
    uint32_t ssrc, rtx_ssrc; /* 0 = not known yet */
    char rid[17];            /* its rtp-stream-id, when the peer named it */
    bool rx_stats_on;
    struct gw_rtp_rx_stats rx;
    struct gw_nack_gen nack; /* gaps in what we receive */
    uint64_t given_up_seen;  /* NACK gaps given up, at the last look */
    int64_t last_pli_us;     /* our last keyframe request */
};

/* One m-line of the negotiation. */
struct pc_stream {
    int mindex;
    bool video, active;    /* active: not rejected (port != 0) */
    bool we_send, we_recv; /* from our answer's / offer's direction */
    char mid[32];
    uint32_t ssrc_local;  /* our outgoing SSRC on this m-line (once) */
    uint32_t ssrc_remote; /* the peer's (its first layer's), from the SDP or learned (loop) */
    uint32_t clock_rate;  /* of its first codec */
    struct pc_layer layers[PC_LAYERS]; /* (loop) layers[0].ssrc == ssrc_remote */
    size_t n_layers;                   /* (loop) layers known */
    bool simulcast;                    /* the peer sends several substreams (rids or SIM) */
    int rid_ext, rrid_ext;             /* the peer's rtp-stream-id / repaired ids, 0 = none */
    bool pt_known[128];                /* the peer's payload types on this m-line */
    int rtx_pt[PC_MAX_RTX_PTS];        /* the peer's RTX payload types and their apt */
    int rtx_apt[PC_MAX_RTX_PTS];
    size_t n_rtx;
    /* receive side (loop) */
    bool receiving;
    int64_t last_rx_us;
    /* send side: retransmissions and SR sender info, under send_lock */
    pthread_mutex_t send_lock;
    struct gw_rtx_buffer *rtx; /* created with the stream (once); NULL when we do not send */
    struct gw_rtp_tx_stats tx;
    bool tx_on;
    /* counters for handle_info (atomic: senders and the loop) */
    atomic_uint_fast64_t pkts_in, bytes_in, pkts_out, bytes_out, nacks_in, plis_in;
    atomic_uint_fast64_t nacks_out, retransmitted;
    atomic_uint_fast64_t nacked_seqs_in;   /* sequence numbers the peer asked us for */
    uint64_t slow_prev_up, slow_prev_down; /* (loop) the counters at the last check */
    atomic_uint_fast64_t plis_out;
};

struct gw_pc {
    atomic_int refs;
    struct gw_media *m;
    struct gw_handle *h; /* referenced (once) */
    struct ice_loop *loop;
    struct ice_agent *agent;             /* our own reference, dropped at free (once) */
    struct dtls_endpoint *dtls;          /* (loop) */
    struct ice_timer *dtls_timer, *tick; /* (loop) */
    _Atomic(struct vb_srtp *) srtp;      /* set once when DTLS is up; freed at free */
    bool controlling;                    /* (once) we offered first */
    unsigned ticks;                      /* (loop) */
    /* (loop) DTLS datagrams produced before ICE could send (a ClientHello answered while our
     * side still checks pairs): sent as soon as ICE connects, instead of at the next DTLS
     * retransmission a second later. */
    /* Transport-wide congestion control feedback: the extension id our description agreed to
     * (0 = none; set with each local description) and the arrivals (loop; allocated when the
     * first numbered packet comes). */
    atomic_int twcc_ext;
    struct gw_twcc_rx *twcc;
    uint8_t *dtls_early[PC_DTLS_EARLY];
    size_t dtls_early_len[PC_DTLS_EARLY];
    size_t n_dtls_early;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    json_t *local_cands;    /* (L) "candidate:..." strings gathered so far */
    bool gathered;          /* (L) */
    bool local_sent;        /* (L) our SDP went out: later candidates are trickled */
    bool remote_set;        /* (L) the peer's credentials and fingerprint are known */
    bool closed;            /* (L) hung up or detached: no new work */
    char *remote_sdp;       /* (L) the last remote description as received */
    char *local_sdp;        /* (L) the last local description as sent */
    uint64_t local_version; /* (L) o= version of our last description */
    enum dtls_role role;    /* (L) */
    char fp_hash[16];       /* (L) the peer's fingerprint */
    char fp_value[192];
    struct pc_stream streams[PC_MAX_STREAMS]; /* (L) set per negotiation; counters atomic */
    size_t n_streams;
    char ice_state[16];    /* (L) for handle_info */
    char dtls_state[16];   /* (L) */
    char srtp_profile[32]; /* (L) */
    bool webrtcup;         /* (L) */
    /* pcap: the Admin API's capture (pc_pcap.c), NULL = none; pcap_users counts the threads
     * using it, which stop_pcap waits out before freeing it. */
    _Atomic(struct gw_pcap *) pcap;
    atomic_int pcap_users;
};

/* pc.c */
/* Creates a PC for `h` on a picked loop (controlling: we offered), links it to the handle and
 * starts gathering. 0 or a negative errno. */
int pc_create(struct gw_media *m, struct gw_handle *h, bool controlling, struct gw_pc **out);
/* The handle's PC with a reference (pc_unref), or NULL. Any thread. */
struct gw_pc *pc_get(struct gw_media *m, struct gw_handle *h);
void pc_ref(struct gw_pc *pc);
void pc_unref(struct gw_pc *pc);
/* Unlinks the PC from its handle and tears it down on its loop. With `reason`, queues the
 * hangup event and tells the plugin. True when a PC was there. Any thread. */
bool pc_close(struct gw_media *m, struct gw_handle *h, const char *reason, bool tell_plugin);
/* Applies the remote description's ICE credentials and candidates (`cands`: a JSON array of
 * strings, stolen) on the loop, then prepares DTLS and adds the queued trickles. The caller set
 * remote_set, role and fingerprint under the lock first. */
void pc_apply_remote_task(struct gw_pc *pc, const char *ufrag, const char *pwd, json_t *cands,
                          bool end_of_candidates);
/* Adds queued trickle candidates (the handle's queue) once the remote credentials are known. */
void pc_drain_trickles(struct gw_pc *pc);
/* ICE restart on a new remote offer: new local credentials (read them for the answer), our
 * candidates gathered again; DTLS and SRTP stay. Any thread. */
void pc_ice_restart(struct gw_pc *pc);
/* Waits up to `ms` for gathering to end. */
void pc_wait_gathered(struct gw_pc *pc, unsigned ms);

/* pc_media.c */
/* A datagram from ICE (loop). */
void pc_recv(struct gw_pc *pc, uint8_t *buf, size_t len);
/* Plain RTP / RTCP out on m-line `mindex`. Any thread. */
int pc_send_rtp(struct gw_pc *pc, int mindex, const uint8_t *pkt, size_t len);
int pc_send_rtcp(struct gw_pc *pc, int mindex, const uint8_t *pkt, size_t len);
/* The periodic work (loop): RTCP receiver reports, the no-media timer. */
void pc_tick(struct gw_pc *pc);

/* media.c: a random non-zero SSRC. */
uint32_t media_random_ssrc(void);

/* Frees what the streams own (retransmission buffers, locks). */
void pc_streams_free(struct gw_pc *pc);

/* pc_pcap.c: the Admin API's start_pcap / stop_pcap. */
/* Captures a plain packet when a capture runs (one atomic load when none). Any thread. */
void pc_pcap_packet(struct gw_pc *pc, enum gw_pcap_dir dir, bool rtcp, const uint8_t *pkt,
                    size_t len);
/* handle_info's "dump-to-pcap", "pcap-file" and "pcap-stats" while a capture runs. */
void pc_pcap_info(struct gw_pc *pc, json_t *info);
/* The ops start_pcap / stop_pcap (ctx: the struct gw_media). */
int media_start_pcap(void *ctx, struct gw_handle *h, const char *path, size_t truncate);
int media_stop_pcap(void *ctx, struct gw_handle *h);
/* Ends a capture still running when the PC is freed (without waiting for the disk). */
void pc_pcap_free(struct gw_pc *pc);

/* media_sdp.c */
/* The streams of a negotiation from the remote (or our) description. Called with pc->lock. */
void pc_streams_from_sdp(struct gw_pc *pc, const struct sdp *remote);
/* handle_info's webrtc part. */
void pc_info(struct gw_pc *pc, json_t *info);

#endif
