/* Tests of the writer's segment arena: sizes, alignment, exhaustion, and get/put from many
 * threads at once (also run under ThreadSanitizer). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mjr/arena.h"
#include "tests/test.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISONED(p) __asan_address_is_poisoned(p)
#endif
#endif
#ifndef POISONED
#define POISONED(p) 1 /* without ASan there is nothing to check */
#endif

#define MIB ((size_t)1024 * 1024)

static void create_rejects_bad_sizes(void)
{
    struct mjr_arena *a = NULL;
    ASSERT_EQ(mjr_arena_create(0, &a), -EINVAL);
    ASSERT_EQ(mjr_arena_create(SIZE_MAX / 2, &a), -EINVAL);
    ASSERT(a == NULL);
    mjr_arena_destroy(NULL);
}

static void segments_are_carved_aligned_and_distinct(void)
{
    struct mjr_arena *a;
    ASSERT_EQ(mjr_arena_create(5 * MIB, &a), 0); /* rounds up to 3 chunks */
    ASSERT(mjr_arena_get(a, 13) == NULL);        /* nothing carved yet */
    ASSERT_UEQ(mjr_arena_carved(a), 0);
    ASSERT_UEQ(mjr_arena_refill(a, 13, 2), MJR_ARENA_CHUNK >> 13);
    ASSERT_UEQ(mjr_arena_carved(a), MJR_ARENA_CHUNK);
    ASSERT_UEQ(mjr_arena_refill(a, 13, 2), MJR_ARENA_CHUNK >> 13); /* enough free: no carve */
    ASSERT_UEQ(mjr_arena_carved(a), MJR_ARENA_CHUNK);

    size_t n = MJR_ARENA_CHUNK >> 13;
    uint8_t **segs = calloc(n, sizeof(*segs));
    for (size_t i = 0; i < n; i++) {
        segs[i] = mjr_arena_get(a, 13);
        ASSERT(segs[i] != NULL);
        ASSERT_UEQ((uintptr_t)segs[i] % 8192, 0);
        ASSERT(mjr_arena_owns(a, segs[i]));
        for (size_t k = 0; k < 8192; k++) /* carved memory is zeroed */
            ASSERT_EQ(segs[i][k], 0);
        memset(segs[i], (int)(i & 0xff), 8192);
    }
    ASSERT(mjr_arena_get(a, 13) == NULL);
    ASSERT_UEQ(mjr_arena_free_count(a, 13), 0);
    for (size_t i = 0; i < n; i++) /* no two segments overlap */
        for (size_t k = 0; k < 8192; k += 512)
            ASSERT_EQ(segs[i][k], (int)(i & 0xff));
    for (size_t i = 0; i < n; i++)
        mjr_arena_put(a, segs[i], 13);
    ASSERT_UEQ(mjr_arena_free_count(a, 13), n);
    /* Under AddressSanitizer a free segment is poisoned: a write after put is reported. */
    ASSERT(POISONED(segs[0]) && POISONED(segs[0] + 8191));
    /* Last in, first out: the hottest segment is handed out again. */
    ASSERT(mjr_arena_get(a, 13) == segs[n - 1]);
    mjr_arena_put(a, segs[n - 1], 13);
    free(segs);
    mjr_arena_destroy(a);
}

static void exhaustion_and_ranges(void)
{
    struct mjr_arena *a;
    ASSERT_EQ(mjr_arena_create(3 * MJR_ARENA_CHUNK, &a), 0);
    ASSERT_UEQ(mjr_arena_refill(a, 21, 100), 3); /* the whole region, then it stops */
    ASSERT_UEQ(mjr_arena_carved(a), 3 * MJR_ARENA_CHUNK);
    ASSERT_UEQ(mjr_arena_refill(a, 12, 1), 0); /* nothing left for another size */
    ASSERT(mjr_arena_get(a, 12) == NULL);
    uint8_t *big[3];
    for (int i = 0; i < 3; i++) {
        big[i] = mjr_arena_get(a, 21);
        ASSERT(big[i] != NULL);
        ASSERT_UEQ((uintptr_t)big[i] % MJR_ARENA_CHUNK, 0);
    }
    ASSERT(mjr_arena_get(a, 21) == NULL);
    uint8_t *last = big[0];
    for (int i = 1; i < 3; i++)
        if (big[i] > last)
            last = big[i];
    ASSERT(!mjr_arena_owns(a, last + MJR_ARENA_CHUNK)); /* one past the end */
    ASSERT(mjr_arena_owns(a, last + MJR_ARENA_CHUNK - 1));
    uint8_t heap[16];
    ASSERT(!mjr_arena_owns(a, heap));
    ASSERT(!mjr_arena_owns(NULL, heap));
    /* Sizes outside 4 KiB..2 MiB are not the arena's. */
    ASSERT(mjr_arena_get(a, 11) == NULL);
    ASSERT(mjr_arena_get(a, 22) == NULL);
    ASSERT_UEQ(mjr_arena_refill(a, 22, 1), 0);
    ASSERT_UEQ(mjr_arena_free_count(a, 22), 0);
    for (int i = 0; i < 3; i++)
        mjr_arena_put(a, big[i], 21);
    ASSERT_UEQ(mjr_arena_free_count(a, 21), 3);
    mjr_arena_destroy(a);
}

