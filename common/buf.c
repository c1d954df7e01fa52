/* This file implements the bounded growable byte buffer (see buf.h). */
#include "common/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/xalloc.h"

void vb_buf_init(struct vb_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void vb_buf_free(struct vb_buf *b)
{
    free(b->p);
    vb_buf_init(b, b->max);
}

int vb_buf_put(struct vb_buf *b, const void *d, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return -E2BIG;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap = cap > b->max / 2 ? b->max : cap * 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

int vb_buf_put_u8(struct vb_buf *b, uint8_t v)
{
    return vb_buf_put(b, &v, 1);
}

int vb_buf_put_be16(struct vb_buf *b, uint16_t v)
{
    uint8_t t[2];
    wr_u16(t, v);
    return vb_buf_put(b, t, sizeof(t));
}

int vb_buf_put_be32(struct vb_buf *b, uint32_t v)
{
    uint8_t t[4];
    wr_u32(t, v);
    return vb_buf_put(b, t, sizeof(t));
}

int vb_buf_put_be64(struct vb_buf *b, uint64_t v)
{
    uint8_t t[8];
    wr_u64(t, v);
    return vb_buf_put(b, t, sizeof(t));
}

int vb_buf_put_le16(struct vb_buf *b, uint16_t v)
{
    uint8_t t[2];
    wr_le16(t, v);
    return vb_buf_put(b, t, sizeof(t));
}

int vb_buf_put_le32(struct vb_buf *b, uint32_t v)
{
    uint8_t t[4];
    wr_le32(t, v);
    return vb_buf_put(b, t, sizeof(t));
}
