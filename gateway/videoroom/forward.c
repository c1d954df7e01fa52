/* This file implements the VideoRoom's RTP forwarders (vr_forward.h): the `rtp_forward`,
 * `stop_rtp_forward` and `listforwarders` requests with Janus 1.1.2's replies, error texts and
 * check order (the multistream `streams` form and the deprecated audio_port/video_port form),
 * and the media thread's part: every packet of a publisher's stream, as received, sent to each
 * forwarder of the stream as plain RTP (or SRTP with srtp_suite/srtp_crypto), optionally with
 * its SSRC and payload type rewritten.
 *
 * DESIGN: a forwarder owns a UDP socket connected to its destination, made non-blocking on the
 * request thread; the media thread only calls send() with MSG_DONTWAIT, and a packet the kernel
 * does not take at once (EAGAIN, or ECONNREFUSED left by an ICMP error of the destination) is
 * dropped and counted. Destinations are restricted to loopback and to the addresses of this
 * network namespace's interfaces, so a forwarder never sends media off the machine; names are
 * not resolved (no DNS lookup on a request thread), only numeric addresses and "localhost".
 * With `rtcp_port`, a second socket connected to host:rtcp_port takes the destination's
 * feedback (Janus's "latching" packets are sent to it first); the media thread polls it at most
 * every FWD_RTCP_POLL_US, and a PLI or FIR found there is reported to the caller of
 * vr_forwarders_send(), which asks the publisher for a keyframe once the feed lock is released.
 * A new video forwarder asks for a keyframe too, so that its receiver can decode at once.
 *
 * A remotization (publish_remotely, remote.c) is a set of these forwarders, one per stream,
 * tagged with its remote_id: each stream goes with the SSRC VR_REMOTE_BASE_SSRC + mindex *
 * VR_REMOTE_SSRC_STEP (its top substream for simulcast, + that substream's index) by which the
 * receiving instance tells the streams apart on its single port, and only the first video stream
 * has the RTCP port; a keyframe request arriving there names its stream by that SSRC. They are
 * left out of listforwarders and the rtp_forward reply, as Janus does, and die with the streams.
 *
 * Janus 1.1.2 keeps a publisher in `listforwarders`, with an empty list, after its forwarders
 * died with an unpublish (its per-publisher index of forwarder ids outlives the streams) until
 * it leaves. The same is had here from the feed stream's array: vr_forwarders_clear() leaves
 * `fwds` allocated with no entries, and stop_rtp_forward frees it when its last forwarder goes;
 * a participant is listed when one of its streams has the array. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/srtp/srtp.h"
#include "gateway/videoroom/vr_internal.h"

#define FWD_MAX_TARGETS 64      /* entries of a request's `streams` */
#define FWD_MAX_PER_STREAM 32   /* forwarders of one publisher stream */
#define FWD_MAX_PACKET 2048     /* a rewritten or protected packet */
#define FWD_RTCP_POLL_US 100000 /* between two reads of a forwarder's RTCP socket */
#define FWD_SRTP_KEY_SALT 30    /* AES_CM_128 master key + salt */

struct vr_forwarder {
    uint32_t id; /* stream_id, unique among the publisher's forwarders */
    bool video;
    int fd;      /* RTP: connected, non-blocking */
    int rtcp_fd; /* -1 = no rtcp_port; else connected to host:rtcp_port, non-blocking */
    char host[INET6_ADDRSTRLEN];
    uint16_t port, rtcp_port, local_rtcp_port;
    uint32_t ssrc;        /* 0 = the publisher's */
    uint8_t pt;           /* 0 = the publisher's */
    struct vb_srtp *srtp; /* NULL = plain RTP */
    /* A remotization's (publish_remotely): its id (NULL for rtp_forward's), and the feed whose
     * streams its RTCP port's keyframe requests may name (by SSRC). */
    char *remote_id;
    struct vr_feed *feed;
    int mindex;
    /* Under the feed lock (media thread, readers): */
    int64_t rtcp_poll_us;
    uint64_t packets, drops, keyframe_requests;
};

/* One forwarder a request asks for, before it exists. */
struct fwd_target {
    const char *mid;    /* borrowed from the request; NULL = the first stream of `kind` */
    enum mjr_kind kind; /* the deprecated form: audio_port / video_port */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char host[INET6_ADDRSTRLEN];
    uint16_t port, rtcp_port;
    uint32_t ssrc;
    uint8_t pt;
};

struct fwd_request {
    uint64_t room, publisher;
    bool legacy; /* no `streams`: the deprecated form, answered with `rtp_stream` */
    char host[INET6_ADDRSTRLEN];
    struct fwd_target targets[FWD_MAX_TARGETS];
    size_t ntargets;
    int srtp_profile; /* 0 = plain */
    uint8_t srtp_key[FWD_SRTP_KEY_SALT];
};

