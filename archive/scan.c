/* This file implements `catalog scan`: indexing MJR files recorded elsewhere (see scan.h).
 *
 * DESIGN: the scan runs in three passes. The walk collects every *.mjr under the source and
 * reads who it belongs to from its name. The files are then sorted by (room, participant,
 * name) so that a participant's files are neighbours, and each is read (header, frames),
 * hashed and imported. Only then are events posted, a participant at a time, because the
 * participant's joined_at is the earliest creation time among all its files. What the
 * catalog already has is asked once per room (the paths it knows): a file in place with the
 * same hash is "already indexed" only if the catalog knows its path, so a scan interrupted
 * between importing and indexing is completed by the next one. Room and participant events
 * are posted only when the catalog knew nothing of that room or participant, so a second
 * scan never adds a second session for the same person. Imports never overwrite: a hard link
 * fails on an existing name, and a copy goes to a temporary name first and is linked into
 * place the same way. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive_internal.h"
#include "archive/scan.h"
#include "archive/scan_internal.h"
#include "common/sha256.h"
#include "common/xalloc.h"

#define WALK_DEPTH_MAX 32

static void say(struct scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct scan *s, const char *fmt, ...)
{
    if (!s->line)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        abort(); /* out of memory: as xmalloc */
    va_end(ap);
    s->line(s->ud, msg);
    free(msg);
}

static void skip_file(struct scan *s, const char *path, const char *why)
{
    say(s, "skipped %s: %s", path, why);
    s->rep.skipped++;
}

/* Who a file belongs to, from its name. */
static void identify(struct scan_file *f)
{
    struct archive_name n;
    if (archive_name_parse(f->name, &n) == 0 && n.videoroom && archive_id_safe(n.room)) {
        f->room = n.room;
        f->participant = n.participant;
        f->name_kind = n.kind;
        f->mindex = n.mindex;
        return;
    }
    archive_name_clear(&n);
    f->room = xstrdup(ARCHIVE_SCAN_UNSORTED);
    f->participant = xstrdup(f->name);
    f->participant[strlen(f->name) - strlen(".mjr")] = '\0';
    struct archive_name b;
    if (archive_name_parse(f->name, &b) == 0) {
        f->name_kind = b.kind;
        f->mindex = b.mindex;
    }
    archive_name_clear(&b);
}

static void add_file(struct scan *s, const char *path, const char *name)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    struct scan_file *f = &s->v[s->n++];
    memset(f, 0, sizeof(*f));
    f->src = xstrdup(path);
    f->name = xstrdup(name);
    identify(f);
}

static void consider(struct scan *s, const char *path, const char *name, int depth);

static void walk(struct scan *s, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        say(s, "error: cannot read folder %s: %s", dir, strerror(errno));
        s->rep.errors++;
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = archive_join(dir, de->d_name);
        consider(s, p, de->d_name, depth);
        free(p);
    }
    closedir(d);
}

static void consider(struct scan *s, const char *path, const char *name, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        say(s, "error: %s: %s", path, strerror(errno));
        s->rep.errors++;
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth < WALK_DEPTH_MAX)
            walk(s, path, depth + 1);
        else
            skip_file(s, path, "folders nested too deep");
        return;
    }
    if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || S_ISDIR(st.st_mode)))
        return; /* links to folders are not followed; dangling links are not files */
    if (!S_ISREG(st.st_mode))
        return;
    if (archive_ends_with(name, ".mjr.tmp"))
        skip_file(s, path, "a temporary file (still being written, or left by a crash)");
    else if (!archive_ends_with(name, ".mjr") || !strcmp(name, ".mjr"))
        skip_file(s, path, "not an .mjr file");
    else if (!archive_base_name_safe(name))
        skip_file(s, path, "the file name has control characters");
    else
        add_file(s, path, name);
}

static int cmp_file(const void *pa, const void *pb)
{
    const struct scan_file *a = pa, *b = pb;
    int c = strcmp(a->room, b->room);
    if (c == 0)
        c = strcmp(a->participant, b->participant);
    return c ? c : strcmp(a->name, b->name);
}

