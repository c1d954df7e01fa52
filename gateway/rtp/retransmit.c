/* This file implements the send-side retransmission buffer: the last packets of an outgoing
 * stream copied into preallocated slots by sequence number, looked up when a NACK arrives,
 * resent at most once per interval per packet, optionally as RTX (RFC 4588).
 *
 * DESIGN: slot = seq modulo the (power of two) slot count, so a store is one copy and a lookup
 * one index; a newer packet simply overwrites the slot of the one `slots` numbers older. The
 * store (sending thread) and the lookup (the loop thread receiving NACKs) share one mutex held
 * for a single slot copy. The buffer, metadata and packet bytes are one allocation made at
 * creation. */
#include "gateway/rtp/rtp.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define DEFAULT_SLOTS 512
#define DEFAULT_MAX_PACKET 1500
#define DEFAULT_MAX_AGE_US 1000000
#define DEFAULT_MIN_RESEND_US 40000 /* Janus waits 40 ms before resending a packet again */

struct rtx_slot {
    int64_t stored_us;
    int64_t resent_us;
    size_t len;
    uint16_t seq;
    bool used;
    bool resent;
};

struct gw_rtx_buffer {
    pthread_mutex_t lock;
    unsigned slots;
    size_t max_packet;
    int64_t max_age_us;
    int64_t min_resend_us; /* < 0: no limit */
    bool rtx;
    uint8_t rtx_pt;
    uint16_t rtx_seq;
    uint32_t rtx_ssrc;
    struct gw_rtx_buffer_stats stats;
    uint8_t *data; /* slots * max_packet bytes, after meta[] */
    struct rtx_slot meta[];
};

int gw_rtx_buffer_create(const struct gw_rtx_buffer_config *cfg, struct gw_rtx_buffer **out)
{
    struct gw_rtx_buffer_config c = {0};
    if (cfg)
        c = *cfg;
    unsigned slots = c.slots ? c.slots : DEFAULT_SLOTS;
    size_t max_packet = c.max_packet ? c.max_packet : DEFAULT_MAX_PACKET;
    if (slots < 16 || slots > 32768 || (slots & (slots - 1)) != 0 ||
        max_packet < GW_RTP_HEADER_MIN || max_packet > 65535 || c.max_age_us < 0)
        return -EINVAL;
    size_t meta = sizeof(struct rtx_slot) * slots;
    struct gw_rtx_buffer *b = xcalloc(1, sizeof *b + meta + (size_t)slots * max_packet);
    pthread_mutex_init(&b->lock, NULL);
    b->slots = slots;
    b->max_packet = max_packet;
    b->max_age_us = c.max_age_us ? c.max_age_us : DEFAULT_MAX_AGE_US;
    b->min_resend_us = c.min_resend_us ? c.min_resend_us : DEFAULT_MIN_RESEND_US;
    b->data = (uint8_t *)b->meta + meta;
    *out = b;
    return 0;
}

void gw_rtx_buffer_destroy(struct gw_rtx_buffer *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

void gw_rtx_buffer_set_rtx(struct gw_rtx_buffer *b, bool enable, uint32_t ssrc, uint8_t pt,
                           uint16_t first_seq)
{
    pthread_mutex_lock(&b->lock);
    b->rtx = enable;
    b->rtx_ssrc = ssrc;
    b->rtx_pt = pt;
    b->rtx_seq = first_seq;
    pthread_mutex_unlock(&b->lock);
}

int gw_rtx_buffer_store(struct gw_rtx_buffer *b, const uint8_t *pkt, size_t len, int64_t now_us)
{
    struct gw_rtp_hdr h;
    if (gw_rtp_parse(pkt, len, &h) < 0)
        return -EBADMSG;
    if (len > b->max_packet)
        return -EMSGSIZE;
    unsigned i = h.seq & (b->slots - 1);
    pthread_mutex_lock(&b->lock);
    memcpy(b->data + (size_t)i * b->max_packet, pkt, len);
    b->meta[i] = (struct rtx_slot){.stored_us = now_us, .len = len, .seq = h.seq, .used = true};
    b->stats.stored++;
    pthread_mutex_unlock(&b->lock);
    return 0;
}

/* Under the lock: 0 when slot `s` holds `seq` and may be resent now, else the error. */
static int check_slot(struct gw_rtx_buffer *b, const struct rtx_slot *s, uint16_t seq,
                      int64_t now_us)
{
    if (!s->used || s->seq != seq || now_us - s->stored_us > b->max_age_us) {
        b->stats.missing++;
        return -ENOENT;
    }
    if (s->resent && b->min_resend_us >= 0 && now_us - s->resent_us < b->min_resend_us) {
        b->stats.limited++;
        return -EAGAIN;
    }
    return 0;
}

int gw_rtx_buffer_lookup(struct gw_rtx_buffer *b, uint16_t seq, int64_t now_us, uint8_t *out,
                         size_t cap)
{
    unsigned i = seq & (b->slots - 1);
    struct rtx_slot *s = &b->meta[i];
    const uint8_t *pkt = b->data + (size_t)i * b->max_packet;
    pthread_mutex_lock(&b->lock);
    int rc = check_slot(b, s, seq, now_us);
    if (rc < 0)
        goto out_unlock;
    if (cap < s->len + (b->rtx ? 2 : 0)) {
        rc = -ENOSPC;
        goto out_unlock;
    }
    if (b->rtx) {
        rc = gw_rtp_rtx_wrap(pkt, s->len, out, cap, b->rtx_ssrc, b->rtx_pt, b->rtx_seq);
        if (rc < 0)
            goto out_unlock;
        b->rtx_seq++;
    } else {
        memcpy(out, pkt, s->len);
        rc = (int)s->len;
    }
    s->resent = true;
    s->resent_us = now_us;
    b->stats.resent++;
out_unlock:
    pthread_mutex_unlock(&b->lock);
    return rc;
}

void gw_rtx_buffer_get_stats(struct gw_rtx_buffer *b, struct gw_rtx_buffer_stats *out)
{
    pthread_mutex_lock(&b->lock);
    *out = b->stats;
    pthread_mutex_unlock(&b->lock);
}
