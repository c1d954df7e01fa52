/* tests/test.h — the in-tree assert header.
 *
 * Each test executable is one process with a table of test functions. ASSERT_* print both
 * operands with file and line on failure and abort the process (ctest reports it). */
#ifndef VB_TESTS_TEST_H
#define VB_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL_(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            TEST_FAIL_("assertion failed: %s", #cond);                                             \
    } while (0)

#define ASSERT_CMP_(a, op, b, type, fmt)                                                           \
    do {                                                                                           \
        type a_ = (type)(a), b_ = (type)(b);                                                       \
        if (!(a_ op b_))                                                                           \
            TEST_FAIL_("%s %s %s: %" fmt " vs %" fmt, #a, #op, #b, a_, b_);                        \
    } while (0)

#define ASSERT_EQ(a, b) ASSERT_CMP_(a, ==, b, int64_t, PRId64)
#define ASSERT_NE(a, b) ASSERT_CMP_(a, !=, b, int64_t, PRId64)
#define ASSERT_LT(a, b) ASSERT_CMP_(a, <, b, int64_t, PRId64)
#define ASSERT_LE(a, b) ASSERT_CMP_(a, <=, b, int64_t, PRId64)
#define ASSERT_GT(a, b) ASSERT_CMP_(a, >, b, int64_t, PRId64)
#define ASSERT_GE(a, b) ASSERT_CMP_(a, >=, b, int64_t, PRId64)
#define ASSERT_UEQ(a, b) ASSERT_CMP_(a, ==, b, uint64_t, PRIu64)

#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            TEST_FAIL_("%s == %s: \"%s\" vs \"%s\"", #a, #b, a_ ? a_ : "(null)",                   \
                       b_ ? b_ : "(null)");                                                        \
    } while (0)

#define ASSERT_MEMEQ(a, b, n)                                                                      \
    do {                                                                                           \
        const unsigned char *a_ = (const void *)(a), *b_ = (const void *)(b);                      \
        size_t n_ = (n);                                                                           \
        for (size_t i_ = 0; i_ < n_; i_++)                                                         \
            if (a_[i_] != b_[i_])                                                                  \
                TEST_FAIL_("%s and %s differ at byte %zu of %zu: 0x%02x vs 0x%02x", #a, #b, i_,    \
                           n_, a_[i_], b_[i_]);                                                    \
    } while (0)

struct test_case {
    const char *name;
    void (*fn)(void);
};

/* Runs every case, or only those named on the command line. */
static inline int test_main(const struct test_case *cases, int argc, char **argv)
{
    int ran = 0;
    for (const struct test_case *c = cases; c->name; c++) {
        int wanted = argc < 2;
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], c->name) == 0)
                wanted = 1;
        if (!wanted)
            continue;
        fprintf(stderr, "-- %s\n", c->name);
        c->fn();
        ran++;
    }
    fprintf(stderr, "%d test(s) passed\n", ran);
    return ran > 0 ? 0 : 1;
}

/* Paths the build passes in: the source tree and the shared fixtures. */
#ifndef VB_SOURCE_DIR
#define VB_SOURCE_DIR "."
#endif

#endif
