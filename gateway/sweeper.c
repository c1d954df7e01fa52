/* This file implements the session sweeper: one thread calling gw_core_sweep() at a fixed
 * interval, sleeping on a condition variable so that stopping it is immediate. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "gateway/sweeper.h"

struct gw_sweeper {
    struct gw_core *core;
    int interval_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    pthread_t thread;
};

static void *sweep_loop(void *arg)
{
    struct gw_sweeper *sw = arg;
    pthread_mutex_lock(&sw->lock);
    while (!sw->stop) {
        struct timespec dl;
        vb_clock_deadline_us(&dl, (int64_t)sw->interval_ms * 1000);
        while (!sw->stop && pthread_cond_timedwait(&sw->cond, &sw->lock, &dl) != ETIMEDOUT)
            ;
        if (sw->stop)
            break;
        pthread_mutex_unlock(&sw->lock);
        gw_core_sweep(sw->core);
        pthread_mutex_lock(&sw->lock);
    }
    pthread_mutex_unlock(&sw->lock);
    return NULL;
}

int gw_sweeper_start(struct gw_core *core, int interval_ms, struct gw_sweeper **out)
{
    if (!core || !out || interval_ms < 0)
        return -EINVAL;
    struct gw_sweeper *sw = xcalloc(1, sizeof *sw);
    sw->core = core;
    sw->interval_ms = interval_ms ? interval_ms : 1000;
    pthread_mutex_init(&sw->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sw->cond, &ca);
    pthread_condattr_destroy(&ca);
    int err = pthread_create(&sw->thread, NULL, sweep_loop, sw);
    if (err) {
        pthread_cond_destroy(&sw->cond);
        pthread_mutex_destroy(&sw->lock);
        free(sw);
        return -err;
    }
    *out = sw;
    return 0;
}

void gw_sweeper_stop(struct gw_sweeper *sw)
{
    if (!sw)
        return;
    pthread_mutex_lock(&sw->lock);
    sw->stop = true;
    pthread_cond_signal(&sw->cond);
    pthread_mutex_unlock(&sw->lock);
    pthread_join(sw->thread, NULL);
    pthread_cond_destroy(&sw->cond);
    pthread_mutex_destroy(&sw->lock);
    free(sw);
}
