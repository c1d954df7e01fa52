/* This file implements the gateway's authentication object (gateway/auth.h): its creation from
 * the configuration, the constant-time string comparison, and the two checks the core calls on
 * every request and on every attach. The stored-token table lives in auth_token.c and the
 * signed-token verifier in auth_signed.c.
 *
 * DESIGN: the checks follow Janus's janus_request_check_secret and its attach code. A request
 * passes when no mechanism is on, when its "apisecret" matches, or when its "token" is valid;
 * an attach is checked against the token whenever a token string is present (a matching API
 * secret does not excuse a token that may not reach the plugin), and passes on the secret only
 * when there is no token. Values are read defensively: a key that is missing, not a string or
 * a string holding a NUL (Jansson allows "\u0000") is treated as absent, so that the C string
 * compared is exactly the JSON string. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/xalloc.h"
#include "gateway/auth_internal.h"

/* A copy of `s`, or NULL when `s` is NULL or empty (the mechanism is off). */
static char *secret_dup(const char *s)
{
    return s && s[0] ? xstrdup(s) : NULL;
}

/* Overwrites and frees a secret. */
static void secret_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

int gw_auth_create(const struct gw_auth_config *cfg, struct gw_auth **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg)
        return -EINVAL;
    if ((cfg->api_secret &&
         strnlen(cfg->api_secret, GW_AUTH_SECRET_MAX + 1) > GW_AUTH_SECRET_MAX) ||
        (cfg->token_auth_secret &&
         strnlen(cfg->token_auth_secret, GW_AUTH_SECRET_MAX + 1) > GW_AUTH_SECRET_MAX))
        return -EINVAL;
    struct gw_auth *a = xcalloc(1, sizeof(*a));
    a->api_secret = secret_dup(cfg->api_secret);
    a->token_auth = cfg->token_auth;
    if (cfg->token_auth) {
        a->hmac_key = secret_dup(cfg->token_auth_secret);
        a->hmac_key_len = a->hmac_key ? strlen(a->hmac_key) : 0;
    }
    a->now_s = cfg->now_s;
    a->now_ctx = cfg->now_ctx;
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    return 0;
}

void gw_auth_destroy(struct gw_auth *a)
{
    if (!a)
        return;
    gw_auth_store_clear(a);
    pthread_mutex_destroy(&a->lock);
    secret_free(a->api_secret);
    secret_free(a->hmac_key);
    free(a);
}

bool gw_auth_api_secret_on(const struct gw_auth *a)
{
    return a && a->api_secret;
}

bool gw_auth_token_on(const struct gw_auth *a)
{
    return a && a->token_auth;
}

bool gw_auth_signed_on(const struct gw_auth *a)
{
    return a && a->token_auth && a->hmac_key;
}

int64_t gw_auth_now(const struct gw_auth *a)
{
    return a->now_s ? a->now_s(a->now_ctx) : (int64_t)time(NULL);
}

/* DESIGN: one pass over `expected`, reading `given` up to its NUL and no further (the index
 * stops advancing there), with no branch on the data: the time depends only on the length of
 * `expected`. A longer `given` differs at its byte strlen(expected), which is read last. */
bool gw_auth_equal(const char *given, const char *expected)
{
    if (!given || !expected)
        return false;
    size_t n = strlen(expected);
    size_t gi = 0;
    unsigned diff = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char g = (unsigned char)given[gi];
        diff |= (unsigned)(g ^ (unsigned char)expected[i]);
        gi += (size_t)(g != 0);
    }
    diff |= (unsigned char)given[gi];
    return diff == 0;
}

/* The string value of `key` in `request`, or NULL when the request is not an object, the key
 * is missing, not a string, or a string holding a NUL. */
static const char *string_field(const json_t *request, const char *key)
{
    if (!json_is_object(request))
        return NULL;
    const json_t *v = json_object_get(request, key);
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

static bool secret_matches(const struct gw_auth *a, const json_t *request)
{
    return a->api_secret && gw_auth_equal(string_field(request, "apisecret"), a->api_secret);
}

static bool token_valid(struct gw_auth *a, const char *token)
{
    if (!a->token_auth || !token)
        return false;
    if (a->hmac_key)
        return gw_auth_signed_check(a, token, NULL, NULL);
    return gw_auth_store_has(a, token);
}

bool gw_auth_request_ok(void *ctx, const json_t *request)
{
    struct gw_auth *a = ctx;
    if (!a)
        return false;
    if (!a->api_secret && !a->token_auth)
        return true;
    if (secret_matches(a, request))
        return true;
    return token_valid(a, string_field(request, "token"));
}

bool gw_auth_plugin_ok(void *ctx, const json_t *request, const char *plugin_package)
{
    struct gw_auth *a = ctx;
    if (!a || !plugin_package)
        return false;
    if (!a->token_auth)
        return true;
    const json_t *t = json_is_object(request) ? json_object_get(request, "token") : NULL;
    if (!json_is_string(t))
        return secret_matches(a, request);
    const char *token = string_field(request, "token");
    if (!token)
        return false; /* a token string holding a NUL never allows anything */
    if (a->hmac_key)
        return gw_auth_signed_check(a, token, plugin_package, NULL);
    return gw_auth_store_allows(a, token, plugin_package);
}

bool gw_auth_signed_room_ok(struct gw_auth *a, const char *token, const char *plugin_package,
                            const char *room)
{
    if (!gw_auth_signed_on(a) || !token || !plugin_package || !room)
        return false;
    return gw_auth_signed_check(a, token, plugin_package, room);
}
