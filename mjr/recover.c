/* This file implements crash recovery of MJR files: a recording left under its temporary
 * name is trimmed to its last whole frame, synced and renamed to its final name.
 *
 * DESIGN: the file is read with the ordinary reader, so "whole frame" means exactly what it
 * means everywhere else; the reader's good_end is the length to keep. What lies past it (a
 * cut-off frame, a lone prefix, the zeros fallocate() left ahead of the write position) is
 * cut with ftruncate(). Two cases are refused rather than trimmed, because trimming would
 * throw away data a person might still salvage: a read error, and a header record that is
 * whole but unusable (every frame after it would be cut). The file is fsynced before the
 * rename and the directory after it, so a second crash leaves either name, never a torn one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "mjr/reader_internal.h"

#define TMP_SUFFIX ".tmp"

/* tmp_path without its ".tmp" suffix (malloc'd), or NULL if it has none. */
static char *strip_tmp_suffix(const char *tmp_path)
{
    size_t n = strlen(tmp_path), s = strlen(TMP_SUFFIX);
    if (n <= s || strcmp(tmp_path + n - s, TMP_SUFFIX) != 0)
        return NULL;
    char *out = xmalloc(n - s + 1);
    memcpy(out, tmp_path, n - s);
    out[n - s] = '\0';
    return out;
}

/* Makes the rename durable by syncing the directory that holds `path`. */
static int fsync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xmalloc((size_t)(slash - path) + 2) : xstrdup(".");
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int rc = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        rc = -errno;
    else if (fsync(fd) != 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* Reads every whole frame; fills res->frames and the length to keep. Returns 0, or -errno
 * (-EBADMSG for a file that is not MJR or whose header is unusable). */
static int scan_file(const char *path, struct mjr_recover_result *res, uint64_t *keep)
{
    struct mjr_reader *r;
    char err[sizeof(res->diag)];
    int rc = mjr_reader_open(path, &r, err, sizeof(err));
    if (rc < 0) {
        snprintf(res->diag, sizeof(res->diag), "%s", err);
        return rc;
    }
    struct mjr_frame f;
    while (mjr_reader_next(r, &f) == 1)
        res->frames++;
    snprintf(res->diag, sizeof(res->diag), "%s", mjr_reader_diag(r));
    *keep = mjr_reader_good_end(r);
    if (mjr_reader_io_error(r))
        rc = mjr_reader_io_error(r);
    else if (mjr_reader_header_damaged(r))
        rc = -EBADMSG;
    mjr_reader_destroy(r);
    return rc;
}

/* Cuts the file to `keep` bytes and syncs it; sets the byte counts in res. */
static int trim_file(const char *path, uint64_t keep, struct mjr_recover_result *res)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out_close;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < keep) { /* the file shrank under us: someone else is using it */
        rc = -EBUSY;
        goto out_close;
    }
    if (size > keep && ftruncate(fd, (off_t)keep) != 0) {
        rc = -errno;
        goto out_close;
    }
    if (fsync(fd) != 0) {
        rc = -errno;
        goto out_close;
    }
    res->kept_bytes = keep;
    res->trimmed_bytes = size - keep;
out_close:
    close(fd);
    return rc;
}

int mjr_recover(const char *tmp_path, const char *final_path, struct mjr_recover_result *res)
{
    struct mjr_recover_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    if (!tmp_path)
        return -EINVAL;
    char *derived = NULL;
    if (!final_path) {
        derived = strip_tmp_suffix(tmp_path);
        if (!derived) {
            snprintf(res->diag, sizeof(res->diag),
                     "No final name given and the file name does not end in \".tmp\".");
            return -EINVAL;
        }
        final_path = derived;
    }
    uint64_t keep = 0;
    int rc = scan_file(tmp_path, res, &keep);
    if (rc < 0)
        goto out_free;
    rc = trim_file(tmp_path, keep, res);
    if (rc < 0)
        goto out_free;
    if (strcmp(tmp_path, final_path) != 0 && rename(tmp_path, final_path) != 0) {
        rc = -errno;
        goto out_free;
    }
    rc = fsync_parent_dir(final_path);
out_free:
    free(derived);
    return rc;
}
