/* This file implements the archive's small helpers: a sorted string set, the list
 * of recording paths the catalog knows for a room, and reading the facts a catalog entry
 * needs (kind, codec, times, frames) out of an MJR file found on disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive_internal.h"
#include "common/xalloc.h"

#define PATHS_PAGE 1000 /* the catalog's largest page */

int archive_exists(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -errno;
}

void archive_strset_add(struct archive_strset *s, const char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = xstrdup(str);
    s->sorted = false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool archive_strset_has(struct archive_strset *s, const char *str)
{
    if (s->n == 0)
        return false;
    if (!s->sorted) {
        qsort(s->v, s->n, sizeof(*s->v), cmp_str);
        s->sorted = true;
    }
    return bsearch(&str, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

void archive_strset_free(struct archive_strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Adds the "path" of each entry of one page; returns how many entries it had. */
static size_t add_page(json_t *page, struct archive_strset *set)
{
    json_t *arr = json_object_get(page, "recordings");
    size_t i;
    json_t *rec;
    json_array_foreach(arr, i, rec)
    {
        const char *p = json_string_value(json_object_get(rec, "path"));
        if (p)
            archive_strset_add(set, p);
    }
    return json_array_size(arr);
}

int archive_catalog_paths(struct catalog *c, const char *room, struct archive_strset *set)
{
    struct catalog_filter f = {.room = room, .limit = PATHS_PAGE};
    for (;;) {
        json_t *page = NULL;
        int rc = catalog_recordings_query(c, &f, &page);
        if (rc < 0)
            return rc;
        size_t got = add_page(page, set);
        json_int_t total = json_integer_value(json_object_get(page, "total"));
        json_decref(page);
        f.offset += (int64_t)got;
        if (got == 0 || f.offset >= total)
            return 0;
    }
}

int archive_mjr_inspect(const char *path, struct archive_mjr_facts *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    struct mjr_reader *r;
    int rc = mjr_reader_open(path, &r, err, errlen);
    if (rc < 0)
        return rc;
    f->kind = mjr_reader_kind(r);
    const char *codec = mjr_reader_codec(r);
    snprintf(f->codec, sizeof(f->codec), "%s", codec ? codec : "");
    f->created_us = mjr_reader_created_us(r);
    f->first_us = mjr_reader_first_frame_us(r);
    uint32_t last_ms = 0;
    struct mjr_frame fr;
    while (mjr_reader_next(r, &fr) == 1) {
        f->frames++;
        if (fr.has_time)
            last_ms = fr.t_ms;
    }
    f->end_us = f->first_us ? f->first_us + (int64_t)last_ms * 1000 : f->created_us;
    mjr_reader_destroy(r);
    return 0;
}
