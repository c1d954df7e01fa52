/* Tests of cascading (remote publishers and remotizations) through a real gateway core, with
 * both instances in one plugin: alice publishes VR_OFFER (Opus mid "0", VP8 mid "1") in room SRC,
 * her packets are fed to the plugin's incoming_rtp hook as the media layer would, and
 * publish_remotely sends them over loopback UDP to a remote publisher of room DST, whose streams
 * are checked through an rtp_forward of room DST to this test's sockets. Other tests play the
 * sending instance themselves from UDP sockets. Covered: Janus 1.1.2's replies and error texts
 * (taken from the real one) for add/update/remove_remote_publisher, publish_remotely,
 * unpublish_remotely and listremotes; the events the room's participants get; listparticipants
 * and joined lists showing remote publishers; the demultiplexing by SSRC (payload types set,
 * unknown SSRCs, substreams and RTCP dropped); the keyframe requests both ways (the latched RTCP
 * address, a PLI naming its stream by SSRC); recording of a remote publisher; kick, room
 * destroy and plugin shutdown with remote publishers receiving packets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive.h"
#include "common/bytes.h"
#include "gateway/rtp/rtcp.h"
#include "gateway/videoroom/vr_internal.h"
#include "tests/archive/archive_util.h"
#include "tests/gateway/test_videoroom.h"

#define SRC 10 /* alice's room: no secret */
#define DST 20 /* the remote publishers' room: secret "sec" */

struct cfix {
    char dir[512];
    struct catalog *c;
    struct mjr_engine *e;
    struct archive *a;
    struct vfix f;
    uint64_t cs, ch;      /* a control handle for the synchronous requests */
    uint64_t ws, wh, wid; /* "watcher", a publisher in DST who never publishes */
    uint64_t as, ah, aid; /* alice, published in SRC */
    uint16_t seq;
};

/* ---- fixture ---- */

static json_t *ctl(struct cfix *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *ctl(struct cfix *x, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return vsync(&x->f, x->cs, x->ch, "%s", text);
}

static uint64_t join(struct cfix *x, uint64_t room, const char *display, uint64_t *s, uint64_t *h)
{
    *s = vsession(&x->f);
    *h = vattach(&x->f, *s);
    json_t *r = vasync(&x->f, *s, *h,
                       "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%" PRIu64
                       ",\"display\":\"%s\"}",
                       room, display);
    uint64_t id = (uint64_t)vint(r, "id");
    json_decref(r);
    return id;
}

/* Rooms SRC and DST (DST recording when `record`), alice published in SRC, watcher in DST. */
static void cfix_init(struct cfix *x, const char *tag, bool record)
{
    memset(x, 0, sizeof *x);
    x->c = util_catalog_open(x->dir, sizeof x->dir, tag);
    struct mjr_engine_config ecfg = {.buffered = true};
    ASSERT_EQ(mjr_engine_create(&ecfg, &x->e), 0);
    struct archive_config acfg = {.data_dir = x->dir, .engine = x->e, .catalog = x->c};
    ASSERT_EQ(archive_create(&acfg, &x->a), 0);
    struct vr_config cfg = {.archive = x->a};
    vfix_init_cfg(&x->f, &cfg);
    x->cs = vsession(&x->f);
    x->ch = vattach(&x->f, x->cs);
    json_decref(ctl(x, "{\"request\":\"create\",\"room\":%d,\"publishers\":6}", SRC));
    json_decref(ctl(x,
                    "{\"request\":\"create\",\"room\":%d,\"secret\":\"sec\",\"publishers\":6,"
                    "\"audiocodec\":\"opus\",\"videocodec\":\"vp8,vp9\",\"record\":%s}",
                    DST, record ? "true" : "false"));
    x->aid = join(x, SRC, "alice", &x->as, &x->ah);
    json_t *ev = vasync_jsep(&x->f, x->as, x->ah, VR_OFFER, "{\"request\":\"publish\"}");
    ASSERT_STREQ(json_string_value(json_object_get(ev, "configured")), "ok");
    json_decref(ev);
    x->wid = join(x, DST, "watcher", &x->ws, &x->wh);
}

/* Ends the plugin (remote publishers still receiving), then the archive. */
static void cfix_done(struct cfix *x)
{
    vfix_done(&x->f);
    archive_destroy(x->a);
    catalog_flush(x->c);
    mjr_engine_destroy(x->e);
    catalog_close(x->c);
    util_rm_tree(x->dir);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- UDP and RTP ---- */

/* A non-blocking UDP socket on 127.0.0.1 (port 0 = any); *port gets its port. */
static int udp_open(uint16_t want, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(want)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        close(fd);
        return -1;
    }
    socklen_t len = sizeof sin;
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* The next datagram within `ms`: its length, or -1. */
static ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return -1;
    return recv(fd, buf, cap, 0);
}

static int udp_drain(int fd, int ms)
{
    uint8_t buf[2048];
    int n = 0;
    while (udp_recv(fd, buf, sizeof buf, ms) >= 0)
        n++;
    return n;
}

static void udp_send_to(int fd, uint16_t port, const uint8_t *buf, size_t len)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(sendto(fd, buf, len, 0, (struct sockaddr *)&sin, sizeof sin), (ssize_t)len);
}

static size_t rtp_make(uint8_t *buf, uint8_t pt, uint16_t seq, uint32_t ssrc, size_t n)
{
    return util_rtp(buf, pt, seq, (uint32_t)seq * 960u, ssrc, n, (uint8_t)seq);
}

/* One packet of alice's on m-line `mindex`, as her media layer would hand it over. */
static void feed(struct cfix *x, int mindex, const uint8_t *pkt, size_t len)
{
    struct gw_handle *gh = vhandle(&x->f, x->as, x->ah);
    ASSERT(gw_handle_hook_enter(gh));
    vr_plugin()->incoming_rtp(x->f.v, gh, gw_handle_plugin_state(gh), mindex, mindex == 1, pkt,
                              len);
    gw_handle_hook_leave(gh);
    gw_handle_unref(gh);
}

