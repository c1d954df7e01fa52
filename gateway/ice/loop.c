/* This file implements the media loops: a fixed pool of threads, each iterating its own GLib
 * main context, with a FIFO of work queued from other threads and one-shot timers.
 *
 * DESIGN. The queue is ours rather than g_main_context_invoke's, so that the order of queued
 * work is guaranteed, one custom GSource per loop serves every item (no source per call), and
 * stopping can drain it: ice_loops_destroy queues a "quit" item and marks the loop as
 * stopping (from then on other threads cannot queue); the quit runs on the loop itself (a
 * g_main_loop_quit made before g_main_loop_run starts would be lost), and the thread, still
 * owning its context, then runs what is left, including the work those items queue
 * themselves (an agent's teardown queues its final free). A timer is a GSource with a ready time;
 * rescheduling moves the ready time, so timers cost no allocation after creation. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "gateway/ice/ice_internal.h"

struct work {
    struct work *next;
    ice_loop_fn fn;
    void *arg;
};

struct queue_source {
    GSource base;
    struct ice_loop *loop;
};

struct ice_loop {
    struct ice_loops *owner;
    unsigned index;
    GMainContext *ctx;
    GMainLoop *main;
    GSource *queue_src;
    pthread_t thread;
    bool started;
    _Atomic int load;
    pthread_mutex_t lock; /* guards the queue and `stopping` */
    struct work *head, *tail;
    _Atomic int pending; /* items in the queue, read without the lock by the GSource */
    bool stopping;
};

struct ice_loops {
    unsigned count;
    const struct vb_log *log;
    struct ice_loop *loops;
};

struct ice_timer {
    GSource base;
    struct ice_loop *loop;
    ice_timer_fn fn;
    void *arg;
};

/* Takes the whole queue (under the lock) and runs it in order. */
static void run_queue(struct ice_loop *loop)
{
    pthread_mutex_lock(&loop->lock);
    struct work *w = loop->head;
    loop->head = loop->tail = NULL;
    atomic_store(&loop->pending, 0);
    pthread_mutex_unlock(&loop->lock);
    while (w) {
        struct work *next = w->next;
        w->fn(w->arg);
        free(w);
        w = next;
    }
}

static gboolean queue_prepare(GSource *src, gint *timeout)
{
    struct queue_source *qs = (struct queue_source *)src;
    *timeout = -1;
    return atomic_load(&qs->loop->pending) > 0;
}

static gboolean queue_check(GSource *src)
{
    struct queue_source *qs = (struct queue_source *)src;
    return atomic_load(&qs->loop->pending) > 0;
}

static gboolean queue_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)cb;
    (void)data;
    run_queue(((struct queue_source *)src)->loop);
    return G_SOURCE_CONTINUE;
}

static const GSourceFuncs queue_funcs = {
    .prepare = queue_prepare,
    .check = queue_check,
    .dispatch = queue_dispatch,
};

static void *loop_thread(void *arg)
{
    struct ice_loop *loop = arg;
    char name[16];
    snprintf(name, sizeof name, "vb-loop-%u", loop->index);
    pthread_setname_np(pthread_self(), name);
    g_main_context_push_thread_default(loop->ctx);
    g_main_loop_run(loop->main);
    /* Stopping: nobody else can queue now, but what is queued (and what it queues) runs. */
    g_main_context_acquire(loop->ctx);
    while (atomic_load(&loop->pending) > 0)
        run_queue(loop);
    g_main_context_release(loop->ctx);
    g_main_context_pop_thread_default(loop->ctx);
    return NULL;
}

static int loop_start(struct ice_loops *loops, unsigned index)
{
    struct ice_loop *loop = &loops->loops[index];
    loop->owner = loops;
    loop->index = index;
    pthread_mutex_init(&loop->lock, NULL);
    loop->ctx = g_main_context_new();
    loop->main = g_main_loop_new(loop->ctx, FALSE);
    loop->queue_src = g_source_new((GSourceFuncs *)&queue_funcs, sizeof(struct queue_source));
    ((struct queue_source *)loop->queue_src)->loop = loop;
    g_source_set_priority(loop->queue_src, G_PRIORITY_DEFAULT);
    g_source_attach(loop->queue_src, loop->ctx);
    int rc = pthread_create(&loop->thread, NULL, loop_thread, loop);
    if (rc != 0)
        return -rc;
    loop->started = true;
    return 0;
}

static void enqueue_locked(struct ice_loop *loop, ice_loop_fn fn, void *arg)
{
    struct work *w = xmalloc(sizeof *w);
    w->next = NULL;
    w->fn = fn;
    w->arg = arg;
    if (loop->tail)
        loop->tail->next = w;
    else
        loop->head = w;
    loop->tail = w;
    atomic_fetch_add(&loop->pending, 1);
}

static void quit_fn(void *arg)
{
    g_main_loop_quit(((struct ice_loop *)arg)->main);
}

static void loop_stop(struct ice_loop *loop)
{
    if (loop->started) {
        /* Quitting from inside the loop: a quit before g_main_loop_run starts would be lost. */
        pthread_mutex_lock(&loop->lock);
        enqueue_locked(loop, quit_fn, loop);
        loop->stopping = true;
        pthread_mutex_unlock(&loop->lock);
        g_main_context_wakeup(loop->ctx);
        pthread_join(loop->thread, NULL);
    }
    if (loop->queue_src) {
        g_source_destroy(loop->queue_src);
        g_source_unref(loop->queue_src);
    }
    if (loop->main)
        g_main_loop_unref(loop->main);
    if (loop->ctx)
        g_main_context_unref(loop->ctx);
    pthread_mutex_destroy(&loop->lock);
}

