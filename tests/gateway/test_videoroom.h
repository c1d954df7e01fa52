/* tests/gateway/test_videoroom.h — the fixture shared by the VideoRoom tests: a real gateway
 * core with the VideoRoom plugin in its table, requests sent as JSON text through
 * gw_core_handle(), and events taken from the sessions' queues. */
#ifndef VB_TESTS_GATEWAY_TEST_VIDEOROOM_H
#define VB_TESTS_GATEWAY_TEST_VIDEOROOM_H

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "tests/test.h"
#include "gateway/core.h"
#include "gateway/videoroom/videoroom.h"

struct vfix {
    struct vr *v;
    struct gw_plugin_reg regs[2];
    struct gw_core *g;
    atomic_int tx;
    bool skip_notices; /* vasync skips notifications queued before its reply (threads tests) */
};

static inline void vfix_init_cfg(struct vfix *f, const struct vr_config *cfg)
{
    memset(f, 0, sizeof *f);
    ASSERT_EQ(vr_create(cfg, &f->v), 0);
    f->regs[0] = (struct gw_plugin_reg){vr_plugin(), f->v};
    struct gw_core_config cc = {.plugins = f->regs, .session_timeout_s = 0};
    ASSERT_EQ(gw_core_create(&cc, &f->g), 0);
}

static inline void vfix_init(struct vfix *f)
{
    struct vr_config cfg = {0};
    vfix_init_cfg(f, &cfg);
}

static inline void vfix_done(struct vfix *f)
{
    gw_core_destroy(f->g);
    vr_destroy(f->v);
}

/* Parses printf-formatted JSON text (asserting it is valid). */
__attribute__((format(printf, 1, 2))) static inline json_t *vjson(const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        TEST_FAIL_("bad JSON in test: %s (%s)", text, err.text);
    return j;
}

/* Asserts `got` (stolen) equals the JSON text (printf-formatted). */
#define ASSERT_JSON(got, ...)                                                                      \
    do {                                                                                           \
        json_t *g_ = (got), *w_ = vjson(__VA_ARGS__);                                              \
        if (!json_equal(g_, w_)) {                                                                 \
            char *gs_ = json_dumps(g_, JSON_SORT_KEYS), *ws_ = json_dumps(w_, JSON_SORT_KEYS);     \
            TEST_FAIL_("JSON differs:\n  got  %s\n  want %s", gs_ ? gs_ : "(null)", ws_);          \
        }                                                                                          \
        json_decref(g_);                                                                           \
        json_decref(w_);                                                                           \
    } while (0)

static inline json_t *vcall(struct vfix *f, uint64_t sid, uint64_t hid, json_t *req, int *rc)
{
    struct gw_request_ctx ctx = {.session_id = sid, .handle_id = hid};
    json_t *reply = NULL;
    int r = gw_core_handle(f->g, &ctx, req, &reply);
    json_decref(req);
    ASSERT(reply != NULL);
    if (rc)
        *rc = r;
    return reply;
}

static inline uint64_t vsession(struct vfix *f)
{
    json_t *r = vcall(f, 0, 0, vjson("{\"janus\":\"create\",\"transaction\":\"c\"}"), NULL);
    uint64_t id = (uint64_t)json_integer_value(json_object_get(json_object_get(r, "data"), "id"));
    json_decref(r);
    ASSERT_GT(id, 0);
    return id;
}

static inline uint64_t vattach(struct vfix *f, uint64_t sid)
{
    json_t *r = vcall(
        f, sid, 0,
        vjson("{\"janus\":\"attach\",\"transaction\":\"a\",\"plugin\":\"janus.plugin.videoroom\"}"),
        NULL);
    ASSERT_STREQ(json_string_value(json_object_get(r, "janus")), "success");
    uint64_t id = (uint64_t)json_integer_value(json_object_get(json_object_get(r, "data"), "id"));
    json_decref(r);
    ASSERT_GT(id, 0);
    return id;
}

/* A message with a synchronous reply: returns plugindata.data (new reference). */
__attribute__((format(printf, 4, 5))) static inline json_t *
vsync(struct vfix *f, uint64_t sid, uint64_t hid, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_t *req = json_pack("{s:s, s:s, s:o}", "janus", "message", "transaction", "s", "body",
                            vjson("%s", text));
    json_t *r = vcall(f, sid, hid, req, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(r, "janus")), "success");
    ASSERT_UEQ(json_integer_value(json_object_get(r, "sender")), hid);
    json_t *pd = json_object_get(r, "plugindata");
    ASSERT_STREQ(json_string_value(json_object_get(pd, "plugin")), "janus.plugin.videoroom");
    json_t *data = json_incref(json_object_get(pd, "data"));
    json_decref(r);
    return data;
}

/* The next event of a session (the whole event, new reference), waiting up to `ms`; NULL when
 * none came. */
