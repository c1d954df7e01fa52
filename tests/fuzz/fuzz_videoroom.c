/* This file implements the libFuzzer target for the VideoRoom plugin: the input is lines of
 * JSON, each a message body sent through a gateway core to one of three VideoRoom handles (in
 * two sessions), so that sequences (create, join, publish, kick, destroy, leave...) are explored
 * with several participants. Control members are taken out of the body first: "_h" (0..2)
 * picks the handle, "_jsep" is sent as the message's jsep, "_admin" sends the body to the Admin
 * API hook instead, "_media" / "_hangup" / "_detach" (true) report the handle's PeerConnection
 * up / hung up, or detach and re-attach it. Every reply must be a Janus reply with VideoRoom
 * data; an asynchronous request's event (with its transaction) is awaited before the next line,
 * and notifications are drained. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/core.h"
#include "gateway/videoroom/videoroom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HANDLES 3

struct world {
    struct gw_core *g;
    struct vr *v;
    uint64_t sid[2];
    uint64_t hid[HANDLES];
    int tx;
};

static json_t *call(struct world *w, uint64_t sid, uint64_t hid, json_t *req)
{
    struct gw_request_ctx ctx = {.session_id = sid, .handle_id = hid};
    json_t *reply = NULL;
    gw_core_handle(w->g, &ctx, req, &reply);
    json_decref(req);
    if (!json_is_object(reply) || !json_is_string(json_object_get(reply, "janus")))
        abort();
    return reply;
}

static uint64_t reply_id(json_t *reply)
{
    json_int_t id = json_integer_value(json_object_get(json_object_get(reply, "data"), "id"));
    json_decref(reply);
    return (uint64_t)id;
}

static void attach(struct world *w, int i)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "janus", "attach", "transaction", "a", "plugin",
                            "janus.plugin.videoroom");
    w->hid[i] = reply_id(call(w, w->sid[i % 2], 0, req));
    if (!w->hid[i])
        abort();
}

static bool is_vr_data(const json_t *ev)
{
    const json_t *d = json_object_get(json_object_get(ev, "plugindata"), "data");
    return json_is_string(json_object_get(d, "videoroom"));
}

/* Takes events of a session until one carries `tx` (NULL: only drain what is queued). */
static void take_events(struct world *w, uint64_t sid, const char *tx)
{
    struct gw_session *s = NULL;
    if (gw_core_session_get(w->g, sid, &s) != 0)
        return;
    for (;;) {
        json_t *arr = NULL;
        int n = gw_session_events_take(s, 1, tx ? 2000 : 0, &arr);
        json_t *ev = n > 0 ? json_array_get(arr, 0) : NULL;
        const char *kind = json_string_value(json_object_get(ev, "janus"));
        if (ev && kind && strcmp(kind, "event") == 0 && !is_vr_data(ev))
            abort(); /* every plugin event carries VideoRoom data */
        const char *t = json_string_value(json_object_get(ev, "transaction"));
        bool done = !ev || (tx && t && strcmp(t, tx) == 0);
        json_decref(arr);
        if (done)
            break;
    }
    gw_session_unref(s);
}

static void hook(struct world *w, int i, bool media)
{
    struct gw_handle *h = NULL;
    if (gw_core_handle_get(w->g, w->sid[i % 2], w->hid[i], &h) != 0)
        return;
    if (media)
        vr_plugin()->setup_media(w->v, h, NULL);
    else
        vr_plugin()->hangup_media(w->v, h, NULL);
    gw_handle_unref(h);
}

static void admin(struct world *w, json_t *body)
{
    json_t *res = NULL;
    vr_plugin()->handle_admin_message(w->v, body, &res);
    if (!json_is_string(json_object_get(res, "videoroom")))
        abort();
    json_decref(res);
}

static void one_line(struct world *w, json_t *body)
{
    json_int_t hi = json_integer_value(json_object_get(body, "_h"));
    int i = hi >= 0 && hi < HANDLES ? (int)hi : 0;
    uint64_t sid = w->sid[i % 2];
    if (json_is_true(json_object_get(body, "_admin"))) {
        admin(w, body);
        return;
    }
    if (json_is_true(json_object_get(body, "_media")) ||
        json_is_true(json_object_get(body, "_hangup"))) {
        hook(w, i, json_is_true(json_object_get(body, "_media")));
        return;
    }
    if (json_is_true(json_object_get(body, "_detach"))) {
        json_decref(call(w, sid, w->hid[i],
                         json_pack("{s:s, s:s}", "janus", "detach", "transaction", "d")));
        attach(w, i);
        return;
    }
    char tx[32];
    snprintf(tx, sizeof tx, "f%d", w->tx++);
    json_t *jsep = json_incref(json_object_get(body, "_jsep"));
    json_t *req = json_pack("{s:s, s:s, s:O}", "janus", "message", "transaction", tx, "body", body);
    if (jsep)
        json_object_set_new(req, "jsep", jsep);
    json_t *reply = call(w, sid, w->hid[i], req);
    const char *kind = json_string_value(json_object_get(reply, "janus"));
    if (strcmp(kind, "success") == 0 && !is_vr_data(reply))
        abort();
    bool ack = strcmp(kind, "ack") == 0;
    json_decref(reply);
    if (ack)
        take_events(w, sid, tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct world w = {0};
    struct vr_config vc = {.admin_key = NULL};
    if (vr_create(&vc, &w.v) != 0)
        abort();
    struct gw_plugin_reg regs[] = {{vr_plugin(), w.v}, {NULL, NULL}};
    struct gw_core_config cfg = {.plugins = regs, .max_events = 64, .session_timeout_s = 0};
    if (gw_core_create(&cfg, &w.g) != 0)
        abort();
    for (int k = 0; k < 2; k++)
        w.sid[k] = reply_id(
            call(&w, 0, 0, json_pack("{s:s, s:s}", "janus", "create", "transaction", "c")));
    for (int i = 0; i < HANDLES; i++)
        attach(&w, i);
    size_t at = 0;
    for (int lines = 0; at < size && lines < 48; lines++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
        json_error_t jerr;
        json_t *body = json_loadb((const char *)data + at, len, JSON_REJECT_DUPLICATES, &jerr);
        at += len + 1;
        if (json_is_object(body))
            one_line(&w, body);
        json_decref(body);
        take_events(&w, w.sid[0], NULL);
        take_events(&w, w.sid[1], NULL);
    }
    gw_core_destroy(w.g);
    vr_destroy(w.v);
    return 0;
}
