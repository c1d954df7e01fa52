/* This file implements the MJR reader: it recognizes the three versions of the format,
 * parses the header record and iterates whole frames, from a file or from memory.
 *
 * DESIGN: there is one parser, written against the byte source of reader_src.c, so the file
 * and memory readers cannot drift apart. The parser never resynchronizes: the first record
 * that is not whole and well-formed ends the parse, and everything before it is kept. Each
 * way of ending gets one sentence in `diag`; a large header is only a warning, which is kept
 * separately and appended to whatever the end of the parse says. `good_end` only ever moves
 * past records that were read whole, which is what recovery trims a crashed file to.
 * Format and damage handling are described in docs/mjr-format.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/xalloc.h"
#include "mjr/reader_internal.h"

#define CUT_ALIGN 4096      /* writes reach the disk in blocks/pages of (a multiple of) this */
#define FRAME_PREFIX_LEN 10 /* v2 "MEET"+u32+u16, or older "MEETECHO"+u16: both 10 bytes */
#define HEADER_LEN_FIELD 2
#define ZERO_SCAN_CHUNK (64 * 1024)

struct mjr_reader {
    struct mjr_src src;
    enum mjr_version version;
    enum mjr_kind kind;
    char *codec;    /* owned; NULL when the header was not usable */
    json_t *header; /* owned reference; NULL for legacy or a damaged header */
    size_t header_len;
    int64_t created_us;
    int64_t first_us;
    uint64_t pos;      /* offset of the next record to parse */
    uint64_t good_end; /* just past the last whole record */
    bool done;         /* no more frames will be returned */
    bool truncated;
    bool header_damaged;
    int io_error;     /* -errno of a failed read that ended the parse, else 0 */
    bool zero_padded; /* the parse ended on a run of zeros reaching the end of the file */
    char warn[160];   /* a warning that does not end the parse (large header) */
    char diag[400];
};

/* ---- diagnostics ------------------------------------------------------------------------ */

/* A diagnostic longer than the buffer is cut: checking the length says that is intended. */
static void diag_compose(struct mjr_reader *r, const char *sentence)
{
    int n;
    if (sentence[0] && r->warn[0])
        n = snprintf(r->diag, sizeof(r->diag), "%s %s", sentence, r->warn);
    else if (sentence[0])
        n = snprintf(r->diag, sizeof(r->diag), "%s", sentence);
    else
        n = snprintf(r->diag, sizeof(r->diag), "%s", r->warn);
    if (n >= (int)sizeof(r->diag))
        r->diag[sizeof(r->diag) - 1] = '\0';
}

/* Ends the parse as damaged with one sentence saying why. Always returns 0 (no frame). */
static int stop_damaged(struct mjr_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int stop_damaged(struct mjr_reader *r, const char *fmt, ...)
{
    char sentence[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sentence, sizeof(sentence), fmt, ap);
    va_end(ap);
    r->done = true;
    r->truncated = true;
    diag_compose(r, sentence);
    return 0;
}

static int stop_clean(struct mjr_reader *r)
{
    r->done = true;
    diag_compose(r, "");
    return 0;
}

static int stop_io(struct mjr_reader *r, uint64_t off, ssize_t rc)
{
    r->io_error = (int)rc;
    return stop_damaged(r, "Reading the file failed at offset %" PRIu64 ": %s.", off,
                        strerror((int)-rc));
}

static void hex_bytes(char *out, size_t outlen, const uint8_t *p, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 4 < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%02x", i ? " " : "", p[i]);
}

/* ---- zero padding ----------------------------------------------------------------------- */

/* Scans from `off` to the end of the input. Returns 1 when every byte there is zero (and
 * there is at least one), 0 when a non-zero byte was found (its offset in *nonzero), or a
 * negative errno. */
static int scan_zeros(struct mjr_reader *r, uint64_t off, uint64_t *end, uint64_t *nonzero)
{
    uint64_t at = off;
    for (;;) {
        const uint8_t *p = NULL;
        ssize_t n = mjr_src_peek(&r->src, at, ZERO_SCAN_CHUNK, &p);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (p[i] != 0) {
                *nonzero = at + (uint64_t)i;
                return 0;
            }
        }
        at += (uint64_t)n;
    }
    *end = at;
    return at > off ? 1 : 0;
}

/* Called where a record should start but the byte there is zero. Ends the parse either as
 * zero padding (the rest of the file is zeros) or as garbage. */
