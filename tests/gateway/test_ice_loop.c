/* This file implements the tests of the media loops (gateway/ice/loop.c): picking, invoke and
 * post (thread, order, inline or queued), timers (one-shot, periodic, cancel, free from their
 * own callback) and the drain on destroy. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/ice/ice.h"
#include "tests/test.h"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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

static void test_loops_pick(void)
{
    struct ice_loops *loops;
    ASSERT_EQ(ice_loops_create(ICE_LOOPS_MAX + 1, NULL, &loops), -EINVAL);
    ASSERT_EQ(ice_loops_create(3, NULL, &loops), 0);
    ASSERT_EQ(ice_loops_count(loops), 3);
    ASSERT(ice_loops_get(loops, 3) == NULL);
    struct ice_loop *l0 = ice_loops_get(loops, 0), *l1 = ice_loops_get(loops, 1);
    struct ice_loop *l2 = ice_loops_get(loops, 2);
    ASSERT_EQ(ice_loop_index(l2), 2);
    /* Round-robin while equal, then the least loaded. */
    ASSERT(ice_loops_pick(loops) == l0);
    ASSERT(ice_loops_pick(loops) == l1);
    ASSERT(ice_loops_pick(loops) == l2);
    ASSERT(ice_loops_pick(loops) == l0);
    ice_loop_release(l1);
    ASSERT_EQ(ice_loop_load(l1), 0);
    ASSERT_EQ(ice_loop_load(l0), 2);
    ASSERT(ice_loops_pick(loops) == l1);
    json_t *info = ice_loops_info(loops);
    json_t *arr = json_object_get(info, "loops");
    ASSERT_EQ(json_array_size(arr), 3);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(arr, 0), "handles")), 2);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(arr, 2), "id")), 2);
    json_decref(info);
    ice_loop_release(l0);
    ice_loop_release(l0);
    ice_loop_release(l1);
    ice_loop_release(l2);
    ice_loops_destroy(loops);
    ice_loops_destroy(NULL);
    /* 0 = one loop per CPU. */
    ASSERT_EQ(ice_loops_create(0, NULL, &loops), 0);
    ASSERT_EQ(ice_loops_count(loops), (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    ice_loops_destroy(loops);
}

struct probe {
    struct ice_loop *loop;
    _Atomic int ran;
    bool on_loop;
    char thread[16];
    int order[4];
    int norder;
};

static void probe_fn(void *arg)
{
    struct probe *p = arg;
    p->on_loop = ice_loop_is_current(p->loop);
    pthread_getname_np(pthread_self(), p->thread, sizeof p->thread);
    atomic_fetch_add(&p->ran, 1);
}

static void mark2(void *arg)
{
    struct probe *p = arg;
    p->order[p->norder++] = 2;
}

static void mark3(void *arg)
{
    struct probe *p = arg;
    p->order[p->norder++] = 3;
    atomic_fetch_add(&p->ran, 1);
}

/* On the loop: invoke runs inline, post runs later. */
static void nested(void *arg)
{
    struct probe *p = arg;
    p->order[p->norder++] = 1;
    ASSERT_EQ(ice_loop_post(p->loop, mark3, p), 0);
    ASSERT_EQ(ice_loop_invoke(p->loop, mark2, p), 0);
    ASSERT_EQ(p->norder, 2); /* mark2 already ran, mark3 not yet */
}

static void test_invoke(void)
{
    struct ice_loops *loops;
    ASSERT_EQ(ice_loops_create(2, NULL, &loops), 0);
    struct probe p = {.loop = ice_loops_get(loops, 1)};
    ASSERT(!ice_loop_is_current(p.loop));
    ASSERT_EQ(ice_loop_invoke(p.loop, probe_fn, &p), 0);
    ASSERT(wait_int(&p.ran, 1, 2000));
    ASSERT(p.on_loop);
    ASSERT_STREQ(p.thread, "vb-loop-1");
    ASSERT_EQ(ice_loop_post(p.loop, nested, &p), 0);
    ASSERT(wait_int(&p.ran, 2, 2000));
    ASSERT_EQ(p.norder, 3);
    ASSERT_EQ(p.order[0], 1);
    ASSERT_EQ(p.order[1], 2);
    ASSERT_EQ(p.order[2], 3);
    ice_loops_destroy(loops);
}

#define PER_THREAD 5000

struct fifo {
    struct ice_loop *loop;
    _Atomic int done;
    int last[2]; /* on the loop thread only */
    int errors;
};

struct fifo_item {
    struct fifo *f;
    int thread, seq;
};

static void fifo_fn(void *arg)
{
    struct fifo_item *it = arg;
    if (it->seq != it->f->last[it->thread] + 1)
        it->f->errors++;
    it->f->last[it->thread] = it->seq;
    atomic_fetch_add(&it->f->done, 1);
}

struct poster {
    struct fifo *f;
    int thread;
    struct fifo_item items[PER_THREAD];
};

static void *poster_main(void *arg)
{
    struct poster *p = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        p->items[i] = (struct fifo_item){.f = p->f, .thread = p->thread, .seq = i + 1};
        ASSERT_EQ(ice_loop_post(p->f->loop, fifo_fn, &p->items[i]), 0);
    }
    return NULL;
}

