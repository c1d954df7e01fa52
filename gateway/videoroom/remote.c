/* This file implements cascading between VideoRoom instances, as Janus 1.1.2 does it: on the
 * receiving instance a remote publisher (add_remote_publisher, update_remote_publisher,
 * remove_remote_publisher) is a participant without a handle whose streams are described by the
 * request instead of an SDP, fed by plain RTP on a UDP port of its own; on the sending instance
 * a remotization (publish_remotely, unpublish_remotely, listremotes) sends a local publisher's
 * streams to such a port through forward.c's forwarders. To the room, a remote publisher is a
 * publisher like any other: announced, listed, subscribed to, recorded, forwarded.
 *
 * DESIGN: the streams of a remote publisher share one RTP port and are told apart by SSRC
 * (VR_REMOTE_BASE_SSRC + mindex * VR_REMOTE_SSRC_STEP + substream, Janus's numbering). Each
 * remote publisher has a reader thread blocked in poll() on its RTP and RTCP sockets and an
 * eventfd that stops it: the gateway's media loops have no way to watch a plain descriptor
 * (gateway/ice/ice.h has invokes and timers only) and the plugin is not given them, so this is
 * Janus's thread per remote publisher; it does only what a media loop would do for a
 * PeerConnection (set the stream's payload type, then vr_feed_incoming_rtp: recording,
 * forwarders, subscribers). The reader never waits for a room lock (talking events, which
 * need it, are not computed for remote publishers; its look at whether the publisher is still
 * in its room uses trylock), so whoever drops the participant's last reference may join it
 * while holding one. It borrows the participant: vr_remote_release() joins it before the
 * participant is freed. Keyframe requests go as RTCP PLI from the RTCP socket to the address
 * the sender latched on it (the first packet it sent there; the later ones move it), since there
 * is no PeerConnection to carry them; when that address is first learnt, every video stream is
 * asked for one. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/rtp/rtp.h"
#include "gateway/sdp/sdp.h"
#include "gateway/srtp/srtp.h"
#include "gateway/videoroom/vr_internal.h"

#define REMOTE_PLI_GAP_US 500000 /* between two keyframe requests, as feed.c's */
#define REMOTE_CHECK_US 1000000  /* the reader looks at whether its publisher left */
#define REMOTE_BATCH 64          /* datagrams read per wake-up from one socket */
#define REMOTE_PACKET_MAX 2048
#define REMOTE_RCVBUF (1 << 20)
#define REMOTE_ID_MAX 255     /* characters of a remote_id */
#define REMOTE_RECORDS_MAX 64 /* remotizations of one publisher */

struct vr_remotization {
    char *remote_id;
    char host[INET6_ADDRSTRLEN];
    uint16_t port, rtcp_port;
};

struct vr_remote {
    struct vr *v;
    struct vr_participant *p; /* borrowed: p owns this */
    int fd, rtcp_fd, wake_fd;
    char ip[INET6_ADDRSTRLEN];
    uint16_t port, rtcp_port;
    struct vb_srtp *srtp; /* NULL = plain RTP; the reader's */
    pthread_t thread;
    bool running; /* the thread was started and not joined yet */
    /* What the reader does with stream m's packets: the payload type to give them (-1 = drop)
     * and whether substreams 1 and 2 are expected. Written under the room lock. */
    atomic_int pt[VR_MAX_STREAMS];
    atomic_bool simulcast[VR_MAX_STREAMS];
    pthread_mutex_t lock; /* the latched address (a leaf lock) */
    struct sockaddr_storage peer;
    socklen_t peerlen; /* 0 = nothing latched yet */
};

static const struct vr_param room_params[] = {{"room", GW_JSON_UINT, true}};
static const struct vr_param id_params[] = {{"id", GW_JSON_UINT, true}};
static const struct vr_param idopt_params[] = {{"id", GW_JSON_UINT, false}};
static const struct vr_param pid_params[] = {{"publisher_id", GW_JSON_UINT, true}};
static const struct vr_param add_params[] = {
    {"secret", GW_JSON_STRING, false},      {"display", GW_JSON_STRING, false},
    {"mcast", GW_JSON_STRING, false},       {"iface", GW_JSON_STRING, false},
    {"port", GW_JSON_UINT, false},          {"streams", GW_JSON_ARRAY, true},
    {"metadata", GW_JSON_OBJECT, false},    {"srtp_suite", GW_JSON_UINT, false},
    {"srtp_crypto", GW_JSON_STRING, false},
};
static const struct vr_param update_params[] = {
    {"secret", GW_JSON_STRING, false},   {"display", GW_JSON_STRING, false},
    {"metadata", GW_JSON_OBJECT, false}, {"streams", GW_JSON_ARRAY, true},
    {"srtp_suite", GW_JSON_UINT, false}, {"srtp_crypto", GW_JSON_STRING, false},
};
static const struct vr_param stream_params[] = {
    {"mid", GW_JSON_STRING, true},
    {"mindex", GW_JSON_UINT, true},
    {"type", GW_JSON_STRING, true},
    {"codec", GW_JSON_STRING, false},
    {"description", GW_JSON_STRING, false},
    {"disabled", GW_JSON_BOOL, false},
    {"stereo", GW_JSON_BOOL, false},
    {"fec", GW_JSON_BOOL, false},
    {"dtx", GW_JSON_BOOL, false},
    {"h264_profile", GW_JSON_STRING, false},
    {"vp9_profile", GW_JSON_STRING, false},
    {"simulcast", GW_JSON_BOOL, false},
    {"svc", GW_JSON_BOOL, false},
    {"audiolevel_ext_id", GW_JSON_INT, false},
    {"videoorient_ext_id", GW_JSON_INT, false},
    {"playoutdelay_ext_id", GW_JSON_INT, false},
};
static const struct vr_param publish_params[] = {
    {"secret", GW_JSON_STRING, false},   {"remote_id", GW_JSON_STRING, true},
    {"host", GW_JSON_STRING, true},      {"host_family", GW_JSON_STRING, false},
    {"port", GW_JSON_UINT, true},        {"rtcp_port", GW_JSON_UINT, false},
    {"srtp_suite", GW_JSON_UINT, false}, {"srtp_crypto", GW_JSON_STRING, false},
};
static const struct vr_param unpublish_params[] = {{"secret", GW_JSON_STRING, false},
                                                   {"remote_id", GW_JSON_STRING, true}};

