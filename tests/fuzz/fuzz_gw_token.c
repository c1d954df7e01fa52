/* This file implements the libFuzzer target for the gateway's authentication (gateway/auth.h):
 * arbitrary bytes become the "token" and the "apisecret" of requests checked against a
 * signed-token configuration, a stored-token configuration with an API secret, and one with
 * both a secret and signed tokens, and the token is also given to the stored-token verbs.
 *
 * Input layout: the first byte holds flags, the rest is the text. With flag 0x01 the harness
 * signs the text itself (appends ':' and the Base64 HMAC-SHA1 made with the configured key),
 * so that the fuzzer, which could never guess a MAC, explores the fields of correctly signed
 * tokens. Every answer is compared with a small reference model written here independently of
 * gateway/auth_signed.c (strsep over a copy), so a wrong accept or reject aborts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/auth.h"

#define KEY "fuzz-hmac-key"
#define SECRET "fuzz-api-secret"
#define VR "janus.plugin.videoroom"
#define ECHO "janus.plugin.echotest"
#define ROOM "1234"
#define NOW 1700000000
#define FLAG_SIGN 0x01u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return NOW;
}

static struct gw_auth *make(const char *secret, bool tokens, const char *key)
{
    struct gw_auth_config cfg = {
        .api_secret = secret, .token_auth = tokens, .token_auth_secret = key, .now_s = fixed_now};
    struct gw_auth *a = NULL;
    if (gw_auth_create(&cfg, &a) != 0)
        abort();
    return a;
}

/* What the reference model makes of a signed token's text (before the ':'). */
struct model {
    bool valid;  /* expiry and realm "janus" */
    bool plugin; /* valid, and a descriptor is VR */
    bool room;   /* either room-token form for VR and ROOM */
};

static bool all_digits(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* `text` is NUL-free and holds no ':'. */
static struct model model_of(const char *text)
{
    struct model m = {false, false, false};
    char *copy = strdup(text), *rest = copy;
    const char *expiry = strsep(&rest, ",");
    const char *realm = rest ? strsep(&rest, ",") : NULL;
    bool has_vr = false, has_room = false;
    for (char *d; rest && (d = strsep(&rest, ","));) {
        has_vr |= strcmp(d, VR) == 0;
        has_room |= strcmp(d, "room=" ROOM) == 0;
    }
    if (realm && all_digits(expiry) && strtoll(expiry, NULL, 10) >= NOW) {
        m.valid = strcmp(realm, "janus") == 0;
        m.plugin = m.valid && has_vr;
        m.room = has_room && (strcmp(realm, VR) == 0 || (m.valid && has_vr));
    }
    free(copy);
    return m;
}

/* A request carrying `s` (any bytes) as "token" and "apisecret". */
static json_t *request_with(const char *s, size_t n)
{
    json_t *r = json_object();
    json_object_set_new(r, "token", json_stringn_nocheck(s, n));
    json_object_set_new(r, "apisecret", json_stringn_nocheck(s, n));
    return r;
}

/* The token "<text>:<Base64(HMAC-SHA1(KEY, text))>" (malloc'd), or NULL when it is too long. */
static char *sign_text(const uint8_t *text, size_t n)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (n > GW_AUTH_TOKEN_MAX || !HMAC(EVP_sha1(), KEY, (int)strlen(KEY), text, n, mac, &mac_len))
        return NULL;
    char *tok = malloc(n + 2 + 4 * EVP_MAX_MD_SIZE);
    memcpy(tok, text, n);
    tok[n] = ':';
    EVP_EncodeBlock((unsigned char *)tok + n + 1, mac, (int)mac_len);
    return tok;
}

/* The model's answer for the token of n bytes made from `text`: nothing passes unless
 * the harness signed it (a MAC cannot be guessed) and it is short and clean. */
static struct model expect(size_t n, const uint8_t *text, size_t text_len, bool signed_by_us)
{
    struct model m = {false, false, false};
    if (signed_by_us && n <= GW_AUTH_TOKEN_MAX && !memchr(text, '\0', text_len) &&
        !memchr(text, ':', text_len)) {
        char *t = strndup((const char *)text, text_len);
        m = model_of(t);
        free(t);
    }
    return m;
}

