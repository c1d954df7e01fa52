/* This file implements the tests of the ICE agents (gateway/ice/agent*.c) that run on the
 * loopback interface of the test's own namespace: our enforce list may name 127.0.0.1, which
 * libnice then uses although it never picks loopback by itself. Pairs of our agents connect
 * there; the checks are the API's errors, the 1:1 NAT rewrite and the port range, traffic both
 * ways, and the promise that no callback runs after ice_agent_destroy returns (destroyed from
 * a callback, and from another thread while datagrams are being received). The full scenario
 * with restarts, consent loss and aioice runs in a network namespace: ice_netns.sh. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/ice/ice.h"
#include "tests/test.h"

struct peer {
    const char *name;
    struct ice_agent *agent;
    struct peer *other;
    _Atomic int state, received, refused, candidates, pairs;
    _Atomic bool gone; /* destroy returned: any callback now is a failure */
    _Atomic int late;  /* callbacks seen after `gone` */
    int destroy_after; /* > 0: destroy ourselves in the recv callback after so many */
    int spin_us;       /* > 0: make every recv callback this slow */
    char nat_seen[64]; /* a 203.0.113.* candidate we advertised */
    _Atomic int private_seen;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool loopback_only(void *ctx, const struct sockaddr *sa)
{
    (void)ctx;
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    return sa->sa_family == AF_INET && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
}

static bool late(struct peer *p)
{
    if (atomic_load(&p->gone)) {
        atomic_fetch_add(&p->late, 1);
        return true;
    }
    return false;
}

static void on_candidate(void *ctx, const char *cand)
{
    struct peer *p = ctx;
    if (late(p))
        return;
    atomic_fetch_add(&p->candidates, 1);
    if (strstr(cand, " 203.0.113."))
        snprintf(p->nat_seen, sizeof p->nat_seen, "%s", cand);
    else
        atomic_fetch_add(&p->private_seen, 1);
    int rc = ice_agent_add_remote_candidate(p->other->agent, cand);
    if (rc == -EPERM)
        atomic_fetch_add(&p->refused, 1); /* the NAT address, refused by the peer's filter */
    else if (rc != 0 && rc != -ECANCELED)
        TEST_FAIL_("%s: candidate %s refused: %d", p->name, cand, rc);
}

static void on_done(void *ctx)
{
    struct peer *p = ctx;
    if (!late(p))
        ice_agent_remote_gathering_done(p->other->agent);
}

static void on_state(void *ctx, enum ice_state st)
{
    struct peer *p = ctx;
    if (!late(p))
        atomic_store(&p->state, (int)st);
}

static void on_pair(void *ctx, const char *local, const char *remote)
{
    struct peer *p = ctx;
    (void)local;
    (void)remote;
    if (!late(p))
        atomic_fetch_add(&p->pairs, 1);
}

static void on_recv(void *ctx, uint8_t *buf, size_t len)
{
    struct peer *p = ctx;
    (void)buf;
    (void)len;
    if (late(p))
        return;
    int n = atomic_fetch_add(&p->received, 1) + 1;
    if (p->spin_us) {
        int64_t end = now_us() + p->spin_us;
        while (now_us() < end)
            ;
    }
    if (p->destroy_after && n == p->destroy_after) {
        ice_agent_destroy(p->agent); /* on the loop: returns at once */
        atomic_store(&p->gone, true);
    }
}

static const struct ice_agent_callbacks callbacks = {
    .candidate = on_candidate,
    .gathering_done = on_done,
    .state = on_state,
    .selected_pair = on_pair,
    .recv = on_recv,
};

static bool wait_int(_Atomic int *v, int want, int timeout_ms)
{
    int64_t end = now_us() + (int64_t)timeout_ms * 1000;
    while (atomic_load(v) < want) {
        if (now_us() > end)
            return false;
        usleep(500);
    }
    return true;
}

static void config_loopback(struct ice_config *cfg)
{
    char err[256];
    ice_config_init(cfg);
    ASSERT_EQ(ice_config_set_enforce_list(cfg, "127.0.0.1", err, sizeof err), 0);
    cfg->remote_filter = loopback_only;
    if (ice_config_prepare(cfg, err, sizeof err) != 0)
        TEST_FAIL_("config: %s", err);
}

