/* tests/gateway/gw_test_fixture.h — the fixture shared by the gateway core and Admin API tests
 * (test_core.c, test_admin.c): two test plugins, a scripted clock, requests written as JSON text
 * and sent to the Janus API or the Admin API, and checks of the exact reply shapes.
 *
 * Each tests/gateway/test_*.c is its own executable, so everything here is static (functions
 * `static inline`, so that a file using only some of them compiles without warnings). The
 * fixture is owned by the test that declares it; the request helpers may be called from several
 * threads at once (the core and the Admin API lock internally). Requests may be written with '
 * for " (parse() swaps them), as no test request needs a quote character. */
#ifndef VB_TESTS_GATEWAY_GW_TEST_FIXTURE_H
#define VB_TESTS_GATEWAY_GW_TEST_FIXTURE_H

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "tests/test.h"
#include "gateway/admin.h"
#include "gateway/auth.h"
#include "gateway/core.h"

/* ---- two test plugins: "janus.plugin.test" answers everything, "janus.plugin.plain" has no
 * admin messages, session queries or hangup hook ---- */

struct tp_ctx {
    atomic_int creates, destroys, hangups, admin_msgs; /* hooks run on several threads */
    int fail_attach;             /* create_session fails with -EIO while set */
    atomic_int blocked, release; /* a message {"block":1} sets `blocked`, waits for `release` */
    json_t *last_admin;          /* a copy of the last admin message (the test frees it) */
};

#define TP_MAGIC 0x7e57u

struct tp_state {
    unsigned magic; /* cleared when freed: a hook seeing it cleared ran on freed state */
    const struct gw_plugin_callbacks *cb;
};

static inline int tp_create(void *ctx, const struct gw_plugin_callbacks *cb, struct gw_handle *h,
                            void **state)
{
    ASSERT_GT(gw_handle_id(h), 0); /* ids are known to the plugin from the start */
    struct tp_ctx *c = ctx;
    if (c->fail_attach)
        return -EIO;
    struct tp_state *st = calloc(1, sizeof *st);
    ASSERT(st != NULL);
    st->cb = cb;
    st->magic = TP_MAGIC;
    c->creates++;
    *state = st;
    return 0;
}

static inline void tp_destroy(void *ctx, struct gw_handle *h, void *state)
{
    (void)h;
    ((struct tp_ctx *)ctx)->destroys++;
    ((struct tp_state *)state)->magic = 0;
    free(state);
}

/* {"block":1} holds the hook until the test releases it, {"fail":1} fails (462), {"async":1}
 * pushes {"result":"later"} (with an answer when the message had a jsep); otherwise the reply is
 * {"echo":body}. */
static inline int tp_message(void *ctx, struct gw_handle *h, void *state, const char *transaction,
                             json_t *body, json_t *jsep, json_t **result)
{
    struct tp_ctx *c = ctx;
    struct tp_state *st = state;
    if (json_object_get(body, "block")) {
        c->blocked = 1;
        while (!c->release)
            sched_yield();
        ASSERT_EQ(st->magic, TP_MAGIC);
        ASSERT_EQ(c->destroys, 0);
    }
    if (json_object_get(body, "fail"))
        return -EIO;
    if (json_object_get(body, "async")) {
        st->cb->push_event(h, transaction, json_pack("{s:s}", "result", "later"),
                           jsep ? json_pack("{s:s, s:s}", "type", "answer", "sdp", "v=0") : NULL);
        return GW_PLUGIN_ASYNC;
    }
    *result = json_pack("{s:O}", "echo", body);
    return GW_PLUGIN_SYNC;
}

static inline void tp_hangup(void *ctx, struct gw_handle *h, void *state)
{
    (void)h, (void)state;
    ((struct tp_ctx *)ctx)->hangups++;
}

/* Keeps a copy of the request; {"fail":1} fails, else {"test":"success","got":request}. */
static inline int tp_admin(void *ctx, json_t *request, json_t **result)
{
    struct tp_ctx *c = ctx;
    c->admin_msgs++;
    json_decref(c->last_admin);
    c->last_admin = json_deep_copy(request);
    if (json_object_get(request, "fail"))
        return -EIO;
    *result = json_pack("{s:s, s:O}", "test", "success", "got", request);
    return 0;
}

static inline json_t *tp_query(void *ctx, struct gw_handle *h, void *state)
{
    (void)ctx, (void)state;
    return json_pack("{s:I}", "handle", (json_int_t)gw_handle_id(h));
}

