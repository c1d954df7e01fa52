/* This file implements the loop of an MJR writer thread: taking new streams and control
 * requests, finding the streams that have work, submitting and reaping writes.
 *
 * DESIGN: the writer must learn about new data without the producer making a syscall, and
 * without touching every stream every few milliseconds (with thousands of streams, each
 * look is a cache miss on a line the producer owns: that alone cost a tenth of a core).
 * So work arrives three ways:
 * - ready stack: when a producer moves into a new segment (the previous one is full and can
 *   be written) or closes its stream, it pushes the stream onto its writer's lock-free stack
 *   (one compare-and-swap per segment, a `queued` flag keeps a stream on it at most once).
 *   The writer takes the whole stack every MJR_TICK_US.
 * - completions: a stream whose write just completed is stepped again at once (it often has
 *   its next segment ready).
 * - passes: every quarter of the flush interval (at most MJR_PASS_MAX_US), and continuously
 *   while a flush request or shutdown is in progress, every stream is looked at: this is
 *   where partial tail blocks get written on the timer (a pass early, so that a crash loses
 *   at most one flush interval).
 * A stream is freed only when it is on no stack: its producer pushes before it sets
 * `closing` and never touches the stream afterwards, so once the writer has seen `closing`
 * and cleared `queued`, nothing can refer to the stream any more. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "mjr/engine_internal.h"

#define MJR_PASS_MAX_US 250000

static void list_add(struct mjr_writer *w, struct mjr_stream *s)
{
    s->prev = NULL;
    s->next = w->streams;
    if (w->streams)
        w->streams->prev = s;
    w->streams = s;
}

static void list_remove(struct mjr_writer *w, struct mjr_stream *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        w->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
}

/* Finishes a stream that has nothing left to write, unless a push of its producer is still
 * pending on the ready stack (then the stack's turn finishes it). */
static void finish_if_unreferenced(struct mjr_writer *w, struct mjr_stream *s)
{
    if (atomic_load(&s->queued))
        return;
    list_remove(w, s);
    mjr_writer_finish(s);
}

/* Moves new streams in (opening their files) and notes control requests; returns false
 * when the writer is done. */
static bool take_control(struct mjr_writer *w, bool *start_flush, bool *stopping, int64_t now)
{
    pthread_mutex_lock(&w->lock);
    struct mjr_stream *in = w->incoming;
    w->incoming = NULL;
    *start_flush = !w->flushing && w->flush_req != w->flush_ack;
    if (*start_flush) {
        w->flushing = true;
        w->flush_req_seen = w->flush_req;
    }
    bool stop = w->stop;
    pthread_mutex_unlock(&w->lock);
    while (in) {
        struct mjr_stream *s = in;
        in = s->next;
        list_add(w, s);
        s->listed = true;
        mjr_writer_start(s, now);
    }
    *stopping = stop;
    if (stop)
        for (struct mjr_stream *s = w->streams; s; s = s->next)
            s->force_close = true;
    return !(stop && !w->streams && w->inflight == 0);
}

/* Takes the whole ready stack; each stream's `queued` is cleared before it is looked at, so
 * that a push made meanwhile is not lost. With `step` false the streams are only unmarked
 * (a full pass follows). */
static bool run_ready(struct mjr_writer *w, int64_t now, bool step)
{
    bool progress = false;
    struct mjr_stream *s = atomic_exchange(&w->ready, NULL);
    while (s) {
        struct mjr_stream *next = s->ready_next;
        atomic_store(&s->queued, false);
        /* A stream opened after this iteration took the incoming list is not the writer's
         * yet (no file): the next iteration takes it in, and a full pass steps it. */
        if (step && s->listed && mjr_writer_step(w, s, now, &progress) == MJR_STEP_FINISHED)
            finish_if_unreferenced(w, s);
        s = next;
    }
    return progress;
}

/* Goes on with the streams whose writes just completed. */
static bool run_completed(struct mjr_writer *w, int64_t now)
{
    bool progress = false;
    for (unsigned i = 0; i < w->completed_len; i++) {
        struct mjr_stream *s = w->completed[i];
        if (mjr_writer_step(w, s, now, &progress) == MJR_STEP_FINISHED)
            finish_if_unreferenced(w, s);
    }
    w->completed_len = 0;
    return progress;
}

