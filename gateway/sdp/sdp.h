/* gateway/sdp/sdp.h — SDP (RFC 8866, as WebRTC uses it) parsed into a model, written back, and
 * the offer/answer helpers of the gateway.
 *
 * The model keeps what the media plane needs in typed fields (bundle, ICE, DTLS, codecs,
 * extensions, SSRCs, simulcast, SCTP) and every other attribute verbatim, in order, so that
 * sdp_write(sdp_parse(x)) keeps all of x's information. As Janus does, an SDP from a peer is
 * anonymized before a plugin sees it (no transport details), and an SDP from a plugin gets our
 * transport merged in before the peer sees it.
 *
 * Ownership: a `struct sdp` and everything it points to is owned by whoever got it from
 * sdp_parse(), sdp_dup(), sdp_new() or a *_generate() function, and is released with sdp_free().
 * Every string in the model is a separate heap string (NUL-terminated, from xmalloc) owned by
 * the model; code that edits a model directly frees what it replaces. Limits below are hard:
 * input past them is an error, never a larger allocation.
 *
 * Threads: no shared state. A model is used by one thread at a time; the functions may be
 * called from any thread. Nothing here blocks. */
#ifndef VB_GATEWAY_SDP_H
#define VB_GATEWAY_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_LEN (64 * 1024) /* a whole SDP, in and out */
#define SDP_MAX_MEDIA 64        /* m-lines */
#define SDP_MAX_FORMATS 128     /* formats on one m-line */
#define SDP_MAX_LINE 4096       /* one line, without its CRLF */

/* RTP header extension URIs the answer helper keeps by default. */
#define SDP_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define SDP_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define SDP_EXT_REPAIRED_RID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define SDP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define SDP_EXT_VIDEO_ORIENTATION "urn:3gpp:video-orientation"
#define SDP_EXT_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define SDP_EXT_TRANSPORT_CC                                                                       \
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define SDP_EXT_PLAYOUT_DELAY "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

enum sdp_media_type {
    SDP_MEDIA_AUDIO,
    SDP_MEDIA_VIDEO,
    SDP_MEDIA_APPLICATION,
    SDP_MEDIA_OTHER, /* anything else; the name is in sdp_media.type_name */
};

/* A direction attribute. NONE: none was given (RFC 8866: sendrecv is implied). */
enum sdp_direction {
    SDP_DIR_NONE,
    SDP_DIR_SENDRECV,
    SDP_DIR_SENDONLY,
    SDP_DIR_RECVONLY,
    SDP_DIR_INACTIVE,
};

/* a=setup (RFC 4145 / 5763). NONE: not given. */
enum sdp_setup {
    SDP_SETUP_NONE,
    SDP_SETUP_ACTPASS,
    SDP_SETUP_ACTIVE,
    SDP_SETUP_PASSIVE,
    SDP_SETUP_HOLDCONN,
};

/* An attribute kept verbatim: a=name or a=name:value (value NULL for the first form). */
struct sdp_attr {
    char *name;
    char *value;
};

/* Another line kept verbatim (i=, u=, e=, p=, r=, z=, k=): its letter and what follows '='. */
struct sdp_line {
    char type;
    char *value;
};

/* a=fingerprint:<hash> <value>; hash NULL when absent. */
struct sdp_fingerprint {
    char *hash;  /* "sha-256" */
    char *value; /* "AB:CD:..." */
};

/* a=candidate (RFC 8839). `raw` is everything after "candidate:" and is what the writer writes;
 * the other fields are parsed from it. */
struct sdp_candidate {
    char *raw;
    char *foundation;
    unsigned component; /* 1..256 */
    char *transport;    /* "udp", "UDP", "tcp" as written */
    uint32_t priority;
    char *address; /* an IP address or an mDNS name */
    uint16_t port;
    char *type;  /* "host", "srflx", "prflx", "relay" */
    char *raddr; /* NULL when absent */
    int rport;   /* -1 when absent */
};

/* One payload type of an RTP m-line, from the m= formats and its a=rtpmap/fmtp/rtcp-fb. */
struct sdp_codec {
    int pt;              /* 0..127 */
    char *name;          /* encoding name as written ("opus", "VP8", "rtx"); NULL: no rtpmap */
    uint32_t clock_rate; /* from the rtpmap, 0 without one */
    unsigned channels;   /* from the rtpmap, 0 when it gives none */
    char *fmtp;          /* parameters of a=fmtp:<pt>, NULL when none */
    int apt;             /* rtx: the pt of fmtp "apt=", else -1 */
    char **fb;           /* a=rtcp-fb:<pt> values without the pt ("nack pli") */
    size_t n_fb;
};

