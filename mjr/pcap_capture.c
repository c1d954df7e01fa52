/* This file implements the capture file reader of mjr/pcap_internal.h: classic pcap and
 * pcapng, from a file or from memory.
 *
 * DESIGN: one source layer hands out the next `n` bytes of the input, either as a pointer
 * into the caller's memory or read with stdio into a buffer that grows up to the largest
 * block we accept; the format parsers above it only ever ask for whole headers and whole
 * records/blocks, so they see contiguous bytes and check each length against what they
 * asked for. Damage is sticky: once a record is cut off or a length is out of bounds, the
 * reader reports it (with the offset) and returns the same error from then on — the caller
 * keeps what it had, as libpcap-based tools do when a capture ends badly. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/pcap_internal.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_MAGIC_KUZNETZOV 0xa1b2cd34u
#define PCAP_HEADER_LEN 24
#define PCAP_RECORD_LEN 16

#define NG_SHB 0x0A0D0D0Au
#define NG_IDB 1u
#define NG_PB 2u /* obsolete Packet Block */
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BOM 0x1A2B3C4Du
#define NG_MAX_IFACES 4096

/* Seconds are clamped to this before scaling, so µs arithmetic never overflows int64. */
#define SEC_CLAMP 4000000000000LL

struct ng_iface {
    uint32_t link;
    uint32_t snaplen;
    uint64_t units;     /* timestamp units per second */
    int64_t offset_sec; /* if_tsoffset */
};

struct mjr_capture {
    /* source */
    const uint8_t *mem;
    size_t mem_len;
    FILE *fp;
    uint8_t *buf;
    size_t buf_cap;
    uint64_t pos; /* offset of the next unread byte */

    enum mjr_capture_format format;
    bool big;         /* file (pcap) or current section (pcapng) is big-endian */
    bool nsec;        /* pcap: nanosecond timestamps */
    uint32_t link;    /* pcap */
    uint32_t snaplen; /* pcap: effective limit on caplen */
    struct ng_iface *ifaces;
    size_t n_ifaces;
    uint64_t index;
    int failed;
    char diag[200];
};

static uint32_t rd32(const struct mjr_capture *c, const uint8_t *p)
{
    return c->big ? rd_u32(p) : rd_le32(p);
}

static uint16_t rd16(const struct mjr_capture *c, const uint8_t *p)
{
    return c->big ? rd_u16(p) : rd_le16(p);
}

__attribute__((format(printf, 3, 4))) static int fail(struct mjr_capture *c, int rc,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->diag, sizeof(c->diag), fmt, ap);
    va_end(ap);
    c->failed = rc;
    return rc;
}

/* Hands out the next `n` bytes. Returns 1, 0 when the input ended exactly here, -EBADMSG
 * when it ended within the n bytes, -EIO on a read error. */
static int src_take(struct mjr_capture *c, size_t n, const uint8_t **p)
{
    if (c->mem) {
        size_t left = c->mem_len - (size_t)c->pos;
        if (left == 0 && n > 0)
            return 0;
        if (left < n) {
            c->pos = c->mem_len;
            return -EBADMSG;
        }
        *p = c->mem + c->pos;
        c->pos += n;
        return 1;
    }
    if (n > c->buf_cap) {
        size_t cap = c->buf_cap ? c->buf_cap : 4096;
        while (cap < n)
            cap *= 2;
        c->buf = xrealloc(c->buf, cap);
        c->buf_cap = cap;
    }
    size_t got = n ? fread(c->buf, 1, n, c->fp) : 0;
    c->pos += got;
    if (got < n) {
        if (ferror(c->fp))
            return -EIO;
        return got == 0 ? 0 : -EBADMSG;
    }
    *p = c->buf;
    return 1;
}

/* src_take() where running out is damage, except at a clean end when `end_ok`: names what
 * was cut off. Returns 1, 0 (clean end) or the sticky error. */
static int take(struct mjr_capture *c, size_t n, const uint8_t **p, const char *what, bool end_ok)
{
    uint64_t at = c->pos;
    int rc = src_take(c, n, p);
    if (rc == 1 || (rc == 0 && end_ok))
        return rc;
    if (rc == -EIO)
        return fail(c, -EIO, "read error at offset %llu", (unsigned long long)at);
    return fail(c, -EBADMSG, "%s at offset %llu is cut off (%zu bytes needed, %llu there)", what,
                (unsigned long long)at, n, (unsigned long long)(c->pos - at));
}

static int64_t clamp_sec(int64_t s)
{
    return s > SEC_CLAMP ? SEC_CLAMP : (s < -SEC_CLAMP ? -SEC_CLAMP : s);
}

