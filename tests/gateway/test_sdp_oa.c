/* Tests of the SDP offer/answer helpers (gateway/sdp/): anonymize removes exactly the transport
 * attributes of the real samples, merge adds ours back (and anonymize(merge(x)) is x again),
 * answers to Chromium, Firefox-style and aiortc offers pick the codecs, rtx, extensions,
 * directions and simulcast we expect, and subscriber offers are well formed. */
#include <errno.h>

#include "tests/gateway/test_sdp_util.h"

static const char *const transport_names[] = {
    "candidate",   "end-of-candidates", "ice-ufrag",   "ice-pwd",
    "ice-options", "ice-lite",          "fingerprint", "setup",
    "rtcp",        "rtcp-mux",          "connection",  "crypto",
    "bundle-only",
};

static bool is_transport_line(const char *l)
{
    if (strncmp(l, "a=group:BUNDLE", 14) == 0)
        return true;
    for (size_t i = 0; i < sizeof transport_names / sizeof transport_names[0]; i++) {
        size_t n = strlen(transport_names[i]);
        if (strncmp(l + 2, transport_names[i], n) == 0 && (l[2 + n] == ':' || !l[2 + n]))
            return true;
    }
    return false;
}

/* The a= lines of a text, without (keep_transport false) the transport ones, one per line. */
static char *a_lines(const char *text, bool keep_transport)
{
    char **v;
    int n = sorted_lines(text, &v);
    size_t cap = strlen(text) + 1, off = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strncmp(v[i], "a=", 2) != 0 || (!keep_transport && is_transport_line(v[i])))
            continue;
        off += (size_t)snprintf(out + off, cap - off, "%s\n", v[i]);
    }
    free_lines(v, n);
    return out;
}

static const char *const our_cands[] = {
    "candidate:1 1 udp 2130706431 127.0.0.2 40000 typ host",
    "2 1 tcp 1518280447 127.0.0.2 9 typ host tcptype active",
};

static struct sdp_transport our_transport(enum sdp_setup setup)
{
    struct sdp_transport t = {
        .ufrag = "v3rb",
        .pwd = "0123456789abcdefABCDEF+/",
        .fingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:"
                       "22:33:44:55:66:77:88:99",
        .setup = setup,
        .candidates = our_cands,
        .n_candidates = 2,
        .gathering_done = true,
        .sess_id = 777,
        .sess_version = 3,
        .address = "127.0.0.2",
    };
    return t;
}

static void test_anonymize_samples(void)
{
    char *names[64];
    int n = list_samples(names, 64);
    for (int i = 0; i < n; i++) {
        size_t len;
        char *text = read_sample(names[i], &len);
        struct sdp *s = parse_ok(text, len);
        ASSERT_EQ(sdp_anonymize(s), 0);
        char *anon = write_ok(s);
        /* the non-transport attributes are exactly those of the original, and no transport
         * attribute is left */
        char *want = a_lines(text, false), *got = a_lines(anon, false), *all = a_lines(anon, true);
        if (strcmp(want, got) != 0)
            TEST_FAIL_("%s: attributes differ:\n%s---\n%s", names[i], want, got);
        ASSERT_STREQ(all, got);
        ASSERT(strstr(anon, "o=") && strstr(anon, " IN IP4 0.0.0.0\r\n"));
        ASSERT(!strstr(anon, "127.0.0.2"));
        for (size_t k = 0; k < s->n_media; k++) {
            ASSERT(s->media[k].port == 9 || s->media[k].port == 0);
            ASSERT(!s->media[k].connection || !strcmp(s->media[k].connection, "IN IP4 0.0.0.0"));
            ASSERT(s->media[k].mid);
        }
        ASSERT(!s->bundle);
        free(want);
        free(got);
        free(all);
        free(anon);
        free(text);
        sdp_free(s);
        free(names[i]);
    }
    ASSERT_EQ(sdp_anonymize(NULL), -EINVAL);
}

