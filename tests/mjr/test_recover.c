/* This file implements the tests of MJR crash recovery: files left under a ".tmp" name with a
 * cut-off frame and preallocated zeros are trimmed, renamed and then read clean; files that
 * are not MJR, or whose header is unusable, are left untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/mjr.h"
#include "tests/test.h"

#define HEADER "{\"t\": \"a\", \"c\": \"opus\", \"s\": 100, \"u\": 200}"
#define PKT_LEN 160
#define FRAME_LEN (10 + PKT_LEN)

struct dir {
    char path[64];
};

static void dir_make(struct dir *d)
{
    snprintf(d->path, sizeof(d->path), "/tmp/vb-test-recover-XXXXXX");
    ASSERT(mkdtemp(d->path) != NULL);
}

static char *dir_file(const struct dir *d, const char *name)
{
    size_t n = strlen(d->path) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", d->path, name);
    return p;
}

static void dir_remove(struct dir *d, const char *const *names)
{
    for (const char *const *n = names; *n; n++) {
        char *p = dir_file(d, *n);
        unlink(p);
        free(p);
    }
    ASSERT_EQ(rmdir(d->path), 0);
}

static void put(int fd, const void *p, size_t n)
{
    ASSERT_EQ(write(fd, p, n), n);
}

static void put_frame(int fd, uint32_t t_ms, uint16_t seq, size_t keep)
{
    uint8_t f[FRAME_LEN];
    memcpy(f, "MEET", 4);
    wr_u32(f + 4, t_ms);
    wr_u16(f + 8, PKT_LEN);
    f[10] = 0x80;
    f[11] = 111;
    wr_u16(f + 12, seq);
    wr_u32(f + 14, (uint32_t)seq * 960);
    wr_u32(f + 18, 0xabcdef01);
    for (size_t i = 22; i < FRAME_LEN; i++)
        f[i] = (uint8_t)(i * 3 + seq) | 1;
    put(fd, f, keep);
}

/* Writes magic + header + `whole` frames + `cut` bytes of one more frame, then makes the file
 * `zeros` bytes longer the way fallocate() does. Returns the offset past the last whole frame. */
static uint64_t make_file(const char *path, int whole, size_t cut, size_t zeros)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    ASSERT(fd >= 0);
    put(fd, "MJR00002", 8);
    uint8_t len[2];
    wr_u16(len, (uint16_t)strlen(HEADER));
    put(fd, len, 2);
    put(fd, HEADER, strlen(HEADER));
    for (int i = 0; i < whole; i++)
        put_frame(fd, (uint32_t)i * 20, (uint16_t)(i + 1), FRAME_LEN);
    uint64_t good = 10 + strlen(HEADER) + (uint64_t)whole * FRAME_LEN;
    if (cut)
        put_frame(fd, (uint32_t)whole * 20, (uint16_t)(whole + 1), cut);
    if (zeros) {
        off_t end = lseek(fd, 0, SEEK_END);
        ASSERT_EQ(posix_fallocate(fd, end, (off_t)zeros), 0);
    }
    ASSERT_EQ(close(fd), 0);
    return good;
}

