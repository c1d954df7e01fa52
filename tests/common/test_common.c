/* Tests of common/: the bounded byte buffer, the big/little-endian readers and writers, the
 * clocks and the log's level filter. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/log.h"
#include "tests/test.h"

static void test_buf_grows_to_its_maximum(void)
{
    struct vb_buf b;
    vb_buf_init(&b, 100);
    uint8_t chunk[30];
    memset(chunk, 7, sizeof(chunk));
    ASSERT_EQ(vb_buf_put(&b, chunk, 30), 0);
    ASSERT_EQ(vb_buf_put(&b, chunk, 30), 0);
    ASSERT_EQ(vb_buf_put(&b, chunk, 30), 0);
    ASSERT_EQ(vb_buf_put(&b, chunk, 11), -E2BIG); /* 101 > 100: refused, nothing added */
    ASSERT_EQ(b.len, 90);
    ASSERT_EQ(vb_buf_put(&b, chunk, 10), 0); /* exactly the maximum */
    ASSERT_EQ(b.len, 100);
    ASSERT_LE(b.cap, 100);
    ASSERT_EQ(vb_buf_put_u8(&b, 1), -E2BIG);
    ASSERT_EQ(vb_buf_put(&b, chunk, 0), 0);
    ASSERT_EQ(vb_buf_put(&b, chunk, SIZE_MAX), -E2BIG); /* no overflow in the check */
    vb_buf_free(&b);
    ASSERT(b.p == NULL);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b.max, 100);
}

static void test_buf_byte_orders(void)
{
    struct vb_buf b;
    vb_buf_init(&b, 64);
    ASSERT_EQ(vb_buf_put_be16(&b, 0x0102), 0);
    ASSERT_EQ(vb_buf_put_be32(&b, 0x03040506), 0);
    ASSERT_EQ(vb_buf_put_be64(&b, 0x0708090a0b0c0d0eULL), 0);
    ASSERT_EQ(vb_buf_put_le16(&b, 0x0201), 0);
    ASSERT_EQ(vb_buf_put_le32(&b, 0x06050403), 0);
    static const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 1, 2, 3, 4, 5, 6};
    ASSERT_EQ(b.len, sizeof(want));
    ASSERT_MEMEQ(b.p, want, sizeof(want));
    ASSERT_EQ(rd_u16(b.p), 0x0102);
    ASSERT_EQ(rd_u32(b.p + 2), 0x03040506);
    ASSERT_UEQ(rd_u64(b.p + 6), 0x0708090a0b0c0d0eULL);
    ASSERT_EQ(rd_le16(b.p + 14), 0x0201);
    ASSERT_EQ(rd_le32(b.p + 16), 0x06050403);
    vb_buf_free(&b);
}

static int64_t fixed_mono(void *ctx)
{
    return *(int64_t *)ctx;
}

static void test_clocks(void)
{
    int64_t a = vb_clock_mono_us();
    usleep(2000);
    int64_t b = vb_clock_mono_us();
    ASSERT_GE(b - a, 2000);
    ASSERT_GT(vb_clock_real_us(), INT64_C(1600000000000000)); /* after 2020 */
    int64_t t = 42;
    struct vb_clock c = {.mono_us = fixed_mono, .real_us = fixed_mono, .ctx = &t};
    ASSERT_EQ(vb_clock_mono(&c), 42);
    ASSERT_EQ(vb_clock_real(&c), 42);
    ASSERT_GT(vb_clock_mono(NULL), 0);
}

static void test_log_levels(void)
{
    char text[512] = "";
    FILE *fp = fmemopen(text, sizeof(text), "w");
    ASSERT(fp != NULL);
    struct vb_log lg = {.level = VB_LOG_WARN, .fp = fp, .prefix = "t"};
    vb_log_info(&lg, "hidden %d", 1);
    vb_log_warn(&lg, "shown %d", 2);
    vb_log_error(&lg, "also %s", "shown");
    fclose(fp);
    ASSERT_STREQ(text, "t: warning: shown 2\nt: error: also shown\n");
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"buf_grows_to_its_maximum", test_buf_grows_to_its_maximum},
        {"buf_byte_orders", test_buf_byte_orders},
        {"clocks", test_clocks},
        {"log_levels", test_log_levels},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
