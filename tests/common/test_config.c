/* Tests of common/config: the table-driven settings loader, on a table of its own that has one
 * setting of every type and check: defaults, nested key paths, every type's errors and ranges,
 * unknown keys (with the nearest known one suggested), the command line (flags over the file,
 * booleans as flags, --flag=VALUE, the common options), bad JSON with its line and column, a
 * missing file, the help and the JSON dump. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/test.h"

struct demo {
    char *name, *level;
    struct {
        char *address;
        int64_t port;
        char *base;
        bool enabled;
    } net;
    int64_t depth, big;
    char *secret;
    bool verbose;
    char **tags;
    json_t *rooms, *extra;
    char *note;
};

#define OFF(f) offsetof(struct demo, f)

static const char *const levels[] = {"low", "high", NULL};

/* clang-format off */
static const struct vb_config_setting demo_settings[] = {
    {.key = "general.name", .type = VB_CONFIG_STRING, .offset = OFF(name), .flag = "--name",
     .arg = "NAME", .opts = VB_CONFIG_NONEMPTY, .def_str = "demo", .help = "the name"},
    {.key = "general.level", .type = VB_CONFIG_STRING, .offset = OFF(level), .flag = "--level",
     .arg = "LEVEL", .choices = levels, .def_str = "low", .help = "how much"},
    {.key = "net.address", .type = VB_CONFIG_STRING, .offset = OFF(net.address),
     .flag = "--bind", .arg = "ADDR", .opts = VB_CONFIG_ADDRESS, .def_str = "127.0.0.1",
     .help = "where to listen"},
    {.key = "net.port", .type = VB_CONFIG_INT, .offset = OFF(net.port), .flag = "--port",
     .arg = "PORT", .def_int = 8080, .min = 1, .max = 65535, .help = "the port"},
    {.key = "net.base", .type = VB_CONFIG_STRING, .offset = OFF(net.base), .flag = "--base",
     .arg = "PATH", .opts = VB_CONFIG_URLPATH, .def_str = "/api", .help = "the URL path"},
    {.key = "net.enabled", .type = VB_CONFIG_BOOL, .offset = OFF(net.enabled), .flag = "--no-net",
     .flag_sets = false, .def_bool = true, .help = "turn the listener off"},
    {.key = "a.b.depth", .type = VB_CONFIG_INT, .offset = OFF(depth), .flag = "--depth",
     .arg = "N", .def_int = 0, .min = -5, .max = 5, .help = "a nested one"},
    {.key = "a.big", .type = VB_CONFIG_INT, .offset = OFF(big), .flag = "--big", .arg = "N",
     .min = 0, .max = INT64_MAX, .help = "no upper bound"},
    {.key = "auth.secret", .type = VB_CONFIG_STRING, .offset = OFF(secret), .flag = "--secret",
     .arg = "SECRET", .opts = VB_CONFIG_SECRET, .max = 8, .help = "a secret"},
    {.key = "auth.verbose", .type = VB_CONFIG_BOOL, .offset = OFF(verbose), .flag = "--verbose",
     .flag_sets = true, .help = "say more"},
    {.key = "list.tags", .type = VB_CONFIG_STRLIST, .offset = OFF(tags), .flag = "--tags",
     .arg = "A,B", .def_str = "[\"x\"]", .help = "some words"},
    {.key = "list.rooms", .type = VB_CONFIG_ARRAY, .offset = OFF(rooms), .opts = VB_CONFIG_OBJECTS,
     .help = "objects, file only"},
    {.key = "list.extra", .type = VB_CONFIG_OBJECT, .offset = OFF(extra), .flag = "--extra",
     .arg = "JSON", .help = "an object"},
    {.key = "list.note", .type = VB_CONFIG_STRING, .offset = OFF(note), .help = "file only"},
};
/* clang-format on */

static int demo_validate(const void *obj, char *err, size_t errlen)
{
    const struct demo *d = obj;
    if (strcmp(d->name, "forbidden") == 0 && d->net.port == 1) {
        snprintf(err, errlen, "general.name: forbidden on port 1");
        return -EINVAL;
    }
    return 0;
}

