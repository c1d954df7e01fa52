/* tool_sdp: the SDP module (gateway/sdp/) from the command line, for the scripts that check it
 * against real peers (sdp_aiortc.sh, sdp_chromium.sh).
 *   tool_sdp parse FILE         summary of the SDP (one line per m-line), or its error (exit 1)
 *   tool_sdp answer FILE [OPT]  our answer to the offer in FILE: anonymized, answered as the
 *                               EchoTest would, our transport merged (setup active, one host
 *                               candidate 127.0.0.1:9); OPT "data" accepts data channels
 *   tool_sdp offer              a subscriber offer (opus, VP8 + rtx, data) with our transport
 * FILE "-" is standard input. Output on standard output. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sdp/sdp.h"

static const char *const cands[] = {"1 1 udp 2130706431 127.0.0.1 9 typ host"};

static struct sdp_transport transport(enum sdp_setup setup)
{
    struct sdp_transport t = {
        .ufrag = "vbt1",
        .pwd = "verbatimtoolpassword0123",
        .fingerprint = "9F:3C:22:7A:0B:51:E8:C4:6D:11:A0:73:5E:F2:98:4B:C6:0D:37:E1:5A:82:"
                       "19:FE:44:B7:6C:03:D9:28:A5:70",
        .setup = setup,
        .candidates = cands,
        .n_candidates = 1,
        .gathering_done = true,
        .sess_id = 4242,
        .sess_version = 1,
        .address = "127.0.0.1",
    };
    return t;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 2 * SDP_MAX_LEN;
    char *buf = malloc(cap);
    *len = buf ? fread(buf, 1, cap, f) : 0;
    if (f != stdin)
        fclose(f);
    return buf;
}

static struct sdp *load(const char *path)
{
    size_t len;
    char *text = slurp(path, &len), err[256];
    struct sdp *s = NULL;
    if (!text)
        return NULL;
    int rc = sdp_parse(text, len, &s, err, sizeof err);
    free(text);
    if (rc < 0)
        fprintf(stderr, "parse error %d: %s\n", rc, err);
    return s;
}

static int emit(const struct sdp *s)
{
    char *text;
    int rc = sdp_write(s, &text, NULL);
    if (rc < 0) {
        fprintf(stderr, "write error %d\n", rc);
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}

static int cmd_parse(const char *path)
{
    struct sdp *s = load(path);
    if (!s)
        return 1;
    printf("session %" PRIu64 " bundle=", s->sess_id);
    for (size_t i = 0; i < s->n_bundle_mids; i++)
        printf("%s%s", i ? "," : "", s->bundle_mids[i]);
    printf("\n");
    for (size_t i = 0; i < s->n_media; i++) {
        const struct sdp_media *m = &s->media[i];
        printf("m %zu %s %u mid=%s dir=%s setup=%s cands=%zu codecs=", i, m->type_name, m->port,
               m->mid ? m->mid : "-", sdp_direction_name(sdp_media_direction(s, m)),
               sdp_setup_name(m->setup), m->n_cands);
        for (size_t k = 0; k < m->n_codecs; k++) {
            const char *name = sdp_media_codec_name(m, m->codecs[k].pt);
            printf("%s%s/%d", k ? "," : "", name ? name : "?", m->codecs[k].pt);
        }
        printf("\n");
    }
    sdp_free(s);
    return 0;
}

static int cmd_answer(const char *path, const char *opt)
{
    struct sdp *offer = load(path), *a = NULL;
    if (!offer)
        return 1;
    struct sdp_answer_opts o = {.accept_data = opt && strcmp(opt, "data") == 0, .sess_id = 4242};
    struct sdp_transport t = transport(SDP_SETUP_ACTIVE);
    int rc = sdp_anonymize(offer);
    if (rc == 0)
        rc = sdp_answer_generate(offer, &o, &a);
    if (rc == 0)
        rc = sdp_merge_transport(a, &t);
    if (rc < 0) {
        fprintf(stderr, "answer error %d\n", rc);
        sdp_free(offer);
        sdp_free(a);
        return 1;
    }
    rc = emit(a);
    sdp_free(offer);
    sdp_free(a);
    return rc;
}

static int cmd_offer(void)
{
    static const char *const exts[] = {SDP_EXT_MID, SDP_EXT_ABS_SEND_TIME, SDP_EXT_TRANSPORT_CC};
    struct sdp_stream st[3] = {
        {.kind = SDP_MEDIA_AUDIO,
         .mid = "a1",
         .codec = "opus",
         .pt = 111,
         .fmtp = "minptime=10;useinbandfec=1",
         .ssrc = 11111111,
         .msid = "janus janusa1",
         .ext_uris = exts,
         .n_ext_uris = 1},
        {.kind = SDP_MEDIA_VIDEO,
         .mid = "v1",
         .codec = "VP8",
         .pt = 96,
         .rtx_pt = 97,
         .ssrc = 22222222,
         .rtx_ssrc = 33333333,
         .msid = "janus janusv1",
         .ext_uris = exts,
         .n_ext_uris = 3},
        {.kind = SDP_MEDIA_APPLICATION, .mid = "d1"},
    };
    struct sdp *s = NULL;
    struct sdp_transport t = transport(SDP_SETUP_ACTPASS);
    if (sdp_offer_generate(st, 3, 4242, &s) < 0 || sdp_merge_transport(s, &t) < 0) {
        fprintf(stderr, "offer error\n");
        sdp_free(s);
        return 1;
    }
    int rc = emit(s);
    sdp_free(s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "parse") == 0)
        return cmd_parse(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "answer") == 0)
        return cmd_answer(argv[2], argc > 3 ? argv[3] : NULL);
    if (argc >= 2 && strcmp(argv[1], "offer") == 0)
        return cmd_offer();
    fprintf(stderr, "usage: tool_sdp parse FILE | answer FILE [data] | offer\n");
    return 2;
}
