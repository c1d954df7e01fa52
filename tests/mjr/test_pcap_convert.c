/* This file implements the tests of the two pcap conversions end to end through files:
 * import with SSRC selection and capture times, export of what was imported, and their
 * errors. Captures are built in memory with pcap_build.h. */
#include "tests/mjr/pcap_build.h"

/* ---- the conversions through files ------------------------------------------------------ */

struct tmpdir {
    char dir[64];
    char path[8][128];
    int n;
};

static const char *tmp_file(struct tmpdir *t, const char *name)
{
    ASSERT_LT(t->n, 8);
    char dir[sizeof(t->dir)]; /* a copy: gcc cannot tell the two members apart (-Wrestrict) */
    memcpy(dir, t->dir, sizeof(dir));
    snprintf(t->path[t->n], sizeof(t->path[0]), "%s/%s", dir, name);
    return t->path[t->n++];
}

static void tmp_cleanup(struct tmpdir *t)
{
    for (int i = 0; i < t->n; i++) {
        unlink(t->path[i]);
        char tmp[140];
        snprintf(tmp, sizeof(tmp), "%s.tmp", t->path[i]);
        unlink(tmp);
    }
    ASSERT_EQ(rmdir(t->dir), 0);
}

static void write_file(const char *path, const struct mbuf *b)
{
    FILE *fp = fopen(path, "wb");
    ASSERT(fp != NULL);
    ASSERT_EQ(fwrite(b->p, 1, b->len, fp), b->len);
    ASSERT_EQ(fclose(fp), 0);
}

static void read_file(const char *path, struct mbuf *b)
{
    memset(b, 0, sizeof(*b));
    FILE *fp = fopen(path, "rb");
    ASSERT(fp != NULL);
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        mb_put(b, chunk, n);
    fclose(fp);
}

/* RTP bytes of the frame built by frame_v4() (its last 12 + plen bytes). */
static const uint8_t *rtp_of(const struct mbuf *frame, size_t plen)
{
    return frame->p + frame->len - 12 - plen;
}

/* The capture of test_import_export: a DNS packet first, then RTP of SSRCs A and B, RTCP,
 * and a record cut by the snapshot length. */
static void mixed_capture(struct mbuf *cap, struct mbuf *fa1, struct mbuf *fa2, struct mbuf *fb)
{
    struct mbuf r = {0}, u = {0}, ip = {0}, dns = {0}, rtcp = {0};
    rtp_build(&r, 96, 1, 0, 1, 8);
    udp_build(&u, 53, 33333, &r);
    ipv4_build(&ip, &u, 17, 0, 0);
    eth_build(&dns, 0x0800, &ip, false);
    frame_v4(fa1, 1, 0xAAAA, 111, 20);
    frame_v4(fb, 1, 0xBBBB, 111, 21);
    frame_v4(fa2, 2, 0xAAAA, 111 | 0x80, 22);
    frame_v4(&rtcp, 5, 0xAAAA, 200, 16);
    pcap_header(cap, false, false, MJR_LINK_ETHERNET, 65535);
    pcap_add(cap, false, T0, &dns);
    pcap_add(cap, false, T0 + 5500, fa1);
    pcap_add(cap, false, T0 + 10000, fb);
    pcap_add(cap, false, T0 + 45999, fa2);
    pcap_add(cap, false, T0 + 50000, &rtcp);
    pcap_record(cap, false, T0 + 60000, fa2, 50, (uint32_t)fa2->len);
    mb_free(&r);
    mb_free(&u);
    mb_free(&ip);
    mb_free(&dns);
    mb_free(&rtcp);
}

