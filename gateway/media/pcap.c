/* This file implements the packet capture of gateway/media/pcap.h: a bounded ring that media
 * threads copy packets into without waiting, and a writer thread that turns the ring's slots
 * into pcap records (fake Ethernet / IPv4 / UDP around each packet) in the file.
 *
 * DESIGN: the ring is a bounded multi-producer queue with a sequence number per slot. A slot
 * whose sequence equals the tail position is free: a producer claims it by advancing the tail
 * with a compare-and-swap, copies the packet, then publishes it by storing position + 1. The
 * writer (the only consumer) takes slots in order while their sequence is head + 1, and frees
 * each by storing head + size. A full ring is seen as a free slot's sequence lagging behind the
 * tail: the packet is dropped and counted, the producer never waits. The writer wakes every
 * WRITER_TICK_MS (or at once when the capture ends) rather than being signalled per packet, so
 * capturing costs a producer one clock read, one CAS and one copy. Records are assembled in a
 * batch buffer and written with write(2), so every record is counted either as written or as
 * failed; after the first write error nothing more is written. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/media/pcap.h"

#define WRITER_TICK_MS 10
#define GLOBAL_HDR_LEN 24
#define RECORD_HDR_LEN 16
#define FAKE_HDR_LEN 42 /* Ethernet 14 + IPv4 20 + UDP 8 */
#define BATCH_BYTES 65536
#define LEN_MAX (65535 - 28) /* what an IPv4 length field can describe */

struct pcap_slot {
    atomic_size_t seq;
    int64_t time_us;
    uint32_t orig_len;
    uint16_t cap_len;
    uint8_t out, rtcp;
    uint8_t mindex;
    uint8_t data[GW_PCAP_SNAP_MAX];
};

struct gw_pcap {
    char *path;
    int fd;      /* the writer's once started */
    size_t snap; /* bytes kept of a packet */
    size_t mask; /* slots - 1 */
    struct pcap_slot *slots;
    _Alignas(64) atomic_size_t tail; /* producers: next position to claim */
    _Alignas(64) size_t head;        /* the writer: next position to take */
    uint8_t *batch;                  /* the writer's */
    size_t batch_len, batch_records;
    int io_err; /* the writer's: the first write error, 0 = none */
    atomic_uint_fast64_t captured, dropped, written, failed;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;     /* (lock) the capture ends */
    bool detached; /* (lock) the writer frees the capture when done */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void put_global_header(uint8_t *h)
{
    wr_le32(h, 0xa1b2c3d4u); /* microsecond timestamps */
    wr_le16(h + 4, 2);
    wr_le16(h + 6, 4);
    wr_le32(h + 8, 0);  /* thiszone: UTC */
    wr_le32(h + 12, 0); /* sigfigs */
    wr_le32(h + 16, 65535);
    wr_le32(h + 20, 1); /* LINKTYPE_ETHERNET */
}

static uint16_t ipv4_checksum(const uint8_t *ip)
{
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += rd_u16(ip + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The record header and fake frame of slot `s` at `p` (RECORD_HDR_LEN + FAKE_HDR_LEN bytes). */
static void put_record_header(uint8_t *p, const struct pcap_slot *s)
{
    int64_t sec = s->time_us / 1000000;
    wr_le32(p, (uint32_t)sec);
    wr_le32(p + 4, (uint32_t)(s->time_us - sec * 1000000));
    wr_le32(p + 8, FAKE_HDR_LEN + s->cap_len);
    wr_le32(p + 12, FAKE_HDR_LEN + s->orig_len);
    uint8_t *eth = p + RECORD_HDR_LEN;
    static const uint8_t mac_peer[6] = {2, 0, 0, 0, 0, 1}, mac_us[6] = {2, 0, 0, 0, 0, 2};
    memcpy(eth, s->out ? mac_peer : mac_us, 6); /* destination */
    memcpy(eth + 6, s->out ? mac_us : mac_peer, 6);
    wr_u16(eth + 12, 0x0800);
    uint8_t *ip = eth + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    wr_u16(ip + 2, (uint16_t)(28 + s->orig_len));
    wr_u16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 64;             /* TTL */
    ip[9] = 17;             /* UDP */
    static const uint8_t addr_peer[4] = {10, 0, 0, 1}, addr_us[4] = {10, 0, 0, 2};
    memcpy(ip + 12, s->out ? addr_us : addr_peer, 4);
    memcpy(ip + 16, s->out ? addr_peer : addr_us, 4);
    wr_u16(ip + 10, ipv4_checksum(ip));
    uint8_t *udp = ip + 20;
    uint16_t port_us = (uint16_t)(GW_PCAP_PORT_US + 2 * s->mindex + s->rtcp);
    uint16_t port_peer = (uint16_t)(GW_PCAP_PORT_PEER + 2 * s->mindex + s->rtcp);
    wr_u16(udp, s->out ? port_us : port_peer);
    wr_u16(udp + 2, s->out ? port_peer : port_us);
    wr_u16(udp + 4, (uint16_t)(8 + s->orig_len));
    wr_u16(udp + 6, 0); /* no checksum */
}

/* Writes the batch buffer out; its records count as written, or as failed. */
static void batch_flush(struct gw_pcap *c)
{
    if (c->batch_records == 0)
        return;
    int err = c->io_err ? -c->io_err : write_all(c->fd, c->batch, c->batch_len);
    if (err < 0 && !c->io_err)
        c->io_err = -err;
    atomic_fetch_add(err < 0 ? &c->failed : &c->written, c->batch_records);
    c->batch_len = 0;
    c->batch_records = 0;
}

/* Takes every published slot in order into the file. The writer thread. */
static void drain(struct gw_pcap *c)
{
    size_t size = c->mask + 1;
    for (;;) {
        struct pcap_slot *s = &c->slots[c->head & c->mask];
        if (atomic_load_explicit(&s->seq, memory_order_acquire) != c->head + 1)
            break;
        size_t need = RECORD_HDR_LEN + FAKE_HDR_LEN + s->cap_len;
        if (c->batch_len + need > BATCH_BYTES)
            batch_flush(c);
        put_record_header(c->batch + c->batch_len, s);
        memcpy(c->batch + c->batch_len + RECORD_HDR_LEN + FAKE_HDR_LEN, s->data, s->cap_len);
        c->batch_len += need;
        c->batch_records++;
        atomic_store_explicit(&s->seq, c->head + size, memory_order_release);
        c->head++;
    }
    batch_flush(c);
}

static void pcap_free(struct gw_pcap *c)
{
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c->batch);
    free(c->slots);
    free(c->path);
    free(c);
}

static void *writer_main(void *arg)
{
    struct gw_pcap *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        pthread_mutex_unlock(&c->lock);
        drain(c);
        struct timespec until;
        vb_clock_deadline_us(&until, WRITER_TICK_MS * 1000);
        pthread_mutex_lock(&c->lock);
        if (!c->stop)
            pthread_cond_timedwait(&c->cond, &c->lock, &until);
    }
    bool self_free = c->detached; /* set together with stop */
    pthread_mutex_unlock(&c->lock);
    drain(c); /* no producer is left (the destroyer's promise) */
    close(c->fd);
    if (self_free)
        pcap_free(c);
    return NULL;
}

static size_t ring_size(size_t slots)
{
    if (slots == 0)
        slots = GW_PCAP_DEFAULT_SLOTS;
    if (slots > GW_PCAP_MAX_SLOTS)
        slots = GW_PCAP_MAX_SLOTS;
    size_t n = 2;
    while (n < slots)
        n <<= 1;
    return n;
}

static int start_writer(struct gw_pcap *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->lock, NULL);
    int err = pthread_create(&c->thread, NULL, writer_main, c);
    if (err) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
    }
    return -err;
}

