/* This file implements the gateway's sessions and handles: random unique ids, the session table,
 * reference counting, the bounded per-session event queue that long polls take from, trickle
 * queues per handle, the timeout sweep (per session or global), and the lookups the Admin API
 * makes without counting as activity.
 *
 * DESIGN: the core's table holds one reference on each live session, and a session's handle
 * list one on each attached handle; a handle references its session. Ending a session (destroy
 * or timeout) first unlinks it from the table, so no new request can find it, then detaches the
 * handles one by one, telling each plugin with no lock held. A poller that still holds the
 * session can then take the final event (timeout) from the queue. The event queue is a ring with
 * a fixed bound: a client that never polls costs at most `max_events` events, the oldest being
 * dropped, counted, and announced to the next poll with an `events_dropped` notice. Parked long
 * polls (struct gw_waiter) are woken one per queued event, all at the session's end. */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "common/xalloc.h"
#include "gateway/core_internal.h"

uint64_t gw_random_id(void)
{
    uint64_t v = 0;
    while (v == 0) {
        uint8_t b[8];
        size_t got = 0;
        while (got < sizeof b) {
            ssize_t n = getrandom(b + got, sizeof b - got, 0);
            if (n > 0)
                got += (size_t)n;
        }
        v = 0;
        for (size_t i = 0; i < sizeof b; i++)
            v = (v << 8) | b[i];
        v &= (UINT64_C(1) << 53) - 1;
    }
    return v;
}

static size_t bucket_of(uint64_t id)
{
    return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 54) % GW_BUCKETS;
}

/* Called with the core lock held. */
static struct gw_session *table_find(struct gw_core *g, uint64_t id)
{
    for (struct gw_session *s = g->buckets[bucket_of(id)]; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

/* Called with the core lock held; true if it was there. */
static bool table_remove(struct gw_core *g, struct gw_session *s)
{
    for (struct gw_session **pp = &g->buckets[bucket_of(s->id)]; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            s->next = NULL;
            g->nsessions--;
            return true;
        }
    }
    return false;
}

int gw_session_create(struct gw_core *g, uint64_t id, struct gw_session **out)
{
    struct gw_session *s = xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 2); /* the table's and the caller's */
    s->core = g;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    s->last_activity_us = vb_clock_mono(g->clock);
    s->timeout_s = -1;

    pthread_mutex_lock(&g->lock);
    s->ev_cap = g->max_events;
    int err = 0;
    if (!g->accepting) {
        err = -EAGAIN;
    } else if (id != 0) {
        if (table_find(g, id))
            err = -EEXIST;
    } else {
        do
            id = gw_random_id();
        while (table_find(g, id));
    }
    if (err == 0) {
        s->id = id;
        size_t b = bucket_of(id);
        s->next = g->buckets[b];
        g->buckets[b] = s;
        g->nsessions++;
    }
    pthread_mutex_unlock(&g->lock);
    if (err) {
        atomic_store(&s->refs, 1);
        gw_session_unref(s);
        return err;
    }
    s->ev = xcalloc(s->ev_cap, sizeof *s->ev);
    *out = s;
    return 0;
}

