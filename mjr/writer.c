/* This file implements an MJR writer thread: it owns the files of its streams and a libaio
 * context, turns what producers committed into aligned writes, reaps completions, gives
 * written segments back to their producers, and finishes streams that were closed.
 *
 * DESIGN: the writer polls. Producers never signal it (that would be a syscall on the media
 * thread); every MJR_TICK_US, or as soon as a write completes, it looks at each stream's
 * committed length. A stream has at most one write in flight, which keeps the on-disk
 * order trivially right (a partial tail block written on the flush timer is later rewritten
 * whole, never raced by an older write). Full blocks are written when a segment fills; the
 * partial tail block, copied zero-padded into a private block so that the producer can go on
 * filling it, is written when the flush timer fires or at close. Streams are independent: an
 * error fails only its own stream. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mjr/engine_internal.h"

static void stream_fail(struct mjr_stream *s, int err)
{
    if (s->wstate == MJR_W_FAILED)
        return;
    vb_log_error(s->engine->cfg.log, "recording %s failed: %s", s->tmp_path, strerror(-err));
    s->wstate = MJR_W_FAILED;
    s->flush_target = 0;
    atomic_store_explicit(&s->status, err, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->engine->failed_streams, 1, memory_order_relaxed);
}

/* Gives back every segment that lies wholly below s->done. */
static void release_segments(struct mjr_stream *s)
{
    uint64_t rel = atomic_load_explicit(&s->released, memory_order_relaxed);
    while ((rel + 1) * s->seg_size <= s->done) {
        uint8_t *mem = s->slots[rel % MJR_SEG_SLOTS];
        uint32_t head = atomic_load_explicit(&s->free_head, memory_order_relaxed);
        uint32_t tail = atomic_load_explicit(&s->free_tail, memory_order_acquire);
        if (head - tail < MJR_FREE_KEEP) {
            s->free_ring[head % MJR_SEG_SLOTS] = mem;
            atomic_store_explicit(&s->free_head, head + 1, memory_order_release);
        } else {
            mjr_seg_free(s->engine, mem, s->seg_size);
        }
        rel++;
        atomic_store_explicit(&s->released, rel, memory_order_release);
    }
}

static void write_done(struct mjr_stream *s, long res)
{
    struct mjr_engine *e = s->engine;
    s->inflight = false;
    if (res == -EINVAL && s->direct) {
        /* Alignment the device refuses: go on with buffered writes. */
        s->direct = false;
        if (!atomic_exchange(&e->fallback_logged, true))
            vb_log_warn(e->cfg.log, "O_DIRECT write refused for %s: using buffered pwrite",
                        s->tmp_path);
        return;
    }
    if (res < 0) {
        stream_fail(s, (int)res);
        return;
    }
    atomic_fetch_add_explicit(&e->bytes_written, (uint64_t)res, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->writes, 1, memory_order_relaxed);
    uint64_t progress;
    if (s->inflight_tail) {
        progress = (size_t)res >= s->io_len ? 1 : 0;
        if (progress)
            s->tail_written = s->io_off;
    } else {
        progress = (uint64_t)res / MJR_BLOCK * MJR_BLOCK;
        s->done += progress;
        release_segments(s);
    }
    if (progress) {
        s->stalls = 0;
    } else if (++s->stalls >= 3) {
        stream_fail(s, -EIO); /* the disk keeps accepting nothing */
    }
}

static void queue_write(struct mjr_writer *w, struct mjr_stream *s, const uint8_t *buf,
                        uint64_t off, size_t len)
{
    int rc = mjr_file_reserve(s, off + len);
    if (rc < 0) {
        stream_fail(s, rc);
        return;
    }
    long res = 0;
    s->io_len = len;
    s->inflight = true;
    rc = mjr_file_prepare_write(s, buf, off, len, &res);
    if (rc < 0) {
        s->inflight = false;
        stream_fail(s, rc);
    } else if (rc == 1) {
        write_done(s, res);
    } else {
        w->batch[w->batch_len++] = &s->iocb;
    }
}

