/* This file implements tool_mjr_refeed, a test helper: it re-records an MJR file through the
 * asynchronous writer engine, as a media thread would feed it, at the recorded times.
 *
 * usage: tool_mjr_refeed IN.mjr OUT.mjr [--seq-base N] [--ts-base N] [--ssrc N]
 *
 * With the options, the source packets are first moved to another sequence/timestamp origin
 * and SSRC (what a real sender's numbers look like), so that the output only matches the
 * input if the writer's rewrite (seq from 1, timestamp from 0) is right. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "mjr/mjr.h"

struct tool_clock {
    int64_t mono, real;
};

static int64_t tool_mono(void *ctx)
{
    return ((struct tool_clock *)ctx)->mono;
}

static int64_t tool_real(void *ctx)
{
    return ((struct tool_clock *)ctx)->real;
}

static void on_closed(void *ud, const struct mjr_stream_result *res)
{
    *(int *)ud = res->status == 0 ? 0 : 1;
    if (res->status != 0)
        fprintf(stderr, "tool_mjr_refeed: %s: %s\n", res->path, strerror(-res->status));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tool_mjr_refeed IN.mjr OUT.mjr [--seq-base N] [--ts-base N] "
                        "[--ssrc N]\n");
        return 2;
    }
    long long seq_base = -1, ts_base = -1, ssrc = -1;
    for (int i = 3; i + 1 < argc; i += 2) {
        long long v = strtoll(argv[i + 1], NULL, 0);
        if (strcmp(argv[i], "--seq-base") == 0)
            seq_base = v;
        else if (strcmp(argv[i], "--ts-base") == 0)
            ts_base = v;
        else if (strcmp(argv[i], "--ssrc") == 0)
            ssrc = v;
    }
    char err[256];
    struct mjr_reader *r = NULL;
    if (mjr_reader_open(argv[1], &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "tool_mjr_refeed: %s\n", err);
        return 1;
    }
    struct tool_clock clk = {.mono = 1000000, .real = mjr_reader_first_frame_us(r)};
    struct vb_clock vc = {.mono_us = tool_mono, .real_us = tool_real, .ctx = &clk};
    struct mjr_engine_config cfg = {.clock = &vc};
    struct mjr_engine *e = NULL;
    if (mjr_engine_create(&cfg, &e) != 0)
        return 1;
    int status = 1;
    struct mjr_stream_opts o = {.path = argv[2], .on_closed = on_closed, .ud = &status};
    o.info.kind = mjr_reader_kind(r);
    o.info.codec = mjr_reader_codec(r);
    o.info.created_us = mjr_reader_created_us(r);
    struct mjr_stream *s = NULL;
    if (mjr_stream_open(e, &o, &s) != 0)
        return 1;
    struct mjr_frame f;
    uint8_t pkt[MJR_FRAME_MAX];
    while (mjr_reader_next(r, &f) == 1) {
        clk.mono = 1000000 + (int64_t)f.t_ms * 1000;
        memcpy(pkt, f.body, f.len);
        if (f.len >= 12) {
            if (seq_base >= 0)
                wr_u16(pkt + 2, (uint16_t)(rd_u16(pkt + 2) + seq_base));
            if (ts_base >= 0)
                wr_u32(pkt + 4, (uint32_t)(rd_u32(pkt + 4) + (uint32_t)ts_base));
            if (ssrc >= 0)
                wr_u32(pkt + 8, (uint32_t)ssrc);
        }
        int rc = o.info.kind == MJR_KIND_DATA ? mjr_stream_write_data(s, pkt, f.len)
                                              : mjr_stream_write_rtp(s, pkt, f.len);
        if (rc != 0) {
            fprintf(stderr, "tool_mjr_refeed: frame at %llu: %s\n", (unsigned long long)f.offset,
                    strerror(-rc));
            return 1;
        }
    }
    mjr_reader_destroy(r);
    mjr_stream_close(s);
    mjr_engine_destroy(e);
    return status;
}
