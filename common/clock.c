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
