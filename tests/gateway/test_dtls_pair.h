/* tests/gateway/test_dtls_pair.h — two DTLS endpoints in one process, wired through a
 * simulated network: a queue of datagrams with delay, jitter (reordering), random loss and
 * targeted drops, driven together with both endpoints' retransmission timers.
 *
 * Side 0 is the client, side 1 the server. Everything runs on the calling thread. */
#ifndef VB_TESTS_GATEWAY_TEST_DTLS_PAIR_H
#define VB_TESTS_GATEWAY_TEST_DTLS_PAIR_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/dtls/dtls.h"
#include "tests/test.h"

#define SIM_MAX_PKTS 1024
#define SIM_MAX_DGRAM 2048

struct sim;

struct sim_pkt {
    int to;
    int64_t due_us;
    size_t len;
    uint8_t data[SIM_MAX_DGRAM];
};

struct sim_side {
    struct sim *sim;
    int idx;
    struct dtls_endpoint *ep;
    enum dtls_state state;
    char reason[160];
    int state_changes;
    bool saw_connecting;
    int sent;
    int sent_ccs; /* datagrams starting with a ChangeCipherSpec record */
    size_t max_dgram;
    int data_count;
    uint8_t data[256];
    size_t data_len;
};

struct sim {
    struct sim_side side[2];
    struct sim_pkt *q;
    int nq;
    uint32_t rng;
    unsigned loss_pct;   /* random loss in both directions */
    int64_t delay_us;    /* base one-way delay */
    int64_t jitter_us;   /* extra random delay: reorders datagrams */
    int drop_ccs_from;   /* -1, or the side whose first datagram starting with a
                            ChangeCipherSpec record (20) is dropped */
    int drop_first_from; /* -1, or the side whose very first datagram is dropped */
    bool drop_all;
    int dropped;
    int overflow;
};

static inline uint32_t sim_rand(struct sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 17;
    s->rng ^= s->rng << 5;
    return s->rng;
}

static inline bool sim_should_drop(struct sim_side *from, const uint8_t *data)
{
    struct sim *s = from->sim;
    if (s->drop_all)
        return true;
    if (s->drop_first_from == from->idx && from->sent == 1) {
        s->drop_first_from = -1;
        return true;
    }
    if (s->drop_ccs_from == from->idx && data[0] == 20) {
        s->drop_ccs_from = -1;
        return true;
    }
    return s->loss_pct > 0 && sim_rand(s) % 100 < s->loss_pct;
}

static inline int sim_send(void *ctx, const uint8_t *data, size_t len)
{
    struct sim_side *from = ctx;
    struct sim *s = from->sim;
    from->sent++;
    if (data[0] == 20)
        from->sent_ccs++;
    if (len > from->max_dgram)
        from->max_dgram = len;
    ASSERT(len > 0 && len <= SIM_MAX_DGRAM);
    if (sim_should_drop(from, data)) {
        s->dropped++;
        return 0;
    }
    if (s->nq == SIM_MAX_PKTS) {
        s->overflow++;
        return 0;
    }
    struct sim_pkt *p = &s->q[s->nq++];
    p->to = 1 - from->idx;
    p->due_us = vb_clock_mono_us() + s->delay_us +
                (s->jitter_us > 0 ? (int64_t)(sim_rand(s) % (uint32_t)s->jitter_us) : 0);
    p->len = len;
    memcpy(p->data, data, len);
    return 0;
}

static inline void sim_on_state(void *ctx, enum dtls_state st, const char *reason)
{
    struct sim_side *side = ctx;
    side->state = st;
    side->state_changes++;
    if (st == DTLS_CONNECTING)
        side->saw_connecting = true;
    snprintf(side->reason, sizeof(side->reason), "%s", reason ? reason : "(null)");
}

static inline void sim_on_data(void *ctx, const uint8_t *data, size_t len)
{
    struct sim_side *side = ctx;
    side->data_count++;
    side->data_len = len < sizeof(side->data) ? len : sizeof(side->data);
    memcpy(side->data, data, side->data_len);
}

/* A config for side `idx` with fast timers; the caller may change it before sim_create. */
static inline struct dtls_endpoint_config sim_config(struct sim *s, int idx)
{
    struct dtls_endpoint_config cfg = {
        .role = idx == 0 ? DTLS_ROLE_CLIENT : DTLS_ROLE_SERVER,
        .retransmit_ms = 20,
        .retransmit_max_ms = 200,
        .send = sim_send,
        .on_state = sim_on_state,
        .on_data = sim_on_data,
        .ctx = &s->side[idx],
    };
    return cfg;
}