/* The payload type a remote stream's packets are given (the one its subscribers' offers use). */
static const struct {
    const char *codec;
    int pt;
} default_pts[] = {{"opus", 111}, {"multiopus", 111}, {"isac32", 104}, {"isac16", 103},
                   {"pcmu", 0},   {"pcma", 8},        {"g722", 9},     {"vp8", 96},
                   {"vp9", 98},   {"h264", 102},      {"av1", 45},     {"h265", 104}};

static int default_pt(const char *codec, bool video)
{
    for (size_t i = 0; i < sizeof default_pts / sizeof default_pts[0]; i++)
        if (strcasecmp(default_pts[i].codec, codec) == 0)
            return default_pts[i].pt;
    return video ? 96 : 111;
}

/* ---- a stream description ({type, mindex, mid, codec, ...}) ---- */

static enum mjr_kind kind_of(const char *type)
{
    if (type && strcasecmp(type, "audio") == 0)
        return MJR_KIND_AUDIO;
    if (type && strcasecmp(type, "video") == 0)
        return MJR_KIND_VIDEO;
    if (type && strcasecmp(type, "data") == 0)
        return MJR_KIND_DATA;
    return MJR_KIND_UNKNOWN;
}

/* Checks each entry of a `streams` list as Janus does. 0 or the code. */
static int streams_check(const json_t *streams, struct vr_err *e)
{
    for (size_t i = 0; i < json_array_size(streams); i++) {
        const json_t *s = json_array_get(streams, i);
        if (VR_CHECK(s, stream_params, e))
            return e->code;
        enum mjr_kind kind = kind_of(json_string_value(json_object_get(s, "type")));
        if (kind == MJR_KIND_UNKNOWN)
            return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid element value (type)");
        if (kind == MJR_KIND_DATA)
            continue;
        const char *codec = json_string_value(json_object_get(s, "codec"));
        if (!codec)
            return vr_fail(e, VR_ERR_MISSING_ELEMENT, "Missing mandatory element (codec)");
        if ((kind == MJR_KIND_AUDIO ? vr_audio_codec(codec) : vr_video_codec(codec)) < 0)
            return vr_fail(e, VR_ERR_MISSING_ELEMENT, "Invalid element value (unsupported codec)");
    }
    return 0;
}

/* The suite alone, as Janus checks it before anything else; the key is read later. */
static int srtp_suite_check(const json_t *body, struct vr_err *e)
{
    const json_t *suite = json_object_get(body, "srtp_suite");
    if (!suite || !json_object_get(body, "srtp_crypto"))
        return 0;
    json_int_t bits = json_integer_value(suite);
    if (bits != 32 && bits != 80)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid SRTP suite (%d)", (int)bits);
    return 0;
}

static void fmtp_add(char *fmtp, size_t size, const char *item)
{
    size_t n = strlen(fmtp);
    snprintf(fmtp + n, size - n, "%s%s", n ? ";" : "", item);
}

/* The fmtp a subscriber's offer gets for the stream (Opus options the room allows, H.264 and
 * VP9 profiles). */
static void stream_fmtp(const struct vr_room_settings *set, const json_t *s, const char *codec,
                        char *fmtp, size_t size)
{
    char item[96];
    fmtp[0] = '\0';
    if (strcmp(codec, "opus") == 0) {
        if (set->opus_fec && json_is_true(json_object_get(s, "fec")))
            fmtp_add(fmtp, size, "useinbandfec=1");
        if (set->opus_dtx && json_is_true(json_object_get(s, "dtx")))
            fmtp_add(fmtp, size, "usedtx=1");
        if (json_is_true(json_object_get(s, "stereo")))
            fmtp_add(fmtp, size, "stereo=1");
    } else if (strcmp(codec, "h264") == 0) {
        const char *profile = json_string_value(json_object_get(s, "h264_profile"));
        if (!profile)
            profile = set->h264_profile ? set->h264_profile : "42e01f";
        snprintf(item, sizeof item, "profile-level-id=%.16s;packetization-mode=1", profile);
        fmtp_add(fmtp, size, item);
    } else if (strcmp(codec, "vp9") == 0) {
        const char *profile = json_string_value(json_object_get(s, "vp9_profile"));
        if (!profile)
            profile = set->vp9_profile;
        if (profile) {
            snprintf(item, sizeof item, "profile-id=%.16s", profile);
            fmtp_add(fmtp, size, item);
        }
    }
}