static void test_fifo(void)
{
    struct ice_loops *loops;
    ASSERT_EQ(ice_loops_create(1, NULL, &loops), 0);
    struct fifo f = {.loop = ice_loops_get(loops, 0)};
    struct poster *posters = calloc(2, sizeof *posters);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        posters[i].f = &f;
        posters[i].thread = i;
        ASSERT_EQ(pthread_create(&th[i], NULL, poster_main, &posters[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ASSERT(wait_int(&f.done, 2 * PER_THREAD, 5000));
    ASSERT_EQ(f.errors, 0);
    ASSERT_EQ(f.last[0], PER_THREAD);
    ASSERT_EQ(f.last[1], PER_THREAD);
    ice_loops_destroy(loops);
    free(posters);
}

struct tick {
    struct ice_loop *loop;
    _Atomic int fired;
    int64_t armed_us, fired_us[8];
    int repeat; /* reschedule this many more times */
    bool free_self;
    bool on_loop;
};

static void tick_fn(struct ice_timer *t, void *arg)
{
    struct tick *k = arg;
    int n = atomic_load(&k->fired);
    if (n < 8)
        k->fired_us[n] = now_us();
    k->on_loop = ice_loop_is_current(k->loop);
    ASSERT(!ice_timer_pending(t));
    if (k->repeat-- > 0)
        ice_timer_reschedule(t, 10);
    else if (k->free_self)
        ice_timer_free(t);
    atomic_fetch_add(&k->fired, 1);
}

static void test_timers(void)
{
    struct ice_loops *loops;
    ASSERT_EQ(ice_loops_create(1, NULL, &loops), 0);
    struct ice_loop *loop = ice_loops_get(loops, 0);

    /* One-shot: fires once, not early, on the loop; the handle stays ours. */
    struct tick a = {.loop = loop, .armed_us = now_us()};
    struct ice_timer *ta;
    ASSERT_EQ(ice_loop_timer_add(loop, 30, tick_fn, &a, &ta), 0);
    ASSERT(ice_timer_pending(ta));
    ASSERT(wait_int(&a.fired, 1, 2000));
    ASSERT_GE(a.fired_us[0] - a.armed_us, 30000);
    ASSERT_LT(a.fired_us[0] - a.armed_us, 1000000);
    ASSERT(a.on_loop);
    usleep(60000);
    ASSERT_EQ(atomic_load(&a.fired), 1);
    ASSERT(!ice_timer_pending(ta));
    /* Re-armed from outside. */
    ice_timer_reschedule(ta, 5);
    ASSERT(wait_int(&a.fired, 2, 2000));
    ice_timer_free(ta);

    /* Periodic by rescheduling itself, then freeing itself. */
    struct tick b = {.loop = loop, .repeat = 4, .free_self = true};
    struct ice_timer *tb;
    ASSERT_EQ(ice_loop_timer_add(loop, 10, tick_fn, &b, &tb), 0);
    ASSERT(wait_int(&b.fired, 5, 2000));
    for (int i = 1; i < 5; i++)
        ASSERT_GE(b.fired_us[i] - b.fired_us[i - 1], 10000);
    usleep(50000);
    ASSERT_EQ(atomic_load(&b.fired), 5);

    /* Cancelled: never fires; rescheduled later: fires at the new time. */
    struct tick c = {.loop = loop};
    struct ice_timer *tc;
    ASSERT_EQ(ice_loop_timer_add(loop, 20, tick_fn, &c, &tc), 0);
    ice_timer_cancel(tc);
    ASSERT(!ice_timer_pending(tc));
    usleep(60000);
    ASSERT_EQ(atomic_load(&c.fired), 0);
    c.armed_us = now_us();
    ice_timer_reschedule(tc, 10);
    ice_timer_reschedule(tc, 80);
    ASSERT(wait_int(&c.fired, 1, 2000));
    ASSERT_GE(c.fired_us[0] - c.armed_us, 80000);
    ice_timer_free(tc);
    ice_timer_free(NULL);
    ice_loops_destroy(loops);
}

struct drain {
    struct ice_loop *loop;
    _Atomic int ran;
    int chained;
};

static void chained_fn(void *arg)
{
    struct drain *d = arg;
    d->chained++;
    atomic_fetch_add(&d->ran, 1);
}

static void slow_fn(void *arg)
{
    struct drain *d = arg;
    usleep(2000);
    /* Work queued by queued work still runs during the drain. */
    ASSERT_EQ(ice_loop_post(d->loop, chained_fn, d), 0);
    atomic_fetch_add(&d->ran, 1);
}

static void test_drain(void)
{
    struct ice_loops *loops;
    ASSERT_EQ(ice_loops_create(1, NULL, &loops), 0);
    struct drain d = {.loop = ice_loops_get(loops, 0)};
    for (int i = 0; i < 50; i++)
        ASSERT_EQ(ice_loop_post(d.loop, slow_fn, &d), 0);
    ice_loops_destroy(loops); /* returns after all 100 ran */
    ASSERT_EQ(atomic_load(&d.ran), 100);
    ASSERT_EQ(d.chained, 50);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"loops_pick", test_loops_pick}, {"invoke", test_invoke}, {"fifo", test_fifo},
        {"timers", test_timers},         {"drain", test_drain},   {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
