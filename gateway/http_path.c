/* This file implements the REST transport's path parser: `<base>`, `<base>/`, `<base>/info`,
 * `<base>/ping`, `<base>/<session>[/]` and `<base>/<session>/<handle>`, with decimal ids of 1 to
 * 19 digits. Anything else (outside the base, deeper, empty or non-numeric ids) is rejected, and
 * the transport answers it with HTTP 404. Pure string work over the NUL-terminated URL that
 * libmicrohttpd gives (query string already removed); fuzzed by fuzz_gw_http_path. */
#include <errno.h>
#include <string.h>

#include "gateway/http_internal.h"

/* A decimal id of 1..19 digits; 0 when not one. */
static uint64_t parse_id(const char *s, size_t n)
{
    if (n == 0 || n > 19)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v;
}

int http_path_parse(const char *base, const char *url, struct http_path *p)
{
    memset(p, 0, sizeof *p);
    size_t bl = strlen(base);
    if (strncmp(url, base, bl) != 0)
        return -ENOENT;
    const char *rest = url + bl;
    if (*rest == '\0' || strcmp(rest, "/") == 0)
        return 0;
    if (*rest != '/')
        return -ENOENT;
    rest++;
    const char *slash = strchr(rest, '/');
    size_t n1 = slash ? (size_t)(slash - rest) : strlen(rest);
    if (!slash && (strcmp(rest, "info") == 0 || strcmp(rest, "ping") == 0)) {
        p->word = rest;
        return 0;
    }
    p->sid = parse_id(rest, n1);
    if (!p->sid)
        return -ENOENT;
    if (!slash || slash[1] == '\0')
        return 0;
    const char *second = slash + 1;
    if (strchr(second, '/'))
        return -ENOENT;
    p->hid = parse_id(second, strlen(second));
    return p->hid ? 0 : -ENOENT;
}