static const struct vb_config_schema demo_schema = {
    .program = "demo",
    .summary = "A demonstration.",
    .settings = demo_settings,
    .n_settings = sizeof(demo_settings) / sizeof(demo_settings[0]),
    .validate = demo_validate,
};

/* A scratch folder per test, removed by cleanup(). */
struct scratch {
    char dir[64];
    char path[128]; /* dir/c.json */
};

static void scratch_make(struct scratch *s)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/vb-config-XXXXXX");
    ASSERT(mkdtemp(s->dir) != NULL);
    snprintf(s->path, sizeof(s->path), "%s/c.json", s->dir);
}

static void scratch_write(struct scratch *s, const char *text)
{
    FILE *fp = fopen(s->path, "w");
    ASSERT(fp != NULL);
    fputs(text, fp);
    ASSERT_EQ(fclose(fp), 0);
}

static void scratch_remove(struct scratch *s)
{
    unlink(s->path);
    ASSERT_EQ(rmdir(s->dir), 0);
}

/* Loads `text` as a file over the defaults: the return code; `err` filled on failure. */
static int load_text(struct demo *d, const char *text, char *err, size_t errlen)
{
    struct scratch s;
    scratch_make(&s);
    scratch_write(&s, text);
    memset(d, 0, sizeof(*d));
    vb_config_defaults(&demo_schema, d);
    int rc = vb_config_load_file(&demo_schema, d, s.path, err, errlen);
    if (rc != 0) {
        /* Every message about the file names it first. */
        char want[160];
        snprintf(want, sizeof(want), "config %s: ", s.path);
        ASSERT(strncmp(err, want, strlen(want)) == 0);
        memmove(err, err + strlen(want), strlen(err + strlen(want)) + 1);
    }
    scratch_remove(&s);
    return rc;
}

/* Expects `text` to be refused with exactly `want` after the "config PATH: " prefix. */
static void expect_file_error(const char *text, const char *want)
{
    struct demo d;
    char err[512] = "";
    ASSERT_EQ(load_text(&d, text, err, sizeof(err)), -EINVAL);
    ASSERT_STREQ(err, want);
    vb_config_free(&demo_schema, &d);
}

static void expect_file_ok(const char *text, struct demo *d)
{
    char err[512] = "";
    int rc = load_text(d, text, err, sizeof(err));
    if (rc != 0)
        TEST_FAIL_("unexpected error: %s", err);
}

/* Runs the whole command line; `out` captures what it prints. */
static int run_argv(struct demo *d, const char *const *args, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "demo";
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    FILE *fp = tmpfile();
    ASSERT(fp != NULL);
    memset(d, 0, sizeof(*d));
    err[0] = '\0';
    int rc = vb_config_load(&demo_schema, argc, argv, d, fp, err, errlen);
    rewind(fp);
    size_t n = fread(out, 1, outlen - 1, fp);
    out[n] = '\0';
    fclose(fp);
    return rc;
}

static void test_defaults_fill_every_type(void)
{
    struct demo d = {0};
    vb_config_defaults(&demo_schema, &d);
    ASSERT_STREQ(d.name, "demo");
    ASSERT_STREQ(d.level, "low");
    ASSERT_STREQ(d.net.address, "127.0.0.1");
    ASSERT_EQ(d.net.port, 8080);
    ASSERT_STREQ(d.net.base, "/api");
    ASSERT(d.net.enabled);
    ASSERT_EQ(d.depth, 0);
    ASSERT_STREQ(d.secret, "");
    ASSERT(!d.verbose);
    ASSERT(d.tags && d.tags[0] && !d.tags[1]);
    ASSERT_STREQ(d.tags[0], "x");
    ASSERT(json_is_array(d.rooms) && json_array_size(d.rooms) == 0);
    ASSERT(json_is_object(d.extra) && json_object_size(d.extra) == 0);
    ASSERT_STREQ(d.note, "");
    vb_config_free(&demo_schema, &d);
    ASSERT(d.name == NULL && d.tags == NULL && d.rooms == NULL);
    vb_config_free(&demo_schema, &d); /* twice: harmless */
}

