/* This file implements sdp_answer_generate(): an answer to a peer's offer for a plugin that
 * sends back what it gets, like Janus's EchoTest with janus_sdp_generate_answer(). Each offered
 * m-line gets one in the answer, in order and with the same mid: audio and video are accepted
 * with one codec (the first of the preference list that was offered, with its rtx), the offered
 * extensions we keep, and the reversed direction; data channels are rejected unless asked for;
 * everything else is rejected with port 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "gateway/sdp/sdp_internal.h"

static const char *const default_codecs[] = {"opus", "vp8",  "vp9", "h264", "g722",
                                             "pcmu", "pcma", "av1", "h265"};

static const char *const default_exts[] = {
    SDP_EXT_MID,
    SDP_EXT_RID,
    SDP_EXT_REPAIRED_RID,
    SDP_EXT_AUDIO_LEVEL,
    SDP_EXT_VIDEO_ORIENTATION,
    SDP_EXT_ABS_SEND_TIME,
    SDP_EXT_TRANSPORT_CC,
    SDP_EXT_PLAYOUT_DELAY,
};

/* The RTCP feedback we answer to (what the RTP layer implements). */
static const char *const kept_fb[] = {"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"};

static enum sdp_media_type codec_kind(const char *name)
{
    static const char *const audio[] = {"opus", "g722", "pcmu", "pcma", "multiopus"};
    static const char *const video[] = {"vp8", "vp9", "h264", "av1", "h265"};
    for (size_t i = 0; i < sizeof audio / sizeof audio[0]; i++)
        if (strcasecmp(name, audio[i]) == 0)
            return SDP_MEDIA_AUDIO;
    for (size_t i = 0; i < sizeof video / sizeof video[0]; i++)
        if (strcasecmp(name, video[i]) == 0)
            return SDP_MEDIA_VIDEO;
    return SDP_MEDIA_OTHER;
}

static int pick_codec(const struct sdp_media *om, const struct sdp_answer_opts *o)
{
    const char *const *list = o->codecs ? o->codecs : default_codecs;
    size_t n = o->codecs ? o->n_codecs : sizeof default_codecs / sizeof default_codecs[0];
    for (size_t i = 0; i < n; i++) {
        if (!list[i] || codec_kind(list[i]) != om->type)
            continue;
        const char *profile = strcasecmp(list[i], "h264") == 0  ? o->h264_profile
                              : strcasecmp(list[i], "vp9") == 0 ? o->vp9_profile
                                                                : NULL;
        int pt = sdp_media_find_codec(om, list[i], profile);
        if (pt >= 0)
            return pt;
    }
    return -ENOENT;
}

static enum sdp_direction answer_dir(enum sdp_direction offered, enum sdp_direction want)
{
    if (want == SDP_DIR_NONE)
        want = SDP_DIR_SENDRECV;
    bool we_send = want == SDP_DIR_SENDRECV || want == SDP_DIR_SENDONLY;
    bool we_recv = want == SDP_DIR_SENDRECV || want == SDP_DIR_RECVONLY;
    switch (offered) {
    case SDP_DIR_SENDONLY:
        return we_recv ? SDP_DIR_RECVONLY : SDP_DIR_INACTIVE;
    case SDP_DIR_RECVONLY:
        return we_send ? SDP_DIR_SENDONLY : SDP_DIR_INACTIVE;
    case SDP_DIR_INACTIVE:
        return SDP_DIR_INACTIVE;
    default:
        return want;
    }
}

static enum sdp_direction reverse(enum sdp_direction d)
{
    return d == SDP_DIR_SENDONLY ? SDP_DIR_RECVONLY : d == SDP_DIR_RECVONLY ? SDP_DIR_SENDONLY : d;
}

static void copy_codec(struct sdp_media *am, const struct sdp_codec *oc)
{
    struct sdp_codec *c = sdp_codec_add(am, oc->pt, oc->name, oc->clock_rate, oc->channels);
    if (oc->fmtp)
        sdp_codec_set_fmtp(c, oc->fmtp);
    for (size_t i = 0; i < oc->n_fb; i++)
        for (size_t k = 0; k < sizeof kept_fb / sizeof kept_fb[0]; k++)
            if (strcmp(oc->fb[i], kept_fb[k]) == 0)
                sdp_codec_add_fb(c, oc->fb[i]);
}

static void copy_extmaps(struct sdp_media *am, const struct sdp_media *om,
                         const struct sdp_answer_opts *o)
{
    const char *const *list = o->extmaps ? o->extmaps : default_exts;
    size_t n = o->extmaps ? o->n_extmaps : sizeof default_exts / sizeof default_exts[0];
    for (size_t i = 0; i < om->n_extmaps; i++) {
        const struct sdp_extmap *e = &om->extmaps[i];
        for (size_t k = 0; k < n; k++) {
            if (!list[k] || strcmp(e->uri, list[k]) != 0)
                continue;
            struct sdp_extmap *ae = SDP_PUSH(am->extmaps, am->n_extmaps);
            ae->id = e->id;
            ae->dir = reverse(e->dir);
            ae->uri = xstrdup(e->uri);
            break;
        }
    }
}

