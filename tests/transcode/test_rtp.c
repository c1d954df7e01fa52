/* This file implements the tests of RTP parsing, header extension lookup and the 64-bit
 * extension of sequence numbers and timestamps (transcode/rtp.c).
 *
 * Packets are built byte by byte here and parsed from heap buffers of exactly their length,
 * so that an ASan build catches any read past the end. */
#include <errno.h>

#include "common/bytes.h"
#include "tests/test.h"
#include "transcode/rtp.h"

/* A parse from a heap copy of exactly `len` bytes, freed before returning: use the offsets
 * of the borrowed pointers (relative to the packet start, -1 for NULL), not the pointers. */
struct parsed {
    int rc;
    struct tc_rtp_hdr h;
    long ext_off, payload_off;
};

static struct parsed parse_copy(const uint8_t *pkt, size_t len)
{
    uint8_t *buf = malloc(len ? len : 1);
    ASSERT(buf != NULL);
    memcpy(buf, pkt, len);
    struct parsed r;
    memset(&r, 0, sizeof(r));
    r.rc = tc_rtp_parse(buf, len, &r.h);
    r.ext_off = r.rc == 0 && r.h.ext ? (long)(r.h.ext - buf) : -1;
    r.payload_off = r.rc == 0 ? (long)(r.h.payload - buf) : -1;
    free(buf);
    return r;
}

/* The 12-byte fixed header: version 2, flags in byte 0's low bits, then PT with marker. */
static size_t put_fixed(uint8_t *p, uint8_t flags, bool marker, uint8_t pt, uint16_t seq,
                        uint32_t ts, uint32_t ssrc)
{
    p[0] = (uint8_t)(0x80 | flags);
    p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    wr_u16(p + 2, seq);
    wr_u32(p + 4, ts);
    wr_u32(p + 8, ssrc);
    return 12;
}

static void test_minimal(void)
{
    uint8_t p[12];
    put_fixed(p, 0, false, 111, 0xabcd, 0x01020304, 0xdeadbeef);
    struct parsed r = parse_copy(p, sizeof(p));
    ASSERT_EQ(r.rc, 0);
    ASSERT(!r.h.marker);
    ASSERT_EQ(r.h.pt, 111);
    ASSERT_EQ(r.h.seq, 0xabcd);
    ASSERT_UEQ(r.h.ts, 0x01020304);
    ASSERT_UEQ(r.h.ssrc, 0xdeadbeef);
    ASSERT(r.h.ext == NULL);
    ASSERT_EQ(r.h.ext_len, 0);
    ASSERT_EQ(r.payload_off, 12);
    ASSERT_EQ(r.h.payload_len, 0);

    uint8_t q[15];
    put_fixed(q, 0, true, 96, 1, 0, 1);
    memcpy(q + 12, "\x10\x20\x30", 3);
    r = parse_copy(q, sizeof(q));
    ASSERT_EQ(r.rc, 0);
    ASSERT(r.h.marker);
    ASSERT_EQ(r.h.pt, 96);
    ASSERT_EQ(r.payload_off, 12);
    ASSERT_EQ(r.h.payload_len, 3);

    /* Shorter than the fixed header. */
    for (size_t len = 0; len < 12; len++)
        ASSERT_EQ(parse_copy(p, len).rc, -EBADMSG);
}

static void test_csrc(void)
{
    uint8_t p[12 + 3 * 4 + 2];
    put_fixed(p, 3, false, 0, 7, 8, 9);
    memset(p + 12, 0x77, 12);
    p[24] = 0xaa;
    p[25] = 0xbb;
    struct parsed r = parse_copy(p, sizeof(p));
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.payload_off, 24);
    ASSERT_EQ(r.h.payload_len, 2);
    ASSERT_EQ(p[r.payload_off], 0xaa);
    /* 15 CSRCs declared, fewer present. */
    p[0] = 0x8f;
    ASSERT_EQ(parse_copy(p, sizeof(p)).rc, -EBADMSG);
}

