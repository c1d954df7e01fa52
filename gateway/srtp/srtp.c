/* This file implements the SRTP sessions of a PeerConnection over libsrtp2.
 *
 * DESIGN: libsrtp keeps process-wide state (its crypto kernel), set up once by srtp_init().
 * That single call is made through pthread_once with a static pthread_once_t: a constant
 * initializer, the one piece of static state here, which is why it is acceptable under the
 * no-mutable-globals rule. If srtp_init() failed, srtp_create() fails too, so its result needs
 * no variable of its own. Each direction is one libsrtp session with a wildcard SSRC policy
 * (ssrc_any_outbound / ssrc_any_inbound): libsrtp adds a stream per SSRC as packets come,
 * which covers audio, video and RTX with the one key DTLS exported per direction. The two
 * sessions share nothing, so the loop thread unprotects without a lock while senders on other
 * threads protect under the outbound mutex. */
#include "gateway/srtp/srtp.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "common/xalloc.h"

#define REPLAY_WINDOW 1024
#define MAX_KEY_SALT 44
#define MIN_RTP 12
#define MIN_RTCP 8

struct vb_srtp {
    srtp_t in;  /* the loop thread's */
    srtp_t out; /* under out_lock */
    pthread_mutex_t out_lock;
    atomic_uint_least64_t rtp_protected, rtcp_protected, rtp_unprotected, rtcp_unprotected;
    atomic_uint_least64_t protect_failures, auth_failures, replay_failures, other_failures;
};

static pthread_once_t libsrtp_once = PTHREAD_ONCE_INIT;

static void libsrtp_init(void)
{
    /* A failure leaves libsrtp without ciphers: srtp_create() reports it. */
    (void)srtp_init();
}

/* Counters with one writer at a time (the loop thread, or the holder of out_lock). */
static void counter_inc(atomic_uint_least64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

size_t vb_srtp_key_salt_len(int profile)
{
    switch (profile) {
    case VB_SRTP_AES128_CM_SHA1_80:
    case VB_SRTP_AES128_CM_SHA1_32:
        return 16 + 14;
    case VB_SRTP_AEAD_AES_128_GCM:
        return 16 + 12;
    case VB_SRTP_AEAD_AES_256_GCM:
        return 32 + 12;
    default:
        return 0;
    }
}

/* One session of one direction. 0, -EINVAL or -EIO. */
static int session_create(int profile, const uint8_t *key_salt, size_t len,
                          srtp_ssrc_type_t direction, srtp_t *out)
{
    uint8_t key[MAX_KEY_SALT];
    srtp_policy_t p;
    memset(&p, 0, sizeof(p));
    if (srtp_crypto_policy_set_from_profile_for_rtp(&p.rtp, (srtp_profile_t)profile) !=
            srtp_err_status_ok ||
        srtp_crypto_policy_set_from_profile_for_rtcp(&p.rtcp, (srtp_profile_t)profile) !=
            srtp_err_status_ok)
        return -EINVAL;
    memcpy(key, key_salt, len);
    p.ssrc.type = direction;
    p.key = key;
    p.window_size = REPLAY_WINDOW;
    p.allow_repeat_tx = 1;
    p.next = NULL;
    srtp_err_status_t st = srtp_create(out, &p);
    /* libsrtp has derived its session keys; the master key copy goes. */
    explicit_bzero(key, sizeof(key));
    if (st != srtp_err_status_ok) {
        *out = NULL;
        return -EIO;
    }
    return 0;
}

int vb_srtp_create(int profile, const uint8_t *local, const uint8_t *remote, size_t key_salt_len,
                   struct vb_srtp **out)
{
    *out = NULL;
    size_t want = vb_srtp_key_salt_len(profile);
    if (want == 0 || key_salt_len != want || !local || !remote)
        return -EINVAL;
    pthread_once(&libsrtp_once, libsrtp_init);
    struct vb_srtp *s = xcalloc(1, sizeof(*s));
    int rc = session_create(profile, local, key_salt_len, ssrc_any_outbound, &s->out);
    if (rc == 0)
        rc = session_create(profile, remote, key_salt_len, ssrc_any_inbound, &s->in);
    if (rc != 0) {
        if (s->out)
            srtp_dealloc(s->out);
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->out_lock, NULL);
    *out = s;
    return 0;
}

void vb_srtp_destroy(struct vb_srtp *s)
{
    if (!s)
        return;
    srtp_dealloc(s->in);
    srtp_dealloc(s->out);
    pthread_mutex_destroy(&s->out_lock);
    free(s);
}

static int map_error(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
        return -EBADMSG;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return -EALREADY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
        return -EINVAL;
    default:
        return -EIO;
    }
}

