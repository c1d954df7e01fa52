/* This file implements RTP header extensions (RFC 8285): walking the elements of the one-byte
 * and two-byte forms, finding, rewriting and removing an element in place, stripping the whole
 * block, the extmap URIs the gateway knows, and decoders of their values.
 *
 * DESIGN: nothing here moves bytes except gw_rtp_ext_strip. A value rewritten shorter, or an
 * element removed, leaves zero bytes behind, which both forms define as padding between
 * elements, so the block keeps its length and the payload never moves. */
#include "gateway/rtp/rtp.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

static const char *const ext_uris[] = {
    [GW_RTP_EXT_MID] = GW_RTP_EXT_URI_MID,
    [GW_RTP_EXT_RID] = GW_RTP_EXT_URI_RID,
    [GW_RTP_EXT_REPAIRED_RID] = GW_RTP_EXT_URI_REPAIRED_RID,
    [GW_RTP_EXT_AUDIO_LEVEL] = GW_RTP_EXT_URI_AUDIO_LEVEL,
    [GW_RTP_EXT_VIDEO_ORIENTATION] = GW_RTP_EXT_URI_VIDEO_ORIENTATION,
    [GW_RTP_EXT_ABS_SEND_TIME] = GW_RTP_EXT_URI_ABS_SEND_TIME,
    [GW_RTP_EXT_TRANSPORT_CC] = GW_RTP_EXT_URI_TRANSPORT_CC,
    [GW_RTP_EXT_PLAYOUT_DELAY] = GW_RTP_EXT_URI_PLAYOUT_DELAY,
};

#define N_KINDS (sizeof ext_uris / sizeof ext_uris[0])

enum gw_rtp_ext_kind gw_rtp_ext_kind_from_uri(const char *uri)
{
    if (!uri)
        return GW_RTP_EXT_UNKNOWN;
    for (size_t k = 1; k < N_KINDS; k++)
        if (strcmp(uri, ext_uris[k]) == 0)
            return (enum gw_rtp_ext_kind)k;
    return GW_RTP_EXT_UNKNOWN;
}

const char *gw_rtp_ext_kind_uri(enum gw_rtp_ext_kind kind)
{
    if ((size_t)kind >= N_KINDS)
        return NULL;
    return ext_uris[kind];
}

void gw_rtp_ext_iter_init(struct gw_rtp_ext_iter *it, const struct gw_rtp_hdr *h)
{
    bool one = h->ext_profile == GW_RTP_EXT_ONE_BYTE;
    bool two = (h->ext_profile & GW_RTP_EXT_TWO_BYTE_MASK) == GW_RTP_EXT_TWO_BYTE;
    it->two_byte = two;
    it->pos = h->ext_off + 4;
    it->end = h->ext_off + 4 + h->ext_len;
    if (!h->extension || (!one && !two))
        it->pos = it->end;
}

int gw_rtp_ext_iter_next(struct gw_rtp_ext_iter *it, const uint8_t *pkt, uint8_t *id, size_t *off,
                         size_t *len)
{
    while (it->pos < it->end) {
        uint8_t b = pkt[it->pos];
        size_t hdr, elen;
        if (!it->two_byte) {
            if ((b >> 4) == 0) { /* padding */
                it->pos++;
                continue;
            }
            if ((b >> 4) == 15) { /* reserved: the rest of the block is not for us */
                it->pos = it->end;
                return 0;
            }
            hdr = 1;
            elen = (b & 0x0f) + 1u;
        } else {
            if (b == 0) {
                it->pos++;
                continue;
            }
            if (it->end - it->pos < 2) {
                it->pos = it->end;
                return -EBADMSG;
            }
            hdr = 2;
            elen = pkt[it->pos + 1];
        }
        if (elen > it->end - it->pos - hdr) {
            it->pos = it->end;
            return -EBADMSG;
        }
        *id = it->two_byte ? b : (uint8_t)(b >> 4);
        *off = it->pos + hdr;
        *len = elen;
        it->pos += hdr + elen;
        return 1;
    }
    return 0;
}