int ice_loops_create(unsigned count, const struct vb_log *log, struct ice_loops **out)
{
    if (count == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        count = n > 0 ? (unsigned)n : 1;
        if (count > ICE_LOOPS_MAX)
            count = ICE_LOOPS_MAX;
    }
    if (count > ICE_LOOPS_MAX || !out)
        return -EINVAL;
    struct ice_loops *loops = xcalloc(1, sizeof *loops);
    loops->log = log;
    loops->loops = xcalloc(count, sizeof *loops->loops);
    for (unsigned i = 0; i < count; i++) {
        int rc = loop_start(loops, i);
        loops->count = i + 1;
        if (rc < 0) {
            vb_log_error(log, "ice: cannot start media loop %u: error %d", i, rc);
            ice_loops_destroy(loops);
            return -EAGAIN;
        }
    }
    vb_log_info(log, "ice: %u media loop(s) started", count);
    *out = loops;
    return 0;
}

void ice_loops_destroy(struct ice_loops *loops)
{
    if (!loops)
        return;
    for (unsigned i = 0; i < loops->count; i++)
        loop_stop(&loops->loops[i]);
    free(loops->loops);
    free(loops);
}

unsigned ice_loops_count(const struct ice_loops *loops)
{
    return loops->count;
}

struct ice_loop *ice_loops_get(struct ice_loops *loops, unsigned index)
{
    return index < loops->count ? &loops->loops[index] : NULL;
}

struct ice_loop *ice_loops_pick(struct ice_loops *loops)
{
    struct ice_loop *best = &loops->loops[0];
    int best_load = atomic_load(&best->load);
    for (unsigned i = 1; i < loops->count; i++) {
        int load = atomic_load(&loops->loops[i].load);
        if (load < best_load) {
            best = &loops->loops[i];
            best_load = load;
        }
    }
    atomic_fetch_add(&best->load, 1);
    return best;
}

void ice_loop_release(struct ice_loop *loop)
{
    atomic_fetch_sub(&loop->load, 1);
}

unsigned ice_loop_index(const struct ice_loop *loop)
{
    return loop->index;
}

int ice_loop_load(const struct ice_loop *loop)
{
    return atomic_load(&loop->load);
}

json_t *ice_loops_info(const struct ice_loops *loops)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < loops->count; i++)
        json_array_append_new(arr, json_pack("{s:I,s:i}", "id", (json_int_t)i, "handles",
                                             ice_loop_load(&loops->loops[i])));
    return json_pack("{s:o}", "loops", arr);
}

GMainContext *ice_loop_context(struct ice_loop *loop)
{
    return loop->ctx;
}

const struct vb_log *ice_loop_log(const struct ice_loop *loop)
{
    return loop->owner->log;
}

bool ice_loop_is_current(const struct ice_loop *loop)
{
    return g_main_context_is_owner(loop->ctx);
}

int ice_loop_post(struct ice_loop *loop, ice_loop_fn fn, void *arg)
{
    bool current = ice_loop_is_current(loop);
    pthread_mutex_lock(&loop->lock);
    if (loop->stopping && !current) {
        pthread_mutex_unlock(&loop->lock);
        return -ECANCELED;
    }
    enqueue_locked(loop, fn, arg);
    pthread_mutex_unlock(&loop->lock);
    if (!current)
        g_main_context_wakeup(loop->ctx);
    return 0;
}

int ice_loop_invoke(struct ice_loop *loop, ice_loop_fn fn, void *arg)
{
    if (ice_loop_is_current(loop)) {
        fn(arg);
        return 0;
    }
    return ice_loop_post(loop, fn, arg);
}

static gboolean timer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)cb;
    (void)data;
    struct ice_timer *t = (struct ice_timer *)src;
    g_source_set_ready_time(src, -1);
    t->fn(t, t->arg);
    return G_SOURCE_CONTINUE;
}

static const GSourceFuncs timer_funcs = {
    .dispatch = timer_dispatch,
};

int ice_loop_timer_add(struct ice_loop *loop, unsigned ms, ice_timer_fn fn, void *arg,
                       struct ice_timer **out)
{
    pthread_mutex_lock(&loop->lock);
    bool stopping = loop->stopping;
    pthread_mutex_unlock(&loop->lock);
    if (stopping && !ice_loop_is_current(loop))
        return -ECANCELED;
    GSource *src = g_source_new((GSourceFuncs *)&timer_funcs, sizeof(struct ice_timer));
    struct ice_timer *t = (struct ice_timer *)src;
    t->loop = loop;
    t->fn = fn;
    t->arg = arg;
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    ice_timer_reschedule(t, ms);
    g_source_attach(src, loop->ctx);
    *out = t;
    return 0;
}

void ice_timer_reschedule(struct ice_timer *t, unsigned ms)
{
    g_source_set_ready_time(&t->base, g_get_monotonic_time() + (gint64)ms * 1000);
}

void ice_timer_cancel(struct ice_timer *t)
{
    g_source_set_ready_time(&t->base, -1);
}

bool ice_timer_pending(const struct ice_timer *t)
{
    return g_source_get_ready_time((GSource *)&t->base) >= 0;
}

void ice_timer_free(struct ice_timer *t)
{
    if (!t)
        return;
    g_source_destroy(&t->base);
    g_source_unref(&t->base);
}