static int protect(struct vb_srtp *s, uint8_t *buf, size_t *len, size_t cap, bool rtcp)
{
    if (!buf || *len < (rtcp ? MIN_RTCP : MIN_RTP) || *len > VB_SRTP_MAX_PACKET)
        return -EINVAL;
    if (cap < *len + VB_SRTP_MAX_OVERHEAD)
        return -ENOSPC;
    int n = (int)*len;
    pthread_mutex_lock(&s->out_lock);
    srtp_err_status_t st =
        rtcp ? srtp_protect_rtcp(s->out, buf, &n) : srtp_protect(s->out, buf, &n);
    if (st == srtp_err_status_ok)
        counter_inc(rtcp ? &s->rtcp_protected : &s->rtp_protected);
    else
        counter_inc(&s->protect_failures);
    pthread_mutex_unlock(&s->out_lock);
    if (st != srtp_err_status_ok)
        return map_error(st);
    *len = (size_t)n;
    return 0;
}

static int unprotect(struct vb_srtp *s, uint8_t *buf, size_t *len, bool rtcp)
{
    if (!buf || *len < (rtcp ? MIN_RTCP : MIN_RTP) || *len > VB_SRTP_MAX_PACKET) {
        counter_inc(&s->other_failures);
        return -EINVAL;
    }
    int n = (int)*len;
    srtp_err_status_t st =
        rtcp ? srtp_unprotect_rtcp(s->in, buf, &n) : srtp_unprotect(s->in, buf, &n);
    int rc = map_error(st);
    if (rc == 0) {
        counter_inc(rtcp ? &s->rtcp_unprotected : &s->rtp_unprotected);
        *len = (size_t)n;
    } else if (rc == -EBADMSG) {
        counter_inc(&s->auth_failures);
    } else if (rc == -EALREADY) {
        counter_inc(&s->replay_failures);
    } else {
        counter_inc(&s->other_failures);
    }
    return rc;
}

int vb_srtp_protect_rtp(struct vb_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, buf, len, cap, false);
}

int vb_srtp_protect_rtcp(struct vb_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, buf, len, cap, true);
}

int vb_srtp_unprotect_rtp(struct vb_srtp *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, buf, len, false);
}

int vb_srtp_unprotect_rtcp(struct vb_srtp *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, buf, len, true);
}

void vb_srtp_get_stats(const struct vb_srtp *s, struct vb_srtp_stats *out)
{
    out->rtp_protected = atomic_load_explicit(&s->rtp_protected, memory_order_relaxed);
    out->rtcp_protected = atomic_load_explicit(&s->rtcp_protected, memory_order_relaxed);
    out->rtp_unprotected = atomic_load_explicit(&s->rtp_unprotected, memory_order_relaxed);
    out->rtcp_unprotected = atomic_load_explicit(&s->rtcp_unprotected, memory_order_relaxed);
    out->protect_failures = atomic_load_explicit(&s->protect_failures, memory_order_relaxed);
    out->auth_failures = atomic_load_explicit(&s->auth_failures, memory_order_relaxed);
    out->replay_failures = atomic_load_explicit(&s->replay_failures, memory_order_relaxed);
    out->other_failures = atomic_load_explicit(&s->other_failures, memory_order_relaxed);
}
