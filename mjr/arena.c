/* This file implements the writer's segment arena (see arena.h for the why).
 *
 * DESIGN: the region is an anonymous mapping aligned to 2 MiB with MADV_HUGEPAGE. Memory is
 * addressed in 4 KiB blocks; a free segment is named by its first block's index. Each
 * segment size has a Treiber stack whose head packs (tag << 32 | index + 1) into one 64-bit
 * word: every successful pop or push bumps the tag, so a stale head never compares equal
 * (no ABA). The links live in a side array, not in the segments, so a pop never reads
 * memory that another thread may have taken and written meanwhile, and AddressSanitizer can
 * poison free segments. Carving takes a mutex; get and put never do. */
#include "mjr/arena.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VB_ARENA_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VB_ARENA_ASAN 1
#endif
#ifdef VB_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define arena_poison(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define arena_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define arena_poison(p, n) ((void)(p), (void)(n))
#define arena_unpoison(p, n) ((void)(p), (void)(n))
#endif

#define BLOCK_SHIFT MJR_ARENA_MIN_SHIFT

struct arena_class {
    _Alignas(64) _Atomic uint64_t head; /* tag << 32 | (block index + 1); low half 0: empty */
    _Atomic size_t nfree;
};

struct mjr_arena {
    uint8_t *base; /* 2 MiB aligned */
    size_t size;   /* whole chunks */
    void *map;     /* what mmap returned, for munmap */
    size_t map_len;
    _Atomic uint32_t *next; /* per block: index + 1 of the next free segment, 0 = none */
    pthread_mutex_t carve_lock;
    _Atomic size_t carved; /* bytes [0, carved) belong to some size */
    struct arena_class cls[MJR_ARENA_CLASSES];
};

int mjr_arena_create(size_t bytes, struct mjr_arena **out)
{
    size_t size = (bytes + MJR_ARENA_CHUNK - 1) / MJR_ARENA_CHUNK * MJR_ARENA_CHUNK;
    if (size == 0 || size / ((size_t)1 << BLOCK_SHIFT) > UINT32_MAX - 1)
        return -EINVAL;
    size_t map_len = size + MJR_ARENA_CHUNK; /* room to align the start */
    void *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return -errno;
    struct mjr_arena *a = calloc(1, sizeof(*a));
    size_t nblocks = size >> BLOCK_SHIFT;
    _Atomic uint32_t *next = a ? calloc(nblocks, sizeof(*next)) : NULL;
    if (!next) {
        free(a);
        munmap(map, map_len);
        return -ENOMEM;
    }
    uintptr_t start = ((uintptr_t)map + MJR_ARENA_CHUNK - 1) & ~(uintptr_t)(MJR_ARENA_CHUNK - 1);
    a->base = (uint8_t *)start;
    a->size = size;
    a->map = map;
    a->map_len = map_len;
    a->next = next;
    pthread_mutex_init(&a->carve_lock, NULL);
    /* Advice only: without transparent huge pages the arena still works on small pages. */
    (void)madvise(a->base, size, MADV_HUGEPAGE);
    *out = a;
    return 0;
}

void mjr_arena_destroy(struct mjr_arena *a)
{
    if (!a)
        return;
    arena_unpoison(a->base, atomic_load(&a->carved)); /* free segments are poisoned */
    munmap(a->map, a->map_len);
    pthread_mutex_destroy(&a->carve_lock);
    free(a->next);
    free(a);
}

static struct arena_class *class_of(struct mjr_arena *a, unsigned shift)
{
    if (!a || shift < MJR_ARENA_MIN_SHIFT || shift > MJR_ARENA_MAX_SHIFT)
        return NULL;
    return &a->cls[shift - MJR_ARENA_MIN_SHIFT];
}

uint8_t *mjr_arena_get(struct mjr_arena *a, unsigned shift)
{
    struct arena_class *c = class_of(a, shift);
    if (!c)
        return NULL;
    uint64_t head = atomic_load_explicit(&c->head, memory_order_acquire);
    for (;;) {
        uint32_t idx1 = (uint32_t)head;
        if (idx1 == 0)
            return NULL;
        uint32_t nxt = atomic_load_explicit(&a->next[idx1 - 1], memory_order_relaxed);
        uint64_t want = ((head >> 32) + 1) << 32 | nxt;
        if (atomic_compare_exchange_weak_explicit(&c->head, &head, want, memory_order_acquire,
                                                  memory_order_acquire)) {
            atomic_fetch_sub_explicit(&c->nfree, 1, memory_order_relaxed);
            uint8_t *seg = a->base + ((size_t)(idx1 - 1) << BLOCK_SHIFT);
            arena_unpoison(seg, (size_t)1 << shift);
            return seg;
        }
    }
}

void mjr_arena_put(struct mjr_arena *a, uint8_t *seg, unsigned shift)
{
    struct arena_class *c = class_of(a, shift);
    if (!c || !seg)
        return;
    arena_poison(seg, (size_t)1 << shift);
    uint32_t idx1 = (uint32_t)((size_t)(seg - a->base) >> BLOCK_SHIFT) + 1;
    uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&a->next[idx1 - 1], (uint32_t)head, memory_order_relaxed);
        uint64_t want = ((head >> 32) + 1) << 32 | idx1;
        if (atomic_compare_exchange_weak_explicit(&c->head, &head, want, memory_order_release,
                                                  memory_order_relaxed))
            break;
    }
    atomic_fetch_add_explicit(&c->nfree, 1, memory_order_relaxed);
}

size_t mjr_arena_refill(struct mjr_arena *a, unsigned shift, size_t want)
{
    struct arena_class *c = class_of(a, shift);
    if (!c)
        return 0;
    size_t seg = (size_t)1 << shift;
    pthread_mutex_lock(&a->carve_lock);
    while (atomic_load_explicit(&c->nfree, memory_order_relaxed) < want) {
        size_t at = atomic_load_explicit(&a->carved, memory_order_relaxed);
        if (at + MJR_ARENA_CHUNK > a->size)
            break;
        uint8_t *chunk = a->base + at;
        /* Fault the chunk in here (one huge page where the kernel gives one), so that no
         * producer ever takes the fault or waits for the kernel to zero the page. */
        arena_unpoison(chunk, MJR_ARENA_CHUNK);
        memset(chunk, 0, MJR_ARENA_CHUNK);
        arena_poison(chunk, MJR_ARENA_CHUNK);
        atomic_store_explicit(&a->carved, at + MJR_ARENA_CHUNK, memory_order_relaxed);
        for (size_t off = 0; off < MJR_ARENA_CHUNK; off += seg)
            mjr_arena_put(a, chunk + off, shift);
    }
    pthread_mutex_unlock(&a->carve_lock);
    return atomic_load_explicit(&c->nfree, memory_order_relaxed);
}

bool mjr_arena_owns(const struct mjr_arena *a, const void *p)
{
    return a && (const uint8_t *)p >= a->base && (const uint8_t *)p < a->base + a->size;
}

size_t mjr_arena_free_count(const struct mjr_arena *a, unsigned shift)
{
    if (!a || shift < MJR_ARENA_MIN_SHIFT || shift > MJR_ARENA_MAX_SHIFT)
        return 0;
    return atomic_load_explicit(&a->cls[shift - MJR_ARENA_MIN_SHIFT].nfree, memory_order_relaxed);
}

size_t mjr_arena_carved(const struct mjr_arena *a)
{
    return a ? atomic_load_explicit(&a->carved, memory_order_relaxed) : 0;
}