static void check_merged(const struct sdp *m, enum sdp_setup setup)
{
    ASSERT_UEQ(m->sess_id, 777);
    ASSERT_UEQ(m->sess_version, 3);
    ASSERT_STREQ(m->origin_addr, "127.0.0.2");
    ASSERT(m->connection == NULL);
    ASSERT(m->bundle);
    ASSERT_STREQ(m->ice_ufrag, "v3rb");
    ASSERT_STREQ(m->ice_pwd, "0123456789abcdefABCDEF+/");
    ASSERT_STREQ(m->ice_options, "trickle");
    ASSERT_STREQ(m->fingerprint.hash, "sha-256");
    ASSERT_EQ(m->setup, setup);
    size_t used = 0;
    for (size_t k = 0; k < m->n_media; k++) {
        const struct sdp_media *md = &m->media[k];
        if (md->port == 0) {
            ASSERT(!md->ice_ufrag && md->n_cands == 0 && md->n_attrs == 0 && md->n_extmaps == 0);
            ASSERT_STREQ(md->connection, "IN IP4 127.0.0.2");
            continue;
        }
        ASSERT_STREQ(m->bundle_mids[used], md->mid);
        used++;
        ASSERT_EQ(md->port, 9);
        ASSERT_STREQ(md->connection, "IN IP4 127.0.0.2");
        ASSERT_STREQ(md->ice_ufrag, "v3rb");
        ASSERT_STREQ(md->ice_pwd, "0123456789abcdefABCDEF+/");
        ASSERT_STREQ(md->ice_options, "trickle");
        ASSERT_STREQ(md->fingerprint.hash, "sha-256");
        ASSERT_EQ(strlen(md->fingerprint.value), 95);
        ASSERT_EQ(md->setup, setup);
        ASSERT_EQ(md->rtcp_mux, md->rtp);
        ASSERT_EQ(md->n_cands, 2);
        ASSERT_STREQ(md->cands[0].raw, "1 1 udp 2130706431 127.0.0.2 40000 typ host");
        ASSERT_EQ(md->cands[1].port, 9);
        ASSERT(md->end_of_candidates);
        ASSERT(md->rtcp == NULL);
    }
    ASSERT_EQ(m->n_bundle_mids, used);
}

static void test_merge_samples(void)
{
    char *names[64];
    int n = list_samples(names, 64);
    struct sdp_transport t = our_transport(SDP_SETUP_ACTPASS);
    for (int i = 0; i < n; i++) {
        struct sdp *s = parse_sample(names[i]);
        ASSERT_EQ(sdp_anonymize(s), 0);
        s->sess_id = t.sess_id; /* the one difference merge makes that anonymize keeps */
        s->sess_version = t.sess_version;
        char *anon = write_ok(s);
        ASSERT_EQ(sdp_merge_transport(s, &t), 0);
        char *merged = write_ok(s);
        struct sdp *m = parse_ok(merged, strlen(merged));
        check_merged(m, SDP_SETUP_ACTPASS);
        /* merging again changes nothing; anonymizing the merge gives the plugin's SDP back */
        ASSERT_EQ(sdp_merge_transport(m, &t), 0);
        char *twice = write_ok(m);
        ASSERT_STREQ(twice, merged);
        ASSERT_EQ(sdp_anonymize(m), 0);
        char *back = write_ok(m);
        assert_same_lines(names[i], anon, back);
        free(anon);
        free(merged);
        free(twice);
        free(back);
        sdp_free(m);
        sdp_free(s);
        free(names[i]);
    }
}