static const struct vr_param room_params[] = {{"room", GW_JSON_UINT, true}};
static const struct vr_param pid_params[] = {{"publisher_id", GW_JSON_UINT, true}};
static const struct vr_param forward_params[] = {
    {"secret", GW_JSON_STRING, false},        {"host", GW_JSON_STRING, true},
    {"host_family", GW_JSON_STRING, false},   {"simulcast", GW_JSON_BOOL, false},
    {"srtp_suite", GW_JSON_UINT, false},      {"srtp_crypto", GW_JSON_STRING, false},
    {"streams", GW_JSON_ARRAY, false},        {"video_port", GW_JSON_UINT, false},
    {"video_rtcp_port", GW_JSON_UINT, false}, {"video_ssrc", GW_JSON_UINT, false},
    {"video_pt", GW_JSON_UINT, false},        {"video_port_2", GW_JSON_UINT, false},
    {"video_ssrc_2", GW_JSON_UINT, false},    {"video_pt_2", GW_JSON_UINT, false},
    {"video_port_3", GW_JSON_UINT, false},    {"video_ssrc_3", GW_JSON_UINT, false},
    {"video_pt_3", GW_JSON_UINT, false},      {"audio_port", GW_JSON_UINT, false},
    {"audio_rtcp_port", GW_JSON_UINT, false}, {"audio_ssrc", GW_JSON_UINT, false},
    {"audio_pt", GW_JSON_UINT, false},        {"data_port", GW_JSON_UINT, false},
};
static const struct vr_param stream_params[] = {
    {"secret", GW_JSON_STRING, false},      {"mid", GW_JSON_STRING, true},
    {"host", GW_JSON_STRING, false},        {"host_family", GW_JSON_STRING, false},
    {"port", GW_JSON_UINT, true},           {"rtcp_port", GW_JSON_UINT, false},
    {"ssrc", GW_JSON_UINT, false},          {"pt", GW_JSON_UINT, false},
    {"simulcast", GW_JSON_BOOL, false},     {"srtp_suite", GW_JSON_UINT, false},
    {"srtp_crypto", GW_JSON_STRING, false}, {"port_2", GW_JSON_UINT, false},
    {"ssrc_2", GW_JSON_UINT, false},        {"pt_2", GW_JSON_UINT, false},
    {"port_3", GW_JSON_UINT, false},        {"ssrc_3", GW_JSON_UINT, false},
    {"pt_3", GW_JSON_UINT, false},
};
static const struct vr_param stop_params[] = {{"secret", GW_JSON_STRING, false},
                                              {"stream_id", GW_JSON_UINT, true}};
static const struct vr_param admin_params[] = {{"admin_key", GW_JSON_STRING, true}};

/* Janus's lock_rtp_forward: with an admin_key configured, rtp_forward and stop_rtp_forward
 * need it too. The plugin has no such setting yet, which is Janus's default (off). */
static bool admin_locked(const struct vr *v)
{
    return v->lock_rtp_forward;
}

int vr_fwd_admin_check(const struct vr *v, const json_t *body, struct vr_err *e)
{
    if (!admin_locked(v) || !v->admin_key)
        return 0;
    if (VR_CHECK(body, admin_params, e))
        return e->code;
    return vr_secret_check(v->admin_key, body, "admin_key", e);
}

/* ---- destinations ---- */

/* The family a request names: 0 (any), AF_INET or AF_INET6; -1 when unknown. */
static int family_of(const char *name)
{
    if (!name)
        return 0;
    if (strcasecmp(name, "ipv4") == 0)
        return AF_INET;
    if (strcasecmp(name, "ipv6") == 0)
        return AF_INET6;
    return -1;
}

/* Parses a numeric address (or "localhost") of `family` (0 = any) into t's address and text
 * form. An IPv4-mapped IPv6 address becomes IPv4. 0 or -EINVAL. */
static int addr_parse(const char *host, int family, struct fwd_target *t)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        host = family == AF_INET6 ? "::1" : "127.0.0.1";
    bool v4 = inet_pton(AF_INET, host, &a4) == 1;
    bool v6 = !v4 && inet_pton(AF_INET6, host, &a6) == 1;
    if ((!v4 && !v6) || (v4 && family == AF_INET6) || (v6 && family == AF_INET))
        return -EINVAL;
    if (v6 && IN6_IS_ADDR_V4MAPPED(&a6)) {
        memcpy(&a4, &a6.s6_addr[12], sizeof a4);
        v4 = true;
    }
    memset(&t->addr, 0, sizeof t->addr);
    if (v4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
        sin->sin_family = AF_INET;
        sin->sin_addr = a4;
        t->addrlen = sizeof *sin;
        inet_ntop(AF_INET, &a4, t->host, sizeof t->host);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = a6;
        t->addrlen = sizeof *sin6;
        inet_ntop(AF_INET6, &a6, t->host, sizeof t->host);
    }
    return 0;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (!b || a->ss_family != b->sa_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

/* Loopback, or an address of one of this network namespace's interfaces. */
static bool addr_allowed(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
            return true;
    } else if (IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr)) {
        return true;
    }
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) < 0)
        return false;
    bool found = false;
    for (struct ifaddrs *i = list; i && !found; i = i->ifa_next)
        found = same_addr(ss, i->ifa_addr);
    freeifaddrs(list);
    return found;
}

