/* This file implements the tests of the packet capture (gateway/media/pcap.h) on its own: the
 * file's header and records (fake Ethernet / IPv4 / UDP headers by direction, m-line and RTP or
 * RTCP, a valid IPv4 checksum, wall-clock times), truncation, a full ring dropping and counting,
 * concurrent producers, the destroy that does not wait, and I/O errors (no folder, /dev/full,
 * a file-size limit hit while capturing). The files are read back by a small parser here;
 * tests/gateway/pcap_tshark.sh has tshark decode them. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "gateway/media/pcap.h"
#include "tests/test.h"

#define FAKE 42 /* Ethernet + IPv4 + UDP */
#define MAX_RECS 200000

struct rec {
    int64_t t_us;
    uint32_t incl, orig;
    const uint8_t *frame; /* incl bytes */
};

struct file {
    uint8_t *buf;
    size_t len;
    struct rec *recs;
    size_t n;
};

static char dir[] = "/tmp/vb-test-pcap.XXXXXX";

static const char *path_of(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Waits (2 s at most) until everything captured went to the file or failed. */
static void wait_drained(struct gw_pcap *c, struct gw_pcap_stats *st)
{
    for (int i = 0; i < 400; i++) {
        gw_pcap_get_stats(c, st);
        if (st->written + st->failed == st->captured)
            return;
        sleep_ms(5);
    }
    TEST_FAIL_("the writer did not drain: captured %" PRIu64 ", written %" PRIu64, st->captured,
               st->written);
}

/* Reads a whole capture, checks its global header, splits its records (a cut last record is
 * left out). */
static void file_read(const char *path, struct file *f)
{
    FILE *fp = fopen(path, "rb");
    ASSERT(fp != NULL);
    struct stat sb;
    ASSERT_EQ(fstat(fileno(fp), &sb), 0);
    f->len = (size_t)sb.st_size;
    f->buf = malloc(f->len + 1);
    ASSERT_EQ(fread(f->buf, 1, f->len, fp), f->len);
    fclose(fp);
    ASSERT_GE(f->len, 24);
    ASSERT_UEQ(rd_le32(f->buf), 0xa1b2c3d4u);
    ASSERT_EQ(rd_le16(f->buf + 4), 2);
    ASSERT_EQ(rd_le16(f->buf + 6), 4);
    ASSERT_EQ(rd_le32(f->buf + 16), 65535);
    ASSERT_EQ(rd_le32(f->buf + 20), 1);
    f->recs = calloc(MAX_RECS, sizeof *f->recs);
    f->n = 0;
    size_t off = 24;
    while (off + 16 <= f->len && f->n < MAX_RECS) {
        struct rec *r = &f->recs[f->n];
        r->t_us = (int64_t)rd_le32(f->buf + off) * 1000000 + rd_le32(f->buf + off + 4);
        ASSERT_LT(rd_le32(f->buf + off + 4), 1000000);
        r->incl = rd_le32(f->buf + off + 8);
        r->orig = rd_le32(f->buf + off + 12);
        ASSERT_LE(r->incl, r->orig);
        if (off + 16 + r->incl > f->len)
            break;
        r->frame = f->buf + off + 16;
        off += 16 + r->incl;
        f->n++;
    }
}

static void file_free(struct file *f)
{
    free(f->buf);
    free(f->recs);
}

/* Checks one record's fake headers: direction, m-line, RTP or RTCP, lengths, checksum. */
static void check_frame(const struct rec *r, bool out, int mindex, bool rtcp, size_t len)
{
    ASSERT_EQ(r->orig, FAKE + len);
    const uint8_t *e = r->frame;
    ASSERT_EQ(rd_u16(e + 12), 0x0800);
    ASSERT_EQ(e[5], out ? 1 : 2); /* destination MAC: the peer's ends in 1, ours in 2 */
    ASSERT_EQ(e[11], out ? 2 : 1);
    const uint8_t *ip = e + 14;
    ASSERT_EQ(ip[0], 0x45);
    ASSERT_EQ(rd_u16(ip + 2), 28 + len);
    ASSERT_EQ(ip[9], 17);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += rd_u16(ip + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ASSERT_EQ(sum, 0xffff); /* the header with its checksum sums to all ones */
    uint32_t us = 0x0a000002, peer = 0x0a000001;
    ASSERT_UEQ(rd_u32(ip + 12), out ? us : peer);
    ASSERT_UEQ(rd_u32(ip + 16), out ? peer : us);
    const uint8_t *udp = ip + 20;
    int port_us = 5000 + 2 * mindex + rtcp, port_peer = 6000 + 2 * mindex + rtcp;
    ASSERT_EQ(rd_u16(udp), out ? port_us : port_peer);
    ASSERT_EQ(rd_u16(udp + 2), out ? port_peer : port_us);
    ASSERT_EQ(rd_u16(udp + 4), 8 + len);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7);
}

static void test_records(void)
{
    struct {
        enum gw_pcap_dir dir;
        bool rtcp;
        int mindex, want_mindex;
        size_t len;
    } pk[] = {
        {GW_PCAP_IN, false, 0, 0, 172},   {GW_PCAP_OUT, false, 1, 1, 1200},
        {GW_PCAP_IN, true, 1, 1, 32},     {GW_PCAP_OUT, true, 0, 0, 52},
        {GW_PCAP_IN, false, -1, 0, 12},   {GW_PCAP_OUT, false, 300, 0, 20},
        {GW_PCAP_OUT, true, 255, 255, 8},
    };
    size_t n = sizeof pk / sizeof pk[0];
    struct gw_pcap *c = NULL;
    ASSERT_EQ(gw_pcap_create(path_of("records.pcap"), 0, 0, &c), 0);
    ASSERT_STREQ(gw_pcap_path(c), path_of("records.pcap"));
    int64_t t0 = vb_clock_real_us();
    uint8_t buf[1500];
    for (size_t i = 0; i < n; i++) {
        fill(buf, pk[i].len, (unsigned)i);
        gw_pcap_capture(c, pk[i].dir, pk[i].rtcp, pk[i].mindex, buf, pk[i].len);
    }
    int64_t t1 = vb_clock_real_us();
    gw_pcap_capture(c, GW_PCAP_IN, false, 0, buf, 0); /* ignored */
    gw_pcap_capture(c, GW_PCAP_IN, false, 0, NULL, 10);
    struct gw_pcap_stats st;
    wait_drained(c, &st);
    ASSERT_UEQ(st.captured, n);
    ASSERT_UEQ(st.written, n);
    ASSERT_UEQ(st.dropped, 0);
    ASSERT_UEQ(st.failed, 0);
    gw_pcap_destroy(c, true);

    struct file f;
    file_read(path_of("records.pcap"), &f);
    ASSERT_UEQ(f.n, n);
    size_t total = 24;
    for (size_t i = 0; i < n; i++) {
        const struct rec *r = &f.recs[i];
        ASSERT_EQ(r->incl, FAKE + pk[i].len);
        check_frame(r, pk[i].dir == GW_PCAP_OUT, pk[i].want_mindex, pk[i].rtcp, pk[i].len);
        fill(buf, pk[i].len, (unsigned)i);
        ASSERT_MEMEQ(r->frame + FAKE, buf, pk[i].len);
        ASSERT_GE(r->t_us, t0);
        ASSERT_LE(r->t_us, t1);
        total += 16 + r->incl;
    }
    ASSERT_UEQ(f.len, total);
    file_free(&f);
    unlink(path_of("records.pcap"));
}

static void test_truncate(void)
{
    static uint8_t big[3000];
    fill(big, sizeof big, 9);
    struct gw_pcap *c = NULL;
    ASSERT_EQ(gw_pcap_create(path_of("cut.pcap"), 20, 0, &c), 0);
    gw_pcap_capture(c, GW_PCAP_IN, false, 0, big, 100);
    gw_pcap_capture(c, GW_PCAP_OUT, true, 1, big, 10); /* shorter than truncate: whole */
    struct gw_pcap_stats st;
    wait_drained(c, &st);
    gw_pcap_destroy(c, true);
    struct gw_pcap *all = NULL;
    ASSERT_EQ(gw_pcap_create(path_of("all.pcap"), 0, 0, &all), 0);
    gw_pcap_capture(all, GW_PCAP_OUT, false, 0, big, sizeof big); /* over the snap length */
    gw_pcap_destroy(all, true);

    struct file f;
    file_read(path_of("cut.pcap"), &f);
    ASSERT_UEQ(f.n, 2);
    ASSERT_EQ(f.recs[0].incl, FAKE + 20);
    check_frame(&f.recs[0], false, 0, false, 100); /* lengths say the whole packet */
    ASSERT_MEMEQ(f.recs[0].frame + FAKE, big, 20);
    ASSERT_EQ(f.recs[1].incl, FAKE + 10);
    check_frame(&f.recs[1], true, 1, true, 10);
    file_free(&f);
    file_read(path_of("all.pcap"), &f);
    ASSERT_UEQ(f.n, 1);
    ASSERT_EQ(f.recs[0].incl, FAKE + GW_PCAP_SNAP_MAX);
    check_frame(&f.recs[0], true, 0, false, sizeof big);
    ASSERT_MEMEQ(f.recs[0].frame + FAKE, big, GW_PCAP_SNAP_MAX);
    file_free(&f);
    unlink(path_of("cut.pcap"));
    unlink(path_of("all.pcap"));
}

/* A ring of 8 slots fed far faster than a writer that wakes every few milliseconds: packets are
 * dropped and counted, and what was captured is all in the file, in order. */
static void test_overflow(void)
{
    enum { N = 200000 };
    struct gw_pcap *c = NULL;
    ASSERT_EQ(gw_pcap_create(path_of("full.pcap"), 0, 5, &c), 0); /* 5 -> 8 slots */
    uint8_t pkt[16] = {0x80, 111};
    for (uint32_t i = 0; i < N; i++) {
        wr_u32(pkt + 12, i);
        gw_pcap_capture(c, GW_PCAP_IN, false, 0, pkt, sizeof pkt);
    }
    struct gw_pcap_stats st;
    wait_drained(c, &st);
    ASSERT_UEQ(st.captured + st.dropped, N);
    ASSERT_GT(st.dropped, 0);
    ASSERT_GE(st.captured, 8);
    ASSERT_UEQ(st.written, st.captured);
    /* Room again once drained. */
    gw_pcap_capture(c, GW_PCAP_IN, false, 0, pkt, sizeof pkt);
    gw_pcap_destroy(c, true);
    struct file f;
    file_read(path_of("full.pcap"), &f);
    ASSERT_UEQ(f.n, st.captured + 1);
    for (size_t i = 1; i + 1 < f.n; i++)
        ASSERT_LT(rd_u32(f.recs[i - 1].frame + FAKE + 12), rd_u32(f.recs[i].frame + FAKE + 12));
    file_free(&f);
    unlink(path_of("full.pcap"));
}

enum { THREADS = 4, PER_THREAD = 20000 };

struct producer {
    struct gw_pcap *c;
    uint8_t id;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    uint8_t pkt[64];
    for (uint32_t i = 0; i < PER_THREAD; i++) {
        size_t len = 24 + i % 40;
        pkt[0] = p->id;
        wr_u32(pkt + 1, i);
        fill(pkt + 5, len - 5, i + p->id);
        gw_pcap_capture(p->c, p->id % 2 ? GW_PCAP_OUT : GW_PCAP_IN, false, p->id, pkt, len);
    }
    return NULL;
}

/* Producers on several threads: every record is whole (its own bytes, its own headers) and
 * each thread's packets keep their order. */
static void test_threads(void)
{
    struct gw_pcap *c = NULL;
    ASSERT_EQ(gw_pcap_create(path_of("mt.pcap"), 0, 256, &c), 0);
    pthread_t th[THREADS];
    struct producer p[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (struct producer){c, (uint8_t)i};
        ASSERT_EQ(pthread_create(&th[i], NULL, produce, &p[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    struct gw_pcap_stats st;
    wait_drained(c, &st);
    ASSERT_UEQ(st.captured + st.dropped, THREADS * PER_THREAD);
    gw_pcap_destroy(c, true);
    struct file f;
    file_read(path_of("mt.pcap"), &f);
    ASSERT_UEQ(f.n, st.captured);
    int64_t last[THREADS] = {-1, -1, -1, -1};
    uint8_t want[64];
    for (size_t i = 0; i < f.n; i++) {
        const uint8_t *pkt = f.recs[i].frame + FAKE;
        uint8_t id = pkt[0];
        ASSERT_LT(id, THREADS);
        uint32_t seq = rd_u32(pkt + 1);
        size_t len = 24 + seq % 40;
        ASSERT_EQ(f.recs[i].incl, FAKE + len);
        check_frame(&f.recs[i], id % 2, id, false, len);
        fill(want, len - 5, seq + id);
        ASSERT_MEMEQ(pkt + 5, want, len - 5);
        ASSERT_GT(seq, last[id]);
        last[id] = seq;
    }
    file_free(&f);
    unlink(path_of("mt.pcap"));
}

/* destroy without flush returns at once; the writer still writes everything and closes. */
static void test_detached(void)
{
    struct gw_pcap *c = NULL;
    ASSERT_EQ(gw_pcap_create(path_of("bg.pcap"), 0, 0, &c), 0);
    uint8_t pkt[100];
    fill(pkt, sizeof pkt, 3);
    for (int i = 0; i < 10; i++)
        gw_pcap_capture(c, GW_PCAP_IN, false, 0, pkt, sizeof pkt);
    gw_pcap_destroy(c, false);
    off_t want = 24 + 10 * (16 + FAKE + 100);
    struct stat sb = {0};
    for (int i = 0; i < 400 && sb.st_size < want; i++) {
        sleep_ms(5);
        ASSERT_EQ(stat(path_of("bg.pcap"), &sb), 0);
    }
    ASSERT_EQ(sb.st_size, want);
    sleep_ms(50); /* the writer frees the capture after the last write */
    unlink(path_of("bg.pcap"));
}

static void test_errors(void)
{
    struct gw_pcap *c = NULL;
    ASSERT_EQ(gw_pcap_create(NULL, 0, 0, &c), -EINVAL);
    ASSERT_EQ(gw_pcap_create("", 0, 0, &c), -EINVAL);
    ASSERT_EQ(gw_pcap_create(path_of("x.pcap"), 0, 0, NULL), -EINVAL);
    ASSERT_EQ(gw_pcap_create(path_of("no/such/folder.pcap"), 0, 0, &c), -ENOENT);
    ASSERT_EQ(gw_pcap_create(dir, 0, 0, &c), -EISDIR);
    if (access("/dev/full", W_OK) == 0)
        ASSERT_EQ(gw_pcap_create("/dev/full", 0, 0, &c), -ENOSPC);
    ASSERT(c == NULL);
    gw_pcap_destroy(NULL, true);
    gw_pcap_destroy(NULL, false);
    gw_pcap_capture(NULL, GW_PCAP_IN, false, 0, (const uint8_t *)"x", 1);
}

/* A file-size limit hit while capturing (EFBIG, as a full disk would give ENOSPC): the records
 * after it are counted as failed, nothing more is written, the capture still ends cleanly. */
static void test_write_error(void)
{
    struct rlimit old, lim;
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    struct gw_pcap *c = NULL;
    ASSERT_EQ(gw_pcap_create(path_of("efbig.pcap"), 0, 0, &c), 0);
    uint8_t pkt[200];
    fill(pkt, sizeof pkt, 5);
    gw_pcap_capture(c, GW_PCAP_IN, false, 0, pkt, sizeof pkt);
    struct gw_pcap_stats st;
    wait_drained(c, &st);
    ASSERT_UEQ(st.written, 1);
    lim = old;
    lim.rlim_cur = 24 + 2 * (16 + FAKE + 200) + 100; /* room for one more record, not two */
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int i = 0; i < 5; i++) {
        gw_pcap_capture(c, GW_PCAP_OUT, false, 0, pkt, sizeof pkt);
        wait_drained(c, &st);
    }
    ASSERT_UEQ(st.captured, 6);
    ASSERT_UEQ(st.written, 2);
    ASSERT_UEQ(st.failed, 4);
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
    gw_pcap_capture(c, GW_PCAP_OUT, false, 0, pkt, sizeof pkt); /* no more writes after one */
    wait_drained(c, &st);
    ASSERT_UEQ(st.failed, 5);
    gw_pcap_destroy(c, true);
    signal(SIGXFSZ, prev);
    struct file f;
    file_read(path_of("efbig.pcap"), &f);
    ASSERT_UEQ(f.n, 2);
    file_free(&f);
    unlink(path_of("efbig.pcap"));
}

int main(int argc, char **argv)
{
    ASSERT(mkdtemp(dir) != NULL);
    static const struct test_case cases[] = {
        {"records", test_records},         {"truncate", test_truncate},
        {"overflow", test_overflow},       {"threads", test_threads},
        {"detached", test_detached},       {"errors", test_errors},
        {"write_error", test_write_error}, {NULL, NULL},
    };
    int rc = test_main(cases, argc, argv);
    rmdir(dir);
    return rc;
}
