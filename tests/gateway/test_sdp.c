/* Tests of the SDP parser and writer (gateway/sdp/): the real samples of sdp_samples/ parse to
 * the model we expect, write(parse(x)) keeps every line of x and parses to the same model, the
 * look-ups answer right, and malformed or oversized input gives an error naming the line. */
#include <errno.h>

#include "tests/gateway/test_sdp_util.h"

static void test_samples_parse(void)
{
    char *names[64];
    int n = list_samples(names, 64);
    ASSERT_GE(n, 8);
    for (int i = 0; i < n; i++) {
        fprintf(stderr, "   %s\n", names[i]);
        struct sdp *s = parse_sample(names[i]);
        ASSERT_GE(s->n_media, 1);
        for (size_t k = 0; k < s->n_media; k++)
            ASSERT(s->media[k].mid);
        sdp_free(s);
        free(names[i]);
    }
}

static void test_chromium_offer(void)
{
    struct sdp *s = parse_sample("chromium_offer.sdp");
    ASSERT_EQ(s->n_media, 3);
    ASSERT(s->bundle);
    ASSERT_EQ(s->n_bundle_mids, 3);
    ASSERT_STREQ(s->bundle_mids[2], "2");
    ASSERT(s->extmap_allow_mixed);
    ASSERT_STREQ(s->msid_semantic, " WMS");
    const struct sdp_media *a = &s->media[0], *v = &s->media[1], *d = &s->media[2];
    ASSERT_EQ(a->type, SDP_MEDIA_AUDIO);
    ASSERT_STREQ(a->mid, "0");
    ASSERT_EQ(a->dir, SDP_DIR_SENDRECV);
    ASSERT(a->rtcp_mux && a->rtcp_rsize);
    ASSERT_STREQ(a->rtcp, "9 IN IP4 0.0.0.0");
    ASSERT_STREQ(a->ice_options, "trickle");
    ASSERT_STREQ(a->fingerprint.hash, "sha-256");
    ASSERT_EQ(strlen(a->fingerprint.value), 95);
    ASSERT_EQ(a->setup, SDP_SETUP_ACTPASS);
    ASSERT_EQ(a->n_cands, 2); /* udp and tcp (active) host candidates */
    ASSERT_STREQ(a->cands[0].address, "127.0.0.2");
    ASSERT_STREQ(a->cands[0].type, "host");
    ASSERT_STREQ(a->cands[0].transport, "udp");
    ASSERT_EQ(a->cands[0].component, 1);
    ASSERT_UEQ(a->cands[0].priority, 2122260223u);
    ASSERT_EQ(a->cands[0].port, s->media[0].port);
    ASSERT_EQ(a->cands[0].rport, -1);
    ASSERT_STREQ(a->cands[1].transport, "tcp");
    ASSERT_EQ(a->cands[1].port, 9);
    ASSERT(strstr(a->cands[1].raw, "tcptype active generation 0 network-id 1"));
    ASSERT_EQ(sdp_media_find_codec(a, "opus", NULL), 111);
    const struct sdp_codec *opus = sdp_media_codec(a, 111);
    ASSERT_EQ(opus->clock_rate, 48000);
    ASSERT_EQ(opus->channels, 2);
    ASSERT_STREQ(opus->fmtp, "minptime=10;useinbandfec=1");
    ASSERT_EQ(opus->n_fb, 1);
    ASSERT_STREQ(opus->fb[0], "transport-cc");
    ASSERT_EQ(sdp_media_extmap_id(a, SDP_EXT_AUDIO_LEVEL), 1);
    ASSERT_EQ(a->n_ssrcs, 2);
    ASSERT_STREQ(a->ssrcs[1].attr, "msid");
    ASSERT_EQ(v->n_codecs, 23);
    ASSERT_EQ(sdp_media_find_codec(v, "VP8", NULL), 96);
    ASSERT_EQ(sdp_media_rtx_pt(v, 96), 97);
    ASSERT_EQ(sdp_media_codec(v, 97)->apt, 96);
    ASSERT_EQ(sdp_media_codec(v, 96)->n_fb, 5);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_TRANSPORT_CC), 3);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_RID), 10);
    ASSERT_EQ(sdp_media_extmap_id(v, "urn:nothing"), -ENOENT);
    ASSERT_EQ(v->n_ssrc_groups, 1);
    ASSERT_STREQ(v->ssrc_groups[0].semantics, "FID");
    ASSERT_EQ(v->ssrc_groups[0].n_ssrcs, 2);
    ASSERT_UEQ(v->ssrc_groups[0].ssrcs[0], v->ssrcs[0].ssrc);
    ASSERT_EQ(d->type, SDP_MEDIA_APPLICATION);
    ASSERT(!d->rtp);
    ASSERT_EQ(d->n_fmts, 1);
    ASSERT_STREQ(d->fmts[0], "webrtc-datachannel");
    ASSERT_EQ(d->sctp_port, 5000);
    ASSERT_EQ(d->max_msg_size, 262144);
    ASSERT_EQ(sdp_find_mid(s, "2"), 2);
    ASSERT_EQ(sdp_find_mid(s, "7"), -ENOENT);
    sdp_free(s);
}

