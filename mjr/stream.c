/* This file implements the producer side of the asynchronous MJR writer: opening a stream,
 * appending RTP and data frames, pause/resume, counters and close.
 *
 * DESIGN: an append is a copy into memory the producer already owns, followed by one release
 * store of the stream's `committed` length. Segments (aligned runs of MJR_BLOCK multiples)
 * are taken from the stream's free ring, which its writer refills as writes complete, so the
 * steady state makes no allocation, no syscall and takes no lock. Only when a stream grows
 * its working set is a new segment allocated, and only within the engine's memory budget:
 * past it the frame is dropped and counted, never waited for. Time comes from the vDSO
 * clock (or the engine's injected clock in tests). The JSON header is rendered at open with
 * a placeholder for the first frame's wall time, so the first append only prints a number
 * into it: the JSON encoder never runs on the media thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/engine_internal.h"

static const uint8_t v2_magic[MJR_MAGIC_LEN] = {'M', 'J', 'R', '0', '0', '0', '0', '2'};

uint8_t *mjr_seg_alloc(struct mjr_engine *e, size_t seg_size, bool force)
{
    uint64_t before = atomic_fetch_add_explicit(&e->buffered, seg_size, memory_order_relaxed);
    if (!force && before + seg_size > e->cfg.memory_budget) {
        atomic_fetch_sub_explicit(&e->buffered, seg_size, memory_order_relaxed);
        return NULL;
    }
    uint8_t *mem = mjr_arena_get(e->arena, (unsigned)__builtin_ctzl(seg_size));
    return mem ? mem : xaligned_alloc(MJR_BLOCK, seg_size);
}

void mjr_seg_free(struct mjr_engine *e, uint8_t *mem, size_t seg_size)
{
    if (!mem)
        return;
    if (mjr_arena_owns(e->arena, mem))
        mjr_arena_put(e->arena, mem, (unsigned)__builtin_ctzl(seg_size));
    else
        free(mem);
    atomic_fetch_sub_explicit(&e->buffered, seg_size, memory_order_relaxed);
}

/* Free segments kept per size: one chunk's worth, at least 8. A stream's working set is a
 * few segments, so this covers many streams growing at once between two writer passes. */
static size_t refill_target(unsigned shift)
{
    size_t per_chunk = MJR_ARENA_CHUNK >> shift;
    return per_chunk < 8 ? 8 : per_chunk;
}

void mjr_seg_refill(struct mjr_engine *e)
{
    uint32_t used = atomic_load_explicit(&e->shifts_used, memory_order_relaxed);
    for (unsigned i = 0; i < MJR_ARENA_CLASSES; i++)
        if (used & (1u << i)) {
            unsigned shift = MJR_ARENA_MIN_SHIFT + i;
            if (mjr_arena_free_count(e->arena, shift) < refill_target(shift) / 2)
                mjr_arena_refill(e->arena, shift, refill_target(shift));
        }
}

static void info_copy(struct mjr_info *dst, const struct mjr_info *src)
{
    *dst = *src;
    dst->codec = xstrdup(src->codec);
    dst->fmtp = src->fmtp ? xstrdup(src->fmtp) : NULL;
    dst->description = src->description ? xstrdup(src->description) : NULL;
    for (int i = 0; i < 16; i++)
        dst->extmaps[i] = src->extmaps[i] ? xstrdup(src->extmaps[i]) : NULL;
}

static void info_release(struct mjr_info *info)
{
    free((char *)info->codec);
    free((char *)info->fmtp);
    free((char *)info->description);
    for (int i = 0; i < 16; i++)
        free((char *)info->extmaps[i]);
}

void mjr_stream_free(struct mjr_stream *s)
{
    if (!s)
        return;
    struct mjr_engine *e = s->engine;
    uint64_t rel = atomic_load_explicit(&s->released, memory_order_acquire);
    for (uint64_t k = rel; k < s->segs_ready; k++)
        mjr_seg_free(e, s->slots[k % MJR_SEG_SLOTS], s->seg_size);
    uint32_t tail = atomic_load_explicit(&s->free_tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&s->free_head, memory_order_acquire);
    for (; tail != head; tail++)
        mjr_seg_free(e, s->free_ring[tail % MJR_SEG_SLOTS], s->seg_size);
    vb_sha256_discard(&s->hash);
    free(s->tail_buf);
    free(s->hdr_tmpl);
    info_release(&s->info);
    free(s->path);
    free(s->tmp_path);
    free(s);
}

/* Makes sure segments exist for every byte below `end`. Returns false (nothing changed
 * beyond segments kept for later) when the per-stream window or the budget is full. */
