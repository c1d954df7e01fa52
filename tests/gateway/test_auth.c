/* This file implements the tests of gateway/auth.h: every mode (off, API secret, stored tokens,
 * signed tokens, and the secret combined with each kind of token), the stored-token verbs and
 * their errors, plugin scoping, signed tokens (valid, expired under a fake clock, wrong realm,
 * bad or tampered signature, malformed) and VideoRoom room tokens.
 *
 * Expected signatures are computed here with OpenSSL's HMAC and Base64 directly, and that
 * helper is itself pinned to a vector produced once by the openssl command line. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/auth.h"
#include "tests/test.h"

#define KEY "verbatim-test-secret"
#define SECRET "s3cr3t-api"
#define VR "janus.plugin.videoroom"
#define ECHO "janus.plugin.echotest"
#define T0 1700000000  /* the fake clock's start */
#define FAR 1893456000 /* 2030-01-01, after T0 */

/* Produced once with:
 *   printf '%s' '1893456000,janus,janus.plugin.videoroom' |
 *       openssl dgst -sha1 -hmac 'verbatim-test-secret' -binary | base64
 *   printf '%s' '1893456000,janus.plugin.videoroom,room=1234' |
 *       openssl dgst -sha1 -hmac 'verbatim-test-secret' -binary | base64 */
#define VECTOR_TEXT "1893456000,janus,janus.plugin.videoroom"
#define VECTOR_SIG "GnT2BNOE0HnY2SK6KCzffAYaCo0="
#define VECTOR_ROOM_TEXT "1893456000,janus.plugin.videoroom,room=1234"
#define VECTOR_ROOM_SIG "Kky55UByAZZBs6/AAveMdn8XlY4="

struct fake_clock {
    int64_t now;
};

static int64_t fake_now(void *ctx)
{
    return ((struct fake_clock *)ctx)->now;
}

static struct gw_auth *make(const char *secret, bool tokens, const char *key,
                            struct fake_clock *clk)
{
    struct gw_auth_config cfg = {.api_secret = secret,
                                 .token_auth = tokens,
                                 .token_auth_secret = key,
                                 .now_s = clk ? fake_now : NULL,
                                 .now_ctx = clk};
    struct gw_auth *a = NULL;
    ASSERT_EQ(gw_auth_create(&cfg, &a), 0);
    ASSERT(a != NULL);
    return a;
}

/* "<text>:<Base64(HMAC-SHA1(key, text))>" into out. */
static void sign(const char *key, const char *text, char *out, size_t cap)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ASSERT(HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)text, strlen(text), mac,
                &len) != NULL);
    unsigned char b64[4 * EVP_MAX_MD_SIZE];
    EVP_EncodeBlock(b64, mac, (int)len);
    ASSERT_LT(snprintf(out, cap, "%s:%s", text, (const char *)b64), (int64_t)cap);
}

/* A request {"janus":"attach"} plus "apisecret" and "token" when not NULL. */
static json_t *req(const char *apisecret, const char *token)
{
    json_t *r = json_pack("{s:s, s:s}", "janus", "attach", "plugin", VR);
    if (apisecret)
        json_object_set_new(r, "apisecret", json_string(apisecret));
    if (token)
        json_object_set_new(r, "token", json_string(token));
    return r;
}

static bool ok(struct gw_auth *a, const char *apisecret, const char *token)
{
    json_t *r = req(apisecret, token);
    bool pass = gw_auth_request_ok(a, r);
    json_decref(r);
    return pass;
}

static bool plugin_ok(struct gw_auth *a, const char *apisecret, const char *token,
                      const char *plugin)
{
    json_t *r = req(apisecret, token);
    bool pass = gw_auth_plugin_ok(a, r, plugin);
    json_decref(r);
    return pass;
}

/* request_ok on a request whose `key` is set to `v` (stolen). */
static bool ok_with(struct gw_auth *a, const char *key, json_t *v)
{
    json_t *r = json_pack("{s:s}", "janus", "create");
    json_object_set_new(r, key, v);
    bool pass = gw_auth_request_ok(a, r);
    json_decref(r);
    return pass;
}

static json_t *list_of(const char *a, const char *b)
{
    json_t *l = json_array();
    if (a)
        json_array_append_new(l, json_string(a));
    if (b)
        json_array_append_new(l, json_string(b));
    return l;
}

