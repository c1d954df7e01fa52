/* Tests of the retransmission buffer of gateway/rtp: lookup by sequence number, eviction by
 * count (slot reuse) and by age, the per-packet resend interval, RTX wrapping with its own
 * sequence numbers, size limits, and a store thread racing a lookup thread (every packet a
 * lookup returns must be whole). */
#include <errno.h>
#include <pthread.h>

#include "common/bytes.h"
#include "gateway/rtp/rtp.h"
#include "tests/test.h"

#define SSRC 0x1234abcdu

/* A packet whose payload is derived from its sequence number, `len` bytes in all. */
static size_t make_packet(uint8_t *p, uint16_t seq, size_t len)
{
    memset(p, 0, 12);
    p[0] = 0x80;
    p[1] = 96;
    wr_u16(p + 2, seq);
    wr_u32(p + 4, (uint32_t)seq * 3000);
    wr_u32(p + 8, SSRC);
    for (size_t i = 12; i < len; i++)
        p[i] = (uint8_t)(seq * 7 + i);
    return len;
}

static void check_packet(const uint8_t *p, size_t len, uint16_t seq)
{
    uint8_t want[1500];
    make_packet(want, seq, len);
    ASSERT_MEMEQ(p, want, len);
}

static size_t len_of(uint16_t seq)
{
    return 20 + seq % 300;
}

static void test_lookup_and_eviction(void)
{
    struct gw_rtx_buffer *b;
    ASSERT_EQ(gw_rtx_buffer_create(NULL, &b), 0);
    uint8_t pkt[1500], out[1600];
    int64_t t = 5000000;
    for (uint32_t q = 65000; q < 65600; q++) { /* 600 packets across the wrap */
        uint16_t seq = (uint16_t)q;
        ASSERT_EQ(gw_rtx_buffer_store(b, pkt, make_packet(pkt, seq, len_of(seq)), t), 0);
    }
    /* the last 512 are there (64 .. 63 after the wrap), the first 88 were overwritten */
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 63, t, out, sizeof out), (int)len_of(63));
    check_packet(out, len_of(63), 63);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 65088, t, out, sizeof out), (int)len_of(65088));
    check_packet(out, len_of(65088), 65088);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 65087, t, out, sizeof out), -ENOENT);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 65000, t, out, sizeof out), -ENOENT);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 64, t, out, sizeof out), -ENOENT); /* never sent */
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 65535, t, out, 10), -ENOSPC);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 65535, t, out, sizeof out), (int)len_of(65535));

    /* age: stored at t, gone after 1 s */
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 10, t + 1000000, out, sizeof out), (int)len_of(10));
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 11, t + 1000001, out, sizeof out), -ENOENT);

    struct gw_rtx_buffer_stats st;
    gw_rtx_buffer_get_stats(b, &st);
    ASSERT_EQ(st.stored, 600);
    ASSERT_EQ(st.resent, 4);
    ASSERT_EQ(st.missing, 4);
    gw_rtx_buffer_destroy(b);
    gw_rtx_buffer_destroy(NULL);
}

static void test_resend_interval(void)
{
    struct gw_rtx_buffer_config cfg = {.slots = 16, .min_resend_us = 40000};
    struct gw_rtx_buffer *b;
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &b), 0);
    uint8_t pkt[64], out[64];
    ASSERT_EQ(gw_rtx_buffer_store(b, pkt, make_packet(pkt, 7, 40), 0), 0);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 7, 1000, out, sizeof out), 40);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 7, 11000, out, sizeof out), -EAGAIN);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 7, 40999, out, sizeof out), -EAGAIN);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 7, 41000, out, sizeof out), 40);
    /* storing the number again (a new packet in that slot) resets the interval */
    ASSERT_EQ(gw_rtx_buffer_store(b, pkt, make_packet(pkt, 7, 40), 42000), 0);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 7, 43000, out, sizeof out), 40);
    struct gw_rtx_buffer_stats st;
    gw_rtx_buffer_get_stats(b, &st);
    ASSERT_EQ(st.limited, 2);
    ASSERT_EQ(st.resent, 3);
    gw_rtx_buffer_destroy(b);

    cfg.min_resend_us = -1; /* no limit */
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &b), 0);
    ASSERT_EQ(gw_rtx_buffer_store(b, pkt, make_packet(pkt, 7, 40), 0), 0);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 7, 0, out, sizeof out), 40);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 7, 0, out, sizeof out), 40);
    gw_rtx_buffer_destroy(b);
}

