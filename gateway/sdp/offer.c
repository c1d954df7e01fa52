/* This file implements sdp_offer_generate(): the offer a subscriber gets (Janus's VideoRoom
 * builds the same with janus_sdp_generate_offer_mline()), one m-line per relayed stream with the
 * publisher's codec, payload type and fmtp, our SSRCs and msid, and sendonly by default.
 *
 * DESIGN: header extension ids are given per URI for the whole offer (the first URI seen gets
 * 1, the next 2, ...), because BUNDLE needs one id per URI across m-lines; Chromium rejects an
 * offer that maps one id to two URIs. Only one-byte ids (1..14) are handed out. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "gateway/sdp/sdp_internal.h"

#define MAX_EXT_IDS 14

struct ext_ids {
    const char *uri[MAX_EXT_IDS];
    size_t n;
};

/* The id of `uri`, given now when new; -EINVAL when past the one-byte range. */
static int ext_id(struct ext_ids *ids, const char *uri)
{
    for (size_t i = 0; i < ids->n; i++)
        if (strcmp(ids->uri[i], uri) == 0)
            return (int)i + 1;
    if (ids->n == MAX_EXT_IDS)
        return -EINVAL;
    ids->uri[ids->n++] = uri;
    return (int)ids->n;
}

/* A value SDP can carry: no CR or LF, not only blanks, no trailing blank. */
static bool printable(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n < SDP_MAX_LINE / 2 && !strpbrk(s, "\r\n") && s[n - 1] != ' ' &&
           s[n - 1] != '\t' && strspn(s, " \t") < n;
}

static int check_stream(const struct sdp_stream *st, const struct sdp_stream *all, size_t idx)
{
    if (!sdp_is_token(st->mid) || strlen(st->mid) > 64)
        return -EINVAL;
    for (size_t i = 0; i < idx; i++)
        if (strcmp(all[i].mid, st->mid) == 0)
            return -EINVAL;
    if (st->kind == SDP_MEDIA_APPLICATION)
        return 0;
    if (st->kind != SDP_MEDIA_AUDIO && st->kind != SDP_MEDIA_VIDEO)
        return -EINVAL;
    if (!sdp_is_token(st->codec) || strchr(st->codec, '/') || strlen(st->codec) > 64)
        return -EINVAL;
    if (st->pt < 0 || st->pt > 127 || st->rtx_pt < 0 || st->rtx_pt > 127 ||
        (st->rtx_pt && st->rtx_pt == st->pt) || st->channels > 255)
        return -EINVAL;
    if ((st->fmtp && !printable(st->fmtp)) || (st->msid && !printable(st->msid)) ||
        (st->cname && (!sdp_is_token(st->cname) || strlen(st->cname) > 255)))
        return -EINVAL;
    if (st->n_ext_uris && !st->ext_uris)
        return -EINVAL;
    for (size_t i = 0; i < st->n_ext_uris; i++)
        if (!sdp_is_token(st->ext_uris[i]) || strlen(st->ext_uris[i]) > 512)
            return -EINVAL;
    return 0;
}

static uint32_t default_clock(const char *codec)
{
    if (strcasecmp(codec, "opus") == 0)
        return 48000;
    if (strcasecmp(codec, "pcmu") == 0 || strcasecmp(codec, "pcma") == 0 ||
        strcasecmp(codec, "g722") == 0)
        return 8000;
    return 90000;
}

static void add_ssrc(struct sdp_media *m, uint32_t ssrc, const char *attr, const char *value)
{
    struct sdp_ssrc *s = SDP_PUSH(m->ssrcs, m->n_ssrcs);
    s->ssrc = ssrc;
    s->attr = xstrdup(attr);
    s->value = xstrdup(value);
}

