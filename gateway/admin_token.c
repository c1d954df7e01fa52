/* This file implements the Admin API's stored-token verbs: add_token, allow_token,
 * disallow_token, list_tokens and remove_token, over the store of gateway/auth.h, with Janus
 * 1.1.2's replies, errors and order of checks.
 *
 * DESIGN: Janus refuses every token verb (490) unless stored tokens are the mechanism in use,
 * before looking at the request. add_token skips list entries that are not registered plugins
 * (an empty or missing list means every plugin) and succeeds on a token already there, adding
 * the plugins; allow/disallow need a non-empty list and fail whole (467) on any entry that is
 * not a registered plugin, but only after the token was found (470). list_tokens leaves out
 * tokens that allow no plugin, as Janus does. */
#include <errno.h>
#include <string.h>

#include "gateway/admin_internal.h"

static bool stored_mode(const struct gw_admin *a)
{
    return a->auth && gw_auth_token_on(a->auth) && !gw_auth_signed_on(a->auth);
}

static int refuse(const struct admin_req *r, json_t **reply)
{
    return gw_fail(reply, 0, r->tr, GW_ERR_UNKNOWN, "Stored-Token based authentication disabled");
}

/* What every verb but list_tokens checks first: stored tokens are in use (490), then "token"
 * is a string and, when `plugins` is not NULL, "plugins" is an array if present. 0 or the
 * error code, with *reply set. */
static int token_params(struct admin_req *r, json_t **reply, json_t **token, json_t **plugins)
{
    if (!stored_mode(r->a))
        return refuse(r, reply);
    int code = gw_admin_param(r, reply, "token", GW_JSON_STRING, true, token);
    if (code == 0 && plugins)
        code = gw_admin_param(r, reply, "plugins", GW_JSON_ARRAY, false, plugins);
    return code;
}

/* {"janus":"success","transaction":T,"data":{"plugins":[...the token's plugins]}} */
static int plugins_reply(const struct admin_req *r, const char *token, json_t **reply)
{
    json_t *list = gw_auth_token_plugins(r->a->auth, token);
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "data", json_pack("{s:o}", "plugins", list ? list : json_array()));
    return 0;
}

/* The registered plugins named in `list` (strings only, each once); NULL `list` = all. */
static json_t *known_plugins(struct gw_core *g, const json_t *list)
{
    json_t *out = json_array();
    for (const struct gw_plugin_reg *p = g->plugins; p && p->plugin; p++) {
        bool wanted = !list;
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v)
        {
            wanted = wanted ||
                     (json_is_string(v) && strcmp(json_string_value(v), p->plugin->package) == 0);
        }
        if (wanted)
            json_array_append_new(out, json_string(p->plugin->package));
    }
    return out;
}

/* True when every entry of `list` is a registered plugin's package. */
static bool all_known(struct gw_core *g, const json_t *list)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v) || !gw_plugin_find(g, json_string_value(v)))
            return false;
    }
    return true;
}

static int do_add_token(struct admin_req *r, json_t **reply)
{
    json_t *token, *plugins;
    int code = token_params(r, reply, &token, &plugins);
    if (code)
        return code;
    const char *t = json_string_value(token);
    json_t *allowed = known_plugins(r->a->core, json_array_size(plugins) ? plugins : NULL);
    int rc = gw_auth_token_add(r->a->auth, t, allowed);
    if (rc == -EEXIST)
        rc = gw_auth_token_allow(r->a->auth, t, allowed);
    json_decref(allowed);
    if (rc < 0)
        return gw_fail(reply, 0, r->tr, GW_ERR_UNKNOWN, "Error adding token");
    return plugins_reply(r, t, reply);
}

/* allow_token and disallow_token. */
static int change_token(struct admin_req *r, json_t **reply, bool allow)
{
    json_t *token, *plugins;
    int code = token_params(r, reply, &token, &plugins);
    if (code)
        return code;
    if (json_array_size(plugins) == 0)
        return gw_fail(reply, 0, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (plugins should be a non-empty array)");
    const char *t = json_string_value(token);
    json_t *now = gw_auth_token_plugins(r->a->auth, t);
    if (!now)
        return gw_fail(reply, 0, r->tr, GW_ERR_TOKEN_NOT_FOUND, "Token %s not found", t);
    json_decref(now);
    if (!all_known(r->a->core, plugins))
        return gw_fail(reply, 0, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (some of the provided plugins are invalid)");
    int rc = allow ? gw_auth_token_allow(r->a->auth, t, plugins)
                   : gw_auth_token_disallow(r->a->auth, t, plugins);
    if (rc == -ENOENT) /* removed meanwhile */
        return gw_fail(reply, 0, r->tr, GW_ERR_TOKEN_NOT_FOUND, "Token %s not found", t);
    if (rc < 0)
        return gw_fail(reply, 0, r->tr, GW_ERR_UNKNOWN, "Error changing token");
    return plugins_reply(r, t, reply);
}

static int do_allow_token(struct admin_req *r, json_t **reply)
{
    return change_token(r, reply, true);
}

static int do_disallow_token(struct admin_req *r, json_t **reply)
{
    return change_token(r, reply, false);
}

static int do_list_tokens(struct admin_req *r, json_t **reply)
{
    if (!stored_mode(r->a))
        return refuse(r, reply);
    json_t *all = gw_auth_token_list(r->a->auth);
    json_t *shown = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(all, i, t)
    {
        if (json_array_size(json_object_get(t, "allowed_plugins")) > 0)
            json_array_append(shown, t);
    }
    json_decref(all);
    *reply = gw_admin_success(r);
    json_object_set_new(*reply, "data", json_pack("{s:o}", "tokens", shown));
    return 0;
}

static int do_remove_token(struct admin_req *r, json_t **reply)
{
    json_t *token;
    int code = token_params(r, reply, &token, NULL);
    if (code)
        return code;
    if (gw_auth_token_remove(r->a->auth, json_string_value(token)) < 0)
        return gw_fail(reply, 0, r->tr, GW_ERR_UNKNOWN, "Error removing token");
    *reply = gw_admin_success(r);
    return 0;
}

const struct admin_verb gw_admin_token_verbs[] = {
    {"add_token", do_add_token},           {"allow_token", do_allow_token},
    {"disallow_token", do_disallow_token}, {"list_tokens", do_list_tokens},
    {"remove_token", do_remove_token},     {NULL, NULL},
};
