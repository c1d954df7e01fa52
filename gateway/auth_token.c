/* This file implements the stored-token table: the tokens the Admin API adds, each with the
 * plugin packages it may attach to, and the lookups the request and attach checks make.
 *
 * DESIGN: the table is an array sorted by the SHA-256 of each token and searched by bisection
 * under one mutex. Searching by digest rather than by the token itself keeps the lookup from
 * leaking, through its timing, how much of a guessed token matches a stored one: the
 * comparisons only reveal where the digest of the guess would sort. A digest hit is then
 * confirmed by a constant-time comparison of the strings. Tables are small (an Admin adds
 * them by hand or per user), so insertion by memmove is fine; the listing sorts a copy of the
 * pointers by token. Every verb checks its whole input before taking the lock and changes
 * nothing unless it succeeds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/auth_internal.h"

/* 1..GW_AUTH_TOKEN_MAX printable ASCII bytes. */
static bool token_valid(const char *t)
{
    if (!t)
        return false;
    size_t n = strnlen(t, GW_AUTH_TOKEN_MAX + 1);
    if (n == 0 || n > GW_AUTH_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] > 0x7e)
            return false;
    return true;
}

/* 0 when `plugins` is an array of at most GW_AUTH_PLUGINS_MAX strings of 1..GW_AUTH_PLUGIN_MAX
 * bytes without a NUL (or NULL, when `null_ok`); else -EINVAL. */
static int plugins_check(const json_t *plugins, bool null_ok)
{
    if (!plugins)
        return null_ok ? 0 : -EINVAL;
    if (!json_is_array(plugins) || json_array_size(plugins) > GW_AUTH_PLUGINS_MAX)
        return -EINVAL;
    size_t i;
    const json_t *p;
    json_array_foreach(plugins, i, p)
    {
        if (!json_is_string(p))
            return -EINVAL;
        size_t n = json_string_length(p);
        if (n == 0 || n > GW_AUTH_PLUGIN_MAX || strlen(json_string_value(p)) != n)
            return -EINVAL;
    }
    return 0;
}

/* Bisection by digest: true and *at = its index when present, else false and *at = where it
 * would be inserted. Lock held. */