/* "send h;m;l" -> "recv h;m;l" (and the other way), word by word. */
static void reverse_simulcast(struct sdp_media *am, const char *offered)
{
    char copy[SDP_MAX_LINE + 1], out[SDP_MAX_LINE + 1], *t[SDP_MAX_LINE / 2];
    snprintf(copy, sizeof copy, "%s", offered);
    int n = sdp_split(copy, t, (int)(sizeof t / sizeof t[0]));
    size_t off = 0;
    out[0] = '\0';
    for (int i = 0; i < n && off < sizeof out; i++) {
        const char *w = strcmp(t[i], "send") == 0   ? "recv"
                        : strcmp(t[i], "recv") == 0 ? "send"
                                                    : t[i];
        off += (size_t)snprintf(out + off, sizeof out - off, "%s%s", i ? " " : "", w);
    }
    if (n > 0 && off < sizeof out)
        sdp_set(&am->simulcast, out);
}

static void copy_simulcast(struct sdp_media *am, const struct sdp_media *om)
{
    if (!om->simulcast || om->n_rids == 0 || sdp_media_extmap_id(am, SDP_EXT_RID) < 0)
        return;
    for (size_t i = 0; i < om->n_rids; i++) {
        struct sdp_rid *r = SDP_PUSH(am->rids, am->n_rids);
        r->id = xstrdup(om->rids[i].id);
        r->recv = !om->rids[i].recv;
    }
    reverse_simulcast(am, om->simulcast);
}

static void answer_rtp(struct sdp_media *am, const struct sdp *offer, const struct sdp_media *om,
                       const struct sdp_answer_opts *o, int pt)
{
    am->port = 9;
    copy_codec(am, sdp_media_codec(om, pt));
    int rtx = o->no_rtx ? -1 : sdp_media_rtx_pt(om, pt);
    if (rtx >= 0)
        copy_codec(am, sdp_media_codec(om, rtx));
    copy_extmaps(am, om, o);
    am->dir = answer_dir(sdp_media_direction(offer, om), o->dir);
    am->rtcp_rsize = om->rtcp_rsize;
    if (!o->no_simulcast)
        copy_simulcast(am, om);
}

static void answer_data(struct sdp_media *am, const struct sdp_media *om)
{
    am->port = 9;
    for (size_t i = 0; i < om->n_fmts; i++) {
        char **slot = SDP_PUSH(am->fmts, am->n_fmts);
        *slot = xstrdup(om->fmts[i]);
    }
    if (om->sctpmap)
        sdp_set(&am->sctpmap, om->sctpmap);
    else
        am->sctp_port = om->sctp_port >= 0 ? om->sctp_port : 5000;
    if (om->max_msg_size >= 0)
        am->max_msg_size = 262144;
}

/* A rejected m-line: port 0 and the first offered format. */
static void answer_rejected(struct sdp_media *am, const struct sdp_media *om)
{
    am->port = 0;
    if (om->rtp && om->n_codecs) {
        const struct sdp_codec *c = &om->codecs[0];
        sdp_codec_add(am, c->pt, c->name, c->clock_rate, c->channels);
    } else if (!om->rtp && om->n_fmts) {
        char **slot = SDP_PUSH(am->fmts, am->n_fmts);
        *slot = xstrdup(om->fmts[0]);
    }
}

static bool wanted(const struct sdp_media *om, const struct sdp_answer_opts *o)
{
    if (om->port == 0)
        return false;
    if (om->type == SDP_MEDIA_AUDIO)
        return om->rtp && !o->reject_audio;
    if (om->type == SDP_MEDIA_VIDEO)
        return om->rtp && !o->reject_video;
    if (om->type == SDP_MEDIA_APPLICATION)
        return o->accept_data && !om->rtp && strstr(om->proto, "SCTP") && om->n_fmts;
    return false;
}

int sdp_answer_generate(const struct sdp *offer, const struct sdp_answer_opts *o, struct sdp **out)
{
    static const struct sdp_answer_opts defaults;
    if (!offer || !out)
        return -EINVAL;
    *out = NULL;
    if (!o)
        o = &defaults;
    if (offer->n_media > SDP_MAX_MEDIA)
        return -EINVAL;
    struct sdp *a = sdp_new(o->sess_id ? o->sess_id : 1);
    a->extmap_allow_mixed = offer->extmap_allow_mixed;
    if (offer->msid_semantic)
        a->msid_semantic = xstrdup(offer->msid_semantic);
    a->bundle = true;
    for (size_t i = 0; i < offer->n_media; i++) {
        const struct sdp_media *om = &offer->media[i];
        struct sdp_media *am = sdp_media_add(a, om->type, om->proto);
        sdp_set(&am->type_name, om->type_name);
        if (om->mid)
            am->mid = xstrdup(om->mid);
        int pt = -ENOENT;
        if (wanted(om, o) && om->type != SDP_MEDIA_APPLICATION)
            pt = pick_codec(om, o);
        if (pt >= 0)
            answer_rtp(am, offer, om, o, pt);
        else if (wanted(om, o) && om->type == SDP_MEDIA_APPLICATION)
            answer_data(am, om);
        else
            answer_rejected(am, om);
        if (am->port && am->mid) {
            char **slot = SDP_PUSH(a->bundle_mids, a->n_bundle_mids);
            *slot = xstrdup(am->mid);
        }
    }
    *out = a;
    return 0;
}
