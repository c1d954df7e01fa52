/* This file implements the DTLS endpoint of a PeerConnection: the handshake over memory,
 * retransmission timers, peer verification by fingerprint and the SRTP key export.
 *
 * DESIGN: OpenSSL reads from a memory BIO that holds the one datagram being fed, and writes
 * through a BIO of our own whose every write is one datagram handed to the send callback.
 * During a handshake OpenSSL buffers a flight's records and flushes them in writes that each
 * fit the MTU we set, so the callback never sees more than one datagram at a time (a plain
 * memory BIO would glue datagrams together). The peer's certificate is compared with the
 * remote fingerprint inside the handshake when the fingerprint is already known (so a
 * mismatch costs the peer a bad_certificate alert), and again when the handshake completes;
 * when the fingerprint arrives only after the handshake (an answer that is slower than the
 * peer's ClientHello), the endpoint waits in DTLS_CONNECTING until it is set. */
#include "gateway/dtls/dtls_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/srtp.h>

#include "common/log.h"
#include "common/xalloc.h"

#define DEFAULT_MTU 1200
#define MIN_MTU 256
#define MAX_DATAGRAM 16384
#define DEFAULT_RETRANSMIT_MS 1000
#define MIN_RETRANSMIT_MS 20 /* OpenSSL treats a timer with less than 15 ms left as expired */
#define DEFAULT_RETRANSMIT_MAX_MS 60000
#define EXTRACTOR_LABEL "EXTRACTOR-dtls_srtp"
#define ALL_PROFILES                                                                               \
    (DTLS_SRTP_MASK(DTLS_SRTP_AES128_CM_SHA1_80) | DTLS_SRTP_MASK(DTLS_SRTP_AES128_CM_SHA1_32) |   \
     DTLS_SRTP_MASK(DTLS_SRTP_AEAD_AES_128_GCM) | DTLS_SRTP_MASK(DTLS_SRTP_AEAD_AES_256_GCM))

struct dtls_endpoint {
    struct dtls_cert *cert; /* a reference */
    struct dtls_endpoint_config cfg;
    SSL *ssl;
    BIO *rbio; /* owned by ssl */
    atomic_int state;
    bool handshake_done; /* OpenSSL finished; verification may still wait for the fp */
    bool fp_mismatch;    /* the verify callback rejected the peer */
    const EVP_MD *remote_md;
    uint8_t remote_fp[EVP_MAX_MD_SIZE];
    unsigned remote_fp_len; /* 0 until set */
    struct dtls_srtp_keys keys;
    char reason[160];
    char alert_in[96];  /* the last alert received, from the info callback */
    char alert_out[96]; /* the last alert sent */
    atomic_uint_least64_t datagrams_in, bytes_in, datagrams_out, bytes_out, retransmissions;
};

/* Single-writer counters (the loop thread), readable from any thread. */
static void counter_add(atomic_uint_least64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static void set_state(struct dtls_endpoint *ep, enum dtls_state st, const char *reason)
{
    if (atomic_load_explicit(&ep->state, memory_order_relaxed) == (int)st)
        return;
    if (reason)
        snprintf(ep->reason, sizeof(ep->reason), "%s", reason);
    atomic_store_explicit(&ep->state, (int)st, memory_order_relaxed);
    if (st == DTLS_FAILED || st == DTLS_CLOSED)
        vb_log_info(ep->cfg.log, "dtls: %s (%s)", dtls_state_name(st), ep->reason);
    if (ep->cfg.on_state)
        ep->cfg.on_state(ep->cfg.ctx, st, ep->reason);
}

static bool is_terminal(const struct dtls_endpoint *ep)
{
    int st = atomic_load_explicit(&ep->state, memory_order_relaxed);
    return st == DTLS_FAILED || st == DTLS_CLOSED;
}

static void fail(struct dtls_endpoint *ep, const char *reason)
{
    if (!is_terminal(ep))
        set_state(ep, DTLS_FAILED, reason);
}

/* Fails with the best explanation of an OpenSSL error: our own rejection of the peer, an
 * alert the peer sent, OpenSSL's reason for an alert we sent, or that alert. */
static void fail_ssl(struct dtls_endpoint *ep, const char *what)
{
    char buf[160];
    unsigned long e = ERR_peek_last_error();
    const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
    if (ep->fp_mismatch)
        snprintf(buf, sizeof(buf), "fingerprint mismatch");
    else if (ep->alert_in[0])
        snprintf(buf, sizeof(buf), "%s", ep->alert_in);
    else if (why)
        snprintf(buf, sizeof(buf), "%s: %s", what, why);
    else if (ep->alert_out[0])
        snprintf(buf, sizeof(buf), "%s", ep->alert_out);
    else
        snprintf(buf, sizeof(buf), "%s", what);
    ERR_clear_error();
    fail(ep, buf);
}

/* ---- The outgoing datagram BIO (its method lives in the cert) ---- */

int dtls_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

int dtls_bio_destroy(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

int dtls_bio_write(BIO *b, const char *data, int len)
{
    struct dtls_endpoint *ep = BIO_get_data(b);
    if (!ep || len <= 0)
        return len < 0 ? -1 : 0;
    ep->cfg.send(ep->cfg.ctx, (const uint8_t *)data, (size_t)len);
    counter_add(&ep->datagrams_out, 1);
    counter_add(&ep->bytes_out, (uint64_t)len);
    /* Like UDP, a datagram is always "sent"; a lost one is retransmitted by DTLS. */
    return len;
}

long dtls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    struct dtls_endpoint *ep = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return ep ? (long)ep->cfg.mtu : DEFAULT_MTU;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: /* our MTU is already the datagram payload */
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
    default:
        return 0;
    }
}

