/* This file implements the table-driven settings loader (see config.h).
 *
 * DESIGN: every value, whether it comes from the file, a flag or the table's own default, is
 * first turned into a JSON value and then stored by one function, set_value(), which checks it
 * against the table entry. So a limit is written once, the defaults are checked by the same
 * code as the user's input, and the file and the flags report errors in the same words. The
 * file is walked member by member: a member is a setting when its path is a key, a section
 * when some key continues it, and an error otherwise, so a misspelt key never passes silently. */
#include "common/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/xalloc.h"

#define CONFIG_FILE_MAX (16u << 20) /* a settings file larger than this is a mistake */
#define CONFIG_PATH_MAX 128         /* longest key path walked in a file */

__attribute__((format(printf, 3, 4))) static void errf(char *err, size_t errlen, const char *fmt,
                                                       ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void *field_at(const void *obj, const struct vb_config_setting *st)
{
    return (char *)obj + st->offset;
}

static void describe_string(const struct vb_config_setting *st, char *buf, size_t len)
{
    if (st->choices) {
        size_t at = (size_t)snprintf(buf, len, "expected one of");
        for (size_t i = 0; st->choices[i] && at < len; i++)
            at += (size_t)snprintf(buf + at, len - at, "%s %s", i ? "," : "", st->choices[i]);
    } else if (st->opts & VB_CONFIG_ADDRESS) {
        snprintf(buf, len, "expected a numeric IPv4 or IPv6 address");
    } else if (st->opts & VB_CONFIG_URLPATH) {
        snprintf(buf, len, "expected a path starting with / (no blanks, '?' or '#')");
    } else if (st->opts & VB_CONFIG_NONEMPTY) {
        snprintf(buf, len, "expected a non-empty string");
    } else {
        snprintf(buf, len, "expected a string");
    }
}

/* "expected ..." for an entry: what a valid value looks like. */
static void describe(const struct vb_config_setting *st, char *buf, size_t len)
{
    switch (st->type) {
    case VB_CONFIG_BOOL:
        snprintf(buf, len, "expected true or false");
        return;
    case VB_CONFIG_INT:
        if (st->max == INT64_MAX)
            snprintf(buf, len, "expected an integer >= %" PRId64, st->min);
        else
            snprintf(buf, len, "expected an integer %" PRId64 "-%" PRId64, st->min, st->max);
        return;
    case VB_CONFIG_STRING:
        break;
    case VB_CONFIG_STRLIST:
        snprintf(buf, len, "expected an array of non-empty strings");
        return;
    case VB_CONFIG_ARRAY:
        snprintf(buf, len, "expected an array%s",
                 (st->opts & VB_CONFIG_OBJECTS) ? " of objects" : "");
        return;
    case VB_CONFIG_OBJECT:
        snprintf(buf, len, "expected an object");
        return;
    }
    describe_string(st, buf, len);
    if (st->max > 0 && !st->choices) {
        size_t at = strlen(buf);
        snprintf(buf + at, len - at, " of at most %" PRId64 " bytes", st->max);
    }
}

/* A short rendering of a JSON value for an error message. */
static void describe_json(const json_t *v, char *buf, size_t len)
{
    if (json_is_object(v)) {
        snprintf(buf, len, "an object");
        return;
    }
    if (json_is_array(v)) {
        snprintf(buf, len, "an array");
        return;
    }
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!text) {
        snprintf(buf, len, "a value");
        return;
    }
    if (strlen(text) > 60)
        snprintf(buf, len, "%.57s...", text);
    else
        snprintf(buf, len, "%s", text);
    free(text);
}

/* "WHERE: expected ..., got GOT"; returns -EINVAL. */
static int bad_value(const struct vb_config_setting *st, const char *where, const char *got,
                     char *err, size_t errlen)
{
    char want[256];
    describe(st, want, sizeof(want));
    errf(err, errlen, "%s: %s, got %s", where, want, got);
    return -EINVAL;
}

static int bad_json(const struct vb_config_setting *st, const char *where, const json_t *v,
                    char *err, size_t errlen)
{
    char got[80];
    if ((st->opts & VB_CONFIG_SECRET) && json_is_string(v)) /* never echo a secret */
        snprintf(got, sizeof(got), "a string of %zu bytes", json_string_length(v));
    else
        describe_json(v, got, sizeof(got));
    return bad_value(st, where, got, err, errlen);
}

