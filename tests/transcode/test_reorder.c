/* This file implements the tests of the reorder window (transcode/reorder.c): order restored,
 * duplicates and late packets dropped and counted, holes waited for and then counted lost,
 * jumps far ahead, and out-of-order first packets.
 *
 * Every test follows the contract of reorder.h: after each push, pop until NULL. Each packet
 * carries a few bytes derived from its sequence number, checked when it comes out.
 *
 * The last three cases are defects these tests found in the first version (one hung the
 * drain); an alarm ends the process if a drain ever loops again. */
#include <unistd.h>

#include "tests/test.h"
#include "transcode/reorder.h"

#define MAX_OUT 1024

struct out {
    uint64_t seq[MAX_OUT];
    size_t n;
};

static struct tc_pkt make_pkt(uint64_t seq)
{
    struct tc_pkt p;
    memset(&p, 0, sizeof(p));
    p.seq = seq;
    p.ts = (int64_t)seq * 960;
    p.t_ms = (uint32_t)(seq * 20);
    p.marker = seq & 1;
    p.off = 12;
    p.len = 12 + 3;
    for (unsigned i = 0; i < p.len; i++)
        p.data[i] = (uint8_t)(seq * 7 + i);
    return p;
}

/* A packet that came out is the one that went in, whole. */
static void collect(struct out *o, const struct tc_pkt *p)
{
    struct tc_pkt want = make_pkt(p->seq);
    ASSERT_EQ(p->ts, want.ts);
    ASSERT_EQ(p->t_ms, want.t_ms);
    ASSERT_EQ(p->marker, want.marker);
    ASSERT_EQ(p->off, want.off);
    ASSERT_EQ(p->len, want.len);
    ASSERT_MEMEQ(p->data, want.data, want.len);
    ASSERT_LT(o->n, MAX_OUT);
    if (o->n > 0)
        ASSERT_GT(p->seq, o->seq[o->n - 1]); /* strictly increasing */
    o->seq[o->n++] = p->seq;
}

static void pop_all(struct tc_reorder *r, struct out *o, bool drain)
{
    const struct tc_pkt *p;
    while ((p = tc_reorder_pop(r, drain)))
        collect(o, p);
}

/* Pushes `seq` and pops what is due; returns the push's result. */
static int feed(struct tc_reorder *r, struct out *o, uint64_t seq)
{
    struct tc_pkt p = make_pkt(seq);
    int rc = tc_reorder_push(r, &p);
    pop_all(r, o, false);
    return rc;
}

static void feed_range(struct tc_reorder *r, struct out *o, uint64_t from, uint64_t to)
{
    for (uint64_t s = from; s <= to; s++)
        ASSERT_EQ(feed(r, o, s), 0);
}

static void drain(struct tc_reorder *r, struct out *o)
{
    pop_all(r, o, true);
    ASSERT(tc_reorder_pop(r, true) == NULL);
    ASSERT(tc_reorder_pop(r, false) == NULL);
}

/* o->seq[at..] is from, from+1, ..., to. */
static void expect_run(const struct out *o, size_t at, uint64_t from, uint64_t to)
{
    ASSERT_LE(at + (to - from + 1), o->n);
    for (uint64_t s = from; s <= to; s++)
        ASSERT_UEQ(o->seq[at + (s - from)], s);
}

static void expect_stats(const struct tc_reorder *r, uint64_t in, uint64_t out, uint64_t dup,
                         uint64_t late, uint64_t lost)
{
    ASSERT_UEQ(r->st.in, in);
    ASSERT_UEQ(r->st.out, out);
    ASSERT_UEQ(r->st.duplicates, dup);
    ASSERT_UEQ(r->st.late, late);
    ASSERT_UEQ(r->st.lost, lost);
}

