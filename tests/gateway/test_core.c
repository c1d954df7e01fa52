/* Tests of the gateway core router (gateway/core.h): every error code with its exact reply
 * shape, sessions and handles, the event queue, the timeout sweep, and messages routed to a test
 * plugin (tests/gateway/gw_test_fixture.h), synchronous and asynchronous. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "tests/gateway/gw_test_fixture.h"

/* A core with the test plugins on the scripted clock, no auth and no Admin API. */
static void fix_init(struct fix *f, int64_t timeout_s, size_t max_events)
{
    fix_base(f);
    struct gw_core_config cfg = {.plugins = f->regs,
                                 .session_timeout_s = timeout_s,
                                 .max_events = max_events,
                                 .clock = &f->clock};
    ASSERT_EQ(gw_core_create(&cfg, &f->g), 0);
}

/* Checks {"janus":kind,"session_id":sid,"transaction":tr} exactly, frees it. */
static void expect_plain(json_t *r, const char *kind, uint64_t sid, const char *tr)
{
    ASSERT_STREQ(str_at(r, "janus"), kind);
    ASSERT_UEQ(int_at(r, "session_id"), sid);
    ASSERT_STREQ(str_at(r, "transaction"), tr);
    ASSERT_EQ(json_object_size(r), 3);
    json_decref(r);
}

/* ---- tests ---- */

static void test_mandatory(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    json_t *r = NULL;
    ASSERT_EQ(gw_core_handle(f.g, NULL, NULL, &r), 452);
    expect_error(r, 452, 0, NULL, 452, "Missing request");
    json_t *arr = json_array();
    ASSERT_EQ(gw_core_handle(f.g, NULL, arr, &r), 455);
    json_decref(arr);
    expect_error(r, 455, 0, NULL, 455, "JSON error: not an object");
    janus_error(&f, 0, 0, "{\"janus\":\"info\"}", 0, NULL, 456,
                "Missing mandatory element (transaction)");
    janus_error(&f, 0, 0, "{\"janus\":\"info\",\"transaction\":5}", 0, NULL, 467,
                "Invalid element type (transaction should be a string)");
    /* As Janus, these two errors carry no transaction even when the request has one. */
    janus_error(&f, 0, 0, "{\"transaction\":\"t\"}", 0, NULL, 456,
                "Missing mandatory element (janus)");
    janus_error(&f, 0, 0, "{\"janus\":[],\"transaction\":\"t\"}", 0, NULL, 467,
                "Invalid element type (janus should be a string)");
    janus_error(&f, 0, 0, "{\"janus\":\"attach\",\"transaction\":\"t\"}", 0, "t", 457,
                "Unhandled request 'attach' at this path");
    gw_core_destroy(f.g);
}

