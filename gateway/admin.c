/* This file implements the Admin API's front: the admin object, the checks every request goes
 * through in Janus's order, and the routing to the verbs of the root, session and handle paths
 * (admin_global.c, admin_token.c, admin_session.c).
 *
 * DESIGN: the order of checks is Janus 1.1.2's, which differs from the Janus API's: on the root
 * path `info` and `ping` are answered before the secret is checked; elsewhere a bad handle id
 * is 458 (not 459), the secret is checked before the session is looked up, and an unknown verb
 * is 457 "Unhandled request" on every path (Janus never answers 453 here). Looking a session
 * up does not count as activity, so inspecting a session does not keep it alive. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "gateway/admin_internal.h"

int gw_admin_create(const struct gw_admin_config *cfg, struct gw_admin **out)
{
    if (!cfg || !cfg->core || !out)
        return -EINVAL;
    struct gw_admin *a = xcalloc(1, sizeof *a);
    a->core = cfg->core;
    a->auth = cfg->auth;
    a->log = cfg->log;
    if (cfg->admin_secret && cfg->admin_secret[0])
        a->secret = xstrdup(cfg->admin_secret);
    atomic_init(&a->janus_level, -1);
    *out = a;
    return 0;
}

void gw_admin_destroy(struct gw_admin *a)
{
    if (!a)
        return;
    free(a->secret);
    free(a);
}

int gw_admin_level_to_vb(int janus_level)
{
    static const int map[] = {-1,          VB_LOG_ERROR, VB_LOG_ERROR, VB_LOG_WARN,
                              VB_LOG_INFO, VB_LOG_DEBUG, VB_LOG_DEBUG, VB_LOG_DEBUG};
    if (janus_level < 0)
        return -1;
    return janus_level > 7 ? VB_LOG_DEBUG : map[janus_level];
}

static int level_from_vb(int level)
{
    if (level < VB_LOG_ERROR)
        return 0;
    if (level >= VB_LOG_DEBUG)
        return 7;
    return level + 2; /* error 2, warning 3, info 4 */
}

int gw_admin_level_now(struct gw_admin *a)
{
    int ours = a->log ? atomic_load(&a->log->level) : VB_LOG_WARN;
    int set = atomic_load(&a->janus_level);
    if (set >= 0 && (gw_admin_level_to_vb(set) == ours || !a->log))
        return set;
    return level_from_vb(ours);
}

json_t *gw_admin_success(const struct admin_req *r)
{
    return gw_message("success", r->sid, r->tr);
}

int gw_admin_param(const struct admin_req *r, json_t **reply, const char *key, enum gw_json_type t,
                   bool required, json_t **out)
{
    json_t *v = json_object_get(r->req, key);
    *out = NULL;
    if (!v) {
        if (!required)
            return 0;
        return gw_fail(reply, r->sid, r->tr, GW_ERR_MISSING_MANDATORY_ELEMENT,
                       "Missing mandatory element (%s)", key);
    }
    if (!gw_json_type_ok(v, t))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_ELEMENT_TYPE,
                       "Invalid element type (%s should be %s)", key, gw_json_type_name(t));
    *out = v;
    return 0;
}

static bool secret_ok(const struct admin_req *r)
{
    if (!r->a->secret)
        return true;
    json_t *given = json_object_get(r->req, "admin_secret");
    return json_is_string(given) && gw_auth_equal(json_string_value(given), r->a->secret);
}

static int unhandled(const struct admin_req *r, json_t **reply)
{
    return gw_fail(reply, r->sid, r->tr, GW_ERR_INVALID_REQUEST_PATH,
                   "Unhandled request '%s' at this path", r->verb);
}

static int dispatch(const struct admin_verb *table, struct admin_req *r, json_t **reply,
                    bool *found)
{
    for (const struct admin_verb *v = table; v->name; v++) {
        if (strcasecmp(v->name, r->verb) == 0) {
            *found = true;
            return v->fn(r, reply);
        }
    }
    *found = false;
    return 0;
}