static void test_file_applies_nested_paths(void)
{
    struct demo d;
    expect_file_ok("{\"general\": {\"name\": \"n1\", \"level\": \"high\"},\n"
                   " \"net\": {\"port\": 9000, \"enabled\": false, \"address\": \"::1\"},\n"
                   " \"a\": {\"b\": {\"depth\": -5}, \"big\": 9007199254740993},\n"
                   " \"list\": {\"tags\": [\"p\", \"q\"], \"rooms\": [{\"room\": 1}, {}],\n"
                   "          \"extra\": {\"k\": [1, 2]}, \"note\": \"hi\"}}",
                   &d);
    ASSERT_STREQ(d.name, "n1");
    ASSERT_STREQ(d.level, "high");
    ASSERT_EQ(d.net.port, 9000);
    ASSERT(!d.net.enabled);
    ASSERT_STREQ(d.net.address, "::1");
    ASSERT_STREQ(d.net.base, "/api"); /* not in the file: the default stays */
    ASSERT_EQ(d.depth, -5);
    ASSERT_EQ(d.big, 9007199254740993LL);
    ASSERT_STREQ(d.tags[0], "p");
    ASSERT_STREQ(d.tags[1], "q");
    ASSERT(d.tags[2] == NULL);
    ASSERT_EQ(json_array_size(d.rooms), 2);
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(d.rooms, 0), "room")), 1);
    ASSERT_EQ(json_array_size(json_object_get(d.extra, "k")), 2);
    ASSERT_STREQ(d.note, "hi");
    vb_config_free(&demo_schema, &d);
    /* An empty object changes nothing. */
    expect_file_ok("{}", &d);
    ASSERT_EQ(d.net.port, 8080);
    vb_config_free(&demo_schema, &d);
}

static void test_file_type_errors_name_the_key(void)
{
    expect_file_error("{\"net\": {\"port\": \"abc\"}}",
                      "net.port: expected an integer 1-65535, got \"abc\"");
    expect_file_error("{\"net\": {\"port\": 80.5}}",
                      "net.port: expected an integer 1-65535, got 80.5");
    expect_file_error("{\"net\": {\"port\": null}}",
                      "net.port: expected an integer 1-65535, got null");
    expect_file_error("{\"net\": {\"enabled\": \"yes\"}}",
                      "net.enabled: expected true or false, got \"yes\"");
    expect_file_error("{\"net\": {\"enabled\": 1}}", "net.enabled: expected true or false, got 1");
    expect_file_error("{\"general\": {\"name\": 5}}",
                      "general.name: expected a non-empty string, got 5");
    expect_file_error("{\"list\": {\"note\": [\"a\"]}}",
                      "list.note: expected a string, got an array");
    expect_file_error("{\"list\": {\"tags\": \"a,b\"}}",
                      "list.tags: expected an array of non-empty strings, got \"a,b\"");
    expect_file_error("{\"list\": {\"tags\": [\"a\", 3]}}",
                      "list.tags: expected an array of non-empty strings, got an array");
    expect_file_error("{\"list\": {\"tags\": [\"a\", \"\"]}}",
                      "list.tags: expected an array of non-empty strings, got an array");
    expect_file_error("{\"list\": {\"rooms\": {}}}",
                      "list.rooms: expected an array of objects, got an object");
    expect_file_error("{\"list\": {\"rooms\": [{}, 5]}}",
                      "list.rooms[1]: expected an object, got 5");
    expect_file_error("{\"list\": {\"extra\": []}}",
                      "list.extra: expected an object, got an array");
    /* A long value is cut in the message. */
    char text[400], want[400];
    snprintf(text, sizeof(text), "{\"net\": {\"port\": \"%0200d\"}}", 7);
    snprintf(want, sizeof(want), "net.port: expected an integer 1-65535, got \"%056d...", 0);
    expect_file_error(text, want);
}

