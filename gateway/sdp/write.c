/* This file implements sdp_write(): the model to SDP text with CRLF line ends. Typed fields go
 * in a fixed order close to the one browsers use (transport, mid, extensions, direction, msid,
 * RTCP flags, codecs, SSRCs, simulcast, SCTP), then the verbatim attributes in their order, so
 * that parsing the output gives the same model again. A typed attribute is always written
 * before the verbatim ones: a repeated one was kept verbatim because it came second, and must
 * come second again.
 *
 * DESIGN: every line goes through one printf-like function that refuses a line over
 * SDP_MAX_LINE or holding CR/LF and appends to a buffer capped at SDP_MAX_LEN; the first
 * failure sticks, so the writers below do not check each line. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "gateway/sdp/sdp_internal.h"

struct writer {
    struct vb_buf b;
    int rc;
};

static void line(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct writer *w, const char *fmt, ...)
{
    char tmp[SDP_MAX_LINE + 1];
    if (w->rc < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || n > SDP_MAX_LINE) {
        w->rc = -E2BIG;
        return;
    }
    if (memchr(tmp, '\r', (size_t)n) || memchr(tmp, '\n', (size_t)n)) {
        w->rc = -EINVAL;
        return;
    }
    if (vb_buf_put(&w->b, tmp, (size_t)n) < 0 || vb_buf_put(&w->b, "\r\n", 2) < 0)
        w->rc = -E2BIG;
}

/* An attribute with an optional value. */
static void attr(struct writer *w, const char *name, const char *value)
{
    if (value)
        line(w, "a=%s:%s", name, value);
    else
        line(w, "a=%s", name);
}

static void attrs(struct writer *w, const struct sdp_attr *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        attr(w, a[i].name, a[i].value);
}

static void extras(struct writer *w, const struct sdp_line *l, size_t n, const char *types)
{
    for (size_t i = 0; i < n; i++)
        if (strchr(types, l[i].type))
            line(w, "%c=%s", l[i].type, l[i].value);
}

static void bandwidths(struct writer *w, char *const *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        line(w, "b=%s", b[i]);
}

/* What both levels carry: ICE credentials and options, fingerprint, setup. */
static void transport(struct writer *w, const char *ufrag, const char *pwd, const char *opts,
                      const struct sdp_fingerprint *f, enum sdp_setup setup)
{
    if (ufrag)
        attr(w, "ice-ufrag", ufrag);
    if (pwd)
        attr(w, "ice-pwd", pwd);
    if (opts)
        attr(w, "ice-options", opts);
    if (f->hash)
        line(w, "a=fingerprint:%s %s", f->hash, f->value ? f->value : "");
    if (setup != SDP_SETUP_NONE)
        attr(w, "setup", sdp_setup_name(setup));
}

static int write_session(struct writer *w, const struct sdp *s)
{
    if (!sdp_is_token(s->origin_user) || !sdp_is_token(s->origin_nettype) ||
        !sdp_is_token(s->origin_addrtype) || !sdp_is_token(s->origin_addr) || !s->name)
        return -EINVAL;
    line(w, "v=0");
    line(w, "o=%s %" PRIu64 " %" PRIu64 " %s %s %s", s->origin_user, s->sess_id, s->sess_version,
         s->origin_nettype, s->origin_addrtype, s->origin_addr);
    line(w, "s=%s", s->name);
    extras(w, s->extra, s->n_extra, "iuep");
    if (s->connection)
        line(w, "c=%s", s->connection);
    bandwidths(w, s->bandwidth, s->n_bandwidth);
    line(w, "t=%" PRIu64 " %" PRIu64, s->t_start, s->t_stop);
    extras(w, s->extra, s->n_extra, "trzk");
    if (s->bundle) {
        char group[SDP_MAX_LINE + 1];
        size_t off = (size_t)snprintf(group, sizeof group, "BUNDLE");
        for (size_t i = 0; i < s->n_bundle_mids && off < sizeof group; i++)
            off += (size_t)snprintf(group + off, sizeof group - off, " %s", s->bundle_mids[i]);
        if (off >= sizeof group)
            return -E2BIG;
        attr(w, "group", group);
    }
    if (s->ice_lite)
        attr(w, "ice-lite", NULL);
    transport(w, s->ice_ufrag, s->ice_pwd, s->ice_options, &s->fingerprint, s->setup);
    if (s->dir != SDP_DIR_NONE)
        attr(w, sdp_direction_name(s->dir), NULL);
    if (s->extmap_allow_mixed)
        attr(w, "extmap-allow-mixed", NULL);
    if (s->msid_semantic)
        attr(w, "msid-semantic", s->msid_semantic);
    attrs(w, s->attrs, s->n_attrs);
    return 0;
}

static int write_mline(struct writer *w, const struct sdp_media *m)
{
    size_t nf = m->rtp ? m->n_codecs : m->n_fmts;
    if (nf == 0 || nf > SDP_MAX_FORMATS || !sdp_is_token(m->type_name) || !sdp_is_token(m->proto))
        return nf > SDP_MAX_FORMATS ? -E2BIG : -EINVAL;
    char buf[SDP_MAX_LINE + 1];
    size_t off = (size_t)snprintf(buf, sizeof buf, "m=%s %u", m->type_name, m->port);
    if (m->port_count)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "/%u", m->port_count);
    off += (size_t)snprintf(buf + off, sizeof buf - off, " %s", m->proto);
    for (size_t i = 0; i < nf && off < sizeof buf; i++) {
        if (m->rtp)
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %d", m->codecs[i].pt);
        else
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %s", m->fmts[i]);
    }
    if (off >= sizeof buf)
        return -E2BIG;
    line(w, "%s", buf);
    return 0;
}

