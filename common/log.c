/* This file implements leveled logging (see log.h). */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static const char *level_name(int level)
{
    switch (level) {
    case VB_LOG_ERROR:
        return "error";
    case VB_LOG_WARN:
        return "warning";
    case VB_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void vb_log_write(const struct vb_log *lg, int level, const char *fmt, ...)
{
    /* Relaxed: the level is a setting read on its own, not a guard for other data. */
    int threshold = lg ? atomic_load_explicit(&lg->level, memory_order_relaxed) : VB_LOG_WARN;
    if (level > threshold)
        return;
    FILE *fp = (lg && lg->fp) ? lg->fp : stderr;
    const char *prefix = (lg && lg->prefix) ? lg->prefix : "verbatim";
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s: %s: ", prefix, level_name(level));
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t used = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (used > sizeof(line) - 2)
        used = sizeof(line) - 2;
    line[used] = '\n';
    line[used + 1] = '\0';
    fputs(line, fp);
}
