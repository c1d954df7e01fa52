/* Tests of gateway/rtp: RTP header parsing and validation, in-place rewriting, header extensions
 * in the one-byte and two-byte forms (find, set, remove, strip, decoders) and RTX unwrap/wrap,
 * on hand-assembled byte vectors laid out as in RFC 3550, RFC 8285 and RFC 4588. */
#include <errno.h>

#include "gateway/rtp/rtp.h"
#include "tests/test.h"

/* V=2 P=0 X=0 CC=0, M=1 PT=111, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, payload "hi". */
static const uint8_t plain[] = {0x80, 0xef, 0x12, 0x34, 0xde, 0xad, 0xbe,
                                0xef, 0x01, 0x02, 0x03, 0x04, 'h',  'i'};

static void test_parse_plain(void)
{
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(plain, sizeof plain, &h), 0);
    ASSERT(h.marker);
    ASSERT(!h.padding && !h.extension);
    ASSERT_EQ(h.pt, 111);
    ASSERT_EQ(h.seq, 0x1234);
    ASSERT_UEQ(h.ts, 0xdeadbeefu);
    ASSERT_UEQ(h.ssrc, 0x01020304u);
    ASSERT_EQ(h.csrc_count, 0);
    ASSERT_EQ(h.payload_off, 12);
    ASSERT_EQ(h.payload_len, 2);
    ASSERT_EQ(h.pad_len, 0);
    ASSERT(!gw_rtp_is_rtcp(plain, sizeof plain));
}

/* CC=2, one-byte extension of one word, 3 payload bytes, 4 bytes of padding. */
static const uint8_t full[] = {
    0xb2, 0x60, 0x00, 0x07, 0x00, 0x00, 0x00, 0x10, 0xaa, 0xbb, 0xcc, 0xdd, /* fixed */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,                         /* CSRCs */
    0xbe, 0xde, 0x00, 0x01, 0x10, 0x7f, 0x00, 0x00,                         /* ext */
    'a',  'b',  'c',  0x00, 0x00, 0x00, 0x04,                               /* payload, pad */
};

static void test_parse_full(void)
{
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(full, sizeof full, &h), 0);
    ASSERT(h.padding && h.extension && !h.marker);
    ASSERT_EQ(h.csrc_count, 2);
    ASSERT_EQ(h.pt, 96);
    ASSERT_EQ(h.ext_profile, 0xBEDE);
    ASSERT_EQ(h.ext_off, 20);
    ASSERT_EQ(h.ext_len, 4);
    ASSERT_EQ(h.payload_off, 28);
    ASSERT_EQ(h.payload_len, 3);
    ASSERT_EQ(h.pad_len, 4);
    ASSERT_MEMEQ(full + h.payload_off, "abc", 3);
}

static void test_parse_rejects(void)
{
    struct gw_rtp_hdr h;
    uint8_t p[sizeof full];
    ASSERT_EQ(gw_rtp_parse(plain, 11, &h), -EBADMSG); /* short */
    memcpy(p, plain, sizeof plain);
    p[0] = 0x40; /* version 1 */
    ASSERT_EQ(gw_rtp_parse(p, sizeof plain, &h), -EBADMSG);
    memcpy(p, plain, sizeof plain);
    p[1] = 200; /* an SR under rtcp-mux */
    ASSERT_EQ(gw_rtp_parse(p, sizeof plain, &h), -EBADMSG);
    ASSERT(gw_rtp_is_rtcp(p, sizeof plain));
    p[1] = 223;
    ASSERT(gw_rtp_is_rtcp(p, 2));
    p[1] = 224;
    ASSERT(!gw_rtp_is_rtcp(p, 2));
    ASSERT(!gw_rtp_is_rtcp(p, 1));
    memcpy(p, plain, sizeof plain);
    p[0] = 0x81; /* one CSRC, only 2 bytes after the fixed header */
    ASSERT_EQ(gw_rtp_parse(p, sizeof plain, &h), -EBADMSG);
    ASSERT_EQ(gw_rtp_parse(full, 23, &h), -EBADMSG); /* extension header cut */
    memcpy(p, full, sizeof full);
    p[23] = 5; /* extension of 5 words */
    ASSERT_EQ(gw_rtp_parse(p, sizeof full, &h), -EBADMSG);
    memcpy(p, full, sizeof full);
    p[sizeof full - 1] = 0; /* padding of zero bytes */
    ASSERT_EQ(gw_rtp_parse(p, sizeof full, &h), -EBADMSG);
    p[sizeof full - 1] = 8; /* padding into the extension */
    ASSERT_EQ(gw_rtp_parse(p, sizeof full, &h), -EBADMSG);
    p[sizeof full - 1] = 7; /* exactly the payload and padding: padding-only packet */
    ASSERT_EQ(gw_rtp_parse(p, sizeof full, &h), 0);
    ASSERT_EQ(h.payload_len, 0);
}

