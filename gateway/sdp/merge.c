/* This file implements sdp_merge_transport(): our ICE/DTLS transport added to an SDP a plugin
 * produced, before the peer sees it — what Janus's janus_sdp_merge() does, with every value
 * checked first so that the model is either fully merged or untouched. All m-lines in use share
 * one transport (BUNDLE, rtcp-mux), so each gets the same credentials, fingerprint, setup and
 * candidates, with port 9 and the c= address as placeholders (trickle ICE); the session level
 * carries the credentials, fingerprint and setup as well. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/sdp/sdp_internal.h"

/* ICE credentials: 1..256 ice-chars (RFC 8839: ALPHA / DIGIT / "+" / "/"). */
static bool ice_chars(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 256)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return true;
}

/* Hex digits and colons only (a fingerprint), or an address ([0-9a-fA-F.:]). */
static bool only(const char *s, const char *set, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= max && strspn(s, set) == n;
}

static int check(const struct sdp *sdp, const struct sdp_transport *t)
{
    if (!sdp || !t || !ice_chars(t->ufrag) || !ice_chars(t->pwd))
        return -EINVAL;
    if (!only(t->fingerprint, "0123456789abcdefABCDEF:", 256))
        return -EINVAL;
    if (t->setup != SDP_SETUP_ACTPASS && t->setup != SDP_SETUP_ACTIVE &&
        t->setup != SDP_SETUP_PASSIVE)
        return -EINVAL;
    if (t->address && !only(t->address, "0123456789abcdefABCDEF.:", 64))
        return -EINVAL;
    if (t->n_candidates && !t->candidates)
        return -EINVAL;
    return 0;
}

/* A rejected m-line keeps its kind, proto, first format and mid, and for RTP rtcp-mux and
 * "inactive" as Janus writes them (aiortc refuses a description with an RTP m-line without
 * rtcp-mux or without a direction, even a rejected one). */
static void reduce_rejected(struct sdp_media *m)
{
    struct sdp_media keep = {0};
    keep.type = m->type;
    keep.rtcp_mux = m->rtp;
    keep.dir = m->rtp ? SDP_DIR_INACTIVE : SDP_DIR_NONE;
    keep.type_name = m->type_name;
    keep.proto = m->proto;
    keep.rtp = m->rtp;
    keep.mid = m->mid;
    keep.sctp_port = keep.max_msg_size = -1;
    m->type_name = m->proto = m->mid = NULL;
    if (m->rtp && m->n_codecs) {
        const struct sdp_codec *c = &m->codecs[0];
        sdp_codec_add(&keep, c->pt, c->name, c->clock_rate, c->channels);
    } else if (!m->rtp && m->n_fmts) {
        char **slot = SDP_PUSH(keep.fmts, keep.n_fmts);
        *slot = xstrdup(m->fmts[0]);
    }
    sdp_media_clear(m);
    *m = keep;
}

/* A mid for an m-line without one: its index, made unique if needed. */
static void give_mid(struct sdp *sdp, size_t i)
{
    char mid[32];
    snprintf(mid, sizeof mid, "%zu", i);
    for (unsigned n = 0; sdp_find_mid(sdp, mid) >= 0; n++)
        snprintf(mid, sizeof mid, "%zu_%u", i, n);
    sdp->media[i].mid = xstrdup(mid);
}

static void add_transport(struct sdp_media *m, const struct sdp_transport *t,
                          const struct sdp_candidate *cands, const char *conn)
{
    m->port = 9;
    m->port_count = 0;
    sdp_set(&m->connection, conn);
    sdp_set(&m->ice_ufrag, t->ufrag);
    sdp_set(&m->ice_pwd, t->pwd);
    sdp_set(&m->ice_options, "trickle");
    sdp_set(&m->fingerprint.hash, "sha-256");
    sdp_set(&m->fingerprint.value, t->fingerprint);
    m->setup = t->setup;
    m->rtcp_mux = m->rtp;
    for (size_t i = 0; i < t->n_candidates; i++) {
        char err[8];
        struct sdp_candidate *c = SDP_PUSH(m->cands, m->n_cands);
        (void)sdp_candidate_parse(cands[i].raw, c, err, sizeof err); /* parsed once already */
    }
    m->end_of_candidates = t->gathering_done;
}

/* The same credentials, fingerprint and setup at the session level: they then cover rejected
 * m-lines too, which aiortc insists on. */
static void set_session_transport(struct sdp *sdp, const struct sdp_transport *t)
{
    sdp_set(&sdp->ice_ufrag, t->ufrag);
    sdp_set(&sdp->ice_pwd, t->pwd);
    sdp_set(&sdp->ice_options, "trickle");
    sdp_set(&sdp->fingerprint.hash, "sha-256");
    sdp_set(&sdp->fingerprint.value, t->fingerprint);
    sdp->setup = t->setup;
}

static bool in_use(const struct sdp_media *m)
{
    return m->port != 0 && m->type != SDP_MEDIA_OTHER;
}

int sdp_merge_transport(struct sdp *sdp, const struct sdp_transport *t)
{
    int rc = check(sdp, t);
    if (rc < 0)
        return rc;
    struct sdp_candidate *cands = t->n_candidates ? xcalloc(t->n_candidates, sizeof *cands) : NULL;
    size_t parsed = 0;
    for (; parsed < t->n_candidates; parsed++) {
        char err[8];
        if (!t->candidates[parsed] ||
            sdp_candidate_parse(t->candidates[parsed], &cands[parsed], err, sizeof err) < 0) {
            rc = -EINVAL;
            break;
        }
    }
    if (rc == 0) {
        const char *addr = t->address ? t->address : "0.0.0.0";
        const char *family = strchr(addr, ':') ? "IP6" : "IP4";
        char conn[96];
        snprintf(conn, sizeof conn, "IN %s %s", family, addr);
        sdp_session_strip_transport(sdp);
        sdp->sess_id = t->sess_id;
        sdp->sess_version = t->sess_version;
        sdp_set(&sdp->origin_nettype, "IN");
        sdp_set(&sdp->origin_addrtype, family);
        sdp_set(&sdp->origin_addr, addr);
        sdp_set(&sdp->connection, NULL);
        sdp->bundle = true;
        sdp->ice_lite = t->ice_lite;
        set_session_transport(sdp, t);
        for (size_t i = 0; i < sdp->n_media; i++) {
            struct sdp_media *m = &sdp->media[i];
            sdp_media_strip_transport(m);
            if (!in_use(m)) {
                m->port = 0;
                reduce_rejected(m);
                sdp_set(&m->connection, conn); /* no session c=: each m-line needs one */
                continue;
            }
            if (!m->mid)
                give_mid(sdp, i);
            add_transport(m, t, cands, conn);
            char **slot = SDP_PUSH(sdp->bundle_mids, sdp->n_bundle_mids);
            *slot = xstrdup(m->mid);
        }
    }
    for (size_t i = 0; i < parsed; i++)
        sdp_candidate_clear(&cands[i]);
    free(cands);
    return rc;
}