static bool string_ok(const struct vb_config_setting *st, const char *s)
{
    if (st->choices) {
        for (size_t i = 0; st->choices[i]; i++)
            if (strcmp(s, st->choices[i]) == 0)
                return true;
        return false;
    }
    if ((st->opts & (VB_CONFIG_NONEMPTY | VB_CONFIG_ADDRESS | VB_CONFIG_URLPATH)) && !s[0])
        return false;
    if (st->max > 0 && strlen(s) > (uint64_t)st->max)
        return false;
    if (st->opts & VB_CONFIG_ADDRESS) {
        unsigned char addr[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
    }
    if (st->opts & VB_CONFIG_URLPATH) {
        if (s[0] != '/')
            return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            if (*p <= ' ' || *p == '?' || *p == '#' || *p == 0x7f)
                return false;
    }
    return true;
}

static void strlist_free(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* A JSON string holding no NUL (Jansson allows "\u0000"; C strings cannot carry it). */
static bool is_c_string(const json_t *v)
{
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

static int set_strlist(const struct vb_config_setting *st, void *obj, const json_t *v,
                       const char *where, char *err, size_t errlen)
{
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(v, i);
        if (!is_c_string(e) || !json_string_value(e)[0])
            return bad_json(st, where, v, err, errlen);
    }
    char **list = xcalloc(n + 1, sizeof(*list));
    for (size_t i = 0; i < n; i++)
        list[i] = xstrdup(json_string_value(json_array_get(v, i)));
    char ***slot = field_at(obj, st);
    strlist_free(*slot);
    *slot = list;
    return 0;
}

static int set_json(const struct vb_config_setting *st, void *obj, const json_t *v,
                    const char *where, char *err, size_t errlen)
{
    if (st->type == VB_CONFIG_ARRAY && (st->opts & VB_CONFIG_OBJECTS)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *e = json_array_get(v, i);
            if (!json_is_object(e)) {
                char got[80];
                describe_json(e, got, sizeof(got));
                errf(err, errlen, "%s[%zu]: expected an object, got %s", where, i, got);
                return -EINVAL;
            }
        }
    }
    json_t **slot = field_at(obj, st);
    json_decref(*slot);
    *slot = json_deep_copy(v);
    if (!*slot)
        abort(); /* out of memory: Jansson's allocator failed */
    return 0;
}

/* Checks `v` (borrowed) against the entry and stores it. `where` names the setting in an
 * error ("config F: janus.port" or "--janus-port (janus.port)"). */
static int set_value(const struct vb_config_setting *st, void *obj, const json_t *v,
                     const char *where, char *err, size_t errlen)
{
    switch (st->type) {
    case VB_CONFIG_BOOL:
        if (!json_is_boolean(v))
            return bad_json(st, where, v, err, errlen);
        *(bool *)field_at(obj, st) = json_is_true(v);
        return 0;
    case VB_CONFIG_INT: {
        if (!json_is_integer(v))
            return bad_json(st, where, v, err, errlen);
        json_int_t n = json_integer_value(v);
        if (n < st->min || n > st->max)
            return bad_json(st, where, v, err, errlen);
        *(int64_t *)field_at(obj, st) = (int64_t)n;
        return 0;
    }
    case VB_CONFIG_STRING: {
        if (!is_c_string(v) || !string_ok(st, json_string_value(v)))
            return bad_json(st, where, v, err, errlen);
        char **slot = field_at(obj, st);
        free(*slot);
        *slot = xstrdup(json_string_value(v));
        return 0;
    }
    case VB_CONFIG_STRLIST:
        if (!json_is_array(v))
            return bad_json(st, where, v, err, errlen);
        return set_strlist(st, obj, v, where, err, errlen);
    case VB_CONFIG_ARRAY:
    case VB_CONFIG_OBJECT:
        if (st->type == VB_CONFIG_ARRAY ? !json_is_array(v) : !json_is_object(v))
            return bad_json(st, where, v, err, errlen);
        return set_json(st, obj, v, where, err, errlen);
    }
    return -EINVAL;
}

/* The table's default of an entry as a JSON value (a new reference). */
static json_t *default_json(const struct vb_config_setting *st)
{
    switch (st->type) {
    case VB_CONFIG_BOOL:
        return json_boolean(st->def_bool);
    case VB_CONFIG_INT:
        return json_integer((json_int_t)st->def_int);
    case VB_CONFIG_STRING:
        return json_string(st->def_str ? st->def_str : "");
    case VB_CONFIG_STRLIST:
    case VB_CONFIG_ARRAY:
        return json_loads(st->def_str ? st->def_str : "[]", 0, NULL);
    case VB_CONFIG_OBJECT:
        return json_loads(st->def_str ? st->def_str : "{}", 0, NULL);
    }
    return NULL;
}

void vb_config_defaults(const struct vb_config_schema *s, void *obj)
{
    for (size_t i = 0; i < s->n_settings; i++) {
        const struct vb_config_setting *st = &s->settings[i];
        char err[512];
        json_t *v = default_json(st);
        if (!v || set_value(st, obj, v, st->key, err, sizeof(err)) != 0) {
            fprintf(stderr, "config table: bad default for %s\n", st->key);
            abort();
        }
        json_decref(v);
    }
}

void vb_config_free(const struct vb_config_schema *s, void *obj)
{
    for (size_t i = 0; i < s->n_settings; i++) {
        const struct vb_config_setting *st = &s->settings[i];
        void *f = field_at(obj, st);
        if (st->type == VB_CONFIG_STRING) {
            free(*(char **)f);
            *(char **)f = NULL;
        } else if (st->type == VB_CONFIG_STRLIST) {
            strlist_free(*(char ***)f);
            *(char ***)f = NULL;
        } else if (st->type == VB_CONFIG_ARRAY || st->type == VB_CONFIG_OBJECT) {
            json_decref(*(json_t **)f);
            *(json_t **)f = NULL;
        }
    }
}

static const struct vb_config_setting *find_key(const struct vb_config_schema *s, const char *path)
{
    for (size_t i = 0; i < s->n_settings; i++)
        if (strcmp(s->settings[i].key, path) == 0)
            return &s->settings[i];
    return NULL;
}

/* True when some key continues `path` ("janus" for "janus.port"). */
static bool is_section(const struct vb_config_schema *s, const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < s->n_settings; i++)
        if (strncmp(s->settings[i].key, path, n) == 0 && s->settings[i].key[n] == '.')
            return true;
    return false;
}