static int route_root(struct admin_req *r, json_t **reply)
{
    if (gw_root_info_ping(r->a->core, r->verb, r->tr, reply))
        return 0;
    if (!secret_ok(r))
        return gw_fail(reply, 0, r->tr, GW_ERR_UNAUTHORIZED, GW_REASON_UNAUTHORIZED);
    bool found;
    int code = dispatch(gw_admin_root_verbs, r, reply, &found);
    if (!found)
        code = dispatch(gw_admin_token_verbs, r, reply, &found);
    return found ? code : unhandled(r, reply);
}

static int route_session(struct admin_req *r, int64_t hid, bool has_hid, json_t **reply)
{
    if (has_hid && hid < 1) /* sic: Janus's Admin API says 458 here */
        return gw_fail(reply, r->sid, r->tr, GW_ERR_SESSION_NOT_FOUND, "Session not found");
    if (!secret_ok(r))
        return gw_fail(reply, r->sid, r->tr, GW_ERR_UNAUTHORIZED, GW_REASON_UNAUTHORIZED);
    int code = gw_route_lookup(r->a->core, r->sid, r->tr, hid, has_hid, false, &r->s, &r->h, reply);
    if (code)
        return code;
    bool found;
    code = dispatch(r->h ? gw_admin_handle_verbs : gw_admin_session_verbs, r, reply, &found);
    if (!found)
        code = unhandled(r, reply);
    gw_handle_unref(r->h);
    gw_session_unref(r->s);
    return code;
}

/* The body's id, or the path's: 0 when neither has an integer. 457 (with *reply set) when both
 * have one and they differ, as the HTTP transport words it. */
static int pick_id(uint64_t from_path, json_t *req, const char *key, const char *what, int64_t *id,
                   bool *present, json_t **reply)
{
    json_t *v = json_object_get(req, key);
    bool in_body = v && !json_is_null(v);
    if (from_path) {
        if (json_is_integer(v) && json_integer_value(v) != 0 &&
            (uint64_t)json_integer_value(v) != from_path) {
            char why[64];
            snprintf(why, sizeof why, "Conflicting %s ID (payload and path)", what);
            *reply = gw_core_error(0, NULL, GW_ERR_INVALID_REQUEST_PATH, why);
            return GW_ERR_INVALID_REQUEST_PATH;
        }
        *id = (int64_t)from_path;
        *present = true;
        return 0;
    }
    *id = json_is_integer(v) ? json_integer_value(v) : 0;
    *present = in_body;
    return 0;
}

int gw_admin_handle(struct gw_admin *a, const struct gw_request_ctx *ctx, json_t *request,
                    json_t **reply)
{
    int code = gw_request_check_object(request, reply);
    if (code)
        return code;
    int64_t sid, hid;
    bool has_sid, has_hid;
    code =
        pick_id(ctx ? ctx->session_id : 0, request, "session_id", "session", &sid, &has_sid, reply);
    if (code == 0)
        code = pick_id(ctx ? ctx->handle_id : 0, request, "handle_id", "handle", &hid, &has_hid,
                       reply);
    if (code)
        return code;
    struct admin_req r = {.a = a, .req = request};
    code = gw_request_check_mandatory(request, sid > 0 ? (uint64_t)sid : 0, &r.tr, &r.verb, reply);
    if (code)
        return code;
    if (sid == 0 && hid == 0)
        return route_root(&r, reply);
    if (sid < 1)
        return gw_fail(reply, 0, r.tr, GW_ERR_SESSION_NOT_FOUND, "Session not found");
    r.sid = (uint64_t)sid;
    return route_session(&r, hid, has_hid, reply);
}

int gw_admin_handler(void *admin, const struct gw_request_ctx *ctx, json_t *request, json_t **reply)
{
    return gw_admin_handle(admin, ctx, request, reply);
}