static void test_equal(void)
{
    ASSERT(gw_auth_equal("abc", "abc"));
    ASSERT(gw_auth_equal("", ""));
    ASSERT(!gw_auth_equal("ab", "abc"));
    ASSERT(!gw_auth_equal("abcd", "abc"));
    ASSERT(!gw_auth_equal("abd", "abc"));
    ASSERT(!gw_auth_equal("xbc", "abc"));
    ASSERT(!gw_auth_equal("", "abc"));
    ASSERT(!gw_auth_equal("a", ""));
    ASSERT(!gw_auth_equal(NULL, "abc"));
    ASSERT(!gw_auth_equal("abc", NULL));
}

static void test_create(void)
{
    struct gw_auth *a = (struct gw_auth *)1;
    ASSERT_EQ(gw_auth_create(NULL, &a), -EINVAL);
    ASSERT(a == NULL);
    struct gw_auth_config cfg = {0};
    ASSERT_EQ(gw_auth_create(&cfg, NULL), -EINVAL);
    char *big = malloc(GW_AUTH_SECRET_MAX + 2);
    memset(big, 'k', GW_AUTH_SECRET_MAX + 1);
    big[GW_AUTH_SECRET_MAX + 1] = '\0';
    cfg.api_secret = big;
    ASSERT_EQ(gw_auth_create(&cfg, &a), -EINVAL);
    cfg.api_secret = NULL;
    cfg.token_auth = true;
    cfg.token_auth_secret = big;
    ASSERT_EQ(gw_auth_create(&cfg, &a), -EINVAL);
    free(big);
    gw_auth_destroy(NULL);

    a = make(NULL, false, NULL, NULL);
    ASSERT(!gw_auth_api_secret_on(a) && !gw_auth_token_on(a) && !gw_auth_signed_on(a));
    gw_auth_destroy(a);
    a = make("", false, KEY, NULL); /* "" = off; a key without token_auth is ignored */
    ASSERT(!gw_auth_api_secret_on(a) && !gw_auth_token_on(a) && !gw_auth_signed_on(a));
    gw_auth_destroy(a);
    a = make(SECRET, true, "", NULL); /* "" key = stored tokens */
    ASSERT(gw_auth_api_secret_on(a) && gw_auth_token_on(a) && !gw_auth_signed_on(a));
    gw_auth_destroy(a);
    a = make(NULL, true, KEY, NULL);
    ASSERT(!gw_auth_api_secret_on(a) && gw_auth_token_on(a) && gw_auth_signed_on(a));
    gw_auth_destroy(a);
}

static void test_mode_off(void)
{
    struct gw_auth *a = make(NULL, false, NULL, NULL);
    ASSERT(ok(a, NULL, NULL));
    ASSERT(ok(a, "anything", "whatever"));
    ASSERT(gw_auth_request_ok(a, NULL));
    ASSERT(plugin_ok(a, NULL, NULL, VR));
    ASSERT(plugin_ok(a, NULL, "unknown", ECHO));
    ASSERT(!gw_auth_signed_room_ok(a, "1,janus:x", VR, "1"));
    gw_auth_destroy(a);
}

static void test_secret_only(void)
{
    struct gw_auth *a = make(SECRET, false, NULL, NULL);
    ASSERT(ok(a, SECRET, NULL));
    ASSERT(!ok(a, NULL, NULL));
    ASSERT(!ok(a, "wrong", NULL));
    ASSERT(!ok(a, "s3cr3t-ap", NULL));
    ASSERT(!ok(a, SECRET "x", NULL));
    ASSERT(!ok(a, "", NULL));
    ASSERT(!ok(a, NULL, SECRET)); /* a token is no secret */
    ASSERT(!ok_with(a, "apisecret", json_integer(42)));
    ASSERT(!ok_with(a, "apisecret", json_null()));
    ASSERT(!ok_with(a, "apisecret", json_pack("[s]", SECRET)));
    ASSERT(!ok_with(a, "apisecret", json_stringn(SECRET "\0x", strlen(SECRET) + 2)));
    ASSERT(ok_with(a, "apisecret", json_string(SECRET)));
    ASSERT(!gw_auth_request_ok(a, NULL));
    json_t *arr = json_array();
    ASSERT(!gw_auth_request_ok(a, arr));
    json_decref(arr);
    /* Tokens are off: every plugin is allowed. */
    ASSERT(plugin_ok(a, SECRET, NULL, VR));
    ASSERT(plugin_ok(a, SECRET, "junk", ECHO));
    gw_auth_destroy(a);
}

