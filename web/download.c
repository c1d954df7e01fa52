/* This file implements downloads of recordings and outputs: resolving a catalog path under
 * the data directory, ETag and If-None-Match, single byte ranges, and a response that
 * libmicrohttpd streams straight from the file descriptor (sendfile), never from memory.
 *
 * DESIGN: URLs carry ids, never paths; the path comes from the catalog and is still treated
 * as untrusted: it must be relative, and its realpath() must lie inside the data directory's
 * realpath, so neither "../" nor a symbolic link can lead a request out of the data
 * directory. The file is then opened with O_NOFOLLOW and must be a regular file. The ETag
 * is the catalog's SHA-256 when the file still has the catalogued size, otherwise one made of
 * size and modification time (a file being written, or changed behind the catalog's back). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web/web_internal.h"

int web_path_resolve(const struct web *w, const char *rel, char *out, size_t len)
{
    if (!rel || !*rel || rel[0] == '/')
        return -EACCES;
    char joined[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", w->data_dir, rel) >= sizeof(joined))
        return -ENAMETOOLONG;
    char *real = realpath(joined, NULL);
    if (!real)
        return errno == ENOTDIR ? -ENOENT : -errno;
    int rc = 0;
    if (strncmp(real, w->data_dir, w->data_dir_len) != 0 || real[w->data_dir_len] != '/')
        rc = -EACCES;
    else if (strlen(real) + 1 > len)
        rc = -ENAMETOOLONG;
    else
        strcpy(out, real);
    free(real);
    return rc;
}

static bool file_present(const struct web *w, const char *rel)
{
    char real[PATH_MAX];
    struct stat st;
    return web_path_resolve(w, rel, real, sizeof(real)) == 0 && stat(real, &st) == 0 &&
           S_ISREG(st.st_mode);
}

void web_mark_missing(const struct web *w, json_t *obj)
{
    const char *rel = json_string_value(json_object_get(obj, "path"));
    if (!rel)
        return;
    bool present = file_present(w, rel);
    const char *state = json_string_value(json_object_get(obj, "state"));
    if (!present && state && strcmp(state, "open") == 0) {
        /* A recording being written may still carry the writer's temporary suffix. */
        char tmp[PATH_MAX];
        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", rel) < sizeof(tmp))
            present = file_present(w, tmp);
    }
    if (!present)
        json_object_set_new(obj, "missing", json_true());
}

/* ------------------------------------------------------------------------------------------ */

/* Parses decimal digits at *p (no sign), advancing *p. -EINVAL for none or overflow. */
static int parse_u63(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (n > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(*s - '0')) / 10)
            return -EINVAL;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *v = n;
    return 0;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int web_range_parse(const char *hdr, uint64_t size, uint64_t *first, uint64_t *last)
{
    const char *p = skip_ws(hdr);
    if (strncasecmp(p, "bytes", 5) != 0)
        return 0; /* another unit: ignored, the whole file is served */
    p = skip_ws(p + 5);
    if (*p != '=')
        return -ERANGE;
    p = skip_ws(p + 1);
    if (strchr(p, ','))
        return 0; /* several ranges: we serve the whole file instead */
    uint64_t a, b;
    if (*p == '-') {
        p++;
        if (parse_u63(&p, &b) != 0 || *skip_ws(p) || b == 0 || size == 0)
            return -ERANGE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (parse_u63(&p, &a) != 0 || *p != '-')
        return -ERANGE;
    p++;
    if (*skip_ws(p) == '\0') {
        b = UINT64_MAX;
    } else if (parse_u63(&p, &b) != 0 || *skip_ws(p) || b < a) {
        return -ERANGE;
    }
    if (a >= size)
        return -ERANGE;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

bool web_etag_match(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            return false;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return false;
        const char *end = strchr(p + 1, '"');
        if (!end)
            return false;
        size_t n = (size_t)(end - p) + 1;
        if (n == elen && memcmp(p, etag, n) == 0)
            return true;
        p = end + 1;
    }
}

const char *web_mime_type(const char *format)
{
    static const struct {
        const char *name, *mime;
    } types[] = {
        {"opus", "audio/ogg"},       {"ogg", "audio/ogg"}, {"webm", "video/webm"},
        {"mp4", "video/mp4"},        {"wav", "audio/wav"}, {"srt", "application/x-subrip"},
        {"mkv", "video/x-matroska"},
    };
    for (size_t i = 0; format && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(format, types[i].name) == 0)
            return types[i].mime;
    return "application/octet-stream";
}

/* ------------------------------------------------------------------------------------------ */

/* The ETag of a file: the catalog's SHA-256 if the size still matches, else size-mtime. */
static void make_etag(json_t *meta, const struct stat *st, char *etag, size_t len)
{
    const char *sha = json_string_value(json_object_get(meta, "sha256"));
    json_t *size = json_object_get(meta, "size");
    if (sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64 &&
        json_is_integer(size) && json_integer_value(size) == (json_int_t)st->st_size) {
        snprintf(etag, len, "\"%s\"", sha);
        return;
    }
    snprintf(etag, len, "\"%jx-%jx-%jx\"", (uintmax_t)st->st_size, (uintmax_t)st->st_mtim.tv_sec,
             (uintmax_t)st->st_mtim.tv_nsec);
}

/* The file name for Content-Disposition: the path's last component, quoted-safe. */
static void disposition(const char *rel, bool inline_ok, char *out, size_t len)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    char name[256];
    size_t n = 0;
    for (; *base && n < sizeof(name) - 1; base++) {
        unsigned char c = (unsigned char)*base;
        name[n++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ';') ? '_' : (char)c;
    }
    name[n] = '\0';
    snprintf(out, len, "%s; filename=\"%s\"", inline_ok ? "inline" : "attachment", name);
}