static bool find_digest(const struct gw_auth *a, const uint8_t d[VB_SHA256_LEN], size_t *at)
{
    size_t lo = 0, hi = a->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(a->entries[mid].digest, d, VB_SHA256_LEN);
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

/* The entry for `token`, or NULL. Lock held. */
static struct gw_auth_entry *lookup(struct gw_auth *a, const char *token)
{
    if (!token_valid(token))
        return NULL;
    uint8_t d[VB_SHA256_LEN];
    size_t at;
    vb_sha256(token, strlen(token), d);
    if (!find_digest(a, d, &at) || !gw_auth_equal(token, a->entries[at].token))
        return NULL;
    return &a->entries[at];
}

static bool entry_allows(const struct gw_auth_entry *e, const char *plugin)
{
    for (size_t i = 0; i < e->n_plugins; i++)
        if (strcmp(e->plugins[i], plugin) == 0)
            return true;
    return false;
}

/* How many distinct packages of `plugins` (checked) `e` does not allow yet. */
static size_t count_new(const struct gw_auth_entry *e, const json_t *plugins)
{
    size_t n = 0, i;
    const json_t *p;
    json_array_foreach(plugins, i, p)
    {
        const char *name = json_string_value(p);
        bool seen = entry_allows(e, name);
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(json_string_value(json_array_get(plugins, j)), name) == 0;
        n += !seen;
    }
    return n;
}

/* Appends the packages of `plugins` (checked, not NULL) that `e` does not allow yet. */
static void entry_allow(struct gw_auth_entry *e, const json_t *plugins)
{
    size_t i;
    const json_t *p;
    json_array_foreach(plugins, i, p)
    {
        const char *name = json_string_value(p);
        if (entry_allows(e, name))
            continue;
        e->plugins = xrealloc(e->plugins, (e->n_plugins + 1) * sizeof(*e->plugins));
        e->plugins[e->n_plugins++] = xstrdup(name);
    }
}

static void entry_disallow(struct gw_auth_entry *e, const char *plugin)
{
    for (size_t i = 0; i < e->n_plugins; i++) {
        if (strcmp(e->plugins[i], plugin) != 0)
            continue;
        free(e->plugins[i]);
        memmove(&e->plugins[i], &e->plugins[i + 1], (e->n_plugins - i - 1) * sizeof(char *));
        e->n_plugins--;
        return;
    }
}

static void entry_free(struct gw_auth_entry *e)
{
    for (size_t i = 0; i < e->n_plugins; i++)
        free(e->plugins[i]);
    free(e->plugins);
    free(e->token);
}

/* Inserts a new entry for `token` at index `at`. Lock held; room checked. */
static struct gw_auth_entry *insert_at(struct gw_auth *a, size_t at, const char *token,
                                       const uint8_t d[VB_SHA256_LEN])
{
    if (a->n_entries == a->cap_entries) {
        a->cap_entries = a->cap_entries ? 2 * a->cap_entries : 16;
        a->entries = xrealloc(a->entries, a->cap_entries * sizeof(*a->entries));
    }
    memmove(&a->entries[at + 1], &a->entries[at], (a->n_entries - at) * sizeof(*a->entries));
    a->n_entries++;
    struct gw_auth_entry *e = &a->entries[at];
    memset(e, 0, sizeof(*e));
    memcpy(e->digest, d, VB_SHA256_LEN);
    e->token = xstrdup(token);
    return e;
}

int gw_auth_token_add(struct gw_auth *a, const char *token, const json_t *plugins)
{
    if (!a || !token_valid(token) || plugins_check(plugins, true) != 0)
        return -EINVAL;
    uint8_t d[VB_SHA256_LEN];
    vb_sha256(token, strlen(token), d);
    int rc = 0;
    size_t at;
    pthread_mutex_lock(&a->lock);
    if (find_digest(a, d, &at)) {
        rc = -EEXIST;
    } else if (a->n_entries >= GW_AUTH_TOKENS_MAX) {
        rc = -ENOSPC;
    } else {
        struct gw_auth_entry *e = insert_at(a, at, token, d);
        if (plugins)
            entry_allow(e, plugins);
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

enum token_op { TOKEN_ALLOW, TOKEN_DISALLOW, TOKEN_REMOVE };

/* Applies `op` to the entry `e` (lock held; `plugins` checked, unused by TOKEN_REMOVE). 0 or
 * -ENOSPC (nothing changed). */
static int entry_apply(struct gw_auth *a, struct gw_auth_entry *e, const json_t *plugins,
                       enum token_op op)
{
    size_t i;
    const json_t *p;
    switch (op) {
    case TOKEN_ALLOW:
        if (e->n_plugins + count_new(e, plugins) > GW_AUTH_PLUGINS_MAX)
            return -ENOSPC;
        entry_allow(e, plugins);
        return 0;
    case TOKEN_DISALLOW:
        json_array_foreach(plugins, i, p)
        {
            entry_disallow(e, json_string_value(p));
        }
        return 0;
    default: /* TOKEN_REMOVE */
        i = (size_t)(e - a->entries);
        entry_free(e);
        memmove(e, e + 1, (a->n_entries - i - 1) * sizeof(*e));
        a->n_entries--;
        return 0;
    }
}

/* allow, disallow and remove: checks the input, then finds the token and changes its entry
 * under the lock. 0, -EINVAL, -ENOENT or -ENOSPC. */
static int token_change(struct gw_auth *a, const char *token, const json_t *plugins,
                        enum token_op op)
{
    if (!a || !token_valid(token) || (op != TOKEN_REMOVE && plugins_check(plugins, false) != 0))
        return -EINVAL;
    pthread_mutex_lock(&a->lock);
    struct gw_auth_entry *e = lookup(a, token);
    int rc = e ? entry_apply(a, e, plugins, op) : -ENOENT;
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int gw_auth_token_allow(struct gw_auth *a, const char *token, const json_t *plugins)
{
    return token_change(a, token, plugins, TOKEN_ALLOW);
}

int gw_auth_token_disallow(struct gw_auth *a, const char *token, const json_t *plugins)
{
    return token_change(a, token, plugins, TOKEN_DISALLOW);
}

int gw_auth_token_remove(struct gw_auth *a, const char *token)
{
    return token_change(a, token, NULL, TOKEN_REMOVE);
}

static json_t *plugins_json(const struct gw_auth_entry *e)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < e->n_plugins; i++)
        json_array_append_new(arr, json_string(e->plugins[i]));
    return arr;
}

json_t *gw_auth_token_plugins(struct gw_auth *a, const char *token)
{
    if (!a)
        return NULL;
    pthread_mutex_lock(&a->lock);
    struct gw_auth_entry *e = lookup(a, token);
    json_t *arr = e ? plugins_json(e) : NULL;
    pthread_mutex_unlock(&a->lock);
    return arr;
}

static int by_token(const void *x, const void *y)
{
    const struct gw_auth_entry *const *ex = x;
    const struct gw_auth_entry *const *ey = y;
    return strcmp((*ex)->token, (*ey)->token);
}

json_t *gw_auth_token_list(struct gw_auth *a)
{
    json_t *list = json_array();
    if (!a)
        return list;
    pthread_mutex_lock(&a->lock);
    size_t n = a->n_entries;
    const struct gw_auth_entry **sorted = xmalloc((n ? n : 1) * sizeof(*sorted));
    for (size_t i = 0; i < n; i++)
        sorted[i] = &a->entries[i];
    qsort(sorted, n, sizeof(*sorted), by_token);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:o}", "token", sorted[i]->token,
                                              "allowed_plugins", plugins_json(sorted[i])));
    pthread_mutex_unlock(&a->lock);
    free(sorted);
    return list;
}

bool gw_auth_store_has(struct gw_auth *a, const char *token)
{
    pthread_mutex_lock(&a->lock);
    bool found = lookup(a, token) != NULL;
    pthread_mutex_unlock(&a->lock);
    return found;
}

bool gw_auth_store_allows(struct gw_auth *a, const char *token, const char *plugin)
{
    pthread_mutex_lock(&a->lock);
    const struct gw_auth_entry *e = lookup(a, token);
    bool ok = e && entry_allows(e, plugin);
    pthread_mutex_unlock(&a->lock);
    return ok;
}

void gw_auth_store_clear(struct gw_auth *a)
{
    for (size_t i = 0; i < a->n_entries; i++)
        entry_free(&a->entries[i]);
    free(a->entries);
    a->entries = NULL;
    a->n_entries = a->cap_entries = 0;
}