static void test_in_order(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    uint64_t base = (uint64_t)1 << 40; /* as tc_unwrap_seq() starts */
    for (uint64_t s = 1; s < TC_REORDER_START; s++) {
        ASSERT_EQ(feed(&r, &o, base + s), 0);
        ASSERT_EQ(o.n, 0); /* buffered until TC_REORDER_START packets */
    }
    ASSERT_EQ(feed(&r, &o, base + TC_REORDER_START), 0);
    ASSERT_EQ(o.n, TC_REORDER_START);
    for (uint64_t s = TC_REORDER_START + 1; s <= 100; s++) {
        ASSERT_EQ(feed(&r, &o, base + s), 0);
        ASSERT_EQ(o.n, s); /* then each goes out at once */
    }
    drain(&r, &o);
    ASSERT_EQ(o.n, 100);
    expect_run(&o, 0, base + 1, base + 100);
    expect_stats(&r, 100, 100, 0, 0, 0);
    tc_reorder_release(&r);

    /* Fewer packets than TC_REORDER_START come out at drain. */
    struct out o2 = {0};
    tc_reorder_init(&r);
    drain(&r, &o2); /* empty */
    ASSERT_EQ(o2.n, 0);
    feed_range(&r, &o2, 1, 5);
    ASSERT_EQ(o2.n, 0);
    drain(&r, &o2);
    ASSERT_EQ(o2.n, 5);
    expect_run(&o2, 0, 1, 5);
    expect_stats(&r, 5, 5, 0, 0, 0);
    tc_reorder_release(&r);
}

static void test_swapped_pairs(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    for (uint64_t k = 0; k < 40; k++) {
        ASSERT_EQ(feed(&r, &o, 1000 + 2 * k + 2), 0);
        ASSERT_EQ(feed(&r, &o, 1000 + 2 * k + 1), 0);
        if (k >= 8) /* once started, each completed pair is out */
            ASSERT_EQ(o.n, 2 * k + 2);
    }
    drain(&r, &o);
    ASSERT_EQ(o.n, 80);
    expect_run(&o, 0, 1001, 1080);
    expect_stats(&r, 80, 80, 0, 0, 0);
    tc_reorder_release(&r);
}

static void test_duplicates(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    feed_range(&r, &o, 1, 10);
    ASSERT_EQ(feed(&r, &o, 5), 1); /* held */
    ASSERT_EQ(feed(&r, &o, 10), 1);
    ASSERT_EQ(r.st.duplicates, 2);
    feed_range(&r, &o, 11, 20);
    ASSERT_EQ(o.n, 20);
    ASSERT_EQ(feed(&r, &o, 3), 1); /* already output */
    ASSERT_EQ(feed(&r, &o, 20), 1);
    /* Held behind a hole, then repeated. */
    ASSERT_EQ(feed(&r, &o, 22), 0);
    ASSERT_EQ(feed(&r, &o, 22), 1);
    ASSERT_EQ(feed(&r, &o, 21), 0);
    drain(&r, &o);
    ASSERT_EQ(o.n, 22);
    expect_run(&o, 0, 1, 22);
    expect_stats(&r, 27, 22, 5, 0, 0);
    tc_reorder_release(&r);
}

/* A hole is skipped (counted lost) only once a packet TC_REORDER_WINDOW - 1 later arrived;
 * when the missing packet turns up after that, it is late. */
static void test_hole_window(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    feed_range(&r, &o, 1, 9);
    const uint64_t last_wait = 10 + TC_REORDER_WINDOW - 2; /* 520: 10 still awaited */
    for (uint64_t s = 11; s <= last_wait; s++) {
        ASSERT_EQ(feed(&r, &o, s), 0);
        ASSERT_EQ(o.n, s < TC_REORDER_START + 1 ? 0 : 9);
    }
    ASSERT_EQ(r.st.lost, 0);
    ASSERT_EQ(feed(&r, &o, last_wait + 1), 0);
    ASSERT_EQ(r.st.lost, 1);
    ASSERT_EQ(o.n, last_wait + 1 - 1);
    expect_run(&o, 0, 1, 9);
    expect_run(&o, 9, 11, last_wait + 1);
    /* The lost packet arriving now, a window later, is late. */
    ASSERT_EQ(feed(&r, &o, 10), 1);
    ASSERT_EQ(r.st.late, 1);
    /* So is one far behind what was output. */
    ASSERT_EQ(feed(&r, &o, 2), 1);
    ASSERT_EQ(r.st.late, 2);
    drain(&r, &o);
    ASSERT_EQ(o.n, last_wait);
    expect_stats(&r, last_wait + 2, last_wait, 0, 2, 1);
    tc_reorder_release(&r);
}

