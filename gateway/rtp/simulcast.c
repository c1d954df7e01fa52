/* This file implements simulcast selection for one subscriber stream: which of a publisher's
 * substreams (up to three encodings of one source, RFC 8853) and which VP8 temporal layers
 * (RFC 7741) are forwarded, and the rewriting of VP8 picture ids and TL0PICIDX that keeps them
 * continuous for the subscriber's decoder when the substream changes.
 *
 * DESIGN: a decoder can only start on a keyframe, so the forwarded substream changes only on
 * the first packet of a keyframe of the substream wanted; until that packet arrives the caller
 * is asked (at a bounded rate) to request one from the publisher. "Wanted" is the subscriber's
 * target while the publisher sends it, else the nearest substream it does send (browsers stop
 * sending their upper encodings when bandwidth is short; waiting for them would freeze the
 * subscriber). A substream that sent nothing for 250 ms is considered stopped. Temporal layers
 * go down at any frame start (frames of higher layers are never referenced by lower ones) but
 * up only at a frame marked layer sync (it references only the base layer, which was forwarded)
 * or at a keyframe. */
#include "gateway/rtp/switch.h"

#include <errno.h>
#include <string.h>

#include "gateway/rtp/rtp.h"

/* A switching packet older than this many packets no longer tells older packets apart. */
#define START_SPAN 0x4000

void gw_simulcast_init(struct gw_simulcast *sc, enum gw_video_codec codec)
{
    memset(sc, 0, sizeof *sc);
    sc->codec = codec;
    sc->target_sub = GW_SIMULCAST_SUBSTREAMS - 1;
    sc->target_temporal = GW_SIMULCAST_LAYERS - 1;
    sc->sub = -1;
    sc->temporal = -1;
}

void gw_simulcast_set_target(struct gw_simulcast *sc, int substream, int temporal)
{
    if (substream >= 0)
        sc->target_sub =
            substream < GW_SIMULCAST_SUBSTREAMS ? substream : GW_SIMULCAST_SUBSTREAMS - 1;
    if (temporal >= 0)
        sc->target_temporal = temporal < GW_SIMULCAST_LAYERS ? temporal : GW_SIMULCAST_LAYERS - 1;
}

int gw_simulcast_set_ssrc(struct gw_simulcast *sc, int substream, uint32_t ssrc)
{
    if (substream < 0 || substream >= GW_SIMULCAST_SUBSTREAMS)
        return -EINVAL;
    sc->ssrc[substream] = ssrc;
    sc->has_ssrc[substream] = true;
    return 0;
}

int gw_simulcast_set_rid(struct gw_simulcast *sc, int substream, const char *rid)
{
    if (substream < 0 || substream >= GW_SIMULCAST_SUBSTREAMS || !rid)
        return -EINVAL;
    size_t n = strlen(rid);
    if (n > GW_SIMULCAST_RID_MAX)
        return -EINVAL;
    memcpy(sc->rid[substream], rid, n + 1);
    sc->has_ssrc[substream] = false;
    return 0;
}

int gw_simulcast_resolve(struct gw_simulcast *sc, uint32_t ssrc, const uint8_t *rid, size_t rid_len)
{
    for (int i = 0; i < GW_SIMULCAST_SUBSTREAMS; i++)
        if (sc->has_ssrc[i] && sc->ssrc[i] == ssrc)
            return i;
    if (!rid || rid_len == 0 || rid_len > GW_SIMULCAST_RID_MAX)
        return -ENOENT;
    for (int i = 0; i < GW_SIMULCAST_SUBSTREAMS; i++) {
        if (strlen(sc->rid[i]) == rid_len && memcmp(sc->rid[i], rid, rid_len) == 0) {
            sc->ssrc[i] = ssrc;
            sc->has_ssrc[i] = true;
            return i;
        }
    }
    return -ENOENT;
}

int gw_simulcast_substream(const struct gw_simulcast *sc)
{
    return sc->sub;
}

int gw_simulcast_temporal(const struct gw_simulcast *sc)
{
    return sc->temporal;
}

int gw_simulcast_target_substream(const struct gw_simulcast *sc)
{
    return sc->target_sub;
}

int gw_simulcast_target_temporal(const struct gw_simulcast *sc)
{
    return sc->target_temporal;
}

static bool alive(const struct gw_simulcast *sc, int i, int64_t now_us)
{
    return i >= 0 && sc->seen[i] && now_us - sc->last_us[i] <= GW_SIMULCAST_STALE_US;
}

/* The target if it is being sent, else the nearest sent substream below, else above; -1 when
 * nothing is sent. */
static int effective_target(const struct gw_simulcast *sc, int64_t now_us)
{
    for (int i = sc->target_sub; i >= 0; i--)
        if (alive(sc, i, now_us))
            return i;
    for (int i = sc->target_sub + 1; i < GW_SIMULCAST_SUBSTREAMS; i++)
        if (alive(sc, i, now_us))
            return i;
    return -1;
}

/* True when picture id a (in the space of `mask`) comes after b. */
static bool picid_newer(uint16_t a, uint16_t b, uint16_t mask)
{
    uint16_t d = (uint16_t)((a - b) & mask);
    return d != 0 && d <= mask / 2;
}