static void test_merge_errors(void)
{
    struct sdp *s = parse_sample("aiortc_offer.sdp");
    char *before = write_ok(s);
    struct sdp_transport good = our_transport(SDP_SETUP_ACTIVE), t;
    const char *bad_cand[] = {"1 1 udp 2130706431 127.0.0.2 40000 typ host",
                              "1 1 udp 2130706431 127.0.0.2"};
    const char *cr_cand[] = {"1 1 udp 1 127.0.0.2 9 typ host\r\na=evil"};
    for (int i = 0; i < 9; i++) {
        t = good;
        switch (i) {
        case 0:
            t.ufrag = "has space";
            break;
        case 1:
            t.pwd = NULL;
            break;
        case 2:
            t.fingerprint = "AA:BB zz";
            break;
        case 3:
            t.setup = SDP_SETUP_NONE;
            break;
        case 4:
            t.setup = SDP_SETUP_HOLDCONN;
            break;
        case 5:
            t.candidates = bad_cand;
            break;
        case 6:
            t.address = "1.2.3.4\r\n";
            break;
        case 7:
            t.candidates = NULL;
            break;
        case 8:
            t.candidates = cr_cand;
            t.n_candidates = 1;
            break;
        }
        if (sdp_merge_transport(s, &t) != -EINVAL)
            TEST_FAIL_("merge case %d accepted", i);
        char *after = write_ok(s);
        ASSERT_STREQ(after, before);
        free(after);
    }
    ASSERT_EQ(sdp_merge_transport(NULL, &good), -EINVAL);
    ASSERT_EQ(sdp_merge_transport(s, NULL), -EINVAL);
    /* an answer's setup, IPv6, no candidates yet, no address */
    t = good;
    t.n_candidates = 0;
    t.gathering_done = false;
    t.address = "::1";
    ASSERT_EQ(sdp_merge_transport(s, &t), 0);
    ASSERT_EQ(s->media[1].setup, SDP_SETUP_ACTIVE);
    ASSERT_EQ(s->media[1].n_cands, 0);
    ASSERT(!s->media[1].end_of_candidates);
    ASSERT_STREQ(s->media[1].connection, "IN IP6 ::1");
    ASSERT_STREQ(s->origin_addrtype, "IP6");
    t.address = NULL;
    t.ice_lite = true;
    ASSERT_EQ(sdp_merge_transport(s, &t), 0);
    ASSERT(s->ice_lite);
    ASSERT_STREQ(s->media[0].connection, "IN IP4 0.0.0.0");
    free(before);
    sdp_free(s);
}

static void test_merge_mids_and_rejected(void)
{
    const char *in = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
                     "m=audio 5000 RTP/SAVPF 0\r\na=rtcp:5001\r\n"
                     "m=video 0 RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\na=mid:1\r\n"
                     "a=rtcp-fb:96 nack\r\na=sendonly\r\n"
                     "m=text 9 RTP/AVP 98\r\na=mid:t\r\n"
                     "m=audio 9 RTP/SAVPF 8\r\na=mid:0\r\n";
    struct sdp *s = parse_ok(in, strlen(in));
    struct sdp_transport t = our_transport(SDP_SETUP_PASSIVE);
    ASSERT_EQ(sdp_merge_transport(s, &t), 0);
    ASSERT(s->connection == NULL);
    ASSERT_STREQ(s->media[0].mid, "0_0"); /* its index, but "0" is taken */
    ASSERT(s->media[0].rtcp == NULL);
    ASSERT_EQ(s->media[1].port, 0);
    ASSERT_EQ(s->media[1].n_codecs, 1);
    ASSERT_STREQ(s->media[1].mid, "1");
    ASSERT_EQ(s->media[1].dir, SDP_DIR_INACTIVE); /* as Janus; aiortc wants one */
    ASSERT(s->media[1].rtcp_mux);
    ASSERT_EQ(s->media[2].port, 0); /* not audio, video or application */
    ASSERT_EQ(s->n_bundle_mids, 2);
    ASSERT_STREQ(s->bundle_mids[0], "0_0");
    ASSERT_STREQ(s->bundle_mids[1], "0");
    char *out = write_ok(s);
    struct sdp *again = parse_ok(out, strlen(out));
    check_merged(again, SDP_SETUP_PASSIVE);
    free(out);
    sdp_free(again);
    sdp_free(s);
}

static struct sdp *answer_to(const char *sample, const struct sdp_answer_opts *o)
{
    struct sdp *offer = parse_sample(sample), *a = NULL;
    ASSERT_EQ(sdp_anonymize(offer), 0);
    ASSERT_EQ(sdp_answer_generate(offer, o, &a), 0);
    ASSERT_EQ(a->n_media, offer->n_media);
    for (size_t i = 0; i < a->n_media; i++) {
        ASSERT_STREQ(a->media[i].mid, offer->media[i].mid);
        ASSERT_STREQ(a->media[i].proto, offer->media[i].proto);
        ASSERT_EQ(a->media[i].type, offer->media[i].type);
    }
    sdp_free(offer);
    /* what we hand out must survive writing and parsing */
    char *text = write_ok(a);
    struct sdp *b = parse_ok(text, strlen(text));
    char *again = write_ok(b);
    ASSERT_STREQ(again, text);
    free(again);
    free(text);
    sdp_free(a);
    return b;
}