static void test_info_ping(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    int rc;
    json_t *r = janus(&f, 0, 0, "{\"janus\":\"ping\",\"transaction\":\"p\"}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(str_at(r, "janus"), "pong");
    ASSERT_STREQ(str_at(r, "transaction"), "p");
    ASSERT_EQ(json_object_size(r), 2);
    json_decref(r);
    r = janus(&f, 0, 0, "{\"janus\":\"info\",\"transaction\":\"i\"}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(str_at(r, "janus"), "server_info");
    ASSERT_STREQ(str_at(r, "transaction"), "i");
    ASSERT_STREQ(str_at(r, "name"), "Verbatim");
    ASSERT_STREQ(str_at(r, "version_string"), VB_VERSION);
    ASSERT_GE(int_at(r, "version"), 0);
    ASSERT_EQ(int_at(r, "session-timeout"), 60);
    ASSERT(json_is_true(json_object_get(r, "accepting-new-sessions")));
    json_t *p = json_object_get(json_object_get(r, "plugins"), "janus.plugin.test");
    ASSERT_STREQ(str_at(p, "name"), "Test plugin");
    ASSERT_STREQ(str_at(p, "author"), "tests");
    ASSERT_STREQ(str_at(p, "description"), "A plugin for the gateway tests");
    ASSERT_STREQ(str_at(p, "version_string"), "0.0.1");
    ASSERT_EQ(int_at(p, "version"), 1);
    json_decref(r);
    gw_core_destroy(f.g);
}

static void test_create(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    uint64_t a = create_session(&f, NULL), b = create_session(&f, NULL);
    ASSERT_NE(a, b);
    int rc;
    json_t *r = janus(&f, 0, 0, "{\"janus\":\"create\",\"transaction\":\"x\",\"id\":4242}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(int_at(json_object_get(r, "data"), "id"), 4242);
    json_decref(r);
    janus_error(&f, 0, 0, "{\"janus\":\"create\",\"transaction\":\"y\",\"id\":4242}", 4242, "y",
                468, "Session ID already in use");
    /* An id that is not a positive integer is ignored, as Janus does. */
    r = janus(&f, 0, 0, "{\"janus\":\"create\",\"transaction\":\"y\",\"id\":\"no\"}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_NE(int_at(json_object_get(r, "data"), "id"), 4242);
    json_decref(r);
    ASSERT_EQ(gw_core_session_count(f.g), 4);
    gw_core_set_accepting(f.g, false);
    janus_error(&f, 0, 0, "{\"janus\":\"create\",\"transaction\":\"z\"}", 0, "z", 472,
                "Currently not accepting new sessions");
    gw_core_set_accepting(f.g, true);
    /* The session's id may also come from the body. */
    r = janus(&f, 0, 0, "{\"janus\":\"keepalive\",\"transaction\":\"k\",\"session_id\":4242}", &rc);
    ASSERT_EQ(rc, 0);
    expect_plain(r, "ack", 4242, "k");
    gw_core_destroy(f.g);
}

static void test_session_errors(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    uint64_t s = create_session(&f, NULL);
    uint64_t h = attach(&f, s);
    janus_error(&f, 0, 0, "{\"janus\":\"keepalive\",\"transaction\":\"t\",\"session_id\":-3}", 0,
                "t", 458, "Session not found");
    janus_error(&f, s, 0, "{\"janus\":\"keepalive\",\"transaction\":\"t\",\"handle_id\":0}", s, "t",
                459, "Handle not found");
    janus_error(&f, 77, 0, "{\"janus\":\"keepalive\",\"transaction\":\"t\"}", 77, "t", 458,
                "No such session 77");
    char want[128];
    snprintf(want, sizeof want, "No such handle 99 in session %" PRIu64, s);
    janus_error(&f, s, 99, "{\"janus\":\"detach\",\"transaction\":\"t\"}", s, "t", 459, want);
    janus_error(&f, s, 0, "{\"janus\":\"bogus\",\"transaction\":\"t\"}", s, "t", 453,
                "Unknown request 'bogus'");
    janus_error(&f, s, h, "{\"janus\":\"bogus\",\"transaction\":\"t\"}", s, "t", 453,
                "Unknown request 'bogus'");
    janus_error(&f, s, h, "{\"janus\":\"attach\",\"transaction\":\"t\"}", s, "t", 457,
                "Unhandled request 'attach' at this path");
    /* Janus answers keepalive on a handle path too. */
    int rc;
    expect_plain(janus(&f, s, h, "{\"janus\":\"keepalive\",\"transaction\":\"t\"}", &rc), "ack", s,
                 "t");
    janus_error(&f, s, h, "{\"janus\":\"destroy\",\"transaction\":\"t\"}", s, "t", 457,
                "Unhandled request 'destroy' at this path");
    janus_error(&f, s, 0, "{\"janus\":\"message\",\"transaction\":\"t\",\"body\":{}}", s, "t", 457,
                "Unhandled request 'message' at this path");
    janus_error(&f, s, 0, "{\"janus\":\"attach\",\"transaction\":\"t\"}", s, "t", 456,
                "Missing mandatory element (plugin)");
    janus_error(&f, s, 0, "{\"janus\":\"attach\",\"transaction\":\"t\",\"plugin\":1}", s, "t", 467,
                "Invalid element type (plugin should be a string)");
    janus_error(&f, s, 0, "{\"janus\":\"attach\",\"transaction\":\"t\",\"plugin\":\"janus.x\"}", s,
                "t", 460, "No such plugin 'janus.x'");
    f.tp.fail_attach = 1;
    janus_error(&f, s, 0,
                "{\"janus\":\"attach\",\"transaction\":\"t\",\"plugin\":\"janus.plugin.test\"}", s,
                "t", 461, "Couldn't attach to plugin: error '-5'");
    f.tp.fail_attach = 0;
    janus_error(&f, s, h, "{\"janus\":\"message\",\"transaction\":\"t\"}", s, "t", 456,
                "Missing mandatory element (body)");
    janus_error(&f, s, h, "{\"janus\":\"message\",\"transaction\":\"t\",\"body\":3}", s, "t", 467,
                "Invalid element type (body should be an object)");
    janus_error(&f, s, h, "{\"janus\":\"message\",\"transaction\":\"t\",\"body\":{},\"jsep\":1}", s,
                "t", 455, "Invalid jsep object");
    janus_error(&f, s, h, "{\"janus\":\"message\",\"transaction\":\"t\",\"body\":{\"fail\":1}}", s,
                "t", 462, "Plugin returned a severe (unrecoverable) error");
    janus_error(&f, s, h, "{\"janus\":\"trickle\",\"transaction\":\"t\"}", s, "t", 456,
                "Missing mandatory element (candidate|candidates)");
    gw_core_destroy(f.g);
}

static bool deny_all(void *ctx, const json_t *request)
{
    (void)request;
    (*(int *)ctx)++;
    return false;
}

static void test_auth(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    uint64_t s = create_session(&f, NULL);
    gw_core_destroy(f.g);
    int calls = 0;
    struct gw_core_config cfg = {.plugins = f.regs, .auth = deny_all, .auth_ctx = &calls};
    ASSERT_EQ(gw_core_create(&cfg, &f.g), 0);
    const char *why = "Unauthorized request (wrong or missing secret/token)";
    janus_error(&f, 0, 0, "{\"janus\":\"create\",\"transaction\":\"t\"}", 0, "t", 403, why);
    /* Auth comes before the session lookup: an unknown session is 403, not 458. */
    janus_error(&f, s, 0, "{\"janus\":\"keepalive\",\"transaction\":\"t\"}", s, "t", 403, why);
    ASSERT_EQ(calls, 2);
    /* Draining is checked before authorization, as in Janus. */
    gw_core_set_accepting(f.g, false);
    janus_error(&f, 0, 0, "{\"janus\":\"create\",\"transaction\":\"t\"}", 0, "t", 472,
                "Currently not accepting new sessions");
    ASSERT_EQ(calls, 2);
    int rc;
    json_t *r = janus(&f, 0, 0, "{\"janus\":\"ping\",\"transaction\":\"p\"}", &rc);
    ASSERT_EQ(rc, 0);
    json_decref(r);
    ASSERT_EQ(calls, 2);
    gw_core_destroy(f.g);
}

static void test_attach_detach_destroy(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    uint64_t s = create_session(&f, NULL);
    uint64_t h1 = attach(&f, s), h2 = attach(&f, s);
    ASSERT_NE(h1, h2);
    ASSERT_EQ(f.tp.creates, 2);
    int rc;
    expect_plain(janus(&f, s, h1, "{\"janus\":\"detach\",\"transaction\":\"d\"}", &rc), "success",
                 s, "d");
    ASSERT_EQ(f.tp.destroys, 1);
    json_t *ev = take(&f, s, 1, 0, 1);
    json_t *e = json_array_get(ev, 0);
    ASSERT_STREQ(str_at(e, "janus"), "detached");
    ASSERT_UEQ(int_at(e, "session_id"), s);
    ASSERT_UEQ(int_at(e, "sender"), h1);
    ASSERT_EQ(json_object_size(e), 3);
    json_decref(ev);
    char want[128];
    snprintf(want, sizeof want, "No such handle %" PRIu64 " in session %" PRIu64, h1, s);
    janus_error(&f, s, h1, "{\"janus\":\"detach\",\"transaction\":\"d\"}", s, "d", 459, want);
    expect_plain(janus(&f, s, h2, "{\"janus\":\"hangup\",\"transaction\":\"h\"}", &rc), "success",
                 s, "h");
    ASSERT_EQ(f.tp.hangups, 1);
    /* As in Janus: with no PeerConnection only the plugin is told (no `hangup` event), and
     * only once until media is negotiated again. */
    json_decref(take(&f, s, 5, 0, 0));
    expect_plain(janus(&f, s, h2, "{\"janus\":\"HANGUP\",\"transaction\":\"h\"}", &rc), "success",
                 s, "h");
    ASSERT_EQ(f.tp.hangups, 1);
    json_decref(janus(&f, s, h2,
                      "{\"janus\":\"message\",\"transaction\":\"m\",\"body\":{},"
                      "\"jsep\":{\"type\":\"offer\",\"sdp\":\"v=0\"}}",
                      &rc));
    json_decref(janus(&f, s, h2, "{\"janus\":\"hangup\",\"transaction\":\"h\"}", &rc));
    ASSERT_EQ(f.tp.hangups, 2);
    expect_plain(janus(&f, s, 0, "{\"janus\":\"claim\",\"transaction\":\"c\"}", &rc), "success", s,
                 "c");
    expect_plain(janus(&f, s, 0, "{\"janus\":\"destroy\",\"transaction\":\"x\"}", &rc), "success",
                 s, "x");
    ASSERT_EQ(f.tp.destroys, 2);
    ASSERT_EQ(gw_core_session_count(f.g), 0);
    snprintf(want, sizeof want, "No such session %" PRIu64, s);
    janus_error(&f, s, 0, "{\"janus\":\"keepalive\",\"transaction\":\"k\"}", s, "k", 458, want);
    gw_core_destroy(f.g);
}

static void test_message(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    uint64_t s = create_session(&f, NULL);
    uint64_t h = attach(&f, s);
    int rc;
    json_t *r =
        janus(&f, s, h, "{\"janus\":\"message\",\"transaction\":\"m\",\"body\":{\"x\":1}}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(str_at(r, "janus"), "success");
    ASSERT_UEQ(int_at(r, "session_id"), s);
    ASSERT_UEQ(int_at(r, "sender"), h);
    ASSERT_STREQ(str_at(r, "transaction"), "m");
    json_t *pd = json_object_get(r, "plugindata");
    ASSERT_STREQ(str_at(pd, "plugin"), "janus.plugin.test");
    ASSERT_EQ(int_at(json_object_get(json_object_get(pd, "data"), "echo"), "x"), 1);
    json_decref(r);
    r = janus(&f, s, h,
              "{\"janus\":\"message\",\"transaction\":\"q\",\"body\":{\"async\":1},"
              "\"jsep\":{\"type\":\"offer\",\"sdp\":\"v=0\"}}",
              &rc);
    ASSERT_EQ(rc, 0);
    expect_plain(r, "ack", s, "q");
    json_t *ev = take(&f, s, 1, 0, 1);
    json_t *e = json_array_get(ev, 0);
    ASSERT_STREQ(str_at(e, "janus"), "event");
    ASSERT_UEQ(int_at(e, "session_id"), s);
    ASSERT_UEQ(int_at(e, "sender"), h);
    ASSERT_STREQ(str_at(e, "transaction"), "q");
    pd = json_object_get(e, "plugindata");
    ASSERT_STREQ(str_at(pd, "plugin"), "janus.plugin.test");
    ASSERT_STREQ(str_at(json_object_get(pd, "data"), "result"), "later");
    ASSERT_STREQ(str_at(json_object_get(e, "jsep"), "type"), "answer");
    json_decref(ev);
    /* Trickle: one candidate, then a list ending with completed. */
    r = janus(&f, s, h,
              "{\"janus\":\"trickle\",\"transaction\":\"t\",\"candidate\":{\"candidate\":\"a\"}}",
              &rc);
    expect_plain(r, "ack", s, "t");
    r = janus(&f, s, h,
              "{\"janus\":\"trickle\",\"transaction\":\"t\",\"candidates\":[{\"candidate\":\"b\"},"
              "{\"completed\":true}]}",
              &rc);
    expect_plain(r, "ack", s, "t");
    struct gw_handle *hd;
    ASSERT_EQ(gw_core_handle_get(f.g, s, h, &hd), 0);
    json_t *tr = gw_handle_trickles_take(hd);
    ASSERT_EQ(json_array_size(tr), 3);
    ASSERT_STREQ(str_at(json_array_get(tr, 1), "candidate"), "b");
    ASSERT(json_is_true(json_object_get(json_array_get(tr, 2), "completed")));
    json_decref(tr);
    tr = gw_handle_trickles_take(hd);
    ASSERT_EQ(json_array_size(tr), 0);
    json_decref(tr);
    gw_handle_unref(hd);
    gw_core_destroy(f.g);
}

static void test_queue(void)
{
    struct fix f;
    fix_init(&f, -1, 4);
    uint64_t s = create_session(&f, NULL);
    uint64_t h = attach(&f, s);
    struct gw_handle *hd;
    ASSERT_EQ(gw_core_handle_get(f.g, s, h, &hd), 0);
    /* Six async messages, each pushing one event, into a queue of four. */
    for (int i = 0; i < 6; i++) {
        char text[128];
        snprintf(text, sizeof text,
                 "{\"janus\":\"message\",\"transaction\":\"%d\",\"body\":{\"async\":1}}", i);
        json_decref(janus(&f, s, h, text, NULL));
    }
    struct gw_session *ss;
    ASSERT_EQ(gw_core_session_get(f.g, s, &ss), 0);
    ASSERT_UEQ(gw_session_events_dropped(ss), 2);
    gw_session_unref(ss);
    /* The first poll is told what was lost, then gets the oldest event kept. */
    json_t *ev = take(&f, s, 1, 0, 1);
    ASSERT_STREQ(str_at(json_array_get(ev, 0), "janus"), "events_dropped");
    ASSERT_EQ(int_at(json_array_get(ev, 0), "dropped"), 2);
    ASSERT_UEQ(int_at(json_array_get(ev, 0), "session_id"), s);
    json_decref(ev);
    ev = take(&f, s, 1, 0, 1);
    ASSERT_STREQ(str_at(json_array_get(ev, 0), "transaction"), "2");
    json_decref(ev);
    ev = take(&f, s, 10, 0, 3);
    ASSERT_STREQ(str_at(json_array_get(ev, 0), "transaction"), "3");
    ASSERT_STREQ(str_at(json_array_get(ev, 2), "transaction"), "5");
    json_decref(ev);
    ev = take(&f, s, 10, 20, 0); /* waits 20 ms, then times out empty */
    json_decref(ev);
    gw_handle_unref(hd);
    gw_core_destroy(f.g);
}

struct waiter {
    struct gw_session *s;
    int n;
    json_t *got;
};

static void *wait_events(void *arg)
{
    struct waiter *w = arg;
    w->n = gw_session_events_take(w->s, 10, 5000, &w->got);
    return NULL;
}

static void test_take_wakes(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    uint64_t s = create_session(&f, NULL);
    uint64_t h = attach(&f, s);
    struct waiter w = {0};
    ASSERT_EQ(gw_core_session_get(f.g, s, &w.s), 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, wait_events, &w), 0);
    json_decref(janus(
        &f, s, h, "{\"janus\":\"message\",\"transaction\":\"w\",\"body\":{\"async\":1}}", NULL));
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(w.n, 1);
    ASSERT_STREQ(str_at(json_array_get(w.got, 0), "janus"), "event");
    json_decref(w.got);
    gw_session_unref(w.s);
    json_t *bad;
    struct gw_session *ss;
    ASSERT_EQ(gw_core_session_get(f.g, s, &ss), 0);
    ASSERT_EQ(gw_session_events_take(ss, 0, 0, &bad), -EINVAL);
    gw_session_unref(ss);
    gw_core_destroy(f.g);
}

static void test_timeout(void)
{
    struct fix f;
    fix_init(&f, 2, 0);
    uint64_t a = create_session(&f, NULL), b = create_session(&f, NULL);
    attach(&f, a);
    attach(&f, a);
    struct gw_session *held;
    ASSERT_EQ(gw_core_session_get(f.g, a, &held), 0);
    f.now += 1500000;
    int rc;
    json_decref(janus(&f, b, 0, "{\"janus\":\"keepalive\",\"transaction\":\"k\"}", &rc));
    ASSERT_EQ(gw_core_sweep(f.g), 0);
    f.now += 1000000; /* a idle 2.5 s, b 1 s */
    ASSERT_EQ(gw_core_sweep(f.g), 1);
    ASSERT_EQ(f.tp.destroys, 2);
    ASSERT_EQ(gw_core_session_count(f.g), 1);
    json_t *ev;
    ASSERT_EQ(gw_session_events_take(held, 5, 0, &ev), 1);
    json_t *e = json_array_get(ev, 0);
    ASSERT_STREQ(str_at(e, "janus"), "timeout");
    ASSERT_UEQ(int_at(e, "session_id"), a);
    ASSERT_EQ(json_object_size(e), 2);
    json_decref(ev);
    gw_session_unref(held);
    char want[64];
    snprintf(want, sizeof want, "No such session %" PRIu64, a);
    janus_error(&f, a, 0, "{\"janus\":\"keepalive\",\"transaction\":\"k\"}", a, "k", 458, want);
    /* 0 = never. */
    gw_core_set_session_timeout(f.g, 0);
    f.now += 1000000000;
    ASSERT_EQ(gw_core_sweep(f.g), 0);
    ASSERT_EQ(gw_core_session_count(f.g), 1);
    gw_core_destroy(f.g);
}

/* One client's life, many times: create, attach, async message, poll, detach or destroy. */
static void *churn_client(void *arg)
{
    struct fix_worker *c = arg;
    for (int i = 0; i < c->rounds; i++) {
        uint64_t s = create_session(c->f, NULL);
        uint64_t h = attach(c->f, s);
        json_decref(janus(c->f, s, h,
                          "{\"janus\":\"message\",\"transaction\":\"m\",\"body\":{\"async\":1}}",
                          NULL));
        struct gw_session *ss;
        if (gw_core_session_get(c->f->g, s, &ss) == 0) {
            json_t *ev;
            ASSERT_GE(gw_session_events_take(ss, 10, 0, &ev), 0);
            json_decref(ev);
            gw_session_unref(ss);
        }
        if (i % 2)
            json_decref(janus(c->f, s, h, "{\"janus\":\"detach\",\"transaction\":\"d\"}", NULL));
        json_decref(janus(c->f, s, 0, "{\"janus\":\"destroy\",\"transaction\":\"x\"}", NULL));
    }
    return NULL;
}

/* Clients on several threads at once, with sweeps racing them (run under ASan and TSan). */
static void test_concurrent(void)
{
    struct fix f;
    fix_init(&f, 1, 8);
    struct fix_worker c = {&f, 300};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, churn_client, &c), 0);
    for (int i = 0; i < 50; i++)
        gw_core_sweep(f.g);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    ASSERT_EQ(gw_core_session_count(f.g), 0);
    gw_core_destroy(f.g);
}

struct blocked_call {
    struct fix *f;
    uint64_t sid, hid;
    json_t *reply;
};

static void *send_blocking(void *arg)
{
    struct blocked_call *b = arg;
    b->reply = janus(b->f, b->sid, b->hid,
                     "{\"janus\":\"message\",\"transaction\":\"b\",\"body\":{\"block\":1}}", NULL);
    return NULL;
}

/* A detach while the plugin's handle_message runs on another thread: the handle is gone for new
 * requests at once, but destroy_session waits until the running hook returns. */
static void test_detach_during_hook(void)
{
    struct fix f;
    fix_init(&f, -1, 16);
    uint64_t s = create_session(&f, NULL);
    uint64_t h = attach(&f, s);
    struct blocked_call b = {&f, s, h, NULL};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, send_blocking, &b), 0);
    while (!f.tp.blocked)
        sched_yield();
    json_t *r = janus(&f, s, h, "{\"janus\":\"detach\",\"transaction\":\"d\"}", NULL);
    ASSERT_STREQ(str_at(r, "janus"), "success");
    json_decref(r);
    ASSERT_EQ(f.tp.destroys, 0); /* deferred */
    int code = 0;
    r = janus(&f, s, h, "{\"janus\":\"message\",\"transaction\":\"m\",\"body\":{}}", &code);
    ASSERT_EQ(code, GW_ERR_HANDLE_NOT_FOUND); /* no new hook on a detached handle */
    json_decref(r);
    f.tp.release = 1;
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_STREQ(str_at(b.reply, "janus"), "success"); /* the running message completed */
    json_decref(b.reply);
    ASSERT_EQ(f.tp.destroys, 1); /* by the hook's leave */
    gw_core_destroy(f.g);
    ASSERT_EQ(f.tp.destroys, 1);
}

