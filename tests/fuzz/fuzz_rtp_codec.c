/* fuzz_rtp_codec: arbitrary bytes through the forwarding helpers of gateway/rtp/switch.h.
 * The whole input is a payload for every codec's keyframe test and for the VP8 descriptor
 * parser and rewriter; then it is cut into packets fed to a simulcast selector and a
 * continuity rewriter wired as the VideoRoom wires them.
 *
 * Input: byte 0 picks the codec, byte 1 the target substream and temporal layer; then records
 * of [substream, time step in ms, length, flags, seq (2 bytes), length bytes of payload];
 * flags pick a new target (bit 0) and a reset (bit 1); the ts follows the seq, so reordering
 * and jumps are explored. Checks: descriptor rewrites keep the layout and read back
 * the values written, and rewriting the old values restores the bytes; a rewrite of what fails
 * to parse changes nothing; simulcast answers 0 or 1, switches only on a forwarded packet,
 * reports layers in range, and only rewrites the VP8 descriptor's id fields; the continuity
 * rewriter accepts every forwarded packet or refuses it as stale, and touches only seq and ts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "gateway/rtp/switch.h"

#define MAX_PKT 1500

static void check_vp8(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        abort();
    memcpy(p, data, size);
    struct gw_vp8_desc d, e;
    int rc = gw_vp8_desc_parse(p, size, &d);
    if (rc != 0) {
        if (rc != -EINVAL || gw_vp8_desc_rewrite(p, size, 0x1234, 0x56) != -EINVAL ||
            memcmp(p, data, size) != 0)
            abort();
        free(p);
        return;
    }
    if (d.header_len == 0 || d.header_len >= size || (d.has_tid && d.tid > 3))
        abort();
    if (d.picid > (d.picid_16 ? 0x7fff : 0x7f) || (!d.has_picid && d.picid_16))
        abort();
    uint16_t want = (uint16_t)(size * 2654435761u);
    uint8_t want_tl0 = (uint8_t)(d.tl0picidx ^ 0xff);
    if (gw_vp8_desc_rewrite(p, size, want, want_tl0) != 0 || gw_vp8_desc_parse(p, size, &e) != 0)
        abort();
    if (e.header_len != d.header_len || e.has_picid != d.has_picid || e.picid_16 != d.picid_16 ||
        e.has_tl0picidx != d.has_tl0picidx || e.has_tid != d.has_tid || e.tid != d.tid ||
        e.layer_sync != d.layer_sync || e.start != d.start ||
        memcmp(p + d.header_len, data + d.header_len, size - d.header_len))
        abort();
    if (d.has_picid && e.picid != (want & (d.picid_16 ? 0x7fff : 0x7f)))
        abort();
    if (d.has_tl0picidx && e.tl0picidx != want_tl0)
        abort();
    if (gw_vp8_desc_rewrite(p, size, d.picid, d.tl0picidx) != 0 || memcmp(p, data, size) != 0)
        abort();
    free(p);
}

static void check_keyframes(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1); /* exact size: reads past it are caught */
    if (!p)
        abort();
    memcpy(p, data, size);
    for (int c = GW_VC_UNKNOWN; c <= GW_VC_H265; c++)
        if (gw_rtp_is_keyframe((enum gw_video_codec)c, p, size) && c == GW_VC_UNKNOWN)
            abort();
    free(p);
}

/* Builds an RTP packet of `ssrc` and `seq` around `payload`. */
static size_t build(uint8_t *out, uint32_t ssrc, uint16_t seq, const uint8_t *payload, size_t n)
{
    out[0] = 0x80;
    out[1] = 96;
    wr_u16(out + 2, seq);
    wr_u32(out + 4, (uint32_t)seq * 3000u);
    wr_u32(out + 8, ssrc);
    memcpy(out + 12, payload, n);
    return 12 + n;
}

/* The VP8 descriptor bytes a simulcast rewrite may change: the picture id and TL0PICIDX. */
static void check_only_ids(const uint8_t *before, const uint8_t *after, size_t len)
{
    struct gw_vp8_desc d;
    size_t hdr = 0;
    if (len > 12 && gw_vp8_desc_parse(before + 12, len - 12, &d) == 0)
        hdr = d.header_len;
    for (size_t i = 0; i < len; i++)
        if (before[i] != after[i] && (i < 12 + 2 || i >= 12 + hdr))
            abort();
}

static void run_stream(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    enum gw_video_codec codec = (enum gw_video_codec)(data[0] % (GW_VC_H265 + 1));
    struct gw_simulcast sc;
    struct gw_rtp_switch sw;
    gw_simulcast_init(&sc, codec);
    gw_rtp_switch_init(&sw, 90000);
    gw_simulcast_set_target(&sc, data[1] % 4 - 1, (data[1] >> 2) % 4 - 1);
    int64_t now = 0;
    size_t pos = 2;
    uint8_t *pkt = malloc(12 + 255), *copy = malloc(12 + 255);
    if (!pkt || !copy)
        abort();
    while (size - pos >= 6) {
        int sub = data[pos] % 4; /* 3: out of range */
        now += (int64_t)data[pos + 1] * 1000;
        size_t n = data[pos + 2];
        uint8_t flags = data[pos + 3];
        uint16_t seq = rd_u16(data + pos + 4);
        pos += 6;
        if (n > size - pos)
            n = size - pos;
        size_t len = build(pkt, 0x1000u + (uint32_t)sub, seq, data + pos, n);
        pos += n;
        if (flags & 1)
            gw_simulcast_set_target(&sc, flags >> 2 & 3, flags >> 4 & 3);
        if (flags & 2)
            gw_rtp_switch_reset(&sw);
        memcpy(copy, pkt, len);
        bool switched = true, pli = true;
        int fwd = gw_simulcast_process(&sc, sub, pkt, len, now, &switched, &pli);
        int cur = gw_simulcast_substream(&sc), tl = gw_simulcast_temporal(&sc);
        if ((fwd != 0 && fwd != 1) || (switched && !fwd) || cur < -1 || cur > 2 || tl < -1 ||
            tl > 2 || (fwd && cur != sub))
            abort();
        check_only_ids(copy, pkt, len);
        if (!fwd) {
            if (sub == cur)
                gw_rtp_switch_skip(&sw, pkt, len);
            continue;
        }
        if (switched)
            gw_rtp_switch_reset(&sw);
        memcpy(copy, pkt, len);
        int rc = gw_rtp_switch_apply(&sw, pkt, len, now);
        if (rc != 0 && rc != -ESTALE)
            abort();
        if (memcmp(copy, pkt, 2) != 0 || memcmp(copy + 8, pkt + 8, len - 8) != 0)
            abort();
        if (rc == -ESTALE && memcmp(copy, pkt, len) != 0)
            abort();
    }
    free(pkt);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_PKT * 8)
        return 0;
    check_keyframes(data, size);
    check_vp8(data, size);
    run_stream(data, size);
    return 0;
}
