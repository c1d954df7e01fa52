/* This file implements the scan tests: `catalog scan` of the MJR files real Janus recorded
 * (tests/fixtures) into a data directory with a real catalog, a repeated scan that must add
 * nothing, and a source with foreign, damaged, temporary and unsorted files, imported by copy
 * across filesystems, plus a different file under a name already taken. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/scan.h"
#include "mjr/mjr.h"
#include "tests/archive/archive_util.h"
#include "tests/test.h"

#define FIXTURES VB_SOURCE_DIR "/tests/fixtures"

struct lines {
    char text[16384];
    size_t len;
};

static void collect(void *ud, const char *msg)
{
    struct lines *l = ud;
    int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s\n", msg);
    if (n > 0 && (size_t)n < sizeof(l->text) - l->len)
        l->len += (size_t)n;
}

struct fixture_file {
    const char *dir, *room, *participant, *name, *codec;
    int64_t frames;
};

static const struct fixture_file fixtures[] = {
    {"vp8-opus-1pub", "118810912", "4292621012949761",
     "videoroom-118810912-user-4292621012949761-1795607440500653-audio-0.mjr", "opus", 504},
    {"vp8-opus-1pub", "118810912", "4292621012949761",
     "videoroom-118810912-user-4292621012949761-1795607440500908-video-1.mjr", "vp8", 212},
    {"h264-opus-1pub", "727973277", "6490932377196342",
     "videoroom-727973277-user-6490932377196342-1795607451420222-audio-0.mjr", "opus", 505},
    {"h264-opus-1pub", "727973277", "6490932377196342",
     "videoroom-727973277-user-6490932377196342-1795607451420501-video-1.mjr", "h264", 154},
};
#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static int64_t header_s(const char *path)
{
    struct mjr_reader *r;
    ASSERT_EQ(mjr_reader_open(path, &r, NULL, 0), 0);
    int64_t s = mjr_reader_created_us(r);
    mjr_reader_destroy(r);
    return s;
}

static void check_participant(struct catalog *c, const struct fixture_file *a,
                              const struct fixture_file *b)
{
    struct catalog_filter f = {.room = a->room};
    json_t *res = NULL;
    ASSERT_EQ(catalog_participants_query(c, &f, &res), 0);
    ASSERT_EQ(util_int(res, "total"), 1);
    json_t *p = json_array_get(json_object_get(res, "participants"), 0);
    ASSERT_STREQ(util_str(p, "participant"), a->participant);
    ASSERT(json_is_null(json_object_get(p, "display")) || !json_object_get(p, "display"));
    char pa[600], pb[600];
    snprintf(pa, sizeof(pa), "%s/%s/%s", FIXTURES, a->dir, a->name);
    snprintf(pb, sizeof(pb), "%s/%s/%s", FIXTURES, b->dir, b->name);
    int64_t sa = header_s(pa), sb = header_s(pb);
    ASSERT_EQ(util_int(p, "joined_at"), sa < sb ? sa : sb);
    ASSERT_EQ(json_array_size(json_object_get(p, "tracks")), 2);
    json_decref(res);
}

static void check_fixture_catalog(struct catalog *c, const char *data)
{
    json_t *rooms = NULL;
    struct catalog_filter all = {0};
    ASSERT_EQ(catalog_rooms_query(c, &all, &rooms), 0);
    ASSERT_EQ(util_int(rooms, "total"), 2);
    json_decref(rooms);
    json_t *res = util_recordings(c, NULL);
    ASSERT_EQ(util_int(res, "total"), (int64_t)N_FIXTURES);
    for (size_t i = 0; i < N_FIXTURES; i++) {
        const struct fixture_file *fx = &fixtures[i];
        char rel[300], src[1024], dst[1024];
        snprintf(rel, sizeof(rel), "recordings/%s/%s", fx->room, fx->name);
        json_t *r = util_find(res, rel);
        ASSERT(r != NULL);
        ASSERT_STREQ(util_str(r, "state"), "closed");
        ASSERT_STREQ(util_str(r, "room"), fx->room);
        ASSERT_STREQ(util_str(r, "participant"), fx->participant);
        ASSERT_STREQ(util_str(r, "codec"), fx->codec);
        ASSERT_EQ(util_int(r, "frames"), fx->frames);
        util_check_hash(data, r, rel);
        snprintf(src, sizeof(src), "%s/%s/%s", FIXTURES, fx->dir, fx->name);
        snprintf(dst, sizeof(dst), "%s/%s", data, rel);
        ASSERT_EQ(header_s(src), util_int(r, "opened_at"));
        struct stat a, b;
        ASSERT_EQ(stat(src, &a), 0);
        ASSERT_EQ(stat(dst, &b), 0);
        ASSERT_EQ(a.st_size, b.st_size);
    }
    json_decref(res);
    check_participant(c, &fixtures[0], &fixtures[1]);
    check_participant(c, &fixtures[2], &fixtures[3]);
}

static void test_fixtures_twice(void)
{
    char data[512];
    struct catalog *c = util_catalog_open(data, sizeof(data), "scan-fix");
    struct lines l = {.len = 0};
    struct archive_scan_report rep;
    ASSERT_EQ(archive_scan(FIXTURES, data, c, &rep, collect, &l), 0);
    ASSERT_EQ(rep.indexed, N_FIXTURES);
    ASSERT_EQ(rep.already, 0);
    ASSERT_EQ(rep.errors, 0);
    ASSERT_GT(rep.skipped, 0); /* README.md and the reference outputs */
    ASSERT(strstr(l.text, "README.md: not an .mjr file") != NULL);
    check_fixture_catalog(c, data);

    /* Same filesystem: the import is a hard link. */
    char src[1024], dst[1024];
    snprintf(src, sizeof(src), "%s/%s/%s", FIXTURES, fixtures[0].dir, fixtures[0].name);
    snprintf(dst, sizeof(dst), "%s/recordings/%s/%s", data, fixtures[0].room, fixtures[0].name);
    struct stat a, b;
    ASSERT_EQ(stat(src, &a), 0);
    ASSERT_EQ(stat(dst, &b), 0);
    if (a.st_dev == b.st_dev)
        ASSERT_EQ(a.st_ino, b.st_ino);

    l.len = 0;
    ASSERT_EQ(archive_scan(FIXTURES, data, c, &rep, collect, &l), 0);
    ASSERT_EQ(rep.indexed, 0);
    ASSERT_EQ(rep.already, N_FIXTURES);
    ASSERT_EQ(rep.errors, 0);
    check_fixture_catalog(c, data);
    catalog_close(c);
    util_rm_tree(data);
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    ASSERT(fp != NULL);
    ASSERT_EQ(fwrite(p, 1, n, fp), n);
    ASSERT_EQ(fclose(fp), 0);
}