/* An extension the request names by id (1..14) in the stream's map (for the recordings). */
static void stream_ext(struct vr_feed_stream *fs, const json_t *s, const char *key, const char *uri)
{
    json_int_t id = json_integer_value(json_object_get(s, key));
    if (id < 1 || id > 14)
        return;
    free(fs->ext_uris[id]);
    fs->ext_uris[id] = xstrdup(uri);
    fs->extmaps[id] = fs->ext_uris[id];
    if (strcmp(uri, SDP_EXT_AUDIO_LEVEL) == 0)
        fs->ext_audio_level = (int)id;
}

/* Makes feed stream `mindex` what description `s` says (an audio or video stream whose codec
 * the room allows). Room lock held; takes the feed's. */
static void feed_stream_set(struct vr_participant *p, int mindex, const json_t *s,
                            enum mjr_kind kind, const char *codec)
{
    struct vr_feed *f = &p->feed;
    struct vr_remote *rm = p->rmt;
    bool video = kind == MJR_KIND_VIDEO;
    struct vr_media_desc d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    snprintf(d.mid, sizeof d.mid, "%d", mindex);
    for (size_t k = 0; codec[k] && k + 1 < sizeof d.codec; k++)
        d.codec[k] = (char)(codec[k] >= 'A' && codec[k] <= 'Z' ? codec[k] + 32 : codec[k]);
    d.pt = default_pt(d.codec, video);
    d.clock_rate = mjr_codec_clock_rate(d.codec);
    if (!d.clock_rate)
        d.clock_rate = video ? 90000 : 48000;
    d.channels = strcmp(d.codec, "opus") == 0 ? 2 : 0;
    stream_fmtp(&p->room->set, s, d.codec, d.fmtp, sizeof d.fmtp);
    d.vcodec = video ? gw_video_codec_from_name(d.codec) : GW_VC_UNKNOWN;
    bool simulcast = video && json_is_true(json_object_get(s, "simulcast"));
    pthread_mutex_lock(&f->lock);
    struct vr_feed_stream *fs = &f->streams[mindex];
    for (size_t i = 0; i < 16; i++) {
        free(fs->ext_uris[i]);
        fs->ext_uris[i] = NULL;
        fs->extmaps[i] = NULL;
    }
    fs->mindex = mindex;
    fs->d = d;
    fs->ext_audio_level = fs->ext_rid = 0;
    stream_ext(fs, s, "audiolevel_ext_id", SDP_EXT_AUDIO_LEVEL);
    stream_ext(fs, s, "videoorient_ext_id", SDP_EXT_VIDEO_ORIENTATION);
    stream_ext(fs, s, "playoutdelay_ext_id", SDP_EXT_PLAYOUT_DELAY);
    fs->talk_event = false; /* see the DESIGN note: the reader takes no room lock */
    gw_simulcast_init(&fs->sim, d.vcodec);
    fs->simulcast = simulcast;
    fs->rec_sub = 0;
    for (int k = 0; simulcast && k < GW_SIMULCAST_SUBSTREAMS; k++) {
        gw_simulcast_set_ssrc(&fs->sim, k,
                              VR_REMOTE_BASE_SSRC + (uint32_t)mindex * VR_REMOTE_SSRC_STEP +
                                  (uint32_t)k);
        fs->rec_sub = k;
    }
    fs->active = true;
    if ((size_t)mindex >= f->nstreams)
        f->nstreams = (size_t)mindex + 1;
    pthread_mutex_unlock(&f->lock);
    atomic_store(&rm->simulcast[mindex], simulcast);
    atomic_store(&rm->pt[mindex], d.pt);
}

/* Whether the room allows the stream's codec (a refused one is listed, disabled, as Janus). */
static bool codec_allowed(const struct vr_room_settings *set, enum mjr_kind kind, const char *c)
{
    int idx = kind == MJR_KIND_AUDIO ? vr_audio_codec(c) : vr_video_codec(c);
    for (int i = 0; idx >= 0 && i < VR_CODECS; i++)
        if ((kind == MJR_KIND_AUDIO ? set->acodec[i] : set->vcodec[i]) == idx)
            return true;
    return false;
}

/* Adds stream `mindex` (mid "<mindex>", as Janus names a remote publisher's streams) from its
 * description: p->streams gets it, and the feed when it can carry media. Room lock held. */
