/* gateway/ice/ice_internal.h — what the files of gateway/ice/ share and nobody else uses. */
#ifndef VB_GATEWAY_ICE_INTERNAL_H
#define VB_GATEWAY_ICE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <glib.h>
#include <agent.h>

#include "gateway/ice/ice.h"

#define ICE_INFO_CANDS_MAX 64 /* candidates kept per side (remote ones beyond: refused) */
#define ICE_PAIR_MAX 200      /* "IP:PORT [type,udp] <-> IP:PORT [type,udp]" */

/* One agent (agent.c: public API, operations, lifetime; agent_nice.c: libnice's side). */
struct ice_agent {
    _Atomic int refs;
    _Atomic bool closed; /* set by destroy; callbacks check it */
    _Atomic int in_cb;   /* callbacks in progress (on the loop thread) */
    _Atomic int state;   /* enum ice_state */
    struct ice_loop *loop;
    const struct ice_config *cfg;
    const struct vb_log *log;
    struct ice_agent_callbacks cb;
    bool controlling;
    NiceAgent *nice; /* released by the final unref */
    guint stream;
    /* Loop thread only. */
    bool gathering_done;
    /* The handle_info snapshot, under `lock` (written on the loop, read anywhere). */
    pthread_mutex_t lock;
    char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
    char remote_ufrag[ICE_UFRAG_MAX + 1];
    char *local_cands[ICE_INFO_CANDS_MAX];
    size_t n_local;
    char *remote_cands[ICE_INFO_CANDS_MAX];
    size_t n_remote;
    char selected[ICE_PAIR_MAX];
    bool ever_ready;
};

/* agent_nice.c. Connects the signals and the receive callback (at creation). */
void ice_agent_nice_attach(struct ice_agent *a);
/* Disconnects them and closes the stream's sockets (teardown, on the loop). */
void ice_agent_nice_detach(struct ice_agent *a);
/* Adds `c` to libnice's remote candidates. 0 or -EIO. Loop thread. */
int ice_agent_nice_add_remote(struct ice_agent *a, const struct ice_candidate *c);
/* Gives every local candidate again, then gathering_done (after a restart). Loop thread. */
void ice_agent_replay_local(struct ice_agent *a);
/* Reports a state (stores it, calls the callback). Loop thread. */
void ice_agent_report_state(struct ice_agent *a, enum ice_state state);
/* Appends a copy of `s` to a bounded list of the snapshot. False when full. Under a->lock. */
bool ice_agent_list_add(char **list, size_t *n, const char *s);
void ice_agent_list_clear(char **list, size_t *n);
/* Callback guard: true if the agent is open (then call ice_agent_cb_leave after). */
bool ice_agent_cb_enter(struct ice_agent *a);
void ice_agent_cb_leave(struct ice_agent *a);

/* The loop's GLib context (borrowed; valid while the loop runs). Any thread. */
GMainContext *ice_loop_context(struct ice_loop *loop);

/* The log given to ice_loops_create (may be NULL). */
const struct vb_log *ice_loop_log(const struct ice_loop *loop);

/* Fills `out` with len-1 random characters of the ICE alphabet [A-Za-z0-9+/] and a NUL. */
void ice_random_chars(char *out, size_t len);

/* True when `s` is 1..max ice-chars. */
bool ice_chars_valid(const char *s, size_t max);

/* Writes the numeric form of `sa`'s address into `buf` ("" on an unknown family). */
void ice_sockaddr_ip(const struct sockaddr *sa, char *buf, size_t len);
uint16_t ice_sockaddr_port(const struct sockaddr *sa);
void ice_sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port);

/* Parses a numeric IPv4/IPv6 address with `port` into `out`. 0 or -EINVAL. */
int ice_sockaddr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *out);

#endif
