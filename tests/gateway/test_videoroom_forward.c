/* Tests of the VideoRoom's RTP forwarders through a real gateway core: a publisher publishes
 * VR_OFFER (Opus mid "0", VP8 mid "1"), its packets are fed to the plugin's incoming_rtp hook as
 * the media layer would, and the forwarded packets are received on UDP sockets bound to
 * loopback. Covered: Janus 1.1.2's replies and error texts (taken from the real one) for
 * rtp_forward / stop_rtp_forward / listforwarders, the deprecated audio_port form, packets as
 * received or with SSRC and payload type rewritten, SRTP, the RTCP port (latching packets, a
 * PLI or FIR asking for a keyframe), drops counted when the destination refuses, destinations
 * other than loopback or this namespace refused, forwarders dying with unpublish and leave, and
 * forwarders added and stopped while packets flow. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/bytes.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/srtp/srtp.h"
#include "gateway/videoroom/vr_internal.h"
#include "tests/gateway/test_videoroom.h"

#define ROOM 77

struct peer {
    uint64_t s, h, id;
};

struct ffix {
    struct vfix f;
    uint64_t cs, ch; /* a control handle for the synchronous requests */
    struct peer pub, other;
    uint16_t seq;
};

static struct peer join(struct ffix *x, const char *display)
{
    struct peer p = {.s = vsession(&x->f)};
    p.h = vattach(&x->f, p.s);
    json_t *r = vasync(&x->f, p.s, p.h,
                       "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%d,"
                       "\"display\":\"%s\"}",
                       ROOM, display);
    p.id = (uint64_t)vint(r, "id");
    json_decref(r);
    return p;
}

static void publish(struct ffix *x, struct peer *p)
{
    json_t *ev = vasync_jsep(&x->f, p->s, p->h, VR_OFFER, "{\"request\":\"publish\"}");
    ASSERT_STREQ(json_string_value(json_object_get(ev, "configured")), "ok");
    json_decref(ev);
}

/* A room with a secret, a publisher "alice" who published, and "bob" who did not. */
static void ffix_init(struct ffix *x)
{
    memset(x, 0, sizeof *x);
    vfix_init(&x->f);
    x->cs = vsession(&x->f);
    x->ch = vattach(&x->f, x->cs);
    json_decref(vsync(&x->f, x->cs, x->ch,
                      "{\"request\":\"create\",\"room\":%d,\"secret\":\"sec\",\"publishers\":4}",
                      ROOM));
    x->pub = join(x, "alice");
    publish(x, &x->pub);
    x->other = join(x, "bob");
}

static void ffix_done(struct ffix *x)
{
    vfix_done(&x->f);
}

/* A synchronous request with "PID" replaced by the publisher's id. */
static json_t *req(struct ffix *x, const char *tmpl)
{
    char pid[32], text[2048];
    snprintf(pid, sizeof pid, "%" PRIu64, x->pub.id);
    size_t o = 0;
    for (const char *s = tmpl; *s && o + sizeof pid < sizeof text;) {
        if (strncmp(s, "PID", 3) == 0) {
            o += (size_t)snprintf(text + o, sizeof text - o, "%s", pid);
            s += 3;
        } else {
            text[o++] = *s++;
        }
    }
    text[o] = '\0';
    return vsync(&x->f, x->cs, x->ch, "%s", text);
}

/* ---- UDP and RTP helpers ---- */

/* A non-blocking UDP socket bound to the loopback of `family`; *port gets its port. -1 when
 * the family has no loopback here. */
static int udp_open(int family, uint16_t *port)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ASSERT(fd >= 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof *sin6;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return -1;
    }
    len = sizeof ss;
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* The next datagram within `ms`, its length, or -1; *from_port (may be NULL) its source port. */
static ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, int ms, uint16_t *from_port)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&ss, &len);
    if (from_port && n >= 0)
        *from_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                   : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return n;
}

static int udp_drain(int fd)
{
    uint8_t buf[2048];
    int n = 0;
    while (udp_recv(fd, buf, sizeof buf, 20, NULL) >= 0)
        n++;
    return n;
}

static void udp_send_to(int fd, uint16_t port, const uint8_t *buf, size_t len)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(sendto(fd, buf, len, 0, (struct sockaddr *)&sin, sizeof sin), (ssize_t)len);
}

