/* This file implements the libFuzzer target for the capture parser behind pcap2mjr: the input
 * is read as a pcap/pcapng file, every record is decoded down to RTP, and the whole input is
 * also decoded as one record of each supported link type. */
#include <stddef.h>
#include <stdint.h>

#include "mjr/pcap_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches what a decode returned so that reads past the record would be caught. */
static unsigned consume(const struct mjr_capture_rtp *rtp)
{
    unsigned sum = rtp->ssrc + rtp->pt;
    for (size_t i = 0; i < rtp->len; i++)
        sum += rtp->rtp[i];
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t links[] = {MJR_LINK_ETHERNET, MJR_LINK_LINUX_SLL, MJR_LINK_LINUX_SLL2,
                                     MJR_LINK_RAW,      MJR_LINK_IPV4,      MJR_LINK_IPV6};
    volatile unsigned sink = 0;
    struct mjr_capture_rtp rtp;
    struct mjr_capture *c = NULL;
    if (mjr_capture_open_mem(data, size, &c, NULL, 0) == 0) {
        struct mjr_capture_packet p;
        while (mjr_capture_next(c, &p) == 1)
            if (mjr_capture_decode_rtp(&p, &rtp, NULL) == 0)
                sink += consume(&rtp);
        (void)mjr_capture_diag(c);
        mjr_capture_destroy(c);
    }
    if (size > 4096)
        return 0;
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        struct mjr_capture_packet p = {
            .data = data, .caplen = (uint32_t)size, .origlen = (uint32_t)size, .link = links[i]};
        const char *why = NULL;
        if (mjr_capture_decode_rtp(&p, &rtp, &why) == 0)
            sink += consume(&rtp);
    }
    (void)sink;
    return 0;
}