static void test_rewrite(void)
{
    uint8_t p[sizeof plain];
    memcpy(p, plain, sizeof p);
    gw_rtp_set_ssrc(p, 0xcafebabe);
    gw_rtp_set_seq(p, 65535);
    gw_rtp_set_ts(p, 42);
    gw_rtp_set_pt(p, 0x80 | 100); /* masked to 7 bits, marker kept */
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(p, sizeof p, &h), 0);
    ASSERT_UEQ(h.ssrc, 0xcafebabeu);
    ASSERT_EQ(h.seq, 65535);
    ASSERT_EQ(h.ts, 42);
    ASSERT_EQ(h.pt, 100);
    ASSERT(h.marker);
    gw_rtp_set_marker(p, false);
    ASSERT_EQ(gw_rtp_parse(p, sizeof p, &h), 0);
    ASSERT(!h.marker);
    ASSERT_EQ(h.pt, 100);
    ASSERT_MEMEQ(p + 12, "hi", 2);
}

/* One-byte form: mid "a0" (id 1), a padding byte, audio-level (id 3), abs-send-time (id 5),
 * transport-cc (id 7), then padding to the word: 3+1+2+4+3 = 13 -> 16 bytes (4 words). */
static const uint8_t one_byte[] = {0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
                                   0x00, 0x00, 0x09, 0xbe, 0xde, 0x00, 0x04, 0x11, 'a',
                                   '0',  0x00, 0x30, 0x85, 0x52, 0x04, 0x00, 0x00, 0x71,
                                   0x01, 0x02, 0x00, 0x00, 0x00, 'P',  'A',  'Y'};

static void check_elements(const uint8_t *p, const struct gw_rtp_hdr *h, const uint8_t *ids,
                           const size_t *lens, size_t n)
{
    struct gw_rtp_ext_iter it;
    gw_rtp_ext_iter_init(&it, h);
    uint8_t id;
    size_t off, len, k = 0;
    int rc;
    while ((rc = gw_rtp_ext_iter_next(&it, p, &id, &off, &len)) > 0) {
        ASSERT_LT(k, n);
        ASSERT_EQ(id, ids[k]);
        ASSERT_EQ(len, lens[k]);
        k++;
    }
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(k, n);
}

static void test_ext_one_byte(void)
{
    uint8_t p[sizeof one_byte];
    memcpy(p, one_byte, sizeof p);
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(p, sizeof p, &h), 0);
    check_elements(p, &h, (const uint8_t[]){1, 3, 5, 7}, (const size_t[]){2, 1, 3, 2}, 4);

    size_t off, len;
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 1, &off, &len), 0);
    ASSERT_EQ(off, 17);
    ASSERT_MEMEQ(p + off, "a0", 2);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 2, &off, &len), -ENOENT);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 0, &off, &len), -ENOENT);

    bool vad;
    uint8_t level;
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 3, &off, &len), 0);
    ASSERT_EQ(gw_rtp_ext_audio_level(p + off, len, &vad, &level), 0);
    ASSERT(vad);
    ASSERT_EQ(level, 5);
    uint32_t raw;
    int64_t us;
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 5, &off, &len), 0);
    ASSERT_EQ(gw_rtp_ext_abs_send_time(p + off, len, &raw, &us), 0);
    ASSERT_EQ(raw, 0x040000); /* 1.0 s in 6.18 */
    ASSERT_EQ(us, 1000000);
    uint16_t tseq;
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 7, &off, &len), 0);
    ASSERT_EQ(gw_rtp_ext_transport_seq(p + off, len, &tseq), 0);
    ASSERT_EQ(tseq, 0x0102);

    /* same length, then shorter (the freed byte becomes padding), then too long */
    ASSERT_EQ(gw_rtp_ext_set(p, &h, 1, (const uint8_t *)"b1", 2), 0);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 1, &off, &len), 0);
    ASSERT_MEMEQ(p + off, "b1", 2);
    ASSERT_EQ(gw_rtp_ext_set(p, &h, 1, (const uint8_t *)"7", 1), 0);
    ASSERT_EQ(p[16], 0x10);
    ASSERT_EQ(p[18], 0);
    check_elements(p, &h, (const uint8_t[]){1, 3, 5, 7}, (const size_t[]){1, 1, 3, 2}, 4);
    ASSERT_EQ(gw_rtp_ext_set(p, &h, 1, (const uint8_t *)"xy", 2), -EMSGSIZE);
    ASSERT_EQ(gw_rtp_ext_set(p, &h, 1, (const uint8_t *)"", 0), -EMSGSIZE);
    ASSERT_EQ(gw_rtp_ext_set(p, &h, 9, (const uint8_t *)"x", 1), -ENOENT);

    ASSERT_EQ(gw_rtp_ext_remove(p, &h, 5), 0);
    ASSERT_EQ(gw_rtp_ext_remove(p, &h, 5), -ENOENT);
    check_elements(p, &h, (const uint8_t[]){1, 3, 7}, (const size_t[]){1, 1, 2}, 3);
    ASSERT_MEMEQ(p + h.payload_off, "PAY", 3);

    size_t plen = sizeof p;
    ASSERT_EQ(gw_rtp_ext_strip(p, &plen, &h), 0);
    ASSERT_EQ(plen, 15);
    ASSERT_EQ(gw_rtp_ext_strip(p, &plen, &h), -ENOENT);
    struct gw_rtp_hdr again;
    ASSERT_EQ(gw_rtp_parse(p, plen, &again), 0);
    ASSERT(!again.extension);
    ASSERT_EQ(again.payload_off, h.payload_off);
    ASSERT_EQ(again.payload_len, 3);
    ASSERT_MEMEQ(p + again.payload_off, "PAY", 3);
    ASSERT_EQ(again.seq, 1);
    ASSERT_EQ(again.ssrc, 9);
}

