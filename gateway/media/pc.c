/* This file implements the PeerConnection's life: creation on a media loop with its ICE agent,
 * the link to its handle, the ICE and DTLS callbacks that bring it up (webrtcup) or down
 * (hangup), and its teardown on the loop.
 *
 * DESIGN: everything that touches libnice or OpenSSL runs on the PC's loop thread; other threads
 * queue tasks there (ice_loop_invoke), each holding a reference. The way down is one function,
 * pc_close(): it unlinks the PC from the handle under the handle's link lock (so no sender can
 * take a new reference), queues the hangup event when asked, and queues the teardown; the
 * memory goes with the last reference. A DTLS callback cannot destroy its own endpoint, so a
 * failure seen inside one is posted to the loop first. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/xalloc.h"
#include "gateway/media/media_internal.h"

static void dtls_early_flush(struct gw_pc *pc, bool send);

static pthread_mutex_t *link_lock(struct gw_media *m, const struct gw_handle *h)
{
    uintptr_t v = (uintptr_t)h;
    return &m->link[(v >> 6) % PC_LOCK_STRIPES];
}

void pc_ref(struct gw_pc *pc)
{
    atomic_fetch_add(&pc->refs, 1);
}

void pc_unref(struct gw_pc *pc)
{
    if (!pc || atomic_fetch_sub(&pc->refs, 1) != 1)
        return;
    ice_agent_unref(pc->agent);
    vb_srtp_destroy(atomic_load(&pc->srtp));
    pc_pcap_free(pc); /* pcap: a capture still running ends with its PC */
    pc_streams_free(pc);
    dtls_early_flush(pc, false);
    free(pc->twcc);
    json_decref(pc->local_cands);
    free(pc->remote_sdp);
    free(pc->local_sdp);
    pthread_cond_destroy(&pc->cond);
    pthread_mutex_destroy(&pc->lock);
    atomic_fetch_sub(&pc->m->pcs, 1);
    gw_handle_unref(pc->h);
    free(pc);
}

struct gw_pc *pc_get(struct gw_media *m, struct gw_handle *h)
{
    pthread_mutex_t *l = link_lock(m, h);
    pthread_mutex_lock(l);
    struct gw_pc *pc = gw_handle_media(h);
    if (pc)
        pc_ref(pc);
    pthread_mutex_unlock(l);
    return pc;
}

static json_t *handle_event(struct gw_pc *pc, const char *kind)
{
    return json_pack("{s:s, s:I, s:I}", "janus", kind, "session_id",
                     (json_int_t)gw_handle_session_id(pc->h), "sender",
                     (json_int_t)gw_handle_id(pc->h));
}

/* ---- teardown (loop) ---- */

static void teardown_task(void *arg)
{
    struct gw_pc *pc = arg;
    ice_timer_free(pc->dtls_timer);
    pc->dtls_timer = NULL;
    ice_timer_free(pc->tick);
    pc->tick = NULL;
    if (pc->dtls) {
        dtls_endpoint_close(pc->dtls);
        dtls_endpoint_destroy(pc->dtls);
        pc->dtls = NULL;
    }
    ice_agent_destroy(pc->agent); /* our own reference stays until pc_unref */
    ice_loop_release(pc->loop);
    pc_unref(pc); /* the task's */
    pc_unref(pc); /* the handle link's, handed over by pc_close */
}

bool pc_close(struct gw_media *m, struct gw_handle *h, const char *reason, bool tell_plugin)
{
    pthread_mutex_t *l = link_lock(m, h);
    pthread_mutex_lock(l);
    struct gw_pc *pc = gw_handle_media(h);
    gw_handle_set_media(h, NULL);
    pthread_mutex_unlock(l);
    if (!pc)
        return false;
    pthread_mutex_lock(&pc->lock);
    pc->closed = true;
    pthread_cond_broadcast(&pc->cond);
    pthread_mutex_unlock(&pc->lock);
    if (reason) {
        json_t *ev = handle_event(pc, "hangup");
        json_object_set_new(ev, "reason", json_string(reason));
        gw_handle_push(h, ev);
    }
    if (tell_plugin)
        gw_handle_media_hangup(h);
    pc_ref(pc); /* the task's */
    if (ice_loop_invoke(pc->loop, teardown_task, pc) < 0) {
        pc_unref(pc);
        pc_unref(pc);
    }
    return true;
}

/* A failure seen on the loop (ICE failed, DTLS alert): the PC goes, the client and the plugin
 * are told. Posted, so that it never runs inside a DTLS or ICE callback of this PC. */
struct fail_task {
    struct gw_pc *pc;
    const char *reason; /* static string */
};