/* One-byte header extension (RFC 8285 section 4.2): id 1 (1 byte), a padding byte, id 2
 * (2 bytes), id 14 (3 bytes), then padding to the 32-bit boundary. */
static const uint8_t one_byte_ext[12] = {0x10, 0xaa, 0x00, 0x21, 0xbb, 0xcc,
                                         0xe2, 0x01, 0x02, 0x03, 0x00, 0x00};

static void test_ext_one_byte(void)
{
    uint8_t p[12 + 4 + sizeof(one_byte_ext) + 1];
    size_t n = put_fixed(p, 0x10, false, 111, 1, 2, 3);
    wr_u16(p + n, 0xBEDE);
    wr_u16(p + n + 2, sizeof(one_byte_ext) / 4);
    memcpy(p + n + 4, one_byte_ext, sizeof(one_byte_ext));
    p[sizeof(p) - 1] = 0x55;
    struct parsed r = parse_copy(p, sizeof(p));
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.h.ext_profile, 0xBEDE);
    ASSERT_EQ(r.ext_off, 16);
    ASSERT_EQ(r.h.ext_len, sizeof(one_byte_ext));
    ASSERT_EQ(r.payload_off, 28);
    ASSERT_EQ(r.h.payload_len, 1);

    /* Lookups on the parsed header, whose pointers borrow this packet. */
    struct tc_rtp_hdr h;
    ASSERT_EQ(tc_rtp_parse(p, sizeof(p), &h), 0);
    const uint8_t *d = NULL;
    ASSERT_EQ(tc_rtp_ext_find(&h, 1, &d), 1);
    ASSERT(d == p + 17);
    ASSERT_EQ(d[0], 0xaa);
    ASSERT_EQ(tc_rtp_ext_find(&h, 2, &d), 2);
    ASSERT_MEMEQ(d, "\xbb\xcc", 2);
    ASSERT_EQ(tc_rtp_ext_find(&h, 14, &d), 3);
    ASSERT_MEMEQ(d, "\x01\x02\x03", 3);
    ASSERT_EQ(tc_rtp_ext_find(&h, 3, &d), -ENOENT);
    ASSERT_EQ(tc_rtp_ext_find(&h, 0, &d), -ENOENT);
    ASSERT_EQ(tc_rtp_ext_find(&h, 15, &d), -ENOENT);
}

/* Two-byte header extension (RFC 8285 section 4.3), profile 0x100 plus app bits. */
static void test_ext_two_byte(void)
{
    static const uint8_t ext[12] = {5, 3, 0x01, 0x02, 0x03, 0x00, 200, 0, 7, 2, 0xee, 0xff};
    for (unsigned appbits = 0; appbits < 16; appbits += 15) {
        uint8_t p[12 + 4 + sizeof(ext) + 2];
        size_t n = put_fixed(p, 0x10, false, 96, 1, 2, 3);
        wr_u16(p + n, (uint16_t)(0x1000 | appbits));
        wr_u16(p + n + 2, sizeof(ext) / 4);
        memcpy(p + n + 4, ext, sizeof(ext));
        p[28] = 0x9d;
        p[29] = 0x01;
        struct tc_rtp_hdr h;
        ASSERT_EQ(tc_rtp_parse(p, sizeof(p), &h), 0);
        ASSERT_EQ(h.ext_profile, 0x1000 | appbits);
        ASSERT_EQ(h.ext_len, 12);
        ASSERT(h.payload == p + 28);
        ASSERT_EQ(h.payload_len, 2);
        const uint8_t *d = NULL;
        ASSERT_EQ(tc_rtp_ext_find(&h, 5, &d), 3);
        ASSERT(d == p + 18);
        ASSERT_EQ(tc_rtp_ext_find(&h, 200, &d), 0); /* an element may be empty */
        ASSERT_EQ(tc_rtp_ext_find(&h, 7, &d), 2);
        ASSERT_MEMEQ(d, "\xee\xff", 2);
        ASSERT_EQ(tc_rtp_ext_find(&h, 6, &d), -ENOENT);
        ASSERT_EQ(tc_rtp_ext_find(&h, 255, &d), -ENOENT);
    }
}