static void stream_add(struct vr_participant *p, int mindex, const json_t *s)
{
    enum mjr_kind kind = kind_of(json_string_value(json_object_get(s, "type")));
    const char *codec = json_string_value(json_object_get(s, "codec"));
    const char *desc = json_string_value(json_object_get(s, "description"));
    p->streams = xrealloc(p->streams, (p->nstreams + 1) * sizeof *p->streams);
    struct vr_stream *st = &p->streams[p->nstreams++];
    memset(st, 0, sizeof *st);
    char mid[16];
    snprintf(mid, sizeof mid, "%d", mindex);
    st->mindex = mindex;
    st->mid = xstrdup(mid);
    st->description = desc ? xstrdup(desc) : NULL;
    st->disabled = json_is_true(json_object_get(s, "disabled"));
    if (kind == MJR_KIND_DATA) { /* listed; its messages are not relayed here */
        st->type = "data";
        return;
    }
    bool video = kind == MJR_KIND_VIDEO;
    st->type = video ? "video" : "audio";
    st->codec = video ? vr_video_codec_name(vr_video_codec(codec))
                      : vr_audio_codec_name(vr_audio_codec(codec));
    if (!codec_allowed(&p->room->set, kind, codec))
        st->disabled = true;
    if (!st->disabled)
        feed_stream_set(p, mindex, s, kind, codec);
}

static struct vr_stream *stream_by_mid(struct vr_participant *p, const char *mid)
{
    for (size_t i = 0; i < p->nstreams; i++)
        if (p->streams[i].mid && strcmp(p->streams[i].mid, mid) == 0)
            return &p->streams[i];
    return NULL;
}

static bool mindex_taken(const struct vr_participant *p, json_int_t mindex)
{
    for (size_t i = 0; i < p->nstreams; i++)
        if (p->streams[i].mindex == mindex)
            return true;
    return false;
}

/* A disabled flag changed on an existing stream: its feed stream stops or starts again. */
static void stream_enable(struct vr_participant *p, struct vr_stream *st, const json_t *s)
{
    struct vr_feed *f = &p->feed;
    if (!st->codec || strcmp(st->type, "data") == 0)
        return;
    enum mjr_kind kind = kind_of(st->type);
    st->disabled = st->disabled || !codec_allowed(&p->room->set, kind, st->codec);
    if (st->disabled) {
        pthread_mutex_lock(&f->lock);
        f->streams[st->mindex].active = false;
        pthread_mutex_unlock(&f->lock);
        atomic_store(&p->rmt->pt[st->mindex], -1);
        return;
    }
    feed_stream_set(p, st->mindex, s, kind, st->codec);
}

/* {"videoroom":"event","room":R,"publishers":[p]} to the others (room lock held). */
static void announce(struct vr_participant *p, struct vr_outbox *o)
{
    vr_room_notify_others(p->room, p,
                          json_pack("{s:s, s:I, s:[o]}", "videoroom", "event", "room",
                                    (json_int_t)p->room->id, "publishers",
                                    vr_participant_pub_json(p)),
                          o);
}

/* ---- the receiver: sockets and reader thread ---- */

/* The address to bind: `iface` (a numeric address or an interface's name), else 127.0.0.1. */
static int bind_address(const char *iface, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    *len = sizeof *sin;
    sin->sin_family = AF_INET;
    if (!iface) {
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return 0;
    }
    if (inet_pton(AF_INET, iface, &sin->sin_addr) == 1)
        return 0;
    if (inet_pton(AF_INET6, iface, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        *len = sizeof *sin6;
        return 0;
    }
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) < 0)
        return -errno;
    int err = -ENODEV;
    for (struct ifaddrs *i = list; i && err; i = i->ifa_next) {
        if (!i->ifa_addr || strcmp(i->ifa_name, iface) != 0 ||
            (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
            continue;
        *len = i->ifa_addr->sa_family == AF_INET ? sizeof *sin : sizeof *sin6;
        memcpy(ss, i->ifa_addr, *len);
        err = 0;
    }
    freeifaddrs(list);
    return err;
}

static uint16_t sock_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A non-blocking UDP socket bound to `addr` with `port` (0 = any). The fd or -errno. */
static int udp_bind(const struct sockaddr_storage *addr, socklen_t len, uint16_t port)
{
    struct sockaddr_storage ss = *addr;
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int size = REMOTE_RCVBUF; /* a keyframe comes as a burst */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static void remote_free(struct vr_remote *rm)
{
    if (!rm)
        return;
    if (rm->fd >= 0)
        close(rm->fd);
    if (rm->rtcp_fd >= 0)
        close(rm->rtcp_fd);
    if (rm->wake_fd >= 0)
        close(rm->wake_fd);
    vb_srtp_destroy(rm->srtp);
    pthread_mutex_destroy(&rm->lock);
    free(rm);
}

/* Opens the receiver the body asks for (iface, port, rtcp_port, SRTP). 0 or the code. */
static int remote_open(struct vr *v, const json_t *body, struct vr_remote **out, struct vr_err *e)
{
    if (json_object_get(body, "mcast"))
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (mcast: multicast groups are not supported)");
    json_int_t port = json_integer_value(json_object_get(body, "port"));
    json_int_t rtcp_port = json_integer_value(json_object_get(body, "rtcp_port"));
    if (port > 65535 || rtcp_port < 0 || rtcp_port > 65535)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (port and rtcp_port should be at most 65535)");
    struct sockaddr_storage addr;
    socklen_t len;
    if (bind_address(json_string_value(json_object_get(body, "iface")), &addr, &len) < 0)
        return vr_fail(e, VR_ERR_UNKNOWN,
                       "Invalid network interface configuration for remote publisher");
    struct vr_remote *rm = xcalloc(1, sizeof *rm);
    rm->v = v;
    rm->fd = rm->rtcp_fd = -1;
    rm->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&rm->lock, NULL);
    for (int i = 0; i < VR_MAX_STREAMS; i++)
        atomic_init(&rm->pt[i], -1);
    int profile = 0;
    uint8_t key[30];
    if (vr_fwd_srtp_parse(body, &profile, key, e)) {
        remote_free(rm);
        return e->code;
    }
    if (profile && vb_srtp_create(profile, key, key, sizeof key, &rm->srtp) < 0) {
        explicit_bzero(key, sizeof key);
        remote_free(rm);
        return vr_fail(e, VR_ERR_UNKNOWN, "Error creating SRTP context");
    }
    explicit_bzero(key, sizeof key);
    rm->fd = udp_bind(&addr, len, (uint16_t)port);
    if (rm->fd >= 0)
        rm->rtcp_fd = udp_bind(&addr, len, (uint16_t)rtcp_port);
    if (rm->fd < 0 || rm->rtcp_fd < 0 || rm->wake_fd < 0) {
        remote_free(rm);
        return vr_fail(e, VR_ERR_UNKNOWN, "Could not open UDP socket for RTP stream");
    }
    rm->port = sock_port(rm->fd);
    rm->rtcp_port = sock_port(rm->rtcp_fd);
    inet_ntop(addr.ss_family,
              addr.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&addr)->sin_addr
                                        : (void *)&((struct sockaddr_in6 *)&addr)->sin6_addr,
              rm->ip, sizeof rm->ip);
    *out = rm;
    return 0;
}

