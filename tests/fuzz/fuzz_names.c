/* This file implements the libFuzzer target for the small text parsers of the archive and the
 * web catalog: recording file names (Janus's VideoRoom pattern and base names), the safety
 * checks on room ids and base names, HTTP Range and If-None-Match values, and bearer tokens
 * in Authorization headers. The first input byte picks the parser; the rest is its text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_internal.h"
#include "common/bytes.h"
#include "web/web_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* An exact-size copy with a terminator, so that a read past the text is caught. */
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    volatile size_t sink = 0;
    switch (data[0] % 5) {
    case 0: {
        struct archive_name n;
        if (archive_name_parse(s, &n) == 0) {
            sink += n.room ? strlen(n.room) : 0;
            sink += n.participant ? strlen(n.participant) : 0;
            archive_name_clear(&n);
        }
        break;
    }
    case 1:
        sink += archive_id_safe(s) + archive_base_name_safe(s);
        break;
    case 2: {
        /* The first 8 bytes (when there) are the file size, the rest the header value. */
        uint64_t fsize = size > 9 ? rd_u64(data + 1) : 1000, first = 0, last = 0;
        const char *hdr = size > 9 ? s + 8 : s;
        int rc = web_range_parse(hdr, fsize, &first, &last);
        if (rc == 1 && (first > last || last >= fsize))
            abort(); /* a satisfiable range must lie inside the file */
        break;
    }
    case 3: {
        char *sep = strchr(s, '\n');
        const char *etag = "\"0123abcd\"";
        if (sep) {
            *sep = '\0';
            etag = sep + 1;
        }
        sink += web_etag_match(s, etag);
        break;
    }
    default: {
        size_t n = 0;
        const char *tok = web_token_from_header(s, &n);
        if (tok && (tok < s || tok + n > s + size - 1))
            abort(); /* the token must lie inside the header */
        if (tok)
            sink += web_token_valid(tok, n);
        break;
    }
    }
    (void)sink;
    free(s);
    return 0;
}
