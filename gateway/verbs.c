/* This file implements the Janus verbs used on session and handle paths: keepalive, attach,
 * destroy, claim (session paths) and detach, hangup, message, trickle (handle paths), with the
 * reply shapes and error reasons Janus uses.
 *
 * DESIGN: a table maps each verb to the path it belongs on; an unknown verb is 453 and a known
 * one on the wrong path is 457. Janus answers keepalive and claim on handle paths too, and
 * matches verbs without regard to case. */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "gateway/core_internal.h"

static int do_keepalive(struct gw_route *r, json_t **reply)
{
    *reply = gw_message("ack", r->sid, r->tr);
    return 0;
}

static int do_attach(struct gw_route *r, json_t **reply)
{
    json_t *p = json_object_get(r->req, "plugin");
    if (!p)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (plugin)");
    if (!json_is_string(p))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (plugin should be a string)");
    json_t *opaque = json_object_get(r->req, "opaque_id");
    if (opaque && !json_is_string(opaque))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (opaque_id should be a string)");
    json_t *loop = json_object_get(r->req, "loop_index"); /* accepted, unused: no loops yet */
    if (loop && !(json_is_integer(loop) && json_integer_value(loop) >= 0))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (loop_index should be a positive integer)");
    const struct gw_plugin_reg *reg = gw_plugin_find(r->g, json_string_value(p));
    if (!reg)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_PLUGIN_NOT_FOUND, "No such plugin '%s'",
                       json_string_value(p));
    if (r->g->auth_plugin && !r->g->auth_plugin(r->g->auth_ctx, r->req, reg->plugin->package))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNAUTHORIZED_PLUGIN,
                       "Provided token can't access plugin '%s'", reg->plugin->package);
    /* Like Janus, the handle keeps the token only when token authentication is on. */
    const char *token = json_string_value(json_object_get(r->req, "token"));
    struct gw_handle *h;
    int err = gw_handle_attach(r->s, reg, json_string_value(opaque),
                               r->g->token_auth_on ? token : NULL, &h);
    if (err < 0)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_PLUGIN_ATTACH,
                       "Couldn't attach to plugin: error '%d'", err);
    *reply = gw_message("success", r->sid, r->tr);
    json_object_set_new(*reply, "data", json_pack("{s:I}", "id", (json_int_t)h->id));
    gw_handle_unref(h);
    return 0;
}

static int do_destroy(struct gw_route *r, json_t **reply)
{
    gw_session_end(r->s, NULL);
    *reply = gw_message("success", r->sid, r->tr);
    return 0;
}

static int do_claim(struct gw_route *r, json_t **reply)
{
    /* Events are queued per session, not per connection, so claiming only records which
     * transport has the session now (handle_info's session_transport). */
    if (r->transport) {
        pthread_mutex_lock(&r->s->lock);
        r->s->transport = r->transport;
        pthread_mutex_unlock(&r->s->lock);
    }
    *reply = gw_message("success", r->sid, r->tr);
    return 0;
}

int gw_verb_detach(struct gw_handle *h, uint64_t sid, const char *tr, json_t **reply)
{
    int err = gw_handle_detach_notify(h);
    if (err < 0)
        return gw_fail(reply, sid, tr, GW_ERR_PLUGIN_DETACH,
                       "Couldn't detach from plugin: error '%d'", err);
    *reply = gw_message("success", sid, tr);
    return 0;
}

static int do_detach(struct gw_route *r, json_t **reply)
{
    return gw_verb_detach(r->h, r->sid, r->tr, reply);
}

static int do_hangup(struct gw_route *r, json_t **reply)
{
    gw_handle_hangup(r->h, "Janus API");
    *reply = gw_message("success", r->sid, r->tr);
    return 0;
}

