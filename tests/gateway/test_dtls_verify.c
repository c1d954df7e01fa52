/* This file implements the tests of gateway/dtls peer verification and connection life:
 * fingerprints (SHA-256, SHA-1, wrong ones, late ones, malformed ones), certificates loaded from
 * PEM files (ECDSA and an encrypted RSA key), application data, garbage input, close_notify. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gateway/dtls/dtls.h"
#include "tests/gateway/test_dtls_pair.h"
#include "tests/test.h"

static struct dtls_cert *new_cert(void)
{
    struct dtls_cert *c = NULL;
    ASSERT_EQ(dtls_cert_generate(NULL, &c), 0);
    return c;
}

/* A fingerprint with its first byte changed. */
static void corrupt_fp(const char *fp, char *out, size_t cap)
{
    snprintf(out, cap, "%s", fp);
    out[0] = out[0] == '0' ? '1' : '0';
}

/* A pair whose fingerprints are set by the caller. */
static void pair_bare(struct sim *s, struct dtls_cert *cc, struct dtls_cert *sc)
{
    struct dtls_endpoint_config c = sim_config(s, 0), v = sim_config(s, 1);
    sim_create(s, 0, cc, &c);
    sim_create(s, 1, sc, &v);
}

static void connect_pair(struct sim *s, struct dtls_cert *cc, struct dtls_cert *sc)
{
    pair_bare(s, cc, sc);
    sim_set_fingerprints(s, cc, sc);
    sim_start(s);
    sim_run(s, 5000, NULL);
    ASSERT_EQ(s->side[0].state, DTLS_CONNECTED);
    ASSERT_EQ(s->side[1].state, DTLS_CONNECTED);
}

/* SHA-1 one way, lowercase SHA-256 the other: both verify. */
static void test_fingerprint_sha1_and_case(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 1);
    pair_bare(&s, cc, sc);
    char sha1[100], lower[100];
    ASSERT_EQ(dtls_cert_fingerprint_hash(cc, "sha-1", sha1, sizeof(sha1)), 0);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s.side[1].ep, "SHA-1", sha1), 0);
    snprintf(lower, sizeof(lower), "%s", dtls_cert_fingerprint(sc));
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s.side[0].ep, "sha-256", lower), 0);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s.side[0].ep, "sha-256", lower), -EALREADY);
    sim_start(&s);
    sim_run(&s, 5000, NULL);
    ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
    ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
    assert_keys_match(&s, DTLS_SRTP_AEAD_AES_256_GCM);
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

static void test_fingerprint_malformed(void)
{
    struct dtls_cert *c = new_cert();
    struct sim s;
    sim_init(&s, 1);
    struct dtls_endpoint_config cfg = sim_config(&s, 0);
    sim_create(&s, 0, c, &cfg);
    struct dtls_endpoint *ep = s.side[0].ep;
    const char *fp = dtls_cert_fingerprint(c);
    char buf[200];
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "md5", "AB:CD"), -ENOTSUP);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, NULL, fp), -EINVAL);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-256", NULL), -EINVAL);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-1", fp), -EINVAL); /* too long */
    snprintf(buf, sizeof(buf), "%.92s", fp);                                   /* too short */
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-256", buf), -EINVAL);
    snprintf(buf, sizeof(buf), "%s:", fp);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-256", buf), -EINVAL);
    snprintf(buf, sizeof(buf), "%s", fp);
    buf[2] = '-';
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-256", buf), -EINVAL);
    buf[2] = ':';
    buf[4] = 'G';
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-256", buf), -EINVAL);
    snprintf(buf, sizeof(buf), " %s", fp);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-256", buf), -EINVAL);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(ep, "sha-256", fp), 0);
    sim_destroy(&s);
    dtls_cert_destroy(c);
}

/* The server expects another certificate from the client: it rejects the client's during the
 * handshake, the client hears the alert. `wrong_side` is the side with the wrong fingerprint. */
