/* This file implements the ICE agent's public side: creation of the libnice agent, the control
 * operations (queued onto the agent's loop when called from elsewhere), sending, the
 * handle_info snapshot, references and destruction.
 *
 * DESIGN. libnice's agent is thread-safe, but it emits its signals on whichever thread calls
 * into it, so everything except sending runs on the agent's loop thread: a control call made
 * elsewhere is checked and copied into an `op` and posted to the loop (FIFO). Destruction is in
 * two steps. ice_agent_destroy (any thread) sets `closed`, which every callback checks on entry
 * under the `in_cb` counter, and when called off the loop it waits until `in_cb` is zero: the
 * sequentially consistent flag and counter make "no callback after destroy returns" hold
 * without a lock on the receive path. It then posts the teardown (signals disconnected,
 * stream removed, sockets closed) with the creator's reference. The libnice object itself is
 * released with the last reference, so a sender holding a reference never touches freed
 * memory: after the teardown its sends just fail. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "gateway/ice/ice_internal.h"

enum op_kind { OP_GATHER, OP_CREDS, OP_CANDIDATE, OP_END, OP_RESTART, OP_TEARDOWN };

struct op {
    struct ice_agent *a;
    enum op_kind kind;
    struct ice_candidate cand;
    char text[ICE_CANDIDATE_MAX];
    char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
};

static void agent_free(struct ice_agent *a)
{
    if (a->nice)
        g_object_unref(a->nice);
    ice_agent_list_clear(a->local_cands, &a->n_local);
    ice_agent_list_clear(a->remote_cands, &a->n_remote);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static void agent_free_cb(void *arg)
{
    agent_free(arg);
}

void ice_agent_ref(struct ice_agent *a)
{
    atomic_fetch_add(&a->refs, 1);
}

void ice_agent_unref(struct ice_agent *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    /* libnice's object goes away on its loop, after whatever is running there now. */
    if (ice_loop_post(a->loop, agent_free_cb, a) < 0)
        agent_free(a);
}

bool ice_agent_cb_enter(struct ice_agent *a)
{
    atomic_fetch_add(&a->in_cb, 1);
    if (atomic_load(&a->closed)) {
        atomic_fetch_sub(&a->in_cb, 1);
        return false;
    }
    return true;
}

void ice_agent_cb_leave(struct ice_agent *a)
{
    atomic_fetch_sub(&a->in_cb, 1);
}

static NiceAgent *nice_new(struct ice_agent *a)
{
    const struct ice_config *cfg = a->cfg;
    NiceAgentOption opts = NICE_AGENT_OPTION_ICE_TRICKLE;
    if (cfg->regular_nomination)
        opts |= NICE_AGENT_OPTION_REGULAR_NOMINATION;
    if (cfg->consent_freshness)
        opts |= NICE_AGENT_OPTION_CONSENT_FRESHNESS;
    if (cfg->ice_lite)
        opts |= NICE_AGENT_OPTION_LITE_MODE;
    NiceAgent *n = nice_agent_new_full(ice_loop_context(a->loop), NICE_COMPATIBILITY_RFC5245, opts);
    g_object_set(n, "upnp", FALSE, "ice-udp", TRUE, "ice-tcp", (gboolean)cfg->ice_tcp,
                 "controlling-mode", (gboolean)a->controlling, "keepalive-conncheck",
                 (gboolean)cfg->keepalive_conncheck, NULL);
    if (cfg->stun_ip[0])
        g_object_set(n, "stun-server", cfg->stun_ip, "stun-server-port", (guint)cfg->stun_port,
                     NULL);
    return n;
}

/* Adds the configured local addresses, the stream and our credentials. */
static int nice_setup(struct ice_agent *a)
{
    struct ice_local_addr addrs[ICE_ADDRS_MAX];
    size_t n = 0;
    int rc = ice_config_local_addresses(a->cfg, addrs, ICE_ADDRS_MAX, &n);
    if (rc < 0)
        return rc;
    if (n == 0)
        return -EADDRNOTAVAIL;
    for (size_t i = 0; i < n; i++) {
        NiceAddress na;
        nice_address_init(&na);
        if (!nice_address_set_from_string(&na, addrs[i].ip) ||
            !nice_agent_add_local_address(a->nice, &na))
            return -EIO;
    }
    a->stream = nice_agent_add_stream(a->nice, 1);
    if (a->stream == 0)
        return -EIO;
    if (a->cfg->port_min)
        nice_agent_set_port_range(a->nice, a->stream, 1, a->cfg->port_min, a->cfg->port_max);
    ice_random_chars(a->ufrag, 9);
    ice_random_chars(a->pwd, 25);
    if (!nice_agent_set_local_credentials(a->nice, a->stream, a->ufrag, a->pwd))
        return -EIO;
    return 0;
}

