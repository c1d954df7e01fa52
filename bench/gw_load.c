/* This file implements gw_load, a load client for the control plane of a Janus-compatible
 * gateway (real Janus or ours) over its HTTP REST API, on 127.0.0.1 only.
 *
 * Mode `cycles`: N clients, each on its own keep-alive connection, loop for S seconds over
 * create, attach janus.plugin.videoroom, a synchronous VideoRoom `exists` message and destroy.
 * It reports cycles per second, per-request and per-cycle latency percentiles and errors.
 * Mode `idle`: K sessions, each created on its own connection which then holds one long poll
 * (GET <base>/<session>?maxev=1; re-polled when the server answers its keepalive after ~30 s),
 * kept for T seconds while the server's RSS and thread count are sampled from
 * /proc/<pid>/status; then the polls are closed and the sessions destroyed.
 *
 * DESIGN: one thread, one epoll set, non-blocking sockets, level-triggered. Each connection is
 * a small state machine with one request outstanding at most; a reply completes when its
 * Content-Length (or last chunk) has arrived, so keep-alive works whatever framing the server
 * picks. A request's latency runs from the moment its first byte is handed to send() to the
 * moment its reply is complete, on CLOCK_MONOTONIC, into bench_util.h histograms (about 3 %
 * resolution, the upper bound of a bucket is reported). Any reply that is not a success with
 * the transaction we sent (for the message: a success carrying VideoRoom plugindata without an
 * error_code) counts as an error, and so do refused or closed connections and timeouts.
 *
 * usage: gw_load cycles|idle [--port P] [--host 127.0.0.1] [--base /janus] [--clients N]
 *        [--seconds S] [--warmup W] [--sessions K] [--hold T] [--pid PID] [--room R]
 *        [--timeout SEC] [--no-destroy] [--label NAME] [--json FILE]
 * Errors are counted over the whole run (warm-up and the final drain included); cycles,
 * latencies and CPU only inside the measured window. The exit status is 0 whatever the
 * server answered (1 only for the client's own failures): read the numbers. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "common/xalloc.h"

#define GW_MAX_REPLY (1u << 20)
#define GW_TICK_NS (100 * INT64_C(1000000))
#define GW_SAMPLE_NS (500 * INT64_C(1000000))
#define GW_RETRY_NS (100 * INT64_C(1000000))
#define GW_POLL_GRACE_NS (30 * INT64_C(1000000000))
#define GW_STALL_NS (5 * INT64_C(1000000000))
/* A long poll answered by a keepalive sooner than this was not held as Janus holds it (30 s). */
#define GW_KEEPALIVE_EARLY_NS (25 * INT64_C(1000000000))
#define GW_NS_PER_S 1e9

enum req_kind { REQ_CREATE, REQ_ATTACH, REQ_MESSAGE, REQ_DESTROY, REQ_POLL, REQ_KINDS };
static const char *const req_names[REQ_KINDS] = {"create", "attach", "message", "destroy", "poll"};

enum conn_role { ROLE_CYCLE, ROLE_POLL, ROLE_DESTROY };

struct options {
    bool idle;
    const char *host;
    struct sockaddr_in addr;
    const char *base;
    int clients;
    double seconds, warmup, hold, timeout;
    int sessions;
    long pid;
    long room;
    const char *label;
    const char *json_path;
    bool no_destroy;
};

struct conn {
    struct load *ld;
    enum conn_role role;
    int fd;
    unsigned gen; /* bumped at each close: a handler may reconnect, reusing the fd number */
    bool connected, busy, want_out, done, dead;
    enum req_kind kind;
    char out[768];
    size_t out_len, out_off;
    char *in;
    size_t in_len, in_cap;
    char txn[24];
    uint64_t txn_seq;
    int64_t sent_ns, deadline_ns, cycle_ns, retry_ns;
    uint64_t session_id, handle_id;
    bool cycle_failed;
    unsigned index;
};

struct proc_sample {
    uint64_t rss_kib;
    unsigned threads;
    int64_t cpu_ns;
};

struct load {
    struct options opt;
    int ep;
    struct conn *conns;
    size_t nconns;
    /* cycles */
    int64_t win_start, win_end;
    bool stopping;
    struct bench_hist *lat[REQ_KINDS], *all, *cycle;
    uint64_t requests[REQ_KINDS], errors[REQ_KINDS];
    uint64_t timeouts, conn_failures, connects, cycles, cycles_failed;
    /* idle */
    unsigned launched, setting_up, polling, setup_errors, early_closed, poll_errors;
    unsigned poll_timeouts, setup_stalled;
    int64_t last_progress_ns;
    uint64_t keepalives, keepalives_early, events, repolls_reconnected;
    uint64_t *sids;
    unsigned nsids, destroy_next, destroy_ok, destroy_err;
    /* server sampling */
    int64_t next_tick, next_sample;
    uint64_t rss_max_kib;
    unsigned threads_max;
};

static void conn_send(struct conn *c, enum req_kind kind);
static void conn_on_reply(struct conn *c, int status, const char *body, size_t len);

/* --- /proc sampling ------------------------------------------------------------------------ */

static int proc_sample_read(long pid, struct proc_sample *s)
{
    char path[64], buf[4096], comm[64];
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    if (bench_read_small(path, buf, sizeof(buf)) <= 0)
        return -ESRCH;
    const char *rss = strstr(buf, "\nVmRSS:");
    const char *thr = strstr(buf, "\nThreads:");
    if (!rss || !thr)
        return -EPROTO;
    s->rss_kib = strtoull(rss + 7, NULL, 10);
    s->threads = (unsigned)strtoul(thr + 9, NULL, 10);
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    s->cpu_ns = bench_stat_cpu_ns(path, comm, sizeof(comm));
    return 0;
}

