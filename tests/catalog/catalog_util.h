/* tests/catalog/catalog_util.h — what the catalog tests share: a temporary folder with a
 * catalog in it, removed with everything under it at the end. */
#ifndef VB_TESTS_CATALOG_UTIL_H
#define VB_TESTS_CATALOG_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog/catalog.h"
#include "tests/test.h"

static inline int cat_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Removes `dir` and everything under it. */
static inline void cat_rm_tree(const char *dir)
{
    ASSERT_EQ(nftw(dir, cat_rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* Makes /tmp/vb-catalog-<tag>-XXXXXX into dir and opens dir/catalog.db (path in db). */
static inline struct catalog *cat_open_tmp(char *dir, size_t dir_len, char *db, size_t db_len,
                                           const char *tag)
{
    snprintf(dir, dir_len, "/tmp/vb-catalog-%s-XXXXXX", tag);
    ASSERT(mkdtemp(dir));
    snprintf(db, db_len, "%s/catalog.db", dir);
    struct catalog_config cfg = {.db_path = db, .data_dir = dir};
    char err[256];
    struct catalog *c = NULL;
    ASSERT_EQ(catalog_open(&cfg, &c, err, sizeof err), 0);
    return c;
}

#endif
