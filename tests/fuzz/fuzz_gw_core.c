/* This file implements the libFuzzer target for the gateway's request parser and dispatcher:
 * the input is lines of JSON, each parsed with Jansson as the REST transport does and handed
 * to gw_core_handle() on one core, so that sequences (create, attach, message, trickle,
 * detach, destroy...) are explored. The strings "$S" and "$H" in session_id / handle_id stand
 * for the last session created and the last handle attached (ids are random, a fuzzer could
 * not guess them). Every reply must be a JSON object with a string "janus"; queued events are
 * drained after each request. A plugin in this file answers synchronously, or asynchronously
 * with an event, as the body asks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
};

/* Replaces "$S" / "$H" placeholders with the last ids seen. */
static void substitute(json_t *req, const char *key, uint64_t id)
{
    const char *v = json_string_value(json_object_get(req, key));
    if (v && (strcmp(v, "$S") == 0 || strcmp(v, "$H") == 0))
        json_object_set_new(req, key, json_integer((json_int_t)id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct gw_plugin_reg plugins[] = {{&echo_plugin, NULL}, {NULL, NULL}};
    struct gw_core_config cfg = {.plugins = plugins, .max_events = 8, .session_timeout_s = 0};
    struct gw_core *g = NULL;
    if (gw_core_create(&cfg, &g) != 0)
        abort();
    uint64_t last_session = 0, last_handle = 0;
    size_t at = 0;
    for (int lines = 0; at < size && lines < 64; lines++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
        json_error_t jerr;
        json_t *req = json_loadb((const char *)data + at, len, JSON_REJECT_DUPLICATES, &jerr);
        at += len + 1;
        if (!req)
            continue;
        if (json_is_object(req)) {
            substitute(req, "session_id", last_session);
            substitute(req, "handle_id", last_handle);
        }
        struct gw_request_ctx ctx = {0};
        json_t *reply = NULL;
        gw_core_handle(g, &ctx, req, &reply);
        if (!json_is_object(reply) || !json_is_string(json_object_get(reply, "janus")))
            abort(); /* every request gets a Janus reply object */
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
        json_decref(reply);
        json_decref(req);
    }
    gw_core_destroy(g);
    return 0;
}
