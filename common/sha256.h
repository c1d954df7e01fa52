/* common/sha256.h — SHA-256 over OpenSSL's libcrypto, incremental or of a whole file.
 *
 * Used for recording and output integrity (computed as bytes are written, and re-checked by
 * `verbatim catalog verify`) and for the audit log's hash chain. A context is owned by its
 * caller (vb_sha256_init / vb_sha256_final or vb_sha256_discard); one thread at a time. */
#ifndef VB_COMMON_SHA256_H
#define VB_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define VB_SHA256_LEN 32
#define VB_SHA256_HEX 65 /* 64 hex digits and a NUL */

struct vb_sha256 {
    void *md; /* EVP_MD_CTX */
};

/* 0, or -ENOMEM. */
int vb_sha256_init(struct vb_sha256 *h);
void vb_sha256_update(struct vb_sha256 *h, const void *p, size_t n);
/* Writes the digest and frees the context. */
void vb_sha256_final(struct vb_sha256 *h, uint8_t out[VB_SHA256_LEN]);
/* Frees the context without a digest (NULL-safe on a context never initialised to zero). */
void vb_sha256_discard(struct vb_sha256 *h);

/* Digest of `n` bytes at once. */
void vb_sha256(const void *p, size_t n, uint8_t out[VB_SHA256_LEN]);

/* Digest and size of a whole file, read in bounded chunks. 0 or -errno. */
int vb_sha256_file(const char *path, uint8_t out[VB_SHA256_LEN], uint64_t *size);

/* Lower-case hex of a digest into `hex` (VB_SHA256_HEX bytes); parse back: 0 or -EINVAL. */
void vb_sha256_hex(const uint8_t d[VB_SHA256_LEN], char hex[VB_SHA256_HEX]);
int vb_sha256_unhex(const char *hex, uint8_t d[VB_SHA256_LEN]);

#endif
