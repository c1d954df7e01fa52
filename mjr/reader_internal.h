/* mjr/reader_internal.h — internals of the MJR reader shared by reader.c, reader_src.c and
 * recover.c. Not part of the module's public interface.
 *
 * The reader parses through a byte source: either a borrowed memory buffer or a file read
 * with pread() into a bounded window. The parser asks the source for a run of bytes at an
 * offset and gets a pointer to them, contiguous, plus how many exist (fewer only at the end
 * of the input). One source belongs to one reader and is used from that reader's thread. */
#ifndef VB_MJR_READER_INTERNAL_H
#define VB_MJR_READER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mjr/mjr.h"

/* Window of a file source: large enough for any single record (a 10-byte prefix plus a
 * 65,535-byte body, or a 2-byte length plus a 65,535-byte header) with room to spare. */
#define MJR_SRC_WINDOW (128 * 1024)
/* The largest run one peek may ask for. */
#define MJR_SRC_PEEK_MAX (MJR_SRC_WINDOW)

struct mjr_src {
    /* Memory source: `mem` is borrowed, `mem_len` bytes. fd is -1. */
    const uint8_t *mem;
    size_t mem_len;
    /* File source: `fd` is owned; `buf` (owned, `cap` bytes) holds `buf_len` bytes of the
     * file starting at offset `buf_off`. */
    int fd;
    uint8_t *buf;
    size_t cap;
    size_t buf_len;
    uint64_t buf_off;
};

/* Sets up a source over borrowed memory. Cannot fail. */
void mjr_src_init_mem(struct mjr_src *s, const uint8_t *buf, size_t len);
/* Sets up a source over an open file descriptor, which the source then owns. */
void mjr_src_init_fd(struct mjr_src *s, int fd);
/* Closes the descriptor (if any) and frees the window. */
void mjr_src_fini(struct mjr_src *s);

/* Makes up to `want` (<= MJR_SRC_PEEK_MAX) bytes starting at `off` contiguous and points *p
 * at them. Returns the number available, which is less than `want` only where the input
 * ends (0 at or past the end), or -errno on a read error. *p stays valid until the next
 * call on the same source. */
ssize_t mjr_src_peek(struct mjr_src *s, uint64_t off, size_t want, const uint8_t **p);

/* True when the reader stopped on a header record that is whole but unusable (invalid JSON,
 * no usable "t" or "c", a legacy kind word that is neither "audio" nor "video"). Recovery
 * refuses such a file rather than cut every frame after the header away. */
bool mjr_reader_header_damaged(const struct mjr_reader *r);

/* The -errno of a read error that ended the parse, or 0. Recovery fails with it instead of
 * trimming a file it could not read. */
int mjr_reader_io_error(const struct mjr_reader *r);

#endif
