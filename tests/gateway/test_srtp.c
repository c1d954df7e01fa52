/* This file implements the tests of gateway/srtp with fixed keys: protect on one side, unprotect on
 * the other for RTP and RTCP with every profile; tampering, replays, the replay window, repeated
 * transmission, several SSRCs, argument checks, and protect from several threads while the other
 * side unprotects. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "gateway/srtp/srtp.h"
#include "tests/test.h"

static const int profiles[] = {VB_SRTP_AES128_CM_SHA1_80, VB_SRTP_AES128_CM_SHA1_32,
                               VB_SRTP_AEAD_AES_128_GCM, VB_SRTP_AEAD_AES_256_GCM};

/* Two sessions facing each other: a protects with key A, b unprotects with it; and back. */
struct pair {
    struct vb_srtp *a, *b;
};

static void pair_make(struct pair *p, int profile, uint8_t seed)
{
    uint8_t ka[64], kb[64];
    for (int i = 0; i < 64; i++) {
        ka[i] = (uint8_t)(seed + i * 7);
        kb[i] = (uint8_t)(seed * 3 + i * 13 + 1);
    }
    size_t n = vb_srtp_key_salt_len(profile);
    ASSERT(n > 0);
    ASSERT_EQ(vb_srtp_create(profile, ka, kb, n, &p->a), 0);
    ASSERT_EQ(vb_srtp_create(profile, kb, ka, n, &p->b), 0);
}

static void pair_free(struct pair *p)
{
    vb_srtp_destroy(p->a);
    vb_srtp_destroy(p->b);
}

/* An RTP packet: PT 96, the given seq/ssrc, `plen` payload bytes derived from seq. */
static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t plen)
{
    buf[0] = 0x80;
    buf[1] = 96;
    wr_u16(buf + 2, seq);
    wr_u32(buf + 4, seq * 960u);
    wr_u32(buf + 8, ssrc);
    for (size_t i = 0; i < plen; i++)
        buf[12 + i] = (uint8_t)(seq + i);
    return 12 + plen;
}

/* An RTCP sender report without report blocks (28 bytes). */
static size_t make_rtcp(uint8_t *buf, uint32_t ssrc, uint32_t count)
{
    memset(buf, 0, 28);
    buf[0] = 0x80;
    buf[1] = 200;
    wr_u16(buf + 2, 6);
    wr_u32(buf + 4, ssrc);
    wr_u32(buf + 20, count);
    return 28;
}

static size_t rtp_tag_len(int profile)
{
    return profile == VB_SRTP_AES128_CM_SHA1_80   ? 10
           : profile == VB_SRTP_AES128_CM_SHA1_32 ? 4
                                                  : 16;
}

static size_t rtcp_overhead(int profile)
{
    /* The SRTCP index, and an 80-bit tag for both AES-CM profiles (RFC 5764 4.1.2). */
    return 4 +
           (profile == VB_SRTP_AEAD_AES_128_GCM || profile == VB_SRTP_AEAD_AES_256_GCM ? 16 : 10);
}