static void load_sample(struct load *ld)
{
    if (ld->opt.pid <= 0)
        return;
    struct proc_sample s;
    if (proc_sample_read(ld->opt.pid, &s) < 0)
        return;
    if (s.rss_kib > ld->rss_max_kib)
        ld->rss_max_kib = s.rss_kib;
    if (s.threads > ld->threads_max)
        ld->threads_max = s.threads;
}

/* --- HTTP ---------------------------------------------------------------------------------- */

struct http_reply {
    int status;
    const char *body;
    size_t body_len;
    size_t consumed;
    bool close;
};

/* If `line` (n bytes) is header `name`, points *val at its value and returns true. */
static bool header_match(const char *line, size_t n, const char *name, const char **val,
                         size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return false;
    size_t i = k + 1;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    *val = line + i;
    *vlen = n - i;
    return true;
}

static bool value_has(const char *val, size_t vlen, const char *token)
{
    size_t k = strlen(token);
    for (size_t i = 0; i + k <= vlen; i++)
        if (strncasecmp(val + i, token, k) == 0)
            return true;
    return false;
}

/* Checks that a chunked body starting at buf[pos] is complete, then joins its chunks in
 * place at buf[pos]. Returns 1 (body_len and consumed set), 0 for more bytes, -EPROTO. */
static int http_dechunk(char *buf, size_t len, size_t pos, struct http_reply *r)
{
    size_t p = pos, total = 0;
    for (;;) {
        char *eol = memmem(buf + p, len - p, "\r\n", 2);
        if (!eol)
            return len - p > 32 ? -EPROTO : 0;
        char *endp;
        unsigned long size = strtoul(buf + p, &endp, 16);
        if (endp == buf + p || size > GW_MAX_REPLY)
            return -EPROTO;
        p = (size_t)(eol - buf) + 2;
        if (size == 0)
            break;
        if (len - p < size + 2)
            return 0;
        p += size + 2;
        total += size;
    }
    /* Trailers (none expected) end with an empty line. */
    char *end = memmem(buf + p, len - p, "\r\n", 2);
    while (end && end != buf + p) {
        p = (size_t)(end - buf) + 2;
        end = memmem(buf + p, len - p, "\r\n", 2);
    }
    if (!end)
        return 0;
    r->consumed = p + 2;
    size_t src = pos, dst = pos;
    for (;;) {
        char *eol = memmem(buf + src, len - src, "\r\n", 2);
        unsigned long size = strtoul(buf + src, NULL, 16);
        src = (size_t)(eol - buf) + 2;
        if (size == 0)
            break;
        memmove(buf + dst, buf + src, size);
        dst += size;
        src += size + 2;
    }
    r->body = buf + pos;
    r->body_len = total;
    return 1;
}

/* Parses one reply at the start of buf. Returns 1 when complete, 0 when more bytes are needed
 * (eof: the peer closed, so a body without length ends here), -EPROTO when malformed. */
static int http_reply_parse(char *buf, size_t len, bool eof, struct http_reply *r)
{
    char *hend = memmem(buf, len, "\r\n\r\n", 4);
    if (!hend)
        return len > 16384 ? -EPROTO : 0;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -EPROTO;
    r->status = atoi(buf + 9);
    r->close = buf[7] == '0';
    long long clen = -1;
    bool chunked = false;
    char *line = memmem(buf, len, "\r\n", 2) + 2;
    while (line < hend + 2) {
        char *eol = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
        size_t n = (size_t)(eol - line);
        const char *val;
        size_t vlen;
        if (header_match(line, n, "content-length", &val, &vlen))
            clen = strtoll(val, NULL, 10);
        else if (header_match(line, n, "transfer-encoding", &val, &vlen))
            chunked = value_has(val, vlen, "chunked");
        else if (header_match(line, n, "connection", &val, &vlen))
            r->close = value_has(val, vlen, "close");
        line = eol + 2;
    }
    size_t pos = (size_t)(hend - buf) + 4;
    if (chunked)
        return http_dechunk(buf, len, pos, r);
    if (clen < 0) {
        if (!eof)
            return 0;
        clen = (long long)(len - pos);
        r->close = true;
    }
    if (clen > GW_MAX_REPLY)
        return -EPROTO;
    if (len - pos < (size_t)clen)
        return 0;
    r->body = buf + pos;
    r->body_len = (size_t)clen;
    r->consumed = pos + (size_t)clen;
    return 1;
}

/* --- connections --------------------------------------------------------------------------- */

static void conn_epoll(struct conn *c, int op, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(c->ld->ep, op, c->fd, &ev) < 0) {
        perror("gw_load: epoll_ctl");
        exit(1);
    }
    c->want_out = out;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->gen++;
    c->connected = false;
    c->want_out = false;
    c->in_len = 0;
}

static int conn_open(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    c->ld->connects++;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *)&c->ld->opt.addr, sizeof(c->ld->opt.addr)) < 0 &&
        errno != EINPROGRESS) {
        int err = -errno;
        conn_close(c);
        return err;
    }
    conn_epoll(c, EPOLL_CTL_ADD, true);
    return 0;
}

/* Counts a failed request (refused, closed, timed out, malformed) and hands the connection
 * back to its role: a cycle client retries shortly, a poll is dead, a destroyer moves on. */
static void conn_fail(struct conn *c, bool timeout)
{
    struct load *ld = c->ld;
    bool was_busy = c->busy;
    conn_close(c);
    c->busy = false;
    if (timeout)
        ld->timeouts++;
    else
        ld->conn_failures++;
    if (was_busy)
        ld->errors[c->kind]++;
    switch (c->role) {
    case ROLE_CYCLE:
        ld->cycles_failed++;
        c->retry_ns = bench_now_ns() + GW_RETRY_NS;
        break;
    case ROLE_POLL:
        if (c->kind == REQ_POLL) {
            ld->polling--;
            if (timeout)
                ld->poll_timeouts++;
            else
                ld->early_closed++;
        } else {
            ld->setting_up--;
            ld->setup_errors++;
        }
        c->dead = true;
        break;
    case ROLE_DESTROY:
        ld->destroy_err++;
        c->retry_ns = bench_now_ns();
        break;
    }
}

