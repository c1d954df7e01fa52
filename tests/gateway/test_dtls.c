/* This file implements the tests of gateway/dtls: certificates, fingerprints, and handshakes
 * between two endpoints over a simulated network (loss, reordering, delay, lost flights), profile
 * negotiation, key export, alerts and close. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/dtls/dtls.h"
#include "tests/gateway/test_dtls_pair.h"
#include "tests/test.h"

static struct dtls_cert *new_cert(void)
{
    struct dtls_cert *c = NULL;
    ASSERT_EQ(dtls_cert_generate(NULL, &c), 0);
    ASSERT(c != NULL);
    return c;
}

/* Two endpoints with their own certs, fingerprints exchanged; `client_mask`/`server_mask`
 * restrict the SRTP profiles (0: all). The caller runs and destroys. */
static void pair_setup(struct sim *s, struct dtls_cert *cc, struct dtls_cert *sc,
                       unsigned client_mask, unsigned server_mask)
{
    struct dtls_endpoint_config c = sim_config(s, 0), v = sim_config(s, 1);
    c.srtp_profiles = client_mask;
    v.srtp_profiles = server_mask;
    sim_create(s, 0, cc, &c);
    sim_create(s, 1, sc, &v);
    sim_set_fingerprints(s, cc, sc);
}

static void assert_fp_format(const char *fp, size_t bytes)
{
    ASSERT_EQ(strlen(fp), bytes * 3 - 1);
    for (size_t i = 0; i < bytes * 3 - 1; i++) {
        if (i % 3 == 2)
            ASSERT(fp[i] == ':');
        else
            ASSERT((fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'A' && fp[i] <= 'F'));
    }
}

static void test_cert_generate(void)
{
    struct dtls_cert *a = new_cert(), *b = new_cert();
    assert_fp_format(dtls_cert_fingerprint(a), 32);
    ASSERT(strcmp(dtls_cert_fingerprint(a), dtls_cert_fingerprint(b)) != 0);
    char buf[200];
    ASSERT_EQ(dtls_cert_fingerprint_hash(a, "SHA-256", buf, sizeof(buf)), 0);
    ASSERT_STREQ(buf, dtls_cert_fingerprint(a));
    ASSERT_EQ(dtls_cert_fingerprint_hash(a, "sha-1", buf, sizeof(buf)), 0);
    assert_fp_format(buf, 20);
    ASSERT_EQ(dtls_cert_fingerprint_hash(a, "sha-512", buf, sizeof(buf)), 0);
    assert_fp_format(buf, 64);
    ASSERT_EQ(dtls_cert_fingerprint_hash(a, "md5", buf, sizeof(buf)), -ENOTSUP);
    ASSERT_EQ(dtls_cert_fingerprint_hash(a, "sha-256", buf, 95), -ENOSPC);
    dtls_cert_destroy(a);
    dtls_cert_destroy(b);
    dtls_cert_destroy(NULL);
}

static void test_names_and_demux(void)
{
    enum dtls_role r;
    ASSERT_EQ(dtls_role_from_remote_setup("actpass", &r), 0);
    ASSERT_EQ(r, DTLS_ROLE_CLIENT);
    ASSERT_EQ(dtls_role_from_remote_setup("passive", &r), 0);
    ASSERT_EQ(r, DTLS_ROLE_CLIENT);
    ASSERT_EQ(dtls_role_from_remote_setup("ACTIVE", &r), 0);
    ASSERT_EQ(r, DTLS_ROLE_SERVER);
    ASSERT_EQ(dtls_role_from_remote_setup("holdconn", &r), -EINVAL);
    ASSERT_EQ(dtls_role_from_remote_setup(NULL, &r), -EINVAL);
    ASSERT_STREQ(dtls_role_setup_name(DTLS_ROLE_CLIENT), "active");
    ASSERT_STREQ(dtls_role_setup_name(DTLS_ROLE_SERVER), "passive");
    ASSERT_STREQ(dtls_state_name(DTLS_CONNECTED), "connected");
    ASSERT_STREQ(dtls_srtp_profile_name(DTLS_SRTP_AEAD_AES_256_GCM), "SRTP_AEAD_AES_256_GCM");
    ASSERT(dtls_srtp_profile_name(DTLS_SRTP_NONE) == NULL);

    ASSERT(!dtls_is_dtls(19));
    ASSERT(dtls_is_dtls(20));
    ASSERT(dtls_is_dtls(22));
    ASSERT(dtls_is_dtls(63));
    ASSERT(!dtls_is_dtls(64));
    ASSERT(!dtls_is_dtls(0x80));
    ASSERT_EQ(dtls_demux_classify(0), DTLS_DEMUX_STUN);
    ASSERT_EQ(dtls_demux_classify(1), DTLS_DEMUX_STUN);
    ASSERT_EQ(dtls_demux_classify(3), DTLS_DEMUX_STUN);
    ASSERT_EQ(dtls_demux_classify(4), DTLS_DEMUX_OTHER);
    ASSERT_EQ(dtls_demux_classify(127), DTLS_DEMUX_OTHER);
    ASSERT_EQ(dtls_demux_classify(128), DTLS_DEMUX_RTP);
    ASSERT_EQ(dtls_demux_classify(191), DTLS_DEMUX_RTP);
    ASSERT_EQ(dtls_demux_classify(192), DTLS_DEMUX_OTHER);
}

