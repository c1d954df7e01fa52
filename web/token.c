/* This file implements the catalog's bearer token: loading or generating DATA/catalog-token,
 * parsing the Authorization header, and the constant-time comparison.
 *
 * DESIGN: the presented token and the server's are compared through their SHA-256 digests,
 * byte by byte without an early exit, so neither the content nor the length of the real
 * token leaks through timing. A generated token is 32 bytes from getrandom() in hex, written
 * with O_EXCL (never replacing a token another process just wrote) and mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web/web_internal.h"

#define TOKEN_FILE "catalog-token"
#define TOKEN_RANDOM_BYTES 32

bool web_token_valid(const char *s, size_t n)
{
    if (n == 0 || n > WEB_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

bool web_token_check(const struct web *w, const char *presented, size_t n)
{
    if (n > 4 * WEB_TOKEN_MAX)
        return false;
    uint8_t d[VB_SHA256_LEN];
    vb_sha256(presented, n, d);
    unsigned diff = 0;
    for (size_t i = 0; i < VB_SHA256_LEN; i++)
        diff |= (unsigned)(d[i] ^ w->token_digest[i]);
    return diff == 0;
}

const char *web_token_from_header(const char *authorization, size_t *n)
{
    const char *p = authorization;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return NULL;
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t len = strlen(p);
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (len == 0)
        return NULL;
    *n = len;
    return p;
}

/* Reads the token file into `token`. -ENOENT if there is none. */
static int token_read(const char *path, char *token, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    char buf[WEB_TOKEN_MAX + 64];
    size_t got = 0;
    int rc = 0;
    while (got < sizeof(buf)) {
        ssize_t r = read(fd, buf + got, sizeof(buf) - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (rc)
        return rc;
    size_t a = 0, b = got;
    while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\n' || buf[a] == '\r'))
        a++;
    while (b > a &&
           (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\n' || buf[b - 1] == '\r'))
        b--;
    if (got == sizeof(buf) || !web_token_valid(buf + a, b - a))
        return -EINVAL;
    if (b - a + 1 > len)
        return -ENOSPC;
    memcpy(token, buf + a, b - a);
    token[b - a] = '\0';
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Creates the token file with a fresh token. -EEXIST if one appeared meanwhile. */
static int token_create(const char *path, char *token)
{
    uint8_t rnd[TOKEN_RANDOM_BYTES];
    size_t got = 0;
    while (got < sizeof(rnd)) {
        ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        got += (size_t)r;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(rnd); i++) {
        token[2 * i] = digits[rnd[i] >> 4];
        token[2 * i + 1] = digits[rnd[i] & 15];
    }
    token[2 * sizeof(rnd)] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int rc = fchmod(fd, 0600) != 0 ? -errno : 0;
    if (!rc)
        rc = write_all(fd, token, 2 * sizeof(rnd) + 1);
    if (!rc && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc)
        unlink(path);
    token[2 * sizeof(rnd)] = '\0';
    return rc;
}

int web_token_load_or_create(const char *data_dir, char *token, size_t len, bool *created)
{
    if (!data_dir || !token)
        return -EINVAL;
    if (len < 2 * TOKEN_RANDOM_BYTES + 1)
        return -ENOSPC;
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir, TOKEN_FILE) >= sizeof(path))
        return -ENAMETOOLONG;
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = token_read(path, token, len);
        if (rc != -ENOENT) {
            if (rc == 0 && created)
                *created = false;
            return rc;
        }
        rc = token_create(path, token);
        if (rc != -EEXIST) {
            if (rc == 0 && created)
                *created = true;
            return rc;
        }
    }
    return -EAGAIN;
}
