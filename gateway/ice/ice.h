/* gateway/ice/ice.h — media loop threads and ICE agents (libnice).
 *
 * Three parts:
 *
 * Media loops. `struct ice_loops` is a fixed pool of threads, each running its own GLib main
 * context (never GLib's default context). A PeerConnection is pinned to one loop
 * (ice_loops_pick); everything it receives is handled on that loop's thread. Work is moved onto
 * a loop with ice_loop_invoke/ice_loop_post (FIFO per loop), and timers run there too.
 *
 * Configuration (`struct ice_config`, like Janus's `nat` section): port range, interfaces or
 * addresses to use or ignore, STUN, 1:1 NAT, ICE-TCP, IPv6, trickle, lite. Filled at start-up,
 * prepared once (ice_config_prepare), then read-only and shared by every agent.
 *
 * Agents. `struct ice_agent` is the ICE transport of one PeerConnection: one libnice stream with
 * one component (bundle + rtcp-mux), living on one loop.
 *
 * THE RULES FOR AGENTS (threads and lifetime)
 * - Every ice_agent_* function may be called from any thread. Control calls (gather, remote
 *   credentials and candidates, end-of-candidates, restart) run at once when called on the
 *   agent's loop thread and are otherwise queued to it; calls made by one thread keep their
 *   order (but one made on the loop thread runs before what others queued and is still
 *   waiting). Their arguments are checked and copied before they return.
 * - ice_agent_send is the data path: any thread, no queue, no allocation; libnice serialises
 *   it with the agent's own mutex (one per agent in libnice 0.1.21, so sends on different
 *   agents do not contend).
 * - Every callback runs on the agent's loop thread, never concurrently with another callback
 *   of the same agent. Callbacks must not block. They may call any ice_agent_* function on
 *   their own agent, including ice_agent_destroy.
 * - ice_agent_destroy() stops the callbacks: once it returns, no callback of that agent runs
 *   or will run. Called on the loop thread (typically from a callback) it returns at once
 *   (a callback of that agent further up the same stack, such as the caller, still finishes).
 *   Called from another thread it waits for a callback in progress on the loop to return, so
 *   the caller must not hold a lock that a callback of this agent may take (deadlock).
 * - Memory is reference counted. ice_agent_create's reference is the one ice_agent_destroy
 *   drops. A thread that sends on an agent it does not own takes its own reference
 *   (ice_agent_ref) and drops it when done (ice_agent_unref); the agent's memory and its
 *   libnice object stay valid until the last reference is gone. After destroy, send fails
 *   with -ENOTCONN and the control calls with -ECANCELED.
 * - The sockets are closed and libnice released on the loop thread shortly after destroy.
 *   Destroy every agent and drop every reference before ice_loops_destroy().
 */
#ifndef VB_GATEWAY_ICE_H
#define VB_GATEWAY_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <jansson.h>

#include "common/log.h"

/* ----------------------------------------------------------------------------------------- */
/* Media loops                                                                               */
/* ----------------------------------------------------------------------------------------- */

struct ice_loops;
struct ice_loop;
struct ice_timer;

#define ICE_LOOPS_MAX 256

typedef void (*ice_loop_fn)(void *arg);

/* Starts `count` loop threads (0 = one per online CPU; at most ICE_LOOPS_MAX), named
 * "vb-loop-N". `log` is borrowed and may be NULL. 0, -EINVAL or -EAGAIN (thread creation).
 * The caller owns *out (ice_loops_destroy). Any thread. */
int ice_loops_create(unsigned count, const struct vb_log *log, struct ice_loops **out);

/* Stops every loop: work already queued still runs (including what it queues itself), then
 * the threads are joined and everything freed. Queueing from other threads fails with
 * -ECANCELED from the moment it starts. Every agent must have been destroyed and released
 * and every timer freed before. NULL is a no-op. Not from a loop thread. */
void ice_loops_destroy(struct ice_loops *loops);

