/* This file implements parked long polls: a GET on a session with nothing to return suspends
 * its libmicrohttpd connection (no thread waits for it) until an event is queued on the
 * session, the session ends, or the hold time passes.
 *
 * DESIGN: a parked poll is in two places at once — armed as a waiter on its session (woken by
 * gw_session_push under the session lock) and in this server's min-heap of deadlines (served
 * by one timer thread). Whichever comes first moves the poll's state PARKED -> RESUMED with a
 * compare-and-swap and resumes the connection; the loser does nothing. The timer thread does its
 * work under the heap lock, and the request handler unlinks a resumed poll under the same lock
 * before answering, so the timer never touches a poll that may be freed. Lock order: heap lock,
 * then session lock; the session's wake callback takes no lock of ours. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/http_internal.h"

/* PARKED -> RESUMED once; the winner resumes the connection. */
static bool poll_fire(struct http_poll *poll)
{
    int expect = POLL_PARKED;
    if (!atomic_compare_exchange_strong(&poll->state, &expect, POLL_RESUMED))
        return false;
    MHD_resume_connection(poll->conn);
    return true;
}

/* The session's wake callback (session lock held). */
static bool poll_wake(void *ctx)
{
    return poll_fire(ctx);
}

/* Heap helpers; called with the heap lock held. */
static void heap_set(struct http_park *p, size_t i, struct http_poll *poll)
{
    p->heap[i] = poll;
    poll->heap_ix = i;
}

static void heap_up(struct http_park *p, size_t i)
{
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (p->heap[up]->deadline_us <= p->heap[i]->deadline_us)
            break;
        struct http_poll *t = p->heap[up];
        heap_set(p, up, p->heap[i]);
        heap_set(p, i, t);
        i = up;
    }
}

static void heap_down(struct http_park *p, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->len && p->heap[l]->deadline_us < p->heap[m]->deadline_us)
            m = l;
        if (r < p->len && p->heap[r]->deadline_us < p->heap[m]->deadline_us)
            m = r;
        if (m == i)
            return;
        struct http_poll *t = p->heap[m];
        heap_set(p, m, p->heap[i]);
        heap_set(p, i, t);
        i = m;
    }
}

static void heap_remove(struct http_park *p, struct http_poll *poll)
{
    size_t i = poll->heap_ix;
    if (i == SIZE_MAX)
        return;
    poll->heap_ix = SIZE_MAX;
    p->len--;
    if (i == p->len)
        return;
    heap_set(p, i, p->heap[p->len]);
    heap_up(p, i);
    heap_down(p, p->heap[i]->heap_ix);
}

static void heap_push(struct http_park *p, struct http_poll *poll)
{
    if (p->len == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->heap = xrealloc(p->heap, p->cap * sizeof *p->heap);
    }
    heap_set(p, p->len++, poll);
    heap_up(p, poll->heap_ix);
}

/* Fires one poll taken off the heap (heap lock held). */
static void expire(struct http_poll *poll)
{
    gw_session_waiter_disarm(poll->s, &poll->waiter);
    poll_fire(poll);
}

static void *park_thread(void *arg)
{
    struct http_park *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        if (p->len == 0) {
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        struct http_poll *top = p->heap[0];
        int64_t now = vb_clock_mono_us();
        if (top->deadline_us <= now) {
            heap_remove(p, top);
            expire(top);
            continue;
        }
        struct timespec dl;
        vb_clock_deadline_us(&dl, top->deadline_us - now);
        pthread_cond_timedwait(&p->cond, &p->lock, &dl);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int http_park_start(struct http_park *p)
{
    p->inited = true;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    int err = pthread_create(&p->thread, NULL, park_thread, p);
    if (err)
        return -err;
    p->started = true;
    return 0;
}

void http_park_stop(struct http_park *p)
{
    if (!p->started)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    while (p->len > 0) {
        struct http_poll *poll = p->heap[0];
        heap_remove(p, poll);
        expire(poll);
    }
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    p->started = false;
}

void http_park_free(struct http_park *p)
{
    if (!p->inited)
        return;
    free(p->heap);
    p->heap = NULL;
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
}

size_t http_park_count(struct http_park *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->len;
    pthread_mutex_unlock(&p->lock);
    return n;
}

int http_poll_park(struct gw_http *h, struct http_poll *poll)
{
    struct http_park *p = &h->park;
    poll->waiter.wake = poll_wake;
    poll->waiter.ctx = poll;
    atomic_store(&poll->state, POLL_PARKED);
    MHD_suspend_connection(poll->conn);
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        poll_fire(poll); /* answered at once: the server is stopping */
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    bool first = p->len == 0 || poll->deadline_us < p->heap[0]->deadline_us;
    heap_push(p, poll);
    if (first)
        pthread_cond_signal(&p->cond);
    if (gw_session_waiter_arm(poll->s, &poll->waiter) < 0) {
        heap_remove(p, poll); /* events arrived meanwhile, or the session ended */
        poll_fire(poll);
    }
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void http_poll_unpark(struct gw_http *h, struct http_poll *poll)
{
    struct http_park *p = &h->park;
    pthread_mutex_lock(&p->lock);
    heap_remove(p, poll);
    gw_session_waiter_disarm(poll->s, &poll->waiter);
    pthread_mutex_unlock(&p->lock);
    atomic_store(&poll->state, POLL_IDLE);
}