static void run_mismatch(int wrong_side)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 1);
    pair_bare(&s, cc, sc);
    char bad[100];
    const struct dtls_cert *expected = wrong_side == 0 ? sc : cc;
    corrupt_fp(dtls_cert_fingerprint(expected), bad, sizeof(bad));
    const struct dtls_cert *other = wrong_side == 0 ? cc : sc;
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s.side[wrong_side].ep, "sha-256", bad), 0);
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s.side[1 - wrong_side].ep, "sha-256",
                                                   dtls_cert_fingerprint(other)),
              0);
    sim_start(&s);
    sim_run(&s, 5000, NULL);
    ASSERT_EQ(s.side[wrong_side].state, DTLS_FAILED);
    ASSERT_STREQ(s.side[wrong_side].reason, "fingerprint mismatch");
    ASSERT_STREQ(dtls_endpoint_reason(s.side[wrong_side].ep), "fingerprint mismatch");
    ASSERT_EQ(s.side[1 - wrong_side].state, DTLS_FAILED);
    ASSERT(strstr(s.side[1 - wrong_side].reason, "received fatal alert") != NULL);
    struct dtls_srtp_keys k;
    ASSERT_EQ(dtls_endpoint_srtp_keys(s.side[wrong_side].ep, &k), -EAGAIN);
    ASSERT_EQ(dtls_endpoint_srtp_profile(s.side[wrong_side].ep), DTLS_SRTP_NONE);
    fprintf(stderr, "   peer of the rejecting side: %s\n", s.side[1 - wrong_side].reason);
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

static void test_fingerprint_mismatch_server(void)
{
    run_mismatch(1);
}

static void test_fingerprint_mismatch_client(void)
{
    run_mismatch(0);
}

static bool client_settled(const struct sim *s)
{
    return dtls_endpoint_state(s->side[0].ep) == DTLS_CONNECTED;
}

/* The server learns the client's fingerprint only after the handshake: it waits in
 * CONNECTING, then connects (or fails and closes the client) when the fingerprint comes. */
static void run_deferred(bool correct)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 1);
    pair_bare(&s, cc, sc);
    ASSERT_EQ(
        dtls_endpoint_set_remote_fingerprint(s.side[0].ep, "sha-256", dtls_cert_fingerprint(sc)),
        0);
    /* No start on the server: the ClientHello starts it. */
    ASSERT_EQ(dtls_endpoint_start(s.side[0].ep), 0);
    sim_run(&s, 5000, client_settled);
    ASSERT_EQ(s.side[0].state, DTLS_CONNECTED);
    ASSERT_EQ(s.side[1].state, DTLS_CONNECTING);
    struct dtls_srtp_keys k;
    ASSERT_EQ(dtls_endpoint_srtp_keys(s.side[1].ep, &k), -EAGAIN);
    char fp[100];
    if (correct)
        snprintf(fp, sizeof(fp), "%s", dtls_cert_fingerprint(cc));
    else
        corrupt_fp(dtls_cert_fingerprint(cc), fp, sizeof(fp));
    ASSERT_EQ(dtls_endpoint_set_remote_fingerprint(s.side[1].ep, "sha-256", fp), 0);
    sim_run(&s, 5000, NULL);
    if (correct) {
        ASSERT_EQ(s.side[1].state, DTLS_CONNECTED);
        assert_keys_match(&s, DTLS_SRTP_AEAD_AES_256_GCM);
    } else {
        ASSERT_EQ(s.side[1].state, DTLS_FAILED);
        ASSERT_STREQ(s.side[1].reason, "fingerprint mismatch");
        ASSERT_EQ(s.side[0].state, DTLS_CLOSED);
        ASSERT_STREQ(s.side[0].reason, "received warning alert: close notify");
    }
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

static void test_fingerprint_deferred(void)
{
    run_deferred(true);
}

static void test_fingerprint_deferred_wrong(void)
{
    run_deferred(false);
}