/* A copy of a user-given name that is safe to print: control bytes become '?', and it is cut
 * at `len`. */
static void printable(const char *name, char *buf, size_t len)
{
    size_t i = 0;
    for (; name[i] && i + 1 < len; i++)
        buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
    buf[i] = '\0';
}

/* Edit distance between a[0..na) and b[0..nb), counting a swap of two neighbours as one edit
 * (optimal string alignment); SIZE_MAX when either is too long. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    size_t rows[3][CONFIG_PATH_MAX + 1];
    if (na > CONFIG_PATH_MAX || nb > CONFIG_PATH_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= nb; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t *cur = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t best = up[j - 1] + (a[i - 1] != b[j - 1]);
            if (up[j] + 1 < best)
                best = up[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                up2[j - 2] + 1 < best)
                best = up2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return rows[na % 3][nb];
}

static const char *const common_flags[] = {"--config", "--check-config", "--help", NULL};

/* The known name closest to a mistyped one (a key or section, or with `flags` a flag), into
 * `buf`; false when nothing is close enough to be a likely typo. */
static bool nearest(const struct vb_config_schema *s, const char *name, bool flags, char *buf,
                    size_t len)
{
    size_t best = SIZE_MAX, n = strlen(name);
    for (size_t i = 0; i < s->n_settings + (flags ? 3 : 0); i++) {
        const char *cand = i < s->n_settings ? (flags ? s->settings[i].flag : s->settings[i].key)
                                             : common_flags[i - s->n_settings];
        if (!cand)
            continue;
        size_t clen = strlen(cand);
        for (size_t end = 1; end <= clen; end++) {
            if (end < clen && (flags || cand[end] != '.'))
                continue; /* keys: also every section prefix */
            size_t d = edit_distance(name, n, cand, end);
            if (d < best) {
                best = d;
                snprintf(buf, len, "%.*s", (int)end, cand);
            }
        }
    }
    return best <= 2 && best * 3 <= n;
}

