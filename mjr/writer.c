/* This file implements what an MJR writer thread does to one stream: decide its next write
 * from what its producer committed, perform or queue it, take its completion, give written
 * segments back to the producer, and open and finish its file. The thread's loop is in
 * writer_loop.c.
 *
 * DESIGN: a stream has at most one write in flight, which keeps the on-disk
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
        if (s->hashing) { /* these bytes are on disk for good: hash them before reuse */
            vb_sha256_update(&s->hash, mem, s->seg_size);
            s->hashed = (rel + 1) * s->seg_size;
        }
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

void mjr_writer_write_done(struct mjr_stream *s, long res)
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
        mjr_writer_write_done(s, res);
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

/* Decides the next write of one stream, if any, and queues it (or performs it, for buffered
 * files). A filled segment is written as soon as it is full; a flush (timer or request) or
 * a close writes everything up to its target, tail block included. Bytes committed after a
 * flush started wait for the next one, so a busy stream is not rewritten on every pass. */
static enum mjr_step stream_step(struct mjr_writer *w, struct mjr_stream *s, int64_t now)
{
    const struct mjr_engine_config *cfg = &s->engine->cfg;
    if (s->inflight)
        return MJR_STEP_IDLE;
    bool closing = s->force_close || atomic_load_explicit(&s->closing, memory_order_acquire);
    uint64_t c = atomic_load_explicit(&s->committed, memory_order_acquire);
    if (s->wstate != MJR_W_OPEN)
        return closing ? MJR_STEP_FINISHED : MJR_STEP_IDLE;
    uint64_t on_disk = s->tail_written > s->done ? s->tail_written : s->done;
    /* Passes come every w->pass_us: start the flush one pass early, so that no committed
     * byte waits longer than the flush interval to be written. */
    if (!s->flush_target && c > on_disk &&
        now - s->last_flush_us >= (int64_t)cfg->flush_interval_ms * 1000 - w->pass_us)
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
            return MJR_STEP_WROTE;
        }
    }
    if (need) {
        queue_tail(w, s, c);
        return MJR_STEP_WROTE;
    }
    if (s->flush_target) {
        s->flush_target = 0;
        s->last_flush_us = now;
        if (cfg->sync == MJR_SYNC_FLUSH)
            fdatasync(s->fd);
    }
    return closing ? MJR_STEP_FINISHED : MJR_STEP_IDLE;
}

void mjr_writer_finish(struct mjr_stream *s)
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

void mjr_writer_start(struct mjr_stream *s, int64_t now)
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

/* Steps one stream, several times in a row while its writes complete synchronously
 * (buffered files). Returns the last step, and sets *progress if a write completed. */
enum mjr_step mjr_writer_step(struct mjr_writer *w, struct mjr_stream *s, int64_t now,
                              bool *progress)
{
    enum mjr_step st = MJR_STEP_IDLE;
    for (int i = 0; i < 8; i++) {
        /* Keep the batch within the queue depth; the rest waits for the next pass. */
        if (w->batch_len + w->inflight >= w->engine->cfg.queue_depth)
            break;
        st = stream_step(w, s, now);
        if (st != MJR_STEP_WROTE || s->inflight)
            break;
        *progress = true;
    }
    return st;
}
