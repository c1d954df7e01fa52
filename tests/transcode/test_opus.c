/* This file implements the tests of the Opus packet duration (tc_opus_packet_samples in
 * transcode/opus.c) against RFC 6716 section 3.1, and of the depacketizer registry
 * (tc_depay_find in transcode/depay.c). */
#include <ctype.h>

#include "tests/test.h"
#include "transcode/depay.h"

/* The frame duration of each TOC configuration, in 48 kHz samples, from RFC 6716 table 2. */
static unsigned expected_frame(unsigned config)
{
    if (config < 12) /* SILK-only: 10, 20, 40, 60 ms */
        return (const unsigned[]){480, 960, 1920, 2880}[config % 4];
    if (config < 16) /* Hybrid: 10, 20 ms */
        return (const unsigned[]){480, 960}[config % 2];
    return (const unsigned[]){120, 240, 480, 960}[config % 4]; /* CELT: 2.5, 5, 10, 20 ms */
}

static unsigned samples(uint8_t toc, const uint8_t *rest, size_t rest_len)
{
    uint8_t p[16] = {toc};
    ASSERT_LT(rest_len, sizeof(p));
    if (rest_len)
        memcpy(p + 1, rest, rest_len);
    return tc_opus_packet_samples(p, 1 + rest_len);
}

/* Code 0: one frame, for every configuration and both stereo flags. */
static void test_code0(void)
{
    static const uint8_t frame[3] = {0xfc, 0xff, 0xfe};
    for (unsigned config = 0; config < 32; config++) {
        for (unsigned stereo = 0; stereo < 2; stereo++) {
            uint8_t toc = (uint8_t)(config << 3 | stereo << 2 | 0);
            ASSERT_EQ(samples(toc, frame, sizeof(frame)), expected_frame(config));
            ASSERT_EQ(samples(toc, NULL, 0), expected_frame(config));
        }
    }
    /* Spot checks of the table itself, written out. */
    ASSERT_EQ(samples(0 << 3, NULL, 0), 480);  /* SILK NB 10 ms */
    ASSERT_EQ(samples(3 << 3, NULL, 0), 2880); /* SILK NB 60 ms */
    ASSERT_EQ(samples(9 << 3, NULL, 0), 960);  /* SILK WB 20 ms */
    ASSERT_EQ(samples(12 << 3, NULL, 0), 480); /* Hybrid SWB 10 ms */
    ASSERT_EQ(samples(15 << 3, NULL, 0), 960); /* Hybrid FB 20 ms */
    ASSERT_EQ(samples(16 << 3, NULL, 0), 120); /* CELT NB 2.5 ms */
    ASSERT_EQ(samples(26 << 3, NULL, 0), 480); /* CELT SWB 10 ms */
    ASSERT_EQ(samples(31 << 3, NULL, 0), 960); /* CELT FB 20 ms */
}

/* Codes 1 and 2: two frames; the longest (2 x 60 ms) is exactly the 120 ms limit. */
static void test_code1_code2(void)
{
    static const uint8_t body[4] = {2, 0x11, 0x22, 0x33};
    for (unsigned config = 0; config < 32; config++) {
        ASSERT_EQ(samples((uint8_t)(config << 3 | 1), body + 1, 2), 2 * expected_frame(config));
        ASSERT_EQ(samples((uint8_t)(config << 3 | 2), body, 4), 2 * expected_frame(config));
    }
    ASSERT_EQ(samples(3 << 3 | 1, body, 2), 5760);
}

/* Code 3: the frame count M in the second byte (low 6 bits); 0 frames and more than 120 ms are
 * invalid; the VBR and padding flags do not change the count. */
