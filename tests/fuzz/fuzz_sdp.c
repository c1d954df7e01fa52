/* fuzz_sdp: arbitrary bytes through the SDP parser, writer and offer/answer helpers
 * (gateway/sdp/). Checks their promises: a failed parse says why; a parsed SDP writes (or is
 * too big, never malformed), and what is written parses again and writes the same text; the
 * anonymized SDP, answers (default and with data channels and H.264), the merged answer and a
 * subscriber offer built from the parsed m-lines all write text that parses. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sdp/sdp.h"

/* Writes `s`; when it fits, the text must parse and write back identically. */
static void check_written(const struct sdp *s)
{
    char *t1 = NULL, *t2 = NULL, err[256];
    size_t l1, l2;
    int rc = sdp_write(s, &t1, &l1);
    if (rc == -E2BIG)
        return;
    if (rc != 0)
        abort();
    struct sdp *again = NULL;
    if (sdp_parse(t1, l1, &again, err, sizeof err) != 0)
        abort();
    if (sdp_write(again, &t2, &l2) != 0 || l1 != l2 || memcmp(t1, t2, l1) != 0)
        abort();
    sdp_free(again);
    free(t1);
    free(t2);
}

static void check_answers(const struct sdp *offer)
{
    static const char *const h264[] = {"h264", "g722"};
    struct sdp_answer_opts opts[2] = {
        {.sess_id = 0},
        {.codecs = h264,
         .n_codecs = 2,
         .h264_profile = "42e01f",
         .accept_data = true,
         .dir = SDP_DIR_SENDONLY,
         .no_rtx = true},
    };
    static const char *const cands[] = {"1 1 udp 2130706431 127.0.0.2 40000 typ host"};
    struct sdp_transport t = {
        .ufrag = "abcd",
        .pwd = "0123456789abcdefghijkl",
        .fingerprint = "AB:CD:EF",
        .setup = SDP_SETUP_ACTIVE,
        .candidates = cands,
        .n_candidates = 1,
        .gathering_done = true,
        .sess_id = 1,
        .sess_version = 1,
    };
    for (int i = 0; i < 2; i++) {
        struct sdp *a = NULL;
        if (sdp_answer_generate(offer, &opts[i], &a) != 0)
            abort();
        check_written(a);
        if (sdp_merge_transport(a, &t) != 0)
            abort();
        check_written(a);
        sdp_free(a);
    }
}

/* A subscriber offer with one stream per m-line that has a mid and a named first codec. */
static void check_offer(const struct sdp *s)
{
    struct sdp_stream st[SDP_MAX_MEDIA];
    size_t n = 0;
    for (size_t i = 0; i < s->n_media && n < SDP_MAX_MEDIA; i++) {
        const struct sdp_media *m = &s->media[i];
        if (!m->mid || !m->rtp || !m->n_codecs || !m->codecs[0].name)
            continue;
        if (m->type != SDP_MEDIA_AUDIO && m->type != SDP_MEDIA_VIDEO)
            continue;
        st[n] = (struct sdp_stream){
            .kind = m->type,
            .mid = m->mid,
            .codec = m->codecs[0].name,
            .pt = m->codecs[0].pt,
            .clock_rate = m->codecs[0].clock_rate,
            .fmtp = m->codecs[0].fmtp,
            .rtx_pt = sdp_media_rtx_pt(m, m->codecs[0].pt) > 0 ? 99 : 0,
            .ssrc = 1,
            .rtx_ssrc = 2,
            .msid = m->msid,
        };
        n++;
    }
    struct sdp *o = NULL;
    if (sdp_offer_generate(st, n, 5, &o) == 0) {
        check_written(o);
        sdp_free(o);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sdp *s = NULL;
    char err[256];
    if (sdp_parse((const char *)data, size, &s, err, sizeof err) != 0) {
        if (s || !err[0])
            abort();
        return 0;
    }
    check_written(s);
    for (size_t i = 0; i < s->n_media; i++) {
        (void)sdp_media_find_codec(&s->media[i], "h264", "42e01f");
        (void)sdp_media_find_codec(&s->media[i], "vp9", "2");
        (void)sdp_media_codec_name(&s->media[i], 96);
        if (s->media[i].mid && sdp_find_mid(s, s->media[i].mid) != (int)i)
            abort();
    }
    check_answers(s);
    check_offer(s);
    if (sdp_anonymize(s) != 0)
        abort();
    check_written(s);
    check_answers(s);
    sdp_free(s);
    return 0;
}
