/* This file implements the libnice side of an ICE agent: the signal handlers and the receive
 * callback, the conversions between libnice's candidates and ours (with the 1:1 NAT rewrite of
 * what we advertise), and the delivery of events to the agent's callbacks.
 *
 * DESIGN. libnice emits a signal on the thread that released its lock, which is nearly always
 * the agent's loop (gathering and checks run there, and receive callbacks are dispatched there
 * by libnice itself). A signal that does arrive on another thread (a sender's) is copied and
 * posted to the loop, so that the callbacks keep their promise of one thread. Every callback
 * goes through the ice_agent_cb_enter/leave guard, which is what ice_agent_destroy relies on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/ice/ice_internal.h"

enum ev_kind { EV_CANDIDATE, EV_DONE, EV_STATE, EV_PAIR };

struct event {
    struct ice_agent *a;
    enum ev_kind kind;
    enum ice_state state;
    char local[ICE_CANDIDATE_MAX];
    char remote[ICE_CANDIDATE_MAX];
    char pair[ICE_PAIR_MAX];
};

static const char *const state_names[] = {"disconnected", "gathering", "connecting",
                                          "connected",    "ready",     "failed"};

const char *ice_state_name(enum ice_state state)
{
    return (unsigned)state < 6 ? state_names[state] : "unknown";
}

bool ice_agent_list_add(char **list, size_t *n, const char *s)
{
    if (*n >= ICE_INFO_CANDS_MAX)
        return false;
    list[(*n)++] = xstrdup(s);
    return true;
}

void ice_agent_list_clear(char **list, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

static void from_nice(const NiceCandidate *nc, struct ice_candidate *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->foundation, sizeof c->foundation, "%s", nc->foundation);
    c->component = nc->component_id;
    c->priority = nc->priority;
    switch (nc->transport) {
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
        c->transport = ICE_TRANSPORT_TCP;
        c->tcptype = ICE_TCP_ACTIVE;
        break;
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
        c->transport = ICE_TRANSPORT_TCP;
        c->tcptype = ICE_TCP_PASSIVE;
        break;
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
        c->transport = ICE_TRANSPORT_TCP;
        c->tcptype = ICE_TCP_SO;
        break;
    default:
        c->transport = ICE_TRANSPORT_UDP;
    }
    switch (nc->type) {
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        c->type = ICE_CAND_SRFLX;
        break;
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        c->type = ICE_CAND_PRFLX;
        break;
    case NICE_CANDIDATE_TYPE_RELAYED:
        c->type = ICE_CAND_RELAY;
        break;
    default:
        c->type = ICE_CAND_HOST;
    }
    nice_address_copy_to_sockaddr(&nc->addr, (struct sockaddr *)&c->addr);
    if (c->type != ICE_CAND_HOST && nice_address_is_valid(&nc->base_addr)) {
        nice_address_copy_to_sockaddr(&nc->base_addr, (struct sockaddr *)&c->related);
        c->has_related = true;
    }
    /* An active TCP candidate has no port of its own: RFC 6544 writes 9. */
    if (c->tcptype == ICE_TCP_ACTIVE && ice_sockaddr_port((struct sockaddr *)&c->addr) == 0)
        ice_sockaddr_set_port(&c->addr, 9);
}

static void call_candidate(struct ice_agent *a, const char *s)
{
    if (a->cb.candidate && ice_agent_cb_enter(a)) {
        a->cb.candidate(a->cb.ctx, s);
        ice_agent_cb_leave(a);
    }
}

static void call_done(struct ice_agent *a)
{
    if (a->cb.gathering_done && ice_agent_cb_enter(a)) {
        a->cb.gathering_done(a->cb.ctx);
        ice_agent_cb_leave(a);
    }
}

void ice_agent_report_state(struct ice_agent *a, enum ice_state state)
{
    atomic_store(&a->state, (int)state);
    if (state == ICE_STATE_READY) {
        pthread_mutex_lock(&a->lock);
        a->ever_ready = true;
        pthread_mutex_unlock(&a->lock);
    }
    vb_log_debug(a->log, "ice: agent %p state %s", (void *)a, ice_state_name(state));
    if (a->cb.state && ice_agent_cb_enter(a)) {
        a->cb.state(a->cb.ctx, state);
        ice_agent_cb_leave(a);
    }
}