static void roundtrip_rtp(struct vb_srtp *tx, struct vb_srtp *rx, int profile, uint16_t seq,
                          uint32_t ssrc)
{
    uint8_t plain[300], buf[300 + VB_SRTP_MAX_OVERHEAD];
    size_t n = make_rtp(plain, seq, ssrc, 160), len = n;
    memcpy(buf, plain, n);
    ASSERT_EQ(vb_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
    ASSERT_EQ(len, n + rtp_tag_len(profile));
    ASSERT_MEMEQ(buf, plain, 12);                   /* the header stays readable */
    ASSERT(memcmp(buf + 12, plain + 12, 160) != 0); /* the payload is encrypted */
    ASSERT_EQ(vb_srtp_unprotect_rtp(rx, buf, &len), 0);
    ASSERT_EQ(len, n);
    ASSERT_MEMEQ(buf, plain, n);
}

static void roundtrip_rtcp(struct vb_srtp *tx, struct vb_srtp *rx, int profile, uint32_t ssrc,
                           uint32_t count)
{
    uint8_t plain[64], buf[64 + VB_SRTP_MAX_OVERHEAD];
    size_t n = make_rtcp(plain, ssrc, count), len = n;
    memcpy(buf, plain, n);
    ASSERT_EQ(vb_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
    ASSERT_EQ(len, n + rtcp_overhead(profile));
    ASSERT(memcmp(buf + 8, plain + 8, n - 8) != 0);
    ASSERT_EQ(vb_srtp_unprotect_rtcp(rx, buf, &len), 0);
    ASSERT_EQ(len, n);
    ASSERT_MEMEQ(buf, plain, n);
}

static void test_roundtrip_each_profile(void)
{
    for (size_t i = 0; i < 4; i++) {
        int p = profiles[i];
        struct pair s;
        pair_make(&s, p, (uint8_t)i);
        for (uint16_t seq = 65530; seq != 10; seq++) { /* across the wrap */
            roundtrip_rtp(s.a, s.b, p, seq, 0x11111111);
            roundtrip_rtp(s.b, s.a, p, seq, 0x22222222);
        }
        for (uint32_t k = 0; k < 5; k++) {
            roundtrip_rtcp(s.a, s.b, p, 0x11111111, k);
            roundtrip_rtcp(s.b, s.a, p, 0x22222222, k);
        }
        struct vb_srtp_stats st;
        vb_srtp_get_stats(s.a, &st);
        ASSERT_EQ(st.rtp_protected, 16);
        ASSERT_EQ(st.rtp_unprotected, 16);
        ASSERT_EQ(st.rtcp_protected, 5);
        ASSERT_EQ(st.rtcp_unprotected, 5);
        ASSERT_EQ(st.auth_failures + st.replay_failures + st.other_failures, 0);
        pair_free(&s);
    }
}

/* Several SSRCs (audio, video, RTX) on one key, interleaved, both directions. */
static void test_many_ssrcs(void)
{
    struct pair s;
    pair_make(&s, VB_SRTP_AES128_CM_SHA1_80, 9);
    for (uint16_t seq = 1; seq < 50; seq++)
        for (uint32_t ssrc = 1; ssrc <= 3; ssrc++)
            roundtrip_rtp(s.a, s.b, VB_SRTP_AES128_CM_SHA1_80, (uint16_t)(seq * ssrc), ssrc);
    pair_free(&s);
}

static void test_tampered(void)
{
    for (size_t i = 0; i < 4; i++) {
        struct pair s;
        pair_make(&s, profiles[i], 3);
        uint8_t buf[400];
        for (int where = 0; where < 3; where++) {
            size_t len = make_rtp(buf, (uint16_t)(100 + where), 42, 100);
            ASSERT_EQ(vb_srtp_protect_rtp(s.a, buf, &len, sizeof(buf)), 0);
            size_t at = where == 0 ? 20 : where == 1 ? len - 1 : 3; /* payload, tag, header */
            buf[at] ^= 0x01;
            size_t got = len;
            ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, buf, &got), -EBADMSG);
            ASSERT_EQ(got, len);
        }
        size_t len = make_rtcp(buf, 42, 1);
        ASSERT_EQ(vb_srtp_protect_rtcp(s.a, buf, &len, sizeof(buf)), 0);
        buf[10] ^= 0x80;
        ASSERT_EQ(vb_srtp_unprotect_rtcp(s.b, buf, &len), -EBADMSG);
        struct vb_srtp_stats st;
        vb_srtp_get_stats(s.b, &st);
        ASSERT_EQ(st.auth_failures, 4);
        ASSERT_EQ(st.rtp_unprotected + st.rtcp_unprotected, 0);
        pair_free(&s);
    }
}