static int do_message(struct gw_route *r, json_t **reply)
{
    json_t *body = json_object_get(r->req, "body");
    if (!body)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (body)");
    if (!json_is_object(body))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (body should be an object)");
    json_t *jsep = json_object_get(r->req, "jsep");
    if (jsep && !json_is_object(jsep))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_JSON_OBJECT, "Invalid jsep object");
    json_t *plugin_jsep = NULL; /* what the plugin sees: the SDP without our transport */
    const struct gw_media_ops *m = r->g->media_ops;
    if (jsep && m) {
        char why[256] = "";
        int code = m->remote_jsep(m->ctx, r->h, jsep, &plugin_jsep, why, sizeof why);
        if (code)
            return gw_fail(reply, r->sid, r->tr, code, "%s", why);
    } else if (jsep) {
        plugin_jsep = json_incref(jsep);
    }
    if (jsep) { /* a new negotiation: a later hangup tells the plugin again */
        pthread_mutex_lock(&r->s->lock);
        r->h->alert = false;
        pthread_mutex_unlock(&r->s->lock);
    }
    const struct gw_plugin_reg *reg = r->h->reg;
    json_t *result = NULL;
    if (!gw_handle_hook_enter(r->h)) {
        json_decref(plugin_jsep);
        return gw_fail(reply, r->sid, r->tr, GW_ERR_HANDLE_NOT_FOUND, "No such handle %" PRIu64,
                       r->h->id);
    }
    int rc =
        reg->plugin->handle_message(reg->ctx, r->h, r->h->state, r->tr, body, plugin_jsep, &result);
    gw_handle_hook_leave(r->h);
    json_decref(plugin_jsep);
    if (rc == GW_PLUGIN_ASYNC) {
        json_decref(result);
        *reply = gw_message("ack", r->sid, r->tr);
        return 0;
    }
    if (rc != GW_PLUGIN_SYNC) {
        json_decref(result);
        return gw_fail(reply, r->sid, r->tr, GW_ERR_PLUGIN_MESSAGE,
                       "Plugin returned a severe (unrecoverable) error");
    }
    *reply = gw_message("success", r->sid, r->tr);
    json_object_set_new(*reply, "sender", json_integer((json_int_t)r->h->id));
    json_object_set_new(*reply, "plugindata",
                        json_pack("{s:s, s:o}", "plugin", reg->plugin->package, "data",
                                  result ? result : json_object()));
    return 0;
}

static int do_trickle(struct gw_route *r, json_t **reply)
{
    json_t *one = json_object_get(r->req, "candidate");
    json_t *many = json_object_get(r->req, "candidates");
    if (!one && !many)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (candidate|candidates)");
    if (one && many)
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_JSON,
                       "Can't have both candidate and candidates");
    if (one && !json_is_object(one))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (candidate should be an object)");
    if (many && !json_is_array(many))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (candidates should be an array)");
    pthread_mutex_lock(&r->s->lock);
    r->h->trickled = true;
    pthread_mutex_unlock(&r->s->lock);
    if (one) {
        gw_handle_trickle_push(r->h, json_incref(one));
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(many, i, c)
        {
            if (json_is_object(c))
                gw_handle_trickle_push(r->h, json_incref(c));
        }
    }
    if (r->g->media_ops)
        r->g->media_ops->trickled(r->g->media_ops->ctx, r->h);
    *reply = gw_message("ack", r->sid, r->tr);
    return 0;
}

/* Where a verb may be used: Janus accepts keepalive and claim on both kinds of path. */
enum verb_path { SESSION_PATH, HANDLE_PATH, ANY_PATH };

struct verb {
    const char *name;
    enum verb_path path;
    int (*fn)(struct gw_route *r, json_t **reply);
};

static const struct verb verbs[] = {
    {"keepalive", ANY_PATH, do_keepalive}, {"attach", SESSION_PATH, do_attach},
    {"destroy", SESSION_PATH, do_destroy}, {"claim", ANY_PATH, do_claim},
    {"detach", HANDLE_PATH, do_detach},    {"hangup", HANDLE_PATH, do_hangup},
    {"message", HANDLE_PATH, do_message},  {"trickle", HANDLE_PATH, do_trickle},
};

int gw_verb_dispatch(struct gw_route *r, json_t **reply)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strcasecmp(verbs[i].name, r->verb) != 0)
            continue;
        enum verb_path here = r->h ? HANDLE_PATH : SESSION_PATH;
        if (verbs[i].path != ANY_PATH && verbs[i].path != here)
            return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_REQUEST_PATH,
                           "Unhandled request '%s' at this path", r->verb);
        return verbs[i].fn(r, reply);
    }
    return gw_fail(reply, r->sid, r->tr, GW_ERR_UNKNOWN_REQUEST, "Unknown request '%s'", r->verb);
}