/* Creates a and b (controlling/controlled, on loops 0 and 1), connected and ready. */
static void pair_up(struct ice_loops *loops, const struct ice_config *cfg, struct peer *a,
                    struct peer *b)
{
    char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1];
    a->name = "a";
    b->name = "b";
    a->other = b;
    b->other = a;
    struct ice_agent_callbacks ca = callbacks, cb = callbacks;
    ca.ctx = a;
    cb.ctx = b;
    ASSERT_EQ(ice_agent_create(ice_loops_get(loops, 0), cfg, true, &ca, &a->agent), 0);
    ASSERT_EQ(ice_agent_create(ice_loops_get(loops, 1), cfg, false, &cb, &b->agent), 0);
    ice_agent_ref(a->agent); /* held for the other's forwarding until the test ends */
    ice_agent_ref(b->agent);
    ASSERT_EQ(ice_agent_local_credentials(a->agent, ufrag, sizeof ufrag, pwd, sizeof pwd), 0);
    ASSERT_EQ(ice_agent_set_remote_credentials(b->agent, ufrag, pwd), 0);
    ASSERT_EQ(ice_agent_local_credentials(b->agent, ufrag, sizeof ufrag, pwd, sizeof pwd), 0);
    ASSERT_EQ(ice_agent_set_remote_credentials(a->agent, ufrag, pwd), 0);
    ASSERT_EQ(ice_agent_gather(a->agent), 0);
    ASSERT_EQ(ice_agent_gather(b->agent), 0);
    int64_t end = now_us() + 10000000;
    while (atomic_load(&a->state) != ICE_STATE_READY || atomic_load(&b->state) != ICE_STATE_READY)
        if (now_us() > end)
            TEST_FAIL_("not ready: a %d b %d", atomic_load(&a->state), atomic_load(&b->state));
        else
            usleep(1000);
}

static void pair_down(struct peer *a, struct peer *b)
{
    ice_agent_destroy(a->agent);
    atomic_store(&a->gone, true);
    ice_agent_destroy(b->agent); /* a no-op if it destroyed itself */
    atomic_store(&b->gone, true);
    ice_agent_unref(a->agent);
    ice_agent_unref(b->agent);
}

