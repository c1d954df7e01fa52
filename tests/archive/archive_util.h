/* tests/archive/archive_util.h — shared helpers of the archive tests: a data directory with a
 * real catalog in a temporary folder, catalog queries by path, synthetic RTP. */
#ifndef VB_TESTS_ARCHIVE_UTIL_H
#define VB_TESTS_ARCHIVE_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "common/bytes.h"
#include "common/sha256.h"
#include "tests/test.h"

/* Makes a fresh data directory and opens its catalog. */
static inline struct catalog *util_catalog_open(char *dir, size_t n, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, n, "%s/vb-%s-XXXXXX", base && base[0] ? base : "/tmp", tag);
    ASSERT(mkdtemp(dir) != NULL);
    char db[600], err[256] = "";
    snprintf(db, sizeof(db), "%s/catalog.db", dir);
    struct catalog_config cfg = {.db_path = db, .data_dir = dir};
    struct catalog *c = NULL;
    int rc = catalog_open(&cfg, &c, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "catalog_open: %s\n", err);
    ASSERT_EQ(rc, 0);
    return c;
}

static inline void util_rm_tree(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
}

static inline int util_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Every recording of the catalog (one page is enough for the tests). Caller decrefs. */
static inline json_t *util_recordings(struct catalog *c, const char *room)
{
    struct catalog_filter f = {.room = room, .limit = 1000};
    json_t *out = NULL;
    ASSERT_EQ(catalog_recordings_query(c, &f, &out), 0);
    ASSERT(json_is_array(json_object_get(out, "recordings")));
    return out;
}

/* The recording entry with `path` in a query result (borrowed), or NULL. */
static inline json_t *util_find(json_t *res, const char *path)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(res, "recordings"), i, r)
    {
        const char *p = json_string_value(json_object_get(r, "path"));
        if (p && strcmp(p, path) == 0)
            return r;
    }
    return NULL;
}

static inline const char *util_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static inline int64_t util_int(json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

/* Checks that the catalog's size and SHA-256 of `rel` are those of the file on disk. */
static inline void util_check_hash(const char *data_dir, json_t *rec, const char *rel)
{
    char abs[1024], hex[VB_SHA256_HEX];
    snprintf(abs, sizeof(abs), "%s/%s", data_dir, rel);
    uint8_t d[VB_SHA256_LEN];
    uint64_t size = 0;
    ASSERT_EQ(vb_sha256_file(abs, d, &size), 0);
    vb_sha256_hex(d, hex);
    ASSERT_STREQ(util_str(rec, "sha256"), hex);
    ASSERT_EQ(util_int(rec, "size"), (int64_t)size);
}

static inline size_t util_rtp(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                              size_t payload, uint8_t fill)
{
    p[0] = 0x80;
    p[1] = pt & 0x7f;
    wr_u16(p + 2, seq);
    wr_u32(p + 4, ts);
    wr_u32(p + 8, ssrc);
    memset(p + 12, fill, payload);
    return 12 + payload;
}

#endif
