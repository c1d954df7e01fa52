/* mjr/arena.h — segment memory for the asynchronous writer: hugepage-backed, prefaulted off
 * the media threads, handed out and taken back without locks.
 *
 * Why: with thousands of streams, every append copies into a segment that is cold in the
 * cache and, on 4 KiB pages, cold in the TLB too. Segments carved from 2 MiB transparent
 * huge pages cut the TLB misses, and carving happens on control and writer threads, which
 * also take the page faults, so a producer never faults or zeroes a page.
 *
 * The arena reserves (virtually) a region the size of the engine's memory budget. It is
 * carved lazily into 2 MiB chunks; each chunk serves one segment size (a power of two from
 * 4 KiB to 2 MiB) and is split into segments on per-size lock-free stacks (tagged heads, so
 * no ABA). Segments are never returned to the system: the region's resident size is the peak
 * of what the streams held. When the region is used up, or a size is outside the arena's
 * range, callers fall back to the heap (`mjr_arena_owns` tells them apart at free).
 *
 * Thread-safety: `mjr_arena_get`, `mjr_arena_put` and `mjr_arena_refill` may run on any
 * threads at once. `mjr_arena_get` and `mjr_arena_put` never block, allocate, or fault a
 * page; `mjr_arena_refill` may do all three (control and writer threads only). */
#ifndef VB_MJR_ARENA_H
#define VB_MJR_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MJR_ARENA_CHUNK ((size_t)2 * 1024 * 1024)
#define MJR_ARENA_MIN_SHIFT 12u /* 4 KiB segments */
#define MJR_ARENA_MAX_SHIFT 21u /* 2 MiB segments */
#define MJR_ARENA_CLASSES (MJR_ARENA_MAX_SHIFT - MJR_ARENA_MIN_SHIFT + 1)

struct mjr_arena;

/* Reserves a region of at least `bytes` (rounded up to whole chunks). Returns 0, or -errno
 * (-ENOMEM when the address space cannot be reserved; the caller then uses the heap). */
int mjr_arena_create(size_t bytes, struct mjr_arena **out);

/* Unmaps the region. Every segment handed out is invalid afterwards. NULL is a no-op. */
void mjr_arena_destroy(struct mjr_arena *a);

/* A free segment of 1 << shift bytes (aligned to its size and to 4 KiB, already faulted
 * in), or NULL when none is free now. Never blocks, allocates, or faults. */
uint8_t *mjr_arena_get(struct mjr_arena *a, unsigned shift);

/* Gives back a segment from mjr_arena_get with the same shift. Never blocks. */
void mjr_arena_put(struct mjr_arena *a, uint8_t *seg, unsigned shift);

/* Makes at least `want` segments of 1 << shift free, carving and touching new chunks as
 * needed. Returns the number free afterwards (less than `want` once the region is carved).
 * Slow path: control and writer threads only. */
size_t mjr_arena_refill(struct mjr_arena *a, unsigned shift, size_t want);

/* Whether `p` lies inside the arena's region (so it must go back with mjr_arena_put). */
bool mjr_arena_owns(const struct mjr_arena *a, const void *p);

/* Counters for tests and stats: segments of this size free now; bytes carved so far. */
size_t mjr_arena_free_count(const struct mjr_arena *a, unsigned shift);
size_t mjr_arena_carved(const struct mjr_arena *a);

#endif
