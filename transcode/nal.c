/* This file implements the NAL-unit helpers shared by the H.264 and H.265 depacketizers (see
 * nal.h).
 *
 * DESIGN: a fragmented NAL unit is rebuilt in place at the end of the output buffer rather
 * than in a scratch buffer: a start fragment writes the start code and the rebuilt header,
 * later fragments append, and a broken run is undone by setting the buffer's length back to
 * where the run began. Nothing after that point can be another NAL unit, because the
 * depacketizers abort an open run before they output anything that is not a fragment. */
#include "transcode/nal.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

static const uint8_t nal_start_code[4] = {0, 0, 0, 1};

int tc_nal_ps_set(struct tc_nal_ps *ps, const uint8_t *nal, size_t len)
{
    if (len == 0 || len > sizeof(ps->data))
        return -E2BIG;
    memcpy(ps->data, nal, len);
    ps->len = len;
    return 0;
}

/* Whether `n` more bytes fit in `out`. */
static bool nal_fits(const struct vb_buf *out, size_t n)
{
    return out->len <= out->max && n <= out->max - out->len;
}

int tc_nal_put(struct vb_buf *out, const uint8_t *nal, size_t len)
{
    if (len > SIZE_MAX - sizeof(nal_start_code) || !nal_fits(out, sizeof(nal_start_code) + len))
        return -E2BIG;
    int rc = vb_buf_put(out, nal_start_code, sizeof(nal_start_code));
    if (rc == 0)
        rc = vb_buf_put(out, nal, len);
    return rc;
}

int tc_nal_ps_put_all(const struct tc_nal_ps *const *ps, size_t n, struct vb_buf *out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ps[i]->len == 0)
            return 0;
        total += sizeof(nal_start_code) + ps[i]->len;
    }
    if (!nal_fits(out, total))
        return -E2BIG;
    for (size_t i = 0; i < n; i++) {
        int rc = tc_nal_put(out, ps[i]->data, ps[i]->len);
        if (rc < 0)
            return rc;
    }
    return 0;
}

size_t tc_nal_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned zeros = 0;
    for (size_t i = 0; i < len && n < cap; i++) {
        if (zeros >= 2 && in[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = in[i] == 0 ? zeros + 1 : 0;
        out[n++] = in[i];
    }
    return n;
}

int tc_nal_agg_next(struct tc_nal_agg *it, const uint8_t **nal, size_t *len)
{
    if (it->left == 0)
        return 0;
    if (it->left < 2) {
        it->left = 0;
        return -EBADMSG;
    }
    size_t size = rd_u16(it->p);
    if (size == 0 || size > it->left - 2) {
        it->left = 0;
        return -EBADMSG;
    }
    *nal = it->p + 2;
    *len = size;
    it->p += 2 + size;
    it->left -= 2 + size;
    return 1;
}

int tc_nal_agg_each(const uint8_t *p, size_t len, tc_nal_emit_fn emit, void *state,
                    struct vb_buf *out, struct tc_frame_info *fi)
{
    struct tc_nal_agg it = {.p = p, .left = len};
    const uint8_t *nal;
    size_t nal_len;
    int rc, units = 0;
    while ((rc = tc_nal_agg_next(&it, &nal, &nal_len)) > 0) {
        units++;
        rc = emit(state, nal, nal_len, out, fi);
        if (rc < 0)
            return rc;
    }
    if (rc < 0 || units == 0)
        fi->damaged = true;
    return 0;
}

void tc_nal_fu_abort(struct tc_nal_fu *fu, struct vb_buf *out, bool *damaged)
{
    if (!fu->active)
        return;
    /* Only shrinks: the bytes past `start` are this run's own. */
    if (fu->start <= out->len)
        out->len = fu->start;
    fu->active = false;
    *damaged = true;
}

/* Opens a run with the start code and the rebuilt header. */
static int fu_open(struct tc_nal_fu *fu, struct vb_buf *out, const uint8_t *hdr, size_t hlen,
                   uint64_t seq)
{
    fu->start = out->len;
    int rc = tc_nal_put(out, hdr, hlen);
    if (rc < 0)
        return rc;
    fu->active = true;
    fu->seq = seq;
    return 0;
}

int tc_nal_fu_add(struct tc_nal_fu *fu, struct vb_buf *out, const uint8_t *hdr, size_t hlen,
                  bool start, bool end, const uint8_t *data, size_t len, uint64_t seq,
                  bool *damaged, size_t *nal_off)
{
    if (start) {
        tc_nal_fu_abort(fu, out, damaged); /* a run without its end fragment */
        int rc = fu_open(fu, out, hdr, hlen, seq);
        if (rc < 0)
            return rc;
    } else if (!fu->active) {
        *damaged = true; /* its start fragment was lost */
        return 0;
    } else if (seq != fu->seq + 1) {
        tc_nal_fu_abort(fu, out, damaged); /* a fragment in between was lost */
        return 0;
    }
    int rc = vb_buf_put(out, data, len);
    if (rc < 0)
        return rc;
    fu->seq = seq;
    if (!end)
        return 0;
    fu->active = false;
    *nal_off = fu->start + sizeof(nal_start_code);
    return 1;
}