/* On the loop: update the snapshot, then call the callback. */
static void ev_handle(struct event *ev)
{
    struct ice_agent *a = ev->a;
    switch (ev->kind) {
    case EV_CANDIDATE:
        pthread_mutex_lock(&a->lock);
        bool room = ice_agent_list_add(a->local_cands, &a->n_local, ev->local);
        pthread_mutex_unlock(&a->lock);
        if (!room)
            vb_log_warn(a->log, "ice: too many local candidates, dropped %s", ev->local);
        else
            call_candidate(a, ev->local);
        break;
    case EV_DONE:
        a->gathering_done = true;
        call_done(a);
        break;
    case EV_STATE:
        ice_agent_report_state(a, ev->state);
        break;
    case EV_PAIR:
        pthread_mutex_lock(&a->lock);
        snprintf(a->selected, sizeof a->selected, "%s", ev->pair);
        pthread_mutex_unlock(&a->lock);
        if (a->cb.selected_pair && ice_agent_cb_enter(a)) {
            a->cb.selected_pair(a->cb.ctx, ev->local, ev->remote);
            ice_agent_cb_leave(a);
        }
        break;
    }
}

static void ev_posted(void *arg)
{
    struct event *ev = arg;
    struct ice_agent *a = ev->a;
    ev_handle(ev);
    free(ev);
    ice_agent_unref(a);
}

static void ev_emit(struct ice_agent *a, struct event *ev)
{
    ev->a = a;
    if (ice_loop_is_current(a->loop)) {
        ev_handle(ev);
        return;
    }
    struct event *copy = xmalloc(sizeof *copy);
    *copy = *ev;
    ice_agent_ref(a);
    if (ice_loop_post(a->loop, ev_posted, copy) < 0) {
        free(copy);
        ice_agent_unref(a);
    }
}

static void emit_local(struct ice_agent *a, const struct ice_candidate *c)
{
    struct event ev = {.kind = EV_CANDIDATE};
    if (ice_candidate_format(c, ev.local, sizeof ev.local) > 0)
        ev_emit(a, &ev);
}

static void on_new_candidate(NiceAgent *n, NiceCandidate *nc, gpointer data)
{
    (void)n;
    struct ice_agent *a = data;
    struct ice_candidate c;
    if (nc->component_id != 1)
        return;
    from_nice(nc, &c);
    bool rewrote = false;
    for (char **ip = a->cfg->nat_1_1; c.type == ICE_CAND_HOST && ip && *ip; ip++) {
        struct ice_candidate pub = c;
        if (ice_sockaddr_from_ip(*ip, ice_sockaddr_port((struct sockaddr *)&c.addr), &pub.addr) <
                0 ||
            pub.addr.ss_family != c.addr.ss_family)
            continue;
        emit_local(a, &pub);
        rewrote = true;
    }
    if (!rewrote || a->cfg->keep_private_host)
        emit_local(a, &c);
}

static void on_gathering_done(NiceAgent *n, guint stream, gpointer data)
{
    (void)n;
    struct ice_agent *a = data;
    if (stream != a->stream)
        return;
    struct event ev = {.kind = EV_DONE};
    ev_emit(a, &ev);
}

static enum ice_state map_state(guint st)
{
    switch (st) {
    case NICE_COMPONENT_STATE_GATHERING:
        return ICE_STATE_GATHERING;
    case NICE_COMPONENT_STATE_CONNECTING:
        return ICE_STATE_CONNECTING;
    case NICE_COMPONENT_STATE_CONNECTED:
        return ICE_STATE_CONNECTED;
    case NICE_COMPONENT_STATE_READY:
        return ICE_STATE_READY;
    case NICE_COMPONENT_STATE_FAILED:
        return ICE_STATE_FAILED;
    default:
        return ICE_STATE_DISCONNECTED;
    }
}

static void on_state_changed(NiceAgent *n, guint stream, guint comp, guint st, gpointer data)
{
    (void)n;
    struct ice_agent *a = data;
    if (stream != a->stream || comp != 1)
        return;
    struct event ev = {.kind = EV_STATE, .state = map_state(st)};
    ev_emit(a, &ev);
}

static void describe(const struct ice_candidate *c, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    ice_sockaddr_ip((const struct sockaddr *)&c->addr, ip, sizeof ip);
    snprintf(buf, len, "%s:%u [%s,%s]", ip, ice_sockaddr_port((const struct sockaddr *)&c->addr),
             ice_cand_type_name(c->type), c->transport == ICE_TRANSPORT_TCP ? "tcp" : "udp");
}

