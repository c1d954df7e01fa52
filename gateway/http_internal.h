/* gateway/http_internal.h — shared between http.c (the daemon and routing) and http_poll.c
 * (parked long polls and their timer). Not for other modules. */
#ifndef VB_GATEWAY_HTTP_INTERNAL_H
#define VB_GATEWAY_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "gateway/http.h"

struct http_park;

/* One parked (suspended) long poll; embedded in the request state. */
enum { POLL_IDLE = 0, POLL_PARKED = 1, POLL_RESUMED = 2 };
struct http_poll {
    struct gw_http *h;
    struct MHD_Connection *conn;
    struct gw_session *s; /* referenced while the poll lives */
    struct gw_waiter waiter;
    atomic_int state;
    int64_t deadline_us; /* monotonic */
    size_t heap_ix;      /* in the timer heap while parked; SIZE_MAX when not */
    int maxev;
};

/* The timer of parked polls: a min-heap on deadlines served by one thread. */
struct http_park {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct http_poll **heap;
    size_t len, cap;
    bool stopping;
    pthread_t thread;
    bool inited, started;
};

struct gw_http {
    struct gw_core *core;
    struct MHD_Daemon *d;
    char *base;
    char *origin;
    int hold_ms;
    size_t max_body;
    uint16_t port;
    gw_http_handler_fn handler;
    void *handler_ctx;
    atomic_bool stopping;
    atomic_int polls_live; /* long polls between their start and their completion */
    struct http_park park;
};

/* The path below the base: ids, or a word (info/ping). */
struct http_path {
    uint64_t sid, hid;
    const char *word; /* "info" or "ping" at the first level (points into the URL), else NULL */
};

/* http_path.c: 0, or -ENOENT when `url` is outside `base` or not one of its paths. */
int http_path_parse(const char *base, const char *url, struct http_path *p);

/* http_poll.c */
int http_park_start(struct http_park *p);
/* Answers every parked poll (resumes it) and stops the timer thread; later polls are resumed
 * at once. */
void http_park_stop(struct http_park *p);
/* Frees the heap and the lock, once the daemon has stopped. */
void http_park_free(struct http_park *p);
size_t http_park_count(struct http_park *p);
/* Parks `poll` (its connection, session, maxev and deadline set; heap_ix SIZE_MAX) and
 * suspends its connection. The request handler runs again once the poll is resumed — at once
 * when events were queued meanwhile, the session ended or the server is stopping. 0. */
int http_poll_park(struct gw_http *h, struct http_poll *poll);
/* After resumption: disarms and unlinks the poll (idempotent). */
void http_poll_unpark(struct gw_http *h, struct http_poll *poll);

#endif