static int64_t time_from(uint64_t sec, int64_t offset_sec, uint64_t us)
{
    int64_t s = clamp_sec(sec > (uint64_t)SEC_CLAMP ? SEC_CLAMP : (int64_t)sec);
    s += clamp_sec(offset_sec);
    return s * 1000000 + (int64_t)us;
}

/* ---------------------------------------------------------------------------------------- */
/* Classic pcap */

static int pcap_open(struct mjr_capture *c, const uint8_t *h, uint32_t magic, char *err,
                     size_t errlen)
{
    c->format = MJR_CAPTURE_PCAP;
    c->nsec = magic == PCAP_MAGIC_NS;
    uint16_t major = rd16(c, h + 4), minor = rd16(c, h + 6);
    if (major != 2) {
        snprintf(err, errlen, "unsupported pcap version %u.%u", major, minor);
        return -EBADMSG;
    }
    uint32_t snap = rd32(c, h + 16);
    c->snaplen = (snap == 0 || snap > MJR_CAPTURE_MAX_RECORD) ? MJR_CAPTURE_MAX_RECORD : snap;
    c->link = rd32(c, h + 20) & 0xffffu;
    return 0;
}

static int pcap_next_record(struct mjr_capture *c, struct mjr_capture_packet *p)
{
    uint64_t at = c->pos;
    const uint8_t *h = NULL;
    int rc = take(c, PCAP_RECORD_LEN, &h, "a record header", true);
    if (rc <= 0)
        return rc;
    uint32_t sec = rd32(c, h), frac = rd32(c, h + 4);
    uint32_t caplen = rd32(c, h + 8), origlen = rd32(c, h + 12);
    if (caplen > c->snaplen)
        return fail(c, -EBADMSG,
                    "record %llu at offset %llu: captured length %u exceeds the snapshot "
                    "length %u",
                    (unsigned long long)c->index + 1, (unsigned long long)at, caplen, c->snaplen);
    const uint8_t *data = NULL;
    if (take(c, caplen, &data, "a record", false) < 0)
        return c->failed;
    p->data = data;
    p->caplen = caplen;
    p->origlen = origlen;
    p->link = c->link;
    p->time_us = time_from(sec, 0, c->nsec ? frac / 1000 : frac);
    p->index = ++c->index;
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* pcapng */

/* Reads one option list (code u16, length u16, value padded to 4) looking for the
 * interface's timestamp resolution and offset. */
static int ng_iface_options(struct mjr_capture *c, const uint8_t *o, size_t len,
                            struct ng_iface *ifc)
{
    while (len >= 4) {
        uint16_t code = rd16(c, o), olen = rd16(c, o + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (code == 0)
            break;
        if (padded > len - 4)
            return -EBADMSG;
        const uint8_t *v = o + 4;
        if (code == 9 && olen == 1) {
            unsigned n = v[0] & 0x7fu;
            bool binary = v[0] & 0x80u;
            if ((binary && n > 63) || (!binary && n > 19))
                return -EBADMSG;
            uint64_t units = 1;
            for (unsigned i = 0; i < n; i++)
                units *= binary ? 2 : 10;
            ifc->units = units;
        } else if (code == 14 && olen == 8) {
            uint64_t hi = rd32(c, v), lo = rd32(c, v + 4);
            ifc->offset_sec = (int64_t)((hi << 32) | lo);
        }
        o += 4 + padded;
        len -= 4 + padded;
    }
    return 0;
}

static int ng_add_iface(struct mjr_capture *c, const uint8_t *body, size_t len, uint64_t at)
{
    if (len < 8)
        return fail(c, -EBADMSG, "interface block at offset %llu is too short",
                    (unsigned long long)at);
    if (c->n_ifaces >= NG_MAX_IFACES)
        return fail(c, -EBADMSG, "more than %d interfaces", NG_MAX_IFACES);
    struct ng_iface ifc = {.link = rd16(c, body), .snaplen = rd32(c, body + 4), .units = 1000000};
    if (ng_iface_options(c, body + 8, len - 8, &ifc) < 0)
        return fail(c, -EBADMSG, "interface block at offset %llu has bad options",
                    (unsigned long long)at);
    c->ifaces = xrealloc(c->ifaces, (c->n_ifaces + 1) * sizeof(*c->ifaces));
    c->ifaces[c->n_ifaces++] = ifc;
    return 0;
}

static int64_t ng_time(const struct ng_iface *ifc, uint64_t ts)
{
    uint64_t sec = ts / ifc->units, frac = ts % ifc->units, us;
    if (ifc->units % 1000000 == 0)
        us = frac / (ifc->units / 1000000);
    else if (ifc->units <= UINT64_MAX / 1000000)
        us = frac * 1000000 / ifc->units;
    else /* a binary resolution finer than 2^-44 s */
        us = (frac >> 24) * 1000000 / (ifc->units >> 24);
    return time_from(sec, ifc->offset_sec, us);
}

/* Fills `p` from an enhanced (EPB), simple (SPB) or obsolete (PB) packet block body. */
static int ng_packet(struct mjr_capture *c, uint32_t type, const uint8_t *b, size_t len,
                     uint64_t at, struct mjr_capture_packet *p)
{
    size_t hdr = type == NG_SPB ? 4 : 20;
    if (len < hdr)
        return fail(c, -EBADMSG, "packet block at offset %llu is too short",
                    (unsigned long long)at);
    uint32_t iface = 0, caplen, origlen;
    uint64_t ts = 0;
    if (type == NG_SPB) {
        origlen = rd32(c, b);
        caplen = origlen < len - 4 ? origlen : (uint32_t)(len - 4);
    } else {
        iface = type == NG_EPB ? rd32(c, b) : rd16(c, b);
        ts = ((uint64_t)rd32(c, b + 4) << 32) | rd32(c, b + 8);
        caplen = rd32(c, b + 12);
        origlen = rd32(c, b + 16);
    }
    if (iface >= c->n_ifaces)
        return fail(c, -EBADMSG, "packet block at offset %llu names unknown interface %u",
                    (unsigned long long)at, iface);
    const struct ng_iface *ifc = &c->ifaces[iface];
    if (type == NG_SPB && ifc->snaplen && caplen > ifc->snaplen)
        caplen = ifc->snaplen;
    if (caplen > len - hdr || caplen > MJR_CAPTURE_MAX_RECORD ||
        (ifc->snaplen && caplen > ifc->snaplen))
        return fail(c, -EBADMSG, "packet block at offset %llu: captured length %u is out of bounds",
                    (unsigned long long)at, caplen);
    p->data = b + hdr;
    p->caplen = caplen;
    p->origlen = origlen;
    p->link = ifc->link;
    p->time_us = type == NG_SPB ? 0 : ng_time(ifc, ts);
    p->index = ++c->index;
    return 1;
}

/* Starts a section (after its byte-order magic, which set c->big): checks the version and
 * forgets the previous section's interfaces. `b` holds major, minor, section length. */
static int ng_section(struct mjr_capture *c, const uint8_t *b, uint64_t at)
{
    uint16_t major = rd16(c, b);
    if (major != 1)
        return fail(c, -EBADMSG, "unsupported pcapng version %u at offset %llu", major,
                    (unsigned long long)at);
    c->n_ifaces = 0;
    return 0;
}

/* Reads the rest of a section header block whose 8-byte head is `h` (copied by the caller:
 * the source buffer is reused). The byte order comes with this block, so the byte-order
 * magic is read before the length can be. */
static int ng_section_block(struct mjr_capture *c, const uint8_t h[8], uint64_t at)
{
    const uint8_t *bom = NULL;
    if (take(c, 4, &bom, "a section header", false) < 0)
        return c->failed;
    if (rd_u32(bom) == NG_BOM)
        c->big = true;
    else if (rd_le32(bom) == NG_BOM)
        c->big = false;
    else
        return fail(c, -EBADMSG, "bad byte-order magic in the section header at offset %llu",
                    (unsigned long long)at);
    uint32_t total = rd32(c, h + 4);
    if (total < 28 || total % 4 || total > MJR_CAPTURE_MAX_BLOCK)
        return fail(c, -EBADMSG, "section header at offset %llu has a bad length %u",
                    (unsigned long long)at, total);
    const uint8_t *rest = NULL;
    if (take(c, total - 12, &rest, "a section header", false) < 0)
        return c->failed;
    if (rd32(c, rest + total - 16) != total)
        return fail(c, -EBADMSG, "section header at offset %llu: trailing length differs",
                    (unsigned long long)at);
    return ng_section(c, rest, at) < 0 ? c->failed : 2;
}

/* Reads one block; returns 1 with a packet, 2 for a block that carries none, 0 at the end. */
static int ng_block(struct mjr_capture *c, struct mjr_capture_packet *p)
{
    uint64_t at = c->pos;
    const uint8_t *hp = NULL;
    int rc = take(c, 8, &hp, "a block header", true);
    if (rc <= 0)
        return rc;
    uint8_t h[8];
    memcpy(h, hp, sizeof(h));
    uint32_t type = rd32(c, h), total = rd32(c, h + 4);
    if (type == NG_SHB)
        return ng_section_block(c, h, at);
    if (total < 12 || total % 4 || total > MJR_CAPTURE_MAX_BLOCK)
        return fail(c, -EBADMSG, "block at offset %llu has a bad length %u", (unsigned long long)at,
                    total);
    const uint8_t *b = NULL;
    if (take(c, total - 8, &b, "a block", false) < 0)
        return c->failed;
    size_t len = total - 12;
    if (rd32(c, b + len) != total)
        return fail(c, -EBADMSG, "block at offset %llu: trailing length differs",
                    (unsigned long long)at);
    if (type == NG_IDB)
        return ng_add_iface(c, b, len, at) < 0 ? c->failed : 2;
    if (type == NG_EPB || type == NG_SPB || type == NG_PB)
        return ng_packet(c, type, b, len, at, p);
    return 2;
}

/* ---------------------------------------------------------------------------------------- */
/* Public */

/* Reads the file header (pcap) or first section header (pcapng). */
static int capture_start(struct mjr_capture *c, char *err, size_t errlen)
{
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    const uint8_t *h = NULL;
    int rc = src_take(c, 4, &h);
    if (rc == -EIO) {
        snprintf(err, errlen, "read error");
        return -EIO;
    }
    if (rc <= 0) {
        snprintf(err, errlen, "not a capture: the file is shorter than a capture header");
        return -EBADMSG;
    }
    uint8_t head[PCAP_HEADER_LEN];
    memcpy(head, h, 4);
    uint32_t le = rd_le32(head), be = rd_u32(head);
    if (be == NG_SHB) {
        c->format = MJR_CAPTURE_PCAPNG;
        if (src_take(c, 4, &h) != 1) {
            snprintf(err, errlen, "the pcapng section header is cut off");
            return -EBADMSG;
        }
        memcpy(head + 4, h, 4);
        if (ng_section_block(c, head, 0) < 0) {
            snprintf(err, errlen, "damaged pcapng section header: %s", c->diag);
            return -EBADMSG;
        }
        return 0;
    }
    uint32_t magic = le;
    if (le == PCAP_MAGIC_US || le == PCAP_MAGIC_NS) {
        c->big = false;
    } else if (be == PCAP_MAGIC_US || be == PCAP_MAGIC_NS) {
        c->big = true;
        magic = be;
    } else if (le == PCAP_MAGIC_KUZNETZOV || be == PCAP_MAGIC_KUZNETZOV) {
        snprintf(err, errlen, "unsupported capture format (Kuznetzov's modified pcap)");
        return -EBADMSG;
    } else {
        snprintf(err, errlen, "not a pcap or pcapng capture (magic 0x%08x)", be);
        return -EBADMSG;
    }
    if (src_take(c, PCAP_HEADER_LEN - 4, &h) != 1) {
        snprintf(err, errlen, "the pcap file header is cut off");
        return -EBADMSG;
    }
    memcpy(head + 4, h, PCAP_HEADER_LEN - 4);
    return pcap_open(c, head, magic, err, errlen);
}

static int capture_open(struct mjr_capture *c, struct mjr_capture **out, char *err, size_t errlen)
{
    int rc = capture_start(c, err, errlen);
    if (rc < 0) {
        mjr_capture_destroy(c);
        return rc;
    }
    c->diag[0] = '\0';
    c->failed = 0;
    *out = c;
    return 0;
}

int mjr_capture_open_file(const char *path, struct mjr_capture **out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int rc = -errno;
        if (err)
            snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return rc;
    }
    struct mjr_capture *c = xcalloc(1, sizeof(*c));
    c->fp = fp;
    return capture_open(c, out, err, errlen);
}

int mjr_capture_open_mem(const uint8_t *buf, size_t len, struct mjr_capture **out, char *err,
                         size_t errlen)
{
    static const uint8_t empty[1];
    struct mjr_capture *c = xcalloc(1, sizeof(*c));
    c->mem = buf ? buf : empty;
    c->mem_len = buf ? len : 0;
    return capture_open(c, out, err, errlen);
}

void mjr_capture_destroy(struct mjr_capture *c)
{
    if (!c)
        return;
    if (c->fp)
        fclose(c->fp);
    free(c->buf);
    free(c->ifaces);
    free(c);
}

enum mjr_capture_format mjr_capture_format(const struct mjr_capture *c)
{
    return c->format;
}

int mjr_capture_next(struct mjr_capture *c, struct mjr_capture_packet *p)
{
    if (c->failed)
        return c->failed;
    if (c->format == MJR_CAPTURE_PCAP)
        return pcap_next_record(c, p);
    for (;;) {
        int rc = ng_block(c, p);
        if (rc != 2)
            return rc;
    }
}

uint32_t mjr_capture_link(const struct mjr_capture *c)
{
    return c->format == MJR_CAPTURE_PCAP ? c->link : 0;
}

const char *mjr_capture_diag(const struct mjr_capture *c)
{
    return c->diag;
}