int ice_agent_create(struct ice_loop *loop, const struct ice_config *cfg, bool controlling,
                     const struct ice_agent_callbacks *cb, struct ice_agent **out)
{
    if (!loop || !cfg || !cfg->prepared || !out)
        return -EINVAL;
    struct ice_agent *a = xcalloc(1, sizeof *a);
    atomic_init(&a->refs, 1);
    atomic_init(&a->state, ICE_STATE_DISCONNECTED);
    a->loop = loop;
    a->cfg = cfg;
    a->log = cfg->log ? cfg->log : ice_loop_log(loop);
    if (cb)
        a->cb = *cb;
    a->controlling = controlling && !cfg->ice_lite; /* a lite agent is always controlled */
    pthread_mutex_init(&a->lock, NULL);
    a->nice = nice_new(a);
    int rc = nice_setup(a);
    if (rc < 0) {
        vb_log_error(a->log, "ice: cannot create an agent: error %d", rc);
        agent_free(a);
        return rc;
    }
    ice_agent_nice_attach(a);
    *out = a;
    return 0;
}

static void op_restart(struct op *op)
{
    struct ice_agent *a = op->a;
    if (!nice_agent_restart_stream(a->nice, a->stream) ||
        !nice_agent_set_local_credentials(a->nice, a->stream, op->ufrag, op->pwd)) {
        vb_log_warn(a->log, "ice: restart refused by libnice");
        return;
    }
    ice_agent_replay_local(a);
}

static void op_run(struct op *op)
{
    struct ice_agent *a = op->a;
    switch (op->kind) {
    case OP_GATHER:
        if (!nice_agent_gather_candidates(a->nice, a->stream)) {
            vb_log_warn(a->log, "ice: gathering failed");
            ice_agent_report_state(a, ICE_STATE_FAILED);
        }
        break;
    case OP_CREDS:
        if (!nice_agent_set_remote_credentials(a->nice, a->stream, op->ufrag, op->pwd))
            vb_log_warn(a->log, "ice: remote credentials refused by libnice");
        break;
    case OP_CANDIDATE:
        if (ice_agent_nice_add_remote(a, &op->cand) < 0)
            vb_log_warn(a->log, "ice: remote candidate refused by libnice: %s", op->text);
        break;
    case OP_END:
        nice_agent_peer_candidate_gathering_done(a->nice, a->stream);
        break;
    case OP_RESTART:
        op_restart(op);
        break;
    case OP_TEARDOWN:
        break;
    }
}

/* Runs on the loop. Every op holds a reference; the teardown's is the creator's. */
static void op_cb(void *arg)
{
    struct op *op = arg;
    struct ice_agent *a = op->a;
    if (op->kind == OP_TEARDOWN)
        ice_agent_nice_detach(a);
    else if (!atomic_load(&a->closed))
        op_run(op);
    free(op);
    ice_agent_unref(a);
}

static struct op *op_new(struct ice_agent *a, enum op_kind kind)
{
    struct op *op = xcalloc(1, sizeof *op);
    op->a = a;
    op->kind = kind;
    return op;
}

/* Runs `op` now when on the loop thread, else posts it; takes a reference for it. The
 * teardown is always posted (never run inside a libnice callback) and uses the creator's. */
static int op_submit(struct op *op)
{
    struct ice_agent *a = op->a;
    if (op->kind == OP_TEARDOWN) {
        if (ice_loop_post(a->loop, op_cb, op) < 0)
            op_cb(op); /* the loop is stopping: close here rather than leak */
        return 0;
    }
    if (atomic_load(&a->closed)) {
        free(op);
        return -ECANCELED;
    }
    ice_agent_ref(a);
    if (ice_loop_invoke(a->loop, op_cb, op) < 0) {
        free(op);
        ice_agent_unref(a);
        return -ECANCELED;
    }
    return 0;
}

int ice_agent_gather(struct ice_agent *a)
{
    return op_submit(op_new(a, OP_GATHER));
}