/* An RTP packet with a one-byte-header extension (id 1) and a payload of `n` bytes. */
static size_t rtp_make(uint8_t *buf, uint8_t pt, bool marker, uint16_t seq, uint32_t ssrc, size_t n)
{
    buf[0] = 0x90; /* V=2, X */
    buf[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    wr_u16(buf + 2, seq);
    wr_u32(buf + 4, (uint32_t)seq * 960u);
    wr_u32(buf + 8, ssrc);
    wr_u16(buf + 12, 0xBEDE);
    wr_u16(buf + 14, 1);
    buf[16] = 0x10; /* id 1, one byte */
    buf[17] = 0x5a;
    buf[18] = buf[19] = 0;
    for (size_t i = 0; i < n; i++)
        buf[20 + i] = (uint8_t)(seq + i);
    return 20 + n;
}

/* Feeds one packet on m-line `mindex` as the publisher's media layer would. */
static void feed(struct ffix *x, int mindex, const uint8_t *pkt, size_t len)
{
    struct gw_handle *gh = vhandle(&x->f, x->pub.s, x->pub.h);
    ASSERT(gw_handle_hook_enter(gh));
    vr_plugin()->incoming_rtp(x->f.v, gh, gw_handle_plugin_state(gh), mindex, mindex == 1, pkt,
                              len);
    gw_handle_hook_leave(gh);
    gw_handle_unref(gh);
}

/* One audio (pt 111, mindex 0) and one video (pt 96, mindex 1) packet of the publisher. */
static void feed_pair(struct ffix *x, uint8_t *audio, size_t *alen, uint8_t *video, size_t *vlen)
{
    *alen = rtp_make(audio, 111, false, x->seq, 0xA0A0A0A0, 40);
    *vlen = rtp_make(video, 96, true, x->seq, 0xB0B0B0B0, 300);
    x->seq++;
    feed(x, 0, audio, *alen);
    feed(x, 1, video, *vlen);
}

/* Runs fn on the publisher's feed stream `mindex` with the feed lock held. */
static void with_stream(struct ffix *x, int mindex, void (*fn)(struct vr_feed_stream *, void *),
                        void *arg)
{
    struct vr_room *r = vr_rooms_get(&x->f.v->rooms, ROOM);
    ASSERT(r != NULL);
    pthread_mutex_lock(&r->lock);
    struct vr_participant *p = vr_room_find(r, x->pub.id);
    ASSERT(p != NULL);
    pthread_mutex_lock(&p->feed.lock);
    fn(&p->feed.streams[mindex], arg);
    pthread_mutex_unlock(&p->feed.lock);
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
}

static void info_of(struct vr_feed_stream *fs, void *arg)
{
    *(json_t **)arg = vr_forwarders_info(fs);
}

/* handle_info's counters of forwarder `id` on stream `mindex`. */
static int64_t counter(struct ffix *x, int mindex, int64_t id, const char *key)
{
    json_t *list = NULL;
    with_stream(x, mindex, info_of, &list);
    int64_t v = -1;
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_integer_value(json_object_get(json_array_get(list, i), "stream_id")) == id)
            v = json_integer_value(json_object_get(json_array_get(list, i), key));
    json_decref(list);
    ASSERT(v >= 0);
    return v;
}

