/* This file implements tool_ice_peer, the program tests/gateway/ice_netns.sh runs inside a
 * network namespace of its own (libnice does not gather on `lo`, so a veth holds 127.0.0.2).
 *
 *   tool_ice_peer pair ADDR [COUNT [LIVENESS]]
 *     Two of our agents (controlling on loop 0, controlled on loop 1, gathering on ADDR)
 *     exchange credentials and trickled candidates through their callbacks, connect, send
 *     COUNT datagrams each way (one direction echoed from the receiving loop thread, both
 *     counted and checked), restart ICE and send again while it happens, then the controlled
 *     one is destroyed and the other must report "failed" (consent lost). Exit status 0 when
 *     every check passed; the measured times are printed. LIVENESS ("consent", "keepalive",
 *     "consent,keepalive" or "none") overrides the config's consent/keepalive switches.
 *
 *   tool_ice_peer echo ADDR [controlling]
 *     One agent (controlled unless told) driven through stdin/stdout by another ICE stack (the
 * aioice peer): it prints "ufrag U", "pwd P", "cand C" and "done" lines, reads the same from stdin,
 * and echoes every datagram it receives. "quit" or EOF ends it; it prints "received N".
 *
 * Remote candidates outside 127.0.0.0/8 are refused (the config's remote_filter). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/ice/ice.h"
#include "tests/test.h"

#define HOLD_MAX 64
#define PAYLOAD 160

struct side {
    const char *name;
    struct ice_agent *agent;
    struct side *peer;
    _Atomic int state;
    _Atomic int candidates, gathered, pairs;
    _Atomic int pings, pongs, datas, bad; /* datagrams received, by kind */
    _Atomic bool destroyed;               /* set once ice_agent_destroy returned */
    _Atomic bool hold;                    /* keep local candidates back (during a restart) */
    pthread_mutex_t lock;
    char *held[HOLD_MAX];
    int n_held;
    bool held_done;
    bool echo_stdout; /* echo mode: print candidates instead of forwarding */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool loopback_only(void *ctx, const struct sockaddr *sa)
{
    (void)ctx;
    if (sa->sa_family != AF_INET)
        return false;
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
}

static void check_alive(struct side *s)
{
    if (atomic_load(&s->destroyed))
        TEST_FAIL_("%s: a callback ran after ice_agent_destroy returned", s->name);
}