static void test_file_ranges_are_inclusive(void)
{
    struct demo d;
    expect_file_ok("{\"net\": {\"port\": 1}, \"a\": {\"b\": {\"depth\": 5}}}", &d);
    ASSERT_EQ(d.net.port, 1);
    ASSERT_EQ(d.depth, 5);
    vb_config_free(&demo_schema, &d);
    expect_file_ok("{\"net\": {\"port\": 65535}, \"a\": {\"big\": 9223372036854775807}}", &d);
    ASSERT_EQ(d.net.port, 65535);
    ASSERT_EQ(d.big, INT64_MAX);
    vb_config_free(&demo_schema, &d);
    expect_file_error("{\"net\": {\"port\": 0}}", "net.port: expected an integer 1-65535, got 0");
    expect_file_error("{\"net\": {\"port\": 65536}}",
                      "net.port: expected an integer 1-65535, got 65536");
    expect_file_error("{\"a\": {\"b\": {\"depth\": -6}}}",
                      "a.b.depth: expected an integer -5-5, got -6");
    expect_file_error("{\"a\": {\"big\": -1}}", "a.big: expected an integer >= 0, got -1");
}

static void test_file_string_checks(void)
{
    struct demo d;
    expect_file_ok("{\"net\": {\"address\": \"0.0.0.0\", \"base\": \"/x/y-z\"}}", &d);
    ASSERT_STREQ(d.net.address, "0.0.0.0");
    ASSERT_STREQ(d.net.base, "/x/y-z");
    vb_config_free(&demo_schema, &d);
    expect_file_error("{\"general\": {\"level\": \"medium\"}}",
                      "general.level: expected one of low, high, got \"medium\"");
    expect_file_error("{\"general\": {\"name\": \"\"}}",
                      "general.name: expected a non-empty string, got \"\"");
    /* A NUL inside a string could not reach a C string whole: Jansson refuses it. */
    char err[512];
    ASSERT_EQ(load_text(&d, "{\"general\": {\"name\": \"a\\u0000b\"}}", err, sizeof(err)), -EINVAL);
    ASSERT(strncmp(err, "invalid JSON at line 1, column ", 31) == 0);
    vb_config_free(&demo_schema, &d);
    expect_file_error("{\"net\": {\"address\": \"localhost\"}}",
                      "net.address: expected a numeric IPv4 or IPv6 address, got \"localhost\"");
    expect_file_error("{\"net\": {\"address\": \"1.2.3.256\"}}",
                      "net.address: expected a numeric IPv4 or IPv6 address, got \"1.2.3.256\"");
    expect_file_error("{\"net\": {\"base\": \"api\"}}",
                      "net.base: expected a path starting with / (no blanks, '?' or '#'), got "
                      "\"api\"");
    expect_file_error("{\"net\": {\"base\": \"/a b\"}}",
                      "net.base: expected a path starting with / (no blanks, '?' or '#'), got "
                      "\"/a b\"");
    expect_file_error("{\"net\": {\"base\": \"/a?b\"}}",
                      "net.base: expected a path starting with / (no blanks, '?' or '#'), got "
                      "\"/a?b\"");
}

static void test_file_unknown_keys_are_refused(void)
{
    expect_file_error("{\"net\": {\"prot\": 1}}", "unknown key net.prot (did you mean net.port?)");
    expect_file_error("{\"nte\": {}}", "unknown key nte (did you mean net?)");
    expect_file_error("{\"a\": {\"b\": {\"dept\": 1}}}",
                      "unknown key a.b.dept (did you mean a.b.depth?)");
    expect_file_error("{\"completely_else\": 1}", "unknown key completely_else");
    expect_file_error("{\"net\": {\"port\": 90, \"x\": 1}}", "unknown key net.x");
    /* A dotted member name is not a shortcut for the nested one. */
    expect_file_error("{\"net.port\": 90}",
                      "unknown key net.port (a dotted name is not a path: nest it in objects)");
    expect_file_error("{\"\": 1}", "unknown key ");
    /* A section must be an object. */
    expect_file_error("{\"net\": 5}", "net: expected an object (a section), got 5");
    expect_file_error("{\"a\": {\"b\": []}}", "a.b: expected an object (a section), got an array");
    /* Control characters in a name are not printed as they are. */
    expect_file_error("{\"a\\nb\": 1}", "unknown key a?b (did you mean a.b?)");
}