static void test_stored_only(void)
{
    struct gw_auth *a = make(NULL, true, NULL, NULL);
    ASSERT(!ok(a, NULL, NULL));
    ASSERT(!ok(a, NULL, "tok-1"));
    json_t *l = list_of(VR, NULL);
    ASSERT_EQ(gw_auth_token_add(a, "tok-1", l), 0);
    ASSERT(ok(a, NULL, "tok-1"));
    ASSERT(!ok(a, NULL, "tok-"));
    ASSERT(!ok(a, NULL, "tok-12"));
    ASSERT(!ok(a, NULL, "TOK-1"));
    ASSERT(!ok(a, "tok-1", NULL)); /* no API secret configured: apisecret means nothing */
    ASSERT(!ok_with(a, "token", json_integer(1)));
    ASSERT(!ok_with(a, "token", json_pack("{s:s}", "token", "tok-1")));
    ASSERT(!ok_with(a, "token", json_stringn("tok-1\0", 6)));
    ASSERT(ok_with(a, "token", json_string("tok-1")));
    ASSERT(!gw_auth_signed_room_ok(a, "tok-1", VR, "1")); /* signed tokens are off */
    ASSERT_EQ(gw_auth_token_remove(a, "tok-1"), 0);
    ASSERT(!ok(a, NULL, "tok-1"));
    json_decref(l);
    gw_auth_destroy(a);
}

static void test_store_errors(void)
{
    struct gw_auth *a = make(NULL, true, NULL, NULL);
    json_t *good = list_of(VR, ECHO);
    ASSERT_EQ(gw_auth_token_add(a, NULL, good), -EINVAL);
    ASSERT_EQ(gw_auth_token_add(a, "", good), -EINVAL);
    ASSERT_EQ(gw_auth_token_add(a, "new\nline", good), -EINVAL);
    ASSERT_EQ(gw_auth_token_add(a, "caf\xc3\xa9", good), -EINVAL);
    ASSERT_EQ(gw_auth_token_add(NULL, "t", good), -EINVAL);
    char big[GW_AUTH_TOKEN_MAX + 2];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT_EQ(gw_auth_token_add(a, big, good), -EINVAL); /* GW_AUTH_TOKEN_MAX + 1 */
    big[GW_AUTH_TOKEN_MAX] = '\0';
    ASSERT_EQ(gw_auth_token_add(a, big, good), 0); /* exactly the maximum */
    ASSERT(ok(a, NULL, big));

    json_t *obj = json_object();
    json_t *bad_new = json_pack("[s, i]", "janus.plugin.new", 3); /* allow would add */
    json_t *bad_old = json_pack("[s, i]", VR, 3);                 /* disallow would remove */
    json_t *empty_name = json_pack("[s]", "");
    json_t *nul_name = json_array();
    json_array_append_new(nul_name, json_stringn("a\0b", 3));
    char long_name[GW_AUTH_PLUGIN_MAX + 2];
    memset(long_name, 'p', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    json_t *long_list = list_of(long_name, NULL);
    json_t *too_many = json_array();
    for (int i = 0; i <= GW_AUTH_PLUGINS_MAX; i++) {
        char name[32];
        snprintf(name, sizeof(name), "janus.plugin.p%d", i);
        json_array_append_new(too_many, json_string(name));
    }
    json_t *bads[] = {obj, bad_new, bad_old, empty_name, nul_name, long_list, too_many};
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        ASSERT_EQ(gw_auth_token_add(a, "t-bad", bads[i]), -EINVAL);
        ASSERT_EQ(gw_auth_token_allow(a, big, bads[i]), -EINVAL);
        ASSERT_EQ(gw_auth_token_disallow(a, big, bads[i]), -EINVAL);
    }
    ASSERT(gw_auth_token_plugins(a, "t-bad") == NULL); /* nothing was added */
    /* A failed check changes nothing: the good first elements were not applied. */
    json_t *pl = gw_auth_token_plugins(a, big);
    ASSERT_EQ(json_array_size(pl), 2);
    json_decref(pl);

    ASSERT_EQ(gw_auth_token_add(a, "dup", NULL), 0);
    ASSERT_EQ(gw_auth_token_add(a, "dup", good), -EEXIST);
    pl = gw_auth_token_plugins(a, "dup");
    ASSERT_EQ(json_array_size(pl), 0); /* the failed add did not allow anything */
    json_decref(pl);
    ASSERT_EQ(gw_auth_token_allow(a, "dup", NULL), -EINVAL);
    ASSERT_EQ(gw_auth_token_disallow(a, "dup", NULL), -EINVAL);
    ASSERT_EQ(gw_auth_token_allow(a, "nope", good), -ENOENT);
    ASSERT_EQ(gw_auth_token_disallow(a, "nope", good), -ENOENT);
    ASSERT_EQ(gw_auth_token_remove(a, "nope"), -ENOENT);
    ASSERT_EQ(gw_auth_token_remove(a, ""), -EINVAL);
    ASSERT_EQ(gw_auth_token_remove(a, NULL), -EINVAL);
    ASSERT(gw_auth_token_plugins(a, "nope") == NULL);
    ASSERT(gw_auth_token_plugins(a, NULL) == NULL);

    /* The per-token cap: GW_AUTH_PLUGINS_MAX packages, then -ENOSPC. */
    json_array_remove(too_many, 0);
    ASSERT_EQ(gw_auth_token_allow(a, "dup", too_many), 0);
    ASSERT_EQ(gw_auth_token_allow(a, "dup", too_many), 0); /* already there: no growth */
    ASSERT_EQ(gw_auth_token_allow(a, "dup", good), -ENOSPC);
    ASSERT(!plugin_ok(a, NULL, "dup", VR));
    json_t *one = list_of("janus.plugin.p1", NULL);
    ASSERT_EQ(gw_auth_token_disallow(a, "dup", one), 0);
    ASSERT_EQ(gw_auth_token_allow(a, "dup", one), 0);
    json_decref(one);

    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
        json_decref(bads[i]);
    json_decref(good);
    gw_auth_destroy(a);
}