static void on_candidate(void *ctx, const char *cand)
{
    struct side *s = ctx;
    check_alive(s);
    atomic_fetch_add(&s->candidates, 1);
    if (s->echo_stdout) {
        printf("cand %s\n", cand);
        fflush(stdout);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (atomic_load(&s->hold)) {
        ASSERT_LT(s->n_held, HOLD_MAX);
        s->held[s->n_held++] = strdup(cand);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    pthread_mutex_unlock(&s->lock);
    int rc = ice_agent_add_remote_candidate(s->peer->agent, cand);
    if (rc != 0 && rc != -ECANCELED)
        TEST_FAIL_("%s: peer refused our candidate %s: %d", s->name, cand, rc);
}

static void on_gathered(void *ctx)
{
    struct side *s = ctx;
    check_alive(s);
    atomic_fetch_add(&s->gathered, 1);
    if (s->echo_stdout) {
        printf("done\n");
        fflush(stdout);
        return;
    }
    pthread_mutex_lock(&s->lock);
    bool hold = atomic_load(&s->hold);
    if (hold)
        s->held_done = true;
    pthread_mutex_unlock(&s->lock);
    if (!hold)
        ice_agent_remote_gathering_done(s->peer->agent);
}

static void on_state(void *ctx, enum ice_state st)
{
    struct side *s = ctx;
    check_alive(s);
    fprintf(stderr, "[%lld] %s: %s\n", (long long)now_ms() % 100000, s->name, ice_state_name(st));
    atomic_store(&s->state, (int)st);
}

static void on_pair(void *ctx, const char *local, const char *remote)
{
    struct side *s = ctx;
    check_alive(s);
    ASSERT(strncmp(local, "candidate:", 10) == 0);
    ASSERT(strncmp(remote, "candidate:", 10) == 0);
    atomic_fetch_add(&s->pairs, 1);
}

/* Datagrams: kind byte ('P' ping, 'O' pong, 'D' data), 4-byte sequence, then a pattern. */
static void fill(uint8_t *buf, char kind, uint32_t seq)
{
    buf[0] = (uint8_t)kind;
    buf[1] = (uint8_t)(seq >> 24);
    buf[2] = (uint8_t)(seq >> 16);
    buf[3] = (uint8_t)(seq >> 8);
    buf[4] = (uint8_t)seq;
    for (int i = 5; i < PAYLOAD; i++)
        buf[i] = (uint8_t)(seq * 31u + (uint32_t)i);
}

static bool valid(const uint8_t *buf, size_t len)
{
    if (len != PAYLOAD)
        return false;
    uint32_t seq = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
    for (int i = 5; i < PAYLOAD; i++)
        if (buf[i] != (uint8_t)(seq * 31u + (uint32_t)i))
            return false;
    return true;
}

static void on_recv(void *ctx, uint8_t *buf, size_t len)
{
    struct side *s = ctx;
    check_alive(s);
    if (s->echo_stdout) {
        if (len < 4 || memcmp(buf, "sync", 4) != 0)
            atomic_fetch_add(&s->datas, 1);
        ice_agent_send(s->agent, buf, len);
        return;
    }
    if (!valid(buf, len)) {
        atomic_fetch_add(&s->bad, 1);
        return;
    }
    switch (buf[0]) {
    case 'P':
        atomic_fetch_add(&s->pings, 1);
        buf[0] = 'O'; /* echo from the loop thread */
        ASSERT_EQ(ice_agent_send(s->agent, buf, len), 0);
        break;
    case 'O':
        atomic_fetch_add(&s->pongs, 1);
        break;
    case 'D':
        atomic_fetch_add(&s->datas, 1);
        break;
    default:
        atomic_fetch_add(&s->bad, 1);
    }
}

static const struct ice_agent_callbacks callbacks = {
    .candidate = on_candidate,
    .gathering_done = on_gathered,
    .state = on_state,
    .selected_pair = on_pair,
    .recv = on_recv,
};

static bool wait_for(_Atomic int *v, int want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (atomic_load(v) < want) {
        if (now_ms() > end)
            return false;
        usleep(1000);
    }
    return true;
}

static bool wait_state(struct side *s, enum ice_state want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (atomic_load(&s->state) != (int)want) {
        if (now_ms() > end)
            return false;
        usleep(1000);
    }
    return true;
}

static void side_init(struct side *s, const char *name)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    pthread_mutex_init(&s->lock, NULL);
}

static void exchange_credentials(struct side *a, struct side *b)
{
    char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
    ASSERT_EQ(ice_agent_local_credentials(a->agent, ufrag, sizeof ufrag, pwd, sizeof pwd), 0);
    ASSERT_EQ(ice_agent_set_remote_credentials(b->agent, ufrag, pwd), 0);
    ASSERT_EQ(ice_agent_local_credentials(b->agent, ufrag, sizeof ufrag, pwd, sizeof pwd), 0);
    ASSERT_EQ(ice_agent_set_remote_credentials(a->agent, ufrag, pwd), 0);
}

/* Sends `count` datagrams of `kind` from this (non-loop) thread, at most 64 in flight as
 * counted by `*echo` (what the other end has received so far, from `base`). */
static void blast(struct side *from, char kind, int count, _Atomic int *arrived, int base)
{
    uint8_t buf[PAYLOAD];
    for (int i = 0; i < count; i++) {
        int64_t end = now_ms() + 5000;
        while (i - (atomic_load(arrived) - base) >= 64) {
            if (now_ms() > end)
                TEST_FAIL_("%s: %d of %d datagrams arrived, stalled", from->name,
                           atomic_load(arrived) - base, i);
            usleep(200);
        }
        fill(buf, kind, (uint32_t)i);
        int rc = ice_agent_send(from->agent, buf, sizeof buf);
        if (rc != 0)
            TEST_FAIL_("%s: send %d failed: %d", from->name, i, rc);
    }
}

static void exchange_data(struct side *a, struct side *b, int count)
{
    int pings = atomic_load(&b->pings), pongs = atomic_load(&a->pongs);
    int datas = atomic_load(&a->datas);
    blast(a, 'P', count, &a->pongs, pongs);
    blast(b, 'D', count, &a->datas, datas);
    ASSERT(wait_for(&b->pings, pings + count, 5000));
    ASSERT(wait_for(&a->pongs, pongs + count, 5000));
    ASSERT(wait_for(&a->datas, datas + count, 5000));
    usleep(100000); /* nothing extra arrives */
    ASSERT_EQ(atomic_load(&b->pings), pings + count);
    ASSERT_EQ(atomic_load(&a->pongs), pongs + count);
    ASSERT_EQ(atomic_load(&a->datas), datas + count);
    ASSERT_EQ(atomic_load(&a->bad) + atomic_load(&b->bad), 0);
    fprintf(stderr, "%d datagrams each way arrived (echoed: %d)\n", count, count);
}

static void release_held(struct side *s)
{
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->hold, false);
    for (int i = 0; i < s->n_held; i++) {
        ASSERT_EQ(ice_agent_add_remote_candidate(s->peer->agent, s->held[i]), 0);
        free(s->held[i]);
    }
    s->n_held = 0;
    if (s->held_done)
        ice_agent_remote_gathering_done(s->peer->agent);
    s->held_done = false;
    pthread_mutex_unlock(&s->lock);
}