/* Application data both ways; too large is refused; garbage is dropped. */
static void test_data_and_garbage(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 1);
    connect_pair(&s, cc, sc);
    ASSERT_EQ(dtls_endpoint_write(s.side[0].ep, (const uint8_t *)"hello", 5), 0);
    ASSERT_EQ(dtls_endpoint_write(s.side[1].ep, (const uint8_t *)"world!", 6), 0);
    sim_run(&s, 1000, NULL);
    ASSERT_EQ(s.side[1].data_count, 1);
    ASSERT_EQ(s.side[1].data_len, 5);
    ASSERT_MEMEQ(s.side[1].data, "hello", 5);
    ASSERT_EQ(s.side[0].data_count, 1);
    ASSERT_MEMEQ(s.side[0].data, "world!", 6);

    static uint8_t big[1200];
    ASSERT_EQ(dtls_endpoint_write(s.side[0].ep, big, sizeof(big)), -EMSGSIZE);
    ASSERT_EQ(dtls_endpoint_write(s.side[0].ep, big, 1000), 0);
    sim_run(&s, 1000, NULL);
    ASSERT_EQ(s.side[1].data_count, 2);

    /* Records that do not decrypt, a truncated header, random bytes: all ignored. */
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    junk[0] = 23, junk[1] = 0xfe, junk[2] = 0xfd, junk[3] = 0, junk[4] = 1;
    ASSERT_EQ(dtls_endpoint_input(s.side[1].ep, junk, sizeof(junk)), 0);
    ASSERT_EQ(dtls_endpoint_input(s.side[1].ep, junk, 5), 0);
    junk[0] = 22;
    ASSERT_EQ(dtls_endpoint_input(s.side[1].ep, junk, sizeof(junk)), 0);
    ASSERT_EQ(dtls_endpoint_input(s.side[1].ep, junk, 0), -EINVAL);
    static uint8_t huge[16385];
    ASSERT_EQ(dtls_endpoint_input(s.side[1].ep, huge, sizeof(huge)), -EINVAL);
    ASSERT_EQ(dtls_endpoint_state(s.side[1].ep), DTLS_CONNECTED);
    ASSERT_EQ(s.side[1].data_count, 2);
    /* Still works afterwards. */
    ASSERT_EQ(dtls_endpoint_write(s.side[0].ep, (const uint8_t *)"again", 5), 0);
    sim_run(&s, 1000, NULL);
    ASSERT_EQ(s.side[1].data_count, 3);
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

/* close_notify: the peer becomes CLOSED with the reason; nothing more goes in. */
static void test_close_notify(void)
{
    struct dtls_cert *cc = new_cert(), *sc = new_cert();
    struct sim s;
    sim_init(&s, 1);
    connect_pair(&s, cc, sc);
    dtls_endpoint_close(s.side[0].ep);
    ASSERT_EQ(s.side[0].state, DTLS_CLOSED);
    ASSERT_STREQ(s.side[0].reason, "closed locally");
    int changes = s.side[0].state_changes;
    dtls_endpoint_close(s.side[0].ep); /* idempotent */
    ASSERT_EQ(s.side[0].state_changes, changes);
    sim_run(&s, 1000, NULL);
    ASSERT_EQ(s.side[1].state, DTLS_CLOSED);
    ASSERT_STREQ(s.side[1].reason, "received warning alert: close notify");
    ASSERT_EQ(dtls_endpoint_write(s.side[1].ep, (const uint8_t *)"x", 1), -ENOTCONN);
    uint8_t rec[13] = {23, 0xfe, 0xfd};
    ASSERT_EQ(dtls_endpoint_input(s.side[1].ep, rec, sizeof(rec)), -ENOTCONN);
    sim_destroy(&s);
    dtls_cert_destroy(cc);
    dtls_cert_destroy(sc);
}

/* ---- PEM files ---- */

static void write_pem(const char *path, EVP_PKEY *key, X509 *x, const char *pass)
{
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    if (x)
        ASSERT(PEM_write_X509(f, x) == 1);
    if (key)
        ASSERT(PEM_write_PrivateKey(f, key, pass ? EVP_aes_128_cbc() : NULL, NULL, 0, NULL,
                                    (void *)pass) == 1);
    ASSERT_EQ(fclose(f), 0);
}

