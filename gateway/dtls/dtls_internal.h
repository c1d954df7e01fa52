/* gateway/dtls/dtls_internal.h — what cert.c, endpoint.c and fingerprint.c share.
 *
 * The cert owns the SSL_CTX (settings shared by every endpoint) and the BIO method the
 * endpoints' datagram BIOs use; both are immutable after creation, so endpoints on several
 * loop threads use them concurrently (OpenSSL locks the SSL_CTX internally). */
#ifndef VB_GATEWAY_DTLS_INTERNAL_H
#define VB_GATEWAY_DTLS_INTERNAL_H

#include <stdatomic.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "gateway/dtls/dtls.h"

/* "AB:" per byte of a SHA-512 digest, the last without the colon, plus the NUL. */
#define DTLS_FP_STR_MAX (EVP_MAX_MD_SIZE * 3)

struct dtls_cert {
    atomic_int refs;        /* the creator's reference + one per endpoint */
    SSL_CTX *ctx;           /* owned; holds the certificate and key */
    BIO_METHOD *bio_method; /* owned; the endpoints' outgoing datagram BIO */
    char fp_sha256[DTLS_FP_STR_MAX];
};

/* Takes a reference (any thread). Released with dtls_cert_destroy(). */
void dtls_cert_ref(struct dtls_cert *c);

/* The digest for an SDP hash name ("sha-256", case-insensitive), or NULL. */
const EVP_MD *dtls_digest_by_name(const char *hash);

/* Formats `len` digest bytes as "AB:CD:..." into out (cap >= 3 * len). */
void dtls_fp_format(const uint8_t *digest, size_t len, char *out);

/* Parses "ab:CD:..." of exactly `want` bytes into out. 0 or -EINVAL. */
int dtls_fp_parse(const char *text, uint8_t *out, size_t want);

/* The SSL_CTX's certificate verification (installed by cert.c, implemented by endpoint.c):
 * compares the peer's certificate with the endpoint's remote fingerprint when it is known. */
int dtls_endpoint_verify_cert(X509_STORE_CTX *store, void *arg);

/* The BIO method's functions (endpoint.c), installed by cert.c. */
int dtls_bio_write(BIO *b, const char *data, int len);
long dtls_bio_ctrl(BIO *b, int cmd, long num, void *ptr);
int dtls_bio_create(BIO *b);
int dtls_bio_destroy(BIO *b);

#endif