/* Both restart (as an offer with new credentials and its answer would make them), while
 * datagrams keep flowing. */
static void restart(struct side *a, struct side *b, int count)
{
    char old[ICE_UFRAG_MAX + 1], now[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
    ASSERT_EQ(ice_agent_local_credentials(a->agent, old, sizeof old, pwd, sizeof pwd), 0);
    int ga = atomic_load(&a->gathered), gb = atomic_load(&b->gathered);
    atomic_store(&a->hold, true);
    atomic_store(&b->hold, true);
    ASSERT_EQ(ice_agent_restart(a->agent), 0);
    ASSERT_EQ(ice_agent_local_credentials(a->agent, now, sizeof now, pwd, sizeof pwd), 0);
    ASSERT(strcmp(old, now) != 0);
    ASSERT_EQ(ice_agent_restart(b->agent), 0);
    exchange_credentials(a, b);
    ASSERT(wait_for(&a->gathered, ga + 1, 5000));
    ASSERT(wait_for(&b->gathered, gb + 1, 5000));
    int64_t t0 = now_ms();
    release_held(a);
    release_held(b);
    exchange_data(a, b, count); /* sent while the new checks run */
    ASSERT(wait_state(a, ICE_STATE_READY, 10000));
    ASSERT(wait_state(b, ICE_STATE_READY, 10000));
    fprintf(stderr, "ICE restart: ready again in %lld ms\n", (long long)(now_ms() - t0));
    json_t *info = ice_agent_info(a->agent);
    ASSERT_STREQ(json_string_value(json_object_get(info, "ufrag")), now);
    ASSERT(json_is_string(json_object_get(info, "selected-pair")));
    json_decref(info);
    exchange_data(a, b, count);
}

static int run_pair(const char *addr, int count, const char *liveness)
{
    struct ice_config cfg;
    char err[256];
    ice_config_init(&cfg);
    if (liveness) {
        cfg.consent_freshness = strstr(liveness, "consent") != NULL;
        cfg.keepalive_conncheck = strstr(liveness, "keepalive") != NULL;
    }
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, addr, err, sizeof err), 0);
    cfg.remote_filter = loopback_only;
    if (ice_config_prepare(&cfg, err, sizeof err) != 0)
        TEST_FAIL_("config: %s", err);
    struct ice_loops *loops;
    ASSERT_EQ(ice_loops_create(2, NULL, &loops), 0);
    struct side a, b;
    side_init(&a, "controlling");
    side_init(&b, "controlled");
    a.peer = &b;
    b.peer = &a;
    struct ice_agent_callbacks cba = callbacks, cbb = callbacks;
    cba.ctx = &a;
    cbb.ctx = &b;
    ASSERT_EQ(ice_agent_create(ice_loops_get(loops, 0), &cfg, true, &cba, &a.agent), 0);
    ASSERT_EQ(ice_agent_create(ice_loops_get(loops, 1), &cfg, false, &cbb, &b.agent), 0);
    ice_agent_ref(a.agent); /* the peers' references, for forwarding after a destroy */
    ice_agent_ref(b.agent);
    exchange_credentials(&a, &b);
    int64_t t0 = now_ms();
    ASSERT_EQ(ice_agent_gather(a.agent), 0);
    ASSERT_EQ(ice_agent_gather(b.agent), 0);
    ASSERT(wait_state(&a, ICE_STATE_READY, 10000));
    ASSERT(wait_state(&b, ICE_STATE_READY, 10000));
    fprintf(stderr, "ready in %lld ms\n", (long long)(now_ms() - t0));
    ASSERT_GE(atomic_load(&a.candidates), 1);
    ASSERT_GE(atomic_load(&a.pairs), 1);
    ASSERT_GE(atomic_load(&b.pairs), 1);
    json_t *info = ice_agent_info(b.agent);
    char *dump = json_dumps(info, JSON_COMPACT);
    fprintf(stderr, "controlled: %s\n", dump);
    free(dump);
    json_decref(info);

    exchange_data(&a, &b, count);
    restart(&a, &b, count);

    /* The controlled agent goes away without a word; the other must notice. */
    t0 = now_ms();
    ice_agent_destroy(b.agent);
    atomic_store(&b.destroyed, true);
    ASSERT_EQ(ice_agent_send(b.agent, "x", 1), -ENOTCONN);
    ASSERT_EQ(ice_agent_add_remote_candidate(b.agent, "candidate:1 1 udp 1 127.0.0.2 9 typ host"),
              -ECANCELED);
    ASSERT(wait_state(&a, ICE_STATE_FAILED, 60000));
    fprintf(stderr, "peer gone: failed after %lld ms\n", (long long)(now_ms() - t0));
    ASSERT_NE(ice_agent_send(a.agent, "x", 1), 0);

    ice_agent_destroy(a.agent);
    atomic_store(&a.destroyed, true);
    ice_agent_unref(a.agent);
    ice_agent_unref(b.agent);
    ice_loops_destroy(loops);
    ice_config_free(&cfg);
    fprintf(stderr, "pair: all checks passed\n");
    return 0;
}