/* Another key: nothing authenticates. */
static void test_wrong_key(void)
{
    struct pair s, t;
    pair_make(&s, VB_SRTP_AEAD_AES_128_GCM, 1);
    pair_make(&t, VB_SRTP_AEAD_AES_128_GCM, 2);
    uint8_t buf[400];
    size_t len = make_rtp(buf, 1, 7, 50);
    ASSERT_EQ(vb_srtp_protect_rtp(s.a, buf, &len, sizeof(buf)), 0);
    ASSERT_EQ(vb_srtp_unprotect_rtp(t.b, buf, &len), -EBADMSG);
    pair_free(&s);
    pair_free(&t);
}

static void test_replay(void)
{
    for (size_t i = 0; i < 4; i++) {
        struct pair s;
        pair_make(&s, profiles[i], 5);
        uint8_t pkt[400], buf[400];
        size_t n = make_rtp(pkt, 777, 42, 100);
        ASSERT_EQ(vb_srtp_protect_rtp(s.a, pkt, &n, sizeof(pkt)), 0);
        size_t len = n;
        memcpy(buf, pkt, n);
        ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, buf, &len), 0);
        len = n;
        memcpy(buf, pkt, n);
        ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, buf, &len), -EALREADY);

        n = make_rtcp(pkt, 42, 9);
        ASSERT_EQ(vb_srtp_protect_rtcp(s.a, pkt, &n, sizeof(pkt)), 0);
        len = n;
        memcpy(buf, pkt, n);
        ASSERT_EQ(vb_srtp_unprotect_rtcp(s.b, buf, &len), 0);
        len = n;
        memcpy(buf, pkt, n);
        ASSERT_EQ(vb_srtp_unprotect_rtcp(s.b, buf, &len), -EALREADY);
        struct vb_srtp_stats st;
        vb_srtp_get_stats(s.b, &st);
        ASSERT_EQ(st.replay_failures, 2);
        pair_free(&s);
    }
}

/* The window is 1024 packets: 1000 behind the newest is accepted, 1100 behind is not. */
static void test_replay_window(void)
{
    struct pair s;
    pair_make(&s, VB_SRTP_AES128_CM_SHA1_80, 6);
    uint8_t a[300], b[300], c[300], d[300];
    size_t la = make_rtp(a, 1900, 42, 20), lb = make_rtp(b, 2000, 42, 20);
    size_t lc = make_rtp(c, 3000, 42, 20), ld = make_rtp(d, 2999, 42, 20);
    /* Protected in order, delivered out of order. */
    ASSERT_EQ(vb_srtp_protect_rtp(s.a, a, &la, sizeof(a)), 0);
    ASSERT_EQ(vb_srtp_protect_rtp(s.a, b, &lb, sizeof(b)), 0);
    ASSERT_EQ(vb_srtp_protect_rtp(s.a, d, &ld, sizeof(d)), 0);
    ASSERT_EQ(vb_srtp_protect_rtp(s.a, c, &lc, sizeof(c)), 0);
    ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, c, &lc), 0);
    ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, d, &ld), 0);
    ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, b, &lb), 0);
    ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, a, &la), -EALREADY);
    pair_free(&s);
}

/* A retransmission answering a NACK protects the same sequence number again. */
static void test_repeat_tx(void)
{
    for (size_t i = 0; i < 4; i++) {
        struct pair s;
        pair_make(&s, profiles[i], 8);
        uint8_t first[300], again[300];
        size_t l1 = make_rtp(first, 500, 42, 80), l2 = make_rtp(again, 500, 42, 80);
        ASSERT_EQ(vb_srtp_protect_rtp(s.a, first, &l1, sizeof(first)), 0);
        uint8_t next[300];
        size_t l3 = make_rtp(next, 501, 42, 80);
        ASSERT_EQ(vb_srtp_protect_rtp(s.a, next, &l3, sizeof(next)), 0);
        ASSERT_EQ(vb_srtp_protect_rtp(s.a, again, &l2, sizeof(again)), 0);
        ASSERT_EQ(l1, l2);
        ASSERT_MEMEQ(first, again, l1); /* same index, same payload: same packet */
        /* The first copy was lost; the receiver takes 501 then the retransmitted 500. */
        ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, next, &l3), 0);
        ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, again, &l2), 0);
        pair_free(&s);
    }
}