static void test_config_checks(void)
{
    struct dtls_cert *c = new_cert();
    struct sim s;
    sim_init(&s, 1);
    struct dtls_endpoint *ep = NULL;
    struct dtls_endpoint_config cfg = sim_config(&s, 0);
    cfg.mtu = 100;
    ASSERT_EQ(dtls_endpoint_create(c, &cfg, &ep), -EINVAL);
    cfg = sim_config(&s, 0);
    cfg.send = NULL;
    ASSERT_EQ(dtls_endpoint_create(c, &cfg, &ep), -EINVAL);
    cfg = sim_config(&s, 0);
    cfg.srtp_profiles = DTLS_SRTP_MASK(3);
    ASSERT_EQ(dtls_endpoint_create(c, &cfg, &ep), -EINVAL);
    cfg = sim_config(&s, 0);
    cfg.retransmit_ms = 500;
    cfg.retransmit_max_ms = 100;
    ASSERT_EQ(dtls_endpoint_create(c, &cfg, &ep), -EINVAL);
    cfg.retransmit_ms = 10;
    ASSERT_EQ(dtls_endpoint_create(c, &cfg, &ep), -EINVAL);
    ASSERT(ep == NULL);
    /* The endpoint keeps the cert alive after its creator let go. */
    cfg = sim_config(&s, 0);
    ASSERT_EQ(dtls_endpoint_create(c, &cfg, &ep), 0);
    dtls_cert_destroy(c);
    ASSERT_EQ(dtls_endpoint_state(ep), DTLS_NEW);
    ASSERT_EQ(dtls_endpoint_timeout_ms(ep), -1);
    ASSERT_EQ(dtls_endpoint_on_timer(ep), -ENOTCONN);
    ASSERT_EQ(dtls_endpoint_start(ep), 0);
    ASSERT_EQ(dtls_endpoint_start(ep), -EALREADY);
    ASSERT_EQ(s.side[0].sent, 1); /* the ClientHello */
    ASSERT(dtls_endpoint_timeout_ms(ep) >= 0);
    ASSERT_EQ(dtls_endpoint_input(ep, (const uint8_t *)"", 0), -EINVAL);
    dtls_endpoint_destroy(ep);
    sim_destroy(&s);
}

/* Default settings: both offer everything, AES-256-GCM wins; the keys match crosswise. */
static void test_handshake_default(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 7);
    /* The default timers (1 s): nothing is lost, so nothing is retransmitted. */
    struct dtls_endpoint_config c = sim_config(&s, 0), v = sim_config(&s, 1);
    c.retransmit_ms = c.retransmit_max_ms = v.retransmit_ms = v.retransmit_max_ms = 0;
    sim_create(&s, 0, cc, &c);
    sim_create(&s, 1, sc, &v);
    sim_set_fingerprints(&s, cc, sc);
    sim_start(&s);
    sim_run(&s, 5000, NULL);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(s.side[i].state, DTLS_CONNECTED);
        ASSERT(s.side[i].saw_connecting);
        ASSERT_EQ(s.side[i].state_changes, 2);
        ASSERT_STREQ(dtls_endpoint_reason(s.side[i].ep), "");
        ASSERT_EQ(dtls_endpoint_srtp_profile(s.side[i].ep), DTLS_SRTP_AEAD_AES_256_GCM);
        ASSERT(s.side[i].max_dgram <= 1200);
        struct dtls_endpoint_stats st;
        dtls_endpoint_get_stats(s.side[i].ep, &st);
        ASSERT_EQ(st.datagrams_out, (uint64_t)s.side[i].sent);
        ASSERT(st.datagrams_in > 0 && st.bytes_in > 0 && st.bytes_out > 0);
        ASSERT_EQ(st.retransmissions, 0);
    }
    ASSERT_EQ(dtls_endpoint_role(s.side[0].ep), DTLS_ROLE_CLIENT);
    assert_keys_match(&s, DTLS_SRTP_AEAD_AES_256_GCM);
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