/* An audio (pt 111) and a video (pt 96) packet of alice's. */
static void feed_pair(struct cfix *x, uint8_t *audio, size_t *alen, uint8_t *video, size_t *vlen)
{
    *alen = rtp_make(audio, 111, x->seq, 0xA0A0A0A0, 40);
    *vlen = rtp_make(video, 96, x->seq, 0xB0B0B0B0, 300);
    x->seq++;
    feed(x, 0, audio, *alen);
    feed(x, 1, video, *vlen);
}

/* ---- requests ---- */

#define AUDIO_VIDEO                                                                                \
    "[{\"type\":\"audio\",\"mindex\":0,\"mid\":\"a\",\"codec\":\"opus\"},"                         \
    "{\"type\":\"video\",\"mindex\":1,\"mid\":\"v\",\"codec\":\"vp8\"}]"

/* add_remote_publisher in DST with `streams` (JSON text); its id, port and RTCP port. */
static uint64_t add_remote(struct cfix *x, const char *streams, uint16_t *port, uint16_t *rtcp)
{
    json_t *r = ctl(x,
                    "{\"request\":\"add_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                    "\"display\":\"far\",\"streams\":%s}",
                    DST, streams);
    ASSERT_STREQ(json_string_value(json_object_get(r, "videoroom")), "success");
    ASSERT_STREQ(json_string_value(json_object_get(r, "ip")), "127.0.0.1");
    uint64_t id = (uint64_t)vint(r, "id");
    *port = (uint16_t)vint(r, "port");
    *rtcp = (uint16_t)vint(r, "rtcp_port");
    ASSERT_GT(*port, 0);
    ASSERT_GT(*rtcp, 0);
    ASSERT_NE(*port, *rtcp);
    json_decref(r);
    json_decref(vnotice(&x->f, x->ws, x->wh)); /* the watcher hears of it */
    return id;
}

/* rtp_forward of DST's remote publisher `id`: mid "0" to `ap` (when not 0), mid "1" to `vp`
 * with RTCP port `rp` (when not 0); the video forwarder's local RTCP port. */
static int64_t forward_remote(struct cfix *x, uint64_t id, uint16_t ap, uint16_t vp, uint16_t rp)
{
    char streams[256] = "";
    if (ap)
        snprintf(streams, sizeof streams, "{\"mid\":\"0\",\"port\":%u},", ap);
    size_t n = strlen(streams);
    if (rp)
        snprintf(streams + n, sizeof streams - n, "{\"mid\":\"1\",\"port\":%u,\"rtcp_port\":%u}",
                 vp, rp);
    else
        snprintf(streams + n, sizeof streams - n, "{\"mid\":\"1\",\"port\":%u}", vp);
    json_t *r = ctl(x,
                    "{\"request\":\"rtp_forward\",\"room\":%d,\"publisher_id\":%" PRIu64
                    ",\"secret\":\"sec\",\"host\":\"127.0.0.1\",\"streams\":[%s]}",
                    DST, id, streams);
    json_t *list = json_object_get(r, "forwarders");
    ASSERT_EQ(json_array_size(list), ap ? 2 : 1);
    int64_t lrtcp =
        json_integer_value(json_object_get(json_array_get(list, ap ? 1 : 0), "local_rtcp_port"));
    json_decref(r);
    return lrtcp;
}

/* Replies of real Janus 1.1.2 (room DST's secret given where it is needed). */
static const struct {
    const char *body;
    int code;
    const char *text;
} janus_errors[] = {
    {"{\"request\":\"add_remote_publisher\"}", 429, "Missing mandatory element (room)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20}", 429,
     "Missing mandatory element (streams)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"id\":-3,\"streams\":[]}", 430,
     "Invalid element type (id should be a positive integer)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"streams\":[]}", 430,
     "Invalid element value (streams can't be empty)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"streams\":[{\"type\":\"foo\","
     "\"mindex\":0,\"mid\":\"a\"}]}",
     430, "Invalid element value (type)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"streams\":[{\"type\":\"audio\","
     "\"mindex\":0,\"mid\":\"a\"}]}",
     429, "Missing mandatory element (codec)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"streams\":[{\"type\":\"audio\","
     "\"mindex\":0,\"mid\":\"a\",\"codec\":\"xx\"}]}",
     429, "Invalid element value (unsupported codec)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"streams\":[{\"type\":\"audio\","
     "\"mindex\":-1,\"mid\":\"a\",\"codec\":\"opus\"}]}",
     430, "Invalid element type (mindex should be a positive integer)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"streams\":[{\"type\":\"audio\","
     "\"mid\":\"a\",\"codec\":\"opus\"}]}",
     429, "Missing mandatory element (mindex)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"port\":\"x\",\"streams\":" AUDIO_VIDEO
     "}",
     430, "Invalid element type (port should be a positive integer)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"srtp_suite\":33,\"srtp_crypto\":\"x\","
     "\"streams\":" AUDIO_VIDEO "}",
     430, "Invalid SRTP suite (33)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":999,\"streams\":" AUDIO_VIDEO "}", 426,
     "No such room (999)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"streams\":" AUDIO_VIDEO "}", 429,
     "Missing mandatory element (secret)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"secret\":\"no\",\"streams\":" AUDIO_VIDEO
     "}",
     433, "Unauthorized (wrong secret)"},
    {"{\"request\":\"update_remote_publisher\",\"room\":20,\"streams\":[]}", 429,
     "Missing mandatory element (id)"},
    {"{\"request\":\"update_remote_publisher\",\"room\":20,\"id\":88}", 429,
     "Missing mandatory element (streams)"},
    {"{\"request\":\"update_remote_publisher\",\"room\":20,\"id\":12345,\"secret\":\"sec\","
     "\"streams\":[]}",
     428, "No such remote publisher (12345)"},
    {"{\"request\":\"remove_remote_publisher\",\"room\":20}", 429,
     "Missing mandatory element (id)"},
    {"{\"request\":\"remove_remote_publisher\",\"room\":20,\"id\":12345,\"secret\":\"sec\"}", 428,
     "No such remote publisher (12345)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"host\":\"127.0.0.1\","
     "\"port\":1}",
     429, "Missing mandatory element (remote_id)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":5,"
     "\"host\":\"127.0.0.1\",\"port\":1}",
     430, "Invalid element type (remote_id should be a string)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":\"r3\","
     "\"host\":\"127.0.0.1\"}",
     429, "Missing mandatory element (port)"},
    {"{\"request\":\"publish_remotely\",\"publisher_id\":999,\"remote_id\":\"r3\","
     "\"host\":\"127.0.0.1\",\"port\":7000}",
     429, "Missing mandatory element (room)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"remote_id\":\"r3\",\"host\":\"127.0.0.1\","
     "\"port\":7000}",
     429, "Missing mandatory element (publisher_id)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":\"r3\","
     "\"host\":\"127.0.0.1\",\"port\":0}",
     430, "Invalid element (port must be a non-zero positive integer)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":\"r3\","
     "\"host\":\"127.0.0.1\",\"port\":7000,\"host_family\":\"ipx\"}",
     430, "Unsupported protocol family (ipx)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":\"r3\","
     "\"host\":\"no.such.host.invalid\",\"port\":6000}",
     430, "Could not resolve address (no.such.host.invalid)..."},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":999,\"remote_id\":\"r3\","
     "\"host\":\"127.0.0.1\",\"port\":7000}",
     428, "No such feed (999)"},
    {"{\"request\":\"unpublish_remotely\",\"room\":10,\"publisher_id\":AID}", 429,
     "Missing mandatory element (remote_id)"},
    {"{\"request\":\"unpublish_remotely\",\"room\":10,\"publisher_id\":999,\"remote_id\":\"r2\"}",
     428, "No such publisher (999)"},
    {"{\"request\":\"unpublish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":\"r9\"}",
     428, "No such remotization (r9)"},
    {"{\"request\":\"listremotes\",\"room\":10}", 429, "Missing mandatory element (publisher_id)"},
    {"{\"request\":\"listremotes\",\"room\":10,\"publisher_id\":999}", 428,
     "No such publisher (999)"},
};