/* ---- OpenSSL callbacks ---- */

static void info_cb(const SSL *ssl, int where, int ret)
{
    struct dtls_endpoint *ep = SSL_get_app_data(ssl);
    if (!ep || !(where & SSL_CB_ALERT))
        return;
    bool in = (where & SSL_CB_READ) != 0;
    char *dst = in ? ep->alert_in : ep->alert_out;
    snprintf(dst, sizeof(ep->alert_in), "%s %s alert: %s", in ? "received" : "sent",
             SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
    vb_log_debug(ep->cfg.log, "dtls: %s", dst);
}

static unsigned int timer_cb(SSL *ssl, unsigned int timer_us)
{
    struct dtls_endpoint *ep = SSL_get_app_data(ssl);
    unsigned first = ep->cfg.retransmit_ms * 1000u, max = ep->cfg.retransmit_max_ms * 1000u;
    if (timer_us == 0)
        return first;
    return timer_us >= max / 2 ? max : timer_us * 2;
}

/* Whether the peer's certificate matches the remote fingerprint (which must be set). */
static bool peer_matches(const struct dtls_endpoint *ep, X509 *peer)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!peer || !X509_digest(peer, ep->remote_md, md, &n))
        return false;
    return n == ep->remote_fp_len && CRYPTO_memcmp(md, ep->remote_fp, n) == 0;
}

int dtls_endpoint_verify_cert(X509_STORE_CTX *store, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct dtls_endpoint *ep = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *peer = X509_STORE_CTX_get0_cert(store);
    if (!ep || !peer)
        return 0;
    if (ep->remote_fp_len == 0)
        return 1; /* checked when the fingerprint arrives */
    if (peer_matches(ep, peer))
        return 1;
    ep->fp_mismatch = true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
}

/* ---- Creation ---- */

/* The profile list for SSL_set_tlsext_use_srtp from a mask, in our preference order. */
static void profile_list(unsigned mask, char *out, size_t cap)
{
    static const enum dtls_srtp_profile order[] = {
        DTLS_SRTP_AEAD_AES_256_GCM, DTLS_SRTP_AEAD_AES_128_GCM, DTLS_SRTP_AES128_CM_SHA1_80,
        DTLS_SRTP_AES128_CM_SHA1_32};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!(mask & DTLS_SRTP_MASK(order[i])))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? ":" : "",
                         dtls_srtp_profile_name(order[i]));
        if (n > 0 && (size_t)n < cap - used)
            used += (size_t)n;
    }
}

static int check_config(struct dtls_endpoint_config *cfg)
{
    if (!cfg->send || (cfg->role != DTLS_ROLE_CLIENT && cfg->role != DTLS_ROLE_SERVER))
        return -EINVAL;
    if (cfg->mtu == 0)
        cfg->mtu = DEFAULT_MTU;
    if (cfg->retransmit_ms == 0)
        cfg->retransmit_ms = DEFAULT_RETRANSMIT_MS;
    if (cfg->retransmit_max_ms == 0)
        cfg->retransmit_max_ms = DEFAULT_RETRANSMIT_MAX_MS;
    if (cfg->srtp_profiles == 0)
        cfg->srtp_profiles = ALL_PROFILES;
    if (cfg->mtu < MIN_MTU || cfg->mtu > MAX_DATAGRAM ||
        (cfg->srtp_profiles & ~ALL_PROFILES) != 0 || cfg->retransmit_ms < MIN_RETRANSMIT_MS ||
        cfg->retransmit_max_ms > 600000 || cfg->retransmit_ms > cfg->retransmit_max_ms)
        return -EINVAL;
    return 0;
}