/* tc_rtp_ext_find() on a header that points at an exact-size heap copy of `ext`. */
static int find_in(uint16_t profile, const uint8_t *ext, size_t len, unsigned id, int *at)
{
    uint8_t *buf = malloc(len ? len : 1);
    ASSERT(buf != NULL);
    memcpy(buf, ext, len);
    struct tc_rtp_hdr h;
    memset(&h, 0, sizeof(h));
    h.ext = buf;
    h.ext_len = len;
    h.ext_profile = profile;
    const uint8_t *d = NULL;
    int rc = tc_rtp_ext_find(&h, id, &d);
    *at = rc >= 0 ? (int)(d - buf) : -1;
    free(buf);
    return rc;
}

static void test_ext_edges(void)
{
    int at;
    /* One-byte: id 15 stops the parse, even if the wanted id follows. */
    static const uint8_t stop[8] = {0x10, 0xaa, 0xf0, 0x00, 0x31, 0xbb, 0xcc, 0x00};
    ASSERT_EQ(find_in(0xBEDE, stop, sizeof(stop), 1, &at), 1);
    ASSERT_EQ(at, 1);
    ASSERT_EQ(find_in(0xBEDE, stop, sizeof(stop), 3, &at), -ENOENT);
    /* Without the id 15 element, the same bytes find id 3. */
    static const uint8_t nostop[8] = {0x10, 0xaa, 0x00, 0x00, 0x31, 0xbb, 0xcc, 0x00};
    ASSERT_EQ(find_in(0xBEDE, nostop, sizeof(nostop), 3, &at), 2);
    ASSERT_EQ(at, 5);
    /* Padding bytes only. */
    static const uint8_t zeros[4] = {0};
    ASSERT_EQ(find_in(0xBEDE, zeros, sizeof(zeros), 1, &at), -ENOENT);
    ASSERT_EQ(find_in(0x1000, zeros, sizeof(zeros), 1, &at), -ENOENT);
    /* One-byte element claiming 16 bytes in a 4-byte block, then a last element one byte
     * too long: neither is returned, and nothing past the block is read. */
    static const uint8_t long1[4] = {0x1f, 0x01, 0x02, 0x03};
    ASSERT_EQ(find_in(0xBEDE, long1, sizeof(long1), 1, &at), -ENOENT);
    static const uint8_t long2[4] = {0x10, 0xaa, 0x21, 0xbb};
    ASSERT_EQ(find_in(0xBEDE, long2, sizeof(long2), 1, &at), 1);
    ASSERT_EQ(find_in(0xBEDE, long2, sizeof(long2), 2, &at), -ENOENT);
    /* Two-byte: length past the end; an id without its length byte at the very end. */
    static const uint8_t long3[4] = {1, 10, 0xaa, 0xbb};
    ASSERT_EQ(find_in(0x1000, long3, sizeof(long3), 1, &at), -ENOENT);
    static const uint8_t cut[4] = {0, 0, 0, 9};
    ASSERT_EQ(find_in(0x1000, cut, sizeof(cut), 9, &at), -ENOENT);
    static const uint8_t exact[4] = {0, 9, 1, 0x42};
    ASSERT_EQ(find_in(0x1000, exact, sizeof(exact), 9, &at), 1);
    ASSERT_EQ(at, 3);
    /* Another profile is not parsed; no extension at all finds nothing. */
    ASSERT_EQ(find_in(0x1234, nostop, sizeof(nostop), 1, &at), -ENOENT);
    struct tc_rtp_hdr none;
    memset(&none, 0, sizeof(none));
    const uint8_t *d;
    ASSERT_EQ(tc_rtp_ext_find(&none, 1, &d), -ENOENT);
}