static void conn_flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (!c->want_out)
                conn_epoll(c, EPOLL_CTL_MOD, true);
            return;
        }
        if (n <= 0) {
            conn_fail(c, false);
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->want_out)
        conn_epoll(c, EPOLL_CTL_MOD, false);
}

/* Formats the request into c->out. */
static void conn_format(struct conn *c, enum req_kind kind)
{
    const struct options *o = &c->ld->opt;
    char path[128], body[256];
    snprintf(c->txn, sizeof(c->txn), "t%u-%" PRIu64, c->index, ++c->txn_seq);
    body[0] = '\0';
    switch (kind) {
    case REQ_CREATE:
        snprintf(path, sizeof(path), "%s", o->base);
        snprintf(body, sizeof(body), "{\"janus\":\"create\",\"transaction\":\"%s\"}", c->txn);
        break;
    case REQ_ATTACH:
        snprintf(path, sizeof(path), "%s/%" PRIu64, o->base, c->session_id);
        snprintf(body, sizeof(body),
                 "{\"janus\":\"attach\",\"plugin\":\"janus.plugin.videoroom\","
                 "\"transaction\":\"%s\"}",
                 c->txn);
        break;
    case REQ_MESSAGE:
        snprintf(path, sizeof(path), "%s/%" PRIu64 "/%" PRIu64, o->base, c->session_id,
                 c->handle_id);
        snprintf(body, sizeof(body),
                 "{\"janus\":\"message\",\"body\":{\"request\":\"exists\",\"room\":%ld},"
                 "\"transaction\":\"%s\"}",
                 o->room, c->txn);
        break;
    case REQ_DESTROY:
        snprintf(path, sizeof(path), "%s/%" PRIu64, o->base, c->session_id);
        snprintf(body, sizeof(body), "{\"janus\":\"destroy\",\"transaction\":\"%s\"}", c->txn);
        break;
    case REQ_POLL:
    case REQ_KINDS:
        snprintf(path, sizeof(path), "%s/%" PRIu64 "?maxev=1", o->base, c->session_id);
        break;
    }
    int n;
    if (kind == REQ_POLL)
        n = snprintf(c->out, sizeof(c->out), "GET %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", path,
                     o->host, ntohs(o->addr.sin_port));
    else
        n = snprintf(c->out, sizeof(c->out),
                     "POST %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, o->host, ntohs(o->addr.sin_port), strlen(body), body);
    if (n < 0 || (size_t)n >= sizeof(c->out)) {
        fprintf(stderr, "gw_load: request too long\n");
        exit(1);
    }
    c->out_len = (size_t)n;
    c->out_off = 0;
}

/* Sends one request (connecting first if the connection is closed). */
static void conn_send(struct conn *c, enum req_kind kind)
{
    struct load *ld = c->ld;
    conn_format(c, kind);
    c->kind = kind;
    c->busy = true;
    c->sent_ns = bench_now_ns();
    double limit = ld->opt.timeout * GW_NS_PER_S;
    c->deadline_ns = c->sent_ns + (int64_t)limit + (kind == REQ_POLL ? GW_POLL_GRACE_NS : 0);
    ld->requests[kind]++;
    if (c->fd < 0) {
        int err = conn_open(c);
        if (err < 0) {
            if (err == -EMFILE || err == -ENFILE)
                fprintf(stderr, "gw_load: out of file descriptors (raise ulimit -n)\n");
            conn_fail(c, false);
        }
        return; /* flushed once connected */
    }
    if (c->connected)
        conn_flush(c);
}

static void conn_on_writable(struct conn *c)
{
    if (!c->connected) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            conn_fail(c, false);
            return;
        }
        c->connected = true;
    }
    if (c->busy)
        conn_flush(c);
    else if (c->want_out)
        conn_epoll(c, EPOLL_CTL_MOD, false);
}

/* Parses every complete reply in c->in. Returns false when the connection went away. */
static bool conn_parse(struct conn *c, bool eof)
{
    unsigned gen = c->gen;
    while (c->in_len > 0) {
        struct http_reply r = {0};
        int rc = http_reply_parse(c->in, c->in_len, eof, &r);
        if (rc == 0)
            return true;
        if (rc < 0 || !c->busy) {
            conn_fail(c, false);
            return false;
        }
        /* The reply is handled from a copy of the body: the handler may reuse c->in. */
        char *body = xmalloc(r.body_len + 1);
        memcpy(body, r.body, r.body_len);
        body[r.body_len] = '\0';
        memmove(c->in, c->in + r.consumed, c->in_len - r.consumed);
        c->in_len -= r.consumed;
        if (r.close)
            conn_close(c);
        c->busy = false;
        conn_on_reply(c, r.status, body, r.body_len);
        free(body);
        if (c->gen != gen)
            return false;
    }
    return true;
}

static void conn_on_readable(struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 4096) {
            if (c->in_cap >= GW_MAX_REPLY + 16384) {
                conn_fail(c, false);
                return;
            }
            c->in_cap = c->in_cap ? c->in_cap * 2 : 8192;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (n == 0 && c->in_len > 0 && !conn_parse(c, true))
                return;
            if (c->fd >= 0) {
                if (c->busy)
                    conn_fail(c, false);
                else
                    conn_close(c); /* idle keep-alive closed by the server: reconnect later */
            }
            return;
        }
        c->in_len += (size_t)n;
        if (!conn_parse(c, false))
            return;
    }
}

