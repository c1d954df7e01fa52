/* fuzz_rtp_ext: arbitrary bytes as an RTP packet through the gateway's header parser, the
 * header-extension walker and its in-place rewrites, the extension decoders, and RTX unwrap
 * and wrap. Checks: offsets stay inside the packet; find agrees with the walk; shrinking a
 * value, removing an element or stripping the block keeps the packet parseable with the same
 * payload; RTX unwrap then wrap gives back the RTX packet. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/rtp/rtp.h"

#define MAX_ELEMS 256

struct elems {
    int n;
    uint8_t id[MAX_ELEMS];
    size_t off[MAX_ELEMS], len[MAX_ELEMS];
};

static void walk(const uint8_t *p, size_t size, const struct gw_rtp_hdr *h, struct elems *e)
{
    struct gw_rtp_ext_iter it;
    gw_rtp_ext_iter_init(&it, h);
    e->n = 0;
    uint8_t id;
    size_t off, len;
    while (gw_rtp_ext_iter_next(&it, p, &id, &off, &len) > 0) {
        if (id == 0 || off < h->ext_off + 4 || off + len > h->ext_off + 4 + h->ext_len ||
            off + len > size || e->n == MAX_ELEMS)
            abort();
        e->id[e->n] = id;
        e->off[e->n] = off;
        e->len[e->n] = len;
        e->n++;
    }
}

static void decode_all(const uint8_t *d, size_t len)
{
    bool vad, flip;
    uint8_t level;
    unsigned rot, lo, hi;
    uint32_t raw;
    int64_t us;
    uint16_t seq;
    gw_rtp_ext_audio_level(d, len, &vad, &level);
    if (gw_rtp_ext_video_orientation(d, len, &rot, &flip) == 0 && rot > 270)
        abort();
    if (gw_rtp_ext_abs_send_time(d, len, &raw, &us) == 0 && (raw > 0xffffff || us >= 64000000))
        abort();
    gw_rtp_ext_transport_seq(d, len, &seq);
    gw_rtp_ext_playout_delay(d, len, &lo, &hi);
}

static void check_same_payload(const uint8_t *a, const struct gw_rtp_hdr *ha, const uint8_t *b,
                               const struct gw_rtp_hdr *hb)
{
    if (ha->payload_len != hb->payload_len || ha->pad_len != hb->pad_len ||
        memcmp(a + ha->payload_off, b + hb->payload_off, ha->payload_len) != 0)
        abort();
}

static void check_extensions(const uint8_t *data, size_t size, const struct gw_rtp_hdr *h)
{
    struct elems *e = malloc(sizeof *e), *e2 = malloc(sizeof *e2);
    uint8_t *p = malloc(size);
    if (!e || !e2 || !p)
        abort();
    walk(data, size, h, e);
    for (int i = 0; i < e->n; i++) {
        decode_all(data + e->off[i], e->len[i]);
        size_t off, len;
        if (gw_rtp_ext_find(data, h, e->id[i], &off, &len) != 0)
            abort();
        int first = 0; /* find returns the first element with that id */
        while (e->id[first] != e->id[i])
            first++;
        if (off != e->off[first] || len != e->len[first])
            abort();
    }
    /* shrink every element it can by one byte: same ids, same payload */
    memcpy(p, data, size);
    for (int i = 0; i < e->n; i++) {
        size_t off, len;
        gw_rtp_ext_find(p, h, e->id[i], &off, &len);
        if (len >= 2)
            if (gw_rtp_ext_set(p, h, e->id[i], p + off + 1, len - 1) != 0)
                abort();
    }
    struct gw_rtp_hdr h2;
    if (gw_rtp_parse(p, size, &h2) != 0)
        abort();
    check_same_payload(data, h, p, &h2);
    walk(p, size, &h2, e2);
    if (e2->n != e->n)
        abort();
    for (int i = 0; i < e->n; i++)
        if (e2->id[i] != e->id[i])
            abort();
    /* remove the first element: one fewer */
    if (e->n > 0) {
        if (gw_rtp_ext_remove(p, &h2, e->id[0]) != 0)
            abort();
        walk(p, size, &h2, e2);
        if (e2->n != e->n - 1)
            abort();
    }
    /* strip the block */
    size_t len = size;
    if (gw_rtp_ext_strip(p, &len, &h2) == 0) {
        struct gw_rtp_hdr h3;
        if (gw_rtp_parse(p, len, &h3) != 0 || h3.extension || len != size - 4 - h->ext_len)
            abort();
        check_same_payload(data, h, p, &h3);
    }
    free(p);
    free(e);
    free(e2);
}

static void check_rtx(const uint8_t *data, size_t size, const struct gw_rtp_hdr *h)
{
    uint8_t *p = malloc(size), *back = malloc(size);
    if (!p || !back)
        abort();
    memcpy(p, data, size);
    size_t len = size;
    struct gw_rtp_hdr hu = *h;
    int rc = gw_rtp_rtx_unwrap(p, &len, &hu, 0x42424242, 96);
    if (rc == 0) {
        struct gw_rtp_hdr hv;
        if (gw_rtp_parse(p, len, &hv) != 0 || hv.payload_len != h->payload_len - 2 ||
            hv.seq != hu.seq || hv.ssrc != 0x42424242 || hv.pt != 96)
            abort();
        int n = gw_rtp_rtx_wrap(p, len, back, size, h->ssrc, h->pt, h->seq);
        if (n != (int)size || memcmp(back, data, size) != 0)
            abort();
    } else if (rc != -ENODATA && rc != -EBADMSG) {
        abort();
    }
    free(p);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_rtp_hdr h;
    if (gw_rtp_parse(data, size, &h) != 0)
        return 0;
    if (h.payload_off + h.payload_len + h.pad_len != size || h.payload_off > size)
        abort();
    check_extensions(data, size, &h);
    check_rtx(data, size, &h);
    return 0;
}
