/* This file implements the media layer's side of the core (struct gw_media_ops): a client's
 * jsep creates or updates the handle's PeerConnection and reaches the plugin without transport
 * attributes; a plugin's jsep gets ours merged in (credentials, fingerprint, setup, our
 * candidates — half-trickle: we wait for gathering, briefly); trickles, hangups, detaches and
 * the plugins' relays are routed to the PeerConnection.
 *
 * DESIGN: Janus's rules for who is who. The offerer is ICE-controlling. For DTLS, the answerer
 * of an "actpass" offer is the client ("active"); an answer saying "active" makes us the server.
 * A new offer with new ICE credentials restarts ICE on the same PeerConnection. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/xalloc.h"
#include "gateway/media/media_internal.h"

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    while (v == 0)
        if (getrandom(&v, sizeof v, 0) != sizeof v)
            v = 0;
    return v;
}

/* The transport of a remote description: the first m-line in use carries it (bundle). */
struct remote_transport {
    const char *ufrag, *pwd, *fp_hash, *fp_value;
    enum sdp_setup setup;
    const struct sdp_media *first;
};

static int remote_transport_of(const struct sdp *d, struct remote_transport *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < d->n_media && !t->first; i++)
        if (d->media[i].port != 0)
            t->first = &d->media[i];
    if (!t->first)
        return -EINVAL;
    t->ufrag = t->first->ice_ufrag ? t->first->ice_ufrag : d->ice_ufrag;
    t->pwd = t->first->ice_pwd ? t->first->ice_pwd : d->ice_pwd;
    const struct sdp_fingerprint *fp =
        t->first->fingerprint.hash ? &t->first->fingerprint : &d->fingerprint;
    t->fp_hash = fp->hash;
    t->fp_value = fp->value;
    t->setup = t->first->setup != SDP_SETUP_NONE ? t->first->setup : d->setup;
    if (!t->ufrag || !t->pwd || !t->fp_hash || !t->fp_value)
        return -EINVAL;
    return 0;
}

/* What the plugin sees: the SDP without transport. */
static json_t *plugin_jsep_of(const char *type, struct sdp *d, json_t *from)
{
    char *text = NULL;
    if (sdp_anonymize(d) < 0 || sdp_write(d, &text, NULL) < 0)
        return NULL;
    json_t *j = json_pack("{s:s, s:s}", "type", type, "sdp", text);
    free(text);
    json_t *trickle = json_object_get(from, "trickle");
    if (json_is_boolean(trickle))
        json_object_set(j, "trickle", trickle);
    return j;
}

static int fail(char *reason, size_t rlen, int code, const char *text)
{
    snprintf(reason, rlen, "%s", text);
    return code;
}

/* Records the remote description on the PC and hands its transport to the loop. */
static int apply_remote(struct gw_pc *pc, const char *text, const struct sdp *d,
                        const struct remote_transport *t, bool offer)
{
    const char *setup = sdp_setup_name(t->setup);
    enum dtls_role role;
    if (dtls_role_from_remote_setup(setup[0] ? setup : "actpass", &role) < 0)
        return -EINVAL;
    if (!offer && t->setup == SDP_SETUP_ACTPASS) /* an answer must choose */
        return -EINVAL;
    if (offer && t->setup == SDP_SETUP_ACTPASS && pc->m->cfg.answer_passive)
        role = DTLS_ROLE_SERVER;
    pthread_mutex_lock(&pc->lock);
    pc->role = role;
    snprintf(pc->fp_hash, sizeof pc->fp_hash, "%s", t->fp_hash);
    snprintf(pc->fp_value, sizeof pc->fp_value, "%s", t->fp_value);
    free(pc->remote_sdp);
    pc->remote_sdp = xstrdup(text);
    if (offer)
        pc_streams_from_sdp(pc, d);
    pc->remote_set = true;
    pthread_mutex_unlock(&pc->lock);
    json_t *cands = json_array();
    for (size_t i = 0; i < t->first->n_cands; i++)
        json_array_append_new(cands, json_string(t->first->cands[i].raw));
    pc_apply_remote_task(pc, t->ufrag, t->pwd, cands, t->first->end_of_candidates);
    return 0;
}