static void conn_on_event(struct conn *c, uint32_t events)
{
    if (c->fd < 0)
        return;
    if ((events & EPOLLERR) && !c->connected) {
        conn_fail(c, false);
        return;
    }
    if (events & EPOLLOUT)
        conn_on_writable(c);
    if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
        conn_on_readable(c);
}

/* --- replies ------------------------------------------------------------------------------- */

/* The reply object if it is a Janus `want` reply for the transaction of c; else NULL. */
static json_t *reply_check(struct conn *c, int status, const char *body, size_t len,
                           const char *want)
{
    if (status != 200)
        return NULL;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root))
        goto out_bad;
    json_t *janus = json_object_get(root, "janus");
    if (!json_is_string(janus) || strcmp(json_string_value(janus), want) != 0)
        goto out_bad;
    if (c->kind != REQ_POLL) {
        json_t *txn = json_object_get(root, "transaction");
        if (!json_is_string(txn) || strcmp(json_string_value(txn), c->txn) != 0)
            goto out_bad;
    }
    return root;
out_bad:
    json_decref(root);
    return NULL;
}

static uint64_t reply_data_id(json_t *root)
{
    json_t *data = json_object_get(root, "data");
    json_t *id = json_is_object(data) ? json_object_get(data, "id") : NULL;
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        return 0;
    return (uint64_t)json_integer_value(id);
}

/* A VideoRoom answer: plugindata from janus.plugin.videoroom, data without error_code. */
static bool reply_plugindata_ok(json_t *root)
{
    json_t *pd = json_object_get(root, "plugindata");
    if (!json_is_object(pd))
        return false;
    json_t *plugin = json_object_get(pd, "plugin");
    json_t *data = json_object_get(pd, "data");
    return json_is_string(plugin) &&
           strcmp(json_string_value(plugin), "janus.plugin.videoroom") == 0 &&
           json_is_object(data) && !json_object_get(data, "error_code");
}

static void cycle_start(struct conn *c)
{
    c->cycle_ns = bench_now_ns();
    c->cycle_failed = false;
    c->session_id = c->handle_id = 0;
    conn_send(c, REQ_CREATE);
}

static void cycle_on_reply(struct conn *c, int status, const char *body, size_t len)
{
    struct load *ld = c->ld;
    int64_t now = bench_now_ns();
    bool in_window = now >= ld->win_start && now < ld->win_end;
    if (in_window) {
        bench_hist_add(ld->lat[c->kind], (uint64_t)(now - c->sent_ns));
        bench_hist_add(ld->all, (uint64_t)(now - c->sent_ns));
    }
    json_t *root = reply_check(c, status, body, len, "success");
    bool ok = root != NULL;
    enum req_kind next = REQ_KINDS;
    switch (c->kind) {
    case REQ_CREATE:
        ok = ok && (c->session_id = reply_data_id(root)) != 0;
        next = ok ? REQ_ATTACH : REQ_KINDS;
        break;
    case REQ_ATTACH:
        ok = ok && (c->handle_id = reply_data_id(root)) != 0;
        next = ok ? REQ_MESSAGE : REQ_DESTROY;
        break;
    case REQ_MESSAGE:
        ok = ok && reply_plugindata_ok(root);
        next = REQ_DESTROY;
        break;
    default:
        break;
    }
    json_decref(root);
    if (!ok) {
        ld->errors[c->kind]++;
        c->cycle_failed = true;
    }
    if (next != REQ_KINDS) {
        conn_send(c, next);
        return;
    }
    if (c->cycle_failed) {
        ld->cycles_failed++;
    } else if (in_window) {
        ld->cycles++;
        bench_hist_add(ld->cycle, (uint64_t)(now - c->cycle_ns));
    }
    if (ld->stopping)
        c->done = true;
    else
        cycle_start(c);
}

static void poll_on_reply(struct conn *c, int status, const char *body, size_t len)
{
    struct load *ld = c->ld;
    if (c->kind == REQ_CREATE) {
        json_t *root = reply_check(c, status, body, len, "success");
        c->session_id = root ? reply_data_id(root) : 0;
        json_decref(root);
        ld->setting_up--;
        if (c->session_id == 0) {
            ld->errors[REQ_CREATE]++;
            ld->setup_errors++;
            c->dead = true;
            conn_close(c);
            return;
        }
        ld->sids[ld->nsids++] = c->session_id;
        ld->last_progress_ns = bench_now_ns();
        ld->polling++;
        conn_send(c, REQ_POLL);
        return;
    }
    json_t *root = status == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *janus = json_is_object(root) ? json_object_get(root, "janus") : NULL;
    const char *what = json_is_string(janus) ? json_string_value(janus) : "";
    bool keepalive = strcmp(what, "keepalive") == 0;
    bool error = !json_is_object(root) || strcmp(what, "error") == 0 || what[0] == '\0';
    json_decref(root);
    if (error) {
        ld->errors[REQ_POLL]++;
        ld->poll_errors++;
        ld->polling--;
        c->dead = true;
        conn_close(c);
        return;
    }
    if (keepalive) {
        ld->keepalives++;
        if (bench_now_ns() - c->sent_ns < GW_KEEPALIVE_EARLY_NS)
            ld->keepalives_early++;
    } else {
        ld->events++;
    }
    if (c->fd < 0)
        ld->repolls_reconnected++;
    conn_send(c, REQ_POLL);
}

static void destroyer_next(struct conn *c)
{
    struct load *ld = c->ld;
    if (ld->destroy_next >= ld->nsids) {
        c->done = true;
        return;
    }
    c->session_id = ld->sids[ld->destroy_next++];
    conn_send(c, REQ_DESTROY);
}