static void test_answer_chromium(void)
{
    struct sdp *a = answer_to("chromium_offer.sdp", NULL);
    const struct sdp_media *au = &a->media[0], *v = &a->media[1], *d = &a->media[2];
    ASSERT_EQ(au->port, 9);
    ASSERT_EQ(au->n_codecs, 1);
    ASSERT_EQ(au->codecs[0].pt, 111);
    ASSERT_STREQ(au->codecs[0].name, "opus");
    ASSERT_STREQ(au->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    ASSERT_EQ(au->dir, SDP_DIR_SENDRECV);
    ASSERT(au->rtcp_rsize);
    ASSERT_EQ(sdp_media_extmap_id(au, SDP_EXT_AUDIO_LEVEL), 1);
    ASSERT_EQ(sdp_media_extmap_id(au, SDP_EXT_MID), 4);
    ASSERT_EQ(sdp_media_extmap_id(au, SDP_EXT_TRANSPORT_CC), 3);
    ASSERT_EQ(v->n_codecs, 2);
    ASSERT_EQ(v->codecs[0].pt, 96);
    ASSERT_EQ(v->codecs[0].n_fb, 5);
    ASSERT_EQ(sdp_media_rtx_pt(v, 96), 97);
    ASSERT_EQ(v->n_extmaps, 7); /* not toffset, content type, timing, color space */
    ASSERT_EQ(sdp_media_extmap_id(v, "urn:ietf:params:rtp-hdrext:toffset"), -ENOENT);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_VIDEO_ORIENTATION), 13);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_PLAYOUT_DELAY), 5);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_REPAIRED_RID), 11);
    ASSERT_EQ(v->n_rids, 0);
    ASSERT_EQ(d->port, 0); /* data channels rejected by default */
    ASSERT_STREQ(d->fmts[0], "webrtc-datachannel");
    ASSERT(a->bundle);
    ASSERT_EQ(a->n_bundle_mids, 2);
    ASSERT(a->extmap_allow_mixed);
    ASSERT(!au->ice_ufrag && au->n_cands == 0 && au->setup == SDP_SETUP_NONE);
    sdp_free(a);

    struct sdp_answer_opts o = {.accept_data = true, .no_rtx = true, .dir = SDP_DIR_RECVONLY};
    a = answer_to("chromium_offer.sdp", &o);
    ASSERT_EQ(a->media[0].dir, SDP_DIR_RECVONLY);
    ASSERT_EQ(a->media[1].n_codecs, 1);
    ASSERT_EQ(a->media[2].port, 9);
    ASSERT_EQ(a->media[2].sctp_port, 5000);
    ASSERT_EQ(a->media[2].max_msg_size, 262144);
    ASSERT_EQ(a->n_bundle_mids, 3);
    sdp_free(a);
}

