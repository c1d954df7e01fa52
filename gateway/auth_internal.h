/* gateway/auth_internal.h — what the three auth files (auth.c, auth_token.c, auth_signed.c)
 * share: the object's layout, the stored-token table and the signed-token checker. Not for
 * other modules: they use gateway/auth.h.
 *
 * The fields of struct gw_auth other than the token table are set once by gw_auth_create and
 * read-only afterwards, so any thread may read them without the lock; the table and every
 * entry in it are read and written only under `lock`. */
#ifndef VB_GATEWAY_AUTH_INTERNAL_H
#define VB_GATEWAY_AUTH_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "common/sha256.h"
#include "gateway/auth.h"

/* One stored token and the packages it may attach to, in the order they were allowed. */
struct gw_auth_entry {
    uint8_t digest[VB_SHA256_LEN]; /* SHA-256 of the token: the table's sort key */
    char *token;
    char **plugins;
    size_t n_plugins;
};

struct gw_auth {
    char *api_secret; /* NULL = off */
    bool token_auth;  /* tokens required (stored, or signed when hmac_key is set) */
    char *hmac_key;   /* NULL = stored tokens */
    size_t hmac_key_len;
    int64_t (*now_s)(void *ctx);
    void *now_ctx;

    pthread_mutex_t lock;          /* guards the table below */
    struct gw_auth_entry *entries; /* sorted by digest */
    size_t n_entries, cap_entries;
};

/* Wall clock in seconds (the configured one, or time(NULL)). Any thread. */
int64_t gw_auth_now(const struct gw_auth *a);

/* Signed tokens (auth_signed.c). True when `token` carries a correct HMAC-SHA1 signature made
 * with the configured key, has not expired, and:
 *  - plugin == NULL and room == NULL: its realm is "janus" (the request check);
 *  - plugin set, room == NULL: its realm is "janus" and a descriptor equals `plugin`;
 *  - both set: either its realm is `plugin` and a descriptor is "room=<room>" (the Janus form)
 *    or its realm is "janus" and descriptors include both `plugin` and "room=<room>".
 * False when signed tokens are off. Any thread; no lock. */
bool gw_auth_signed_check(const struct gw_auth *a, const char *token, const char *plugin,
                          const char *room);

/* Stored tokens (auth_token.c), each taking the lock. `token` is any string (an invalid one is
 * simply not found). */
bool gw_auth_store_has(struct gw_auth *a, const char *token);
bool gw_auth_store_allows(struct gw_auth *a, const char *token, const char *plugin);
/* Frees every entry (at destroy; no lock taken). */
void gw_auth_store_clear(struct gw_auth *a);

#endif