static inline void sim_init(struct sim *s, uint32_t seed)
{
    memset(s, 0, sizeof(*s));
    s->q = xcalloc(SIM_MAX_PKTS, sizeof(*s->q));
    s->rng = seed ? seed : 1;
    s->drop_ccs_from = -1;
    s->drop_first_from = -1;
    for (int i = 0; i < 2; i++) {
        s->side[i].sim = s;
        s->side[i].idx = i;
    }
}

static inline void sim_create(struct sim *s, int idx, struct dtls_cert *cert,
                              const struct dtls_endpoint_config *cfg)
{
    ASSERT_EQ(dtls_endpoint_create(cert, cfg, &s->side[idx].ep), 0);
}

/* Tells each side the other's certificate fingerprint (SHA-256). */
static inline void sim_set_fingerprints(struct sim *s, struct dtls_cert *client,
                                        struct dtls_cert *server)
{
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s->side[0].ep, "sha-256",
                                                   dtls_cert_fingerprint(server)),
              0);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s->side[1].ep, "sha-256",
                                                   dtls_cert_fingerprint(client)),
              0);
}

static inline void sim_destroy(struct sim *s)
{
    for (int i = 0; i < 2; i++)
        dtls_endpoint_destroy(s->side[i].ep);
    free(s->q);
}

static inline bool sim_settled(const struct sim *s)
{
    for (int i = 0; i < 2; i++) {
        enum dtls_state st = dtls_endpoint_state(s->side[i].ep);
        if (st == DTLS_NEW || st == DTLS_CONNECTING)
            return false;
    }
    return true;
}

/* Delivers every datagram that is due, earliest first. Returns how many. */
static inline int sim_deliver(struct sim *s, int64_t now)
{
    int delivered = 0;
    for (;;) {
        int best = -1;
        for (int i = 0; i < s->nq; i++)
            if (s->q[i].due_us <= now && (best < 0 || s->q[i].due_us < s->q[best].due_us))
                best = i;
        if (best < 0)
            return delivered;
        struct sim_pkt p = s->q[best];
        s->q[best] = s->q[--s->nq];
        int rc = dtls_endpoint_input(s->side[p.to].ep, p.data, p.len);
        ASSERT(rc == 0 || rc == -ENOTCONN);
        delivered++;
    }
}

/* Runs the network and the timers until `done` holds (NULL: both sides settled, neither NEW
 * nor CONNECTING) and the queue is empty, or `max_ms` passed. Returns elapsed ms. */
static inline int64_t sim_run(struct sim *s, int64_t max_ms, bool (*done)(const struct sim *))
{
    int64_t start = vb_clock_mono_us();
    for (;;) {
        int64_t now = vb_clock_mono_us();
        sim_deliver(s, now);
        for (int i = 0; i < 2; i++) {
            int t = dtls_endpoint_timeout_ms(s->side[i].ep);
            if (t == 0)
                dtls_endpoint_on_timer(s->side[i].ep);
        }
        bool finished = done ? done(s) : sim_settled(s);
        if ((finished && s->nq == 0) || now - start > max_ms * 1000)
            return (vb_clock_mono_us() - start) / 1000;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Both sides through a full handshake with the default settings. */
static inline void sim_start(struct sim *s)
{
    ASSERT_EQ(dtls_endpoint_start(s->side[1].ep), 0);
    ASSERT_EQ(dtls_endpoint_start(s->side[0].ep), 0);
}

static inline void assert_keys_match(struct sim *s, enum dtls_srtp_profile profile)
{
    struct dtls_srtp_keys c, v;
    ASSERT_EQ(dtls_endpoint_srtp_keys(s->side[0].ep, &c), 0);
    ASSERT_EQ(dtls_endpoint_srtp_keys(s->side[1].ep, &v), 0);
    ASSERT_EQ(c.profile, profile);
    ASSERT_EQ(v.profile, profile);
    ASSERT_EQ(c.key_len, profile == DTLS_SRTP_AEAD_AES_256_GCM ? 32 : 16);
    ASSERT_EQ(
        c.salt_len,
        (profile == DTLS_SRTP_AEAD_AES_128_GCM || profile == DTLS_SRTP_AEAD_AES_256_GCM) ? 12 : 14);
    ASSERT_EQ(v.key_len, c.key_len);
    ASSERT_EQ(v.salt_len, c.salt_len);
    size_t n = c.key_len + c.salt_len;
    ASSERT_MEMEQ(c.local, v.remote, n);
    ASSERT_MEMEQ(c.remote, v.local, n);
    ASSERT(memcmp(c.local, c.remote, n) != 0);
}

#endif