static void test_file_bad_json_gives_line_and_column(void)
{
    struct demo d;
    char err[512];
    ASSERT_EQ(load_text(&d, "{\n  \"net\": {\n    \"port\": 80,,\n  }\n}", err, sizeof(err)),
              -EINVAL);
    ASSERT(strncmp(err, "invalid JSON at line 3, column ", 31) == 0);
    vb_config_free(&demo_schema, &d);
    ASSERT_EQ(load_text(&d, "", err, sizeof(err)), -EINVAL);
    ASSERT(strncmp(err, "invalid JSON at line ", 21) == 0);
    vb_config_free(&demo_schema, &d);
    /* Duplicate keys would make one of two values win silently: refused. */
    ASSERT_EQ(load_text(&d, "{\"net\": {\"port\": 1,\n \"port\": 2}}", err, sizeof(err)), -EINVAL);
    ASSERT(strncmp(err, "invalid JSON at line 2, column ", 31) == 0);
    ASSERT(strstr(err, "duplicate") != NULL);
    vb_config_free(&demo_schema, &d);
    expect_file_error("[1, 2]", "expected a JSON object at the top level, got an array");
    expect_file_error("\"x\"",
                      "invalid JSON at line 1, column 3: '[' or '{' expected near '\"x\"'");
}

static void test_file_missing_or_not_a_file(void)
{
    struct demo d = {0};
    char err[512];
    vb_config_defaults(&demo_schema, &d);
    ASSERT_EQ(vb_config_load_file(&demo_schema, &d, "/nonexistent/vb.json", err, sizeof(err)),
              -ENOENT);
    ASSERT_STREQ(err, "config /nonexistent/vb.json: cannot open: No such file or directory");
    ASSERT_EQ(vb_config_load_file(&demo_schema, &d, "/tmp", err, sizeof(err)), -EINVAL);
    ASSERT_STREQ(err, "config /tmp: not a regular file");
    ASSERT_EQ(d.net.port, 8080); /* untouched */
    vb_config_free(&demo_schema, &d);
}