/* Two-byte form (appbits 3): id 20 empty, padding, id 1 "abc", id 200 video-orientation;
 * 2+1+5+3 = 11 -> 12 bytes. Then a padded payload, whose padding must survive a strip. */
static const uint8_t two_byte[] = {0xb0, 0x60, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
                                   0x09, 0x10, 0x03, 0x00, 0x03, 0x14, 0x00, 0x00, 0x01, 0x03, 'a',
                                   'b',  'c',  0xc8, 0x01, 0x0d, 0x00, 'Z',  0x00, 0x02};

static void test_ext_two_byte(void)
{
    uint8_t p[sizeof two_byte];
    memcpy(p, two_byte, sizeof p);
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(p, sizeof p, &h), 0);
    ASSERT_EQ(h.ext_profile, 0x1003);
    check_elements(p, &h, (const uint8_t[]){20, 1, 200}, (const size_t[]){0, 3, 1}, 3);
    size_t off, len;
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 200, &off, &len), 0);
    unsigned rot;
    bool flip;
    ASSERT_EQ(gw_rtp_ext_video_orientation(p + off, len, &rot, &flip), 0);
    ASSERT_EQ(rot, 90);
    ASSERT(flip);
    ASSERT_EQ(gw_rtp_ext_set(p, &h, 1, NULL, 0), 0); /* an empty value is fine in this form */
    check_elements(p, &h, (const uint8_t[]){20, 1, 200}, (const size_t[]){0, 0, 1}, 3);
    ASSERT_EQ(gw_rtp_ext_remove(p, &h, 20), 0);
    check_elements(p, &h, (const uint8_t[]){1, 200}, (const size_t[]){0, 1}, 2);
    size_t plen = sizeof p;
    ASSERT_EQ(gw_rtp_ext_strip(p, &plen, &h), 0);
    ASSERT_EQ(plen, sizeof p - 16);
    struct gw_rtp_hdr again;
    ASSERT_EQ(gw_rtp_parse(p, plen, &again), 0);
    ASSERT_EQ(again.payload_len, 1);
    ASSERT_EQ(again.pad_len, 2);
    ASSERT_EQ(p[again.payload_off], 'Z');
}