/* A hole filled in time costs nothing; a hole still open at the end is lost at drain. */
static void test_hole_drain(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    feed_range(&r, &o, 1, 9);
    feed_range(&r, &o, 11, 40);
    ASSERT_EQ(o.n, 9);
    ASSERT_EQ(feed(&r, &o, 10), 0);
    ASSERT_EQ(o.n, 40);
    expect_run(&o, 0, 1, 40);
    ASSERT_EQ(r.st.lost, 0);
    /* Now 41 and 43-44 never come. */
    ASSERT_EQ(feed(&r, &o, 42), 0);
    feed_range(&r, &o, 45, 50);
    ASSERT_EQ(o.n, 40);
    drain(&r, &o);
    ASSERT_EQ(o.n, 47);
    ASSERT_UEQ(o.seq[40], 42);
    expect_run(&o, 41, 45, 50);
    expect_stats(&r, 47, 47, 0, 0, 3);
    tc_reorder_release(&r);
}

/* +5000 while packets wait behind a hole, the new one's slot still held: it waits as
 * "pending"; everything before it comes out first, then it is held like any packet that far
 * ahead (the holes within a window below it are waited for), and the gap is counted lost. */
static void test_jump_pending(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    feed_range(&r, &o, 1, 16);
    ASSERT_EQ(o.n, 16);
    feed_range(&r, &o, 18, 140); /* held: 17 is missing */
    ASSERT_EQ(o.n, 16);
    const uint64_t jump = 140 + 5000; /* same slot as 20 (5140 = 20 + 10 * 512) */
    struct tc_pkt p = make_pkt(jump);
    ASSERT_EQ(tc_reorder_push(&r, &p), 0);
    ASSERT(r.has_pending);
    pop_all(&r, &o, false);
    ASSERT(!r.has_pending);
    ASSERT_EQ(o.n, 16 + 123);
    expect_run(&o, 0, 1, 16);
    expect_run(&o, 16, 18, 140);
    /* It continues from there. */
    feed_range(&r, &o, jump + 1, jump + 2);
    ASSERT_EQ(o.n, 139);
    drain(&r, &o);
    ASSERT_EQ(o.n, 142);
    ASSERT_UEQ(o.seq[139], jump);
    expect_stats(&r, 142, 142, 0, 0, 5000); /* 17, and 141..5139 */
    tc_reorder_release(&r);
}

/* +5000 onto a free slot: the holes more than a window behind it are skipped at once, the
 * rest are waited for (and may still arrive) until the drain. */
static void test_jump_free_slot(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    feed_range(&r, &o, 1, 20);
    ASSERT_EQ(feed(&r, &o, 5020), 0);
    ASSERT(!r.has_pending);
    ASSERT_EQ(o.n, 20);
    ASSERT_EQ(r.st.lost, 5020 - (TC_REORDER_WINDOW - 1) - 21 + 1); /* 21..4509 */
    ASSERT_EQ(feed(&r, &o, 5019), 0);
    ASSERT_EQ(feed(&r, &o, 4600), 0);
    ASSERT_EQ(o.n, 20);
    drain(&r, &o);
    ASSERT_EQ(o.n, 23);
    expect_run(&o, 0, 1, 20);
    ASSERT_UEQ(o.seq[20], 4600);
    expect_run(&o, 21, 5019, 5020);
    expect_stats(&r, 23, 23, 0, 0, 4999 - 2);
    tc_reorder_release(&r);
}