/* Ours only: what Janus would accept but we refuse on purpose. */
static const struct {
    const char *body;
    int code;
    const char *text;
} our_errors[] = {
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":\"r3\","
     "\"host\":\"192.0.2.1\",\"port\":7000}",
     430,
     "Invalid element (host 192.0.2.1 not allowed: forwarding goes only to loopback or to this "
     "namespace's addresses)"},
    {"{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,\"remote_id\":\"r3\","
     "\"host\":\"127.0.0.1\",\"port\":70000}",
     430, "Invalid element (port should be between 1 and 65535)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"secret\":\"sec\",\"port\":70000,"
     "\"streams\":" AUDIO_VIDEO "}",
     430, "Invalid element (port and rtcp_port should be at most 65535)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"secret\":\"sec\",\"mcast\":\"232.1.1.1\","
     "\"streams\":" AUDIO_VIDEO "}",
     430, "Invalid element (mcast: multicast groups are not supported)"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"secret\":\"sec\",\"iface\":\"nope0\","
     "\"streams\":" AUDIO_VIDEO "}",
     499, "Invalid network interface configuration for remote publisher"},
    {"{\"request\":\"add_remote_publisher\",\"room\":20,\"secret\":\"sec\",\"iface\":\"192.0.2.1\","
     "\"streams\":" AUDIO_VIDEO "}",
     499, "Could not open UDP socket for RTP stream"},
};

/* A table body with AID replaced by alice's id. */
static json_t *req(struct cfix *x, const char *tmpl)
{
    char id[32], text[2048];
    snprintf(id, sizeof id, "%" PRIu64, x->aid);
    size_t o = 0;
    for (const char *s = tmpl; *s && o + sizeof id < sizeof text;) {
        if (strncmp(s, "AID", 3) == 0) {
            o += (size_t)snprintf(text + o, sizeof text - o, "%s", id);
            s += 3;
        } else {
            text[o++] = *s++;
        }
    }
    text[o] = '\0';
    return ctl(x, "%s", text);
}

static void test_remote_errors(void)
{
    struct cfix x;
    cfix_init(&x, "vr-remote-err", false);
    for (size_t i = 0; i < sizeof janus_errors / sizeof janus_errors[0]; i++) {
        json_t *r = req(&x, janus_errors[i].body);
        if (json_integer_value(json_object_get(r, "error_code")) != janus_errors[i].code)
            fprintf(stderr, "case %zu: %s\n", i, janus_errors[i].body);
        ASSERT_VR_ERROR(r, janus_errors[i].code, janus_errors[i].text);
    }
    for (size_t i = 0; i < sizeof our_errors / sizeof our_errors[0]; i++)
        ASSERT_VR_ERROR(req(&x, our_errors[i].body), our_errors[i].code, our_errors[i].text);
    /* A remote publisher cannot be remotized; a remote_id is taken once per publisher. */
    uint16_t port, rtcp;
    uint64_t rid = add_remote(&x, AUDIO_VIDEO, &port, &rtcp);
    ASSERT_VR_ERROR(ctl(&x,
                        "{\"request\":\"publish_remotely\",\"room\":%d,\"publisher_id\":%" PRIu64
                        ",\"secret\":\"sec\",\"remote_id\":\"r1\",\"host\":\"127.0.0.1\","
                        "\"port\":%u}",
                        DST, rid, port),
                    430, "Only local publishers can be remotized");
    json_decref(req(&x, "{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,"
                        "\"remote_id\":\"r1\",\"host\":\"127.0.0.1\",\"port\":9}"));
    ASSERT_VR_ERROR(req(&x, "{\"request\":\"publish_remotely\",\"room\":10,\"publisher_id\":AID,"
                            "\"remote_id\":\"r1\",\"host\":\"127.0.0.1\",\"port\":9}"),
                    436, "Remotization already exists (r1)");
    /* A local publisher is not a remote publisher. */
    char text[64];
    snprintf(text, sizeof text, "No such remote publisher (%" PRIu64 ")", x.wid);
    ASSERT_VR_ERROR(ctl(&x,
                        "{\"request\":\"remove_remote_publisher\",\"room\":%d,\"id\":%" PRIu64
                        ",\"secret\":\"sec\"}",
                        DST, x.wid),
                    428, text);
    cfix_done(&x);
}