/* `info` carries Janus 1.1.2's keys, in its order, with its types. */
static void test_info_keys(void)
{
    struct fix f;
    fix_base(&f);
    struct gw_media_info media = {.local_ip = "192.0.2.7", .ice_lite = true, .dtls_mtu = 1400};
    struct gw_core_config cfg = {.plugins = f.regs,
                                 .api_secret_on = true,
                                 .media = &media,
                                 .log_path = "/var/log/v.log",
                                 .server_name = "box-1"};
    ASSERT_EQ(gw_core_create(&cfg, &f.g), 0);
    struct gw_transport_info http = {"janus.transport.http", "REST", "us", "HTTP", "0.1.0", 1};
    ASSERT_EQ(gw_core_transport_add(f.g, &http), 0);
    int rc;
    json_t *r = janus(&f, 0, 0, "{\"janus\":\"INFO\",\"transaction\":\"i\"}", &rc);
    ASSERT_EQ(rc, 0);
    static const struct {
        const char *key;
        json_type type;
    } keys[] = {
        {"janus", JSON_STRING},
        {"transaction", JSON_STRING},
        {"name", JSON_STRING},
        {"version", JSON_INTEGER},
        {"version_string", JSON_STRING},
        {"author", JSON_STRING},
        {"commit-hash", JSON_STRING},
        {"compile-time", JSON_STRING},
        {"log-to-stdout", JSON_FALSE},
        {"log-to-file", JSON_TRUE},
        {"log-path", JSON_STRING},
        {"data_channels", JSON_FALSE},
        {"accepting-new-sessions", JSON_TRUE},
        {"session-timeout", JSON_INTEGER},
        {"reclaim-session-timeout", JSON_INTEGER},
        {"candidates-timeout", JSON_INTEGER},
        {"server-name", JSON_STRING},
        {"local-ip", JSON_STRING},
        {"ipv6", JSON_FALSE},
        {"ice-lite", JSON_TRUE},
        {"ice-tcp", JSON_FALSE},
        {"ice-nomination", JSON_STRING},
        {"ice-keepalive-conncheck", JSON_FALSE},
        {"full-trickle", JSON_FALSE},
        {"mdns-enabled", JSON_FALSE},
        {"min-nack-queue", JSON_INTEGER},
        {"nack-optimizations", JSON_FALSE},
        {"twcc-period", JSON_INTEGER},
        {"dtls-mtu", JSON_INTEGER},
        {"static-event-loops", JSON_INTEGER},
        {"api_secret", JSON_TRUE},
        {"auth_token", JSON_FALSE},
        {"event_handlers", JSON_FALSE},
        {"opaqueid_in_api", JSON_FALSE},
        {"dependencies", JSON_OBJECT},
        {"transports", JSON_OBJECT},
        {"events", JSON_OBJECT},
        {"loggers", JSON_OBJECT},
        {"plugins", JSON_OBJECT},
    };
    ASSERT_EQ(json_object_size(r), sizeof keys / sizeof keys[0]);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(r, k, v)
    {
        ASSERT_STREQ(k, keys[i].key);
        ASSERT_EQ(json_typeof(v), keys[i].type);
        i++;
    }
    ASSERT_STREQ(str_at(r, "name"), "Verbatim");
    ASSERT_STREQ(str_at(r, "server-name"), "box-1");
    ASSERT_STREQ(str_at(r, "local-ip"), "192.0.2.7");
    ASSERT_STREQ(str_at(r, "log-path"), "/var/log/v.log");
    ASSERT_EQ(int_at(r, "dtls-mtu"), 1400);
    ASSERT_EQ(int_at(r, "twcc-period"), 200);
    ASSERT_EQ(int_at(r, "candidates-timeout"), 45);
    ASSERT_STREQ(str_at(json_object_get(r, "dependencies"), "jansson"), JANSSON_VERSION);
    json_t *t = json_object_get(json_object_get(r, "transports"), "janus.transport.http");
    ASSERT_STREQ(str_at(t, "name"), "REST");
    ASSERT_STREQ(str_at(t, "version_string"), "0.1.0");
    json_decref(r);
    gw_core_destroy(f.g);
}

