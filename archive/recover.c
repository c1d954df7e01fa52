/* This file implements crash recovery at startup: every recording the catalog still marks
 * open is finalized (trimmed to its last whole frame, renamed, hashed) and marked recovered;
 * then temporary files the catalog never heard of are recovered and indexed as well.
 *
 * DESIGN: a crash can leave a recording in one of three states. The temporary file exists
 * (the usual case: the process died while writing): mjr_recover() trims and renames it. Only
 * the final file exists (the process died after the engine renamed it, before the catalog
 * applied RECORDING_CLOSED): it is complete, so it is only hashed, with nothing trimmed. No
 * file exists: the recording is marked failed. Both names existing cannot come from our
 * writer, so nothing is touched and the recording is marked failed with a sentence saying
 * why. A temporary file with no catalog entry is what a crash between the engine creating
 * the file and the catalog applying RECORDING_OPENED leaves; its name and header say enough
 * to index it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive_internal.h"
#include "common/clock.h"
#include "common/sha256.h"
#include "common/xalloc.h"

#define TMP_SUFFIX ".tmp"
#define STRAY_SUFFIX ".mjr.tmp"

static void post_failed(struct archive *a, const char *rel, const char *why)
{
    struct catalog_event ev = {.kind = CATALOG_RECORDING_FAILED, .path = rel, .error = why};
    vb_log_error(a->log, "archive: recovering %s: %s", rel, why);
    int rc = catalog_post(a->catalog, &ev);
    if (rc < 0)
        vb_log_error(a->log, "archive: catalog refused the failure of %s: %s", rel, strerror(-rc));
}

/* Hashes the final file and posts RECORDING_RECOVERED. */
static int post_recovered(struct archive *a, const char *rel, const char *abs,
                          const struct mjr_recover_result *rr)
{
    struct catalog_event ev = {.kind = CATALOG_RECORDING_RECOVERED,
                               .path = rel,
                               .has_sha256 = true,
                               .frames = rr->frames,
                               .trimmed = rr->trimmed_bytes};
    int rc = vb_sha256_file(abs, ev.sha256, &ev.size);
    if (rc < 0) {
        char why[160];
        snprintf(why, sizeof(why), "recovered, but cannot be read back: %s", strerror(-rc));
        post_failed(a, rel, why);
        return rc;
    }
    vb_log_info(a->log, "archive: recovered %s (%llu bytes, %llu trimmed)", rel,
                (unsigned long long)ev.size, (unsigned long long)rr->trimmed_bytes);
    rc = catalog_post(a->catalog, &ev);
    if (rc < 0)
        vb_log_error(a->log, "archive: catalog refused the recovery of %s: %s", rel, strerror(-rc));
    return rc;
}

/* Frames of a complete file (only its final name survived). */
static void count_frames(const char *abs, struct mjr_recover_result *rr)
{
    struct archive_mjr_facts f;
    if (archive_mjr_inspect(abs, &f, NULL, 0) == 0)
        rr->frames = f.frames;
}

/* A catalog path we will touch must stay inside the recordings folder. */
static bool rel_path_safe(const char *rel)
{
    size_t k = strlen(ARCHIVE_RECORDINGS);
    return strncmp(rel, ARCHIVE_RECORDINGS, k) == 0 && rel[k] == '/' && !strstr(rel, "..") &&
           archive_ends_with(rel, ".mjr");
}

/* One recording the catalog marks open. */
static void recover_open(struct archive *a, const char *rel, struct archive_recover_report *rep)
{
    if (!rel_path_safe(rel)) {
        post_failed(a, rel, "path outside the recordings folder; not touched");
        return;
    }
    char *abs = archive_join(a->data_dir, rel);
    char *tmp = archive_printf("%s%s", abs, TMP_SUFFIX);
    int has_tmp = archive_exists(tmp), has_final = archive_exists(abs);
    struct mjr_recover_result rr = {0};
    char why[256];
    if (has_tmp < 0 || has_final < 0) {
        snprintf(why, sizeof(why), "cannot look for the file: %s",
                 strerror(-(has_tmp < 0 ? has_tmp : has_final)));
        post_failed(a, rel, why);
    } else if (has_tmp && has_final) {
        post_failed(a, rel, "both the temporary and the final file exist; left as they are");
    } else if (has_tmp) {
        int rc = mjr_recover(tmp, abs, &rr);
        if (rc < 0) {
            snprintf(why, sizeof(why), "cannot recover the temporary file: %s (%s)", strerror(-rc),
                     rr.diag);
            post_failed(a, rel, why);
        } else if (post_recovered(a, rel, abs, &rr) == 0) {
            rep->recovered++;
            rep->trimmed += rr.trimmed_bytes;
        }
    } else if (has_final) {
        count_frames(abs, &rr);
        if (post_recovered(a, rel, abs, &rr) == 0)
            rep->recovered++;
    } else {
        post_failed(a, rel, "file missing after a crash");
        rep->missing++;
    }
    free(tmp);
    free(abs);
}

