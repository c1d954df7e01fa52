/* This file implements mjr_pcap_export(): an MJR recording written out as a classic pcap
 * capture, byte for byte as Janus's mjr2pcap writes it.
 *
 * DESIGN: the capture is what mjr2pcap produces on the machines Janus runs on (x86-64,
 * arm64): a little-endian pcap 2.4 header with snaplen 65535 and link type Ethernet, then
 * per RTP frame a record stamped with the header's "u" plus the frame's t_ms, and a fake
 * frame around the packet — zero MAC addresses, IPv4 10.1.1.1 -> 10.2.2.2 with DF set, TTL
 * 64 and no checksum, UDP 1000 -> 2000 with no checksum. Frames the reference skips are
 * skipped too: bodies under 12 or over 1500 bytes. Recordings older than MJR00002 carry no
 * frame times; the reference stamps each packet with the time of the conversion, we stamp
 * them all with one reading of the wall clock taken when the conversion starts. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "mjr/mjr.h"

#define PCAP_GLOBAL_LEN 24
#define PCAP_REC_LEN 16
#define FAKE_HDR_LEN 42 /* Ethernet 14 + IPv4 20 + UDP 8 */
#define RTP_MIN 12
#define RTP_MAX 1500
#define BASE_CLAMP (INT64_C(1) << 60)

static void put_global_header(uint8_t *h)
{
    wr_le32(h, 0xa1b2c3d4u);
    wr_le16(h + 4, 2);
    wr_le16(h + 6, 4);
    wr_le32(h + 8, 0);  /* thiszone */
    wr_le32(h + 12, 0); /* sigfigs */
    wr_le32(h + 16, 65535);
    wr_le32(h + 20, 1); /* Ethernet */
}

/* Record header and fake Ethernet/IPv4/UDP headers for an RTP packet of `len` bytes. */
static void put_record_header(uint8_t *h, int64_t time_us, size_t len)
{
    int64_t sec = time_us / 1000000;
    uint32_t total = (uint32_t)(FAKE_HDR_LEN + len);
    wr_le32(h, (uint32_t)sec);
    wr_le32(h + 4, (uint32_t)(time_us - sec * 1000000));
    wr_le32(h + 8, total);
    wr_le32(h + 12, total);
    uint8_t *e = h + PCAP_REC_LEN;
    memset(e, 0, FAKE_HDR_LEN);
    wr_u16(e + 12, 0x0800);
    uint8_t *ip = e + 14;
    ip[0] = 0x45;
    wr_u16(ip + 2, (uint16_t)(28 + len));
    wr_u16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 64;             /* TTL */
    ip[9] = 17;             /* UDP */
    static const uint8_t addrs[8] = {10, 1, 1, 1, 10, 2, 2, 2};
    memcpy(ip + 12, addrs, sizeof(addrs));
    uint8_t *udp = ip + 20;
    wr_u16(udp, 1000);
    wr_u16(udp + 2, 2000);
    wr_u16(udp + 4, (uint16_t)(8 + len));
}

/* The time the first frame is stamped with: "u" for MJR00002 (required there, as by the
 * reference), the wall clock for older recordings. Returns 0 or -EBADMSG. */
static int export_base_time(struct mjr_reader *r, int64_t *base, bool *per_frame, char *err,
                            size_t errlen)
{
    *per_frame = mjr_reader_version(r) == MJR_VERSION_2;
    *base = vb_clock_real_us();
    json_t *h = mjr_reader_header(r);
    if (!*per_frame || !h)
        return 0;
    json_t *u = json_object_get(h, "u");
    if (!json_is_integer(u)) {
        snprintf(err, errlen, "the recording's header has no integer \"u\" (first frame time)");
        return -EBADMSG;
    }
    int64_t v = (int64_t)json_integer_value(u);
    *base = v > BASE_CLAMP ? BASE_CLAMP : (v < -BASE_CLAMP ? -BASE_CLAMP : v);
    return 0;
}

static int write_all(FILE *fp, const void *p, size_t n)
{
    return fwrite(p, 1, n, fp) == n ? 0 : -(errno ? errno : EIO);
}

/* Writes the capture; returns 0 or -errno from the output. */
static int export_frames(struct mjr_reader *r, FILE *fp, int64_t base, bool per_frame)
{
    uint8_t head[PCAP_GLOBAL_LEN];
    put_global_header(head);
    int rc = write_all(fp, head, sizeof(head));
    struct mjr_frame f;
    while (rc == 0 && mjr_reader_next(r, &f) == 1) {
        if (f.len < RTP_MIN || f.len > RTP_MAX)
            continue;
        uint8_t rec[PCAP_REC_LEN + FAKE_HDR_LEN];
        int64_t t = per_frame ? base + (int64_t)f.t_ms * 1000 : base;
        put_record_header(rec, t, f.len);
        rc = write_all(fp, rec, sizeof(rec));
        if (rc == 0)
            rc = write_all(fp, f.body, f.len);
    }
    return rc;
}

int mjr_pcap_export(const char *mjr_path, const char *pcap_path, char *err, size_t errlen)
{
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    struct mjr_reader *r = NULL;
    char why[256] = "";
    int rc = mjr_reader_open(mjr_path, &r, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", mjr_path, why[0] ? why : strerror(-rc));
        return rc;
    }
    if (mjr_reader_kind(r) == MJR_KIND_DATA) {
        snprintf(err, errlen,
                 "%s is a data recording: only audio and video (RTP) can be "
                 "converted to pcap",
                 mjr_path);
        rc = -ENOTSUP;
        goto out_reader;
    }
    int64_t base;
    bool per_frame;
    rc = export_base_time(r, &base, &per_frame, err, errlen);
    if (rc < 0)
        goto out_reader;
    FILE *fp = fopen(pcap_path, "wb");
    if (!fp) {
        rc = -errno;
        snprintf(err, errlen, "cannot create %s: %s", pcap_path, strerror(errno));
        goto out_reader;
    }
    rc = export_frames(r, fp, base, per_frame);
    if (fclose(fp) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        snprintf(err, errlen, "cannot write %s: %s", pcap_path, strerror(-rc));
        unlink(pcap_path);
        goto out_reader;
    }
    /* Success: a damaged end of the recording is reported as a warning in `err`. */
    if (mjr_reader_truncated(r))
        snprintf(err, errlen, "%s", mjr_reader_diag(r));
out_reader:
    mjr_reader_destroy(r);
    return rc;
}
