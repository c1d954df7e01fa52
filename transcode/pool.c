/* This file implements the worker pool of transcode.h: a fixed set of threads that run
 * conversion jobs from one FIFO queue, with progress forwarding and cancellation.
 *
 * DESIGN: one mutex guards the queue, the workers' current jobs and the counters; a condvar
 * `work` wakes workers when a job is queued or the pool stops, and a condvar `idle` wakes
 * tc_pool_wait() and tc_pool_destroy() when a job is over. Every submitted job becomes an
 * entry (a copy of the caller's struct, an id, an atomic `cancelled` flag) that lives in the
 * queue, then as its worker's current job, then is freed after its done() returns. A running
 * job is cancelled by setting its flag: the progress callback the worker gives
 * transcode_job_run() returns false once the flag is set, so the job stops at its next
 * progress point (job.c checks every 2000 frames), removes its partial output and ends with
 * -ECANCELED. A job that reaches its end before a progress point sees the flag finishes
 * normally and done() gets its real status. Nothing else is shared between jobs, so one
 * job's failure cannot affect another.
 *
 * Threads: done() and progress() of a job that runs are called on its worker thread. A job
 * cancelled while still queued never reaches a worker: its done() (status -ECANCELED, error
 * "cancelled") is called on the thread that cancelled it, inside tc_pool_cancel() or
 * tc_pool_destroy(), before that call returns. No pool lock is held while any callback
 * runs, so callbacks may submit or cancel jobs, but must not wait for or destroy the pool
 * (that would wait for the callback itself). `active` counts jobs taken out of the queue
 * whose done() has not yet returned, so tc_pool_wait() returns only after every done() has. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "transcode/transcode.h"

#define MAX_THREADS 1024 /* tc_pool_create() refuses more (-EINVAL) */

struct entry {
    struct entry *next; /* in the queue */
    int64_t id;
    struct tc_pool_job job;
    atomic_bool cancelled;
};

struct worker {
    pthread_t thread;
    struct tc_pool *pool;
    struct entry *cur; /* the job it runs while it can still be cancelled; under `lock` */
};

struct tc_pool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or the pool stops */
    pthread_cond_t idle; /* a job is over */
    struct entry *head, *tail;
    size_t active; /* taken out of the queue, done() not yet returned */
    int64_t next_id;
    bool stopping;
    unsigned n_workers;
    struct worker *workers;
};

static void entry_finish_cancelled(struct entry *e)
{
    struct tc_result res;
    memset(&res, 0, sizeof(res));
    res.status = -ECANCELED;
    snprintf(res.error, sizeof(res.error), "cancelled");
    if (e->job.done)
        e->job.done(e->job.ud, &res);
}

/* Forwards progress to the job's own callback; tells the job to stop once cancelled. */
static bool entry_progress(void *ud, const struct tc_progress *p)
{
    struct entry *e = ud;
    if (e->job.progress && !atomic_load(&e->cancelled))
        e->job.progress(e->job.ud, p);
    return !atomic_load(&e->cancelled);
}

/* Marks one taken job over; wakes the waiters. Called with the lock held. */
static void pool_job_over(struct tc_pool *p)
{
    p->active--;
    if (p->active == 0)
        pthread_cond_broadcast(&p->idle);
}

/* Runs the job its worker just took, then calls its done(). Called without the lock. */
static void worker_run(struct tc_pool *p, struct worker *w, struct entry *e)
{
    struct tc_result res;
    bool cancelled = atomic_load(&e->cancelled); /* between dequeue and now */
    if (!cancelled)
        transcode_job_run(&e->job.job, entry_progress, e, &res);
    pthread_mutex_lock(&p->lock);
    w->cur = NULL; /* finished: tc_pool_cancel() no longer finds it */
    pthread_mutex_unlock(&p->lock);
    if (cancelled)
        entry_finish_cancelled(e);
    else if (e->job.done)
        e->job.done(e->job.ud, &res);
    free(e);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct tc_pool *p = w->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->head) /* stopping and nothing queued */
            break;
        struct entry *e = p->head;
        p->head = e->next;
        if (!p->head)
            p->tail = NULL;
        e->next = NULL;
        w->cur = e;
        p->active++;
        pthread_mutex_unlock(&p->lock);
        worker_run(p, w, e);
        pthread_mutex_lock(&p->lock);
        pool_job_over(p);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Stops and joins the first `n` workers. */