static const struct gw_plugin tp_plugin = {
    .name = "Test plugin",
    .package = "janus.plugin.test",
    .author = "tests",
    .description = "A plugin for the gateway tests",
    .version_string = "0.0.1",
    .version = 1,
    .create_session = tp_create,
    .destroy_session = tp_destroy,
    .handle_message = tp_message,
    .handle_admin_message = tp_admin,
    .hangup_media = tp_hangup,
    .query_session = tp_query,
};

static const struct gw_plugin plain_plugin = {
    .name = "Plain plugin",
    .package = "janus.plugin.plain",
    .author = "tests",
    .description = "No admin messages, no session queries",
    .version_string = "0.0.2",
    .version = 2,
    .create_session = tp_create,
    .destroy_session = tp_destroy,
    .handle_message = tp_message,
};

/* ---- the fixture ---- */

static inline int64_t fake_now(void *ctx)
{
    return *(int64_t *)ctx;
}

struct fix {
    struct tp_ctx tp, plain;
    struct gw_plugin_reg regs[3]; /* tp_plugin, plain_plugin, end */
    int64_t now;                  /* the scripted clock, in microseconds */
    struct vb_clock clock;
    struct vb_log log; /* the Admin API's (test_admin.c) */
    FILE *logfp;
    struct gw_auth *auth; /* may be NULL */
    struct gw_core *g;
    struct gw_admin *a; /* NULL without an Admin API */
};

/* What a client thread of a concurrency test gets: the shared fixture and how many rounds to
 * run. */
struct fix_worker {
    struct fix *f;
    int rounds;
};

/* Zeroes the fixture and sets up the plugin table and the clock (at 1 s); no core yet. */
static inline void fix_base(struct fix *f)
{
    memset(f, 0, sizeof *f);
    f->regs[0] = (struct gw_plugin_reg){&tp_plugin, &f->tp};
    f->regs[1] = (struct gw_plugin_reg){&plain_plugin, &f->plain};
    f->now = 1000000;
    f->clock = (struct vb_clock){fake_now, fake_now, &f->now};
}

/* ---- requests ---- */

/* Parses a request written with ' for " (asserting it is valid JSON). New reference. */
static inline json_t *parse(const char *text)
{
    char buf[1024];
    size_t n = strlen(text);
    ASSERT_LT(n, sizeof buf);
    for (size_t i = 0; i <= n; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    json_error_t err;
    json_t *req = json_loads(buf, 0, &err);
    if (!req)
        TEST_FAIL_("bad test JSON: %s: %s", text, err.text);
    return req;
}

/* Sends `text` on the path (sid, hid) to the Admin API or the Janus API and returns the reply
 * (caller frees); *code (may be NULL) gets the return value. */
static inline json_t *fix_send(struct fix *f, bool to_admin, uint64_t sid, uint64_t hid,
                               const char *text, int *code)
{
    json_t *req = parse(text);
    struct gw_request_ctx ctx = {.session_id = sid, .handle_id = hid};
    json_t *reply = NULL;
    int rc = to_admin ? gw_admin_handle(f->a, &ctx, req, &reply)
                      : gw_core_handle(f->g, &ctx, req, &reply);
    json_decref(req);
    ASSERT(json_is_object(reply));
    if (code)
        *code = rc;
    return reply;
}

static inline json_t *janus(struct fix *f, uint64_t sid, uint64_t hid, const char *text, int *code)
{
    return fix_send(f, false, sid, hid, text, code);
}

static inline json_t *admin(struct fix *f, uint64_t sid, uint64_t hid, const char *text, int *code)
{
    return fix_send(f, true, sid, hid, text, code);
}

/* ---- replies ---- */

static inline int64_t int_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        TEST_FAIL_("\"%s\" is not an integer", key);
    return json_integer_value(v);
}

static inline const char *str_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        TEST_FAIL_("\"%s\" is not a string", key);
    return json_string_value(v);
}

static inline bool bool_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v))
        TEST_FAIL_("\"%s\" is not a boolean", key);
    return json_is_true(v);
}

/* Checks an exact error reply `r` (returned with `rc`) and frees it. sid 0 = no session_id;
 * tr NULL = no transaction. */