struct churn {
    struct mjr_arena *a;
    unsigned id;
    unsigned rounds;
    atomic_bool *start;
    unsigned got_null;
};

/* Takes segments, stamps them with the thread's id, checks nobody else wrote them, gives
 * them back. A segment handed to two threads at once shows up as a foreign stamp. */
static void *churn_main(void *arg)
{
    struct churn *c = arg;
    while (!atomic_load(c->start))
        ;
    uint8_t *held[4];
    for (unsigned r = 0; r < c->rounds; r++) {
        unsigned n = 1 + r % 4;
        for (unsigned i = 0; i < n; i++) {
            held[i] = mjr_arena_get(c->a, 12);
            if (!held[i]) {
                c->got_null++;
                n = i;
                break;
            }
            memset(held[i], (int)c->id, 64);
            held[i][4095] = (uint8_t)c->id;
        }
        for (unsigned i = 0; i < n; i++) {
            for (unsigned k = 0; k < 64; k++)
                ASSERT_EQ(held[i][k], (int)c->id);
            ASSERT_EQ(held[i][4095], (int)c->id);
            mjr_arena_put(c->a, held[i], 12);
        }
    }
    return NULL;
}

static void many_threads_get_and_put(void)
{
    struct mjr_arena *a;
    ASSERT_EQ(mjr_arena_create(MJR_ARENA_CHUNK, &a), 0);
    ASSERT_UEQ(mjr_arena_refill(a, 12, 1), 512);
    /* Take most segments away so that the threads fight over a few (and see empty). */
    uint8_t *kept[500];
    for (int i = 0; i < 500; i++)
        kept[i] = mjr_arena_get(a, 12);
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    struct churn c[THREADS];
    atomic_bool start = false;
    for (unsigned i = 0; i < THREADS; i++) {
        c[i] = (struct churn){.a = a, .id = i + 1, .rounds = 20000, .start = &start};
        ASSERT_EQ(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
    }
    atomic_store(&start, true);
    for (unsigned i = 0; i < THREADS; i++)
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    ASSERT_UEQ(mjr_arena_free_count(a, 12), 12); /* every segment came back */
    for (int i = 0; i < 500; i++)
        mjr_arena_put(a, kept[i], 12);
    ASSERT_UEQ(mjr_arena_free_count(a, 12), 512);
    /* All 512 distinct: take them all and compare addresses pairwise via a bitmap. */
    uint8_t seen[512] = {0};
    uint8_t *base = NULL;
    uint8_t *all[512];
    for (int i = 0; i < 512; i++) {
        all[i] = mjr_arena_get(a, 12);
        ASSERT(all[i] != NULL);
        if (!base || all[i] < base)
            base = all[i];
    }
    for (int i = 0; i < 512; i++) {
        size_t idx = (size_t)(all[i] - base) / 4096;
        ASSERT_LT(idx, 512);
        ASSERT_EQ(seen[idx], 0);
        seen[idx] = 1;
    }
    for (int i = 0; i < 512; i++)
        mjr_arena_put(a, all[i], 12);
    mjr_arena_destroy(a);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"create_rejects_bad_sizes", create_rejects_bad_sizes},
        {"segments_are_carved_aligned_and_distinct", segments_are_carved_aligned_and_distinct},
        {"exhaustion_and_ranges", exhaustion_and_ranges},
        {"many_threads_get_and_put", many_threads_get_and_put},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