static int remote_jsep(void *ctx, struct gw_handle *h, json_t *jsep, json_t **plugin_jsep,
                       char *reason, size_t rlen)
{
    struct gw_media *m = ctx;
    const char *type = json_string_value(json_object_get(jsep, "type"));
    const char *text = json_string_value(json_object_get(jsep, "sdp"));
    if (!type)
        return fail(reason, rlen, GW_ERR_MISSING_MANDATORY_ELEMENT,
                    "JSEP error: missing mandatory element (type)");
    bool offer = strcmp(type, "offer") == 0;
    if (!offer && strcmp(type, "answer") != 0) {
        snprintf(reason, rlen, "JSEP error: unknown message type '%s'", type);
        return GW_ERR_JSEP_UNKNOWN_TYPE;
    }
    if (!text)
        return fail(reason, rlen, GW_ERR_MISSING_MANDATORY_ELEMENT,
                    "JSEP error: missing mandatory element (sdp)");
    struct sdp *d = NULL;
    char why[160];
    struct remote_transport t;
    if (sdp_parse(text, strlen(text), &d, why, sizeof why) < 0 || remote_transport_of(d, &t) < 0) {
        sdp_free(d);
        return fail(reason, rlen, GW_ERR_JSEP_INVALID_SDP, "JSEP error: invalid SDP");
    }
    struct gw_pc *pc = pc_get(m, h);
    int code = 0;
    if (offer) {
        if (pc && pc->remote_sdp && strcmp(pc->remote_sdp, text) != 0) {
            /* A new offer: an ICE restart when the credentials changed (the DTLS session and
             * SRTP keys stay, as a browser keeps its DTLS transport), else an update. */
            struct sdp *old = NULL;
            struct remote_transport ot;
            bool restart = sdp_parse(pc->remote_sdp, strlen(pc->remote_sdp), &old, NULL, 0) == 0 &&
                           remote_transport_of(old, &ot) == 0 && strcmp(ot.ufrag, t.ufrag) != 0;
            sdp_free(old);
            if (restart)
                pc_ice_restart(pc);
        }
        if (!pc && pc_create(m, h, false, &pc) == 0)
            pc_ref(pc);
        if (!pc)
            code = fail(reason, rlen, GW_ERR_WEBRTC_STATE, "Error setting ICE locally");
    } else if (!pc || !pc->controlling) {
        code = fail(reason, rlen, GW_ERR_UNEXPECTED_ANSWER, "Unexpected ANSWER (did we offer?)");
    }
    if (!code && apply_remote(pc, text, d, &t, offer) < 0)
        code = fail(reason, rlen, GW_ERR_JSEP_INVALID_SDP, "JSEP error: invalid SDP");
    if (!code) {
        *plugin_jsep = plugin_jsep_of(type, d, jsep);
        if (!*plugin_jsep)
            code = fail(reason, rlen, GW_ERR_JSEP_INVALID_SDP, "JSEP error: invalid SDP");
    }
    pc_unref(pc);
    sdp_free(d);
    return code;
}

/* The transport-wide-cc extension id of a description (the first m-line in use that has it;
 * bundled m-lines share ids), 0 when none. */
static int twcc_ext_of(const struct sdp *d)
{
    for (size_t i = 0; i < d->n_media; i++) {
        int id = d->media[i].port ? sdp_media_extmap_id(&d->media[i], SDP_EXT_TRANSPORT_CC) : -1;
        if (id > 0 && id < 15)
            return id;
    }
    return 0;
}

/* Our sending m-lines announce our SSRC (the one pc_send_rtp writes). */
static void add_local_ssrcs(struct gw_pc *pc, struct sdp *d)
{
    for (size_t i = 0; i < d->n_media && i < pc->n_streams; i++) {
        struct sdp_media *md = &d->media[i];
        struct pc_stream *s = &pc->streams[i];
        enum sdp_direction dir = sdp_media_direction(d, md);
        s->we_send = md->port != 0 && (dir == SDP_DIR_SENDRECV || dir == SDP_DIR_SENDONLY);
        if (!s->we_send || md->n_ssrcs)
            continue;
        char msid[96]; /* the m-line's own a=msid when it has one */
        if (md->msid)
            snprintf(msid, sizeof msid, "%s", md->msid);
        else
            snprintf(msid, sizeof msid, "verbatim-%" PRIu64 " %s-%s", gw_handle_id(pc->h),
                     s->video ? "video" : "audio", s->mid);
        md->ssrcs = xcalloc(2, sizeof *md->ssrcs);
        md->ssrcs[0] = (struct sdp_ssrc){s->ssrc_local, xstrdup("cname"), xstrdup("verbatim")};
        md->ssrcs[1] = (struct sdp_ssrc){s->ssrc_local, xstrdup("msid"), xstrdup(msid)};
        md->n_ssrcs = 2;
    }
}