static void test_codec_lookups(void)
{
    struct sdp *s = parse_sample("chromium_offer.sdp");
    const struct sdp_media *v = &s->media[1];
    /* first H.264 with packetization-mode=1, then by profile */
    ASSERT_EQ(sdp_media_find_codec(v, "h264", NULL), 102);
    ASSERT_EQ(sdp_media_find_codec(v, "H264", "42e01f"), 108);
    ASSERT_EQ(sdp_media_find_codec(v, "h264", "42E01F"), 108);
    ASSERT_EQ(sdp_media_find_codec(v, "h264", "640034"), -ENOENT);
    ASSERT_EQ(sdp_media_find_codec(v, "vp9", NULL), 98);
    ASSERT_EQ(sdp_media_find_codec(v, "vp9", "2"), 100);
    ASSERT_EQ(sdp_media_find_codec(v, "av1", NULL), 45);
    ASSERT_EQ(sdp_media_rtx_pt(v, 45), 46);
    ASSERT_EQ(sdp_media_rtx_pt(v, 118), 119);
    ASSERT_EQ(sdp_media_rtx_pt(v, 120), -ENOENT);
    ASSERT_EQ(sdp_media_find_codec(v, "opus", NULL), -ENOENT);
    ASSERT_STREQ(sdp_media_codec_name(v, 100), "VP9");
    ASSERT(sdp_media_codec_name(v, 5) == NULL);
    const struct sdp_media *a = &s->media[0];
    ASSERT_EQ(sdp_media_find_codec(a, "pcmu", NULL), 0);
    ASSERT_EQ(sdp_media_find_codec(a, "G722", NULL), 9);
    ASSERT_STREQ(sdp_media_codec_name(a, 8), "PCMA");
    sdp_free(s);
    /* static payload types without rtpmap */
    const char *bare = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                       "m=audio 9 RTP/AVP 0 8 9\r\n";
    s = parse_ok(bare, strlen(bare));
    ASSERT_EQ(sdp_media_find_codec(&s->media[0], "pcma", NULL), 8);
    ASSERT_STREQ(sdp_media_codec_name(&s->media[0], 9), "G722");
    ASSERT_EQ(sdp_media_direction(s, &s->media[0]), SDP_DIR_SENDRECV);
    sdp_free(s);
}

