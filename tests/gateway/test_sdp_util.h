/* tests/gateway/test_sdp_util.h — helpers of the SDP tests (test_sdp*.c): reading the real
 * samples of tests/gateway/sdp_samples/, parsing with an assertion, and comparing SDP texts as
 * multisets of lines. Header-only; one test process each. */
#ifndef VB_TESTS_TEST_SDP_UTIL_H
#define VB_TESTS_TEST_SDP_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sdp/sdp.h"
#include "tests/test.h"

#define SAMPLES_DIR VB_SOURCE_DIR "/tests/gateway/sdp_samples"

/* The whole file (NUL-terminated); aborts when unreadable. */
static inline char *read_sample(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SAMPLES_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        TEST_FAIL_("cannot open %s", path);
    char *buf = malloc(128 * 1024);
    ASSERT(buf);
    size_t n = fread(buf, 1, 128 * 1024 - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The names of the *.sdp samples, sorted; returns the count (at most `max`). */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline int list_samples(char **names, int max)
{
    DIR *d = opendir(SAMPLES_DIR);
    if (!d)
        TEST_FAIL_("cannot open %s", SAMPLES_DIR);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < max) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".sdp") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    return n;
}

static inline struct sdp *parse_ok(const char *text, size_t len)
{
    struct sdp *s = NULL;
    char err[256];
    int rc = sdp_parse(text, len, &s, err, sizeof err);
    if (rc != 0)
        TEST_FAIL_("sdp_parse: %d (%s)", rc, err);
    ASSERT(s);
    return s;
}

static inline struct sdp *parse_sample(const char *name)
{
    size_t len;
    char *text = read_sample(name, &len);
    struct sdp *s = parse_ok(text, len);
    free(text);
    return s;
}

static inline char *write_ok(const struct sdp *s)
{
    char *text = NULL;
    size_t len = 0;
    int rc = sdp_write(s, &text, &len);
    if (rc != 0)
        TEST_FAIL_("sdp_write: %d", rc);
    ASSERT_EQ(strlen(text), len);
    return text;
}

/* Splits text into lines (CR, LF and trailing blanks removed; empty lines dropped), sorted. */
static inline int sorted_lines(const char *text, char ***out)
{
    int n = 0, cap = 16;
    char **v = malloc((size_t)cap * sizeof *v);
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        size_t k = l;
        while (k > 0 && (p[k - 1] == '\r' || p[k - 1] == ' ' || p[k - 1] == '\t'))
            k--;
        if (k > 0) {
            if (n == cap)
                v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            v[n++] = strndup(p, k);
        }
        p += l + (e ? 1 : 0);
    }
    qsort(v, (size_t)n, sizeof *v, cmp_names);
    *out = v;
    return n;
}

static inline void free_lines(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Asserts that two SDP texts hold the same lines, in any order. */
static inline void assert_same_lines(const char *what, const char *a, const char *b)
{
    char **la, **lb;
    int na = sorted_lines(a, &la), nb = sorted_lines(b, &lb);
    for (int i = 0; i < na && i < nb; i++)
        if (strcmp(la[i], lb[i]) != 0)
            TEST_FAIL_("%s: lines differ: \"%s\" vs \"%s\"", what, la[i], lb[i]);
    if (na != nb)
        TEST_FAIL_("%s: %d lines vs %d", what, na, nb);
    free_lines(la, na);
    free_lines(lb, nb);
}

#endif