/* One datagram from the RTP port: its stream by SSRC, our payload type, then the feed. What
 * names no stream (an unknown SSRC, a substream of a stream without simulcast, RTCP) is
 * dropped. */
static void reader_rtp(struct vr_remote *rm, uint8_t *buf, size_t len)
{
    struct gw_rtp_hdr h;
    if (len < 12 || ((buf[1] & 0x7f) >= 64 && (buf[1] & 0x7f) < 96)) /* RTCP, not ours */
        return;
    if ((rm->srtp && vb_srtp_unprotect_rtp(rm->srtp, buf, &len) < 0) ||
        gw_rtp_parse(buf, len, &h) < 0 || h.ssrc < VR_REMOTE_BASE_SSRC)
        return;
    uint32_t diff = h.ssrc - VR_REMOTE_BASE_SSRC;
    uint32_t m = diff / VR_REMOTE_SSRC_STEP, sub = diff % VR_REMOTE_SSRC_STEP;
    if (m >= VR_MAX_STREAMS)
        return;
    int pt = atomic_load_explicit(&rm->pt[m], memory_order_relaxed);
    bool sim = atomic_load_explicit(&rm->simulcast[m], memory_order_relaxed);
    if (pt < 0 || (sub > 0 && (!sim || sub >= GW_SIMULCAST_SUBSTREAMS)))
        return;
    buf[1] = (uint8_t)((buf[1] & 0x80) | pt);
    vr_feed_incoming_rtp(rm->v, rm->p, (int)m, buf, len);
}

/* The RTCP port only latches the sender's feedback address (any RTP or RTCP packet). */
static void reader_rtcp(struct vr_remote *rm)
{
    uint8_t buf[REMOTE_PACKET_MAX];
    bool first = false;
    for (int i = 0; i < REMOTE_BATCH; i++) {
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        ssize_t n =
            recvfrom(rm->rtcp_fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
        if (n < 0)
            break;
        if (n < 8 || buf[0] >> 6 != 2)
            continue;
        pthread_mutex_lock(&rm->lock);
        first = first || rm->peerlen == 0;
        memcpy(&rm->peer, &from, len);
        rm->peerlen = len;
        pthread_mutex_unlock(&rm->lock);
    }
    if (first) /* the source can hear us now: recordings and subscribers want keyframes */
        vr_feed_request_keyframes(rm->v, rm->p);
}

/* Whether the publisher is still in its room; when the room is busy, it is taken to be. */
static bool reader_wanted(struct vr_remote *rm)
{
    struct vr_room *r = rm->p->room;
    if (pthread_mutex_trylock(&r->lock) != 0)
        return true;
    bool in = rm->p->in_room;
    pthread_mutex_unlock(&r->lock);
    return in;
}

static void *reader_main(void *arg)
{
    struct vr_remote *rm = arg;
    struct pollfd fds[3] = {{.fd = rm->fd, .events = POLLIN},
                            {.fd = rm->rtcp_fd, .events = POLLIN},
                            {.fd = rm->wake_fd, .events = POLLIN}};
    uint8_t buf[REMOTE_PACKET_MAX];
    int64_t check = vb_clock_mono_us() + REMOTE_CHECK_US;
    for (;;) {
        int n = poll(fds, 3, (int)(REMOTE_CHECK_US / 1000));
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && fds[2].revents)
            break;
        for (int i = 0; n > 0 && (fds[0].revents & POLLIN) && i < REMOTE_BATCH; i++) {
            ssize_t got = recv(rm->fd, buf, sizeof buf, MSG_DONTWAIT);
            if (got < 0)
                break;
            reader_rtp(rm, buf, (size_t)got);
        }
        if (n > 0 && (fds[1].revents & POLLIN))
            reader_rtcp(rm);
        int64_t now = vb_clock_mono_us();
        if (now >= check) {
            if (!reader_wanted(rm))
                break; /* kicked, or its room was destroyed: nothing reads the socket now */
            check = now + REMOTE_CHECK_US;
        }
    }
    return NULL;
}

