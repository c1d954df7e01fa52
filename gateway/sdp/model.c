/* This file implements the SDP model's memory handling (creation, growth, freeing, copies) and
 * its pure look-ups: media by mid, payload type by codec (with the H.264 and VP9 profile rules),
 * codec of a payload type, rtx of a payload type, extension id by URI, effective direction.
 *
 * DESIGN: every array in the model grows only through sdp_grow(), which keeps the capacity at
 * the next power of two of the count; this saves a capacity field per array, and removals
 * (sdp_remove) only lower the count, which keeps the invariant. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "gateway/sdp/sdp_internal.h"

static bool is_pow2_or_zero(size_t n)
{
    return (n & (n - 1)) == 0;
}

void *sdp_grow(void *arr, size_t n, size_t elem)
{
    if (is_pow2_or_zero(n))
        arr = xrealloc(arr, (n ? 2 * n : 1) * elem);
    memset((char *)arr + n * elem, 0, elem);
    return arr;
}

void sdp_set(char **dst, const char *s)
{
    char *old = *dst;
    *dst = s ? xstrdup(s) : NULL;
    free(old);
}

void sdp_setn(char **dst, const char *s, size_t n)
{
    char *c = xmalloc(n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    free(*dst);
    *dst = c;
}

void sdp_attr_push(struct sdp_attr **arr, size_t *n, const char *name, const char *value)
{
    struct sdp_attr *a = SDP_PUSH(*arr, *n);
    a->name = xstrdup(name);
    a->value = value ? xstrdup(value) : NULL;
}

void sdp_remove(void *arr, size_t *n, size_t i, size_t elem)
{
    char *p = arr;
    memmove(p + i * elem, p + (i + 1) * elem, (*n - i - 1) * elem);
    (*n)--;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_attrs(struct sdp_attr *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].value);
    }
    free(a);
}

static void free_lines(struct sdp_line *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i].value);
    free(l);
}

void sdp_fingerprint_clear(struct sdp_fingerprint *f)
{
    free(f->hash);
    free(f->value);
    f->hash = f->value = NULL;
}

void sdp_candidate_clear(struct sdp_candidate *c)
{
    free(c->raw);
    free(c->foundation);
    free(c->transport);
    free(c->address);
    free(c->type);
    free(c->raddr);
    memset(c, 0, sizeof *c);
}

void sdp_codec_clear(struct sdp_codec *c)
{
    free(c->name);
    free(c->fmtp);
    free_strv(c->fb, c->n_fb);
    memset(c, 0, sizeof *c);
}

void sdp_media_clear(struct sdp_media *m)
{
    free(m->type_name);
    free(m->proto);
    for (size_t i = 0; i < m->n_codecs; i++)
        sdp_codec_clear(&m->codecs[i]);
    free(m->codecs);
    free_strv(m->fmts, m->n_fmts);
    free(m->connection);
    free_strv(m->bandwidth, m->n_bandwidth);
    free_lines(m->extra, m->n_extra);
    free(m->mid);
    free(m->rtcp);
    free(m->ice_ufrag);
    free(m->ice_pwd);
    free(m->ice_options);
    sdp_fingerprint_clear(&m->fingerprint);
    for (size_t i = 0; i < m->n_cands; i++)
        sdp_candidate_clear(&m->cands[i]);
    free(m->cands);
    for (size_t i = 0; i < m->n_extmaps; i++) {
        free(m->extmaps[i].uri);
        free(m->extmaps[i].params);
    }
    free(m->extmaps);
    free(m->msid);
    for (size_t i = 0; i < m->n_ssrcs; i++) {
        free(m->ssrcs[i].attr);
        free(m->ssrcs[i].value);
    }
    free(m->ssrcs);
    for (size_t i = 0; i < m->n_ssrc_groups; i++) {
        free(m->ssrc_groups[i].semantics);
        free(m->ssrc_groups[i].ssrcs);
    }
    free(m->ssrc_groups);
    for (size_t i = 0; i < m->n_rids; i++) {
        free(m->rids[i].id);
        free(m->rids[i].params);
    }
    free(m->rids);
    free(m->simulcast);
    free(m->sctpmap);
    free_attrs(m->attrs, m->n_attrs);
    memset(m, 0, sizeof *m);
}

void sdp_free(struct sdp *sdp)
{
    if (!sdp)
        return;
    free(sdp->origin_user);
    free(sdp->origin_nettype);
    free(sdp->origin_addrtype);
    free(sdp->origin_addr);
    free(sdp->name);
    free(sdp->connection);
    free_strv(sdp->bandwidth, sdp->n_bandwidth);
    free_lines(sdp->extra, sdp->n_extra);
    free_strv(sdp->bundle_mids, sdp->n_bundle_mids);
    free(sdp->ice_ufrag);
    free(sdp->ice_pwd);
    free(sdp->ice_options);
    sdp_fingerprint_clear(&sdp->fingerprint);
    free(sdp->msid_semantic);
    free_attrs(sdp->attrs, sdp->n_attrs);
    for (size_t i = 0; i < sdp->n_media; i++)
        sdp_media_clear(&sdp->media[i]);
    free(sdp->media);
    free(sdp);
}

struct sdp *sdp_new(uint64_t sess_id)
{
    struct sdp *s = xcalloc(1, sizeof *s);
    s->origin_user = xstrdup("-");
    s->sess_id = sess_id;
    s->sess_version = 1;
    s->origin_nettype = xstrdup("IN");
    s->origin_addrtype = xstrdup("IP4");
    s->origin_addr = xstrdup("0.0.0.0");
    s->name = xstrdup("-");
    return s;
}

int sdp_dup(const struct sdp *sdp, struct sdp **out)
{
    char *text;
    size_t len;
    int rc = sdp_write(sdp, &text, &len);
    if (rc < 0)
        return rc;
    rc = sdp_parse(text, len, out, NULL, 0);
    free(text);
    return rc;
}

const char *sdp_media_type_name(enum sdp_media_type t)
{
    switch (t) {
    case SDP_MEDIA_AUDIO:
        return "audio";
    case SDP_MEDIA_VIDEO:
        return "video";
    case SDP_MEDIA_APPLICATION:
        return "application";
    default:
        return "";
    }
}

struct sdp_media *sdp_media_add(struct sdp *sdp, enum sdp_media_type type, const char *proto)
{
    struct sdp_media *m = SDP_PUSH(sdp->media, sdp->n_media);
    m->type = type;
    m->type_name = xstrdup(sdp_media_type_name(type));
    m->proto = xstrdup(proto);
    m->rtp = strstr(proto, "RTP/") != NULL;
    m->sctp_port = -1;
    m->max_msg_size = -1;
    return m;
}

struct sdp_codec *sdp_codec_add(struct sdp_media *m, int pt, const char *name, uint32_t clock,
                                unsigned channels)
{
    struct sdp_codec *c = SDP_PUSH(m->codecs, m->n_codecs);
    c->pt = pt;
    c->name = name ? xstrdup(name) : NULL;
    c->clock_rate = clock;
    c->channels = channels;
    c->apt = -1;
    return c;
}

void sdp_codec_add_fb(struct sdp_codec *c, const char *fb)
{
    char **slot = SDP_PUSH(c->fb, c->n_fb);
    *slot = xstrdup(fb);
}

/* ---- look-ups ---- */