static void test_answer_codec_choice(void)
{
    const char *h264[] = {"h264", "opus"};
    struct sdp_answer_opts o = {.codecs = h264, .n_codecs = 2, .h264_profile = "42e01f"};
    struct sdp *a = answer_to("chromium_offer.sdp", &o);
    ASSERT_EQ(a->media[1].codecs[0].pt, 108);
    ASSERT(strstr(a->media[1].codecs[0].fmtp, "profile-level-id=42e01f"));
    ASSERT_EQ(sdp_media_rtx_pt(&a->media[1], 108), 109);
    ASSERT_EQ(a->media[0].codecs[0].pt, 111);
    sdp_free(a);

    const char *vp9[] = {"vp9"};
    o = (struct sdp_answer_opts){.codecs = vp9, .n_codecs = 1, .vp9_profile = "2"};
    a = answer_to("chromium_offer.sdp", &o);
    ASSERT_EQ(a->media[1].codecs[0].pt, 100);
    ASSERT_EQ(a->media[0].port, 0); /* no audio codec in the list */
    ASSERT_EQ(a->n_bundle_mids, 1);
    sdp_free(a);

    const char *g711[] = {"pcma", "pcmu", "av1"};
    o = (struct sdp_answer_opts){.codecs = g711, .n_codecs = 3, .reject_video = true};
    a = answer_to("chromium_offer.sdp", &o);
    ASSERT_EQ(a->media[0].codecs[0].pt, 8);
    ASSERT_EQ(a->media[1].port, 0);
    sdp_free(a);

    /* aiortc: opus 96, VP8 97 with rtx 98, its own extension ids */
    a = answer_to("aiortc_offer.sdp", NULL);
    ASSERT_EQ(a->media[0].codecs[0].pt, 96);
    ASSERT_EQ(a->media[1].codecs[0].pt, 97);
    ASSERT_EQ(a->media[1].codecs[1].pt, 98);
    ASSERT_EQ(a->media[1].codecs[1].apt, 97);
    ASSERT_EQ(sdp_media_extmap_id(&a->media[1], SDP_EXT_ABS_SEND_TIME), 2);
    sdp_free(a);

    /* nothing we know: rejected */
    const char *odd = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                      "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 speex/8000\r\na=mid:a\r\n"
                      "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=rtpmap:97 VP8/90000\r\na=mid:v\r\n"
                      "a=recvonly\r\nm=video 0 UDP/TLS/RTP/SAVPF 97\r\na=mid:z\r\n"
                      "m=message 9 TCP/MSRP *\r\na=mid:m\r\n";
    struct sdp *offer = parse_ok(odd, strlen(odd));
    o = (struct sdp_answer_opts){.dir = SDP_DIR_RECVONLY, .sess_id = 99};
    ASSERT_EQ(sdp_answer_generate(offer, &o, &a), 0);
    ASSERT_UEQ(a->sess_id, 99);
    ASSERT_EQ(a->media[0].port, 0);
    ASSERT_EQ(a->media[1].port, 9);
    ASSERT_EQ(a->media[1].dir, SDP_DIR_INACTIVE); /* they only receive, we only receive */
    ASSERT_EQ(a->media[2].port, 0);
    ASSERT_EQ(a->media[3].port, 0);
    ASSERT_STREQ(a->media[3].fmts[0], "*");
    ASSERT_EQ(a->n_bundle_mids, 1);
    sdp_free(a);
    ASSERT_EQ(sdp_answer_generate(NULL, &o, &a), -EINVAL);
    ASSERT_EQ(sdp_answer_generate(offer, &o, NULL), -EINVAL);
    sdp_free(offer);
}

static void test_answer_simulcast_and_firefox(void)
{
    struct sdp *a = answer_to("chromium_offer_simulcast.sdp", NULL);
    const struct sdp_media *v = &a->media[1];
    ASSERT_EQ(v->dir, SDP_DIR_RECVONLY);
    ASSERT_EQ(v->n_rids, 3);
    ASSERT(v->rids[0].recv && v->rids[2].recv);
    ASSERT_STREQ(v->rids[1].id, "m");
    ASSERT(v->rids[1].params == NULL);
    ASSERT_STREQ(v->simulcast, "recv h;m;l");
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_RID), 10);
    sdp_free(a);
    struct sdp_answer_opts o = {.no_simulcast = true};
    a = answer_to("chromium_offer_simulcast.sdp", &o);
    ASSERT_EQ(a->media[1].n_rids, 0);
    ASSERT(a->media[1].simulcast == NULL);
    sdp_free(a);

    a = answer_to("firefox_offer_handwritten.sdp", NULL);
    ASSERT_EQ(a->media[0].codecs[0].pt, 109);
    ASSERT_EQ(a->media[0].dir, SDP_DIR_SENDRECV); /* the session's sendrecv */
    ASSERT_EQ(a->media[0].extmaps[0].id, 1);
    ASSERT_EQ(a->media[0].n_extmaps, 2); /* not csrc-audio-level */
    const struct sdp_media *fv = &a->media[1];
    ASSERT_EQ(fv->codecs[0].pt, 120);
    ASSERT_EQ(fv->codecs[1].pt, 124);
    int pd = sdp_media_extmap_id(fv, SDP_EXT_PLAYOUT_DELAY);
    ASSERT_EQ(pd, 6);
    for (size_t i = 0; i < fv->n_extmaps; i++)
        if (fv->extmaps[i].id == 6)
            ASSERT_EQ(fv->extmaps[i].dir, SDP_DIR_SENDONLY); /* their recvonly */
    ASSERT_EQ(a->media[2].port, 0);
    sdp_free(a);
}