/* Bytes of the frame after `whole` whole ones that reach the next 4 KiB boundary. */
static size_t cut_to_block(int whole)
{
    uint64_t good = 10 + strlen(HEADER) + (uint64_t)whole * FRAME_LEN;
    size_t cut = (size_t)((good + 4095) / 4096 * 4096 - good);
    ASSERT(cut > 0 && cut < FRAME_LEN);
    return cut;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Reads `path` and checks it holds `frames` whole frames and ends cleanly. */
static void expect_clean(const char *path, uint64_t frames)
{
    struct mjr_reader *r = NULL;
    char err[200];
    ASSERT_EQ(mjr_reader_open(path, &r, err, sizeof(err)), 0);
    struct mjr_frame f;
    uint64_t n = 0;
    while (mjr_reader_next(r, &f) == 1) {
        ASSERT_EQ(rd_u16(f.body + 2), n + 1);
        ASSERT_EQ(f.t_ms, n * 20);
        n++;
    }
    ASSERT_UEQ(n, frames);
    ASSERT(!mjr_reader_truncated(r));
    ASSERT_STREQ(mjr_reader_diag(r), "");
    ASSERT_UEQ(mjr_reader_good_end(r), file_size(path));
    mjr_reader_destroy(r);
}

static void test_cut_frame_and_zeros(void)
{
    struct dir d;
    dir_make(&d);
    char *tmp = dir_file(&d, "a.mjr.tmp"), *fin = dir_file(&d, "a.mjr");
    /* A crash cuts where a block or page ends: inside the 24th frame, at 4096. */
    size_t cut = cut_to_block(23);
    uint64_t good = make_file(tmp, 23, cut, 1 << 20);
    uint64_t before = file_size(tmp);
    ASSERT_UEQ(good + cut, 4096);
    ASSERT_UEQ(before, good + cut + (1 << 20));
    struct mjr_recover_result res;
    ASSERT_EQ(mjr_recover(tmp, NULL, &res), 0);
    ASSERT_UEQ(res.kept_bytes, good);
    ASSERT_UEQ(res.trimmed_bytes, before - good);
    ASSERT_UEQ(res.frames, 23);
    ASSERT(res.diag[0] != '\0');
    ASSERT(!exists(tmp));
    ASSERT_UEQ(file_size(fin), good);
    expect_clean(fin, 23);
    const char *names[] = {"a.mjr", "a.mjr.tmp", NULL};
    dir_remove(&d, names);
    free(tmp);
    free(fin);
}

static void test_cases_of_endings(void)
{
    /* {whole frames, bytes of a cut frame, zeros after}: every way a crash leaves the end.
     * Where zeros follow a cut frame, the cut lies on a 4 KiB boundary (BLOCK), as writes
     * reach the disk in blocks or pages; or the cut leaves an empty body (9 bytes). */
    enum { BLOCK = 9999 }; /* a marker, not a length */
    static const size_t shapes[][3] = {
        {10, 0, 0},  {10, 0, 4096}, {10, 1, 0},       {10, 4, 0}, {10, 9, 8192},
        {10, 10, 0}, {10, 169, 0},  {23, BLOCK, 512}, {0, 0, 0},  {47, BLOCK, 65536},
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct dir d;
        dir_make(&d);
        char *tmp = dir_file(&d, "b.mjr.tmp"), *fin = dir_file(&d, "final-name.mjr");
        size_t cut = shapes[i][1] == BLOCK ? cut_to_block((int)shapes[i][0]) : shapes[i][1];
        uint64_t good = make_file(tmp, (int)shapes[i][0], cut, shapes[i][2]);
        bool damaged = cut || shapes[i][2];
        struct mjr_recover_result res;
        ASSERT_EQ(mjr_recover(tmp, fin, &res), 0);
        ASSERT_UEQ(res.kept_bytes, good);
        ASSERT_UEQ(res.frames, shapes[i][0]);
        ASSERT_UEQ(res.trimmed_bytes, cut + shapes[i][2]);
        ASSERT_EQ(res.diag[0] != '\0', damaged);
        ASSERT(!exists(tmp));
        expect_clean(fin, shapes[i][0]);
        const char *names[] = {"final-name.mjr", NULL};
        dir_remove(&d, names);
        free(tmp);
        free(fin);
    }
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    ASSERT(fd >= 0);
    put(fd, p, n);
    ASSERT_EQ(close(fd), 0);
}

static void expect_untouched(const char *tmp, const char *fin, const void *content, size_t n,
                             int want_rc)
{
    struct mjr_recover_result res;
    ASSERT_EQ(mjr_recover(tmp, fin, &res), want_rc);
    ASSERT(res.diag[0] != '\0');
    ASSERT_UEQ(file_size(tmp), n);
    if (fin)
        ASSERT(!exists(fin));
    uint8_t back[256];
    int fd = open(tmp, O_RDONLY);
    ASSERT(fd >= 0);
    ASSERT_EQ(read(fd, back, sizeof(back)), n);
    close(fd);
    ASSERT_MEMEQ(back, content, n);
}

static void test_refused(void)
{
    struct dir d;
    dir_make(&d);
    char *tmp = dir_file(&d, "c.mjr.tmp"), *fin = dir_file(&d, "c.mjr");
    const char text[] = "this is not a recording at all, just text\n";
    write_bytes(tmp, text, sizeof(text) - 1);
    expect_untouched(tmp, fin, text, sizeof(text) - 1, -EBADMSG);
    expect_untouched(tmp, NULL, text, sizeof(text) - 1, -EBADMSG);
    write_bytes(tmp, "MJR0", 4);
    expect_untouched(tmp, fin, "MJR0", 4, -EBADMSG);

    /* A whole header that is not usable: trimming would cut every frame, so refuse. */
    const char bad[] = "MJR00002\x00\x05{bad}MEET\x00\x00\x00\x00\x00\x02xy";
    write_bytes(tmp, bad, sizeof(bad) - 1);
    expect_untouched(tmp, fin, bad, sizeof(bad) - 1, -EBADMSG);

    /* No final name and no ".tmp" suffix. */
    char *plain = dir_file(&d, "d.mjr");
    make_file(plain, 2, 5, 0);
    struct mjr_recover_result res;
    ASSERT_EQ(mjr_recover(plain, NULL, &res), -EINVAL);
    ASSERT_UEQ(file_size(plain), 10 + strlen(HEADER) + 2 * FRAME_LEN + 5);

    char *missing = dir_file(&d, "missing.mjr.tmp");
    ASSERT_EQ(mjr_recover(missing, NULL, &res), -ENOENT);
    const char *names[] = {"c.mjr.tmp", "d.mjr", NULL};
    dir_remove(&d, names);
    free(tmp);
    free(fin);
    free(plain);
    free(missing);
}

static void test_magic_only(void)
{
    struct dir d;
    dir_make(&d);
    char *tmp = dir_file(&d, "e.mjr.tmp"), *fin = dir_file(&d, "e.mjr");
    write_bytes(tmp, "MJR00002", 8);
    struct mjr_recover_result res;
    ASSERT_EQ(mjr_recover(tmp, NULL, &res), 0);
    ASSERT_UEQ(res.kept_bytes, 8);
    ASSERT_UEQ(res.trimmed_bytes, 0);
    ASSERT_UEQ(res.frames, 0);
    ASSERT_STREQ(res.diag, "");
    ASSERT_UEQ(file_size(fin), 8);
    expect_clean(fin, 0);

    /* The magic, then zeros (the writer crashed before the first frame's block). */
    uint8_t buf[8 + 4096] = "MJR00002";
    write_bytes(tmp, buf, sizeof(buf));
    ASSERT_EQ(mjr_recover(tmp, NULL, &res), 0);
    ASSERT_UEQ(res.kept_bytes, 8);
    ASSERT_UEQ(res.trimmed_bytes, 4096);
    ASSERT_UEQ(file_size(fin), 8);

    /* Cut inside the header record. */
    const char cut[] = "MJR00002\x00\x40{\"t\": \"a\"";
    write_bytes(tmp, cut, sizeof(cut) - 1);
    ASSERT_EQ(mjr_recover(tmp, NULL, &res), 0);
    ASSERT_UEQ(res.kept_bytes, 8);
    ASSERT(strstr(res.diag, "header") != NULL);
    expect_clean(fin, 0);
    const char *names[] = {"e.mjr", NULL};
    dir_remove(&d, names);
    free(tmp);
    free(fin);
}

static const struct test_case cases[] = {
    {"cut_frame_and_zeros", test_cut_frame_and_zeros},
    {"cases_of_endings", test_cases_of_endings},
    {"refused", test_refused},
    {"magic_only", test_magic_only},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}