static void test_errors(void)
{
    struct ice_config cfg;
    struct ice_loops *loops;
    struct ice_agent *ag;
    char ufrag[ICE_UFRAG_MAX + 1], pwd[ICE_PWD_MAX + 1], tiny[4];
    ASSERT_EQ(ice_loops_create(1, NULL, &loops), 0);
    ice_config_init(&cfg);
    ASSERT_EQ(ice_agent_create(ice_loops_get(loops, 0), &cfg, true, NULL, &ag), -EINVAL);
    ice_config_free(&cfg);
    config_loopback(&cfg);
    ASSERT_EQ(ice_agent_create(ice_loops_get(loops, 0), &cfg, true, NULL, &ag), 0);
    ASSERT_EQ(ice_agent_state(ag), ICE_STATE_DISCONNECTED);
    ASSERT_EQ(ice_agent_local_credentials(ag, ufrag, sizeof ufrag, pwd, sizeof pwd), 0);
    ASSERT_EQ(strlen(ufrag), 8);
    ASSERT_EQ(strlen(pwd), 24);
    ASSERT_EQ(ice_agent_local_credentials(ag, tiny, sizeof tiny, pwd, sizeof pwd), -ENOSPC);

    ASSERT_EQ(ice_agent_set_remote_credentials(ag, "", "abcdefghijklmnopqrstuv"), -EINVAL);
    ASSERT_EQ(ice_agent_set_remote_credentials(ag, "ab cd", "abcdefghijklmnopqrstuv"), -EINVAL);
    ASSERT_EQ(ice_agent_set_remote_credentials(ag, "abcd", "pwd\"x"), -EINVAL);
    ASSERT_EQ(ice_agent_set_remote_credentials(ag, "abcd", "abcdefghijklmnopqrstuv"), 0);

    ASSERT_EQ(ice_agent_add_remote_candidate(ag, "candidate:1 1 udp 1 127.0.0.1"), -EINVAL);
    ASSERT_EQ(ice_agent_add_remote_candidate(ag, "candidate:1 1 udp 1 x-y.local 9 typ host"),
              -EAFNOSUPPORT);
    ASSERT_EQ(ice_agent_add_remote_candidate(
                  ag, "candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype active"),
              -EPROTONOSUPPORT);
    ASSERT_EQ(ice_agent_add_remote_candidate(ag, "candidate:1 2 udp 1 127.0.0.1 9 typ host"),
              -EPROTONOSUPPORT);
    ASSERT_EQ(ice_agent_add_remote_candidate(ag, "candidate:1 1 udp 1 ::1 9 typ host"),
              -EPROTONOSUPPORT);
    ASSERT_EQ(ice_agent_add_remote_candidate(ag, "candidate:1 1 udp 1 10.1.2.3 9 typ host"),
              -EPERM);
    ASSERT_EQ(ice_agent_add_remote_candidate(ag, "candidate:1 1 udp 1 127.0.0.1 9 typ host"), 0);

    ASSERT_EQ(ice_agent_send(ag, "x", 1), -ENOTCONN);
    ASSERT_EQ(ice_agent_send(ag, "x", 0), -EINVAL);
    ASSERT_EQ(ice_agent_send(ag, "x", 70000), -EINVAL);

    json_t *info = ice_agent_info(ag);
    ASSERT_STREQ(json_string_value(json_object_get(info, "state")), "disconnected");
    ASSERT_STREQ(json_string_value(json_object_get(info, "ufrag")), ufrag);
    ASSERT_STREQ(json_string_value(json_object_get(info, "remote-ufrag")), "abcd");
    ASSERT_EQ(json_array_size(json_object_get(info, "remote-candidates")), 1);
    ASSERT_EQ(json_array_size(json_object_get(info, "local-candidates")), 0);
    ASSERT(json_object_get(info, "selected-pair") == NULL);
    ASSERT(json_is_true(json_object_get(info, "controlling")));
    json_decref(info);

    /* The snapshot's bound on remote candidates. */
    char line[100];
    int rc = 0, added = 1;
    for (int port = 10; rc == 0 && port < 200; port++) {
        snprintf(line, sizeof line, "candidate:1 1 udp 1 127.0.0.1 %d typ host", port);
        rc = ice_agent_add_remote_candidate(ag, line);
        added += rc == 0;
    }
    ASSERT_EQ(rc, -ENOBUFS);
    ASSERT_EQ(added, 64);

    /* After destroy: a reference still held keeps the memory; everything is refused. */
    ice_agent_ref(ag);
    ice_agent_destroy(ag);
    ice_agent_destroy(ag); /* twice is harmless */
    ASSERT_EQ(ice_agent_send(ag, "x", 1), -ENOTCONN);
    ASSERT_EQ(ice_agent_gather(ag), -ECANCELED);
    ASSERT_EQ(ice_agent_restart(ag), -ECANCELED);
    ASSERT_EQ(ice_agent_remote_gathering_done(ag), -ECANCELED);
    ASSERT_EQ(ice_agent_set_remote_credentials(ag, "abcd", "abcdefghijklmnopqrstuv"), -ECANCELED);
    ice_agent_unref(ag);
    ice_agent_destroy(NULL);
    ice_agent_unref(NULL);
    ice_loops_destroy(loops);
    ice_config_free(&cfg);
}