/* The first packets out of order: output starts at the lowest. */
static void test_first_out_of_order(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    static const uint64_t first[5] = {5, 3, 4, 1, 2};
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(feed(&r, &o, 100 + first[i]), 0);
    feed_range(&r, &o, 106, 100 + TC_REORDER_START);
    ASSERT_EQ(o.n, TC_REORDER_START);
    expect_run(&o, 0, 101, 100 + TC_REORDER_START);
    tc_reorder_release(&r);

    /* Descending: the last one in is the first out. */
    struct out o2 = {0};
    tc_reorder_init(&r);
    for (uint64_t s = 1000; s > 1000 - TC_REORDER_START; s--)
        ASSERT_EQ(feed(&r, &o2, s), 0);
    ASSERT_EQ(o2.n, TC_REORDER_START);
    expect_run(&o2, 0, 1001 - TC_REORDER_START, 1000);
    /* A packet a whole window older than the first ones is late. */
    ASSERT_EQ(feed(&r, &o2, 1000 - TC_REORDER_WINDOW - 50), 1);
    drain(&r, &o2);
    expect_stats(&r, TC_REORDER_START + 1, TC_REORDER_START, 0, 1, 0);
    tc_reorder_release(&r);
}

/* Regression 1: before output starts, a packet a whole window older than a held one and on
 * the same slot (1100 after 1612: 1612 - 1100 = 512) goes to `pending` instead of being
 * was put in `pending`; pop() then placed it over 1612, lost uncounted, and the drain never
 * returned. Expected: 1612 out, 1100 late. */
static void test_start_collision_is_late(void)
{
    alarm(5);
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    ASSERT_EQ(feed(&r, &o, 1612), 0);
    int rc = feed(&r, &o, 1100);
    drain(&r, &o); /* a loop here is ended by SIGALRM */
    ASSERT_EQ(rc, 1);
    ASSERT_EQ(o.n, 1);
    ASSERT_UEQ(o.seq[0], 1612);
    expect_stats(&r, 2, 1, 0, 1, 0);
    tc_reorder_release(&r);
    alarm(0);
}

/* Regression 2: a packet skipped as lost that arrives while `next` is less than a window past
 * it was counted as a duplicate (it never went out). Expected: late 1, duplicates 0. */
static void test_lost_then_arriving_is_late(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    feed_range(&r, &o, 1, 16);
    feed_range(&r, &o, 19, 17 + TC_REORDER_WINDOW - 1); /* 17 and 18 missing */
    ASSERT_EQ(r.st.lost, 1);                            /* 17 skipped; 18 still awaited */
    ASSERT_EQ(feed(&r, &o, 17), 1);
    ASSERT_EQ(r.st.duplicates, 0);
    ASSERT_EQ(r.st.late, 1);
    tc_reorder_release(&r);
}

/* Regression 3: the pending path of a jump output the jumped packet as soon as nothing else
 * was buffered, skipping the holes just before it although they are within a window of it;
 * unlike the free-slot path (test_jump_free_slot), which waits for them. 5139, arriving just
 * after 5140, was then dropped and counted as a duplicate. Expected: 5140 held, then 5139 and
 * 5140 out in order at drain, lost 4999 (17 and 141..5138). */
static void test_jump_pending_waits_for_holes(void)
{
    struct tc_reorder r;
    struct out o = {0};
    tc_reorder_init(&r);
    feed_range(&r, &o, 1, 16);
    feed_range(&r, &o, 18, 140);
    ASSERT_EQ(feed(&r, &o, 5140), 0);
    ASSERT_EQ(o.n, 139);
    ASSERT_EQ(feed(&r, &o, 5139), 0);
    drain(&r, &o);
    ASSERT_EQ(o.n, 141);
    ASSERT_UEQ(o.seq[139], 5139);
    ASSERT_UEQ(o.seq[140], 5140);
    expect_stats(&r, 141, 141, 0, 0, 4999);
    tc_reorder_release(&r);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"in_order", test_in_order},
        {"swapped_pairs", test_swapped_pairs},
        {"duplicates", test_duplicates},
        {"hole_window", test_hole_window},
        {"hole_drain", test_hole_drain},
        {"jump_pending", test_jump_pending},
        {"jump_free_slot", test_jump_free_slot},
        {"first_out_of_order", test_first_out_of_order},
        {"start_collision_is_late", test_start_collision_is_late},
        {"lost_then_arriving_is_late", test_lost_then_arriving_is_late},
        {"jump_pending_waits_for_holes", test_jump_pending_waits_for_holes},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