/* lock_rtp_forward: publish_remotely needs the plugin's admin_key too, as in Janus. */
static void test_remote_locked(void)
{
    struct vfix f;
    struct vr_config cfg = {.admin_key = "ak", .lock_rtp_forward = true};
    vfix_init_cfg(&f, &cfg);
    uint64_t s = vsession(&f), h = vattach(&f, s);
    json_decref(vsync(&f, s, h, "{\"request\":\"create\",\"room\":%d,\"admin_key\":\"ak\"}", SRC));
    uint64_t ps = vsession(&f), ph = vattach(&f, ps);
    json_t *r =
        vasync(&f, ps, ph, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%d}", SRC);
    uint64_t pid = (uint64_t)vint(r, "id");
    json_decref(r);
#define LOCKED(extra)                                                                              \
    vsync(&f, s, h,                                                                                \
          "{\"request\":\"publish_remotely\",\"room\":%d,\"publisher_id\":%" PRIu64                \
          ",\"remote_id\":\"r\",\"host\":\"127.0.0.1\",\"port\":9" extra "}",                      \
          SRC, pid)
    ASSERT_VR_ERROR(LOCKED(""), 429, "Missing mandatory element (admin_key)");
    ASSERT_VR_ERROR(LOCKED(",\"admin_key\":\"no\""), 433, "Unauthorized (wrong admin_key)");
    ASSERT_JSON(LOCKED(",\"admin_key\":\"ak\""),
                "{\"videoroom\":\"success\",\"room\":%d,\"id\":%" PRIu64 ",\"remote_id\":\"r\"}",
                SRC, pid);
#undef LOCKED
    vfix_done(&f);
}

/* ---- the control plane ---- */

static void test_remote_publisher(void)
{
    struct cfix x;
    cfix_init(&x, "vr-remote-pub", false);
    json_t *r = ctl(&x,
                    "{\"request\":\"add_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                    "\"id\":77,\"display\":\"rem\",\"streams\":[{\"type\":\"audio\","
                    "\"mindex\":0,\"mid\":\"a\",\"codec\":\"opus\",\"fec\":true,"
                    "\"audiolevel_ext_id\":1},{\"type\":\"video\",\"mindex\":1,\"mid\":\"v\","
                    "\"codec\":\"vp8\",\"description\":\"cam\"},{\"type\":\"data\","
                    "\"mindex\":2,\"mid\":\"d\"}]}",
                    DST);
    int64_t port = vint(r, "port"), rtcp = vint(r, "rtcp_port");
    ASSERT_JSON(r,
                "{\"videoroom\":\"success\",\"room\":%d,\"id\":77,\"ip\":\"127.0.0.1\","
                "\"port\":%" PRId64 ",\"rtcp_port\":%" PRId64 "}",
                DST, port, rtcp);
    /* Announced at once, its streams named by position as Janus names them. */
#define REM77(display, desc0)                                                                      \
    "{\"id\":77,\"display\":\"" display "\",\"audio_codec\":\"opus\",\"video_codec\":\"vp8\","     \
    "\"streams\":[{\"type\":\"audio\",\"mindex\":0,\"mid\":\"0\"," desc0 "\"codec\":\"opus\","     \
    "\"fec\":true,\"talking\":false},{\"type\":\"video\",\"mindex\":1,\"mid\":\"1\","              \
    "\"description\":\"cam\",\"codec\":\"vp8\"},{\"type\":\"data\",\"mindex\":2,\"mid\":\"2\"}"
    ASSERT_JSON(vnotice(&x.f, x.ws, x.wh),
                "{\"videoroom\":\"event\",\"room\":%d,\"publishers\":[" REM77(
                    "rem", "") "],"
                               "\"talking\":false}]}",
                DST);
    ASSERT_VR_ERROR(ctl(&x,
                        "{\"request\":\"add_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                        "\"id\":77,\"streams\":" AUDIO_VIDEO "}",
                        DST),
                    436, "User ID 77 already exists");
    /* A codec the room does not take is listed disabled; simulcast is said. */
    r = ctl(&x,
            "{\"request\":\"add_remote_publisher\",\"room\":%d,\"secret\":\"sec\",\"streams\":"
            "[{\"type\":\"video\",\"mindex\":0,\"mid\":\"x\",\"codec\":\"h264\"},{\"type\":"
            "\"video\",\"mindex\":1,\"mid\":\"y\",\"codec\":\"vp8\",\"simulcast\":true}]}",
            DST);
    uint64_t other = (uint64_t)vint(r, "id");
    json_decref(r);
    ASSERT_JSON(vnotice(&x.f, x.ws, x.wh),
                "{\"videoroom\":\"event\",\"room\":%d,\"publishers\":[{\"id\":%" PRIu64
                ",\"video_codec\":\"vp8\",\"streams\":[{\"type\":\"video\",\"mindex\":0,"
                "\"mid\":\"0\",\"disabled\":true},{\"type\":\"video\",\"mindex\":1,\"mid\":\"1\","
                "\"codec\":\"vp8\",\"simulcast\":true}]}]}",
                DST, other);
    ASSERT_JSON(ctl(&x, "{\"request\":\"listparticipants\",\"room\":%d}", DST),
                "{\"videoroom\":\"participants\",\"room\":%d,\"participants\":[{\"id\":%" PRIu64
                ",\"display\":\"watcher\",\"publisher\":false},{\"id\":77,\"display\":\"rem\","
                "\"remote\":true,\"publisher\":true},{\"id\":%" PRIu64 ",\"remote\":true,"
                "\"publisher\":true}]}",
                DST, x.wid, other);
    /* Someone joining DST later finds both among the publishers. */
    uint64_t ls = vsession(&x.f), lh = vattach(&x.f, ls);
    r = vasync(&x.f, ls, lh, "{\"request\":\"join\",\"ptype\":\"publisher\",\"room\":%d}", DST);
    ASSERT_EQ(json_array_size(json_object_get(r, "publishers")), 2);
    json_decref(r);
    /* update: a new display, a description, a new stream at the next mindex (mid by mindex). */
    ASSERT_JSON(ctl(&x,
                    "{\"request\":\"update_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                    "\"id\":77,\"display\":\"rem2\",\"streams\":[{\"type\":\"audio\","
                    "\"mindex\":0,\"mid\":\"0\",\"codec\":\"opus\",\"description\":\"mic\"},"
                    "{\"type\":\"video\",\"mindex\":3,\"mid\":\"x\",\"codec\":\"vp9\"}]}",
                    DST),
                "{\"videoroom\":\"success\"}");
    ASSERT_JSON(vnotice(&x.f, x.ws, x.wh),
                "{\"videoroom\":\"event\",\"room\":%d,\"publishers\":[" REM77(
                    "rem2", "\"description\":\"mic\",") ",{\"type\":\"video\",\"mindex\":3,"
                                                        "\"mid\":\"3\",\"codec\":\"vp9\"}],"
                                                        "\"talking\":false}]}",
                DST);
    json_decref(vnotice(&x.f, ls, lh));
    /* A new stream too far (a gap of more than one m-line) is skipped: nothing changes. */
    ASSERT_JSON(ctl(&x,
                    "{\"request\":\"update_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                    "\"id\":77,\"streams\":[{\"type\":\"video\",\"mindex\":9,\"mid\":\"9\","
                    "\"codec\":\"vp8\"}]}",
                    DST),
                "{\"videoroom\":\"success\"}");
    vno_event(&x.f, x.ws);
    /* remove: the others hear `leaving` alone, as from Janus. */
    ASSERT_JSON(ctl(&x,
                    "{\"request\":\"remove_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                    "\"id\":77}",
                    DST),
                "{\"videoroom\":\"success\"}");
    ASSERT_JSON(vnotice(&x.f, x.ws, x.wh), "{\"videoroom\":\"event\",\"room\":%d,\"leaving\":77}",
                DST);
    vno_event(&x.f, x.ws);
    ASSERT_VR_ERROR(ctl(&x,
                        "{\"request\":\"remove_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                        "\"id\":77}",
                        DST),
                    428, "No such remote publisher (77)");
    /* The port is free again. */
    uint16_t got;
    int fd = udp_open((uint16_t)port, &got);
    ASSERT(fd >= 0);
    close(fd);
    /* kick works on a remote publisher too. */
    ASSERT_JSON(ctl(&x, "{\"request\":\"kick\",\"room\":%d,\"secret\":\"sec\",\"id\":%" PRIu64 "}",
                    DST, other),
                "{\"videoroom\":\"success\"}");
    r = ctl(&x, "{\"request\":\"listparticipants\",\"room\":%d}", DST);
    ASSERT_EQ(json_array_size(json_object_get(r, "participants")), 2);
    json_decref(r);
    cfix_done(&x);
}