static void test_flags_override_the_file(void)
{
    struct scratch s;
    scratch_make(&s);
    scratch_write(&s, "{\"net\": {\"port\": 9000, \"base\": \"/file\"}, \"general\": "
                      "{\"name\": \"fromfile\"}}");
    struct demo d;
    char out[4096], err[512];
    /* Flags before --config still win: the file is applied first. */
    const char *args[] = {"--port",  "9100", "--config",    s.path, "--name=flag",
                          "--depth", "-3",   "--port=9200", NULL};
    ASSERT_EQ(run_argv(&d, args, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_EQ(d.net.port, 9200); /* the last of two flags */
    ASSERT_STREQ(d.name, "flag");
    ASSERT_STREQ(d.net.base, "/file");
    ASSERT_EQ(d.depth, -3);
    ASSERT_STREQ(out, "");
    vb_config_free(&demo_schema, &d);
    /* A bad file value is reported even when a flag would override it. */
    scratch_write(&s, "{\"net\": {\"port\": \"x\"}}");
    const char *args2[] = {"--config", s.path, "--port", "9000", NULL};
    ASSERT_EQ(run_argv(&d, args2, out, sizeof(out), err, sizeof(err)), -EINVAL);
    char want[256];
    snprintf(want, sizeof(want), "config %s: net.port: expected an integer 1-65535, got \"x\"",
             s.path);
    ASSERT_STREQ(err, want);
    ASSERT(d.name == NULL); /* freed on error */
    scratch_remove(&s);
}

static void test_flags_without_file(void)
{
    struct demo d;
    char out[4096], err[512];
    const char *args[] = {"--tags",   "a,b,c", "--extra", "{\"z\": true}", "--bind", "::",
                          "--secret", "s3",    "--big",   "123456789012",  NULL};
    ASSERT_EQ(run_argv(&d, args, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_STREQ(d.tags[0], "a");
    ASSERT_STREQ(d.tags[2], "c");
    ASSERT(d.tags[3] == NULL);
    ASSERT(json_is_true(json_object_get(d.extra, "z")));
    ASSERT_STREQ(d.net.address, "::");
    ASSERT_STREQ(d.secret, "s3");
    ASSERT_EQ(d.big, 123456789012LL);
    vb_config_free(&demo_schema, &d);
    /* A value that starts with "--" is given after '='; a single '-' needs no '='. */
    const char *dashes[] = {"--name=--odd", "--depth", "-2", NULL};
    ASSERT_EQ(run_argv(&d, dashes, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_STREQ(d.name, "--odd");
    ASSERT_EQ(d.depth, -2);
    vb_config_free(&demo_schema, &d);
    const char *empty[] = {"--tags", "", NULL};
    ASSERT_EQ(run_argv(&d, empty, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT(d.tags && d.tags[0] == NULL);
    vb_config_free(&demo_schema, &d);
}

static void test_bool_flags(void)
{
    struct demo d;
    char out[4096], err[512];
    const char *args[] = {"--no-net", "--verbose", NULL};
    ASSERT_EQ(run_argv(&d, args, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT(!d.net.enabled);
    ASSERT(d.verbose);
    vb_config_free(&demo_schema, &d);
    /* The flag wins over the file whichever way the file says. */
    struct scratch s;
    scratch_make(&s);
    scratch_write(&s, "{\"net\": {\"enabled\": true}, \"auth\": {\"verbose\": false}}");
    const char *args2[] = {"--config", s.path, "--verbose", "--no-net", NULL};
    ASSERT_EQ(run_argv(&d, args2, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT(!d.net.enabled);
    ASSERT(d.verbose);
    vb_config_free(&demo_schema, &d);
    scratch_remove(&s);
    const char *args3[] = {"--verbose=true", NULL};
    ASSERT_EQ(run_argv(&d, args3, out, sizeof(out), err, sizeof(err)), -EINVAL);
    ASSERT_STREQ(err, "--verbose takes no value");
    /* A bool flag does not swallow the next argument. */
    const char *args4[] = {"--verbose", "--port", "7", NULL};
    ASSERT_EQ(run_argv(&d, args4, out, sizeof(out), err, sizeof(err)), 0);
    ASSERT_EQ(d.net.port, 7);
    vb_config_free(&demo_schema, &d);
}

/* Expects the command line to be refused with exactly `want`. */
static void expect_argv_error(const char *const *args, const char *want)
{
    struct demo d;
    char out[4096], err[512];
    ASSERT_EQ(run_argv(&d, args, out, sizeof(out), err, sizeof(err)), -EINVAL);
    ASSERT_STREQ(err, want);
    ASSERT_STREQ(out, "");
    ASSERT(d.name == NULL && d.tags == NULL);
}

static void test_flag_errors(void)
{
    const char *a1[] = {"--port", "abc", NULL};
    expect_argv_error(a1, "--port (net.port): expected an integer 1-65535, got \"abc\"");
    const char *a2[] = {"--port", "70000", NULL};
    expect_argv_error(a2, "--port (net.port): expected an integer 1-65535, got 70000");
    const char *a3[] = {"--port", "12abc", NULL};
    expect_argv_error(a3, "--port (net.port): expected an integer 1-65535, got \"12abc\"");
    const char *a4[] = {"--port", " 5", NULL};
    expect_argv_error(a4, "--port (net.port): expected an integer 1-65535, got \" 5\"");
    const char *a5[] = {"--port", "+5", NULL};
    expect_argv_error(a5, "--port (net.port): expected an integer 1-65535, got \"+5\"");
    const char *a6[] = {"--big", "99999999999999999999", NULL};
    expect_argv_error(a6, "--big (a.big): expected an integer >= 0, got \"99999999999999999999\"");
    const char *a7[] = {"--port", NULL};
    expect_argv_error(a7, "--port needs a value (PORT)");
    const char *a7b[] = {"--name", "--verbose", NULL};
    expect_argv_error(a7b, "--name needs a value (NAME)");
    const char *a8[] = {"--prot", "5", NULL};
    expect_argv_error(a8, "unknown option --prot (did you mean --port?) (see demo --help)");
    const char *a9[] = {"--zzzzzzzz", NULL};
    expect_argv_error(a9, "unknown option --zzzzzzzz (see demo --help)");
    const char *a10[] = {"stray", NULL};
    expect_argv_error(a10, "unexpected argument 'stray' (see demo --help)");
    const char *a11[] = {"--config", "/nonexistent/a.json", NULL};
    expect_argv_error(a11, "config /nonexistent/a.json: cannot open: No such file or directory");
    const char *a12[] = {"--config", "a", "--config", "b", NULL};
    expect_argv_error(a12, "--config given twice");
    const char *a13[] = {"--level", "loud", NULL};
    expect_argv_error(a13, "--level (general.level): expected one of low, high, got \"loud\"");
    const char *a14[] = {"--tags", "a,,b", NULL};
    expect_argv_error(a14, "--tags (list.tags): expected an array of non-empty strings, got an "
                           "array");
    const char *a15[] = {"--tags", "a,", NULL};
    expect_argv_error(a15, "--tags (list.tags): expected an array of non-empty strings, got an "
                           "array");
    const char *a16[] = {"--extra", "[1]", NULL};
    expect_argv_error(a16, "--extra (list.extra): expected an object, got an array");
    const char *a17[] = {"--extra", "{bad", NULL};
    expect_argv_error(a17, "--extra (list.extra): expected an object, got \"{bad\"");
    const char *a18[] = {"--name", "\xff\xfe", NULL};
    expect_argv_error(a18, "--name (general.name): not valid UTF-8 text");
    const char *a19[] = {"--name", "", NULL};
    expect_argv_error(a19, "--name (general.name): expected a non-empty string, got \"\"");
    const char *a19b[] = {"--secret", "123456789", NULL};
    expect_argv_error(
        a19b,
        "--secret (auth.secret): expected a string of at most 8 bytes, got a string of 9 bytes");
    const char *a20[] = {"--name", "forbidden", "--port", "1", NULL};
    expect_argv_error(a20, "general.name: forbidden on port 1"); /* the schema's own check */
    const char *a21[] = {"--check-config", "--port", "x", NULL};
    expect_argv_error(a21, "--port (net.port): expected an integer 1-65535, got \"x\"");
}

static void test_apply_flag_directly(void)
{
    struct demo d = {0};
    char err[256];
    vb_config_defaults(&demo_schema, &d);
    ASSERT_EQ(vb_config_apply_flag(&demo_schema, &d, "--nope", "1", err, sizeof(err)), -ENOENT);
    ASSERT_STREQ(err, "unknown option --nope");
    ASSERT_EQ(vb_config_apply_flag(&demo_schema, &d, "--port", NULL, err, sizeof(err)), -EINVAL);
    ASSERT_STREQ(err, "--port (net.port): needs a value");
    ASSERT_EQ(vb_config_apply_flag(&demo_schema, &d, "--depth", "-5", err, sizeof(err)), 0);
    ASSERT_EQ(d.depth, -5);
    vb_config_free(&demo_schema, &d);
}

static void test_help_lists_every_flag(void)
{
    struct demo d;
    char out[8192], err[512];
    /* --help wins even after a mistake, and prints to the given stream. */
    const char *args[] = {"--port", "x", "--help", NULL};
    ASSERT_EQ(run_argv(&d, args, out, sizeof(out), err, sizeof(err)), VB_CONFIG_EXIT);
    ASSERT(d.name == NULL);
    ASSERT(strncmp(out, "usage: demo [--config FILE] [--check-config] [OPTION...]\n", 56) == 0);
    for (size_t i = 0; i < demo_schema.n_settings; i++) {
        const struct vb_config_setting *st = &demo_settings[i];
        ASSERT(strstr(out, st->key) != NULL);
        ASSERT(strstr(out, st->help) != NULL);
        if (st->flag) {
            char want[128];
            snprintf(want, sizeof(want), "\n  %s", st->flag);
            if (!strstr(out, want))
                TEST_FAIL_("help lacks %s:\n%s", st->flag, out);
        }
    }
    ASSERT(strstr(out, "--port PORT") != NULL);
    ASSERT(strstr(out, "[net.port, default 8080]") != NULL);
    ASSERT(strstr(out, "[general.name, default \"demo\"]") != NULL);
    ASSERT(strstr(out, "[net.enabled, default true]") != NULL);
    ASSERT(strstr(out, "settings only in the config file:\n  list.rooms") != NULL);
    ASSERT(strstr(out, "--config FILE") && strstr(out, "--check-config") && strstr(out, "--help"));
    /* No line is wider than 100 columns. */
    for (const char *p = out; *p;) {
        size_t n = strcspn(p, "\n");
        ASSERT_LE(n, 100);
        p += n + (p[n] ? 1 : 0);
    }
    const char *h[] = {"-h", NULL};
    ASSERT_EQ(run_argv(&d, h, out, sizeof(out), err, sizeof(err)), VB_CONFIG_EXIT);
    ASSERT(strstr(out, "usage: demo") == out);
}

static void test_check_config_dumps_effective_settings(void)
{
    struct demo d;
    char out[8192], err[512];
    const char *args[] = {"--check-config", "--secret", "hush", "--port", "81", NULL};
    ASSERT_EQ(run_argv(&d, args, out, sizeof(out), err, sizeof(err)), VB_CONFIG_EXIT);
    ASSERT(d.name == NULL); /* freed */
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    ASSERT(j != NULL);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "net"), "port")), 81);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "auth"), "secret")),
                 VB_CONFIG_HIDDEN);
    ASSERT(strstr(out, "hush") == NULL);
    json_t *depth = json_object_get(json_object_get(json_object_get(j, "a"), "b"), "depth");
    ASSERT(json_is_integer(depth) && json_integer_value(depth) == 0);
    ASSERT(json_is_true(json_object_get(json_object_get(j, "net"), "enabled")));
    ASSERT_STREQ(
        json_string_value(json_array_get(json_object_get(json_object_get(j, "list"), "tags"), 0)),
        "x");
    ASSERT(json_is_array(json_object_get(json_object_get(j, "list"), "rooms")));
    json_decref(j);
}

static void test_dump_round_trips_through_a_file(void)
{
    struct demo d;
    expect_file_ok("{\"net\": {\"port\": 443, \"base\": \"/b\"}, \"auth\": {\"secret\": \"k\"},"
                   " \"list\": {\"rooms\": [{\"id\": 7}]}}",
                   &d);
    json_t *dump = vb_config_dump(&demo_schema, &d, true);
    char *text = json_dumps(dump, 0);
    json_t *hidden = vb_config_dump(&demo_schema, &d, false);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(hidden, "auth"), "secret")),
                 VB_CONFIG_HIDDEN);
    json_decref(hidden);
    vb_config_free(&demo_schema, &d);
    /* The full dump is itself a valid settings file giving the same settings. */
    expect_file_ok(text, &d);
    ASSERT_EQ(d.net.port, 443);
    ASSERT_STREQ(d.secret, "k");
    ASSERT_EQ(json_integer_value(json_object_get(json_array_get(d.rooms, 0), "id")), 7);
    json_t *again = vb_config_dump(&demo_schema, &d, true);
    ASSERT(json_equal(dump, again));
    json_decref(again);
    json_decref(dump);
    free(text);
    vb_config_free(&demo_schema, &d);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"defaults_fill_every_type", test_defaults_fill_every_type},
        {"file_applies_nested_paths", test_file_applies_nested_paths},
        {"file_type_errors_name_the_key", test_file_type_errors_name_the_key},
        {"file_ranges_are_inclusive", test_file_ranges_are_inclusive},
        {"file_string_checks", test_file_string_checks},
        {"file_unknown_keys_are_refused", test_file_unknown_keys_are_refused},
        {"file_bad_json_gives_line_and_column", test_file_bad_json_gives_line_and_column},
        {"file_missing_or_not_a_file", test_file_missing_or_not_a_file},
        {"flags_override_the_file", test_flags_override_the_file},
        {"flags_without_file", test_flags_without_file},
        {"bool_flags", test_bool_flags},
        {"flag_errors", test_flag_errors},
        {"apply_flag_directly", test_apply_flag_directly},
        {"help_lists_every_flag", test_help_lists_every_flag},
        {"check_config_dumps_effective_settings", test_check_config_dumps_effective_settings},
        {"dump_round_trips_through_a_file", test_dump_round_trips_through_a_file},
        {NULL, NULL},
    };
    return test_main(cases, argc, argv);
}