static void test_store_list(void)
{
    struct gw_auth *a = make(NULL, true, NULL, NULL);
    json_t *l = gw_auth_token_list(a);
    ASSERT(json_is_array(l));
    ASSERT_EQ(json_array_size(l), 0);
    json_decref(l);

    json_t *vr_echo = list_of(VR, ECHO);
    json_t *echo_vr_echo = json_pack("[s, s, s]", ECHO, VR, ECHO);
    ASSERT_EQ(gw_auth_token_add(a, "charlie", vr_echo), 0);
    ASSERT_EQ(gw_auth_token_add(a, "alpha", NULL), 0);
    ASSERT_EQ(gw_auth_token_add(a, "bravo", echo_vr_echo), 0);
    ASSERT_EQ(gw_auth_token_add(a, "Zulu", NULL), 0);
    l = gw_auth_token_list(a);
    ASSERT_EQ(json_array_size(l), 4);
    const char *order[] = {"Zulu", "alpha", "bravo", "charlie"}; /* byte order */
    for (size_t i = 0; i < 4; i++) {
        json_t *e = json_array_get(l, i);
        ASSERT_EQ(json_object_size(e), 2);
        ASSERT_STREQ(json_string_value(json_object_get(e, "token")), order[i]);
        ASSERT(json_is_array(json_object_get(e, "allowed_plugins")));
    }
    json_t *bravo = json_object_get(json_array_get(l, 2), "allowed_plugins");
    ASSERT_EQ(json_array_size(bravo), 2); /* duplicates count once, first order kept */
    ASSERT_STREQ(json_string_value(json_array_get(bravo, 0)), ECHO);
    ASSERT_STREQ(json_string_value(json_array_get(bravo, 1)), VR);
    ASSERT_EQ(json_array_size(json_object_get(json_array_get(l, 1), "allowed_plugins")), 0);
    json_decref(l);

    /* disallow removes only what is there; allow appends in order. */
    json_t *vr = list_of(VR, "janus.plugin.never");
    ASSERT_EQ(gw_auth_token_disallow(a, "charlie", vr), 0);
    json_t *pl = gw_auth_token_plugins(a, "charlie");
    ASSERT_EQ(json_array_size(pl), 1);
    ASSERT_STREQ(json_string_value(json_array_get(pl, 0)), ECHO);
    json_decref(pl);
    ASSERT_EQ(gw_auth_token_allow(a, "alpha", vr), 0);
    pl = gw_auth_token_plugins(a, "alpha");
    ASSERT_EQ(json_array_size(pl), 2);
    ASSERT_STREQ(json_string_value(json_array_get(pl, 0)), VR);
    ASSERT_STREQ(json_string_value(json_array_get(pl, 1)), "janus.plugin.never");
    json_decref(pl);

    ASSERT_EQ(gw_auth_token_remove(a, "bravo"), 0);
    ASSERT_EQ(gw_auth_token_remove(a, "bravo"), -ENOENT);
    l = gw_auth_token_list(a);
    ASSERT_EQ(json_array_size(l), 3);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(l, 2), "token")), "charlie");
    json_decref(l);
    /* A removed token can be added again, with a fresh list. */
    ASSERT_EQ(gw_auth_token_add(a, "bravo", NULL), 0);
    pl = gw_auth_token_plugins(a, "bravo");
    ASSERT_EQ(json_array_size(pl), 0);
    json_decref(pl);

    json_decref(vr);
    json_decref(vr_echo);
    json_decref(echo_vr_echo);
    gw_auth_destroy(a);
}