int sdp_find_mid(const struct sdp *sdp, const char *mid)
{
    if (!sdp || !mid)
        return -EINVAL;
    for (size_t i = 0; i < sdp->n_media; i++)
        if (sdp->media[i].mid && strcmp(sdp->media[i].mid, mid) == 0)
            return (int)i;
    return -ENOENT;
}

const struct sdp_codec *sdp_media_codec(const struct sdp_media *m, int pt)
{
    if (!m)
        return NULL;
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

const char *sdp_media_codec_name(const struct sdp_media *m, int pt)
{
    const struct sdp_codec *c = sdp_media_codec(m, pt);
    if (!c)
        return NULL;
    if (c->name)
        return c->name;
    switch (pt) {
    case 0:
        return "PCMU";
    case 8:
        return "PCMA";
    case 9:
        return "G722";
    default:
        return NULL;
    }
}

/* How well an H.264 or VP9 codec entry fits the requested profile: -1 not at all, higher is
 * better. */
static int profile_fit(const struct sdp_codec *c, const char *codec, const char *profile)
{
    char v[64];
    if (strcasecmp(codec, "h264") == 0) {
        bool mode1 =
            sdp_fmtp_param(c->fmtp, "packetization-mode", v, sizeof v) && strcmp(v, "1") == 0;
        if (!profile)
            return mode1 ? 1 : 0;
        if (!mode1 || !sdp_fmtp_param(c->fmtp, "profile-level-id", v, sizeof v))
            return -1;
        return strcasecmp(v, profile) == 0 ? 1 : -1;
    }
    if (strcasecmp(codec, "vp9") == 0 && profile) {
        if (!sdp_fmtp_param(c->fmtp, "profile-id", v, sizeof v))
            return strcmp(profile, "0") == 0 ? 1 : -1;
        return strcmp(v, profile) == 0 ? 1 : -1;
    }
    return 1;
}

int sdp_media_find_codec(const struct sdp_media *m, const char *codec, const char *profile)
{
    if (!m || !codec)
        return -EINVAL;
    int best = -ENOENT, best_fit = -1;
    for (size_t i = 0; i < m->n_codecs; i++) {
        const char *name = sdp_media_codec_name(m, m->codecs[i].pt);
        if (!name || strcasecmp(name, codec) != 0)
            continue;
        int fit = profile_fit(&m->codecs[i], codec, profile);
        if (fit > best_fit) {
            best_fit = fit;
            best = m->codecs[i].pt;
        }
    }
    return best;
}

int sdp_media_rtx_pt(const struct sdp_media *m, int pt)
{
    if (!m)
        return -EINVAL;
    for (size_t i = 0; i < m->n_codecs; i++) {
        const struct sdp_codec *c = &m->codecs[i];
        if (c->name && strcasecmp(c->name, "rtx") == 0 && c->apt == pt)
            return c->pt;
    }
    return -ENOENT;
}

int sdp_media_extmap_id(const struct sdp_media *m, const char *uri)
{
    if (!m || !uri)
        return -EINVAL;
    for (size_t i = 0; i < m->n_extmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0)
            return (int)m->extmaps[i].id;
    return -ENOENT;
}

enum sdp_direction sdp_media_direction(const struct sdp *sdp, const struct sdp_media *m)
{
    if (m && m->dir != SDP_DIR_NONE)
        return m->dir;
    if (sdp && sdp->dir != SDP_DIR_NONE)
        return sdp->dir;
    return SDP_DIR_SENDRECV;
}

const char *sdp_direction_name(enum sdp_direction d)
{
    switch (d) {
    case SDP_DIR_SENDRECV:
        return "sendrecv";
    case SDP_DIR_SENDONLY:
        return "sendonly";
    case SDP_DIR_RECVONLY:
        return "recvonly";
    case SDP_DIR_INACTIVE:
        return "inactive";
    default:
        return "";
    }
}

enum sdp_direction sdp_direction_parse(const char *s)
{
    for (int d = SDP_DIR_SENDRECV; d <= SDP_DIR_INACTIVE; d++)
        if (strcmp(s, sdp_direction_name((enum sdp_direction)d)) == 0)
            return (enum sdp_direction)d;
    return SDP_DIR_NONE;
}

const char *sdp_setup_name(enum sdp_setup s)
{
    switch (s) {
    case SDP_SETUP_ACTPASS:
        return "actpass";
    case SDP_SETUP_ACTIVE:
        return "active";
    case SDP_SETUP_PASSIVE:
        return "passive";
    case SDP_SETUP_HOLDCONN:
        return "holdconn";
    default:
        return "";
    }
}