static int64_t fwd_id(json_t *reply, size_t i)
{
    json_t *f = json_array_get(json_object_get(reply, "forwarders"), i);
    ASSERT(f != NULL);
    return vint(f, "stream_id");
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the requests ---- */

/* Replies of real Janus 1.1.2 to the same requests (room with secret "sec"). */
static const struct {
    const char *body;
    int code;
    const char *text;
} janus_errors[] = {
    {"{\"request\":\"rtp_forward\"}", 429, "Missing mandatory element (host)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\"}", 429,
     "Missing mandatory element (room)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77}", 429,
     "Missing mandatory element (publisher_id)"},
    {"{\"request\":\"rtp_forward\",\"host\":5,\"room\":77}", 430,
     "Invalid element type (host should be a string)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":\"x\",\"publisher_id\":1}", 430,
     "Invalid element type (room should be a positive integer)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":-1}", 430,
     "Invalid element type (publisher_id should be a positive integer)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID}", 429,
     "Missing mandatory element (secret)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"bad\"}",
     433, "Unauthorized (wrong secret)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":999,\"publisher_id\":PID,"
     "\"secret\":\"sec\"}",
     426, "No such room (999)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":12345,"
     "\"secret\":\"sec\"}",
     428, "No such feed (12345)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"host_family\":\"ipx\"}",
     430, "Unsupported protocol family (ipx)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"host_family\":\"ipv6\"}",
     430, "Could not resolve address (127.0.0.1)..."},
    {"{\"request\":\"rtp_forward\",\"host\":\"::1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"host_family\":\"ipv4\"}",
     430, "Could not resolve address (::1)..."},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":\"x\"}",
     430, "Invalid element type (streams should be an array)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":[{}]}",
     429, "Missing mandatory element (mid)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":[{\"mid\":\"0\"}]}",
     429, "Missing mandatory element (port)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":[{\"mid\":\"0\",\"port\":-1}]}",
     430, "Invalid element type (port should be a positive integer)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":[{\"mid\":0,\"port\":5}]}",
     430, "Invalid element type (mid should be a string)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":[5]}",
     429, "Missing mandatory element (mid)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":[{\"mid\":\"0\",\"port\":5,\"host_family\":\"x\","
     "\"host\":\"127.0.0.1\"}]}",
     430, "Unsupported protocol family (x)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"srtp_suite\":40,\"srtp_crypto\":\"abc\","
     "\"streams\":[{\"mid\":\"0\",\"port\":5002}]}",
     430, "Invalid SRTP suite (40)"},
    {"{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
     "\"secret\":\"sec\",\"streams\":[{\"mid\":\"0\",\"port\":5002,\"ssrc\":-5}]}",
     430, "Invalid element type (ssrc should be a positive integer)"},
    {"{\"request\":\"stop_rtp_forward\"}", 429, "Missing mandatory element (room)"},
    {"{\"request\":\"stop_rtp_forward\",\"room\":77}", 429,
     "Missing mandatory element (publisher_id)"},
    {"{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID}", 429,
     "Missing mandatory element (stream_id)"},
    {"{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,\"stream_id\":7}", 429,
     "Missing mandatory element (secret)"},
    {"{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,\"stream_id\":7,"
     "\"secret\":\"bad\"}",
     433, "Unauthorized (wrong secret)"},
    {"{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,\"stream_id\":7,"
     "\"secret\":\"sec\"}",
     428, "No such stream (7)"},
    {"{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":99,\"stream_id\":7,"
     "\"secret\":\"sec\"}",
     428, "No such feed (99)"},
    {"{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,\"stream_id\":-7,"
     "\"secret\":\"sec\"}",
     430, "Invalid element type (stream_id should be a positive integer)"},
    {"{\"request\":\"listforwarders\",\"room\":77}", 429, "Missing mandatory element (secret)"},
    {"{\"request\":\"listforwarders\",\"room\":77,\"secret\":\"bad\"}", 433,
     "Unauthorized (wrong secret)"},
    {"{\"request\":\"listforwarders\",\"room\":77,\"secret\":5}", 430,
     "Invalid element type (secret should be a string)"},
    {"{\"request\":\"listforwarders\"}", 429, "Missing mandatory element (room)"},
    {"{\"request\":\"listforwarders\",\"room\":999}", 426, "No such room (999)"},
};

static void test_forward_errors(void)
{
    struct ffix x;
    ffix_init(&x);
    for (size_t i = 0; i < sizeof janus_errors / sizeof janus_errors[0]; i++) {
        json_t *r = req(&x, janus_errors[i].body);
        if (json_integer_value(json_object_get(r, "error_code")) != janus_errors[i].code)
            fprintf(stderr, "case %zu: %s\n", i, janus_errors[i].body);
        ASSERT_VR_ERROR(r, janus_errors[i].code, janus_errors[i].text);
    }
    /* What Janus answers with an empty list: no streams, unknown mids, a participant who did
     * not publish, and no forwarders in the room. */
    ASSERT_JSON(req(&x, "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,"
                        "\"publisher_id\":PID,\"secret\":\"sec\",\"streams\":[]}"),
                "{\"videoroom\":\"rtp_forward\",\"room\":77,\"publisher_id\":%" PRIu64
                ",\"forwarders\":[]}",
                x.pub.id);
    ASSERT_JSON(req(&x, "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,"
                        "\"publisher_id\":PID,\"secret\":\"sec\",\"streams\":[{\"mid\":\"7\","
                        "\"port\":5002}]}"),
                "{\"videoroom\":\"rtp_forward\",\"room\":77,\"publisher_id\":%" PRIu64
                ",\"forwarders\":[]}",
                x.pub.id);
    ASSERT_JSON(vsync(&x.f, x.cs, x.ch,
                      "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,"
                      "\"publisher_id\":%" PRIu64 ",\"secret\":\"sec\",\"streams\":[{\"mid\":"
                      "\"0\",\"port\":5002}]}",
                      x.other.id),
                "{\"videoroom\":\"rtp_forward\",\"room\":77,\"publisher_id\":%" PRIu64
                ",\"forwarders\":[]}",
                x.other.id);
    ASSERT_JSON(req(&x, "{\"request\":\"listforwarders\",\"room\":77,\"secret\":\"sec\"}"),
                "{\"videoroom\":\"forwarders\",\"room\":77,\"publishers\":[]}");
    ffix_done(&x);
}

/* lock_rtp_forward: the requests that change forwarders need the plugin's admin_key. */
static void test_forward_locked(void)
{
    struct vfix f;
    struct vr_config cfg = {.admin_key = "ak", .lock_rtp_forward = true};
    vfix_init_cfg(&f, &cfg);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":78,\"admin_key\":\"ak\"}"));
    uint64_t ps = vsession(&f), ph = vattach(&f, ps);
    json_t *r = vasync(&f, ps, ph, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":78}");
    uint64_t pid = (uint64_t)vint(r, "id");
    json_decref(r);
    json_decref(vasync_jsep(&f, ps, ph, VR_OFFER, "{\"request\":\"publish\"}"));
#define LOCKED_FWD(extra)                                                                          \
    vsync(&f, s, h,                                                                                \
          "{\"request\":\"rtp_forward\",\"room\":78,\"publisher_id\":%" PRIu64                     \
          ",\"host\":\"127.0.0.1\",\"streams\":[{\"mid\":\"0\",\"port\":5002}]" extra "}",         \
          pid)
    ASSERT_VR_ERROR(LOCKED_FWD(""), 429, "Missing mandatory element (admin_key)");
    ASSERT_VR_ERROR(LOCKED_FWD(",\"admin_key\":\"no\""), 433, "Unauthorized (wrong admin_key)");
    r = LOCKED_FWD(",\"admin_key\":\"ak\"");
#undef LOCKED_FWD
    ASSERT_STREQ(json_string_value(json_object_get(r, "videoroom")), "rtp_forward");
    ASSERT_EQ(json_array_size(json_object_get(r, "forwarders")), 1);
    json_decref(r);
    vfix_done(&f);
}

/* ---- media ---- */

struct kf_arg {
    const uint8_t *pkt;
    size_t len;
    bool keyframe;
};

static void send_direct(struct vr_feed_stream *fs, void *arg)
{
    struct kf_arg *k = arg;
    k->keyframe = vr_forwarders_send(fs, k->pkt, k->len);
}

/* Whether a packet sent to stream `mindex`'s forwarders finds a keyframe request, once the
 * forwarders' RTCP sockets are due to be read again. */
static bool keyframe_wanted(struct ffix *x, int mindex)
{
    uint8_t pkt[400];
    sleep_ms(120);
    struct kf_arg k = {.pkt = pkt, .len = rtp_make(pkt, 96, false, x->seq++, 0xB0B0B0B0, 10)};
    with_stream(x, mindex, send_direct, &k);
    return k.keyframe;
}

static void test_forward_media(void)
{
    struct ffix x;
    ffix_init(&x);
    uint16_t ap, vp, rp, vp2;
    int afd = udp_open(AF_INET, &ap), vfd = udp_open(AF_INET, &vp), rfd = udp_open(AF_INET, &rp);
    int vfd2 = udp_open(AF_INET, &vp2);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,"
             "\"publisher_id\":PID,\"secret\":\"sec\",\"streams\":[{\"mid\":\"0\",\"port\":%u},"
             "{\"mid\":\"1\",\"port\":%u,\"rtcp_port\":%u,\"ssrc\":4660,\"pt\":100},"
             "{\"mid\":\"7\",\"port\":5006},{\"mid\":\"1\",\"port\":%u,\"host\":\"localhost\"}]}",
             ap, vp, rp, vp2);
    json_t *r = req(&x, body);
    int64_t aid = fwd_id(r, 0), vid = fwd_id(r, 1), vid2 = fwd_id(r, 2);
    int64_t lrtcp = vint(json_array_get(json_object_get(r, "forwarders"), 1), "local_rtcp_port");
    ASSERT(aid > 0 && aid <= UINT32_MAX && vid > 0 && vid2 > 0);
    ASSERT(aid != vid && vid != vid2 && aid != vid2);
    ASSERT_GT(lrtcp, 0);
    ASSERT_JSON(r,
                "{\"videoroom\":\"rtp_forward\",\"room\":77,\"publisher_id\":%" PRIu64
                ",\"forwarders\":[{\"stream_id\":%" PRId64 ",\"host\":\"127.0.0.1\",\"port\":%u,"
                "\"type\":\"audio\"},{\"stream_id\":%" PRId64 ",\"host\":\"127.0.0.1\","
                "\"port\":%u,\"type\":\"video\",\"local_rtcp_port\":%" PRId64 ","
                "\"remote_rtcp_port\":%u,\"pt\":100,\"ssrc\":4660},{\"stream_id\":%" PRId64 ","
                "\"host\":\"127.0.0.1\",\"port\":%u,\"type\":\"video\"}]}",
                x.pub.id, aid, ap, vid, vp, lrtcp, rp, vid2, vp2);
    /* The RTCP port was "latched": two empty RTP headers from our RTCP socket. */
    uint8_t buf[2048], zero[12] = {0x80};
    for (int i = 0; i < 2; i++) {
        uint16_t from = 0;
        ASSERT_EQ(udp_recv(rfd, buf, sizeof buf, 1000, &from), 12);
        ASSERT_MEMEQ(buf, zero, 12);
        ASSERT_EQ(from, lrtcp);
    }
    /* Packets as received (extension included), or with SSRC and payload type rewritten. */
    uint8_t audio[400], video[400];
    size_t alen, vlen;
    for (int i = 0; i < 5; i++) {
        feed_pair(&x, audio, &alen, video, &vlen);
        ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 1000, NULL), (ssize_t)alen);
        ASSERT_MEMEQ(buf, audio, alen);
        ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 1000, NULL), (ssize_t)vlen);
        ASSERT_EQ(buf[1], 0x80 | 100); /* marker kept, pt 100 */
        ASSERT_EQ(rd_u32(buf + 8), 4660);
        ASSERT_MEMEQ(buf, video, 1);
        ASSERT_MEMEQ(buf + 2, video + 2, 6);
        ASSERT_MEMEQ(buf + 12, video + 12, vlen - 12);
        ASSERT_EQ(udp_recv(vfd2, buf, sizeof buf, 1000, NULL), (ssize_t)vlen);
        ASSERT_MEMEQ(buf, video, vlen);
    }
    /* A packet of another payload type (not the negotiated one) is not forwarded. */
    size_t olen = rtp_make(video, 97, false, x.seq++, 0xB0B0B0B0, 10);
    feed(&x, 1, video, olen);
    ASSERT_EQ(udp_recv(vfd2, buf, sizeof buf, 100, NULL), -1);
    ASSERT_EQ(counter(&x, 0, aid, "packets"), 5);
    ASSERT_EQ(counter(&x, 1, vid, "packets"), 5);
    ASSERT_EQ(counter(&x, 1, vid, "dropped"), 0);
    /* The receiver asks for a keyframe on its RTCP port: a PLI, then a FIR; garbage is not. */
    uint8_t rtcp[64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, rtcp, sizeof rtcp);
    ASSERT_EQ(gw_rtcp_write_pli(&w, 1, 4660), 0);
    udp_send_to(rfd, (uint16_t)lrtcp, rtcp, w.len);
    ASSERT(keyframe_wanted(&x, 1));
    ASSERT(!keyframe_wanted(&x, 1));
    gw_rtcp_writer_init(&w, rtcp, sizeof rtcp);
    ASSERT_EQ(gw_rtcp_write_fir(&w, 1, 4660, 3), 0);
    udp_send_to(rfd, (uint16_t)lrtcp, rtcp, w.len);
    ASSERT(keyframe_wanted(&x, 1));
    udp_send_to(rfd, (uint16_t)lrtcp, (const uint8_t *)"garbage!", 8);
    ASSERT(!keyframe_wanted(&x, 1));
    ASSERT_EQ(counter(&x, 1, vid, "keyframe_requests"), 2);
    /* Feedback from another port than the one given is not read. */
    uint16_t sp;
    int stranger = udp_open(AF_INET, &sp);
    gw_rtcp_writer_init(&w, rtcp, sizeof rtcp);
    ASSERT_EQ(gw_rtcp_write_pli(&w, 1, 4660), 0);
    udp_send_to(stranger, (uint16_t)lrtcp, rtcp, w.len);
    ASSERT(!keyframe_wanted(&x, 1));
    close(stranger);
    udp_drain(vfd);
    udp_drain(vfd2);
    /* listforwarders: the publisher with its forwarders, stream by stream; bob has none. */
    ASSERT_JSON(
        req(&x, "{\"request\":\"listforwarders\",\"room\":77,\"secret\":\"sec\"}"),
        "{\"videoroom\":\"forwarders\",\"room\":77,\"publishers\":[{\"publisher_id\":%" PRIu64
        ",\"display\":\"alice\",\"forwarders\":[{\"stream_id\":%" PRId64
        ",\"host\":\"127.0.0.1\",\"port\":%u,\"type\":\"audio\"},{\"stream_id\":%" PRId64
        ",\"host\":\"127.0.0.1\",\"port\":%u,\"type\":\"video\",\"local_rtcp_port\":%" PRId64
        ",\"remote_rtcp_port\":%u,\"pt\":100,\"ssrc\":4660},{\"stream_id\":%" PRId64
        ",\"host\":\"127.0.0.1\",\"port\":%u,\"type\":\"video\"}]}]}",
        x.pub.id, aid, ap, vid, vp, lrtcp, rp, vid2, vp2);
    /* The Admin API's message_plugin gets the same. */
    json_t *admin = NULL;
    json_t *q =
        json_pack("{s:s, s:i, s:s}", "request", "listforwarders", "room", ROOM, "secret", "sec");
    ASSERT_EQ(vr_plugin()->handle_admin_message(x.f.v, q, &admin), 0);
    json_decref(q);
    ASSERT_EQ(json_array_size(json_object_get(
                  json_array_get(json_object_get(admin, "publishers"), 0), "forwarders")),
              3);
    json_decref(admin);
    /* stop_rtp_forward: that forwarder stops, the others go on. */
    snprintf(
        body, sizeof body,
        "{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,\"stream_id\":%" PRId64
        ",\"secret\":\"sec\"}",
        vid);
    ASSERT_JSON(req(&x, body),
                "{\"videoroom\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":%" PRIu64
                ",\"stream_id\":%" PRId64 "}",
                x.pub.id, vid);
    char text[64];
    snprintf(text, sizeof text, "No such stream (%" PRId64 ")", vid);
    ASSERT_VR_ERROR(req(&x, body), 428, text);
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 1000, NULL), (ssize_t)alen);
    ASSERT_EQ(udp_recv(vfd2, buf, sizeof buf, 1000, NULL), (ssize_t)vlen);
    ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 100, NULL), -1);
    /* Once every forwarder was stopped, the publisher is not listed any more. */
    int64_t rest[] = {aid, vid2};
    for (size_t i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,"
                 "\"stream_id\":%" PRId64 ",\"secret\":\"sec\"}",
                 rest[i]);
        json_decref(req(&x, body));
    }
    ASSERT_JSON(req(&x, "{\"request\":\"listforwarders\",\"room\":77,\"secret\":\"sec\"}"),
                "{\"videoroom\":\"forwarders\",\"room\":77,\"publishers\":[]}");
    close(afd);
    close(vfd);
    close(vfd2);
    close(rfd);
    ffix_done(&x);
}