static void test_answer_then_merge(void)
{
    struct sdp *a = answer_to("chromium_offer.sdp", NULL);
    struct sdp_transport t = our_transport(SDP_SETUP_ACTIVE);
    ASSERT_EQ(sdp_merge_transport(a, &t), 0);
    char *text = write_ok(a);
    struct sdp *b = parse_ok(text, strlen(text));
    check_merged(b, SDP_SETUP_ACTIVE);
    ASSERT_EQ(b->media[2].port, 0);
    ASSERT_STREQ(b->media[2].mid, "2");
    free(text);
    sdp_free(b);
    sdp_free(a);
}

static const char *const vext[] = {SDP_EXT_MID, SDP_EXT_ABS_SEND_TIME, SDP_EXT_TRANSPORT_CC};
static const char *const aext[] = {SDP_EXT_MID, SDP_EXT_AUDIO_LEVEL, SDP_EXT_TRANSPORT_CC};

static void test_offer_generate(void)
{
    struct sdp_stream st[4] = {
        {.kind = SDP_MEDIA_AUDIO,
         .mid = "a0",
         .codec = "opus",
         .pt = 111,
         .fmtp = "minptime=10;useinbandfec=1",
         .ssrc = 1111,
         .msid = "feed1 audio",
         .ext_uris = aext,
         .n_ext_uris = 3},
        {.kind = SDP_MEDIA_VIDEO,
         .mid = "v0",
         .codec = "VP8",
         .pt = 96,
         .rtx_pt = 97,
         .ssrc = 2222,
         .rtx_ssrc = 3333,
         .cname = "feed1",
         .msid = "feed1 video",
         .ext_uris = vext,
         .n_ext_uris = 3},
        {.kind = SDP_MEDIA_VIDEO,
         .mid = "v1",
         .codec = "H264",
         .pt = 102,
         .fmtp = "profile-level-id=42e01f;packetization-mode=1",
         .disabled = true},
        {.kind = SDP_MEDIA_APPLICATION, .mid = "d"},
    };
    struct sdp *s = NULL;
    ASSERT_EQ(sdp_offer_generate(st, 4, 12345, &s), 0);
    char *text = write_ok(s);
    sdp_free(s);
    s = parse_ok(text, strlen(text));
    ASSERT_UEQ(s->sess_id, 12345);
    ASSERT_EQ(s->n_bundle_mids, 3);
    ASSERT_STREQ(s->bundle_mids[2], "d");
    const struct sdp_media *a = &s->media[0], *v = &s->media[1], *h = &s->media[2];
    ASSERT_EQ(a->dir, SDP_DIR_SENDONLY);
    ASSERT_EQ(a->codecs[0].clock_rate, 48000);
    ASSERT_EQ(a->codecs[0].channels, 2);
    ASSERT_STREQ(a->codecs[0].fb[0], "transport-cc");
    ASSERT_EQ(a->n_ssrcs, 2);
    ASSERT_STREQ(a->ssrcs[0].value, "verbatim");
    ASSERT_STREQ(a->ssrcs[1].value, "feed1 audio");
    ASSERT_STREQ(a->msid, "feed1 audio");
    /* one id per URI across the bundle */
    ASSERT_EQ(sdp_media_extmap_id(a, SDP_EXT_MID), 1);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_MID), 1);
    ASSERT_EQ(sdp_media_extmap_id(a, SDP_EXT_AUDIO_LEVEL), 2);
    ASSERT_EQ(sdp_media_extmap_id(a, SDP_EXT_TRANSPORT_CC), 3);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_TRANSPORT_CC), 3);
    ASSERT_EQ(sdp_media_extmap_id(v, SDP_EXT_ABS_SEND_TIME), 4);
    ASSERT_EQ(v->codecs[0].n_fb, 5);
    ASSERT_EQ(sdp_media_rtx_pt(v, 96), 97);
    ASSERT_EQ(v->n_ssrc_groups, 1);
    ASSERT_UEQ(v->ssrc_groups[0].ssrcs[1], 3333);
    ASSERT_EQ(v->n_ssrcs, 4);
    ASSERT(v->rtcp_mux && v->rtcp_rsize);
    ASSERT_EQ(h->port, 0);
    ASSERT_EQ(h->dir, SDP_DIR_INACTIVE);
    ASSERT_STREQ(s->media[3].proto, "UDP/DTLS/SCTP");
    ASSERT_EQ(s->media[3].sctp_port, 5000);
    struct sdp_transport t = our_transport(SDP_SETUP_ACTPASS);
    ASSERT_EQ(sdp_merge_transport(s, &t), 0);
    ASSERT_EQ(s->media[2].n_codecs, 1);
    free(text);
    text = write_ok(s);
    sdp_free(s);
    s = parse_ok(text, strlen(text));
    check_merged(s, SDP_SETUP_ACTPASS);
    sdp_free(s);
    free(text);
}

