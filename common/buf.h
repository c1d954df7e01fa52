/* common/buf.h — a growable byte buffer with a hard maximum.
 *
 * For building messages and files in memory: appends grow the buffer geometrically up to
 * `max` bytes; an append past it fails with -E2BIG and leaves the buffer as it was, so input
 * can never make memory grow without bound. The buffer owns `p`; vb_buf_free() releases it.
 * One thread at a time. */
#ifndef VB_COMMON_BUF_H
#define VB_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct vb_buf {
    uint8_t *p; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* appends past this many bytes fail with -E2BIG */
};

/* An empty buffer that may hold up to `max` bytes. */
void vb_buf_init(struct vb_buf *b, size_t max);
void vb_buf_free(struct vb_buf *b);

/* Appends `n` bytes; 0 or -E2BIG. */
int vb_buf_put(struct vb_buf *b, const void *d, size_t n);
int vb_buf_put_u8(struct vb_buf *b, uint8_t v);
/* Big-endian (network order). */
int vb_buf_put_be16(struct vb_buf *b, uint16_t v);
int vb_buf_put_be32(struct vb_buf *b, uint32_t v);
int vb_buf_put_be64(struct vb_buf *b, uint64_t v);
/* Little-endian. */
int vb_buf_put_le16(struct vb_buf *b, uint16_t v);
int vb_buf_put_le32(struct vb_buf *b, uint32_t v);

#endif