static void handle_line(struct side *s, char *line, char *ufrag)
{
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "ufrag ", 6) == 0) {
        size_t n = strnlen(line + 6, ICE_UFRAG_MAX); /* the caller's buffer: ICE_UFRAG_MAX + 1 */
        memcpy(ufrag, line + 6, n);
        ufrag[n] = '\0';
    } else if (strncmp(line, "pwd ", 4) == 0)
        ASSERT_EQ(ice_agent_set_remote_credentials(s->agent, ufrag, line + 4), 0);
    else if (strncmp(line, "cand ", 5) == 0) {
        int rc = ice_agent_add_remote_candidate(s->agent, line + 5);
        fprintf(stderr, "echo: remote %s -> %d\n", line + 5, rc);
    } else if (strcmp(line, "done") == 0)
        ice_agent_remote_gathering_done(s->agent);
}

static int run_echo(const char *addr, bool controlling)
{
    struct ice_config cfg;
    char err[256], line[1024], ufrag[ICE_UFRAG_MAX + 1] = "", pwd[ICE_PWD_MAX + 1];
    ice_config_init(&cfg);
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, addr, err, sizeof err), 0);
    cfg.remote_filter = loopback_only;
    if (ice_config_prepare(&cfg, err, sizeof err) != 0)
        TEST_FAIL_("config: %s", err);
    struct ice_loops *loops;
    ASSERT_EQ(ice_loops_create(1, NULL, &loops), 0);
    struct side s;
    side_init(&s, "echo");
    s.echo_stdout = true;
    struct ice_agent_callbacks cb = callbacks;
    cb.ctx = &s;
    ASSERT_EQ(ice_agent_create(ice_loops_pick(loops), &cfg, controlling, &cb, &s.agent), 0);
    ASSERT_EQ(ice_agent_local_credentials(s.agent, line, sizeof line, pwd, sizeof pwd), 0);
    printf("ufrag %s\npwd %s\n", line, pwd);
    fflush(stdout);
    ASSERT_EQ(ice_agent_gather(s.agent), 0);
    while (fgets(line, sizeof line, stdin) && strncmp(line, "quit", 4) != 0)
        handle_line(&s, line, ufrag);
    int received = atomic_load(&s.datas);
    enum ice_state st = ice_agent_state(s.agent);
    ice_agent_destroy(s.agent);
    atomic_store(&s.destroyed, true);
    ice_loop_release(ice_loops_get(loops, 0));
    ice_loops_destroy(loops);
    ice_config_free(&cfg);
    printf("received %d state %s\n", received, ice_state_name(st));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "pair") == 0)
        return run_pair(argv[2], argc > 3 ? atoi(argv[3]) : 1000, argc > 4 ? argv[4] : NULL);
    if (argc >= 3 && strcmp(argv[1], "echo") == 0)
        return run_echo(argv[2], argc > 3 && strcmp(argv[3], "controlling") == 0);
    fprintf(
        stderr,
        "usage: tool_ice_peer pair ADDR [COUNT [consent,keepalive]] | echo ADDR [controlling]\n");
    return 2;
}
