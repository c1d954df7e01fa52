/* This file implements the life of the asynchronous MJR writer engine: configuration,
 * writer threads and their libaio contexts, flush, counters and shutdown.
 *
 * DESIGN: the engine is a fixed set of writer threads (Redis's bio, shaped for recording).
 * Each stream is pinned at open to one writer, chosen round robin, which owns its file for
 * its whole life; so no file is ever touched by two threads. Control requests (new stream,
 * flush, stop) go through the writer's mutex and condition variable; producers never take
 * that lock when appending. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "mjr/engine_internal.h"

static void config_defaults(struct mjr_engine_config *c)
{
    if (c->writer_threads == 0)
        c->writer_threads = 1;
    if (c->memory_budget == 0)
        c->memory_budget = 256u * 1024 * 1024;
    if (c->flush_interval_ms == 0)
        c->flush_interval_ms = 1000;
    if (c->prealloc_chunk == 0)
        c->prealloc_chunk = 1024u * 1024;
    c->prealloc_chunk = (c->prealloc_chunk + MJR_BLOCK - 1) / MJR_BLOCK * MJR_BLOCK;
    if (c->queue_depth == 0)
        c->queue_depth = 2048;
}

static int writer_init(struct mjr_engine *e, struct mjr_writer *w, unsigned index)
{
    w->engine = e;
    w->index = index;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    w->events = xcalloc(e->cfg.queue_depth, sizeof(*w->events));
    w->batch = xcalloc(e->cfg.queue_depth, sizeof(*w->batch));
    w->completed = xcalloc(e->cfg.queue_depth, sizeof(*w->completed));
    if (!e->cfg.buffered) {
        int rc = io_setup((int)e->cfg.queue_depth, &w->aio);
        w->aio_ok = rc == 0;
        if (rc != 0)
            vb_log_warn(e->cfg.log, "io_setup(%u) failed: %s; writer %u uses buffered pwrite",
                        e->cfg.queue_depth, strerror(-rc), index);
    }
    int rc = pthread_create(&w->thread, NULL, mjr_writer_main, w);
    if (rc != 0) {
        if (w->aio_ok)
            io_destroy(w->aio);
        free(w->events);
        free(w->batch);
        free(w->completed);
        return -rc;
    }
    return 0;
}

static void writer_stop(struct mjr_writer *w)
{
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (w->aio_ok)
        io_destroy(w->aio);
    free(w->events);
    free(w->batch);
    free(w->completed);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
}

int mjr_engine_create(const struct mjr_engine_config *cfg, struct mjr_engine **out)
{
    struct mjr_engine *e = xcalloc(1, sizeof(*e));
    if (cfg)
        e->cfg = *cfg;
    config_defaults(&e->cfg);
    if (e->cfg.writer_threads > 64) {
        free(e);
        return -EINVAL;
    }
    int arc = mjr_arena_create(e->cfg.memory_budget, &e->arena);
    if (arc < 0)
        vb_log_warn(e->cfg.log, "no segment arena (%s): stream buffers come from the heap",
                    strerror(-arc));
    e->writers = xcalloc(e->cfg.writer_threads, sizeof(*e->writers));
    for (unsigned i = 0; i < e->cfg.writer_threads; i++) {
        int rc = writer_init(e, &e->writers[i], i);
        if (rc < 0) {
            while (i-- > 0)
                writer_stop(&e->writers[i]);
            free(e->writers);
            mjr_arena_destroy(e->arena);
            free(e);
            return rc;
        }
    }
    *out = e;
    return 0;
}

void mjr_engine_destroy(struct mjr_engine *e)
{
    if (!e)
        return;
    for (unsigned i = 0; i < e->cfg.writer_threads; i++)
        writer_stop(&e->writers[i]);
    free(e->writers);
    mjr_arena_destroy(e->arena);
    free(e);
}

void mjr_engine_flush(struct mjr_engine *e)
{
    for (unsigned i = 0; i < e->cfg.writer_threads; i++) {
        struct mjr_writer *w = &e->writers[i];
        pthread_mutex_lock(&w->lock);
        uint64_t want = ++w->flush_req;
        pthread_cond_broadcast(&w->cond);
        while (w->flush_ack < want && !w->stop)
            pthread_cond_wait(&w->cond, &w->lock);
        pthread_mutex_unlock(&w->lock);
    }
}

void mjr_engine_stats_get(const struct mjr_engine *e, struct mjr_engine_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->streams_open = atomic_load(&e->streams_open);
    st->bytes_buffered = atomic_load(&e->buffered);
    st->bytes_written = atomic_load(&e->bytes_written);
    st->writes = atomic_load(&e->writes);
    st->dropped = atomic_load(&e->dropped);
    st->failed_streams = atomic_load(&e->failed_streams);
    st->direct_io = !e->cfg.buffered && !atomic_load(&e->fallback_logged);
}
