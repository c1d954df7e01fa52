/* gateway/dtls/dtls.h — DTLS-SRTP for WebRTC: the certificate and the per-PeerConnection
 * endpoint (OpenSSL 3).
 *
 * A `struct dtls_cert` is created once at start (generated, or loaded from PEM files) and
 * shared by every PeerConnection: it holds the one SSL_CTX and the SHA-256 fingerprint that
 * goes into the SDP (a=fingerprint:sha-256 AB:CD:...). It is reference counted: endpoints
 * keep it alive, so the creator may destroy it at any time after the last endpoint_create.
 *
 * A `struct dtls_endpoint` runs the DTLS handshake of one PeerConnection over memory: the
 * caller feeds each received DTLS datagram to dtls_endpoint_input() and gets every outgoing
 * datagram through its send callback (each call is one datagram of at most `mtu` bytes). The
 * caller also owns the retransmission timer: after every call into the endpoint it asks
 * dtls_endpoint_timeout_ms() and calls dtls_endpoint_on_timer() when that much time passed.
 * When the handshake is done and the peer's certificate matches the fingerprint from the SDP,
 * the state becomes DTLS_CONNECTED and dtls_endpoint_srtp_keys() gives the SRTP master keys.
 *
 * Threads: the cert functions may be called from any thread (endpoints on several loops share
 * the cert). An endpoint is used from its PeerConnection's loop thread only: create, start,
 * input, timers, close and destroy all run there, and its callbacks are called there, from
 * inside those functions. Callbacks must not destroy the endpoint (defer it). */
#ifndef VB_GATEWAY_DTLS_H
#define VB_GATEWAY_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vb_log;
struct dtls_cert;
struct dtls_endpoint;

/* ---- RFC 7983 demultiplexing of the first byte of a datagram on the ICE component ---- */

enum dtls_demux {
    DTLS_DEMUX_OTHER = 0,
    DTLS_DEMUX_STUN, /* 0..3 */
    DTLS_DEMUX_DTLS, /* 20..63 */
    DTLS_DEMUX_RTP,  /* 128..191: RTP or RTCP (told apart by the payload type) */
};

static inline enum dtls_demux dtls_demux_classify(uint8_t first_byte)
{
    if (first_byte <= 3)
        return DTLS_DEMUX_STUN;
    if (first_byte >= 20 && first_byte <= 63)
        return DTLS_DEMUX_DTLS;
    if (first_byte >= 128 && first_byte <= 191)
        return DTLS_DEMUX_RTP;
    return DTLS_DEMUX_OTHER;
}

static inline bool dtls_is_dtls(uint8_t first_byte)
{
    return dtls_demux_classify(first_byte) == DTLS_DEMUX_DTLS;
}

/* ---- Certificate ---- */

/* Generates an ECDSA P-256 key and a self-signed certificate (CN "verbatim", random 64-bit
 * serial, valid from a day ago for 365 days, SHA-256 signature) and the SSL_CTX around it.
 * 0 or -EIO (OpenSSL failure, logged to `lg`, which may be NULL). The caller owns *out. */
int dtls_cert_generate(struct vb_log *lg, struct dtls_cert **out);

/* Loads a certificate (PEM, may be followed by its chain) and its private key (PEM; RSA or
 * ECDSA; encrypted with `passphrase` when that is not NULL — never prompts). 0, -ENOENT (a
 * file is missing), or -EINVAL (unreadable, wrong passphrase, key does not match). */
int dtls_cert_load(struct vb_log *lg, const char *cert_path, const char *key_path,
                   const char *passphrase, struct dtls_cert **out);

/* The SHA-256 fingerprint, "AB:CD:..." (95 characters, uppercase). Borrowed; lives as long as
 * the cert. */
const char *dtls_cert_fingerprint(const struct dtls_cert *c);

/* The fingerprint with another hash ("sha-1", "sha-224", "sha-256", "sha-384", "sha-512",
 * case-insensitive) written into out (NUL-terminated). 0, -ENOTSUP (hash), -ENOSPC (cap). */
int dtls_cert_fingerprint_hash(const struct dtls_cert *c, const char *hash, char *out, size_t cap);

/* Drops the creator's reference; the cert is freed when the last endpoint using it is
 * destroyed. NULL is a no-op. */
void dtls_cert_destroy(struct dtls_cert *c);

/* ---- Endpoint ---- */

enum dtls_role {
    DTLS_ROLE_CLIENT = 0, /* a=setup:active: we send the ClientHello */
    DTLS_ROLE_SERVER = 1, /* a=setup:passive: we wait for it */
};