/* Writes the partial block at s->done, zero-padded, covering bytes up to `c`. */
static void queue_tail(struct mjr_writer *w, struct mjr_stream *s, uint64_t c)
{
    size_t have = (size_t)(c - s->done);
    uint64_t k = s->done / s->seg_size;
    const uint8_t *src = s->slots[k % MJR_SEG_SLOTS] + s->done % s->seg_size;
    memcpy(s->tail_buf, src, have);
    memset(s->tail_buf + have, 0, MJR_BLOCK - have);
    s->inflight_tail = true;
    /* io_off records the committed length this tail write covers; the file offset is done. */
    s->io_off = c;
    queue_write(w, s, s->tail_buf, s->done, s->direct ? MJR_BLOCK : have);
}

enum step { STEP_IDLE, STEP_WROTE, STEP_FINISHED };

/* Decides the next write of one stream, if any, and queues it (or performs it, for buffered
 * files). A filled segment is written as soon as it is full; a flush (timer or request) or
 * a close writes everything up to its target, tail block included. Bytes committed after a
 * flush started wait for the next one, so a busy stream is not rewritten on every pass. */
static enum step stream_step(struct mjr_writer *w, struct mjr_stream *s, int64_t now)
{
    const struct mjr_engine_config *cfg = &s->engine->cfg;
    if (s->inflight)
        return STEP_IDLE;
    bool closing = s->force_close || atomic_load_explicit(&s->closing, memory_order_acquire);
    uint64_t c = atomic_load_explicit(&s->committed, memory_order_acquire);
    if (s->wstate != MJR_W_OPEN)
        return closing ? STEP_FINISHED : STEP_IDLE;
    uint64_t on_disk = s->tail_written > s->done ? s->tail_written : s->done;
    if (!s->flush_target && c > on_disk &&
        now - s->last_flush_us >= (int64_t)cfg->flush_interval_ms * 1000)
        s->flush_target = c;
    uint64_t target = closing ? c : s->flush_target;
    bool need = target > on_disk;
    uint64_t full_end = c / MJR_BLOCK * MJR_BLOCK;
    if (s->done < full_end) {
        uint64_t seg_end = (s->done / s->seg_size + 1) * s->seg_size;
        if (c >= seg_end || need) {
            uint64_t end = full_end < seg_end ? full_end : seg_end;
            uint64_t k = s->done / s->seg_size;
            s->inflight_tail = false;
            queue_write(w, s, s->slots[k % MJR_SEG_SLOTS] + s->done % s->seg_size, s->done,
                        (size_t)(end - s->done));
            return STEP_WROTE;
        }
    }
    if (need) {
        queue_tail(w, s, c);
        return STEP_WROTE;
    }
    if (s->flush_target) {
        s->flush_target = 0;
        s->last_flush_us = now;
        if (cfg->sync == MJR_SYNC_FLUSH)
            fdatasync(s->fd);
    }
    return closing ? STEP_FINISHED : STEP_IDLE;
}

static void stream_finish(struct mjr_stream *s)
{
    struct mjr_stream_result res = {0};
    mjr_file_finish(s, &res);
    res.frames = atomic_load_explicit(&s->frames, memory_order_relaxed);
    res.dropped = atomic_load_explicit(&s->dropped, memory_order_relaxed);
    if (res.status != 0 && atomic_load_explicit(&s->status, memory_order_relaxed) == 0)
        atomic_fetch_add_explicit(&s->engine->failed_streams, 1, memory_order_relaxed);
    if (s->on_closed)
        s->on_closed(s->ud, &res);
    atomic_fetch_sub_explicit(&s->engine->streams_open, 1, memory_order_relaxed);
    mjr_stream_free(s);
}

static void stream_start(struct mjr_stream *s, int64_t now)
{
    int rc = mjr_file_open(s);
    s->last_flush_us = now;
    if (rc < 0) {
        atomic_store_explicit(&s->status, rc, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->engine->failed_streams, 1, memory_order_relaxed);
        s->wstate = MJR_W_NEW; /* nothing on disk to keep */
        s->fd = -1;
        return;
    }
    s->wstate = MJR_W_OPEN;
}

/* Moves new streams in and notes control requests; returns false when the writer is done. */
static bool take_control(struct mjr_writer *w, bool *start_flush, bool *stopping)
{
    pthread_mutex_lock(&w->lock);
    while (w->incoming) {
        struct mjr_stream *s = w->incoming;
        w->incoming = s->next;
        s->next = w->streams;
        w->streams = s;
    }
    *start_flush = !w->flushing && w->flush_req != w->flush_ack;
    if (*start_flush) {
        w->flushing = true;
        w->flush_req_seen = w->flush_req;
    }
    bool stop = w->stop;
    pthread_mutex_unlock(&w->lock);
    *stopping = stop;
    if (stop)
        for (struct mjr_stream *s = w->streams; s; s = s->next)
            s->force_close = true;
    return !(stop && !w->streams && w->inflight == 0);
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
            write_done((struct mjr_stream *)w->batch[i]->data, r);
            i++;
        }
    }
    w->batch_len = 0;
}