static void test_ext_malformed(void)
{
    uint8_t p[sizeof one_byte];
    memcpy(p, one_byte, sizeof p);
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(p, sizeof p, &h), 0);
    p[26] = 0x7f; /* id 7 claims 16 bytes: runs past the block */
    struct gw_rtp_ext_iter it;
    gw_rtp_ext_iter_init(&it, &h);
    uint8_t id;
    size_t off, len;
    int rc, seen = 0;
    while ((rc = gw_rtp_ext_iter_next(&it, p, &id, &off, &len)) > 0)
        seen++;
    ASSERT_EQ(rc, -EBADMSG);
    ASSERT_EQ(seen, 3);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 7, &off, &len), -ENOENT);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 5, &off, &len), 0); /* before the bad one */
    p[20] = 0xf0;                                        /* id 15 ends the walk */
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 5, &off, &len), -ENOENT);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 1, &off, &len), 0);
    memcpy(p, one_byte, sizeof p);
    p[12] = 0x12; /* unknown profile: no elements */
    ASSERT_EQ(gw_rtp_parse(p, sizeof p, &h), 0);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 1, &off, &len), -ENOENT);
    memcpy(p, two_byte, sizeof two_byte);
    ASSERT_EQ(gw_rtp_parse(p, sizeof two_byte, &h), 0);
    p[25] = 3; /* id 200 claims 3 bytes, 2 remain */
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 200, &off, &len), -ENOENT);
    ASSERT_EQ(gw_rtp_ext_find(p, &h, 1, &off, &len), 0);
    ASSERT_EQ(gw_rtp_ext_find(plain, &(struct gw_rtp_hdr){0}, 1, &off, &len), -ENOENT);
}

static void test_ext_decoders(void)
{
    bool vad, flip;
    uint8_t level;
    unsigned rot, lo, hi;
    uint32_t raw;
    int64_t us;
    uint16_t seq;
    ASSERT_EQ(gw_rtp_ext_audio_level((const uint8_t[]){0x7f}, 1, &vad, &level), 0);
    ASSERT(!vad);
    ASSERT_EQ(level, 127);
    ASSERT_EQ(gw_rtp_ext_audio_level(NULL, 0, &vad, &level), -EBADMSG);
    ASSERT_EQ(gw_rtp_ext_video_orientation((const uint8_t[]){0x0b}, 1, &rot, &flip), 0);
    ASSERT_EQ(rot, 270);
    ASSERT(!flip);
    ASSERT_EQ(gw_rtp_ext_video_orientation((const uint8_t[]){0x02}, 1, &rot, &flip), 0);
    ASSERT_EQ(rot, 180);
    ASSERT_EQ(gw_rtp_ext_abs_send_time((const uint8_t[]){0xff, 0xff, 0xff}, 3, &raw, &us), 0);
    ASSERT_EQ(raw, 0xffffff);
    ASSERT_EQ(us, 63999996); /* just under 64 s */
    ASSERT_EQ(gw_rtp_ext_abs_send_time((const uint8_t[]){0x00, 0x20, 0x00}, 3, &raw, &us), 0);
    ASSERT_EQ(us, 31250); /* 2^13 / 2^18 s */
    ASSERT_EQ(gw_rtp_ext_abs_send_time((const uint8_t[]){1, 2}, 2, &raw, &us), -EBADMSG);
    ASSERT_EQ(gw_rtp_ext_transport_seq((const uint8_t[]){0xff}, 1, &seq), -EBADMSG);
    ASSERT_EQ(gw_rtp_ext_playout_delay((const uint8_t[]){0x00, 0xa0, 0x64}, 3, &lo, &hi), 0);
    ASSERT_EQ(lo, 100);
    ASSERT_EQ(hi, 1000);
    ASSERT_EQ(gw_rtp_ext_playout_delay((const uint8_t[]){0xff, 0xff, 0xff}, 3, &lo, &hi), 0);
    ASSERT_EQ(lo, 40950);
    ASSERT_EQ(hi, 40950);
}