/* ---- media between the two rooms ---- */

static void info_of(struct vr_feed_stream *fs, void *arg)
{
    *(json_t **)arg = vr_forwarders_info(fs);
}

/* Runs fn on alice's feed stream `mindex` with the feed lock held. */
static void with_alice(struct cfix *x, int mindex, void (*fn)(struct vr_feed_stream *, void *),
                       void *arg)
{
    struct vr_room *r = vr_rooms_get(&x->f.v->rooms, SRC);
    ASSERT(r != NULL);
    pthread_mutex_lock(&r->lock);
    struct vr_participant *p = vr_room_find(r, x->aid);
    ASSERT(p != NULL);
    pthread_mutex_lock(&p->feed.lock);
    fn(&p->feed.streams[mindex], arg);
    pthread_mutex_unlock(&p->feed.lock);
    pthread_mutex_unlock(&r->lock);
    vr_room_unref(r);
}

/* Keyframe requests counted by alice's remotization forwarder `remote_id` of stream 1. */
static int64_t remote_keyframe_requests(struct cfix *x, const char *remote_id)
{
    json_t *list = NULL;
    with_alice(x, 1, info_of, &list);
    int64_t n = -1;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *f = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(f, "remote_id"));
        if (id && strcmp(id, remote_id) == 0) {
            ASSERT_EQ(vint(f, "ssrc"), 1010);
            n = vint(f, "keyframe_requests");
        }
    }
    json_decref(list);
    return n;
}

/* alice's packets for `ms`, 20 ms apart. */
static void feed_for(struct cfix *x, int ms)
{
    uint8_t audio[400], video[400];
    size_t alen, vlen;
    for (int t = 0; t < ms; t += 20) {
        feed_pair(x, audio, &alen, video, &vlen);
        sleep_ms(20);
    }
}

