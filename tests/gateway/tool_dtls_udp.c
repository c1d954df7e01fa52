/* tool_dtls_udp: one gateway/dtls endpoint over a UDP socket on 127.0.0.1, to check the
 * handshake and the key export against another implementation (openssl s_client/s_server).
 *
 * usage: tool_dtls_udp --role client --connect PORT | --role server --listen PORT
 *                      [--fingerprint HASH HEX] [--cert PEM --key PEM] [--profile NAME]
 *                      [--send TEXT] [--wait-close] [--timeout-ms N]
 *
 * Prints "fingerprint sha-256 <ours>" once the socket is bound, then on success "connected
 * <profile> <keymat>" where keymat is the exported EXTRACTOR-dtls_srtp material in its wire order
 * (client key, server key, client salt, server salt) in uppercase hex, as openssl prints it. Then
 * sends TEXT as application data if given, prints each record received as "data <text>", and sends
 * close_notify (or, with --wait-close, waits for the peer's) before exiting 0. On failure prints
 * "failed <reason>" and exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "gateway/dtls/dtls.h"

struct tool {
    int fd;
    bool have_peer;
    struct sockaddr_in peer;
    enum dtls_state state;
    char reason[160];
};

struct options {
    enum dtls_role role;
    int port;
    const char *fp_hash, *fp_value, *cert, *key, *profile, *send_text;
    bool wait_close;
    int timeout_ms;
};

static int udp_send(void *ctx, const uint8_t *data, size_t len)
{
    struct tool *t = ctx;
    if (!t->have_peer)
        return -ENOTCONN;
    ssize_t n = sendto(t->fd, data, len, 0, (const struct sockaddr *)&t->peer, sizeof(t->peer));
    return n == (ssize_t)len ? 0 : -errno;
}

static void on_state(void *ctx, enum dtls_state st, const char *reason)
{
    struct tool *t = ctx;
    t->state = st;
    snprintf(t->reason, sizeof(t->reason), "%s", reason);
}

static void on_data(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    printf("data %.*s\n", (int)len, (const char *)data);
    fflush(stdout);
}

static int usage(void)
{
    fprintf(stderr, "usage: tool_dtls_udp --role client --connect PORT | --role server --listen "
                    "PORT [--fingerprint HASH HEX] [--cert PEM --key PEM] [--profile NAME] "
                    "[--send TEXT] [--wait-close] [--timeout-ms N]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.role = DTLS_ROLE_CLIENT, .timeout_ms = 10000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--role") == 0 && more)
            o->role = strcmp(argv[++i], "server") == 0 ? DTLS_ROLE_SERVER : DTLS_ROLE_CLIENT;
        else if ((strcmp(a, "--connect") == 0 || strcmp(a, "--listen") == 0) && more)
            o->port = atoi(argv[++i]);
        else if (strcmp(a, "--fingerprint") == 0 && i + 2 < argc) {
            o->fp_hash = argv[++i];
            o->fp_value = argv[++i];
        } else if (strcmp(a, "--cert") == 0 && more)
            o->cert = argv[++i];
        else if (strcmp(a, "--key") == 0 && more)
            o->key = argv[++i];
        else if (strcmp(a, "--profile") == 0 && more)
            o->profile = argv[++i];
        else if (strcmp(a, "--send") == 0 && more)
            o->send_text = argv[++i];
        else if (strcmp(a, "--wait-close") == 0)
            o->wait_close = true;
        else if (strcmp(a, "--timeout-ms") == 0 && more)
            o->timeout_ms = atoi(argv[++i]);
        else
            return -EINVAL;
    }
    return o->port > 0 && o->port < 65536 ? 0 : -EINVAL;
}

static unsigned profile_mask(const char *name)
{
    static const enum dtls_srtp_profile all[] = {
        DTLS_SRTP_AES128_CM_SHA1_80, DTLS_SRTP_AES128_CM_SHA1_32, DTLS_SRTP_AEAD_AES_128_GCM,
        DTLS_SRTP_AEAD_AES_256_GCM};
    if (!name)
        return 0;
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, dtls_srtp_profile_name(all[i])) == 0)
            return DTLS_SRTP_MASK(all[i]);
    return ~0u; /* rejected by dtls_endpoint_create */
}

static int open_socket(struct tool *t, const struct options *o)
{
    t->fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (t->fd < 0)
        return -errno;
    struct sockaddr_in local = {.sin_family = AF_INET};
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (o->role == DTLS_ROLE_SERVER) {
        local.sin_port = htons((uint16_t)o->port);
    } else {
        t->peer = local;
        t->peer.sin_port = htons((uint16_t)o->port);
        t->have_peer = true;
    }
    if (bind(t->fd, (const struct sockaddr *)&local, sizeof(local)) != 0) {
        int err = errno;
        close(t->fd);
        t->fd = -1;
        return -err;
    }
    return 0;
}