/* Stops the reader (a no-op when it is not running). No lock the reader may wait for held. */
static void remote_stop(struct vr_remote *rm)
{
    if (!rm || !rm->running)
        return;
    uint64_t one = 1;
    ssize_t w = write(rm->wake_fd, &one, sizeof one);
    (void)w; /* an eventfd write of 1 only fails at a counter of 2^64 - 2 */
    pthread_join(rm->thread, NULL);
    rm->running = false;
}

void vr_remote_release(struct vr_participant *p)
{
    for (size_t i = 0; i < p->nremotizations; i++)
        free(p->remotizations[i].remote_id);
    free(p->remotizations);
    p->remotizations = NULL;
    p->nremotizations = 0;
    remote_stop(p->rmt);
    remote_free(p->rmt);
    p->rmt = NULL;
}

bool vr_remote_request_keyframe(struct vr_participant *p, int mindex, bool force)
{
    if (!p->remote)
        return false;
    struct vr_remote *rm = p->rmt;
    if (!rm || mindex < 0 || mindex >= VR_MAX_STREAMS)
        return true;
    struct sockaddr_storage peer;
    pthread_mutex_lock(&rm->lock);
    socklen_t len = rm->peerlen;
    memcpy(&peer, &rm->peer, sizeof peer);
    pthread_mutex_unlock(&rm->lock);
    int64_t now = vb_clock_mono_us();
    struct vr_feed_stream *fs = &p->feed.streams[mindex];
    pthread_mutex_lock(&p->feed.lock);
    bool video = fs->active && fs->d.kind == MJR_KIND_VIDEO;
    bool go = video && len && (force || now - fs->last_pli_us >= REMOTE_PLI_GAP_US);
    if (video && len && !go) /* too soon after the last one: asked with a later packet */
        fs->pli_pending = true;
    pthread_mutex_unlock(&p->feed.lock);
    if (!go)
        return true;
    uint8_t buf[16];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_rtcp_write_pli(&w, 1, VR_REMOTE_BASE_SSRC + (uint32_t)mindex * VR_REMOTE_SSRC_STEP);
    if (!w.err && sendto(rm->rtcp_fd, buf, w.len, MSG_DONTWAIT | MSG_NOSIGNAL,
                         (struct sockaddr *)&peer, len) == (ssize_t)w.len) {
        pthread_mutex_lock(&p->feed.lock);
        fs->last_pli_us = now;
        pthread_mutex_unlock(&p->feed.lock);
    }
    return true;
}

/* ---- remote publishers: the requests ---- */

/* A participant without a handle for a remote publisher (room lock held; not in the room yet):
 * published and live from the start, as Janus's. */
static struct vr_participant *remote_participant_new(struct vr *v, struct vr_room *r,
                                                     const json_t *body, struct vr_remote *rm)
{
    struct vr_participant *p = xcalloc(1, sizeof *p);
    atomic_init(&p->refs, 1);
    vr_room_ref(r);
    p->room = r;
    p->remote = true;
    p->rmt = rm;
    rm->p = p;
    p->id = vr_json_u64(body, "id");
    while (p->id == 0 || vr_room_find(r, p->id))
        p->id = vr_random_id();
    const char *display = json_string_value(json_object_get(body, "display"));
    p->display = display ? xstrdup(display) : NULL;
    p->bitrate = r->set.bitrate;
    p->recording = v->record_all || r->set.record;
    vr_feed_init(&p->feed);
    pthread_mutex_init(&p->rec_lock, NULL);
    atomic_init(&p->remb, 0);
    const json_t *streams = json_object_get(body, "streams");
    for (size_t i = 0; i < json_array_size(streams); i++) /* mindex by position, as Janus */
        stream_add(p, (int)i, json_array_get(streams, i));
    p->in_room = p->publishing = p->started = true;
    return p;
}