/* One pass over every stream. Returns true if a write completed synchronously (buffered
 * files), in which case the caller loops again without waiting. */
static bool run_pass(struct mjr_writer *w, bool start_flush, int64_t now)
{
    bool progress = run_completed(w, now);
    run_ready(w, now, false);
    bool flush_pending = false;
    struct mjr_stream *s = w->streams;
    while (s) {
        struct mjr_stream *next = s->next;
        if (start_flush && s->wstate == MJR_W_OPEN)
            s->flush_target = atomic_load_explicit(&s->committed, memory_order_acquire);
        if (mjr_writer_step(w, s, now, &progress) == MJR_STEP_FINISHED)
            finish_if_unreferenced(w, s);
        else if (s->flush_target)
            flush_pending = true;
        s = next;
    }
    if (w->flushing && !flush_pending) {
        pthread_mutex_lock(&w->lock);
        w->flush_ack = w->flush_req_seen;
        w->flushing = false;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
    }
    return progress;
}

static void submit_batch(struct mjr_writer *w)
{
    unsigned i = 0;
    while (i < w->batch_len) {
        int r = io_submit(w->aio, (long)(w->batch_len - i), w->batch + i);
        if (r > 0) {
            w->inflight += (unsigned)r;
            i += (unsigned)r;
        } else if (r == 0 || r == -EAGAIN) {
            for (; i < w->batch_len; i++)
                ((struct mjr_stream *)w->batch[i]->data)->inflight = false;
        } else {
            mjr_writer_write_done((struct mjr_stream *)w->batch[i]->data, r);
            i++;
        }
    }
    w->batch_len = 0;
}

/* Reaps completed writes, waiting up to `wait_us` for the first one. The streams that
 * completed are remembered so that the next iteration goes on with them at once. */
static void reap(struct mjr_writer *w, int64_t wait_us)
{
    struct timespec ts = {wait_us / 1000000, (wait_us % 1000000) * 1000};
    long max = (long)w->engine->cfg.queue_depth;
    int n = io_getevents(w->aio, wait_us > 0 ? 1 : 0, max, w->events, &ts);
    if (n < 0)
        return; /* EINTR: the next iteration reaps */
    for (int i = 0; i < n; i++) {
        struct mjr_stream *s = w->events[i].data;
        w->inflight--;
        mjr_writer_write_done(s, (long)w->events[i].res);
        w->completed[w->completed_len++] = s;
    }
}

static void idle_wait(struct mjr_writer *w, int64_t wait_us)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_us / 1000000;
    until.tv_nsec += (wait_us % 1000000) * 1000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    if (!w->incoming && !w->stop && w->flush_req == w->flush_ack)
        pthread_cond_timedwait(&w->cond, &w->lock, &until);
    pthread_mutex_unlock(&w->lock);
}

void *mjr_writer_main(void *arg)
{
    struct mjr_writer *w = arg;
    char name[16];
    snprintf(name, sizeof(name), "mjr-writer-%u", w->index);
    pthread_setname_np(pthread_self(), name);
    int64_t period = (int64_t)w->engine->cfg.flush_interval_ms * 1000 / 4;
    if (period > MJR_PASS_MAX_US)
        period = MJR_PASS_MAX_US;
    if (period < MJR_TICK_US)
        period = MJR_TICK_US;
    w->pass_us = period;
    int64_t next_pass = 0;
    for (;;) {
        bool start_flush = false, stopping = false;
        int64_t now = vb_clock_mono_us();
        if (!take_control(w, &start_flush, &stopping, now))
            break;
        bool progress;
        if (now >= next_pass || start_flush || w->flushing || stopping) {
            progress = run_pass(w, start_flush, now);
            next_pass = now + period;
            mjr_seg_refill(w->engine);
        } else {
            progress = run_completed(w, now);
            progress |= run_ready(w, now, true);
        }
        if (w->batch_len)
            submit_batch(w);
        int64_t wait_us = next_pass - vb_clock_mono_us();
        if (wait_us > MJR_TICK_US)
            wait_us = MJR_TICK_US;
        if (progress || wait_us < 0)
            wait_us = 0;
        if (w->inflight)
            reap(w, wait_us);
        else if (wait_us > 0)
            idle_wait(w, wait_us);
    }
    return NULL;
}