static int unknown_key(const struct vb_config_schema *s, const char *origin, const char *path,
                       char *err, size_t errlen)
{
    char shown[CONFIG_PATH_MAX + 1], near[CONFIG_PATH_MAX + 1], hint[CONFIG_PATH_MAX + 64] = "";
    printable(path, shown, sizeof(shown));
    if (find_key(s, path) || is_section(s, path))
        snprintf(hint, sizeof(hint), " (a dotted name is not a path: nest it in objects)");
    else if (nearest(s, path, false, near, sizeof(near)))
        snprintf(hint, sizeof(hint), " (did you mean %s?)", near);
    errf(err, errlen, "%s: unknown key %s%s", origin, shown, hint);
    return -EINVAL;
}

static int walk_object(const struct vb_config_schema *s, void *obj, const json_t *o,
                       const char *prefix, const char *origin, char *err, size_t errlen)
{
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)o, name, v)
    {
        char path[CONFIG_PATH_MAX + 1];
        int n = snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", name);
        if (n < 0 || (size_t)n >= sizeof(path) || !name[0] || strchr(name, '.'))
            return unknown_key(s, origin, path, err, errlen);
        char where[CONFIG_PATH_MAX + 512];
        snprintf(where, sizeof(where), "%s: %s", origin, path);
        const struct vb_config_setting *st = find_key(s, path);
        int rc;
        if (st) {
            rc = set_value(st, obj, v, where, err, errlen);
        } else if (is_section(s, path)) {
            if (!json_is_object(v)) {
                char got[80];
                describe_json(v, got, sizeof(got));
                errf(err, errlen, "%s: expected an object (a section), got %s", where, got);
                return -EINVAL;
            }
            rc = walk_object(s, obj, v, path, origin, err, errlen);
        } else {
            rc = unknown_key(s, origin, path, err, errlen);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int vb_config_apply_json(const struct vb_config_schema *s, void *obj, const json_t *root,
                         const char *origin, char *err, size_t errlen)
{
    if (!json_is_object(root)) {
        char got[80];
        describe_json(root, got, sizeof(got));
        errf(err, errlen, "%s: expected a JSON object at the top level, got %s", origin, got);
        return -EINVAL;
    }
    return walk_object(s, obj, root, "", origin, err, errlen);
}

/* Opens `path` for reading and checks it is a regular file of a sane size. */
static int open_checked(const char *path, FILE **out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int e = errno;
        errf(err, errlen, "config %s: cannot open: %s", path, strerror(e));
        return e == ENOENT ? -ENOENT : -EINVAL;
    }
    struct stat sb;
    const char *why = NULL;
    if (fstat(fileno(fp), &sb) != 0)
        why = strerror(errno);
    else if (!S_ISREG(sb.st_mode))
        why = "not a regular file";
    else if ((uint64_t)sb.st_size > CONFIG_FILE_MAX)
        why = "larger than 16 MiB";
    if (why) {
        errf(err, errlen, "config %s: %s", path, why);
        fclose(fp);
        return -EINVAL;
    }
    *out = fp;
    return 0;
}

int vb_config_load_file(const struct vb_config_schema *s, void *obj, const char *path, char *err,
                        size_t errlen)
{
    FILE *fp;
    int rc = open_checked(path, &fp, err, errlen);
    if (rc != 0)
        return rc;
    json_error_t je;
    json_t *root = json_loadf(fp, JSON_REJECT_DUPLICATES, &je);
    fclose(fp);
    if (!root) {
        errf(err, errlen, "config %s: invalid JSON at line %d, column %d: %s", path, je.line,
             je.column, je.text);
        return -EINVAL;
    }
    size_t olen = strlen(path) + 8;
    char *origin = xmalloc(olen);
    snprintf(origin, olen, "config %s", path);
    rc = vb_config_apply_json(s, obj, root, origin, err, errlen);
    free(origin);
    json_decref(root);
    return rc;
}

/* A flag's text as the JSON value its type wants; NULL after filling `err` when the text
 * cannot be one (the caller then reports it with the quoted text). */
static json_t *flag_json(const struct vb_config_setting *st, const char *text)
{
    switch (st->type) {
    case VB_CONFIG_BOOL:
        return json_boolean(st->flag_sets);
    case VB_CONFIG_INT: {
        if (!(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')))
            return NULL;
        char *end;
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (errno || *end || end == text)
            return NULL;
        return json_integer((json_int_t)n);
    }
    case VB_CONFIG_STRING:
        return json_string(text); /* NULL when not UTF-8 */
    case VB_CONFIG_STRLIST: {
        json_t *a = json_array();
        for (const char *p = text; *p;) {
            size_t n = strcspn(p, ",");
            json_array_append_new(a, json_stringn(p, n));
            p += n;
            if (*p == ',' && *++p == '\0')
                json_array_append_new(a, json_string("")); /* a trailing comma: refused */
        }
        return a;
    }
    case VB_CONFIG_ARRAY:
    case VB_CONFIG_OBJECT:
        return json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    }
    return NULL;
}

static const struct vb_config_setting *find_flag(const struct vb_config_schema *s, const char *name)
{
    for (size_t i = 0; i < s->n_settings; i++)
        if (s->settings[i].flag && strcmp(s->settings[i].flag, name) == 0)
            return &s->settings[i];
    return NULL;
}

int vb_config_apply_flag(const struct vb_config_schema *s, void *obj, const char *name,
                         const char *value, char *err, size_t errlen)
{
    const struct vb_config_setting *st = find_flag(s, name);
    if (!st) {
        char shown[CONFIG_PATH_MAX + 1];
        printable(name, shown, sizeof(shown));
        errf(err, errlen, "unknown option %s", shown);
        return -ENOENT;
    }
    char where[256];
    snprintf(where, sizeof(where), "%s (%s)", st->flag, st->key);
    if (st->type == VB_CONFIG_BOOL ? value != NULL : value == NULL) {
        errf(err, errlen, "%s: %s", where, value ? "takes no value" : "needs a value");
        return -EINVAL;
    }
    json_t *v = flag_json(st, value);
    if (!v && st->type == VB_CONFIG_STRING) {
        errf(err, errlen, "%s: not valid UTF-8 text", where);
        return -EINVAL;
    }
    if (!v) {
        char shown[64], got[80];
        printable(value, shown, sizeof(shown));
        snprintf(got, sizeof(got), "\"%s%s\"", shown, strlen(value) >= sizeof(shown) ? "..." : "");
        return bad_value(st, where, got, err, errlen);
    }
    int rc = set_value(st, obj, v, where, err, errlen);
    json_decref(v);
    return rc;
}

/* The command line, parsed but not applied yet. */
struct cmdline {
    const char *config;
    bool check, help;
    const struct vb_config_setting **flags; /* in order; values[i] belongs to flags[i] */
    const char **values;
    size_t n;
};

static int unknown_flag(const struct vb_config_schema *s, const char *name, char *err,
                        size_t errlen)
{
    char shown[CONFIG_PATH_MAX + 1], near[CONFIG_PATH_MAX + 1], hint[CONFIG_PATH_MAX + 32] = "";
    printable(name, shown, sizeof(shown));
    if (nearest(s, name, true, near, sizeof(near)))
        snprintf(hint, sizeof(hint), " (did you mean %s?)", near);
    errf(err, errlen, "unknown option %s%s (see %s --help)", shown, hint, s->program);
    return -EINVAL;
}

/* One argument at argv[*i] (advanced past its value). */
static int parse_arg(const struct vb_config_schema *s, int argc, char **argv, int *i,
                     struct cmdline *cl, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        cl->help = true;
        return 0;
    }
    if (strcmp(arg, "--check-config") == 0) {
        cl->check = true;
        return 0;
    }
    char name[CONFIG_PATH_MAX + 1], shown[CONFIG_PATH_MAX + 1];
    printable(arg, shown, sizeof(shown));
    if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
        errf(err, errlen, "unexpected argument '%s' (see %s --help)", shown, s->program);
        return -EINVAL;
    }
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (n >= sizeof(name))
        return unknown_flag(s, arg, err, errlen);
    memcpy(name, arg, n);
    name[n] = '\0';
    bool is_config = strcmp(name, "--config") == 0;
    const struct vb_config_setting *st = is_config ? NULL : find_flag(s, name);
    if (!is_config && !st)
        return unknown_flag(s, name, err, errlen);
    bool wants_value = is_config || st->type != VB_CONFIG_BOOL;
    const char *value = eq ? eq + 1 : NULL;
    if (!wants_value && eq) {
        errf(err, errlen, "%s takes no value", name);
        return -EINVAL;
    }
    if (wants_value && !eq) {
        /* "--data --check-config" is a forgotten value, not a folder named --check-config; a
         * value that starts with "--" can still be given as --flag=VALUE. */
        if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
            errf(err, errlen, "%s needs a value (%s)", name, is_config ? "FILE" : st->arg);
            return -EINVAL;
        }
        value = argv[++*i];
    }
    if (is_config && cl->config) {
        errf(err, errlen, "--config given twice");
        return -EINVAL;
    }
    if (is_config) {
        cl->config = value;
        return 0;
    }
    cl->flags[cl->n] = st;
    cl->values[cl->n++] = value;
    return 0;
}