/* The number of loops. Any thread. */
unsigned ice_loops_count(const struct ice_loops *loops);

/* The loop at `index` (< count; NULL otherwise), borrowed. Any thread. */
struct ice_loop *ice_loops_get(struct ice_loops *loops, unsigned index);

/* The least loaded loop (fewest picks not yet released; the lowest index on a tie), with its
 * load increased by one: match every pick with one ice_loop_release. Any thread. */
struct ice_loop *ice_loops_pick(struct ice_loops *loops);

/* Decreases the load ice_loops_pick increased. Any thread. */
void ice_loop_release(struct ice_loop *loop);

/* The loop's index in its pool and its current load (for Admin's loops_info). Any thread. */
unsigned ice_loop_index(const struct ice_loop *loop);
int ice_loop_load(const struct ice_loop *loop);

/* `{"loops":[{"id":N,"handles":LOAD}, ...]}`, a new reference. Any thread. */
json_t *ice_loops_info(const struct ice_loops *loops);

/* True when called on the loop's own thread (while it runs a callback, an invoke or a
 * timer). Any thread. */
bool ice_loop_is_current(const struct ice_loop *loop);

/* Runs fn(arg) on the loop's thread: at once when already on it, otherwise queued (FIFO with
 * every other invoke and post). 0, or -ECANCELED when the loop is stopping (fn not run).
 * Any thread. */
int ice_loop_invoke(struct ice_loop *loop, ice_loop_fn fn, void *arg);

/* Like ice_loop_invoke but always queued, even from the loop's thread (fn runs after the
 * current callback returns). Any thread. */
int ice_loop_post(struct ice_loop *loop, ice_loop_fn fn, void *arg);

/* A timer callback: runs on the loop's thread. It may reschedule, cancel or free its timer. */
typedef void (*ice_timer_fn)(struct ice_timer *timer, void *arg);

/* Creates a one-shot timer on `loop` that calls fn(timer, arg) once `ms` milliseconds from now.
 * The caller owns *out until ice_timer_free, whether or not it has fired; firing only disarms
 * it (ice_timer_reschedule re-arms it, for periodic work). 0 or -ECANCELED when the loop is
 * stopping. Any thread. */
int ice_loop_timer_add(struct ice_loop *loop, unsigned ms, ice_timer_fn fn, void *arg,
                       struct ice_timer **out);

/* (Re)arms the timer to fire `ms` milliseconds from now, replacing any pending expiry. */
void ice_timer_reschedule(struct ice_timer *timer, unsigned ms);

/* Disarms the timer; it stays valid for ice_timer_reschedule. */
void ice_timer_cancel(struct ice_timer *timer);

/* True when armed. */
bool ice_timer_pending(const struct ice_timer *timer);

/* Disarms and frees. NULL is a no-op.
 * The three functions above and this one may be called from any thread, but only on the
 * loop's thread is it guaranteed that the callback is not running and will not run after
 * they return (from another thread a callback already started may still be running). */
void ice_timer_free(struct ice_timer *timer);

/* ----------------------------------------------------------------------------------------- */
/* Configuration                                                                             */
/* ----------------------------------------------------------------------------------------- */

#define ICE_LIST_MAX 64   /* entries in one list */
#define ICE_ADDRS_MAX 32  /* local addresses an agent gathers on */
#define ICE_NAT_1_1_MAX 4 /* public addresses */

/* A remote-candidate filter: return false to drop a candidate whose address is `sa` (a
 * sockaddr_in or sockaddr_in6 with the port). Called on any thread; must be thread-safe. */
typedef bool (*ice_remote_filter_fn)(void *ctx, const struct sockaddr *sa);

/* Lists are NULL-terminated arrays of owned strings (never NULL after ice_config_init).
 * Set the fields directly or with the setters below; then call ice_config_prepare once. */