/* Who a stray file belongs to, from its name (and its folder, the room). */
static void stray_identity(const char *room_dir, const char *final_name, struct archive_name *n)
{
    if (archive_name_parse(final_name, n) < 0) {
        memset(n, 0, sizeof(*n));
        n->participant = xstrdup(final_name);
        n->participant[strlen(final_name) - strlen(".mjr")] = '\0';
    }
    /* The folder is where the archive put it: it names the room. */
    free(n->room);
    n->room = xstrdup(room_dir);
}

static void post_stray_opened(struct archive *a, const char *rel, const struct archive_name *n,
                              const struct archive_mjr_facts *f)
{
    enum mjr_kind kind = f->kind != MJR_KIND_UNKNOWN ? f->kind : n->kind;
    struct catalog_event ev = {.kind = CATALOG_RECORDING_OPENED,
                               .at_us = f->created_us ? f->created_us : n->ts_us,
                               .room = n->room,
                               .participant = n->participant,
                               .kind_name = kind != MJR_KIND_UNKNOWN ? mjr_kind_name(kind) : "data",
                               .mindex = n->mindex,
                               .codec = f->codec[0] ? f->codec : "unknown",
                               .path = rel};
    int rc = catalog_post(a->catalog, &ev);
    if (rc < 0)
        vb_log_error(a->log, "archive: catalog refused the stray %s: %s", rel, strerror(-rc));
}

/* A *.mjr.tmp in recordings/<room_dir>/ that no catalog entry names. */
static void recover_stray(struct archive *a, const char *room_dir, const char *tmp_name,
                          struct archive_recover_report *rep)
{
    char *final_name = xstrdup(tmp_name);
    final_name[strlen(final_name) - strlen(TMP_SUFFIX)] = '\0';
    char *rel = archive_printf("%s/%s/%s", ARCHIVE_RECORDINGS, room_dir, final_name);
    char *abs = archive_join(a->data_dir, rel);
    char *tmp = archive_printf("%s%s", abs, TMP_SUFFIX);
    struct archive_name n;
    stray_identity(room_dir, final_name, &n);
    struct archive_mjr_facts f;
    struct mjr_recover_result rr;
    char err[160] = "";
    int rc = archive_mjr_inspect(tmp, &f, err, sizeof(err));
    if (rc < 0) {
        vb_log_warn(a->log, "archive: stray %s is not a recording we can recover: %s", tmp, err);
    } else if (archive_exists(abs) != 0) {
        vb_log_warn(a->log, "archive: stray %s: %s exists, not overwriting it", tmp, rel);
    } else if ((rc = mjr_recover(tmp, abs, &rr)) < 0) {
        vb_log_warn(a->log, "archive: stray %s: %s (%s)", tmp, strerror(-rc), rr.diag);
    } else {
        post_stray_opened(a, rel, &n, &f);
        if (post_recovered(a, rel, abs, &rr) == 0) {
            rep->stray++;
            rep->trimmed += rr.trimmed_bytes;
        }
    }
    archive_name_clear(&n);
    free(tmp);
    free(abs);
    free(rel);
    free(final_name);
}

/* Every *.mjr.tmp of one room folder that the catalog does not know. */
static void scan_room_dir(struct archive *a, const char *room_dir,
                          struct archive_recover_report *rep)
{
    char *dir = archive_printf("%s/%s/%s", a->data_dir, ARCHIVE_RECORDINGS, room_dir);
    DIR *d = opendir(dir);
    free(dir);
    if (!d)
        return;
    struct archive_strset known = {0};
    bool queried = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!archive_ends_with(de->d_name, STRAY_SUFFIX) || !strcmp(de->d_name, STRAY_SUFFIX))
            continue;
        if (!queried) {
            int rc = archive_catalog_paths(a->catalog, room_dir, &known);
            if (rc < 0) {
                vb_log_error(a->log, "archive: cannot list the catalog's recordings: %s",
                             strerror(-rc));
                break;
            }
            queried = true;
        }
        char *rel = archive_printf("%s/%s/%s", ARCHIVE_RECORDINGS, room_dir, de->d_name);
        rel[strlen(rel) - strlen(TMP_SUFFIX)] = '\0';
        if (!archive_strset_has(&known, rel))
            recover_stray(a, room_dir, de->d_name, rep);
        free(rel);
    }
    closedir(d);
    archive_strset_free(&known);
}

static void recover_strays(struct archive *a, struct archive_recover_report *rep)
{
    char *root = archive_join(a->data_dir, ARCHIVE_RECORDINGS);
    DIR *d = opendir(root);
    if (!d) {
        free(root);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
            continue;
        char *p = archive_join(root, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            scan_room_dir(a, de->d_name, rep);
        free(p);
    }
    closedir(d);
    free(root);
}

int archive_recover(struct archive *a, struct archive_recover_report *rep)
{
    struct archive_recover_report local;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    if (!a)
        return -EINVAL;
    char **paths = NULL;
    size_t n = 0;
    int rc = catalog_open_recordings(a->catalog, &paths, &n);
    if (rc < 0) {
        vb_log_error(a->log, "archive: cannot list open recordings: %s", strerror(-rc));
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        recover_open(a, paths[i], rep);
        free(paths[i]);
    }
    free(paths);
    /* The catalog must have applied the above before strays are told from known files. */
    catalog_flush(a->catalog);
    recover_strays(a, rep);
    catalog_flush(a->catalog);
    return 0;
}
