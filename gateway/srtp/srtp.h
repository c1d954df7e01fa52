/* gateway/srtp/srtp.h — the SRTP sessions of a PeerConnection (libsrtp2).
 *
 * A `struct vb_srtp` holds two libsrtp sessions made from the DTLS-SRTP master keys: the
 * outbound one (our key, any SSRC we send) and the inbound one (the peer's key, any SSRC it
 * sends). Packets are protected and unprotected in place. Replay protection uses a window of
 * 1024 packets; the outbound side allows the same sequence number to be protected again (a
 * retransmission answering a NACK must carry the same payload, which is the caller's job).
 * Failures are counted in the stats, never logged per packet.
 *
 * Threads: vb_srtp_protect_rtp/rtcp may be called from any thread at the same time (a mutex
 * guards the outbound session only). vb_srtp_unprotect_rtp/rtcp belong to the
 * PeerConnection's loop thread (one thread at a time, no lock). create, destroy: the owner,
 * when no other thread uses the object. vb_srtp_get_stats: any thread. */
#ifndef VB_GATEWAY_SRTP_H
#define VB_GATEWAY_SRTP_H

#include <stddef.h>
#include <stdint.h>

struct vb_srtp;

/* The IANA DTLS-SRTP profile ids (equal to enum dtls_srtp_profile's values). */
enum vb_srtp_profile {
    VB_SRTP_AES128_CM_SHA1_80 = 1,
    VB_SRTP_AES128_CM_SHA1_32 = 2,
    VB_SRTP_AEAD_AES_128_GCM = 7,
    VB_SRTP_AEAD_AES_256_GCM = 8,
};

/* The most bytes protect adds to a packet: a 16-byte GCM tag, plus the 4-byte SRTCP index
 * for RTCP. A buffer given to protect must have this much room after the packet. */
#define VB_SRTP_MAX_OVERHEAD 20

/* The largest packet accepted (libsrtp takes an int length). */
#define VB_SRTP_MAX_PACKET 65535

/* Master key + salt bytes the profile needs (30, 30, 28, 44), or 0 for an unknown one. */
size_t vb_srtp_key_salt_len(int profile);

/* Creates the sessions. `local` is our master key || salt (outbound), `remote` the peer's
 * (inbound), each `key_salt_len` bytes (borrowed: libsrtp expands them into its own keys;
 * the caller may wipe them afterwards). 0, -EINVAL (profile or length), -EIO (libsrtp). */
int vb_srtp_create(int profile, const uint8_t *local, const uint8_t *remote, size_t key_salt_len,
                   struct vb_srtp **out);

/* NULL is a no-op. */
void vb_srtp_destroy(struct vb_srtp *s);

/* Protects the RTP (RTCP) packet of *len bytes in buf, which has room for `cap` bytes; *len
 * becomes the protected length. 0, -EINVAL (not a packet: too short or too long), -ENOSPC
 * (cap < *len + VB_SRTP_MAX_OVERHEAD), -EALREADY (sequence number far older than what was
 * sent), -EIO (libsrtp). Any thread. */
int vb_srtp_protect_rtp(struct vb_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int vb_srtp_protect_rtcp(struct vb_srtp *s, uint8_t *buf, size_t *len, size_t cap);

/* Verifies and decrypts the SRTP (SRTCP) packet of *len bytes in buf; *len becomes the plain
 * length. 0, -EINVAL (too short or too long), -EBADMSG (authentication failed), -EALREADY
 * (a replay, or older than the window), -EIO (libsrtp). The loop thread. */
int vb_srtp_unprotect_rtp(struct vb_srtp *s, uint8_t *buf, size_t *len);
int vb_srtp_unprotect_rtcp(struct vb_srtp *s, uint8_t *buf, size_t *len);

struct vb_srtp_stats {
    uint64_t rtp_protected, rtcp_protected;     /* packets */
    uint64_t rtp_unprotected, rtcp_unprotected; /* packets that passed */
    uint64_t protect_failures;
    uint64_t auth_failures;   /* inbound, RTP and RTCP */
    uint64_t replay_failures; /* inbound, RTP and RTCP */
    uint64_t other_failures;  /* inbound: malformed, unknown errors */
};

/* A snapshot of the counters (each read atomically). Any thread. */
void vb_srtp_get_stats(const struct vb_srtp *s, struct vb_srtp_stats *out);

#endif