static void test_stored_plugin_scope(void)
{
    struct gw_auth *a = make(NULL, true, NULL, NULL);
    json_t *vr = list_of(VR, NULL), *echo = list_of(ECHO, NULL);
    ASSERT_EQ(gw_auth_token_add(a, "t-vr", vr), 0);
    ASSERT_EQ(gw_auth_token_add(a, "t-none", NULL), 0);
    ASSERT(plugin_ok(a, NULL, "t-vr", VR));
    ASSERT(!plugin_ok(a, NULL, "t-vr", ECHO));
    ASSERT(!plugin_ok(a, NULL, "t-vr", "janus.plugin.video"));
    ASSERT(!plugin_ok(a, NULL, "t-none", VR)); /* empty list = none */
    ASSERT(!plugin_ok(a, NULL, "t-unknown", VR));
    ASSERT(!plugin_ok(a, NULL, NULL, VR)); /* no token, no secret */
    ASSERT(!gw_auth_plugin_ok(a, NULL, VR));
    ASSERT_EQ(gw_auth_token_allow(a, "t-vr", echo), 0);
    ASSERT(plugin_ok(a, NULL, "t-vr", ECHO));
    ASSERT_EQ(gw_auth_token_disallow(a, "t-vr", vr), 0);
    ASSERT(!plugin_ok(a, NULL, "t-vr", VR));
    ASSERT(ok(a, NULL, "t-vr")); /* still a valid token, just not for VR */
    json_decref(vr);
    json_decref(echo);
    gw_auth_destroy(a);
}

static void test_secret_and_stored(void)
{
    struct gw_auth *a = make(SECRET, true, NULL, NULL);
    json_t *vr = list_of(VR, NULL);
    ASSERT_EQ(gw_auth_token_add(a, "t-vr", vr), 0);
    ASSERT(ok(a, SECRET, NULL));
    ASSERT(ok(a, NULL, "t-vr"));
    ASSERT(ok(a, SECRET, "bogus")); /* either passes */
    ASSERT(ok(a, "bogus", "t-vr"));
    ASSERT(!ok(a, "bogus", "bogus"));
    ASSERT(!ok(a, NULL, NULL));
    /* Attach: the secret alone passes; a present token is always checked (Janus). */
    ASSERT(plugin_ok(a, SECRET, NULL, ECHO));
    ASSERT(!plugin_ok(a, "bogus", NULL, ECHO));
    ASSERT(plugin_ok(a, SECRET, "t-vr", VR));
    ASSERT(!plugin_ok(a, SECRET, "t-vr", ECHO));
    ASSERT(!plugin_ok(a, SECRET, "bogus", VR));
    json_t *r = req(SECRET, NULL);
    json_object_set_new(r, "token", json_integer(7)); /* not a string: counts as absent */
    ASSERT(gw_auth_plugin_ok(a, r, ECHO));
    json_object_set_new(r, "token", json_stringn("t-vr\0", 5)); /* a broken string: checked */
    ASSERT(!gw_auth_plugin_ok(a, r, VR));
    json_decref(r);
    json_decref(vr);
    gw_auth_destroy(a);
}