static void conn_on_reply(struct conn *c, int status, const char *body, size_t len)
{
    struct load *ld = c->ld;
    switch (c->role) {
    case ROLE_CYCLE:
        cycle_on_reply(c, status, body, len);
        break;
    case ROLE_POLL:
        poll_on_reply(c, status, body, len);
        break;
    case ROLE_DESTROY: {
        json_t *root = reply_check(c, status, body, len, "success");
        if (root)
            ld->destroy_ok++;
        else
            ld->destroy_err++;
        json_decref(root);
        destroyer_next(c);
        break;
    }
    }
}

/* --- the loop ------------------------------------------------------------------------------ */

/* Timeouts and retries, every tick. */
static void load_tick(struct load *ld, int64_t now)
{
    for (size_t i = 0; i < ld->nconns; i++) {
        struct conn *c = &ld->conns[i];
        if (c->busy && c->fd >= 0 && now > c->deadline_ns) {
            conn_fail(c, true);
            continue;
        }
        if (c->busy || c->dead || c->done || c->retry_ns == 0 || now < c->retry_ns)
            continue;
        c->retry_ns = 0;
        if (c->role == ROLE_CYCLE) {
            if (ld->stopping)
                c->done = true;
            else
                cycle_start(c);
        } else if (c->role == ROLE_DESTROY) {
            destroyer_next(c);
        }
    }
}

static void load_run_once(struct load *ld, int timeout_ms)
{
    struct epoll_event evs[512];
    int n = epoll_wait(ld->ep, evs, 512, timeout_ms);
    if (n < 0 && errno != EINTR) {
        perror("gw_load: epoll_wait");
        exit(1);
    }
    for (int i = 0; i < n; i++)
        conn_on_event(evs[i].data.ptr, evs[i].events);
    int64_t now = bench_now_ns();
    if (now >= ld->next_tick) {
        load_tick(ld, now);
        ld->next_tick = now + GW_TICK_NS;
    }
    if (now >= ld->next_sample) {
        load_sample(ld);
        ld->next_sample = now + GW_SAMPLE_NS;
    }
}

static void load_conns_init(struct load *ld, size_t n, enum conn_role role)
{
    ld->conns = xcalloc(n, sizeof(*ld->conns));
    ld->nconns = n;
    for (size_t i = 0; i < n; i++) {
        ld->conns[i].ld = ld;
        ld->conns[i].fd = -1;
        ld->conns[i].role = role;
        ld->conns[i].index = (unsigned)i;
    }
}

static void load_conns_free(struct load *ld)
{
    for (size_t i = 0; i < ld->nconns; i++) {
        conn_close(&ld->conns[i]);
        free(ld->conns[i].in);
    }
    free(ld->conns);
    ld->conns = NULL;
    ld->nconns = 0;
}

static bool load_all_done(const struct load *ld)
{
    for (size_t i = 0; i < ld->nconns; i++)
        if (!ld->conns[i].done && !ld->conns[i].dead)
            return false;
    return true;
}

/* --- modes --------------------------------------------------------------------------------- */

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static json_t *hist_json(const struct bench_hist *h)
{
    return json_pack("{s:I,s:f,s:f,s:f,s:f}", "count", (json_int_t)h->count, "p50_ms",
                     ms(bench_hist_quantile(h, 0.5)), "p99_ms", ms(bench_hist_quantile(h, 0.99)),
                     "max_ms", ms(h->max), "mean_ms",
                     h->count ? ms(h->sum) / (double)h->count : 0.0);
}

/* CPU time of every process but this client and the server, per pid, at one moment. */
struct cpu_snap {
    size_t n, cap;
    long *pids;
    int64_t *ns;
};

static void cpu_snap_take(struct cpu_snap *s, long server)
{
    DIR *d = opendir("/proc");
    long self = (long)getpid();
    s->n = 0;
    for (struct dirent *de = d ? readdir(d) : NULL; de; de = readdir(d)) {
        long pid = strtol(de->d_name, NULL, 10);
        if (pid <= 0 || pid == self || pid == server)
            continue;
        char path[64], comm[64];
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        int64_t ns = bench_stat_cpu_ns(path, comm, sizeof(comm));
        if (ns < 0)
            continue;
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 512;
            s->pids = xrealloc(s->pids, s->cap * sizeof(*s->pids));
            s->ns = xrealloc(s->ns, s->cap * sizeof(*s->ns));
        }
        s->pids[s->n] = pid;
        s->ns[s->n++] = ns;
    }
    if (d)
        closedir(d);
}

/* CPU the other processes used between two snapshots: those alive at the end, counted from
 * zero when they started in between; what exited in between is missed (an underestimate). */
static int64_t cpu_snap_delta(const struct cpu_snap *a, const struct cpu_snap *b)
{
    int64_t total = 0;
    for (size_t i = 0; i < b->n; i++) {
        int64_t before = 0;
        for (size_t j = 0; j < a->n; j++)
            if (a->pids[j] == b->pids[i])
                before = a->ns[j];
        total += b->ns[i] >= before ? b->ns[i] - before : b->ns[i];
    }
    return total;
}

/* CPU used over the measured window: the server's, this client's, every other process's. */
struct cpu_window {
    struct proc_sample s0, s1;
    int64_t self0, self1;
    struct cpu_snap others0, others1;
};

static void cpu_window_mark(const struct load *ld, struct proc_sample *s, int64_t *self,
                            struct cpu_snap *others)
{
    if (ld->opt.pid > 0)
        proc_sample_read(ld->opt.pid, s);
    *self = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    cpu_snap_take(others, ld->opt.pid);
}

