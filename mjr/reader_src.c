/* This file implements the byte sources the MJR reader parses from: a borrowed memory buffer
 * and a file read through a bounded window.
 *
 * DESIGN: the parser walks forward through the file and asks for one record at a time, so a
 * file source keeps a single window of MJR_SRC_WINDOW bytes. When a request does not fit in
 * what is buffered, the bytes already held from the requested offset on are moved to the
 * front and the rest of the window is filled with pread(). Memory therefore stays at one
 * window whatever the file's size, and each byte of the file is read from the kernel about
 * once. pread() (not read()) keeps the source independent of the descriptor's position. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "mjr/reader_internal.h"

void mjr_src_init_mem(struct mjr_src *s, const uint8_t *buf, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->mem = buf;
    s->mem_len = buf ? len : 0;
    s->fd = -1;
}

void mjr_src_init_fd(struct mjr_src *s, int fd)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->cap = MJR_SRC_WINDOW;
    s->buf = xmalloc(s->cap);
}

void mjr_src_fini(struct mjr_src *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->buf);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

static ssize_t peek_mem(struct mjr_src *s, uint64_t off, size_t want, const uint8_t **p)
{
    if (off >= s->mem_len) {
        *p = s->mem ? s->mem + s->mem_len : NULL;
        return 0;
    }
    size_t left = s->mem_len - (size_t)off;
    *p = s->mem + off;
    return (ssize_t)(want < left ? want : left);
}

/* Moves the window so that it starts at `off`, keeping any bytes already held. */
static void window_rebase(struct mjr_src *s, uint64_t off)
{
    if (off >= s->buf_off && off < s->buf_off + s->buf_len) {
        size_t skip = (size_t)(off - s->buf_off);
        memmove(s->buf, s->buf + skip, s->buf_len - skip);
        s->buf_len -= skip;
    } else {
        s->buf_len = 0;
    }
    s->buf_off = off;
}

/* Reads into the free part of the window until it holds `want` bytes or the file ends. */
static int window_fill(struct mjr_src *s, size_t want)
{
    while (s->buf_len < want) {
        ssize_t n = pread(s->fd, s->buf + s->buf_len, s->cap - s->buf_len,
                          (off_t)(s->buf_off + s->buf_len));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        s->buf_len += (size_t)n;
    }
    return 0;
}

static ssize_t peek_fd(struct mjr_src *s, uint64_t off, size_t want, const uint8_t **p)
{
    bool inside = off >= s->buf_off && off <= s->buf_off + s->buf_len;
    if (!inside || off + want > s->buf_off + s->buf_len) {
        window_rebase(s, off);
        if (want > s->cap) {
            s->cap = want;
            s->buf = xrealloc(s->buf, s->cap);
        }
        int rc = window_fill(s, want);
        if (rc < 0)
            return rc;
    }
    size_t have = (size_t)(s->buf_off + s->buf_len - off);
    *p = s->buf + (off - s->buf_off);
    return (ssize_t)(want < have ? want : have);
}

ssize_t mjr_src_peek(struct mjr_src *s, uint64_t off, size_t want, const uint8_t **p)
{
    if (want > MJR_SRC_PEEK_MAX)
        want = MJR_SRC_PEEK_MAX;
    if (s->fd < 0)
        return peek_mem(s, off, want, p);
    return peek_fd(s, off, want, p);
}