static void test_signed_vector(void)
{
    char tok[256];
    sign(KEY, VECTOR_TEXT, tok, sizeof(tok));
    ASSERT_STREQ(tok, VECTOR_TEXT ":" VECTOR_SIG); /* the test's own signer is right */
    sign(KEY, VECTOR_ROOM_TEXT, tok, sizeof(tok));
    ASSERT_STREQ(tok, VECTOR_ROOM_TEXT ":" VECTOR_ROOM_SIG);

    struct fake_clock clk = {T0};
    struct gw_auth *a = make(NULL, true, KEY, &clk);
    ASSERT(ok(a, NULL, VECTOR_TEXT ":" VECTOR_SIG));
    ASSERT(plugin_ok(a, NULL, VECTOR_TEXT ":" VECTOR_SIG, VR));
    ASSERT(!plugin_ok(a, NULL, VECTOR_TEXT ":" VECTOR_SIG, ECHO));
    ASSERT(gw_auth_signed_room_ok(a, VECTOR_ROOM_TEXT ":" VECTOR_ROOM_SIG, VR, "1234"));
    clk.now = FAR;
    ASSERT(ok(a, NULL, VECTOR_TEXT ":" VECTOR_SIG)); /* expiry == now: still valid */
    clk.now = FAR + 1;
    ASSERT(!ok(a, NULL, VECTOR_TEXT ":" VECTOR_SIG));
    ASSERT(!gw_auth_signed_room_ok(a, VECTOR_ROOM_TEXT ":" VECTOR_ROOM_SIG, VR, "1234"));
    gw_auth_destroy(a);
}

/* ok() of the token signed over `text` with `key`. */
static bool signed_ok(struct gw_auth *a, const char *key, const char *text)
{
    char tok[GW_AUTH_TOKEN_MAX + 64];
    sign(key, text, tok, sizeof(tok));
    return ok(a, NULL, tok);
}

static void test_signed_only(void)
{
    struct fake_clock clk = {T0};
    struct gw_auth *a = make(NULL, true, KEY, &clk);
    ASSERT(signed_ok(a, KEY, "1700000100,janus"));
    ASSERT(signed_ok(a, KEY, "1700000100,janus,janus.plugin.echotest,room=1"));
    ASSERT(signed_ok(a, KEY, "1700000000,janus"));
    ASSERT(!signed_ok(a, KEY, "1699999999,janus")); /* expired */
    ASSERT(!signed_ok(a, "other-key", "1700000100,janus"));
    ASSERT(!signed_ok(a, KEY, "1700000100,JANUS"));
    ASSERT(!signed_ok(a, KEY, "1700000100,janus.plugin.videoroom"));
    ASSERT(!signed_ok(a, KEY, "1700000100,"));
    ASSERT(!signed_ok(a, KEY, "1700000100")); /* no realm */
    ASSERT(!signed_ok(a, KEY, ",janus"));     /* no expiry */
    ASSERT(!signed_ok(a, KEY, "17000001x0,janus"));
    ASSERT(!signed_ok(a, KEY, "-1700000100,janus"));
    ASSERT(!signed_ok(a, KEY, " 1700000100,janus"));
    ASSERT(!signed_ok(a, KEY, "9999999999999999999,janus")); /* too many digits */
    ASSERT(!signed_ok(a, KEY, "1700000100,janus:extra"));    /* a second ':' */

    char tok[256];
    sign(KEY, "1700000100,janus,janus.plugin.videoroom", tok, sizeof(tok));
    ASSERT(ok(a, NULL, tok));
    clk.now = 1700000101;
    ASSERT(!ok(a, NULL, tok)); /* expired by the clock moving on */
    clk.now = T0;

    /* Tampering with the signed text, or with the signature. */
    char bad[300];
    snprintf(bad, sizeof(bad), "1700009999%s", tok + 10); /* later expiry */
    ASSERT(!ok(a, NULL, bad));
    snprintf(bad, sizeof(bad), "%s", tok);
    bad[strlen("1700000100,janus,janus.plugin.")] = 'V'; /* a descriptor changed */
    ASSERT(!ok(a, NULL, bad));
    snprintf(bad, sizeof(bad), "%s", tok);
    size_t n = strlen(bad);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A'; /* one signature character */
    ASSERT(!ok(a, NULL, bad));
    snprintf(bad, sizeof(bad), "%s", tok);
    bad[n - 1] = '\0'; /* padding dropped */
    ASSERT(!ok(a, NULL, bad));
    snprintf(bad, sizeof(bad), "%s\n", tok); /* trailing newline */
    ASSERT(!ok(a, NULL, bad));
    snprintf(bad, sizeof(bad), "%s=", tok);
    ASSERT(!ok(a, NULL, bad));
    snprintf(bad, sizeof(bad), "%.*s", (int)(strchr(tok, ':') - tok + 1), tok); /* empty sig */
    ASSERT(!ok(a, NULL, bad));
    snprintf(bad, sizeof(bad),
             "%.*s!!!!!!!!!!!!!!!!!!!!!!!!!!!=", (int)(strchr(tok, ':') - tok + 1), tok);
    ASSERT(!ok(a, NULL, bad));                                              /* not Base64 */
    snprintf(bad, sizeof(bad), "%.*s", (int)(strchr(tok, ':') - tok), tok); /* no ':' */
    ASSERT(!ok(a, NULL, bad));
    ASSERT(!ok(a, NULL, ""));
    ASSERT(!ok(a, NULL, ":"));
    ASSERT(!ok(a, NULL, strchr(tok, ':'))); /* only the signature */
    ASSERT(!ok(a, NULL, NULL));
    ASSERT(!ok(a, KEY, NULL)); /* no API secret configured */
    ASSERT(!ok_with(a, "token", json_integer(1700000100)));
    ASSERT(!ok_with(a, "token", json_stringn(tok, strlen(tok) + 1))); /* trailing NUL */

    /* A signed token over the length limit is refused even when correct. */
    char text[GW_AUTH_TOKEN_MAX + 1];
    int k = snprintf(text, sizeof(text), "1700000100,janus,");
    memset(text + k, 'd', sizeof(text) - 1 - (size_t)k);
    text[GW_AUTH_TOKEN_MAX - 29] = '\0'; /* 28 Base64 characters and ':' fit exactly */
    ASSERT(signed_ok(a, KEY, text));
    text[GW_AUTH_TOKEN_MAX - 29] = 'd';
    text[GW_AUTH_TOKEN_MAX - 28] = '\0';
    ASSERT(!signed_ok(a, KEY, text));

    /* Stored-token verbs do not make a token valid in signed mode. */
    ASSERT_EQ(gw_auth_token_add(a, "plain", NULL), 0);
    ASSERT(!ok(a, NULL, "plain"));
    gw_auth_destroy(a);
}

