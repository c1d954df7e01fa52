/* This file implements SSRC rewriting inside RTCP packets, in place, for forwarding feedback
 * between a publisher and its subscribers: the subscriber's report about the stream we sent it
 * becomes our report about the publisher's stream, and its PLI/FIR/NACK/REMB target the
 * publisher's SSRCs.
 *
 * DESIGN: the whole compound is validated first and only then written, so a malformed packet
 * is never half rewritten. SDES chunks are the one variable structure validation does not
 * cover; their walk stops quietly at the first chunk that does not fit. */
#include "gateway/rtp/rtcp.h"

#include <errno.h>

#include "common/bytes.h"

struct rewrite {
    uint8_t *buf;
    uint32_t sender;
    const struct gw_rtcp_ssrc_map *map;
    size_t n;
};

static void set_sender(const struct rewrite *rw, size_t at)
{
    if (rw->sender)
        wr_u32(rw->buf + at, rw->sender);
}

static void map_media(const struct rewrite *rw, size_t at)
{
    uint32_t v = rd_u32(rw->buf + at);
    for (size_t i = 0; i < rw->n; i++) {
        if (rw->map[i].from == v) {
            wr_u32(rw->buf + at, rw->map[i].to);
            return;
        }
    }
}

/* SDES: the first chunk is the sender's, later ones (contributors) are mapped. */
static void rewrite_sdes(const struct rewrite *rw, const struct gw_rtcp_block *b)
{
    const uint8_t *p = rw->buf + b->off;
    size_t end = b->len;
    if (p[0] & 0x20)
        end -= p[b->len - 1];
    size_t pos = 4;
    for (unsigned c = 0; c < b->count; c++) {
        if (pos > end || end - pos < 4)
            return;
        if (c == 0)
            set_sender(rw, b->off + pos);
        else
            map_media(rw, b->off + pos);
        pos += 4;
        while (pos < end && p[pos] != 0) { /* items up to the null item */
            if (end - pos < 2)
                return;
            pos += 2 + (size_t)p[pos + 1];
        }
        pos = (pos + 4) & ~(size_t)3; /* the null item, then padding to a word */
    }
}

static void rewrite_block(const struct rewrite *rw, const struct gw_rtcp_block *b)
{
    size_t o = b->off;
    switch (b->kind) {
    case GW_RTCP_KIND_SR:
    case GW_RTCP_KIND_RR:
        set_sender(rw, o + 4);
        for (unsigned i = 0; i < b->reports; i++)
            map_media(rw, o + (b->kind == GW_RTCP_KIND_SR ? 28 : 8) + (size_t)i * 24);
        return;
    case GW_RTCP_KIND_SDES:
        rewrite_sdes(rw, b);
        return;
    case GW_RTCP_KIND_BYE:
        for (unsigned i = 0; i < b->items; i++) {
            if (i == 0)
                set_sender(rw, o + 4);
            else
                map_media(rw, o + 4 + (size_t)i * 4);
        }
        return;
    case GW_RTCP_KIND_APP:
        set_sender(rw, o + 4);
        return;
    default:
        break;
    }
    if (b->type != GW_RTCP_RTPFB && b->type != GW_RTCP_PSFB)
        return; /* unknown packet types keep their bytes */
    set_sender(rw, o + 4);
    map_media(rw, o + 8);
    if (b->kind == GW_RTCP_KIND_FIR)
        for (unsigned i = 0; i < b->items; i++)
            map_media(rw, o + 12 + (size_t)i * 8);
    if (b->kind == GW_RTCP_KIND_REMB)
        for (unsigned i = 0; i < b->items; i++)
            map_media(rw, o + 20 + (size_t)i * 4);
}

int gw_rtcp_rewrite_ssrcs(uint8_t *buf, size_t len, uint32_t sender,
                          const struct gw_rtcp_ssrc_map *map, size_t n)
{
    if (gw_rtcp_validate(buf, len) < 0)
        return -EBADMSG;
    struct rewrite rw = {.buf = buf, .sender = sender, .map = map, .n = n};
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, buf, len);
    while (gw_rtcp_iter_next(&it, &b) > 0)
        rewrite_block(&rw, &b);
    return 0;
}