static void test_remote_media(void)
{
    struct cfix x;
    cfix_init(&x, "vr-remote-media", false);
    uint16_t port, rtcp;
    uint64_t rid = add_remote(&x, AUDIO_VIDEO, &port, &rtcp);
    uint16_t ap, vp, rp;
    int afd = udp_open(0, &ap), vfd = udp_open(0, &vp), rfd = udp_open(0, &rp);
    int64_t lrtcp = forward_remote(&x, rid, ap, vp, rp);
    ASSERT_GT(lrtcp, 0);
    /* alice goes to DST's remote publisher. */
    ASSERT_JSON(ctl(&x,
                    "{\"request\":\"publish_remotely\",\"room\":%d,\"publisher_id\":%" PRIu64
                    ",\"remote_id\":\"b1\",\"host\":\"127.0.0.1\",\"port\":%u,\"rtcp_port\":%u}",
                    SRC, x.aid, port, rtcp),
                "{\"videoroom\":\"success\",\"room\":%d,\"id\":%" PRIu64 ",\"remote_id\":\"b1\"}",
                SRC, x.aid);
    ASSERT_JSON(ctl(&x, "{\"request\":\"listremotes\",\"room\":%d,\"publisher_id\":%" PRIu64 "}",
                    SRC, x.aid),
                "{\"videoroom\":\"success\",\"room\":%d,\"id\":%" PRIu64
                ",\"list\":[{\"remote_id\":"
                "\"b1\",\"host\":\"127.0.0.1\",\"port\":%u,\"rtcp_port\":%u}]}",
                SRC, x.aid, port, rtcp);
    /* A remotization's forwarders are not rtp_forward's: listed empty, as Janus does. */
    ASSERT_JSON(
        ctl(&x, "{\"request\":\"listforwarders\",\"room\":%d}", SRC),
        "{\"videoroom\":\"forwarders\",\"room\":%d,\"publishers\":[{\"publisher_id\":%" PRIu64
        ",\"display\":\"alice\",\"forwarders\":[]}]}",
        SRC, x.aid);
    /* Every packet of alice's arrives through DST: SSRC by mindex, her payload, DST's types. */
    uint8_t audio[400], video[400], buf[2048];
    size_t alen, vlen;
    for (int i = 0; i < 5; i++) {
        feed_pair(&x, audio, &alen, video, &vlen);
        ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 1000), (ssize_t)alen);
        ASSERT_EQ(rd_u32(buf + 8), 1000);
        ASSERT_EQ(buf[1] & 0x7f, 111);
        ASSERT_MEMEQ(buf + 12, audio + 12, alen - 12);
        ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 1000), (ssize_t)vlen);
        ASSERT_EQ(rd_u32(buf + 8), 1010);
        ASSERT_EQ(buf[1] & 0x7f, 96);
        ASSERT_MEMEQ(buf + 12, video + 12, vlen - 12);
    }
    /* DST latched alice's feedback address and asked for a keyframe: her remotization's video
     * forwarder read that PLI (naming stream 1 by SSRC 1010) with one of her packets. */
    feed_for(&x, 200);
    int64_t k0 = remote_keyframe_requests(&x, "b1");
    ASSERT_GE(k0, 1);
    /* A PLI to DST's forwarder of the remote stream goes back to alice the same way. */
    sleep_ms(600); /* past DST's 500 ms between two requests */
    uint8_t rtcpb[64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, rtcpb, sizeof rtcpb);
    ASSERT_EQ(gw_rtcp_write_pli(&w, 1, 1010), 0);
    udp_send_to(rfd, (uint16_t)lrtcp, rtcpb, w.len);
    udp_drain(afd, 0);
    int64_t k1 = k0;
    for (int t = 0; t < 40 && k1 == k0; t++) {
        feed_for(&x, 40);
        k1 = remote_keyframe_requests(&x, "b1");
    }
    ASSERT_EQ(k1, k0 + 1);
    udp_drain(afd, 20);
    udp_drain(vfd, 20);
    /* unpublish_remotely: nothing goes any more, and the lists are empty. */
    ASSERT_JSON(ctl(&x,
                    "{\"request\":\"unpublish_remotely\",\"room\":%d,\"publisher_id\":%" PRIu64
                    ",\"remote_id\":\"b1\"}",
                    SRC, x.aid),
                "{\"videoroom\":\"success\",\"room\":%d,\"id\":%" PRIu64 "}", SRC, x.aid);
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 200), -1);
    ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 10), -1);
    ASSERT_JSON(ctl(&x, "{\"request\":\"listremotes\",\"room\":%d,\"publisher_id\":%" PRIu64 "}",
                    SRC, x.aid),
                "{\"videoroom\":\"success\",\"room\":%d,\"id\":%" PRIu64 ",\"list\":[]}", SRC,
                x.aid);
    ASSERT_JSON(ctl(&x, "{\"request\":\"listforwarders\",\"room\":%d}", SRC),
                "{\"videoroom\":\"forwarders\",\"room\":%d,\"publishers\":[]}", SRC);
    /* A remotization dies with the streams when alice unpublishes; its record stays. */
    json_decref(ctl(&x,
                    "{\"request\":\"publish_remotely\",\"room\":%d,\"publisher_id\":%" PRIu64
                    ",\"remote_id\":\"b2\",\"host\":\"localhost\",\"port\":%u}",
                    SRC, x.aid, port));
    feed_pair(&x, audio, &alen, video, &vlen);
    ASSERT_EQ(udp_recv(afd, buf, sizeof buf, 1000), (ssize_t)alen);
    json_decref(vasync(&x.f, x.as, x.ah, "{\"request\":\"unpublish\"}"));
    ASSERT_JSON(ctl(&x, "{\"request\":\"listremotes\",\"room\":%d,\"publisher_id\":%" PRIu64 "}",
                    SRC, x.aid),
                "{\"videoroom\":\"success\",\"room\":%d,\"id\":%" PRIu64
                ",\"list\":[{\"remote_id\":"
                "\"b2\",\"host\":\"127.0.0.1\",\"port\":%u}]}",
                SRC, x.aid, port);
    udp_drain(afd, 50);
    close(afd);
    close(vfd);
    close(rfd);
    cfix_done(&x);
}

/* The sending instance played by this test: a latch packet from `fd` to the RTCP port, the
 * PLI that comes back for the video stream (media SSRC 1010, sender 1). */
static void latch_and_expect_pli(int fd, uint16_t rtcp)
{
    uint8_t latch[12] = {0x80}, buf[256];
    udp_send_to(fd, rtcp, latch, sizeof latch);
    ssize_t n = udp_recv(fd, buf, sizeof buf, 2000);
    ASSERT_GT(n, 0);
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, buf, (size_t)n);
    ASSERT_EQ(gw_rtcp_iter_next(&it, &b), 1);
    ASSERT_EQ(b.kind, GW_RTCP_KIND_PLI);
    ASSERT_EQ(b.ssrc, 1);
    ASSERT_EQ(b.media_ssrc, 1010);
}