/* Host (global, or the stream's own) resolved into t, then checked. 0 or the code. */
static int target_host(struct fwd_target *t, const char *host, const char *family_name,
                       int global_family, struct vr_err *e)
{
    int family = global_family;
    if (family_name && (family = family_of(family_name)) < 0)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Unsupported protocol family (%s)", family_name);
    if (addr_parse(host, family, t) < 0)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Could not resolve address (%s)...", host);
    if (!addr_allowed(&t->addr))
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (host %s not allowed: forwarding goes only to loopback "
                       "or to this namespace's addresses)",
                       t->host);
    return 0;
}

/* The port-like numbers of a target, which Janus would silently truncate. 0 or the code. */
static int target_numbers(struct fwd_target *t, json_int_t port, json_int_t rtcp_port,
                          json_int_t ssrc, json_int_t pt, struct vr_err *e)
{
    if (port < 1 || port > 65535)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (port should be between 1 and 65535)");
    if (rtcp_port > 65535)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (rtcp_port should be between 1 and 65535)");
    if (ssrc > (json_int_t)UINT32_MAX)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid element (ssrc should be 32 bits)");
    if (pt > 127)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (pt should be between 0 and 127)");
    t->port = (uint16_t)port;
    t->rtcp_port = (uint16_t)rtcp_port;
    t->ssrc = (uint32_t)ssrc;
    t->pt = (uint8_t)pt;
    return 0;
}

static json_int_t int_of(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* ---- parsing a request, in Janus's order ---- */

static int parse_streams(struct fwd_request *rq, const json_t *streams, const char *host,
                         int family, struct vr_err *e)
{
    if (json_array_size(streams) > FWD_MAX_TARGETS)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid element (at most %d streams)",
                       FWD_MAX_TARGETS);
    for (size_t i = 0; i < json_array_size(streams); i++) {
        const json_t *s = json_array_get(streams, i);
        struct fwd_target *t = &rq->targets[rq->ntargets];
        if (VR_CHECK(s, stream_params, e))
            return e->code;
        const char *own = json_string_value(json_object_get(s, "host"));
        const char *own_family = json_string_value(json_object_get(s, "host_family"));
        if (target_host(t, own ? own : host, own ? own_family : NULL, family, e) ||
            target_numbers(t, int_of(s, "port"), int_of(s, "rtcp_port"), int_of(s, "ssrc"),
                           int_of(s, "pt"), e))
            return e->code;
        t->mid = json_string_value(json_object_get(s, "mid"));
        rq->ntargets++;
    }
    return 0;
}

/* The deprecated form: audio_port and video_port (their _2/_3 substreams have nothing to send:
 * publishers do not simulcast here) and data_port (no data stream is forwarded). */
static int parse_legacy(struct fwd_request *rq, const json_t *body, const struct fwd_target *g,
                        struct vr_err *e)
{
    static const char *const kinds[] = {"audio", "video"};
    for (size_t k = 0; k < 2; k++) {
        char key[32], rtcp[32], ssrc[32], pt[32];
        snprintf(key, sizeof key, "%s_port", kinds[k]);
        snprintf(rtcp, sizeof rtcp, "%s_rtcp_port", kinds[k]);
        snprintf(ssrc, sizeof ssrc, "%s_ssrc", kinds[k]);
        snprintf(pt, sizeof pt, "%s_pt", kinds[k]);
        if (!json_object_get(body, key))
            continue;
        struct fwd_target *t = &rq->targets[rq->ntargets];
        *t = *g;
        if (target_numbers(t, int_of(body, key), int_of(body, rtcp), int_of(body, ssrc),
                           int_of(body, pt), e))
            return e->code;
        t->mid = NULL;
        t->kind = k == 0 ? MJR_KIND_AUDIO : MJR_KIND_VIDEO;
        rq->ntargets++;
    }
    return 0;
}

int vr_fwd_srtp_parse(const json_t *body, int *profile, uint8_t *key, struct vr_err *e)
{
    const json_t *suite = json_object_get(body, "srtp_suite");
    const char *crypto = json_string_value(json_object_get(body, "srtp_crypto"));
    if (!suite || !crypto)
        return 0;
    json_int_t bits = json_integer_value(suite);
    if (bits != 32 && bits != 80)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Invalid SRTP suite (%d)", (int)bits);
    /* SDES's inline key: base64 of the 30-byte master key and salt (40 characters). */
    uint8_t raw[64];
    size_t n = strlen(crypto);
    int got = n == 40 ? EVP_DecodeBlock(raw, (const unsigned char *)crypto, (int)n) : -1;
    if (got == FWD_SRTP_KEY_SALT)
        memcpy(key, raw, FWD_SRTP_KEY_SALT);
    explicit_bzero(raw, sizeof raw);
    if (got != FWD_SRTP_KEY_SALT)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (srtp_crypto should be a base64 master key and salt of "
                       "%d bytes)",
                       FWD_SRTP_KEY_SALT);
    *profile = bits == 80 ? VB_SRTP_AES128_CM_SHA1_80 : VB_SRTP_AES128_CM_SHA1_32;
    return 0;
}