static int parse_cmdline(const struct vb_config_schema *s, int argc, char **argv,
                         struct cmdline *cl, char *err, size_t errlen)
{
    size_t cap = argc > 0 ? (size_t)argc : 1;
    cl->flags = xcalloc(cap, sizeof(*cl->flags));
    cl->values = xcalloc(cap, sizeof(*cl->values));
    for (int i = 1; i < argc; i++) {
        int rc = parse_arg(s, argc, argv, &i, cl, err, errlen);
        if (rc == 0)
            continue;
        for (int j = i + 1; j < argc; j++) /* --help after a mistake still helps */
            if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0)
                cl->help = true;
        return rc;
    }
    return 0;
}

static int apply_all(const struct vb_config_schema *s, const struct cmdline *cl, void *obj,
                     char *err, size_t errlen)
{
    vb_config_defaults(s, obj);
    if (cl->config && vb_config_load_file(s, obj, cl->config, err, errlen) != 0)
        return -EINVAL;
    for (size_t i = 0; i < cl->n; i++)
        if (vb_config_apply_flag(s, obj, cl->flags[i]->flag, cl->values[i], err, errlen) != 0)
            return -EINVAL;
    if (s->validate && s->validate(obj, err, errlen) != 0)
        return -EINVAL;
    return 0;
}