static void print_keymat(const struct dtls_srtp_keys *k, enum dtls_role role)
{
    const uint8_t *client = role == DTLS_ROLE_CLIENT ? k->local : k->remote;
    const uint8_t *server = role == DTLS_ROLE_CLIENT ? k->remote : k->local;
    const uint8_t *parts[4] = {client, server, client + k->key_len, server + k->key_len};
    size_t lens[4] = {k->key_len, k->key_len, k->salt_len, k->salt_len};
    printf("connected %s ", dtls_srtp_profile_name(k->profile));
    for (int p = 0; p < 4; p++)
        for (size_t i = 0; i < lens[p]; i++)
            printf("%02X", parts[p][i]);
    printf("\n");
    fflush(stdout);
}

/* Receives one datagram (learning the peer as a server) and feeds it to the endpoint. */
static void receive(struct tool *t, struct dtls_endpoint *ep)
{
    uint8_t buf[4096];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(t->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
    if (n <= 0)
        return;
    if (!t->have_peer) {
        t->peer = from;
        t->have_peer = true;
    }
    if (dtls_is_dtls(buf[0]))
        dtls_endpoint_input(ep, buf, (size_t)n);
}

/* Runs the socket and the timer until `stop` returns true or the deadline. */
static void run(struct tool *t, struct dtls_endpoint *ep, int64_t deadline_us,
                bool (*stop)(const struct tool *))
{
    while (!stop(t) && vb_clock_mono_us() < deadline_us) {
        int wait = (int)((deadline_us - vb_clock_mono_us()) / 1000);
        int dt = dtls_endpoint_timeout_ms(ep);
        if (dt >= 0 && dt < wait)
            wait = dt;
        struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
        int r = poll(&pfd, 1, wait < 0 ? 0 : wait);
        if (r > 0)
            receive(t, ep);
        if (dtls_endpoint_timeout_ms(ep) == 0)
            dtls_endpoint_on_timer(ep);
    }
}

static bool handshake_over(const struct tool *t)
{
    return t->state != DTLS_NEW && t->state != DTLS_CONNECTING;
}

static bool closed(const struct tool *t)
{
    return t->state == DTLS_CLOSED || t->state == DTLS_FAILED;
}

static int run_tool(struct tool *t, const struct options *o, struct dtls_cert *cert)
{
    struct dtls_endpoint_config cfg = {
        .role = o->role,
        .srtp_profiles = profile_mask(o->profile),
        .send = udp_send,
        .on_state = on_state,
        .on_data = on_data,
        .ctx = t,
    };
    struct dtls_endpoint *ep = NULL;
    if (dtls_endpoint_create(cert, &cfg, &ep) != 0) {
        printf("failed endpoint settings\n");
        return 1;
    }
    if (o->fp_hash && dtls_endpoint_set_remote_fingerprint(ep, o->fp_hash, o->fp_value) != 0) {
        printf("failed bad fingerprint argument\n");
        dtls_endpoint_destroy(ep);
        return 1;
    }
    int64_t deadline = vb_clock_mono_us() + (int64_t)o->timeout_ms * 1000;
    if (o->role == DTLS_ROLE_CLIENT)
        dtls_endpoint_start(ep);
    run(t, ep, deadline, handshake_over);
    int rc = 1;
    struct dtls_srtp_keys k;
    if (dtls_endpoint_srtp_keys(ep, &k) == 0) {
        print_keymat(&k, o->role);
        if (o->send_text)
            dtls_endpoint_write(ep, (const uint8_t *)o->send_text, strlen(o->send_text));
        if (o->wait_close)
            run(t, ep, deadline, closed);
        else
            dtls_endpoint_close(ep);
        rc = t->state == DTLS_CLOSED ? 0 : 1;
    }
    if (rc != 0)
        printf("failed %s\n", t->state == DTLS_CONNECTING ? "timeout" : t->reason);
    else
        printf("closed %s\n", t->reason);
    dtls_endpoint_destroy(ep);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o) != 0)
        return usage();
    struct dtls_cert *cert = NULL;
    int rc = o.cert ? dtls_cert_load(NULL, o.cert, o.key ? o.key : o.cert, NULL, &cert)
                    : dtls_cert_generate(NULL, &cert);
    if (rc != 0) {
        printf("failed certificate: %s\n", strerror(-rc));
        return 1;
    }
    struct tool t = {.fd = -1, .state = DTLS_NEW};
    rc = open_socket(&t, &o);
    if (rc != 0) {
        printf("failed socket: %s\n", strerror(-rc));
        dtls_cert_destroy(cert);
        return 1;
    }
    /* Printed once the socket is bound: scripts wait for this line. */
    printf("fingerprint sha-256 %s\n", dtls_cert_fingerprint(cert));
    fflush(stdout);
    rc = run_tool(&t, &o, cert);
    close(t.fd);
    dtls_cert_destroy(cert);
    return rc;
}