/* Our role from the remote description's a=setup, as Janus decides it: when the peer says
 * "actpass" (an offer) or "passive" we are the client (and answer "active"); when it says
 * "active" we are the server. -EINVAL for anything else ("holdconn", NULL). */
int dtls_role_from_remote_setup(const char *remote_setup, enum dtls_role *out);

/* "active" for the client, "passive" for the server: our a=setup in an answer (an offer of
 * ours says "actpass" and learns the role from the answer). */
const char *dtls_role_setup_name(enum dtls_role role);

enum dtls_state {
    DTLS_NEW = 0,        /* created, handshake not started */
    DTLS_CONNECTING = 1, /* handshake running (or done, waiting for the remote fingerprint) */
    DTLS_CONNECTED = 2,  /* handshake done, peer verified, SRTP keys available */
    DTLS_FAILED = 3,     /* handshake failure, fingerprint mismatch, fatal alert, timeout */
    DTLS_CLOSED = 4,     /* close_notify received or sent */
};

/* "new", "connecting", "connected", "failed", "closed". */
const char *dtls_state_name(enum dtls_state state);

/* SRTP protection profiles, by their IANA DTLS-SRTP ids (the same numbers as OpenSSL's
 * SRTP_* constants, libsrtp's srtp_profile_t and enum vb_srtp_profile). */
enum dtls_srtp_profile {
    DTLS_SRTP_NONE = 0,
    DTLS_SRTP_AES128_CM_SHA1_80 = 1,
    DTLS_SRTP_AES128_CM_SHA1_32 = 2,
    DTLS_SRTP_AEAD_AES_128_GCM = 7,
    DTLS_SRTP_AEAD_AES_256_GCM = 8,
};

/* A set of profiles for dtls_endpoint_config.srtp_profiles. */
#define DTLS_SRTP_MASK(profile) (1u << (profile))

/* OpenSSL's name of the profile ("SRTP_AEAD_AES_256_GCM", ...), as Janus shows it in
 * handle_info; NULL when unknown. */
const char *dtls_srtp_profile_name(enum dtls_srtp_profile profile);

/* Room for the longest master key + salt: AEAD_AES_256_GCM's 32 + 12 bytes. */
#define DTLS_SRTP_MAX_KEY_SALT 44

/* The SRTP master keys from the handshake, in libsrtp's layout (key then salt). */
struct dtls_srtp_keys {
    enum dtls_srtp_profile profile;
    size_t key_len;                         /* master key bytes: 16 or 32 */
    size_t salt_len;                        /* master salt bytes: 14 (AES-CM) or 12 (GCM) */
    uint8_t local[DTLS_SRTP_MAX_KEY_SALT];  /* our outbound key || salt (protect) */
    uint8_t remote[DTLS_SRTP_MAX_KEY_SALT]; /* the peer's key || salt (unprotect) */
};

struct dtls_endpoint_config {
    enum dtls_role role;
    /* Largest datagram the endpoint sends; 0 means 1200. At least 256. */
    unsigned mtu;
    /* The first retransmission timeout, doubled on each retransmission up to the maximum;
     * 0 means 1000 and 60000 ms; the first is at least 20 ms. OpenSSL gives up after 12
     * retransmissions of a flight. */
    unsigned retransmit_ms;
    unsigned retransmit_max_ms;
    /* Profiles we accept, a set of DTLS_SRTP_MASK(); 0 means all four. The order of
     * preference is fixed: AEAD_AES_256_GCM, AEAD_AES_128_GCM, AES128_CM_SHA1_80,
     * AES128_CM_SHA1_32 (as a server we pick the first of these the client offers). */
    unsigned srtp_profiles;

    /* Sends one datagram (borrowed, `len` <= mtu) to the peer. Must not block; a datagram it
     * cannot send is simply lost (retransmissions cover it). The return value is ignored. */
    int (*send)(void *ctx, const uint8_t *data, size_t len);
    /* Called on every state change, on the loop thread, from inside the endpoint's functions.
     * `reason` (borrowed, for logs and the Admin API) says why a FAILED or CLOSED happened,
     * e.g. "fingerprint mismatch", "received warning alert: close notify", "received fatal
     * alert: bad certificate", "handshake timeout", "closed locally"; it is "" otherwise. A
     * Janus-compatible hangup reason for FAILED and CLOSED is "DTLS alert". May be NULL. */
    void (*on_state)(void *ctx, enum dtls_state state, const char *reason);
    /* Application data received after the handshake (data channels' SCTP); borrowed. May be
     * NULL: the data is then dropped. */
    void (*on_data)(void *ctx, const uint8_t *data, size_t len);
    void *ctx;
    struct vb_log *log; /* borrowed; may be NULL */
};