static void test_remote_demux(void)
{
    struct cfix x;
    cfix_init(&x, "vr-remote-demux", false);
    uint16_t port, rtcp;
    uint64_t rid = add_remote(&x,
                              "[{\"type\":\"audio\",\"mindex\":0,\"mid\":\"a\",\"codec\":\"opus\"},"
                              "{\"type\":\"video\",\"mindex\":1,\"mid\":\"v\",\"codec\":\"vp8\","
                              "\"simulcast\":true}]",
                              &port, &rtcp);
    uint16_t sp, fp, vp;
    int src = udp_open(0, &sp), fb = udp_open(0, &fp), vfd = udp_open(0, &vp);
    latch_and_expect_pli(fb, rtcp);
    forward_remote(&x, rid, 0, vp, 0);
    /* Forwarders get the top substream (SSRC 1012), with DST's payload type. */
    uint8_t pkt[300], buf[2048];
    size_t len = rtp_make(pkt, 100, 1, 1012, 100);
    udp_send_to(src, port, pkt, len);
    ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 1000), (ssize_t)len);
    ASSERT_EQ(buf[1], 96);
    ASSERT_EQ(rd_u32(buf + 8), 1012);
    /* The lower substreams, unknown SSRCs and streams, RTCP and runts are not. */
    const uint32_t ssrcs[] = {1010, 1011, 999, 1013, 1020, 1170, 0};
    for (size_t i = 0; i < sizeof ssrcs / sizeof ssrcs[0]; i++) {
        len = rtp_make(pkt, 100, (uint16_t)(2 + i), ssrcs[i], 100);
        udp_send_to(src, port, pkt, len);
    }
    uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0, 0, 9};
    udp_send_to(src, port, rr, sizeof rr);
    udp_send_to(src, port, pkt, 7);
    len = rtp_make(pkt, 100, 20, 1012, 100);
    udp_send_to(src, port, pkt, len);
    ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 1000), (ssize_t)len); /* the next top one only */
    ASSERT_EQ(rd_u16(buf + 2), 20);
    ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, 100), -1);
    /* A stream update_remote_publisher disables stops; enabled again, it goes on. */
    for (int off = 0; off < 2; off++) {
        ASSERT_JSON(ctl(&x,
                        "{\"request\":\"update_remote_publisher\",\"room\":%d,\"secret\":"
                        "\"sec\",\"id\":%" PRIu64 ",\"streams\":[{\"type\":\"video\",\"mindex\":1,"
                        "\"mid\":\"1\",\"codec\":\"vp8\",\"simulcast\":true,\"disabled\":%s}]}",
                        DST, rid, off ? "false" : "true"),
                    "{\"videoroom\":\"success\"}");
        json_t *ev = vnotice(&x.f, x.ws, x.wh);
        json_t *st = json_array_get(
            json_object_get(json_array_get(json_object_get(ev, "publishers"), 0), "streams"), 1);
        ASSERT_EQ(json_is_true(json_object_get(st, "disabled")), !off);
        json_decref(ev);
        len = rtp_make(pkt, 100, (uint16_t)(30 + off), 1012, 100);
        udp_send_to(src, port, pkt, len);
        ASSERT_EQ(udp_recv(vfd, buf, sizeof buf, off ? 1000 : 200), off ? (ssize_t)len : -1);
    }
    close(src);
    close(fb);
    close(vfd);
    cfix_done(&x);
}

/* SRTP between the instances: publish_remotely protects, the remote publisher unprotects with
 * the same key; another key gets nothing through. */
static void test_remote_srtp(void)
{
    static const char key64[] = "WbTBosdVUZqEb6Htqhn+m3z7wUh4RJVR8nE15GbN"; /* 30 bytes */
    static const char other64[] = "AbTBosdVUZqEb6Htqhn+m3z7wUh4RJVR8nE15GbN";
    struct cfix x;
    cfix_init(&x, "vr-remote-srtp", false);
    uint16_t ports[2], rtcp, ap[2];
    int afd[2];
    for (int i = 0; i < 2; i++) {
        json_t *r = ctl(&x,
                        "{\"request\":\"add_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                        "\"srtp_suite\":80,\"srtp_crypto\":\"%s\",\"streams\":" AUDIO_VIDEO "}",
                        DST, i ? other64 : key64);
        uint64_t rid = (uint64_t)vint(r, "id");
        ports[i] = (uint16_t)vint(r, "port");
        rtcp = (uint16_t)vint(r, "rtcp_port");
        json_decref(r);
        json_decref(vnotice(&x.f, x.ws, x.wh));
        afd[i] = udp_open(0, &ap[i]);
        json_decref(ctl(&x,
                        "{\"request\":\"rtp_forward\",\"room\":%d,\"publisher_id\":%" PRIu64
                        ",\"secret\":\"sec\",\"host\":\"127.0.0.1\",\"streams\":[{\"mid\":\"0\","
                        "\"port\":%u}]}",
                        DST, rid, ap[i]));
        json_decref(ctl(&x,
                        "{\"request\":\"publish_remotely\",\"room\":%d,\"publisher_id\":%" PRIu64
                        ",\"remote_id\":\"s%d\",\"host\":\"127.0.0.1\",\"port\":%u,"
                        "\"rtcp_port\":%u,\"srtp_suite\":80,\"srtp_crypto\":\"%s\"}",
                        SRC, x.aid, i, ports[i], rtcp, key64));
    }
    uint8_t audio[400], video[400], buf[2048];
    size_t alen, vlen;
    for (int i = 0; i < 3; i++) {
        feed_pair(&x, audio, &alen, video, &vlen);
        ASSERT_EQ(udp_recv(afd[0], buf, sizeof buf, 1000), (ssize_t)alen);
        ASSERT_MEMEQ(buf + 12, audio + 12, alen - 12);
    }
    ASSERT_EQ(udp_recv(afd[1], buf, sizeof buf, 200), -1);
    close(afd[0]);
    close(afd[1]);
    cfix_done(&x);
}