static int parse_request(const struct vr *v, const json_t *body, struct fwd_request *rq,
                         struct vr_err *e)
{
    memset(rq, 0, sizeof *rq);
    if (VR_CHECK(body, forward_params, e) || VR_CHECK(body, room_params, e) ||
        VR_CHECK(body, pid_params, e) || vr_fwd_admin_check(v, body, e))
        return e->code;
    rq->room = vr_json_u64(body, "room");
    rq->publisher = vr_json_u64(body, "publisher_id");
    const char *family_name = json_string_value(json_object_get(body, "host_family"));
    int family = family_of(family_name);
    if (family < 0)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Unsupported protocol family (%s)", family_name);
    const char *host = json_string_value(json_object_get(body, "host"));
    struct fwd_target global;
    memset(&global, 0, sizeof global);
    if (addr_parse(host, family, &global) < 0)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Could not resolve address (%s)...", host);
    snprintf(rq->host, sizeof rq->host, "%s", global.host);
    const json_t *streams = json_object_get(body, "streams");
    rq->legacy = !streams;
    int err = 0;
    if (streams)
        err = parse_streams(rq, streams, host, family, e);
    else if (!(err = target_host(&global, host, NULL, family, e)))
        err = parse_legacy(rq, body, &global, e);
    return err ? err : vr_fwd_srtp_parse(body, &rq->srtp_profile, rq->srtp_key, e);
}

/* ---- forwarders ---- */

static void fwd_destroy(struct vr_forwarder *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->rtcp_fd >= 0)
        close(f->rtcp_fd);
    vb_srtp_destroy(f->srtp);
    free(f->remote_id);
    free(f);
}

/* A non-blocking UDP socket of the target's family connected to `port` of its address. */
static int connected_socket(const struct fwd_target *t, uint16_t port)
{
    struct sockaddr_storage dst = t->addr;
    if (dst.ss_family == AF_INET)
        ((struct sockaddr_in *)&dst)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&dst)->sin6_port = htons(port);
    int fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&dst, t->addrlen) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* The RTCP side: the local port the destination sends feedback to, and two empty RTP headers
 * sent to its rtcp_port so that a latching receiver learns it (as Janus does). */
static int fwd_open_rtcp(struct vr_forwarder *f, const struct fwd_target *t)
{
    f->rtcp_fd = connected_socket(t, t->rtcp_port);
    if (f->rtcp_fd < 0)
        return f->rtcp_fd;
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(f->rtcp_fd, (struct sockaddr *)&local, &len) < 0)
        return -errno;
    f->local_rtcp_port =
        ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
                                         : ((struct sockaddr_in6 *)&local)->sin6_port);
    uint8_t latch[12] = {0x80};
    for (int i = 0; i < 2; i++)
        (void)send(f->rtcp_fd, latch, sizeof latch, MSG_DONTWAIT | MSG_NOSIGNAL);
    return 0;
}

/* A forwarder for target t of a stream of `kind`, SRTP-protected with `key` when
 * `srtp_profile` is set. 0 or -errno. */
static int fwd_create(const struct fwd_target *t, enum mjr_kind kind, int srtp_profile,
                      const uint8_t *key, struct vr_forwarder **out)
{
    struct vr_forwarder *f = xcalloc(1, sizeof *f);
    f->video = kind == MJR_KIND_VIDEO;
    f->rtcp_fd = -1;
    snprintf(f->host, sizeof f->host, "%s", t->host);
    f->port = t->port;
    f->rtcp_port = t->rtcp_port;
    f->ssrc = t->ssrc;
    f->pt = t->pt;
    f->fd = connected_socket(t, t->port);
    int err = f->fd < 0 ? f->fd : 0;
    if (!err && t->rtcp_port)
        err = fwd_open_rtcp(f, t);
    if (!err && srtp_profile &&
        vb_srtp_create(srtp_profile, key, key, FWD_SRTP_KEY_SALT, &f->srtp) < 0)
        err = -EIO;
    if (err) {
        fwd_destroy(f);
        return err;
    }
    *out = f;
    return 0;
}