struct ice_config {
    uint16_t port_min, port_max; /* RTP port range; 0-0 = any port */
    /* Interface names or IP addresses to use, by prefix ("eth0", "192.168."): when not empty,
     * only matching addresses are gathered on and the ignore list is not used. */
    char **enforce_list;
    /* Interface names or IP addresses to skip, by prefix. Default: "vmnet". */
    char **ignore_list;
    char *stun_server;       /* host name or IP; NULL or "" = no STUN (the default) */
    uint16_t stun_port;      /* default 3478 */
    char **nat_1_1;          /* public IPs advertised instead of our host addresses; empty = off */
    bool keep_private_host;  /* with nat_1_1: advertise the private host candidate too */
    bool ice_tcp;            /* also gather TCP candidates (default off) */
    bool ipv6;               /* also gather on IPv6 addresses (default off) */
    bool ipv6_linklocal;     /* include fe80::/10 addresses when ipv6 (default off) */
    bool full_trickle;       /* for the PeerConnection: trickle our candidates too (default off) */
    bool ice_lite;           /* ICE-lite (default off) */
    bool regular_nomination; /* default off: aggressive nomination, like Janus */
    /* How a vanished peer is noticed (measured with libnice 0.1.21): with consent freshness
     * (RFC 7675) the state turns "failed" about 10 s after the peer goes silent; with only
     * keepalive connchecks after about 50 s; with neither, never. Both default on. */
    bool keepalive_conncheck; /* keepalives are binding requests that need an answer */
    bool consent_freshness;   /* RFC 7675 consent checks */
    /* Test hook: drop remote candidates it refuses (NULL = keep all). */
    ice_remote_filter_fn remote_filter;
    void *remote_filter_ctx;
    const struct vb_log *log; /* borrowed; may be NULL */

    /* Filled by ice_config_prepare. */
    bool prepared;
    char stun_ip[INET6_ADDRSTRLEN]; /* "" = no STUN */
};

/* Fills the defaults. `cfg` must own nothing yet. */
void ice_config_init(struct ice_config *cfg);

/* Frees what the config owns (it may be initialised again). NULL is a no-op. */
void ice_config_free(struct ice_config *cfg);

/* Setters from text (as in a config file or a flag). Each returns 0, or -EINVAL with `err`
 * saying what is wrong (the config keeps its previous value).
 * port range: "MIN-MAX" with 1 <= MIN <= MAX <= 65535, or "" / "0-0" for any port. */
int ice_config_set_port_range(struct ice_config *cfg, const char *text, char *err, size_t errlen);
/* A comma-separated list; blanks around entries are dropped; "" = empty. */
int ice_config_set_enforce_list(struct ice_config *cfg, const char *text, char *err, size_t errlen);
int ice_config_set_ignore_list(struct ice_config *cfg, const char *text, char *err, size_t errlen);
/* "HOST", "HOST:PORT", "[IPV6]:PORT", or "" for none. */
int ice_config_set_stun_server(struct ice_config *cfg, const char *text, char *err, size_t errlen);
/* A comma-separated list of numeric IPv4/IPv6 addresses, or "". */
int ice_config_set_nat_1_1(struct ice_config *cfg, const char *text, char *err, size_t errlen);

/* Checks the whole config and resolves the STUN server (a DNS lookup: call at start-up, not on
 * a media thread). Fails when no local address passes the enforce/ignore lists. 0 or -EINVAL
 * with `err` filled. Afterwards the config must not change while agents use it. */
int ice_config_prepare(struct ice_config *cfg, char *err, size_t errlen);

/* One local address gathering may use. */
struct ice_local_addr {
    char ifname[32];
    char ip[INET6_ADDRSTRLEN];
    int family; /* AF_INET or AF_INET6 */
};

/* Would the address `ip` on interface `ifname` (flags as in getifaddrs) be used? Pure. */
bool ice_config_address_wanted(const struct ice_config *cfg, const char *ifname, unsigned flags,
                               int family, const char *ip);

/* The host's addresses that pass ice_config_address_wanted (getifaddrs), at most `max`.
 * 0 (*n may be 0) or a negative errno. Any thread. */