/* Reaps completed writes, waiting up to `wait_us` for the first one. The streams that
 * completed are remembered so that the next iteration can go on with them at once. */
static void reap(struct mjr_writer *w, int64_t wait_us)
{
    struct timespec ts = {wait_us / 1000000, (wait_us % 1000000) * 1000};
    int n =
        io_getevents(w->aio, wait_us > 0 ? 1 : 0, (long)w->engine->cfg.queue_depth, w->events, &ts);
    if (n < 0)
        return; /* EINTR: the next pass reaps */
    for (int i = 0; i < n; i++) {
        struct mjr_stream *s = w->events[i].data;
        w->inflight--;
        write_done(s, (long)w->events[i].res);
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

/* Steps one stream, several times in a row while its writes complete synchronously
 * (buffered files). Returns the last step, and sets *progress if a write completed. */
static enum step stream_steps(struct mjr_writer *w, struct mjr_stream *s, int64_t now,
                              bool *progress)
{
    enum step st = STEP_IDLE;
    for (int i = 0; i < 8; i++) {
        /* Keep the batch within the queue depth; the rest waits for the next pass. */
        if (w->batch_len + w->inflight >= w->engine->cfg.queue_depth)
            break;
        st = stream_step(w, s, now);
        if (st != STEP_WROTE || s->inflight)
            break;
        *progress = true;
    }
    return st;
}

/* Goes on with the streams whose writes just completed (a busy stream often has its next
 * segment ready), without a pass over every stream. Finishing waits for the next pass. */
static bool run_completed(struct mjr_writer *w, int64_t now)
{
    bool progress = false;
    for (unsigned i = 0; i < w->completed_len; i++)
        stream_steps(w, w->completed[i], now, &progress);
    w->completed_len = 0;
    return progress;
}

/* One pass over the writer's streams. Returns true if a write completed synchronously
 * (buffered files), in which case the caller loops again without waiting. */
static bool run_streams(struct mjr_writer *w, bool start_flush, int64_t now)
{
    bool progress = false;
    w->completed_len = 0; /* this pass covers them, and may free finished ones */
    bool flush_pending = false;
    struct mjr_stream **link = &w->streams;
    while (*link) {
        struct mjr_stream *s = *link;
        if (s->wstate == MJR_W_NEW && atomic_load(&s->status) == 0)
            stream_start(s, now);
        if (start_flush && s->wstate == MJR_W_OPEN)
            s->flush_target = atomic_load_explicit(&s->committed, memory_order_acquire);
        if (stream_steps(w, s, now, &progress) == STEP_FINISHED) {
            *link = s->next;
            stream_finish(s);
            continue;
        }
        if (s->flush_target)
            flush_pending = true;
        link = &s->next;
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

/* The loop: a pass over every stream each MJR_TICK_US (new data, timers, closes); between
 * passes, completions drive the streams that are writing. */
void *mjr_writer_main(void *arg)
{
    struct mjr_writer *w = arg;
    char name[16];
    snprintf(name, sizeof(name), "mjr-writer-%u", w->index);
    pthread_setname_np(pthread_self(), name);
    int64_t next_pass = 0;
    for (;;) {
        bool start_flush = false, stopping = false;
        if (!take_control(w, &start_flush, &stopping))
            break;
        int64_t now = vb_clock_mono_us();
        bool progress;
        if (now >= next_pass || start_flush || w->flushing || stopping) {
            progress = run_streams(w, start_flush, now);
            next_pass = now + MJR_TICK_US;
        } else {
            progress = run_completed(w, now);
        }
        if (w->batch_len)
            submit_batch(w);
        int64_t wait_us = progress ? 0 : next_pass - vb_clock_mono_us();
        if (wait_us < 0)
            wait_us = 0;
        if (w->inflight)
            reap(w, wait_us);
        else if (wait_us > 0)
            idle_wait(w, wait_us);
    }
    return NULL;
}