/* Creates the SSL object with its BIOs and per-connection settings. 0 or -EIO. */
static int ssl_setup(struct dtls_endpoint *ep)
{
    ep->ssl = SSL_new(ep->cert->ctx);
    if (!ep->ssl)
        return -EIO;
    SSL_set_app_data(ep->ssl, ep);
    ep->rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(ep->cert->bio_method);
    if (!ep->rbio || !wbio) {
        BIO_free(ep->rbio);
        BIO_free(wbio);
        ep->rbio = NULL;
        return -EIO;
    }
    BIO_set_mem_eof_return(ep->rbio, -1); /* empty means "wait for more", not EOF */
    BIO_set_data(wbio, ep);
    SSL_set_bio(ep->ssl, ep->rbio, wbio);
    if (!SSL_set_mtu(ep->ssl, (long)ep->cfg.mtu))
        return -EIO;
    DTLS_set_timer_cb(ep->ssl, timer_cb);
    SSL_set_info_callback(ep->ssl, info_cb);
    if (ep->cfg.srtp_profiles != ALL_PROFILES) {
        char list[160];
        profile_list(ep->cfg.srtp_profiles, list, sizeof(list));
        if (SSL_set_tlsext_use_srtp(ep->ssl, list) != 0)
            return -EIO;
    }
    if (ep->cfg.role == DTLS_ROLE_CLIENT)
        SSL_set_connect_state(ep->ssl);
    else
        SSL_set_accept_state(ep->ssl);
    return 0;
}

int dtls_endpoint_create(struct dtls_cert *cert, const struct dtls_endpoint_config *cfg,
                         struct dtls_endpoint **out)
{
    *out = NULL;
    if (!cert || !cfg)
        return -EINVAL;
    struct dtls_endpoint *ep = xcalloc(1, sizeof(*ep));
    ep->cfg = *cfg;
    if (check_config(&ep->cfg) != 0) {
        free(ep);
        return -EINVAL;
    }
    dtls_cert_ref(cert);
    ep->cert = cert;
    atomic_init(&ep->state, DTLS_NEW);
    ERR_clear_error();
    if (ssl_setup(ep) != 0) {
        vb_log_error(ep->cfg.log, "dtls: cannot create the DTLS connection");
        ERR_clear_error();
        dtls_endpoint_destroy(ep);
        return -EIO;
    }
    *out = ep;
    return 0;
}

void dtls_endpoint_destroy(struct dtls_endpoint *ep)
{
    if (!ep)
        return;
    SSL_free(ep->ssl);
    dtls_cert_destroy(ep->cert);
    OPENSSL_cleanse(&ep->keys, sizeof(ep->keys));
    free(ep);
}

/* ---- Handshake ---- */

static int key_lengths(unsigned long profile, size_t *key, size_t *salt)
{
    switch (profile) {
    case DTLS_SRTP_AES128_CM_SHA1_80:
    case DTLS_SRTP_AES128_CM_SHA1_32:
        *key = 16, *salt = 14;
        return 0;
    case DTLS_SRTP_AEAD_AES_128_GCM:
        *key = 16, *salt = 12;
        return 0;
    case DTLS_SRTP_AEAD_AES_256_GCM:
        *key = 32, *salt = 12;
        return 0;
    default:
        return -EPROTO;
    }
}

/* Exports the keying material (RFC 5764 4.2: client key, server key, client salt, server
 * salt) into ep->keys, ours as local. 0, -EPROTO (no profile negotiated) or -EIO. */