void gw_session_ref(struct gw_session *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void gw_session_unref(struct gw_session *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->ev_len; i++)
        json_decref(s->ev[(s->ev_head + i) % s->ev_cap]);
    free(s->ev);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

uint64_t gw_session_id(const struct gw_session *s)
{
    return s->id;
}

int gw_core_session_find(struct gw_core *g, uint64_t id, struct gw_session **out)
{
    pthread_mutex_lock(&g->lock);
    struct gw_session *s = table_find(g, id);
    if (s)
        gw_session_ref(s);
    pthread_mutex_unlock(&g->lock);
    if (!s)
        return -ENOENT;
    *out = s;
    return 0;
}

json_t *gw_core_session_list(struct gw_core *g)
{
    json_t *ids = json_array();
    pthread_mutex_lock(&g->lock);
    for (size_t b = 0; b < GW_BUCKETS; b++)
        for (struct gw_session *s = g->buckets[b]; s; s = s->next)
            json_array_append_new(ids, json_integer((json_int_t)s->id));
    pthread_mutex_unlock(&g->lock);
    return ids;
}

int64_t gw_session_timeout_of(struct gw_session *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t own = s->timeout_s;
    pthread_mutex_unlock(&s->lock);
    return own >= 0 ? own : gw_core_session_timeout(s->core);
}

int gw_core_session_set_timeout(struct gw_core *g, uint64_t session_id, int64_t seconds)
{
    if (seconds < -1)
        return -EINVAL;
    struct gw_session *s;
    if (gw_core_session_find(g, session_id, &s) < 0)
        return -ENOENT;
    pthread_mutex_lock(&s->lock);
    s->timeout_s = seconds;
    pthread_mutex_unlock(&s->lock);
    gw_session_unref(s);
    return 0;
}

int gw_core_session_get(struct gw_core *g, uint64_t id, struct gw_session **out)
{
    pthread_mutex_lock(&g->lock);
    struct gw_session *s = table_find(g, id);
    if (s) {
        gw_session_ref(s);
        pthread_mutex_lock(&s->lock);
        s->last_activity_us = vb_clock_mono(g->clock);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&g->lock);
    if (!s)
        return -ENOENT;
    *out = s;
    return 0;
}

/* Called with the session lock held: wakes the oldest-armed waiter, or all of them. */
static void wake_waiters(struct gw_session *s, bool all)
{
    while (s->waiters) {
        struct gw_waiter **pp = &s->waiters;
        while ((*pp)->next) /* armed at the head: the tail is the longest waiting */
            pp = &(*pp)->next;
        struct gw_waiter *w = *pp;
        *pp = NULL;
        w->armed = false;
        if (w->wake(w->ctx) && !all)
            return;
    }
}

void gw_session_push(struct gw_session *s, json_t *ev)
{
    pthread_mutex_lock(&s->lock);
    if (s->ev_len == s->ev_cap) {
        json_decref(s->ev[s->ev_head]);
        s->ev_head = (s->ev_head + 1) % s->ev_cap;
        s->ev_len--;
        s->ev_dropped++;
        s->ev_dropped_untold++;
    }
    s->ev[(s->ev_head + s->ev_len) % s->ev_cap] = ev;
    s->ev_len++;
    pthread_cond_broadcast(&s->cond);
    wake_waiters(s, false);
    pthread_mutex_unlock(&s->lock);
}

int gw_session_waiter_arm(struct gw_session *s, struct gw_waiter *w)
{
    pthread_mutex_lock(&s->lock);
    int rc = -EAGAIN;
    if (s->ev_len == 0 && !s->gone && !w->armed) {
        w->armed = true;
        w->next = s->waiters;
        s->waiters = w;
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void gw_session_waiter_disarm(struct gw_session *s, struct gw_waiter *w)
{
    pthread_mutex_lock(&s->lock);
    for (struct gw_waiter **pp = &s->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    w->armed = false;
    w->next = NULL;
    pthread_mutex_unlock(&s->lock);
}

bool gw_session_ended(struct gw_session *s)
{
    pthread_mutex_lock(&s->lock);
    bool gone = s->gone;
    pthread_mutex_unlock(&s->lock);
    return gone;
}

int gw_session_events_take(struct gw_session *s, int maxev, int timeout_ms, json_t **out)
{
    if (maxev < 1 || timeout_ms < 0)
        return -EINVAL;
    struct timespec dl;
    vb_clock_deadline_us(&dl, (int64_t)timeout_ms * 1000);
    json_t *arr = json_array();
    pthread_mutex_lock(&s->lock);
    while (s->ev_len == 0 && !s->gone && timeout_ms > 0) {
        if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT)
            break;
    }
    int n = 0;
    if (s->ev_dropped_untold && s->ev_len > 0) {
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "janus", "events_dropped",
                                             "session_id", (json_int_t)s->id, "dropped",
                                             (json_int_t)s->ev_dropped_untold));
        s->ev_dropped_untold = 0;
        n++;
    }
    while (n < maxev && s->ev_len > 0) {
        json_array_append_new(arr, s->ev[s->ev_head]);
        s->ev_head = (s->ev_head + 1) % s->ev_cap;
        s->ev_len--;
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    *out = arr;
    return n;
}

uint64_t gw_session_events_dropped(struct gw_session *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t d = s->ev_dropped;
    pthread_mutex_unlock(&s->lock);
    return d;
}

void gw_handle_ref(struct gw_handle *h)
{
    atomic_fetch_add(&h->refs, 1);
}

void gw_handle_unref(struct gw_handle *h)
{
    if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    json_decref(h->trickles);
    gw_session_unref(h->session);
    free(h->opaque_id);
    free(h->token);
    free(h);
}

uint64_t gw_handle_id(const struct gw_handle *h)
{
    return h->id;
}

uint64_t gw_handle_session_id(const struct gw_handle *h)
{
    return h->session->id;
}

const char *gw_handle_opaque_id(const struct gw_handle *h)
{
    return h->opaque_id;
}

/* A random handle id not used in the session. */
static uint64_t new_handle_id(struct gw_session *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t id;
    bool taken;
    do {
        id = gw_random_id();
        taken = false;
        for (struct gw_handle *o = s->handles; o; o = o->next)
            taken = taken || o->id == id;
    } while (taken);
    pthread_mutex_unlock(&s->lock);
    return id;
}

int gw_handle_attach(struct gw_session *s, const struct gw_plugin_reg *reg, const char *opaque_id,
                     const char *token, struct gw_handle **out)
{
    struct gw_handle *h = xcalloc(1, sizeof *h);
    atomic_init(&h->refs, 1);
    gw_session_ref(s);
    h->session = s;
    h->reg = reg;
    h->opaque_id = opaque_id ? xstrdup(opaque_id) : NULL;
    h->token = token ? xstrdup(token) : NULL;
    h->created_us = vb_clock_mono(s->core->clock);
    h->trickles = json_array();
    h->id = new_handle_id(s);
    int err = reg->plugin->create_session(reg->ctx, &s->core->cb, h, &h->state);
    if (err < 0) {
        gw_handle_unref(h);
        return err;
    }
    pthread_mutex_lock(&s->lock);
    if (s->gone) {
        pthread_mutex_unlock(&s->lock);
        reg->plugin->destroy_session(reg->ctx, h, h->state);
        gw_handle_unref(h);
        return -ENOENT;
    }
    h->next = s->handles;
    s->handles = h;
    gw_handle_ref(h); /* the caller's */
    pthread_mutex_unlock(&s->lock);
    *out = h;
    return 0;
}

json_t *gw_session_handle_list(struct gw_session *s)
{
    json_t *ids = json_array();
    pthread_mutex_lock(&s->lock);
    for (struct gw_handle *h = s->handles; h; h = h->next)
        json_array_append_new(ids, json_integer((json_int_t)h->id));
    pthread_mutex_unlock(&s->lock);
    return ids;
}

struct gw_handle *gw_session_handle_find(struct gw_session *s, uint64_t id)
{
    pthread_mutex_lock(&s->lock);
    struct gw_handle *h = s->handles;
    while (h && h->id != id)
        h = h->next;
    if (h)
        gw_handle_ref(h);
    pthread_mutex_unlock(&s->lock);
    return h;
}

int gw_core_handle_get(struct gw_core *g, uint64_t session_id, uint64_t handle_id,
                       struct gw_handle **out)
{
    struct gw_session *s;
    if (gw_core_session_get(g, session_id, &s) < 0)
        return -ENOENT;
    struct gw_handle *h = gw_session_handle_find(s, handle_id);
    gw_session_unref(s);
    if (!h)
        return -ENOENT;
    *out = h;
    return 0;
}

int gw_handle_detach(struct gw_handle *h)
{
    struct gw_session *s = h->session;
    pthread_mutex_lock(&s->lock);
    if (h->detached) {
        pthread_mutex_unlock(&s->lock);
        return -ENOENT;
    }
    h->detached = true;
    for (struct gw_handle **pp = &s->handles; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    }
    bool now = h->hooks == 0;
    h->destroy_pending = !now;
    pthread_mutex_unlock(&s->lock);
    if (!now) { /* the core waits for it before it is freed */
        pthread_mutex_lock(&s->core->defer_lock);
        s->core->deferred++;
        pthread_mutex_unlock(&s->core->defer_lock);
    }
    const struct gw_media_ops *m = s->core->media_ops;
    if (m) /* the PeerConnection goes first: no media hook runs after this */
        m->detached(m->ctx, h);
    if (now) {
        h->reg->plugin->destroy_session(h->reg->ctx, h, h->state);
        gw_handle_unref(h); /* the list's */
    }
    return 0;
}

bool gw_handle_hook_enter(struct gw_handle *h)
{
    pthread_mutex_lock(&h->session->lock);
    bool ok = !h->detached;
    if (ok)
        h->hooks++;
    pthread_mutex_unlock(&h->session->lock);
    return ok;
}

void gw_handle_hook_leave(struct gw_handle *h)
{
    pthread_mutex_lock(&h->session->lock);
    bool destroy = --h->hooks == 0 && h->destroy_pending;
    if (destroy)
        h->destroy_pending = false;
    pthread_mutex_unlock(&h->session->lock);
    if (destroy) {
        struct gw_core *g = h->session->core;
        h->reg->plugin->destroy_session(h->reg->ctx, h, h->state);
        gw_handle_unref(h); /* the list's, kept by the deferred detach */
        pthread_mutex_lock(&g->defer_lock);
        if (--g->deferred == 0)
            pthread_cond_broadcast(&g->defer_cond);
        pthread_mutex_unlock(&g->defer_lock);
    }
}

int gw_handle_detach_notify(struct gw_handle *h)
{
    int err = gw_handle_detach(h);
    if (err < 0)
        return err;
    struct gw_session *s = h->session;
    gw_session_push(s, json_pack("{s:s, s:I, s:I}", "janus", "detached", "session_id",
                                 (json_int_t)s->id, "sender", (json_int_t)h->id));
    return 0;
}

void gw_handle_hangup(struct gw_handle *h, const char *reason)
{
    /* The media layer queues {"janus":"hangup",...,"reason":reason} when there was a
     * PeerConnection; without one Janus tells only the plugin, once. */
    const struct gw_media_ops *m = h->session->core->media_ops;
    if (m)
        m->hangup(m->ctx, h, reason);
    gw_handle_media_hangup(h);
}

void gw_handle_media_hangup(struct gw_handle *h)
{
    pthread_mutex_lock(&h->session->lock);
    bool tell = !h->alert && !h->detached;
    h->alert = true;
    pthread_mutex_unlock(&h->session->lock);
    const struct gw_plugin *p = h->reg->plugin;
    if (tell && p->hangup_media && gw_handle_hook_enter(h)) {
        p->hangup_media(h->reg->ctx, h, h->state);
        gw_handle_hook_leave(h);
    }
}

void gw_handle_trickle_push(struct gw_handle *h, json_t *item)
{
    pthread_mutex_lock(&h->session->lock);
    json_array_append_new(h->trickles, item);
    pthread_mutex_unlock(&h->session->lock);
}

json_t *gw_handle_trickles_take(struct gw_handle *h)
{
    json_t *fresh = json_array();
    pthread_mutex_lock(&h->session->lock);
    json_t *old = h->trickles;
    h->trickles = fresh;
    pthread_mutex_unlock(&h->session->lock);
    return old;
}

void gw_session_end(struct gw_session *s, json_t *final_event)
{
    struct gw_core *g = s->core;
    pthread_mutex_lock(&g->lock);
    bool removed = table_remove(g, s);
    pthread_mutex_unlock(&g->lock);
    if (!removed) {
        json_decref(final_event);
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->gone = true;
    pthread_mutex_unlock(&s->lock);
    for (;;) {
        pthread_mutex_lock(&s->lock);
        struct gw_handle *h = s->handles;
        if (h)
            gw_handle_ref(h);
        pthread_mutex_unlock(&s->lock);
        if (!h)
            break;
        gw_handle_detach(h);
        gw_handle_unref(h);
    }
    if (final_event)
        gw_session_push(s, final_event);
    pthread_mutex_lock(&s->lock);
    pthread_cond_broadcast(&s->cond);
    wake_waiters(s, true);
    pthread_mutex_unlock(&s->lock);
    gw_session_unref(s); /* the table's */
}

int gw_core_sweep(struct gw_core *g)
{
    int64_t now = vb_clock_mono(g->clock);
    struct gw_session **expired = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&g->lock);
    for (size_t b = 0; b < GW_BUCKETS; b++) {
        for (struct gw_session *s = g->buckets[b]; s; s = s->next) {
            pthread_mutex_lock(&s->lock);
            int64_t secs = s->timeout_s >= 0 ? s->timeout_s : g->timeout_s;
            /* 0 = never; so is a timeout too long to count in microseconds. */
            bool old = secs > 0 && secs < INT64_MAX / 1000000 &&
                       now - s->last_activity_us >= secs * 1000000;
            pthread_mutex_unlock(&s->lock);
            if (!old)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                expired = xrealloc(expired, cap * sizeof *expired);
            }
            gw_session_ref(s);
            expired[n++] = s;
        }
    }
    pthread_mutex_unlock(&g->lock);
    for (size_t i = 0; i < n; i++) {
        json_t *ev =
            json_pack("{s:s, s:I}", "janus", "timeout", "session_id", (json_int_t)expired[i]->id);
        gw_session_end(expired[i], ev);
        gw_session_unref(expired[i]);
    }
    free(expired);
    return (int)n;
}

void *gw_handle_media(const struct gw_handle *h)
{
    return atomic_load(&((struct gw_handle *)h)->media);
}

void gw_handle_set_media(struct gw_handle *h, void *media)
{
    atomic_store(&h->media, media);
}

const struct gw_plugin_reg *gw_handle_plugin(const struct gw_handle *h)
{
    return h->reg;
}

void *gw_handle_plugin_state(const struct gw_handle *h)
{
    return h->state;
}

void gw_handle_push(struct gw_handle *h, json_t *event)
{
    gw_session_push(h->session, event);
}