static int stop_at_zeros(struct mjr_reader *r, uint64_t off, const char *what)
{
    uint64_t end = 0, nonzero = 0;
    int rc = scan_zeros(r, off, &end, &nonzero);
    if (rc < 0)
        return stop_io(r, off, rc);
    r->zero_padded = rc == 1;
    if (rc == 1)
        return stop_damaged(r,
                            "The file ends in %" PRIu64 " zero bytes at offset %" PRIu64
                            " where %s should be (space preallocated before a crash).",
                            end - off, off, what);
    return stop_damaged(r,
                        "Zero bytes at offset %" PRIu64 " where %s should be, followed by "
                        "other data at offset %" PRIu64 "; the reader stops there.",
                        off, what, nonzero);
}

/* ---- header record ---------------------------------------------------------------------- */

static enum mjr_kind kind_from_letter(const char *t)
{
    if (!t)
        return MJR_KIND_UNKNOWN;
    if (strcmp(t, "a") == 0 || strcmp(t, "audio") == 0)
        return MJR_KIND_AUDIO;
    if (strcmp(t, "v") == 0 || strcmp(t, "video") == 0)
        return MJR_KIND_VIDEO;
    if (strcmp(t, "d") == 0 || strcmp(t, "data") == 0)
        return MJR_KIND_DATA;
    return MJR_KIND_UNKNOWN;
}