static void copy_fixture(const struct fixture_file *fx, const char *dir, const char *name)
{
    char src[600];
    snprintf(src, sizeof(src), "%s/%s/%s", FIXTURES, fx->dir, fx->name);
    FILE *fp = fopen(src, "rb");
    ASSERT(fp != NULL);
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    ASSERT(buf != NULL);
    size_t n = fread(buf, 1, cap, fp);
    ASSERT(n > 0 && n < cap);
    fclose(fp);
    write_file(dir, name, buf, n);
    free(buf);
}

/* A data directory on another filesystem than the sources when /dev/shm is a tmpfs. */
static struct catalog *open_far_catalog(char *data, size_t n)
{
    const char *saved = getenv("TMPDIR");
    char *keep = saved ? strdup(saved) : NULL;
    if (access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    struct catalog *c = util_catalog_open(data, n, "scan-far");
    if (keep)
        setenv("TMPDIR", keep, 1);
    else
        unsetenv("TMPDIR");
    free(keep);
    return c;
}

static void test_foreign_and_unsorted(void)
{
    char data[512], src[512];
    struct catalog *c = open_far_catalog(data, sizeof(data));
    snprintf(src, sizeof(src), "/tmp/vb-scan-src-XXXXXX");
    ASSERT(mkdtemp(src) != NULL);
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/nested", src);
    ASSERT_EQ(mkdir(sub, 0755), 0);
    write_file(src, "notes.txt", "not a recording\n", 16);
    write_file(sub, "broken.mjr", "hello, this is not MJR at all", 29);
    write_file(src, "videoroom-5-user-9-123-audio-0.mjr.tmp", "MJR00002", 8);
    copy_fixture(&fixtures[0], sub, "videoroom-5-user-9-123-audio-0.mjr");
    copy_fixture(&fixtures[1], src, "custom-name.mjr");

    struct lines l = {.len = 0};
    struct archive_scan_report rep;
    ASSERT_EQ(archive_scan(src, data, c, &rep, collect, &l), 0);
    ASSERT_EQ(rep.indexed, 2);
    ASSERT_EQ(rep.skipped, 3);
    ASSERT_EQ(rep.errors, 0);
    ASSERT(strstr(l.text, "notes.txt: not an .mjr file") != NULL);
    ASSERT(strstr(l.text, "broken.mjr") != NULL);
    ASSERT(strstr(l.text, "audio-0.mjr.tmp: a temporary file") != NULL);

    json_t *res = util_recordings(c, ARCHIVE_SCAN_UNSORTED);
    ASSERT_EQ(util_int(res, "total"), 1);
    json_t *r = util_find(res, "recordings/unsorted/custom-name.mjr");
    ASSERT(r != NULL);
    ASSERT_STREQ(util_str(r, "participant"), "custom-name");
    ASSERT_STREQ(util_str(r, "codec"), "vp8");
    ASSERT_STREQ(util_str(r, "kind"), "video");
    util_check_hash(data, r, "recordings/unsorted/custom-name.mjr");
    json_decref(res);
    res = util_recordings(c, "5");
    r = util_find(res, "recordings/5/videoroom-5-user-9-123-audio-0.mjr");
    ASSERT(r != NULL);
    ASSERT_STREQ(util_str(r, "participant"), "9");
    util_check_hash(data, r, "recordings/5/videoroom-5-user-9-123-audio-0.mjr");
    json_decref(res);

    /* A different file under a name that is taken: an error, and nothing overwritten. */
    char other[512];
    snprintf(other, sizeof(other), "/tmp/vb-scan-other-XXXXXX");
    ASSERT(mkdtemp(other) != NULL);
    copy_fixture(&fixtures[2], other, "videoroom-5-user-9-123-audio-0.mjr");
    l.len = 0;
    ASSERT_EQ(archive_scan(other, data, c, &rep, collect, &l), 0);
    ASSERT_EQ(rep.indexed, 0);
    ASSERT_EQ(rep.errors, 1);
    ASSERT(strstr(l.text, "a different file named") != NULL);
    res = util_recordings(c, "5");
    ASSERT_EQ(util_int(res, "total"), 1);
    r = util_find(res, "recordings/5/videoroom-5-user-9-123-audio-0.mjr");
    util_check_hash(data, r, "recordings/5/videoroom-5-user-9-123-audio-0.mjr");
    ASSERT_EQ(util_int(r, "frames"), fixtures[0].frames);
    json_decref(res);

    ASSERT_EQ(archive_scan("/nonexistent/vb-scan", data, c, &rep, NULL, NULL), -ENOENT);
    catalog_close(c);
    util_rm_tree(other);
    util_rm_tree(src);
    util_rm_tree(data);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fixtures_twice", test_fixtures_twice},
        {"foreign_and_unsorted", test_foreign_and_unsorted},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