json_t *vr_req_add_remote_publisher(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, idopt_params, e) ||
        VR_CHECK(body, add_params, e))
        return NULL;
    const json_t *streams = json_object_get(body, "streams");
    if (json_array_size(streams) == 0) {
        vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid element value (streams can't be empty)");
        return NULL;
    }
    if (streams_check(streams, e) || srtp_suite_check(body, e))
        return NULL;
    if (json_array_size(streams) > VR_MAX_STREAMS) {
        vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid element value (at most %d streams)",
                VR_MAX_STREAMS);
        return NULL;
    }
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    json_t *reply = NULL;
    struct vr_outbox o = {0};
    struct vr_remote *rm = NULL;
    struct vr_participant *p = NULL;
    uint64_t id = vr_json_u64(body, "id");
    if (id && vr_room_find(r, id)) {
        vr_fail(e, VR_ERR_ID_EXISTS, "User ID %" PRIu64 " already exists", id);
        goto out_unlock;
    }
    if (remote_open(v, body, &rm, e))
        goto out_unlock;
    p = remote_participant_new(v, r, body, rm);
    if (pthread_create(&rm->thread, NULL, reader_main, rm) != 0) {
        vr_participant_unref(p); /* closes the receiver too */
        p = NULL;
        vr_fail(e, VR_ERR_UNKNOWN, "Could not spawn thread for remote publisher");
        goto out_unlock;
    }
    rm->running = true;
    pthread_setname_np(rm->thread, "vb-remote");
    struct vr_participant **tail = &r->participants;
    while (*tail)
        tail = &(*tail)->next;
    *tail = p; /* the room list takes our reference */
    r->nparticipants++;
    vr_participant_ref(p); /* ours, for the recorders below */
    vr_rec_participant_joined(v, p);
    announce(p, &o);
    reply = json_pack("{s:s, s:I, s:I, s:s, s:i, s:i}", "videoroom", "success", "room",
                      (json_int_t)r->id, "id", (json_int_t)p->id, "ip", rm->ip, "port", rm->port,
                      "rtcp_port", rm->rtcp_port);
out_unlock:
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, &o);
    vr_room_unref(r);
    if (p) { /* a recording room records it from the first packet */
        vr_feed_rec_update(v, p);
        vr_participant_unref(p);
    }
    return reply;
}

/* The room, locked and referenced, and its remote publisher `id` in *out (428 when there is
 * none). NULL on error (e filled). */
static struct vr_room *remote_lookup(struct vr *v, const json_t *body, struct vr_participant **out,
                                     struct vr_err *e)
{
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    uint64_t id = vr_json_u64(body, "id");
    struct vr_participant *p = vr_room_find(r, id);
    if (!p || !p->remote) {
        pthread_mutex_unlock(&r->lock);
        vr_room_unref(r);
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such remote publisher (%" PRIu64 ")", id);
        return NULL;
    }
    *out = p;
    return r;
}

/* update's streams: known mids change their description or disabled flag; others are added
 * at their mindex (skipped, as Janus does, when that leaves more than one m-line out; here also
 * when the mindex is taken or too high). True when something changed. Room lock held. */
static bool streams_update(struct vr_participant *p, const json_t *streams)
{
    bool changes = false;
    for (size_t i = 0; i < json_array_size(streams); i++) {
        const json_t *s = json_array_get(streams, i);
        struct vr_stream *st = stream_by_mid(p, json_string_value(json_object_get(s, "mid")));
        if (st) {
            const char *desc = json_string_value(json_object_get(s, "description"));
            if (!st->description || (desc && strcmp(st->description, desc) != 0)) {
                free(st->description);
                st->description = desc ? xstrdup(desc) : NULL;
                changes = true;
            }
            const json_t *disabled = json_object_get(s, "disabled");
            if (disabled && st->disabled != json_is_true(disabled)) {
                st->disabled = json_is_true(disabled);
                stream_enable(p, st, s);
                changes = true;
            }
            continue;
        }
        json_int_t mindex = json_integer_value(json_object_get(s, "mindex"));
        if (mindex - (json_int_t)p->nstreams > 1 || mindex >= VR_MAX_STREAMS ||
            mindex_taken(p, mindex))
            continue;
        stream_add(p, (int)mindex, s);
        changes = true;
    }
    return changes;
}

json_t *vr_req_update_remote_publisher(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, id_params, e) ||
        VR_CHECK(body, update_params, e))
        return NULL;
    const json_t *streams = json_object_get(body, "streams");
    if (streams_check(streams, e) || srtp_suite_check(body, e))
        return NULL;
    struct vr_participant *p = NULL;
    struct vr_room *r = remote_lookup(v, body, &p, e);
    if (!r)
        return NULL;
    struct vr_outbox o = {0};
    const char *display = json_string_value(json_object_get(body, "display"));
    if (display) { /* told with the streams, when they change */
        free(p->display);
        p->display = xstrdup(display);
    }
    if (streams_update(p, streams))
        announce(p, &o);
    vr_participant_ref(p);
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, &o);
    vr_feed_rec_update(v, p); /* new streams of a recording room are recorded */
    vr_participant_unref(p);
    vr_room_unref(r);
    return json_pack("{s:s}", "videoroom", "success");
}

json_t *vr_req_remove_remote_publisher(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, id_params, e))
        return NULL;
    struct vr_participant *p = NULL;
    struct vr_room *r = remote_lookup(v, body, &p, e);
    if (!r)
        return NULL;
    struct vr_outbox o = {0};
    vr_participant_ref(p);
    p->started = false; /* the others hear `leaving` alone, as from Janus */
    vr_participant_remove(p, false, &o);
    pthread_mutex_unlock(&r->lock);
    vr_outbox_flush(v, &o);
    remote_stop(p->rmt); /* no lock held: its port is quiet from here */
    vr_participant_unref(p);
    vr_room_unref(r);
    return json_pack("{s:s}", "videoroom", "success");
}

/* ---- remotizations: the requests ---- */