static void test_pair_nat_ports(void)
{
    struct ice_config cfg;
    struct ice_loops *loops;
    struct peer a = {0}, b = {0};
    char err[200];
    ice_config_init(&cfg);
    ASSERT_EQ(ice_config_set_enforce_list(&cfg, "127.0.0.1", err, sizeof err), 0);
    ASSERT_EQ(ice_config_set_port_range(&cfg, "41000-41050", err, sizeof err), 0);
    /* TEST-NET-3: advertised only; the peer's filter refuses it, so nothing is sent there. */
    ASSERT_EQ(ice_config_set_nat_1_1(&cfg, "203.0.113.7", err, sizeof err), 0);
    cfg.keep_private_host = true;
    cfg.remote_filter = loopback_only;
    ASSERT_EQ(ice_config_prepare(&cfg, err, sizeof err), 0);
    ASSERT_EQ(ice_loops_create(2, NULL, &loops), 0);
    pair_up(loops, &cfg, &a, &b);
    ASSERT_GE(atomic_load(&a.refused), 1);
    ASSERT_GE(atomic_load(&a.private_seen), 1);
    ASSERT(strstr(a.nat_seen, " 203.0.113.7 ") != NULL);
    ASSERT(strstr(a.nat_seen, " typ host") != NULL);
    /* The advertised port is the real one, within the range. */
    struct ice_candidate c;
    ASSERT_EQ(ice_candidate_parse(a.nat_seen, &c), 0);
    uint16_t port = ntohs(((struct sockaddr_in *)&c.addr)->sin_port);
    ASSERT_GE(port, 41000);
    ASSERT_LE(port, 41050);
    ASSERT_GE(atomic_load(&a.pairs), 1);

    json_t *info = ice_agent_info(a.agent);
    ASSERT_STREQ(json_string_value(json_object_get(info, "state")), "ready");
    ASSERT(json_is_true(json_object_get(info, "ready")));
    ASSERT_EQ(json_array_size(json_object_get(info, "local-candidates")), 2);
    const char *sel = json_string_value(json_object_get(info, "selected-pair"));
    ASSERT(sel && strncmp(sel, "127.0.0.1:", 10) == 0 && strstr(sel, " <-> 127.0.0.1:"));
    json_decref(info);

    char buf[300];
    memset(buf, 0x5a, sizeof buf);
    for (int i = 0; i < 100; i++) {
        ASSERT_EQ(ice_agent_send(a.agent, buf, sizeof buf), 0);
        ASSERT_EQ(ice_agent_send(b.agent, buf, 100), 0);
        if (i % 20 == 19)
            usleep(2000);
    }
    ASSERT(wait_int(&a.received, 100, 3000));
    ASSERT(wait_int(&b.received, 100, 3000));
    pair_down(&a, &b);
    ASSERT_EQ(atomic_load(&a.late) + atomic_load(&b.late), 0);
    ice_loops_destroy(loops);
    ice_config_free(&cfg);
}

/* b destroys itself from its receive callback; later datagrams reach no callback. */
static void test_destroy_in_callback(void)
{
    struct ice_config cfg;
    struct ice_loops *loops;
    struct peer a = {0}, b = {.destroy_after = 10};
    config_loopback(&cfg);
    ASSERT_EQ(ice_loops_create(2, NULL, &loops), 0);
    pair_up(loops, &cfg, &a, &b);
    for (int i = 0; i < 50; i++) {
        ice_agent_send(a.agent, "datagram", 8);
        usleep(500);
    }
    ASSERT(wait_int(&b.received, 10, 2000));
    usleep(50000);
    ASSERT_EQ(atomic_load(&b.received), 10);
    ASSERT(atomic_load(&b.gone));
    ASSERT_EQ(ice_agent_send(b.agent, "x", 1), -ENOTCONN);
    pair_down(&a, &b);
    ASSERT_EQ(atomic_load(&a.late) + atomic_load(&b.late), 0);
    ice_loops_destroy(loops);
    ice_config_free(&cfg);
}

struct blaster {
    struct ice_agent *agent;
    _Atomic bool stop;
};

static void *blast_main(void *arg)
{
    struct blaster *bl = arg;
    while (!atomic_load(&bl->stop)) {
        ice_agent_send(bl->agent, "blast", 5);
        usleep(20);
    }
    return NULL;
}

/* Destroyed from another thread while receive callbacks (made slow) are running. */
static void test_destroy_while_receiving(void)
{
    struct ice_config cfg;
    struct ice_loops *loops;
    config_loopback(&cfg);
    ASSERT_EQ(ice_loops_create(2, NULL, &loops), 0);
    for (int round = 0; round < 5; round++) {
        struct peer a = {0}, b = {.spin_us = 100};
        pair_up(loops, &cfg, &a, &b);
        struct blaster bl = {.agent = a.agent};
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, blast_main, &bl), 0);
        ASSERT(wait_int(&b.received, 50, 3000));
        ice_agent_destroy(b.agent);
        atomic_store(&b.gone, true);
        usleep(20000);
        atomic_store(&bl.stop, true);
        pthread_join(th, NULL);
        pair_down(&a, &b);
        ASSERT_EQ(atomic_load(&b.late), 0);
        ASSERT_EQ(atomic_load(&a.late), 0);
    }
    ice_loops_destroy(loops);
    ice_config_free(&cfg);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"errors", test_errors},
        {"pair_nat_ports", test_pair_nat_ports},
        {"destroy_in_callback", test_destroy_in_callback},
        {"destroy_while_receiving", test_destroy_while_receiving},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