static void check_signed(struct gw_auth *a, const char *tok, size_t n, struct model m)
{
    json_t *r = request_with(tok, n);
    bool req = gw_auth_request_ok(a, r);
    bool plug = gw_auth_plugin_ok(a, r, VR);
    json_decref(r);
    bool room = gw_auth_signed_room_ok(a, tok, VR, ROOM); /* as a C string: up to a NUL */
    if (memchr(tok, '\0', n))
        room = m.room; /* the C string is another token: not modelled */
    if (req != m.valid || plug != m.plugin || room != m.room)
        abort();
}

/* The stored-token configuration: fixed tokens, then the input as a token through the verbs. */
static void check_stored(struct gw_auth *a, const char *tok, size_t n)
{
    json_t *r = request_with(tok, n);
    bool is_a = n == 5 && memcmp(tok, "tok-a", 5) == 0;
    bool is_b = n == 5 && memcmp(tok, "tok-b", 5) == 0;
    bool is_secret = n == strlen(SECRET) && memcmp(tok, SECRET, n) == 0;
    if (gw_auth_request_ok(a, r) != (is_a || is_b || is_secret))
        abort();
    /* tok-a allows VR; the secret alone does not excuse a token that is present. */
    if (gw_auth_plugin_ok(a, r, VR) != is_a || gw_auth_plugin_ok(a, r, ECHO))
        abort();
    json_decref(r);

    json_t *vr = json_pack("[s]", VR);
    int rc = gw_auth_token_add(a, tok, vr); /* as a C string: up to a NUL */
    size_t len = strlen(tok);
    bool printable = len > 0 && len <= GW_AUTH_TOKEN_MAX;
    for (size_t i = 0; i < len && printable; i++)
        printable = tok[i] >= 0x20 && tok[i] <= 0x7e;
    bool known = len == 5 && (memcmp(tok, "tok-a", 5) == 0 || memcmp(tok, "tok-b", 5) == 0);
    if (rc != (!printable ? -EINVAL : known ? -EEXIST : 0))
        abort();
    if (rc == 0) {
        r = request_with(tok, len);
        if (!gw_auth_request_ok(a, r) || !gw_auth_plugin_ok(a, r, VR) ||
            gw_auth_plugin_ok(a, r, ECHO))
            abort();
        json_decref(r);
        json_t *list = gw_auth_token_list(a);
        if (json_array_size(list) != 3)
            abort();
        json_decref(list);
        if (gw_auth_token_remove(a, tok) != 0 || gw_auth_token_plugins(a, tok) != NULL)
            abort();
    }
    json_decref(vr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4 * GW_AUTH_TOKEN_MAX)
        return 0;
    unsigned flags = data[0];
    const uint8_t *text = data + 1;
    size_t text_len = size - 1;

    char *tok = (flags & FLAG_SIGN) ? sign_text(text, text_len) : NULL;
    bool signed_by_us = tok != NULL;
    size_t n = text_len;
    if (signed_by_us) {
        n = text_len + 1 + strlen(tok + text_len + 1);
    } else {
        tok = malloc(text_len + 1);
        memcpy(tok, text, text_len);
        tok[text_len] = '\0';
    }
    struct model m = expect(n, text, text_len, signed_by_us);

    struct gw_auth *sig = make(NULL, true, KEY);
    check_signed(sig, tok, n, m);
    gw_auth_destroy(sig);

    /* Secret and signed tokens: either passes; a present token decides the attach. */
    struct gw_auth *both = make(SECRET, true, KEY);
    json_t *r = request_with(tok, n);
    bool secret_ok = n == strlen(SECRET) && memcmp(tok, SECRET, n) == 0;
    if (gw_auth_request_ok(both, r) != (secret_ok || m.valid) ||
        gw_auth_plugin_ok(both, r, VR) != m.plugin)
        abort();
    json_decref(r);
    gw_auth_destroy(both);

    struct gw_auth *stored = make(SECRET, true, NULL);
    json_t *vr = json_pack("[s]", VR);
    if (gw_auth_token_add(stored, "tok-a", vr) != 0 || gw_auth_token_add(stored, "tok-b", NULL))
        abort();
    json_decref(vr);
    check_stored(stored, tok, n);
    gw_auth_destroy(stored);

    free(tok);
    return 0;
}
