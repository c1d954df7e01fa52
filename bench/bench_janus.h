/* bench/bench_janus.h — the baseline recorder: what Janus's recorder does per frame (header
 * only, see bench_util.h for why).
 *
 * One FILE * (default stdio buffering) and one mutex per stream. The file is created with
 * fopen and gets the "MJR00002" magic at once; the JSON header (same text as ours, from
 * mjr_header_render) goes out with the first frame. For every frame, on the caller's (media)
 * thread: lock, rewrite seq/timestamp as Janus does (mjr_rebase_apply), fwrite the 10-byte
 * prefix "MEET" + u32 ms since the first frame + u16 length together with the rewritten RTP
 * header, fwrite the rest of the packet, unlock. No fsync; fclose at the end. The bytes are
 * the layout our engine writes, so the two can be compared per MiB. */
#ifndef VB_BENCH_JANUS_H
#define VB_BENCH_JANUS_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "mjr/mjr.h"

#define BENCH_JANUS_RTP_HEADER 12

/* One recording. Created and destroyed by one thread, written by any under its lock. */
struct bench_janus {
    pthread_mutex_t lock;
    FILE *fp;
    struct mjr_info info;
    int64_t created_us, first_mono_us;
    bool header_done;
    struct mjr_rebase rb;
    uint64_t frames, errors, bytes;
};

/* Creates `path` for a recording of `kind` with `codec` (a string literal: borrowed).
 * Returns 0 or -errno; on failure bench_janus_close() and bench_janus_fini() are still due. */
static inline int bench_janus_open(struct bench_janus *j, const char *path, enum mjr_kind kind,
                                   const char *codec)
{
    memset(j, 0, sizeof(*j));
    pthread_mutex_init(&j->lock, NULL);
    j->info.kind = kind;
    j->info.codec = codec;
    j->rb.clock_rate = mjr_codec_clock_rate(codec);
    j->created_us = vb_clock_real_us();
    j->fp = fopen(path, "wb");
    if (!j->fp)
        return -errno;
    if (fwrite("MJR00002", 1, MJR_MAGIC_LEN, j->fp) != MJR_MAGIC_LEN)
        return -EIO;
    j->bytes = MJR_MAGIC_LEN;
    return 0;
}

/* The JSON header, written with the first frame. Called with the lock held. */
static inline int bench_janus_header(struct bench_janus *j, int64_t now_mono_us)
{
    char *json = mjr_header_render(&j->info, j->created_us, vb_clock_real_us());
    size_t n = strlen(json);
    uint8_t len[2];
    wr_u16(len, (uint16_t)n);
    int rc = 0;
    if (fwrite(len, 1, 2, j->fp) != 2 || fwrite(json, 1, n, j->fp) != n)
        rc = -EIO;
    free(json);
    j->header_done = true;
    j->first_mono_us = now_mono_us;
    j->bytes += 2 + n;
    return rc;
}

/* Saves one RTP packet (12 <= len <= 65535, checked by the caller). Returns 0, -EIO when a
 * write failed (counted in errors), or -EBADF once closed. Any thread. */
static inline int bench_janus_write(struct bench_janus *j, const uint8_t *pkt, size_t len)
{
    uint8_t head[MJR_V2_FRAME_PREFIX + BENCH_JANUS_RTP_HEADER];
    const size_t rtp = BENCH_JANUS_RTP_HEADER;
    int rc = 0;
    pthread_mutex_lock(&j->lock);
    if (!j->fp) {
        pthread_mutex_unlock(&j->lock);
        return -EBADF;
    }
    int64_t now = vb_clock_mono_us();
    if (!j->header_done)
        rc = bench_janus_header(j, now);
    uint16_t seq;
    uint32_t ts;
    mjr_rebase_apply(&j->rb, rd_u32(pkt + 8), rd_u16(pkt + 2), rd_u32(pkt + 4), now, &seq, &ts);
    memcpy(head, "MEET", 4);
    wr_u32(head + 4, (uint32_t)((now - j->first_mono_us) / 1000));
    wr_u16(head + 8, (uint16_t)len);
    memcpy(head + MJR_V2_FRAME_PREFIX, pkt, rtp);
    wr_u16(head + MJR_V2_FRAME_PREFIX + 2, seq);
    wr_u32(head + MJR_V2_FRAME_PREFIX + 4, ts);
    if (rc == 0 && (fwrite(head, 1, sizeof(head), j->fp) != sizeof(head) ||
                    fwrite(pkt + rtp, 1, len - rtp, j->fp) != len - rtp))
        rc = -EIO;
    if (rc == 0) {
        j->frames++;
        j->bytes += MJR_V2_FRAME_PREFIX + len;
    } else {
        j->errors++;
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

/* fclose (which flushes the stdio buffer). Returns 0 or -errno. Any thread; idempotent. */
static inline int bench_janus_close(struct bench_janus *j)
{
    int rc = 0;
    pthread_mutex_lock(&j->lock);
    if (j->fp && fclose(j->fp) != 0)
        rc = -errno;
    j->fp = NULL;
    pthread_mutex_unlock(&j->lock);
    return rc;
}

/* Frees what open set up, after close. */
static inline void bench_janus_fini(struct bench_janus *j)
{
    pthread_mutex_destroy(&j->lock);
}

#endif