static json_t *cycles_report(const struct load *ld, const struct cpu_window *w)
{
    const struct options *o = &ld->opt;
    uint64_t errors = 0;
    for (int k = 0; k < REQ_KINDS; k++)
        errors += ld->errors[k];
    double rate = (double)ld->cycles / o->seconds;
    double client_cpu = (double)(w->self1 - w->self0) / 1e9;
    double server_cpu = o->pid > 0 ? (double)(w->s1.cpu_ns - w->s0.cpu_ns) / 1e9 : -1.0;
    double others_cpu = (double)cpu_snap_delta(&w->others0, &w->others1) / 1e9;
    printf("gw_load cycles%s%s: %d clients, %.1f s (+%.1f s warm-up): %" PRIu64
           " cycles, %.1f cycles/s; request p50 %.3f ms p99 %.3f ms max %.3f ms; cycle p50 %.3f "
           "ms p99 %.3f ms; errors %" PRIu64 " (failed cycles %" PRIu64 ", timeouts %" PRIu64
           ", connection failures %" PRIu64 "; %" PRIu64 " connections opened)\n",
           o->label ? " " : "", o->label ? o->label : "", o->clients, o->seconds, o->warmup,
           ld->cycles, rate, ms(bench_hist_quantile(ld->all, 0.5)),
           ms(bench_hist_quantile(ld->all, 0.99)), ms(ld->all->max),
           ms(bench_hist_quantile(ld->cycle, 0.5)), ms(bench_hist_quantile(ld->cycle, 0.99)),
           errors, ld->cycles_failed, ld->timeouts, ld->conn_failures, ld->connects);
    for (int k = 0; k < REQ_POLL; k++)
        printf("  %-8s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%" PRIu64 " timed, %" PRIu64
               " errors)\n",
               req_names[k], ms(bench_hist_quantile(ld->lat[k], 0.5)),
               ms(bench_hist_quantile(ld->lat[k], 0.99)), ms(ld->lat[k]->max), ld->lat[k]->count,
               ld->errors[k]);
    if (o->pid > 0)
        printf("  CPU over the window: server %.2f s (%.1f us per cycle, %u threads at the end), "
               "this client %.2f s, other processes %.2f s\n",
               server_cpu, ld->cycles ? server_cpu * 1e6 / (double)ld->cycles : 0.0, w->s1.threads,
               client_cpu, others_cpu);
    json_t *lat = json_object();
    for (int k = 0; k < REQ_POLL; k++)
        json_object_set_new(lat, req_names[k], hist_json(ld->lat[k]));
    json_object_set_new(lat, "all", hist_json(ld->all));
    json_object_set_new(lat, "cycle", hist_json(ld->cycle));
    return json_pack("{s:s,s:i,s:f,s:f,s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:o,s:f,s:f,s:f,s:i}", "mode",
                     "cycles", "clients", o->clients, "seconds", o->seconds, "warmup", o->warmup,
                     "cycles", (json_int_t)ld->cycles, "cycles_per_s", rate, "errors",
                     (json_int_t)errors, "failed_cycles", (json_int_t)ld->cycles_failed, "timeouts",
                     (json_int_t)ld->timeouts, "connection_failures", (json_int_t)ld->conn_failures,
                     "connections", (json_int_t)ld->connects, "latency", lat, "server_cpu_s",
                     server_cpu, "client_cpu_s", client_cpu, "others_cpu_s", others_cpu,
                     "server_threads", (int)w->s1.threads);
}

static json_t *run_cycles(struct load *ld)
{
    const struct options *o = &ld->opt;
    for (int k = 0; k < REQ_KINDS; k++)
        ld->lat[k] = xcalloc(1, sizeof(struct bench_hist));
    ld->all = xcalloc(1, sizeof(struct bench_hist));
    ld->cycle = xcalloc(1, sizeof(struct bench_hist));
    load_conns_init(ld, (size_t)o->clients, ROLE_CYCLE);
    int64_t t0 = bench_now_ns();
    ld->win_start = t0 + (int64_t)(o->warmup * GW_NS_PER_S);
    ld->win_end = ld->win_start + (int64_t)(o->seconds * GW_NS_PER_S);
    for (size_t i = 0; i < ld->nconns; i++)
        cycle_start(&ld->conns[i]);
    struct cpu_window w = {0};
    bool marked = false;
    while (bench_now_ns() < ld->win_end) {
        if (!marked && bench_now_ns() >= ld->win_start) {
            marked = true;
            cpu_window_mark(ld, &w.s0, &w.self0, &w.others0);
        }
        load_run_once(ld, 10);
    }
    cpu_window_mark(ld, &w.s1, &w.self1, &w.others1);
    /* Let the cycles in flight finish (their sessions get destroyed), unrecorded. */
    ld->stopping = true;
    int64_t drain_end = bench_now_ns() + (int64_t)(o->timeout * GW_NS_PER_S);
    while (!load_all_done(ld) && bench_now_ns() < drain_end)
        load_run_once(ld, 10);
    load_conns_free(ld);
    json_t *out = cycles_report(ld, &w);
    free(w.others0.pids);
    free(w.others0.ns);
    free(w.others1.pids);
    free(w.others1.ns);
    for (int k = 0; k < REQ_KINDS; k++)
        free(ld->lat[k]);
    free(ld->all);
    free(ld->cycle);
    return out;
}

/* Opens the sessions, at most --clients of them being set up at a time. A server that stops
 * answering creates for GW_STALL_NS (one that stopped accepting connections at its limit)
 * ends the setup: the creates still pending are dropped and counted as stalled. */