static const char *format_of(enum web_file_kind kind, json_t *meta, const char *rel)
{
    if (kind == WEB_FILE_RECORDING)
        return "mjr";
    const char *f = json_string_value(json_object_get(meta, "format"));
    if (f && *f)
        return f;
    const char *dot = strrchr(rel, '.');
    return dot ? dot + 1 : "";
}

/* Opens the resolved file; replies with an error itself and returns -1 when it cannot. */
static int open_file(struct web_call *call, const char *rel, struct stat *st, enum MHD_Result *r)
{
    char real[PATH_MAX];
    int rc = web_path_resolve(call->w, rel, real, sizeof(real));
    if (rc == -EACCES) {
        vb_log_warn(call->w->log, "web: refused a catalog path outside the data directory: %s",
                    rel);
        *r = web_reply_error(call->conn, MHD_HTTP_FORBIDDEN, "file outside the data directory");
        return -1;
    }
    if (rc) {
        *r = web_reply_error(call->conn, MHD_HTTP_NOT_FOUND, "file missing");
        return -1;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        if (fd >= 0)
            close(fd);
        *r = web_reply_error(call->conn, MHD_HTTP_NOT_FOUND, "file missing");
        return -1;
    }
    return fd;
}

/* Builds the response for `n` bytes of an open file from `offset` (closing fd on failure). */
static struct MHD_Response *file_response(int fd, uint64_t offset, uint64_t n)
{
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(n, fd, offset);
    if (!resp)
        close(fd);
    return resp;
}

static enum MHD_Result send_file(struct web_call *call, int fd, const struct stat *st,
                                 const char *etag, const char *type, const char *disp)
{
    struct MHD_Connection *conn = call->conn;
    uint64_t size = (uint64_t)st->st_size, first = 0, last = 0;
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Range");
    unsigned status = MHD_HTTP_OK;
    struct MHD_Response *resp;
    char cr[96];
    if (inm && web_etag_match(inm, etag)) {
        close(fd);
        status = MHD_HTTP_NOT_MODIFIED;
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        int pr = (range && (!if_range || strcmp(if_range, etag) == 0))
                     ? web_range_parse(range, size, &first, &last)
                     : 0;
        if (pr < 0) {
            close(fd);
            snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
            return web_reply_error_hdr(conn, MHD_HTTP_RANGE_NOT_SATISFIABLE,
                                       MHD_HTTP_HEADER_CONTENT_RANGE, cr, "range not satisfiable");
        }
        if (pr == 1) {
            status = MHD_HTTP_PARTIAL_CONTENT;
            snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
            resp = file_response(fd, first, last - first + 1);
        } else {
            resp = file_response(fd, 0, size);
        }
        if (resp && pr == 1)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        if (resp) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
        }
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result web_download(struct web_call *call, enum web_file_kind kind, int64_t id)
{
    bool rec = kind == WEB_FILE_RECORDING;
    const char *what = rec ? "recording" : "output";
    json_t *meta = NULL;
    int rc = rec ? catalog_recording_get(call->w->cat, id, &meta)
                 : catalog_output_get(call->w->cat, id, &meta);
    char rel[PATH_MAX];
    if (rc == 0)
        rc = rec ? catalog_recording_path(call->w->cat, id, rel, sizeof(rel))
                 : catalog_output_path(call->w->cat, id, rel, sizeof(rel));
    if (rc == -ENOENT) {
        json_decref(meta);
        return web_reply_error(call->conn, MHD_HTTP_NOT_FOUND, "no such %s", what);
    }
    if (rc) {
        json_decref(meta);
        return web_reply_error(call->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "catalog: %s",
                               strerror(-rc));
    }
    char object[64];
    snprintf(object, sizeof(object), "%s:%" PRId64, what, id);
    web_call_audit(call, "download", object);

    enum MHD_Result r;
    struct stat st;
    int fd = open_file(call, rel, &st, &r);
    if (fd < 0) {
        json_decref(meta);
        return r;
    }
    char etag[96], disp[320];
    make_etag(meta, &st, etag, sizeof(etag));
    const char *type = web_mime_type(format_of(kind, meta, rel));
    disposition(rel, !rec, disp, sizeof(disp));
    json_decref(meta);
    return send_file(call, fd, &st, etag, type, disp);
}