static json_t *fwd_json(const struct vr_forwarder *f)
{
    json_t *o = json_pack("{s:I, s:s, s:i, s:s}", "stream_id", (json_int_t)f->id, "host", f->host,
                          "port", f->port, "type", f->video ? "video" : "audio");
    if (f->local_rtcp_port)
        json_object_set_new(o, "local_rtcp_port", json_integer(f->local_rtcp_port));
    if (f->rtcp_port)
        json_object_set_new(o, "remote_rtcp_port", json_integer(f->rtcp_port));
    if (f->pt)
        json_object_set_new(o, "pt", json_integer(f->pt));
    if (f->ssrc)
        json_object_set_new(o, "ssrc", json_integer(f->ssrc));
    if (f->srtp)
        json_object_set_new(o, "srtp", json_true());
    if (f->remote_id) /* handle_info only: the replies and listforwarders leave these out */
        json_object_set_new(o, "remote_id", json_string(f->remote_id));
    return o;
}

/* ---- a publisher's forwarders (room lock held; their lists under the feed lock) ---- */

/* The publisher's stream a target names: by mid, or the first of its kind. Its `active` and
 * `d` change only under the room lock, which the caller holds. */
static struct vr_feed_stream *target_stream(struct vr_participant *p, const struct fwd_target *t)
{
    struct vr_feed *f = &p->feed;
    for (size_t i = 0; i < f->nstreams; i++) {
        struct vr_feed_stream *fs = &f->streams[i];
        if (fs->active && (t->mid ? strcmp(fs->d.mid, t->mid) == 0 : fs->d.kind == t->kind))
            return fs;
    }
    return NULL;
}

static bool id_taken(const struct vr_feed *f, uint32_t id)
{
    for (size_t i = 0; i < f->nstreams; i++)
        for (size_t k = 0; k < f->streams[i].nfwds; k++)
            if (f->streams[i].fwds[k]->id == id)
                return true;
    return false;
}

/* Stream and forwarder of each new forwarder of a request. */
struct fwd_new {
    struct vr_feed_stream *fs;
    struct vr_forwarder *f;
    const struct fwd_target *t;
};

/* Adds the new forwarders to their streams, with fresh ids. Feed lock taken. 0 or 430. */
static int attach_all(struct vr_participant *p, struct fwd_new *nf, size_t n, struct vr_err *e)
{
    struct vr_feed *f = &p->feed;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < n; i++) {
        size_t want = nf[i].fs->nfwds;
        for (size_t k = 0; k < n; k++)
            want += nf[k].fs == nf[i].fs;
        if (want > FWD_MAX_PER_STREAM) {
            pthread_mutex_unlock(&f->lock);
            return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                           "Invalid element (at most %d forwarders per stream)",
                           FWD_MAX_PER_STREAM);
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct vr_feed_stream *fs = nf[i].fs;
        do
            nf[i].f->id = vr_random_u32();
        while (id_taken(f, nf[i].f->id));
        if (fs->nfwds == fs->capfwds) {
            fs->capfwds = fs->capfwds ? fs->capfwds * 2 : 4;
            fs->fwds = xrealloc(fs->fwds, fs->capfwds * sizeof *fs->fwds);
        }
        fs->fwds[fs->nfwds++] = nf[i].f;
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

/* Makes a forwarder for every target that names a stream of the publisher (the others are
 * skipped, as Janus does). 0 or 499 (all made so far destroyed). */
static int create_all(struct vr_participant *p, const struct fwd_request *rq, struct fwd_new *nf,
                      size_t *n, struct vr_err *e)
{
    *n = 0;
    for (size_t i = 0; i < rq->ntargets; i++) {
        struct vr_feed_stream *fs = target_stream(p, &rq->targets[i]);
        if (!fs)
            continue;
        int err =
            fwd_create(&rq->targets[i], fs->d.kind, rq->srtp_profile, rq->srtp_key, &nf[*n].f);
        if (err) {
            while (*n > 0)
                fwd_destroy(nf[--*n].f);
            return vr_fail(e, VR_ERR_UNKNOWN, "Could not open UDP socket for RTP stream (%s)",
                           strerror(-err));
        }
        nf[*n].fs = fs;
        nf[*n].t = &rq->targets[i];
        (*n)++;
    }
    return 0;
}

/* The deprecated form's reply part. */
static json_t *legacy_json(const struct fwd_request *rq, const struct fwd_new *nf, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *kind = nf[i].f->video ? "video" : "audio";
        char key[32];
        snprintf(key, sizeof key, "%s_stream_id", kind);
        json_object_set_new(o, key, json_integer(nf[i].f->id));
        json_object_set_new(o, kind, json_integer(nf[i].f->port));
    }
    json_object_set_new(o, "warning", json_string("deprecated_api"));
    json_object_set_new(o, "host", json_string(rq->host));
    return o;
}