/* a=extmap:<id>[/<direction>] <uri> [<params>] (RFC 8285). */
struct sdp_extmap {
    unsigned id; /* 1..255 or 4096..4351 */
    enum sdp_direction dir;
    char *uri;
    char *params; /* NULL when none */
};

/* a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576). */
struct sdp_ssrc {
    uint32_t ssrc;
    char *attr;  /* "cname", "msid", ... */
    char *value; /* NULL when the attribute has no value */
};

/* a=ssrc-group:<semantics> <ssrc>... ("FID", "SIM"). */
struct sdp_ssrc_group {
    char *semantics;
    uint32_t *ssrcs;
    size_t n_ssrcs;
};

/* a=rid:<id> send|recv [<params>] (RFC 8851). */
struct sdp_rid {
    char *id;
    bool recv;    /* false: send */
    char *params; /* NULL when none */
};

struct sdp_media {
    enum sdp_media_type type;
    char *type_name; /* as written: "audio", "video", "application", ... */
    uint16_t port;
    unsigned port_count;      /* the "/<n>" after the port, 0 when absent */
    char *proto;              /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... */
    bool rtp;                 /* proto has "RTP/": formats are payload types (codecs) */
    struct sdp_codec *codecs; /* rtp: one per format, in m= order */
    size_t n_codecs;
    char **fmts; /* !rtp: the formats as written */
    size_t n_fmts;

    char *connection; /* value of c= ("IN IP4 0.0.0.0"), NULL when none */
    char **bandwidth; /* values of b= lines ("AS:300") */
    size_t n_bandwidth;
    struct sdp_line *extra; /* i= and k= lines */
    size_t n_extra;

    char *mid;
    enum sdp_direction dir;
    bool rtcp_mux, rtcp_rsize, bundle_only, end_of_candidates, extmap_allow_mixed;
    char *rtcp; /* value of a=rtcp ("9 IN IP4 0.0.0.0"), NULL when none */
    char *ice_ufrag, *ice_pwd, *ice_options;
    struct sdp_fingerprint fingerprint;
    enum sdp_setup setup;
    struct sdp_candidate *cands;
    size_t n_cands;
    struct sdp_extmap *extmaps;
    size_t n_extmaps;
    char *msid; /* value of the first a=msid ("<stream> <track>") */
    struct sdp_ssrc *ssrcs;
    size_t n_ssrcs;
    struct sdp_ssrc_group *ssrc_groups;
    size_t n_ssrc_groups;
    struct sdp_rid *rids;
    size_t n_rids;
    char *simulcast;      /* value of a=simulcast ("send h;m;l"), NULL when none */
    int sctp_port;        /* a=sctp-port, -1 when none */
    int64_t max_msg_size; /* a=max-message-size, -1 when none */
    char *sctpmap;        /* value of a=sctpmap, NULL when none */

    struct sdp_attr *attrs; /* every other attribute, verbatim and in order */
    size_t n_attrs;
};

struct sdp {
    /* o=<user> <sess_id> <sess_version> <nettype> <addrtype> <addr> */
    char *origin_user;
    uint64_t sess_id, sess_version;
    char *origin_nettype, *origin_addrtype, *origin_addr;
    char *name;               /* s= */
    uint64_t t_start, t_stop; /* the first t= line */
    char *connection;         /* session-level c= value, NULL when none */
    char **bandwidth;
    size_t n_bandwidth;
    struct sdp_line *extra; /* i= u= e= p= and further t=, r=, z=, k= lines */
    size_t n_extra;

    bool bundle; /* a=group:BUNDLE present (the first one; other groups stay in attrs) */
    char **bundle_mids;
    size_t n_bundle_mids;
    char *ice_ufrag, *ice_pwd, *ice_options;
    bool ice_lite, extmap_allow_mixed;
    struct sdp_fingerprint fingerprint;
    enum sdp_setup setup;
    enum sdp_direction dir;
    char *msid_semantic; /* value of a=msid-semantic as written (" WMS *") */

    struct sdp_attr *attrs; /* other session-level attributes, verbatim and in order */
    size_t n_attrs;

    struct sdp_media *media;
    size_t n_media;
};

/* Parses `len` bytes of SDP (CRLF or LF line ends; need not be NUL-terminated). On success
 * *out is a new model (free with sdp_free). On failure returns -EINVAL (malformed; `err`
 * names the line: "line 7: a=rtpmap: bad payload type") or -E2BIG (over a limit); `err` (may be
 * NULL) receives a NUL-terminated message. */