static void fail_task_run(void *arg)
{
    struct fail_task *t = arg;
    struct gw_pc *pc = t->pc;
    /* Only if this PC is still the handle's (a renegotiation may have replaced it). */
    if (gw_handle_media(pc->h) == pc)
        pc_close(pc->m, pc->h, t->reason, true);
    pc_unref(pc);
    free(t);
}

static void pc_fail(struct gw_pc *pc, const char *reason)
{
    struct fail_task *t = xcalloc(1, sizeof *t);
    t->pc = pc;
    t->reason = reason;
    pc_ref(pc);
    if (ice_loop_post(pc->loop, fail_task_run, t) < 0) {
        pc_unref(pc);
        free(t);
    }
}

/* ---- DTLS (loop) ---- */

static int dtls_send(void *ctx, const uint8_t *data, size_t len)
{
    struct gw_pc *pc = ctx;
    int err = ice_agent_send(pc->agent, data, len);
    if (err != -ENOTCONN || pc->n_dtls_early == PC_DTLS_EARLY)
        return err;
    uint8_t *copy = xmalloc(len); /* kept for on_ice_state */
    memcpy(copy, data, len);
    pc->dtls_early[pc->n_dtls_early] = copy;
    pc->dtls_early_len[pc->n_dtls_early++] = len;
    return 0;
}

/* Sends (connected) or drops the DTLS datagrams kept while ICE could not send (loop). */
static void dtls_early_flush(struct gw_pc *pc, bool send)
{
    for (size_t i = 0; i < pc->n_dtls_early; i++) {
        if (send)
            ice_agent_send(pc->agent, pc->dtls_early[i], pc->dtls_early_len[i]);
        free(pc->dtls_early[i]);
    }
    pc->n_dtls_early = 0;
}

static void dtls_rearm(struct gw_pc *pc)
{
    if (!pc->dtls || !pc->dtls_timer)
        return;
    int ms = dtls_endpoint_timeout_ms(pc->dtls);
    if (ms < 0)
        ice_timer_cancel(pc->dtls_timer);
    else
        ice_timer_reschedule(pc->dtls_timer, (unsigned)ms);
}

static void dtls_timer_fired(struct ice_timer *t, void *arg)
{
    (void)t;
    struct gw_pc *pc = arg;
    if (pc->dtls)
        dtls_endpoint_on_timer(pc->dtls);
    dtls_rearm(pc);
}

/* DTLS is up: SRTP sessions from the exported keys, then webrtcup and the plugin's setup. */
static void dtls_connected(struct gw_pc *pc)
{
    struct dtls_srtp_keys k;
    if (dtls_endpoint_srtp_keys(pc->dtls, &k) < 0) {
        pc_fail(pc, "DTLS alert");
        return;
    }
    struct vb_srtp *s = NULL;
    int err = vb_srtp_create((int)k.profile, k.local, k.remote, k.key_len + k.salt_len, &s);
    explicit_bzero(&k, sizeof k);
    if (err < 0) {
        vb_log_error(pc->m->cfg.log, "handle %" PRIu64 ": SRTP setup failed: %s",
                     gw_handle_id(pc->h), strerror(-err));
        pc_fail(pc, "DTLS alert");
        return;
    }
    atomic_store(&pc->srtp, s);
    pthread_mutex_lock(&pc->lock);
    pc->webrtcup = true;
    snprintf(pc->srtp_profile, sizeof pc->srtp_profile, "%s",
             dtls_srtp_profile_name(dtls_endpoint_srtp_profile(pc->dtls)));
    pthread_mutex_unlock(&pc->lock);
    gw_handle_push(pc->h, handle_event(pc, "webrtcup"));
    const struct gw_plugin_reg *reg = gw_handle_plugin(pc->h);
    if (reg->plugin->setup_media && gw_handle_hook_enter(pc->h)) {
        reg->plugin->setup_media(reg->ctx, pc->h, gw_handle_plugin_state(pc->h));
        gw_handle_hook_leave(pc->h);
    }
}

static void dtls_state(void *ctx, enum dtls_state state, const char *reason)
{
    struct gw_pc *pc = ctx;
    pthread_mutex_lock(&pc->lock);
    snprintf(pc->dtls_state, sizeof pc->dtls_state, "%s", dtls_state_name(state));
    pthread_mutex_unlock(&pc->lock);
    if (state == DTLS_CONNECTED) {
        dtls_connected(pc);
    } else if (state == DTLS_FAILED || state == DTLS_CLOSED) {
        vb_log_info(pc->m->cfg.log, "handle %" PRIu64 ": DTLS %s: %s", gw_handle_id(pc->h),
                    dtls_state_name(state), reason);
        pc_fail(pc, "DTLS alert");
    }
}

