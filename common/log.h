/* common/log.h — leveled logging to a stream, passed around as a context (no globals).
 *
 * A `struct vb_log` is owned by whoever creates it (usually main) and borrowed by every
 * module that logs. Writing is thread-safe: each message is formatted into a local buffer and
 * written with a single fputs under the stream's own lock. A NULL log writes warnings and
 * errors to stderr, so library code never needs to check for one. The level may be changed at
 * run time from any thread. */
#ifndef VB_COMMON_LOG_H
#define VB_COMMON_LOG_H

#include <stdio.h>

enum vb_log_level {
    VB_LOG_ERROR = 0,
    VB_LOG_WARN = 1,
    VB_LOG_INFO = 2,
    VB_LOG_DEBUG = 3,
};

struct vb_log {
    /* Messages above this level are discarded. Atomic, so another thread (the Admin API's
     * set_log_level) may change it while others log: plain reads and assignments work. */
    _Atomic int level;
    FILE *fp;           /* borrowed; stderr when NULL */
    const char *prefix; /* borrowed; e.g. "verbatim"; may be NULL */
};

/* Writes one line "prefix: LEVEL: message" if `level` passes the log's threshold.
 * Any thread. `lg` may be NULL (then: stderr, threshold VB_LOG_WARN). */
void vb_log_write(const struct vb_log *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define vb_log_error(lg, ...) vb_log_write((lg), VB_LOG_ERROR, __VA_ARGS__)
#define vb_log_warn(lg, ...) vb_log_write((lg), VB_LOG_WARN, __VA_ARGS__)
#define vb_log_info(lg, ...) vb_log_write((lg), VB_LOG_INFO, __VA_ARGS__)
#define vb_log_debug(lg, ...) vb_log_write((lg), VB_LOG_DEBUG, __VA_ARGS__)

#endif