json_t *vr_req_rtp_forward(struct vr *v, json_t *body, struct vr_err *e)
{
    struct fwd_request *rq = xmalloc(sizeof *rq);
    struct fwd_new nf[FWD_MAX_TARGETS];
    size_t n = 0;
    int keyframes[FWD_MAX_TARGETS];
    size_t nkeyframes = 0;
    struct vr_participant *p = NULL;
    json_t *reply = NULL;
    if (parse_request(v, body, rq, e))
        goto out_free;
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        goto out_free;
    p = vr_room_find(r, rq->publisher);
    if (!p) {
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such feed (%" PRIu64 ")", rq->publisher);
        goto out_unlock;
    }
    if (create_all(p, rq, nf, &n, e))
        goto out_unlock;
    if (attach_all(p, nf, n, e)) {
        for (size_t i = 0; i < n; i++)
            fwd_destroy(nf[i].f);
        goto out_unlock;
    }
    reply = json_pack("{s:s, s:I, s:I}", "videoroom", "rtp_forward", "room", (json_int_t)r->id,
                      "publisher_id", (json_int_t)p->id);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, fwd_json(nf[i].f));
        bool asked = false; /* once per stream */
        for (size_t k = 0; k < nkeyframes; k++)
            asked = asked || keyframes[k] == nf[i].fs->mindex;
        if (nf[i].f->video && !asked)
            keyframes[nkeyframes++] = nf[i].fs->mindex;
    }
    if (rq->legacy) {
        json_object_set_new(reply, "rtp_stream", legacy_json(rq, nf, n));
        json_decref(list);
    } else {
        json_object_set_new(reply, "forwarders", list);
    }
    vr_participant_ref(p);
out_unlock:
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    if (reply) { /* the receivers can decode from the start: a keyframe now */
        for (size_t i = 0; i < nkeyframes; i++)
            vr_feed_request_keyframe(v, p, keyframes[i]);
        vr_participant_unref(p);
    }
out_free:
    explicit_bzero(rq->srtp_key, sizeof rq->srtp_key);
    free(rq);
    return reply;
}

/* Takes forwarder `id` out of the feed (feed lock taken); NULL when it has none of that id. */
static struct vr_forwarder *detach(struct vr_feed *f, uint32_t id)
{
    struct vr_forwarder *found = NULL;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nstreams && !found; i++) {
        struct vr_feed_stream *fs = &f->streams[i];
        for (size_t k = 0; k < fs->nfwds && !found; k++) {
            if (fs->fwds[k]->id != id)
                continue;
            found = fs->fwds[k];
            memmove(&fs->fwds[k], &fs->fwds[k + 1], (fs->nfwds - k - 1) * sizeof *fs->fwds);
            if (--fs->nfwds == 0) { /* the publisher leaves listforwarders */
                free(fs->fwds);
                fs->fwds = NULL;
                fs->capfwds = 0;
            }
        }
    }
    pthread_mutex_unlock(&f->lock);
    return found;
}

json_t *vr_req_stop_rtp_forward(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e) || VR_CHECK(body, pid_params, e) ||
        VR_CHECK(body, stop_params, e) || vr_fwd_admin_check(v, body, e))
        return NULL;
    uint64_t pid = vr_json_u64(body, "publisher_id");
    uint32_t id = (uint32_t)vr_json_u64(body, "stream_id"); /* Janus's 32 bits */
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    json_t *reply = NULL;
    struct vr_forwarder *gone = NULL;
    struct vr_participant *p = vr_room_find(r, pid);
    if (!p)
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such feed (%" PRIu64 ")", pid);
    else if (!(gone = detach(&p->feed, id)))
        vr_fail(e, VR_ERR_NO_SUCH_FEED, "No such stream (%" PRIu32 ")", id);
    else
        reply = json_pack("{s:s, s:I, s:I, s:I}", "videoroom", "stop_rtp_forward", "room",
                          (json_int_t)r->id, "publisher_id", (json_int_t)pid, "stream_id",
                          (json_int_t)id);
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    fwd_destroy(gone);
    return reply;
}

/* A participant's `listforwarders` entry, or NULL when none of its streams has forwarders (nor
 * had them when it unpublished). Room lock held. */
static json_t *participant_json(struct vr_participant *p)
{
    struct vr_feed *f = &p->feed;
    json_t *list = NULL;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nstreams; i++) {
        const struct vr_feed_stream *fs = &f->streams[i];
        if (fs->fwds && !list)
            list = json_array();
        for (size_t k = 0; k < fs->nfwds; k++)
            if (!fs->fwds[k]->remote_id) /* a remotization's are listremotes' (as Janus) */
                json_array_append_new(list, fwd_json(fs->fwds[k]));
    }
    pthread_mutex_unlock(&f->lock);
    if (!list)
        return NULL;
    json_t *o = json_pack("{s:I}", "publisher_id", (json_int_t)p->id);
    if (p->display)
        json_object_set_new(o, "display", json_string(p->display));
    json_object_set_new(o, "forwarders", list);
    return o;
}

json_t *vr_req_listforwarders(struct vr *v, json_t *body, struct vr_err *e)
{
    if (VR_CHECK(body, room_params, e))
        return NULL;
    struct vr_room *r = vr_access_room(v, body, true, e);
    if (!r)
        return NULL;
    json_t *list = json_array();
    for (struct vr_participant *p = r->participants; p; p = p->next) {
        json_t *o = participant_json(p);
        if (o)
            json_array_append_new(list, o);
    }
    json_t *reply = json_pack("{s:s, s:I, s:o}", "videoroom", "forwarders", "room",
                              (json_int_t)r->id, "publishers", list);
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
    return reply;
}