static bool reserve(struct mjr_stream *s, uint64_t end)
{
    uint64_t need = ((end - 1) >> s->seg_shift) + 1; /* end > 0: the magic is there */
    while (s->segs_ready < need) {
        uint64_t k = s->segs_ready;
        uint64_t rel = atomic_load_explicit(&s->released, memory_order_acquire);
        if (k - rel >= MJR_SEG_SLOTS)
            return false;
        uint8_t *mem = NULL;
        uint32_t tail = atomic_load_explicit(&s->free_tail, memory_order_relaxed);
        uint32_t head = atomic_load_explicit(&s->free_head, memory_order_acquire);
        if (tail != head) {
            mem = s->free_ring[tail % MJR_SEG_SLOTS];
            atomic_store_explicit(&s->free_tail, tail + 1, memory_order_release);
        } else {
            mem = mjr_seg_alloc(s->engine, s->seg_size, false);
            if (!mem)
                return false;
        }
        s->slots[k % MJR_SEG_SLOTS] = mem;
        s->segs_ready = k + 1;
    }
    return true;
}

/* Copies `n` bytes at the producer's position; the segments were reserved. */
static void put(struct mjr_stream *s, const void *src, size_t n)
{
    const uint8_t *p = src;
    size_t mask = ((size_t)1 << s->seg_shift) - 1;
    while (n > 0) {
        uint64_t k = s->pos >> s->seg_shift;
        if (k != s->cur_seg) {
            s->cur = s->slots[k % MJR_SEG_SLOTS];
            s->cur_seg = k;
        }
        size_t off = (size_t)(s->pos & mask);
        size_t chunk = mask + 1 - off;
        if (chunk > n)
            chunk = n;
        memcpy(s->cur + off, p, chunk);
        p += chunk;
        n -= chunk;
        s->pos += chunk;
    }
}

void mjr_stream_notify(struct mjr_stream *s)
{
    if (atomic_exchange(&s->queued, true))
        return; /* already on the stack: the writer will see the new state too */
    struct mjr_writer *w = s->writer;
    struct mjr_stream *head = atomic_load_explicit(&w->ready, memory_order_relaxed);
    do
        s->ready_next = head;
    while (!atomic_compare_exchange_weak_explicit(&w->ready, &head, s, memory_order_release,
                                                  memory_order_relaxed));
}

