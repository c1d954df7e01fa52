/* mjr/pcap_internal.h — the capture parser behind mjr_pcap_import(), exposed for tests and
 * the fuzz target.
 *
 * Two layers, both pure parsing with every length from the input checked:
 *
 * - mjr_capture_*: iterates the records of a classic pcap file (either byte order, µs or ns
 *   timestamps) or a pcapng file (sections, interfaces with their own link type and timestamp
 *   resolution, enhanced/simple/obsolete packet blocks), read from a file through a bounded
 *   buffer or from memory.
 * - mjr_capture_decode_rtp(): peels one record's link layer (Ethernet with VLAN tags, Linux
 *   SLL and SLL2, raw IP), IPv4 or IPv6 (extension headers skipped) and UDP, and says whether
 *   what is left looks like RTP.
 *
 * A reader is owned by its creator and used by one thread at a time. */
#ifndef VB_MJR_PCAP_INTERNAL_H
#define VB_MJR_PCAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Link types (the LINKTYPE_* registry values found in files). */
#define MJR_LINK_ETHERNET 1
#define MJR_LINK_RAW 101
#define MJR_LINK_LINUX_SLL 113
#define MJR_LINK_IPV4 228
#define MJR_LINK_IPV6 229
#define MJR_LINK_LINUX_SLL2 276

/* Largest record we accept (libpcap's limit for most link types), and largest pcapng block. */
#define MJR_CAPTURE_MAX_RECORD 262144
#define MJR_CAPTURE_MAX_BLOCK (16u * 1024 * 1024)

enum mjr_capture_format {
    MJR_CAPTURE_PCAP = 1,
    MJR_CAPTURE_PCAPNG = 2,
};

/* One captured record. `data` is borrowed from the reader and valid until the next call. */
struct mjr_capture_packet {
    const uint8_t *data;
    uint32_t caplen;  /* bytes at data */
    uint32_t origlen; /* length of the packet on the wire */
    uint32_t link;    /* link type of the interface it was captured on */
    int64_t time_us;  /* capture time, µs since the Unix epoch (finer resolutions truncated) */
    uint64_t index;   /* 1-based record number in the file */
};

struct mjr_capture;

/* Opens a capture file / `len` bytes of memory (borrowed; must outlive the reader). Returns 0
 * and a reader, -errno when the file cannot be opened or read, or -EBADMSG when it is not a
 * capture we can read (with a sentence in `err`, which may be NULL). */
int mjr_capture_open_file(const char *path, struct mjr_capture **out, char *err, size_t errlen);
int mjr_capture_open_mem(const uint8_t *buf, size_t len, struct mjr_capture **out, char *err,
                         size_t errlen);
void mjr_capture_destroy(struct mjr_capture *c);

enum mjr_capture_format mjr_capture_format(const struct mjr_capture *c);

/* Reads the next record. Returns 1 with a record, 0 at the end of the file, -EBADMSG when the
 * file is damaged at this point (a cut-off record, a length out of bounds, an unknown
 * interface) or -errno for a read error; after a negative return mjr_capture_diag() says
 * what and where, and every later call returns the same value. */
int mjr_capture_next(struct mjr_capture *c, struct mjr_capture_packet *p);

/* Link type of a classic pcap file (0 for pcapng, where each interface has its own). */
uint32_t mjr_capture_link(const struct mjr_capture *c);

/* Whether mjr_capture_decode_rtp() can peel this link type. */
bool mjr_capture_link_supported(uint32_t link);

/* A sentence about the damage that ended the parse, "" while there was none. */
const char *mjr_capture_diag(const struct mjr_capture *c);

/* What mjr_capture_decode_rtp() found. */
struct mjr_capture_rtp {
    const uint8_t *rtp; /* the UDP payload (points into the record) */
    size_t len;         /* UDP payload length per the UDP header */
    uint32_t ssrc;
    uint8_t pt; /* payload type (7 bits) */
    bool ipv6;
    uint16_t src_port, dst_port;
};

/* Decodes one record down to the UDP payload and checks that it looks like RTP: version 2, at
 * least 12 bytes, payload type outside 64-95 (RTCP), neither UDP port 0 nor a well-known port
 * of a protocol that can pass for RTP (DNS, DHCP, NTP, NetBIOS, SNMP, syslog, SSDP, mDNS,
 * LLMNR). IPv4 and IPv6 fragments are skipped, not reassembled. Returns 0 and fills `out`, or
 * -ENOENT when the record is something else (with a short reason in *why, a static string). Pure;
 * never reads past caplen. */
int mjr_capture_decode_rtp(const struct mjr_capture_packet *p, struct mjr_capture_rtp *out,
                           const char **why);

#endif
