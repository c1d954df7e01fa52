/* This file implements the archive's file-name rules: which room and participant ids may
 * become part of a path, and how a recording's file name is read back into room, participant,
 * time, kind and mindex.
 *
 * DESIGN: Janus names a VideoRoom recording videoroom-<room>-user-<id>-<µs>-<kind>-<mindex>.mjr.
 * With string ids (Janus's `string_ids`) a room or a publisher id may itself contain '-', so
 * the name is read from the right, where every field has a fixed shape (digits, a kind word,
 * digits), and the remaining "<room>-user-<id>" is split at the first "-user-". A room id
 * that contains "-user-" is therefore read wrongly; Janus has the same ambiguity and room ids
 * of that shape are not seen in practice. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_internal.h"
#include "common/xalloc.h"

#define VIDEOROOM_PREFIX "videoroom-"
#define USER_SEP "-user-"
#define MJR_SUFFIX ".mjr"
#define MINDEX_DIGITS_MAX 6
#define TS_DIGITS_MAX 19

static bool name_chars_safe(const char *s, size_t max)
{
    if (!s || !s[0])
        return false;
    size_t n = strlen(s);
    if (n > max || strcmp(s, ".") == 0 || strstr(s, "..") != NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/' || c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

bool archive_id_safe(const char *s)
{
    return name_chars_safe(s, ARCHIVE_ID_MAX);
}

bool archive_base_name_safe(const char *s)
{
    /* Room for "-video-<mindex>.mjr.tmp" after it. */
    return name_chars_safe(s, ARCHIVE_FILE_NAME_MAX - 24);
}

bool archive_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

char *archive_join(const char *a, const char *b)
{
    return archive_printf("%s/%s", a, b);
}

char *archive_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort(); /* only an invalid format can fail here */
    char *out = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

static char *dup_range(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* Parses s[0..n) as 1..max decimal digits whose value fits an int64_t (19 digits can be more
 * than INT64_MAX: refused, not wrapped). */
static bool parse_digits(const char *s, size_t n, size_t max, int64_t *out)
{
    if (n == 0 || n > max)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* The last '-' in s[0..n), or NULL. */
static const char *last_dash(const char *s, size_t n)
{
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == '-')
            return s + i - 1;
    return NULL;
}

static enum mjr_kind kind_of(const char *s, size_t n)
{
    static const enum mjr_kind kinds[] = {MJR_KIND_AUDIO, MJR_KIND_VIDEO, MJR_KIND_DATA};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *name = mjr_kind_name(kinds[i]);
        if (strlen(name) == n && memcmp(name, s, n) == 0)
            return kinds[i];
    }
    return MJR_KIND_UNKNOWN;
}

/* Reads "<room>-user-<id>-<ts>" (without the prefix) into out; false if it does not fit. */
static bool parse_videoroom(const char *s, size_t n, struct archive_name *out)
{
    const char *dash = last_dash(s, n);
    int64_t ts;
    if (!dash || !parse_digits(dash + 1, (size_t)(s + n - dash - 1), TS_DIGITS_MAX, &ts))
        return false;
    size_t head = (size_t)(dash - s);
    size_t sep = strlen(USER_SEP);
    for (size_t i = 1; i + sep < head; i++) {
        if (memcmp(s + i, USER_SEP, sep) != 0)
            continue;
        out->room = dup_range(s, i);
        out->participant = dup_range(s + i + sep, head - i - sep);
        out->ts_us = ts;
        out->videoroom = true;
        return true;
    }
    return false;
}

int archive_name_parse(const char *file, struct archive_name *out)
{
    memset(out, 0, sizeof(*out));
    if (!file || !archive_ends_with(file, MJR_SUFFIX))
        return -EINVAL;
    size_t n = strlen(file) - strlen(MJR_SUFFIX);
    const char *d1 = last_dash(file, n);
    int64_t mindex;
    if (!d1 || !parse_digits(d1 + 1, (size_t)(file + n - d1 - 1), MINDEX_DIGITS_MAX, &mindex))
        return -EINVAL;
    const char *d2 = last_dash(file, (size_t)(d1 - file));
    if (!d2)
        return -EINVAL;
    enum mjr_kind kind = kind_of(d2 + 1, (size_t)(d1 - d2 - 1));
    if (kind == MJR_KIND_UNKNOWN || d2 == file)
        return -EINVAL;
    out->kind = kind;
    out->mindex = (int)mindex;
    size_t rest = (size_t)(d2 - file);
    size_t pre = strlen(VIDEOROOM_PREFIX);
    if (rest > pre && memcmp(file, VIDEOROOM_PREFIX, pre) == 0 &&
        parse_videoroom(file + pre, rest - pre, out))
        return 0;
    out->participant = dup_range(file, rest);
    return 0;
}

void archive_name_clear(struct archive_name *n)
{
    free(n->room);
    free(n->participant);
    memset(n, 0, sizeof(*n));
}