static void test_ext_uris(void)
{
    ASSERT_EQ(gw_rtp_ext_kind_from_uri("urn:ietf:params:rtp-hdrext:sdes:mid"), GW_RTP_EXT_MID);
    ASSERT_EQ(gw_rtp_ext_kind_from_uri(
                  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
              GW_RTP_EXT_TRANSPORT_CC);
    ASSERT_EQ(gw_rtp_ext_kind_from_uri("urn:3gpp:video-orientation"), GW_RTP_EXT_VIDEO_ORIENTATION);
    ASSERT_EQ(gw_rtp_ext_kind_from_uri("urn:ietf:params:rtp-hdrext:toffset"), GW_RTP_EXT_UNKNOWN);
    ASSERT_EQ(gw_rtp_ext_kind_from_uri(NULL), GW_RTP_EXT_UNKNOWN);
    for (int k = GW_RTP_EXT_MID; k <= GW_RTP_EXT_PLAYOUT_DELAY; k++)
        ASSERT_EQ(gw_rtp_ext_kind_from_uri(gw_rtp_ext_kind_uri((enum gw_rtp_ext_kind)k)), k);
    ASSERT(gw_rtp_ext_kind_uri(GW_RTP_EXT_UNKNOWN) == NULL);
    ASSERT(gw_rtp_ext_kind_uri((enum gw_rtp_ext_kind)99) == NULL);
}

/* RTX of ssrc 0x55, pt 97, seq 500 carrying OSN 0x1234 and "abc", with 4 bytes of padding and a
 * one-byte extension (mid). */
static const uint8_t rtx_pkt[] = {0xb0, 0xe1, 0x01, 0xf4, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
                                  0x00, 0x55, 0xbe, 0xde, 0x00, 0x01, 0x10, '1',  0x00, 0x00,
                                  0x12, 0x34, 'a',  'b',  'c',  0x00, 0x00, 0x00, 0x04};

static void test_rtx_unwrap(void)
{
    uint8_t p[sizeof rtx_pkt];
    memcpy(p, rtx_pkt, sizeof p);
    size_t len = sizeof p;
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(p, len, &h), 0);
    ASSERT_EQ(gw_rtp_rtx_unwrap(p, &len, &h, 0x44, 96), 0);
    ASSERT_EQ(len, sizeof p - 2);
    ASSERT_EQ(h.seq, 0x1234);
    ASSERT_EQ(h.ssrc, 0x44);
    ASSERT_EQ(h.pt, 96);
    ASSERT_EQ(h.payload_len, 3);
    struct gw_rtp_hdr again;
    ASSERT_EQ(gw_rtp_parse(p, len, &again), 0);
    ASSERT_EQ(again.seq, 0x1234);
    ASSERT_EQ(again.ssrc, 0x44);
    ASSERT_EQ(again.pt, 96);
    ASSERT(again.marker);
    ASSERT_EQ(again.ts, 0x1000);
    ASSERT_EQ(again.payload_off, h.payload_off);
    ASSERT_EQ(again.payload_len, 3);
    ASSERT_EQ(again.pad_len, 4);
    ASSERT_MEMEQ(p + again.payload_off, "abc", 3);
    size_t off, elen;
    ASSERT_EQ(gw_rtp_ext_find(p, &again, 1, &off, &elen), 0);
    ASSERT_EQ(p[off], '1');

    /* a padding-only probe and a one-byte payload */
    uint8_t probe[] = {0xa0, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x55, 0, 0, 0, 4};
    len = sizeof probe;
    ASSERT_EQ(gw_rtp_parse(probe, len, &h), 0);
    ASSERT_EQ(gw_rtp_rtx_unwrap(probe, &len, &h, 1, 96), -ENODATA);
    uint8_t one[] = {0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x55, 7};
    len = sizeof one;
    ASSERT_EQ(gw_rtp_parse(one, len, &h), 0);
    ASSERT_EQ(gw_rtp_rtx_unwrap(one, &len, &h, 1, 96), -EBADMSG);
    ASSERT_EQ(len, sizeof one);
}

static void test_rtx_wrap(void)
{
    uint8_t out[64];
    ASSERT_EQ(gw_rtp_rtx_wrap(full, sizeof full, out, sizeof full + 1, 1, 2, 3), -ENOSPC);
    ASSERT_EQ(gw_rtp_rtx_wrap(full, 5, out, sizeof out, 1, 2, 3), -EBADMSG);
    int n = gw_rtp_rtx_wrap(full, sizeof full, out, sizeof out, 0x77, 97, 4000);
    ASSERT_EQ(n, sizeof full + 2);
    struct gw_rtp_hdr h;
    ASSERT_EQ(gw_rtp_parse(out, (size_t)n, &h), 0);
    ASSERT_EQ(h.ssrc, 0x77);
    ASSERT_EQ(h.pt, 97);
    ASSERT_EQ(h.seq, 4000);
    ASSERT_EQ(h.payload_len, 5);
    ASSERT_EQ(h.pad_len, 4);
    ASSERT_EQ(out[h.payload_off], 0x00);
    ASSERT_EQ(out[h.payload_off + 1], 0x07); /* the OSN */
    size_t len = (size_t)n;
    ASSERT_EQ(gw_rtp_rtx_unwrap(out, &len, &h, 0xaabbccdd, 96), 0);
    ASSERT_EQ(len, sizeof full);
    ASSERT_MEMEQ(out, full, sizeof full); /* back to the original bytes */
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"parse_plain", test_parse_plain},     {"parse_full", test_parse_full},
        {"parse_rejects", test_parse_rejects}, {"rewrite", test_rewrite},
        {"ext_one_byte", test_ext_one_byte},   {"ext_two_byte", test_ext_two_byte},
        {"ext_malformed", test_ext_malformed}, {"ext_decoders", test_ext_decoders},
        {"ext_uris", test_ext_uris},           {"rtx_unwrap", test_rtx_unwrap},
        {"rtx_wrap", test_rtx_wrap},           {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