static void test_signed_plugin(void)
{
    struct fake_clock clk = {T0};
    struct gw_auth *a = make(NULL, true, KEY, &clk);
    char tok[256];
    sign(KEY, "1700000100,janus,janus.plugin.echotest,janus.plugin.videoroom", tok, sizeof(tok));
    ASSERT(plugin_ok(a, NULL, tok, VR));
    ASSERT(plugin_ok(a, NULL, tok, ECHO));
    ASSERT(!plugin_ok(a, NULL, tok, "janus.plugin.textroom"));
    ASSERT(!plugin_ok(a, NULL, tok, "janus.plugin.video"));
    clk.now = T0 + 101;
    ASSERT(!plugin_ok(a, NULL, tok, VR));
    clk.now = T0;
    sign(KEY, "1700000100,janus", tok, sizeof(tok));
    ASSERT(!plugin_ok(a, NULL, tok, VR)); /* no descriptors: no plugin */
    sign(KEY, "1700000100,janus.plugin.videoroom,janus.plugin.videoroom", tok, sizeof(tok));
    ASSERT(!plugin_ok(a, NULL, tok, VR)); /* the realm is not a descriptor */
    sign(KEY, "1700000100,janus,janus.plugin.videoroom", tok, sizeof(tok));
    tok[strlen(tok) - 3] ^= 1;
    ASSERT(!plugin_ok(a, NULL, tok, VR));
    ASSERT(!plugin_ok(a, NULL, NULL, VR));
    ASSERT(!plugin_ok(a, NULL, "", VR));
    gw_auth_destroy(a);
}

static void test_secret_and_signed(void)
{
    struct fake_clock clk = {T0};
    struct gw_auth *a = make(SECRET, true, KEY, &clk);
    char tok[256];
    sign(KEY, "1700000100,janus,janus.plugin.videoroom", tok, sizeof(tok));
    ASSERT(ok(a, SECRET, NULL));
    ASSERT(ok(a, NULL, tok));
    ASSERT(ok(a, "bogus", tok));
    ASSERT(ok(a, SECRET, "bogus"));
    ASSERT(!ok(a, "bogus", "bogus"));
    ASSERT(!ok(a, NULL, NULL));
    ASSERT(plugin_ok(a, SECRET, NULL, ECHO));
    ASSERT(plugin_ok(a, NULL, tok, VR));
    ASSERT(!plugin_ok(a, SECRET, tok, ECHO)); /* the token is checked even so */
    clk.now = T0 + 101;
    ASSERT(!ok(a, NULL, tok));
    ASSERT(ok(a, SECRET, tok));
    gw_auth_destroy(a);
}

