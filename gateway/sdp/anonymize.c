/* This file implements sdp_anonymize(): what a plugin sees of a peer's SDP. As Janus does, the
 * transport (ICE, DTLS, addresses, ports, RTCP multiplexing, BUNDLE) is the core's business and
 * is removed; the media description (codecs, extensions, mids, msid, SSRCs, rids, simulcast,
 * SCTP) is left for the plugin. Unlike Janus, SSRCs, rids and simulcast stay, because our plugins
 * read simulcast from the model rather than from the core. sdp_merge_transport() uses the same
 * stripping before it adds our transport. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sdp/sdp_internal.h"

/* The attribute names that belong to the transport, at either level. */
static bool is_transport_attr(const char *name, const char *value)
{
    static const char *const names[] = {
        "candidate",   "end-of-candidates", "ice-ufrag",    "ice-pwd",
        "ice-options", "ice-lite",          "ice-mismatch", "fingerprint",
        "setup",       "connection",        "crypto",       "rtcp",
        "rtcp-mux",    "rtcp-mux-only",     "bundle-only",  "remote-candidates",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return strcmp(name, "group") == 0 && value && strncmp(value, "BUNDLE", 6) == 0 &&
           (value[6] == '\0' || value[6] == ' ' || value[6] == '\t');
}

static void strip_attrs(struct sdp_attr *a, size_t *n)
{
    for (size_t i = 0; i < *n;) {
        if (is_transport_attr(a[i].name, a[i].value)) {
            free(a[i].name);
            free(a[i].value);
            sdp_remove(a, n, i, sizeof *a);
        } else {
            i++;
        }
    }
}

static void clear_str(char **s)
{
    free(*s);
    *s = NULL;
}

void sdp_media_strip_transport(struct sdp_media *m)
{
    for (size_t i = 0; i < m->n_cands; i++)
        sdp_candidate_clear(&m->cands[i]);
    m->n_cands = 0;
    m->end_of_candidates = false;
    clear_str(&m->ice_ufrag);
    clear_str(&m->ice_pwd);
    clear_str(&m->ice_options);
    sdp_fingerprint_clear(&m->fingerprint);
    m->setup = SDP_SETUP_NONE;
    clear_str(&m->rtcp);
    m->rtcp_mux = false;
    if (m->bundle_only && m->port == 0)
        m->port = 9; /* port 0 with bundle-only means "in the bundle", not "rejected" */
    m->bundle_only = false;
    strip_attrs(m->attrs, &m->n_attrs);
}

void sdp_session_strip_transport(struct sdp *s)
{
    s->bundle = false;
    for (size_t i = 0; i < s->n_bundle_mids; i++)
        free(s->bundle_mids[i]);
    s->n_bundle_mids = 0;
    clear_str(&s->ice_ufrag);
    clear_str(&s->ice_pwd);
    clear_str(&s->ice_options);
    s->ice_lite = false;
    sdp_fingerprint_clear(&s->fingerprint);
    s->setup = SDP_SETUP_NONE;
    strip_attrs(s->attrs, &s->n_attrs);
}

static void hide_connection(char **c)
{
    if (*c)
        sdp_set(c, "IN IP4 0.0.0.0");
}

int sdp_anonymize(struct sdp *sdp)
{
    if (!sdp)
        return -EINVAL;
    sdp_session_strip_transport(sdp);
    sdp_set(&sdp->origin_nettype, "IN");
    sdp_set(&sdp->origin_addrtype, "IP4");
    sdp_set(&sdp->origin_addr, "0.0.0.0");
    hide_connection(&sdp->connection);
    for (size_t i = 0; i < sdp->n_media; i++) {
        struct sdp_media *m = &sdp->media[i];
        sdp_media_strip_transport(m);
        hide_connection(&m->connection);
        if (m->port != 0) {
            m->port = 9;
            m->port_count = 0;
        }
    }
    return 0;
}