int vb_config_load(const struct vb_config_schema *s, int argc, char **argv, void *obj, FILE *out,
                   char *err, size_t errlen)
{
    struct cmdline cl = {0};
    int rc = parse_cmdline(s, argc, argv, &cl, err, errlen);
    if (cl.help) {
        vb_config_print_help(s, out);
        rc = VB_CONFIG_EXIT;
    } else if (rc == 0) {
        rc = apply_all(s, &cl, obj, err, errlen);
        if (rc != 0)
            vb_config_free(s, obj);
    }
    if (rc == 0 && cl.check) {
        json_t *dump = vb_config_dump(s, obj, false);
        json_dumpf(dump, out, JSON_INDENT(2));
        fputc('\n', out);
        fflush(out);
        json_decref(dump);
        vb_config_free(s, obj);
        rc = VB_CONFIG_EXIT;
    }
    free(cl.flags);
    free(cl.values);
    return rc;
}

/* Prints "  LEFT    text..." with the text wrapped at 100 columns under column 28. */
static void print_entry(FILE *fp, const char *left, const char *text)
{
    enum { COL = 28, WIDTH = 100 };
    size_t at = 2 + strlen(left);
    fprintf(fp, "  %s", left);
    if (at + 2 > COL) { /* at least two blanks between the columns */
        fputc('\n', fp);
        at = 0;
    }
    fprintf(fp, "%*s", (int)(COL - at), "");
    at = COL;
    for (const char *p = text; *p;) {
        size_t w = strcspn(p, " ");
        if (at > COL && at + 1 + w > WIDTH) {
            fprintf(fp, "\n%*s", COL, "");
            at = COL;
        } else if (at > COL) {
            fputc(' ', fp);
            at++;
        }
        fwrite(p, 1, w, fp);
        at += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', fp);
}

static void default_text(const struct vb_config_setting *st, char *buf, size_t len)
{
    switch (st->type) {
    case VB_CONFIG_BOOL:
        snprintf(buf, len, "%s", st->def_bool ? "true" : "false");
        return;
    case VB_CONFIG_INT:
        snprintf(buf, len, "%" PRId64, st->def_int);
        return;
    case VB_CONFIG_STRING:
        snprintf(buf, len, "\"%s\"", st->def_str ? st->def_str : "");
        return;
    case VB_CONFIG_STRLIST:
    case VB_CONFIG_ARRAY:
        snprintf(buf, len, "%s", st->def_str ? st->def_str : "[]");
        return;
    case VB_CONFIG_OBJECT:
        snprintf(buf, len, "%s", st->def_str ? st->def_str : "{}");
        return;
    }
}

void vb_config_print_help(const struct vb_config_schema *s, FILE *fp)
{
    char left[CONFIG_PATH_MAX + 64], text[2048], def[256];
    fprintf(fp, "usage: %s [--config FILE] [--check-config] [OPTION...]\n", s->program);
    if (s->summary)
        fprintf(fp, "%s\n", s->summary);
    fprintf(fp, "\n");
    print_entry(fp, "--config FILE",
                "read the settings from FILE (JSON; unknown keys are errors); the options below "
                "override it [default: none, the built-in defaults]");
    print_entry(fp, "--check-config",
                "print the effective settings as JSON and exit 0, or print the error and exit 2");
    print_entry(fp, "-h, --help", "print this help and exit");
    fprintf(fp, "\noptions (each overrides the setting in brackets):\n");
    for (size_t i = 0; i < s->n_settings; i++) {
        const struct vb_config_setting *st = &s->settings[i];
        if (!st->flag)
            continue;
        default_text(st, def, sizeof(def));
        if (st->type == VB_CONFIG_BOOL)
            snprintf(left, sizeof(left), "%s", st->flag);
        else
            snprintf(left, sizeof(left), "%s %s", st->flag, st->arg ? st->arg : "VALUE");
        snprintf(text, sizeof(text), "%s [%s, default %s]", st->help, st->key, def);
        print_entry(fp, left, text);
    }
    bool header = false;
    for (size_t i = 0; i < s->n_settings; i++) {
        const struct vb_config_setting *st = &s->settings[i];
        if (st->flag)
            continue;
        if (!header)
            fprintf(fp, "\nsettings only in the config file:\n");
        header = true;
        default_text(st, def, sizeof(def));
        snprintf(text, sizeof(text), "%s [default %s]", st->help, def);
        print_entry(fp, st->key, text);
    }
}

static json_t *value_json(const struct vb_config_setting *st, const void *obj, bool show_secrets)
{
    const void *f = field_at(obj, st);
    switch (st->type) {
    case VB_CONFIG_BOOL:
        return json_boolean(*(const bool *)f);
    case VB_CONFIG_INT:
        return json_integer((json_int_t) * (const int64_t *)f);
    case VB_CONFIG_STRING: {
        const char *v = *(char *const *)f ? *(char *const *)f : "";
        if ((st->opts & VB_CONFIG_SECRET) && v[0] && !show_secrets)
            v = VB_CONFIG_HIDDEN;
        return json_string(v);
    }
    case VB_CONFIG_STRLIST: {
        json_t *a = json_array();
        for (char *const *p = *(char **const *)f; p && *p; p++)
            json_array_append_new(a, json_string(*p));
        return a;
    }
    case VB_CONFIG_ARRAY:
    case VB_CONFIG_OBJECT: {
        json_t *v = *(json_t *const *)f;
        return v ? json_deep_copy(v) : json_null();
    }
    }
    return json_null();
}

json_t *vb_config_dump(const struct vb_config_schema *s, const void *obj, bool show_secrets)
{
    json_t *root = json_object();
    for (size_t i = 0; i < s->n_settings; i++) {
        const struct vb_config_setting *st = &s->settings[i];
        json_t *parent = root;
        const char *k = st->key, *dot;
        while ((dot = strchr(k, '.')) != NULL) {
            char seg[CONFIG_PATH_MAX + 1];
            snprintf(seg, sizeof(seg), "%.*s", (int)(dot - k), k);
            json_t *child = json_object_get(parent, seg);
            if (!child) {
                child = json_object();
                json_object_set_new(parent, seg, child);
            }
            parent = child;
            k = dot + 1;
        }
        json_object_set_new(parent, k, value_json(st, obj, show_secrets));
    }
    return root;
}
