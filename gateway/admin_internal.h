/* gateway/admin_internal.h — what the Admin API's files share: the admin object, one request
 * being answered, the parameter reader that words errors as Janus does, and the verb tables of
 * each path. Not for other modules. */
#ifndef VB_GATEWAY_ADMIN_INTERNAL_H
#define VB_GATEWAY_ADMIN_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "gateway/admin.h"
#include "gateway/core_internal.h"
#include "gateway/json_type.h"

struct gw_admin {
    struct gw_core *core;
    struct gw_auth *auth;   /* may be NULL */
    char *secret;           /* NULL = none */
    struct vb_log *log;     /* may be NULL */
    atomic_int janus_level; /* the last level set_log_level was given (0-7), or -1 */
};

/* One request being answered. */
struct admin_req {
    struct gw_admin *a;
    json_t *req;
    const char *verb;
    const char *tr;
    uint64_t sid;         /* 0 on the root path */
    struct gw_session *s; /* referenced on session and handle paths */
    struct gw_handle *h;  /* referenced on handle paths */
};

typedef int (*admin_verb_fn)(struct admin_req *r, json_t **reply);

struct admin_verb {
    const char *name;
    admin_verb_fn fn;
};

/* The verbs of each path, ending with {NULL, NULL}. */
extern const struct admin_verb gw_admin_root_verbs[];    /* admin_global.c */
extern const struct admin_verb gw_admin_token_verbs[];   /* admin_token.c */
extern const struct admin_verb gw_admin_session_verbs[]; /* admin_session.c */
extern const struct admin_verb gw_admin_handle_verbs[];  /* admin_session.c */

/* Reads parameter `key` of the request: 0 with *out set (NULL when absent and optional), or
 * 456 / 467 with *reply set. */
int gw_admin_param(const struct admin_req *r, json_t **reply, const char *key, enum gw_json_type t,
                   bool required, json_t **out);

/* The success reply {"janus":"success","session_id":S?,"transaction":T}. */
json_t *gw_admin_success(const struct admin_req *r);

/* Janus's log levels (0 none ... 7 debug) onto ours and back. */
int gw_admin_level_to_vb(int janus_level);
/* The Janus level in force: the one last set, if the log still has its mapping, else ours
 * mapped back. */
int gw_admin_level_now(struct gw_admin *a);

#endif