static void test_simulcast_and_firefox(void)
{
    struct sdp *s = parse_sample("chromium_offer_simulcast.sdp");
    const struct sdp_media *v = &s->media[1];
    ASSERT_EQ(v->dir, SDP_DIR_SENDONLY);
    ASSERT_EQ(v->n_rids, 3);
    ASSERT_STREQ(v->rids[0].id, "h");
    ASSERT(!v->rids[0].recv);
    ASSERT_STREQ(v->rids[2].id, "l");
    ASSERT_STREQ(v->simulcast, "send h;m;l");
    sdp_free(s);

    s = parse_sample("firefox_offer_handwritten.sdp");
    ASSERT_EQ(s->dir, SDP_DIR_SENDRECV);
    ASSERT_STREQ(s->fingerprint.hash, "sha-256");
    ASSERT_STREQ(s->ice_options, "trickle");
    const struct sdp_media *a = &s->media[0];
    ASSERT_EQ(a->n_cands, 3);
    ASSERT(a->end_of_candidates);
    ASSERT_STREQ(a->cands[1].transport, "TCP");
    ASSERT_EQ(a->cands[1].port, 9);
    ASSERT_STREQ(a->cands[2].type, "srflx");
    ASSERT_STREQ(a->cands[2].raddr, "0.0.0.0");
    ASSERT_EQ(a->cands[2].rport, 0);
    ASSERT_EQ(a->extmaps[1].dir, SDP_DIR_RECVONLY);
    ASSERT_EQ(sdp_media_codec(a, 9)->channels, 1);
    ASSERT_STREQ(sdp_media_codec(a, 101)->fmtp, "0-15");
    ASSERT_EQ(sdp_media_rtx_pt(&s->media[1], 120), 124);
    ASSERT_EQ(s->media[2].max_msg_size, 1073741823);
    ASSERT_EQ(sdp_media_direction(s, &s->media[2]), SDP_DIR_SENDRECV);
    sdp_free(s);
}

/* write(parse(x)) has every line of x, and parsing it again writes the same text. */
static void test_roundtrip(void)
{
    char *names[64];
    int n = list_samples(names, 64);
    for (int i = 0; i < n; i++) {
        size_t len;
        char *text = read_sample(names[i], &len);
        struct sdp *s = parse_ok(text, len);
        char *out = write_ok(s);
        ASSERT(strstr(out, "\r\n"));
        assert_same_lines(names[i], text, out);
        struct sdp *again = parse_ok(out, strlen(out));
        char *out2 = write_ok(again);
        ASSERT_STREQ(out2, out);
        struct sdp *copy = NULL;
        ASSERT_EQ(sdp_dup(again, &copy), 0);
        char *out3 = write_ok(copy);
        ASSERT_STREQ(out3, out);
        sdp_free(s);
        sdp_free(again);
        sdp_free(copy);
        free(text);
        free(out);
        free(out2);
        free(out3);
        free(names[i]);
    }
}

/* Unknown attributes and lines survive, in order, at both levels. */
static void test_unknown_kept(void)
{
    const char *in = "v=0\r\no=alice 5 7 IN IP6 ::1\r\ns=talk\r\ni=info\r\nu=http://x/\r\n"
                     "e=a@b.c\r\nc=IN IP4 10.0.0.1\r\nb=AS:500\r\nt=1 2\r\nr=7d 1h 0 25h\r\n"
                     "a=x-first:1\r\na=group:LS 0 1\r\na=x-flag\r\na=setup:active\r\n"
                     "a=setup:passive\r\n"
                     "m=audio 5004/2 RTP/AVP 96 97\r\ni=audio\r\nb=TIAS:64000\r\n"
                     "a=rtpmap:96 opus/48000/2\r\na=rtcp-fb:* nack\r\na=rtpmap:98 foo/8000\r\n"
                     "a=fmtp:96 a=1\r\na=fmtp:96 b=2\r\na=x-z:zz\r\na=rtcp-mux:odd\r\n"
                     "a=msid:s1 t1\r\na=msid:s2 t2\r\na=ptime:20\r\n";
    struct sdp *s = parse_ok(in, strlen(in));
    ASSERT_STREQ(s->origin_user, "alice");
    ASSERT_STREQ(s->origin_addrtype, "IP6");
    ASSERT_UEQ(s->t_start, 1);
    ASSERT_EQ(s->setup, SDP_SETUP_ACTIVE);
    ASSERT_EQ(s->n_attrs, 4);
    ASSERT_STREQ(s->attrs[0].name, "x-first");
    ASSERT_STREQ(s->attrs[1].value, "LS 0 1");
    ASSERT(s->attrs[2].value == NULL);
    ASSERT_STREQ(s->attrs[3].value, "passive");
    ASSERT(!s->bundle);
    const struct sdp_media *m = &s->media[0];
    ASSERT_EQ(m->port, 5004);
    ASSERT_EQ(m->port_count, 2);
    ASSERT_STREQ(sdp_media_codec(m, 96)->fmtp, "a=1");
    ASSERT(sdp_media_codec(m, 97)->name == NULL);
    ASSERT_STREQ(m->msid, "s1 t1");
    ASSERT(!m->rtcp_mux);
    ASSERT_EQ(m->n_attrs, 7);
    ASSERT_STREQ(m->attrs[0].value, "* nack");
    ASSERT_STREQ(m->attrs[1].value, "98 foo/8000");
    ASSERT_STREQ(m->attrs[6].name, "ptime");
    char *out = write_ok(s);
    assert_same_lines("unknown", in, out);
    struct sdp *again = parse_ok(out, strlen(out));
    ASSERT_EQ(again->media[0].n_attrs, 7);
    ASSERT_STREQ(again->media[0].attrs[3].name, "x-z");
    ASSERT_STREQ(again->media[0].attrs[4].value, "odd");
    free(out);
    sdp_free(again);
    sdp_free(s);
}

