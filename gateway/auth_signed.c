/* This file implements the verification of Janus's HMAC-signed tokens:
 * "<expiry>,<realm>[,<descriptor>...]:<signature>", where the signature is the standard Base64
 * of HMAC-SHA1(token_auth_secret, everything before the ':').
 *
 * DESIGN: the token is never copied or split into allocated pieces; the fields are walked in
 * place as (pointer, length) pairs. The signature is checked the way Janus does it, by
 * encoding the expected MAC and comparing the two texts in constant time (so only the
 * canonical, padded Base64 passes), and it is computed for every well-formed token before any
 * field is looked at, so the time does not tell which field was wrong. Stricter than Janus,
 * the expiry must be decimal digits (Janus reads it with strtoll, so "12abc" would be 12). */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/auth_internal.h"

#define REALM_JANUS "janus"
#define ROOM_PREFIX "room="
#define EXPIRY_DIGITS_MAX 18 /* fits int64_t without overflow */

/* What the descriptor walk found. */
struct fields {
    bool expiry_ok; /* the expiry parses and is not in the past */
    const char *realm;
    size_t realm_len;
    size_t count;    /* fields, expiry and realm included */
    bool has_plugin; /* a descriptor equals the plugin asked about */
    bool has_room;   /* a descriptor equals "room=<room>" */
};

static bool span_is(const char *p, size_t n, const char *s)
{
    return s && strlen(s) == n && memcmp(p, s, n) == 0;
}

static bool span_is_room(const char *p, size_t n, const char *room)
{
    size_t k = sizeof(ROOM_PREFIX) - 1;
    return room && n >= k && memcmp(p, ROOM_PREFIX, k) == 0 && span_is(p + k, n - k, room);
}

/* Decimal seconds: 1..EXPIRY_DIGITS_MAX digits, nothing else. */
static bool parse_expiry(const char *p, size_t n, int64_t *out)
{
    if (n == 0 || n > EXPIRY_DIGITS_MAX)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* Walks the comma-separated fields of data[0..len). */
static void walk_fields(const struct gw_auth *a, const char *data, size_t len, const char *plugin,
                        const char *room, struct fields *f)
{
    memset(f, 0, sizeof(*f));
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && data[i] != ',')
            continue;
        const char *p = data + start;
        size_t n = i - start;
        if (f->count == 0) {
            int64_t expiry;
            f->expiry_ok = parse_expiry(p, n, &expiry) && expiry >= gw_auth_now(a);
        } else if (f->count == 1) {
            f->realm = p;
            f->realm_len = n;
        } else {
            f->has_plugin |= span_is(p, n, plugin);
            f->has_room |= span_is_room(p, n, room);
        }
        f->count++;
        start = i + 1;
    }
}

/* Constant-time check that `sig` is Base64(HMAC-SHA1(key, data[0..len))). */
static bool signature_ok(const struct gw_auth *a, const char *data, size_t len, const char *sig)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha1(), a->hmac_key, (int)a->hmac_key_len, (const unsigned char *)data, len, mac,
              &mac_len))
        return false;
    char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    EVP_EncodeBlock((unsigned char *)b64, mac, (int)mac_len);
    return gw_auth_equal(sig, b64);
}

/* The scope rule of gw_auth_signed_check (see auth_internal.h). */
static bool scope_ok(const struct fields *f, const char *plugin, const char *room)
{
    bool realm_janus = span_is(f->realm, f->realm_len, REALM_JANUS);
    if (!room)
        return realm_janus && (!plugin || f->has_plugin);
    if (!plugin || !f->has_room)
        return false;
    return span_is(f->realm, f->realm_len, plugin) || (realm_janus && f->has_plugin);
}

bool gw_auth_signed_check(const struct gw_auth *a, const char *token, const char *plugin,
                          const char *room)
{
    if (!a || !a->token_auth || !a->hmac_key || !token)
        return false;
    size_t len = strnlen(token, GW_AUTH_TOKEN_MAX + 1);
    if (len == 0 || len > GW_AUTH_TOKEN_MAX)
        return false;
    const char *colon = memchr(token, ':', len);
    if (!colon)
        return false;
    size_t data_len = (size_t)(colon - token);
    if (memchr(colon + 1, ':', len - data_len - 1))
        return false;
    bool sig_ok = signature_ok(a, token, data_len, colon + 1);
    struct fields f;
    walk_fields(a, token, data_len, plugin, room, &f);
    return sig_ok && f.count >= 2 && f.expiry_ok && scope_ok(&f, plugin, room);
}
