/* gateway/media/pcap.h — a packet capture to a classic pcap file, for the Admin API's
 * start_pcap / stop_pcap: the plain (unencrypted) RTP and RTCP that one PeerConnection receives
 * and sends, as Wireshark and tshark open it.
 *
 * The file: a pcap 2.4 header (little-endian, microsecond timestamps, snaplen 65535, link type 1
 * = Ethernet), then one record per packet, stamped with the wall clock when it was captured and
 * wrapped in fake Ethernet / IPv4 / UDP headers (no fragments, UDP checksum 0) that say which
 * way it went and on which m-line:
 *
 *   the peer   10.0.0.1   MAC 02:00:00:00:00:01   RTP 6000 + 2*mindex, RTCP 6001 + 2*mindex
 *   us         10.0.0.2   MAC 02:00:00:00:00:02   RTP 5000 + 2*mindex, RTCP 5001 + 2*mindex
 *
 * so `tshark -r F -d udp.port==5000,rtp -d udp.port==5001,rtcp -d udp.port==5002,rtp
 * -d udp.port==5003,rtcp` decodes the first two m-lines. A packet longer than `truncate` bytes
 * (when not 0) or than GW_PCAP_SNAP_MAX is cut; its record and headers still give its length.
 *
 * DESIGN: packets are captured on media threads, which must never wait on disk. gw_pcap_capture
 * copies the packet into a bounded ring of fixed slots (a multi-producer queue: a compare-and-
 * swap claims a slot, a per-slot sequence number publishes it) and returns; when the ring is
 * full the packet is dropped and counted. One writer thread per capture empties the ring into
 * the file every few milliseconds (buffered stdio, flushed after each batch).
 *
 * Ownership and threads: a `struct gw_pcap` belongs to its creator. gw_pcap_create and
 * gw_pcap_destroy(c, true) block on disk (control threads); gw_pcap_capture and
 * gw_pcap_destroy(c, false) never block (any thread); gw_pcap_get_stats and gw_pcap_path may
 * be called from any thread while the capture exists. No gw_pcap_capture may run during or
 * after gw_pcap_destroy: the caller guarantees it. */
#ifndef VB_GATEWAY_MEDIA_PCAP_H
#define VB_GATEWAY_MEDIA_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PCAP_DEFAULT_SLOTS 1024 /* ring slots when 0 is given: about 2 MiB */
#define GW_PCAP_MAX_SLOTS 65536
#define GW_PCAP_SNAP_MAX 2000 /* bytes of one packet a slot keeps at most */
#define GW_PCAP_PORT_US 5000  /* our RTP port of m-line 0 (RTCP: + 1) */
#define GW_PCAP_PORT_PEER 6000
#define GW_PCAP_MAX_MINDEX 255 /* m-lines above (and negative ones) are put on m-line 0 */

struct gw_pcap;

enum gw_pcap_dir {
    GW_PCAP_IN = 0,  /* from the peer to us */
    GW_PCAP_OUT = 1, /* from us to the peer */
};

struct gw_pcap_stats {
    uint64_t captured; /* packets put in the ring */
    uint64_t dropped;  /* packets not captured: the ring was full */
    uint64_t written;  /* records in the file */
    uint64_t failed;   /* packets lost to a write error (the capture writes nothing after one) */
};

/* Creates (or truncates) the file at `path` with mode 0644, writes its header and starts the
 * writer. `truncate`: bytes kept of each packet, 0 = all (up to GW_PCAP_SNAP_MAX); `slots`: the
 * ring's size, rounded up to a power of two (0 = GW_PCAP_DEFAULT_SLOTS, at most
 * GW_PCAP_MAX_SLOTS). 0 with *out set (the caller owns it), -EINVAL, or the -errno of opening
 * or writing the file. Blocks on disk. */
int gw_pcap_create(const char *path, size_t truncate, size_t slots, struct gw_pcap **out);

/* Captures one packet (`pkt`, borrowed for the call; `len` > 0) that went in direction `dir` on
 * m-line `mindex`, as RTCP or RTP. Copies at most min(truncate, GW_PCAP_SNAP_MAX) bytes; drops
 * it (counted) when the ring is full. Any thread; never blocks, never allocates. */
void gw_pcap_capture(struct gw_pcap *c, enum gw_pcap_dir dir, bool rtcp, int mindex,
                     const uint8_t *pkt, size_t len);

/* Ends the capture: everything captured is still written and the file closed. With `flush`, that
 * is done when this returns (blocks on disk: control threads); without, it returns at once and
 * the writer finishes in the background and frees the capture itself (any thread, e.g. the
 * last reference of a PeerConnection dropped on a media thread). NULL is a no-op. */
void gw_pcap_destroy(struct gw_pcap *c, bool flush);

/* The counters so far. Any thread. */
void gw_pcap_get_stats(struct gw_pcap *c, struct gw_pcap_stats *out);

/* The path given at creation; valid as long as the capture. */
const char *gw_pcap_path(const struct gw_pcap *c);

#endif
