/* This file implements the libFuzzer target for the conversion pipeline's parsers: the input
 * is parsed as one RTP packet (header, extensions), then read as a whole MJR recording through
 * everything a conversion runs before muxing (RTP parsing, source tracking, unwrap, reorder
 * window, frame grouping, the codec's depacketizer, gap filling) via transcode_describe(). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transcode/rtp.h"
#include "transcode/transcode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    volatile unsigned sink = 0;
    struct tc_rtp_hdr h;
    if (tc_rtp_parse(data, size, &h) == 0) {
        for (unsigned id = 1; id < 16; id++) {
            const uint8_t *e;
            int n = tc_rtp_ext_find(&h, id, &e);
            for (int i = 0; i < n; i++)
                sink += e[i];
        }
        for (size_t i = 0; i < h.payload_len; i++)
            sink += h.payload[i];
    }
    int fd = memfd_create("fuzz-mjr", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64], err[256];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct tc_options o;
        tc_options_default(&o);
        o.restamp = 1500;
        o.silence_distance = 100;
        struct tc_description d;
        if (transcode_describe(path, &o, &d, err, sizeof(err)) == 0)
            sink += (unsigned)d.packets;
    }
    close(fd);
    (void)sink;
    return 0;
}