/* Creates the DTLS endpoint once our role and the peer's fingerprint are known (loop). */
static void dtls_prepare(struct gw_pc *pc)
{
    if (pc->dtls)
        return;
    pthread_mutex_lock(&pc->lock);
    bool ready = pc->remote_set;
    enum dtls_role role = pc->role;
    char hash[16], value[192];
    snprintf(hash, sizeof hash, "%s", pc->fp_hash);
    snprintf(value, sizeof value, "%s", pc->fp_value);
    pthread_mutex_unlock(&pc->lock);
    if (!ready)
        return;
    struct dtls_endpoint_config dc = {.role = role,
                                      .send = dtls_send,
                                      .on_state = dtls_state,
                                      .ctx = pc,
                                      .log = (struct vb_log *)pc->m->cfg.log};
    if (dtls_endpoint_create(pc->m->cfg.cert, &dc, &pc->dtls) < 0 ||
        dtls_endpoint_set_remote_fingerprint(pc->dtls, hash, value) < 0 ||
        ice_loop_timer_add(pc->loop, 1000, dtls_timer_fired, pc, &pc->dtls_timer) < 0) {
        pc_fail(pc, "DTLS alert");
        return;
    }
    ice_timer_cancel(pc->dtls_timer);
}

/* ---- ICE callbacks (loop) ---- */

static void trickle_out(struct gw_pc *pc, const char *candidate)
{
    json_t *ev = handle_event(pc, "trickle");
    if (candidate)
        json_object_set_new(ev, "candidate",
                            json_pack("{s:s, s:i, s:s}", "sdpMid",
                                      pc->n_streams ? pc->streams[0].mid : "0", "sdpMLineIndex", 0,
                                      "candidate", candidate));
    else
        json_object_set_new(ev, "candidate", json_pack("{s:b}", "completed", 1));
    gw_handle_push(pc->h, ev);
}

static void on_candidate(void *ctx, const char *candidate)
{
    struct gw_pc *pc = ctx;
    pthread_mutex_lock(&pc->lock);
    json_array_append_new(pc->local_cands, json_string(candidate));
    bool late = pc->local_sent;
    pthread_mutex_unlock(&pc->lock);
    if (late) /* our SDP already went out without it: trickle it */
        trickle_out(pc, candidate);
}

static void on_gathering_done(void *ctx)
{
    struct gw_pc *pc = ctx;
    pthread_mutex_lock(&pc->lock);
    pc->gathered = true;
    bool late = pc->local_sent;
    pthread_cond_broadcast(&pc->cond);
    pthread_mutex_unlock(&pc->lock);
    if (late)
        trickle_out(pc, NULL);
}

static void on_ice_state(void *ctx, enum ice_state state)
{
    struct gw_pc *pc = ctx;
    pthread_mutex_lock(&pc->lock);
    snprintf(pc->ice_state, sizeof pc->ice_state, "%s", ice_state_name(state));
    pthread_mutex_unlock(&pc->lock);
    if (state == ICE_STATE_CONNECTED || state == ICE_STATE_READY) {
        dtls_early_flush(pc, true);
        dtls_prepare(pc);
        if (pc->dtls && dtls_endpoint_state(pc->dtls) == DTLS_NEW &&
            dtls_endpoint_role(pc->dtls) == DTLS_ROLE_CLIENT) {
            dtls_endpoint_start(pc->dtls);
            dtls_rearm(pc);
        }
    } else if (state == ICE_STATE_FAILED) {
        pc_fail(pc, "ICE failed");
    }
}

static void on_recv(void *ctx, uint8_t *buf, size_t len)
{
    struct gw_pc *pc = ctx;
    if (len == 0)
        return;
    if (dtls_demux_classify(buf[0]) == DTLS_DEMUX_DTLS) {
        dtls_prepare(pc); /* a server's endpoint may not exist before the first ClientHello */
        if (pc->dtls) {
            dtls_endpoint_input(pc->dtls, buf, len);
            dtls_rearm(pc);
        }
        return;
    }
    pc_recv(pc, buf, len);
}

static void tick_fired(struct ice_timer *t, void *arg)
{
    pc_tick(arg);
    ice_timer_reschedule(t, PC_TICK_MS);
}

/* ---- creation ---- */

static void start_task(void *arg)
{
    struct gw_pc *pc = arg;
    if (ice_loop_timer_add(pc->loop, PC_TICK_MS, tick_fired, pc, &pc->tick) == 0)
        ice_agent_gather(pc->agent);
    pc_unref(pc);
}