static void test_rtx_wrapping(void)
{
    struct gw_rtx_buffer *b;
    ASSERT_EQ(gw_rtx_buffer_create(NULL, &b), 0);
    uint8_t pkt[200], out[200];
    for (uint16_t q = 100; q < 110; q++)
        ASSERT_EQ(gw_rtx_buffer_store(b, pkt, make_packet(pkt, q, 100), 0), 0);
    gw_rtx_buffer_set_rtx(b, true, 0x9999, 97, 65535);
    for (uint16_t q = 100; q < 103; q++) {
        ASSERT_EQ(gw_rtx_buffer_lookup(b, q, 0, out, sizeof out), 102);
        struct gw_rtp_hdr h;
        ASSERT_EQ(gw_rtp_parse(out, 102, &h), 0);
        ASSERT_EQ(h.ssrc, 0x9999);
        ASSERT_EQ(h.pt, 97);
        ASSERT_EQ(h.seq, (uint16_t)(65535 + (q - 100))); /* its own numbering, wrapping */
        ASSERT_EQ(rd_u16(out + h.payload_off), q);
        size_t len = 102;
        ASSERT_EQ(gw_rtp_rtx_unwrap(out, &len, &h, SSRC, 96), 0);
        check_packet(out, len, q);
    }
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 104, 0, out, 101), -ENOSPC); /* 102 needed */
    gw_rtx_buffer_set_rtx(b, false, 0, 0, 0);
    ASSERT_EQ(gw_rtx_buffer_lookup(b, 104, 0, out, 100), 100);
    check_packet(out, 100, 104);
    gw_rtx_buffer_destroy(b);
}

static void test_limits(void)
{
    struct gw_rtx_buffer *b;
    struct gw_rtx_buffer_config cfg = {.slots = 100};
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &b), -EINVAL); /* not a power of two */
    cfg.slots = 8;
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &b), -EINVAL);
    cfg.slots = 65536;
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &b), -EINVAL);
    cfg = (struct gw_rtx_buffer_config){.max_packet = 8};
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &b), -EINVAL);
    cfg = (struct gw_rtx_buffer_config){.slots = 32, .max_packet = 200};
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &b), 0);
    uint8_t pkt[300];
    ASSERT_EQ(gw_rtx_buffer_store(b, pkt, make_packet(pkt, 1, 201), 0), -EMSGSIZE);
    ASSERT_EQ(gw_rtx_buffer_store(b, pkt, make_packet(pkt, 1, 200), 0), 0);
    pkt[1] = 200; /* RTCP, not RTP */
    ASSERT_EQ(gw_rtx_buffer_store(b, pkt, 100, 0), -EBADMSG);
    ASSERT_EQ(gw_rtx_buffer_store(b, pkt, 5, 0), -EBADMSG);
    gw_rtx_buffer_destroy(b);
}

struct race {
    struct gw_rtx_buffer *b;
    _Atomic int done;
};

static void *store_thread(void *arg)
{
    struct race *r = arg;
    uint8_t pkt[1500];
    for (uint32_t q = 0; q < 200000; q++) {
        uint16_t seq = (uint16_t)q;
        if (gw_rtx_buffer_store(r->b, pkt, make_packet(pkt, seq, len_of(seq)), q) != 0)
            abort();
    }
    r->done = 1;
    return NULL;
}

static void test_threads(void)
{
    struct gw_rtx_buffer_config cfg = {.slots = 64, .min_resend_us = -1, .max_age_us = 1LL << 40};
    struct race r = {0};
    ASSERT_EQ(gw_rtx_buffer_create(&cfg, &r.b), 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, store_thread, &r), 0);
    uint8_t out[1500];
    unsigned found = 0, seq = 0;
    while (!r.done) {
        int n = gw_rtx_buffer_lookup(r.b, (uint16_t)seq, 0, out, sizeof out);
        if (n > 0) { /* whatever is returned is one whole packet */
            ASSERT_EQ(rd_u16(out + 2), (uint16_t)seq);
            ASSERT_EQ(n, len_of((uint16_t)seq));
            check_packet(out, (size_t)n, (uint16_t)seq);
            found++;
        }
        seq = (seq * 31 + 7) & 0xffff;
    }
    ASSERT_EQ(pthread_join(t, NULL), 0);
    fprintf(stderr, "%u lookups found a packet while storing\n", found);
    gw_rtx_buffer_destroy(r.b);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"lookup_and_eviction", test_lookup_and_eviction},
        {"resend_interval", test_resend_interval},
        {"rtx_wrapping", test_rtx_wrapping},
        {"limits", test_limits},
        {"threads", test_threads},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