int ice_agent_local_credentials(struct ice_agent *a, char *ufrag, size_t ulen, char *pwd,
                                size_t plen)
{
    int rc = 0;
    pthread_mutex_lock(&a->lock);
    if (strlen(a->ufrag) >= ulen || strlen(a->pwd) >= plen)
        rc = -ENOSPC;
    else {
        strcpy(ufrag, a->ufrag);
        strcpy(pwd, a->pwd);
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int ice_agent_set_remote_credentials(struct ice_agent *a, const char *ufrag, const char *pwd)
{
    if (!ice_chars_valid(ufrag, ICE_UFRAG_MAX) || !ice_chars_valid(pwd, ICE_PWD_MAX))
        return -EINVAL;
    struct op *op = op_new(a, OP_CREDS);
    strcpy(op->ufrag, ufrag);
    strcpy(op->pwd, pwd);
    pthread_mutex_lock(&a->lock);
    strcpy(a->remote_ufrag, ufrag);
    pthread_mutex_unlock(&a->lock);
    return op_submit(op);
}

/* The checks a remote candidate must pass before it is queued. */
static int remote_check(struct ice_agent *a, const char *text, struct ice_candidate *c)
{
    int rc = ice_candidate_parse(text, c);
    if (rc < 0)
        return rc;
    if (c->component != 1 || (c->transport == ICE_TRANSPORT_TCP && !a->cfg->ice_tcp))
        return -EPROTONOSUPPORT;
    if (c->addr.ss_family == AF_INET6 && !a->cfg->ipv6)
        return -EPROTONOSUPPORT;
    if (a->cfg->remote_filter &&
        !a->cfg->remote_filter(a->cfg->remote_filter_ctx, (const struct sockaddr *)&c->addr))
        return -EPERM;
    return 0;
}

int ice_agent_add_remote_candidate(struct ice_agent *a, const char *candidate)
{
    struct ice_candidate c;
    int rc = remote_check(a, candidate, &c);
    if (rc < 0)
        return rc;
    struct op *op = op_new(a, OP_CANDIDATE);
    op->cand = c;
    ice_candidate_format(&c, op->text, sizeof op->text);
    pthread_mutex_lock(&a->lock);
    bool room = ice_agent_list_add(a->remote_cands, &a->n_remote, op->text);
    pthread_mutex_unlock(&a->lock);
    if (!room) {
        free(op);
        return -ENOBUFS;
    }
    return op_submit(op);
}

int ice_agent_remote_gathering_done(struct ice_agent *a)
{
    return op_submit(op_new(a, OP_END));
}

int ice_agent_restart(struct ice_agent *a)
{
    if (atomic_load(&a->closed))
        return -ECANCELED;
    struct op *op = op_new(a, OP_RESTART);
    ice_random_chars(op->ufrag, 9);
    ice_random_chars(op->pwd, 25);
    pthread_mutex_lock(&a->lock);
    strcpy(a->ufrag, op->ufrag);
    strcpy(a->pwd, op->pwd);
    a->remote_ufrag[0] = '\0';
    ice_agent_list_clear(a->remote_cands, &a->n_remote);
    pthread_mutex_unlock(&a->lock);
    return op_submit(op);
}

int ice_agent_send(struct ice_agent *a, const void *buf, size_t len)
{
    if (len == 0 || len > 65535)
        return -EINVAL;
    if (atomic_load_explicit(&a->closed, memory_order_relaxed))
        return -ENOTCONN;
    gint n = nice_agent_send(a->nice, a->stream, 1, (guint)len, buf);
    if (n == (gint)len)
        return 0;
    int st = atomic_load_explicit(&a->state, memory_order_relaxed);
    return st == ICE_STATE_CONNECTED || st == ICE_STATE_READY ? -EIO : -ENOTCONN;
}

enum ice_state ice_agent_state(const struct ice_agent *a)
{
    return (enum ice_state)atomic_load(&a->state);
}

static json_t *list_to_json(char *const *list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(list[i]));
    return arr;
}

json_t *ice_agent_info(struct ice_agent *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(ice_state_name(ice_agent_state(a))));
    json_object_set_new(o, "controlling", json_boolean(a->controlling));
    pthread_mutex_lock(&a->lock);
    json_object_set_new(o, "ufrag", json_string(a->ufrag));
    json_object_set_new(o, "remote-ufrag", json_string(a->remote_ufrag));
    json_object_set_new(o, "local-candidates", list_to_json(a->local_cands, a->n_local));
    json_object_set_new(o, "remote-candidates", list_to_json(a->remote_cands, a->n_remote));
    if (a->selected[0])
        json_object_set_new(o, "selected-pair", json_string(a->selected));
    json_object_set_new(o, "ready", json_boolean(a->ever_ready));
    pthread_mutex_unlock(&a->lock);
    return o;
}

void ice_agent_destroy(struct ice_agent *a)
{
    if (!a || atomic_exchange(&a->closed, true))
        return;
    if (!ice_loop_is_current(a->loop))
        while (atomic_load(&a->in_cb) > 0)
            sched_yield();
    op_submit(op_new(a, OP_TEARDOWN));
}