static void check_imported(const char *mjr, const struct mbuf *fa1, const struct mbuf *fa2)
{
    struct mbuf got;
    read_file(mjr, &got);
    static const char head[] = "MJR00002\0\105{\"t\": \"a\", \"c\": \"opus\", \"s\": "
                               "1700000000128956, \"u\": 1700000000128956}";
    ASSERT_EQ(got.len, sizeof(head) - 1 + 2 * 10 + 32 + 34);
    ASSERT_MEMEQ(got.p, head, sizeof(head) - 1);
    const uint8_t *f = got.p + sizeof(head) - 1;
    ASSERT_MEMEQ(f, "MEET\0\0\0\0\0\040", 10);
    ASSERT_MEMEQ(f + 10, rtp_of(fa1, 20), 32);
    f += 42;
    ASSERT_MEMEQ(f, "MEET\0\0\0\050\0\042", 10); /* t_ms 40: (45999 - 5500) / 1000 */
    ASSERT_MEMEQ(f + 10, rtp_of(fa2, 22), 34);
    mb_free(&got);
}

static void check_exported(const char *pcap, const struct mbuf *fa1, const struct mbuf *fa2)
{
    struct mbuf got;
    read_file(pcap, &got);
    static const uint8_t head[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                                     0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    ASSERT_MEMEQ(got.p, head, sizeof(head));
    struct mjr_capture *c = open_ok(&got);
    struct mjr_capture_packet p;
    struct mjr_capture_rtp rtp;
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(p.time_us, T0 + 5500);
    ASSERT_EQ(p.caplen, 42 + 32);
    ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
    ASSERT_EQ(rtp.src_port, 1000);
    ASSERT_EQ(rtp.dst_port, 2000);
    ASSERT_MEMEQ(p.data + 26, "\012\001\001\001\012\002\002\002", 8);
    ASSERT_MEMEQ(rtp.rtp, rtp_of(fa1, 20), 32);
    ASSERT_EQ(mjr_capture_next(c, &p), 1);
    ASSERT_EQ(p.time_us, T0 + 5500 + 40000);
    ASSERT_EQ(mjr_capture_decode_rtp(&p, &rtp, NULL), 0);
    ASSERT_MEMEQ(rtp.rtp, rtp_of(fa2, 22), 34);
    ASSERT_EQ(mjr_capture_next(c, &p), 0);
    mjr_capture_destroy(c);
    mb_free(&got);
}

static void test_import_export(void)
{
    struct tmpdir t = {.dir = "/tmp/vb_test_pcap_XXXXXX"};
    ASSERT(mkdtemp(t.dir) != NULL);
    struct mbuf cap = {0}, fa1 = {0}, fa2 = {0}, fb = {0};
    mixed_capture(&cap, &fa1, &fa2, &fb);
    const char *in = tmp_file(&t, "in.pcap"), *out = tmp_file(&t, "out.mjr");
    write_file(in, &cap);
    char err[300];
    struct mjr_pcap_import_opts opts = {.codec = "opus"};
    ASSERT_EQ(mjr_pcap_import(in, out, &opts, err, sizeof(err)), 0);
    check_imported(out, &fa1, &fa2);
    const char *back = tmp_file(&t, "back.pcap");
    ASSERT_EQ(mjr_pcap_export(out, back, err, sizeof(err)), 0);
    check_exported(back, &fa1, &fa2);

    /* -s picks the other stream; video codecs make a video recording. */
    opts = (struct mjr_pcap_import_opts){.codec = "VP8", .ssrc = 0xBBBB};
    ASSERT_EQ(mjr_pcap_import(in, out, &opts, err, sizeof(err)), 0);
    struct mjr_reader *r;
    ASSERT_EQ(mjr_reader_open(out, &r, err, sizeof(err)), 0);
    ASSERT_EQ(mjr_reader_kind(r), MJR_KIND_VIDEO);
    ASSERT_STREQ(mjr_reader_codec(r), "VP8");
    ASSERT_EQ(mjr_reader_first_frame_us(r), T0 + 10000);
    ASSERT_EQ(mjr_reader_created_us(r), T0 + 10000);
    struct mjr_frame f;
    ASSERT_EQ(mjr_reader_next(r, &f), 1);
    ASSERT_EQ(f.len, 33);
    ASSERT_MEMEQ(f.body, rtp_of(&fb, 21), 33);
    ASSERT_EQ(mjr_reader_next(r, &f), 0);
    mjr_reader_destroy(r);

    /* An SSRC that is not there leaves just the magic, as pcap2mjr does. */
    opts.ssrc = 0x1234;
    ASSERT_EQ(mjr_pcap_import(in, out, &opts, err, sizeof(err)), 0);
    struct stat sb;
    ASSERT_EQ(stat(out, &sb), 0);
    ASSERT_EQ(sb.st_size, 8);
    ASSERT_EQ(mjr_pcap_export(out, back, err, sizeof(err)), 0);
    ASSERT_EQ(stat(back, &sb), 0);
    ASSERT_EQ(sb.st_size, 24);
    mb_free(&cap);
    mb_free(&fa1);
    mb_free(&fa2);
    mb_free(&fb);
    tmp_cleanup(&t);
}

static void test_conversion_errors(void)
{
    struct tmpdir t = {.dir = "/tmp/vb_test_pcap_XXXXXX"};
    ASSERT(mkdtemp(t.dir) != NULL);
    char err[300];
    const char *in = tmp_file(&t, "in.pcap"), *out = tmp_file(&t, "out.mjr");
    struct mbuf cap = {0}, f = {0};
    frame_v4(&f, 1, 0xA, 111, 20);
    pcap_header(&cap, false, false, 147, 65535);
    pcap_add(&cap, false, T0, &f);
    write_file(in, &cap);
    const char *codecs[] = {"text", "binary", "mp3", "", NULL};
    for (int i = 0; i < 5; i++) {
        struct mjr_pcap_import_opts opts = {.codec = codecs[i]};
        ASSERT_EQ(mjr_pcap_import(in, out, &opts, err, sizeof(err)), -EINVAL);
        ASSERT(err[0] != '\0');
    }
    struct mjr_pcap_import_opts opts = {.codec = "opus"};
    ASSERT_EQ(mjr_pcap_import(in, out, &opts, err, sizeof(err)), -EBADMSG);
    ASSERT(strstr(err, "link type 147") != NULL);
    ASSERT_EQ(mjr_pcap_import("/nonexistent.pcap", out, &opts, err, sizeof(err)), -ENOENT);
    /* an output directory that does not exist */
    cap.p[20] = 1;
    write_file(in, &cap);
    ASSERT(mjr_pcap_import(in, "/nonexistent/dir/x.mjr", &opts, err, sizeof(err)) < 0);
    ASSERT(err[0] != '\0');

    /* Data recordings are refused by the export; unknown files too. */
    struct mbuf d = {0};
    static const char hdr[] = "{\"t\": \"d\", \"c\": \"text\", \"s\": 1, \"u\": 2}";
    mb_put(&d, "MJR00002", 8);
    mb_n16(&d, (uint16_t)strlen(hdr));
    mb_put(&d, hdr, strlen(hdr));
    mb_put(&d, "MEET\0\0\0\0\0\015", 10);
    mb_put(&d, "\0\0\0\0\0\0\0\1hello", 13);
    const char *data = tmp_file(&t, "data.mjr"), *pcap = tmp_file(&t, "data.pcap");
    write_file(data, &d);
    ASSERT_EQ(mjr_pcap_export(data, pcap, err, sizeof(err)), -ENOTSUP);
    ASSERT(strstr(err, "data recording") != NULL);
    ASSERT_EQ(access(pcap, F_OK), -1);
    ASSERT_EQ(mjr_pcap_export(in, pcap, err, sizeof(err)), -EBADMSG);
    ASSERT(mjr_pcap_export("/nonexistent.mjr", pcap, err, sizeof(err)) < 0);
    mb_free(&d);
    mb_free(&cap);
    mb_free(&f);
    tmp_cleanup(&t);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"import_export", test_import_export},
        {"conversion_errors", test_conversion_errors},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