int sdp_parse(const char *text, size_t len, struct sdp **out, char *err, size_t errlen);

/* Writes the model as SDP text with CRLF line ends: known fields in a fixed order, then the
 * verbatim attributes in theirs. *text is a NUL-terminated heap string (free() it), *len its
 * length (len may be NULL). -E2BIG when the text would pass SDP_MAX_LEN or a line
 * SDP_MAX_LINE; -EINVAL when a string in the model holds CR, LF or is missing where required. */
int sdp_write(const struct sdp *sdp, char **text, size_t *len);

/* A deep copy (written and parsed again). 0, or the errors of sdp_write. */
int sdp_dup(const struct sdp *sdp, struct sdp **out);

/* An empty session: "v=0", "o=- <sess_id> 1 IN IP4 0.0.0.0", "s=-", "t=0 0". */
struct sdp *sdp_new(uint64_t sess_id);

/* Releases a model; NULL is a no-op. */
void sdp_free(struct sdp *sdp);

/* ---- look-ups (pure) ---- */

/* Index of the m-line whose mid is `mid`, or -ENOENT. */
int sdp_find_mid(const struct sdp *sdp, const char *mid);

/* The payload type of `codec` (encoding name, any case: "opus", "vp8", "h264", "pcmu", ...)
 * on m-line `m`, the first in m= order; or -ENOENT. For "h264", `profile` (may be NULL) is a
 * profile-level-id that must match (any case) and packetization-mode=1 is required with it;
 * without it a pt with packetization-mode=1 is preferred. For "vp9", `profile` is a profile-id
 * ("0" also matches a pt without one). Static pts 0 (PCMU), 8 (PCMA) and 9 (G722) need no
 * rtpmap. */
int sdp_media_find_codec(const struct sdp_media *m, const char *codec, const char *profile);

/* The encoding name of payload type `pt` on `m` (as written, or "PCMU"/"PCMA"/"G722" for the
 * static pts), or NULL. Borrowed from the model. */
const char *sdp_media_codec_name(const struct sdp_media *m, int pt);

/* The codec entry of `pt` on `m`, or NULL. Borrowed. */
const struct sdp_codec *sdp_media_codec(const struct sdp_media *m, int pt);

/* The rtx payload type whose apt is `pt`, or -ENOENT. */
int sdp_media_rtx_pt(const struct sdp_media *m, int pt);

/* The extension id negotiated for `uri` on `m`, or -ENOENT. */
int sdp_media_extmap_id(const struct sdp_media *m, const char *uri);

/* The direction in effect for `m`: its own, else the session's, else sendrecv. */
enum sdp_direction sdp_media_direction(const struct sdp *sdp, const struct sdp_media *m);

/* Names: "sendrecv"..., "actpass"..., "audio"...; "" for NONE. Static strings. */
const char *sdp_direction_name(enum sdp_direction d);
const char *sdp_setup_name(enum sdp_setup s);

/* ---- offer/answer helpers (the gateway core and plugins) ---- */

/* Removes the transport from an SDP, as Janus does before a plugin sees a peer's SDP: at both
 * levels every candidate, end-of-candidates, ice-ufrag, ice-pwd, ice-options, ice-lite,
 * fingerprint, setup, connection, crypto, rtcp, rtcp-mux, rtcp-mux-only, bundle-only and the
 * BUNDLE group (typed or verbatim); origin and c= addresses become 0.0.0.0 and the port of every
 * m-line in use becomes 9. Everything else (codecs, extensions, mids, msid, ssrcs, rids,
 * simulcast, SCTP) stays. Returns 0, or -EINVAL for NULL. */
int sdp_anonymize(struct sdp *sdp);

/* Our side of the transport, for sdp_merge_transport(). Borrowed strings. */
struct sdp_transport {
    const char *ufrag, *pwd;       /* ICE credentials (required) */
    const char *fingerprint;       /* SHA-256 of our certificate, "AB:CD:..." (required) */
    enum sdp_setup setup;          /* ACTPASS in offers; ACTIVE or PASSIVE in answers */
    const char *const *candidates; /* values after "candidate:" (or with it), may be 0 */
    size_t n_candidates;
    bool gathering_done; /* adds end-of-candidates */
    bool ice_lite;       /* adds a session-level ice-lite */
    uint64_t sess_id;    /* o= session id and version */
    uint64_t sess_version;
    const char *address; /* for o= and c= ("127.0.0.2"); NULL: 0.0.0.0; IP6 if it has ':' */
};