static int64_t json_int_or_zero(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Legacy header payload: the word "audio" or "video". */
static int header_parse_legacy(struct mjr_reader *r, const uint8_t *p, size_t len)
{
    if (len == 5 && memcmp(p, "audio", 5) == 0) {
        r->kind = MJR_KIND_AUDIO;
        r->codec = xstrdup("opus");
        return 0;
    }
    if (len == 5 && memcmp(p, "video", 5) == 0) {
        r->kind = MJR_KIND_VIDEO;
        r->codec = xstrdup("vp8");
        return 0;
    }
    r->header_damaged = true;
    return stop_damaged(r,
                        "The legacy header record (%zu bytes at offset 10) is not the word "
                        "\"audio\" or \"video\".",
                        len);
}

static int header_parse_json(struct mjr_reader *r, const uint8_t *p, size_t len)
{
    json_error_t je;
    json_t *h = json_loadb((const char *)p, len, 0, &je);
    if (!h || !json_is_object(h)) {
        json_decref(h);
        r->header_damaged = true;
        return stop_damaged(r, "The %zu-byte JSON header at offset 10 is not a JSON object (%s).",
                            len, h ? "another JSON value" : je.text);
    }
    r->header = h;
    r->kind = kind_from_letter(json_string_value(json_object_get(h, "t")));
    const char *c = json_string_value(json_object_get(h, "c"));
    if (r->kind == MJR_KIND_UNKNOWN) {
        r->header_damaged = true;
        return stop_damaged(r, "The JSON header has no usable \"t\" key (\"a\", \"v\" or "
                               "\"d\"), so the frames cannot be interpreted.");
    }
    if (!c || !c[0]) {
        r->header_damaged = true;
        return stop_damaged(r, "The JSON header has no \"c\" (codec) string, so the frames "
                               "cannot be interpreted.");
    }
    r->codec = xstrdup(c);
    r->created_us = json_int_or_zero(h, "s");
    r->first_us = json_int_or_zero(h, "u");
    return 0;
}

/* Parses the header record after the magic. On any problem the parse is ended (done set)
 * with a diagnostic; the reader stays usable. */
static void header_read(struct mjr_reader *r)
{
    const uint64_t at = MJR_MAGIC_LEN;
    const uint8_t *p = NULL;
    r->pos = r->good_end = at;
    ssize_t n = mjr_src_peek(&r->src, at, HEADER_LEN_FIELD, &p);
    if (n < 0) {
        stop_io(r, at, n);
        return;
    }
    if (n == 0) { /* only the magic: a recording that never got a packet */
        stop_clean(r);
        return;
    }
    if (p[0] == 0 && (n < 2 || p[1] == 0)) {
        stop_at_zeros(r, at, "the header record");
        r->header_damaged = !r->zero_padded && !r->io_error;
        return;
    }
    if (n < HEADER_LEN_FIELD) {
        stop_damaged(r, "The file ends inside the header record's length field.");
        return;
    }
    size_t len = rd_u16(p);
    n = mjr_src_peek(&r->src, at + HEADER_LEN_FIELD, len, &p);
    if (n < 0) {
        stop_io(r, at + HEADER_LEN_FIELD, n);
        return;
    }
    if ((size_t)n < len) {
        stop_damaged(r,
                     "The file ends inside the header record: it declares %zu bytes but only "
                     "%zd follow.",
                     len, n);
        return;
    }
    r->header_len = len;
    if (len >= MJR_PP_HEADER_LIMIT)
        snprintf(r->warn, sizeof(r->warn),
                 "Warning: the JSON header is %zu bytes; janus-pp-rec refuses headers of %d "
                 "bytes or more.",
                 len, MJR_PP_HEADER_LIMIT);
    int rc = r->version == MJR_VERSION_LEGACY ? header_parse_legacy(r, p, len)
                                              : header_parse_json(r, p, len);
    if (rc == 0 && !r->done)
        r->pos = r->good_end = at + HEADER_LEN_FIELD + len;
}

/* ---- opening ---------------------------------------------------------------------------- */

static int reader_start(struct mjr_reader *r, char *err, size_t errlen)
{
    const uint8_t *p = NULL;
    ssize_t n = mjr_src_peek(&r->src, 0, MJR_MAGIC_LEN, &p);
    if (n < 0) {
        if (err)
            snprintf(err, errlen, "cannot read the file: %s", strerror((int)-n));
        return (int)n;
    }
    if (n < MJR_MAGIC_LEN) {
        if (err)
            snprintf(err, errlen, "not an MJR file: %zd bytes, shorter than the 8-byte magic", n);
        return -EBADMSG;
    }
    if (memcmp(p, "MJR00002", MJR_MAGIC_LEN) == 0) {
        r->version = MJR_VERSION_2;
    } else if (memcmp(p, "MJR00001", MJR_MAGIC_LEN) == 0) {
        r->version = MJR_VERSION_1;
    } else if (memcmp(p, "MEETECHO", MJR_MAGIC_LEN) == 0) {
        r->version = MJR_VERSION_LEGACY;
    } else {
        char hex[40];
        hex_bytes(hex, sizeof(hex), p, MJR_MAGIC_LEN);
        if (err)
            snprintf(err, errlen, "not an MJR file: unknown magic (%s)", hex);
        return -EBADMSG;
    }
    header_read(r);
    return 0;
}

int mjr_reader_open_mem(const uint8_t *buf, size_t len, struct mjr_reader **out, char *err,
                        size_t errlen)
{
    struct mjr_reader *r = xcalloc(1, sizeof(*r));
    mjr_src_init_mem(&r->src, buf, len);
    int rc = reader_start(r, err, errlen);
    if (rc < 0) {
        mjr_reader_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

int mjr_reader_open(const char *path, struct mjr_reader **out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (err)
            snprintf(err, errlen, "cannot open the file: %s", strerror(e));
        return -e;
    }
    struct mjr_reader *r = xcalloc(1, sizeof(*r));
    mjr_src_init_fd(&r->src, fd);
    int rc = reader_start(r, err, errlen);
    if (rc < 0) {
        mjr_reader_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

void mjr_reader_destroy(struct mjr_reader *r)
{
    if (!r)
        return;
    mjr_src_fini(&r->src);
    json_decref(r->header);
    free(r->codec);
    free(r);
}

/* ---- frames ----------------------------------------------------------------------------- */

/* Checks the frame prefix at r->pos, of which `n` bytes exist at `p`. Returns 1 when all of
 * it is present and right, else ends the parse and returns 0. */
static int prefix_check(struct mjr_reader *r, const uint8_t *p, ssize_t n)
{
    const char *magic = r->version == MJR_VERSION_2 ? "MEET" : "MEETECHO";
    size_t mlen = strlen(magic);
    size_t cmp = (size_t)n < mlen ? (size_t)n : mlen;
    if (p[0] == 0)
        return stop_at_zeros(r, r->pos, "a frame");
    if (memcmp(p, magic, cmp) != 0) {
        char hex[40];
        hex_bytes(hex, sizeof(hex), p, cmp);
        return stop_damaged(r,
                            "The bytes at offset %" PRIu64 " (%s) are not a \"%s\" frame "
                            "prefix; the reader stops there.",
                            r->pos, hex, magic);
    }
    if ((size_t)n < FRAME_PREFIX_LEN)
        return stop_damaged(r,
                            "The file ends inside the frame prefix at offset %" PRIu64
                            " (%zd of %d bytes present).",
                            r->pos, n, FRAME_PREFIX_LEN);
    return 1;
}

/* A frame cut off by a crash can look whole when its missing tail falls into preallocated
 * space, which reads as zeros. Writers reach the disk in whole blocks or pages (our writer's
 * O_DIRECT blocks, the page cache's pages), so such a cut lies on a 4 KiB boundary: the frame
 * is taken as cut off when its bytes from some 4 KiB boundary inside it to its end are all
 * zero (or its body is empty, which no recorder writes) and nothing but zeros, at least one,
 * follows it to the end of the file. A whole frame that merely ends in a few zero bytes keeps
 * them. `frame` holds the `total` bytes of the
 * frame starting at file offset `start`. Returns 1, 0, or -errno on a read error. May move
 * the source's window. */
static int runs_into_padding(struct mjr_reader *r, const uint8_t *frame, size_t total,
                             uint64_t start)
{
    size_t zeros = 0;
    while (zeros < total && frame[total - 1 - zeros] == 0)
        zeros++;
    uint64_t end = start + total;
    uint64_t zero_from = end - zeros;
    uint64_t boundary = (zero_from + CUT_ALIGN - 1) / CUT_ALIGN * CUT_ALIGN;
    bool empty = total == FRAME_PREFIX_LEN; /* no recorder writes an empty body */
    if (zeros == 0 || (boundary >= end && !empty))
        return 0;
    const uint8_t *q = NULL;
    ssize_t n = mjr_src_peek(&r->src, end, 1, &q);
    if (n <= 0 || q[0] != 0)
        return n < 0 ? (int)n : 0;
    uint64_t zend = 0, nonzero = 0;
    return scan_zeros(r, end, &zend, &nonzero);
}

int mjr_reader_next(struct mjr_reader *r, struct mjr_frame *f)
{
    if (r->done)
        return 0;
    const uint8_t *p = NULL;
    ssize_t n = mjr_src_peek(&r->src, r->pos, FRAME_PREFIX_LEN, &p);
    if (n < 0)
        return stop_io(r, r->pos, n);
    if (n == 0)
        return stop_clean(r);
    if (prefix_check(r, p, n) != 1)
        return 0;
    uint32_t t_ms = r->version == MJR_VERSION_2 ? rd_u32(p + 4) : 0;
    size_t blen = rd_u16(p + 8);
    size_t total = FRAME_PREFIX_LEN + blen;
    n = mjr_src_peek(&r->src, r->pos, total, &p);
    if (n < 0)
        return stop_io(r, r->pos, n);
    if ((size_t)n < total)
        return stop_damaged(r,
                            "The frame at offset %" PRIu64 " declares a %zu-byte body but the "
                            "file ends after %zu bytes of it.",
                            r->pos, blen, (size_t)n - FRAME_PREFIX_LEN);
    if (blen == 0 || p[total - 1] == 0) {
        int rc = runs_into_padding(r, p, total, r->pos);
        if (rc < 0)
            return stop_io(r, r->pos + total, rc);
        if (rc == 1) {
            r->zero_padded = true;
            return stop_damaged(r,
                                "The frame at offset %" PRIu64 " ends in zeros and only zero "
                                "bytes follow it (space preallocated before a crash), so it "
                                "was cut off; it is dropped.",
                                r->pos);
        }
        n = mjr_src_peek(&r->src, r->pos, total, &p);
        if (n < 0 || (size_t)n < total)
            return stop_io(r, r->pos, n < 0 ? n : -EIO);
    }
    memset(f, 0, sizeof(*f));
    f->body = p + FRAME_PREFIX_LEN;
    f->len = blen;
    if (r->version == MJR_VERSION_2) {
        f->t_ms = t_ms;
        f->has_time = true;
        if (r->kind == MJR_KIND_DATA) {
            if (blen < MJR_DATA_TIME_LEN)
                return stop_damaged(r,
                                    "The data frame at offset %" PRIu64 " has %zu bytes, "
                                    "fewer than its 8-byte time stamp.",
                                    r->pos, blen);
            f->data_real_us = (int64_t)rd_u64(f->body);
            f->body += MJR_DATA_TIME_LEN;
            f->len -= MJR_DATA_TIME_LEN;
        }
    }
    f->offset = r->pos;
    f->end = r->pos + total;
    r->pos = r->good_end = f->end;
    return 1;
}

/* ---- accessors -------------------------------------------------------------------------- */

enum mjr_version mjr_reader_version(const struct mjr_reader *r)
{
    return r->version;
}

enum mjr_kind mjr_reader_kind(const struct mjr_reader *r)
{
    return r->kind;
}

const char *mjr_reader_codec(const struct mjr_reader *r)
{
    return r->codec;
}

json_t *mjr_reader_header(const struct mjr_reader *r)
{
    return r->header;
}

size_t mjr_reader_header_len(const struct mjr_reader *r)
{
    return r->header_len;
}

int64_t mjr_reader_created_us(const struct mjr_reader *r)
{
    return r->created_us;
}

int64_t mjr_reader_first_frame_us(const struct mjr_reader *r)
{
    return r->first_us;
}

bool mjr_reader_truncated(const struct mjr_reader *r)
{
    return r->truncated;
}

const char *mjr_reader_diag(const struct mjr_reader *r)
{
    return r->diag[0] ? r->diag : r->warn;
}

uint64_t mjr_reader_good_end(const struct mjr_reader *r)
{
    return r->good_end;
}

bool mjr_reader_header_damaged(const struct mjr_reader *r)
{
    return r->header_damaged;
}

int mjr_reader_io_error(const struct mjr_reader *r)
{
    return r->io_error;
}