static void test_arguments(void)
{
    uint8_t key[64] = {1};
    struct vb_srtp *s = NULL;
    ASSERT_EQ(vb_srtp_create(3, key, key, 30, &s), -EINVAL);
    ASSERT_EQ(vb_srtp_create(VB_SRTP_AES128_CM_SHA1_80, key, key, 28, &s), -EINVAL);
    ASSERT_EQ(vb_srtp_create(VB_SRTP_AEAD_AES_256_GCM, key, key, 30, &s), -EINVAL);
    ASSERT_EQ(vb_srtp_create(VB_SRTP_AES128_CM_SHA1_80, NULL, key, 30, &s), -EINVAL);
    ASSERT(s == NULL);
    ASSERT_EQ(vb_srtp_key_salt_len(VB_SRTP_AES128_CM_SHA1_32), 30);
    ASSERT_EQ(vb_srtp_key_salt_len(VB_SRTP_AEAD_AES_128_GCM), 28);
    ASSERT_EQ(vb_srtp_key_salt_len(VB_SRTP_AEAD_AES_256_GCM), 44);
    ASSERT_EQ(vb_srtp_key_salt_len(0), 0);
    vb_srtp_destroy(NULL);

    struct pair p;
    pair_make(&p, VB_SRTP_AEAD_AES_256_GCM, 1);
    uint8_t buf[200];
    size_t len = make_rtp(buf, 1, 1, 100);
    ASSERT_EQ(vb_srtp_protect_rtp(p.a, buf, &len, len + VB_SRTP_MAX_OVERHEAD - 1), -ENOSPC);
    ASSERT_EQ(len, 112);
    len = 11;
    ASSERT_EQ(vb_srtp_protect_rtp(p.a, buf, &len, sizeof(buf)), -EINVAL);
    ASSERT_EQ(vb_srtp_unprotect_rtp(p.b, buf, &len), -EINVAL);
    len = 7;
    ASSERT_EQ(vb_srtp_protect_rtcp(p.a, buf, &len, sizeof(buf)), -EINVAL);
    ASSERT_EQ(vb_srtp_unprotect_rtcp(p.b, buf, &len), -EINVAL);
    /* A header whose extension length runs past the end. */
    len = make_rtp(buf, 2, 1, 8);
    buf[0] |= 0x10;
    wr_u16(buf + 14, 200);
    ASSERT(vb_srtp_protect_rtp(p.a, buf, &len, sizeof(buf)) < 0);
    /* SRTP shorter than its tag. */
    len = make_rtp(buf, 3, 1, 4);
    ASSERT(vb_srtp_unprotect_rtp(p.b, buf, &len) < 0);
    struct vb_srtp_stats st;
    vb_srtp_get_stats(p.a, &st);
    ASSERT_EQ(st.protect_failures, 1);
    pair_free(&p);
}

/* ---- Threads: protect concurrently while the other side unprotects ---- */

#define THREADS 4
#define PER_THREAD 3000
#define QCAP 256

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint8_t pkt[QCAP][256];
    size_t len[QCAP];
    int head, count, producers_left;
};

struct producer {
    struct vb_srtp *tx;
    struct queue *q;
    uint32_t ssrc;
    int failures;
};

static void queue_push(struct queue *q, const uint8_t *pkt, size_t len)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == QCAP)
        pthread_cond_wait(&q->cond, &q->lock);
    int at = (q->head + q->count) % QCAP;
    memcpy(q->pkt[at], pkt, len);
    q->len[at] = len;
    q->count++;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* Pops into buf; false when every producer is done and the queue is empty. */