/* ---- recording, and the lifecycle ---- */

static void test_remote_record(void)
{
    struct cfix x;
    cfix_init(&x, "vr-remote-rec", true);
    uint16_t port, rtcp;
    uint64_t rid = add_remote(&x, AUDIO_VIDEO, &port, &rtcp);
    uint16_t sp, fp;
    int src = udp_open(0, &sp), fb = udp_open(0, &fp);
    latch_and_expect_pli(fb, rtcp);
    uint8_t pkt[300];
    for (uint16_t i = 0; i < 50; i++) {
        udp_send_to(src, port, pkt, rtp_make(pkt, 109, i, 1000, 60));
        size_t vlen = rtp_make(pkt, 120, i, 1010, 200);
        pkt[12] = 0x10; /* VP8 keyframes: the recording starts at the first one */
        pkt[13] = 0x00;
        udp_send_to(src, port, pkt, vlen);
        sleep_ms(2);
    }
    sleep_ms(200);
    json_decref(ctl(&x,
                    "{\"request\":\"remove_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                    "\"id\":%" PRIu64 "}",
                    DST, rid));
    char room[16], pid[32];
    snprintf(room, sizeof room, "%d", DST);
    snprintf(pid, sizeof pid, "%" PRIu64, rid);
    size_t closed = 0;
    json_t *res = NULL;
    for (int t = 0; t < 300 && closed < 2; t++) {
        json_decref(res);
        catalog_flush(x.c);
        res = util_recordings(x.c, room);
        closed = 0;
        json_t *list = json_object_get(res, "recordings");
        for (size_t i = 0; i < json_array_size(list); i++)
            closed += strcmp(util_str(json_array_get(list, i), "state"), "closed") == 0;
        if (closed < 2)
            sleep_ms(10);
    }
    json_t *list = json_object_get(res, "recordings");
    ASSERT_EQ(json_array_size(list), 2);
    ASSERT_EQ(closed, 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *rec = json_array_get(list, i);
        ASSERT_STREQ(util_str(rec, "participant"), pid);
        ASSERT_EQ(util_int(rec, "frames"), 50);
        ASSERT_EQ(util_int(rec, "dropped"), 0);
        util_check_hash(x.dir, rec, util_str(rec, "path"));
    }
    json_decref(res);
    close(src);
    close(fb);
    cfix_done(&x);
}

struct blaster {
    uint16_t port;
    atomic_bool stop;
    pthread_t thread;
};

static void *blast(void *arg)
{
    struct blaster *b = arg;
    uint16_t p;
    int fd = udp_open(0, &p);
    uint8_t pkt[300];
    for (uint16_t seq = 0; !atomic_load(&b->stop); seq++) {
        udp_send_to(fd, b->port, pkt, rtp_make(pkt, 96, seq, 1000 + 10u * (seq & 1), 200));
        if ((seq & 15) == 0)
            sleep_ms(1);
    }
    close(fd);
    return NULL;
}

static void blaster_start(struct blaster *b, uint16_t port)
{
    b->port = port;
    atomic_init(&b->stop, false);
    ASSERT_EQ(pthread_create(&b->thread, NULL, blast, b), 0);
}

static void blaster_stop(struct blaster *b)
{
    atomic_store(&b->stop, true);
    pthread_join(b->thread, NULL);
}

/* Remote publishers go away while packets pour in: removed, kicked, their room destroyed, and
 * the plugin ended with one still receiving. Their ports are free afterwards. */
static void test_remote_lifecycle(void)
{
    struct cfix x;
    cfix_init(&x, "vr-remote-life", true);
    uint16_t ports[4], rtcp;
    uint64_t ids[4];
    struct blaster bl[4];
    for (int i = 0; i < 4; i++) {
        ids[i] = add_remote(&x, AUDIO_VIDEO, &ports[i], &rtcp);
        blaster_start(&bl[i], ports[i]);
    }
    sleep_ms(100);
    json_decref(ctl(&x,
                    "{\"request\":\"remove_remote_publisher\",\"room\":%d,\"secret\":\"sec\","
                    "\"id\":%" PRIu64 "}",
                    DST, ids[0]));
    json_decref(ctl(&x, "{\"request\":\"kick\",\"room\":%d,\"secret\":\"sec\",\"id\":%" PRIu64 "}",
                    DST, ids[1]));
    sleep_ms(100);
    uint16_t got;
    int fd = udp_open(ports[0], &got);
    ASSERT(fd >= 0);
    close(fd);
    fd = udp_open(ports[1], &got); /* kicked: its last reference went with the kick */
    ASSERT(fd >= 0);
    close(fd);
    /* A room of its own for the third, then destroyed. */
    json_decref(ctl(&x, "{\"request\":\"create\",\"room\":30,\"record\":true}"));
    uint16_t p30, r30;
    json_t *r =
        ctl(&x, "{\"request\":\"add_remote_publisher\",\"room\":30,\"streams\":" AUDIO_VIDEO "}");
    p30 = (uint16_t)vint(r, "port");
    r30 = (uint16_t)vint(r, "rtcp_port");
    (void)r30;
    json_decref(r);
    struct blaster b30;
    blaster_start(&b30, p30);
    sleep_ms(100);
    json_decref(ctl(&x, "{\"request\":\"destroy\",\"room\":30}"));
    fd = udp_open(p30, &got);
    ASSERT(fd >= 0);
    close(fd);
    blaster_stop(&b30);
    /* The plugin ends with ids[2] and ids[3] still receiving. */
    cfix_done(&x);
    for (int i = 0; i < 4; i++)
        blaster_stop(&bl[i]);
}

static const struct test_case cases[] = {
    {"errors", test_remote_errors},
    {"locked", test_remote_locked},
    {"publisher", test_remote_publisher},
    {"media", test_remote_media},
    {"demux", test_remote_demux},
    {"srtp", test_remote_srtp},
    {"record", test_remote_record},
    {"lifecycle", test_remote_lifecycle},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
