/* This file implements how `catalog scan` puts a file into the data directory: a hard link
 * when the source is on the same filesystem, else a copy, and never over an existing file.
 *
 * DESIGN: linkat() refuses an existing name atomically, which is the "never overwrite" rule
 * for free. A copy is written to "<dest>.import" (O_EXCL), hashed as it is written, synced,
 * checked against the source's digest (a file changing under the scan is an error, not an
 * archive entry), and then linked to its final name with the same linkat() rule. A crash
 * mid-copy leaves only the ".import" name, which the next scan replaces. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/scan_internal.h"
#include "common/sha256.h"
#include "common/xalloc.h"

#define COPY_CHUNK (256 * 1024)

/* 0 when `dest` holds a file with digest `sha256`, else -EEXIST (or -errno) with why. */
static int compare_existing(const char *dest, const uint8_t sha256[32], char *why, size_t whylen)
{
    uint8_t d[VB_SHA256_LEN];
    int rc = vb_sha256_file(dest, d, NULL);
    if (rc < 0) {
        snprintf(why, whylen, "%s exists and cannot be read: %s", dest, strerror(-rc));
        return rc;
    }
    if (memcmp(d, sha256, VB_SHA256_LEN) != 0) {
        snprintf(why, whylen, "a different file named %s is already in the data directory", dest);
        return -EEXIST;
    }
    return 0;
}

/* Copies src into the open file `out`, hashing what is written. */
static int copy_fd(int in, int out, uint8_t digest[32])
{
    struct vb_sha256 h;
    int rc = vb_sha256_init(&h);
    if (rc < 0)
        return rc;
    uint8_t *buf = xmalloc(COPY_CHUNK);
    for (;;) {
        ssize_t n = read(in, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        for (ssize_t off = 0; off < n && rc == 0;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w == 0)
                rc = -EIO;
            else if (w < 0 && errno != EINTR)
                rc = -errno;
            off += w > 0 ? w : 0;
        }
        if (rc < 0)
            break;
        vb_sha256_update(&h, buf, (size_t)n);
    }
    free(buf);
    if (rc < 0) {
        vb_sha256_discard(&h);
        return rc;
    }
    vb_sha256_final(&h, digest);
    return 0;
}

/* Copies src to tmp (created here), synced, and checks its digest. */
static int copy_to(const char *src, const char *tmp, const uint8_t sha256[32], char *why,
                   size_t whylen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        int rc = -errno;
        snprintf(why, whylen, "cannot open %s: %s", src, strerror(-rc));
        return rc;
    }
    unlink(tmp); /* a leftover of an interrupted scan */
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0) {
        int rc = -errno;
        snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(-rc));
        close(in);
        return rc;
    }
    uint8_t d[VB_SHA256_LEN];
    int rc = copy_fd(in, out, d);
    if (rc == 0 && fsync(out) != 0)
        rc = -errno;
    if (close(out) != 0 && rc == 0)
        rc = -errno;
    close(in);
    if (rc < 0)
        snprintf(why, whylen, "copying to %s: %s", tmp, strerror(-rc));
    else if (memcmp(d, sha256, VB_SHA256_LEN) != 0) {
        snprintf(why, whylen, "%s changed while it was being copied", src);
        rc = -EAGAIN;
    }
    return rc;
}

int archive_scan_import(const char *src, const char *dest, const uint8_t sha256[32], char *why,
                        size_t whylen)
{
    int rc = archive_exists(dest);
    if (rc < 0) {
        snprintf(why, whylen, "cannot look at %s: %s", dest, strerror(-rc));
        return rc;
    }
    if (rc > 0)
        return compare_existing(dest, sha256, why, whylen);
    if (linkat(AT_FDCWD, src, AT_FDCWD, dest, AT_SYMLINK_FOLLOW) == 0)
        return 1;
    if (errno == EEXIST) /* someone placed it meanwhile */
        return compare_existing(dest, sha256, why, whylen);
    char *tmp = archive_printf("%s.import", dest);
    rc = copy_to(src, tmp, sha256, why, whylen);
    if (rc == 0 && linkat(AT_FDCWD, tmp, AT_FDCWD, dest, 0) != 0) {
        rc = -errno;
        if (rc == -EEXIST)
            rc = compare_existing(dest, sha256, why, whylen);
        else
            snprintf(why, whylen, "cannot link %s: %s", dest, strerror(-rc));
    } else if (rc == 0) {
        rc = 1;
    }
    unlink(tmp);
    free(tmp);
    return rc;
}
