/* tool_rtcp: the gateway's RTP/RTCP code driven from scripts (tests/gateway/rtcp_tshark.sh),
 * to cross-check it against other implementations (tshark's dissector, aiortc).
 *   tool_rtcp build   prints fixed packets from our builders, one "label hex" per line
 *   tool_rtcp parse   reads RTCP packets (hex, one per line) and prints what our parser saw
 *   tool_rtcp rtp     reads RTP packets (hex, one per line) and prints header and extensions
 * Parsed output is one line per input: space-separated key=value words, blocks separated by
 * " | ". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/rtp/rtcp.h"
#include "gateway/rtp/twcc.h"
#include "gateway/rtp/rtp.h"

#define MAXPKT 4096

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    printf("%s ", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    putchar('\n');
}

static int build(void)
{
    uint8_t buf[MAXPKT];
    struct gw_rtcp_writer w;
    struct gw_rtcp_report_block rb[2] = {
        {0x22222222, 64, -3, 0x10010, 32, 0x5a808000, 65536},
        {0x33333333, 255, 1000, 0x2ffff, 900, 0, 0},
    };
    struct gw_rtcp_sr sr = {0x11111111, 0xe93c5a8080000000ull, 123456, 1000, 160000};

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_rtcp_write_sr(&w, &sr, rb, 1);
    gw_rtcp_write_sdes_cname(&w, 0x11111111, "verbatim");
    print_hex("sr_sdes", buf, w.len);

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_rtcp_write_rr(&w, 0x11111111, rb, 2);
    gw_rtcp_write_remb(&w, 0x11111111, 1000000, (const uint32_t[]){0x22222222, 0x33333333}, 2);
    print_hex("rr_remb", buf, w.len);

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_rtcp_write_nack(&w, 0x11111111, 0x22222222,
                       (const uint16_t[]){100, 101, 105, 116, 117, 200, 65535, 0}, 8);
    print_hex("nack", buf, w.len);

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_rtcp_write_pli(&w, 0x11111111, 0x22222222);
    print_hex("pli", buf, w.len);

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_rtcp_write_fir(&w, 0x11111111, 0x22222222, 7);
    print_hex("fir", buf, w.len);

    /* transport-cc: 300..309 with 303 and 304 lost, 1 ms apart, then 309 200 ms later (a large
     * delta), at 6.4 s (reference time 100). */
    static struct gw_twcc_rx twcc;
    gw_twcc_rx_init(&twcc);
    for (uint16_t s = 300; s < 309; s++)
        if (s != 303 && s != 304)
            gw_twcc_rx_on_packet(&twcc, s, 6400000 + (s - 300) * 1000);
    gw_twcc_rx_on_packet(&twcc, 309, 6608000);
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_twcc_rx_feedback(&twcc, &w, 0x11111111, 0x22222222);
    print_hex("twcc", buf, w.len);

    gw_rtcp_writer_init(&w, buf, sizeof buf);
    gw_rtcp_write_rr(&w, 0x11111111, NULL, 0);
    gw_rtcp_write_sdes_cname(&w, 0x11111111, "a");
    gw_rtcp_write_bye(&w, 0x11111111);
    print_hex("rr_sdes_bye", buf, w.len);
    return w.err ? 1 : 0;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;
    while (n < cap && sscanf(s, "%2x", &v) == 1) {
        out[n++] = (uint8_t)v;
        s += 2;
        if (*s == '\n' || *s == '\0')
            break;
    }
    return n;
}

static const char *kind_name(enum gw_rtcp_kind k)
{
    static const char *const names[] = {"other", "sr",   "rr",  "sdes", "bye", "app",
                                        "nack",  "twcc", "pli", "fir",  "remb"};
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static void print_block(const uint8_t *p, const struct gw_rtcp_block *b)
{
    printf("kind=%s type=%u fmt=%u ssrc=%u media=%u", kind_name(b->kind), b->type, b->count,
           b->ssrc, b->media_ssrc);
    if (b->kind == GW_RTCP_KIND_SR)
        printf(" ntp=%llu rtp=%u packets=%u octets=%u", (unsigned long long)b->sr.ntp, b->sr.rtp_ts,
               b->sr.packets, b->sr.octets);
    for (unsigned i = 0; i < b->reports; i++) {
        struct gw_rtcp_report_block r;
        gw_rtcp_block_report(p, b, i, &r);
        printf(" rb=%u,%u,%d,%u,%u,%u,%u", r.ssrc, r.fraction_lost, r.cumulative_lost,
               r.highest_seq, r.jitter, r.lsr, r.dlsr);
    }
    if (b->kind == GW_RTCP_KIND_NACK) {
        uint16_t seqs[17 * 64];
        size_t n = gw_rtcp_block_nack_seqs(p, b, seqs, 17 * 64);
        printf(" seqs=");
        for (size_t i = 0; i < n; i++)
            printf("%s%u", i ? "," : "", seqs[i]);
    }
    for (unsigned i = 0; b->kind == GW_RTCP_KIND_FIR && i < b->items; i++) {
        uint32_t ssrc;
        uint8_t seq;
        gw_rtcp_block_fir(p, b, i, &ssrc, &seq);
        printf(" fir=%u,%u", ssrc, seq);
    }
    if (b->kind == GW_RTCP_KIND_REMB)
        printf(" bitrate=%llu", (unsigned long long)b->remb_bitrate);
    for (unsigned i = 0;
         (b->kind == GW_RTCP_KIND_REMB || b->kind == GW_RTCP_KIND_BYE) && i < b->items; i++) {
        uint32_t ssrc;
        gw_rtcp_block_ssrc(p, b, i, &ssrc);
        printf(" ssrcs=%u", ssrc);
    }
}

static int parse_rtcp(void)
{
    char line[2 * MAXPKT + 8];
    uint8_t p[MAXPKT];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = unhex(line, p, sizeof p);
        struct gw_rtcp_iter it;
        struct gw_rtcp_block b;
        int rc, k = 0;
        gw_rtcp_iter_init(&it, p, n);
        while ((rc = gw_rtcp_iter_next(&it, &b)) > 0) {
            if (k++)
                printf(" | ");
            print_block(p, &b);
        }
        printf(rc < 0 ? "%sERROR\n" : "\n", k ? " | " : "");
    }
    return 0;
}

static int parse_rtp(void)
{
    char line[2 * MAXPKT + 8];
    uint8_t p[MAXPKT];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = unhex(line, p, sizeof p);
        struct gw_rtp_hdr h;
        if (gw_rtp_parse(p, n, &h) < 0) {
            printf("ERROR\n");
            continue;
        }
        printf("pt=%u m=%d seq=%u ts=%u ssrc=%u payload=%zu profile=%u", h.pt, h.marker, h.seq,
               h.ts, h.ssrc, h.payload_len, h.ext_profile);
        struct gw_rtp_ext_iter it;
        gw_rtp_ext_iter_init(&it, &h);
        uint8_t id;
        size_t off, len;
        while (gw_rtp_ext_iter_next(&it, p, &id, &off, &len) > 0) {
            printf(" ext%u=", id);
            for (size_t i = 0; i < len; i++)
                printf("%02x", p[off + i]);
        }
        putchar('\n');
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "build") == 0)
        return build();
    if (argc == 2 && strcmp(argv[1], "parse") == 0)
        return parse_rtcp();
    if (argc == 2 && strcmp(argv[1], "rtp") == 0)
        return parse_rtp();
    fprintf(stderr, "usage: tool_rtcp build|parse|rtp\n");
    return 2;
}