static void test_room(void)
{
    struct fake_clock clk = {T0};
    struct gw_auth *a = make(NULL, true, KEY, &clk);
    char tok[256];
    /* Janus's form: the realm is the plugin package. */
    sign(KEY, "1700000100,janus.plugin.videoroom,room=1234", tok, sizeof(tok));
    ASSERT(gw_auth_signed_room_ok(a, tok, VR, "1234"));
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, "123"));
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, "12345"));
    ASSERT(!gw_auth_signed_room_ok(a, tok, "janus.plugin.audiobridge", "1234"));
    ASSERT(!ok(a, NULL, tok)); /* its realm is not "janus": no good for requests */
    clk.now = T0 + 101;
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, "1234"));
    clk.now = T0;
    /* Several rooms, and string room ids. */
    sign(KEY, "1700000100,janus.plugin.videoroom,room=1,room=lobby", tok, sizeof(tok));
    ASSERT(gw_auth_signed_room_ok(a, tok, VR, "1"));
    ASSERT(gw_auth_signed_room_ok(a, tok, VR, "lobby"));
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, "2"));
    /* The "janus"-realm form needs the package and the room among the descriptors. */
    sign(KEY, "1700000100,janus,janus.plugin.videoroom,room=77", tok, sizeof(tok));
    ASSERT(gw_auth_signed_room_ok(a, tok, VR, "77"));
    ASSERT(ok(a, NULL, tok));
    sign(KEY, "1700000100,janus,room=77", tok, sizeof(tok));
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, "77"));
    sign(KEY, "1700000100,janus.plugin.videoroom,1234", tok, sizeof(tok));
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, "1234")); /* "room=" is required */
    sign(KEY, "1700000100,janus.plugin.videoroom", tok, sizeof(tok));
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, ""));
    /* Tampered room, NULL arguments. */
    sign(KEY, "1700000100,janus.plugin.videoroom,room=1234", tok, sizeof(tok));
    char bad[256];
    snprintf(bad, sizeof(bad), "%s", tok);
    bad[strlen("1700000100,janus.plugin.videoroom,room=123")] = '5';
    ASSERT(!gw_auth_signed_room_ok(a, bad, VR, "1235"));
    ASSERT(!gw_auth_signed_room_ok(a, NULL, VR, "1234"));
    ASSERT(!gw_auth_signed_room_ok(a, tok, NULL, "1234"));
    ASSERT(!gw_auth_signed_room_ok(a, tok, VR, NULL));
    ASSERT(!gw_auth_signed_room_ok(NULL, tok, VR, "1234"));
    gw_auth_destroy(a);
}

/* Several threads add, check and remove tokens at once (run under ASan/TSan builds). */
struct worker {
    struct gw_auth *a;
    int id;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    json_t *vr = list_of(VR, NULL);
    for (int i = 0; i < 300; i++) {
        char t[64];
        snprintf(t, sizeof(t), "w%d-%d", w->id, i);
        ASSERT_EQ(gw_auth_token_add(w->a, t, vr), 0);
        ASSERT(ok(w->a, NULL, t));
        ASSERT(plugin_ok(w->a, NULL, t, VR));
        if (i % 2)
            ASSERT_EQ(gw_auth_token_remove(w->a, t), 0);
        json_decref(gw_auth_token_list(w->a));
    }
    json_decref(vr);
    return NULL;
}

static void test_threads(void)
{
    struct gw_auth *a = make(NULL, true, NULL, NULL);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){a, i};
        ASSERT_EQ(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    json_t *l = gw_auth_token_list(a);
    ASSERT_EQ(json_array_size(l), 4 * 150);
    json_decref(l);
    ASSERT(ok(a, NULL, "w3-298"));
    ASSERT(!ok(a, NULL, "w3-299"));
    gw_auth_destroy(a);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"equal", test_equal},
        {"create", test_create},
        {"mode_off", test_mode_off},
        {"secret_only", test_secret_only},
        {"stored_only", test_stored_only},
        {"store_errors", test_store_errors},
        {"store_list", test_store_list},
        {"stored_plugin_scope", test_stored_plugin_scope},
        {"secret_and_stored", test_secret_and_stored},
        {"signed_vector", test_signed_vector},
        {"signed_only", test_signed_only},
        {"signed_plugin", test_signed_plugin},
        {"secret_and_signed", test_secret_and_signed},
        {"room", test_room},
        {"threads", test_threads},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