static int export_keys(struct dtls_endpoint *ep)
{
    const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(ep->ssl);
    size_t k, s;
    if (!prof || key_lengths(prof->id, &k, &s) != 0)
        return -EPROTO;
    uint8_t m[2 * DTLS_SRTP_MAX_KEY_SALT];
    if (SSL_export_keying_material(ep->ssl, m, 2 * (k + s), EXTRACTOR_LABEL,
                                   strlen(EXTRACTOR_LABEL), NULL, 0, 0) != 1)
        return -EIO;
    const uint8_t *client_key = m, *server_key = m + k;
    const uint8_t *client_salt = m + 2 * k, *server_salt = m + 2 * k + s;
    bool client = ep->cfg.role == DTLS_ROLE_CLIENT;
    struct dtls_srtp_keys *keys = &ep->keys;
    keys->profile = (enum dtls_srtp_profile)prof->id;
    keys->key_len = k;
    keys->salt_len = s;
    memcpy(keys->local, client ? client_key : server_key, k);
    memcpy(keys->local + k, client ? client_salt : server_salt, s);
    memcpy(keys->remote, client ? server_key : client_key, k);
    memcpy(keys->remote + k, client ? server_salt : client_salt, s);
    OPENSSL_cleanse(m, sizeof(m));
    return 0;
}

/* The handshake is done and the remote fingerprint known: verify the peer, export the keys. */
static void complete(struct dtls_endpoint *ep)
{
    const char *why = NULL;
    int rc = 0;
    if (!peer_matches(ep, SSL_get0_peer_certificate(ep->ssl))) {
        ep->fp_mismatch = true;
        why = "fingerprint mismatch";
    } else if ((rc = export_keys(ep)) != 0) {
        why = rc == -EPROTO ? "no SRTP profile negotiated" : "exporting the SRTP keys failed";
    }
    if (why) {
        /* A close_notify, so that the peer stops instead of waiting for media. */
        ERR_clear_error();
        SSL_shutdown(ep->ssl);
        ERR_clear_error();
        fail(ep, why);
        return;
    }
    vb_log_debug(ep->cfg.log, "dtls: connected as %s, %s",
                 ep->cfg.role == DTLS_ROLE_CLIENT ? "client" : "server",
                 dtls_srtp_profile_name(ep->keys.profile));
    set_state(ep, DTLS_CONNECTED, "");
}

