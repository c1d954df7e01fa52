/* This file implements the libFuzzer target for the depacketizers (transcode/depay.h).
 *
 * Input layout: the first byte picks the codec; the rest is a list of packets, each a flags
 * byte, a 16-bit big-endian payload length and the payload (cut short at the end of the
 * input). Flags: bit 0 the RTP marker, bits 1-2 the sequence number step minus one (a step
 * over one is a loss), bit 3 "new timestamp" (the packet starts a new frame). Packets that
 * share a timestamp are given to frame() together, over one state for the whole input, and
 * extradata() is asked after every frame; each payload is copied to a buffer of its exact
 * size so that a read past it is caught. Results are checked against the interface's
 * contract (return values, frame info), not against any codec's bitstream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/xalloc.h"
#include "transcode/depay.h"

#define FUZZ_OUT_MAX (1u << 20) /* bytes of one access unit */
#define FUZZ_EXTRA_MAX (1u << 16)
#define FUZZ_FRAME_PKTS 64 /* packets per frame; more start a new frame */

#define FLAG_MARKER 0x01u
#define FLAG_NEW_TS 0x08u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads what `b` holds so that a length past its allocation would be caught. */
static unsigned consume(const struct vb_buf *b)
{
    unsigned sum = 0;
    for (size_t i = 0; i < b->len; i++)
        sum += b->p[i];
    return sum;
}

/* Runs one frame of `n` packets and extradata(); aborts on a broken contract. */
static unsigned run_frame(struct tc_depay *d, const struct tc_rtp *pkts, size_t n,
                          struct vb_buf *out, struct vb_buf *extra)
{
    struct tc_frame_info fi;
    memset(&fi, 0, sizeof(fi));
    out->len = 0;
    int rc = d->ops->frame(d->state, pkts, n, out, &fi);
    if (rc != 0 && rc != -EBADMSG && rc != -E2BIG)
        abort();
    if (fi.width < 0 || fi.height < 0 || out->len > out->max)
        abort();
    unsigned sum = consume(out);
    if (d->ops->extradata) {
        extra->len = 0;
        rc = d->ops->extradata(d->state, extra);
        if (rc != 0 && rc != -E2BIG)
            abort();
        sum += consume(extra);
    }
    return sum;
}

static void free_payloads(struct tc_rtp *pkts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)pkts[i].payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const codecs[] = {"vp8", "vp9", "h264", "h265", "av1", "opus", "pcmu"};
    if (size < 1)
        return 0;
    const struct tc_depay_ops *ops = tc_depay_find(codecs[data[0] % 7]);
    if (!ops)
        abort();
    struct tc_depay *d = tc_depay_new(ops);
    struct vb_buf out, extra;
    vb_buf_init(&out, FUZZ_OUT_MAX);
    vb_buf_init(&extra, FUZZ_EXTRA_MAX);
    struct tc_rtp pkts[FUZZ_FRAME_PKTS];
    size_t n = 0, pos = 1;
    uint64_t seq = 1000;
    int64_t ts = 90000;
    volatile unsigned sink = 0;
    while (size - pos >= 3) {
        unsigned flags = data[pos];
        size_t len = rd_u16(data + pos + 1);
        pos += 3;
        if (len > size - pos)
            len = size - pos;
        seq += 1 + ((flags >> 1) & 3u);
        if ((flags & FLAG_NEW_TS) || n == FUZZ_FRAME_PKTS) {
            if (n > 0)
                sink += run_frame(d, pkts, n, &out, &extra);
            free_payloads(pkts, n);
            n = 0;
            ts += 3000;
        }
        if (len == 0) /* the interface promises non-empty payloads */
            continue;
        uint8_t *copy = xmalloc(len);
        memcpy(copy, data + pos, len);
        pos += len;
        pkts[n++] = (struct tc_rtp){
            .payload = copy, .len = len, .seq = seq, .ts = ts, .marker = flags & FLAG_MARKER};
    }
    if (n > 0)
        sink += run_frame(d, pkts, n, &out, &extra);
    free_payloads(pkts, n);
    (void)sink;
    vb_buf_free(&out);
    vb_buf_free(&extra);
    tc_depay_free(d);
    return 0;
}