static void test_padding(void)
{
    uint8_t p[12 + 5 + 3];
    put_fixed(p, 0x20, false, 111, 1, 2, 3);
    memcpy(p + 12, "\x01\x02\x03\x04\x05\x00\x00\x03", 8);
    struct parsed r = parse_copy(p, sizeof(p));
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.payload_off, 12);
    ASSERT_EQ(r.h.payload_len, 5);
    /* Padding of the whole payload: a padding-only packet. */
    p[19] = 8;
    r = parse_copy(p, sizeof(p));
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.h.payload_len, 0);
    /* Longer than the payload, and a count of 0 (the count includes itself). */
    p[19] = 9;
    ASSERT_EQ(parse_copy(p, sizeof(p)).rc, -EBADMSG);
    p[19] = 255;
    ASSERT_EQ(parse_copy(p, sizeof(p)).rc, -EBADMSG);
    p[19] = 0;
    ASSERT_EQ(parse_copy(p, sizeof(p)).rc, -EBADMSG);
    /* Padding may not eat into the extension or CSRCs either. */
    uint8_t q[12 + 4 + 4 + 1];
    put_fixed(q, 0x30, false, 111, 1, 2, 3);
    memcpy(q + 12, "\xbe\xde\x00\x01\x10\xaa\x00\x00\x02", 9);
    ASSERT_EQ(parse_copy(q, sizeof(q)).rc, -EBADMSG);
    q[20] = 1;
    r = parse_copy(q, sizeof(q));
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.h.payload_len, 0);
    ASSERT_EQ(r.h.ext_len, 4);
}

static void test_version(void)
{
    uint8_t p[16] = {0};
    put_fixed(p, 0, false, 111, 1, 2, 3);
    static const uint8_t versions[3] = {0x00, 0x40, 0xc0};
    for (int i = 0; i < 3; i++) {
        p[0] = versions[i];
        ASSERT_EQ(parse_copy(p, sizeof(p)).rc, -EBADMSG);
    }
    p[0] = 0x80;
    ASSERT_EQ(parse_copy(p, sizeof(p)).rc, 0);
}

/* A packet with 2 CSRCs, a 2-word extension, 4 payload bytes and 4 bytes of padding, cut at
 * every length. The declared header parts end at byte 32. */
static void test_truncated(void)
{
    uint8_t p[12 + 8 + 4 + 8 + 4 + 4];
    size_t n = put_fixed(p, 0x20 | 0x10 | 2, true, 111, 1, 2, 3);
    memset(p + n, 0x11, 8);
    n += 8;
    wr_u16(p + n, 0xBEDE);
    wr_u16(p + n + 2, 2);
    memcpy(p + n + 4, "\x10\xaa\x21\xbb\xcc\x00\x00\x00", 8);
    n += 12;
    memcpy(p + n, "\xee\xee\xee\xee\x00\x00\x00\x04", 8);
    ASSERT_EQ(n + 8, sizeof(p));
    for (size_t len = 0; len < sizeof(p); len++) {
        struct parsed r = parse_copy(p, len);
        ASSERT_EQ(r.rc, -EBADMSG); /* short header parts, or a padding count that cannot be */
    }
    struct parsed r = parse_copy(p, sizeof(p));
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.ext_off, 24);
    ASSERT_EQ(r.h.ext_len, 8);
    ASSERT_EQ(r.payload_off, 32);
    ASSERT_EQ(r.h.payload_len, 4);

    /* Without the padding bit, every cut past the header parts is a shorter payload. */
    p[0] &= (uint8_t)~0x20;
    for (size_t len = 0; len <= sizeof(p); len++) {
        r = parse_copy(p, len);
        if (len < 32) {
            ASSERT_EQ(r.rc, -EBADMSG);
        } else {
            ASSERT_EQ(r.rc, 0);
            ASSERT_EQ(r.payload_off, 32);
            ASSERT_EQ(r.h.payload_len, len - 32);
        }
    }
    /* An extension length past the end. */
    wr_u16(p + 22, 100);
    ASSERT_EQ(parse_copy(p, sizeof(p)).rc, -EBADMSG);
}