static inline json_t *vevent(struct vfix *f, uint64_t sid, int ms)
{
    struct gw_session *s;
    ASSERT_EQ(gw_core_session_get(f->g, sid, &s), 0);
    json_t *arr = NULL;
    int n = gw_session_events_take(s, 1, ms, &arr);
    gw_session_unref(s);
    ASSERT_GE(n, 0);
    json_t *ev = n ? json_incref(json_array_get(arr, 0)) : NULL;
    json_decref(arr);
    return ev;
}

/* The next event's plugindata.data, asserting it is a plugin event from handle `hid` without a
 * transaction (a notification). */
static inline json_t *vnotice(struct vfix *f, uint64_t sid, uint64_t hid)
{
    json_t *ev = vevent(f, sid, 2000);
    if (!ev)
        TEST_FAIL_("no event on session %" PRIu64, sid);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "janus")), "event");
    ASSERT_UEQ(json_integer_value(json_object_get(ev, "sender")), hid);
    ASSERT(!json_object_get(ev, "transaction"));
    json_t *data = json_incref(json_object_get(json_object_get(ev, "plugindata"), "data"));
    json_decref(ev);
    return data;
}

static inline void vno_event(struct vfix *f, uint64_t sid)
{
    json_t *ev = vevent(f, sid, 100);
    if (ev) {
        char *t = json_dumps(ev, 0);
        TEST_FAIL_("unexpected event: %s", t);
    }
}

/* An asynchronous request (`jsep` text may be NULL): asserts the ack, then returns the data of
 * the event carrying the same transaction, which must be the session's next event; *jsep_out
 * (when not NULL) gets the event's jsep (a new reference, or NULL). */
static inline json_t *vasync_text(struct vfix *f, uint64_t sid, uint64_t hid, const char *jsep,
                                  const char *text, json_t **jsep_out)
{
    char tx[32];
    snprintf(tx, sizeof tx, "tx%d", atomic_fetch_add(&f->tx, 1));
    json_t *req = json_pack("{s:s, s:s, s:o}", "janus", "message", "transaction", tx, "body",
                            vjson("%s", text));
    if (jsep)
        json_object_set_new(req, "jsep", vjson("%s", jsep));
    json_t *r = vcall(f, sid, hid, req, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(r, "janus")), "ack");
    json_decref(r);
    json_t *ev = vevent(f, sid, 5000);
    while (ev && f->skip_notices && !json_object_get(ev, "transaction")) {
        json_decref(ev);
        ev = vevent(f, sid, 5000);
    }
    if (!ev)
        TEST_FAIL_("no event for %s", text);
    ASSERT_STREQ(json_string_value(json_object_get(ev, "janus")), "event");
    ASSERT_STREQ(json_string_value(json_object_get(ev, "transaction")), tx);
    ASSERT_UEQ(json_integer_value(json_object_get(ev, "sender")), hid);
    json_t *data = json_incref(json_object_get(json_object_get(ev, "plugindata"), "data"));
    if (jsep_out)
        *jsep_out = json_incref(json_object_get(ev, "jsep"));
    json_decref(ev);
    return data;
}

__attribute__((format(printf, 5, 6))) static inline json_t *
vasync_jsep(struct vfix *f, uint64_t sid, uint64_t hid, const char *jsep, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return vasync_text(f, sid, hid, jsep, text, NULL);
}

/* vasync for a request answered with a jsep: *jsep gets it (a new reference; NULL if none). */
static inline json_t *vasync_offer(struct vfix *f, uint64_t sid, uint64_t hid, const char *body,
                                   json_t **jsep)
{
    return vasync_text(f, sid, hid, NULL, body, jsep);
}

#define vasync(f, sid, hid, ...) vasync_jsep((f), (sid), (hid), NULL, __VA_ARGS__)

/* A publisher's offer as the plugin sees it (transport removed): Opus + VP8, send-only. */
#define VR_OFFER_SDP                                                                               \
    "v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\ns=-\\r\\nt=0 0\\r\\n"                                    \
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:0\\r\\na=sendonly\\r\\n"     \
    "a=rtpmap:111 opus/48000/2\\r\\n"                                                              \
    "m=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:1\\r\\na=sendonly\\r\\n"      \
    "a=rtpmap:96 VP8/90000\\r\\n"
#define VR_OFFER "{\"type\":\"offer\",\"sdp\":\"" VR_OFFER_SDP "\"}"

/* A plugin error reply. */
#define ASSERT_VR_ERROR(got, code, text)                                                           \
    ASSERT_JSON((got), "{\"videoroom\":\"event\",\"error_code\":%d,\"error\":\"%s\"}", (code),     \
                (text))

static inline int64_t vint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ASSERT(json_is_integer(v));
    return json_integer_value(v);
}

/* The handle object of a session/handle pair, referenced. */
static inline struct gw_handle *vhandle(struct vfix *f, uint64_t sid, uint64_t hid)
{
    struct gw_handle *h = NULL;
    ASSERT_EQ(gw_core_handle_get(f->g, sid, hid, &h), 0);
    return h;
}

#endif