static struct vr_remotization *record_find(struct vr_participant *p, const char *remote_id)
{
    for (size_t i = 0; i < p->nremotizations; i++)
        if (strcmp(p->remotizations[i].remote_id, remote_id) == 0)
            return &p->remotizations[i];
    return NULL;
}

/* The room, locked and referenced, and its publisher `publisher_id` in *out (428 with
 * `missing`'s text when there is none). NULL on error (e filled). */
static struct vr_room *publisher_lookup(struct vr *v, const json_t *body, const char *missing,
                                        struct vr_participant **out, struct vr_err *e)
{
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    uint64_t id = vr_json_u64(body, "publisher_id");
    *out = vr_room_find(r, id);
    if (!*out) {
        pthread_mutex_unlock(&r->lock);
        vr_room_unref(r);
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "%s (%" PRIu64 ")", missing, id);
        return NULL;
    }
    return r;
}

/* publish_remotely's checks that need the publisher (room lock held). 0 or the code. */
static int remotization_check(struct vr_participant *p, const char *remote_id, struct vr_err *e)
{
    if (p->remote)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Only local publishers can be remotized");
    if (record_find(p, remote_id))
        return vr_fail(e, VR_ERR_ID_EXISTS, "Remotization already exists (%s)", remote_id);
    if (strlen(remote_id) > REMOTE_ID_MAX || p->nremotizations == REMOTE_RECORDS_MAX)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (remote_id: at most %d characters, %d per publisher)",
                       REMOTE_ID_MAX, REMOTE_RECORDS_MAX);
    return 0;
}

static void record_add(struct vr_participant *p, const char *remote_id, const struct vr_fwd_dest *d)
{
    p->remotizations =
        xrealloc(p->remotizations, (p->nremotizations + 1) * sizeof *p->remotizations);
    struct vr_remotization *rec = &p->remotizations[p->nremotizations++];
    rec->remote_id = xstrdup(remote_id);
    memcpy(rec->host, d->host, sizeof rec->host);
    rec->port = d->port;
    rec->rtcp_port = d->rtcp_port;
}

json_t *vr_req_publish_remotely(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, publish_params, e) || VR_CHECK(body, room_params, e) ||
        VR_CHECK(body, pid_params, e) || vr_fwd_admin_check(v, body, e))
        return NULL;
    struct vr_fwd_dest d;
    if (vr_fwd_dest_parse(body, &d, e)) {
        vr_fwd_dest_clear(&d);
        return NULL;
    }
    const char *remote_id = json_string_value(json_object_get(body, "remote_id"));
    struct vr_participant *p = NULL;
    struct vr_room *r = publisher_lookup(v, body, "No such feed", &p, e);
    json_t *reply = NULL;
    uint32_t video = 0;
    if (!r)
        goto out_clear;
    if (remotization_check(p, remote_id, e) ||
        vr_forwarders_add_remote(p, remote_id, &d, &video, e))
        goto out_unlock;
    record_add(p, remote_id, &d);
    reply = json_pack("{s:s, s:I, s:I, s:s}", "videoroom", "success", "room", (json_int_t)r->id,
                      "id", (json_int_t)p->id, "remote_id", remote_id);
    vr_participant_ref(p);
out_unlock:
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    if (reply) { /* the other instance can show the video at once: keyframes now */
        for (int m = 0; m < VR_MAX_STREAMS; m++)
            if (video & (1u << m))
                vr_feed_request_keyframe(v, p, m);
        vr_participant_unref(p);
    }
out_clear:
    vr_fwd_dest_clear(&d);
    return reply;
}

json_t *vr_req_unpublish_remotely(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, unpublish_params, e) || VR_CHECK(body, room_params, e) ||
        VR_CHECK(body, pid_params, e))
        return NULL;
    const char *remote_id = json_string_value(json_object_get(body, "remote_id"));
    struct vr_participant *p = NULL;
    struct vr_room *r = publisher_lookup(v, body, "No such publisher", &p, e);
    if (!r)
        return NULL;
    json_t *reply = NULL;
    struct vr_remotization *rec = record_find(p, remote_id);
    if (!rec) {
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such remotization (%s)", remote_id);
    } else {
        free(rec->remote_id);
        *rec = p->remotizations[--p->nremotizations];
        vr_forwarders_remove_remote(p, remote_id);
        reply = json_pack("{s:s, s:I, s:I}", "videoroom", "success", "room", (json_int_t)r->id,
                          "id", (json_int_t)p->id);
    }
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    return reply;
}

json_t *vr_req_listremotes(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, pid_params, e))
        return NULL;
    struct vr_participant *p = NULL;
    struct vr_room *r = publisher_lookup(v, body, "No such publisher", &p, e);
    if (!r)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < p->nremotizations; i++) {
        const struct vr_remotization *rec = &p->remotizations[i];
        json_t *o = json_pack("{s:s, s:s, s:i}", "remote_id", rec->remote_id, "host", rec->host,
                              "port", rec->port);
        if (rec->rtcp_port)
            json_object_set_new(o, "rtcp_port", json_integer(rec->rtcp_port));
        json_array_append_new(list, o);
    }
    json_t *reply = json_pack("{s:s, s:I, s:I, s:o}", "videoroom", "success", "room",
                              (json_int_t)r->id, "id", (json_int_t)p->id, "list", list);
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    return reply;
}