static void idle_setup(struct load *ld)
{
    const struct options *o = &ld->opt;
    ld->last_progress_ns = bench_now_ns();
    for (;;) {
        while (ld->launched < ld->nconns && ld->setting_up < (unsigned)o->clients) {
            struct conn *c = &ld->conns[ld->launched++];
            ld->setting_up++;
            conn_send(c, REQ_CREATE);
        }
        if (ld->launched == ld->nconns && ld->setting_up == 0)
            return;
        if (bench_now_ns() - ld->last_progress_ns > GW_STALL_NS)
            break;
        load_run_once(ld, 10);
    }
    for (size_t i = 0; i < ld->launched; i++) {
        struct conn *c = &ld->conns[i];
        if (c->busy && c->kind == REQ_CREATE && !c->dead) {
            conn_close(c);
            c->busy = false;
            c->dead = true;
            ld->setup_stalled++;
        }
    }
    ld->setting_up = 0;
    fprintf(stderr,
            "gw_load: no session created for %.0f s: setup stopped (%u created, %u creates "
            "unanswered, %zu never sent)\n",
            (double)GW_STALL_NS / 1e9, ld->nsids, ld->setup_stalled, ld->nconns - ld->launched);
}

static void idle_teardown(struct load *ld)
{
    const struct options *o = &ld->opt;
    load_conns_free(ld);
    size_t n = (size_t)o->clients < ld->nsids ? (size_t)o->clients : ld->nsids;
    if (n == 0 || o->no_destroy)
        return;
    load_conns_init(ld, n, ROLE_DESTROY);
    for (size_t i = 0; i < n; i++)
        destroyer_next(&ld->conns[i]);
    int64_t end = bench_now_ns() + (int64_t)(30 * GW_NS_PER_S);
    while (!load_all_done(ld) && bench_now_ns() < end)
        load_run_once(ld, 10);
    load_conns_free(ld);
}

struct idle_result {
    struct proc_sample before, held, after;
    unsigned healthy;
    double setup_s, teardown_s, per_session_kib;
};

static json_t *idle_report(const struct load *ld, const struct idle_result *r)
{
    const struct options *o = &ld->opt;
    printf("gw_load idle%s%s: %d sessions asked, %u created, %u polls healthy after %.0f s "
           "(early closes %u, poll errors %u, poll timeouts %u, setup errors %u, creates "
           "unanswered %u; keepalives re-polled %" PRIu64 " (%" PRIu64 " of them under 25 s), "
           "other events %" PRIu64 ")\n",
           o->label ? " " : "", o->label ? o->label : "", o->sessions, ld->nsids, r->healthy,
           o->hold, ld->early_closed, ld->poll_errors, ld->poll_timeouts, ld->setup_errors,
           ld->setup_stalled, ld->keepalives, ld->keepalives_early, ld->events);
    json_t *out = json_pack(
        "{s:s,s:i,s:i,s:i,s:f,s:f,s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:i,s:i,s:f}", "mode", "idle",
        "sessions", o->sessions, "created", (int)ld->nsids, "healthy", (int)r->healthy, "hold_s",
        o->hold, "setup_s", r->setup_s, "setup_errors", (int)ld->setup_errors, "setup_stalled",
        (int)ld->setup_stalled, "early_closed", (int)ld->early_closed, "poll_errors",
        (int)ld->poll_errors, "poll_timeouts", (int)ld->poll_timeouts, "keepalives",
        (json_int_t)ld->keepalives, "repolls_reconnected", (json_int_t)ld->repolls_reconnected,
        "keepalives_early", (json_int_t)ld->keepalives_early, "events", (json_int_t)ld->events,
        "destroy_ok", (int)ld->destroy_ok, "destroy_errors", (int)ld->destroy_err, "teardown_s",
        r->teardown_s);
    if (o->pid <= 0)
        return out;
    printf("  server RSS %.1f MiB before, %.1f MiB held (peak %.1f MiB) = %.2f KiB per healthy "
           "session; threads %u before, %u held (max %u)\n",
           r->before.rss_kib / 1024.0, r->held.rss_kib / 1024.0, ld->rss_max_kib / 1024.0,
           r->per_session_kib, r->before.threads, r->held.threads, ld->threads_max);
    if (!o->no_destroy)
        printf("  polls closed, sessions destroyed (%u ok, %u errors) in %.1f s; 1 s later: "
               "RSS %.1f MiB, threads %u\n",
               ld->destroy_ok, ld->destroy_err, r->teardown_s, r->after.rss_kib / 1024.0,
               r->after.threads);
    json_t *srv = json_pack(
        "{s:I,s:I,s:I,s:I,s:f,s:i,s:i,s:i,s:i}", "rss_before_kib", (json_int_t)r->before.rss_kib,
        "rss_held_kib", (json_int_t)r->held.rss_kib, "rss_peak_kib", (json_int_t)ld->rss_max_kib,
        "rss_after_destroy_kib", (json_int_t)r->after.rss_kib, "rss_per_session_kib",
        r->per_session_kib, "threads_before", (int)r->before.threads, "threads_held",
        (int)r->held.threads, "threads_max", (int)ld->threads_max, "threads_after_destroy",
        (int)r->after.threads);
    json_object_set_new(out, "server", srv);
    return out;
}