/* Offsets that continue the VP8 numbering sent so far with the switching packet's. */
static void vp8_continue(struct gw_simulcast *sc, const uint8_t *payload, size_t len)
{
    struct gw_vp8_desc d;
    sc->picid_off = 0;
    sc->tl0_off = 0;
    if (gw_vp8_desc_parse(payload, len, &d) != 0)
        return;
    uint16_t mask = d.picid_16 ? 0x7fff : 0x7f;
    if (d.has_picid && sc->vp8_has_picid)
        sc->picid_off = (uint16_t)((sc->last_picid + 1 - d.picid) & mask);
    if (d.has_tl0picidx && sc->vp8_has_tl0)
        sc->tl0_off = (uint8_t)(sc->last_tl0 + 1 - d.tl0picidx);
}

/* Rewrites a forwarded packet's picture id and TL0PICIDX with the offsets, and remembers the
 * newest values sent. */
static void vp8_rewrite(struct gw_simulcast *sc, uint8_t *payload, size_t len)
{
    struct gw_vp8_desc d;
    if (gw_vp8_desc_parse(payload, len, &d) != 0)
        return;
    uint16_t mask = d.picid_16 ? 0x7fff : 0x7f;
    uint16_t picid = (uint16_t)((d.picid + sc->picid_off) & mask);
    uint8_t tl0 = (uint8_t)(d.tl0picidx + sc->tl0_off);
    gw_vp8_desc_rewrite(payload, len, picid, tl0);
    if (d.has_picid && (!sc->vp8_has_picid || picid_newer(picid, sc->last_picid, mask))) {
        sc->last_picid = picid;
        sc->vp8_has_picid = true;
    }
    if (d.has_tl0picidx && (!sc->vp8_has_tl0 || (int8_t)(uint8_t)(tl0 - sc->last_tl0) > 0)) {
        sc->last_tl0 = tl0;
        sc->vp8_has_tl0 = true;
    }
}

/* Makes substream `s` the forwarded one from its packet `seq` (a keyframe) on. */
static void switch_to(struct gw_simulcast *sc, int s, uint16_t seq, const uint8_t *payload,
                      size_t len)
{
    sc->sub = s;
    sc->temporal = sc->target_temporal;
    sc->start_seq = seq;
    sc->start_young = true;
    if (sc->codec == GW_VC_VP8)
        vp8_continue(sc, payload, len);
}

/* True when packet `seq` of the current substream precedes its switching packet. */
static bool before_start(struct gw_simulcast *sc, uint16_t seq)
{
    if (!sc->start_young)
        return false;
    uint16_t d = (uint16_t)(seq - sc->start_seq);
    if (d >= 0x8000)
        return true;
    if (d >= START_SPAN)
        sc->start_young = false;
    return false;
}

/* The temporal filter for a VP8 packet of the current substream: moves the current layer at
 * frame starts, and says whether the packet is forwarded. */
static bool vp8_temporal_pass(struct gw_simulcast *sc, const uint8_t *payload, size_t len,
                              bool keyframe)
{
    struct gw_vp8_desc d;
    if (gw_vp8_desc_parse(payload, len, &d) != 0 || !d.has_tid) {
        sc->temporal = sc->target_temporal;
        return true;
    }
    if (d.start) {
        if (keyframe || sc->target_temporal < sc->temporal)
            sc->temporal = sc->target_temporal;
        else if (d.tid > sc->temporal && d.tid <= sc->target_temporal && d.layer_sync)
            sc->temporal = d.tid;
    }
    return keyframe || d.tid <= sc->temporal; /* a keyframe depends on nothing */
}

/* Sets *need_keyframe when a switch is pending, at most once per GW_SIMULCAST_PLI_US. */
static void ask_keyframe(struct gw_simulcast *sc, int64_t now_us, bool *need_keyframe)
{
    if (sc->sub == effective_target(sc, now_us))
        return;
    if (sc->pli_sent && now_us - sc->last_pli_us < GW_SIMULCAST_PLI_US)
        return;
    sc->pli_sent = true;
    sc->last_pli_us = now_us;
    *need_keyframe = true;
}

int gw_simulcast_process(struct gw_simulcast *sc, int substream, uint8_t *pkt, size_t len,
                         int64_t now_us, bool *switched, bool *need_keyframe)
{
    struct gw_rtp_hdr h;
    *switched = false;
    *need_keyframe = false;
    if (substream < 0 || substream >= GW_SIMULCAST_SUBSTREAMS || gw_rtp_parse(pkt, len, &h) != 0)
        return 0;
    sc->seen[substream] = true;
    sc->last_us[substream] = now_us;
    uint8_t *payload = pkt + h.payload_off;
    /* Without knowledge of the payload every packet is a possible switching point. */
    bool key = sc->codec == GW_VC_UNKNOWN || gw_rtp_is_keyframe(sc->codec, payload, h.payload_len);
    if (key && substream != sc->sub &&
        (substream == effective_target(sc, now_us) || !alive(sc, sc->sub, now_us))) {
        switch_to(sc, substream, h.seq, payload, h.payload_len);
        *switched = true;
    }
    ask_keyframe(sc, now_us, need_keyframe);
    if (substream != sc->sub || before_start(sc, h.seq))
        return 0;
    if (sc->codec != GW_VC_VP8) {
        sc->temporal = sc->target_temporal;
        return 1;
    }
    if (!vp8_temporal_pass(sc, payload, h.payload_len, key))
        return 0;
    vp8_rewrite(sc, payload, h.payload_len);
    return 1;
}
