/* This file implements SHA-256 helpers over OpenSSL's EVP interface (see sha256.h). */
#include "common/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

int vb_sha256_init(struct vb_sha256 *h)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        h->md = NULL;
        return -ENOMEM;
    }
    h->md = md;
    return 0;
}

void vb_sha256_update(struct vb_sha256 *h, const void *p, size_t n)
{
    if (h->md && n)
        EVP_DigestUpdate(h->md, p, n);
}

void vb_sha256_final(struct vb_sha256 *h, uint8_t out[VB_SHA256_LEN])
{
    unsigned len = 0;
    if (h->md)
        EVP_DigestFinal_ex(h->md, out, &len);
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
}

void vb_sha256_discard(struct vb_sha256 *h)
{
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
}

void vb_sha256(const void *p, size_t n, uint8_t out[VB_SHA256_LEN])
{
    unsigned len = 0;
    EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

int vb_sha256_file(const char *path, uint8_t out[VB_SHA256_LEN], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct vb_sha256 h;
    if (vb_sha256_init(&h) < 0) {
        close(fd);
        return -ENOMEM;
    }
    enum { CHUNK = 256 * 1024 };
    uint8_t *buf = malloc(CHUNK);
    uint64_t total = 0;
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
        } else if (n == 0) {
            break;
        } else {
            vb_sha256_update(&h, buf, (size_t)n);
            total += (uint64_t)n;
        }
    }
    free(buf);
    close(fd);
    if (rc < 0) {
        vb_sha256_discard(&h);
        return rc;
    }
    vb_sha256_final(&h, out);
    if (size)
        *size = total;
    return 0;
}

void vb_sha256_hex(const uint8_t d[VB_SHA256_LEN], char hex[VB_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < VB_SHA256_LEN; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int vb_sha256_unhex(const char *hex, uint8_t d[VB_SHA256_LEN])
{
    for (int i = 0; i < VB_SHA256_LEN; i++) {
        int hi = hex[2 * i] ? nibble(hex[2 * i]) : -1;
        int lo = hi >= 0 && hex[2 * i + 1] ? nibble(hex[2 * i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return -EINVAL;
        d[i] = (uint8_t)(hi << 4 | lo);
    }
    return hex[64] == '\0' ? 0 : -EINVAL;
}