static void test_offer_errors(void)
{
    struct sdp_stream ok = {.kind = SDP_MEDIA_AUDIO, .mid = "a", .codec = "opus", .pt = 111};
    struct sdp *s = NULL;
    struct sdp_stream st[2];
    const char *many[15] = {"urn:x:0", "urn:x:1", "urn:x:2", "urn:x:3", "urn:x:4",
                            "urn:x:5", "urn:x:6", "urn:x:7", "urn:x:8", "urn:x:9",
                            "urn:x:a", "urn:x:b", "urn:x:c", "urn:x:d", "urn:x:e"};
    for (int i = 0; i < 11; i++) {
        st[0] = ok;
        st[1] = ok;
        st[1].mid = "b";
        switch (i) {
        case 0:
            st[1].mid = "a";
            break;
        case 1:
            st[1].mid = NULL;
            break;
        case 2:
            st[1].pt = 128;
            break;
        case 3:
            st[1].mid = "has space";
            break;
        case 4:
            st[1].fmtp = "x=1\r\na=evil";
            break;
        case 5:
            st[1].ext_uris = many;
            st[1].n_ext_uris = 15;
            break;
        case 6:
            st[1].kind = SDP_MEDIA_OTHER;
            break;
        case 7:
            st[1].codec = "opus/48000";
            break;
        case 8:
            st[1].rtx_pt = 111;
            break;
        case 9:
            st[1].msid = " ";
            break;
        case 10:
            st[1].codec = NULL;
            break;
        }
        if (sdp_offer_generate(st, 2, 1, &s) != -EINVAL || s != NULL)
            TEST_FAIL_("offer case %d accepted", i);
    }
    st[0] = ok;
    st[0].ext_uris = many;
    st[0].n_ext_uris = 14;
    ASSERT_EQ(sdp_offer_generate(st, 1, 1, &s), 0);
    ASSERT_EQ(s->media[0].n_extmaps, 14);
    sdp_free(s);
    ASSERT_EQ(sdp_offer_generate(NULL, 1, 1, &s), -EINVAL);
    ASSERT_EQ(sdp_offer_generate(st, 65, 1, &s), -EINVAL);
    ASSERT_EQ(sdp_offer_generate(st, 0, 1, &s), 0);
    ASSERT_EQ(s->n_media, 0);
    sdp_free(s);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"anonymize_samples", test_anonymize_samples},
        {"merge_samples", test_merge_samples},
        {"merge_errors", test_merge_errors},
        {"merge_mids_and_rejected", test_merge_mids_and_rejected},
        {"answer_chromium", test_answer_chromium},
        {"answer_codec_choice", test_answer_codec_choice},
        {"answer_simulcast_and_firefox", test_answer_simulcast_and_firefox},
        {"answer_then_merge", test_answer_then_merge},
        {"offer_generate", test_offer_generate},
        {"offer_errors", test_offer_errors},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