static void test_unwrap_seq(void)
{
    struct tc_unwrap u = {0};
    uint64_t first = tc_unwrap_seq(&u, 65534);
    ASSERT_UEQ(first & 0xffff, 65534);
    ASSERT(first >= 65536); /* room below for packets from before the first */
    ASSERT_UEQ(tc_unwrap_seq(&u, 65535), first + 1);
    ASSERT_UEQ(tc_unwrap_seq(&u, 0), first + 2);
    ASSERT_UEQ(tc_unwrap_seq(&u, 1), first + 3);
    /* Late packets from before the wrap keep their lower values. */
    ASSERT_UEQ(tc_unwrap_seq(&u, 65535), first + 1);
    ASSERT_UEQ(tc_unwrap_seq(&u, 65533), first - 1);
    ASSERT_UEQ(tc_unwrap_seq(&u, 2), first + 4); /* the highest did not move back */
    /* Another full turn: the same 16-bit value, exactly 2^16 later. */
    for (unsigned s = 2; s < 2 + 65536; s += 1000)
        ASSERT_UEQ(tc_unwrap_seq(&u, (uint16_t)s), first + 4 + (s - 2));
    ASSERT_UEQ(tc_unwrap_seq(&u, 2), first + 4 + 65536);
    /* Half the range ahead is taken as behind; one less is ahead. */
    struct tc_unwrap h = {0};
    uint64_t b = tc_unwrap_seq(&h, 0);
    ASSERT_UEQ(tc_unwrap_seq(&h, 32768), b - 32768);
    ASSERT_UEQ(tc_unwrap_seq(&h, 32767), b + 32767);
}

static void test_unwrap_ts(void)
{
    struct tc_unwrap u = {0};
    uint64_t a = tc_unwrap_ts(&u, 4294967000u);
    ASSERT_UEQ(a & 0xffffffffu, 4294967000u);
    ASSERT(a >= ((uint64_t)1 << 32));
    uint64_t b = tc_unwrap_ts(&u, 200);
    ASSERT_UEQ(b - a, 496); /* 296 ticks to the wrap, then 200 */
    ASSERT_UEQ(b & 0xffffffffu, 200);
    ASSERT_UEQ(tc_unwrap_ts(&u, 4294966000u), a - 1000); /* late, from before the wrap */
    /* Walking a full turn in quarters: the same value one epoch later is exactly 2^32 more
     * (janus-pp-rec's UINT32_MAX multiplier would give one less). */
    uint64_t x = b;
    for (uint32_t q = 1; q <= 4; q++)
        x = tc_unwrap_ts(&u, (uint32_t)(200 + q * 0x40000000u));
    ASSERT_UEQ(x, b + ((uint64_t)1 << 32));
    ASSERT_UEQ(x & 0xffffffffu, 200);
}

/* The first value followed by an older one: placed below, not wrapped forward. */
static void test_unwrap_older_first(void)
{
    struct tc_unwrap s = {0};
    uint64_t f = tc_unwrap_seq(&s, 10);
    ASSERT_UEQ(tc_unwrap_seq(&s, 5), f - 5);
    ASSERT_UEQ(tc_unwrap_seq(&s, 65530), f - 16); /* older across a wrap backwards */
    ASSERT_UEQ(tc_unwrap_seq(&s, 11), f + 1);

    struct tc_unwrap t = {0};
    uint64_t g = tc_unwrap_ts(&t, 1000);
    ASSERT_UEQ(tc_unwrap_ts(&t, 40), g - 960);
    ASSERT_UEQ(tc_unwrap_ts(&t, 4294966336u), g - 1960);
    ASSERT_UEQ(tc_unwrap_ts(&t, 1960), g + 960);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"minimal", test_minimal},
        {"csrc", test_csrc},
        {"ext_one_byte", test_ext_one_byte},
        {"ext_two_byte", test_ext_two_byte},
        {"ext_edges", test_ext_edges},
        {"padding", test_padding},
        {"version", test_version},
        {"truncated", test_truncated},
        {"unwrap_seq", test_unwrap_seq},
        {"unwrap_ts", test_unwrap_ts},
        {"unwrap_older_first", test_unwrap_older_first},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