/* ---- destinations and options ---- */

static json_t *forward_to(struct ffix *x, const char *host, const char *stream)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"request\":\"rtp_forward\",\"host\":\"%s\",\"room\":77,\"publisher_id\":PID,"
             "\"secret\":\"sec\",\"streams\":[%s]}",
             host, stream);
    return req(x, body);
}

#define NOT_ALLOWED(h)                                                                             \
    "Invalid element (host " h " not allowed: forwarding goes only to loopback or to this "        \
    "namespace's addresses)"

static void test_forward_destinations(void)
{
    struct ffix x;
    ffix_init(&x);
    /* Only loopback or this namespace's own addresses: never off the machine. */
    ASSERT_VR_ERROR(forward_to(&x, "192.0.2.1", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    NOT_ALLOWED("192.0.2.1"));
    ASSERT_VR_ERROR(forward_to(&x, "::ffff:192.0.2.1", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    NOT_ALLOWED("192.0.2.1"));
    ASSERT_VR_ERROR(forward_to(&x, "2001:db8::1", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    NOT_ALLOWED("2001:db8::1"));
    ASSERT_VR_ERROR(forward_to(&x, "0.0.0.0", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    NOT_ALLOWED("0.0.0.0"));
    ASSERT_VR_ERROR(forward_to(&x, "224.0.0.1", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    NOT_ALLOWED("224.0.0.1"));
    ASSERT_VR_ERROR(forward_to(&x, "255.255.255.255", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    NOT_ALLOWED("255.255.255.255"));
    /* A stream's own host is checked; a global one no stream uses is not (as Janus, which
     * forwards to the stream's host). */
    ASSERT_VR_ERROR(
        forward_to(&x, "127.0.0.1", "{\"mid\":\"0\",\"port\":5002,\"host\":\"198.51.100.7\"}"), 430,
        NOT_ALLOWED("198.51.100.7"));
    uint16_t port;
    int fd = udp_open(AF_INET, &port);
    char stream[256];
    snprintf(stream, sizeof stream, "{\"mid\":\"0\",\"port\":%u,\"host\":\"127.0.0.1\"}", port);
    json_t *r = forward_to(&x, "198.51.100.7", stream);
    ASSERT_EQ(json_array_size(json_object_get(r, "forwarders")), 1);
    json_decref(r);
    /* Names are not looked up (no DNS from a request), but for localhost. */
    ASSERT_VR_ERROR(forward_to(&x, "example.invalid", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    "Could not resolve address (example.invalid)...");
    ASSERT_VR_ERROR(forward_to(&x, "", "{\"mid\":\"0\",\"port\":5002}"), 430,
                    "Could not resolve address ()...");
    /* Values Janus would truncate are refused. */
    ASSERT_VR_ERROR(forward_to(&x, "127.0.0.1", "{\"mid\":\"0\",\"port\":0}"), 430,
                    "Invalid element (port should be between 1 and 65535)");
    ASSERT_VR_ERROR(forward_to(&x, "127.0.0.1", "{\"mid\":\"0\",\"port\":70000}"), 430,
                    "Invalid element (port should be between 1 and 65535)");
    ASSERT_VR_ERROR(forward_to(&x, "127.0.0.1", "{\"mid\":\"0\",\"port\":5,\"rtcp_port\":65536}"),
                    430, "Invalid element (rtcp_port should be between 1 and 65535)");
    ASSERT_VR_ERROR(forward_to(&x, "127.0.0.1", "{\"mid\":\"0\",\"port\":5,\"pt\":128}"), 430,
                    "Invalid element (pt should be between 0 and 127)");
    ASSERT_VR_ERROR(forward_to(&x, "127.0.0.1", "{\"mid\":\"0\",\"port\":5,\"ssrc\":4294967296}"),
                    430, "Invalid element (ssrc should be 32 bits)");
    /* Too many streams in one request, or forwarders on one stream. */
    char many[8192];
    size_t o = 0;
    for (int i = 0; i < 65; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "%s{\"mid\":\"0\",\"port\":%u}",
                              i ? "," : "", port);
    char body[9000];
    snprintf(body, sizeof body,
             "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
             "\"secret\":\"sec\",\"streams\":[%s]}",
             many);
    ASSERT_VR_ERROR(req(&x, body), 430, "Invalid element (at most 64 streams)");
    /* 32 per stream: one is there already, so 32 more is one too many */
    o = 0;
    for (int i = 0; i < 32; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "%s{\"mid\":\"0\",\"port\":%u}",
                              i ? "," : "", port);
    snprintf(body, sizeof body,
             "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
             "\"secret\":\"sec\",\"streams\":[%s]}",
             many);
    ASSERT_VR_ERROR(req(&x, body), 430, "Invalid element (at most 32 forwarders per stream)");
    /* IPv6 loopback, when this machine has it. */
    uint16_t port6;
    int fd6 = udp_open(AF_INET6, &port6);
    if (fd6 >= 0) {
        snprintf(stream, sizeof stream, "{\"mid\":\"0\",\"port\":%u}", port6);
        r = forward_to(&x, "::1", stream);
        ASSERT_STREQ(json_string_value(json_object_get(
                         json_array_get(json_object_get(r, "forwarders"), 0), "host")),
                     "::1");
        json_decref(r);
        uint8_t audio[400], video[400], buf[2048];
        size_t alen, vlen;
        feed_pair(&x, audio, &alen, video, &vlen);
        ASSERT_EQ(udp_recv(fd6, buf, sizeof buf, 1000, NULL), (ssize_t)alen);
        ASSERT_MEMEQ(buf, audio, alen);
        close(fd6);
    }
    close(fd);
    ffix_done(&x);
}

/* The deprecated form (no `streams`): the first audio and video streams, and `rtp_stream`. */
static void test_forward_legacy(void)
{
    struct ffix x;
    ffix_init(&x);
    uint16_t ap, vp;
    int afd = udp_open(AF_INET, &ap), vfd = udp_open(AF_INET, &vp);
    char body[512];
    snprintf(body, sizeof body,
             "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
             "\"secret\":\"sec\",\"audio_port\":%u,\"video_port\":%u,\"video_pt\":100,"
             "\"data_port\":5010}",
             ap, vp);
    json_t *r = req(&x, body);
    json_t *rs = json_object_get(r, "rtp_stream");
    int64_t aid = vint(rs, "audio_stream_id"), vid = vint(rs, "video_stream_id");
    ASSERT_JSON(r,
                "{\"videoroom\":\"rtp_forward\",\"room\":77,\"publisher_id\":%" PRIu64
                ",\"rtp_stream\":{\"audio_stream_id\":%" PRId64 ",\"audio\":%u,"
                "\"video_stream_id\":%" PRId64 ",\"video\":%u,\"warning\":\"deprecated_api\","
                "\"host\":\"127.0.0.1\"}}",
                x.pub.id, aid, ap, vid, vp);
    uint8_t audio[400], video[400], buf[2048];
    size_t alen, vlen;
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 1000, NULL), (ssize_t)alen);
    ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 1000, NULL), (ssize_t)vlen);
    ASSERT_EQ(buf[1] & 0x7f, 100);
    /* The deprecated form checks the global host. */
    ASSERT_VR_ERROR(req(&x, "{\"request\":\"rtp_forward\",\"host\":\"192.0.2.1\",\"room\":77,"
                            "\"publisher_id\":PID,\"secret\":\"sec\",\"audio_port\":5002}"),
                    430, NOT_ALLOWED("192.0.2.1"));
    close(afd);
    close(vfd);
    ffix_done(&x);
}

/* srtp_suite + srtp_crypto: what arrives unprotects with the same key into the packet sent. */
static void test_forward_srtp(void)
{
    static const char key64[] = "WbTBosdVUZqEb6Htqhn+m3z7wUh4RJVR8nE15GbN"; /* 30 bytes */
    struct ffix x;
    ffix_init(&x);
    uint16_t port;
    int fd = udp_open(AF_INET, &port);
    char body[512];
    snprintf(body, sizeof body,
             "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
             "\"secret\":\"sec\",\"srtp_suite\":32,\"srtp_crypto\":\"%s\",\"streams\":[{\"mid\":"
             "\"1\",\"port\":%u}]}",
             key64, port);
    json_t *r = req(&x, body);
    ASSERT(
        json_is_true(json_object_get(json_array_get(json_object_get(r, "forwarders"), 0), "srtp")));
    json_decref(r);
    uint8_t key[30];
    ASSERT_EQ(EVP_DecodeBlock(key, (const unsigned char *)key64, 40), 30);
    struct vb_srtp *rx;
    ASSERT_EQ(vb_srtp_create(VB_SRTP_AES128_CM_SHA1_32, key, key, 30, &rx), 0);
    for (int i = 0; i < 3; i++) {
        uint8_t audio[400], video[400], buf[2048];
        size_t alen, vlen;
        feed_pair(&x, audio, &alen, video, &vlen);
        ssize_t n = udp_recv(fd, buf, sizeof buf, 1000, NULL);
        ASSERT_EQ(n, (ssize_t)vlen + 4); /* the 32-bit tag */
        size_t len = (size_t)n;
        ASSERT_EQ(vb_srtp_unprotect_rtp(rx, buf, &len), 0);
        ASSERT_EQ(len, vlen);
        ASSERT_MEMEQ(buf, video, vlen);
    }
    vb_srtp_destroy(rx);
    snprintf(body, sizeof body,
             "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":PID,"
             "\"secret\":\"sec\",\"srtp_suite\":80,\"srtp_crypto\":\"c2hvcnQ=\",\"streams\":[{"
             "\"mid\":\"1\",\"port\":%u}]}",
             port);
    ASSERT_VR_ERROR(req(&x, body), 430,
                    "Invalid element (srtp_crypto should be a base64 master key and salt of 30 "
                    "bytes)");
    close(fd);
    ffix_done(&x);
}

/* A destination that refuses (ICMP port unreachable): the packets are dropped and counted. */
static void test_forward_drops(void)
{
    struct ffix x;
    ffix_init(&x);
    uint16_t port;
    close(udp_open(AF_INET, &port)); /* nobody listens there now */
    char stream[128];
    snprintf(stream, sizeof stream, "{\"mid\":\"0\",\"port\":%u}", port);
    json_t *r = forward_to(&x, "127.0.0.1", stream);
    int64_t id = fwd_id(r, 0);
    json_decref(r);
    uint8_t audio[400], video[400];
    size_t alen, vlen;
    for (int i = 0; i < 10; i++)
        feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_GT(counter(&x, 0, id, "dropped"), 0);
    ASSERT_EQ(counter(&x, 0, id, "dropped") + counter(&x, 0, id, "packets"), 10);
    ffix_done(&x);
}

/* ---- lifecycle ---- */

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static const char list_req[] = "{\"request\":\"listforwarders\",\"room\":77,\"secret\":\"sec\"}";

/* Forwarders die with unpublish and leave; Janus 1.1.2 still lists an unpublished publisher
 * (with no forwarders) until it leaves. */
static void test_forward_lifecycle(void)
{
    struct ffix x;
    ffix_init(&x);
    int fds = open_fds();
    uint16_t ap, vp;
    int afd = udp_open(AF_INET, &ap), vfd = udp_open(AF_INET, &vp);
    char streams[256];
    snprintf(streams, sizeof streams,
             "{\"mid\":\"0\",\"port\":%u},{\"mid\":\"1\",\"port\":%u,\"rtcp_port\":%u}", ap, vp,
             vp);
    json_t *r = forward_to(&x, "127.0.0.1", streams);
    int64_t aid = fwd_id(r, 0);
    json_decref(r);
    ASSERT_GT(open_fds(), fds + 2); /* ours, and the forwarders' */
    uint8_t audio[400], video[400], buf[2048];
    size_t alen, vlen;
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 1000, NULL), (ssize_t)alen);
    udp_drain(vfd);
    ASSERT_JSON(vasync(&x.f, x.pub.s, x.pub.h, "{\"request\":\"unpublish\"}"),
                "{\"videoroom\":\"event\",\"room\":77,\"unpublished\":\"ok\"}");
    ASSERT_EQ(open_fds(), fds + 2); /* the forwarders' sockets are closed */
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 100, NULL), -1);
    ASSERT_JSON(
        req(&x, list_req),
        "{\"videoroom\":\"forwarders\",\"room\":77,\"publishers\":[{\"publisher_id\":%" PRIu64
        ",\"display\":\"alice\",\"forwarders\":[]}]}",
        x.pub.id);
    char body[256], text[64];
    snprintf(
        body, sizeof body,
        "{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,\"stream_id\":%" PRId64
        ",\"secret\":\"sec\"}",
        aid);
    snprintf(text, sizeof text, "No such stream (%" PRId64 ")", aid);
    ASSERT_VR_ERROR(req(&x, body), 428, text);
    r = forward_to(&x, "127.0.0.1", streams);
    ASSERT_EQ(json_array_size(json_object_get(r, "forwarders")), 0);
    json_decref(r);
    /* Published again: new forwarders work; stopping them leaves the old entry as Janus does. */
    publish(&x, &x.pub);
    snprintf(streams, sizeof streams, "{\"mid\":\"0\",\"port\":%u}", ap);
    r = forward_to(&x, "127.0.0.1", streams);
    aid = fwd_id(r, 0);
    json_decref(r);
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 1000, NULL), (ssize_t)alen);
    snprintf(
        body, sizeof body,
        "{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,\"stream_id\":%" PRId64
        ",\"secret\":\"sec\"}",
        aid);
    json_decref(req(&x, body));
    ASSERT_JSON(
        req(&x, list_req),
        "{\"videoroom\":\"forwarders\",\"room\":77,\"publishers\":[{\"publisher_id\":%" PRIu64
        ",\"display\":\"alice\",\"forwarders\":[]}]}",
        x.pub.id);
    snprintf(streams, sizeof streams, "{\"mid\":\"0\",\"port\":%u}", ap);
    r = vsync(
        &x.f, x.cs, x.ch,
        "{\"request\":\"rtp_forward\",\"host\":\"127.0.0.1\",\"room\":77,\"publisher_id\":%" PRIu64
        ",\"secret\":\"sec\",\"streams\":[%s]}",
        x.other.id, streams);
    ASSERT_EQ(json_array_size(json_object_get(r, "forwarders")), 0); /* bob never published */
    json_decref(r);
    /* Leaving (and being kicked) takes the forwarders and the entry away. */
    r = forward_to(&x, "127.0.0.1", streams);
    json_decref(r);
    ASSERT_JSON(vasync(&x.f, x.pub.s, x.pub.h, "{\"request\":\"leave\"}"),
                "{\"videoroom\":\"event\",\"room\":77,\"leaving\":\"ok\"}");
    ASSERT_JSON(req(&x, list_req), "{\"videoroom\":\"forwarders\",\"room\":77,\"publishers\":[]}");
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 100, NULL), -1);
    ASSERT_EQ(open_fds(), fds + 2);
    close(afd);
    close(vfd);
    ffix_done(&x);
}

