/* Tests of the Admin API (gateway/admin.h): every verb with its exact reply shape, every error
 * code, the admin_secret rule, per-session timeouts with a scripted clock, draining, the log
 * level, stored tokens and what they let a client attach to, and admin calls racing clients. */
#include <errno.h>
#include <pthread.h>

#include "tests/gateway/gw_test_fixture.h"

enum fix_mode { NO_AUTH, STORED_TOKENS };

/* A core with the test plugins and an Admin API logging to a temporary file, with stored-token
 * auth in STORED_TOKENS mode, and `secret` as the admin_secret (may be NULL). */
static void fix_init(struct fix *f, enum fix_mode mode, const char *secret)
{
    fix_base(f);
    f->logfp = tmpfile();
    ASSERT(f->logfp != NULL);
    f->log = (struct vb_log){.level = VB_LOG_WARN, .fp = f->logfp, .prefix = "t"};
    struct gw_core_config cfg = {.plugins = f->regs, .session_timeout_s = -1, .clock = &f->clock};
    if (mode == STORED_TOKENS) {
        struct gw_auth_config ac = {.token_auth = true};
        ASSERT_EQ(gw_auth_create(&ac, &f->auth), 0);
        cfg.auth = gw_auth_request_ok;
        cfg.auth_plugin = gw_auth_plugin_ok;
        cfg.auth_ctx = f->auth;
        cfg.token_auth_on = true;
    }
    ASSERT_EQ(gw_core_create(&cfg, &f->g), 0);
    struct gw_admin_config ac = {
        .core = f->g, .auth = f->auth, .admin_secret = secret, .log = &f->log};
    ASSERT_EQ(gw_admin_create(&ac, &f->a), 0);
}

static void fix_done(struct fix *f)
{
    gw_admin_destroy(f->a);
    gw_core_destroy(f->g);
    gw_auth_destroy(f->auth);
    fclose(f->logfp);
    json_decref(f->tp.last_admin);
}

/* Expects a success with exactly `nkeys` keys (sid 0 = none) and returns it (caller frees). */
static json_t *admin_ok(struct fix *f, uint64_t sid, uint64_t hid, const char *text,
                        uint64_t reply_sid, size_t nkeys)
{
    int rc;
    json_t *r = admin(f, sid, hid, text, &rc);
    if (rc != 0)
        TEST_FAIL_("%s failed: %s", text, json_dumps(r, 0));
    ASSERT_STREQ(str_at(r, "janus"), "success");
    ASSERT_STREQ(str_at(r, "transaction"), "t");
    if (reply_sid)
        ASSERT_UEQ(int_at(r, "session_id"), reply_sid);
    else
        ASSERT(!json_object_get(r, "session_id"));
    ASSERT_EQ(json_object_size(r), nkeys);
    return r;
}

/* ---- tests ---- */

static const char *const unauthorized = "Unauthorized request (wrong or missing secret/token)";

/* Malformed requests, path conflicts, bad ids and unknown verbs on each path. */
static void test_errors(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    json_t *r = NULL;
    ASSERT_EQ(gw_admin_handle(f.a, NULL, NULL, &r), 452);
    expect_error(r, 452, 0, NULL, 452, "Missing request");
    json_t *arr = json_array();
    ASSERT_EQ(gw_admin_handle(f.a, NULL, arr, &r), 455);
    json_decref(arr);
    expect_error(r, 455, 0, NULL, 455, "JSON error: not an object");
    admin_error(&f, 0, 0, "{'janus':'info'}", 0, NULL, 456,
                "Missing mandatory element (transaction)");
    /* As Janus, these name the session when the request has one. */
    admin_error(&f, 0, 0, "{'janus':'info','session_id':12}", 12, NULL, 456,
                "Missing mandatory element (transaction)");
    admin_error(&f, 12, 0, "{'janus':'info','transaction':3}", 12, NULL, 467,
                "Invalid element type (transaction should be a string)");
    admin_error(&f, 0, 0, "{'transaction':'t'}", 0, NULL, 456, "Missing mandatory element (janus)");
    admin_error(&f, 9, 0, "{'janus':{},'transaction':'t'}", 9, NULL, 467,
                "Invalid element type (janus should be a string)");
    admin_error(&f, 12, 0, "{'janus':'list_handles','transaction':'t','session_id':13}", 0, NULL,
                457, "Conflicting session ID (payload and path)");
    admin_error(&f, 12, 5, "{'janus':'handle_info','transaction':'t','handle_id':6}", 0, NULL, 457,
                "Conflicting handle ID (payload and path)");
    /* Janus's Admin API answers 457 for an unknown verb on every path (never 453). */
    admin_error(&f, 0, 0, "{'janus':'bogus','transaction':'t'}", 0, "t", 457,
                "Unhandled request 'bogus' at this path");
    admin_error(&f, 0, 0, "{'janus':'list_handles','transaction':'t'}", 0, "t", 457,
                "Unhandled request 'list_handles' at this path");
    admin_error(&f, 0, 0, "{'janus':'keepalive','transaction':'t'}", 0, "t", 457,
                "Unhandled request 'keepalive' at this path");
    uint64_t s = create_session(&f, NULL);
    uint64_t h = attach(&f, s);
    admin_error(&f, s, 0, "{'janus':'bogus','transaction':'t'}", s, "t", 457,
                "Unhandled request 'bogus' at this path");
    admin_error(&f, s, 0, "{'janus':'get_status','transaction':'t'}", s, "t", 457,
                "Unhandled request 'get_status' at this path");
    admin_error(&f, s, 0, "{'janus':'ping','transaction':'t'}", s, "t", 457,
                "Unhandled request 'ping' at this path");
    admin_error(&f, s, 0, "{'janus':'handle_info','transaction':'t'}", s, "t", 457,
                "Unhandled request 'handle_info' at this path");
    admin_error(&f, s, h, "{'janus':'list_handles','transaction':'t'}", s, "t", 457,
                "Unhandled request 'list_handles' at this path");
    admin_error(&f, s, h, "{'janus':'destroy_session','transaction':'t'}", s, "t", 457,
                "Unhandled request 'destroy_session' at this path");
    admin_error(&f, s, h, "{'janus':'set_session_timeout','transaction':'t','timeout':3}", s, "t",
                457, "Unhandled request 'set_session_timeout' at this path");
    /* Ids: a negative session, a bad handle id (458, sic), unknown ones. */
    admin_error(&f, 0, 0, "{'janus':'list_handles','transaction':'t','session_id':-3}", 0, "t", 458,
                "Session not found");
    admin_error(&f, 0, 0, "{'janus':'handle_info','transaction':'t','handle_id':4}", 0, "t", 458,
                "Session not found");
    admin_error(&f, s, 0, "{'janus':'list_handles','transaction':'t','handle_id':0}", s, "t", 458,
                "Session not found");
    admin_error(&f, s, 0, "{'janus':'list_handles','transaction':'t','handle_id':'x'}", s, "t", 458,
                "Session not found");
    admin_error(&f, 77, 0, "{'janus':'list_handles','transaction':'t'}", 77, "t", 458,
                "No such session 77");
    char want[128];
    snprintf(want, sizeof want, "No such handle 99 in session %" PRIu64, s);
    admin_error(&f, s, 99, "{'janus':'handle_info','transaction':'t'}", s, "t", 459, want);
    /* An id that is not an integer is ignored: this is the root path. */
    json_decref(
        admin_ok(&f, 0, 0, "{'janus':'list_sessions','transaction':'t','session_id':'x'}", 0, 3));
    /* Verbs are matched without regard to case, as in Janus. */
    json_decref(admin_ok(&f, 0, 0, "{'janus':'LIST_Sessions','transaction':'t'}", 0, 3));
    fix_done(&f);
}