static void add_ssrcs(struct sdp_media *m, const struct sdp_stream *st)
{
    const char *cname = st->cname ? st->cname : "verbatim";
    if (st->ssrc && st->rtx_ssrc && st->rtx_pt) {
        struct sdp_ssrc_group *g = SDP_PUSH(m->ssrc_groups, m->n_ssrc_groups);
        g->semantics = xstrdup("FID");
        g->ssrcs = xmalloc(2 * sizeof *g->ssrcs);
        g->ssrcs[0] = st->ssrc;
        g->ssrcs[1] = st->rtx_ssrc;
        g->n_ssrcs = 2;
    }
    uint32_t ssrcs[2] = {st->ssrc, st->rtx_pt ? st->rtx_ssrc : 0};
    for (int i = 0; i < 2; i++) {
        if (!ssrcs[i])
            continue;
        add_ssrc(m, ssrcs[i], "cname", cname);
        if (st->msid)
            add_ssrc(m, ssrcs[i], "msid", st->msid);
    }
}

static int add_rtp(struct sdp_media *m, const struct sdp_stream *st, struct ext_ids *ids)
{
    bool video = st->kind == SDP_MEDIA_VIDEO;
    unsigned ch = st->channels ? st->channels : strcasecmp(st->codec, "opus") == 0 ? 2 : 0;
    uint32_t clock = st->clock_rate ? st->clock_rate : default_clock(st->codec);
    struct sdp_codec *c = sdp_codec_add(m, st->pt, st->codec, clock, ch);
    if (st->fmtp)
        sdp_codec_set_fmtp(c, st->fmtp);
    if (video) {
        sdp_codec_add_fb(c, "ccm fir");
        sdp_codec_add_fb(c, "nack");
        sdp_codec_add_fb(c, "nack pli");
        sdp_codec_add_fb(c, "goog-remb");
    }
    sdp_codec_add_fb(c, "transport-cc");
    if (st->rtx_pt) {
        char apt[16];
        snprintf(apt, sizeof apt, "apt=%d", st->pt);
        sdp_codec_set_fmtp(sdp_codec_add(m, st->rtx_pt, "rtx", clock, 0), apt);
    }
    for (size_t i = 0; i < st->n_ext_uris; i++) {
        int id = ext_id(ids, st->ext_uris[i]);
        if (id < 0)
            return id;
        if (sdp_media_extmap_id(m, st->ext_uris[i]) >= 0)
            continue;
        struct sdp_extmap *e = SDP_PUSH(m->extmaps, m->n_extmaps);
        e->id = (unsigned)id;
        e->uri = xstrdup(st->ext_uris[i]);
    }
    if (st->msid)
        m->msid = xstrdup(st->msid);
    m->rtcp_mux = m->rtcp_rsize = true;
    add_ssrcs(m, st);
    return 0;
}

static int add_stream(struct sdp *s, const struct sdp_stream *st, struct ext_ids *ids)
{
    bool data = st->kind == SDP_MEDIA_APPLICATION;
    struct sdp_media *m = sdp_media_add(s, st->kind, data ? "UDP/DTLS/SCTP" : "UDP/TLS/RTP/SAVPF");
    m->port = st->disabled ? 0 : 9;
    m->mid = xstrdup(st->mid);
    if (data) {
        char **slot = SDP_PUSH(m->fmts, m->n_fmts);
        *slot = xstrdup("webrtc-datachannel");
        m->sctp_port = 5000;
        m->max_msg_size = 262144;
    } else {
        int rc = add_rtp(m, st, ids);
        if (rc < 0)
            return rc;
        m->dir = st->disabled              ? SDP_DIR_INACTIVE
                 : st->dir == SDP_DIR_NONE ? SDP_DIR_SENDONLY
                                           : st->dir;
    }
    if (!st->disabled) {
        char **slot = SDP_PUSH(s->bundle_mids, s->n_bundle_mids);
        *slot = xstrdup(st->mid);
    }
    return 0;
}

int sdp_offer_generate(const struct sdp_stream *streams, size_t n, uint64_t sess_id,
                       struct sdp **out)
{
    if (!out || (n && !streams) || n > SDP_MAX_MEDIA)
        return -EINVAL;
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (check_stream(&streams[i], streams, i) < 0)
            return -EINVAL;
    struct sdp *s = sdp_new(sess_id);
    s->bundle = true;
    s->msid_semantic = xstrdup("WMS *");
    struct ext_ids ids = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        int rc = add_stream(s, &streams[i], &ids);
        if (rc < 0) {
            sdp_free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}