static const enum dtls_srtp_profile all_profiles[] = {
    DTLS_SRTP_AEAD_AES_256_GCM, DTLS_SRTP_AEAD_AES_128_GCM, DTLS_SRTP_AES128_CM_SHA1_80,
    DTLS_SRTP_AES128_CM_SHA1_32};

/* Each profile, restricted on one side then on the other. */
static void test_handshake_each_profile(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    for (size_t i = 0; i < 4; i++) {
        for (int restricted = 0; restricted < 2; restricted++) {
            enum dtls_srtp_profile p = all_profiles[i];
            struct sim s;
            sim_init(&s, (uint32_t)(i + 1));
            unsigned m = DTLS_SRTP_MASK(p);
            pair_setup(&s, cc, sc, restricted ? 0 : m, restricted ? m : 0);
            sim_start(&s);
            sim_run(&s, 5000, NULL);
            ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
            ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
            assert_keys_match(&s, p);
            sim_destroy(&s);
        }
    }
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

static enum dtls_srtp_profile negotiate(struct dtls_cert *cc, struct dtls_cert *sc,
                                        unsigned client_mask, unsigned server_mask)
{
    struct sim s;
    sim_init(&s, 3);
    pair_setup(&s, cc, sc, client_mask, server_mask);
    sim_start(&s);
    sim_run(&s, 5000, NULL);
    enum dtls_srtp_profile p = dtls_endpoint_srtp_profile(s.side[0].ep);
    ASSERT_EQ(dtls_endpoint_srtp_profile(s.side[1].ep), p);
    if (p == DTLS_SRTP_NONE) {
        ASSERT_EQ(s.side[0].state, DTLS_FAILED);
        ASSERT_EQ(s.side[1].state, DTLS_FAILED);
        ASSERT_STREQ(s.side[0].reason, "no SRTP profile negotiated");
    }
    sim_destroy(&s);
    return p;
}

/* The server's preference order decides among what the client offers. */
static void test_profile_preference(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    unsigned cm80 = DTLS_SRTP_MASK(DTLS_SRTP_AES128_CM_SHA1_80);
    unsigned cm32 = DTLS_SRTP_MASK(DTLS_SRTP_AES128_CM_SHA1_32);
    unsigned gcm128 = DTLS_SRTP_MASK(DTLS_SRTP_AEAD_AES_128_GCM);
    unsigned gcm256 = DTLS_SRTP_MASK(DTLS_SRTP_AEAD_AES_256_GCM);
    /* What aiortc offers. */
    ASSERT_EQ(negotiate(cc, sc, cm80, 0), DTLS_SRTP_AES128_CM_SHA1_80);
    /* What Chromium offers by default. */
    ASSERT_EQ(negotiate(cc, sc, gcm256 | gcm128 | cm80, 0), DTLS_SRTP_AEAD_AES_256_GCM);
    ASSERT_EQ(negotiate(cc, sc, cm80 | gcm128, 0), DTLS_SRTP_AEAD_AES_128_GCM);
    ASSERT_EQ(negotiate(cc, sc, 0, cm32 | cm80), DTLS_SRTP_AES128_CM_SHA1_80);
    ASSERT_EQ(negotiate(cc, sc, cm32, gcm256), DTLS_SRTP_NONE);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

/* A small MTU: the certificate flight is fragmented, no datagram exceeds it. */
static void test_small_mtu(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 11);
    struct dtls_endpoint_config c = sim_config(&s, 0), v = sim_config(&s, 1);
    c.mtu = 256;
    v.mtu = 300;
    sim_create(&s, 0, cc, &c);
    sim_create(&s, 1, sc, &v);
    sim_set_fingerprints(&s, cc, sc);
    sim_start(&s);
    sim_run(&s, 5000, NULL);
    ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
    ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
    ASSERT_LE(s.side[0].max_dgram, 256);
    ASSERT_LE(s.side[1].max_dgram, 300);
    ASSERT_GE(s.side[1].max_dgram, 200);
    ASSERT_GE(s.side[1].sent, 3); /* the server's flight did not fit in one datagram */
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

/* Random loss, delay and reordering: every run connects, retransmission timers fire. */
static void test_handshake_loss_reorder(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    uint64_t retransmissions = 0;
    int dropped = 0;
    for (uint32_t seed = 1; seed <= 8; seed++) {
        struct sim s;
        sim_init(&s, seed * 2654435761u);
        s.loss_pct = 25;
        s.delay_us = 5000;
        s.jitter_us = 30000;
        pair_setup(&s, cc, sc, 0, 0);
        sim_start(&s);
        sim_run(&s, 20000, NULL);
        ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
        ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
        assert_keys_match(&s, DTLS_SRTP_AEAD_AES_256_GCM);
        for (int i = 0; i < 2; i++) {
            struct dtls_endpoint_stats st;
            dtls_endpoint_get_stats(s.side[i].ep, &st);
            retransmissions += st.retransmissions;
        }
        dropped += s.dropped;
        ASSERT_EQ(s.overflow, 0);
        sim_destroy(&s);
    }
    ASSERT_GT(dropped, 0);
    ASSERT_GT(retransmissions, 0);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

/* Lost ClientHello: the client's timer resends it. */
static void test_lost_client_hello(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 5);
    s.drop_first_from = 0;
    pair_setup(&s, cc, sc, 0, 0);
    sim_start(&s);
    sim_run(&s, 5000, NULL);
    ASSERT_EQ(s.dropped, 1);
    ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
    ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
    struct dtls_endpoint_stats st;
    dtls_endpoint_get_stats(s.side[0].ep, &st);
    ASSERT_GE(st.retransmissions, 1);
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

/* The server's last flight (ChangeCipherSpec + Finished) is lost after the server finished:
 * the client retransmits its flight and the connected server answers it again. */
static void test_lost_final_flight(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 9);
    s.drop_ccs_from = 1;
    pair_setup(&s, cc, sc, 0, 0);
    sim_start(&s);
    sim_run(&s, 5000, NULL);
    ASSERT_EQ(s.dropped, 1);
    ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
    ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
    /* The connected server sent its last flight again, answering the client's repeated
     * flight (resent by the client's timer, or earlier on a slow run). */
    ASSERT_GE(s.side[1].sent_ccs, 2);
    assert_keys_match(&s, DTLS_SRTP_AEAD_AES_256_GCM);
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

/* Nobody answers: the client gives up after OpenSSL's retransmission limit. */
static void test_handshake_timeout(void)
{
    struct dtls_cert *cc = new_cert();
    struct sim s;
    sim_init(&s, 1);
    s.drop_all = true;
    struct dtls_endpoint_config c = sim_config(&s, 0);
    c.retransmit_ms = 20;
    c.retransmit_max_ms = 40;
    sim_create(&s, 0, cc, &c);
    ASSERT_EQ(dtls_endpoint_start(s.side[0].ep), 0);
    int64_t start = vb_clock_mono_us();
    while (dtls_endpoint_state(s.side[0].ep) == DTLS_CONNECTING &&
           vb_clock_mono_us() - start < 5000000) {
        int t = dtls_endpoint_timeout_ms(s.side[0].ep);
        ASSERT(t >= 0);
        if (t == 0)
            dtls_endpoint_on_timer(s.side[0].ep);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    ASSERT_EQ(s.side[0].state, DTLS_FAILED);
    ASSERT_STREQ(s.side[0].reason, "handshake timeout");
    ASSERT_EQ(dtls_endpoint_timeout_ms(s.side[0].ep), -1);
    ASSERT_EQ(dtls_endpoint_on_timer(s.side[0].ep), -ENOTCONN);
    struct dtls_endpoint_stats st;
    dtls_endpoint_get_stats(s.side[0].ep, &st);
    /* OpenSSL's limit: 12 retransmissions, then the 13th timeout fails. */
    ASSERT_EQ(st.retransmissions, 12);
    ASSERT_EQ(s.side[0].sent, 13);
    dtls_endpoint_destroy(s.side[0].ep);
    s.side[0].ep = NULL;
    free(s.q);
    dtls_cert_destroy(cc);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"cert_generate", test_cert_generate},
        {"names_and_demux", test_names_and_demux},
        {"config_checks", test_config_checks},
        {"handshake_default", test_handshake_default},
        {"handshake_each_profile", test_handshake_each_profile},
        {"profile_preference", test_profile_preference},
        {"small_mtu", test_small_mtu},
        {"handshake_loss_reorder", test_handshake_loss_reorder},
        {"lost_client_hello", test_lost_client_hello},
        {"lost_final_flight", test_lost_final_flight},
        {"handshake_timeout", test_handshake_timeout},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