static json_t *run_idle(struct load *ld)
{
    const struct options *o = &ld->opt;
    struct idle_result r = {0};
    if (o->pid > 0 && proc_sample_read(o->pid, &r.before) < 0) {
        fprintf(stderr, "gw_load: cannot read /proc/%ld/status\n", o->pid);
        exit(1);
    }
    ld->rss_max_kib = r.before.rss_kib;
    ld->threads_max = r.before.threads;
    ld->sids = xcalloc((size_t)o->sessions, sizeof(uint64_t));
    load_conns_init(ld, (size_t)o->sessions, ROLE_POLL);
    int64_t t0 = bench_now_ns();
    idle_setup(ld);
    r.setup_s = (double)(bench_now_ns() - t0) / 1e9;
    printf("gw_load idle: %u sessions created in %.2f s; holding %u polls for %.0f s\n", ld->nsids,
           r.setup_s, ld->polling, o->hold);
    fflush(stdout);
    int64_t hold_end = bench_now_ns() + (int64_t)(o->hold * GW_NS_PER_S);
    while (bench_now_ns() < hold_end)
        load_run_once(ld, 50);
    if (o->pid > 0)
        proc_sample_read(o->pid, &r.held);
    load_sample(ld);
    for (size_t i = 0; i < ld->nconns; i++) {
        const struct conn *c = &ld->conns[i];
        if (!c->dead && c->busy && c->kind == REQ_POLL && c->fd >= 0)
            r.healthy++;
    }
    if (r.healthy)
        r.per_session_kib =
            (double)((int64_t)r.held.rss_kib - (int64_t)r.before.rss_kib) / r.healthy;
    int64_t t1 = bench_now_ns();
    idle_teardown(ld);
    r.teardown_s = (double)(bench_now_ns() - t1) / 1e9;
    if (!o->no_destroy && o->pid > 0) {
        usleep(1000000);
        proc_sample_read(o->pid, &r.after);
    }
    json_t *out = idle_report(ld, &r);
    free(ld->sids);
    return out;
}

/* --- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: gw_load cycles|idle --port P [--host 127.0.0.1] [--base /janus]\n"
            "  cycles: [--clients N (50)] [--seconds S (10)] [--warmup W (1)] [--room R (1234)]\n"
            "  idle:   [--sessions K (5000)] [--hold T (35)] [--clients N: setups at once (50)]\n"
            "          [--no-destroy: close the polls, leave the sessions]\n"
            "  [--pid PID (server to sample)] [--timeout SEC (10)] [--label NAME] [--json FILE]\n");
    exit(2);
}

static double arg_double(const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "gw_load: bad number '%s' (%g..%g)\n", s, lo, hi);
        exit(2);
    }
    return v;
}

static void options_parse(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        {"host", 1, NULL, 'h'},     {"port", 1, NULL, 'p'},       {"base", 1, NULL, 'b'},
        {"clients", 1, NULL, 'c'},  {"seconds", 1, NULL, 's'},    {"warmup", 1, NULL, 'w'},
        {"sessions", 1, NULL, 'k'}, {"hold", 1, NULL, 't'},       {"pid", 1, NULL, 'P'},
        {"room", 1, NULL, 'r'},     {"timeout", 1, NULL, 'T'},    {"label", 1, NULL, 'l'},
        {"json", 1, NULL, 'j'},     {"no-destroy", 0, NULL, 'n'}, {NULL, 0, NULL, 0}};
    *o = (struct options){.host = "127.0.0.1",
                          .base = "/janus",
                          .clients = 50,
                          .seconds = 10,
                          .warmup = 1,
                          .hold = 35,
                          .timeout = 10,
                          .sessions = 5000,
                          .room = 1234};
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "idle") == 0)
        o->idle = true;
    else if (strcmp(argv[1], "cycles") != 0)
        usage();
    long port = 0;
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (opt) {
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            port = (long)arg_double(optarg, 1, 65535);
            break;
        case 'b':
            o->base = optarg;
            break;
        case 'c':
            o->clients = (int)arg_double(optarg, 1, 100000);
            break;
        case 's':
            o->seconds = arg_double(optarg, 0.1, 3600);
            break;
        case 'w':
            o->warmup = arg_double(optarg, 0, 600);
            break;
        case 'k':
            o->sessions = (int)arg_double(optarg, 1, 1000000);
            break;
        case 't':
            o->hold = arg_double(optarg, 0, 3600);
            break;
        case 'P':
            o->pid = (long)arg_double(optarg, 1, 1e9);
            break;
        case 'r':
            o->room = (long)arg_double(optarg, 1, 1e15);
            break;
        case 'T':
            o->timeout = arg_double(optarg, 0.1, 600);
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'n':
            o->no_destroy = true;
            break;
        case 'j':
            o->json_path = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc || port == 0 || o->base[0] != '/' || strlen(o->base) > 64)
        usage();
    /* Load goes to this machine's loopback address only, never anywhere else. */
    o->addr.sin_family = AF_INET;
    o->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, o->host, &o->addr.sin_addr) != 1 ||
        o->addr.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
        fprintf(stderr, "gw_load: refusing host '%s': only 127.0.0.1 may be targeted\n", o->host);
        exit(2);
    }
}

/* Raises RLIMIT_NOFILE to at least `need` descriptors (the hard limit too, as root). */
static int nofile_raise(rlim_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max < need)
        rl.rlim_max = need;
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    return 0;
}

int main(int argc, char **argv)
{
    struct load *ld = xcalloc(1, sizeof(*ld));
    options_parse(argc, argv, &ld->opt);
    const struct options *o = &ld->opt;
    rlim_t need = (rlim_t)(o->idle ? o->sessions : 0) + (rlim_t)o->clients + 64;
    if (nofile_raise(need) < 0) {
        fprintf(stderr, "gw_load: cannot raise the open-files limit to %lu (ulimit -n)\n",
                (unsigned long)need);
        return 1;
    }
    ld->ep = epoll_create1(EPOLL_CLOEXEC);
    if (ld->ep < 0) {
        perror("gw_load: epoll_create1");
        return 1;
    }
    json_t *res = o->idle ? run_idle(ld) : run_cycles(ld);
    if (o->label)
        json_object_set_new(res, "label", json_string(o->label));
    int rc = 0;
    if (o->json_path &&
        json_dump_file(res, o->json_path, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) < 0) {
        fprintf(stderr, "gw_load: cannot write %s\n", o->json_path);
        rc = 1;
    }
    json_decref(res);
    close(ld->ep);
    free(ld);
    return rc;
}