static void on_selected_pair(NiceAgent *n, guint stream, guint comp, NiceCandidate *lc,
                             NiceCandidate *rc, gpointer data)
{
    (void)n;
    struct ice_agent *a = data;
    if (stream != a->stream || comp != 1 || !lc || !rc)
        return;
    struct ice_candidate l, r;
    from_nice(lc, &l);
    from_nice(rc, &r);
    struct event ev = {.kind = EV_PAIR};
    char ld[96], rd[96];
    describe(&l, ld, sizeof ld);
    describe(&r, rd, sizeof rd);
    snprintf(ev.pair, sizeof ev.pair, "%s <-> %s", ld, rd);
    if (ice_candidate_format(&l, ev.local, sizeof ev.local) > 0 &&
        ice_candidate_format(&r, ev.remote, sizeof ev.remote) > 0)
        ev_emit(a, &ev);
}

/* A peer-reflexive candidate learned from the peer's checks: kept for handle_info only. */
static void on_new_remote(NiceAgent *n, NiceCandidate *nc, gpointer data)
{
    (void)n;
    struct ice_agent *a = data;
    struct ice_candidate c;
    char text[ICE_CANDIDATE_MAX];
    if (nc->stream_id != a->stream || nc->component_id != 1)
        return;
    from_nice(nc, &c);
    if (ice_candidate_format(&c, text, sizeof text) <= 0)
        return;
    pthread_mutex_lock(&a->lock);
    ice_agent_list_add(a->remote_cands, &a->n_remote, text);
    pthread_mutex_unlock(&a->lock);
}

static void on_recv(NiceAgent *n, guint stream, guint comp, guint len, gchar *buf, gpointer data)
{
    (void)n;
    (void)stream;
    (void)comp;
    struct ice_agent *a = data;
    if (a->cb.recv && ice_agent_cb_enter(a)) {
        a->cb.recv(a->cb.ctx, (uint8_t *)buf, len);
        ice_agent_cb_leave(a);
    }
}

void ice_agent_nice_attach(struct ice_agent *a)
{
    g_signal_connect(a->nice, "new-candidate-full", G_CALLBACK(on_new_candidate), a);
    g_signal_connect(a->nice, "candidate-gathering-done", G_CALLBACK(on_gathering_done), a);
    g_signal_connect(a->nice, "component-state-changed", G_CALLBACK(on_state_changed), a);
    g_signal_connect(a->nice, "new-selected-pair-full", G_CALLBACK(on_selected_pair), a);
    g_signal_connect(a->nice, "new-remote-candidate-full", G_CALLBACK(on_new_remote), a);
    nice_agent_attach_recv(a->nice, a->stream, 1, ice_loop_context(a->loop), on_recv, a);
}

void ice_agent_nice_detach(struct ice_agent *a)
{
    g_signal_handlers_disconnect_by_data(a->nice, a);
    nice_agent_attach_recv(a->nice, a->stream, 1, ice_loop_context(a->loop), NULL, NULL);
    nice_agent_remove_stream(a->nice, a->stream);
}

int ice_agent_nice_add_remote(struct ice_agent *a, const struct ice_candidate *c)
{
    static const NiceCandidateType types[] = {
        NICE_CANDIDATE_TYPE_HOST, NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE,
        NICE_CANDIDATE_TYPE_PEER_REFLEXIVE, NICE_CANDIDATE_TYPE_RELAYED};
    NiceCandidate *nc = nice_candidate_new(types[c->type]);
    nc->stream_id = a->stream;
    nc->component_id = c->component;
    nc->priority = c->priority;
    nc->transport = NICE_CANDIDATE_TRANSPORT_UDP;
    if (c->transport == ICE_TRANSPORT_TCP)
        nc->transport = c->tcptype == ICE_TCP_ACTIVE ? NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE
                        : c->tcptype == ICE_TCP_SO   ? NICE_CANDIDATE_TRANSPORT_TCP_SO
                                                     : NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
    snprintf(nc->foundation, sizeof nc->foundation, "%s", c->foundation);
    nice_address_set_from_sockaddr(&nc->addr, (const struct sockaddr *)&c->addr);
    if (c->has_related)
        nice_address_set_from_sockaddr(&nc->base_addr, (const struct sockaddr *)&c->related);
    GSList one = {.data = nc, .next = NULL};
    int added = nice_agent_set_remote_candidates(a->nice, a->stream, c->component, &one);
    nice_candidate_free(nc);
    return added == 1 ? 0 : -EIO;
}

void ice_agent_replay_local(struct ice_agent *a)
{
    char *copy[ICE_INFO_CANDS_MAX];
    size_t n = 0;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->n_local; i++)
        copy[n++] = xstrdup(a->local_cands[i]);
    pthread_mutex_unlock(&a->lock);
    for (size_t i = 0; i < n; i++) {
        call_candidate(a, copy[i]);
        free(copy[i]);
    }
    if (a->gathering_done)
        call_done(a);
}