static void pool_stop_workers(struct tc_pool *p, unsigned n)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < n; i++)
        pthread_join(p->workers[i].thread, NULL);
}

static void pool_free(struct tc_pool *p)
{
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p);
}

int tc_pool_create(unsigned threads, struct tc_pool **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
    }
    if (threads > MAX_THREADS)
        return -EINVAL;
    struct tc_pool *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->next_id = 1;
    p->workers = xcalloc(threads, sizeof(*p->workers));
    for (unsigned i = 0; i < threads; i++) {
        p->workers[i].pool = p;
        int rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
        if (rc != 0) {
            pool_stop_workers(p, i);
            pool_free(p);
            return -rc;
        }
        char name[16];
        snprintf(name, sizeof(name), "vb-tc-%u", i % 100000u);
        pthread_setname_np(p->workers[i].thread, name);
        p->n_workers = i + 1;
    }
    *out = p;
    return 0;
}

int64_t tc_pool_submit(struct tc_pool *p, const struct tc_pool_job *job)
{
    if (!p || !job)
        return -EINVAL;
    struct entry *e = xcalloc(1, sizeof(*e));
    e->job = *job;
    atomic_init(&e->cancelled, false);
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        free(e);
        return -ESHUTDOWN;
    }
    e->id = p->next_id++;
    if (p->tail)
        p->tail->next = e;
    else
        p->head = e;
    p->tail = e;
    pthread_cond_signal(&p->work);
    int64_t id = e->id;
    pthread_mutex_unlock(&p->lock);
    return id;
}

/* Unlinks the queued entry `id`, or returns NULL. Called with the lock held. */
static struct entry *queue_remove(struct tc_pool *p, int64_t id)
{
    struct entry *prev = NULL;
    for (struct entry *e = p->head; e; prev = e, e = e->next) {
        if (e->id != id)
            continue;
        if (prev)
            prev->next = e->next;
        else
            p->head = e->next;
        if (p->tail == e)
            p->tail = prev;
        e->next = NULL;
        return e;
    }
    return NULL;
}

int tc_pool_cancel(struct tc_pool *p, int64_t id)
{
    if (!p || id <= 0)
        return -ENOENT;
    pthread_mutex_lock(&p->lock);
    struct entry *e = queue_remove(p, id);
    if (e) {
        p->active++; /* until its done() has returned */
        pthread_mutex_unlock(&p->lock);
        entry_finish_cancelled(e);
        free(e);
        pthread_mutex_lock(&p->lock);
        pool_job_over(p);
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    int rc = -ENOENT;
    for (unsigned i = 0; i < p->n_workers; i++) {
        struct entry *cur = p->workers[i].cur;
        if (cur && cur->id == id) {
            atomic_store(&cur->cancelled, true);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void tc_pool_wait(struct tc_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    while (p->head || p->active > 0)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void tc_pool_destroy(struct tc_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true; /* from here tc_pool_submit() fails with -ESHUTDOWN */
    struct entry *queued = p->head;
    p->head = p->tail = NULL;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    while (queued) {
        struct entry *next = queued->next;
        entry_finish_cancelled(queued);
        free(queued);
        queued = next;
    }
    pool_stop_workers(p, p->n_workers);
    /* A tc_pool_cancel() on another thread may still be in a cancelled job's done(). */
    tc_pool_wait(p);
    pool_free(p);
}
