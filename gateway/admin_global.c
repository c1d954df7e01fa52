/* This file implements the Admin API verbs of the root path that are not about tokens:
 * get_status, set_session_timeout (the global one), set_log_level, accept_new_sessions,
 * list_sessions, message_plugin, custom_event and custom_logline, with Janus 1.1.2's replies.
 *
 * DESIGN: the settings Janus reports that belong to a media layer we do not have yet (NACK
 * queue, no-media timer, slowlink threshold) are reported with the values the core's
 * struct gw_media_info holds, or Janus's defaults; the debug switches (locking, refcount,
 * libnice, timestamps, colours) are reported off because we have none of them. */
#include <string.h>

#include "gateway/admin_internal.h"

static int do_get_status(struct admin_req *r, json_t **reply)
{
    struct gw_admin *a = r->a;
    const struct gw_media_info *m = &a->core->media;
    json_t *st = json_object();
    json_object_set_new(st, "token_auth", json_boolean(a->auth && gw_auth_token_on(a->auth)));
    json_object_set_new(st, "session_timeout",
                        json_integer((json_int_t)gw_core_session_timeout(a->core)));
    json_object_set_new(st, "reclaim_session_timeout", json_integer(0));
    json_object_set_new(st, "candidates_timeout", json_integer(m->candidates_timeout_s));
    json_object_set_new(st, "log_level", json_integer(gw_admin_level_now(a)));
    json_object_set_new(st, "log_timestamps", json_false());
    json_object_set_new(st, "log_colors", json_false());
    json_object_set_new(st, "locking_debug", json_false());
    json_object_set_new(st, "refcount_debug", json_false());
    json_object_set_new(st, "libnice_debug", json_false());
    json_object_set_new(st, "min_nack_queue", json_integer(m->min_nack_queue_ms));
    json_object_set_new(st, "nack-optimizations", json_boolean(m->nack_optimizations));
    json_object_set_new(st, "no_media_timer", json_integer(1));
    json_object_set_new(st, "slowlink_threshold", json_integer(0));
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "status", st);
    return 0;
}

static int do_set_session_timeout(struct admin_req *r, json_t **reply)
{
    json_t *t;
    int code = gw_admin_param(r, reply, "timeout", GW_JSON_UINT, true, &t);
    if (code)
        return code;
    gw_core_set_session_timeout(r->a->core, json_integer_value(t));
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "timeout", json_integer(json_integer_value(t)));
    return 0;
}

static int do_set_log_level(struct admin_req *r, json_t **reply)
{
    json_t *l;
    int code = gw_admin_param(r, reply, "level", GW_JSON_UINT, true, &l);
    if (code)
        return code;
    json_int_t level = json_integer_value(l);
    if (level > 7)
        return gw_fail(reply, 0, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (level should be between 0 and 7)");
    atomic_store(&r->a->janus_level, (int)level);
    if (r->a->log)
        atomic_store(&r->a->log->level, gw_admin_level_to_vb((int)level));
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "level", json_integer(level));
    return 0;
}

static int do_accept_new_sessions(struct admin_req *r, json_t **reply)
{
    json_t *accept;
    int code = gw_admin_param(r, reply, "accept", GW_JSON_BOOL, true, &accept);
    if (code)
        return code;
    gw_core_set_accepting(r->a->core, json_is_true(accept));
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "accept", json_boolean(json_is_true(accept)));
    return 0;
}

static int do_list_sessions(struct admin_req *r, json_t **reply)
{
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "sessions", gw_core_session_list(r->a->core));
    return 0;
}

static int do_message_plugin(struct admin_req *r, json_t **reply)
{
    json_t *plugin, *request;
    int code = gw_admin_param(r, reply, "plugin", GW_JSON_STRING, true, &plugin);
    if (code == 0)
        code = gw_admin_param(r, reply, "request", GW_JSON_OBJECT, false, &request);
    if (code)
        return code;
    const struct gw_plugin_reg *reg = gw_plugin_find(r->a->core, json_string_value(plugin));
    if (!reg)
        return gw_fail(reply, 0, r->tr, GW_ERR_PLUGIN_NOT_FOUND, "Invalid plugin");
    if (!reg->plugin->handle_admin_message)
        return gw_fail(reply, 0, r->tr, GW_ERR_UNKNOWN,
                       "Plugin doesn't support Admin API messages");
    /* Janus hands a missing request on as nothing; an empty object reads the same to a plugin
     * (its own "missing request" error) and spares every plugin a NULL check. */
    json_t *empty = request ? NULL : json_object();
    json_t *result = NULL;
    int rc = reg->plugin->handle_admin_message(reg->ctx, request ? request : empty, &result);
    json_decref(empty);
    if (rc < 0) {
        json_decref(result);
        return gw_fail(reply, 0, r->tr, GW_ERR_UNKNOWN,
                       "Plugin couldn't handle the Admin API message: error '%d'", rc);
    }
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "response", result ? result : json_object());
    return 0;
}

static int do_custom_event(struct admin_req *r, json_t **reply)
{
    json_t *schema, *data;
    int code = gw_admin_param(r, reply, "schema", GW_JSON_STRING, true, &schema);
    if (code == 0)
        code = gw_admin_param(r, reply, "data", GW_JSON_OBJECT, true, &data);
    if (code)
        return code;
    /* No event handlers are built yet: as Janus without handlers, the event goes nowhere. */
    *reply = gw_admin_success(r);
    return 0;
}

static int do_custom_logline(struct admin_req *r, json_t **reply)
{
    json_t *line, *level;
    int code = gw_admin_param(r, reply, "line", GW_JSON_STRING, true, &line);
    if (code == 0)
        code = gw_admin_param(r, reply, "level", GW_JSON_UINT, false, &level);
    if (code)
        return code;
    json_int_t jl = level ? json_integer_value(level) : 4;
    int ours = gw_admin_level_to_vb(jl > 7 ? 4 : (int)jl);
    /* One line in the log, whatever the client sent: control characters become '?'. */
    char buf[512];
    size_t n = 0;
    for (const char *p = json_string_value(line); *p && n < sizeof buf - 1; p++)
        buf[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
    buf[n] = '\0';
    if (ours >= 0)
        vb_log_write(r->a->log, ours, "%s", buf);
    *reply = gw_admin_success(r);
    return 0;
}

const struct admin_verb gw_admin_root_verbs[] = {
    {"get_status", do_get_status},
    {"set_session_timeout", do_set_session_timeout},
    {"set_log_level", do_set_log_level},
    {"accept_new_sessions", do_accept_new_sessions},
    {"list_sessions", do_list_sessions},
    {"message_plugin", do_message_plugin},
    {"custom_event", do_custom_event},
    {"custom_logline", do_custom_logline},
    {NULL, NULL},
};
