/* This file implements the microsecond clocks (see clock.h). */
#include "common/clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t vb_clock_mono_us(void)
{
    return read_clock(CLOCK_MONOTONIC);
}

int64_t vb_clock_real_us(void)
{
    return read_clock(CLOCK_REALTIME);
}

int64_t vb_clock_mono(const struct vb_clock *c)
{
    return c ? c->mono_us(c->ctx) : vb_clock_mono_us();
}

int64_t vb_clock_real(const struct vb_clock *c)
{
    return c ? c->real_us(c->ctx) : vb_clock_real_us();
}

void vb_clock_deadline_us(struct timespec *ts, int64_t us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    if (us < 0)
        us = 0;
    ts->tv_sec += (time_t)(us / 1000000);
    ts->tv_nsec += (long)(us % 1000000) * 1000;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}