int ice_config_local_addresses(const struct ice_config *cfg, struct ice_local_addr *out, size_t max,
                               size_t *n);

/* The config as JSON (Janus-like key names), a new reference. */
json_t *ice_config_to_json(const struct ice_config *cfg);

/* ----------------------------------------------------------------------------------------- */
/* Candidates (SDP "candidate:" attribute values)                                            */
/* ----------------------------------------------------------------------------------------- */

enum ice_transport { ICE_TRANSPORT_UDP, ICE_TRANSPORT_TCP };
enum ice_cand_type { ICE_CAND_HOST, ICE_CAND_SRFLX, ICE_CAND_PRFLX, ICE_CAND_RELAY };
enum ice_tcp_type { ICE_TCP_NONE, ICE_TCP_ACTIVE, ICE_TCP_PASSIVE, ICE_TCP_SO };

#define ICE_FOUNDATION_MAX 32
#define ICE_CANDIDATE_MAX 512 /* longest candidate line we accept or write, with the NUL */

struct ice_candidate {
    char foundation[ICE_FOUNDATION_MAX + 1];
    unsigned component; /* 1..256 */
    enum ice_transport transport;
    uint32_t priority;
    struct sockaddr_storage addr; /* address and port */
    enum ice_cand_type type;
    bool has_related;
    struct sockaddr_storage related; /* raddr/rport, when has_related */
    enum ice_tcp_type tcptype;
};

/* Parses "candidate:..." (an optional "a=" before it and CR/LF after it are accepted).
 * Extensions other than tcptype (generation, ufrag, network-id, ...) are skipped. Returns 0,
 * -EINVAL (malformed or too long), or -EAFNOSUPPORT when the address is a host name (an mDNS
 * ".local" name among them: we never resolve names, so mDNS is always off). Pure; any
 * thread. */
int ice_candidate_parse(const char *text, struct ice_candidate *out);

/* Writes `c` as "candidate:F C udp P IP PORT typ T [raddr IP rport PORT] [tcptype T]".
 * Returns the length, or -ENOSPC when `len` is too small. Pure. */
int ice_candidate_format(const struct ice_candidate *c, char *buf, size_t len);

const char *ice_cand_type_name(enum ice_cand_type type);

/* ----------------------------------------------------------------------------------------- */
/* Agents                                                                                    */
/* ----------------------------------------------------------------------------------------- */

struct ice_agent;

/* Component states, as libnice reports them. */
enum ice_state {
    ICE_STATE_DISCONNECTED,
    ICE_STATE_GATHERING,
    ICE_STATE_CONNECTING,
    ICE_STATE_CONNECTED, /* a pair works: media may flow (start DTLS) */
    ICE_STATE_READY,     /* checks are over and a pair is nominated */
    ICE_STATE_FAILED,    /* no pair works, or consent/keepalives were lost */
};

/* "disconnected", "gathering", "connecting", "connected", "ready", "failed" (Janus's words). */
const char *ice_state_name(enum ice_state state);

#define ICE_UFRAG_MAX 256
#define ICE_PWD_MAX 256

/* The agent's callbacks: all on its loop thread (see THE RULES above); any may be NULL.
 * Strings and buffers are borrowed for the duration of the call. */
struct ice_agent_callbacks {
    void *ctx;
    /* A local candidate, "candidate:..." (with the 1:1 NAT rewrite applied). Gathering gives
     * each once; after ice_agent_restart they are all given again, then gathering_done. */
    void (*candidate)(void *ctx, const char *candidate);
    /* Every local candidate has been given (end-of-candidates for the peer). */
    void (*gathering_done)(void *ctx);
    /* The component state changed. */
    void (*state)(void *ctx, enum ice_state state);
    /* A pair was selected: our candidate and the peer's, as "candidate:..." strings. */
    void (*selected_pair)(void *ctx, const char *local, const char *remote);
    /* A datagram from the peer (not STUN). The buffer may be modified in place. */
    void (*recv)(void *ctx, uint8_t *buf, size_t len);
};