static void test_forward_kick(void)
{
    struct ffix x;
    ffix_init(&x);
    int fds = open_fds();
    json_decref(forward_to(&x, "127.0.0.1",
                           "{\"mid\":\"0\",\"port\":5002},{\"mid\":\"1\","
                           "\"port\":5004,\"rtcp_port\":5005}"));
    ASSERT_EQ(open_fds(), fds + 3);
    json_decref(req(&x, "{\"request\":\"kick\",\"room\":77,\"secret\":\"sec\",\"id\":PID}"));
    ASSERT_EQ(open_fds(), fds);
    ASSERT_JSON(req(&x, list_req), "{\"videoroom\":\"forwarders\",\"room\":77,\"publishers\":[]}");
    ffix_done(&x);
}

/* ---- concurrency ---- */

struct feeder {
    struct ffix *x;
    atomic_bool stop;
    int sent;
};

static void *feed_loop(void *arg)
{
    struct feeder *fd = arg;
    uint8_t pkt[400];
    for (uint16_t seq = 0; !atomic_load(&fd->stop); seq++, fd->sent++) {
        size_t len = rtp_make(pkt, seq % 2 ? 96 : 111, false, seq, 0xC0C0C0C0, 200);
        feed(fd->x, seq % 2, pkt, len);
    }
    return NULL;
}

