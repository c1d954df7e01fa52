/* This file implements the libFuzzer target for the gateway's request parsers and dispatchers:
 * the input is lines of JSON, each parsed with Jansson as the REST transport does and handed
 * to gw_core_handle() on one core, or, for a line starting with '@', to gw_admin_handle() on
 * the Admin API of the same core, so that sequences (create, attach, message, trickle, detach,
 * destroy, tokens added and removed, timeouts, handle_info...) are explored. The strings "$S"
 * and "$H" in session_id / handle_id stand for the last session created and the last handle
 * attached (ids are random, a fuzzer could not guess them). Every reply must be a JSON object
 * with a string "janus"; queued events are drained and sessions swept after each request, on a
 * clock that advances one second per line.
 * Stored tokens are on (attach checks the token's plugins) but requests need none. A plugin in
 * this file answers synchronously, or asynchronously with an event, as the body asks, and
 * answers Admin API messages and session queries. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/admin.h"
#include "gateway/auth.h"
#include "gateway/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct echo_state {
    const struct gw_plugin_callbacks *cb;
};

static int echo_create(void *ctx, const struct gw_plugin_callbacks *cb, struct gw_handle *h,
                       void **state)
{
    (void)ctx;
    (void)h;
    struct echo_state *s = malloc(sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cb = cb;
    *state = s;
    return 0;
}

static void echo_destroy(void *ctx, struct gw_handle *h, void *state)
{
    (void)ctx;
    (void)h;
    free(state);
}

static int echo_message(void *ctx, struct gw_handle *h, void *state, const char *transaction,
                        json_t *body, json_t *jsep, json_t **result)
{
    (void)ctx;
    struct echo_state *s = state;
    if (json_is_true(json_object_get(body, "fail")))
        return -EINVAL;
    if (json_is_true(json_object_get(body, "async"))) {
        s->cb->push_event(h, transaction, json_pack("{s:s}", "echo", "event"),
                          jsep ? json_deep_copy(jsep) : NULL);
        return GW_PLUGIN_ASYNC;
    }
    *result = json_deep_copy(body);
    return GW_PLUGIN_SYNC;
}

static int echo_admin(void *ctx, json_t *request, json_t **result)
{
    (void)ctx;
    if (json_is_true(json_object_get(request, "fail")))
        return -EINVAL;
    *result = json_deep_copy(request);
    return 0;
}

static json_t *echo_query(void *ctx, struct gw_handle *h, void *state)
{
    (void)ctx, (void)state;
    return json_pack("{s:s?}", "opaque", gw_handle_opaque_id(h));
}

static const struct gw_plugin echo_plugin = {
    .name = "fuzz echo",
    .package = "janus.plugin.fuzz",
    .author = "Verbatim",
    .description = "echoes message bodies",
    .version_string = "0.0.1",
    .version = 1,
    .create_session = echo_create,
    .destroy_session = echo_destroy,
    .handle_message = echo_message,
    .handle_admin_message = echo_admin,
    .query_session = echo_query,
};

/* Replaces "$S" / "$H" placeholders with the last ids seen. */
static void substitute(json_t *req, const char *key, uint64_t id)
{
    const char *v = json_string_value(json_object_get(req, key));
    if (v && (strcmp(v, "$S") == 0 || strcmp(v, "$H") == 0))
        json_object_set_new(req, key, json_integer((json_int_t)id));
}

/* A clock that advances one second per line, so that timeouts expire the same way each run. */
static int64_t line_clock(void *ctx)
{
    return *(int64_t *)ctx;
}

/* Answers one request line on the Janus API or, with a leading '@', on the Admin API. */
static json_t *answer(struct gw_core *g, struct gw_admin *a, const uint8_t *line, size_t len,
                      uint64_t last_session, uint64_t last_handle, json_t **req_out)
{
    bool to_admin = len > 0 && line[0] == '@';
    if (to_admin)
        line++, len--;
    json_error_t jerr;
    json_t *req = json_loadb((const char *)line, len, JSON_REJECT_DUPLICATES, &jerr);
    *req_out = req;
    if (!req)
        return NULL;
    if (json_is_object(req)) {
        substitute(req, "session_id", last_session);
        substitute(req, "handle_id", last_handle);
    }
    struct gw_request_ctx ctx = {.transport = "janus.transport.fuzz"};
    json_t *reply = NULL;
    if (to_admin)
        gw_admin_handle(a, &ctx, req, &reply);
    else
        gw_core_handle(g, &ctx, req, &reply);
    if (!json_is_object(reply) || !json_is_string(json_object_get(reply, "janus")))
        abort(); /* every request gets a Janus reply object */
    return reply;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct gw_plugin_reg plugins[] = {{&echo_plugin, NULL}, {NULL, NULL}};
    struct gw_auth_config acfg = {.token_auth = true};
    struct gw_auth *auth = NULL;
    if (gw_auth_create(&acfg, &auth) != 0)
        abort();
    int64_t now = 1000000;
    struct vb_clock clock = {line_clock, line_clock, &now};
    struct gw_core_config cfg = {.plugins = plugins,
                                 .clock = &clock,
                                 .max_events = 8,
                                 .session_timeout_s = 0,
                                 .auth_plugin = gw_auth_plugin_ok,
                                 .auth_ctx = auth,
                                 .token_auth_on = true};
    struct gw_core *g = NULL;
    if (gw_core_create(&cfg, &g) != 0)
        abort();
    FILE *sink = fopen("/dev/null", "w");
    struct vb_log log = {.level = VB_LOG_ERROR, .fp = sink};
    struct gw_admin_config admin_cfg = {.core = g, .auth = auth, .log = sink ? &log : NULL};
    struct gw_admin *a = NULL;
    if (gw_admin_create(&admin_cfg, &a) != 0)
        abort();
    uint64_t last_session = 0, last_handle = 0;
    size_t at = 0;
    for (int lines = 0; at < size && lines < 64; lines++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
        json_t *req;
        json_t *reply = answer(g, a, data + at, len, last_session, last_handle, &req);
        at += len + 1;
        if (!reply)
            continue;
        const char *kind = json_string_value(json_object_get(reply, "janus"));
        json_int_t id = json_integer_value(json_object_get(json_object_get(reply, "data"), "id"));
        const char *verb = json_string_value(json_object_get(req, "janus"));
        if (strcmp(kind, "success") == 0 && id > 0 && verb) {
            if (strcmp(verb, "create") == 0)
                last_session = (uint64_t)id;
            else if (strcmp(verb, "attach") == 0)
                last_handle = (uint64_t)id;
        }
        if (last_session) {
            struct gw_session *s = NULL;
            if (gw_core_session_get(g, last_session, &s) == 0) {
                json_t *events = NULL;
                gw_session_events_take(s, 10, 0, &events);
                json_decref(events);
                gw_session_unref(s);
            }
        }
        now += 1000000;
        gw_core_sweep(g);
        json_decref(reply);
        json_decref(req);
    }
    gw_admin_destroy(a);
    gw_core_destroy(g);
    gw_auth_destroy(auth);
    if (sink)
        fclose(sink);
    return 0;
}
