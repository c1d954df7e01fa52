/* fuzz_rtcp: arbitrary bytes as a compound RTCP packet through the gateway's parser, its
 * accessors, the SSRC rewriter and the builders. Checks the parser's promises: blocks tile the
 * buffer in order and inside it; validate agrees with the iterator; a rewrite changes no
 * structure and leaves a malformed buffer untouched; report blocks, NACK lists and REMB rates
 * rebuilt with the builders parse back to the same values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/rtp/rtcp.h"

#define MAX_BLOCKS 512

struct shape {
    int n;
    int rc;
    enum gw_rtcp_kind kinds[MAX_BLOCKS];
    size_t lens[MAX_BLOCKS];
};

static void shape_of(const uint8_t *p, size_t len, struct shape *s)
{
    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    size_t pos = 0;
    s->n = 0;
    gw_rtcp_iter_init(&it, p, len);
    while ((s->rc = gw_rtcp_iter_next(&it, &b)) > 0) {
        if (b.off != pos || b.len < 4 || b.len > len - pos || b.len % 4 != 0)
            abort();
        pos += b.len;
        if (s->n < MAX_BLOCKS) {
            s->kinds[s->n] = b.kind;
            s->lens[s->n] = b.len;
        }
        s->n++;
    }
    if (s->rc == 0 && pos != len)
        abort();
}

static bool same_report(const struct gw_rtcp_report_block *a, const struct gw_rtcp_report_block *b)
{
    return a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost &&
           a->cumulative_lost == b->cumulative_lost && a->highest_seq == b->highest_seq &&
           a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr;
}

static void check_reports(const uint8_t *p, const struct gw_rtcp_block *b)
{
    struct gw_rtcp_report_block rb[GW_RTCP_MAX_REPORTS];
    for (unsigned i = 0; i < b->reports; i++)
        if (gw_rtcp_block_report(p, b, i, &rb[i]) != 0)
            abort();
    uint8_t buf[8 + 24 * GW_RTCP_MAX_REPORTS];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    if (gw_rtcp_write_rr(&w, b->ssrc, rb, b->reports) != 0)
        abort();
    struct gw_rtcp_iter it;
    struct gw_rtcp_block back;
    gw_rtcp_iter_init(&it, buf, w.len);
    if (gw_rtcp_iter_next(&it, &back) != 1 || back.reports != b->reports)
        abort();
    for (unsigned i = 0; i < b->reports; i++) {
        struct gw_rtcp_report_block r;
        gw_rtcp_block_report(buf, &back, i, &r);
        if (!same_report(&r, &rb[i]))
            abort();
    }
}

static bool contains(const uint16_t *v, size_t n, uint16_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static void check_nack(const uint8_t *p, const struct gw_rtcp_block *b)
{
    enum { CAP = 17 * 64 };
    uint16_t seqs[CAP], back[CAP];
    size_t n = gw_rtcp_block_nack_seqs(p, b, seqs, CAP);
    if (n == 0 || n > (size_t)b->items * 17)
        abort();
    if (b->items > 64)
        return;
    uint8_t buf[12 + 4 * 64];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    if (gw_rtcp_write_nack(&w, b->ssrc, b->media_ssrc, seqs, n) != 0) /* never more entries */
        abort();
    struct gw_rtcp_iter it;
    struct gw_rtcp_block nb;
    gw_rtcp_iter_init(&it, buf, w.len);
    if (gw_rtcp_iter_next(&it, &nb) != 1 || nb.kind != GW_RTCP_KIND_NACK || nb.items > b->items)
        abort();
    size_t m = gw_rtcp_block_nack_seqs(buf, &nb, back, CAP);
    for (size_t i = 0; i < n; i++)
        if (!contains(back, m, seqs[i]))
            abort();
    for (size_t i = 0; i < m; i++)
        if (!contains(seqs, n, back[i]))
            abort();
}

static void check_remb(const uint8_t *p, const struct gw_rtcp_block *b)
{
    uint32_t ssrcs[255];
    for (unsigned i = 0; i < b->items; i++)
        if (gw_rtcp_block_ssrc(p, b, i, &ssrcs[i]) != 0)
            abort();
    if (b->items == 0)
        return;
    uint8_t buf[20 + 4 * 255];
    struct gw_rtcp_writer w;
    gw_rtcp_writer_init(&w, buf, sizeof buf);
    if (gw_rtcp_write_remb(&w, b->ssrc, b->remb_bitrate, ssrcs, b->items) != 0)
        abort();
    struct gw_rtcp_iter it;
    struct gw_rtcp_block back;
    gw_rtcp_iter_init(&it, buf, w.len);
    if (gw_rtcp_iter_next(&it, &back) != 1 || back.kind != GW_RTCP_KIND_REMB ||
        back.remb_bitrate > b->remb_bitrate || back.items != b->items)
        abort();
    if (b->remb_bitrate < (1u << 18) && back.remb_bitrate != b->remb_bitrate)
        abort();
}

static void check_block(const uint8_t *p, const struct gw_rtcp_block *b)
{
    uint32_t ssrc;
    uint8_t seq_nr;
    switch (b->kind) {
    case GW_RTCP_KIND_SR:
    case GW_RTCP_KIND_RR:
        check_reports(p, b);
        break;
    case GW_RTCP_KIND_NACK:
        check_nack(p, b);
        break;
    case GW_RTCP_KIND_FIR:
        for (unsigned i = 0; i < b->items; i++)
            if (gw_rtcp_block_fir(p, b, i, &ssrc, &seq_nr) != 0)
                abort();
        break;
    case GW_RTCP_KIND_REMB:
        check_remb(p, b);
        break;
    case GW_RTCP_KIND_BYE:
        for (unsigned i = 0; i < b->items; i++)
            if (gw_rtcp_block_ssrc(p, b, i, &ssrc) != 0)
                abort();
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    struct shape *before = malloc(sizeof *before), *after = malloc(sizeof *after);
    if (!before || !after)
        abort();
    shape_of(p, size, before);
    int v = gw_rtcp_validate(p, size);
    if ((v > 0) != (before->rc == 0 && before->n > 0) || (v > 0 && v != before->n))
        abort();

    struct gw_rtcp_iter it;
    struct gw_rtcp_block b;
    gw_rtcp_iter_init(&it, p, size);
    while (gw_rtcp_iter_next(&it, &b) > 0)
        check_block(p, &b);

    static const struct gw_rtcp_ssrc_map map[] = {{0, 1}, {0x01010101, 0xfefefefe}};
    int rc = gw_rtcp_rewrite_ssrcs(p, size, 0x5eed5eed, map, 2);
    if (v < 0) {
        if (rc != -EBADMSG || memcmp(p, data, size) != 0)
            abort();
    } else {
        shape_of(p, size, after);
        if (rc != 0 || after->rc != 0 || after->n != before->n)
            abort();
        int n = before->n < MAX_BLOCKS ? before->n : MAX_BLOCKS;
        for (int i = 0; i < n; i++)
            if (after->kinds[i] != before->kinds[i] || after->lens[i] != before->lens[i])
                abort();
    }
    free(before);
    free(after);
    free(p);
    return 0;
}