static X509 *self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    ASSERT(x != NULL);
    ASSERT(ASN1_INTEGER_set(X509_get_serialNumber(x), 42) == 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, n);
    ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

/* The fingerprint computed here independently of gateway/dtls. */
static void expected_fp(X509 *x, char *out)
{
    unsigned char md[32];
    unsigned n = 0;
    ASSERT(X509_digest(x, EVP_sha256(), md, &n) == 1);
    ASSERT_EQ(n, 32);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 3 * i, "%02X%s", md[i], i + 1 < n ? ":" : "");
}

static void test_cert_load(void)
{
    char dir[] = "/tmp/vb-dtls-XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    char ec_pem[64], rsa_cert[64], rsa_key[64], missing[64];
    snprintf(ec_pem, sizeof(ec_pem), "%s/ec.pem", dir);
    snprintf(rsa_cert, sizeof(rsa_cert), "%s/rsa.crt", dir);
    snprintf(rsa_key, sizeof(rsa_key), "%s/rsa.key", dir);
    snprintf(missing, sizeof(missing), "%s/none.pem", dir);

    EVP_PKEY *ec = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048);
    ASSERT(ec && rsa);
    X509 *ecx = self_signed(ec), *rsax = self_signed(rsa);
    write_pem(ec_pem, ec, ecx, NULL); /* certificate and key in one file */
    write_pem(rsa_cert, NULL, rsax, NULL);
    write_pem(rsa_key, rsa, NULL, "s3cret");

    struct dtls_cert *a = NULL, *b = NULL, *bad = NULL;
    char fp[100];
    ASSERT_EQ(dtls_cert_load(NULL, ec_pem, ec_pem, NULL, &a), 0);
    expected_fp(ecx, fp);
    ASSERT_STREQ(dtls_cert_fingerprint(a), fp);
    ASSERT_EQ(dtls_cert_load(NULL, rsa_cert, rsa_key, "s3cret", &b), 0);
    expected_fp(rsax, fp);
    ASSERT_STREQ(dtls_cert_fingerprint(b), fp);

    ASSERT_EQ(dtls_cert_load(NULL, rsa_cert, rsa_key, "wrong", &bad), -EINVAL);
    ASSERT_EQ(dtls_cert_load(NULL, rsa_cert, rsa_key, NULL, &bad), -EINVAL);
    ASSERT_EQ(dtls_cert_load(NULL, rsa_cert, ec_pem, NULL, &bad), -EINVAL); /* not its key */
    ASSERT_EQ(dtls_cert_load(NULL, missing, ec_pem, NULL, &bad), -ENOENT);
    ASSERT_EQ(dtls_cert_load(NULL, rsa_key, rsa_key, "s3cret", &bad), -EINVAL); /* no cert */
    ASSERT(bad == NULL);

    /* A handshake between the loaded ECDSA and RSA certificates. */
    struct sim s;
    sim_init(&s, 1);
    connect_pair(&s, a, b);
    assert_keys_match(&s, DTLS_SRTP_AEAD_AES_256_GCM);
    sim_destroy(&s);

    dtls_cert_destroy(a);
    dtls_cert_destroy(b);
    X509_free(ecx);
    X509_free(rsax);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    unlink(ec_pem);
    unlink(rsa_cert);
    unlink(rsa_key);
    ASSERT_EQ(rmdir(dir), 0);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fingerprint_sha1_and_case", test_fingerprint_sha1_and_case},
        {"fingerprint_malformed", test_fingerprint_malformed},
        {"fingerprint_mismatch_server", test_fingerprint_mismatch_server},
        {"fingerprint_mismatch_client", test_fingerprint_mismatch_client},
        {"fingerprint_deferred", test_fingerprint_deferred},
        {"fingerprint_deferred_wrong", test_fingerprint_deferred_wrong},
        {"data_and_garbage", test_data_and_garbage},
        {"close_notify", test_close_notify},
        {"cert_load", test_cert_load},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