static void publish(struct mjr_stream *s)
{
    atomic_store_explicit(&s->committed, s->pos, memory_order_release);
    /* Moved into a new segment: the previous one is full and can be written. Once per
     * segment (every ~200 ms of video), so the push costs nothing per packet. */
    uint64_t seg = s->pos >> s->seg_shift;
    if (seg != s->notified_seg) {
        s->notified_seg = seg;
        mjr_stream_notify(s);
    }
    /* Only this thread writes the counter: a plain increment, no locked instruction. */
    atomic_store_explicit(&s->frames, atomic_load_explicit(&s->frames, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static int drop(struct mjr_stream *s, int err)
{
    atomic_store_explicit(&s->dropped, atomic_load_explicit(&s->dropped, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_fetch_add_explicit(&s->engine->dropped, 1, memory_order_relaxed);
    return err;
}

/* Common part of both appends: checks the stream, reserves room for a frame whose body is
 * `body_len` bytes, writes the header on the first frame and the frame prefix. Returns 0
 * (the caller then copies the body and publishes) or the error to return. */
static int begin_frame(struct mjr_stream *s, size_t body_len, int64_t now)
{
    int st = atomic_load_explicit(&s->status, memory_order_relaxed);
    if (st != 0)
        return drop(s, st);
    if (s->paused)
        return -EPIPE;
    if (body_len > MJR_FRAME_MAX)
        return drop(s, -EINVAL);
    size_t hdr_len = 0;
    char first_us[24];
    int first_len = 0;
    if (!s->header_done) {
        /* Once per stream: the header was rendered at open; only "u" is filled in here, so
         * the media thread never runs the JSON encoder nor allocates. */
        first_len = snprintf(first_us, sizeof(first_us), "%" PRId64, vb_clock_real(s->clock));
        hdr_len = s->hdr_u_at + (size_t)first_len + s->hdr_tail_len;
    }
    uint64_t end = s->pos + (hdr_len ? 2 + hdr_len : 0) + MJR_V2_FRAME_PREFIX + body_len;
    if (!reserve(s, end))
        return drop(s, -EAGAIN);
    if (hdr_len) {
        uint8_t len_be[2];
        wr_u16(len_be, (uint16_t)hdr_len); /* at most 0xffff: checked at open */
        put(s, len_be, 2);
        put(s, s->hdr_tmpl, s->hdr_u_at);
        put(s, first_us, (size_t)first_len);
        put(s, s->hdr_tmpl + s->hdr_tail_at, s->hdr_tail_len);
        s->header_done = true;
        s->first_mono_us = now;
    }
    int64_t elapsed = now > s->first_mono_us ? now - s->first_mono_us : 0;
    uint8_t prefix[MJR_V2_FRAME_PREFIX] = {'M', 'E', 'E', 'T'};
    wr_u32(prefix + 4, (uint32_t)(elapsed / 1000));
    wr_u16(prefix + 8, (uint16_t)body_len);
    put(s, prefix, sizeof(prefix));
    return 0;
}

int mjr_stream_write_rtp(struct mjr_stream *s, const uint8_t *pkt, size_t len)
{
    if (len < 12 || (pkt[0] >> 6) != 2)
        return drop(s, -EINVAL);
    int64_t now = vb_clock_mono(s->clock);
    int rc = begin_frame(s, len, now);
    if (rc != 0)
        return rc;
    if (s->raw) {
        put(s, pkt, len);
    } else {
        uint8_t head[8];
        uint16_t seq;
        uint32_t ts;
        mjr_rebase_apply(&s->rebase, rd_u32(pkt + 8), rd_u16(pkt + 2), rd_u32(pkt + 4), now, &seq,
                         &ts);
        head[0] = pkt[0];
        head[1] = pkt[1];
        wr_u16(head + 2, seq);
        wr_u32(head + 4, ts);
        put(s, head, sizeof(head));
        put(s, pkt + 8, len - 8);
    }
    publish(s);
    return 0;
}

int mjr_stream_write_data(struct mjr_stream *s, const uint8_t *msg, size_t len)
{
    if (len > MJR_FRAME_MAX - MJR_DATA_TIME_LEN)
        return drop(s, -EINVAL);
    int64_t now = vb_clock_mono(s->clock);
    int rc = begin_frame(s, len + MJR_DATA_TIME_LEN, now);
    if (rc != 0)
        return rc;
    uint8_t stamp[MJR_DATA_TIME_LEN];
    wr_u64(stamp, (uint64_t)vb_clock_real(s->clock));
    put(s, stamp, sizeof(stamp));
    put(s, msg, len);
    publish(s);
    return 0;
}

void mjr_stream_pause(struct mjr_stream *s)
{
    s->paused = true;
}

void mjr_stream_resume(struct mjr_stream *s)
{
    if (!s->paused)
        return;
    s->paused = false;
    mjr_rebase_resume(&s->rebase, vb_clock_mono(s->clock));
}

void mjr_stream_stats_get(const struct mjr_stream *s, struct mjr_stream_stats *st)
{
    st->frames = atomic_load_explicit(&s->frames, memory_order_relaxed);
    st->bytes = atomic_load_explicit(&s->committed, memory_order_relaxed);
    st->dropped = atomic_load_explicit(&s->dropped, memory_order_relaxed);
    st->status = atomic_load_explicit(&s->status, memory_order_relaxed);
}

void mjr_stream_close(struct mjr_stream *s)
{
    if (!s)
        return;
    /* Push first: once `closing` is set the writer may free the stream at any moment. */
    mjr_stream_notify(s);
    atomic_store_explicit(&s->closing, true, memory_order_release);
}

/* Gives a new stream its steady-state working set before its producer starts: the first
 * segment and one spare in the free ring (the writer is not running this stream yet, so the
 * ring may be filled from here). Both are touched now, on the control thread, so that the
 * producer's first copies take no page faults. The spare respects the budget. */
static void prefault_segments(struct mjr_stream *s)
{
    memset(s->slots[0], 0, s->seg_size);
    uint8_t *spare = mjr_seg_alloc(s->engine, s->seg_size, false);
    if (!spare)
        return;
    memset(spare, 0, s->seg_size);
    s->free_ring[0] = spare;
    atomic_store_explicit(&s->free_head, 1, memory_order_release);
}

/* Segment sizes are powers of two of at least a block, so that positions split into
 * segment and offset with a shift and a mask on the hot path. */
static unsigned segment_shift(enum mjr_kind kind, size_t asked)
{
    size_t want = asked ? asked : (kind == MJR_KIND_VIDEO ? MJR_SEG_VIDEO : MJR_SEG_AUDIO);
    unsigned shift = 12; /* MJR_BLOCK */
    while (((size_t)1 << shift) < want)
        shift++;
    return shift;
}

int mjr_stream_open(struct mjr_engine *e, const struct mjr_stream_opts *opts,
                    struct mjr_stream **out)
{
    const struct mjr_info *info = &opts->info;
    if (!e || !opts->path || !opts->path[0] || !info->codec || !info->codec[0])
        return -EINVAL;
    if (info->kind != MJR_KIND_AUDIO && info->kind != MJR_KIND_VIDEO && info->kind != MJR_KIND_DATA)
        return -EINVAL;
    if (opts->segment_size > 16u * 1024 * 1024)
        return -EINVAL;
    /* The header is rendered now, with a placeholder where the first frame's wall time
     * ("u") goes. Its length is a u16: refuse one that cannot fit whatever "u" becomes. */
    int64_t created = info->created_us ? info->created_us : vb_clock_real(e->cfg.clock);
    char *tmpl = mjr_header_render(info, created, INT64_MIN);
    /* Inside a JSON string a quote is escaped, so this can only match the "u" key itself. */
    static const char u_key[] = ", \"u\": ";
    static const char u_placeholder[] = "-9223372036854775808";
    char *u = strstr(tmpl, u_key);
    if (!u || strncmp(u + strlen(u_key), u_placeholder, strlen(u_placeholder)) != 0)
        abort(); /* mjr_header_render always writes "u" after "s" */
    size_t tmpl_len = strlen(tmpl);
    if (tmpl_len > 0xffff) {
        free(tmpl);
        return -EMSGSIZE;
    }
    if (tmpl_len >= MJR_PP_HEADER_LIMIT)
        vb_log_warn(e->cfg.log,
                    "%s: header of about %zu bytes; janus-pp-rec refuses headers of %d bytes "
                    "or more (verbatim reads them)",
                    opts->path, tmpl_len, MJR_PP_HEADER_LIMIT);
    struct mjr_stream *s = xaligned_alloc(64, sizeof(*s)); /* its field groups are aligned */
    memset(s, 0, sizeof(*s));
    s->engine = e;
    s->path = xstrdup(opts->path);
    size_t plen = strlen(opts->path);
    s->tmp_path = xmalloc(plen + 5);
    memcpy(s->tmp_path, opts->path, plen);
    memcpy(s->tmp_path + plen, ".tmp", 5);
    info_copy(&s->info, info);
    s->seg_shift = (uint8_t)segment_shift(info->kind, opts->segment_size);
    s->seg_size = (size_t)1 << s->seg_shift;
    s->raw = opts->raw;
    if (opts->sha256 && vb_sha256_init(&s->hash) == 0)
        s->hashing = true;
    s->on_closed = opts->on_closed;
    s->ud = opts->ud;
    s->clock = e->cfg.clock;
    s->created_us = created;
    s->hdr_tmpl = tmpl;
    s->hdr_u_at = (size_t)(u - tmpl) + strlen(u_key);
    s->hdr_tail_at = s->hdr_u_at + strlen(u_placeholder);
    s->hdr_tail_len = tmpl_len - s->hdr_tail_at;
    s->rebase.clock_rate = mjr_codec_clock_rate(info->codec);
    if (!s->rebase.clock_rate)
        s->rebase.clock_rate = info->kind == MJR_KIND_VIDEO ? 90000 : 48000;
    s->fd = -1;
    s->tail_buf = xaligned_alloc(MJR_BLOCK, MJR_BLOCK);
    if (e->arena && s->seg_shift <= MJR_ARENA_MAX_SHIFT) {
        /* The first stream of a size carves its chunk here, on the control thread. */
        atomic_fetch_or(&e->shifts_used, 1u << (s->seg_shift - MJR_ARENA_MIN_SHIFT));
        mjr_arena_refill(e->arena, s->seg_shift, 2);
    }

    /* The magic goes out at once, as Janus writes it at open: a stream that never gets a
     * packet still leaves an 8-byte file. The first segment ignores the budget. */
    s->slots[0] = mjr_seg_alloc(e, s->seg_size, true);
    s->segs_ready = 1;
    s->cur = s->slots[0];
    s->cur_seg = 0;
    prefault_segments(s);
    put(s, v2_magic, sizeof(v2_magic));
    atomic_store_explicit(&s->committed, s->pos, memory_order_release);

    unsigned w = atomic_fetch_add_explicit(&e->next_writer, 1, memory_order_relaxed);
    struct mjr_writer *wr = &e->writers[w % e->cfg.writer_threads];
    s->writer = wr;
    atomic_fetch_add_explicit(&e->streams_open, 1, memory_order_relaxed);
    pthread_mutex_lock(&wr->lock);
    s->next = wr->incoming;
    wr->incoming = s;
    pthread_cond_signal(&wr->cond);
    pthread_mutex_unlock(&wr->lock);
    *out = s;
    return 0;
}