/* Creates an endpoint in DTLS_NEW using `cert` (the endpoint takes a reference). `cfg` is
 * copied; `cfg->send` is required. 0 or -EINVAL (a bad setting), -EIO (OpenSSL). */
int dtls_endpoint_create(struct dtls_cert *cert, const struct dtls_endpoint_config *cfg,
                         struct dtls_endpoint **out);

/* Frees the endpoint (no close_notify: call dtls_endpoint_close first for that) and wipes its
 * keys. NULL is a no-op. */
void dtls_endpoint_destroy(struct dtls_endpoint *ep);

/* The fingerprint from the remote SDP (a=fingerprint:<hash> <hex>): `hash` is "sha-256" or
 * "sha-1" (also sha-224/384/512), case-insensitive; `fingerprint` is colon-separated hex of
 * the hash's length, either case. It may come before or after the handshake: a handshake
 * that finished without it waits in DTLS_CONNECTING and completes (or fails) here. 0,
 * -EINVAL (malformed), -ENOTSUP (hash), -EALREADY (already set). */
int dtls_endpoint_set_remote_fingerprint(struct dtls_endpoint *ep, const char *hash,
                                         const char *fingerprint);

/* Starts the handshake: a client sends its ClientHello, a server waits. Input that arrives
 * before start starts it. 0, -EALREADY (not DTLS_NEW), or -EIO (then DTLS_FAILED). */
int dtls_endpoint_start(struct dtls_endpoint *ep);

/* Feeds one received DTLS datagram (borrowed). Replies and retransmissions go out through
 * send; state changes through on_state. Datagrams that do not parse are dropped, as DTLS
 * does. 0, -EINVAL (empty or larger than 16 KiB), -ENOTCONN (the endpoint is FAILED or
 * CLOSED: the datagram is ignored). */
int dtls_endpoint_input(struct dtls_endpoint *ep, const uint8_t *data, size_t len);

/* Milliseconds until dtls_endpoint_on_timer() should be called (0: now), or -1 when no
 * retransmission timer runs. Ask again after every call into the endpoint. */
int dtls_endpoint_timeout_ms(struct dtls_endpoint *ep);

/* Retransmits the last flight if its timer expired (otherwise does nothing). Too many
 * retransmissions → DTLS_FAILED ("handshake timeout"). Returns 1 when it retransmitted,
 * 0 when nothing was due, -ENOTCONN (NEW, FAILED or CLOSED), -ETIMEDOUT (gave up). */
int dtls_endpoint_on_timer(struct dtls_endpoint *ep);

/* Sends application data (one record). 0, -ENOTCONN (not DTLS_CONNECTED), -EMSGSIZE (does
 * not fit in one datagram), -EIO. */
int dtls_endpoint_write(struct dtls_endpoint *ep, const uint8_t *data, size_t len);

/* Sends close_notify (when a handshake was started) and moves to DTLS_CLOSED with reason
 * "closed locally". Idempotent: does nothing when already FAILED or CLOSED. */
void dtls_endpoint_close(struct dtls_endpoint *ep);

/* The state; any thread (an atomic read), like dtls_endpoint_get_stats(). The other
 * getters belong to the loop thread. */
enum dtls_state dtls_endpoint_state(const struct dtls_endpoint *ep);
enum dtls_role dtls_endpoint_role(const struct dtls_endpoint *ep);

/* Why the endpoint FAILED or CLOSED ("" otherwise). Borrowed; valid until destroy. */
const char *dtls_endpoint_reason(const struct dtls_endpoint *ep);

/* The negotiated profile (DTLS_SRTP_NONE before DTLS_CONNECTED). */
enum dtls_srtp_profile dtls_endpoint_srtp_profile(const struct dtls_endpoint *ep);

/* Copies the SRTP keys into *out. 0 or -EAGAIN (not DTLS_CONNECTED). The caller should wipe
 * its copy (OPENSSL_cleanse / explicit_bzero) once the SRTP sessions are made. */
int dtls_endpoint_srtp_keys(const struct dtls_endpoint *ep, struct dtls_srtp_keys *out);

/* Counters for the Admin API; any thread. */
struct dtls_endpoint_stats {
    uint64_t datagrams_in, bytes_in, datagrams_out, bytes_out;
    uint64_t retransmissions; /* timer-driven retransmissions of a flight */
};
void dtls_endpoint_get_stats(const struct dtls_endpoint *ep, struct dtls_endpoint_stats *out);

#endif
