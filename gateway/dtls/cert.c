/* This file implements the DTLS certificate: generating an ECDSA P-256 self-signed certificate
 * or loading one from PEM files, the SSL_CTX every endpoint is made from, and fingerprints.
 *
 * DESIGN: WebRTC does not use certificate chains: each side trusts exactly the certificate
 * whose fingerprint the other put in its SDP. So the SSL_CTX replaces OpenSSL's chain
 * verification with dtls_endpoint_verify_cert() (endpoint.c), which compares the peer's
 * certificate with the fingerprint of the endpoint being verified, and requires a certificate
 * from the peer in both roles. Everything per connection (role, MTU, timers, profiles) is set
 * on the SSL object, so the context stays immutable and shared. */
#include "gateway/dtls/dtls_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>

#include "common/log.h"
#include "common/xalloc.h"

/* Our preference order; as a server OpenSSL picks the first of ours the client offers. */
#define SRTP_PROFILES_ALL                                                                          \
    "SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32"

#define CERT_VALID_DAYS 365

/* Logs OpenSSL's error queue (and empties it) under `what`. */
static void log_ssl_errors(struct vb_log *lg, const char *what)
{
    unsigned long e = ERR_get_error();
    if (e == 0) {
        vb_log_error(lg, "dtls: %s failed", what);
        return;
    }
    for (; e != 0; e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        vb_log_error(lg, "dtls: %s: %s", what, buf);
    }
}

static struct dtls_cert *cert_new(void)
{
    struct dtls_cert *c = xcalloc(1, sizeof(*c));
    atomic_init(&c->refs, 1);
    return c;
}

static void cert_free(struct dtls_cert *c)
{
    SSL_CTX_free(c->ctx);
    BIO_meth_free(c->bio_method);
    free(c);
}

void dtls_cert_ref(struct dtls_cert *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void dtls_cert_destroy(struct dtls_cert *c)
{
    if (!c)
        return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        cert_free(c);
}

/* The settings shared by every endpoint. 0 or -EIO. */
static int ctx_setup(struct dtls_cert *c)
{
    c->ctx = SSL_CTX_new(DTLS_method());
    if (!c->ctx)
        return -EIO;
    if (!SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION))
        return -EIO;
    /* We set the MTU ourselves; no session resumption between PeerConnections. */
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_cert_verify_callback(c->ctx, dtls_endpoint_verify_cert, NULL);
    /* Unlike most of OpenSSL, this one returns 0 on success. */
    if (SSL_CTX_set_tlsext_use_srtp(c->ctx, SRTP_PROFILES_ALL) != 0)
        return -EIO;

    c->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "vb-dtls-dgram");
    if (!c->bio_method)
        return -EIO;
    if (!BIO_meth_set_write(c->bio_method, dtls_bio_write) ||
        !BIO_meth_set_ctrl(c->bio_method, dtls_bio_ctrl) ||
        !BIO_meth_set_create(c->bio_method, dtls_bio_create) ||
        !BIO_meth_set_destroy(c->bio_method, dtls_bio_destroy))
        return -EIO;
    return 0;
}

/* Fills c->fp_sha256 from the context's certificate. 0 or -EIO. */
static int ctx_fingerprint(struct dtls_cert *c)
{
    X509 *x = SSL_CTX_get0_certificate(c->ctx);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!x || !X509_digest(x, EVP_sha256(), md, &n))
        return -EIO;
    dtls_fp_format(md, n, c->fp_sha256);
    return 0;
}

/* A random positive 64-bit serial number. */
static int set_random_serial(X509 *x)
{
    uint8_t raw[8];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -EIO;
    raw[0] &= 0x7f;
    raw[0] |= 0x01; /* never zero, never negative */
    BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -EIO;
}

/* A self-signed certificate for `key`. NULL on failure. */
static X509 *make_self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_set_version(x, X509_VERSION_3) || set_random_serial(x) != 0 ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -24L * 3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), CERT_VALID_DAYS * 24L * 3600) ||
        !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"verbatim", -1,
                                    -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_sign(x, key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int dtls_cert_generate(struct vb_log *lg, struct dtls_cert **out)
{
    *out = NULL;
    ERR_clear_error();
    struct dtls_cert *c = cert_new();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? make_self_signed(key) : NULL;
    if (!x || ctx_setup(c) != 0)
        goto out_fail;
    if (!SSL_CTX_use_certificate(c->ctx, x) || !SSL_CTX_use_PrivateKey(c->ctx, key) ||
        !SSL_CTX_check_private_key(c->ctx) || ctx_fingerprint(c) != 0)
        goto out_fail;
    X509_free(x);
    EVP_PKEY_free(key);
    *out = c;
    return 0;

out_fail:
    log_ssl_errors(lg, "generating the certificate");
    X509_free(x);
    EVP_PKEY_free(key);
    cert_free(c);
    return -EIO;
}

/* The passphrase callback: the configured passphrase or nothing (OpenSSL must never prompt on
 * the terminal). */
static int passphrase_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *pass = userdata;
    if (!pass || size <= 0)
        return 0;
    size_t n = strlen(pass);
    if (n >= (size_t)size)
        return 0;
    memcpy(buf, pass, n);
    return (int)n;
}

int dtls_cert_load(struct vb_log *lg, const char *cert_path, const char *key_path,
                   const char *passphrase, struct dtls_cert **out)
{
    *out = NULL;
    struct stat st;
    if (!cert_path || !key_path)
        return -EINVAL;
    if (stat(cert_path, &st) != 0 || stat(key_path, &st) != 0) {
        vb_log_error(lg, "dtls: certificate %s or key %s not found", cert_path, key_path);
        return -ENOENT;
    }
    ERR_clear_error();
    struct dtls_cert *c = cert_new();
    if (ctx_setup(c) != 0) {
        log_ssl_errors(lg, "setting up the DTLS context");
        cert_free(c);
        return -EIO;
    }
    SSL_CTX_set_default_passwd_cb(c->ctx, passphrase_cb);
    SSL_CTX_set_default_passwd_cb_userdata(c->ctx, (void *)passphrase);
    int ok = SSL_CTX_use_certificate_chain_file(c->ctx, cert_path) == 1 &&
             SSL_CTX_use_PrivateKey_file(c->ctx, key_path, SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(c->ctx) == 1 && ctx_fingerprint(c) == 0;
    /* The passphrase is borrowed: do not keep a pointer to it. */
    SSL_CTX_set_default_passwd_cb_userdata(c->ctx, NULL);
    if (!ok) {
        log_ssl_errors(lg, "loading the certificate");
        cert_free(c);
        return -EINVAL;
    }
    *out = c;
    return 0;
}

const char *dtls_cert_fingerprint(const struct dtls_cert *c)
{
    return c->fp_sha256;
}

int dtls_cert_fingerprint_hash(const struct dtls_cert *c, const char *hash, char *out, size_t cap)
{
    const EVP_MD *md = dtls_digest_by_name(hash);
    if (!md)
        return -ENOTSUP;
    X509 *x = SSL_CTX_get0_certificate(c->ctx);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!x || !X509_digest(x, md, digest, &n))
        return -EIO;
    if (cap < (size_t)n * 3)
        return -ENOSPC;
    dtls_fp_format(digest, n, out);
    return 0;
}