/* Forwarders added and stopped while the publisher's packets flow, then an unpublish: every
 * forwarder gets packets only while it exists (checked by ASan/TSan builds for races). */
static void test_forward_concurrent(void)
{
    struct ffix x;
    ffix_init(&x);
    uint16_t port;
    int rfd = udp_open(AF_INET, &port);
    struct feeder fd = {.x = &x};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, feed_loop, &fd), 0);
    char stream[128], body[256];
    snprintf(stream, sizeof stream,
             "{\"mid\":\"0\",\"port\":%u},{\"mid\":\"1\",\"port\":%u,\"rtcp_port\":%u,\"ssrc\":9}",
             port, port, port);
    for (int i = 0; i < 40; i++) {
        json_t *r = forward_to(&x, "127.0.0.1", stream);
        int64_t ids[2] = {fwd_id(r, 0), fwd_id(r, 1)};
        json_decref(r);
        json_decref(req(&x, list_req));
        for (int k = 0; k < 2; k++) {
            snprintf(body, sizeof body,
                     "{\"request\":\"stop_rtp_forward\",\"room\":77,\"publisher_id\":PID,"
                     "\"stream_id\":%" PRId64 ",\"secret\":\"sec\"}",
                     ids[k]);
            r = req(&x, body);
            ASSERT_STREQ(json_string_value(json_object_get(r, "videoroom")), "stop_rtp_forward");
            json_decref(r);
        }
        udp_drain(rfd);
    }
    json_decref(forward_to(&x, "127.0.0.1", stream));
    json_decref(vasync(&x.f, x.pub.s, x.pub.h, "{\"request\":\"unpublish\"}"));
    atomic_store(&fd.stop, true);
    pthread_join(t, NULL);
    ASSERT_GT(fd.sent, 0);
    ASSERT_GT(udp_drain(rfd), 0);
    close(rfd);
    ffix_done(&x);
}

static const struct test_case cases[] = {
    {"forward_locked", test_forward_locked},
    {"forward_errors", test_forward_errors},
    {"forward_media", test_forward_media},
    {"forward_destinations", test_forward_destinations},
    {"forward_legacy", test_forward_legacy},
    {"forward_srtp", test_forward_srtp},
    {"forward_drops", test_forward_drops},
    {"forward_lifecycle", test_forward_lifecycle},
    {"forward_kick", test_forward_kick},
    {"forward_concurrent", test_forward_concurrent},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