/* Creates an agent on `loop`: its libnice agent (one stream, one component), fresh local
 * credentials, the local addresses chosen by `cfg`. `controlling` is our initial ICE role
 * (ignored with ice_lite: a lite agent is controlled; libnice resolves role conflicts). `cfg`
 * (prepared) and `loop` are borrowed and must outlive the agent; `cb` is copied. Nothing happens on
 * the network until ice_agent_gather. 0, -EINVAL (config not prepared), -EADDRNOTAVAIL (no local
 * address), -EIO (libnice refused). The caller owns the reference in *out (ice_agent_destroy). Any
 * thread. */
int ice_agent_create(struct ice_loop *loop, const struct ice_config *cfg, bool controlling,
                     const struct ice_agent_callbacks *cb, struct ice_agent **out);

/* Starts gathering (queued to the loop): candidates come through the callbacks. 0 or
 * -ECANCELED (destroyed). A gathering failure is reported as state FAILED. */
int ice_agent_gather(struct ice_agent *a);

/* Copies our current ufrag and password (they change with ice_agent_restart, which sets the
 * new ones before it returns). Buffers of ICE_UFRAG_MAX + 1 / ICE_PWD_MAX + 1 always fit.
 * 0 or -ENOSPC. */
int ice_agent_local_credentials(struct ice_agent *a, char *ufrag, size_t ulen, char *pwd,
                                size_t plen);

/* Sets the peer's ufrag and password (ice-chars, 1..256 long). 0, -EINVAL or -ECANCELED. */
int ice_agent_set_remote_credentials(struct ice_agent *a, const char *ufrag, const char *pwd);

/* Adds one remote candidate ("candidate:..." with or without "a="). 0; -EINVAL (malformed),
 * -EAFNOSUPPORT (host name / mDNS), -EPROTONOSUPPORT (TCP while ICE-TCP is off, or a
 * component other than 1: we mux RTCP), -EPERM (refused by the config's remote_filter),
 * -ECANCELED. Nothing is added when an error is returned. */
int ice_agent_add_remote_candidate(struct ice_agent *a, const char *candidate);

/* The peer sent end-of-candidates: the agent may now give up (state FAILED) when no pair
 * works. Agents run libnice in trickle mode, so before this call a connection that never
 * works is not reported as failed: a PeerConnection calls it when the peer signals
 * completion (or sent no trickle at all) and keeps its own timeout for peers that never do.
 * 0 or -ECANCELED. */
int ice_agent_remote_gathering_done(struct ice_agent *a);

/* ICE restart: new local credentials (readable as soon as this returns), the peer's
 * credentials and candidates forgotten (set the new ones next), the selected pair kept so
 * media keeps flowing until a new one is chosen. Our candidates are given again through the
 * callbacks. 0 or -ECANCELED. */
int ice_agent_restart(struct ice_agent *a);

/* Sends one datagram on the selected pair. Any thread, never blocks, no allocation.
 * 0, -EINVAL (len 0 or > 65535), -ENOTCONN (no pair yet, or destroyed) or -EIO. */
int ice_agent_send(struct ice_agent *a, const void *buf, size_t len);

/* The last state reported. Any thread. */
enum ice_state ice_agent_state(const struct ice_agent *a);

/* A snapshot for handle_info, a new reference: {"state", "controlling", "ufrag",
 * "remote-ufrag", "local-candidates":[...], "remote-candidates":[...], "selected-pair",
 * "ready"}. Any thread. */
json_t *ice_agent_info(struct ice_agent *a);

/* References (see THE RULES). unref(NULL) is a no-op. */
void ice_agent_ref(struct ice_agent *a);
void ice_agent_unref(struct ice_agent *a);

/* Stops the agent and drops the creator's reference: see THE RULES. NULL is a no-op. */
void ice_agent_destroy(struct ice_agent *a);

#endif
