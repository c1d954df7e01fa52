/* This file implements what the converter needs to know of Opus packets: their duration,
 * read from the TOC byte and the frame count (RFC 6716 section 3.1), so that gaps are
 * measured in real frame durations rather than an assumed 20 ms. */
#include "transcode/depay.h"

/* Duration of one frame of each configuration, in 48 kHz samples. */
static unsigned config_samples(unsigned config)
{
    static const unsigned silk[4] = {480, 960, 1920, 2880}; /* 10, 20, 40, 60 ms */
    static const unsigned hybrid[2] = {480, 960};           /* 10, 20 ms */
    static const unsigned celt[4] = {120, 240, 480, 960};   /* 2.5, 5, 10, 20 ms */
    if (config < 12)
        return silk[config % 4];
    if (config < 16)
        return hybrid[config % 2];
    return celt[config % 4];
}

unsigned tc_opus_packet_samples(const uint8_t *p, size_t len)
{
    if (!p || len < 1)
        return 0;
    unsigned frames;
    switch (p[0] & 3u) {
    case 0:
        frames = 1;
        break;
    case 1: /* two frames of equal size */
        if ((len - 1) % 2)
            return 0;
        frames = 2;
        break;
    case 2: /* two frames, the first one's length coded after the TOC */
        if (len < 2)
            return 0;
        frames = 2;
        break;
    default:
        if (len < 2)
            return 0;
        frames = p[1] & 0x3fu;
        break;
    }
    unsigned samples = frames * config_samples(p[0] >> 3);
    /* A packet holds at least one frame and at most 120 ms. */
    if (frames == 0 || samples > 5760)
        return 0;
    return samples;
}