static inline void expect_error(json_t *r, int rc, uint64_t sid, const char *tr, int code,
                                const char *reason)
{
    ASSERT_EQ(rc, code);
    ASSERT_STREQ(str_at(r, "janus"), "error");
    size_t keys = 2;
    if (sid) {
        ASSERT_UEQ(int_at(r, "session_id"), sid);
        keys++;
    } else {
        ASSERT(!json_object_get(r, "session_id"));
    }
    if (tr) {
        ASSERT_STREQ(str_at(r, "transaction"), tr);
        keys++;
    } else {
        ASSERT(!json_object_get(r, "transaction"));
    }
    ASSERT_EQ(json_object_size(r), keys);
    json_t *e = json_object_get(r, "error");
    ASSERT_EQ(json_object_size(e), 2);
    ASSERT_EQ(int_at(e, "code"), code);
    ASSERT_STREQ(str_at(e, "reason"), reason);
    json_decref(r);
}

/* Sends `text` and expects the error (reply_sid, tr, code, reason). */
static inline void janus_error(struct fix *f, uint64_t sid, uint64_t hid, const char *text,
                               uint64_t reply_sid, const char *tr, int code, const char *reason)
{
    int rc;
    json_t *r = janus(f, sid, hid, text, &rc);
    expect_error(r, rc, reply_sid, tr, code, reason);
}

static inline void admin_error(struct fix *f, uint64_t sid, uint64_t hid, const char *text,
                               uint64_t reply_sid, const char *tr, int code, const char *reason)
{
    int rc;
    json_t *r = admin(f, sid, hid, text, &rc);
    expect_error(r, rc, reply_sid, tr, code, reason);
}

/* ---- sessions, handles, events ---- */

/* Creates a session (with "token" when not NULL), checking the reply's exact shape; returns its
 * id. */
static inline uint64_t create_session(struct fix *f, const char *token)
{
    char text[256];
    snprintf(text, sizeof text, "{'janus':'create','transaction':'c'%s%s%s}",
             token ? ",'token':'" : "", token ? token : "", token ? "'" : "");
    int rc;
    json_t *r = janus(f, 0, 0, text, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(str_at(r, "janus"), "success");
    ASSERT(!json_object_get(r, "session_id"));
    ASSERT_EQ(json_object_size(r), 3);
    uint64_t id = (uint64_t)int_at(json_object_get(r, "data"), "id");
    json_decref(r);
    ASSERT_GT(id, 0);
    ASSERT_LT(id, INT64_C(1) << 53);
    return id;
}

/* Attaches to `plugin` with `extra` members (",'k':v...", may be NULL) and returns the handle
 * id, checking the success reply. On an error: 0 with *code set when `code` is not NULL, else
 * the test fails. */
static inline uint64_t attach_to(struct fix *f, uint64_t sid, const char *plugin, const char *extra,
                                 int *code)
{
    char text[512];
    snprintf(text, sizeof text, "{'janus':'attach','transaction':'a','plugin':'%s'%s}", plugin,
             extra ? extra : "");
    int rc;
    json_t *r = janus(f, sid, 0, text, &rc);
    if (code)
        *code = rc;
    else
        ASSERT_EQ(rc, 0);
    uint64_t id = 0;
    if (rc == 0) {
        ASSERT_STREQ(str_at(r, "janus"), "success");
        ASSERT_UEQ(int_at(r, "session_id"), sid);
        ASSERT_STREQ(str_at(r, "transaction"), "a");
        id = (uint64_t)int_at(json_object_get(r, "data"), "id");
        ASSERT_GT(id, 0);
        ASSERT_LT(id, INT64_C(1) << 53);
    }
    json_decref(r);
    return id;
}

/* Attaches to janus.plugin.test. */
static inline uint64_t attach(struct fix *f, uint64_t sid)
{
    return attach_to(f, sid, "janus.plugin.test", NULL, NULL);
}

/* Takes up to `maxev` queued events of the session, waiting up to `timeout_ms` for the first,
 * and asserts there were `expect_n` (any number when negative). Returns the array (caller
 * frees). */
static inline json_t *take(struct fix *f, uint64_t sid, int maxev, int timeout_ms, int expect_n)
{
    struct gw_session *s;
    ASSERT_EQ(gw_core_session_get(f->g, sid, &s), 0);
    json_t *arr;
    int n = gw_session_events_take(s, maxev, timeout_ms, &arr);
    gw_session_unref(s);
    ASSERT_GE(n, 0);
    ASSERT_EQ(json_array_size(arr), n);
    if (expect_n >= 0)
        ASSERT_EQ(n, expect_n);
    return arr;
}

#endif