static void write_codecs(struct writer *w, const struct sdp_media *m)
{
    for (size_t i = 0; i < m->n_codecs; i++) {
        const struct sdp_codec *c = &m->codecs[i];
        if (c->name && c->channels)
            line(w, "a=rtpmap:%d %s/%u/%u", c->pt, c->name, c->clock_rate, c->channels);
        else if (c->name)
            line(w, "a=rtpmap:%d %s/%u", c->pt, c->name, c->clock_rate);
        for (size_t j = 0; j < c->n_fb; j++)
            line(w, "a=rtcp-fb:%d %s", c->pt, c->fb[j]);
        if (c->fmtp)
            line(w, "a=fmtp:%d %s", c->pt, c->fmtp);
    }
}

static void write_ssrcs(struct writer *w, const struct sdp_media *m)
{
    for (size_t i = 0; i < m->n_ssrc_groups; i++) {
        const struct sdp_ssrc_group *g = &m->ssrc_groups[i];
        char buf[SDP_MAX_LINE + 1];
        size_t off = (size_t)snprintf(buf, sizeof buf, "%s", g->semantics);
        for (size_t j = 0; j < g->n_ssrcs && off < sizeof buf; j++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %" PRIu32, g->ssrcs[j]);
        if (off >= sizeof buf)
            w->rc = w->rc < 0 ? w->rc : -E2BIG;
        else
            attr(w, "ssrc-group", buf);
    }
    for (size_t i = 0; i < m->n_ssrcs; i++) {
        const struct sdp_ssrc *s = &m->ssrcs[i];
        if (s->value)
            line(w, "a=ssrc:%" PRIu32 " %s:%s", s->ssrc, s->attr, s->value);
        else
            line(w, "a=ssrc:%" PRIu32 " %s", s->ssrc, s->attr);
    }
}

static void write_extmaps(struct writer *w, const struct sdp_media *m)
{
    for (size_t i = 0; i < m->n_extmaps; i++) {
        const struct sdp_extmap *e = &m->extmaps[i];
        line(w, "a=extmap:%u%s%s %s%s%s", e->id, e->dir != SDP_DIR_NONE ? "/" : "",
             sdp_direction_name(e->dir), e->uri, e->params ? " " : "", e->params ? e->params : "");
    }
}

static void write_tail(struct writer *w, const struct sdp_media *m)
{
    write_ssrcs(w, m);
    for (size_t i = 0; i < m->n_rids; i++)
        line(w, "a=rid:%s %s%s%s", m->rids[i].id, m->rids[i].recv ? "recv" : "send",
             m->rids[i].params ? " " : "", m->rids[i].params ? m->rids[i].params : "");
    if (m->simulcast)
        attr(w, "simulcast", m->simulcast);
    if (m->sctp_port >= 0)
        line(w, "a=sctp-port:%d", m->sctp_port);
    if (m->max_msg_size >= 0)
        line(w, "a=max-message-size:%" PRId64, m->max_msg_size);
    if (m->sctpmap)
        attr(w, "sctpmap", m->sctpmap);
    attrs(w, m->attrs, m->n_attrs);
}

static int write_media(struct writer *w, const struct sdp_media *m)
{
    int rc = write_mline(w, m);
    if (rc < 0)
        return rc;
    extras(w, m->extra, m->n_extra, "iuepkrzt");
    if (m->connection)
        line(w, "c=%s", m->connection);
    bandwidths(w, m->bandwidth, m->n_bandwidth);
    if (m->rtcp)
        attr(w, "rtcp", m->rtcp);
    for (size_t i = 0; i < m->n_cands; i++)
        attr(w, "candidate", m->cands[i].raw);
    if (m->end_of_candidates)
        attr(w, "end-of-candidates", NULL);
    transport(w, m->ice_ufrag, m->ice_pwd, m->ice_options, &m->fingerprint, m->setup);
    if (m->mid)
        attr(w, "mid", m->mid);
    write_extmaps(w, m);
    if (m->dir != SDP_DIR_NONE)
        attr(w, sdp_direction_name(m->dir), NULL);
    if (m->msid)
        attr(w, "msid", m->msid);
    if (m->rtcp_mux)
        attr(w, "rtcp-mux", NULL);
    if (m->rtcp_rsize)
        attr(w, "rtcp-rsize", NULL);
    if (m->bundle_only)
        attr(w, "bundle-only", NULL);
    if (m->extmap_allow_mixed)
        attr(w, "extmap-allow-mixed", NULL);
    write_codecs(w, m);
    write_tail(w, m);
    return 0;
}

int sdp_write(const struct sdp *sdp, char **text, size_t *len)
{
    if (!sdp || !text)
        return -EINVAL;
    *text = NULL;
    if (sdp->n_media > SDP_MAX_MEDIA)
        return -E2BIG;
    struct writer w = {.rc = 0};
    vb_buf_init(&w.b, SDP_MAX_LEN + 1);
    int rc = write_session(&w, sdp);
    for (size_t i = 0; i < sdp->n_media && rc == 0; i++)
        rc = write_media(&w, &sdp->media[i]);
    if (rc == 0)
        rc = w.rc;
    if (rc == 0 && w.b.len > SDP_MAX_LEN)
        rc = -E2BIG;
    if (rc < 0) {
        vb_buf_free(&w.b);
        return rc;
    }
    /* the NUL (room for it was kept by the cap of SDP_MAX_LEN + 1) */
    if (vb_buf_put_u8(&w.b, 0) < 0) {
        vb_buf_free(&w.b);
        return -E2BIG;
    }
    if (len)
        *len = w.b.len - 1;
    *text = (char *)w.b.p;
    return 0;
}
