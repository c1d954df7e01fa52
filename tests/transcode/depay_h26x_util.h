/* tests/transcode/depay_h26x_util.h — what the H.264 and H.265 depacketizer tests share:
 * running frames through a depacketizer, building Annex B streams and aggregation packets, a
 * bit writer for parameter sets, and the every-truncation check. */
#ifndef VB_TESTS_DEPAY_H26X_UTIL_H
#define VB_TESTS_DEPAY_H26X_UTIL_H

#include <errno.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "mjr/mjr.h"
#include "tests/test.h"
#include "transcode/depay.h"
#include "transcode/nal.h"

#define OUT_MAX (1u << 20)

/* ---- helpers ---------------------------------------------------------------------------- */

struct run {
    struct tc_depay *d;
    struct vb_buf out;
    struct tc_frame_info fi;
    int rc;
};

static inline void run_open(struct run *r, const char *codec)
{
    const struct tc_depay_ops *ops = tc_depay_find(codec);
    ASSERT(ops != NULL);
    r->d = tc_depay_new(ops);
    vb_buf_init(&r->out, OUT_MAX);
}

static inline void run_close(struct run *r)
{
    vb_buf_free(&r->out);
    tc_depay_free(r->d);
}

/* Runs one frame of `n` payloads with consecutive sequence numbers from `seq`. */
static inline void run_frame(struct run *r, const uint8_t *const *p, const size_t *len, size_t n,
                             uint64_t seq)
{
    struct tc_rtp pkts[16];
    ASSERT(n <= 16);
    for (size_t i = 0; i < n; i++)
        pkts[i] = (struct tc_rtp){.payload = p[i], .len = len[i], .seq = seq + i, .ts = 3000};
    r->out.len = 0;
    memset(&r->fi, 0, sizeof(r->fi));
    r->rc = r->d->ops->frame(r->d->state, pkts, n, &r->out, &r->fi);
}

static inline void run_one(struct run *r, const uint8_t *p, size_t len)
{
    run_frame(r, &p, &len, 1, 100);
}

/* Extradata into a fresh buffer: its length, bytes copied to `dst` (up to `cap`). */
static inline size_t run_extradata(struct run *r, uint8_t *dst, size_t cap)
{
    struct vb_buf x;
    vb_buf_init(&x, OUT_MAX);
    ASSERT_EQ(r->d->ops->extradata(r->d->state, &x), 0);
    size_t n = x.len;
    ASSERT(n <= cap);
    if (n)
        memcpy(dst, x.p, n);
    vb_buf_free(&x);
    return n;
}

/* Appends a start code and `len` bytes to `dst` at *pos. */
static inline void annexb_add(uint8_t *dst, size_t *pos, const uint8_t *nal, size_t len)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    memcpy(dst + *pos, sc, 4);
    memcpy(dst + *pos + 4, nal, len);
    *pos += 4 + len;
}

/* Aggregation packet: `hdr` (1 or 2 bytes), then 16-bit size + unit for each unit. */
static inline size_t agg_build(uint8_t *dst, const uint8_t *hdr, size_t hlen,
                               const uint8_t *const *u, const size_t *ulen, size_t n)
{
    memcpy(dst, hdr, hlen);
    size_t pos = hlen;
    for (size_t i = 0; i < n; i++) {
        wr_u16(dst + pos, (uint16_t)ulen[i]);
        memcpy(dst + pos + 2, u[i], ulen[i]);
        pos += 2 + ulen[i];
    }
    return pos;
}

/* ---- bit writer for parameter sets ------------------------------------------------------ */

struct bw {
    uint8_t b[512];
    size_t bits;
};

static inline void bw_u(struct bw *w, uint32_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        ASSERT(w->bits < sizeof(w->b) * 8);
        if ((v >> i) & 1)
            w->b[w->bits >> 3] |= (uint8_t)(0x80u >> (w->bits & 7));
        w->bits++;
    }
}

static inline void bw_ue(struct bw *w, uint32_t v)
{
    uint64_t x = (uint64_t)v + 1;
    unsigned n = 0;
    while ((x >> (n + 1)) != 0)
        n++;
    bw_u(w, 0, n);
    bw_u(w, 1, 1);
    bw_u(w, (uint32_t)(x & ((1ull << n) - 1)), n);
}

static inline void bw_se(struct bw *w, int32_t v)
{
    bw_ue(w, v > 0 ? (uint32_t)(2 * v - 1) : (uint32_t)(-2 * v));
}

/* Ends the RBSP (stop bit, alignment) and writes header + escaped RBSP to `nal`. */
static inline size_t bw_nal(struct bw *w, const uint8_t *hdr, size_t hlen, uint8_t *nal)
{
    bw_u(w, 1, 1);
    while (w->bits & 7)
        bw_u(w, 0, 1);
    memcpy(nal, hdr, hlen);
    size_t n = hlen;
    unsigned zeros = 0;
    for (size_t i = 0; i < w->bits / 8; i++) {
        if (zeros >= 2 && w->b[i] <= 3) {
            nal[n++] = 3;
            zeros = 0;
        }
        zeros = w->b[i] == 0 ? zeros + 1 : 0;
        nal[n++] = w->b[i];
    }
    return n;
}

/* ---- truncations and garbage ------------------------------------------------------------ */

/* Every prefix of every packet, alone and between whole packets, must be handled. */
static inline void truncate_all(const char *codec, const uint8_t *const *p, const size_t *len,
                                size_t n)
{
    struct run r;
    run_open(&r, codec);
    for (size_t i = 0; i < n; i++) {
        for (size_t cut = 1; cut <= len[i]; cut++) {
            run_one(&r, p[i], cut);
            ASSERT(r.rc == 0 || r.rc == -EBADMSG);
            ASSERT(r.rc == -EBADMSG || r.out.len > 0);
            const uint8_t *q[3] = {p[(i + n - 1) % n], p[i], p[(i + 1) % n]};
            size_t ql[3] = {len[(i + n - 1) % n], cut, len[(i + 1) % n]};
            run_frame(&r, q, ql, 3, 65534);
            ASSERT(r.rc == 0 || r.rc == -EBADMSG);
        }
    }
    /* Deterministic garbage with every first byte. */
    uint32_t x = 12345;
    uint8_t g[4][48];
    for (unsigned iter = 0; iter < 4000; iter++) {
        const uint8_t *gp[4];
        size_t gl[4];
        for (unsigned k = 0; k < 4; k++) {
            for (unsigned j = 0; j < sizeof(g[k]); j++) {
                x = x * 1103515245u + 12345u;
                g[k][j] = (uint8_t)(x >> 16);
            }
            g[k][0] = (uint8_t)(iter + k);
            gp[k] = g[k];
            gl[k] = 1 + (x >> 8) % sizeof(g[k]);
        }
        run_frame(&r, gp, gl, 1 + iter % 4, iter);
        ASSERT(r.rc == 0 || r.rc == -EBADMSG);
    }
    uint8_t xd[4096];
    run_extradata(&r, xd, sizeof(xd));
    run_close(&r);
}

#endif