/* ---- remotizations (publish_remotely; the requests are remote.c's) ---- */

int vr_fwd_dest_parse(const json_t *body, struct vr_fwd_dest *d, struct vr_err *e)
{
    memset(d, 0, sizeof *d);
    if (vr_fwd_srtp_parse(body, &d->srtp_profile, d->srtp_key, e))
        return e->code;
    json_int_t port = int_of(body, "port");
    if (port == 0)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT,
                       "Invalid element (port must be a non-zero positive integer)");
    const char *family_name = json_string_value(json_object_get(body, "host_family"));
    int family = family_of(family_name);
    if (family < 0)
        return vr_fail(e, VR_ERR_INVALID_ELEMENT, "Unsupported protocol family (%s)", family_name);
    struct fwd_target t;
    memset(&t, 0, sizeof t);
    const char *host = json_string_value(json_object_get(body, "host"));
    if (target_host(&t, host ? host : "", NULL, family, e) ||
        target_numbers(&t, port, int_of(body, "rtcp_port"), 0, 0, e))
        return e->code;
    snprintf(d->host, sizeof d->host, "%s", t.host);
    d->addr = t.addr;
    d->addrlen = t.addrlen;
    d->port = t.port;
    d->rtcp_port = t.rtcp_port;
    return 0;
}

void vr_fwd_dest_clear(struct vr_fwd_dest *d)
{
    explicit_bzero(d->srtp_key, sizeof d->srtp_key);
}

int vr_forwarders_add_remote(struct vr_participant *p, const char *remote_id,
                             const struct vr_fwd_dest *d, uint32_t *video_mask, struct vr_err *e)
{
    struct vr_feed *f = &p->feed;
    struct fwd_new nf[VR_MAX_STREAMS];
    size_t n = 0;
    bool rtcp_given = false;
    *video_mask = 0;
    for (size_t i = 0; i < f->nstreams; i++) {
        struct vr_feed_stream *fs = &f->streams[i];
        if (!fs->active)
            continue;
        bool video = fs->d.kind == MJR_KIND_VIDEO;
        struct fwd_target t;
        memset(&t, 0, sizeof t);
        t.addr = d->addr;
        t.addrlen = d->addrlen;
        snprintf(t.host, sizeof t.host, "%s", d->host);
        t.port = d->port;
        t.rtcp_port = video && !rtcp_given ? d->rtcp_port : 0; /* one feedback port, as Janus */
        rtcp_given = rtcp_given || t.rtcp_port;
        t.ssrc = VR_REMOTE_BASE_SSRC + (uint32_t)fs->mindex * VR_REMOTE_SSRC_STEP +
                 (uint32_t)(fs->simulcast ? fs->rec_sub : 0);
        int err = fwd_create(&t, fs->d.kind, d->srtp_profile, d->srtp_key, &nf[n].f);
        if (err) {
            while (n > 0)
                fwd_destroy(nf[--n].f);
            return vr_fail(e, VR_ERR_UNKNOWN, "Could not open UDP socket for RTP stream (%s)",
                           strerror(-err));
        }
        nf[n].f->remote_id = xstrdup(remote_id);
        nf[n].f->feed = f;
        nf[n].f->mindex = fs->mindex;
        nf[n].fs = fs;
        nf[n].t = NULL;
        n++;
        if (video)
            *video_mask |= 1u << fs->mindex;
    }
    if (attach_all(p, nf, n, e)) {
        for (size_t i = 0; i < n; i++)
            fwd_destroy(nf[i].f);
        return e->code;
    }
    return 0;
}

size_t vr_forwarders_remove_remote(struct vr_participant *p, const char *remote_id)
{
    struct vr_feed *f = &p->feed;
    struct vr_forwarder *gone[VR_MAX_STREAMS * FWD_MAX_PER_STREAM];
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nstreams; i++) {
        struct vr_feed_stream *fs = &f->streams[i];
        size_t kept = 0, before = fs->nfwds;
        for (size_t k = 0; k < fs->nfwds; k++) {
            struct vr_forwarder *fw = fs->fwds[k];
            if (fw->remote_id && strcmp(fw->remote_id, remote_id) == 0)
                gone[n++] = fw;
            else
                fs->fwds[kept++] = fw;
        }
        fs->nfwds = kept;
        if (before && !kept) { /* as stop_rtp_forward: the publisher leaves listforwarders */
            free(fs->fwds);
            fs->fwds = NULL;
            fs->capfwds = 0;
        }
    }
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < n; i++)
        fwd_destroy(gone[i]);
    return n;
}

/* ---- the media thread ---- */