/* Reads the header and frames and hashes the file; false (reported) if it is unusable. */
static bool inspect(struct scan *s, struct scan_file *f)
{
    char err[200] = "";
    int rc = archive_mjr_inspect(f->src, &f->facts, err, sizeof(err));
    if (rc == -EBADMSG) {
        skip_file(s, f->src, err[0] ? err : "not an MJR file");
        return false;
    }
    if (rc == 0 && f->facts.kind == MJR_KIND_UNKNOWN && f->name_kind == MJR_KIND_UNKNOWN) {
        skip_file(s, f->src, "an MJR file with no header: neither it nor its name gives a kind");
        return false;
    }
    if (rc == 0)
        rc = vb_sha256_file(f->src, f->sha256, &f->size);
    if (rc < 0) {
        say(s, "error: cannot read %s: %s", f->src, err[0] ? err : strerror(-rc));
        s->rep.errors++;
        return false;
    }
    f->at_us = f->facts.created_us ? f->facts.created_us : f->facts.first_us;
    if (!f->at_us) {
        struct stat st;
        if (stat(f->src, &st) == 0)
            f->at_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    }
    return true;
}

/* Imports one file; sets f->state. */
static void place(struct scan *s, struct scan_file *f, struct archive_strset *known)
{
    f->rel = archive_printf("%s/%s/%s", ARCHIVE_RECORDINGS, f->room, f->name);
    char *dest = archive_join(s->data_dir, f->rel);
    char why[300];
    int rc = archive_scan_import(f->src, dest, f->sha256, why, sizeof(why));
    if (rc < 0) {
        say(s, "error: %s: %s", f->src, why);
        s->rep.errors++;
        f->state = SCAN_ERROR;
    } else if (rc == 0 && archive_strset_has(known, f->rel)) {
        f->state = SCAN_ALREADY;
        s->rep.already++;
        say(s, "already indexed %s", f->rel);
    } else {
        f->state = SCAN_NEW;
        s->rep.indexed++;
        say(s, "indexed %s (room %s, participant %s, %s)", f->rel, f->room, f->participant,
            f->facts.codec[0] ? f->facts.codec : "no codec");
    }
    free(dest);
}

/* Reads, hashes and imports every file of one room: v[0..n). */
static void import_room(struct scan *s, struct scan_file *v, size_t n)
{
    struct archive_strset known = {0};
    int rc = archive_catalog_paths(s->c, v[0].room, &known);
    if (rc < 0) {
        say(s, "error: cannot ask the catalog about room %s: %s", v[0].room, strerror(-rc));
        for (size_t i = 0; i < n; i++)
            v[i].state = SCAN_ERROR;
        s->rep.errors += (unsigned)n;
        return;
    }
    char *dir = archive_printf("%s/%s/%s", s->data_dir, ARCHIVE_RECORDINGS, v[0].room);
    rc = vb_mkdir_p(dir, ARCHIVE_DIR_MODE);
    for (size_t i = 0; i < n; i++) {
        struct scan_file *f = &v[i];
        if (rc < 0) {
            say(s, "error: %s: cannot create %s: %s", f->src, dir, strerror(-rc));
            s->rep.errors++;
            f->state = SCAN_ERROR;
        } else if (!inspect(s, f)) {
            f->state = SCAN_SKIP;
        } else {
            place(s, f, &known);
        }
    }
    /* The room is new to the catalog when it knew none of its recordings. */
    v[0].room_new = known.n == 0;
    free(dir);
    archive_strset_free(&known);
}

static void scan_free(struct scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct scan_file *f = &s->v[i];
        free(f->src);
        free(f->name);
        free(f->room);
        free(f->participant);
        free(f->rel);
    }
    free(s->v);
}

int archive_scan(const char *src_dir, const char *data_dir, struct catalog *c,
                 struct archive_scan_report *rep, void (*line)(void *ud, const char *msg), void *ud)
{
    if (!src_dir || !data_dir || !c)
        return -EINVAL;
    struct stat st;
    if (stat(src_dir, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    struct scan s = {.data_dir = data_dir, .c = c, .line = line, .ud = ud};
    walk(&s, src_dir, 0);
    if (s.n)
        qsort(s.v, s.n, sizeof(*s.v), cmp_file);
    for (size_t i = 0, j; i < s.n; i = j) {
        for (j = i + 1; j < s.n && !strcmp(s.v[j].room, s.v[i].room); j++)
            ;
        import_room(&s, s.v + i, j - i);
        archive_scan_post_room(&s, s.v + i, j - i);
    }
    catalog_flush(c);
    if (rep)
        *rep = s.rep;
    scan_free(&s);
    return 0;
}