int gw_pcap_create(const char *path, size_t truncate, size_t slots, struct gw_pcap **out)
{
    if (!path || !path[0] || !out)
        return -EINVAL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    uint8_t hdr[GLOBAL_HDR_LEN];
    put_global_header(hdr);
    int err = write_all(fd, hdr, sizeof hdr);
    if (err < 0) {
        close(fd);
        return err;
    }
    struct gw_pcap *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    c->fd = fd;
    c->snap = truncate && truncate < GW_PCAP_SNAP_MAX ? truncate : GW_PCAP_SNAP_MAX;
    size_t n = ring_size(slots);
    c->mask = n - 1;
    c->slots = xcalloc(n, sizeof *c->slots);
    for (size_t i = 0; i < n; i++)
        atomic_init(&c->slots[i].seq, i);
    c->batch = xmalloc(BATCH_BYTES);
    err = start_writer(c);
    if (err < 0) {
        close(fd);
        free(c->batch);
        free(c->slots);
        free(c->path);
        free(c);
        return err;
    }
    *out = c;
    return 0;
}

void gw_pcap_capture(struct gw_pcap *c, enum gw_pcap_dir dir, bool rtcp, int mindex,
                     const uint8_t *pkt, size_t len)
{
    if (!c || !pkt || len == 0)
        return;
    if (len > LEN_MAX)
        len = LEN_MAX;
    size_t pos = atomic_load_explicit(&c->tail, memory_order_relaxed);
    struct pcap_slot *s;
    for (;;) {
        s = &c->slots[pos & c->mask];
        size_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (seq == pos) {
            if (atomic_compare_exchange_weak_explicit(&c->tail, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break; /* claimed */
        } else if ((ptrdiff_t)(seq - pos) < 0) {
            atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed); /* full */
            return;
        } else {
            pos = atomic_load_explicit(&c->tail, memory_order_relaxed); /* taken meanwhile */
        }
    }
    /* Counted before the writer can see it, so that written never passes captured. */
    atomic_fetch_add_explicit(&c->captured, 1, memory_order_relaxed);
    size_t cap = len < c->snap ? len : c->snap;
    s->time_us = vb_clock_real_us();
    s->orig_len = (uint32_t)len;
    s->cap_len = (uint16_t)cap;
    s->out = dir == GW_PCAP_OUT;
    s->rtcp = rtcp;
    s->mindex = (uint8_t)(mindex >= 0 && mindex <= GW_PCAP_MAX_MINDEX ? mindex : 0);
    memcpy(s->data, pkt, cap);
    atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
}

void gw_pcap_destroy(struct gw_pcap *c, bool flush)
{
    if (!c)
        return;
    pthread_t t = c->thread; /* without flush, `c` may be gone once the lock is released */
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    c->detached = !flush;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (!flush) {
        pthread_detach(t);
        return;
    }
    pthread_join(t, NULL);
    pcap_free(c);
}

void gw_pcap_get_stats(struct gw_pcap *c, struct gw_pcap_stats *out)
{
    out->captured = atomic_load_explicit(&c->captured, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&c->dropped, memory_order_relaxed);
    out->written = atomic_load_explicit(&c->written, memory_order_relaxed);
    out->failed = atomic_load_explicit(&c->failed, memory_order_relaxed);
}

const char *gw_pcap_path(const struct gw_pcap *c)
{
    return c->path;
}
