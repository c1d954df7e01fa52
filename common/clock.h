/* common/clock.h — time sources in microseconds, injectable for tests.
 *
 * Code that stamps media takes a `const struct vb_clock *`; NULL means the system clocks.
 * Tests pass a clock whose functions return scripted times, which makes recorded files
 * reproducible byte for byte. */
#ifndef VB_COMMON_CLOCK_H
#define VB_COMMON_CLOCK_H

#include <stdint.h>

struct vb_clock {
    int64_t (*mono_us)(void *ctx); /* monotonic microseconds */
    int64_t (*real_us)(void *ctx); /* wall clock microseconds since the Unix epoch */
    void *ctx;
};

/* System clocks (CLOCK_MONOTONIC / CLOCK_REALTIME). Any thread; no syscall (vDSO). */
int64_t vb_clock_mono_us(void);
int64_t vb_clock_real_us(void);

/* A CLOCK_MONOTONIC deadline `us` microseconds from now, for pthread_cond_timedwait on a
 * condition variable created with pthread_condattr_setclock(CLOCK_MONOTONIC). Any thread. */
struct timespec;
void vb_clock_deadline_us(struct timespec *ts, int64_t us);

/* The clock's time, or the system's when `c` is NULL. Any thread. */
int64_t vb_clock_mono(const struct vb_clock *c);
int64_t vb_clock_real(const struct vb_clock *c);

#endif
