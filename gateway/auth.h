/* gateway/auth.h — Janus-style authentication: the API secret, stored tokens scoped per plugin,
 * and HMAC-SHA1 signed tokens.
 *
 * A `struct gw_auth` is owned by whoever creates it (serve) and borrowed by the core (as its
 * authorization hooks), the Admin API (token verbs) and plugins (signed room tokens); it must
 * outlive them. Every function may be called from any thread (the token store locks inside).
 * Every secret and token comparison is constant-time in the length of the stored value.
 *
 * Rules (as Janus): a request passes when no mechanism is on; when the API secret is on, its
 * `apisecret` must match; when tokens are on (stored, or signed with token_auth_secret), its
 * `token` must be valid; when both are on, either one passing is enough.
 *
 * Signed tokens are "<expiry>,<realm>[,<descriptor>...]:<signature>": expiry in Unix seconds
 * (decimal digits only; the token is refused once expiry < now), signature the standard Base64
 * (with padding) of HMAC-SHA1(token_auth_secret, the text before the ':'), compared as text. A
 * token holds exactly one ':' (Base64 has none; Janus never accepts a second one either). The
 * request check wants realm "janus"; attaching wants realm "janus" and the plugin package among
 * the descriptors. Request values that are not strings, or strings holding a NUL, count as
 * missing. */
#ifndef VB_GATEWAY_AUTH_H
#define VB_GATEWAY_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define GW_AUTH_TOKEN_MAX 1024   /* bytes of a stored or signed token */
#define GW_AUTH_SECRET_MAX 4096  /* bytes of api_secret and token_auth_secret */
#define GW_AUTH_PLUGIN_MAX 256   /* bytes of one plugin package name */
#define GW_AUTH_PLUGINS_MAX 256  /* packages in one list, and allowed for one stored token */
#define GW_AUTH_TOKENS_MAX 65536 /* stored tokens */

struct gw_auth;

struct gw_auth_config {
    const char *api_secret;        /* NULL or "" = off; copied */
    bool token_auth;               /* stored or signed tokens required */
    const char *token_auth_secret; /* HMAC key; NULL or "" = stored tokens; copied; ignored
                                      when token_auth is false (as Janus) */
    int64_t (*now_s)(void *ctx);   /* wall clock for token expiry; NULL = time(NULL) */
    void *now_ctx;
};

/* 0 or -EINVAL (NULL argument, secret longer than GW_AUTH_SECRET_MAX). The caller owns *out
 * (gw_auth_destroy). */
int gw_auth_create(const struct gw_auth_config *cfg, struct gw_auth **out);
void gw_auth_destroy(struct gw_auth *a); /* NULL is a no-op */

/* The configured modes: secret set; token_auth (stored or signed); token_auth with a key. */
bool gw_auth_api_secret_on(const struct gw_auth *a);
bool gw_auth_token_on(const struct gw_auth *a);
bool gw_auth_signed_on(const struct gw_auth *a);

/* The core's request check (gw_auth_fn): reads "apisecret" and "token" from `request`
 * (borrowed). `ctx` is the struct gw_auth. */
bool gw_auth_request_ok(void *ctx, const json_t *request);

/* The core's attach check: may the request's token attach to `plugin_package`? True when
 * tokens are off, when the request carries no "token" string and its API secret matches (it
 * passed by the secret alone), or when the token (stored: its plugin list, empty = none;
 * signed: valid, realm "janus", a descriptor equal to the package) allows it. As Janus, a
 * token that is present is always checked, even next to a matching API secret. */
bool gw_auth_plugin_ok(void *ctx, const json_t *request, const char *plugin_package);

/* A signed token valid now for room `room` of `plugin_package` (VideoRoom rooms with
 * signed_tokens). Two forms pass: Janus's own, whose realm is the package and whose
 * descriptors include "room=<room>" ("<expiry>,janus.plugin.videoroom,room=1234:<sig>"), and
 * a "janus"-realm token whose descriptors include both the package and "room=<room>". False
 * when signed tokens are off or an argument is NULL. */
bool gw_auth_signed_room_ok(struct gw_auth *a, const char *token, const char *plugin_package,
                            const char *room);

/* Constant-time equality of two NUL-terminated strings (time depends only on `expected`'s
 * length). NULL never matches. */
bool gw_auth_equal(const char *given, const char *expected);

/* Stored tokens (Admin API). They are kept whatever the mode; the Admin API refuses the verbs
 * unless stored tokens are on (gw_auth_token_on && !gw_auth_signed_on), as Janus does.
 * A token is 1..GW_AUTH_TOKEN_MAX printable ASCII bytes (0x20-0x7e). `plugins` is a JSON
 * array of package names (borrowed; each a string of 1..GW_AUTH_PLUGIN_MAX bytes, at most
 * GW_AUTH_PLUGINS_MAX of them; duplicates count once). Janus's add_token without a list (or
 * with an empty one) allows every plugin: the caller passes the full list then. In add, NULL
 * is the same as an empty list (the token allows no plugin); allow and disallow need an array.
 * Disallowing a package the token does not allow is not an error. A list is checked whole
 * before anything changes. 0, -EINVAL (bad token or list), -EEXIST (add: already there),
 * -ENOENT (unknown token) or -ENOSPC (GW_AUTH_TOKENS_MAX tokens, or allow would give a token
 * more than GW_AUTH_PLUGINS_MAX packages). Note: Janus's add_token of a token already there
 * succeeds and allows the listed plugins; an Admin API matching it follows -EEXIST with
 * gw_auth_token_allow. */
int gw_auth_token_add(struct gw_auth *a, const char *token, const json_t *plugins);
int gw_auth_token_allow(struct gw_auth *a, const char *token, const json_t *plugins);
int gw_auth_token_disallow(struct gw_auth *a, const char *token, const json_t *plugins);
int gw_auth_token_remove(struct gw_auth *a, const char *token);
/* The plugins a stored token allows, in the order they were allowed: a new JSON array, or
 * NULL when unknown. */
json_t *gw_auth_token_plugins(struct gw_auth *a, const char *token);
/* [{"token":T,"allowed_plugins":[...]}, ...] sorted by token; a new reference. */
json_t *gw_auth_token_list(struct gw_auth *a);

#endif
