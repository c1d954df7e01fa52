/* fuzz_gw_http_path: arbitrary URLs through the REST transport's path parser, under two bases.
 * Checks the parser's promises: a word only at the first level and only info/ping, a handle id
 * only with a session id, and an accepted path that prints back to the same ids. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/http_internal.h"

static void check(const char *base, const char *url)
{
    struct http_path p;
    if (http_path_parse(base, url, &p) < 0)
        return;
    if (p.word && strcmp(p.word, "info") != 0 && strcmp(p.word, "ping") != 0)
        abort();
    if (p.word && (p.sid || p.hid))
        abort();
    if (p.hid && !p.sid)
        abort();
    if (p.sid) { /* the ids must be exactly what the URL spelled (no leading junk accepted) */
        char again[128];
        if (p.hid)
            snprintf(again, sizeof again, "%s/%" PRIu64 "/%" PRIu64, base, p.sid, p.hid);
        else
            snprintf(again, sizeof again, "%s/%" PRIu64, base, p.sid);
        struct http_path q;
        if (http_path_parse(base, again, &q) < 0 || q.sid != p.sid || q.hid != p.hid)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    check("/janus", url);
    check("/admin/x", url);
    free(url);
    return 0;
}