static int local_jsep(void *ctx, struct gw_handle *h, json_t *jsep, json_t **client_jsep)
{
    struct gw_media *m = ctx;
    const char *type = json_string_value(json_object_get(jsep, "type"));
    const char *text = json_string_value(json_object_get(jsep, "sdp"));
    if (!type || !text)
        return -EINVAL;
    bool offer = strcmp(type, "offer") == 0;
    struct sdp *d = NULL;
    if (sdp_parse(text, strlen(text), &d, NULL, 0) < 0)
        return -EINVAL;
    struct gw_pc *pc = pc_get(m, h);
    if (!pc && offer && pc_create(m, h, true, &pc) == 0)
        pc_ref(pc);
    if (!pc) {
        sdp_free(d);
        return -ENOTCONN;
    }
    pc_wait_gathered(pc, m->cfg.gather_wait_ms ? m->cfg.gather_wait_ms : 2000);
    char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
    ice_agent_local_credentials(pc->agent, ufrag, sizeof ufrag, pwd, sizeof pwd);
    pthread_mutex_lock(&pc->lock);
    if (offer)
        pc_streams_from_sdp(pc, d);
    add_local_ssrcs(pc, d);
    atomic_store(&pc->twcc_ext, twcc_ext_of(d));
    size_t n = json_array_size(pc->local_cands);
    const char **cands = xcalloc(n ? n : 1, sizeof *cands);
    for (size_t i = 0; i < n; i++)
        cands[i] = json_string_value(json_array_get(pc->local_cands, i));
    struct sdp_transport t = {.ufrag = ufrag,
                              .pwd = pwd,
                              .fingerprint = dtls_cert_fingerprint(m->cfg.cert),
                              .setup = offer                          ? SDP_SETUP_ACTPASS
                                       : pc->role == DTLS_ROLE_CLIENT ? SDP_SETUP_ACTIVE
                                                                      : SDP_SETUP_PASSIVE,
                              .candidates = cands,
                              .n_candidates = n,
                              .gathering_done = pc->gathered,
                              .sess_id = gw_handle_id(h),
                              .sess_version = ++pc->local_version};
    char *out = NULL;
    int err = sdp_merge_transport(d, &t);
    if (err == 0)
        err = sdp_write(d, &out, NULL);
    if (err == 0) {
        free(pc->local_sdp);
        pc->local_sdp = xstrdup(out);
        pc->local_sent = true;
    }
    pthread_mutex_unlock(&pc->lock);
    free(cands);
    sdp_free(d);
    if (err == 0)
        *client_jsep = json_pack("{s:s, s:s}", "type", type, "sdp", out);
    free(out);
    pc_unref(pc);
    return err;
}

static void trickled(void *ctx, struct gw_handle *h)
{
    struct gw_pc *pc = pc_get(ctx, h);
    if (pc) {
        pc_drain_trickles(pc);
        pc_unref(pc);
    }
}

static bool hangup(void *ctx, struct gw_handle *h, const char *reason)
{
    return pc_close(ctx, h, reason, false);
}

static void detached(void *ctx, struct gw_handle *h)
{
    pc_close(ctx, h, NULL, false);
}

static int send_rtp(void *ctx, struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len)
{
    struct gw_pc *pc = pc_get(ctx, h);
    if (!pc)
        return -ENOTCONN;
    int err = pc_send_rtp(pc, mindex, pkt, len);
    pc_unref(pc);
    return err;
}

static int send_rtcp(void *ctx, struct gw_handle *h, int mindex, const uint8_t *pkt, size_t len)
{
    struct gw_pc *pc = pc_get(ctx, h);
    if (!pc)
        return -ENOTCONN;
    int err = pc_send_rtcp(pc, mindex, pkt, len);
    pc_unref(pc);
    return err;
}

static void info(void *ctx, struct gw_handle *h, json_t *out)
{
    struct gw_pc *pc = pc_get(ctx, h);
    if (pc) {
        pc_pcap_info(pc, out); /* pcap: before "webrtc", as Janus orders them */
        pc_info(pc, out);
        pc_unref(pc);
    }
}

int gw_media_create(const struct gw_media_config *cfg, struct gw_media **out)
{
    if (!cfg || !cfg->loops || !cfg->ice || !cfg->cert || !out)
        return -EINVAL;
    struct gw_media *m = xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    for (size_t i = 0; i < PC_LOCK_STRIPES; i++)
        pthread_mutex_init(&m->link[i], NULL);
    m->ops = (struct gw_media_ops){.ctx = m,
                                   .remote_jsep = remote_jsep,
                                   .local_jsep = local_jsep,
                                   .trickled = trickled,
                                   .hangup = hangup,
                                   .detached = detached,
                                   .send_rtp = send_rtp,
                                   .send_rtcp = send_rtcp,
                                   .info = info,
                                   .start_pcap = media_start_pcap, /* pcap: pc_pcap.c */
                                   .stop_pcap = media_stop_pcap};
    *out = m;
    return 0;
}

void gw_media_destroy(struct gw_media *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < PC_LOCK_STRIPES; i++)
        pthread_mutex_destroy(&m->link[i]);
    free(m);
}

const struct gw_media_ops *gw_media_ops(struct gw_media *m)
{
    return &m->ops;
}

unsigned gw_media_pc_count(struct gw_media *m)
{
    return atomic_load(&m->pcs);
}

uint32_t media_random_ssrc(void)
{
    return random_u32();
}
