/* gateway/sweeper.h — a thread that expires idle sessions (gw_core_sweep) periodically.
 *
 * Owned by whoever starts it (serve); the core is borrowed and must outlive it. Start and stop
 * from one thread. */
#ifndef VB_GATEWAY_SWEEPER_H
#define VB_GATEWAY_SWEEPER_H

#include "gateway/core.h"

struct gw_sweeper;

/* Starts sweeping every `interval_ms` (0 = the default, 1000). 0 or a negative errno. */
int gw_sweeper_start(struct gw_core *core, int interval_ms, struct gw_sweeper **out);
/* Stops the thread (at once, not after the interval) and frees. NULL is a no-op. */
void gw_sweeper_stop(struct gw_sweeper *sw);

#endif
