/* This file implements the file operations of an MJR writer thread: creating the temporary
 * file (O_DIRECT when the filesystem allows it), preallocating ahead of the write position,
 * preparing one write (libaio or buffered pwrite), and finishing the file at close.
 *
 * DESIGN: libaio only stays asynchronous for O_DIRECT writes inside the file's current size;
 * a write that extends the file makes io_submit wait for the allocation. So the file is grown
 * with fallocate() in chunks ahead of the writes, and trimmed back to its logical length at
 * close. Where O_DIRECT is refused (tmpfs, some filesystems) the stream falls back to
 * buffered pwrite() from the writer thread, and the engine logs that once. Everything here
 * is blocking I/O and runs only on the stream's writer thread. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "mjr/engine_internal.h"

static void note_fallback(struct mjr_stream *s, int err)
{
    struct mjr_engine *e = s->engine;
    if (!atomic_exchange(&e->fallback_logged, true))
        vb_log_warn(e->cfg.log,
                    "O_DIRECT refused for %s (%s): recordings on this filesystem use buffered "
                    "pwrite from the writer thread",
                    s->tmp_path, strerror(-err));
}

int mjr_file_open(struct mjr_stream *s)
{
    struct stat st;
    if (stat(s->path, &st) == 0) {
        vb_log_error(s->engine->cfg.log, "recording %s already exists: not overwriting it",
                     s->path);
        return -EEXIST; /* never overwrite a finished recording */
    }
    int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = -errno;
        if (err == -EEXIST)
            vb_log_error(s->engine->cfg.log,
                         "%s exists (a recording left open by a crash?): not overwriting it",
                         s->tmp_path);
        else
            vb_log_error(s->engine->cfg.log, "cannot create recording %s: %s", s->tmp_path,
                         strerror(-err));
        return err;
    }
    s->fd = fd;
    s->direct = false;
    if (!s->engine->cfg.buffered && s->writer->aio_ok) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0)
            s->direct = true;
        else
            note_fallback(s, -errno);
    } else if (!s->engine->cfg.buffered) {
        note_fallback(s, -ENOSYS);
    }
    return 0;
}

int mjr_file_reserve(struct mjr_stream *s, uint64_t end)
{
    if (end <= s->allocated)
        return 0;
    size_t chunk = s->engine->cfg.prealloc_chunk;
    if (s->info.kind != MJR_KIND_VIDEO && chunk >= 4 * MJR_BLOCK)
        chunk /= 4;
    uint64_t want = (end + chunk - 1) / chunk * chunk;
    if (fallocate(s->fd, 0, (off_t)s->allocated, (off_t)(want - s->allocated)) == 0) {
        s->allocated = want;
        return 0;
    }
    int err = -errno;
    if (err == -EOPNOTSUPP || err == -ENOSYS) {
        /* No preallocation here (some filesystems): writes extend the file instead. */
        s->allocated = UINT64_MAX;
        return 0;
    }
    /* The chunk did not fit: try just what this write needs. */
    if (fallocate(s->fd, 0, (off_t)s->allocated, (off_t)(end - s->allocated)) == 0) {
        s->allocated = end;
        return 0;
    }
    return -errno;
}

int mjr_file_prepare_write(struct mjr_stream *s, const uint8_t *buf, uint64_t off, size_t len,
                           long *res)
{
    const struct mjr_fault *f = s->engine->cfg.fault;
    if (f && f->before_write) {
        int rc = f->before_write(f->ctx, s->tmp_path, off, len);
        if (rc < 0) {
            *res = rc;
            return 1;
        }
        if (rc > 0 && (size_t)rc < len) {
            len = (size_t)rc;
            if (s->direct)
                len = len / MJR_BLOCK * MJR_BLOCK;
            if (len == 0) {
                *res = 0;
                return 1;
            }
        }
    }
    if (!s->direct) {
        ssize_t n = pwrite(s->fd, buf, len, (off_t)off);
        *res = n < 0 ? -errno : n;
        return 1;
    }
    io_prep_pwrite(&s->iocb, s->fd, (void *)buf, len, (long long)off);
    s->iocb.data = s;
    return 0;
}

static void fsync_dir(const char *path)
{
    char *copy = xstrdup(path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/* Closes and renames a stream that ended without error. */
static int finish_clean(struct mjr_stream *s, uint64_t len)
{
    int rc = 0;
    if (ftruncate(s->fd, (off_t)len) != 0)
        rc = -errno;
    if (rc == 0 && s->engine->cfg.sync != MJR_SYNC_NONE && fdatasync(s->fd) != 0)
        rc = -errno;
    close(s->fd);
    s->fd = -1;
    if (rc == 0 && rename(s->tmp_path, s->path) != 0)
        rc = -errno;
    if (rc == 0 && s->engine->cfg.sync != MJR_SYNC_NONE)
        fsync_dir(s->path);
    return rc;
}

/* Hashes the bytes not yet hashed, [hashed, len), from the segments still held. */
static void hash_tail(struct mjr_stream *s, uint64_t len, struct mjr_stream_result *res)
{
    if (!s->hashing)
        return;
    uint64_t at = s->hashed;
    while (at < len) {
        uint64_t k = at / s->seg_size, off = at % s->seg_size;
        uint64_t n = s->seg_size - off;
        if (n > len - at)
            n = len - at;
        vb_sha256_update(&s->hash, s->slots[k % MJR_SEG_SLOTS] + off, (size_t)n);
        at += n;
    }
    s->hashed = at;
    vb_sha256_final(&s->hash, res->sha256);
    s->hashing = false;
    res->has_sha256 = true;
}

void mjr_file_finish(struct mjr_stream *s, struct mjr_stream_result *res)
{
    uint64_t len = atomic_load_explicit(&s->committed, memory_order_acquire);
    res->path = s->tmp_path;
    res->bytes = len;
    res->status = atomic_load_explicit(&s->status, memory_order_relaxed);
    if (s->wstate == MJR_W_OPEN && res->status == 0) {
        int rc = finish_clean(s, len);
        if (rc == 0) {
            res->path = s->path;
            hash_tail(s, len, res);
            return;
        }
        res->status = rc;
        vb_log_error(s->engine->cfg.log, "finishing recording %s: %s", s->tmp_path, strerror(-rc));
        return;
    }
    if (s->wstate == MJR_W_NEW)
        return; /* the file could not even be created */
    /* The stream failed. Beyond what the writer knows reached the disk the file holds
     * preallocated zeros, which could complete a cut-off frame with garbage: cut there
     * first, then keep every whole frame. */
    if (s->fd >= 0) {
        uint64_t on_disk = s->tail_written > s->done ? s->tail_written : s->done;
        if (ftruncate(s->fd, (off_t)on_disk) != 0)
            vb_log_warn(s->engine->cfg.log, "cannot trim failed recording %s: %s", s->tmp_path,
                        strerror(errno));
        close(s->fd);
        s->fd = -1;
    }
    struct mjr_recover_result rr;
    if (mjr_recover(s->tmp_path, s->path, &rr) == 0) {
        res->path = s->path;
        res->bytes = rr.kept_bytes;
        res->recovered = true;
        /* Rare: the file was cut back, so hash what is on disk now. */
        if (s->hashing && vb_sha256_file(s->path, res->sha256, NULL) == 0)
            res->has_sha256 = true;
    }
}