static void drive_handshake(struct dtls_endpoint *ep)
{
    ERR_clear_error();
    int r = SSL_do_handshake(ep->ssl);
    if (r == 1) {
        ep->handshake_done = true;
        if (ep->remote_fp_len > 0)
            complete(ep);
        else
            vb_log_debug(ep->cfg.log, "dtls: handshake done, waiting for the fingerprint");
        return;
    }
    int err = SSL_get_error(ep->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return;
    fail_ssl(ep, "handshake failed");
}

/* Reads every record left after the handshake: application data, alerts, close_notify and
 * the peer's retransmitted last flight (which OpenSSL answers by retransmitting ours). */
static void read_records(struct dtls_endpoint *ep)
{
    uint8_t buf[SSL3_RT_MAX_PLAIN_LENGTH];
    while (!is_terminal(ep)) {
        ERR_clear_error();
        int n = SSL_read(ep->ssl, buf, sizeof(buf));
        if (n > 0) {
            /* Data before the peer is verified is dropped. */
            if (dtls_endpoint_state(ep) == DTLS_CONNECTED && ep->cfg.on_data)
                ep->cfg.on_data(ep->cfg.ctx, buf, (size_t)n);
            continue;
        }
        int err = SSL_get_error(ep->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
            return;
        if (err == SSL_ERROR_ZERO_RETURN) {
            set_state(ep, DTLS_CLOSED, ep->alert_in[0] ? ep->alert_in : "received close_notify");
            return;
        }
        fail_ssl(ep, "DTLS read failed");
    }
}

int dtls_endpoint_start(struct dtls_endpoint *ep)
{
    if (dtls_endpoint_state(ep) != DTLS_NEW)
        return -EALREADY;
    set_state(ep, DTLS_CONNECTING, "");
    drive_handshake(ep);
    return is_terminal(ep) ? -EIO : 0;
}

int dtls_endpoint_input(struct dtls_endpoint *ep, const uint8_t *data, size_t len)
{
    if (!data || len == 0 || len > MAX_DATAGRAM)
        return -EINVAL;
    if (is_terminal(ep))
        return -ENOTCONN;
    counter_add(&ep->datagrams_in, 1);
    counter_add(&ep->bytes_in, len);
    if (dtls_endpoint_state(ep) == DTLS_NEW && dtls_endpoint_start(ep) != 0)
        return -ENOTCONN;
    if (BIO_write(ep->rbio, data, (int)len) != (int)len)
        return -EIO;
    if (!ep->handshake_done)
        drive_handshake(ep);
    if (ep->handshake_done && !is_terminal(ep))
        read_records(ep);
    /* OpenSSL reads a whole datagram at once; never let a leftover join the next one. */
    (void)BIO_reset(ep->rbio);
    return 0;
}

int dtls_endpoint_timeout_ms(struct dtls_endpoint *ep)
{
    if (dtls_endpoint_state(ep) == DTLS_NEW || is_terminal(ep))
        return -1;
    struct timeval tv;
    if (DTLSv1_get_timeout(ep->ssl, &tv) != 1)
        return -1;
    long long ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > 24LL * 3600 * 1000 ? 24 * 3600 * 1000 : (int)ms;
}

int dtls_endpoint_on_timer(struct dtls_endpoint *ep)
{
    if (dtls_endpoint_state(ep) == DTLS_NEW || is_terminal(ep))
        return -ENOTCONN;
    ERR_clear_error();
    int r = DTLSv1_handle_timeout(ep->ssl);
    if (r > 0) {
        counter_add(&ep->retransmissions, 1);
        return 1;
    }
    if (r == 0)
        return 0;
    ERR_clear_error();
    fail(ep, "handshake timeout");
    return -ETIMEDOUT;
}

int dtls_endpoint_write(struct dtls_endpoint *ep, const uint8_t *data, size_t len)
{
    if (dtls_endpoint_state(ep) != DTLS_CONNECTED)
        return -ENOTCONN;
    if (!data || len == 0)
        return -EINVAL;
    if (len > DTLS_get_data_mtu(ep->ssl))
        return -EMSGSIZE;
    ERR_clear_error();
    int n = SSL_write(ep->ssl, data, (int)len);
    if (n != (int)len) {
        ERR_clear_error();
        return -EIO;
    }
    return 0;
}

void dtls_endpoint_close(struct dtls_endpoint *ep)
{
    if (is_terminal(ep))
        return;
    if (dtls_endpoint_state(ep) != DTLS_NEW) {
        ERR_clear_error();
        SSL_shutdown(ep->ssl);
        ERR_clear_error();
    }
    set_state(ep, DTLS_CLOSED, "closed locally");
}

int dtls_endpoint_set_remote_fingerprint(struct dtls_endpoint *ep, const char *hash,
                                         const char *fingerprint)
{
    if (ep->remote_fp_len > 0)
        return -EALREADY;
    if (!hash || !fingerprint)
        return -EINVAL;
    const EVP_MD *md = dtls_digest_by_name(hash);
    if (!md)
        return -ENOTSUP;
    size_t want = (size_t)EVP_MD_get_size(md);
    if (dtls_fp_parse(fingerprint, ep->remote_fp, want) != 0)
        return -EINVAL;
    ep->remote_md = md;
    ep->remote_fp_len = (unsigned)want;
    if (ep->handshake_done && dtls_endpoint_state(ep) == DTLS_CONNECTING)
        complete(ep);
    return 0;
}

/* ---- Getters ---- */

enum dtls_state dtls_endpoint_state(const struct dtls_endpoint *ep)
{
    return (enum dtls_state)atomic_load_explicit(&ep->state, memory_order_relaxed);
}

enum dtls_role dtls_endpoint_role(const struct dtls_endpoint *ep)
{
    return ep->cfg.role;
}

const char *dtls_endpoint_reason(const struct dtls_endpoint *ep)
{
    return ep->reason;
}

enum dtls_srtp_profile dtls_endpoint_srtp_profile(const struct dtls_endpoint *ep)
{
    return dtls_endpoint_state(ep) == DTLS_CONNECTED ? ep->keys.profile : DTLS_SRTP_NONE;
}

int dtls_endpoint_srtp_keys(const struct dtls_endpoint *ep, struct dtls_srtp_keys *out)
{
    if (dtls_endpoint_state(ep) != DTLS_CONNECTED)
        return -EAGAIN;
    *out = ep->keys;
    return 0;
}

void dtls_endpoint_get_stats(const struct dtls_endpoint *ep, struct dtls_endpoint_stats *out)
{
    out->datagrams_in = atomic_load_explicit(&ep->datagrams_in, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&ep->bytes_in, memory_order_relaxed);
    out->datagrams_out = atomic_load_explicit(&ep->datagrams_out, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&ep->bytes_out, memory_order_relaxed);
    out->retransmissions = atomic_load_explicit(&ep->retransmissions, memory_order_relaxed);
}