/* Adds our transport to an SDP a plugin produced (anonymized or not: any transport it has is
 * replaced). Every m-line in use (port != 0, audio/video/application) gets port 9, a c= line,
 * a mid (its index when it had none), ice-ufrag/pwd, ice-options:trickle, fingerprint sha-256,
 * setup, rtcp-mux (RTP only), the candidates and end-of-candidates; the session gets the origin,
 * the BUNDLE group of those mids, no c=, and the same ice-ufrag/pwd, ice-options, fingerprint
 * and setup (which then cover rejected m-lines: aiortc wants them for every m-line).
 * Rejected m-lines keep only their first format, mid, a c= line and (RTP) rtcp-mux and inactive. 0,
 * or -EINVAL (bad arguments; a candidate that does not parse; a value with characters SDP cannot
 * carry). The model is unchanged on error. */
int sdp_merge_transport(struct sdp *sdp, const struct sdp_transport *t);

/* How sdp_answer_generate() answers. A zeroed struct (or NULL) gives the defaults. */
struct sdp_answer_opts {
    /* Codec preference, audio and video names mixed; the first offered one of the m-line's
     * kind wins. NULL: opus, vp8, vp9, h264, g722, pcmu, pcma, av1, h265. */
    const char *const *codecs;
    size_t n_codecs;
    const char *h264_profile; /* profile-level-id to require, NULL: any */
    const char *vp9_profile;  /* profile-id to require, NULL: any */
    /* Extension URIs to keep; NULL: the SDP_EXT_* list above. */
    const char *const *extmaps;
    size_t n_extmaps;
    bool reject_audio, reject_video;
    bool accept_data;       /* answer a DTLS/SCTP m-line instead of rejecting it */
    bool no_rtx;            /* drop rtx */
    bool no_simulcast;      /* do not accept rids/simulcast */
    enum sdp_direction dir; /* what we want for media (NONE: sendrecv); reversed per offer */
    uint64_t sess_id;       /* origin session id of the answer (0: 1) */
};

/* An answer to `offer` for a plugin like Janus's EchoTest: one m-line per offered one, same mid
 * and proto; each accepted m-line carries the preferred codec offered (its rtpmap, fmtp and
 * rtcp-fb as offered, plus its rtx), the offered extensions that are kept (same ids, directions
 * reversed), the reverse direction, rtcp-rsize when offered, and rids/simulcast reversed; the
 * others are rejected (port 0). No transport: pass the result to sdp_merge_transport(). On
 * success *out is a new model. 0, or -EINVAL. */
int sdp_answer_generate(const struct sdp *offer, const struct sdp_answer_opts *o, struct sdp **out);

/* One m-line of an offer made by sdp_offer_generate() (a subscriber's offer). Borrowed. */
struct sdp_stream {
    enum sdp_media_type kind;    /* audio, video, or application (data channels) */
    const char *mid;             /* required, unique */
    const char *codec;           /* encoding name as it should be written ("opus", "VP8") */
    int pt;                      /* 0..127 */
    uint32_t clock_rate;         /* 0: 48000 for opus, 8000 for G.711/G.722, else 90000 */
    unsigned channels;           /* 0: 2 for opus, none otherwise */
    const char *fmtp;            /* NULL: none */
    int rtx_pt;                  /* 0: no rtx */
    uint32_t ssrc, rtx_ssrc;     /* 0: no a=ssrc lines / no FID group */
    const char *cname;           /* NULL: "verbatim" */
    const char *msid;            /* "<stream> <track>", NULL: none */
    const char *const *ext_uris; /* header extension URIs (ids: see sdp_offer_generate) */
    size_t n_ext_uris;
    enum sdp_direction dir; /* NONE: sendonly */
    bool disabled;          /* port 0 (a removed stream keeps its m-line) */
};

/* An offer with one m-line per stream, in order: proto UDP/TLS/RTP/SAVPF (or UDP/DTLS/SCTP),
 * the codec with rtcp-fb (video: ccm fir, nack, nack pli, goog-remb, transport-cc; audio:
 * transport-cc), rtx, extensions, msid, ssrcs with cname and FID, rtcp-mux, rtcp-rsize, and a
 * BUNDLE group of the enabled mids. No transport: pass it to sdp_merge_transport(). 0, or
 * -EINVAL (a missing or duplicate mid, a bad pt, more than SDP_MAX_MEDIA streams, more than 14
 * distinct extension URIs, a value SDP cannot carry). Extension ids are given per URI, 1 for the
 * first one seen, so that every m-line of the bundle uses the same id for it. */
int sdp_offer_generate(const struct sdp_stream *streams, size_t n, uint64_t sess_id,
                       struct sdp **out);

#endif