int gw_rtp_ext_find(const uint8_t *pkt, const struct gw_rtp_hdr *h, uint8_t id, size_t *off,
                    size_t *len)
{
    if (id == 0)
        return -ENOENT;
    struct gw_rtp_ext_iter it;
    gw_rtp_ext_iter_init(&it, h);
    uint8_t eid;
    size_t eoff, elen;
    while (gw_rtp_ext_iter_next(&it, pkt, &eid, &eoff, &elen) > 0) {
        if (eid == id) {
            *off = eoff;
            *len = elen;
            return 0;
        }
    }
    return -ENOENT;
}

static bool is_two_byte(const struct gw_rtp_hdr *h)
{
    return (h->ext_profile & GW_RTP_EXT_TWO_BYTE_MASK) == GW_RTP_EXT_TWO_BYTE;
}

int gw_rtp_ext_set(uint8_t *pkt, const struct gw_rtp_hdr *h, uint8_t id, const uint8_t *val,
                   size_t len)
{
    size_t off, elen;
    if (gw_rtp_ext_find(pkt, h, id, &off, &elen) < 0)
        return -ENOENT;
    bool two = is_two_byte(h);
    if (len > elen || (!two && len == 0))
        return -EMSGSIZE;
    if (len)
        memmove(pkt + off, val, len);
    memset(pkt + off + len, 0, elen - len);
    if (two)
        pkt[off - 1] = (uint8_t)len;
    else
        pkt[off - 1] = (uint8_t)((id << 4) | (len - 1));
    return 0;
}

int gw_rtp_ext_remove(uint8_t *pkt, const struct gw_rtp_hdr *h, uint8_t id)
{
    size_t off, elen;
    if (gw_rtp_ext_find(pkt, h, id, &off, &elen) < 0)
        return -ENOENT;
    size_t hdr = is_two_byte(h) ? 2 : 1;
    memset(pkt + off - hdr, 0, hdr + elen);
    return 0;
}

int gw_rtp_ext_strip(uint8_t *pkt, size_t *len, struct gw_rtp_hdr *h)
{
    if (!h->extension)
        return -ENOENT;
    size_t removed = h->payload_off - h->ext_off;
    memmove(pkt + h->ext_off, pkt + h->payload_off, *len - h->payload_off);
    pkt[0] &= (uint8_t)~0x10;
    *len -= removed;
    h->payload_off = h->ext_off;
    h->extension = false;
    h->ext_profile = 0;
    h->ext_off = 0;
    h->ext_len = 0;
    return 0;
}

int gw_rtp_ext_audio_level(const uint8_t *d, size_t len, bool *vad, uint8_t *level)
{
    if (len < 1)
        return -EBADMSG;
    *vad = d[0] & 0x80;
    *level = d[0] & 0x7f;
    return 0;
}

int gw_rtp_ext_video_orientation(const uint8_t *d, size_t len, unsigned *rotation, bool *flip)
{
    if (len < 1)
        return -EBADMSG;
    *rotation = (d[0] & 0x03) * 90u;
    *flip = d[0] & 0x04;
    return 0;
}

int gw_rtp_ext_abs_send_time(const uint8_t *d, size_t len, uint32_t *raw, int64_t *us)
{
    if (len < 3)
        return -EBADMSG;
    *raw = ((uint32_t)d[0] << 16) | ((uint32_t)d[1] << 8) | d[2];
    *us = ((int64_t)*raw * 1000000) >> 18;
    return 0;
}

int gw_rtp_ext_transport_seq(const uint8_t *d, size_t len, uint16_t *seq)
{
    if (len < 2)
        return -EBADMSG;
    *seq = rd_u16(d);
    return 0;
}

int gw_rtp_ext_playout_delay(const uint8_t *d, size_t len, unsigned *min_ms, unsigned *max_ms)
{
    if (len < 3)
        return -EBADMSG;
    *min_ms = (((unsigned)d[0] << 4) | (d[1] >> 4)) * 10u;
    *max_ms = ((((unsigned)d[1] & 0x0f) << 8) | d[2]) * 10u;
    return 0;
}
