/* This file implements the VideoRoom's asynchronous requests: a few worker threads, each with a
 * bounded FIFO of messages, that answer join, configure, leave... with an event carrying the
 * request's transaction, after the core has sent the `ack`.
 *
 * DESIGN: a handle's messages always go to the same worker (chosen by handle id), so they are
 * answered in the order they arrived, as Janus's single handler thread does, while different
 * handles proceed in parallel. A message owns copies of the body and jsep and references on the
 * handle and the plugin session, so it stays valid whatever happens to the request meanwhile.
 * When the handle went away before its turn, the message is dropped without a reply. */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "common/log.h"
#include "gateway/videoroom/vr_internal.h"

void vr_msg_free(struct vr_msg *m)
{
    if (!m)
        return;
    vr_session_unref(m->s);
    gw_handle_unref(m->h);
    free(m->transaction);
    json_decref(m->body);
    json_decref(m->jsep);
    free(m);
}

static struct vr_msg *pop(struct vr_worker *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stop)
        pthread_cond_wait(&w->cond, &w->lock);
    struct vr_msg *m = w->head;
    if (m && !w->stop) {
        w->head = m->next;
        if (!w->head)
            w->tail = NULL;
        w->len--;
    } else {
        m = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    return m;
}

static void *worker_main(void *arg)
{
    struct vr_worker *w = arg;
    struct vr_msg *m;
    while ((m = pop(w)) != NULL) {
        /* Inside the core's hook guard: a detach meanwhile waits for the message to be done,
         * and the core (whose callbacks it uses) outlives it. A detached handle's message is
         * dropped. */
        if (gw_handle_hook_enter(m->h)) {
            vr_async_handle(w->v, m);
            gw_handle_hook_leave(m->h);
        }
        vr_msg_free(m);
    }
    return NULL;
}

int vr_workers_start(struct vr *v)
{
    for (int i = 0; i < VR_WORKERS; i++) {
        struct vr_worker *w = &v->workers[i];
        w->v = v;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        int err = pthread_create(&w->thread, NULL, worker_main, w);
        if (err) {
            vb_log_error(v->log, "videoroom: cannot start a worker thread (%d)", err);
            return -err;
        }
        w->started = true;
    }
    return 0;
}

void vr_workers_stop(struct vr *v)
{
    for (int i = 0; i < VR_WORKERS; i++) {
        struct vr_worker *w = &v->workers[i];
        if (!w->v)
            continue;
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        if (w->started)
            pthread_join(w->thread, NULL);
        while (w->head) {
            struct vr_msg *m = w->head;
            w->head = m->next;
            vr_msg_free(m);
        }
        w->tail = NULL;
        w->len = 0;
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        w->v = NULL;
    }
}

int vr_workers_push(struct vr *v, struct vr_msg *m)
{
    struct vr_worker *w = &v->workers[gw_handle_id(m->h) % VR_WORKERS];
    pthread_mutex_lock(&w->lock);
    if (w->len >= VR_QUEUE_MAX || w->stop) {
        pthread_mutex_unlock(&w->lock);
        return -EAGAIN;
    }
    m->next = NULL;
    if (w->tail)
        w->tail->next = m;
    else
        w->head = m;
    w->tail = m;
    w->len++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void vr_async_handle(struct vr *v, struct vr_msg *m)
{
    struct vr_session *s = m->s;
    pthread_mutex_lock(&s->lock);
    bool gone = s->destroyed;
    enum vr_ptype ptype = s->ptype;
    pthread_mutex_unlock(&s->lock);
    if (gone)
        return;
    const char *request = json_string_value(json_object_get(m->body, "request"));
    json_t *ev = NULL, *jsep = NULL;
    struct vr_outbox o = {0};
    struct vr_participant *p = NULL;
    if (ptype == VR_PTYPE_PUBLISHER) {
        p = vr_session_publisher(s);
        if (p)
            ev = vr_async_publisher(v, s, p, request, m->body, m->jsep, &jsep, &o);
    } else if (ptype == VR_PTYPE_SUBSCRIBER) {
        struct vr_subscriber *sub = vr_session_subscriber(s);
        if (sub)
            ev = vr_async_subscriber(v, s, sub, request, m->body, m->jsep, &jsep, &o);
        vr_subscriber_unref(sub);
    } else if (strcasecmp(request, "join") == 0 || strcasecmp(request, "joinandconfigure") == 0) {
        ev = vr_async_join(v, s, request, m->body, m->jsep, &jsep, &o);
        p = vr_session_publisher(s);
    } else {
        struct vr_err e;
        vr_fail(&e, VR_ERR_JOIN_FIRST, "Invalid request on unconfigured participant");
        ev = vr_err_json(&e);
    }
    /* Recorders follow what is now published and wanted, before the answer goes out (so they
     * are open before any packet can come); then the reply, then what it caused (others told,
     * this PeerConnection closed: its hangup follows the reply, as in Janus). */
    if (p)
        vr_feed_rec_update(v, p);
    vr_participant_unref(p);
    const struct gw_plugin_callbacks *cb = vr_callbacks(v);
    if (ev && cb) {
        cb->push_event(m->h, m->transaction, ev, jsep);
    } else {
        json_decref(ev);
        json_decref(jsep);
    }
    vr_outbox_flush(v, &o);
}
