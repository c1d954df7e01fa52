/* This file implements the libFuzzer target for the MJR reader: any bytes are opened as an
 * in-memory recording, every frame is read, and every byte of every frame body is touched so
 * that AddressSanitizer sees any read out of bounds. The reader's own promises are checked
 * too: frames are contiguous and inside the input, good_end follows the last frame, and a
 * parse that ended early says why. The same bytes are also read back through the file reader
 * (from a memfd), which must return exactly the same frames and the same ending. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mjr/mjr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t touch(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = sum * 31 + p[i];
    return sum;
}

static void check(int ok)
{
    if (!ok)
        abort();
}

/* Opens the bytes as a file through a memfd; NULL if that is not possible here. */
static struct mjr_reader *open_as_file(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-mjr", MFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct mjr_reader *r = NULL;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if ((size == 0 || write(fd, data, size) == (ssize_t)size) &&
        mjr_reader_open(path, &r, NULL, 0) != 0)
        r = NULL;
    close(fd);
    return r;
}

/* Both readers must agree frame by frame and on how the parse ended. */
static void compare_readers(const uint8_t *data, size_t size)
{
    struct mjr_reader *m = NULL, *fr = open_as_file(data, size);
    if (!fr)
        return;
    check(mjr_reader_open_mem(data, size, &m, NULL, 0) == 0);
    struct mjr_frame a, b;
    int ra, rb;
    do {
        ra = mjr_reader_next(m, &a);
        rb = mjr_reader_next(fr, &b);
        check(ra == rb);
        if (ra == 1)
            check(a.len == b.len && a.offset == b.offset && a.end == b.end && a.t_ms == b.t_ms &&
                  a.data_real_us == b.data_real_us && memcmp(a.body, b.body, a.len) == 0);
    } while (ra == 1);
    check(mjr_reader_truncated(m) == mjr_reader_truncated(fr));
    check(mjr_reader_good_end(m) == mjr_reader_good_end(fr));
    check(strcmp(mjr_reader_diag(m), mjr_reader_diag(fr)) == 0);
    mjr_reader_destroy(m);
    mjr_reader_destroy(fr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mjr_reader *r = NULL;
    char err[160];
    if (mjr_reader_open_mem(data, size, &r, err, sizeof(err)) != 0) {
        check(r == NULL && err[0] != '\0');
        return 0;
    }
    volatile uint32_t sink = touch((const uint8_t *)mjr_reader_diag(r), strlen(mjr_reader_diag(r)));
    const char *codec = mjr_reader_codec(r);
    if (codec)
        sink += touch((const uint8_t *)codec, strlen(codec));
    uint64_t prev_end = mjr_reader_good_end(r);
    struct mjr_frame f;
    while (mjr_reader_next(r, &f) == 1) {
        check(f.offset == prev_end && f.end > f.offset && f.end <= size);
        check(f.body >= data && f.body + f.len <= data + size);
        sink += touch(f.body, f.len) + f.t_ms;
        prev_end = f.end;
    }
    check(mjr_reader_next(r, &f) == 0);
    check(mjr_reader_good_end(r) == prev_end && prev_end <= size);
    const char *diag = mjr_reader_diag(r);
    sink += touch((const uint8_t *)diag, strlen(diag));
    if (mjr_reader_truncated(r))
        check(diag[0] != '\0');
    else
        check(prev_end == size);
    (void)sink;
    mjr_reader_destroy(r);
    compare_readers(data, size);
    return 0;
}