static void test_code3(void)
{
    for (unsigned config = 0; config < 32; config++) {
        unsigned frame = expected_frame(config);
        for (unsigned m = 0; m < 64; m++) {
            uint8_t count[2] = {(uint8_t)m, 0};
            unsigned want = (m == 0 || m * frame > 5760) ? 0 : m * frame;
            ASSERT_EQ(samples((uint8_t)(config << 3 | 3), count, 2), want);
            count[0] = (uint8_t)(m | 0xc0); /* VBR and padding flags */
            ASSERT_EQ(samples((uint8_t)(config << 3 | 3), count, 2), want);
        }
    }
    static const uint8_t m48 = 48, m49 = 49, m2 = 2, m3 = 3, m0 = 0;
    ASSERT_EQ(samples(16 << 3 | 3, &m48, 1), 5760); /* 48 x 2.5 ms = 120 ms */
    ASSERT_EQ(samples(16 << 3 | 3, &m49, 1), 0);    /* 122.5 ms */
    ASSERT_EQ(samples(3 << 3 | 3, &m2, 1), 5760);   /* 2 x 60 ms */
    ASSERT_EQ(samples(3 << 3 | 3, &m3, 1), 0);      /* 3 x 60 ms */
    ASSERT_EQ(samples(31 << 3 | 3, &m0, 1), 0);     /* no frames */
}

/* Packets too short to hold a TOC, or a code 3 packet without its count byte. */
static void test_short(void)
{
    static const uint8_t toc3 = 31 << 3 | 3, toc0 = 31 << 3;
    ASSERT_EQ(tc_opus_packet_samples(NULL, 0), 0);
    ASSERT_EQ(tc_opus_packet_samples(&toc0, 0), 0);
    ASSERT_EQ(tc_opus_packet_samples(&toc3, 1), 0);
    ASSERT_EQ(tc_opus_packet_samples(&toc0, 1), 960);
}

/* The registry finds every codec's table by name, in any case, and nothing else. */
static void test_find(void)
{
    const struct {
        const char *name;
        const struct tc_depay_ops *ops;
    } all[] = {
        {"vp8", &tc_depay_vp8},
        {"vp9", &tc_depay_vp9},
        {"h264", &tc_depay_h264},
        {"h265", &tc_depay_h265},
        {"av1", &tc_depay_av1},
        {"opus", &tc_depay_opus},
        {"multiopus", &tc_depay_multiopus},
        {"pcmu", &tc_depay_pcmu},
        {"pcma", &tc_depay_pcma},
        {"g722", &tc_depay_g722},
        {"l16", &tc_depay_l16},
        {"l16-48", &tc_depay_l16_48},
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        ASSERT(tc_depay_find(all[i].name) == all[i].ops);
        ASSERT_STREQ(all[i].ops->codec, all[i].name);
        ASSERT(all[i].ops->frame != NULL);
        char upper[16];
        size_t n = strlen(all[i].name);
        ASSERT_LT(n, sizeof(upper));
        for (size_t k = 0; k <= n; k++)
            upper[k] = (char)toupper((unsigned char)all[i].name[k]);
        ASSERT(tc_depay_find(upper) == all[i].ops);
    }
    ASSERT(tc_depay_find("Opus") == &tc_depay_opus);
    ASSERT(tc_depay_find("H264") == &tc_depay_h264);
    ASSERT(tc_depay_find(NULL) == NULL);
    ASSERT(tc_depay_find("") == NULL);
    ASSERT(tc_depay_find("vp") == NULL);
    ASSERT(tc_depay_find("vp80") == NULL);
    ASSERT(tc_depay_find("h266") == NULL);
    ASSERT(tc_depay_find("opus ") == NULL);
    ASSERT(tc_depay_find("g711") == &tc_depay_pcmu); /* Janus's old name for µ-law */
    ASSERT(tc_depay_find("G711") == &tc_depay_pcmu);
    ASSERT(tc_depay_find("g722 ") == NULL);
    ASSERT(tc_depay_find("l16-") == NULL);
}

/* State allocation: a state exactly when the table asks for one; free(NULL) is a no-op. */
static void test_new_free(void)
{
    struct tc_depay *d = tc_depay_new(&tc_depay_opus);
    ASSERT(d->ops == &tc_depay_opus);
    ASSERT((d->state != NULL) == (tc_depay_opus.state_size != 0));
    tc_depay_free(d);
    tc_depay_free(NULL);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"code0", test_code0}, {"code1_code2", test_code1_code2},
        {"code3", test_code3}, {"short", test_short},
        {"find", test_find},   {"new_free", test_new_free},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