static bool only_plain(void *ctx, const json_t *request, const char *plugin_package)
{
    (void)request;
    (*(int *)ctx)++;
    return strcmp(plugin_package, "janus.plugin.test") != 0;
}

/* Janus's ways with ids, verbs and error replies, and the attach hook. */
static void test_quirks(void)
{
    struct fix f;
    fix_init(&f, -1, 0);
    uint64_t s = create_session(&f, NULL);
    /* A session_id that is not an integer reads as none: the root path answers. */
    janus_error(&f, 0, 0, "{\"janus\":\"keepalive\",\"transaction\":\"t\",\"session_id\":\"x\"}", 0,
                "t", 457, "Unhandled request 'keepalive' at this path");
    /* Errors before the transaction is known still name the session. */
    janus_error(&f, s, 0, "{\"janus\":\"keepalive\"}", s, NULL, 456,
                "Missing mandatory element (transaction)");
    int rc;
    expect_plain(janus(&f, s, 0, "{\"janus\":\"KeepAlive\",\"transaction\":\"k\"}", &rc), "ack", s,
                 "k");
    json_t *r = janus(&f, 0, 0, "{\"janus\":\"Ping\",\"transaction\":\"p\"}", &rc);
    ASSERT_STREQ(str_at(r, "janus"), "pong");
    json_decref(r);
    janus_error(&f, s, 0,
                "{\"janus\":\"attach\",\"transaction\":\"t\",\"plugin\":\"janus.plugin.test\","
                "\"opaque_id\":5}",
                s, "t", 467, "Invalid element type (opaque_id should be a string)");
    janus_error(&f, s, 0,
                "{\"janus\":\"attach\",\"transaction\":\"t\",\"plugin\":\"janus.plugin.test\","
                "\"loop_index\":\"x\"}",
                s, "t", 467, "Invalid element type (loop_index should be a positive integer)");
    r = janus(&f, s, 0,
              "{\"janus\":\"attach\",\"transaction\":\"a\",\"plugin\":\"janus.plugin.test\","
              "\"opaque_id\":\"abc\"}",
              &rc);
    ASSERT_EQ(rc, 0);
    uint64_t h = (uint64_t)int_at(json_object_get(r, "data"), "id");
    json_decref(r);
    struct gw_handle *hd;
    ASSERT_EQ(gw_core_handle_get(f.g, s, h, &hd), 0);
    ASSERT_STREQ(gw_handle_opaque_id(hd), "abc");
    gw_handle_unref(hd);
    gw_core_destroy(f.g);
    /* The attach hook: 405 with Janus's reason, after the plugin was found. */
    int calls = 0;
    struct gw_core_config cfg = {.plugins = f.regs, .auth_plugin = only_plain, .auth_ctx = &calls};
    ASSERT_EQ(gw_core_create(&cfg, &f.g), 0);
    s = create_session(&f, NULL);
    janus_error(&f, s, 0, "{\"janus\":\"attach\",\"transaction\":\"t\",\"plugin\":\"janus.x\"}", s,
                "t", 460, "No such plugin 'janus.x'");
    ASSERT_EQ(calls, 0);
    janus_error(&f, s, 0,
                "{\"janus\":\"attach\",\"transaction\":\"t\",\"plugin\":\"janus.plugin.test\"}", s,
                "t", 405, "Provided token can't access plugin 'janus.plugin.test'");
    ASSERT_EQ(calls, 1);
    ASSERT_EQ(f.tp.creates, 1); /* the attach with opaque_id above only */
    gw_core_destroy(f.g);
}

static const struct test_case cases[] = {
    {"mandatory", test_mandatory},
    {"info_ping", test_info_ping},
    {"create", test_create},
    {"session_errors", test_session_errors},
    {"auth", test_auth},
    {"attach_detach_destroy", test_attach_detach_destroy},
    {"message", test_message},
    {"queue", test_queue},
    {"take_wakes", test_take_wakes},
    {"timeout", test_timeout},
    {"concurrent", test_concurrent},
    {"info_keys", test_info_keys},
    {"quirks", test_quirks},
    {"detach_during_hook", test_detach_during_hook},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
