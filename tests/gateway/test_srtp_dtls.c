/* This file implements the tests of gateway/dtls and gateway/srtp together: for every profile, a
 * DTLS handshake between two endpoints, SRTP sessions made from the keys each side exported, and
 * RTP and RTCP protected on one side and unprotected on the other, both ways. */
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "gateway/dtls/dtls.h"
#include "gateway/srtp/srtp.h"
#include "tests/gateway/test_dtls_pair.h"
#include "tests/test.h"

/* The profile numbers of the two modules are the same IANA ids. */
_Static_assert((int)DTLS_SRTP_AES128_CM_SHA1_80 == (int)VB_SRTP_AES128_CM_SHA1_80, "ids");
_Static_assert((int)DTLS_SRTP_AES128_CM_SHA1_32 == (int)VB_SRTP_AES128_CM_SHA1_32, "ids");
_Static_assert((int)DTLS_SRTP_AEAD_AES_128_GCM == (int)VB_SRTP_AEAD_AES_128_GCM, "ids");
_Static_assert((int)DTLS_SRTP_AEAD_AES_256_GCM == (int)VB_SRTP_AEAD_AES_256_GCM, "ids");

static struct vb_srtp *srtp_from(struct dtls_endpoint *ep)
{
    struct dtls_srtp_keys k;
    ASSERT_EQ(dtls_endpoint_srtp_keys(ep, &k), 0);
    size_t n = k.key_len + k.salt_len;
    ASSERT_EQ(vb_srtp_key_salt_len((int)k.profile), n);
    struct vb_srtp *s = NULL;
    ASSERT_EQ(vb_srtp_create((int)k.profile, k.local, k.remote, n, &s), 0);
    explicit_bzero(&k, sizeof(k));
    return s;
}

static void send_rtp(struct vb_srtp *tx, struct vb_srtp *rx, uint16_t seq, uint32_t ssrc)
{
    uint8_t plain[200], buf[200 + VB_SRTP_MAX_OVERHEAD];
    plain[0] = 0x80;
    plain[1] = 111;
    wr_u16(plain + 2, seq);
    wr_u32(plain + 4, 48000u * seq);
    wr_u32(plain + 8, ssrc);
    for (int i = 12; i < 200; i++)
        plain[i] = (uint8_t)(i ^ seq);
    size_t len = 200;
    memcpy(buf, plain, len);
    ASSERT_EQ(vb_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
    ASSERT_GT(len, 200);
    ASSERT_EQ(vb_srtp_unprotect_rtp(rx, buf, &len), 0);
    ASSERT_EQ(len, 200);
    ASSERT_MEMEQ(buf, plain, 200);
}

static void send_rtcp(struct vb_srtp *tx, struct vb_srtp *rx, uint32_t ssrc)
{
    /* A receiver report with one report block. */
    uint8_t plain[32] = {0x81, 201, 0, 7};
    wr_u32(plain + 4, ssrc);
    wr_u32(plain + 8, 0x12345678);
    plain[12] = 3;
    uint8_t buf[32 + VB_SRTP_MAX_OVERHEAD];
    size_t len = sizeof(plain);
    memcpy(buf, plain, len);
    ASSERT_EQ(vb_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
    ASSERT_EQ(vb_srtp_unprotect_rtcp(rx, buf, &len), 0);
    ASSERT_EQ(len, sizeof(plain));
    ASSERT_MEMEQ(buf, plain, sizeof(plain));
}

static void test_each_profile(void)
{
    static const enum dtls_srtp_profile ps[] = {
        DTLS_SRTP_AEAD_AES_256_GCM, DTLS_SRTP_AEAD_AES_128_GCM, DTLS_SRTP_AES128_CM_SHA1_80,
        DTLS_SRTP_AES128_CM_SHA1_32};
    struct dtls_cert *cc = NULL, *sc = NULL;
    ASSERT_EQ(dtls_cert_generate(NULL, &cc), 0);
    ASSERT_EQ(dtls_cert_generate(NULL, &sc), 0);
    for (size_t i = 0; i < 4; i++) {
        struct sim s;
        sim_init(&s, (uint32_t)(i + 21));
        struct dtls_endpoint_config c = sim_config(&s, 0), v = sim_config(&s, 1);
        c.srtp_profiles = DTLS_SRTP_MASK(ps[i]);
        sim_create(&s, 0, cc, &c);
        sim_create(&s, 1, sc, &v);
        sim_set_fingerprints(&s, cc, sc);
        sim_start(&s);
        sim_run(&s, 5000, NULL);
        ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
        ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
        ASSERT_EQ(dtls_endpoint_srtp_profile(s.side[1].ep), ps[i]);
        struct vb_srtp *client = srtp_from(s.side[0].ep), *server = srtp_from(s.side[1].ep);
        for (uint16_t seq = 1; seq <= 20; seq++) {
            send_rtp(client, server, seq, 0xc0ffee);
            send_rtp(server, client, seq, 0xbeef);
        }
        send_rtcp(client, server, 0xc0ffee);
        send_rtcp(server, client, 0xbeef);
        /* The keys are per direction: the client's own inbound session (the server's key)
         * does not authenticate what the client protected. */
        uint8_t pkt[100 + VB_SRTP_MAX_OVERHEAD] = {0x80, 111, 0, 99};
        size_t len = 100;
        ASSERT_EQ(vb_srtp_protect_rtp(client, pkt, &len, sizeof(pkt)), 0);
        ASSERT_EQ(vb_srtp_unprotect_rtp(client, pkt, &len), -EBADMSG);
        vb_srtp_destroy(client);
        vb_srtp_destroy(server);
        sim_destroy(&s);
    }
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"each_profile", test_each_profile},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