static bool queue_pop(struct queue *q, uint8_t *buf, size_t *len)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && q->producers_left > 0)
        pthread_cond_wait(&q->cond, &q->lock);
    bool got = q->count > 0;
    if (got) {
        memcpy(buf, q->pkt[q->head], q->len[q->head]);
        *len = q->len[q->head];
        q->head = (q->head + 1) % QCAP;
        q->count--;
        pthread_cond_broadcast(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    uint8_t buf[256];
    for (int i = 0; i < PER_THREAD; i++) {
        size_t len = make_rtp(buf, (uint16_t)i, p->ssrc, 150);
        if (i % 10 == 0)
            len = make_rtcp(buf, p->ssrc, (uint32_t)i);
        int rc = i % 10 == 0 ? vb_srtp_protect_rtcp(p->tx, buf, &len, sizeof(buf))
                             : vb_srtp_protect_rtp(p->tx, buf, &len, sizeof(buf));
        if (rc != 0)
            p->failures++;
        else
            queue_push(p->q, buf, len);
    }
    pthread_mutex_lock(&p->q->lock);
    p->q->producers_left--;
    pthread_cond_broadcast(&p->q->cond);
    pthread_mutex_unlock(&p->q->lock);
    return NULL;
}

static void test_threads(void)
{
    struct pair s;
    pair_make(&s, VB_SRTP_AEAD_AES_128_GCM, 4);
    static struct queue q;
    memset(&q, 0, sizeof(q));
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.cond, NULL);
    q.producers_left = THREADS;
    struct producer prod[THREADS];
    pthread_t tid[THREADS];
    for (int i = 0; i < THREADS; i++) {
        prod[i] = (struct producer){.tx = s.a, .q = &q, .ssrc = 1000u + (uint32_t)i};
        ASSERT_EQ(pthread_create(&tid[i], NULL, producer_main, &prod[i]), 0);
    }
    /* This thread is the receiving loop. */
    int rtp_ok = 0, rtcp_ok = 0;
    uint8_t buf[256];
    size_t len;
    while (queue_pop(&q, buf, &len)) {
        bool rtcp = buf[1] == 200;
        uint32_t ssrc = rd_u32(buf + (rtcp ? 4 : 8));
        ASSERT(ssrc >= 1000 && ssrc < 1000 + THREADS);
        if (rtcp) {
            ASSERT_EQ(vb_srtp_unprotect_rtcp(s.b, buf, &len), 0);
            ASSERT_EQ(len, 28);
            rtcp_ok++;
        } else {
            ASSERT_EQ(vb_srtp_unprotect_rtp(s.b, buf, &len), 0);
            ASSERT_EQ(len, 162);
            uint16_t seq = rd_u16(buf + 2);
            ASSERT_EQ(buf[12 + 149], (uint8_t)(seq + 149));
            rtp_ok++;
        }
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        ASSERT_EQ(prod[i].failures, 0);
    }
    ASSERT_EQ(rtp_ok, THREADS * PER_THREAD * 9 / 10);
    ASSERT_EQ(rtcp_ok, THREADS * PER_THREAD / 10);
    struct vb_srtp_stats st;
    vb_srtp_get_stats(s.a, &st);
    ASSERT_EQ(st.rtp_protected, (uint64_t)rtp_ok);
    ASSERT_EQ(st.rtcp_protected, (uint64_t)rtcp_ok);
    pthread_mutex_destroy(&q.lock);
    pthread_cond_destroy(&q.cond);
    pair_free(&s);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"roundtrip_each_profile", test_roundtrip_each_profile},
        {"many_ssrcs", test_many_ssrcs},
        {"tampered", test_tampered},
        {"wrong_key", test_wrong_key},
        {"replay", test_replay},
        {"replay_window", test_replay_window},
        {"repeat_tx", test_repeat_tx},
        {"arguments", test_arguments},
        {"threads", test_threads},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