struct bad_case {
    const char *text;
    int rc;
    const char *msg; /* the error must contain this */
};

#define HEAD "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
#define MAUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"

static const struct bad_case bad_cases[] = {
    {"", -EINVAL, "empty"},
    {"v=1\r\n", -EINVAL, "line 1:"},
    {"o=- 1 1 IN IP4 0.0.0.0\r\n", -EINVAL, "line 1: an SDP starts with v=0"},
    {"v=0\r\ns=-\r\nt=0 0\r\n", -EINVAL, "missing o="},
    {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\n", -EINVAL, "missing s="},
    {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", -EINVAL, "missing t="},
    {"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n", -EINVAL, "line 2: o= needs"},
    {"v=0\r\no=- x 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", -EINVAL, "line 2:"},
    {"v=0\r\no=- 99999999999999999999 1 IN IP4 0.0.0.0\r\n", -EINVAL, "line 2:"},
    {"v=0\r\no=- -1 1 IN IP4 0.0.0.0\r\n", -EINVAL, "line 2:"},
    {"v=0\r\nv=0\r\n", -EINVAL, "line 2:"},
    {HEAD "t=0\r\n", -EINVAL, ""},
    {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0\r\n", -EINVAL, "line 4: t= needs"},
    {HEAD "m=audio 9 UDP/TLS/RTP/SAVPF\r\n", -EINVAL, "line 5: m= needs"},
    {HEAD "m=audio\r\n", -EINVAL, "line 5:"},
    {HEAD "m=audio 70000 RTP/AVP 0\r\n", -EINVAL, "line 5: m=: bad port"},
    {HEAD "m=audio 9/0 RTP/AVP 0\r\n", -EINVAL, "bad port"},
    {HEAD "m=audio x RTP/AVP 0\r\n", -EINVAL, "bad port"},
    {HEAD "m=audio 9 RTP/AVP 128\r\n", -EINVAL, "bad payload type"},
    {HEAD "m=audio 9 RTP/AVP 0 0\r\n", -EINVAL, "twice"},
    {HEAD "m=audio 9 RTP/AVP opus\r\n", -EINVAL, "bad payload type"},
    {HEAD MAUDIO "a=rtpmap:111\r\n", -EINVAL, "line 6: a=rtpmap: needs"},
    {HEAD MAUDIO "a=rtpmap:111 opus\r\n", -EINVAL, "line 6: a=rtpmap"},
    {HEAD MAUDIO "a=rtpmap:111 opus/x\r\n", -EINVAL, "clock"},
    {HEAD MAUDIO "a=rtpmap:111 opus/48000/0\r\n", -EINVAL, "channels"},
    {HEAD MAUDIO "a=rtpmap:\r\n", -EINVAL, "needs a value"},
    {HEAD MAUDIO "a=fmtp:111\r\n", -EINVAL, "needs"},
    {HEAD MAUDIO "a=candidate:1 1 udp\r\n", -EINVAL, "line 6: a=candidate"},
    {HEAD MAUDIO "a=candidate:1 1 udp 5 1.2.3.4 99999 typ host\r\n", -EINVAL, "port"},
    {HEAD MAUDIO "a=candidate:1 0 udp 5 1.2.3.4 9 typ host\r\n", -EINVAL, "component"},
    {HEAD MAUDIO "a=candidate:1 1 udp 5 1.2.3.4 9 type host\r\n", -EINVAL, "typ"},
    {HEAD MAUDIO "a=candidate:1 1 udp 5 1.2.3.4 9 typ host raddr 1.1.1.1 rport x\r\n", -EINVAL,
     "rport"},
    {HEAD MAUDIO "a=extmap:0 urn:x\r\n", -EINVAL, "bad id"},
    {HEAD MAUDIO "a=extmap:300 urn:x\r\n", -EINVAL, "bad id"},
    {HEAD MAUDIO "a=extmap:1/sideways urn:x\r\n", -EINVAL, "direction"},
    {HEAD MAUDIO "a=extmap:1\r\n", -EINVAL, "a=extmap"},
    {HEAD MAUDIO "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n", -EINVAL, "line 7:"},
    {HEAD MAUDIO "a=ssrc:abc cname:x\r\n", -EINVAL, "a=ssrc"},
    {HEAD MAUDIO "a=ssrc:4294967296 cname:x\r\n", -EINVAL, "a=ssrc"},
    {HEAD MAUDIO "a=ssrc:1\r\n", -EINVAL, "a=ssrc"},
    {HEAD MAUDIO "a=ssrc-group:FID 1 x\r\n", -EINVAL, "ssrc-group"},
    {HEAD MAUDIO "a=setup:sometimes\r\n", -EINVAL, "a=setup"},
    {HEAD MAUDIO "a=fingerprint:sha-256\r\n", -EINVAL, "a=fingerprint"},
    {HEAD MAUDIO "a=rid:h sideways\r\n", -EINVAL, "a=rid"},
    {HEAD MAUDIO "a=mid:\r\n", -EINVAL, "needs a value"},
    {HEAD MAUDIO "a=mid\r\n", -EINVAL, "needs a value"},
    {HEAD MAUDIO "a=mid:0\r\na=mid:1\r\n", -EINVAL, "line 7: a second a=mid"},
    {HEAD MAUDIO "a=mid:0\r\n" MAUDIO "a=mid:0\r\n", -EINVAL, "mid \"0\" on two m-lines"},
    {HEAD MAUDIO "a=sctp-port:99999\r\n", -EINVAL, "sctp-port"},
    {HEAD MAUDIO "a=max-message-size:-1\r\n", -EINVAL, "max-message-size"},
    {HEAD MAUDIO "a=:x\r\n", -EINVAL, "attribute name"},
    {HEAD MAUDIO "a=\r\n", -EINVAL, "attribute name"},
    {HEAD "a=group:BUNDLE\r\na=ice-ufrag\r\n", -EINVAL, "line 6: a=ice-ufrag needs a value"},
    {HEAD "c=IN IP4\r\n", -EINVAL, "line 5: c= needs"},
    {HEAD "c=IN IP4 1.1.1.1\r\nc=IN IP4 1.1.1.1\r\n", -EINVAL, "a second c="},
    {HEAD "b=AS\r\n", -EINVAL, "b= needs"},
    {HEAD "b=AS:x\r\n", -EINVAL, "b= needs"},
    {HEAD "x\r\n", -EINVAL, "line 5: not a <type>=<value> line"},
    {HEAD "A=1\r\n", -EINVAL, "line 5:"},
    {HEAD "q=1\r\n", -EINVAL, "line 5: unknown line type"},
    {HEAD "s=again\r\n", -EINVAL, "line 5: s= twice"},
    {HEAD MAUDIO "o=- 1 1 IN IP4 0.0.0.0\r\n", -EINVAL, "line 6:"},
    {HEAD MAUDIO "t=0 0\r\n", -EINVAL, "line 6: t= after m="},
    {HEAD "a=x:1\rb\r\n", -EINVAL, "line 5: CR inside"},
    {"v=0\r\no=- 1 1 IN IP4 0\0330.0.0\r\n", -EINVAL, "line 2: control character 0x1b"},
    {HEAD "a=x:\x7f\r\n", -EINVAL, "line 5: control character 0x7f"},
};

static void test_malformed(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        struct sdp *s = (struct sdp *)&s; /* must be reset to NULL */
        char err[200];
        int rc = sdp_parse(c->text, strlen(c->text), &s, err, sizeof err);
        if (rc != c->rc || s != NULL || !strstr(err, c->msg) || !err[0])
            TEST_FAIL_("case %zu (%s): rc %d err \"%s\"", i, c->text, rc, err);
    }
    /* a NUL byte in the middle, reported on its line */
    char nul[] = HEAD "a=x:1\0y\r\n";
    struct sdp *s;
    char err[200];
    ASSERT_EQ(sdp_parse(nul, sizeof nul - 1, &s, err, sizeof err), -EINVAL);
    ASSERT(strstr(err, "line 5: NUL byte"));
    /* no error buffer, or a tiny one, is fine */
    ASSERT_EQ(sdp_parse("v=2", 3, &s, NULL, 0), -EINVAL);
    ASSERT_EQ(sdp_parse("v=2", 3, &s, err, 4), -EINVAL);
    ASSERT_EQ(strlen(err), 3);
    ASSERT_EQ(sdp_parse(NULL, 0, &s, err, sizeof err), -EINVAL);
    ASSERT_EQ(sdp_parse("v=0", 3, NULL, err, sizeof err), -EINVAL);
    /* every prefix of a real SDP fails cleanly or parses */
    size_t len;
    char *text = read_sample("chromium_offer.sdp", &len);
    for (size_t cut = 0; cut < len; cut += 7) {
        int rc = sdp_parse(text, cut, &s, err, sizeof err);
        ASSERT(rc == 0 || rc == -EINVAL);
        if (rc == 0)
            sdp_free(s);
        else
            ASSERT(err[0]);
    }
    free(text);
}

/* head, then `count` times pre<i>post, then tail. */
static char *repeat(const char *head, const char *pre, const char *post, int count,
                    const char *tail)
{
    size_t n = strlen(head) + (strlen(pre) + strlen(post) + 12) * (size_t)count + strlen(tail);
    char *s = malloc(n + 1), *p = s;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < count; i++)
        p += sprintf(p, "%s%d%s", pre, i, post);
    sprintf(p, "%s", tail);
    return s;
}

static void test_limits(void)
{
    struct sdp *s;
    char err[200];
    /* 64 m-lines are fine, 65 are not */
    char *t = repeat(HEAD, "m=audio 9 RTP/AVP 0\r\na=mid:m", "\r\n", 64, "");
    s = parse_ok(t, strlen(t));
    ASSERT_EQ(s->n_media, 64);
    sdp_free(s);
    free(t);
    t = repeat(HEAD, "m=audio 9 RTP/AVP ", "\r\n", 65, "");
    ASSERT_EQ(sdp_parse(t, strlen(t), &s, err, sizeof err), -E2BIG);
    ASSERT(strstr(err, "line 69: more than 64 m-lines"));
    free(t);
    /* 128 formats are fine, 129 are not */
    t = repeat(HEAD "m=audio 9 RTP/AVP", " ", "", 128, "\r\n");
    s = parse_ok(t, strlen(t));
    ASSERT_EQ(s->media[0].n_codecs, 128);
    sdp_free(s);
    free(t);
    t = repeat(HEAD "m=application 9 X", " f", "", 129, "\r\n");
    ASSERT_EQ(sdp_parse(t, strlen(t), &s, err, sizeof err), -E2BIG);
    ASSERT(strstr(err, "more than 128 formats"));
    free(t);
    /* a line of 4096 bytes is fine, 4097 is not */
    char line[5000];
    memset(line, 'x', sizeof line);
    snprintf(line, sizeof line, "%sa=x-long:", HEAD);
    size_t hl = strlen(line);
    memset(line + hl, 'y', 4096 - 9);
    strcpy(line + hl + 4096 - 9, "\r\n");
    s = parse_ok(line, strlen(line));
    ASSERT_EQ(strlen(s->attrs[0].value), 4087);
    sdp_free(s);
    strcpy(line + hl + 4096 - 9, "y\r\n");
    ASSERT_EQ(sdp_parse(line, strlen(line), &s, err, sizeof err), -E2BIG);
    ASSERT(strstr(err, "line 5: longer than 4096"));
    /* many ssrcs in one group, within one line */
    t = repeat(HEAD MAUDIO "a=ssrc-group:SIM", " ", "", 700, "\r\n");
    s = parse_ok(t, strlen(t));
    ASSERT_EQ(s->media[0].ssrc_groups[0].n_ssrcs, 700);
    char *out = write_ok(s);
    assert_same_lines("ssrc-group", t, out);
    free(out);
    sdp_free(s);
    free(t);
    /* the whole SDP: 64 KiB at most */
    t = repeat(HEAD, "a=x-pad:", "------------------------------------------------------\r\n", 1100,
               "");
    ASSERT_GT(strlen(t), SDP_MAX_LEN);
    ASSERT_EQ(sdp_parse(t, strlen(t), &s, err, sizeof err), -E2BIG);
    ASSERT(strstr(err, "longer than 65536"));
    free(t);
}

static void test_writer_checks(void)
{
    struct sdp *s = sdp_new(42);
    char *text;
    size_t len;
    ASSERT_EQ(sdp_write(s, &text, &len), 0);
    ASSERT_STREQ(text, "v=0\r\no=- 42 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
    ASSERT_EQ(len, strlen(text));
    free(text);
    /* a CR or LF smuggled into the model is refused */
    free(s->name);
    s->name = strdup("x\r\na=evil");
    ASSERT_EQ(sdp_write(s, &text, NULL), -EINVAL);
    ASSERT(text == NULL);
    free(s->name);
    s->name = strdup("ok");
    /* an m-line without formats cannot be written */
    s->media = calloc(1, sizeof *s->media);
    s->n_media = 1;
    struct sdp_media *m = &s->media[0];
    m->type_name = strdup("audio");
    m->proto = strdup("RTP/AVP");
    m->rtp = true;
    m->sctp_port = -1;
    m->max_msg_size = -1;
    ASSERT_EQ(sdp_write(s, &text, NULL), -EINVAL);
    /* too big in total */
    m->codecs = calloc(1, sizeof *m->codecs);
    m->n_codecs = 1;
    m->codecs[0].apt = -1;
    ASSERT_EQ(sdp_write(s, &text, NULL), 0);
    free(text);
    for (int i = 0; i < 40; i++) {
        m->attrs = realloc(m->attrs, (size_t)(i + 1) * sizeof *m->attrs);
        m->attrs[i].name = strdup("x-pad");
        m->attrs[i].value = calloc(1, 3000);
        memset(m->attrs[i].value, 'p', 2999);
        m->n_attrs++;
    }
    ASSERT_EQ(sdp_write(s, &text, NULL), -E2BIG);
    ASSERT_EQ(sdp_write(NULL, &text, NULL), -EINVAL);
    sdp_free(s);
    sdp_free(NULL);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"samples_parse", test_samples_parse},
        {"chromium_offer", test_chromium_offer},
        {"codec_lookups", test_codec_lookups},
        {"simulcast_and_firefox", test_simulcast_and_firefox},
        {"roundtrip", test_roundtrip},
        {"unknown_kept", test_unknown_kept},
        {"malformed", test_malformed},
        {"limits", test_limits},
        {"writer_checks", test_writer_checks},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