int pc_create(struct gw_media *m, struct gw_handle *h, bool controlling, struct gw_pc **out)
{
    struct gw_pc *pc = xcalloc(1, sizeof *pc);
    atomic_init(&pc->refs, 1); /* the handle link's */
    pc->m = m;
    pc->h = h;
    gw_handle_ref(h);
    pc->controlling = controlling;
    pc->local_cands = json_array();
    pthread_mutex_init(&pc->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pc->cond, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(pc->ice_state, sizeof pc->ice_state, "new");
    snprintf(pc->dtls_state, sizeof pc->dtls_state, "new");
    atomic_fetch_add(&m->pcs, 1);
    pc->loop = ice_loops_pick(m->cfg.loops);
    struct ice_agent_callbacks cb = {.ctx = pc,
                                     .candidate = on_candidate,
                                     .gathering_done = on_gathering_done,
                                     .state = on_ice_state,
                                     .recv = on_recv};
    int err = ice_agent_create(pc->loop, m->cfg.ice, controlling, &cb, &pc->agent);
    if (err < 0) {
        ice_loop_release(pc->loop);
        pc->agent = NULL;
        pc_unref(pc);
        return err;
    }
    ice_agent_ref(pc->agent); /* ours, for senders racing the teardown */
    pthread_mutex_t *l = link_lock(m, h);
    pthread_mutex_lock(l);
    if (gw_handle_media(h)) { /* another request created one meanwhile */
        pthread_mutex_unlock(l);
        ice_agent_destroy(pc->agent);
        ice_loop_release(pc->loop);
        pc_unref(pc);
        return -EALREADY;
    }
    gw_handle_set_media(h, pc);
    pthread_mutex_unlock(l);
    pc_ref(pc); /* the start task's */
    if (ice_loop_invoke(pc->loop, start_task, pc) < 0)
        pc_unref(pc);
    *out = pc;
    return 0;
}

void pc_wait_gathered(struct gw_pc *pc, unsigned ms)
{
    struct timespec dl;
    vb_clock_deadline_us(&dl, (int64_t)ms * 1000);
    pthread_mutex_lock(&pc->lock);
    while (!pc->gathered && !pc->closed)
        if (pthread_cond_timedwait(&pc->cond, &pc->lock, &dl) != 0)
            break;
    pthread_mutex_unlock(&pc->lock);
}

/* ---- the remote description (loop) ---- */

struct remote_task {
    struct gw_pc *pc;
    char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
    json_t *cands; /* strings */
    bool end_of_candidates;
};

static void remote_task_run(void *arg)
{
    struct remote_task *t = arg;
    struct gw_pc *pc = t->pc;
    ice_agent_set_remote_credentials(pc->agent, t->ufrag, t->pwd);
    size_t i;
    json_t *c;
    json_array_foreach(t->cands, i, c)
        ice_agent_add_remote_candidate(pc->agent, json_string_value(c));
    if (t->end_of_candidates)
        ice_agent_remote_gathering_done(pc->agent);
    dtls_prepare(pc);
    json_decref(t->cands);
    free(t);
    pc_drain_trickles(pc);
    pc_unref(pc);
}

void pc_apply_remote_task(struct gw_pc *pc, const char *ufrag, const char *pwd, json_t *cands,
                          bool end_of_candidates)
{
    struct remote_task *t = xcalloc(1, sizeof *t);
    t->pc = pc;
    snprintf(t->ufrag, sizeof t->ufrag, "%s", ufrag);
    snprintf(t->pwd, sizeof t->pwd, "%s", pwd);
    t->cands = cands;
    t->end_of_candidates = end_of_candidates;
    pc_ref(pc);
    if (ice_loop_invoke(pc->loop, remote_task_run, t) < 0) {
        json_decref(cands);
        free(t);
        pc_unref(pc);
    }
}

void pc_drain_trickles(struct gw_pc *pc)
{
    pthread_mutex_lock(&pc->lock);
    bool ready = pc->remote_set && !pc->closed;
    pthread_mutex_unlock(&pc->lock);
    if (!ready)
        return;
    json_t *items = gw_handle_trickles_take(pc->h);
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c)
    {
        if (json_is_true(json_object_get(c, "completed"))) {
            ice_agent_remote_gathering_done(pc->agent);
            continue;
        }
        /* Bundled: every candidate belongs to the one transport (the first m-line's). */
        json_t *idx = json_object_get(c, "sdpMLineIndex");
        if (json_is_integer(idx) && json_integer_value(idx) != 0)
            continue;
        const char *cand = json_string_value(json_object_get(c, "candidate"));
        if (cand && cand[0])
            ice_agent_add_remote_candidate(pc->agent, cand);
    }
    json_decref(items);
}

void pc_ice_restart(struct gw_pc *pc)
{
    /* Our candidates come again through the callbacks: the list starts over. */
    pthread_mutex_lock(&pc->lock);
    json_array_clear(pc->local_cands);
    pc->gathered = false;
    pc->local_sent = false;
    pthread_mutex_unlock(&pc->lock);
    ice_agent_restart(pc->agent);
}