/* One packet to one forwarder: as received, or rewritten / protected in a copy. */
static void fwd_send(struct vr_forwarder *f, const uint8_t *pkt, size_t len)
{
    uint8_t buf[FWD_MAX_PACKET + VB_SRTP_MAX_OVERHEAD];
    const uint8_t *out = pkt;
    if (f->ssrc || f->pt || f->srtp) {
        if (len < 12 || len > FWD_MAX_PACKET) {
            f->drops++;
            return;
        }
        memcpy(buf, pkt, len);
        if (f->ssrc)
            wr_u32(buf + 8, f->ssrc);
        if (f->pt)
            buf[1] = (uint8_t)((buf[1] & 0x80) | f->pt);
        if (f->srtp && vb_srtp_protect_rtp(f->srtp, buf, &len, sizeof buf) < 0) {
            f->drops++;
            return;
        }
        out = buf;
    }
    if (send(f->fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
        f->packets++;
    else
        f->drops++; /* EAGAIN, or the destination's ICMP error (ECONNREFUSED) */
}

/* The stream of a remotization a keyframe request names by its media SSRC (see
 * VR_REMOTE_BASE_SSRC), or -1. */
static int remote_mindex(uint32_t ssrc)
{
    if (ssrc < VR_REMOTE_BASE_SSRC)
        return -1;
    uint32_t m = (ssrc - VR_REMOTE_BASE_SSRC) / VR_REMOTE_SSRC_STEP;
    return m < VR_MAX_STREAMS ? (int)m : -1;
}

/* A keyframe request (PLI or FIR block b of buf): true when it is for f's own stream; a
 * remotization's request for another stream of the feed marks that one (feed lock held), which
 * asks its publisher with its next packet. */
static bool fwd_keyframe_for(struct vr_forwarder *f, const uint8_t *buf, size_t n,
                             const struct gw_rtcp_block *b)
{
    uint32_t media = b->media_ssrc;
    if (b->kind == GW_RTCP_KIND_FIR && b->items > 0 && b->off + 16 <= n)
        media = rd_u32(buf + b->off + 12); /* FIR names its target in the first FCI entry */
    int m = f->remote_id ? remote_mindex(media) : -1;
    if (m < 0 || m == f->mindex)
        return true;
    struct vr_feed_stream *other = &f->feed->streams[m];
    if (other->active && other->d.kind == MJR_KIND_VIDEO)
        other->pli_pending = true;
    return false;
}

/* Reads what the destination sent to our RTCP port; true when it asked for a keyframe. */
static bool fwd_poll_rtcp(struct vr_forwarder *f)
{
    uint8_t buf[1500];
    bool keyframe = false, asked = false;
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(f->rtcp_fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == ECONNREFUSED) /* an ICMP error for our latching packets */
            continue;
        if (n < 0)
            break;
        struct gw_rtcp_iter it;
        struct gw_rtcp_block b;
        gw_rtcp_iter_init(&it, buf, (size_t)n);
        while (gw_rtcp_iter_next(&it, &b) == 1) {
            if (b.kind != GW_RTCP_KIND_PLI && b.kind != GW_RTCP_KIND_FIR)
                continue;
            asked = true;
            keyframe = fwd_keyframe_for(f, buf, (size_t)n, &b) || keyframe;
        }
    }
    if (asked && !keyframe) /* for another stream of a remotization only */
        f->keyframe_requests++;
    if (keyframe)
        f->keyframe_requests++;
    return keyframe && f->video;
}

bool vr_forwarders_send(struct vr_feed_stream *fs, const uint8_t *pkt, size_t len)
{
    bool keyframe = false;
    int64_t now = 0;
    for (size_t i = 0; i < fs->nfwds; i++) {
        struct vr_forwarder *f = fs->fwds[i];
        fwd_send(f, pkt, len);
        if (f->rtcp_fd < 0)
            continue;
        if (!now)
            now = vb_clock_mono_us();
        if (now >= f->rtcp_poll_us) {
            f->rtcp_poll_us = now + FWD_RTCP_POLL_US;
            keyframe = fwd_poll_rtcp(f) || keyframe;
        }
    }
    return keyframe;
}

void vr_forwarders_clear(struct vr_feed_stream *fs)
{
    for (size_t i = 0; i < fs->nfwds; i++)
        fwd_destroy(fs->fwds[i]);
    fs->nfwds = 0; /* `fwds` stays: see the DESIGN note at the top */
}

json_t *vr_forwarders_info(const struct vr_feed_stream *fs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < fs->nfwds; i++) {
        const struct vr_forwarder *f = fs->fwds[i];
        json_t *o = fwd_json(f);
        json_object_set_new(o, "packets", json_integer((json_int_t)f->packets));
        json_object_set_new(o, "dropped", json_integer((json_int_t)f->drops));
        json_object_set_new(o, "keyframe_requests", json_integer((json_int_t)f->keyframe_requests));
        json_array_append_new(list, o);
    }
    return list;
}