/* The admin_secret: everything but info and ping needs it, on every path. */
static void test_secret(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, "s3cret");
    int rc;
    json_t *r = admin(&f, 0, 0, "{'janus':'ping','transaction':'p'}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(str_at(r, "janus"), "pong");
    ASSERT_EQ(json_object_size(r), 2);
    json_decref(r);
    r = admin(&f, 0, 0, "{'janus':'INFO','transaction':'i','admin_secret':'wrong'}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(str_at(r, "janus"), "server_info");
    json_decref(r);
    static const char *const denied[] = {
        "{'janus':'get_status','transaction':'t'}",
        "{'janus':'get_status','transaction':'t','admin_secret':'s3cre'}",
        "{'janus':'get_status','transaction':'t','admin_secret':'s3cret2'}",
        "{'janus':'get_status','transaction':'t','admin_secret':5}",
        "{'janus':'bogus','transaction':'t'}",
        "{'janus':'list_sessions','transaction':'t'}",
        "{'janus':'set_log_level','transaction':'t','level':7}",
        "{'janus':'accept_new_sessions','transaction':'t','accept':false}",
        "{'janus':'list_tokens','transaction':'t'}",
        "{'janus':'message_plugin','transaction':'t','plugin':'janus.plugin.test'}",
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        admin_error(&f, 0, 0, denied[i], 0, "t", 403, unauthorized);
    ASSERT_EQ(f.tp.admin_msgs, 0);
    ASSERT(gw_core_accepting(f.g));
    /* On session paths the secret is checked before the session is looked up, even for ping. */
    admin_error(&f, 12, 0, "{'janus':'ping','transaction':'t'}", 12, "t", 403, unauthorized);
    uint64_t s = create_session(&f, NULL);
    uint64_t h = attach(&f, s);
    admin_error(&f, s, 0, "{'janus':'destroy_session','transaction':'t'}", s, "t", 403,
                unauthorized);
    admin_error(&f, s, h, "{'janus':'detach_handle','transaction':'t'}", s, "t", 403, unauthorized);
    ASSERT_EQ(gw_core_session_count(f.g), 1);
    ASSERT_EQ(f.tp.destroys, 0);
    json_decref(admin_ok(&f, 0, 0,
                         "{'janus':'list_sessions','transaction':'t','admin_secret':"
                         "'s3cret'}",
                         0, 3));
    json_decref(admin_ok(
        &f, s, 0, "{'janus':'list_handles','transaction':'t','admin_secret':'s3cret'}", s, 4));
    fix_done(&f);
}

static void test_info_status(void)
{
    struct fix f;
    fix_init(&f, STORED_TOKENS, NULL);
    struct gw_transport_info http = {.package = "janus.transport.http",
                                     .name = "REST",
                                     .author = "us",
                                     .description = "HTTP",
                                     .version_string = "0.1.0",
                                     .version = 10};
    ASSERT_EQ(gw_core_transport_add(f.g, &http), 0);
    ASSERT_EQ(gw_core_transport_add(f.g, &http), -EEXIST);
    http.name = NULL;
    ASSERT_EQ(gw_core_transport_add(f.g, &http), -EINVAL);
    int rc;
    json_t *r = admin(&f, 0, 0, "{'janus':'info','transaction':'i'}", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(str_at(r, "janus"), "server_info");
    ASSERT_STREQ(str_at(r, "transaction"), "i");
    ASSERT(bool_at(r, "auth_token"));
    ASSERT(!bool_at(r, "api_secret"));
    ASSERT(bool_at(r, "accepting-new-sessions"));
    json_t *t = json_object_get(json_object_get(r, "transports"), "janus.transport.http");
    ASSERT_STREQ(str_at(t, "name"), "REST");
    ASSERT_STREQ(str_at(t, "description"), "HTTP");
    ASSERT_EQ(int_at(t, "version"), 10);
    ASSERT(json_object_get(json_object_get(r, "plugins"), "janus.plugin.plain"));
    json_decref(r);
    r = admin_ok(&f, 0, 0, "{'janus':'get_status','transaction':'t'}", 0, 3);
    json_t *st = json_object_get(r, "status");
    ASSERT_EQ(json_object_size(st), 14);
    ASSERT(bool_at(st, "token_auth"));
    ASSERT_EQ(int_at(st, "session_timeout"), 60);
    ASSERT_EQ(int_at(st, "reclaim_session_timeout"), 0);
    ASSERT_EQ(int_at(st, "candidates_timeout"), 45);
    ASSERT_EQ(int_at(st, "log_level"), 3); /* our warning level is Janus's 3 */
    ASSERT(!bool_at(st, "log_timestamps"));
    ASSERT(!bool_at(st, "libnice_debug"));
    ASSERT_EQ(int_at(st, "min_nack_queue"), 200);
    ASSERT(!bool_at(st, "nack-optimizations"));
    ASSERT_EQ(int_at(st, "no_media_timer"), 1);
    ASSERT_EQ(int_at(st, "slowlink_threshold"), 0);
    json_decref(r);
    fix_done(&f);
}

/* The global timeout: its errors, and the sweep following it. */
static void test_global_timeout(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    admin_error(&f, 0, 0, "{'janus':'set_session_timeout','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (timeout)");
    admin_error(&f, 0, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':-1}", 0, "t",
                467, "Invalid element type (timeout should be a positive integer)");
    admin_error(&f, 0, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':'9'}", 0, "t",
                467, "Invalid element type (timeout should be a positive integer)");
    uint64_t s = create_session(&f, NULL);
    json_t *r =
        admin_ok(&f, 0, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':0}", 0, 3);
    ASSERT_EQ(int_at(r, "timeout"), 0);
    json_decref(r);
    f.now += 3600 * INT64_C(1000000);
    ASSERT_EQ(gw_core_sweep(f.g), 0);
    r = admin_ok(&f, 0, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':5}", 0, 3);
    ASSERT_EQ(int_at(r, "timeout"), 5);
    json_decref(r);
    ASSERT_EQ(gw_core_session_timeout(f.g), 5);
    ASSERT_EQ(gw_core_sweep(f.g), 1);
    char want[64];
    snprintf(want, sizeof want, "No such session %" PRIu64, s);
    admin_error(&f, s, 0, "{'janus':'list_handles','transaction':'t'}", s, "t", 458, want);
    /* A timeout too long to count in microseconds never expires (and does not overflow). */
    json_decref(admin_ok(
        &f, 0, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':9223372036854775}", 0,
        3));
    create_session(&f, NULL);
    f.now += 3600 * INT64_C(1000000);
    ASSERT_EQ(gw_core_sweep(f.g), 0);
    fix_done(&f);
}

/* One session's own timeout makes it expire on the sweep while the others follow the global. */
static void test_session_timeout(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    uint64_t a = create_session(&f, NULL), b = create_session(&f, NULL),
             c = create_session(&f, NULL);
    attach(&f, a);
    admin_error(&f, a, 0, "{'janus':'set_session_timeout','transaction':'t'}", a, "t", 456,
                "Missing mandatory element (timeout)");
    admin_error(&f, a, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':'3'}", a, "t",
                467, "Invalid element type (timeout should be an integer)");
    admin_error(&f, a, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':-3}", a, "t",
                467, "Invalid element type (timeout should be a non-negative integer or -1)");
    json_t *r =
        admin_ok(&f, a, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':2}", a, 4);
    ASSERT_EQ(int_at(r, "timeout"), 2);
    json_decref(r);
    json_decref(
        admin_ok(&f, c, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':0}", c, 4));
    ASSERT_EQ(gw_core_session_set_timeout(f.g, 4242, 5), -ENOENT);
    ASSERT_EQ(gw_core_session_set_timeout(f.g, b, -2), -EINVAL);
    struct gw_session *held;
    ASSERT_EQ(gw_core_session_get(f.g, a, &held), 0);
    /* Admin requests on a session do not count as its activity. */
    f.now += 1500000;
    json_decref(admin_ok(&f, a, 0, "{'janus':'list_handles','transaction':'t'}", a, 4));
    ASSERT_EQ(gw_core_sweep(f.g), 0);
    f.now += 1000000;
    ASSERT_EQ(gw_core_sweep(f.g), 1);
    ASSERT_EQ(f.tp.destroys, 1);
    json_t *ev;
    ASSERT_EQ(gw_session_events_take(held, 5, 0, &ev), 1);
    ASSERT_STREQ(str_at(json_array_get(ev, 0), "janus"), "timeout");
    json_decref(ev);
    gw_session_unref(held);
    /* b follows the global 60 s, c never expires; then b goes back to the global after -1. */
    json_decref(admin_ok(&f, b, 0,
                         "{'janus':'set_session_timeout','transaction':'t','timeout':100}", b, 4));
    f.now += 70 * INT64_C(1000000);
    ASSERT_EQ(gw_core_sweep(f.g), 0);
    json_decref(
        admin_ok(&f, b, 0, "{'janus':'set_session_timeout','transaction':'t','timeout':-1}", b, 4));
    ASSERT_EQ(gw_core_sweep(f.g), 1);
    ASSERT_EQ(gw_core_session_count(f.g), 1);
    r = admin_ok(&f, 0, 0, "{'janus':'list_sessions','transaction':'t'}", 0, 3);
    ASSERT_EQ(json_array_size(json_object_get(r, "sessions")), 1);
    ASSERT_UEQ(json_integer_value(json_array_get(json_object_get(r, "sessions"), 0)), c);
    json_decref(r);
    fix_done(&f);
}

static void test_log_level(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    admin_error(&f, 0, 0, "{'janus':'set_log_level','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (level)");
    admin_error(&f, 0, 0, "{'janus':'set_log_level','transaction':'t','level':-1}", 0, "t", 467,
                "Invalid element type (level should be a positive integer)");
    admin_error(&f, 0, 0, "{'janus':'set_log_level','transaction':'t','level':'5'}", 0, "t", 467,
                "Invalid element type (level should be a positive integer)");
    admin_error(&f, 0, 0, "{'janus':'set_log_level','transaction':'t','level':8}", 0, "t", 467,
                "Invalid element type (level should be between 0 and 7)");
    ASSERT_EQ(f.log.level, VB_LOG_WARN);
    static const struct {
        int janus, ours;
    } map[] = {{5, VB_LOG_DEBUG}, {4, VB_LOG_INFO}, {3, VB_LOG_WARN},
               {2, VB_LOG_ERROR}, {0, -1},          {7, VB_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "{'janus':'set_log_level','transaction':'t','level':%d}",
                 map[i].janus);
        json_t *r = admin_ok(&f, 0, 0, text, 0, 3);
        ASSERT_EQ(int_at(r, "level"), map[i].janus);
        json_decref(r);
        ASSERT_EQ(f.log.level, map[i].ours);
        r = admin_ok(&f, 0, 0, "{'janus':'get_status','transaction':'t'}", 0, 3);
        ASSERT_EQ(int_at(json_object_get(r, "status"), "log_level"), map[i].janus);
        json_decref(r);
    }
    /* Changed behind the Admin API's back: reported from our level. */
    f.log.level = VB_LOG_INFO;
    json_t *r = admin_ok(&f, 0, 0, "{'janus':'get_status','transaction':'t'}", 0, 3);
    ASSERT_EQ(int_at(json_object_get(r, "status"), "log_level"), 4);
    json_decref(r);
    /* custom_logline writes one sanitized line at its level, filtered by the level in force. */
    admin_error(&f, 0, 0, "{'janus':'custom_logline','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (line)");
    admin_error(&f, 0, 0, "{'janus':'custom_logline','transaction':'t','line':'x','level':-2}", 0,
                "t", 467, "Invalid element type (level should be a positive integer)");
    json_decref(admin_ok(
        &f, 0, 0, "{'janus':'custom_logline','transaction':'t','line':'hidden','level':7}", 0, 2));
    json_decref(admin_ok(
        &f, 0, 0, "{'janus':'custom_logline','transaction':'t','line':'one\\ntwo','level':3}", 0,
        2));
    json_decref(
        admin_ok(&f, 0, 0, "{'janus':'custom_logline','transaction':'t','line':'dflt'}", 0, 2));
    char buf[256] = {0};
    rewind(f.logfp);
    size_t n = fread(buf, 1, sizeof buf - 1, f.logfp);
    buf[n] = '\0';
    ASSERT_STREQ(buf, "t: warning: one?two\nt: info: dflt\n");
    fix_done(&f);
}

/* Draining: create is refused, existing sessions carry on. */
static void test_draining(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    uint64_t s = create_session(&f, NULL);
    admin_error(&f, 0, 0, "{'janus':'accept_new_sessions','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (accept)");
    admin_error(&f, 0, 0, "{'janus':'accept_new_sessions','transaction':'t','accept':1}", 0, "t",
                467, "Invalid element type (accept should be a boolean)");
    json_t *r = admin_ok(&f, 0, 0,
                         "{'janus':'accept_new_sessions','transaction':'t','accept':false}", 0, 3);
    ASSERT(!bool_at(r, "accept"));
    json_decref(r);
    int rc;
    r = janus(&f, 0, 0, "{'janus':'create','transaction':'c'}", &rc);
    expect_error(r, rc, 0, "c", 472, "Currently not accepting new sessions");
    uint64_t h = attach(&f, s);
    r = janus(&f, s, h, "{'janus':'message','transaction':'m','body':{}}", &rc);
    ASSERT_EQ(rc, 0);
    json_decref(r);
    r = admin(&f, 0, 0, "{'janus':'info','transaction':'i'}", &rc);
    ASSERT(!bool_at(r, "accepting-new-sessions"));
    json_decref(r);
    r = admin_ok(&f, 0, 0, "{'janus':'accept_new_sessions','transaction':'t','accept':true}", 0, 3);
    ASSERT(bool_at(r, "accept"));
    json_decref(r);
    create_session(&f, NULL);
    ASSERT_EQ(gw_core_session_count(f.g), 2);
    fix_done(&f);
}

static void test_sessions_handles(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    json_t *r = admin_ok(&f, 0, 0, "{'janus':'list_sessions','transaction':'t'}", 0, 3);
    ASSERT_EQ(json_array_size(json_object_get(r, "sessions")), 0);
    json_decref(r);
    uint64_t s1 = create_session(&f, NULL), s2 = create_session(&f, NULL);
    uint64_t h1 = attach(&f, s1);
    uint64_t h2 = attach_to(&f, s1, "janus.plugin.plain", NULL, NULL);
    r = admin_ok(&f, 0, 0, "{'janus':'list_sessions','transaction':'t'}", 0, 3);
    json_t *ids = json_object_get(r, "sessions");
    ASSERT_EQ(json_array_size(ids), 2);
    uint64_t x = (uint64_t)json_integer_value(json_array_get(ids, 0));
    uint64_t y = (uint64_t)json_integer_value(json_array_get(ids, 1));
    ASSERT((x == s1 && y == s2) || (x == s2 && y == s1));
    json_decref(r);
    /* The session id may come from the body too. */
    char text[160];
    snprintf(text, sizeof text,
             "{'janus':'list_handles','transaction':'t','session_id':%" PRIu64 "}", s1);
    r = admin_ok(&f, 0, 0, text, s1, 4);
    ids = json_object_get(r, "handles");
    ASSERT_EQ(json_array_size(ids), 2);
    x = (uint64_t)json_integer_value(json_array_get(ids, 0));
    y = (uint64_t)json_integer_value(json_array_get(ids, 1));
    ASSERT((x == h1 && y == h2) || (x == h2 && y == h1));
    json_decref(r);
    /* detach_handle: success, a `detached` event, the plugin told; then the handle is gone. */
    json_decref(admin_ok(&f, s1, h2, "{'janus':'detach_handle','transaction':'t'}", s1, 3));
    ASSERT_EQ(f.plain.destroys, 1);
    json_t *ev = take(&f, s1, 100, 0, -1);
    ASSERT_EQ(json_array_size(ev), 1);
    json_t *e = json_array_get(ev, 0);
    ASSERT_STREQ(str_at(e, "janus"), "detached");
    ASSERT_UEQ(int_at(e, "sender"), h2);
    ASSERT_UEQ(int_at(e, "session_id"), s1);
    json_decref(ev);
    char want[128];
    snprintf(want, sizeof want, "No such handle %" PRIu64 " in session %" PRIu64, h2, s1);
    admin_error(&f, s1, h2, "{'janus':'detach_handle','transaction':'t'}", s1, "t", 459, want);
    /* hangup_webrtc: success, the plugin told once, no event without a PeerConnection. */
    json_decref(admin_ok(&f, s1, h1, "{'janus':'hangup_webrtc','transaction':'t'}", s1, 3));
    json_decref(admin_ok(&f, s1, h1, "{'janus':'hangup_webrtc','transaction':'t'}", s1, 3));
    ASSERT_EQ(f.tp.hangups, 1);
    ev = take(&f, s1, 100, 0, -1);
    ASSERT_EQ(json_array_size(ev), 0);
    json_decref(ev);
    /* destroy_session: its handles detached silently, the session gone. */
    struct gw_session *held;
    ASSERT_EQ(gw_core_session_get(f.g, s1, &held), 0);
    json_decref(admin_ok(&f, s1, 0, "{'janus':'destroy_session','transaction':'t'}", s1, 3));
    ASSERT_EQ(f.tp.destroys, 1);
    ASSERT(gw_session_ended(held));
    ASSERT_EQ(gw_session_events_take(held, 5, 0, &ev), 0);
    json_decref(ev);
    gw_session_unref(held);
    snprintf(want, sizeof want, "No such session %" PRIu64, s1);
    int rc;
    r = janus(&f, s1, 0, "{'janus':'keepalive','transaction':'t'}", &rc);
    expect_error(r, rc, s1, "t", 458, want);
    ASSERT_EQ(gw_core_session_count(f.g), 1);
    fix_done(&f);
}

static void test_handle_info(void)
{
    struct fix f;
    fix_init(&f, STORED_TOKENS, NULL);
    json_decref(admin_ok(&f, 0, 0, "{'janus':'add_token','transaction':'t','token':'tk'}", 0, 3));
    struct gw_request_ctx ctx = {.transport = "janus.transport.http"};
    json_t *req = parse("{'janus':'create','transaction':'c','token':'tk'}");
    json_t *r;
    ASSERT_EQ(gw_core_handle(f.g, &ctx, req, &r), 0);
    uint64_t s = (uint64_t)int_at(json_object_get(r, "data"), "id");
    json_decref(r);
    json_decref(req);
    f.now += 1000;
    uint64_t h = attach_to(&f, s, "janus.plugin.test", ",'token':'tk','opaque_id':'op-1'", NULL);
    f.now += 500;
    r = admin_ok(&f, s, h, "{'janus':'handle_info','transaction':'t'}", s, 5);
    ASSERT_UEQ(int_at(r, "handle_id"), h);
    json_t *info = json_object_get(r, "info");
    ASSERT_UEQ(int_at(info, "session_id"), s);
    ASSERT_EQ(int_at(info, "session_last_activity"), 1001000);
    ASSERT_EQ(int_at(info, "session_timeout"), 60);
    ASSERT_STREQ(str_at(info, "session_transport"), "janus.transport.http");
    ASSERT_UEQ(int_at(info, "handle_id"), h);
    ASSERT_STREQ(str_at(info, "opaque_id"), "op-1");
    ASSERT_STREQ(str_at(info, "token"), "tk");
    ASSERT_EQ(int_at(info, "created"), 1001000);
    ASSERT_EQ(int_at(info, "current_time"), 1001500);
    ASSERT_STREQ(str_at(info, "plugin"), "janus.plugin.test");
    ASSERT_UEQ(int_at(json_object_get(info, "plugin_specific"), "handle"), h);
    json_t *flags = json_object_get(info, "flags");
    ASSERT_EQ(json_object_size(flags), 20);
    ASSERT(!bool_at(flags, "alert"));
    ASSERT(!bool_at(flags, "trickle"));
    ASSERT(!bool_at(flags, "got-offer"));
    ASSERT_EQ(json_object_size(json_object_get(info, "sdps")), 0);
    ASSERT(!json_object_get(info, "pending-trickles"));
    ASSERT(bool_at(info, "loop-running"));
    ASSERT_EQ(int_at(info, "queued-packets"), 0);
    ASSERT_EQ(json_object_size(info), 15);
    json_decref(r);
    /* After a hangup and two trickles. */
    int rc;
    json_decref(janus(&f, s, h, "{'janus':'hangup','transaction':'x','token':'tk'}", &rc));
    ASSERT_EQ(rc, 0);
    json_decref(janus(&f, s, h,
                      "{'janus':'trickle','transaction':'x','token':'tk','candidates':"
                      "[{'candidate':'a'},{'completed':true}]}",
                      &rc));
    ASSERT_EQ(rc, 0);
    r = admin_ok(&f, s, h, "{'janus':'handle_info','transaction':'t'}", s, 5);
    info = json_object_get(r, "info");
    ASSERT(bool_at(json_object_get(info, "flags"), "alert"));
    ASSERT(bool_at(json_object_get(info, "flags"), "trickle"));
    ASSERT_EQ(int_at(info, "pending-trickles"), 2);
    json_decref(r);
    /* plugin_only: the core's part alone. */
    r = admin_ok(&f, s, h, "{'janus':'handle_info','transaction':'t','plugin_only':true}", s, 5);
    info = json_object_get(r, "info");
    ASSERT(!json_object_get(info, "flags"));
    ASSERT(json_object_get(info, "plugin_specific"));
    ASSERT_EQ(json_object_size(info), 12);
    json_decref(r);
    admin_error(&f, s, h, "{'janus':'handle_info','transaction':'t','plugin_only':'yes'}", s, "t",
                467, "Invalid element type (plugin_only should be a boolean)");
    /* A plugin without query_session: no plugin_specific. */
    uint64_t h2 = attach_to(&f, s, "janus.plugin.plain", ",'token':'tk'", NULL);
    r = admin_ok(&f, s, h2, "{'janus':'handle_info','transaction':'t','plugin_only':false}", s, 5);
    info = json_object_get(r, "info");
    ASSERT_STREQ(str_at(info, "plugin"), "janus.plugin.plain");
    ASSERT(!json_object_get(info, "plugin_specific"));
    ASSERT(!json_object_get(info, "opaque_id"));
    ASSERT_STREQ(str_at(info, "token"), "tk");
    json_decref(r);
    fix_done(&f);
}

static void test_message_plugin(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    admin_error(&f, 0, 0, "{'janus':'message_plugin','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (plugin)");
    admin_error(&f, 0, 0, "{'janus':'message_plugin','transaction':'t','plugin':3}", 0, "t", 467,
                "Invalid element type (plugin should be a string)");
    admin_error(&f, 0, 0,
                "{'janus':'message_plugin','transaction':'t','plugin':'janus.plugin.test',"
                "'request':[]}",
                0, "t", 467, "Invalid element type (request should be an object)");
    admin_error(&f, 0, 0, "{'janus':'message_plugin','transaction':'t','plugin':'janus.x'}", 0, "t",
                460, "Invalid plugin");
    admin_error(&f, 0, 0,
                "{'janus':'message_plugin','transaction':'t','plugin':'janus.plugin.plain'}", 0,
                "t", 490, "Plugin doesn't support Admin API messages");
    json_t *r = admin_ok(&f, 0, 0,
                         "{'janus':'message_plugin','transaction':'t','plugin':'janus.plugin.test',"
                         "'request':{'request':'list'}}",
                         0, 3);
    json_t *resp = json_object_get(r, "response");
    ASSERT_STREQ(str_at(resp, "test"), "success");
    ASSERT_STREQ(str_at(json_object_get(resp, "got"), "request"), "list");
    json_decref(r);
    /* No request: the plugin sees an empty object. */
    json_decref(admin_ok(
        &f, 0, 0, "{'janus':'message_plugin','transaction':'t','plugin':'janus.plugin.test'}", 0,
        3));
    ASSERT(json_is_object(f.tp.last_admin));
    ASSERT_EQ(json_object_size(f.tp.last_admin), 0);
    admin_error(&f, 0, 0,
                "{'janus':'message_plugin','transaction':'t','plugin':'janus.plugin.test',"
                "'request':{'fail':1}}",
                0, "t", 490, "Plugin couldn't handle the Admin API message: error '-5'");
    ASSERT_EQ(f.tp.admin_msgs, 3);
    /* custom_event: checked, then dropped (no event handlers). */
    admin_error(&f, 0, 0, "{'janus':'custom_event','transaction':'t','schema':'s'}", 0, "t", 456,
                "Missing mandatory element (data)");
    admin_error(&f, 0, 0, "{'janus':'custom_event','transaction':'t','schema':1,'data':{}}", 0, "t",
                467, "Invalid element type (schema should be a string)");
    json_decref(admin_ok(
        &f, 0, 0, "{'janus':'custom_event','transaction':'t','schema':'s','data':{}}", 0, 2));
    fix_done(&f);
}

/* Token verbs fail like Janus's when stored tokens are not the mechanism in use. */
static void test_tokens_off(void)
{
    static const char *const verbs[] = {
        "{'janus':'add_token','transaction':'t','token':'a'}",
        "{'janus':'add_token','transaction':'t'}",
        "{'janus':'allow_token','transaction':'t','token':'a','plugins':['janus.plugin.test']}",
        "{'janus':'disallow_token','transaction':'t','token':'a','plugins':['x']}",
        "{'janus':'list_tokens','transaction':'t'}",
        "{'janus':'remove_token','transaction':'t','token':'a'}",
    };
    const char *why = "Stored-Token based authentication disabled";
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        admin_error(&f, 0, 0, verbs[i], 0, "t", 490, why);
    fix_done(&f);
    /* An auth object with only an API secret, then one with signed tokens. */
    struct gw_auth_config configs[] = {{.api_secret = "x"},
                                       {.token_auth = true, .token_auth_secret = "k"}};
    for (size_t c = 0; c < 2; c++) {
        fix_init(&f, NO_AUTH, NULL);
        gw_admin_destroy(f.a);
        ASSERT_EQ(gw_auth_create(&configs[c], &f.auth), 0);
        struct gw_admin_config ac = {.core = f.g, .auth = f.auth};
        ASSERT_EQ(gw_admin_create(&ac, &f.a), 0);
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
            admin_error(&f, 0, 0, verbs[i], 0, "t", 490, why);
        fix_done(&f);
    }
}

/* Checks {"janus":"success","transaction":"t","data":{"plugins":[...]}} against `want`. */
static void expect_plugins(json_t *r, const char *const *want, size_t n)
{
    json_t *list = json_object_get(json_object_get(r, "data"), "plugins");
    ASSERT_EQ(json_object_size(json_object_get(r, "data")), 1);
    ASSERT_EQ(json_array_size(list), n);
    for (size_t i = 0; i < n; i++)
        ASSERT_STREQ(json_string_value(json_array_get(list, i)), want[i]);
    json_decref(r);
}

static void test_tokens(void)
{
    static const char *const both[] = {"janus.plugin.test", "janus.plugin.plain"};
    static const char *const test_only[] = {"janus.plugin.test"};
    static const char *const plain_only[] = {"janus.plugin.plain"};
    struct fix f;
    fix_init(&f, STORED_TOKENS, NULL);
    json_t *r = admin_ok(&f, 0, 0, "{'janus':'list_tokens','transaction':'t'}", 0, 3);
    ASSERT_EQ(json_array_size(json_object_get(json_object_get(r, "data"), "tokens")), 0);
    json_decref(r);
    admin_error(&f, 0, 0, "{'janus':'add_token','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (token)");
    admin_error(&f, 0, 0, "{'janus':'add_token','transaction':'t','token':5}", 0, "t", 467,
                "Invalid element type (token should be a string)");
    admin_error(&f, 0, 0, "{'janus':'add_token','transaction':'t','token':'a','plugins':'x'}", 0,
                "t", 467, "Invalid element type (plugins should be an array)");
    admin_error(&f, 0, 0, "{'janus':'add_token','transaction':'t','token':''}", 0, "t", 490,
                "Error adding token");
    /* No list (or an empty one): every plugin. Unknown entries are skipped. */
    expect_plugins(
        admin_ok(&f, 0, 0, "{'janus':'add_token','transaction':'t','token':'all'}", 0, 3), both, 2);
    expect_plugins(admin_ok(&f, 0, 0,
                            "{'janus':'add_token','transaction':'t','token':'e','plugins':[]}", 0,
                            3),
                   both, 2);
    expect_plugins(admin_ok(&f, 0, 0,
                            "{'janus':'add_token','transaction':'t','token':'one','plugins':"
                            "['janus.plugin.test',7,'janus.nope','janus.plugin.test']}",
                            0, 3),
                   test_only, 1);
    expect_plugins(admin_ok(&f, 0, 0,
                            "{'janus':'add_token','transaction':'t','token':'none','plugins':"
                            "['janus.nope']}",
                            0, 3),
                   NULL, 0);
    /* Adding a token already there adds the plugins. */
    expect_plugins(admin_ok(&f, 0, 0,
                            "{'janus':'add_token','transaction':'t','token':'one','plugins':"
                            "['janus.plugin.plain']}",
                            0, 3),
                   both, 2);
    /* list_tokens: sorted, without the token that allows nothing. */
    r = admin_ok(&f, 0, 0, "{'janus':'list_tokens','transaction':'t'}", 0, 3);
    json_t *tokens = json_object_get(json_object_get(r, "data"), "tokens");
    ASSERT_EQ(json_array_size(tokens), 3);
    ASSERT_STREQ(str_at(json_array_get(tokens, 0), "token"), "all");
    ASSERT_STREQ(str_at(json_array_get(tokens, 1), "token"), "e");
    ASSERT_STREQ(str_at(json_array_get(tokens, 2), "token"), "one");
    ASSERT_EQ(json_array_size(json_object_get(json_array_get(tokens, 2), "allowed_plugins")), 2);
    json_decref(r);
    /* allow / disallow: their errors in Janus's order. */
    admin_error(&f, 0, 0, "{'janus':'allow_token','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (token)");
    admin_error(&f, 0, 0, "{'janus':'allow_token','transaction':'t','token':'nope'}", 0, "t", 467,
                "Invalid element type (plugins should be a non-empty array)");
    admin_error(&f, 0, 0, "{'janus':'disallow_token','transaction':'t','token':'one','plugins':[]}",
                0, "t", 467, "Invalid element type (plugins should be a non-empty array)");
    admin_error(&f, 0, 0, "{'janus':'allow_token','transaction':'t','token':'one','plugins':{}}", 0,
                "t", 467, "Invalid element type (plugins should be an array)");
    admin_error(&f, 0, 0,
                "{'janus':'allow_token','transaction':'t','token':'nope','plugins':['janus.x']}", 0,
                "t", 470, "Token nope not found");
    admin_error(&f, 0, 0,
                "{'janus':'disallow_token','transaction':'t','token':'one','plugins':"
                "['janus.plugin.test','janus.x']}",
                0, "t", 467, "Invalid element type (some of the provided plugins are invalid)");
    expect_plugins(admin_ok(&f, 0, 0,
                            "{'janus':'disallow_token','transaction':'t','token':'one','plugins':"
                            "['janus.plugin.test']}",
                            0, 3),
                   plain_only, 1);
    expect_plugins(admin_ok(&f, 0, 0,
                            "{'janus':'allow_token','transaction':'t','token':'none','plugins':"
                            "['janus.plugin.test']}",
                            0, 3),
                   test_only, 1);
    /* remove_token. */
    admin_error(&f, 0, 0, "{'janus':'remove_token','transaction':'t'}", 0, "t", 456,
                "Missing mandatory element (token)");
    json_decref(admin_ok(&f, 0, 0, "{'janus':'remove_token','transaction':'t','token':'e'}", 0, 2));
    admin_error(&f, 0, 0, "{'janus':'remove_token','transaction':'t','token':'e'}", 0, "t", 490,
                "Error removing token");
    fix_done(&f);
}

/* What tokens managed through the Admin API let a client attach to. */
static void test_tokens_attach(void)
{
    struct fix f;
    fix_init(&f, STORED_TOKENS, NULL);
    int rc;
    json_t *r = janus(&f, 0, 0, "{'janus':'create','transaction':'c','token':'tk'}", &rc);
    expect_error(r, rc, 0, "c", 403, unauthorized);
    json_decref(admin_ok(&f, 0, 0,
                         "{'janus':'add_token','transaction':'t','token':'tk','plugins':"
                         "['janus.plugin.test']}",
                         0, 3));
    json_decref(
        admin_ok(&f, 0, 0, "{'janus':'add_token','transaction':'t','token':'other'}", 0, 3));
    uint64_t s = create_session(&f, "tk");
    ASSERT_GT(attach_to(&f, s, "janus.plugin.test", ",'token':'tk'", NULL), 0);
    ASSERT_EQ(attach_to(&f, s, "janus.plugin.plain", ",'token':'tk'", &rc), 0);
    ASSERT_EQ(rc, 405);
    r = janus(&f, s, 0,
              "{'janus':'attach','transaction':'a','token':'tk','plugin':'janus.plugin.plain'}",
              &rc);
    expect_error(r, rc, s, "a", 405, "Provided token can't access plugin 'janus.plugin.plain'");
    /* Without a token the request itself is refused; with another valid token it passes. */
    r = janus(&f, s, 0, "{'janus':'attach','transaction':'a','plugin':'janus.plugin.plain'}", &rc);
    expect_error(r, rc, s, "a", 403, unauthorized);
    ASSERT_GT(attach_to(&f, s, "janus.plugin.plain", ",'token':'other'", NULL), 0);
    /* Unknown plugins are 460 before the token is looked at. */
    r = janus(&f, s, 0, "{'janus':'attach','transaction':'a','token':'tk','plugin':'janus.x'}",
              &rc);
    expect_error(r, rc, s, "a", 460, "No such plugin 'janus.x'");
    json_decref(admin_ok(&f, 0, 0,
                         "{'janus':'allow_token','transaction':'t','token':'tk','plugins':"
                         "['janus.plugin.plain']}",
                         0, 3));
    ASSERT_GT(attach_to(&f, s, "janus.plugin.plain", ",'token':'tk'", NULL), 0);
    json_decref(
        admin_ok(&f, 0, 0, "{'janus':'remove_token','transaction':'t','token':'tk'}", 0, 2));
    r = janus(&f, s, 0,
              "{'janus':'attach','transaction':'a','token':'tk','plugin':'janus.plugin.test'}",
              &rc);
    expect_error(r, rc, s, "a", 403, unauthorized);
    ASSERT_EQ(f.tp.creates + f.plain.creates, 3);
    fix_done(&f);
}

static void *client_churn(void *arg)
{
    struct fix_worker *c = arg;
    for (int i = 0; i < c->rounds; i++) {
        uint64_t s = create_session(c->f, NULL);
        uint64_t h = attach_to(c->f, s, "janus.plugin.test", ",'opaque_id':'o'", NULL);
        json_decref(
            janus(c->f, s, h, "{'janus':'message','transaction':'m','body':{'async':1}}", NULL));
        json_decref(janus(c->f, s, h, "{'janus':'hangup','transaction':'h'}", NULL));
        json_decref(janus(c->f, s, 0, "{'janus':'destroy','transaction':'d'}", NULL));
    }
    return NULL;
}

/* Walks every session and handle through the Admin API while clients come and go. */
static void *admin_walk(void *arg)
{
    struct fix_worker *c = arg;
    for (int i = 0; i < c->rounds; i++) {
        char text[128];
        snprintf(text, sizeof text, "{'janus':'set_log_level','transaction':'t','level':%d}",
                 i % 8);
        json_decref(admin(c->f, 0, 0, text, NULL));
        json_t *r = admin(c->f, 0, 0, "{'janus':'list_sessions','transaction':'t'}", NULL);
        size_t k;
        json_t *sid;
        json_array_foreach(json_object_get(r, "sessions"), k, sid)
        {
            uint64_t s = (uint64_t)json_integer_value(sid);
            json_t *hl = admin(c->f, s, 0, "{'janus':'list_handles','transaction':'t'}", NULL);
            size_t m;
            json_t *hid;
            json_array_foreach(json_object_get(hl, "handles"), m, hid)
            {
                uint64_t h = (uint64_t)json_integer_value(hid);
                json_decref(admin(c->f, s, h, "{'janus':'handle_info','transaction':'t'}", NULL));
                if (m % 2)
                    json_decref(
                        admin(c->f, s, h, "{'janus':'hangup_webrtc','transaction':'t'}", NULL));
            }
            json_decref(hl);
        }
        json_decref(r);
    }
    return NULL;
}

/* Admin requests racing client requests and sweeps (run under ASan and TSan). */
static void test_concurrent(void)
{
    struct fix f;
    fix_init(&f, NO_AUTH, NULL);
    struct fix_worker clients = {&f, 200}, walker = {&f, 100};
    pthread_t t[3];
    ASSERT_EQ(pthread_create(&t[0], NULL, client_churn, &clients), 0);
    ASSERT_EQ(pthread_create(&t[1], NULL, client_churn, &clients), 0);
    ASSERT_EQ(pthread_create(&t[2], NULL, admin_walk, &walker), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    ASSERT_EQ(gw_core_session_count(f.g), 0);
    fix_done(&f);
}

static const struct test_case cases[] = {
    {"errors", test_errors},
    {"secret", test_secret},
    {"info_status", test_info_status},
    {"global_timeout", test_global_timeout},
    {"session_timeout", test_session_timeout},
    {"log_level", test_log_level},
    {"draining", test_draining},
    {"sessions_handles", test_sessions_handles},
    {"handle_info", test_handle_info},
    {"message_plugin", test_message_plugin},
    {"tokens_off", test_tokens_off},
    {"tokens", test_tokens},
    {"tokens_attach", test_tokens_attach},
    {"concurrent", test_concurrent},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
